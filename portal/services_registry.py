"""How a service package plugs into the portal without the core knowing it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from flask import Flask, current_app

# location ids, day -> {location id: [(weekday name, "08:00–12:00 Uhr"), ...]}
HoursSource = Callable[[Iterable[int], date], dict[int, list[tuple[str, str]]]]


@dataclass(frozen=True)
class Landing:
    name: str
    title: str
    summary: str
    endpoint: str | None
    # A planned service shows as a "bald online" card on the home page and stays out of the navigation.
    available: bool = True


def add_landing(app: Flask, landing: Landing) -> None:
    """List a service on the home page and in the main navigation."""
    app.extensions.setdefault("stadtportal_landing", []).append(landing)


def add_admin_link(app: Flask, endpoint: str, label: object) -> None:
    """List a service's staff page on the admin overview (shown when its access rule admits the person)."""
    app.extensions.setdefault("stadtportal_admin_links", []).append((endpoint, label))


def add_account_link(app: Flask, endpoint: str, label: object) -> None:
    """List a service's page for the citizen (e.g. "Meine Termine") on Mein Konto."""
    app.extensions.setdefault("stadtportal_account_links", []).append((endpoint, label))


def add_organisation_link(app: Flask, endpoint: str, label: object) -> None:
    """List a service's page about one business (e.g. its bookings) on that organisation's page; the endpoint
    takes `organisation_id`."""
    app.extensions.setdefault("stadtportal_organisation_links", []).append((endpoint, label))


def set_opening_hours_source(app: Flask, source: HoursSource, edit_endpoint: str) -> None:
    """Name the one place a location's opening hours come from (the appointments service's structured hours),
    and the page (taking `location_id`) where they are edited. Without one the core shows no hours at all, so
    no second, disagreeing copy can exist."""
    app.extensions["stadtportal_opening_hours"] = (source, edit_endpoint)


def opening_hours(location_ids: Iterable[int], on_day: date) -> dict[int, list[tuple[str, str]]] | None:
    """The weekly hours of these locations from the registered source; None when no service keeps hours."""
    registered = current_app.extensions.get("stadtportal_opening_hours")
    return registered[0](location_ids, on_day) if registered else None


def opening_hours_edit_endpoint() -> str | None:
    registered = current_app.extensions.get("stadtportal_opening_hours")
    return registered[1] if registered else None


def init_app(app: Flask) -> None:
    @app.context_processor
    def navigation_helper() -> dict:
        from flask import request, url_for

        def navigation() -> list[dict]:
            items = []
            for landing in app.extensions.get("stadtportal_landing", []):
                if not landing.available or landing.endpoint is None:
                    continue
                url = url_for(landing.endpoint)
                items.append({"url": url, "label": landing.title, "current": request.path.startswith(url)})
            return items

        return {"navigation": navigation}
