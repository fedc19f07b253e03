"""`make bench`: time the whole chain on a synthetic session, against plain baselines.

A synthetic référentiel (5 blocs × 20 criteria) and a session of N candidates (default 1,000)
are built in a temporary workspace. Measured in the same run, on the same machine:

- grids: `certidocs grilles` vs a bare openpyxl write of the same cells and formulas, one
  workbook after the other (the baseline);
- read-back: `certidocs resultats` (every grid checked and decided);
- documents: 4 per candidate (convocation, fiche de résultats, notification, certificate or
  attestation) plus the procès-verbal, vs a plain sequential docxtpl loop rendering the same
  templates with the same contexts;
- PDF for a sample of 50 documents (LibreOffice, one process);
- peak memory (RSS) of the chain (grids, simulated jurors, read-back, documents; worker
  processes included) at N and at N/4, each in a fresh process, to show that it does not grow
  with N. It is taken before the baselines and the PDF run: the docxtpl loop and LibreOffice
  are not certidocs's memory, and only the run at N converts PDFs. The peak of the whole
  process, baselines and LibreOffice included, is given too.

Usage: python benchmarks/bench.py [--candidats N] [--pdf K] [--sans-documents]
"""

from __future__ import annotations

import argparse
import json
import os
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


def peak_mib() -> float:
    """The peak RSS so far of this process or of any of its finished children, in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, kids) / 1024, 1)


def chain(n: int, with_documents: bool, pdf: int) -> dict[str, Any]:
    """Run every measured step on a fresh synthetic session; figures as a dict."""
    from certidocs import api
    from certidocs.demo import simulate_jurors

    figures: dict[str, Any] = {"candidats": n}
    with tempfile.TemporaryDirectory(prefix="certidocs-bench-") as tmp:
        root = Path(tmp)
        folder = build_workspace(root, n)
        began = time.perf_counter()
        api.grilles(folder)
        figures["grilles_s"] = time.perf_counter() - began
        plan = {"jurys_simules": {f"{i:05d}": {"taux": {"tous": 0.5 + (i % 5) / 10}}
                                  for i in range(1, n + 1)}}
        began = time.perf_counter()
        simulate_jurors(folder, plan)
        figures["jures_simules_s"] = time.perf_counter() - began
        began = time.perf_counter()
        api.resultats(folder)
        figures["relecture_s"] = time.perf_counter() - began
        documents = getattr(api, "documents", None)
        if with_documents and documents is not None:
            began = time.perf_counter()
            report = documents(folder, types=BENCH_TYPES)
            figures["documents_s"] = time.perf_counter() - began
            figures["documents_n"] = len(report.fichiers)
        figures["pic_memoire_mio"] = peak_mib()  # the chain's, before the baselines
        figures["grilles_openpyxl_nu_s"] = bare_grids(folder, root / "nu")
        if with_documents and documents is not None:
            from certidocs.production import iter_jobs

            # The same jobs, rebuilt from the same session (certificates keep their numbers).
            spent, count = docxtpl_loop(iter_jobs(folder, types=BENCH_TYPES), report.templates,
                                        root / "tpl")
            figures["documents_rendus_n"] = count
            figures["documents_docxtpl_boucle_s"] = spent
            if pdf:
                from certidocs.libreoffice import convert_to_pdf

                sample = sorted(report.fichiers)[:pdf]
                began = time.perf_counter()
                convert_to_pdf(sample, root / "pdf")
                figures["pdf_s"] = time.perf_counter() - began
                figures["pdf_n"] = len(sample)
        figures["chaine_sans_pdf_s"] = sum(figures.get(k, 0.0) for k in (
            "grilles_s", "relecture_s", "documents_s"))
    return figures


BENCH_TYPES = ("convocation_candidat", "fiche_resultats", "notification_resultats",
               "certificat", "attestation_blocs", "proces_verbal")


def child(n: int, with_documents: bool, pdf: int) -> dict[str, Any]:
    """Run ``chain`` in a fresh process; adds its peak RSS (MiB), children included."""
    cmd = [sys.executable, __file__, "--enfant", "--candidats", str(n), "--pdf", str(pdf)]
    if not with_documents:
        cmd.append("--sans-documents")
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"la mesure à {n} candidats a échoué")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    """Parse options, run the measures, print figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidats", type=int, default=1000)
    parser.add_argument("--pdf", type=int, default=50)
    parser.add_argument("--sans-documents", action="store_true")
    parser.add_argument("--enfant", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.enfant:
        figures = chain(args.candidats, not args.sans_documents, args.pdf)
        figures["pic_memoire_total_mio"] = peak_mib()
        print(json.dumps(figures))
        return
    n = args.candidats
    print(f"certidocs — mesure sur {n} candidats ({BLOCS} blocs × {CRITERES} critères), "
          f"{os.cpu_count()} cœur(s)")
    big = child(n, not args.sans_documents, args.pdf)
    small = child(max(n // 4, 1), not args.sans_documents, 0)
    print(json.dumps(big, indent=2, ensure_ascii=False))
    print("")
    print(f"grilles           {big['grilles_s']:7.2f} s   openpyxl nu "
          f"{big['grilles_openpyxl_nu_s']:7.2f} s   rapport "
          f"{big['grilles_s'] / big['grilles_openpyxl_nu_s']:.2f} (cible ≤ 1,30)")
    print(f"relecture         {big['relecture_s']:7.2f} s")
    if "documents_s" in big:
        ratio = big["documents_docxtpl_boucle_s"] / big["documents_s"]
        print(f"documents         {big['documents_s']:7.2f} s   boucle docxtpl "
              f"{big['documents_docxtpl_boucle_s']:7.2f} s   débit × {ratio:.2f} (cible ≥ 2)"
              f"   ({big['documents_n']} fichiers)")
    if "pdf_s" in big:
        print(f"PDF               {big['pdf_s']:7.2f} s pour {big['pdf_n']} documents")
    print(f"chaîne sans PDF   {big['chaine_sans_pdf_s']:7.2f} s (cible ≤ 30 s)")
    print(f"pic mémoire       {big['pic_memoire_mio']:7.1f} Mio à {n} candidats, "
          f"{small['pic_memoire_mio']:.1f} Mio à {small['candidats']} "
          f"(rapport {big['pic_memoire_mio'] / small['pic_memoire_mio']:.2f}) ; "
          f"{big['pic_memoire_total_mio']:.1f} Mio avec les mesures de référence et le PDF")
    shutil.rmtree(ROOT / ".bench-tmp", ignore_errors=True)


if __name__ == "__main__":
    main()
