"""Import a référentiel from the documents certifiers have, into the YAML of FORMAT.md.

Three sources: the Word table submitted to France Compétences (``.docx``), its text export
(``.txt``/``.md``, tab-separated rows with HTML fragments, as the seeds), and the public RNCP
export of France Compétences (``.xml``, flux 4.1). Each guess the importer makes (a generated
code, a row joined after a page break, a criterion linked to every compétence of its row)
becomes an ``a_verifier`` entry of the YAML file, for a person to check.

The file is written atomically and only after it was read back and checked: on any error,
nothing is written; an existing file is never replaced without ``force``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from certidocs.errors import ImportErreur
from certidocs.referentiel.importers.common import Draft, Item, Para, Row, local_code
from certidocs.workspace import CONFIG_NAME, Workspace

SOURCES = {".docx": "tableau Word", ".txt": "export texte", ".md": "export texte",
           ".xml": "export RNCP de France Compétences",
           ".zip": "export RNCP de France Compétences"}
_EXPORTS = (".xml", ".zip")
_PLACEHOLDER = "Intitulé à compléter (absent de la source)"
_GUILLEMETS = re.compile(r"«\s*([^»]{3,200}?)\s*»")
_RNCP = re.compile(r"\bRNCP\s?(\d{3,6})\b")
_NIVEAU = re.compile(r"\bniveau\s+([1-8])\b", re.IGNORECASE)
_TITLE_STYLE = re.compile(r"^(title|titre|heading1|titre1)$", re.IGNORECASE)


def run_import(source: Path, *, sortie: Path | None, fiche: str | None, force: bool,
               workspace: Workspace, export_rncp: Path | None = None) -> str:
    """Import ``source`` into a référentiel YAML file; returns the French summary to print.

    Without ``sortie`` the file is ``referentiels/<code>.yaml`` of ``workspace`` (or
    ``<code>.yaml`` in the current folder when it is not inside a workspace). With
    ``export_rncp`` (France Compétences' export, .zip or .xml), ``source`` is the certifier's
    Word or text référentiel and ``fiche`` the fiche of the export it is combined with
    (combine.py: official identity, dates, bloc codes and titles; the document's compétences
    and criteria). ImportErreur, with nothing written, when the source cannot be imported or
    the file exists without ``force``.
    """
    if not source.exists():
        raise ImportErreur(f"{source} : fichier introuvable")
    if source.is_dir():
        raise ImportErreur(f"{source} : c'est un dossier ; indiquez le fichier du référentiel")
    suffix = source.suffix.lower()
    if suffix not in SOURCES:
        hint = (" ; ouvrez-le dans Word et enregistrez-le au format .docx" if suffix == ".doc"
                else "")
        raise ImportErreur(f"{source} : format « {suffix or 'sans extension'} » non pris en "
                           "charge ; importez un tableau Word (.docx), un export texte (.txt, "
                           f".md) ou un export RNCP de France Compétences (.xml){hint}")
    if export_rncp is not None and suffix in _EXPORTS:
        raise ImportErreur(f"{source} : avec --export-rncp, SOURCE est le référentiel du "
                           "certificateur (tableau Word .docx ou export texte), pas un export "
                           "RNCP")
    if fiche and suffix not in _EXPORTS and export_rncp is None:
        raise ImportErreur(f"{source} : --fiche ne s'applique qu'à un export RNCP (.xml) ou "
                           "à son .zip, ou avec --export-rncp")
    if sortie is not None and sortie.exists() and not force:
        raise ImportErreur(f"{sortie} existe déjà : ajoutez --force pour le remplacer (rien "
                           "n'a été écrit)")
    if export_rncp is not None:
        from certidocs.referentiel.importers.combine import combiner
        from certidocs.referentiel.importers.rncp import trouver_fiche

        found = trouver_fiche(export_rncp, fiche)
        draft = combiner(_read(source, suffix, None), found, export_rncp)
    else:
        draft = _read(source, suffix, fiche)
    target = sortie if sortie is not None else _default_target(workspace, str(
        draft.certification["code"]))
    from certidocs.referentiel.importers.yamlout import write_atomically

    write_atomically(render(draft), target, force=force,
                     check=lambda tmp: _check(tmp, draft, source))
    return summary(draft, target)


def _read(source: Path, suffix: str, fiche: str | None) -> Draft:
    if suffix in _EXPORTS:
        from certidocs.referentiel.importers.rncp import read_rncp

        return read_rncp(source, fiche)
    notes: list[str] = []
    if suffix == ".docx":
        from certidocs.referentiel.importers.docx import read_docx

        items = read_docx(source)
    else:
        from certidocs.referentiel.importers.text import read_text

        items, notes = read_text(source)
    return from_items(items, source, SOURCES[suffix], notes)


def from_items(items: list[Item], source: Path, genre: str, notes: list[str]) -> Draft:
    """The draft référentiel of a document read as paragraphs and table rows."""
    from certidocs.referentiel.importers import regles
    from certidocs.referentiel.importers.table import TableReader

    paragraphs = [i for i in items if isinstance(i, Para)]
    rules = regles.detect(p.text for p in paragraphs)
    draft = Draft(_certification(items, source), genre=genre)
    for note in notes:
        draft.note("certification.source", note[0].upper() + note[1:] + ".")
    _certification_notes(draft, items, source)
    if rules.certificateur:
        draft.certification["certificateur"] = rules.certificateur
        draft.note("certification.certificateur", f"Certificateur déduit de la phrase "
                                                  f"« {rules.certificateur_source} » : à "
                                                  "confirmer.")
    draft.regles = rules.as_yaml()
    commented: set[str] = set()
    for key, sentence in rules.sources.items():
        if sentence not in commented:  # one sentence often gives two values: quote it once
            commented.add(sentence)
            draft.commentaires.setdefault(f"regles.{key}", []).append(f"« {sentence} »")
    if rules.voies_acces:
        draft.voies_acces = rules.voies_acces
        draft.commentaires["voies_acces"] = ["voies d'accès citées par la source"]
    draft.blocs = TableReader(items, source.name, draft).read()
    if not draft.blocs:
        raise ImportErreur(f"{source} : aucun bloc trouvé dans le tableau (ni compétences ni "
                           "critères) ; rien n'a été écrit")
    empty = [b for b in draft.blocs if not b.criteres]
    if empty:
        names = " ; ".join(f"{b.code} « {b.intitule} » ({b.where})" for b in empty)
        raise ImportErreur(f"{source} : aucun critère d'évaluation trouvé pour le(s) bloc(s) "
                           f"{names} ; vérifiez que la dernière colonne du tableau contient les "
                           "critères (rien n'a été écrit)")
    return draft


def _certification(items: list[Item], source: Path) -> dict[str, object]:
    before_table: list[Para] = []
    for item in items:
        if isinstance(item, Row):
            break
        before_table.append(item)
    paragraphs = [i for i in items if isinstance(i, Para)]
    intitule = None
    for para in before_table:
        match = _GUILLEMETS.search(para.text)
        if match and para.text.upper().startswith(("RÉFÉRENTIEL", "REFERENTIEL")):
            intitule = match.group(1)
            break
    if intitule is None:
        for para in before_table:
            if _TITLE_STYLE.match(para.style) and not para.text.lower().startswith("bloc"):
                intitule = para.text
                break
    rncp = None
    niveau = None
    for para in paragraphs:
        found = _RNCP.search(para.text)
        if found and rncp is None:
            rncp = f"RNCP{found.group(1)}"
        level = _NIVEAU.search(para.text)
        if level and niveau is None and re.search(r"RNCP|certification|titre|dipl[ôo]me",
                                                  para.text, re.IGNORECASE):
            niveau = int(level.group(1))
    return {"code": rncp or local_code(source.stem), "rncp": rncp,
            "intitule": intitule or _PLACEHOLDER, "niveau": niveau, "nsf": None,
            "certificateur": None, "source": source.name}


def _certification_notes(draft: Draft, items: list[Item], source: Path) -> None:
    cert = draft.certification
    if cert["rncp"]:
        draft.note("certification.code", f"Numéro de fiche {cert['rncp']} trouvé dans le texte "
                                          "de la source : repris comme code ; à confirmer.")
    else:
        draft.note("certification.code", f"Code local tiré du nom du fichier « {source.name} » "
                                          "(la source ne donne pas de numéro RNCP) : remplacez-"
                                          "le par le code officiel ou un code court.")
    if cert["intitule"] == _PLACEHOLDER:
        draft.note("certification.intitule", "La source n'énonce pas l'intitulé de la "
                                             "certification : valeur provisoire à remplacer par "
                                             "l'intitulé exact.")
    else:
        draft.note("certification.intitule", "Intitulé tiré du titre du document : graphie "
                                             "exacte (telle qu'imprimée sur le certificat) à "
                                             "confirmer.")
    if cert["niveau"] is not None:
        draft.note("certification.niveau", "Niveau lu dans le texte de la source : à confirmer.")


def _default_target(workspace: Workspace, code: str) -> Path:
    """``referentiels/<code>.yaml`` of the workspace we are in, else ``<code>.yaml`` here."""
    here = Path.cwd().resolve()
    root = workspace.root.resolve()
    if (root / CONFIG_NAME).is_file() and (here == root or root in here.parents):
        folder = workspace.referentiels_dir
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ImportErreur(f"{folder} : dossier impossible à créer ({exc.strerror})") \
                from None
        return folder / f"{code}.yaml"
    return here / f"{code}.yaml"


def render(draft: Draft) -> str:
    """The YAML text of ``draft``, with its explanatory comments."""
    from certidocs.referentiel.importers.rncp import CRITERES_ABSENTS
    from certidocs.referentiel.importers.yamlout import draft_data, dump

    comments = dict(draft.commentaires)
    for i, bloc in enumerate(draft.blocs):
        if bloc.criteres_absents:
            comments[f"blocs[{i}].criteres"] = [CRITERES_ABSENTS]
    header = [f"Référentiel importé par certidocs depuis {draft.certification.get('source')} — "
              f"{draft.genre}.",
              "Format : referentiels/FORMAT.md. Relisez chaque point de « a_verifier » (en fin "
              "de fichier), corrigez",
              "si besoin, puis retirez-le ; contrôlez le fichier avec « certidocs referentiel "
              "verifier »."]
    if draft.criteres_absents:
        header += ["", "À COMPLÉTER AVANT USAGE : l'export RNCP ne contient pas les critères "
                       "d'évaluation. Ajoutez-les",
                   "dans « criteres » de chaque bloc (code, libelle, competences) ; d'ici là, "
                   "« certidocs referentiel", "verifier » refuse ce fichier."]
    return dump(draft_data(draft), header, comments)


def _check(tmp: Path, draft: Draft, source: Path) -> None:
    """Refuse to write a file that the référentiel reader would not accept."""
    from certidocs.referentiel import read_referentiel
    from certidocs.referentiel.importers.yamlout import is_expected_gap

    _, problems = read_referentiel(tmp)
    blocking = [p for p in problems if p.grave
                and not (draft.criteres_absents and is_expected_gap(p.lieu, p.message))]
    if blocking:
        details = " ; ".join(f"{p.lieu or '(racine)'} : {p.message}" for p in blocking[:5])
        raise ImportErreur(f"{source} : le référentiel produit ne serait pas valide ({details}) "
                           "; rien n'a été écrit")


def summary(draft: Draft, target: Path) -> str:
    """What was imported, in French: counts per bloc, points to check, what to do next."""
    try:
        shown = os.path.relpath(target)
    except ValueError:
        shown = str(target)
    cert = draft.certification
    n_comp = sum(len(b.competences) for b in draft.blocs)
    n_crit = sum(len(b.criteres) for b in draft.blocs)
    lines = [f"Référentiel importé : {shown}",
             f"  {cert['intitule']} (code {cert['code']})",
             f"  source : {cert['source']} — {draft.genre}",
             f"  {len(draft.blocs)} bloc(s), {n_comp} compétence(s), {n_crit} critère(s)"]
    for bloc in draft.blocs:
        lines.append(f"    {bloc.code}  {_short(bloc.intitule)} : {len(bloc.competences)} "
                     f"compétence(s), {len(bloc.criteres)} critère(s)")
    points = draft.points
    if points:
        lines.append(f"  {len(points)} point(s) à vérifier (liste « a_verifier » du fichier) :")
        lines += [f"    - {chemin} : {raison}" for chemin, raison in points]
    if draft.criteres_absents:
        lines += ["",
                  "À COMPLÉTER AVANT USAGE : l'export RNCP ne contient pas les critères "
                  "d'évaluation.",
                  "Ajoutez-les dans « criteres » de chaque bloc, depuis le référentiel "
                  "d'évaluation ;",
                  f"d'ici là « certidocs referentiel verifier {shown} » refuse ce fichier "
                  "(liste vide)."]
    else:
        lines += ["", f"Relisez ces points, puis : certidocs referentiel verifier {shown}"]
    return "\n".join(lines)


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
