"""Audit actions of the accounts area that the core list (portal/audit/actions.py) does not declare yet.

Imported by portal.accounts.services, so the actions exist whenever an accounts service can record them.
"""

from portal.audit.registry import declare

declare("account.verification_resent", [], "A new address verification link was requested")
declare("account.recovery_codes_generated", ["count"], "A new set of one-time recovery codes was made")
declare("organisation.acting_changed", ["organisation_id"], "A member started or stopped acting for a business")
declare("organisation.ownership_transferred", ["user_id"], "An owner handed a business over to another member")
declare("account.totp_disabled", [], "A citizen switched two-factor authentication off")
