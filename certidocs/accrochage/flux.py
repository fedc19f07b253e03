"""The XML flux of the Caisse des Dépôts (schema cpf-pc5 v2.0.0): build it, validate it.

The schema ships with certidocs (``cpf-pc5-flux-v2.0.0.xsd`` next to this module) so that the
tool works on a machine that never saw the reference folder. ``validate_flux`` is what every
flux goes through before it is written, and what the tests run on the CDC's own example.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from certidocs.accrochage.identite import Titulaire

NS = "urn:cdc:cpf:pc5:schema:1.0.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD_PATH = Path(__file__).resolve().parent / "cpf-pc5-flux-v2.0.0.xsd"

# What office staff call each element, for messages.
LIBELLES = {
    "idFlux": "identifiant du flux", "horodatage": "horodatage",
    "idClient": "identifiant client (certidocs.toml, [accrochage])",
    "idContrat": "numéro de contrat (certidocs.toml, [accrochage] id_contrat)",
    "type": "type de certification (RNCP ou RS)", "code": "code de la fiche RNCP ou RS",
    "natureDeposant": "nature du déposant", "idTechnique": "identifiant du passage",
    "obtentionCertification": "mode d'obtention", "donneeCertifiee": "donnée certifiée",
    "dateDebutExamen": "date de début de la session", "dateFinExamen": "date de fin de la session",
    "modalitePassageExamen": "modalité de passage de l'examen",
    "codePostalCentreExamen": "code postal du lieu de la session",
    "dateDebutValidite": "date de délivrance du certificat",
    "dateFinValidite": "date de fin de validité", "modaliteAcces": "voie d'accès",
    "voieAccessVAE": "voie d'accès VAE", "nomNaissance": "nom de naissance",
    "nomUsage": "nom d'usage", "prenom1": "prénom", "prenom2": "deuxième prénom",
    "prenom3": "troisième prénom", "anneeNaissance": "année de naissance",
    "moisNaissance": "mois de naissance", "jourNaissance": "jour de naissance", "sexe": "sexe",
    "codeInsee": "code INSEE de naissance", "codePostal": "code postal de naissance",
    "libelleCommuneNaissance": "lieu de naissance", "codePaysNaissance": "code pays de naissance",
    "libellePaysNaissance": "pays de naissance",
}


@dataclass(frozen=True)
class Passage:
    """One holder's certification, as declared."""

    id_technique: str
    titulaire: Titulaire
    date_delivrance: dt.date
    date_fin_validite: dt.date | None = None
    date_debut_examen: dt.date | None = None
    date_fin_examen: dt.date | None = None
    code_postal_examen: str = ""
    modalite_acces: str | None = None  # None: sent as xsi:nil
    voie_acces_vae: str = ""


@dataclass(frozen=True)
class CertificationFlux:
    """One certification (an RNCP or RS fiche) and its passages."""

    type: str  # RNCP or RS
    code: str  # RNCP12345, RS1234
    passages: tuple[Passage, ...]


@dataclass(frozen=True)
class Emetteur:
    """Who sends the flux and for which certifier, under which contract."""

    id_client: str
    id_client_certificateur: str
    id_contrat: str
    nature_deposant: str = "CERTIFICATEUR"
    modalite_passage_examen: str = ""


@dataclass(frozen=True)
class ErreurSchema:
    """One way a flux breaks the XSD: where (line, element, passage) and what."""

    ligne: int
    element: str
    message: str
    id_technique: str | None = None

    @property
    def libelle(self) -> str:
        """The element as office staff would name it."""
        return LIBELLES.get(self.element, self.element)


def horodatage(moment: dt.datetime) -> str:
    """A timestamp in the exact lexical form the XSD's pattern accepts (offset, no fraction)."""
    aware = moment if moment.tzinfo else moment.astimezone()
    return aware.replace(microsecond=0).isoformat()


def build_flux(*, id_flux: str, moment: dt.datetime, emetteur: Emetteur,
               certifications: Sequence[CertificationFlux]) -> bytes:
    """The flux as UTF-8 bytes, indented, in the element order of the CDC's example."""
    from lxml import etree

    def el(parent: Any, name: str, text: str | None = None, *, nil: bool = False) -> Any:
        node = etree.SubElement(parent, f"{{{NS}}}{name}")
        if nil:
            node.set(f"{{{XSI}}}nil", "true")
        elif text is not None:
            node.text = text
        return node

    root = etree.Element(f"{{{NS}}}flux", nsmap={"cpf": NS, "xsi": XSI})
    el(root, "idFlux", id_flux)
    el(root, "horodatage", horodatage(moment))
    emet = el(root, "emetteur")
    el(emet, "idClient", emetteur.id_client)
    cert = el(el(emet, "certificateurs"), "certificateur")
    el(cert, "idClient", emetteur.id_client_certificateur)
    el(cert, "idContrat", emetteur.id_contrat)
    certs = el(cert, "certifications")
    for certification in certifications:
        node = el(certs, "certification")
        el(node, "type", certification.type)
        el(node, "code", certification.code)
        if emetteur.nature_deposant:
            el(node, "natureDeposant", emetteur.nature_deposant)
        passages = el(node, "passageCertifications")
        for passage in certification.passages:
            _passage(el, passages, passage, emetteur)
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                 pretty_print=True)
    return data


def _passage(el: Any, parent: Any, p: Passage, emetteur: Emetteur) -> None:
    node = el(parent, "passageCertification")
    el(node, "idTechnique", p.id_technique)
    el(node, "obtentionCertification", "PAR_ADMISSION")  # a jury's decision, not a score
    el(node, "donneeCertifiee", "true")  # the certifier itself vouches for the data
    if p.date_debut_examen:
        el(node, "dateDebutExamen", p.date_debut_examen.isoformat())
    if p.date_fin_examen:
        el(node, "dateFinExamen", p.date_fin_examen.isoformat())
    if emetteur.modalite_passage_examen:
        el(node, "modalitePassageExamen", emetteur.modalite_passage_examen)
    if p.code_postal_examen:
        el(node, "codePostalCentreExamen", p.code_postal_examen)
    el(node, "dateDebutValidite", p.date_delivrance.isoformat())
    if p.date_fin_validite:
        el(node, "dateFinValidite", p.date_fin_validite.isoformat())
    else:
        el(node, "dateFinValidite", nil=True)
    el(node, "presenceNiveauLangueEuro", "false")
    el(node, "presenceNiveauNumeriqueEuro", "false")
    el(node, "scoring", nil=True)
    el(node, "mentionValidee", nil=True)
    modalites = el(node, "modalitesInscription")
    if p.modalite_acces:
        el(modalites, "modaliteAcces", p.modalite_acces)
    else:
        el(modalites, "modaliteAcces", nil=True)
    if p.modalite_acces == "VAE" and p.voie_acces_vae:
        el(modalites, "voieAccessVAE", p.voie_acces_vae)
    t = p.titulaire
    tit = el(el(node, "identificationTitulaire"), "titulaire")
    el(tit, "nomNaissance", t.nom_naissance)
    if t.nom_usage:
        el(tit, "nomUsage", t.nom_usage)
    else:
        el(tit, "nomUsage", nil=True)
    for i, prenom in enumerate(t.prenoms, start=1):
        el(tit, f"prenom{i}", prenom)
    el(tit, "anneeNaissance", str(t.date_naissance.year))
    el(tit, "moisNaissance", str(t.date_naissance.month))
    el(tit, "jourNaissance", str(t.date_naissance.day))
    el(tit, "sexe", t.sexe)
    commune = el(tit, "codeCommuneNaissance")
    el(el(commune, "codeInseeNaissance"), "codeInsee", t.lieu.code_insee)
    if t.lieu.libelle_commune:
        el(tit, "libelleCommuneNaissance", t.lieu.libelle_commune)
    if t.lieu.code_pays:
        el(tit, "codePaysNaissance", t.lieu.code_pays)
    if t.lieu.libelle_pays:
        el(tit, "libellePaysNaissance", t.lieu.libelle_pays)


@functools.cache
def _schema() -> Any:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.parse(str(XSD_PATH), parser))


def _parse(data: bytes) -> Any:
    """A flux parsed without network access or entity expansion (it may come from outside)."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    return etree.fromstring(data, parser)


def validate_flux(data: bytes) -> list[ErreurSchema]:
    """Every way ``data`` breaks the CDC's XSD (empty: the flux is valid).

    Each error carries the ``idTechnique`` of the passage it lies in, so that a message can
    name the holder; a document that is not even XML gives one error at its line.
    """
    from lxml import etree

    try:
        root = _parse(data)
    except etree.XMLSyntaxError as exc:
        return [ErreurSchema(exc.lineno or 0, "", f"XML illisible ({exc.msg})")]
    schema = _schema()
    if schema.validate(root.getroottree()):
        return []
    # Each passage's span of lines, to tell which holder an error belongs to.
    spans: list[tuple[int, int, str]] = []
    for node in root.iter(f"{{{NS}}}passageCertification"):
        ident = node.findtext(f"{{{NS}}}idTechnique") or ""
        spans.append((node.sourceline or 0, _last_line(node), ident.strip()))
    errors = []
    for entry in schema.error_log:
        element, message = _split(entry.message)
        owner = next((ident for start, end, ident in spans if start <= entry.line <= end
                      and ident), None)
        errors.append(ErreurSchema(entry.line, element, message, owner))
    return errors


def _last_line(node: Any) -> int:
    last = node.sourceline or 0
    for child in node.iter():
        last = max(last, child.sourceline or 0)
    # A closing tag sits one line below its last child in an indented document.
    return last + 1


_ELEMENT = re.compile(r"^Element '(?:\{[^}]*\})?([^']+)'(?:, attribute '[^']+')?: ")


def _split(message: str) -> tuple[str, str]:
    """lxml's « Element '{ns}name': what » as (name, what)."""
    match = _ELEMENT.match(message)
    if not match:
        return "", message.strip()
    return match.group(1), message[match.end():].strip()


def id_flux_de(data: bytes) -> str | None:
    """The ``idFlux`` of a flux file, or None when it cannot be read."""
    from lxml import etree

    try:
        root = _parse(data)
    except etree.XMLSyntaxError:
        return None
    return (root.findtext(f"{{{NS}}}idFlux") or "").strip() or None
