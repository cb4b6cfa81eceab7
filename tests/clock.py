"""A frozen clock for tests whose outcome depends on the day they run (a date that passes, a holiday).

Every module reads the time through `portal.timeutil.utcnow`, imported by name; `freeze` replaces it in
`portal.timeutil` and in every loaded module that holds it, for the test's duration (undone by monkeypatch).
"""

from __future__ import annotations

import sys
from datetime import datetime

import pytest

from portal import timeutil


def freeze(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    assert moment.tzinfo is not None, "a frozen moment is zone-aware"
    original = timeutil.utcnow

    def frozen() -> datetime:
        return moment

    for module in list(sys.modules.values()):
        if getattr(module, "utcnow", None) is original:
            monkeypatch.setattr(module, "utcnow", frozen)
