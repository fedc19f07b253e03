"""Hardening — documents: names are printed, never run; file names are safe; a crash leaves no
half-written document; secrets stay out of every document.

Through `certidocs documents` on real sessions (the stable interface); the document files are
reopened as zips and their text read from word/document.xml.
"""

from __future__ import annotations

import base64
import html
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from docx import Document
from hypothesis import given, settings
from hypothesis import strategies as st
from sessiondata import CANDIDATS, JURY, fill_grids, make_session, with_changes

from certidocs.cli import main
from certidocs.documents import safe_filename
from certidocs.registre import Registre
from certidocs.signature import ensure_keys
from certidocs.workspace import SECRET_NAME

JINJA_NOM = "{{ 7*7 }}"
JINJA_PRENOM = "{% for x in range(3) %}Zoé{% endfor %}"
XML_USAGE = "<w:t>Dupont & Fils</w:t>"
JINJA_LIEU = "{{ config }}{{ ''.__class__ }}"


def _workspace(root: Path, password: str = "jury") -> Path:
    (root / "certidocs.toml").write_text(f'[grilles]\nmot_de_passe = "{password}"\n',
                                         encoding="utf-8")
    ensure_keys(root)
    return root


def _paragraphs(path: Path) -> list[str]:
    """The text of each paragraph of a .docx (body, headers and footers)."""
    out: list[str] = []
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if re.fullmatch(r"word/(document|header\d*|footer\d*)\.xml", name):
                xml = zf.read(name).decode("utf-8")
                for para in re.findall(r"<w:p[ >].*?</w:p>", xml, flags=re.S):
                    texts = re.findall(r"<w:t(?:\s[^>]*)?>([^<]*)</w:t>", para)
                    out.append(html.unescape("".join(texts)))
    return out


def _fill(folder: Path, rate: float = 0.9) -> None:
    fill_grids(folder, rate)


def _all_documents_open(folder: Path) -> list[Path]:
    """Every visible .docx under documents/ opens with python-docx; returns them."""
    docs = sorted(p for p in (folder / "documents").rglob("*.docx")
                  if not any(part.startswith(".") for part in p.relative_to(folder).parts))
    for path in docs:
        Document(str(path))
    return docs


# --- injection ------------------------------------------------------------------------------


def test_jinja_in_names_is_printed_not_run(tmp_path: Path, cli_runner: CliRunner) -> None:
    """« {{ 7*7 }} » as a name, a Jinja loop as a first name, Jinja and Python attribute
    access as the place, XML as a usage name: each printed exactly as typed."""
    rows = with_changes(CANDIDATS, 0, {"Nom de naissance": JINJA_NOM, "Prénom": JINJA_PRENOM,
                                       "Nom d'usage": XML_USAGE})
    folder = make_session(_workspace(tmp_path) / "s1", candidats=rows,
                          info={"Lieu": JINJA_LIEU})
    result = cli_runner.invoke(main, ["documents", "s1"])
    assert result.exit_code == 0, result.output + result.stderr
    convocation = next((folder / "documents" / "convocation_candidat").glob("001_*.docx"))
    text = "\n".join(_paragraphs(convocation))
    assert JINJA_PRENOM in text and "ZoéZoéZoé" not in text
    assert XML_USAGE.upper() in text  # usage names are printed in capitals
    assert JINJA_LIEU in text and "<class" not in text
    emargement = next((folder / "documents" / "emargement").glob("*.docx"))
    assert any(JINJA_PRENOM in p for p in _paragraphs(emargement))
    _all_documents_open(folder)
    # The birth name too, once results are out (certificate, results letter).
    assert cli_runner.invoke(main, ["grilles", "s1"]).exit_code == 0
    _fill(folder)
    assert cli_runner.invoke(main, ["resultats", "s1"]).exit_code == 0
    result = cli_runner.invoke(main, ["documents", "s1", "--type", "fiche_resultats"])
    assert result.exit_code == 0, result.output + result.stderr
    fiche = next((folder / "documents" / "fiche_resultats").glob("001_*.docx"))
    assert JINJA_PRENOM in "\n".join(_paragraphs(fiche))


# --- file names -----------------------------------------------------------------------------

SAFE_DOC = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
any_text = st.one_of(st.text(max_size=200), st.sampled_from(
    ["..", "../../x", "a/b\\c", "NUL", "\x00", "\u202eexe.docx", ".cache", "-rf", "é" * 300]))


@settings(max_examples=300, deadline=None)
@given(numero=any_text, nom=any_text, prenom=any_text)
def test_document_file_names_are_safe(numero: str, nom: str, prenom: str) -> None:
    """ASCII letters, digits, « . », « - », « _ »; never hidden, never a path, bounded."""
    name = safe_filename(numero, nom.upper(), prenom)
    assert SAFE_DOC.fullmatch(name), name
    assert len(name) <= 120
    assert name not in (".", "..") and "/" not in name and "\\" not in name
    assert safe_filename(numero, nom.upper(), prenom) == name


def test_homonym_jurors_are_refused_before_any_document(tmp_path: Path,
                                                        cli_runner: CliRunner) -> None:
    """Two jurors « Paul Durand » (a row typed twice, or homonyms) would share one convocation
    file: the session check names the row (it used to be « Erreur interne »)."""
    jury = with_changes(JURY, 2, {"Nom": "DURAND", "Prénom": "Paul",
                                  "Email": "p.durand@autre.fr"})
    make_session(_workspace(tmp_path) / "s1", jury=jury)
    result = cli_runner.invoke(main, ["documents", "s1"])
    assert result.exit_code == 1
    assert "Erreur interne" not in result.stderr
    assert "Jury!B4 : Paul DURAND : juré en double (même nom et prénom que ligne 3)" in \
        result.stderr
    assert not (tmp_path / "s1" / "documents").exists()


def test_homonym_candidates_get_their_own_documents(tmp_path: Path,
                                                    cli_runner: CliRunner) -> None:
    """Two « Marie Martin » (numbers 001 and 011): two convocations."""
    twin = {"Nom de naissance": "Martin", "Nom d'usage": "", "Prénom": "Marie"}
    rows = with_changes(with_changes(CANDIDATS, 0, {**twin, "N° candidat": "001"}), 1,
                        {**twin, "N° candidat": "011"})
    folder = make_session(_workspace(tmp_path) / "s1", candidats=rows)
    result = cli_runner.invoke(main, ["documents", "s1", "--type", "convocation_candidat"])
    assert result.exit_code == 0, result.output + result.stderr
    names = sorted(p.name for p in (folder / "documents" / "convocation_candidat").iterdir())
    assert "001_MARTIN_Marie.docx" in names and "011_MARTIN_Marie.docx" in names


# --- crashes --------------------------------------------------------------------------------

DRIVER = textwrap.dedent('''
    import os, pathlib, sys, time
    marker = pathlib.Path(os.environ["HARDENING_MARKER"])
    nth = int(os.environ["HARDENING_NTH"])
    calls = [0]
    original = os.replace

    def replace(src, dst, **kw):
        # Moving finished documents into documents/: stop in the middle of the moves.
        parts = pathlib.Path(dst).parts
        if ("documents" in parts and str(dst).endswith(".docx")
                and not any(part.startswith(".") for part in parts)):
            calls[0] += 1
            if calls[0] == nth:
                marker.write_text(str(dst))
                time.sleep(600)
        return original(src, dst, **kw)

    if nth:
        os.replace = replace
    from certidocs.cli import main
    main(sys.argv[1:], prog_name="certidocs")
''')


def _kill(cwd: Path, args: list[str], nth: int, ready: Any) -> None:
    marker = cwd / "marqueur-du-test"
    env = {**os.environ, "HARDENING_MARKER": str(marker), "HARDENING_NTH": str(nth)}
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while not (marker.exists() if nth else ready()):
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"fini avant d'être tué : {out.decode()} {err.decode()}")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("moment du kill jamais atteint")
        time.sleep(0.002)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="SIGKILL : POSIX seulement")
@pytest.mark.parametrize("moment", ["pendant le rendu", "pendant les déplacements"])
def test_kill_during_documents_leaves_no_half_document(tmp_path: Path, cli_runner: CliRunner,
                                                       moment: str) -> None:
    """Killed while documents are rendered in the hidden staging folder, or while they are
    moved into place: every visible .docx opens, the rest is hidden, and a rerun completes
    with every document."""
    folder = make_session(_workspace(tmp_path) / "s1")
    outdir = folder / "documents"

    def rendering() -> bool:
        return outdir.is_dir() and any(p.suffix == ".docx" for p in outdir.rglob("*")
                                       if p.relative_to(outdir).parts[0].startswith("."))

    _kill(tmp_path, ["documents", "s1"], 0 if moment == "pendant le rendu" else 3, rendering)
    before = _all_documents_open(folder)
    if moment == "pendant le rendu":
        assert before == []  # all or nothing: nothing is moved before everything is rendered
    else:
        assert len(before) == 2
    result = cli_runner.invoke(main, ["documents", "s1"])
    assert result.exit_code == 0, result.output + result.stderr
    after = _all_documents_open(folder)
    assert len(after) > len(before) and set(before) <= set(after)


# --- secrets --------------------------------------------------------------------------------


def test_secrets_never_in_documents(tmp_path: Path, cli_runner: CliRunner) -> None:
    """Certificates carry a verification code made with the workspace secret, and the grids'
    password protected the grids: neither secret is in any document part, nor printed."""
    password = "Sesame-Tres-Secret-2026"
    assert cli_runner.invoke(main, ["init", "espace"]).exit_code == 0
    root = tmp_path / "espace"
    toml = (root / "certidocs.toml").read_text(encoding="utf-8")
    (root / "certidocs.toml").write_text(
        toml.replace('mot_de_passe = ""', f'mot_de_passe = "{password}"'), encoding="utf-8")
    folder = make_session(root / "sessions" / "s1")
    printed = []
    for args in (["documents", str(folder)], ["grilles", str(folder)], ["resultats", str(folder)],
                 ["documents", str(folder)]):
        if args[0] == "resultats":
            _fill(folder)
        result = cli_runner.invoke(main, args)
        assert result.exit_code == 0, result.output + result.stderr
        printed.append(result.output + result.stderr)
    secret = (root / SECRET_NAME).read_text(encoding="ascii").strip()
    raw = bytes.fromhex(secret)
    needles = [password.encode(), password.encode("utf-16-le"), secret.encode(),
               secret.upper().encode(), raw, base64.b64encode(raw).rstrip(b"="),
               base64.urlsafe_b64encode(raw).rstrip(b"=")]
    docs = _all_documents_open(folder)
    assert any(p.parent.name == "certificat" for p in docs)
    for path in (folder / "documents").rglob("*"):
        if path.is_file():
            with zipfile.ZipFile(path) as zf:
                for part in zf.namelist():
                    data = zf.read(part)
                    assert not [n for n in needles if n in data], f"{path.name}!{part}"
    assert not [n for n in needles if n in "\n".join(printed).encode()]
    with Registre(root / "registre.sqlite") as reg:
        codes = [r[0] for r in reg.conn.execute("SELECT code_verification FROM certificats")]
    certificat = next((folder / "documents" / "certificat").glob("001_*.docx"))
    assert codes and any(code and code in "\n".join(_paragraphs(certificat)) for code in codes)
