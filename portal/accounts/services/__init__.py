"""Accounts use cases, one module per use case family. Views call exactly one function per request."""

import portal.accounts.actions  # noqa: F401  (declares this area's audit actions)
