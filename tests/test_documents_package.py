"""The package writer: documents saved with the template's unchanged parts reused are the
same documents python-docx would save, byte for byte in every part, and deterministic."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import docx
import pytest
from test_documents_data import all_contexts, logo_png, organisme, referentiel

from certidocs.documents import TYPES, default_templates_dir
from certidocs.documents.package import TemplateMembers, write_package
from certidocs.documents.render import Template, _resolve_images, make_environment

DEFAULTS = default_templates_dir()


@pytest.fixture(scope="module")
def contexts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str, Any]]]:
    logo = logo_png(tmp_path_factory.mktemp("logo") / "logo.png")
    return all_contexts(referentiel(), organisme(logo))


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        return {name: zf.read(name) for name in zf.namelist()}


@pytest.mark.parametrize("type_nom", ["certificat", "notification_resultats", "proces_verbal"])
def test_same_parts_as_python_docx(type_nom: str, tmp_path: Path,
                                   contexts: dict[str, list[tuple[str, Any]]]) -> None:
    template = Template(DEFAULTS / TYPES[type_nom].modele, make_environment())
    tpl = template._docxtpl()
    tpl.render(_resolve_images(contexts[type_nom][0][1], tpl), template.env, autoescape=True)
    ours = write_package(tpl.docx, tmp_path / "ours.docx", tpl._members)
    theirs = io.BytesIO()
    tpl.docx.save(theirs)
    mine, reference = _members(ours.read_bytes()), _members(theirs.getvalue())
    assert list(mine) == list(reference)  # same members, same order
    assert mine == reference
    docx.Document(str(ours))  # python-docx reads it back


def test_deterministic_and_template_parts_reused(
        tmp_path: Path, contexts: dict[str, list[tuple[str, Any]]]) -> None:
    path = DEFAULTS / TYPES["fiche_resultats"].modele
    template = Template(path, make_environment())
    context = contexts["fiche_resultats"][0][1]
    first = template.render_to(context, tmp_path / "a.docx").read_bytes()
    second = template.render_to(context, tmp_path / "b.docx").read_bytes()
    assert first == second
    known = TemplateMembers.of(path.read_bytes()).members
    with zipfile.ZipFile(tmp_path / "a.docx") as zf:
        styles = zf.getinfo("word/styles.xml")
        assert styles.date_time == (1980, 1, 1, 0, 0, 0)
        assert known["word/styles.xml"].crc == styles.CRC
        assert styles.compress_size == len(known["word/styles.xml"].data)
        body = zf.read("word/document.xml")
    assert body != known["word/document.xml"].raw  # the body was rendered, not copied


def test_non_ascii_member_names_are_flagged_utf8(tmp_path: Path) -> None:
    from certidocs.documents.package import _ZipWriter

    class Uri:
        membername = "word/média/é.xml"

    target = tmp_path / "x.zip"
    with target.open("wb") as fh:
        writer = _ZipWriter(fh, TemplateMembers())
        writer.write(Uri(), b"<a/>")
        writer.close()
    with zipfile.ZipFile(target) as zf:
        assert zf.namelist() == ["word/média/é.xml"]
        assert zf.read("word/média/é.xml") == b"<a/>"
