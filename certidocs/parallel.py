"""Spread independent per-candidate work over the machine's cores, where it pays.

Grids and grid readings are independent, CPU-bound and each takes tens of milliseconds: with
hundreds of candidates a process pool divides the wall time by the number of cores. For a
handful of candidates starting processes costs more than it saves, so small batches run in
the calling process. Results come back in the order of the inputs, whatever order the
workers finish in, so outputs stay deterministic.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_PARALLEL = 24  # below this many items, the pool's start-up is not worth it


def workers() -> int:
    """How many worker processes to use (CERTIDOCS_PROCESSUS overrides; 1 disables)."""
    configured = os.environ.get("CERTIDOCS_PROCESSUS")
    if configured and configured.isdigit() and int(configured) > 0:
        return int(configured)
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else (os.cpu_count() or 1))


def parallel_map(fn: Callable[[T], R], items: Sequence[T],
                 progress: Callable[[int, int], None] | None = None) -> list[R]:
    """``[fn(x) for x in items]``, over several processes when there are enough items.

    ``fn`` must be a module-level function and items picklable. An exception raised by ``fn``
    for any item propagates (after the pool is shut down).
    """
    total = len(items)
    n = workers()
    if n == 1 or total < MIN_PARALLEL:
        out = []
        for i, item in enumerate(items, start=1):
            out.append(fn(item))
            if progress:
                progress(i, total)
        return out
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    chunk = max(1, min(16, total // (n * 4)))
    results: list[R] = []
    with ProcessPoolExecutor(max_workers=n, mp_context=context) as pool:
        for i, result in enumerate(pool.map(fn, items, chunksize=chunk), start=1):
            results.append(result)
            if progress:
                progress(i, total)
    return results
