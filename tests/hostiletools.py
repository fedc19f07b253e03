"""Run a hostile input in a child process with bounded memory and CPU, and measure it.

A test of a resource bound must be able to fail without taking the machine down: the child
gets an address-space limit (RLIMIT_AS), a CPU-time limit (RLIMIT_CPU) and a deadline; its peak
resident memory comes back from ``os.wait4`` (``ru_maxrss`` of that child alone, in KiB on
Linux), measured by a small launcher so that the test process's own memory is not counted.
"""

from __future__ import annotations

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
    timed_out: bool = False


# The measured command runs in a grandchild forked from this small launcher, never from the
# test process: a child forked from pytest (hundreds of MiB by the end of the suite) inherits
# its resident pages in ru_maxrss until exec, and the kernel keeps that high-water mark across
# exec, so the figure would measure pytest rather than certidocs.
_LAUNCHER = """
import json, os, resource, signal, sys, time
limit, cpu, deadline, report = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
pid = os.fork()
if pid == 0:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    os.execv(sys.executable, [sys.executable, *sys.argv[5:]])
end, late = time.monotonic() + deadline, False
while True:
    got, status, usage = os.wait4(pid, os.WNOHANG)
    if got:
        break
    if time.monotonic() > end:
        os.kill(pid, signal.SIGKILL)
        got, status, usage = os.wait4(pid, 0)
        late = True
        break
    time.sleep(0.02)
with open(report, "w") as fh:
    json.dump({"code": os.waitstatus_to_exitcode(status), "maxrss": usage.ru_maxrss,
               "late": late}, fh)
"""


def run_bounded(args: list[str], *, memory: int = GIB, cpu_seconds: int = 60,
                cwd: Path | None = None, env: dict[str, str] | None = None,
                deadline: float = 300.0) -> Bounded:
    """Run ``python args…`` (``-m certidocs …`` or ``-c CODE``) under the limits (address
    space ``memory``, CPU ``cpu_seconds``, wall clock ``deadline``: then killed and
    ``timed_out``); its own peak RSS comes back in MiB."""
    import json

    if env is None:
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "CERTIDOCS_PROCESSUS": "1",
               "LANG": "C.UTF-8"}
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "mesure.json"
        with open(Path(tmp) / "out", "wb") as out, open(Path(tmp) / "err", "wb") as err:
            subprocess.run([sys.executable, "-c", _LAUNCHER, str(memory), str(cpu_seconds),
                            str(deadline), str(report), *args], stdout=out, stderr=err,
                           stdin=subprocess.DEVNULL, cwd=cwd, env=env, check=False)
        data = json.loads(report.read_text(encoding="utf-8"))
        return Bounded(int(data["code"]),
                       (Path(tmp) / "out").read_bytes().decode("utf-8", "replace"),
                       (Path(tmp) / "err").read_bytes().decode("utf-8", "replace"),
                       data["maxrss"] / 1024, bool(data["late"]))
