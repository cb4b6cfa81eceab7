"""Human reference numbers: per-prefix, per-year counters; the Kassenzeichen with a check digit."""

from portal.references.kassenzeichen import (
    check_digits,
    format_kassenzeichen,
    is_valid_kassenzeichen,
    next_kassenzeichen,
)
from portal.references.services import (
    ReferencePrefix,
    format_reference,
    next_reference,
    parse_reference,
    register_prefix,
    registered_prefixes,
)

__all__ = [
    "ReferencePrefix",
    "check_digits",
    "format_kassenzeichen",
    "format_reference",
    "is_valid_kassenzeichen",
    "next_kassenzeichen",
    "next_reference",
    "parse_reference",
    "register_prefix",
    "registered_prefixes",
]
