"""The network register on a real PostgreSQL server: hand edits named, certificate numbers
under concurrent use, who sees what (roles and row-level security), migration from SQLite.

Every test here needs the throwaway cluster (CERTIDOCS_TEST_POSTGRESQL): skipped without it,
failed when CERTIDOCS_EXIGER_POSTGRESQL=1 (CI).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pgtools import creer_base, serveur_postgresql, supprimer_base, url_base

from certidocs.cli import main
from certidocs.errors import RegistreError
from certidocs.registre import (
    JOURNAL_ORIGINE,
    MIGRATIONS,
    SCHEMA_VERSION,
    Registre,
    Reglages,
    entry_hash,
)
from certidocs.registre.reseau import declarer_centre, verifier_centre

BORN = dt.date(1990, 4, 3)
DAY = dt.date(2026, 12, 16)
LYON, LILLE = "11111111100011", "22222222200022"


@pytest.fixture
def base() -> Iterator[str]:
    """A fresh database on the test cluster; its superuser URL."""
    serveur = serveur_postgresql()
    nom = creer_base(serveur)
    yield url_base(serveur, nom)
    supprimer_base(serveur, nom)


def _ouvrir(tmp_path: Path, url: str, centre: str = "") -> Registre:
    return Registre(tmp_path / "registre.sqlite", reglages=Reglages(url=url, centre=centre))


def _compte(url: str, role: str) -> str:
    """``url`` logged in as ``role`` (the test cluster trusts its Unix socket)."""
    return url.replace("postgresql://postgres@", f"postgresql://{role}@")


def _passage(reg: Registre, session: str, nom: str, decision: str, blocs: list[str],
             day: dt.date = DAY, certificat: bool = False) -> str | None:
    with reg.transaction("test", session) as conn:
        sid = reg.session_id(conn, session, session, "CPECOM", day, day, "Lyon")
        reg.enregistrer_passage(conn, session_id=sid, nom_naissance=nom, prenom="Élodie",
                                date_naissance=BORN, numero="001", referentiel="CPECOM",
                                date_session=day, voie_acces="Formation", decision=decision,
                                detail={}, blocs_valides=blocs, identite={})
        if certificat:
            return reg.certificat(conn, session_id=sid, nom_naissance=nom, prenom="Élodie",
                                  date_naissance=BORN, referentiel="CPECOM",
                                  date_delivrance=day)[0]
    return None


def _superuser(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return list(cur.fetchall()) if cur.description else []


# --- journal and control -----------------------------------------------------------------


def test_journal_replays_clean_and_names_hand_edits_on_postgresql(tmp_path: Path,
                                                                  base: str) -> None:
    """The journal written on PostgreSQL replays into SQLite: an untouched register controls
    clean; a row edited, deleted or added with psql is named, as on SQLite."""
    with _ouvrir(tmp_path, base) as reg:
        _passage(reg, "s1", "Lefèvre", "Certifié", ["BC01"], certificat=True)
        _passage(reg, "s1", "Roux", "Validation partielle", ["BC02"])
        assert reg.moteur == "postgresql" and reg.version == SCHEMA_VERSION
        assert reg.controler() == []
    _superuser(base, "UPDATE passages SET decision = 'Certifié' WHERE numero = '001' AND "
                     "decision = 'Validation partielle'")
    _superuser(base, "DELETE FROM blocs_capitalises WHERE bloc = 'BC02'")
    _superuser(base, "INSERT INTO sessions (id, cle, nom, referentiel) VALUES (99, 'x', 'x', "
                     "'CPECOM')")
    with _ouvrir(tmp_path, base) as reg:
        found = [str(c) for c in reg.controler()]
    assert any("table passages, ligne 2 : ligne modifiée à la main : decision « Certifié » "
               "au lieu de « Validation partielle »" in f for f in found), found
    assert any("table blocs_capitalises, ligne 2 : ligne supprimée à la main" in f
               for f in found), found
    assert any("table sessions, ligne 99 : ligne ajoutée à la main" in f for f in found), found


def test_rolled_back_insert_leaves_no_gap_in_the_replay(tmp_path: Path, base: str) -> None:
    """PostgreSQL's identity values are not transactional: the journal records the id the
    server gave, so a rolled-back insert does not shift the replay."""
    with _ouvrir(tmp_path, base) as reg:
        with pytest.raises(RuntimeError), reg.transaction() as conn:
            reg.session_id(conn, "perdue", "perdue", "CPECOM", None, None, "")
            raise RuntimeError("coupure")
        _passage(reg, "s1", "Lefèvre", "Certifié", [])
        assert reg.conn.execute("SELECT id FROM sessions").fetchall()[0][0] == 2
        assert reg.controler() == []


def test_register_written_before_the_network_opens_and_controls_clean(tmp_path: Path) -> None:
    """A version-3 SQLite register (journal in its format, statements without centre) is
    migrated to version 4 on open and controls clean."""
    path = tmp_path / "registre.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(";".join(MIGRATIONS[t] for t in (1, 2, 3)))
    statements = [["INSERT INTO sessions (cle, nom, referentiel) VALUES (?, ?, ?)",
                   ["s", "s", "CPECOM"]],
                  ["INSERT INTO certificats (numero, referentiel, annee, rang, candidat_id, "
                   "session_id, date_delivrance) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   ["CPECOM-2026-00007", "CPECOM", 2026, 7, 1, 1, "2026-12-17"]],
                  ["INSERT INTO candidats (cle, nom_naissance, prenom) VALUES (?, ?, ?)",
                   ["K", "Roux", "Jean"]]]
    conn.execute("PRAGMA foreign_keys = OFF")
    for sql, params in statements:
        conn.execute(sql, params)
    text = json.dumps({"instructions": statements}, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))
    stamp = "2026-12-17T10:00:00"
    conn.execute("INSERT INTO journal VALUES (1, ?, 'test', '', ?, ?, ?)",
                 (stamp, text, JOURNAL_ORIGINE,
                  entry_hash(JOURNAL_ORIGINE, 1, stamp, "test", "", text)))
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    with Registre(path) as reg:
        assert reg.version == SCHEMA_VERSION
        assert reg.controler() == []
        with reg.transaction() as tx:
            # The counter starts after the certificates issued before it existed.
            numero = reg.certificat(tx, session_id=1, nom_naissance="Roux", prenom="Jean",
                                    date_naissance=None, referentiel="CPECOM",
                                    date_delivrance=dt.date(2026, 12, 20))[0]
        assert numero == "CPECOM-2026-00008"
        assert reg.controler() == []


# --- numbering --------------------------------------------------------------------------------


def test_certificate_numbers_are_unique_across_centres_under_concurrent_use(
        tmp_path: Path, base: str) -> None:
    """Four centres issue 15 certificates each at the same time on one register: 60 distinct
    numbers, 1 to 60, no error, and the journal controls clean. The register is new: the four
    first opens race to create the schema, and only one does."""
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def centre(k: int) -> None:
        try:
            with _ouvrir(tmp_path, base, centre=f"{k:014d}") as reg:
                for i in range(15):
                    got = _passage(reg, f"s{k}", f"Nom{k}x{i}", "Certifié", [],
                                   certificat=True)
                    with lock:
                        numbers.append(str(got))
        except BaseException as exc:  # reported below, with the thread's error
            errors.append(exc)

    threads = [threading.Thread(target=centre, args=(k,)) for k in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(numbers) == [f"CPECOM-2026-{n:05d}" for n in range(1, 61)]
    with _ouvrir(tmp_path, base) as reg:
        assert reg.controler() == []
        assert reg.conn.execute("SELECT COUNT(DISTINCT centre) FROM certificats"
                                ).fetchone()[0] == 4


# --- who sees what ------------------------------------------------------------------------------


@pytest.fixture
def reseau(tmp_path: Path, base: str) -> Iterator[dict[str, str]]:
    """Centres Lyon and Lille declared with their accounts; Lyon examined Lefèvre twice
    (two failures, BC01 capitalised) and certified Martin."""
    from urllib.parse import urlsplit

    suffix = urlsplit(base).path.strip("/")[-8:]
    roles = {LYON: f"lyon_{suffix}", LILLE: f"lille_{suffix}"}
    with _ouvrir(tmp_path, base) as reg:
        for siret, role in roles.items():
            declarer_centre(reg, siret=siret, nom=role, role_bd=role, mot_de_passe="secret")
    with _ouvrir(tmp_path, _compte(base, roles[LYON]), centre=LYON) as lyon:
        _passage(lyon, "2026-01", "Lefèvre", "Non certifié", ["BC01"], dt.date(2026, 1, 10))
        _passage(lyon, "2026-06", "Lefèvre", "Validation partielle", ["BC01"],
                 dt.date(2026, 6, 10))
        _passage(lyon, "2026-06", "Martin", "Certifié", [], dt.date(2026, 6, 10),
                 certificat=True)
    yield {"lyon": _compte(base, roles[LYON]), "lille": _compte(base, roles[LILLE]),
           "certificateur": base}
    for role in roles.values():
        _superuser(base, f"DROP OWNED BY {role}")
        _superuser(base, f"DROP ROLE IF EXISTS {role}")


def test_a_centre_cannot_read_another_centres_rows(reseau: dict[str, str]) -> None:
    """Connected as Lille (plain SQL, no certidocs in between), nothing of Lyon is visible,
    and the journal and the CDC declaration are refused outright; Lyon sees its own rows and
    the certifier sees everything."""
    import psycopg

    for table in ("sessions", "passages", "certificats", "candidats", "blocs_capitalises"):
        assert _superuser(reseau["lille"], f"SELECT * FROM {table}") == [], table
        assert _superuser(reseau["lyon"], f"SELECT * FROM {table}") != [], table
    assert len(_superuser(reseau["certificateur"], "SELECT * FROM passages")) == 3
    for table in ("journal", "flux", "flux_passages"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _superuser(reseau["lille"], f"SELECT * FROM {table}")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _superuser(reseau["lyon"], "INSERT INTO flux (id_flux, fichier, cree_le, empreinte, "
                                   "nombre) VALUES ('x', 'x', 'x', 'x', 0)")
    # Writing a row in another centre's name is refused by the server too.
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _superuser(reseau["lille"], "INSERT INTO sessions (cle, nom, referentiel, centre) "
                                    f"VALUES ('x', 'x', 'CPECOM', '{LYON}')")


def test_retake_rules_see_the_whole_network(tmp_path: Path, reseau: dict[str, str]) -> None:
    """Lefèvre failed twice in Lyon: Lille learns it for that person (and BC01 capitalised),
    records its own session, and still cannot list Lyon's rows; the journal controls clean."""
    with _ouvrir(tmp_path, reseau["lille"], centre=LILLE) as lille:
        history = lille.historique("LEFEVRE", "Elodie", BORN, "CPECOM")
        assert history.echecs == 2 and history.blocs_capitalises == {"BC01"}
        assert lille.historique("Martin", "Élodie", BORN, "CPECOM").certifie
        assert lille.rechercher("Lefèvre") == []
        _passage(lille, "2026-06", "Lefèvre", "Non certifié", [], dt.date(2026, 11, 2))
        assert [p["numero"] for p in lille.passages_session("2026-06")] == ["001"]
        visible = lille.rechercher("Lefèvre")
        assert [p["session"] for p in visible[0]["passages"]] == ["2026-06"]
        with pytest.raises(RegistreError):
            lille.controler()
    with _ouvrir(tmp_path, reseau["certificateur"]) as reg:
        assert reg.controler() == []
        sessions = [r[0] for r in reg.conn.execute("SELECT cle FROM sessions ORDER BY cle")]
        assert sessions == [f"{LYON}:2026-01", f"{LYON}:2026-06", f"{LILLE}:2026-06"]


def test_centre_siret_is_checked_against_the_rncp_partners() -> None:
    """A centre absent from the partners imported from the RNCP fiche is named; without
    imported partners nothing is checked."""
    partners = [("Campus Lyon", LYON), ("Sans SIRET", None)]
    assert verifier_centre(LYON, partners) is None
    assert "pas parmi les 1 partenaire(s)" in str(verifier_centre(LILLE, partners))
    assert verifier_centre(LILLE, []) is None


# --- migration --------------------------------------------------------------------------------


def test_migrer_copies_a_sqlite_register_with_its_journal_idempotently(
        tmp_path: Path, base: str, cli_runner: CliRunner) -> None:
    """`registre migrer --vers URL` copies rows and journal; `registre controler` passes on
    the shared register; a second run copies nothing; numbering continues after it."""
    (tmp_path / "certidocs.toml").write_text("", encoding="utf-8")
    with Registre(tmp_path / "registre.sqlite") as reg:
        _passage(reg, "s1", "Lefèvre", "Certifié", ["BC01"], certificat=True)
        _passage(reg, "s1", "Roux", "Non certifié", [])
    result = cli_runner.invoke(main, ["registre", "migrer", "--vers", base])
    assert result.exit_code == 0, result.output + result.stderr
    assert "passages : 2 ligne(s)" in result.output
    again = cli_runner.invoke(main, ["registre", "migrer", "--vers", base])
    assert again.exit_code == 0 and "Rien à copier" in again.output
    (tmp_path / "certidocs.toml").write_text(f'[registre]\nurl = "{base}"\n', encoding="utf-8")
    result = cli_runner.invoke(main, ["registre", "controler"])
    assert result.exit_code == 0, result.output + result.stderr
    with _ouvrir(tmp_path, base) as reg:
        assert _passage(reg, "s2", "Martin", "Certifié", [], certificat=True) == \
            "CPECOM-2026-00002"
        assert reg.controler() == []
        assert reg.historique("Roux", "Élodie", BORN, "CPECOM").echecs == 1


def test_migrer_refuses_a_shared_register_holding_another_journal(
        tmp_path: Path, base: str) -> None:
    """Merging two registers' ids is refused, not guessed."""
    from certidocs.registre.reseau import migrer

    with _ouvrir(tmp_path, base) as reg:
        _passage(reg, "autre", "Martin", "Certifié", [])
    with Registre(tmp_path / "registre.sqlite") as reg:
        _passage(reg, "s1", "Lefèvre", "Certifié", [])
    with pytest.raises(RegistreError, match="contient déjà un autre journal"):
        migrer(tmp_path / "registre.sqlite", base)


def test_session_verifier_warns_when_the_centre_is_not_an_rncp_partner(tmp_path: Path) -> None:
    """`session verifier` names a [centre] siret absent from the référentiel's partners (a
    warning: a fiche imported before a new habilitation must not block the session)."""
    import shutil

    from helpers import REFERENTIELS
    from sessiondata import make_session

    from certidocs import api

    text = (REFERENTIELS / "CPECOM.yaml").read_text(encoding="utf-8")
    assert "\ncertification:\n" in text
    text = text.replace("\ncertification:\n", "\ncertification:\n  partenaires:\n"
                        f"    - {{nom: Campus Lyon, siret: '{LYON}'}}\n", 1)
    (tmp_path / "referentiels").mkdir()
    (tmp_path / "referentiels" / "CPECOM.yaml").write_text(text, encoding="utf-8")
    for siret, warned in ((LILLE, True), (LYON, False)):
        (tmp_path / "certidocs.toml").write_text(f'[centre]\nsiret = "{siret}"\n',
                                                 encoding="utf-8")
        shutil.rmtree(tmp_path / "s", ignore_errors=True)
        make_session(tmp_path / "s")
        found = [p for p in api.verifier_session(tmp_path / "s")
                 if p.lieu == "certidocs.toml [centre] siret"]
        assert bool(found) is warned
        assert all(not p.grave for p in found)


def test_migrer_from_a_centre_gives_its_rows_to_that_centre(tmp_path: Path, base: str) -> None:
    """A centre's workspace copied into the shared register: its sessions, passages and
    certificates carry its SIRET (journaled), so the same workspace, now on the shared
    register, finds its session again; the control passes."""
    from certidocs.registre.reseau import migrer

    with Registre(tmp_path / "registre.sqlite", reglages=Reglages(centre=LYON)) as reg:
        _passage(reg, "s1", "Lefèvre", "Certifié", ["BC01"], certificat=True)
        assert reg.cle_session("s1") == "s1"
    migrer(tmp_path / "registre.sqlite", base, centre=LYON)
    with _ouvrir(tmp_path, base, centre=LYON) as reg:
        assert [p["numero"] for p in reg.passages_session("s1")] == ["001"]
        assert reg.conn.execute("SELECT DISTINCT centre FROM certificats").fetchall() == [
            (LYON,)]
        assert reg.controler() == []


def test_demo_runs_on_postgresql_with_one_setting(tmp_path: Path, base: str,
                                                  cli_runner: CliRunner,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo, unchanged, on the shared register: one setting (here its environment
    override), no registre.sqlite written, and the register controls clean."""
    monkeypatch.setenv("CERTIDOCS_REGISTRE_URL", base)
    result = cli_runner.invoke(main, ["demo", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output + result.stderr
    assert not (tmp_path / "demo" / "registre.sqlite").exists()
    monkeypatch.chdir(tmp_path / "demo")
    result = cli_runner.invoke(main, ["registre", "controler"])
    assert result.exit_code == 0 and "Registre intègre" in result.output
    assert _superuser(base, "SELECT COUNT(*) FROM certificats")[0][0] > 0
