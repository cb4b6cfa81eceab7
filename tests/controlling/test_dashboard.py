"""The e-government controlling dashboard: who sees it, the figures per month, the bounded number of statements,
the CSV export."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest

from controlling import services
from permits.models import PermitApplication, UseType
from portal.actors import Actor
from portal.extensions import db
from portal.timeutil import to_berlin, utcnow
from tests.builders import make_user
from tests.participation.builders import count_queries
from tests.payments.builders import make_paid_payment
from tests.permits.builders import make_catalogue

MARCH, APRIL = datetime(2026, 3, 10, 9, tzinfo=UTC), datetime(2026, 4, 10, 9, tzinfo=UTC)
_numbers = count(1)


def make_case(submitted: datetime, days: float | None = None, use_type: str = "container") -> PermitApplication:
    """A submitted case (decided `days` later, if given): a row as the clerk's side leaves it."""
    from permits.models import Tariff

    tariff = db.session.query(Tariff).first()
    kind = db.session.query(UseType).filter_by(code=use_type).one()
    number = next(_numbers)
    case = PermitApplication(
        public_id=f"case{number}",
        reference=f"SNU-2026-{number:06d}",
        state="granted" if days is not None else "submitted",
        use_type_id=kind.id,
        tariff_id=tariff.id,
        fee_cents=3940,
        submitted_at=submitted,
        decided_at=submitted + timedelta(days=days) if days is not None else None,
    )
    db.session.add(case)
    db.session.commit()
    return case


@pytest.fixture
def viewer(app):
    return make_user("it@stadt.example", roles=("controlling",), display_name="Iris IT", totp=True)


def berlin_month() -> date:
    """This month as the dashboard counts it: in Berlin, which is a month ahead of UTC late on a month's last day."""
    return to_berlin(utcnow()).date().replace(day=1)


def sign_in(auth, user) -> None:
    auth.login(user.email)
    auth.totp(user)


def board(first: date = date(2026, 3, 1), last: date = date(2026, 4, 1)) -> services.Dashboard:
    viewer = make_user("x@stadt.example", roles=("controlling",)) if not _viewer else _viewer[0]
    _viewer[:] = [viewer]
    return services.dashboard(Actor.for_user(viewer), first, last)


_viewer: list = []


@pytest.fixture(autouse=True)
def _reset_viewer():
    _viewer.clear()


def section(dashboard: services.Dashboard, key: str) -> services.Section:
    return next(s for s in dashboard.sections if s.key == key)


def values(dashboard: services.Dashboard, key: str, column: str) -> dict[str, float | None]:
    return {month.key: row.get(column) for month, row in section(dashboard, key).rows}


def test_citizen_is_refused_and_the_role_admits(client, auth, viewer):
    make_user("buerger@example.org")
    auth.login("buerger@example.org")
    assert client.get("/controlling/").status_code == 403
    auth.logout()
    sign_in(auth, viewer)
    page = client.get("/controlling/?von=2026-01&bis=2026-06")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Online-Anträge je Monat und Dienst" in html and 'role="img"' in html and "<table" in html


def test_service_refuses_a_person_without_the_role(app):
    from werkzeug.exceptions import Forbidden

    clerk = make_user("clerk@stadt.example")
    with pytest.raises(Forbidden):
        services.dashboard(Actor.for_user(clerk), date(2026, 1, 1), date(2026, 2, 1))


def test_permit_applications_counted_by_submission_month_and_use_type(app):
    make_catalogue()
    make_case(MARCH)
    make_case(MARCH, use_type="event")
    make_case(APRIL)
    make_case(datetime(2026, 2, 28, 23, 30, tzinfo=UTC))  # 1 March in Berlin: counts in March
    result = board()
    assert values(result, "permits_use_types", "container") == {"2026-03": 2, "2026-04": 1}
    assert values(result, "permits_use_types", "event") == {"2026-03": 1, "2026-04": None}
    assert values(result, "applications", "permits") == {"2026-03": 3, "2026-04": 1}


def test_processing_time_median_and_90th_percentile_by_decision_month(app):
    make_catalogue()
    for days in (1, 2, 3, 4, 10):
        make_case(MARCH - timedelta(days=days), days=days)  # decided in March
    make_case(MARCH)  # not decided: not counted
    row = dict(section(board(), "permits_processing").rows[0][1])
    assert row["decided"] == 5
    assert row["median"] == pytest.approx(3.0)
    assert row["p90"] == pytest.approx(4 + 0.6 * 6)  # linear between the 4th and 5th value, as percentile_cont


def test_share_paid_online_and_by_bank_transfer(app):
    for method in ("card", "card", "paypal", "bank_transfer"):
        make_paid_payment(method=method, case_reference=f"T-2026-{next(_numbers):06d}")
    this_month = berlin_month()
    result = board(this_month, this_month)
    row = section(result, "payments").rows[0][1]
    assert (row["online"], row["bank_transfer"], row["share"]) == (3, 1, 0.75)


def test_participation_figures(app):
    from tests.participation.builders import make_comment, make_consultation, make_proposal
    from tests.participation.builders import make_world as participation_world

    world = participation_world()
    consultation = make_consultation(world)
    proposal = make_proposal(world, consultation)
    make_comment(world, consultation, proposal_id=proposal.id)
    this_month = berlin_month()
    row = section(board(this_month, this_month), "participation").rows[0][1]
    assert (row["proposals"], row["comments"]) == (1, 1)


def test_statements_do_not_grow_with_the_data(app):
    make_catalogue()
    make_case(MARCH, days=2)
    viewer = make_user("y@stadt.example", roles=("controlling",))
    with count_queries() as few:
        services.dashboard(Actor.for_user(viewer), date(2026, 1, 1), date(2026, 12, 1))
    for days in range(1, 40):
        make_case(MARCH + timedelta(days=days % 50), days=days % 7 + 1, use_type=("event", "container")[days % 2])
    with count_queries() as many:
        services.dashboard(Actor.for_user(viewer), date(2026, 1, 1), date(2026, 12, 1))
    assert len(many) == len(few)
    assert len(few) <= 25


def test_csv_export_has_one_row_per_month_and_figure(client, auth, viewer):
    make_catalogue()
    make_case(MARCH)
    sign_in(auth, viewer)
    response = client.get("/controlling/export.csv?von=2026-03&bis=2026-04")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "Bereich;Monat;Kennzahl;Wert"
    assert "Online-Anträge je Monat und Dienst;2026-03;Sondernutzung: Anträge;1" in lines
    assert "Online-Anträge je Monat und Dienst;2026-04;Sondernutzung: Anträge;0" in lines  # none: 0, not empty
    assert "Sondernutzung: Bearbeitungszeit;2026-03;Median (Tage);" in lines  # nothing decided: no median


def test_a_bad_period_is_refused_with_a_message(client, auth, viewer):
    sign_in(auth, viewer)
    response = client.get("/controlling/?von=2026-05&bis=2026-01")
    assert response.status_code == 400
    assert "Der erste Monat liegt nach dem letzten." in response.get_data(as_text=True)


@pytest.mark.parametrize("query", ["bis=0001-01", "von=0001-01&bis=0001-06", "bis=9999-12", "von=2026-13"])
def test_a_month_outside_the_calendar_is_refused_not_a_500(client, auth, viewer, query):
    sign_in(auth, viewer)
    response = client.get(f"/controlling/?{query}")
    assert response.status_code == 400
    assert "Geben Sie einen Monat wie 2026-03 an." in response.get_data(as_text=True)


def test_appointment_utilisation_and_no_show_rate(app):
    from datetime import time

    from appointments.models import Booking
    from tests.appointments.builders import make_bookable_location

    # Mondays 8–12 at one counter: five Mondays in March 2026, no holiday among them: 20 hours offered.
    location = make_bookable_location(counters=1, weekdays=(0,), hours=((time(8), time(12)),))
    for number, status in enumerate(("served", "no_show", "cancelled")):
        start = datetime(2026, 3, 9 + 7 * number, 8, tzinfo=UTC)
        db.session.add(
            Booking(
                uid=f"uid-{number}",
                manage_token_hash=f"hash-{number}",
                location_id=location.id,
                kind="online",
                status=status,
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                name="Test",
                created_at=start - timedelta(days=3),
            )
        )
    db.session.commit()
    row = section(board(date(2026, 3, 1), date(2026, 3, 1)), "appointments").rows[0][1]
    assert row["offered_hours"] == pytest.approx(20)
    assert row["booked_hours"] == pytest.approx(2)  # the cancelled one holds no seat
    assert row["utilisation"] == pytest.approx(0.1)
    assert row["no_show_rate"] == pytest.approx(0.5)
    applications = section(board(date(2026, 3, 1), date(2026, 3, 1)), "applications").rows[0][1]
    assert applications["appointments"] == 3  # all three booked online in March
