"""certidocs bilan: the annual review's figures recomputed independently from the register
(sqlite3 and json, no pandas), on the demo's register and on a simulated year.

The review is built by the command in a child process: imported here, scipy and matplotlib
would stay in pytest's memory, and on Linux a forked child's peak memory (ru_maxrss) counts
its parent's pages until exec, which the hostile tests' memory limits would then measure.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import sqlite3
import statistics
import subprocess
import sys
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from certidocs.bilan.calculs import ECART_NOTABLE, MIN_AUTRES_JURES, MIN_GRILLES_JURE
from certidocs.bilan.simulation import simuler_annee
from certidocs.cli import main

JOUR = dt.date(2027, 1, 14)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "espace"
    result = CliRunner().invoke(main, ["demo", str(root)])
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture(scope="module")
def annee(tmp_path_factory: pytest.TempPathFactory) -> object:
    return simuler_annee(tmp_path_factory.mktemp("sim") / "espace", sessions=12, candidats=30)


def _bilan(espace: Path, rapport: Path) -> tuple[Path, Path]:
    """Run ``certidocs bilan`` on ``espace`` in a child process; the report and workbook."""
    done = subprocess.run([sys.executable, "-m", "certidocs", "bilan", "--annee", "2026",
                           "--espace", str(espace), "-o", str(rapport), "--date",
                           JOUR.strftime("%d/%m/%Y")], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return rapport, rapport.with_suffix(".xlsx")


def _wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson interval by its textbook formula: an independent check of scipy's."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def _rows(ws: object) -> list[dict[str, object]]:
    values = list(ws.iter_rows(values_only=True))  # type: ignore[attr-defined]
    header = [str(h) for h in values[0]]
    out = []
    for r in values[1:]:
        if all(v is None for v in r):  # the table ends; a chart and its sentence follow
            break
        out.append(dict(zip(header, r, strict=False)))
    return out


def _docx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        xml = zf.read("word/document.xml").decode("utf-8")
    return re.sub(r"<[^>]+>", "", re.sub(r"</w:p>", "\n", xml))


def _passages(db: Path, annee: int) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = conn.execute("SELECT p.*, s.nom AS session_nom FROM passages p JOIN sessions s ON "
                        "s.id = p.session_id WHERE substr(s.date_debut, 1, 4) = ?",
                        (str(annee),)).fetchall()
    conn.close()
    return rows


def _verifie_chiffres(espace: Path, out: Path) -> dict[str, list[dict[str, object]]]:
    """Build the review and compare its workbook with figures recomputed from the register."""
    _, classeur = _bilan(espace, out / "bilan-2026.docx")
    wb = load_workbook(classeur)
    sheets = {name: _rows(wb[name]) for name in wb.sheetnames if name != "Lisez-moi"}
    rows = _passages(espace / "registre.sqlite", 2026)
    # per session: counts by decision
    by_session: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        by_session[r["session_nom"]][r["decision"]] += 1
    got = {s["Session"]: s for s in sheets["Sessions"]}
    assert set(got) == set(by_session)
    for name, counts in by_session.items():
        assert got[name]["Inscrits"] == sum(counts.values())
        assert got[name]["Certifiés"] == counts["Certifié"]
        assert got[name]["Validations partielles"] == counts["Validation partielle"]
        assert got[name]["Non certifiés"] == counts["Non certifié"]
        assert got[name]["Absents"] == counts["Absent"]
    # per criterion: evaluations, acquis, rate and Wilson interval
    acquis: Counter[tuple[str, str]] = Counter()
    total: Counter[tuple[str, str]] = Counter()
    for r in rows:
        for code, value in json.loads(r["preuves"]).get("evaluations", {}).items():
            if value is not None:
                total[(r["referentiel"], code)] += 1
                acquis[(r["referentiel"], code)] += bool(value)
    crit = {(c["Certification"], c["Critère"]): c for c in sheets["Critères"]}
    assert set(crit) == set(total)
    for key, n in total.items():
        c = crit[key]
        assert c["Évaluations"] == n and c["Acquis"] == acquis[key]
        assert c["Taux"] == pytest.approx(acquis[key] / n)
        low, high = _wilson(acquis[key], n)
        assert c["IC 95 % bas"] == pytest.approx(low, abs=1e-9)
        assert c["IC 95 % haut"] == pytest.approx(high, abs=1e-9)
    # per access route: present and certified
    voies: Counter[tuple[str, str]] = Counter()
    certifies: Counter[tuple[str, str]] = Counter()
    for r in rows:
        if r["decision"] != "Absent":
            voies[(r["referentiel"], r["voie_acces"])] += 1
            certifies[(r["referentiel"], r["voie_acces"])] += r["decision"] == "Certifié"
    for v in sheets["Voies d'accès"]:
        key = (str(v["Certification"]), str(v["Voie d'accès"]))
        assert v["Présents"] == voies[key] and v["Certifiés"] == certifies[key]
    _verifie_jures(rows, sheets["Jurés"])
    return sheets


def _verifie_jures(rows: list[sqlite3.Row], table: list[dict[str, object]]) -> None:
    """Per certification and juror: grids signed (visa kept in the evidence), evaluations,
    « Acquis », Wilson interval, the median of the other ranked jurors and the reading."""
    grilles: Counter[tuple[str, str]] = Counter()
    total: Counter[tuple[str, str]] = Counter()
    acquis: Counter[tuple[str, str]] = Counter()
    for r in rows:
        preuves = json.loads(r["preuves"])
        jures = preuves.get("jures") or {}
        marks = [v for v in preuves.get("evaluations", {}).values() if v is not None]
        if jures.get("source") != "visa" or not marks:
            continue
        for name in jures["noms"]:
            key = (r["referentiel"], name)
            grilles[key] += 1
            total[key] += len(marks)
            acquis[key] += sum(bool(v) for v in marks)
    got = {(str(j["Certification"]), str(j["Juré"])): j for j in table}
    assert set(got) == set(grilles)
    rates = {key: acquis[key] / total[key] for key in grilles}
    for key, j in got.items():
        assert (j["Grilles signées"], j["Évaluations"], j["Acquis"]) == (
            grilles[key], total[key], acquis[key]), key
        assert j["Taux"] == pytest.approx(rates[key])
        low, high = _wilson(acquis[key], total[key])
        assert j["IC 95 % bas"] == pytest.approx(low, abs=1e-9)
        assert j["IC 95 % haut"] == pytest.approx(high, abs=1e-9)
        others = [rates[k] for k in grilles if k[0] == key[0] and k != key
                  and grilles[k] >= MIN_GRILLES_JURE]
        assert j["Autres jurés classés"] == len(others)
        reading = str(j["Lecture"])
        if grilles[key] < MIN_GRILLES_JURE:
            assert reading.startswith("non classé"), key  # nobody ranked under the minimum
            continue
        if len(others) < MIN_AUTRES_JURES:
            assert reading.startswith("non comparé"), key
            continue
        reference = statistics.median(others)
        assert j["Taux de référence"] == pytest.approx(reference)
        assert j["Écart"] == pytest.approx(rates[key] - reference)
        flagged = (reference < low or reference > high) and \
            abs(rates[key] - reference) >= ECART_NOTABLE
        assert reading.startswith("plus ") == flagged, (key, reading)


def test_demo_figures_match_the_register(demo: Path, tmp_path: Path) -> None:
    sheets = _verifie_chiffres(demo, tmp_path)
    demo_session = next(s for s in sheets["Sessions"] if s["Session"] == "session-2026-12")
    # samples/demo.yaml: 7 certified, 2 partial, 2 failed, 1 absent; 007 is a retake, certified
    assert (demo_session["Certifiés"], demo_session["Validations partielles"],
            demo_session["Non certifiés"], demo_session["Absents"]) == (7, 2, 2, 1)
    assert (demo_session["Rattrapages"], demo_session["Rattrapages certifiés"]) == (1, 1)
    assert [r["Décision"] for r in sheets["Recours"]] == ["Non recevable"]
    assert len(sheets["Dysfonctionnements"]) == 1
    # three jurors of the demo, read from the grids' visas: nobody ranked on 11 grids
    jures = {j["Juré"]: j for j in sheets["Jurés"]}
    assert set(jures) == {"Anne ROUX", "Paul DURAND", "Inès LEROY"}
    assert (jures["Paul DURAND"]["Grilles signées"], jures["Anne ROUX"]["Grilles signées"],
            jures["Inès LEROY"]["Grilles signées"]) == (11, 5, 6)  # 006 absent: no grid
    assert all(str(j["Lecture"]).startswith("non classé") for j in jures.values())
    assert {j["Méthode"] for j in jures.values()} == {"grilles signées (visa)"}


def test_demo_report_states_scope_date_and_figures(demo: Path, tmp_path: Path) -> None:
    rapport, _ = _bilan(demo, tmp_path / "b.docx")
    text = _docx_text(rapport)
    assert "Bilan annuel 2026" in text
    assert "14 janvier 2027" in text
    assert "CPECOM – Chef de Projet E-Commerce" in text
    assert "le visa du jury de chaque grille" in text and "grille par grille" in text
    assert "session-2026-12" in text and "20/12/2026" in text  # the appeal, French date
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text.replace("session-2026-", "")), \
        "no ISO date in what people read"
    with zipfile.ZipFile(rapport) as zf:
        images = [n for n in zf.namelist() if n.startswith("word/media/")]
    # sessions, criteria, jurors (from the visas) and routes; no session jury chart: nobody
    # is compared with another session
    assert len(images) == 4


def test_same_register_same_files(demo: Path, tmp_path: Path) -> None:
    a = _bilan(demo, tmp_path / "a" / "b.docx")
    b = _bilan(demo, tmp_path / "b" / "b.docx")
    assert a[0].read_bytes() == b[0].read_bytes()
    assert a[1].read_bytes() == b[1].read_bytes()
    with zipfile.ZipFile(a[1]) as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert "2027-01-14T00:00:00Z" in zf.read("docProps/core.xml").decode()


def test_simulated_year_figures_and_what_it_hides(annee: object, tmp_path: Path) -> None:
    sheets = _verifie_chiffres(annee.espace, tmp_path)  # type: ignore[attr-defined]
    flags = {(c["Certification"], c["Critère"]): c["Signal"] for c in sheets["Critères"]}
    for code, codes in annee.faciles.items():  # type: ignore[attr-defined]
        for k in codes:
            assert flags[(code, k)] == "presque toujours acquis", (code, k)
    for code, codes in annee.difficiles.items():  # type: ignore[attr-defined]
        for k in codes:
            assert flags[(code, k)] == "presque jamais acquis", (code, k)
    others = [f for key, f in flags.items() if key[1] not in
              {k for ks in annee.faciles.values() for k in ks}  # type: ignore[attr-defined]
              | {k for ks in annee.difficiles.values() for k in ks}]  # type: ignore[attr-defined]
    assert others and all(f in (None, "") for f in others)
    jures = {(j["Certification"], j["Juré"]): j for j in sheets["Jurés"]}
    severe = jures[("CPECOM", annee.severe)]  # type: ignore[attr-defined]
    assert str(severe["Lecture"]).startswith("plus sévère")
    assert severe["Écart"] < -0.05  # type: ignore[operator]
    # the only one: his co-signers and the other jurors are not flagged
    assert [k for k, j in jures.items() if str(j["Lecture"]).startswith("plus")] == [
        ("CPECOM", annee.severe)]  # type: ignore[attr-defined]
    # harsher still, on too few grids: not ranked
    rare = jures[("CPECOM", annee.rare)]  # type: ignore[attr-defined]
    assert rare["Écart"] < severe["Écart"]  # type: ignore[operator]
    assert str(rare["Lecture"]).startswith("non classé")
    # a juror of one centre: the confounding is said
    assert str(jures[("CPECOM", annee.un_centre)]["Centre et juré"]).startswith(  # type: ignore[attr-defined]
        "un seul centre (Marseille)")
    # the session comparison is kept, and says its method
    assert {j["Méthode"] for j in sheets["Jurés (sessions)"]} == {"sessions siégées (feuille Jury)"}
    # no jury is ranked on fewer than 10 candidates
    for j in sheets["Jurys"]:
        if j["Candidats comparés"] < 10:  # type: ignore[operator]
            assert str(j["Lecture"]).startswith("non classé")
    voies = {v["Voie d'accès"]: v for v in sheets["Voies d'accès"]
             if v["Certification"] == "CPECOM"}
    assert voies["VAE"]["Taux"] < voies["Formation"]["Taux"]  # type: ignore[operator]
    # several centres: compared
    assert len({c["Centre"] for c in sheets["Centres"]}) == 3


def test_workbook_has_native_charts_and_readme(annee: object, tmp_path: Path) -> None:
    _, classeur = _bilan(annee.espace, tmp_path / "b.docx")  # type: ignore[attr-defined]
    wb = load_workbook(classeur)
    assert wb.sheetnames[0] == "Lisez-moi"
    readme = " ".join(str(c.value) for row in wb["Lisez-moi"].iter_rows() for c in row)
    assert "14 janvier 2027" in readme and "Wilson" in readme
    with zipfile.ZipFile(classeur) as zf:
        charts = [n for n in zf.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 4


def test_year_without_visas_compares_jurors_by_session(tmp_path: Path) -> None:
    """A register written before the visa was read: no per-grid table, the session method,
    said as such in the report."""
    sim = simuler_annee(tmp_path / "espace", sessions=6, candidats=12, visas=False)
    rapport, classeur = _bilan(sim.espace, tmp_path / "b.docx")
    wb = load_workbook(classeur)
    assert _rows(wb["Jurés"]) == []
    by_session = _rows(wb["Jurés (sessions)"])
    assert by_session and {j["Méthode"] for j in by_session} == {
        "sessions siégées (feuille Jury)"}
    text = _docx_text(rapport)
    assert "aucune grille de l'année ne porte de visa lu" in text
    assert "Jurés (sessions)" in text


@pytest.mark.parametrize(("args", "message"), [
    (["--annee", "2031"], "aucun passage enregistré pour les sessions de 2031"),
    (["--annee", "2026", "--referentiel", "MMDC"], "pour le référentiel MMDC"),
    (["--annee", "2026", "-o", "bilan.pdf"], "doit finir par .docx"),
    (["--annee", "2026", "--date", "31/02/2027"], "n'est pas une date"),
    (["--annee", "26"], "année « 26 » invalide"),
])
def test_bad_input_french_message_exit_1_nothing_written(demo: Path, tmp_path: Path,
                                                         args: list[str], message: str
                                                         ) -> None:
    out = tmp_path / "sortie"
    out.mkdir()
    args = [a if a != "bilan.pdf" else str(out / a) for a in args]
    result = CliRunner().invoke(main, ["bilan", *args, "--espace", str(demo), "-o",
                                       str(out / "b.docx")] if "-o" not in args else
                                ["bilan", *args, "--espace", str(demo)])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert list(out.iterdir()) == []


def test_no_register(tmp_path: Path) -> None:
    CliRunner().invoke(main, ["init", str(tmp_path / "e")])
    result = CliRunner().invoke(main, ["bilan", "--annee", "2026", "--espace",
                                       str(tmp_path / "e")])
    assert result.exit_code == 1
    assert "registre introuvable" in result.output
