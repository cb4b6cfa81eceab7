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
    assert events("account.login") == []  # no success until the second factor


def test_staff_signs_in_with_password_then_code(client, auth):
    user = staff_with_totp()
    auth.login("clara@example.org", PASSWORD)
    response = auth.totp(user)
    assert response.headers["Location"] == "/konto/"
    assert client.get("/konto/").status_code == 200
    [event] = events("account.login", subject_user_id=user.id)
    assert event.outcome == "success"
    assert details(event)["method"] == "password+totp"


def test_second_factor_page_without_password_step_sends_back_to_sign_in(client):
    response = client.get("/anmelden/zwei-faktor")
    assert response.status_code == 302
    assert response.headers["Location"] == "/anmelden"


def test_a_totp_code_is_refused_the_second_time(app, auth):
    user = staff_with_totp()
    code = pyotp.TOTP(user.totp_secret).now()
    auth.login("clara@example.org", PASSWORD)
    assert auth.post_form("/anmelden/zwei-faktor", {"code": code}).headers["Location"] == "/konto/"
    auth.logout()

    other = app.test_client()
    from tests.builders import AuthActions

    second = AuthActions(other)
    second.login("clara@example.org", PASSWORD)
    response = second.post_form("/anmelden/zwei-faktor", {"code": code})
    assert response.status_code == 200
    assert "nicht gültig oder wurde schon verwendet" in response.get_data(as_text=True)
    assert other.get("/konto/").status_code == 302
    assert [e.outcome for e in events("account.login", subject_user_id=user.id)] == ["success", "failure"]


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
    assert response.headers["Location"] == "/konto/"
    response = client.get("/konto/")
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
