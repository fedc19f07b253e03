"""The merged « _impression_<type>.docx » files: every document, in order, each in its own
section, images carried over once each, numbered lists restarted, readable by python-docx."""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path
from typing import Any

import docx
import pytest
from test_documents_data import (
    all_contexts,
    certificat_info,
    docx_text,
    logo_png,
    organisme,
    referentiel,
    resultats,
    session,
)

from certidocs.documents import RenderJob, default_templates_dir, render_batch
from certidocs.documents.context import contexte_certificat
from certidocs.documents.merge import MergedDocument, merge_documents

DEFAULTS = default_templates_dir()
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"


def certificate_jobs(count: int, logo: Path | None) -> list[RenderJob]:
    """``count`` certificates, each with its own number (so its own QR code) and holder."""
    ref = referentiel()
    s = session(ref)
    holder = s.candidats[0]
    jobs = []
    for i in range(1, count + 1):
        c = dataclasses.replace(holder, numero=f"{i:03d}", prenom=f"Titulaire{i}")
        info = certificat_info(f"CPECOM-2026-{i:04d}")
        jobs.append(RenderJob("certificat", f"{i:03d}",
                              contexte_certificat(s, ref, organisme(logo), c, resultats(ref)[0],
                                                  info)))
    return jobs


def images_of(path: Path) -> list[bytes]:
    """The image blobs the body of a document points to, in the order of its relationships."""
    document = docx.Document(str(path))
    return [rel.target_part.blob for rel in document.part.rels.values()
            if rel.reltype.endswith("/image")]


def test_certificates_merged_in_order_with_their_own_qr_codes(tmp_path: Path) -> None:
    logo = logo_png(tmp_path / "logo.png")
    out = render_batch(certificate_jobs(5, logo), [DEFAULTS], tmp_path / "docs")
    merged = out.fusions["certificat"]
    text = docx_text(merged)
    positions = [text.index(f"Titulaire{i}") for i in range(1, 6)]
    assert positions == sorted(positions)
    for i in range(1, 6):
        assert f"CPECOM-2026-{i:04d}" in text
    # one logo for all, one QR code per certificate: each document's own images, none lost
    blobs = images_of(merged)
    assert len(blobs) == 6
    singles = [set(images_of(p)) for p in out.documents["certificat"]]
    assert set(blobs) == set().union(*singles)
    assert logo.read_bytes() in blobs
    document = docx.Document(str(merged))
    body = document.element.body
    assert len(body.findall(f"{W}p/{W}pPr/{W}sectPr")) == 4
    for section in document.sections:
        assert int(section.page_width or 0) > int(section.page_height or 0)  # landscape
        assert section._sectPr.find(f"{W}pgNumType").get(f"{W}start") == "1"
    # every drawing points to an image of the merged file, with an id of its own
    rids = {rel.rId for rel in document.part.rels.values() if rel.reltype.endswith("/image")}
    embeds = [el.get(f"{R}embed") for el in body.iter() if el.get(f"{R}embed")]
    assert len(embeds) == 10 and set(embeds) == rids
    ids = [el.get("id") for el in body.iter(f"{WP}docPr")]
    assert len(ids) == len(set(ids)) == 10
    assert document.core_properties.last_modified_by == "certidocs"
    with zipfile.ZipFile(merged) as zf:
        names = zf.namelist()
        assert names[0] == "[Content_Types].xml"
        assert len(names) == len(set(names))
        assert zf.testzip() is None


def test_merged_file_streams_one_document_at_a_time(tmp_path: Path) -> None:
    """The merge keeps the document being added and the one before it, never the whole file:
    its body goes to a temporary file next to the target, removed at the end."""
    out = render_batch(certificate_jobs(3, None), [DEFAULTS], tmp_path / "docs",
                       merge_files=False)
    paths = out.documents["certificat"]
    target = tmp_path / "fusion.docx"
    with MergedDocument(target) as merged:
        merged.add(paths[0])
        merged.add(paths[1])
        assert not target.exists()
        spooled = list(tmp_path.glob(".fusion.docx.*"))
        assert len(spooled) == 1 and spooled[0].stat().st_size > 0  # the first body, written
        merged.add(paths[2])
        merged.close()
    assert not list(tmp_path.glob(".fusion.docx.*"))
    assert "Titulaire3" in docx_text(target)


def _held_bytes(root: object) -> int:
    """What ``root`` holds (sys.getsizeof of everything reachable from it, modules, types and
    functions aside)."""
    import gc
    import sys
    import types

    seen: set[int] = set()
    todo, size = [root], 0
    while todo:
        o = todo.pop()
        if id(o) in seen or isinstance(o, type | types.ModuleType | types.FunctionType):
            continue
        seen.add(id(o))
        size += sys.getsizeof(o)
        todo.extend(gc.get_referents(o))
    return size


def test_closed_merge_keeps_nothing_of_what_it_gathered(tmp_path: Path) -> None:
    """render_batch keeps its print files' writers until the batch ends (an ExitStack), that
    is through the whole PDF conversion: a closed writer must not hold the relationships,
    names and digests of its documents (a 6,000-certificate print file left 4 MiB)."""
    out = render_batch(certificate_jobs(12, None), [DEFAULTS], tmp_path / "docs",
                       merge_files=False)
    merged = MergedDocument(tmp_path / "fusion.docx")
    for path in out.documents["certificat"]:
        merged.add(path)
    gathered = _held_bytes(merged)
    merged.close()
    kept = _held_bytes(merged)
    assert gathered > 20_000  # twelve documents' relationships, QR codes and names
    assert kept < gathered / 4, (gathered, kept)


def test_merge_memory_stays_flat_and_shared_images_stay_shared(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A print file remembers the last MERGE_RECENT images, links and headers, not one entry
    per document (each certificate's QR code is its own), and writes the relationships it adds
    to a file as they come: what it holds does not grow with the documents, and the logo of
    every certificate is still one image in the file."""
    from certidocs.documents import merge

    monkeypatch.setattr(merge, "MERGE_RECENT", 4)
    logo = logo_png(tmp_path / "logo.png")
    out = render_batch(certificate_jobs(24, logo), [DEFAULTS], tmp_path / "docs",
                       merge_files=False)
    paths = out.documents["certificat"]
    merged = MergedDocument(tmp_path / "fusion.docx")
    held = []
    for k, path in enumerate(paths, start=1):
        merged.add(path)
        if k in (6, 24):
            held.append(_held_bytes(merged))
    target = merged.close()
    assert held[1] < held[0] * 1.25, held
    blobs = images_of(target)
    assert len(blobs) == 25  # 24 QR codes and one logo
    assert blobs.count(logo.read_bytes()) == 1
    text = docx_text(target)
    assert [text.index(f"Titulaire{i}") for i in (1, 12, 24)] == sorted(
        text.index(f"Titulaire{i}") for i in (1, 12, 24))


def test_failed_merge_leaves_nothing(tmp_path: Path) -> None:
    out = render_batch(certificate_jobs(2, None), [DEFAULTS], tmp_path / "docs",
                       merge_files=False)
    broken = tmp_path / "docs" / "abime.docx"
    broken.write_bytes(b"pas un zip")
    target = tmp_path / "fusion.docx"
    with pytest.raises(zipfile.BadZipFile):
        merge_documents([*out.documents["certificat"], broken], target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs"]


def _template_with_lists(folder: Path) -> Path:
    """A convocation template with a numbered list, a bullet list and a web link."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml import parse_xml

    document = docx.Document()
    document.add_paragraph("{{ candidat.nom_complet }}")
    document.add_paragraph("premier point", style="List Number")
    document.add_paragraph("deuxième point", style="List Number")
    document.add_paragraph("une puce", style="List Bullet")
    rid = document.part.relate_to("https://certif.example.fr/verifier", RT.HYPERLINK,
                                  is_external=True)
    paragraph = document.add_paragraph("Vérifier : ")
    paragraph._p.append(parse_xml(
        f'<w:hyperlink xmlns:w="{W[1:-1]}" xmlns:r="{R[1:-1]}" r:id="{rid}"><w:r><w:t>'
        'en ligne</w:t></w:r></w:hyperlink>'))
    folder.mkdir()
    path = folder / "convocation_candidat.docx"
    document.save(str(path))
    return path


def test_numbered_lists_restart_and_links_are_kept(tmp_path: Path) -> None:
    folder = tmp_path / "modeles"
    _template_with_lists(folder)
    contexts = all_contexts(referentiel(), organisme())["convocation_candidat"]
    jobs = [RenderJob("convocation_candidat", name, c) for name, c in contexts[:3]]
    out = render_batch(jobs, [folder], tmp_path / "docs")
    merged = docx.Document(str(out.fusions["convocation_candidat"]))
    body = merged.element.body
    numbering = merged.part.numbering_part.element
    style_num = merged.styles["List Number"].element.find(f"{W}pPr/{W}numPr/{W}numId").get(
        f"{W}val")
    numbered = [p for p in body.iter(f"{W}p")
                if (s := p.find(f"{W}pPr/{W}pStyle")) is not None
                and s.get(f"{W}val") == "ListNumber"]
    assert len(numbered) == 6
    # the first letter keeps the template's list; each later one has a list of its own,
    # which starts again at 1
    first = [p.find(f"{W}pPr/{W}numPr") for p in numbered[:2]]
    assert first == [None, None]
    later = [p.find(f"{W}pPr/{W}numPr/{W}numId").get(f"{W}val") for p in numbered[2:]]
    assert later[0] == later[1] and later[2] == later[3] and later[0] != later[2]
    assert style_num not in later
    for numid in {later[0], later[2]}:
        num = next(n for n in numbering.iter(f"{W}num") if n.get(f"{W}numId") == numid)
        override = num.find(f"{W}lvlOverride[@{W}ilvl='0']/{W}startOverride")
        assert override is not None and override.get(f"{W}val") == "1"
    # bullets are left alone
    bullets = [p for p in body.iter(f"{W}p")
               if (s := p.find(f"{W}pPr/{W}pStyle")) is not None
               and s.get(f"{W}val") == "ListBullet"]
    assert len(bullets) == 3 and all(p.find(f"{W}pPr/{W}numPr") is None for p in bullets)
    # one link relationship serves the three letters
    links = [rel for rel in merged.part.rels.values() if rel.reltype.endswith("/hyperlink")]
    assert len(links) == 1 and links[0].target_ref == "https://certif.example.fr/verifier"
    assert [h.get(f"{R}id") for h in body.iter(f"{W}hyperlink")] == [links[0].rId] * 3


def test_merge_of_the_shipped_types(tmp_path: Path) -> None:
    """Every per-person template merges into a file python-docx reads, holding every
    document's text and, per document, one section restarting its page numbers."""
    contexts = all_contexts(referentiel(), organisme(logo_png(tmp_path / "logo.png")))
    jobs = [RenderJob(t, name, c) for t, items in contexts.items() for name, c in items]
    out = render_batch(jobs, [DEFAULTS], tmp_path / "docs")
    for type_nom, merged in out.fusions.items():
        singles = out.documents[type_nom]
        document = docx.Document(str(merged))
        assert len(document.sections) == len(singles), type_nom
        text = docx_text(merged)
        at = 0
        for single in singles:
            first_line = next(line for line in docx.Document(str(single)).paragraphs
                              if line.text.strip()).text
            found = text.find(first_line, at)
            assert found >= 0, (type_nom, single.name, first_line)
            at = found
        footer = document.sections[0].footer._element
        assert not any("NUMPAGES" in (i.text or "") for i in footer.iter(f"{W}instrText"))


def merged_members(path: Path) -> dict[str, bytes]:
    """The parts of a package, for comparing two outputs by what they hold."""
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_merge_is_deterministic(tmp_path: Path) -> None:
    out = render_batch(certificate_jobs(3, logo_png(tmp_path / "logo.png")), [DEFAULTS],
                       tmp_path / "docs", merge_files=False)
    paths: list[Any] = out.documents["certificat"]
    first = merge_documents(paths, tmp_path / "a.docx")
    second = merge_documents(paths, tmp_path / "b.docx")
    assert merged_members(first) == merged_members(second)
