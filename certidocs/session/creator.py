"""Write a session.xlsx ready for office staff to fill: headers, drop-downs, date formats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from certidocs.errors import SessionError
from certidocs.fileio import atomic_path
from certidocs.impression import mise_en_page
from certidocs.model import Referentiel
from certidocs.session.layout import (
    INSTRUCTIONS,
    META_CREE_LE,
    META_IDENTIFIANT,
    META_SHEET,
    SESSION,
    SESSION_CHAMPS,
    TABLES,
    Feuille,
)
from certidocs.xlsxsafe import set_value

FILENAME = "session.xlsx"
DATE_FORMAT = "DD/MM/YYYY"
ROWS = 300  # rows prepared with drop-downs and formats; more can be added by copying a row
HEADER_FILL = "1F4E79"
LABEL_FILL = "DDEBF7"


def create_session(dossier: Path, referentiel: Referentiel) -> Path:
    """Write ``dossier/session.xlsx`` for ``referentiel``; refuses to replace an existing one."""
    target = dossier / FILENAME
    if target.exists():
        raise SessionError(f"{target} existe déjà : il n'a pas été modifié (il contient "
                           "peut-être déjà la saisie du bureau)")
    if dossier.exists() and not dossier.is_dir():
        raise SessionError(f"{dossier} : c'est un fichier, pas un dossier")
    wb = _build(referentiel)
    try:
        with atomic_path(target, overwrite=False) as tmp:
            wb.save(tmp)
    except FileExistsError:
        raise SessionError(f"{target} existe déjà : il n'a pas été modifié") from None
    return target


def _build(ref: Referentiel) -> Any:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor=HEADER_FILL)
    wrap = Alignment(wrap_text=True, vertical="center")

    ws = wb.active
    ws.title = SESSION
    ws["A1"], ws["B1"] = "Rubrique", "Valeur"
    for cell in (ws["A1"], ws["B1"]):
        cell.font, cell.fill = header_font, header_fill
    prefill = {"referentiel": ref.code, "intitule": ref.certification.intitule}
    label_fill = PatternFill("solid", fgColor=LABEL_FILL)
    for row, champ in enumerate(SESSION_CHAMPS, start=2):
        label = ws.cell(row=row, column=1, value=champ.titre + (" *" if champ.obligatoire else ""))
        label.fill, label.font = label_fill, Font(bold=champ.obligatoire)
        value = set_value(ws.cell(row=row, column=2), prefill.get(champ.champ))
        if champ.kind == "date":
            value.number_format = DATE_FORMAT
        if champ.aide:
            label.comment = Comment(champ.aide, "certidocs")
    ws.column_dimensions["A"].width = 32
    ws.column_dimensions["B"].width = 44
    ws.column_dimensions["D"].width = 90
    for row, line in enumerate(INSTRUCTIONS, start=1):
        cell = ws.cell(row=row, column=4, value=line)
        cell.font = Font(bold=row == 1, color="1F4E79" if row == 1 else "404040")
    blocs = "; ".join(b.code for b in ref.blocs)
    ws.cell(row=len(INSTRUCTIONS) + 2, column=4,
            value=f"Blocs de ce référentiel : {blocs}").font = Font(italic=True)
    ws.cell(row=len(INSTRUCTIONS) + 3, column=4,
            value="* : rubrique obligatoire").font = Font(italic=True)
    ws.freeze_panes = "A2"
    mise_en_page(ws, paysage=True)

    for feuille in TABLES:
        _table_sheet(wb, feuille, ref, header_font, header_fill, wrap, Comment,
                     DataValidation, get_column_letter)
    _meta(wb)
    return wb


def new_identifier() -> str:
    """A fresh session identifier (uuid4): unique across workspaces, unlike a folder name."""
    import uuid

    return str(uuid.uuid4())


def _meta(wb: Any) -> None:
    """The very hidden sheet that identifies the session (its grids carry the identifier)."""
    import datetime as dt

    ws = wb.create_sheet(META_SHEET)
    ws["A1"], ws["B1"] = META_IDENTIFIANT, new_identifier()
    ws["A2"], ws["B2"] = META_CREE_LE, dt.datetime.now().replace(microsecond=0).isoformat()
    ws.sheet_state = "veryHidden"
    ws.protection.sheet = True


def _table_sheet(wb: Any, feuille: Feuille, ref: Referentiel, header_font: Any, header_fill: Any,
                 wrap: Any, comment_cls: Any, validation_cls: Any, letter: Any) -> None:
    ws = wb.create_sheet(feuille.nom)
    for col, colonne in enumerate(feuille.colonnes, start=1):
        cell = ws.cell(row=1, column=col, value=colonne.titre)
        cell.font, cell.fill, cell.alignment = header_font, header_fill, wrap
        aide = colonne.aide
        if colonne.champ == "blocs_presentes":
            aide = f"{aide}. Blocs : {'; '.join(b.code for b in ref.blocs)}"
        if colonne.champ == "voie_acces":
            choix = [v for v in colonne.choix if v in ref.voies_acces] or list(colonne.choix)
        else:
            choix = list(colonne.choix)
        if colonne.obligatoire:
            aide = ("Obligatoire. " + aide).strip()
        if aide:
            cell.comment = comment_cls(aide, "certidocs")
        column = letter(col)
        ws.column_dimensions[column].width = colonne.largeur
        rng = f"{column}2:{column}{ROWS + 1}"
        if choix:
            dv = validation_cls(type="list", formula1='"' + ",".join(choix) + '"',
                                allow_blank=True, showErrorMessage=True,
                                errorTitle="Valeur non prévue",
                                error="Choisissez une valeur dans la liste : " + ", ".join(choix))
            ws.add_data_validation(dv)
            dv.add(rng)
        if colonne.kind == "date":
            for row in range(2, ROWS + 2):
                ws.cell(row=row, column=col).number_format = DATE_FORMAT
        elif colonne.kind in ("text", "list", "email", "choice") and colonne.champ in (
            "numero", "code_postal", "code_insee_naissance"
        ):
            # Stored as text so that 00123 and 01000 keep their leading zeros.
            for row in range(2, ROWS + 2):
                ws.cell(row=row, column=col).number_format = "@"
    ws.row_dimensions[1].height = 32
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{letter(len(feuille.colonnes))}1"
    # Printed: landscape when wider than a portrait page, one page wide, headers repeated.
    wide = sum(c.largeur for c in feuille.colonnes) > 90
    mise_en_page(ws, paysage=wide, lignes_titre="1:1")
