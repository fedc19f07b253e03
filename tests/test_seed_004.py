"""Seed 004 (Manager marketing digital et communication) against ``referentiels/MMDC.yaml``.

The seed is recounted here straight from its text export, with a method of its own (bloc title
rows, ``<p>C.x.x.x`` paragraphs of the compétence column, item marks of the criteria column), so
that a slip in the hand-made YAML cannot hide behind the code that wrote it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from seedtools import SEEDS, normalise, plain, raw, strip_markup

SEED = "004"
YAML_PATH = Path(__file__).resolve().parent.parent / "referentiels" / "MMDC.yaml"

# Criteria cut by a page break and joined back: none in this seed (every page break of the
# criteria column falls between two complete items).
CRITERIA_JOINED: dict[str, list[str]] = {}

# Criteria whose source text has an inline tag inside a word (« d'<i>insights</i> ») : ``plain``
# turns the tag into a space, so they are looked up in the seed with inline tags simply removed.
CRITERIA_INLINE_TAG = {"BC01-09"}

# Compétences whose paragraph is cut by a page break (continued in the next page's first row).
COMPETENCES_JOINED = {
    "C.1.2.1": [
        "complémentaires parmi les",
        "sources repérées, afin de disposer de données utiles",
    ],
    "C.1.3.5": ["afin d'évaluer leur impact et de recommander", "l'adaptation des pratiques"],
    "C.2.2.2": ["ses rapports avec", "ses clients/utilisateurs, ses facteurs de succès"],
    "C.3.2.1": [
        "points de contacts avec sa cible clients/utilisateurs,",
        "en sélectionnant les canaux",
    ],
    "C.3.3.2": ["en identifiant pour chacune d'elle", "les ressources humaines, techniques"],
    "C.5.1.1": [
        "à mobiliser pour la réalisation des",
        "actions marketing digital et communication",
    ],
}

EXPECTED_BLOCS = 3
EXPECTED_COMPETENCES = [15, 12, 17]
EXPECTED_CRITERES = [28, 23, 35]
EXPECTED_GROUPES = [7, 6, 8]

_BLOC_ROW = re.compile(r"BLOC DE COMPETENCES N° (\d+) :")
_COMPETENCE_PARA = re.compile(r"<p>(C\.\d\.\d\.\d) ")
_ANY_CODE = re.compile(r"C\.\d\.\d\.\d")
# In the criteria column an item is either marked by a dash (« - les … », at the start of a
# <li>/<p> or after a space inside one) or, in the first group, is a nested <li> that starts
# directly with its lower-case text. Headings are marked « • » or end with « : ».
_ITEM = re.compile(r"(?:(?<=>)|(?<=\s))-\s+(?=[a-zéè])|<li>(?=[a-zéè])")
_RELATION = re.compile(r"En relation avec [^<]*")
_HEADING = re.compile(r"<li>(?:•\s*)?[A-ZÉ][^<]*?:")
_MARKS = re.compile(r"[✓•]|<[^>]+>|&[a-zA-Z]+;|&#\d+;")
_INLINE_TAGS = re.compile(r"</?(?:i|b|sup)>")


def load() -> dict[str, Any]:
    """The hand-made YAML of this seed."""
    with YAML_PATH.open(encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


def plain_inline() -> str:
    """The seed as plain text, inline tags (<i>, <b>, <sup>) removed without adding a space."""
    return strip_markup(_INLINE_TAGS.sub("", raw(SEED)))


def seed_rows() -> list[tuple[int, list[str]]]:
    """Each table row of the seed with the number of the bloc it belongs to (0 before bloc 1)."""
    rows = []
    bloc = 0
    for line in raw(SEED).split("\n"):
        match = _BLOC_ROW.search(line)
        if match:
            bloc = int(match.group(1))
            continue
        if "\t" in line and bloc:
            rows.append((bloc, line.split("\t")))
    return rows


def seed_competences() -> dict[int, list[str]]:
    """Compétence codes per bloc, from the ``<p>C.x.x.x …`` paragraphs of the 2nd column."""
    per_bloc: dict[int, list[str]] = {}
    for bloc, cells in seed_rows():
        if len(cells) > 1:
            per_bloc.setdefault(bloc, []).extend(_COMPETENCE_PARA.findall(cells[1]))
    return per_bloc


def seed_criteria() -> dict[int, list[tuple[str, ...]]]:
    """Per bloc, one entry per criterion item: the compétence codes of its « En relation » line."""
    composante_5 = tuple(
        c for codes in seed_competences().values() for c in codes if c.startswith("C.5.")
    )
    per_bloc: dict[int, list[tuple[str, ...]]] = {}
    current: tuple[str, ...] = ()
    for bloc, cells in seed_rows():
        if len(cells) < 4:
            continue
        cell = cells[3]
        tokens = sorted(
            [(m.start(), "rel", m.group(0)) for m in _RELATION.finditer(cell)]
            + [(m.start(), "item", "") for m in _ITEM.finditer(cell)]
        )
        for _, kind, text in tokens:
            if kind == "rel":
                text = strip_markup(text)
                codes = tuple(_ANY_CODE.findall(text))
                every = "toutes les compétences de la composante" in text
                current = composante_5 if every else codes
            else:
                per_bloc.setdefault(bloc, []).append(current)
    return per_bloc


def seed_headings() -> dict[int, int]:
    """Number of criteria headings (the ``groupe`` of the YAML) per bloc."""
    counts: dict[int, int] = {}
    for bloc, cells in seed_rows():
        if len(cells) >= 4:
            counts[bloc] = counts.get(bloc, 0) + len(_HEADING.findall(cells[3]))
    return counts


def all_criteria(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every criterion of the YAML, in document order."""
    return [c for bloc in data["blocs"] for c in bloc["criteres"]]


def test_seed_file_is_registered() -> None:
    """The seed this test reads is the one the YAML names as its source."""
    assert SEEDS[SEED] == load()["certification"]["source"] == "004_87c32e6868dbd39a.txt"


def test_certification_header() -> None:
    """Code, title and the fields the seed does not state."""
    cert = load()["certification"]
    assert cert["code"] == "MMDC"
    assert cert["intitule"] == "Manager marketing digital et communication"
    assert cert["intitule"] in plain(SEED)
    assert cert["niveau"] is None and cert["certificateur"] is None
    assert cert["rncp"] is None and cert["nsf"] is None


def test_bloc_count() -> None:
    """Blocs: the « BLOC DE COMPETENCES N° n » title rows of the seed."""
    numbers = [int(n) for n in _BLOC_ROW.findall(raw(SEED))]
    data = load()
    assert numbers == [1, 2, 3]
    assert len(numbers) == len(data["blocs"]) == EXPECTED_BLOCS
    assert [b["code"] for b in data["blocs"]] == ["BC01", "BC02", "BC03"]


def test_bloc_titles() -> None:
    """Bloc titles are the title rows' text (footnote call « 1 » of bloc 1 removed)."""
    rows = re.findall(r"BLOC DE COMPETENCES N° \d+ : (.*)", raw(SEED))
    titles = [strip_markup(re.sub(r"<sup>.*?</sup>", "", t)) for t in rows]
    assert [b["intitule"] for b in load()["blocs"]] == titles


def test_competence_counts() -> None:
    """Compétences per bloc equal the seed's ``<p>C.x.x.x`` paragraphs (44 in all)."""
    seed = seed_competences()
    data = load()
    yaml_codes = [[c["code"] for c in b["competences"]] for b in data["blocs"]]
    assert [len(seed[n]) for n in (1, 2, 3)] == [len(c) for c in yaml_codes] == EXPECTED_COMPETENCES
    assert sum(len(c) for c in yaml_codes) == 44
    assert [seed[n] for n in (1, 2, 3)] == yaml_codes


def test_every_seed_competence_code_is_in_yaml() -> None:
    """Every code C.x.x.x written anywhere in the seed (also in « En relation » lines) exists."""
    seed_codes = set(_ANY_CODE.findall(raw(SEED)))
    yaml_codes = {c["code"] for b in load()["blocs"] for c in b["competences"]}
    assert seed_codes == yaml_codes
    assert len(seed_codes) == 44


def test_competence_libelles_are_verbatim() -> None:
    """Compétence texts are in the seed; those cut by a page break are checked piece by piece."""
    text = plain_inline()
    for bloc in load()["blocs"]:
        for comp in bloc["competences"]:
            libelle = normalise(comp["libelle"])
            if comp["code"] in COMPETENCES_JOINED:
                assert libelle not in text, comp["code"]
                for piece in COMPETENCES_JOINED[comp["code"]]:
                    assert piece in libelle and piece in text, (comp["code"], piece)
                assert " ".join(COMPETENCES_JOINED[comp["code"]]) in libelle, comp["code"]
            else:
                assert comp["code"] + " " + libelle in text, comp["code"]


def test_criteria_counts() -> None:
    """Criteria per bloc equal the item marks of the seed's criteria column (86 in all)."""
    seed = seed_criteria()
    data = load()
    n_seed = [len(seed[n]) for n in (1, 2, 3)]
    n_yaml = [len(b["criteres"]) for b in data["blocs"]]
    assert n_seed == n_yaml == EXPECTED_CRITERES
    n_criteres = len(all_criteria(data))
    assert n_criteres == 86


def test_criteria_competences_follow_relation_lines() -> None:
    """Each criterion assesses the compétences of the « En relation avec … » line above it."""
    seed = seed_criteria()
    for n, bloc in zip((1, 2, 3), load()["blocs"], strict=True):
        own = {c["code"] for c in bloc["competences"]}
        assert [tuple(c["competences"]) for c in bloc["criteres"]] == seed[n]
        for crit in bloc["criteres"]:
            assert crit["competences"] and set(crit["competences"]) <= own, crit["code"]


def test_groupes() -> None:
    """Every criterion has a groupe taken verbatim from a heading of the seed."""
    text = plain(SEED)
    headings = seed_headings()
    for n, bloc in zip((1, 2, 3), load()["blocs"], strict=True):
        groupes: list[str] = []
        for crit in bloc["criteres"]:
            assert crit["groupe"] and normalise(crit["groupe"]) in text, crit["code"]
            assert crit["groupe"].endswith(" :")
            if not groupes or groupes[-1] != crit["groupe"]:
                groupes.append(crit["groupe"])
        assert len(groupes) == headings[n]
    assert [headings[n] for n in (1, 2, 3)] == EXPECTED_GROUPES


def test_criteria_codes() -> None:
    """Generated codes BCnn-kk, in document order, unique across the file."""
    data = load()
    codes = []
    for bloc in data["blocs"]:
        expected = [f"{bloc['code']}-{k:02d}" for k in range(1, len(bloc["criteres"]) + 1)]
        assert [c["code"] for c in bloc["criteres"]] == expected
        codes += expected
    codes += [b["code"] for b in data["blocs"]]
    codes += [c["code"] for b in data["blocs"] for c in b["competences"]]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[A-Za-z0-9._-]{1,32}", c) for c in codes)


def test_criteria_libelles_are_verbatim() -> None:
    """Each criterion is a substring of the plain seed (exceptions listed above)."""
    text = plain(SEED)
    inline = plain_inline()
    for crit in all_criteria(load()):
        libelle = normalise(crit["libelle"])
        if crit["code"] in CRITERIA_JOINED:
            assert libelle not in text, crit["code"]
            for piece in CRITERIA_JOINED[crit["code"]]:
                assert piece in libelle and piece in text, (crit["code"], piece)
        elif crit["code"] in CRITERIA_INLINE_TAG:
            assert libelle not in text and libelle in inline, crit["code"]
        else:
            assert libelle in text, crit["code"]


def test_no_duplicate_libelle() -> None:
    """No criterion text appears twice (nothing duplicated at a page break)."""
    libelles = [normalise(c["libelle"]) for c in all_criteria(load())]
    assert len(libelles) == len(set(libelles))


def test_no_marks_left() -> None:
    """No list mark, HTML tag or entity, nor leading dash, in any libellé or groupe."""
    data = load()
    texts = [c["libelle"] for c in all_criteria(data)]
    texts += [c["groupe"] for c in all_criteria(data)]
    texts += [c["libelle"] for b in data["blocs"] for c in b["competences"]]
    for text in texts:
        assert not _MARKS.search(text), text
        assert not text.startswith(("-", " ")) and text == normalise(text), text
