"""Documents a certification office sends as they are (issue 17): every document type of the
demo rendered, and the facts a candidate, a juror and the office read on them asserted.

The demo session: deliberation on 16 December 2026, documents generated today; a woman
juror, a man presiding; an absent candidate with no earlier failure; a candidate born in
Dakar; two homonyms (Julie MARTIN); a retake candidate with capitalised blocs.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from test_documents_data import candidats, organisme, referentiel, resultats, session

from certidocs.documents import context as ctx
from certidocs.documents.dates import NBSP, NNBSP, heure_fr, typographie
from certidocs.model import ABSENT, Candidat, Jure


def _text(path: Path) -> str:
    """Every paragraph of a .docx, tables and header included, one per line."""
    from docx import Document

    doc = Document(str(path))
    lines = [p.text for p in doc.paragraphs]

    def cells(tables: list) -> None:  # type: ignore[type-arg]
        for table in tables:
            for row in table.rows:
                for cell in row.cells:
                    lines.extend(p.text for p in cell.paragraphs)
                    cells(cell.tables)

    cells(doc.tables)
    for section in doc.sections:
        lines.extend(p.text for p in section.header.paragraphs)
        cells(section.header.tables)
    return "\n".join(lines)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    from certidocs.demo import run_demo

    said: list[str] = []
    report = run_demo(tmp_path_factory.mktemp("demo") / "espace", said.append)
    return report.session / "documents", said


def _one(folder: Path, kind: str, start: str = "") -> str:
    found = sorted(p for p in (folder / kind).glob(f"{start}*.docx")
                   if not p.name.startswith("_impression"))
    assert found, f"aucun document {kind} {start}"
    return _text(found[0])


def test_documents_after_deliberation_are_dated_the_deliberation(demo: tuple[Path, list[str]]
                                                                   ) -> None:
    folder, _ = demo
    for kind in ("fiche_resultats", "proces_verbal", "certificat", "attestation_blocs",
                 "notification_resultats"):
        text = _one(folder, kind)
        assert "Fait à Lyon, le 16 décembre 2026" in text, kind
    assert "Fait à Lyon, le 23 décembre 2026" in _one(folder, "non_recevabilite")
    assert "Fait à Lyon, le 13 novembre 2026" in _one(folder, "convocation_candidat")


def test_absent_candidate_is_not_told_no_retake(demo: tuple[Path, list[str]]) -> None:
    folder, _ = demo
    text = _one(folder, "notification_resultats", "006_")
    assert "n'est pas possible" not in text
    assert "Une absence ne compte pas comme une présentation" in text
    failed = _one(folder, "notification_resultats", "004_")
    assert "Voies de recours." in failed
    assert "dans un délai de 30 jours" in failed
    assert "auprès de" not in failed
    assert "Centre Exemple de Certification – Direction" in failed
    assert "12 rue de la République, 69002 Lyon" in failed
    assert "Contact" in failed and "04 78 00 00 00" in failed


def test_pv_counts_and_homonyms(demo: tuple[Path, list[str]]) -> None:
    folder, _ = demo
    text = _one(folder, "proces_verbal")
    assert f"présents{NBSP}: 11" in text
    assert "née le 12/03/1991" in text and "née le 21/08/1999" in text  # the two Julie MARTIN
    assert "Contreseing du responsable de session" in text
    # the subtitle does not say the certification's title twice
    assert "Chef de Projet E-Commerce – Chef de Projet E-Commerce" not in text


def test_jury_by_civilite(demo: tuple[Path, list[str]]) -> None:
    folder, _ = demo
    durand = _one(folder, "convocation_jury", "convocation-jury_DURAND")
    assert "Monsieur," in durand and "Président du jury" in durand
    assert "Président(e)" not in durand
    assert "paul.durand@" not in durand  # no email where the postal address goes
    roux = _one(folder, "convocation_jury", "convocation-jury_ROUX")
    assert "Madame,\n" in roux + "\n" and "Madame, Monsieur" not in roux
    assert "Madame Anne ROUX" in roux


def test_birthplace_abroad_and_fiche(demo: tuple[Path, list[str]]) -> None:
    folder, _ = demo
    assert "à Dakar (Sénégal)" in _one(folder, "certificat", "002_")
    fiche = _one(folder, "fiche_resultats", "007_")  # BC01-BC03 capitalised earlier
    assert "0 / 0" not in fiche
    assert "Validé (capitalisé)" in fiche
    assert "Nom d'usage" not in _one(folder, "fiche_resultats", "001_")
    assert "Nom d'usage" in _one(folder, "fiche_resultats", "003_")  # Garnier


def test_certificate_and_attestation_mentions(demo: tuple[Path, list[str]]) -> None:
    folder, said = demo
    cert = _one(folder, "certificat", "001_")
    assert "Vérifier ce certificat" in cert  # an address is set in the demo
    att = _one(folder, "attestation_blocs")
    assert "seuls les blocs ci-dessus" in att and "Code officiel du bloc" in att
    # the demo's référentiel has no RNCP number: the demo says so, naming the YAML field
    warnings = "\n".join(said)
    assert "certification.rncp" in warnings and "certification.date_effet" in warnings


def test_typography_in_every_document(demo: tuple[Path, list[str]]) -> None:
    folder, _ = demo
    for kind in ("convocation_candidat", "convocation_jury", "emargement", "fiche_resultats",
                 "proces_verbal", "certificat", "attestation_blocs", "notification_resultats",
                 "non_recevabilite", "suivi_dysfonctionnements"):
        text = _one(folder, kind)
        assert " :" not in text and "« " not in text and " »" not in text, kind
        assert ":00" not in text, kind
    assert f"9{NBSP}h{NBSP}00" in _one(folder, "convocation_candidat", "001_")


def test_typographie_function() -> None:
    assert typographie("Objet : « titre » ; oui ! non ?") == (
        f"Objet{NBSP}: «{NBSP}titre{NBSP}»{NNBSP}; oui{NNBSP}! non{NNBSP}?")
    assert typographie("https://x.fr/v?n=1") == "https://x.fr/v?n=1"
    assert heure_fr("09:00") == f"9{NBSP}h{NBSP}00" and heure_fr("14h30") == f"14{NBSP}h{NBSP}30"
    assert heure_fr("matin") == "matin"


def test_blank_presence_counts_who_was_judged() -> None:
    ref = referentiel()
    s = session(ref)
    blank = replace(s, candidats=tuple(replace(c, presence="") for c in s.candidats))
    outcomes = list(resultats(ref))
    pv = ctx.contexte_proces_verbal(blank, ref, organisme(), outcomes)
    judged = sum(1 for r in outcomes if r.decision != ABSENT)
    assert judged and pv["effectifs"]["presents"] == judged


def test_blank_presence_is_warned() -> None:
    from certidocs.production import _presences_vides
    from certidocs.session.reader import Lecture

    ref = referentiel()
    s = session(ref)
    blank = replace(s, candidats=tuple(replace(c, presence="") for c in s.candidats))
    warned = _presences_vides(Lecture(blank), {r.numero for r in resultats(ref)
                                               if r.decision != "Absent"})
    assert warned and "Présence" in warned[0]


def test_dating_rule_never_before_deliberation() -> None:
    ref = referentiel()
    s = session(ref)
    for kind in ("fiche_resultats", "proces_verbal", "attestation_blocs",
                 "notification_resultats", "suivi_dysfonctionnements"):
        assert ctx.date_du_document(s, kind) == s.info.date_deliberation, kind


def test_juror_civilite_and_old_files() -> None:
    woman = Jure(nom="Bernard", prenom="Anne", president=True, civilite="Mme")
    assert ctx._jure(woman)["qualite"] == "Présidente du jury"
    assert ctx._jure(woman)["salutation"] == "Madame,"
    old = Jure(nom="Bernard", prenom="Anne", president=True)  # session file without the column
    assert ctx._jure(old)["qualite"] == "Président(e) du jury"


def test_birthplace_country() -> None:
    c: Candidat = candidats()[0]
    assert ctx.lieu_naissance(replace(c, lieu_naissance="Dakar", pays_naissance="Sénégal")) == (
        "Dakar (Sénégal)")
    assert ctx.lieu_naissance(replace(c, lieu_naissance="Lyon", pays_naissance="")) == "Lyon"
    assert ctx.lieu_naissance(replace(c, lieu_naissance="Lyon", pays_naissance="France")) == (
        "Lyon")


def test_default_settings_are_warned() -> None:
    warned = "\n".join(ctx.reglages_manquants({"organisme": {"nom": "Organisme certificateur"},
                                               "signataire": {"fonction": "Le directeur"}},
                                              "apres"))
    for setting in ("[organisme] nom", "[organisme] adresse", "[organisme] telephone",
                    "[signataire] nom", "[recours] delai_jours", "[recours] adresse"):
        assert setting in warned


def test_lancer_after_manual_grilles_produces_pre_exam_documents(tmp_path: Path) -> None:
    import shutil

    from certidocs import api
    from certidocs.demo import SAMPLES
    from certidocs.lancer import lancer
    from certidocs.workspace import init_workspace

    espace = init_workspace(tmp_path / "espace").root
    dossier = espace / "sessions" / "session-2026-12"
    shutil.copytree(SAMPLES / "session-2026-12", dossier)
    api.grilles(dossier)  # by hand: no document
    assert not (dossier / "documents" / "convocation_candidat").exists()
    report = lancer(dossier)
    assert any("d'avant l'examen produits" in f for f in report.fait)
    assert list((dossier / "documents" / "convocation_candidat").glob("001_*.docx"))


def test_jurors_observations_reach_fiche_and_pv(demo: tuple[Path, list[str]]) -> None:
    folder, _ = demo
    said = "Veille limitée à deux sources, sans analyse des concurrents"
    fiche = _one(folder, "fiche_resultats", "004_")
    assert "Observations du jury" in fiche and said in fiche and "BC01-C1.1" in fiche
    assert said in _one(folder, "proces_verbal")
    assert "Observations du jury" not in _one(folder, "fiche_resultats", "001_")


def test_titles_never_twice(demo: tuple[Path, list[str]]) -> None:
    folder, _ = demo
    for kind in ("convocation_candidat", "non_recevabilite", "fiche_resultats",
                 "proces_verbal", "suivi_dysfonctionnements"):
        text = _one(folder, kind)
        assert "Chef de Projet E-Commerce – Chef de Projet E-Commerce" not in text, kind
        assert f"E-Commerce{NBSP}», session «{NBSP}Chef de Projet" not in text, kind
    assert ctx.designation("Titre", "Session de mars") == "« Titre », session « Session de mars »"
    assert ctx.designation("Titre", "Titre — mars") == "« Titre — mars »"


def test_session_without_jury_civilite_column_still_reads(tmp_path: Path) -> None:
    """A session.xlsx made before the Jury sheet's « Civilité » column reads as before."""
    import openpyxl
    from sessiondata import JURY, make_session, with_changes

    from certidocs.session.reader import read_session

    folder = make_session(tmp_path / "s", jury=with_changes(JURY, 0, {"Civilité": "Madame"}))
    path = folder / "session.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb["Jury"]["A1"].value == "Civilité"
    read_new = read_session(folder)
    assert read_new.session.jury[0].civilite == "Madame"
    wb["Jury"].delete_cols(1)
    wb.save(path)
    lecture = read_session(folder)
    assert not [p for p in lecture.problemes if p.lieu.startswith("Jury")]
    assert [j.nom for j in lecture.session.jury] == [j.nom for j in read_new.session.jury]
    assert all(j.civilite == "" for j in lecture.session.jury)


def test_observations_come_from_the_sealed_evidence(tmp_path: Path) -> None:
    """The observations printed are those read with the decision, kept in the register's
    evidence: a grid changed (or removed) after the deliberation changes nothing printed, and
    no grid is read again to print them."""
    from certidocs import api
    from certidocs.demo import run_demo

    report = run_demo(tmp_path / "espace", lambda _: None)
    next((report.session / "grilles").glob("004_*.xlsx")).unlink()
    again = api.documents(report.session, types=("fiche_resultats",))
    assert not [w for w in again.avertissements if "observations" in w]
    fiche = _one(report.session / "documents", "fiche_resultats", "004_")
    assert "Veille limitée à deux sources, sans analyse des concurrents" in fiche


def test_observations_of_older_passages_only_from_the_sealed_grid(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Passages recorded before the evidence kept the observations: their grid is read again,
    and a grid changed after the deliberation has its observations left out, and said."""
    import certidocs.pipeline as pipeline
    from certidocs import api
    from certidocs.demo import run_demo

    keep = pipeline.preuves

    def older(job: object, lu: object) -> dict[str, object]:
        evidence = keep(job, lu)  # type: ignore[arg-type]
        evidence.pop("observations", None)
        return evidence

    monkeypatch.setattr(pipeline, "preuves", older)
    report = run_demo(tmp_path / "espace", lambda _: None)
    monkeypatch.setattr(pipeline, "preuves", keep)
    fiche = _one(report.session / "documents", "fiche_resultats", "004_")
    assert "Veille limitée" in fiche  # read again from the unchanged grid
    grid = next((report.session / "grilles").glob("004_*.xlsx"))
    grid.write_bytes(grid.read_bytes() + b"\0")
    again = api.documents(report.session, types=("fiche_resultats",))
    assert any("observations des jurés non reprises pour 004" in w
               for w in again.avertissements)
    fiche = _one(report.session / "documents", "fiche_resultats", "004_")
    assert "Veille limitée" not in fiche
