"""The session's steps end to end: grids, simulated jurors, results, register, `lancer`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook
from sessiondata import CANDIDATS, make_session, with_changes

from certidocs.cli import main
from certidocs.grid.writer import grid_filename
from certidocs.registre import Registre
from certidocs.session import open_session
from certidocs.signature import ensure_keys
from certidocs.simulation import fill_grid, simulated_evaluations
from certidocs.workspace import find_workspace


def workspace(tmp_path: Path) -> Path:
    (tmp_path / "certidocs.toml").write_text("[grilles]\nmot_de_passe = \"\"\n", encoding="utf-8")
    ensure_keys(tmp_path)
    return tmp_path


def fill_all(folder: Path, rates: dict[str, float]) -> None:
    opened = open_session(folder, find_workspace(folder))
    ref = opened.referentiel
    for c in opened.lecture.session.candidats:
        if c.numero in rates:
            blocs = c.blocs(ref)
            fill_grid(folder / "grilles" / grid_filename(c), ref, blocs,
                      simulated_evaluations(ref, blocs, {"tous": rates[c.numero]}, c.numero))


def test_grids_then_results_then_register(tmp_path: Path, cli_runner: CliRunner) -> None:
    """Grids for every candidate, results written as JSON and xlsx, passages recorded once."""
    folder = make_session(workspace(tmp_path) / "s1")
    result = cli_runner.invoke(main, ["grilles", "s1"])
    assert result.exit_code == 0, result.output + result.stderr
    assert "3 grille(s) créée(s)" in result.output
    fill_all(folder, {"001": 0.9, "002": 0.5, "003": 0.7})
    result = cli_runner.invoke(main, ["resultats", "s1"])
    assert result.exit_code == 0, result.output + result.stderr
    data = json.loads((folder / "resultats.json").read_text(encoding="utf-8"))
    decisions = {c["numero"]: c["decision"] for c in data["candidats"]}
    assert decisions == {"001": "Certifié", "002": "Non certifié", "003": "Certifié"}
    first = data["candidats"][0]
    assert set(first) >= {"numero", "nom", "prenom", "decision", "blocs", "rattrapage_possible"}
    assert set(first["blocs"]["BC01"]) >= {"acquis", "total", "taux", "valide"}
    assert data["candidats"][1]["rattrapage_possible"] is True
    assert data["anomalies"] == []
    wb = load_workbook(folder / "resultats.xlsx")
    assert wb.sheetnames == ["Résultats", "Détail par bloc", "Anomalies"]
    assert cli_runner.invoke(main, ["resultats", "s1"]).exit_code == 0
    with Registre(tmp_path / "registre.sqlite") as reg:
        assert reg.conn.execute("SELECT COUNT(*) FROM passages").fetchone()[0] == 3
        password = reg.conn.execute("SELECT mot_de_passe_grilles FROM sessions").fetchone()[0]
    assert password
    for grid in (folder / "grilles").iterdir():
        assert password.encode() not in grid.read_bytes()


def test_json_format_option(tmp_path: Path, cli_runner: CliRunner) -> None:
    """`resultats --format json` prints the same document as resultats.json."""
    folder = make_session(workspace(tmp_path) / "s1")
    assert cli_runner.invoke(main, ["grilles", "s1"]).exit_code == 0
    fill_all(folder, {"001": 0.9, "002": 0.9, "003": 0.9})
    result = cli_runner.invoke(main, ["resultats", "s1", "--format", "json"])
    assert result.exit_code == 0
    # stdout alone: a slow machine may show the progress bar, on stderr.
    assert json.loads(result.stdout) == json.loads(
        (folder / "resultats.json").read_text(encoding="utf-8"))


def test_filled_grid_is_never_overwritten(tmp_path: Path, cli_runner: CliRunner) -> None:
    """Re-running `grilles` keeps a grid with input, adds grids for new candidates."""
    folder = make_session(workspace(tmp_path) / "s1")
    assert cli_runner.invoke(main, ["grilles", "s1"]).exit_code == 0
    fill_all(folder, {"001": 0.9})
    filled = folder / "grilles" / "001_LEFEVRE_Elodie.xlsx"
    before = filled.read_bytes()
    result = cli_runner.invoke(main, ["grilles", "s1"])
    assert result.exit_code == 0
    assert "1 grille(s) déjà remplie(s) conservée(s)" in result.output
    assert "001_LEFEVRE_Elodie.xlsx" in result.output
    assert filled.read_bytes() == before


def test_absent_candidate_gets_no_grid_and_absent_decision(tmp_path: Path,
                                                           cli_runner: CliRunner) -> None:
    """« Absent » on the day: no grid, decision « Absent », no retake consumed."""
    rows = with_changes(CANDIDATS, 1, {"Présence": "Absent"})
    folder = make_session(workspace(tmp_path) / "s1", candidats=rows)
    result = cli_runner.invoke(main, ["grilles", "s1"])
    assert "pas de grille pour 002" in result.output
    fill_all(folder, {"001": 0.9, "003": 0.9})
    assert cli_runner.invoke(main, ["resultats", "s1"]).exit_code == 0
    data = json.loads((folder / "resultats.json").read_text(encoding="utf-8"))
    assert [c["decision"] for c in data["candidats"]] == ["Certifié", "Absent", "Certifié"]


def test_incomplete_grid_gives_no_decision(tmp_path: Path, cli_runner: CliRunner) -> None:
    """A grid not returned and a blank cell: « Incomplet », anomalies listed with cells."""
    folder = make_session(workspace(tmp_path) / "s1")
    assert cli_runner.invoke(main, ["grilles", "s1"]).exit_code == 0
    fill_all(folder, {"001": 0.9, "002": 0.9})
    (folder / "grilles" / "003_GARNIER_Anne-Sophie.xlsx").unlink()
    result = cli_runner.invoke(main, ["resultats", "s1"])
    assert result.exit_code == 0
    data = json.loads((folder / "resultats.json").read_text(encoding="utf-8"))
    assert data["candidats"][2]["decision"] == "Incomplet"
    assert any("grille absente" in a["message"] for a in data["anomalies"])


def test_lancer_walks_through_the_steps(tmp_path: Path, cli_runner: CliRunner) -> None:
    """First run: grids; second: waiting with who is missing; third: results."""
    folder = make_session(workspace(tmp_path) / "s1")
    first = cli_runner.invoke(main, ["lancer", "s1"])
    assert first.exit_code == 0, first.output + first.stderr
    assert "3 grille(s) créée(s)" in first.output and "En attente" in first.output
    fill_all(folder, {"001": 0.9, "002": 0.9})
    second = cli_runner.invoke(main, ["lancer", "s1"])
    assert "1 grille(s) complète(s) sur 3" not in second.output
    assert "2 grille(s) complète(s) sur 3 ; manquent : 003 GARNIER Anne-Sophie" in second.output
    assert not (folder / "resultats.json").exists()
    fill_all(folder, {"003": 0.4})
    third = cli_runner.invoke(main, ["lancer", "s1"])
    assert third.exit_code == 0, third.output + third.stderr
    assert "résultats calculés" in third.output
    assert (folder / "resultats.json").exists()
    fourth = cli_runner.invoke(main, ["lancer", "s1"])
    assert "résultats déjà à jour" in fourth.output


def test_lancer_refuses_a_session_with_errors(tmp_path: Path, cli_runner: CliRunner) -> None:
    """Errors in session.xlsx stop everything, each with its cell."""
    make_session(workspace(tmp_path) / "s1", candidats=with_changes(CANDIDATS, 0,
                                                                    {"Email": "faux"}))
    result = cli_runner.invoke(main, ["lancer", "s1"])
    assert result.exit_code == 1
    assert "Candidats!H2" in result.stderr
    assert not (tmp_path / "s1" / "grilles").exists()
