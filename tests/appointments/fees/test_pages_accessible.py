"""axe-core finds no violations on the pages that show fees: the check page (with and without an error), the
booked page with its pay button, the manage and cancellation pages, the admin's fee pages, the desk's day list.

Runs in headless Chromium with the browser fixtures of tests/e2e, marked e2e like them.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.appointments.fees.builders import make_fee_offers
from tests.appointments.web.builders import open_tuesday
from tests.builders import PASSWORD, make_user
from tests.e2e.helpers import LiveServer, assert_accessible, goto, sign_in, submit_main_form

pytestmark = pytest.mark.e2e


def test_fee_pages_are_accessible(page: Page, live_server: LiveServer):
    day = open_tuesday()
    with live_server.app.app_context():
        offers = make_fee_offers()
        admin = make_user(
            "amtsadmin@stadt.example",
            department=offers.mitte.department,
            department_role="department_admin",
            totp=True,
        )
        secret, location_id, service_id = admin.totp_secret, offers.mitte.id, offers.passport.id

    goto(page, live_server("/termine/buchen"))
    page.get_by_role("checkbox", name="Personalausweis beantragen").check()
    page.get_by_role("checkbox", name="Reisepass beantragen").check()
    submit_main_form(page)
    page.get_by_label("Bürgerbüro Mitte", exact=False).check()
    submit_main_form(page)
    goto(page, live_server(f"/termine/buchen/termin?ab={day.isoformat()}&tag={day.isoformat()}"))
    page.get_by_label("09:00 Uhr", exact=False).check()
    submit_main_form(page)
    page.fill("#name", "Erika Mustermann")
    page.fill("#email", "erika@example.org")
    submit_main_form(page)

    expect(page.locator("main")).to_contain_text("Gebühr: 107,00 €")
    assert_accessible(page, "check page with a fee")
    page.evaluate("document.querySelectorAll('input[name=payment]').forEach(radio => radio.checked = false)")
    submit_main_form(page)
    expect(page.locator("#payment-error")).to_contain_text("wie Sie die Gebühr bezahlen möchten")
    assert_accessible(page, "check page without a choice how to pay")
    page.get_by_label("Jetzt online bezahlen").check()
    submit_main_form(page)

    expect(page.get_by_role("link", name="Jetzt online bezahlen")).to_be_visible()
    assert_accessible(page, "booked, with the pay button")
    page.get_by_role("link", name="Termin ansehen, verschieben oder absagen").click()
    expect(page.locator("main")).to_contain_text("online, noch nicht bezahlt")
    assert_accessible(page, "manage page with the fee")
    page.get_by_role("link", name="Termin absagen").click()
    expect(page.locator("main")).to_contain_text("Die offene Zahlung wird storniert")
    assert_accessible(page, "cancellation page saying what happens to the money")

    sign_in(page, live_server, "amtsadmin@stadt.example", PASSWORD, totp_secret=secret)
    for path in ("/admin/termine/gebuehren", f"/admin/termine/gebuehren/{service_id}"):
        assert goto(page, live_server(path)).status == 200, path
        assert_accessible(page, path)
    page.fill("#refund_hours", "")
    submit_main_form(page)
    expect(page.locator("#refund_hours-error")).to_be_visible()
    assert_accessible(page, "fee form with an error")

    goto(page, live_server(f"/schalter/{location_id}/{day.isoformat()}"))
    expect(page.locator("main")).to_contain_text("offen: 107,00 € (online noch nicht bezahlt)")
    assert_accessible(page, "desk day list with the fee column")
