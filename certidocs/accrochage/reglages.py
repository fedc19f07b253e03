"""The ``[accrochage]`` section of certidocs.toml: who declares, under which contract.

Nothing there is needed before a first try of the other commands; the identifiers the Caisse
des Dépôts gives the certifier are checked when a flux is exported, and every missing or
ill-formed setting is reported at once, by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from certidocs.errors import AccrochageReglagesInvalides, Probleme
from certidocs.workspace import CONFIG_NAME, Workspace

SECTION = "accrochage"

NATURES_DEPOSANT = ("CERTIFICATEUR", "TIERS_CONFIANCE")
MODALITES_PASSAGE = ("A_DISTANCE", "EN_PRESENTIEL", "MIXTE")
MODALITES_ACCES = (
    "FORMATION_INITIALE_HORS_APPRENTISSAGE",
    "FORMATION_INITIALE_APPRENTISSAGE",
    "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION",
    "FORMATION_CONTINUE_CONTRAT_DE_PROFESSIONNALISATION",
    "VAE",
    "EQUIVALENCE_DIPLOME_ETRANGER",
    "CANDIDAT_LIBRE",
)
VOIES_VAE = ("CONGES_VAE", "VAE_CLASSIQUE")

_ID_CLIENT = re.compile(r"[A-Za-z0-9]{8}")


@dataclass(frozen=True)
class Reglages:
    """The declaration settings, checked."""

    id_client_emetteur: str
    id_client_certificateur: str
    id_contrat: str
    nature_deposant: str = "CERTIFICATEUR"
    modalite_passage_examen: str = "EN_PRESENTIEL"
    modalite_acces_formation: str = ""
    modalite_acces_parcours_mixte: str = ""
    voie_acces_vae: str = ""
    duree_validite_annees: int = 0
    dossier: str = "accrochage"

    def modalite_acces(self, voie: str) -> str | None:
        """The CDC's ``modaliteAcces`` for a session.xlsx access route; None: not known.

        « VAE » is unambiguous. « Formation » and « Parcours mixte » do not say whether the
        training was initial or continuing, under apprenticeship or a professionalisation
        contract: the certifier says it once in certidocs.toml, else the field is sent empty
        (xsi:nil), which the schema allows.
        """
        if voie == "VAE":
            return "VAE"
        if voie == "Parcours mixte":
            return self.modalite_acces_parcours_mixte or None
        if voie == "Formation":
            return self.modalite_acces_formation or None
        return None


def _text(section: dict[str, Any], key: str, problems: list[Probleme]) -> str:
    value = section.get(key, "")
    if isinstance(value, str) and value.isprintable():
        return value.strip()
    if isinstance(value, str):
        problems.append(Probleme(f"[{SECTION}] {key}", "caractères invisibles dans la valeur ; "
                                 "retapez-la"))
        return ""
    problems.append(Probleme(f"[{SECTION}] {key}", "un texte entre guillemets est attendu"))
    return ""


def _choice(section: dict[str, Any], key: str, allowed: tuple[str, ...], default: str,
            problems: list[Probleme], *, empty_ok: bool = True) -> str:
    raw = section.get(key, default)
    value = _text({key: raw}, key, problems).upper()
    if value and value not in allowed:
        problems.append(Probleme(f"[{SECTION}] {key}", f"« {value} » n'est pas une valeur "
                                 f"admise ; valeurs possibles : {', '.join(allowed)}"))
    elif not value and not empty_ok:
        problems.append(Probleme(f"[{SECTION}] {key}", "réglage manquant ; valeurs "
                                 f"possibles : {', '.join(allowed)}"))
    return value


def lire_reglages(workspace: Workspace) -> Reglages:
    """The ``[accrochage]`` settings; AccrochageReglagesInvalides naming every bad setting."""
    raw = workspace.config.get(SECTION)
    fichier = str(workspace.root / CONFIG_NAME)
    if raw is not None and not isinstance(raw, dict):
        raise AccrochageReglagesInvalides(fichier, [Probleme(
            f"[{SECTION}]", "doit être une section de réglages (une ligne [accrochage] suivie "
            "de « clé = valeur »)")])
    section: dict[str, Any] = raw or {}
    problems: list[Probleme] = []

    emetteur = _text(section, "id_client_emetteur", problems)
    if not emetteur:
        problems.append(Probleme(f"[{SECTION}] id_client_emetteur", "réglage manquant : "
                                 "l'identifiant client (8 caractères) que la Caisse des Dépôts "
                                 "a attribué au déposant du flux"))
    elif not _ID_CLIENT.fullmatch(emetteur):
        problems.append(Probleme(f"[{SECTION}] id_client_emetteur", f"« {emetteur} » : 8 "
                                 "lettres ou chiffres attendus"))
    certificateur = _text(section, "id_client_certificateur", problems) or emetteur
    if certificateur and not _ID_CLIENT.fullmatch(certificateur):
        problems.append(Probleme(f"[{SECTION}] id_client_certificateur", f"« {certificateur} » "
                                 ": 8 lettres ou chiffres attendus"))
    contrat = _text(section, "id_contrat", problems)
    if not contrat:
        problems.append(Probleme(f"[{SECTION}] id_contrat", "réglage manquant : le numéro de "
                                 "contrat du certificateur avec la Caisse des Dépôts"))
    elif len(contrat) > 20:
        problems.append(Probleme(f"[{SECTION}] id_contrat", f"« {contrat} » : 20 caractères "
                                 "au plus"))

    nature = _choice(section, "nature_deposant", NATURES_DEPOSANT, "CERTIFICATEUR", problems)
    passage = _choice(section, "modalite_passage_examen", MODALITES_PASSAGE, "EN_PRESENTIEL",
                      problems)
    formation = _choice(section, "modalite_acces_formation", MODALITES_ACCES, "", problems)
    mixte = _choice(section, "modalite_acces_parcours_mixte", MODALITES_ACCES, "", problems)
    vae = _choice(section, "voie_acces_vae", VOIES_VAE, "", problems)

    duree = section.get("duree_validite_annees", 0)
    if isinstance(duree, bool) or not isinstance(duree, int) or not 0 <= duree <= 99:
        problems.append(Probleme(f"[{SECTION}] duree_validite_annees", f"« {duree} » : un "
                                 "nombre entier d'années (0 : validité sans limite)"))
        duree = 0
    dossier = _text(section, "dossier", problems) or "accrochage"
    if Path(dossier).is_absolute() or ".." in Path(dossier).parts:
        problems.append(Probleme(f"[{SECTION}] dossier", f"« {dossier} » : un dossier relatif "
                                 "à l'espace de travail est attendu"))

    if problems:
        raise AccrochageReglagesInvalides(fichier, problems)
    return Reglages(emetteur, certificateur, contrat, nature, passage, formation, mixte, vae,
                    duree, dossier)
