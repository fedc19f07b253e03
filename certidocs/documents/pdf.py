"""PDF of a batch of documents: few LibreOffice runs, one PDF per document, any session size.

Starting LibreOffice costs a second or more and each file it opens costs a lot more than a
page of a file already open: converted one by one (or in batches of files), a session's
thousands of letters take minutes. So the documents of a type (one template) are merged, a
chunk of PDF_CHUNK at a time, into conversion files (certidocs.documents.merge with
``pdf_marks``: each document starts with a bookmark and its page totals count its own pages),
those files are converted by several LibreOffice processes at once (certidocs.libreoffice,
bounded batches, each checked and retried once), and each PDF is cut back into one PDF per
document at the pages its bookmarks point to (pypdf). A document's PDF has the same pages and
the same text as the document converted alone. A chunk whose bookmarks cannot be found in its
PDF has its documents converted one by one instead, so a document is never cut wrongly.

The print file of a type (``_impression_<type>.pdf``) is the chunks' PDFs one after the other:
each letter in it reads as it does alone (« Page 1 sur 2 »). Documents without a print file
(the session's own: procès-verbal, attendance sheet…) are converted as they are.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pypdf import PdfReader, PdfWriter

PDF_CHUNK = 100
"""Documents per conversion file. Bigger chunks spread LibreOffice's start-up and the opening
of a file over more pages, but the memory LibreOffice takes grows with the file it holds
(a 100-letter file stays near the memory of its start-up) and a chunk is the unit of work a
process takes: 100 gives a session of a few hundred candidates enough chunks to keep every
process busy, and bounds what a failed chunk costs."""

WORK = ".pdf"  # inside the batch's staging folder


CHUNKS_PER_CALL = 4
"""Conversion files per LibreOffice call: one start-up (one to three seconds) spread over 400
documents, and calls short enough that while one process converts, the PDFs of the call
before are cut per person (pure Python) and the next conversion files are merged."""


@dataclass
class _Chunk:
    """Documents of one type merged into one conversion file."""

    type_nom: str
    documents: list[Path]
    source: Path
    pdf: Path | None = None
    split: bool = False


def convert_batch(staged: Mapping[str, Sequence[Path]], merged: Mapping[str, Path],
                  staging: Path) -> dict[Path, Path]:
    """PDF of every staged document and print file; maps each .docx to its PDF, written next
    to it. Raises LibreOfficeError naming the documents that could not be converted.

    Calls run on as many threads as there are LibreOffice processes to keep busy (one per
    core, see certidocs.parallel.workers): each thread merges its conversion files, waits for
    its LibreOffice process, then cuts the PDFs, so that Python's work overlaps the other
    processes' conversions.
    """
    from concurrent.futures import ThreadPoolExecutor

    from certidocs.libreoffice import convert_to_pdf
    from certidocs.parallel import workers

    work = staging / WORK
    (work / "sources").mkdir(parents=True)
    chunks: list[_Chunk] = []
    alone: list[Path] = []
    for type_nom, docs in staged.items():
        if type_nom not in merged:
            alone += docs
            continue
        for k in range(0, len(docs), PDF_CHUNK):
            chunks.append(_Chunk(type_nom, list(docs[k:k + PDF_CHUNK]),
                                 work / "sources" / f"{type_nom}-{k // PDF_CHUNK:05d}.docx"))
    calls = [chunks[k:k + CHUNKS_PER_CALL] for k in range(0, len(chunks), CHUNKS_PER_CALL)]
    processes = workers()
    out: dict[Path, Path] = {}
    with ThreadPoolExecutor(max(1, min(processes, len(calls) + bool(alone)))) as pool:
        done = [pool.submit(_convert_call, call, work / f"appel-{i}")
                for i, call in enumerate(calls)]
        if alone:
            # Next to the calls, one process; alone (no print file asked for), all of them.
            singles = pool.submit(convert_to_pdf, _flat(alone, work / "seuls"),
                                  work / "pdf-seuls", processes=1 if calls else processes,
                                  weights=[document_weight(d) for d in alone])
        for future in done:
            future.result()
        if alone:
            for doc, pdf in zip(alone, singles.result(), strict=True):
                out[doc] = _place(pdf, doc)
    unsplit = [d for c in chunks if not c.split for d in c.documents]
    if unsplit:  # a call failed, or bookmarks were lost: these documents one by one instead
        again = convert_to_pdf(_flat(unsplit, work / "repris"), work / "pdf-repris",
                               processes=processes)
        for doc, pdf in zip(unsplit, again, strict=True):
            _place(pdf, doc)
    for chunk in chunks:
        for doc in chunk.documents:
            out[doc] = doc.with_suffix(".pdf")
    for type_nom, print_file in merged.items():
        parts = [c for c in chunks if c.type_nom == type_nom]
        out[print_file] = concatenate(
            [p for c in parts for p in ([c.pdf] if c.split and c.pdf else
                                        [d.with_suffix(".pdf") for d in c.documents])],
            print_file.with_suffix(".pdf"))
    shutil.rmtree(work, ignore_errors=True)
    return out


def _convert_call(call: list[_Chunk], folder: Path) -> None:
    """Merge ``call``'s conversion files, convert them in one LibreOffice call, cut their
    PDFs per document (``split`` stays False for a chunk whose PDF cannot be cut)."""
    from certidocs.documents.merge import MergedDocument
    from certidocs.errors import LibreOfficeError
    from certidocs.libreoffice import convert_to_pdf

    for chunk in call:
        with MergedDocument(chunk.source, pdf_marks=True) as writer:
            for doc in chunk.documents:
                writer.add(doc)
            writer.close()
    try:
        produced = convert_to_pdf([c.source for c in call], folder, destinations=True,
                                  weights=[len(c.documents) for c in call])
    except LibreOfficeError:
        return  # converted again document by document: the error then names documents
    for chunk, pdf in zip(call, produced, strict=True):
        chunk.pdf = pdf
        chunk.split = split_pdf(pdf, [d.with_suffix(".pdf") for d in chunk.documents])


WEIGHT_XML_BYTES = 1 << 20
"""Bytes of a document's body (``word/document.xml``, uncompressed) that count as one
document in LibreOffice's time limit (certidocs.libreoffice.SECONDS_PER_FILE). A letter is
a few tens of kilobytes (weight 1); the procès-verbal of 10,000 candidates is 32 MiB (weight
32: about ten minutes allowed, for about a minute and a half of work on a loaded 2-core
machine), where a weight of 1 would stop it after 80 seconds."""


def document_weight(path: Path) -> int:
    """How many documents ``path`` counts for in a conversion's time limit: 1, or one per
    WEIGHT_XML_BYTES of its body (1 when its size cannot be read)."""
    try:
        with zipfile.ZipFile(path) as zf:
            size = zf.getinfo("word/document.xml").file_size
    except (OSError, KeyError, zipfile.BadZipFile):
        return 1
    return max(1, size // WEIGHT_XML_BYTES)


def _flat(docs: Sequence[Path], folder: Path) -> list[Path]:
    """``docs`` linked in ``folder`` as « <type>-<name> »: names repeat across types
    (« 001_DUPONT_Jean.docx » in each folder) while one conversion writes into one folder."""
    folder.mkdir(parents=True, exist_ok=True)
    links = []
    for doc in docs:
        link = folder / f"{doc.parent.name}-{doc.name}"
        try:
            os.link(doc, link)
        except OSError:
            shutil.copyfile(doc, link)
        links.append(link)
    return links


def _place(pdf: Path, doc: Path) -> Path:
    final = doc.with_suffix(".pdf")
    os.replace(pdf, final)
    return final


def document_starts(reader: PdfReader, count: int) -> list[int] | None:
    """The first page (from 0) of each of the ``count`` documents of a conversion file's PDF,
    from its named destinations ``PDF_MARK<i>``; None unless each document has one, the first
    on page 0 and each after the one before."""
    from certidocs.documents.merge import PDF_MARK

    pages: dict[int, int] = {}
    for name, destination in reader.named_destinations.items():
        match = re.fullmatch(rf"/?{PDF_MARK}(\d+)", str(name))
        page = reader.get_destination_page_number(destination) if match else None
        if match and page is not None:
            pages[int(match.group(1))] = page
    starts = [pages.get(i, -1) for i in range(count)]
    if not starts or starts[0] != 0 or any(b <= a for a, b in itertools.pairwise(starts)):
        return None
    if starts[-1] >= len(reader.pages):
        return None
    return starts


def split_pdf(pdf: Path, targets: Sequence[Path]) -> bool:
    """Write one PDF per document of the conversion file's ``pdf`` to ``targets`` (in order);
    False, writing nothing, when the documents' first pages cannot be told."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(pdf)
    starts = document_starts(reader, len(targets))
    if starts is None:
        return False
    ends = [*starts[1:], len(reader.pages)]
    for target, first, end in zip(targets, starts, ends, strict=True):
        writer = PdfWriter()
        for page in range(first, end):
            writer.add_page(reader.pages[page])
        _write(writer, target)
    return True


def concatenate(pdfs: Sequence[Path], target: Path) -> Path:
    """One PDF holding the pages of ``pdfs`` in order (the print file of a type).

    pdfunite (poppler-utils, installed with LibreOffice by the CI and advised by the README)
    does it in a few MiB whatever the number of pages; pypdf, where it is missing, holds every
    page of the print file in memory (about 140 MiB for 1,000 pages).
    """
    import subprocess

    from pypdf import PdfReader, PdfWriter

    pdfunite = shutil.which("pdfunite")
    if pdfunite is not None and len(pdfs) > 1:
        tmp = target.with_name(f".{target.name}.tmp")
        try:
            subprocess.run([pdfunite, *map(str, pdfs), str(tmp)], capture_output=True,
                           check=True, timeout=600, stdin=subprocess.DEVNULL)
            os.replace(tmp, target)
            return target
        except (OSError, subprocess.SubprocessError):
            tmp.unlink(missing_ok=True)  # pypdf below
    writer = PdfWriter()
    for pdf in pdfs:
        for page in PdfReader(pdf).pages:
            writer.add_page(page)
    _write(writer, target)
    return target


def _write(writer: PdfWriter, target: Path) -> None:
    writer.add_metadata({"/Producer": "certidocs (LibreOffice, pypdf)"})
    tmp = target.with_name(f".{target.name}.tmp")
    with tmp.open("wb") as handle:
        writer.write(handle)
    os.replace(tmp, target)


_TEXT_RUN = re.compile(r"<w:t(?:\s[^>]*)?>([^<]+)</w:t>")


def glyphs_warnings(docs: Sequence[Path]) -> list[str]:
    """One warning per character of ``docs`` that no installed font can draw (it would be
    missing from the PDF), naming a few of the documents holding it."""
    from certidocs.libreoffice import FONT_PACKAGES, characters_without_font

    where: dict[str, list[str]] = {}
    for doc in docs:
        try:
            with zipfile.ZipFile(doc) as zf:
                text = "".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist()
                               if re.fullmatch(r"word/(document|header\d*|footer\d*)\.xml", n))
        except (OSError, zipfile.BadZipFile):
            continue
        chars = {c for run in _TEXT_RUN.findall(text) for c in run if ord(c) > 0x7E}
        for char in characters_without_font(chars):
            where.setdefault(char, []).append(doc.name)
    out = []
    for char, names in where.items():
        shown = ", ".join(names[:3]) + (f" et {len(names) - 3} autre(s)" if len(names) > 3
                                        else "")
        out.append(f"le caractère « {char} » (U+{ord(char):04X}) de {shown} ne s'affiche avec "
                   f"aucune police installée : il manquera dans le PDF. Installez une police "
                   f"qui le contient (sous Debian : {FONT_PACKAGES}) puis relancez, ou "
                   "vérifiez l'orthographe dans session.xlsx.")
    return out
