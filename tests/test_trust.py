"""Trust: each attack of the trust issue, as a named test with the refusal that now answers it.

One workspace is prepared per module (session s1: 001 certified, 002 partial, 003 failed), and
each test works on its own copy.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pgtools import creer_base, serveur_postgresql, supprimer_base, url_base
from sessiondata import fill_grids, make_session, make_workspace

from certidocs.cli import main
from certidocs.registre import ENV_URL, Registre
from certidocs.signature import KEY_NAME, ensure_keys
from certidocs.workspace import SECRET_NAME

S1 = "s1"
DECISIONS = {"001": "Certifié", "002": "Validation partielle", "003": "Non certifié"}


def _run(runner: CliRunner, *args: str, code: int = 0) -> str:
    result = runner.invoke(main, list(args))
    out = result.output + result.stderr
    assert result.exit_code == code, out
    assert "Traceback" not in out
    return out


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def moteur_confiance(request: pytest.FixtureRequest) -> Iterator[tuple[str, str] | None]:
    """Every test of the prepared workspace runs on SQLite, then on PostgreSQL (the server and
    the database the module prepares, that each test copies)."""
    if request.param == "sqlite":
        yield None
        return
    serveur = serveur_postgresql()
    modele = creer_base(serveur)
    yield serveur, modele
    supprimer_base(serveur, modele)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory,
             moteur_confiance: tuple[str, str] | None) -> Path:
    """Results computed (not yet sealed) for s1 in a fresh workspace."""
    root = make_workspace(tmp_path_factory.mktemp("espace"))
    folder = make_session(root / S1)
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(ENV_URL, raising=False)
        if moteur_confiance is not None:
            mp.setenv(ENV_URL, url_base(*moteur_confiance))
        _run(runner, "grilles", str(folder))
        fill_grids(folder, 1.0, {"001", "002"})
        fill_grids(folder, 0.2, {"003"})
        _run(runner, "resultats", str(folder))
    return root


@pytest.fixture
def espace(prepared: Path, moteur_confiance: tuple[str, str] | None, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = Path(shutil.copytree(prepared, tmp_path / "espace"))
    monkeypatch.chdir(root)
    if moteur_confiance is None:
        monkeypatch.delenv(ENV_URL, raising=False)
        yield root
        return
    serveur, modele = moteur_confiance
    copie = creer_base(serveur, modele=modele)
    monkeypatch.setenv(ENV_URL, url_base(serveur, copie))
    yield root
    monkeypatch.delenv(ENV_URL)
    supprimer_base(serveur, copie)


@pytest.fixture
def sqlite_seulement(moteur_confiance: tuple[str, str] | None) -> None:
    """For a test that edits the SQLite file by hand (PostgreSQL: test_reseau.py)."""
    if moteur_confiance is not None:
        pytest.skip("modifie le fichier registre.sqlite à la main ; sur PostgreSQL, voir "
                    "test_reseau.py")


def _json(root: Path) -> dict[str, Any]:
    return dict(json.loads((root / S1 / "resultats.json").read_text(encoding="utf-8")))


def _decisions(root: Path) -> dict[str, str]:
    return {c["numero"]: c["decision"] for c in _json(root)["candidats"]}


def _register(root: Path, sql: str) -> list[tuple[Any, ...]]:
    with Registre(root / "registre.sqlite") as reg:
        return [tuple(r) for r in reg.conn.execute(sql)]


def _certificates(root: Path) -> dict[str, tuple[str, str]]:
    """Holder's number → (certificate number, verification code)."""
    return {r[0]: (r[1], r[2]) for r in _register(
        root, "SELECT p.numero, k.numero, k.code_verification FROM certificats k JOIN passages "
              "p ON p.candidat_id = k.candidat_id AND p.session_id = k.session_id")}


def _documents(runner: CliRunner) -> str:
    return _run(runner, "documents", S1, "--type", "certificat", "--type", "proces_verbal")


def _refill(root: Path, numero: str, rate: float) -> None:
    fill_grids(root / S1, rate, {numero})


# --- 1. the register is the only source of decisions ---------------------------------------


def test_export_edited_by_hand_issues_no_certificate(espace: Path, cli_runner: CliRunner
                                                      ) -> None:
    """003 « Non certifié » → « Certifié » in resultats.json: no certificate, the difference is
    reported, the register says 003 failed, and `resultats` puts the export back."""
    data = _json(espace)
    for c in data["candidats"]:
        if c["numero"] == "003":
            c["decision"] = "Certifié"
    (espace / S1 / "resultats.json").write_text(json.dumps(data), encoding="utf-8")
    out = _documents(cli_runner)
    assert "resultats.json diffère du registre" in out
    assert "003 : « Certifié » dans resultats.json, « Non certifié » au registre" in out
    assert set(_certificates(espace)) == {"001"}
    assert sorted(p.name for p in (espace / S1 / "documents" / "certificat").glob("0*.docx")
                  ) == ["001_LEFEVRE_Elodie.docx"]
    assert _register(espace, "SELECT decision FROM passages WHERE numero = '003'") == [
        ("Non certifié",)]
    _run(cli_runner, "resultats", S1)
    assert _decisions(espace) == DECISIONS


def test_evidence_recorded_for_every_decision(espace: Path) -> None:
    """Each passage keeps the grid's SHA-256, every evaluation read, the référentiel's
    fingerprint and the rules' version."""
    import hashlib

    from certidocs.rules import REGLES_VERSION

    rows = _register(espace, "SELECT numero, preuves FROM passages ORDER BY numero")
    assert [r[0] for r in rows] == ["001", "002", "003"]
    proofs = json.loads(rows[0][1])
    grid = espace / S1 / proofs["grille"]["fichier"]
    assert proofs["grille"]["sha256"] == hashlib.sha256(grid.read_bytes()).hexdigest()
    assert len(proofs["evaluations"]) > 50 and all(proofs["evaluations"].values())
    assert proofs["regles"] == REGLES_VERSION
    assert proofs["referentiel"]["code"] == "CPECOM" and proofs["referentiel"]["empreinte"]


# --- 2. deliberation seals the session -------------------------------------------------------


def test_grid_resent_after_deliberation_changes_nothing(espace: Path, cli_runner: CliRunner
                                                        ) -> None:
    """A juror re-sends 001's grid all « Non acquis » after the PV: `resultats` names the
    cells, changes no decision, no bloc, no certificate; the certificate still verifies."""
    out = _run(cli_runner, "deliberer", S1)
    assert "Session scellée : 3 décision(s), version 1, empreinte" in out
    _documents(cli_runner)
    numero, code = _certificates(espace)["001"]
    blocs = _register(espace, "SELECT COUNT(*) FROM blocs_capitalises")
    _refill(espace, "001", 0.0)
    out = _run(cli_runner, "resultats", S1)
    assert "grilles/001_LEFEVRE_Elodie.xlsx BC01!D" in out
    assert "grille modifiée après la délibération (candidat 001)" in out
    assert "Session délibérée" in out
    assert _decisions(espace) == DECISIONS
    changed = [a for a in _json(espace)["anomalies"] if "après la délibération" in a["message"]]
    assert changed and all(a["cellule"].split("!")[0] in {"BC01", "BC02", "BC03", "BC04", "BC05"}
                           for a in changed)
    assert _register(espace, "SELECT COUNT(*) FROM blocs_capitalises") == blocs
    assert _register(espace, "SELECT decision FROM passages WHERE numero = '001'") == [
        ("Certifié",)]
    assert "authentique" in _run(cli_runner, "registre", "verifier", numero, code)


def test_grid_gone_or_broken_after_deliberation_is_said_once(espace: Path,
                                                           cli_runner: CliRunner) -> None:
    """001's grid deleted after the deliberation: one anomaly, « disparue », and not also a
    « grille modifiée » listing every cell of a file that is not there as « Acquis → vide »;
    a grid that cannot be read any more: « devenue illisible ». No decision changes."""
    _run(cli_runner, "deliberer", S1)
    grid = next((espace / S1 / "grilles").glob("001_*.xlsx"))
    kept = grid.read_bytes()
    try:
        grid.unlink()
        out = _run(cli_runner, "resultats", S1)
        assert "grille du candidat 001 disparue après la délibération" in out
        assert "grille modifiée après la délibération" not in out and "→ vide" not in out
        grid.write_bytes(b"ceci n'est pas un classeur")
        out = _run(cli_runner, "resultats", S1)
        assert "grille du candidat 001 devenue illisible après la délibération" in out
        assert "grille modifiée après la délibération" not in out
        assert _decisions(espace) == DECISIONS
    finally:
        grid.write_bytes(kept)


def test_documents_after_the_exam_seal_the_session(espace: Path, cli_runner: CliRunner) -> None:
    """The first documents after the exam seal; the PV prints the fingerprint."""
    from docx import Document

    out = _documents(cli_runner)
    assert "session scellée (délibération) : 3 décision(s), empreinte" in out
    (version, empreinte), = _register(espace, "SELECT version, empreinte FROM scellements")
    assert version == 1
    pv = next((espace / S1 / "documents" / "proces_verbal").glob("proces*.docx"))
    text = "\n".join(p.text for p in Document(str(pv)).paragraphs)
    printed = " ".join(empreinte[i:i + 4] for i in range(0, 16, 4)).upper()
    assert f"empreinte\u00a0: {printed}" in text


def test_sealing_refused_while_a_grid_is_incomplete_or_changed(espace: Path,
                                                               cli_runner: CliRunner) -> None:
    _refill(espace, "002", 0.1)  # changed since `resultats`
    out = _run(cli_runner, "deliberer", S1, code=1)
    assert "002 Moussa N'Diaye : la grille a changé depuis le dernier « certidocs resultats »" \
        in out
    assert _register(espace, "SELECT COUNT(*) FROM scellements") == [(0,)]


# --- revision --------------------------------------------------------------------------------


def test_revision_revokes_the_certificate_and_the_blocs_follow(espace: Path,
                                                               cli_runner: CliRunner) -> None:
    """A jury error on 001, corrected in the grid and revised with a reason: the certificate is
    revoked (kept), the blocs of the session are no longer capitalised, the history shows
    it, `registre verifier` says « RÉVOQUÉ », the session is sealed again."""
    _documents(cli_runner)
    numero, code = _certificates(espace)["001"]
    _refill(espace, "001", 0.0)
    short = _run(cli_runner, "decision", "reviser", S1, "001", "--motif", "erreur", code=1)
    assert "au moins 10 caractères" in short
    early = _run(cli_runner, "decision", "reviser", S1, "001", "--motif",
                 "erreur de saisie du jury", "--date", "01/01/2020", code=1)
    assert "ne peut précéder la délibération" in early
    out = _run(cli_runner, "decision", "reviser", S1, "001", "--motif",
               "erreur de saisie du jury", "--date", "20/12/2026")
    assert "Décision de 001 révisée le 20/12/2026 : Certifié → Non certifié" in out
    assert f"certificat {numero} RÉVOQUÉ" in out
    assert _register(espace, "SELECT numero, revoque_le, motif_revocation FROM certificats") \
        == [(numero, "2026-12-20", "erreur de saisie du jury")]
    assert _register(espace, "SELECT COUNT(*) FROM blocs_capitalises b JOIN candidats c ON "
                             "c.id = b.candidat_id WHERE c.nom_naissance = 'Lefèvre'") == [(0,)]
    assert _register(espace, "SELECT MAX(version) FROM scellements") == [(2,)]
    verdict = _run(cli_runner, "registre", "verifier", numero, code, code=1)
    assert "RÉVOQUÉ le 20/12/2026 : erreur de saisie du jury" in verdict
    history = _run(cli_runner, "registre", "candidat", "Lefèvre")
    assert "Certifié → Non certifié ; motif : erreur de saisie du jury" in history
    assert "RÉVOQUÉ le 20/12/2026" in history
    assert _decisions(espace)["001"] == "Non certifié"
    assert "Registre intègre" in _run(cli_runner, "registre", "controler")
    out = _documents(cli_runner)
    folder = espace / S1 / "documents" / "certificat"
    assert f"certificat {numero} révoqué : 001_LEFEVRE_Elodie.docx retiré(s)" in out
    assert not list(folder.glob("001_*")) and (folder / "revoques" / "001_LEFEVRE_Elodie.docx"
                                               ).is_file()


def test_revision_refused_before_sealing_and_when_nothing_changes(espace: Path,
                                                                 cli_runner: CliRunner) -> None:
    out = _run(cli_runner, "decision", "reviser", S1, "003", "--motif", "recours accueilli",
               code=1)
    assert "pas encore délibérée" in out
    _run(cli_runner, "deliberer", S1)
    out = _run(cli_runner, "decision", "reviser", S1, "003", "--motif", "recours accueilli",
               "--date", "31/12/2026", code=1)
    assert "donne la décision déjà enregistrée (Non certifié) ; rien à réviser" in out


def test_revoked_holder_declared_to_the_cdc_is_listed_for_correction(espace: Path,
                                                                      cli_runner: CliRunner
                                                                      ) -> None:
    _documents(cli_runner)
    with Registre(espace / "registre.sqlite") as reg, reg.transaction("flux écrit") as conn:
        (cid,), = conn.execute("SELECT id FROM certificats").fetchall()
        reg.enregistrer_flux(conn, id_flux="f1", fichier="accrochage/a.xml", empreinte="x",
                             cree_le=dt.datetime(2026, 12, 18, 9), passages=[(cid, "T1")])
    _refill(espace, "001", 0.0)
    out = _run(cli_runner, "decision", "reviser", S1, "001", "--motif",
               "recours de la commission accueilli", "--date", "05/01/2027")
    assert "déjà été déclaré à la Caisse des Dépôts : faites une déclaration rectificative" in out
    with Registre(espace / "registre.sqlite") as reg:
        revoked = reg.certificats_revoques()
        assert [(r["numero"][-5:], r["declare"]) for r in revoked] == [("00001", 1)]
        assert reg.certificats_a_declarer() == []


# --- 3. a tamper-evident register ------------------------------------------------------------


def _full_chain(root: Path, runner: CliRunner) -> None:
    """Results, sealing, certificates, a revision with revocation, a recours: every table
    holds rows."""
    _documents(runner)
    _refill(root, "002", 0.0)
    _run(runner, "decision", "reviser", S1, "002", "--motif", "erreur de report des notes",
         "--date", "20/12/2026")
    (root / "accrochage").mkdir()
    (root / "accrochage" / "a.xml").write_text("<flux/>", encoding="utf-8")
    with Registre(root / "registre.sqlite") as reg, reg.transaction("flux écrit") as conn:
        (cid,) = conn.execute("SELECT id FROM certificats").fetchone()
        reg.enregistrer_flux(conn, id_flux="f1", fichier="accrochage/a.xml", empreinte="x",
                             cree_le=dt.datetime(2026, 12, 18, 9), passages=[(cid, "T1")])
        sid = reg.session_id(conn, "s1", "s1", "CPECOM", None, None, "")
        reg.enregistrer_recours(conn, session_id=sid, numero="003", candidat=None,
                                date_reception=dt.date(2026, 12, 20), motifs="m", decision="",
                                motif_decision="", date_decision=None)


UNIQUE_NUMBERS = {"id", "session_id", "rang", "version", "certificat_id"}
UNIQUE_TEXTS = {"cle", "numero", "id_flux", "bloc"}


def _hand(root: Path, sql: str, params: tuple[Any, ...] = ()) -> None:
    conn = sqlite3.connect(root / "registre.sqlite")
    conn.execute(sql, params)
    conn.commit()
    conn.close()


def _tables(root: Path) -> list[str]:
    from certidocs.registre import projected_tables

    with Registre(root / "registre.sqlite") as reg:
        return projected_tables(reg.db)


def test_untouched_register_controls_clean(espace: Path, cli_runner: CliRunner) -> None:
    _full_chain(espace, cli_runner)
    assert "Registre intègre" in _run(cli_runner, "registre", "controler")
    (espace / "accrochage" / "a.xml").unlink()  # a declared flux must stay where it was written
    out = _run(cli_runner, "registre", "controler", code=1)
    assert "table flux, ligne 1 : le fichier accrochage/a.xml a disparu" in out
    assert set(_tables(espace)) >= {"candidats", "sessions", "passages", "blocs_capitalises",
                                    "certificats", "recours", "flux", "flux_passages",
                                    "scellements", "revisions"}


@pytest.mark.parametrize("action", ["modifiée", "supprimée", "ajoutée"])
@pytest.mark.usefixtures("sqlite_seulement")
def test_controler_names_every_hand_edit_in_every_table(espace: Path, cli_runner: CliRunner,
                                                        action: str) -> None:
    """In each table in turn, one row edited, deleted or inserted by hand (as with a SQLite
    browser): `registre controler` exits 1 and names the table, the row and what changed."""
    _full_chain(espace, cli_runner)
    backup = (espace / "registre.sqlite").read_bytes()
    for table in _tables(espace):
        (espace / "registre.sqlite").write_bytes(backup)
        conn = sqlite3.connect(espace / "registre.sqlite")
        rowid, *values = conn.execute(f"SELECT rowid, * FROM {table} LIMIT 1").fetchone()
        columns = [d[0] for d in conn.execute(f"SELECT * FROM {table}").description]
        conn.close()
        if action == "modifiée":
            col = next(c for c, v in zip(columns, values, strict=True)
                       if isinstance(v, str) and c != "cle")
            _hand(espace, f"UPDATE {table} SET {col} = {col} || 'X' WHERE rowid = ?", (rowid,))
        elif action == "supprimée":
            _hand(espace, "PRAGMA foreign_keys = OFF")
            _hand(espace, f"DELETE FROM {table} WHERE rowid = ?", (rowid,))
        else:
            # A copy of the row, its id and unique columns made distinct.
            fresh = [9999 if c in UNIQUE_NUMBERS else f"{v}-bis" if c in UNIQUE_TEXTS else v
                     for c, v in zip(columns, values, strict=True)]
            _hand(espace, f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                          f"({', '.join('?' * len(columns))})", tuple(fresh))
        out = _run(cli_runner, "registre", "controler", code=1)
        assert f"table {table}, ligne " in out, table
        assert f"ligne {action} à la main" in out, table


@pytest.mark.usefixtures("sqlite_seulement")
def test_controler_names_an_edited_or_deleted_journal_entry(espace: Path,
                                                            cli_runner: CliRunner) -> None:
    _full_chain(espace, cli_runner)
    backup = (espace / "registre.sqlite").read_bytes()
    _hand(espace, "UPDATE journal SET resume = 'rien' WHERE seq = 2")
    out = _run(cli_runner, "registre", "controler", code=1)
    assert "journal, entrée n° 2" in out and "contenu modifié après son écriture" in out
    (espace / "registre.sqlite").write_bytes(backup)
    _hand(espace, "DELETE FROM journal WHERE seq = 3")
    out = _run(cli_runner, "registre", "controler", code=1)
    assert "entrée(s) n° 3 à 3 supprimée(s) du journal" in out
    (espace / "registre.sqlite").write_bytes(backup)
    # The last entries dropped with the rows they wrote: only the signed head tells.
    _hand(espace, "DELETE FROM journal WHERE seq = (SELECT MAX(seq) FROM journal)")
    _hand(espace, "DELETE FROM recours")
    out = _run(cli_runner, "registre", "controler", code=1)
    assert "journal tronqué" in out


def test_register_of_the_previous_version_is_taken_over(tmp_path: Path) -> None:
    """A version-2 register holding rows gets a « reprise » entry: it controls clean, and an
    edit made after the migration is named."""
    from certidocs.registre import MIGRATIONS

    path = tmp_path / "registre.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[1] + ";" + MIGRATIONS[2])
    conn.execute("INSERT INTO candidats (cle, nom_naissance, prenom) VALUES ('K', 'Roux', 'Jean')")
    conn.execute("INSERT INTO sessions (cle, nom, referentiel) VALUES ('s', 's', 'CPECOM')")
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    with Registre(path) as reg:
        assert reg.controler() == []
        assert [r["type"] for r in reg.conn.execute("SELECT type FROM journal")] == ["reprise"]
    _hand(tmp_path, "UPDATE candidats SET prenom = 'Jeanne'")
    with Registre(path) as reg:
        assert [str(c) for c in reg.controler()] == [
            "table candidats, ligne 1 : ligne modifiée à la main : prenom « Jeanne » au lieu "
            "de « Jean »"]


# --- 4. secrets are never re-created silently ------------------------------------------------


def test_deleted_secret_is_an_error_not_a_new_secret(espace: Path, cli_runner: CliRunner) -> None:
    _documents(cli_runner)
    numero, code = _certificates(espace)["001"]
    (espace / SECRET_NAME).unlink()
    out = _run(cli_runner, "registre", "verifier", numero, code, code=1)
    assert f"{espace / SECRET_NAME} introuvable" in out
    assert "ceux déjà délivrés en dépendent" in out
    assert not (espace / SECRET_NAME).exists()
    out = _run(cli_runner, "registre", "creer-cles", code=1)
    assert "1 certificat(s) délivré(s)" in out and "restaurez-les" in out
    assert not (espace / SECRET_NAME).exists()


def test_deleted_signing_key_is_an_error(espace: Path, cli_runner: CliRunner) -> None:
    (espace / KEY_NAME).unlink()
    out = _run(cli_runner, "documents", S1, "--type", "certificat", code=1)
    assert f"{espace / KEY_NAME} introuvable" in out
    assert not (espace / KEY_NAME).exists()
    assert _register(espace, "SELECT COUNT(*) FROM certificats") == [(0,)]


def test_init_creates_both_secrets_owner_only(tmp_path: Path, cli_runner: CliRunner) -> None:
    import stat

    _run(cli_runner, "init", str(tmp_path / "neuf"))
    for name in (SECRET_NAME, KEY_NAME):
        assert stat.S_IMODE((tmp_path / "neuf" / name).stat().st_mode) == 0o600


# --- 5. certificates anyone can verify offline -----------------------------------------------


def _qr_png(docx: Path, out: Path) -> Path:
    """The QR code image embedded in a certificate .docx."""
    with zipfile.ZipFile(docx) as z:
        images = [n for n in z.namelist() if n.startswith("word/media/")]
        assert images, "pas d'image dans le certificat"
        out.write_bytes(z.read(images[-1]))
    return out


def test_certificate_qr_verifies_with_the_public_key_alone(espace: Path, cli_runner: CliRunner,
                                                           tmp_path: Path) -> None:
    """The QR code of a printed certificate, read back from its image, verifies with the
    exported public key and nothing else; a forged token or another key does not."""
    _documents(cli_runner)
    _run(cli_runner, "registre", "cle-publique", "-o", str(tmp_path / "cle.pem"))
    cert = espace / S1 / "documents" / "certificat" / "001_LEFEVRE_Elodie.docx"
    png = _qr_png(cert, tmp_path / "qr.png")
    # Offline: another folder, no workspace, no register, no secret.
    offline = tmp_path / "ailleurs"
    offline.mkdir()
    shutil.copy(png, offline / "qr.png")
    shutil.copy(tmp_path / "cle.pem", offline / "cle.pem")
    shutil.rmtree(espace)
    result = CliRunner().invoke(main, ["verifier", str(offline / "qr.png"), "--cle",
                                       str(offline / "cle.pem")])
    assert result.exit_code == 0, result.output + result.stderr
    assert "Signature valide : certificat n° CPECOM-" in result.output
    assert "à Élodie Lefèvre, né(e) le 03/04/1990" in result.output

    from certidocs.signature import decode_image, find_token

    token = find_token(decode_image(png))
    assert token is not None
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}.{signature}"
    out = CliRunner().invoke(main, ["verifier", forged, "--cle", str(offline / "cle.pem")])
    assert out.exit_code == 1 and "signature invalide" in out.stderr
    (tmp_path / "autre").mkdir()
    ensure_keys(tmp_path / "autre")
    (tmp_path / "autre" / "certidocs.toml").write_text("", encoding="utf-8")
    other = CliRunner().invoke(main, ["registre", "cle-publique", "--espace",
                                      str(tmp_path / "autre")])
    (tmp_path / "autre.pem").write_text(other.output, encoding="ascii")
    out = CliRunner().invoke(main, ["verifier", token, "--cle", str(tmp_path / "autre.pem")])
    assert out.exit_code == 1 and "signature invalide" in out.stderr


def test_revoked_certificate_is_in_the_signed_revocation_list(espace: Path,
                                                              cli_runner: CliRunner,
                                                              tmp_path: Path) -> None:
    _documents(cli_runner)
    png = _qr_png(espace / S1 / "documents" / "certificat" / "001_LEFEVRE_Elodie.docx",
                  tmp_path / "qr.png")
    _refill(espace, "001", 0.0)
    _run(cli_runner, "decision", "reviser", S1, "001", "--motif", "fraude constatée au jury",
         "--date", "20/12/2026")
    _run(cli_runner, "registre", "cle-publique", "-o", str(tmp_path / "cle.pem"))
    out = _run(cli_runner, "registre", "revocations", "-o", str(tmp_path / "rev.json"))
    assert "1 certificat(s) révoqué(s)" in out
    listed = json.loads((tmp_path / "rev.json").read_text(encoding="utf-8"))
    assert "fraude" not in json.dumps(listed)  # published: numbers and dates only
    out = _run(cli_runner, "verifier", str(png), "--cle", str(tmp_path / "cle.pem"),
               "--revocations", str(tmp_path / "rev.json"), code=1)
    assert "RÉVOQUÉ le 20/12/2026" in out
    listed["revocations"] = []
    (tmp_path / "rev.json").write_text(json.dumps(listed), encoding="utf-8")
    out = _run(cli_runner, "verifier", str(png), "--cle", str(tmp_path / "cle.pem"),
               "--revocations", str(tmp_path / "rev.json"), code=1)
    assert "signature de la liste de révocation invalide" in out


@pytest.mark.libreoffice
def test_certificate_printed_to_pdf_scans_back_and_verifies(espace: Path, cli_runner: CliRunner,
                                                            tmp_path: Path) -> None:
    """The whole path of paper: certificate → PDF (LibreOffice) → page image (pdftoppm, 150
    dpi) → QR code read from the page → verified with the public key alone."""
    import subprocess

    from helpers import exiger_libreoffice

    if shutil.which("pdftoppm") is None:
        if exiger_libreoffice():
            pytest.fail("pdftoppm (poppler-utils) manquant")
        pytest.skip("pdftoppm (poppler-utils) manquant")
    _run(cli_runner, "documents", S1, "--type", "certificat", "--pdf")
    pdf = espace / S1 / "documents" / "certificat" / "001_LEFEVRE_Elodie.pdf"
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf),
                    str(tmp_path / "page")], check=True)
    _run(cli_runner, "registre", "cle-publique", "-o", str(tmp_path / "cle.pem"))
    out = _run(cli_runner, "verifier", str(tmp_path / "page.png"), "--cle",
               str(tmp_path / "cle.pem"))
    assert "Signature valide" in out and "Élodie Lefèvre" in out


def test_folder_reused_by_another_session_is_refused(espace: Path, cli_runner: CliRunner) -> None:
    """session.xlsx replaced by another session's (a new identifier) in the same folder: its
    results are never recorded over the first session's decisions."""
    (espace / S1 / "session.xlsx").unlink()
    make_session(espace / S1)
    out = _run(cli_runner, "resultats", S1, code=1)
    assert "a déjà servi à une autre session" in out
    assert _register(espace, "SELECT numero, decision FROM passages ORDER BY numero") == [
        (n, d) for n, d in DECISIONS.items()]


@pytest.mark.usefixtures("sqlite_seulement")
def test_steps_refuse_a_register_edited_by_hand(espace: Path, cli_runner: CliRunner) -> None:
    """A certificate deleted with a SQLite editor: `documents` does not issue a new number,
    `registre verifier` does not vouch, `resultats` and `deliberer` refuse; each says what
    was found and to restore the backup."""
    _documents(cli_runner)
    numero, code = _certificates(espace)["001"]
    _hand(espace, "DELETE FROM certificats")
    for args in (("documents", S1, "--type", "certificat"), ("registre", "verifier", numero, code),
                 ("resultats", S1), ("deliberer", S1), ("registre", "revocations")):
        out = _run(cli_runner, *args, code=1)
        assert "le registre a été modifié hors de certidocs ; rien n'a été fait" in out, args
        assert "table certificats, ligne 1 : ligne supprimée à la main" in out, args
    assert _register(espace, "SELECT COUNT(*) FROM certificats") == [(0,)]


@pytest.mark.usefixtures("sqlite_seulement")
def test_un_revoked_certificate_is_not_vouched_for(espace: Path, cli_runner: CliRunner) -> None:
    _documents(cli_runner)
    numero, code = _certificates(espace)["001"]
    _refill(espace, "001", 0.0)
    _run(cli_runner, "decision", "reviser", S1, "001", "--motif", "erreur de saisie du jury",
         "--date", "20/12/2026")
    _hand(espace, "UPDATE certificats SET revoque_le = NULL, motif_revocation = ''")
    out = _run(cli_runner, "registre", "verifier", numero.lower(), code.lower(), code=1)
    assert "revoque_le « vide » au lieu de « 20/12/2026 »" in out
    assert "authentique" not in out


def test_certificate_number_typed_in_lower_case_is_found(espace: Path,
                                                         cli_runner: CliRunner) -> None:
    _documents(cli_runner)
    numero, code = _certificates(espace)["001"]
    out = _run(cli_runner, "registre", "verifier", numero.lower(), code.lower().replace("-", ""))
    assert f"Certificat {numero} authentique" in out
