"""The English catalogue: complete, faithful to placeholders, and used when the visitor asks for English.

The extraction runs here against the real tree, so CI fails as soon as someone adds German text without
an English translation.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from tests.builders import csrf_from

ROOT = Path(__file__).resolve().parents[2]
EN_PO = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"
EN_MO = EN_PO.with_suffix(".mo")
# printf-style (%(name)s, %(num)d) and str.format-style ({name}) placeholders
PLACEHOLDER = re.compile(r"%\(\w+\)[sdifr]|%[sdif]|\{\w*\}")


def _en_catalogue() -> Catalog:
    with EN_PO.open("rb") as po:
        return read_po(po, locale="en")


def _key(message: Message) -> tuple[str, str | None]:
    """Catalogue identity: the (singular) msgid together with its pgettext context."""
    msgid = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
    return msgid, message.context


def _translated(message: Message) -> bool:
    strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
    return not message.fuzzy and bool(strings) and all(s.strip() for s in strings)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """What the code and templates use today, extracted exactly as the catalogue is maintained."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "--ignore-dirs=.* _* .venv node_modules tests",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    with pot.open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="module")
def compiled_catalogue() -> None:
    """The .mo is a build artefact (git-ignored, made by `make translations`); build it if it is stale."""
    if EN_MO.exists() and EN_MO.stat().st_mtime >= EN_PO.stat().st_mtime:
        return
    partial = EN_MO.with_name(f"messages.{os.getpid()}.mo.tmp")
    with partial.open("wb") as mo:
        write_mo(mo, _en_catalogue())
    os.replace(partial, EN_MO)  # atomic, so parallel workers never read half a file


def test_every_extracted_message_has_an_english_translation(extracted: Catalog) -> None:
    english = {_key(m): m for m in _en_catalogue() if m.id}
    missing = [
        f"{_key(m)[0]!r} ({', '.join(f'{path}:{line}' for path, line in m.locations[:2])})"
        for m in extracted
        if m.id and not (_key(m) in english and _translated(english[_key(m)]))
    ]
    assert len(extracted) > 600, "the extraction found suspiciously few messages; is babel.cfg intact?"
    assert not missing, (
        f"{len(missing)} message(s) lack an English translation. Update the catalogue with `pybabel extract -F "
        "babel.cfg -k _l -k lazy_gettext -o translations/messages.pot --ignore-dirs='.venv node_modules tests' .` "
        "and `pybabel update -i translations/messages.pot -d translations -l en`, translate the entries in "
        "translations/en/LC_MESSAGES/messages.po (no fuzzy ones), then `make translations`. Missing:\n  "
        + "\n  ".join(missing)
    )


def test_plural_messages_have_both_english_forms() -> None:
    plurals = [m for m in _en_catalogue() if m.id and m.pluralizable]
    assert plurals, "the templates use ngettext, so the catalogue should hold plural entries"
    for message in plurals:
        assert len(message.string) == 2 and all(message.string), message.id


def test_english_translations_keep_the_placeholders_of_the_german_text() -> None:
    wrong = []
    for message in _en_catalogue():
        if not message.id or not _translated(message):
            continue
        ids = message.id if isinstance(message.id, (list, tuple)) else (message.id,)
        strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
        expected = sorted(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            if sorted(PLACEHOLDER.findall(string)) != expected:
                wrong.append(f"{ids[0]!r} -> {string!r}")
    assert not wrong, "placeholders differ:\n  " + "\n  ".join(wrong)


def test_translations_keep_html_tags_of_the_german_text() -> None:
    tag = re.compile(r"</?[a-z][^>]*>")
    wrong = [
        f"{m.id!r} -> {m.string!r}"
        for m in _en_catalogue()
        if m.id and isinstance(m.id, str) and _translated(m) and tag.findall(m.id) != tag.findall(m.string)
    ]
    assert not wrong, "HTML differs:\n  " + "\n  ".join(wrong)


@pytest.mark.parametrize("path", ["/", "/anmelden", "/barrierefreiheit"])
def test_pages_are_german_without_any_language_hint(client, compiled_catalogue, path: str) -> None:
    html = client.get(path).get_data(as_text=True)

    assert '<html lang="de">' in html
    assert "Zum Inhalt springen" in html
    assert "Skip to main content" not in html


PAGE_TEXTS = {
    "/": ("Skip to main content", "Sign in", "Register", "Legal notice", "a service of Musterstadt City Council"),
    "/anmelden": ("Sign in", "Email address", "Password", "Forgotten your password?"),
    "/barrierefreiheit": ("Accessibility statement", "Compliance status", "Send feedback", "Your message"),
}
GERMAN_TEXTS = ("Zum Inhalt springen", "Impressum", "Passwort vergessen?", "Erklärung zur Barrierefreiheit")


@pytest.mark.parametrize("path", sorted(PAGE_TEXTS))
def test_language_cookie_en_renders_pages_in_english(client, compiled_catalogue, path: str) -> None:
    client.set_cookie("sp_lang", "en")

    html = client.get(path).get_data(as_text=True)

    assert '<html lang="en">' in html
    for text in PAGE_TEXTS[path]:
        assert text in html, text
    for text in GERMAN_TEXTS:
        assert text not in html, text


@pytest.mark.parametrize("path", sorted(PAGE_TEXTS))
def test_browser_asking_for_english_gets_english_pages(client, compiled_catalogue, path: str) -> None:
    html = client.get(path, headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)

    assert '<html lang="en">' in html
    assert PAGE_TEXTS[path][0] in html


def test_sign_in_errors_are_english_for_english_visitors(client, compiled_catalogue) -> None:
    client.set_cookie("sp_lang", "en")
    token = csrf_from(client.get("/anmelden").get_data(as_text=True))

    html = client.post("/anmelden", data={"csrf_token": token, "email": "", "password": ""}).get_data(as_text=True)

    assert "Correct the information you entered" in html
    assert "Enter your email address." in html
    assert "Bitte geben Sie" not in html
