"""The form macros write KERN's real class names and link errors to their fields."""

from __future__ import annotations

from flask import render_template_string
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

TEMPLATE = """{% from "macros/forms.html" import error_summary, field, alert %}
{{ error_summary(form) }}{{ field(form.name, hint="Wie im Ausweis") }}{{ field(form.agree) }}
{{ field(form.colour) }}{{ field(form.size) }}"""


class DemoForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField("Name", validators=[DataRequired("Bitte Namen angeben.")])
    agree = BooleanField("Einverstanden", validators=[DataRequired("Bitte zustimmen.")])
    colour = SelectField("Farbe", choices=[SelectChoice("r", "Rot"), SelectChoice("g", "Grün")])
    size = RadioField(
        "Größe",
        choices=[SelectChoice("s", "Klein"), SelectChoice("l", "Groß")],
        validators=[DataRequired("Bitte wählen.")],
    )


def _render(app, data: dict) -> str:
    with app.test_request_context(method="POST", data=data):
        form = DemoForm()
        form.validate()
        return render_template_string(TEMPLATE, form=form)


def test_fields_with_errors_use_kern_error_classes_and_describe_the_error(app):
    html = _render(app, {"colour": "r"})
    assert 'class="kern-form-input kern-form-input--error' in html
    assert "kern-form-input__input kern-form-input__input--error" in html
    assert 'aria-describedby="name-hint name-error"' in html
    assert 'id="name-error"' in html and "Bitte Namen angeben." in html
    assert "kern-form-check__checkbox kern-form-check__checkbox--error" in html
    assert 'class="kern-fieldset kern-fieldset--error' in html
    assert "kern-form-check__radio kern-form-check__radio--error" in html
    assert '<legend class="kern-label">Größe' in html
    for target in ("#name", "#agree", "#size"):
        assert f'href="{target}"' in html


def test_select_is_wrapped_as_kern_expects(app):
    html = _render(app, {"name": "Anna", "agree": "y", "colour": "g", "size": "s"})
    assert '<div class="kern-form-input__select-wrapper"><select class="kern-form-input__select"' in html
    assert "error-summary" not in html
    assert "--error" not in html


def test_typed_values_are_kept(app):
    html = _render(app, {"name": "Anna", "colour": "g"})
    assert 'value="Anna"' in html
    assert '<option selected value="g">' in html
