"""Helpers for the console tests: a demo workspace, the app in-process, filled grids."""

from __future__ import annotations

import shutil
from pathlib import Path

from certidocs import demo
from certidocs.console.app import create_app
from certidocs.console.security import Secrets
from certidocs.demo import SAMPLES, load_plan, seed_history, simulate_jurors

SESSION = "session-2026-12"
TOKEN = "jeton-de-test-0123456789"


def demo_workspace(root: Path) -> Path:
    """A new workspace in ``root`` set up as the demo's (organisation, verification URL,
    the retake candidate's history); its sessions folder is empty."""
    espace = demo.demo_workspace(root)
    seed_history(espace, load_plan())
    return espace


def sample_session_xlsx() -> Path:
    """The demo's filled session.xlsx."""
    return SAMPLES / SESSION / "session.xlsx"


def copy_sample(espace: Path) -> Path:
    """The demo session copied into the workspace; its folder."""
    folder = espace / "sessions" / SESSION
    shutil.copytree(SAMPLES / SESSION, folder)
    return folder


def fill_grids_as_jurors(session: Path, out: Path) -> list[Path]:
    """The session's grids filled as the demo's simulated jurors would, copied to ``out``
    (the files the jurors mail back); the session's own grids are left blank."""
    work = out / "travail"
    shutil.copytree(session, work)
    simulate_jurors(work, load_plan())
    out.mkdir(exist_ok=True)
    files = []
    for p in sorted((work / "grilles").glob("*.xlsx")):
        files.append(Path(shutil.copy2(p, out / p.name)))
    shutil.rmtree(work)
    return files


def app_for(espace: Path):  # type: ignore[no-untyped-def]
    """The console over ``espace`` with a known token."""
    return create_app(espace, Secrets(token=TOKEN))
