"""Shared fixtures: every test runs in its own temporary folder, the CLI through CliRunner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pgtools import creer_base, serveur_postgresql, supprimer_base, url_base


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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A trust test that edits the SQLite file by hand runs on SQLite only: its PostgreSQL
    variant is not collected (its counterpart is in test_reseau.py) rather than skipped, so
    that a skip in CI always means something is missing."""
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        engine = callspec.params.get("moteur_confiance") if callspec is not None else None
        if engine == "postgresql" and "sqlite_seulement" in getattr(item, "fixturenames", ()):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
