"""Functions for tests/test_apart.py, run by a process apart (certidocs.apart): they must be
importable by name there, which a test module is not."""

from __future__ import annotations

import os
import threading
from typing import Any

from certidocs.errors import Probleme, ProblemesError


def answer(value: Any, progress: Any = None) -> dict[str, Any]:
    """``{"valeur": value, "pid": this process}``, counting 1, 2, 3 on ``progress``."""
    if progress is not None:
        for done in (1, 2, 3):
            progress(done, 3)
    return {"valeur": value, "pid": os.getpid()}


def problems() -> None:
    """A CertidocsError whose ``__init__`` takes other arguments than its message."""
    raise ProblemesError("session.xlsx", [Probleme("Candidats!C4", "nom manquant", 4)])


class _Odd(Exception):
    def __init__(self) -> None:
        super().__init__("étrange")
        self.lock = threading.Lock()  # cannot be pickled


def odd() -> None:
    """An exception that cannot be pickled."""
    raise _Odd


def dies() -> None:
    """The process ends without answering."""
    os._exit(3)
