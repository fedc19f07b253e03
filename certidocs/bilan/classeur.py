"""The review's workbook: one sheet per table of ``calculs``, a « Lisez-moi » sheet with the
scope, and native Excel charts (openpyxl.chart) beside the tables a person would rather see.

The package is deterministic: the document properties carry the review's date, every zip
member is dated 1 January 1980, so the same register gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import zipfile
from typing import Any

POURCENTAGE = "0.0 %"
JOURS = "0"
DATE = "DD/MM/YYYY"
TAUX_COLONNES = ("Taux", "IC 95 % bas", "IC 95 % haut", "Taux de certification",
                 "Concordance avec le bloc", "Taux d'acquis observé",
                 "Taux attendu (autres sessions)", "Taux de référence")
POINTS_COLONNES = ("Écart", "Écart validés − non validés")
LARGEUR_MAX = 60


def _cell(value: Any) -> Any:
    """A value as openpyxl writes it: NaN and None become an empty cell."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return value


def _sheet(wb: Any, name: str, table: Any) -> Any:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(name[:31])
    headers = [str(c) for c in table.columns]
    ws.append(headers)
    for row in table.itertuples(index=False):
        ws.append([_cell(v) for v in row])
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DCE3EC")
    for i, header in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        fmt = (POURCENTAGE if header in TAUX_COLONNES or header in POINTS_COLONNES
               else JOURS if header.startswith("Jours") else None)
        longest = len(header)
        for (value,) in ws.iter_rows(min_row=2, min_col=i, max_col=i, values_only=True):
            longest = max(longest, len(str(value)) if value is not None else 0)
        ws.column_dimensions[get_column_letter(i)].width = min(LARGEUR_MAX, longest + 2)
        for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
            if fmt:
                cell.number_format = fmt
            elif isinstance(cell.value, dt.date):
                cell.number_format = DATE
    ws.freeze_panes = "A2"
    if len(table):
        ws.auto_filter.ref = ws.dimensions
    return ws


def _bar_chart(ws: Any, title: str, explanation: str, categories: int, series: list[int],
               rows: int, anchor: str, *, stacked: bool = False, percent: bool = False) -> None:
    """A native bar chart of columns ``series`` (1-based) against column ``categories``."""
    from openpyxl.chart import BarChart, Reference

    chart = BarChart()
    chart.type = "col"
    chart.title = title
    if stacked:
        chart.grouping = "stacked"
        chart.overlap = 100
    for col in series:
        chart.add_data(Reference(ws, min_col=col, min_row=1, max_row=rows + 1),
                       titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=categories, min_row=2, max_row=rows + 1))
    if percent:
        chart.y_axis.numFmt = "0%"
        chart.y_axis.scaling.min = 0
        chart.y_axis.scaling.max = 1
    chart.y_axis.delete = False
    chart.x_axis.delete = False
    chart.width, chart.height = 24, 10
    ws.add_chart(chart, anchor)
    # the one sentence that says how to read it, just above the chart
    cell = ws[anchor]
    ws.cell(row=max(1, cell.row - 1), column=cell.column, value=explanation)


def ecrire_classeur(tables: dict[str, Any], perimetre: list[tuple[str, str]],
                    date_bilan: dt.date) -> bytes:
    """The workbook's bytes: « Lisez-moi » (``perimetre``: label, value rows), then one sheet
    per table (``calculs.toutes``) with native charts on « Sessions », « Blocs », « Jurés »
    and « Voies d'accès »."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.writer.excel import ExcelWriter

    wb = Workbook()
    readme = wb.active
    readme.title = "Lisez-moi"
    for label, value in perimetre:
        readme.append([label, value])
    for (cell,) in readme.iter_rows(min_col=1, max_col=1):
        cell.font = Font(bold=True)
    for (cell,) in readme.iter_rows(min_col=2, max_col=2):
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    readme.column_dimensions["A"].width = 34
    readme.column_dimensions["B"].width = 110
    sheets = {name: _sheet(wb, name, table) for name, table in tables.items()}
    n = len(tables["Sessions"])
    if n:
        cols = list(tables["Sessions"].columns)
        _bar_chart(sheets["Sessions"], "Décisions par session",
                   "Graphique : chaque barre est une session, empilée par décision.",
                   cols.index("Session") + 1,
                   [cols.index(c) + 1 for c in ("Certifiés", "Validations partielles",
                                                 "Non certifiés", "Absents")],
                   n, f"B{n + 5}", stacked=True)
    n = len(tables["Blocs"])
    if n:
        cols = list(tables["Blocs"].columns)
        _bar_chart(sheets["Blocs"], "Taux de validation par bloc",
                   "Graphique : part des blocs évalués dans l'année qui ont été validés.",
                   cols.index("Bloc") + 1, [cols.index("Taux") + 1], n, f"B{n + 5}",
                   percent=True)
    n = len(tables["Jurés"])
    if n:
        cols = list(tables["Jurés"].columns)
        _bar_chart(sheets["Jurés"], "Taux d'« Acquis » par juré et taux de référence",
                   "Graphique : part des critères « Acquis » sur les grilles signées par chaque "
                   "juré, et médiane des autres jurés classés de la même certification.",
                   cols.index("Juré") + 1, [cols.index("Taux") + 1,
                                            cols.index("Taux de référence") + 1], n,
                   f"B{n + 5}", percent=True)
    n = len(tables["Voies d'accès"])
    if n:
        cols = list(tables["Voies d'accès"].columns)
        _bar_chart(sheets["Voies d'accès"], "Taux de certification par voie d'accès",
                   "Graphique : part des présents certifiés, par voie d'accès.",
                   cols.index("Voie d'accès") + 1, [cols.index("Taux") + 1], n, f"B{n + 5}",
                   percent=True)
    stamp = dt.datetime.combine(date_bilan, dt.time())
    wb.properties.creator = "certidocs"
    wb.properties.title = perimetre[0][1] if perimetre else "Bilan annuel"
    wb.properties.created = stamp
    wb.properties.modified = stamp
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).write_data()
    return zip_date_fixe(buffer.getvalue())


def zip_date_fixe(data: bytes) -> bytes:
    """The same zip package with every member dated 1 January 1980, in the same order."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()
