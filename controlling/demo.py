"""The controlling part of `flask demo load`: the account controlling@ (Hauptamt/IT-Koordination) with the role
`controlling`, written as the core demo writes its accounts (audited as the system). Idempotent."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from controlling.services import ROLE
from portal.accounts.models import User, UserRole
from portal.accounts.passwords import hash_password
from portal.actors import SYSTEM
from portal.audit import services as audit
from portal.demo_data import DEMO_DOMAIN, DEMO_PASSWORD, DEMO_TOTP_SECRET, _require_demo
from portal.extensions import db
from portal.timeutil import utcnow
from portal.transaction import transaction

EMAIL = f"controlling@{DEMO_DOMAIN}"
NAME = "Carla Controlling"


def load(echo: Callable[[str], None] = print) -> dict[str, int]:
    _require_demo()
    echo("Controlling …")
    created = 0
    with transaction():
        user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == EMAIL))
        if user is None:
            user = User(
                email=EMAIL,
                password_hash=hash_password(DEMO_PASSWORD),
                display_name=NAME,
                language="de",
                email_verified_at=utcnow(),
                totp_secret=DEMO_TOTP_SECRET,
                totp_enabled_at=utcnow(),
            )
            db.session.add(user)
            db.session.flush()
            created += 1
        if not user.has_role(ROLE):
            user.roles.append(UserRole(role=ROLE))
            audit.record("role.granted", SYSTEM, target=user, subject_user_id=user.id, role=ROLE, department_id=None)
            created += 1
    echo(f"  account {EMAIL} with the role {ROLE}: {created} created")
    return {"controlling": created}
