"""Consultations: drafted, published, closed and archived by their department's managers; listed for everyone."""

from __future__ import annotations

import json

import pytest
from flask import render_template_string
from werkzeug.exceptions import Forbidden, NotFound

from participation.errors import ParticipationError
from participation.services import consultations
from participation.services import phases as phase_service
from participation.services.consultations import ConsultationDraft
from portal.actors import ANONYMOUS
from portal.timeutil import utcnow
from tests.participation.builders import DAY, actor, events, fresh, make_consultation

XSS_BODY = (
    '<p onclick="steal()">Hallo <strong>Nachbarn</strong><script>alert(1)</script></p>'
    '<a href="javascript:alert(1)">klick</a><img src=x onerror=alert(1)>'
    '<a href="https://stadt.example/plan">Plan</a><style>body{display:none}</style><ul><li>eins</li></ul>'
)


def test_a_manager_drafts_a_consultation_of_their_department_with_an_address_from_the_title(world):
    first = make_consultation(world, title="Neugestaltung des Altmarkts – Süd", publish=False)
    second = make_consultation(world, title="Neugestaltung des Altmarkts – Süd", publish=False)

    assert (first.state, first.slug) == ("draft", "neugestaltung-des-altmarkts-sued")
    assert second.slug == "neugestaltung-des-altmarkts-sued-2"
    created = events("participation.consultation_created")
    assert [json.loads(e.details)["slug"] for e in created] == [first.slug, second.slug]
    assert created[0].actor_id == str(world.manager.id)


def test_only_the_departments_managers_or_a_platform_admin_may_draft(world):
    draft = ConsultationDraft(title="Spielplatz Nord")

    for outsider in (world.other_manager, world.anna):
        with pytest.raises(Forbidden):
            consultations.create_consultation(actor(outsider), world.planning.id, draft)
    by_admin = consultations.create_consultation(actor(world.admin), world.planning.id, draft)

    assert by_admin.department_id == world.planning.id
    assert events("participation.consultation_created")[-1].actor_id == str(world.admin.id)


def test_the_body_keeps_only_the_safe_subset_of_html(world, app):
    consultation = make_consultation(world, body=XSS_BODY, publish=False)
    shown = render_template_string("{{ body|safe }}", body=consultation.body)

    for gone in ("<script", "alert", "onclick", "onerror", "javascript:", "<img", "<style", "display:none"):
        assert gone not in shown
    assert "<p>Hallo <strong>Nachbarn</strong></p>" in shown
    assert '<a href="https://stadt.example/plan" rel="noopener noreferrer nofollow">Plan</a>' in shown
    assert "<ul><li>eins</li></ul>" in shown


def test_plain_text_fields_are_escaped_where_they_are_shown(world, app):
    consultation = make_consultation(world, title="<b>Altmarkt</b>", summary="<script>alert(1)</script>")

    shown = render_template_string("<h1>{{ c.title }}</h1><p>{{ c.summary }}</p>", c=consultation)

    assert consultation.title == "<b>Altmarkt</b>"
    assert "&lt;b&gt;Altmarkt&lt;/b&gt;" in shown
    assert "<script>" not in shown and "&lt;script&gt;" in shown


def test_phases_must_not_overlap_and_must_end_after_they_start(world):
    consultation = make_consultation(world, phases=[("proposals", -DAY, DAY)], publish=False)
    manager, now = actor(world.manager), utcnow()

    with pytest.raises(ParticipationError) as overlap:
        phase_service.add_phase(
            manager, consultation.id, kind="comments", title="Kommentare", starts_at=now, ends_at=now + 3 * DAY
        )
    with pytest.raises(ParticipationError) as backwards:
        phase_service.add_phase(
            manager, consultation.id, kind="comments", title="Kommentare", starts_at=now + 3 * DAY, ends_at=now + DAY
        )
    later = phase_service.add_phase(
        manager, consultation.id, kind="comments", title="Kommentare", starts_at=now + DAY, ends_at=now + 3 * DAY
    )

    assert overlap.value.code == "phases_overlap"
    assert str(overlap.value.message) == "Die Phase überschneidet sich mit „Phase proposals“."
    assert backwards.value.code == "ends_before_start"
    assert (later.position, later.actions) == (1, ["comment", "support"])
    assert json.loads(events("participation.phase_saved")[-1].details)["kind"] == "comments"


def test_an_earlier_phase_added_later_takes_the_first_position(world):
    consultation = make_consultation(world, phases=[("proposals", DAY, 3 * DAY)], publish=False)

    phase_service.add_phase(
        actor(world.manager),
        consultation.id,
        kind="information",
        title="Info",
        starts_at=utcnow(),
        ends_at=utcnow() + DAY / 2,
    )

    assert [p.kind for p in fresh(consultation).phases] == ["information", "proposals"]


def test_publishing_needs_a_phase_and_each_step_is_audited(world):
    manager = actor(world.manager)
    consultation = make_consultation(world, phases=[], publish=False)

    with pytest.raises(ParticipationError) as no_phase:
        consultations.publish(manager, consultation.id)
    phase_service.add_phase(
        manager, consultation.id, kind="proposals", title="Ideen", starts_at=utcnow(), ends_at=utcnow() + DAY
    )
    consultations.publish(manager, consultation.id)
    consultations.close(manager, consultation.id)
    archived = consultations.archive(manager, consultation.id)

    assert no_phase.value.code == "no_phases"
    assert archived.state == "archived"
    assert archived.published_at and archived.closed_at and archived.archived_at
    for action in ("published", "closed", "archived"):
        assert len(events(f"participation.consultation_{action}")) == 1


def test_a_step_out_of_order_or_by_another_department_is_refused(world):
    consultation = make_consultation(world)

    with pytest.raises(ParticipationError) as twice:
        consultations.publish(actor(world.manager), consultation.id)
    with pytest.raises(Forbidden):
        consultations.close(actor(world.other_manager), consultation.id)

    assert twice.value.code == "wrong_state"
    assert fresh(consultation).state == "published"


def test_a_closed_consultation_can_no_longer_be_changed(world):
    consultation = make_consultation(world)
    consultations.close(actor(world.manager), consultation.id)

    with pytest.raises(ParticipationError) as refused:
        consultations.update_consultation(actor(world.manager), consultation.id, ConsultationDraft(title="Neu"))

    assert refused.value.code == "not_changeable"
    assert fresh(consultation).title == "Neugestaltung des Altmarkts"


def test_updating_changes_the_texts_but_keeps_the_address(world):
    consultation = make_consultation(world)

    updated = consultations.update_consultation(
        actor(world.manager),
        consultation.id,
        ConsultationDraft(title="Altmarkt 2030", district="Mitte", support_threshold=50, categories=["Grün", "Grün"]),
    )

    assert (updated.title, updated.slug, updated.district) == ("Altmarkt 2030", consultation.slug, "Mitte")
    assert (updated.support_threshold, updated.categories) == (50, ["Grün"])
    assert json.loads(events("participation.consultation_updated")[0].details)["state"] == "published"


def test_bad_settings_are_refused_next_to_their_field(world):
    manager = actor(world.manager)
    bad = {
        "audience": ConsultationDraft(title="X", audience="everyone"),
        "contact_email": ConsultationDraft(title="X", contact_email="kein-mail"),
        "support_threshold": ConsultationDraft(title="X", support_threshold=0),
        "area_geojson": ConsultationDraft(title="X", area_geojson='{"type": "Point", "coordinates": [13.7, 51.0]}'),
        "title": ConsultationDraft(title="   "),
    }
    for field, draft in bad.items():
        with pytest.raises(ParticipationError) as refused:
            consultations.create_consultation(manager, world.planning.id, draft)
        assert refused.value.field == field


def test_the_public_list_separates_open_upcoming_and_closed_and_filters(world):
    running = make_consultation(world, title="Altmarkt", district="Mitte", topic="Verkehr")
    other_district = make_consultation(world, title="Stadtpark", district="Nord", topic="Grün")
    upcoming = make_consultation(world, title="Radweg", phases=[("proposals", 2 * DAY, 5 * DAY)], district="Mitte")
    past = make_consultation(world, title="Schulhof", phases=[("proposals", -5 * DAY, -2 * DAY)])
    closed_early = make_consultation(world, title="Brücke")
    consultations.close(actor(world.manager), closed_early.id)
    archived = make_consultation(world, title="Alter Markt 2019")
    consultations.close(actor(world.manager), archived.id)
    consultations.archive(actor(world.manager), archived.id)
    make_consultation(world, title="Entwurf", publish=False)

    def titles(status: str, **filters: str) -> list[str]:
        return [c.title for c in consultations.list_consultations(status, **filters)]

    assert titles("open") == [running.title, other_district.title]
    assert titles("open", district="Mitte") == [running.title]
    assert titles("open", topic="Grün") == [other_district.title]
    assert titles("upcoming") == [upcoming.title]
    assert titles("closed") == [closed_early.title, past.title]
    assert consultations.filter_options() == (["Mitte", "Nord"], ["Grün", "Verkehr"])


def test_a_draft_is_found_by_its_managers_only(world):
    draft = make_consultation(world, publish=False)

    for outsider in (ANONYMOUS, actor(world.anna), actor(world.other_manager)):
        with pytest.raises(NotFound):
            consultations.get_by_slug(outsider, draft.slug)
    found = consultations.get_by_slug(actor(world.manager), draft.slug)

    assert found.id == draft.id
    assert consultations.get_by_slug(ANONYMOUS, make_consultation(world, title="Offen").slug).title == "Offen"


def test_managers_see_their_departments_consultations_in_every_state(world):
    mine = make_consultation(world, publish=False)
    theirs = consultations.create_consultation(
        actor(world.other_manager), world.other.id, ConsultationDraft(title="Baumpatenschaften")
    )

    assert [c.id for c in consultations.managed_consultations(actor(world.manager))] == [mine.id]
    assert {c.id for c in consultations.managed_consultations(actor(world.admin))} == {mine.id, theirs.id}
    with pytest.raises(Forbidden):
        consultations.managed_consultations(actor(world.anna))


def test_removing_a_phase_is_only_possible_in_a_draft(world):
    draft = make_consultation(world, publish=False)
    published = make_consultation(world, title="Veröffentlicht")

    phase_service.remove_phase(actor(world.manager), draft.phases[0].id)
    with pytest.raises(ParticipationError) as refused:
        phase_service.remove_phase(actor(world.manager), published.phases[0].id)

    assert refused.value.code == "not_draft"
    assert [len(c.phases) for c in (fresh(draft), fresh(published))] == [0, 1]


def test_a_consultation_never_gets_the_address_of_a_fixed_page_under_beteiligung(app, world, client):
    # The literal first segments the participation blueprints register under /beteiligung/, from the router.
    fixed = {
        segment
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/beteiligung/") and (segment := rule.rule.split("/")[2]) and "<" not in segment
    }
    assert {"kommentare", "melden", "moderation"} <= fixed
    assert fixed <= consultations.RESERVED_SLUGS

    for word in sorted(consultations.RESERVED_SLUGS):
        made = make_consultation(world, title=word.capitalize())

        assert made.slug == f"{word}-2"
        assert (
            f'<h1 class="kern-heading-large">{word.capitalize()}</h1>' in client.get(f"/beteiligung/{made.slug}").text
        )
