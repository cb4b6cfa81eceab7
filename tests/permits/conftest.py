"""Permit fixtures: the Verkehrs- und Tiefbauamt with a clerk, an applicant, and a small catalogue with a tariff."""

from __future__ import annotations

import pytest

from tests.permits.builders import World, make_world


@pytest.fixture
def world(app) -> World:
    return make_world()
