"""Looking inside an upload: what it really is (by its bytes, never its name) and whether it is within limits.

PDFs are opened with pypdf under tight limits (decompression output, page-tree size and depth), so a small file
that unfolds into an enormous page tree or stream is refused after a bounded amount of work. Images are read by
their header only: the pixel count is known before a single pixel is decoded, and `verify()` checks the rest
of the file's structure without decoding it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import IO

import filetype
from flask_babel import format_number
from flask_babel import gettext as _

from portal.files.errors import FileError
from portal.files.policy import KNOWN_TYPES, UploadPolicy

log = logging.getLogger(__name__)

SNIFF_BYTES = 8192
# pypdf's own defaults allow 75 MB per decompressed stream; counting pages never needs more than the page tree,
# whose objects (even packed into object streams) are small. Broken zlib streams are retried byte by byte by
# pypdf: keep that recovery short, as it costs CPU per input byte.
PDF_STREAM_LIMIT = 8 * 1024 * 1024
PDF_RECOVERY_LIMIT = 64 * 1024
PDF_TREE_DEPTH = 32

# Other spellings of the types we know.
SNIFF_ALIASES = {"image/apng": "image/png"}


@dataclass(frozen=True)
class Inspection:
    content_type: str
    page_count: int | None = None
    width: int | None = None
    height: int | None = None


def sniff(head: bytes) -> str | None:
    """The media type its first bytes say, or None when they say nothing we recognise."""
    mime = filetype.guess_mime(head[:SNIFF_BYTES]) if head else None
    return SNIFF_ALIASES.get(mime or "", mime)


def label_of(mime: str | None) -> str:
    known = KNOWN_TYPES.get(mime or "")
    return known.label if known else _("unbekannt")


def inspect(data: IO[bytes], policy: UploadPolicy, *, field: str) -> Inspection:
    """Sniff and parse `data` (a seekable stream at any position); raise FileError if it breaks the policy."""
    data.seek(0)
    mime = sniff(data.read(SNIFF_BYTES))
    data.seek(0)
    if mime is None or mime not in policy.allowed_types:
        raise FileError(
            field,
            _("Dieses Dateiformat wird hier nicht angenommen. Erlaubt sind: %(types)s.", types=policy.type_labels),
            "type_not_allowed",
        )
    try:
        if mime == "application/pdf":
            return Inspection(mime, page_count=_pdf_pages(data, policy, field))
        width, height = _image_size(data, mime, policy, field)
        return Inspection(mime, width=width, height=height)
    finally:
        data.seek(0)


def _unreadable(field: str, label: str) -> FileError:
    return FileError(
        field,
        _(
            "Die Datei lässt sich nicht als %(type)s lesen: Sie ist beschädigt, unvollständig oder ungewöhnlich "
            "aufgebaut. Bitte speichern oder exportieren Sie sie neu und versuchen Sie es noch einmal.",
            type=label,
        ),
        "unreadable",
    )


def _too_many_pages(field: str, pages: int, policy: UploadPolicy) -> FileError:
    return FileError(
        field,
        _(
            "Die PDF-Datei hat %(pages)s Seiten; erlaubt sind höchstens %(max)s. Bitte teilen Sie sie auf oder "
            "laden Sie nur die nötigen Seiten hoch.",
            pages=format_number(pages),
            max=format_number(policy.max_pdf_pages),
        ),
        "too_many_pages",
    )


def _pdf_pages(data: IO[bytes], policy: UploadPolicy, field: str) -> int:
    from pypdf import PdfReader, apply_configuration
    from pypdf.generic import DictionaryObject

    limit = policy.max_pdf_pages
    with apply_configuration(
        zlib_maximum_output_length=PDF_STREAM_LIMIT,
        zlib_maximum_recovery_input_length=PDF_RECOVERY_LIMIT,
        lzw_maximum_output_length=PDF_STREAM_LIMIT,
        run_length_maximum_output_length=PDF_STREAM_LIMIT,
        brotli_maximum_output_length=PDF_STREAM_LIMIT,
        array_based_stream_maximum_output_length=PDF_STREAM_LIMIT,
        stream_decoding_work_maximum_length=4 * PDF_STREAM_LIMIT,
        page_tree_maximum_depth=PDF_TREE_DEPTH,
        # A page tree of n pages needs fewer than 2n nodes; anything far beyond is not a document we accept.
        page_tree_maximum_entries=2 * limit + 64,
        disable_legacy_handling=True,
    ):
        try:
            reader = PdfReader(data, strict=False)
            if reader.is_encrypted:
                raise FileError(
                    field,
                    _(
                        "Die PDF-Datei ist passwortgeschützt oder verschlüsselt. Bitte speichern Sie sie ohne "
                        "Passwort und laden Sie sie dann hoch."
                    ),
                    "encrypted",
                )
            pages_node = reader.root_object.get("/Pages")
            pages_node = pages_node.get_object() if pages_node is not None else None
            if not isinstance(pages_node, DictionaryObject):
                raise _unreadable(field, "PDF")
            # A file may claim a billion pages in a few bytes: believe the claim only far enough to refuse early.
            claimed = pages_node.get("/Count")
            if isinstance(claimed, int) and claimed > limit:
                raise _too_many_pages(field, int(claimed), policy)
            count = len(reader.pages)  # walks the real tree, bounded by the limits above
        except FileError:
            raise
        except Exception as error:  # any failure to parse untrusted input means "not a PDF we can take"
            log.info("PDF refused as unreadable: %s", type(error).__name__, extra={"reason": str(error)[:200]})
            raise _unreadable(field, "PDF") from None
    if count == 0:
        raise _unreadable(field, "PDF")
    if count > limit:
        raise _too_many_pages(field, count, policy)
    return count


def _image_size(data: IO[bytes], mime: str, policy: UploadPolicy, field: str) -> tuple[int, int]:
    from PIL import JpegImagePlugin, PngImagePlugin

    label = label_of(mime)
    # The format's own reader, not Image.open: it parses the header (size, mode) and decodes nothing, and it
    # does not first try every other format Pillow knows on bytes we already identified.
    opener = PngImagePlugin.PngImageFile if mime == "image/png" else JpegImagePlugin.JpegImageFile
    try:
        with opener(data) as image:
            width, height = image.size
            if width <= 0 or height <= 0:
                raise _unreadable(field, label)
            if width * height > policy.max_image_pixels:
                raise FileError(
                    field,
                    _(
                        "Das Bild ist zu groß: %(width)s × %(height)s Pixel. Erlaubt sind höchstens %(mp)s Megapixel; "
                        "bitte verkleinern Sie es und laden Sie es erneut hoch.",
                        width=format_number(width),
                        height=format_number(height),
                        mp=policy.max_megapixels,
                    ),
                    "too_many_pixels",
                )
            image.verify()  # chunk structure and checksums, without decoding the pixels
    except FileError:
        raise
    except Exception as error:  # Pillow raises many kinds (SyntaxError, OSError, struct.error, ...) on bad input
        log.info("image refused as unreadable: %s", type(error).__name__, extra={"reason": str(error)[:200]})
        raise _unreadable(field, label) from None
    return width, height
