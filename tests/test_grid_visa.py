"""The jury's visa of a grid (Synthèse sheet): who evaluated the candidate, read back.

The names are pre-filled from the Jury sheet and editable; the reader matches them with the
Jury sheet (case, accents, spacing, order, civilité, qualité tolerated), keeps an unknown
name as written with a remark naming its cell, falls back to the whole jury when the visa is
empty, and never makes a grid « Incomplet » for anything in the visa.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from gridtools import INFO, SESSION, candidat, fill, marks_for, protection, referentiel, soffice

from certidocs.documents.context import nom_et_qualite
from certidocs.grid import layout as L
from certidocs.grid.reader import SOURCE_SESSION, SOURCE_VISA, GridReading, read_grid
from certidocs.grid.writer import GridWriter, grid_filename
from certidocs.model import CERTIFIE, Candidat, Jure, Referentiel
from certidocs.rules import resultat_candidat
from certidocs.simulation import fill_grid

JURY = (Jure(nom="Roux", prenom="Anne", civilite="Madame",
             college="Représentant du certificateur"),
        Jure(nom="Durand", prenom="Paul", civilite="Monsieur", college="Professionnel",
             president=True),
        Jure(nom="Leroy", prenom="Inès", civilite="Madame", college="Professionnel"))


def _grid(folder: Path, ref: Referentiel, cand: Candidat) -> Path:
    """A grid written as `certidocs grilles` writes it: the jury's names in the visa."""
    writer = GridWriter(referentiel=ref, session_nom=SESSION, session_info=INFO,
                        protection=protection(), organisme="Organisme d'essai",
                        jures=tuple(nom_et_qualite(j) for j in JURY))
    path = folder / grid_filename(cand)
    writer.write(path, cand, cand.blocs(ref))
    return path


def _filled(tmp_path: Path, visa: list[str] | None = None,
            date: dt.date | None = None) -> tuple[Path, Referentiel, Candidat]:
    ref, cand = referentiel("CPECOM"), candidat()
    path = _grid(tmp_path, ref, cand)
    fill(path, ref, cand, marks_for(ref, cand, {b.code: len(b.criteres) for b in ref.blocs}))
    if visa is not None or date is not None:
        fill_grid(path, ref, cand.blocs(ref), {}, visa=visa, date_visa=date)
    return path, ref, cand


def _read(path: Path, ref: Referentiel, cand: Candidat,
          jury: tuple[Jure, ...] | None = JURY) -> GridReading:
    return read_grid(path, referentiel=ref, session_nom=SESSION, candidat=cand,
                     blocs=cand.blocs(ref), fichier_affiche=f"grilles/{path.name}", jury=jury)


def _name_cell(ref: Referentiel, cand: Candidat, index: int) -> str:
    """The Synthèse cell of the visa's ``index``-th name (0 = first)."""
    plan = L.plan_grid(ref, cand.blocs(ref))
    return f"{L.SHEET_SYNTHESE}!{L.VISA_COL_NOM}{plan.visa_row + 2 + index}"


def test_prefilled_visa_names_the_whole_jury(tmp_path: Path) -> None:
    path, ref, cand = _filled(tmp_path)
    reading = _read(path, ref, cand)
    assert reading.anomalies == () and reading.remarques == ()
    assert reading.visa is not None
    assert reading.visa.noms == ("Anne ROUX", "Paul DURAND", "Inès LEROY")
    assert reading.visa.source == SOURCE_VISA
    assert reading.visa.hors_jury == ()


def test_edited_visa_matched_with_case_accents_order_and_civilite(tmp_path: Path) -> None:
    path, ref, cand = _filled(tmp_path, ["  roux   ANNE ", "Mme Ines Leroy - professionnelle"],
                              dt.date(2026, 12, 10))
    reading = _read(path, ref, cand)
    assert reading.anomalies == () and reading.remarques == ()
    assert reading.visa is not None
    assert reading.visa.noms == ("Anne ROUX", "Inès LEROY")
    assert reading.visa.date == "2026-12-10"
    assert resultat_candidat(ref, cand, reading.evaluations,
                             anomalies=reading.anomalies).decision == CERTIFIE


def test_unknown_name_kept_as_written_with_a_remark_not_an_anomaly(tmp_path: Path) -> None:
    path, ref, cand = _filled(tmp_path, ["Anne Roux", "Durnad Paul"])
    reading = _read(path, ref, cand)
    assert reading.anomalies == ()
    assert reading.visa is not None
    assert reading.visa.noms == ("Anne ROUX", "Durnad Paul")
    assert reading.visa.hors_jury == ("Durnad Paul",)
    assert [(r.cellule, r.message) for r in reading.remarques] == [
        (_name_cell(ref, cand, 1), "« Durnad Paul » n'est pas dans la feuille Jury de "
                                   "session.xlsx : nom gardé tel qu'écrit comme juré de cette "
                                   "grille")]
    # the decision is the grid's, whatever the visa says
    assert resultat_candidat(ref, cand, reading.evaluations,
                             anomalies=reading.anomalies).decision == CERTIFIE


def test_empty_visa_falls_back_to_the_whole_jury_and_says_so(tmp_path: Path) -> None:
    path, ref, cand = _filled(tmp_path, [])
    reading = _read(path, ref, cand)
    assert reading.anomalies == ()
    assert reading.visa is not None
    assert reading.visa.source == SOURCE_SESSION
    assert reading.visa.noms == ("Anne ROUX", "Paul DURAND", "Inès LEROY")
    assert [r.cellule for r in reading.remarques] == [_name_cell(ref, cand, 0)]
    assert "tout le jury de la session" in reading.remarques[0].message


def test_grid_without_a_visa_block_falls_back_silently(tmp_path: Path) -> None:
    """A grid made before the visa existed: the whole jury, no remark."""
    path, ref, cand = _filled(tmp_path)
    plan = L.plan_grid(ref, cand.blocs(ref))
    wb = openpyxl.load_workbook(path)
    ws = wb[L.SHEET_SYNTHESE]
    for row in ws.iter_rows(min_row=plan.visa_row):
        for cell in row:
            if not isinstance(cell, openpyxl.cell.cell.MergedCell):
                cell.value = None
    wb.save(path)
    reading = _read(path, ref, cand)
    assert reading.anomalies == () and reading.remarques == ()
    assert reading.visa is not None and reading.visa.source == SOURCE_SESSION


def test_visa_not_read_without_a_jury_and_not_for_another_candidate(tmp_path: Path) -> None:
    path, ref, cand = _filled(tmp_path, ["Durnad Paul"])
    assert _read(path, ref, cand, jury=None).visa is None
    assert _read(path, ref, cand, jury=None).remarques == ()
    other = candidat("002", "Martin", "Jules")
    assert _read(path, ref, other).visa is None


@pytest.mark.libreoffice
def test_visa_read_from_a_grid_saved_by_libreoffice(tmp_path: Path) -> None:
    from certidocs.libreoffice import recalculate

    soffice()
    (tmp_path / "grilles").mkdir()
    path, ref, cand = _filled(tmp_path / "grilles", ["Paul Durand", "Durnad Paul"],
                              dt.date(2026, 12, 10))
    (saved,) = recalculate([path], tmp_path / "libreoffice")
    reading = _read(saved, ref, cand)
    assert reading.anomalies == ()
    assert reading.visa is not None
    assert reading.visa.noms == ("Paul DURAND", "Durnad Paul")
    assert reading.visa.date == "2026-12-10"
    assert _name_cell(ref, cand, 1) in [r.cellule for r in reading.remarques]
