"""Consultation pages, threads and the comments API are kept under the consultation's cache token: every change
shows on the next request, nobody sees another reader's personal parts, and Redis being away costs no error."""

from __future__ import annotations

import os
import secrets

import pytest
import redis

from participation import page_store as store_module
from participation.services import answers, comments, moderation, supports
from tests.participation.api_helpers import API
from tests.participation.builders import actor, count_queries, make_comment, make_consultation, make_proposal
from tests.portal.audit.helpers import sign_in

REDIS_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/0")
PREFIX = f"test:participation:{secrets.token_hex(4)}"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PARTICIPATION_CACHE": True, "PARTICIPATION_CACHE_PREFIX": PREFIX}


def _page_url(consultation, proposal):
    return f"/beteiligung/{consultation.slug}/vorschlaege/{proposal.reference}"


def _get(client, url, **kwargs):
    with count_queries() as statements:
        response = client.get(url, **kwargs)
    assert response.status_code in (200, 304), response.status_code
    return response, len(statements)


def _text(client, url):
    return _get(client, url)[0].get_data(as_text=True)


def test_a_stored_page_costs_one_statement_and_a_new_comment_shows_at_once(client, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    url = _page_url(consultation, proposal)
    first, _ = _get(client, url)
    again, statements = _get(client, url)
    assert again.get_data() == first.get_data() and statements == 1  # the consultation (its token), nothing else

    make_comment(world, consultation, user=world.ben, proposal_id=proposal.id, body="Noch ein Gedanke")
    assert "Noch ein Gedanke" in _text(client, url)
    assert "Noch ein Gedanke" in client.get(f"{API}/proposals/{proposal.id}/comments").get_data(as_text=True)


def test_hiding_restoring_and_editing_a_comment_show_at_once_on_page_and_api(client, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    comment = make_comment(world, consultation, user=world.ben, proposal_id=proposal.id, body="Erste Fassung")
    url, api = _page_url(consultation, proposal), f"{API}/proposals/{proposal.id}/comments"
    assert "Erste Fassung" in _text(client, url) and "Erste Fassung" in _text(client, api)

    comments.edit_comment(actor(world.ben), comment.id, body="Zweite Fassung")
    assert "Zweite Fassung" in _text(client, url) and "Zweite Fassung" in _text(client, api)

    moderation.hide(actor(world.manager), "comment", comment.id, reason="spam")
    page, body = _text(client, url), client.get(api).json
    assert "Zweite Fassung" not in page and "von der Moderation ausgeblendet" in page
    assert body["items"][0]["hidden"] is True and body["items"][0]["text"] is None

    moderation.restore(actor(world.manager), "comment", comment.id)
    assert "Zweite Fassung" in _text(client, url) and "Zweite Fassung" in _text(client, api)


def test_a_support_and_an_official_answer_show_at_once(client, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    url = _page_url(consultation, proposal)
    assert "0 Personen unterstützen" in _text(client, url)
    list_page = f"/beteiligung/{consultation.slug}"
    _text(client, list_page)

    supports.support(actor(world.ben), proposal.id)
    assert "1 Person unterstützt" in _text(client, url)
    supports.withdraw(actor(world.ben), proposal.id)
    assert "0 Personen unterstützen" in _text(client, url)

    answers.answer(actor(world.manager), proposal.id, "accepted", "Wir pflanzen im Frühjahr.")
    assert "Wir pflanzen im Frühjahr." in _text(client, url)


def test_signed_in_readers_share_the_thread_but_never_each_others_personal_parts(app, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    make_comment(world, consultation, user=world.anna, proposal_id=proposal.id, body="Annas Beitrag")
    url, api = _page_url(consultation, proposal), f"{API}/proposals/{proposal.id}/comments"
    anna, ben, nobody = app.test_client(), app.test_client(), app.test_client()
    sign_in(anna, world.anna)
    sign_in(ben, world.ben)

    for order in ([ben, anna, nobody], [anna, ben, nobody]):  # whoever renders first, the others see their own
        seen = {c: _text(c, url) for c in order}
        assert "Bearbeiten" in seen[anna] and "Melden" not in seen[anna].split("Annas Beitrag")[1][:600]
        for other in (ben, nobody):
            assert "Annas Beitrag" in seen[other] and "Bearbeiten" not in seen[other]
        assert 'name="csrf_token"' not in seen[nobody]
        owns = {c: [i["own"] for i in c.get(api).json["items"]] for c in order}
        assert owns[anna][0] is True and not any(owns[anna][1:] + owns[ben] + owns[nobody])
        make_comment(world, consultation, user=world.newcomer, proposal_id=proposal.id, body="Neu", pseudonym="Nele")


def test_a_pending_comment_stays_with_its_author(app, world):
    consultation = make_consultation(world, premoderation=True)
    proposal = make_proposal(world, consultation)
    moderation.publish(actor(world.manager), "proposal", proposal.id)
    url = _page_url(consultation, proposal)
    ben, nobody = app.test_client(), app.test_client()
    sign_in(ben, world.ben)
    _text(ben, url), _text(nobody, url)  # both stored before the comment
    make_comment(world, consultation, user=world.anna, proposal_id=proposal.id, body="Wartet auf Freigabe")
    anna = app.test_client()
    sign_in(anna, world.anna)
    assert "Wartet auf Freigabe" in _text(anna, url)
    assert "Wartet auf Freigabe" not in _text(ben, url) and "Wartet auf Freigabe" not in _text(nobody, url)


def test_the_api_answers_304_to_its_etag_until_something_changes_and_pages_send_none(client, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    assert "ETag" not in client.get(_page_url(consultation, proposal)).headers  # a 304 would keep an old CSP nonce
    for url, on in (
        (f"{API}/proposals/{proposal.id}/comments", proposal.id),
        (f"{API}/consultations/{consultation.id}/comments", None),
    ):
        first = client.get(url)
        etag = first.headers["ETag"]
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
        make_comment(world, consultation, user=world.ben, proposal_id=on, body=f"Zu {url}")
        fresh = client.get(url, headers={"If-None-Match": etag})
        assert fresh.status_code == 200 and fresh.headers["ETag"] != etag
        assert f"Zu {url}" in fresh.get_data(as_text=True)


def test_a_bad_cursor_is_refused_and_not_stored(client, world):
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    assert client.get(f"{API}/proposals/{proposal.id}/comments?cursor=kaputt").status_code == 400
    assert client.get(f"{API}/proposals/{proposal.id}/comments?cursor=kaputt").status_code == 400


class TestSharedThroughRedis:
    @pytest.fixture
    def app_config(self, app_config):
        try:
            redis.Redis.from_url(REDIS_URL, socket_timeout=0.5).ping()
        except redis.RedisError:
            pytest.skip("no Redis at REDIS_TEST_URL")
        return {**app_config, "PARTICIPATION_CACHE_URL": REDIS_URL}

    def test_another_worker_gets_the_page_from_redis_and_changes_still_show(self, app, client, world):
        consultation = make_consultation(world)
        proposal = make_proposal(world, consultation)
        url = _page_url(consultation, proposal)
        first = _text(client, url)
        store_module.page_store(app).entries.clear()  # as if another worker asked
        again, statements = _get(client, url)
        assert again.get_data(as_text=True) == first and statements == 1
        assert redis.Redis.from_url(REDIS_URL).keys(f"{PREFIX}:*")

        make_comment(world, consultation, user=world.ben, proposal_id=proposal.id, body="Über Redis")
        store_module.page_store(app).entries.clear()
        assert "Über Redis" in _text(client, url)


class TestRedisAway:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "PARTICIPATION_CACHE_URL": "redis://127.0.0.1:9/0"}  # nothing listens there

    def test_pages_and_api_answer_and_changes_show_without_redis(self, app, client, world):
        consultation = make_consultation(world)
        proposal = make_proposal(world, consultation)
        url, api = _page_url(consultation, proposal), f"{API}/proposals/{proposal.id}/comments"
        assert client.get(url).status_code == 200 and client.get(api).status_code == 200
        make_comment(world, consultation, user=world.ben, proposal_id=proposal.id, body="Ohne Redis")
        store_module.page_store(app).down_until = 0  # try Redis again: still away, still no error
        assert "Ohne Redis" in _text(client, url) and "Ohne Redis" in _text(client, api)
        signed = app.test_client()
        sign_in(signed, world.anna)
        assert "Ohne Redis" in _text(signed, url)
