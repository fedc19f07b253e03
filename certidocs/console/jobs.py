"""Long steps run in a background thread, one at a time per session, with their progress.

A page shows the running step of its session (« 120 / 1 000 ») and reloads itself until the
step ends; then the step's report (or its French error message, the CLI's own) stays on the
page. A second click while a step runs is refused with « déjà en cours ».
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Progress = Callable[[int, int], None]
log = logging.getLogger("certidocs.console")


@dataclass
class Job:
    """One step of one session: what it is, how far it got, and how it ended."""

    session: str
    etape: str
    libelle: str
    fait: int = 0
    total: int = 0
    fini: bool = False
    erreur: str = ""
    resultat: Any = None
    debut: float = field(default_factory=time.monotonic)
    duree: float = 0.0

    def progress(self, done: int, total: int) -> None:
        """The step's progress callback (``api`` functions call it as items are done)."""
        self.fait, self.total = done, total

    @property
    def pourcentage(self) -> int:
        """Progress in percent (0 while unknown)."""
        return int(100 * self.fait / self.total) if self.total else 0


class Jobs:
    """The console's steps: the one running per session, and the last of each kind."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, Job] = {}
        self._last: dict[tuple[str, str], Job] = {}

    def start(self, session: str, etape: str, libelle: str,
              work: Callable[[Progress], Any]) -> Job | None:
        """Run ``work(progress)`` in the background; None if ``session`` already runs one."""
        with self._lock:
            if session in self._running:
                return None
            job = Job(session, etape, libelle)
            self._running[session] = job
        threading.Thread(target=self._run, args=(job, work), daemon=True,
                         name=f"certidocs-{session}-{etape}").start()
        return job

    def _run(self, job: Job, work: Callable[[Progress], Any]) -> None:
        from certidocs.api import message_erreur

        try:
            job.resultat = work(job.progress)
        except Exception as exc:  # shown as the CLI shows it; the trace only when debugging
            job.erreur = message_erreur(exc)
            if os.environ.get("CERTIDOCS_DEBUG"):
                log.exception("étape %s de %s", job.etape, job.session)
        finally:
            job.duree = time.monotonic() - job.debut
            job.fini = True
            with self._lock:
                self._running.pop(job.session, None)
                self._last[(job.session, job.etape)] = job

    def running(self, session: str) -> Job | None:
        """The step running for ``session``, if any."""
        return self._running.get(session)

    def last(self, session: str, etape: str) -> Job | None:
        """The last finished step ``etape`` of ``session``."""
        return self._last.get((session, etape))

    def wait(self, session: str, timeout: float = 60.0) -> None:
        """Block until ``session`` runs nothing (for scripts and tests)."""
        end = time.monotonic() + timeout
        while self.running(session) is not None and time.monotonic() < end:
            time.sleep(0.05)
