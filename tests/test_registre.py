"""The register: schema, matching across sessions, idempotent records, certificates.

Tests taking the ``moteur`` fixture run on SQLite and on PostgreSQL (conftest.py)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sessiondata import CANDIDATS, START, make_session, with_changes

from certidocs import api
from certidocs.cli import main
from certidocs.errors import RegistreError
from certidocs.registre import SCHEMA_VERSION, Registre, candidate_key
from certidocs.signature import ensure_keys

BORN = dt.date(1990, 4, 3)


def record(reg: Registre, session: str, day: dt.date, decision: str, blocs: list[str],
           nom: str = "Lefèvre", prenom: str = "Élodie", born: dt.date = BORN) -> None:
    with reg.transaction() as conn:
        sid = reg.session_id(conn, session, session, "CPECOM", day, day, "Lyon")
        reg.enregistrer_passage(conn, session_id=sid, nom_naissance=nom, prenom=prenom,
                                date_naissance=born, numero="001", referentiel="CPECOM",
                                date_session=day, voie_acces="Formation", decision=decision,
                                detail={}, blocs_valides=blocs, identite={})


def test_schema_is_versioned_and_reopened(tmp_path: Path, moteur: str) -> None:
    """A new register gets the current schema version; reopening migrates nothing twice."""
    with Registre(tmp_path / "r.sqlite") as reg:
        assert reg.version == SCHEMA_VERSION
    with Registre(tmp_path / "r.sqlite") as reg:
        assert reg.version == SCHEMA_VERSION


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    """A register from a newer certidocs is not touched."""
    conn = sqlite3.connect(tmp_path / "r.sqlite")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(RegistreError, match="version plus récente"):
        Registre(tmp_path / "r.sqlite")


def test_not_a_database(tmp_path: Path) -> None:
    """A file that is not SQLite: a French message, no sqlite3 exception."""
    (tmp_path / "r.sqlite").write_bytes(b"ceci n'est pas une base" * 100)
    with pytest.raises(RegistreError, match="pas un registre certidocs lisible"):
        Registre(tmp_path / "r.sqlite")


def test_matching_folds_accents_case_and_hyphens() -> None:
    """The same person typed differently in two sessions has one key."""
    assert candidate_key("Lefèvre", "Élodie", BORN) == candidate_key("LEFEVRE", "elodie", BORN)
    assert candidate_key("Dupont-Moreau", "Anne-Sophie", BORN) == candidate_key(
        "dupont moreau", "ANNE SOPHIE", BORN)
    assert candidate_key("Lefèvre", "Élodie", BORN) != candidate_key(
        "Lefèvre", "Élodie", dt.date(1990, 4, 4))


def test_recording_twice_records_nothing_twice(tmp_path: Path, moteur: str) -> None:
    """Passages and capitalised blocs are keyed: a second run updates, never duplicates."""
    with Registre(tmp_path / "r.sqlite") as reg:
        for _ in range(2):
            record(reg, "s1", dt.date(2025, 6, 1), "Validation partielle", ["BC01", "BC02"])
        counts = [reg.conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                  for t in ("candidats", "passages", "blocs_capitalises")]
        assert counts == [1, 1, 2]
        history = reg.historique("LEFEVRE", "Elodie", BORN, "CPECOM")
        assert history.echecs == 1 and history.blocs_capitalises == {"BC01", "BC02"}
        assert reg.historique("LEFEVRE", "Elodie", BORN, "CPECOM",
                              avant_session="s1").echecs == 0


def test_transaction_rolls_back_on_error(tmp_path: Path, moteur: str) -> None:
    """An error in the middle of a write leaves the register as it was."""
    with Registre(tmp_path / "r.sqlite") as reg:
        with pytest.raises(RuntimeError), reg.transaction() as conn:
            reg.session_id(conn, "s1", "s1", "CPECOM", None, None, "")
            raise RuntimeError("coupure")
        assert reg.conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0


def test_certificate_numbers_are_sequential_and_stable(tmp_path: Path, moteur: str) -> None:
    """Numbers follow each other per certification and year; a regeneration gets the same."""
    day = dt.date(2026, 12, 16)
    with Registre(tmp_path / "r.sqlite") as reg, reg.transaction() as conn:
        sid = reg.session_id(conn, "s1", "s1", "CPECOM", day, day, "Lyon")
        first = reg.certificat(conn, session_id=sid, nom_naissance="Lefèvre", prenom="Élodie",
                               date_naissance=BORN, referentiel="CPECOM", date_delivrance=day)
        second = reg.certificat(conn, session_id=sid, nom_naissance="Roux", prenom="Jean",
                                date_naissance=BORN, referentiel="CPECOM", date_delivrance=day)
        again = reg.certificat(conn, session_id=sid, nom_naissance="LEFEVRE", prenom="elodie",
                               date_naissance=BORN, referentiel="CPECOM",
                               date_delivrance=dt.date(2027, 1, 5))
    assert first == ("CPECOM-2026-00001", day)
    assert second[0] == "CPECOM-2026-00002"
    assert again == first


# --- retakes, through `session verifier` ------------------------------------------------------

def workspace_with_history(tmp_path: Path, decisions: list[tuple[str, dt.date, str, list[str]]]
                           ) -> Path:
    (tmp_path / "certidocs.toml").write_text("", encoding="utf-8")
    ensure_keys(tmp_path)
    with Registre(tmp_path / "registre.sqlite") as reg:
        for session, day, decision, blocs in decisions:
            record(reg, session, day, decision, blocs)
    return tmp_path


def test_two_failures_refuse_a_new_attempt(tmp_path: Path, moteur: str) -> None:
    """After a second failure, no new presentation: error at the candidate's number."""
    workspace_with_history(tmp_path, [("old1", dt.date(2026, 1, 10), "Non certifié", []),
                                      ("old2", dt.date(2026, 6, 10), "Non certifié", [])])
    make_session(tmp_path / "s")
    found = {p.lieu: p for p in api.verifier_session(tmp_path / "s")}
    assert "2 échecs au registre" in found["Candidats!A2"].message
    assert found["Candidats!A2"].grave


@pytest.mark.parametrize(("first", "ok"), [(START - dt.timedelta(days=365), True),
                                           (START - dt.timedelta(days=366), False)])
def test_retake_within_one_year(tmp_path: Path, first: dt.date, ok: bool, moteur: str
                               ) -> None:
    """One failure: a retake is possible up to 365 days after it, not a day later."""
    workspace_with_history(tmp_path, [("old", first, "Non certifié", [])])
    make_session(tmp_path / "s")
    errors = {p.lieu for p in api.verifier_session(tmp_path / "s") if p.grave}
    assert ("Candidats!A2" not in errors) is ok


def test_capitalised_bloc_presented_again_is_a_warning(tmp_path: Path, moteur: str) -> None:
    """Presenting a bloc already validated is allowed but worth a warning."""
    workspace_with_history(tmp_path, [("old", START - dt.timedelta(days=100),
                                       "Validation partielle", ["BC01"])])
    rows = with_changes(CANDIDATS, 0, {"Blocs présentés": "BC01;BC02"})
    make_session(tmp_path / "s", candidats=rows)
    problems = [p for p in api.verifier_session(tmp_path / "s") if p.lieu == "Candidats!M2"]
    assert len(problems) == 1 and not problems[0].grave
    assert "déjà capitalisés : BC01" in problems[0].message


# --- commands ---------------------------------------------------------------------------------

def test_registre_candidat_and_exporter(tmp_path: Path, cli_runner: CliRunner,
                                        moteur: str) -> None:
    """History by name (accents folded) and an xlsx export office staff can open."""
    workspace_with_history(tmp_path, [("s2025", dt.date(2025, 6, 1), "Validation partielle",
                                       ["BC01"])])
    result = cli_runner.invoke(main, ["registre", "candidat", "lefevre"])
    assert result.exit_code == 0, result.output
    assert "Lefèvre Élodie" in result.output
    assert "Validation partielle" in result.output
    assert "bloc capitalisé CPECOM BC01" in result.output
    assert cli_runner.invoke(main, ["registre", "candidat", "Inconnu"]).exit_code == 1
    result = cli_runner.invoke(main, ["registre", "exporter", "-o", "export.xlsx"])
    assert result.exit_code == 0, result.output
    wb = load_workbook(tmp_path / "export.xlsx")
    assert wb.sheetnames == ["Candidats", "Sessions", "Passages", "Blocs capitalisés",
                             "Certificats", "Révisions", "Scellements", "Recours"]
    assert wb["Passages"]["H2"].value == "Validation partielle"
    assert [c.value for c in wb["Certificats"][1]][-2:] == ["Révoqué le",
                                                            "Motif de la révocation"]
    date_cell = wb["Passages"]["C2"]  # dates as real dates, shown as people write them
    assert isinstance(date_cell.value, dt.datetime) and date_cell.number_format == "DD/MM/YYYY"
    assert "mot_de_passe" not in str([c.value for c in wb["Sessions"][1]])


def test_session_known_details_are_never_erased(tmp_path: Path) -> None:
    """Asking for a session by its key alone (the grids' password does) keeps its dates and
    place: the annual review and the CDC declaration read them."""
    with Registre(tmp_path / "r.sqlite") as reg:
        with reg.transaction("essai") as conn:
            reg.session_id(conn, "s", "s", "CPECOM", dt.date(2026, 12, 15),
                           dt.date(2026, 12, 16), "Lyon", "id-1")
        reg.grid_password("s", "s", "CPECOM", "motdepasse")
        row = reg.conn.execute("SELECT date_debut, date_fin, lieu, identifiant FROM sessions"
                               ).fetchone()
    assert tuple(row) == ("2026-12-15", "2026-12-16", "Lyon", "id-1")
