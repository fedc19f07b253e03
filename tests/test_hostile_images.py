"""Logos as users supply them: any resolution, colour model or transparency; or a French
message naming the setting to fix."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from test_documents_data import all_contexts, organisme, referentiel

from certidocs.documents import default_templates_dir
from certidocs.documents.context import MAX_LOGO_BYTES
from certidocs.documents.render import Template
from certidocs.errors import DocumentError

EMU_PER_MM = 36000
WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"


def _jfif_density(data: bytes, units: int, x: int, y: int) -> bytes:
    """A JPEG with its JFIF header's resolution set as a careless editor writes it."""
    at = data.index(b"JFIF\x00")
    header = struct.pack(">BHH", units, x, y)
    return data[:at + 7] + header + data[at + 12:]


def _jpeg(mode: str = "RGB", **save: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (300, 120), "navy" if mode == "RGB" else (90, 40, 0, 10)).save(
        out, "JPEG", **save)
    return out.getvalue()


def _png(mode: str, **save: object) -> bytes:
    out = io.BytesIO()
    colour = (20, 60, 120, 128) if mode == "RGBA" else "navy"
    Image.new(mode, (300, 120), colour).save(out, "PNG", **save)
    return out.getvalue()


def _without_app0(data: bytes) -> bytes:
    """A JPEG with no JFIF header at all (no resolution declared)."""
    at = data.index(b"\xff\xe0")
    length = struct.unpack(">H", data[at + 2:at + 4])[0]
    return data[:at] + data[at + 2 + length:]


LOGOS = {
    "jpeg-0-dpi": lambda: _jfif_density(_jpeg(), 1, 0, 0),
    "jpeg-sans-resolution": lambda: _without_app0(_jpeg()),
    "jpeg-65535-dpi": lambda: _jfif_density(_jpeg(), 1, 65535, 65535),
    "jpeg-cmjn": lambda: _jpeg("CMYK"),
    "png-transparent": lambda: _png("RGBA"),
    "png-0-dpi": lambda: _png("RGB", dpi=(0, 0)),
    "gif": lambda: _gif(),
}


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (300, 120)).save(out, "GIF")
    return out.getvalue()


def _render_convocation(tmp_path: Path, logo: Path) -> Path:
    contexts = all_contexts(referentiel(), organisme(logo))
    _, context = contexts["convocation_candidat"][0]
    target = tmp_path / "convocation.docx"
    Template(default_templates_dir() / "convocation_candidat.docx").render_to(context, target)
    return target


@pytest.mark.parametrize("kind", sorted(LOGOS))
def test_logo_of_any_kind_is_printed_at_its_height(tmp_path: Path, kind: str) -> None:
    logo = tmp_path / f"logo-{kind}.img"
    logo.write_bytes(LOGOS[kind]())
    target = _render_convocation(tmp_path, logo)
    with zipfile.ZipFile(target) as zf:
        xml = zf.read("word/document.xml").decode() + "".join(
            zf.read(n).decode() for n in zf.namelist() if n.startswith("word/header"))
    import re

    extents = [(int(a), int(b)) for a, b in re.findall(r'<wp:extent cx="(\d+)" cy="(\d+)"', xml)]
    assert extents, "the logo is missing"
    cx, cy = extents[0]
    assert cy == pytest.approx(12 * EMU_PER_MM, rel=0.01)  # LOGO_HAUTEUR_MM
    assert cx == pytest.approx(cy * 300 / 120, rel=0.01)  # the pixels' proportions


def test_logo_too_heavy_names_the_setting(tmp_path: Path) -> None:
    logo = tmp_path / "photo.jpg"
    logo.write_bytes(_jpeg() + b"\x00" * MAX_LOGO_BYTES)
    with pytest.raises(DocumentError) as caught:
        _render_convocation(tmp_path, logo)
    message = str(caught.value)
    assert message.startswith("certidocs.toml, [organisme] logo : ")
    assert "plus que les 10 Mo permis" in message


@pytest.mark.parametrize("content", [b"", b"\x89PNG\r\n\x1a\n tronque", b"<svg></svg>",
                                     b"\xff\xd8\xff\xe0 rien"])
def test_logo_not_an_image_names_the_setting(tmp_path: Path, content: bytes) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(content)
    with pytest.raises(DocumentError) as caught:
        _render_convocation(tmp_path, logo)
    assert "[organisme] logo" in str(caught.value)
    assert "n'est pas une image que Word sait afficher" in str(caught.value)
