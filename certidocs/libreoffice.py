"""LibreOffice headless: recalculate workbooks and convert documents to PDF, in batches.

Each call starts one soffice process per batch of files (starting LibreOffice costs seconds,
converting a file a fraction of one; batches are bounded, see BATCH_FILES, and spread over
several processes when asked) with a private, throw-away profile: it never touches the
user's own LibreOffice settings, never hands the work to a LibreOffice window already open,
and carries the one setting certidocs needs — recalculate every formula when loading an Excel
file, which LibreOffice does not do by default (it trusts the values cached in the file, and
files written by openpyxl have none).

Outputs are written to a temporary folder inside ``outdir`` then moved into place, so that an
interrupted conversion never leaves a half-written file under its final name.
"""

from __future__ import annotations

import array
import contextlib
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from certidocs.errors import LibreOfficeError, LibreOfficeIntrouvable

INSTALL_HINT = ("installez LibreOffice : sous Debian ou Ubuntu, "
                "« apt-get install libreoffice-calc-nogui libreoffice-writer-nogui » ; "
                "sous Windows ou macOS, depuis https://fr.libreoffice.org")

# org.openoffice.Office.Calc/Formula/Load: 0 = always recalculate, 1 = never, 2 = ask.
# Asking is impossible headless and « never » is the default for Excel files.
_REGISTRY = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
           xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" \
oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" \
oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop \
oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop \
oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Writer/Content/Update"><prop oor:name="Link" \
oor:op="fuse"><value>2</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Content/Update"><prop oor:name="Link" \
oor:op="fuse"><value>2</value></prop></item>
<item oor:path="/org.openoffice.Office.Jobs/Jobs/org.openoffice.Office.Jobs:Job['UpdateCheck']/\
Arguments"><prop oor:name="AutoCheckEnabled" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="CollectUsageInformation" \
oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="CrashReport" \
oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""
# Besides: never load a linked file (Writer and Calc « update links »: 2 = never), block links
# from documents outside trusted locations (none are set), no update check, no usage or crash
# report. Documents are also stripped of their external links before conversion
# (strip_external_links): certidocs never makes LibreOffice reach the network.

STARTUP_SECONDS = 60
SECONDS_PER_FILE = 20


def find_soffice() -> str:
    """The LibreOffice executable; LibreOfficeIntrouvable, saying how to install it, if none."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    for usual in (Path("/Applications/LibreOffice.app/Contents/MacOS/soffice"),
                  Path(os.environ.get("PROGRAMFILES", r"C:\Program Files"))
                  / "LibreOffice" / "program" / "soffice.exe"):
        if usual.is_file():
            return str(usual)
    raise LibreOfficeIntrouvable(f"LibreOffice est introuvable (commande « soffice ») : "
                                 f"{INSTALL_HINT}")


def recalculate(paths: list[Path], outdir: Path, *, timeout: float | None = None) -> list[Path]:
    """Open each .xlsx in LibreOffice, recalculate every formula, save it as .xlsx in ``outdir``.

    Returns the output paths, in the order of ``paths`` (same file names). ``outdir`` must not
    be the folder of an input: the originals (jurors' files) are never overwritten.
    """
    return _convert(paths, outdir, "xlsx", "xlsx:Calc MS Excel 2007 XML", timeout)


def convert_to_pdf(paths: list[Path], outdir: Path, *, timeout: float | None = None,
                   processes: int = 1, weights: list[int] | None = None,
                   destinations: bool = False, profile: Path | None = None) -> list[Path]:
    """Convert each document (.docx, .xlsx, .odt…) to PDF in ``outdir``, in batches (see
    ``_convert``): ``processes`` LibreOffice processes at once, ``weights`` the documents each
    file holds. With ``destinations`` (Word files only), every bookmark becomes a named
    destination of the PDF, pointing at its page. ``profile``, with one process, is a folder
    kept by the caller between calls: LibreOffice's profile is made there once and used again
    (a first start in a new profile costs about 0.5 s of processor time more); a batch that
    fails is still retried in a fresh one.

    Returns the PDF paths, in the order of ``paths``.
    """
    target = "pdf"
    if destinations or all(p.suffix.lower() in WRITER_SUFFIXES for p in paths):
        options = {**WRITER_PDF_OPTIONS, **({"ExportBookmarksToPDFDestination": True}
                                            if destinations else {})}
        target = "pdf:writer_pdf_Export:" + json.dumps(
            {k: {"type": "boolean", "value": "true" if v else "false"}
             for k, v in options.items()})
    return _convert(paths, outdir, "pdf", target, timeout, processes=processes,
                    weights=weights, profile=profile if processes <= 1 else None)


WRITER_SUFFIXES = (".docx", ".dotx", ".docm", ".doc", ".odt", ".rtf")
"""Files Writer opens: their PDF takes WRITER_PDF_OPTIONS."""

WRITER_PDF_OPTIONS = {"ReduceImageResolution": False}
"""Writer's PDF export options, in every conversion of Word files (certidocs.uno_bridge sets
the same). By default LibreOffice resamples every image to 300 dpi and stores it as JPEG: a
certificate's QR code (584 px, 8 px per module, lossless PNG) became a 331 px JPEG, and that
resampling took half the conversion time of a certificate (100 certificates: 4.6 s against
2.5 s, 30/11/2026). Kept as it is, the code is stored lossless (Flate) and each
certificate's PDF is smaller (11 KB of image against 37)."""
"""Writer's PDF export option (JSON, LibreOffice ≥ 7.4) exporting bookmarks as named
destinations: how a PDF of many documents tells where each one starts."""


_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_HYPERLINK = f"{_R}/hyperlink"  # a link the reader clicks: never fetched by a conversion
# Field instructions that make Word or LibreOffice load a file or an address.
_LOADING_FIELD = re.compile(r"^\s*(INCLUDEPICTURE|INCLUDETEXT|INCLUDE|LINK|IMPORT|DDEAUTO|DDE|RD)"
                            r"\b", re.IGNORECASE)


SCAN_BYTES = 1 << 20
"""Bytes of a package's part read at a time when looking for fields: the body of the
procès-verbal of 10,000 candidates is 32 MB, and it holds none."""


def _holds(zf: Any, member: str, needle: bytes) -> bool:
    """Whether ``member`` of the zip ``zf`` holds ``needle``, read SCAN_BYTES at a time."""
    tail = b""
    with zf.open(member) as fh:
        while block := fh.read(SCAN_BYTES):
            if needle in tail + block[:len(needle)] or needle in block:
                return True
            tail = block[-len(needle) + 1:]
    return False


def strip_external_links(data: bytes) -> tuple[bytes, list[str]]:
    """An Office package without what makes a reader fetch a file or an address: images, OLE
    objects, attached templates, subdocuments, frames and fonts linked by address (external
    relationships other than hyperlinks, and the elements using them), and fields loading
    files (INCLUDEPICTURE, INCLUDETEXT, LINK, DDE…). Returns the package (``data`` itself when
    there was nothing to remove) and the addresses removed."""
    import io
    import zipfile

    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    removed: list[str] = []
    changed: dict[str, bytes] = {}
    dropped: dict[str, set[str | None]] = {}  # part → ids of its relationships removed
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            if not name.endswith(".rels"):
                continue
            rels = etree.fromstring(zf.read(name), parser)
            folder, _, rels_name = name.rpartition("_rels/")
            owner = folder + rels_name[:-len(".rels")]
            for rel in list(rels):
                if rel.get("TargetMode") == "External" and rel.get("Type") != _HYPERLINK:
                    dropped.setdefault(owner, set()).add(rel.get("Id"))
                    removed.append(rel.get("Target", ""))
                    rels.remove(rel)
            if owner in dropped:
                changed[name] = _xml_bytes(rels)
        for name in zf.namelist():
            if not name.endswith(".xml"):
                continue
            if name not in dropped and not _holds(zf, name, b"instr"):
                continue
            part = etree.fromstring(zf.read(name), parser)
            if _unlink(part, dropped.get(name, set()), removed):
                changed[name] = _xml_bytes(part)
        if not changed:
            return data, removed
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zf.infolist():
                zout.writestr(info, changed.get(info.filename) or zf.read(info))
    return out.getvalue(), removed


def _xml_bytes(root: Any) -> bytes:
    from lxml import etree

    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


def _unlink(part: Any, dropped: set[str | None], removed: list[str]) -> bool:
    """Remove from ``part`` what refers to the ``dropped`` relationships, and loading fields."""
    found = False
    for element in list(part.iter()):
        if not isinstance(element.tag, str):
            continue
        for attribute, value in list(element.attrib.items()):
            if attribute.startswith(f"{{{_R}}}") and value in dropped:
                found = True
                if attribute == f"{{{_R}}}link":
                    del element.attrib[attribute]  # the picture keeps its embedded copy, if any
                elif element.getparent() is not None:
                    element.getparent().remove(element)
                    break
        if element.tag.endswith("}instrText") and _LOADING_FIELD.match(element.text or ""):
            removed.append((element.text or "").strip())
            element.text = " "
            found = True
        instr = next((k for k in element.attrib if k.endswith("}instr")), None)
        if instr and _LOADING_FIELD.match(element.get(instr, "")):
            removed.append(element.get(instr, "").strip())
            element.set(instr, " ")
            found = True
    return found


BATCH_FILES = 100
"""Most files given to one soffice call. LibreOffice 7.4, handed a few hundred files in one
``--convert-to`` call, silently stops after about 243 of them and still exits 0; 100 stays well
clear of that, bounds what a retry redoes and what a crash loses, and still spreads one start-up
(one to three seconds) over many files."""

PDF_END = b"%%EOF"  # a PDF LibreOffice finished writing ends with it (a crash leaves a stub)


def _batches(count: int, weights: list[int], processes: int) -> list[list[int]]:
    """Indexes ``0..count-1`` cut into consecutive batches: at most BATCH_FILES files each,
    and at least ``processes`` batches of about the same weight when there are enough files,
    so that every LibreOffice process gets a share."""
    total = sum(weights)
    wanted = max(-(-count // BATCH_FILES), min(processes, count))
    share = total / wanted if wanted else 0
    out: list[list[int]] = [[]]
    load = 0
    for i in range(count):
        if out[-1] and (len(out[-1]) >= BATCH_FILES
                        or (load + weights[i] / 2 > share and len(out) < wanted)):
            out.append([])
            load = 0
        out[-1].append(i)
        load += weights[i]
    return out


def body_bytes(path: Path) -> int:
    """The uncompressed size of the body (``word/document.xml``) of the .docx ``path``, read
    from the zip's directory (nothing decompressed); 0 when it cannot be read (LibreOffice
    will say why). What a conversion's time limit (certidocs.documents.pdf.document_weight)
    and a LibreOffice process's renewal (uno_server.SERVER_BODY_BYTES) are measured in."""
    return body_and_images(path)[0]


def body_and_images(path: Path) -> tuple[int, int]:
    """(``body_bytes``, number of images in ``word/media/``) of the .docx ``path``, from one
    read of the zip's directory; (0, 0) when it cannot be read. A LibreOffice process's
    renewal counts both (uno_server.SERVER_BODY_BYTES, SERVER_IMAGES): a print file of 100
    certificates holds 100 QR codes."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            body = zf.getinfo("word/document.xml").file_size
    except (OSError, KeyError, zipfile.BadZipFile):
        return 0, 0
    return body, sum(1 for name in names if name.startswith("word/media/"))


def _complete(path: Path, extension: str) -> bool:
    """Whether LibreOffice finished writing ``path``."""
    try:
        size = path.stat().st_size
        if size == 0:
            return False
        if extension != "pdf":
            return True
        with path.open("rb") as handle:
            handle.seek(max(0, size - 1024))
            return PDF_END in handle.read()
    except OSError:
        return False


def _convert(paths: list[Path], outdir: Path, extension: str, target: str,
             timeout: float | None, *, processes: int = 1,
             weights: list[int] | None = None, profile: Path | None = None) -> list[Path]:
    """Convert ``paths`` into ``outdir``, in batches of at most BATCH_FILES files spread over
    ``processes`` LibreOffice processes (each with its own throw-away profile). Each batch's
    outputs are checked; the files a batch did not convert are tried once more, by a fresh
    process with a fresh profile; those that still fail are named in LibreOfficeError and
    nothing is moved into ``outdir``. ``weights`` (documents held by each file) sizes the
    batches and their time limit; ``timeout``, when given, is the limit of each call.
    ``profile`` (one process only) is where the first attempts keep their profile."""
    if not paths:
        return []
    soffice = find_soffice()
    sources = [p.resolve() for p in paths]
    for src in sources:
        if not src.is_file():
            raise LibreOfficeError(f"{src} : fichier introuvable, rien n'a été converti")
    outdir.mkdir(parents=True, exist_ok=True)
    out = outdir.resolve()
    names = [src.with_suffix(f".{extension}").name for src in sources]
    if len(set(names)) != len(names):
        doubles = sorted({n for n in names if names.count(n) > 1})
        raise LibreOfficeError(f"plusieurs fichiers donneraient le même résultat "
                               f"({', '.join(doubles)}) : convertissez-les séparément")
    for src, name in zip(sources, names, strict=True):
        if out / name == src:
            raise LibreOfficeError(f"{src} : le résultat remplacerait l'original ; choisissez "
                                   "un autre dossier de sortie")
    weights = weights or [1] * len(sources)
    batches = _batches(len(sources), weights, max(1, processes))
    with tempfile.TemporaryDirectory(prefix="certidocs-lo-") as tmp:
        sources = _without_links(sources, Path(tmp) / "sources")
        with tempfile.TemporaryDirectory(prefix=".certidocs-", dir=out) as staging:
            def run(number: int) -> tuple[list[int], str]:
                """Convert one batch, its failures once more; what still failed, and why."""
                todo, reason = batches[number], ""
                for attempt in (1, 2):
                    # The caller's profile first, when it keeps one; then a fresh one.
                    home = (profile if profile is not None and attempt == 1
                            else Path(tmp) / f"lot-{number}-{attempt}")
                    folder = Path(staging) / f"lot-{number}-{attempt}"
                    folder.mkdir()
                    limit = timeout if timeout is not None else (
                        STARTUP_SECONDS + SECONDS_PER_FILE * sum(weights[i] for i in todo))
                    try:
                        reason = _convert_once(soffice, [sources[i] for i in todo], target,
                                               folder, home, limit)
                    except LibreOfficeError as exc:
                        reason = str(exc)
                    for i in todo:
                        produced = folder / names[i]
                        if _complete(produced, extension):
                            os.replace(produced, Path(staging) / names[i])
                    todo = [i for i in todo if not (Path(staging) / names[i]).is_file()]
                    if not todo:
                        return [], ""
                return todo, reason

            if len(batches) == 1 or processes <= 1:
                outcomes = [run(k) for k in range(len(batches))]
            else:
                from concurrent.futures import ThreadPoolExecutor

                with ThreadPoolExecutor(min(processes, len(batches))) as pool:
                    outcomes = list(pool.map(run, range(len(batches))))
            failed = [i for todo, _ in outcomes for i in todo]
            if failed:
                shown = ", ".join(sources[i].name for i in failed[:FAILED_SHOWN])
                more = (f" et {len(failed) - FAILED_SHOWN} autre(s)"
                        if len(failed) > FAILED_SHOWN else "")
                reasons = "; ".join(dict.fromkeys(r for todo, r in outcomes if todo and r))
                detail = f" ({reasons})" if reasons else ""
                raise LibreOfficeError(
                    f"LibreOffice n'a pas converti : {shown}{more}, sur {len(sources)} "
                    f"fichier(s), même après une seconde tentative{detail}")
            results = []
            for name in names:
                final = out / name
                os.replace(Path(staging) / name, final)
                results.append(final)
    return results


FAILED_SHOWN = 10
"""Files named when a conversion fails: the rest are counted (a short message, not hundreds
of names)."""


def _convert_once(soffice: str, sources: list[Path], target: str, folder: Path, home: Path,
                  limit: float) -> str:
    """One soffice call over ``sources`` into ``folder``, with the profile in ``home`` (made
    there, with certidocs's settings, when it is not there yet)."""
    home = home.resolve()  # a file URI and a HOME are absolute; a session folder may not be
    command = [soffice, *soffice_options(home), "--convert-to", target, "--outdir",
               str(folder), *map(str, sources)]
    return _run(command, limit, home)


def soffice_options(home: Path) -> list[str]:
    """The options every soffice started by certidocs takes: the profile in ``home``
    (absolute; made there with certidocs's settings, _REGISTRY, when it is not there yet),
    no window, no start-up document, no recovery, no lock check."""
    profile = home / "profil"
    settings = profile / "user" / "registrymodifications.xcu"
    if not settings.is_file():
        settings.parent.mkdir(parents=True, exist_ok=True)
        settings.write_text(_REGISTRY, encoding="utf-8")
    return [f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible",
            "--nologo", "--nodefault", "--norestore", "--nolockcheck"]


FONT_PACKAGES = ("fonts-liberation2 (Arial, Times), fonts-noto-cjk (idéogrammes chinois, "
                 "japonais, coréens, hors plan de base compris), fonts-symbola (symboles et "
                 "émojis)")
"""Debian packages installed by .ci/run and advised by the README, named in warnings."""


@functools.cache
def _installed_coverage() -> list[tuple[int, int]] | None:
    """Every code point some installed font can draw, as sorted ranges, from fontconfig (which
    LibreOffice asks for a fallback font); None when fontconfig is not there to ask."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        output = subprocess.run([fc_list, "--format", "%{charset}\\n"], capture_output=True,
                                timeout=60, check=True).stdout.decode("ascii", "replace")
    except (OSError, subprocess.SubprocessError):
        return None
    # The 80,000 ranges of every font are packed as numbers (first << 21 | last) rather than
    # tuples: the few thousand merged ranges kept for the process would otherwise pin the
    # memory of the tuples around them (10 MiB of the main process, 30/11/2026).
    packed = array.array("q")
    for token in output.split():
        first, _, last = token.partition("-")
        try:
            packed.append(int(first, 16) << 21 | int(last or first, 16))
        except ValueError:
            continue
    del output
    lows, highs = array.array("q"), array.array("q")
    for value in sorted(packed):
        low, high = value >> 21, value & ((1 << 21) - 1)
        if highs and low <= highs[-1] + 1:
            highs[-1] = max(highs[-1], high)
        else:
            lows.append(low)
            highs.append(high)
    del packed
    return list(zip(lows.tolist(), highs.tolist(), strict=True))


@dataclass(frozen=True)
class FontCoverage:
    """What the installed fonts can draw: sorted, disjoint ranges of code points (``starts``
    and ``ends``, inclusive); empty when fontconfig cannot be asked."""

    starts: tuple[int, ...] = ()
    ends: tuple[int, ...] = ()

    def draws(self, code: int) -> bool:
        """Whether some installed font has the code point ``code``."""
        import bisect

        at = bisect.bisect_right(self.starts, code) - 1
        return at >= 0 and code <= self.ends[at]


def font_coverage() -> FontCoverage:
    """What the installed fonts can draw, for ``characters_without_font``, ready to search
    (fontconfig is asked once per process: ``_installed_coverage``)."""
    ranges = _installed_coverage() or []
    return FontCoverage(tuple(low for low, _ in ranges), tuple(high for _, high in ranges))


def characters_without_font(characters: set[str],
                            coverage: FontCoverage | None = None) -> list[str]:
    """The characters of ``characters`` no installed font can draw: LibreOffice drops them
    from a PDF without a word. Empty when fontconfig cannot be asked (Windows, macOS: their
    own fallback fonts cover far more). ``coverage`` (``font_coverage``) is asked for when not
    given: a caller checking many documents prepares it once. Prepared for each document (the
    list of the ranges' starts made again), it took 31 s of the 55 s the font check took on
    8,000 letters (profiled, 30/11/2026), on a thread beside LibreOffice's conversions."""
    if coverage is None:
        coverage = font_coverage()
    if not coverage.starts:
        return []
    missing = []
    for char in sorted(characters):
        code = ord(char)
        if code < 0x20 or char.isspace() or 0xFE00 <= code <= 0xFE0F or code == 0x200D:
            continue  # controls, spaces, variation selectors and joiners draw nothing
        if not coverage.draws(code):
            missing.append(char)
    return missing


def _without_links(sources: list[Path], folder: Path) -> list[Path]:
    """``sources``, a Word or Excel file holding external links replaced by a copy without
    them (in ``folder``, same name: the output is named after it); the originals untouched."""
    out = []
    for src in sources:
        if src.suffix.lower() not in (".docx", ".dotx", ".xlsx", ".docm", ".xlsm"):
            out.append(src)
            continue
        data = src.read_bytes()
        try:
            clean, _ = strip_external_links(data)
        except Exception:  # not a package we can read: LibreOffice will say so
            clean = data
        if clean is data:
            out.append(src)
            continue
        folder.mkdir(exist_ok=True)
        copy = folder / src.name
        copy.write_bytes(clean)
        out.append(copy)
    return out


def _run(command: list[str], limit: float, home: Path) -> str:
    """Run soffice; its last output lines when it fails. Killed with its children on timeout."""
    # A private HOME too: some LibreOffice builds write caches there whatever the profile.
    env = {**os.environ, "HOME": str(home), "SAL_USE_VCLPLUGIN": "svp"}
    try:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    except OSError as exc:
        raise LibreOfficeError(f"LibreOffice ne démarre pas ({exc.strerror}) : {INSTALL_HINT}"
                               ) from None
    try:
        output, _ = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        _kill(proc)
        proc.communicate()
        raise LibreOfficeError(f"LibreOffice n'a pas terminé en {limit:.0f} secondes : "
                               "conversion abandonnée (un fichier est peut-être trop gros ou "
                               "endommagé)") from None
    text = output.decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        raise LibreOfficeError(f"LibreOffice a échoué (code {proc.returncode}) : "
                               f"{_tail(text) or 'aucun message'}")
    return _tail(text) if "Error" in text else ""


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Stop soffice and the helper processes it started (the group it leads is ours)."""
    if sys.platform == "win32":
        proc.kill()
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def _tail(text: str, lines: int = 3) -> str:
    return " | ".join(text.splitlines()[-lines:])
