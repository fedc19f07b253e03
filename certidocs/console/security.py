"""Who may use the console, and what a request may name.

The console listens on 127.0.0.1 only and, as Jupyter does, asks for a secret token: given once
in the address printed at start, it is then kept in a cookie (HttpOnly, SameSite=Strict). Every
form carries a CSRF token derived from it. Only ``/verifier`` (and the static files) answer
without it: that page is meant to be served publicly behind a reverse proxy, and is
rate-limited. No path taken from a request ever leaves the workspace.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

PUBLIC_PREFIXES = ("/verifier", "/static/")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
SESSION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")

# /verifier: per client, and for everyone together (behind a proxy all may share one address).
VERIFIER_PAR_CLIENT = 20
VERIFIER_TOUS = 300
VERIFIER_FENETRE_S = 60.0


@dataclass
class Secrets:
    """The console's token and the CSRF token derived from it, for one run of the server."""

    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    cookie: str = "certidocs_console"

    @property
    def csrf(self) -> str:
        """The value every form must send back in its ``csrf`` field."""
        return hmac.new(self.token.encode(), b"csrf", hashlib.sha256).hexdigest()

    def token_ok(self, value: str | None) -> bool:
        """Whether ``value`` is the console's token (constant-time)."""
        return bool(value) and hmac.compare_digest(str(value), self.token)

    def csrf_ok(self, value: object) -> bool:
        """Whether a form's ``csrf`` field is the right one (constant-time)."""
        return isinstance(value, str) and hmac.compare_digest(value, self.csrf)


def is_public(path: str) -> bool:
    """Whether ``path`` answers without the token."""
    return path == "/verifier" or path.startswith(PUBLIC_PREFIXES)


def host_ok(host_header: str) -> bool:
    """Whether the Host header names this machine (refuses DNS-rebinding pages)."""
    host = host_header.strip().lower()
    host = host.split("]")[0] + "]" if host.startswith("[") else host.split(":")[0]
    return host in LOCAL_HOSTS


def session_dir(sessions: Path, nom: str) -> Path | None:
    """The folder of session ``nom`` under ``sessions``, or None if the name is not a plain
    session name or no such session exists."""
    if not SESSION_NAME.match(nom) or ".." in nom:
        return None
    folder = (sessions / nom).resolve()
    if folder.parent != sessions.resolve() or not folder.is_dir():
        return None
    return folder


def file_in(root: Path, relative: str, allowed: tuple[str, ...]) -> Path | None:
    """The file ``relative`` inside ``root`` (and under one of ``allowed`` first components),
    or None: no absolute path, no « .. », no hidden part, no link leading out."""
    parts = relative.replace("\\", "/").split("/")
    if (not relative or relative.startswith("/") or any(p in ("", ".", "..") for p in parts)
            or any(p.startswith(".") for p in parts) or parts[0] not in allowed):
        return None
    path = (root / Path(*parts)).resolve()
    if not path.is_relative_to(root.resolve()) or not path.is_file():
        return None
    return path


class RateLimiter:
    """A sliding window: at most ``per_client`` requests per client and ``overall`` in all
    during ``window`` seconds."""

    def __init__(self, per_client: int = VERIFIER_PAR_CLIENT, overall: int = VERIFIER_TOUS,
                 window: float = VERIFIER_FENETRE_S) -> None:
        self.per_client, self.overall, self.window = per_client, overall, window
        self._hits: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        """Count one request of ``client``; False when over either limit."""
        now = time.monotonic()
        with self._lock:
            for q in (self._all, self._hits.setdefault(client, deque())):
                while q and now - q[0] > self.window:
                    q.popleft()
            mine = self._hits[client]
            if len(mine) >= self.per_client or len(self._all) >= self.overall:
                return False
            mine.append(now)
            self._all.append(now)
            if len(self._hits) > 10_000:  # forget idle clients rather than grow without end
                self._hits = {k: v for k, v in self._hits.items() if v}
            return True
