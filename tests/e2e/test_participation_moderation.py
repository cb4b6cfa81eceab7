"""Moderation of participation in a real browser: a citizen flags a proposal, a moderator hides it with a reason,
its author reads the reason and appeals, another moderator restores it; axe-core scans every moderation page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import LiveServer, assert_accessible, forget_person, goto, sign_in, submit_main_form

pytestmark = pytest.mark.e2e

QUEUE = "/admin/beteiligung/moderation/"


def _prepare(live: LiveServer) -> dict:
    import pyotp

    from portal.extensions import db
    from portal.timeutil import utcnow
    from tests.participation.builders import make_consultation, make_person, make_proposal, make_world

    with live.app.app_context():
        world = make_world()
        consultation = make_consultation(world)
        proposal = make_proposal(world, consultation, title="Parkplätze statt Bäume", body="Ein scharfer Text.")
        secrets = {}
        for email in ("moritz@stadt.example", "maja@stadt.example"):
            user = make_person(email, roles=("moderator",), display_name=email.split("@")[0].title())
            user.totp_secret, user.totp_enabled_at = pyotp.random_base32(), utcnow()
            secrets[email] = user.totp_secret
        db.session.commit()
        return {"proposal": proposal.id, "secrets": secrets}


def _as(page: Page, live: LiveServer, email: str, secret: str | None = None) -> None:
    from tests.builders import PASSWORD

    forget_person(page)
    sign_in(page, live, email, PASSWORD, secret)


def test_flag_hide_appeal_restore_with_every_page_accessible(page: Page, live_server: LiveServer):
    live = live_server
    data = _prepare(live)
    secrets = data["secrets"]
    proposal = data["proposal"]

    # Ben flags the proposal.
    _as(page, live, "ben@example.org")
    goto(page, live(f"/beteiligung/melden/vorschlag/{proposal}"))
    submit_main_form(page)  # without a reason: errors first
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page, "flag form with errors")
    page.get_by_label("Beleidigung oder Belästigung").check()
    page.fill("#text", "Beleidigt die Anwohner.")
    submit_main_form(page)
    expect(page.locator(".site-flash").first).to_contain_text("Danke für Ihre Meldung")

    # Moritz hides it with a reason.
    _as(page, live, "moritz@stadt.example", secrets["moritz@stadt.example"])
    goto(page, live(QUEUE))
    assert_accessible(page, "queue")
    page.get_by_role("link", name="Vorschlag prüfen").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("prüfen")
    assert_accessible(page, "case page")
    page.select_option("#hide-reason", "abuse")
    page.fill("#hide-text", "Bitte ohne persönliche Angriffe.")
    page.get_by_role("button", name="Beitrag ausblenden").click()
    expect(page.locator(".site-flash").first).to_contain_text("ausgeblendet")
    goto(page, live(f"{QUEUE}statistik"))
    assert_accessible(page, "statistics")
    goto(page, live(f"{QUEUE}sperren"))
    assert_accessible(page, "blocks")

    # Anna reads the reason and appeals.
    _as(page, live, "anna@example.org")
    goto(page, live(f"/beteiligung/moderation/vorschlag/{proposal}"))
    expect(page.locator("main")).to_contain_text("Bitte ohne persönliche Angriffe.")
    assert_accessible(page, "author's notice")
    page.fill("#text", "Ich habe niemanden angegriffen.")
    submit_main_form(page)
    expect(page.locator("main")).to_contain_text("Die Moderation entscheidet über Ihren Einspruch.")

    # Maja grants the appeal: the proposal is shown again.
    _as(page, live, "maja@stadt.example", secrets["maja@stadt.example"])
    goto(page, live(f"{QUEUE}einsprueche"))
    assert_accessible(page, "appeals")
    page.get_by_role("link", name="Einspruch von Anna Aktiv").click()
    assert_accessible(page, "appeal")
    page.get_by_label("Einspruch stattgeben").check()
    page.fill("#note", "Scharf, aber zulässig.")
    submit_main_form(page)
    expect(page.locator(".site-flash").first).to_contain_text("stattgegeben")

    with live.app.app_context():
        from participation.models import Proposal
        from portal.extensions import db

        assert db.session.get(Proposal, proposal).state == "published"
