"""The session's steps after preparation: grids for jurors, then results.

Each step reads the session folder as it is, does its work, and returns a report the CLI
prints. Nothing a juror typed is ever overwritten; nothing is decided on a grid that failed a
check.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from certidocs.errors import SessionInvalide
from certidocs.model import ABSENT, INCOMPLET, Anomalie, Candidat, Resultat, ResultatBloc
from certidocs.resultats import JSON_NAME, XLSX_NAME, resultat_json
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
    from certidocs.registre import ouvrir_registre

    configured = str(opened.workspace.setting("grilles", "mot_de_passe", "") or "")
    if configured:
        return configured
    info = opened.lecture.session.info
    with ouvrir_registre(opened.workspace) as reg:
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
    jures: tuple[str, ...] = ()


def _write_grid(job: _GridJob) -> None:
    from certidocs.grid.writer import write_grid

    write_grid(job.path, referentiel=job.referentiel, session_nom=job.session_nom,
               session_info=job.session_info, candidat=job.candidat, blocs=job.blocs,
               protection=job.protection, organisme=job.organisme, session_id=job.session_id,
               jures=job.jures)


def _noms_jures(session: Any) -> tuple[str, ...]:
    """« Anne ROUX – Présidente du jury », one per juror, for the grids' visa."""
    from certidocs.documents.context import nom_et_qualite

    return tuple(nom_et_qualite(j) for j in session.jury)


def generer_grilles(dossier: Path, progress: Progress = _noop) -> GrillesReport:
    """One protected grid per expected candidate; grids holding input are kept as they are.

    Grids are written over the cores as a stream (``parallel_imap``): a few chunks of jobs in
    flight, never the whole session's jobs queued at once.
    """
    from certidocs.grid.reader import grid_has_input
    from certidocs.grid.writer import ProtectionHash, grid_filename
    from certidocs.parallel import parallel_imap

    opened = open_checked(dossier)
    session, ref = opened.lecture.session, opened.referentiel
    report = GrillesReport(dossier)
    folder = dossier / GRILLES
    folder.mkdir(exist_ok=True)
    protection = ProtectionHash.from_password(grid_password(opened))
    organisme = str(opened.workspace.setting("organisme", "nom", "") or "")
    session_id = assurer_identifiant(opened)
    jures = _noms_jures(session)
    report.sans_grille = [c for c in session.candidats if not expects_grid(c)]
    to_write: list[Candidat] = []
    for c in session.candidats:
        if not expects_grid(c):
            continue
        path = folder / grid_filename(c)
        if path.exists() and grid_has_input(path):
            report.conservees.append(path)
            continue
        (report.renouvelees if path.exists() else report.creees).append(path)
        to_write.append(c)
    # Each job is made as a worker asks for it: 10,000 jobs held at once weighed about 5 MiB.
    jobs = (_GridJob(folder / grid_filename(c), ref, session.nom, session.info, c,
                     c.blocs(ref), protection, organisme, session_id, jures) for c in to_write)
    for done, _ in enumerate(parallel_imap(_write_grid, jobs), start=1):
        progress(done, len(to_write))
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
    scelle: bool = False
    """The session was sealed: nothing was decided again, the outcomes are the register's."""
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
    jury: tuple[Any, ...] = ()  # the session's Jury sheet (Jure), to recognise the visa's names


@dataclass(frozen=True)
class _Lu:
    """What one grid gave: its anomalies, its evaluations (None when the grid is missing),
    the SHA-256 of the file read (None when there was no regular file), its jury's visa
    (``grid.reader.Visa``, None when not read) and the jurors' observations (criterion code →
    text, None when the grid was not read)."""

    anomalies: tuple[Anomalie, ...]
    evaluations: dict[str, bool | None] | None
    empreinte: str | None
    remarques: tuple[Anomalie, ...] = ()  # what another program changed, tolerated, said once
    visa: Any = None
    observations: dict[str, str] | None = None


def file_sha256(path: Path) -> str | None:
    """The SHA-256 (hex) of a regular file, None for anything else (missing, FIFO, device)."""
    import hashlib

    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read(job: _ReadJob) -> _Lu:
    """Anomalies (each empty evaluation cell last), evaluations, fingerprint and remarks of
    one grid."""
    from certidocs.grid.reader import read_grid

    if not job.path.exists():
        return _Lu((Anomalie(job.shown, "", "grille absente : pas encore rendue par le jury"),),
                   None, None)
    reading = read_grid(job.path, referentiel=job.referentiel, session_nom=job.session_nom,
                        candidat=job.candidat, blocs=job.blocs, fichier_affiche=job.shown,
                        dossier=job.dossier, emission=job.emission, jury=job.jury)
    return _Lu(tuple(reading.anomalies + reading.non_evalues), reading.evaluations,
               file_sha256(job.path), tuple(reading.remarques), reading.visa,
               dict(reading.observations))


def preuves(job: _ReadJob, lu: _Lu | None) -> dict[str, Any]:
    """The evidence a decision is taken from, as the register keeps it: the grid read (its
    file and SHA-256), every evaluation read, the anomalies found, the référentiel's code and
    fingerprint, the rules' version (``rules.REGLES_VERSION``) and, when the grid's visa was
    read, the jurors who evaluated it (``jures``: ``grid.reader.Visa.preuve``; passages
    recorded before it have none) and, when the grid was read, the jurors' observations
    (``observations``, criterion code → text, possibly empty: the documents print them from
    here instead of reading every grid again; passages recorded before have none)."""
    from certidocs.rules import REGLES_VERSION

    jures = {"jures": lu.visa.preuve()} if lu is not None and lu.visa is not None else {}
    if lu is not None and lu.observations is not None:
        jures["observations"] = dict(sorted(lu.observations.items()))
    return {
        **jures,
        "grille": {"fichier": job.shown, "sha256": lu.empreinte if lu else None},
        "evaluations": dict(sorted((lu.evaluations or {}).items())) if lu else {},
        "anomalies": [[a.fichier, a.cellule, a.message] for a in (lu.anomalies if lu else ())],
        "referentiel": {"code": job.referentiel.code,
                        "empreinte": job.referentiel.empreinte()},
        "regles": REGLES_VERSION,
    }


def _jobs_lecture(dossier: Path, opened: SessionOuverte,
                  candidats: Iterable[Candidat] | None = None) -> Iterator[_ReadJob]:
    """The reading of each grid expected from the session's candidates (from ``candidats``
    only, when given: one candidate, or one lot of a large session), each job made as it is
    taken: the session's 10,000 jobs held at once were 6 MiB (RSS) of the results step's
    main process (paths, file names, blocs; measured 30/11/2026). The grids' emission (which
    opens the register) is read now, not when the first job is taken."""
    from certidocs.grid.writer import grid_filename

    session, ref = opened.lecture.session, opened.referentiel
    issued = emission(opened)
    return (_ReadJob(dossier / GRILLES / grid_filename(c), ref, session.nom, c, c.blocs(ref),
                     f"{GRILLES}/{grid_filename(c)}", dossier, issued, tuple(session.jury))
            for c in (session.candidats if candidats is None else candidats)
            if expects_grid(c))


def decide(opened: SessionOuverte, reg: Any, c: Candidat, lu: _Lu | None,
           missing: list[Candidat] | None = None) -> Resultat:
    """The outcome of one candidate from what their grid gave (``lu``; None for a candidate
    expecting no grid) and the register's history before this session."""
    from certidocs import rules

    session, ref = opened.lecture.session, opened.referentiel
    start = session.info.date_debut or dt.date.today()
    history = reg.historique(c.nom_naissance, c.prenom, c.date_naissance, ref.code,
                             avant_session=opened.cle)
    if lu is None:
        return rules.resultat_candidat(ref, c, None, history.blocs_capitalises)
    evaluations = lu.evaluations
    if evaluations is None:
        if missing is not None:
            missing.append(c)
        evaluations = {}
    # Presence left blank but a grid came back: the candidate sat the exam.
    sat = c if c.presence else replace(c, presence="Présent")
    result = rules.resultat_candidat(ref, sat, evaluations, history.blocs_capitalises,
                                     lu.anomalies)
    possible, until = rules.droit_rattrapage(result.decision, history.echecs, start,
                                             history.date_premier_echec, ref.regles)
    return replace(result, rattrapage_possible=possible, rattrapage_jusqu_au=until)


def emission(opened: SessionOuverte) -> Any:
    """What this workspace issued for the session's grids: identifier and sheet password."""
    from certidocs.grid.reader import Emission

    return Emission(opened.lecture.session.identifiant, grid_password(opened))


LOT_RESULTATS = 250
"""Candidates decided, recorded and written together by the results step. Each lot is one
journal entry (all inside the run's one transaction) and goes to resultats.json and .xlsx; then
its readings, evaluations and evidence are let go. Memory holds one lot (250 × 100 criteria:
a few MiB of evaluations and journal statements) whatever the size of the session; a larger
lot only makes fewer, larger journal entries."""


def calculer_resultats(dossier: Path, progress: Progress = _noop) -> ResultatsReport:
    """Read every grid, check it, decide, record in the register, then write resultats.xlsx
    and resultats.json as exports of what the register holds.

    Grids are read over the cores as a stream (``parallel_imap``) and decided by lots of
    LOT_RESULTATS candidates, each lot recorded and written before the next is read, so that
    memory does not grow with the session. The register's writes stay one transaction: a run
    interrupted records nothing, and running it again gives what a clean run gives. The
    exports are put in place once that transaction is committed.

    Once the session is sealed (deliberation), nothing is decided again: each grid is compared
    with the evidence recorded at deliberation, every changed evaluation is reported (« grille
    modifiée après la délibération », with its cell) and the register is left as it is; the
    exports are rewritten from the register, so an export edited by hand is put back.
    """
    from certidocs.registre import ouvrir_registre
    from certidocs.resultats import ExportResultats

    opened = open_checked(dossier)
    session, ref = opened.lecture.session, opened.referentiel
    jobs = _jobs_lecture(dossier, opened)
    expected = sum(1 for c in session.candidats if expects_grid(c))
    report = ResultatsReport(dossier, session.nom, ref.code, [], [], dossier / JSON_NAME,
                             dossier / XLSX_NAME)
    with ouvrir_registre(opened.workspace) as reg:
        reg.exiger_integrite()
        sealed = reg.scellement(opened.cle) is not None
        with ExportResultats(dossier, session, ref) as export:
            lots = _lots(opened, _lectures(jobs, expected, progress), report)
            if sealed:
                _apres_scellement(opened, reg, lots, export, report)
            else:
                # The register first: it is the only source of decisions; the exports follow.
                _record(reg, opened, _decisions(opened, reg, lots, export, report))
            export.remarquer(report.remarques)
            report.json_path, report.xlsx_path = export.publier()
    report.scelle = sealed
    return report


_Lot = list[tuple[Candidat, "_ReadJob | None", "_Lu | None"]]


def _lectures(jobs: Iterable[_ReadJob], total: int,
              progress: Progress) -> Iterator[tuple[_ReadJob, _Lu]]:
    """Each job of ``jobs`` (``total`` of them) with what its grid gave, in their order, read
    over the cores as they are needed (a few chunks in flight, never the whole session): only
    the jobs in flight are kept, to be paired with their readings."""
    from certidocs.parallel import parallel_imap

    sent: deque[_ReadJob] = deque()

    def taken() -> Iterator[_ReadJob]:
        for job in jobs:
            sent.append(job)
            yield job

    for done, lu in enumerate(parallel_imap(_read, taken()), start=1):
        progress(done, total)
        yield sent.popleft(), lu


def _lots(opened: SessionOuverte, lectures: Iterator[tuple[_ReadJob, _Lu]],
          report: ResultatsReport) -> Iterator[_Lot]:
    """The session's candidates by lots of LOT_RESULTATS, in order, each with its grid's job
    and reading (None for a candidate expecting no grid); the grids' remarks go to
    ``report``."""
    lot: _Lot = []
    for c in opened.lecture.session.candidats:
        job = lu = None
        if expects_grid(c):
            job, lu = next(lectures)
            report.remarques.extend(lu.remarques)
        lot.append((c, job, lu))
        if len(lot) == LOT_RESULTATS:
            yield lot
            lot = []
    if lot:
        yield lot


def _decisions(opened: SessionOuverte, reg: Any, lots: Iterator[_Lot], export: Any,
               report: ResultatsReport) -> Iterator[list[tuple[Resultat, dict[str, Any] | None]]]:
    """Each lot's outcomes with their evidence (None without a grid), written to ``export``
    and summed up in ``report`` as they are decided.

    ``report.resultats`` keeps every outcome (the caller prints them), and their blocs'
    counts were most of it: 50,000 ``ResultatBloc`` at 10,000 candidates of 5 blocs, 3.4 MiB
    of the main process (tracemalloc, bench's session, 30/11/2026), for 25 distinct values
    there; a référentiel has at most a few per criterion of each bloc (criteria acquired,
    validated, capitalised). Equal counts are one object here, as they are frozen values:
    the outcomes are the same."""
    counts: dict[ResultatBloc, ResultatBloc] = {}
    for lot in lots:
        decided = []
        anomalies: list[Anomalie] = []
        for c, job, lu in lot:
            r = decide(opened, reg, c, lu, report.grilles_manquantes)
            decided.append((replace(r, blocs=tuple(counts.setdefault(b, b) for b in r.blocs)),
                            preuves(job, lu) if job is not None else None))
            if lu is not None:
                anomalies.extend(lu.anomalies)
        resultats = [r for r, _ in decided]
        export.ajouter(resultats, anomalies)
        report.resultats.extend(resultats)
        report.anomalies.extend(anomalies)
        yield decided


def resultats_enregistres(opened: SessionOuverte, reg: Any,
                          passages: list[dict[str, Any]] | None = None) -> dict[str, Resultat]:
    """The outcomes the register holds for this session, by candidate number, with the
    anomalies recorded as their evidence; ``passages`` when the caller has already read
    them (``reg.passages_session``)."""
    from certidocs.errors import RegistreError
    from certidocs.resultats import resultat_depuis_json

    out: dict[str, Resultat] = {}
    for p in passages if passages is not None else reg.passages_session(opened.cle):
        try:
            found = tuple(Anomalie(*a) for a in p["preuves"].get("anomalies", []))
            out[p["numero"]] = resultat_depuis_json(p["detail"], found)
        except (KeyError, TypeError, ValueError) as exc:
            raise RegistreError(f"{reg.path} : passage {p['numero']} illisible ({exc}) ; "
                                "lancez « certidocs registre controler »") from None
    return out


def _apres_scellement(opened: SessionOuverte, reg: Any, lots: Iterator[_Lot], export: Any,
                      report: ResultatsReport) -> None:
    """The register's outcomes of a sealed session written to ``export``, lot by lot, and
    each evaluation that changed in a grid since the deliberation (an anomaly at its cell,
    listed after the recorded ones; nothing is decided again)."""
    changes: list[Anomalie] = []
    for lot in lots:
        passages = reg.passages_session(opened.cle, [c.numero for c, _, _ in lot])
        recorded = resultats_enregistres(opened, reg, passages)
        evidence = {p["numero"]: p["preuves"] for p in passages}
        resultats = [recorded[c.numero] for c, _, _ in lot if c.numero in recorded]
        anomalies = [a for r in resultats for a in r.anomalies]
        export.ajouter(resultats, anomalies)
        report.resultats.extend(resultats)
        report.anomalies.extend(anomalies)
        for _, job, lu in lot:
            if job is not None and lu is not None:
                changes.extend(_changements(opened, job, lu, evidence.get(job.candidat.numero)))
    export.ajouter([], changes)
    report.anomalies.extend(changes)


def _changements(opened: SessionOuverte, job: _ReadJob, lu: _Lu,
                 before: dict[str, Any] | None) -> list[Anomalie]:
    """What changed in one grid since the evidence recorded at deliberation (``before``)."""
    from certidocs.grid.layout import COL_EVALUATION, plan_grid

    numero = job.candidat.numero
    if before is None or lu.empreinte == (before.get("grille") or {}).get("sha256"):
        return []
    # Nothing read (file gone, or not a workbook any more): every evaluation is None and no
    # anomaly names a cell (a grid read with its cells emptied has one per empty cell). There
    # is then no cell to compare: each would be listed as « Acquis → vide ».
    if all(v is None for v in (lu.evaluations or {}).values()) and not any(
            a.cellule for a in lu.anomalies):
        state, why = "disparue", ""
        if job.path.exists():
            state = "devenue illisible"
            why = f" ({lu.anomalies[0].message})" if lu.anomalies else ""
        return [Anomalie(job.shown, "", f"grille du candidat {numero} {state} après la "
                         f"délibération{why} ; rien n'a été changé")]
    out: list[Anomalie] = []
    was: dict[str, bool | None] = before.get("evaluations") or {}
    now = lu.evaluations or {}
    order = [(f"{bp.sheet}!{COL_EVALUATION}{bp.first_row + i}", k.code)
             for bp in plan_grid(job.referentiel, job.blocs).blocs
             for i, k in enumerate(bp.bloc.criteres)]
    changed = [(cell, code) for cell, code in order if was.get(code) != now.get(code)]
    if changed:
        shown = ", ".join(f"{cell} ({code} : {_mark(was.get(code))} → "
                          f"{_mark(now.get(code))})"
                          for cell, code in changed[:CELLULES_CITEES])
        more = len(changed) - CELLULES_CITEES
        out.append(Anomalie(
            job.shown, changed[0][0],
            f"grille modifiée après la délibération (candidat {numero}) : "
            f"{len(changed)} évaluation(s) changée(s) : {shown}"
            + (f" et {more} autre(s)" if more > 0 else "")
            + " ; rien n'a été changé. Pour une erreur du jury ou un recours accueilli : "
            f"« certidocs decision reviser {opened.dossier} {numero} --motif … »"))
    return out


CELLULES_CITEES = 5
"""Changed cells quoted per grid after the deliberation (all are in the grid itself)."""


def _mark(value: bool | None) -> str:
    return "Acquis" if value else ("vide" if value is None else "Non acquis")


def _record(reg: Any, opened: SessionOuverte,
            lots: Iterable[list[tuple[Resultat, dict[str, Any] | None]]]) -> None:
    """Passages (decision and evidence), validated blocs and appeals of the session, in one
    transaction: one journal entry per lot of outcomes (``Registre.jalon``), each let go
    once journaled."""
    from certidocs.accrochage import code_postal

    session, ref = opened.lecture.session, opened.referentiel
    info = session.info
    by_number = {c.numero: c for c in session.candidats}
    total = len(session.candidats)
    count = -(-total // LOT_RESULTATS)
    resume = f"session {opened.cle} : {total} candidat(s)"
    with reg.transaction("résultats enregistrés", resume + (
            f", lot {count}/{count}" if count > 1 else "")) as conn:
        sid = reg.session_id(conn, opened.cle, session.nom, ref.code, info.date_debut,
                             info.date_fin, info.lieu, session.identifiant)
        reg.completer_session(conn, cle=opened.cle, code_postal_examen=code_postal(info.adresse))
        for number, lot in enumerate(lots, start=1):
            for r, evidence in lot:
                _record_one(reg, conn, opened, sid, by_number[r.numero], r, evidence)
            if number < count:
                reg.jalon(conn, "résultats enregistrés", f"{resume}, lot {number}/{count}")
        for rec in session.recours:
            c2 = by_number.get(rec.numero)
            reg.enregistrer_recours(
                conn, session_id=sid, numero=rec.numero,
                candidat=(c2.nom_naissance, c2.prenom, c2.date_naissance) if c2 else None,
                date_reception=rec.date_reception, motifs=rec.motifs, decision=rec.decision,
                motif_decision=rec.motif_decision, date_decision=rec.date_decision)


def _record_one(reg: Any, conn: Any, opened: SessionOuverte, sid: int, c: Candidat,
                r: Resultat, evidence: dict[str, Any] | None) -> None:
    """One candidate's passage and blocs (inside ``_record``'s transaction)."""
    ref, info = opened.referentiel, opened.lecture.session.info
    if r.decision == INCOMPLET:
        # No decision: none recorded, and one recorded earlier (a grid since spoilt) is
        # withdrawn with its blocs, so the register never holds a stale decision.
        reg.retirer_passage(conn, session_id=sid, nom_naissance=c.nom_naissance,
                            prenom=c.prenom, date_naissance=c.date_naissance,
                            referentiel=ref.code)
        return
    valid = [] if r.decision in (ABSENT, INCOMPLET) else [b.code for b in r.blocs
                                                         if b.valide and not b.capitalise]
    reg.enregistrer_passage(
        conn, session_id=sid, nom_naissance=c.nom_naissance, prenom=c.prenom,
        date_naissance=c.date_naissance, numero=c.numero, referentiel=ref.code,
        date_session=info.date_debut, voie_acces=c.voie_acces, decision=r.decision,
        detail=resultat_json(r), blocs_valides=valid if ref.regles.capitalisation else [],
        identite={"nom_usage": c.nom_usage, "lieu_naissance": c.lieu_naissance,
                  "email": c.email}, preuves=evidence or _sans_grille())
    reg.completer_identite(conn, nom_naissance=c.nom_naissance, prenom=c.prenom,
                           date_naissance=c.date_naissance, sexe=c.sexe,
                           code_insee_naissance=c.code_insee_naissance,
                           pays_naissance=c.pays_naissance)


def _sans_grille() -> dict[str, Any]:
    from certidocs.rules import REGLES_VERSION

    return {"grille": None, "evaluations": {}, "anomalies": [], "regles": REGLES_VERSION}
