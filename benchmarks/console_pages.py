"""`make bench` (second part): server time of each console page for a session of N candidates.

The synthetic session of ``bench.py`` (1,000 candidates by default) is taken through grids,
simulated jurors, results and documents; then each page of the console is asked for several
times in-process (Starlette's test client, no network) and the median time of the ASGI app is
reported, next to the target of 200 ms. Downloads (ZIP archives) are timed too, apart: they
are files, not pages.

Usage: python benchmarks/console_pages.py [--candidats N] [--fois K]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import BENCH_TYPES, build_workspace

TARGET_MS = 200.0


def main() -> None:
    """Build the session, then time every page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidats", type=int, default=1000)
    parser.add_argument("--fois", type=int, default=5, help="requêtes par page (médiane)")
    args = parser.parse_args()

    from starlette.testclient import TestClient

    from certidocs import api
    from certidocs.console.app import create_app
    from certidocs.console.security import RateLimiter, Secrets
    from certidocs.demo import simulate_jurors

    n = args.candidats
    with tempfile.TemporaryDirectory(prefix="certidocs-bench-console-") as tmp:
        folder = build_workspace(Path(tmp), n)
        espace = folder.parent.parent
        print(f"Session de {n} candidats : grilles, jurés simulés, résultats, documents…")
        api.grilles(folder)
        simulate_jurors(folder, {"jurys_simules": {
            f"{i:05d}": {"taux": {"tous": 0.5 + (i % 5) / 10}} for i in range(1, n + 1)}})
        api.resultats(folder)
        api.documents(folder, types=BENCH_TYPES)
        with sqlite3.connect(espace / "registre.sqlite") as conn:
            numero, code = conn.execute(
                "SELECT numero, code_verification FROM certificats LIMIT 1").fetchone()
        app = create_app(espace, Secrets(token="mesure"))
        app.state.console.limiter = RateLimiter(per_client=10_000, overall=10_000)
        client = TestClient(app, base_url="http://127.0.0.1")
        client.get("/?token=mesure")
        pages = {
            "espace": "/",
            "session": "/session/mesure",
            "progression (JSON)": "/session/mesure/etat",
            "résultats": "/session/mesure/resultats",
            "documents": "/session/mesure/documents",
            "vérifier (public)": f"/verifier?numero={numero}&code={code}",
        }
        downloads = {"ZIP des grilles": "/session/mesure/zip/grilles",
                     "ZIP des documents": "/session/mesure/zip/documents"}
        rows = []
        for label, url in {**pages, **downloads}.items():
            times = []
            for _ in range(args.fois if label in pages else 1):
                began = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, (url, response.status_code)
            rows.append((label, statistics.median(times), len(response.content), label in pages))
    print(f"\nTemps de réponse de la console ({n} candidats, médiane) :")
    for label, ms, size, is_page in rows:
        verdict = ("ok" if ms <= TARGET_MS else "AU-DELÀ") if is_page else "téléchargement"
        print(f"  {label:<22} {ms:8.1f} ms  {size / 1024:9.0f} Kio  {verdict}")
    slowest = max((r for r in rows if r[3]), key=lambda r: r[1])
    print(f"Page la plus lente : {slowest[0]} ({slowest[1]:.1f} ms ; cible ≤ {TARGET_MS:.0f} ms)")


if __name__ == "__main__":
    main()
