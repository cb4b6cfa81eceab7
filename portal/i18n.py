"""German first, English second: the visitor's choice (cookie), else the account's, else the browser's."""

from __future__ import annotations

from flask import Flask, has_request_context, request
from flask_login import current_user

from portal.extensions import babel

LANGUAGE_COOKIE = "sp_lang"


def select_locale() -> str:
    languages = ["de", "en"]
    if not has_request_context():  # CLI commands and workers: German, the default language
        return "de"
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.language in languages:
        return current_user.language
    return request.accept_languages.best_match(languages) or "de"


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="../translations")

    @app.context_processor
    def language_helpers() -> dict:
        from flask_babel import get_locale

        return {"current_language": lambda: str(get_locale() or "de")}
