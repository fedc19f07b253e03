"""The documents step on a hostile machine: killed runs, decisions for vanished candidates."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sessiondata import make_session
from test_documents_data import all_contexts, organisme, referentiel

from certidocs.cli import main
from certidocs.documents import RenderJob, default_templates_dir, render_batch
from certidocs.documents.render import STAGING_LOCK, STAGING_PREFIX, clean_stale_staging

KILLED_RUN = """
import os, signal, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from test_documents_data import all_contexts, organisme, referentiel
from certidocs.documents import RenderJob, default_templates_dir, render_batch

def jobs():
    contexts = all_contexts(referentiel(), organisme())
    for i, (name, context) in enumerate(contexts["certificat"] * 40):
        if i == 30:  # certificates rendered and staged: the machine dies here
            os.kill(os.getpid(), signal.SIGKILL)
        yield RenderJob("certificat", f"{{name}}-{{i}}", context)

render_batch(jobs(), [default_templates_dir()], Path({outdir!r}))
"""


def _staging_folders(outdir: Path) -> list[Path]:
    return sorted(p for p in outdir.iterdir() if p.name.startswith(STAGING_PREFIX))


def test_killed_run_is_cleaned_by_the_next_one(tmp_path: Path) -> None:
    outdir = tmp_path / "documents"
    code = KILLED_RUN.format(tests=str(Path(__file__).parent), outdir=str(outdir))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=300,
                          env={**os.environ, "CERTIDOCS_PROCESSUS": "1"})
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    (left,) = _staging_folders(outdir)
    staged = list(left.rglob("*.docx"))
    assert staged, "the killed run had staged certificates"  # what the issue saw
    assert (left.stat().st_mode & 0o077) == 0  # private to its owner meanwhile
    # the next run of the same step (here a pre-exam document) removes it
    contexts = all_contexts(referentiel(), organisme())
    name, context = contexts["convocation_candidat"][0]
    render_batch([RenderJob("convocation_candidat", name, context)], [default_templates_dir()],
                 outdir)
    assert _staging_folders(outdir) == []
    assert not list(outdir.glob("certificat/*.docx"))  # nothing of the killed run published


@contextlib.contextmanager
def _lock_held_elsewhere(folder: Path) -> Iterator[None]:
    """``folder``'s STAGING_LOCK held by another process (a batch running there) meanwhile."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'w'); "
         "fcntl.flock(f, fcntl.LOCK_EX); print('pris', flush=True); time.sleep(120)",
         str(folder / STAGING_LOCK)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "pris"
        yield
    finally:
        holder.kill()
        holder.wait()


def test_running_batch_is_left_alone(tmp_path: Path) -> None:
    """A staging folder whose lock is held (a batch running in another process) survives."""
    outdir = tmp_path / "documents"
    busy = outdir / f"{STAGING_PREFIX}autre"
    busy.mkdir(parents=True)
    with _lock_held_elsewhere(busy):
        assert clean_stale_staging(outdir) == []
        assert busy.is_dir()
    assert clean_stale_staging(outdir) == [busy]


def test_unlocked_old_staging_is_removed_recent_kept(tmp_path: Path) -> None:
    outdir = tmp_path / "documents"
    old, recent = outdir / f"{STAGING_PREFIX}vieux", outdir / f"{STAGING_PREFIX}recent"
    for folder in (old, recent):
        (folder / "certificat").mkdir(parents=True)
        (folder / "certificat" / "001.docx").write_bytes(b"x")
    past = time.time() - 2 * 3600
    os.utime(old, (past, past))
    assert clean_stale_staging(outdir) == [old]
    assert recent.is_dir()


@pytest.fixture
def session_jugee(tmp_path: Path, cli_runner: CliRunner) -> Path:
    root = tmp_path / "espace"
    assert cli_runner.invoke(main, ["init", str(root)]).exit_code == 0
    dossier = make_session(root / "sessions" / "s1")
    return dossier


def test_decision_for_a_candidate_gone_from_session_xlsx(session_jugee: Path,
                                                         cli_runner: CliRunner) -> None:
    """The register holds a decision for 003, then 003's row is removed from session.xlsx:
    a French message naming 003, no document, no « Erreur interne (KeyError) »."""
    from sessiondata import CANDIDATS, fill_grids

    assert cli_runner.invoke(main, ["grilles", str(session_jugee)]).exit_code == 0
    fill_grids(session_jugee, 1.0)
    assert cli_runner.invoke(main, ["resultats", str(session_jugee)]).exit_code == 0
    (session_jugee / "session.xlsx").unlink()
    make_session(session_jugee, candidats=[c for c in CANDIDATS if c["N° candidat"] != "003"])
    shutil.rmtree(session_jugee / "documents", ignore_errors=True)
    result = cli_runner.invoke(main, ["documents", str(session_jugee)])
    assert result.exit_code == 1
    output = result.output + (result.stderr or "")
    assert ("le registre donne une décision pour 1 candidat(s) absent(s) de la feuille "
            "« Candidats » de session.xlsx : n° 003 (Anne-Sophie Garnier)") in output
    assert "aucun document n'a été écrit" in output and "Erreur interne" not in output
    assert not (session_jugee / "documents").exists()


def test_data_folder_of_a_killed_run_is_removed_by_the_next_batch(session_jugee: Path,
                                                                   cli_runner: CliRunner) -> None:
    """A batch keeps its candidates' outcomes and identities in a private data folder of the
    session (production.MAGASIN_PREFIX); a run killed meanwhile (its lock released by the
    kill) left it behind, personal data included: the next batch removes it. One whose lock
    is held (a batch running in another process) is left alone."""
    from certidocs.production import MAGASIN_PREFIX

    left = session_jugee / f"{MAGASIN_PREFIX}tue"
    left.mkdir(mode=0o700)
    (left / STAGING_LOCK).write_text("")
    (left / "donnees").write_bytes(b"Lefevre Elodie, nee le 03/04/1990")
    busy = session_jugee / f"{MAGASIN_PREFIX}occupe"
    busy.mkdir(mode=0o700)
    with _lock_held_elsewhere(busy):
        result = cli_runner.invoke(main, ["documents", str(session_jugee)])
        assert result.exit_code == 0, result.output
        assert not left.exists()
        assert busy.is_dir()
        mine = [p.name for p in session_jugee.iterdir()
                if p.name.startswith(MAGASIN_PREFIX) and p != busy]
        assert mine == []  # this batch's own folder is gone too


def test_documents_of_a_folder_given_wrong_says_what_was_given(session_jugee: Path,
                                                               cli_runner: CliRunner) -> None:
    """What an office worker types instead of a session's folder gets a French message
    saying what it is, exit 1, and nothing created: a mistyped folder is not made (it was,
    empty, by the documents' staging), the workspace's root names its sessions, the
    session.xlsx file itself names its folder."""
    root = session_jugee.parent.parent
    typo = session_jugee.parent / "s2"
    cases = {
        typo: f"{typo} : ce dossier n'existe pas",
        root: f"{root} est l'espace de travail, pas une session ; donnez le dossier d'une de "
              f"ses sessions : {session_jugee}",
        session_jugee / "session.xlsx": f"{session_jugee / 'session.xlsx'} : c'est un fichier, "
                                        f"pas un dossier",
    }
    for given, said in cases.items():
        for pdf in ([], ["--pdf"]):
            result = cli_runner.invoke(main, ["documents", *pdf, str(given)])
            assert result.exit_code == 1
            output = result.output + (result.stderr or "")
            assert said in output and "Traceback" not in output
    assert not typo.exists()
    assert not (root / "documents").exists()


def test_demo_warnings_read_as_the_commands_warnings() -> None:
    """The demo shows the documents' warnings with the commands' own prefix (« attention : »,
    as `certidocs documents` and the console say them), not a word of its own."""
    from certidocs.demo import _warn

    said: list[str] = []
    _warn(said.append, ["mention obligatoire manquante sur le certificat"])
    assert said == ["   attention : mention obligatoire manquante sur le certificat"]


def test_missing_mentions_are_one_warning_per_document_and_source() -> None:
    """The demo's référentiel (no official data) gave nine warnings for two documents: one
    per document and source now, its mentions joined by « ; », each still naming its
    field."""
    from test_documents_data import referentiel as sample

    from certidocs.documents.context import mentions_manquantes
    from certidocs.production import _mentions_groupees

    ref = sample()
    mentions = mentions_manquantes(ref, {}, blocs=True)
    assert len(mentions) >= 3  # the sample lacks its RNCP data and the signatory
    lines = _mentions_groupees("sur les attestations de blocs", mentions)
    sources = {m.partition(" : ")[0] for m in mentions}
    assert len(lines) == len(sources) < len(mentions)
    for mention in mentions:
        source, _, what = mention.partition(" : ")
        (line,) = [line for line in lines if f" : {source} : " in line]
        assert what in line.split(f" : {source} : ", 1)[1].split(" ; ")
    assert all(line.startswith(("mentions obligatoires manquantes sur les attestations",
                                "mention obligatoire manquante sur les attestations"))
               for line in lines)
