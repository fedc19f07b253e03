"""resultats.json and resultats.xlsx: the session's outcomes, for scripts and for the office."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from certidocs.fileio import atomic_path
from certidocs.model import Anomalie, Referentiel, Resultat, ResultatBloc, Session
from certidocs.xlsxsafe import append_row

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
                     anomalies: list[Anomalie],
                     remarques: list[Anomalie] | None = None) -> dict[str, Any]:
    """The resultats.json document of ARCHITECTURE.md; ``remarques`` (what a program other
    than Excel changed in a grid, not held against it) only when there are some."""
    document: dict[str, Any] = {
        "session": session,
        "referentiel": referentiel,
        "candidats": [resultat_json(r) for r in resultats],
        "anomalies": [{"fichier": a.fichier, "cellule": a.cellule, "message": a.message}
                      for a in anomalies],
    }
    if remarques:
        document["remarques"] = [{"fichier": a.fichier, "cellule": a.cellule,
                                  "message": a.message} for a in remarques]
    return document


def write_results(dossier: Path, session: Session, ref: Referentiel, resultats: list[Resultat],
                  anomalies: list[Anomalie],
                  remarques: list[Anomalie] | None = None) -> tuple[Path, Path]:
    """Write both files atomically, resultats.json last; returns their paths.

    resultats.json is what `lancer` takes as the sign that results are up to date: written
    last, it never announces a resultats.xlsx that a crash left behind.
    """
    document = results_document(session.nom, ref.code, resultats, anomalies, remarques)
    xlsx_path = dossier / XLSX_NAME
    wb = _workbook(session, ref, resultats, anomalies)
    with atomic_path(xlsx_path) as tmp:
        wb.save(tmp)
    json_path = dossier / JSON_NAME
    with atomic_path(json_path) as tmp:
        tmp.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n",
                       encoding="utf-8")
    return json_path, xlsx_path


def _workbook(session: Session, ref: Referentiel, resultats: list[Resultat],
              anomalies: list[Anomalie]) -> Any:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    by_number = {c.numero: c for c in session.candidats}
    wb = Workbook()
    ws = wb.active
    ws.title = "Résultats"
    codes = [b.code for b in ref.blocs]
    append_row(ws, ["N° candidat", "Civilité", "Nom", "Prénom", "Décision",
                    *[f"{code} (taux)" for code in codes], "Rattrapage possible",
                    "Rattrapage jusqu'au"])
    for r in resultats:
        rates: dict[str, Any] = {b.code: ("capitalisé" if b.capitalise else b.taux)
                                 for b in r.blocs}
        c = by_number.get(r.numero)
        append_row(ws, [r.numero, c.civilite if c else "", r.nom, r.prenom, r.decision,
                        *[rates.get(code, "") for code in codes],
                        "Oui" if r.rattrapage_possible else "Non", r.rattrapage_jusqu_au])
    for row in ws.iter_rows(min_row=2, min_col=6, max_col=5 + len(codes)):
        for cell in row:
            if isinstance(cell.value, float):
                cell.number_format = "0.0%"
    for row in ws.iter_rows(min_row=2, min_col=7 + len(codes), max_col=7 + len(codes)):
        row[0].number_format = "DD/MM/YYYY"

    detail = wb.create_sheet("Détail par bloc")
    append_row(detail, ["N° candidat", "Nom", "Prénom", "Bloc", "Intitulé du bloc", "Acquis",
                        "Total", "Taux", "Validé", "Capitalisé"])
    titles = {b.code: b.intitule for b in ref.blocs}
    for r in resultats:
        for b in r.blocs:
            append_row(detail, [r.numero, r.nom, r.prenom, b.code, titles.get(b.code, ""),
                                b.acquis, b.total, b.taux, "Oui" if b.valide else "Non",
                                "Oui" if b.capitalise else "Non"])
            detail.cell(row=detail._current_row, column=8).number_format = "0.0%"

    anomalies_ws = wb.create_sheet("Anomalies")
    append_row(anomalies_ws, ["Fichier", "Cellule", "Anomalie"])
    for a in anomalies:
        append_row(anomalies_ws, [a.fichier, a.cellule, a.message])

    header_font, fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1F4E79")
    for sheet in wb.worksheets:
        for cell in sheet[1]:
            cell.font, cell.fill = header_font, fill
        sheet.freeze_panes = "A2"
        # Widths from the first 200 rows: enough to size columns, cheap for 1,000 candidates.
        widths: dict[int, int] = {}
        for row in sheet.iter_rows(min_row=1, max_row=min(sheet.max_row, 200)):
            for cell in row:
                widths[cell.column] = max(widths.get(cell.column, 0), len(str(cell.value or "")))
        for column, width in widths.items():
            sheet.column_dimensions[get_column_letter(column)].width = min(width + 2, 60)
        _impression(sheet, session)
    return wb


def _impression(sheet: Any, session: Session) -> None:
    """Printed from Excel or LibreOffice: landscape when wide, one page wide, the header row
    on every page, wrapped long texts (anomalies, titles) with their rows heightened."""
    from openpyxl.styles import Alignment

    from certidocs.impression import ajuster_hauteurs, largeurs, mise_en_page

    wide = sum(largeurs(sheet).values()) > 90
    mise_en_page(sheet, paysage=wide, lignes_titre="1:1", pied=f"Session {session.nom}"
                 .replace("&", "&&"))
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and len(cell.value) > 58:
                cell.alignment = wrap
    ajuster_hauteurs(sheet, 2)
