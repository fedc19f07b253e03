"""The register as an xlsx workbook for office staff: one sheet per table, headers frozen."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from certidocs.fileio import atomic_path
from certidocs.registre import Registre
from certidocs.xlsxsafe import append_row


def export_xlsx(reg: Registre, sortie: Path) -> Path:
    """Write every table of the register to ``sortie`` (atomically); returns the path."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    for name, (columns, rows) in reg.tables().items():
        ws = wb.create_sheet(name)
        ws.append(columns)
        for cell in ws[1]:
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = PatternFill("solid", fgColor="1F4E79")
        for row in rows:
            append_row(ws, [_date_or_value(v) for v in row])
        for column in ws.iter_cols(min_row=2):
            for cell in column:
                if isinstance(cell.value, dt.date):
                    cell.number_format = "DD/MM/YYYY"
        for i, title in enumerate(columns, start=1):
            width = max([len(str(title))] + [len(str(r[i - 1] or "")) for r in rows[:200]])
            ws.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 10), 50)
        ws.freeze_panes = "A2"
    with atomic_path(sortie) as tmp:
        wb.save(tmp)
    return sortie


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date_or_value(value: Any) -> Any:
    """A register date (ISO text) as a real date the spreadsheet shows 14/01/2027; any other
    value as it is."""
    if isinstance(value, str) and _ISO.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value
