"""Seed 002 (``002_8c44ac07cd0ca90b.txt``) against its hand-made YAML
``referentiels/MEDIAS-ECOM.yaml``.

The seed is a four-column Word table (activités, compétences, modalités, critères) exported as
tab-separated text. Blocs are announced by « Bloc de compétences N : … » rows, compétences start
with a bold code (``C1.1``, ``C1.3.1`` …) and every criterion is one ``<p>`` of the fourth column.
The counts below are taken from the raw text, never from the YAML, and compared with the YAML.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from seedtools import SEEDS, normalise, plain, raw, strip_markup

SEED = "002"
YAML_PATH = Path(__file__).resolve().parent.parent / "referentiels" / "MEDIAS-ECOM.yaml"

BLOC_TITLE = re.compile(r"Bloc de compétences (\d+) : ")
COMPETENCE_CODE = re.compile(r"<b>(C\d+(?:\.\d+)+) ")
PARAGRAPH = re.compile(r"<p[^>]*>(.*?)</p>", re.DOTALL)
INLINE_TAG = re.compile(r"</?(?:b|i|u)>")
SENTENCE_END = re.compile(r"[.!?…]$")

# Criteria cut by a page break: the pieces, in order, as they stand in the seed.
JOINED_CRITERIA = {
    "BC02-07": [
        "Des fiches produit sont intégrées sur un site e-commerce via Shopify, optimisées pour le",
        "référencement et mises en ligne sur un Wordpress.",
    ],
}

# Compétences cut by a page break (same treatment).
JOINED_COMPETENCES = {
    "C1.6": [
        (
            "Animer les espaces d'échanges avec les communautés en répondant aux réclamations, "
            "aux avis et aux commentaires des internautes tout en"
        ),
        "gardant la maîtrise de la e-réputation de la marque afin de fidéliser la communauté.",
    ],
    "C2.2.2": [
        (
            "Créer des fiches produit en fournissant les informations nécessaires et accessibles "
            "aux clients potentiels afin d'orienter les clients dans leurs"
        ),
        "achats et d'améliorer la visibilité du site e-commerce dans les résultats de recherche.",
    ],
}

# Criteria whose source has an inline tag glued to punctuation, e.g. « (<i>hashtags, …</i>) »:
# ``plain`` puts a space where the tag was, the verbatim libellé does not.
INLINE_TAG_CRITERIA = {"BC01-17"}

EXPECTED_BLOCS = 3
EXPECTED_COMPETENCES = 17
EXPECTED_CRITERES = 49
EXPECTED_PER_BLOC = {"BC01": (7, 22), "BC02": (6, 16), "BC03": (4, 11)}


def _inline_plain(text: str) -> str:
    """Plain text where inline tags (b, i, u) vanish without leaving a space."""
    return strip_markup(INLINE_TAG.sub("", text))


def _rows() -> list[list[str]]:
    """The seed's table rows (lines with four tab-separated cells)."""
    return [line.split("\t") for line in raw(SEED).split("\n") if line.count("\t") == 3]


def _seed_blocs() -> list[dict[str, list[str]]]:
    """Compétence codes and criterion paragraphs per bloc, read from the seed's table."""
    blocs: list[dict[str, list[str]]] = []
    for cells in _rows():
        if BLOC_TITLE.search(strip_markup(cells[0])):
            blocs.append({"competences": [], "criteres": []})
            continue
        if not blocs:
            continue  # header rows before the first bloc
        blocs[-1]["competences"] += COMPETENCE_CODE.findall(cells[1])
        blocs[-1]["criteres"] += [_inline_plain(p) for p in PARAGRAPH.findall(cells[3])]
    return blocs


def _joined(paragraphs: list[str]) -> list[str]:
    """Join a paragraph cut by a page break (it does not end a sentence) to the next one."""
    out: list[str] = []
    pending = ""
    for text in paragraphs:
        text = f"{pending} {text}" if pending else text
        if SENTENCE_END.search(text):
            out.append(text)
            pending = ""
        else:
            pending = text
    assert not pending, f"dangling cut paragraph: {pending!r}"
    return out


@pytest.fixture(scope="module")
def doc() -> dict:
    """The YAML file, loaded with yaml.safe_load."""
    with YAML_PATH.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _criteres(doc: dict) -> list[dict]:
    """All criteria of the YAML, in document order."""
    return [c for b in doc["blocs"] for c in b["criteres"]]


def test_seed_file_is_registered() -> None:
    """The seed named in the YAML is the one seedtools knows as 002."""
    assert SEEDS[SEED] == "002_8c44ac07cd0ca90b.txt"


def test_certification_header(doc: dict) -> None:
    """Code and source are fixed; the seed states no niveau, certificateur, RNCP or NSF."""
    cert = doc["certification"]
    assert cert["code"] == "MEDIAS-ECOM"
    assert cert["source"] == SEEDS[SEED]
    assert cert["niveau"] is None
    assert cert["certificateur"] is None
    assert cert["rncp"] is None
    assert cert["nsf"] is None


def test_bloc_count(doc: dict) -> None:
    """Blocs counted on the « Bloc de compétences N : » rows equal the YAML's blocs."""
    numbers = BLOC_TITLE.findall(plain(SEED))
    assert numbers == ["1", "2", "3"]
    assert len(numbers) == len(doc["blocs"]) == EXPECTED_BLOCS
    titles = re.findall(r"Bloc de compétences \d+ : ([^\t<]+)", raw(SEED))
    assert [normalise(t) for t in titles] == [b["intitule"] for b in doc["blocs"]]


def test_competence_count_and_codes(doc: dict) -> None:
    """Every bold compétence code of the seed is in the YAML, in the same bloc, and no other."""
    seed_codes = COMPETENCE_CODE.findall(raw(SEED))
    assert len(seed_codes) == len(set(seed_codes)) == EXPECTED_COMPETENCES
    yaml_codes = [c["code"] for b in doc["blocs"] for c in b["competences"]]
    assert yaml_codes == seed_codes
    for seed_bloc, bloc in zip(_seed_blocs(), doc["blocs"], strict=True):
        assert seed_bloc["competences"] == [c["code"] for c in bloc["competences"]]


def test_criteria_count(doc: dict) -> None:
    """Criterion paragraphs of the fourth column, page-break cuts joined, equal the YAML's."""
    paragraphs = [p for b in _seed_blocs() for p in b["criteres"]]
    cut = [p for p in paragraphs if not SENTENCE_END.search(p)]
    assert len(paragraphs) == 50
    assert len(cut) == len(JOINED_CRITERIA) == 1
    n_criteres = len(_joined(paragraphs))
    assert n_criteres == EXPECTED_CRITERES
    assert n_criteres == len(_criteres(doc))


def test_per_bloc_counts(doc: dict) -> None:
    """Each bloc has the compétences and criteria the seed gives it."""
    seed_blocs = _seed_blocs()
    for seed_bloc, bloc in zip(seed_blocs, doc["blocs"], strict=True):
        n_comp, n_crit = EXPECTED_PER_BLOC[bloc["code"]]
        assert len(seed_bloc["competences"]) == len(bloc["competences"]) == n_comp
        assert len(_joined(seed_bloc["criteres"])) == len(bloc["criteres"]) == n_crit


def test_criteria_in_document_order(doc: dict) -> None:
    """The YAML's libellés are exactly the seed's criterion paragraphs, in order."""
    for seed_bloc, bloc in zip(_seed_blocs(), doc["blocs"], strict=True):
        assert [c["libelle"] for c in bloc["criteres"]] == _joined(
            seed_bloc["criteres"]
        )


def test_libelles_are_verbatim(doc: dict) -> None:
    """Every libellé is a substring of the plain seed, except the listed joins and inline cases."""
    text = plain(SEED)
    inline_text = _inline_plain(raw(SEED))
    for critere in _criteres(doc):
        libelle = normalise(critere["libelle"])
        code = critere["code"]
        if code in JOINED_CRITERIA:
            pieces = JOINED_CRITERIA[code]
            assert libelle == " ".join(pieces)
            assert libelle not in text
            for piece in pieces:
                assert piece in text, (code, piece)
        elif code in INLINE_TAG_CRITERIA:
            assert libelle not in text
            assert libelle in inline_text, code
        else:
            assert libelle in text, code


def test_joined_criteria_straddle_a_page_break() -> None:
    """Each joined piece ends one page's cell and the next piece opens the next page's cell."""
    rows = raw(SEED).split("\n")
    for pieces in JOINED_CRITERIA.values():
        first = next(
            i for i, line in enumerate(rows) if pieces[0] in strip_markup(line)
        )
        assert strip_markup(rows[first]).endswith(pieces[0])
        assert rows[first + 1].strip() == ""  # page break
        assert strip_markup(rows[first + 2].split("\t")[3]).startswith(pieces[1])


def test_competence_libelles_are_verbatim(doc: dict) -> None:
    """Compétence libellés are the whole sentence (code removed), joined across page breaks."""
    inline_text = _inline_plain(raw(SEED))
    for bloc in doc["blocs"]:
        for comp in bloc["competences"]:
            libelle = normalise(comp["libelle"])
            if comp["code"] in JOINED_COMPETENCES:
                pieces = JOINED_COMPETENCES[comp["code"]]
                assert libelle == " ".join(pieces)
                assert f"{comp['code']} {pieces[0]}" in inline_text
                assert pieces[1] in inline_text
            else:
                assert f"{comp['code']} {libelle}" in inline_text, comp["code"]


def test_no_duplicate_libelle(doc: dict) -> None:
    """No criterion libellé appears twice, and criterion codes are unique."""
    libelles = [normalise(c["libelle"]) for c in _criteres(doc)]
    assert len(libelles) == len(set(libelles))
    codes = [c["code"] for c in _criteres(doc)]
    assert len(codes) == len(set(codes))


def test_generated_criterion_codes(doc: dict) -> None:
    """The seed does not number criteria: codes are BCnn-kk in document order within the bloc."""
    for rank, bloc in enumerate(doc["blocs"], start=1):
        assert bloc["code"] == f"BC{rank:02d}"
        expected = [
            f"{bloc['code']}-{k:02d}" for k in range(1, len(bloc["criteres"]) + 1)
        ]
        assert [c["code"] for c in bloc["criteres"]] == expected


def test_criteria_link_to_competences_of_their_bloc(doc: dict) -> None:
    """Every criterion names at least one compétence, all of them in its own bloc."""
    for bloc in doc["blocs"]:
        codes = {c["code"] for c in bloc["competences"]}
        for critere in bloc["criteres"]:
            assert critere["competences"], critere["code"]
            assert set(critere["competences"]) <= codes, critere["code"]


def test_no_markup_left(doc: dict) -> None:
    """No libellé keeps a list mark (✓ • leading dash), an HTML tag or an HTML entity."""
    texts = [c["libelle"] for c in _criteres(doc)]
    texts += [c["libelle"] for b in doc["blocs"] for c in b["competences"]]
    texts += [t for b in doc["blocs"] for t in b.get("modalites_evaluation", [])]
    for text in texts:
        assert "✓" not in text and "•" not in text, text
        assert not re.match(r"\s*[-–«]\s", text), text
        assert not re.search(r"<[^>]+>", text), text
        assert not re.search(r"&(?:[A-Za-z]+|#\d+|#x[0-9A-Fa-f]+);", text), text
        assert text == normalise(text), text
