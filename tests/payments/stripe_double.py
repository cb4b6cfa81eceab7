"""A local HTTP double of the part of Stripe's API the portal uses, for the real `stripe` library to talk to.

It answers over real HTTP on 127.0.0.1 (so retries, timeouts, headers and form encoding are the library's
own), keeps Checkout Sessions, PaymentIntents, Refunds and Events in memory, and behaves like Stripe where
our code depends on it:
- `Idempotency-Key`: the same key with the same parameters replays the first answer (`Idempotent-Replayed`);
  with other parameters it is refused (400 idempotency_error), as Stripe does;
- `payment_method_types` on a Checkout Session is refused (removed in API version 2026-09-30.endive;
  `allowed_payment_method_types` replaces it); `expires_at` must lie 30 minutes to 24 hours ahead;
- every request is recorded (method, path, headers, parsed form), and a test can script faults: the next N
  requests to a path answer 500 (before or after the work was done), or are delayed.
A test moves a session on (`pay`, `complete_unpaid`, `async_result`, `expire`) and gets Stripe's event for it.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import stripe
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

API_VERSION = "2026-10-28.endive"
KEY_REUSED = "Keys for idempotent requests can only be used with the same parameters they were first used with."


class _QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        pass  # the recorded requests say more than an access log


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, Any]


@dataclass
class Fault:
    method: str
    path: str  # a prefix: "/v1/checkout/sessions" also matches "/v1/checkout/sessions/cs_..."
    times: int
    status: int = 500
    delay: float = 0.0
    after_processing: bool = False  # do the work, then answer with the fault: the answer is "lost"


class StripeError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, type_: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.code, self.type = status, message, code, type_


def parse_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (`a[b][0][c]=x`) back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _lists(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def _id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


@dataclass
class StripeDouble:
    api_key: str = "sk_test_x"
    clock_offset: float = 0.0  # seconds added to the double's "now" (to let sessions run out)
    refund_status: str = "succeeded"  # what a new refund says first (card refunds succeed at once)
    requests: list[Recorded] = field(default_factory=list)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    payment_intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    faults: list[Fault] = field(default_factory=list)
    _idempotent: dict[str, tuple[str, dict[str, Any], int, bytes]] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # --- running it ---------------------------------------------------------------------------------------

    def start(self) -> StripeDouble:
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def now(self) -> int:
        return int(time.time() + self.clock_offset)

    # --- scripting ----------------------------------------------------------------------------------------

    def fail(self, path: str, times: int = 1, *, status: int = 500, method: str = "POST", after: bool = False) -> None:
        self.faults.append(Fault(method, path, times, status=status, after_processing=after))

    def delay(self, path: str, seconds: float, times: int = 1, *, method: str = "POST") -> None:
        self.faults.append(Fault(method, path, times, status=0, delay=seconds))

    def calls(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def pay(self, session_id: str, method: str = "card") -> dict[str, Any]:
        """The payer paid at once (card, PayPal): `checkout.session.completed` with payment_status paid."""
        with self._lock:
            session = self._confirm(session_id, method, "succeeded")
            session["payment_status"] = "paid"
            return self._event("checkout.session.completed", session)

    def complete_unpaid(self, session_id: str, method: str = "sepa_debit") -> dict[str, Any]:
        """A delayed method (SEPA debit): the session completes unpaid, the money follows days later."""
        with self._lock:
            session = self._confirm(session_id, method, "processing")
            return self._event("checkout.session.completed", session)

    def async_result(self, session_id: str, succeeded: bool) -> dict[str, Any]:
        with self._lock:
            session = self.sessions[session_id]
            intent = self.payment_intents[session["payment_intent"]]
            if succeeded:
                intent["status"], session["payment_status"] = "succeeded", "paid"
                return self._event("checkout.session.async_payment_succeeded", session)
            intent["status"] = "requires_payment_method"
            return self._event("checkout.session.async_payment_failed", session)

    def expire(self, session_id: str) -> dict[str, Any]:
        with self._lock:
            session = self.sessions[session_id]
            if session["status"] != "open":
                raise StripeError(400, "Only open sessions can be expired.", "checkout_session_not_open")
            session["status"], session["url"] = "expired", None
            return self._event("checkout.session.expired", session)

    def settle_refund(self, refund_id: str, status: str, failure_reason: str | None = None) -> dict[str, Any]:
        with self._lock:
            refund = self.refunds[refund_id]
            refund["status"], refund["failure_reason"] = status, failure_reason
            return self._event("refund.failed" if status == "failed" else "refund.updated", refund)

    @staticmethod
    def signed(event: dict[str, Any], secret: str, timestamp: int | None = None) -> tuple[bytes, str]:
        """The webhook delivery Stripe would make: the JSON body and its `Stripe-Signature` header."""
        body = json.dumps(event, indent=2)
        return body.encode(), stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)

    # --- the state behind the endpoints -------------------------------------------------------------------

    def _confirm(self, session_id: str, method: str, intent_status: str) -> dict[str, Any]:
        session = self.sessions[session_id]
        if session["status"] != "open":
            raise StripeError(400, "This Checkout Session is no longer open.")
        intent_id = _id("pi")
        self.payment_intents[intent_id] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": session["amount_total"],
            "amount_received": session["amount_total"] if intent_status == "succeeded" else 0,
            "currency": "eur",
            "status": intent_status,
            "metadata": dict(session["payment_intent_data"].get("metadata", {})),
            "payment_method": {"id": _id("pm"), "object": "payment_method", "type": method},
            "payment_method_types": [method],
            "created": self.now(),
            "livemode": False,
        }
        session.update(status="complete", payment_intent=intent_id, url=None)
        return session

    def _event(self, type_: str, obj: dict[str, Any]) -> dict[str, Any]:
        event = {
            "id": _id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self.now(),
            "data": {"object": self._public(obj)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type_,
        }
        self.events.append(event)
        return json.loads(json.dumps(event))

    @staticmethod
    def _public(obj: dict[str, Any]) -> dict[str, Any]:
        # Stripe never shows payment_intent_data on the session; it went onto the PaymentIntent.
        return json.loads(json.dumps({k: v for k, v in obj.items() if k != "payment_intent_data"}))

    def _intent_view(self, intent_id: str, expand: list[str], prefix: str) -> Any:
        intent = dict(self.payment_intents[intent_id])
        if f"{prefix}payment_method" not in expand:
            intent["payment_method"] = intent["payment_method"]["id"]
        return intent

    def create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        if "payment_method_types" in params:
            raise StripeError(
                400,
                "payment_method_types is no longer supported; use allowed_payment_method_types.",
                "payment_method_types_no_longer_supported",
            )
        if params.get("mode") != "payment" or not params.get("success_url") or not params.get("line_items"):
            raise StripeError(400, "mode=payment, success_url and line_items are required.", "parameter_missing")
        expires_at = int(params.get("expires_at", self.now() + 86400))
        if not self.now() + 1800 - 5 <= expires_at <= self.now() + 86400:
            raise StripeError(400, "expires_at must be 30 minutes to 24 hours from now.", "parameter_invalid_integer")
        item = params["line_items"][0]
        amount = int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1))
        session_id = _id("cs")
        methods = params.get("allowed_payment_method_types") or ["card"]
        session = {
            "id": session_id,
            "object": "checkout.session",
            "amount_total": amount,
            "currency": item["price_data"]["currency"],
            "cancel_url": params.get("cancel_url"),
            "success_url": params["success_url"],
            "client_reference_id": params.get("client_reference_id"),
            "created": self.now(),
            "expires_at": expires_at,
            "locale": params.get("locale"),
            "metadata": params.get("metadata", {}),
            "mode": "payment",
            "payment_intent": None,
            "allowed_payment_method_types": methods,
            "payment_method_types": methods,
            "payment_status": "unpaid",
            "status": "open",
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            "livemode": False,
            "payment_intent_data": params.get("payment_intent_data", {}),
        }
        self.sessions[session_id] = session
        return self._public(session)

    def retrieve_session(self, session_id: str, expand: list[str]) -> dict[str, Any]:
        session = self.sessions.get(session_id)
        if session is None:
            raise StripeError(404, f"No such checkout.session: '{session_id}'", "resource_missing")
        if session["status"] == "open" and session["expires_at"] <= self.now():
            session.update(status="expired", url=None)
            self._event("checkout.session.expired", session)
        view = self._public(session)
        if "payment_intent" in expand and session["payment_intent"]:
            view["payment_intent"] = self._intent_view(session["payment_intent"], expand, "payment_intent.")
        return view

    def create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        intent = self.payment_intents.get(params.get("payment_intent", ""))
        if intent is None or intent["status"] != "succeeded":
            raise StripeError(400, "This PaymentIntent has no successful charge to refund.", "charge_not_refundable")
        refunded = sum(r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent["id"])
        amount = int(params.get("amount", intent["amount"] - refunded))
        if amount <= 0 or refunded + amount > intent["amount"]:
            raise StripeError(400, "Refund amount is greater than the unrefunded amount.", "amount_too_large")
        refund_id = _id("re")
        refund = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "currency": "eur",
            "payment_intent": intent["id"],
            "status": self.refund_status,
            "failure_reason": None,
            "metadata": params.get("metadata", {}),
            "created": self.now(),
        }
        self.refunds[refund_id] = refund
        self._event("refund.created", refund)
        return dict(refund)

    def list_events(self, params: dict[str, Any]) -> dict[str, Any]:
        types = params.get("types") or ([params["type"]] if "type" in params else None)
        since = int(params.get("created", {}).get("gte", 0))
        limit = min(int(params.get("limit", 10)), 100)
        after = params.get("starting_after")
        found = [e for e in reversed(self.events) if e["created"] >= since and (not types or e["type"] in types)]
        if after:
            ids = [e["id"] for e in found]
            found = found[ids.index(after) + 1 :] if after in ids else []
        return {
            "object": "list",
            "url": "/v1/events",
            "has_more": len(found) > limit,
            "data": [json.loads(json.dumps(e)) for e in found[:limit]],
        }

    # --- HTTP ---------------------------------------------------------------------------------------------

    def _route(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        expand = params.get("expand") or []
        parts = path.strip("/").split("/")
        if (method, path) == ("POST", "/v1/checkout/sessions"):
            return 200, self.create_session(params)
        if method == "GET" and parts[:3] == ["v1", "checkout", "sessions"] and len(parts) == 4:
            return 200, self.retrieve_session(parts[3], expand)
        if method == "POST" and parts[:3] == ["v1", "checkout", "sessions"] and parts[4:] == ["expire"]:
            self.expire(parts[3])
            return 200, self._public(self.sessions[parts[3]])
        if method == "GET" and parts[:2] == ["v1", "payment_intents"] and len(parts) == 3:
            if parts[2] not in self.payment_intents:
                raise StripeError(404, f"No such payment_intent: '{parts[2]}'", "resource_missing")
            return 200, self._intent_view(parts[2], expand, "")
        if (method, path) == ("POST", "/v1/refunds"):
            return 200, self.create_refund(params)
        if method == "GET" and parts[:2] == ["v1", "refunds"] and len(parts) == 3 and parts[2] in self.refunds:
            return 200, dict(self.refunds[parts[2]])
        if (method, path) == ("GET", "/v1/events"):
            return 200, self.list_events(params)
        raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.method == method and path.startswith(fault.path):
                    fault.times -= 1
                    return fault
        return None

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data(as_text=True)
        pairs = parse_qsl(request.query_string.decode() if request.method == "GET" else body, keep_blank_values=True)
        params = parse_form(pairs)
        headers = {name.lower(): value for name, value in request.headers.items()}
        with self._lock:
            self.requests.append(Recorded(request.method, request.path, headers, params))
        response = self._answer(request.method, request.path, headers, params)
        return response(environ, start_response)

    def _answer(self, method: str, path: str, headers: dict[str, str], params: dict[str, Any]) -> Response:
        fault = self._take_fault(method, path)
        time.sleep(fault.delay if fault else 0)
        scripted = StripeError(
            fault.status if fault else 500, "An unknown error occurred (scripted).", None, "api_error"
        )
        if fault and fault.status and not fault.after_processing:
            return self._error(scripted)
        if headers.get("authorization") != f"Bearer {self.api_key}":
            return self._error(StripeError(401, "Invalid API Key provided."))
        key = headers.get("idempotency-key") if method == "POST" else None
        with self._lock:
            replay = self._idempotent.get(key) if key else None
            if replay is not None:
                if (replay[0], replay[1]) != (path, params):
                    return self._error(StripeError(400, KEY_REUSED, type_="idempotency_error"))
                response = Response(replay[3], status=replay[2], mimetype="application/json")
                response.headers["Idempotent-Replayed"] = "true"
            else:
                try:
                    status, payload = self._route(method, path, params)
                    response = Response(json.dumps(payload), status=status, mimetype="application/json")
                except StripeError as error:
                    response = self._error(error)
                # Stripe saves a result only once the endpoint ran; a refused parameter (400) is not saved.
                if key and response.status_code < 400:
                    self._idempotent[key] = (path, params, response.status_code, response.get_data())
        if fault and fault.status and fault.after_processing:
            return self._error(scripted)
        response.headers["Request-Id"] = "req_" + secrets.token_hex(8)
        response.headers["Stripe-Version"] = headers.get("stripe-version", API_VERSION)
        if key:
            response.headers["Idempotency-Key"] = key
        return response

    @staticmethod
    def _error(error: StripeError) -> Response:
        body: dict[str, Any] = {"type": error.type, "message": error.message}
        if error.code:
            body["code"] = error.code
        # No Stripe-Should-Retry header: the library then retries a 5xx and a 409, and nothing else.
        return Response(json.dumps({"error": body}), status=error.status, mimetype="application/json")
