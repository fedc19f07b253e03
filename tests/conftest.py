"""Shared fixtures: every test runs in its own temporary folder, the CLI through CliRunner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run each test in its own empty folder, outside any workspace."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CERTIDOCS_DEBUG", raising=False)
    return tmp_path


@pytest.fixture
def cli_runner() -> CliRunner:
    """A click runner whose result keeps stdout and stderr apart."""
    return CliRunner()


# --- the register's two engines -------------------------------------------------------------

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


@pytest.fixture(params=["sqlite", "postgresql"])
def moteur(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run the test on both engines: on PostgreSQL every register the test opens is one fresh
    database of the test cluster (through CERTIDOCS_REGISTRE_URL, the settings' override)."""
    if request.param == "sqlite":
        monkeypatch.delenv("CERTIDOCS_REGISTRE_URL", raising=False)
        yield "sqlite"
        return
    serveur = serveur_postgresql()
    nom = creer_base(serveur)
    monkeypatch.setenv("CERTIDOCS_REGISTRE_URL", url_base(serveur, nom))
    yield "postgresql"
    monkeypatch.delenv("CERTIDOCS_REGISTRE_URL")
    supprimer_base(serveur, nom)
