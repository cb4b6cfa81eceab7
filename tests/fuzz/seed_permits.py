"""Permit cases in every state a form needs, so the form crawl reaches the applicant's and the clerks' buttons
(issue 11: shrink UNREACHED). Made through the permit services as a real case would be, each audited."""

from __future__ import annotations

import io
from datetime import timedelta

import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from permits.models import PermitApplication
from permits.services.form_data import data_from
from portal.accounts.models import User
from portal.actors import SYSTEM, Actor
from portal.extensions import db


def _user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email))


def permit_cases(demo_domain: str) -> None:
    """As the demo citizen and the demo permit clerk: a submitted case (accept, ask for documents, withdraw), one
    in its formal check (consult, ask a statement, decide), one asking the traffic office for a statement, one
    waiting for documents with an uploaded file, and a permit in force (extend). Call inside an app context."""
    from permits.services import applications, desk, statements
    from permits.services.quotes import today_in_berlin
    from portal.departments.services import get_department_by_slug

    citizen, clerk = _user(f"buerger@{demo_domain}"), _user(f"sondernutzung@{demo_domain}")
    traffic = get_department_by_slug("strassenverkehr")
    if citizen is None or clerk is None or traffic is None:
        return
    applicant, officer = Actor.for_user(citizen), Actor.for_user(clerk)
    today = today_in_berlin()

    def submitted(first_day=None, submitted_on=None) -> PermitApplication:
        first = first_day or today + timedelta(days=60)
        draft = applications.start_application(applicant)
        values = {
            "use_type": "container",
            "applicant_name": "Erika Fuzz",
            "applicant_email": "erika.fuzz@example.org",
            "responsible_name": "Paul Polier",
            "street": "Markt",
            "house_number": "3",
            "length_m": "3",
            "width_m": "2",
            "start": first,
            "end": first + timedelta(days=2),
        }
        applications.save_draft(applicant, draft, data_from(values))
        return applications.submit(applicant, draft, today=submitted_on or today)

    submitted()
    desk.accept(officer, submitted())
    asked = desk.accept(officer, submitted())
    statements.request_statement(officer, asked, traffic.id, "Ist eine Anordnung nötig?", today + timedelta(days=14))
    waiting = desk.request_documents(officer, submitted(), "Bitte reichen Sie den Lageplan nach.")
    _attach_site_plan(applicant, waiting)
    # In force from today: submitted a month ago (its lead time kept), granted and paid today.
    in_force = desk.accept(officer, submitted(first_day=today, submitted_on=today - timedelta(days=30)))
    in_force = desk.grant(officer, in_force, desk.Grant(today, today + timedelta(days=2), "Zufahrt freihalten"))
    _pay(in_force)


def _attach_site_plan(applicant: Actor, application: PermitApplication) -> None:
    from permits import attachments
    from permits.services import applications
    from portal.files.uploads import store_upload
    from tests.portal.files.samples import pdf

    kind = attachments.KINDS["site_plan"]
    upload = FileStorage(io.BytesIO(pdf()), filename="lageplan.pdf", content_type="application/pdf")
    stored = store_upload(applicant, upload, kind.policy, purpose=kind.purpose)
    applications.add_attachment(applicant, application, kind.code, stored.key)


def _pay(application: PermitApplication) -> None:
    """Paid in the sandbox, as the provider's event would report it."""
    from payments.models import Payment
    from payments.services import attempts, orders
    from payments.services.events import CheckoutEvent, apply_checkout_event

    payment = db.session.scalar(sa.select(Payment).where(Payment.public_id == application.payment_public_id))
    if payment is None:
        return
    attempts.start(SYSTEM, payment.public_id)
    attempt = orders.latest_attempt(payment)
    apply_checkout_event(
        SYSTEM, CheckoutEvent("sandbox", f"evt_fuzz_{payment.id}", "sandbox.succeeded", attempt.provider_reference)
    )
