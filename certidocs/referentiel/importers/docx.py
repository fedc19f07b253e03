"""Read a Word document (.docx): its paragraphs and the rows of its tables, in document order.

The XML is read directly (``word/document.xml``) rather than through python-docx's paragraph
text, because a référentiel under revision carries tracked changes: text inside ``w:ins`` (an
insertion) belongs to the document and must be read, text inside ``w:del`` or ``w:moveFrom``
(deleted or moved away) must not. Vertically merged cells (``w:vMerge``) become empty
``merged`` cells, horizontally merged ones (``w:gridSpan``) keep the columns aligned.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any

from certidocs.errors import ImportErreur
from certidocs.referentiel.importers.common import (
    Block,
    Cell,
    Item,
    Para,
    Row,
    fold_spaces,
    split_markers,
)

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_XML_BYTES = 50 * 1024 * 1024
"""Largest ``word/document.xml`` (uncompressed): 50 MB. A 40-page référentiel with tracked
changes is about 2 MB; the XML is parsed into a tree of about ten times its size."""

MAX_PARAGRAPHS = 50_000
"""Most paragraphs (table cells' included) a référentiel document may hold: the longest seed
has about 2 000; 530 kB of compressed empty paragraphs held millions and took 3.5 GB and
80 seconds to read."""

MAX_TABLES = 2_000
"""Most tables: a référentiel has one per bloc, a few dozen at most."""

MAX_TEXT_CHARS = 5_000_000
"""Most characters of text: about 1 500 pages, thirty times the longest référentiel."""
_SKIP = {f"{W}del", f"{W}moveFrom", f"{W}delText", f"{W}txbxContent", f"{MC}Fallback",
         f"{W}instrText", f"{W}delInstrText", f"{W}rPr", f"{W}pPr"}
_LIST_STYLE = re.compile(r"list|liste|puce|bullet|enum", re.IGNORECASE)
_OFF = {"0", "false", "off", "none"}


def read_docx(path: Path) -> list[Item]:
    """The paragraphs and table rows of a .docx; ImportErreur if it cannot be read."""
    body = _body(path)
    items: list[Item] = []
    counters = {"table": 0, "para": 0}
    _walk(body, items, counters)
    if counters["table"] == 0:
        raise ImportErreur(f"{path} : ce document Word ne contient aucun tableau ; le "
                           "référentiel doit être un tableau (activités, compétences, modalités "
                           "d'évaluation, critères)")
    return items


def _body(path: Path) -> Any:
    from lxml import etree

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportErreur(f"{path} : lecture impossible ({exc.strerror})") from None
    if data.startswith(_OLE_MAGIC):
        if "EncryptionInfo".encode("utf-16-le") in data or b"EncryptedPackage" in data or \
                "EncryptedPackage".encode("utf-16-le") in data:
            raise ImportErreur(f"{path} : document protégé par un mot de passe (chiffré) ; "
                               "ouvrez-le dans Word, retirez le mot de passe (Fichier > Infos > "
                               "Protéger le document) et enregistrez-le à nouveau")
        raise ImportErreur(f"{path} : ancien format Word (.doc) sous une extension .docx ; "
                           "ouvrez-le dans Word et enregistrez-le au format .docx")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        info = archive.getinfo("word/document.xml")
        if info.file_size > MAX_XML_BYTES:
            raise ImportErreur(f"{path} : document Word de {info.file_size // 1024 // 1024} Mo "
                               f"de texte et de mise en forme (au plus "
                               f"{MAX_XML_BYTES // 1024 // 1024} Mo) : ce n'est pas un "
                               "référentiel ; import refusé")
        with archive.open(info) as stream:
            _check_counts(path, stream)
        xml = archive.read(info)
    except (zipfile.BadZipFile, KeyError, EOFError, zipfile.LargeZipFile, OSError,
            NotImplementedError, RuntimeError, zlib.error):
        raise ImportErreur(f"{path} : fichier Word (.docx) illisible ou endommagé ; "
                           "ouvrez-le dans Word et enregistrez-le à nouveau") from None
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError:
        raise ImportErreur(f"{path} : fichier Word (.docx) endommagé (contenu XML illisible) ; "
                           "ouvrez-le dans Word et enregistrez-le à nouveau") from None
    body = root.find(f"{W}body")
    if body is None:
        raise ImportErreur(f"{path} : fichier Word (.docx) sans corps de document ; "
                           "ouvrez-le dans Word et enregistrez-le à nouveau")
    return body


class _TooMany(Exception):
    """A bound of the document is passed (internal; becomes ImportErreur)."""


class _Counter:
    """lxml parser target that counts as the XML streams by, building nothing."""

    def __init__(self) -> None:
        self.paragraphs = self.tables = self.chars = 0

    def start(self, tag: str, _attrib: Any) -> None:
        if tag == f"{W}p":
            self.paragraphs += 1
            if self.paragraphs > MAX_PARAGRAPHS:
                raise _TooMany(f"plus de {MAX_PARAGRAPHS} paragraphes")
        elif tag == f"{W}tbl":
            self.tables += 1
            if self.tables > MAX_TABLES:
                raise _TooMany(f"plus de {MAX_TABLES} tableaux")

    def data(self, text: str) -> None:
        self.chars += len(text)
        if self.chars > MAX_TEXT_CHARS:
            raise _TooMany(f"plus de {MAX_TEXT_CHARS} caractères de texte")

    def end(self, _tag: str) -> None:
        pass

    def close(self) -> None:
        pass


def _check_counts(path: Path, stream: Any) -> None:
    """ImportErreur when the document holds more than a référentiel can (MAX_PARAGRAPHS,
    MAX_TABLES, MAX_TEXT_CHARS), found while the XML streams through: memory stays flat."""
    from lxml import etree

    feeder = etree.XMLParser(target=_Counter(), resolve_entities=False, no_network=True,
                             huge_tree=True)
    try:
        while chunk := stream.read(1 << 16):
            feeder.feed(chunk)
        feeder.close()
    except _TooMany as exc:
        raise ImportErreur(f"{path} : le document contient {exc}, bien plus qu'un "
                           "référentiel ; import refusé (vérifiez qu'il s'agit du bon fichier, "
                           "ou retirez les pages vides)") from None
    except etree.XMLSyntaxError:
        pass  # said by the real parse, with its message


def _walk(container: Any, items: list[Item], counters: dict[str, int]) -> None:
    for child in container:
        tag = child.tag
        if tag == f"{W}p":
            counters["para"] += 1
            text, bold = _text(child)
            if text:
                items.append(Para(text, f"paragraphe {counters['para']}", _style(child), bold))
        elif tag == f"{W}tbl" and _is_frame(child):
            # A one-column table used as a frame around the real one: read what it holds.
            for tc in child.iter(f"{W}tc"):
                if tc.getparent().getparent() is child:
                    _walk(tc, items, counters)
        elif tag == f"{W}tbl":
            counters["table"] += 1
            _table(child, counters["table"], items)
        elif tag in (f"{W}sdt", f"{W}sdtContent", f"{W}customXml", f"{W}ins"):
            _walk(child, items, counters)


def _is_frame(tbl: Any) -> bool:
    """Whether every row of ``tbl`` has one cell and some cell holds a table."""
    rows = _children(tbl, "tr")
    return bool(rows) and all(len(_children(tr, "tc")) == 1 for tr in rows) and any(
        tc.find(f"{W}tbl") is not None for tr in rows for tc in _children(tr, "tc"))


def _table(tbl: Any, number: int, items: list[Item]) -> None:
    for index, tr in enumerate(_children(tbl, "tr"), start=1):
        props = tr.find(f"{W}trPr")
        if props is not None and props.find(f"{W}del") is not None:
            continue  # a row deleted in tracked changes
        header = props is not None and _on(props.find(f"{W}tblHeader"))
        cells: list[Cell] = []
        before = props.find(f"{W}gridBefore") if props is not None else None
        if before is not None:
            cells += [Cell() for _ in range(_int(before.get(f"{W}val"), 0))]
        for tc in _children(tr, "tc"):
            tc_props = tc.find(f"{W}tcPr")
            span = 1
            merged = False
            if tc_props is not None:
                grid = tc_props.find(f"{W}gridSpan")
                span = max(_int(grid.get(f"{W}val") if grid is not None else None, 1), 1)
                vmerge = tc_props.find(f"{W}vMerge")
                merged = vmerge is not None and vmerge.get(f"{W}val", "continue") != "restart"
            if merged:
                cells.append(Cell(merged=True))
            else:
                cells.append(Cell(_cell_blocks(tc), _label(tc)))
            cells += [Cell() for _ in range(span - 1)]
        items.append(Row(cells, f"tableau {number}, ligne {index}", number, header))


def _children(node: Any, name: str) -> list[Any]:
    """Direct ``w:name`` children, looking through content controls and custom XML."""
    out = []
    for child in node:
        if child.tag == f"{W}{name}":
            out.append(child)
        elif child.tag in (f"{W}sdt", f"{W}sdtContent", f"{W}customXml"):
            out += _children(child, name)
    return out


def _cell_blocks(tc: Any) -> list[Block]:
    blocks: list[Block] = []
    for p in tc.iter(f"{W}p"):
        if any(a.tag in _SKIP for a in p.iterancestors()):
            continue
        text, bold = _text(p)
        if not text:
            continue
        numbered, level = _list_info(p)
        blocks += split_markers(text, kind="li" if numbered else "p", level=level, bold=bold,
                                in_list=numbered, marker="#" if numbered else None)
    return blocks


def _label(tc: Any) -> str:
    """A header cell's title: its first paragraph without the italic description."""
    for p in tc.iter(f"{W}p"):
        text, _ = _text(p)
        if text:
            plain, _ = _text(p, skip_italic=True)
            return plain or text
    return ""


def _list_info(p: Any) -> tuple[bool, int]:
    props = p.find(f"{W}pPr")
    if props is None:
        return False, 0
    num = props.find(f"{W}numPr")
    if num is not None:
        num_id = num.find(f"{W}numId")
        level = num.find(f"{W}ilvl")
        if num_id is None or num_id.get(f"{W}val") != "0":
            return True, _int(level.get(f"{W}val") if level is not None else None, 0)
    return bool(_LIST_STYLE.search(_style(p))), 0


def _style(p: Any) -> str:
    props = p.find(f"{W}pPr")
    style = props.find(f"{W}pStyle") if props is not None else None
    return str(style.get(f"{W}val", "")) if style is not None else ""


def _text(p: Any, skip_italic: bool = False) -> tuple[str, bool]:
    """The visible text of a paragraph (insertions in, deletions out) and whether it is bold.

    ``skip_italic`` leaves out italic runs (the description under a column title).
    """
    parts: list[tuple[str, bool]] = []

    def visit(node: Any) -> None:
        for child in node:
            tag = child.tag
            if not isinstance(tag, str) or tag in _SKIP or tag == f"{W}p":
                continue  # deleted text, properties, a nested paragraph (read on its own)
            if tag != f"{W}r":
                visit(child)  # insertions, hyperlinks, fields, content controls
                continue
            props = child.find(f"{W}rPr")
            bold = props is not None and _on(props.find(f"{W}b"))
            italic = props is not None and _on(props.find(f"{W}i"))
            align = props.find(f"{W}vertAlign") if props is not None else None
            superscript = align is not None and align.get(f"{W}val") == "superscript"
            out: list[str] = []
            collect(child, out)
            text = "".join(out)
            # A superscript number is a footnote call typed by hand: not part of the text.
            if (superscript and text.strip().isdigit()) or (skip_italic and italic):
                continue
            parts.append((text, bold))

    def collect(run: Any, out: list[str]) -> None:
        for child in run:
            tag = child.tag
            if not isinstance(tag, str) or tag in _SKIP:
                continue
            if tag == f"{W}t":
                out.append(child.text or "")
            elif tag in (f"{W}tab", f"{W}br", f"{W}cr"):
                out.append(" ")
            elif tag == f"{W}noBreakHyphen":
                out.append("-")
            elif tag != f"{W}softHyphen":
                collect(child, out)

    visit(p)
    text = fold_spaces("".join(t for t, _ in parts))
    solid = [b for t, b in parts if t.strip()]
    return text, bool(solid) and all(solid)


def _on(element: Any) -> bool:
    return element is not None and str(element.get(f"{W}val", "true")).lower() not in _OFF


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default
