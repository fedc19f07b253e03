"""The throwaway PostgreSQL cluster of the tests: one fresh database per test (or a copy of a
prepared one), skipped without a server unless CERTIDOCS_EXIGER_POSTGRESQL=1."""

from __future__ import annotations

import pytest

ENV_SERVEUR = "CERTIDOCS_TEST_POSTGRESQL"
"""A superuser URL of a throwaway PostgreSQL cluster (scripts/postgresql-jetable.sh)."""


def serveur_postgresql() -> str:
    """The test cluster's URL; without one the test is skipped, or fails when
    CERTIDOCS_EXIGER_POSTGRESQL=1 (CI)."""
    import os

    url = os.environ.get(ENV_SERVEUR, "")
    if not url:
        message = (f"pas de serveur PostgreSQL de test ({ENV_SERVEUR} ; "
                   "scripts/postgresql-jetable.sh start DOSSIER)")
        if os.environ.get("CERTIDOCS_EXIGER_POSTGRESQL") == "1":
            pytest.fail(message)
        pytest.skip(message)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail("psycopg manquant : make install")
    return url


def url_base(serveur: str, nom: str) -> str:
    """The URL of database ``nom`` on the server of ``serveur``."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(serveur)
    return urlunsplit(parts._replace(path="/" + nom))


def creer_base(serveur: str, modele: str | None = None) -> str:
    """A fresh database on the test cluster (a copy of ``modele`` when given); its name."""
    import uuid

    import psycopg

    nom = "t_" + uuid.uuid4().hex[:16]
    with psycopg.connect(serveur, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {nom}" + (f" TEMPLATE {modele}" if modele else ""))
    return nom


def supprimer_base(serveur: str, nom: str) -> None:
    """Drop a test database (its connections closed first)."""
    import psycopg

    with psycopg.connect(serveur, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {nom} WITH (FORCE)")
