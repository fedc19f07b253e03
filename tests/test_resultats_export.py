"""resultats.json and resultats.xlsx written as a stream: the same text and cells as before."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
from test_documents_data import referentiel, session

from certidocs.model import Anomalie, Resultat, ResultatBloc
from certidocs.resultats import results_document, write_results


def _resultats(n: int) -> list[Resultat]:
    return [Resultat(f"{i:03d}", "=HYPERLINK(\"x\")" if i == 0 else f"Nom{i}", f"Prénom{i}",
                     "Certifié" if i % 2 else "Non certifié",
                     (ResultatBloc("BC01", 14, 18, True, i == 3), ResultatBloc("BC02", 3, 10,
                                                                               False)),
                     i % 2 == 0, dt.date(2027, 6, 30) if i % 2 == 0 else None)
            for i in range(n)]


def test_json_is_the_document_as_json_dumps_writes_it(tmp_path: Path) -> None:
    ref, s = referentiel(), session()
    for resultats, anomalies in [(_resultats(3), [Anomalie("grilles/a.xlsx", "BC01!D7",
                                                           "« vide » \\ \"x\"")]),
                                 (_resultats(1), []), ([], [])]:
        json_path, _ = write_results(tmp_path, s, ref, resultats, anomalies)
        expected = json.dumps(results_document(s.nom, ref.code, resultats, anomalies),
                              ensure_ascii=False, indent=2) + "\n"
        assert json_path.read_text(encoding="utf-8") == expected


def test_workbook_rows_formats_and_text_kept(tmp_path: Path) -> None:
    ref, s = referentiel(), session()
    resultats = _resultats(250)
    _, xlsx = write_results(tmp_path, s, ref, resultats,
                            [Anomalie("grilles/a.xlsx", "BC01!D7", "=1+1")])
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["Résultats", "Détail par bloc", "Anomalies"]
    main = wb["Résultats"]
    assert main.freeze_panes == "A2" and main["A1"].font.bold
    assert main.max_row == 251
    codes = [b.code for b in ref.blocs]
    first = [c.value for c in main[2]]
    assert first[0] == "000" and first[1] in (None, "")  # not in the session: no civilité
    assert first[2:5] == ["=HYPERLINK(\"x\")", "Prénom0", "Non certifié"]
    assert main.cell(2, 3).data_type == "s"  # text, never a formula
    assert main.cell(2, 6).value == resultats[0].blocs[0].taux
    assert main.cell(2, 6).number_format == "0.0%"
    assert main.cell(5, 6).value == "capitalisé"
    assert main.cell(2, 7 + len(codes)).number_format == "DD/MM/YYYY"
    assert main.cell(2, 7 + len(codes)).value == dt.datetime(2027, 6, 30)
    assert main.column_dimensions["C"].width == len("=HYPERLINK(\"x\")") + 2
    detail = wb["Détail par bloc"]
    assert detail.max_row == 1 + 2 * 250 and detail.cell(2, 8).number_format == "0.0%"
    assert wb["Anomalies"].cell(2, 3).value == "=1+1"
    assert wb["Anomalies"].cell(2, 3).data_type == "s"
