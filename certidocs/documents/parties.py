"""A long document converted to PDF in parts: LibreOffice never holds all of it at once.

LibreOffice keeps a whole document and its layout in memory while it converts it: the
procès-verbal of 10,000 candidates (32 MiB of body, 1,002 pages) took its process to 553 MiB,
where the whole PDF step of 1,000 candidates peaks at 315 MiB (make bench, 30/11/2026). A
document converted alone (the session's own: procès-verbal, attendance sheet…) whose body is
larger than PARTIE_XML_BYTES is therefore cut, between two top-level paragraphs, into parts of
about that size, each a package of its own with the same styles, headers and footers; each part
is converted, and the parts' PDFs are put one after the other.

So that the PDF stays the document's own (same pages, same text as the .docx converted alone),
the document itself gets a page break where it is cut (``pageBreakBefore`` on the paragraph
that starts each part): a part then lays out exactly as the same pages of the whole. Page
numbers go on from one part to the next (``pgNumType`` ``start``) and page totals (NUMPAGES,
SECTIONPAGES in headers and footers) are written as the total itself: the parts are converted
a first time to count their pages, then again numbered (``number``), unless no header or
footer shows a page number. A document of several sections is not cut (a section's own
numbering or orientation could start inside a part), nor one whose body refers to pages
(WHOLE_ONLY: a table of contents, « voir page 12 », a page total in the text).
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from certidocs.documents.merge import (
    RT_DOCUMENT,
    RT_FOOTER,
    RT_HEADER,
    W,
    _read_rels,
    _resolve,
    _restart_page_numbers,
    _serialize,
    _xml,
)

if TYPE_CHECKING:
    from lxml import etree

PARTIE_XML_BYTES = 4 << 20
"""Body bytes (``word/document.xml``, uncompressed) of a document above which it is converted
in parts of about this size. The procès-verbal takes about 3.2 KiB per candidate: 4 MiB is
about 1,250 candidates, so the PV of a 1,000-candidate session is converted whole as before
and that of 10,000 in 8 parts, each about what LibreOffice holds for the 1,000-candidate PV."""

PAGE_FIELDS = ("PAGE", "NUMPAGES", "SECTIONPAGES")
"""Fields whose value depends on where a page is in the whole document."""

_TOTAL_FIELDS = ("NUMPAGES", "SECTIONPAGES")

WHOLE_ONLY = (b"PAGEREF", b"NUMPAGES", b"SECTIONPAGES")
"""Fields that, in a document's body, would read wrong in a part (a page reference to another
part, the part's own total): a body holding one is converted whole."""

_MARKER = "certidocs-partie"

# Elements of a paragraph's properties that come before pageBreakBefore (schema order of w:pPr).
_BEFORE_PAGE_BREAK = ("pStyle", "keepNext", "keepLines")


@dataclass
class Decoupe:
    """A document cut for PDF conversion: ``parts`` (.docx, in order, written by ``number``),
    ``numbered`` (whether a header or footer shows a page number: the parts are then numbered
    once their pages are known). ``close`` removes the work files."""

    source: Path
    folder: Path
    numbered: bool
    parts: list[Path] = field(default_factory=list)
    _bodies: list[Path] = field(default_factory=list)
    _prolog: bytes = b""
    _section: bytes = b""
    _epilog: bytes = b""
    _main: str = "word/document.xml"
    _fields_in: tuple[str, ...] = ()

    def number(self, pages: list[int] | None) -> list[Path]:
        """Write the parts: unnumbered (``pages`` None: each part starts at page 1 and shows
        its own totals, enough to count its pages), else numbered from the pages each part
        took (a list of ``len(parts)`` counts). Returns the parts' paths."""
        starts, total = [1] * len(self._bodies), None
        if pages is not None:
            total = sum(pages)
            starts = [1 + sum(pages[:k]) for k in range(len(pages))]
        self.parts = []
        with zipfile.ZipFile(self.source) as zf:
            for k, body in enumerate(self._bodies):
                target = self.folder / f"{self.source.stem}-partie-{k + 1:02d}.docx"
                self._write_part(zf, body, target, k, starts[k], total)
                self.parts.append(target)
        return self.parts

    def _write_part(self, zf: zipfile.ZipFile, body: Path, target: Path, index: int,
                    start: int, total: int | None) -> None:
        from lxml import etree

        section = _xml(self._section) if self._section else None
        if section is not None:
            _restart_page_numbers(section, start)
            if index:  # the first page's own header belongs to the document's first page
                for title in section.findall(f"{W}titlePg"):
                    section.remove(title)
        def totals(member: str) -> bytes | None:
            if total is None or member not in self._fields_in:
                return None
            return _serialize(_with_total(_xml(zf.read(member)), total))

        _write_package(zf, target, self._main,
                       [self._prolog, body,
                        etree.tostring(section) if section is not None else b"", self._epilog],
                       totals)

    def close(self) -> None:
        """Remove the parts and the work files."""
        shutil.rmtree(self.folder, ignore_errors=True)


def cut(doc: Path, folder: Path, size: int | None = None) -> Decoupe | None:
    """Cut ``doc`` (.docx) for PDF conversion into parts of about ``size`` body bytes
    (PARTIE_XML_BYTES when None), and give
    ``doc`` itself a page break where each part starts (rewritten atomically: its other parts
    are kept as they are). None, with ``doc`` untouched, when it is small enough, holds
    several sections or has nowhere to cut. The work files go to a new folder in ``folder``.

    Cuts are made before a top-level paragraph, once the part holds ``size`` bytes, unless the
    element before it is a paragraph kept with the next one (a heading stays with its table).
    Not cut: a document of several sections, one without section properties, or one whose
    body holds a field of WHOLE_ONLY.
    Raises OSError when the files cannot be written, zipfile.BadZipFile or lxml's XMLSyntaxError
    for a document that is not a readable .docx (a document certidocs rendered always is).
    """
    size = PARTIE_XML_BYTES if size is None else size
    with zipfile.ZipFile(doc) as zf:
        main = next((_resolve("", rel.target) for rel in _read_rels(zf, "").values()
                     if rel.type == RT_DOCUMENT), "word/document.xml")
        if zf.getinfo(main).file_size <= size:
            return None
        fields_in = tuple(_resolve(main, rel.target)
                          for rel in _read_rels(zf, main).values()
                          if rel.type in (RT_HEADER, RT_FOOTER) and not rel.external)
        numbered = any(_page_fields(_xml(zf.read(member))) for member in fields_in
                       if member in zf.namelist())
        folder.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f"{doc.stem[:40]}-", dir=folder))
        decoupe = Decoupe(doc, work, numbered, _main=main, _fields_in=fields_in)
        whole = work / "entier.xml"
        try:
            with zf.open(main) as source, whole.open("wb") as out:
                if not _split(source, out, decoupe, size):
                    decoupe.close()
                    return None
            _replace_member(doc, zf, main, decoupe, whole)
        except BaseException:
            decoupe.close()
            raise
    whole.unlink()
    return decoupe


def _split(source: IO[bytes], whole: IO[bytes], decoupe: Decoupe, size: int) -> bool:
    """Read the main part from ``source`` element by element: write the document with its
    page breaks to ``whole`` (body only) and each part's body to a file of its own. False
    when the document is not to be cut."""
    from lxml import etree

    depth = 0
    part: IO[bytes] | None = None
    written = 0
    kept_with_next = False
    try:
        for event, element in etree.iterparse(source, events=("start", "end"),
                                              huge_tree=True, resolve_entities=False,
                                              no_network=True):
            if event == "start":
                depth += 1
                if depth == 1:
                    _shells(element, decoupe)
                continue
            depth -= 1
            if depth != 2:
                continue
            if element.tag == f"{W}sectPr":
                decoupe._section = etree.tostring(element)
                break
            if element.tag == f"{W}p" and element.find(f"{W}pPr/{W}sectPr") is not None:
                return False  # several sections
            cutting = (part is None or written >= size) and element.tag == f"{W}p" \
                and not kept_with_next
            if cutting and part is not None:
                _break_before(element)
            if cutting or part is None:
                if part is not None:
                    part.close()
                body = decoupe.folder / f"corps-{len(decoupe._bodies):03d}.xml"
                decoupe._bodies.append(body)
                part, written = body.open("wb"), 0
            data = etree.tostring(element)
            if any(name in data for name in WHOLE_ONLY):
                return False
            part.write(data)
            whole.write(data)
            written += len(data)
            kept_with_next = element.tag == f"{W}p" and _on(element.find(f"{W}pPr/{W}keepNext"))
            element.clear()
            parent = element.getparent()
            if parent is not None:
                while element.getprevious() is not None:
                    del parent[0]
    finally:
        if part is not None:
            part.close()
    # Without its section properties a part could not be told where its page numbers start.
    return len(decoupe._bodies) > 1 and bool(decoupe._section)


def _shells(root: etree._Element, decoupe: Decoupe) -> None:
    """The document element's start tag and its end (with the body's), from its namespaces."""
    from lxml import etree

    shell = etree.Element(root.tag, attrib=dict(root.attrib), nsmap=root.nsmap)
    etree.SubElement(shell, f"{W}body").append(etree.Comment(_MARKER))
    text = _serialize(shell)
    marker = f"<!--{_MARKER}-->".encode()
    decoupe._prolog, decoupe._epilog = text.split(marker)


def _replace_member(doc: Path, zf: zipfile.ZipFile, main: str, decoupe: Decoupe,
                    whole: Path) -> None:
    """Write ``doc`` anew with its main part from ``whole`` (the body with its page breaks),
    through a temporary file: a failure leaves ``doc`` as it was."""
    tmp = doc.with_name(f".{doc.name}.coupe")
    try:
        _write_package(zf, tmp, main,
                       [decoupe._prolog, whole, decoupe._section, decoupe._epilog])
        shutil.copymode(doc, tmp)
        os.replace(tmp, doc)
    finally:
        tmp.unlink(missing_ok=True)


def _write_package(zf: zipfile.ZipFile, target: Path, main: str, pieces: list[bytes | Path],
                   replaced: Callable[[str], bytes | None] = lambda member: None) -> None:
    """Write at ``target`` the package of ``zf`` with its main part ``main`` made of
    ``pieces`` one after the other (bytes, or a file copied a MiB at a time) and each member
    for which ``replaced`` gives bytes replaced by them; the other members copied as they
    are."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in zf.infolist():
            # A new entry: writing records offsets in the one it is given, and ``zf``'s own
            # would then be read wrong by the next package written from it.
            entry = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            if info.filename == main:
                with out.open(entry, "w", force_zip64=True) as stream:
                    for piece in pieces:
                        if isinstance(piece, Path):
                            with piece.open("rb") as source:
                                shutil.copyfileobj(source, stream, 1 << 20)
                        else:
                            stream.write(piece)
            elif (data := replaced(info.filename)) is not None:
                out.writestr(entry, data)
            else:
                with zf.open(info) as src, out.open(entry, "w") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)


def _on(flag: etree._Element | None) -> bool:
    """Whether an on/off property (``<w:keepNext/>``, ``w:val="false"``…) is on."""
    if flag is None:
        return False
    return flag.get(f"{W}val", "true").lower() not in ("0", "false", "off")


def _break_before(paragraph: etree._Element) -> None:
    """Make ``paragraph`` start a page (``pageBreakBefore``, in the schema's place)."""
    from lxml import etree

    ppr = paragraph.find(f"{W}pPr")
    if ppr is None:
        ppr = etree.Element(f"{W}pPr")
        paragraph.insert(0, ppr)
    for old in ppr.findall(f"{W}pageBreakBefore"):
        ppr.remove(old)
    at = 0
    for i, child in enumerate(ppr):
        if etree.QName(child).localname in _BEFORE_PAGE_BREAK:
            at = i + 1
    ppr.insert(at, etree.Element(f"{W}pageBreakBefore"))


def _field_names(root: etree._Element) -> Iterator[tuple[str, etree._Element]]:
    """Each field of a header or footer: (its name, the element holding its instruction)."""
    for instr in root.iter(f"{W}instrText"):
        yield (instr.text or "").split()[:1][0] if (instr.text or "").split() else "", instr
    for simple in root.iter(f"{W}fldSimple"):
        words = (simple.get(f"{W}instr") or "").split()
        yield (words[0] if words else ""), simple


def _page_fields(root: etree._Element) -> bool:
    """Whether a header or footer shows a page number or a page total."""
    return any(name.upper() in PAGE_FIELDS for name, _ in _field_names(root))


def _with_total(root: etree._Element, total: int) -> etree._Element:
    """``root`` (a header or footer) with each page total field replaced by ``total`` as text,
    in the field's own run properties."""
    for name, holder in list(_field_names(root)):
        if name.upper() not in _TOTAL_FIELDS:
            continue
        if holder.tag == f"{W}fldSimple":
            first = holder.find(f"{W}r")
            run = _text_run(first.find(f"{W}rPr") if first is not None else None, total)
            parent = holder.getparent()
            if parent is not None:
                parent.replace(holder, run)
            continue
        instr_run = holder.getparent()
        if instr_run is None or instr_run.getparent() is None:
            continue
        paragraph = instr_run.getparent()
        runs = list(paragraph)
        at = runs.index(instr_run)
        begin = next((j for j in range(at, -1, -1) if _fld(runs[j]) == "begin"), None)
        end = next((j for j in range(at, len(runs)) if _fld(runs[j]) == "end"), None)
        if begin is None or end is None:
            continue
        properties = instr_run.find(f"{W}rPr")
        run = _text_run(copy.deepcopy(properties) if properties is not None else None, total)
        paragraph.insert(begin, run)
        for old in runs[begin:end + 1]:
            paragraph.remove(old)
    return root


def _fld(run: etree._Element) -> str:
    char = run.find(f"{W}fldChar")
    return char.get(f"{W}fldCharType", "") if char is not None else ""


def _text_run(properties: etree._Element | None, total: int) -> etree._Element:
    from lxml import etree

    run = etree.Element(f"{W}r")
    if properties is not None:
        run.append(properties)
    etree.SubElement(run, f"{W}t").text = str(total)
    return run
