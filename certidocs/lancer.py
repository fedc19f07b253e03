"""`certidocs lancer`: look at a session folder and do the step that is due.

The steps, in order: check session.xlsx; create the grids (and the pre-exam documents); wait
for the jurors; once every grid is back complete, compute the results (and the post-exam
documents). Each run says what it did, what it is waiting for and what to do next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from certidocs.pipeline import GRILLES, Progress, _noop, emission, expects_grid, open_checked
from certidocs.resultats import JSON_NAME

SHOWN_CELLS = 5
"""5 empty cells named per grid in `lancer`'s summary: enough to find them in a short grid;
the full list is in resultats.json and the Anomalies sheet."""


@dataclass
class LancerReport:
    """What `lancer` did, what it awaits, and the next action for the coordinator."""

    fait: list[str] = field(default_factory=list)
    attente: str = ""
    prochaine: str = ""
    resultats: Any = None


def _documents(dossier: Path, stage: str) -> list[Path]:
    from certidocs import api

    return list(api.documents(dossier, stage=stage).fichiers)


def _pre_exam_documents_exist(dossier: Path) -> bool:
    """Whether the convocations were produced (their folder holds a document)."""
    folder = dossier / "documents" / "convocation_candidat"
    return folder.is_dir() and any(folder.glob("*.docx"))


def lancer(dossier: Path, progress: Progress = _noop) -> LancerReport:
    """Do whatever step is due for the session in ``dossier``."""
    from certidocs import api
    from certidocs.grid.reader import read_grid
    from certidocs.grid.writer import grid_filename

    opened = open_checked(dossier)
    session, ref = opened.lecture.session, opened.referentiel
    report = LancerReport(fait=["session.xlsx vérifiée : aucune erreur"])
    expected = [c for c in session.candidats if expects_grid(c)]
    grids = {c.numero: dossier / GRILLES / grid_filename(c) for c in expected}
    if not all(p.exists() for p in grids.values()):
        made = api.grilles(dossier, progress)
        report.fait.append(f"{len(made.creees)} grille(s) créée(s) dans {dossier / GRILLES}")
        docs = _documents(dossier, "avant")
        if docs:
            report.fait.append(f"{len(docs)} document(s) d'avant l'examen produits "
                               "(convocations, émargement, convocation du jury)")
        report.attente = f"les {len(expected)} grilles remplies par les jurés"
        report.prochaine = (f"envoyez les convocations, puis confiez aux jurés les grilles de "
                            f"{dossier / GRILLES} ; une fois remplies, remettez-les dans ce "
                            f"dossier et relancez « certidocs lancer {dossier} »")
        return report
    if not (dossier / JSON_NAME).exists() and not _pre_exam_documents_exist(dossier):
        # grids made by hand with « certidocs grilles », which makes no document: the
        # convocations and the attendance sheet would otherwise never be produced
        docs = _documents(dossier, "avant")
        if docs:
            report.fait.append(f"{len(docs)} document(s) d'avant l'examen produits, qui "
                               "manquaient (convocations, émargement, convocation du jury : "
                               f"{dossier / 'documents'}) ; envoyez les convocations")
    complete, missing = 0, []
    issued = emission(opened)
    for i, c in enumerate(expected, start=1):
        reading = read_grid(grids[c.numero], referentiel=ref, session_nom=session.nom,
                            candidat=c, blocs=c.blocs(ref),
                            fichier_affiche=f"{GRILLES}/{grids[c.numero].name}",
                            dossier=dossier, emission=issued)
        if reading.anomalies:
            missing.append(f"{c.numero} {c.nom.upper()} {c.prenom} ({len(reading.anomalies)} "
                           "anomalie(s))")
        elif reading.non_evalues:
            cells = [a.cellule for a in reading.non_evalues]
            shown = ", ".join(cells[:SHOWN_CELLS]) + (" …" if len(cells) > SHOWN_CELLS else "")
            missing.append(f"{c.numero} {c.nom.upper()} {c.prenom} ({len(cells)} critère(s) "
                           f"non évalué(s) : {shown})")
        else:
            complete += 1
        progress(i, len(expected))
    if missing:
        report.fait.append(f"{complete} grille(s) complète(s) sur {len(expected)} ; manquent : "
                           + ", ".join(missing))
        report.attente = f"{len(missing)} grille(s) encore à compléter ou à corriger"
        report.prochaine = (f"faites compléter les grilles citées, puis relancez « certidocs "
                            f"lancer {dossier} » (chaque case vide et chaque anomalie, grille "
                            f"par grille : « certidocs resultats {dossier} », qui les liste "
                            "dans resultats.json et la feuille Anomalies de resultats.xlsx)")
        return report
    results_file = dossier / JSON_NAME
    newest_grid = max(p.stat().st_mtime for p in grids.values()) if grids else 0.0
    if results_file.exists() and results_file.stat().st_mtime >= max(
            newest_grid, (dossier / "session.xlsx").stat().st_mtime):
        report.fait.append(f"{complete} grille(s) complète(s) sur {len(expected)} ; résultats "
                           "déjà à jour")
        report.prochaine = ("rien à faire : relisez resultats.xlsx, faites signer le "
                            "procès-verbal et envoyez les notifications"
                            + _rappel(dossier, opened))
        return report
    report.fait.append(f"{complete} grille(s) complète(s) sur {len(expected)}")
    report.resultats = api.resultats(dossier, progress)
    report.fait.append(f"résultats calculés : {report.resultats.xlsx_path}")
    docs = _documents(dossier, "apres")
    if docs:
        report.fait.append(f"{len(docs)} document(s) produits (procès-verbal, fiches, "
                           "certificats, attestations, notifications)")
    report.prochaine = ("relisez resultats.xlsx, faites signer le procès-verbal par le jury, "
                        "contresignez-le et envoyez les notifications" + _rappel(dossier, opened))
    return report


def _rappel(dossier: Path, opened: Any) -> str:
    """The reminder to declare the holders to the Caisse des Dépôts within three months."""
    from certidocs.rules import DELAI_DECLARATION_MOIS, limite_declaration

    if not opened.referentiel.certification.rncp:
        return ""
    info = opened.lecture.session.info
    day = info.date_deliberation or info.date_fin or info.date_debut
    by = f" (au plus tard le {limite_declaration(day):%d/%m/%Y})" if day else ""
    return (f" ; déclarez les titulaires à la Caisse des Dépôts dans les "
            f"{DELAI_DECLARATION_MOIS} mois suivant la délivrance{by} : « certidocs accrochage "
            f"exporter --session {dossier} »")
