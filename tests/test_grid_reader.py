"""Reading grids back: evaluations, and every kind of damage reported with its cell."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from gridtools import (
    candidat,
    evaluations,
    fill,
    make_grid,
    marks_for,
    read,
    referentiel,
    synthetic,
    with_regles,
)

from certidocs.grid import layout as L
from certidocs.grid.reader import GridReading, grid_has_input
from certidocs.grid.writer import grid_filename
from certidocs.model import CERTIFIE, INCOMPLET, VALIDATION_PARTIELLE, Candidat, Referentiel
from certidocs.rules import resultat_candidat


def _meta_cell(key: str) -> str:
    return f"_certidocs!B{L.META_KEYS.index(key) + 1}"


_FILLED: dict[tuple[str, str, tuple[str, ...]], bytes] = {}


def _all_acquired(tmp_path: Path, ref: Referentiel | None = None,
                  cand: Candidat | None = None) -> tuple[Path, Referentiel, Candidat]:
    """A grid where every criterion is « Acquis »: left alone, it certifies.

    Filled once per test run with openpyxl, then copied: the tests only spoil the copy.
    """
    ref = ref or referentiel("CPECOM")
    cand = cand or candidat()
    key = (ref.code, cand.numero, cand.blocs(ref))
    path = tmp_path / grid_filename(cand)
    if key not in _FILLED:
        make_grid(tmp_path, ref, cand)
        fill(path, ref, cand, {c.code: "Acquis" for b in cand.blocs(ref)
                               for c in ref.bloc(b).criteres})
        _FILLED[key] = path.read_bytes()
    path.write_bytes(_FILLED[key])
    return path, ref, cand


def _no_decision(reading: GridReading, ref: Referentiel, cand: Candidat) -> None:
    assert reading.anomalies
    res = resultat_candidat(ref, cand, reading.evaluations, anomalies=reading.anomalies)
    assert res.decision == INCOMPLET


def _cells(reading: GridReading) -> list[str]:
    return [a.cellule for a in reading.anomalies]


def _edit(path: Path, change: Callable[[openpyxl.Workbook], None]) -> None:
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)


# --- clean grids --------------------------------------------------------------------------------


def test_blank_grid_reads_without_anomaly_and_decides_nothing(tmp_path: Path) -> None:
    """A grid nobody filled: every criterion None, no anomaly, « Incomplet »."""
    ref, cand = referentiel("CPECOM"), candidat()
    reading = read(make_grid(tmp_path, ref, cand), ref, cand)
    assert reading.anomalies == ()
    assert reading.valeurs_calculees is False
    assert set(reading.evaluations) == {c.code for c in ref.criteres}
    assert set(reading.evaluations.values()) == {None}
    assert resultat_candidat(ref, cand, reading.evaluations).decision == INCOMPLET


def test_filled_grid_gives_evaluations_observations_and_a_decision(tmp_path: Path) -> None:
    """Minimum passing counts everywhere but one bloc: partial validation, notes kept."""
    ref, cand = referentiel("CPECOM"), candidat()
    counts = {"BC01": 13, "BC02": 15, "BC03": 17, "BC04": 10, "BC05": 11}  # BC05: 11/17 < 70 %
    marks = marks_for(ref, cand, counts)
    path = fill(make_grid(tmp_path, ref, cand), ref, cand, marks,
                observations={"BC02-C1.1": "Très bonne animation", "BC05-C1.1": "  "})
    reading = read(path, ref, cand)
    assert reading.anomalies == ()
    assert reading.evaluations == evaluations(marks)
    assert reading.observations == {"BC02-C1.1": "Très bonne animation"}
    res = resultat_candidat(ref, cand, reading.evaluations, anomalies=reading.anomalies)
    assert res.decision == VALIDATION_PARTIELLE
    assert [b.valide for b in res.blocs] == [True, True, True, True, False]


def test_case_and_surrounding_spaces_are_tolerated(tmp_path: Path) -> None:
    """« acquis », « NON ACQUIS », «  Acquis  » are read as what they mean."""
    ref, cand = synthetic((3,)), candidat()
    path = fill(make_grid(tmp_path, ref, cand), ref, cand,
                {"B1-01": "acquis", "B1-02": "NON ACQUIS", "B1-03": "  Acquis  "})
    reading = read(path, ref, cand)
    assert reading.anomalies == ()
    assert reading.evaluations == {"B1-01": True, "B1-02": False, "B1-03": True}


def test_single_bloc_candidate(tmp_path: Path) -> None:
    """Only the presented bloc is read; the decision there is a partial validation."""
    ref, cand = referentiel("CPECOM"), candidat(blocs=("BC04",))
    path, ref, cand = _all_acquired(tmp_path, ref, cand)
    reading = read(path, ref, cand)
    assert reading.anomalies == ()
    assert set(reading.evaluations) == {c.code for c in ref.bloc("BC04").criteres}
    res = resultat_candidat(ref, cand, reading.evaluations)
    assert res.decision == VALIDATION_PARTIELLE
    res = resultat_candidat(ref, cand, reading.evaluations,
                            capitalises=frozenset({"BC01", "BC02", "BC03", "BC05"}))
    assert res.decision == CERTIFIE


# --- grids from elsewhere -----------------------------------------------------------------------


def test_grid_of_another_session(tmp_path: Path) -> None:
    """Read for another session: reported on the session cell, nothing read."""
    path, ref, cand = _all_acquired(tmp_path)
    reading = read(path, ref, cand, session="2027-03-paris")
    assert _cells(reading) == [_meta_cell(L.META_SESSION)]
    assert "autre session" in reading.anomalies[0].message
    assert "2027-03-paris" in reading.anomalies[0].message
    assert set(reading.evaluations.values()) == {None}
    _no_decision(reading, ref, cand)


def test_grid_of_another_candidate(tmp_path: Path) -> None:
    """Candidate 001's grid read as candidate 002's: reported on the number cell."""
    path, ref, _ = _all_acquired(tmp_path)
    other = candidat("002", "Martin", "Paul")
    reading = read(path, ref, other)
    assert _cells(reading) == [_meta_cell(L.META_NUMERO)]
    assert "autre candidat" in reading.anomalies[0].message
    _no_decision(reading, ref, other)


def test_grid_of_a_namesake_number(tmp_path: Path) -> None:
    """Same number, another person (numbers reassigned): reported on the name cell."""
    path, ref, _ = _all_acquired(tmp_path)
    other = candidat("001", "Martin", "Paul")
    reading = read(path, ref, other)
    assert _cells(reading) == [_meta_cell(L.META_NOM)]
    _no_decision(reading, ref, other)
    # Case and accents are not a change of person.
    assert read(path, ref, candidat("001", "LEFEVRE", "elodie")).anomalies == ()


def test_referentiel_changed_since_the_grid(tmp_path: Path) -> None:
    """A threshold or a criterion changed since: the fingerprint no longer matches."""
    path, ref, cand = _all_acquired(tmp_path)
    changed = with_regles(ref, seuil_bloc=0.75)
    reading = read(path, changed, cand)
    assert _cells(reading) == [_meta_cell(L.META_EMPREINTE)]
    _no_decision(reading, changed, cand)


def test_blocs_presented_changed_since_the_grid(tmp_path: Path) -> None:
    """The candidate now presents other blocs than those of the grid."""
    path, ref, cand = _all_acquired(tmp_path)
    reading = read(path, ref, cand, blocs=("BC01", "BC02"))
    assert _cells(reading) == [_meta_cell(L.META_BLOCS)]
    _no_decision(reading, ref, cand)


def test_metadata_sheet_deleted(tmp_path: Path) -> None:
    """Without _certidocs the grid cannot be identified."""
    path, ref, cand = _all_acquired(tmp_path)
    _edit(path, lambda wb: wb.remove(wb["_certidocs"]))
    reading = read(path, ref, cand)
    assert _cells(reading) == ["_certidocs"]
    _no_decision(reading, ref, cand)


def test_metadata_sheet_made_visible(tmp_path: Path) -> None:
    """Showing the technical sheet needs the structure unprotected: reported."""
    path, ref, cand = _all_acquired(tmp_path)

    def show(wb: openpyxl.Workbook) -> None:
        wb["_certidocs"].sheet_state = "visible"

    _edit(path, show)
    reading = read(path, ref, cand)
    assert _cells(reading) == ["_certidocs"]
    _no_decision(reading, ref, cand)


# --- structure ----------------------------------------------------------------------------------


def test_renamed_sheet(tmp_path: Path) -> None:
    """BC02 renamed « Bloc 2 »: the missing sheet and the stranger are both named."""
    path, ref, cand = _all_acquired(tmp_path)

    def rename(wb: openpyxl.Workbook) -> None:
        wb["BC02"].title = "Bloc 2"

    _edit(path, rename)
    reading = read(path, ref, cand)
    assert _cells(reading) == ["BC02", "Bloc 2"]
    assert "« Bloc 2 »" in reading.anomalies[0].message
    assert all(reading.evaluations[c.code] is None for c in ref.bloc("BC02").criteres)
    _no_decision(reading, ref, cand)


def test_added_sheet(tmp_path: Path) -> None:
    """A sheet that is not part of the grid is reported by its name."""
    path, ref, cand = _all_acquired(tmp_path)
    _edit(path, lambda wb: wb.create_sheet("Brouillon"))
    reading = read(path, ref, cand)
    assert _cells(reading) == ["Brouillon"]
    _no_decision(reading, ref, cand)


def test_deleted_row(tmp_path: Path) -> None:
    """Row 10 of BC01 deleted: reported at BC01!A10, once for the whole shift."""
    path, ref, cand = _all_acquired(tmp_path)
    _edit(path, lambda wb: wb["BC01"].delete_rows(10))
    reading = read(path, ref, cand)
    assert _cells(reading) == ["BC01!A10"]
    assert "supprimée, insérée ou déplacée" in reading.anomalies[0].message
    assert reading.evaluations["BC01-C1.1"] is True  # rows before the damage still read
    _no_decision(reading, ref, cand)


def test_inserted_row(tmp_path: Path) -> None:
    """A row inserted before row 7 of BC03."""
    path, ref, cand = _all_acquired(tmp_path)
    _edit(path, lambda wb: wb["BC03"].insert_rows(7))
    reading = read(path, ref, cand)
    assert _cells(reading) == ["BC03!A7"]
    _no_decision(reading, ref, cand)


def test_reordered_rows(tmp_path: Path) -> None:
    """Rows 6 and 7 of BC02 swapped (evaluations would land on the wrong criteria)."""
    path, ref, cand = _all_acquired(tmp_path)

    def swap(wb: openpyxl.Workbook) -> None:
        ws = wb["BC02"]
        for col in "ABCDE":
            ws[f"{col}6"].value, ws[f"{col}7"].value = ws[f"{col}7"].value, ws[f"{col}6"].value

    _edit(path, swap)
    reading = read(path, ref, cand)
    assert _cells(reading) == ["BC02!A6"]
    _no_decision(reading, ref, cand)


def test_reworded_criterion(tmp_path: Path) -> None:
    """A criterion's text edited in the grid."""
    path, ref, cand = _all_acquired(tmp_path)

    def reword(wb: openpyxl.Workbook) -> None:
        wb["BC04"]["C8"] = "Un critère plus facile."

    _edit(path, reword)
    reading = read(path, ref, cand)
    assert _cells(reading) == ["BC04!C8"]
    assert "libellé" in reading.anomalies[0].message
    _no_decision(reading, ref, cand)


def test_row_added_after_the_last_criterion(tmp_path: Path) -> None:
    """An extra criterion typed under the table."""
    path, ref, cand = _all_acquired(tmp_path)
    last = L.FIRST_ROW + len(ref.bloc("BC05").criteres)

    def add(wb: openpyxl.Workbook) -> None:
        wb["BC05"][f"A{last}"] = "BC05-C9.9"

    _edit(path, add)
    reading = read(path, ref, cand)
    assert _cells(reading) == [f"BC05!A{last}"]
    _no_decision(reading, ref, cand)


# --- formulas and protection --------------------------------------------------------------------


def test_formula_overwritten_by_a_value(tmp_path: Path) -> None:
    """The decision of BC01 typed over with « Validé »."""
    path, ref, cand = _all_acquired(tmp_path)

    def overwrite(wb: openpyxl.Workbook) -> None:
        wb["Synthèse"]["G6"] = "Validé"

    _edit(path, overwrite)
    reading = read(path, ref, cand)
    assert _cells(reading) == ["Synthèse!G6"]
    assert "remplacée par la valeur « Validé »" in reading.anomalies[0].message
    _no_decision(reading, ref, cand)


def test_formula_changed(tmp_path: Path) -> None:
    """The overall decision rewritten to always certify; a threshold lowered."""
    path, ref, cand = _all_acquired(tmp_path)
    plan = L.plan_grid(ref, cand.blocs(ref))

    def rewrite(wb: openpyxl.Workbook) -> None:
        wb["Synthèse"][plan.decision_cell] = '="Certifié"'
        wb["Synthèse"]["G7"] = wb["Synthèse"]["G7"].value.replace("*10>=7*", "*10>=5*")

    _edit(path, rewrite)
    reading = read(path, ref, cand)
    assert _cells(reading) == ["Synthèse!G7", f"Synthèse!{plan.decision_cell}"]
    assert "modifiée" in reading.anomalies[0].message
    _no_decision(reading, ref, cand)


def test_formula_rewritten_by_a_spreadsheet_is_still_the_same(tmp_path: Path) -> None:
    """Quotes dropped around sheet names, spacing, case: the same formula."""
    path, ref, cand = _all_acquired(tmp_path)

    def respell(wb: openpyxl.Workbook) -> None:
        wb["Synthèse"]["C6"] = '=countif(BC01!$D$5:$D$22, "Acquis")'
        wb["BC01"]["C3"] = "=Synthèse!G6"

    _edit(path, respell)
    assert read(path, ref, cand).anomalies == ()


def test_shared_formulas_as_excel_saves_them(tmp_path: Path) -> None:
    """Excel stores a column of similar formulas once (« shared »): read as the same."""
    ref, cand = synthetic((3, 2, 4)), candidat()
    path = make_grid(tmp_path, ref, cand)
    parts = _parts(path)
    name = _sheet_part(parts, "Synthèse")
    xml = parts[name].decode()
    xml, n = re.subn(r'(<c r="F6"[^>]*>)<f>([^<]*)</f>',
                     r'\1<f t="shared" ref="F6:F8" si="0">\2</f>', xml)
    assert n == 1
    for cell in ("F7", "F8"):
        xml, n = re.subn(rf'(<c r="{cell}"[^>]*>)<f>[^<]*</f>', r'\1<f t="shared" si="0"/>', xml)
        assert n == 1
    parts[name] = xml.encode()
    _write_parts(path, parts)
    assert read(path, ref, cand).anomalies == ()
    # A shared formula that does not translate to ours is still caught.
    xml = xml.replace('ROUND(C6/E6,4)', 'ROUND(C6/E6,2)')
    parts[name] = xml.encode()
    _write_parts(path, parts)
    assert _cells(read(path, ref, cand)) == ["Synthèse!F6", "Synthèse!F7", "Synthèse!F8"]


def test_unprotected_sheet(tmp_path: Path) -> None:
    """BC03 unprotected: reported by sheet, even though nothing else changed."""
    path, ref, cand = _all_acquired(tmp_path)

    def unprotect(wb: openpyxl.Workbook) -> None:
        wb["BC03"].protection.sheet = False

    _edit(path, unprotect)
    reading = read(path, ref, cand)
    assert _cells(reading) == ["BC03"]
    assert "n'est plus protégée" in reading.anomalies[0].message
    _no_decision(reading, ref, cand)


# --- evaluation values --------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "shown"), [
    ("acquis ✓", "acquis ✓"), ("oui", "oui"), ("Acquise", "Acquise"), (1, "1"), (0.5, "0.5"),
    (True, "VRAI"), ("Non-acquis", "Non-acquis"), ("=\"Acquis\"", None),
])
def test_invalid_evaluation_is_reported_with_its_cell(tmp_path: Path, value: object,
                                                      shown: str | None) -> None:
    """Anything but « Acquis » / « Non acquis » in BC02!D9: that cell, no decision."""
    path, ref, cand = _all_acquired(tmp_path)
    code = ref.bloc("BC02").criteres[4].code  # row 9
    fill(path, ref, cand, {code: value})
    reading = read(path, ref, cand)
    assert _cells(reading) == ["BC02!D9"]
    if shown is None:
        assert "formule" in reading.anomalies[0].message
    else:
        assert f"« {shown} » n'est pas une évaluation" in reading.anomalies[0].message
    assert reading.evaluations[code] is None
    _no_decision(reading, ref, cand)


# --- files that are not grids -------------------------------------------------------------------


@pytest.mark.parametrize(("content", "words"), [
    (b"Nom;Acquis\nDupont;oui\n", "n'est pas un classeur"),
    (b"", "n'est pas un classeur"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "chiffré"),
    (None, "tronqué"),
    ("zip sans classeur", "absente"),
    ("mauvais xml", "illisible"),
])
def test_not_a_workbook_is_one_anomaly_never_a_traceback(tmp_path: Path, content: object,
                                                         words: str) -> None:
    """Text, empty, encrypted (or .xls), truncated, a zip of something else, broken XML."""
    ref, cand = referentiel("CPECOM"), candidat()
    path = tmp_path / "001_LEFEVRE_Elodie.xlsx"
    if content is None:
        full = make_grid(tmp_path, ref, cand).read_bytes()
        path.write_bytes(full[: len(full) // 2])
    elif content == "zip sans classeur":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("lisez-moi.txt", "bonjour")
    elif content == "mauvais xml":
        good = make_grid(tmp_path, ref, cand)
        with zipfile.ZipFile(good) as src:
            parts = {n: src.read(n) for n in src.namelist()}
        parts["xl/worksheets/sheet2.xml"] = b"<worksheet><sheetData><row>"
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in parts.items():
                zf.writestr(name, data)
    else:
        assert isinstance(content, bytes)
        path.write_bytes(content)
    reading = read(path, ref, cand)
    assert len(reading.anomalies) == 1
    (anomalie,) = reading.anomalies
    assert anomalie.cellule == ""
    assert anomalie.fichier == f"grilles/{path.name}"
    assert words in anomalie.message
    _no_decision(reading, ref, cand)


def test_missing_file(tmp_path: Path) -> None:
    """No file at all: one anomaly."""
    ref, cand = referentiel("CPECOM"), candidat()
    reading = read(tmp_path / "absent.xlsx", ref, cand)
    assert [a.message for a in reading.anomalies] == ["fichier introuvable"]


# --- values computed by a spreadsheet -----------------------------------------------------------


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as src:
        return {n: src.read(n) for n in src.namelist()}


def _sheet_part(parts: dict[str, bytes], sheet: str) -> str:
    names = re.findall(r'<sheet [^>]*name="([^"]+)"', parts["xl/workbook.xml"].decode())
    return f"xl/worksheets/sheet{names.index(sheet) + 1}.xml"


def _write_parts(path: Path, parts: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for part, data in parts.items():
            zf.writestr(part, data)


def _with_cached(path: Path, values: dict[str, str]) -> None:
    """Give Synthèse formula cells a cached value, as a spreadsheet would when saving."""
    parts = _parts(path)
    name = _sheet_part(parts, "Synthèse")
    xml = parts[name].decode()
    for cell, value in values.items():
        xml, n = re.subn(rf'<c r="{cell}"([^>]*?)( t="[a-z]+")?>(<f>.*?</f>)<v\s*/?>(</v>)?',
                         rf'<c r="{cell}"\1 t="str">\3<v>{value}</v>', xml)
        assert n == 1, cell
    parts[name] = xml.encode()
    _write_parts(path, parts)


def test_cached_values_disagreeing_with_certidocs(tmp_path: Path) -> None:
    """A file whose saved results say « Certifié » while certidocs computes « Incomplet »."""
    ref, cand = synthetic((3, 2)), candidat()
    marks = {"B1-01": "Acquis", "B1-02": "Acquis", "B1-03": "Acquis", "B2-01": "Acquis"}
    path = fill(make_grid(tmp_path, ref, cand), ref, cand, marks)
    plan = L.plan_grid(ref, ("B1", "B2"))
    _with_cached(path, {"G6": "Validé", "G7": "Validé", plan.decision_cell: "Certifié"})
    reading = read(path, ref, cand)
    assert reading.valeurs_calculees is True
    assert _cells(reading) == ["Synthèse!G7", f"Synthèse!{plan.decision_cell}"]
    assert "affiche « Certifié » mais certidocs calcule « Incomplet »" in (
        reading.anomalies[1].message)
    _no_decision(reading, ref, cand)


def test_cached_values_agreeing_are_accepted(tmp_path: Path) -> None:
    """The same file with the values certidocs computes: no anomaly."""
    ref, cand = synthetic((3, 2)), candidat()
    marks = {"B1-01": "Acquis", "B1-02": "Acquis", "B1-03": "Acquis", "B2-01": "Acquis",
             "B2-02": "Non acquis"}
    path = fill(make_grid(tmp_path, ref, cand), ref, cand, marks)
    plan = L.plan_grid(ref, ("B1", "B2"))
    _with_cached(path, {"G6": "Validé", "G7": "Non validé",
                        plan.decision_cell: "Validation partielle"})
    reading = read(path, ref, cand)
    assert reading.valeurs_calculees is True
    assert reading.anomalies == ()


def test_padded_value_in_a_file_saved_by_a_spreadsheet(tmp_path: Path) -> None:
    """«  Acquis » is tolerated, but a spreadsheet did not count it: the cell is named."""
    ref, cand = synthetic((2,)), candidat()
    path = fill(make_grid(tmp_path, ref, cand), ref, cand,
                {"B1-01": " Acquis", "B1-02": "Acquis"})
    plan = L.plan_grid(ref, ("B1",))
    _with_cached(path, {"G6": "Incomplet", plan.decision_cell: "Incomplet"})
    reading = read(path, ref, cand)
    assert _cells(reading) == ["B1!D5"]
    assert "entourée d'espaces" in reading.anomalies[0].message


# --- grid_has_input and speed -------------------------------------------------------------------


def test_grid_has_input(tmp_path: Path) -> None:
    """Blank: no; one evaluation or one observation: yes; unreadable: yes; absent: no."""
    ref, cand = synthetic((3,)), candidat()
    path = make_grid(tmp_path, ref, cand)
    assert grid_has_input(path) is False
    assert grid_has_input(tmp_path / "absent.xlsx") is False
    other = fill(path, ref, cand, {"B1-02": "Non acquis"}, out=tmp_path / "eval.xlsx")
    assert grid_has_input(other) is True
    other = fill(path, ref, cand, {}, observations={"B1-03": "vu"}, out=tmp_path / "obs.xlsx")
    assert grid_has_input(other) is True
    broken = tmp_path / "casse.xlsx"
    broken.write_bytes(b"PK\x03\x04 rien")
    assert grid_has_input(broken) is True


def test_reading_again_gives_the_same_reading(tmp_path: Path) -> None:
    """A 93-criteria grid read a hundred times gives the same reading (its speed is measured
    by `make bench`, never asserted here: the standards forbid timings in unit tests)."""
    path, ref, cand = _all_acquired(tmp_path)
    first = read(path, ref, cand)
    assert all(read(path, ref, cand) == first for _ in range(99))
    assert first.anomalies == ()
