"""Rendering documents to PDF and reading them back: text, page numbers, metadata, tags, fonts."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from portal.pdf import Document, FontsMissingError, Heading, KeyValues, Paragraph, SmallPrint, Table, render_pdf
from portal.pdf.fonts import font_files
from tests.portal.pdf.helpers import fonts, page_texts, reader, structure

GENERATED = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)  # 10:15 in Berlin


def _receipt(language: str = "de", rows: int = 60, **kwargs) -> Document:
    german = language == "de"
    return Document(
        title="Bescheid über die Sondernutzung" if german else "Decision on special use",
        language=language,
        reference="S-2026-000042",
        department="Straßenverkehrsamt" if german else "Road traffic office",
        address="Rathausplatz 1, 01067 Musterstadt",
        generated_at=GENERATED,
        blocks=[
            Paragraph(
                "Sehr geehrte Frau Größe, für Ihren Antrag „Café-Terrasse“ berechnen wir 125,50 € – fällig sofort."
            ),
            Heading("Angaben" if german else "Details"),
            KeyValues([("Antragstellerin", "Jördis Größe"), ("Ort", "Marktstraße 3")]),
            Heading("Zeitraum" if german else "Period"),
            Table(
                ["Tag", "Fläche", "Gebühr"],
                [[f"{day + 1:02d}.12.2026", "12 m²", "4,50 €"] for day in range(rows)],
                widths=[2, 1, 1],
            ),
            SmallPrint("Gegen diesen Bescheid kann innerhalb eines Monats Widerspruch erhoben werden."),
        ],
        **kwargs,
    )


def test_german_document_reads_back_with_title_umlauts_letterhead_and_page_numbers(font_dir: Path):
    data = render_pdf(_receipt(), font_dir=font_dir)

    assert data.startswith(b"%PDF-")
    pages = page_texts(data)
    assert len(pages) >= 2
    first = pages[0]
    assert "Bescheid über die Sondernutzung" in first
    assert "Stadt Musterstadt" in first and "Straßenverkehrsamt" in first
    assert "„Café-Terrasse“" in first and "125,50 €" in first and "–" in first
    assert "Aktenzeichen: S-2026-000042" in first
    assert f"Seite 1 von {len(pages)}" in first
    assert f"Seite 2 von {len(pages)}" in pages[1]
    assert "Erstellt am 30. November 2026, 10:15 Uhr" in first
    assert "Widerspruch" in pages[-1]


def test_english_document_has_english_furniture_and_language(font_dir: Path):
    data = render_pdf(_receipt("en"), font_dir=font_dir)

    pages = page_texts(data)
    assert f"Page 1 of {len(pages)}" in pages[0]
    assert "Created on 30 November 2026, 10:15" in pages[0]
    assert "Reference: S-2026-000042" in pages[0]
    assert "Seite" not in pages[0]
    assert reader(data).trailer["/Root"]["/Lang"] == "en"


def test_metadata_names_the_document_and_viewers_show_its_title(font_dir: Path):
    data = render_pdf(_receipt(subject="Sondernutzung Marktstraße"), font_dir=font_dir)

    pdf = reader(data)
    catalog = pdf.trailer["/Root"]
    assert pdf.metadata is not None
    assert pdf.metadata.title == "Bescheid über die Sondernutzung"
    assert pdf.metadata.subject == "Sondernutzung Marktstraße"
    assert pdf.metadata.author == "Stadt Musterstadt"
    assert catalog["/Lang"] == "de"
    assert bool(catalog["/ViewerPreferences"]["/DisplayDocTitle"])
    assert bool(catalog["/MarkInfo"]["/Marked"])
    outline = [item.title for item in pdf.outline if not isinstance(item, list)]
    assert outline == ["Bescheid über die Sondernutzung"]
    assert [item.title for item in pdf.outline[1]] == ["Angaben", "Zeitraum"]


def test_every_font_is_embedded_fira_sans(font_dir: Path):
    data = render_pdf(_receipt(rows=3), font_dir=font_dir)

    used = fonts(data)
    assert used
    for font in used:
        assert "FiraSans" in font["/BaseFont"]
        assert "/FontFile2" in font["/FontDescriptor"]


def test_content_is_tagged_as_headings_paragraphs_and_tables_with_header_cells(font_dir: Path):
    data = render_pdf(_receipt(rows=3), font_dir=font_dir)

    tree = structure(data)
    types = [kind for _, kind, _ in tree]
    assert types[0] == "/Document"
    top = [kind for depth, kind, _ in tree if depth == 1]
    assert top == ["/P", "/H1", "/P", "/P", "/H2", "/Table", "/H2", "/Table", "/P"]
    assert types.count("/TR") == 2 + 4  # key-value rows, then a header row and three rows
    scopes = [str(node["/A"]["/Scope"]) for _, kind, node in tree if kind == "/TH"]
    assert scopes == ["/Row", "/Row", "/Column", "/Column", "/Column"]
    assert types.count("/TD") == 2 + 3 * 3


def test_a_table_continued_on_the_next_page_repeats_its_header_row(font_dir: Path):
    data = render_pdf(_receipt(rows=80), font_dir=font_dir)

    pages = page_texts(data)
    assert len(pages) >= 3
    assert all("Tag Fläche Gebühr" in page for page in pages)  # the table starts on page 1, ends on the last
    tables = [node for depth, kind, node in structure(data) if depth == 1 and kind == "/Table"]
    assert len(tables) == 1 + len(pages)  # the key-value table, then one table per page of the long one
    header_rows = [t["/K"][0].get_object()["/K"][0].get_object()["/S"] for t in tables[1:]]
    assert header_rows == ["/TH"] * len(header_rows)


def test_long_paragraphs_continue_on_the_next_page(font_dir: Path):
    words = " ".join(f"Wort{number}" for number in range(1400))
    data = render_pdf(Document(title="Lang", blocks=[Paragraph(words)], generated_at=GENERATED), font_dir=font_dir)

    pages = page_texts(data)
    assert len(pages) >= 2
    assert re.findall(r"Wort\d+", " ".join(pages)) == words.split()  # nothing lost, nothing twice
    paragraphs = [node for depth, kind, node in structure(data) if depth == 1 and kind == "/P"]
    assert len(paragraphs) == 1 + len(pages)  # the letterhead, then one part of the paragraph per page


def test_city_name_comes_from_configuration(app, font_dir: Path):
    app.config["CITY_NAME"] = "Stadt Beispielhausen"
    data = render_pdf(_receipt(rows=1), font_dir=font_dir)

    first = page_texts(data)[0]
    assert "Stadt Beispielhausen" in first
    assert reader(data).metadata.author == "Stadt Beispielhausen"


def test_fonts_are_converted_once_and_then_reused(tmp_path: Path):
    first = font_files(tmp_path)
    stamps = {style: path.stat().st_mtime_ns for style, path in first.items()}
    assert set(first) == {"", "B", "I"}
    assert all(path.read_bytes()[:4] == b"\x00\x01\x00\x00" for path in first.values())  # TrueType

    again = font_files(tmp_path)
    assert {style: path.stat().st_mtime_ns for style, path in again.items()} == stamps
    assert not list(tmp_path.glob("*.part"))


def test_missing_kern_fonts_are_reported_with_the_fix(tmp_path: Path):
    with pytest.raises(FontsMissingError, match="npm install"):
        font_files(tmp_path / "cache", source_dir=tmp_path / "nowhere")


def test_documents_refuse_an_unknown_language_or_an_empty_title():
    with pytest.raises(ValueError, match="language"):
        Document(title="Bescheid", language="fr")
    with pytest.raises(ValueError, match="title"):
        Document(title="  ")
