"""Shared fixtures: every test runs in its own temporary folder, the CLI through CliRunner."""

from __future__ import annotations

from pathlib import Path

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
