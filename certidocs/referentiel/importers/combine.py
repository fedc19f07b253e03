"""Combine an RNCP fiche with the certifier's own référentiel (Word table or text export).

The fiche is authoritative for what France Compétences registered: the certification's identity
and dates, the official bloc codes and titles. It has no evaluation criteria; the certifier's
document has them, with its compétences, but often under its own bloc codes (« BC01 », « Bloc
2 ») and slightly different titles. Each document bloc is matched to an official bloc by code
(same code, or same bloc number: ``BC01`` ↔ ``RNCP35340BC01``), else by title (accents, case and
spaces ignored, then close wording); a matched bloc takes the official code and title, its
compétences and criteria are the document's. Whatever could not be matched, on either side,
becomes an ``a_verifier`` entry: nothing is dropped silently.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from certidocs.referentiel.importers.common import Draft, DraftBloc, fold_accents, fold_spaces
from certidocs.referentiel.importers.rncp import BlocOfficiel, Fiche, certification_draft

SEUIL_TITRE = 0.8
"""Similarity (difflib ratio, 0 to 1) from which two bloc titles are taken as the same bloc;
below it a person decides. 0.8 accepts a changed article or plural, not another activity."""

_NUMBER = re.compile(r"(?:BC|BLOC)[\s_-]*0*(\d{1,3})$", re.IGNORECASE)


def _number(code: str) -> int | None:
    found = _NUMBER.search(code.strip())
    return int(found.group(1)) if found else None


def _title(text: str) -> str:
    return fold_spaces(re.sub(r"[^\w ]", " ", fold_accents(text)))


def combiner(document: Draft, fiche: Fiche, export: Path) -> Draft:
    """``document`` (the certifier's référentiel, criteria included) under the identity, dates
    and official blocs of ``fiche``; returns the same draft, changed.

    A fiche without blocs (an RS fiche, an older RNCP fiche) gives only its identity and dates;
    every document bloc is kept with a note. Matching follows the module docstring.
    """
    official = certification_draft(fiche, export)
    source = f"{document.certification.get('source')} + {official.certification['source']}"
    official.certification["source"] = source
    # The document's guesses about the identity are replaced by the fiche's values.
    document.notes = [n for n in document.notes
                      if not (isinstance(n.target, str) and n.target.startswith("certification"))]
    document.notes += official.notes
    document.commentaires = {k: v for k, v in document.commentaires.items()
                             if not k.startswith("certification")}
    document.certification = official.certification
    document.genre = f"{document.genre} combiné à la {fiche.nature} {fiche.numero}"
    if not fiche.blocs:
        document.note("blocs", f"La {fiche.nature} {fiche.numero} ne décrit pas de blocs de "
                               "compétences : les blocs du document sont gardés tels quels.")
        return document
    pairs = _match(document.blocs, list(fiche.blocs))
    matched_official = {id(o) for o in pairs.values()}
    for bloc in document.blocs:
        target = pairs.get(id(bloc))
        if target is None:
            document.note(bloc, f"Bloc du document sans correspondance dans la fiche "
                                f"{fiche.numero} (ni code ni intitulé) : rapprochez-le d'un "
                                "bloc officiel ou retirez-le.")
            continue
        _adopt(document, bloc, target)
    for n, off in enumerate(fiche.blocs):
        if id(off) not in matched_official:
            document.note("blocs", f"Bloc officiel {off.code or f'n° {n + 1}'} « {off.intitule} » "
                                   f"de la fiche {fiche.numero} absent du document : ajoutez-le "
                                   "avec ses critères, ou rapprochez-le d'un bloc du document.")
    return document


def _match(blocs: list[DraftBloc], officials: list[BlocOfficiel]) -> dict[int, BlocOfficiel]:
    """Document bloc (by id) → official bloc: codes first, then exact titles, then close ones."""
    pairs: dict[int, BlocOfficiel] = {}
    free = list(officials)

    def take(bloc: DraftBloc, off: BlocOfficiel) -> None:
        pairs[id(bloc)] = off
        free.remove(off)

    for bloc in blocs:
        for off in free:
            if bloc.code.upper() == off.code.upper():
                take(bloc, off)
                break
    for bloc in blocs:
        if id(bloc) in pairs:
            continue
        for off in free:
            if _title(bloc.intitule) == _title(off.intitule):
                take(bloc, off)
                break
    for bloc in blocs:
        if id(bloc) in pairs:
            continue
        best = max(free, default=None, key=lambda off: _ratio(bloc.intitule, off.intitule))
        if best is not None and _ratio(bloc.intitule, best.intitule) >= SEUIL_TITRE:
            take(bloc, best)
    for bloc in blocs:
        if id(bloc) in pairs:
            continue
        number = _number(bloc.code)
        for off in free:
            if number is not None and number == _number(off.code):
                take(bloc, off)
                break
    return pairs


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, _title(a), _title(b)).ratio()


def _adopt(draft: Draft, bloc: DraftBloc, official: BlocOfficiel) -> None:
    """Give ``bloc`` the official code and title; recode its compétences and criteria that
    carried the old bloc code as a prefix, so that links between them still hold."""
    old = bloc.code
    if official.code and official.code != old:
        draft.note(bloc, f"Code du document « {old} » remplacé par le code officiel "
                         f"{official.code}.", ".code")
        renamed: dict[str, str] = {}
        for comp in bloc.competences:
            if comp.code.startswith(f"{old}-"):
                renamed[comp.code] = official.code + comp.code[len(old):]
                comp.code = renamed[comp.code]
        for crit in bloc.criteres:
            if crit.code.startswith(f"{old}-"):
                crit.code = official.code + crit.code[len(old):]
            crit.competences = [renamed.get(c, c) for c in crit.competences]
        bloc.code = official.code
    if official.intitule and _title(official.intitule) != _title(bloc.intitule):
        draft.note(bloc, f"Intitulé du document « {bloc.intitule} » remplacé par l'intitulé "
                         "officiel de la fiche : vérifiez que c'est bien ce bloc.", ".intitule")
    if official.intitule:
        bloc.intitule = official.intitule
    if not bloc.modalites and official.modalites:
        bloc.modalites = list(official.modalites)
