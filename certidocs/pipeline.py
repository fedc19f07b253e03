"""The session's steps after preparation: grids for jurors, then results.

Each step reads the session folder as it is, does its work, and returns a report the CLI
prints. Nothing a juror typed is ever overwritten; nothing is decided on a grid that failed a
check.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from certidocs.errors import SessionInvalide
from certidocs.resultats import resultat_json
from certidocs.model import ABSENT, INCOMPLET, Anomalie, Candidat, Resultat
from certidocs.session import SessionOuverte, open_session, verify_session
from certidocs.workspace import Workspace, find_workspace

GRILLES = "grilles"
Progress = Callable[[int, int], None]


def _noop(done: int, total: int) -> None:
    return None


def open_checked(dossier: Path, workspace: Workspace | None = None) -> SessionOuverte:
    """The session, refused (SessionInvalide) when it has blocking problems."""
    ws = workspace or find_workspace(dossier)
    opened = open_session(dossier, ws)
    problems = verify_session(opened)
    if any(p.grave for p in problems):
        raise SessionInvalide(str(dossier / "session.xlsx"), [p for p in problems if p.grave])
    return opened


def expects_grid(c: Candidat) -> bool:
    """A candidate gets a grid unless marked absent or excused (presence is filled on the
    day; grids are prepared before it)."""
    return c.presence not in ("Absent", "Excusé")


# --- grids ------------------------------------------------------------------------------------


@dataclass
class GrillesReport:
    """What `certidocs grilles` did."""

    dossier: Path
    creees: list[Path] = field(default_factory=list)
    renouvelees: list[Path] = field(default_factory=list)
    conservees: list[Path] = field(default_factory=list)
    sans_grille: list[Candidat] = field(default_factory=list)


def grid_password(opened: SessionOuverte) -> str:
    """The sheet password: certidocs.toml's, else one drawn for the session and kept in the
    register (never in a grid)."""
    from certidocs.registre import Registre

    configured = str(opened.workspace.setting("grilles", "mot_de_passe", "") or "")
    if configured:
        return configured
    info = opened.lecture.session.info
    with Registre(opened.workspace.registre_path) as reg:
        return reg.grid_password(opened.cle, opened.lecture.session.nom, info.referentiel,
                                 secrets.token_urlsafe(12))


def generer_grilles(dossier: Path, progress: Progress = _noop) -> GrillesReport:
    """One protected grid per expected candidate; grids holding input are kept as they are."""
    from certidocs.grid.reader import grid_has_input
    from certidocs.grid.writer import ProtectionHash, grid_filename, write_grid

    opened = open_checked(dossier)
    session, ref = opened.lecture.session, opened.referentiel
    report = GrillesReport(dossier)
    folder = dossier / GRILLES
    folder.mkdir(exist_ok=True)
    protection = ProtectionHash.from_password(grid_password(opened))
    organisme = str(opened.workspace.setting("organisme", "nom", "") or "")
    todo = [c for c in session.candidats if expects_grid(c)]
    report.sans_grille = [c for c in session.candidats if not expects_grid(c)]
    for i, c in enumerate(todo, start=1):
        path = folder / grid_filename(c)
        if path.exists() and grid_has_input(path):
            report.conservees.append(path)
        else:
            existed = path.exists()
            write_grid(path, referentiel=ref, session_nom=session.nom, session_info=session.info,
                       candidat=c, blocs=c.blocs(ref), protection=protection,
                       organisme=organisme)
            (report.renouvelees if existed else report.creees).append(path)
        progress(i, len(todo))
    return report


# --- results ----------------------------------------------------------------------------------


@dataclass
class ResultatsReport:
    """What `certidocs resultats` computed and where it wrote it."""

    dossier: Path
    session: str
    referentiel: str
    resultats: list[Resultat]
    anomalies: list[Anomalie]
    json_path: Path
    xlsx_path: Path
    grilles_manquantes: list[Candidat] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The resultats.json document of ARCHITECTURE.md."""
        from certidocs.resultats import results_document

        return results_document(self.session, self.referentiel, self.resultats, self.anomalies)


def calculer_resultats(dossier: Path, progress: Progress = _noop) -> ResultatsReport:
    """Read every grid, check it, decide, write resultats.xlsx/.json, record in the register."""
    from certidocs import rules
    from certidocs.grid.reader import read_grid
    from certidocs.grid.writer import grid_filename
    from certidocs.registre import Registre
    from certidocs.resultats import write_results

    opened = open_checked(dossier)
    session, ref = opened.lecture.session, opened.referentiel
    start = session.info.date_debut or dt.date.today()
    resultats: list[Resultat] = []
    anomalies: list[Anomalie] = []
    missing: list[Candidat] = []
    with Registre(opened.workspace.registre_path) as reg:
        for i, c in enumerate(session.candidats, start=1):
            history = reg.historique(c.nom_naissance, c.prenom, c.date_naissance, ref.code,
                                     avant_session=opened.cle)
            if not expects_grid(c):
                resultats.append(rules.resultat_candidat(ref, c, None, history.blocs_capitalises))
                progress(i, len(session.candidats))
                continue
            name = grid_filename(c)
            path = dossier / GRILLES / name
            shown = f"{GRILLES}/{name}"
            if not path.exists():
                missing.append(c)
                found: tuple[Anomalie, ...] = (Anomalie(shown, "", "grille absente : pas encore "
                                                                    "rendue par le jury"),)
                evaluations: dict[str, bool | None] | None = {}
            else:
                reading = read_grid(path, referentiel=ref, session_nom=session.nom, candidat=c,
                                    blocs=c.blocs(ref), fichier_affiche=shown)
                found, evaluations = tuple(reading.anomalies), reading.evaluations
            # Presence left blank but a grid came back: the candidate sat the exam.
            sat = c if c.presence else replace(c, presence="Présent")
            result = rules.resultat_candidat(ref, sat, evaluations, history.blocs_capitalises,
                                             found)
            possible, until = rules.droit_rattrapage(result.decision, history.echecs, start,
                                                     history.date_premier_echec, ref.regles)
            result = replace(result, rattrapage_possible=possible, rattrapage_jusqu_au=until)
            resultats.append(result)
            anomalies.extend(found)
            progress(i, len(session.candidats))
        json_path, xlsx_path = write_results(dossier, session, ref, resultats, anomalies)
        _record(reg, opened, resultats)
    return ResultatsReport(dossier, session.nom, ref.code, resultats, anomalies, json_path,
                           xlsx_path, missing)


def _record(reg: Any, opened: SessionOuverte, resultats: list[Resultat]) -> None:
    """Passages, validated blocs and appeals of the session, in one transaction."""
    session, ref = opened.lecture.session, opened.referentiel
    info = session.info
    by_number = {c.numero: c for c in session.candidats}
    with reg.transaction() as conn:
        sid = reg.session_id(conn, opened.cle, session.nom, ref.code, info.date_debut,
                             info.date_fin, info.lieu)
        for r in resultats:
            if r.decision == INCOMPLET:
                continue  # no decision yet: nothing to record
            c = by_number[r.numero]
            valid = [] if r.decision == ABSENT else [b.code for b in r.blocs
                                                     if b.valide and not b.capitalise]
            reg.enregistrer_passage(
                conn, session_id=sid, nom_naissance=c.nom_naissance, prenom=c.prenom,
                date_naissance=c.date_naissance, numero=c.numero, referentiel=ref.code,
                date_session=info.date_debut, voie_acces=c.voie_acces, decision=r.decision,
                detail=resultat_json(r), blocs_valides=valid if ref.regles.capitalisation else [],
                identite={"nom_usage": c.nom_usage, "lieu_naissance": c.lieu_naissance,
                          "email": c.email})
        for rec in session.recours:
            c2 = by_number.get(rec.numero)
            reg.enregistrer_recours(
                conn, session_id=sid, numero=rec.numero,
                candidat=(c2.nom_naissance, c2.prenom, c2.date_naissance) if c2 else None,
                date_reception=rec.date_reception, motifs=rec.motifs, decision=rec.decision,
                motif_decision=rec.motif_decision, date_decision=rec.date_decision)
