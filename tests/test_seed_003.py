"""Check referentiels/STRAT-WEBMKT.yaml against its seed, 003_26bb8a526cfe2dfc.txt.

The seed is a Word table exported as text, one line per table row and four tab-separated cells:
activité (« 1.1. … »), compétences (« 1.1.1. … »), modalités, criteria (« ✓ » items).  The header
rows are repeated after every page break, and a row cut by a page break continues on a line whose
first cell is empty.  Three bloc title rows (« BLOC : … », the second one without the prefix)
separate the blocs.  Everything below is recounted from the raw seed text with regexes,
independently of the YAML, then compared with the YAML.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from seedtools import SEEDS, normalise, plain, raw, strip_markup

SEED = "003"
YAML_PATH = Path(__file__).resolve().parent.parent / "referentiels" / "STRAT-WEBMKT.yaml"

#: Criteria the source cuts across a page break: libellé -> its pieces, in order.
JOINED: dict[str, list[str]] = {
    "Un tableau mettant en évidence les Forces-Faiblesses - Opportunités - Menaces (SWOT) est "
    "présenté et sa forme aide à la prise de décision.": [
        "Un tableau mettant en évidence les Forces-Faiblesses - Opportunités - Menaces (SWOT) est",
        "présenté et sa forme aide à la prise de décision.",
    ],
    "L'analyse critique des résultats au regard de la mesure d'une évolution avant/après la mise "
    "en œuvre d'une action promotionnelle est de nature à être présentée aux dirigeants.": [
        "L'analyse critique des résultats au regard de la",
        "mesure d'une évolution avant/après la mise en œuvre d'une action promotionnelle est de "
        "nature à être présentée aux dirigeants.",
    ],
    "Le candidat propose des actions pour entretenir la relation avec le client et décline des "
    "actions BtoB et BtoC pour entretenir la relation client.": [
        "Le candidat propose des actions pour entretenir la relation avec le client et",
        "décline des actions BtoB et BtoC pour entretenir la relation client.",
    ],
}

#: Compétences the source cuts across a page break: libellé -> its pieces, in order.
JOINED_COMPETENCES: dict[str, list[str]] = {
    "Acquérir et fidéliser des clients sur internet en utilisant le tunnel de conversion "
    "marketing digital (ou 'funnel') afin de maximiser le taux de conversion": [
        "Acquérir et fidéliser des clients sur internet en utilisant le tunnel de conversion "
        "marketing",
        "digital (ou 'funnel') afin de maximiser le taux de conversion",
    ],
}

EXPECTED_BLOCS = 3
EXPECTED_COMPETENCES = 18
EXPECTED_CRITERES = 46
EXPECTED_CRITERES_PAR_BLOC = [16, 21, 9]

_HEADER = re.compile(r"^REFERENTIEL D'ACTIVITES|CRITÈRES D'ÉVALUATION\s*$")
_BLOC_TITLE = re.compile(r"^(?:BLOC : )?([A-ZÉÈÊÀÔÇ'/ -]{10,})$")
_COMPETENCE_CODE = re.compile(r"(?<![\d.])(\d\.\d\.\d)\.\s")
_ACTIVITE_CODE = re.compile(r"^(\d)\.(\d)\.\s")
_TAG = re.compile(r"<[^>]+>")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);")
_QNO = "Les qualités non observables"


def load() -> dict:
    """The hand-made YAML, parsed with ``yaml.safe_load``."""
    with YAML_PATH.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def lines() -> list[str]:
    """The seed's lines, as on disk."""
    return raw(SEED).splitlines()


def bloc_titles() -> list[str]:
    """The bloc title rows (no tab, upper case), « BLOC : » removed."""
    titles = []
    for line in lines():
        match = _BLOC_TITLE.match(line.strip())
        if "\t" not in line and match:
            titles.append(match.group(1).strip())
    return titles


def sections() -> list[list[str]]:
    """The seed's lines grouped by bloc: everything after a title row and before the next one."""
    out: list[list[str]] = []
    for line in lines():
        if "\t" not in line and _BLOC_TITLE.match(line.strip()):
            out.append([])
        elif out:
            out[-1].append(line)
    return out


def logical_rows(section: list[str]) -> list[list[str]]:
    """The table rows of one bloc, a row continued after a page break merged back into one.

    Header rows are skipped; a line whose first cell is empty continues the previous row, and
    its cells are appended to the previous row's cells with a space.
    """
    rows: list[list[str]] = []
    for line in section:
        if "\t" not in line or _HEADER.search(line):
            continue
        cells = [*line.split("\t"), "", "", ""][:4]
        if cells[0].strip() or not rows:
            rows.append(cells)
        else:
            rows[-1] = [f"{a} {b}" for a, b in zip(rows[-1], cells, strict=True)]
    return rows


def check_items(cell: str) -> tuple[str, list[str]]:
    """(heading before the first « ✓ », the « ✓ » items) of a criteria cell, markup stripped.

    An item stops at the next « ✓ » or at a ``<p>`` that follows it (the « qualités non
    observables » paragraph); an item that a page break cut keeps only what follows its mark,
    so a joined criterion shows up here with both pieces separated by the page's markup.
    """
    head, *items = cell.split("✓")
    texts = []
    for item in items:
        text = strip_markup(item)
        if _QNO in text:
            text = text[: text.index(_QNO)].strip()
        texts.append(text)
    return strip_markup(head), texts


def seed_criteres() -> list[list[tuple[str, list[str], str]]]:
    """Per bloc: (criterion text, compétence codes of its row, heading) in document order."""
    out = []
    for section in sections():
        bloc = []
        for row in logical_rows(section):
            codes = _COMPETENCE_CODE.findall(strip_markup(row[1]) + " ")
            head, items = check_items(row[3])
            bloc.extend((item, codes, head) for item in items)
        out.append(bloc)
    return out


def seed_competences() -> list[list[str]]:
    """Per bloc: the compétence codes (« 1.1.1. ») of the compétence column, in order."""
    return [
        [
            code
            for row in logical_rows(s)
            for code in _COMPETENCE_CODE.findall(strip_markup(row[1]) + " ")
        ]
        for s in sections()
    ]


def yaml_criteres() -> list[dict]:
    """Every criterion of the YAML, in document order."""
    return [critere for bloc in load()["blocs"] for critere in bloc["criteres"]]


def test_seed_counts_are_the_expected_literals() -> None:
    """The seed has 3 blocs, 18 compétences and 46 « ✓ » criteria (16, 21, 9 per bloc)."""
    assert len(bloc_titles()) == EXPECTED_BLOCS
    activites = {m.group(1) for line in lines() if (m := _ACTIVITE_CODE.match(line))}
    assert activites == {"1", "2", "3"}
    assert sum(map(len, seed_competences())) == EXPECTED_COMPETENCES
    assert raw(SEED).count("✓") == EXPECTED_CRITERES
    assert [s.count("✓") for s in ("\n".join(sec) for sec in sections())] == (
        EXPECTED_CRITERES_PAR_BLOC
    )
    assert [len(b) for b in seed_criteres()] == EXPECTED_CRITERES_PAR_BLOC


def test_yaml_counts_match_seed() -> None:
    """Blocs, compétences and criteria of the YAML are as many as in the seed."""
    blocs = load()["blocs"]
    n_blocs = len(blocs)
    n_competences = sum(len(b["competences"]) for b in blocs)
    n_criteres = sum(len(b["criteres"]) for b in blocs)
    assert n_blocs == len(bloc_titles()) == 3
    assert n_competences == sum(map(len, seed_competences())) == 18
    assert n_criteres == raw(SEED).count("✓") == 46
    assert [len(b["criteres"]) for b in blocs] == [16, 21, 9]


def test_blocs_follow_the_title_rows() -> None:
    """Each bloc is titled verbatim after its title row, codes BC01 … in order."""
    blocs = load()["blocs"]
    assert [b["code"] for b in blocs] == ["BC01", "BC02", "BC03"]
    assert [b["intitule"] for b in blocs] == bloc_titles()
    assert bloc_titles()[1] == "ELABORER ET PILOTER LE PLAN MARKETING OPERATIONNEL"


def test_competences_keep_the_seed_codes() -> None:
    """Every compétence code of the seed is in the YAML, in its bloc and in order."""
    blocs = load()["blocs"]
    for bloc, codes in zip(blocs, seed_competences(), strict=True):
        assert [c["code"] for c in bloc["competences"]] == codes
    seed_codes = set(_COMPETENCE_CODE.findall(plain(SEED)))
    assert seed_codes == {c["code"] for b in blocs for c in b["competences"]}


def test_competence_libelles_are_verbatim() -> None:
    """Compétence libellés are in the seed right after their code (joined one piece by piece)."""
    text = plain(SEED)
    for bloc in load()["blocs"]:
        for comp in bloc["competences"]:
            libelle = normalise(comp["libelle"])
            if libelle in JOINED_COMPETENCES:
                pieces = JOINED_COMPETENCES[libelle]
                assert normalise(" ".join(pieces)) == libelle
                assert f"{comp['code']}. {pieces[0]}" in text
                for piece in pieces[1:]:
                    assert piece in text
            else:
                assert f"{comp['code']}. {libelle}" in text, libelle


def test_rows_map_to_criteria_in_order() -> None:
    """Row by row, the YAML's criteria are the seed's « ✓ » items with their row's compétences."""
    blocs = load()["blocs"]
    for bloc, items in zip(blocs, seed_criteres(), strict=True):
        assert len(bloc["criteres"]) == len(items)
        for critere, (item, codes, _head) in zip(bloc["criteres"], items, strict=True):
            libelle = normalise(critere["libelle"])
            if libelle in JOINED:
                assert item == " ".join(JOINED[libelle])
            else:
                assert libelle == item
            assert critere["competences"] == codes


def test_groupes_are_the_headings_of_bloc_3() -> None:
    """Bloc 3's criteria sit under « En fonction de la situation … » ; the others have none."""
    blocs = load()["blocs"]
    heading = "En fonction de la situation de management à traiter par le candidat :"
    heads = {head for _, _, head in seed_criteres()[2]}
    assert heads == {heading}
    assert plain(SEED).count(heading) == 3
    assert all(c.get("groupe") == heading for c in blocs[2]["criteres"])
    assert all(c.get("groupe") is None for b in blocs[:2] for c in b["criteres"])


def test_criteria_are_verbatim_substrings_of_the_seed() -> None:
    """Every criterion libellé is in the plain seed text (joined ones checked piece by piece)."""
    text = plain(SEED)
    joined_seen = 0
    for critere in yaml_criteres():
        libelle = normalise(critere["libelle"])
        if libelle in JOINED:
            joined_seen += 1
            pieces = JOINED[libelle]
            assert normalise(" ".join(pieces)) == libelle
            for piece in pieces:
                assert normalise(piece) in text, piece
            assert libelle not in text
        else:
            assert libelle in text, libelle
    assert joined_seen == len(JOINED) == 3


def test_no_duplicate_libelles() -> None:
    """No criterion libellé appears twice, and codes are unique across the file."""
    libelles = [normalise(c["libelle"]) for c in yaml_criteres()]
    assert len(libelles) == len(set(libelles))
    blocs = load()["blocs"]
    codes = [b["code"] for b in blocs]
    codes += [c["code"] for b in blocs for c in b["competences"]]
    codes += [c["code"] for b in blocs for c in b["criteres"]]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}", c) for c in codes)
    for bloc in blocs:
        expected = [f"{bloc['code']}-{i:02d}" for i in range(1, len(bloc["criteres"]) + 1)]
        assert [c["code"] for c in bloc["criteres"]] == expected
        own = {c["code"] for c in bloc["competences"]}
        assert all(set(c["competences"]) <= own for c in bloc["criteres"])


def test_no_list_marks_or_markup_left() -> None:
    """No libellé, compétence or groupe still holds a list mark, an HTML tag or an entity."""
    blocs = load()["blocs"]
    texts = [c["libelle"] for b in blocs for c in b["criteres"]]
    texts += [c["libelle"] for b in blocs for c in b["competences"]]
    texts += [c.get("groupe") or "" for b in blocs for c in b["criteres"]]
    for text in texts:
        assert "✓" not in text and "•" not in text, text
        assert not text.lstrip().startswith(("- ", "« - ")), text
        assert not _TAG.search(text), text
        assert not _ENTITY.search(text), text
        assert text == normalise(text), text


def test_access_routes_and_complementary_evaluations() -> None:
    """Three access routes; the formation route adds the two « - » evaluations of the seed."""
    data = load()
    text = raw(SEED)
    assert "par la formation" in text and "par la VAE" in text and "Parcours mixte" in text
    assert data["voies_acces"] == ["Formation", "VAE", "Parcours mixte"]
    tail = text[
        text.index("Evaluations complémentaires :") : text.index(
            "Voie d'accès à la certification par la VAE"
        )
    ]
    items = [line.strip()[2:] for line in tail.splitlines() if line.strip().startswith("- ")]
    evals = data["evaluations_complementaires"]
    assert [e["intitule"] for e in evals] == items
    assert len(items) == 2
    assert all(e["voies"] == ["Formation"] for e in evals)


def test_qualites_non_observables_are_verbatim() -> None:
    """The four « qualités non observables » paragraphs are copied verbatim, in order."""
    found = re.findall(r"<p>(" + _QNO + r".*?)</p>", raw(SEED))
    assert [strip_markup(f) for f in found] == load()["qualites_non_observables"]
    assert len(found) == 4


def test_certification_identity() -> None:
    """Code, source and the nulls the seed cannot fill (no level, certifier or RNCP number)."""
    cert = load()["certification"]
    assert cert["code"] == "STRAT-WEBMKT"
    assert cert["source"] == SEEDS[SEED]
    assert cert["niveau"] is None and cert["certificateur"] is None
    assert cert["rncp"] is None and cert["nsf"] is None
    assert "niveau" not in plain(SEED).lower()
