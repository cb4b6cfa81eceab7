"""Every test of the per-worker cache again with the shared Redis cache switched on: each path that changes
availability must replace the location's token, and time alone must end a shared answer as it ends a local one.
(The statement count and the LRU size are the per-worker cache's own and stay in test_availability_cache.)"""

from __future__ import annotations

import pytest

from tests.appointments.engine import test_availability_cache as per_worker
from tests.appointments.engine.test_search_cache_redis import REDIS_URL, prefix  # noqa: F401  (fixture; skips without Redis)

_OWN = {
    "test_a_repeated_search_costs_one_statement_and_a_changed_location_is_searched_again",
    "test_the_cache_keeps_at_most_its_size_in_answers",
}
globals().update(
    {name: test for name, test in vars(per_worker).items() if name.startswith("test_") and name not in _OWN}
)


@pytest.fixture
def app_config(app_config: dict, prefix: str) -> dict:  # noqa: F811
    return {**app_config, "APPOINTMENTS_SEARCH_CACHE_URL": REDIS_URL, "APPOINTMENTS_SEARCH_CACHE_PREFIX": prefix}
