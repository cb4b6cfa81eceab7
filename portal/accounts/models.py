"""Accounts: people, businesses, roles, sessions and the secrets that protect them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import Model
from portal.models_base import UTCDateTime
from portal.timeutil import utcnow


class GlobalRole(enum.StrEnum):
    MODERATOR = "moderator"
    TREASURY = "treasury"
    DPO = "dpo"
    PLATFORM_ADMIN = "platform_admin"


class DepartmentRole(enum.StrEnum):
    CLERK = "clerk"
    DEPARTMENT_ADMIN = "department_admin"
    DATA_STEWARD = "data_steward"


class User(Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    display_name: Mapped[str] = mapped_column(sa.String(200), default="")
    language: Mapped[str] = mapped_column(sa.String(5), default="de")
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Sign-in throttling per account; the per-IP counterpart lives in LoginThrottle.
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Last TOTP time step accepted, so one code can never be used twice.
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    roles: Mapped[list[UserRole]] = relationship(back_populates="user", cascade="all, delete-orphan")
    memberships: Mapped[list[DepartmentMembership]] = relationship(back_populates="user", cascade="all, delete-orphan")

    __table_args__ = (sa.CheckConstraint("language in ('de', 'en')", name="language"),)

    @property
    def global_roles(self) -> set[str]:
        return {r.role for r in self.roles}

    @property
    def is_staff(self) -> bool:
        return bool(self.roles or self.memberships)

    def has_role(self, role: str, department_id: int | None = None) -> bool:
        """A global role, or a department role (in that department when one is given).

        Role names are unique across both kinds (portal.declarations refuses a name declared twice).
        """
        if role in self.global_roles:
            return True
        return any(
            m.role == role and (department_id is None or m.department_id == department_id) for m in self.memberships
        )

    # Flask-Login protocol. The id Flask-Login keeps is the session token, not the user id, so that
    # "sign out elsewhere" can revoke one session without touching the others.
    # Set per request by portal.accounts.sessions; not a column (hence no Mapped annotation at runtime).
    if TYPE_CHECKING:
        session_token: str | None
    else:
        session_token = None

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.deleted_at is None

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.session_token


class UserRole(Model):
    __tablename__ = "user_role"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    role: Mapped[str] = mapped_column(sa.String(32))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user: Mapped[User] = relationship(back_populates="roles")

    __table_args__ = (sa.UniqueConstraint("user_id", "role", name="uq_user_role_user_role"),)


class DepartmentMembership(Model):
    __tablename__ = "department_membership"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("department.id"))
    role: Mapped[str] = mapped_column(sa.String(32))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user: Mapped[User] = relationship(back_populates="memberships")
    department = relationship("Department")

    __table_args__ = (sa.UniqueConstraint("user_id", "department_id", "role", name="uq_department_membership_triple"),)


class UserSession(Model):
    """One signed-in browser. Listed under Mein Konto → Sicherheit; revoking it signs that browser out."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(300))
    # How the person proved who they are: password, password+totp, oidc.
    method: Mapped[str] = mapped_column(sa.String(32), default="password")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user: Mapped[User] = relationship()


class EmailToken(Model):
    """Single-use, expiring token sent by mail (address verification, password reset). Only its hash is kept."""

    __tablename__ = "email_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    purpose: Mapped[str] = mapped_column(sa.String(32))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (sa.CheckConstraint("purpose in ('verify_email', 'reset_password')", name="purpose"),)


class RecoveryCode(Model):
    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(255))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LoginThrottle(Model):
    """Failed sign-ins counted per key ("ip:203.0.113.5"); accounts count on User itself."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Organisation(Model):
    """A business account. Its members act for it; the owner invites them."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    register_number: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    members: Mapped[list[OrganisationMember]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )


class OrganisationMember(Model):
    __tablename__ = "organisation_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    role: Mapped[str] = mapped_column(sa.String(16), default="member")
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    organisation: Mapped[Organisation] = relationship(back_populates="members")
    user: Mapped[User] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "user_id", name="uq_organisation_member_pair"),
        sa.CheckConstraint("role in ('owner', 'member')", name="role"),
    )


class Invitation(Model):
    """An invitation by mail: to join an organisation, or to take a staff role."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    email: Mapped[str] = mapped_column(sa.String(254))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id"))
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("department.id"))
    role: Mapped[str | None] = mapped_column(sa.String(32))
    invited_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (sa.CheckConstraint("kind in ('organisation', 'staff')", name="kind"),)


class OidcIdentity(Model):
    """A link between an account and an external OpenID Connect subject (BundID via Keycloak)."""

    __tablename__ = "oidc_identity"

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(sa.String(300))
    subject: Mapped[str] = mapped_column(sa.String(255))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    # "Vertrauensniveau": substantiell / hoch / normal, as the provider asserted it at the last sign-in.
    assurance_level: Mapped[str | None] = mapped_column(sa.String(64))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user: Mapped[User] = relationship()

    __table_args__ = (sa.UniqueConstraint("issuer", "subject", name="uq_oidc_identity_issuer_subject"),)


class ApiToken(Model):
    """A bearer token for staff and machine clients. Stored hashed; shown once at creation."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The first characters, so an operator can tell tokens apart without seeing the secret.
    prefix: Mapped[str] = mapped_column(sa.String(16))
    scopes: Mapped[str] = mapped_column(sa.String(300))  # space-separated, as in OAuth
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])

    @property
    def scope_set(self) -> set[str]:
        return set(self.scopes.split())
