"""Four-eyes approval: a request decided by a second person with the right role."""
