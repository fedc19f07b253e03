"""Read the Caisse des Dépôts' processing answer to a flux (« accusé de traitement »).

After a flux is deposited, the CDC answers with an XML report, root ``rapport`` in the
namespace ``urn:cdc:cpf:pc5:rapport:schema`` (children unqualified)::

    <ns2:rapport xmlns:ns2="urn:cdc:cpf:pc5:rapport:schema">
      <nomFichier>accrochage-20270105-090000.xml</nomFichier>
      <idFlux>…the flux's idFlux…</idFlux>
      <idTraitement>51354</idTraitement>
      <PassagesKO><passage><idTechnique>…</idTechnique>
                           <messageErreur>Aucun titulaire ne correspond aux critères
                           obligatoires</messageErreur></passage></PassagesKO>
      <PassagesOK><idTechnique>…</idTechnique>…</PassagesOK>
    </ns2:rapport>

The shape was checked against two public readers of these reports: Pix's
``getCpfImportResults`` (1024pix/pix, scripts of the CPF import: ``//PassagesOK/idTechnique``,
``//passage`` with ``idTechnique`` and ``messageErreur``, « existe déjà en base » counted as
a success, « Aucun titulaire » as an error) and a certifier's handler that prints a parsed
report (``nomFichier``, ``idFlux``, ``idTraitement``, ``PassagesKO/passage``, ``PassagesOK``;
messages « Aucun titulaire ne correspond aux critères obligatoires » and « Plusieurs titulaires
ont été identifiés »). ``messageErreur`` is free text: it is kept verbatim and explained in
French with what to correct.

This module only reads: it turns the file into a :class:`RetourCdc`; recording it in the
register is the caller's (api.importer_retour_accrochage).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from certidocs.errors import AccrochageError

NS_RAPPORT = "urn:cdc:cpf:pc5:rapport:schema"
"""The namespace of the CDC's processing report (its root element ``rapport``)."""

MAX_ID_TECHNIQUE = 255
"""Longest idTechnique accepted; the CDC's flux schema limits it to 255 characters."""

MAX_PASSAGES = 100_000
"""Most passages one report may hold; far above any real flux, it bounds a forged file."""

DEJA_EN_BASE = "existe déjà en base"
"""Words of a rejection that means the passage was already recorded: counted as accepted."""

IDENTITE = ("le nom de naissance (pas le nom d'usage), tous les prénoms dans l'ordre de l'état "
            "civil, le sexe, la date de naissance et la commune de naissance (code INSEE de la "
            "commune à la date de naissance ; pays pour une naissance à l'étranger)")
"""The identity criteria the CDC matches a holder on, as session.xlsx names them."""

_CHAMPS = (
    (("nom de naissance", "nomnaissance", "nom"), "le nom de naissance (colonne « Nom de "
                                                  "naissance », pas le nom d'usage)"),
    (("prenom",), "les prénoms (colonne « Prénom » : tous, dans l'ordre de l'état civil, séparés "
                  "par des virgules)"),
    (("sexe",), "le sexe (colonne « Sexe » : F ou M)"),
    (("date de naissance", "datenaissance"), "la date de naissance (colonne « Date de "
                                             "naissance »)"),
    (("commune", "insee", "lieu de naissance", "codeinsee"), "la commune de naissance "
                                                             "(colonne « Code INSEE de la "
                                                             "commune de naissance »)"),
    (("pays",), "le pays de naissance (colonne « Pays de naissance »)"),
)


@dataclass(frozen=True)
class PassageRetour:
    """The CDC's answer for one passage (one certificate): accepted or rejected.

    ``message`` is the CDC's ``messageErreur`` verbatim ("" for a passage of ``PassagesOK``);
    ``explication`` says in French what happened and what to correct; ``deja_declare`` is
    true for « existe déjà en base », which is counted as accepted.
    """

    id_technique: str
    accepte: bool
    message: str = ""
    explication: str = ""
    deja_declare: bool = False


@dataclass(frozen=True)
class RetourCdc:
    """A whole processing report: which flux it answers and the outcome of each passage."""

    fichier: Path
    nom_fichier: str
    id_flux: str
    id_traitement: str
    passages: tuple[PassageRetour, ...]
    titulaires: dict[str, str] = field(default_factory=dict)  # idTechnique → holder, if known

    @property
    def acceptes(self) -> tuple[PassageRetour, ...]:
        """Passages accepted (already-recorded ones included)."""
        return tuple(p for p in self.passages if p.accepte)

    @property
    def rejetes(self) -> tuple[PassageRetour, ...]:
        """Passages rejected: to correct, then declared again by the next export."""
        return tuple(p for p in self.passages if not p.accepte)


def _fold(text: str) -> str:
    bare = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in bare if not unicodedata.combining(c)).lower().split())


def expliquer(message: str) -> tuple[bool, str]:
    """(accepted, French explanation) for one ``messageErreur`` of the CDC.

    « … existe déjà en base » means the holder is already declared: accepted. « Aucun
    titulaire ne correspond aux critères obligatoires »: no person with that identity, every
    identity criterion is to be checked against the civil status. « Plusieurs titulaires ont
    été identifiés »: the identity is ambiguous, what distinguishes the person is missing.
    Any other message is quoted, with the identity fields it names.
    """
    folded = _fold(message)
    if _fold(DEJA_EN_BASE) in folded:
        return True, ("déjà enregistré par la Caisse des Dépôts (déclaré dans un flux "
                      "précédent) : compté comme accepté, rien à corriger")
    if "aucun titulaire" in folded:
        return False, ("la Caisse des Dépôts ne trouve aucune personne à cette identité : "
                       f"vérifiez sur une pièce d'identité {IDENTITE} ; corrigez session.xlsx, "
                       "puis relancez « certidocs accrochage exporter --session DOSSIER »")
    if "plusieurs titulaires" in folded:
        return False, ("plusieurs personnes ont cette identité : complétez ce qui distingue "
                       "le titulaire, en particulier tous ses prénoms et le code INSEE de sa "
                       "commune de naissance (le pays s'il est né à l'étranger), puis "
                       "relancez l'export")
    named = [label for keys, label in _CHAMPS if any(k in folded for k in keys)]
    what = f"vérifiez {', '.join(named)}" if named else f"vérifiez {IDENTITE}"
    return False, (f"refusé par la Caisse des Dépôts (« {message.strip() or 'sans motif'} ») : "
                   f"{what} ; corrigez, puis relancez l'export")


def _local(tag: object) -> str:
    return tag.split("}", 1)[1] if isinstance(tag, str) and "}" in tag else str(tag)


def lire_retour(path: Path) -> RetourCdc:
    """The CDC's processing report in ``path``, every passage explained.

    Streams the file (lxml iterparse, no entities, no network). AccrochageError, in French
    with the file and the line, when it is not such a report: not XML, another root or
    namespace, no ``idFlux``, a passage without ``idTechnique`` (or a longer one than
    MAX_ID_TECHNIQUE), the same ``idTechnique`` twice, more than MAX_PASSAGES passages.
    """
    from lxml import etree

    if not path.is_file():
        raise AccrochageError(f"{path} : fichier introuvable")
    header: dict[str, str] = {}
    passages: list[PassageRetour] = []
    seen: dict[str, int] = {}

    def add(ident: str, message: str | None, line: int) -> None:
        ident = ident.strip()
        where = f"{path}, ligne {line}"
        if not ident:
            raise AccrochageError(f"{where} : passage sans idTechnique ; ce rapport est "
                                  "incomplet, rien n'a été enregistré")
        if len(ident) > MAX_ID_TECHNIQUE:
            raise AccrochageError(f"{where} : idTechnique de plus de {MAX_ID_TECHNIQUE} "
                                  "caractères ; ce n'est pas un rapport de la Caisse des Dépôts")
        if ident in seen:
            raise AccrochageError(f"{where} : le passage {ident} figure deux fois (déjà ligne "
                                  f"{seen[ident]}) ; rapport incohérent, rien n'a été "
                                  "enregistré")
        if len(passages) >= MAX_PASSAGES:
            raise AccrochageError(f"{where} : plus de {MAX_PASSAGES} passages ; rapport refusé")
        seen[ident] = line
        if message is None:
            passages.append(PassageRetour(ident, True))
            return
        accepte, explication = expliquer(message)
        passages.append(PassageRetour(ident, accepte, " ".join(message.split()), explication,
                                      deja_declare=accepte))

    try:
        context = etree.iterparse(str(path), events=("start", "end"), resolve_entities=False,
                                  no_network=True, load_dtd=False, remove_comments=True)
        root_checked = False
        for event, element in context:
            name = _local(element.tag)
            if event == "start":
                if not root_checked:
                    root_checked = True
                    ns = element.tag.split("}", 1)[0][1:] if "}" in element.tag else ""
                    if name != "rapport" or ns != NS_RAPPORT:
                        raise AccrochageError(
                            f"{path} : ce n'est pas un accusé de traitement de la Caisse des "
                            f"Dépôts (racine « {name} »{f' {ns}' if ns else ''}, attendu "
                            f"« rapport » de l'espace {NS_RAPPORT}) ; rien n'a été enregistré")
                continue
            parent = element.getparent()
            parent_name = _local(parent.tag) if parent is not None else ""
            if name in {"nomFichier", "idFlux", "idTraitement"} and parent_name == "rapport":
                header[name] = (element.text or "").strip()
            elif name == "idTechnique" and parent_name == "PassagesOK":
                add(element.text or "", None, element.sourceline or 0)
                element.clear()
            elif name == "passage" and parent_name == "PassagesKO":
                ident = element.findtext("{*}idTechnique") or element.findtext("idTechnique")
                message = element.findtext("{*}messageErreur")
                if message is None:
                    message = element.findtext("messageErreur") or ""
                add(ident or "", message, element.sourceline or 0)
                element.clear()
    except etree.XMLSyntaxError as exc:
        where = f"ligne {exc.lineno}" if getattr(exc, "lineno", None) else "début du fichier"
        raise AccrochageError(f"{path} : XML illisible ({where}) ; ce n'est pas un accusé de "
                              "traitement complet, rien n'a été enregistré") from None
    except OSError as exc:
        raise AccrochageError(f"{path} : lecture impossible ({exc.strerror or exc})") from None
    if not header.get("idFlux"):
        raise AccrochageError(f"{path} : accusé de traitement sans idFlux : impossible de savoir "
                              "à quel flux il répond ; rien n'a été enregistré")
    return RetourCdc(path, header.get("nomFichier", ""), header["idFlux"],
                     header.get("idTraitement", ""), tuple(passages))


def resume(retour: RetourCdc) -> list[str]:
    """The report in French lines: counts, then each rejected passage with what to correct."""
    deja = sum(1 for p in retour.passages if p.deja_declare)
    lines = [f"Accusé de traitement {retour.id_traitement or '(sans numéro)'} du flux "
             f"{retour.nom_fichier or retour.id_flux} : {len(retour.acceptes)} passage(s) "
             f"accepté(s){f' (dont {deja} déjà enregistré(s))' if deja else ''}, "
             f"{len(retour.rejetes)} refusé(s)."]
    for p in retour.rejetes:
        who = retour.titulaires.get(p.id_technique)
        lines.append(f"  refusé : {p.id_technique}{f' ({who})' if who else ''} — "
                     f"{p.explication}")
    return lines

