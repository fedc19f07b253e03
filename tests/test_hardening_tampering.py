"""Hardening — tampering: every kind of damage to a returned grid, through `certidocs resultats`.

A real session (CPECOM, three candidates, grids generated and filled « Acquis » everywhere, so
that untouched every candidate gets a decision) is prepared once; each test copies it, spoils
candidate 001's grid one way, runs the command and reads resultats.json: 001 is « Incomplet »,
the anomaly names the file and the cell, the others are decided, and nothing about 001 is
recorded in the register. test_grid_reader.py checks the same damage at the library level.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from sessiondata import fill_grids, make_session, make_workspace

from certidocs.cli import main
from certidocs.grid import layout as L
from certidocs.registre import Registre
from certidocs.session import open_session
from certidocs.simulation import fill_grid, simulated_evaluations
from certidocs.workspace import find_workspace

GRID = "grilles/001_LEFEVRE_Elodie.xlsx"
OTHERS = {"002": "Validation partielle", "003": "Certifié"}  # 002 presents BC01 and BC02 only


def _fill(folder: Path, rate: float = 1.0) -> None:
    fill_grids(folder, rate)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with its own copy of CPECOM, session s1 filled, session s2 (same people)."""
    root = make_workspace(tmp_path_factory.mktemp("espace"))
    runner = CliRunner()
    for name in ("s1", "s2"):
        folder = make_session(root / name)
        result = runner.invoke(main, ["grilles", str(folder)])
        assert result.exit_code == 0, result.output + result.stderr
        _fill(folder)
    return root


@pytest.fixture
def espace(prepared: Path, tmp_path: Path) -> Path:
    """This test's own copy of the prepared workspace."""
    return Path(shutil.copytree(prepared, tmp_path / "espace"))


def _edit(path: Path, change: Callable[[Any], None]) -> None:
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)


def _results(espace: Path, cli_runner: CliRunner) -> tuple[dict[str, Any], str]:
    result = cli_runner.invoke(main, ["resultats", str(espace / "s1")])
    assert result.exit_code == 0, result.output + result.stderr
    assert "Traceback" not in result.output + result.stderr
    data = json.loads((espace / "s1" / "resultats.json").read_text(encoding="utf-8"))
    return data, result.output


def _assert_caught(espace: Path, cli_runner: CliRunner, cells: list[str],
                   words: str) -> list[dict[str, str]]:
    """001 « Incomplet » with exactly ``cells`` reported on its grid; the others decided and
    nothing of 001 recorded in the register."""
    data, output = _results(espace, cli_runner)
    decisions = {c["numero"]: c["decision"] for c in data["candidats"]}
    assert decisions == {"001": "Incomplet", **OTHERS}
    mine = [a for a in data["anomalies"] if a["fichier"] == GRID]
    assert [a["cellule"] for a in mine] == cells
    assert words in mine[0]["message"]
    assert len(mine) == len(data["anomalies"])
    assert f"anomalie : {GRID} {cells[0]} : " in output
    with Registre(espace / "registre.sqlite") as reg:
        numbers = {r[0] for r in reg.conn.execute("SELECT numero FROM passages")}
    assert numbers == set(OTHERS)
    return mine


def _meta(key: str) -> str:
    return f"{L.SHEET_META}!B{L.META_KEYS.index(key) + 1}"


def test_untouched_session_is_decided(espace: Path, cli_runner: CliRunner) -> None:
    """The baseline: nothing spoilt, no anomaly, 001 certified."""
    data, _ = _results(espace, cli_runner)
    assert data["anomalies"] == []
    assert {c["numero"]: c["decision"] for c in data["candidats"]} == {"001": "Certifié",
                                                                       **OTHERS}


def test_protection_removed(espace: Path, cli_runner: CliRunner) -> None:
    """Sheet BC03 unprotected (its formulas and criteria could have changed)."""
    def unprotect(wb: Any) -> None:
        wb["BC03"].protection.sheet = False

    _edit(espace / "s1" / GRID, unprotect)
    _assert_caught(espace, cli_runner, ["BC03"], "n'est plus protégée")


def test_criterion_row_deleted(espace: Path, cli_runner: CliRunner) -> None:
    """Row 10 of BC01 deleted: the rows below moved up a criterion."""
    _edit(espace / "s1" / GRID, lambda wb: wb["BC01"].delete_rows(10))
    _assert_caught(espace, cli_runner, ["BC01!A10"], "supprimée, insérée ou déplacée")


def test_criterion_row_inserted(espace: Path, cli_runner: CliRunner) -> None:
    """A row inserted above row 7 of BC03."""
    _edit(espace / "s1" / GRID, lambda wb: wb["BC03"].insert_rows(7))
    _assert_caught(espace, cli_runner, ["BC03!A7"], "supprimée, insérée ou déplacée")


def test_criterion_rows_reordered(espace: Path, cli_runner: CliRunner) -> None:
    """Rows 6 and 7 of BC02 swapped, evaluations with them."""
    def swap(wb: Any) -> None:
        ws = wb["BC02"]
        for col in "ABCDE":
            ws[f"{col}6"].value, ws[f"{col}7"].value = ws[f"{col}7"].value, ws[f"{col}6"].value

    _edit(espace / "s1" / GRID, swap)
    _assert_caught(espace, cli_runner, ["BC02!A6"], "supprimée, insérée ou déplacée")


def test_criterion_reworded(espace: Path, cli_runner: CliRunner) -> None:
    """A criterion made easier in the grid itself."""
    def reword(wb: Any) -> None:
        wb["BC04"]["C8"] = "Le candidat est présent."

    _edit(espace / "s1" / GRID, reword)
    _assert_caught(espace, cli_runner, ["BC04!C8"], "libellé")


def test_formula_replaced_by_a_value(espace: Path, cli_runner: CliRunner) -> None:
    """The decision of BC01 typed over with « Validé »."""
    def overwrite(wb: Any) -> None:
        wb[L.SHEET_SYNTHESE]["G6"] = "Validé"

    _edit(espace / "s1" / GRID, overwrite)
    _assert_caught(espace, cli_runner, ["Synthèse!G6"], "remplacée par la valeur « Validé »")


def test_cached_result_edited(espace: Path, cli_runner: CliRunner) -> None:
    """The file says what a spreadsheet computed, except the overall decision, edited in the
    XML from « Validation partielle » to « Certifié »: the values are checked too."""
    folder = espace / "s1"
    opened = open_session(folder, find_workspace(folder))
    ref = opened.referentiel
    cand = opened.lecture.session.candidats[0]
    blocs = cand.blocs(ref)
    marks = simulated_evaluations(ref, blocs, {"tous": 1.0, "BC05": 0.5}, "001")
    fill_grid(folder / GRID, ref, blocs, marks)
    plan = L.plan_grid(ref, blocs)
    expected = L.expected_values(plan, ref, cand, {k: v == L.ACQUIS for k, v in marks.items()})
    assert expected[(L.SHEET_SYNTHESE, plan.decision_cell)].value == "Validation partielle"
    cached = {key: attendu.value for key, attendu in expected.items()}
    cached[(L.SHEET_SYNTHESE, plan.decision_cell)] = "Certifié"
    _write_cached(folder / GRID, cached)
    mine = _assert_caught(espace, cli_runner, [f"Synthèse!{plan.decision_cell}"],
                          "affiche « Certifié » mais certidocs calcule « Validation partielle »")
    assert len(mine) == 1


def test_metadata_of_another_candidate(espace: Path, cli_runner: CliRunner) -> None:
    """003's grid saved under 001's name: the candidate number cell says whose it is."""
    grids = espace / "s1" / "grilles"
    shutil.copy(grids / "003_GARNIER_Anne-Sophie.xlsx", espace / "s1" / GRID)
    _assert_caught(espace, cli_runner, [_meta(L.META_NUMERO)], "autre candidat")


def test_metadata_of_another_session(espace: Path, cli_runner: CliRunner) -> None:
    """001's grid of session s2 returned for s1."""
    shutil.copy(espace / "s2" / GRID, espace / "s1" / GRID)
    _assert_caught(espace, cli_runner, [_meta(L.META_SESSION)], "autre session")


def test_metadata_edited_by_hand(espace: Path, cli_runner: CliRunner) -> None:
    """The hidden sheet's candidate number rewritten to pass 003's grid off as 001's: the
    name still gives it away."""
    grids = espace / "s1" / "grilles"
    shutil.copy(grids / "003_GARNIER_Anne-Sophie.xlsx", espace / "s1" / GRID)

    def relabel(wb: Any) -> None:
        wb[L.SHEET_META][_meta(L.META_NUMERO).split("!")[1]] = "001"

    _edit(espace / "s1" / GRID, relabel)
    _assert_caught(espace, cli_runner, [_meta(L.META_NOM)], "au nom de « Garnier »")


def test_grid_of_another_referentiel_version(espace: Path, cli_runner: CliRunner) -> None:
    """The référentiel's YAML changed after the grids were made (a criterion reworded): every
    grid is refused on its fingerprint cell, nobody is decided, nothing is recorded."""
    yaml_path = espace / "referentiels" / "CPECOM.yaml"
    text = yaml_path.read_text(encoding="utf-8")
    first = re.search(r'libelle: "([^"]+)"', text.split("criteres:", 1)[1])
    assert first is not None
    yaml_path.write_text(text.replace(first.group(1), first.group(1) + " Ou supposés.", 1),
                         encoding="utf-8")
    data, _ = _results(espace, cli_runner)
    assert {c["decision"] for c in data["candidats"]} == {"Incomplet"}
    assert sorted((a["fichier"], a["cellule"]) for a in data["anomalies"]) == [
        (f"grilles/{name}", _meta(L.META_EMPREINTE)) for name in
        ("001_LEFEVRE_Elodie.xlsx", "002_N-DIAYE_Moussa.xlsx", "003_GARNIER_Anne-Sophie.xlsx")]
    assert all("le référentiel a changé" in a["message"] for a in data["anomalies"])
    with Registre(espace / "registre.sqlite") as reg:
        assert reg.conn.execute("SELECT COUNT(*) FROM passages").fetchone()[0] == 0


# --- cached values, as a spreadsheet saves them ---------------------------------------------


def _write_cached(path: Path, values: dict[tuple[str, str], object]) -> None:
    """Give every formula cell of ``values`` a cached value in the XML (as Excel would)."""
    with zipfile.ZipFile(path) as src:
        parts = {n: src.read(n) for n in src.namelist()}
    names = re.findall(r'<sheet [^>]*name="([^"]+)"', parts["xl/workbook.xml"].decode())
    for (sheet, cell), value in values.items():
        part = f"xl/worksheets/sheet{names.index(sheet) + 1}.xml"
        xml = parts[part].decode()
        kind = ' t="str"' if isinstance(value, str) else ""
        xml, n = re.subn(rf'<c r="{cell}"([^>]*?)( t="[a-z]+")?>(<f>.*?</f>)(<v\s*/>|<v>.*?</v>)?'
                         r"</c>", rf'<c r="{cell}"\1{kind}>\3<v>{value}</v></c>', xml)
        assert n == 1, (sheet, cell)
        parts[part] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
