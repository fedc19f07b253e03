"""A long document converted to PDF in parts (certidocs.documents.parties): the document gets a
page break where each part starts, the parts hold its body in order, and their PDFs put one
after the other give the pages and the text of the document converted alone, page numbers and
totals included."""

from __future__ import annotations

import dataclasses
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from docx import Document
from test_documents_data import TODAY, candidats, organisme, referentiel, resultats, session
from test_documents_pdf import _pages, besoin_libreoffice

import certidocs.documents.parties as parties
import certidocs.documents.pdf
import certidocs.libreoffice
from certidocs.documents import RenderJob, default_templates_dir, render_batch
from certidocs.documents import context as ctx
from certidocs.documents.merge import W

DEFAULTS = default_templates_dir()
W_NS = W[1:-1]


def _pv(tmp_path: Path, count: int) -> Path:
    """The procès-verbal of ``count`` candidates (the four test candidates over and over),
    rendered in tmp_path/pv."""
    ref = referentiel()
    base, outcomes = candidats(), resultats(ref)
    people = [dataclasses.replace(base[i % 4], numero=f"{i + 1:05d}") for i in range(count)]
    results = [dataclasses.replace(outcomes[i % 4], numero=f"{i + 1:05d}")
               for i in range(count)]
    s = dataclasses.replace(session(ref), candidats=tuple(people))
    context = ctx.contexte_proces_verbal(s, ref, organisme(None), results, date_document=TODAY)
    out = render_batch([RenderJob("proces_verbal", "pv", context)], [DEFAULTS], tmp_path / "pv")
    return out.documents["proces_verbal"][0]


def _body(path: Path) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read("word/document.xml")


def _top_level(path: Path) -> list[str]:
    """The local names of the body's children."""
    from lxml import etree

    body = etree.fromstring(_body(path), etree.XMLParser(huge_tree=True)).find(f"{W}body")
    assert body is not None
    return [etree.QName(child).localname for child in body]


def test_small_document_is_not_cut(tmp_path: Path) -> None:
    doc = _pv(tmp_path, 8)
    before = doc.read_bytes()
    assert parties.cut(doc, tmp_path / "travail") is None
    assert doc.read_bytes() == before


def test_cut_parts_hold_the_body_in_order_and_the_document_gets_page_breaks(
        tmp_path: Path) -> None:
    doc = _pv(tmp_path, 400)
    before = _top_level(doc)
    decoupe = parties.cut(doc, tmp_path / "travail", size=200_000)
    assert decoupe is not None and decoupe.numbered  # the footer shows « Page n sur N »
    parts = decoupe.number(None)
    assert len(parts) >= 3
    # The document keeps every element, and each part but the first starts with a paragraph
    # that now starts a page, in the document as in the part.
    assert _top_level(doc) == before
    text = _body(doc).decode()
    assert text.count("<w:pageBreakBefore/>") == len(parts) - 1
    names = [_top_level(p) for p in parts]
    assert [n for part in names for n in part[:-1]] == before[:-1]  # each ends with sectPr
    for part in parts[1:]:
        first = Document(str(part)).paragraphs[0]
        assert first._p.pPr is not None
        assert first._p.pPr.find(f"{W}pageBreakBefore") is not None
    # Numbered from the pages each part took: page numbers go on, totals are the total.
    numbered = decoupe.number([3, 4, *([2] * (len(parts) - 2))])
    total = 7 + 2 * (len(parts) - 2)
    for k, part in enumerate(numbered):
        with zipfile.ZipFile(part) as zf:
            body = zf.read("word/document.xml").decode()
            footer = zf.read("word/footer1.xml").decode()
        start = [1, 4, 8, *range(10, 10 + 2 * len(parts), 2)][k]
        assert f'w:start="{start}"' in body, k
        assert "NUMPAGES" not in footer and f"<w:t>{total}</w:t>" in footer
        assert " PAGE " in footer  # the page number stays a field
    decoupe.close()
    assert not decoupe.folder.exists()


def _middle_table(body: str) -> int:
    return body.index("<w:tbl>", len(body) // 2)


def _section_break(body: str) -> str:
    """A section break in the middle of the document (a paragraph holding its sectPr)."""
    at = _middle_table(body)
    return body[:at] + ("<w:p><w:pPr><w:sectPr><w:pgSz w:w=\"16838\" w:h=\"11906\"/>"
                        "</w:sectPr></w:pPr></w:p>") + body[at:]


def _page_reference(body: str) -> str:
    """« voir page 3 »: a reference to a bookmark's page, in the middle of the document."""
    at = _middle_table(body)
    return body[:at] + ('<w:p><w:fldSimple w:instr=" PAGEREF signatures \\h ">'
                        "<w:r><w:t>3</w:t></w:r></w:fldSimple></w:p>") + body[at:]


def _no_section(body: str) -> str:
    start = body.rindex("<w:sectPr")
    return body[:start] + body[body.index("</w:sectPr>", start) + len("</w:sectPr>"):]


@pytest.mark.parametrize("change", [_section_break, _page_reference, _no_section],
                         ids=["sections", "renvoi", "sans_section"])
def test_documents_not_to_cut_are_left_whole(tmp_path: Path,
                                             change: Callable[[str], str]) -> None:
    """Several sections (their own numbering or orientation could start inside a part), a
    page reference (it would point into another part), no section properties (a part's page
    numbers could not be carried on): not cut, the document untouched, nothing left."""
    doc = _pv(tmp_path, 400)
    with zipfile.ZipFile(doc) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["word/document.xml"] = change(members["word/document.xml"].decode()).encode()
    with zipfile.ZipFile(doc, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    before = doc.read_bytes()
    assert parties.cut(doc, tmp_path / "travail", size=200_000) is None
    assert doc.read_bytes() == before
    assert list((tmp_path / "travail").iterdir()) == []


def test_heading_kept_with_what_follows_is_not_cut_from_it(tmp_path: Path) -> None:
    doc = _pv(tmp_path, 400)
    decoupe = parties.cut(doc, tmp_path / "travail", size=1)  # cut wherever it may
    assert decoupe is not None
    for part in decoupe.number(None)[:-1]:
        last = Document(str(part)).element.body[-2]  # before the final sectPr
        if last.tag == f"{W}p":
            assert last.find(f"{W}pPr/{W}keepNext") is None, part.name


def test_pdf_in_parts_is_the_document_converted_alone(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the documents batch: a PV cut in parts gives, page for page, the text of the
    same .docx converted alone by LibreOffice (« Page n sur N » included)."""
    besoin_libreoffice()
    real_cut = parties.cut
    cuts: list[int] = []

    def small_parts(doc: Path, folder: Path, size: int | None = None) -> parties.Decoupe | None:
        found = real_cut(doc, folder, size=150_000)
        cuts.append(len(found._bodies) if found else 0)
        return found

    monkeypatch.setattr(parties, "cut", small_parts)
    # The conversion in this process, where the replaced ``cut`` is the one called.
    monkeypatch.setattr(certidocs.documents.pdf, "CONVERSION_APART", False)
    ref = referentiel()
    base, outcomes = candidats(), resultats(ref)
    people = [dataclasses.replace(base[i % 4], numero=f"{i + 1:05d}") for i in range(300)]
    results = [dataclasses.replace(outcomes[i % 4], numero=f"{i + 1:05d}")
               for i in range(300)]
    s = dataclasses.replace(session(ref), candidats=tuple(people))
    context = ctx.contexte_proces_verbal(s, ref, organisme(None), results, date_document=TODAY)
    out = render_batch([RenderJob("proces_verbal", "pv", context)], [DEFAULTS],
                       tmp_path / "documents", pdf=True)
    assert cuts and cuts[0] >= 3
    doc = out.documents["proces_verbal"][0]
    alone = certidocs.libreoffice.convert_to_pdf([doc], tmp_path / "seul")[0]
    pages = _pages(doc.with_suffix(".pdf"))
    assert pages == _pages(alone)
    assert f"Page {len(pages)} sur {len(pages)}" in pages[-1]
    assert "Page 1 sur" in pages[0] and "00300" in pages[-1] + pages[-2]
