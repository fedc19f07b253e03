"""Paths and small helpers shared by the tests (imported as ``helpers``)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
REFERENTIELS = ROOT / "referentiels"


def exiger_libreoffice() -> bool:
    """Whether LibreOffice tests must fail instead of skipping (CI sets the variable)."""
    return os.environ.get("CERTIDOCS_EXIGER_LIBREOFFICE") == "1"
