"""The demo data of the embedded setup: five departments, two Bürgerbüros, a small service catalogue and one
account per role. Loaded by `flask demo load`; idempotent (what exists is left alone) and refused unless the
configuration says DEMO (development and test), so no known password ever reaches production.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import click
import pyotp
import sqlalchemy as sa
from flask import current_app

import portal.admin.actions  # noqa: F401  (declares demo.loaded)
from portal.accounts.models import DepartmentMembership, Organisation, OrganisationMember, User, UserRole
from portal.accounts.passwords import hash_password
from portal.actors import SYSTEM
from portal.audit import services as audit
from portal.departments.models import CatalogueService, Department, Location
from portal.departments.services import get_department_by_slug
from portal.extensions import db
from portal.timeutil import utcnow
from portal.transaction import transaction

# Documented in README.md ("Demo accounts"). Public on purpose: these accounts exist only with DEMO on.
DEMO_PASSWORD = "Stadtportal-Demo-2026"  # noqa: S105
DEMO_TOTP_SECRET = "DEMOSTADTPORTALTOTPGEHEIMNIS2345"  # noqa: S105  (base32, shared by every demo staff account)
DEMO_DOMAIN = "demo.stadtportal.example"

DEPARTMENTS = [
    ("buergeramt", "Bürgeramt", "buergeramt@stadtportal.example", "030 23125-101"),
    ("bauordnung", "Amt für Bauordnung und Denkmalpflege", "bauordnung@stadtportal.example", "030 23125-102"),
    ("verkehr-tiefbau", "Verkehrs- und Tiefbauamt", "tiefbau@stadtportal.example", "030 23125-103"),
    ("stadtkasse", "Stadtkämmerei/Stadtkasse", "stadtkasse@stadtportal.example", "030 23125-104"),
    ("hauptamt", "Hauptamt (IT-Koordination)", "it-koordination@stadtportal.example", "030 23125-105"),
]


@dataclass(frozen=True)
class DemoLocation:
    department: str
    name: str
    street: str
    postcode: str
    city: str
    latitude: float
    longitude: float
    notes: str


LOCATIONS = [
    DemoLocation(
        "buergeramt",
        "Bürgerbüro Mitte",
        "Rathausplatz 1",
        "01067",
        "Musterstadt",
        51.0504,
        13.7373,
        "Barrierefreier Eingang am Rathausplatz; Aufzug ins 1. Obergeschoss.",
    ),
    DemoLocation(
        "buergeramt",
        "Bürgerbüro Nord",
        "Großenhainer Straße 92",
        "01127",
        "Musterstadt",
        51.0798,
        13.7296,
        "Parkplätze im Hof; Eingang über die Großenhainer Straße.",
    ),
]

# LeiKa keys left empty: we only enter keys checked against the official catalogue.
CATALOGUE = [
    ("buergeramt", "Personalausweis beantragen", "Neuen Personalausweis beantragen, persönlich im Bürgerbüro."),
    ("buergeramt", "Reisepass beantragen", "Neuen Reisepass oder Express-Reisepass beantragen."),
    ("buergeramt", "Meldebescheinigung", "Bescheinigung über die aktuelle Anmeldung in der Stadt."),
    ("bauordnung", "Beratung Bauantrag", "Beratungsgespräch vor dem Einreichen eines Bauantrags."),
    (
        "verkehr-tiefbau",
        "Sondernutzungserlaubnis beantragen",
        "Öffentliche Verkehrsfläche nutzen, z. B. für Gerüst, Container oder Umzug.",
    ),
]

# What to bring, what it costs and the English texts of the demo catalogue (name: fee kind, cents, bring,
# English name, English description, English bring). Fees as the Personalausweisgebührenverordnung and
# Passverordnung set them for adults.
CATALOGUE_DETAILS: dict[str, tuple[str, int | None, str, str, str, str]] = {
    "Personalausweis beantragen": (
        "fixed",
        3700,
        "biometrisches Passfoto\nbisheriger Personalausweis\nbei Namensänderung: Urkunde",
        "Apply for an identity card",
        "Apply for a new German identity card in person at the citizens' office.",
        "biometric passport photo\nyour current identity card\nafter a change of name: the certificate",
    ),
    "Reisepass beantragen": (
        "fixed",
        7000,
        "biometrisches Passfoto\nbisheriger Reisepass oder Personalausweis",
        "Apply for a passport",
        "Apply for a new passport or an express passport.",
        "biometric passport photo\nyour current passport or identity card",
    ),
    "Meldebescheinigung": (
        "free",
        None,
        "Personalausweis oder Reisepass",
        "Certificate of registration",
        "A certificate of your current registered address in the city.",
        "identity card or passport",
    ),
    "Beratung Bauantrag": (
        "free",
        None,
        "Lageplan des Grundstücks\nerste Skizzen oder Pläne",
        "Advice on a building application",
        "A consultation before you submit a building application.",
        "site plan of the plot\nfirst sketches or plans",
    ),
    "Sondernutzungserlaubnis beantragen": (
        "varies",
        None,
        "Skizze der genutzten Fläche\nZeitraum der Nutzung",
        "Apply for a special-use permit",
        "Use public roads or pavements, e.g. for scaffolding, a skip or a removal.",
        "sketch of the area used\nthe period of use",
    ),
}


def apply_catalogue_details(entry: CatalogueService) -> bool:
    """Give a demo entry its fee, what to bring and English texts unless someone has set them already."""
    details = CATALOGUE_DETAILS.get(entry.name)
    if details is None or entry.name_en or entry.bring or (entry.fee_kind or "unknown") != "unknown":
        return False
    entry.fee_kind, entry.fee_cents, entry.bring, entry.name_en, entry.description_en, entry.bring_en = details
    return True


@dataclass(frozen=True)
class DemoAccount:
    local_part: str
    display_name: str
    role: str  # citizen, business, or a global/department role
    department: str | None = None

    @property
    def email(self) -> str:
        return f"{self.local_part}@{DEMO_DOMAIN}"

    @property
    def is_staff(self) -> bool:
        return self.role not in {"citizen", "business"}


ACCOUNTS = [
    DemoAccount("buerger", "Erika Mustermann", "citizen"),
    DemoAccount("unternehmen", "Max Bauherr", "business"),
    DemoAccount("sachbearbeitung", "Sabine Sachbearbeiterin", "clerk", "buergeramt"),
    DemoAccount("amtsadmin", "Anton Amtsleiter", "department_admin", "buergeramt"),
    DemoAccount("daten", "Dana Datenverantwortliche", "data_steward", "hauptamt"),
    DemoAccount("moderation", "Moritz Moderator", "moderator"),
    DemoAccount("kasse", "Karla Kasse", "treasury"),
    # A second treasury person: refunds need four eyes, so the demo can show a request being approved.
    DemoAccount("kasse2", "Konrad Kassierer", "treasury"),
    DemoAccount("datenschutz", "Dirk Datenschutz", "dpo"),
    DemoAccount("admin", "Petra Plattform", "platform_admin"),
]
DEMO_ORGANISATION = ("Muster Bau GmbH", "HRB 12345")


class DemoRefused(click.ClickException):
    pass


def _require_demo() -> None:
    if not current_app.config.get("DEMO") or current_app.config.get("ENV_NAME") == "production":
        raise DemoRefused(
            "Demo data is only available with DEMO on (development and test); refusing in this environment."
        )


class _Loader:
    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo
        self.created: Counter[str] = Counter()
        self.present: Counter[str] = Counter()
        self._password_hash: str | None = None

    def count(self, kind: str, created: bool) -> None:
        (self.created if created else self.present)[kind] += 1

    def step_done(self, kind: str, label: str) -> None:
        self.echo(f"  {label}: {self.created[kind]} created, {self.present[kind]} already present")

    @property
    def password_hash(self) -> str:
        # One hash for all demo accounts: argon2 is slow on purpose and they share the password anyway.
        if self._password_hash is None:
            self._password_hash = hash_password(DEMO_PASSWORD)
        return self._password_hash

    def departments(self) -> dict[str, Department]:
        found: dict[str, Department] = {}
        for slug, name, email, phone in DEPARTMENTS:
            department = get_department_by_slug(slug)
            self.count("departments", department is None)
            if department is None:
                department = Department(slug=slug, name=name, email=email, phone=phone)
                db.session.add(department)
                audit.record("department.saved", SYSTEM, target=department, name=name, slug=slug, created=True)
            found[slug] = department
        return found

    def locations(self, departments: dict[str, Department]) -> None:
        for item in LOCATIONS:
            department = departments[item.department]
            exists = db.session.scalar(
                sa.select(Location.id).where(Location.department_id == department.id, Location.name == item.name)
            )
            if exists is None:
                location = Location(
                    department=department,
                    name=item.name,
                    street=item.street,
                    postcode=item.postcode,
                    city=item.city,
                    latitude=item.latitude,
                    longitude=item.longitude,
                    notes=item.notes,
                )
                db.session.add(location)
                audit.record(
                    "location.saved", SYSTEM, target=location, name=item.name, department_id=department.id, created=True
                )
            self.count("locations", exists is None)

    def catalogue(self, departments: dict[str, Department]) -> None:
        for slug, name, description in CATALOGUE:
            entry = db.session.scalar(sa.select(CatalogueService).where(CatalogueService.name == name).limit(1))
            created = entry is None
            if entry is None:
                department = departments[slug]
                entry = CatalogueService(name=name, description=description, department=department, active=True)
                db.session.add(entry)
            if apply_catalogue_details(entry) or created:
                audit.record(
                    "catalogue.saved",
                    SYSTEM,
                    target=entry,
                    name=name,
                    department_id=entry.department_id if not created else departments[slug].id,
                    leika_key=entry.leika_key,
                    fee_kind=entry.fee_kind,
                    fee_cents=entry.fee_cents,
                    active=entry.active,
                    created=created,
                )
            self.count("catalogue", created)

    def accounts(self, departments: dict[str, Department]) -> None:
        for account in ACCOUNTS:
            user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == account.email))
            self.count("accounts", user is None)
            if user is None:
                user = User(
                    email=account.email,
                    password_hash=self.password_hash,
                    display_name=account.display_name,
                    language="de",
                    email_verified_at=utcnow(),
                )
                if account.is_staff:
                    user.totp_secret = DEMO_TOTP_SECRET
                    user.totp_enabled_at = utcnow()
                db.session.add(user)
                db.session.flush()
            self._role(user, account, departments)

    def _role(self, user: User, account: DemoAccount, departments: dict[str, Department]) -> None:
        if account.role == "citizen":
            return
        if account.role == "business":
            self._organisation(user)
            return
        department = departments[account.department] if account.department else None
        department_id = department.id if department else None
        if user.has_role(account.role, department_id):
            self.count("roles", False)
            return
        if department is None:
            user.roles.append(UserRole(role=account.role))
        else:
            user.memberships.append(DepartmentMembership(department_id=department.id, role=account.role))
        audit.record(
            "role.granted", SYSTEM, target=user, subject_user_id=user.id, role=account.role, department_id=department_id
        )
        self.count("roles", True)

    def _organisation(self, owner: User) -> None:
        name, register_number = DEMO_ORGANISATION
        organisation = db.session.scalar(sa.select(Organisation).where(Organisation.name == name))
        self.count("organisations", organisation is None)
        if organisation is None:
            organisation = Organisation(name=name, register_number=register_number)
            db.session.add(organisation)
            audit.record("organisation.created", SYSTEM, target=organisation, name=name)
        member = db.session.scalar(
            sa.select(OrganisationMember).where(
                OrganisationMember.organisation_id == organisation.id, OrganisationMember.user_id == owner.id
            )
        )
        if member is None:
            organisation.members.append(OrganisationMember(user_id=owner.id, role="owner"))


def load_core(echo: Callable[[str], None] = print) -> dict[str, int]:
    """Load the core demo data in one transaction; returns how many records of each kind were created."""
    _require_demo()
    loader = _Loader(echo)
    with transaction():
        echo("Departments …")
        departments = loader.departments()
        db.session.flush()
        loader.step_done("departments", "departments")
        echo("Locations …")
        loader.locations(departments)
        loader.step_done("locations", "locations")
        echo("Service catalogue …")
        loader.catalogue(departments)
        loader.step_done("catalogue", "catalogue services")
        echo("Demo accounts …")
        loader.accounts(departments)
        loader.step_done("accounts", "accounts")
        loader.step_done("roles", "staff roles")
        loader.step_done("organisations", "organisations")
        created = sum(loader.created.values())
        if created:
            audit.record("demo.loaded", SYSTEM, created=dict(loader.created))
    present = sum(loader.present.values())
    if created:
        echo(f"Summary: {created} created, {present} already present.")
    else:
        echo(f"Summary: nothing changed – all {present} demo records were already present.")
    return dict(loader.created)


def current_totp_code(email: str) -> str:
    """The current two-factor code of a demo staff account (for `flask demo totp EMAIL`)."""
    _require_demo()
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))
    if user is None or not user.totp_secret:
        raise click.ClickException(f"{email}: no such account with two-factor authentication.")
    if user.totp_secret != DEMO_TOTP_SECRET:
        # Only the shared demo secret is printed; a real person's second factor stays with them.
        raise click.ClickException(f"{email}: not a demo account.")
    return pyotp.TOTP(user.totp_secret).now()
