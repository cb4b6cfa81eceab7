"""The treasury's pages at /admin/kasse: the fee catalogue, finding payments, one payment, asking for a refund,
confirming the transfer that pays a refund of a bank transfer back ("Rücküberweisung").

Refunds are decided by a second treasury person on the core's /admin/freigaben pages; these pages link there.
Who may do what is decided in the services (payments.services.fees / treasury / refunds).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from payments.errors import PaymentError, PaymentNotFound
from payments.forms import FeeForm, FeeVersionForm, PayoutForm, RefundForm, SearchForm
from payments.models import Fee
from payments.services import fees, payouts, refunds, treasury
from payments.services.receipts import euro_text, method_text
from portal import access
from portal.actors import current_actor
from portal.forms import ConfirmForm
from portal.timeutil import to_berlin, utcnow

bp = Blueprint("payments_treasury", __name__, url_prefix="/admin/kasse")

ROLES = ("treasury", "platform_admin")


def _labels() -> dict[str, str]:
    return {
        "awaiting_approval": _("wartet auf Freigabe"),
        "rejected": _("abgelehnt"),
        "pending": _("freigegeben, wartet auf Bestätigung des Zahlungsdienstes"),
        "payout_open": _("freigegeben, Rücküberweisung offen"),
        "succeeded": _("erstattet"),
        "failed": _("fehlgeschlagen"),
    }


def show_error(form: FlaskForm, error: PaymentError) -> None:
    """The service's refusal next to its field, or as a message when no field of the form fits."""
    field = getattr(form, error.field, None)
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "danger")


@bp.get("/")
@access.roles(*ROLES)
def index():
    actor = current_actor()
    return render_template(
        "payments/treasury/index.html",
        waiting=refunds.waiting_for_submission(actor),
        unfinished=refunds.unfinished(actor),
        payouts=payouts.open_payouts(actor),
        refund_labels=_labels(),
        form=SearchForm(formdata=None),
        submit_form=ConfirmForm(),  # the "Zur Freigabe vorlegen" button of each waiting refund
    )


# --- fees -------------------------------------------------------------------------------------------------


@bp.get("/gebuehren")
@access.roles(*ROLES)
def fee_list():
    return render_template("payments/treasury/fees.html", fees=fees.list_fees(), today=fees.today())


def _fee(code: str) -> Fee:
    fee = next((f for f in fees.list_fees() if f.code == code), None)
    if fee is None:
        abort(404)
    return fee


def _save_fee(form: FeeForm, code: str) -> Any:
    try:
        fees.save_fee(
            current_actor(),
            code,
            form.name.data or "",
            form.budget_line.data or "",
            form.description.data or "",
            bool(form.active.data),
        )
    except PaymentError as error:
        show_error(form, error)
        return None
    flash(_("Die Gebühr %(code)s ist gespeichert.", code=code.strip().upper()), "success")
    return redirect(url_for("payments_treasury.fee_list"))


@bp.route("/gebuehren/neu", methods=["GET", "POST"])
@access.roles(*ROLES)
def fee_new():
    form = FeeForm()
    if form.validate_on_submit():
        if any(f.code == (form.code.data or "").strip().upper() for f in fees.list_fees()):
            form.code.errors = [*form.code.errors, _("Diesen Gebührenschlüssel gibt es schon.")]
        else:
            done = _save_fee(form, form.code.data or "")
            if done is not None:
                return done
    status = 422 if form.errors else 200
    return render_template("payments/treasury/fee_form.html", form=form, fee=None), status


@bp.route("/gebuehren/<code>", methods=["GET", "POST"])
@access.roles(*ROLES)
def fee_edit(code: str):
    fee = _fee(code)
    form = FeeForm(obj=fee)
    del form.code  # the key never changes: payments and other services name it
    if form.validate_on_submit():
        done = _save_fee(form, fee.code)
        if done is not None:
            return done
    status = 422 if form.errors else 200
    return render_template("payments/treasury/fee_form.html", form=form, fee=fee), status


@bp.route("/gebuehren/<code>/tarif", methods=["GET", "POST"])
@access.roles(*ROLES)
def fee_version(code: str):
    fee = _fee(code)
    form = FeeVersionForm()
    if form.validate_on_submit():
        fixed = form.kind.data == "fixed"
        try:
            fees.add_version(
                current_actor(),
                fee.code,
                form.valid_from.data,  # type: ignore[arg-type]  # InputRequired
                amount_cents=form.amount_cents.data if fixed else None,
                rate_cents=None if fixed else form.rate_cents.data,
                unit=None if fixed else form.unit.data,
                minimum_cents=form.minimum_cents.data or 0,
            )
        except PaymentError as error:
            show_error(form, error)
        else:
            flash(_("Der neue Tarif für %(code)s ist gespeichert.", code=fee.code), "success")
            return redirect(url_for("payments_treasury.fee_list"))
    status = 422 if form.errors else 200
    return render_template("payments/treasury/version_form.html", form=form, fee=fee), status


# --- payments ---------------------------------------------------------------------------------------------


@bp.get("/zahlungen")
@access.roles(*ROLES)
def payment_search():
    form = SearchForm(request.args)
    found = None
    search = None
    if request.args and form.validate():
        search = treasury.Search(
            kassenzeichen=form.kassenzeichen.data or "",
            case_reference=form.case_reference.data or "",
            status=form.status.data or "",
            date_from=form.date_from.data,
            date_to=form.date_to.data,
        )
        try:
            found = treasury.search_payments(current_actor(), search)
        except PaymentError as error:
            show_error(form, error)
            found = None
    status = 422 if form.errors else 200
    return render_template(
        "payments/treasury/payments.html",
        form=form,
        found=found,
        searched=search is not None,
        limit=treasury.SEARCH_LIMIT,
    ), status


def _detail(public_id: str, form: RefundForm | None = None, status: int = 200) -> Any:
    actor = current_actor()
    try:
        detail = treasury.payment_detail(actor, public_id)
    except PaymentNotFound:
        abort(404)
    return (
        render_template(
            "payments/treasury/payment.html",
            detail=detail,
            payment=detail.payment,
            form=form or RefundForm(),
            may_refund=refunds.may_request(actor) and refunds.is_refundable(detail.payment),
            may_submit=refunds.may_submit(actor),
            refund_labels=_labels(),
            method_text=method_text,
            submit_form=ConfirmForm(),
        ),
        status,
    )


@bp.get("/zahlungen/<public_id>")
@access.roles(*ROLES)
def payment_detail(public_id: str):
    return _detail(public_id)


@bp.post("/zahlungen/<public_id>/erstattung")
@access.roles(*ROLES)
def refund_request(public_id: str):
    form = RefundForm()
    if not form.validate_on_submit():
        return _detail(public_id, form, 422)
    try:
        refund = refunds.request_refund(current_actor(), public_id, form.amount_cents.data, form.reason.data)
    except PaymentNotFound:
        abort(404)
    except PaymentError as error:
        show_error(form, error)
        return _detail(public_id, form, 422 if error.status == 422 else error.status)
    flash(
        _(
            "Die Erstattung ist beantragt. Eine zweite Person der Stadtkasse muss sie unter „Freigaben“ freigeben; "
            "bis dahin ist der Betrag vorgemerkt."
        )
        if refund.approval_request_id
        else _("Die Erstattung ist vorgemerkt."),
        "success",
    )
    return redirect(url_for("payments_treasury.payment_detail", public_id=public_id), 303)


@bp.post("/erstattungen/<int:refund_id>/vorlegen")
@access.roles(*ROLES)
def refund_submit(refund_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        approval = refunds.submit_for_approval(current_actor(), refund_id)
    except PaymentNotFound:
        abort(404)
    except PaymentError as error:
        flash(error.message, "danger")
        return redirect(url_for("payments_treasury.index"), 303)
    flash(_("Die Erstattung ist zur Freigabe %(reference)s vorgelegt.", reference=approval.reference), "success")
    return redirect(url_for("payments_treasury.index"), 303)


# --- paying a refund of a bank transfer back --------------------------------------------------------------


@bp.route("/erstattungen/<int:refund_id>/rueckueberweisung", methods=["GET", "POST"])
@access.roles(*ROLES)
def payout(refund_id: int):
    actor = current_actor()
    try:
        found = payouts.get_payout(actor, refund_id)
    except PaymentNotFound:
        abort(404)
    form = PayoutForm(data={"executed_on": to_berlin(utcnow()).date()})
    if found.iban is None:
        form.iban.flags.required = True  # the service insists when the statement named no IBAN
    status = 200
    if form.validate_on_submit():
        try:
            payouts.confirm_payout(
                actor, refund_id, form.bank_reference.data, form.executed_on.data, form.iban.data or None
            )
        except PaymentNotFound:
            abort(404)
        except PaymentError as error:
            show_error(form, error)
            status = error.status
        else:
            flash(
                _(
                    "Die Rücküberweisung von %(amount)s ist als ausgeführt bestätigt; "
                    "die Erstattung ist abgeschlossen.",
                    amount=euro_text(found.refund.amount_cents),
                ),
                "success",
            )
            return redirect(url_for("payments_treasury.payment_detail", public_id=found.payment.public_id), 303)
    elif form.errors:
        status = 422
    may_confirm = refunds.may_submit(actor)
    return render_template("payments/treasury/payout.html", payout=found, form=form, may_confirm=may_confirm), status
