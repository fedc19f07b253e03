"""Run a hostile input in a child process with bounded memory and CPU, and measure it.

A test of a resource bound must be able to fail without taking the machine down: the child
gets an address-space limit (RLIMIT_AS) and a CPU-time limit (RLIMIT_CPU); its peak resident
memory comes back from ``os.wait4`` (``ru_maxrss`` of that child alone, in KiB on Linux).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

GIB = 1024 ** 3
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Bounded:
    """What a bounded child did: exit code, output, and its peak RSS in MiB."""

    code: int
    stdout: str
    stderr: str
    peak_mib: float


def run_bounded(args: list[str], *, memory: int = GIB, cpu_seconds: int = 60,
                cwd: Path | None = None) -> Bounded:
    """Run ``python args…`` (``-m certidocs …`` or ``-c CODE``) under the limits."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, *args], stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL, preexec_fn=limit, cwd=cwd,
                                env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
                                     "CERTIDOCS_PROCESSUS": "1", "LANG": "C.UTF-8"})
        # wait4 gives this child's own resource usage (RUSAGE_CHILDREN would mix every child
        # the test process ever waited for, LibreOffice included).
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Bounded(proc.returncode, out.read().decode("utf-8", "replace"),
                       err.read().decode("utf-8", "replace"), usage.ru_maxrss / 1024)
