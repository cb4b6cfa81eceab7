"""Audit actions of the admin area that the core does not declare (portal/audit/actions.py has the rest)."""

from portal.audit.registry import declare

declare("invitation.revoked", ["kind", "email"], "A pending invitation was withdrawn")
declare("demo.loaded", ["created"], "Demo data was loaded (only written when something was created)")
