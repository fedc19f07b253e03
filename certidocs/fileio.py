"""Atomic writes: a file is either absent, the old version, or the complete new one.

Every output of certidocs goes through ``atomic_path``: the content is written to a temporary
file in the same folder (same file system, so the rename is atomic), flushed to disk, then
renamed over the target. A crash in the middle leaves at most a stray ``.tmp`` file that the
next run ignores.
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@functools.cache
def _umask() -> int:
    # Reading the umask means setting it: done once per process.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(target: Path, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path to write to; on success it replaces ``target``.

    With ``overwrite=False`` an existing target is never replaced (FileExistsError), checked
    again at the last moment so that two runs cannot both write it.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp makes owner-only files; an output is an ordinary document to share.
        tmp.chmod(0o666 & ~_umask())
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, target)
        else:
            # link() fails if target exists: no window where another writer's file is replaced.
            os.link(tmp, target)
            tmp.unlink()
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_bytes_atomic(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
