"""The documents step after the exam prepares its data without holding the whole session's
evidence: sealing, the outcomes and the jurors' observations are read from the register by
lots, the seal's fingerprint is hashed as it is written (issue 21), and the files written are
kept as their names."""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import pytest
from hostiletools import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

PETITE, GRANDE = 24, 96
"""Candidates of the two sessions whose preparation is measured (4× apart)."""

RAPPORT_MAX = 1.6
"""The preparation's peak (Python allocations) at GRANDE over its peak at PETITE, passages read
by lots of 4. Reading every passage's evidence at once, to seal, to take the outcomes and to
hash the canonical JSON of them all, gave 2.25 (measured 30/11/2026); by lots, 1.27: what
remains proportional to the session is its outcomes and certificates, which the documents
print."""


def _session(root: Path, n: int, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The benchmark's session of ``n`` candidates, grids filled, results recorded (by lots
    of 4, as a network's session is by lots of pipeline.LOT_RESULTATS: the register's
    journal then has one entry per lot, and the control reads JOURNAL_PAGE entries at a
    time whatever the session's size)."""
    from bench import build_workspace, simulate_jurors_parallel

    from certidocs import api, pipeline

    monkeypatch.setattr(pipeline, "LOT_RESULTATS", 4)

    root.mkdir(parents=True, exist_ok=True)
    folder = build_workspace(root, n)
    api.grilles(folder)
    simulate_jurors_parallel(folder)
    api.resultats(folder)
    return folder


def _pic_preparation(folder: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """The peak of Python allocations (bytes) while the documents after the exam are
    prepared (sealing, outcomes, certificates, observations), the session already read."""
    from certidocs import deliberation, production
    from certidocs.pipeline import open_checked

    monkeypatch.setenv("CERTIDOCS_PROCESSUS", "1")
    monkeypatch.setattr(deliberation, "PASSAGES_LOT", 4, raising=False)
    monkeypatch.setattr(production, "EXPORT_LECTURE", 1024)
    opened = open_checked(folder)
    tracemalloc.start()
    try:
        with production._dossier_donnees(folder) as data:
            lot = production._prepare(folder, opened, "apres", None, data)
            assert lot.donnees.magasin is not None
            assert len(lot.donnees.magasin) == len(opened.lecture.session.candidats)
            return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_documents_preparation_memory_does_not_grow_with_the_evidence(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folders = [_session(tmp_path / str(n), n, monkeypatch) for n in (PETITE, GRANDE)]
    peaks = [_pic_preparation(folder, monkeypatch) for folder in folders]
    assert peaks[1] / peaks[0] <= RAPPORT_MAX, peaks


def test_files_written_are_kept_as_names(tmp_path: Path) -> None:
    """A batch's files read as lists of paths (indexes, slices, equality, ``+=``), stored as
    one folder and names."""
    from certidocs.documents.render import Fichiers, ListeFichiers

    a = Fichiers(tmp_path / "a", ["1.docx", "2.docx"])
    b = Fichiers(tmp_path / "b", ["3.docx"])
    assert a == [tmp_path / "a" / "1.docx", tmp_path / "a" / "2.docx"]
    assert a[-1] == tmp_path / "a" / "2.docx" and a[:1] == [tmp_path / "a" / "1.docx"]
    every = ListeFichiers()
    every += a
    every += [tmp_path / "c.docx"]
    every += ListeFichiers([b])
    assert len(every) == 4 and list(every) == [*a, tmp_path / "c.docx", *b]
    assert every[2] == tmp_path / "c.docx" and every[-1] == b[0]
    assert every[1:3] == [a[1], every[2]]
    before = [tmp_path / "x"]
    assert before + every == [tmp_path / "x", *every]
    with pytest.raises(IndexError):
        every[4]


@pytest.mark.parametrize("step", ["grilles", "resultats", "documents"])
def test_each_session_step_gives_freed_memory_back_before_and_after(
        step: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A process running the steps one after the other (console, script, make bench) does not
    carry one step's high-water into the next: each step trims before it starts and after it
    ends, an error included."""
    import certidocs.documents.pdf as pdf_module
    from certidocs import api
    from certidocs.errors import CertidocsError

    trims: list[str] = []
    monkeypatch.setattr(pdf_module, "release_memory", lambda: trims.append("trim"))
    with pytest.raises(CertidocsError):  # no session there: the step fails at once
        getattr(api, step)(tmp_path / "absente")
    assert trims == ["trim", "trim"]


def test_bench_sums_what_each_process_holds_of_its_own() -> None:
    """The bench's « Python ensemble » counts a process's PSS; a process gone (or between fork
    and exec) counts nothing rather than its parent's pages once more."""
    import os

    from benchmarks.bench import TreeMemory

    own = TreeMemory._pss_mib(os.getpid())
    assert own is not None and own > 1
    assert TreeMemory._pss_mib(2 ** 22 + 12345) == 0.0  # beyond pid_max: no such process


def test_bench_counts_the_processor_time_of_its_python_children() -> None:
    """The PDF conversion runs in a Python child of its own: the bench counts its processor
    time as certidocs's, not LibreOffice's (ru_children cannot tell them apart)."""
    import subprocess
    import sys
    import time

    from benchmarks.bench import TreeMemory

    memory = TreeMemory()
    child = subprocess.Popen([sys.executable, "-c",
                              "import time\nt = time.process_time()\n"
                              "while time.process_time() - t < 0.6: pass\ntime.sleep(5)"])
    try:
        deadline = time.monotonic() + 20
        while memory.python_children_cpu() < 0.5 and time.monotonic() < deadline:
            memory._sample_child_cpu()
            time.sleep(0.05)
        assert 0.5 <= memory.python_children_cpu() < 5
    finally:
        child.kill()
        child.wait()


def test_candidates_pickled_for_the_workers_leave_nothing_on_them() -> None:
    """The documents step pickles the session's candidates, which the main process keeps to
    the end, into its store and its workers' jobs. Pickling an instance with a ``__dict__``
    makes that dict for good: two small allocations per candidate, made among the step's
    garbage (20,020 allocations, 742 KiB, outlived the preparation at 10,000 candidates,
    tracemalloc, 01/12/2026, and held the arenas around them). A Candidat has slots, so
    pickling it leaves nothing behind (names in ASCII here, whose UTF-8 form is the string
    itself)."""
    import dataclasses
    import gc
    import pickle

    from test_documents_data import candidats

    first = candidats()[0]
    many = [dataclasses.replace(first, numero=f"{i:05d}", prenom=f"Prenom{i}",
                                nom_naissance=f"NOM{i}") for i in range(2000)]
    pickle.dumps(many[:1])  # pickle's own first-use allocations
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        pickle.dumps(many, protocol=pickle.HIGHEST_PROTOCOL)
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    kept = sum(s.count_diff for s in after.compare_to(before, "filename") if s.count_diff > 0)
    assert kept < len(many) / 10, kept
