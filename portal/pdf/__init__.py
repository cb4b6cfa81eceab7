"""PDF documents in the portal's look: decisions, receipts, reports.

    from portal.pdf import Document, Heading, KeyValues, Paragraph, SmallPrint, Table, render_pdf

    pdf_bytes = render_pdf(Document(title=..., language="de", reference="T-2026-000123", blocks=[...]))

Texts come translated from the caller; the renderer adds the city's letterhead (CITY_NAME), "Seite x von y"
and the creation date in the document's language. See portal/pdf/render.py for why fpdf2.
"""

from pathlib import Path

from portal.pdf.document import Block, Document, Heading, KeyValues, Paragraph, SmallPrint, Table
from portal.pdf.fonts import FontsMissingError


def render_pdf(document: Document, *, font_dir: Path | None = None) -> bytes:
    """The document as PDF bytes (portal.pdf.render). fpdf2 and Pillow are imported here, on the first PDF a
    process makes: they add about 45 MB to every web worker, most of which never renders a PDF."""
    from portal.pdf.render import render_pdf as render

    return render(document, font_dir=font_dir)


__all__ = [
    "Block",
    "Document",
    "FontsMissingError",
    "Heading",
    "KeyValues",
    "Paragraph",
    "SmallPrint",
    "Table",
    "render_pdf",
]
