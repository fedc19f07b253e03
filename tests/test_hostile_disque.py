"""A hostile machine: full disk, read-only folder, rights refused, file locked.

The disk really fills and the folder really is read-only: each case runs the command in a
private mount namespace (``unshare``) on a small tmpfs, as root does in CI containers and as
any user can where user namespaces are enabled. Expected: one French message saying what
failed and what to do, exit 1, no traceback, no « Exception ignored », nothing half written.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sessiondata import make_session

from certidocs.cli import main
from certidocs.systeme import cause_systeme, message_systeme


def _namespace() -> list[str]:
    if shutil.which("unshare") is None:
        pytest.fail("unshare (util-linux) est nécessaire à ces tests")
    return ["unshare", "--mount"] if os.geteuid() == 0 else [
        "unshare", "--user", "--map-root-user", "--mount"]


def _run_on_small_disk(workspace: Path, size_kib: int, command: list[str], *,
                       fill: bool = False, read_only: bool = False) -> tuple[int, str, str]:
    """Copy ``workspace`` onto a tmpfs of ``size_kib`` (filled up, or remounted read-only),
    run ``certidocs command`` there; its exit code, output and the files left (``find``)."""
    disk = workspace.parent / "disque"
    disk.mkdir()
    out = workspace.parent
    script = [f"set -e; mount -t tmpfs -o size={size_kib}k tmpfs {disk}",
              f"cp -r {workspace} {disk}/e"]
    if fill:
        script.append(f"dd if=/dev/zero of={disk}/remplissage bs=1k 2>/dev/null || true")
    if read_only:
        script.append(f"mount -o remount,ro {disk}")
    certidocs = " ".join([sys.executable, "-m", "certidocs", *command])
    script += [f"cd {disk}/e", "set +e", f"{certidocs} > {out}/sortie.txt 2>&1",
               f"echo $? > {out}/code.txt",
               f"find . -newer certidocs.toml -type f > {out}/nouveaux.txt"]
    proc = subprocess.run([*_namespace(), "sh", "-c", "\n".join(script)],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "CERTIDOCS_PROCESSUS": "1"})
    if not (out / "code.txt").exists():
        pytest.fail(f"espace de test non monté : {proc.stderr}")
    return (int((out / "code.txt").read_text()), (out / "sortie.txt").read_text(),
            (out / "nouveaux.txt").read_text())


@pytest.fixture
def espace(tmp_path: Path, cli_runner: CliRunner) -> Path:
    root = tmp_path / "espace"
    assert cli_runner.invoke(main, ["init", str(root)]).exit_code == 0
    make_session(root / "sessions" / "s1")
    return root


def _clean(output: str) -> None:
    assert "Traceback" not in output and "Exception ignored" not in output
    assert "Erreur interne" not in output


def test_full_disk_registre_exporter(espace: Path) -> None:
    code, output, left = _run_on_small_disk(espace, 1024, ["registre", "exporter", "-o",
                                                         "registre.xlsx"], fill=True)
    assert code == 1, output
    assert "disque plein" in output and "libérez de la place" in output
    _clean(output)
    assert "registre.xlsx" not in left and ".tmp" not in left


def test_full_disk_grids_and_register(espace: Path) -> None:
    (espace / "registre.sqlite").unlink(missing_ok=True)
    code, output, left = _run_on_small_disk(espace, 1024, ["grilles", "sessions/s1"],
                                            fill=True)
    assert code == 1, output
    assert "disque plein" in output
    _clean(output)
    assert ".tmp" not in left


def test_read_only_folder(espace: Path) -> None:
    code, output, _ = _run_on_small_disk(espace, 4096, ["documents", "sessions/s1"],
                                         read_only=True)
    assert code == 1, output
    assert "lecture seule" in output and "dossier modifiable" in output
    _clean(output)


# --- what cannot be produced for real on every machine: the mapping itself ---------------------

@pytest.mark.parametrize(("exc", "expected"), [
    (OSError(errno.ENOSPC, "No space left on device", "a.xlsx"), "disque plein (a.xlsx)"),
    (PermissionError(errno.EACCES, "Permission denied", "b.docx"),
     "permission refusée (b.docx) : vérifiez que vous avez le droit d'écrire"),
    (OSError(errno.EROFS, "Read-only file system", "c"), "dossier en lecture seule"),
    (OSError(errno.EBUSY, "Device or resource busy", "d.xlsx"),
     "fichier verrouillé (d.xlsx) : fermez-le dans Word, Excel ou LibreOffice"),
    (OSError(errno.EIO, "Input/output error"), "erreur de lecture ou d'écriture du disque"),
    (sqlite3.OperationalError("database is locked"), "utilisé par une autre commande"),
    (sqlite3.OperationalError("cannot rollback - no transaction is active"), "disque plein"),
    (sqlite3.OperationalError("attempt to write a readonly database"), "lecture seule"),
    (sqlite3.DatabaseError("database disk image is malformed"), "est endommagé"),
])
def test_system_failures_in_french(exc: BaseException, expected: str) -> None:
    message = message_systeme(exc)
    assert message is not None and expected in message
    assert message.endswith("rien n'a été laissé à moitié écrit.")


def test_windows_sharing_violation_is_a_locked_file() -> None:
    exc = PermissionError(errno.EACCES, "Le processus ne peut pas accéder au fichier",
                          "session.xlsx")
    exc.winerror = 32  # type: ignore[attr-defined]
    assert "fichier verrouillé (session.xlsx)" in (message_systeme(exc) or "")


def test_library_error_caused_by_the_disk_is_told_as_the_disk() -> None:
    from certidocs.errors import RegistreError

    try:
        try:
            raise sqlite3.OperationalError("database or disk is full")
        except sqlite3.Error:
            raise RegistreError("registre.sqlite : ce n'est pas un registre lisible") from None
    except RegistreError as exc:
        assert "disque plein" in (cause_systeme(exc) or "")
    assert cause_systeme(RegistreError("autre chose")) is None
