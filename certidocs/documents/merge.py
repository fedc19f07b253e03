"""The ready-to-print file of one document type: every document of a batch, one after the other.

All the documents of a type come from the same template, so their styles, numbering and theme
are the template's: the merged file is the first document's package, with the body of every
document appended. Each document becomes its own section (a section break that restarts page
numbering ends it), so that « Page 1 » starts again on every letter. Headers and footers may
print the person's name: each section refers to its own document's header and footer parts,
stored once per distinct content (a footer the same in every letter is stored once).

The merge works on the XML of the packages, streaming: a document is read, its body adapted
(relationship ids renamed, its own images carried over under unique names, drawing and
bookmark ids renumbered, numbered lists restarted) and written to a temporary file before the
next one is read; only one document's tree is in memory at a time. The merged package is then
written once, its ``document.xml`` copied from that temporary file.

Images are carried over by content: a logo repeated in every document is stored once, each
certificate's QR code once for its certificate.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import os
import posixpath
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from certidocs.documents.render import MARKER  # the lastModifiedBy of generated files

if TYPE_CHECKING:
    from lxml import etree


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
CORE = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
PIC = "{http://schemas.openxmlformats.org/drawingml/2006/picture}"
RT_DOCUMENT = f"{R_NS}/officeDocument"
RT_HEADER = f"{R_NS}/header"
RT_FOOTER = f"{R_NS}/footer"
RT_NUMBERING = f"{R_NS}/numbering"
RT_STYLES = f"{R_NS}/styles"
CT_NAME = "[Content_Types].xml"
NEW_RID = "rIdF"  # ids of the relationships the merge adds: rIdF1, rIdF2…

_RELS_XMLNS = f' xmlns="{PKG_RELS}"'.encode()
_SPOOL_MARK = "certidocs-relations-ajoutees"

MERGE_RECENT = 256
"""Images, links and headers of later documents a merge remembers, to point to the copy it
already holds when they come again (the least recently used are forgotten). What repeats from
document to document (a logo, a signature, the certifier's link) stays remembered; what each
document has of its own (its QR code, its verification link) would otherwise be remembered for
nothing, and a print file of 6,000 certificates held 17.9 MiB of such entries, relationships
and package names by its end (01/12/2026). A forgotten part that comes again is copied again:
a larger file, never a wrong one."""


class _Recent(dict[Any, str]):
    """A mapping that keeps its MERGE_RECENT most recently used entries."""

    def get_recent(self, key: Any) -> str | None:
        """The value of ``key`` (now the most recently used), None when forgotten."""
        value = self.pop(key, None)
        if value is not None:
            self[key] = value
        return value

    def put(self, key: Any, value: str) -> None:
        """Remember ``key``, forgetting the least recently used entry beyond MERGE_RECENT."""
        self.pop(key, None)
        self[key] = value
        if len(self) > MERGE_RECENT:
            del self[next(iter(self))]

# Elements of a section's properties that come after pgNumType (schema order of w:sectPr).
_AFTER_PGNUMTYPE = ("cols", "formProt", "vAlign", "noEndnote", "titlePg", "textDirection",
                    "bidi", "rtlGutter", "docGrid", "printerSettings", "sectPrChange")
# Elements of a paragraph's properties that come before numPr (schema order of w:pPr).
_BEFORE_NUMPR = ("pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr",
                 "widowControl")


def _xml(data: bytes) -> etree._Element:
    from lxml import etree

    # Rendered documents are ours, but a merged file must not let a crafted one pull in
    # external entities.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    return etree.fromstring(data, parser)


def _serialize(root: etree._Element) -> bytes:
    from lxml import etree

    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


def _rels_name(part: str) -> str:
    """The relationships part of ``part``: word/document.xml → word/_rels/document.xml.rels."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def _resolve(source_part: str, target: str) -> str:
    """The part a relationship of ``source_part`` points to, as a zip member name."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


@dataclass(frozen=True)
class _Rel:
    type: str
    target: str
    external: bool


def _read_rels(zf: zipfile.ZipFile, part: str) -> dict[str, _Rel]:
    try:
        data = zf.read(_rels_name(part))
    except KeyError:
        return {}
    out = {}
    for rel in _xml(data):
        out[rel.get("Id", "")] = _Rel(rel.get("Type", ""), rel.get("Target", ""),
                                      rel.get("TargetMode") == "External")
    return out


@dataclass
class _ContentTypes:
    defaults: dict[str, str] = field(default_factory=dict)  # extension (lower case) → type
    overrides: dict[str, str] = field(default_factory=dict)  # member name → type

    @classmethod
    def read(cls, zf: zipfile.ZipFile) -> _ContentTypes:
        found = cls()
        for item in _xml(zf.read(CT_NAME)):
            if item.tag == f"{{{CONTENT_TYPES}}}Default":
                found.defaults[item.get("Extension", "").lower()] = item.get("ContentType", "")
            elif item.tag == f"{{{CONTENT_TYPES}}}Override":
                found.overrides[item.get("PartName", "").lstrip("/")] = item.get(
                    "ContentType", "")
        return found

    def of(self, member: str) -> str:
        """The content type of a member; "" when the package does not declare it."""
        if member in self.overrides:
            return self.overrides[member]
        return self.defaults.get(posixpath.splitext(member)[1].lstrip(".").lower(), "")


def _restart_page_numbers(sectpr: etree._Element, start: int = 1) -> None:
    """Make a section's page numbers start at ``start``."""
    from lxml import etree

    num = sectpr.find(f"{W}pgNumType")
    if num is None:
        num = etree.Element(f"{W}pgNumType")
        anchor = next((el for tag in _AFTER_PGNUMTYPE
                       if (el := sectpr.find(f"{W}{tag}")) is not None), None)
        if anchor is not None:
            anchor.addprevious(num)
        else:
            sectpr.append(num)
    num.set(f"{W}start", str(start))


def drop_page_totals(root: etree._Element) -> bool:
    """Remove « sur NUMPAGES » from a header or footer; whether anything was removed.

    In a merged file NUMPAGES would count the pages of every document together, while the page
    numbers restart with each one.
    """
    changed = False
    for p in root.iter(f"{W}p"):
        runs = list(p.iter(f"{W}r"))
        for i, run in enumerate(runs):
            instr = run.find(f"{W}instrText")
            if instr is None or (instr.text or "").split()[:1] != ["NUMPAGES"]:
                continue
            start = i - 1  # the begin fldChar is in the run before the instruction
            end = next((j for j in range(i, len(runs))
                        if (c := runs[j].find(f"{W}fldChar")) is not None
                        and c.get(f"{W}fldCharType") == "end"), None)
            if end is None or start < 0:
                break
            before = runs[start - 1] if start > 0 else None
            text = ("".join(t.text or "" for t in before.iter(f"{W}t"))
                    if before is not None else "")
            if before is not None and text.strip() in ("sur", "/", "de", "of"):
                start -= 1
            for run_el in runs[start:end + 1]:
                parent = run_el.getparent()
                if parent is not None:
                    parent.remove(run_el)
            changed = True
            break
    return changed


class _Numbering:
    """The template's numbered lists, so that each merged document restarts its own.

    Without this a numbered list would go on counting from one document to the next (all use
    the same list definitions). Bullets need nothing; headings keep their numbering.
    """

    def __init__(self, numbering: etree._Element, styles: etree._Element | None) -> None:
        self.root = numbering
        self.abstract_of: dict[str, str] = {}
        self.starts: dict[str, list[tuple[str, str]]] = {}  # abstractNumId → (ilvl, start)
        self.counted: set[str] = set()  # abstractNumIds whose first level is not a bullet
        for anum in numbering.iter(f"{W}abstractNum"):
            aid = anum.get(f"{W}abstractNumId", "")
            levels = []
            for lvl in anum.iter(f"{W}lvl"):
                start = lvl.find(f"{W}start")
                levels.append((lvl.get(f"{W}ilvl", "0"),
                               start.get(f"{W}val", "1") if start is not None else "1"))
                fmt = lvl.find(f"{W}numFmt")
                if lvl.get(f"{W}ilvl", "0") == "0" and (
                        fmt is None or fmt.get(f"{W}val") not in ("bullet", "none")):
                    self.counted.add(aid)
            self.starts[aid] = levels
        ids = [0]
        for num in numbering.iter(f"{W}num"):
            nid = num.get(f"{W}numId", "")
            ref = num.find(f"{W}abstractNumId")
            if ref is not None:
                self.abstract_of[nid] = ref.get(f"{W}val", "")
            with contextlib.suppress(ValueError):
                ids.append(int(nid))
        self.next_id = max(ids) + 1
        self.by_style: dict[str, tuple[str, str]] = {}  # styleId → (numId, ilvl)
        for style in [] if styles is None else styles.iter(f"{W}style"):
            ppr = style.find(f"{W}pPr")
            if ppr is None or ppr.find(f"{W}outlineLvl") is not None:
                continue  # headings keep one numbering through the whole file
            numid = ppr.find(f"{W}numPr/{W}numId")
            if numid is not None and self.counts(numid.get(f"{W}val", "")):
                ilvl = ppr.find(f"{W}numPr/{W}ilvl")
                self.by_style[style.get(f"{W}styleId", "")] = (
                    numid.get(f"{W}val", ""), "0" if ilvl is None else ilvl.get(f"{W}val", "0"))
        self.changed = False

    def counts(self, numid: str) -> bool:
        return self.abstract_of.get(numid) in self.counted

    def _restarted(self, numid: str) -> str:
        """A new list instance of ``numid`` whose levels start again."""
        from lxml import etree

        original = next(n for n in self.root.iter(f"{W}num") if n.get(f"{W}numId") == numid)
        fresh = copy.deepcopy(original)
        new_id = str(self.next_id)
        self.next_id += 1
        fresh.set(f"{W}numId", new_id)
        overridden = {o.get(f"{W}ilvl") for o in fresh.iter(f"{W}lvlOverride")
                      if o.find(f"{W}startOverride") is not None}
        for ilvl, start in self.starts.get(self.abstract_of[numid], []):
            if ilvl in overridden:
                continue
            override = etree.SubElement(fresh, f"{W}lvlOverride")
            override.set(f"{W}ilvl", ilvl)
            etree.SubElement(override, f"{W}startOverride").set(f"{W}val", start)
        nums = list(self.root.iter(f"{W}num"))
        nums[-1].addnext(fresh)
        self.changed = True
        return new_id

    def restart(self, body: etree._Element) -> None:
        """Point the numbered paragraphs of one document at list instances of its own."""
        from lxml import etree

        if not self.counted:
            return  # bullets only (the shipped templates): nothing counts across documents
        fresh: dict[str, str] = {}
        for numid_el in body.iter(f"{W}numId"):
            if numid_el.getparent() is None or numid_el.getparent().tag != f"{W}numPr":
                continue
            numid = numid_el.get(f"{W}val", "")
            if self.counts(numid):
                if numid not in fresh:
                    fresh[numid] = self._restarted(numid)
                numid_el.set(f"{W}val", fresh[numid])
        if not self.by_style:
            return
        for pstyle in body.iter(f"{W}pStyle"):
            ppr = pstyle.getparent()
            found = self.by_style.get(pstyle.get(f"{W}val", ""))
            if ppr is None or ppr.tag != f"{W}pPr" or found is None:
                continue
            numid, ilvl = found
            if ppr.find(f"{W}numPr") is not None:
                continue
            if numid not in fresh:
                fresh[numid] = self._restarted(numid)
            numpr = etree.Element(f"{W}numPr")
            etree.SubElement(numpr, f"{W}ilvl").set(f"{W}val", ilvl)
            etree.SubElement(numpr, f"{W}numId").set(f"{W}val", fresh[numid])
            position = 0
            for i, child in enumerate(ppr):
                if child.tag in {f"{W}{t}" for t in _BEFORE_NUMPR}:
                    position = i + 1
            ppr.insert(position, numpr)


PDF_MARK = "certidocsdocument"
"""Name of the bookmark starting each document of a file merged for PDF conversion (letters
only: LibreOffice escapes other characters in destination names), followed by its index."""


def section_page_totals(root: etree._Element) -> bool:
    """Turn NUMPAGES into SECTIONPAGES in a header or footer; whether anything changed.

    In a file merged for PDF conversion each document is one section: « Page 1 sur 2 » then
    counts the pages of its own document, as in the document converted alone.
    """
    changed = False
    for instr in root.iter(f"{W}instrText"):
        if (instr.text or "").split()[:1] == ["NUMPAGES"]:
            instr.text = (instr.text or "").replace("NUMPAGES", "SECTIONPAGES", 1)
            changed = True
    return changed


class MergedDocument:
    """A merged file being written: ``add`` each document in order, then ``close``.

    With ``pdf_marks`` the file is made for PDF conversion, not for people: each document
    starts with a bookmark ``PDF_MARK<index>`` (its first page can then be found in the PDF)
    and page totals count the document's own pages (SECTIONPAGES) instead of being dropped.

    Every document must come from the same template as the first one (styles, numbering,
    headers and footers are the first document's). Nothing is written at ``target`` before
    ``close``, which writes it atomically; ``discard`` (or leaving a ``with`` block on an
    exception) drops the work.
    """

    def __init__(self, target: Path, *, pdf_marks: bool = False) -> None:
        self.target = target
        self.count = 0
        self._page_totals = section_page_totals if pdf_marks else drop_page_totals
        self._marks = pdf_marks
        self._body: IO[bytes] | None = None
        # body, own namespaces, section properties ending it
        self._pending: tuple[etree._Element, bool, etree._Element | None] | None = None
        self._base: Path | None = None
        self._main = "word/document.xml"
        self._prolog = b""
        self._epilog = b""
        self._nsmap: dict[str | None, str] = {}
        self._section: etree._Element | None = None
        # The first document's relationships; those the merge adds are written as they come
        # to a temporary file (_new_rels), and put before the end of these at the end.
        self._rels: etree._Element | None = None
        self._new_rels: IO[bytes] | None = None
        self._rel_ids: set[str] = set()  # the first document's
        self._next_rel = 1
        self._names: set[str] = set()  # the first document's package
        self._taken: dict[str, int] = {}  # names given to later parts that a later one may want
        self._types = _ContentTypes()
        self._types_changed = False
        self._replaced: dict[str, bytes] = {}  # members of the first package written anew
        self._by_content = _Recent()  # (type, sha1) → rId in the merge
        self._external = _Recent()  # (type, target) → rId
        # Parts carried from later documents (images, headers, their rels), written as they
        # come to a temporary file and copied into the merge at the end: held in memory, one
        # QR code per certificate made the merge of a network's session grow with it. Records
        # of (name, data), not a zip: a zip being written keeps an entry per member.
        self._spool: IO[bytes] | None = None
        self._numbering: _Numbering | None = None
        self._numbering_member = ""
        self._doc_copies: dict[str, str] = {}  # member of the current document → new member
        self._drawing_id = 1
        self._bookmark_id = 0
        self._headers = _Recent()  # (type, digest) → rId in the merge

    def __enter__(self) -> MergedDocument:
        return self

    def __exit__(self, kind: Any, *_: Any) -> None:
        if kind is not None:
            self.discard()

    # --- reading documents ------------------------------------------------------------------

    def add(self, path: Path) -> None:
        """Append the document at ``path`` (a .docx rendered from the template)."""
        own_namespaces = False
        with zipfile.ZipFile(path) as zf:
            if self._base is None:
                self._start(path, zf)
            root = _xml(zf.read(self._main))  # one template: the first document said where
            body = root.find(f"{W}body")
            if body is None:
                raise ValueError(f"{path}: no document body")
            final = None
            if len(body) and body[-1].tag == f"{W}sectPr":
                final = body[-1]
                body.remove(final)
            section = self._section
            if self.count:
                self._adopt(zf, body)
                section = self._own_section(zf, final)
                # Its elements would otherwise be written with prefixes the merged file's
                # document element does not declare.
                own_namespaces = not set(root.nsmap.items()) <= set(self._nsmap.items())
            self._renumber(body)
            if self._marks:
                self._mark_start(body)
        if self._pending is not None:
            self._write(*self._pending, last=False)
        self._pending = (body, own_namespaces, section)
        self.count += 1

    def _mark_start(self, body: etree._Element) -> None:
        """Put the bookmark ``PDF_MARK<count>`` at the start of the body's first paragraph."""
        from lxml import etree

        paragraph = next(body.iter(f"{W}p"), None)
        if paragraph is None:
            paragraph = etree.Element(f"{W}p")
            body.insert(0, paragraph)
        at = 1 if len(paragraph) and paragraph[0].tag == f"{W}pPr" else 0
        ident = str(self._bookmark_id)
        self._bookmark_id += 1
        end = etree.Element(f"{W}bookmarkEnd")
        end.set(f"{W}id", ident)
        paragraph.insert(at, end)
        start = etree.Element(f"{W}bookmarkStart")
        start.set(f"{W}id", ident)
        start.set(f"{W}name", f"{PDF_MARK}{self.count}")
        paragraph.insert(at, start)

    def _start(self, path: Path, zf: zipfile.ZipFile) -> None:
        """Take the first document's package as the merged file's."""
        from lxml import etree

        self._base = path
        self._main = next((_resolve("", rel.target) for rel in _read_rels(zf, "").values()
                           if rel.type == RT_DOCUMENT), self._main)
        self._names = set(zf.namelist())
        self._types = _ContentTypes.read(zf)
        root = _xml(zf.read(self._main))
        body = root.find(f"{W}body")
        assert body is not None
        self._nsmap = dict(root.nsmap)
        sectpr = body.find(f"{W}sectPr")
        if sectpr is not None:
            self._section = copy.deepcopy(sectpr)
            _restart_page_numbers(self._section)
        # The document element's start tag, its namespaces and the body's start tag.
        shell = etree.Element(root.tag, attrib=dict(root.attrib), nsmap=root.nsmap)
        etree.SubElement(shell, body.tag, attrib=dict(body.attrib)).text = ""
        text = _serialize(shell)
        body_end = text.rindex(b"</", 0, text.rindex(b"</"))
        self._prolog, self._epilog = text[:body_end], text[body_end:]

        self._rels = _xml(zf.read(_rels_name(self._main))) if _rels_name(
            self._main) in self._names else etree.Element(
            f"{{{PKG_RELS}}}Relationships", nsmap={None: PKG_RELS})
        drawing_ids = [0]
        styles = numbering = None
        for rel in self._rels:
            rid, kind = rel.get("Id", ""), rel.get("Type", "")
            self._rel_ids.add(rid)
            if rel.get("TargetMode") == "External":
                self._external.setdefault((kind, rel.get("Target", "")), rid)
                continue
            member = _resolve(self._main, rel.get("Target", ""))
            if member not in self._names:
                continue
            if kind in (RT_HEADER, RT_FOOTER):
                self._headers.setdefault((kind, _part_digest(zf, member)), rid)
                part = _xml(zf.read(member))
                drawing_ids += [int(el.get("id", "0")) for el in part.iter(
                    f"{WP}docPr", f"{PIC}cNvPr") if el.get("id", "").isdigit()]
                if self._page_totals(part):
                    self._replaced[member] = _serialize(part)
            elif kind == RT_NUMBERING:
                numbering = (member, _xml(zf.read(member)))
            elif kind == RT_STYLES:
                styles = _xml(zf.read(member))
            elif _rels_name(member) not in self._names:
                # the first document's own images: later documents reuse them when identical
                digest = hashlib.sha1(zf.read(member)).hexdigest()
                self._by_content.setdefault((kind, digest), rid)
        self._drawing_id = max(drawing_ids) + 1
        if numbering is not None:
            self._numbering = _Numbering(numbering[1], styles)
            self._numbering_member = numbering[0]
        if "docProps/core.xml" in self._names:
            self._replaced["docProps/core.xml"] = self._marked_core(
                zf.read("docProps/core.xml"))
        self._body = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed by close/discard)
            prefix=f".{self.target.name}.", suffix=".xml", dir=self.target.parent,
            delete=False)

    @staticmethod
    def _marked_core(data: bytes) -> bytes:
        """The core properties, saying that certidocs wrote the merged file."""
        from lxml import etree

        core = _xml(data)
        for stray in core.findall(f"{{{CUSTOM}}}lastModifiedBy"):
            core.remove(stray)
        marker = core.find(f"{{{CORE}}}lastModifiedBy")
        if marker is None:
            marker = etree.SubElement(core, f"{{{CORE}}}lastModifiedBy")
        marker.text = MARKER
        return _serialize(core)

    def _add_type(self, member: str, content_type: str) -> None:
        if content_type and self._types.of(member) != content_type:
            self._types.overrides[member] = content_type
            self._types_changed = True

    def _new_rel(self, kind: str, target: str, external: bool = False) -> str:
        from lxml import etree

        while f"{NEW_RID}{self._next_rel}" in self._rel_ids:
            self._next_rel += 1
        rid = f"{NEW_RID}{self._next_rel}"
        self._next_rel += 1
        rel = _relationship(rid, kind, target, external)
        if self._new_rels is None:
            # Closed by discard(), which close() and __exit__ call.
            self._new_rels = tempfile.TemporaryFile(dir=self.target.parent)  # noqa: SIM115
        self._new_rels.write(etree.tostring(rel).replace(_RELS_XMLNS, b"", 1))
        return rid

    def _carry(self, name: str, data: bytes) -> None:
        """Keep ``data`` as the merge's member ``name`` until it is assembled (on disk)."""
        if self._spool is None:
            # Closed by discard(), which close() and __exit__ call.
            self._spool = tempfile.TemporaryFile(dir=self.target.parent)  # noqa: SIM115
        encoded = name.encode()
        self._spool.write(len(encoded).to_bytes(4, "big") + len(data).to_bytes(8, "big"))
        self._spool.write(encoded)
        self._spool.write(data)

    def _carried(self) -> Iterable[tuple[str, bytes]]:
        """The parts ``_carry`` kept, in order, read back one at a time."""
        if self._spool is None:
            return
        self._spool.seek(0)
        while head := self._spool.read(12):
            size = int.from_bytes(head[:4], "big")
            name = self._spool.read(size).decode()
            yield name, self._spool.read(int.from_bytes(head[4:], "big"))

    def _new_name(self, member: str) -> str:
        stem, ext = posixpath.splitext(member)
        if len(self._taken) > MERGE_RECENT:
            # A later document numbers its parts from its own index: only names given from
            # that index on can still be wanted.
            self._taken = {k: v for k, v in self._taken.items() if v >= self.count}
        n = self.count
        while f"{stem}-{n}{ext}" in self._names or f"{stem}-{n}{ext}" in self._taken:
            n += 1
        name = f"{stem}-{n}{ext}"
        self._taken[name] = n
        return name

    def _copy_part(self, zf: zipfile.ZipFile, types: _ContentTypes, member: str,
                   transform: Callable[[bytes], bytes] | None = None) -> str:
        """Carry a part of a later document (and the parts it points to) into the merge;
        ``transform`` rewrites the part's bytes on the way."""
        from lxml import etree

        if member in self._doc_copies:
            return self._doc_copies[member]
        name = self._new_name(member)
        self._doc_copies[member] = name
        self._add_type(name, types.of(member))
        data = zf.read(member)
        self._carry(name, data if transform is None else transform(data))
        own = _read_rels(zf, member)
        if own:
            rels = etree.Element(f"{{{PKG_RELS}}}Relationships", nsmap={None: PKG_RELS})
            for rid, rel in own.items():
                target = rel.target
                if not rel.external:
                    inner = _resolve(member, rel.target)
                    if inner in zf.namelist():
                        target = posixpath.relpath(self._copy_part(zf, types, inner),
                                                   posixpath.dirname(name))
                _relationship(rid, rel.type, target, rel.external, rels)
            self._carry(_rels_name(name), _serialize(rels))
        return name

    def _adopt(self, zf: zipfile.ZipFile, body: etree._Element) -> None:
        """Make a later document's body refer to the merged package."""
        # A later document's own sections keep their layout; headers and footers are the
        # first document's (they come from the same template): its references go first, so
        # that its header and footer parts are not carried over for nothing.
        for ref in list(body.iter(f"{W}headerReference", f"{W}footerReference")):
            parent = ref.getparent()
            if parent is not None:
                parent.remove(ref)
        rels = _read_rels(zf, self._main)
        self._doc_copies = {}
        types: _ContentTypes | None = None
        mapping: dict[str, str] = {}
        for value in body.xpath(".//@*[namespace-uri()=$ns]", ns=R_NS):
            element = value.getparent()
            rid = str(value)
            if rid not in mapping:
                rel = rels.get(rid)
                if rel is None:
                    continue
                if rel.external:
                    key = (rel.type, rel.target)
                    known = self._external.get_recent(key)
                    if known is None:
                        known = self._new_rel(rel.type, rel.target, True)
                        self._external.put(key, known)
                    mapping[rid] = known
                else:
                    member = _resolve(self._main, rel.target)
                    if member not in zf.namelist():
                        continue
                    if _rels_name(member) in zf.namelist():
                        digest = ""  # a part with parts of its own (a chart…): always copied
                    else:
                        digest = hashlib.sha1(zf.read(member)).hexdigest()
                    known = self._by_content.get_recent((rel.type, digest)) if digest else None
                    if known is not None:
                        mapping[rid] = known
                    else:
                        types = types or _ContentTypes.read(zf)
                        name = self._copy_part(zf, types, member)
                        target = posixpath.relpath(name, posixpath.dirname(self._main))
                        mapping[rid] = self._new_rel(rel.type, target)
                        if digest:
                            self._by_content.put((rel.type, digest), mapping[rid])
            element.set(value.attrname, mapping[rid])
        if self._numbering is not None:
            self._numbering.restart(body)

    def _own_section(self, zf: zipfile.ZipFile,
                     final: etree._Element | None) -> etree._Element | None:
        """The section ending a later document: the first one's layout, with this document's
        own headers and footers (those whose content differs from every one seen so far are
        carried over)."""
        if self._section is None or final is None:
            return self._section
        section = copy.deepcopy(self._section)
        rels = _read_rels(zf, self._main)
        types: _ContentTypes | None = None
        for ref in final.iterchildren(f"{W}headerReference", f"{W}footerReference"):
            rel = rels.get(ref.get(f"{{{R_NS}}}id", ""))
            member = _resolve(self._main, rel.target) if rel and not rel.external else ""
            if rel is None or member not in zf.namelist():
                continue
            key = (rel.type, _part_digest(zf, member))
            rid = self._headers.get_recent(key)
            if rid is None:
                types = types or _ContentTypes.read(zf)
                name = self._copy_part(zf, types, member, self._header_bytes)
                rid = self._new_rel(rel.type, posixpath.relpath(name,
                                                                posixpath.dirname(self._main)))
                self._headers.put(key, rid)
            kind = ref.get(f"{W}type", "default")
            mine = next((r for r in section.iterchildren(ref.tag)
                         if r.get(f"{W}type", "default") == kind), None)
            if mine is None:
                mine = copy.deepcopy(ref)
                section.insert(0, mine)  # references come first in a w:sectPr
            mine.set(f"{{{R_NS}}}id", rid)
        return section

    def _header_bytes(self, data: bytes) -> bytes:
        """A later document's header or footer as the merge stores it: no page totals, unique
        drawing and bookmark ids."""
        part = _xml(data)
        self._page_totals(part)
        self._renumber(part)
        return _serialize(part)

    def _renumber(self, body: etree._Element) -> None:
        """Unique drawing ids (Word reports a damaged file otherwise) and bookmark ids."""
        bookmarks: dict[str, str] = {}
        for el in body.iter(f"{WP}docPr", f"{PIC}cNvPr", f"{W}bookmarkStart",
                            f"{W}bookmarkEnd"):
            if el.tag in (f"{W}bookmarkStart", f"{W}bookmarkEnd"):
                old = el.get(f"{W}id", "")
                if old not in bookmarks:
                    bookmarks[old] = str(self._bookmark_id)
                    self._bookmark_id += 1
                el.set(f"{W}id", bookmarks[old])
            else:
                el.set("id", str(self._drawing_id))
                self._drawing_id += 1

    # --- writing ----------------------------------------------------------------------------

    def _write(self, body: etree._Element, own_namespaces: bool,
               section: etree._Element | None, *, last: bool) -> None:
        """Write one document's body to the temporary file, ended by its section break."""
        from lxml import etree

        if last:
            if section is not None:
                body.append(copy.deepcopy(section))
        elif section is not None:
            paragraph = body[-1] if len(body) else None
            if paragraph is None or paragraph.tag != f"{W}p":
                paragraph = etree.SubElement(body, f"{W}p")
            ppr = paragraph.find(f"{W}pPr")
            if ppr is None:
                ppr = etree.Element(f"{W}pPr")
                paragraph.insert(0, ppr)
            old = ppr.find(f"{W}sectPr")
            if old is not None:
                ppr.remove(old)
            ppr.append(copy.deepcopy(section))
        assert self._body is not None
        if own_namespaces:
            for child in body:
                self._body.write(etree.tostring(child, encoding="UTF-8"))
            return
        text = etree.tostring(body, encoding="UTF-8")
        if text.endswith(b"/>") and not len(body):
            return
        self._body.write(text[text.index(b">") + 1:text.rindex(b"</")])

    def close(self) -> Path:
        """Write the merged file at ``target`` (atomically) and return its path."""
        if self._base is None or self._pending is None or self._body is None:
            raise ValueError("nothing to merge")
        try:
            self._write(*self._pending, last=True)
            self._pending = None
            self._body.close()
            fd, tmp_name = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=".docx",
                                            dir=self.target.parent)
            os.close(fd)
            tmp = Path(tmp_name)
            try:
                self._assemble(tmp)
                os.replace(tmp, self.target)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        finally:
            self.discard()
        return self.target

    def _assemble(self, out: Path) -> None:
        assert self._base is not None and self._body is not None and self._rels is not None
        replaced = dict(self._replaced)
        replaced[_rels_name(self._main)] = self._relationships()
        if self._numbering is not None and self._numbering.changed:
            replaced[self._numbering_member] = _serialize(self._numbering.root)
        if self._types_changed:
            replaced[CT_NAME] = self._content_types()
        body_size = Path(self._body.name).stat().st_size
        with zipfile.ZipFile(self._base) as base, zipfile.ZipFile(
                out, "w", zipfile.ZIP_DEFLATED) as zout:
            written = set()
            for info in base.infolist():
                name = info.filename
                written.add(name)
                if name == self._main:
                    entry = zipfile.ZipInfo(name, date_time=info.date_time)
                    entry.compress_type = zipfile.ZIP_DEFLATED
                    entry.file_size = len(self._prolog) + body_size + len(self._epilog)
                    with zout.open(entry, "w") as sink, open(self._body.name, "rb") as source:
                        sink.write(self._prolog)
                        while chunk := source.read(1 << 20):
                            sink.write(chunk)
                        sink.write(self._epilog)
                elif name in replaced:
                    zout.writestr(_entry(name, info), replaced.pop(name))
                else:
                    zout.writestr(_entry(name, info), base.read(name))
            for name, data in replaced.items():  # a part the first package lacked
                if name not in written:
                    zout.writestr(_entry(name, None), data)
            for name, data in self._carried():
                zout.writestr(_entry(name, None), data)

    def _relationships(self) -> bytes:
        """The merged file's relationships: the first document's, then those the merge
        added (read back from their temporary file)."""
        from lxml import etree

        assert self._rels is not None
        if self._new_rels is None:
            return _serialize(self._rels)
        marker = etree.SubElement(self._rels, f"{{{PKG_RELS}}}Relationship", Id=_SPOOL_MARK)
        text = _serialize(self._rels)
        mark = etree.tostring(marker).replace(_RELS_XMLNS, b"", 1)
        self._rels.remove(marker)
        self._new_rels.seek(0)
        assert text.count(mark) == 1
        return text.replace(mark, self._new_rels.read())

    def _content_types(self) -> bytes:
        from lxml import etree

        root = etree.Element(f"{{{CONTENT_TYPES}}}Types", nsmap={None: CONTENT_TYPES})
        for ext, kind in self._types.defaults.items():
            etree.SubElement(root, f"{{{CONTENT_TYPES}}}Default", Extension=ext,
                             ContentType=kind)
        for member, kind in self._types.overrides.items():
            etree.SubElement(root, f"{{{CONTENT_TYPES}}}Override", PartName=f"/{member}",
                             ContentType=kind)
        return _serialize(root)

    def discard(self) -> None:
        """Drop the temporary files (the merged file is not written) and what was gathered
        to write it: a caller may keep the closed writer (an ExitStack does until its batch
        ends), and a print file of 6,000 certificates left its relationships, names and
        digests, some 4 MiB, in the main process through the whole PDF conversion
        (01/12/2026)."""
        self._pending = None
        self._rels = self._section = self._numbering = None
        self._rel_ids, self._names, self._taken = set(), set(), {}
        self._replaced, self._by_content, self._external = {}, _Recent(), _Recent()
        self._doc_copies, self._headers = {}, _Recent()
        self._types = _ContentTypes()
        for spooled in (self._spool, self._new_rels):
            if spooled is not None:
                spooled.close()
        self._spool = self._new_rels = None
        if self._body is not None:
            self._body.close()
            with contextlib.suppress(OSError):
                os.unlink(self._body.name)
            self._body = None


def _relationship(rid: str, kind: str, target: str, external: bool,
                  parent: etree._Element | None = None) -> etree._Element:
    """One ``Relationship`` element of a relationships part, added at the end of ``parent``
    when given."""
    from lxml import etree

    tag = f"{{{PKG_RELS}}}Relationship"
    rel = (etree.SubElement(parent, tag) if parent is not None
           else etree.Element(tag, nsmap={None: PKG_RELS}))
    rel.set("Id", rid)
    rel.set("Type", kind)
    rel.set("Target", target)
    if external:
        rel.set("TargetMode", "External")
    return rel


def _part_digest(zf: zipfile.ZipFile, member: str) -> str:
    """What identifies a header or footer's content: its XML and its relationships."""
    digest = hashlib.sha1(zf.read(member))
    with contextlib.suppress(KeyError):
        digest.update(zf.read(_rels_name(member)))
    return digest.hexdigest()


def _entry(name: str, like: zipfile.ZipInfo | None) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(name, date_time=like.date_time if like else (1980, 1, 1, 0, 0, 0))
    entry.compress_type = zipfile.ZIP_DEFLATED
    return entry


def merge_documents(paths: Iterable[Path], target: Path) -> Path:
    """Write ``target``: every document of ``paths`` in order, each from a new page with its
    own page numbers. The documents must come from one template (see MergedDocument)."""
    with MergedDocument(target) as merged:
        for path in paths:
            merged.add(path)
        return merged.close()

