"""The outbox admin page: platform admins only; lists, pages, shows the text and re-queues failed mail."""

from __future__ import annotations

import re

import sqlalchemy as sa

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.mail.models import OutboxMessage
from tests.builders import csrf_from, make_user
from tests.portal.mail.conftest import enqueue_committed, outbox_rows, sign_in


def _admin(app, client):
    admin = make_user("admin@stadt.example", roles=("platform_admin",), totp=True)
    sign_in(app, client, admin)
    return admin


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/admin/postausgang/")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/anmelden")


def test_citizen_is_refused(app, client):
    sign_in(app, client, make_user("buerger@example.org"))

    assert client.get("/admin/postausgang/").status_code == 403


def test_staff_without_the_platform_admin_role_is_refused(app, client):
    sign_in(app, client, make_user("moderation@stadt.example", roles=("moderator",), totp=True))

    assert client.get("/admin/postausgang/").status_code == 403


def test_platform_admin_sees_the_outbox_newest_first(app, client):
    enqueue_committed("erste@example.org", "Erste Nachricht")
    enqueue_committed("zweite@example.org", "Zweite Nachricht")
    _admin(app, client)

    page = client.get("/admin/postausgang/").get_data(as_text=True)

    assert "<h1" in page and "Postausgang" in page
    assert page.index("Zweite Nachricht") < page.index("Erste Nachricht")
    assert "erste@example.org" in page
    assert "Wartet auf Versand" in page
    assert "2 Nachrichten, Seite 1 von 1" in page


def test_one_message_is_counted_in_the_singular(app, client):
    enqueue_committed("erste@example.org", "Erste Nachricht")
    _admin(app, client)

    assert "1 Nachricht, Seite 1 von 1" in client.get("/admin/postausgang/").get_data(as_text=True)


def test_outbox_list_shows_attempts_and_last_error(app, client):
    message_pk = enqueue_committed("anna@example.org", "Hängt fest")
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_pk)
        .values(status="failed", attempts=8, last_error="550 Mailbox unbekannt")
    )
    db.session.commit()
    _admin(app, client)

    page = client.get("/admin/postausgang/").get_data(as_text=True)

    assert "550 Mailbox unbekannt" in page
    assert "Fehlgeschlagen" in page
    assert ">8<" in page


def test_detail_shows_the_text_body_with_the_link_and_is_audited(app, client):
    link = "https://stadtportal.example/bestaetigen/geheim-123"
    message_pk = enqueue_committed(link=link)
    _admin(app, client)

    response = client.get(f"/admin/postausgang/{message_pk}")

    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Hallo Anna, bitte bestätigen Sie: " in body
    assert f'<a href="{link}"' in body  # a developer can follow the link straight from the page
    assert "Bitte bestätigen Sie Ihre Adresse" in body
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "mail.message_viewed")).all()
    assert [event.target_id for event in events] == [str(message_pk)]


def test_detail_shows_markup_in_the_text_body_as_text(app, client):
    message_pk = enqueue_committed(name="<script>alert(1)</script>")
    _admin(app, client)

    body = client.get(f"/admin/postausgang/{message_pk}").get_data(as_text=True)

    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_detail_of_a_missing_message_is_not_found(app, client):
    _admin(app, client)

    assert client.get("/admin/postausgang/999").status_code == 404


def test_outbox_is_paged(app, client):
    for n in range(30):
        enqueue_committed(f"person{n:02d}@example.org", f"Nachricht {n:02d}")
    _admin(app, client)

    first = client.get("/admin/postausgang/").get_data(as_text=True)
    second = client.get("/admin/postausgang/?seite=2").get_data(as_text=True)

    assert len(re.findall(r'href="/admin/postausgang/\d+"', first)) == 25
    assert "Nachricht 29" in first and "Nachricht 05" in first
    assert "Nachricht 04" not in first
    assert "Ältere Nachrichten" in first
    assert all(f"Nachricht {n:02d}" in second for n in range(5))
    assert "Nachricht 05" not in second
    assert "Neuere Nachrichten" in second


def test_outbox_can_be_narrowed_to_one_status(app, client):
    enqueue_committed("a@example.org", "Noch offen")
    failed = enqueue_committed("b@example.org", "Ist gescheitert")
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == failed).values(status="failed"))
    db.session.commit()
    _admin(app, client)

    page = client.get("/admin/postausgang/?status=failed").get_data(as_text=True)

    assert "Ist gescheitert" in page
    assert "Noch offen" not in page


def test_failed_message_can_be_queued_again(app, client):
    message_pk = enqueue_committed()
    db.session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.id == message_pk).values(status="failed", attempts=3)
    )
    db.session.commit()
    _admin(app, client)
    detail = client.get(f"/admin/postausgang/{message_pk}").get_data(as_text=True)

    response = client.post(
        f"/admin/postausgang/{message_pk}/erneut-senden", data={"csrf_token": csrf_from(detail)}, follow_redirects=True
    )

    assert response.status_code == 200
    assert "erneut zugestellt" in response.get_data(as_text=True)
    [row] = outbox_rows()
    assert (row.status, row.attempts) == ("pending", 0)


def test_message_that_has_not_failed_cannot_be_queued_again(app, client):
    message_pk = enqueue_committed()
    _admin(app, client)
    detail = client.get(f"/admin/postausgang/{message_pk}").get_data(as_text=True)
    token = csrf_from(detail)

    response = client.post(f"/admin/postausgang/{message_pk}/erneut-senden", data={"csrf_token": token})

    assert response.status_code == 409


def test_page_warns_when_no_mail_server_is_configured(app, client):
    app.config["MAIL_SERVER"] = ""
    _admin(app, client)

    page = client.get("/admin/postausgang/").get_data(as_text=True)

    assert "Kein Mailserver eingerichtet" in page
