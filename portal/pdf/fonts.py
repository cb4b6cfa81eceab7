"""KERN's typeface, Fira Sans, as TrueType files fpdf2 can embed.

KERN ships the fonts as WOFF2 (for browsers); fpdf2 reads TrueType. fontTools (with brotli) unpacks them once
into a cache directory (PDF_FONT_DIR, by default in the instance folder); later renders read the cached files.
Embedding a real Unicode font is what makes €, „“, – and umlauts print and copy correctly, and PDF/UA requires
every font to be embedded anyway (the 14 standard PDF fonts are not).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from portal.config import BASE_DIR

SOURCE_DIR = BASE_DIR / "node_modules" / "@kern-ux" / "native" / "dist" / "fonts" / "fira-sans"
FAMILY = "FiraSans"
# fpdf2 style -> KERN cut. KERN sets headings in semi-bold (600), so "B" is SemiBold, not Bold.
STYLES = {"": "Regular", "B": "SemiBold", "I": "Italic"}


class FontsMissingError(RuntimeError):
    """The KERN fonts are not installed (npm install puts them in node_modules)."""


def default_cache_dir() -> Path:
    """PDF_FONT_DIR of the current app, else a directory in the system's temp folder (scripts, no app)."""
    from flask import current_app, has_app_context

    if has_app_context() and current_app.config.get("PDF_FONT_DIR"):
        return Path(current_app.config["PDF_FONT_DIR"])
    if has_app_context():
        return Path(current_app.instance_path) / "pdf-fonts"
    return Path(tempfile.gettempdir()) / "stadtportal-pdf-fonts"


def font_files(cache_dir: Path | None = None, source_dir: Path = SOURCE_DIR) -> dict[str, Path]:
    """fpdf2 style -> TrueType path, converting from WOFF2 the first time (safe when processes race)."""
    cache = cache_dir or default_cache_dir()
    files: dict[str, Path] = {}
    for style, cut in STYLES.items():
        target = cache / f"{FAMILY}-{cut}.ttf"
        if not target.exists():
            source = source_dir / f"{FAMILY}-{cut}.woff2"
            if not source.exists():
                raise FontsMissingError(f"{source} is missing; run `npm install` to get @kern-ux/native's fonts")
            _convert(source, target)
        files[style] = target
    return files


def _convert(source: Path, target: Path) -> None:
    from fontTools.ttLib import TTFont

    target.parent.mkdir(parents=True, exist_ok=True)
    font = TTFont(str(source))
    font.flavor = None  # WOFF2 -> plain sfnt (TrueType outlines)
    # Fira's OS/2 table says version 3 but sets bits defined from version 4 on (USE_TYPO_METRICS); version 4 has
    # the same fields, and saying so keeps fontTools from warning on every subset fpdf2 makes.
    if "OS/2" in font and font["OS/2"].version == 3:
        font["OS/2"].version = 4
    # Write beside the target and rename: a concurrent render never reads a half-written file.
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")
    os.close(handle)
    try:
        font.save(temporary)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
