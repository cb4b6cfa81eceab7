"""Real files made on the spot: documents and images as people upload them, and hostile ones built byte by byte."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator

from fpdf import FPDF
from PIL import Image
from werkzeug.datastructures import FileStorage


def upload(data: bytes, filename: str, mimetype: str = "application/octet-stream") -> FileStorage:
    """What Werkzeug hands a view for one file part; the browser's claimed type is deliberately ignored."""
    return FileStorage(stream=io.BytesIO(data), filename=filename, content_type=mimetype)


def pdf(pages: int = 1, text: str = "Lageplan") -> bytes:
    document = FPDF()
    document.set_font("helvetica", size=14)
    for number in range(1, pages + 1):
        document.add_page()
        document.cell(text=f"{text}, Seite {number}")
    return bytes(document.output())


def encrypted_pdf() -> bytes:
    document = FPDF()
    document.add_page()
    document.set_font("helvetica", size=14)
    document.cell(text="Geheim")
    document.set_encryption(owner_password="owner-secret", user_password="user-secret")
    return bytes(document.output())


def png(width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 90, 160, 255)).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg(width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


# --- hand-built PDFs ---------------------------------------------------------------------------------------------


def assemble_pdf(objects: list[bytes], root: int = 1) -> bytes:
    """A syntactically correct PDF with a classic cross-reference table around the given object bodies."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root {root} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"


def pdf_claiming_pages(count: int) -> bytes:
    """One real page, but a page tree that says `count`."""
    return assemble_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            f"<< /Type /Pages /Kids [3 0 R] /Count {count} >>".encode(),
            PAGE,
        ]
    )


def pdf_page_tree_bomb(fan_out: int = 100, levels: int = 3) -> bytes:
    """A page tree whose nodes all point at the same children: fan_out**levels page references (10**6) from a
    few kilobytes, while /Count claims a single page."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", PAGE]
    # Object 2 is the root node; 4, 5, ... the shared intermediate nodes; the last level points at page 3.
    node_numbers = [2] + [4 + i for i in range(levels - 1)]
    bodies = {}
    for index, number in enumerate(node_numbers):
        child = node_numbers[index + 1] if index + 1 < len(node_numbers) else 3
        kids = " ".join([f"{child} 0 R"] * fan_out)
        bodies[number] = f"<< /Type /Pages /Kids [{kids}] /Count 1 >>".encode()
    objects[1] = bodies[2]
    objects.extend(bodies[number] for number in node_numbers[1:])
    return assemble_pdf(objects)


def pdf_deeply_nested(depth: int = 5000) -> bytes:
    """Thousands of page-tree levels above a single page."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    # Objects 2 .. depth+1 are nested /Pages nodes, object depth+2 the page.
    for level in range(depth):
        number = 2 + level
        objects.append(f"<< /Type /Pages /Kids [{number + 1} 0 R] /Count 1 >>".encode())
    objects.append(f"<< /Type /Page /Parent {depth + 1} 0 R /MediaBox [0 0 595 842] >>".encode())
    return assemble_pdf(objects)


def _zlib_stream(parts: Iterator[bytes]) -> bytes:
    compressor = zlib.compressobj(9)
    out = bytearray()
    for part in parts:
        out += compressor.compress(part)
    out += compressor.flush()
    return bytes(out)


def pdf_object_stream_bomb(inflated_mb: int = 200) -> bytes:
    """The page tree sits in a compressed object stream that inflates to `inflated_mb` megabytes (of blanks after
    the real object): a file of a few hundred kilobytes that would need that much memory to read naively."""
    pages = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    header = b"2 0 "
    blank = b" " * (1024 * 1024)
    compressed = _zlib_stream(iter([header, pages, *([blank] * inflated_mb)]))

    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}

    def add(number: int, body: bytes) -> None:
        offsets[number] = len(out)
        out.extend(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")

    add(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    add(3, PAGE)
    add(
        4,
        f"<< /Type /ObjStm /N 1 /First {len(header)} /Filter /FlateDecode /Length {len(compressed)} >>".encode()
        + b"\nstream\n"
        + compressed
        + b"\nendstream",
    )
    xref_offset = len(out)
    rows = [
        struct.pack(">BIH", 0, 0, 65535),
        struct.pack(">BIH", 1, offsets[1], 0),
        struct.pack(">BIH", 2, 4, 0),  # object 2 lives in object stream 4, at index 0
        struct.pack(">BIH", 1, offsets[3], 0),
        struct.pack(">BIH", 1, offsets[4], 0),
        struct.pack(">BIH", 1, xref_offset, 0),
    ]
    data = b"".join(rows)
    out.extend(
        f"5 0 obj\n<< /Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R /Length {len(data)} >>\nstream\n".encode()
        + data
        + b"\nendstream\nendobj\n"
    )
    out.extend(f"startxref\n{xref_offset}\n%%EOF\n".encode())
    return bytes(out)


# --- hand-built PNGs ---------------------------------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(width: int = 20000, height: int = 20000) -> bytes:
    """A valid black-and-white PNG of width × height pixels whose pixel data compresses to almost nothing."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)  # filter byte, then 1 bit per pixel
    rows_per_part = 1000
    parts = (row * min(rows_per_part, height - start) for start in range(0, height, rows_per_part))
    idat = _zlib_stream(parts)
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def png_with_bad_checksum() -> bytes:
    """A PNG whose pixel data was damaged in transit: the chunk's CRC no longer matches."""
    data = bytearray(png(32, 32))
    idat = data.index(b"IDAT")
    data[idat + 8] ^= 0xFF  # a byte inside the IDAT payload
    return bytes(data)
