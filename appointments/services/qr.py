"""The check-in code: the booking's reference as a QR code that a desk scanner types into the check-in field."""

from __future__ import annotations

import io

import segno
from flask_babel import lazy_gettext as _l


def qr_svg(reference: str, *, title: str | None = None) -> str:
    """An inline SVG for pages: role="img" with a <title> as its accessible name."""
    code = segno.make(reference, micro=False, error="m")
    name = title or str(_l("QR-Code der Vorgangsnummer %(reference)s", reference=reference))
    svg = str(code.svg_inline(scale=4, border=4, title=name, dark="#000", light="#fff"))
    return svg.replace("<svg ", '<svg role="img" ', 1)


def qr_png(reference: str) -> bytes:
    """A PNG for mail attachments: mail programs show images, few of them inline SVG."""
    buffer = io.BytesIO()
    segno.make(reference, micro=False, error="m").save(buffer, kind="png", scale=6, border=4)
    return buffer.getvalue()
