"""The shared page pieces in templates/macros/ui.html, rendered as a service's page renders them."""

from __future__ import annotations

import re

import pytest
from werkzeug.datastructures import MultiDict

from portal.forms import ConfirmForm
from tests.portal.ui.helpers import render

UI = '{% from "macros/ui.html" import step_indicator, back_link, summary_list, summary_row, confirm_form %}'


@pytest.fixture
def in_request(app):
    """A request context, as while a view renders its template."""
    with app.test_request_context("/antrag/pruefen"):
        yield


def test_step_indicator_says_which_step_of_how_many_and_what_it_is(in_request):
    html = render(UI + '{{ step_indicator(2, 5, "Zeit wählen") }}')
    assert html.one("p", id="step-indicator").text == "Schritt 2 von 5: Zeit wählen"
    assert render(UI + "{{ step_indicator(1, 3) }}").one("p").text == "Schritt 1 von 3"


def test_step_indicator_as_a_bar_is_a_progress_element_named_by_its_label(in_request):
    html = render(UI + '{{ step_indicator(3, 4, "Unterlagen", bar=True) }}')
    progress = html.one("progress")
    assert (progress.attrs["value"], progress.attrs["max"]) == ("3", "4")
    label = html.one("label", for_=progress.attrs["id"])
    assert label.text == "Schritt 3 von 4: Unterlagen"
    assert "kern-progress" in html.one("div").classes


def test_back_link_leads_back_and_hides_its_icon_from_screen_readers(in_request):
    html = render(UI + '{{ back_link("/antrag/ort") }}')
    link = html.one("a", href="/antrag/ort")
    assert link.text == "Zurück"
    assert link.one("span", class_="kern-icon--arrow-back").attrs["aria-hidden"] == "true"
    assert render(UI + '{{ back_link("/", "Zur Übersicht") }}').one("a").text == "Zur Übersicht"


def test_summary_rows_pair_each_question_with_its_answer_escaped(in_request):
    html = render(
        UI
        + '{% call summary_list("Ihre Angaben") %}{{ summary_row("Name", name) }}'
        + '{{ summary_row("Ort", "Rathausplatz 1") }}{% endcall %}',
        name="<b>Erika</b>",
    )
    assert html.one("h2").text == "Ihre Angaben"
    rows = html.one("dl", class_="kern-description-list").all("div", class_="kern-description-list-item")
    assert [(row.one("dt").text, row.one("dd").text) for row in rows] == [
        ("Name", "<b>Erika</b>"),
        ("Ort", "Rathausplatz 1"),
    ]
    assert html.all("b") == []  # the answer is text, not markup


def test_change_link_names_its_row_in_visually_hidden_text(in_request):
    html = render(
        UI + '{% call summary_list() %}{{ summary_row("E-Mail-Adresse", "erika@example.org", "/ang") }}'
        '{{ summary_row("Tel.", "0351", "/tel", "Telefonnummer") }}{% endcall %}'
    )
    email, phone = html.all("a", class_="kern-link")
    assert email.attrs["href"] == "/ang"
    assert email.text == "Ändern – E-Mail-Adresse"
    assert email.one("span", class_="kern-sr-only").text == "– E-Mail-Adresse"
    assert phone.one("span", class_="kern-sr-only").text == "– Telefonnummer"
    assert render(UI + '{{ summary_row("Name", "Erika") }}').all("a") == []


def test_summary_row_takes_markup_from_a_call_block(in_request):
    html = render(UI + '{% call summary_row("Unterlagen") %}<ul><li>Lageplan.pdf</li></ul>{% endcall %}')
    assert html.one("dd").one("li").text == "Lageplan.pdf"


def test_confirm_form_posts_the_question_with_a_csrf_token_the_form_accepts(in_request):
    html = render(
        UI + '{{ confirm_form("/antrag/1/zurueckziehen", "Antrag wirklich zurückziehen?", "Ja, zurückziehen") }}'
    )
    assert html.one("p").text == "Antrag wirklich zurückziehen?"
    form = html.one("form")
    assert (form.attrs["method"], form.attrs["action"]) == ("post", "/antrag/1/zurueckziehen")
    token = form.one("input", name="csrf_token").attrs["value"]
    button = form.one("button", type="submit")
    assert button.text == "Ja, zurückziehen"
    assert "kern-btn--primary" in button.classes
    assert html.all("a") == []  # no way out unless asked for
    assert ConfirmForm(formdata=MultiDict({"csrf_token": token})).validate()
    assert not ConfirmForm(formdata=MultiDict({"csrf_token": token[:-2] + "xx"})).validate()


def test_confirm_form_with_the_views_form_uses_its_token_and_offers_a_way_out(in_request):
    html = render(
        UI + '{{ confirm_form(None, "Termin absagen?", "Ja, absagen", form=form, danger=True, cancel_href="/t") }}',
        form=ConfirmForm(),
    )
    form = html.one("form")
    assert "action" not in form.attrs  # posts back to the page it is on
    assert re.fullmatch(r"[\w.-]+", form.one("input", name="csrf_token", type="hidden").attrs["value"])
    warning = html.one("div", class_="kern-alert--warning")
    assert warning.text == "Termin absagen?"
    assert warning.one("span", class_="kern-icon").attrs["aria-hidden"] == "true"
    assert html.one("a", href="/t").text == "Abbrechen"


def test_confirm_form_puts_a_call_body_before_its_button(in_request):
    html = render(
        UI
        + '{% call confirm_form("/x", None, "Ablehnen", cancel_href="/y", cancel_label="Behalten", secondary=True) %}'
        '<input type="checkbox" name="keep" id="keep">{% endcall %}'
    )
    form = html.one("form")
    names = [c.attrs.get("name") or c.tag for c in form.children if not isinstance(c, str)]
    assert names == ["csrf_token", "keep", "button"]
    assert "kern-btn--secondary" in form.one("button").classes
    assert html.all("p")[-1].text == "Behalten"
