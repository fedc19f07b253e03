"""France Compétences' export as it is published: a fiche's own blocs, compétence lists in
every layout the export writes, RNCP and RS kept apart, the fields a certificate and the rules
need (level, NSF, certifier and SIRET, registration dates, partners, jury), the whole export
streamed (.zip or .xml) and searched."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from helpers import FIXTURES

from certidocs.cli import main
from certidocs.referentiel import load_referentiel, read_referentiel
from certidocs.referentiel.importers.rncp import (
    chercher,
    iter_fiches,
    numero_fiche,
    split_competences,
    trouver_fiche,
)

SYNTH = FIXTURES / "officiel" / "export-synthetique-flux41.xml"
REAL = FIXTURES / "import" / "export-fiches-rncp-v4-1-extract.xml"


def _import(cli_runner: CliRunner, fiche: str, out: Path, source: Path = SYNTH
            ) -> tuple[dict[str, Any], str]:
    result = cli_runner.invoke(main, ["referentiel", "importer", str(source), "--fiche", fiche,
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    return yaml.safe_load(out.read_text(encoding="utf-8")), result.output


def test_rncp99001_has_exactly_its_three_blocs_with_4_3_2_competences(
        tmp_path: Path, cli_runner: CliRunner) -> None:
    """The blocs under CORRESPONDANCES (other certifications' codes) are not this fiche's."""
    data, _ = _import(cli_runner, "RNCP99001", tmp_path / "r.yaml")
    assert [b["code"] for b in data["blocs"]] == ["RNCP99001BC01", "RNCP99001BC02",
                                                   "RNCP99001BC03"]
    assert [len(b["competences"]) for b in data["blocs"]] == [4, 3, 2]
    assert data["blocs"][0]["intitule"] == "Installer un rucher connecté"  # spaces folded


def test_competence_layouts_of_the_synthetic_export(tmp_path: Path,
                                                    cli_runner: CliRunner) -> None:
    """« - A  - B », « A  B » and items wrapped by runs of spaces: each item whole."""
    data, _ = _import(cli_runner, "RNCP99001", tmp_path / "r.yaml")
    libelles = [[c["libelle"] for c in b["competences"]] for b in data["blocs"]]
    assert libelles[0][0] == "Choisir l'emplacement des ruches selon l'exposition et la flore"
    assert libelles[0][3] == "Vérifier la remontée des mesures"
    assert libelles[1] == ["Lire le journal des mesures d'une ruche",
                           "Isoler le capteur défaillant par une mesure de contrôle",
                           "Remplacer le capteur en respectant la colonie"]
    assert libelles[2] == [
        "Rédiger un compte rendu d'intervention clair et daté, en indiquant les mesures "
        "relevées avant et après l'intervention",
        "Expliquer oralement à l'apiculteur les causes de la panne, en français et dans une "
        "langue étrangère si besoin"]


@pytest.mark.parametrize(("raw", "expected"), [
    ("- Un  - Deux  - Trois", [(0, "Un"), (0, "Deux"), (0, "Trois")]),
    ("Un élément  Deux éléments", [(0, "Un élément"), (0, "Deux éléments")]),
    ("Rédiger un texte,   en respectant   la forme  Relire", [
        (0, "Rédiger un texte, en respectant la forme"), (0, "Relire")]),
    ("    * Haut      o Bas un      o Bas deux   * Autre", [
        (0, "Haut"), (1, "Bas un"), (1, "Bas deux"), (0, "Autre")]),
    ("Le titulaire est capable de :  - Un  - Deux", [(0, "Un"), (0, "Deux")]),
    ("<ul><li>gérer un budget</li><li>animer une équipe</li></ul>",
     [(0, "gérer un budget"), (0, "animer une équipe")]),
    ("Mettre en œuvre le e-commerce - les canaux", [(0, "Mettre en œuvre le e-commerce - les "
                                                        "canaux")]),
])
def test_split_competences(raw: str, expected: list[tuple[int, str]]) -> None:
    """Each layout of LISTE_COMPETENCES, including an inline dash that must not split."""
    assert split_competences(raw) == expected


def test_real_extract_keeps_its_counts() -> None:
    """The real fiches still split as before: flat list (6 spaces) and two levels (* / o)."""
    counts = {f.numero: [len(b.competences) for b in f.blocs] for f in iter_fiches(REAL)}
    assert counts == {"RNCP35340": [6, 3, 5, 3, 5], "RNCP40792": [28, 20, 23, 26, 26]}


def test_fields_a_certificate_and_the_rules_need(tmp_path: Path, cli_runner: CliRunner) -> None:
    """Level and CEC level, NSF codes, certifier and SIRET, dates, partners, jury; the file
    reads back into the model (dates as dates)."""
    data, _ = _import(cli_runner, "RNCP99001", tmp_path / "r.yaml")
    cert = data["certification"]
    assert (cert["niveau"], cert["niveau_europeen"]) == (5, 5)
    assert cert["nsf"] == "210p" and cert["codes_nsf"] == ["210p", "255r"]
    assert cert["certificateur"] == "INSTITUT FICTIF DES METIERS DU MIEL"
    assert cert["siret_certificateur"] == "12345678900011"
    assert (cert["date_effet"], cert["date_fin_enregistrement"]) == ("01/09/2024", "31/08/2029")
    assert cert["partenaires"][1] == {"nom": "CENTRE IMAGINAIRE SUD",
                                      "siret": "98765432100025",
                                      "habilitation": "HABILITATION_FORMER"}
    assert "Trois membres dont deux professionnels" in cert["composition_jury"][0]
    fiche = trouver_fiche(SYNTH, "RNCP99001")
    assert fiche.date_fin_enregistrement == dt.date(2029, 8, 31)


def test_rs_fiche_is_never_called_rncp(cli_runner: CliRunner, tmp_path: Path) -> None:
    """RS99002 is a Répertoire spécifique fiche: said so, never RNCP99002, nothing written."""
    fiche = trouver_fiche(SYNTH, "RS99002")
    assert fiche.numero == "RS99002" and fiche.repertoire == "RS"
    result = cli_runner.invoke(main, ["referentiel", "importer", str(SYNTH), "--fiche",
                                      "RS99002", "-o", str(tmp_path / "rs.yaml")])
    assert result.exit_code == 1
    assert "RS99002 est une fiche du Répertoire spécifique (RS), pas du RNCP" in result.stderr
    assert "RNCP99002" not in result.stderr
    assert not (tmp_path / "rs.yaml").exists()
    found = cli_runner.invoke(main, ["referentiel", "chercher", "capteurs", str(SYNTH)])
    line = next(x for x in found.output.splitlines() if "RS99002" in x)
    assert "Répertoire spécifique" in line and "RNCP" not in line


def test_prefix_is_part_of_the_number() -> None:
    """--fiche RNCP99002 is the RNCP fiche, never RS99002; RS5000 is not RNCP5000."""
    assert trouver_fiche(SYNTH, "RNCP99002").intitule.startswith("Certification fictive sans")
    assert trouver_fiche(SYNTH, "rncp 099002").numero == "RNCP99002"
    assert numero_fiche("RS5000") == "RS5000" and numero_fiche("5000") == "RNCP5000"
    assert numero_fiche("RNCPX") is None
    from certidocs.errors import ImportErreur
    with pytest.raises(ImportErreur) as err:
        trouver_fiche(SYNTH, "RNCP98001")  # only a code inside CORRESPONDANCES
    assert "n'est pas dans ce fichier" in str(err.value)


def test_fiche_without_blocs_says_what_it_is(cli_runner: CliRunner, tmp_path: Path) -> None:
    """RNCP99002 has no bloc: a message, exit 1, nothing written."""
    result = cli_runner.invoke(main, ["referentiel", "importer", str(SYNTH), "--fiche",
                                      "RNCP99002", "-o", str(tmp_path / "x.yaml")])
    assert result.exit_code == 1
    assert "fiche RNCP sans blocs de compétences" in result.stderr
    assert "Traceback" not in result.output and not (tmp_path / "x.yaml").exists()


def test_zip_as_downloaded(tmp_path: Path, cli_runner: CliRunner) -> None:
    """The .zip France Compétences publishes is read as the .xml it holds."""
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(SYNTH, "export_fiches_RNCP_V4_1_2026-11-30.xml")
    data, _ = _import(cli_runner, "RNCP99001", tmp_path / "r.yaml", source=archive)
    assert len(data["blocs"]) == 3
    assert chercher(archive, "ruchers").trouvees == 1


def test_many_fiches_without_choice_quotes_only_a_few(tmp_path: Path) -> None:
    """Without --fiche, a big export is not listed whole: ten numbers then « … »."""
    from certidocs.errors import ImportErreur

    body = "".join(f"<FICHE><NUMERO_FICHE>RNCP{n}</NUMERO_FICHE></FICHE>" for n in range(500))
    big = tmp_path / "big.xml"
    big.write_text(f"<FICHES><VERSION_FLUX>4.1</VERSION_FLUX>{body}</FICHES>", encoding="utf-8")
    with pytest.raises(ImportErreur) as err:
        trouver_fiche(big, None)
    message = str(err.value)
    assert "plus de 10 fiches" in message and "RNCP9," in message and "RNCP10," not in message
    assert "RNCP499" not in message


def test_broken_and_foreign_xml(tmp_path: Path, cli_runner: CliRunner) -> None:
    """A truncated export or another XML: French message with the line, exit 1."""
    cut = tmp_path / "cut.xml"
    cut.write_bytes(SYNTH.read_bytes()[:3000])
    result = cli_runner.invoke(main, ["referentiel", "chercher", "ruche", str(cut)])
    assert result.exit_code == 1 and "XML illisible (ligne" in result.stderr
    other = tmp_path / "other.xml"
    other.write_text("<rapport><FICHE/></rapport>", encoding="utf-8")
    result = cli_runner.invoke(main, ["referentiel", "chercher", "ruche", str(other)])
    assert result.exit_code == 1 and "ce n'est pas un export RNCP" in result.stderr


def test_verifier_checks_the_new_fields(tmp_path: Path) -> None:
    """Bad SIRET, date not JJ/MM/AAAA, end before effect, RS/RNCP number malformed."""
    source = (FIXTURES.parent.parent / "referentiels" / "CPECOM.yaml").read_text("utf-8")
    bad = source.replace("certification:\n", "certification:\n"
                         "  siret_certificateur: '1234'\n"
                         "  date_effet: 31/13/2024\n", 1)
    path = tmp_path / "bad.yaml"
    path.write_text(bad, encoding="utf-8")
    ref, problems = read_referentiel(path)
    assert ref is None
    assert any(p.lieu == "certification.date_effet" and "JJ/MM/AAAA" in p.message
               for p in problems)
    ordered = source.replace("certification:\n", "certification:\n"
                             "  siret_certificateur: '1234'\n"
                             "  date_effet: 01/09/2025\n"
                             "  date_fin_enregistrement: 31/08/2025\n", 1)
    path.write_text(ordered.replace("rncp: null", "rncp: RNCP-12"), encoding="utf-8")
    ref, problems = read_referentiel(path)
    lieux = {p.lieu for p in problems if p.grave}
    assert {"certification.siret_certificateur", "certification.date_fin_enregistrement",
            "certification.rncp"} <= lieux
    good = source.replace("certification:\n", "certification:\n"
                          "  date_effet: 01/09/2024\n"
                          "  date_fin_enregistrement: 31/08/2029\n", 1)
    path.write_text(good, encoding="utf-8")
    assert load_referentiel(path).certification.date_fin_enregistrement == dt.date(2029, 8, 31)
