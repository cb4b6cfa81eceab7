"""Human reference numbers: per-prefix, per-year counters; the Kassenzeichen with a check digit."""
