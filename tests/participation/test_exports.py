"""Exports of a consultation for staff: every table as CSV and all of them as XLSX, with moderated items marked,
no personal data, no text that runs as a formula, only for those who moderate it, and each export audited."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from openpyxl import load_workbook
from werkzeug.exceptions import Forbidden, NotFound

from participation.services import consultations, exports
from portal.extensions import db
from portal.timeutil import to_berlin, utcnow
from tests.participation.builders import World, actor, events
from tests.participation.results_helpers import (
    FORMULA_BODY,
    FORMULA_REPLY,
    FORMULA_TITLE,
    FREE_TEXT,
    HIDDEN_TEXT,
    HIDDEN_TITLE,
    Scenario,
    make_scenario,
)
from tests.portal.admin.conftest import sign_in

PROPOSAL_COLUMNS = [
    "Kennung",
    "Eingereicht am",
    "Titel",
    "Text",
    "Kategorie",
    "Unterstützungen",
    "Kommentare",
    "Status",
    "Antwort der Verwaltung",
]
COMMENT_COLUMNS = ["Kommentar-ID", "Thread", "Antwort auf", "Vorschlag", "Geschrieben am", "Haltung", "Text", "Status"]


@pytest.fixture
def scenario(world: World) -> Scenario:
    found = make_scenario(world)
    for user in (world.manager, world.other_manager, world.admin, found.moderator):
        user.totp_enabled_at = utcnow()
    db.session.commit()
    return found


def _workbook(scenario: Scenario, who=None):
    export = exports.export_xlsx(actor(who or scenario.world.manager), scenario.consultation.id)
    content = export.stream.read()
    export.stream.close()
    return load_workbook(io.BytesIO(content)), content


def _rows(sheet) -> list[list]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def _csv(scenario: Scenario, table: str) -> tuple[bytes, list[list[str]]]:
    export = exports.export_csv(actor(scenario.world.manager), scenario.consultation.id, table)
    content = export.stream.read()
    export.stream.close()
    return content, list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def test_the_workbook_has_a_sheet_per_table_with_hidden_and_pending_items_marked(scenario):
    workbook, _ = _workbook(scenario)
    assert workbook.sheetnames == ["Vorschläge", "Kommentare", "Unterstützungen", "Umfrage"]

    proposals = _rows(workbook["Vorschläge"])
    assert proposals[0] == PROPOSAL_COLUMNS
    by_reference = {row[0]: row for row in proposals[1:]}
    trees = by_reference[scenario.trees.reference]
    assert trees[2:] == [
        "Mehr Bäume am Altmarkt",
        "Schatten im Sommer wäre schön.",
        "Grün",
        2,  # supports
        3,  # published comments: the hidden and the pending one are not counted
        "veröffentlicht",
        "Angenommen",
    ]
    assert trees[1] == to_berlin(scenario.trees.created_at).replace(tzinfo=None, microsecond=0)
    # A hidden proposal keeps its row and counters, marked, without its title and text.
    hidden = by_reference[scenario.hidden.reference]
    assert (hidden[2], hidden[3], hidden[7]) == (None, None, "ausgeblendet")

    comments = _rows(workbook["Kommentare"])
    assert comments[0] == COMMENT_COLUMNS
    by_id = {row[0]: row for row in comments[1:]}
    top, reply, deeper = scenario.top.id, scenario.reply.id, scenario.deeper.id
    # The thread: each comment names its top-level comment and the one it answers.
    assert by_id[top][1:4] == [top, None, scenario.trees.reference]
    assert by_id[reply][1:3] == [top, top] and by_id[reply][5] == "dagegen"
    assert by_id[deeper][1:3] == [top, reply]
    assert (by_id[scenario.rude.id][6], by_id[scenario.rude.id][7]) == (None, "ausgeblendet")
    assert (by_id[scenario.guest.id][6], by_id[scenario.guest.id][7]) == ("Als Gast dabei", "wartet auf Freigabe")

    supports = _rows(workbook["Unterstützungen"])
    assert supports[0] == ["Vorschlag", "Unterstützt am"]
    assert sorted(row[0] for row in supports[1:]) == sorted(
        [scenario.trees.reference] * 2 + [scenario.formula.reference]
    )

    survey = _rows(workbook["Umfrage"])
    assert survey[0] == ["Antwortbogen", "Eingegangen am", "Frage-Nr.", "Frage", "Art", "Antwort"]
    answers = {(row[2], row[5]) for row in survey[1:]}
    assert answers == {(1, "Zu Fuß"), (2, 5), (3, FREE_TEXT), (1, "=Rad"), (2, 3)}


def test_texts_that_look_like_formulas_stay_text_in_the_workbook(scenario):
    workbook, _ = _workbook(scenario)
    cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row]
    looking_like_formulas = {c.value: c for c in cells if isinstance(c.value, str) and c.value[:1] in "=+-@"}
    assert {FORMULA_TITLE, FORMULA_BODY, FORMULA_REPLY, "=Rad"} <= set(looking_like_formulas)
    # Stored exactly as typed, as text (Excel's quote prefix keeps it text when someone edits the cell).
    assert all(c.data_type == "s" and c.quotePrefix for c in looking_like_formulas.values())
    assert not [c for c in cells if c.data_type == "f"]


def test_csv_files_quote_formulas_and_use_semicolons_and_a_bom(scenario):
    content, rows = _csv(scenario, "vorschlaege")
    assert content.startswith(b"\xef\xbb\xbf") and b";" in content.splitlines()[0]
    assert rows[0] == PROPOSAL_COLUMNS
    formula = next(row for row in rows if row[0] == scenario.formula.reference)
    assert formula[2:4] == ["'" + FORMULA_TITLE, "'" + FORMULA_BODY]
    hidden = next(row for row in rows if row[0] == scenario.hidden.reference)
    assert hidden[2:4] == ["", ""] and hidden[7] == "ausgeblendet"

    _, comments = _csv(scenario, "kommentare")
    reply = next(row for row in comments if row[0] == str(scenario.reply.id))
    assert reply[1:3] == [str(scenario.top.id), str(scenario.top.id)] and reply[6] == "'" + FORMULA_REPLY

    _, supports = _csv(scenario, "unterstuetzungen")
    assert supports[0] == ["Vorschlag", "Unterstützt am"] and len(supports) == 4
    assert supports[1][1] == to_berlin(utcnow()).date().isoformat()  # the day only: no time to match people by

    _, survey = _csv(scenario, "umfrage")
    assert [row[5] for row in survey if row[5].endswith("Rad")] == ["'=Rad"]


def test_no_export_names_a_participant(scenario):
    _, raw_workbook = _workbook(scenario)
    with zipfile.ZipFile(io.BytesIO(raw_workbook)) as archive:
        xml = "".join(archive.read(name).decode() for name in archive.namelist() if name.endswith(".xml"))
    texts = [xml] + [_csv(scenario, table)[0].decode("utf-8-sig") for table in exports.TABLE_NAMES]
    for text in texts:
        for personal in scenario.personal_data():
            assert personal not in text
        assert HIDDEN_TEXT not in text and HIDDEN_TITLE not in text
    assert "Mehr Bäume am Altmarkt" in xml  # the search above looks at the right text


def test_large_tables_are_read_in_chunks_with_every_row_kept(scenario, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 2)
    _, rows = _csv(scenario, "kommentare")
    assert sorted(int(row[0]) for row in rows[1:]) == sorted(
        c.id for c in (scenario.top, scenario.reply, scenario.deeper, scenario.rude, scenario.guest)
    )


def test_each_export_is_audited_with_its_format_and_row_counts(scenario):
    _workbook(scenario)
    _csv(scenario, "kommentare")
    recorded = events("participation.exported")
    assert [json.loads(e.details) for e in recorded] == [
        {
            "consultation": scenario.consultation.slug,
            "format": "xlsx",
            "rows": {"proposals": 3, "comments": 5, "supports": 3, "survey_answers": 5},
        },
        {"consultation": scenario.consultation.slug, "format": "csv", "rows": {"comments": 5}, "table": "comments"},
    ]
    assert {e.actor_id for e in recorded} == {actor(scenario.world.manager).id}
    assert {(e.target_type, e.target_id) for e in recorded} == {
        ("participation_consultation", str(scenario.consultation.id))
    }


def test_moderators_and_admins_may_export_another_departments_manager_may_not(scenario):
    for allowed in (scenario.moderator, scenario.world.admin):
        _workbook(scenario, allowed)
    with pytest.raises(Forbidden):
        exports.export_xlsx(actor(scenario.world.other_manager), scenario.consultation.id)
    with pytest.raises(Forbidden):
        exports.export_csv(actor(scenario.world.anna), scenario.consultation.id, "vorschlaege")
    assert len(events("participation.exported")) == 2  # refusals leave no export behind


def test_a_moderator_gets_survey_answers_once_the_results_are_out_and_never_the_free_texts(scenario):
    workbook, _ = _workbook(scenario, scenario.moderator)
    assert _rows(workbook["Umfrage"])[1:] == []  # the survey has not ended: its results are not out yet

    consultations.close(actor(scenario.world.manager), scenario.consultation.id)
    workbook, _ = _workbook(scenario, scenario.moderator)
    answers = {(row[2], row[5]) for row in _rows(workbook["Umfrage"])[1:]}
    assert answers == {(1, "Zu Fuß"), (2, 5), (1, "=Rad"), (2, 3)}  # without the free text


def test_the_pages_offer_the_downloads_to_the_manager(scenario, client):
    sign_in(client, scenario.world.manager)
    base = f"/admin/beteiligung/{scenario.consultation.id}"
    page = client.get(base)
    assert page.status_code == 200 and "Auswertung" in page.text
    for link in ("/bericht.pdf", "/export.xlsx", "/export.csv?tabelle=kommentare", "/export.csv?tabelle=umfrage"):
        assert f"{base}{link}" in page.text

    csv_response = client.get(f"{base}/export.csv?tabelle=kommentare")
    assert csv_response.status_code == 200
    assert csv_response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert f"beteiligung-{scenario.consultation.slug}-kommentare.csv" in csv_response.headers["Content-Disposition"]
    assert csv_response.headers["Cache-Control"] == "private, no-store"
    assert len(list(csv.reader(io.StringIO(csv_response.data.decode("utf-8-sig")), delimiter=";"))) == 6

    xlsx_response = client.get(f"{base}/export.xlsx")
    assert xlsx_response.status_code == 200
    assert xlsx_response.mimetype == exports.XLSX_MIMETYPE
    assert load_workbook(io.BytesIO(xlsx_response.data)).sheetnames[0] == "Vorschläge"

    assert client.get(f"{base}/export.csv?tabelle=passwoerter").status_code == 404


def test_the_routes_refuse_another_department_and_citizens(scenario, app, client):
    base = f"/admin/beteiligung/{scenario.consultation.id}"
    sign_in(client, scenario.world.other_manager)
    for path in ("/export.xlsx", "/export.csv?tabelle=vorschlaege", "/bericht.pdf"):
        assert client.get(base + path).status_code == 403
    assert client.get("/admin/beteiligung/999999/export.xlsx").status_code == 404
    citizen = app.test_client()
    sign_in(citizen, scenario.world.anna)
    assert citizen.get(base + "/export.xlsx").status_code == 403
    assert events("participation.exported") == []


def test_unknown_tables_and_consultations_are_not_found(scenario):
    with pytest.raises(NotFound):
        exports.export_csv(actor(scenario.world.manager), scenario.consultation.id, "nutzer")
    with pytest.raises(NotFound):
        exports.export_xlsx(actor(scenario.world.manager), 999999)
