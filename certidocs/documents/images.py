"""Images as users supply them, made fit for python-docx, Word and LibreOffice.

python-docx places an image from its header: it divides by the declared resolution (a JPEG
declaring 0 dots per inch stopped every document) and only recognises a JPEG that starts with
a JFIF or Exif header (a CMYK JPEG from a print shop starts with Adobe's). Word and LibreOffice
display all of these; so does certidocs: the printed size is computed here and given to
python-docx, and a JPEG without a header python-docx knows gets a minimal JFIF one (which
changes nothing in its pixels).
"""

from __future__ import annotations

import functools
import struct
from pathlib import Path

ASSUMED_DPI = 96
"""Resolution assumed for an image that declares none, 0, or one outside DPI_RANGE: Windows'
and Word's own default. Only the natural printed size depends on it (a logo's height is set
by certidocs anyway)."""

DPI_RANGE = (20, 5000)
"""Resolutions taken as meant: 20 (a poster seen from afar) to 5 000 (a high-end scan);
outside, the file's header is wrong (0, 1 and 65 535 are seen from some editors)."""

_JFIF = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01" + struct.pack(
    ">BHH", 1, ASSUMED_DPI, ASSUMED_DPI) + b"\x00\x00"


def readable(data: bytes) -> bytes:
    """``data``, with a JFIF header added to a JPEG python-docx would not recognise."""
    if data.startswith(b"\xff\xd8") and data[6:10] not in (b"JFIF", b"Exif"):
        return data[:2] + _JFIF + data[2:]
    return data


def _header(data: bytes) -> tuple[int, int, float, float]:
    """Pixels and resolution (ValueError when python-docx cannot read the image)."""
    from docx.image.image import Image as DocxImage

    try:
        image = DocxImage.from_blob(readable(data))
        found = image.px_width, image.px_height, image.horz_dpi, image.vert_dpi
    except Exception as exc:  # python-docx raises its own errors, struct's and IndexError
        raise ValueError(f"image illisible ({type(exc).__name__})") from None
    if found[0] <= 0 or found[1] <= 0:
        raise ValueError("image sans pixels")
    return found


def pixels(data: bytes) -> tuple[int, int]:
    """Width and height in pixels of an image Word can show; ValueError if it is none."""
    width, height, _, _ = _header(data)
    return width, height


@functools.lru_cache(maxsize=64)
def placed(source: str | bytes, width: float | None,
           height: float | None) -> tuple[bytes | None, float, float]:
    """How to place an image: the bytes to give python-docx (None: the file as it is), and
    the printed width and height in mm: the given one(s), the other following the pixels'
    proportions, or both from the declared resolution (ASSUMED_DPI when absurd)."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    px_w, px_h, dpi_x, dpi_y = _header(data)
    if not (DPI_RANGE[0] <= dpi_x <= DPI_RANGE[1] and DPI_RANGE[0] <= dpi_y <= DPI_RANGE[1]):
        dpi_x = dpi_y = ASSUMED_DPI
    natural_w, natural_h = px_w / dpi_x * 25.4, px_h / dpi_y * 25.4
    fixed = readable(data)
    out = None if fixed is data and not isinstance(source, bytes) else fixed
    if width and height:
        return out, width, height
    if width:
        return out, width, width * natural_h / natural_w
    if height:
        return out, height * natural_w / natural_h, height
    return out, natural_w, natural_h
