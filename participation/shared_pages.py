"""Signed-in readers' consultation and proposal pages: rendered once per change and per kind of reader, then
filled in per request with what is the reader's alone.

Readers share a rendering when the page would look the same for them apart from the parts filled in: the same
`variant` (the rules' answers for the page's actions, whether the header shows staff links, whether the comment
form still asks for a pseudonym, on a proposal's page whether they support it; the views compute it, see
`consultation_variant` and `proposal_variant`). Filled in per request: the CSRF token of every form, the CSP
nonce, and on the list the "Von Ihnen unterstützt" badge of the proposals this reader supports (read with the
reader's facts, or for someone supporting very many, one indexed query for the ids on the page).

Never shared, rendered for the reader as before: a reader with something of their own on the page (a comment
in its thread, a pending proposal of theirs on the list, their own proposal), with flashed messages waiting or
acting for an organisation, a consultation in draft and a proposal not published. Stored under the
consultation's cache token like every other rendering (participation.cached_pages), so a change shows at once.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable
from typing import Any

from flask import Response, current_app, g, get_template_attribute, make_response, request, session
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from participation import rules
from participation.cached_pages import seconds_valid
from participation.models import Consultation, ConsultationState, ContributionState
from participation.page_store import page_store
from participation.services import supports, viewers
from participation.services.proposals import ProposalItem
from portal.accounts.services.organisations import ACTING_KEY
from portal.actors import Actor
from portal.security import csp_nonce

MARKING = "participation_shared_marking"  # g: this rendering is to be shared; the list marks its badges
SUPPORTED = "participation_shared_supported"  # g: the reader's supports in the consultation, read with the facts


def _secret_word(purpose: bytes) -> bytes:
    """Stands in for a per-reader value in stored pages: the same in every worker (they share pages) and
    unguessable, so no contribution's text can contain it."""
    return _keyed_word(str(current_app.config["SECRET_KEY"]).encode(), purpose)


@functools.lru_cache(maxsize=16)
def _keyed_word(secret: bytes, purpose: bytes) -> bytes:
    return hmac.new(secret, b"participation " + purpose, hashlib.sha256).hexdigest()[:32].encode()


def _csrf_field() -> str:
    return str(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))


def support_slot(proposal_id: int) -> Markup:
    """Where a proposal card's "Von Ihnen unterstützt" goes, in a rendering to be shared."""
    return Markup(f"support-{_secret_word(b'support').decode()}-{proposal_id};")  # noqa: S704  (digits and hex)


def marking() -> bool:
    """Whether the page being rendered is to be shared (the list then puts slots where badges go)."""
    return bool(g.get(MARKING))


def _personal(actor: Actor, consultation: Consultation) -> bool:
    """Conditions under which no rendering is shared, whatever the page."""
    return (
        actor.user is None
        or actor.token is not None
        or request.method != "GET"
        or consultation.state == ConsultationState.DRAFT
        or bool(session.get("_flashes"))
        or ACTING_KEY in session
    )


def _variant(
    actor: Actor,
    consultation: Consultation,
    proposal_id: int | None,
    actions: Iterable[str],
    facts: viewers.ReaderFacts | None = None,
) -> str | None:
    assert actor.user is not None
    if facts is None:
        facts = viewers.reader_facts(actor.user.id, consultation.id, proposal_id)
    setattr(g, SUPPORTED, facts.supported)
    refused = rules.refusals(actor, consultation, actions, block_ends=facts.block_ends)
    shows_thread = proposal_id is not None or rules.COMMENT in refused
    if (facts.wrote_in_thread and shows_thread) or (proposal_id is None and facts.pending_proposal):
        return None
    answers = ",".join(f"{a}={r.code}:{r}" if r else f"{a}=ok" for a, r in refused.items())
    return f"staff={int(facts.staff)};named={int(facts.named)};{answers}"


def consultation_variant(
    actor: Actor, consultation: Consultation, offered: list[str], facts: viewers.ReaderFacts | None = None
) -> str | None:
    """The kind of reader of a consultation's page (its list of proposals and its own thread), None if personal.
    `offered`: the actions the page asks the rules about; `facts`: the reader's for this page, if read already
    (viewers.consultation_with_facts)."""
    if _personal(actor, consultation):
        return None
    return _variant(actor, consultation, None, offered, facts)


def proposal_variant(
    actor: Actor, consultation: Consultation, item: ProposalItem, facts: viewers.ReaderFacts | None = None
) -> str | None:
    """The kind of reader of a proposal's page, None if personal. `facts`: the reader's for this page, if read
    already (viewers.consultation_with_facts)."""
    if _personal(actor, consultation) or item.own or item.proposal.state != ContributionState.PUBLISHED:
        return None
    variant = _variant(actor, consultation, item.proposal.id, (rules.COMMENT, rules.SUPPORT), facts)
    return None if variant is None else f"supported={int(item.supported)};{variant}"


def page(actor: Actor, consultation: Consultation, reader: Callable[[], str | None], render: Callable[[], Any]) -> Any:
    """The page for a signed-in reader of the variant `reader()` from the store (or rendered, stored and filled
    in); `render()` for a personal one."""
    store = page_store()
    variant = reader() if store is not None else None
    if store is None or variant is None:
        return render()
    key = (
        f"signed:{consultation.id}:{consultation.cache_token}:{get_locale()}:{request.endpoint}:{request.full_path}:"
        f"{hashlib.sha256(variant.encode()).hexdigest()[:32]}"
    )
    body = store.get(key)
    if body is None:
        field = _csrf_field()
        g.pop(field, None)
        setattr(g, field, _secret_word(b"csrf").decode())  # what every form's token field renders
        g.setdefault(MARKING, True)
        try:
            response = make_response(render())
        finally:
            g.pop(field, None)
            g.pop(MARKING, None)
        if response.status_code != 200 or response.mimetype != "text/html":
            return response  # not HTML to fill in (a redirect, an error page): nothing personal in it
        body = response.get_data()
        nonce = g.get("csp_nonce")
        if nonce:
            body = body.replace(nonce.encode(), _secret_word(b"nonce"))
        store.put(key, body, seconds_valid(consultation))
    return Response(_filled(actor, body), mimetype="text/html")


_SUPPORT = re.compile(rb"support-[0-9a-f]{32}-(\d+);")


def _filled(actor: Actor, body: bytes) -> bytes:
    body = body.replace(_secret_word(b"nonce"), csp_nonce().encode())
    body = body.replace(_secret_word(b"csrf"), generate_csrf().encode())
    prefix = b"support-" + _secret_word(b"support") + b"-"
    if prefix not in body:
        return body
    supported = g.get(SUPPORTED)
    if supported is None:
        supported = supports.supports_of(actor, [int(i) for i in _SUPPORT.findall(body)])
    badge = str(get_template_attribute("participation/_parts.html", "supported_badge")()).encode() if supported else b""

    def one(match: re.Match[bytes]) -> bytes:
        return badge if int(match.group(1)) in supported else b""

    return re.sub(re.escape(prefix) + rb"(\d+);", one, body)
