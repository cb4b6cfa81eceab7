"""The admin trail (platform_admin, dpo) and the citizen's own log (/konto/protokoll).

Signed-in users come from helpers.sign_in (a UserSession row plus the session cookie), not the login form.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.actors import SYSTEM, Actor
from portal.audit import services as audit
from portal.transaction import transaction
from tests.builders import make_user
from tests.portal.audit.helpers import record_events, sign_in


def page(client, url: str) -> tuple[int, str]:
    response = client.get(url)
    return response.status_code, response.get_data(as_text=True)


@pytest.fixture
def anna(app):
    return make_user("anna@example.org", display_name="Anna")


@pytest.fixture
def ben(app):
    return make_user("ben@example.org", display_name="Ben")


# --- admin trail -------------------------------------------------------------------------------------------


def test_admin_trail_is_refused_to_a_citizen(client, anna):
    sign_in(client, anna)
    status, _html = page(client, "/admin/protokoll")
    assert status == 403


def test_admin_trail_is_refused_to_staff_without_an_audit_role(client):
    clerk = make_user("mod@example.org", roles=("moderator",), totp=True)
    sign_in(client, clerk)
    status, _html = page(client, "/admin/protokoll")
    assert status == 403


def test_admin_trail_sends_visitors_to_sign_in(client):
    response = client.get("/admin/protokoll")
    assert response.status_code == 302
    assert "/anmelden" in response.headers["Location"]


@pytest.mark.parametrize("role", ["dpo", "platform_admin"])
def test_dpo_and_platform_admin_see_the_trail_and_the_chain_check_hint(client, anna, role):
    record_events(3, subject=anna)
    sign_in(client, make_user("staff@example.org", roles=(role,), totp=True))

    status, html = page(client, "/admin/protokoll")
    assert status == 200
    assert html.count("<h1") == 1
    assert "Kette prüfen" in html
    assert "flask audit verify" in html
    assert "3 Einträge gefunden" in html
    assert "noch keinen signierten Prüfpunkt" in html


def test_admin_trail_shows_the_latest_checkpoint(app, client, runner):
    record_events(4)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    sign_in(client, make_user("dpo@example.org", roles=("dpo",), totp=True))

    _status, html = page(client, "/admin/protokoll")
    assert "Letzter signierter Prüfpunkt: Nr. 1 über die Einträge bis Nr. 4" in html
    assert "Seitdem 1 neue Einträge" in html


def test_admin_filters_narrow_the_trail(client, anna, ben):
    record_events(2, subject=anna, action="account.login")
    record_events(3, subject=ben, action="account.logout")
    with transaction():
        audit.record("account.login", Actor.for_user(ben), subject_user_id=ben.id, outcome="failure", method="password")
    sign_in(client, make_user("dpo@example.org", roles=("dpo",), totp=True))

    _s, html = page(client, "/admin/protokoll?action=account.logout")
    assert "3 Einträge gefunden" in html
    _s, html = page(client, f"/admin/protokoll?subject={anna.id}")
    assert "2 Einträge gefunden" in html
    _s, html = page(client, "/admin/protokoll?outcome=failure")
    assert "1 Eintrag gefunden" in html
    _s, html = page(client, "/admin/protokoll?actor=ben@example.org")
    assert "1 Eintrag gefunden" in html
    _s, html = page(client, f"/admin/protokoll?actor={ben.id}&action=account.")
    assert "1 Eintrag gefunden" in html
    _s, html = page(client, "/admin/protokoll?action=account%25")  # a LIKE wildcard is taken literally
    assert "0 Einträge gefunden" in html


def test_admin_date_filter_uses_berlin_calendar_days(client, monkeypatch):
    # 22:30 UTC on 30 June is already 1 July in Berlin (summer time, UTC+2).
    monkeypatch.setattr("portal.audit.services.utcnow", lambda: datetime(2026, 6, 30, 22, 30, tzinfo=UTC))
    record_events(1)
    monkeypatch.setattr("portal.audit.services.utcnow", lambda: datetime(2026, 6, 30, 21, 30, tzinfo=UTC))
    record_events(2)
    monkeypatch.undo()
    sign_in(client, make_user("dpo@example.org", roles=("dpo",), totp=True))

    _s, html = page(client, "/admin/protokoll?date_from=2026-07-01&date_to=2026-07-01")
    assert "1 Eintrag gefunden" in html
    _s, html = page(client, "/admin/protokoll?date_to=30.06.2026")
    assert "2 Einträge gefunden" in html


def test_admin_filter_errors_are_shown_next_to_the_fields(client):
    record_events(1)
    sign_in(client, make_user("dpo@example.org", roles=("dpo",), totp=True))

    status, html = page(client, "/admin/protokoll?subject=abc&date_from=2026-07-02&date_to=2026-07-01")
    assert status == 200
    assert "Bitte korrigieren Sie Ihre Eingaben" in html
    assert "Geben Sie eine Nutzernummer als ganze Zahl ein" in html
    assert "Das Bis-Datum darf nicht vor dem Von-Datum liegen" in html
    assert 'value="abc"' in html  # the typed value is kept
    assert "Einträge gefunden" not in html


def test_admin_trail_pages_keep_the_filter(client, anna):
    record_events(55, subject=anna)
    record_events(5)
    sign_in(client, make_user("dpo@example.org", roles=("dpo",), totp=True))

    _s, html = page(client, f"/admin/protokoll?subject={anna.id}")
    assert "Seite 1 von 2" in html
    assert f"page=2&amp;subject={anna.id}" in html or f"subject={anna.id}&amp;page=2" in html
    _s, html = page(client, f"/admin/protokoll?subject={anna.id}&page=2")
    assert "Seite 2 von 2" in html
    assert html.count('<tr class="kern-table__row">') == 1 + 5  # header row and the five oldest events


# --- the citizen's own log ---------------------------------------------------------------------------------


def test_citizen_log_needs_sign_in(client):
    response = client.get("/konto/protokoll")
    assert response.status_code == 302
    assert "/anmelden" in response.headers["Location"]


def test_citizen_sees_only_events_about_themselves_in_plain_german(client, anna, ben):
    with transaction():
        audit.record("account.password_changed", Actor.for_user(anna), subject_user_id=anna.id, method="form")
        audit.record("account.login", SYSTEM, subject_user_id=anna.id, outcome="failure", method="password")
        audit.record("account.deleted", Actor.for_user(ben), subject_user_id=ben.id)
        audit.record("role.granted", SYSTEM, subject_user_id=None, role="dpo")
    sign_in(client, anna)

    status, html = page(client, "/konto/protokoll")
    assert status == 200
    assert "Mein Protokoll" in html
    assert "Passwort geändert" in html
    assert "Sie selbst" in html
    assert "Anmeldung" in html and "fehlgeschlagen" in html
    assert "Konto gelöscht" not in html  # Ben's
    assert "Berechtigung erteilt" not in html  # about nobody
    assert "account.password_changed" not in html  # no internal names
    assert html.index("Anmeldung") < html.index("Passwort geändert")  # newest first


def test_citizen_log_shows_berlin_time(client, anna, monkeypatch):
    monkeypatch.setattr("portal.audit.services.utcnow", lambda: datetime(2026, 7, 1, 10, 5, 9, tzinfo=UTC))
    record_events(1, subject=anna)
    monkeypatch.setattr("portal.audit.services.utcnow", lambda: datetime(2026, 12, 1, 10, 5, 9, tzinfo=UTC))
    record_events(1, subject=anna)
    monkeypatch.undo()
    sign_in(client, anna)

    _s, html = page(client, "/konto/protokoll")
    assert "01.07.2026, 12:05:09" in html  # summer time, UTC+2
    assert "01.12.2026, 11:05:09" in html  # winter time, UTC+1


def test_citizen_log_is_paged(client, anna):
    record_events(30, subject=anna)
    sign_in(client, anna)

    _s, html = page(client, "/konto/protokoll")
    assert "30 Einträge" in html
    assert "Seite 1 von 2" in html
    _s, html = page(client, "/konto/protokoll?page=2")
    assert html.count("<time ") == 5


def test_citizen_without_events_gets_an_explanation(client, anna):
    sign_in(client, anna)
    _s, html = page(client, "/konto/protokoll")
    assert "Zu Ihrem Konto sind noch keine Vorgänge protokolliert" in html


CORE_PREFIXES = ("account.", "role.", "invitation.", "organisation.", "token.", "department.", "location.",
                 "catalogue.", "feedback.", "audit.", "mail.", "demo.")  # fmt: skip


def test_every_declared_core_action_has_a_german_description(app):
    from portal.audit import registry
    from portal.audit.queries import action_text

    core = [a.name for a in registry.all_actions() if a.name.startswith(CORE_PREFIXES)]
    assert len(core) > 20
    with app.test_request_context():
        undescribed = [name for name in core if str(action_text(name)).startswith("Sonstiger Vorgang")]
    assert undescribed == []


def test_service_actions_without_a_description_are_named_not_hidden(app, client, anna):
    from portal.audit import registry

    registry.declare("zz_test.something_happened", [], "a test action")
    try:
        with transaction():
            audit.record("zz_test.something_happened", SYSTEM, subject_user_id=anna.id)
    finally:
        registry._ACTIONS.pop("zz_test.something_happened")
    sign_in(client, anna)
    _s, html = page(client, "/konto/protokoll")
    assert "Sonstiger Vorgang (zz_test.something_happened)" in html


def test_the_listing_service_checks_the_actor_itself(app, anna):
    # The route's access rule is the outer fence; the service refuses on its own too (e.g. for the API later).
    from werkzeug.exceptions import Forbidden

    from portal.actors import ANONYMOUS
    from portal.audit import queries

    with pytest.raises(Forbidden):
        queries.list_events(Actor.for_user(anna), queries.AuditFilter())
    with pytest.raises(Forbidden):
        queries.events_about(ANONYMOUS)
    dpo = make_user("dpo@example.org", roles=("dpo",), totp=True)
    assert queries.list_events(Actor.for_user(dpo), queries.AuditFilter()).total == 0
