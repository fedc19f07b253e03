"""The référentiel YAML checker: one fixture per failure mode, each with its message and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import FIXTURES, REFERENTIELS

from certidocs.cli import main
from certidocs.errors import ReferentielInvalide
from certidocs.referentiel import load_referentiel, read_referentiel

REFS = FIXTURES / "referentiels"

# fixture file -> (path named in the message, line, words of the message)
FAILURES = {
    "pas_yaml.yaml": ("", 3, "n'est pas du YAML valide"),
    "pas_mapping.yaml": ("", 1, "pas un ensemble de clés"),
    "vide.yaml": ("", None, "le fichier est vide"),
    "code_double.yaml": ("blocs[0].criteres[1].code", 21, "code de critère « C1.1 » en double"),
    "libelle_manquant.yaml": ("blocs[1].criteres[0].libelle", 31, "texte vide"),
    "seuil_hors_limites.yaml": ("regles.seuil_bloc", 10, "hors des limites : entre 0 et 1"),
    "bloc_sans_critere.yaml": ("blocs[1].criteres", 29, "liste vide"),
    "competence_inconnue.yaml": ("blocs[1].criteres[0].competences[0]", 32,
                                 "compétence « C9 » inconnue"),
    "cle_inconnue.yaml": ("blocs[1].criteres[0].libele", 31, "clé inconnue « libele »"),
    "cle_double.yaml": ("certification.niveau", 7, "clé en double"),
}


def test_valid_fixture_loads() -> None:
    """The base fixture is valid: the failure fixtures differ from it by one mistake each."""
    ref = load_referentiel(REFS / "valide.yaml")
    assert ref.code == "TEST-MINI"
    assert [b.code for b in ref.blocs] == ["BC01", "BC02"]
    assert [c.code for c in ref.criteres] == ["C1.1", "C1.2", "C2.1"]
    assert ref.criteres[1].libelle == "Les besoins sont reformulés : clairement."
    assert ref.regles.seuil_bloc == 0.70 and ref.regles.mode_decision == "blocs"


@pytest.mark.parametrize("name", sorted(FAILURES))
def test_each_failure_mode_is_located(name: str) -> None:
    """Each broken file gives a blocking problem at the right path and line."""
    chemin, ligne, words = FAILURES[name]
    ref, problems = read_referentiel(REFS / name)
    assert ref is None
    matching = [p for p in problems if words in p.message]
    assert matching, [str(p) for p in problems]
    assert matching[0].lieu == chemin
    assert matching[0].ligne == ligne
    assert matching[0].grave


@pytest.mark.parametrize("name", sorted(FAILURES))
def test_cli_verifier_reports_failure_without_traceback(cli_runner: CliRunner, name: str) -> None:
    """`referentiel verifier` on a broken file: French message with location, exit 1."""
    result = cli_runner.invoke(main, ["referentiel", "verifier", str(REFS / name)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert FAILURES[name][2] in result.stderr
    assert "référentiel refusé" in result.stderr


def test_load_raises_with_every_problem(tmp_path: Path) -> None:
    """Several mistakes in one file are all reported at once, not only the first."""
    text = (REFS / "valide.yaml").read_text(encoding="utf-8")
    text = text.replace("seuil_bloc: 0.70", "seuil_bloc: 2").replace("[C2]", "[C9]")
    text = text.replace("intitule: Premier bloc", "intitul: Premier bloc")
    broken = tmp_path / "plusieurs.yaml"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(ReferentielInvalide) as info:
        load_referentiel(broken)
    message = str(info.value)
    assert "regles.seuil_bloc" in message
    assert "clé inconnue « intitul »" in message
    assert "« intitule » manquant" in message


def test_not_utf8_is_reported_with_line(tmp_path: Path) -> None:
    """A file saved in Latin-1 is refused with a hint, not a UnicodeDecodeError."""
    path = tmp_path / "latin1.yaml"
    path.write_bytes((REFS / "valide.yaml").read_text(encoding="utf-8").encode("latin-1"))
    ref, problems = read_referentiel(path)
    assert ref is None
    assert "UTF-8" in problems[0].message
    assert problems[0].ligne == 1  # « référentiel » in the first comment line


def test_number_where_text_expected_asks_for_quotes(tmp_path: Path) -> None:
    """A code typed as a bare number (1.10 read as 1.1 by YAML) must be quoted."""
    text = (REFS / "valide.yaml").read_text(encoding="utf-8").replace("code: C2.1", "code: 2.10")
    path = tmp_path / "nombre.yaml"
    path.write_text(text, encoding="utf-8")
    _, problems = read_referentiel(path)
    assert any("entre guillemets" in p.message and p.lieu == "blocs[1].criteres[0].code"
               for p in problems)


def test_missing_file_is_one_message(cli_runner: CliRunner) -> None:
    """A file that does not exist: one French line, exit 1."""
    result = cli_runner.invoke(main, ["referentiel", "verifier", "absent.yaml"])
    assert result.exit_code == 1
    assert "absent.yaml : fichier introuvable" in result.stderr


def test_uncovered_competence_is_a_warning(tmp_path: Path, cli_runner: CliRunner) -> None:
    """A compétence no criterion assesses is worth a warning, not a refusal (exit 0)."""
    text = (REFS / "valide.yaml").read_text(encoding="utf-8").replace(
        "        libelle: Analyser une demande\n",
        "        libelle: Analyser une demande\n      - code: C3\n        libelle: Orpheline\n")
    path = tmp_path / "orpheline.yaml"
    path.write_text(text, encoding="utf-8")
    result = cli_runner.invoke(main, ["referentiel", "verifier", str(path)])
    assert result.exit_code == 0, result.output
    assert "attention : la compétence « C3 » n'est évaluée par aucun critère" in result.output


SHIPPED = sorted(REFERENTIELS.glob("*.yaml"))


def test_five_referentiels_are_shipped() -> None:
    """One YAML per seed, each naming the seed it was transcribed from."""
    sources = {load_referentiel(p).certification.source for p in SHIPPED}
    assert sources == {p.name for p in (REFERENTIELS / "sources").glob("*.txt")}


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_referentiel_verifies(cli_runner: CliRunner, path: Path) -> None:
    """`certidocs referentiel verifier` exits 0 on each shipped référentiel, named by its code."""
    result = cli_runner.invoke(main, ["referentiel", "verifier", str(path)])
    assert result.exit_code == 0, result.output
    assert "référentiel valide" in result.output
    assert load_referentiel(path).code == path.stem


def test_afficher_summarises(cli_runner: CliRunner) -> None:
    """`afficher` prints blocs with compétences and criteria counts, and the rules."""
    result = cli_runner.invoke(main, ["referentiel", "afficher", str(REFS / "valide.yaml")])
    assert result.exit_code == 0, result.output
    assert "2 bloc(s), 2 compétence(s), 3 critère(s)" in result.output
    assert "BC01  Premier bloc" in result.output
    assert "- C1 : Analyser une demande (2 critère(s))" in result.output
    assert "bloc validé si au moins 70 % de ses critères sont acquis" in result.output


def test_afficher_refuses_invalid(cli_runner: CliRunner) -> None:
    """`afficher` on a broken file lists its problems and exits 1."""
    result = cli_runner.invoke(main, ["referentiel", "afficher", str(REFS / "cle_double.yaml")])
    assert result.exit_code == 1
    assert "certification.niveau (ligne 7) : clé en double" in result.stderr
