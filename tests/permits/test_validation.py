"""Validation with errors keyed by field: lead times in Saxon working days, the period, the area, the street, the
use type and the documents a use type requires; a submission shows every problem at once."""

from __future__ import annotations

from datetime import date

import pytest

from permits.errors import PermitInvalid
from permits.models import PermitState
from permits.services import applications, catalogue, validation
from permits.services.form_data import data_from
from tests.permits.builders import complete_data, make_draft


def _errors(actor, application, today):
    with pytest.raises(PermitInvalid) as raised:
        applications.submit(actor, application, today=today)
    return raised.value


# Monday 27 Oct 2025, 5 working days: Tue 28, Wed 29, Thu 30, (Fri 31 Reformationstag), Mon 3, Tue 4 Nov → from Wed 5.
# Friday 13 Nov 2026, 5 working days: Mon 16, Tue 17, (Wed 18 Buß- und Bettag), Thu 19, Fri 20, Mon 23 → from Tue 24.
@pytest.mark.parametrize(
    ("today", "too_early", "earliest"),
    [
        (date(2025, 10, 27), date(2025, 11, 4), date(2025, 11, 5)),
        (date(2026, 11, 13), date(2026, 11, 23), date(2026, 11, 24)),
    ],
    ids=["reformationstag", "buss-und-bettag"],
)
def test_the_lead_time_skips_saxon_holidays(world, today, too_early, earliest):
    container = catalogue.use_type_by_code("container")
    assert container.lead_working_days == 5
    assert validation.earliest_start(container, today) == earliest
    actor = world.applicant_actor
    refused = make_draft(actor, start=too_early, end=too_early)
    errors = _errors(actor, refused, today)
    assert set(errors.errors) == {"start"}
    assert errors.codes["start"] == "lead_time"
    assert earliest.strftime("%d.%m.%Y") in errors.as_text()["start"][0]
    kept = make_draft(actor, start=earliest, end=earliest)
    assert applications.submit(actor, kept, today=today).state == PermitState.SUBMITTED


def test_an_event_counts_the_lead_time_from_its_first_set_up_day(world):
    actor = world.applicant_actor
    # Event: 20 working days from Mon 1 Jun 2026 → the 20th is Fri 26 Jun, so the road may be used from Sat 27 Jun.
    application = make_draft(
        actor,
        use_type="event",
        start=date(2026, 6, 28),
        end=date(2026, 6, 28),
        setup_from=date(2026, 6, 26),
        teardown_until=date(2026, 6, 29),
    )
    errors = _errors(actor, application, date(2026, 6, 1))
    assert errors.codes == {"setup_from": "lead_time"}


def test_an_event_pays_for_its_set_up_and_tear_down_days(world):
    actor = world.applicant_actor
    application = make_draft(
        actor,
        use_type="event",
        start=date(2026, 8, 2),
        end=date(2026, 8, 2),
        setup_from=date(2026, 8, 1),
        teardown_until=date(2026, 8, 3),
    )
    applications.submit(actor, application, today=date(2026, 6, 1))
    # 6 m² × 3 days × 0.50 € = 9.00 €, below the rate's own minimum of 50 € (not the tariff's 10 €), + 25 €.
    assert application.fee_cents == 5000 + 2500


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"end": date(2026, 5, 31)}, "end", "end_before_start"),
        ({"length_m": "0"}, "length_m", "out_of_range"),
        ({"length_m": "-3"}, "length_m", "out_of_range"),
        ({"width_m": "zwei"}, "width_m", "invalid_number"),
        ({"length_m": None, "width_m": None, "area_m2": 0}, "area_m2", "area_not_positive"),
        ({"length_m": None, "width_m": None, "area_m2": "0.004"}, "area_m2", "area_not_positive"),
        ({"length_m": None, "width_m": None, "area_m2": 10_001}, "area_m2", "area_too_large"),
        ({"length_m": None, "width_m": None, "area_m2": "NaN"}, "area_m2", "invalid_number"),
        ({"street": "Marktplatz"}, "street", "unknown_street"),
        ({"use_type": "zirkus"}, "use_type", "unknown_use_type"),
        ({"setup_from": date(2026, 5, 30)}, "setup_from", "not_applicable"),
        ({"end": date(2029, 6, 3)}, "end", "period_too_long"),
        ({"exemption_reason": "gefaellig"}, "exemption_reason", "unknown_exemption"),
    ],
)
def test_a_wrong_value_is_refused_next_to_its_field_and_the_draft_stays(world, overrides, field, code):
    actor = world.applicant_actor
    application = make_draft(actor)
    with pytest.raises(PermitInvalid) as raised:
        applications.save_draft(actor, application, complete_data(**overrides))
    assert raised.value.codes.get(field) == code, raised.value.as_text()
    assert raised.value.as_text()[field][0]
    assert (application.area_dm2, application.street, application.ends_on) == (600, "Markt", date(2026, 6, 3))


def test_length_times_width_gives_the_area(world):
    application = make_draft(world.applicant_actor, length_m="2,5", width_m="1.25")
    assert (application.length_cm, application.width_cm, application.area_dm2) == (250, 125, 313)  # 3.125 → 3.13 m²


def test_a_submission_lists_every_missing_part_at_once(world):
    actor = world.applicant_actor
    application = applications.start_application(actor)
    applications.save_draft(actor, application, data_from({"applicant_name": ""}))
    errors = _errors(actor, application, date(2026, 5, 1))
    assert set(errors.errors) >= {"use_type", "applicant_name", "responsible_name", "street", "area_m2", "start", "end"}
    assert application.state == PermitState.DRAFT and application.reference is None


def test_documents_the_use_type_requires_must_be_attached(world):
    actor = world.applicant_actor
    application = make_draft(actor, use_type="scaffolding")
    errors = _errors(actor, application, date(2026, 5, 1))
    assert errors.codes == {"attachments": "attachments_missing"}
    assert "Lageplan" in errors.as_text()["attachments"][0]
    assert "Haftpflichtversicherung" in errors.as_text()["attachments"][0]
    assert validation.check_attachments(PermitInvalid(), ["site_plan"], {"site_plan", "photo"})


def test_an_exemption_with_proof_needs_the_proof(world):
    actor = world.applicant_actor
    application = make_draft(actor, exemption_reason="charitable")
    errors = _errors(actor, application, date(2026, 5, 1))
    assert errors.codes == {"attachments": "attachments_missing"}
    assert "Gebührenbefreiung" in errors.as_text()["attachments"][0]


def test_using_the_footway_requests_a_traffic_order(world):
    actor = world.applicant_actor
    application = make_draft(actor, footway_affected=True)
    assert application.traffic_order_requested
    applications.save_draft(actor, application, complete_data(footway_affected=False))
    assert not application.traffic_order_requested
