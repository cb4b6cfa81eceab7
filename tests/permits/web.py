"""Helpers for the permit page tests: filling in a whole draft through the pages, as a browser would."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from typing import Any

from permits.services.quotes import today_in_berlin
from tests.builders import csrf_from
from tests.portal.files.samples import pdf

PUBLIC_ID_RE = re.compile(r"/sondernutzung/antraege/([0-9a-f]{32})")


def future(days: int = 60) -> date:
    """A first day well beyond every demo lead time."""
    return today_in_berlin() + timedelta(days=days)


def start_draft(client: Any, auth: Any) -> str:
    page = client.get("/sondernutzung/").get_data(as_text=True)
    response = client.post("/sondernutzung/antrag", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302, response.status_code
    match = PUBLIC_ID_RE.search(response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def section(public_id: str, slug: str) -> str:
    return f"/sondernutzung/antraege/{public_id}/{slug}"


def fill_everything(client: Any, auth: Any, public_id: str, *, use_type: str = "container") -> None:
    """Every section of a container on the Markt, 3 m × 2 m, three days; each save lands on the task list."""
    first = future()
    answers: list[tuple[str, dict[str, Any]]] = [
        (
            "antragsteller",
            {
                "applicant_name": "Erika Antrag",
                "applicant_address": "Markt 1, 01067 Musterstadt",
                "applicant_email": "antrag@example.org",
                "applicant_phone": "",
                "responsible_name": "Paul Polier",
                "responsible_phone": "0351 123456",
            },
        ),
        ("nutzung", {"use_type": use_type, "description": "Absetzmulde 7 m³"}),
        ("ort", {"street": "Markt", "house_number": "3", "location_geojson": ""}),
        (
            "zeitraum",
            {
                "start": first.isoformat(),
                "end": (first + timedelta(days=2)).isoformat(),
                "length_m": "3",
                "width_m": "2",
            },
        ),
        ("verkehr", {"footway_affected": "y"}),
        ("befreiung", {"exemption_reason": "none", "exemption_note": ""}),
    ]
    for slug, data in answers:
        response = auth.post_form(section(public_id, slug), data)
        assert response.status_code == 302, (slug, response.status_code, response.get_data(as_text=True)[:3000])
        assert response.headers["Location"].endswith(f"/sondernutzung/antraege/{public_id}/aufgaben")


def upload_pdf(auth: Any, url: str, kind: str = "site_plan", name: str = "lageplan.pdf", data: bytes | None = None):
    return auth.post_form(
        url,
        {"kind": kind, "file": (io.BytesIO(data if data is not None else pdf()), name)},
        content_type="multipart/form-data",
    )
