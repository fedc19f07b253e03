"""Document contexts, French dates and certificate codes: pure functions, no Word file."""

from __future__ import annotations

import datetime as dt
import re
from datetime import date
from pathlib import Path

import pytest
from test_documents_data import (
    JINJA_NOM,
    SECRET,
    TODAY,
    TRICKY_NOM,
    candidats,
    certificat_info,
    organisme,
    referentiel,
    resultats,
    session,
)

from certidocs.documents import context as ctx
from certidocs.documents.certificat import (
    code_valide,
    normalise_code,
    qr_payload,
    verification_code,
)
from certidocs.documents.dates import date_courte, date_jour, date_texte, periode, pourcentage
from certidocs.documents.qr import qr_png
from certidocs.errors import DocumentError
from certidocs.model import Candidat, Resultat, ResultatBloc

# --- dates ------------------------------------------------------------------------------------


def test_dates_in_french() -> None:
    assert date_jour(date(2026, 12, 14)) == "lundi 14 décembre 2026"
    assert date_jour(date(2026, 12, 1)) == "mardi 1er décembre 2026"
    assert date_texte(date(2027, 2, 1)) == "1er février 2027"
    assert date_texte(date(2026, 8, 15)) == "15 août 2026"
    assert date_courte(date(2026, 3, 5)) == "05/03/2026"
    assert date_jour(None) == date_texte(None) == date_courte(None) == ""


def test_periode_shares_month_and_year() -> None:
    assert periode(date(2026, 12, 14), None) == "le lundi 14 décembre 2026"
    assert periode(date(2026, 12, 14), date(2026, 12, 14)) == "le lundi 14 décembre 2026"
    assert periode(date(2026, 12, 14), date(2026, 12, 15)) == (
        "du lundi 14 au mardi 15 décembre 2026")
    assert periode(date(2026, 11, 30), date(2026, 12, 1)) == (
        "du lundi 30 novembre au mardi 1er décembre 2026")
    assert periode(date(2026, 12, 31), date(2027, 1, 1)) == (
        "du jeudi 31 décembre 2026 au vendredi 1er janvier 2027")
    assert periode(None, None) == ""


def test_pourcentage() -> None:
    assert pourcentage(0.7) == "70\u00a0%"
    assert pourcentage(14 / 18) == "77,8\u00a0%"
    assert pourcentage(1) == "100\u00a0%"
    assert pourcentage(0) == "0\u00a0%"
    assert pourcentage(14 / 17) == "82,4\u00a0%"  # 82,35… %: not « 82,3 »
    assert pourcentage(1 / 16) == "6,3\u00a0%"  # 6,25 %: a half rounded up, not to even
    assert pourcentage(0.9995) == "100\u00a0%"


def test_bloc_rates_on_documents_come_from_the_counts_not_the_rounded_rate() -> None:
    """ResultatBloc.taux keeps 4 decimals (resultats.json): 14/17 → 0,8235, which printed as
    « 82,3 % » on the procès-verbal and the result sheets; the counts give 82,35… → 82,4."""
    from certidocs.documents.context import _bloc_resultat
    from certidocs.model import ResultatBloc

    bloc = _bloc_resultat(ResultatBloc("BC05", 14, 17, True), {})
    assert bloc["taux"] == "82,4\u00a0%"
    assert bloc["detail"] == "14/17 – 82,4\u00a0%"


# --- certificate codes ------------------------------------------------------------------------


def _code(**changes: object) -> str:
    args: dict[str, object] = {"secret": SECRET, "numero": "CPECOM-2026-0001", "nom": "Durand",
                               "prenom": "Élodie", "date_naissance": date(1990, 3, 1),
                               "date_delivrance": TODAY}
    args.update(changes)
    return verification_code(**args)  # type: ignore[arg-type]


def test_verification_code_is_readable_and_stable() -> None:
    code = _code()
    assert re.fullmatch(r"[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}", code)
    assert _code() == code
    # case and spacing of the names do not matter, accents do
    assert _code(nom="  DURAND ", prenom="élodie") == code
    assert _code(prenom="Elodie") != code


@pytest.mark.parametrize("change", [
    {"numero": "CPECOM-2026-0002"}, {"nom": "Durant"}, {"prenom": "Élodi"},
    {"date_naissance": date(1990, 3, 2)}, {"date_naissance": None},
    {"date_delivrance": date(2026, 12, 19)}, {"secret": b"another secret of enough length"},
])
def test_verification_code_depends_on_every_field(change: dict[str, object]) -> None:
    assert _code(**change) != _code()


def test_code_valide_accepts_what_people_type() -> None:
    code = _code()
    args = (SECRET, "CPECOM-2026-0001", "Durand", "Élodie", date(1990, 3, 1), TODAY)
    assert code_valide(code, *args)
    assert code_valide(code.lower().replace("-", " "), *args)
    assert not code_valide(code[:-1] + ("A" if code[-1] != "A" else "B"), *args)
    assert normalise_code(" abcd efgh-jklm ") == "ABCD-EFGH-JKLM"


def test_verification_code_refuses_empty_secret() -> None:
    with pytest.raises(ValueError):
        _code(secret=b"")


def test_qr_payload() -> None:
    assert qr_payload("https://x.fr/verifier", "CP 1/2", "ABCD-EFGH-JKLM") == (
        "https://x.fr/verifier?numero=CP%201%2F2&code=ABCD-EFGH-JKLM")
    assert qr_payload("https://x.fr/v?lang=fr", "N1", "C") == (
        "https://x.fr/v?lang=fr&numero=N1&code=C")
    assert qr_payload("", "N1", "ABCD") == "Certificat n° N1 - code de vérification ABCD"


@pytest.mark.parametrize("payload", [
    "https://x.fr/verifier?numero=1&code=ABCD",
    "Certificat n° CPECOM-2026-00001 - code de vérification ABCD-EFGH-JKLM",
    "https://verifier.exemple.fr/c?numero=CPECOM-2026-00001&code=ABCD-EFGH-JKLM&s=" + "Az09" * 22,
])
def test_qr_png_same_pixels_as_segno_and_reads_back(payload: str) -> None:
    """Pillow writes the pixels segno's own PNG writer wrote (8 px per module, 4-module quiet
    zone), and the code reads back as ``payload``."""
    import io

    import segno
    import zxingcpp
    from PIL import Image

    data = qr_png(payload)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    ours = Image.open(io.BytesIO(data))
    reference = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(reference, kind="png", scale=8, border=4)
    theirs = Image.open(io.BytesIO(reference.getvalue()))
    assert ours.mode == "1" and ours.size == theirs.size
    assert ours.tobytes() == theirs.convert("1").tobytes()
    assert [r.text for r in zxingcpp.read_barcodes(ours.convert("L"))] == [payload]


# --- civilité and names -----------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "expected"), [
    ("Madame", "Madame"), ("mme", "Madame"), ("Mme.", "Madame"), ("Mlle", "Madame"),
    ("Monsieur", "Monsieur"), ("M.", "Monsieur"), ("M", "Monsieur"), ("", ""), ("Dr", ""),
])
def test_civilite(typed: str, expected: str) -> None:
    assert ctx.civilite(typed) == expected


def test_candidate_forms() -> None:
    ref = referentiel()
    s = session(ref)
    org = organisme()
    elodie = ctx.contexte_convocation_candidat(s, ref, org, s.candidats[0])["candidat"]
    assert elodie["identite"] == "Madame Élodie MARTIN"
    assert elodie["salutation"] == "Madame,"
    assert elodie["ne"] == "née"
    assert elodie["nom_naissance_majuscules"] == "DURAND-LEFÈVRE"
    assert elodie["date_naissance"] == "1er mars 1990"
    assert [e["heure"] for e in elodie["epreuves"]] == ["9\u00a0h\u00a000"]
    assert [b["code"] for b in elodie["blocs"]] == [b.code for b in ref.blocs]
    sean = ctx.contexte_convocation_candidat(s, ref, org, s.candidats[1])["candidat"]
    assert sean["identite"] == "Monsieur Seán O'BRIEN & <FILS> \"LTD\""
    assert sean["nom"] == TRICKY_NOM  # values are raw: escaping is the renderer's job
    assert [b["code"] for b in sean["blocs"]] == ["BC01", "BC02"]
    unknown = ctx.contexte_convocation_candidat(
        s, ref, org, Candidat("9", "", "Camara", "Alex"))["candidat"]
    assert unknown["salutation"] == "Madame, Monsieur,"
    assert unknown["appel"] == "Madame, Monsieur"
    assert unknown["ne"] == "né(e)"


def test_control_characters_are_dropped() -> None:
    ref = referentiel()
    s = session(ref)
    c = Candidat("9", "Madame", "Nom\x0bavec\x00tab", "Anne", adresse="1 rue\nBât. B")
    value = ctx.contexte_convocation_candidat(s, ref, organisme(), c)["candidat"]
    assert value["nom_naissance"] == "Nomavectab"
    assert value["adresse"] == "1 rue\nBât. B"


# --- contexts ---------------------------------------------------------------------------------


def test_common_context() -> None:
    ref = referentiel()
    common = ctx.contexte_commun(session(ref), ref, organisme(), date_document=TODAY,
                                 type_nom="proces_verbal")
    assert common["session"]["periode"] == "du lundi 14 au mardi 15 décembre 2026"
    assert common["session"]["date_deliberation"] == "mercredi 16 décembre 2026"
    assert common["document"] == {"titre": "Procès-verbal de session",
                                  "sous_titre": "Chef de Projet E-Commerce – Session de "
                                                "décembre 2026",
                                  "date": "18 décembre 2026", "date_courte": "18/12/2026",
                                  "lieu": "Paris",
                                  "fait_a": "Fait à Paris, le 18 décembre 2026"}
    assert common["president"]["nom_complet"] == "Anne BERNARD"
    assert common["certification"]["certificateur"] == "Institut <Alpha> & Ω"
    assert common["certification"]["mention_rncp"] == ""
    assert common["organisme"]["logo"] == ""
    assert [b["code"] for b in common["blocs"]] == ["BC01", "BC02", "BC03", "BC04", "BC05"]


def test_common_context_without_city_or_president() -> None:
    ref = referentiel()
    s = session(ref)
    org = organisme(ville="")
    no_president = type(s)(nom=s.nom, info=s.info, jury=tuple(
        type(j)(nom=j.nom, prenom=j.prenom) for j in s.jury))
    common = ctx.contexte_commun(no_president, ref, org, date_document=TODAY)
    assert common["document"]["fait_a"] == "Fait à Campus Sud & Cie, le 18 décembre 2026"
    assert common["president"]["nom_complet"] == ""


def test_mention_rncp() -> None:
    from dataclasses import replace

    ref = referentiel()
    ref = replace(ref, certification=replace(ref.certification, rncp="RNCP12345", niveau=6))
    common = ctx.contexte_commun(session(ref), ref, organisme())
    assert common["certification"]["mention_rncp"] == (
        "enregistrée au Répertoire national des certifications professionnelles (RNCP) sous le "
        "numéro RNCP12345, niveau 6 du cadre national des certifications professionnelles")
    missing = "\n".join(ctx.mentions_manquantes(ref, organisme(), candidats()[0]))
    assert "certification.date_effet" in missing and "certification.niveau_europeen" in missing
    ref = replace(ref, certification=replace(
        ref.certification, date_effet=dt.date(2024, 9, 1), niveau_europeen=6,
        codes_nsf=("310m", "312p"), certificateur="CENTRE EXEMPLE SAS"))
    common = ctx.contexte_commun(session(ref), ref, organisme())["certification"]
    assert common["mention_rncp"] == (
        "enregistrée au Répertoire national des certifications professionnelles (RNCP) sous le "
        "numéro RNCP12345, par décision de France compétences en date du 1er septembre 2024, "
        "niveau 6 du cadre national des certifications professionnelles")
    assert common["mention_niveau_nsf"] == (
        "Niveau 6 du cadre national des certifications professionnelles (niveau 6 du cadre "
        "européen des certifications) – codes NSF : 310m, 312p")
    assert ctx.mentions_manquantes(ref, organisme(), candidats()[0]) == []
    assert ctx.mentions_manquantes(ref, organisme(), blocs=True) == []  # BC01 → RNCP12345BC01


def test_mentions_manquantes() -> None:
    ref = referentiel()
    missing = ctx.mentions_manquantes(ref, {"signataire": {}}, candidats()[3])
    text = "\n".join(missing)
    assert "certification.rncp" in text
    assert "certification.niveau" in text
    assert "[signataire] nom" in text
    assert "Candidats, ligne 5 : date de naissance" in text
    assert "Candidats, ligne 5 : lieu de naissance" in text


def test_logo_must_exist_and_be_an_image(tmp_path: Path) -> None:
    ref = referentiel()
    s = session(ref)
    with pytest.raises(DocumentError) as missing:
        ctx.contexte_commun(s, ref, organisme(logo=tmp_path / "absent.png"))
    assert "[organisme] logo" in str(missing.value)
    assert "absent.png" in str(missing.value)
    text = tmp_path / "logo.png"
    text.write_text("pas une image", encoding="utf-8")
    with pytest.raises(DocumentError) as not_image:
        ctx.contexte_commun(s, ref, organisme(logo=text))
    assert "n'est pas une image que Word sait afficher" in str(not_image.value)


def test_organisme_depuis_config(tmp_path: Path) -> None:
    config = {"organisme": {"nom": "X", "logo": "images/logo.png"},
              "signataire": {"nom": "Y"}, "grilles": {"mot_de_passe": "secret"}}
    org = ctx.organisme_depuis_config(config, tmp_path)
    assert org["organisme"]["logo"] == str(tmp_path / "images" / "logo.png")
    assert org["certificats"] == {}
    assert "grilles" not in org  # only what documents print


def test_types_are_ordered_and_complete() -> None:
    assert list(ctx.TYPES) == [
        "convocation_candidat", "convocation_jury", "emargement", "fiche_resultats",
        "proces_verbal", "certificat", "attestation_blocs", "notification_resultats",
        "non_recevabilite", "suivi_dysfonctionnements"]
    assert {t.etape for t in ctx.TYPES.values()} == {"avant", "apres"}
    assert [n for n, t in ctx.TYPES.items() if t.etape == "avant"] == [
        "convocation_candidat", "convocation_jury", "emargement"]
    assert {t.par for t in ctx.TYPES.values()} == {"candidat", "jure", "recours", "session"}
    assert all(t.modele == f"{n}.docx" for n, t in ctx.TYPES.items())


def test_concerne() -> None:
    ref = referentiel()
    certified, partial, failed, absent = resultats(ref)
    incomplete = Resultat("5", "X", "Y", "Incomplet")
    failed_with_bloc = Resultat("6", "X", "Y", "Non certifié",
                                (ResultatBloc("BC01", 15, 18, True),))
    assert ctx.concerne("certificat", certified)
    assert not ctx.concerne("certificat", partial)
    assert ctx.concerne("attestation_blocs", partial)
    assert ctx.concerne("attestation_blocs", failed_with_bloc)
    assert not ctx.concerne("attestation_blocs", failed)
    assert not ctx.concerne("attestation_blocs", certified)
    assert ctx.concerne("notification_resultats", absent)
    assert not ctx.concerne("notification_resultats", incomplete)
    assert not ctx.concerne("fiche_resultats", absent)
    assert not ctx.concerne("fiche_resultats", None)
    assert ctx.concerne("convocation_candidat")
    s = session(ref)
    assert ctx.concerne("non_recevabilite", recours=s.recours[0])
    assert not ctx.concerne("non_recevabilite",
                            recours=type(s.recours[0])("1", decision="Recevable"))


def test_results_context() -> None:
    ref = referentiel()
    s = session(ref)
    _, partial, _, _ = resultats(ref)
    value = ctx.contexte_fiche_resultats(s, ref, organisme(), s.candidats[1], partial)["resultat"]
    assert value["decision"] == "Validation partielle"
    assert value["partiel"] and not value["certifie"]
    assert [b["code"] for b in value["blocs_valides"]] == ["BC01"]
    assert [b["etat"] for b in value["blocs"]] == ["Validé", "Non validé"]
    assert value["blocs"][1]["detail"] == "7/21 – 33,3\u00a0%"
    assert value["rattrapage_jusqu_au"] == "16 décembre 2027"
    assert value["acquis"] == 25 and value["total"] == 39


def test_proces_verbal_lists_everyone() -> None:
    ref = referentiel()
    s = session(ref)
    only_two = resultats(ref)[:2]
    value = ctx.contexte_proces_verbal(s, ref, organisme(), only_two)
    assert [c["numero"] for c in value["candidats"]] == ["001", "002", "003", "004"]
    assert value["candidats"][2]["resultat"]["decision"] == ""
    assert value["effectifs"]["inscrits"] == 4
    assert value["effectifs"]["presents"] == 3
    assert value["effectifs"]["certifies"] == 1


def test_emargement_days() -> None:
    ref = referentiel()
    s = session(ref)
    days = ctx.contexte_emargement(s, ref, organisme())["journees"]
    assert [d["date"] for d in days] == ["lundi 14 décembre 2026", "mardi 15 décembre 2026"]
    assert [c["numero"] for c in days[0]["candidats"]] == ["001", "002"]
    assert days[1]["candidats"][0]["nom"] == JINJA_NOM
    assert days[0]["candidats"][0]["epreuves_du_jour"] == "9\u00a0h\u00a000 Soutenance orale"
    no_planning = type(s)(nom=s.nom, info=s.info, candidats=s.candidats)
    single = ctx.contexte_emargement(no_planning, ref, organisme())["journees"]
    assert len(single) == 1
    assert single[0]["date"] == "du lundi 14 au mardi 15 décembre 2026"
    assert single[0]["nombre"] == 4


def test_certificate_context() -> None:
    ref = referentiel()
    s = session(ref)
    info = certificat_info()
    value = ctx.contexte_certificat(s, ref, organisme(), s.candidats[0], resultats(ref)[0], info)
    assert value["certificat"]["numero"] == "CPECOM-2026-0001"
    assert value["certificat"]["code_verification"] == info.code_verification
    assert isinstance(value["certificat"]["qr"], ctx.Image)
    assert value["document"]["fait_a"] == "Fait à Lyon, le 18 décembre 2026"
    empty = ctx.contexte_notification_resultats(s, ref, organisme(), s.candidats[1],
                                                resultats(ref)[1])["certificat"]
    assert empty["numero"] == "" and empty["qr"] == ""


def test_non_recevabilite_dated_by_decision() -> None:
    ref = referentiel()
    s = session(ref)
    value = ctx.contexte_non_recevabilite(s, ref, organisme(), s.candidats[2], s.recours[0])
    assert value["document"]["date"] == "12 janvier 2027"
    assert value["recours"]["motifs"] == "Je conteste <la> note & le « jury »"
    assert value["recours"]["date_reception"] == "5 janvier 2027"
