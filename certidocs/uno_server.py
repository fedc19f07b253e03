"""One LibreOffice process kept running for a whole batch of PDF conversions, driven through UNO.

``soffice --convert-to`` starts LibreOffice for every call: about 1.2 s of processor time
before the first page (measured 2026-11-30 on the 2-core machine: a one-letter call takes
1.40–1.45 s of CPU, a 200-letter file 4.4–5.1 s). A 1,000-candidate session's PDFs took about
thirteen calls, some 15 s of CPU out of 130. Here each LibreOffice process is started once and
given its conversion files one at a time through UNO (LibreOffice's own remote API, over a
local named pipe: nothing leaves the machine), so that the start-up is paid once per process
and per SERVER_FILES files (or SERVER_BODY_BYTES of documents, or SERVER_IMAGES images,
whichever comes first).

certidocs's interpreter usually cannot import ``uno`` (it comes with LibreOffice: Debian's
python3-uno, or the python bundled with LibreOffice on Windows and macOS), so the UNO calls are
made by certidocs/uno_bridge.py, run by the Python that has it (``uno_python``), and spoken to
through its standard input and output. Without such a Python, or when the bridge does not
come up, ``ConversionServer.available`` is False and the caller converts with
certidocs.libreoffice.convert_to_pdf as before: the result is the same, only slower.

Same guarantees as ``convert_to_pdf``: a private profile with certidocs's settings (no link
fetched, no macro, no update check, no report sent), external links stripped from the files
first, every output checked (complete PDF), a file that failed is tried once more by a fresh
process with a fresh profile, a time limit per file, outputs written under a temporary name
and moved into place.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from certidocs.errors import LibreOfficeError

SERVER_FILES = 20
"""Conversion files one LibreOffice process converts before it is replaced by a fresh one.
A long-lived process keeps memory from the documents it opened: converting the same
100-letter file again and again (30/11/2026), its RSS was 172 MiB after the first, 228 after
6, 260 after 11, then stayed near 270 MiB up to 40. Replacing it every 20 files bounds what
an unforeseen leak could take on a 10,000-candidate session (a hundred files per process)
while the start-up is paid once in twenty files."""

SERVER_BODY_BYTES = 16 << 20
"""Bytes of documents' bodies (``word/document.xml``, uncompressed) one LibreOffice process
converts before it is replaced, whatever the number of files: what it keeps grows with what it
opened, not with the number of files. The procès-verbal of 10,000 candidates is converted in
parts of about 4 MiB of body (certidocs.documents.parties), twice when its pages are
numbered: one process given its 8 parts one after the other went from 210 to 294 MiB
(01/12/2026), and the bench's largest LibreOffice from 282 MiB at 1,000 candidates (20
conversion files of 100 letters, 0.5 to 1.5 MiB of body each) to 363 MiB at 10,000. After 16
MiB, four parts, it held 271 MiB."""

SERVER_IMAGES = 500
"""Images (``word/media/``, each QR code one) one LibreOffice process converts before it is
replaced: it keeps the images it opened, and a certificate's QR code is its own. Converting
the 6,000 certificates of 10,000 candidates (60 conversion files of 100), LibreOffice's
largest process reached 335.5 MiB when replaced every 20 files, 318.9 every 10 and 295.7
every 5 (01/12/2026); at 1,000 candidates there are 6 such files in all. 500 is 4 files of
100 certificates (101 images: the logo is one image per file); letters, which have none but
the logo, are not concerned. With it, the 6,000 certificates took 261.6 MiB at most, and the
3,601 documents of 1,000 candidates 247.8 MiB (291.2 before, with SERVER_ALONE_BYTES)."""

SERVER_ALONE_BYTES = 2 << 20
"""Bytes of body (``word/document.xml``, uncompressed) from which a document is converted by a
LibreOffice process of its own, fresh, replaced after it: the procès-verbal of some 650
candidates or more, whole or in parts (certidocs.documents.parties). What LibreOffice keeps
of a document grows with the document: opened after others, a part of the procès-verbal of
10,000 candidates took the process from 210 to 294 MiB (see SERVER_BODY_BYTES), so that
the largest LibreOffice was that of the parts at 10,000 candidates and that of the letters at
1,000."""

BRIDGE_SECONDS = 60
"""How long the bridge waits for a new LibreOffice process to listen (its start-up is one
to three seconds; a loaded machine, a first start in a new profile, more)."""

PYTHON_CHECK_SECONDS = 20
"""How long the check that a Python can import ``uno`` may take."""

UNO_PYTHON_VARIABLE = "CERTIDOCS_PYTHON_UNO"
"""Environment variable naming the Python to run the bridge with; empty or « 0 »: never use
UNO (every conversion by ``soffice --convert-to``)."""


def _clean_env(home: Path | None = None) -> dict[str, str]:
    """certidocs's environment without what points Python at certidocs's own interpreter
    (the bridge runs under another one), with a private HOME when given."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
    if home is not None:
        env["HOME"] = str(home)
    env["SAL_USE_VCLPLUGIN"] = "svp"
    return env


@functools.cache
def uno_python(soffice: str) -> str | None:
    """A Python interpreter that can import ``uno`` for the LibreOffice at ``soffice``: the one
    named by CERTIDOCS_PYTHON_UNO, else the python LibreOffice ships beside soffice (Windows,
    macOS, LibreOffice's own Linux packages), else the system's python3 (Debian and Ubuntu's
    python3-uno). None when there is none, or when CERTIDOCS_PYTHON_UNO is empty or « 0 »."""
    named = os.environ.get(UNO_PYTHON_VARIABLE)
    if named is not None:
        candidates = [] if named.strip() in ("", "0") else [named]
    else:
        program = Path(soffice).resolve().parent
        candidates = [str(program / "python"), str(program / "python.exe"),
                      "/usr/bin/python3", "/usr/local/bin/python3"]
    for candidate in candidates:
        if not Path(candidate).is_file():
            continue
        try:
            done = subprocess.run([candidate, "-c", "import uno"], capture_output=True,
                                  timeout=PYTHON_CHECK_SECONDS, env=_clean_env(),
                                  stdin=subprocess.DEVNULL, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return candidate
    return None


class ConversionServer:
    """A LibreOffice process converting Word files to PDF one after the other, restarted every
    SERVER_FILES files, SERVER_BODY_BYTES of documents' bodies or SERVER_IMAGES images, and
    after any failure; a
    document of SERVER_ALONE_BYTES or more is converted by a process of its own. Used
    by one thread at a time; ``close`` (or the ``with`` block's end) stops it.

    ``folder`` holds its profiles and working files (the caller's, removed by the caller).
    """

    def __init__(self, folder: Path) -> None:
        from certidocs.libreoffice import find_soffice

        self.folder = folder.resolve()
        self._soffice = find_soffice()
        self._python = uno_python(self._soffice)
        self._started = 0  # processes started, for their profiles' and pipes' names
        self._served = 0  # files converted by the current process
        self._served_bytes = 0  # and the bytes of their bodies
        self._served_images = 0  # and their images
        self._alone = False  # whether the last one was converted alone (SERVER_ALONE_BYTES)
        self._office: subprocess.Popen[bytes] | None = None
        self._bridge: subprocess.Popen[str] | None = None
        self._answers: queue.Queue[str | None] = queue.Queue()
        self.available = self._python is not None

    def __enter__(self) -> ConversionServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def convert(self, paths: Sequence[Path], outdir: Path, *, weights: Sequence[int],
                destinations: bool = False) -> list[Path]:
        """PDF of each .docx of ``paths`` in ``outdir`` (same names, .pdf), in order. Each file
        has STARTUP_SECONDS (when a process must start for it) plus SECONDS_PER_FILE for each
        document it holds (``weights``). A file that fails is tried once more by a fresh
        process with a fresh profile; LibreOfficeError names those that still failed, and
        nothing of theirs is left in ``outdir``. Raises LibreOfficeError at once, before any
        conversion, when the server is not ``available``. When the bridge does not come up,
        the server stops being ``available`` and this file and the next ones are converted
        by ``convert_to_pdf`` (soffice calls), as its callers do without UNO."""
        from certidocs.libreoffice import (
            FAILED_SHOWN,
            SECONDS_PER_FILE,
            STARTUP_SECONDS,
            _complete,
            _without_links,
            body_and_images,
            convert_to_pdf,
        )

        if not self.available:
            raise LibreOfficeError("LibreOffice ne peut pas être piloté par UNO ici")
        outdir.mkdir(parents=True, exist_ok=True)
        out: list[Path] = []
        failed: list[tuple[Path, str]] = []
        work = self.folder / "fichiers"
        for index, (path, weight) in enumerate(zip(paths, weights, strict=True)):
            source = _without_links([path.resolve()], work)[0]
            target = outdir.resolve() / path.with_suffix(".pdf").name
            partial = target.with_name(f".{target.stem}.en-cours.pdf")
            reason = ""
            size, images = body_and_images(source)
            alone = size >= SERVER_ALONE_BYTES
            for attempt in (1, 2):
                if attempt == 2 or self._served >= SERVER_FILES or (self._served and (
                        alone or self._alone or self._served_bytes + size > SERVER_BODY_BYTES
                        or self._served_images + images > SERVER_IMAGES)):
                    self.close()
                limit = SECONDS_PER_FILE * max(1, weight)
                try:
                    if self._office is None:
                        self._start()
                        limit += STARTUP_SECONDS
                    reason = self._ask({"source": str(source), "cible": str(partial),
                                        "destinations": destinations}, limit)
                except LibreOfficeError as exc:
                    reason = str(exc)
                    self.close()
                    if not self.available:
                        break
                self._served += 1
                self._served_bytes += size
                self._served_images += images
                self._alone = alone
                if not reason and _complete(partial, "pdf"):
                    os.replace(partial, target)
                    out.append(target)
                    break
                reason = reason or "PDF incomplet"
                partial.unlink(missing_ok=True)
            else:
                failed.append((path, reason))
            if not self.available:  # the bridge did not come up: soffice for the rest
                try:
                    out += convert_to_pdf(list(paths[index:]), outdir,
                                          weights=list(weights[index:]),
                                          destinations=destinations)
                except LibreOfficeError:
                    for done in out:
                        done.unlink(missing_ok=True)
                    raise
                break
        if failed:
            for done in out:
                done.unlink(missing_ok=True)
            shown = ", ".join(p.name for p, _ in failed[:FAILED_SHOWN])
            more = (f" et {len(failed) - FAILED_SHOWN} autre(s)"
                    if len(failed) > FAILED_SHOWN else "")
            reasons = "; ".join(dict.fromkeys(r for _, r in failed if r))
            raise LibreOfficeError(f"LibreOffice n'a pas converti : {shown}{more}, sur "
                                   f"{len(paths)} fichier(s), même après une seconde "
                                   f"tentative ({reasons})")
        return out

    def _start(self) -> None:
        """A fresh LibreOffice process, with a fresh profile, and its bridge, connected."""
        from certidocs.libreoffice import INSTALL_HINT, soffice_options

        assert self._python is not None
        self._started += 1
        home = self.folder / f"processus-{self._started}"
        pipe = f"certidocs-{os.getpid()}-{id(self):x}-{self._started}"
        env = _clean_env(home)
        try:
            self._office = subprocess.Popen(
                [self._soffice, *soffice_options(home), f"--accept=pipe,name={pipe};urp;"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, env=env, start_new_session=True)
            self._bridge = subprocess.Popen(
                [self._python, str(Path(__file__).with_name("uno_bridge.py")), pipe,
                 str(BRIDGE_SECONDS)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                text=True, encoding="utf-8", env=env, start_new_session=True)
        except OSError as exc:
            self.close()
            raise LibreOfficeError(f"LibreOffice ne démarre pas ({exc.strerror}) : "
                                   f"{INSTALL_HINT}") from None
        self._served = self._served_bytes = self._served_images = 0
        self._alone = False
        self._answers = queue.Queue()
        threading.Thread(target=self._listen, args=(self._bridge, self._answers),
                         daemon=True).start()
        word = self._answer(BRIDGE_SECONDS + 5)
        if word != "pret":
            self.close()
            self.available = False
            raise LibreOfficeError(f"LibreOffice n'a pas démarré ({word})")

    @staticmethod
    def _listen(bridge: subprocess.Popen[str], answers: queue.Queue[str | None]) -> None:
        """Hand the bridge's answer lines over to ``_answer``; None when it stops."""
        from certidocs.uno_bridge import PREFIX

        assert bridge.stdout is not None
        for line in bridge.stdout:
            if line.startswith(PREFIX):
                answers.put(line[len(PREFIX):].strip())
        answers.put(None)

    def _answer(self, limit: float) -> str:
        """The bridge's next answer; « arrêté » when it stopped, « délai » after ``limit``
        seconds."""
        try:
            word = self._answers.get(timeout=limit)
        except queue.Empty:
            return "délai"
        return "arrêté" if word is None else word

    def _ask(self, request: dict[str, object], limit: float) -> str:
        """Send one conversion; "" when done, else why not."""
        assert self._bridge is not None and self._bridge.stdin is not None
        try:
            self._bridge.stdin.write(json.dumps(request) + "\n")
            self._bridge.stdin.flush()
        except OSError:
            raise LibreOfficeError("LibreOffice s'est arrêté") from None
        began = time.monotonic()
        word = self._answer(limit)
        if word == "fait":
            return ""
        if word == "délai":
            raise LibreOfficeError(f"LibreOffice n'a pas terminé en {limit:.0f} secondes : "
                                   "conversion abandonnée (un fichier est peut-être trop gros "
                                   "ou endommagé)")
        if word == "arrêté":
            raise LibreOfficeError(f"LibreOffice s'est arrêté après "
                                   f"{time.monotonic() - began:.0f} s")
        return word.removeprefix("erreur").strip() or "erreur"

    def close(self) -> None:
        """Stop the bridge and its LibreOffice (asked first, killed if they linger)."""
        from certidocs.libreoffice import _kill

        bridge, office = self._bridge, self._office
        self._bridge = self._office = None
        if bridge is not None:
            with contextlib.suppress(OSError):
                assert bridge.stdin is not None
                bridge.stdin.close()  # the bridge asks LibreOffice to quit
            try:
                bridge.wait(timeout=QUIT_SECONDS)
            except subprocess.TimeoutExpired:
                _kill(bridge)  # type: ignore[arg-type]
                bridge.wait()
        if office is not None:
            try:
                office.wait(timeout=QUIT_SECONDS)
            except subprocess.TimeoutExpired:
                _kill(office)
                office.wait()
        if self._started:
            shutil.rmtree(self.folder / f"processus-{self._started}", ignore_errors=True)


QUIT_SECONDS = 10
"""How long a LibreOffice process asked to quit may take before it is killed."""
