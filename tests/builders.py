"""Plain builder functions for test data, and an AuthActions helper (after Flask's tutorial)."""

from __future__ import annotations

import re
from typing import Any

import pyotp

from portal.accounts.models import DepartmentMembership, User, UserRole
from portal.accounts.passwords import hash_password
from portal.departments.models import Department, Location
from portal.extensions import db
from portal.timeutil import utcnow

PASSWORD = "richtig-langes-Passwort-1"
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    if not match:
        raise AssertionError("no csrf_token in page")
    return match.group(1) or match.group(2)


def make_department(slug: str = "buergeramt", name: str = "Bürgeramt") -> Department:
    department = Department(slug=slug, name=name)
    db.session.add(department)
    db.session.commit()
    return department


def make_location(department: Department, name: str = "Bürgerbüro Mitte") -> Location:
    location = Location(
        department=department,
        name=name,
        street="Rathausplatz 1",
        postcode="01067",
        city="Musterstadt",
        latitude=51.05,
        longitude=13.74,
    )
    db.session.add(location)
    db.session.commit()
    return location


def make_user(
    email: str = "anna@example.org",
    password: str = PASSWORD,
    *,
    verified: bool = True,
    roles: tuple[str, ...] = (),
    department: Department | None = None,
    department_role: str | None = None,
    totp: bool = False,
    **fields: Any,
) -> User:
    user = User(
        email=email, password_hash=hash_password(password), display_name=fields.pop("display_name", "Anna"), **fields
    )
    if verified:
        user.email_verified_at = utcnow()
    for role in roles:
        user.roles.append(UserRole(role=role))
    if department is not None and department_role:
        user.memberships.append(DepartmentMembership(department_id=department.id, role=department_role))
    if totp:
        user.totp_secret = pyotp.random_base32()
        user.totp_enabled_at = utcnow()
    db.session.add(user)
    db.session.commit()
    return user


class AuthActions:
    def __init__(self, client) -> None:
        self.client = client

    def csrf(self, url: str) -> str:
        return csrf_from(self.client.get(url).get_data(as_text=True))

    def post_form(self, url: str, data: dict[str, Any], **kwargs: Any):
        return self.client.post(url, data={"csrf_token": self.csrf(url), **data}, **kwargs)

    def login(self, email: str = "anna@example.org", password: str = PASSWORD, **kwargs: Any):
        return self.post_form("/anmelden", {"email": email, "password": password}, **kwargs)

    def totp(self, user: User, **kwargs: Any):
        assert user.totp_secret
        return self.post_form("/anmelden/zwei-faktor", {"code": pyotp.TOTP(user.totp_secret).now()}, **kwargs)

    def logout(self):
        return self.client.post("/abmelden", data={"csrf_token": self.csrf("/")})
