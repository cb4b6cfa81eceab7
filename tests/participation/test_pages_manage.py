"""The consultation managers' pages at /admin/beteiligung: drafting, the timeline, publishing and closing, who may
see which consultation, forms that keep what was typed, and texts that come back escaped or sanitised."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from participation.models import Consultation
from portal.extensions import db
from portal.timeutil import utcnow
from tests.builders import csrf_from
from tests.participation.builders import World, events, fresh, make_consultation
from tests.portal.admin.conftest import sign_in

ROOT = "/admin/beteiligung"
RING = [[13.7373, 51.0504], [13.7376, 51.0504], [13.7376, 51.0505], [13.7373, 51.0505], [13.7373, 51.0504]]
POLYGON = json.dumps({"type": "Polygon", "coordinates": [RING]})


@pytest.fixture
def staff(world: World) -> World:
    """The world's managers and admin with their second factor set up (the pages send others to the setup)."""
    for user in (world.manager, world.other_manager, world.admin):
        user.totp_enabled_at = utcnow()
    db.session.commit()
    return world


def _post(client, url: str, data: dict, page_url: str | None = None):
    page = client.get(page_url or url)
    assert page.status_code == 200, page.status_code
    return client.post(url, data={"csrf_token": csrf_from(page.text), **data})


def _consultation(title: str) -> Consultation:
    consultation = db.session.scalar(sa.select(Consultation).where(Consultation.title == title))
    assert consultation is not None
    return consultation


def _checked(html: str, value: str) -> bool:
    return re.search(rf'<input checked[^>]*value="{value}"', html) is not None


def _draft_form(staff: World, **changes: str) -> dict:
    data = {
        "department_id": str(staff.planning.id),
        "title": "Radweg an der Elbe",
        "summary": "Wo soll der neue Radweg entlang führen?",
        "body": "<p>Wir planen einen <strong>neuen</strong> Radweg.</p>",
        "audience": "signed_in",
        "district": "Altstadt",
        "topic": "Verkehr",
        "categories": "Sicherheit\nBeleuchtung\n\nSicherheit",
        "contact_name": "Frau Weber",
        "contact_email": "radweg@stadt.example",
        "support_threshold": "50",
    }
    data.update(changes)
    return data


def test_a_manager_drafts_times_publishes_closes_and_archives_a_consultation(staff, client):
    sign_in(client, staff.manager)
    overview = client.get(f"{ROOT}/")
    assert overview.status_code == 200 and "Neues Verfahren" in overview.text

    created = _post(client, f"{ROOT}/neu", _draft_form(staff))
    assert created.status_code == 303
    consultation = _consultation("Radweg an der Elbe")
    assert created.headers["Location"].endswith(f"{ROOT}/{consultation.id}")
    assert (consultation.state, consultation.department_id) == ("draft", staff.planning.id)
    assert consultation.categories == ["Sicherheit", "Beleuchtung"]
    assert consultation.support_threshold == 50 and consultation.contact_email == "radweg@stadt.example"
    detail_url = f"{ROOT}/{consultation.id}"
    assert "ist angelegt" in client.get(detail_url).text

    edited = _post(
        client, f"{detail_url}/bearbeiten", _draft_form(staff, title="Radweg an der Elbe (2. Abschnitt)", body="")
    )
    assert edited.status_code == 303
    assert fresh(consultation).title == "Radweg an der Elbe (2. Abschnitt)"
    assert fresh(consultation).slug == "radweg-an-der-elbe"  # the address stays

    # Step 1 asks for the kind; step 2 ticks the kind's actions (rules.PHASE_ACTIONS) and times in Berlin.
    chooser = client.get(f"{detail_url}/phasen/neu")
    assert chooser.status_code == 200 and 'name="kind"' in chooser.text and "Vorschläge sammeln" in chooser.text
    form = client.get(f"{detail_url}/phasen/neu?kind=proposals")
    assert all(_checked(form.text, action) for action in ("propose", "comment", "support"))
    assert not _checked(form.text, "vote")
    added = _post(
        client,
        f"{detail_url}/phasen/neu",
        {"kind": "proposals", "title": "Ideen sammeln", "description": "Ihre Ideen",
         "starts_at": "2026-03-01T09:00", "ends_at": "2027-03-31T18:00", "actions": ["propose", "support"]},
        page_url=f"{detail_url}/phasen/neu?kind=proposals",
    )  # fmt: skip
    assert added.status_code == 303
    phase = fresh(consultation).phases[0]
    assert phase.starts_at == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)  # 09:00 in Berlin (CET)
    assert phase.ends_at == datetime(2027, 3, 31, 16, 0, tzinfo=UTC)  # 18:00 in Berlin (CEST)
    assert phase.actions == ["propose", "support"]
    page = client.get(detail_url).text
    assert "Ideen sammeln" in page and "01.03.2026, 09:00" in page and "läuft jetzt" in page

    phase_url = f"{detail_url}/phasen/{phase.id}"
    edit_page = client.get(phase_url).text
    assert (
        'value="2026-03-01T09:00"' in edit_page
        and _checked(edit_page, "support")
        and not _checked(edit_page, "comment")
    )
    moved = _post(
        client,
        phase_url,
        {"kind": "proposals", "title": "Ideen sammeln", "starts_at": "2026-03-01T09:00",
         "ends_at": "2027-04-30T18:00", "actions": ["propose", "comment", "support"]},
    )  # fmt: skip
    assert moved.status_code == 303 and fresh(phase).ends_at == datetime(2027, 4, 30, 16, 0, tzinfo=UTC)

    confirm = client.get(f"{detail_url}/veroeffentlichen")
    assert confirm.status_code == 200 and "Ja, veröffentlichen" in confirm.text
    assert fresh(consultation).state == "draft"  # the page only asks
    published = _post(client, f"{detail_url}/veroeffentlichen", {})
    assert published.status_code == 303 and fresh(consultation).state == "published"
    assert "Abschließen" in client.get(detail_url).text
    assert client.get(f"{phase_url}/entfernen").status_code == 303  # a published timeline keeps its phases

    closed = _post(client, f"{detail_url}/abschliessen", {})
    assert closed.status_code == 303 and fresh(consultation).state == "closed"
    assert "Angaben bearbeiten" not in client.get(detail_url).text
    assert client.get(f"{detail_url}/bearbeiten").status_code == 303
    archived = _post(client, f"{detail_url}/archivieren", {})
    assert archived.status_code == 303 and fresh(consultation).state == "archived"

    for action in (
        "participation.consultation_created",
        "participation.consultation_updated",
        "participation.consultation_published",
        "participation.consultation_closed",
        "participation.consultation_archived",
    ):
        recorded = events(action)
        assert len(recorded) == 1, action
        assert recorded[0].actor_id == str(staff.manager.id)
    saved = events("participation.phase_saved")
    assert [json.loads(e.details)["actions"] for e in saved] == [
        ["propose", "support"],
        ["propose", "comment", "support"],
    ]


def test_the_overview_shows_state_phase_in_force_and_counts(staff, client):
    running = make_consultation(staff, title="Altmarkt")
    make_consultation(staff, title="Schulweg", publish=False, phases=[])
    make_consultation(staff, title="Park am Fluss")  # by the planning office, not the other one's
    other = make_consultation(staff, title="Grünzug", publish=False)
    other.department_id = staff.other.id
    db.session.commit()
    sign_in(client, staff.manager)
    text = client.get(f"{ROOT}/").text
    assert "Altmarkt" in text and "Schulweg" in text and "Grünzug" not in text
    assert "veröffentlicht" in text and "Entwurf" in text and "Phase proposals (Vorschläge sammeln)" in text
    assert f"{ROOT}/{running.id}" in text
    sign_in(client, staff.admin)
    assert "Grünzug" in client.get(f"{ROOT}/").text  # a platform admin sees every department's


def test_another_departments_manager_gets_403_and_an_unknown_one_404(staff, client):
    consultation = make_consultation(staff, publish=False)
    phase = consultation.phases[0]
    sign_in(client, staff.other_manager)
    base = f"{ROOT}/{consultation.id}"
    for url in (
        base,
        f"{base}/bearbeiten",
        f"{base}/phasen/neu",
        f"{base}/phasen/{phase.id}",
        f"{base}/phasen/{phase.id}/entfernen",
        f"{base}/veroeffentlichen",
    ):
        assert client.get(url).status_code == 403, url
    page = client.get(f"{ROOT}/neu")
    assert page.status_code == 200
    assert staff.other.name in page.text and staff.planning.name not in page.text  # only their own office
    posted = client.post(f"{base}/veroeffentlichen", data={"csrf_token": csrf_from(page.text)})
    assert posted.status_code == 403 and fresh(consultation).state == "draft"
    smuggled = client.post(
        f"{ROOT}/neu", data={"csrf_token": csrf_from(page.text), **_draft_form(staff, title="Fremd")}
    )
    assert smuggled.status_code == 422  # the planning office is not among the choices
    assert db.session.scalar(sa.select(Consultation).where(Consultation.title == "Fremd")) is None
    assert client.get(f"{ROOT}/99999").status_code == 404
    assert client.get(f"{base}/phasen/99999").status_code == 403  # whose it is comes first


def test_citizens_get_403(staff, client):
    consultation = make_consultation(staff, publish=False)
    sign_in(client, staff.anna)
    for url in (f"{ROOT}/", f"{ROOT}/neu", f"{ROOT}/{consultation.id}"):
        assert client.get(url).status_code == 403, url


def test_the_admin_overview_links_to_the_pages(staff, client):
    sign_in(client, staff.manager)
    assert f'href="{ROOT}/"' in client.get("/admin/").text


def test_form_errors_stand_next_to_their_fields_and_keep_what_was_typed(staff, client):
    sign_in(client, staff.manager)
    refused = _post(
        client, f"{ROOT}/neu", _draft_form(staff, title="", contact_email="keine adresse", summary="Mein Text")
    )
    assert refused.status_code == 422
    assert "Bitte korrigieren Sie Ihre Eingaben" in refused.text and 'id="title-error"' in refused.text
    assert "Mein Text" in refused.text and 'value="keine adresse"' in refused.text  # kept
    bad_email = _post(client, f"{ROOT}/neu", _draft_form(staff, contact_email="keine adresse"))
    assert bad_email.status_code == 422 and 'id="contact_email-error"' in bad_email.text
    assert 'value="Radweg an der Elbe"' in bad_email.text

    consultation = make_consultation(staff, publish=False)
    url = f"{ROOT}/{consultation.id}/phasen/neu"
    backwards = _post(
        client,
        url,
        {"kind": "comments", "title": "Diskussion", "starts_at": "2027-05-10T10:00", "ends_at": "2027-05-01T10:00"},
        page_url=f"{url}?kind=comments",
    )
    assert backwards.status_code == 422
    assert 'id="ends_at-error"' in backwards.text and "Das Ende muss nach dem Beginn liegen" in backwards.text
    assert 'value="2027-05-10T10:00"' in backwards.text and 'value="Diskussion"' in backwards.text
    unreadable = _post(
        client,
        url,
        {"kind": "comments", "title": "Diskussion", "starts_at": "morgen", "ends_at": "01.06.2027 12:00"},
        page_url=f"{url}?kind=comments",
    )
    assert unreadable.status_code == 422 and 'id="starts_at-error"' in unreadable.text
    assert 'value="morgen"' in unreadable.text
    existing = consultation.phases[0]
    overlapping = _post(
        client,
        url,
        {"kind": "comments", "title": "Diskussion", "starts_at": existing.starts_at.strftime("%Y-%m-%dT%H:%M"),
         "ends_at": "2099-01-01T00:00"},
        page_url=f"{url}?kind=comments",
    )  # fmt: skip
    assert overlapping.status_code == 422 and "überschneidet sich" in overlapping.text
    assert len(fresh(consultation).phases) == 1


def test_publishing_without_a_phase_says_why(staff, client):
    consultation = make_consultation(staff, publish=False, phases=[])
    sign_in(client, staff.manager)
    response = _post(client, f"{ROOT}/{consultation.id}/veroeffentlichen", {})
    assert response.status_code == 303 and fresh(consultation).state == "draft"
    assert "mindestens eine Phase" in client.get(response.headers["Location"]).text


def test_a_draft_phase_is_removed_after_confirmation(staff, client):
    consultation = make_consultation(staff, publish=False)
    phase = consultation.phases[0]
    sign_in(client, staff.manager)
    url = f"{ROOT}/{consultation.id}/phasen/{phase.id}/entfernen"
    assert "Ja, Phase entfernen" in client.get(url).text
    assert _post(client, url, {}).status_code == 303
    assert fresh(consultation).phases == []
    assert json.loads(events("participation.phase_removed")[0].details)["phase"] == phase.id


def test_script_in_title_and_summary_comes_back_escaped_and_the_body_sanitised(staff, client):
    sign_in(client, staff.manager)
    created = _post(
        client,
        f"{ROOT}/neu",
        _draft_form(
            staff,
            title="<script>alert('t')</script>Platz",
            summary="<img src=x onerror=alert('s')>",
            body='<p onclick="alert(1)">Hallo <strong>Welt</strong><script>alert(2)</script>'
            '<a href="javascript:alert(3)">Link</a></p>',
        ),
    )
    assert created.status_code == 303
    consultation = _consultation("<script>alert('t')</script>Platz")
    assert "<script" not in consultation.body and "onclick" not in consultation.body
    assert "javascript:" not in consultation.body and "<strong>Welt</strong>" in consultation.body
    for url in (f"{ROOT}/", f"{ROOT}/{consultation.id}", f"{ROOT}/{consultation.id}/bearbeiten"):
        page = client.get(url).text
        assert "<script>alert(" not in page and "<img src=x" not in page, url
    detail = client.get(f"{ROOT}/{consultation.id}").text
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;Platz" in detail
    assert "&lt;img src=x onerror=alert(&#39;s&#39;)&gt;" in detail
    assert "<strong>Welt</strong>" in detail  # the safe subset stays formatting


def test_the_area_is_pasted_as_geojson_without_javascript_and_can_be_removed(staff, client):
    sign_in(client, staff.manager)
    wrong = _post(
        client, f"{ROOT}/neu", _draft_form(staff, area_text='{"type": "Polygon"}', **{"area_geojson-nojs": "1"})
    )
    assert wrong.status_code == 422 and 'id="area_text-error"' in wrong.text
    assert "{&#34;type&#34;: &#34;Polygon&#34;}" in wrong.text or '{"type": "Polygon"}' in wrong.text
    without_area = _post(client, f"{ROOT}/neu", _draft_form(staff, **{"area_geojson-nojs": "1", "area_geojson": ""}))
    assert without_area.status_code == 303  # no area at all is fine
    created = _post(
        client, f"{ROOT}/neu", _draft_form(staff, title="Mit Gebiet", area_text=POLYGON, **{"area_geojson-nojs": "1"})
    )
    assert created.status_code == 303
    consultation = _consultation("Mit Gebiet")
    assert json.loads(consultation.area_geojson)["type"] == "Polygon"
    assert "Gebiet des Verfahrens" in client.get(f"{ROOT}/{consultation.id}").text

    # Without JavaScript the stored area travels back in the hidden input and stays unless removed.
    kept = _post(client, f"{ROOT}/{consultation.id}/bearbeiten", _draft_form(staff, title="Mit Gebiet",
                 area_geojson=consultation.area_geojson, **{"area_geojson-nojs": "1"}))  # fmt: skip
    assert kept.status_code == 303 and fresh(consultation).area_geojson is not None
    removed = _post(
        client,
        f"{ROOT}/{consultation.id}/bearbeiten",
        _draft_form(staff, title="Mit Gebiet", area_geojson=consultation.area_geojson, area_remove="y"),
    )
    assert removed.status_code == 303 and fresh(consultation).area_geojson is None


def test_a_drawn_area_is_saved_and_a_point_alone_asks_for_geojson(staff, client):
    sign_in(client, staff.manager)
    drawn = _post(client, f"{ROOT}/neu", _draft_form(staff, title="Gezeichnet", area_geojson=POLYGON))
    assert drawn.status_code == 303
    assert json.loads(_consultation("Gezeichnet").area_geojson)["coordinates"][0][0] == [13.7373, 51.0504]
    point_only = _post(
        client,
        f"{ROOT}/neu",
        _draft_form(staff, title="Nur Punkt", **{"area_geojson-coordinates": "51.05, 13.74", "area_geojson-nojs": "1"}),
    )
    assert point_only.status_code == 422 and 'id="area_geojson-error"' in point_only.text
    assert "als GeoJSON in das Feld darunter" in point_only.text


def test_a_platform_admin_drafts_for_any_department(staff, client):
    sign_in(client, staff.admin)
    page = client.get(f"{ROOT}/neu").text
    assert staff.planning.name in page and staff.other.name in page
    created = _post(client, f"{ROOT}/neu", _draft_form(staff, department_id=str(staff.other.id), title="Grünzug"))
    assert created.status_code == 303 and _consultation("Grünzug").department_id == staff.other.id
