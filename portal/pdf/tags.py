"""A PDF structure tree (tags) with nesting, for fpdf2 2.8.

fpdf2's own builder only hangs figures and section titles flat under /Document. Assistive technology needs
headings, paragraphs and tables (Table > TR > TH/TD) to read a document in order and to announce a table's
headers, so this subclass keeps nested elements and numbers the marked content per page itself. It reuses
fpdf2's StructElem/StructTreeRoot classes (internal API: fpdf2 is pinned, and tests/portal/pdf checks the
tree, so an upgrade that changes them fails loudly instead of silently producing an untagged PDF).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from fpdf.structure_tree import StructElem, StructureTreeBuilder
from fpdf.syntax import PDFObject, Raw


class Element(StructElem):
    """A structure element that may carry an attribute dictionary (/A), e.g. a header cell's scope."""

    __slots__ = ("a",)

    def __init__(self, *args: Any, attributes: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.a = Raw(attributes) if attributes else None


class StructureTree(StructureTreeBuilder):
    def __init__(self) -> None:
        super().__init__()
        self._elements: list[Element] = []  # every element below /Document, in document order
        self._next_mcid: dict[int, int] = defaultdict(int)

    def group(
        self, struct_type: str, page: int, page_obj: PDFObject, parent: Element | None = None, **kwargs: Any
    ) -> Element:
        """An element holding other elements (Table, TR), not content of its own."""
        return self._add(struct_type, page, page_obj, parent, kids=[], **kwargs)

    def content(
        self, struct_type: str, page: int, page_obj: PDFObject, parent: Element | None = None, **kwargs: Any
    ) -> tuple[Element, int, int]:
        """An element owning one marked-content sequence on `page`: (element, its MCID, the page's StructParents).

        The parent tree maps (StructParents, MCID) back to the element: its array for the page is indexed by
        MCID, so MCIDs are handed out here in the order the elements are appended.
        """
        mcid = self._next_mcid[page]
        self._next_mcid[page] += 1
        element = self._add(struct_type, page, page_obj, parent, kids=[mcid], **kwargs)
        spid = self.spid_per_page_number.setdefault(page, len(self.spid_per_page_number))
        self.struct_tree_root.parent_tree.nums[spid].append(element)
        return element, mcid, spid

    def _add(
        self, struct_type: str, page: int, page_obj: PDFObject, parent: Element | None, kids: list, **kwargs: Any
    ) -> Element:
        element = Element(
            struct_type=struct_type,
            parent=parent or self.doc_struct_elem,
            kids=kids,
            page_number=page,
            **kwargs,
        )
        # fpdf2 sets /Pg only on the children of /Document; nested elements name their page themselves.
        element.pg = page_obj  # type: ignore[assignment]
        (parent or self.doc_struct_elem).k.append(element)
        self._elements.append(element)
        return element

    def empty(self) -> bool:
        return not self._elements

    def __iter__(self) -> Iterator[PDFObject]:
        yield self.struct_tree_root
        yield self.doc_struct_elem
        yield self.struct_tree_root.parent_tree
        yield from self._elements

    def add_marked_content(self, *args: Any, **kwargs: Any) -> tuple[StructElem, int]:
        # fpdf2's own tagging (images with alt text, styled section titles) numbers MCIDs its own way; mixing
        # both would corrupt the parent tree. Documents here have no such content; say so if one ever does.
        raise NotImplementedError("portal.pdf tags its content itself; add a block type instead")
