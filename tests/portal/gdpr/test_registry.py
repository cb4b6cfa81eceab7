"""The registration API: a core part (such as the coming files part) adds its section and its erasure handler."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

import portal.gdpr as gdpr
from portal.accounts.models import User
from portal.pdf import Paragraph, Table
from tests.builders import PASSWORD, make_user
from tests.portal.gdpr.builders import details, events


@pytest.fixture
def core_registry() -> Iterator[None]:
    """Core registrations are process-wide; put them back as they were after the test."""
    gdpr._load_core()
    sections, handlers = dict(gdpr._CORE.sections), dict(gdpr._CORE.handlers)
    yield
    gdpr._CORE.sections.clear()
    gdpr._CORE.sections.update(sections)
    gdpr._CORE.handlers.clear()
    gdpr._CORE.handlers.update(handlers)


def _files_of(user: User) -> list[dict]:
    return [{"name": "Lageplan.pdf", "size": 48213, "uploaded_at": "2026-11-02T09:30:00+00:00"}]


def test_a_core_part_registers_a_section_that_appears_in_every_export_format(client, auth, core_registry):
    gdpr.register_core_section("files", "Ihre Dateien", _files_of, order=150)
    make_user("erika@example.org")
    auth.login("erika@example.org")

    data = json.loads(client.get("/konto/daten.json").get_data(as_text=True))
    assert data["files"] == _files_of(None)  # a core part's key sits at the top level, not under "services"
    assert "files" not in data["services"]

    page = client.get("/konto/daten").get_data(as_text=True)
    # Without a summary of its own, a list of records is shown as a table; times in Berlin time.
    assert ">Ihre Dateien</h2>" in page
    assert page.index(">Organisationen</h2>") < page.index(">Ihre Dateien</h2>") < page.index(">Termine</h2>")
    assert "Lageplan.pdf" in page and "02.11.2026, 10:30" in page


def test_a_core_erasure_handler_runs_in_the_deletion_and_is_previewed(client, auth, core_registry):
    erased: list[int] = []

    def erase_files(actor, user: User) -> gdpr.ErasureOutcome:
        erased.append(user.id)
        return gdpr.ErasureOutcome("Dateien: 1 Datei gelöscht.", {"deleted": 1})

    gdpr.register_core_erasure_handler("files", erase_files, lambda user: ["1 hochgeladene Datei wird gelöscht."])
    user = make_user("erika@example.org")
    auth.login("erika@example.org")

    assert "1 hochgeladene Datei wird gelöscht." in auth.client.get("/konto/loeschen").get_data(as_text=True)
    response = auth.post_form("/konto/loeschen", {"password": PASSWORD, "confirm": "y"})

    assert "Dateien: 1 Datei gelöscht." in response.get_data(as_text=True)
    assert erased == [user.id]
    [deleted] = events("account.deleted")
    assert details(deleted)["erased"]["files"] == {"deleted": 1}


@pytest.mark.parametrize("name", ["format", "exported_at", "services", ""])
def test_names_the_export_itself_uses_are_refused(app, name):
    with pytest.raises(ValueError, match="reserved"):
        gdpr.register_export_section(app, name, "X", lambda user: {})


def test_the_default_summary_shows_records_as_a_table_and_a_record_as_rows(app):
    [table] = gdpr.default_summary([{"a": 1, "b": None}, {"a": 2, "c": True}])
    assert isinstance(table, Table)
    assert list(table.header) == ["a", "b", "c"]
    assert [list(row) for row in table.rows] == [["1", "–", "–"], ["2", "–", "ja"]]
    assert gdpr.default_summary([]) == []
    assert gdpr.default_summary(["x"]) == [Paragraph("x")]
