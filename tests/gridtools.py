"""Helpers for the grid tests: référentiels, candidates, grids written and filled by jurors."""

from __future__ import annotations

import functools
import shutil
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pytest
from helpers import REFERENTIELS, exiger_libreoffice

from certidocs.grid import layout as L
from certidocs.grid.reader import GridReading, read_grid
from certidocs.grid.writer import GridWriter, ProtectionHash, grid_filename
from certidocs.model import (
    Bloc,
    Candidat,
    Certification,
    Competence,
    Critere,
    Referentiel,
    Regles,
    SessionInfo,
)
from certidocs.referentiel import load_referentiel

PASSWORD = "jury-2026"
SESSION = "2026-12-lyon"
INFO = SessionInfo("CPECOM", intitule="Session de décembre", lieu="Lyon")


@functools.cache
def protection() -> ProtectionHash:
    """The session's protection hash, computed once for the whole test run (as in production)."""
    return ProtectionHash.from_password(PASSWORD)


@functools.cache
def referentiel(code: str) -> Referentiel:
    """A shipped référentiel, loaded once."""
    return load_referentiel(REFERENTIELS / f"{code}.yaml")


def synthetic(sizes: tuple[int, ...], *, seuil_bloc: float = 0.7,
              seuil_certification: float = 0.7, mode: str = "blocs",
              code: str = "SYN") -> Referentiel:
    """A référentiel with blocs of the given numbers of criteria (to hit exact thresholds)."""
    blocs = []
    for i, n in enumerate(sizes, start=1):
        bc = f"B{i}"
        blocs.append(Bloc(bc, f"Bloc numéro {i}", (Competence(f"{bc}-C1", "Compétence"),),
                          tuple(Critere(f"{bc}-{j:02d}", f"Critère {j} du bloc {i}.",
                                        (f"{bc}-C1",)) for j in range(1, n + 1))))
    return Referentiel(Certification(code, f"Certification {code}"),
                       Regles(mode_decision=mode, seuil_bloc=seuil_bloc,
                              seuil_certification=seuil_certification), tuple(blocs))


def candidat(numero: str = "001", nom: str = "Lefèvre", prenom: str = "Élodie",
             blocs: tuple[str, ...] = (), presence: str = "Présent") -> Candidat:
    """A candidate who sat the exam (by default) presenting ``blocs`` (empty: all)."""
    return Candidat(numero=numero, civilite="Madame", nom_naissance=nom, prenom=prenom,
                    blocs_presentes=blocs, presence=presence)


def make_grid(folder: Path, ref: Referentiel, cand: Candidat, *,
              session: str = SESSION) -> Path:
    """Write the grid of ``cand`` in ``folder``; its path."""
    writer = GridWriter(referentiel=ref, session_nom=session, session_info=INFO,
                        protection=protection(), organisme="Organisme d'essai")
    path = folder / grid_filename(cand)
    writer.write(path, cand, cand.blocs(ref))
    return path


def positions(ref: Referentiel, cand: Candidat) -> dict[str, tuple[str, int]]:
    """Criterion code → (sheet, row) in the candidate's grid."""
    plan = L.plan_grid(ref, cand.blocs(ref))
    return {c.code: (bp.sheet, row) for bp in plan.blocs
            for row, c in enumerate(bp.bloc.criteres, start=bp.first_row)}


def fill(path: Path, ref: Referentiel, cand: Candidat, marks: Mapping[str, object],
         observations: Mapping[str, str] | None = None, out: Path | None = None) -> Path:
    """Type ``marks`` (raw cell values) and observations into the grid, as a juror would."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    where = positions(ref, cand)
    for code, value in marks.items():
        sheet, row = where[code]
        wb[sheet][f"{L.COL_EVALUATION}{row}"] = value
    for code, text in (observations or {}).items():
        sheet, row = where[code]
        wb[sheet][f"{L.COL_OBSERVATIONS}{row}"] = text
    target = out or path
    wb.save(target)
    return target


def marks_for(ref: Referentiel, cand: Candidat, acquis: Mapping[str, int],
              blanks: frozenset[str] = frozenset()) -> dict[str, str | None]:
    """For each presented bloc, its first ``acquis[bloc]`` criteria « Acquis », the rest
    « Non acquis »; criteria in ``blanks`` left empty."""
    marks: dict[str, str | None] = {}
    for code in cand.blocs(ref):
        for i, c in enumerate(ref.bloc(code).criteres):
            marks[c.code] = None if c.code in blanks else (
                L.ACQUIS if i < acquis[code] else L.NON_ACQUIS)
    return marks


def evaluations(marks: Mapping[str, object]) -> dict[str, bool | None]:
    """What certidocs should read from ``marks``."""
    out: dict[str, bool | None] = {}
    for code, value in marks.items():
        mark = L.normalise_evaluation(value)
        out[code] = mark if not isinstance(mark, str) else None
    return out


def read(path: Path, ref: Referentiel, cand: Candidat, *, session: str = SESSION,
         blocs: tuple[str, ...] | None = None) -> GridReading:
    """read_grid with the usual arguments."""
    return read_grid(path, referentiel=ref, session_nom=session, candidat=cand,
                     blocs=cand.blocs(ref) if blocs is None else blocs,
                     fichier_affiche=f"grilles/{path.name}")


def soffice() -> str:
    """LibreOffice's executable, or skip (fail when CERTIDOCS_EXIGER_LIBREOFFICE=1)."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    if exiger_libreoffice():
        pytest.fail("LibreOffice (soffice) est exigé (CERTIDOCS_EXIGER_LIBREOFFICE=1) mais "
                    "introuvable")
    pytest.skip("LibreOffice (soffice) n'est pas installé : test de tableur réel ignoré")


def with_regles(ref: Referentiel, **changes: object) -> Referentiel:
    """``ref`` with some rules changed."""
    return replace(ref, regles=replace(ref.regles, **changes))  # type: ignore[arg-type]
