"""Grids and session.xlsx saved by other programs, empty evaluations named, grids from another
workspace refused (issue 15 points 2–3, issue 13 point 4).

Real programs re-save real files: LibreOffice (``soffice``) and Gnumeric (``ssconvert``).
Without them these tests are skipped, unless CERTIDOCS_EXIGER_LIBREOFFICE=1 /
CERTIDOCS_EXIGER_GNUMERIC=1 (as in CI): then they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from gridtools import (
    PASSWORD,
    SESSION,
    candidat,
    fill,
    make_grid,
    marks_for,
    positions,
    read,
    referentiel,
    soffice,
)
from sessiondata import make_session
from test_classeurs_session import to_strict

from certidocs.cli import main
from certidocs.grid import layout as L
from certidocs.grid.reader import Emission, GridReading, read_grid
from certidocs.grid.writer import grid_filename
from certidocs.libreoffice import recalculate
from certidocs.model import CERTIFIE, INCOMPLET, Candidat, Referentiel
from certidocs.rules import resultat_candidat
from certidocs.session import open_session
from certidocs.session.layout import ID_FILE
from certidocs.session.reader import read_session
from certidocs.simulation import fill_grid, simulated_evaluations
from certidocs.workspace import find_workspace


def ssconvert() -> str:
    """Gnumeric's converter, or skip (fail when CERTIDOCS_EXIGER_GNUMERIC=1)."""
    found = shutil.which("ssconvert")
    if found:
        return found
    if os.environ.get("CERTIDOCS_EXIGER_GNUMERIC") == "1":
        pytest.fail("Gnumeric (ssconvert) est exigé (CERTIDOCS_EXIGER_GNUMERIC=1) mais "
                    "introuvable : apt-get install gnumeric")
    pytest.skip("Gnumeric (ssconvert) n'est pas installé : test de tableur réel ignoré")


def gnumeric_resave(path: Path, out: Path) -> Path:
    """``path`` opened and saved again as .xlsx by Gnumeric."""
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([ssconvert(), "--export-type=Gnumeric_Excel:xlsx2", str(path), str(out)],
                   check=True, capture_output=True, timeout=120,
                   env={**os.environ, "HOME": str(out.parent)})
    assert out.is_file()
    return out


def libreoffice_resave(path: Path, outdir: Path) -> Path:
    """``path`` opened, recalculated and saved again as .xlsx by LibreOffice."""
    soffice()
    return recalculate([path], outdir)[0]


def _all_acquired(tmp_path: Path) -> tuple[Path, Referentiel, Candidat]:
    ref, cand = referentiel("MKT-ECOM"), candidat()
    path = make_grid(tmp_path, ref, cand)
    fill(path, ref, cand, marks_for(ref, cand, {b.code: len(b.criteres) for b in ref.blocs}))
    return path, ref, cand


ISSUED = Emission("", PASSWORD)


def _read(path: Path, ref: Referentiel, cand: Candidat) -> GridReading:
    return read_grid(path, referentiel=ref, session_nom=SESSION, candidat=cand,
                     blocs=cand.blocs(ref), fichier_affiche=f"grilles/{path.name}",
                     dossier=path.parent, emission=ISSUED)


def test_grid_resaved_by_gnumeric_is_read_and_decided(tmp_path: Path) -> None:
    """Gnumeric drops veryHidden and the password hash but keeps every value and formula:
    read, decided « Certifié », and said once as a remark, not an anomaly."""
    path, ref, cand = _all_acquired(tmp_path)
    saved = gnumeric_resave(path, tmp_path / "gnumeric" / path.name)
    with zipfile.ZipFile(saved) as zf:
        assert b"gnumeric" in zf.read("docProps/app.xml")
        assert b"hashValue" not in zf.read("xl/worksheets/sheet2.xml")
    reading = _read(saved, ref, cand)
    assert reading.anomalies == ()
    assert reading.valeurs_calculees
    assert len(reading.remarques) == 1
    assert reading.remarques[0].message.startswith(
        "enregistrée avec Gnumeric : protection retirée par le programme")
    result = resultat_candidat(ref, cand, reading.evaluations)
    assert result.decision == CERTIFIE


def test_grid_resaved_by_libreoffice_is_read_and_decided(tmp_path: Path) -> None:
    """LibreOffice keeps the hash, makes the technical sheet merely hidden: nothing to say."""
    path, ref, cand = _all_acquired(tmp_path)
    saved = libreoffice_resave(path, tmp_path / "lo")
    reading = _read(saved, ref, cand)
    assert reading.anomalies == () and reading.remarques == ()
    assert reading.valeurs_calculees
    assert resultat_candidat(ref, cand, reading.evaluations).decision == CERTIFIE


@pytest.mark.parametrize("change", ["évaluation hors liste", "formule remplacée",
                                    "lignes échangées", "identité"])
def test_what_only_a_hand_changes_is_still_incomplete_after_gnumeric(tmp_path: Path,
                                                                     change: str) -> None:
    """A juror who edits in Gnumeric what the grid forbids: the program's tolerance does not
    cover it; the grid is « Incomplet » with the cell named."""
    path, ref, cand = _all_acquired(tmp_path)
    where = positions(ref, cand)
    first = ref.blocs[0].criteres[0].code
    sheet, row = where[first]
    wb = openpyxl.load_workbook(path)
    if change == "évaluation hors liste":
        wb[sheet][f"D{row}"] = "Oui"
        cell = f"{sheet}!D{row}"
    elif change == "formule remplacée":
        wb[L.SHEET_SYNTHESE]["G6"] = "Validé"
        cell = f"{L.SHEET_SYNTHESE}!G6"
    elif change == "lignes échangées":
        a, b = wb[sheet][f"A{row}"], wb[sheet][f"A{row + 1}"]
        a.value, b.value = b.value, a.value
        cell = f"{sheet}!A{row}"
    else:
        meta = wb[L.SHEET_META]
        meta["B2"] = "999"
        cell = f"{L.SHEET_META}!B2"
    wb.save(path)
    saved = gnumeric_resave(path, tmp_path / "gnumeric" / path.name)
    reading = _read(saved, ref, cand)
    assert cell in [a.cellule for a in reading.anomalies], reading.anomalies
    assert resultat_candidat(ref, cand, reading.evaluations,
                             anomalies=reading.anomalies).decision == INCOMPLET


def test_unprotected_sheet_saved_by_excel_is_still_an_anomaly(tmp_path: Path) -> None:
    """Without another program to blame, a sheet left unprotected is held against the grid."""
    path, ref, cand = _all_acquired(tmp_path)
    wb = openpyxl.load_workbook(path)
    wb[ref.blocs[0].code].protection.sheet = False
    wb.save(path)
    cells = [a.cellule for a in _read(path, ref, cand).anomalies]
    assert cells == [ref.blocs[0].code]


def test_strict_open_xml_grid_is_read(tmp_path: Path) -> None:
    """A grid saved in the Strict Open XML flavour reads like the transitional one."""
    path, ref, cand = _all_acquired(tmp_path)
    before = _read(path, ref, cand)
    to_strict(path)
    after = _read(path, ref, cand)
    assert after.anomalies == () and after.evaluations == before.evaluations


# --- session.xlsx re-saved by other programs --------------------------------------------------


@pytest.fixture
def s1(tmp_path: Path) -> Path:
    (tmp_path / "certidocs.toml").write_text('[grilles]\nmot_de_passe = ""\n', encoding="utf-8")
    return make_session(tmp_path / "s1")


@pytest.mark.parametrize("program", ["LibreOffice", "Gnumeric"])
def test_session_resaved_by_another_program_reads_the_same(s1: Path, tmp_path: Path,
                                                            program: str) -> None:
    """Every value, date and the identifier read back the same after a re-save."""
    before = read_session(s1)
    source = s1 / "session.xlsx"
    if program == "Gnumeric":
        saved = gnumeric_resave(source, tmp_path / "g" / "session.xlsx")
    else:
        saved = libreoffice_resave(source, tmp_path / "lo")
    shutil.copyfile(saved, source)
    after = read_session(s1)
    assert after.session == before.session
    assert after.session.identifiant and not after.problemes


# --- the whole chain: empty evaluations named, grids from elsewhere refused ------------------


def _grids(folder: Path, cli_runner: CliRunner) -> None:
    result = cli_runner.invoke(main, ["grilles", str(folder)])
    assert result.exit_code == 0, result.output + result.stderr


def _fill(folder: Path, rate: float, blank: str | None = None) -> None:
    opened = open_session(folder, find_workspace(folder))
    ref = opened.referentiel
    for c in opened.lecture.session.candidats:
        blocs = c.blocs(ref)
        marks: dict[str, str | None] = dict(simulated_evaluations(ref, blocs, {"tous": rate},
                                                                  c.numero))
        if blank and c.numero == "001":
            marks[blank] = None
        fill_grid(folder / "grilles" / grid_filename(c), ref, blocs, marks)


def test_empty_evaluation_is_named_everywhere(tmp_path: Path, cli_runner: CliRunner) -> None:
    """One empty cell: « Incomplet », and the cell named in resultats.json, the Anomalies
    sheet, the printed summary and `lancer`; no bloc of that grid shown as validated."""
    (tmp_path / "certidocs.toml").write_text('[grilles]\nmot_de_passe = ""\n', encoding="utf-8")
    folder = make_session(tmp_path / "s1")
    _grids(folder, cli_runner)
    ref = open_session(folder, find_workspace(folder)).referentiel
    blank = ref.blocs[1].criteres[5]
    _fill(folder, 1.0, blank=blank.code)
    row = L.FIRST_ROW + 5
    cell = f"{ref.blocs[1].code}!D{row}"
    message = f"critère {blank.code} non évalué"
    result = cli_runner.invoke(main, ["resultats", "s1"])
    assert result.exit_code == 0, result.output + result.stderr
    grid = f"grilles/{grid_filename(read_session(folder).session.candidats[0])}"
    assert f"anomalie : {grid} {cell} : {message}" in result.output
    data = json.loads((folder / "resultats.json").read_text(encoding="utf-8"))
    assert {"fichier": grid, "cellule": cell, "message": message} in data["anomalies"]
    first = data["candidats"][0]
    assert first["decision"] == INCOMPLET
    assert not any(b["valide"] for b in first["blocs"].values())
    sheet = openpyxl.load_workbook(folder / "resultats.xlsx")["Anomalies"]
    assert [grid, cell, message] in [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    result = cli_runner.invoke(main, ["lancer", "s1"])
    assert f"(1 critère(s) non évalué(s) : {cell})" in result.output, result.output


def test_grids_sent_back_empty_are_one_line_each(tmp_path: Path, cli_runner: CliRunner) -> None:
    """Grids not filled at all: `resultats` says each one in one line (count and first
    cells), not one line per criterion (93 per grid, hundreds for a session); resultats.json
    keeps every cell. A grid with a single empty cell keeps its own line (test above)."""
    from certidocs.cli import NON_EVALUES_CITES

    (tmp_path / "certidocs.toml").write_text('[grilles]\nmot_de_passe = ""\n', encoding="utf-8")
    folder = make_session(tmp_path / "s1")
    _grids(folder, cli_runner)
    result = cli_runner.invoke(main, ["resultats", "s1"])
    assert result.exit_code == 0, result.output + result.stderr
    data = json.loads((folder / "resultats.json").read_text(encoding="utf-8"))
    empty = [a for a in data["anomalies"] if a["message"].endswith(" non évalué")]
    grids = sorted({a["fichier"] for a in empty})
    assert len(grids) > 1 and len(empty) > NON_EVALUES_CITES * len(grids)
    lines = [line for line in result.output.splitlines() if "non évalué" in line]
    assert len(lines) == len(grids)
    for grid in grids:
        cells = [a["cellule"] for a in empty if a["fichier"] == grid]
        assert (f"anomalie : {grid} : {len(cells)} critères non évalués : "
                f"{', '.join(cells[:NON_EVALUES_CITES])} …") in result.output


def _workspace(root: Path, password: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "certidocs.toml").write_text(f'[grilles]\nmot_de_passe = "{password}"\n',
                                         encoding="utf-8")
    return root


def _foreign_grid_attack(tmp_path: Path, cli_runner: CliRunner, password: str = "",
                         strip_id: bool = False) -> tuple[Path, dict[str, object], str]:
    """Workspace A runs session « s1 »; workspace B, another session folder named « s1 »
    with the same candidates, produces grids filled « Acquis », one of which is copied over
    candidate 003's grid in A. Returns A's folder, its results and the grid's name."""
    a = make_session(_workspace(tmp_path / "a", password) / "s1")
    b = make_session(_workspace(tmp_path / "b", password) / "s1")
    _grids(a, cli_runner)
    _grids(b, cli_runner)
    _fill(a, 0.5)
    _fill(b, 1.0)
    name = grid_filename(read_session(a).session.candidats[2])
    forged = b / "grilles" / name
    if strip_id:  # as a grid made before identifiers
        wb = openpyxl.load_workbook(forged)
        meta = wb[L.SHEET_META]
        for row in meta.iter_rows():
            if row[0].value == L.META_SESSION_ID:
                row[1].value = None
                row[0].value = None
        wb.save(forged)
    shutil.copyfile(forged, a / "grilles" / name)
    result = cli_runner.invoke(main, ["resultats", str(a)])
    assert result.exit_code == 0, result.output + result.stderr
    return a, json.loads((a / "resultats.json").read_text(encoding="utf-8")), name


def test_grid_from_another_workspace_with_same_session_name_is_refused(
        tmp_path: Path, cli_runner: CliRunner) -> None:
    """The attack of issue 13: 003 is not « Certifié »; the anomaly names the file."""
    _a, data, name = _foreign_grid_attack(tmp_path, cli_runner)
    third = next(c for c in data["candidats"] if c["numero"] == "003")
    assert third["decision"] == INCOMPLET
    found = [x for x in data["anomalies"] if x["fichier"] == f"grilles/{name}"]
    assert len(found) == 1 and "autre session du même nom" in found[0]["message"]


def test_foreign_grid_refused_by_identifier_even_with_the_same_password(
        tmp_path: Path, cli_runner: CliRunner) -> None:
    """Both workspaces protect their grids with the same configured password: the session
    identifier still tells them apart."""
    _a, data, name = _foreign_grid_attack(tmp_path, cli_runner, password="meme-mot-de-passe")
    assert next(c for c in data["candidats"] if c["numero"] == "003")["decision"] == INCOMPLET
    assert any("identifiant de session" in x["message"] for x in data["anomalies"]
               if x["fichier"] == f"grilles/{name}")


def test_foreign_grid_without_identifier_refused_by_its_password_hash(
        tmp_path: Path, cli_runner: CliRunner) -> None:
    """A grid with no identifier (as grids made before them): its sheets' password hash is
    not the one this workspace issued."""
    _a, data, name = _foreign_grid_attack(tmp_path, cli_runner, strip_id=True)
    assert next(c for c in data["candidats"] if c["numero"] == "003")["decision"] == INCOMPLET
    messages = [x["message"] for x in data["anomalies"] if x["fichier"] == f"grilles/{name}"]
    assert messages and all("autre mot de passe" in m for m in messages), messages


def test_older_session_gets_an_identifier_file_at_grids_time(
        tmp_path: Path, cli_runner: CliRunner) -> None:
    """session.xlsx without identifier: `grilles` records one in .certidocs-session, once,
    and the grids carry it."""
    folder = make_session(_workspace(tmp_path / "w") / "s1")
    wb = openpyxl.load_workbook(folder / "session.xlsx")
    del wb["_certidocs"]
    wb.save(folder / "session.xlsx")
    _grids(folder, cli_runner)
    ident = (folder / ID_FILE).read_text(encoding="utf-8").strip()
    assert len(ident) == 36
    _grids(folder, cli_runner)
    assert (folder / ID_FILE).read_text(encoding="utf-8").strip() == ident
    grid = folder / "grilles" / grid_filename(read_session(folder).session.candidats[0])
    meta = openpyxl.load_workbook(grid)[L.SHEET_META]
    assert [r[1].value for r in meta.iter_rows() if r[0].value == L.META_SESSION_ID] == [ident]
    assert read_session(folder).session.identifiant == ident


def test_read_helper_still_reads_grids_without_emission(tmp_path: Path) -> None:
    """Callers that know nothing of the workspace (tests, tools) read as before."""
    path, ref, cand = _all_acquired(tmp_path)
    assert read(path, ref, cand).anomalies == ()
