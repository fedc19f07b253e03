"""`certidocs bilan`: the annual review for the conseil de perfectionnement.

From the register (decisions and the evidence of each one, criterion by criterion) and the
sessions' session.xlsx (jury composition, dysfunction logs), a Word report built from
templates/bilan.docx and an Excel workbook holding every table the report's figures come
from. Modules: ``donnees`` reads, ``calculs`` makes the tables (pandas, scipy),
``graphiques`` draws (matplotlib), ``classeur`` writes the workbook, ``rapport`` the report.

Both files are written together or not at all, and the same register gives the same bytes
(zip members dated 1 January 1980, PNGs without metadata, the review's date as the only date).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from certidocs.bilan.donnees import BilanError

__all__ = ["BilanError", "BilanReport", "construire_bilan"]


@dataclass(frozen=True)
class BilanReport:
    """What ``construire_bilan`` wrote: the report, the workbook, the tables (pandas
    DataFrames by sheet name) and the charts (``graphiques.Graphique``)."""

    rapport: Path
    classeur: Path
    tables: dict[str, Any]
    graphiques: list[Any]
    sessions: int
    passages: int


def construire_bilan(espace: Path, annee: int, referentiel: str | None = None,
                     sortie: Path | None = None, date_bilan: dt.date | None = None
                     ) -> BilanReport:
    """Write the review of year ``annee`` of the workspace holding ``espace``.

    ``sortie`` is the report (.docx; default ``bilan-AAAA.docx`` in the workspace); the
    workbook is written beside it with the same name in .xlsx. ``date_bilan`` is the date the
    review states (today by default). BilanError for a bad year, output name or an empty year.
    """
    from certidocs.bilan import calculs, classeur, graphiques, rapport
    from certidocs.bilan.donnees import charger
    from certidocs.documents.context import organisme_depuis_config
    from certidocs.documents.render import default_templates_dir, find_template
    from certidocs.workspace import find_workspace

    if not 1900 <= annee <= 2999:
        raise BilanError(f"année « {annee} » invalide : quatre chiffres, par exemple 2026")
    ws = find_workspace(espace)
    target = sortie if sortie is not None else ws.root / f"bilan-{annee}.docx"
    if target.suffix.lower() != ".docx":
        raise BilanError(f"{target} : le rapport est un document Word, son nom doit finir "
                         "par .docx (le classeur est écrit à côté, en .xlsx)")
    if target.is_dir():
        raise BilanError(f"{target} est un dossier : indiquez un nom de fichier .docx")
    workbook = target.with_suffix(".xlsx")
    day = date_bilan or dt.date.today()
    template = find_template("bilan", [ws.templates_dir, default_templates_dir()])
    donnees = charger(ws, annee, referentiel)
    tables = calculs.toutes(donnees)
    charts = graphiques.tous(tables)
    org = organisme_depuis_config(ws.config, ws.root).get("organisme") or {}
    organisme = {"nom": str(org.get("nom") or "Organisme certificateur"),
                 "adresse": str(org.get("adresse") or ""),
                 "logo": _logo(str(org.get("logo") or ""))}
    context = rapport.contexte(donnees, tables, charts, organisme, day, workbook.name)
    perimetre = [("Bilan", context["bilan"]["titre"]),
                 ("Périmètre", context["bilan"]["perimetre"]),
                 ("Données", context["bilan"]["donnees"]),
                 ("État du registre", context["bilan"]["etat_registre"]),
                 ("Établi le", context["bilan"]["date_edition"]),
                 *(("Limite", n) for n in donnees.notes),
                 *((f"Graphique « {g.titre} »", f"{g.lecture} (feuille « {g.feuille} »)")
                   for g in charts),
                 ("Méthode des jurys", context["bilan"]["methode_jurys"]),
                 ("Méthode des jurés", context["bilan"]["methode_jures"]),
                 ("Critères signalés", context["bilan"]["regle_signal"]),
                 ("Intervalles", "Intervalles de confiance à 95 % : de Wilson pour un taux, "
                                 "celui d'un juré compris (scipy.stats.binomtest), de Student "
                                 "pour l'écart moyen d'un jury de session "
                                 "(scipy.stats.ttest_1samp).")]
    data = classeur.ecrire_classeur(tables, perimetre, day)
    _publier(target, workbook, data, lambda tmp: rapport.rendre(template, context, tmp))
    return BilanReport(target, workbook, tables, charts, len(tables["Sessions"]),
                       len(donnees.passages))


def _logo(path: str) -> Any:
    # the same checks and size as every other document's logo
    from certidocs.documents import context

    return context._logo(path)


def _publier(rapport_path: Path, classeur_path: Path, data: bytes, render: Any) -> None:
    """Write the workbook's ``data`` and the report (``render(tmp_path)``) to temporary
    files beside their targets, then rename both: nothing is left half-written."""
    import tempfile

    from certidocs.errors import CertidocsError

    rapport_path.parent.mkdir(parents=True, exist_ok=True)
    temps: list[Path] = []
    try:
        for target in (rapport_path, classeur_path):
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                        dir=target.parent)
            os.close(fd)
            temps.append(Path(name))
        render(temps[0])
        temps[1].write_bytes(data)
        for tmp in temps:
            tmp.chmod(0o644)
        os.replace(temps[1], classeur_path)
        os.replace(temps[0], rapport_path)
    except OSError as exc:
        raise CertidocsError(f"{rapport_path.parent} : écriture impossible ({exc.strerror}) ; "
                             "rien n'a été écrit") from None
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
