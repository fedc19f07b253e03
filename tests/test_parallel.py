"""certidocs.parallel: forked workers do not copy their parent's objects by collecting them."""

from __future__ import annotations

import gc
import os

import pytest

from certidocs.parallel import MIN_PARALLEL, frozen_heap, parallel_imap, parallel_map

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="fork: Linux et macOS")


def _frozen_in_worker(_: int) -> tuple[int, int]:
    """(this process, objects the collector may not see here)."""
    return os.getpid(), gc.get_freeze_count()


def _start() -> None:
    pass


@pytest.fixture
def two_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CERTIDOCS_PROCESSUS", "2")


@pytest.mark.usefixtures("two_workers")
def test_a_worker_of_parallel_map_does_not_collect_its_parents_objects() -> None:
    held = [[i] for i in range(10_000)]  # tracked by the collector, made before the fork
    out = parallel_map(_frozen_in_worker, list(range(MIN_PARALLEL * 2)))
    workers = {pid for pid, _ in out}
    assert os.getpid() not in workers, "the items ran in this process: no fork to check"
    assert min(frozen for _, frozen in out) >= len(held)
    assert gc.get_freeze_count() == 0, "the parent's objects were not given back to the collector"


@pytest.mark.usefixtures("two_workers")
def test_a_worker_of_parallel_imap_does_not_collect_its_parents_objects() -> None:
    held = [[i] for i in range(10_000)]
    out = list(parallel_imap(_frozen_in_worker, range(MIN_PARALLEL * 2), initializer=_start))
    assert os.getpid() not in {pid for pid, _ in out}
    assert min(frozen for _, frozen in out) >= len(held)
    assert gc.get_freeze_count() == 0


def test_frozen_heap_nested_unfreezes_once_at_the_outermost_exit() -> None:
    with frozen_heap():
        outer = gc.get_freeze_count()
        assert outer > 0
        with frozen_heap():
            pass
        assert gc.get_freeze_count() == outer
    assert gc.get_freeze_count() == 0


def test_frozen_heap_gives_the_objects_back_when_the_work_fails() -> None:
    with pytest.raises(ZeroDivisionError), frozen_heap():
        _ = 1 / 0
    assert gc.get_freeze_count() == 0
