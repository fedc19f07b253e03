"""Hardening — no data loss: a crash leaves no half-written file, and nothing typed is lost.

Real crashes: ``certidocs`` runs in a subprocess that is stopped by SIGKILL (no cleanup, no
``finally``) while it writes a grid, resultats.json, resultats.xlsx or the register. To kill it
at a known moment, a tiny driver wraps one write so that it writes half of the file, says so in
a marker file and sleeps; the test then kills the whole process group. Afterwards every
.xlsx/.json of the folder must reopen, leftovers must be hidden ``.*.tmp`` files, the previous
version of each output must be intact, and the next run must complete.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from gridtools import INFO, SESSION, candidat, fill, make_grid, protection, synthetic
from openpyxl import load_workbook
from sessiondata import CANDIDATS, fill_grids, make_session

from certidocs.cli import main
from certidocs.errors import GrilleError
from certidocs.grid.reader import read_grid
from certidocs.grid.writer import GridWriter, grid_filename
from certidocs.registre import Registre
from certidocs.session import open_session
from certidocs.signature import ensure_keys
from certidocs.simulation import fill_grid
from certidocs.workspace import find_workspace

pytestmark = pytest.mark.skipif(not hasattr(os, "killpg"), reason="SIGKILL : POSIX seulement")

# Runs certidocs' CLI after wrapping one kind of write; at the Nth such write it writes half of
# the data, leaves a marker and sleeps until killed.
DRIVER = textwrap.dedent('''
    import io, os, pathlib, sys, time
    marker = pathlib.Path(os.environ["HARDENING_MARKER"])
    point, nth = os.environ["HARDENING_POINT"], int(os.environ["HARDENING_NTH"])
    calls = [0]

    def due():
        calls[0] += 1
        return calls[0] == nth

    def crash_after(path, data):
        if path is not None:
            with open(path, "wb") as fh:
                fh.write(data[: len(data) // 2])
                fh.flush()
                os.fsync(fh.fileno())
        marker.write_text(str(path))
        time.sleep(600)

    if point == "write_bytes":
        original = pathlib.Path.write_bytes
        def write_bytes(self, data):
            if due():
                crash_after(self, data)
            return original(self, data)
        pathlib.Path.write_bytes = write_bytes
    elif point == "json_copy":
        # resultats.json is written as a stream, then copied in place: crash in that copy.
        import shutil
        original_copy = shutil.copyfileobj
        def copyfileobj(source, target, length=0):
            if ".resultats.json." in str(getattr(target, "name", "")) and due():
                data = source.read().encode("utf-8")
                target.flush()
                crash_after(target.name, data)
            return original_copy(source, target)
        shutil.copyfileobj = copyfileobj
    elif point == "xlsx_save":
        from openpyxl import Workbook
        original_save = Workbook.save
        def save(self, filename):
            if due():
                buffer = io.BytesIO()
                original_save(self, buffer)
                crash_after(filename, buffer.getvalue())
            return original_save(self, filename)
        Workbook.save = save
    elif point == "registre":
        from certidocs.registre import Registre
        original_passage = Registre.enregistrer_passage
        def enregistrer_passage(self, conn, **kw):
            original_passage(self, conn, **kw)
            if due():
                crash_after(None, b"")
        Registre.enregistrer_passage = enregistrer_passage
    elif point == "first_grid":
        # No wrapping: the test kills as soon as a grid appears, whatever is being written.
        pass

    from certidocs.cli import main
    main(sys.argv[1:], prog_name="certidocs")
''')


def _workspace(root: Path) -> Path:
    (root / "certidocs.toml").write_text('[grilles]\nmot_de_passe = ""\n', encoding="utf-8")
    ensure_keys(root)
    return root


def _rows(n: int) -> list[dict[str, Any]]:
    """``n`` candidates (001 first, as the planning expects)."""
    base = CANDIDATS[0]
    return [{**base, "N° candidat": f"{i:03d}", "Nom de naissance": f"Martin{i}",
             "Prénom": "Léa", "Email": f"lea{i}@exemple.fr"} for i in range(1, n + 1)]


def _start(cwd: Path, args: list[str], point: str, nth: int = 1,
           processes: int = 1) -> tuple[subprocess.Popen[bytes], Path]:
    marker = cwd / "marqueur-du-test"
    env = {**os.environ, "HARDENING_MARKER": str(marker), "HARDENING_POINT": point,
           "HARDENING_NTH": str(nth), "CERTIDOCS_PROCESSUS": str(processes)}
    env.pop("CERTIDOCS_DEBUG", None)
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    return proc, marker


def _kill_when(proc: subprocess.Popen[bytes], ready: Any, what: str) -> None:
    """SIGKILL the process and its children as soon as ``ready()`` holds."""
    deadline = time.monotonic() + 120
    while not ready():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"{what} : le processus a fini avant d'être tué ({proc.returncode}) "
                        f"{out.decode()} {err.decode()}")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"{what} : jamais atteint")
        time.sleep(0.002)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL


def _check_outputs(folder: Path) -> list[Path]:
    """Every visible .xlsx/.json reopens; returns the leftovers, all hidden temporaries."""
    leftovers = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name == "marqueur-du-test":
            continue
        if path.name.startswith("."):
            assert path.name.endswith(".tmp"), path
            leftovers.append(path)
        elif path.suffix == ".xlsx":
            load_workbook(path).close()
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
    return leftovers


def _fill(folder: Path, numbers: set[str] | None = None, rate: float = 0.9) -> None:
    fill_grids(folder, rate, numbers)


def _all_grids_read_clean(folder: Path) -> int:
    opened = open_session(folder, find_workspace(folder))
    ref, session = opened.referentiel, opened.lecture.session
    for c in session.candidats:
        path = folder / "grilles" / grid_filename(c)
        reading = read_grid(path, referentiel=ref, session_nom=session.nom, candidat=c,
                            blocs=c.blocs(ref), fichier_affiche=path.name)
        assert reading.anomalies == (), reading.anomalies
    return len(session.candidats)


def _passages(root: Path) -> list[tuple[str, str]]:
    with Registre(root / "registre.sqlite") as reg:
        return [(r[0], r[1]) for r in reg.conn.execute(
            "SELECT numero, decision FROM passages ORDER BY numero")]


# --- grids ----------------------------------------------------------------------------------


def test_kill_during_grid_generation_leaves_no_half_grid(tmp_path: Path,
                                                         cli_runner: CliRunner) -> None:
    """Killed while the 4th of 6 grids is half written: three whole grids, one hidden
    temporary, no truncated .xlsx; the next run writes the rest and every grid reads clean."""
    folder = make_session(_workspace(tmp_path) / "s1", candidats=_rows(6))
    proc, marker = _start(tmp_path, ["grilles", "s1"], "write_bytes", nth=4)
    _kill_when(proc, marker.exists, "4e grille")
    leftovers = _check_outputs(folder)
    assert len(leftovers) == 1 and leftovers[0].parent == folder / "grilles"
    assert leftovers[0].stat().st_size > 0  # the half-written grid really was on disk
    assert len(list((folder / "grilles").glob("*.xlsx"))) == 3
    result = cli_runner.invoke(main, ["grilles", "s1"])
    assert result.exit_code == 0, result.output + result.stderr
    assert "3 grille(s) créée(s)" in result.output
    assert _all_grids_read_clean(folder) == 6
    assert _check_outputs(folder) == leftovers  # ignored: never taken for a grid


def test_kill_during_parallel_grid_generation(tmp_path: Path, cli_runner: CliRunner) -> None:
    """30 candidates over two worker processes, the whole group killed as soon as the first
    grid lands: whatever was in flight, nothing visible is truncated and a rerun completes."""
    folder = make_session(_workspace(tmp_path) / "s1", candidats=_rows(30))
    grids = folder / "grilles"
    proc, _ = _start(tmp_path, ["grilles", "s1"], "first_grid", processes=2)
    _kill_when(proc, lambda: grids.is_dir() and any(grids.glob("*.xlsx")), "1re grille")
    _check_outputs(folder)
    assert cli_runner.invoke(main, ["grilles", "s1"]).exit_code == 0
    assert _all_grids_read_clean(folder) == 30


# --- results --------------------------------------------------------------------------------


@pytest.fixture
def half_done(tmp_path: Path, cli_runner: CliRunner) -> Path:
    """A session whose results were computed once with 003's grid blank, then 003 filled."""
    folder = make_session(_workspace(tmp_path) / "s1")
    assert cli_runner.invoke(main, ["grilles", "s1"]).exit_code == 0
    _fill(folder, {"001", "002"})
    assert cli_runner.invoke(main, ["resultats", "s1"]).exit_code == 0
    _fill(folder, {"003"})
    return folder


def _decisions(folder: Path) -> list[str]:
    data = json.loads((folder / "resultats.json").read_text(encoding="utf-8"))
    return [c["decision"] for c in data["candidats"]]


@pytest.mark.parametrize(("point", "written"), [("xlsx_save", "resultats.xlsx"),
                                                ("json_copy", "resultats.json")])
def test_kill_during_results_keeps_the_previous_results(half_done: Path, tmp_path: Path,
                                                        cli_runner: CliRunner, point: str,
                                                        written: str) -> None:
    """Killed half-way through resultats.xlsx, or through resultats.json: the previous
    files are whole and unchanged; the next run writes the new results."""
    folder = half_done
    before = {n: (folder / n).read_bytes() for n in ("resultats.json", "resultats.xlsx")}
    assert _decisions(folder) == ["Certifié", "Validation partielle", "Incomplet"]
    proc, marker = _start(tmp_path, ["resultats", "s1"], point)
    _kill_when(proc, marker.exists, written)
    leftovers = _check_outputs(folder)
    assert [p.name.startswith(f".{written}.") for p in leftovers] == [True]
    if point == "json_copy":
        # resultats.xlsx is written first and is complete; resultats.json, the marker of
        # completion for `lancer`, still says the step is not done.
        assert (folder / "resultats.json").read_bytes() == before["resultats.json"]
    else:
        assert {n: (folder / n).read_bytes() for n in before} == before
    result = cli_runner.invoke(main, ["resultats", "s1"])
    assert result.exit_code == 0, result.output + result.stderr
    assert _decisions(folder) == ["Certifié", "Validation partielle", "Certifié"]
    rows = list(load_workbook(folder / "resultats.xlsx")["Résultats"].iter_rows(
        min_row=2, max_col=5, values_only=True))
    assert [r[4] for r in rows] == ["Certifié", "Validation partielle", "Certifié"]


def test_kill_while_recording_results_then_lancer_records_them(
        half_done: Path, tmp_path: Path, cli_runner: CliRunner) -> None:
    """Killed inside the register's transaction: the register keeps the first run's passages
    only, and resultats.json still says 003 is « Incomplet », so `lancer` knows the results
    are not done and records them (it used to say « déjà à jour » and lose the passages)."""
    folder = half_done
    assert _passages(tmp_path) == [("001", "Certifié"), ("002", "Validation partielle")]
    proc, marker = _start(tmp_path, ["resultats", "s1"], "registre", nth=3)
    _kill_when(proc, marker.exists, "3e passage enregistré")
    _check_outputs(folder)
    with Registre(tmp_path / "registre.sqlite") as reg:
        assert reg.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert _passages(tmp_path) == [("001", "Certifié"), ("002", "Validation partielle")]
    assert _decisions(folder)[2] == "Incomplet"
    result = cli_runner.invoke(main, ["lancer", "s1"])
    assert result.exit_code == 0, result.output + result.stderr
    assert "résultats calculés" in result.output
    assert _passages(tmp_path) == [("001", "Certifié"), ("002", "Validation partielle"),
                                   ("003", "Certifié")]


# --- the register ---------------------------------------------------------------------------

TRANSACTION = textwrap.dedent('''
    import datetime as dt, pathlib, sys, time
    from certidocs.registre import Registre
    reg = Registre(pathlib.Path(sys.argv[1]))
    with reg.transaction() as conn:
        sid = reg.session_id(conn, "sessions/tuee", "tuee", "CPECOM", dt.date(2027, 3, 1),
                             None, "Paris")
        for i in range(3000):
            # Big enough to overflow SQLite's page cache: uncommitted pages reach the file.
            reg.enregistrer_passage(
                conn, session_id=sid, nom_naissance=f"Tué{i}", prenom="Jamais",
                date_naissance=dt.date(1990, 1, 1), numero=f"{i:04d}", referentiel="CPECOM",
                date_session=dt.date(2027, 3, 1), voie_acces="VAE", decision="Certifié",
                detail={"bourrage": "x" * 2000}, blocs_valides=["BC01", "BC02"],
                identite={})
            if i == 10:
                reg.certificat(conn, session_id=sid, nom_naissance="Tué10", prenom="Jamais",
                               date_naissance=dt.date(1990, 1, 1), referentiel="CPECOM",
                               date_delivrance=dt.date(2027, 3, 5))
        pathlib.Path(sys.argv[2]).write_text("dans la transaction")
        time.sleep(600)
''')


def _snapshot(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in tables}
    finally:
        conn.close()


def test_register_survives_a_kill_in_the_middle_of_a_transaction(tmp_path: Path) -> None:
    """A process killed mid-transaction, its uncommitted pages already in the file: reopened,
    the register is consistent, holds exactly what was committed before, no partial row."""
    path = tmp_path / "registre.sqlite"
    born = dt.date(1990, 4, 3)
    with Registre(path) as reg, reg.transaction() as conn:
        sid = reg.session_id(conn, "sessions/s1", "s1", "CPECOM", dt.date(2026, 12, 15), None,
                             "Lyon")
        reg.enregistrer_passage(conn, session_id=sid, nom_naissance="Lefèvre", prenom="Élodie",
                                date_naissance=born, numero="001", referentiel="CPECOM",
                                date_session=dt.date(2026, 12, 15), voie_acces="Formation",
                                decision="Certifié", detail={}, blocs_valides=["BC01"],
                                identite={})
        reg.certificat(conn, session_id=sid, nom_naissance="Lefèvre", prenom="Élodie",
                       date_naissance=born, referentiel="CPECOM",
                       date_delivrance=dt.date(2026, 12, 18))
    before = _snapshot(path)
    marker = tmp_path / "pret"
    proc = subprocess.Popen([sys.executable, "-c", TRANSACTION, str(path), str(marker)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    _kill_when(proc, marker.exists, "transaction ouverte")
    journal = path.with_name(path.name + "-journal")
    assert journal.exists() and journal.stat().st_size > 0  # a hot journal: a real crash
    assert path.stat().st_size > 1_000_000  # the uncommitted rows had reached the file
    with Registre(path) as reg:
        assert reg.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert reg.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert reg.historique("Lefèvre", "Élodie", born, "CPECOM").blocs_capitalises == {"BC01"}
    assert _snapshot(path) == before
    with Registre(path) as reg, reg.transaction() as conn:  # and it takes new writes
        reg.session_id(conn, "sessions/s2", "s2", "CPECOM", None, None, "")
    assert len(_snapshot(path)["sessions"]) == 2


# --- input is never overwritten -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["observation seule", "classeur tronqué", "format .ods",
                                  "bombe zip"])
def test_grid_holding_input_is_never_overwritten(tmp_path: Path, cli_runner: CliRunner,
                                                 kind: str) -> None:
    """A grid with just an observation, or a file certidocs cannot read (it may be a juror's
    work): `grilles` and `lancer` keep it byte for byte and say so."""
    folder = make_session(_workspace(tmp_path) / "s1")
    assert cli_runner.invoke(main, ["grilles", "s1"]).exit_code == 0
    target = folder / "grilles" / "001_LEFEVRE_Elodie.xlsx"
    if kind == "observation seule":
        opened = open_session(folder, find_workspace(folder))
        c = opened.lecture.session.candidats[0]
        fill_grid(target, opened.referentiel, c.blocs(opened.referentiel), {},
                  {"BC01-C1.1": "Très bon oral"})
    elif kind == "classeur tronqué":
        target.write_bytes(target.read_bytes()[:5000])
    elif kind == "format .ods":
        target.write_bytes(b"PK\x03\x04" + b"\x00" * 26 + b"mimetypeapplication/vnd.oasis")
    else:
        import zipfile

        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("xl/worksheets/sheet2.xml", b" " * (60 * 1024 * 1024))
    before = target.read_bytes()
    (folder / "grilles" / "002_N-DIAYE_Moussa.xlsx").unlink()  # so that `lancer` regenerates
    result = cli_runner.invoke(main, ["grilles", "s1"])
    assert result.exit_code == 0, result.output + result.stderr
    assert "1 grille(s) déjà remplie(s) conservée(s)" in result.output
    assert "001_LEFEVRE_Elodie.xlsx" in result.output
    assert target.read_bytes() == before
    (folder / "grilles" / "002_N-DIAYE_Moussa.xlsx").unlink()
    assert cli_runner.invoke(main, ["lancer", "s1"]).exit_code == 0
    assert target.read_bytes() == before


def test_writer_refuses_to_replace_a_grid_with_input(tmp_path: Path) -> None:
    """Called directly, the writer refuses too (GrilleError) and leaves the file alone."""
    ref, cand = synthetic((3,)), candidat()
    path = fill(make_grid(tmp_path, ref, cand), ref, cand, {"B1-02": "Non acquis"})
    before = path.read_bytes()
    writer = GridWriter(referentiel=ref, session_nom=SESSION, session_info=INFO,
                        protection=protection())
    with pytest.raises(GrilleError, match="contient déjà des évaluations"):
        writer.write(path, cand, cand.blocs(ref))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
