"""The README stays true: every setting a service declares is in its configuration table."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal import declarations

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def app_config(app_config):
    return {
        **app_config,
        "SERVICES": ["appointments", "payments", "participation", "dataaccess", "permits", "controlling", "building"],
    }


def test_every_declared_setting_is_documented(app):
    text = README.read_text(encoding="utf-8")
    missing = [name for name in declarations.settings(app) if f"`{name}`" not in text]
    assert not missing, f"settings missing from README.md's configuration table: {missing}"


def test_every_declared_scope_is_documented(app):
    text = README.read_text(encoding="utf-8")
    missing = [name for name in declarations.scopes(app) if f"`{name}`" not in text]
    assert not missing, f"API scopes missing from README.md: {missing}"
