"""resultats.json and resultats.xlsx: the session's outcomes, for scripts and for the office."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from certidocs.fileio import atomic_path
from certidocs.model import Anomalie, Referentiel, Resultat, ResultatBloc, Session
from certidocs.xlsxsafe import set_value

JSON_NAME = "resultats.json"
"""An export for people and scripts: no later step reads a decision from it (the register is
the only source of decisions)."""
XLSX_NAME = "resultats.xlsx"


def resultat_json(r: Resultat) -> dict[str, Any]:
    """One candidate as in resultats.json."""
    return {
        "numero": r.numero, "nom": r.nom, "prenom": r.prenom, "decision": r.decision,
        "blocs": {b.code: {"acquis": b.acquis, "total": b.total, "taux": b.taux,
                           "valide": b.valide, "capitalise": b.capitalise} for b in r.blocs},
        "rattrapage_possible": r.rattrapage_possible,
        "rattrapage_jusqu_au": r.rattrapage_jusqu_au.isoformat() if r.rattrapage_jusqu_au
        else None,
    }


def resultat_depuis_json(c: dict[str, Any], anomalies: tuple[Anomalie, ...] = ()) -> Resultat:
    """The outcome of one candidate from its ``resultat_json`` form (as the register keeps it);
    KeyError, TypeError or ValueError when a field is missing or malformed."""
    return Resultat(
        numero=c["numero"], nom=c["nom"], prenom=c["prenom"], decision=c["decision"],
        blocs=tuple(ResultatBloc(code, b["acquis"], b["total"], b["valide"],
                                 b.get("capitalise", False))
                    for code, b in c["blocs"].items()),
        rattrapage_possible=c["rattrapage_possible"],
        rattrapage_jusqu_au=dt.date.fromisoformat(c["rattrapage_jusqu_au"])
        if c.get("rattrapage_jusqu_au") else None,
        anomalies=anomalies)


def results_document(session: str, referentiel: str, resultats: list[Resultat],
                     anomalies: list[Anomalie]) -> dict[str, Any]:
    """The resultats.json document of ARCHITECTURE.md."""
    return {
        "session": session,
        "referentiel": referentiel,
        "candidats": [resultat_json(r) for r in resultats],
        "anomalies": [{"fichier": a.fichier, "cellule": a.cellule, "message": a.message}
                      for a in anomalies],
    }


def write_results(dossier: Path, session: Session, ref: Referentiel, resultats: list[Resultat],
                  anomalies: list[Anomalie]) -> tuple[Path, Path]:
    """Write both files atomically, resultats.json last; returns their paths.

    resultats.json is what `lancer` takes as the sign that results are up to date: written
    last, it never announces a resultats.xlsx that a crash left behind.

    Both are written as a stream, a row or a candidate at a time (openpyxl's write-only mode;
    the JSON text candidate by candidate): a 10,000-candidate session took hundreds of MiB
    while its workbook was held whole.
    """
    xlsx_path = dossier / XLSX_NAME
    with atomic_path(xlsx_path) as tmp:
        _write_workbook(tmp, session, ref, resultats, anomalies)
    json_path = dossier / JSON_NAME
    with atomic_path(json_path) as tmp, tmp.open("w", encoding="utf-8") as handle:
        _write_json(handle, session.nom, ref.code, resultats, anomalies)
    return json_path, xlsx_path


def _write_json(handle: IO[str], session: str, referentiel: str, resultats: list[Resultat],
                anomalies: list[Anomalie]) -> None:
    """The text ``json.dumps(results_document(...), ensure_ascii=False, indent=2)`` and a
    newline, written one candidate at a time."""
    def dumps(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, indent=2)

    def items(key: str, values: Iterator[dict[str, Any]], last: bool) -> None:
        end = "\n" if last else ",\n"
        first = next(values, None)
        if first is None:
            handle.write(f'  "{key}": []{end}')
            return
        handle.write(f'  "{key}": [\n')
        handle.write(textwrap.indent(dumps(first), "    "))
        for value in values:
            handle.write(",\n" + textwrap.indent(dumps(value), "    "))
        handle.write(f"\n  ]{end}")

    handle.write(f'{{\n  "session": {dumps(session)},\n  "referentiel": {dumps(referentiel)},\n')
    items("candidats", (resultat_json(r) for r in resultats), last=False)
    items("anomalies", ({"fichier": a.fichier, "cellule": a.cellule, "message": a.message}
                        for a in anomalies), last=True)
    handle.write("}\n")


WIDTH_ROWS = 200
"""Rows a column's width is measured on: enough to size it, and all a stream has to keep."""


def _write_workbook(path: Path, session: Session, ref: Referentiel, resultats: list[Resultat],
                    anomalies: list[Anomalie]) -> None:
    """resultats.xlsx, row by row (openpyxl write-only: no sheet is held in memory)."""
    from openpyxl import Workbook

    by_number = {c.numero: c.civilite for c in session.candidats}
    codes = [b.code for b in ref.blocs]
    percent = {6 + i for i in range(len(codes))}
    day = 7 + len(codes)

    def main_rows() -> Iterator[tuple[list[Any], dict[int, str]]]:
        for r in resultats:
            rates: dict[str, Any] = {b.code: ("capitalisé" if b.capitalise else b.taux)
                                     for b in r.blocs}
            row = [r.numero, by_number.get(r.numero, ""), r.nom, r.prenom, r.decision,
                   *[rates.get(code, "") for code in codes],
                   "Oui" if r.rattrapage_possible else "Non", r.rattrapage_jusqu_au]
            formats = {i: "0.0%" for i in percent if isinstance(row[i - 1], float)}
            yield row, {**formats, day: "DD/MM/YYYY"}

    titles = {b.code: b.intitule for b in ref.blocs}

    def detail_rows() -> Iterator[tuple[list[Any], dict[int, str]]]:
        for r in resultats:
            for b in r.blocs:
                yield ([r.numero, r.nom, r.prenom, b.code, titles.get(b.code, ""), b.acquis,
                        b.total, b.taux, "Oui" if b.valide else "Non",
                        "Oui" if b.capitalise else "Non"], {8: "0.0%"})

    wb = Workbook(write_only=True)
    _stream_sheet(wb, "Résultats", ["N° candidat", "Civilité", "Nom", "Prénom", "Décision",
                                    *[f"{code} (taux)" for code in codes],
                                    "Rattrapage possible", "Rattrapage jusqu'au"], main_rows())
    _stream_sheet(wb, "Détail par bloc", ["N° candidat", "Nom", "Prénom", "Bloc",
                                          "Intitulé du bloc", "Acquis", "Total", "Taux",
                                          "Validé", "Capitalisé"], detail_rows())
    _stream_sheet(wb, "Anomalies", ["Fichier", "Cellule", "Anomalie"],
                  (([a.fichier, a.cellule, a.message], {}) for a in anomalies))
    wb.save(path)


def _stream_sheet(wb: Any, title: str, header: list[str],
                  rows: Iterator[tuple[list[Any], dict[int, str]]]) -> None:
    """A sheet: bold white header on blue, frozen; column widths from its first WIDTH_ROWS
    rows; each row's ``{column: number format}`` applied. Text stays text (xlsxsafe)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    first = list(itertools.islice(rows, WIDTH_ROWS - 1))
    widths: dict[int, int] = {}
    for values in [header, *(row for row, _ in first)]:
        for column, value in enumerate(values, start=1):
            widths[column] = max(widths.get(column, 0), len(str(value or "")))
    for column, width in widths.items():
        ws.column_dimensions[get_column_letter(column)].width = min(width + 2, 60)
    ws.freeze_panes = "A2"
    font, fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1F4E79")
    cells = []
    for value in header:
        cell = set_value(WriteOnlyCell(ws), value)
        cell.font, cell.fill = font, fill
        cells.append(cell)
    ws.append(cells)
    for values, formats in itertools.chain(first, rows):
        row = []
        for column, value in enumerate(values, start=1):
            cell = set_value(WriteOnlyCell(ws), value)
            if column in formats:
                cell.number_format = formats[column]
            row.append(cell)
        ws.append(row)
