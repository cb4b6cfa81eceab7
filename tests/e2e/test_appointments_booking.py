"""A citizen books an appointment in a real browser, with JavaScript off and on, gets the mail over real
SMTP, confirms by the mailed link, reschedules and cancels; axe-core scans every page on the way."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.appointments.web.builders import make_offers, open_tuesday
from tests.e2e.helpers import LiveServer, assert_accessible, deliver_mail, goto, links_in, sign_in, submit_main_form

pytestmark = pytest.mark.e2e


class Scanner:
    """axe-core needs JavaScript, so pages seen without it are scanned as a copy in a second tab that has it.

    The copy is loaded on our origin, so the same style sheets apply (colour contrast is checked too).
    """

    def __init__(self, page: Page, live: LiveServer) -> None:
        self.page = page
        goto(page, live("/impressum"))

    def __call__(self, seen: Page, label: str) -> None:
        self.page.set_content(seen.content(), wait_until="load")
        assert_accessible(self.page, label)


def _long_day(day) -> str:
    from babel.dates import format_date

    return format_date(day, "EEEE, d. MMMM y", locale="de")


def _open_day(page: Page, day) -> None:
    """Leaf through the calendar like a person: later weeks until the day shows, then its link."""
    link = page.get_by_role("link", name=f"{_long_day(day)}:")
    for _ in range(4):
        if link.count():
            break
        page.get_by_role("link", name="Spätere Wochen").click()
    link.click()


def to_check_page(page: Page, location: str, day, time_label: str, name: str, email: str) -> None:
    """From the service choice with the services ticked: location → day → time → details, to the check page."""
    submit_main_form(page)
    page.get_by_label(location, exact=False).check()
    submit_main_form(page)
    _open_day(page, day)
    page.get_by_label(time_label).check()
    submit_main_form(page)
    page.fill("#name", name)
    page.fill("#email", email)
    submit_main_form(page)


def _book(page: Page, live: LiveServer, location: str, scan, before_sending=None) -> str:
    """services → location → day → time → details → check → booked; returns the reference.

    `before_sending` runs while the check page is open (e.g. someone else takes the seat).
    """
    day = open_tuesday()
    goto(page, live("/termine/"))
    if scan:
        scan(page, "start page")
    page.get_by_role("link", name="Jetzt Termin buchen").click()
    expect(page.locator("h1")).to_have_text("Welche Leistungen brauchen Sie?")
    if scan:
        scan(page, "step 1: services")
        submit_main_form(page)  # nothing chosen
        expect(page.locator("#services-error")).to_contain_text("mindestens eine Leistung")
        scan(page, "step 1 with an error")
    page.get_by_role("checkbox", name="Personalausweis beantragen").check()
    submit_main_form(page)

    expect(page.locator("h1")).to_have_text("Wo möchten Sie hingehen?")
    if scan:
        scan(page, "step 2: location")
    page.get_by_label(location, exact=False).check()
    submit_main_form(page)

    expect(page.locator("h1")).to_have_text("Wann möchten Sie kommen?")
    if scan:
        scan(page, "step 3: calendar")
    _open_day(page, day)
    expect(page.get_by_role("heading", name=f"Freie Uhrzeiten am {_long_day(day)}")).to_be_visible()
    if scan:
        scan(page, "step 3: free times of a day")
    page.get_by_label("09:00 Uhr", exact=False).check()
    submit_main_form(page)

    expect(page.locator("h1")).to_have_text("Ihre Angaben")
    page.fill("#name", "Erika Mustermann")
    page.fill("#email", "erika-at-example")
    submit_main_form(page)
    expect(page.locator("#email-error")).to_be_visible()
    if scan:
        scan(page, "step 4 with an error")
    expect(page.locator("#name")).to_have_value("Erika Mustermann")
    page.fill("#email", "erika@example.org")
    submit_main_form(page)

    expect(page.locator("h1")).to_have_text("Prüfen Sie Ihre Angaben")
    if scan:
        scan(page, "step 5: check answers")
    if before_sending is not None:
        return before_sending(page)
    return _send_and_read_reference(page, scan)


def _send_and_read_reference(page: Page, scan) -> str:
    submit_main_form(page)
    page.wait_for_url("**/termine/buchen/gebucht")
    if scan:
        scan(page, "confirmation page")
    reference = page.locator("strong").filter(has_text="T-").first.inner_text()
    assert reference.startswith("T-")
    return reference


def _reschedule_and_cancel(page: Page, live: LiveServer, smtp_server, scan) -> None:
    page.get_by_role("link", name="Termin verschieben").click()
    expect(page.locator("h1")).to_have_text("Termin verschieben")
    _open_day(page, open_tuesday())
    if scan:
        scan(page, "reschedule page")
    page.get_by_label("11:00 Uhr", exact=False).check()
    submit_main_form(page)
    expect(page.locator("h1")).to_have_text("Prüfen Sie den neuen Termin")
    expect(page.locator("main dl")).to_contain_text("11:00 Uhr")
    if scan:
        scan(page, "reschedule: check the new time")
    page.get_by_role("button", name="Termin verschieben").click()
    expect(page.get_by_text("Ihr Termin ist verschoben")).to_be_visible()
    expect(page.locator("main")).to_contain_text("11:00 Uhr")

    page.get_by_role("link", name="Termin absagen").click()
    expect(page.locator("h1")).to_have_text("Möchten Sie diesen Termin absagen?")
    if scan:
        scan(page, "cancel page")
    page.get_by_role("button", name="Ja, Termin absagen").click()
    expect(page.get_by_text("Ihr Termin ist abgesagt")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Abgesagt")

    deliver_mail(live.app)
    subjects = [str(m["Subject"]) for m in smtp_server.messages_to("erika@example.org")]
    assert any("verschoben" in s for s in subjects), subjects
    assert any("abgesagt" in s for s in subjects), subjects


def test_a_citizen_without_javascript_books_confirms_by_mail_reschedules_and_cancels(
    page_without_js: Page, page: Page, live_server: LiveServer, smtp_server
):
    scan = Scanner(page, live_server)
    page = page_without_js
    with live_server.app.app_context():
        make_offers(confirm_within_minutes=30)
    reference = _book(page, live_server, "Bürgerbüro Mitte", scan)
    expect(page.locator("h1")).to_have_text("Ihr Termin ist vorgemerkt")

    deliver_mail(live_server.app)
    [mail] = smtp_server.messages_to("erika@example.org")
    assert reference in str(mail["Subject"])
    [confirm_link] = links_in(mail, "/termine/bestaetigen/")
    goto(page, confirm_link)
    expect(page.locator("h1")).to_have_text("Termin bestätigen")
    scan(page, "confirm page")
    page.get_by_role("button", name="Termin bestätigen").click()
    page.wait_for_url("**/termine/verwalten/**")
    expect(page.get_by_text("Ihr Termin ist bestätigt")).to_be_visible()
    scan(page, "manage page")

    _reschedule_and_cancel(page, live_server, smtp_server, scan)


def test_a_citizen_with_javascript_solves_the_captcha_books_and_manages_by_the_mailed_link(
    page: Page, live_server: LiveServer, smtp_server
):
    with live_server.app.app_context():
        offers = make_offers(captcha_required=True)
        location_id, service_id = offers.mitte.id, offers.id_card.id

    def someone_else_is_quicker(page: Page) -> str:
        from appointments.services.booking import hold_booking
        from appointments.services.captcha import create_challenge, solve
        from portal.actors import ANONYMOUS
        from tests.appointments.web.builders import berlin

        with live_server.app.test_request_context():
            hold_booking(
                ANONYMOUS,
                location_id=location_id,
                items=[(service_id, 1)],
                start=berlin(open_tuesday(), 9),
                name="Max Schnell",
                email="max@example.org",
                captcha=solve(create_challenge()),
            )
        submit_main_form(page)
        expect(page.locator("h1")).to_have_text("Dieser Termin wurde gerade vergeben")
        assert_accessible(page, "just-taken page")
        page.locator("main input[type=radio]").first.check()
        # The page's proof of work is solved anew before this form goes out.
        return _send_and_read_reference(page, assert_accessible)

    reference = _book(page, live_server, "Bürgerbüro Mitte", assert_accessible, someone_else_is_quicker)
    expect(page.locator("h1")).to_have_text("Ihr Termin ist gebucht")
    # The script solved the proof of work before each send (the service refuses without it).

    deliver_mail(live_server.app)
    [mail] = smtp_server.messages_to("erika@example.org")
    assert reference in str(mail["Subject"])
    [manage_link] = links_in(mail, "/termine/verwalten/")
    goto(page, manage_link)
    expect(page.locator("h1")).to_contain_text(reference)
    expect(page.locator("main")).to_contain_text("Bestätigt")
    _reschedule_and_cancel(page, live_server, smtp_server, assert_accessible)


def test_meine_termine_lists_a_signed_in_citizens_bookings_accessibly(page: Page, live_server: LiveServer):
    from appointments.services.booking import hold_booking
    from portal.actors import ANONYMOUS
    from tests.appointments.web.builders import berlin
    from tests.builders import PASSWORD, make_user

    with live_server.app.test_request_context():
        offers = make_offers()
        user = make_user("anna@example.org", display_name="Anna Beispiel")
        held = hold_booking(
            ANONYMOUS,
            location_id=offers.nord.id,
            items=[(offers.id_card.id, 1)],
            start=berlin(open_tuesday(), 9),
            name="Anna Beispiel",
            email="anna@example.org",
            user_id=user.id,
        )
        reference = held.booking.reference
    sign_in(page, live_server, "anna@example.org", PASSWORD)
    goto(page, live_server("/termine/"))
    page.get_by_role("link", name="Meine Termine ansehen").click()
    expect(page.locator("h1")).to_have_text("Meine Termine")
    expect(page.locator("main .booking-list")).to_contain_text(reference)
    expect(page.locator("main .booking-list")).to_contain_text("Bürgerbüro Nord")
    assert_accessible(page, "Meine Termine")


def test_a_services_hint_reads_as_lines_under_its_name_also_on_a_phone(page: Page, live_server: LiveServer):
    from portal.extensions import db

    with live_server.app.app_context():
        offers = make_offers()
        offers.id_card.description = "Bitte bringen Sie ein biometrisches Foto und Ihren alten Ausweis mit."
        db.session.commit()
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        goto(page, live_server("/termine/buchen"))
        hint = page.locator(".field-check-hint").first
        label = page.get_by_text("Personalausweis beantragen", exact=True)
        hint_box, label_box = hint.bounding_box(), label.bounding_box()
        assert hint_box and label_box
        # Under the label, as wide as the text column: not squeezed into the checkbox's 32 px column.
        assert hint_box["x"] == pytest.approx(label_box["x"], abs=2), width
        assert hint_box["width"] > 200, (width, hint_box)
