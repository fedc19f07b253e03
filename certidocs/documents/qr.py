"""QR codes as PNG bytes, to be placed in a document as an image."""

from __future__ import annotations

import io


def qr_png(payload: str) -> bytes:
    """A PNG of the QR code for ``payload``: error correction M, 4-module quiet zone.

    The image is made large (8 px per module: over 300 dpi at the printed size) and scaled
    down in the document, so that it prints sharp; the quiet zone is the one the standard asks
    for, so that phones read it.
    """
    import segno

    code = segno.make(payload, error="m", micro=False)
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()
