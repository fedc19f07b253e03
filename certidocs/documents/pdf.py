"""PDF of a batch of documents: few LibreOffice runs, one PDF per document, any session size.

Starting LibreOffice costs a second or more and each file it opens costs a lot more than a
page of a file already open: converted one by one (or in batches of files), a session's
thousands of letters take minutes. So the documents of a type (one template) are merged, a
chunk of PDF_CHUNK at a time, into conversion files (certidocs.documents.merge with
``pdf_marks``: each document starts with a bookmark and its page totals count its own pages),
those files are converted by several LibreOffice processes at once (certidocs.libreoffice,
bounded batches, each checked and retried once), and each PDF is cut back into one PDF per
document at the pages its bookmarks point to (pikepdf). A document's PDF has the same pages and
the same text as the document converted alone. A chunk whose bookmarks cannot be found in its
PDF has its documents converted one by one instead, so a document is never cut wrongly.

The print file of a type (``_impression_<type>.pdf``) is the chunks' PDFs one after the other:
each letter in it reads as it does alone (« Page 1 sur 2 »). Documents without a print file
(the session's own: procès-verbal, attendance sheet…) are converted as they are, or in parts
when they are long (certidocs.documents.parties: the procès-verbal of a network's session).

All of it runs in a Python process started for the batch (CONVERSION_APART), so that what
the conversion allocates is given back to the system when it ends.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import re
import shutil
import sys
import threading
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from certidocs.apart import STOP_HOOKS

if TYPE_CHECKING:
    from pikepdf import Page, Pdf

    from certidocs.uno_server import ConversionServer

PDF_CHUNK = 100
"""Documents per conversion file. Bigger chunks spread LibreOffice's start-up and the opening
of a file over more pages, but the memory LibreOffice takes grows with the file it holds
(a 100-letter file stays near the memory of its start-up) and a chunk is the unit of work a
process takes: 100 gives a session of a few hundred candidates enough chunks to keep every
process busy, and bounds what a failed chunk costs."""

WORK = ".pdf"  # inside the batch's staging folder


CHUNKS_PER_CALL = 4
"""Most conversion files per LibreOffice call: one start-up (about 1.4 s of processor time)
spread over 400 documents, and calls short enough that while one process converts, the PDFs
of the call before are cut per person and the next conversion files are merged. Towards the
end of a batch calls get smaller (see _Queue), so that the processes finish together."""


_STOPPING = threading.Event()
"""Set in the conversion's own process when it is asked to stop (Ctrl-C, SIGTERM, its
caller gone): no new call is handed out, the calls under way end, their LibreOffice
processes are stopped."""

STOP_HOOKS.append(_STOPPING.set)  # in a process apart, stopping it stops the conversion


class _Queue:
    """The conversion files still to convert, handed out a call at a time to the threads that
    each drive a LibreOffice process: a call takes at most CHUNKS_PER_CALL files and at most
    its share of what remains (remaining / processes, rounded up), so that the last calls are
    short and no process is left converting alone while the others wait."""

    def __init__(self, chunks: list[_Chunk], processes: int) -> None:
        self._todo = list(chunks)
        self._processes = max(1, processes)
        self._lock = threading.Lock()

    def take(self) -> list[_Chunk]:
        """The next call's conversion files; empty when everything was handed out, or once
        the conversion is being stopped (``_STOPPING``)."""
        with self._lock:
            if _STOPPING.is_set():
                return []
            size = min(CHUNKS_PER_CALL, -(-len(self._todo) // self._processes))
            call, self._todo = self._todo[:size], self._todo[size:]
            return call


@dataclass
class _Chunk:
    """Documents of one type merged into one conversion file: ``files[start:end]``, made
    paths only while the chunk is merged or cut (a network's session has tens of thousands
    of documents, and a ``Path`` is about half a kilobyte)."""

    type_nom: str
    files: Sequence[Path]
    start: int
    end: int
    source: Path
    pdf: Path | None = None
    split: bool = False

    @property
    def documents(self) -> list[Path]:
        """The chunk's documents, in order."""
        return list(self.files[self.start:self.end])


CONVERSION_APART = True
"""Whether ``convert_batch`` works in a Python process of its own, started for it (and the
fonts check with it), rather than in the caller's. What the conversion allocates (the
conversion files merged, the PDFs cut by pikepdf, the procès-verbal cut in parts, the text of
every document read for the fonts check, a malloc arena per thread) dies with that process:
the caller (the ``documents`` command, the console serving sessions all day) keeps none of it,
and does not add it on top of what it already holds. Measured on the benchmark's sessions
(01/12/2026, conversion in the caller): the main process went from 85 to 94 MiB during the
PDF of 1,000 candidates and from 98 to 117 MiB at 10,000, the procès-verbal's parts and
fonts check coming on top of the rest. Tests that replace the conversion's functions set
it False, so that their replacements are the ones called."""

def convert_batch(staged: Mapping[str, Sequence[Path]], merged: Mapping[str, Path],
                  staging: Path) -> list[str]:
    """PDF of every staged document and print file, written next to it (``x.docx`` gets
    ``x.pdf``): no mapping is returned or held, one per document would grow with the session.
    Returns the fonts check's warnings (``glyphs_warnings`` on every staged document, run
    while LibreOffice converts). Raises LibreOfficeError naming the documents that could not
    be converted, or saying that the conversion stopped. Done in a process of its own unless
    CONVERSION_APART is False (``staged``: Fichiers or lists of paths, pickled for it)."""
    if not CONVERSION_APART:
        return _convert_and_check(staged, merged, staging)
    return _convert_apart(staged, merged, staging)


def _convert_and_check(staged: Mapping[str, Sequence[Path]], merged: Mapping[str, Path],
                       staging: Path) -> list[str]:
    """``convert_batch``'s work, in this process: the fonts are checked on a thread while
    LibreOffice converts (it holds the cores)."""
    from concurrent.futures import ThreadPoolExecutor

    from certidocs.documents.render import ListeFichiers

    with ThreadPoolExecutor(1) as check:
        lost = check.submit(glyphs_warnings, ListeFichiers(staged.values()))
        _convert_here(staged, merged, staging)
        return lost.result()


def _convert_apart(staged: Mapping[str, Sequence[Path]], merged: Mapping[str, Path],
                   staging: Path) -> list[str]:
    """``_convert_and_check`` run by a fresh Python (certidocs.apart.run_apart): stopped
    (Ctrl-C, SIGTERM, its caller's death), that process hands out no more calls
    (``_STOPPING``), ends those under way and stops its LibreOffice processes."""
    from certidocs.apart import run_apart

    return list(run_apart(_convert_and_check, dict(staged), dict(merged), staging,
                          lieu="conversion", arret="la conversion en PDF s'est arrêtée"))


def _convert_here(staged: Mapping[str, Sequence[Path]], merged: Mapping[str, Path],
                  staging: Path) -> None:
    """The conversion itself (see ``convert_batch``).

    Calls run on as many threads as there are LibreOffice processes to keep busy (one per
    core, see certidocs.parallel.workers): each thread merges its conversion files, waits for
    its LibreOffice process, then cuts the PDFs, so that Python's work overlaps the other
    processes' conversions.
    """
    from concurrent.futures import ThreadPoolExecutor

    from certidocs.libreoffice import convert_to_pdf
    from certidocs.parallel import workers
    from certidocs.uno_server import ConversionServer

    work = staging / WORK
    (work / "sources").mkdir(parents=True)
    chunks: list[_Chunk] = []
    alone: list[Path] = []
    for type_nom, docs in staged.items():
        if type_nom not in merged:
            alone += docs
            continue
        for k in range(0, len(docs), PDF_CHUNK):
            chunks.append(_Chunk(type_nom, docs, k, min(k + PDF_CHUNK, len(docs)),
                                 work / "sources" / f"{type_nom}-{k // PDF_CHUNK:05d}.docx"))
    processes = workers()
    queue = _Queue(chunks, processes)
    singles: list[Path] = []
    whole: list[Path] = []  # documents converted alone and not in parts

    def serve(number: int) -> None:
        # This thread's LibreOffice: one process kept running through UNO when it can be
        # (certidocs.uno_server), else one soffice call at a time with a kept profile.
        profile = work / f"profil-{number}"
        with ConversionServer(work / f"uno-{number}") as server:
            if number == 0 and alone:
                # The session's own documents (a procès-verbal can be the longest file of
                # all) go first, so that they never make the last process finish alone.

                def convert(paths: list[Path], outdir: Path, weights: list[int]) -> list[Path]:
                    if chunks and server.available:
                        return server.convert(paths, outdir, weights=weights)
                    return convert_to_pdf(paths, outdir, processes=1 if chunks else processes,
                                          weights=weights, profile=profile)

                whole.extend(d for d in alone
                             if not _convert_in_parts(d, work / "parties", convert))
                singles.extend(convert(_flat(whole, work / "seuls"), work / "pdf-seuls",
                                       [document_weight(d) for d in whole]))
            while call := queue.take():
                _convert_call(call, work / f"appel-{call[0].source.stem}", profile, server)
                release_memory()

    threads = max(1, min(processes, len(chunks) + bool(alone)))
    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(serve, k) for k in range(threads)]:
            future.result()
    for doc, pdf in zip(whole, singles, strict=True):
        _place(pdf, doc)
    unsplit = [d for c in chunks if not c.split for d in c.documents]
    if unsplit:  # a call failed, or bookmarks were lost: these documents one by one instead
        again = convert_to_pdf(_flat(unsplit, work / "repris"), work / "pdf-repris",
                               processes=processes)
        for doc, pdf in zip(unsplit, again, strict=True):
            _place(pdf, doc)

    def assemble(type_nom: str) -> Path:
        parts = [c for c in chunks if c.type_nom == type_nom]
        return concatenate(
            [p for c in parts for p in ([c.pdf] if c.split and c.pdf else
                                        [d.with_suffix(".pdf") for d in c.documents])],
            merged[type_nom].with_suffix(".pdf"))

    # One pdfunite per print file, as many at once as there are cores.
    with ThreadPoolExecutor(max(1, min(processes, len(merged)))) as pool:
        list(pool.map(assemble, merged))
    shutil.rmtree(work, ignore_errors=True)


def _convert_in_parts(doc: Path, folder: Path,
                      convert: Callable[[list[Path], Path, list[int]], list[Path]]) -> bool:
    """Convert ``doc`` in parts (certidocs.documents.parties) when it is long enough to be
    cut, its PDF written next to it; False, nothing done, when it is converted whole.
    ``convert(paths, outdir, weights)`` converts files to PDF in order (LibreOfficeError
    names those that failed: a part is named « <document>-partie-NN »)."""
    from certidocs.documents.parties import cut

    decoupe = cut(doc, folder)
    if decoupe is None:
        return False
    try:
        parts = decoupe.number(None)
        weights = [document_weight(p) for p in parts]
        pdfs = convert(parts, decoupe.folder / "pdf", weights)
        if decoupe.numbered:  # again, now that each part's first page number is known
            parts = decoupe.number([page_count(p) for p in pdfs])
            pdfs = convert(parts, decoupe.folder / "pdf-numerote", weights)
        concatenate(pdfs, doc.with_suffix(".pdf"))
    finally:
        decoupe.close()
    return True


def page_count(pdf: Path) -> int:
    """The number of pages of ``pdf``."""
    import pikepdf

    with pikepdf.open(pdf) as opened:
        return len(opened.pages)


def release_memory() -> None:
    """Give the memory the C allocator keeps free back to the system (glibc's
    ``malloc_trim``; nothing elsewhere). Merging and cutting PDFs in several threads leaves
    each thread's arena holding freed memory that the next call does not always reuse: over a
    1,000-candidate session the main process went from 80 to 110 MiB during the PDF step,
    101 MiB with this after each call (30/11/2026)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Any:
    """glibc's ``malloc_trim``, None where there is none (looked up once: ``find_library``
    may run ``ldconfig``)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c") if sys.platform.startswith("linux") else None
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


def _convert_call(call: list[_Chunk], folder: Path, profile: Path | None = None,
                  server: ConversionServer | None = None) -> None:
    """Merge ``call``'s conversion files, convert them (through ``server`` when it is
    available, else in one soffice call), cut their PDFs per document (``split`` stays False
    for a chunk whose PDF cannot be cut)."""
    from certidocs.documents.merge import MergedDocument
    from certidocs.errors import LibreOfficeError
    from certidocs.libreoffice import convert_to_pdf

    for chunk in call:
        with MergedDocument(chunk.source, pdf_marks=True) as writer:
            for doc in chunk.documents:
                writer.add(doc)
            writer.close()
    sources, weights = [c.source for c in call], [len(c.documents) for c in call]
    try:
        if server is not None and server.available:
            produced = server.convert(sources, folder, weights=weights, destinations=True)
        else:
            produced = convert_to_pdf(sources, folder, destinations=True, weights=weights,
                                      profile=profile)
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
    from certidocs.libreoffice import body_bytes

    return max(1, body_bytes(path) // WEIGHT_XML_BYTES)


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


def document_starts(pdf: Pdf, count: int) -> list[int] | None:
    """The first page (from 0) of each of the ``count`` documents of a conversion file's PDF,
    from its named destinations ``PDF_MARK<i>`` (LibreOffice writes them in the catalogue's
    ``/Dests`` dictionary; the ``/Names`` tree of later PDF versions is read too); None unless
    each document has one, the first on page 0 and each after the one before."""
    import pikepdf

    from certidocs.documents.merge import PDF_MARK

    index = {page.obj.objgen: i for i, page in enumerate(pdf.pages)}
    root = pdf.Root
    named: list[tuple[str, object]] = []
    if "/Dests" in root:
        named += [(str(k), v) for k, v in root.Dests.items()]
    if "/Names" in root and "/Dests" in root.Names:
        named += list(pikepdf.NameTree(root.Names.Dests).items())
    pages: dict[int, int] = {}
    for name, destination in named:
        match = re.fullmatch(rf"/?{PDF_MARK}(\d+)", name)
        if not match:
            continue
        if isinstance(destination, pikepdf.Dictionary) and "/D" in destination:
            destination = destination.D  # a destination may be wrapped in a dictionary
        if isinstance(destination, pikepdf.Array) and len(destination):
            first: pikepdf.Object = destination[0]
            page = index.get(first.objgen)
            if page is not None:
                pages[int(match.group(1))] = page
    starts = [pages.get(i, -1) for i in range(count)]
    if not starts or starts[0] != 0 or any(b <= a for a, b in itertools.pairwise(starts)):
        return None
    if starts[-1] >= len(pdf.pages):
        return None
    return starts


def split_pdf(pdf: Path, targets: Sequence[Path]) -> bool:
    """Write one PDF per document of the conversion file's ``pdf`` to ``targets`` (in order);
    False, writing nothing, when the documents' first pages cannot be told.

    pikepdf (qpdf) rather than pypdf: on a 100-letter file, pypdf took 0.44 s of processor
    time to cut it (16 s of the 36 s of Python work in the PDF of a 1,000-candidate session,
    30/11/2026), pikepdf 0.05 s; the pages written are the same objects either way.
    """
    import pikepdf

    with pikepdf.open(pdf) as source:
        starts = document_starts(source, len(targets))
        if starts is None:
            return False
        ends = [*starts[1:], len(source.pages)]
        for target, first, end in zip(targets, starts, ends, strict=True):
            with pikepdf.new() as part:
                part.pages.extend(source.pages[first:end])
                for page in part.pages:
                    if _shares_images(page):
                        _own_resources(page)
                _write(part, target)
    return True


SHARED_IMAGES = 4
"""Images (XObjects) a page's resources may name before its PDF is pruned of those it does
not use (``_own_resources``): a letter's logo and signature are shared by every document of
a conversion file and cost nothing to keep, while each certificate's own QR code would be
carried by all 100 certificates. Pruning takes 0.8 ms of processor time per page (pikepdf
reads its content stream): skipped on pages that name no more than SHARED_IMAGES images, it
saves about 2.5 s of the PDF of a 1,000-candidate session (2,600 letters without QR code)."""


def _shares_images(page: Page) -> bool:
    """Whether ``page``'s resources name more than SHARED_IMAGES images (XObjects)."""
    import pikepdf

    resources = page.obj.get("/Resources")
    images = resources.get("/XObject") if isinstance(resources, pikepdf.Dictionary) else None
    return isinstance(images, pikepdf.Dictionary) and len(images.keys()) > SHARED_IMAGES


def _own_resources(page: Page) -> None:
    """Keep on ``page`` only the resources it uses. LibreOffice gives every page of a file one
    shared resource dictionary: cut out as they were, each of 100 certificates carried the
    QR codes of all 100 (3.4 MB instead of 62 KB). The dictionary and its sub-dictionaries
    are copied first, so that pruning one page never takes from another."""
    import pikepdf

    resources = page.obj.get("/Resources")
    if isinstance(resources, pikepdf.Dictionary):
        page.obj.Resources = pikepdf.Dictionary({
            key: pikepdf.Dictionary(dict(value.items()))
            if isinstance(value, pikepdf.Dictionary) else value
            for key, value in resources.items()})
    page.remove_unreferenced_resources()


def concatenate(pdfs: Sequence[Path], target: Path) -> Path:
    """One PDF holding the pages of ``pdfs`` in order (the print file of a type).

    pdfunite (poppler-utils, installed with LibreOffice by the CI and advised by the README)
    does it in a few MiB whatever the number of pages; pikepdf, where it is missing, opens
    every source while it writes (about 1,000 files open at once for a 1,000-letter type).
    """
    import subprocess

    import pikepdf

    pdfunite = shutil.which("pdfunite")
    if pdfunite is not None and len(pdfs) > 1:
        tmp = target.with_name(f".{target.name}.tmp")
        try:
            subprocess.run([pdfunite, *map(str, pdfs), str(tmp)], capture_output=True,
                           check=True, timeout=600, stdin=subprocess.DEVNULL)
            os.replace(tmp, target)
            return target
        except (OSError, subprocess.SubprocessError):
            tmp.unlink(missing_ok=True)  # pikepdf below
    with contextlib.ExitStack() as stack, pikepdf.new() as whole:
        for path in pdfs:
            whole.pages.extend(stack.enter_context(pikepdf.open(path)).pages)
        _write(whole, target)
    return target


def _write(pdf: Pdf, target: Path) -> None:
    """Save ``pdf`` to ``target`` through a temporary file (never a half-written PDF)."""
    pdf.docinfo["/Producer"] = "certidocs (LibreOffice, pikepdf)"
    tmp = target.with_name(f".{target.name}.tmp")
    pdf.save(tmp, deterministic_id=True)
    os.replace(tmp, target)


_TEXT_RUN = re.compile(r"<w:t(?:\s[^>]*)?>([^<]+)</w:t>")
_RUN_END = "</w:t>"

GLYPHS_READ = 1 << 20
"""Bytes of a document's XML read at a time when its characters are listed: the
procès-verbal of 10,000 candidates is 60 million characters, which read whole (with the
list of its text runs) took hundreds of megabytes."""


def _characters(zf: zipfile.ZipFile, member: str) -> set[str]:
    """The characters beyond ASCII of the text runs (``<w:t>``) of ``member``, read
    GLYPHS_READ bytes at a time: each piece is scanned up to its last ``</w:t>`` (a run cannot
    straddle that point) and the rest goes on with the next piece."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    found: set[str] = set()
    carried = ""
    with zf.open(member) as fh:
        while True:
            block = fh.read(GLYPHS_READ)
            text = carried + decoder.decode(block, final=not block)
            cut = len(text) if not block else text.rfind(_RUN_END) + len(_RUN_END)
            if cut < len(_RUN_END):  # no run ends in this piece yet
                cut = 0
            for run in _TEXT_RUN.findall(text, 0, cut):
                found.update(c for c in run if ord(c) > 0x7E)
            carried = text[cut:]
            if not block:
                return found


def glyphs_warnings(docs: Sequence[Path]) -> list[str]:
    """One warning per character of ``docs`` that no installed font can draw (it would be
    missing from the PDF), naming a few of the documents holding it."""
    from certidocs.libreoffice import FONT_PACKAGES, characters_without_font, font_coverage

    coverage = font_coverage()  # once for the batch
    # Reading fontconfig's answer (every font's character set, a few MiB of text and tuples)
    # leaves its memory free but held: 12 MiB of the main process until the end (30/11/2026).
    release_memory()
    where: dict[str, list[str]] = {}
    for doc in docs:
        chars: set[str] = set()
        try:
            with zipfile.ZipFile(doc) as zf:
                for name in zf.namelist():
                    if re.fullmatch(r"word/(document|header\d*|footer\d*)\.xml", name):
                        chars |= _characters(zf, name)
        except (OSError, zipfile.BadZipFile):
            continue
        for char in characters_without_font(chars, coverage):
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
