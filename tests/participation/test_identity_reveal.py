"""The account behind a pseudonym: staff pages show only the name a participant chose, until a moderator (or the
consultation's manager) looks the account up for a moderation case, giving a reason. Each look-up is audited with
the participant as its subject, so it appears in their Protokoll."""

from __future__ import annotations

import json
import re

import pytest
from werkzeug.exceptions import Forbidden

from participation.errors import ParticipationError
from participation.models import Proposal
from participation.services import answers, moderation, moderation_people
from participation.services.moderation_identity import reveal_identity
from portal.extensions import db
from portal.timeutil import utcnow
from tests.builders import csrf_from
from tests.participation.builders import (
    World,
    actor,
    events,
    make_comment,
    make_consultation,
    make_person,
    make_proposal,
)
from tests.portal.audit.helpers import sign_in

QUEUE = "/admin/beteiligung/moderation/"
REAL = ("anna@example.org", "Anna Echtname")  # Anna's account; she takes part as "Anna Aktiv"


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


@pytest.fixture
def moritz(world: World):
    """A moderator, with the second factor staff need; the managers get theirs too."""
    moderator = make_person("moritz@stadt.example", roles=("moderator",), display_name="Moritz Moderator")
    for user in (moderator, world.manager, world.other_manager):
        user.totp_enabled_at = utcnow()
    db.session.commit()
    return moderator


@pytest.fixture
def flagged(world: World) -> Proposal:
    """Anna's proposal, flagged by Ben: an open moderation case."""
    proposal = make_proposal(
        world, make_consultation(world), title="Drohung am Altmarkt", body="Ich weiß, wo du wohnst."
    )
    moderation.flag(actor(world.ben), "proposal", proposal.id, reason="abuse", text="Das ist eine Drohung.")
    return proposal


def _reveal(client, proposal: Proposal, reason: str):
    case_url = f"{QUEUE}vorschlag/{proposal.id}"
    token = csrf_from(client.get(case_url).get_data(as_text=True))
    return client.post(f"{case_url}/person", data={"reveal-csrf_token": token, "reveal-reason": reason})


def test_a_moderator_sees_the_account_only_in_the_answer_to_a_look_up_with_a_reason(client, world, moritz, flagged):
    case_url = f"{QUEUE}vorschlag/{flagged.id}"
    sign_in(client, moritz)
    before = _text(client.get(case_url))
    assert "Anna Aktiv" in before and "Konto nachsehen" in before
    assert not any(real in before for real in REAL)

    refused = _reveal(client, flagged, "")
    assert refused.status_code == 422
    assert "Geben Sie einen Grund an." in _text(refused) and 'id="reveal-reason-error"' in _text(refused)
    assert not any(real in _text(refused) for real in REAL)
    assert events("participation.identity_revealed") == []

    revealed = _reveal(client, flagged, "Drohung: Anzeige bei der Polizei")
    assert revealed.status_code == 200 and revealed.headers["Cache-Control"] == "no-store"
    page = _text(revealed)
    assert all(real in page for real in REAL) and "Die Abfrage ist protokolliert" in page

    [event] = events("participation.identity_revealed")
    details = json.loads(event.details)
    assert event.subject_user_id == world.anna.id and event.actor_id == str(moritz.id)
    assert details["contribution"] == flagged.reference and details["reason"] == "Drohung: Anzeige bei der Polizei"
    assert details["case"] == int(event.target_id) and details["department_id"] == world.planning.id

    again = _text(client.get(case_url))  # the next visit shows the pseudonym again
    assert "Anna Aktiv" in again and not any(real in again for real in REAL)


def test_the_participant_reads_the_look_up_and_its_reason_in_their_protokoll(client, world, moritz, flagged):
    sign_in(client, moritz)
    _reveal(client, flagged, "Drohung: Anzeige bei der Polizei")

    sign_in(client, world.anna)
    log = _text(client.get("/konto/protokoll"))
    assert "Die Moderation hat für einen Moderationsfall nachgesehen, wer hinter Ihrem Namen" in log
    assert "Drohung: Anzeige bei der Polizei" in log and "Stadtplanungsamt" in log
    sign_in(client, world.ben)
    assert "nachgesehen, wer hinter Ihrem Namen" not in _text(client.get("/konto/protokoll"))


def test_the_consultations_manager_may_look_up_others_may_not(client, world, moritz, flagged):
    found = reveal_identity(actor(world.manager), "proposal", flagged.id, reason="Anzeige vorbereiten")
    assert (found.email, found.display_name, found.pseudonym) == ("anna@example.org", "Anna Echtname", "Anna Aktiv")

    with pytest.raises(Forbidden):
        reveal_identity(actor(world.other_manager), "proposal", flagged.id, reason="Neugier")
    with pytest.raises(Forbidden):
        reveal_identity(actor(world.ben), "proposal", flagged.id, reason="Neugier")
    sign_in(client, world.other_manager)
    refused = client.post(
        f"{QUEUE}vorschlag/{flagged.id}/person",
        data={"reveal-csrf_token": csrf_from(client.get(QUEUE).get_data(as_text=True)), "reveal-reason": "Neugier"},
    )
    assert refused.status_code == 403 and not any(real in _text(refused) for real in REAL)
    sign_in(client, world.ben)
    token = csrf_from(client.get(f"/beteiligung/melden/vorschlag/{flagged.id}").get_data(as_text=True))
    refused = client.post(
        f"{QUEUE}vorschlag/{flagged.id}/person", data={"reveal-csrf_token": token, "reveal-reason": "Neugier"}
    )
    assert refused.status_code == 403
    assert len(events("participation.identity_revealed")) == 1


def test_no_look_up_without_a_case_an_account_or_for_ones_own_contribution(client, world, moritz):
    consultation = make_consultation(world)
    quiet = make_proposal(world, consultation, title="Niemand hat gemeldet")
    with pytest.raises(ParticipationError) as no_case:
        reveal_identity(actor(moritz), "proposal", quiet.id, reason="Nur so")
    assert (no_case.value.code, no_case.value.status) == ("no_case", 409)
    sign_in(client, moritz)
    page = _text(client.get(f"{QUEUE}vorschlag/{quiet.id}"))
    assert "lässt sich nur für einen Moderationsfall nachsehen" in page and "Konto nachsehen" not in page

    detached = make_comment(world, consultation, body="Später vom Konto gelöst")
    moderation.flag(actor(world.ben), "comment", detached.id, reason="spam")
    detached.author_id = None
    db.session.commit()
    with pytest.raises(ParticipationError) as no_account:
        reveal_identity(actor(moritz), "comment", detached.id, reason="Spam-Welle")

    own = make_proposal(world, consultation, world.manager, title="Vom Amt selbst", pseudonym="Amt Planung")
    moderation.flag(actor(world.ben), "proposal", own.id, reason="other", text="Werbung des Amts")
    with pytest.raises(ParticipationError) as own_one:
        reveal_identity(actor(world.manager), "proposal", own.id, reason="Wer war das?")
    assert no_account.value.code == "no_account" and own_one.value.code == "own_contribution"
    assert events("participation.identity_revealed") == []


def test_staff_pages_show_the_pseudonym_never_the_account(client, world, moritz, flagged):
    comment = make_comment(world, flagged.consultation, body="Noch ein Kommentar von Anna", proposal_id=flagged.id)
    moderation.hide(actor(moritz), "comment", comment.id, reason="spam")
    appeal = moderation_people.appeal(actor(world.anna), "comment", comment.id, text="Das war kein Spam.")
    answers.answer(actor(world.manager), flagged.id, "rejected", "Das setzen wir nicht um.")
    consultation_id = flagged.consultation_id
    pages = {
        moritz: [
            QUEUE,
            f"{QUEUE}vorschlag/{flagged.id}",
            f"{QUEUE}kommentar/{comment.id}",
            f"{QUEUE}einsprueche",
            f"{QUEUE}einsprueche/{appeal.id}",
            f"{QUEUE}statistik",
        ],
        world.manager: [
            QUEUE,
            f"/admin/beteiligung/{consultation_id}",
            f"/admin/beteiligung/{consultation_id}/antworten?zeigen=beantwortet",
            f"/admin/beteiligung/{consultation_id}/antworten/{flagged.reference}",
        ],
    }
    for person, urls in pages.items():
        sign_in(client, person)
        for url in urls:
            response = client.get(url)
            page = _text(response)
            assert response.status_code == 200, url
            assert not any(real in page for real in REAL), url
            assert "Ben Echtname" not in page and "ben@example.org" not in page, url
    assert "Anna Aktiv" in _text(client.get(f"/admin/beteiligung/{consultation_id}/antworten?zeigen=beantwortet"))
