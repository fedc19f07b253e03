"""session.xlsx: creation, tolerant reading, and every pre-exam rule at its boundary."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sessiondata import CANDIDATS, INFO, JURY, START, make_session, with_changes

from certidocs import api
from certidocs.cli import main
from certidocs.errors import Probleme, SessionError
from certidocs.session import open_session
from certidocs.session.layout import META_SHEET, SHEETS, TABLES
from certidocs.workspace import find_workspace


def problems_of(folder: Path) -> list[Probleme]:
    return api.verifier_session(folder)


def errors_at(folder: Path) -> dict[str, str]:
    """Blocking problems by cell."""
    return {p.lieu: p.message for p in problems_of(folder) if p.grave}


# --- creation ---------------------------------------------------------------------------------

def test_creer_writes_six_sheets_ready_to_fill(cli_runner: CliRunner, tmp_path: Path) -> None:
    """Sheets and headers as in ARCHITECTURE.md, frozen, with drop-downs and date formats."""
    result = cli_runner.invoke(main, ["session", "creer", "s1", "--referentiel", "CPECOM"])
    assert result.exit_code == 0, result.output
    wb = load_workbook(tmp_path / "s1" / "session.xlsx")
    assert wb.sheetnames == [*SHEETS, META_SHEET]
    assert wb[META_SHEET].sheet_state == "veryHidden"
    assert wb["Session"]["B2"].value == "CPECOM"
    assert wb["Session"]["B3"].value == "Chef de Projet E-Commerce"
    assert wb["Session"]["B4"].number_format == "DD/MM/YYYY"
    for table in TABLES:
        ws = wb[table.nom]
        assert [c.value for c in ws[1]] == [c.titre for c in table.colonnes]
        assert ws.freeze_panes == "A2"
    cand = wb["Candidats"]
    lists = {str(dv.sqref).split(":")[0]: dv.formula1
             for dv in cand.data_validations.dataValidation}
    assert lists["B2"] == '"Madame,Monsieur"'
    assert lists["L2"] == '"Formation,VAE,Parcours mixte"'
    assert lists["N2"] == '"Présent,Absent,Excusé"'
    assert cand["F2"].number_format == "DD/MM/YYYY"
    jury_lists = {str(dv.sqref).split(":")[0]: dv.formula1
                  for dv in wb["Jury"].data_validations.dataValidation}
    assert jury_lists["A2"] == '"Madame,Monsieur"'
    assert jury_lists["G2"] == '"Représentant du certificateur,Professionnel"'
    assert jury_lists["H2"] == '"Oui,Non"'
    recours = {str(dv.sqref).split(":")[0]: dv.formula1
               for dv in wb["Recours"].data_validations.dataValidation}
    assert recours["D2"] == '"Recevable,Non recevable"'
    assert "Mode d'emploi" in wb["Session"]["D1"].value


def test_creer_never_overwrites(cli_runner: CliRunner, tmp_path: Path) -> None:
    """An existing session.xlsx (maybe already filled) is left untouched."""
    make_session(tmp_path / "s1")
    before = (tmp_path / "s1" / "session.xlsx").read_bytes()
    result = cli_runner.invoke(main, ["session", "creer", "s1", "--referentiel", "CPECOM"])
    assert result.exit_code == 1
    assert "existe déjà" in result.stderr
    assert (tmp_path / "s1" / "session.xlsx").read_bytes() == before


def test_creer_unknown_referentiel(cli_runner: CliRunner, tmp_path: Path) -> None:
    """An unknown code: one message listing the known ones, nothing written."""
    result = cli_runner.invoke(main, ["session", "creer", "s1", "--referentiel", "NOPE"])
    assert result.exit_code == 1
    assert "référentiel « NOPE » introuvable" in result.stderr
    assert not (tmp_path / "s1" / "session.xlsx").exists()


# --- reading ----------------------------------------------------------------------------------

def test_clean_session_passes(cli_runner: CliRunner, tmp_path: Path) -> None:
    """A session filled correctly: no error, exit 0."""
    make_session(tmp_path / "s1")
    result = cli_runner.invoke(main, ["session", "verifier", "s1"])
    assert result.exit_code == 0, result.output + result.stderr
    assert "aucune erreur" in result.output


def test_reading_tolerates_what_people_type(tmp_path: Path) -> None:
    """Text dates in two styles, stray spaces, empty rows, case and short forms in lists."""
    rows = with_changes(CANDIDATS, 0, {"Date de naissance": " 03/04/1990 ",
                                       "Civilité": "mme", "Voie d'accès": "  FORMATION ",
                                       "Nom de naissance": "  Lefèvre  "})
    rows = with_changes(rows, 1, {"Date de naissance": "20-11-1985", "Civilité": "M."})
    rows.insert(1, {"N° candidat": None})  # an empty row between two candidates
    make_session(tmp_path / "s1", candidats=rows, info={"Date de début": "15/12/2026"})
    opened = open_session(tmp_path / "s1", find_workspace(tmp_path))
    c1, c2, _ = opened.lecture.session.candidats
    assert (c1.date_naissance, c1.civilite, c1.voie_acces, c1.nom_naissance) == (
        dt.date(1990, 4, 3), "Madame", "Formation", "Lefèvre")
    assert (c2.date_naissance, c2.civilite) == (dt.date(1985, 11, 20), "Monsieur")
    assert c2.blocs_presentes == ("BC01", "BC02")
    assert opened.lecture.session.info.date_debut == START
    assert not [p for p in opened.lecture.problemes if p.grave]


def test_session_full_of_mistakes_gets_exactly_the_expected_problems(tmp_path: Path) -> None:
    """The mistakes office staff make, each reported once at its cell."""
    rows = with_changes(CANDIDATS, 1, {"N° candidat": "001", "Email": "moussa@", "Date de "
                                       "naissance": "31/02/1985", "Blocs présentés": "BC01;BC9"})
    rows = with_changes(rows, 2, {"Nom de naissance": None, "Voie d'accès": "Alternance"})
    jury = with_changes(JURY, 2, {"Années d'expérience dans le métier": 2})
    make_session(tmp_path / "s1", candidats=rows, jury=jury,
                 info={"Date de fin": dt.date(2026, 12, 14), "Lieu": None})
    found = errors_at(tmp_path / "s1")
    expected = {
        "Candidats!A3": "en double",
        "Candidats!H3": "adresse électronique « moussa@ » invalide",
        "Candidats!F3": "date « 31/02/1985 » impossible",
        "Candidats!M3": "BC9",
        "Candidats!C4": "« Nom de naissance » est obligatoire",
        "Candidats!L4": "« Alternance » n'est pas une valeur possible",
        "Jury!I4": "2 an(s) d'expérience",
        "Session!B5": "précède la date de début",
        "Session!B6": "« Lieu » est obligatoire",
    }
    assert set(found) == set(expected), found
    for cell, words in expected.items():
        assert words in found[cell], (cell, found[cell])


def test_cli_lists_each_problem_with_its_cell(cli_runner: CliRunner, tmp_path: Path) -> None:
    """`session verifier` prints « erreur : Feuille!Cellule : … » and exits 1."""
    make_session(tmp_path / "s1", candidats=with_changes(CANDIDATS, 0, {"Email": "x@y"}))
    result = cli_runner.invoke(main, ["session", "verifier", "s1"])
    assert result.exit_code == 1
    assert "erreur : Candidats!H2 : adresse électronique « x@y » invalide" in result.stderr
    assert "Traceback" not in result.output


# --- boundaries -------------------------------------------------------------------------------

@pytest.mark.parametrize(("days", "ok"), [(30, True), (29, False), (45, True)])
def test_convocation_delay_boundary(tmp_path: Path, days: int, ok: bool) -> None:
    """Convocations exactly 30 days before the session are in time; 29 are not."""
    make_session(tmp_path / "s", info={"Date d'envoi des convocations":
                                       START - dt.timedelta(days=days)})
    found = errors_at(tmp_path / "s")
    assert ("Session!B10" not in found) is ok, found


@pytest.mark.parametrize(("years", "ok"), [(3, True), (2.9, False), ("3,5", True)])
def test_experience_boundary(tmp_path: Path, years: object, ok: bool) -> None:
    """Three years in the trade are enough; 2.9 are not (a French decimal comma is read)."""
    jury = with_changes(JURY, 1, {"Années d'expérience dans le métier": years})
    make_session(tmp_path / "s", jury=jury)
    assert ("Jury!I3" not in errors_at(tmp_path / "s")) is ok


@pytest.mark.parametrize(("left", "ok"), [
    (dt.date(2021, 12, 15), True),    # exactly 5 years before the first day
    (dt.date(2021, 12, 14), False),   # 5 years and one day
    (dt.date(2026, 12, 16), False),   # after the session: should be empty
])
def test_left_the_trade_boundary(tmp_path: Path, left: dt.date, ok: bool) -> None:
    """« ne pas avoir quitté la fonction depuis plus de cinq ans »: exactly 5 years is allowed."""
    jury = with_changes(JURY, 2, {"Date de fin d'exercice du métier": left})
    make_session(tmp_path / "s", jury=jury)
    assert ("Jury!J4" not in errors_at(tmp_path / "s")) is ok


@pytest.mark.parametrize(("day", "ok"), [(START, True), (START + dt.timedelta(days=1), False),
                                         (None, False)])
def test_information_session(tmp_path: Path, day: dt.date | None, ok: bool) -> None:
    """The information session must have been attended, on or before the first day."""
    make_session(tmp_path / "s", jury=with_changes(JURY, 0, {"Date de la session "
                                                             "d'information": day}))
    assert ("Jury!K2" not in errors_at(tmp_path / "s")) is ok


def test_jury_composition(tmp_path: Path) -> None:
    """No president, a majority that is not external, too many professionals."""
    jury = with_changes(JURY, 1, {"Président": "Non", "Externe": "Non"})
    jury.append({**JURY[2], "Nom": "Bernard", "Prénom": "Luc", "Externe": "Oui"})
    make_session(tmp_path / "s", jury=jury)
    messages = [p.message for p in problems_of(tmp_path / "s") if p.lieu == "Jury!A2"]
    assert any("3 professionnel(s) du métier : il en faut de 1 à 2" in m for m in messages)
    assert any("0 président(s)" in m for m in messages)
    assert any("2 professionnel(s) externe(s) sur 4" in m for m in messages)


def test_conflict_of_interest(tmp_path: Path) -> None:
    """A juror named as a candidate's trainer: error at the candidate's row."""
    rows = with_changes(CANDIDATS, 2, {"Formateur ou tuteur": "Leroy Inès"})
    make_session(tmp_path / "s", candidats=rows)
    found = errors_at(tmp_path / "s")
    assert "conflit d'intérêts : Inès Leroy (Jury!B4)" in found["Candidats!O4"]
    assert "Candidats!O2" not in found  # « Bruno Petit » is not on the jury


# --- bad files --------------------------------------------------------------------------------

def test_missing_or_renamed_sheet(tmp_path: Path) -> None:
    """A renamed sheet: one message naming the missing one and those present."""
    make_session(tmp_path / "s")
    path = tmp_path / "s" / "session.xlsx"
    wb = load_workbook(path)
    wb["Jury"].title = "Jurés"
    wb.save(path)
    with pytest.raises(SessionError) as info:
        api.verifier_session(tmp_path / "s")
    assert "feuille(s) manquante(s) : « Jury »" in str(info.value)
    assert "« Jurés »" in str(info.value)


def test_renamed_column(tmp_path: Path, cli_runner: CliRunner) -> None:
    """A renamed mandatory column: named, with the unrecognised header and its cell."""
    make_session(tmp_path / "s")
    path = tmp_path / "s" / "session.xlsx"
    wb = load_workbook(path)
    wb["Candidats"]["E1"] = "Prénoms"
    wb.save(path)
    result = cli_runner.invoke(main, ["session", "verifier", "s"])
    assert result.exit_code == 1
    assert "Candidats!1 : colonne « Prénom » manquante ou renommée" in result.stderr
    assert "« Prénoms » (E1)" in result.stderr


@pytest.mark.parametrize(("content", "words"), [
    (b"Nom;Prenom\nDupont;Jean\n", "n'est pas un classeur Excel"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "protégé par un mot de passe"),
    (b"PK\x03\x04tronque", "illisible ou abîmé"),
])
def test_not_a_workbook(tmp_path: Path, cli_runner: CliRunner, content: bytes,
                        words: str) -> None:
    """A CSV renamed .xlsx, an encrypted workbook, a truncated zip: one message, exit 1."""
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "session.xlsx").write_bytes(content)
    result = cli_runner.invoke(main, ["session", "verifier", "s"])
    assert result.exit_code == 1
    assert words in result.stderr
    assert "Traceback" not in result.output


def test_unknown_referentiel_in_session(tmp_path: Path, cli_runner: CliRunner) -> None:
    """A session naming a référentiel that does not exist: the cell and the known codes."""
    make_session(tmp_path / "s")
    path = tmp_path / "s" / "session.xlsx"
    wb = load_workbook(path)
    wb["Session"]["B2"] = "CPECOMM"
    wb.save(path)
    result = cli_runner.invoke(main, ["session", "verifier", "s"])
    assert result.exit_code == 1
    assert "Session!B2" in result.stderr and "« CPECOMM » introuvable" in result.stderr


def test_info_defaults_and_missing_session_file(tmp_path: Path, cli_runner: CliRunner) -> None:
    """A folder without session.xlsx says how to create it."""
    (tmp_path / "vide").mkdir()
    result = cli_runner.invoke(main, ["session", "verifier", "vide"])
    assert result.exit_code == 1
    assert "certidocs session creer" in result.stderr
    assert INFO["Lieu"] == "Lyon"
