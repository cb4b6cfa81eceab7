"""The file input macro: the rules are said before choosing, errors sit next to the field in the KERN style, and
after any error the page asks for the file again, because browsers never keep a chosen file."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from flask import render_template_string
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms.validators import DataRequired

from portal import access
from portal.actors import current_actor
from portal.extensions import db
from portal.files import FileError, UploadPolicy, store_upload
from portal.files.forms import UploadField
from portal.files.models import StoredFile
from portal.files.policy import MB
from tests.builders import csrf_from
from tests.portal.files import samples

PLAN = UploadPolicy(max_bytes=2 * MB, allowed_types={"application/pdf", "image/png"}, max_pdf_pages=3)

PAGE = """{% from "macros/forms.html" import error_summary, field %}{% from "macros/files.html" import file_input %}
<form method="post" enctype="multipart/form-data" novalidate>
{{ form.csrf_token }}{{ error_summary(form) }}{{ field(form.title) }}{{ file_input(form.plan, hint=hint) }}
</form>"""


class PlanForm(FlaskForm):
    title = StringField("Bezeichnung", validators=[DataRequired(message="Bitte geben Sie eine Bezeichnung an.")])
    plan = UploadField("Lageplan", policy=PLAN)


@access.signed_in
def plan_view():
    """The usage pattern a service copies: validate the form, hand the file to store_upload, show its error."""
    form = PlanForm()
    if form.validate_on_submit():
        try:
            stored = store_upload(current_actor(), form.plan.data, PLAN, purpose="tests.plan", field="plan")
        except FileError as error:
            error.show_on(form)
        else:
            return f"gespeichert: {stored.filename}"
    return render_template_string(PAGE, form=form, hint="Maßstab 1:500 oder genauer.")


@pytest.fixture
def page(app, client, auth, anna):
    app.add_url_rule("/_test/plan", "test_plan", plan_view, methods=["GET", "POST"])
    auth.login("anna@example.org")

    def post(data: bytes | None, name: str = "plan.pdf", title: str = "Hof"):
        token = csrf_from(client.get("/_test/plan").get_data(as_text=True))
        fields = {"csrf_token": token, "title": title}
        fields["plan"] = (io.BytesIO(data), name) if data is not None else (io.BytesIO(b""), "")
        return client.post("/_test/plan", data=fields, content_type="multipart/form-data")

    return post


def _input(html: str) -> str:
    match = re.search(r'<input[^>]*type="file"[^>]*>', html)
    assert match, html
    return match.group(0)


def test_the_empty_field_says_the_rules_before_a_file_is_chosen(app, client, page):
    html = client.get("/_test/plan").get_data(as_text=True)
    field = _input(html)

    assert '<label class="kern-label" for="plan">Lageplan</label>' in html
    assert (
        '<div class="kern-hint" id="plan-hint">Maßstab 1:500 oder genauer. Erlaubt: PDF oder PNG, höchstens 2 MB. '
        "PDF-Dateien mit höchstens 3 Seiten.</div>"
    ) in html
    assert 'class="kern-form-input__input"' in field
    assert 'accept=".pdf,.png,application/pdf,image/png"' in field
    assert 'aria-describedby="plan-hint"' in field
    assert "aria-invalid" not in field and "kern-error" not in html


def test_a_disguised_file_is_shown_as_an_error_next_to_the_field_and_must_be_chosen_again(app, page):
    response = page(samples.png(), "Bauplan.pdf")
    html = response.get_data(as_text=True)
    field = _input(html)

    assert response.status_code == 200
    assert '<div class="kern-form-input kern-form-input--error">' in html
    assert 'id="plan-error"' in html
    assert "Der Dateiname endet auf „.pdf“, der Inhalt ist aber PNG." in html
    assert "kern-form-input__input--error" in field and 'aria-invalid="true"' in field
    assert 'aria-describedby="plan-hint plan-error plan-again"' in field
    assert 'href="#plan">Lageplan: Der Dateiname endet' in html  # the error summary links to the field
    assert "Die Datei „Bauplan.pdf“ wurde nicht übernommen" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile)) == 0


def test_after_an_error_elsewhere_the_page_asks_for_the_valid_file_again(app, page):
    html = page(samples.pdf(), "Plan.pdf", title="").get_data(as_text=True)

    assert "Bitte geben Sie eine Bezeichnung an." in html
    assert "Die Datei „Plan.pdf“ ist noch nicht übernommen" in html
    assert 'aria-describedby="plan-hint plan-again"' in _input(html)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile)) == 0


def test_no_file_chosen_asks_for_one(app, page):
    html = page(None).get_data(as_text=True)
    assert "Bitte wählen Sie eine Datei aus." in html
    assert 'aria-invalid="true"' in _input(html)


def test_too_many_pages_is_explained_in_the_form(app, page):
    html = page(samples.pdf(pages=4)).get_data(as_text=True)
    assert "Die PDF-Datei hat 4 Seiten; erlaubt sind höchstens 3." in html


def test_a_valid_file_is_stored(app, page):
    response = page(samples.pdf(pages=2), "Lageplan Hof.pdf")
    assert response.get_data(as_text=True) == "gespeichert: Lageplan Hof.pdf"


def test_the_chosen_file_name_is_escaped(app, page):
    html = page(samples.png(), "<img src=x onerror=alert(1)>.pdf", title="").get_data(as_text=True)
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in html


def test_a_plain_file_field_takes_accept_and_size_from_the_call(app):
    class Form(FlaskForm):
        class Meta:
            csrf = False

        photo = FileField("Foto")

    with app.test_request_context():
        html = render_template_string(
            '{% from "macros/files.html" import file_input %}{{ file_input(form.photo, accept="image/*", max_mb=5) }}',
            form=Form(),
        )
    assert 'accept="image/*"' in _input(html)
    assert '<div class="kern-hint" id="photo-hint">Höchstens 5 MB.</div>' in html
    assert "– optional" in html
