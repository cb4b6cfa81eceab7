"""The staff pages at /admin/datenzugriff: the catalogue, agreements from draft to approval, who may see what."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from dataaccess.models import AccessAgreement, Dataset, DatasetField, LegalBasis, Purpose
from portal.extensions import db
from portal.timeutil import utcnow
from tests.builders import csrf_from
from tests.dataaccess.builders import World, approve, approved_agreement, submitted_agreement, today
from tests.portal.admin.conftest import sign_in


@pytest.fixture
def staff(world: World) -> World:
    """The world's staff with their second factor set up (the pages send others to the setup first)."""
    for user in (world.steward, world.dpo, world.drafter, world.official, world.outsider):
        user.totp_enabled_at = utcnow()
    db.session.commit()
    return world


def _post(client, url: str, data: dict, page_url: str | None = None):
    page = client.get(page_url or url)
    assert page.status_code == 200, page.status_code
    return client.post(url, data={"csrf_token": csrf_from(page.text), **data})


def test_citizens_get_403_everywhere(staff, client):
    agreement = approved_agreement(staff)
    sign_in(client, staff.citizen)
    for url in (
        "/admin/datenzugriff/",
        "/admin/datenzugriff/datenbestaende",
        f"/admin/datenzugriff/datenbestaende/{staff.permits.id}",
        "/admin/datenzugriff/zwecke",
        "/admin/datenzugriff/vereinbarungen",
        "/admin/datenzugriff/vereinbarungen/neu",
        f"/admin/datenzugriff/vereinbarungen/{agreement.id}",
        "/admin/datenzugriff/notfall",
        "/admin/datenzugriff/datenschutz/",
    ):
        assert client.get(url).status_code == 403, url


def test_a_clerk_of_another_department_gets_403(staff, client):
    agreement = approved_agreement(staff)
    sign_in(client, staff.outsider)
    for url in (
        "/admin/datenzugriff/datenbestaende",
        f"/admin/datenzugriff/datenbestaende/{staff.permits.id}",
        f"/admin/datenzugriff/datenbestaende/{staff.permits.id}/felder/neu",
        "/admin/datenzugriff/zwecke",
        "/admin/datenzugriff/vereinbarungen/neu",
        f"/admin/datenzugriff/vereinbarungen/{agreement.id}",
        f"/admin/datenzugriff/vereinbarungen/{agreement.id}/widerrufen",
        "/admin/datenzugriff/datenschutz/",
    ):
        assert client.get(url).status_code == 403, url
    # The list shows the Kasse's clerk nothing of the two other offices.
    listing = client.get("/admin/datenzugriff/vereinbarungen")
    assert listing.status_code == 200 and agreement.reference not in listing.text


def test_the_admin_overview_links_to_the_pages(staff, client):
    sign_in(client, staff.steward)
    text = client.get("/admin/").text
    assert "/admin/datenzugriff/" in text and "/admin/datenzugriff/notfall" in text


def test_a_steward_registers_a_dataset_and_its_fields(staff, client):
    sign_in(client, staff.steward)
    response = _post(
        client,
        "/admin/datenzugriff/datenbestaende/neu",
        {"department_id": staff.bauamt.id, "key": "Bauamt Abbruch!", "name": "Abbruchanzeigen",
         "subject_kind": "case", "retention_days": "3650"},
    )  # fmt: skip
    assert response.status_code == 422
    assert "Bitte korrigieren Sie Ihre Eingaben" in response.text and 'id="key-error"' in response.text
    assert 'value="Abbruchanzeigen"' in response.text and 'value="Bauamt Abbruch!"' in response.text
    missing = _post(
        client,
        "/admin/datenzugriff/datenbestaende/neu",
        {"department_id": staff.bauamt.id, "key": "bauamt.abbruch", "name": "", "retention_days": "x"},
    )
    assert missing.status_code == 422
    assert 'id="name-error"' in missing.text and 'id="retention_days-error"' in missing.text
    assert 'id="subject_kind-error"' in missing.text

    created = _post(
        client,
        "/admin/datenzugriff/datenbestaende/neu",
        {"department_id": staff.bauamt.id, "key": "bauamt.abbruch", "name": "Abbruchanzeigen",
         "subject_kind": "case", "retention_days": "3650", "description": "Angezeigte Abbrüche"},
    )  # fmt: skip
    assert created.status_code == 303
    dataset = db.session.scalar(sa.select(Dataset).where(Dataset.key == "bauamt.abbruch"))
    assert dataset is not None and dataset.department_id == staff.bauamt.id

    field_url = f"/admin/datenzugriff/datenbestaende/{dataset.id}/felder/neu"
    added = _post(client, field_url, {"name": "attest", "label": "Ärztliches Attest", "category": "health"})
    assert added.status_code == 303
    field = db.session.scalar(sa.select(DatasetField).where(DatasetField.dataset_id == dataset.id))
    assert field is not None and field.special_category  # health is always a special category (Art. 9)
    page = client.get(f"/admin/datenzugriff/datenbestaende/{dataset.id}").text
    assert "Ärztliches Attest" in page and "Gesundheitsdaten" in page
    twice = _post(client, field_url, {"name": "attest", "label": "Noch einmal", "category": "other"})
    assert twice.status_code == 422 and "Dieses Feld gibt es schon" in twice.text

    edited = _post(
        client,
        f"/admin/datenzugriff/datenbestaende/{dataset.id}",
        {"name": "Abbruchanzeigen (ab 2026)", "retention_days": "1825", "active": "y"},
    )
    assert edited.status_code == 303
    db.session.expire_all()
    assert (dataset.name, dataset.retention_days) == ("Abbruchanzeigen (ab 2026)", 1825)


def test_the_steward_of_another_department_cannot_change_a_dataset(staff, client):
    from tests.builders import make_user

    other = make_user("steward-kasse@stadt.example", department=staff.kasse, department_role="data_steward", totp=True)
    sign_in(client, other)
    assert client.get(f"/admin/datenzugriff/datenbestaende/{staff.permits.id}").status_code == 403
    assert "Baugenehmigungen" not in client.get("/admin/datenzugriff/datenbestaende").text


def test_the_dpo_keeps_purposes_and_legal_bases(staff, client):
    sign_in(client, staff.dpo)
    response = _post(
        client, "/admin/datenzugriff/zwecke/neu", {"code": "bau prüf", "label": "Prüfung Ihres Bauantrags"}
    )
    assert response.status_code == 422 and 'id="code-error"' in response.text
    assert 'value="Prüfung Ihres Bauantrags"' in response.text
    assert _post(client, "/admin/datenzugriff/zwecke/neu", {"code": "BAU-PRUEF", "label": "Prüfung Ihres Bauantrags",
                                                            "active": "y"}).status_code == 303  # fmt: skip
    assert db.session.scalar(sa.select(Purpose).where(Purpose.code == "BAU-PRUEF")) is not None
    added = _post(
        client,
        "/admin/datenzugriff/rechtsgrundlagen/neu",
        {"label": "Bauordnungsrecht", "citation": "Art. 6 Abs. 1 lit. e DSGVO i. V. m. § 68 SächsBO", "active": "y"},
    )
    assert added.status_code == 303
    clash = _post(
        client, "/admin/datenzugriff/rechtsgrundlagen/neu", {"label": "Bauordnungsrecht", "citation": "anders"}
    )
    assert clash.status_code == 422 and "schon vergeben" in clash.text
    assert db.session.scalar(sa.select(sa.func.count(LegalBasis.id))) == 2
    # A data steward may not.
    sign_in(client, staff.steward)
    assert client.get("/admin/datenzugriff/zwecke/neu").status_code == 403


def test_an_agreement_is_drafted_submitted_approved_and_versioned_through_the_pages(staff, client):
    sign_in(client, staff.drafter)
    start = client.get("/admin/datenzugriff/vereinbarungen/neu")
    assert start.status_code == 200 and "Schritt 1 von 2" in start.text
    url = (
        "/admin/datenzugriff/vereinbarungen/neu"
        f"?consumer_department_id={staff.verkehr.id}&dataset_id={staff.permits.id}"
    )
    form = client.get(url)
    assert form.status_code == 200 and "Geburtsdatum der Bauherrschaft" in form.text
    token = csrf_from(form.text)
    base = {
        "csrf_token": token,
        "purposes": [staff.purpose.code],
        "legal_basis_id": staff.basis.id,
        "valid_from": today().isoformat(),
        "valid_to": (today() + timedelta(days=365)).isoformat(),
        "requires_case_reference": "y",
        "rate_limit_per_hour": "30",
        "note": "Baustellenzufahrten",
    }
    no_fields = client.post(url, data=base)
    assert no_fields.status_code == 422
    assert 'id="fields-error"' in no_fields.text and "Baustellenzufahrten" in no_fields.text
    backwards = client.post(
        url, data=base | {"fields": ["status"], "valid_to": (today() - timedelta(days=1)).isoformat()}
    )
    assert backwards.status_code == 422 and 'id="valid_to-error"' in backwards.text
    created = client.post(url, data=base | {"fields": ["aktenzeichen", "status"]})
    assert created.status_code == 303
    agreement = db.session.scalar(sa.select(AccessAgreement))
    assert agreement is not None and agreement.state == "draft" and agreement.fields == ["aktenzeichen", "status"]
    detail_url = f"/admin/datenzugriff/vereinbarungen/{agreement.id}"

    detail = client.get(detail_url)
    assert "noch nicht angefragt" in detail.text
    submitted = client.post(
        f"{detail_url}/einreichen", data={"csrf_token": csrf_from(detail.text), "reason": "Bitte prüfen"}
    )
    assert submitted.status_code == 303
    db.session.expire_all()
    assert agreement.state == "submitted"
    detail = client.get(detail_url).text
    assert f"/admin/freigaben/{agreement.steward_approval_id}" in detail
    assert f"/admin/freigaben/{agreement.dpo_approval_id}" in detail
    assert "ausstehend" in detail

    approve(staff, agreement)
    detail = client.get(detail_url).text
    assert "erteilt von Sven" in detail and "erteilt von Dora" in detail
    assert "freigegeben, in Kraft" in detail

    new = client.post(f"{detail_url}/neue-version", data={"csrf_token": csrf_from(detail)})
    assert new.status_code == 303 and new.headers["Location"].endswith("/bearbeiten")
    draft = db.session.scalar(sa.select(AccessAgreement).where(AccessAgreement.version == 2))
    assert draft is not None and draft.reference == agreement.reference
    edit_url = new.headers["Location"]
    edit = client.get(edit_url)
    # The new version starts from the terms of the latest one: its fields are ticked.
    assert re.search(r'<input checked[^>]*value="aktenzeichen"', edit.text)
    assert not re.search(r'<input checked[^>]*value="geburtsdatum"', edit.text)
    changed = client.post(edit_url, data=base | {"csrf_token": csrf_from(edit.text), "fields": ["status"]})
    assert changed.status_code == 303
    db.session.expire_all()
    assert draft.fields == ["status"]
    history = client.get(f"/admin/datenzugriff/vereinbarungen/{draft.id}").text
    assert "Version 1" in history and "(diese)" in history
    # A submitted or approved version is never edited.
    assert client.get(f"{detail_url}/bearbeiten").status_code == 303


def test_the_agreement_list_filters_by_state_and_department(staff, client):
    approved = approved_agreement(staff)
    submitted = submitted_agreement(staff, fields=["status"])
    sign_in(client, staff.dpo)
    everything = client.get("/admin/datenzugriff/vereinbarungen").text
    assert approved.reference in everything and submitted.reference in everything
    only_submitted = client.get("/admin/datenzugriff/vereinbarungen?state=submitted").text
    assert submitted.reference in only_submitted and approved.reference not in only_submitted
    kasse = client.get(f"/admin/datenzugriff/vereinbarungen?department={staff.kasse.id}").text
    assert approved.reference not in kasse and "Keine Vereinbarungen gefunden" in kasse
    bauamt = client.get(f"/admin/datenzugriff/vereinbarungen?department={staff.bauamt.id}").text
    assert approved.reference in bauamt


def test_revoking_needs_a_reason_and_ends_the_agreement(staff, client):
    agreement = approved_agreement(staff)
    sign_in(client, staff.steward)
    url = f"/admin/datenzugriff/vereinbarungen/{agreement.id}/widerrufen"
    empty = _post(client, url, {"reason": ""})
    assert empty.status_code == 422 and 'id="reason-error"' in empty.text
    done = _post(client, url, {"reason": "Zweck entfallen"})
    assert done.status_code == 303
    db.session.expire_all()
    assert agreement.state == "revoked" and agreement.end_reason == "Zweck entfallen"
    # The drafting department may not revoke (only the owner's steward and the dpo).
    sign_in(client, staff.drafter)
    assert client.get(url).status_code == 403
