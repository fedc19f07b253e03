"""Measure `certidocs bilan` on a register of 10,000 passages over 40 sessions (target: ≤ 10 s).

Run ``python benchmarks/bench_bilan.py [--sessions 40] [--candidats 250]`` (``make bench``
runs it after bench.py). The register is simulated (certidocs.bilan.simulation) once, in a
folder of its own; the review is then built in a fresh process, so that its time includes
importing pandas, scipy and matplotlib, and its peak memory (maximum resident set) is its
own. Wall time and CPU time are both printed: on a shared machine the wall time also counts
the other processes.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CIBLE_S = 10.0


def child(espace: Path) -> dict[str, float]:
    """Build the review of 2026 in this process and return its figures."""
    import datetime as dt

    from certidocs.bilan import construire_bilan

    start = time.perf_counter()
    cpu = time.process_time()
    report = construire_bilan(espace, 2026, sortie=espace / "bilan-2026.docx",
                              date_bilan=dt.date(2027, 1, 14))
    return {"bilan_s": time.perf_counter() - start, "bilan_cpu_s": time.process_time() - cpu,
            "passages": report.passages, "sessions": report.sessions,
            "pic_memoire_mio": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    """Simulate the register (kept between runs), then measure the review in a child."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--candidats", type=int, default=250)
    parser.add_argument("--enfant", type=Path, default=None)
    args = parser.parse_args()
    if args.enfant is not None:
        print(json.dumps(child(args.enfant)))
        return
    espace = ROOT / ".bench-bilan" / f"{args.sessions}x{args.candidats}"
    if not (espace / "registre.sqlite").exists():
        from certidocs.bilan.simulation import simuler_annee

        shutil.rmtree(espace, ignore_errors=True)
        espace.parent.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        simuler_annee(espace, sessions=args.sessions, candidats=args.candidats)
        print(f"registre simulé en {time.perf_counter() - start:.1f} s : {espace}")
    out = subprocess.run([sys.executable, __file__, "--enfant", str(espace)], check=True,
                         capture_output=True, text=True)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    print(f"bilan             {figures['bilan_s']:7.2f} s "
          f"(processeur {figures['bilan_cpu_s']:.2f} s)"
          f" pour {figures['passages']} passages, {figures['sessions']} sessions "
          f"(cible ≤ {CIBLE_S:.0f} s)")
    print(f"pic mémoire       {figures['pic_memoire_mio']:7.1f} Mio")


if __name__ == "__main__":
    main()
