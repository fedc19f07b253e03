"""Import of Word référentiel tables (.docx), on documents built here with python-docx.

The documents have what certifiers' tables have: header rows marked to repeat on every page and
a header row repeated by hand after a page break, bloc title rows merged across the table and
bloc titles between two tables, cells merged vertically (one activity, one compétence, one
modality over several rows), several paragraphs and bullet lists in a cell, a criterion cut in
two rows at a page break, tracked changes (an insertion to read, a deletion to ignore), and each
code style of the seeds (C1., C1.1, C.1.1.1, 1.1.1., A1.1 activities, « En relation avec les
compétences … ») or no code at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from docx import Document
from docx.enum.text import WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.table import Table, _Cell, _Row

from certidocs.cli import main
from certidocs.referentiel import load_referentiel

HEADER4 = ["Activités", "Compétences", "Modalités d'évaluation", "Critères d'évaluation"]
HEADER5 = ["Activités et tâches", "Compétences associées", "Compétences évaluées",
           "Modalités d'évaluation", "Critères d'évaluation"]
Para = str | tuple[str, str]  # text, or (text, style name)


def _fill(cell: _Cell, paragraphs: list[Para]) -> None:
    """Write ``paragraphs`` in ``cell``, one Word paragraph each (styles for bullet lists)."""
    for i, item in enumerate(paragraphs):
        text, style = (item, None) if isinstance(item, str) else item
        para = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
        para.text = text
        if style:
            para.style = style


def _row(table: Table, cells: list[list[Para]]) -> _Row:
    row = table.add_row()
    for cell, paragraphs in zip(row.cells, cells, strict=True):
        _fill(cell, paragraphs)
    return row


def _header(table: Table, labels: list[str], *, repeat: bool) -> _Row:
    """A header row; ``repeat`` marks it as Word's « repeat as header row on each page »."""
    row = _row(table, [[label] for label in labels])
    if repeat:
        row._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    return row


def _title(table: Table, text: str) -> None:
    """A bloc title row: one cell merged across the whole table width."""
    row = table.add_row()
    merged = row.cells[0].merge(row.cells[-1])
    _fill(merged, [text])


def _merge_down(table: Table, column: int, first: int, last: int) -> None:
    """Merge a column's cells from row ``first`` to row ``last`` (content of the first kept)."""
    table.cell(first, column).merge(table.cell(last, column))


def _tracked(cell: _Cell, before: str, inserted: str, deleted: str, after: str) -> None:
    """A paragraph whose text went through revision: an insertion and a deletion tracked."""
    para = cell.add_paragraph()
    para.add_run(before)
    ins = OxmlElement("w:ins")
    dele = OxmlElement("w:del")
    for n, (mark, tag, text) in enumerate(((ins, "w:t", inserted), (dele, "w:delText", deleted))):
        mark.set(qn("w:id"), str(n + 1))
        mark.set(qn("w:author"), "Relecteur")
        mark.set(qn("w:date"), "2024-05-02T10:00:00Z")
        run = OxmlElement("w:r")
        node = OxmlElement(tag)
        node.set(qn("xml:space"), "preserve")
        node.text = text
        run.append(node)
        mark.append(run)
        para._p.append(mark)
    para.add_run(after)


def _table(doc: Any, columns: int) -> Table:
    table = doc.add_table(rows=0, cols=columns)
    table.style = "Table Grid"
    return table


def build_projet_web(path: Path) -> Path:
    """Two blocs over two tables (the second after a page break), 4 columns, codes C1., C2."""
    doc = Document()
    doc.add_paragraph("Référentiel « Chargé de projet web »", style="Title")
    doc.add_paragraph("Titre RNCP de niveau 6, fiche RNCP37001.")
    table = _table(doc, 4)
    _header(table, HEADER4, repeat=True)                                          # row 0
    _title(table, "Bloc de compétences 1 : Piloter un projet web")                # row 1
    _row(table, [["A1 Cadrage du projet"], ["C1. Définir le périmètre du projet"],  # row 2
                 ["Étude de cas", "Livrables attendus :", ("Note de cadrage", "List Bullet"),
                  ("Budget prévisionnel", "List Bullet")],
                 [("Le périmètre est délimité.", "List Bullet"),
                  ("Les parties prenantes sont identifiées.", "List Bullet")]])
    row = _row(table, [[], ["C2. Chiffrer le budget du projet"], [], []])        # row 3
    _tracked(row.cells[3], "Le budget est chiffré ", "et justifié", "approximativement ", ".")
    row.cells[3].paragraphs[0]._p.getparent().remove(row.cells[3].paragraphs[0]._p)
    row.cells[3].add_paragraph("Le planning est réaliste et", style="List Bullet")
    _merge_down(table, 0, 2, 3)
    _merge_down(table, 2, 2, 3)
    _header(table, HEADER4, repeat=False)                                         # row 4
    _row(table, [[], [], [], ["tient compte des contraintes de l'équipe."]])       # row 5
    _row(table, [["A2 Suivi du projet"], ["C3. Suivre l'avancement du projet"],     # row 6
                 ["Mise en situation professionnelle"],
                 ["Un tableau de bord est tenu à jour."]])
    _row(table, [[], [], [], ["Le suivi fait apparaître :",                         # row 7
                              ("les écarts de délai,", "List Bullet"),
                              ("les écarts de coût.", "List Bullet")]])
    _merge_down(table, 0, 6, 7)
    _merge_down(table, 1, 6, 7)
    _merge_down(table, 2, 6, 7)
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    doc.add_paragraph("BLOC : Assurer la qualité du site")
    table = _table(doc, 4)
    _header(table, HEADER4, repeat=True)
    _row(table, [["Recette"], ["C1. Tester le site", "C2. Corriger les anomalies"],
                 ["Recette sur un site réel"],
                 [("Les tests couvrent les parcours clés.", "List Bullet"),
                  ("Les anomalies sont corrigées avant la mise en ligne.", "List Bullet")]])
    doc.save(str(path))
    return path


def build_cinq_colonnes(path: Path) -> Path:
    """Five columns, blocs given by « Activité N : », the « compétences évaluées » column."""
    doc = Document()
    table = _table(doc, 5)
    _header(table, HEADER5, repeat=True)
    _row(table, [["Activité 1 : Concevoir une maquette", ("Recueillir le besoin", "List Bullet")],
                 ["1.1.1. Recueillir le besoin du client", "1.1.2. Produire une maquette"],
                 ["1.1.1"], ["Cas pratique"],
                 ["✓ Le besoin est reformulé. ✓ Les contraintes sont listées."]])
    _row(table, [[], [], ["1.1.2"], [], ["✓ La maquette respecte la charte graphique."]])
    _merge_down(table, 0, 1, 2)
    _merge_down(table, 1, 1, 2)
    _merge_down(table, 3, 1, 2)
    _row(table, [["Activité 2 : Publier le site"], ["2.1.1. Mettre en ligne le site"], [],
                 ["Mise en situation"], ["✓ Le site est accessible en ligne."]])
    doc.save(str(path))
    return path


def _import(cli_runner: CliRunner, source: Path, *extra: str) -> dict[str, Any]:
    out = source.with_suffix(".yaml")
    result = cli_runner.invoke(main, ["referentiel", "importer", str(source), "-o", str(out),
                                      *extra])
    assert result.exit_code == 0, result.output
    load_referentiel(out)  # the written file is a valid référentiel
    data: dict[str, Any] = yaml.safe_load(out.read_text(encoding="utf-8"))
    return data


def _criteria(data: dict[str, Any]) -> list[tuple[str, str, list[str], str | None]]:
    return [(c["code"], c["libelle"], c["competences"], c.get("groupe"))
            for b in data["blocs"] for c in b["criteres"]]


def _points(data: dict[str, Any]) -> dict[str, str]:
    """Each a_verifier path with its reasons (several joined by « | »)."""
    points: dict[str, list[str]] = {}
    for point in data.get("a_verifier", []):
        points.setdefault(point["chemin"], []).append(point["raison"])
    return {chemin: " | ".join(reasons) for chemin, reasons in points.items()}


def test_projet_web_blocs_competences_criteres(tmp_path: Path, cli_runner: CliRunner) -> None:
    """Every structure of the document lands where it belongs, text read as Word shows it."""
    data = _import(cli_runner, build_projet_web(tmp_path / "projet.docx"))
    cert = data["certification"]
    assert cert["intitule"] == "Chargé de projet web"
    assert cert["code"] == cert["rncp"] == "RNCP37001"
    assert cert["niveau"] == 6
    assert [(b["code"], b["intitule"]) for b in data["blocs"]] == [
        ("BC01", "Piloter un projet web"), ("BC02", "Assurer la qualité du site")]
    # C1, C2 restart in the second bloc: every code is prefixed with its bloc's.
    assert [(c["code"], c["libelle"]) for b in data["blocs"] for c in b["competences"]] == [
        ("BC01-C1", "Définir le périmètre du projet"),
        ("BC01-C2", "Chiffrer le budget du projet"),
        ("BC01-C3", "Suivre l'avancement du projet"),
        ("BC02-C1", "Tester le site"),
        ("BC02-C2", "Corriger les anomalies"),
    ]
    groupe = "Le suivi fait apparaître :"
    assert _criteria(data) == [
        ("BC01-01", "Le périmètre est délimité.", ["BC01-C1"], None),
        ("BC01-02", "Les parties prenantes sont identifiées.", ["BC01-C1"], None),
        # tracked insertion read, tracked deletion ignored
        ("BC01-03", "Le budget est chiffré et justifié.", ["BC01-C2"], None),
        # cut by the page break, continued after the repeated header row
        ("BC01-04", "Le planning est réaliste et tient compte des contraintes de l'équipe.",
         ["BC01-C2"], None),
        ("BC01-05", "Un tableau de bord est tenu à jour.", ["BC01-C3"], None),
        # row under a vertically merged compétence cell, bullets under a heading
        ("BC01-06", "les écarts de délai,", ["BC01-C3"], groupe),
        ("BC01-07", "les écarts de coût.", ["BC01-C3"], groupe),
        ("BC02-01", "Les tests couvrent les parcours clés.", ["BC02-C1", "BC02-C2"], None),
        ("BC02-02", "Les anomalies sont corrigées avant la mise en ligne.",
         ["BC02-C1", "BC02-C2"], None),
    ]


def test_projet_web_activities_modalities_and_points(tmp_path: Path,
                                                     cli_runner: CliRunner) -> None:
    """Merged activity and modality cells count once; each guess is listed in a_verifier."""
    data = _import(cli_runner, build_projet_web(tmp_path / "projet.docx"))
    bloc = data["blocs"][0]
    assert bloc["activites"] == ["A1 Cadrage du projet", "A2 Suivi du projet"]
    assert bloc["modalites_evaluation"] == ["Étude de cas", "Livrables attendus :",
                                            "Mise en situation professionnelle"]
    assert bloc["livrables"] == ["Note de cadrage", "Budget prévisionnel"]
    points = _points(data)
    assert "recollé après un saut de page" in points["blocs[0].criteres[3]"]
    assert "tableau 1, ligne 6" in points["blocs[0].criteres[3]"]
    assert "Code de bloc généré" in points["blocs[1].code"]
    assert "plusieurs compétences" in points["blocs[1].criteres[0]"]
    assert "préfixés" in points["blocs"]
    assert "certification.intitule" in points and "certification.code" in points


def test_deleted_text_never_appears(tmp_path: Path, cli_runner: CliRunner) -> None:
    """Text deleted in tracked changes is not read anywhere in the file."""
    source = build_projet_web(tmp_path / "projet.docx")
    _import(cli_runner, source)
    assert "approximativement" not in source.with_suffix(".yaml").read_text(encoding="utf-8")


def test_cinq_colonnes(tmp_path: Path, cli_runner: CliRunner) -> None:
    """Five columns: « Activité N : » starts each bloc, « compétences évaluées » links."""
    data = _import(cli_runner, build_cinq_colonnes(tmp_path / "cinq.docx"))
    assert [(b["code"], b["intitule"]) for b in data["blocs"]] == [
        ("BC01", "Concevoir une maquette"), ("BC02", "Publier le site")]
    assert data["blocs"][0]["activites"] == ["Recueillir le besoin"]
    assert [c["code"] for b in data["blocs"] for c in b["competences"]] == [
        "1.1.1", "1.1.2", "2.1.1"]
    assert _criteria(data) == [
        ("BC01-01", "Le besoin est reformulé.", ["1.1.1"], None),
        ("BC01-02", "Les contraintes sont listées.", ["1.1.1"], None),
        ("BC01-03", "La maquette respecte la charte graphique.", ["1.1.2"], None),
        ("BC02-01", "Le site est accessible en ligne.", ["2.1.1"], None),
    ]


# Compétence code styles of the seeds, and criteria linked by « En relation avec … ».
STYLES = {
    "C1.": (["C1. Mener une veille", "C2 : Concevoir la stratégie", "C3 Planifier les actions"],
            ["C1", "C2", "C3"]),
    "C1.1": (["C1.1 Analyser la donnée", "C1.2 Sélectionner les médias", "C1.3.1 Décliner la "
              "charte"], ["C1.1", "C1.2", "C1.3.1"]),
    "C.1.1.1": (["C.1.1.1 Elaborer un système de veille", "C.1.2.1 Déterminer les sources",
                 "C.1.3.1 Analyser le matériau"], ["C.1.1.1", "C.1.2.1", "C.1.3.1"]),
    "1.1.1.": (["1.1.1. Mener une veille", "1.2.1. Concevoir la stratégie", "1.2.2. Elaborer "
                "le plan"], ["1.1.1", "1.2.1", "1.2.2"]),
    "sans code": (["Mener une veille", "Concevoir la stratégie", "Planifier les actions"],
                  ["BC01-C1", "BC01-C2", "BC01-C3"]),
}


@pytest.mark.parametrize("style", list(STYLES))
def test_code_styles(tmp_path: Path, cli_runner: CliRunner, style: str) -> None:
    """Each code style of the seeds is recognised in the compétences column, or codes made."""
    texts, codes = STYLES[style]
    doc = Document()
    table = _table(doc, 4)
    _header(table, HEADER4, repeat=True)
    _title(table, "Bloc 1 : Élaborer la stratégie")
    _row(table, [["A1.1 Identification du public cible"], texts[:2], ["Étude de cas"],
                 [f"En relation avec les compétences {codes[0]} & {codes[1]}"
                  if style != "sans code" else "Le public cible est identifié.",
                  ("Le public cible est identifié.", "List Bullet")]])
    # An « En relation » line holds until the next one (seed 004): the second row has its own.
    _row(table, [["A1.2 Positionnement"], texts[2:], ["Étude de cas"],
                 [f"En relation avec la compétence {codes[2]}" if style != "sans code" else
                  "La stratégie est argumentée.", "La stratégie est argumentée."]])
    data = _import(cli_runner, _save(doc, tmp_path / f"{len(style)}.docx"))
    assert [c["code"] for c in data["blocs"][0]["competences"]] == codes
    assert [c["libelle"] for c in data["blocs"][0]["competences"]][2] in texts[2]
    assert data["blocs"][0]["activites"][0] == "A1.1 Identification du public cible"
    crits = data["blocs"][0]["criteres"]
    assert crits[0]["competences"] == codes[:2]
    assert crits[-1]["competences"] == [codes[2]]


def test_criteria_numbered_after_their_competence(tmp_path: Path, cli_runner: CliRunner) -> None:
    """C2.1 is linked to C2 by its number, even in the row of another compétence."""
    doc = Document()
    table = _table(doc, 4)
    _header(table, HEADER4, repeat=True)
    _title(table, "Bloc 1 : Élaborer la stratégie")
    _row(table, [["Veille"], ["C1. Mener une veille"], ["Étude de cas"],
                 ["C1.1 Les sources sont citées.", "C1.2 Les tendances sont repérées."]])
    _row(table, [["Stratégie"], ["C2. Concevoir la stratégie"], [],
                 ["C1.3 La veille est restituée.", "C2.1 La cible est définie."]])
    data = _import(cli_runner, _save(doc, tmp_path / "num.docx"))
    assert [(c["code"], c["competences"]) for c in data["blocs"][0]["criteres"]] == [
        ("C1.1", ["C1"]), ("C1.2", ["C1"]), ("C1.3", ["C1"]), ("C2.1", ["C2"])]
    assert "d'après leur numéro" in _points(data)["blocs[0].criteres[2]"]


def test_small_tables_beside_the_referentiel_are_ignored(tmp_path: Path,
                                                         cli_runner: CliRunner) -> None:
    """A two-column table (a title block) next to the référentiel table does not disturb it."""
    doc = Document()
    info = _table(doc, 2)
    _row(info, [["Certificateur"], ["Organisme de formation"]])
    table = _table(doc, 4)
    _header(table, HEADER4, repeat=True)
    _row(table, [["Veille"], ["Mener une veille"], ["Étude de cas"], ["Les sources sont citées."]])
    data = _import(cli_runner, _save(doc, tmp_path / "deux.docx"))
    assert [c["libelle"] for b in data["blocs"] for c in b["criteres"]] == [
        "Les sources sont citées."]
    assert "Aucun titre de bloc" in _points(data)["blocs[0].intitule"]


def _save(doc: Any, path: Path) -> Path:
    doc.save(str(path))
    return path


def _seed_as_docx(seed_file: Path, path: Path) -> Path:
    """The seed's text export typed into Word: its lines as paragraphs, its rows as tables.

    A cell's paragraphs and list items become Word paragraphs (list items in the « List
    Bullet » style, bold kept); a new table starts where the number of cells changes.
    """
    from certidocs.referentiel.importers.text import parse_cell

    doc = Document()
    table: Table | None = None
    for line in seed_file.read_text(encoding="utf-8").splitlines():
        if "\t" not in line:
            if line.strip():
                doc.add_paragraph(" ".join(b.text for b in parse_cell(line).blocks))
                table = None
            continue
        raw_cells = line.split("\t")
        if table is None or len(table.columns) != len(raw_cells):
            table = _table(doc, len(raw_cells))
        row = table.add_row()
        for cell, raw in zip(row.cells, raw_cells, strict=True):
            for i, block in enumerate(parse_cell(raw).blocks):
                para = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
                mark = "" if block.marker in (None, "#") else f"{block.marker} "
                run = para.add_run(mark + block.text)
                run.bold = block.bold
                if block.kind == "li":
                    para.style = "List Bullet"
    doc.save(str(path))
    return path


@pytest.mark.parametrize("seed", ["000", "001", "002", "003", "004"])
def test_seed_typed_in_word_gives_the_same_referentiel(seed: str, tmp_path: Path,
                                                       cli_runner: CliRunner) -> None:
    """A Word table and its text export give the same blocs, compétences and criteria."""
    from seedtools import SEEDS, SOURCES

    source = SOURCES / SEEDS[seed]
    from_text = _import(cli_runner, _copy(source, tmp_path / "export.txt"))
    from_word = _import(cli_runner, _seed_as_docx(source, tmp_path / "tableau.docx"))
    assert _structure(from_word) == _structure(from_text)
    assert from_word.get("regles") == from_text.get("regles")


def _copy(source: Path, target: Path) -> Path:
    target.write_bytes(source.read_bytes())
    return target


def _structure(data: dict[str, Any]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for bloc in data["blocs"]:
        out.append((bloc["code"], bloc["intitule"]))
        out += [(c["code"], c["libelle"]) for c in bloc["competences"]]
        out += [(c["code"], c["libelle"], c["competences"], c.get("groupe"))
                for c in bloc["criteres"]]
    return out


def test_header_descriptions_in_italics(tmp_path: Path, cli_runner: CliRunner) -> None:
    """Column titles followed by an italic description are still header rows, even a lone
    one (« Critères d'évaluation » on a second header row with a long description)."""
    doc = Document()
    table = _table(doc, 4)
    titles = [[("Référentiel d'activités", " décrit les situations de travail"),
               ("Référentiel de compétences", " identifie les compétences"),
               ("Référentiel d'évaluation", " définit les critères et les modalités"),
               ("", "")],
              [("", ""), ("", ""), ("", ""),
               ("Critères d'évaluation", " : ce que le jury observe pour décider si la "
                                         "compétence est acquise, formulé de façon observable")]]
    for texts in titles:
        row = table.add_row()
        for cell, (title, description) in zip(row.cells, texts, strict=True):
            para = cell.paragraphs[0]
            para.add_run(title)
            para.add_run(description).italic = True
    _row(table, [["Veille"], ["Mener une veille"], ["Étude de cas"], ["Les sources sont citées."]])
    data = _import(cli_runner, _save(doc, tmp_path / "italique.docx"))
    bloc = data["blocs"][0]
    assert bloc["modalites_evaluation"] == ["Étude de cas"]
    assert [c["libelle"] for c in bloc["criteres"]] == ["Les sources sont citées."]
    assert [c["libelle"] for c in bloc["competences"]] == ["Mener une veille"]


def test_table_inside_a_frame(tmp_path: Path, cli_runner: CliRunner) -> None:
    """A référentiel table placed inside a one-cell frame table is found and read."""
    doc = Document()
    frame = _table(doc, 1)
    cell = frame.add_row().cells[0]
    cell.paragraphs[0].text = "Bloc 1 : Concevoir"
    inner = cell.add_table(rows=0, cols=4)
    _header(inner, HEADER4, repeat=True)
    _row(inner, [["Veille"], ["C1. Mener une veille"], ["Étude de cas"],
                 ["Les sources sont citées."]])
    data = _import(cli_runner, _save(doc, tmp_path / "cadre.docx"))
    assert [(b["code"], b["intitule"]) for b in data["blocs"]] == [("BC01", "Concevoir")]
    assert [c["competences"] for c in data["blocs"][0]["criteres"]] == [["C1"]]


def test_bloc_title_repeated_on_the_next_page(tmp_path: Path, cli_runner: CliRunner) -> None:
    """A bloc title row repeated after a page break continues the bloc, it does not add one;
    two different blocs numbered alike get distinct codes."""
    doc = Document()
    table = _table(doc, 4)
    _header(table, HEADER4, repeat=True)
    _title(table, "Bloc 1 : Concevoir")
    _row(table, [["Veille"], ["C1. Mener une veille"], ["Étude de cas"],
                 ["Les sources sont citées."]])
    _header(table, HEADER4, repeat=False)
    _title(table, "Bloc 1 : Concevoir")
    _row(table, [["Analyse"], ["C2. Analyser"], ["Étude de cas"], ["L'analyse est juste."]])
    _title(table, "Bloc 1 : Réaliser")
    _row(table, [["Production"], ["C3. Produire"], ["Étude de cas"], ["Le produit est livré."]])
    data = _import(cli_runner, _save(doc, tmp_path / "repete.docx"))
    assert [(b["code"], b["intitule"], len(b["criteres"])) for b in data["blocs"]] == [
        ("BC01", "Concevoir", 2), ("BC02", "Réaliser", 1)]
    assert "déjà pris" in _points(data)["blocs[1].code"]
