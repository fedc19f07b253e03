"""`referentiel importer DOC --export-rncp EXPORT --fiche N°`: the certifier's Word référentiel
(compétences and criteria) under the fiche's official identity, dates, bloc codes and titles;
what could not be matched is listed in a_verifier."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from docx import Document
from helpers import FIXTURES
from test_import_docx import HEADER4, _header, _row, _table, _title

from certidocs.cli import main

SYNTH = FIXTURES / "officiel" / "export-synthetique-flux41.xml"


def _document(path: Path) -> Path:
    """Three blocs in the document's own order and words: bloc 1 titled as the fiche's BC03,
    bloc 2 with a close title of BC02, bloc 3 nowhere in the fiche (BC01 is missing)."""
    doc = Document()
    doc.add_paragraph("Référentiel « Technicien des ruchers »", style="Title")
    table = _table(doc, 4)
    _header(table, HEADER4, repeat=True)
    _title(table, "Bloc de compétences 1 : Rendre compte à l'apiculteur")
    _row(table, [["Compte rendu"], ["C1. Rédiger le compte rendu d'intervention"],
                 ["Entretien"], ["Le compte rendu est daté.", "Les mesures y figurent."]])
    _title(table, "Bloc de compétences 2 : Diagnostiquer les pannes de capteurs")
    _row(table, [["Diagnostic"], ["C2. Isoler le capteur défaillant"],
                 ["Étude de cas"], ["Le capteur défaillant est identifié."]])
    _title(table, "Bloc de compétences 3 : Vendre le miel en circuit court")
    _row(table, [["Vente"], ["C3. Tenir un stand"], ["Mise en situation"],
                 ["Le stand est tenu."]])
    doc.save(str(path))
    return path


def _combine(cli_runner: CliRunner, tmp_path: Path, fiche: str) -> tuple[dict[str, Any], str]:
    out = tmp_path / "r.yaml"
    document = _document(tmp_path / "d.docx")
    result = cli_runner.invoke(main, ["referentiel", "importer", str(document),
                                      "--export-rncp", str(SYNTH), "--fiche", fiche,
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    return yaml.safe_load(out.read_text(encoding="utf-8")), result.output


def test_blocs_matched_by_title_take_official_codes(tmp_path: Path,
                                                   cli_runner: CliRunner) -> None:
    """Exact title → BC03, close title → BC02 (not by rank), criteria kept and relinked."""
    data, _ = _combine(cli_runner, tmp_path, "RNCP99001")
    codes = [b["code"] for b in data["blocs"]]
    assert codes[:2] == ["RNCP99001BC03", "RNCP99001BC02"]
    assert data["blocs"][1]["intitule"] == "Diagnostiquer une panne de capteur"
    assert all(b["criteres"] for b in data["blocs"])
    for bloc in data["blocs"]:
        local = {c["code"] for c in bloc["competences"]}
        assert all(set(c["competences"]) <= local for c in bloc["criteres"])
    cert = data["certification"]
    assert (cert["code"], cert["niveau"], cert["date_fin_enregistrement"]) == (
        "RNCP99001", 5, "31/08/2029")
    assert cert["intitule"] == "Technicien de maintenance des ruchers connectés"


def test_unmatched_blocs_are_listed_to_check(tmp_path: Path, cli_runner: CliRunner) -> None:
    """The document's bloc 3 and the fiche's BC01 are each named in a_verifier."""
    data, output = _combine(cli_runner, tmp_path, "RNCP99001")
    raisons = " | ".join(p["raison"] for p in data["a_verifier"])
    assert "Bloc officiel RNCP99001BC01 « Installer un rucher connecté »" in raisons
    assert "Bloc du document sans correspondance dans la fiche RNCP99001" in raisons
    assert any(p["chemin"] == "blocs[2]" and "sans correspondance" in p["raison"]
               for p in data["a_verifier"])
    assert "remplacé par l'intitulé officiel" in raisons
    assert "RNCP99001BC01" in output


def test_rs_fiche_gives_identity_and_keeps_document_blocs(tmp_path: Path,
                                                          cli_runner: CliRunner) -> None:
    """An RS fiche has no blocs: its number and dates, the document's three blocs."""
    data, _ = _combine(cli_runner, tmp_path, "RS99002")
    assert data["certification"]["rncp"] == "RS99002"
    assert data["certification"]["date_fin_enregistrement"] == "31/12/2027"
    assert len(data["blocs"]) == 3
    assert any("ne décrit pas de blocs" in p["raison"] for p in data["a_verifier"])
