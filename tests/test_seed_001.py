"""Seed 001 (Chef de Projet E-Commerce) against its hand-made YAML ``referentiels/CPECOM.yaml``.

The counts are taken again from the raw seed text with regexes of their own (bloc title lines,
compétence codes ``C1.`` / ``C2 :`` / ``C3 ``, criterion codes ``C1.1``), independently of the YAML,
and compared both with the YAML and with literal numbers.

The source repeats its codes in every bloc (each bloc has its own C1, C1.1 …); the YAML prefixes
them with the bloc code (``BC01-C1``, ``BC01-C1.1``) so that they are unique in the file.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from seedtools import SEEDS, normalise, plain, raw, strip_markup

YAML_PATH = Path(__file__).resolve().parent.parent / "referentiels" / "CPECOM.yaml"

N_BLOCS = 5
N_COMPETENCES = 38
N_CRITERES = 93
COMPETENCES_PAR_BLOC = [7, 8, 10, 6, 7]
CRITERES_PAR_BLOC = [18, 21, 24, 13, 17]

# No criterion of this seed is cut by a page break: every bloc starts on its own page and its
# table fits on it (the header rows appear once per bloc, see test_no_page_break_inside_a_bloc).
PAGE_BREAK_JOINS: dict[str, list[str]] = {}

# Criteria whose libellé runs into a bulleted list (○ / •) in the source: the bullets are removed,
# so the libellé is not one substring of the plain text; each piece is checked on its own.
BULLET_JOINS: dict[str, list[str]] = {
    "BC01-C3.3": [
        "La sélection et l'ordre de mise en œuvre des leviers (web)marketing y répondant, "
        "notamment",
        "référencement naturel,",
        "référencement payant,",
        "e-publicité,",
        "affiliation,",
        "emailing,",
        "réseaux sociaux",
    ],
    "BC03-C9.2": [
        "La liste des KPI est commentée",
        "Trafic,",
        "Taux de rebond,",
        "Temps de visite,",
        "Temps de chargement du site,",
        "Taux d'abandon aux principales étapes du processus de transformation "
        "(création de compte, remplissage formulaire, panier, paiement) ,",
        "Chiffre d'affaires,",
    ],
}

GROUPE_C3 = "Une proposition de stratégie webmarketing est rédigée et fait figurer :"

_BLOC_TITLE = re.compile(r"^Bloc (\d+) : (.+)$", re.MULTILINE)
# A compétence code starts its statement: "C1. Mener", "C2 : Concevoir", "C3 Concevoir".
_COMPETENCE = re.compile(r"(?<![\w.])C(\d+)(?:\.| :)? (?=[A-ZÉ])")
# A criterion code: "C1.1 Les motivations".
_CRITERE = re.compile(r"(?<![\w.])C(\d+)\.(\d+) ")
_MARKS = ("✓", "•", "○")
_HTML = re.compile(r"<[^>]+>|&[#a-zA-Z0-9]+;")


def _doc() -> dict:
    """The YAML file, loaded with ``yaml.safe_load``."""
    with YAML_PATH.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _bloc_sections() -> list[str]:
    """The raw seed text of each bloc, from its title line to the next one (or the end)."""
    text = raw("001")
    starts = [m.start() for m in _BLOC_TITLE.finditer(text)]
    return [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=False)]


def _table_rows(section: str) -> list[list[str]]:
    """Content rows of a bloc's table: four tab-separated cells, header rows left out."""
    rows = []
    for line in section.split("\n"):
        cells = line.split("\t")
        if len(cells) != 4 or cells[0].startswith("REFERENTIEL"):
            continue
        if cells[3].strip() == "CRITÈRES D'ÉVALUATION":
            continue
        rows.append(cells)
    return rows


def _seed_competences(section: str) -> list[str]:
    """Compétence codes (C1, C2 …) found in the compétences column of a bloc, in order."""
    column = " ".join(strip_markup(cells[1]) for cells in _table_rows(section))
    return ["C" + m.group(1) for m in _COMPETENCE.finditer(column)]


def _seed_criteres(section: str) -> list[str]:
    """Criterion codes (C1.1 …) found anywhere in a bloc's text, in order."""
    return [f"C{m.group(1)}.{m.group(2)}" for m in _CRITERE.finditer(strip_markup(section))]


def _local(code: str) -> str:
    """The source's own code: ``BC01-C1.1`` -> ``C1.1``."""
    return code.split("-", 1)[1]


def _all_criteres() -> list[dict]:
    """Every criterion of the YAML, in file order."""
    return [c for b in _doc()["blocs"] for c in b["criteres"]]


def test_yaml_loads_and_names_the_seed() -> None:
    """The file loads and its header points at seed 001 with the seed's own title."""
    doc = _doc()
    cert = doc["certification"]
    assert doc["format"] == 1
    assert cert["code"] == "CPECOM"
    assert cert["source"] == SEEDS["001"] == "001_abd43ca6c43fe9c3.txt"
    assert cert["intitule"] == "Chef de Projet E-Commerce"
    assert cert["intitule"] in plain("001")
    assert cert["niveau"] is None and cert["certificateur"] is None
    assert cert["rncp"] is None and cert["nsf"] is None


def test_blocs_counted_from_the_seed() -> None:
    """Bloc title lines of the seed give the YAML's blocs, in order and with their titles."""
    titles = _BLOC_TITLE.findall(raw("001"))
    blocs = _doc()["blocs"]
    assert len(titles) == N_BLOCS == 5
    assert len(blocs) == len(titles)
    for (number, title), bloc in zip(titles, blocs, strict=False):
        assert bloc["code"] == f"BC{int(number):02d}"
        assert bloc["intitule"] == title.strip()


def test_competences_counted_from_the_seed() -> None:
    """Compétence codes of each bloc's compétences column equal the YAML's, bloc by bloc."""
    sections = _bloc_sections()
    blocs = _doc()["blocs"]
    seed_counts = [len(_seed_competences(s)) for s in sections]
    yaml_counts = [len(b["competences"]) for b in blocs]
    assert seed_counts == COMPETENCES_PAR_BLOC
    assert yaml_counts == seed_counts
    n_competences = sum(seed_counts)
    assert n_competences == N_COMPETENCES == 38
    for section, bloc in zip(sections, blocs, strict=False):
        expected = _seed_competences(section)
        assert len(set(expected)) == len(expected)
        assert [_local(c["code"]) for c in bloc["competences"]] == expected
        assert all(c["code"].startswith(bloc["code"] + "-") for c in bloc["competences"])


def test_criteres_counted_from_the_seed() -> None:
    """Criterion codes found in each bloc's text equal the YAML's, bloc by bloc and in order."""
    sections = _bloc_sections()
    blocs = _doc()["blocs"]
    seed_counts = [len(_seed_criteres(s)) for s in sections]
    assert seed_counts == CRITERES_PAR_BLOC
    assert [len(b["criteres"]) for b in blocs] == seed_counts
    n_criteres = sum(seed_counts)
    assert n_criteres == N_CRITERES == 93
    for section, bloc in zip(sections, blocs, strict=False):
        assert [_local(c["code"]) for c in bloc["criteres"]] == _seed_criteres(section)


def test_every_seed_competence_code_is_in_the_yaml() -> None:
    """Each compétence code of the seed exists in the YAML, in the bloc where the seed has it."""
    blocs = _doc()["blocs"]
    for section, bloc in zip(_bloc_sections(), blocs, strict=False):
        codes = {c["code"] for c in bloc["competences"]}
        for code in _seed_competences(section):
            assert f"{bloc['code']}-{code}" in codes


def test_codes_unique_and_well_formed() -> None:
    """Bloc, compétence and criterion codes are unique in the file and use allowed characters."""
    doc = _doc()
    codes = [b["code"] for b in doc["blocs"]]
    codes += [c["code"] for b in doc["blocs"] for c in b["competences"] + b["criteres"]]
    assert len(codes) == len(set(codes))
    for code in codes:
        assert re.fullmatch(r"[A-Za-z0-9._-]{1,32}", code), code


def test_criteria_point_at_their_numbered_competence() -> None:
    """Each criterion assesses the compétence its number names (C5.3 -> C5), in its own bloc."""
    for bloc in _doc()["blocs"]:
        codes = {c["code"] for c in bloc["competences"]}
        for critere in bloc["criteres"]:
            assert critere["competences"], critere["code"]
            assert set(critere["competences"]) <= codes, critere["code"]
            assert critere["competences"] == [critere["code"].rsplit(".", 1)[0]]


def test_libelles_are_verbatim() -> None:
    """Each libellé is a substring of the plain seed text, bullet joins checked piece by piece."""
    text = plain("001")
    exceptions = {**PAGE_BREAK_JOINS, **BULLET_JOINS}
    seen = set()
    for critere in _all_criteres():
        libelle = normalise(critere["libelle"])
        assert libelle == critere["libelle"], critere["code"]
        if critere["code"] in exceptions:
            pieces = exceptions[critere["code"]]
            assert libelle == " ".join(pieces), critere["code"]
            for piece in pieces:
                assert piece in text, (critere["code"], piece)
        else:
            assert libelle in text, critere["code"]
        seen.add(critere["code"])
    assert set(exceptions) <= seen


def test_criteria_column_is_fully_covered() -> None:
    """Each bloc's criteria column, bullets removed, is exactly its groupes, codes and libellés."""
    for section, bloc in zip(_bloc_sections(), _doc()["blocs"], strict=False):
        column = " ".join(strip_markup(cells[3]) for cells in _table_rows(section))
        for mark in _MARKS:
            column = column.replace(mark, " ")
        column = normalise(column)
        parts: list[str] = []
        groupe = None
        for critere in bloc["criteres"]:
            if critere.get("groupe") and critere["groupe"] != groupe:
                parts.append(critere["groupe"])
            groupe = critere.get("groupe")
            parts.append(f"{_local(critere['code'])} {critere['libelle']}")
        assert column == " ".join(parts), bloc["code"]


def test_groupe_of_the_strategy_proposal() -> None:
    """The heading before C3.1 in bloc 1 is the groupe of C3.1 to C3.3 and of nothing else."""
    text = plain("001")
    assert GROUPE_C3 in text
    grouped = [c["code"] for c in _all_criteres() if c.get("groupe")]
    assert grouped == ["BC01-C3.1", "BC01-C3.2", "BC01-C3.3"]
    assert all(c["groupe"] == GROUPE_C3 for c in _all_criteres() if c.get("groupe"))


def test_no_duplicate_libelle() -> None:
    """No criterion libellé appears twice."""
    libelles = [normalise(c["libelle"]) for c in _all_criteres()]
    assert len(libelles) == len(set(libelles))


def test_no_markup_or_list_mark_left() -> None:
    """No libellé (criterion or compétence) keeps a list mark, an HTML tag or an entity."""
    doc = _doc()
    texts = [c["libelle"] for b in doc["blocs"] for c in b["competences"] + b["criteres"]]
    for text in texts:
        assert not any(mark in text for mark in _MARKS), text
        assert not _HTML.search(text), text
        assert not re.match(r"^\s*[-–]\s", text), text


def test_no_page_break_inside_a_bloc() -> None:
    """The table header appears once per bloc: no row or criterion is continued on a new page."""
    for section in _bloc_sections():
        assert section.count("REFERENTIEL D'ACTIVITES") == 1
        assert section.count("5 - référentiels") <= 1
    assert PAGE_BREAK_JOINS == {}
