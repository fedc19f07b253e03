"""QR codes as PNG bytes, to be placed in a document as an image."""

from __future__ import annotations

import io

QR_SCALE = 8
"""Pixels per module: over 300 dpi at the printed size, so that the code prints sharp."""

QR_BORDER = 4
"""Quiet zone, in modules: the one the standard asks for, so that phones read it."""


def qr_png(payload: str) -> bytes:
    """A PNG of the QR code for ``payload``: error correction M, mask chosen by the standard's
    penalty rules (segno), QR_BORDER-module quiet zone, QR_SCALE pixels per module, 1 bit per
    pixel; scaled down in the document.

    segno encodes; Pillow writes the image. segno's own PNG writer is pure Python: on a
    certificate's code it took about 10 ms per code (2.5 s of processor time for the 600
    certificates of a 1,000-candidate session, more than its encoding), Pillow 2 ms, for the
    same pixels (tests/test_documents_context.py compares them).
    """
    import segno
    from PIL import Image

    code = segno.make(payload, error="m", micro=False)
    side = len(code.matrix) + 2 * QR_BORDER
    blank = b"\xff" * side
    rows = [blank] * QR_BORDER
    margin = b"\xff" * QR_BORDER
    rows += [margin + bytes(0 if dark else 255 for dark in row) + margin
             for row in code.matrix]
    rows += [blank] * QR_BORDER
    image = Image.frombytes("L", (side, side), b"".join(rows))
    image = image.resize((side * QR_SCALE, side * QR_SCALE), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.convert("1").save(buffer, format="PNG")
    return buffer.getvalue()
