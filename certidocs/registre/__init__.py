"""The register: what must survive from one session to the next, in SQLite or PostgreSQL.

Candidates are matched across sessions by birth name, first name and birth date, with accents
and case folded. The register keeps passages (who sat which session, with what decision and the
evidence it was decided from), blocs capitalised with their date, the seals of deliberations,
revisions, certificates (number unique, sequential per certification and year, never reused,
revoked but never deleted) and appeals. Every write happens in one transaction; the schema
carries a version and is migrated forward on open.

**The journal.** Every transaction is appended, with every write statement it ran and their
values, to the ``journal`` table as one entry: a type for people (« passage enregistré »,
« certificat délivré », « révision »…), a summary, and a SHA-256 chain (each entry hashes the
previous entry's hash with its own content, the idea of Certificate Transparency logs, RFC 6962,
kept to a simple chain). The current tables are a projection of the journal: ``controler``
replays it into an empty database and compares, so a row edited, deleted or inserted by hand is
named. When the workspace's signing key is given, the head of the chain (last entry and hash)
is signed into a file beside the register after each commit, so that truncating or rewriting the
whole journal is detected too.

**Two engines, one code.** Every SQL statement of the register lives in this package: the
domain's here, written once in the dialect SQLite and PostgreSQL share; the engines' few
differences in ``moteur.py``; a network's roles, row-level security and the copy of a SQLite
register in ``reseau.py``. SQLite (``registre.sqlite``) is the default; ``[registre] url`` in
certidocs.toml names a shared PostgreSQL register instead.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import re
import sqlite3
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from certidocs.errors import RegistreError
from certidocs.registre.moteur import Moteur, MoteurPostgres, MoteurSQLite, est_postgresql

SCHEMA_VERSION = 4

MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE candidats (
        id INTEGER PRIMARY KEY,
        cle TEXT NOT NULL UNIQUE,
        nom_naissance TEXT NOT NULL,
        prenom TEXT NOT NULL,
        date_naissance TEXT,
        nom_usage TEXT NOT NULL DEFAULT '',
        lieu_naissance TEXT NOT NULL DEFAULT '',
        email TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        cle TEXT NOT NULL UNIQUE,
        nom TEXT NOT NULL,
        referentiel TEXT NOT NULL,
        date_debut TEXT,
        date_fin TEXT,
        lieu TEXT NOT NULL DEFAULT '',
        mot_de_passe_grilles TEXT
    );
    CREATE TABLE passages (
        id INTEGER PRIMARY KEY,
        candidat_id INTEGER NOT NULL REFERENCES candidats(id),
        session_id INTEGER NOT NULL REFERENCES sessions(id),
        numero TEXT NOT NULL,
        referentiel TEXT NOT NULL,
        date_session TEXT,
        voie_acces TEXT NOT NULL DEFAULT '',
        decision TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '{}',
        enregistre_le TEXT NOT NULL,
        UNIQUE (candidat_id, session_id)
    );
    CREATE TABLE blocs_capitalises (
        id INTEGER PRIMARY KEY,
        candidat_id INTEGER NOT NULL REFERENCES candidats(id),
        referentiel TEXT NOT NULL,
        bloc TEXT NOT NULL,
        date_validation TEXT NOT NULL,
        session_id INTEGER NOT NULL REFERENCES sessions(id),
        UNIQUE (candidat_id, referentiel, bloc)
    );
    CREATE TABLE certificats (
        id INTEGER PRIMARY KEY,
        numero TEXT NOT NULL UNIQUE,
        referentiel TEXT NOT NULL,
        annee INTEGER NOT NULL,
        rang INTEGER NOT NULL,
        candidat_id INTEGER NOT NULL REFERENCES candidats(id),
        session_id INTEGER NOT NULL REFERENCES sessions(id),
        date_delivrance TEXT NOT NULL,
        code_verification TEXT NOT NULL DEFAULT '',
        UNIQUE (referentiel, annee, rang),
        UNIQUE (candidat_id, session_id, referentiel)
    );
    CREATE TABLE recours (
        id INTEGER PRIMARY KEY,
        candidat_id INTEGER REFERENCES candidats(id),
        session_id INTEGER NOT NULL REFERENCES sessions(id),
        numero TEXT NOT NULL,
        date_reception TEXT,
        motifs TEXT NOT NULL DEFAULT '',
        decision TEXT NOT NULL DEFAULT '',
        motif_decision TEXT NOT NULL DEFAULT '',
        date_decision TEXT,
        UNIQUE (session_id, numero, date_reception)
    );
    CREATE INDEX passages_candidat ON passages (candidat_id);
    """,
    # Declaration to the Caisse des Dépôts (accrochage): the identity it needs beyond the
    # certificate, the exam centre's postal code, and which certificate went in which flux
    # with the CDC's answer. A certificate may appear in several flux (rejected, sent again).
    2: """
    ALTER TABLE candidats ADD COLUMN sexe TEXT NOT NULL DEFAULT '';
    ALTER TABLE candidats ADD COLUMN code_insee_naissance TEXT NOT NULL DEFAULT '';
    ALTER TABLE candidats ADD COLUMN pays_naissance TEXT NOT NULL DEFAULT '';
    ALTER TABLE sessions ADD COLUMN code_postal_examen TEXT NOT NULL DEFAULT '';
    CREATE TABLE flux (
        id INTEGER PRIMARY KEY,
        id_flux TEXT NOT NULL UNIQUE,
        fichier TEXT NOT NULL,
        cree_le TEXT NOT NULL,
        empreinte TEXT NOT NULL,
        nombre INTEGER NOT NULL
    );
    CREATE TABLE flux_passages (
        flux_id INTEGER NOT NULL REFERENCES flux(id),
        certificat_id INTEGER NOT NULL REFERENCES certificats(id),
        id_technique TEXT NOT NULL,
        statut TEXT NOT NULL DEFAULT 'envoyé'
            CHECK (statut IN ('envoyé', 'accepté', 'rejeté')),
        motif TEXT NOT NULL DEFAULT '',
        marque_le TEXT,
        PRIMARY KEY (flux_id, certificat_id)
    );
    CREATE INDEX flux_passages_certificat ON flux_passages (certificat_id);
    CREATE INDEX flux_empreinte ON flux (empreinte);
    """,
    # Trust: the journal, the evidence of each decision, seals, revisions, revocations and the
    # session's unique identifier. The journal's first entry of a register migrated from
    # version 2 is a « reprise » of every row it held (see ``Registre._reprise``).
    3: """
    CREATE TABLE journal (
        seq INTEGER PRIMARY KEY,
        horodatage TEXT NOT NULL,
        type TEXT NOT NULL,
        resume TEXT NOT NULL DEFAULT '',
        contenu TEXT NOT NULL,
        precedente TEXT NOT NULL,
        empreinte TEXT NOT NULL
    );
    ALTER TABLE passages ADD COLUMN preuves TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE sessions ADD COLUMN identifiant TEXT NOT NULL DEFAULT '';
    ALTER TABLE certificats ADD COLUMN revoque_le TEXT;
    ALTER TABLE certificats ADD COLUMN motif_revocation TEXT NOT NULL DEFAULT '';
    ALTER TABLE certificats ADD COLUMN jeton TEXT NOT NULL DEFAULT '';
    CREATE TABLE scellements (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id),
        version INTEGER NOT NULL,
        date_deliberation TEXT,
        scelle_le TEXT NOT NULL,
        empreinte TEXT NOT NULL,
        nombre INTEGER NOT NULL,
        motif TEXT NOT NULL DEFAULT '',
        UNIQUE (session_id, version)
    );
    CREATE TABLE revisions (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id),
        candidat_id INTEGER NOT NULL REFERENCES candidats(id),
        numero TEXT NOT NULL,
        ancienne_decision TEXT NOT NULL,
        nouvelle_decision TEXT NOT NULL,
        motif TEXT NOT NULL,
        date_revision TEXT NOT NULL,
        enregistre_le TEXT NOT NULL,
        ancien_detail TEXT NOT NULL DEFAULT '{}'
    );
    """,
    # Network: the certifier and its partner centres on one register. Each session, passage,
    # certificate and candidate carries the SIRET of the centre that recorded it ('' for a
    # workspace that declares none); certificate numbers come from a counter row per
    # certification and year (``cle`` is the numbers' prefix, « CPECOM-2026 »), taken inside
    # the issuing transaction. Who sees what on a shared register: see reseau.py.
    4: """
    ALTER TABLE candidats ADD COLUMN centre TEXT NOT NULL DEFAULT '';
    ALTER TABLE sessions ADD COLUMN centre TEXT NOT NULL DEFAULT '';
    ALTER TABLE passages ADD COLUMN centre TEXT NOT NULL DEFAULT '';
    ALTER TABLE certificats ADD COLUMN centre TEXT NOT NULL DEFAULT '';
    CREATE TABLE numerotation (
        cle TEXT PRIMARY KEY,
        referentiel TEXT NOT NULL,
        annee INTEGER NOT NULL,
        rang INTEGER NOT NULL
    );
    CREATE INDEX passages_centre ON passages (centre);
    CREATE INDEX certificats_centre ON certificats (centre)
    """,
}

JOURNAL_ORIGINE = "0" * 64
"""The « previous hash » of the journal's first entry."""

TETE_SUFFIXE = ".tete"
"""The signed head of the journal is ``<register file><TETE_SUFFIXE>`` beside the register."""

_WRITE = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def entry_hash(precedente: str, seq: int, horodatage: str, type_: str, resume: str,
               contenu: str) -> str:
    """The SHA-256 (hex) of one journal entry: the previous entry's hash and this entry's
    number, time stamp, type, summary and content, separated so that no two entries give the
    same bytes."""
    data = "\x1f".join([precedente, str(seq), horodatage, type_, resume, contenu])
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def apply_schema(conn: Any, target: int) -> None:
    """Run migration ``target``'s statements on ``conn`` (a ``sqlite3.Connection`` or a
    ``Moteur``, inside the caller's transaction)."""
    adapt = getattr(conn, "ddl", lambda s: s)
    for statement in MIGRATIONS[target].split(";"):
        if statement.strip():
            conn.execute(adapt(statement))


def projected_tables(conn: Any) -> list[str]:
    """The tables that are a projection of the journal: all but the journal itself."""
    if isinstance(conn, Moteur):
        return conn.tables()
    return MoteurSQLite.tables(_Brut(conn))  # type: ignore[arg-type]


class _Brut:
    """A bare ``sqlite3.Connection`` seen as the SQLite engine (for ``projected_tables``)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn


class Transaction:
    """The connection as a transaction sees it: every write statement is kept for the journal.

    Reads pass through; ``INSERT``/``UPDATE``/``DELETE`` are executed and recorded with their
    values, so that the journal entry holds exactly what changed the tables (on PostgreSQL,
    with the id the server gave to each new row, see ``moteur``).
    """

    def __init__(self, db: Moteur) -> None:
        self._db = db
        self.statements: list[list[Any]] = []
        self.entrees = 0
        """Journal entries this transaction has written (``Registre.jalon``)."""

    def execute(self, sql: str, params: Any = ()) -> Any:
        """Run ``sql``; a write is recorded with its parameters."""
        if sql.lstrip()[:7].upper().startswith(_WRITE):
            cur, kept, values = self._db.ecrire(sql, params)
            self.statements.append([kept, list(values) if not isinstance(values, dict)
                                    else dict(values)])
            return cur
        return self._db.execute(sql, params)

    def executemany(self, sql: str, rows: Any) -> Any:
        """Run ``sql`` for each row; recorded as one statement per row."""
        cur = None
        for row in rows:
            cur = self.execute(sql, list(row))
        return cur


STATUTS_FLUX = ("envoyé", "accepté", "rejeté")

ECHECS = ("Non certifié", "Validation partielle")


def candidate_key(nom_naissance: str, prenom: str, date_naissance: dt.date | None) -> str:
    """The key that identifies a person across sessions: names folded, birth date ISO."""

    def fold(text: str) -> str:
        bare = "".join(c for c in unicodedata.normalize("NFKD", text)
                       if not unicodedata.combining(c))
        return " ".join(bare.replace("’", "'").replace("-", " ").upper().split())

    born = date_naissance.isoformat() if date_naissance else "?"
    return f"{fold(nom_naissance)}|{fold(prenom)}|{born}"


@dataclass(frozen=True)
class Historique:
    """What the register knows of one person for one certification, before a session."""

    echecs: int = 0
    date_premier_echec: dt.date | None = None
    blocs_capitalises: frozenset[str] = frozenset()
    certifie: bool = False


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def date_fr(value: Any) -> str:
    """An ISO date of the register (« 2027-01-14 », or a time stamp) as people write it:
    « 14/01/2027 »; empty when unknown, the text as it is when it is not a date."""
    if not value:
        return ""
    try:
        return dt.date.fromisoformat(str(value)[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return str(value)





ENV_URL = "CERTIDOCS_REGISTRE_URL"
"""An environment variable that overrides ``[registre] url`` (a test run, a demo on a server)."""

ENV_MOT_DE_PASSE = "CERTIDOCS_REGISTRE_MOT_DE_PASSE"
"""The default environment variable holding the PostgreSQL password (never in certidocs.toml);
``[registre] mot_de_passe_env`` may name another one."""


@dataclass(frozen=True)
class Reglages:
    """Where a workspace's register is and who writes in it: ``url`` empty means the SQLite
    file beside certidocs.toml; ``centre`` is the SIRET of the workspace's centre ('' when it
    declares none, a certifier alone)."""

    url: str = ""
    mot_de_passe: str | None = None
    centre: str = ""
    nom_centre: str = ""


def reglages(config: dict[str, Any]) -> Reglages:
    """The register settings of a parsed certidocs.toml (and the environment)."""
    section = config.get("registre") or {}
    centre = config.get("centre") or {}
    url = os.environ.get(ENV_URL) or str(section.get("url") or "")
    variable = str(section.get("mot_de_passe_env") or ENV_MOT_DE_PASSE)
    return Reglages(url=url.strip(), mot_de_passe=os.environ.get(variable) or None,
                    centre="".join(str(centre.get("siret") or "").split()),
                    nom_centre=str(centre.get("nom") or "").strip())


def reglages_sqlite() -> Reglages:
    """Settings that open the SQLite file given, whatever the environment says."""
    return Reglages()


def _reglages_a_cote(path: Path) -> Reglages:
    """The settings of the workspace whose register file is ``path`` (none: SQLite)."""
    from certidocs.workspace import CONFIG_NAME, load_config

    config = path.parent / CONFIG_NAME
    if path.as_posix() == ":memory:" or not config.is_file():
        return reglages({})
    try:
        return reglages(load_config(config))
    except Exception:  # an unreadable certidocs.toml is reported by the workspace itself
        return reglages({})


def registre_existe(ws: Any) -> bool:
    """Whether workspace ``ws`` has a register to read: its SQLite file, or a shared one."""
    return est_postgresql(reglages(ws.config).url) or bool(ws.registre_path.exists())


def ouvrir_registre(ws: Any) -> Registre:
    """The register of workspace ``ws``: the SQLite file beside it, or the shared PostgreSQL
    register its ``[registre] url`` names, written as its ``[centre]``."""
    return Registre(ws.registre_path, reglages=reglages(ws.config))


_INTEGRES: dict[str, tuple[int, int]] = {}
"""Register files found intact by ``exiger_integrite`` in this process: path → (mtime, size)."""

MAX_CONSTATS_AFFICHES = 5
"""Findings quoted when a step refuses a register edited by hand (the rest: ``controler``)."""


class Registre:
    """An open register; use as a context manager (``with Registre(path) as reg:``).

    ``path`` is the workspace's ``registre.sqlite``; when the workspace's certidocs.toml (or
    the environment) names a PostgreSQL ``url``, the register lives there instead and ``path``
    only says which workspace writes. ``reglages`` gives them explicitly.

    ``signataire`` (an Ed25519 private key) signs the head of the journal after each commit;
    by default the workspace's key beside the register is used when there is one (every
    writer signs, whoever opens the register), and without one the chain is kept unsigned.
    """

    def __init__(self, path: Path, signataire: Any = None, *,
                 reglages: Reglages | None = None) -> None:
        from certidocs.signature import key_path, read_private_key

        self.path = path
        self.reglages = reglages if reglages is not None else _reglages_a_cote(path)
        self.centre = self.reglages.centre
        self.db: Moteur
        self._ecrite: tuple[int, str] | None = None
        if signataire is None and key_path(path.parent).exists():
            signataire = read_private_key(path.parent)
        if est_postgresql(self.reglages.url):
            self.db = MoteurPostgres(self.reglages.url, self.reglages.mot_de_passe)
            self.conn: Any = self.db
        else:
            try:
                self.db = MoteurSQLite(path)
            except sqlite3.Error as exc:
                raise RegistreError(f"{path} : registre inaccessible ({exc})") from None
            self.conn = self.db.conn
        self.signataire = signataire
        try:
            if self.db.nom == "sqlite":
                self.db.execute("PRAGMA foreign_keys = ON")
                self.db.execute("PRAGMA synchronous = FULL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise RegistreError(f"{path} : ce n'est pas un registre certidocs lisible ({exc})"
                                ) from None
        except BaseException as exc:
            self.db.close()
            if isinstance(exc, getattr(self.db, "erreur", ())):
                raise RegistreError(f"{self.db.cible} : registre PostgreSQL illisible "
                                    f"({str(exc).strip().splitlines()[0]})") from None
            raise

    def __enter__(self) -> Registre:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    @property
    def moteur(self) -> str:
        """« sqlite » or « postgresql »."""
        return self.db.nom

    @contextmanager
    def transaction(self, evenement: str = "écriture", resume: str = "") -> Iterator[Transaction]:
        """One atomic write, journaled: everything inside is committed together, with its
        journal entry (type ``evenement``, summary ``resume``), or not at all."""
        self.db.commencer()
        tx = Transaction(self.db)
        try:
            yield tx
            self.jalon(tx, evenement, resume)
        except BaseException:
            self.db.annuler()
            raise
        self.db.valider()
        if tx.entrees:
            self._sign_head()

    def jalon(self, tx: Transaction, evenement: str, resume: str) -> None:
        """Journal what ``tx`` wrote since its last entry as one entry (type ``evenement``,
        summary ``resume``) and let those statements go: a long transaction (the results of
        a large session) holds one entry's statements at a time. The entries stay inside the
        transaction, committed or rolled back with it: all or nothing still holds."""
        if tx.statements:
            self._append(evenement, resume, {"instructions": tx.statements})
            tx.statements = []
            tx.entrees += 1

    def _tete_pour_ecrire(self) -> tuple[int, str]:
        if self.db.nom == "postgresql":
            # A centre's account may not read the journal (it holds every centre's rows):
            # the server gives it the head only, under the write lock it holds.
            row = self.db.execute("SELECT seq, empreinte FROM certidocs_journal_tete()"
                                  ).fetchone()
        else:
            row = self.db.execute(
                "SELECT seq, empreinte FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
        return (int(row[0]), str(row[1])) if row and row[0] is not None else (
            0, JOURNAL_ORIGINE)

    def _append(self, type_: str, resume: str, content: dict[str, Any]) -> None:
        last_seq, previous = self._tete_pour_ecrire()
        seq = last_seq + 1
        stamp = dt.datetime.now().isoformat(timespec="seconds")
        text = _canonical(content)
        empreinte = entry_hash(previous, seq, stamp, type_, resume, text)
        self.db.execute(
            "INSERT INTO journal (seq, horodatage, type, resume, contenu, precedente, "
            "empreinte) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (seq, stamp, type_, resume, text, previous, empreinte))
        self._ecrite = (seq, empreinte)

    @property
    def tete_path(self) -> Path:
        """The file holding the signed head of the journal."""
        return self.path.with_name(self.path.name + TETE_SUFFIXE)

    def tete(self) -> tuple[int, str]:
        """The journal's last entry number and hash (0 and the origin when empty)."""
        row = self.db.execute(
            "SELECT seq, empreinte FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
        return (int(row["seq"]), str(row["empreinte"])) if row else (0, JOURNAL_ORIGINE)

    def _sign_head(self) -> None:
        """Write the signed head of the journal beside the register (atomically, 0600)."""
        if (self.signataire is None or self.path.as_posix() == ":memory:"
                or self._ecrite is None):
            return
        # The entry this transaction wrote: on a shared register other writers may have
        # appended since, and a centre's account may not read the journal. The control then
        # checks that the journal still holds this entry unchanged.
        seq, empreinte = self._ecrite
        message = f"certidocs-journal-v1|{seq}|{empreinte}".encode("ascii")
        signature = base64.b64encode(self.signataire.sign(message)).decode("ascii")
        body = _canonical({"seq": seq, "empreinte": empreinte, "signature": signature}) + "\n"
        tmp = self.tete_path.with_name(f".{self.tete_path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.tete_path)

    def _migrate(self) -> None:
        version = self.db.version()
        if version > SCHEMA_VERSION:
            raise RegistreError(f"{self.db.cible} : registre créé par une version plus récente "
                                f"de certidocs (schéma {version}) ; mettez certidocs à jour")
        if version == SCHEMA_VERSION:
            return
        self.db.commencer()
        try:
            # Another process may have migrated while this one waited for the write lock:
            # then nothing is left to do (re-granting would lock tables others are reading).
            version = self.db.version()
            if version == SCHEMA_VERSION:
                self.db.annuler()
                return
            for target in range(version + 1, SCHEMA_VERSION + 1):
                apply_schema(self.db, target)
                if target == 3 and version > 0:
                    self._reprise()
            self.db.fixer_version(SCHEMA_VERSION)
            if self.db.nom == "postgresql":
                from certidocs.registre.reseau import installer_securite

                installer_securite(self.db)
        except BaseException:
            self.db.annuler()
            raise
        self.db.valider()

    def _reprise(self) -> None:
        """The first journal entry of a register that predates the journal: every row it
        holds, as the statements that recreate it (rows keep their ids)."""
        statements: list[list[Any]] = []
        for table in self.db.tables():
            for row in self.db.execute(f"SELECT rowid AS _r, * FROM {table} ORDER BY rowid"):
                cols = list(row.keys())[1:]
                names = ", ".join(["rowid", *cols])
                marks = ", ".join("?" * (len(cols) + 1))
                statements.append([f"INSERT INTO {table} ({names}) VALUES ({marks})",
                                   [row["_r"], *(row[c] for c in cols)]])
        if statements:
            self._append("reprise", "reprise du registre existant à la création du journal",
                         {"instructions": statements})

    @property
    def version(self) -> int:
        """The schema version of the open register."""
        return self.db.version()

    # --- people and sessions --------------------------------------------------------------

    def _candidate_id(self, conn: Transaction, nom_naissance: str, prenom: str,
                      date_naissance: dt.date | None, **extra: str) -> int:
        key = candidate_key(nom_naissance, prenom, date_naissance)
        known = self._candidat_par_cle(conn, key)
        row = None
        if known is not None:
            # On a shared register a centre's account may not see a person another centre
            # examined until it records a passage of its own: nothing to update before that.
            row = conn.execute("SELECT * FROM candidats WHERE id = ?", (known,)).fetchone()
            if row is None:
                return known
        if row:
            changed = {k: v for k, v in extra.items() if row[k] != v}
            if changed:
                sets = ", ".join(f"{k} = ?" for k in changed)
                conn.execute(f"UPDATE candidats SET {sets} WHERE id = ?",
                             (*changed.values(), row["id"]))
            return int(row["id"])
        cur = conn.execute(
            "INSERT INTO candidats (cle, nom_naissance, prenom, date_naissance, nom_usage, "
            "lieu_naissance, email, centre) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (key, nom_naissance, prenom, _iso(date_naissance), extra.get("nom_usage", ""),
             extra.get("lieu_naissance", ""), extra.get("email", ""), self.centre))
        return int(cur.lastrowid or 0)

    def _candidat_par_cle(self, conn: Transaction, key: str) -> int | None:
        """The id of the person with this key anywhere in the register. On PostgreSQL a
        centre's account does not see people other centres examined: the server answers
        for one key (a centre that knows name, first name and birth date), never a list."""
        if self.db.nom == "postgresql":
            row = conn.execute("SELECT certidocs_candidat_id(?)", (key,)).fetchone()
        else:
            row = conn.execute("SELECT id FROM candidats WHERE cle = ?", (key,)).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def cle_session(self, cle: str) -> str:
        """A session's key in the register: on a shared register, prefixed with the centre's
        SIRET, since two centres may name a session folder alike (a SQLite file is one
        workspace's: its keys stay as they were, whatever ``[centre]`` says)."""
        return f"{self.centre}:{cle}" if self.centre and self.db.nom == "postgresql" else cle

    def session_id(self, conn: Transaction, cle: str, nom: str, referentiel: str,
                   date_debut: dt.date | None, date_fin: dt.date | None, lieu: str,
                   identifiant: str = "") -> int:
        """The id of a session (created or updated), inside a transaction.

        ``identifiant`` is the session's unique identifier (session.xlsx): recorded the first
        time it is known; a different one for the same folder means another session reuses
        the folder's name, refused (RegistreError) so that no decision is mixed with another
        session's.
        """
        cle = self.cle_session(cle)
        row = conn.execute("SELECT * FROM sessions WHERE cle = ?", (cle,)).fetchone()
        if row:
            if identifiant and row["identifiant"] and row["identifiant"] != identifiant:
                raise RegistreError(
                    f"{self.path} : le dossier « {cle} » a déjà servi à une autre session "
                    f"(identifiant {row['identifiant']}, celui de session.xlsx : {identifiant}) ;"
                    " une session ne reprend jamais les décisions d'une autre : donnez-lui un "
                    "autre nom de dossier")
            # What a caller does not know (the grids' password asks for the session by its key
            # alone) leaves what is recorded alone: never a known date replaced by nothing.
            keys = ("nom", "referentiel", "date_debut", "date_fin", "lieu", "identifiant")
            given = (nom, referentiel, _iso(date_debut), _iso(date_fin), lieu, identifiant)
            values = tuple(new or row[k] for k, new in zip(keys, given, strict=True))
            if tuple(row[k] for k in keys) != values:
                conn.execute("UPDATE sessions SET nom=?, referentiel=?, date_debut=?, "
                             "date_fin=?, lieu=?, identifiant=? WHERE id=?",
                             (*values, row["id"]))
            return int(row["id"])
        cur = conn.execute(
            "INSERT INTO sessions (cle, nom, referentiel, date_debut, date_fin, lieu, "
            "identifiant, centre) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (cle, nom, referentiel, _iso(date_debut), _iso(date_fin), lieu, identifiant,
             self.centre))
        return int(cur.lastrowid or 0)

    def grid_password(self, cle: str, nom: str, referentiel: str, new: str) -> str:
        """The grids' password of a session: the one kept, or ``new`` kept from now on."""
        with self.transaction("mot de passe des grilles", cle) as conn:
            sid = self.session_id(conn, cle, nom, referentiel, None, None, "")
            row = conn.execute("SELECT mot_de_passe_grilles FROM sessions WHERE id = ?",
                               (sid,)).fetchone()
            if row[0]:
                return str(row[0])
            conn.execute("UPDATE sessions SET mot_de_passe_grilles = ? WHERE id = ?", (new, sid))
            return new

    # --- history --------------------------------------------------------------------------

    def historique(self, nom_naissance: str, prenom: str, date_naissance: dt.date | None,
                   referentiel: str, avant_session: str | None = None) -> Historique:
        """Earlier failures, capitalised blocs and certification of a person, for one
        certification; the session ``avant_session`` (its key) itself is left out."""
        key = candidate_key(nom_naissance, prenom, date_naissance)
        params: list[Any] = [key, referentiel]
        exclude = ""
        if avant_session is not None:
            exclude = " AND s.cle <> ?"
            params.append(self.cle_session(avant_session))
        if self.db.nom == "postgresql":
            return self._historique_reseau(key, referentiel, params[2] if exclude else None)
        rows = self.db.execute(
            "SELECT p.decision, p.date_session FROM passages p JOIN candidats c ON c.id = "
            "p.candidat_id JOIN sessions s ON s.id = p.session_id WHERE c.cle = ? AND "
            f"p.referentiel = ?{exclude} ORDER BY p.date_session", params).fetchall()
        fails = [r for r in rows if r["decision"] in ECHECS]
        blocs = self.db.execute(
            "SELECT b.bloc FROM blocs_capitalises b JOIN candidats c ON c.id = b.candidat_id "
            "JOIN sessions s ON s.id = b.session_id WHERE c.cle = ? AND b.referentiel = ?"
            + exclude, params).fetchall()
        return Historique(
            echecs=len(fails),
            date_premier_echec=_date(fails[0]["date_session"]) if fails else None,
            blocs_capitalises=frozenset(r["bloc"] for r in blocs),
            certifie=any(r["decision"] == "Certifié" for r in rows),
        )

    def _historique_reseau(self, key: str, referentiel: str, exclue: str | None
                           ) -> Historique:
        """``historique`` on the shared register: every centre's passages and capitalised
        blocs of this person, through a server function, so that a centre's account learns
        what retake rules need about a person it examines and nothing else (reseau.py)."""
        rows = self.db.execute("SELECT genre, valeur, date_session FROM "
                               "certidocs_historique(?, ?, ?)",
                               (key, referentiel, exclue)).fetchall()
        passages = sorted((r[2] or "", r[1]) for r in rows if r[0] == "passage")
        fails = [d for d, decision in passages if decision in ECHECS]
        return Historique(
            echecs=len(fails),
            date_premier_echec=_date(fails[0]) if fails else None,
            blocs_capitalises=frozenset(r[1] for r in rows if r[0] == "bloc"),
            certifie=any(decision == "Certifié" for _, decision in passages),
        )

    def enregistrer_passage(self, conn: Transaction, *, session_id: int,
                            nom_naissance: str, prenom: str, date_naissance: dt.date | None,
                            numero: str, referentiel: str, date_session: dt.date | None,
                            voie_acces: str, decision: str, detail: dict[str, Any],
                            blocs_valides: list[str], identite: dict[str, str],
                            preuves: dict[str, Any] | None = None) -> int:
        """Record (or update) one candidate's passage, the evidence it was decided from
        (``preuves``: grid fingerprint, evaluations read, référentiel fingerprint, rule
        version) and the blocs it validates, in a transaction; returns the candidate's id.

        Running it twice for the same session records nothing twice: the passage is keyed by
        candidate and session, a capitalised bloc by candidate, certification and bloc. A bloc
        this session had capitalised and that the new decision no longer validates is taken
        back (before deliberation a grid may still be corrected).
        """
        cid = self._candidate_id(conn, nom_naissance, prenom, date_naissance, **identite)
        detail_text = _canonical(detail)
        proofs = _canonical(preuves or {})
        row = conn.execute("SELECT numero, decision, detail, voie_acces, preuves FROM passages "
                           "WHERE candidat_id = ? AND session_id = ?",
                           (cid, session_id)).fetchone()
        if row is None or tuple(row) != (numero, decision, detail_text, voie_acces, proofs):
            conn.execute(
                "INSERT INTO passages (candidat_id, session_id, numero, referentiel, "
                "date_session, voie_acces, decision, detail, enregistre_le, preuves, centre) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (candidat_id, session_id) DO UPDATE SET numero = excluded.numero, "
                "decision = excluded.decision, detail = excluded.detail, "
                "voie_acces = excluded.voie_acces, enregistre_le = excluded.enregistre_le, "
                "preuves = excluded.preuves",
                (cid, session_id, numero, referentiel, _iso(date_session), voie_acces, decision,
                 detail_text, dt.datetime.now().isoformat(timespec="seconds"), proofs,
                 self.centre))
        kept = conn.execute("SELECT bloc FROM blocs_capitalises WHERE candidat_id = ? AND "
                            "session_id = ? AND referentiel = ?",
                            (cid, session_id, referentiel)).fetchall()
        for (bloc,) in kept:
            if bloc not in blocs_valides:
                conn.execute("DELETE FROM blocs_capitalises WHERE candidat_id = ? AND "
                             "session_id = ? AND referentiel = ? AND bloc = ?",
                             (cid, session_id, referentiel, bloc))
        for bloc in blocs_valides:
            conn.execute(
                "INSERT INTO blocs_capitalises (candidat_id, referentiel, bloc, date_validation, "
                "session_id) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (cid, referentiel, bloc, _iso(date_session) or dt.date.today().isoformat(),
                 session_id))
        return cid

    def retirer_passage(self, conn: Transaction, *, session_id: int, nom_naissance: str,
                        prenom: str, date_naissance: dt.date | None, referentiel: str) -> None:
        """Withdraw (inside a transaction) the passage of a person for a session not yet
        sealed, with the blocs it capitalised: their grid no longer gives a decision."""
        key = candidate_key(nom_naissance, prenom, date_naissance)
        row = conn.execute("SELECT id FROM candidats WHERE cle = ?", (key,)).fetchone()
        if row is None:
            return
        if conn.execute("SELECT 1 FROM passages WHERE candidat_id = ? AND session_id = ?",
                        (row["id"], session_id)).fetchone():
            conn.execute("DELETE FROM blocs_capitalises WHERE candidat_id = ? AND "
                         "session_id = ? AND referentiel = ?", (row["id"], session_id,
                                                                referentiel))
            conn.execute("DELETE FROM passages WHERE candidat_id = ? AND session_id = ?",
                         (row["id"], session_id))

    def numeros_session(self, cle: str) -> list[str]:
        """The candidate numbers of the recorded passages of session ``cle``, each once, in
        the order of their text: what to read the passages by lots with
        (``passages_session``), without decoding every passage's evidence at once."""
        rows = self.db.execute(
            "SELECT p.numero FROM passages p JOIN sessions s ON s.id = p.session_id "
            "WHERE s.cle = ?", (self.cle_session(cle),)).fetchall()
        return sorted({str(r["numero"]) for r in rows})

    def passages_session(self, cle: str, numeros: list[str] | None = None
                         ) -> list[dict[str, Any]]:
        """The recorded passages of session ``cle`` (of the candidates ``numeros`` only, when
        given: a lot of a large session), by number: number, decision, ``detail`` (the
        outcome, as in resultats.json) and ``preuves`` (evidence) decoded, with the holder's
        identity."""
        among = "" if numeros is None else f" AND p.numero IN ({', '.join('?' * len(numeros))})"
        rows = self.db.execute(
            "SELECT p.numero, p.decision, p.detail, p.preuves, p.enregistre_le, "
            "c.nom_naissance, c.prenom, c.date_naissance FROM passages p "
            "JOIN sessions s ON s.id = p.session_id JOIN candidats c ON c.id = p.candidat_id "
            f"WHERE s.cle = ?{among} ORDER BY p.numero",
            (self.cle_session(cle), *(numeros or ()))).fetchall()
        out = []
        for r in rows:
            item = dict(r)
            item["detail"] = json.loads(r["detail"] or "{}")
            item["preuves"] = json.loads(r["preuves"] or "{}")
            out.append(item)
        return out

    # --- deliberation, revision, revocation -----------------------------------------------

    def scellement(self, cle: str) -> dict[str, Any] | None:
        """The latest seal of session ``cle`` (version, dates, fingerprint), or None."""
        row = self.db.execute(
            "SELECT k.* FROM scellements k JOIN sessions s ON s.id = k.session_id "
            "WHERE s.cle = ? ORDER BY k.version DESC LIMIT 1",
            (self.cle_session(cle),)).fetchone()
        return dict(row) if row else None

    def sceller(self, conn: Transaction, *, session_id: int, empreinte: str, nombre: int,
                date_deliberation: dt.date | None, motif: str = "") -> int:
        """Record a seal of the session's decisions (inside a transaction); returns its
        version (1 at deliberation, then one more per revision)."""
        version = conn.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM scellements WHERE "
                               "session_id = ?", (session_id,)).fetchone()[0]
        conn.execute(
            "INSERT INTO scellements (session_id, version, date_deliberation, scelle_le, "
            "empreinte, nombre, motif) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (session_id, version, _iso(date_deliberation),
             dt.datetime.now().isoformat(timespec="seconds"), empreinte, nombre, motif))
        return int(version)

    def enregistrer_revision(self, conn: Transaction, *, session_id: int, candidat_id: int,
                             numero: str, ancienne: str, nouvelle: str, motif: str,
                             date_revision: dt.date, ancien_detail: dict[str, Any]) -> None:
        """Append a revision of a sealed decision to its history (inside a transaction)."""
        conn.execute(
            "INSERT INTO revisions (session_id, candidat_id, numero, ancienne_decision, "
            "nouvelle_decision, motif, date_revision, enregistre_le, ancien_detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (session_id, candidat_id, numero, ancienne, nouvelle, motif,
             date_revision.isoformat(), dt.datetime.now().isoformat(timespec="seconds"),
             _canonical(ancien_detail)))

    def revoquer(self, conn: Transaction, *, candidat_id: int, session_id: int, motif: str,
                 date_revocation: dt.date) -> dict[str, Any] | None:
        """Mark revoked (inside a transaction) the certificate of this holder for this
        session, if one was issued and is not revoked yet; returns it with ``declare``
        (whether it was sent to the Caisse des Dépôts), else None. Never deletes it."""
        row = conn.execute(
            "SELECT k.id, k.numero, EXISTS (SELECT 1 FROM flux_passages f WHERE "
            "f.certificat_id = k.id AND f.statut IN ('envoyé', 'accepté')) AS declare "
            "FROM certificats k WHERE k.candidat_id = ? AND k.session_id = ? AND "
            "k.revoque_le IS NULL", (candidat_id, session_id)).fetchone()
        if row is None:
            return None
        conn.execute("UPDATE certificats SET revoque_le = ?, motif_revocation = ? WHERE id = ?",
                     (date_revocation.isoformat(), motif, row["id"]))
        return dict(row)

    def certificats_revoques(self, session_cle: str | None = None) -> list[dict[str, Any]]:
        """Every revoked certificate (of session ``session_cle`` when given): number, date,
        reason, the holder and their candidate number in that session, and whether it had
        been declared to the CDC (``declare``) and so needs a correcting declaration."""
        where, params = (("AND s.cle = ?", [self.cle_session(session_cle)])
                         if session_cle is not None else ("", []))
        rows = self.db.execute(
            "SELECT k.numero, k.referentiel, k.revoque_le, k.motif_revocation, "
            "c.nom_naissance, c.prenom, COALESCE(p.numero, '') AS numero_candidat, "
            "EXISTS (SELECT 1 FROM flux_passages f WHERE f.certificat_id = k.id AND "
            "f.statut IN ('envoyé', 'accepté')) AS declare FROM certificats k "
            "JOIN candidats c ON c.id = k.candidat_id JOIN sessions s ON s.id = k.session_id "
            "LEFT JOIN passages p ON p.candidat_id = k.candidat_id AND "
            f"p.session_id = k.session_id WHERE k.revoque_le IS NOT NULL {where} "
            "ORDER BY k.revoque_le, k.numero", params).fetchall()
        return [dict(r) for r in rows]

    def fichiers_flux(self) -> list[tuple[int, str]]:
        """Every recorded flux: its id and its file as recorded (relative to the workspace
        when written inside it)."""
        return [(int(r["id"]), str(r["fichier"]))
                for r in self.conn.execute("SELECT id, fichier FROM flux ORDER BY id")]

    def nombre_certificats(self) -> int:
        """How many certificates the register holds (revoked ones included)."""
        return int(self.db.execute("SELECT COUNT(*) FROM certificats").fetchone()[0])

    # --- certificates ---------------------------------------------------------------------

    def certificat(self, conn: Transaction, *, session_id: int, nom_naissance: str,
                   prenom: str, date_naissance: dt.date | None, referentiel: str,
                   date_delivrance: dt.date) -> tuple[str, dt.date]:
        """The certificate number of this holder for this session: the one already issued,
        else the next in sequence for the certification and year (never reused)."""
        cid = self._candidate_id(conn, nom_naissance, prenom, date_naissance)
        row = conn.execute(
            "SELECT numero, date_delivrance, revoque_le FROM certificats WHERE candidat_id = ? "
            "AND session_id = ? AND referentiel = ?", (cid, session_id, referentiel)).fetchone()
        if row and row["revoque_le"]:
            raise RegistreError(
                f"{self.path} : le certificat {row['numero']} de {prenom} {nom_naissance} a été "
                f"révoqué le {date_fr(row['revoque_le'])} ; un certificat révoqué n'est jamais "
                "rétabli ni remplacé pour la même session")
        if row:
            return str(row["numero"]), dt.date.fromisoformat(row["date_delivrance"])
        year = date_delivrance.year
        # A counter row per certification and year, taken inside this transaction: on a
        # network register two centres issuing at the same moment wait for each other on
        # that row, and a number is never given twice nor reused after a revocation. Its
        # first value follows the certificates issued before the counter existed.
        rang = conn.execute(
            "INSERT INTO numerotation (cle, referentiel, annee, rang) VALUES (?, ?, ?, "
            "(SELECT COALESCE(MAX(rang), 0) + 1 FROM certificats WHERE referentiel = ? AND "
            "annee = ?)) ON CONFLICT (cle) DO UPDATE SET rang = numerotation.rang + 1 "
            "RETURNING rang", (f"{referentiel}-{year}", referentiel, year, referentiel, year)
        ).fetchone()[0]
        numero = f"{referentiel}-{year}-{int(rang):05d}"
        conn.execute(
            "INSERT INTO certificats (numero, referentiel, annee, rang, candidat_id, session_id, "
            "date_delivrance, centre) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (numero, referentiel, year, rang, cid, session_id, date_delivrance.isoformat(),
             self.centre))
        return numero, date_delivrance

    def enregistrer_code(self, conn: Transaction, numero: str, code: str,
                         jeton: str = "") -> None:
        """Keep the verification code and the signed token printed on certificate
        ``numero`` (written only when they change)."""
        row = conn.execute("SELECT code_verification, jeton FROM certificats WHERE numero = ?",
                           (numero,)).fetchone()
        if row is None or (row["code_verification"], row["jeton"]) != (code, jeton):
            conn.execute("UPDATE certificats SET code_verification = ?, jeton = ? "
                         "WHERE numero = ?", (code, jeton, numero))

    def trouver_certificat(self, numero: str) -> dict[str, Any] | None:
        """A certificate with its holder and session, or None."""
        row = self.db.execute(
            "SELECT k.numero, k.referentiel, k.date_delivrance, k.code_verification, "
            "k.revoque_le, k.motif_revocation, c.nom_naissance, c.nom_usage, "
            "c.prenom, c.date_naissance, s.nom AS session, s.lieu FROM certificats k "
            "JOIN candidats c ON c.id = k.candidat_id JOIN sessions s ON s.id = k.session_id "
            "WHERE k.numero = ?", (numero,)).fetchone()
        return dict(row) if row else None

    # --- appeals --------------------------------------------------------------------------

    def enregistrer_recours(self, conn: Transaction, *, session_id: int, numero: str,
                            candidat: tuple[str, str, dt.date | None] | None,
                            date_reception: dt.date | None, motifs: str, decision: str,
                            motif_decision: str, date_decision: dt.date | None) -> None:
        """Record (or update) one appeal of a session."""
        cid = self._candidate_id(conn, *candidat) if candidat else None
        conn.execute(
            "INSERT INTO recours (candidat_id, session_id, numero, date_reception, motifs, "
            "decision, motif_decision, date_decision) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (session_id, numero, date_reception) DO UPDATE SET "
            "motifs = excluded.motifs, decision = excluded.decision, "
            "motif_decision = excluded.motif_decision, date_decision = excluded.date_decision",
            (cid, session_id, numero, _iso(date_reception), motifs, decision, motif_decision,
             _iso(date_decision)))

    # --- reading for people ---------------------------------------------------------------

    def rechercher(self, nom: str) -> list[dict[str, Any]]:
        """Candidates whose birth or usage name contains ``nom`` (accents and case folded),
        each with its passages, capitalised blocs and certificates."""
        needle = candidate_key(nom, "", None).split("|")[0]
        people = [dict(r) for r in self.db.execute(
            "SELECT * FROM candidats ORDER BY nom_naissance, prenom").fetchall()
            if needle in r["cle"].split("|")[0]
            or needle in candidate_key(r["nom_usage"] or "", "", None).split("|")[0]]
        for person in people:
            pid = person["id"]
            person["passages"] = [dict(r) for r in self.db.execute(
                "SELECT s.nom AS session, p.referentiel, p.date_session, p.numero, p.decision "
                "FROM passages p JOIN sessions s ON s.id = p.session_id WHERE p.candidat_id = ? "
                "ORDER BY p.date_session", (pid,))]
            person["blocs"] = [dict(r) for r in self.db.execute(
                "SELECT referentiel, bloc, date_validation FROM blocs_capitalises WHERE "
                "candidat_id = ? ORDER BY referentiel, bloc", (pid,))]
            person["certificats"] = [dict(r) for r in self.db.execute(
                "SELECT numero, referentiel, date_delivrance, revoque_le, motif_revocation "
                "FROM certificats WHERE candidat_id = ? ORDER BY date_delivrance", (pid,))]
            person["revisions"] = [dict(r) for r in self.db.execute(
                "SELECT s.nom AS session, r.numero, r.ancienne_decision, r.nouvelle_decision, "
                "r.motif, r.date_revision FROM revisions r JOIN sessions s "
                "ON s.id = r.session_id WHERE r.candidat_id = ? ORDER BY r.id", (pid,))]
        return people

    def tables(self) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
        """Every table for export: name → (column names, rows); grid passwords left out."""
        queries = {
            "Candidats": "SELECT nom_naissance AS \"Nom de naissance\", nom_usage AS \"Nom "
                         "d'usage\", prenom AS \"Prénom\", date_naissance AS \"Date de "
                         "naissance\", lieu_naissance AS \"Lieu de naissance\", email AS "
                         "\"Email\" FROM candidats ORDER BY nom_naissance, prenom",
            "Sessions": "SELECT nom AS \"Session\", referentiel AS \"Référentiel\", date_debut "
                        "AS \"Début\", date_fin AS \"Fin\", lieu AS \"Lieu\" FROM sessions "
                        "ORDER BY date_debut",
            "Passages": "SELECT s.nom AS \"Session\", p.referentiel AS \"Référentiel\", "
                        "p.date_session AS \"Date\", p.numero AS \"N° candidat\", "
                        "c.nom_naissance AS \"Nom de naissance\", c.prenom AS \"Prénom\", "
                        "p.voie_acces AS \"Voie d'accès\", p.decision AS \"Décision\" FROM "
                        "passages p JOIN candidats c ON c.id = p.candidat_id JOIN sessions s "
                        "ON s.id = p.session_id ORDER BY p.date_session, p.numero",
            "Blocs capitalisés": "SELECT c.nom_naissance AS \"Nom de naissance\", c.prenom AS "
                                 "\"Prénom\", b.referentiel AS \"Référentiel\", b.bloc AS "
                                 "\"Bloc\", b.date_validation AS \"Date de validation\" FROM "
                                 "blocs_capitalises b JOIN candidats c ON c.id = b.candidat_id "
                                 "ORDER BY c.nom_naissance, b.bloc",
            "Certificats": "SELECT k.numero AS \"Numéro\", k.referentiel AS \"Référentiel\", "
                           "k.date_delivrance AS \"Délivré le\", c.nom_naissance AS \"Nom de "
                           "naissance\", c.prenom AS \"Prénom\", k.revoque_le AS \"Révoqué "
                           "le\", k.motif_revocation AS \"Motif de la révocation\" FROM "
                           "certificats k JOIN candidats c ON c.id = k.candidat_id ORDER BY "
                           "k.numero",
            "Révisions": "SELECT s.nom AS \"Session\", r.numero AS \"N° candidat\", "
                         "c.nom_naissance AS \"Nom de naissance\", c.prenom AS \"Prénom\", "
                         "r.ancienne_decision AS \"Décision d'origine\", r.nouvelle_decision "
                         "AS \"Décision révisée\", r.motif AS \"Motif\", r.date_revision AS "
                         "\"Date de la révision\" FROM revisions r JOIN sessions s ON s.id = "
                         "r.session_id JOIN candidats c ON c.id = r.candidat_id ORDER BY r.id",
            "Scellements": "SELECT s.nom AS \"Session\", k.version AS \"Version\", "
                           "k.date_deliberation AS \"Délibération\", k.nombre AS "
                           "\"Décisions\", k.empreinte AS \"Empreinte\", k.motif AS \"Motif\" "
                           "FROM scellements k JOIN sessions s ON s.id = k.session_id "
                           "ORDER BY s.nom, k.version",
            "Recours": "SELECT s.nom AS \"Session\", r.numero AS \"N° candidat\", "
                       "r.date_reception AS \"Reçu le\", r.motifs AS \"Motifs\", r.decision AS "
                       "\"Décision\", r.date_decision AS \"Décidé le\" FROM recours r JOIN "
                       "sessions s ON s.id = r.session_id ORDER BY r.date_reception",
        }
        out: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
        for name, sql in queries.items():
            cur = self.db.execute(sql)
            out[name] = ([d[0] for d in cur.description], [tuple(r) for r in cur.fetchall()])
        return out

    # --- declaration to the Caisse des Dépôts (accrochage) --------------------------------

    def completer_identite(self, conn: Transaction, *, nom_naissance: str, prenom: str,
                           date_naissance: dt.date | None, sexe: str = "",
                           code_insee_naissance: str = "", pays_naissance: str = "",
                           lieu_naissance: str = "") -> bool:
        """Keep, inside a transaction, the identity the CDC declaration needs for a person
        already in the register (False if there is none).

        Empty values leave what is known alone: an older session.xlsx without the columns
        must not erase what a newer one gave.
        """
        key = candidate_key(nom_naissance, prenom, date_naissance)
        row = conn.execute("SELECT id FROM candidats WHERE cle = ?", (key,)).fetchone()
        if not row:
            return False
        values = {"sexe": sexe.strip().upper(),
                  "code_insee_naissance": code_insee_naissance.strip(),
                  "pays_naissance": pays_naissance.strip(),
                  "lieu_naissance": lieu_naissance.strip()}
        values = {k: v for k, v in values.items() if v}
        if values:
            sets = ", ".join(f"{k} = ?" for k in values)
            conn.execute(f"UPDATE candidats SET {sets} WHERE id = ?", (*values.values(), row[0]))
        return True

    def completer_session(self, conn: Transaction, *, cle: str,
                          code_postal_examen: str) -> None:
        """Keep the postal code of the place where the session ``cle`` is held (inside a
        transaction); an empty one leaves what is known alone."""
        if code_postal_examen.strip():
            conn.execute("UPDATE sessions SET code_postal_examen = ? WHERE cle = ?",
                         (code_postal_examen.strip(), self.cle_session(cle)))

    def session_connue(self, cle: str) -> bool:
        """Whether the register holds the session with this key."""
        return self.db.execute("SELECT 1 FROM sessions WHERE cle = ?",
                               (self.cle_session(cle),)).fetchone() is not None

    def _filtre_certificats(self, session_cle: str | None, depuis: dt.date | None
                            ) -> tuple[str, list[Any]]:
        where, params = "", []
        if session_cle is not None:
            where += " AND s.cle = ?"
            params.append(self.cle_session(session_cle))
        if depuis is not None:
            where += " AND k.date_delivrance >= ?"
            params.append(depuis.isoformat())
        return where, params

    def certificats_a_declarer(self, *, session_cle: str | None = None,
                               depuis: dt.date | None = None) -> list[dict[str, Any]]:
        """Certificates never declared to the CDC or whose declaration was rejected, with what
        the flux needs: holder's identity, session dates and place, access route.

        A certificate in a flux awaiting the CDC's answer, or accepted, is never listed.
        """
        where, params = self._filtre_certificats(session_cle, depuis)
        rows = self.db.execute(
            "SELECT k.id AS certificat_id, k.numero, k.referentiel, k.date_delivrance, "
            "c.nom_naissance, c.nom_usage, c.prenom, c.date_naissance, c.lieu_naissance, "
            "c.sexe, c.code_insee_naissance, c.pays_naissance, s.cle AS session_cle, "
            "s.nom AS session, s.date_debut, s.date_fin, s.lieu, s.code_postal_examen, "
            "COALESCE(p.voie_acces, '') AS voie_acces, EXISTS (SELECT 1 FROM flux_passages r "
            "WHERE r.certificat_id = k.id AND r.statut = 'rejeté') AS deja_rejete "
            "FROM certificats k JOIN candidats c ON c.id = k.candidat_id "
            "JOIN sessions s ON s.id = k.session_id LEFT JOIN passages p "
            "ON p.candidat_id = k.candidat_id AND p.session_id = k.session_id "
            "WHERE k.revoque_le IS NULL AND NOT EXISTS (SELECT 1 FROM flux_passages f WHERE "
            f"f.certificat_id = k.id AND f.statut IN ('envoyé', 'accepté')){where} "
            "ORDER BY k.referentiel, k.numero",
            params).fetchall()
        return [dict(r) for r in rows]

    def certificats_en_attente(self, *, session_cle: str | None = None,
                               depuis: dt.date | None = None) -> list[dict[str, Any]]:
        """Certificates sent in a flux whose answer from the CDC is not recorded yet."""
        where, params = self._filtre_certificats(session_cle, depuis)
        rows = self.db.execute(
            "SELECT k.numero, fp.id_technique, f.fichier, f.cree_le FROM flux_passages fp "
            "JOIN flux f ON f.id = fp.flux_id JOIN certificats k ON k.id = fp.certificat_id "
            f"JOIN sessions s ON s.id = k.session_id WHERE fp.statut = 'envoyé'{where} "
            "ORDER BY f.cree_le, k.numero", params).fetchall()
        return [dict(r) for r in rows]

    def enregistrer_flux(self, conn: Transaction, *, id_flux: str, fichier: str,
                         empreinte: str, cree_le: dt.datetime,
                         passages: list[tuple[int, str]]) -> int:
        """Record, inside a transaction, a flux written and the certificates it declares
        (certificate id, idTechnique), each « envoyé »; returns the flux's id."""
        cur = conn.execute(
            "INSERT INTO flux (id_flux, fichier, cree_le, empreinte, nombre) "
            "VALUES (?, ?, ?, ?, ?)",
            (id_flux, fichier, cree_le.isoformat(timespec="seconds"), empreinte, len(passages)))
        flux_id = int(cur.lastrowid or 0)
        conn.executemany(
            "INSERT INTO flux_passages (flux_id, certificat_id, id_technique) VALUES (?, ?, ?)",
            [(flux_id, cid, ident) for cid, ident in passages])
        return flux_id

    def trouver_flux(self, *, empreinte: str | None = None, id_flux: str | None = None,
                     fichier: str | None = None, nom: str | None = None
                     ) -> dict[str, Any] | None:
        """A recorded flux, by its file's SHA-256, its idFlux, its recorded path or its bare
        file name (the most recent when several match), or None."""
        for test, value in (("empreinte = ?", empreinte), ("id_flux = ?", id_flux),
                            ("fichier = ?", fichier)):
            if value:
                row = self.db.execute(
                    f"SELECT * FROM flux WHERE {test} ORDER BY id DESC LIMIT 1",
                    (value,)).fetchone()
                if row:
                    return dict(row)
        if nom:
            for row in self.db.execute("SELECT * FROM flux ORDER BY id DESC"):
                if ("/" + row["fichier"]).endswith("/" + nom):
                    return dict(row)
        return None

    def passages_du_flux(self, flux_id: int) -> list[dict[str, Any]]:
        """The passages of a flux with their holder and status."""
        rows = self.db.execute(
            "SELECT fp.id_technique, fp.statut, fp.motif, fp.marque_le, k.numero, "
            "c.nom_naissance, c.prenom FROM flux_passages fp JOIN certificats k "
            "ON k.id = fp.certificat_id JOIN candidats c ON c.id = k.candidat_id "
            "WHERE fp.flux_id = ? ORDER BY fp.id_technique", (flux_id,)).fetchall()
        return [dict(r) for r in rows]

    def marquer_passages(self, flux_id: int, statut: str, id_techniques: list[str] | None,
                         motif: str = "", quand: dt.datetime | None = None) -> int:
        """Record the CDC's answer for passages of a flux; returns how many were marked.

        Without ``id_techniques``, every passage of the flux still awaiting an answer; with
        them, exactly those (an earlier answer may so be corrected).
        """
        if statut not in STATUTS_FLUX[1:]:
            raise RegistreError(f"{self.path} : statut « {statut} » inconnu")
        stamp = (quand or dt.datetime.now()).isoformat(timespec="seconds")
        with self.transaction("réponse de la CDC", f"flux {flux_id} : {statut}") as conn:
            if id_techniques is None:
                cur = conn.execute(
                    "UPDATE flux_passages SET statut = ?, motif = ?, marque_le = ? "
                    "WHERE flux_id = ? AND statut = 'envoyé'", (statut, motif, stamp, flux_id))
                return int(cur.rowcount)
            count = 0
            for ident in id_techniques:
                cur = conn.execute(
                    "UPDATE flux_passages SET statut = ?, motif = ?, marque_le = ? "
                    "WHERE flux_id = ? AND id_technique = ?",
                    (statut, motif, stamp, flux_id, ident))
                count += int(cur.rowcount)
            return count

    # --- control ----------------------------------------------------------------------------

    def exiger_integrite(self) -> None:
        """Refuse (RegistreError) to go on with a register edited outside certidocs: every
        step that decides, seals, issues, revokes, declares or vouches for a certificate calls
        this first. The full control (``controler``, with this register's signing key) runs
        once per state of the file in a process: a long-lived console does not replay the
        journal for every page."""
        try:
            info = self.path.stat()
            stamp = (info.st_mtime_ns, info.st_size)
        except OSError:
            stamp = None
        key = str(self.path.resolve())
        if stamp is not None and _INTEGRES.get(key) == stamp:
            return
        public = self.signataire.public_key() if self.signataire is not None else None
        found = self.controler(public)
        if found:
            shown = "\n".join(f"  - {f}" for f in found[:MAX_CONSTATS_AFFICHES])
            more = len(found) - MAX_CONSTATS_AFFICHES
            raise RegistreError(
                f"{self.path} : le registre a été modifié hors de certidocs ; rien n'a été "
                "fait. Restaurez la sauvegarde du registre ; « certidocs registre controler » "
                f"donne la liste complète :\n{shown}"
                + (f"\n  - … et {more} autre(s)" if more > 0 else ""))
        if stamp is not None:
            _INTEGRES[key] = stamp

    def controler(self, cle_publique: Any = None) -> list[Constat]:
        """Every sign of a hand edit: the journal's chain recomputed entry by entry, its
        signed head checked with ``cle_publique`` (Ed25519, when given), and the current
        tables compared with the journal replayed into an empty database.

        Returns one Constat per finding, naming the journal entry or the table and row; an
        empty list means the register is exactly what certidocs wrote.
        """
        found: list[Constat] = []
        previous, expected_seq, chain_ok = JOURNAL_ORIGINE, 1, True
        heads: dict[int, str] = {}  # seq → empreinte: what the signed head is checked against
        replay = _Rejeu()
        try:
            for e in self._journal():
                where = f"journal, entrée n° {e['seq']} ({e['type']}, {date_fr(e['horodatage'])})"
                if e["seq"] != expected_seq:
                    found.append(Constat(where, f"entrée(s) n° {expected_seq} à {e['seq'] - 1} "
                                                "supprimée(s) du journal"))
                    chain_ok = False
                if e["precedente"] != previous:
                    found.append(Constat(where, "chaînage rompu : l'entrée précédente a été "
                                                "modifiée ou supprimée"))
                    chain_ok = False
                if entry_hash(e["precedente"], e["seq"], e["horodatage"], e["type"],
                              e["resume"], e["contenu"]) != e["empreinte"]:
                    found.append(Constat(where, "contenu modifié après son écriture (empreinte "
                                                "différente)"))
                    chain_ok = False
                previous, expected_seq = e["empreinte"], e["seq"] + 1
                heads[e["seq"]] = e["empreinte"]
                # Even with a broken chain, the journal as it stands is replayed: a table
                # edited by hand at the same time must still be named.
                replay.appliquer(e, found)
            found += self._controler_tete(heads, cle_publique)
            tables = self._controler_tables(replay.conn)
        finally:
            replay.conn.close()
        if not chain_ok and tables:
            tables.insert(0, Constat("journal", "chaînage rompu : la comparaison des tables "
                                                "ci-dessous repose sur un journal altéré"))
        return found + tables

    def _journal(self) -> Iterator[Any]:
        """The journal's entries in order, JOURNAL_PAGE at a time: an entry holds every
        statement of its transaction, and a network's register holds years of them."""
        last = -1
        while True:
            page = self.db.execute("SELECT * FROM journal WHERE seq > ? ORDER BY seq LIMIT ?",
                                   (last, JOURNAL_PAGE)).fetchall()
            yield from page
            if len(page) < JOURNAL_PAGE:
                return
            last = page[-1]["seq"]

    def _controler_tete(self, heads: dict[int, str], cle_publique: Any) -> list[Constat]:
        where = str(self.tete_path.name)
        if cle_publique is None:
            return []
        if not self.tete_path.exists():
            if not heads:
                return []
            return [Constat(where, "tête signée du journal absente : le journal ne peut pas "
                                   "être comparé à sa dernière écriture connue")]
        try:
            head = json.loads(self.tete_path.read_text(encoding="ascii"))
            seq, empreinte = int(head["seq"]), str(head["empreinte"])
            signature = base64.b64decode(head["signature"])
        except (OSError, ValueError, KeyError, TypeError):
            return [Constat(where, "tête du journal illisible")]
        from cryptography.exceptions import InvalidSignature

        try:
            cle_publique.verify(signature, f"certidocs-journal-v1|{seq}|{empreinte}"
                                .encode("ascii"))
        except InvalidSignature:
            return [Constat(where, "signature de la tête du journal invalide : fichier "
                                   "modifié ou signé avec une autre clé")]
        if seq not in heads and seq != 0:
            return [Constat(where, f"le journal s'arrête avant l'entrée n° {seq} signée : "
                                   "des entrées ont été supprimées (journal tronqué)")]
        if seq and heads[seq] != empreinte:
            return [Constat(where, f"l'entrée n° {seq} n'est pas celle qui a été signée : "
                                   "le journal a été réécrit")]
        return []

    def _controler_tables(self, replay: sqlite3.Connection) -> list[Constat]:
        """Each table compared with the replayed journal, row by row. On SQLite both sides are
        read in rowid order and compared as they come (``_lignes_differentes``); on
        PostgreSQL only a digest of each row is held (its key and 16 bytes); a row whose digests
        differ is read again from both sides and compared value by value, so that a digest
        never reports what equality would not."""
        found: list[Constat] = []
        for table in self.db.tables():
            keys = self.db.cle_lignes(table)
            by_rowid = keys == ["rowid"]  # SQLite: both sides read in the same order
            order = " ORDER BY rowid" if by_rowid else ""
            cur = self.db.execute(f"SELECT {', '.join(keys)}, * FROM {table}{order}")
            columns = [d[0] for d in cur.description][len(keys):]
            try:
                theirs_cur = replay.execute(f"SELECT {', '.join(keys)}, {', '.join(columns)} "
                                            f"FROM {table}{order}")
            except sqlite3.Error as exc:
                found.append(Constat(f"table {table}", f"table inconnue de certidocs ({exc})"))
                continue
            n = len(keys)
            mine_rows = ((_cle(r, n), _empreinte_ligne(tuple(r)[n:])) for r in cur)
            theirs_rows = ((_cle(r, n), _empreinte_ligne(tuple(r)[n:])) for r in theirs_cur)
            if by_rowid:
                differing = list(_lignes_differentes(mine_rows, theirs_rows))
            else:
                actual, expected = dict(mine_rows), dict(theirs_rows)
                differing = [k for k in sorted(set(actual) | set(expected))
                             if actual.get(k) != expected.get(k)]
            for rowid in differing:
                where = f"table {table}, ligne {rowid}"
                mine = self._ligne(self.db.execute, table, keys, columns, rowid)
                theirs = self._ligne(replay.execute, table, keys, columns, rowid)
                if theirs is None and mine is not None:
                    found.append(Constat(where, "ligne ajoutée à la main (absente du journal) : "
                                         + _row_text(columns, mine)))
                elif mine is None and theirs is not None:
                    found.append(Constat(where, "ligne supprimée à la main : "
                                         + _row_text(columns, theirs)))
                elif mine is not None and theirs is not None and mine != theirs:
                    changed = [f"{c} « {_court(a)} » au lieu de « {_court(b)} »"
                               for c, a, b in zip(columns, mine, theirs, strict=True) if a != b]
                    found.append(Constat(where, "ligne modifiée à la main : "
                                         + "; ".join(changed)))
        return found

    @staticmethod
    def _ligne(execute: Any, table: str, keys: list[str], columns: list[str],
               rowid: Any) -> tuple[Any, ...] | None:
        """One row's values (``columns``) by its key, or None when it is not there."""
        values = rowid if isinstance(rowid, tuple) else (rowid,)
        where = " AND ".join(f"{k} = ?" for k in keys)
        row = execute(f"SELECT {', '.join(columns)} FROM {table} WHERE {where}",
                      values).fetchone()
        return None if row is None else tuple(row)

    # --- annual review (read only) --------------------------------------------------------
    # The queries of ``certidocs bilan`` (certidocs.bilan): they only read. A session belongs
    # to year AAAA when its first day (``sessions.date_debut``, else the passages' date) does.

    @staticmethod
    def _filtre_bilan(annee: int, referentiel: str | None) -> tuple[str, list[Any]]:
        where = "substr(COALESCE(s.date_debut, p.date_session, ''), 1, 4) = ?"
        params: list[Any] = [f"{annee:04d}"]
        if referentiel is not None:
            where += " AND p.referentiel = ?"
            params.append(referentiel)
        return where, params

    def bilan_passages(self, annee: int, referentiel: str | None = None
                       ) -> list[dict[str, Any]]:
        """Every passage of the sessions of year ``annee`` (of one certification when
        ``referentiel`` is given), one dict each: ``passage_id``, ``candidat_id``,
        ``session_cle``, ``session``, ``referentiel``, ``date_session`` / ``date_fin`` (ISO),
        ``lieu``, ``code_postal``, ``voie_acces``, ``decision``, ``detail`` and ``preuves``
        (JSON text, as recorded), and ``rattrapage`` (1 when the same person had failed the
        same certification in an earlier session, 0 otherwise)."""
        where, params = self._filtre_bilan(annee, referentiel)
        rows = self.conn.execute(
            "SELECT p.id AS passage_id, p.candidat_id, s.cle AS session_cle, s.nom AS session, "
            "p.referentiel, COALESCE(s.date_debut, p.date_session) AS date_session, "
            "COALESCE(s.date_fin, s.date_debut, p.date_session) AS date_fin, s.lieu, "
            "s.code_postal_examen AS code_postal, p.voie_acces, p.decision, p.detail, "
            "p.preuves, EXISTS (SELECT 1 FROM passages e WHERE e.candidat_id = p.candidat_id "
            "AND e.referentiel = p.referentiel AND e.id <> p.id AND e.date_session < "
            "p.date_session AND e.decision IN (?, ?)) AS rattrapage FROM passages p "
            f"JOIN sessions s ON s.id = p.session_id WHERE {where} "
            "ORDER BY date_session, s.cle, p.numero", [*ECHECS, *params]).fetchall()
        return [dict(r) for r in rows]

    def bilan_sessions(self, annee: int, referentiel: str | None = None
                       ) -> list[dict[str, Any]]:
        """The sessions of year ``annee`` that hold passages: ``session_cle``, ``session``,
        ``referentiel``, ``date_debut``, ``date_fin``, ``lieu``, ``deliberation`` (time
        stamp of the first seal, or None), ``declaration`` (time stamp of the first CDC flux
        holding one of its certificates, or None) and ``certificats`` (issued, revoked
        included)."""
        where, params = self._filtre_bilan(annee, referentiel)
        rows = self.conn.execute(
            "SELECT s.cle AS session_cle, s.nom AS session, s.referentiel, "
            "COALESCE(s.date_debut, MIN(p.date_session)) AS date_debut, "
            "COALESCE(s.date_fin, s.date_debut, MIN(p.date_session)) AS date_fin, s.lieu, "
            "(SELECT MIN(k.scelle_le) FROM scellements k WHERE k.session_id = s.id) "
            "AS deliberation, (SELECT MIN(f.cree_le) FROM flux f JOIN flux_passages fp ON "
            "fp.flux_id = f.id JOIN certificats c ON c.id = fp.certificat_id WHERE "
            "c.session_id = s.id) AS declaration, (SELECT COUNT(*) FROM certificats c "
            "WHERE c.session_id = s.id) AS certificats FROM sessions s JOIN passages p "
            f"ON p.session_id = s.id WHERE {where} GROUP BY s.id "
            "ORDER BY date_debut, s.cle", params).fetchall()
        return [dict(r) for r in rows]

    def bilan_recours(self, annee: int, referentiel: str | None = None
                      ) -> list[dict[str, Any]]:
        """The appeals on the sessions of year ``annee``: ``session``, ``numero``,
        ``date_reception``, ``motifs``, ``decision``, ``motif_decision``, ``date_decision``
        and ``revision`` (the revision of that candidate's decision in that session, as
        « ancienne → nouvelle : motif », or empty)."""
        where, params = self._filtre_bilan(annee, referentiel)
        rows = self.conn.execute(
            "SELECT s.nom AS session, r.numero, r.date_reception, r.motifs, r.decision, "
            "r.motif_decision, r.date_decision, COALESCE((SELECT group_concat("
            "v.ancienne_decision || ' → ' || v.nouvelle_decision || ' : ' || v.motif, ' ; ') "
            "FROM revisions v WHERE v.session_id = s.id AND v.numero = r.numero), '') "
            "AS revision FROM recours r JOIN sessions s ON s.id = r.session_id WHERE "
            "s.id IN (SELECT p.session_id FROM passages p JOIN sessions s ON s.id = "
            f"p.session_id WHERE {where}) ORDER BY r.date_reception, s.nom, r.numero",
            params).fetchall()
        return [dict(r) for r in rows]

    def bilan_revisions(self, annee: int, referentiel: str | None = None
                        ) -> list[dict[str, Any]]:
        """The revisions of decisions of the sessions of year ``annee``: ``session``,
        ``numero``, ``ancienne_decision``, ``nouvelle_decision``, ``motif``,
        ``date_revision``."""
        where, params = self._filtre_bilan(annee, referentiel)
        rows = self.conn.execute(
            "SELECT s.nom AS session, v.numero, v.ancienne_decision, v.nouvelle_decision, "
            "v.motif, v.date_revision FROM revisions v JOIN sessions s ON s.id = v.session_id "
            "WHERE s.id IN (SELECT p.session_id FROM passages p JOIN sessions s ON s.id = "
            f"p.session_id WHERE {where}) ORDER BY v.date_revision, v.id", params).fetchall()
        return [dict(r) for r in rows]


JOURNAL_PAGE = 2
"""Journal entries read at a time by the control. An entry holds every statement of a
transaction, or of one lot of a session's results (pipeline.LOT_RESULTATS candidates: about
2 MiB of text with their evidence), so ten stay near 20 MiB whatever the register holds; read
whole, the journal of one 1,000-candidate session already took 24 MiB."""


class _Rejeu:
    """The journal replayed into a private temporary SQLite database on disk (deleted when
    closed; SQLite keeps a few MiB of it in memory), whatever the register's engine: its
    statements are written in the dialect both share (see moteur.py). In memory, the copy of
    a 10,000-candidate session's register took as much as the register itself."""

    def __init__(self) -> None:
        self.conn = sqlite3.connect("")
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA synchronous = OFF")
        for target in range(1, SCHEMA_VERSION + 1):
            apply_schema(self.conn, target)

    def appliquer(self, e: Any, found: list[Constat]) -> None:
        """Apply journal entry ``e``'s statements; a finding when they do not apply."""
        try:
            statements = json.loads(e["contenu"]).get("instructions", [])
        except (ValueError, AttributeError):
            found.append(Constat(f"journal, entrée n° {e['seq']}", "contenu illisible"))
            return
        for statement in statements:
            try:
                self.conn.execute(statement[0], statement[1]).fetchall()
            except (sqlite3.Error, IndexError, TypeError):
                # certidocs wrote this on a register already edited by hand: the entry does
                # not apply to what the journal alone gives.
                found.append(Constat(
                    f"journal, entrée n° {e['seq']} ({e['type']}, {date_fr(e['horodatage'])})",
                    "écriture faite sur un registre déjà modifié à la main : elle ne "
                    "s'applique pas à l'état que donne le journal"))
                return


def _lignes_differentes(mine: Iterator[tuple[int, bytes]], theirs: Iterator[tuple[int, bytes]]
                        ) -> Iterator[int]:
    """The rowids whose digests differ, or that only one side has, of two tables read as
    (rowid, digest) in increasing rowid order: compared as they are read, so that the control
    holds nothing per row (a network's register holds tens of thousands of passages, whose
    digests held in two dictionaries took some 10 MiB)."""
    a, b = next(mine, None), next(theirs, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            assert a is not None
            yield a[0]
            a = next(mine, None)
        elif a is None or b[0] < a[0]:
            yield b[0]
            b = next(theirs, None)
        else:
            if a[1] != b[1]:
                yield a[0]
            a, b = next(mine, None), next(theirs, None)


def _empreinte_ligne(values: tuple[Any, ...]) -> bytes:
    """16 bytes standing for a row's values in the control (equal rows, equal digests)."""
    return hashlib.blake2b(repr(values).encode("utf-8"), digest_size=16).digest()


def _cle(row: Any, n: int) -> Any:
    """A row's identity for the control: its rowid or primary key (a tuple when composite)."""
    return row[0] if n == 1 else tuple(row)[:n]


@dataclass(frozen=True)
class Constat:
    """One finding of ``Registre.controler``: where (journal entry or table and row) and what."""

    lieu: str
    message: str

    def __str__(self) -> str:
        return f"{self.lieu} : {self.message}"


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2})?$")

VALEUR_AFFICHEE = 80
"""Characters of a cell value a finding quotes (a decision's evidence runs to kilobytes)."""


def _court(value: Any) -> str:
    text = "vide" if value is None else str(value)
    if len(text) in (10, 19) and _ISO_DATE.match(text):  # dates as people write them
        text = date_fr(text) + text[10:].replace("T", " à ")
    return text if len(text) <= VALEUR_AFFICHEE else text[:VALEUR_AFFICHEE - 1] + "…"


def _row_text(columns: list[str], values: tuple[Any, ...]) -> str:
    shown = [f"{c}={_court(v)}" for c, v in zip(columns, values, strict=True)
             if c not in ("detail", "preuves", "mot_de_passe_grilles", "ancien_detail")]
    return ", ".join(shown)
