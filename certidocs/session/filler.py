"""Fill a session.xlsx from Python: used to build the demo session and by the tests.

Values are given by column title, as office staff see them, so that a filled workbook is
exactly what a person would have typed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from certidocs.fileio import atomic_path
from certidocs.session.layout import SESSION, SESSION_CHAMPS
from certidocs.xlsxsafe import set_value


def fill_session(path: Path, info: Mapping[str, Any] | None = None,
                 tables: Mapping[str, Sequence[Mapping[str, Any]]] | None = None) -> None:
    """Write ``info`` (Session sheet, by label) and ``tables`` (sheet → rows by column title)
    into the existing workbook at ``path``; rows are appended after the last filled one."""
    from openpyxl import load_workbook

    wb = load_workbook(path)
    if info:
        ws = wb[SESSION]
        rows = {c.titre: i for i, c in enumerate(SESSION_CHAMPS, start=2)}
        for label, value in info.items():
            set_value(ws.cell(row=rows[label], column=2), value)
    for sheet, records in (tables or {}).items():
        ws = wb[sheet]
        headers = {str(c.value): c.column for c in ws[1] if c.value is not None}
        row = 2
        while any(ws.cell(row=row, column=col).value is not None for col in headers.values()):
            row += 1
        for record in records:
            for title, value in record.items():
                set_value(ws.cell(row=row, column=headers[title]), value)
            row += 1
    with atomic_path(path) as tmp:
        wb.save(tmp)
