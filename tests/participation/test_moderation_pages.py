"""The moderation pages: a citizen flags, a moderator works the queue and hides with a reason, the author reads it
and appeals once, another moderator restores; blocks, figures, and who may see which page."""

from __future__ import annotations

import re

import pytest
from flask import render_template_string

from participation.services import moderation, moderation_people
from portal.extensions import db
from portal.timeutil import utcnow
from tests.builders import csrf_from
from tests.participation.builders import (
    World,
    actor,
    fresh,
    make_comment,
    make_consultation,
    make_person,
    make_proposal,
)
from tests.portal.audit.helpers import sign_in

QUEUE = "/admin/beteiligung/moderation/"


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _post(client, url: str, data: dict, page: str, prefix: str | None = None):
    token = csrf_from(client.get(page).get_data(as_text=True))
    name = f"{prefix}-csrf_token" if prefix else "csrf_token"
    return client.post(url, data={name: token, **data})


@pytest.fixture
def mods(world: World):
    """Two moderators with their second factor set up, and the planning office's manager with theirs."""
    moritz = make_person("moritz@stadt.example", roles=("moderator",), display_name="Moritz Moderator")
    maja = make_person("maja@stadt.example", roles=("moderator",), display_name="Maja Moderatorin")
    for user in (moritz, maja, world.manager, world.other_manager):
        user.totp_enabled_at = utcnow()
    db.session.commit()
    return moritz, maja


def test_flag_hide_appeal_and_restore_through_the_pages(client, world, mods):
    moritz, maja = mods
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation, title="Parkplätze statt Bäume", body="Unsachlicher Text.")
    flag_url = f"/beteiligung/melden/vorschlag/{proposal.id}"

    # Ben flags Anna's proposal.
    sign_in(client, world.ben)
    page = _text(client.get(flag_url))
    assert "Unsachlicher Text." in page and "Anna Aktiv" in page
    flagged = _post(client, flag_url, {"reason": "abuse", "text": "Beleidigt Anwohner."}, flag_url)
    assert flagged.status_code == 303
    assert client.get(flag_url).status_code == 200
    again = _post(client, flag_url, {"reason": "spam"}, flag_url)
    assert again.status_code == 409 and "Sie haben diesen Beitrag schon gemeldet." in _text(again)

    # Moritz sees it in the queue, opens the case and hides it with a reason.
    sign_in(client, moritz)
    queue = _text(client.get(QUEUE))
    assert "1 offener Fall" in queue and "Parkplätze statt Bäume" in queue and "Beleidigung oder Belästigung" in queue
    case_url = f"{QUEUE}vorschlag/{proposal.id}"
    case = _text(client.get(case_url))
    assert "Beleidigt Anwohner." in case and "Beitrag ausblenden" in case
    hidden = _post(
        client,
        f"{case_url}/ausblenden",
        {"hide-reason": "abuse", "hide-text": "Bitte ohne persönliche Angriffe."},
        case_url,
        "hide",
    )
    assert hidden.status_code == 303 and hidden.headers["Location"].endswith(QUEUE)
    assert fresh(proposal).state == "hidden"
    assert "Keine offenen Fälle" in _text(client.get(QUEUE))

    # Anna reads why and appeals, once.
    sign_in(client, world.anna)
    notice_url = f"/beteiligung/moderation/vorschlag/{proposal.id}"
    notice = _text(client.get(notice_url))
    assert "Bitte ohne persönliche Angriffe." in notice and "Beleidigung oder Belästigung" in notice
    assert "Einspruch einlegen" in notice
    appealed = _post(client, notice_url, {"text": "Ich habe niemanden angegriffen."}, notice_url)
    assert appealed.status_code == 303
    after = _text(client.get(notice_url))
    assert "Die Moderation entscheidet über Ihren Einspruch." in after
    assert 'name="text"' not in after  # no second appeal form
    second = _post(client, notice_url, {"text": "Noch einmal."}, notice_url)
    assert second.status_code == 409
    assert "schon Einspruch eingelegt" in _text(second)

    # Moritz may not decide the appeal against his own decision; Maja restores.
    appeal_id = moderation_people.appeals(actor(maja))[0].appeal.id
    appeal_url = f"{QUEUE}einsprueche/{appeal_id}"
    sign_in(client, moritz)
    assert "eine andere Person" in _text(client.get(appeal_url))
    sign_in(client, maja)
    appeals = _text(client.get(f"{QUEUE}einsprueche"))
    assert "Einspruch von Anna Aktiv" in appeals and "Parkplätze statt Bäume" in appeals
    assert "Ich habe niemanden angegriffen." in _text(client.get(appeal_url))
    decided = _post(client, appeal_url, {"outcome": "granted", "note": "Scharf, aber zulässig."}, appeal_url)
    assert decided.status_code == 303
    assert fresh(proposal).state == "published"
    assert fresh(consultation).proposal_count == 1

    sign_in(client, world.anna)
    final = _text(client.get(notice_url))
    assert "Stattgegeben" in final and "Scharf, aber zulässig." in final


def test_the_forms_keep_errors_next_to_their_fields(client, world, mods):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    flag_url = f"/beteiligung/melden/vorschlag/{proposal.id}"
    sign_in(client, world.ben)

    missing = _post(client, flag_url, {"text": "Ohne Grund"}, flag_url)
    other = _post(client, flag_url, {"reason": "other", "text": ""}, flag_url)

    assert missing.status_code == 422 and "Wählen Sie einen Grund." in _text(missing)
    assert "Ohne Grund" in _text(missing)  # what was typed stays
    assert other.status_code == 422 and 'id="text-error"' in _text(other)

    sign_in(client, mods[0])
    case_url = f"/admin/beteiligung/moderation/vorschlag/{proposal.id}"
    no_reason = _post(client, f"{case_url}/ausblenden", {"hide-reason": "", "hide-text": "x"}, case_url, "hide")
    assert no_reason.status_code == 422
    page = _text(no_reason)
    assert "Bitte korrigieren Sie Ihre Eingaben" in page and 'id="hide-reason-error"' in page
    assert fresh(proposal).state == "published"


def test_pending_contributions_are_published_from_the_queue(client, world, mods):
    consultation = make_consultation(world, premoderation=True)
    proposal = make_proposal(world, consultation, title="Wartet auf Freigabe")
    sign_in(client, world.manager)

    queue = _text(client.get(QUEUE))
    assert "Vorabprüfung" in queue and "Wartet auf Freigabe" in queue
    case_url = f"{QUEUE}vorschlag/{proposal.id}"
    assert "Beitrag freigeben" in _text(client.get(case_url))
    published = _post(client, f"{case_url}/freigeben", {}, case_url, "publish")

    assert published.status_code == 303
    assert fresh(proposal).state == "published" and fresh(consultation).proposal_count == 1


def test_a_moderator_blocks_the_author_and_their_next_contribution_is_refused_with_the_reason(client, world, mods):
    consultation = make_consultation(world)
    comment = make_comment(world, consultation, world.anna)
    sign_in(client, mods[0])
    case_url = f"{QUEUE}kommentar/{comment.id}"

    blocked = _post(
        client, f"{case_url}/sperren", {"block-days": "7", "block-reason": "Wiederholt beleidigend."}, case_url, "block"
    )
    assert blocked.status_code == 303
    blocks = _text(client.get(f"{QUEUE}sperren"))
    assert "Anna Aktiv" in blocks and "Wiederholt beleidigend." in blocks
    assert "anna@example.org" not in blocks and "Anna Echtname" not in blocks

    sign_in(client, world.anna)
    url = f"/beteiligung/{consultation.slug}/vorschlag"
    refused = _post(client, url, {"title": "Neuer Vorschlag", "body": "Text"}, url)
    assert "für die Mitwirkung an Beteiligungsverfahren gesperrt" in _text(refused)

    sign_in(client, mods[1])
    block_id = moderation_people.blocks(actor(mods[1]))[0].block.id
    lifted = _post(client, f"{QUEUE}sperren/{block_id}/aufheben", {}, f"{QUEUE}sperren")
    assert lifted.status_code == 303
    assert "aufgehoben am" in _text(client.get(f"{QUEUE}sperren"))


def test_who_may_see_which_moderation_page(client, world, mods):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    moderation.flag(actor(world.ben), "proposal", proposal.id, reason="spam")
    case_url = f"{QUEUE}vorschlag/{proposal.id}"

    sign_in(client, world.ben)
    assert client.get(QUEUE).status_code == 403
    assert client.get(case_url).status_code == 403
    assert client.get(f"/beteiligung/moderation/vorschlag/{proposal.id}").status_code == 404  # only for Anna

    sign_in(client, world.other_manager)
    assert "Keine offenen Fälle" in _text(client.get(QUEUE))
    assert client.get(case_url).status_code == 403
    hide = _post(client, f"{case_url}/ausblenden", {"hide-reason": "spam"}, QUEUE, "hide")
    assert hide.status_code == 403
    assert client.get(f"{QUEUE}sperren").status_code == 403  # blocks are for moderators
    assert fresh(proposal).state == "published"

    sign_in(client, world.manager)
    assert client.get(case_url).status_code == 200
    assert "/admin/beteiligung/moderation/" in _text(client.get("/admin/"))

    client.post("/abmelden", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    signed_out = client.get(f"/beteiligung/melden/vorschlag/{proposal.id}")
    assert signed_out.status_code == 302 and "/anmelden" in signed_out.headers["Location"]


def test_the_statistics_page_shows_each_consultations_figures(client, world, mods):
    consultation = make_consultation(world, title="Altmarkt mit Zahlen")
    proposal = make_proposal(world, consultation)
    moderation.flag(actor(world.ben), "proposal", proposal.id, reason="spam")
    moderation.hide(actor(mods[0]), "proposal", proposal.id, reason="spam")
    sign_in(client, mods[1])

    page = _text(client.get(f"{QUEUE}statistik"))

    assert "Altmarkt mit Zahlen" in page
    row = page[page.index("Altmarkt mit Zahlen") :]
    cells = re.findall(r'<td class="kern-table__cell">([^<]*)</td>', row)
    assert cells[:2] == ["1 (0)", "1"]  # one case, none open; one flag
    assert cells[5] == "1"  # hidden now


def test_the_flag_link_macro_for_the_citizen_pages(app, world):
    with app.test_request_context("/"):
        html = render_template_string(
            '{% from "participation/moderation/_flag_link.html" import flag_link, notice_link %}'
            '{{ flag_link("comment", 7, "Anna Aktiv", "/beteiligung/x") }} {{ notice_link("proposal", 3) }}'
        )
    assert 'href="/beteiligung/melden/kommentar/7?next=/beteiligung/x"' in html
    assert "den Beitrag von Anna Aktiv an die Moderation melden" in html
    assert 'href="/beteiligung/moderation/vorschlag/3"' in html
