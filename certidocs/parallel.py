"""Spread independent per-candidate work over the machine's cores, where it pays.

Grids and grid readings are independent, CPU-bound and each takes tens of milliseconds: with
hundreds of candidates a process pool divides the wall time by the number of cores. For a
handful of candidates starting processes costs more than it saves, so small batches run in
the calling process. Results come back in the order of the inputs, whatever order the
workers finish in, so outputs stay deterministic.

``parallel_imap`` does the same over a stream: items are pulled only as workers need them and
only a few chunks are in flight, so that a session of any size takes the same memory.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

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


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Around a pool of forked workers: the objects this process holds are moved out of the
    cyclic garbage collector's sight (``gc.freeze``) until the workers are done.

    A forked worker shares its parent's pages until it writes to them, and every full
    collection in the worker writes into the header of each object it tracks, its parent's
    included: each full collection made the worker copy every page holding one of the
    parent's objects (the session and the référentiel the rendering process read), so that
    the workers' memory grew with the session. Frozen objects are skipped by collections, in
    the parent and in the workers alike (Python's documentation of ``gc.freeze``: call it
    just before ``fork()``). Measured on the documents stage of the bench's sessions (no
    PDF, 01/12/2026), the peak of the sum of the PSS of certidocs's processes: 194.0 MiB at
    1,000 candidates and 237.0 at 10,000 (1.22) before, 174.2 and 204.5 (1.17) with it; a
    worker of the after-exam stage at 10,000, 68.6-71.5 MiB of PSS before, 55.9-56.5 with it.
    The objects are given back to the collector afterwards (``gc.unfreeze``), so that
    nothing the parent let go of meanwhile stays uncollected; nested uses unfreeze once, at
    the outermost exit.
    """
    if not hasattr(os, "fork") or gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


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
    with frozen_heap(), ProcessPoolExecutor(max_workers=n, mp_context=context) as pool:
        for i, result in enumerate(pool.map(fn, items, chunksize=chunk), start=1):
            results.append(result)
            if progress:
                progress(i, total)
    return results


def _run_chunk(fn: Callable[[T], R], chunk: list[T]) -> list[R]:
    return [fn(item) for item in chunk]


def parallel_imap(fn: Callable[[T], R], items: Iterable[T], *,
                  initializer: Callable[..., object] | None = None,
                  initargs: tuple[Any, ...] = (), chunk: int = 8,
                  ahead: int = 2) -> Iterator[R]:
    """``fn(x)`` for each item of ``items``, yielded in the order of the items, lazily.

    Items are taken from ``items`` in chunks of ``chunk`` as workers need them, with at most
    ``ahead`` chunks per worker in flight: neither the items nor the results are ever all in
    memory. Results come back in order, so one slow item holds the results behind it: a larger
    ``ahead`` lets the other workers go on meanwhile, at the cost of more items in flight. Each
    worker runs ``initializer(*initargs)`` once before its first item (per-worker state: caches,
    data shared by every item, sent once instead of with each item). With one worker, or fewer
    than MIN_PARALLEL items in all, everything runs in the calling process, ``initializer``
    included. ``fn`` and ``initializer`` must be module-level functions, items picklable. An
    exception raised by ``fn`` or while iterating ``items`` propagates once the work still in
    flight is cancelled.
    """
    iterator = iter(items)
    head = list(itertools.islice(iterator, MIN_PARALLEL))
    n = workers()
    if n == 1 or len(head) < MIN_PARALLEL:
        if initializer is not None:
            initializer(*initargs)
        for item in itertools.chain(head, iterator):
            yield fn(item)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    stream = itertools.chain(head, iterator)
    pending: deque[Future[list[R]]] = deque()
    with frozen_heap(), ProcessPoolExecutor(max_workers=n, mp_context=context,
                                            initializer=initializer, initargs=initargs) as pool:
        try:
            while True:
                batch = list(itertools.islice(stream, max(1, chunk)))
                if batch:
                    pending.append(pool.submit(_run_chunk, fn, batch))
                while pending and (not batch or len(pending) >= max(1, ahead) * n):
                    yield from pending.popleft().result()
                if not batch:
                    return
        except BaseException:
            # Nothing more is needed: do not wait for the chunks queued behind a failure.
            pool.shutdown(wait=True, cancel_futures=True)
            raise
