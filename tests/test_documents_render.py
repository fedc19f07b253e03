"""Rendering the templates: every variable provided, names intact, merging, all-or-nothing."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from typing import Any

import docx
import pytest
from test_documents_data import (
    JINJA_NOM,
    TRICKY_NOM,
    all_contexts,
    certificat_info,
    logo_png,
    organisme,
    referentiel,
)

from certidocs.documents import TYPES, RenderJob, default_templates_dir, render_batch
from certidocs.documents.render import Template, make_environment, merged_name, safe_filename
from certidocs.errors import DocumentError, ModeleError

DEFAULTS = default_templates_dir()


def docx_text(path: Path) -> str:
    """The document's text with French typography's non-breaking spaces read as spaces: these
    tests check the words; test_documents_envoi checks the typography."""
    from test_documents_data import docx_text as text

    return text(path).replace("\u00a0", " ").replace("\u202f", " ")


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture(scope="module")
def contexts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str, Any]]]:
    """Every document of the test session, with a logo configured."""
    logo = logo_png(tmp_path_factory.mktemp("logo") / "logo.png")
    return all_contexts(referentiel(), organisme(logo))


@pytest.fixture(scope="module")
def rendered(contexts: dict[str, list[tuple[str, Any]]],
             tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The whole session rendered once (with merged files) for the tests that read it."""
    outdir = tmp_path_factory.mktemp("rendu") / "documents"
    jobs = [RenderJob(t, name, c) for t, items in contexts.items() for name, c in items]
    return render_batch(jobs, [DEFAULTS], outdir)


def _jobs(contexts: dict[str, list[tuple[str, Any]]], *types: str) -> list[RenderJob]:
    return [RenderJob(t, name, c) for t in types for name, c in contexts[t]]


# --- every template, every variable -------------------------------------------------------------


@pytest.mark.parametrize("type_nom", list(TYPES))
def test_every_variable_is_provided(type_nom: str,
                                    contexts: dict[str, list[tuple[str, Any]]]) -> None:
    from docxtpl import DocxTemplate

    assert contexts[type_nom], f"no document of type {type_nom} in the test session"
    template = DocxTemplate(str(DEFAULTS / TYPES[type_nom].modele))
    for _, context in contexts[type_nom]:
        assert template.get_undeclared_template_variables(make_environment(), context) == set()
        # and every attribute path, in every branch, exists in the context
        Template(DEFAULTS / TYPES[type_nom].modele).check(context)


def test_one_file_per_document(rendered: Any, contexts: dict[str, list[tuple[str, Any]]]) -> None:
    for type_nom, items in contexts.items():
        names = sorted(p.name for p in rendered.documents[type_nom])
        assert names == sorted(f"{name}.docx" for name, _ in items)
        for path in rendered.documents[type_nom]:
            assert path.parent.name == type_nom
            reopened = docx.Document(str(path))
            assert reopened.core_properties.last_modified_by == "certidocs"
            with zipfile.ZipFile(path) as zf:  # in the namespace Word reads (see _mark)
                core = zf.read("docProps/core.xml").decode()
            assert core.count("lastModifiedBy>certidocs<") == 1
            assert "custom-properties" not in core
    assert not [p for p in rendered.documents["convocation_candidat"][0].parents[1].rglob(".*")]


def _text(rendered: Any, type_nom: str, name: str) -> str:
    path = next(p for p in rendered.documents[type_nom] if p.stem == name)
    return docx_text(path)


def test_convocation_candidat(rendered: Any) -> None:
    text = _text(rendered, "convocation_candidat", "001")
    for expected in ["Madame Élodie MARTIN", "12, rue de l'Église", "42000 Saint-Étienne",
                     "Candidat n° 001", "Dossier suivi par : Claire Fontaine",
                     "Objet : Convocation à la session de certification « Chef de Projet "
                     "E-Commerce »", "du lundi 14 au mardi 15 décembre 2026",
                     "Campus Sud & Cie", "lundi 14 décembre 2026", "9 h 00", "B12",
                     "BC05 – Piloter un projet e-commerce", "munie de la présente convocation",
                     "agréer, Madame, l'expression", "Fait à Paris, le 10 novembre 2026",
                     "Le directeur général", "Jean-Michel Dupré"]:
        assert expected in text, expected
    # header and footer
    assert "Institut <Alpha> & Ω" in text
    assert "5 rue Bleue, 75009 Paris" in text
    assert "Convocation du candidat" in text


def test_names_with_xml_characters_and_jinja_come_out_intact(rendered: Any) -> None:
    sean = _text(rendered, "convocation_candidat", "002")
    assert "Monsieur Seán O'BRIEN & <FILS> \"LTD\"" in sean
    assert "3 quai <des> Arts & Métiers" in sean
    assert "muni de la présente" in sean
    zoe = _text(rendered, "convocation_candidat", "003")
    assert f"Madame {{% raw %}}Zoé {JINJA_NOM}" in zoe
    assert "49" not in zoe
    fiche = _text(rendered, "fiche_resultats", "002")
    assert TRICKY_NOM in fiche
    pv = _text(rendered, "proces_verbal", "proces_verbal")
    assert "Seán O'BRIEN & <FILS> \"LTD\"" in pv
    assert "{% raw %}Zoé {{ 7*7 }}" in pv
    letter = _text(rendered, "non_recevabilite", "recours_003")
    assert "Je conteste <la> note & le « jury »" in letter


def test_convocation_jury(rendered: Any) -> None:
    text = _text(rendered, "convocation_jury", "jure2")
    for expected in ["Moussa N'DIAYE", "Responsable pédagogique", "École & Co",
                     "en qualité de Représentant du certificateur", "Élodie MARTIN",
                     "14/12/2026, 10 h 30, Soutenance orale, salle B12", "Impartialité",
                     "mercredi 16 décembre 2026"]:
        assert expected in text, expected


def test_emargement(rendered: Any) -> None:
    path = rendered.documents["emargement"][0]
    text = docx_text(path)
    assert "Journée du lundi 14 décembre 2026" in text
    assert "Journée du mardi 15 décembre 2026" in text
    assert "DURAND-LEFÈVRE" not in text  # the sheet uses the usage name
    assert "MARTIN" in text and "O'BRIEN & <FILS> \"LTD\"" in text
    assert "Anne BERNARD" in text
    document = docx.Document(str(path))
    headers = [t for t in document.tables if "Signature" in t.rows[0].cells[-1].text]
    assert headers
    for table in headers:  # header row repeated on every page
        assert table.rows[0]._tr.find(f"{W}trPr/{W}tblHeader") is not None


def test_fiche_resultats(rendered: Any) -> None:
    text = _text(rendered, "fiche_resultats", "002")
    for expected in ["Fiche individuelle de résultats", "O'Brien & <Fils> \"Ltd\"", "VAE",
                     "BC01", "18 / 18", "Validé", "BC02", "7 / 21", "33,3 %", "Non validé",
                     "Décision du jury : Validation partielle", "16 décembre 2027",
                     "Anne BERNARD"]:
        assert expected in text, expected
    assert "BC03" not in text


def test_proces_verbal(rendered: Any) -> None:
    text = _text(rendered, "proces_verbal", "proces_verbal")
    for expected in ["Procès-verbal de la session de certification", "Élodie MARTIN",
                     "Certifié", "Validation partielle", "Non certifié", "Absent",
                     "BC01 : Validé (capitalisé)", "BC02 : Non validé 7/21 – 33,3 %",
                     "Inscrits : 4 – présents : 3 – certifiés : 1", "Anne BERNARD",
                     "Président(e) du jury", "Moussa N'DIAYE", "Lucie LEROY",
                     "Contreseing du responsable de session", "Claire Fontaine",
                     "Le jury, réuni le mercredi 16 décembre 2026"]:
        assert expected in text, expected
    document = docx.Document(str(rendered.documents["proces_verbal"][0]))
    decisions = next(t for t in document.tables if t.rows[0].cells[-1].text == "Décision")
    rows = [[c.text for c in r.cells] for r in decisions.rows[1:]]
    assert [r[0] for r in rows] == ["001", "002", "003", "004"]
    assert rows[3][3] == "—" and rows[3][4] == "Absent"  # every row keeps its five cells
    signatures = next(t for t in document.tables if t.rows[0].cells[0].text == "Membre du jury")
    # header + one line per juror + the countersignature (and its « Fait à ») in the same
    # table, which never splits from the jurors' signatures
    assert len(signatures.rows) == 6
    assert "Contreseing du responsable de session" in signatures.rows[4].cells[0].text


def test_certificat(rendered: Any) -> None:
    path = rendered.documents["certificat"][0]
    text = docx_text(path)
    info = certificat_info()
    for expected in ["INSTITUT <ALPHA> & Ω".lower(), "certificat", "Madame Élodie DURAND-LEFÈVRE",
                     "nom d'usage : MARTIN", "née le 1er mars 1990 à Saint-Étienne (42)",
                     "« Chef de Projet E-Commerce »", "Fait à Lyon, le 18 décembre 2026",
                     f"Certificat n° {info.numero}",
                     f"Code de vérification : {info.code_verification}",
                     "https://certif.example.fr/verifier", "Le directeur général",
                     "Jean-Michel Dupré", "mercredi 16 décembre 2026"]:
        assert expected.lower() in text.lower(), expected
    document = docx.Document(str(path))
    section = document.sections[0]
    assert int(section.page_width or 0) > int(section.page_height or 0)  # landscape
    assert document.element.body.find(f"{W}sectPr/{W}pgBorders") is not None
    images = [rel.target_part.blob for rel in document.part.rels.values()
              if rel.reltype.endswith("/image")]
    assert len(images) == 2  # the logo and the QR code
    assert all(blob.startswith(b"\x89PNG") for blob in images)


def test_attestation_blocs(rendered: Any) -> None:
    text = _text(rendered, "attestation_blocs", "002")
    assert "Attestation de validation de blocs de compétences" in text
    assert "BC01" in text and "Développer la stratégie Webmarketing" in text
    assert "BC02" not in text
    assert "Ces blocs sont acquis définitivement" in text


def test_notifications(rendered: Any) -> None:
    certified = _text(rendered, "notification_resultats", "001")
    assert "Certifié" in certified
    assert "Votre certificat, n° CPECOM-2026-0001, est joint" in certified
    assert "rattrapage" not in certified and "recours" not in certified
    partial = _text(rendered, "notification_resultats", "002")
    assert "Validation partielle" in partial
    assert "jusqu'au 16 décembre 2027" in partial
    assert "attestation de validation de blocs est jointe" in partial
    assert "former un recours" in partial
    failed = _text(rendered, "notification_resultats", "003")
    assert "Non certifié" in failed
    assert "une nouvelle présentation à une session de rattrapage n'est pas possible" in failed
    absent = _text(rendered, "notification_resultats", "004")
    assert "Vous ne vous y êtes pas présenté :" in absent
    assert "Décision" not in absent and "BC01" not in absent


def test_non_recevabilite(rendered: Any) -> None:
    text = _text(rendered, "non_recevabilite", "recours_003")
    for expected in ["Notification de non-recevabilité de votre recours", "5 janvier 2027",
                     "Je conteste <la> note & le « jury »", "non recevable le 12 janvier 2027",
                     "Recours reçu hors délai (plus de 30 jours)",
                     "la décision du jury est maintenue", "Fait à Paris, le 12 janvier 2027"]:
        assert expected in text, expected


def test_suivi_dysfonctionnements(rendered: Any) -> None:
    text = _text(rendered, "suivi_dysfonctionnements", "suivi")
    assert "Vidéoprojecteur en panne (salle B12)" in text
    assert "Remplacé par l'écran de la salle B14" in text
    assert "Aucun dysfonctionnement" not in text
    assert "Revue après la session" in text


def test_logo_in_every_header(rendered: Any) -> None:
    for type_nom, paths in rendered.documents.items():
        if type_nom == "certificat":
            continue
        document = docx.Document(str(paths[0]))
        header = document.sections[0].header
        assert header._element.findall(f".//{W}drawing"), type_nom


def test_without_logo_nothing_is_printed(tmp_path: Path) -> None:
    ref = referentiel()
    contexts = all_contexts(ref, organisme())
    out = render_batch(_jobs(contexts, "convocation_candidat"), [DEFAULTS], tmp_path / "docs",
                       merge_files=False)
    document = docx.Document(str(out.documents["convocation_candidat"][0]))
    assert not document.sections[0].header._element.findall(f".//{W}drawing")
    assert "Institut <Alpha> & Ω" in docx_text(out.documents["convocation_candidat"][0])


# --- merged files -----------------------------------------------------------------------------


def test_merged_file_has_every_candidate(rendered: Any) -> None:
    assert set(rendered.fusions) == {t for t, k in TYPES.items() if k.par != "session"}
    merged = rendered.fusions["convocation_candidat"]
    assert merged.name == merged_name("convocation_candidat")
    text = docx_text(merged)
    for name in ["Madame Élodie MARTIN", "Monsieur Seán O'BRIEN & <FILS> \"LTD\"",
                 "Madame {% raw %}Zoé {{ 7*7 }}", "Monsieur Paul ABSENT"]:
        assert name in text
    document = docx.Document(str(merged))
    body = document.element.body
    # one section per document, each restarting its page numbers
    breaks = body.findall(f"{W}p/{W}pPr/{W}sectPr")
    assert len(breaks) == 3
    for sectpr in [*breaks, body.find(f"{W}sectPr")]:
        assert sectpr.find(f"{W}pgNumType").get(f"{W}start") == "1"
    footer = document.sections[0].footer._element
    instructions = [i.text for i in footer.iter(f"{W}instrText")]
    assert any("PAGE" in i for i in instructions)
    assert not any("NUMPAGES" in i for i in instructions)
    assert "Page" in docx_text(merged) and " sur " not in document.sections[0].footer.paragraphs[
        0].text


def test_certificates_merged_keep_their_qr_codes(tmp_path: Path,
                                                 contexts: dict[str, list[tuple[str, Any]]]
                                                 ) -> None:
    from test_documents_data import resultats, session

    from certidocs.documents.context import contexte_certificat

    ref = referentiel()
    s = session(ref)
    jobs = []
    for i, c in enumerate(s.candidats[:3], 1):
        info = certificat_info(f"CPECOM-2026-000{i}")
        jobs.append(RenderJob("certificat", c.numero,
                              contexte_certificat(s, ref, organisme(), c, resultats(ref)[0],
                                                  info)))
    out = render_batch(jobs, [DEFAULTS], tmp_path / "docs")
    merged = docx.Document(str(out.fusions["certificat"]))
    text = docx_text(out.fusions["certificat"])
    for i in (1, 2, 3):
        assert f"CPECOM-2026-000{i}" in text
    images = {rel.target_part.partname for rel in merged.part.rels.values()
              if rel.reltype.endswith("/image")}
    assert len(images) == 3


def test_no_merge_for_session_documents(rendered: Any) -> None:
    assert "proces_verbal" not in rendered.fusions
    assert [p.name for p in rendered.documents["proces_verbal"][0].parent.iterdir()] == [
        "proces_verbal.docx"]


# --- templates of the workspace, errors -------------------------------------------------------


def _edit_template(source: Path, target: Path, old: str, new: str) -> Path:
    """A copy of a template with one text replaced inside document.xml (in one run)."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w",
                                                         zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "word/document.xml":
                text = data.decode("utf-8")
                assert old in text, old
                data = text.replace(old, new, 1).encode("utf-8")
            zout.writestr(item, data)
    return target


def test_workspace_templates_override_defaults(tmp_path: Path,
                                               contexts: dict[str, list[tuple[str, Any]]]
                                               ) -> None:
    mine = tmp_path / "espace" / "templates"
    mine.mkdir(parents=True)
    _edit_template(DEFAULTS / "convocation_candidat.docx", mine / "convocation_candidat.docx",
                   "Merci de vous présenter", "Texte de notre espace. Merci de vous présenter")
    out = render_batch(_jobs(contexts, "convocation_candidat", "fiche_resultats"),
                       [mine, DEFAULTS], tmp_path / "docs", merge_files=False)
    assert "Texte de notre espace." in docx_text(out.documents["convocation_candidat"][0])
    assert "Fiche individuelle de résultats" in docx_text(out.documents["fiche_resultats"][0])


def _broken(tmp_path: Path, old: str, new: str,
            modele: str = "convocation_candidat.docx") -> Path:
    folder = tmp_path / "modeles"
    folder.mkdir(exist_ok=True)
    _edit_template(DEFAULTS / modele, folder / modele, old, new)
    return folder


def _fails(tmp_path: Path, folder: Path, contexts: dict[str, list[tuple[str, Any]]],
           *types: str) -> str:
    outdir = tmp_path / "session" / "documents"
    jobs = _jobs(contexts, *(types or ("fiche_resultats", "convocation_candidat")))
    with pytest.raises(ModeleError) as failure:
        render_batch(jobs, [folder, DEFAULTS], outdir)
    assert not outdir.exists()  # nothing half-written, not even the folder
    assert list((tmp_path / "session").iterdir()) == [] if (tmp_path / "session").exists() else True
    return str(failure.value)


def test_syntax_error_names_template_and_text(tmp_path: Path,
                                              contexts: dict[str, list[tuple[str, Any]]]) -> None:
    folder = _broken(tmp_path, "Merci de vous présenter",
                     "{% if candidat.nom %}Merci de vous présenter")
    message = _fails(tmp_path, folder, contexts)
    assert message.startswith(f"modèle convocation_candidat.docx ({folder}) : la balise "
                              "{% if %} n'est jamais refermée (il manque {% endif %}) dans le "
                              "texte « {% if candidat.nom %}Merci de vous présenter")


def test_stray_end_tag(tmp_path: Path, contexts: dict[str, list[tuple[str, Any]]]) -> None:
    folder = _broken(tmp_path, "Merci de vous présenter", "{% endfor %}Merci de vous présenter")
    message = _fails(tmp_path, folder, contexts)
    assert "convocation_candidat.docx" in message
    assert "{% endfor %}" in message
    assert "« {% endfor %}Merci de vous présenter" in message


def test_unclosed_print_tag(tmp_path: Path, contexts: dict[str, list[tuple[str, Any]]]) -> None:
    folder = _broken(tmp_path, "Merci de vous présenter", "{{ candidat.nom Merci de vous présenter")
    message = _fails(tmp_path, folder, contexts)
    assert "convocation_candidat.docx" in message
    assert "« }} » attendu, « Merci » trouvé" in message
    assert "{{ candidat.nom Merci de vous présenter" in message


def test_unknown_variable_names_template_and_text(tmp_path: Path,
                                                  contexts: dict[str, list[tuple[str, Any]]]
                                                  ) -> None:
    folder = _broken(tmp_path, "Merci de vous présenter",
                     "Bonjour {{ candidat.nmo }}. Merci de vous présenter")
    message = _fails(tmp_path, folder, contexts)
    assert message.startswith(f"modèle convocation_candidat.docx ({folder}) : variable "
                              "inconnue « candidat.nmo » dans le texte « Bonjour "
                              "{{ candidat.nmo }}.")
    assert "LISEZMOI.md" in message


def test_unknown_top_level_variable(tmp_path: Path,
                                    contexts: dict[str, list[tuple[str, Any]]]) -> None:
    folder = _broken(tmp_path, "Merci de vous présenter",
                     "{{ candidat_nom }} Merci de vous présenter")
    message = _fails(tmp_path, folder, contexts)
    assert "variable inconnue « candidat_nom »" in message
    assert "{{ candidat_nom }} Merci de vous présenter" in message


def test_unknown_variable_in_a_branch_not_taken(tmp_path: Path,
                                                contexts: dict[str, list[tuple[str, Any]]]
                                                ) -> None:
    # only a certified candidate without certificate number would take this branch, and the
    # test session has none: the check does not wait for one
    folder = _broken(tmp_path, "Votre certificat vous sera adressé prochainement.",
                     "Votre certificat vous sera adressé le {{ resultat.date_envoi }}.",
                     modele="notification_resultats.docx")
    message = _fails(tmp_path, folder, contexts, "notification_resultats")
    assert "notification_resultats.docx" in message
    assert "« resultat.date_envoi »" in message
    assert "Votre certificat vous sera adressé le {{ resultat.date_envoi }}." in message


def test_error_in_a_later_type_leaves_nothing(tmp_path: Path,
                                              contexts: dict[str, list[tuple[str, Any]]]) -> None:
    outdir = tmp_path / "documents"
    (outdir / "convocation_candidat").mkdir(parents=True)
    kept = outdir / "convocation_candidat" / "ancien.txt"
    kept.write_text("à garder", encoding="utf-8")
    folder = _broken(tmp_path, "Nous vous remercions d'avoir accepté",
                     "{{ jure.nmo }} Nous vous remercions d'avoir accepté",
                     modele="convocation_jury.docx")
    jobs = _jobs(contexts, "convocation_candidat", "convocation_jury")
    with pytest.raises(ModeleError):
        render_batch(jobs, [folder, DEFAULTS], outdir)
    assert sorted(p.relative_to(outdir).as_posix() for p in outdir.rglob("*")) == [
        "convocation_candidat", "convocation_candidat/ancien.txt"]


def test_missing_template(tmp_path: Path, contexts: dict[str, list[tuple[str, Any]]]) -> None:
    with pytest.raises(DocumentError) as failure:
        render_batch(_jobs(contexts, "emargement"), [tmp_path], tmp_path / "docs")
    assert "modèle emargement.docx introuvable" in str(failure.value)
    assert not (tmp_path / "docs").exists()


def test_not_a_docx(tmp_path: Path, contexts: dict[str, list[tuple[str, Any]]]) -> None:
    (tmp_path / "emargement.docx").write_text("texte", encoding="utf-8")
    with pytest.raises(ModeleError) as failure:
        render_batch(_jobs(contexts, "emargement"), [tmp_path], tmp_path / "docs")
    assert "n'est pas un document Word" in str(failure.value)


# --- regeneration -----------------------------------------------------------------------------


def test_regeneration_replaces_own_files_but_not_edited_ones(
        tmp_path: Path, contexts: dict[str, list[tuple[str, Any]]]) -> None:
    outdir = tmp_path / "documents"
    jobs = _jobs(contexts, "convocation_candidat")
    first = render_batch(jobs, [DEFAULTS], outdir)
    again = render_batch(jobs, [DEFAULTS], outdir)  # unchanged files: replaced silently
    assert again.documents == first.documents
    edited = first.documents["convocation_candidat"][1]
    document = docx.Document(str(edited))
    document.add_paragraph("Ajout fait à la main")
    document.core_properties.last_modified_by = "Marie Martin"  # what Word does on save
    document.save(str(edited))
    before = {p: p.stat().st_mtime_ns for p in outdir.rglob("*.docx")}
    with pytest.raises(DocumentError) as failure:
        render_batch(jobs, [DEFAULTS], outdir)
    assert "modifiés à la main" in str(failure.value)
    assert str(edited) in str(failure.value)
    assert {p: p.stat().st_mtime_ns for p in outdir.rglob("*.docx")} == before
    assert "Ajout fait à la main" in docx_text(edited)
    render_batch(jobs, [DEFAULTS], outdir, overwrite_edited=True)
    assert "Ajout fait à la main" not in docx_text(edited)


def test_stale_pdfs_are_reported(tmp_path: Path,
                                 contexts: dict[str, list[tuple[str, Any]]]) -> None:
    outdir = tmp_path / "documents"
    stale = outdir / "emargement" / "emargement.pdf"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"%PDF-1.4 ancien")
    out = render_batch(_jobs(contexts, "emargement"), [DEFAULTS], outdir)
    assert out.pdfs_perimes == [stale]
    assert stale.read_bytes() == b"%PDF-1.4 ancien"


def test_job_names_are_checked(tmp_path: Path, contexts: dict[str, list[tuple[str, Any]]]) -> None:
    context = contexts["emargement"][0][1]
    for bad in ["../x", ".cache", "_impression_emargement"]:
        with pytest.raises(ValueError):
            render_batch([RenderJob("emargement", bad, context)], [DEFAULTS], tmp_path / "d")
    with pytest.raises(DocumentError, match="même nom de fichier a"):
        render_batch([RenderJob("emargement", "a", context)] * 2, [DEFAULTS], tmp_path / "d")
    assert not (tmp_path / "d" / "emargement").exists()
    with pytest.raises(ValueError):
        render_batch([RenderJob("inconnu", "a", context)], [DEFAULTS], tmp_path / "d")
    assert not (tmp_path / "d").exists()


def test_safe_filename() -> None:
    assert safe_filename("007", "DUPONT-DURAND", "Élodie") == "007_DUPONT-DURAND_Elodie"
    assert safe_filename("1", "O'Brien & <Fils>", "Seán") == "1_O-Brien-Fils_Sean"
    assert safe_filename("", "///") == "document"


def test_render_batch_streams_a_generator(tmp_path: Path,
                                          contexts: dict[str, list[tuple[str, Any]]]) -> None:
    items = contexts["convocation_candidat"]
    produced = (RenderJob("convocation_candidat", f"c{i}", c) for i, (_, c) in enumerate(items))
    out = render_batch(produced, [DEFAULTS], tmp_path / "docs", merge_files=False)
    assert len(out.documents["convocation_candidat"]) == len(items)


def test_copy_of_defaults_renders(tmp_path: Path,
                                  contexts: dict[str, list[tuple[str, Any]]]) -> None:
    # what `certidocs init` does: the workspace gets a copy of the default templates
    copy = tmp_path / "templates"
    shutil.copytree(DEFAULTS, copy)
    out = render_batch(_jobs(contexts, "certificat"), [copy], tmp_path / "docs")
    assert out.documents["certificat"]


def test_render_document_single(tmp_path: Path,
                                contexts: dict[str, list[tuple[str, Any]]]) -> None:
    from certidocs.documents import render_document

    target = tmp_path / "apercu" / "fiche.docx"
    render_document(DEFAULTS / "fiche_resultats.docx", contexts["fiche_resultats"][0][1], target)
    assert "Décision du jury : Certifié" in docx_text(target)
    assert [p.name for p in target.parent.iterdir()] == ["fiche.docx"]


def test_fault_in_footer_says_so(tmp_path: Path,
                                 contexts: dict[str, list[tuple[str, Any]]]) -> None:
    folder = tmp_path / "modeles"
    folder.mkdir()
    source = DEFAULTS / "emargement.docx"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(folder / "emargement.docx", "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "word/footer1.xml":
                data = data.replace(b"{{ document.titre }}", b"{{ document.titr }}")
            zout.writestr(item, data)
    message = _fails(tmp_path, folder, contexts, "emargement")
    assert "variable inconnue « document.titr »" in message
    assert "(pied de page)" in message


def test_unknown_filter(tmp_path: Path, contexts: dict[str, list[tuple[str, Any]]]) -> None:
    folder = _broken(tmp_path, "Merci de vous présenter",
                     "{{ candidat.prenom|majuscule }} Merci de vous présenter")
    message = _fails(tmp_path, folder, contexts)
    assert "filtre « majuscule » inconnu" in message
    assert "« {{ candidat.prenom|majuscule }} Merci" in message


def test_qr_code_drawn_only_where_the_template_prints_it(
        tmp_path: Path, contexts: dict[str, list[tuple[str, Any]]]) -> None:
    """The certificate prints its QR code; the results letter carries it but does not print
    it by default, so it is never drawn there."""
    import dataclasses

    from certidocs.documents.context import Image
    drawn: list[str] = []

    def counting(type_nom: str, context: dict[str, Any]) -> dict[str, Any]:
        qr = context["certificat"]["qr"]
        assert isinstance(qr, Image) and callable(qr.source)
        lazy = qr.source

        def draw() -> bytes:
            drawn.append(type_nom)
            return lazy()

        return {**context, "certificat": {**context["certificat"],
                                          "qr": dataclasses.replace(qr, source=draw)}}

    env = make_environment()
    for type_nom in ("certificat", "notification_resultats"):
        context = next(c for _, c in contexts[type_nom] if c["certificat"]["qr"] != "")
        Template(DEFAULTS / TYPES[type_nom].modele, env).render_to(
            counting(type_nom, context), tmp_path / f"{type_nom}.docx")
    assert drawn == ["certificat"]
    with zipfile.ZipFile(tmp_path / "certificat.docx") as zf:
        pictures = [n for n in zf.namelist() if n.startswith("word/media/")]
    assert len(pictures) == 2, pictures  # the logo and the QR code
