"""Participation fixtures: a planning office with its consultation manager, an admin and three citizens."""

from __future__ import annotations

import pytest

from tests.participation.builders import World, make_world


@pytest.fixture
def world(app) -> World:
    return make_world()
