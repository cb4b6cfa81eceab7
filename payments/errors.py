"""What can go wrong with a payment, in terms a form or an API client can show."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PaymentError(Exception):
    """Bad input or a rule that refuses it: shown next to `field` (web) or as a problem (API, `status`)."""

    field: str  # "amount_cents", "fee_code", "purpose", "return_url", "refund", ...
    message: str
    code: str = "invalid"  # unknown_fee, amount_not_positive, over_refundable, not_paid, ...
    status: int = 422

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class PaymentNotFound(Exception):  # noqa: N818 - reads better at the call site
    """Unknown payment, or one the actor may not see; never says which."""


class ProviderError(Exception):
    """The payment provider could not be reached or refused the request; nothing was changed on our side."""
