"""How the SMTP server's answers steer retries: 5xx gives up at once, 4xx tries again later."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller

from portal.mail.delivery import deliver_pending
from tests.portal.mail.conftest import enqueue_committed, outbox_rows
from tests.smtp import CollectingSMTPServer, _Collector


class _Refusing(_Collector):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("unbekannt@"):
            return "550 5.1.1 Mailbox unbekannt"
        if address.startswith("voll@"):
            return "452 4.2.2 Postfach voll"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def refusing_server(app):
    server = CollectingSMTPServer()
    server.handler = _Refusing()
    server.controller = Controller(server.handler, hostname="127.0.0.1", port=server.port)
    server.start()
    app.config["MAIL_PORT"] = server.port
    yield server
    server.stop()


def test_permanent_refusal_fails_at_once_and_the_batch_goes_on(refusing_server):
    enqueue_committed("unbekannt@example.org")
    enqueue_committed("anna@example.org")

    report = deliver_pending()

    assert (report.sent, report.retried, report.failed) == (1, 0, 1)
    refused, delivered = outbox_rows()
    assert (refused.status, refused.attempts) == ("failed", 1)
    assert "550" in refused.last_error and "Mailbox unbekannt" in refused.last_error
    assert delivered.status == "sent"
    assert [m["To"] for m in refusing_server.messages] == ["anna@example.org"]


def test_temporary_refusal_is_retried_later(refusing_server):
    enqueue_committed("voll@example.org")

    report = deliver_pending()

    assert report.retried == 1
    [row] = outbox_rows()
    assert (row.status, row.attempts) == ("pending", 1)
    assert "452" in row.last_error
