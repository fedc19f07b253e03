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
    """Append a row like ``ws.append`` but with ``set_value`` semantics."""
    row = ws.max_row + 1 if ws.max_row > 1 or ws.cell(1, 1).value is not None else 1
    for col, value in enumerate(values, start=1):
        set_value(ws.cell(row=row, column=col), value)
