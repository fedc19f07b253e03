"""`referentiel mettre-a-jour CODE EXPORT`: what France Compétences changed on the fiche
(blocs added, renamed, removed; registration renewed or ended), the YAML left untouched."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from helpers import FIXTURES

from certidocs.cli import main
from certidocs.errors import ImportErreur
from certidocs.referentiel import load_referentiel
from certidocs.referentiel.importers.miseajour import comparer

SYNTH = FIXTURES / "officiel" / "export-synthetique-flux41.xml"


def _referentiel(tmp_path: Path, cli_runner: CliRunner) -> Path:
    """RNCP99001 imported from the export, one criterion per compétence added by hand."""
    out = tmp_path / "RNCP99001.yaml"
    result = cli_runner.invoke(main, ["referentiel", "importer", str(SYNTH), "--fiche",
                                      "RNCP99001", "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    for bloc in data["blocs"]:
        bloc["criteres"] = [{"code": f"{c['code']}.1", "libelle": "Critère observable.",
                             "competences": [c["code"]]} for c in bloc["competences"]]
    del data["a_verifier"]
    out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


def _newer(tmp_path: Path) -> Path:
    """The export a few years later: BC02 renamed, BC03 gone, BC04 new, renewed to 2032."""
    text = SYNTH.read_text(encoding="utf-8")
    text = text.replace("<LIBELLE>Diagnostiquer une panne de capteur</LIBELLE>",
                        "<LIBELLE>Diagnostiquer et réparer un capteur</LIBELLE>")
    text = text.replace("<CODE>RNCP99001BC03</CODE>", "<CODE>RNCP99001BC04</CODE>")
    text = text.replace("<LIBELLE>Rendre compte à l'apiculteur</LIBELLE>",
                        "<LIBELLE>Conseiller l'apiculteur</LIBELLE>")
    text = text.replace("<DATE_FIN_ENREGISTREMENT>31/08/2029", "<DATE_FIN_ENREGISTREMENT>"
                        "31/08/2032")
    path = tmp_path / "newer.xml"
    path.write_text(text, encoding="utf-8")
    return path


def test_changes_are_listed(tmp_path: Path, cli_runner: CliRunner) -> None:
    ref_path = _referentiel(tmp_path, cli_runner)
    before = ref_path.read_bytes()
    report = comparer(load_referentiel(ref_path), _newer(tmp_path), dt.date(2027, 1, 1))
    genres = [c.genre for c in report.changements]
    assert sorted(genres) == sorted(["bloc renommé", "bloc retiré", "bloc ajouté",
                                     "enregistrement renouvelé"])
    text = " | ".join(c.texte for c in report.changements)
    assert "RNCP99001BC02 : « Diagnostiquer une panne de capteur » devient" in text
    assert "renouvelé jusqu'au 31/08/2032 (au lieu du 31/08/2029)" in text
    result = cli_runner.invoke(main, ["referentiel", "mettre-a-jour", str(ref_path),
                                      str(_newer(tmp_path))])
    assert result.exit_code == 0 and "4 changement(s)" in result.output
    assert ref_path.read_bytes() == before  # report only


def test_same_export_no_change_then_ended(tmp_path: Path, cli_runner: CliRunner) -> None:
    """The same export: nothing; read after 31/08/2029: the registration has ended."""
    ref = load_referentiel(_referentiel(tmp_path, cli_runner))
    assert comparer(ref, SYNTH, dt.date(2027, 1, 1)).changements == ()
    ended = comparer(ref, SYNTH, dt.date(2029, 9, 1)).changements
    assert [c.genre for c in ended] == ["enregistrement échu"]
    assert "31/08/2029" in ended[0].texte


def test_without_fiche_number(tmp_path: Path, cli_runner: CliRunner) -> None:
    from helpers import REFERENTIELS

    with pytest.raises(ImportErreur) as err:
        comparer(load_referentiel(REFERENTIELS / "CPECOM.yaml"), SYNTH)
    assert "pas de numéro de fiche" in str(err.value)


def test_afficher_shows_the_fiche_fields(tmp_path: Path, cli_runner: CliRunner) -> None:
    """`referentiel afficher` prints what a certificate needs: SIRET, levels, dates (JJ/MM/AAAA)."""
    result = cli_runner.invoke(main, ["referentiel", "afficher",
                                      str(_referentiel(tmp_path, cli_runner))])
    assert result.exit_code == 0, result.output
    assert "fiche RNCP : RNCP99001" in result.output
    assert "niveau : 5 (européen : 5)" in result.output
    assert "SIRET 12345678900011" in result.output
    assert "01/09/2024 → 31/08/2029" in result.output
