"""The browser fixtures of tests/e2e, for the accessibility scan of the fee pages."""

from tests.e2e.conftest import (  # noqa: F401
    base_url,
    browser_context_args,
    browser_type_launch_args,
    live_server,
    page,
)
