"""Issue 11, finding 3: a body larger than allowed is refused with 413 from its Content-Length, before a byte of it
is read or parsed: problem JSON for the API, the friendly page for forms."""

from __future__ import annotations

import io

from appointments.api_bookings import BOOKING_BODY_LIMIT

MB = 1024 * 1024


class UnreadStream(io.RawIOBase):
    """A body that says how much of it was read: a refusal from the Content-Length reads none of it."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # the test client rewinds the body before sending it
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def tell(self) -> int:
        return 0

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        size = len(buffer)
        buffer[:size] = b"{" * size
        self.read_bytes += size
        return size


def _post(client, path: str, length: int, content_type: str):
    stream = UnreadStream()
    response = client.post(
        path,
        input_stream=stream,
        content_type=content_type,
        environ_overrides={"CONTENT_LENGTH": str(length)},
    )
    return response, stream


def test_a_200_mb_json_body_to_the_booking_api_is_413_problem_json_unread(app, client):
    response, stream = _post(client, "/api/v1/appointments/bookings", 200 * MB, "application/json")

    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["max_bytes"] == BOOKING_BODY_LIMIT
    assert stream.read_bytes == 0


def test_the_booking_api_has_a_limit_of_its_own_below_the_app_wide_one(app, client):
    response, stream = _post(client, "/api/v1/appointments/bookings", BOOKING_BODY_LIMIT + 1, "application/json")

    assert response.status_code == 413
    assert stream.read_bytes == 0
    assert app.config["MAX_CONTENT_LENGTH_NO_FILES"] > BOOKING_BODY_LIMIT


NEED_A_TOKEN = {"/api/v1/payments", "/api/v1/dataaccess/access"}


def test_every_json_api_route_refuses_a_body_beyond_the_no_files_cap(app, client):
    cap = app.config["MAX_CONTENT_LENGTH_NO_FILES"]
    paths = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") and "POST" in (rule.methods or ()) and not rule.arguments
    ]
    assert len(paths) >= 3
    for path in paths:
        response, stream = _post(client, path, cap + 1, "application/json")
        # Routes that need a token refuse the missing token first; either way the body stays unread.
        assert response.status_code == (401 if path in NEED_A_TOKEN else 413), path
        assert response.mimetype == "application/problem+json", path
        assert stream.read_bytes == 0, path


def test_a_too_large_form_gets_the_friendly_page(app, client):
    response, stream = _post(client, "/anmelden", 3 * MB, "application/x-www-form-urlencoded")

    assert response.status_code == 413
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "höchstens 2 MB" in page and "Zur Startseite" in page
    assert stream.read_bytes == 0
