"""Trust under crashes: certidocs killed (SIGKILL, no cleanup) inside `resultats`, sealing, a
revision, the certificates of `documents` and `accrochage exporter`; the register stays whole
and controls clean, no flux file exists without its register row, and running the step again
gives what a clean run gives.

A driver wraps one function of certidocs so that the process kills itself right after that
function returns (inside the surrounding transaction, or between a commit and the next write).
It is a ``sitecustomize`` module, so that it wraps the function in every Python process of
the run: the documents of a stage are prepared in a process of their own (certidocs.apart),
which is then the one killed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sessiondata import fill_grids, make_session, make_workspace

from certidocs.cli import main
from certidocs.registre import Registre

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL : POSIX seulement")

DRIVER = textwrap.dedent('''
    import importlib, os, signal, sys
    module, name = os.environ["TRUST_KILL"].rsplit(":", 1)
    owner = importlib.import_module(module)
    path = name.split(".")
    for part in path[:-1]:
        owner = getattr(owner, part)
    original = getattr(owner, path[-1])

    def wrapped(*args, **kwargs):
        result = original(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(owner, path[-1], wrapped)
''')

REGLAGES = """
[grilles]
mot_de_passe = ""
[organisme]
nom = "Organisme d'essai"
[accrochage]
id_client_emetteur = "ABCD1234"
id_contrat = "CONTRAT-0001"
"""


def _killed(cwd: Path, point: str, *args: str) -> int:
    """Run ``certidocs args`` in ``cwd``, the process that runs ``point`` killed as it
    returns: certidocs itself, or the process apart it started (certidocs then stops, exit 1,
    saying so)."""
    import tempfile

    with tempfile.TemporaryDirectory() as driver:
        (Path(driver) / "sitecustomize.py").write_text(DRIVER, encoding="utf-8")
        path = os.pathsep.join(p for p in (driver, os.environ.get("PYTHONPATH")) if p)
        env = {**os.environ, "TRUST_KILL": point, "CERTIDOCS_PROCESSUS": "1",
               "PYTHONPATH": path}
        proc = subprocess.run(
            [sys.executable, "-c", "import sys; from certidocs.cli import main; "
             "main(sys.argv[1:], prog_name='certidocs')", *args],
            cwd=cwd, env=env, capture_output=True, timeout=300)
    err = proc.stderr.decode()
    assert proc.returncode == -signal.SIGKILL or (
        proc.returncode == 1 and "(code de sortie -9)" in err), err
    return proc.returncode


def _run(runner: CliRunner, *args: str, code: int = 0) -> str:
    result = runner.invoke(main, list(args))
    out = result.output + result.stderr
    assert result.exit_code == code, out
    return out


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_workspace(tmp_path_factory.mktemp("espace"), REGLAGES, rncp="RNCP34825")
    folder = make_session(root / "s1")
    runner = CliRunner()
    _run(runner, "grilles", str(folder))
    fill_grids(folder, 1.0, {"001", "002"})
    fill_grids(folder, 0.2, {"003"})
    return root


@pytest.fixture
def espace(prepared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = Path(shutil.copytree(prepared, tmp_path / "espace"))
    monkeypatch.chdir(root)
    return root


def _state(root: Path) -> dict[str, Any]:
    """What a run leaves that matters: decisions, blocs, certificates, seals, flux rows."""
    with Registre(root / "registre.sqlite") as reg:
        assert reg.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert reg.controler() == []
        q = reg.conn.execute
        return {
            "passages": sorted(tuple(r) for r in q("SELECT numero, decision FROM passages")),
            "blocs": q("SELECT COUNT(*) FROM blocs_capitalises").fetchone()[0],
            "certificats": sorted(tuple(r) for r in q(
                "SELECT numero, revoque_le FROM certificats")),
            "scellements": q("SELECT COUNT(*) FROM scellements").fetchone()[0],
            "flux": [r[0] for r in q("SELECT fichier FROM flux")],
        }


def _decisions_json(root: Path) -> dict[str, str]:
    data = json.loads((root / "s1" / "resultats.json").read_text(encoding="utf-8"))
    return {c["numero"]: c["decision"] for c in data["candidats"]}


@pytest.mark.parametrize("point", [
    "certidocs.registre:Registre.enregistrer_passage",  # inside the transaction
    "certidocs.pipeline:_record",  # committed, exports not written yet
])
def test_kill_during_resultats(espace: Path, cli_runner: CliRunner, point: str) -> None:
    _killed(espace, point, "resultats", "s1")
    _run(cli_runner, "resultats", "s1")
    assert _decisions_json(espace) == {"001": "Certifié", "002": "Validation partielle",
                                       "003": "Non certifié"}
    assert _state(espace)["passages"] == [("001", "Certifié"), ("002", "Validation partielle"),
                                          ("003", "Non certifié")]


@pytest.mark.parametrize("point", [
    "certidocs.registre:Registre.sceller",  # inside the sealing transaction
    "certidocs.deliberation:sceller",  # sealed, nothing else done
])
def test_kill_during_sealing(espace: Path, cli_runner: CliRunner, point: str) -> None:
    _run(cli_runner, "resultats", "s1")
    _killed(espace, point, "deliberer", "s1")
    out = _run(cli_runner, "deliberer", "s1")
    assert "3 décision(s), version 1" in out
    assert _state(espace)["scellements"] == 1


@pytest.mark.parametrize("point", [
    "certidocs.registre:Registre.revoquer",  # inside the revision's transaction
    "certidocs.deliberation:_appliquer",  # committed, exports not rewritten yet
])
def test_kill_during_revision(espace: Path, cli_runner: CliRunner, point: str) -> None:
    _run(cli_runner, "resultats", "s1")
    _run(cli_runner, "documents", "s1", "--type", "certificat")
    fill_grids(espace / "s1", 0.0, {"001"})
    args = ["decision", "reviser", "s1", "001", "--motif", "erreur de saisie du jury",
            "--date", "20/12/2026"]
    _killed(espace, point, *args)
    state = _state(espace)
    if point.endswith("revoquer"):  # rolled back: nothing of the revision is there
        assert state["certificats"] == [(state["certificats"][0][0], None)]
        _run(cli_runner, *args)
    else:  # committed: the exports are put back by `resultats`
        assert "rien à réviser" in _run(cli_runner, *args, code=1)
        _run(cli_runner, "resultats", "s1")
    state = _state(espace)
    assert state["certificats"][0][1] == "2026-12-20" and state["scellements"] == 2
    assert _decisions_json(espace)["001"] == "Non certifié"


def test_kill_while_issuing_certificates(espace: Path, cli_runner: CliRunner,
                                         prepared: Path, tmp_path: Path) -> None:
    """Killed after the first certificate number is drawn: none is kept, and the rerun gives
    the numbers a clean run gives. The process killed is the one preparing the documents;
    certidocs says so and stops."""
    _run(cli_runner, "resultats", "s1")
    # in the process apart that prepares the documents after the exam
    assert _killed(espace, "certidocs.registre:Registre.certificat", "documents", "s1") == 1
    assert _state(espace)["certificats"] == []
    _run(cli_runner, "documents", "s1")
    clean = Path(shutil.copytree(prepared, tmp_path / "propre"))
    CliRunner().invoke(main, ["resultats", str(clean / "s1")])
    CliRunner().invoke(main, ["documents", str(clean / "s1")])
    assert _state(espace)["certificats"] == _state(clean)["certificats"]


@pytest.mark.parametrize("point", [
    "certidocs.accrochage.export:_write",  # flux file written, register row not committed
    "certidocs.registre:Registre.enregistrer_flux",  # row written, file not yet
])
def test_kill_during_accrochage_export(espace: Path, cli_runner: CliRunner, point: str) -> None:
    """No flux file without its register row, nor the reverse: the next export removes the
    interrupted one's file and declares the holders once."""
    _run(cli_runner, "resultats", "s1")
    _run(cli_runner, "documents", "s1", "--type", "certificat")
    with Registre(espace / "registre.sqlite") as reg, reg.transaction("identités") as conn:
        conn.execute("UPDATE candidats SET sexe = 'F', code_insee_naissance = '44109'")
    _killed(espace, point, "accrochage", "exporter")
    folder = espace / "accrochage"
    files = sorted(folder.glob("*.xml")) if folder.is_dir() else []
    assert _state(espace)["flux"] == []
    out = _run(cli_runner, "accrochage", "exporter")
    if files:
        assert f"supprimé : {files[0]}" in out
    rows = _state(espace)["flux"]
    assert len(rows) == 1
    assert sorted(p.name for p in folder.glob("*.xml")) == [Path(rows[0]).name]
