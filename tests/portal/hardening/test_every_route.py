"""The bad-input layer holds for every route, including ones written after it: a new form, a new API schema, a
new view reading the form by hand all refuse bad input without a 500 and without logging the value."""

from __future__ import annotations

import logging

import marshmallow as ma
from flask import request
from flask_wtf import FlaskForm
from werkzeug.routing import IntegerConverter
from wtforms import IntegerField, StringField, TextAreaField

from portal import access
from portal.api import register_api_blueprint
from portal.api.blueprint import Blueprint
from portal.inputs import MAX_INT, BoundedIntegerConverter, PlainTextConverter
from tests.builders import csrf_from
from tests.conftest import BACKEND


def test_every_int_and_text_part_of_every_route_is_bounded(app):
    for rule in app.url_map.iter_rules():
        for name, converter in (rule._converters or {}).items():  # type: ignore[attr-defined]
            if isinstance(converter, IntegerConverter):
                assert isinstance(converter, BoundedIntegerConverter), (rule.rule, name)
                assert converter.max is not None and converter.max <= MAX_INT, (rule.rule, name)
            elif type(converter).__name__ == "UnicodeConverter":
                raise AssertionError(f"{rule.rule}: <{name}> does not refuse control characters")
    assert any(isinstance(c, PlainTextConverter) for r in app.url_map.iter_rules() for c in r._converters.values())  # type: ignore[attr-defined]


class NewForm(FlaskForm):
    """Written after the layer, knowing nothing about it."""

    title = StringField("Titel")
    text = TextAreaField("Text")
    count = IntegerField("Anzahl")


def _add_routes(app) -> None:
    @access.public
    def new_form_view():
        form = NewForm()
        if form.validate_on_submit():
            return "ok"
        errors = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
        if request.method == "POST":
            return {"errors": errors}, 200
        return f'<input name="csrf_token" type="hidden" value="{form.csrf_token.current_token}">'

    @access.public
    def raw_form_view():
        # Reads the form by hand, past every form rule: the database's own refusal is still a 400.
        from portal.accounts.models import User
        from portal.extensions import db

        return str(db.session.query(User).filter_by(email=request.form.get("email", "")).count())

    app.add_url_rule("/test-new-form", view_func=new_form_view, methods=["GET", "POST"])
    app.add_url_rule("/test-raw-form", view_func=raw_form_view, methods=["POST"])
    app.config["WTF_CSRF_ENABLED"] = True

    class NewSchema(ma.Schema):
        amount = ma.fields.Integer(required=True)
        name = ma.fields.String(required=True)
        when = ma.fields.AwareDateTime(required=True)

    blp = Blueprint("test_new_api", __name__, url_prefix="/api/v1/test-new")

    @blp.route("/things", methods=["POST"])
    @blp.arguments(NewSchema)
    @access.public
    def create(data):
        return {"ok": True}

    register_api_blueprint(app, blp)


def test_a_form_written_later_refuses_control_characters_and_huge_numbers(app, client):
    _add_routes(app)
    token = csrf_from(client.get("/test-new-form").get_data(as_text=True))

    good = client.post("/test-new-form", data={"csrf_token": token, "title": "A", "text": "a\r\nb\tc", "count": "3"})
    bad = client.post(
        "/test-new-form",
        data={"csrf_token": token, "title": "A\r\nB", "text": "a\x00b", "count": "99999999999999999999"},
    )

    assert good.get_data(as_text=True) == "ok"
    assert bad.status_code == 200
    assert set(bad.get_json()["errors"]) == {"title", "text", "count"}


def test_an_api_schema_written_later_refuses_bad_values_with_422(app, client):
    _add_routes(app)
    good = {"amount": 3, "name": "Erika", "when": "2026-12-01T09:00:00+01:00"}
    assert client.post("/api/v1/test-new/things", json=good).status_code == 200

    for field, value in (
        ("amount", 2**31),
        ("name", "a\x00b"),
        ("name", "a\nb"),
        ("when", "0001-01-01T00:00:00+01:00"),
    ):
        response = client.post("/api/v1/test-new/things", json={**good, field: value})
        assert response.status_code == 422, (field, value)
        assert field in response.get_json()["errors"]


def test_a_view_reading_the_form_by_hand_gets_400_and_the_log_keeps_no_value(app, client, caplog):
    _add_routes(app)
    app.config["WTF_CSRF_ENABLED"] = False

    with caplog.at_level(logging.DEBUG):
        nul = client.post("/test-raw-form", data={"email": "geheim\x00@example.org"})

    if BACKEND == "sqlite":  # SQLite compares NUL bytes like any other: nobody has that address
        assert (nul.status_code, nul.get_data(as_text=True)) == (200, "0")
    else:  # PostgreSQL refuses them: the backstop answers 400
        assert nul.status_code == 400
    assert "geheim" not in caplog.text
