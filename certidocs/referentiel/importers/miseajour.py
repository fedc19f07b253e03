"""Compare a référentiel with a newer France Compétences export: what changed on the fiche.

France Compétences renews registrations, ends them, renames or recasts blocs; a certifier
learns it from the export. ``comparer`` reads the fiche of the référentiel's number
(``certification.rncp``) and lists, in French, every difference that matters to issuing
certificates: blocs added, renamed or removed; registration renewed, shortened or ended; title
and level changed; fiche replaced by a new one. It only reports: the YAML is left as it is,
since the criteria and compétences are the certifier's and a person decides what to carry over.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from certidocs.errors import ImportErreur
from certidocs.model import Referentiel
from certidocs.referentiel.importers.common import fold_accents, fold_spaces
from certidocs.referentiel.importers.rncp import Fiche, fr_date, trouver_fiche


@dataclass(frozen=True)
class Changement:
    """One difference between the référentiel and the fiche. ``genre`` is a short key
    (« bloc ajouté », « bloc renommé », « bloc retiré », « enregistrement renouvelé »,
    « enregistrement échu »…), ``texte`` the sentence to print."""

    genre: str
    texte: str


@dataclass(frozen=True)
class RapportMiseAJour:
    """Every change France Compétences made to the fiche since the référentiel was written."""

    referentiel: str
    fiche: str
    export: Path
    changements: tuple[Changement, ...]


def _same(a: str, b: str) -> bool:
    return fold_spaces(fold_accents(a)) == fold_spaces(fold_accents(b))


def comparer(ref: Referentiel, export: Path, aujourd_hui: dt.date | None = None
             ) -> RapportMiseAJour:
    """The changes between ``ref`` and its fiche in ``export`` (.zip or .xml).

    ImportErreur when the référentiel has no fiche number or the export lacks that fiche.
    ``aujourd_hui`` (default: today) decides whether the registration has ended.
    """
    numero = ref.certification.rncp
    if not numero:
        raise ImportErreur(f"référentiel {ref.code} : pas de numéro de fiche (certification.rncp) "
                           "; rien à comparer avec l'export")
    fiche = trouver_fiche(export, numero)
    today = aujourd_hui or dt.date.today()
    out = _identite(ref, fiche) + _blocs(ref, fiche) + _enregistrement(ref, fiche, today)
    return RapportMiseAJour(ref.code, fiche.numero, export, tuple(out))


def _identite(ref: Referentiel, fiche: Fiche) -> list[Changement]:
    cert, out = ref.certification, []
    if fiche.intitule and not _same(fiche.intitule, cert.intitule):
        out.append(Changement("intitulé modifié", f"intitulé : « {cert.intitule} » devient "
                                                  f"« {fiche.intitule} »"))
    if fiche.niveau is not None and cert.niveau is not None and fiche.niveau != cert.niveau:
        out.append(Changement("niveau modifié", f"niveau : {cert.niveau} devient "
                                                f"{fiche.niveau}"))
    for nouvelle in fiche.nouvelles_certifications:
        out.append(Changement("fiche remplacée", f"la fiche {fiche.numero} est remplacée par "
                                                 f"{nouvelle} : importez la nouvelle fiche"))
    return out


def _blocs(ref: Referentiel, fiche: Fiche) -> list[Changement]:
    if not fiche.blocs:
        return []
    out: list[Changement] = []
    official = {b.code: b for b in fiche.blocs}
    seen: set[str] = set()
    for bloc in ref.blocs:
        match = official.get(bloc.code)
        if match is None:  # a local code: the same bloc may be recognised by its title
            match = next((b for b in fiche.blocs if _same(b.intitule, bloc.intitule)
                          and b.code not in seen), None)
        if match is None:
            out.append(Changement("bloc retiré", f"bloc {bloc.code} « {bloc.intitule} » absent "
                                                 f"de la fiche {fiche.numero} : retiré ou "
                                                 "refondu par France Compétences"))
            continue
        seen.add(match.code)
        if match.intitule and not _same(match.intitule, bloc.intitule):
            out.append(Changement("bloc renommé", f"bloc {match.code} : « {bloc.intitule} » "
                                                  f"devient « {match.intitule} »"))
    for code, added in official.items():
        if code not in seen:
            out.append(Changement("bloc ajouté", f"bloc {code} « {added.intitule} » ajouté à la "
                                                 f"fiche ({len(added.competences)} "
                                                 "compétence(s)) : critères à écrire"))
    return out


def _enregistrement(ref: Referentiel, fiche: Fiche, today: dt.date) -> list[Changement]:
    cert, out = ref.certification, []
    old, new = cert.date_fin_enregistrement, fiche.date_fin_enregistrement
    if new and old and new > old:
        out.append(Changement("enregistrement renouvelé", f"enregistrement renouvelé jusqu'au "
                                                          f"{fr_date(new)} (au lieu du "
                                                          f"{fr_date(old)})"))
    elif new and old and new < old:
        out.append(Changement("enregistrement écourté", f"fin d'enregistrement avancée au "
                                                        f"{fr_date(new)} (au lieu du "
                                                        f"{fr_date(old)})"))
    elif new and not old:
        out.append(Changement("enregistrement daté", f"fin d'enregistrement : {fr_date(new)} "
                                                     "(absente du référentiel)"))
    if fiche.date_effet and fiche.date_effet != cert.date_effet:
        before = f" (au lieu du {fr_date(cert.date_effet)})" if cert.date_effet else ""
        out.append(Changement("nouvelle décision", f"date d'effet de l'enregistrement : "
                                                   f"{fr_date(fiche.date_effet)}{before}"))
    if new and new < today:
        out.append(Changement("enregistrement échu", f"enregistrement échu le {fr_date(new)} : "
                                                     "plus aucun certificat ne peut être "
                                                     "délivré pour une session postérieure"))
    elif fiche.actif is False:
        out.append(Changement("enregistrement échu", f"la fiche {fiche.numero} n'est plus "
                                                     f"active (état « {fiche.etat} »)"))
    return out
