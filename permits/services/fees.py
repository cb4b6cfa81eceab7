"""The special-use fee: what the statute's formula gives for an area, a period and a tariff. Pure arithmetic.

    usage   = rate[use type, zone, unit] × m² × units begun        (rounded half up to the cent, once)
    fee     = max(minimum, usage) + administrative fee
    payable = fee − exemption                                      (exemption rounded half up to the cent)

- The period counts both of its days ("1 to 3 June" is 3 days); for events it runs from the first set-up day to
  the last tear-down day, because the road is occupied then too.
- Units begun: days; weeks of 7 days (8 days are 2 weeks); months as § 188 (2), (3) BGB counts them (a month from
  15 Jan runs to 14 Feb; from 31 Jan to the last day of February), so 15 Jan - 15 Feb are 2 months.
- Money is integer cents; the area is Decimal m² with two decimals (square decimetres in the database). There are
  exactly two roundings, both ROUND_HALF_UP to the whole cent: the usage amount (rate × m² × units, before the
  minimum is compared) and the exemption amount. Nothing else is ever fractional.
- The exemption waives `percent` of the usage fee (after the minimum); the administrative fee is charged under
  other law and is waived only by a reason that says so (ExemptionReason.covers_administrative_fee).

The breakdown's lines add up to the total, so a page or an API client can show them as a bill.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import lazy_gettext as _l

from permits.models import DurationUnit

CENT = Decimal("1")
HUNDRED = Decimal(100)

UNIT_LABELS: dict[str, Any] = {
    DurationUnit.DAY: _l("m² und Tag"),
    DurationUnit.WEEK: _l("m² und Woche"),
    DurationUnit.MONTH: _l("m² und Monat"),
}


def round_cents(amount: Decimal) -> int:
    """Whole cents, half up (0.5 ct → 1 ct): the one rounding rule of this module."""
    return int(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def days_inclusive(start: date, end: date) -> int:
    """Days from `start` to `end`, both counted: the same day is 1."""
    if end < start:
        raise ValueError("the period ends before it starts")
    return (end - start).days + 1


def _month_end(start: date, months: int) -> date:
    """The last day of a period of `months` months beginning on `start` (§ 188 (2), (3) BGB)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    if start.day > last:
        return date(year, month, last)  # no corresponding day (31 Jan + 1 month): the month's last day
    return date(year, month, start.day) - timedelta(days=1)


def units_begun(start: date, end: date, unit: str) -> int:
    """How many units the period from `start` to `end` (inclusive) begins: ceil(duration / unit)."""
    days = days_inclusive(start, end)
    if unit == DurationUnit.DAY:
        return days
    if unit == DurationUnit.WEEK:
        return -(-days // 7)
    if unit == DurationUnit.MONTH:
        # Start near the answer (a month has at most 31 days) and step up; a few steps at most.
        months = max(1, days // 31)
        while _month_end(start, months) < end:
            months += 1
        return months
    raise ValueError(f"unknown unit {unit!r}")


@dataclass(frozen=True)
class Line:
    """One line of the bill. `code`: usage, minimum, administrative, exemption."""

    code: str
    label: str
    quantity: str  # a decimal in text ("18", "7.5"): exact, and JSON keeps it as written
    unit: str
    unit_price_cents: int | None
    amount_cents: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "label": self.label,
            "quantity": self.quantity,
            "unit": self.unit,
            "unit_price_cents": self.unit_price_cents,
            "amount_cents": self.amount_cents,
        }


@dataclass(frozen=True)
class Fee:
    total_cents: int
    lines: list[Line] = field(default_factory=list)
    days: int = 0
    units: int = 0

    def breakdown(self) -> list[dict[str, Any]]:
        return [line.as_dict() for line in self.lines]


@dataclass(frozen=True)
class Exemption:
    label: str
    percent: int  # 1-100
    covers_administrative_fee: bool = False


def _decimal_text(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def compute_fee(
    *,
    rate_cents: int,
    unit: str,
    area_m2: Decimal,
    start: date,
    end: date,
    minimum_cents: int = 0,
    administrative_fee_cents: int = 0,
    exemption: Exemption | None = None,
) -> Fee:
    """The fee for `area_m2` from `start` to `end` (inclusive) at `rate_cents` per m² and unit.

    >>> compute_fee(rate_cents=80, unit="day", area_m2=Decimal(6), start=date(2026, 6, 1), end=date(2026, 6, 3),
    ...             administrative_fee_cents=2500).total_cents
    3940
    """
    if rate_cents <= 0 or minimum_cents < 0 or administrative_fee_cents < 0:
        raise ValueError("rates are positive, minimum and administrative fee not negative")
    if area_m2 <= 0:
        raise ValueError("the area is positive")
    units = units_begun(start, end, unit)
    days = days_inclusive(start, end)
    quantity = area_m2 * units
    usage = round_cents(Decimal(rate_cents) * quantity)
    unit_label = str(UNIT_LABELS[DurationUnit(unit)])
    lines = [
        Line("usage", str(_l("Sondernutzungsgebühr")), _decimal_text(quantity), unit_label, rate_cents, usage),
    ]
    charged = usage
    if minimum_cents > usage:
        lines.append(Line("minimum", str(_l("Aufschlag auf die Mindestgebühr")), "1", "", None, minimum_cents - usage))
        charged = minimum_cents
    if exemption is not None:
        waived = round_cents(Decimal(charged) * exemption.percent / HUNDRED)
        if exemption.covers_administrative_fee:
            waived += round_cents(Decimal(administrative_fee_cents) * exemption.percent / HUNDRED)
        if waived:
            label = str(
                _l("Gebührenbefreiung: %(reason)s (%(percent)s %%)", reason=exemption.label, percent=exemption.percent)
            )
            lines.append(Line("exemption", label, "1", "", None, -waived))
    if administrative_fee_cents:
        lines.append(
            Line(
                "administrative",
                str(_l("Verwaltungsgebühr")),
                "1",
                "",
                administrative_fee_cents,
                administrative_fee_cents,
            )
        )
    total = sum(line.amount_cents for line in lines)
    return Fee(total_cents=total, lines=lines, days=days, units=units)
