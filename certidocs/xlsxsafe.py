"""Values written into workbooks stay data: text that looks like a formula is never one."""

from __future__ import annotations

from typing import Any


def set_value(cell: Any, value: Any) -> Any:
    """Put ``value`` in an openpyxl ``cell``; a string is always stored as a string.

    openpyxl turns any string beginning with « = » into a formula; a name typed as
    « =HYPERLINK(...) » in session.xlsx must come out as that same text, never as a formula.
    (« + », « - », « @ » are only dangerous in CSV: in an xlsx string cell they stay text.)
    """
    cell.value = value
    if isinstance(value, str) and cell.data_type == "f":
        cell.data_type = "s"
    return cell


def append_row(ws: Any, values: list[Any]) -> None:
    """Append a row like ``ws.append`` but with ``set_value`` semantics.

    ``ws.append`` keeps its own row counter (``max_row`` scans every cell: asking it once per
    row made large sheets quadratic); the appended cells are then turned back into text
    where openpyxl took a string for a formula.
    """
    ws.append(values)
    row = ws._current_row  # the row append just wrote (openpyxl's own counter)
    for col, value in enumerate(values, start=1):
        if isinstance(value, str) and value.startswith("="):
            set_value(ws.cell(row=row, column=col), value)
