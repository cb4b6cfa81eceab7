"""Data-access fixtures: the world of two departments, their people and a catalogue (see builders.py)."""

from __future__ import annotations

import pytest

from tests.dataaccess.builders import World, make_world


@pytest.fixture
def world(app) -> World:
    return make_world()
