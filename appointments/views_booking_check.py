"""The booking wizard's last step: check the answers and book, and the nearest free times when the chosen one
was just taken (the wizard's state and its earlier steps are in views_booking.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import redirect, render_template, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from appointments import forms
from appointments.errors import BookingError, SlotTaken
from appointments.services import antiabuse, availability, captcha, case_links, catalogue, fees
from appointments.services import booking as booking_service
from appointments.views import bp, iso, locations_for, parse_iso, slot_label
from appointments.views_booking import (
    FIELD_STEP,
    WIZARD,
    chosen_items,
    first_unanswered,
    pending_error,
    save_state,
    send_to_field,
    wizard_state,
)
from appointments.views_booking_done import DONE, seal
from portal import access
from portal.accounts.services import organisations
from portal.actors import current_actor
from portal.extensions import limiter

# -- step 5: check answers and book ---------------------------------------------------------------------------


def _booking_limit() -> str:
    return antiabuse.booking_rate_limit(wizard_state().get("location_id"))


def _summary(state: dict[str, Any]) -> dict[str, Any]:
    items = chosen_items(state)
    names = catalogue.service_names(sid for sid, _qty in items)
    location_id = int(state["location_id"])
    location = next((loc for loc, _m in locations_for(items) if loc.id == location_id), None)
    quote = fees.quote_items(items)
    return {
        "services": [(names.get(sid, "?"), qty) for sid, qty in items],
        "location": location,
        "minutes": availability.duration_for(location_id, items) if location else None,
        "start": parse_iso(state.get("start")),
        "name": state.get("name"),
        "email": state.get("email"),
        "phone": state.get("phone"),
        # Acting for a business: the booking will belong to it (the check page says so).
        "organisation": organisations.acting_organisation(),
        "case": case_links.resolve(current_actor(), state.get("case")),
        # The fee (None: none, or payments off): the total, what each service costs, the refund policy.
        "fee": quote,
        "fee_lines": [(names.get(line.service_id, "?"), line.quantity, line.amount_cents) for line in quote.lines]
        if quote
        else [],
        "fee_policy": fees.policy_text(quote.refund_hours_before) if quote else None,
    }


def _has_fee(state: dict[str, Any]) -> bool:
    return fees.quote_items(chosen_items(state)) is not None


def _captcha(location_id: int) -> dict[str, Any] | None:
    """A fresh proof-of-work challenge when the location asks for one, else None."""
    return captcha.create_challenge() if captcha.required_at(location_id) else None


@bp.route("/buchen/pruefen", methods=["GET", "POST"])
@limiter.limit(_booking_limit, scope=lambda _endpoint: "web:booking", methods=["POST"])
@access.public
def book_check():
    state = wizard_state()
    missing = first_unanswered(state)
    if missing is not None:
        return missing
    with_fee = _has_fee(state)
    form = forms.check_form(with_fee)
    error = pending_error("captcha")
    if error:
        form.altcha.errors = [error]
    elif form.validate_on_submit():
        if isinstance(form, forms.CheckWithFeeForm):
            # Kept with the answers: "just taken" books another time without this page.
            state["payment"] = form.payment.data
            save_state(state)
        return _hold(state, parse_iso(state["start"]), form.altcha.data)
    return _check_page(state, form)


def _check_page(state: dict[str, Any], form: forms.CheckForm, problem: str | None = None):
    return render_template(
        "appointments/book_check.html",
        form=form,
        problem=problem,
        summary=_summary(state),
        captcha=_captcha(int(state["location_id"])),
        step=5,
    ), (422 if form.errors or problem else 200)


def _hold(state: dict[str, Any], start: datetime | None, captcha: str | None):
    actor = current_actor()
    try:
        if start is None:
            raise BookingError("start", _("Bitte wählen Sie eine Uhrzeit aus."), "invalid")
        held = booking_service.hold_booking(
            actor,
            location_id=int(state["location_id"]),
            items=chosen_items(state),
            start=start,
            name=state["name"],
            email=state["email"],
            phone=state.get("phone") or None,
            language=str(get_locale() or "de"),
            user_id=actor.user.id if actor.user is not None else None,
            captcha=captcha or None,
            # The form asks whenever there is a fee; a fee that appeared after the page was shown is paid
            # at the desk rather than refused.
            payment=state.get("payment"),
            case_key=state.get("case"),
        )
    except SlotTaken as taken:
        return _taken_page(state, taken)
    except BookingError as refused:
        with_fee = _has_fee(state)
        if refused.field in ("captcha", "payment"):
            form = forms.check_form(with_fee)
            field = getattr(form, "altcha" if refused.field == "captcha" else refused.field, None)
            if field is None:
                return _check_page(state, forms.check_form(with_fee, formdata=None), refused.message)
            field.errors = [refused.message]
            return _check_page(state, form)
        if refused.field not in FIELD_STEP:
            return _check_page(state, forms.check_form(with_fee, formdata=None), refused.message)
        return send_to_field(refused)
    session.pop(WIZARD, None)
    session[DONE] = {"reference": held.booking.reference, "sealed": seal(held.manage_token)}
    return redirect(url_for(".book_done"))


# -- just taken: the nearest free times -----------------------------------------------------------------------


def _taken_page(state: dict[str, Any], taken: SlotTaken, form: forms.PickNearestForm | None = None):
    location_id = int(state["location_id"])
    # Nearest first is how the engine finds them; in time order they are easier to compare.
    nearest = sorted(taken.nearest or availability.nearest_free(location_id, chosen_items(state), taken.start))
    form = form or forms.PickNearestForm(formdata=None)
    form.start.choices = [(iso(start), slot_label(start)) for start in nearest]
    return render_template(
        "appointments/book_taken.html",
        form=form,
        taken_start=taken.start,
        summary=_summary(state),
        captcha=_captcha(location_id),
    ), 409


@bp.post("/buchen/andere-zeit")
@limiter.limit(_booking_limit, scope=lambda _endpoint: "web:booking")
@access.public
def book_nearest():
    state = wizard_state()
    missing = first_unanswered(state)
    if missing is not None:
        return missing
    form = forms.PickNearestForm()
    start = parse_iso(form.start.data)
    if not form.validate_on_submit() or start is None:
        taken = SlotTaken(parse_iso(state.get("start")) or start or datetime.now().astimezone(), [])
        if not form.start.errors:
            form.start.errors = [_("Bitte wählen Sie eine der freien Zeiten aus.")]
        return _taken_page(state, taken, form)
    state["start"] = iso(start)
    save_state(state)
    return _hold(state, start, form.altcha.data)
