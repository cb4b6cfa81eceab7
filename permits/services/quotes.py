"""The fee for an intended use, looked up in the catalogue: what the preview shows and what submission fixes.

`preview(...)` answers the public question "what would this cost?" for a use type, a street, an area and a
period, under the tariff in force on `today` (the day of submission). `fee_for(...)` does the same for resolved
catalogue entries, so submission and the preview can never compute differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l

from permits.errors import PermitInvalid
from permits.models import ExemptionReason, StreetZone, Tariff, UseType
from permits.services import catalogue, validation
from permits.services.fees import Exemption, Fee, compute_fee
from portal.timeutil import to_berlin, utcnow


@dataclass(frozen=True)
class Quote:
    fee: Fee
    tariff: Tariff
    use_type: UseType
    street: StreetZone
    area_m2: Decimal
    start: date
    end: date
    earliest_start: date

    @property
    def zone(self) -> int:
        return self.street.zone


def today_in_berlin() -> date:
    return to_berlin(utcnow()).date()


def fee_for(
    errors: PermitInvalid,
    *,
    use_type: UseType,
    zone: int,
    area_m2: Decimal,
    first_day: date,
    last_day: date,
    today: date,
    exemption: ExemptionReason | None = None,
) -> tuple[Fee, Tariff] | None:
    """The fee under the tariff in force on `today`; None (with an error) when the tariff has no rate for it."""
    tariff = catalogue.tariff_in_force(today)
    rate = catalogue.rate_for(tariff, use_type, zone) if tariff is not None else None
    if tariff is None or rate is None:
        errors.add(
            "use_type",
            _l("Für diese Nutzung in Zone %(zone)s gibt es keinen Tarif; bitte fragen Sie das Amt.", zone=zone),
            "no_tariff",
        )
        return None
    fee = compute_fee(
        rate_cents=rate.rate_cents,
        unit=rate.unit,
        area_m2=area_m2,
        start=first_day,
        end=last_day,
        minimum_cents=rate.minimum_fee_cents if rate.minimum_fee_cents is not None else tariff.minimum_fee_cents,
        administrative_fee_cents=tariff.administrative_fee_cents,
        exemption=(
            Exemption(exemption.name_de, exemption.percent, exemption.covers_administrative_fee)
            if exemption is not None
            else None
        ),
    )
    return fee, tariff


def preview(
    use_type: Any,
    street: Any,
    area_m2: Any,
    start: date | None,
    end: date | None,
    *,
    exemption: Any = None,
    today: date | None = None,
) -> Quote:
    """The fee a use would cost if applied for `today`; PermitInvalid names every field that is wrong.

    The lead time is not checked (a preview for next year is fine); `Quote.earliest_start` tells the caller.
    """
    today = today or today_in_berlin()
    errors = PermitInvalid()
    found_type = validation.check_use_type(errors, use_type)
    found_street = validation.check_street(errors, street)
    area = validation.check_area(errors, area_m2)
    validation.check_period(errors, start, end, use_type=found_type)
    reason = None
    if exemption is not None:
        reason = catalogue.exemption_by_code(exemption) if isinstance(exemption, str) else None
        if reason is None:
            errors.add("exemption", _l("Diesen Befreiungsgrund gibt es nicht."), "unknown_exemption")
    if errors:
        raise errors
    assert found_type is not None and found_street is not None and area is not None
    assert start is not None and end is not None
    computed = fee_for(
        errors,
        use_type=found_type,
        zone=found_street.zone,
        area_m2=area,
        first_day=start,
        last_day=end,
        today=today,
        exemption=reason,
    )
    if computed is None:
        raise errors
    fee, tariff = computed
    return Quote(
        fee=fee,
        tariff=tariff,
        use_type=found_type,
        street=found_street,
        area_m2=area,
        start=start,
        end=end,
        earliest_start=validation.earliest_start(found_type, today),
    )
