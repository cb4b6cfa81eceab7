"""A consultation's pages and comment threads, rendered once per change (participation.page_store) and shared.

- Signed-out readers of the consultation and proposal pages get the whole page from the store, each answer with
  its own CSP nonce (and so without an ETag: see `page`).
- Signed-in readers get their page rendered for them (forms with their CSRF token, their support, their block)
  around the shared rendering of the comment thread. The thread is shared only with a reader who has written
  nothing in it: it then looks the same for everyone (no own pending comment, no "Bearbeiten", no notice about a
  hidden one), apart from the "Antworten" links, which are kept per answer of the rules (may comment or not).
  Authors get their thread rendered for them, as before.
- The comments API keeps its JSON the same way (`own` is false for everyone it is shared with), with an ETag (the
  key's hash) and a 304 to a client that sends it back.

What is kept is decided before anything is rendered, by the consultation's token read first: see cache_token.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Response, current_app, g, make_response, render_template, request, session
from flask_babel import get_locale
from markupsafe import Markup

from participation.models import Consultation
from participation.page_store import MAX_AGE, PageStore, page_store
from participation.services import comments, consultations
from portal.actors import Actor
from portal.page_cache import anonymous_request
from portal.security import csp_nonce
from portal.timeutil import utcnow


def seconds_valid(consultation: Consultation, now: datetime | None = None) -> float:
    """How long a rendering may be kept: until the next phase starts or ends (what is open changes then)."""
    now = now or utcnow()
    ahead = [t for p in consultation.phases for t in (p.starts_at, p.ends_at) if t > now]
    return min([MAX_AGE, *((t - now).total_seconds() for t in ahead)])


def _slot() -> bytes:
    """Stands in for the CSP nonce in stored pages; the same in every worker (they share pages), unguessable."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return b"nonce-" + hmac.new(secret, b"participation page nonce", hashlib.sha256).hexdigest()[:32].encode()


def _etag(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def page(consultation: Consultation, render: Callable[[], Any]) -> Any:
    """The page for a signed-out reader from the store (or rendered and stored); anyone else: `render()`."""
    store = page_store()
    if store is None or not anonymous_request():
        return render()
    key = f"page:{consultation.id}:{consultation.cache_token}:{get_locale()}:{request.endpoint}:{request.full_path}"
    return _kept(store, key, seconds_valid(consultation), render)


def listing(render: Callable[[], Any]) -> Any:
    """The overview of consultations for a signed-out reader, kept under all consultations' tokens (read first)
    until the next phase starts or ends; anyone else: `render()`."""
    store = page_store()
    if store is None or not anonymous_request():
        return render()
    now = utcnow()
    version = consultations.list_version(now)
    seconds = MAX_AGE if version.next_change is None else (version.next_change - now).total_seconds()
    key = f"list:{version.key}:{get_locale()}:{request.endpoint}:{request.full_path}"
    return _kept(store, key, min(MAX_AGE, seconds), render)


def _kept(store: PageStore, key: str, seconds: float, render: Callable[[], Any]) -> Any:
    # No ETag here: a 304 would keep the browser's copy with its old CSP nonce, while the headers the 304 brings
    # (merged into the stored ones) carry a new one, and the page's scripts would be blocked.
    body = store.get(key)
    if body is not None:
        return Response(body.replace(_slot(), csp_nonce().encode()), mimetype="text/html")
    response = make_response(render())
    if (
        response.status_code == 200
        and response.mimetype == "text/html"
        and not session.modified
        and "Set-Cookie" not in response.headers
    ):
        body = response.get_data()
        nonce = g.get("csp_nonce")
        if nonce:
            body = body.replace(nonce.encode(), _slot())
        store.put(key, body, seconds)
    return response


def _revalidated(response: Response, etag: str) -> Response:
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"  # a browser may keep it, but asks each time (a 304 is cheap)
    return response


@dataclass
class SharedThread:
    """A page of a thread as the template needs it when its rendering came from the store."""

    html: Markup
    items: bool  # whether there are comments (the template says "Noch keine Kommentare" otherwise)
    next_cursor: str | None


def thread(
    actor: Actor,
    consultation: Consultation,
    proposal_id: int | None,
    cursor: str | None,
    options: Any,
    fetch: Callable[[], Any],
) -> tuple[Any, Markup | None]:
    """(the page of the thread, its rendered HTML or None): shared when the reader wrote nothing in this thread,
    else fetched and left to the page's template to render for them."""
    store = page_store()
    if store is None or (
        actor.user is not None and comments.has_commented(actor.user.id, consultation.id, proposal_id)
    ):
        return fetch(), None
    key = (
        f"thread:{consultation.id}:{consultation.cache_token}:{get_locale()}:{proposal_id or '-'}:"
        f"{int(options.can_comment)}:{cursor or ''}"
    )
    stored = store.get(key)
    if stored is not None:
        head, _sep, body = stored.partition(b"\n")
        # Our own rendering, stored by us (escaped by Jinja when it was made), read back as the markup it was.
        shared = SharedThread(Markup(body.decode()), bool(body), head.decode() or None)  # noqa: S704
        return shared, shared.html
    found = fetch()
    html = render_template("participation/_thread.html", items=found.items, options=options) if found.items else ""
    store.put(key, (found.next_cursor or "").encode() + b"\n" + html.encode(), seconds_valid(consultation))
    return found, Markup(html) if html else None  # noqa: S704  (render_template's output, escaped by Jinja)


def api_page(
    actor: Actor, consultation: Consultation, scope: str, args: dict[str, Any], proposal_id: int | None,
    build: Callable[[], Response],
) -> Response:  # fmt: skip
    """The comments API's JSON from the store (with an ETag and 304), unless the reader wrote in this thread."""
    store = page_store()
    if store is None or (
        actor.user is not None and comments.has_commented(actor.user.id, consultation.id, proposal_id)
    ):
        return build()
    key = (
        f"api:{consultation.id}:{consultation.cache_token}:{scope}:{args.get('cursor') or ''}:"
        f"{args.get('limit')}:{args.get('replies')}:{current_app.config.get('BASE_URL', '')}"
    )
    etag = _etag(key)
    if etag in request.if_none_match:
        return _revalidated(Response(status=304), etag)
    body = store.get(key)
    if body is None:
        response = build()
        store.put(key, response.get_data(), MAX_AGE)  # the JSON says nothing about what is open
    else:
        response = current_app.response_class(body, mimetype="application/json")
    return _revalidated(response, etag)
