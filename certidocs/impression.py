"""How a workbook prints: page set-up and row heights, for every sheet certidocs writes.

Excel and LibreOffice do not grow a row to fit wrapped text when the file says nothing about
its height (LibreOffice prints such rows one line high, the text overlapping the next rows),
and print a wide sheet on as many portrait pages as it has columns. Every sheet certidocs
writes (session.xlsx, the jurors' grids, resultats.xlsx) goes through :func:`mise_en_page`,
and every row whose text wraps gets the height :func:`hauteur_ligne` computes from the text
and the column widths.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

POINTS_PAR_LIGNE = 15.0
"""Height of one line of 11-point Calibri (Excel's default font), in points."""

MARGE_POINTS = 3.0

LARGEUR_DEFAUT = 8.43
"""Excel's width of a column whose width the file does not give, in width units."""

CARACTERES_PAR_UNITE = 1.1
"""Characters of proportional text that fit in one unit of Excel column width: a width unit
is one « 0 » of the default font; average French text is a little narrower than digits."""


def lignes(texte: str, largeur: float, taille: float = 11.0) -> int:
    """How many lines ``texte`` takes once wrapped in a column ``largeur`` units wide, at
    ``taille`` points (word wrap approximated by characters, rounded up per paragraph)."""
    if not texte:
        return 1
    per_line = max(1.0, (largeur - 1) * CARACTERES_PAR_UNITE * 11.0 / taille)
    total = 0
    for paragraph in str(texte).split("\n"):
        # A word longer than the rest of the line moves whole to the next: +10 % slack.
        total += max(1, math.ceil(len(paragraph) * 1.1 / per_line))
    return total


def hauteur_ligne(cellules: Iterable[tuple[Any, float]], *, taille: float = 11.0,
                  minimum_lignes: int = 1) -> float:
    """The height (points) a row needs: the tallest of its ``(text, column width)`` cells,
    at least ``minimum_lignes`` lines."""
    most = minimum_lignes
    for texte, largeur in cellules:
        if texte is None or texte == "":
            continue
        most = max(most, lignes(str(texte), largeur, taille))
    return round(most * POINTS_PAR_LIGNE * taille / 11.0 + MARGE_POINTS, 1)


def mise_en_page(ws: Any, *, paysage: bool, lignes_titre: str | None = None,
                 pied: str = "", centre: str = "&A") -> None:
    """A4, one page wide (as many pages tall as needed), ``lignes_titre`` (« 1:1 ») repeated
    on every page, narrow margins, the sheet's name and page numbers in the footer."""
    ws.page_setup.orientation = "landscape" if paysage else "portrait"
    from openpyxl.worksheet.worksheet import Worksheet

    # From the class: a write-only sheet (resultats.xlsx) has the page set-up, not the names.
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    if lignes_titre:
        ws.print_title_rows = lignes_titre
    if pied:
        ws.oddFooter.left.text = pied
        ws.oddFooter.left.size = 8
    ws.oddFooter.center.text = centre
    ws.oddFooter.center.size = 8
    ws.oddFooter.right.text = "Page &P / &N"
    ws.oddFooter.right.size = 8


def largeurs(ws: Any, defaut: float = LARGEUR_DEFAUT) -> dict[int, float]:
    """The width of each column of ``ws`` by its 1-based index (Excel's default when unset)."""
    from openpyxl.utils import column_index_from_string

    out: dict[int, float] = {}
    for letter, dim in ws.column_dimensions.items():
        if dim.width:
            out[column_index_from_string(letter)] = float(dim.width)
    return out or {0: defaut}


def ajuster_hauteurs(ws: Any, premiere: int = 1, *, taille: float = 11.0,
                     minimum_lignes: int = 1) -> None:
    """Give every row of ``ws`` from ``premiere`` on the height its wrapped texts need."""
    widths = largeurs(ws)
    for row in ws.iter_rows(min_row=premiere):
        height = hauteur_utile(((c.value, widths.get(c.column, LARGEUR_DEFAUT)) for c in row),
                               taille=taille, minimum_lignes=minimum_lignes)
        if height is not None:
            ws.row_dimensions[row[0].row].height = height


def hauteur_utile(cellules: Iterable[tuple[Any, float]], *, taille: float = 11.0,
                  minimum_lignes: int = 1) -> float | None:
    """The height (points) to give a row of ``(value, column width)`` cells, None when
    Excel's default suits it: only texts count (formulas and numbers never wrap)."""
    texts = [(v, w) for v, w in cellules if isinstance(v, str) and not v.startswith("=")]
    if not texts:
        return None
    height = hauteur_ligne(texts, taille=taille, minimum_lignes=minimum_lignes)
    if height > POINTS_PAR_LIGNE + MARGE_POINTS or minimum_lignes > 1:
        return height
    return None
