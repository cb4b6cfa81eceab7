"""The payer reads the payment events about them in Mein Konto → Protokoll in words, not as action codes."""

from __future__ import annotations

# Staff-only events: they carry no payer as subject, so no citizen ever reads them.
STAFF_ONLY = {
    "payment.fee_saved",
    "payment.fee_version_added",
    "payment.statement_imported",
    "payment.bank_line_returned",
    "payment.reconciliation_exported",
}


def test_every_event_a_payer_can_see_has_a_german_description(app):
    import payments.actions  # noqa: F401
    from portal.audit import registry
    from portal.audit.queries import action_text

    seen_by_payers = [a.name for a in registry.all_actions() if a.name.startswith("payment.")]
    assert len(seen_by_payers) > len(STAFF_ONLY)
    with app.test_request_context():
        undescribed = [
            name
            for name in seen_by_payers
            if name not in STAFF_ONLY and str(action_text(name)).startswith("Sonstiger Vorgang")
        ]
    assert undescribed == []


def test_the_payers_protocol_names_a_created_payment_in_words(app, client):
    from portal.actors import Actor
    from tests.builders import make_user
    from tests.payments.builders import make_payment
    from tests.portal.admin.conftest import sign_in

    payer = make_user("zahler@example.org", display_name="Zahler")
    make_payment(Actor.for_user(payer), purpose="Personalausweis", amount_cents=3700)
    sign_in(client, payer)

    html = client.get("/konto/protokoll").get_data(as_text=True)

    assert "Zahlung angelegt (Kassenzeichen vergeben)" in html
    assert "Sonstiger Vorgang (payment.created)" not in html
