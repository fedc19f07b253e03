"""The register's two engines behind one small interface: SQLite (the default) and PostgreSQL.

Every statement of the register is written once, in the dialect both engines share (``?``
marks, ``INSERT … ON CONFLICT``, ``RETURNING``); the PostgreSQL engine only changes the marks to
psycopg's. The journal keeps statements in that shared form, so a journal written on
PostgreSQL replays into an in-memory SQLite database exactly as one written on SQLite: one
control, one format.

What differs stays here: how a write transaction is opened (SQLite's ``BEGIN IMMEDIATE``, an
advisory lock on PostgreSQL, both serialising writers because the journal is one chain), where
the schema version is kept (``PRAGMA user_version`` / table ``certidocs_schema``), which columns
key a row for the control (SQLite's rowid / the primary key), and how a generated id is made
explicit in the journal (PostgreSQL's identity values are not transactional: a rolled-back
insert leaves a gap that a replay would not, so the journal records the id PostgreSQL gave).
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from certidocs.errors import RegistreError

VERROU_ECRITURE = 7_340_001
"""The PostgreSQL advisory lock every write transaction takes (one journal, one chain)."""

TABLES_HORS_PROJECTION = ("journal", "certidocs_schema", "centres")
"""Tables that are not a projection of the journal (``centres``: the shared register's
accounts, kept by the server like its roles)."""

_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)\s*\((.*?)\)\s*VALUES\s*\(", re.S | re.I)


class Ligne(tuple):  # type: ignore[type-arg]
    """A row read by position or by column name, like ``sqlite3.Row``."""

    _cles: tuple[str, ...]

    def __new__(cls, cles: Sequence[str], values: Sequence[Any]) -> Ligne:
        row = super().__new__(cls, values)
        row._cles = tuple(cles)
        return row

    def keys(self) -> list[str]:
        """The column names, in order."""
        return list(self._cles)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._cles.index(key))
        return tuple.__getitem__(self, key)


class Curseur:
    """What a PostgreSQL statement gives back, with the few ``sqlite3.Cursor`` attributes the
    register uses (``lastrowid``, ``rowcount``, ``description``, fetching, iteration)."""

    def __init__(self, cursor: Any, lastrowid: int | None = None,
                 rows: list[Any] | None = None) -> None:
        self._cursor = cursor
        self.lastrowid = lastrowid
        self.rowcount = int(cursor.rowcount)
        self.description = cursor.description
        self._rows = rows

    def fetchone(self) -> Any:
        """The next row or None."""
        if self._rows is not None:
            return self._rows.pop(0) if self._rows else None
        return self._cursor.fetchone() if self.description else None

    def fetchall(self) -> list[Any]:
        """Every remaining row."""
        if self._rows is not None:
            rows, self._rows = self._rows, []
            return rows
        return list(self._cursor.fetchall()) if self.description else []

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class Moteur:
    """The interface the register speaks to; one subclass per engine."""

    nom = ""
    cible = ""
    """What to name in a message: the file, or the server and database (never a password)."""

    def execute(self, sql: str, params: Any = ()) -> Any:
        """Run one statement written with ``?`` marks."""
        raise NotImplementedError

    def ecrire(self, sql: str, params: Any) -> tuple[Any, str, Any]:
        """Run one write statement; returns the cursor and the statement and values as the
        journal must keep them to replay it identically."""
        return self.execute(sql, params), sql, params

    def commencer(self) -> None:
        """Open a write transaction; writers wait for each other."""
        raise NotImplementedError

    def valider(self) -> None:
        """Commit."""
        self.execute("COMMIT")

    def annuler(self) -> None:
        """Roll back."""
        self.execute("ROLLBACK")

    def version(self) -> int:
        """The schema version (0 for an empty database)."""
        raise NotImplementedError

    def fixer_version(self, version: int) -> None:
        """Record the schema version (inside the migration's transaction)."""
        raise NotImplementedError

    def tables(self) -> list[str]:
        """The tables that are a projection of the journal, by name."""
        raise NotImplementedError

    def cle_lignes(self, table: str) -> list[str]:
        """What identifies a row of ``table`` for the control: ``["rowid"]`` on SQLite, the
        primary key's columns on PostgreSQL."""
        raise NotImplementedError

    def ddl(self, statement: str) -> str:
        """A schema statement written for SQLite, as this engine needs it."""
        return statement

    def close(self) -> None:
        """Close the connection."""
        raise NotImplementedError


class MoteurSQLite(Moteur):
    """One file, the default: nothing to install or configure."""

    nom = "sqlite"

    def __init__(self, path: Path | str) -> None:
        self.cible = str(path)
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.conn.row_factory = sqlite3.Row

    def execute(self, sql: str, params: Any = ()) -> Any:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Any) -> Any:
        """Run ``sql`` once per row."""
        return self.conn.executemany(sql, rows)

    def commencer(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def fixer_version(self, version: int) -> None:
        self.conn.execute(f"PRAGMA user_version = {int(version)}")

    def tables(self) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name <> 'journal' ORDER BY name")]

    def cle_lignes(self, table: str) -> list[str]:
        return ["rowid"]

    def close(self) -> None:
        self.conn.close()


@functools.lru_cache(maxsize=512)
def _marques(sql: str) -> str:
    """``?`` marks as psycopg's ``%s`` (a literal ``%`` doubled); no statement of the register
    holds a ``?`` inside a string literal."""
    return sql.replace("%", "%%").replace("?", "%s")


def _ligne(cursor: Any) -> Any:
    names = [c.name for c in cursor.description] if cursor.description else []
    return lambda values: Ligne(names, values)


class MoteurPostgres(Moteur):
    """A shared PostgreSQL database: the certifier and its partner centres on one register."""

    nom = "postgresql"

    def __init__(self, url: str, mot_de_passe: str | None = None) -> None:
        try:
            import psycopg
        except ImportError:  # pragma: no cover - depends on the installation
            raise RegistreError(
                "registre PostgreSQL demandé mais le module psycopg n'est pas installé : "
                "pip install 'certidocs[postgresql]'") from None
        self.erreur = psycopg.Error
        self.cible = _sans_mot_de_passe(url)
        options: dict[str, Any] = {"autocommit": True, "row_factory": _ligne,
                                   "connect_timeout": 15}
        if mot_de_passe:
            options["password"] = mot_de_passe
        try:
            self.conn = psycopg.connect(url, **options)
        except psycopg.Error as exc:
            raise RegistreError(f"{self.cible} : registre PostgreSQL inaccessible "
                                f"({_premiere_ligne(exc)})") from None
        self._ids: dict[str, bool] = {}

    def execute(self, sql: str, params: Any = ()) -> Any:
        try:
            return Curseur(self.conn.execute(_marques(sql), list(params)))
        except self.erreur as exc:
            raise self._refus(exc) from None

    def _refus(self, exc: BaseException) -> RegistreError:
        """A server error as one French message; a right refused says whose."""
        import psycopg

        if isinstance(exc, psycopg.errors.InsufficientPrivilege):
            return RegistreError(f"{self.cible} : accès refusé par le serveur pour ce compte "
                                 f"({_premiere_ligne(exc)}) ; seul le compte du certificateur "
                                 "y a droit")
        return RegistreError(f"{self.cible} : le serveur a refusé l'opération "
                             f"({_premiere_ligne(exc)})")

    def executemany(self, sql: str, rows: Any) -> Any:
        """Run ``sql`` once per row."""
        with self.conn.cursor() as cur:
            cur.executemany(_marques(sql), [list(r) for r in rows])
            return Curseur(cur)

    def _a_un_id(self, table: str) -> bool:
        if table not in self._ids:
            self._ids[table] = self.conn.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = "
                "current_schema() AND table_name = %s AND column_name = 'id' AND "
                "is_identity = 'YES'", [table]).fetchone() is not None
        return self._ids[table]

    def ecrire(self, sql: str, params: Any) -> tuple[Any, str, Any]:
        found = _INSERT.match(sql)
        if (found is None or "RETURNING" in sql.upper() or not self._a_un_id(found[1])
                or re.search(r"(^|,)\s*(id|rowid)\s*(,|$)", found[2])):
            return self.execute(sql, params), sql, params
        try:
            cur = self.conn.execute(_marques(sql) + " RETURNING id, (xmax = 0) AS nouvelle",
                                    list(params))
        except self.erreur as exc:
            raise self._refus(exc) from None
        row = cur.fetchone()
        if row is None or not row[1]:
            # Nothing inserted (DO NOTHING) or an existing row updated: the statement as
            # written does the same on replay.
            return Curseur(cur, row[0] if row else None, []), sql, params
        explicit = _INSERT.sub(lambda m: m[0].replace("(", "(id, ", 1) + "?, ", sql, count=1)
        return Curseur(cur, int(row[0]), []), explicit, [int(row[0]), *params]

    def commencer(self) -> None:
        self.conn.execute("BEGIN")
        self.conn.execute("SELECT pg_advisory_xact_lock(%s)", [VERROU_ECRITURE])

    def version(self) -> int:
        # pg_class read as a table, with this statement's snapshot: ``to_regclass`` may use a
        # catalog snapshot older than the advisory lock just obtained, and miss the schema
        # that the process this one waited for has just created.
        row: Any = self.conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
            "ON n.oid = c.relnamespace WHERE c.relname = 'certidocs_schema' AND "
            "n.nspname = current_schema())").fetchone()
        if not row or not row[0]:
            return 0
        row = self.conn.execute("SELECT max(version) FROM certidocs_schema").fetchone()
        return int(row[0] or 0) if row else 0

    def fixer_version(self, version: int) -> None:
        self.conn.execute("CREATE TABLE IF NOT EXISTS certidocs_schema "
                          "(version INTEGER NOT NULL)")
        self.conn.execute("DELETE FROM certidocs_schema")
        self.conn.execute("INSERT INTO certidocs_schema (version) VALUES (%s)", [version])

    def tables(self) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name")
            if r[0] not in TABLES_HORS_PROJECTION]

    def cle_lignes(self, table: str) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary "
            "ORDER BY array_position(i.indkey, a.attnum)", [table])]

    def ddl(self, statement: str) -> str:
        return re.sub(r"\bid INTEGER PRIMARY KEY\b",
                      "id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", statement)

    def close(self) -> None:
        self.conn.close()


def _sans_mot_de_passe(url: str) -> str:
    return re.sub(r"(//[^:/@]+):[^@]*@", r"\1:***@", url)


def _premiere_ligne(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def est_postgresql(url: str | None) -> bool:
    """Whether a register URL names a PostgreSQL server."""
    return bool(url) and str(url).startswith(("postgresql://", "postgres://"))
