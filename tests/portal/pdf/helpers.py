"""Reading rendered PDFs back: text per page, catalog entries, the structure tree."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader


def reader(data: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(data))


def page_texts(data: bytes) -> list[str]:
    return [page.extract_text() for page in reader(data).pages]


def structure(data: bytes) -> list[tuple[int, str, Any]]:
    """(depth, structure type, element) for every element of the tag tree, in document order."""
    root = reader(data).trailer["/Root"]["/StructTreeRoot"]
    found: list[tuple[int, str, Any]] = []

    def walk(node: Any, depth: int) -> None:
        node = node.get_object()
        if isinstance(node, list):
            for item in node:
                walk(item, depth)
            return
        if not hasattr(node, "get") or node.get("/S") is None:
            return
        found.append((depth, str(node["/S"]), node))
        kids = node.get("/K")
        if kids is None:
            return
        kids = kids.get_object()
        for kid in kids if isinstance(kids, list) else [kids]:
            if not isinstance(kid, int):
                walk(kid, depth + 1)

    walk(root["/K"], 0)
    return found


def fonts(data: bytes) -> list[dict]:
    """The font dictionaries used on the pages (descendant fonts for Type0)."""
    result = []
    for page in reader(data).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            result.extend(d.get_object() for d in font.get("/DescendantFonts", [font]))
    return result
