"""The YAML the importer writes: readable, exact on read-back, written where it should be."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from seedtools import SEEDS, SOURCES

from certidocs.cli import main
from certidocs.referentiel.importers.common import split_markers
from certidocs.referentiel.importers.yamlout import dump, scalar

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), TEXT,
                    st.floats(0, 1, allow_nan=False))
KEYS = st.from_regex(r"[a-z][a-z_]{0,12}", fullmatch=True)
# The shapes a référentiel has: mappings, lists of scalars, lists of mappings.
MAPPINGS = st.recursive(st.dictionaries(KEYS, SCALARS, max_size=4), lambda inner: (
    st.dictionaries(KEYS, st.one_of(SCALARS, inner, st.lists(SCALARS, max_size=4),
                                    st.lists(inner, max_size=3)), max_size=4)), max_leaves=20)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=4), st.lists(MAPPINGS, max_size=3),
                   MAPPINGS)


@given(TEXT)
def test_every_text_reads_back_exactly(text: str) -> None:
    """Whatever a libellé holds (quotes, colons, « # », accents, numbers), it reads back."""
    assert yaml.safe_load(f"k: {scalar(text)}") == {"k": text}


@settings(max_examples=150)
@given(st.dictionaries(KEYS, VALUES, min_size=1, max_size=5))
def test_every_structure_reads_back_exactly(data: dict[str, Any]) -> None:
    """Nested mappings and lists, comments included, read back as they were written."""
    comments = {key: [f"commentaire sur {key}"] for key in data}
    text = dump(data, ["en-tête"], comments)
    assert yaml.safe_load(text) == data


def test_block_style_and_comments() -> None:
    """Lists are written one item per line, comments sit above their key."""
    text = dump({"blocs": [{"code": "BC01", "criteres": []}], "a": "1.1"}, ["titre"],
                {"blocs[0].criteres": ["à compléter"]})
    assert text == ("# titre\n"
                    "blocs:\n"
                    "  - code: BC01\n"
                    "    # à compléter\n"
                    "    criteres: []\n"
                    "\n"
                    "a: '1.1'\n")


@pytest.mark.parametrize(("text", "expected"), [
    ("✓ Les motivations sont identifiées. ✓ Le benchmark est rédigé.",
     [("✓", "Les motivations sont identifiées."), ("✓", "Le benchmark est rédigé.")]),
    ("- les outils sont cohérents, - le choix est adapté.",
     [("-", "les outils sont cohérents,"), ("-", "le choix est adapté.")]),
    ("• Pertinence de la stratégie : - la cible est définie.",
     [("•", "Pertinence de la stratégie :"), ("-", "la cible est définie.")]),
    ("Un tableau Forces-Faiblesses - Opportunités -Menaces (SWOT) est présenté.",
     [(None, "Un tableau Forces-Faiblesses - Opportunités -Menaces (SWOT) est présenté.")]),
    ("Gérer le référencement (SEO - Search Engine Optimisation).",
     [(None, "Gérer le référencement (SEO - Search Engine Optimisation).")]),
])
def test_list_marks(text: str, expected: list[tuple[str | None, str]]) -> None:
    """List marks split items and are removed; a dash inside a sentence is text."""
    assert [(b.marker, b.text) for b in split_markers(text)] == expected


def test_default_target_in_a_workspace(tmp_path: Path, cli_runner: CliRunner,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside a workspace, without -o, the file goes to its referentiels/<code>.yaml."""
    assert cli_runner.invoke(main, ["init", "espace"]).exit_code == 0
    monkeypatch.chdir(tmp_path / "espace")
    result = cli_runner.invoke(main, ["referentiel", "importer", str(SOURCES / SEEDS["002"])])
    assert result.exit_code == 0, result.output
    target = tmp_path / "espace" / "referentiels" / "002_8C44AC07CD0CA90B.yaml"
    assert target.is_file()
    assert "Référentiel importé : referentiels/002_8C44AC07CD0CA90B.yaml" in result.output
    again = cli_runner.invoke(main, ["referentiel", "importer", str(SOURCES / SEEDS["002"])])
    assert again.exit_code == 1
    assert "existe déjà" in again.stderr


def test_default_target_outside_a_workspace(tmp_path: Path, cli_runner: CliRunner) -> None:
    """Outside any workspace the file is written in the current folder, nowhere else."""
    result = cli_runner.invoke(main, ["referentiel", "importer", str(SOURCES / SEEDS["000"])])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["000_EB68862EAE6E4AA1.yaml"]
