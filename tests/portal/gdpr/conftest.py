from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def pdf_font_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pdf-fonts")


@pytest.fixture
def app_config(app_config: dict, pdf_font_dir: Path) -> dict:
    return {**app_config, "PDF_FONT_DIR": str(pdf_font_dir)}
