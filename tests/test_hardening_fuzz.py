"""Hardening — fuzzing: whatever is typed in session.xlsx or in a grid, the CLI answers with exit
0 or 1 and never a traceback, and no decision is ever made on an invalid evaluation.

Hypothesis draws cell values: any Unicode text (control characters as Excel stores them,
« _x0007_ »), numbers, NaN and infinities, dates, times, booleans, text that looks like a
formula, real formulas, huge strings. Examples are few by default so the suite stays fast;
``HARDENING_PROFILE=long`` runs many more.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import math
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sessiondata import CANDIDATS, make_session

from certidocs.cli import main
from certidocs.grid import layout as L
from certidocs.grid.writer import grid_filename
from certidocs.session import open_session
from certidocs.signature import ensure_keys
from certidocs.workspace import find_workspace

settings.register_profile(
    "hardening", max_examples=20, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large])
settings.register_profile("hardening-long", settings.get_profile("hardening"),
                          max_examples=400, derandomize=False)
PROFILE = settings.get_profile("hardening-long" if os.environ.get("HARDENING_PROFILE") == "long"
                               else "hardening")

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _as_excel_stores(text: str) -> str:
    """Control characters XML cannot hold, written the way Excel writes them (« _x0007_ »)."""
    return _ILLEGAL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


class Formula(str):
    """A value to write as a real formula (no cached value), not as text."""


texts = st.text(max_size=60).map(_as_excel_stores)
values = st.one_of(
    texts,
    st.sampled_from(["=1+1", "=A1", "+SUM(A1:A3)", "-1", "@A1", '=HYPERLINK("x")', "{{ 7*7 }}",
                     "Acquis", "acquis ", "NON ACQUIS", "Non-acquis", "Présent", "Oui", "VAE",
                     "BC01;BC02", "31/02/2026", "2026-12-15", "1/1/1", "00123", "∞", "\u00a0"]),
    st.sampled_from(["=1+1", "=1/0", "=NA()", '="Acquis"', "=D5"]).map(Formula),
    st.integers(-10**15, 10**15),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(dt.date(1900, 1, 1), dt.date(9999, 12, 31)),
    st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(9999, 12, 31)),
    st.times(),
    st.builds(lambda ch, n: _as_excel_stores(ch * n), st.characters(), st.integers(5000, 32000)),
    st.none(),
)


def _put(ws: Any, ref: str, value: object) -> None:
    """Write ``value`` as a person's spreadsheet would have stored it."""
    cell = ws[ref]
    if isinstance(value, float) and not math.isfinite(value):
        value = str(value)  # a spreadsheet cannot hold NaN or infinity: it shows text
    cell.value = value
    if isinstance(value, str) and not isinstance(value, Formula) and cell.data_type == "f":
        cell.data_type = "s"


def _no_crash(result: Result) -> None:
    """Exit 0 or 1, by a message: never an internal error, never a traceback."""
    assert result.exit_code in (0, 1), (result.exit_code, result.output, result.stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert "Erreur interne" not in result.stderr, result.stderr
    assert "Traceback" not in result.output + result.stderr


# --- session.xlsx ---------------------------------------------------------------------------

SESSION_CELLS = [f"Session!B{r}" for r in range(2, 11)] + [
    f"Candidats!{c}{r}" for c in "ABCDEFGHIJKLMNOPQR" for r in (2, 3)] + [
    f"Jury!{c}2" for c in "ABCDEFGHIJK"] + ["Planning!A2", "Planning!C2", "Planning!D2"]


@functools.cache
def _base_session() -> bytes:
    """A clean session.xlsx (built once per run), the examples' starting point."""
    # MKT-ECOM (14 criteria) keeps grids quick to write; both candidates take its only route.
    candidats = [CANDIDATS[0], {**CANDIDATS[1], "Voie d'accès": "Formation",
                                "Blocs présentés": ""}]
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_session(Path(tmp), code="MKT-ECOM", candidats=candidats)
        return (folder / "session.xlsx").read_bytes()


@settings(PROFILE, max_examples=max(1, PROFILE.max_examples * 3 // 4))
@given(cells=st.lists(st.tuples(st.sampled_from(SESSION_CELLS), values), min_size=1,
                      max_size=6))
def test_fuzz_session_cells_never_escape_the_cli(tmp_path: Path, cli_runner: CliRunner,
                                                 cells: list[tuple[str, object]]) -> None:
    """Arbitrary values in session.xlsx: every command answers 0 or 1; an invalid session
    goes no further than its check."""
    root = tmp_path / "ex"
    shutil.rmtree(root, ignore_errors=True)
    (root / "s1").mkdir(parents=True)
    (root / "certidocs.toml").write_text('[grilles]\nmot_de_passe = "fuzz"\n', encoding="utf-8")
    ensure_keys(root)
    wb = load_workbook(io.BytesIO(_base_session()))
    for where, value in cells:
        sheet, ref = where.split("!")
        _put(wb[sheet], ref, value)
    wb.save(root / "s1" / "session.xlsx")
    folder = str(root / "s1")
    check = cli_runner.invoke(main, ["session", "verifier", folder])
    _no_crash(check)
    grids = cli_runner.invoke(main, ["grilles", folder])
    _no_crash(grids)
    results = cli_runner.invoke(main, ["resultats", folder, "--format", "json"])
    _no_crash(results)
    if check.exit_code == 1:
        assert grids.exit_code == 1 and results.exit_code == 1
        assert not (root / "s1" / "resultats.json").exists()
    if results.exit_code == 0:
        data = json.loads(results.output)
        # Nobody filled a grid: no decision but « Absent » / « Incomplet ».
        assert {c["decision"] for c in data["candidats"]} <= {"Incomplet", "Absent"}


# --- grid values ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A one-candidate session (CPECOM, five blocs) with its blank grid, and the grid's
    bytes."""
    root = tmp_path_factory.mktemp("fuzz-grilles")
    (root / "certidocs.toml").write_text('[grilles]\nmot_de_passe = "fuzz"\n', encoding="utf-8")
    ensure_keys(root)
    folder = make_session(root / "s1", candidats=[CANDIDATS[0]])
    result = CliRunner().invoke(main, ["grilles", str(folder)])
    assert result.exit_code == 0, result.output
    (grid,) = (folder / "grilles").iterdir()
    return folder, grid.read_bytes()


def _verdict(value: object) -> bool | str:
    """The specification, independently: « Acquis » True, « Non acquis » False, whatever the
    case and surrounding spaces; « vide » for a blank cell; « invalide » for anything else."""
    if value is None or (isinstance(value, str) and not isinstance(value, Formula)
                         and not value.strip()):
        return "vide"
    if isinstance(value, str) and not isinstance(value, Formula):
        found = {"acquis": True, "non acquis": False}.get(value.strip().casefold())
        if found is not None:
            return found
    return "invalide"


@settings(PROFILE)
@given(data=st.data())
def test_fuzz_grid_values_never_decide_on_invalid_input(
        graded: tuple[Path, bytes], tmp_path: Path, cli_runner: CliRunner,
        data: st.DataObject) -> None:
    """A grid « Acquis » everywhere except a few cells given arbitrary values (evaluations
    and observations): exit 0; any invalid evaluation gives « Incomplet » and an anomaly at
    its cell; with only valid ones, the decision is the one counted independently."""
    base, blank = graded
    folder = tmp_path / "ex" / "s1"
    shutil.rmtree(folder.parent, ignore_errors=True)
    shutil.copytree(base.parent, folder.parent)
    opened = open_session(folder, find_workspace(folder))
    ref, cand = opened.referentiel, opened.lecture.session.candidats[0]
    plan = L.plan_grid(ref, cand.blocs(ref))
    rows = {c.code: (bp.sheet, row, bp.bloc.code) for bp in plan.blocs
            for row, c in enumerate(bp.bloc.criteres, start=bp.first_row)}
    codes = sorted(rows)
    changed = data.draw(st.dictionaries(st.sampled_from(codes), values, min_size=1,
                                        max_size=5), label="évaluations")
    notes = data.draw(st.dictionaries(st.sampled_from(codes), values, max_size=3),
                      label="observations")
    marks: dict[str, object] = {code: "Acquis" for code in codes}
    marks.update(changed)
    wb = load_workbook(io.BytesIO(blank))
    for code, value in marks.items():
        sheet, row, _ = rows[code]
        _put(wb[sheet], f"{L.COL_EVALUATION}{row}", value)
    for code, value in notes.items():
        sheet, row, _ = rows[code]
        _put(wb[sheet], f"{L.COL_OBSERVATIONS}{row}", value)
    path = folder / "grilles" / grid_filename(cand)
    wb.save(path)

    result = cli_runner.invoke(main, ["resultats", str(folder), "--format", "json"])
    _no_crash(result)
    assert result.exit_code == 0
    document = json.loads(result.output)
    (mine,) = document["candidats"]
    verdicts = {code: _verdict(value) for code, value in marks.items()}
    invalid = sorted(f"{rows[c][0]}!{L.COL_EVALUATION}{rows[c][1]}"
                     for c, v in verdicts.items() if v == "invalide")
    if invalid or "vide" in verdicts.values():
        assert mine["decision"] == "Incomplet"
        cells = {a["cellule"] for a in document["anomalies"]}
        assert set(invalid) <= cells, (invalid, document["anomalies"])
        return
    assert document["anomalies"] == []
    validated = []
    for bp in plan.blocs:
        got = [verdicts[c.code] for c in bp.bloc.criteres]
        validated.append(sum(1 for v in got if v is True) * 100 >= 70 * len(got))
    expected = ("Certifié" if all(validated) else
                "Validation partielle" if any(validated) else "Non certifié")
    assert mine["decision"] == expected
