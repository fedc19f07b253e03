"""The register keeps, per passage, the jurors who evaluated the grid (its visa), in the
decision's evidence; a sealed decision is never rewritten by a visa edited afterwards."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sessiondata import make_session, make_workspace

from certidocs.cli import main
from certidocs.grid import layout as L
from certidocs.grid.writer import grid_filename
from certidocs.registre import Registre
from certidocs.session import open_session
from certidocs.simulation import fill_grid, simulated_evaluations
from certidocs.workspace import find_workspace

VISAS = {"001": ["Anne ROUX – Représentante du certificateur", "paul durand"],
         "002": ["Anne Roux", "Durnad Paul"],
         "003": None}  # left as pre-filled: the whole jury


def _fill(folder: Path, visas: dict[str, list[str] | None]) -> dict[str, str]:
    """Fill every grid (all criteria « Acquis ») with ``visas``; grid file by number."""
    opened = open_session(folder, find_workspace(folder))
    ref = opened.referentiel
    files = {}
    for c in opened.lecture.session.candidats:
        if c.numero in visas:
            blocs = c.blocs(ref)
            path = folder / "grilles" / grid_filename(c)
            fill_grid(path, ref, blocs, simulated_evaluations(ref, blocs, {"tous": 1.0},
                                                              c.numero),
                      visa=visas[c.numero])
            files[c.numero] = f"grilles/{path.name}"
    return files


def _jures(root: Path) -> dict[str, dict[str, object]]:
    with Registre(root / "registre.sqlite") as reg:
        rows = reg.conn.execute("SELECT numero, preuves FROM passages").fetchall()
    return {r[0]: json.loads(r[1]).get("jures") for r in rows}


def test_register_keeps_who_evaluated_each_grid(tmp_path: Path, cli_runner: CliRunner
                                                ) -> None:
    root = make_workspace(tmp_path)
    folder = make_session(root / "sessions" / "s1")
    assert cli_runner.invoke(main, ["grilles", str(folder)]).exit_code == 0
    files = _fill(folder, VISAS)
    result = cli_runner.invoke(main, ["resultats", str(folder)])
    assert result.exit_code == 0, result.output
    # the unknown name: a remark naming its cell, never an anomaly
    assert "anomalie" not in result.output
    ref_rows = {line for line in result.output.splitlines() if "Durnad" in line}
    assert len(ref_rows) == 1
    (line,) = ref_rows
    assert line.startswith(f"remarque : {files['002']} {L.SHEET_SYNTHESE}!B")
    assert "« Durnad Paul » n'est pas dans la feuille Jury" in line
    whole = ["Anne ROUX", "Paul DURAND", "Inès LEROY"]
    assert _jures(root) == {
        "001": {"noms": ["Anne ROUX", "Paul DURAND"], "source": "visa", "date": "",
                "hors_jury": []},
        "002": {"noms": ["Anne ROUX", "Durnad Paul"], "source": "visa", "date": "",
                "hors_jury": ["Durnad Paul"]},
        "003": {"noms": whole, "source": "visa", "date": "", "hors_jury": []},
    }
    document = json.loads((folder / "resultats.json").read_text(encoding="utf-8"))
    assert any(r["message"].startswith("« Durnad Paul »") and r["cellule"].startswith(
        f"{L.SHEET_SYNTHESE}!B") for r in document["remarques"])


def test_visa_edited_after_the_seal_changes_nothing(tmp_path: Path, cli_runner: CliRunner
                                                   ) -> None:
    root = make_workspace(tmp_path)
    folder = make_session(root / "sessions" / "s1")
    assert cli_runner.invoke(main, ["grilles", str(folder)]).exit_code == 0
    _fill(folder, VISAS)
    assert cli_runner.invoke(main, ["resultats", str(folder)]).exit_code == 0
    assert cli_runner.invoke(main, ["deliberer", str(folder)]).exit_code == 0
    before = _jures(root)
    with Registre(root / "registre.sqlite") as reg:
        seal = reg.scellement("sessions/s1")
    _fill(folder, {"001": ["Inès Leroy"]})
    result = cli_runner.invoke(main, ["resultats", str(folder)])
    assert result.exit_code == 0, result.output
    assert "grille modifiée après la délibération" not in result.output  # no evaluation moved
    assert _jures(root) == before
    with Registre(root / "registre.sqlite") as reg:
        assert reg.scellement("sessions/s1") == seal
        assert reg.controler() == []
