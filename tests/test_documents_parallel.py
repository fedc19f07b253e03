"""Batches over several processes: the same files whatever the number of processes, jobs
taken as they are needed, contexts built by the workers, errors and staging unchanged."""

from __future__ import annotations

import copy
import dataclasses
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_documents_data import (
    all_contexts,
    certificat_info,
    docx_text,
    logo_png,
    organisme,
    referentiel,
    resultats,
    session,
)

import certidocs.parallel
from certidocs.documents import RenderJob, default_templates_dir, render, render_batch
from certidocs.documents.context import contexte_certificat
from certidocs.documents.render import ContextRecipe
from certidocs.errors import ModeleError

DEFAULTS = default_templates_dir()


def many_contexts(tmp_path: Path, count: int) -> list[tuple[str, str, dict[str, Any]]]:
    """``count`` convocations and ``count`` // 4 certificates, each for a different holder."""
    logo = logo_png(tmp_path / "logo.png")
    ref = referentiel()
    s = session(ref)
    base = all_contexts(ref, organisme(logo))["convocation_candidat"][0][1]
    out = []
    for i in range(count):
        context = copy.deepcopy(base)
        context["candidat"]["nom_complet"] = f"Candidat{i:03d} DUPONT"
        context["candidat"]["identite"] = f"Madame Candidat{i:03d} DUPONT"
        out.append(("convocation_candidat", f"{i:03d}", context))
    holder = s.candidats[0]
    for i in range(count // 4):
        c = dataclasses.replace(holder, prenom=f"Titulaire{i:03d}")
        out.append(("certificat", f"{i:03d}", contexte_certificat(
            s, ref, organisme(logo), c, resultats(ref)[0],
            certificat_info(f"CPECOM-2026-{i:04d}"))))
    return out


def _pick(shared: dict[str, Any], index: int) -> dict[str, Any]:
    """A recipe: the context from the shared data, leaving a trace of the process."""
    (Path(shared["traces"]) / str(os.getpid())).touch()
    context: dict[str, Any] = shared["contexts"][index][2]
    return context


def _render(tmp_path: Path, name: str, items: list[tuple[str, str, dict[str, Any]]],
            monkeypatch: pytest.MonkeyPatch, processes: int) -> tuple[Any, set[int]]:
    monkeypatch.setenv("CERTIDOCS_PROCESSUS", str(processes))
    traces = tmp_path / f"traces-{name}"
    traces.mkdir()
    shared = {"contexts": items, "traces": str(traces)}
    jobs = (RenderJob(t, nom, ContextRecipe(_pick, (i,))) for i, (t, nom, _) in enumerate(items))
    out = render_batch(jobs, [DEFAULTS], tmp_path / name, shared=shared)
    return out, {int(p.name) for p in traces.iterdir()}


def members(path: Path) -> dict[str, bytes]:
    """What a package holds, part by part (reopened, not compared as bytes)."""
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in sorted(zf.namelist())}


def test_same_files_whatever_the_number_of_processes(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    items = many_contexts(tmp_path, 40)
    one, pids_one = _render(tmp_path, "un", items, monkeypatch, 1)
    two, pids_two = _render(tmp_path, "deux", items, monkeypatch, 2)
    assert pids_one == {os.getpid()}
    assert pids_two and os.getpid() not in pids_two  # the workers built the contexts
    for result in (one, two):
        assert [p.name for p in result.documents["convocation_candidat"]] == [
            f"{i:03d}.docx" for i in range(40)]
    files_one = sorted(p.relative_to(tmp_path / "un") for p in (tmp_path / "un").rglob("*"))
    files_two = sorted(p.relative_to(tmp_path / "deux") for p in (tmp_path / "deux").rglob("*"))
    assert files_one == files_two
    for relative in files_one:
        if relative.suffix == ".docx":
            assert members(tmp_path / "un" / relative) == members(tmp_path / "deux" / relative), (
                relative)
    text = docx_text(two.fusions["convocation_candidat"])
    positions = [text.index(f"Candidat{i:03d} DUPONT") for i in range(40)]
    assert positions == sorted(positions)


def test_jobs_are_taken_as_workers_need_them(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A long stream of jobs is never read ahead by more than a few chunks: when job 120 is
    handed over, most of the previous ones are rendered (and their contexts dropped)."""
    monkeypatch.setenv("CERTIDOCS_PROCESSUS", "2")
    monkeypatch.setattr(render, "RENDER_AHEAD", 2)  # a short stream shows the bound
    context = many_contexts(tmp_path, 1)[0][2]
    outdir = tmp_path / "docs"
    rendered_when_taken: list[int] = []

    def jobs() -> Any:
        for i in range(150):
            rendered_when_taken.append(len(list(outdir.glob(".certidocs-en-cours-*/*/*.docx"))))
            yield RenderJob("convocation_candidat", f"{i:03d}", context)

    out = render_batch(jobs(), [DEFAULTS], outdir)
    assert len(out.documents["convocation_candidat"]) == 150
    # the first look at the stream, the chunks in flight and the one being cut
    ahead = (certidocs.parallel.MIN_PARALLEL + render.RENDER_AHEAD * 2 * render.RENDER_CHUNK
             + render.RENDER_CHUNK)
    assert rendered_when_taken[120] >= 120 - ahead


def test_template_fault_in_a_worker_leaves_nothing(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CERTIDOCS_PROCESSUS", "2")
    items = many_contexts(tmp_path, 40)
    broken = dict(items[30][2])
    del broken["candidat"]  # the 31st document cannot render
    items[30] = (items[30][0], items[30][1], broken)
    outdir = tmp_path / "documents"
    with pytest.raises(ModeleError) as failure:
        render_batch((RenderJob(t, n, c) for t, n, c in items), [DEFAULTS], outdir)
    assert "variable inconnue « candidat »" in str(failure.value)
    assert not outdir.exists()


def test_production_through_workers(tmp_path: Path, cli_runner: CliRunner,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """`certidocs documents` with contexts built in worker processes gives the same files as
    in one process; iter_jobs gives the same jobs with their contexts."""
    from sessiondata import make_session

    from certidocs.cli import main
    from certidocs.production import iter_jobs

    make_session(tmp_path / "s1")
    monkeypatch.setattr(certidocs.parallel, "MIN_PARALLEL", 1)  # 3 candidates: use the pool
    produced: dict[int, dict[str, dict[str, bytes]]] = {}
    for processes in (2, 1):
        monkeypatch.setenv("CERTIDOCS_PROCESSUS", str(processes))
        result = cli_runner.invoke(main, ["documents", "s1"])
        assert result.exit_code == 0, result.output + result.stderr
        docs = tmp_path / "s1" / "documents"
        produced[processes] = {p.relative_to(docs).as_posix(): members(p)
                               for p in sorted(docs.rglob("*.docx"))}
    assert produced[1] == produced[2]
    assert len(produced[1]) == 3 + 1 + 3 + 1 + 1  # convocations, merged, jury, merged, sheet
    jobs = list(iter_jobs(tmp_path / "s1"))
    assert sorted(f"{j.type}/{j.nom}.docx" for j in jobs) == sorted(
        name for name in produced[1] if "_impression_" not in name)
    convocation = next(j for j in jobs if j.type == "convocation_candidat")
    assert convocation.contexte["candidat"]["nom_complet"] == "Élodie LEFÈVRE"
