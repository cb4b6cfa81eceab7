"""Form pieces every service uses: several checkboxes as one field, and the "are you sure?" button.

Rendered by the macros in templates/macros/forms.html (`field`) and templates/macros/ui.html
(`confirm_form`), so each looks and reads the same (KERN, labels, errors next to the field) wherever used.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import Field, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget


class _OptionalCheckbox(CheckboxInput):
    """A checkbox never marked `required`: each box would inherit the field's InputRequired, and on a
    checkbox `required` means "this one must be ticked". "At least one" is the field's check on the server;
    the `field` macro marks a fieldset that may stay empty as optional in its legend."""

    def __call__(self, field: Field, **kwargs: Any) -> Markup:
        kwargs.setdefault("required", False)
        return super().__call__(field, **kwargs)


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes; `field(form.x)` renders them as a fieldset with a legend.

    Give it `coerce=int` for ids, `choices` in the form or the view, and `validators=[InputRequired(...)]`
    (or DataRequired) when at least one must be ticked. Ticked boxes stay ticked when the page comes back
    with an error. `validate_choice=False` accepts values not offered (the service then checks them).
    """

    widget = ListWidget(prefix_label=False)
    option_widget = _OptionalCheckbox()


class ConfirmForm(FlaskForm):
    """A button that changes something ("Ja, Antrag zurückziehen"): only the CSRF token, sent by POST.

    Links in mails are followed by scanners, so every change behind a link asks with this form first.
    In the view: `if ConfirmForm().validate_on_submit(): ...`; in the template: `confirm_form(...)`.
    """
