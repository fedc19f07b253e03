"""The holder's identity as the Caisse des Dépôts needs it, checked before anything is sent.

The CDC matches a declared holder to a person by birth name, first names, sex, birth date and
birth place. A holder whose identity lacks any of them, or holds one the schema would refuse, is
left out of the flux with the list of what is missing: a half-filled declaration would be
rejected, or worse, attached to the wrong person. Pure functions: no file, no register.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from certidocs.accrochage.pays import FRANCE, code_pays, nom_pays

LONGUEUR_MAX = 60  # nomNaissance, nomUsage, prenom1..3, libellés: maxLength 60 in the XSD
PRENOMS_MAX = 3  # prenom1, prenom2, prenom3
SEXES = ("F", "M")

# Letters of any alphabet, with the separators civil-status names use (space, hyphen,
# apostrophe, full stop as in « St. »). Digits and symbols mean a typing slip.
_NOM = re.compile(r"[^\W\d_]+(?:[ '\-.]+[^\W\d_]+)*\.?")
# A commune: five digits, or 2A/2B and three digits for Corsica. 99xxx are countries.
_INSEE = re.compile(r"(?:\d{2}|2[AB])\d{3}")


@dataclass(frozen=True)
class LieuNaissance:
    """Where a holder was born, in the CDC's terms."""

    code_insee: str  # commune, or 99 + country code for a birth abroad
    libelle_commune: str = ""
    code_pays: str = ""  # three digits, births abroad only
    libelle_pays: str = ""


@dataclass(frozen=True)
class Titulaire:
    """A holder whose identity is complete and well-formed."""

    nom_naissance: str
    prenoms: tuple[str, ...]
    date_naissance: dt.date
    sexe: str
    lieu: LieuNaissance
    nom_usage: str = ""


def _clean(text: str | None) -> str:
    """NFC, typographic apostrophes made plain, spaces collapsed, control characters (which
    XML cannot carry, and which only come from pasting) dropped."""
    value = unicodedata.normalize("NFC", text or "").replace("’", "'")
    value = " ".join(value.split())
    return "".join(c for c in value if unicodedata.category(c) != "Cc")


def _nom(value: str, label: str, manques: list[str]) -> str:
    if not value:
        manques.append(f"{label} manquant")
    elif len(value) > LONGUEUR_MAX:
        manques.append(f"{label} « {value} » trop long ({len(value)} caractères, "
                       f"{LONGUEUR_MAX} au plus)")
    elif not _NOM.fullmatch(value):
        manques.append(f"{label} « {value} » mal formé (lettres, espaces, traits d'union et "
                       "apostrophes seulement)")
    return value


def prenoms(saisie: str) -> tuple[str, ...]:
    """The first names of a « Prénom » cell: separated by commas (or semicolons), in order.

    A space does not separate first names: « Anne Sophie » may be one compound first name, and
    only the civil status can tell; « Jean-Pierre, Marie » is two.
    """
    return tuple(p for p in (_clean(part) for part in re.split(r"[,;]", saisie)) if p)


def _lieu(code_insee: str, pays: str, lieu: str, manques: list[str]) -> LieuNaissance | None:
    code = _clean(code_insee).upper().replace(" ", "")
    pays_saisi = _clean(pays)
    commune = _clean(lieu)
    if len(commune) > LONGUEUR_MAX:
        manques.append(f"lieu de naissance « {commune} » trop long ({len(commune)} caractères, "
                       f"{LONGUEUR_MAX} au plus)")
        return None
    pays_code = code_pays(pays_saisi) if pays_saisi else None
    if pays_saisi and pays_code is None:
        manques.append(f"pays de naissance « {pays_saisi} » inconnu : indiquez son code INSEE à "
                       "3 chiffres (par exemple 134 pour l'Espagne)")
        return None
    if code.startswith("99") and len(code) == 5:
        # A country typed in the commune column: accepted, it is what the CDC receives.
        from_code = code_pays(code)
        if from_code is None or from_code == FRANCE:
            manques.append(f"code INSEE de naissance « {code} » mal formé (99 suivi du code "
                           "pays à 3 chiffres pour une naissance à l'étranger)")
            return None
        if pays_code not in (None, from_code):
            manques.append(f"code INSEE de naissance « {code} » et pays de naissance "
                           f"« {pays_saisi} » ne concordent pas")
            return None
        pays_code, code = from_code, ""
    if code:
        if not _INSEE.fullmatch(code):
            manques.append(f"code INSEE de la commune de naissance « {code} » mal formé "
                           "(5 caractères : chiffres, ou 2A / 2B pour la Corse)")
            return None
        if pays_code not in (None, FRANCE):
            manques.append(f"code INSEE de la commune de naissance « {code} » donné avec le pays "
                           f"de naissance « {pays_saisi} » : une commune française ou un pays "
                           "étranger, pas les deux")
            return None
        return LieuNaissance(code, commune, "", "France")
    if pays_code is None:
        manques.append("lieu de naissance manquant : code INSEE de la commune (né(e) en France) "
                       "ou pays de naissance (né(e) à l'étranger)")
        return None
    if pays_code == FRANCE:
        manques.append("code INSEE de la commune de naissance manquant (né(e) en France)")
        return None
    libelle = nom_pays(pays_code) or ("" if pays_saisi[:1].isdigit() else pays_saisi)
    return LieuNaissance(f"99{pays_code}", commune, pays_code, libelle[:LONGUEUR_MAX])


def _date(value: dt.date | str | None, manques: list[str]) -> dt.date | None:
    """The birth date (the register keeps it as ISO text), within the XSD's years."""
    if isinstance(value, str) and value:
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            manques.append(f"date de naissance « {value} » illisible")
            return None
    if not isinstance(value, dt.date):
        manques.append("date de naissance manquante")
        return None
    if not 1900 <= value.year <= 2099:
        manques.append(f"date de naissance {value:%d/%m/%Y} hors des années 1900 à 2099")
        return None
    return value


def verifier_identite(*, nom_naissance: str | None, prenom: str | None,
                      date_naissance: dt.date | str | None, sexe: str | None,
                      code_insee_naissance: str | None, pays_naissance: str | None,
                      lieu_naissance: str | None = "", nom_usage: str | None = ""
                      ) -> tuple[Titulaire | None, list[str]]:
    """The holder, or None and every missing or ill-formed part (in French, field named)."""
    manques: list[str] = []
    nom = _nom(_clean(nom_naissance), "nom de naissance", manques)
    usage = _clean(nom_usage)
    if usage:
        _nom(usage, "nom d'usage", manques)
    names = prenoms(prenom or "")
    if not names:
        manques.append("prénom manquant")
    for name in names[:PRENOMS_MAX]:
        _nom(name, "prénom", manques)
    sex = _clean(sexe).upper()
    if not sex:
        manques.append("sexe manquant (colonne Sexe : F ou M)")
    elif sex not in SEXES:
        manques.append(f"sexe « {sex} » : F ou M attendu")
    born = _date(date_naissance, manques)
    lieu = _lieu(code_insee_naissance or "", pays_naissance or "", lieu_naissance or "",
                 manques)
    if manques or lieu is None or born is None:
        return None, manques
    # The XSD has room for three first names; later ones are not part of the CDC's matching.
    return Titulaire(nom, names[:PRENOMS_MAX], born, sex, lieu, usage), manques
