"""The one access function: what a granted read returns and logs, and each rule that refuses, logged too."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from dataaccess.errors import AccessRefused
from dataaccess.models import AccessLog
from dataaccess.services import access, agreements, citizen_requests, clients, records
from portal.accounts import tokens
from portal.actors import SYSTEM, Actor
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.timeutil import utcnow
from tests.dataaccess.builders import (
    World,
    approved_agreement,
    audit_event,
    log_rows,
    submitted_agreement,
)

CASE = "VA-2026-0815"


def _read(world: World, agreement, *, actor=None, purpose=None, case=CASE, subject=None, fields=None):
    return access.read(
        actor or Actor.for_user(world.official),
        agreement,
        purpose or world.purpose.code,
        case,
        world.citizen.id if subject is None else subject,
        ["aktenzeichen", "status"] if fields is None else fields,
    )


def _refused(world: World, agreement, **kwargs) -> AccessRefused:
    with pytest.raises(AccessRefused) as caught:
        _read(world, agreement, **kwargs)
    return caught.value


def _details(event: AuditEvent) -> dict:
    return json.loads(event.details)


def _assert_refusal_logged(error: AccessRefused, code: str, subject_user_id: int | None) -> AccessLog:
    assert error.code == code
    log = db.session.get(AccessLog, error.log_id)
    assert log is not None and (log.outcome, log.refusal_code) == ("refused", code)
    assert log.subject_user_id == subject_user_id
    event = audit_event(error.audit_event)
    assert (event.event_key, log.audit_seq) == (log.audit_event_key, None)
    assert (event.action, event.outcome, event.subject_user_id) == (
        "dataaccess.access_refused",
        "denied",
        subject_user_id,
    )
    assert _details(event)["reason"] == code
    return log


# --- granted ----------------------------------------------------------------------------------------------


def test_a_granted_access_returns_only_the_fields_asked_for_about_only_that_person(world):
    agreement = approved_agreement(world)

    result = _read(world, agreement.reference, fields=["aktenzeichen", "status"])

    assert result.records == [{"aktenzeichen": "BG-2025-0101", "status": "genehmigt"}]
    assert (result.agreement, result.version, result.dataset) == (agreement.reference, 1, "bauamt.baugenehmigungen")
    assert result.fields == ("aktenzeichen", "status")


def test_a_granted_access_is_logged_with_purpose_legal_basis_and_department_in_one_audit_event(world):
    agreement = approved_agreement(world)

    result = _read(world, agreement.reference)

    [log] = log_rows()
    assert (log.id, log.audit_event_key, log.outcome, log.refusal_code) == (
        result.log_id,
        result.audit_event,
        "granted",
        None,
    )
    assert (log.actor_user_id, log.subject_user_id, log.consumer_department_id) == (
        world.official.id,
        world.citizen.id,
        world.verkehr.id,
    )
    assert (log.fields, log.purpose_code, log.case_reference, log.agreement_version) == (
        ["aktenzeichen", "status"],
        "VERK-ANORD",
        CASE,
        1,
    )
    event = audit_event(result.audit_event)
    assert result.audit_seq() == event.seq
    assert (event.action, event.outcome, event.subject_user_id) == (
        "dataaccess.record_read",
        "success",
        world.citizen.id,
    )
    details = _details(event)
    assert details["purpose"] == "Prüfung einer verkehrsrechtlichen Anordnung"
    assert details["legal_basis"] == "Art. 6 Abs. 1 lit. e DSGVO i. V. m. § 45 StVO"
    assert details["department_id"] == world.verkehr.id
    assert (details["agreement"], details["fields"], details["case_reference"], details["purpose_identifier"]) == (
        agreement.reference,
        ["aktenzeichen", "status"],
        CASE,
        "VERK-ANORD",
    )


def test_the_citizen_log_shows_who_read_why_and_on_which_legal_basis(world):
    from portal.audit.queries import events_about

    _read(world, approved_agreement(world).reference)

    lines, _page = events_about(Actor.for_user(world.citizen))
    read = next(line for line in lines if "abgerufen" in str(line.text))
    assert (read.department, read.purpose, read.legal_basis) == (
        "Straßenverkehrsamt",
        "Prüfung einer verkehrsrechtlichen Anordnung",
        "Art. 6 Abs. 1 lit. e DSGVO i. V. m. § 45 StVO",
    )
    others, _page = events_about(Actor.for_user(world.other_citizen))
    assert not any("abgerufen" in str(line.text) for line in others)


def test_a_case_subject_dataset_is_read_by_its_file_reference(world):
    steward = Actor.for_user(world.steward)
    from dataaccess.services import catalogue

    orders = catalogue.create_dataset(
        steward,
        department_id=world.bauamt.id,
        key="bauamt.bauakten",
        name="Bauakten",
        retention_days=3650,
        subject_kind="case",
    )
    catalogue.save_field(steward, orders.id, name="flurstueck", label="Flurstück", category="property")
    catalogue.save_field(steward, orders.id, name="eigentuemer", label="Eigentümer", category="identity")
    records.put_record(
        SYSTEM,
        "bauamt.bauakten",
        "A-1",
        records.Subject(reference="FIRMA-42"),
        {"flurstueck": "12/3", "eigentuemer": "X"},
    )
    agreement = approved_agreement(world, dataset_id=orders.id, fields=["flurstueck"])

    result = _read(world, agreement.reference, subject="FIRMA-42", fields=["flurstueck"])

    assert result.records == [{"flurstueck": "12/3"}]
    [log] = log_rows()
    assert (log.subject_user_id, log.subject_reference) == (None, "FIRMA-42")


def test_a_dataset_with_a_provider_is_read_from_the_owning_service_and_still_minimised(app, world):
    seen = []

    def provide(subject: records.Subject) -> list[dict]:
        seen.append(subject)
        return [{"aktenzeichen": "P-1", "status": "bezahlt", "geburtsdatum": "1970-01-01"}]

    records.register_provider(app, "bauamt.baugenehmigungen", provide)
    agreement = approved_agreement(world)

    result = _read(world, agreement.reference, fields=["status"])

    assert result.records == [{"status": "bezahlt"}]
    assert seen == [records.Subject(user_id=world.citizen.id)]


# --- refusals, each logged ----------------------------------------------------------------------------------


def test_an_unknown_agreement_is_refused_with_404_and_logged_with_the_subject(world):
    error = _refused(world, "DZV-2026-999999")

    assert error.status == 404
    log = _assert_refusal_logged(error, "no_agreement", world.citizen.id)
    assert (log.agreement_id, log.agreement_reference) == (None, "DZV-2026-999999")


def test_a_submitted_but_not_approved_agreement_is_refused(world):
    agreement = submitted_agreement(world)

    error = _refused(world, agreement.reference)

    assert error.status == 403
    _assert_refusal_logged(error, "not_approved", world.citizen.id)


def test_an_agreement_past_its_last_day_is_refused_as_expired(world, monkeypatch):
    agreement = approved_agreement(world)
    assert _read(world, agreement.reference).records  # in force today
    monkeypatch.setattr(access, "utcnow", lambda: utcnow() + timedelta(days=367))

    error = _refused(world, agreement.reference)

    assert error.status == 403 and "abgelaufen" in error.message
    _assert_refusal_logged(error, "expired", world.citizen.id)


def test_an_agreement_before_its_first_day_is_not_in_force(world, monkeypatch):
    agreement = approved_agreement(world)
    monkeypatch.setattr(access, "utcnow", lambda: utcnow() - timedelta(days=3))

    _assert_refusal_logged(_refused(world, agreement.reference), "not_in_force", world.citizen.id)


def test_a_revoked_agreement_is_refused(world):
    agreement = approved_agreement(world)
    agreements.revoke(Actor.for_user(world.dpo), agreement.id, "Zweck entfallen")

    _assert_refusal_logged(_refused(world, agreement.reference), "revoked", world.citizen.id)


def test_an_official_of_another_department_is_refused(world):
    agreement = approved_agreement(world)

    error = _refused(world, agreement.reference, actor=Actor.for_user(world.outsider))

    log = _assert_refusal_logged(error, "wrong_department", world.citizen.id)
    assert log.actor_user_id == world.outsider.id and log.consumer_department_id is None
    assert "department_id" not in _details(audit_event(error.audit_event))


def test_a_purpose_the_agreement_does_not_name_is_refused(world):
    agreement = approved_agreement(world)

    error = _refused(world, agreement.reference, purpose="WERBUNG")

    assert error.status == 403 and error.field == "purpose"
    log = _assert_refusal_logged(error, "purpose_not_allowed", world.citizen.id)
    assert log.purpose_code == "WERBUNG"
    assert _details(audit_event(error.audit_event))["purpose_identifier"] == "WERBUNG"


def test_fields_outside_the_agreement_are_refused_and_named(world):
    agreement = approved_agreement(world)

    error = _refused(world, agreement.reference, fields=["aktenzeichen", "geburtsdatum", "behinderung"])

    assert error.fields == ["geburtsdatum", "behinderung"]
    assert "geburtsdatum" in error.message and "behinderung" in error.message
    log = _assert_refusal_logged(error, "field_not_allowed", world.citizen.id)
    assert log.fields == ["aktenzeichen", "geburtsdatum", "behinderung"]
    assert _details(audit_event(error.audit_event))["refused_fields"] == ["geburtsdatum", "behinderung"]


def test_a_missing_case_reference_is_refused_where_the_agreement_requires_one(world):
    agreement = approved_agreement(world)

    error = _refused(world, agreement.reference, case="  ")

    assert error.status == 403
    _assert_refusal_logged(error, "case_reference_required", world.citizen.id)


def test_without_the_requirement_an_official_may_read_without_a_case_reference(world):
    agreement = approved_agreement(world, requires_case_reference=False)

    assert _read(world, agreement.reference, case=None).case_reference is None


def test_a_missing_citizen_request_is_refused_and_a_one_off_request_allows_exactly_one_access(world):
    agreement = approved_agreement(world, requires_citizen_request=True)

    _assert_refusal_logged(_refused(world, agreement.reference), "citizen_request_missing", world.citizen.id)

    citizen_requests.create_request(
        Actor.for_user(world.citizen),
        consumer_department_id=world.verkehr.id,
        dataset_id=world.permits.id,
        purpose_code="verk-anord",
        standing=False,
        case_reference=CASE,
    )
    assert _read(world, agreement.reference).records
    _assert_refusal_logged(_refused(world, agreement.reference), "citizen_request_missing", world.citizen.id)


def test_a_standing_citizen_request_holds_until_the_citizen_revokes_it(world):
    agreement = approved_agreement(world, requires_citizen_request=True)
    citizen = Actor.for_user(world.citizen)
    request = citizen_requests.create_request(
        citizen,
        consumer_department_id=world.verkehr.id,
        dataset_id=world.permits.id,
        purpose_code=world.purpose.code,
        standing=True,
    )
    assert _read(world, agreement.reference).records
    assert _read(world, agreement.reference).records
    # Another person's request does not open this person's data.
    _assert_refusal_logged(
        _refused(world, agreement.reference, subject=world.other_citizen.id),
        "citizen_request_missing",
        world.other_citizen.id,
    )

    citizen_requests.revoke_request(citizen, request.id)

    _assert_refusal_logged(_refused(world, agreement.reference), "citizen_request_missing", world.citizen.id)


def test_the_rate_limit_counts_an_officials_granted_accesses_in_the_last_hour(world):
    agreement = approved_agreement(world, rate_limit_per_hour=2)
    _read(world, agreement.reference)
    _read(world, agreement.reference)

    error = _refused(world, agreement.reference)

    # Counted by whole minutes: an access counts for 60 to 61 minutes, so the wait is at most an hour and a minute.
    assert error.status == 429 and 3540 < (error.retry_after or 0) <= 3660
    _assert_refusal_logged(error, "rate_limited", world.citizen.id)
    # The limit is per official: a colleague of the same department still reads.
    from tests.builders import make_user

    colleague = make_user("kollegin@stadt.example", department=world.verkehr, department_role="clerk")
    assert _read(world, agreement.reference, actor=Actor.for_user(colleague)).records


def test_refusals_do_not_count_against_the_rate_limit(world):
    agreement = approved_agreement(world, rate_limit_per_hour=1)
    for _ in range(3):
        _refused(world, agreement.reference, purpose="WERBUNG")

    assert _read(world, agreement.reference).records


def test_an_unknown_citizen_account_is_refused_without_naming_anyone(world):
    agreement = approved_agreement(world)

    error = _refused(world, agreement.reference, subject=987654)

    assert error.status == 404
    log = _assert_refusal_logged(error, "unknown_subject", None)
    assert log.subject_reference == "987654"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"purpose": " "}, "purpose_required"),
        ({"fields": []}, "fields_required"),
        ({"fields": "aktenzeichen"}, "invalid_input"),
        ({"subject": "Bea"}, "invalid_subject"),
        ({"case": "x" * 61}, "invalid_input"),
    ],
)
def test_bad_input_is_refused_with_422_and_logged(world, kwargs, code):
    agreement = approved_agreement(world)

    error = _refused(world, agreement.reference, **kwargs)

    assert (error.code, error.status) == (code, 422)
    assert db.session.get(AccessLog, error.log_id).refusal_code == code


# --- machine clients --------------------------------------------------------------------------------------


def _client(scopes=("dataaccess",)) -> Actor:
    token, _raw = tokens.create_token(SYSTEM, "Fachverfahren Verkehr", list(scopes))
    return Actor.for_token(token)


def test_a_client_bound_to_the_consuming_department_reads_and_is_logged_as_that_client(world):
    agreement = approved_agreement(world)
    client = _client()
    assert client.token is not None
    clients.bind_client(SYSTEM, client.token.id, world.verkehr.id, agreement.reference)
    bound = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "dataaccess.client_bound"))
    assert _details(bound)["client_id"] == client.token.id

    result = _read(world, agreement.reference, actor=client)

    assert result.records
    [log] = log_rows()
    assert (log.actor_kind, log.actor_token_id, log.actor_user_id) == ("client", client.token.id, None)


def test_a_client_must_name_the_case_even_where_the_agreement_does_not_require_it(world):
    agreement = approved_agreement(world, requires_case_reference=False)
    client = _client()
    assert client.token is not None
    clients.bind_client(SYSTEM, client.token.id, world.verkehr.id)

    _assert_refusal_logged(
        _refused(world, agreement.reference, actor=client, case=None), "case_reference_required", world.citizen.id
    )


def test_an_unbound_client_or_one_bound_elsewhere_is_refused_as_wrong_department(world):
    agreement = approved_agreement(world)
    unbound = _client()
    elsewhere = _client()
    assert elsewhere.token is not None
    clients.bind_client(SYSTEM, elsewhere.token.id, world.verkehr.id, "DZV-2026-999999")

    _assert_refusal_logged(_refused(world, agreement.reference, actor=unbound), "wrong_department", world.citizen.id)
    _assert_refusal_logged(_refused(world, agreement.reference, actor=elsewhere), "wrong_department", world.citizen.id)


# --- the log is part of the read ------------------------------------------------------------------------------


def test_when_the_audit_event_cannot_be_written_the_access_fails_and_returns_nothing(world, monkeypatch):
    agreement = approved_agreement(world)
    events_before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))

    def broken(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    # record() writes the event where the queue row has a statement of its own (SQLite), prepare() where it goes
    # with the log row (PostgreSQL): either fails here.
    monkeypatch.setattr(access.audit, "record", broken)
    monkeypatch.setattr(access.audit, "prepare", broken)
    returned = []
    with pytest.raises(RuntimeError, match="audit store unavailable"):
        returned.append(_read(world, agreement.reference))

    assert returned == []
    assert log_rows() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events_before


def test_when_the_log_row_cannot_be_written_the_audit_event_is_rolled_back_too(world, monkeypatch):
    agreement = approved_agreement(world)
    events_before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    real_log_row = access._log_row

    def broken_log_row(*args, **kwargs):
        real_log_row(*args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(access, "_log_row", broken_log_row)
    with pytest.raises(RuntimeError, match="disk full"):
        _read(world, agreement.reference)

    assert log_rows() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events_before


def test_the_trail_with_granted_and_refused_accesses_still_verifies(app, world):
    from portal.audit.verify import verify_chain

    agreement = approved_agreement(world)
    _read(world, agreement.reference)
    _refused(world, agreement.reference, purpose="WERBUNG")

    with db.engine.connect() as connection:
        result = verify_chain(connection, {})
    assert result.ok, result
