"""A service for the tests that builds on sample_service."""

from __future__ import annotations

from flask import Flask

REQUIRES = ("tests.portal.declarations.sample_service",)
REGISTERED: list[str] = []


def register(app: Flask) -> None:
    # The dependency must already be registered when this one is.
    assert "tests.portal.declarations.sample_service" in app.extensions["stadtportal_services"]
    REGISTERED.append(app.name)
