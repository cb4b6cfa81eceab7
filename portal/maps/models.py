"""The city's street list."""
