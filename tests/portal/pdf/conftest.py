from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def font_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One font cache for the session: the WOFF2 -> TrueType conversion is itself under test once."""
    return tmp_path_factory.mktemp("pdf-fonts")
