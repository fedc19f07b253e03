"""session.xlsx: what the cell shows is what is read (issue 15, point 1).

The cases of ``shared/cases/classeurs`` (names « NA », « NULL », « None »; cells showing
#N/A, #REF!, #VALUE!; postal and INSEE codes stored as numbers with a « 00000 » format) and
the other stored forms that differ from what Excel displays: escaped characters
(``_x000D_``), the 1904 date system, the Strict Open XML flavour.
"""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from sessiondata import make_session

from certidocs.cli import main
from certidocs.errors import Probleme
from certidocs.session import open_session, verify_session
from certidocs.session.layout import ID_FILE, META_SHEET
from certidocs.session.reader import read_session
from certidocs.workspace import find_workspace

CASES = Path(__file__).resolve().parents[2] / "shared" / "cases" / "classeurs"


@pytest.fixture
def s1(tmp_path: Path) -> Path:
    """A clean CPECOM session in a workspace (``s1/``)."""
    (tmp_path / "certidocs.toml").write_text('[grilles]\nmot_de_passe = ""\n', encoding="utf-8")
    return make_session(tmp_path / "s1")


def _case(s1: Path, name: str) -> Path:
    """The shared case ``name`` copied over ``s1/session.xlsx``."""
    source = CASES / name
    assert source.is_file(), f"cas introuvable : {source}"
    shutil.copyfile(source, s1 / "session.xlsx")
    return s1


def _problems(s1: Path) -> list[Probleme]:
    return verify_session(open_session(s1, find_workspace(s1)))


def _at(problems: list[Probleme], cell: str) -> list[str]:
    return [p.message for p in problems if p.lieu == cell]


def test_names_na_null_none_are_read_as_typed(s1: Path) -> None:
    """« NULL », « NA » and « None » are names, not missing values."""
    session = read_session(_case(s1, "session-noms-NA-NULL-None.xlsx")).session
    assert [(c.nom_naissance, c.prenom) for c in session.candidats] == [
        ("NULL", "Nan"), ("NA", "Min-jun"), ("Exemple", "None")]
    assert not [p for p in _problems(s1) if "obligatoire" in p.message]


def test_required_cells_showing_errors_are_named_with_their_error(s1: Path) -> None:
    """#N/A in a surname, #REF! in a first name: the error at its cell, not « obligatoire »."""
    problems = _problems(_case(s1, "session-valeurs-erreur-obligatoires.xlsx"))
    assert _at(problems, "Candidats!C3") == [
        "la cellule affiche #N/A (valeur introuvable par une formule de recherche) : corrigez "
        "la formule ou tapez la valeur"]
    assert _at(problems, "Candidats!E3") == [
        "la cellule affiche #REF! (formule cassée) : corrigez la formule ou tapez la valeur"]
    assert all(p.grave for p in problems if "affiche" in p.message)


def test_optional_cells_showing_errors_are_problems_not_blanks(s1: Path,
                                                               cli_runner: CliRunner) -> None:
    """An address showing #VALUE! and a town showing #REF! would print blank on a letter."""
    _case(s1, "session-valeurs-erreur-facultatives.xlsx")
    result = cli_runner.invoke(main, ["session", "verifier", "s1"])
    assert result.exit_code == 1
    out = result.output + result.stderr
    assert "Candidats!I2 : la cellule affiche #VALUE!" in out
    assert "Candidats!K2 : la cellule affiche #REF! (formule cassée)" in out
    assert "Traceback" not in out


def test_zero_padded_numbers_are_read_as_displayed(s1: Path) -> None:
    """1000 formatted « 00000 » shows 01000: that is the postal code; 1053 is INSEE 01053."""
    session = read_session(_case(s1, "session-zeros-en-tete.xlsx")).session
    first = session.candidats[0]
    assert (first.code_postal, first.code_insee_naissance) == ("01000", "01053")
    assert not [p for p in _problems(s1) if "code" in p.message.lower()]


def _set(s1: Path, cells: dict[str, object], number_format: str | None = None,
         epoch: object = None) -> None:
    wb = openpyxl.load_workbook(s1 / "session.xlsx")
    if epoch is not None:
        wb.epoch = epoch
    for ref, value in cells.items():
        wb["Candidats"][ref] = value
        if number_format is not None:
            wb["Candidats"][ref].number_format = number_format
    wb.save(s1 / "session.xlsx")


def test_postal_and_insee_codes_missing_a_zero_are_refused_at_verification(s1: Path) -> None:
    """Stored as numbers without the zero-padded format, they show 1000 and 1053: checked
    now, at `session verifier`, not weeks later at the CDC export."""
    _set(s1, {"J2": 1000, "Q2": 1053}, "General")
    problems = _problems(s1)
    assert _at(problems, "Candidats!J2") == [
        "code postal « 1000 » : 4 chiffres au lieu de 5 (un zéro en tête perdu ? « 01000 ») ; "
        "tapez-le comme texte ou au format 00000"]
    assert _at(problems, "Candidats!Q2")[0].startswith("code INSEE de naissance « 1053 » : 4 "
                                                       "chiffres")
    assert all(p.grave for p in problems if p.lieu in ("Candidats!J2", "Candidats!Q2"))


@pytest.mark.parametrize(("postal", "insee", "grave"), [
    ("00100", "69123", True), ("96000", "69123", True), ("69003", "6912", True),
    ("69003", "2A004", None), ("69003", "99134", None), ("SW1A 1AA", "69123", False),
    ("69003", "ABCDE", True)])
def test_postal_and_insee_code_rules(s1: Path, postal: str, insee: str,
                                     grave: bool | None) -> None:
    """Departments 00 and 96 do not exist; Corsica (2A) and births abroad (99) are valid; a
    postal code with letters may be a foreign address: a warning."""
    _set(s1, {"J2": postal, "Q2": insee})
    found = [p for p in _problems(s1) if p.lieu in ("Candidats!J2", "Candidats!Q2")]
    if grave is None:
        assert found == []
    else:
        assert len(found) == 1 and found[0].grave is grave, found


def test_escaped_characters_are_read_as_displayed(s1: Path) -> None:
    """``_x0041_`` is stored for « A » (and ``_x000D_`` for a carriage return): undone."""
    _set(s1, {"C2": "QQNOMQQ"})
    path = s1 / "session.xlsx"
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    found = [n for n, data in parts.items() if b"QQNOMQQ" in data]
    assert found
    for name in found:
        parts[name] = parts[name].replace(b"QQNOMQQ", b"_x004C_ef\xc3\xa8vre_x000D_")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    assert read_session(s1).session.candidats[0].nom_naissance == "Lefèvre"


def test_dates_in_the_1904_date_system(s1: Path) -> None:
    """A workbook in the 1904 date system (Excel for Mac): the same dates, not 4 years off."""
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    _set(s1, {"F2": dt.date(1990, 4, 3)}, "DD/MM/YYYY", epoch=CALENDAR_MAC_1904)
    with zipfile.ZipFile(s1 / "session.xlsx") as zf:
        assert b'date1904="1"' in zf.read("xl/workbook.xml")
    assert read_session(s1).session.candidats[0].date_naissance == dt.date(1990, 4, 3)


_STRICT = {
    b"http://schemas.openxmlformats.org/spreadsheetml/2006/main":
        b"http://purl.oclc.org/ooxml/spreadsheetml/main",
    b"http://schemas.openxmlformats.org/officeDocument/2006/relationships":
        b"http://purl.oclc.org/ooxml/officeDocument/relationships",
}


def to_strict(path: Path) -> None:
    """Rewrite a workbook in the Strict Open XML flavour's namespaces (as Excel's « Strict
    Open XML » saving does)."""
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            for old, new in _STRICT.items():
                data = data.replace(old, new)
            zf.writestr(name, data)


def test_strict_open_xml_session_is_read(s1: Path) -> None:
    """Same session read from the Strict flavour."""
    before = read_session(s1).session
    to_strict(s1 / "session.xlsx")
    with zipfile.ZipFile(s1 / "session.xlsx") as zf:
        assert b"purl.oclc.org/ooxml/spreadsheetml/main" in zf.read("xl/workbook.xml")
    assert read_session(s1).session == before


def test_a_new_session_has_an_identifier(s1: Path) -> None:
    """A uuid4 in the very hidden sheet, in the model as ``Session.identifiant``."""
    import uuid

    wb = openpyxl.load_workbook(s1 / "session.xlsx")
    assert wb[META_SHEET].sheet_state == "veryHidden"
    ident = read_session(s1).session.identifiant
    assert uuid.UUID(ident).version == 4
    assert ident == wb[META_SHEET]["B1"].value
    other = make_session(s1.parent / "s2")
    assert read_session(other).session.identifiant != ident


def test_an_older_session_without_identifier_still_reads(s1: Path) -> None:
    """session.xlsx from before identifiers: read, no identifier until one is recorded."""
    wb = openpyxl.load_workbook(s1 / "session.xlsx")
    del wb[META_SHEET]
    wb.save(s1 / "session.xlsx")
    assert read_session(s1).session.identifiant == ""
    (s1 / ID_FILE).write_text("ancien-1234\n", encoding="utf-8")
    assert read_session(s1).session.identifiant == "ancien-1234"
