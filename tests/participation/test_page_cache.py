"""Signed-out readers get a consultation's pages from a short-lived per-worker cache; nobody else does."""

from __future__ import annotations

import pytest

from portal import page_cache
from tests.participation.builders import count_queries, make_comment, make_consultation, make_proposal
from tests.portal.audit.helpers import sign_in


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PARTICIPATION_PAGE_CACHE_SECONDS": 5}


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: now[0])
    return now


def _get(client, url):
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True), len(statements)


def test_a_new_comment_reaches_signed_out_readers_at_once(client, world, clock):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    url = f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}"
    first, _ = _get(client, url)
    assert "Noch ein Gedanke" not in first
    cached, statements = _get(client, url)
    assert cached == first and statements == 1  # only the consultation, whose cache token keys the stored page

    # The proposal and consultation pages are kept under the consultation's cache token, not for a while
    # (participation.cached_pages), so a change shows on the next request.
    make_comment(world, consultation, proposal_id=proposal.id, body="Noch ein Gedanke")
    fresh, statements = _get(client, url)
    assert "Noch ein Gedanke" in fresh and statements > 1


def test_the_author_and_other_signed_in_people_see_their_change_at_once(client, world, clock):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    url = f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}"
    _get(client, url)  # stored for signed-out readers
    make_comment(world, consultation, proposal_id=proposal.id, body="Noch ein Gedanke")
    sign_in(client, world.ben)
    page, statements = _get(client, url)
    assert "Noch ein Gedanke" in page and statements > 0


def test_the_list_is_stored_per_filter(client, world, clock):
    make_consultation(world, title="Ein Verfahren")
    _get(client, "/beteiligung/")
    _, statements = _get(client, "/beteiligung/?stadtteil=Altstadt")
    assert statements > 0  # another address, another entry
    _, statements = _get(client, "/beteiligung/?stadtteil=Altstadt")
    assert statements == 0
