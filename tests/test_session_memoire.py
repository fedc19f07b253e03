"""read_session's memory grows with the candidates it returns, not with the cells it reads."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

import certidocs.classeur
from certidocs.session.reader import read_session

SMALL = 50
"""Candidates of the smaller session; the larger has four times as many."""

PEAK_RATIO = 1.6
"""Highest tracemalloc peak of read_session at 4 × SMALL candidates over its peak at SMALL,
sheets streamed: measured 1.29 (2026-11-30, rows read one at a time: the peak is the fixed cost
of opening the workbook plus the candidates kept) where reading every cell first measured
2.48 (cells of every sheet, then a table of them, then records, all alive at once)."""


def _peak(folder: Path) -> int:
    tracemalloc.start()
    try:
        read_session(folder)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_read_session_peak_does_not_grow_with_the_cells(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks.bench import build_workspace

    # Every sheet streamed, as a 10 000-candidate one is: a small part is otherwise parsed
    # whole (fast), its bytes weighing with the session up to WHOLE_PART.
    monkeypatch.setattr(certidocs.classeur, "WHOLE_PART", 0)
    folders = {}
    for n in (SMALL, 4 * SMALL):
        (tmp_path / str(n)).mkdir()
        folders[n] = build_workspace(tmp_path / str(n), n)
    lecture = read_session(folders[SMALL])  # imports and caches out of the measure
    assert len(lecture.session.candidats) == SMALL
    small, large = _peak(folders[SMALL]), _peak(folders[4 * SMALL])
    assert large / small <= PEAK_RATIO, (small, large)
