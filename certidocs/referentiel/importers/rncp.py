"""Import one fiche of France Compétences' public RNCP export (XML, flux 4.1).

The export gives the certification's identity (number, title, level, NSF code, certifier) and
its blocs with their official codes (RNCP…BC01), titles, compétences as free text and the
evaluation modalities. It never holds the evaluation criteria: each bloc is written with
``criteres: []`` and a note saying they must be copied from the référentiel d'évaluation.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from certidocs.errors import ImportErreur
from certidocs.referentiel.importers.common import (
    Draft,
    DraftBloc,
    DraftCompetence,
    fold_spaces,
)

CRITERES_ABSENTS = ("critères d'évaluation absents de l'export RNCP : à compléter depuis le "
                    "référentiel d'évaluation")
_GAP = re.compile(r"\s{3,}")  # the export turns line breaks into runs of spaces
_TOP = re.compile(r"^[*•]\s+")
_SUB = re.compile(r"^(?:o|○|◦|-)\s+")
_LEVEL = re.compile(r"(\d)")


def _load(path: Path) -> Any:
    from lxml import etree

    # No entities, no network: an XML file may try to read other files through them.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                             remove_comments=True)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportErreur(f"{path} : lecture impossible ({exc.strerror or exc})") from None
    try:
        # From bytes, not from the path: lxml then reports a wrong encoding as a syntax error
        # with its line, instead of an OSError in English.
        tree = etree.ElementTree(etree.fromstring(raw, parser))
    except etree.XMLSyntaxError as exc:
        where = f"ligne {exc.lineno}" if getattr(exc, "lineno", None) else "début du fichier"
        if "encoding" in str(exc).lower():
            raise ImportErreur(f"{path} : {where} : caractère hors UTF-8 alors que le fichier "
                               "ne déclare pas d'autre encodage (export en Latin-1 ou "
                               "Windows-1252 ?) ; enregistrez-le en UTF-8, ou ajoutez en "
                               "première ligne <?xml version=\"1.0\" "
                               "encoding=\"ISO-8859-1\"?>") from None
        raise ImportErreur(f"{path} : XML illisible ({where} : balise non fermée, caractère "
                           "interdit ou fichier tronqué) ; ce n'est pas un export RNCP "
                           "valide") from None
    for element in tree.getroot().iter():
        # Some tools add a default namespace to the export: the tag names are what counts.
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.split("}", 1)[1]
    return tree


def _text(node: Any, path: str) -> str:
    found = node.find(path)
    return fold_spaces(found.text or "") if found is not None and found.text else ""


def _root(path: Path) -> Any:
    root = _load(path).getroot()
    tag = root.tag if isinstance(root.tag, str) else ""
    if tag != "FICHES" or root.find("FICHE") is None:
        raise ImportErreur(f"{path} : ce n'est pas un export RNCP de France Compétences "
                           f"(balise racine « {tag or '?'} », attendu « FICHES » contenant des "
                           "« FICHE »)")
    return root


def read_rncp(path: Path, fiche: str | None) -> Draft:
    """The draft référentiel of one fiche; ``fiche`` is needed when the export holds several."""
    root = _root(path)
    fiches = list(root.iter("FICHE"))
    numbers = [_text(f, "NUMERO_FICHE") for f in fiches]
    if fiche is None:
        if len(fiches) > 1:
            raise ImportErreur(f"{path} contient {len(fiches)} fiches "
                               f"({', '.join(numbers)}) : choisissez-en une avec --fiche, par "
                               f"exemple --fiche {numbers[0]}")
        chosen = fiches[0]
    else:
        wanted = _fiche_key(fiche)
        matches = [f for f, n in zip(fiches, numbers, strict=True) if _fiche_key(n) == wanted]
        if not matches:
            raise ImportErreur(f"{path} : la fiche « {fiche} » n'est pas dans ce fichier "
                               f"(fiches présentes : {', '.join(numbers)})")
        chosen = matches[0]
    return _draft(path, chosen, root)


def _fiche_key(number: str) -> str:
    digits = re.sub(r"\D", "", number)
    return digits.lstrip("0") or number.strip().upper()


def _draft(path: Path, fiche: Any, root: Any) -> Draft:
    numero = _text(fiche, "NUMERO_FICHE").upper()
    if not re.fullmatch(r"RNCP\d{1,6}", numero):
        numero = f"RNCP{re.sub(r'[^0-9]', '', numero)}" if re.search(r"\d", numero) else ""
    if not numero:
        raise ImportErreur(f"{path} : fiche sans NUMERO_FICHE : export RNCP incomplet")
    intitule = _text(fiche, "INTITULE")
    niveau_code = _text(fiche, "NOMENCLATURE_EUROPE/NIVEAU")
    level = _LEVEL.search(niveau_code)
    nsf = [_text(n, "CODE") for n in fiche.iter("NSF") if _text(n, "CODE")]
    certifiers = [_text(c, "NOM_CERTIFICATEUR") for c in fiche.iter("CERTIFICATEUR")
                  if _text(c, "NOM_CERTIFICATEUR")]
    draft = Draft({
        "code": numero,
        "rncp": numero,
        "intitule": intitule or f"Intitulé à compléter ({numero})",
        "niveau": int(level.group(1)) if level and 1 <= int(level.group(1)) <= 8 else None,
        "nsf": nsf[0] if nsf else None,
        "certificateur": " ; ".join(certifiers) if certifiers else None,
        "source": f"{path.name} (fiche {numero})",
    }, genre="export RNCP de France Compétences")
    version = _text(root, "VERSION_FLUX")
    if version and version != "4.1":
        draft.note("certification", f"Export RNCP en version {version} du flux (lu comme la "
                                    "version 4.1) : vérifiez chaque valeur.")
    if not intitule:
        draft.note("certification.intitule", "La fiche n'a pas d'INTITULE : à compléter.")
    if len(nsf) > 1:
        draft.note("certification.nsf", f"La fiche a plusieurs codes NSF ({', '.join(nsf)}) : "
                                        "le premier est repris.")
    if len(certifiers) > 1:
        draft.note("certification.certificateur", "La fiche a plusieurs certificateurs : "
                                                  "noms séparés par « ; », à vérifier.")
    if niveau_code and not level:
        draft.note("certification.niveau", f"Niveau « {niveau_code} » non reconnu : à "
                                           "compléter.")
    for rank, node in enumerate(fiche.iter("BLOC_COMPETENCES"), start=1):
        draft.blocs.append(_bloc(draft, node, numero, rank))
    if not draft.blocs:
        raise ImportErreur(f"{path} : la fiche {numero} ne décrit aucun bloc de compétences ; "
                           "rien à importer")
    return draft


def _bloc(draft: Draft, node: Any, numero: str, rank: int) -> DraftBloc:
    code = re.sub(r"[^A-Za-z0-9._-]", "", _text(node, "CODE"))[:32]
    bloc = DraftBloc(code or f"{numero}BC{rank:02d}", _text(node, "LIBELLE") or f"Bloc {rank}",
                     criteres_absents=True)
    if not code:
        draft.note(bloc, "Bloc sans CODE dans l'export : code généré d'après son rang.", ".code")
    if not _text(node, "LIBELLE"):
        draft.note(bloc, "Bloc sans LIBELLE dans l'export : intitulé à compléter.", ".intitule")
    # Some exports keep the HTML of the RNCP site: a tag separates items like a line break.
    raw = re.sub(r"<[^>]+>", "   ", node.findtext("LISTE_COMPETENCES") or "")
    items = _items(html.unescape(raw))
    two_levels = any(level == 1 for level, _ in items)
    top = sub = 0
    for level, text in items:
        if level == 0:
            top, sub = top + 1, 0
            comp_code = f"{bloc.code}-C{top}"
        else:
            sub += 1
            comp_code = f"{bloc.code}-C{max(top, 1)}.{sub}"
        bloc.competences.append(DraftCompetence(None, text, code=comp_code))
    if not bloc.competences:
        draft.note(bloc, "LISTE_COMPETENCES vide dans l'export : compétences à compléter.",
                   ".competences")
    else:
        how = ("sur deux niveaux (« * » puis « o ») : chaque ligne est une compétence, les "
               "lignes « o » codées sous la leur (C1.1, C1.2…)" if two_levels else
               "une compétence par ligne")
        draft.note(bloc, f"Compétences découpées dans le texte libre de l'export, {how} ; "
                         "codes générés : à vérifier.", ".competences")
    modalites = re.sub(r"<[^>]+>", "   ", node.findtext("MODALITES_EVALUATION") or "")
    bloc.modalites = [fold_spaces(p) for p in _GAP.split(html.unescape(modalites)) if p.strip()]
    draft.note(bloc, CRITERES_ABSENTS, ".criteres")
    return bloc


def _items(raw: str) -> list[tuple[int, str]]:
    """The compétences of a LISTE_COMPETENCES text: (0, top item) or (1, sub-item)."""
    out: list[tuple[int, str]] = []
    for piece in _GAP.split(raw):
        piece = fold_spaces(piece)
        if not piece:
            continue
        if _TOP.match(piece):
            out.append((0, _TOP.sub("", piece)))
        elif _SUB.match(piece) and out:
            out.append((1, _SUB.sub("", piece)))
        else:
            out.append((0, piece.lstrip("-•* ").strip()))
    return [(level, text) for level, text in out if text]
