"""`certidocs init` and workspace lookup."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

from click.testing import CliRunner
from helpers import REFERENTIELS

from certidocs.cli import main
from certidocs.workspace import DEFAULTS, SECRET_NAME, find_workspace


def test_init_creates_a_complete_workspace(cli_runner: CliRunner, tmp_path: Path) -> None:
    """A new workspace has commented settings, the référentiels, templates/ and sessions/."""
    result = cli_runner.invoke(main, ["init", "espace"])
    assert result.exit_code == 0, result.output
    ws = tmp_path / "espace"
    config = (ws / "certidocs.toml").read_text(encoding="utf-8")
    assert config.startswith("# Réglages de l'espace certidocs")
    assert tomllib.loads(config)["chemins"]["sessions"] == "sessions"
    copied = sorted(p.name for p in (ws / "referentiels").glob("*.yaml"))
    assert copied == sorted(p.name for p in REFERENTIELS.glob("*.yaml"))
    assert (ws / "referentiels" / "FORMAT.md").is_file()
    assert (ws / "templates").is_dir() and (ws / "sessions").is_dir()
    assert "Espace créé" in result.output
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".espace")]


def test_init_secret_is_private(tmp_path: Path, cli_runner: CliRunner) -> None:
    """The verification secret is readable by its owner only (mode 0600)."""
    assert cli_runner.invoke(main, ["init", "espace"]).exit_code == 0
    secret = tmp_path / "espace" / SECRET_NAME
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert len(secret.read_text().strip()) == 64


def test_init_refuses_existing_workspace(cli_runner: CliRunner, tmp_path: Path) -> None:
    """A second init on the same folder changes nothing and says why."""
    assert cli_runner.invoke(main, ["init", "espace"]).exit_code == 0
    config = tmp_path / "espace" / "certidocs.toml"
    config.write_text("# modifié par le bureau\n", encoding="utf-8")
    result = cli_runner.invoke(main, ["init", "espace"])
    assert result.exit_code == 1
    assert "déjà un espace certidocs" in result.stderr
    assert config.read_text(encoding="utf-8") == "# modifié par le bureau\n"


def test_init_refuses_non_empty_folder(cli_runner: CliRunner, tmp_path: Path) -> None:
    """A folder holding anything else is left alone."""
    (tmp_path / "dossier").mkdir()
    (tmp_path / "dossier" / "notes.txt").write_text("à garder", encoding="utf-8")
    result = cli_runner.invoke(main, ["init", "dossier"])
    assert result.exit_code == 1
    assert "n'est pas vide" in result.stderr
    assert sorted(p.name for p in (tmp_path / "dossier").iterdir()) == ["notes.txt"]


def test_init_accepts_empty_folder(cli_runner: CliRunner, tmp_path: Path) -> None:
    """An empty folder (made in advance by the office) becomes the workspace."""
    (tmp_path / "vide").mkdir()
    assert cli_runner.invoke(main, ["init", "vide"]).exit_code == 0
    assert (tmp_path / "vide" / "certidocs.toml").is_file()


def test_find_workspace_walks_up(cli_runner: CliRunner, tmp_path: Path) -> None:
    """A session folder deep inside a workspace finds it; outside, the defaults serve."""
    assert cli_runner.invoke(main, ["init", "espace"]).exit_code == 0
    deep = tmp_path / "espace" / "sessions" / "2026-12"
    deep.mkdir(parents=True)
    assert find_workspace(deep).root == (tmp_path / "espace").resolve()
    assert find_workspace(tmp_path).root == DEFAULTS


def test_referentiel_by_code_in_workspace(cli_runner: CliRunner, tmp_path: Path,
                                          monkeypatch: object) -> None:
    """`afficher CODE` finds the référentiel of the current workspace by its code."""
    assert cli_runner.invoke(main, ["init", "espace"]).exit_code == 0
    import os

    os.chdir(tmp_path / "espace")
    result = cli_runner.invoke(main, ["referentiel", "afficher", "CPECOM"])
    assert result.exit_code == 0, result.output
    assert "5 bloc(s)" in result.output
    missing = cli_runner.invoke(main, ["referentiel", "afficher", "INCONNU"])
    assert missing.exit_code == 1
    assert "référentiel « INCONNU » introuvable" in missing.stderr
    assert "CPECOM" in missing.stderr


def test_secret_never_created_silently_and_empty_one_refused(tmp_path: Path) -> None:
    """A workspace without a secret is refused, naming the file and that certificates depend
    on it; `registre creer-cles` creates it (0600); an empty one (interrupted creation) is
    refused with a French message instead of signing with an empty key."""
    import pytest

    from certidocs.errors import EspaceError
    from certidocs.signature import ensure_keys
    from certidocs.workspace import Workspace, read_secret

    ws = Workspace(tmp_path)
    with pytest.raises(EspaceError, match=r"introuvable.*déjà délivrés en dépendent"):
        read_secret(ws)
    assert not (tmp_path / SECRET_NAME).exists()
    ensure_keys(tmp_path)
    first = read_secret(ws)
    assert len(first) == 64 and read_secret(ws) == first
    secret = tmp_path / SECRET_NAME
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".*.tmp"))
    secret.write_text("", encoding="ascii")
    with pytest.raises(EspaceError, match="vide ou tronqué"):
        read_secret(ws)
