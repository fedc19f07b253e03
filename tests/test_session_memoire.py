"""read_session's memory grows with the candidates it returns, not with the cells it reads."""

from __future__ import annotations

import subprocess
import sys
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


RSS_CANDIDATES = 4000
"""Candidates of the session whose reading is measured in RSS: a « Candidats » sheet of
about 2 MB of XML, which the old WHOLE_PART (4 MiB) parsed whole."""

RSS_GROWTH_MIO = 16
"""Most RSS (MiB) read_session may add to the process on RSS_CANDIDATES candidates:
measured +0.5 MiB streamed, +37 MiB parsed whole (lxml's tree is outside tracemalloc's
sight, hence a measure of the process)."""

_MEASURE = """
import sys, time
from pathlib import Path
from certidocs.session.reader import read_session
def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) / 1024
read_session(Path(sys.argv[1]))  # imports and caches out of the measure
open("/proc/self/clear_refs", "w").write("5")  # peak RSS starts again from now
base = rss("VmRSS")
read_session(Path(sys.argv[1]))
print(rss("VmHWM") - base)
"""


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="Linux seulement")
def test_read_session_rss_does_not_grow_with_a_large_sheet(tmp_path: Path) -> None:
    """The process's peak RSS while reading session.xlsx: lxml's trees count too."""
    from benchmarks.bench import build_workspace

    folder = build_workspace(tmp_path, RSS_CANDIDATES)
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(folder)], capture_output=True,
                          text=True, check=True, timeout=300)
    growth = float(done.stdout.strip().splitlines()[-1])
    assert growth <= RSS_GROWTH_MIO, growth
