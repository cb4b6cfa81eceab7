"""Demo data of the data-access service: a catalogue, three datasets, two approved agreements and a few accesses
to the demo citizen's data, so that "Mein Konto → Datenzugriffe" of buerger@demo.stadtportal.example shows
granted and refused accesses and a standing once-only request.

Runs after the core demo (departments, accounts) and the payments demo (the citizen's paid fees). Idempotent:
memberships are found by role, catalogue entries by code / label / key, records by their key, agreements by
consumer and dataset, the demo accesses by their case references; what exists is left alone. Refused unless
DEMO is on.

Who does what, honestly:
- The core demo has one data steward (daten@, Hauptamt only). Agreements need the owning department's steward
  and the dpo, and neither may be the person who submits. So the hook grants demo roles, written as the core demo
  writes them (membership row + "role.granted" audited as the system): daten@ becomes data steward of the
  Bauordnung and the Stadtkasse (the owners who approve), amtsadmin@ data steward of the Verkehrs- und
  Tiefbauamt (owner of the traffic orders, and the one who writes and submits the road department's agreements),
  sachbearbeitung@ a clerk there (the official who reads).
- The catalogue (purposes, legal bases, datasets, fields) and the stored records are written by the system, like
  other demos write their catalogues (audited as the system).
- The agreements go through the real four-eyes flow: submitted by amtsadmin@, approved by daten@ (steward) and
  datenschutz@ (dpo). The core lets only people decide approvals and the schema demands two different approvers
  who are not the requester, so these events carry the demo people as actors: there is no honest way for "the
  system" to give a four-eyes approval.
- The accesses are real reads by sachbearbeitung@ through dataaccess.services.access.read (the system is never
  admitted to read), and the standing request is the demo citizen's own (create_request refuses anyone else).

The treasury's paid fees are not stored here: `register_fee_provider` lets the dataset read the citizen's paid
payments through payments.services.orders (public functions only). With payments switched off the dataset has
no provider and reads from the (empty) record store: an access is granted and returns no records.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import Flask

from dataaccess.errors import AccessRefused
from dataaccess.models import (
    AccessAgreement,
    AccessLog,
    AgreementState,
    CitizenRequest,
    Dataset,
    DatasetField,
    DatasetRecord,
    LegalBasis,
    Purpose,
)
from dataaccess.services import access, agreements, citizen_requests, records
from dataaccess.services.agreements import AgreementTerms
from dataaccess.services.catalogue import ART9_CATEGORIES
from dataaccess.services.common import today
from portal.accounts.models import DepartmentMembership, User
from portal.actors import SYSTEM, Actor
from portal.approvals.services import decide
from portal.audit import services as audit
from portal.demo_data import DEMO_DOMAIN, _require_demo
from portal.departments.services import get_department_by_slug
from portal.extensions import db
from portal.transaction import transaction

CITIZEN = f"buerger@{DEMO_DOMAIN}"
STEWARD = f"daten@{DEMO_DOMAIN}"
ROAD_STEWARD = f"amtsadmin@{DEMO_DOMAIN}"
OFFICIAL = f"sachbearbeitung@{DEMO_DOMAIN}"
DPO = f"datenschutz@{DEMO_DOMAIN}"
FEES_KEY = "stadtkasse.gebuehren"

# (account, role, department slug): see the module docstring for why.
GRANTS = [
    (STEWARD, "data_steward", "bauordnung"),
    (STEWARD, "data_steward", "stadtkasse"),
    (ROAD_STEWARD, "data_steward", "verkehr-tiefbau"),
    (OFFICIAL, "clerk", "verkehr-tiefbau"),
]

PURPOSES = [
    ("SNU-PRUEFUNG", "Prüfung eines Antrags auf Sondernutzung", "Ob eine Baustelle genehmigt ist und wo sie liegt."),
    ("GEBUEHR-PRUEFUNG", "Prüfung bereits bezahlter Gebühren", "Ob eine Gebühr für den Vorgang schon bezahlt ist."),
    ("VERK-ANORDNUNG", "Prüfung einer verkehrsrechtlichen Anordnung", ""),
    # The portal shows a person their own records (building.services: the status of their building applications).
    ("AUSK-BETR", "Auskunft an Betroffene", "Die Person sieht im Bürgerportal ihre eigenen Daten ein."),
]
LEGAL_BASES = [
    ("Sondernutzung (SächsStrG)", "§ 18 SächsStrG i. V. m. Art. 6 Abs. 1 lit. e DSGVO"),
    (
        "Sondernutzung, auf Antrag der Person",
        "§ 18 SächsStrG i. V. m. Art. 6 Abs. 1 lit. e DSGVO;"
        " Abruf nur auf ausdrücklichen Antrag der betroffenen Person",
    ),
    (
        "Auskunft an Betroffene (Art. 15 DSGVO)",
        "Art. 15 DSGVO i. V. m. Art. 6 Abs. 1 lit. c DSGVO; Abruf nur über das Konto der betroffenen Person",
    ),
]


@dataclass(frozen=True)
class DemoDataset:
    key: str
    department: str
    name: str
    description: str
    retention_days: int
    fields: list[tuple[str, str, str]]  # name, label, category


DATASETS = [
    DemoDataset(
        "bauordnung.baugenehmigungen",
        "bauordnung",
        "Baugenehmigungen",
        "Erteilte und beantragte Baugenehmigungen mit Vorhaben, Grundstück und Stand des Verfahrens.",
        3650 * 3,
        [
            ("aktenzeichen", "Aktenzeichen der Baugenehmigung", "case"),
            ("vorhaben", "Bauvorhaben", "property"),
            ("grundstueck", "Grundstück (Anschrift)", "address"),
            ("status", "Stand des Verfahrens", "case"),
            ("erteilt_am", "Erteilt am", "case"),
            ("auflagen", "Auflagen und Nebenbestimmungen", "case"),
        ],
    ),
    DemoDataset(
        "verkehr.anordnungen",
        "verkehr-tiefbau",
        "Verkehrsrechtliche Anordnungen",
        "Anordnungen nach § 45 StVO: Halteverbote, Sperrungen, Umleitungen für Baustellen und Umzüge.",
        3650,
        [
            ("aktenzeichen", "Aktenzeichen der Anordnung", "case"),
            ("massnahme", "Maßnahme", "case"),
            ("ort", "Ort", "address"),
            ("zeitraum", "Zeitraum", "case"),
            ("status", "Stand", "case"),
        ],
    ),
    DemoDataset(
        FEES_KEY,
        "stadtkasse",
        "Bezahlte Gebühren",
        "Gebühren, die die Person online oder per Überweisung bezahlt hat (aus dem Bezahldienst des Portals).",
        3650,
        [
            ("kassenzeichen", "Kassenzeichen", "financial"),
            ("verwendungszweck", "Verwendungszweck", "financial"),
            ("betrag_cents", "Betrag (Cent)", "financial"),
            ("bezahlt_am", "Bezahlt am", "financial"),
            ("vorgang", "Vorgang", "case"),
        ],
    ),
]

RECORDS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "bauordnung.baugenehmigungen",
        "BG-2026-0142",
        {
            "aktenzeichen": "BG-2026-0142",
            "vorhaben": "Errichtung eines Carports mit Geräteraum",
            "grundstueck": "Lindenstraße 12, 01067 Musterstadt",
            "status": "genehmigt",
            "erteilt_am": "2026-03-18",
            "auflagen": "Gerüst und Baustelleneinrichtung nur auf dem eigenen Grundstück oder mit Sondernutzung",
        },
    ),
    (
        "bauordnung.baugenehmigungen",
        "BG-2025-0877",
        {
            "aktenzeichen": "BG-2025-0877",
            "vorhaben": "Ausbau des Dachgeschosses",
            "grundstueck": "Lindenstraße 12, 01067 Musterstadt",
            "status": "abgeschlossen",
            "erteilt_am": "2025-09-02",
            "auflagen": "",
        },
    ),
    (
        "verkehr.anordnungen",
        "VA-2026-0311",
        {
            "aktenzeichen": "VA-2026-0311",
            "massnahme": "Absolutes Halteverbot für einen Umzug (15 m)",
            "ort": "Lindenstraße 12",
            "zeitraum": "04.05.2026, 7–18 Uhr",
            "status": "angeordnet",
        },
    ),
]


@dataclass(frozen=True)
class DemoAgreement:
    dataset: str
    consumer: str
    fields: list[str]
    purpose: str
    legal_basis: str  # label
    requires_citizen_request: bool
    note: str


AGREEMENTS = [
    DemoAgreement(
        "bauordnung.baugenehmigungen",
        "verkehr-tiefbau",
        ["aktenzeichen", "vorhaben", "grundstueck", "status", "erteilt_am"],
        "SNU-PRUEFUNG",
        "Sondernutzung (SächsStrG)",
        False,
        "Bei Anträgen auf Sondernutzung für Gerüste und Container prüfen, ob die Baumaßnahme genehmigt ist.",
    ),
    DemoAgreement(
        FEES_KEY,
        "verkehr-tiefbau",
        ["kassenzeichen", "verwendungszweck", "betrag_cents", "bezahlt_am"],
        "GEBUEHR-PRUEFUNG",
        "Sondernutzung, auf Antrag der Person",
        True,
        "Nachweis bezahlter Gebühren ohne erneutes Hochladen von Quittungen (nur auf Antrag der Person).",
    ),
]

CASE = "DEMO-SNU-2026-0001"


def paid_fees(subject: records.Subject) -> list[dict[str, Any]]:
    """The treasury's dataset: the person's paid payments, read through payments' public order functions."""
    from payments.services import orders

    user = db.session.get(User, subject.user_id) if subject.user_id is not None else None
    if user is None:
        return []
    return [
        {
            "kassenzeichen": payment.kassenzeichen,
            "verwendungszweck": payment.purpose,
            "betrag_cents": payment.amount_cents,
            "bezahlt_am": payment.succeeded_at.date().isoformat(),
            "vorgang": payment.case_reference,
        }
        for payment in orders.payments_of(Actor.for_user(user), limit=1000)
        if payment.succeeded_at is not None and payment.payer_user_id == user.id
    ]


def register_fee_provider(app: Flask) -> None:
    """Let the treasury's fees dataset read from payments, when payments is switched on (from register(app))."""
    if "payments" in app.config.get("SERVICES", []):
        records.register_provider(app, FEES_KEY, paid_fees)


@dataclass
class _Loader:
    echo: Callable[[str], None]
    created: Counter[str] = field(default_factory=Counter)
    present: Counter[str] = field(default_factory=Counter)

    def count(self, kind: str, created: bool) -> None:
        (self.created if created else self.present)[kind] += 1

    def user(self, email: str) -> User | None:
        return db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email))

    def grants(self) -> bool:
        with transaction():
            for email, role, slug in GRANTS:
                user, department = self.user(email), get_department_by_slug(slug)
                if user is None or department is None:
                    self.echo(f"  skipped: {email} or department {slug} missing (run the core demo first)")
                    return False
                has = user.has_role(role, department.id)
                self.count("roles", not has)
                if not has:
                    user.memberships.append(DepartmentMembership(department_id=department.id, role=role))
                    audit.record(
                        "role.granted",
                        SYSTEM,
                        target=user,
                        subject_user_id=user.id,
                        role=role,
                        department_id=department.id,
                    )
        return True

    def catalogue(self) -> None:
        with transaction():
            for code, label, description in PURPOSES:
                exists = db.session.scalar(sa.select(Purpose.id).where(Purpose.code == code))
                self.count("purposes", exists is None)
                if exists is None:
                    purpose = Purpose(code=code, label=label, description=description)
                    db.session.add(purpose)
                    audit.record("dataaccess.purpose_saved", SYSTEM, target=purpose, identifier=code, label=label)
            for label, citation in LEGAL_BASES:
                exists = db.session.scalar(sa.select(LegalBasis.id).where(LegalBasis.label == label))
                self.count("legal bases", exists is None)
                if exists is None:
                    basis = LegalBasis(label=label, citation=citation)
                    db.session.add(basis)
                    audit.record("dataaccess.legal_basis_saved", SYSTEM, target=basis, label=label, citation=citation)
            for item in DATASETS:
                self._dataset(item)

    def _dataset(self, item: DemoDataset) -> None:
        dataset = db.session.scalar(sa.select(Dataset).where(Dataset.key == item.key))
        self.count("datasets", dataset is None)
        if dataset is None:
            department = get_department_by_slug(item.department)
            assert department is not None  # checked by grants()
            dataset = Dataset(
                key=item.key,
                department_id=department.id,
                name=item.name,
                description=item.description,
                retention_days=item.retention_days,
                subject_kind="citizen",
            )
            db.session.add(dataset)
            db.session.flush()
            audit.record(
                "dataaccess.dataset_saved",
                SYSTEM,
                target=dataset,
                key=item.key,
                name=item.name,
                department_id=department.id,
            )
        have = set(dataset.field_names)
        for position, (name, label, category) in enumerate(item.fields):
            if name in have:
                continue
            special = category in ART9_CATEGORIES
            row = DatasetField(name=name, label=label, category=category, special_category=special, position=position)
            dataset.fields.append(row)
            db.session.flush()
            audit.record(
                "dataaccess.field_saved",
                SYSTEM,
                target=row,
                dataset=item.key,
                name=name,
                category=category,
                special_category=special,
            )

    def records(self, citizen: User) -> None:
        for key, record_key, data in RECORDS:
            exists = db.session.scalar(
                sa.select(DatasetRecord.id)
                .join(Dataset, Dataset.id == DatasetRecord.dataset_id)
                .where(Dataset.key == key, DatasetRecord.record_key == record_key)
            )
            self.count("records", exists is None)
            if exists is None:
                records.put_record(SYSTEM, key, record_key, records.Subject(user_id=citizen.id), data)

    def agreement(self, item: DemoAgreement) -> AccessAgreement | None:
        """The approved agreement, taken through draft → submitted → both approvals where it is not yet there."""
        dataset = db.session.scalar(sa.select(Dataset).where(Dataset.key == item.dataset))
        consumer = get_department_by_slug(item.consumer)
        basis = db.session.scalar(sa.select(LegalBasis).where(LegalBasis.label == item.legal_basis))
        drafter, steward, dpo = self.user(ROAD_STEWARD), self.user(STEWARD), self.user(DPO)
        if None in (dataset, consumer, basis, drafter, steward, dpo):
            self.echo(f"  skipped the agreement on {item.dataset}: demo accounts or catalogue missing")
            return None
        assert dataset and consumer and basis and drafter and steward and dpo
        found = db.session.scalar(
            sa.select(AccessAgreement)
            .where(
                AccessAgreement.dataset_id == dataset.id,
                AccessAgreement.consumer_department_id == consumer.id,
                AccessAgreement.state.in_(
                    (AgreementState.APPROVED.value, AgreementState.SUBMITTED.value, AgreementState.DRAFT.value)
                ),
            )
            .order_by(AccessAgreement.id.desc())
            .limit(1)
        )
        self.count("agreements", found is None or found.state != AgreementState.APPROVED)
        if found is None:
            this_year = today().year
            found = agreements.draft_agreement(
                Actor.for_user(drafter),
                AgreementTerms(
                    consumer_department_id=consumer.id,
                    dataset_id=dataset.id,
                    fields=item.fields,
                    purposes=[item.purpose],
                    legal_basis_id=basis.id,
                    valid_from=date(this_year, 1, 1),
                    valid_to=date(this_year + 2, 12, 31),
                    requires_case_reference=True,
                    requires_citizen_request=item.requires_citizen_request,
                    rate_limit_per_hour=60,
                    note=item.note,
                ),
            )
        if found.state == AgreementState.DRAFT:
            found = agreements.submit(Actor.for_user(drafter), found.id, item.note)
        if found.state == AgreementState.SUBMITTED:
            for decider, request_id, stamp in (
                (steward, found.steward_approval_id, found.steward_approved_at),
                (dpo, found.dpo_approval_id, found.dpo_approved_at),
            ):
                if stamp is None and request_id is not None:
                    decide(Actor.for_user(decider), request_id, approve=True, note="Demo")
            db.session.expire_all()
            found = db.session.get(AccessAgreement, found.id)
        return found

    def accesses(self, citizen: User, permits: AccessAgreement, fees: AccessAgreement) -> None:
        """A granted read, a refused one (a field the agreement does not allow), a refused one for want of the
        citizen's request, the citizen's standing request, then a granted read under it."""
        official = self.user(OFFICIAL)
        assert official is not None
        done = db.session.scalar(
            sa.select(AccessLog.id).where(AccessLog.subject_user_id == citizen.id, AccessLog.case_reference == CASE)
        )
        self.count("accesses", done is None)
        if done is not None:
            return
        reader = Actor.for_user(official)
        fields = ["aktenzeichen", "vorhaben", "status"]
        access.read(reader, permits.reference, "SNU-PRUEFUNG", CASE, citizen.id, fields)
        for agreement, purpose, wanted in (
            (permits, "SNU-PRUEFUNG", ["aktenzeichen", "auflagen"]),  # field_not_allowed
            (fees, "GEBUEHR-PRUEFUNG", ["kassenzeichen", "bezahlt_am"]),  # citizen_request_missing
        ):
            with contextlib.suppress(AccessRefused):  # refused and logged: that is the point
                access.read(reader, agreement.reference, purpose, CASE, citizen.id, wanted)
        exists = db.session.scalar(
            sa.select(CitizenRequest.id).where(
                CitizenRequest.user_id == citizen.id, CitizenRequest.dataset_id == fees.dataset_id
            )
        )
        if exists is None:
            citizen_requests.create_request(
                Actor.for_user(citizen),
                consumer_department_id=fees.consumer_department_id,
                dataset_id=fees.dataset_id,
                purpose_code="GEBUEHR-PRUEFUNG",
                standing=True,
            )
        access.read(reader, fees.reference, "GEBUEHR-PRUEFUNG", CASE, citizen.id, ["kassenzeichen", "bezahlt_am"])


def load(echo: Callable[[str], None] = print) -> dict[str, int]:
    """Add the data-access demo; returns how many of each kind were created."""
    _require_demo()
    loader = _Loader(echo)
    echo("Data access …")
    citizen = loader.user(CITIZEN)
    if citizen is None or not loader.grants():
        echo(f"  skipped: {CITIZEN} or the demo staff missing (run the core demo first)")
        return {}
    loader.catalogue()
    loader.records(citizen)
    made = [loader.agreement(item) for item in AGREEMENTS]
    permits, fees = made
    if permits is not None and fees is not None and permits.state == fees.state == AgreementState.APPROVED:
        loader.accesses(citizen, permits, fees)
    for kind in ("roles", "purposes", "legal bases", "datasets", "records", "agreements", "accesses"):
        echo(f"  {kind}: {loader.created[kind]} created, {loader.present[kind]} already present")
    return dict(loader.created)
