"""`make bench`: time the whole chain on synthetic sessions, against plain baselines.

A synthetic référentiel (5 blocs × 20 criteria) and a session of N candidates are built in a
temporary workspace, each size in a fresh process. Measured at every size (default 1,000 and
250; `--candidats 1000 10000` for a network's session):

- grids (`certidocs grilles`), read-back (`certidocs resultats`: every grid checked and
  decided), documents rendered (4 per candidate: convocation, fiche de résultats,
  notification, certificate or attestation, plus the procès-verbal and the print files) and
  their PDF (`certidocs documents --pdf`: every document and print file of the session);
- peak memory (RSS of the largest process: certidocs's own and its rendering workers before
  the PDF step; with LibreOffice's processes after it; and the sum of the PSS of all the
  Python processes, since forked workers share their pages with their parent), for the
  whole chain and stage by stage (grids, read-back, documents, PDF), so that what grows with
  the session is seen where it grows.

Measured at the smallest size of at least 1,000 only (slow), in the same run, on the same files:

- a bare openpyxl write of the same grid cells and formulas, one workbook after the other;
- a plain sequential docxtpl loop rendering the same templates with the same contexts;
- LibreOffice converting the same .docx files (documents and print files) in chunks of 200 per
  call, one call after the other (the PDF baseline), and one call per file (on a sample of
  PER_FILE_SAMPLE files, the time per file multiplied by the number of files).

Usage: python benchmarks/bench.py [--candidats N [N ...]] [--sans-pdf] [--sans-documents]
                                  [--sans-references]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BLOCS, CRITERES = 5, 20


def referentiel_yaml() -> str:
    """A référentiel of BLOCS blocs with CRITERES criteria each, in the YAML format."""
    lines = ["format: 1", "certification:", "  code: BENCH", "  intitule: Certification de "
             "mesure", "  niveau: 6", "blocs:"]
    for b in range(1, BLOCS + 1):
        lines += [f"  - code: BC{b:02d}", f"    intitule: Bloc de mesure {b}", "    competences:"]
        for c in range(1, 5):
            lines += [f"      - code: B{b}C{c}", f"        libelle: Compétence {c} du bloc {b}"]
        lines.append("    criteres:")
        for k in range(1, CRITERES + 1):
            lines += [f"      - code: B{b}K{k:02d}",
                      f"        libelle: Le candidat réalise la tâche {k} du bloc {b} selon les "
                      "règles de l'art, de façon autonome et argumentée.",
                      f"        competences: [B{b}C{(k - 1) % 4 + 1}]"]
    return "\n".join(lines) + "\n"


def build_workspace(root: Path, n: int, prefixe: str = "") -> Path:
    """A workspace with the synthetic référentiel and a session of ``n`` candidates (their
    names carry ``prefixe``, so that several workspaces hold different people)."""
    import datetime as dt

    from certidocs.referentiel import load_referentiel
    from certidocs.session.creator import create_session
    from certidocs.session.filler import fill_session
    from certidocs.workspace import init_workspace

    ws = init_workspace(root / "espace").root
    (ws / "certidocs.toml").write_text('[grilles]\nmot_de_passe = "mesure"\n', encoding="utf-8")
    (ws / "referentiels" / "BENCH.yaml").write_text(referentiel_yaml(), encoding="utf-8")
    folder = ws / "sessions" / "mesure"
    create_session(folder, load_referentiel(ws / "referentiels" / "BENCH.yaml"))
    start = dt.date(2026, 12, 15)
    candidats = [{"N° candidat": f"{i:05d}", "Civilité": "Madame" if i % 2 else "Monsieur",
                  "Nom de naissance": f"Nom{prefixe}{i}", "Prénom": f"Prénom{i}",
                  "Date de naissance": dt.date(1990, 1, 1) + dt.timedelta(days=i),
                  "Lieu de naissance": "Lyon", "Email": f"c{i}@exemple.fr",
                  "Voie d'accès": "Formation", "Présence": "Présent"} for i in range(1, n + 1)]
    jury = [{"Nom": "Roux", "Prénom": "Anne", "Collège": "Représentant du certificateur",
             "Externe": "Non", "Années d'expérience dans le métier": 10,
             "Date de la session d'information": dt.date(2026, 11, 1), "Président": "Non"},
            {"Nom": "Durand", "Prénom": "Paul", "Collège": "Professionnel", "Externe": "Oui",
             "Années d'expérience dans le métier": 10,
             "Date de la session d'information": dt.date(2026, 11, 1), "Président": "Oui"},
            {"Nom": "Leroy", "Prénom": "Inès", "Collège": "Professionnel", "Externe": "Oui",
             "Années d'expérience dans le métier": 10,
             "Date de la session d'information": dt.date(2026, 11, 1), "Président": "Non"}]
    fill_session(folder / "session.xlsx", {
        "Date de début": start, "Date de fin": start, "Lieu": "Lyon",
        "Responsable de session": "Claire Martin", "Date de délibération": start,
        "Date d'envoi des convocations": start - dt.timedelta(days=40)},
        {"Candidats": candidats, "Jury": jury})
    return folder


def build_workspace_apart(root: Path, n: int) -> Path:
    """build_workspace in a process of its own: writing a 10,000-row session.xlsx with
    openpyxl leaves this process tens of MiB larger, and its peak is certidocs's."""
    return Path(run_apart(["--construire", str(root), "--candidats", str(n)],
                          "la construction de l'espace de mesure a échoué"))


def run_apart(arguments: list[str], failure: str) -> str:
    """This script run in a fresh process with ``arguments``; the last line it printed.
    Its errors are shown and the measure stops with ``failure`` when it fails."""
    done = subprocess.run([sys.executable, __file__, *arguments], capture_output=True,
                          text=True, check=False, cwd=ROOT)
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise SystemExit(failure)
    lines = done.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def bare_grids(folder: Path, out: Path) -> float:
    """The baseline: the same cells and formulas written with bare openpyxl, sequentially."""
    from openpyxl import Workbook

    from certidocs.grid import layout as L
    from certidocs.session import open_session
    from certidocs.workspace import find_workspace

    opened = open_session(folder, find_workspace(folder))
    ref = opened.referentiel
    out.mkdir()
    began = time.perf_counter()
    for c in opened.lecture.session.candidats:
        plan = L.plan_grid(ref, c.blocs(ref))
        wb = Workbook()
        wb.active.title = L.SHEET_CONSIGNES
        for bp in plan.blocs:
            ws = wb.create_sheet(bp.sheet)
            ws.append(list(L.BLOC_HEADERS))
            for k in bp.bloc.criteres:
                ws.append([k.code, ", ".join(k.competences), k.libelle, None, None])
        wb.create_sheet(L.SHEET_SYNTHESE)
        for f in plan.formulas:
            wb[f.sheet][f.cell] = f.formula
        wb.save(out / f"{c.numero}.xlsx")
    return time.perf_counter() - began


def _drawn(value: Any) -> Any:
    """``value`` with every image drawn: certidocs draws a QR code only where a template
    prints it; the baseline gets them all ready, outside its clock."""
    import dataclasses

    from certidocs.documents.context import Image

    if isinstance(value, Image) and callable(value.source):
        return dataclasses.replace(value, source=value.source())
    if isinstance(value, dict):
        return {k: _drawn(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_drawn(v) for v in value]
    return value


def docxtpl_loop(jobs: Iterable[Any], templates: list[Path], out: Path) -> tuple[float, int]:
    """The baseline: a plain sequential docxtpl loop over the same templates and contexts.

    Only rendering and saving are timed: the contexts come from ``jobs``, built one at a time
    outside the clock (kept out of memory too, so that the peak measured is certidocs's).
    Returns the time and the number of documents.
    """
    from docxtpl import DocxTemplate

    from certidocs.documents.context import TYPES
    from certidocs.documents.render import _resolve_images, find_template

    out.mkdir()
    spent = 0.0
    count = 0
    for i, job in enumerate(jobs):
        # QR codes drawn here, outside the clock, as the baseline's contexts are built.
        context = _drawn(dict(job.contexte))
        began = time.perf_counter()
        doc = DocxTemplate(find_template(TYPES[job.type].modele, templates))
        # The same data: logo and QR code become docxtpl InlineImages, as certidocs does.
        doc.render(_resolve_images(context, doc), autoescape=True)
        doc.save(out / f"{i}.docx")
        spent += time.perf_counter() - began
        count += 1
    return spent, count


def cpu_seconds() -> tuple[float, float]:
    """Processor time so far (user + system, s) of this process (all its threads) and of its
    finished children (during the PDF: LibreOffice, its UNO bridges, pdfunite)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def peak_mib() -> float:
    """The peak RSS so far of this process or of any of its finished children, in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, kids) / 1024, 1)


class TreeMemory:
    """Samples, every few hundredths of a second, the memory of this process and of all its
    descendants (Linux /proc): the peak RSS of the largest Python process, the peak of the sum
    of the PSS of all the Python processes together (certidocs and its workers) and the peak
    RSS of the largest other one (LibreOffice). ru_maxrss cannot tell them apart.

    The sum is of PSS (proportional set size: each shared page divided among the processes
    that map it), not of RSS: the rendering workers are forked from the main process, and
    every child certidocs starts is, until it execs soffice or pdfunite, a fork of it; they
    share most of their pages with their parent, which RSS counted once per process (a
    200 MiB process and its fork summed to 400 MiB). PSS is read from smaps_rollup (Linux
    4.14 and later); VmRSS where it cannot be read (permission, older kernel). The largest
    Python process and LibreOffice stay in RSS: a process's RSS is what the targets are
    measured on. Reading smaps_rollup walks the process's page tables (about 1 ms per 200 MiB
    mapped): a sample of a 200 MiB process and two forks of it takes about 4 ms of processor
    (3 to 8 ms of clock), one of the bench at 250 candidates (up to 4 processes) 3.9 ms of
    processor on average, 7.7 at most, against well under 1 ms with VmRSS alone: read at every
    sample (every 0.05 s), that took 8 % of a core from the chain it measures on two cores, so
    PSS is read every PSS_EVERY samples (the peaks it misses last less than 0.25 s)."""

    PSS_EVERY = 5

    def __init__(self) -> None:
        import threading

        self.peaks = {"python_mio": 0.0, "python_somme_mio": 0.0, "autres_mio": 0.0}
        self.stage_peaks = dict(self.peaks)
        self._child_cpu: dict[int, float] = {}  # Python children: processor time last seen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join()

    @staticmethod
    def _tree(pid: int) -> list[int]:
        out, todo = [], [pid]
        while todo:
            current = todo.pop()
            out.append(current)
            try:
                for task in Path(f"/proc/{current}/task").iterdir():
                    todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
        return out

    @staticmethod
    def _pss_mib(pid: int) -> float | None:
        """The PSS of ``pid`` in MiB; None when smaps_rollup may not be read (permission:
        its RSS counts instead); 0 when the process is gone or changing program (a child
        between fork and exec, which has no memory of its own yet). Its RSS would be the main
        process's pages once more: the likeliest reason (not shown) for the 248 MiB of the
        PDF stage's sum at 10,000 candidates, for 117 at 1,000 (30/11/2026)."""
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except PermissionError:
            return None
        except OSError:
            return 0.0
        for line in rollup.splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
        return 0.0

    @classmethod
    def sample(cls, root: int | None = None,
               with_pss: bool = True) -> tuple[float, float | None, float]:
        """One reading of the tree of ``root`` (this process by default), in MiB: the RSS of
        the largest Python process, the sum of the PSS of the Python processes (their RSS
        where it cannot be read; None unless ``with_pss``), the RSS of the largest other
        process."""
        python: list[float] = []
        python_pss: list[float] = []
        others = [0.0]
        for pid in cls._tree(os.getpid() if root is None else root):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            rss = int(fields.get("VmRSS", "0 kB").split()[0]) / 1024
            if not fields.get("Name", "").strip().startswith("python"):
                others.append(rss)
                continue
            python.append(rss)
            if not with_pss:
                continue
            pss = cls._pss_mib(pid)
            python_pss.append(rss if pss is None else pss)
        return (max(python, default=0.0), sum(python_pss) if with_pss else None,
                max(others))

    def python_children_cpu(self) -> float:
        """Processor time (user + system, s) of this process's Python children (the
        rendering workers, the PDF conversion's process) as last sampled: their own, not
        their children's (LibreOffice). A child's last 0.05 s may be missed."""
        return sum(self._child_cpu.values())

    def _sample_child_cpu(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        for task in Path(f"/proc/{os.getpid()}/task").iterdir():
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            for pid in children:
                try:
                    stat = Path(f"/proc/{pid}/stat").read_text()
                except OSError:
                    continue
                name = stat[stat.index("(") + 1:stat.rindex(")")]
                if name.startswith("python"):
                    # from the state (field 3) on: utime and stime are fields 14 and 15
                    fields = stat[stat.rindex(")") + 2:].split()
                    self._child_cpu[pid] = (int(fields[11]) + int(fields[12])) / tick

    def _run(self) -> None:
        tick = 0
        while not self._stop.wait(0.05):
            self._sample_child_cpu()
            largest, total, other = self.sample(with_pss=tick % self.PSS_EVERY == 0)
            tick += 1
            for peaks in (self.peaks, self.stage_peaks):
                peaks["python_mio"] = max(peaks["python_mio"], largest)
                if total is not None:
                    peaks["python_somme_mio"] = max(peaks["python_somme_mio"], total)
                peaks["autres_mio"] = max(peaks["autres_mio"], other)

    def stage(self) -> dict[str, float]:
        """The peaks since the previous call (one stage of the chain), then start again."""
        done = {k: round(v, 1) for k, v in self.stage_peaks.items()}
        self.stage_peaks = dict.fromkeys(self.stage_peaks, 0.0)
        return done


def _peaks(figures: dict[str, Any], key: str, peaks: dict[str, float]) -> None:
    """Keep in ``figures[key]`` the larger of each peak (a stage measured in several parts)."""
    old = figures.get(key, {})
    figures[key] = {k: max(v, old.get(k, 0.0)) for k, v in peaks.items()}


def chain(n: int, with_documents: bool, pdf: bool, baselines: bool) -> dict[str, Any]:
    """Run every measured step on a fresh synthetic session; figures as a dict."""
    with TreeMemory() as memory:
        return _chain(n, with_documents, pdf, baselines, memory)


def progress(figures: dict[str, Any], memory: TreeMemory) -> None:
    """The figures so far, in .bench-<N>.json at the root: a long run can be followed (and
    what it measured read) before it ends."""
    done = {**figures, **{f"pic_{k}": round(v, 1) for k, v in memory.peaks.items()}}
    (ROOT / f".bench-{figures['candidats']}.json").write_text(json.dumps(done, indent=1),
                                                              encoding="utf-8")


def _fill(job: tuple[Path, Any, tuple[str, ...], dict[str, str]]) -> None:
    from certidocs.simulation import fill_grid

    fill_grid(*job)


def simulate_jurors_parallel(folder: Path) -> None:
    """certidocs.demo.simulate_jurors over the cores (not measured: it stands for the jurors,
    and a network's 10,000 grids filled one after the other would take longer than the
    chain). Candidate number i gets a rate of « Acquis » of 0.5 + (i mod 5) / 10."""
    from certidocs.grid.writer import grid_filename
    from certidocs.parallel import parallel_map
    from certidocs.session import open_session
    from certidocs.simulation import simulated_evaluations
    from certidocs.workspace import find_workspace

    opened = open_session(folder, find_workspace(folder))
    ref = opened.referentiel
    jobs = []
    for c in opened.lecture.session.candidats:
        blocs = c.blocs(ref)
        rate = {"tous": 0.5 + (int(c.numero) % 5) / 10}
        jobs.append((folder / "grilles" / grid_filename(c), ref, blocs,
                     simulated_evaluations(ref, blocs, rate, c.numero)))
    parallel_map(_fill, jobs)


def simulate_jurors_apart(folder: Path) -> None:
    """simulate_jurors_parallel in a process of its own: the memory it takes (10,000 grids'
    evaluations) would otherwise stay with this process, whose peak is certidocs'."""
    run_apart(["--jures-simules", str(folder)], "la simulation des jurés a échoué")


def _chain(n: int, with_documents: bool, pdf: bool, baselines: bool,
           memory: TreeMemory) -> dict[str, Any]:
    from certidocs import api

    figures: dict[str, Any] = {"candidats": n}
    with tempfile.TemporaryDirectory(prefix="certidocs-bench-") as tmp:
        root = Path(tmp)
        folder = build_workspace_apart(root, n)
        began = time.perf_counter()
        memory.stage()  # the workspace's construction is not measured
        api.grilles(folder)
        figures["grilles_s"] = time.perf_counter() - began
        figures["pic_etape_grilles"] = memory.stage()
        progress(figures, memory)
        began = time.perf_counter()
        simulate_jurors_apart(folder)
        # The jurors' grids reach the disk before the read-back is timed: they stand for
        # files sent from other machines long before, and their writeback (235 MiB at 10,000)
        # fell within the read-back that follows. Read back after a sync: 6.0 s and 59.5 s at
        # 1,000 and 10,000 (9.9x); this bench, without it: 10.65x to 12.5x (30/11/2026).
        os.sync()
        figures["jures_simules_s"] = time.perf_counter() - began
        memory.stage()  # the simulated jurors are not certidocs
        progress(figures, memory)
        began = time.perf_counter()
        cpu_before = sum(cpu_seconds())
        api.resultats(folder)
        figures["relecture_s"] = time.perf_counter() - began
        # The reading workers are reaped when their pool closes: RUSAGE_CHILDREN has them.
        # Processor time leaves out the waits (disk, cores taken by other work) that clock
        # time counts: the clock ratio of this stage was 10.23 then 10.88 for the same code
        # (01/12/2026), and a grid's reading costs the same at the 10,000th grid as at the
        # first (5.1 to 6.1 s of processor per 1,000 grids over the 10,000, no trend).
        figures["relecture_cpu_s"] = sum(cpu_seconds()) - cpu_before
        figures["pic_etape_relecture"] = memory.stage()
        progress(figures, memory)
        documents = getattr(api, "documents", None)
        if with_documents and documents is not None:
            import certidocs.documents.pdf as pdf_module

            convert = pdf_module.convert_batch
            pdf_clock: dict[str, float] = {}

            def timed_pdf(*args: Any, **kwargs: Any) -> Any:
                # Called once per stage (before and after the exam).
                progress({**figures, "rendu_fini_a": time.perf_counter() - start}, memory)
                _peaks(figures, "pic_etape_documents", memory.stage())
                began = time.perf_counter()
                own, kids = cpu_seconds()
                apart = memory.python_children_cpu()  # the conversion's own process
                try:
                    return convert(*args, **kwargs)
                finally:
                    pdf_clock["s"] = pdf_clock.get("s", 0.0) + time.perf_counter() - began
                    own_after, kids_after = cpu_seconds()
                    apart = memory.python_children_cpu() - apart
                    pdf_clock["python"] = pdf_clock.get("python", 0.0) + own_after - own + apart
                    pdf_clock["autres"] = (pdf_clock.get("autres", 0.0) + kids_after - kids
                                           - apart)
                    _peaks(figures, "pic_etape_pdf", memory.stage())

            pdf_module.convert_batch = timed_pdf
            began = start = time.perf_counter()
            report = documents(folder, types=BENCH_TYPES, pdf=pdf)
            spent = time.perf_counter() - began
            pdf_module.convert_batch = convert
            figures["documents_s"] = spent - pdf_clock.get("s", 0.0)
            figures["documents_n"] = sum(1 for f in report.fichiers if f.suffix == ".docx")
            _peaks(figures, "pic_etape_documents", memory.stage())
            progress(figures, memory)
            if pdf:
                figures["pdf_s"] = pdf_clock["s"]
                figures["pdf_cpu_python_s"] = pdf_clock["python"]
                figures["pdf_cpu_libreoffice_s"] = pdf_clock["autres"]
                figures["pdf_n"] = len(report.pdfs)
        figures["pic_memoire_mio"] = peak_mib()  # the chain's, before the baselines
        # The chain's peaks, before the baselines.
        figures.update({f"pic_{k}": round(v, 1) for k, v in memory.peaks.items()})
        if not baselines:
            figures["chaine_s"] = sum(figures.get(k, 0.0) for k in (
                "grilles_s", "relecture_s", "documents_s", "pdf_s"))
            return figures
        figures["grilles_openpyxl_nu_s"] = bare_grids(folder, root / "nu")
        if with_documents and documents is not None:
            from certidocs.production import iter_jobs

            # The same jobs, rebuilt from the same session (certificates keep their numbers).
            spent, count = docxtpl_loop(iter_jobs(folder, types=BENCH_TYPES), report.templates,
                                        root / "tpl")
            figures["documents_rendus_n"] = count
            figures["documents_docxtpl_boucle_s"] = spent
            if pdf:
                figures.update(pdf_baselines(report.fichiers, root / "pdf-reference"))
    figures["chaine_s"] = sum(figures.get(k, 0.0) for k in (
        "grilles_s", "relecture_s", "documents_s", "pdf_s"))
    return figures


BASELINE_CHUNK = 200  # files per LibreOffice call in the PDF baseline
PER_FILE_SAMPLE = 12  # files converted one call each, to time that way of working


def pdf_baselines(files: list[Path], out: Path) -> dict[str, Any]:
    """The PDF baselines on ``files`` (.docx): chunks of BASELINE_CHUNK files per call, one
    call after the other; and one call per file, on an even sample of PER_FILE_SAMPLE files
    (the whole would take hours), extrapolated to every file."""
    from certidocs.libreoffice import convert_to_pdf

    # The .docx files only (the report lists the PDFs too), linked under names unique across
    # types (« 00001_NOM1_Prenom1.docx » is in each type's folder), outside the clock.
    flat = out / "sources"
    flat.mkdir(parents=True)
    for path in [f for f in files if f.suffix == ".docx"]:
        os.link(path, flat / f"{path.parent.name}-{path.name}")
    files = sorted(flat.iterdir())
    began = time.perf_counter()
    for k in range(0, len(files), BASELINE_CHUNK):
        convert_to_pdf(files[k:k + BASELINE_CHUNK], out / f"lot-{k}", processes=1)
    chunks = time.perf_counter() - began
    step = max(1, len(files) // PER_FILE_SAMPLE)
    sample = files[::step][:PER_FILE_SAMPLE]
    began = time.perf_counter()
    for i, path in enumerate(sample):
        convert_to_pdf([path], out / f"seul-{i}")
    per_file = (time.perf_counter() - began) / len(sample)
    return {"pdf_lots_200_s": chunks, "pdf_un_appel_par_fichier_s": per_file * len(files),
            "pdf_un_appel_par_fichier_echantillon": len(sample)}


BENCH_TYPES = ("convocation_candidat", "fiche_resultats", "notification_resultats",
               "certificat", "attestation_blocs", "proces_verbal")


def child(n: int, with_documents: bool, pdf: bool, baselines: bool) -> dict[str, Any]:
    """Run ``chain`` in a fresh process; adds its peak RSS (MiB), children included."""
    cmd = ["--enfant", "--candidats", str(n)]
    cmd += [] if with_documents else ["--sans-documents"]
    cmd += [] if pdf else ["--sans-pdf"]
    cmd += ["--references"] if baselines else []
    figures = run_apart(cmd, f"la mesure à {n} candidats a échoué")
    return json.loads(figures)  # type: ignore[no-any-return]


STAGES = (("grilles", "grilles_s"), ("relecture et décisions", "relecture_s"),
          ("documents (rendu)", "documents_s"), ("PDF (tous les documents)", "pdf_s"),
          ("chaîne complète", "chaine_s"))


def say(text: str = "") -> None:
    """Print a line of the report with French decimal commas (« 58,6 s », « 1,20 »)."""
    print(re.sub(r"(?<=\d)\.(?=\d)", ",", text))


def report(runs: list[dict[str, Any]]) -> None:
    """Print each stage at every size with the ratio of the largest to the smallest, then the
    baselines of the run that has them, then peak memory."""
    small, big = runs[0], runs[-1]
    scale = big["candidats"] / small["candidats"]
    sizes = "".join(f"{r['candidats']:>10} c." for r in runs)
    say(f"\n{'étape':28}{sizes}   rapport (linéaire ≤ {scale * 1.05:.1f})")
    for label, key in STAGES:
        if key not in big:
            continue
        cells = "".join(f"{r.get(key, 0.0):10.1f} s" for r in runs)
        ratio = big[key] / small[key] if small.get(key) and len(runs) > 1 else 0.0
        say(f"{label:28}{cells}   {ratio:6.2f}" if len(runs) > 1 else f"{label:28}{cells}")
    if all("relecture_cpu_s" in r for r in runs):
        cells = ", ".join(f"{r['relecture_cpu_s']:.1f} s à {r['candidats']}" for r in runs)
        ratio = (f" (rapport {big['relecture_cpu_s'] / small['relecture_cpu_s']:.2f})"
                 if len(runs) > 1 else "")
        say(f"  relecture, processeur (certidocs et ses processus de lecture) : {cells}{ratio}")
    for r in runs:
        if "pdf_cpu_python_s" in r:
            say(f"  PDF à {r['candidats']} : processeur certidocs {r['pdf_cpu_python_s']:.1f} s, "
                  f"LibreOffice et outils {r['pdf_cpu_libreoffice_s']:.1f} s ({r['pdf_n']} PDF)")
    ref = next((r for r in runs if "grilles_openpyxl_nu_s" in r), None)
    if ref is not None:
        n = ref["candidats"]
        say(f"\nréférences, même exécution, à {n} candidats :")
        say(f"grilles        {ref['grilles_s']:7.1f} s  openpyxl nu "
              f"{ref['grilles_openpyxl_nu_s']:7.1f} s  rapport "
              f"{ref['grilles_s'] / ref['grilles_openpyxl_nu_s']:.2f} (cible ≤ 1,30)")
        if "documents_docxtpl_boucle_s" in ref:
            say(f"documents      {ref['documents_s']:7.1f} s  boucle docxtpl "
                  f"{ref['documents_docxtpl_boucle_s']:7.1f} s  débit × "
                  f"{ref['documents_docxtpl_boucle_s'] / ref['documents_s']:.2f} (cible ≥ 2)  "
                  f"({ref['documents_n']} fichiers)")
        if "pdf_lots_200_s" in ref:
            say(f"PDF            {ref['pdf_s']:7.1f} s  LibreOffice par lots de 200 "
                  f"{ref['pdf_lots_200_s']:7.1f} s  débit × "
                  f"{ref['pdf_lots_200_s'] / ref['pdf_s']:.2f}  ({ref['pdf_n']} PDF, cible "
                  "≤ 60 s)")
            say(f"               processeur : certidocs {ref['pdf_cpu_python_s']:.1f} s, "
                  f"LibreOffice et outils {ref['pdf_cpu_libreoffice_s']:.1f} s, sur "
                  f"{os.cpu_count()} cœur(s)")
            say(f"               un appel par fichier (échantillon de "
                  f"{ref['pdf_un_appel_par_fichier_echantillon']}, extrapolé) "
                  f"{ref['pdf_un_appel_par_fichier_s']:7.1f} s  débit × "
                  f"{ref['pdf_un_appel_par_fichier_s'] / ref['pdf_s']:.2f}")
    say("\npic mémoire par étape (Mio : plus gros processus Python (RSS) / Python ensemble "
          "(PSS) / plus gros LibreOffice (RSS)) :")
    for label, key in (("grilles", "pic_etape_grilles"), ("relecture", "pic_etape_relecture"),
                       ("documents (rendu)", "pic_etape_documents"),
                       ("PDF", "pic_etape_pdf")):
        if key not in big:
            continue
        cells = "   ".join(f"{r[key]['python_mio']:6.1f} / {r[key]['python_somme_mio']:6.1f} / "
                           f"{r[key]['autres_mio']:6.1f} à {r['candidats']}" for r in runs)
        worst = max(big[key][k] / small[key][k] for k in big[key] if small[key].get(k))
        say(f"  {label:20} {cells}   (rapport le plus fort {worst:.2f}, cible ≤ 1,2)")
    say("\npic mémoire de la chaîne (RSS, sauf Python ensemble : somme des PSS, les "
          "processus dupliqués (fork) partageant leurs pages) :")
    for key, label in (("pic_python_mio", "plus gros processus Python"),
                       ("pic_python_somme_mio", "Python ensemble (PSS)"),
                       ("pic_autres_mio", "plus gros LibreOffice"),
                       ("pic_memoire_mio", "plus gros (système)")):
        if key in big and small.get(key):  # no LibreOffice without PDF: nothing to compare
            cells = ", ".join(f"{r[key]:.1f} Mio à {r['candidats']}" for r in runs)
            say(f"  {label:26} {cells}  (rapport {big[key] / small[key]:.2f}, cible ≤ 1,2)")
    if any("grilles_openpyxl_nu_s" in r for r in runs):
        say(f"  avec les mesures de référence : "
            f"{max(r['pic_memoire_total_mio'] for r in runs):.1f} Mio")


class _FrenchHelp(argparse.HelpFormatter):
    """argparse's help with its own words in French (« utilisation : »)."""

    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, prefix="utilisation : ")


def main() -> None:
    """Parse options, run the measures, print figures and ratios."""
    parser = argparse.ArgumentParser(
        description="Mesurer la chaîne de certidocs sur des sessions synthétiques, contre des "
                    "références mesurées dans la même exécution.",
        formatter_class=_FrenchHelp, add_help=False)
    parser._optionals.title = "options "  # argparse adds the colon: « options : »
    parser.add_argument("-h", "--help", action="help", help="afficher cette aide et quitter")
    parser.add_argument("--candidats", type=int, nargs="+", default=[1000, 250], metavar="N",
                        help="tailles de session mesurées (par défaut : 1000 250)")
    parser.add_argument("--sans-pdf", action="store_true", help="sans la conversion en PDF")
    parser.add_argument("--sans-documents", action="store_true",
                        help="sans les documents (ni PDF)")
    parser.add_argument("--sans-references", action="store_true",
                        help="sans les mesures de référence (lentes)")
    parser.add_argument("--references", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--enfant", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--jures-simules", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--construire", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.construire:
        print(build_workspace(args.construire, args.candidats[0]))
        return
    if args.jures_simules:
        simulate_jurors_parallel(args.jures_simules)
        return
    if args.enfant:
        figures = chain(args.candidats[0], not args.sans_documents, not args.sans_pdf,
                        args.references)
        figures["pic_memoire_total_mio"] = peak_mib()
        print(json.dumps(figures))
        return
    sizes = sorted(set(args.candidats))
    with_baselines = min((n for n in sizes if n >= 1000), default=sizes[-1])
    print(f"certidocs — mesure sur {', '.join(map(str, sizes))} candidats ({BLOCS} blocs × "
          f"{CRITERES} critères), {os.cpu_count()} cœur(s), {time.strftime('%d/%m/%Y %H:%M')}")
    runs = []
    for n in sizes:
        runs.append(child(n, not args.sans_documents, not args.sans_pdf,
                          n == with_baselines and not args.sans_references))
        print(f"mesures brutes à {n} candidats (JSON) :", flush=True)
        print(json.dumps(runs[-1], ensure_ascii=False), flush=True)
    report(runs)
    shutil.rmtree(ROOT / ".bench-tmp", ignore_errors=True)


if __name__ == "__main__":
    main()
