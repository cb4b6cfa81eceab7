"""Rendering a Document to PDF bytes in the portal's look.

Why fpdf2 (2.8, pure Python) and not WeasyPrint or ReportLab:
- fpdf2 needs no system libraries. WeasyPrint (HTML/CSS to PDF, nicer for free-form layout) needs Pango from
  Debian in every image and on every developer machine; ReportLab's open edition has no tagging at all either
  and a larger API. Our documents are simple block lists (headings, text, tables), which fpdf2 lays out well.
- fpdf2 writes the PDF/UA essentials through public API: document title shown by viewers (DisplayDocTitle),
  document language (/Lang), embedded Unicode TrueType fonts with ToUnicode maps (text copies and reads back
  correctly), bookmarks (outline) for the headings.
- Tagging: fpdf2 2.8 tags only images and section titles. portal.pdf.tags adds a small structure tree on its
  internals (H1-H3, P, Table/TR/TH/TD with header scopes; letterhead on later pages, footer and rules as
  artifacts). That is "tagged where the library allows"; we do not claim PDF/UA conformance (no veraPDF run).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import cast

from babel.dates import format_datetime
from fpdf import FPDF, ViewerPreferences
from fpdf.enums import MethodReturnValue, XPos, YPos

from portal.pdf.document import Document, Heading, KeyValues, Paragraph, SmallPrint, Table
from portal.pdf.fonts import FAMILY, font_files
from portal.pdf.tags import Element, StructureTree
from portal.timeutil import BERLIN, utcnow

# The renderer's own words, in the document's language. Kept here rather than in the message catalogue on
# purpose: a document's language is the recipient's, not the request's, and rendering must not need a
# request (jobs and CLI commands make documents too).
WORDS = {
    "de": {
        "page": "Seite {page} von {pages}",
        "created": "Erstellt am {date}",
        "reference": "Aktenzeichen",
        "date_pattern": "d. MMMM y, HH:mm 'Uhr'",
    },
    "en": {
        "page": "Page {page} of {pages}",
        "created": "Created on {date}",
        "reference": "Reference",
        "date_pattern": "d MMMM y, HH:mm",
    },
}

# KERN colours (sRGB approximations of its OKLCH tokens).
BRAND = (32, 68, 170)  # darkblue-700, action-default
TEXT = (29, 32, 52)  # neutral-900
MUTED = (78, 82, 104)
RULE = (192, 195, 213)  # neutral-200
HEADER_FILL = (232, 233, 239)  # neutral-050

PT = 0.3528  # mm per point
MARGIN = 20.0
CONTENT_TOP = 36.0
FOOTER_TOP = 281.0  # A4 is 297 mm high
CELL_PAD_X = 1.6
CELL_PAD_Y = 1.2


def render_pdf(document: Document, *, font_dir: Path | None = None) -> bytes:
    """The document as PDF bytes: A4, the city's letterhead, "Seite x von y", tagged, fonts embedded."""
    return _Renderer(document, font_dir).render()


def _line_height(size: float) -> float:
    return size * PT * 1.45


def _joinable(line: str, last: bool) -> str:
    """A wrapped line keeps the space it was broken at, so extracted and read-aloud text has no glued words."""
    return line if last or line.endswith(" ") else line + " "


class _Renderer(FPDF):
    def __init__(self, document: Document, font_dir: Path | None) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.document = document
        self.words = WORDS[document.language]
        self.city = document.city or _configured_city()
        self.generated_at = document.generated_at or utcnow()
        self.tree = StructureTree()
        self.struct_builder = self.tree
        for style, path in font_files(font_dir).items():
            self.add_font(FAMILY, style, str(path))
        self.set_margins(MARGIN, CONTENT_TOP, MARGIN)
        # Page breaks are made by hand, between marked-content sequences: one sequence must not span pages.
        self.set_auto_page_break(False)
        self.bottom = FOOTER_TOP - 6
        self.alias_nb_pages("{nb}", align="L")
        self.set_text_color(*TEXT)

        self.set_title(document.title)
        self.set_lang(document.language)
        self.set_subject(document.subject or document.title)
        self.set_author(self.city)
        self.set_creator("Stadtportal")
        self.set_creation_date(self.generated_at)
        self.viewer_preferences = ViewerPreferences(display_doc_title=True)

    # --- marked content ----------------------------------------------------------------------------------------

    @contextmanager
    def tagged(self, struct_type: str, parent: Element | None = None, **kwargs: object) -> Iterator[Element]:
        element, mcid, spid = self.tree.content(struct_type, self.page, self.pages[self.page], parent, **kwargs)
        self.pages[self.page].struct_parents = spid
        self._out(f"{struct_type} <</MCID {mcid}>> BDC")
        yield element
        self._out("EMC")

    @contextmanager
    def artifact(self) -> Iterator[None]:
        self._out("/Artifact BMC")
        yield
        self._out("EMC")

    # --- page furniture ----------------------------------------------------------------------------------------

    def header(self) -> None:
        with self.artifact():
            # KERN's brand mark: a blue square with two white bars (as in the web page's header).
            self.set_fill_color(*BRAND)
            self.rect(MARGIN, 12, 9, 9, style="F")
            self.set_fill_color(255, 255, 255)
            self.rect(MARGIN + 2.25, 12 + 4.05, 1.35, 3.15, style="F")
            self.rect(MARGIN + 5.4, 12 + 2.7, 1.35, 4.5, style="F")
            self.set_draw_color(*RULE)
            self.set_line_width(0.3)
            self.line(MARGIN, 27, self.w - MARGIN, 27)
        # The issuing authority is part of what page 1 says; on later pages it is running furniture.
        letterhead = self.tagged("/P") if self.page == 1 else self.artifact()
        with letterhead:
            self.set_xy(MARGIN + 12, 11.5)
            self.set_font(FAMILY, "B", 12)
            self.set_text_color(*TEXT)
            self.cell(0, 5, self.city, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.set_font(FAMILY, "", 8.5)
            self.set_text_color(*MUTED)
            for line in (self.document.department, self.document.address):
                if line:
                    self.set_x(MARGIN + 12)
                    self.cell(0, 3.8, " " + line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*TEXT)
        self.set_xy(MARGIN, CONTENT_TOP)

    def footer(self) -> None:
        with self.artifact():
            self.set_draw_color(*RULE)
            self.set_line_width(0.3)
            self.line(MARGIN, FOOTER_TOP, self.w - MARGIN, FOOTER_TOP)
            self.set_font(FAMILY, "", 8.5)
            self.set_text_color(*MUTED)
            self.set_xy(MARGIN, FOOTER_TOP + 2)
            date = format_datetime(
                self.generated_at, self.words["date_pattern"], tzinfo=BERLIN, locale=self.document.language
            )
            self.cell(self.epw * 0.7, 4, f"{self.city} · {self.words['created'].format(date=date)}")
            self.cell(
                self.epw * 0.3,
                4,
                self.words["page"].format(page=self.page_no(), pages=self.str_alias_nb_pages),
                align="R",
            )
            self.set_text_color(*TEXT)

    # --- blocks ------------------------------------------------------------------------------------------------

    def render(self) -> bytes:
        self.add_page()
        self.title_block()
        for block in self.document.blocks:
            if isinstance(block, Heading):
                size = 13.0 if block.level == 2 else 11.0
                self.text_block(block.text, f"/H{block.level}", size, "B", space_before=4, outline=block.level - 1)
            elif isinstance(block, Paragraph):
                self.text_block(block.text, "/P", 10.5, "")
            elif isinstance(block, SmallPrint):
                self.text_block(block.text, "/P", 8.5, "", color=MUTED)
            elif isinstance(block, KeyValues):
                self.draw_table([], [list(row) for row in block.rows], [0.35, 0.65], row_headers=True)
            elif isinstance(block, Table):
                self.draw_table(list(block.header), [list(row) for row in block.rows], block.widths)
            else:  # pragma: no cover - Block is a closed union
                raise TypeError(f"unknown block {block!r}")
        return bytes(self.output())

    def title_block(self) -> None:
        self.text_block(self.document.title, "/H1", 18, "B", outline=0, space_after=2)
        if self.document.reference:
            self.text_block(f"{self.words['reference']}: {self.document.reference}", "/P", 10.5, "", color=MUTED)
        if self.document.subject:
            self.text_block(self.document.subject, "/P", 10.5, "", color=MUTED)
        self.ln(2)

    def wrap(self, text: str, width: float) -> list[str]:
        lines = cast(list[str], self.multi_cell(width, 5, text, dry_run=True, output=MethodReturnValue.LINES))
        return [str(line) for line in lines] or [""]

    def text_block(
        self,
        text: str,
        struct_type: str,
        size: float,
        style: str,
        *,
        color: tuple[int, int, int] = TEXT,
        space_before: float = 0,
        space_after: float = 2.5,
        outline: int | None = None,
    ) -> None:
        self.set_font(FAMILY, style, size)
        height = _line_height(size)
        lines = self.wrap(text, self.epw)
        # A heading keeps at least three lines of what follows with it.
        needed = height * len(lines) + (3 * _line_height(10.5) if struct_type.startswith("/H") else height)
        if self.y + space_before + min(needed, height * 3) > self.bottom:
            self.add_page()
        elif self.y > CONTENT_TOP:
            self.ln(space_before)
        if outline is not None:
            self.start_section(text, level=outline)
        self.set_font(FAMILY, style, size)
        self.set_text_color(*color)
        while lines:
            fit = max(1, int((self.bottom - self.y) // height))
            chunk, lines = lines[:fit], lines[fit:]
            with self.tagged(struct_type):
                for number, line in enumerate(chunk):
                    last = not lines and number == len(chunk) - 1
                    self.cell(self.epw, height, _joinable(line, last), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            if lines:  # the rest continues as its own element on the next page
                self.add_page()
                self.set_font(FAMILY, style, size)
                self.set_text_color(*color)
        self.set_text_color(*TEXT)
        self.ln(space_after)

    def draw_table(
        self,
        header: list[str],
        rows: list[list[str]],
        widths: Sequence[float] | None,
        *,
        row_headers: bool = False,
    ) -> None:
        columns = len(header) or (len(rows[0]) if rows else 0)
        if not columns:
            return
        relative = list(widths) if widths else [1.0] * columns
        total = sum(relative)
        widths_mm = [self.epw * w / total for w in relative]
        size = 9.5
        height = _line_height(size)
        body_lines = int((self.bottom - CONTENT_TOP - 2 * CELL_PAD_Y) // height)

        def layout(cells: list[str], style: str) -> tuple[list[list[str]], float]:
            self.set_font(FAMILY, style, size)
            wrapped = []
            for text, width in zip(cells, widths_mm, strict=True):
                lines = self.wrap(text, width - 2 * CELL_PAD_X)
                if len(lines) > body_lines:  # a cell taller than a page is cut rather than overflowing
                    lines = [*lines[: body_lines - 1], lines[body_lines - 1] + " …"]
                wrapped.append(lines)
            return wrapped, max(len(lines) for lines in wrapped) * height + 2 * CELL_PAD_Y

        head = layout(header, "B") if header else None
        table: Element | None = None

        def start_table() -> Element:
            element = self.tree.group("/Table", self.page, self.pages[self.page])
            if head is not None:
                self.draw_row(element, head[0], head[1], widths_mm, header=True)
            return element

        self.ln(1)
        for cells in rows:
            wrapped, row_height = layout(cells, "")
            first_height = head[1] if head is not None and table is None else 0
            if self.y + first_height + row_height > self.bottom:
                self.add_page()
                table = None
            if table is None:  # a table continued on a new page repeats its header row
                table = start_table()
            self.draw_row(table, wrapped, row_height, widths_mm, row_headers=row_headers)
        if table is None and head is not None:  # a table without rows still shows its header
            if self.y + head[1] > self.bottom:
                self.add_page()
            start_table()
        self.ln(3)

    def draw_row(
        self,
        table: Element,
        cells: list[list[str]],
        row_height: float,
        widths_mm: list[float],
        *,
        header: bool = False,
        row_headers: bool = False,
    ) -> None:
        top = self.y
        with self.artifact():
            if header:
                self.set_fill_color(*HEADER_FILL)
                self.rect(MARGIN, top, self.epw, row_height, style="F")
            self.set_draw_color(*RULE)
            self.set_line_width(0.2)
            self.line(MARGIN, top + row_height, self.w - MARGIN, top + row_height)
        row = self.tree.group("/TR", self.page, self.pages[self.page], parent=table)
        x = MARGIN
        for index, (lines, width) in enumerate(zip(cells, widths_mm, strict=True)):
            is_header = header or (row_headers and index == 0)
            scope = "/Column" if header else "/Row"
            kwargs = {"attributes": f"<</O /Table /Scope {scope}>>"} if is_header else {}
            self.set_font(FAMILY, "B" if is_header else "", 9.5)
            with self.tagged("/TH" if is_header else "/TD", parent=row, **kwargs):
                for number, line in enumerate(lines):
                    self.set_xy(x + CELL_PAD_X, top + CELL_PAD_Y + number * _line_height(9.5))
                    self.cell(width - 2 * CELL_PAD_X, _line_height(9.5), _joinable(line, number == len(lines) - 1))
            x += width
        self.set_xy(MARGIN, top + row_height)


def _configured_city() -> str:
    from flask import current_app, has_app_context

    if has_app_context():
        return str(current_app.config.get("CITY_NAME") or "Stadt Musterstadt")
    return "Stadt Musterstadt"
