"""The fee formula, table-driven: the 39.40 € example, the minimum, weeks and months begun, exemptions, rounding;
the tariff in force by date, a submitted case keeping its tariff, and streets found however they are written."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from permits.models import PermitState
from permits.services import applications, catalogue, quotes
from permits.services.catalogue import RateData
from permits.services.fees import Exemption, compute_fee, units_begun
from portal.actors import SYSTEM
from tests.permits.builders import make_draft

FULL = Exemption("Gemeinnützig", 100)
HALF_WITH_ADMIN = Exemption("Halb", 50, covers_administrative_fee=True)

# rate, unit, m², start, end, minimum, administrative fee, exemption → total cents
CASES = [
    pytest.param(80, "day", "6", date(2026, 6, 1), date(2026, 6, 3), 0, 2500, None, 3940, id="container-39.40"),
    pytest.param(80, "day", "6", date(2026, 6, 1), date(2026, 6, 3), 1000, 2500, None, 3940, id="minimum-below"),
    pytest.param(80, "day", "1", date(2026, 6, 1), date(2026, 6, 1), 1000, 2500, None, 3500, id="minimum-applies"),
    pytest.param(150, "week", "10", date(2026, 6, 1), date(2026, 6, 7), 0, 2500, None, 4000, id="7-days-1-week"),
    pytest.param(150, "week", "10", date(2026, 6, 1), date(2026, 6, 8), 0, 2500, None, 5500, id="8-days-2-weeks"),
    pytest.param(600, "month", "4", date(2026, 1, 15), date(2026, 2, 14), 0, 2500, None, 4900, id="one-month"),
    pytest.param(600, "month", "4", date(2026, 1, 15), date(2026, 2, 15), 0, 2500, None, 7300, id="month-and-a-day"),
    pytest.param(600, "month", "4", date(2026, 1, 31), date(2026, 2, 28), 0, 0, None, 2400, id="31-jan-to-28-feb"),
    pytest.param(75, "day", "0.5", date(2026, 6, 1), date(2026, 6, 1), 0, 0, None, 38, id="half-cent-rounds-up"),
    pytest.param(75, "day", "0.49", date(2026, 6, 1), date(2026, 6, 1), 0, 0, None, 37, id="36.75-rounds-up"),
    pytest.param(75, "day", "0.41", date(2026, 6, 1), date(2026, 6, 1), 0, 0, None, 31, id="30.75-rounds-up"),
    pytest.param(80, "day", "6", date(2026, 6, 1), date(2026, 6, 3), 0, 2500, FULL, 2500, id="exempt-usage-only"),
    pytest.param(
        80, "day", "6", date(2026, 6, 1), date(2026, 6, 3), 0, 2500, HALF_WITH_ADMIN, 1970, id="half-with-admin"
    ),
    pytest.param(131, "day", "11", date(2026, 6, 1), date(2026, 6, 1), 0, 0, Exemption("x", 50), 720, id="waiver-up"),
    pytest.param(80, "day", "1", date(2026, 6, 1), date(2026, 6, 1), 1000, 0, FULL, 0, id="exempt-from-minimum"),
]


@pytest.mark.parametrize(("rate", "unit", "area", "start", "end", "minimum", "admin", "exemption", "total"), CASES)
def test_fee_formula(app, rate, unit, area, start, end, minimum, admin, exemption, total):
    fee = compute_fee(
        rate_cents=rate,
        unit=unit,
        area_m2=Decimal(area),
        start=start,
        end=end,
        minimum_cents=minimum,
        administrative_fee_cents=admin,
        exemption=exemption,
    )
    assert fee.total_cents == total
    assert sum(line["amount_cents"] for line in fee.breakdown()) == total


def test_the_container_example_reads_as_a_bill(app):
    fee = compute_fee(
        rate_cents=80,
        unit="day",
        area_m2=Decimal(6),
        start=date(2026, 6, 1),
        end=date(2026, 6, 3),
        minimum_cents=1000,
        administrative_fee_cents=2500,
    )
    assert fee.breakdown() == [
        {
            "code": "usage",
            "label": "Sondernutzungsgebühr",
            "quantity": "18",
            "unit": "m² und Tag",
            "unit_price_cents": 80,
            "amount_cents": 1440,
        },
        {
            "code": "administrative",
            "label": "Verwaltungsgebühr",
            "quantity": "1",
            "unit": "",
            "unit_price_cents": 2500,
            "amount_cents": 2500,
        },
    ]
    assert (fee.days, fee.units) == (3, 3)


@pytest.mark.parametrize(
    ("start", "end", "unit", "units"),
    [
        (date(2026, 6, 1), date(2026, 6, 1), "day", 1),
        (date(2026, 6, 1), date(2026, 6, 14), "week", 2),
        (date(2026, 6, 1), date(2026, 6, 15), "week", 3),
        (date(2026, 1, 31), date(2026, 3, 1), "month", 2),
        (date(2028, 1, 31), date(2028, 2, 29), "month", 1),  # leap year: the month ends with 29 February
        (date(2026, 3, 1), date(2026, 3, 31), "month", 1),
        (date(2026, 3, 1), date(2027, 2, 28), "month", 12),
        (date(2026, 3, 1), date(2027, 3, 1), "month", 13),
    ],
)
def test_units_begun(start, end, unit, units):
    assert units_begun(start, end, unit) == units


def test_end_before_start_is_no_period():
    with pytest.raises(ValueError):
        units_begun(date(2026, 6, 2), date(2026, 6, 1), "day")


def test_the_zone_of_the_street_chooses_the_rate(world):
    centre = quotes.preview("container", "Markt", 6, date(2026, 6, 1), date(2026, 6, 3), today=date(2026, 5, 1))
    outside = quotes.preview("container", "Hauptstraße", 6, date(2026, 6, 1), date(2026, 6, 3), today=date(2026, 5, 1))
    assert (centre.zone, centre.fee.total_cents) == (1, 3940)
    assert (outside.zone, outside.fee.total_cents) == (2, 6 * 3 * 60 + 2500)


@pytest.mark.parametrize(
    ("written", "zone"),
    [
        ("Markt", 1),
        ("markt", 1),
        (" MARKT ", 1),
        ("Hauptstraße", 2),
        ("Hauptstr.", 2),
        ("hauptstrasse", 2),
        ("HAUPTSTRASSE", 2),
        ("Königsbrücker Str.", 3),
        ("Koenigsbruecker Strasse", 3),
        ("Königsbrücker  Straße", 3),
    ],
)
def test_streets_are_found_however_written(world, written, zone):
    entry = catalogue.find_street(written)
    assert entry is not None and entry.zone == zone


def test_an_unknown_street_has_no_zone(world):
    assert catalogue.find_street("Marktplatz") is None
    assert catalogue.find_street("") is None


def test_the_tariff_in_force_is_the_latest_that_took_effect(world):
    newer = catalogue.add_tariff(
        SYSTEM,
        date(2026, 7, 1),
        [RateData("container", 1, "day", 100)],
        minimum_fee_cents=0,
        administrative_fee_cents=3000,
    )
    assert catalogue.tariff_in_force(date(2026, 6, 30)).id == world.tariff.id
    assert catalogue.tariff_in_force(date(2026, 7, 1)).id == newer.id
    assert catalogue.tariff_in_force(date(2019, 12, 31)) is None
    later = quotes.preview("container", "Markt", 6, date(2026, 8, 1), date(2026, 8, 3), today=date(2026, 7, 1))
    assert later.fee.total_cents == 1800 + 3000


def test_a_tariff_change_after_submission_keeps_the_submitted_fee(world):
    actor = world.applicant_actor
    application = applications.submit(actor, make_draft(actor), today=date(2026, 5, 4))
    assert (application.fee_cents, application.tariff_id) == (3940, world.tariff.id)
    catalogue.add_tariff(
        SYSTEM,
        date(2026, 5, 5),
        [RateData("container", 1, "day", 200)],
        minimum_fee_cents=0,
        administrative_fee_cents=5000,
    )
    clerk = world.officer_actor
    applications.move(clerk, application, PermitState.FORMAL_CHECK)
    applications.move(clerk, application, PermitState.GRANTED, "Auflagen: Absicherung nach RSA 21")
    assert application.state == PermitState.GRANTED
    assert (application.fee_cents, application.tariff_id) == (3940, world.tariff.id)
    assert application.fee_breakdown[0]["unit_price_cents"] == 80
    fresh = quotes.preview("container", "Markt", 6, date(2026, 6, 1), date(2026, 6, 3), today=date(2026, 5, 5))
    assert fresh.fee.total_cents == 3600 + 5000


def test_a_tariff_date_is_taken_once(world):
    from permits.errors import PermitError

    with pytest.raises(PermitError) as raised:
        catalogue.add_tariff(
            SYSTEM,
            world.tariff.effective_from,
            [RateData("container", 1, "day", 90)],
            minimum_fee_cents=0,
            administrative_fee_cents=0,
        )
    assert raised.value.code == "tariff_exists"
