"""The overview of consultations and a single comment's page are kept for signed-out readers under the
consultations' cache tokens (participation.cached_pages), like the other pages: a change shows at once."""

from __future__ import annotations

import secrets
import time
from datetime import timedelta

import pytest

from participation import page_store
from participation.services import moderation
from tests.participation.builders import actor, count_queries, make_comment, make_consultation, make_proposal
from tests.portal.audit.helpers import sign_in


@pytest.fixture
def app_config(app_config):
    return {
        **app_config,
        "PARTICIPATION_CACHE": True,
        "PARTICIPATION_CACHE_PREFIX": f"test:participation:{secrets.token_hex(4)}",
    }


def _get(client, url):
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True), len(statements)


def test_the_overview_is_kept_per_filter_until_a_consultation_changes(client, world):
    consultation = make_consultation(world, title="Ein Verfahren")
    first, _ = _get(client, "/beteiligung/")
    again, statements = _get(client, "/beteiligung/")
    assert again == first and statements == 2  # every consultation's token, and the next phase boundary
    _, statements = _get(client, "/beteiligung/?stadtteil=Altstadt")
    assert statements > 2  # another address, another entry

    make_proposal(world, consultation)
    assert "1 Vorschlag" in _get(client, "/beteiligung/")[0]
    make_consultation(world, title="Ein zweites Verfahren")
    assert "Ein zweites Verfahren" in _get(client, "/beteiligung/")[0]


def test_the_overview_is_kept_no_longer_than_until_the_next_phase_starts(app, client, world):
    make_consultation(world, title="Bald", phases=[("proposals", timedelta(seconds=30), timedelta(days=3))])
    _get(client, "/beteiligung/?liste=demnaechst")
    entries = page_store.page_store(app).entries
    (until, _body), *_ = [entry for key, entry in entries.items() if key.startswith("list:")]
    assert until <= time.time() + 30


def test_a_comment_page_is_kept_until_a_reply_or_a_moderation_changes_it(app, client, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    comment = make_comment(world, consultation, proposal_id=proposal.id, body="Der erste Gedanke")
    url = f"/beteiligung/kommentare/{comment.id}"
    first, _ = _get(client, url)
    again, statements = _get(client, url)
    assert again == first and statements == 1  # the consultation with its token

    make_comment(world, consultation, user=world.ben, parent_id=comment.id, body="Eine Antwort darauf")
    assert "Eine Antwort darauf" in _get(client, url)[0]
    moderation.hide(actor(world.manager), "comment", comment.id, reason="spam")
    assert "Der erste Gedanke" not in _get(client, url)[0]


def test_signed_in_people_get_the_comment_page_rendered_for_them(app, world):
    consultation = make_consultation(world)
    comment = make_comment(world, consultation, body="Annas Gedanke")
    url = f"/beteiligung/kommentare/{comment.id}"
    nobody, anna = app.test_client(), app.test_client()
    sign_in(anna, world.anna)
    assert "Bearbeiten" not in _get(nobody, url)[0]
    assert "Bearbeiten" in _get(anna, url)[0]


def test_a_missing_comment_is_404(client, world):
    assert client.get("/beteiligung/kommentare/987654").status_code == 404
