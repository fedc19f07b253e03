"""Simulated jurors: fill grids as a juror would in Excel, for the demo, tests and benchmarks.

A juror's spreadsheet program writes the chosen words into the evaluation cells and leaves
everything else as it was; so does this module, through openpyxl (which keeps protection,
drop-downs and hidden sheets when it saves).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path

from certidocs.fileio import atomic_path
from certidocs.model import Referentiel


def fill_grid(path: Path, referentiel: Referentiel, blocs: tuple[str, ...],
              evaluations: Mapping[str, str | None],
              observations: Mapping[str, str] | None = None, *,
              visa: Sequence[str] | None = None, date_visa: dt.date | None = None) -> None:
    """Write ``evaluations`` (criterion code → « Acquis », « Non acquis » or None) into the
    grid at ``path``, with optional observations, as a juror would.

    ``visa``, when given, replaces the names pre-filled in the jury's visa (Synthèse sheet)
    with these, one a row (empty: every name erased), as the jurors of a sub-jury would;
    ``date_visa`` is written as the visa's date.
    """
    from openpyxl import load_workbook

    from certidocs.grid import layout as L

    plan = L.plan_grid(referentiel, blocs)
    wb = load_workbook(path)
    for bp in plan.blocs:
        ws = wb[bp.sheet]
        for offset, critere in enumerate(bp.bloc.criteres):
            row = bp.first_row + offset
            if critere.code in evaluations:
                ws[f"{L.COL_EVALUATION}{row}"] = evaluations[critere.code]
            if observations and critere.code in observations:
                ws[f"{L.COL_OBSERVATIONS}{row}"] = observations[critere.code]
    first = plan.visa_row + 2
    synthese = wb[L.SHEET_SYNTHESE]
    if visa is not None:
        for i in range(L.VISA_LIGNES_LUES):
            synthese[f"{L.VISA_COL_NOM}{first + i}"] = visa[i] if i < len(visa) else None
    if date_visa is not None:
        synthese[f"{L.VISA_COL_DATE}{first}"] = date_visa
        synthese[f"{L.VISA_COL_DATE}{first}"].number_format = "DD/MM/YYYY"
    with atomic_path(path) as tmp:
        wb.save(tmp)


def simulated_evaluations(referentiel: Referentiel, blocs: tuple[str, ...],
                          taux: Mapping[str, float], seed: str) -> dict[str, str]:
    """A juror's choices: in each bloc, the fewest criteria acquired that reach ``taux[bloc]``
    (or ``taux["tous"]``), picked in an order fixed by ``seed`` (same seed, same grid)."""
    rng = random.Random(seed)
    out: dict[str, str] = {}
    for code in blocs:
        criteres = list(referentiel.bloc(code).criteres)
        rate = Fraction(str(taux.get(code, taux.get("tous", 0.0))))
        acquis = math.ceil(rate * len(criteres))
        chosen = set(rng.sample(range(len(criteres)), acquis))
        for i, critere in enumerate(criteres):
            out[critere.code] = "Acquis" if i in chosen else "Non acquis"
    return out
