"""What a number format displays, as certidocs reads it (certidocs.classeur)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from certidocs.classeur import Cellule, Classeur, format_number, split_ref, unescape


@pytest.mark.parametrize(("value", "code", "shown"), [
    (1000, "00000", "01000"),
    (1053, "00000", "01053"),
    (69003, "00000", "69003"),
    (123456789, "00 00 00 00 00", "01 23 45 67 89"),
    (5, '"N° "000', "N° 005"),
    (0.256, "0.0%", "25,6 %"),
    (1234.5, "#,##0.00", "1\u202f234,50"),
    (12, "General", "12"),
    (12.5, "General", "12,5"),
    (0, "00000", "00000"),
    (-3, "0", "-3"),
    (3, "0;(0)", "3"),
    (-3, "0;(0)", "(3)"),
    (7, "[Red]000", "007"),
])
def test_number_formats_show_what_excel_shows(value: float, code: str, shown: str) -> None:
    """Zero padding, literals, sections, percent, grouping, General."""
    assert format_number(value, code) == shown


def test_dates_follow_the_workbook_date_system() -> None:
    """The same serial is a different day in the 1900 and 1904 systems."""
    cell = Cellule(32874, style=0)
    book = Classeur(Path("x.xlsx"), {}, [], ["DD/MM/YYYY"])
    assert book.typee(cell) == dt.datetime(1990, 1, 1)
    assert book.affiche(cell) == "01/01/1990"
    book.date1904 = True
    assert book.typee(cell) == dt.datetime(1994, 1, 2)


def test_iso_dates_of_the_strict_flavour() -> None:
    """A cell of type « d » (ISO 8601 text, as Strict files may hold) reads as that date."""
    book = Classeur(Path("x.xlsx"), {}, [], ["General"])
    cell = Cellule(dt.datetime(2026, 12, 15))
    assert book.typee(cell) == dt.datetime(2026, 12, 15)
    assert book.affiche(cell) == "15/12/2026"


def test_escapes_and_references() -> None:
    """``_x000D_`` is a carriage return, ``_x005F_`` an underscore; references split."""
    assert unescape("a_x000D_b_x005F_c") == "a\rb_c"
    # ESC cannot be in any XML output (resultats.xlsx, documents): kept as stored.
    assert unescape("_x001B_") == "_x001B_"
    assert split_ref("ZZZ400") == ("ZZZ", 400)
    with pytest.raises(ValueError):
        split_ref("AAAA1")
