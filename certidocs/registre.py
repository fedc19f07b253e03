"""The register: what must survive from one session to the next, in SQLite.

Candidates are matched across sessions by birth name, first name and birth date, with accents
and case folded. The register keeps passages (who sat which session, with what decision),
blocs capitalised with their date, certificates (number unique, sequential per certification
and year, never reused) and appeals. Every write happens in one transaction; the schema carries
a version and is migrated forward on open.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from certidocs.errors import RegistreError

SCHEMA_VERSION = 2

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
}

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


class Registre:
    """An open register; use as a context manager (``with Registre(path) as reg:``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        except sqlite3.Error as exc:
            raise RegistreError(f"{path} : registre inaccessible ({exc})") from None
        self.conn.row_factory = sqlite3.Row
        try:
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.execute("PRAGMA synchronous = FULL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise RegistreError(f"{path} : ce n'est pas un registre certidocs lisible ({exc})"
                                ) from None

    def __enter__(self) -> Registre:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: everything inside is committed together or not at all."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RegistreError(f"{self.path} : registre créé par une version plus récente de "
                                f"certidocs (schéma {version}) ; mettez certidocs à jour")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self.transaction() as conn:
                for statement in MIGRATIONS[target].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {target}")

    @property
    def version(self) -> int:
        """The schema version of the open register."""
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    # --- people and sessions --------------------------------------------------------------

    def _candidate_id(self, conn: sqlite3.Connection, nom_naissance: str, prenom: str,
                      date_naissance: dt.date | None, **extra: str) -> int:
        key = candidate_key(nom_naissance, prenom, date_naissance)
        row = conn.execute("SELECT id FROM candidats WHERE cle = ?", (key,)).fetchone()
        if row:
            if extra:
                sets = ", ".join(f"{k} = ?" for k in extra)
                conn.execute(f"UPDATE candidats SET {sets} WHERE id = ?", (*extra.values(), row[0]))
            return int(row[0])
        cur = conn.execute(
            "INSERT INTO candidats (cle, nom_naissance, prenom, date_naissance, nom_usage, "
            "lieu_naissance, email) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, nom_naissance, prenom, _iso(date_naissance), extra.get("nom_usage", ""),
             extra.get("lieu_naissance", ""), extra.get("email", "")))
        return int(cur.lastrowid or 0)

    def session_id(self, conn: sqlite3.Connection, cle: str, nom: str, referentiel: str,
                   date_debut: dt.date | None, date_fin: dt.date | None, lieu: str) -> int:
        """The id of a session (created or updated), inside a transaction."""
        row = conn.execute("SELECT id FROM sessions WHERE cle = ?", (cle,)).fetchone()
        if row:
            conn.execute("UPDATE sessions SET nom=?, referentiel=?, date_debut=?, date_fin=?, "
                         "lieu=? WHERE id=?",
                         (nom, referentiel, _iso(date_debut), _iso(date_fin), lieu, row[0]))
            return int(row[0])
        cur = conn.execute(
            "INSERT INTO sessions (cle, nom, referentiel, date_debut, date_fin, lieu) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (cle, nom, referentiel, _iso(date_debut), _iso(date_fin), lieu))
        return int(cur.lastrowid or 0)

    def grid_password(self, cle: str, nom: str, referentiel: str, new: str) -> str:
        """The grids' password of a session: the one kept, or ``new`` kept from now on."""
        with self.transaction() as conn:
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
            params.append(avant_session)
        rows = self.conn.execute(
            "SELECT p.decision, p.date_session FROM passages p JOIN candidats c ON c.id = "
            "p.candidat_id JOIN sessions s ON s.id = p.session_id WHERE c.cle = ? AND "
            f"p.referentiel = ?{exclude} ORDER BY p.date_session", params).fetchall()
        fails = [r for r in rows if r["decision"] in ECHECS]
        blocs = self.conn.execute(
            "SELECT b.bloc FROM blocs_capitalises b JOIN candidats c ON c.id = b.candidat_id "
            "JOIN sessions s ON s.id = b.session_id WHERE c.cle = ? AND b.referentiel = ?"
            + exclude, params).fetchall()
        return Historique(
            echecs=len(fails),
            date_premier_echec=_date(fails[0]["date_session"]) if fails else None,
            blocs_capitalises=frozenset(r["bloc"] for r in blocs),
            certifie=any(r["decision"] == "Certifié" for r in rows),
        )

    def enregistrer_passage(self, conn: sqlite3.Connection, *, session_id: int,
                            nom_naissance: str, prenom: str, date_naissance: dt.date | None,
                            numero: str, referentiel: str, date_session: dt.date | None,
                            voie_acces: str, decision: str, detail: dict[str, Any],
                            blocs_valides: list[str], identite: dict[str, str]) -> None:
        """Record (or update) one candidate's passage and validated blocs, in a transaction.

        Running it twice for the same session records nothing twice: the passage is keyed by
        candidate and session, a capitalised bloc by candidate, certification and bloc.
        """
        cid = self._candidate_id(conn, nom_naissance, prenom, date_naissance, **identite)
        conn.execute(
            "INSERT INTO passages (candidat_id, session_id, numero, referentiel, date_session, "
            "voie_acces, decision, detail, enregistre_le) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (candidat_id, session_id) DO UPDATE SET numero = excluded.numero, "
            "decision = excluded.decision, detail = excluded.detail, "
            "voie_acces = excluded.voie_acces, enregistre_le = excluded.enregistre_le",
            (cid, session_id, numero, referentiel, _iso(date_session), voie_acces, decision,
             json.dumps(detail, ensure_ascii=False, sort_keys=True),
             dt.datetime.now().isoformat(timespec="seconds")))
        for bloc in blocs_valides:
            conn.execute(
                "INSERT INTO blocs_capitalises (candidat_id, referentiel, bloc, date_validation, "
                "session_id) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (cid, referentiel, bloc, _iso(date_session) or dt.date.today().isoformat(),
                 session_id))

    # --- certificates ---------------------------------------------------------------------

    def certificat(self, conn: sqlite3.Connection, *, session_id: int, nom_naissance: str,
                   prenom: str, date_naissance: dt.date | None, referentiel: str,
                   date_delivrance: dt.date) -> tuple[str, dt.date]:
        """The certificate number of this holder for this session: the one already issued,
        else the next in sequence for the certification and year (never reused)."""
        cid = self._candidate_id(conn, nom_naissance, prenom, date_naissance)
        row = conn.execute(
            "SELECT numero, date_delivrance FROM certificats WHERE candidat_id = ? AND "
            "session_id = ? AND referentiel = ?", (cid, session_id, referentiel)).fetchone()
        if row:
            return str(row["numero"]), dt.date.fromisoformat(row["date_delivrance"])
        year = date_delivrance.year
        rang = conn.execute("SELECT COALESCE(MAX(rang), 0) + 1 FROM certificats WHERE "
                            "referentiel = ? AND annee = ?", (referentiel, year)).fetchone()[0]
        numero = f"{referentiel}-{year}-{int(rang):05d}"
        conn.execute(
            "INSERT INTO certificats (numero, referentiel, annee, rang, candidat_id, session_id, "
            "date_delivrance) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (numero, referentiel, year, rang, cid, session_id, date_delivrance.isoformat()))
        return numero, date_delivrance

    def enregistrer_code(self, conn: sqlite3.Connection, numero: str, code: str) -> None:
        """Keep the verification code printed on certificate ``numero``."""
        conn.execute("UPDATE certificats SET code_verification = ? WHERE numero = ?",
                     (code, numero))

    def trouver_certificat(self, numero: str) -> dict[str, Any] | None:
        """A certificate with its holder and session, or None."""
        row = self.conn.execute(
            "SELECT k.numero, k.referentiel, k.date_delivrance, k.code_verification, "
            "c.nom_naissance, c.nom_usage, "
            "c.prenom, c.date_naissance, s.nom AS session, s.lieu FROM certificats k "
            "JOIN candidats c ON c.id = k.candidat_id JOIN sessions s ON s.id = k.session_id "
            "WHERE k.numero = ?", (numero,)).fetchone()
        return dict(row) if row else None

    # --- appeals --------------------------------------------------------------------------

    def enregistrer_recours(self, conn: sqlite3.Connection, *, session_id: int, numero: str,
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
        people = [dict(r) for r in self.conn.execute(
            "SELECT * FROM candidats ORDER BY nom_naissance, prenom").fetchall()
            if needle in r["cle"].split("|")[0]
            or needle in candidate_key(r["nom_usage"] or "", "", None).split("|")[0]]
        for person in people:
            pid = person["id"]
            person["passages"] = [dict(r) for r in self.conn.execute(
                "SELECT s.nom AS session, p.referentiel, p.date_session, p.numero, p.decision "
                "FROM passages p JOIN sessions s ON s.id = p.session_id WHERE p.candidat_id = ? "
                "ORDER BY p.date_session", (pid,))]
            person["blocs"] = [dict(r) for r in self.conn.execute(
                "SELECT referentiel, bloc, date_validation FROM blocs_capitalises WHERE "
                "candidat_id = ? ORDER BY referentiel, bloc", (pid,))]
            person["certificats"] = [dict(r) for r in self.conn.execute(
                "SELECT numero, referentiel, date_delivrance FROM certificats WHERE "
                "candidat_id = ? ORDER BY date_delivrance", (pid,))]
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
                           "naissance\", c.prenom AS \"Prénom\" FROM certificats k JOIN "
                           "candidats c ON c.id = k.candidat_id ORDER BY k.numero",
            "Recours": "SELECT s.nom AS \"Session\", r.numero AS \"N° candidat\", "
                       "r.date_reception AS \"Reçu le\", r.motifs AS \"Motifs\", r.decision AS "
                       "\"Décision\", r.date_decision AS \"Décidé le\" FROM recours r JOIN "
                       "sessions s ON s.id = r.session_id ORDER BY r.date_reception",
        }
        out: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
        for name, sql in queries.items():
            cur = self.conn.execute(sql)
            out[name] = ([d[0] for d in cur.description], [tuple(r) for r in cur.fetchall()])
        return out

    # --- declaration to the Caisse des Dépôts (accrochage) --------------------------------

    def completer_identite(self, conn: sqlite3.Connection, *, nom_naissance: str, prenom: str,
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

    def completer_session(self, conn: sqlite3.Connection, *, cle: str,
                          code_postal_examen: str) -> None:
        """Keep the postal code of the place where the session ``cle`` is held (inside a
        transaction); an empty one leaves what is known alone."""
        if code_postal_examen.strip():
            conn.execute("UPDATE sessions SET code_postal_examen = ? WHERE cle = ?",
                         (code_postal_examen.strip(), cle))

    def session_connue(self, cle: str) -> bool:
        """Whether the register holds the session with this key."""
        return self.conn.execute("SELECT 1 FROM sessions WHERE cle = ?", (cle,)).fetchone() \
            is not None

    @staticmethod
    def _filtre_certificats(session_cle: str | None, depuis: dt.date | None
                            ) -> tuple[str, list[Any]]:
        where, params = "", []
        if session_cle is not None:
            where += " AND s.cle = ?"
            params.append(session_cle)
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
        rows = self.conn.execute(
            "SELECT k.id AS certificat_id, k.numero, k.referentiel, k.date_delivrance, "
            "c.nom_naissance, c.nom_usage, c.prenom, c.date_naissance, c.lieu_naissance, "
            "c.sexe, c.code_insee_naissance, c.pays_naissance, s.cle AS session_cle, "
            "s.nom AS session, s.date_debut, s.date_fin, s.lieu, s.code_postal_examen, "
            "COALESCE(p.voie_acces, '') AS voie_acces, EXISTS (SELECT 1 FROM flux_passages r "
            "WHERE r.certificat_id = k.id AND r.statut = 'rejeté') AS deja_rejete "
            "FROM certificats k JOIN candidats c ON c.id = k.candidat_id "
            "JOIN sessions s ON s.id = k.session_id LEFT JOIN passages p "
            "ON p.candidat_id = k.candidat_id AND p.session_id = k.session_id "
            "WHERE NOT EXISTS (SELECT 1 FROM flux_passages f WHERE f.certificat_id = k.id AND "
            f"f.statut IN ('envoyé', 'accepté')){where} ORDER BY k.referentiel, k.numero",
            params).fetchall()
        return [dict(r) for r in rows]

    def certificats_en_attente(self, *, session_cle: str | None = None,
                               depuis: dt.date | None = None) -> list[dict[str, Any]]:
        """Certificates sent in a flux whose answer from the CDC is not recorded yet."""
        where, params = self._filtre_certificats(session_cle, depuis)
        rows = self.conn.execute(
            "SELECT k.numero, fp.id_technique, f.fichier, f.cree_le FROM flux_passages fp "
            "JOIN flux f ON f.id = fp.flux_id JOIN certificats k ON k.id = fp.certificat_id "
            f"JOIN sessions s ON s.id = k.session_id WHERE fp.statut = 'envoyé'{where} "
            "ORDER BY f.cree_le, k.numero", params).fetchall()
        return [dict(r) for r in rows]

    def enregistrer_flux(self, conn: sqlite3.Connection, *, id_flux: str, fichier: str,
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
                            ("fichier = ?", fichier),
                            ("substr('/' || fichier, -length(?1) - 1) = '/' || ?1", nom)):
            if value:
                row = self.conn.execute(
                    f"SELECT * FROM flux WHERE {test} ORDER BY id DESC LIMIT 1",
                    (value,)).fetchone()
                if row:
                    return dict(row)
        return None

    def passages_du_flux(self, flux_id: int) -> list[dict[str, Any]]:
        """The passages of a flux with their holder and status."""
        rows = self.conn.execute(
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
        with self.transaction() as conn:
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
