"""PDF of a batch of documents: few LibreOffice runs, one PDF per document, names intact,
the same pages and text as each document converted alone, whatever the session's size.

The tests that run LibreOffice skip when it (or pdftotext, from poppler-utils) is missing, and
fail instead when CERTIDOCS_EXIGER_LIBREOFFICE=1 (the CI installs both).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from helpers import exiger_libreoffice
from test_documents_data import all_contexts, certificat_info, logo_png, organisme, referentiel

import certidocs.libreoffice
import certidocs.uno_server
from certidocs.documents import RenderJob, default_templates_dir, render_batch
from certidocs.errors import LibreOfficeError, LibreOfficeIntrouvable

DEFAULTS = default_templates_dir()


def besoin_libreoffice() -> None:
    """Skip the test without LibreOffice or pdftotext, or fail when the CI demands them."""
    missing = []
    try:
        certidocs.libreoffice.find_soffice()
    except LibreOfficeIntrouvable:
        missing.append("LibreOffice (soffice)")
    if shutil.which("pdftotext") is None:
        missing.append("pdftotext (poppler-utils)")
    if missing:
        reason = f"absent de cette machine : {', '.join(missing)}"
        if exiger_libreoffice():
            pytest.fail(f"{reason} (CERTIDOCS_EXIGER_LIBREOFFICE=1)")
        pytest.skip(reason)


def besoin_uno() -> None:
    """Skip the test without a Python that can import ``uno`` for this LibreOffice, or fail
    when the CI demands LibreOffice (it installs python3-uno with it)."""
    certidocs.uno_server.uno_python.cache_clear()
    if certidocs.uno_server.uno_python(certidocs.libreoffice.find_soffice()) is None:
        reason = "aucun Python ne peut importer uno (paquet python3-uno)"
        if exiger_libreoffice():
            pytest.fail(f"{reason} (CERTIDOCS_EXIGER_LIBREOFFICE=1)")
        pytest.skip(reason)


def pdf_text(path: Path) -> str:
    """The text of a PDF, page breaks as form feeds."""
    result = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                            check=True, timeout=60)
    return result.stdout.decode("utf-8")


def _here(monkeypatch: pytest.MonkeyPatch) -> None:
    """The conversion in the test's own process, where its replaced functions are the ones
    called (certidocs.documents.pdf.CONVERSION_APART)."""
    import certidocs.documents.pdf

    monkeypatch.setattr(certidocs.documents.pdf, "CONVERSION_APART", False)


def _jobs(tmp_path: Path) -> list[RenderJob]:
    contexts = all_contexts(referentiel(), organisme(logo_png(tmp_path / "logo.png")))
    return [RenderJob(t, name, c) for t in ("convocation_candidat", "certificat",
                                            "proces_verbal")
            for name, c in contexts[t]]


@pytest.mark.parametrize("uno", [True, False], ids=["uno", "soffice"])
def test_pdf_batch_few_conversions_one_pdf_per_document(tmp_path: Path, uno: bool,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Through LibreOffice kept running (UNO) and, without a Python that has ``uno``
    (CERTIDOCS_PYTHON_UNO=0), through soffice calls: the same files, the same PDFs."""
    besoin_libreoffice()
    if not uno:
        monkeypatch.setenv(certidocs.uno_server.UNO_PYTHON_VARIABLE, "0")
    if uno:
        besoin_uno()
    certidocs.uno_server.uno_python.cache_clear()
    calls: list[int] = []
    served: list[int] = []
    starts: list[int] = []
    real = certidocs.libreoffice.convert_to_pdf
    real_serve = certidocs.uno_server.ConversionServer.convert
    real_start = certidocs.uno_server.ConversionServer._start

    def counting(paths: list[Path], outdir: Path, **kw: Any) -> list[Path]:
        calls.append(len(paths))
        return real(paths, outdir, **kw)

    def serving(self: Any, paths: list[Path], outdir: Path, **kw: Any) -> list[Path]:
        served.append(len(paths))
        return real_serve(self, paths, outdir, **kw)

    def starting(self: Any) -> None:
        starts.append(1)
        real_start(self)

    _here(monkeypatch)  # the counters must see the calls
    monkeypatch.setattr(certidocs.libreoffice, "convert_to_pdf", counting)
    monkeypatch.setattr(certidocs.uno_server.ConversionServer, "convert", serving)
    monkeypatch.setattr(certidocs.uno_server.ConversionServer, "_start", starting)
    try:
        out = render_batch(_jobs(tmp_path), [DEFAULTS], tmp_path / "documents", pdf=True)
    finally:
        certidocs.uno_server.uno_python.cache_clear()
    # the two types with a print file are each merged into one conversion file, the PV is
    # converted as it is: three files in all, shared between the processes (one LibreOffice
    # started per process through UNO; one call per file at most without)
    if uno:
        assert calls == [] and sum(served) == 3 and 1 <= len(starts) <= 2
    else:
        assert served == [] and starts == [] and sum(calls) == 3 and len(calls) <= 3
    docs = [p for paths in out.documents.values() for p in paths] + list(out.fusions.values())
    assert sorted(out.pdfs) == sorted(p.with_suffix(".pdf") for p in docs)
    assert all(p.is_file() for p in out.pdfs)

    letters = {p.stem: pdf_text(p.with_suffix(".pdf"))
               for p in out.documents["convocation_candidat"]}
    assert "Madame Élodie MARTIN" in letters["001"]
    assert "Monsieur Seán O'BRIEN & <FILS> \"LTD\"" in letters["002"]
    assert "Madame {% raw %}Zoé {{ 7*7 }}" in letters["003"]
    assert "Monsieur Paul ABSENT" in letters["004"]
    for text in letters.values():
        assert text.count("\f") == 1, "a convocation fits on one page"
        assert "Page 1 sur 1" in text

    certificate = pdf_text(out.documents["certificat"][0].with_suffix(".pdf"))
    info = certificat_info()
    assert certificate.count("\f") == 1, "the parchemin fits on one page"
    for expected in ["DURAND-LEFÈVRE", "Élodie", "née le 1er mars 1990 à Saint-Étienne (42)",
                     info.numero, info.code_verification, "Chef de Projet E-Commerce",
                     "Fait à Lyon, le 18 décembre 2026"]:
        assert expected in certificate, expected

    pv = pdf_text(out.documents["proces_verbal"][0].with_suffix(".pdf"))
    for name in ["Élodie MARTIN", "O'BRIEN & <FILS>", "Paul ABSENT", "Anne BERNARD"]:
        assert name in pv

    merged = pdf_text(out.fusions["convocation_candidat"].with_suffix(".pdf"))
    assert merged.count("\f") == 4
    assert merged.count("Page 1 sur 1") == 4  # each letter reads as it does alone


def test_missing_libreoffice_leaves_nothing(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def absent() -> str:
        raise LibreOfficeIntrouvable("LibreOffice est introuvable (commande « soffice ») : "
                                     "installez LibreOffice")

    _here(monkeypatch)
    monkeypatch.setattr(certidocs.libreoffice, "find_soffice", absent)
    outdir = tmp_path / "documents"
    jobs = _jobs(tmp_path)[:2]
    with pytest.raises(LibreOfficeIntrouvable) as failure:
        render_batch(jobs, [DEFAULTS], outdir, pdf=True)
    assert "LibreOffice est introuvable" in str(failure.value)
    assert not outdir.exists()


def test_failed_conversion_leaves_nothing(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(paths: list[Path], outdir: Path, **kw: Any) -> list[Path]:
        raise LibreOfficeError("LibreOffice a échoué (code 1) : aucun message")

    _here(monkeypatch)
    monkeypatch.setattr(certidocs.libreoffice, "convert_to_pdf", failing)
    monkeypatch.setattr(certidocs.uno_server.ConversionServer, "convert",
                        lambda self, paths, outdir, **kw: failing(paths, outdir))
    outdir = tmp_path / "documents"
    with pytest.raises(LibreOfficeError):
        render_batch(_jobs(tmp_path)[:2], [DEFAULTS], outdir, pdf=True)
    assert not outdir.exists()


def test_conversion_apart_gives_its_error_back(tmp_path: Path) -> None:
    """The conversion runs in a process of its own (CONVERSION_APART): what it raises is
    raised here, with where it happened there when it is a fault of certidocs."""
    besoin_libreoffice()
    from certidocs.documents.pdf import CONVERSION_APART, convert_batch
    from certidocs.documents.render import Fichiers

    assert CONVERSION_APART
    staging = tmp_path / "staging"
    staging.mkdir()
    with pytest.raises(FileNotFoundError) as failure:
        convert_batch({"proces_verbal": Fichiers(tmp_path / "absent", ["pv.docx"])}, {},
                      staging)
    assert "pv.docx" in str(failure.value)
    assert any("dans le processus de conversion" in note and "Traceback" in note
               for note in getattr(failure.value, "__notes__", []))


def test_conversion_process_that_dies_is_reported(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A conversion process that ends without an answer (killed, out of memory) is a
    LibreOfficeError in French, not a traceback."""
    import sys

    from certidocs.documents.pdf import convert_batch
    from certidocs.documents.render import Fichiers

    false = shutil.which("false")
    assert false is not None
    monkeypatch.setattr(sys, "executable", false)
    with pytest.raises(LibreOfficeError) as failure:
        convert_batch({"certificat": Fichiers(tmp_path, ["a.docx"])}, {}, tmp_path)
    assert "la conversion en PDF s'est arrêtée (code de sortie 1)" in str(failure.value)


def _processes_mentioning(text: str) -> dict[int, tuple[int, str]]:
    """pid → (parent pid, command line) of the processes whose command line holds ``text``
    (Linux /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if text in line:
            found[int(entry.name)] = (int(stat[stat.rindex(")") + 2:].split()[1]), line)
    return found


STOP_SECONDS = 30
"""How long a conversion whose caller was killed may take to stop: the calls under way end
first (at most CHUNKS_PER_CALL files of 100 certificates each, about 12 s on the 2-core
machine, against some 55 s for the rest of the test's batch, measured 01/12/2026)."""


def test_conversion_stops_when_its_caller_is_killed(tmp_path: Path) -> None:
    """A ``documents --pdf`` killed while it converts does not leave its conversion process
    working through the batch, nor LibreOffice running: they stop once the calls under way
    end (STOP_SECONDS), not at the end of the batch (60 conversion files of 100
    certificates, about a minute of work left)."""
    import os
    import signal
    import sys
    import time

    besoin_libreoffice()
    assert sys.platform.startswith("linux"), "the CI runs on Linux (PR_SET_PDEATHSIG)"
    tests = Path(__file__).resolve().parent
    caller = tmp_path / "appelant.py"
    caller.write_text(
        "import sys\n"
        f"sys.path[:0] = [{str(tests)!r}, {str(tests.parent)!r}]\n"
        "from pathlib import Path\n"
        "from test_documents_merge import certificate_jobs\n"
        "from test_documents_data import logo_png\n"
        "from certidocs.documents import default_templates_dir, render_batch\n"
        f"folder = Path({str(tmp_path)!r})\n"
        "jobs = certificate_jobs(6000, logo_png(folder / 'logo.png'))\n"
        "render_batch(jobs, [default_templates_dir()], folder / 'documents', pdf=True)\n",
        encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(caller)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    children: list[int] = []
    try:
        deadline = time.monotonic() + 240
        offices: dict[int, tuple[int, str]] = {}
        while time.monotonic() < deadline and not offices:
            assert proc.poll() is None, "the batch ended before it could be killed"
            children = [pid for pid, (parent, _) in _processes_mentioning("_apart_main").items()
                        if parent == proc.pid]
            offices = {pid: v for pid, v in _processes_mentioning(str(tmp_path)).items()
                       if "soffice" in v[1]}
            time.sleep(0.2)
        assert children and offices, "no conversion under way"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + STOP_SECONDS
        while time.monotonic() < deadline and (
                any(Path(f"/proc/{pid}").exists() for pid in children)
                or any(Path(f"/proc/{pid}").exists() for pid in offices)):
            time.sleep(0.5)
        left = [pid for pid in [*children, *offices] if Path(f"/proc/{pid}").exists()]
        assert not left, _processes_mentioning(str(tmp_path))
        assert not any("soffice" in line
                       for _, line in _processes_mentioning(str(tmp_path)).values())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in [*children, *_processes_mentioning(str(tmp_path))]:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def pdf_pages(path: Path) -> int:
    """The number of pages of a PDF (pdftotext ends each page with a form feed)."""
    return pdf_text(path).count("\f")


def test_merged_files_print_like_their_documents(tmp_path: Path) -> None:
    """In LibreOffice, a merged file shows every document in order and has exactly as many
    pages as its documents together (one LibreOffice run for singles and merged files)."""
    besoin_libreoffice()
    from test_documents_merge import certificate_jobs

    logo = logo_png(tmp_path / "logo.png")
    contexts = all_contexts(referentiel(), organisme(logo))
    jobs = certificate_jobs(3, logo) + [
        RenderJob(t, name, c) for t in ("convocation_jury", "fiche_resultats")
        for name, c in contexts[t]]
    out = render_batch(jobs, [DEFAULTS], tmp_path / "documents", pdf=True)
    holders = {"certificat": ["Titulaire1", "Titulaire2", "Titulaire3"],
               "convocation_jury": ["Anne BERNARD", "Moussa N'DIAYE", "Lucie LEROY"],
               "fiche_resultats": ["Élodie", "Seán", "Zoé"]}
    for type_nom, names in holders.items():
        merged = out.fusions[type_nom].with_suffix(".pdf")
        singles = [p.with_suffix(".pdf") for p in out.documents[type_nom]]
        assert pdf_pages(merged) == sum(pdf_pages(p) for p in singles), type_nom
        text = pdf_text(merged)
        positions = [text.find(name) for name in names]
        assert -1 not in positions and positions == sorted(positions), (type_nom, positions)
        # each document starts on a page of its own, numbered from 1 where there are numbers
        starts = [text.count("\f", 0, p) for p in positions]
        assert len(set(starts)) == len(starts)
    listing = subprocess.run(["pdfimages", "-list", str(out.fusions["certificat"].with_suffix(
        ".pdf"))], capture_output=True, check=True, timeout=60).stdout.decode().splitlines()[2:]
    pages = [int(line.split()[0]) for line in listing]
    assert sorted(pages) == [1, 1, 2, 2, 3, 3]  # a logo and a QR code on each certificate


def _pages(path: Path) -> list[str]:
    """The text of each page of a PDF (pdftotext's layout mode)."""
    return pdf_text(path).split("\f")[:-1]


def test_session_of_300_documents_to_pdf(tmp_path: Path) -> None:
    """300 documents (more than one LibreOffice call would convert, more than one chunk per
    type): every document gets its PDF, with the same pages and text as the document
    converted alone, and each print file holds its documents' pages in order."""
    besoin_libreoffice()
    from test_documents_merge import certificate_jobs

    from certidocs.documents.pdf import PDF_CHUNK

    logo = logo_png(tmp_path / "logo.png")
    contexts = all_contexts(referentiel(), organisme(logo))
    fiches = contexts["fiche_resultats"]
    jobs = certificate_jobs(PDF_CHUNK + 100, logo) + [
        RenderJob("fiche_resultats", f"fiche{i:03d}", fiches[i % len(fiches)][1])
        for i in range(299 - PDF_CHUNK - 100)] + [
        RenderJob("proces_verbal", name, c) for name, c in contexts["proces_verbal"]]
    assert len(jobs) == 300
    out = render_batch(jobs, [DEFAULTS], tmp_path / "documents", pdf=True)
    docs = [p for paths in out.documents.values() for p in paths]
    assert len(docs) == 300
    assert sorted(out.pdfs) == sorted(p.with_suffix(".pdf") for p in
                                      [*docs, *out.fusions.values()])
    certificates = out.documents["certificat"]
    sample = [certificates[0], certificates[PDF_CHUNK - 1], certificates[PDF_CHUNK],
              certificates[-1], *out.documents["fiche_resultats"][:3]]
    alone = certidocs.libreoffice.convert_to_pdf(sample, tmp_path / "seuls")
    for doc, single in zip(sample, alone, strict=True):
        assert _pages(doc.with_suffix(".pdf")) == _pages(single), doc.name
    assert f"Titulaire{PDF_CHUNK + 1}" in pdf_text(certificates[PDF_CHUNK].with_suffix(".pdf"))
    # Each certificate's PDF holds its own logo and QR code, not its chunk's 100 QR codes
    # (LibreOffice shares one resource dictionary between all the pages of a file).
    for doc in sample[:4]:
        listing = subprocess.run(["pdfimages", "-list", str(doc.with_suffix(".pdf"))],
                                 capture_output=True, check=True, timeout=60).stdout
        assert len(listing.decode().splitlines()[2:]) == 2, doc.name
        with pikepdf.open(doc.with_suffix(".pdf")) as pdf:
            images = [o for o in pdf.objects if isinstance(o, pikepdf.Stream)
                      and o.get("/Subtype") == "/Image"]
            kinds = [(str(i.get("/Filter")), int(i.get("/Width"))) for i in images]
        assert len(images) == 2, (doc.name, len(images))
        # Kept as drawn (8 px per module, lossless), not resampled to a 331 px JPEG.
        assert all(f == "/FlateDecode" for f, _ in kinds), (doc.name, kinds)
        with zipfile.ZipFile(doc) as package:  # the PNGs' widths (bytes 16-19 of a PNG)
            drawn = {int.from_bytes(package.read(n)[16:20], "big") for n in package.namelist()
                     if n.endswith(".png")}
        assert drawn and drawn <= {w for _, w in kinds}, (doc.name, drawn, kinds)
    for type_nom, merged in out.fusions.items():
        pages = _pages(merged.with_suffix(".pdf"))
        expected = [page for p in out.documents[type_nom] for page in _pages(
            p.with_suffix(".pdf"))]
        assert pages == expected, type_nom


def test_documents_converted_one_by_one_when_their_pages_cannot_be_told(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A conversion file whose PDF lost its bookmarks is never cut by guess: its documents are
    converted one by one; without print files, documents are converted as they are."""
    besoin_libreoffice()
    import certidocs.documents.pdf

    _here(monkeypatch)
    monkeypatch.setattr(certidocs.documents.pdf, "document_starts", lambda reader, count: None)
    jobs = [job for job in _jobs(tmp_path) if job.type == "convocation_candidat"]
    out = render_batch(jobs, [DEFAULTS], tmp_path / "documents", pdf=True)
    letters = [pdf_text(p.with_suffix(".pdf")) for p in out.documents["convocation_candidat"]]
    assert "Madame Élodie MARTIN" in letters[0] and "Monsieur Paul ABSENT" in letters[3]
    assert all(text.count("\f") == 1 and "Page 1 sur 1" in text for text in letters)
    merged = pdf_text(out.fusions["convocation_candidat"].with_suffix(".pdf"))
    assert merged.count("Page 1 sur 1") == 4 and merged.index("MARTIN") < merged.index("ABSENT")

    plain = render_batch(jobs[:2], [DEFAULTS], tmp_path / "sans-fusion", pdf=True,
                         merge_files=False)
    assert sorted(plain.pdfs) == sorted(p.with_suffix(".pdf")
                                        for p in plain.documents["convocation_candidat"])


def test_conversion_server_is_replaced_after_so_many_bytes_of_documents(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A LibreOffice process keeps memory from what it opened: it is replaced once the bodies
    of the files it converted reach SERVER_BODY_BYTES, whatever their number (the parts of a
    long procès-verbal), and not before."""
    besoin_libreoffice()
    besoin_uno()
    from certidocs.libreoffice import body_bytes

    out = render_batch(_jobs(tmp_path)[:3], [DEFAULTS], tmp_path / "documents")
    letters = out.documents["convocation_candidat"][:3]
    size = max(body_bytes(p) for p in letters)
    assert size > 1000
    for limit, processes in ((size * 3, 1), (size * 2, 2), (size, 3)):
        monkeypatch.setattr(certidocs.uno_server, "SERVER_BODY_BYTES", limit)
        with certidocs.uno_server.ConversionServer(tmp_path / f"serveur-{limit}") as server:
            done = server.convert(letters, tmp_path / f"pdf-{limit}", weights=[1, 1, 1])
            assert server._started == processes, limit
        assert all("Page 1 sur 1" in pdf_text(p) for p in done)


def test_conversion_server_is_replaced_after_so_many_images(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A LibreOffice process keeps the images it opened (each certificate's QR code is its
    own): it is replaced once the files it converted hold SERVER_IMAGES images."""
    besoin_libreoffice()
    besoin_uno()
    from test_documents_merge import certificate_jobs

    from certidocs.libreoffice import body_and_images

    out = render_batch(certificate_jobs(3, logo_png(tmp_path / "logo.png")), [DEFAULTS],
                       tmp_path / "documents")
    certificates = out.documents["certificat"]
    assert [body_and_images(p)[1] for p in certificates] == [2, 2, 2]  # logo and QR code
    for limit, processes in ((6, 1), (4, 2), (2, 3)):
        monkeypatch.setattr(certidocs.uno_server, "SERVER_IMAGES", limit)
        with certidocs.uno_server.ConversionServer(tmp_path / f"serveur-{limit}") as server:
            done = server.convert(certificates, tmp_path / f"pdf-{limit}", weights=[1, 1, 1])
            assert server._started == processes, limit
        assert all(pdf_text(p).count("\f") == 1 for p in done)


def test_a_large_document_is_converted_by_a_libreoffice_process_of_its_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A document of SERVER_ALONE_BYTES of body or more (a long procès-verbal, or one of its
    parts) gets a fresh LibreOffice process, replaced after it; smaller ones share one."""
    besoin_libreoffice()
    besoin_uno()
    from certidocs.libreoffice import body_bytes

    out = render_batch(_jobs(tmp_path), [DEFAULTS], tmp_path / "documents")
    small = out.documents["convocation_candidat"][:2]
    large = out.documents["proces_verbal"][0]
    assert body_bytes(large) > max(body_bytes(p) for p in small)
    files = [small[0], large, small[1]]
    for threshold, processes in ((body_bytes(large) + 1, 1), (body_bytes(large), 3)):
        monkeypatch.setattr(certidocs.uno_server, "SERVER_ALONE_BYTES", threshold)
        with certidocs.uno_server.ConversionServer(tmp_path / f"serveur-{threshold}") as server:
            done = server.convert(files, tmp_path / f"pdf-{threshold}", weights=[1, 1, 1])
            assert server._started == processes, threshold
        assert "Page 1 sur 1" in pdf_text(done[0]) and "Page 1 sur 1" in pdf_text(done[2])
        assert "Élodie MARTIN" in pdf_text(done[1])


def test_conversion_server_names_what_it_could_not_convert_and_goes_on(tmp_path: Path) -> None:
    """LibreOffice kept running (UNO): a file it cannot open is tried again by a fresh process,
    then named; nothing of the batch is left; the server converts the next files."""
    besoin_libreoffice()
    besoin_uno()
    jobs = _jobs(tmp_path)[:2]
    out = render_batch(jobs, [DEFAULTS], tmp_path / "documents")
    good = out.documents["convocation_candidat"][:2]
    broken = tmp_path / "abime.docx"
    broken.write_bytes(b"PK\x03\x04 ceci n'est pas un document Word")
    starts: list[int] = []
    with certidocs.uno_server.ConversionServer(tmp_path / "serveur") as server:
        real_start = server._start

        def starting() -> None:
            starts.append(1)
            real_start()

        server._start = starting  # type: ignore[method-assign]
        with pytest.raises(LibreOfficeError) as failure:
            server.convert([good[0], broken], tmp_path / "pdf", weights=[1, 1])
        assert "abime.docx" in str(failure.value) and "seconde tentative" in str(failure.value)
        assert not list((tmp_path / "pdf").iterdir())
        assert len(starts) == 2  # the second attempt had a fresh LibreOffice
        done = server.convert(good, tmp_path / "pdf", weights=[1, 1])
    assert [p.name for p in done] == [g.with_suffix(".pdf").name for g in good]
    assert [p.name for p in (tmp_path / "pdf").iterdir()] != []
    for doc, pdf in zip(good, done, strict=True):
        assert "Page 1 sur 1" in pdf_text(pdf)
        assert pdf_text(pdf) == pdf_text(certidocs.libreoffice.convert_to_pdf(
            [doc], tmp_path / "seul" / doc.stem)[0])
    assert not list((tmp_path / "serveur").glob("processus-*"))  # profiles removed


def test_conversion_server_replaces_a_libreoffice_that_died(tmp_path: Path) -> None:
    """LibreOffice killed between two files (a crash): the next file is converted by a fresh
    process, and the server stops cleanly at the end."""
    import os
    import signal

    besoin_libreoffice()
    besoin_uno()
    out = render_batch(_jobs(tmp_path)[:2], [DEFAULTS], tmp_path / "documents")
    first, second = out.documents["convocation_candidat"][:2]
    with certidocs.uno_server.ConversionServer(tmp_path / "serveur") as server:
        server.convert([first], tmp_path / "pdf", weights=[1])
        office = server._office
        assert office is not None
        os.killpg(office.pid, signal.SIGKILL)
        office.wait()
        done = server.convert([second], tmp_path / "pdf", weights=[1])
        assert server._started == 2 and server._office is not office
    assert "Page 1 sur 1" in pdf_text(done[0])
    assert sorted(p.name for p in (tmp_path / "pdf").iterdir()) == sorted(
        [first.with_suffix(".pdf").name, second.with_suffix(".pdf").name])


def test_conversion_server_without_a_bridge_converts_through_soffice(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bridge never comes up (here: run by a Python without ``uno``): the server stops
    being available and the files are converted by soffice calls, without a start per file."""
    import sys

    besoin_libreoffice()
    besoin_uno()
    monkeypatch.setattr(certidocs.uno_server, "BRIDGE_SECONDS", 5)
    out = render_batch(_jobs(tmp_path)[:2], [DEFAULTS], tmp_path / "documents")
    letters = out.documents["convocation_candidat"][:2]
    with certidocs.uno_server.ConversionServer(tmp_path / "serveur") as server:
        server._python = sys.executable  # certidocs's own interpreter: no ``uno`` module
        done = server.convert(letters, tmp_path / "pdf", weights=[1, 1])
        assert not server.available and server._started == 1
    assert [p.name for p in done] == [d.with_suffix(".pdf").name for d in letters]
    assert all("Page 1 sur 1" in pdf_text(p) for p in done)
