"""Reference counters."""
