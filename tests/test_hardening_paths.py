"""Hardening — paths: file names built from people's names are safe and never shared.

A grid's file name comes from the candidate's number and names, typed by hand: it must hold
no path separator, no « .. », no control character, no name Windows reserves, stay short, and
two candidates — homonyms included — must never get the same file (on a case-insensitive
disk either). Hypothesis draws arbitrary Unicode names.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path, PurePosixPath, PureWindowsPath

from click.testing import CliRunner
from helpers import REFERENTIELS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sessiondata import CANDIDATS, make_session, with_changes

from certidocs.checks import check_candidates
from certidocs.cli import main
from certidocs.grid.writer import grid_filename
from certidocs.model import Candidat, Session, SessionInfo
from certidocs.referentiel import load_referentiel
from certidocs.signature import ensure_keys

RESERVED = {"CON", "PRN", "AUX", "NUL", "CLOCK$", "CONIN$", "CONOUT$",
            *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\.xlsx|_[A-Za-z0-9_-]+\.xlsx")
MAX_NAME = 40 * 3 + 2 + len(".xlsx")  # three parts of 40 characters, two « _ »

# Every kind of character: control, combining, right-to-left, emoji, separators, wide forms.
names = st.text(max_size=300)  # every code point but surrogates
hostile = st.sampled_from([
    "../../etc/passwd", "..\\..\\Windows\\win.ini", "..", ".", "NUL", "con", "COM1", "LPT9",
    "CON.txt", "a/b", "a\\b", "C:", "\x00", "\x1b[31m", "\u202egpj.exe", "／ＦＵＬＬ",
    " ", "\t\n", "*?<>|\"", "~", "-rf", "ﷺ" * 50, "é" * 500,
])
any_name = st.one_of(names, hostile)


def _cand(numero: str, nom: str, prenom: str, ligne: int = 2,
          born: dt.date | None = None) -> Candidat:
    return Candidat(numero=numero, civilite="Madame", nom_naissance=nom, prenom=prenom,
                    date_naissance=born, email="x@exemple.fr", ligne=ligne)


@settings(max_examples=300, deadline=None)
@given(numero=any_name, nom=any_name, prenom=any_name)
def test_grid_filename_is_safe_for_any_name(numero: str, nom: str, prenom: str) -> None:
    """ASCII letters, digits, « - » and « _ » only; bounded; no reserved or hidden name."""
    name = grid_filename(_cand(numero, nom, prenom))
    assert SAFE.fullmatch(name), name
    assert len(name) <= MAX_NAME
    assert ".." not in name
    for flavour in (PurePosixPath, PureWindowsPath):
        path = flavour(name)
        assert path.name == name and len(path.parts) == 1 and not path.is_absolute()
    stem = name.removesuffix(".xlsx")
    assert stem.split(".")[0].upper() not in RESERVED
    assert grid_filename(_cand(numero, nom, prenom)) == name  # the same every time


def test_grid_filename_of_hostile_names() -> None:
    """Traversal, reserved names, control and bidirectional characters: all neutralised."""
    cases = {
        ("../../etc", "..\\Windows", "C:"): "etc_WINDOWS_C.xlsx",
        ("NUL", "CON", "COM1"): "NUL_CON_COM1.xlsx",
        ("", "", ""): "sans-numero_SANS-NOM_sans-prenom.xlsx",
        ("\x00\x1b", "\u202egpj.exe", "／ＦＵＬＬ"): "sans-numero_GPJ-EXE_FULL.xlsx",
        ("007", "Lefèvre-Œuvray", "Élodie Zoé"): "007_LEFEVRE-OEUVRAY_Elodie-Zoe.xlsx",
    }
    for (numero, nom, prenom), expected in cases.items():
        assert grid_filename(_cand(numero, nom, prenom)) == expected
    long = grid_filename(_cand("1" * 300, "é" * 300, "x" * 300))
    assert long == f"{'1' * 40}_{'E' * 40}_{'x' * 40}.xlsx"


def test_grid_file_can_be_created_for_hostile_names(tmp_path: Path) -> None:
    """The names above really are files of the folder, on this file system."""
    for parts in (("../../x", "..", "/"), ("NUL", "\x00", "\u202e"), ("1" * 300, "é" * 300, "")):
        name = grid_filename(_cand(*parts))
        path = tmp_path / name
        path.write_bytes(b"")
        assert path.parent == tmp_path and path.is_file()
        assert os.listdir(tmp_path) == [name]
        path.unlink()


REF = load_referentiel(REFERENTIELS / "CPECOM.yaml")


def _problems(candidats: list[Candidat]) -> list[str]:
    session = Session(nom="s", info=SessionInfo("CPECOM"), candidats=tuple(candidats))
    return [p.lieu for p in check_candidates(
        session, REF, lambda f, ligne, champ: f"{f.nom}!{champ}{ligne}")]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(numbers=st.lists(any_name, min_size=2, max_size=6, unique=True), nom=any_name,
       prenom=any_name)
def test_homonyms_never_share_a_grid_file(numbers: list[str], nom: str, prenom: str) -> None:
    """Same names, distinct numbers: distinct files (case aside), or the session check
    refuses the number that would share one — a grid is never silently shared."""
    candidats = [_cand(n, nom, prenom, ligne=i) for i, n in enumerate(numbers, start=2)]
    refused = set(_problems(candidats))
    kept: dict[str, Candidat] = {}
    for c in candidats:
        if f"Candidats!numero{c.ligne}" in refused or not c.numero:
            continue
        key = grid_filename(c).casefold()
        assert key not in kept, (kept[key].numero, c.numero)
        kept[key] = c


def test_ordinary_homonyms_get_their_own_grids(tmp_path: Path, cli_runner: CliRunner) -> None:
    """Two Marie Martin, numbers 001 and 011: two grids, each read as its own candidate."""
    (tmp_path / "certidocs.toml").write_text('[grilles]\nmot_de_passe = ""\n', encoding="utf-8")
    ensure_keys(tmp_path)
    twin = {"Nom de naissance": "Martin", "Nom d'usage": "", "Prénom": "Marie"}
    rows = with_changes(with_changes(CANDIDATS, 0, {**twin, "N° candidat": "001"}), 1,
                        {**twin, "N° candidat": "011", "Date de naissance": dt.date(1999, 9, 9)})
    folder = make_session(tmp_path / "s1", candidats=rows)
    result = cli_runner.invoke(main, ["grilles", "s1"])
    assert result.exit_code == 0, result.output + result.stderr
    grids = sorted(p.name for p in (folder / "grilles").iterdir())
    assert grids == ["001_MARTIN_Marie.xlsx", "003_GARNIER_Anne-Sophie.xlsx",
                     "011_MARTIN_Marie.xlsx"]
    result = cli_runner.invoke(main, ["resultats", "s1", "--format", "json"])
    assert result.exit_code == 0
    assert "autre candidat" not in result.output


def test_numbers_that_would_share_a_grid_file_are_refused(tmp_path: Path,
                                                          cli_runner: CliRunner) -> None:
    """« A 1 » and « a-1 » for the same name would be one file on Windows: the session check
    names the cell, and no grid is written."""
    (tmp_path / "certidocs.toml").write_text('[grilles]\nmot_de_passe = ""\n', encoding="utf-8")
    ensure_keys(tmp_path)
    twin = {"Nom de naissance": "Martin", "Nom d'usage": "", "Prénom": "Marie"}
    rows = with_changes(with_changes(CANDIDATS, 0, {**twin, "N° candidat": "A 1"}), 1,
                        {**twin, "N° candidat": "a-1"})
    make_session(tmp_path / "s1", candidats=rows)
    result = cli_runner.invoke(main, ["session", "verifier", "s1"])
    assert result.exit_code == 1
    assert "Candidats!A3" in result.stderr
    assert "même nom de fichier « a-1_MARTIN_Marie.xlsx »" in result.stderr
    result = cli_runner.invoke(main, ["grilles", "s1"])
    assert result.exit_code == 1
    assert not (tmp_path / "s1" / "grilles").exists()


def test_referentiel_code_cannot_reach_outside_the_workspace(tmp_path: Path,
                                                             cli_runner: CliRunner) -> None:
    """Session!B2 « ../../EVIL » used to load ../../EVIL.yaml from outside the workspace: a
    code is a bare name, the cell is named and nothing else is read."""
    root = tmp_path / "espace"
    (root / "referentiels").mkdir(parents=True)
    (root / "certidocs.toml").write_text('[grilles]\nmot_de_passe = "x"\n', encoding="utf-8")
    ensure_keys(root)
    (tmp_path / "EVIL.yaml").write_bytes((REFERENTIELS / "CPECOM.yaml").read_bytes())
    make_session(root / "s1", info={"Référentiel (code)": "../../EVIL"})
    for args in (["session", "verifier", "espace/s1"], ["grilles", "espace/s1"]):
        result = cli_runner.invoke(main, args)
        assert result.exit_code == 1
        assert "Session!B2 : code de référentiel « ../../EVIL » invalide" in result.stderr
    assert not (root / "s1" / "grilles").exists()
    result = cli_runner.invoke(main, ["session", "creer", "espace/s2", "--referentiel",
                                      "..\\..\\EVIL"])
    assert result.exit_code == 1 and "invalide" in result.stderr
