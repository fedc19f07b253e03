"""Templates as Word saves them (../shared/cases/modeles/ and more of each kind)."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from helpers import ROOT

from certidocs.cli import main
from certidocs.documents.merge import merge_documents
from certidocs.documents.render import CT_TEMPLATE, Template, find_template
from certidocs.errors import DocumentError, ModeleError

CASES = ROOT.parent / "shared" / "cases" / "modeles"
NBSP, NNBSP = "\u00a0", "\u202f"


def _case(name: str) -> Path:
    path = CASES / name
    if not path.is_file():  # the cases ship beside the repository; CI has them
        pytest.fail(f"cas introuvable : {path}")
    return path


@pytest.fixture
def espace(tmp_path: Path, cli_runner: CliRunner) -> Path:
    """A workspace whose session s1 is the cases' session-pour-modeles.xlsx."""
    root = tmp_path / "espace"
    assert cli_runner.invoke(main, ["init", str(root)]).exit_code == 0
    (root / "sessions" / "s1").mkdir(parents=True)
    shutil.copy(_case("session-pour-modeles.xlsx"), root / "sessions" / "s1" / "session.xlsx")
    return root


def _documents(espace: Path, cli_runner: CliRunner) -> tuple[int, str, Path]:
    result = cli_runner.invoke(main, ["documents", str(espace / "sessions" / "s1"),
                                      "--type", "convocation_candidat"])
    return (result.exit_code, result.output + (result.stderr or ""),
            espace / "sessions" / "s1" / "documents" / "convocation_candidat")


def _text(path: Path, *parts: str) -> str:
    with zipfile.ZipFile(path) as zf:
        names = parts or ("word/document.xml",)
        return " ".join(re.sub(r"<[^>]+>", "", zf.read(n).decode()) for n in names)


# --- quotes ---------------------------------------------------------------------------------

def test_case_french_quotes(espace: Path, cli_runner: CliRunner) -> None:
    shutil.copy(_case("convocation_candidat-guillemets-francais.docx"),
                espace / "templates" / "convocation_candidat.docx")
    code, output, out = _documents(espace, cli_runner)
    assert code == 0, output
    assert "Chère candidate" in _text(out / "001_EXEMPLE_Alice.docx")  # Madame
    assert "Cher candidat," in _text(out / "002_MODELE_Bruno.docx")


@pytest.mark.parametrize(("opening", "closing"), [
    (f"«{NBSP}", f"{NBSP}»"), (f"«{NNBSP}", f"{NNBSP}»"), ("«", "»"), ("« ", " »"),
    ("“", "”"), ("„", "“"), ("‘", "’"), ("‚", "‘"), (f"‹{NBSP}", f"{NBSP}›"), ('"', '"'),
    ("'", "'"), ("″", "″"),
])
def test_every_kind_of_quote_in_a_tag(tmp_path: Path, opening: str, closing: str) -> None:
    document = docx.Document()
    document.add_paragraph(f"{{% if civilite == {opening}Madame{closing} %}}Chère candidate"
                           f"{{% else %}}Cher candidat{{% endif %}}, {{{{ nom|replace("
                           f"{opening}-{closing}, {opening}_{closing}) }}}}")
    path = tmp_path / "guillemets.docx"
    document.save(str(path))
    Template(path).render_to({"civilite": "Madame", "nom": "Le-Goff"}, tmp_path / "a.docx")
    assert "Chère candidate, Le_Goff" in _text(tmp_path / "a.docx")
    Template(path).render_to({"civilite": "Monsieur", "nom": "X"}, tmp_path / "b.docx")
    assert "Cher candidat, X" in _text(tmp_path / "b.docx")


def test_quotes_outside_tags_are_left_alone(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph(f"Mention «{NBSP}{{{{ nom }}}}{NBSP}» et “citation”")
    path = tmp_path / "texte.docx"
    document.save(str(path))
    Template(path).render_to({"nom": "Très bien"}, tmp_path / "a.docx")
    assert f"Mention «{NBSP}Très bien{NBSP}» et “citation”" in _text(tmp_path / "a.docx")


# --- saved as « Modèle Word » ----------------------------------------------------------------

def test_case_saved_as_word_template_under_docx(espace: Path, cli_runner: CliRunner) -> None:
    shutil.copy(_case("convocation_candidat-enregistre-comme-modele-word.docx"),
                espace / "templates" / "convocation_candidat.docx")
    code, output, out = _documents(espace, cli_runner)
    assert code == 0, output
    produced = out / "001_EXEMPLE_Alice.docx"
    with zipfile.ZipFile(produced) as zf:
        assert CT_TEMPLATE not in zf.read("[Content_Types].xml").decode()
    docx.Document(str(produced))  # opens as a document


def test_dotx_beside_is_used(espace: Path, cli_runner: CliRunner) -> None:
    templates = espace / "templates"
    (templates / "convocation_candidat.docx").unlink()
    shutil.copy(_case("convocation_candidat-pied-de-page-nominatif.docx"),
                templates / "convocation_candidat.dotx")
    assert find_template("convocation_candidat.docx", [templates]).suffix == ".dotx"
    code, output, out = _documents(espace, cli_runner)
    assert code == 0, output
    assert "Alice EXEMPLE" in _text(out / "001_EXEMPLE_Alice.docx", "word/footer1.xml")


def test_docx_and_dotx_together_ask_to_keep_one(espace: Path, cli_runner: CliRunner) -> None:
    templates = espace / "templates"
    shutil.copy(templates / "convocation_candidat.docx", templates / "convocation_candidat.dotx")
    code, output, out = _documents(espace, cli_runner)
    assert code == 1
    assert ("deux modèles pour le même document dans" in output
            and "convocation_candidat.docx et convocation_candidat.dotx" in output)
    assert not out.exists()
    with pytest.raises(DocumentError):
        find_template("convocation_candidat.docx", [templates])


def _repacked(source: Path, target: Path, change: dict[str, bytes | None]) -> Path:
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            if info.filename in change:
                data = change[info.filename]
                if data is not None:
                    zout.writestr(info, data)
            else:
                zout.writestr(info, zin.read(info))
    return target


def test_macro_enabled_template_refused(tmp_path: Path) -> None:
    source = ROOT / "templates" / "convocation_candidat.docx"
    with zipfile.ZipFile(source) as zf:
        types = zf.read("[Content_Types].xml").decode()
    macro = types.replace("wordprocessingml.document.main+xml", "x").replace(
        "application/vnd.openxmlformats-officedocument.x",
        "application/vnd.ms-word.document.macroEnabled.main+xml")
    path = _repacked(source, tmp_path / "macros.docx", {"[Content_Types].xml": macro.encode()})
    with pytest.raises(ModeleError) as caught:
        Template(path)
    assert "macros.docx" in str(caught.value) and "avec macros" in str(caught.value)


@pytest.mark.parametrize("missing", ["word/document.xml", "[Content_Types].xml",
                                     "word/_rels/document.xml.rels"])
def test_damaged_template_is_a_french_message(tmp_path: Path, missing: str) -> None:
    path = _repacked(ROOT / "templates" / "convocation_candidat.docx", tmp_path / "abime.docx",
                     {missing: None})
    with pytest.raises(ModeleError) as caught:
        Template(path).render_to({}, tmp_path / "x.docx")
    assert "modèle" in str(caught.value) and "abime.docx" in str(caught.value)


# --- headers and footers in the merged print file ----------------------------------------------

def test_case_footer_with_the_name_in_the_print_file(espace: Path,
                                                     cli_runner: CliRunner) -> None:
    shutil.copy(_case("convocation_candidat-pied-de-page-nominatif.docx"),
                espace / "templates" / "convocation_candidat.docx")
    code, output, out = _documents(espace, cli_runner)
    assert code == 0, output
    merged = out / "_impression_convocation_candidat.docx"
    assert _footers_in_order(merged) == [["Alice EXEMPLE"], ["Bruno MODELE"]]


def _footers_in_order(path: Path) -> list[list[str]]:
    """For each section of a merged file, the names its footer prints."""
    with zipfile.ZipFile(path) as zf:
        document = zf.read("word/document.xml").decode()
        rels = zf.read("word/_rels/document.xml.rels").decode()
        targets = dict(re.findall(r'Id="([^"]+)"[^>]*Target="([^"]+)"', rels))
        targets |= {i: t for t, i in re.findall(r'Target="([^"]+)"[^>]*Id="([^"]+)"', rels)}
        out = []
        for sect in re.findall(r"<w:sectPr.*?</w:sectPr>", document, re.S):
            ids = re.findall(r'<w:footerReference[^>]*r:id="([^"]+)"', sect)
            text = " ".join(re.sub(r"<[^>]+>", "", zf.read(f"word/{targets[i]}").decode())
                            for i in ids)
            out.append(re.findall(r"Alice EXEMPLE|Bruno MODELE|[A-Z][a-z]+ [A-Z]{3,}", text))
        return out


def test_each_document_keeps_its_header_and_footer(tmp_path: Path) -> None:
    """Headers and footers of every kind (default, first page) with a name, and one that is
    the same everywhere (stored once)."""
    document = docx.Document()
    document.add_paragraph("Lettre pour {{ nom }}")
    section = document.sections[0]
    section.different_first_page_header_footer = True
    section.header.paragraphs[0].text = "En-tête commun"
    section.footer.paragraphs[0].text = "Pied de {{ nom }}"
    section.first_page_footer.paragraphs[0].text = "Première page de {{ nom }}"
    template = tmp_path / "modele.docx"
    document.save(str(template))
    names = ["Anne BERNARD", "Paul MARTIN", "Zoé DUPONT"]
    rendered = []
    for i, name in enumerate(names):
        target = tmp_path / f"{i}.docx"
        Template(template).render_to({"nom": name}, target)
        rendered.append(target)
    merged = merge_documents(rendered, tmp_path / "_impression.docx")
    with zipfile.ZipFile(merged) as zf:
        document_xml = zf.read("word/document.xml").decode()
        rels = zf.read("word/_rels/document.xml.rels").decode()
        parts = {n: re.sub(r"<[^>]+>", "", zf.read(n).decode()) for n in zf.namelist()
                 if re.match(r"word/(header|footer)", n)}
    sections = re.findall(r"<w:sectPr.*?</w:sectPr>", document_xml, re.S)
    assert len(sections) == 3
    for name, sect in zip(names, sections, strict=True):
        shown = []
        for rid in re.findall(r'<w:footerReference[^>]*r:id="([^"]+)"', sect):
            target = re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"', rels)
            assert target is not None
            shown.append(parts[f"word/{target.group(1)}"])
        assert f"Pied de {name}" in " ".join(shown)
        assert f"Première page de {name}" in " ".join(shown)
    headers = [n for n in parts if "header" in n and "En-tête commun" in parts[n]]
    assert len(headers) == 1  # the same header in every letter is stored once
    docx.Document(io.BytesIO(merged.read_bytes()))
