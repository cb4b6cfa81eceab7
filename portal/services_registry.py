"""How a service package plugs into the portal without the core knowing it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask


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
