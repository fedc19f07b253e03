"""Workbooks that print (issue 17): every sheet of session.xlsx, the grids and
resultats.xlsx set up for A4, one page wide, headers repeated; wrapped texts with their row
heights; the jury's visa on the grids, where the reader does not look."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from gridtools import candidat, fill, make_grid, read, referentiel

from certidocs.grid import layout as L
from certidocs.impression import hauteur_ligne, lignes
from certidocs.session.creator import create_session
from certidocs.session.layout import JURY


def _printable(ws: openpyxl.worksheet.worksheet.Worksheet) -> None:
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4), ws.title
    assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
    assert int(ws.page_setup.fitToWidth) == 1 and int(ws.page_setup.fitToHeight) == 0, ws.title


def test_row_height_grows_with_the_text() -> None:
    assert lignes("court", 70) == 1
    assert lignes("x " * 200, 70) > 4
    assert hauteur_ligne([("x " * 200, 70)]) > hauteur_ligne([("court", 70)])
    assert hauteur_ligne([("", 70)], minimum_lignes=3) >= 45


def test_session_xlsx_prints(tmp_path: Path) -> None:
    path = create_session(tmp_path / "s", referentiel("CPECOM"))
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        _printable(ws)
        if ws.title != "Session":
            assert ws.print_title_rows == "$1:$1", ws.title
    assert wb["Candidats"].page_setup.orientation == "landscape"
    assert wb["Jury"]["A1"].value == "Civilité"
    assert JURY.colonne("civilite").obligatoire is False  # older files without it still read


def test_grid_prints_with_heights_and_visa(tmp_path: Path) -> None:
    ref = referentiel("CPECOM")
    cand = candidat()
    path = make_grid(tmp_path, ref, cand)
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets[:-1]:
        _printable(ws)
        assert ws.page_setup.orientation == "landscape"
    plan = L.plan_grid(ref, cand.blocs(ref))
    for bp in plan.blocs:
        ws = wb[bp.sheet]
        assert ws.print_title_rows == f"${L.ROW_HEADER}:${L.ROW_HEADER}"
        for row, critere in enumerate(bp.bloc.criteres, start=bp.first_row):
            height = ws.row_dimensions[row].height
            assert height is not None and height >= 45  # room to write observations
            assert height >= hauteur_ligne([(critere.libelle, L.BLOC_WIDTHS["C"])])
    synthese = wb[L.SHEET_SYNTHESE]
    assert synthese[f"A{plan.visa_row}"].value == L.VISA_TITRE
    assert [synthese[f"{c}{plan.visa_row + 1}"].value for c in "ABC"] == list(L.VISA_HEADERS)
    assert not synthese[f"B{plan.visa_row + 2}"].protection.locked


def test_grid_without_visa_still_reads(tmp_path: Path) -> None:
    """A grid sent before the visa existed (nothing below the thresholds) reads the same."""
    ref = referentiel("CPECOM")
    cand = candidat()
    path = make_grid(tmp_path, ref, cand)
    marks = {c.code: "Acquis" for b in ref.blocs for c in b.criteres}
    fill(path, ref, cand, marks)
    wb = openpyxl.load_workbook(path)
    plan = L.plan_grid(ref, cand.blocs(ref))
    ws = wb[L.SHEET_SYNTHESE]
    for merged in list(ws.merged_cells.ranges):
        if merged.min_row >= plan.visa_row:
            ws.unmerge_cells(str(merged))
    ws.delete_rows(plan.visa_row, 20)
    wb.save(path)
    reading = read(path, ref, cand)
    assert not reading.anomalies and not reading.non_evalues
    assert all(v is True for v in reading.evaluations.values())


def test_resultats_xlsx_prints(tmp_path: Path) -> None:
    from certidocs.demo import run_demo

    report = run_demo(tmp_path / "espace", lambda _: None)
    wb = openpyxl.load_workbook(report.resultats.xlsx_path)
    for ws in wb.worksheets:
        _printable(ws)
        assert ws.print_title_rows == "$1:$1"
    assert wb["Résultats"].page_setup.orientation == "landscape"
