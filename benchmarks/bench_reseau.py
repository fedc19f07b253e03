"""`python benchmarks/bench_reseau.py --serveur URL`: four centres on one PostgreSQL register.

Four workspaces (one per centre, different candidates, N each, default 250) are prepared once:
synthetic référentiel, session, grids filled by simulated jurors. Then, on copies:

- SQLite, the status quo: each workspace's own ``registre.sqlite``, `resultats` then
  `documents`, one centre after the other;
- PostgreSQL, one centre after the other (the engine's own cost, against SQLite's);
- PostgreSQL, the network: the four workspaces declare their centre (``[centre] siret``) and
  one shared register (a fresh database on ``--serveur``), and run `resultats` then
  `documents` at the same time, each in its own process. On one machine the four processes
  share its cores: the wall time says what the shared register costs, not what four
  centres on four machines would see.

Checked after the PostgreSQL run: every passage recorded (4 × N), one certificate number per
certified candidate, all distinct and numbered 1…K without a gap, no process failed (no
« database is locked » or any other error), and `registre controler` passes.

Usage: python benchmarks/bench_reseau.py --serveur postgresql://postgres@/postgres?host=…
       [--candidats N] [--types certificat,proces_verbal]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import BENCH_TYPES, build_workspace  # after the path is set

CENTRES = 4
ENV_URL = "CERTIDOCS_REGISTRE_URL"


def prepare(root: Path, n: int) -> list[Path]:
    """The four sessions, grids filled; their folders."""
    from certidocs import api
    from certidocs.demo import simulate_jurors

    folders = []
    for k in range(1, CENTRES + 1):
        (root / f"centre{k}").mkdir(parents=True)
        folder = build_workspace(root / f"centre{k}", n, prefixe=f"C{k}x")
        api.grilles(folder)
        plan = {"jurys_simules": {f"{i:05d}": {"taux": {"tous": 0.5 + (i % 5) / 10}}
                                  for i in range(1, n + 1)}}
        simulate_jurors(folder, plan)
        folders.append(folder)
    return folders


def copy(folders: list[Path], dest: Path, url: str | None) -> list[Path]:
    """Fresh copies of the workspaces, without their register; on a network, each declares
    its centre and the shared register."""
    out = []
    for k, folder in enumerate(folders, start=1):
        ws = folder.parent.parent
        dest.mkdir(exist_ok=True)
        target = Path(shutil.copytree(ws, dest / f"centre{k}"))
        for name in ("registre.sqlite", "registre.sqlite.tete"):
            (target / name).unlink(missing_ok=True)
        if url:
            with (target / "certidocs.toml").open("a", encoding="utf-8") as fh:
                fh.write(f'\n[centre]\nnom = "Centre {k}"\nsiret = "{k:014d}"\n'
                         f'\n[registre]\nurl = "{url}"\n')
        out.append(target / "sessions" / "mesure")
    return out


def run_centre(folder: Path, types: tuple[str, ...]) -> dict[str, Any]:
    """In a child process: `resultats` then `documents` for one centre; times and outcome."""
    from certidocs import api

    figures: dict[str, Any] = {"centre": folder.parent.parent.name}
    began = time.perf_counter()
    report = api.resultats(folder)
    figures["resultats_s"] = round(time.perf_counter() - began, 2)
    began = time.perf_counter()
    docs = api.documents(folder, types=types)
    figures["documents_s"] = round(time.perf_counter() - began, 2)
    figures["documents_n"] = len(docs.fichiers)
    data = json.loads((folder / "resultats.json").read_text(encoding="utf-8"))
    figures["certifies"] = sum(c["decision"] == "Certifié" for c in data["candidats"])
    del report
    return figures


def spawn(folder: Path, types: tuple[str, ...]) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != ENV_URL}
    return subprocess.Popen(
        [sys.executable, __file__, "--centre", str(folder), "--types", ",".join(types)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def collect(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = proc.communicate()
    if proc.returncode != 0:
        return {"erreur": (err or out)[-2000:], "verrou": "database is locked" in err + out}
    return dict(json.loads(out.strip().splitlines()[-1]))


def check_network(url: str, n: int, results: list[dict[str, Any]]) -> dict[str, Any]:
    """What the shared register holds after the concurrent run."""
    import psycopg

    with psycopg.connect(url) as conn:
        passages = conn.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
        per_centre = dict(conn.execute("SELECT centre, COUNT(*) FROM passages GROUP BY centre"
                                       ).fetchall())
        ranks = [r[0] for r in conn.execute("SELECT rang FROM certificats ORDER BY rang")]
        numbers = [r[0] for r in conn.execute("SELECT numero FROM certificats")]
    expected = sum(r.get("certifies", 0) for r in results)
    return {"passages": passages, "passages_attendus": CENTRES * n,
            "passages_par_centre": sorted(per_centre.values()),
            "certificats": len(numbers), "certificats_attendus": expected,
            "numeros_distincts": len(set(numbers)) == len(numbers),
            "numeros_sans_trou": ranks == list(range(1, len(ranks) + 1))}


def controler(folder: Path) -> int:
    from certidocs import api

    return len(api.controler_registre(folder.parent.parent))


def run_network(serveur: str, folders: list[Path], dest: Path, mode: str,
                types: tuple[str, ...], n: int) -> dict[str, Any]:
    """The four centres on one fresh shared register: at the same time (``postgresql``) or
    one after the other (``postgresql_sequentiel``, the engine's cost alone)."""
    import psycopg

    figures: dict[str, Any] = {}
    base = "bench_" + uuid.uuid4().hex[:8]
    with psycopg.connect(serveur, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {base}")
    url = urlunsplit(urlsplit(serveur)._replace(path="/" + base))
    try:
        network = copy(folders, dest, url)
        began = time.perf_counter()
        if mode == "postgresql":
            procs = [spawn(f, types) for f in network]
            figures[mode] = [collect(p) for p in procs]
        else:
            figures[mode] = [collect(spawn(f, types)) for f in network]
        figures[f"{mode}_total_s"] = round(time.perf_counter() - began, 1)
        figures[f"{mode}_registre"] = check_network(url, n, figures[mode])
        figures[f"{mode}_controle_anomalies"] = controler(network[0])
    finally:
        with psycopg.connect(serveur, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {base} WITH (FORCE)")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--serveur", default=os.environ.get("CERTIDOCS_TEST_POSTGRESQL", ""))
    parser.add_argument("--candidats", type=int, default=250)
    parser.add_argument("--types", default=",".join(BENCH_TYPES))
    parser.add_argument("--centre", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    types = tuple(t for t in args.types.split(",") if t)
    if args.centre:
        print(json.dumps(run_centre(args.centre, types)))
        return
    if not args.serveur:
        parser.error("--serveur URL (superuser) requis, ou CERTIDOCS_TEST_POSTGRESQL")
    figures: dict[str, Any] = {"centres": CENTRES, "candidats_par_centre": args.candidats,
                               "types": list(types)}
    with tempfile.TemporaryDirectory(prefix="certidocs-reseau-") as tmp:
        root = Path(tmp)
        began = time.perf_counter()
        folders = prepare(root / "prep", args.candidats)
        figures["preparation_s"] = round(time.perf_counter() - began, 1)

        sequential = copy(folders, root / "sqlite", None)
        began = time.perf_counter()
        figures["sqlite"] = [collect(spawn(f, types)) for f in sequential]
        figures["sqlite_total_s"] = round(time.perf_counter() - began, 1)
        figures["sqlite_controle_anomalies"] = sum(controler(f) for f in sequential)

        for mode in ("postgresql_sequentiel", "postgresql"):
            figures.update(run_network(args.serveur, folders, root / mode, mode, types,
                                       args.candidats))
    print(json.dumps(figures, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
