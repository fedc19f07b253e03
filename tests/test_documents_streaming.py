"""Documents of the whole session streamed: the same file as rendered whole, in bounded memory,
hostile templates still stopped."""

from __future__ import annotations

import dataclasses
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import docx
import pytest
from lxml import etree
from test_documents_data import (
    all_contexts,
    logo_png,
    organisme,
    referentiel,
    resultats,
    session,
)

from certidocs.documents import TYPES, default_templates_dir, render, streaming
from certidocs.documents.context import Image, LazyRows, contexte_proces_verbal
from certidocs.documents.render import Template, render_document
from certidocs.errors import ModeleError

DEFAULTS = default_templates_dir()
SESSION_TYPES = [t for t, kind in TYPES.items() if kind.par == "session"]


def _parts(path: Path) -> dict[str, bytes]:
    """Every member of a .docx, XML canonicalized (C14N: attribute order, namespace
    declarations and empty-element forms do not count, text and structure do)."""
    out = {}
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            data = zf.read(name)
            if name.endswith((".xml", ".rels")):
                data = etree.tostring(etree.fromstring(data), method="c14n")
            out[name] = data
    return out


@pytest.fixture
def proofs(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """What each streamed body's check concluded (True: streamed; False: rendered again)."""
    seen: list[bool] = []
    close = streaming.BodyCheck.close

    def recording(self: streaming.BodyCheck) -> bool:
        seen.append(close(self))
        return seen[-1]

    monkeypatch.setattr(streaming.BodyCheck, "close", recording)
    return seen


@pytest.mark.parametrize("type_nom", SESSION_TYPES)
def test_streamed_is_the_document_rendered_whole(type_nom: str, tmp_path: Path,
                                                 proofs: list[bool]) -> None:
    """The procès-verbal (and every document of the whole session) of the test session, with
    its XML and Jinja-looking names, logo, observations: streamed, it is the same package as
    rendered whole, part for part."""
    contexts = all_contexts(referentiel(), organisme(logo_png(tmp_path / "logo.png")))
    ((_, context),) = contexts[type_nom]
    template = DEFAULTS / TYPES[type_nom].modele
    whole = render_document(template, context, tmp_path / "entier.docx")
    streamed = render_document(template, context, tmp_path / "flux.docx", stream=True)
    assert proofs == [True]  # streamed, not rendered again
    assert _parts(streamed) == _parts(whole)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entier.docx", "flux.docx",
                                                          "logo.png"]


def _table_template(path: Path) -> Path:
    """A table whose columns come from a ``{%tc %}`` loop, and pictures in a loop."""
    document = docx.Document()
    document.add_paragraph("{%p for c in lignes %}")
    document.add_paragraph("{{ c.nom }} {{ image }}")
    document.add_paragraph("{%p endfor %}")
    table = document.add_table(rows=1, cols=3)
    for cell, text in zip(table.rows[0].cells, ("{%tc for x in colonnes %}", "{{ x }}",
                                                "{%tc endfor %}"), strict=True):
        cell.text = text
    document.add_paragraph("{{ lignes|length }} lignes, de {{ (lignes|first).nom }} à "
                           "{{ (lignes|last).nom }} ; deuxième : {{ lignes[1].nom }}")
    document.save(str(path))
    return path


def _lazy(names: list[str]) -> LazyRows:
    return LazyRows(names, lambda name: {"nom": name})


@pytest.mark.parametrize("colonnes", [["a", "b", "c"], ["a", "b", "c", "d", "e"]])
def test_what_the_tree_steps_would_change_is_rendered_again(
        tmp_path: Path, proofs: list[bool], colonnes: list[str]) -> None:
    """Three columns from a loop: the grid stays, the body streams (pictures renumbered as
    docxtpl does). Five: docxtpl's fix_tables widens the grid, so the document is rendered
    again the usual way. Either way the file is the one docxtpl gives."""
    path = _table_template(tmp_path / "modele.docx")
    logo = Image(logo_png(tmp_path / "logo.png"), hauteur_mm=5)
    context: dict[str, Any] = {"lignes": ["Ana", "Bo", "Cy"], "colonnes": colonnes,
                               "image": logo}
    whole = Template(path).render_to({**context, "lignes": [{"nom": n} for n in
                                                             context["lignes"]]},
                                     tmp_path / "entier.docx")
    streamed = Template(path).render_to({**context, "lignes": _lazy(context["lignes"])},
                                        tmp_path / "flux.docx", stream=True)
    assert proofs == [len(colonnes) == 3]
    assert _parts(streamed) == _parts(whole)
    text = "\n".join(p.text for p in docx.Document(str(streamed)).paragraphs)
    text = text.replace("\u202f", " ").replace("\u00a0", " ")  # French typography
    assert "3 lignes, de Ana à Cy ; deuxième : Bo" in text
    ids = etree.fromstring(_read(streamed, "word/document.xml")).xpath(
        "//wp:docPr/@id", namespaces={"wp": streaming.WP_NS})
    assert ids == ["1001", "1002", "1003"]


def _read(path: Path, member: str) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read(member)


def test_lazy_rows_read_as_the_list_they_stand_for() -> None:
    built: list[int] = []

    def build(i: int) -> dict[str, int]:
        built.append(i)
        return {"i": i}

    rows = LazyRows(range(5), build)
    assert len(rows) == 5 and rows and not LazyRows([], build)
    assert rows[0] == {"i": 0} and rows[-1] == {"i": 4} and rows[1:3] == [{"i": 1}, {"i": 2}]
    assert list(rows) == [{"i": i} for i in range(5)]
    assert repr(rows) == repr([{"i": i} for i in range(5)])
    built.clear()
    next(iter(rows))
    assert built == [0]  # one row built, not the list


def _big_session(n: int) -> tuple[Any, Any, list[Any]]:
    """The test session's candidates and outcomes repeated to ``n`` candidates."""
    ref = referentiel()
    base = session(ref)
    outcomes = {r.numero: r for r in resultats(ref)}
    people, decided = [], []
    for i in range(n):
        model = base.candidats[i % len(base.candidats)]
        numero = f"{i:05d}"
        people.append(dataclasses.replace(model, numero=numero, ligne=i + 2))
        decided.append(dataclasses.replace(outcomes[model.numero], numero=numero))
    return dataclasses.replace(base, candidats=tuple(people), planning=()), ref, decided


def _peak(template: Template, context: dict[str, Any], target: Path, stream: bool) -> int:
    """Bytes allocated at the peak of one render (tracemalloc)."""
    tracemalloc.start()
    try:
        template.render_to(context, target, stream=stream)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_procès_verbal_streamed_holds_no_whole_document(tmp_path: Path) -> None:
    """The procès-verbal of 500 candidates: rendered whole, its peak allocation grows with the
    document (the XML, its lxml tree, the rows); streamed, rows are built one at a time and
    the body written in pieces: a few megabytes whatever the length."""
    s, ref, decided = _big_session(500)
    context = contexte_proces_verbal(s, ref, organisme(), decided,
                                     observations={"00000": {ref.blocs[0].criteres[0].code:
                                                             "Très clair."}})
    assert len(context["candidats_observes"]) == 1
    template = Template(DEFAULTS / "proces_verbal.docx")
    template.check(context)  # compiled before measuring
    whole = _peak(template, context, tmp_path / "entier.docx", stream=False)
    streamed = _peak(template, context, tmp_path / "pv.docx", stream=True)
    size = len(_read(tmp_path / "pv.docx", "word/document.xml"))
    assert size > 1_000_000, size
    assert streamed < whole / 2, (streamed, whole)
    assert _parts(tmp_path / "pv.docx") == _parts(tmp_path / "entier.docx")
    xml = _read(tmp_path / "pv.docx", "word/document.xml").decode()
    assert "00499" in xml and "Très clair" in xml


def _loop_template(path: Path, inner: str) -> Path:
    document = docx.Document()
    document.add_paragraph("{%p for a in liste %}")
    document.add_paragraph("{%p for b in liste %}")
    document.add_paragraph(inner)
    document.add_paragraph("{%p endfor %}")
    document.add_paragraph("{%p endfor %}")
    document.save(str(path))
    return path


def test_streamed_nested_loops_stop_at_the_time_budget(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "MAX_RENDER_SECONDS", 1)
    path = _loop_template(tmp_path / "boucles.docx", "{% for c in liste %}{% endfor %}x")
    target = tmp_path / "sortie.docx"
    with pytest.raises(ModeleError) as caught:
        Template(path).render_to({"liste": _lazy([str(i) for i in range(3000)])}, target,
                                 stream=True)
    assert "plus de 1 secondes" in str(caught.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["boucles.docx"]


def test_streamed_output_bounded_in_size(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Paragraphs repeated beyond MAX_STREAMED_CHARS stop the document (a smaller bound here,
    for speed); nothing is left behind, not even the compressed body."""
    monkeypatch.setattr(streaming, "MAX_STREAMED_CHARS", 3_000_000)
    path = _loop_template(tmp_path / "gros.docx", "{{ a }} {{ b }} " + "x" * 200)
    with pytest.raises(ModeleError) as caught:
        Template(path).render_to({"liste": list(range(1000))}, tmp_path / "sortie.docx",
                                 stream=True)
    assert "le document dépasserait 3\u202f000\u202f000 caractères" in str(caught.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gros.docx"]


def test_a_procès_verbal_context_can_be_sent_to_a_worker() -> None:
    """A context given by value to a batch is pickled to the process that renders it."""
    import pickle

    s, ref, decided = _big_session(3)
    context = contexte_proces_verbal(s, ref, organisme(), decided)
    back = pickle.loads(pickle.dumps(context))
    assert list(back["candidats"]) == list(context["candidats"])


def test_procès_verbal_one_table_per_hundred_candidates(tmp_path: Path) -> None:
    """250 candidates: three decision tables (100, 100, 50), each with its header row repeated
    on every page, every candidate on them once, in order; nobody: one table saying so."""
    from certidocs.documents.context import PV_LIGNES_PAR_TABLEAU

    assert PV_LIGNES_PAR_TABLEAU == 100
    s, ref, decided = _big_session(250)
    context = contexte_proces_verbal(s, ref, organisme(), decided)
    target = render_document(DEFAULTS / "proces_verbal.docx", context, tmp_path / "pv.docx",
                             stream=True)
    decisions = [t for t in docx.Document(str(target)).tables
                 if t.rows[0].cells[0].text == "N°" and len(t.columns) == 5]
    assert [len(t.rows) - 1 for t in decisions] == [100, 100, 50]
    assert all(t.rows[0]._tr.trPr is not None and t.rows[0]._tr.trPr.xpath("./w:tblHeader")
               for t in decisions)
    numbers = [row.cells[0].text for t in decisions for row in t.rows[1:]]
    assert numbers == [f"{i:05d}" for i in range(250)]
    nobody = contexte_proces_verbal(dataclasses.replace(s, candidats=()), ref, organisme(), [])
    empty = render_document(DEFAULTS / "proces_verbal.docx", nobody, tmp_path / "vide.docx")
    assert "Aucun candidat." in "\n".join(
        c.text for t in docx.Document(str(empty)).tables for r in t.rows for c in r.cells)


def test_a_long_document_counts_for_more_in_libreoffices_time_limit(tmp_path: Path) -> None:
    from certidocs.documents.pdf import WEIGHT_XML_BYTES, document_weight

    long = tmp_path / "long.docx"
    with zipfile.ZipFile(long, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", b" " * (3 * WEIGHT_XML_BYTES + 5))
    assert document_weight(long) == 3
    (tmp_path / "abime.docx").write_bytes(b"pas un zip")
    assert document_weight(tmp_path / "abime.docx") == 1
    short = render_document(_table_template(tmp_path / "modele.docx"),
                            {"lignes": [{"nom": "A"}, {"nom": "B"}], "colonnes": ["a", "b", "c"],
                             "image": ""},
                            tmp_path / "court.docx")
    assert document_weight(short) == 1


def test_attendance_sheet_and_jury_convocation_rows_are_built_as_read() -> None:
    """The attendance sheet's lists (everyone, each day's candidates) and a juror's list of
    candidates are LazyRows, not a row per candidate held in the context (a network's session
    has thousands); they read as the rows they stand for, and can be sent to a worker."""
    import pickle

    from certidocs.documents.context import (
        _candidat,
        contexte_convocation_jury,
        contexte_emargement,
    )

    ref = referentiel()
    s = session(ref)
    sheet = contexte_emargement(s, ref, organisme())
    assert isinstance(sheet["candidats"], LazyRows)
    assert list(sheet["candidats"]) == [_candidat(c, ref, s) for c in s.candidats]
    days = sheet["journees"]
    assert [d["nombre"] for d in days] == [2, 2]
    assert all(isinstance(d["candidats"], LazyRows) for d in days)
    first = list(days[0]["candidats"])
    assert [r["numero"] for r in first] == ["001", "002"]
    assert first[1]["epreuves_salle"] == "10\u00a0h\u00a030 Soutenance orale – salle B12"
    assert [r["numero"] for r in days[1]["candidats"]] == ["003", "004"]
    back = pickle.loads(pickle.dumps(sheet))
    assert [list(d["candidats"]) for d in back["journees"]] == [list(d["candidats"])
                                                               for d in days]
    # Without a planning, everyone once, with empty tests and rooms.
    alone = contexte_emargement(dataclasses.replace(s, planning=()), ref, organisme())
    (day,) = alone["journees"]
    assert day["nombre"] == 4
    assert {(r["epreuves_du_jour"], r["salle"], r["epreuves_salle"])
            for r in day["candidats"]} == {("", "", "")}
    juror = contexte_convocation_jury(s, ref, organisme(), s.jury[0])
    assert isinstance(juror["candidats"], LazyRows)
    assert list(juror["candidats"]) == [_candidat(c, ref, s) for c in s.candidats]


def test_pdf_names_are_read_from_the_documents_names(tmp_path: Path) -> None:
    """A batch's PDFs are its documents' names with « .pdf », then the print file: no second
    list of names (PdfDe)."""
    from certidocs.documents.render import Fichiers, ListeFichiers, PdfDe

    docs = Fichiers(tmp_path / "certificat", ["001_A.docx", "002_B.docx"])
    pdfs = PdfDe(docs, "_impression_certificat.pdf")
    expected = [tmp_path / "certificat" / n
                for n in ("001_A.pdf", "002_B.pdf", "_impression_certificat.pdf")]
    assert len(pdfs) == 3 and list(pdfs) == expected and pdfs == expected
    assert pdfs[-1] == expected[-1] and pdfs[1:] == expected[1:] and pdfs[0] == expected[0]
    with pytest.raises(IndexError):
        pdfs[3]
    alone = PdfDe(Fichiers(tmp_path / "proces_verbal", ["pv.docx"]))
    assert list(alone) == [tmp_path / "proces_verbal" / "pv.pdf"] and len(alone) == 1
    everything = ListeFichiers()
    everything += pdfs
    everything += alone
    assert list(everything) == [*expected, tmp_path / "proces_verbal" / "pv.pdf"]
    docs.noms.append("003_C.docx")  # read from the documents' own list, not a copy
    assert pdfs[2] == tmp_path / "certificat" / "003_C.pdf" and len(pdfs) == 4
