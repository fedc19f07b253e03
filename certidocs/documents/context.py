"""What each Word template can print: model objects turned into plain, printable data.

Every value a template sees is a string, a number, a boolean, a list or a dict of those (plus
``Image`` for the logo and the QR code, placed by the renderer), so that a template never
reaches into Python objects and ``templates/LISEZMOI.md`` can list every variable. Dates are
already in French, names already in the forms a letter needs (« Madame Élodie MARTIN »).

Each ``contexte_*`` function gives the complete context of one document type: the common part
(``contexte_commun``) plus what that document is about. They are pure: no file is read, except
that the logo's path is checked, so that a wrong setting is reported before anything renders.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from certidocs.documents.dates import (
    date_courte,
    date_jour,
    date_texte,
    heure_fr,
    periode,
    pourcentage,
)
from certidocs.documents.images import pixels
from certidocs.errors import DocumentError
from certidocs.model import (
    ABSENT,
    CERTIFIE,
    INCOMPLET,
    NON_CERTIFIE,
    VALIDATION_PARTIELLE,
    Candidat,
    Dysfonctionnement,
    Epreuve,
    Jure,
    Recours,
    Referentiel,
    Resultat,
    ResultatBloc,
    Session,
)

Context = dict[str, Any]

LOGO_HAUTEUR_MM = 12.0
QR_LARGEUR_MM = 28.0


@dataclass(frozen=True)
class CertificatInfo:
    """What the register decided for one certificate: its number, code, date and place."""

    numero: str
    code_verification: str
    date_delivrance: date
    lieu: str
    jeton: str = ""  # the Ed25519-signed token the QR code carries (certidocs.signature)


@dataclass(frozen=True)
class Image:
    """An image a template prints where it uses the variable (the logo, a QR code).

    ``source`` is a file path, PNG/JPEG bytes, or a function that returns them: called only
    if the template prints the image (a QR code costs milliseconds to draw, and most result
    letters do not print the certificate's); give a width or a height (the other follows the
    image's proportions).
    """

    source: Path | bytes | Callable[[], bytes]
    largeur_mm: float | None = None
    hauteur_mm: float | None = None


@dataclass(frozen=True)
class TypeDocument:
    """One kind of document: its template, what it is made for and when it is due.

    ``par`` is « candidat », « jure » or « recours » (one document each) or « session » (one
    document for the whole session); ``etape`` is « avant » (before the exam) or « apres ».
    """

    nom: str
    modele: str
    par: str
    etape: str
    libelle: str


def _type(nom: str, par: str, etape: str, libelle: str) -> tuple[str, TypeDocument]:
    return nom, TypeDocument(nom, f"{nom}.docx", par, etape, libelle)


TYPES: Mapping[str, TypeDocument] = dict([
    _type("convocation_candidat", "candidat", "avant", "Convocation du candidat"),
    _type("convocation_jury", "jure", "avant", "Convocation du jury"),
    _type("emargement", "session", "avant", "Feuille d'émargement"),
    _type("fiche_resultats", "candidat", "apres", "Fiche individuelle de résultats"),
    _type("proces_verbal", "session", "apres", "Procès-verbal de session"),
    _type("certificat", "candidat", "apres", "Certificat"),
    _type("attestation_blocs", "candidat", "apres",
          "Attestation de validation de blocs de compétences"),
    _type("notification_resultats", "candidat", "apres", "Notification de résultats"),
    _type("non_recevabilite", "recours", "apres", "Notification de non-recevabilité"),
    _type("suivi_dysfonctionnements", "session", "apres", "Fiche de suivi des dysfonctionnements"),
])
"""Every document type, in the order a session produces them."""


def verifier_candidats_connus(session: Session, resultats: Iterable[Resultat],
                              source: str) -> None:
    """DocumentError when a decision (from ``source``: the register, resultats.json) or a
    recours names a candidate number session.xlsx no longer holds: nothing can be addressed
    to a person whose identity is gone, and the documents of the others must not go out as if
    the session were complete."""
    connus = {c.numero for c in session.candidats}
    manquants = [f"n° {r.numero} ({r.prenom} {r.nom})".replace(" ()", "")
                 for r in resultats if r.numero not in connus]
    recours = [f"n° {rec.numero}" for rec in session.recours if rec.numero not in connus]
    problemes = []
    if manquants:
        problemes.append(f"{source} donne une décision pour {len(manquants)} candidat(s) "
                         f"absent(s) de la feuille « Candidats » de session.xlsx : "
                         f"{', '.join(manquants[:10])}{' …' if len(manquants) > 10 else ''}")
    if recours:
        problemes.append(f"la feuille « Recours » de session.xlsx nomme des candidats absents "
                         f"de la feuille « Candidats » : {', '.join(recours[:10])}")
    if problemes:
        raise DocumentError(" ; ".join(problemes) + ". Rétablissez la ligne de chaque candidat "
                            "dans session.xlsx (un candidat jugé ne se retire pas de la "
                            "session), ou corrigez son numéro ; aucun document n'a été écrit.")


def concerne(type_nom: str, resultat: Resultat | None = None,
             recours: Recours | None = None) -> bool:
    """Whether a per-candidate (or per-recours) document is due for this outcome.

    Fiche and notification: every candidate with a decision (an « Incomplet » grid has none
    yet; an absent candidate is notified, the fiche would be empty). Certificate: « Certifié ».
    Attestation: some bloc validated without the whole certification. Non-recevabilité: a
    recours judged « Non recevable ». Documents made before the exam concern everyone.
    """
    kind = TYPES[type_nom]
    if kind.etape == "avant" or kind.par == "session":
        return True
    if kind.par == "recours":
        return recours is not None and recours.decision == "Non recevable"
    if resultat is None:
        return False
    decision = resultat.decision
    if type_nom == "certificat":
        return decision == CERTIFIE
    if type_nom == "attestation_blocs":
        return decision in (VALIDATION_PARTIELLE, NON_CERTIFIE) and any(
            b.valide for b in resultat.blocs)
    if type_nom == "fiche_resultats":
        return decision in (CERTIFIE, VALIDATION_PARTIELLE, NON_CERTIFIE)
    return decision in (CERTIFIE, VALIDATION_PARTIELLE, NON_CERTIFIE, ABSENT)


# --- small conversions ----------------------------------------------------------------------


def _t(value: object) -> str:
    """A printable string: control characters (Excel's _x000B_ line tabs…) cannot go in XML."""
    if value is None:
        return ""
    text = str(value).strip()
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")


def _upper(text: str) -> str:
    # French capitals keep their accents (Académie française, Imprimerie nationale).
    return text.upper()


def _oui_non(value: bool | None) -> str:
    return "" if value is None else ("Oui" if value else "Non")


def civilite(value: str) -> str:
    """« Madame », « Monsieur » or "" from what office staff type (Mme, M., Mlle, Monsieur…)."""
    key = value.strip().lower().rstrip(".")
    if key in ("madame", "mme", "mlle", "mademoiselle", "mme.", "f"):
        return "Madame"
    if key in ("monsieur", "m", "mr", "h"):
        return "Monsieur"
    return ""


def _civilite_forms(value: str) -> dict[str, str]:
    civ = civilite(value)
    if civ == "Madame":
        return {"civilite": civ, "civilite_abregee": "Mme", "appel": "Madame",
                "salutation": "Madame,", "ne": "née", "e": "e"}
    if civ == "Monsieur":
        return {"civilite": civ, "civilite_abregee": "M.", "appel": "Monsieur",
                "salutation": "Monsieur,", "ne": "né", "e": ""}
    return {"civilite": "", "civilite_abregee": "", "appel": "Madame, Monsieur",
            "salutation": "Madame, Monsieur,", "ne": "né(e)", "e": "(e)"}


# --- pieces of context ----------------------------------------------------------------------


def organisme_depuis_config(config: Mapping[str, Any], racine: Path) -> dict[str, Any]:
    """The ``organisme`` argument of the context builders from a parsed certidocs.toml.

    Keeps the [organisme], [signataire], [certificats] and [recours] sections and makes the
    logo path absolute (certidocs.toml gives it relative to the workspace folder ``racine``).
    """
    sections = {key: dict(config.get(key) or {}) for key in
                ("organisme", "signataire", "certificats", "recours")}
    logo = _t(sections["organisme"].get("logo"))
    if logo and not Path(logo).is_absolute():
        sections["organisme"]["logo"] = str(racine / logo)
    return sections


MAX_LOGO_BYTES = 10 * 1024 * 1024
"""Largest logo file: 10 MB. The logo is copied into every document (a session's hundreds of
letters, and each merged print file); a photograph straight from a camera (20 MB and more)
would make every document that heavy. A logo of a few hundred kilobytes prints sharp."""

IMAGE_FORMATS = "PNG, JPEG, GIF, BMP ou TIFF"


def _logo(path_text: str) -> Image | str:
    if not path_text:
        return ""
    path = Path(path_text)
    setting = "certidocs.toml, [organisme] logo"
    try:
        size = path.stat().st_size
        if size > MAX_LOGO_BYTES:
            raise DocumentError(
                f"{setting} : {path} pèse {size / 1024 / 1024:.1f} Mo, plus que les "
                f"{MAX_LOGO_BYTES // 1024 // 1024} Mo permis (il est copié dans chaque "
                "document) ; enregistrez-le en plus petit (quelques centaines de pixels de "
                "large suffisent) et indiquez ce fichier")
        data = path.read_bytes()
    except OSError:
        raise DocumentError(
            f"{setting} : le fichier {path} est introuvable ou illisible ; "
            "corrigez le chemin ou laissez logo vide") from None
    try:
        pixels(data)
    except ValueError:
        raise DocumentError(
            f"{setting} : {path} n'est pas une image que Word sait afficher ({IMAGE_FORMATS}) ; "
            "ouvrez-la dans un logiciel d'images et enregistrez-la en PNG ou JPEG") from None
    return Image(path, hauteur_mm=LOGO_HAUTEUR_MM)


def _bloc_titles(referentiel: Referentiel) -> dict[str, str]:
    return {b.code: b.intitule for b in referentiel.blocs}


def _mention_rncp(rncp: str, niveau: str, date_effet: str = "") -> str:
    decision = (f", par décision de France compétences en date du {date_effet}"
                if date_effet else "")
    if rncp.startswith("RS"):
        register = "au Répertoire spécifique (RS)"
    else:
        register = "au Répertoire national des certifications professionnelles (RNCP)"
    if rncp and niveau:
        return (f"enregistrée {register} sous le numéro {rncp}{decision}, niveau {niveau} du "
                f"cadre national des certifications professionnelles")
    if rncp:
        return f"enregistrée {register} sous le numéro {rncp}{decision}"
    if niveau:
        return f"de niveau {niveau} du cadre national des certifications professionnelles"
    return ""


def _mention_niveau(niveau: str, europeen: str) -> str:
    if not niveau:
        return ""
    if europeen:
        return (f"Niveau {niveau} du cadre national des certifications professionnelles "
                f"(niveau {europeen} du cadre européen des certifications)")
    return f"Niveau {niveau} du cadre national des certifications professionnelles"


def _codes_nsf(cert: Any) -> list[str]:
    codes = [_t(c) for c in cert.codes_nsf if _t(c)]
    nsf = _t(cert.nsf)
    if nsf and nsf not in codes:
        codes.insert(0, nsf)
    return codes


_BC = re.compile(r"^BC\d{2}$")


def code_officiel(code: str, rncp: str) -> str:
    """A bloc's official code (« RNCP35340BC01 »): the code itself when it is one, the fiche's
    number + « BC01 » for a bloc numbered like France compétences, else "" (unknown)."""
    if re.match(r"^(RNCP|RS)\d+BC\d+$", code):
        return code
    if rncp and _BC.match(code):
        return f"{rncp}{code}"
    return ""


DEFAUT_ORGANISME = "Organisme certificateur"
DEFAUT_FONCTION = "Le directeur"


def date_du_document(session: Session, type_nom: str, explicit: date | None = None) -> date:
    """The one dating rule of every document.

    Given explicitly (the certificate's date of issue, a recours' decision), that date.
    Convocations: the day they are sent (« Date d'envoi des convocations »), else today.
    Every document of after the exam: the deliberation date (else the last day of the
    session), never today: the jury decides on that day, and a letter dated before it would
    announce a decision not yet taken.
    """
    if explicit is not None:
        return explicit
    info = session.info
    kind = TYPES.get(type_nom)
    if kind is not None and kind.etape == "apres":
        return info.date_deliberation or info.date_fin or info.date_debut or date.today()
    if type_nom.startswith("convocation") and info.date_envoi_convocations:
        return info.date_envoi_convocations
    return date.today()


def designation(intitule_certification: str, intitule_session: str) -> str:
    """« « Chef de projet », session « décembre 2026 » », or the session's title alone,
    quoted, when it already names the certification (never the title twice in a sentence)."""
    if intitule_certification and (intitule_certification.casefold()
                                   in intitule_session.casefold()):
        return f"« {intitule_session} »"
    return f"« {intitule_certification} », session « {intitule_session} »"


def sous_titre(intitule_certification: str, intitule_session: str) -> str:
    """« Certification – session » without saying the certification twice when the session's
    title already names it (« Chef de projet e-commerce — session de décembre 2026 »)."""
    if not intitule_session:
        return intitule_certification
    if intitule_certification and (intitule_certification.casefold()
                                   in intitule_session.casefold()):
        return intitule_session
    return " – ".join(x for x in (intitule_certification, intitule_session) if x)


def _qualite(j: Jure, civ: str) -> str:
    if not j.president:
        return _t(j.college) or "Membre du jury"
    return {"Madame": "Présidente du jury", "Monsieur": "Président du jury"}.get(
        civ, "Président(e) du jury")


def _jure(j: Jure) -> Context:
    prenom, nom = _t(j.prenom), _t(j.nom)
    college = _t(j.college)
    forms = _civilite_forms(j.civilite)
    nom_complet = f"{prenom} {_upper(nom)}".strip()
    return {
        "nom": nom,
        "prenom": prenom,
        "nom_complet": nom_complet,
        **forms,
        "identite": f"{forms['civilite']} {nom_complet}".strip(),
        "email": _t(j.email),
        "fonction": _t(j.fonction),
        "organisme": _t(j.organisme),
        "college": college,
        "externe": _oui_non(j.externe),
        "president": j.president,
        "qualite": _qualite(j, forms["civilite"]),
        "date_session_information": date_texte(j.date_session_information),
    }


def nom_et_qualite(j: Jure) -> str:
    """« Anne ROUX – Présidente du jury »: how a juror signs a grid or a PV."""
    value = _jure(j)
    return f"{value['nom_complet']} – {value['qualite']}"


def _jure_vide() -> Context:
    return _jure(Jure(nom="", prenom=""))


def _epreuve(e: Epreuve) -> Context:
    heure, salle = heure_fr(_t(e.heure)), _t(e.salle)
    parts = [date_courte(e.date), heure, _t(e.epreuve), f"salle {salle}" if salle else ""]
    return {"epreuve": _t(e.epreuve), "date": date_jour(e.date), "date_courte": date_courte(e.date),
            "heure": heure, "salle": salle, "resume": ", ".join(p for p in parts if p)}


def lieu_naissance(c: Candidat) -> str:
    """« Lyon », or « Dakar (Sénégal) » for a place abroad: a town alone reads as French."""
    from certidocs.accrochage.pays import FRANCE, code_pays, nom_pays

    lieu, pays = _t(c.lieu_naissance), _t(c.pays_naissance)
    code = code_pays(pays) if pays else None
    if not pays or code == FRANCE:
        return lieu
    name = (nom_pays(code) if code else None) or pays
    if not lieu:
        return name
    return lieu if name.casefold() in lieu.casefold() else f"{lieu} ({name})"


def _candidat(c: Candidat, referentiel: Referentiel, session: Session) -> Context:
    titles = _bloc_titles(referentiel)
    nom_naissance, nom_usage, prenom = _t(c.nom_naissance), _t(c.nom_usage), _t(c.prenom)
    nom = nom_usage or nom_naissance
    forms = _civilite_forms(c.civilite)
    nom_complet = f"{prenom} {_upper(nom)}".strip()
    return {
        "numero": _t(c.numero),
        **forms,
        "nom": nom,
        "nom_majuscules": _upper(nom),
        "nom_naissance": nom_naissance,
        "nom_naissance_majuscules": _upper(nom_naissance),
        "nom_usage": nom_usage,
        "nom_usage_majuscules": _upper(nom_usage),
        "prenom": prenom,
        "nom_complet": nom_complet,
        "identite": f"{forms['civilite']} {nom_complet}".strip(),
        "date_naissance": date_texte(c.date_naissance),
        "date_naissance_courte": date_courte(c.date_naissance),
        "lieu_naissance": lieu_naissance(c),
        "email": _t(c.email),
        "adresse": _t(c.adresse),
        "code_postal": _t(c.code_postal),
        "ville": _t(c.ville),
        "voie_acces": _t(c.voie_acces),
        "presence": _t(c.presence),
        "formateur_tuteur": _t(c.formateur_tuteur),
        "blocs": [{"code": code, "intitule": titles.get(code, "")}
                  for code in c.blocs(referentiel)],
        "epreuves": [_epreuve(e) for e in session.planning if e.numero == c.numero],
    }


def _bloc_resultat(b: ResultatBloc, titles: Mapping[str, str], rncp: str = "") -> Context:
    etat = ("Validé (capitalisé)" if b.capitalise
            else "Validé" if b.valide else "Non validé")
    return {
        "code": b.code,
        "code_officiel": code_officiel(b.code, rncp) or b.code,
        # a bloc capitalised earlier was not evaluated now: no « 0 / 0 »
        "acquis_sur_total": f"{b.acquis} / {b.total}" if b.total else "—",
        "intitule": titles.get(b.code, ""),
        "acquis": b.acquis,
        "total": b.total,
        "taux": pourcentage(b.acquis / b.total) if b.total else "",
        "valide": b.valide,
        "capitalise": b.capitalise,
        "etat": etat,
        "detail": f"{b.acquis}/{b.total} – {pourcentage(b.acquis / b.total)}" if b.total else "",
    }


def _observations(referentiel: Referentiel, notes: Mapping[str, str]) -> list[Context]:
    """The jurors' observations, in the référentiel's order: ``bloc``, ``critere``, ``texte``."""
    if not notes:
        return []
    out = []
    for bloc in referentiel.blocs:
        for critere in bloc.criteres:
            text = _t(notes.get(critere.code))
            if text:
                out.append({"bloc": bloc.code, "critere": critere.code, "texte": text})
    return out


def _resultat(r: Resultat | None, referentiel: Referentiel,
              observations: Mapping[str, str] | None = None) -> Context:
    if r is None:
        r = Resultat(numero="", nom="", prenom="", decision="")
    titles = _bloc_titles(referentiel)
    rncp = _t(referentiel.certification.rncp)
    blocs = [_bloc_resultat(b, titles, rncp) for b in r.blocs]
    notes = _observations(referentiel, observations or {})
    for b in blocs:
        b["observations"] = [n for n in notes if n["bloc"] == b["code"]]
    counted = [b for b in r.blocs if not b.capitalise]
    acquis = sum(b.acquis for b in counted)
    total = sum(b.total for b in counted)
    return {
        "decision": r.decision,
        "certifie": r.decision == CERTIFIE,
        "partiel": r.decision == VALIDATION_PARTIELLE,
        "non_certifie": r.decision == NON_CERTIFIE,
        "absent": r.decision == ABSENT,
        "incomplet": r.decision == INCOMPLET,
        "blocs": blocs,
        "blocs_valides": [b for b in blocs if b["valide"]],
        "blocs_non_valides": [b for b in blocs if not b["valide"]],
        "blocs_capitalises": [b for b in blocs if b["capitalise"]],
        "observations": notes,
        "acquis": acquis,
        "total": total,
        "taux": pourcentage(acquis / total) if total else "",
        "rattrapage_possible": r.rattrapage_possible,
        "rattrapage_jusqu_au": date_texte(r.rattrapage_jusqu_au),
        "rattrapage_jusqu_au_courte": date_courte(r.rattrapage_jusqu_au),
    }


def _certificat(info: CertificatInfo | None, organisme: Mapping[str, Any]) -> Context:
    from certidocs.documents.certificat import qr_payload
    from certidocs.documents.qr import qr_png

    url = _t((organisme.get("certificats") or {}).get("url_verification"))
    if info is None:
        return {"numero": "", "code_verification": "", "date_delivrance": "",
                "date_delivrance_courte": "", "lieu": "", "url_verification": url, "qr": ""}
    payload = qr_payload(url, info.numero, info.code_verification, info.jeton)
    return {
        "numero": _t(info.numero),
        "code_verification": _t(info.code_verification),
        "date_delivrance": date_texte(info.date_delivrance),
        "date_delivrance_courte": date_courte(info.date_delivrance),
        "lieu": _t(info.lieu),
        "url_verification": url,
        "qr": Image(functools.partial(qr_png, payload), largeur_mm=QR_LARGEUR_MM),
    }


# --- contexts ---------------------------------------------------------------------------------


def contexte_commun(session: Session, referentiel: Referentiel, organisme: Mapping[str, Any],
                    *, date_document: date | None = None, type_nom: str = "") -> Context:
    """What every template can print: organisme, signatory, certification, session, jury.

    ``organisme`` has the shape of certidocs.toml: sections « organisme » (nom, adresse, ville,
    logo: an absolute path, see ``organisme_depuis_config``), « signataire » (nom, fonction)
    and « certificats » (url_verification). ``date_document`` is the date printed as « Fait à
    …, le … » (today when not given). Raises DocumentError when the logo is not a readable
    PNG or JPEG file.
    """
    org = organisme.get("organisme") or {}
    sig = organisme.get("signataire") or {}
    rec = organisme.get("recours") or {}
    cert = referentiel.certification
    info = session.info
    nom_organisme = _t(org.get("nom")) or DEFAUT_ORGANISME
    rncp = _t(cert.rncp)
    niveau = "" if cert.niveau is None else str(cert.niveau)
    europeen = "" if cert.niveau_europeen is None else str(cert.niveau_europeen)
    regles = referentiel.regles
    president = next((j for j in session.jury if j.president), None)
    today = date_du_document(session, type_nom, date_document)
    lieu = _t(org.get("ville")) or _t(info.lieu)
    telephone, email = _t(org.get("telephone")), _t(org.get("email"))
    contact = " – ".join(x for x in (f"tél. {telephone}" if telephone else "",
                                     f"courriel : {email}" if email else "") if x)
    nsf = _codes_nsf(cert)
    intitule_session = _t(info.intitule) or f"Session {_t(session.nom)}"
    delai = rec.get("delai_jours")
    return {
        "organisme": {
            "nom": nom_organisme,
            "adresse": _t(org.get("adresse")),
            "ville": _t(org.get("ville")),
            "telephone": telephone,
            "email": email,
            "contact": contact,
            "logo": _logo(_t(org.get("logo"))),
            "url_verification": _t((organisme.get("certificats") or {}).get("url_verification")),
        },
        "signataire": {"nom": _t(sig.get("nom")), "fonction": _t(sig.get("fonction"))},
        "voies_recours": {
            "delai_jours": delai if isinstance(delai, int) and delai > 0 else "",
            "dans_le_delai": (f" dans un délai de {delai} jours à compter de la réception de "
                              "ce courrier" if isinstance(delai, int) and delai > 0 else ""),
            "destinataire": _t(rec.get("destinataire")) or nom_organisme,
            "adresse": _t(rec.get("adresse")) or _t(org.get("adresse")),
        },
        "certification": {
            "code": _t(cert.code),
            "intitule": _t(cert.intitule),
            "rncp": rncp,
            "niveau": niveau,
            "niveau_europeen": europeen,
            "nsf": _t(cert.nsf),
            "codes_nsf": ", ".join(nsf),
            "mention_nsf": (f"Code{'s' if len(nsf) > 1 else ''} NSF : {', '.join(nsf)}"
                            if nsf else ""),
            "date_effet": date_texte(cert.date_effet),
            "certificateur": _t(cert.certificateur) or nom_organisme,
            "siret_certificateur": _t(cert.siret_certificateur),
            "mention_rncp": _mention_rncp(rncp, niveau, date_texte(cert.date_effet)),
            "mention_niveau": _mention_niveau(niveau, europeen),
            "mention_niveau_nsf": " – ".join(x for x in (
                _mention_niveau(niveau, europeen),
                f"code{'s' if len(nsf) > 1 else ''} NSF : {', '.join(nsf)}" if nsf else "")
                if x),
        },
        "regles": {
            "mode_global": regles.mode_decision == "global",
            "seuil_bloc": pourcentage(regles.seuil_bloc),
            "seuil_certification": pourcentage(regles.seuil_certification),
            "capitalisation": regles.capitalisation,
            "rattrapages_max": regles.rattrapages_max,
            "delai_rattrapage_jours": regles.delai_rattrapage_jours,
            "delai_convocation_jours": regles.delai_convocation_jours,
            "delai_resultats_jours": regles.delai_resultats_jours,
        },
        "session": {
            "nom": _t(session.nom),
            "intitule": intitule_session,
            "designation": designation(_t(cert.intitule), intitule_session),
            "lieu": _t(info.lieu),
            "adresse": _t(info.adresse),
            "responsable": _t(info.responsable),
            "date_debut": date_jour(info.date_debut),
            "date_debut_courte": date_courte(info.date_debut),
            "date_fin": date_jour(info.date_fin or info.date_debut),
            "date_fin_courte": date_courte(info.date_fin or info.date_debut),
            "periode": periode(info.date_debut, info.date_fin),
            "date_deliberation": date_jour(info.date_deliberation),
            "date_deliberation_courte": date_courte(info.date_deliberation),
            "date_envoi_convocations": date_texte(info.date_envoi_convocations),
        },
        "blocs": [{"code": b.code, "code_officiel": code_officiel(b.code, rncp) or b.code,
                   "intitule": _t(b.intitule), "nb_criteres": len(b.criteres)}
                  for b in referentiel.blocs],
        "jury": [_jure(j) for j in session.jury],
        "president": _jure(president) if president else _jure_vide(),
        "document": {
            "titre": TYPES[type_nom].libelle if type_nom else "",
            "sous_titre": sous_titre(_t(cert.intitule), intitule_session),
            "date": date_texte(today),
            "date_courte": date_courte(today),
            "lieu": lieu,
            "fait_a": f"Fait à {lieu}, le {date_texte(today)}" if lieu
            else f"Fait le {date_texte(today)}",
        },
    }


def contexte_convocation_candidat(session: Session, referentiel: Referentiel,
                                  organisme: Mapping[str, Any], candidat: Candidat, *,
                                  date_document: date | None = None) -> Context:
    """Convocation of one candidate: ``candidat`` (with its blocs and épreuves).

    Dated the day convocations are sent (« Date d'envoi des convocations ») when the session
    sheet gives it, else ``date_document`` or today.
    """
    when = date_document or session.info.date_envoi_convocations
    ctx = contexte_commun(session, referentiel, organisme, date_document=when,
                          type_nom="convocation_candidat")
    ctx["candidat"] = _candidat(candidat, referentiel, session)
    return ctx


def contexte_convocation_jury(session: Session, referentiel: Referentiel,
                              organisme: Mapping[str, Any], jure: Jure, *,
                              date_document: date | None = None) -> Context:
    """Convocation of one juror: ``jure``, the ``candidats`` to evaluate, what jurors must know."""
    when = date_document or session.info.date_envoi_convocations
    ctx = contexte_commun(session, referentiel, organisme, date_document=when,
                          type_nom="convocation_jury")
    ctx["jure"] = _jure(jure)
    ctx["candidats"] = LazyRows(range(len(session.candidats)), _LigneJour(session, referentiel))
    ctx["informations_jury"] = [_t(x) for x in referentiel.informations_jury]
    ctx["qualites_non_observables"] = [_t(x) for x in referentiel.qualites_non_observables]
    return ctx


@dataclass(frozen=True)
class _LigneJour:
    """Builds the row of candidate ``i`` of the attendance sheet or of a juror's convocation
    (module-level and picklable, as _LignePv): the candidate, and for a day of the planning
    the day's tests and rooms (``epreuves``: candidate number → that day's tests; None for a
    list without planning, where they are empty)."""

    session: Session
    referentiel: Referentiel
    epreuves: Mapping[str, Sequence[Epreuve]] | None = None

    def __call__(self, index: int) -> Context:
        c = self.session.candidats[index]
        line = _candidat(c, self.referentiel, self.session)
        if self.epreuves is None:
            return line
        epreuves = self.epreuves.get(c.numero, ())
        line["epreuves_du_jour"] = " ; ".join(
            " ".join(x for x in (heure_fr(_t(e.heure)), _t(e.epreuve)) if x)
            for e in epreuves)
        line["salle"] = " ; ".join(sorted({_t(e.salle) for e in epreuves if e.salle}))
        line["epreuves_salle"] = " – ".join(
            x for x in (line["epreuves_du_jour"],
                        f"salle {line['salle']}" if line["salle"] else "") if x)
        return line


def _journees(session: Session, referentiel: Referentiel) -> list[Context]:
    """The attendance sheet's days: candidates scheduled each day, or everyone once. Each
    day's ``candidats`` are LazyRows (built as the template reads them): a network's session
    has thousands of rows."""
    by_day: dict[date, dict[str, list[Epreuve]]] = {}
    for e in session.planning:
        if e.date is not None:
            by_day.setdefault(e.date, {}).setdefault(e.numero, []).append(e)
    days: list[Context] = []
    for day in sorted(by_day):
        # the sheet follows the candidates' order, not the planning's
        rows = LazyRows([i for i, c in enumerate(session.candidats) if c.numero in by_day[day]],
                        _LigneJour(session, referentiel, by_day[day]))
        days.append({"date": date_jour(day), "date_courte": date_courte(day),
                     "candidats": rows, "nombre": len(rows)})
    if not days:
        rows = LazyRows(range(len(session.candidats)), _LigneJour(session, referentiel, {}))
        info = session.info
        days.append({"date": periode(info.date_debut, info.date_fin).removeprefix("le "),
                     "date_courte": date_courte(info.date_debut), "candidats": rows,
                     "nombre": len(rows)})
    return days


def contexte_emargement(session: Session, referentiel: Referentiel,
                        organisme: Mapping[str, Any], *,
                        date_document: date | None = None) -> Context:
    """Attendance sheet: ``journees`` (one per exam day, its ``candidats``) and ``candidats``."""
    ctx = contexte_commun(session, referentiel, organisme, date_document=date_document,
                          type_nom="emargement")
    ctx["journees"] = _journees(session, referentiel)
    ctx["candidats"] = LazyRows(range(len(session.candidats)), _LigneJour(session, referentiel))
    return ctx


def _contexte_resultat(session: Session, referentiel: Referentiel,
                       organisme: Mapping[str, Any], candidat: Candidat, resultat: Resultat,
                       type_nom: str, date_document: date | None,
                       observations: Mapping[str, str] | None = None) -> Context:
    """What every per-candidate results document holds: the common part, ``candidat`` and
    ``resultat``."""
    ctx = contexte_commun(session, referentiel, organisme, date_document=date_document,
                          type_nom=type_nom)
    ctx["candidat"] = _candidat(candidat, referentiel, session)
    ctx["resultat"] = _resultat(resultat, referentiel, observations)
    return ctx


def contexte_fiche_resultats(session: Session, referentiel: Referentiel,
                             organisme: Mapping[str, Any], candidat: Candidat,
                             resultat: Resultat, *,
                             date_document: date | None = None,
                             observations: Mapping[str, str] | None = None) -> Context:
    """Individual results: ``candidat`` and ``resultat`` (decision, blocs, retake, the
    jurors' ``observations`` by criterion code, read from the grid the decision was sealed
    on)."""
    ctx = _contexte_resultat(session, referentiel, organisme, candidat, resultat,
                             "fiche_resultats", date_document, observations)
    return ctx


def _effectifs(session: Session, resultats: Mapping[str, Resultat]) -> Context:
    decisions = [r.decision for r in resultats.values()]
    return {
        "inscrits": len(session.candidats),
        # Who sat is who has a decision other than « Absent »: the « Présence » column is
        # often left blank (a blank reads as present, see pipeline), never « 0 présents ».
        "presents": sum(1 for c in session.candidats
                        if (resultats[c.numero].decision != ABSENT if c.numero in resultats
                            else c.present)),
        "certifies": decisions.count(CERTIFIE),
        "partiels": decisions.count(VALIDATION_PARTIELLE),
        "non_certifies": decisions.count(NON_CERTIFIE),
        "absents": decisions.count(ABSENT),
        "incomplets": decisions.count(INCOMPLET),
    }


class LazyRows(Sequence[Context]):
    """A list of table rows (« for c in candidats ») whose rows are built when read.

    The procès-verbal of a 10,000-candidate session lists every candidate with every bloc
    result: built as a list, its rows alone take hundreds of megabytes. Here row ``i`` is
    ``build(keys[i])``, made each time the template reaches it and dropped after, so that
    rendering (certidocs.documents.streaming) holds one row at a time. It behaves as the
    list it stands for in everything a template may do (``for``, ``|length``, ``|first``,
    ``|last``, ``[0]``, ``if candidats``, ``loop.last``, printing); each read builds the row
    again (rows are pure data, the same each time). Rows must hold no ``Image`` (images are
    placed before rendering: see ``render._resolve_images``).
    """

    def __init__(self, keys: Sequence[Any], build: Callable[[Any], Context]) -> None:
        self._keys = keys
        self._build = build

    def __len__(self) -> int:
        return len(self._keys)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._build(k) for k in self._keys[index]]
        return self._build(self._keys[index])

    def __iter__(self) -> Iterator[Context]:
        return (self._build(k) for k in self._keys)

    def __repr__(self) -> str:
        return repr(list(self))  # what a template printing the list printed before


PV_LIGNES_PAR_TABLEAU = 100
"""Candidates per table of the procès-verbal (``candidats_par_tableau``): LibreOffice lays a
table out in a time that grows faster than its rows (the PV of 10,000 candidates as one
table took 19 minutes and 930 MiB to convert to PDF; 3,000 rows as one table 59 s, as 30
tables of 100 rows 19 s). 100 rows are about ten pages: short enough for LibreOffice, and
the header row is repeated on every page whatever the number of tables."""


@dataclass(frozen=True)
class _LignePv:
    """Builds row ``i`` of the procès-verbal (a module-level class, not a closure: a context
    given by value to a batch is pickled to the worker that renders it)."""

    session: Session
    referentiel: Referentiel
    resultats: Mapping[str, Resultat]
    observations: Mapping[str, Mapping[str, str]]

    def __call__(self, index: int) -> Context:
        c = self.session.candidats[index]
        line = _candidat(c, self.referentiel, self.session)
        line["resultat"] = _resultat(self.resultats.get(c.numero), self.referentiel,
                                     self.observations.get(c.numero))
        return line


def contexte_proces_verbal(session: Session, referentiel: Referentiel,
                           organisme: Mapping[str, Any],
                           resultats: Iterable[Resultat] | Mapping[str, Resultat], *,
                           date_document: date | None = None,
                           scellement: Mapping[str, Any] | None = None,
                           observations: Mapping[str, Mapping[str, str]] | None = None
                           ) -> Context:
    """The session's procès-verbal: ``candidats`` (each with its ``resultat``), ``effectifs``,
    ``scellement`` (``empreinte``: the printed fingerprint of the sealed decisions, ``version``:
    1 at deliberation, more after revisions; empty strings before sealing).

    Candidates are listed in the session sheet's order; one without an outcome keeps an empty
    decision, so that nobody silently disappears from the PV. ``observations`` (candidate
    number → criterion code → text) gives each ``c.resultat.observations``;
    ``candidats_observes`` lists the candidates that have some; ``candidats_par_tableau`` is
    ``candidats`` cut in groups of PV_LIGNES_PAR_TABLEAU (one group, empty, when there is
    nobody), one table each. The lists are ``LazyRows``: each row is built when the template
    reads it, so that the context stays small whatever the session's size. ``resultats`` may
    be a mapping from candidate number (read as the rows are built, as the documents command
    gives it from its store) and so may ``observations``: neither is copied.
    """
    ctx = contexte_commun(session, referentiel, organisme, date_document=date_document,
                          type_nom="proces_verbal")
    by_numero = (resultats if isinstance(resultats, Mapping)
                 else {r.numero: r for r in resultats})
    notes = observations if observations is not None else {}
    candidats = session.candidats
    row = _LignePv(session, referentiel, by_numero, notes)
    codes = [k.code for b in referentiel.blocs for k in b.criteres]
    observed = [i for i, c in enumerate(candidats)
                if (n := notes.get(c.numero)) and any(_t(n.get(code)) for code in codes)]
    ctx["candidats"] = LazyRows(range(len(candidats)), row)
    ctx["candidats_par_tableau"] = [
        LazyRows(range(k, min(k + PV_LIGNES_PAR_TABLEAU, len(candidats))), row)
        for k in range(0, len(candidats), PV_LIGNES_PAR_TABLEAU)] or [LazyRows((), row)]
    ctx["candidats_observes"] = LazyRows(observed, row)
    ctx["effectifs"] = _effectifs(session, by_numero)
    seal = scellement or {}
    ctx["scellement"] = {"empreinte": _t(seal.get("empreinte")),
                         "version": _t(seal.get("version"))}
    return ctx


def contexte_certificat(session: Session, referentiel: Referentiel,
                        organisme: Mapping[str, Any], candidat: Candidat, resultat: Resultat,
                        info: CertificatInfo) -> Context:
    """The certificate (parchemin): ``candidat``, ``resultat`` and ``certificat`` (number,
    verification code, date and place of issue, ``qr`` image). Dated the day of issue."""
    ctx = _contexte_resultat(session, referentiel, organisme, candidat, resultat, "certificat",
                             info.date_delivrance)
    lieu = _t(info.lieu) or ctx["document"]["lieu"]
    ctx["document"]["lieu"] = lieu
    when = date_texte(info.date_delivrance)
    ctx["document"]["fait_a"] = f"Fait à {lieu}, le {when}" if lieu else f"Fait le {when}"
    ctx["certificat"] = _certificat(info, organisme)
    return ctx


def contexte_attestation_blocs(session: Session, referentiel: Referentiel,
                               organisme: Mapping[str, Any], candidat: Candidat,
                               resultat: Resultat, *,
                               date_document: date | None = None) -> Context:
    """Attestation of validated blocs: ``candidat``, ``resultat`` (its ``blocs_valides``)."""
    ctx = _contexte_resultat(session, referentiel, organisme, candidat, resultat,
                             "attestation_blocs", date_document)
    return ctx


def contexte_notification_resultats(session: Session, referentiel: Referentiel,
                                    organisme: Mapping[str, Any], candidat: Candidat,
                                    resultat: Resultat, certificat: CertificatInfo | None = None,
                                    *, date_document: date | None = None) -> Context:
    """Results letter: ``candidat``, ``resultat`` (retake right and deadline) and
    ``certificat`` (its number when one is delivered, else empty values)."""
    ctx = _contexte_resultat(session, referentiel, organisme, candidat, resultat,
                             "notification_resultats", date_document)
    ctx["certificat"] = _certificat(certificat, organisme)
    return ctx


def _recours(r: Recours) -> Context:
    return {
        "date_reception": date_texte(r.date_reception),
        "date_reception_courte": date_courte(r.date_reception),
        "motifs": _t(r.motifs),
        "decision": _t(r.decision),
        "motif_decision": _t(r.motif_decision),
        "date_decision": date_texte(r.date_decision),
        "date_decision_courte": date_courte(r.date_decision),
    }


def contexte_non_recevabilite(session: Session, referentiel: Referentiel,
                              organisme: Mapping[str, Any], candidat: Candidat,
                              recours: Recours, *,
                              date_document: date | None = None) -> Context:
    """Notice that an appeal is not admissible: ``candidat`` and ``recours`` (date received,
    grounds, decision, its reasons and date). Dated the decision's date when known."""
    info = session.info
    deliberation = info.date_deliberation or info.date_fin or info.date_debut
    when = date_document or recours.date_decision or max(
        x for x in (date.today(), deliberation) if x is not None)
    ctx = contexte_commun(session, referentiel, organisme, date_document=when,
                          type_nom="non_recevabilite")
    ctx["candidat"] = _candidat(candidat, referentiel, session)
    ctx["recours"] = _recours(recours)
    return ctx


def _dysfonctionnement(d: Dysfonctionnement) -> Context:
    return {"date": date_texte(d.date), "date_courte": date_courte(d.date),
            "description": _t(d.description), "action_corrective": _t(d.action_corrective),
            "responsable": _t(d.responsable)}


def contexte_suivi_dysfonctionnements(session: Session, referentiel: Referentiel,
                                      organisme: Mapping[str, Any], *,
                                      date_document: date | None = None) -> Context:
    """The dysfunction log: ``dysfonctionnements`` (date, description, action, responsable)."""
    ctx = contexte_commun(session, referentiel, organisme, date_document=date_document,
                          type_nom="suivi_dysfonctionnements")
    ctx["dysfonctionnements"] = [_dysfonctionnement(d) for d in session.dysfonctionnements]
    return ctx


def mentions_manquantes(referentiel: Referentiel, organisme: Mapping[str, Any],
                        candidat: Candidat | None = None, *, blocs: bool = False) -> list[str]:
    """What a certificate (or, ``blocs``, a bloc attestation) must carry and the data lacks,
    in French, one phrase each naming the YAML field or the setting to fill.

    The mentions are those of France compétences' list for a parchemin: registration (RNCP
    number and the date of France compétences' decision), the certifier's name, the level
    (national and European), the NSF code(s), the signatory, the holder's identity; for a
    bloc attestation, also each bloc's official code (RNCPxxxxxBCxx). The document prints
    whatever it has; the command warns before it goes out without a mention.
    """
    missing = []
    cert = referentiel.certification
    where = f"référentiel {referentiel.code} (referentiels/{referentiel.code}.yaml)"
    rncp = _t(cert.rncp)
    if not rncp:
        missing.append(f"{where} : numéro d'enregistrement (certification.rncp) non renseigné")
    if cert.date_effet is None:
        missing.append(f"{where} : date de la décision d'enregistrement de France compétences "
                       "(certification.date_effet) non renseignée")
    if cert.niveau is None and not rncp.startswith("RS"):
        missing.append(f"{where} : niveau (certification.niveau) non renseigné")
    elif cert.niveau_europeen is None and not rncp.startswith("RS"):
        missing.append(f"{where} : niveau européen (certification.niveau_europeen) "
                       "non renseigné")
    if not _codes_nsf(cert):
        missing.append(f"{where} : code(s) NSF (certification.codes_nsf ou certification.nsf) "
                       "non renseigné(s)")
    org = organisme.get("organisme") or {}
    if not _t(cert.certificateur) and _t(org.get("nom")) in ("", DEFAUT_ORGANISME):
        missing.append(f"{where} : nom légal du certificateur (certification.certificateur, "
                       "ou [organisme] nom de certidocs.toml) non renseigné")
    if blocs:
        unknown = [b.code for b in referentiel.blocs if not code_officiel(b.code, rncp)]
        if unknown:
            missing.append(f"{where} : code officiel (RNCPxxxxxBCxx) des blocs "
                           f"{', '.join(unknown)} inconnu : renseignez certification.rncp ou "
                           "les codes officiels (blocs[].code)")
    sig = organisme.get("signataire") or {}
    if not _t(sig.get("nom")):
        missing.append("certidocs.toml : nom du signataire ([signataire] nom) non renseigné")
    if candidat is not None:
        who = (f"Candidats, ligne {candidat.ligne}" if candidat.ligne
               else f"candidat n° {candidat.numero}")
        if candidat.date_naissance is None:
            missing.append(f"{who} : date de naissance non renseignée")
        if not _t(candidat.lieu_naissance):
            missing.append(f"{who} : lieu de naissance non renseigné")
        if not civilite(candidat.civilite):
            missing.append(f"{who} : civilité non renseignée (Madame ou Monsieur)")
    return missing


def reglages_manquants(organisme: Mapping[str, Any], etape: str) -> list[str]:
    """Settings of certidocs.toml still at their default or empty, that every letter and
    certificate would print as they are: one phrase each, naming the setting."""
    org = organisme.get("organisme") or {}
    sig = organisme.get("signataire") or {}
    rec = organisme.get("recours") or {}
    out = []
    if _t(org.get("nom")) in ("", DEFAUT_ORGANISME):
        out.append("certidocs.toml, [organisme] nom : encore « Organisme certificateur » ; "
                   "indiquez le nom de l'organisme, imprimé en tête de chaque document")
    if not _t(org.get("adresse")):
        out.append("certidocs.toml, [organisme] adresse : vide ; les courriers n'ont pas "
                   "d'adresse d'expéditeur")
    if not _t(org.get("telephone")) and not _t(org.get("email")):
        out.append("certidocs.toml, [organisme] telephone et email : vides ; les courriers "
                   "ne disent pas qui contacter")
    if _t(sig.get("fonction")) in ("", DEFAUT_FONCTION) and not _t(sig.get("nom")):
        out.append("certidocs.toml, [signataire] nom et fonction : non réglés (« Le "
                   "directeur » par défaut) ; indiquez qui signe")
    if etape == "apres":
        delai = rec.get("delai_jours")
        if not isinstance(delai, int) or delai <= 0:
            out.append("certidocs.toml, [recours] delai_jours : non réglé ; le courrier de "
                       "résultats ne peut pas dire dans quel délai former un recours")
        if not _t(rec.get("adresse")) and not _t(org.get("adresse")):
            out.append("certidocs.toml, [recours] adresse : vide (et pas d'adresse de "
                       "l'organisme) ; le courrier de résultats ne dit pas où adresser un "
                       "recours")
    return out
