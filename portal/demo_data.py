"""The demo data itself; filled in by the foundation issue."""

from __future__ import annotations

from collections.abc import Callable


def load_core(echo: Callable[[str], None] = print) -> None:
    echo("core demo data: nothing yet")
