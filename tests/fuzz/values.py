"""Hypothesis strategies for what a hostile or careless client puts into form fields."""

from __future__ import annotations

from datetime import date, datetime
from io import BytesIO

from hypothesis import strategies as st

from tests.fuzz.crawl import Field, Form

NASTY = [
    "\x00",
    "Erika\x00Muster",
    "%00",
    "Evil\r\nBcc: x@example.org",
    "\x1b[31mrot\x1b[0m",
    "\x7f\x08\x0b\x0c",
    "\u202egnp.exe",
    "\ufeff\u200b\u200d",
    "Z\u0351\u0363\u0364a\u0352\u0367l\u036cg\u0363o",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🏳️‍🌈 中文 العربية",
    "ß" * 300,
    "x" * 20_000,
    "99999999999999999999",
    "-99999999999999999999",
    "2147483648",
    "9223372036854775808",
    "-1",
    "0",
    "1e309",
    "-0",
    "NaN",
    "inf",
    "²",
    "٣",
    "1.5",
    "0001-01-01",
    "9999-12-31",
    "0000-00-00",
    "2026-02-30",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-23:59",
    "24:00",
    "23:60",
    "99:99",
    "",
    " ",
    "<script>alert(1)</script>",
    "'; DROP TABLE audit_event; --",
    "../../etc/passwd",
    "a@b",
    "@",
]

nasty_text = st.one_of(
    st.sampled_from(NASTY),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
    st.integers().map(str),
    st.floats().map(str),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(datetime.isoformat),
)


def field_value(f: Field) -> st.SearchStrategy:
    if f.name == "csrf_token":
        return st.just(f.value)
    if f.kind == "file":
        return st.tuples(st.binary(max_size=2000), st.sampled_from(["a.pdf", "\x00.png", "../x.jpg", "x" * 300]))
    offered = [f.value, *f.options] if f.value or f.options else [""]
    # Mostly what the form offers, so the other fields pass and the bad one reaches the code behind them.
    return st.one_of(st.sampled_from(offered), st.sampled_from(offered), nasty_text)


@st.composite
def form_data(draw, form: Form) -> dict:
    data: dict = {}
    for f in form.fields:
        if f.kind == "submit" and f.name in data:
            continue
        if f.kind in ("checkbox", "file") and not draw(st.booleans()):
            continue
        value = draw(field_value(f))
        if f.kind == "file":
            content, filename = value
            data[f.name] = (BytesIO(content), filename)
        else:
            data[f.name] = value
    return data
