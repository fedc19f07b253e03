"""certidocs.apart: a step run by a Python process of its own gives back its answer, its
progress and its errors as if it had run here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from certidocs.apart import run_apart
from certidocs.errors import LibreOfficeError, Probleme, ProblemesError

TESTS = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _importable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process apart finds this folder's helpers (tests/aparttools.py)."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (str(TESTS), os.environ.get("PYTHONPATH")) if p))


def test_answer_and_progress_come_back() -> None:
    import aparttools

    seen: list[tuple[int, int]] = []
    got = run_apart(aparttools.answer, {"é": [1, 2]}, lieu="essai", arret="l'essai s'est arrêté",
                    progress=lambda done, total: seen.append((done, total)))
    assert got["valeur"] == {"é": [1, 2]}
    assert got["pid"] != os.getpid()
    assert seen and seen[-1] == (3, 3)
    assert [d for d, _ in seen] == sorted({d for d, _ in seen})


def test_a_certidocs_error_comes_back_whole() -> None:
    """Its class and attributes, though its ``__init__`` takes other arguments (it used to
    come back as « Erreur interne … missing 1 required positional argument »)."""
    import aparttools

    with pytest.raises(ProblemesError) as failure:
        run_apart(aparttools.problems, lieu="essai", arret="l'essai s'est arrêté")
    assert failure.value.problemes == [Probleme("Candidats!C4", "nom manquant", 4)]
    assert failure.value.fichier == "session.xlsx"
    assert str(failure.value).startswith("session.xlsx : 1 problème(s) à corriger")
    assert not getattr(failure.value, "__notes__", [])  # the user's to fix, not a fault


def test_an_exception_that_cannot_travel_comes_back_as_its_text() -> None:
    import aparttools

    with pytest.raises(RuntimeError, match="_Odd: étrange") as failure:
        run_apart(aparttools.odd, lieu="essai", arret="l'essai s'est arrêté")
    assert any(n.startswith("dans le processus de essai :") and "Traceback" in n
               for n in getattr(failure.value, "__notes__", []))


def test_a_process_that_ends_without_answering_is_said_in_french() -> None:
    import aparttools

    with pytest.raises(LibreOfficeError) as failure:
        run_apart(aparttools.dies, lieu="essai", arret="l'essai s'est arrêté")
    assert str(failure.value) == ("l'essai s'est arrêté (code de sortie 3) ; aucun document "
                                  "n'a été écrit")
