"""An applicant asks for a special-use permit in a real browser: start page, fee calculator (errors, then the
39.40 € example), every section of the task list, an upload, check answers, submit, the case page; axe-core scans
every page on the way."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import LiveServer, assert_accessible, goto, sign_in, submit_main_form

pytestmark = pytest.mark.e2e


def _prepare(live: LiveServer) -> None:
    from tests.permits.builders import make_world

    with live.app.app_context():
        make_world()


def test_an_applicant_applies_on_accessible_pages(page: Page, live_server: LiveServer, tmp_path):
    from permits.services.quotes import today_in_berlin
    from tests.builders import PASSWORD
    from tests.portal.files.samples import pdf

    live = live_server
    _prepare(live)
    first = today_in_berlin() + timedelta(days=60)
    last = first + timedelta(days=2)

    goto(page, live("/sondernutzung/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sondernutzungserlaubnis beantragen")
    assert_accessible(page, "start page")

    goto(page, live("/sondernutzung/gebuehren?use_type=container&street=Nirgendwo&area_m2=0&start=&end="))
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page, "fee calculator with errors")
    page.fill("#street", "Markt")
    page.fill("#area_m2", "6")
    page.fill("#start", first.isoformat())
    page.fill("#end", last.isoformat())
    submit_main_form(page)
    expect(page.get_by_role("heading", name="Voraussichtliche Gebühr: 39,40 €")).to_be_visible()
    assert_accessible(page, "fee calculator result")

    sign_in(page, live, "antrag@example.org", PASSWORD)
    goto(page, live("/sondernutzung/"))
    page.get_by_role("button", name="Antrag beginnen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Antrag auf Sondernutzung")
    assert_accessible(page, "task list")

    page.locator("#task-antragsteller").click()
    assert_accessible(page, "applicant")
    submit_main_form(page)
    page.fill("#applicant_name", "")
    submit_main_form(page)
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page, "applicant with errors")
    page.fill("#applicant_name", "Erika Antrag")
    page.fill("#applicant_address", "Markt 1, 01067 Musterstadt")
    page.fill("#responsible_name", "Paul Polier")
    page.fill("#responsible_phone", "0351 123456")
    submit_main_form(page)
    expect(page.locator("#status-antragsteller")).to_have_text("Erledigt")

    page.locator("#task-nutzung").click()
    assert_accessible(page, "use type")
    page.get_by_label("Container oder Mulde", exact=False).check()
    submit_main_form(page)

    page.locator("#task-ort").click()
    page.fill("#street", "Markt")
    page.fill("#house_number", "3")
    assert_accessible(page, "place with the map")
    submit_main_form(page)
    expect(page.locator("#status-ort")).to_have_text("Erledigt")

    page.locator("#task-zeitraum").click()
    page.fill("#start", first.isoformat())
    page.fill("#end", last.isoformat())
    page.fill("#length_m", "3")
    page.fill("#width_m", "2")
    assert_accessible(page, "period")
    submit_main_form(page)

    page.locator("#task-verkehr").click()
    assert_accessible(page, "traffic")
    page.get_by_label("Gehweg oder Radweg").check()
    submit_main_form(page)

    page.locator("#task-unterlagen").click()
    plan = tmp_path / "lageplan.pdf"
    plan.write_bytes(pdf())
    page.select_option("#kind", "site_plan")
    page.set_input_files("#file", str(plan))
    assert_accessible(page, "documents")
    submit_main_form(page)
    expect(page.get_by_text("Die Datei ist hochgeladen.")).to_be_visible()
    page.get_by_role("link", name="Fertig – zurück zur Übersicht").click()

    page.locator("#task-befreiung").click()
    assert_accessible(page, "exemption")
    page.get_by_label("Nein, ich beantrage keine Befreiung").check()
    submit_main_form(page)
    expect(page.get_by_text("39,40 €")).to_be_visible()

    page.get_by_role("link", name="Angaben prüfen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Prüfen Sie Ihre Angaben")
    assert_accessible(page, "check answers")
    page.get_by_role("button", name="Antrag verbindlich absenden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ihr Antrag ist eingegangen")
    assert_accessible(page, "confirmation")
    reference = page.locator("main strong").first.inner_text()
    assert reference.startswith("SNU-")

    page.get_by_role("link", name="Antrag ansehen").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    assert_accessible(page, "case page")
    goto(page, live("/sondernutzung/antraege"))
    expect(page.get_by_role("link", name=reference)).to_be_visible()
    assert_accessible(page, "my applications")
