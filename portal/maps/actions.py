"""Audit actions of the maps part."""

from portal.audit.registry import declare

declare(
    "maps.streets_imported",
    ["source", "created", "updated", "unchanged", "removed"],
    "The city's street list was imported or updated (offline geocoding)",
)
