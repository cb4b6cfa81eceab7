"""Catalogue texts as a citizen reads them: in the page's (or mail's) language, German where no English is kept,
and the fee said in words ("keine") or as an amount."""

from __future__ import annotations

from decimal import Decimal

from flask import has_request_context
from flask_babel import format_currency, get_locale
from flask_babel import gettext as _

FEE_KINDS = ("unknown", "free", "fixed", "varies")


def current_language() -> str:
    """The UI language of this request ("de" outside one, e.g. in a job)."""
    if not has_request_context():
        return "de"
    locale = get_locale()
    return locale.language if locale is not None else "de"


def pick(german: str | None, english: str | None, language: str | None = None) -> str:
    """The English text in an English UI when there is one; the German one otherwise."""
    language = language or current_language()
    if language == "en" and english and english.strip():
        return english
    return german or ""


def bring_list(text: str | None) -> list[str]:
    """One item a line; blank lines and list marks typed by the editor ("- ", "• ") are dropped."""
    items = []
    for line in (text or "").splitlines():
        item = line.strip().lstrip("-•*").strip()
        if item:
            items.append(item)
    return items


def fee_label(kind: str | None, cents: int | None) -> str | None:
    """What follows "Gebühr:": "37,00 €", "keine" or "je nach Fall verschieden"; None when the catalogue does
    not say."""
    if kind == "free":
        return _("keine")
    if kind == "varies":
        return _("je nach Fall verschieden")
    if kind == "fixed" and cents:
        return format_currency(Decimal(cents) / 100, "EUR")
    return None
