"""The accessibility statement and its feedback form: mailed to the contact, audited, rate-limited."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.mail.models import OutboxMessage
from tests.builders import csrf_from


def _send(client, **fields):
    token = csrf_from(client.get("/barrierefreiheit").get_data(as_text=True))
    return client.post("/barrierefreiheit", data={"csrf_token": token, **fields})


def _outbox() -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage)))


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def test_statement_page_offers_the_feedback_form(client):
    html = client.get("/barrierefreiheit").get_data(as_text=True)
    assert html.count("<h1") == 1
    assert "Erklärung zur Barrierefreiheit" in html
    assert 'name="message"' in html
    assert "barrierefreiheit@stadt.example" in html


def test_feedback_is_mailed_to_the_accessibility_contact_and_audited(client):
    response = _send(
        client,
        message="Der Kontrast der Schaltflächen ist zu schwach.",
        page="/termine/",
        name="Berta Beispiel",
        email="berta@example.org",
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/barrierefreiheit/danke")

    [mail] = _outbox()
    assert mail.recipient == "barrierefreiheit@stadt.example"
    assert mail.subject == "Rückmeldung zur Barrierefreiheit"
    assert "Der Kontrast der Schaltflächen ist zu schwach." in mail.body_text
    assert "berta@example.org" in mail.body_text
    assert "/termine/" in mail.body_text

    [event] = _events("feedback.accessibility")
    assert event.actor_type == "anonymous"
    assert json.loads(event.details) == {"page": "/termine/"}

    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Vielen Dank für Ihre Rückmeldung" in thanks


def test_anonymous_feedback_needs_only_a_message(client):
    response = _send(client, message="Die Karte ist mit der Tastatur nicht bedienbar.")
    assert response.status_code == 302
    [mail] = _outbox()
    assert "(nicht angegeben)" in mail.body_text


class TestConfiguredContact:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "ACCESSIBILITY_CONTACT": "a11y@musterstadt.example"}

    def test_feedback_goes_to_the_configured_contact(self, client):
        assert "a11y@musterstadt.example" in client.get("/barrierefreiheit").get_data(as_text=True)
        _send(client, message="Bitte Leichte Sprache anbieten.")
        [mail] = _outbox()
        assert mail.recipient == "a11y@musterstadt.example"


def test_feedback_without_message_shows_the_error_next_to_the_field_and_keeps_what_was_typed(client):
    response = _send(client, message="  ", name="Berta Beispiel", page="/bezahlen/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="error-summary"' in html
    assert 'href="#message"' in html
    assert 'id="message-error"' in html
    assert "Beschreiben Sie bitte die Barriere" in html
    assert 'aria-invalid="true"' in html
    assert 'value="Berta Beispiel"' in html
    assert 'value="/bezahlen/"' in html
    assert html.startswith("<!doctype html>")
    assert "<title>Fehler:" in html
    assert _outbox() == []
    assert _events("feedback.accessibility") == []


def test_feedback_with_a_malformed_email_address_is_refused(client):
    response = _send(client, message="Kontrast", email="berta-at-example")
    html = response.get_data(as_text=True)
    assert 'id="email-error"' in html
    assert 'value="berta-at-example"' in html
    assert _outbox() == []


def _page_input(html: str) -> str:
    match = re.search(r'<input[^>]*id="page"[^>]*>', html)
    assert match, "no page field"
    return match.group(0)


def test_page_is_prefilled_from_a_local_path_only(client):
    local = client.get("/barrierefreiheit?seite=/termine/buchen").get_data(as_text=True)
    assert 'value="/termine/buchen"' in _page_input(local)
    foreign = client.get("/barrierefreiheit?seite=//evil.example/x").get_data(as_text=True)
    assert "evil.example" not in _page_input(foreign)


def test_footer_links_the_feedback_form_with_the_current_page(client):
    html = client.get("/impressum").get_data(as_text=True)
    assert "/barrierefreiheit?seite=/impressum#rueckmeldung" in html


def test_sixth_feedback_within_an_hour_is_refused(client):
    for n in range(5):
        assert _send(client, message=f"Rückmeldung {n}").status_code == 302
    response = _send(client, message="noch eine")
    assert response.status_code == 429
    assert "Zu viele Anfragen" in response.get_data(as_text=True)
    assert len(_outbox()) == 5


def test_corrected_form_errors_do_not_use_up_the_rate_limit(client):
    for _ in range(6):
        assert _send(client, message="").status_code == 200
    assert _send(client, message="Jetzt richtig").status_code == 302
