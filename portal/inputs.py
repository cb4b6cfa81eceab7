"""One place for bad input: every route, present and future, refuses it with 400/404/422 and says which field.

A citizen who pastes a NUL byte, a line break in a name, a number longer than the column or a date in year 1
gets the form back with the error next to the field (pages) or problem JSON naming the field (API), never a
500. The layers, all installed by `init_app` for the whole app:

- URL parts: the `int` converter refuses ids beyond an INTEGER column, the default converter refuses control
  characters; both answer 404 (no route has such an address).
- Query parameters: a NUL or other control character (tab, CR and LF aside) is refused: 422 naming it (API),
  400 (pages).
- Forms: every WTForms field gets `guard_field` first in its chain (via the form's `Meta.bind_field`): single-line
  fields refuse control characters, text areas and passwords NUL and the like; integers must fit the column;
  dates must lie between MIN_YEAR and MAX_YEAR.
- API schemas: portal.api.blueprint.Blueprint.arguments runs `guard_schema` over every schema it loads, adding
  the same rules as marshmallow validators (a 422 with the field named).
- What slips past (a view reading `request.form` by hand): the database driver's refusal of a NUL byte or an
  out-of-range number, and Python's OverflowError, are answered 400 (portal.errors); a lost database is 503.

Logs never carry the refused values: the messages name the field only, and SQLAlchemy hides statement
parameters (`hide_parameters`, set in the app factory, portal/__init__.py), so a traceback cannot repeat a
citizen's name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import marshmallow as ma
from flask import Flask, abort, current_app, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.routing import IntegerConverter, UnicodeConverter, ValidationError
from wtforms import Field, Form, PasswordField, TextAreaField
from wtforms.validators import NumberRange, StopValidation

V = TypeVar("V", bound=Callable[..., Any])

MAX_INT = 2**31 - 1  # an INTEGER column: every id in this portal
MAX_BIGINT = 2**63 - 1  # a BIGINT column (audit seq); API fields say so with metadata {"format": "int64"}
MIN_YEAR, MAX_YEAR = 1900, 2200

# Single-line text (names, e-mail addresses, references): no C0/C1 control characters at all, no line or
# paragraph separators. Multi-line text (text areas, passwords): tab, CR and LF are allowed.
# Lone surrogates count too: no encoding can store them.
_SINGLE_LINE_BAD = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_MULTI_LINE_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

SINGLE_LINE_MESSAGE = _l("Bitte ohne Steuerzeichen wie Zeilenumbrüche, Tabulatoren oder Nullbytes eingeben.")
MULTI_LINE_MESSAGE = _l("Der Text enthält unzulässige Steuerzeichen (etwa Nullbytes).")
TOO_LARGE_MESSAGE = _l("Diese Zahl ist zu groß.")
DATE_MESSAGE = _l("Bitte ein Datum zwischen %(first)s und %(last)s angeben.", first=MIN_YEAR, last=MAX_YEAR)


def has_control_chars(text: str, *, multiline: bool = False) -> bool:
    """True if `text` holds characters no single-line field (or, with `multiline`, no text at all) may hold."""
    return bool((_MULTI_LINE_BAD if multiline else _SINGLE_LINE_BAD).search(text))


def single_line(text: str) -> str:
    """The text with every control character and line break as a space: for mail headers and other one-line
    places built from names that were stored before names refused them."""
    return " ".join(_SINGLE_LINE_BAD.sub(" ", text).split())


def parse_int(text: str | None, *, minimum: int = 0, maximum: int = MAX_INT) -> int | None:
    """An integer written in ASCII digits within [minimum, maximum], else None (`"²".isdigit()` is True, and
    `int("²")` raises: never test with isdigit alone)."""
    text = (text or "").strip()
    if not text or not text.isascii() or not text.lstrip("-").isdigit():
        return None
    value = int(text)
    return value if minimum <= value <= maximum else None


_ID = ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_INT))


def as_id(value: Any) -> int | None:
    """The id an API schema's Integer field would load from a raw JSON value (3, "3" and 3.0 are all 3), or
    None if it would refuse it. For code that runs before the schema (rate-limit keys): it must count the value
    the view will use, never the raw text, or `"3"` and `3.0` would be counted apart from `3`."""
    try:
        return _ID.deserialize(value)
    except ma.ValidationError:
        return None


def date_in_range(value: date) -> bool:
    """True if the date (or datetime) lies in the years the portal deals with and converts to UTC."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        return False
    if isinstance(value, datetime) and value.tzinfo is not None:
        try:
            value.astimezone(UTC)
        except OverflowError:
            return False
    return True


# --- URL parts ----------------------------------------------------------------------------------------------


class BoundedIntegerConverter(IntegerConverter):
    """`<int:id>` refusing (404) what no INTEGER column holds; `<int(max=...):x>` still sets its own bound."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_INT)
        super().__init__(map, *args, **kwargs)


class PlainTextConverter(UnicodeConverter):
    """The default `<name>` converter, refusing (404) a path part with control characters (`T%00`)."""

    def to_python(self, value: str) -> str:
        if has_control_chars(value):
            raise ValidationError()
        return value


def _refuse_bad_query() -> Any:
    bad = sorted(
        {
            key
            for key, value in request.args.items(multi=True)
            if has_control_chars(key, multiline=True) or has_control_chars(value, multiline=True)
        }
    )
    if not bad:
        return None
    from portal.errors import problem, wants_problem

    if wants_problem():
        message = str(MULTI_LINE_MESSAGE)
        return problem(422, message, errors={_printable(key): [message] for key in bad})
    abort(400)


def _printable(key: str) -> str:
    return _MULTI_LINE_BAD.sub("\N{REPLACEMENT CHARACTER}", key)


# --- forms --------------------------------------------------------------------------------------------------


def guard_field(form: Form, field: Field) -> None:
    """First in every field's chain: the rules no form may forget (see the module's docstring)."""
    multiline = isinstance(field, TextAreaField | PasswordField)
    for raw in field.raw_data or ():
        if isinstance(raw, str) and has_control_chars(raw, multiline=multiline):
            field.errors[:] = []  # the field's own parse error would only repeat it
            raise StopValidation(str(MULTI_LINE_MESSAGE if multiline else SINGLE_LINE_MESSAGE))
    data = field.data
    bounded = any(isinstance(v, NumberRange) and v.max is not None for v in field.validators)
    for value in data if isinstance(data, list | tuple) else (data,):
        if isinstance(value, int) and not isinstance(value, bool) and not bounded and abs(value) > MAX_INT:
            raise StopValidation(str(TOO_LARGE_MESSAGE))
        if isinstance(value, date) and not date_in_range(value):
            raise StopValidation(str(DATE_MESSAGE))


def _bind_field(meta: Any, form: Form, unbound_field: Any, options: dict[str, Any]) -> Field:
    field = unbound_field.bind(form=form, **options)
    field.validators = [guard_field, *field.validators]
    return field


def install_form_guard() -> None:
    """Every Flask-WTF form, whoever writes it, binds its fields through `_bind_field`."""
    FlaskForm.Meta.bind_field = _bind_field  # type: ignore[method-assign]


# --- API schemas --------------------------------------------------------------------------------------------


def _text_rule(multiline: bool) -> Any:
    def check(value: Any) -> None:
        if isinstance(value, str) and has_control_chars(value, multiline=multiline):
            raise ma.ValidationError(str(MULTI_LINE_MESSAGE if multiline else SINGLE_LINE_MESSAGE))

    check.__portal_guard__ = True  # type: ignore[attr-defined]
    return check


def _date_rule(value: Any) -> None:
    if isinstance(value, date) and not date_in_range(value):
        raise ma.ValidationError(str(DATE_MESSAGE))


_date_rule.__portal_guard__ = True  # type: ignore[attr-defined]


def _guard_ma_field(field: ma.fields.Field, seen: set[int]) -> None:
    if any(getattr(v, "__portal_guard__", False) for v in field.validators):
        return
    if isinstance(field, ma.fields.String):
        field.validators.append(_text_rule(bool(field.metadata.get("multiline"))))
    elif isinstance(field, ma.fields.Integer):
        if not any(isinstance(v, ma.validate.Range) and v.max is not None for v in field.validators):
            bound = MAX_BIGINT if field.metadata.get("format") == "int64" else MAX_INT
            rule = ma.validate.Range(min=-bound - 1, max=bound, error=str(TOO_LARGE_MESSAGE))
            rule.__portal_guard__ = True  # type: ignore[attr-defined]
            field.validators.append(rule)
    elif isinstance(field, ma.fields.DateTime | ma.fields.Date):
        field.validators.append(_date_rule)
    elif isinstance(field, ma.fields.Nested):
        guard_schema(field.schema, seen)
    elif isinstance(field, ma.fields.List):
        _guard_ma_field(field.inner, seen)
    elif isinstance(field, ma.fields.Tuple):
        for item in field.tuple_fields:
            _guard_ma_field(item, seen)
    elif isinstance(field, ma.fields.Dict):
        for part in (field.key_field, field.value_field):
            if part is not None:
                _guard_ma_field(part, seen)


def guard_schema(schema: ma.Schema, seen: set[int] | None = None) -> ma.Schema:
    """Add the bad-input rules to every field of a schema instance (and its nested schemas), once."""
    seen = set() if seen is None else seen
    if id(schema) in seen:
        return schema
    seen.add(id(schema))
    for field in schema.fields.values():
        _guard_ma_field(field, seen)
    return schema


# --- body size per route -------------------------------------------------------------------------------------

_MAX_BODY = "_portal_max_body_bytes"


def max_body(limit: int) -> Callable[[V], V]:
    """A route's own body limit, below MAX_CONTENT_LENGTH(_NO_FILES): `@max_body(64 * 1024)` under the route
    decorator. A larger body is refused with 413 (problem JSON or the friendly page) from its Content-Length,
    before a byte of it is read."""

    def mark(view: V) -> V:
        setattr(view, _MAX_BODY, limit)
        return view

    return mark


def _cap_body_per_route() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, _MAX_BODY, None)
    if limit is not None and (request.max_content_length is None or limit < request.max_content_length):
        request.max_content_length = limit


def init_app(app: Flask) -> None:
    """Before any blueprint is registered: the converters are looked up when a route is added."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.url_map.converters["default"] = PlainTextConverter
    app.url_map.converters["string"] = PlainTextConverter
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_bad_query)
    app.before_request_funcs[None].insert(0, _cap_body_per_route)  # before anything reads the body (CSRF)
    install_form_guard()
