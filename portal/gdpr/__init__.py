"""GDPR hooks: services register an export section and an erasure handler."""
