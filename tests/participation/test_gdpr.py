"""Participation in "Meine Daten" and in deleting an account: the export lists the person's name, proposals,
comments and supports; deletion detaches their contributions, deletes their name and supports, and keeps the
counters right."""

from __future__ import annotations

import sqlalchemy as sa

from participation.models import Comment, Proposal, Pseudonym, Support
from participation.services import consultations, supports
from portal.accounts.services.profile import delete_account
from portal.audit.queries import details_of
from portal.extensions import db
from portal.gdpr import collect, erasure_preview
from tests.builders import PASSWORD
from tests.participation.builders import World, actor, events, fresh, make_comment, make_consultation, make_proposal
from tests.portal.admin.conftest import sign_in


def _anna_takes_part(world: World):
    """Anna proposes and comments in a running consultation and supports Ben's proposals in it and in one that
    has closed since."""
    running = make_consultation(world)
    own = make_proposal(world, running, title="Mehr Bäume am Altmarkt")
    bens = make_proposal(world, running, world.ben, title="Trinkbrunnen")
    make_comment(world, running, proposal_id=bens.id, body="Gute Idee, Ben.")
    supports.support(actor(world.anna), bens.id)
    supports.support(actor(world.ben), own.id)
    closed = make_consultation(world, title="Spielplatz Nord")
    finished = make_proposal(world, closed, world.ben, title="Neue Schaukel")
    supports.support(actor(world.anna), finished.id)
    consultations.close(actor(world.manager), closed.id)
    return running, own, bens, closed, finished


def test_the_export_lists_name_proposals_comments_and_supports(world, client):
    _anna_takes_part(world)

    data = collect(world.anna)["services"]["participation"]

    assert data["pseudonym"]["name"] == "Anna Aktiv"
    assert [p["title"] for p in data["proposals"]] == ["Mehr Bäume am Altmarkt"]
    assert [c["body"] for c in data["comments"]] == ["Gute Idee, Ben."]
    assert [s["title"] for s in data["supports"]] == ["Trinkbrunnen", "Neue Schaukel"]
    sign_in(client, world.anna)
    page = client.get("/konto/daten").get_data(as_text=True)
    assert "Bürgerbeteiligung" in page and "Anna Aktiv" in page and "Gute Idee, Ben." in page
    assert "Ben Beteiligt" not in page


def test_deleting_the_account_detaches_contributions_and_removes_name_and_supports(app, world, client):
    running, own, _bens, _closed, _finished = _anna_takes_part(world)
    assert any("Ehemalige Teilnehmende" in line for line in erasure_preview(world.anna))
    assert any("(„Anna Aktiv“) wird gelöscht" in line for line in erasure_preview(world.anna))

    with app.test_request_context():
        said = delete_account(actor(world.anna), PASSWORD)

    assert any(line.startswith("Beteiligung:") for line in said)
    anna = world.anna.id
    for column in (Proposal.author_id, Comment.author_id, Support.user_id, Pseudonym.user_id):
        assert db.session.scalar(sa.select(sa.func.count()).where(column == anna)) == 0, column
    assert fresh(own).title == "Mehr Bäume am Altmarkt" and fresh(own).support_count == 1
    html = client.get(f"/beteiligung/{running.slug}/vorschlaege/{own.reference}").get_data(as_text=True)
    assert "Ehemalige Teilnehmende" in html and "Anna Aktiv" not in html
    [deleted] = events("account.deleted")
    assert details_of(deleted)["erased"]["participation"] == {
        "proposals": 1,
        "comments": 1,
        "supports": 2,
        "supports_uncounted": 1,
        "survey_responses": 0,
        "flags": 0,
        "appeals": 0,
        "pseudonym": True,
    }


def test_a_deleted_support_leaves_a_running_count_but_not_a_closed_result(app, world):
    running, _own, bens, closed, finished = _anna_takes_part(world)
    before_running, before_closed = fresh(running).support_count, fresh(closed).support_count

    with app.test_request_context():
        delete_account(actor(world.anna), PASSWORD)

    # Still running: as if Anna had withdrawn, so that a new account could not count her twice.
    assert fresh(bens).support_count == 0 and fresh(running).support_count == before_running - 1
    # Closed: the figures are the result.
    assert fresh(finished).support_count == 1 and fresh(closed).support_count == before_closed


def test_other_participants_keep_their_contributions_and_name(app, world):
    _running, _own, bens, _closed, _finished = _anna_takes_part(world)

    with app.test_request_context():
        delete_account(actor(world.anna), PASSWORD)

    assert fresh(bens).author_id == world.ben.id
    assert db.session.scalar(sa.select(Pseudonym.name).where(Pseudonym.user_id == world.ben.id)) == "Ben Beteiligt"
    assert db.session.scalar(sa.select(sa.func.count()).where(Support.user_id == world.ben.id)) == 1
