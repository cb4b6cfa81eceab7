"""Admin pages for API tokens at /admin/zugaenge: list, create (the token is shown once), revoke."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from portal import access, declarations
from portal.accounts import tokens
from portal.actors import current_actor

bp = Blueprint("tokens", __name__, url_prefix="/admin/zugaenge")

STATE_LABELS = {"active": _l("gültig"), "expired": _l("abgelaufen"), "revoked": _l("widerrufen")}


class TokenForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Geben Sie einen Namen ein.")), Length(max=100)],
    )
    scopes = SelectMultipleField(
        _l("Bereiche"),
        choices=[],
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
        validators=[DataRequired(_l("Wählen Sie mindestens einen Bereich."))],
    )
    user = EmailField(
        _l("Für eine Person (E-Mail-Adresse)"),
        validators=[Optional(), Email(_l("Geben Sie eine gültige E-Mail-Adresse ein."))],
    )
    days = IntegerField(
        _l("Gültig für (Tage)"),
        default=tokens.DEFAULT_DAYS,
        validators=[
            InputRequired(_l("Geben Sie die Gültigkeit in Tagen an.")),
            NumberRange(min=1, max=tokens.MAX_DAYS, message=_l("Zwischen 1 und %(max)s Tagen.", max=tokens.MAX_DAYS)),
        ],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scopes.choices = list(_scope_labels().items())


class RevokeForm(FlaskForm):
    pass


def _scope_labels() -> dict[str, Any]:
    """The core's scopes and those the running services declared."""
    return {name: scope.label for name, scope in declarations.scopes().items()}


def _labels() -> dict[str, Any]:
    return {
        "scope_labels": _scope_labels(),
        "state_labels": STATE_LABELS,
        "state_of": tokens.token_state,
        "max_days": tokens.MAX_DAYS,
    }


@bp.get("/")
@access.roles("platform_admin")
def index():
    return render_template(
        "tokens/index.html", tokens=tokens.list_tokens(current_actor()), revoke_form=RevokeForm(), **_labels()
    )


@bp.route("/neu", methods=["GET", "POST"])
@access.roles("platform_admin")
def create():
    form = TokenForm()
    if form.validate_on_submit():
        try:
            token, raw = tokens.create_token(
                current_actor(),
                form.name.data or "",
                form.scopes.data or [],
                user=form.user.data or None,
                expires_in_days=form.days.data or tokens.DEFAULT_DAYS,
            )
        except tokens.TokenError as error:
            field = getattr(form, error.field or "", None)
            if field is not None:
                field.errors = [*field.errors, error.message]
            else:
                flash(str(error.message), "danger")
        else:
            response = make_response(render_template("tokens/created.html", token=token, raw=raw, **_labels()))
            # The only time the secret exists in clear: keep it out of every cache and the history.
            response.headers["Cache-Control"] = "no-store"
            return response
    return render_template("tokens/form.html", form=form, **_labels())


@bp.post("/<int:token_id>/widerrufen")
@access.roles("platform_admin")
def revoke(token_id: int):
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            token = tokens.revoke_token(current_actor(), token_id)
        except tokens.TokenError as error:
            flash(str(error.message), "danger")
        else:
            flash(_("Der Zugang „%(name)s“ ist widerrufen.", name=token.name), "success")
    return redirect(url_for("tokens.index"))
