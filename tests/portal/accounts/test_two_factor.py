"""Two-factor authentication: mandatory for staff, voluntary for citizens; codes once only; recovery codes."""

from __future__ import annotations

import re
import time

import pyotp
import sqlalchemy as sa

from portal.accounts.models import RecoveryCode, User
from portal.extensions import db
from tests.builders import PASSWORD, make_department, make_user
from tests.portal.accounts.conftest import details, events

RECOVERY_RE = re.compile(r"<code>([a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})</code>")


def staff_with_totp() -> User:
    return make_user("clara@example.org", roles=("moderator",), totp=True)


def test_staff_password_alone_does_not_sign_in(client, auth):
    staff_with_totp()
    response = auth.login("clara@example.org", PASSWORD)
    assert response.headers["Location"] == "/anmelden/zwei-faktor"
    assert client.get("/konto/").status_code == 302
    assert client.get("/konto/").headers["Location"].startswith("/anmelden")
    # The right password alone is recorded as a passed first factor, not as a completed sign-in.
    [event] = events("account.login")
    assert event.outcome == "success"
    assert details(event) == {"method": "password", "stage": "first_factor"}


def test_staff_signs_in_with_password_then_code(client, auth):
    user = staff_with_totp()
    auth.login("clara@example.org", PASSWORD)
    response = auth.totp(user)
    assert response.headers["Location"] == "/arbeit/"  # staff land on their start page
    assert client.get("/arbeit/").status_code == 200
    first, final = events("account.login", subject_user_id=user.id)
    assert details(first)["stage"] == "first_factor"
    assert final.outcome == "success"
    assert details(final)["method"] == "password+totp"
    assert "stage" not in details(final)


def test_second_factor_page_without_password_step_sends_back_to_sign_in(client):
    response = client.get("/anmelden/zwei-faktor")
    assert response.status_code == 302
    assert response.headers["Location"] == "/anmelden"


def test_a_totp_code_is_refused_the_second_time(app, auth):
    user = staff_with_totp()
    code = pyotp.TOTP(user.totp_secret).now()
    auth.login("clara@example.org", PASSWORD)
    assert auth.post_form("/anmelden/zwei-faktor", {"code": code}).headers["Location"] == "/arbeit/"
    auth.logout()

    other = app.test_client()
    from tests.builders import AuthActions

    second = AuthActions(other)
    second.login("clara@example.org", PASSWORD)
    response = second.post_form("/anmelden/zwei-faktor", {"code": code})
    assert response.status_code == 200
    assert "nicht gültig oder wurde schon verwendet" in response.get_data(as_text=True)
    assert other.get("/konto/").status_code == 302
    outcomes = [(e.outcome, details(e).get("stage")) for e in events("account.login", subject_user_id=user.id)]
    assert outcomes == [("success", "first_factor"), ("success", None), ("success", "first_factor"), ("failure", None)]


def test_a_recovery_code_signs_in_once(app, client, auth):
    user = make_user("dora@example.org")
    auth.login("dora@example.org", PASSWORD)
    auth.client.get("/konto/zwei-faktor/einrichten")
    db.session.expire_all()
    secret = db.session.get(User, user.id).totp_secret
    page = auth.post_form("/konto/zwei-faktor/einrichten", {"code": pyotp.TOTP(secret).now()}).get_data(as_text=True)
    codes = RECOVERY_RE.findall(page)
    assert len(codes) == 10
    auth.logout()

    auth.login("dora@example.org", PASSWORD)
    response = auth.post_form("/anmelden/zwei-faktor", {"code": codes[0].upper()})
    assert response.headers["Location"] == "/konto/"
    [used] = events("account.recovery_code_used", subject_user_id=user.id)
    assert details(used)["remaining"] == 9
    auth.logout()

    auth.login("dora@example.org", PASSWORD)
    again = auth.post_form("/anmelden/zwei-faktor", {"code": codes[0]})
    assert "nicht gültig" in again.get_data(as_text=True)
    assert client.get("/konto/").status_code == 302
    stored = db.session.scalars(sa.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).all()
    assert not any(code.replace("-", "") in h for h in stored for code in codes)


def test_staff_without_totp_is_sent_to_setup_which_shows_a_qr_code_and_enables_it(client, auth):
    department = make_department()
    user = make_user("emil@example.org", department=department, department_role="clerk")
    response = auth.login("emil@example.org", PASSWORD)
    assert response.headers["Location"] == "/arbeit/"
    response = client.get("/arbeit/")
    assert response.headers["Location"] == "/konto/zwei-faktor/einrichten"

    page = client.get("/konto/zwei-faktor/einrichten").get_data(as_text=True)
    assert '<img src="data:image/png;base64,' in page
    assert 'alt="QR-Code' in page
    db.session.expire_all()
    secret = db.session.get(User, user.id).totp_secret
    shown = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    assert shown in page
    # Reloading keeps the same, still unconfirmed secret.
    assert shown in client.get("/konto/zwei-faktor/einrichten").get_data(as_text=True)

    wrong = auth.post_form("/konto/zwei-faktor/einrichten", {"code": "123456"})
    assert "Der Code ist nicht gültig" in wrong.get_data(as_text=True)
    done = auth.post_form("/konto/zwei-faktor/einrichten", {"code": pyotp.TOTP(secret).now()})
    assert len(RECOVERY_RE.findall(done.get_data(as_text=True))) == 10
    assert client.get("/konto/").status_code == 200
    assert len(events("account.totp_enabled", subject_user_id=user.id)) == 1


def test_recovery_codes_can_be_regenerated_and_old_ones_stop_working(client, auth):
    user = make_user("dora@example.org", totp=True)
    auth.login("dora@example.org", PASSWORD)
    auth.totp(user)
    first = RECOVERY_RE.findall(auth.post_form("/konto/sicherheit/wiederherstellungscodes", {}).get_data(as_text=True))
    second = RECOVERY_RE.findall(auth.post_form("/konto/sicherheit/wiederherstellungscodes", {}).get_data(as_text=True))
    assert len(first) == len(second) == 10
    assert not set(first) & set(second)
    assert len(events("account.recovery_codes_generated", subject_user_id=user.id)) == 2
    auth.logout()
    auth.login("dora@example.org", PASSWORD)
    assert "nicht gültig" in auth.post_form("/anmelden/zwei-faktor", {"code": first[0]}).get_data(as_text=True)


def test_the_pending_password_step_expires(client, auth, monkeypatch):
    user = staff_with_totp()
    auth.login("clara@example.org", PASSWORD)
    later = time.time() + 301
    monkeypatch.setattr(time, "time", lambda: later)
    response = client.get("/anmelden/zwei-faktor")
    assert response.headers["Location"] == "/anmelden"
    assert user.id


def _citizen_with_totp_signed_in(client, auth) -> User:
    user = make_user("bruno@example.org", totp=True)
    auth.login("bruno@example.org", PASSWORD)
    auth.totp(user)
    assert client.get("/konto/").status_code == 200
    # The sign-in used this step's code; forget it rather than wait 30 seconds for the next one.
    db.session.expire_all()
    db.session.get(User, user.id).totp_last_step = None
    db.session.commit()
    return user


def test_citizen_switches_two_factor_off_with_password_and_current_code(client, auth):
    user = _citizen_with_totp_signed_in(client, auth)
    page = client.get("/konto/sicherheit").get_data(as_text=True)
    assert "Zwei-Faktor-Authentisierung ausschalten" in page

    code = pyotp.TOTP(user.totp_secret).now()
    response = auth.post_form(
        "/konto/sicherheit/zwei-faktor/ausschalten", {"totp-current_password": PASSWORD, "totp-code": code}
    )
    assert response.status_code == 302
    assert "Die Zwei-Faktor-Authentisierung ist ausgeschaltet" in client.get("/konto/sicherheit").get_data(as_text=True)
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.totp_enabled_at is None and user.totp_secret is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
    assert [e.outcome for e in events("account.totp_disabled", subject_user_id=user.id)] == ["success"]

    auth.logout()
    assert auth.login("bruno@example.org", PASSWORD).headers["Location"] == "/konto/"  # no code asked


def test_switching_two_factor_off_needs_the_right_password_and_code(client, auth):
    user = _citizen_with_totp_signed_in(client, auth)
    code = pyotp.TOTP(user.totp_secret).now()
    wrong_password = auth.post_form(
        "/konto/sicherheit/zwei-faktor/ausschalten", {"totp-current_password": "falsch", "totp-code": code}
    )
    assert wrong_password.status_code == 422
    assert "Das Passwort ist nicht richtig" in wrong_password.get_data(as_text=True)
    wrong_code = auth.post_form(
        "/konto/sicherheit/zwei-faktor/ausschalten", {"totp-current_password": PASSWORD, "totp-code": "000000"}
    )
    assert wrong_code.status_code == 422
    assert "Der Code ist nicht gültig" in wrong_code.get_data(as_text=True)
    no_code = auth.post_form("/konto/sicherheit/zwei-faktor/ausschalten", {"totp-current_password": PASSWORD})
    assert "Bitte geben Sie den aktuellen Code" in no_code.get_data(as_text=True)

    db.session.expire_all()
    assert db.session.get(User, user.id).totp_enabled_at is not None
    refusals = events("account.totp_disabled", subject_user_id=user.id)
    assert [(e.outcome, details(e)["reason"]) for e in refusals] == [("failure", "password"), ("failure", "code")]


def test_staff_cannot_switch_two_factor_off(client, auth):
    user = staff_with_totp()
    auth.login("clara@example.org", PASSWORD)
    auth.totp(user)
    page = client.get("/konto/sicherheit").get_data(as_text=True)
    assert "Pflicht und kann nicht ausgeschaltet werden" in page
    assert "totp-code" not in page
    db.session.expire_all()
    db.session.get(User, user.id).totp_last_step = None
    db.session.commit()

    response = auth.post_form(
        "/konto/sicherheit/zwei-faktor/ausschalten",
        {"totp-current_password": PASSWORD, "totp-code": pyotp.TOTP(user.totp_secret).now()},
    )
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(User, user.id).totp_enabled_at is not None
    assert events("account.totp_disabled") == []


def test_password_without_the_code_leaves_a_first_factor_event_and_the_code_the_sign_in(client, auth):
    user = staff_with_totp()
    auth.login("clara@example.org", PASSWORD)
    [first] = events("account.login", subject_user_id=user.id)
    assert (first.outcome, details(first)) == ("success", {"method": "password", "stage": "first_factor"})
    assert client.get("/konto/").status_code == 302  # still not signed in
