"""The clerk's side of a permit in real browsers: the clerk (two factors) finds the case, asks for a document; the
applicant reads the note, uploads and hands the case back; the clerk finds it complete, consults the building
authority (the applicant sees the access in their log) and grants it; the
applicant downloads the permit as PDF and pays in the sandbox two months ahead: paid, not yet in force; on its
first day the calendar job puts it in force. axe-core scans every page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import LiveServer, assert_accessible, goto, sign_in

pytestmark = pytest.mark.e2e


def _start_day_comes(live: LiveServer, public_id: str) -> None:
    """The worker's calendar job on the permit's first day (the job itself, as `flask worker` runs it)."""
    import sqlalchemy as sa

    from permits.models import PermitApplication
    from permits.services import lifecycle
    from portal.extensions import db

    with live.app.app_context():
        first = db.session.scalar(
            sa.select(PermitApplication.valid_from).where(PermitApplication.public_id == public_id)
        )
        assert lifecycle.run(first).activated == 1


def _submitted_case(live: LiveServer) -> tuple[str, str, str]:
    """A submitted container on the Markt; (public id, reference, the clerk's TOTP secret)."""
    from permits.services import applications
    from permits.services.quotes import today_in_berlin
    from tests.permits.builders import make_building_agreement, make_draft, make_world

    with live.app.app_context():
        world = make_world()
        make_building_agreement(live.app, world)
        first = today_in_berlin() + timedelta(days=60)
        actor = world.applicant_actor
        application = applications.submit(actor, make_draft(actor, start=first, end=first + timedelta(days=2)))
        assert world.officer.totp_secret
        return application.public_id, application.reference or "", world.officer.totp_secret


def test_clerk_asks_applicant_uploads_permit_granted_paid_and_in_force(
    page: Page, browser: Browser, live_server: LiveServer, tmp_path
):
    from tests.builders import PASSWORD
    from tests.portal.files.samples import pdf

    live = live_server
    public_id, reference, secret = _submitted_case(live)
    clerk_context = browser.new_context(locale="de-DE")
    clerk = clerk_context.new_page()
    clerk.set_default_timeout(15000)
    sign_in(clerk, live, "tiefbau@example.org", PASSWORD, totp_secret=secret)

    goto(clerk, live("/sondernutzung/amt/?state=submitted"))
    expect(clerk.get_by_role("link", name=reference)).to_be_visible()
    assert_accessible(clerk, "case list")
    clerk.get_by_role("link", name=reference).click()
    expect(clerk.get_by_role("heading", level=1)).to_contain_text(reference)
    assert_accessible(clerk, "case page")
    clerk.get_by_role("button", name="Unterlagen nachfordern").click()
    expect(clerk.locator("#error-summary")).to_be_visible()
    assert_accessible(clerk, "request without a note")
    clerk.fill("#note", "Bitte reichen Sie ein Foto der Fläche nach.")
    clerk.get_by_role("button", name="Unterlagen nachfordern").click()
    expect(clerk.get_by_text("Unterlagen angefordert")).to_be_visible()

    sign_in(page, live, "antrag@example.org", PASSWORD)
    goto(page, live(f"/sondernutzung/antraege/{public_id}"))
    expect(page.locator("#nachricht-des-amtes")).to_have_text("Bitte reichen Sie ein Foto der Fläche nach.")
    assert_accessible(page, "applicant's case with the request")
    plan = tmp_path / "lageplan.pdf"
    plan.write_bytes(pdf())
    page.select_option("#kind", "site_plan")
    page.set_input_files("#file", str(plan))
    page.get_by_role("button", name="Datei hochladen").click()
    expect(page.get_by_text("Die Datei ist hochgeladen.")).to_be_visible()
    page.get_by_role("button", name="Unterlagen abschicken").click()
    expect(page.get_by_text("Das Amt prüft Ihren Antrag mit den neuen Unterlagen weiter.")).to_be_visible()

    clerk.reload()
    clerk.get_by_role("button", name="Antrag ist vollständig").click()
    expect(clerk.get_by_role("heading", name="Entscheidung")).to_be_visible()
    assert_accessible(clerk, "case ready for the decision")
    clerk.get_by_role("button", name="Beim Bauordnungsamt abrufen").click()
    expect(clerk.get_by_role("cell", name="BG-2026-0500")).to_be_visible()
    assert_accessible(clerk, "the building authority's record")

    goto(page, live("/konto/datenzugriffe"))
    expect(page.locator("main")).to_contain_text(reference)
    assert_accessible(page, "applicant's access log")
    clerk.reload()
    clerk.fill("#conditions", "Die Zufahrt für Rettungsfahrzeuge ist freizuhalten.")
    clerk.get_by_role("button", name="Erlaubnis erteilen").click()
    expect(clerk.get_by_text("Die Erlaubnis ist erteilt")).to_be_visible()
    assert_accessible(clerk, "granted case with its history")

    goto(page, live(f"/sondernutzung/antraege/{public_id}"))
    expect(page.get_by_role("link", name="Sondernutzungserlaubnis (PDF)")).to_be_visible()
    assert_accessible(page, "applicant's case with the fee notice")
    with page.expect_download() as info:
        page.get_by_role("link", name="Sondernutzungserlaubnis (PDF)").click()
    assert info.value.path().read_bytes().startswith(b"%PDF")
    page.get_by_role("link", name="Jetzt bezahlen").click()
    page.get_by_role("button", name="Jetzt online bezahlen").click()
    page.wait_for_url("**/bezahlen/test-zahlung/sbx_*")
    page.get_by_role("button", name="Zahlung erfolgreich").click()
    goto(page, live(f"/sondernutzung/antraege/{public_id}"))
    # Paid two months ahead: granted and paid, in force only from its first day.
    expect(page.locator("main")).to_contain_text("Erteilt und bezahlt – gilt ab")
    expect(page.get_by_role("button", name="Verlängerung beantragen")).to_have_count(0)
    assert_accessible(page, "applicant's permit paid, not yet in force")
    clerk.reload()
    expect(clerk.get_by_role("cell", name="Gebühr bezahlt")).to_be_visible()
    _start_day_comes(live, public_id)
    goto(page, live(f"/sondernutzung/antraege/{public_id}"))
    expect(page.locator("main")).to_contain_text("Erlaubnis gilt")
    expect(page.get_by_role("button", name="Verlängerung beantragen")).to_be_visible()
    assert_accessible(page, "applicant's permit in force")
    with page.expect_download() as info:
        page.get_by_role("link", name="Gebührenbescheid (PDF)").click()
    assert info.value.path().read_bytes().startswith(b"%PDF")
    clerk_context.close()
