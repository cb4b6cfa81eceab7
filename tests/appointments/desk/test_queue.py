"""Queue numbers under concurrency, the counter filter of the day list, and the QR code of a reference."""

from __future__ import annotations

import re
import threading

import sqlalchemy as sa

from appointments.models import Booking
from appointments.services import desk as desk_services
from portal.accounts.models import User
from portal.actors import Actor
from portal.extensions import db
from tests.appointments.desk.builders import make_booking, today_at
from tests.builders import csrf_from


def test_concurrent_check_ins_get_distinct_consecutive_numbers(app, desk):
    references = [
        make_booking(desk.location, desk.service, starts_at=today_at(8, 0), seat=i).reference for i in range(2)
    ] + [make_booking(desk.location, desk.service, starts_at=today_at(9, 0), seat=i).reference for i in range(2)]
    clerk_id, location_id = desk.clerk.id, desk.location.id
    db.session.remove()  # let the desks' own connections write
    barrier = threading.Barrier(len(references))
    errors: list[BaseException] = []

    def desk_worker(reference: str) -> None:
        with app.app_context():
            try:
                actor = Actor.for_user(db.session.get(User, clerk_id))
                barrier.wait(timeout=10)
                desk_services.check_in(actor, location_id, reference)
            except BaseException as error:
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=desk_worker, args=(r,)) for r in references]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    numbers = db.session.scalars(sa.select(Booking.queue_number).order_by(Booking.queue_number)).all()
    assert numbers == [1, 2, 3, 4]


def test_the_day_list_filters_by_counter(client, desk, sign_in):
    first = make_booking(desk.location, desk.service, starts_at=today_at(8), reference="T-2026-000701", seat=0)
    second = make_booking(desk.location, desk.service, starts_at=today_at(8), reference="T-2026-000702", seat=1)
    actor = Actor.for_user(desk.clerk)
    for booking in (first, second):
        desk_services.check_in(actor, desk.location.id, booking.reference)
    desk_services.call_next(actor, desk.location.id, "Schalter 1")
    desk_services.call_next(actor, desk.location.id, "Schalter 2")
    sign_in(desk.clerk)
    day = desk_services.local_day(today_at(12)).isoformat()
    page = client.get(f"/schalter/{desk.location.id}/{day}?schalter=Schalter+2").get_data(as_text=True)
    assert "T-2026-000702" in page
    assert "T-2026-000701" not in page


def test_a_refused_check_in_keeps_the_typed_reference(client, desk, sign_in):
    sign_in(desk.clerk)
    day_url = f"/schalter/{desk.location.id}/{desk_services.local_day(today_at(12)).isoformat()}"
    token = csrf_from(client.get(day_url).get_data(as_text=True))
    response = client.post(
        f"/schalter/{desk.location.id}/anmelden", data={"csrf_token": token, "reference": "T-2026-424242"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="T-2026-424242"' in page
    assert 'aria-invalid="true"' in page


def test_the_qr_code_is_an_accessible_inline_svg_of_the_bare_reference(app):
    import segno

    svg = desk_services.qr_svg("T-2026-000123")
    assert svg.startswith('<svg role="img" ')
    assert "<?xml" not in svg
    assert "<title>QR-Code der Vorgangsnummer T-2026-000123</title>" in svg
    # Exactly the symbol of the bare reference (not a link): what a desk scanner types back is the reference.
    bare = segno.make("T-2026-000123", micro=False, error="m").svg_inline(scale=4, border=4)
    [path] = re.findall(r' d="([^"]+)"', bare)
    assert f' d="{path}"' in svg
    other = segno.make("T-2026-000124", micro=False, error="m").svg_inline(scale=4, border=4)
    assert re.findall(r' d="([^"]+)"', other)[0] != path


def test_a_local_day_has_23_hours_when_the_clocks_go_forward():
    from datetime import date, timedelta

    start, end = desk_services.day_bounds(date(2026, 3, 29))
    assert end - start == timedelta(hours=23)
    assert start.isoformat() == "2026-03-28T23:00:00+00:00"
