"""A step run by a Python process of its own, started for it and ended with it.

What a step allocates dies with its process, where the process that called it would keep it:
Python's allocator returns a 1 MiB arena to the system only once every object in it is freed,
so a session's candidates, read among the garbage of their reading, pin their arenas long
after that garbage is gone. The caller (the ``documents`` command, the console serving
sessions all day) waits, holding only what it held before.

Used for the PDF conversion (certidocs.documents.pdf) and for the rendering of each stage's
documents (certidocs.production). The function, its arguments and its answer are pickled:
the function must be importable by name (a module-level function), its arguments and answer
picklable.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

EXIT_SECONDS = 60
"""How long a process apart may take to end (stopping its own children: rendering workers,
LibreOffice) once its caller was interrupted, before it is killed."""

PROGRESS_SECONDS = 0.1
"""At most one progress report from a process apart per this many seconds (the last one
always comes): 36,005 documents at 10,000 candidates would otherwise wake the caller, and
take a core from the rendering, 36,005 times."""

STOP_HOOKS: list[Callable[[], None]] = []
"""Called in a process apart when it is told to stop (Ctrl-C, SIGTERM, its caller's death),
before KeyboardInterrupt is raised in it: the PDF conversion stops handing out work."""

_MAIN = "from certidocs.apart import _apart_main; _apart_main()"


def run_apart(function: Callable[..., Any], *args: Any, lieu: str, arret: str,
              progress: Callable[[int, int], None] | None = None, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)`` run by a fresh Python (``sys.executable``, its
    ``PYTHONPATH`` led by certidocs's own folder): returns what it returns, raises what it
    raises. With ``progress``, ``function`` gets a ``progress`` keyword argument whose calls
    (done, total) are passed on here, at most every PROGRESS_SECONDS.

    The arguments go pickled on the process's standard input; its answers come back pickled
    on its standard output, what it prints goes to this process's standard error. An
    exception that is not a CertidocsError gets a note « dans le processus de ``lieu`` »
    holding the traceback over there. Raises LibreOfficeError « ``arret`` (code de sortie N) ;
    aucun document n'a été écrit » when the process ends without answering (killed, out of
    memory). Interrupted (Ctrl-C), this waits EXIT_SECONDS for the process to stop, then
    kills it. On Linux the process is sent SIGTERM if this one dies."""
    import certidocs
    from certidocs.errors import LibreOfficeError

    root = str(Path(certidocs.__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    payload = pickle.dumps((function.__module__, function.__qualname__, args, kwargs, lieu,
                            progress is not None), protocol=pickle.HIGHEST_PROTOCOL)
    proc = subprocess.Popen([sys.executable, "-c", _MAIN, str(os.getpid())],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    assert proc.stdin is not None and proc.stdout is not None
    answer: tuple[str, Any] | None = None
    try:
        with contextlib.suppress(BrokenPipeError):  # it died at once: said below
            proc.stdin.write(payload)
            proc.stdin.close()
        while answer is None:
            try:
                message = pickle.load(proc.stdout)
            except (EOFError, pickle.UnpicklingError):
                break
            if message[0] == "progres":
                if progress is not None:
                    progress(*message[1:])
            else:
                answer = message
        proc.stdout.close()
        proc.wait()
    except BaseException:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=EXIT_SECONDS)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        raise
    if answer is None:
        raise LibreOfficeError(f"{arret} (code de sortie {proc.returncode}) ; aucun document "
                               f"n'a été écrit")
    status, value = answer
    if status == "erreur":
        raise value
    return value


def _apart_main() -> None:
    """The process apart (see ``run_apart``; its caller's pid is its first argument): reads
    what to call, answers ("progres", done, total)… then ("ok", value) or ("erreur",
    exception). Ctrl-C, SIGTERM, and on Linux its caller's death stop it: STOP_HOOKS are
    called, then KeyboardInterrupt is raised, which ends the work under way."""
    import importlib
    import signal

    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed goes to standard error, not into the answers

    def stop(*_: Any) -> None:
        for hook in STOP_HOOKS:
            hook()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    _die_with(int(sys.argv[1]))
    module, name, args, kwargs, lieu, follow = pickle.load(sys.stdin.buffer)
    if follow:
        kwargs["progress"] = _Progress(answers)
    function: Any = importlib.import_module(module)
    for part in name.split("."):
        function = getattr(function, part)
    try:
        result: tuple[str, Any] = ("ok", function(*args, **kwargs))
    except KeyboardInterrupt:
        sys.exit(130)  # the caller was interrupted too, and says so
    except Exception as exc:  # handed to the caller, which raises it
        from certidocs.errors import CertidocsError

        if not isinstance(exc, CertidocsError):  # a fault of certidocs: where it happened
            import traceback

            exc.add_note(f"dans le processus de {lieu} :\n" + "".join(
                traceback.format_exception(exc)).rstrip())
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:  # an exception that cannot travel: its text and notes do
            text = (CertidocsError(str(exc)) if isinstance(exc, CertidocsError)
                    else RuntimeError(f"{type(exc).__name__}: {exc}"))
            for note in getattr(exc, "__notes__", []):
                text.add_note(note)
            exc = text
        result = ("erreur", exc)
    with answers:
        pickle.dump(result, answers, protocol=pickle.HIGHEST_PROTOCOL)


class _Progress:
    """The ``progress`` callback of a process apart: (done, total) sent to the caller, at
    most every PROGRESS_SECONDS, and always when done reaches total."""

    def __init__(self, answers: Any) -> None:
        self._answers = answers
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < PROGRESS_SECONDS:
            return
        self._last = now
        pickle.dump(("progres", done, total), self._answers)
        self._answers.flush()


def _die_with(parent: int) -> None:
    """On Linux, have SIGTERM sent to this process when ``parent`` (the process that started
    it) dies, and stop at once if it is already gone: killed, the ``documents`` command would
    otherwise leave its process apart working to the end of its batch, LibreOffice included.
    Elsewhere nothing is done (the work then ends with its batch). Linux sends it when the
    thread that started this process ends: ``run_apart`` waits on that thread."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1  # <linux/prctl.h>
    try:
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, int(signal.SIGTERM))
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)
