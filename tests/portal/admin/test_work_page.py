"""Staff land on their start page with their work after signing in; citizens on Mein Konto."""

from __future__ import annotations

from tests.builders import make_department, make_user


def test_a_clerk_lands_on_the_start_page_with_the_desk_and_a_header_link(client, auth, app):
    department = make_department()
    clara = make_user("clara@example.org", department=department, department_role="clerk", totp=True)
    assert auth.login("clara@example.org").headers["Location"] == "/anmelden/zwei-faktor"
    assert auth.totp(clara).headers["Location"] == "/arbeit/"
    page = client.get("/arbeit/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Meine Arbeit" in html
    assert "/schalter/" in html
    assert "Konto löschen" not in html
    assert 'href="/arbeit/"' in client.get("/termine/").get_data(as_text=True)


def test_a_citizen_lands_on_mein_konto_and_has_no_start_page(client, auth):
    make_user("anna@example.org")
    assert auth.login("anna@example.org").headers["Location"] == "/konto/"
    assert 'href="/arbeit/"' not in client.get("/termine/").get_data(as_text=True)
    assert client.get("/arbeit/").status_code == 403
