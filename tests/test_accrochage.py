"""Declaring holders to the Caisse des Dépôts: the XSD, identity checks, the register's memory
of what was sent and answered, the settings and the two commands."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from helpers import FIXTURES, REFERENTIELS, ROOT
from lxml import etree
from sessiondata import CANDIDATS, make_session, with_changes

from certidocs import api
from certidocs.accrochage import XSD_PATH, code_postal, exporter, marquer, validate_flux
from certidocs.accrochage import identite as identite_mod
from certidocs.accrochage.flux import NS, XSI
from certidocs.accrochage.identite import Titulaire, prenoms, verifier_identite
from certidocs.accrochage.pays import code_pays
from certidocs.cli import main
from certidocs.errors import AccrochageError, AccrochageReglagesInvalides, FluxInvalide
from certidocs.registre import MIGRATIONS, SCHEMA_VERSION, Registre
from certidocs.session.reader import read_session
from certidocs.signature import ensure_keys
from certidocs.workspace import Workspace, find_workspace

EXEMPLE = FIXTURES / "accrochage" / "exemple-flux-v2.0.0.xml"
DAY = dt.date(2026, 12, 15)
REGLAGES = '[accrochage]\nid_client_emetteur = "AB123CDE"\nid_contrat = "2560080000127J"\n'
Q = {"cpf": NS}


def make_workspace(root: Path, reglages: str = REGLAGES, rncp: str | None = "RNCP34825") -> Path:
    """A workspace with CPECOM (given an RNCP fiche number) and the [accrochage] settings."""
    (root / "referentiels").mkdir(parents=True)
    text = (REFERENTIELS / "CPECOM.yaml").read_text(encoding="utf-8")
    if rncp is not None:
        text = text.replace("rncp: null", f"rncp: {rncp}", 1)
    (root / "referentiels" / "CPECOM.yaml").write_text(text, encoding="utf-8")
    (root / "certidocs.toml").write_text(reglages, encoding="utf-8")
    ensure_keys(root)
    return root


def ws_of(root: Path) -> Workspace:
    return find_workspace(root)


def certify(root: Path, nom: str, prenom: str, born: dt.date | None, *, sexe: str = "F",
            insee: str = "69123", pays: str = "", lieu: str = "Lyon", usage: str = "",
            voie: str = "Formation", session: str = "sessions/s1", day: dt.date = DAY,
            delivre: dt.date | None = None, postal: str = "69002") -> str:
    """Record a passage « Certifié » and its certificate straight through the register."""
    with Registre(root / "registre.sqlite") as reg, reg.transaction() as conn:
        sid = reg.session_id(conn, session, session.rsplit("/", 1)[-1], "CPECOM", day,
                             day + dt.timedelta(days=1), "Lyon")
        reg.completer_session(conn, cle=session, code_postal_examen=postal)
        reg.enregistrer_passage(conn, session_id=sid, nom_naissance=nom, prenom=prenom,
                                date_naissance=born, numero="001", referentiel="CPECOM",
                                date_session=day, voie_acces=voie, decision="Certifié",
                                detail={}, blocs_valides=[],
                                identite={"nom_usage": usage, "lieu_naissance": lieu})
        reg.completer_identite(conn, nom_naissance=nom, prenom=prenom, date_naissance=born,
                               sexe=sexe, code_insee_naissance=insee, pays_naissance=pays)
        numero, _ = reg.certificat(conn, session_id=sid, nom_naissance=nom, prenom=prenom,
                                   date_naissance=born, referentiel="CPECOM",
                                   date_delivrance=delivre or day + dt.timedelta(days=2))
    return numero


def passages(path: Path) -> dict[str, etree._Element]:
    """The passages of a written flux, reopened, by idTechnique."""
    root = etree.parse(str(path)).getroot()
    return {p.findtext("cpf:idTechnique", namespaces=Q): p
            for p in root.iterfind(".//cpf:passageCertification", Q)}


def field(passage: etree._Element, name: str) -> str | None:
    node = passage.find(f".//cpf:{name}", Q)
    if node is None:
        return None
    return "nil" if node.get(f"{{{XSI}}}nil") == "true" else node.text


# --- the schema ---------------------------------------------------------------------------


def test_example_flux_of_the_cdc_validates() -> None:
    """The CDC's own example passes the validation every flux goes through."""
    assert validate_flux(EXEMPLE.read_bytes()) == []


def test_shipped_schema_is_the_reference_one() -> None:
    """The tool carries the CDC's XSD itself, identical to the reference copy."""
    assert XSD_PATH.parent.name == "accrochage" and XSD_PATH.is_file()
    reference = FIXTURES / "accrochage" / "cpf-pc5-flux-v2.0.0.xsd"
    assert XSD_PATH.read_bytes() == reference.read_bytes()


def test_schema_errors_name_the_passage_and_the_field() -> None:
    """A bad sex and a missing birth name are each tied to their passage and element."""
    text = EXEMPLE.read_text(encoding="utf-8")
    text = text.replace("<cpf:sexe>M</cpf:sexe>", "<cpf:sexe>X</cpf:sexe>", 1)
    last = text.rindex("<cpf:nomNaissance>Dupont</cpf:nomNaissance>")
    text = text[:last] + text[last:].replace("<cpf:nomNaissance>Dupont</cpf:nomNaissance>", "", 1)
    errors = validate_flux(text.encode("utf-8"))
    by_element = {e.element: e for e in errors}
    assert by_element["sexe"].id_technique == "db855769-bcd6-4253-93cf-e666db666c0a"
    assert by_element["sexe"].libelle == "sexe"
    missing = [e for e in errors if "nomNaissance" in e.message]
    assert missing and missing[0].id_technique == "0785a873-acf7-4632-ad7b-b11cfff05b13"


def test_not_xml_is_one_error() -> None:
    errors = validate_flux(b"<cpf:flux")
    assert len(errors) == 1 and "XML illisible" in errors[0].message


# --- identity -----------------------------------------------------------------------------


@pytest.mark.parametrize(("saisie", "code"), [
    ("Sénégal", "341"), ("senegal", "341"), ("ESPAGNE", "134"), ("99134", "134"), ("109", "109"),
    ("États-Unis", "404"), ("Cote d'Ivoire", "326"), ("Royaume-Uni", "132"), ("Wakanda", None),
    ("99999", None), ("12", None),
])
def test_country_codes(saisie: str, code: str | None) -> None:
    assert code_pays(saisie) == code


def test_first_names_split_on_commas_only() -> None:
    """« Anne Sophie » may be one compound first name; commas separate first names."""
    assert prenoms("Jean-Pierre, Marie ;Luc") == ("Jean-Pierre", "Marie", "Luc")
    assert prenoms("Anne Sophie") == ("Anne Sophie",)
    assert prenoms(" ") == ()


def ident(**changes: object) -> tuple[Titulaire | None, list[str]]:
    values: dict[str, object] = {
        "nom_naissance": "Lefèvre", "prenom": "Élodie", "date_naissance": dt.date(1990, 4, 3),
        "sexe": "F", "code_insee_naissance": "44109", "pays_naissance": "",
        "lieu_naissance": "Nantes", "nom_usage": ""}
    values.update(changes)
    return verifier_identite(**values)  # type: ignore[arg-type]


def test_complete_identity_born_in_france() -> None:
    titulaire, manques = ident()
    assert manques == []
    assert titulaire is not None and titulaire.lieu.code_insee == "44109"
    assert titulaire.lieu.libelle_pays == "France" and titulaire.lieu.code_pays == ""


@pytest.mark.parametrize("code", ["2A004", "2b033", "97411", "75056"])
def test_insee_codes_accepted(code: str) -> None:
    titulaire, manques = ident(code_insee_naissance=code)
    assert manques == [] and titulaire is not None
    assert titulaire.lieu.code_insee == code.upper()


def test_born_abroad_by_name_or_code() -> None:
    titulaire, manques = ident(code_insee_naissance="", pays_naissance="Maroc",
                               lieu_naissance="Casablanca")
    assert manques == [] and titulaire is not None
    assert (titulaire.lieu.code_insee, titulaire.lieu.code_pays) == ("99350", "350")
    assert titulaire.lieu.libelle_pays == "Maroc"
    assert titulaire.lieu.libelle_commune == "Casablanca"
    titulaire, manques = ident(code_insee_naissance="99109", pays_naissance="")
    assert manques == [] and titulaire is not None and titulaire.lieu.code_pays == "109"


@pytest.mark.parametrize(("changes", "attendu"), [
    ({"nom_naissance": ""}, "nom de naissance manquant"),
    ({"nom_naissance": "Dupont2"}, "nom de naissance « Dupont2 » mal formé"),
    ({"nom_naissance": "A" * 61}, "trop long (61 caractères, 60 au plus)"),
    ({"prenom": ""}, "prénom manquant"),
    ({"sexe": ""}, "sexe manquant"),
    ({"sexe": "Madame"}, "sexe « MADAME » : F ou M attendu"),
    ({"date_naissance": None}, "date de naissance manquante"),
    ({"date_naissance": dt.date(1899, 12, 31)}, "hors des années 1900 à 2099"),
    ({"code_insee_naissance": "", "pays_naissance": ""}, "lieu de naissance manquant"),
    ({"code_insee_naissance": "6912"}, "« 6912 » mal formé"),
    ({"code_insee_naissance": "", "pays_naissance": "France"}, "code INSEE de la commune de "
     "naissance manquant"),
    ({"code_insee_naissance": "", "pays_naissance": "Atlantide"}, "« Atlantide » inconnu"),
    ({"pays_naissance": "Espagne"}, "pas les deux"),
    ({"code_insee_naissance": "99134", "pays_naissance": "Maroc"}, "ne concordent pas"),
])
def test_identity_problems_are_named(changes: dict[str, object], attendu: str) -> None:
    titulaire, manques = ident(**changes)
    assert titulaire is None
    assert any(attendu in m for m in manques), manques


def test_every_problem_of_one_holder_is_listed() -> None:
    _, manques = ident(sexe="", code_insee_naissance="", date_naissance=None)
    assert len(manques) == 3


# --- export -------------------------------------------------------------------------------


def test_generated_flux_validates_with_accents_compound_names_and_foreign_births(
        tmp_path: Path) -> None:
    """Holders with accents, compound names, a usage name, births abroad and in Corsica: the
    flux written validates with the same code as the CDC's example and says what it should."""
    root = make_workspace(tmp_path / "espace")
    a = certify(root, "Lefèvre", "Élodie, Marie", dt.date(1990, 4, 3), insee="44109",
                lieu="Nantes")
    b = certify(root, "N'Diaye", "Moussa", dt.date(1985, 11, 20), sexe="M", insee="",
                pays="Sénégal", lieu="Dakar", voie="VAE")
    c = certify(root, "Dupont-Moreau", "Anne-Sophie", dt.date(1995, 1, 31), insee="",
                pays="99134", lieu="Séville", usage="Garnier", voie="Parcours mixte")
    d = certify(root, "Santoni", "Ghjuvan Petru", dt.date(1979, 2, 28), sexe="M",
                insee="2A004", lieu="Ajaccio")
    report = exporter(ws_of(root), maintenant=dt.datetime(2026, 12, 20, 10, 15))
    assert report.fichier is not None and report.fichier.parent == root / "accrochage"
    assert report.ecartes == ()
    data = report.fichier.read_bytes()
    assert validate_flux(data) == []

    found = passages(report.fichier)
    assert set(found) == {a, b, c, d}
    assert field(found[a], "nomNaissance") == "Lefèvre"
    assert (field(found[a], "prenom1"), field(found[a], "prenom2")) == ("Élodie", "Marie")
    assert field(found[a], "nomUsage") == "nil"
    assert field(found[a], "codeInsee") == "44109"
    assert field(found[a], "libellePaysNaissance") == "France"
    assert field(found[a], "modaliteAcces") == "nil"  # « Formation » not specified in settings
    assert field(found[b], "codeInsee") == "99341"
    assert field(found[b], "codePaysNaissance") == "341"
    assert field(found[b], "libellePaysNaissance") == "Sénégal"
    assert field(found[b], "libelleCommuneNaissance") == "Dakar"
    assert field(found[b], "modaliteAcces") == "VAE"
    assert field(found[c], "nomUsage") == "Garnier"
    assert field(found[c], "prenom1") == "Anne-Sophie"
    assert field(found[c], "codeInsee") == "99134"
    assert field(found[d], "codeInsee") == "2A004"
    assert (field(found[d], "jourNaissance"), field(found[d], "moisNaissance")) == ("28", "2")
    assert field(found[a], "dateDebutExamen") == "2026-12-15"
    assert field(found[a], "dateFinExamen") == "2026-12-16"
    assert field(found[a], "codePostalCentreExamen") == "69002"
    assert field(found[a], "dateDebutValidite") == "2026-12-17"
    assert field(found[a], "dateFinValidite") == "nil"
    flux = etree.parse(str(report.fichier)).getroot()
    assert flux.findtext("cpf:horodatage", namespaces=Q).startswith("2026-12-20T10:15:00")
    assert flux.findtext(".//cpf:certification/cpf:code", namespaces=Q) == "RNCP34825"
    assert flux.findtext(".//cpf:certification/cpf:type", namespaces=Q) == "RNCP"
    with Registre(root / "registre.sqlite") as reg:
        recorded = reg.trouver_flux(empreinte=hashlib.sha256(data).hexdigest())
    assert recorded is not None
    assert recorded["fichier"] == f"accrochage/{report.fichier.name}"
    assert recorded["nombre"] == 4 and recorded["id_flux"] == report.id_flux


def test_settings_shape_access_route_and_validity(tmp_path: Path) -> None:
    """Access-route mapping, VAE route, validity period and a separate certifier id."""
    reglages = REGLAGES + ('id_client_certificateur = "E564ACB0"\n'
                           'modalite_acces_formation = "FORMATION_CONTINUE_HORS_CONTRAT_DE_'
                           'PROFESSIONNALISATION"\nvoie_acces_vae = "VAE_CLASSIQUE"\n'
                           'duree_validite_annees = 5\nmodalite_passage_examen = ""\n')
    root = make_workspace(tmp_path / "espace", reglages)
    a = certify(root, "Martin", "Paul", dt.date(1988, 1, 1), sexe="M",
                delivre=dt.date(2028, 2, 29))
    b = certify(root, "Petit", "Zoé", dt.date(1992, 3, 3), voie="VAE")
    report = exporter(ws_of(root))
    assert report.fichier is not None
    found = passages(report.fichier)
    assert field(found[a], "modaliteAcces") == (
        "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION")
    assert field(found[a], "voieAccessVAE") is None
    assert field(found[b], "voieAccessVAE") == "VAE_CLASSIQUE"
    assert field(found[a], "dateFinValidite") == "2033-02-28"
    assert field(found[a], "modalitePassageExamen") is None
    flux = etree.parse(str(report.fichier)).getroot()
    ids = [n.text for n in flux.iterfind(".//cpf:idClient", Q)]
    assert ids == ["AB123CDE", "E564ACB0"]


def test_holder_with_missing_data_is_left_out_and_listed(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "espace")
    ok = certify(root, "Lefèvre", "Élodie", dt.date(1990, 4, 3))
    incomplete = certify(root, "Roux", "Jean", dt.date(1980, 5, 6), sexe="", insee="")
    bad = certify(root, "Blanc", "Lou", dt.date(1999, 9, 9), insee="6912")
    report = exporter(ws_of(root))
    assert report.fichier is not None
    assert set(passages(report.fichier)) == {ok}
    left = {e.certificat: e for e in report.ecartes}
    assert set(left) == {incomplete, bad}
    assert left[incomplete].titulaire == "ROUX Jean"
    assert any("sexe manquant" in m for m in left[incomplete].manques)
    assert any("lieu de naissance manquant" in m for m in left[incomplete].manques)
    assert "« 6912 » mal formé" in str(left[bad])
    # Completed later (a newer session.xlsx), they are declared then, not before.
    with Registre(root / "registre.sqlite") as reg, reg.transaction() as conn:
        reg.completer_identite(conn, nom_naissance="Roux", prenom="Jean",
                               date_naissance=dt.date(1980, 5, 6), sexe="M",
                               code_insee_naissance="13055")
    again = exporter(ws_of(root))
    assert again.fichier is not None
    assert set(passages(again.fichier)) == {incomplete}
    assert [e.certificat for e in again.ecartes] == [bad]


def test_accepted_never_again_rejected_come_back_with_the_same_id(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "espace")
    a = certify(root, "Lefèvre", "Élodie", dt.date(1990, 4, 3))
    b = certify(root, "N'Diaye", "Moussa", dt.date(1985, 11, 20), sexe="M", insee="",
                pays="Sénégal")
    ws = ws_of(root)
    first = exporter(ws, maintenant=dt.datetime(2027, 1, 5, 9, 0))
    assert first.fichier is not None and set(passages(first.fichier)) == {a, b}

    waiting = exporter(ws)  # no answer yet: nothing is sent twice
    assert waiting.fichier is None
    assert {p["numero"] for p in waiting.en_attente} == {a, b}

    rejected = marquer(ws, first.fichier, acceptes=False, passages=(b,), motif="code pays")
    assert (rejected.statut, rejected.marques) == ("rejeté", 1)
    accepted = marquer(ws, first.fichier, acceptes=True)  # the rest of the flux
    assert accepted.marques == 1
    assert (accepted.compte("accepté"), accepted.compte("rejeté")) == (1, 1)

    second = exporter(ws, maintenant=dt.datetime(2027, 1, 12, 9, 0))
    assert second.fichier is not None and second.fichier != first.fichier
    assert set(passages(second.fichier)) == {b}  # same idTechnique: the certificate number
    assert second.renvoyes == (b,)
    marquer(ws, second.fichier, acceptes=True)
    third = exporter(ws)
    assert third.fichier is None and third.declares == () and third.en_attente == ()
    assert sorted(p.name for p in (root / "accrochage").iterdir()) == sorted(
        [first.fichier.name, second.fichier.name])


def test_session_and_date_filters(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "espace")
    (root / "sessions" / "s1").mkdir(parents=True)
    a = certify(root, "Lefèvre", "Élodie", dt.date(1990, 4, 3), session="sessions/s1")
    b = certify(root, "Roux", "Jean", dt.date(1980, 5, 6), sexe="M", session="sessions/s2",
                day=dt.date(2027, 3, 1))
    only = exporter(ws_of(root), session=root / "sessions" / "s1")
    assert only.fichier is not None and set(passages(only.fichier)) == {a}
    later = exporter(ws_of(root), depuis=dt.date(2027, 3, 1))
    assert later.fichier is not None and set(passages(later.fichier)) == {b}
    with pytest.raises(AccrochageError, match="session absente du registre"):
        exporter(ws_of(root), session=root / "sessions" / "inconnue")


def test_session_xlsx_completes_identity_of_a_recorded_session(tmp_path: Path) -> None:
    """A session recorded without the new columns (as results are recorded today): exporting
    with --session reads them from session.xlsx, with the exam centre's postal code."""
    root = make_workspace(tmp_path / "espace")
    rows = with_changes(CANDIDATS, 0, {"Sexe": "F", "Code INSEE de la commune de naissance":
                                       "44109"})
    rows = with_changes(rows, 1, {"Sexe": "M", "Pays de naissance": "Sénégal"})
    rows = with_changes(rows, 2, {"Sexe": "F", "Code INSEE de la commune de naissance":
                                  "2B033"})
    dossier = make_session(root / "sessions" / "s1", candidats=rows)
    numbers = [certify(root, r["Nom de naissance"], r["Prénom"], r["Date de naissance"],
                       sexe="", insee="", postal="", voie=r["Voie d'accès"],
                       usage=r.get("Nom d'usage", "")) for r in rows]
    without = exporter(ws_of(root), depuis=DAY)
    assert without.fichier is None and len(without.ecartes) == 3

    report = exporter(ws_of(root), session=dossier)
    assert report.fichier is not None and report.ecartes == ()
    assert validate_flux(report.fichier.read_bytes()) == []
    found = passages(report.fichier)
    assert set(found) == set(numbers)
    assert field(found[numbers[1]], "codeInsee") == "99341"
    assert field(found[numbers[2]], "codeInsee") == "2B033"
    assert field(found[numbers[0]], "codePostalCentreExamen") == "69002"


def test_invalid_flux_is_never_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Should a value slip through the identity checks, the XSD stops it: nothing written,
    nothing recorded, and the message names the holder and the field."""
    monkeypatch.setattr(identite_mod, "LONGUEUR_MAX", 100)
    root = make_workspace(tmp_path / "espace")
    numero = certify(root, "Delacroix-" + "Longuenom" * 7, "Marie", dt.date(1990, 1, 1))
    with pytest.raises(FluxInvalide) as caught:
        exporter(ws_of(root))
    message = str(caught.value)
    assert f"(certificat {numero})" in message and "DELACROIX-LONGUENOM" in message
    assert "nom de naissance" in message and "rien n'a été écrit" in message
    assert not (root / "accrochage").exists()
    with Registre(root / "registre.sqlite") as reg:
        assert reg.certificats_en_attente() == []
        assert [r["numero"] for r in reg.certificats_a_declarer()] == [numero]


def test_referentiel_without_rncp_number_leaves_its_holders_out(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "espace", rncp=None)
    certify(root, "Lefèvre", "Élodie", dt.date(1990, 4, 3))
    report = exporter(ws_of(root))
    assert report.fichier is None
    assert "numéro de fiche RNCP ou RS inconnu" in str(report.ecartes[0])
    assert "certification.rncp" in str(report.ecartes[0])


def test_existing_output_is_never_replaced(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "espace")
    certify(root, "Lefèvre", "Élodie", dt.date(1990, 4, 3))
    target = root / "flux.xml"
    target.write_text("déjà là", encoding="utf-8")
    with pytest.raises(AccrochageError, match="jamais remplacé"):
        exporter(ws_of(root), sortie=target)
    assert target.read_text(encoding="utf-8") == "déjà là"


def test_nothing_to_declare_without_a_register(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "espace")
    report = exporter(ws_of(root))
    assert report.fichier is None and report.declares == ()
    assert not (root / "registre.sqlite").exists()


# --- marking ------------------------------------------------------------------------------


def test_marking_finds_a_moved_flux_by_name_or_an_edited_one_by_id(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "espace")
    a = certify(root, "Lefèvre", "Élodie", dt.date(1990, 4, 3))
    ws = ws_of(root)
    report = exporter(ws)
    assert report.fichier is not None
    edited = report.fichier.read_text(encoding="utf-8").replace("  ", " ")
    copy = tmp_path / "copie.xml"
    copy.write_text(edited, encoding="utf-8")
    assert marquer(ws, copy, acceptes=False).marques == 1
    report.fichier.unlink()
    assert marquer(ws, Path("accrochage") / report.fichier.name, acceptes=True,
                   passages=(a,)).compte("accepté") == 1
    stranger = tmp_path / "autre.xml"
    stranger.write_bytes(EXEMPLE.read_bytes())
    with pytest.raises(AccrochageError, match="aucun flux exporté"):
        marquer(ws, stranger, acceptes=True)
    with pytest.raises(AccrochageError, match="absent"):
        marquer(ws, copy, acceptes=True, passages=("CPECOM-1999-00001",))


# --- settings -----------------------------------------------------------------------------


def test_missing_settings_are_named(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "espace", reglages="")
    with pytest.raises(AccrochageReglagesInvalides) as caught:
        exporter(ws_of(root))
    message = str(caught.value)
    assert str(root / "certidocs.toml") in message
    assert "[accrochage] id_client_emetteur : réglage manquant" in message
    assert "[accrochage] id_contrat : réglage manquant" in message


@pytest.mark.parametrize(("ligne", "attendu"), [
    ('id_client_emetteur = "AB12"', "[accrochage] id_client_emetteur : « AB12 » : 8 lettres"),
    ('id_client_certificateur = "E564-CB0"', "[accrochage] id_client_certificateur"),
    ('id_contrat = "' + "9" * 21 + '"', "[accrochage] id_contrat"),
    ('nature_deposant = "MOI"', "« MOI » n'est pas une valeur admise"),
    ('modalite_acces_formation = "APPRENTISSAGE"', "[accrochage] modalite_acces_formation"),
    ("duree_validite_annees = -1", "[accrochage] duree_validite_annees"),
    ("id_contrat = 12", "[accrochage] id_contrat : un texte entre guillemets est attendu"),
    ('dossier = "../ailleurs"', "[accrochage] dossier"),
])
def test_ill_formed_settings_are_named(tmp_path: Path, ligne: str, attendu: str) -> None:
    key = ligne.split(" =")[0]
    kept = "\n".join(line for line in REGLAGES.splitlines() if not line.startswith(key))
    root = make_workspace(tmp_path / "espace", reglages=f"{kept}\n{ligne}\n")
    with pytest.raises(AccrochageReglagesInvalides) as caught:
        exporter(ws_of(root))
    assert attendu in str(caught.value)


# --- register -----------------------------------------------------------------------------


def test_version_1_register_is_migrated_keeping_its_certificates(tmp_path: Path) -> None:
    path = tmp_path / "registre.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[1])
    conn.execute("INSERT INTO candidats (cle, nom_naissance, prenom) VALUES ('K', 'Roux', 'Jean')")
    conn.execute("INSERT INTO sessions (cle, nom, referentiel) VALUES ('s', 's', 'CPECOM')")
    conn.execute("INSERT INTO certificats (numero, referentiel, annee, rang, candidat_id, "
                 "session_id, date_delivrance) VALUES ('CPECOM-2026-00001', 'CPECOM', 2026, 1, "
                 "1, 1, '2026-12-17')")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with Registre(path) as reg:
        assert reg.version == SCHEMA_VERSION == 4
        rows = reg.certificats_a_declarer()
    assert [(r["numero"], r["sexe"], r["deja_rejete"]) for r in rows] == [
        ("CPECOM-2026-00001", "", 0)]


# --- command line -------------------------------------------------------------------------


def test_cli_export_and_mark(tmp_path: Path, cli_runner: CliRunner,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_workspace(tmp_path / "espace")
    a = certify(root, "Lefèvre", "Élodie", dt.date(1990, 4, 3))
    monkeypatch.chdir(root)
    result = cli_runner.invoke(main, ["accrochage", "exporter", "-o", "flux.xml"])
    assert result.exit_code == 0, result.output
    assert "Flux écrit : flux.xml" in result.output
    assert f"{a}  LEFÈVRE Élodie" in result.output
    assert "certidocs accrochage marquer flux.xml --acceptes" in result.output

    result = cli_runner.invoke(main, ["accrochage", "exporter"])
    assert result.exit_code == 0
    assert "Aucun certificat à déclarer" in result.output
    assert "1 certificat(s) en attente de la réponse" in result.output

    result = cli_runner.invoke(main, ["accrochage", "marquer", "flux.xml", "--rejetes",
                                      "--motif", "code INSEE inconnu"])
    assert result.exit_code == 0
    assert "1 passage(s) marqué(s) « rejeté »" in result.output
    assert "proposés au prochain" in result.output

    result = cli_runner.invoke(main, ["accrochage", "exporter", "-o", "flux-2.xml"])
    assert result.exit_code == 0
    assert "dont 1 refusé(s) auparavant et renvoyé(s)" in result.output
    result = cli_runner.invoke(main, ["accrochage", "marquer", "flux-2.xml", "--acceptes"])
    assert result.exit_code == 0
    assert "1 accepté(s), 0 refusé(s), 0 en attente" in result.output


def test_cli_left_out_holders_exit_1(tmp_path: Path, cli_runner: CliRunner,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_workspace(tmp_path / "espace")
    certify(root, "Lefèvre", "Élodie", dt.date(1990, 4, 3))
    certify(root, "Roux", "Jean", dt.date(1980, 5, 6), sexe="")
    monkeypatch.chdir(root)
    result = cli_runner.invoke(main, ["accrochage", "exporter"])
    assert result.exit_code == 1
    assert "Flux écrit : " in result.stdout
    assert "écarté : ROUX Jean (certificat CPECOM-2026-00002) : sexe manquant" in result.stderr
    assert "1 titulaire(s) écarté(s), non déclaré(s)" in result.stderr
    assert "Traceback" not in result.output


def test_cli_errors(tmp_path: Path, cli_runner: CliRunner,
                    monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_workspace(tmp_path / "espace", reglages="[accrochage]\n")
    monkeypatch.chdir(root)
    result = cli_runner.invoke(main, ["accrochage", "exporter"])
    assert result.exit_code == 1
    assert "Erreur : " in result.stderr
    assert "[accrochage] id_client_emetteur : réglage manquant" in result.stderr

    result = cli_runner.invoke(main, ["accrochage", "exporter", "--depuis", "32/13/2026"])
    assert result.exit_code == 2
    assert "« 32/13/2026 » n'est pas une date" in result.stderr
    result = cli_runner.invoke(main, ["accrochage", "exporter", "--session", ".", "--depuis",
                                      "01/01/2026"])
    assert result.exit_code == 2
    assert "ne vont pas ensemble" in result.stderr
    result = cli_runner.invoke(main, ["accrochage", "marquer", "flux.xml"])
    assert result.exit_code == 2
    assert "--acceptes ou --rejetes" in result.stderr
    result = cli_runner.invoke(main, ["accrochage", "marquer", "flux.xml", "--acceptes"])
    assert result.exit_code == 1
    assert "aucun flux exporté" in result.stderr


def test_api_reports_a_bad_date_in_french(tmp_path: Path) -> None:
    make_workspace(tmp_path / "espace")
    with pytest.raises(AccrochageError, match="--depuis : « hier » n'est pas une date"):
        api.exporter_accrochage(depuis="hier", espace=tmp_path / "espace")


def test_demo_session_flux_validates(tmp_path: Path) -> None:
    """The demo session's certified holders (accents, Vietnamese and Corsican names, births
    in Senegal and Ireland), recorded as `certidocs resultats` does today — without the new
    identity columns — then exported with --session: all declared, the flux valid."""
    sample = ROOT / "samples" / "session-2026-12"
    if not (sample / "session.xlsx").is_file():
        pytest.skip("session de démonstration absente (samples/session-2026-12)")
    demo = yaml.safe_load((ROOT / "samples" / "demo.yaml").read_text(encoding="utf-8"))
    certified = {n for n, v in demo["jurys_simules"].items() if v.get("attendu") == "Certifié"}
    root = make_workspace(tmp_path / "espace")
    dossier = root / "sessions" / sample.name
    shutil.copytree(sample, dossier)
    session = read_session(dossier).session
    info = session.info
    with Registre(root / "registre.sqlite") as reg, reg.transaction() as conn:
        sid = reg.session_id(conn, f"sessions/{sample.name}", session.nom, "CPECOM",
                             info.date_debut, info.date_fin, info.lieu)
        for c in session.candidats:
            if c.numero not in certified:
                continue
            reg.enregistrer_passage(
                conn, session_id=sid, nom_naissance=c.nom_naissance, prenom=c.prenom,
                date_naissance=c.date_naissance, numero=c.numero, referentiel="CPECOM",
                date_session=info.date_debut, voie_acces=c.voie_acces, decision="Certifié",
                detail={}, blocs_valides=[],
                identite={"nom_usage": c.nom_usage, "lieu_naissance": c.lieu_naissance,
                          "email": c.email})
            reg.certificat(conn, session_id=sid, nom_naissance=c.nom_naissance,
                           prenom=c.prenom, date_naissance=c.date_naissance,
                           referentiel="CPECOM", date_delivrance=dt.date(2026, 12, 18))
    report = exporter(ws_of(root), session=dossier)
    assert report.ecartes == ()
    assert report.fichier is not None
    assert validate_flux(report.fichier.read_bytes()) == []
    found = passages(report.fichier)
    assert len(found) == len(certified)
    names = {field(p, "nomNaissance") for p in found.values()}
    assert {"Lefèvre", "N'Diaye", "Nguyễn", "Müller"} <= names
    assert {field(p, "codePostalCentreExamen") for p in found.values()} == {"69002"}


@pytest.mark.parametrize(("adresse", "code"), [
    ("Centre Exemple, 12 rue de la République, 69002 Lyon", "69002"),
    ("BP 12345, 75009 Paris", "75009"), ("Salle B, Lyon", ""), ("", ""),
])
def test_exam_centre_postal_code(adresse: str, code: str) -> None:
    assert code_postal(adresse) == code
