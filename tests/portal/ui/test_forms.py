"""The shared form pieces in portal/forms.py, rendered by the `field` macro of templates/macros/forms.html."""

from __future__ import annotations

import pytest
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired

from portal.forms import MultiCheckboxField
from tests.portal.ui.helpers import render

FIELD = (
    '{% from "macros/forms.html" import field, error_summary %}'
    '{{ error_summary(form) }}{{ field(form.days, hint="Mehrere möglich") }}'
)


class DaysForm(FlaskForm):
    class Meta:
        csrf = False  # the token is the confirm form's business; here only the field is tested

    days = MultiCheckboxField(
        "Wochentage",
        coerce=int,
        choices=[SelectChoice(0, "Montag"), SelectChoice(1, "Dienstag"), SelectChoice(2, "Mittwoch")],  # type: ignore[arg-type]
        validators=[InputRequired("Wählen Sie mindestens einen Tag.")],
    )
    reason = StringField("Grund", validators=[DataRequired("Geben Sie einen Grund an.")])


@pytest.fixture
def in_request(app):
    with app.test_request_context("/", method="POST"):
        yield


def test_checkboxes_form_one_fieldset_named_by_its_legend(in_request):
    html = render(FIELD, form=DaysForm(formdata=None))
    fieldset = html.one("fieldset", id="days")
    assert fieldset.one("legend").text == "Wochentage"
    assert fieldset.attrs["aria-describedby"] == "days-hint"
    boxes = fieldset.all("input", type="checkbox")
    assert [box.attrs["value"] for box in boxes] == ["0", "1", "2"]
    for box in boxes:
        assert "kern-form-check__checkbox" in box.classes
        assert "required" not in box.attrs  # on a checkbox it would mean "tick this one"
        assert fieldset.one("label", for_=box.attrs["id"]).text in ("Montag", "Dienstag", "Mittwoch")


def test_ticked_boxes_stay_ticked_when_another_field_has_an_error(in_request):
    form = DaysForm(formdata=MultiDict([("days", "0"), ("days", "2"), ("reason", "")]))
    assert not form.validate()
    assert form.days.data == [0, 2]
    html = render(FIELD, form=form)
    ticked = {box.attrs["value"] for box in html.all("input", type="checkbox") if "checked" in box.attrs}
    assert ticked == {"0", "2"}
    assert html.one("fieldset").all("p", class_="kern-error") == []


def test_no_box_ticked_shows_the_error_at_the_fieldset_and_in_the_summary(in_request):
    form = DaysForm(formdata=MultiDict([("reason", "Umzug")]))
    assert not form.validate()
    html = render(FIELD, form=form)
    fieldset = html.one("fieldset", id="days")
    assert "kern-fieldset--error" in fieldset.classes
    assert fieldset.attrs["aria-describedby"] == "days-hint days-error"
    assert fieldset.one("p", id="days-error").text == "Fehler: Wählen Sie mindestens einen Tag."
    assert html.one("a", href="#days").text == "Wochentage: Wählen Sie mindestens einen Tag."


def test_a_value_that_was_not_offered_is_refused(in_request):
    form = DaysForm(formdata=MultiDict([("days", "6"), ("reason", "Umzug")]))
    assert not form.validate()
    assert form.days.errors
