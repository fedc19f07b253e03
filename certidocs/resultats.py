"""resultats.json and resultats.xlsx: the session's outcomes, for scripts and for the office."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

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
    """Write both files atomically, resultats.json last; returns their paths (for outcomes
    already in memory: a revision; the results step streams through ``ExportResultats``)."""
    with ExportResultats(dossier, session, ref) as export:
        export.ajouter(resultats, anomalies)
        export.remarquer(remarques or [])
        return export.publier()


LIGNES_LARGEUR = 200
"""Rows (header included) whose texts size the columns of each sheet: enough to size them,
and all a sheet holds in memory before its rows go to disk."""

TEXTE_A_REPLIER = 58
"""Texts longer than this (characters) wrap in their cell, their row heightened to fit."""

LARGEUR_MAX = 60
"""The widest a column is made, in Excel width units (longer texts wrap)."""

LARGEUR_PAYSAGE = 90
"""Sheets wider than this (sum of column widths) print in landscape."""


class ExportResultats:
    """resultats.json and resultats.xlsx written as candidates come, in constant memory.

    Use as a context manager; ``ajouter`` each lot of outcomes (and their anomalies) in the
    session's order, ``remarquer`` once the grids are all read, then ``publier``: both files
    replace the old ones atomically, resultats.json last (``lancer`` takes it as the sign that
    results are up to date: it never announces a resultats.xlsx a crash left behind). Leaving
    the block without ``publier`` (an error) leaves the old files as they were.

    The workbook is openpyxl's write-only mode, which keeps the look resultats.xlsx had as a
    whole workbook in memory (column widths, frozen header, header style, number formats,
    wrapped texts with their row heights, print titles, page set-up, footers), with two
    constraints followed here: a sheet's column widths and frozen panes must be set before its
    first row (so the first LIGNES_LARGEUR rows of each sheet wait in memory), and a row's
    height before that row is appended (openpyxl 3.1.5's ``WorksheetWriter.write_row`` reads
    ``row_dimensions`` as it writes the row; the dimension is dropped once written). Nothing
    the look needs is missing from that mode, so no XML of our own is written. At 10,000
    candidates (5 blocs) the whole workbook was 620,000 cells in memory; now three sheets of
    LIGNES_LARGEUR rows at the most, plus openpyxl's table of distinct strings (names,
    messages). Measured on the bench's session of 2,000 candidates (30/11/2026), peak RSS of
    the whole results step: 171 MiB before, 87 MiB after (83 MiB at 500). The anomalies wait
    in a temporary file until the candidates are all written (resultats.json lists them
    after the candidates).
    """

    def __init__(self, dossier: Path, session: Session, ref: Referentiel) -> None:
        self.dossier, self.session, self.ref = dossier, session, ref
        self.codes = [b.code for b in ref.blocs]
        self._titles = {b.code: b.intitule for b in ref.blocs}
        self._civilites = {c.numero: c.civilite for c in session.candidats}
        self._stack = contextlib.ExitStack()
        self._candidats = 0
        self._remarques: list[Anomalie] = []

    def __enter__(self) -> ExportResultats:
        from openpyxl import Workbook

        stack = self._stack
        self.json_path, self.xlsx_path = self.dossier / JSON_NAME, self.dossier / XLSX_NAME
        # Anonymous files until publication: a run killed meanwhile leaves nothing behind.
        self._json = stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8"))
        self._spool = stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8"))
        self._json.write("{\n" + "".join(f"  {json.dumps(k)}: {_dump(v)},\n" for k, v in (
            ("session", self.session.nom), ("referentiel", self.ref.code))) + '  "candidats": [')
        self._wb = Workbook(write_only=True)
        self._sheets = [
            _Feuille(self._wb, "Résultats", self.session, [
                "N° candidat", "Civilité", "Nom", "Prénom", "Décision",
                *[f"{code} (taux)" for code in self.codes], "Rattrapage possible",
                "Rattrapage jusqu'au"]),
            _Feuille(self._wb, "Détail par bloc", self.session, [
                "N° candidat", "Nom", "Prénom", "Bloc", "Intitulé du bloc", "Acquis", "Total",
                "Taux", "Validé", "Capitalisé"]),
            _Feuille(self._wb, "Anomalies", self.session, ["Fichier", "Cellule", "Anomalie"]),
        ]
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stack.__exit__(kind, exc, tb)

    def ajouter(self, resultats: Iterable[Resultat], anomalies: Iterable[Anomalie]) -> None:
        """Write these outcomes (in the session's order) and keep their anomalies for the end
        of both files."""
        main, detail, _ = self._sheets
        rate_cols = range(5, 5 + len(self.codes))
        for r in resultats:
            self._json.write(("\n" if not self._candidats else ",\n")
                             + _indent(_dump(resultat_json(r), indent=2), 4))
            self._candidats += 1
            rates: dict[str, Any] = {b.code: ("capitalisé" if b.capitalise else b.taux)
                                     for b in r.blocs}
            row = [r.numero, self._civilites.get(r.numero, ""), r.nom, r.prenom, r.decision,
                   *[rates.get(code, "") for code in self.codes],
                   "Oui" if r.rattrapage_possible else "Non", r.rattrapage_jusqu_au]
            main.ajouter(row, {**{i: "0.0%" for i in rate_cols if isinstance(row[i], float)},
                               len(row) - 1: "DD/MM/YYYY"})
            for b in r.blocs:
                detail.ajouter([r.numero, r.nom, r.prenom, b.code, self._titles.get(b.code, ""),
                                b.acquis, b.total, b.taux, "Oui" if b.valide else "Non",
                                "Oui" if b.capitalise else "Non"], {7: "0.0%"})
        for a in anomalies:
            self._spool.write(json.dumps([a.fichier, a.cellule, a.message]) + "\n")

    def remarquer(self, remarques: Iterable[Anomalie]) -> None:
        """What programs other than Excel changed in the grids (resultats.json only)."""
        self._remarques.extend(remarques)

    def publier(self) -> tuple[Path, Path]:
        """Finish both files and put them in place, resultats.json last; their paths."""
        out = self._json
        out.write("\n  ]," if self._candidats else "],")
        out.write('\n  "anomalies": [')
        self._spool.seek(0)
        count = 0
        for line in self._spool:
            fichier, cellule, message = json.loads(line)
            self._sheets[2].ajouter([fichier, cellule, message], {})
            out.write(("\n" if not count else ",\n") + _indent(_dump(
                {"fichier": fichier, "cellule": cellule, "message": message}, indent=2), 4))
            count += 1
        out.write("\n  ]" if count else "]")
        if self._remarques:
            out.write(',\n  "remarques": ' + _indent(_dump(
                [{"fichier": a.fichier, "cellule": a.cellule, "message": a.message}
                 for a in self._remarques], indent=2), 2).lstrip())
        out.write("\n}\n")
        for sheet in self._sheets:
            sheet.fermer()
        with atomic_path(self.xlsx_path) as tmp:
            self._wb.save(tmp)
        out.seek(0)
        with atomic_path(self.json_path) as tmp, tmp.open("w", encoding="utf-8") as fh:
            shutil.copyfileobj(out, fh)
        self._stack.close()
        return self.json_path, self.xlsx_path


def _dump(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent)


def _indent(text: str, spaces: int) -> str:
    """``text`` (json.dumps output: no raw newline inside strings) moved right, as json.dumps
    indents what it nests."""
    pad = " " * spaces
    return "\n".join(pad + line for line in text.split("\n"))


class _Feuille:
    """One write-only sheet of resultats.xlsx: its first LIGNES_LARGEUR rows wait to size the
    columns, then every row goes straight to openpyxl's file, styled as the whole-workbook
    version styled it."""

    def __init__(self, wb: Any, title: str, session: Session, header: list[Any]) -> None:
        self.ws = wb.create_sheet(title)
        self.session = session
        self._waiting: list[tuple[list[Any], dict[int, str]]] = []
        self._widths: dict[int, float] | None = None
        self._rows = 0
        self.ajouter(header, {})

    def ajouter(self, values: list[Any], formats: dict[int, str]) -> None:
        """One row; ``formats`` gives the number format of some columns (0-based)."""
        if self._widths is not None:
            self._write(values, formats)
            return
        self._waiting.append((values, formats))
        if len(self._waiting) >= LIGNES_LARGEUR:
            self._start()

    def _start(self) -> None:
        from openpyxl.utils import get_column_letter

        from certidocs.impression import LARGEUR_DEFAUT, mise_en_page

        widths: dict[int, int] = {}
        for values, _ in self._waiting:
            for column, value in enumerate(values, start=1):
                widths[column] = max(widths.get(column, 0), len(str(value or "")))
        self._widths = {c: float(min(w + 2, LARGEUR_MAX)) for c, w in widths.items()}
        for column, width in self._widths.items():
            self.ws.column_dimensions[get_column_letter(column)].width = width
        self.ws.freeze_panes = "A2"
        wide = sum(self._widths.values() or [LARGEUR_DEFAUT]) > LARGEUR_PAYSAGE
        mise_en_page(self.ws, paysage=wide, lignes_titre="1:1",
                     pied=f"Session {self.session.nom}".replace("&", "&&"))
        waiting, self._waiting = self._waiting, []
        for values, formats in waiting:
            self._write(values, formats)

    def _write(self, values: list[Any], formats: dict[int, str]) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Font, PatternFill

        from certidocs.impression import LARGEUR_DEFAUT, hauteur_utile

        assert self._widths is not None
        self._rows += 1
        header = self._rows == 1
        cells: list[Any] = []
        for i, value in enumerate(values):
            fmt = formats.get(i)
            long_text = not header and isinstance(value, str) and len(value) > TEXTE_A_REPLIER
            formula_like = isinstance(value, str) and value.startswith("=")
            if not (header or fmt or long_text or formula_like):
                cells.append(value)
                continue
            cell = set_value(WriteOnlyCell(self.ws), value)
            if header:
                cell.font = Font(bold=True, color="FFFFFF")
                cell.fill = PatternFill("solid", fgColor="1F4E79")
            if fmt:
                cell.number_format = fmt
            if long_text:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            cells.append(cell)
        height = None if header else hauteur_utile(
            (v, self._widths.get(c, LARGEUR_DEFAUT)) for c, v in enumerate(values, start=1))
        if height is not None:
            self.ws.row_dimensions[self._rows].height = height
        self.ws.append(cells)
        if height is not None:
            del self.ws.row_dimensions[self._rows]  # written: openpyxl need not keep it

    def fermer(self) -> None:
        """Write the rows still waiting (a sheet shorter than LIGNES_LARGEUR)."""
        if self._widths is None:
            self._start()
