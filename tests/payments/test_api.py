"""The payments API with a real bearer token: create and read payment orders, request refunds, read the day."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from payments.models import Payment, Refund
from portal.accounts.tokens import create_token
from portal.actors import SYSTEM
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.references import is_valid_kassenzeichen
from portal.timeutil import BERLIN
from tests.payments.builders import make_fee, make_paid_payment, make_payment

URL = "/api/v1/payments"
VALID = {"amount_cents": 3700, "purpose": "Personalausweis", "case_reference": "T-2026-000001"}


@pytest.fixture
def token(app) -> str:
    _, raw = create_token(SYSTEM, "Kasse", ["payments"])
    return raw


@pytest.fixture
def api(client, token):
    """POST/GET with the token, as a specialist procedure calls us."""

    class Api:
        headers = {"Authorization": f"Bearer {token}"}

        def post(self, path: str, body=None, **kwargs):
            if body is not None and not isinstance(body, (bytes, str)):
                kwargs["json"] = body
            elif body is not None:
                kwargs["data"] = body
                kwargs.setdefault("content_type", "application/json")
            return client.post(path, headers=self.headers, **kwargs)

        def get(self, path: str, **kwargs):
            return client.get(path, headers=self.headers, **kwargs)

    return Api()


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count(model.id)))


def test_a_client_creates_a_payment_and_is_told_where_the_payer_pays(app, api):
    response = api.post(URL, {**VALID, "return_url": "/termine/T-2026-000001"})
    assert response.status_code == 201, response.json
    body = response.json
    assert set(body) >= {"id", "kassenzeichen", "status", "amount_cents", "next_url"}
    assert (body["status"], body["amount_cents"], body["service"]) == ("created", 3700, "api")
    assert is_valid_kassenzeichen(body["kassenzeichen"])
    assert body["next_url"] == app.config["BASE_URL"].rstrip("/") + f"/bezahlen/{body['id']}"
    assert api.get(f"{URL}/{body['id']}").json == body
    created = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "payment.created"))
    assert created.actor_type == "client"


def test_a_fee_code_with_a_quantity_fixes_the_amount(app, api):
    make_fee("SNU-GERUEST", None, rate_cents=150, unit="m² und Tag", minimum_cents=2500)
    response = api.post(
        URL,
        {
            "fee_code": "SNU-GERUEST",
            "quantity": 40,
            "purpose": "Gerüst",
            "case_reference": "S-1",
            "service": "fachverfahren-snu",
        },
    )
    assert response.status_code == 201
    assert (response.json["amount_cents"], response.json["fee_code"]) == (6000, "SNU-GERUEST")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({**VALID, "amount_cents": None, "fee_code": "GIBTESNICHT"}, "unknown_fee"),
        ({**VALID, "amount_cents": 0}, "amount_not_positive"),
        ({**VALID, "amount_cents": -100}, "amount_not_positive"),
        ({**VALID, "amount_cents": 500_000_000}, "amount_too_high"),
        ({**VALID, "return_url": "https://evil.example/"}, "foreign_return_url"),
    ],
)
def test_a_refused_payment_is_problem_json_with_the_services_code(app, api, body, code):
    response = api.post(URL, {k: v for k, v in body.items() if v is not None})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == code and response.json["errors"]
    assert _count(Payment) == 0


HOSTILE_BODIES = [
    b"not json at all",
    b"",
    b"[]",
    b"null",
    b'"Personalausweis"',
    b"12",
    b'{"amount_cents": 3700',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"amount_cents": ' + b"9" * 5000 + b', "purpose": "x", "case_reference": "y"}',
    b'{"amount_cents": 1e400, "purpose": "x", "case_reference": "y"}',
    b'{"amount_cents": NaN, "purpose": "x", "case_reference": "y"}',
    b'{"amount_cents": 3700, "purpose": "\xff\xfe", "case_reference": "y"}',
    json.dumps({**VALID, "purpose": "Aus\ud800weis"}).encode(),
    json.dumps({**VALID, "amount_cents": 10**30}).encode(),
    json.dumps({**VALID, "amount_cents": "3700"}).encode(),
    json.dumps({**VALID, "amount_cents": 37.5}).encode(),
    json.dumps({**VALID, "amount_cents": 37.0}).encode(),
    json.dumps({**VALID, "amount_cents": True}).encode(),
    json.dumps({**VALID, "amount_cents": [3700]}).encode(),
    json.dumps({**VALID, "amount_cents": {"value": 3700}}).encode(),
    json.dumps({**VALID, "purpose": "Ausweis\x00"}).encode(),
    json.dumps({**VALID, "case_reference": "\x00"}).encode(),
    json.dumps({**VALID, "purpose": "x" * 100_000}).encode(),
    json.dumps({**VALID, "purpose": 123}).encode(),
    json.dumps({**VALID, "purpose": None}).encode(),
    json.dumps({**VALID, "case_reference": ["T-1"]}).encode(),
    json.dumps({**VALID, "fee_code": "PA\x00"}).encode(),
    json.dumps({**VALID, "fee_code": "PA-AUSWEIS"}).encode(),  # both fee and amount
    json.dumps({"purpose": "x", "case_reference": "y"}).encode(),  # neither
    json.dumps({**VALID, "quantity": 10**40}).encode(),
    json.dumps({**VALID, "return_url": "javascript:alert(1)"}).encode(),
    json.dumps({**VALID, "return_url": "/ok\x00"}).encode(),
    json.dumps({**VALID, "return_url": 5}).encode(),
    json.dumps({**VALID, "service": ""}).encode(),
    json.dumps({**VALID, "service": "appointments"}).encode(),  # the portal's own services make their own
    json.dumps({**VALID, "is_admin": True}).encode(),  # unknown fields are refused, not ignored
    json.dumps({**VALID, "kassenzeichen": "2610000004284"}).encode(),
    json.dumps({**VALID, "status": "succeeded"}).encode(),
]


@pytest.mark.parametrize("body", HOSTILE_BODIES, ids=range(len(HOSTILE_BODIES)))
def test_hostile_bodies_get_a_4xx_problem_never_a_5xx_and_nothing_is_stored(app, api, body):
    response = api.post(URL, body)
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/problem+json"
    assert _count(Payment) == 0


def test_hostile_refund_bodies_and_ids_get_a_4xx(app, api):
    payment = make_paid_payment()
    for body in (
        {"amount_cents": "100", "reason": "x"},
        {"amount_cents": 100},
        {"amount_cents": 100, "reason": "x\x00"},
        {"amount_cents": 10**30, "reason": "x"},
        {"amount_cents": 100, "reason": "x", "approve": True},
    ):
        response = api.post(f"{URL}/{payment.public_id}/refunds", body)
        assert response.status_code == 422, (body, response.json)
    for public_id in ("x" * 5000, "%00" * 32, "ä" * 32, "..%2f..%2fetc%2fpasswd"):
        assert api.get(f"{URL}/{public_id}").status_code == 404
    assert _count(Refund) == 0


def test_without_the_payments_scope_nothing_is_answered(app, client):
    _, audit_only = create_token(SYSTEM, "SIEM", ["audit"])
    assert client.post(URL, json=VALID).status_code == 401
    assert client.get(f"{URL}/reconciliation?date=2026-11-27").status_code == 401
    response = client.post(URL, json=VALID, headers={"Authorization": f"Bearer {audit_only}"})
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
    assert _count(Payment) == 0


def test_an_unknown_payment_is_a_404_problem(app, api):
    response = api.get(f"{URL}/{'0' * 32}")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_a_refund_request_is_accepted_and_waits_for_approval(app, api):
    payment = make_paid_payment(amount_cents=3700)
    response = api.post(f"{URL}/{payment.public_id}/refunds", {"amount_cents": 1000, "reason": "Termin abgesagt"})
    assert response.status_code == 202, response.json
    assert response.json["status"] == "awaiting_approval"
    assert (response.json["payment_id"], response.json["amount_cents"]) == (payment.public_id, 1000)
    over = api.post(f"{URL}/{payment.public_id}/refunds", {"amount_cents": 2701, "reason": "zu viel"})
    assert over.status_code == 409 and over.json["code"] == "over_refundable"
    unpaid = make_payment(case_reference="T-2026-000002")
    not_paid = api.post(f"{URL}/{unpaid.public_id}/refunds", {"amount_cents": 100, "reason": "x"})
    assert not_paid.status_code == 409 and not_paid.json["code"] == "not_paid"
    assert _count(Refund) == 1


def test_the_reconciliation_of_a_day_for_the_treasurys_system(app, api):
    paid = make_paid_payment(amount_cents=3700, case_reference="T-2026-000010")
    paid.created_at = datetime(2026, 11, 27, 8, tzinfo=BERLIN).astimezone(UTC)
    paid.succeeded_at = datetime(2026, 11, 27, 8, 30, tzinfo=BERLIN).astimezone(UTC)
    open_ = make_payment(amount_cents=1200, case_reference="T-2026-000011")
    open_.created_at = datetime(2026, 11, 26, 8, tzinfo=BERLIN).astimezone(UTC)
    db.session.commit()
    response = api.get(f"{URL}/reconciliation?date=2026-11-27")
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["date"], body["timezone"]) == ("2026-11-27", "Europe/Berlin")
    assert (body["paid"]["count"], body["paid"]["sum_cents"]) == (1, 3700)
    item = body["paid"]["items"][0]
    assert (item["kassenzeichen"], item["amount_cents"], item["provider"], item["method"]) == (
        paid.kassenzeichen,
        3700,
        "sandbox",
        "card",
    )
    assert item["provider_reference"].startswith("sbx_") and item["fees_cents"] is None
    assert item["booked_at"].startswith("2026-11-27T07:30:00")
    assert (body["refunded"]["count"], body["refunded"]["sum_cents"]) == (0, 0)
    assert (body["outstanding"]["count"], body["outstanding"]["sum_cents"]) == (1, 1200)
    assert body["outstanding"]["items"][0]["kassenzeichen"] == open_.kassenzeichen
    exported = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "payment.reconciliation_exported"))
    assert json.loads(exported.details)["format"] == "json" and exported.actor_type == "client"


@pytest.mark.parametrize(
    "query", ["", "?date=", "?date=27.11.2026", "?date=2026-13-01", "?date=0001-01-01", "?date=9999-12-31", "?date=%00"]
)
def test_a_bad_date_is_a_4xx_problem(app, api, query):
    response = api.get(f"{URL}/reconciliation{query}")
    assert response.status_code in (400, 422), response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"


def test_the_api_is_documented_in_the_openapi(app, client):
    spec = client.get("/api/v1/openapi.json").json
    for path, method in (
        ("/api/v1/payments", "post"),
        ("/api/v1/payments/{public_id}", "get"),
        ("/api/v1/payments/{public_id}/refunds", "post"),
        ("/api/v1/payments/reconciliation", "get"),
    ):
        operation = spec["paths"][path][method]
        assert operation["security"] == [{"bearerAuth": ["payments"]}], path
    assert "amount_cents" in spec["components"]["schemas"]["PaymentCreate"]["properties"]
