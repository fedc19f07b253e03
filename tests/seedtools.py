"""Read the seed text exports of ``referentiels/sources/`` independently of certidocs.

The per-seed tests recount blocs, compétences and criteria from the raw text with these helpers,
so that a mistake in the hand-made YAML (or in the importer) cannot hide behind shared code.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

SOURCES = Path(__file__).resolve().parent.parent / "referentiels" / "sources"

SEEDS = {
    "000": "000_eb68862eae6e4aa1.txt",
    "001": "001_abd43ca6c43fe9c3.txt",
    "002": "002_8c44ac07cd0ca90b.txt",
    "003": "003_26bb8a526cfe2dfc.txt",
    "004": "004_87c32e6868dbd39a.txt",
}

_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


def raw(seed: str) -> str:
    """The seed file's text as it is on disk (``seed`` is ``"000"`` … ``"004"``)."""
    return (SOURCES / SEEDS[seed]).read_text(encoding="utf-8")


def strip_markup(text: str) -> str:
    """Text without HTML tags or entities, with runs of white space folded to one space."""
    return _SPACES.sub(" ", html.unescape(_TAG.sub(" ", text))).strip()


def plain(seed: str) -> str:
    """The whole seed as one line of plain text: tags and entities removed, spaces folded.

    A criterion copied verbatim into the YAML is a substring of this text, unless the source
    split it across a page break (the tests list those explicitly).
    """
    return strip_markup(raw(seed))


def normalise(text: str) -> str:
    """Fold white space exactly as ``plain`` does, for comparing one libellé."""
    return _SPACES.sub(" ", text).strip()
