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
from certidocs.model import ABSENT, INCOMPLET, Anomalie, Candidat, Resultat
from certidocs.resultats import resultat_json
from certidocs.session import SessionOuverte, assurer_identifiant, open_session, verify_session
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


@dataclass(frozen=True)
class _GridJob:
    path: Path
    referentiel: Any
    session_nom: str
    session_info: Any
    candidat: Candidat
    blocs: tuple[str, ...]
    protection: Any
    organisme: str
    session_id: str = ""


def _write_grid(job: _GridJob) -> None:
    from certidocs.grid.writer import write_grid

    write_grid(job.path, referentiel=job.referentiel, session_nom=job.session_nom,
               session_info=job.session_info, candidat=job.candidat, blocs=job.blocs,
               protection=job.protection, organisme=job.organisme, session_id=job.session_id)


def generer_grilles(dossier: Path, progress: Progress = _noop) -> GrillesReport:
    """One protected grid per expected candidate; grids holding input are kept as they are."""
    from certidocs.grid.reader import grid_has_input
    from certidocs.grid.writer import ProtectionHash, grid_filename
    from certidocs.parallel import parallel_map

    opened = open_checked(dossier)
    session, ref = opened.lecture.session, opened.referentiel
    report = GrillesReport(dossier)
    folder = dossier / GRILLES
    folder.mkdir(exist_ok=True)
    protection = ProtectionHash.from_password(grid_password(opened))
    organisme = str(opened.workspace.setting("organisme", "nom", "") or "")
    session_id = assurer_identifiant(opened)
    todo = [c for c in session.candidats if expects_grid(c)]
    report.sans_grille = [c for c in session.candidats if not expects_grid(c)]
    jobs = []
    for c in todo:
        path = folder / grid_filename(c)
        if path.exists() and grid_has_input(path):
            report.conservees.append(path)
            continue
        (report.renouvelees if path.exists() else report.creees).append(path)
        jobs.append(_GridJob(path, ref, session.nom, session.info, c, c.blocs(ref), protection,
                             organisme, session_id))
    parallel_map(_write_grid, jobs, progress)
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
    remarques: list[Anomalie] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The resultats.json document of ARCHITECTURE.md."""
        from certidocs.resultats import results_document

        return results_document(self.session, self.referentiel, self.resultats, self.anomalies,
                                self.remarques)


@dataclass(frozen=True)
class _ReadJob:
    path: Path
    referentiel: Any
    session_nom: str
    candidat: Candidat
    blocs: tuple[str, ...]
    shown: str
    dossier: Path | None = None
    emission: Any = None


_Read = tuple[tuple[Anomalie, ...], dict[str, bool | None] | None, tuple[Anomalie, ...]]


def _read(job: _ReadJob) -> _Read:
    """Anomalies (each empty evaluation cell last), evaluations (None when the grid is
    missing) and remarks of one grid."""
    from certidocs.grid.reader import read_grid

    if not job.path.exists():
        return ((Anomalie(job.shown, "", "grille absente : pas encore rendue par le jury"),),
                None, ())
    reading = read_grid(job.path, referentiel=job.referentiel, session_nom=job.session_nom,
                        candidat=job.candidat, blocs=job.blocs, fichier_affiche=job.shown,
                        dossier=job.dossier, emission=job.emission)
    return (reading.anomalies + reading.non_evalues, reading.evaluations, reading.remarques)


def emission(opened: SessionOuverte) -> Any:
    """What this workspace issued for the session's grids: identifier and sheet password."""
    from certidocs.grid.reader import Emission

    return Emission(opened.lecture.session.identifiant, grid_password(opened))


def calculer_resultats(dossier: Path, progress: Progress = _noop) -> ResultatsReport:
    """Read every grid, check it, decide, write resultats.xlsx/.json, record in the register."""
    from certidocs import rules
    from certidocs.grid.writer import grid_filename
    from certidocs.parallel import parallel_map
    from certidocs.registre import Registre
    from certidocs.resultats import write_results

    opened = open_checked(dossier)
    session, ref = opened.lecture.session, opened.referentiel
    start = session.info.date_debut or dt.date.today()
    resultats: list[Resultat] = []
    anomalies: list[Anomalie] = []
    missing: list[Candidat] = []
    issued = emission(opened)
    jobs = [_ReadJob(dossier / GRILLES / grid_filename(c), ref, session.nom, c, c.blocs(ref),
                     f"{GRILLES}/{grid_filename(c)}", dossier, issued)
            for c in session.candidats if expects_grid(c)]
    readings = dict(zip((j.candidat.numero for j in jobs), parallel_map(_read, jobs, progress),
                        strict=True))
    remarques = [note for _found, _marks, notes in readings.values() for note in notes]
    with Registre(opened.workspace.registre_path) as reg:
        for c in session.candidats:
            history = reg.historique(c.nom_naissance, c.prenom, c.date_naissance, ref.code,
                                     avant_session=opened.cle)
            if not expects_grid(c):
                resultats.append(rules.resultat_candidat(ref, c, None, history.blocs_capitalises))
                continue
            found, evaluations, _notes = readings[c.numero]
            if evaluations is None:
                missing.append(c)
                evaluations = {}
            # Presence left blank but a grid came back: the candidate sat the exam.
            sat = c if c.presence else replace(c, presence="Présent")
            result = rules.resultat_candidat(ref, sat, evaluations, history.blocs_capitalises,
                                             found)
            possible, until = rules.droit_rattrapage(result.decision, history.echecs, start,
                                                     history.date_premier_echec, ref.regles)
            result = replace(result, rattrapage_possible=possible, rattrapage_jusqu_au=until)
            resultats.append(result)
            anomalies.extend(found)
        # The register first: resultats.json tells `lancer` that the step is done, so it must
        # not exist until the passages are recorded (a crash in between would lose them).
        _record(reg, opened, resultats)
        json_path, xlsx_path = write_results(dossier, session, ref, resultats, anomalies,
                                             remarques)
    return ResultatsReport(dossier, session.nom, ref.code, resultats, anomalies, json_path,
                           xlsx_path, missing, remarques)


def _record(reg: Any, opened: SessionOuverte, resultats: list[Resultat]) -> None:
    """Passages, validated blocs and appeals of the session, in one transaction."""
    from certidocs.accrochage import code_postal

    session, ref = opened.lecture.session, opened.referentiel
    info = session.info
    by_number = {c.numero: c for c in session.candidats}
    with reg.transaction() as conn:
        sid = reg.session_id(conn, opened.cle, session.nom, ref.code, info.date_debut,
                             info.date_fin, info.lieu)
        reg.completer_session(conn, cle=opened.cle, code_postal_examen=code_postal(info.adresse))
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
            reg.completer_identite(conn, nom_naissance=c.nom_naissance, prenom=c.prenom,
                                   date_naissance=c.date_naissance, sexe=c.sexe,
                                   code_insee_naissance=c.code_insee_naissance,
                                   pays_naissance=c.pays_naissance)
        for rec in session.recours:
            c2 = by_number.get(rec.numero)
            reg.enregistrer_recours(
                conn, session_id=sid, numero=rec.numero,
                candidat=(c2.nom_naissance, c2.prenom, c2.date_naissance) if c2 else None,
                date_reception=rec.date_reception, motifs=rec.motifs, decision=rec.decision,
                motif_decision=rec.motif_decision, date_decision=rec.date_decision)
