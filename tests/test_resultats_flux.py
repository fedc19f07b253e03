"""The results step streams: the same resultats.json and resultats.xlsx as the step that held
the whole session (recorded before the change, in fixtures/resultats/), and a peak memory that
does not grow with the number of candidates."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hostiletools import ROOT

FIXTURES = Path(__file__).parent / "fixtures" / "resultats"

sys.path.insert(0, str(ROOT / "benchmarks"))


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def contenu_xlsx(path: Path) -> dict[str, Any]:
    """What a person sees and prints of resultats.xlsx: every cell's value, type, format and
    style, column widths, row heights, frozen panes and the print set-up of each sheet."""
    wb = openpyxl.load_workbook(path)
    out: dict[str, Any] = {"feuilles": wb.sheetnames}
    for ws in wb.worksheets:
        setup, margins = ws.page_setup, ws.page_margins
        out[ws.title] = {
            "figer": ws.freeze_panes,
            "titres": ws.print_title_rows,
            "page": [setup.orientation, setup.paperSize, setup.fitToWidth, setup.fitToHeight,
                     ws.sheet_properties.pageSetUpPr.fitToPage,
                     ws.print_options.horizontalCentered,
                     [margins.left, margins.right, margins.top, margins.bottom]],
            "pied": [[p.text, p.size] for p in (ws.oddFooter.left, ws.oddFooter.center,
                                                ws.oddFooter.right)],
            "largeurs": {k: d.width for k, d in sorted(ws.column_dimensions.items())
                         if d.width},
            "hauteurs": {str(k): d.height for k, d in sorted(ws.row_dimensions.items())
                         if d.height},
            "cellules": [[[c.coordinate, _plain(c.value), c.data_type, c.number_format,
                           bool(c.font.bold), c.font.color.rgb if c.font.color else None,
                           c.fill.fgColor.rgb if c.fill.fill_type else None,
                           bool(c.alignment.wrap_text), c.alignment.vertical]
                          for c in row if c.value is not None] for row in ws.iter_rows()],
        }
    return out


def session_demo(root: Path) -> Path:
    """The demo's session, its grids filled by the demo's simulated jurors (no documents)."""
    from certidocs import api
    from certidocs.demo import SAMPLES, demo_workspace, load_plan, seed_history, simulate_jurors

    plan = load_plan()
    espace = demo_workspace(root / "demo")
    folder = espace / "sessions" / plan["session"]
    shutil.copytree(SAMPLES / plan["session"], folder)
    seed_history(espace, plan)
    api.grilles(folder)
    simulate_jurors(folder, plan)
    return folder


def session_mesure(root: Path, n: int) -> Path:
    """The benchmark's session of ``n`` candidates (5 blocs × 20 criteria), its grids filled
    as the benchmark fills them; the second grid removed and the third left empty, so that
    anomalies are written too."""
    from bench import build_workspace, simulate_jurors_parallel

    from certidocs import api

    root.mkdir(parents=True, exist_ok=True)
    folder = build_workspace(root, n)
    api.grilles(folder)
    simulate_jurors_parallel(folder)  # candidate i: « Acquis » at a rate of 0.5 + (i mod 5) / 10
    grids = sorted((folder / "grilles").glob("*.xlsx"))
    grids[1].unlink()
    grids[2].unlink()
    api.grilles(folder)  # both written anew, empty, as jurors received them
    grids[1].unlink()
    return folder


def _compare(folder: Path, name: str) -> None:
    from certidocs import api

    api.resultats(folder)
    json_text = (folder / "resultats.json").read_text(encoding="utf-8")
    xlsx = contenu_xlsx(folder / "resultats.xlsx")
    expected_json = FIXTURES / f"{name}.json"
    expected_xlsx = FIXTURES / f"{name}_xlsx.json"
    if not expected_json.exists():  # recording the reference (before a change)
        FIXTURES.mkdir(parents=True, exist_ok=True)
        expected_json.write_text(json_text, encoding="utf-8")
        expected_xlsx.write_text(json.dumps(xlsx, ensure_ascii=False, indent=0, default=str) + "\n",
                                 encoding="utf-8")
        pytest.fail(f"référence enregistrée : {expected_json}")
    assert json_text == expected_json.read_text(encoding="utf-8")
    assert json.loads(json.dumps(xlsx, default=str)) == json.loads(
        expected_xlsx.read_text(encoding="utf-8"))


def test_demo_results_same_as_before_streaming(tmp_path: Path) -> None:
    _compare(session_demo(tmp_path), "demo")


def test_bench_results_same_as_before_streaming(tmp_path: Path) -> None:
    _compare(session_mesure(tmp_path, 40), "mesure")


def test_long_texts_same_as_before_streaming(tmp_path: Path) -> None:
    """Wrapped texts and heightened rows (long anomalies, long titles), remarks, a civilité
    looked up in the session, a candidate not in it, a formula-like name: as before."""
    from test_documents_data import referentiel, session
    from test_resultats_export import _resultats

    from certidocs.model import Anomalie
    from certidocs.resultats import write_results

    ref, s = referentiel(), session()
    resultats = _resultats(30)
    anomalies = [Anomalie(f"grilles/{i:03d}_NOM.xlsx", f"BC0{i % 3 + 1}!D{i + 7}",
                          "valeur inattendue « " + "très longue " * (i % 9) + "» : choisissez "
                          "« Acquis » ou « Non acquis » dans la liste") for i in range(25)]
    remarques = [Anomalie("grilles/001_NOM.xlsx", "", "enregistrée par LibreOffice " * 4)]
    json_path, xlsx = write_results(tmp_path, s, ref, resultats, anomalies, remarques)
    json_text = json_path.read_text(encoding="utf-8")
    content = contenu_xlsx(xlsx)
    expected_json, expected_xlsx = FIXTURES / "longs.json", FIXTURES / "longs_xlsx.json"
    if not expected_json.exists():  # recording the reference (before a change)
        expected_json.write_text(json_text, encoding="utf-8")
        expected_xlsx.write_text(json.dumps(content, ensure_ascii=False, indent=0,
                                            default=str) + "\n", encoding="utf-8")
        pytest.fail(f"référence enregistrée : {expected_json}")
    assert json_text == expected_json.read_text(encoding="utf-8")
    assert json.loads(json.dumps(content, default=str)) == json.loads(
        expected_xlsx.read_text(encoding="utf-8"))
    assert any(content["Anomalies"]["hauteurs"].values())


MEMOIRE_PETITE, MEMOIRE_GRANDE = 24, 96
"""Candidates of the two sessions whose results step is measured (4× apart)."""

RAPPORT_MEMOIRE_MAX = 1.5
"""The step's peak (Python allocations) at MEMOIRE_GRANDE over its peak at MEMOIRE_PETITE.
Holding the whole session (readings, evidence, journal statements, workbook cells) gave 2.5
(1.4 MB → 3.4 MB, measured 30/11/2026); streamed, 1.2: what remains proportional to the
session is its candidates as read from session.xlsx and their outcomes in the report."""


def _pic_resultats(folder: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """The peak of Python allocations (bytes) while the results step runs, in process, on
    lots of 4 candidates (so that the small session has several lots too)."""
    import tracemalloc

    from certidocs import api, pipeline, resultats

    monkeypatch.setenv("CERTIDOCS_PROCESSUS", "1")  # every reading in this process, measured
    monkeypatch.setattr(pipeline, "LOT_RESULTATS", 4)
    monkeypatch.setattr(resultats, "LIGNES_LARGEUR", 4)
    tracemalloc.start()
    try:
        api.resultats(folder)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_results_memory_does_not_grow_with_the_session(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from certidocs import api

    small = session_mesure(tmp_path / "petite", MEMOIRE_PETITE)
    big = session_mesure(tmp_path / "grande", MEMOIRE_GRANDE)
    api.resultats(small)  # modules imported and caches filled before measuring
    peaks = [_pic_resultats(folder, monkeypatch) for folder in (small, big)]
    assert peaks[1] / peaks[0] <= RAPPORT_MEMOIRE_MAX, peaks


def _pic_controle(folder: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """The peak of Python allocations (bytes) of the register's full control after the
    session's results were recorded in lots of 4, the journal read 2 entries at a time."""
    import tracemalloc

    import certidocs.registre as registre
    from certidocs import pipeline
    from certidocs.workspace import find_workspace

    monkeypatch.setenv("CERTIDOCS_PROCESSUS", "1")
    monkeypatch.setattr(pipeline, "LOT_RESULTATS", 4)
    monkeypatch.setattr(registre, "JOURNAL_PAGE", 2)
    from certidocs import api

    api.resultats(folder)
    with registre.ouvrir_registre(find_workspace(folder)) as reg:
        tracemalloc.start()
        try:
            assert reg.controler() == []
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


def test_register_control_memory_does_not_grow_with_the_register(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The control that every step runs first reads the journal a page at a time, replays it
    into a temporary file and keeps a digest of each row, not the rows: its peak does not
    follow the register (read whole, 4× the candidates gave 3.5× the peak; now 1.3×)."""
    peaks = [_pic_controle(session_mesure(tmp_path / name, n), monkeypatch)
             for name, n in (("petite", MEMOIRE_PETITE), ("grande", MEMOIRE_GRANDE))]
    assert peaks[1] / peaks[0] <= RAPPORT_MEMOIRE_MAX, peaks
