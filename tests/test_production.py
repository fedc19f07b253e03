"""`certidocs documents` on a real session: stages, certificates from the register, checks."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document
from sessiondata import make_session

from certidocs.cli import main
from certidocs.session import open_session
from certidocs.signature import ensure_keys
from certidocs.simulation import fill_grid, simulated_evaluations
from certidocs.workspace import SECRET_NAME, find_workspace


def text_of(path: Path) -> str:
    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)


@pytest.fixture
def session_done(tmp_path: Path, cli_runner: CliRunner) -> Path:
    """A session whose grids are filled (001 and 003 certified, 002 not) and results computed."""
    (tmp_path / "certidocs.toml").write_text(
        '[organisme]\nnom = "Centre & Cie <Test>"\n[signataire]\nnom = "Claire Martin"\n',
        encoding="utf-8")
    ensure_keys(tmp_path)
    folder = make_session(tmp_path / "s1")
    assert cli_runner.invoke(main, ["grilles", "s1"]).exit_code == 0
    opened = open_session(folder, find_workspace(folder))
    ref = opened.referentiel
    from certidocs.grid.writer import grid_filename

    for c, rate in zip(opened.lecture.session.candidats, (0.9, 0.3, 0.8), strict=True):
        fill_grid(folder / "grilles" / grid_filename(c), ref, c.blocs(ref),
                  simulated_evaluations(ref, c.blocs(ref), {"tous": rate}, c.numero))
    assert cli_runner.invoke(main, ["resultats", "s1"]).exit_code == 0
    return folder


def test_before_the_exam_only_convocations(tmp_path: Path, cli_runner: CliRunner) -> None:
    """Without results: convocations, attendance sheet, jury convocations, nothing else."""
    make_session(tmp_path / "s1")
    result = cli_runner.invoke(main, ["documents", "s1"])
    assert result.exit_code == 0, result.output + result.stderr
    folders = sorted(p.name for p in (tmp_path / "s1" / "documents").iterdir())
    assert folders == ["convocation_candidat", "convocation_jury", "emargement"]
    convocation = text_of(tmp_path / "s1" / "documents" / "convocation_candidat" /
                          "002_N-DIAYE_Moussa.docx")
    assert "Monsieur Moussa N'DIAYE" in convocation
    assert "Vous présenterez les blocs de compétences suivants\u00a0:" in convocation
    assert "BC02 – Animer des communautés et des ventes en ligne" in convocation
    assert "BC03" not in convocation  # 002 presents BC01 and BC02 only


def test_after_results_every_document_with_certificates(session_done: Path,
                                                        cli_runner: CliRunner) -> None:
    """After results: certificates for the certified, numbered from the register, the same
    numbers when regenerated; a verification code that `registre verifier` accepts."""
    result = cli_runner.invoke(main, ["documents", "s1"])
    assert result.exit_code == 0, result.output + result.stderr
    docs = session_done / "documents"
    assert sorted(p.name for p in (docs / "certificat").glob("0*.docx")) == [
        "001_LEFEVRE_Elodie.docx", "003_GARNIER_Anne-Sophie.docx"]
    certificate = text_of(docs / "certificat" / "001_LEFEVRE_Elodie.docx")
    assert "CPECOM-2026-00001" in certificate
    assert "Madame Élodie LEFÈVRE" in certificate
    letter = Document(str(docs / "notification_resultats" / "001_LEFEVRE_Elodie.docx"))
    header = "\n".join(c.text for t in letter.sections[0].header.tables for r in t.rows
                       for c in r.cells)
    assert "Centre & Cie <Test>" in header
    pv = text_of(next((docs / "proces_verbal").glob("*.docx")))
    assert "Non certifié" in pv and "Certifié" in pv
    assert (docs / "notification_resultats" / "002_N-DIAYE_Moussa.docx").exists()
    again = cli_runner.invoke(main, ["documents", "s1", "--type", "certificat"])
    assert again.exit_code == 0, again.output + again.stderr
    assert "CPECOM-2026-00001" in text_of(docs / "certificat" / "001_LEFEVRE_Elodie.docx")
    import sqlite3

    conn = sqlite3.connect(session_done.parent / "registre.sqlite")
    rows = conn.execute("SELECT numero, code_verification FROM certificats ORDER BY numero")
    numbers = rows.fetchall()
    assert [n for n, _ in numbers] == ["CPECOM-2026-00001", "CPECOM-2026-00002"]
    numero, code = numbers[0]
    assert code in certificate
    ok = cli_runner.invoke(main, ["registre", "verifier", numero, code.lower().replace("-", "")])
    assert ok.exit_code == 0, ok.output + ok.stderr
    assert "authentique" in ok.output and "Élodie Lefèvre" in ok.output
    bad = cli_runner.invoke(main, ["registre", "verifier", numero, "AAAA-BBBB-CCCC"])
    assert bad.exit_code == 1 and "n'est pas authentique" in bad.stderr
    unknown = cli_runner.invoke(main, ["registre", "verifier", "CPECOM-2026-99999", code])
    assert unknown.exit_code == 1
    secret = session_done.parent / SECRET_NAME
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    data = json.loads((session_done / "resultats.json").read_text(encoding="utf-8"))
    assert [c["decision"] for c in data["candidats"]] == ["Certifié", "Non certifié", "Certifié"]


def test_unknown_type_and_missing_results(tmp_path: Path, cli_runner: CliRunner) -> None:
    """A type that does not exist, or post-exam documents without results: exit 1, no file."""
    make_session(tmp_path / "s1")
    result = cli_runner.invoke(main, ["documents", "s1", "--type", "diplome"])
    assert result.exit_code == 1 and "type(s) de document inconnu(s) : diplome" in result.stderr
    result = cli_runner.invoke(main, ["documents", "s1", "--type", "certificat"])
    assert result.exit_code == 1 and "lancez d'abord « certidocs resultats" in result.stderr
    assert not (tmp_path / "s1" / "documents").exists()



def test_progress_counts_every_document(session_done: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The progress callback counts the documents up to the announced total, which is right,
    in this process and from the process apart that renders them (at most every
    apart.PROGRESS_SECONDS, the last count always)."""
    import certidocs.production as production

    for apart in (False, True):
        monkeypatch.setattr(production, "RENDU_A_PART", apart)
        calls: list[tuple[int, int]] = []
        report = production.produire_documents(
            session_done, progress=lambda d, t, calls=calls: calls.append((d, t)))
        rendered = [p for p in report.fichiers if not p.name.startswith("_impression_")]
        assert calls, "no progress reported"
        counts = [d for d, _ in calls]
        assert counts == sorted(set(counts)) and counts[-1] == len(rendered), (apart, counts)
        assert {t for _, t in calls} == {len(rendered)}, apart
        if not apart:
            assert counts == list(range(1, len(rendered) + 1))


def _plain(value: object) -> object:
    """``value`` with its lazy lists (LazyRows) made lists, to be compared."""
    from collections.abc import Mapping, Sequence

    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(v) for v in value]
    return value


def test_workers_get_one_candidate_per_job(session_done: Path) -> None:
    """What goes once to every rendering process holds no candidate; a job about a candidate
    carries that candidate's data only; the contexts are those built from the whole data; the
    procès-verbal's job carries the store of the outcomes, not the outcomes (issue 21)."""
    import pickle

    from certidocs.pipeline import open_checked
    from certidocs.production import _contexte, _dossier_donnees, _jobs, _prepare

    opened = open_checked(session_done)
    with _dossier_donnees(session_done) as folder:
        lot = _prepare(session_done, opened, "apres", None, folder)
        shared = lot.donnees.partagees()
        assert not shared.session.candidats and not shared.candidats
        assert shared.magasin is None and not shared.certifies
        jobs = list(_jobs(lot.donnees, "apres", None))
        fiche = next(j for j in jobs if j.type == "fiche_resultats")
        (person,) = [a for a in fiche.contexte.args if not isinstance(a, str)]
        assert person.candidat.numero == "001" and person.resultat.numero == "001"
        assert len(pickle.dumps(fiche.contexte)) < len(pickle.dumps(lot.donnees)) / 2
        for job in jobs:
            key = job.contexte.args[-1] if job.type == "fiche_resultats" else None
            if key is not None:
                numero = key.candidat.numero
                assert job.contexte(shared) == _contexte(
                    lot.donnees, job.type, numero, lot.donnees.personne(numero, key.planning))
        pv = next(j for j in jobs if j.type == "proces_verbal")
        sent = pickle.loads(pickle.dumps(pv.contexte))
        assert b"Resultat" not in pickle.dumps(pv.contexte)
        assert _plain(sent(shared)) == _plain(pv.contexte(shared))  # it reads the same store
    assert not folder.exists()
