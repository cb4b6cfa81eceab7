"""German first, English second: the visitor's choice (cookie), else the account's, else the browser's."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, has_request_context, request, session
from flask_babel import Domain
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
    # Only a signed-in person has an account language; skip loading anyone for a visitor without a session.
    signed_in = (session.get("_user_id") or g.get("_login_user")) and current_user.is_authenticated
    if signed_in and current_user.language in languages:
        return current_user.language
    return request.accept_languages.best_match(languages) or "de"


class RequestCachedDomain(Domain):
    """Flask-Babel's message domain, remembering the request's translations once they are found.

    Flask-Babel looks the locale and the catalogue up again for every message (four context look-ups each); a
    page with a hundred messages spent more time there than in rendering. The translations are kept per
    request together with the locale they belong to, so `force_locale` (mails in the recipient's language)
    still switches them.
    """

    def get_translations(self) -> Any:
        try:
            ctx = g._flask_babel
        except (AttributeError, RuntimeError):  # before Flask-Babel's first look-up, or outside any app context
            return super().get_translations()
        locale = getattr(ctx, "babel_locale", None)
        cached = getattr(ctx, "stadtportal_translations", None)
        if locale is not None and cached is not None and cached[0] is locale:
            return cached[1]
        translations = super().get_translations()
        ctx.stadtportal_translations = (getattr(ctx, "babel_locale", None), translations)
        return translations


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="../translations")
    # A cached_property on the (shared) Babel object: set once, it is this domain for every app.
    if not isinstance(babel.__dict__.get("domain_instance"), RequestCachedDomain):
        babel.domain_instance = RequestCachedDomain(domain=app.config.get("BABEL_DOMAIN", "messages"))  # type: ignore[misc]

    @app.context_processor
    def language_helpers() -> dict:
        from flask_babel import get_locale

        return {"current_language": lambda: str(get_locale() or "de")}
