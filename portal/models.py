"""Imports every core model so that metadata (and Alembic autogenerate) sees them all."""

import portal.approvals.models
import portal.files.models
import portal.job_runs
import portal.maps.models
import portal.references.models  # noqa: F401
from portal.accounts.models import (  # noqa: F401
    ApiToken,
    DepartmentMembership,
    EmailToken,
    Invitation,
    LoginThrottle,
    OidcIdentity,
    Organisation,
    OrganisationMember,
    RecoveryCode,
    User,
    UserRole,
    UserSession,
)
from portal.audit.models import AuditCheckpoint, AuditEvent, AuditPending  # noqa: F401
from portal.departments.models import CatalogueService, Department, Location  # noqa: F401
from portal.mail.models import OutboxAttachment, OutboxMessage  # noqa: F401
