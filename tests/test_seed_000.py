"""Check referentiels/MKT-ECOM.yaml against its seed, 000_eb68862eae6e4aa1.txt.

The seed (« Marketer l'e-commerce ») is a Word table exported as text: one table row per
« Activité N : … » (one bloc each), the compétences as « • » bullets in the second cell and the
evaluation criteria as « • » bullets in the last cell of the row.  The counts below are taken from
the raw seed text with regexes, independently of the YAML, then compared with the YAML.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from seedtools import SEEDS, normalise, plain, raw, strip_markup

SEED = "000"
YAML_PATH = Path(__file__).resolve().parent.parent / "referentiels" / "MKT-ECOM.yaml"

#: Criteria the source cuts across a page break: libellé -> its pieces, in order.
#: This seed has none (no criterion continues on the next page's first row).
JOINED: dict[str, list[str]] = {}

EXPECTED_BLOCS = 4
EXPECTED_COMPETENCES = 7
EXPECTED_CRITERES = 14

_ACTIVITE = re.compile(r"<p>\s*Activité\s+(\d+)\s*:\s*(.*?)\s*</p>", re.S)
_BORDER = re.compile(r"^-{20,}")
_TAG = re.compile(r"<[^>]+>")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);")
_COMPETENCE_CODE = re.compile(r"\bC\.?\d+(?:\.\d+)*\b|\b\d+\.\d+\.\d+\b")


def load() -> dict:
    """The hand-made YAML, parsed with ``yaml.safe_load``."""
    with YAML_PATH.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def bullets(cell: str) -> list[str]:
    """The « • » items of one table cell, markup stripped and white space folded."""
    return [strip_markup(item) for item in cell.split("•")[1:] if strip_markup(item)]


def table_rows() -> list[list[str]]:
    """The table's body rows (tab-separated lines holding « • » bullets), cells split on tabs."""
    rows = []
    for line in raw(SEED).splitlines():
        if "\t" in line and "•" in line and not _BORDER.match(line):
            rows.append(line.split("\t"))
    return rows


def seed_blocs() -> list[tuple[int, str]]:
    """(number, title) of every « Activité N : … » heading of the seed."""
    return [(int(n), strip_markup(title)) for n, title in _ACTIVITE.findall(raw(SEED))]


def seed_competences() -> list[list[str]]:
    """Per table row: the compétence bullets (second cell)."""
    return [bullets(row[1]) for row in table_rows()]


def seed_criteres() -> list[list[str]]:
    """Per table row: the criteria bullets (last cell)."""
    return [bullets(row[-1]) for row in table_rows()]


def yaml_criteres() -> list[dict]:
    """Every criterion of the YAML, in document order."""
    return [critere for bloc in load()["blocs"] for critere in bloc["criteres"]]


def test_seed_counts_are_the_expected_literals() -> None:
    """The seed itself has 4 activités, 7 compétences and 14 criteria."""
    assert [n for n, _ in seed_blocs()] == [1, 2, 3, 4]
    assert len(table_rows()) == EXPECTED_BLOCS
    assert sum(map(len, seed_competences())) == EXPECTED_COMPETENCES
    assert sum(map(len, seed_criteres())) == EXPECTED_CRITERES
    # second, cruder count: every criterion of this seed starts with « Le candidat »
    assert len(re.findall(r"•\s*Le candidat\b", raw(SEED))) == EXPECTED_CRITERES
    assert all(c.startswith("Le candidat ") for row in seed_criteres() for c in row)


def test_yaml_counts_match_seed() -> None:
    """Blocs, compétences and criteria of the YAML are as many as in the seed."""
    data = load()
    blocs = data["blocs"]
    n_blocs = len(blocs)
    n_competences = sum(len(b["competences"]) for b in blocs)
    n_criteres = sum(len(b["criteres"]) for b in blocs)
    assert n_blocs == len(seed_blocs()) == 4
    assert n_competences == sum(map(len, seed_competences())) == 7
    assert n_criteres == sum(map(len, seed_criteres())) == 14


def test_blocs_follow_the_activites() -> None:
    """Each bloc is one activité, in order, titled verbatim after « Activité N : »."""
    blocs = load()["blocs"]
    assert [b["code"] for b in blocs] == ["BC01", "BC02", "BC03", "BC04"]
    assert [b["intitule"] for b in blocs] == [title for _, title in seed_blocs()]


def test_rows_map_to_blocs_in_order() -> None:
    """Row by row, the YAML's compétences and criteria are the seed's bullets, in order."""
    blocs = load()["blocs"]
    for bloc, comps, crits in zip(blocs, seed_competences(), seed_criteres(), strict=True):
        assert [normalise(c["libelle"]) for c in bloc["competences"]] == comps
        assert [normalise(c["libelle"]) for c in bloc["criteres"]] == crits


def test_criteria_are_verbatim_substrings_of_the_seed() -> None:
    """Every criterion libellé is in the plain seed text (joined ones checked piece by piece)."""
    text = plain(SEED)
    for critere in yaml_criteres():
        libelle = normalise(critere["libelle"])
        if libelle in JOINED:
            pieces = JOINED[libelle]
            assert normalise(" ".join(pieces)) == libelle
            for piece in pieces:
                assert normalise(piece) in text, piece
        else:
            assert libelle in text, libelle


def test_no_page_break_joins_declared() -> None:
    """This seed cuts no criterion across a page break."""
    assert JOINED == {}


def test_no_duplicate_libelles() -> None:
    """No criterion libellé appears twice."""
    libelles = [normalise(c["libelle"]) for c in yaml_criteres()]
    assert len(libelles) == len(set(libelles))


def test_competence_codes_of_the_seed_are_in_the_yaml() -> None:
    """The seed has no compétence codes; the YAML uses the generated ones, all referenced."""
    seed_codes = set(_COMPETENCE_CODE.findall(raw(SEED)))
    blocs = load()["blocs"]
    yaml_codes = {c["code"] for b in blocs for c in b["competences"]}
    assert seed_codes <= yaml_codes
    assert seed_codes == set()
    for bloc in blocs:
        own = [c["code"] for c in bloc["competences"]]
        assert own == [f"{bloc['code']}-C{i}" for i in range(1, len(own) + 1)]
        for critere in bloc["criteres"]:
            assert critere["competences"] == own


def test_criteria_codes_are_generated_in_order() -> None:
    """Criteria are coded BCnn-01, BCnn-02 … in document order within each bloc."""
    for bloc in load()["blocs"]:
        codes = [c["code"] for c in bloc["criteres"]]
        assert codes == [f"{bloc['code']}-{i:02d}" for i in range(1, len(codes) + 1)]


def test_no_markup_or_list_marks_left() -> None:
    """No libellé still holds a list mark, an HTML tag or an HTML entity."""
    blocs = load()["blocs"]
    texts = [c["libelle"] for b in blocs for c in b["competences"] + b["criteres"]]
    for text in texts:
        assert "✓" not in text and "•" not in text, text
        assert not text.lstrip().startswith(("-", "«")), text
        assert not _TAG.search(text), text
        assert not _ENTITY.search(text), text
        assert text == normalise(text), text


def test_certification_and_rules() -> None:
    """Header and FILEA session rules: granted on 70 % of all criteria."""
    data = load()
    cert = data["certification"]
    assert cert["code"] == "MKT-ECOM"
    assert cert["source"] == SEEDS[SEED]
    assert cert["certificateur"] == "FILEA"
    assert cert["intitule"] in plain(SEED)
    assert data["regles"]["mode_decision"] == "global"
    assert data["regles"]["seuil_certification"] == 0.70
    for sentence in data["informations_jury"]:
        assert normalise(sentence) in plain(SEED).replace(" - ", " "), sentence
