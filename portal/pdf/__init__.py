"""PDF documents in the portal's look."""
