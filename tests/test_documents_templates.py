"""The default Word templates: layout, tags office staff can move, LISEZMOI, reproducibility."""

from __future__ import annotations

import importlib.util
import re
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import docx
import pytest
from docx.shared import Mm
from helpers import ROOT
from lxml import etree
from test_documents_data import all_contexts, organisme, referentiel

from certidocs.documents import TYPES, default_templates_dir

TEMPLATES = default_templates_dir()
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W}
TAG = re.compile(r"{{.*?}}|{%.*?%}")


def _load_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_templates",
                                                  ROOT / "scripts" / "build_templates.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _parts(path: Path) -> dict[str, Any]:
    """The XML parts holding text (body, headers, footers), parsed."""
    with zipfile.ZipFile(path) as zf:
        return {name: etree.fromstring(zf.read(name)) for name in zf.namelist()
                if re.fullmatch(r"word/(document|header\d+|footer\d+)\.xml", name)}


def test_templates_dir_is_the_repository_one() -> None:
    assert TEMPLATES == ROOT / "templates"
    # the session documents, plus the annual review's report (not a session document)
    assert sorted(p.name for p in TEMPLATES.glob("*.docx")) == sorted(
        [*(t.modele for t in TYPES.values()), "bilan.docx"])


@pytest.mark.parametrize("type_nom", list(TYPES))
def test_a4_with_header_and_footer(type_nom: str) -> None:
    document = docx.Document(str(TEMPLATES / TYPES[type_nom].modele))
    section = document.sections[0]
    width, height = int(section.page_width or 0), int(section.page_height or 0)
    assert sorted((round(width / Mm(1)), round(height / Mm(1)))) == [210, 297]
    assert int(section.left_margin or 0) >= Mm(15) <= int(section.right_margin or 0)
    if type_nom == "certificat":
        assert width > height
        return
    header = section.header._element
    footer = section.footer._element
    assert "{{ organisme.logo }}" in etree.tostring(header, encoding="unicode")
    assert "{{ organisme.nom }}" in etree.tostring(header, encoding="unicode")
    instructions = " ".join(t.text or "" for t in footer.iter(f"{{{W}}}instrText"))
    assert "PAGE" in instructions and "NUMPAGES" in instructions


@pytest.mark.parametrize("type_nom", list(TYPES))
def test_one_font(type_nom: str) -> None:
    path = TEMPLATES / TYPES[type_nom].modele
    with zipfile.ZipFile(path) as zf:
        xml = "".join(zf.read(n).decode("utf-8") for n in zf.namelist()
                      if re.fullmatch(r"word/(document|styles|header\d+|footer\d+)\.xml", n))
    fonts = set()
    for attrs in re.findall(r"<w:rFonts ([^>]*)/>", xml):
        fonts |= set(re.findall(r'w:(?:ascii|hAnsi|cs|eastAsia)="([^"]+)"', attrs))
    assert fonts == {"Arial"}
    assert "Theme=" not in xml.replace("w:themeColor", "")  # no theme fonts left


@pytest.mark.parametrize("type_nom", list(TYPES))
def test_every_tag_is_whole_in_one_run(type_nom: str) -> None:
    for name, root in _parts(TEMPLATES / TYPES[type_nom].modele).items():
        for run in root.iter(f"{{{W}}}r"):
            text = "".join(t.text or "" for t in run.iter(f"{{{W}}}t"))
            for open_, close in (("{{", "}}"), ("{%", "%}")):
                assert text.count(open_) == text.count(close), (name, text)
            assert not text.rstrip().endswith(("{", "%")), (name, text)
        for p in root.iter(f"{{{W}}}p"):
            text = "".join(t.text or "" for t in p.iter(f"{{{W}}}t"))
            assert len(TAG.findall(text)) == text.count("{{") + text.count("{%"), (name, text)


@pytest.mark.parametrize("type_nom", list(TYPES))
def test_paragraph_and_row_tags_stand_alone(type_nom: str) -> None:
    for name, root in _parts(TEMPLATES / TYPES[type_nom].modele).items():
        for p in root.iter(f"{{{W}}}p"):
            text = "".join(t.text or "" for t in p.iter(f"{{{W}}}t"))
            if "{%p " in text:
                assert re.fullmatch(r"{%p [^%]*%}", text), (name, text)
        for tr in root.iter(f"{{{W}}}tr"):
            cells = ["".join(t.text or "" for t in tc.iter(f"{{{W}}}t"))
                     for tc in tr.findall(f"{{{W}}}tc")]
            if any("{%tr " in c for c in cells):
                assert re.fullmatch(r"{%tr [^%]*%}", cells[0]), (name, cells)
                assert all(c == "" for c in cells[1:]), (name, cells)


def test_loop_tables_repeat_their_header_row() -> None:
    for type_nom in ("emargement", "proces_verbal", "fiche_resultats", "convocation_jury",
                     "suivi_dysfonctionnements"):
        body = _parts(TEMPLATES / TYPES[type_nom].modele)["word/document.xml"]
        loop_tables = [t for t in body.iter(f"{{{W}}}tbl")
                       if "{%tr for" in "".join(t.itertext())]
        assert loop_tables, type_nom
        for table in loop_tables:
            first = table.find(f"{{{W}}}tr")
            assert first.find("w:trPr/w:tblHeader", NS) is not None, type_nom


@pytest.mark.parametrize("type_nom", list(TYPES))
def test_properties_in_schema_order(type_nom: str) -> None:
    """Word refuses a file whose property elements are out of the schema's order."""
    order = _load_builder().ORDER
    path = TEMPLATES / TYPES[type_nom].modele
    with zipfile.ZipFile(path) as zf:
        roots = [etree.fromstring(zf.read(n)) for n in zf.namelist()
                 if re.fullmatch(r"word/(document|styles|header\d+|footer\d+)\.xml", n)]
    for root in roots:
        for local, sequence in order.items():
            for el in root.iter(f"{{{W}}}{local}"):
                ranks = [sequence.index(etree.QName(c).localname) for c in el
                         if etree.QName(c).namespace == W
                         and etree.QName(c).localname in sequence]
                assert ranks == sorted(ranks), (type_nom, local,
                                                [etree.QName(c).localname for c in el])


def test_templates_are_those_the_script_builds(tmp_path: Path) -> None:
    built = _load_builder().build(tmp_path)
    assert sorted(p.name for p in built) == sorted(
        [*(t.modele for t in TYPES.values()), "bilan.docx"])
    for path in built:
        committed = TEMPLATES / path.name
        with zipfile.ZipFile(path) as new, zipfile.ZipFile(committed) as old:
            assert sorted(new.namelist()) == sorted(old.namelist()), path.name
            for name in new.namelist():
                if name.startswith("word/"):
                    assert new.read(name) == old.read(name), (
                        f"{path.name}:{name} differs: run scripts/build_templates.py")


def _paths(value: Any, prefix: str = "") -> set[str]:
    """Every variable a template can print or loop over: ``candidat.blocs`` and
    ``candidat.blocs[].code`` (dicts themselves are not variables, their keys are)."""
    out = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            if not isinstance(item, dict):
                out.add(path)
            out |= _paths(item, path)
    elif isinstance(value, list) and value and isinstance(value[0], dict):
        out |= _paths(value[0], f"{prefix}[]")
    return out


def test_lisezmoi_lists_every_variable() -> None:
    """Each variable of each context is named in LISEZMOI.md (as `x.key` or `key`), and each
    dotted variable LISEZMOI names from a context's top level exists."""
    text = (TEMPLATES / "LISEZMOI.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_]+(?:\.[a-z_]+)*)`", text))
    last_parts = {d.rsplit(".", 1)[-1] for d in documented}
    ref = referentiel()
    contexts = all_contexts(ref, organisme())
    every: set[str] = set()
    for type_nom, items in contexts.items():
        for _, context in items:
            paths = _paths(context)
            every |= paths
            for path in paths:
                key = path.rsplit(".", 1)[-1].removesuffix("[]")
                assert key in last_parts, f"{type_nom}: {path} absent de LISEZMOI.md"
            section = text.split(f"### `{TYPES[type_nom].modele}`")[1].split("\n### ")[0]
            for top in context:
                if top not in contexts["suivi_dysfonctionnements"][0][1]:
                    assert f"`{top}" in section, f"{type_nom}: {top} absent de sa section"
    roots = {p.split(".")[0] for p in every}
    plain = {p.replace("[]", "") for p in every}
    for name in documented:
        is_file = name.endswith((".docx", ".md", ".xlsx", ".toml"))
        if "." in name and name.split(".")[0] in roots and not is_file:
            assert name in plain, f"LISEZMOI.md nomme {name}, qui n'existe pas"
