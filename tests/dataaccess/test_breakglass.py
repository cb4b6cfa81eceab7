"""Break-glass: an emergency read without an agreement, time-boxed, alerted at once, reviewed by the dpo."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import Forbidden

from dataaccess.errors import AccessRefused, DataAccessError
from dataaccess.models import AccessLog, BreakGlassSession
from dataaccess.services import breakglass
from portal.actors import Actor
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.timeutil import utcnow
from tests.builders import csrf_from, make_user
from tests.dataaccess.builders import World, add_member, log_rows
from tests.portal.admin.conftest import sign_in

REASON = "Gasgeruch im Haus, Bewohnerin reagiert nicht; Feuerwehr braucht Angaben zum Umbau."


def _ready(*users) -> None:
    """Staff who have set up their second factor (the pages send others to the setup first)."""
    for user in users:
        user.totp_enabled_at = utcnow()
    db.session.commit()


def _open(world: World, **changes) -> BreakGlassSession:
    values = {
        "department_id": world.verkehr.id,
        "dataset_id": world.permits.id,
        "category": "danger_to_life",
        "reason": REASON,
        "case_reference": "VA-NOT-1",
    } | changes
    return breakglass.open_session(Actor.for_user(world.official), **values)


def _events(action: str) -> list[dict]:
    db.session.expire_all()
    rows = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
    return [json.loads(e.details) | {"_outcome": e.outcome, "_subject": e.subject_user_id} for e in rows]


def _mails() -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def test_reason_and_category_are_required(world):
    with pytest.raises(DataAccessError) as missing:
        _open(world, reason="  ")
    assert missing.value.field == "reason"
    with pytest.raises(DataAccessError) as short:
        _open(world, reason="Eilt sehr")
    assert (short.value.field, short.value.code) == ("reason", "reason_too_short")
    with pytest.raises(DataAccessError) as category:
        _open(world, category="curiosity")
    assert category.value.field == "category"
    assert db.session.scalar(sa.select(sa.func.count(BreakGlassSession.id))) == 0
    assert _mails() == []


def test_only_members_of_the_department_open_one_and_never_for_their_own_data(world):
    with pytest.raises(Forbidden):
        breakglass.open_session(
            Actor.for_user(world.outsider),
            department_id=world.verkehr.id,
            dataset_id=world.permits.id,
            category="court_order",
            reason=REASON,
        )
    with pytest.raises(DataAccessError) as own:
        breakglass.open_session(
            Actor.for_user(world.steward),
            department_id=world.bauamt.id,
            dataset_id=world.permits.id,
            category="court_order",
            reason=REASON,
        )
    assert own.value.code == "same_department"


def test_opening_alerts_the_owning_stewards_and_the_dpo_in_the_same_transaction(world, app):
    second_steward = make_user("steward2@stadt.example", department=world.bauamt, department_role="data_steward")
    session = _open(world)
    minutes = app.config["DATAACCESS_BREAKGLASS_MINUTES"]
    assert minutes == 60
    assert abs((session.expires_at - session.opened_at) - timedelta(minutes=60)) < timedelta(seconds=1)

    mails = _mails()
    assert sorted(m.recipient for m in mails) == sorted(
        [world.steward.email, second_steward.email, world.dpo.email]
    )  # not the Verkehrsamt's own people, not the official
    assert {m.template for m in mails} == {"dataaccess_breakglass_alert"}
    body = mails[0].body_text
    assert "Olaf" in body and "Baugenehmigungen" in body and "Gefahr für Leib oder Leben" in body
    assert REASON in body and f"/admin/datenzugriff/notfall/{session.id}" in body
    (opened,) = _events("dataaccess.breakglass_opened")
    assert (opened["category"], opened["reason"], opened["department_id"]) == (
        "danger_to_life",
        REASON,
        world.verkehr.id,
    )


def test_no_alert_no_emergency_access(world, monkeypatch):
    """If the alert cannot be enqueued, the session is not opened either (one transaction)."""
    sent = []

    def failing_enqueue(*args, **kwargs):
        if sent:
            raise RuntimeError("outbox full")
        sent.append(args)
        return None

    monkeypatch.setattr(breakglass, "enqueue", failing_enqueue)
    with pytest.raises(RuntimeError):
        _open(world)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(BreakGlassSession.id))) == 0
    assert _events("dataaccess.breakglass_opened") == []


def test_a_read_in_the_session_returns_any_field_and_is_logged_as_emergency(world):
    session = _open(world)
    # No agreement exists at all; the birth date would not be in any agreement either.
    result = breakglass.read(
        Actor.for_user(world.official), session.id, world.citizen.id, ["aktenzeichen", "geburtsdatum"]
    )
    assert result.records == [{"aktenzeichen": "BG-2025-0101", "geburtsdatum": "1980-02-29"}]
    assert result.breakglass == session.id and result.purpose == "NOTFALL"
    assert result.case_reference == "VA-NOT-1"  # the session's, as none was given

    (log,) = log_rows()
    assert (log.outcome, log.refusal_code, log.breakglass_id) == ("granted", None, session.id)
    assert (log.subject_user_id, log.consumer_department_id, log.agreement_id) == (
        world.citizen.id,
        world.verkehr.id,
        None,
    )
    assert log.purpose == "Notfallzugriff: Gefahr für Leib oder Leben"
    assert log.legal_basis.startswith("Art. 6 Abs. 1 lit. d DSGVO")
    (event,) = _events("dataaccess.breakglass_read")
    assert event["_subject"] == world.citizen.id and event["breakglass"] == session.id
    assert event["fields"] == ["aktenzeichen", "geburtsdatum"]


def test_the_citizen_sees_notfallzugriff_in_their_log(world, client):
    session = _open(world)
    breakglass.read(Actor.for_user(world.official), session.id, world.citizen.id, ["status"])
    sign_in(client, world.citizen)
    page = client.get("/konto/protokoll").get_data(as_text=True)
    assert "Notfallzugriff" in page
    assert "Straßenverkehrsamt" in page
    # And on "Mein Konto → Datenzugriffe", whose entries come from the access log.
    page = client.get("/konto/datenzugriffe").get_data(as_text=True)
    assert "Notfallzugriff: Gefahr für Leib oder Leben" in page


def test_fields_the_dataset_does_not_have_are_refused_and_logged(world):
    session = _open(world)
    with pytest.raises(AccessRefused) as refused:
        breakglass.read(Actor.for_user(world.official), session.id, world.citizen.id, ["kontostand"])
    assert refused.value.code == "field_not_allowed"
    (log,) = log_rows()
    assert (log.outcome, log.breakglass_id) == ("refused", session.id)


def test_the_session_is_time_boxed(world):
    session = _open(world)
    past = utcnow() - timedelta(minutes=1)
    session.opened_at = past - timedelta(minutes=60)
    session.expires_at = past
    db.session.commit()
    with pytest.raises(AccessRefused) as refused:
        breakglass.read(Actor.for_user(world.official), session.id, world.citizen.id, ["status"])
    assert (refused.value.code, refused.value.status) == ("breakglass_expired", 403)
    (log,) = log_rows()
    assert (log.outcome, log.refusal_code, log.breakglass_id) == ("refused", "breakglass_expired", session.id)
    assert log.record_count == 0


def test_a_session_just_opened_says_it_has_its_whole_time_left(world, app):
    session = _open(world)

    assert breakglass.remaining_minutes(session) == app.config["DATAACCESS_BREAKGLASS_MINUTES"]
    session.expires_at = utcnow() + timedelta(seconds=5)
    assert breakglass.remaining_minutes(session) == 1  # the last seconds still count as a minute


def test_ending_it_early_stops_further_reads(world):
    session = _open(world)
    breakglass.end_session(Actor.for_user(world.official), session.id)
    with pytest.raises(AccessRefused) as refused:
        breakglass.read(Actor.for_user(world.official), session.id, world.citizen.id, ["status"])
    assert refused.value.code == "breakglass_expired"


def test_only_the_official_who_opened_it_reads_in_it(world):
    session = _open(world)
    colleague = make_user("kollegin@stadt.example", department=world.verkehr, department_role="clerk")
    with pytest.raises(AccessRefused) as refused:
        breakglass.read(Actor.for_user(colleague), session.id, world.citizen.id, ["status"])
    assert refused.value.code == "breakglass_not_yours"
    with pytest.raises(AccessRefused) as unknown:
        breakglass.read(Actor.for_user(world.official), 999_999, world.citizen.id, ["status"])
    assert (unknown.value.code, unknown.value.status) == ("breakglass_unknown", 404)


def test_leaving_the_department_ends_the_right_to_read(world):
    session = _open(world)
    for membership in list(world.official.memberships):
        db.session.delete(membership)
    db.session.commit()
    db.session.expire_all()
    with pytest.raises(AccessRefused) as refused:
        breakglass.read(Actor.for_user(world.official), session.id, world.citizen.id, ["status"])
    assert refused.value.code == "wrong_department"


def test_the_dpo_closes_the_review_and_an_unjustified_finding_is_audited(world):
    session = _open(world)
    breakglass.read(Actor.for_user(world.official), session.id, world.citizen.id, ["status"])
    dpo = Actor.for_user(world.dpo)
    assert [row.session.id for row in breakglass.reviews(dpo)] == [session.id]
    assert breakglass.reviews(dpo)[0].reads == 1

    with pytest.raises(Forbidden):
        breakglass.close_review(Actor.for_user(world.steward), session.id, finding="justified", note="passt")
    with pytest.raises(DataAccessError) as no_note:
        breakglass.close_review(dpo, session.id, finding="unjustified", note=" ")
    assert no_note.value.field == "note"

    closed = breakglass.close_review(dpo, session.id, finding="unjustified", note="Keine akute Gefahr erkennbar.")
    assert closed.finding == "unjustified" and closed.ended_at is not None  # closing ends it at once
    (event,) = _events("dataaccess.breakglass_reviewed")
    assert (event["finding"], event["note"], event["reads"]) == ("unjustified", "Keine akute Gefahr erkennbar.", 1)
    assert breakglass.reviews(dpo) == []
    with pytest.raises(DataAccessError) as again:
        breakglass.close_review(dpo, session.id, finding="justified", note="doch")
    assert again.value.code == "review_closed"
    with pytest.raises(AccessRefused):
        breakglass.read(Actor.for_user(world.official), session.id, world.citizen.id, ["status"])


def test_a_dpo_never_reviews_their_own_emergency(world):
    add_member(world.dpo, world.verkehr, "clerk")
    own = breakglass.open_session(
        Actor.for_user(world.dpo),
        department_id=world.verkehr.id,
        dataset_id=world.permits.id,
        category="public_safety",
        reason=REASON,
    )
    with pytest.raises(DataAccessError) as refused:
        breakglass.close_review(Actor.for_user(world.dpo), own.id, finding="justified", note="war nötig")
    assert refused.value.code == "own_review"


# --- the pages --------------------------------------------------------------------------------------------


def test_the_official_opens_reads_and_the_dpo_reviews_through_the_pages(world, client):
    _ready(world.official, world.dpo, world.steward)
    sign_in(client, world.official)
    page = client.get("/admin/datenzugriff/notfall")
    assert page.status_code == 200 and "Notfallzugriff öffnen" in page.text

    # Without category and with a too short reason: errors next to the fields, what was typed kept.
    token = csrf_from(page.text)
    response = client.post(
        "/admin/datenzugriff/notfall",
        data={"csrf_token": token, "department_id": world.verkehr.id, "dataset_id": world.permits.id,
              "reason": "Eilt", "case_reference": "VA-77"},
    )  # fmt: skip
    assert response.status_code == 422
    assert "Bitte korrigieren Sie Ihre Eingaben" in response.text
    assert 'id="category-error"' in response.text and 'value="VA-77"' in response.text
    response = client.post(
        "/admin/datenzugriff/notfall",
        data={"csrf_token": token, "department_id": world.verkehr.id, "dataset_id": world.permits.id,
              "category": "danger_to_life", "reason": "Eilt", "case_reference": "VA-77"},
    )  # fmt: skip
    assert response.status_code == 422 and 'id="reason-error"' in response.text and "mindestens 20" in response.text
    assert _mails() == []

    response = client.post(
        "/admin/datenzugriff/notfall",
        data={"csrf_token": token, "department_id": world.verkehr.id, "dataset_id": world.permits.id,
              "category": "danger_to_life", "reason": REASON, "case_reference": "VA-77"},
    )  # fmt: skip
    assert response.status_code == 303
    session_url = response.headers["Location"]
    assert len(_mails()) == 2

    page = client.get(session_url)
    assert "Noch 59 Minuten" in page.text or "Noch 60 Minuten" in page.text
    read = client.post(
        session_url,
        data={"csrf_token": csrf_from(page.text), "subject": str(world.citizen.id), "fields": ["vorhaben", "status"]},
    )
    assert read.status_code == 200
    assert "Garage mit Zufahrt" in read.text and "genehmigt" in read.text

    # The colleague of another department cannot even look at it; the dpo can.
    _ready(world.outsider)
    sign_in(client, world.outsider)
    assert client.get(session_url).status_code == 403
    sign_in(client, world.dpo)
    session_id = int(session_url.rsplit("/", 1)[1])
    review_url = f"/admin/datenzugriff/datenschutz/notfall/{session_id}"
    assert review_url in client.get("/admin/datenzugriff/datenschutz/notfall").text
    review = client.get(review_url)
    assert review.status_code == 200 and "Garage" not in review.text  # the log, never the data
    missing = client.post(review_url, data={"csrf_token": csrf_from(review.text), "finding": "justified"})
    assert missing.status_code == 422 and 'id="note-error"' in missing.text
    done = client.post(
        review_url,
        data={"csrf_token": csrf_from(review.text), "finding": "justified", "note": "Gefahr bestätigt (Feuerwehr)."},
    )
    assert done.status_code == 303
    db.session.expire_all()
    assert db.session.get(BreakGlassSession, session_id).finding == "justified"
    assert "Keine offenen Prüfungen" in client.get("/admin/datenzugriff/datenschutz/notfall").text


def test_citizens_and_people_without_a_department_cannot_open_one(world, client):
    sign_in(client, world.citizen)
    assert client.get("/admin/datenzugriff/notfall").status_code == 403
    treasurer = make_user("kasse-global@stadt.example", roles=("treasury",), totp=True)
    sign_in(client, treasurer)
    assert client.get("/admin/datenzugriff/notfall").status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(AccessLog.id))) == 0
