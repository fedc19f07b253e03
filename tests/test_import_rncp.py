"""Import of France Compétences' RNCP export (XML, flux 4.1), on an extract of the real export.

The export gives the certification and its blocs with their official codes, never the criteria:
the file written says so (a comment above each ``criteres: []`` and an a_verifier entry per
bloc), and `referentiel verifier` refuses it until the criteria are added, by design.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from helpers import FIXTURES

from certidocs.cli import main
from certidocs.referentiel import read_referentiel

EXPORT = FIXTURES / "import" / "export-fiches-rncp-v4-1-extract.xml"
FICHES = {
    "RNCP35340": (5, [6, 3, 5, 3, 5]),
    "RNCP40792": (5, [28, 20, 23, 26, 26]),
}
ABSENTS = ("critères d'évaluation absents de l'export RNCP : à compléter depuis le référentiel "
           "d'évaluation")


def _import(cli_runner: CliRunner, fiche: str, out: Path) -> tuple[dict[str, Any], str]:
    result = cli_runner.invoke(main, ["referentiel", "importer", str(EXPORT), "--fiche", fiche,
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = yaml.safe_load(out.read_text(encoding="utf-8"))
    return data, result.output


@pytest.mark.parametrize("fiche", sorted(FICHES))
def test_each_fiche_of_the_export(fiche: str, tmp_path: Path, cli_runner: CliRunner) -> None:
    """Identity, official bloc codes and titles, compétences split from the free text."""
    data, _ = _import(cli_runner, fiche, tmp_path / "r.yaml")
    cert = data["certification"]
    assert cert["code"] == cert["rncp"] == fiche
    assert cert["niveau"] == 5  # NIV5
    assert cert["nsf"] == "326"
    assert cert["certificateur"] == "MINISTERE DE L'ENSEIGNEMENT SUPERIEUR ET DE LA RECHERCHE"
    assert cert["intitule"].startswith("Services informatiques aux organisations")
    n_blocs, comps = FICHES[fiche]
    assert [b["code"] for b in data["blocs"]] == [f"{fiche}BC0{i}" for i in range(1, n_blocs + 1)]
    assert [len(b["competences"]) for b in data["blocs"]] == comps
    assert data["blocs"][0]["intitule"] == "Support et mise à disposition de services " \
                                           "informatiques"
    assert all(b["criteres"] == [] for b in data["blocs"])
    assert "regles" not in data  # the export states no session rule: defaults apply
    assert all(b["modalites_evaluation"] for b in data["blocs"])


def test_competences_of_a_flat_list(tmp_path: Path, cli_runner: CliRunner) -> None:
    """RNCP35340 lists its compétences one per line: each line is one compétence."""
    data, _ = _import(cli_runner, "RNCP35340", tmp_path / "r.yaml")
    assert [(c["code"], c["libelle"]) for c in data["blocs"][0]["competences"]][:2] == [
        ("RNCP35340BC01-C1", "Gérer le patrimoine informatique"),
        ("RNCP35340BC01-C2", "Répondre aux incidents et aux demandes d’assistance et "
                             "d’évolution"),
    ]


def test_competences_of_a_two_level_list(tmp_path: Path, cli_runner: CliRunner) -> None:
    """RNCP40792 lists « * » compétences with « o » sub-items, coded C1, C1.1, C1.2 …"""
    data, _ = _import(cli_runner, "RNCP40792", tmp_path / "r.yaml")
    comps = [(c["code"], c["libelle"]) for c in data["blocs"][0]["competences"]]
    assert comps[:3] == [
        ("RNCP40792BC01-C1", "Gérer le patrimoine informatique"),
        ("RNCP40792BC01-C1.1", "Recenser et identifier les ressources numériques"),
        ("RNCP40792BC01-C1.2", "Exploiter des référentiels, normes et standards adoptés par le "
                               "prestataire informatique"),
    ]
    assert ("RNCP40792BC01-C6.4", "Développer son projet professionnel") in comps


def test_missing_criteria_are_said_everywhere(tmp_path: Path, cli_runner: CliRunner) -> None:
    """A comment above each empty list, one a_verifier per bloc, a clear summary."""
    out = tmp_path / "r.yaml"
    data, output = _import(cli_runner, "RNCP35340", out)
    text = out.read_text(encoding="utf-8")
    lines = text.splitlines()
    empties = [i for i, line in enumerate(lines) if line.strip() == "criteres: []"]
    assert len(empties) == 5
    for i in empties:
        assert lines[i - 1].strip() == f"# {ABSENTS}"
    points = [(p["chemin"], p["raison"]) for p in data["a_verifier"]]
    for i in range(5):
        assert (f"blocs[{i}].criteres", ABSENTS) in points
    assert "À COMPLÉTER AVANT USAGE" in output
    assert "0 critère(s)" in output
    assert re.search(r"referentiel verifier .*r\.yaml » refuse ce fichier", output)


def test_verifier_refuses_until_criteria_are_added(tmp_path: Path,
                                                   cli_runner: CliRunner) -> None:
    """The only problems are the empty criteria lists, one per bloc, at their path."""
    out = tmp_path / "r.yaml"
    _import(cli_runner, "RNCP40792", out)
    ref, problems = read_referentiel(out)
    assert ref is None
    assert [(p.lieu, p.message) for p in problems if p.grave] == [
        (f"blocs[{i}].criteres", "liste vide : il en faut au moins un") for i in range(5)]
    result = cli_runner.invoke(main, ["referentiel", "verifier", str(out)])
    assert result.exit_code == 1
    assert "blocs[0].criteres" in result.stderr and "liste vide" in result.stderr


def test_file_becomes_valid_once_criteria_are_written(tmp_path: Path,
                                                      cli_runner: CliRunner) -> None:
    """Adding one criterion per bloc is all it takes: the rest of the file is well formed."""
    out = tmp_path / "r.yaml"
    data, _ = _import(cli_runner, "RNCP35340", out)
    for bloc in data["blocs"]:
        first = bloc["competences"][0]["code"]
        bloc["criteres"] = [{"code": f"{bloc['code']}-01", "libelle": "Critère ajouté.",
                             "competences": [first]}]
    out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    ref, problems = read_referentiel(out)
    assert ref is not None, problems
    assert ref.certification.niveau == 5


def test_fiche_given_without_prefix(tmp_path: Path, cli_runner: CliRunner) -> None:
    """--fiche 40792 and --fiche rncp40792 find RNCP40792."""
    for spelling in ("40792", "rncp40792"):
        data, _ = _import(cli_runner, spelling, tmp_path / f"{spelling}.yaml")
        assert data["certification"]["code"] == "RNCP40792"


def test_shared_reference_export_works_for_each_fiche(tmp_path: Path,
                                                      cli_runner: CliRunner) -> None:
    """The export of ../shared/reference (when present) imports for each fiche it holds."""
    shared = Path(__file__).resolve().parents[2] / "shared" / "reference" / "rncp" / \
        "export-fiches-rncp-v4-1-extract.xml"
    if not shared.is_file():
        pytest.skip("../shared/reference absent de cette copie du dépôt")
    for fiche in FICHES:
        result = cli_runner.invoke(main, ["referentiel", "importer", str(shared), "--fiche",
                                          fiche, "-o", str(tmp_path / f"{fiche}.yaml")])
        assert result.exit_code == 0, result.output
