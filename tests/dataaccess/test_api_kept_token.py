"""A worker keeps a machine client's token for a moment (portal.accounts.tokens.KEPT_FOR) instead of looking it
up on every call. Revoking must still stop it: at once in the revoking worker, at once for reads of another
department's data in every worker (the read confirms its token), and everywhere once the moment has passed."""

from __future__ import annotations

import sqlalchemy as sa

from dataaccess.models import AccessLog
from dataaccess.services import clients
from portal.accounts import tokens
from portal.accounts.models import ApiToken
from portal.actors import SYSTEM
from portal.extensions import db
from portal.timeutil import utcnow
from tests.dataaccess.builders import World, approved_agreement

URL = "/api/v1/dataaccess/access"
DATASETS = "/api/v1/dataaccess/datasets"


def _client(world: World) -> tuple[ApiToken, dict[str, str]]:
    token, raw = tokens.create_token(SYSTEM, "Verkehr-Fachverfahren", ["dataaccess"])
    clients.bind_client(SYSTEM, token.id, world.verkehr.id, None)
    return token, {"Authorization": f"Bearer {raw}"}


def _read(client, world: World, reference: str, headers: dict[str, str], case: str):
    body = {
        "agreement": reference,
        "purpose": world.purpose.code,
        "case_reference": case,
        "subject": world.citizen.id,
        "fields": ["aktenzeichen"],
    }
    return client.post(URL, json=body, headers=headers)


def _revoked_by_another_worker(token: ApiToken) -> None:
    db.session.execute(sa.update(ApiToken).where(ApiToken.id == token.id).values(revoked_at=utcnow()))
    db.session.commit()


def test_a_token_revoked_in_this_worker_is_refused_at_once(client, world, monkeypatch):
    monkeypatch.setattr(tokens, "KEPT_FOR", 3600.0)
    reference = approved_agreement(world).reference
    token, headers = _client(world)
    assert _read(client, world, reference, headers, "VA-1").status_code == 200

    tokens.revoke_token(SYSTEM, token.id)

    assert client.get(DATASETS, headers=headers).status_code == 401
    assert _read(client, world, reference, headers, "VA-2").status_code == 401


def test_a_token_revoked_by_another_worker_reads_no_data_with_the_next_call(client, world, monkeypatch):
    monkeypatch.setattr(tokens, "KEPT_FOR", 3600.0)
    reference = approved_agreement(world).reference
    token, headers = _client(world)
    assert _read(client, world, reference, headers, "VA-1").status_code == 200

    _revoked_by_another_worker(token)
    answer = _read(client, world, reference, headers, "VA-2")

    assert answer.status_code == 401 and answer.content_type == "application/problem+json"
    assert db.session.scalars(sa.select(AccessLog.case_reference)).all() == ["VA-1"]


def test_a_token_revoked_by_another_worker_is_refused_once_the_moment_has_passed(client, world, monkeypatch):
    monkeypatch.setattr(tokens, "KEPT_FOR", 60.0)
    token, headers = _client(world)
    assert client.get(DATASETS, headers=headers).status_code == 200
    _revoked_by_another_worker(token)
    assert client.get(DATASETS, headers=headers).status_code == 200  # still kept (the catalogue holds no data)

    later = tokens._clock() + tokens.KEPT_FOR + 0.1
    monkeypatch.setattr(tokens, "_clock", lambda: later)

    assert client.get(DATASETS, headers=headers).status_code == 401
