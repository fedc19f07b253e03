"""Importing each seed text export gives the blocs, compétences and criteria of its hand-made YAML.

The five YAML files of ``referentiels/`` were transcribed by people from
``referentiels/sources/``; the importer must find the same blocs (code, intitulé), compétences
(code, libellé) and criteria (code, libellé, compétences, groupe), in the same order, with no
exception. The importer's own notes must also point at the places the people flagged
(criteria joined after a page break, criteria linked by their number).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from helpers import REFERENTIELS
from seedtools import SEEDS, SOURCES

from certidocs.cli import main
from certidocs.referentiel import load_referentiel

HAND_MADE = {"000": "MKT-ECOM", "001": "CPECOM", "002": "MEDIAS-ECOM", "003": "STRAT-WEBMKT",
             "004": "MMDC"}
COUNTS = {  # blocs, compétences, critères: measured on the hand-made files
    "000": (4, 7, 14), "001": (5, 38, 93), "002": (3, 17, 49), "003": (3, 18, 46),
    "004": (3, 44, 86),
}


def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.safe_load(handle)
    return data


def _import(cli_runner: CliRunner, source: Path, out: Path) -> dict[str, Any]:
    result = cli_runner.invoke(main, ["referentiel", "importer", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return _load(out)


def _structure(data: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Blocs, compétences and criteria as comparable tuples, in file order."""
    out: list[tuple[Any, ...]] = []
    for bloc in data["blocs"]:
        out.append(("bloc", bloc["code"], bloc["intitule"]))
        out += [("competence", c["code"], c["libelle"]) for c in bloc["competences"]]
        out += [("critere", c["code"], c["libelle"], list(c["competences"]), c.get("groupe"))
                for c in bloc["criteres"]]
    return out


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_seed_import_equals_hand_made_yaml(seed: str, tmp_path: Path,
                                           cli_runner: CliRunner) -> None:
    """Same blocs, compétences and criteria as the hand-checked file, item by item."""
    got = _import(cli_runner, SOURCES / SEEDS[seed], tmp_path / "import.yaml")
    want = _load(REFERENTIELS / f"{HAND_MADE[seed]}.yaml")
    got_items, want_items = _structure(got), _structure(want)
    differences = [(g, w) for g, w in zip(got_items, want_items, strict=False) if g != w]
    assert differences == []
    assert len(got_items) == len(want_items)
    blocs = len(got["blocs"])
    comps = sum(len(b["competences"]) for b in got["blocs"])
    crits = sum(len(b["criteres"]) for b in got["blocs"])
    assert (blocs, comps, crits) == COUNTS[seed]


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_seed_import_is_a_valid_referentiel(seed: str, tmp_path: Path,
                                            cli_runner: CliRunner) -> None:
    """The written file passes the checker and names its source."""
    out = tmp_path / "import.yaml"
    _import(cli_runner, SOURCES / SEEDS[seed], out)
    ref = load_referentiel(out)
    assert ref.certification.source == SEEDS[seed]
    result = cli_runner.invoke(main, ["referentiel", "verifier", str(out)])
    assert result.exit_code == 0, result.output


# Places the people who transcribed the seeds flagged, which the importer must flag too.
FLAGGED = {
    "001": {"blocs[0].criteres[7]": "Liste à puces", "blocs[0].criteres[13]": "C5.3",
            "blocs[1].criteres[6]": "C3.1, C3.2, C3.3", "blocs[2].criteres[20]": "Liste à puces",
            "blocs": "préfixés"},
    "002": {"blocs[1].criteres[3]": "plusieurs compétences", "blocs[1].criteres[6]": "recollé"},
    "003": {"blocs[0].criteres[3]": "recollé", "blocs[0].criteres[12]": "recollé",
            "blocs[1].criteres[20]": "recollé", "blocs[1].competences[5]": "recollée",
            "blocs[1].intitule": "capitales", "certification.intitule": "intitulé"},
    "004": {"blocs[2].criteres[32]": "composante", "blocs[0].competences[1]": "recollée"},
    "000": {"blocs[1].activites": "activité suivante", "certification.intitule": "titre"},
}


@pytest.mark.parametrize("seed", sorted(FLAGGED))
def test_seed_import_flags_the_judgment_calls(seed: str, tmp_path: Path,
                                              cli_runner: CliRunner) -> None:
    """Each point the hand transcription had to decide appears in a_verifier."""
    got = _import(cli_runner, SOURCES / SEEDS[seed], tmp_path / "import.yaml")
    points: dict[str, str] = {}
    for point in got["a_verifier"]:
        points[point["chemin"]] = points.get(point["chemin"], "") + " " + point["raison"]
    for chemin, words in FLAGGED[seed].items():
        assert words in points.get(chemin, ""), (chemin, points.get(chemin))


def test_seed_rules_are_read_with_their_sentence(tmp_path: Path, cli_runner: CliRunner) -> None:
    """Seed 000 states its session rules: they are taken, each quoted above its value."""
    out = tmp_path / "import.yaml"
    got = _import(cli_runner, SOURCES / SEEDS["000"], out)
    want = _load(REFERENTIELS / "MKT-ECOM.yaml")
    assert got["regles"] == want["regles"]
    assert got["certification"]["intitule"] == want["certification"]["intitule"]
    assert got["certification"]["certificateur"] == "FILEA"
    text = out.read_text(encoding="utf-8")
    assert "# « Une convocation leur est adressée 1 mois avant la session" in text


def test_markdown_extension_reads_the_same(tmp_path: Path, cli_runner: CliRunner) -> None:
    """A .md export is read like a .txt one."""
    copy = tmp_path / "export.md"
    shutil.copy(SOURCES / SEEDS["002"], copy)
    got = _import(cli_runner, copy, tmp_path / "md.yaml")
    want = _load(REFERENTIELS / "MEDIAS-ECOM.yaml")
    assert _structure(got) == _structure(want)


def test_seed_summary_counts(tmp_path: Path, cli_runner: CliRunner) -> None:
    """The printed summary gives the counts, each bloc, and the points to check."""
    result = cli_runner.invoke(main, ["referentiel", "importer", str(SOURCES / SEEDS["001"]),
                                      "-o", "cpecom.yaml"])
    assert result.exit_code == 0
    assert "Référentiel importé : cpecom.yaml" in result.output
    assert "5 bloc(s), 38 compétence(s), 93 critère(s)" in result.output
    assert "BC03  Optimiser le référencement du site e-commerce : 10 compétence(s), " \
           "24 critère(s)" in result.output
    assert "point(s) à vérifier" in result.output
    assert "certidocs referentiel verifier cpecom.yaml" in result.output


def test_windows_1252_export(tmp_path: Path, cli_runner: CliRunner) -> None:
    """An export saved in Windows-1252 is read, with a note asking to check the accents."""
    copy = tmp_path / "export.txt"
    text = (SOURCES / SEEDS["003"]).read_text(encoding="utf-8")
    copy.write_bytes(text.encode("cp1252", errors="replace"))
    got = _import(cli_runner, copy, tmp_path / "cp1252.yaml")
    assert got["blocs"][0]["competences"][0]["libelle"].startswith("Mener une veille marketing")
    assert any("Windows-1252" in p["raison"] for p in got["a_verifier"])
