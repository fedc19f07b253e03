"""The body of a long document (the procès-verbal of a large session) rendered in pieces.

docxtpl renders a document's body to one string, parses it with lxml (``fix_tables``,
``fix_docpr_ids``) and python-docx serializes the tree again: for the procès-verbal of a
10,000-candidate session that is some 60 million characters held three times over, and
minutes of work. Here the body goes from Jinja's ``generate()`` to the zip member without
ever being whole:

- ``pieces`` cuts the Jinja output right after a ``</w:p>``; each piece gets the same
  post-processing docxtpl and certidocs apply to a whole part (``{_{`` → ``{{``, the
  paragraph newlines removed, ``typographie_xml``, docxtpl's ``resolve_listing``, the
  ``wp:docPr`` ids renumbered). Every one of these is a regular expression whose matches
  cannot straddle the end of a ``</w:p>`` (a match would have to contain that closing tag:
  the text patterns exclude ``<``, the paragraph pattern ends at the first ``</w:p>``), so
  pieces give exactly what the whole gives;
- ``BodyCheck`` reads what is written with lxml's pull parser (dropping what it has read)
  and proves that docxtpl's lxml steps would have changed nothing: the XML is well-formed (lxml's
  ``recover`` would have repaired it otherwise), every table's grid matches its rows
  (``fix_tables`` only rewrites a grid whose rows have more or fewer cells, which a
  ``{%tc %}`` loop or a condition across cells can cause), every ``wp:docPr`` has the id
  ``fix_docpr_ids`` would give. When it cannot prove it, the caller renders the document
  again the usual way (``NeedsTree``): the output is always what docxtpl would produce;
- ``BodySink`` compresses the document part as it comes into a temporary file, with its
  CRC and sizes, for ``certidocs.documents.package.write_package`` to copy into the .docx.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from certidocs.documents.package import StreamedMember

PIECE_CHARS = 1 << 18
"""Characters of rendered XML gathered before a piece is cut (at the last ``</w:p>``) and
written: 256 K characters (about 40 rows of the procès-verbal) keep the post-processing's
regular expressions and the compressor working on large strings, and memory at a few
megabytes whatever the document's length."""

MAX_STREAMED_CHARS = 500_000_000
"""Characters of Word XML a streamed body may render to. The procès-verbal takes about 6,000
per candidate (the bench's 5 blocs): 60 million for 10,000 candidates, 300 million for
50,000. Streamed, size costs disk (compressed, about a twentieth) rather than memory, so the
bound is higher than ``render.MAX_DOCUMENT_CHARS``; it still stops a template that repeats
the list inside the list (10,000 × 60 million) within seconds, before the disk fills."""

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
WP_NS = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
STUB_BODY = f'<w:body xmlns:w="{W_NS}"/>'
"""What docxtpl's tree steps get instead of the streamed body: nothing to fix."""

_W_BODY, _W_TBL, _W_TBLGRID, _W_GRIDCOL, _W_TR, _W_TC, _W_TCPR, _W_GRIDSPAN, _W_VAL = (
    f"{{{W_NS}}}{name}" for name in ("body", "tbl", "tblGrid", "gridCol", "tr", "tc", "tcPr",
                                     "gridSpan", "val"))
_WP_DOCPR = f"{{{WP_NS}}}docPr"
_P_END = "</w:p>"
_DOCPR_ID = re.compile(r'(<wp:docPr\s(?:[^>]*?\s)?id=")[^"]*(")')
_BODY_START = re.compile(rb"<w:body[ >/]")


class NeedsTree(Exception):
    """The streamed body is not what docxtpl's tree steps would leave as it is (see
    ``BodyCheck``): the document must be rendered the usual way."""


def pieces(chunks: Iterable[str], too_long: Callable[[], Exception]) -> Iterator[str]:
    """``chunks`` (Jinja's output) gathered into pieces of about PIECE_CHARS characters, each
    ending right after a ``</w:p>`` (the last one: wherever the output ends).

    A piece with no ``</w:p>`` grows until ``too_long()`` is raised once it passes
    ``render.MAX_DOCUMENT_CHARS``, the bound of a whole part rendered in memory: a paragraph
    longer than a whole document could be is not a document.
    """
    from certidocs.documents.render import MAX_DOCUMENT_CHARS

    held: list[str] = []
    size = 0
    wanted = PIECE_CHARS  # size at which to look for a cut again
    for chunk in chunks:
        held.append(chunk)
        size += len(chunk)
        if size < wanted:
            continue
        text = "".join(held)
        cut = text.rfind(_P_END)
        if cut < 0:
            if size > MAX_DOCUMENT_CHARS:
                raise too_long()
            held = [text]
            # a long paragraph is joined again only when it has doubled (linear, not quadratic)
            wanted = min(2 * size, MAX_DOCUMENT_CHARS + 1)
            continue
        cut += len(_P_END)
        yield text[:cut]
        held = [text[cut:]]
        size = len(held[0])
        wanted = PIECE_CHARS
    yield "".join(held)


class DocPrIds:
    """``wp:docPr`` ids renumbered from ``first`` in document order, as docxtpl's
    ``fix_docpr_ids`` does (python-docx numbers pictures per part: two would collide)."""

    def __init__(self, first: int) -> None:
        self.last = first - 1

    def __call__(self, xml: str) -> str:
        """``xml`` with each ``wp:docPr`` given the next id."""
        if "docPr" not in xml:
            return xml

        def renumber(match: re.Match[str]) -> str:
            self.last += 1
            return f"{match.group(1)}{self.last}{match.group(2)}"

        return _DOCPR_ID.sub(renumber, xml)


class BodyCheck:
    """Whether a rendered body, fed in pieces, is what docxtpl's lxml steps keep unchanged.

    ``close()`` says: well-formed, one ``w:body`` root, no DTD, tables whose ``w:tblGrid`` has
    as many ``w:gridCol`` as their widest row has cells (counted as ``fix_tables`` counts
    them: cells per row, and grid spans per row, over every row inside the table),
    ``wp:docPr`` ids numbered from ``first_docpr`` in order.

    lxml's pull parser reports only the elements that matter (tables, grids, rows, pictures),
    and what it has read is dropped as it goes (each row once counted, each finished child of
    the body), so that the tree never holds more than a piece's worth.
    """

    def __init__(self, first_docpr: int) -> None:
        from lxml import etree

        self.ok = True
        self.next_docpr = first_docpr
        self._tables: list[list[int]] = []  # [grid columns (-1: none yet), cells, spans]
        self._body: Any = None
        self._parser = etree.XMLPullParser(
            events=("start", "end"), tag=[_W_BODY, _W_TBL, _W_TBLGRID, _W_TR, _WP_DOCPR],
            resolve_entities=False, no_network=True, load_dtd=False)
        self._error = etree.LxmlError

    def feed(self, data: bytes) -> None:
        """Read the next piece (UTF-8)."""
        if not self.ok:
            return
        try:
            self._parser.feed(data)
            self._read()
        except self._error:
            self.ok = False

    def close(self) -> bool:
        """End of the body; whether it is proven unchanged by the tree steps."""
        if self.ok:
            try:
                root = self._parser.close()
                self._read()
                if root.getroottree().docinfo.doctype or root.tag != _W_BODY:
                    self.ok = False
            except self._error:
                self.ok = False
        return self.ok and not self._tables

    def _read(self) -> None:
        for event, element in self._parser.read_events():
            tag = element.tag
            if event == "start":
                if tag == _W_TBL:
                    self._tables.append([-1, 0, 0])
                elif tag == _W_BODY and self._body is None:
                    self._body = element
                continue
            if tag == _W_TR:
                self._row(element)
            elif tag == _W_TBLGRID:
                table = self._tables[-1] if self._tables else None
                if (table is not None and table[0] < 0
                        and element.getparent() is not None
                        and element.getparent().tag == _W_TBL):
                    table[0] = len(element.findall(_W_GRIDCOL))
            elif tag == _W_TBL:
                columns, cells, spans = self._tables.pop()
                if columns < 0 or cells > columns or spans < columns:
                    self.ok = False
            elif tag == _WP_DOCPR:
                if element.get("id") != str(self.next_docpr):
                    self.ok = False
                self.next_docpr += 1
        body = self._body
        if body is not None and len(body) > 1:
            del body[:-1]  # finished children (the last one may still be open)

    def _row(self, row: Any) -> None:
        cells = row.findall(_W_TC)
        spans = 0
        for cell in cells:
            properties = cell.find(_W_TCPR)
            span = None if properties is None else properties.find(_W_GRIDSPAN)
            if span is None:
                spans += 1
                continue
            try:
                spans += int(span.get(_W_VAL))
            except (TypeError, ValueError):
                self.ok = False  # docxtpl would stop on it: let it say so
        for table in self._tables:  # fix_tables counts every row inside a table
            table[1] = max(table[1], len(cells))
            table[2] = max(table[2], spans)
        row.clear()
        parent = row.getparent()
        if parent is not None:
            parent.remove(row)


def head_and_tail(document_xml: bytes) -> tuple[bytes, bytes]:
    """A serialized document part cut around its ``w:body``: what comes before it (the XML
    declaration, the ``w:document`` tag…) and after it. ValueError if it has no body."""
    match = _BODY_START.search(document_xml)
    if match is None:
        raise ValueError("no w:body in the document part")
    start = match.start()
    opening = document_xml.index(b">", start) + 1
    if document_xml[opening - 2:opening] == b"/>":
        return document_xml[:start], document_xml[opening:]
    end = document_xml.rindex(b"</w:body>") + len(b"</w:body>")
    return document_xml[:start], document_xml[end:]


class BodySink:
    """The document part, compressed as it is written into ``path``; ``member`` when
    closed. The file is the caller's to remove."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("wb")
        self._compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        self._crc = 0
        self._size = 0
        self._written = 0
        self.member: StreamedMember | None = None

    def __enter__(self) -> BodySink:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if kind is None:
            self._put(self._compressor.flush())
            self.member = StreamedMember(self.path, self._crc, self._written, self._size)
        self._file.close()

    def write(self, data: bytes) -> None:
        """Append ``data`` (UTF-8) to the part."""
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)
        self._put(self._compressor.compress(data))

    def _put(self, compressed: bytes) -> None:
        if compressed:
            self._file.write(compressed)
            self._written += len(compressed)
