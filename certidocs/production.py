"""`certidocs documents`: the Word documents due at this stage of the session.

Before the exam (no resultats.json yet): convocations, attendance sheet, jury convocations.
After the results: individual results, procès-verbal, certificates, bloc attestations, result
letters, notices of non-recevabilité, dysfunction log. Certificates get their number from the
register (sequential per certification and year, the same number when regenerated) and a
verification code signed with the workspace's secret.

Jobs are produced lazily and carry the recipe of their context, not the context: what every
context is built from (``_Donnees.partagees()``: the session's settings, jury, référentiel)
goes once to each rendering process; a job about one candidate carries that candidate's part
(``_Personne``: identity, outcome, certificate, observations, planning), a document of the
whole session the whole data. Workers build the contexts of their documents (QR codes
included), so building contexts is spread over the cores like rendering. No list of contexts
or documents is ever held and a worker's memory does not grow with the number of candidates:
the procès-verbal, the one document listing them all, builds its rows as it renders them
(certidocs.documents.streaming).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from certidocs.errors import CertidocsError
from certidocs.model import Candidat, Referentiel, Resultat, Session
from certidocs.pipeline import open_checked
from certidocs.resultats import JSON_NAME
from certidocs.session import SessionOuverte
from certidocs.workspace import read_secret

if TYPE_CHECKING:
    from certidocs.documents.render import ListeFichiers

DOCUMENTS = "documents"
STAGES = ("avant", "apres")


class DocumentsError(CertidocsError):
    """Raised when documents are asked for at a stage the session has not reached."""


def _fichiers() -> ListeFichiers:
    from certidocs.documents.render import ListeFichiers as Liste

    return Liste()


@dataclass
class DocumentsReport:
    """What was rendered: files per type, PDFs, warnings, the template folders searched.

    ``jobs`` stays empty: jobs stream through rendering and are not kept (``iter_jobs`` gives
    them again, contexts built, for whoever needs them). ``fichiers`` reads as a list of paths
    but keeps each batch's files as a folder and names (``documents.render.ListeFichiers``).
    """

    etape: str
    fichiers: ListeFichiers = field(default_factory=_fichiers)
    par_type: dict[str, int] = field(default_factory=dict)
    pdfs: list[Path] = field(default_factory=list)
    avertissements: list[str] = field(default_factory=list)
    jobs: list[Any] = field(default_factory=list)
    templates: list[Path] = field(default_factory=list)


def load_results(opened: SessionOuverte, reg: Any) -> list[Resultat]:
    """The outcomes the register holds for this session, in the session sheet's order.

    The register is the only source of decisions: resultats.json and resultats.xlsx are
    exports for people, never read back (see ``ecarts_export``).
    """
    from certidocs.deliberation import passages_par_lots
    from certidocs.pipeline import resultats_enregistres

    # Read by lots (deliberation.PASSAGES_LOT): every passage's evidence is decoded with it.
    numeros = list(dict.fromkeys(c.numero for c in opened.lecture.session.candidats))
    known = set(numeros)
    others = [n for n in reg.numeros_session(opened.cle) if n not in known]
    out: list[Resultat] = []
    for lot in passages_par_lots(reg, opened.cle, numeros + others):
        out += resultats_enregistres(opened, reg, lot).values()
    if not out:
        raise DocumentsError(f"{opened.dossier} : aucune décision au registre pour cette "
                             "session ; les documents d'après l'examen demandent les "
                             f"résultats : lancez d'abord « certidocs resultats "
                             f"{opened.dossier} »")
    return out


def ecarts_export(dossier: Path, resultats: list[Resultat]) -> list[str]:
    """How resultats.json differs from the register's outcomes (an export edited by hand, or
    left over): one line per candidate, empty when it agrees or is absent. Nothing is read
    from it but for this comparison."""
    from certidocs.resultats import resultat_json

    path = dossier / JSON_NAME
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        exported = {str(c["numero"]): c for c in data["candidats"]}
    except (OSError, ValueError, KeyError, TypeError):
        return [f"{path} est illisible ; seul le registre fait foi (relancez « certidocs "
                f"resultats {dossier} » pour le réécrire)"]
    out = []
    for r in resultats:
        mine = resultat_json(r)
        theirs = exported.pop(r.numero, None)
        if theirs is None:
            out.append(f"{r.numero} : absent de {JSON_NAME}, « {r.decision} » au registre")
        elif theirs.get("decision") != mine["decision"]:
            out.append(f"{r.numero} : « {theirs.get('decision')} » dans {JSON_NAME}, "
                       f"« {r.decision} » au registre")
        elif theirs.get("blocs") != mine["blocs"]:
            out.append(f"{r.numero} : résultats par bloc différents de ceux du registre")
    out += [f"{n} : dans {JSON_NAME} mais sans décision au registre" for n in exported]
    return out


def current_stage(dossier: Path) -> str:
    """« apres » once results exist, else « avant »."""
    return "apres" if (dossier / JSON_NAME).exists() else "avant"


@dataclass(frozen=True)
class _Donnees:
    """What every context of a batch is built from; sent once to each rendering process."""

    session: Session
    referentiel: Referentiel
    organisme: dict[str, Any]
    resultats: tuple[Resultat, ...]
    certificats: dict[str, Any]  # candidate number → CertificatInfo
    par_numero: dict[str, Resultat]
    candidats: dict[str, Candidat]
    scellement: dict[str, Any]
    observations: dict[str, dict[str, str]]  # candidate number → criterion code → text

    @classmethod
    def of(cls, session: Session, referentiel: Referentiel, organisme: dict[str, Any],
           resultats: list[Resultat], certificats: dict[str, Any],
           scellement: dict[str, Any] | None = None,
           observations: dict[str, dict[str, str]] | None = None) -> _Donnees:
        """The data, with the look-up tables every context needs built once."""
        return cls(session, referentiel, organisme, tuple(resultats), certificats,
                   {r.numero: r for r in resultats}, {c.numero: c for c in session.candidats},
                   scellement or {}, observations or {})

    def partagees(self) -> _Donnees:
        """What every rendering process gets once: this without the candidates, their
        outcomes, certificates, observations and planning (a per-candidate job carries its
        own: ``_Personne``), so that a worker's memory does not grow with the session."""
        import dataclasses

        return dataclasses.replace(
            self, session=dataclasses.replace(self.session, candidats=(), planning=()),
            resultats=(), certificats={}, par_numero={}, candidats={}, observations={})

    def personne(self, numero: str, planning: tuple[Any, ...]) -> _Personne:
        """What a document about candidate ``numero`` needs beyond ``partagees()``;
        ``planning`` is the candidate's part of the session's planning."""
        return _Personne(self.candidats[numero], self.par_numero.get(numero),
                         self.certificats.get(numero), self.observations.get(numero),
                         planning)

    def avec(self, p: _Personne) -> _Donnees:
        """This data (``partagees()`` or whole) holding candidate ``p`` as the whole did."""
        import dataclasses

        numero = p.candidat.numero
        return dataclasses.replace(
            self, session=dataclasses.replace(self.session, candidats=(p.candidat,),
                                              planning=p.planning),
            resultats=(p.resultat,) if p.resultat else (),
            certificats={numero: p.certificat} if p.certificat is not None else {},
            par_numero={numero: p.resultat} if p.resultat else {},
            candidats={numero: p.candidat},
            observations={numero: p.observations} if p.observations else {})


@dataclass(frozen=True)
class _Personne:
    """One candidate's part of ``_Donnees``: sent with each job about that candidate (a few
    kilobytes), instead of every candidate's data to every worker."""

    candidat: Candidat
    resultat: Resultat | None
    certificat: Any  # CertificatInfo or None
    observations: dict[str, str] | None
    planning: tuple[Any, ...]


def _contexte_personne(shared: _Donnees, nom: str, p: _Personne) -> Mapping[str, Any]:
    """The context of a document about one candidate, from the worker's shared data and the
    job's ``_Personne``."""
    return _contexte(shared.avec(p), nom, p.candidat.numero)


def _contexte_complet(_shared: _Donnees, nom: str, key: Any, d: _Donnees) -> Mapping[str, Any]:
    """The context of a document of the whole session (or of a juror, who is convoked for
    every candidate, or of a recours), from the whole data ``d`` sent with the job."""
    return _contexte(d, nom, key)


def _contexte(d: _Donnees, nom: str, key: Any) -> Mapping[str, Any]:
    """The context of one document: ``key`` is the candidate's number, or the juror's or the
    recours' index in the session (None for a session document)."""
    from certidocs import documents as D

    session, ref, organisme = d.session, d.referentiel, d.organisme
    kind = D.TYPES[nom]
    if kind.par == "session":
        builder = getattr(D, f"contexte_{nom}")
        context: Mapping[str, Any] = (
            builder(session, ref, organisme, list(d.resultats), scellement=d.scellement,
                    observations=d.observations)
            if nom == "proces_verbal" else builder(session, ref, organisme))
        return context
    if kind.par == "jure":
        return D.contexte_convocation_jury(session, ref, organisme, session.jury[key])
    if kind.par == "recours":
        rec = session.recours[key]
        return D.contexte_non_recevabilite(session, ref, organisme, d.candidats[rec.numero], rec)
    c = d.candidats[key]
    if kind.etape == "avant":
        return D.contexte_convocation_candidat(session, ref, organisme, c)
    r = d.par_numero[key]
    if nom == "certificat":
        return D.contexte_certificat(session, ref, organisme, c, r, d.certificats[key])
    if nom == "notification_resultats":
        return D.contexte_notification_resultats(session, ref, organisme, c, r,
                                                 d.certificats.get(key))
    if nom == "fiche_resultats":
        return D.contexte_fiche_resultats(session, ref, organisme, c, r,
                                          observations=d.observations.get(key))
    built: Mapping[str, Any] = getattr(D, f"contexte_{nom}")(session, ref, organisme, c, r)
    return built


def _jobs(d: _Donnees, etape: str, types: tuple[str, ...] | None) -> Iterator[Any]:
    """The documents due, in order (type by type, candidates in the session's order), each
    with the recipe of its context."""
    from certidocs import documents as D
    from certidocs.documents.render import ContextRecipe
    from certidocs.pipeline import expects_grid

    session = d.session
    planning: dict[str, list[Any]] = {}
    for e in session.planning:
        planning.setdefault(e.numero, []).append(e)

    def job(nom: str, file_name: str, key: Any) -> Any:
        if D.TYPES[nom].par == "candidat":
            person = d.personne(key, tuple(planning.get(key, ())))
            return D.RenderJob(nom, file_name, ContextRecipe(_contexte_personne, (nom, person)))
        # One job of the kind per session, juror or recours: it carries the whole data.
        return D.RenderJob(nom, file_name, ContextRecipe(_contexte_complet, (nom, key, d)))

    for nom, kind in D.TYPES.items():
        if kind.etape != etape or (types and nom not in types):
            continue
        if kind.par == "session":
            yield job(nom, D.safe_filename(nom, session.nom), None)
        elif kind.par == "jure":
            for i, j in enumerate(session.jury):
                # Homonyms are refused by the session checks: one file name per juror.
                yield job(nom, D.safe_filename(nom, j.nom.upper(), j.prenom), i)
        elif kind.par == "recours":
            for i, rec in enumerate(session.recours):
                c = d.candidats.get(rec.numero)
                if c is None or not D.concerne(nom, recours=rec):
                    continue
                yield job(nom, D.safe_filename(nom, c.numero, c.nom.upper(), c.prenom), i)
        else:
            for c in session.candidats:
                file_name = D.safe_filename(c.numero, c.nom.upper(), c.prenom)
                if etape == "avant":
                    if expects_grid(c):
                        yield job(nom, file_name, c.numero)
                    continue
                r = d.par_numero.get(c.numero)
                if r is None or not D.concerne(nom, resultat=r):
                    continue
                yield job(nom, file_name, c.numero)


def _certificates(opened: SessionOuverte, reg: Any, resultats: list[Resultat]
                  ) -> dict[str, Any]:
    """Number, verification code, signed token, date and place of each certified candidate's
    certificate, drawn from (and recorded in) the register in one transaction.

    Only a sealed session gets certificates (the caller seals it first).
    """
    from certidocs.documents import CertificatInfo, verification_code
    from certidocs.rules import hors_enregistrement
    from certidocs.signature import Attestation, read_private_key, sign_token

    session, ref = opened.lecture.session, opened.referentiel
    info = session.info
    day = info.date_deliberation or info.date_fin or info.date_debut or dt.date.today()
    held = info.date_fin or info.date_debut or day
    refused = hors_enregistrement(ref.certification, held)
    if refused and any(r.decision == "Certifié" for r in resultats):
        raise DocumentsError(f"{opened.dossier} : aucun certificat ne peut être délivré pour "
                             f"cette session : {refused}")
    secret = read_secret(opened.workspace)
    key = read_private_key(opened.workspace.root)
    by_number = {c.numero: c for c in session.candidats}
    out: dict[str, Any] = {}
    with reg.transaction("certificats délivrés", opened.cle) as conn:
        sid = reg.session_id(conn, opened.cle, session.nom, ref.code, info.date_debut,
                             info.date_fin, info.lieu, session.identifiant)
        for r in resultats:
            c = by_number.get(r.numero)
            if r.decision != "Certifié" or c is None:
                continue
            numero, issued = reg.certificat(
                conn, session_id=sid, nom_naissance=c.nom_naissance, prenom=c.prenom,
                date_naissance=c.date_naissance, referentiel=ref.code, date_delivrance=day)
            code = verification_code(secret, numero, c.nom_naissance, c.prenom,
                                     c.date_naissance, issued)
            jeton = sign_token(key, Attestation(numero, c.nom_naissance, c.prenom,
                                                c.date_naissance, issued, ref.code,
                                                ref.certification.intitule))
            reg.enregistrer_code(conn, numero, code, jeton)
            out[c.numero] = CertificatInfo(numero, code, issued, info.lieu, jeton)
    return out


@dataclass
class _Lot:
    """One stage's documents, ready to render."""

    etape: str
    types: tuple[str, ...] | None
    donnees: _Donnees
    templates: list[Path]
    avertissements: list[str]


def _stages(dossier: Path, etape: str | None,
            types: tuple[str, ...] | None) -> list[tuple[str, tuple[str, ...] | None]]:
    """The stages to render (one, or both when ``types`` spans them) and their types."""
    from certidocs import documents as D

    unknown = [t for t in types or () if t not in D.TYPES]
    if unknown:
        raise DocumentsError(f"type(s) de document inconnu(s) : {', '.join(unknown)} (types : "
                             f"{', '.join(D.TYPES)})")
    if types and etape is None:
        stages = {D.TYPES[t].etape for t in types}
        etape = stages.pop() if len(stages) == 1 else None
        if etape is None:
            return [(s, tuple(t for t in types if D.TYPES[t].etape == s)) for s in STAGES
                    if any(D.TYPES[t].etape == s for t in types)]
    return [(etape or current_stage(dossier), types)]


def _prepare(dossier: Path, opened: SessionOuverte, etape: str,
             types: tuple[str, ...] | None) -> _Lot:
    """Read the results, draw the certificates, check the mandatory mentions."""
    from certidocs import documents as D

    ws = opened.workspace
    organisme = D.organisme_depuis_config(ws.config, ws.root)
    resultats: list[Resultat] = []
    certificats: dict[str, Any] = {}
    scellement: dict[str, Any] = {}
    observations: dict[str, dict[str, str]] = {}
    warnings = []
    if etape == "apres":
        from certidocs.deliberation import empreinte_affichee, sceller
        from certidocs.registre import ouvrir_registre

        with ouvrir_registre(ws) as reg:
            reg.exiger_integrite()
            resultats = load_results(opened, reg)
            D.verifier_candidats_connus(opened.lecture.session, resultats, "le registre")
            seal = sceller(opened, reg)  # the first documents after the exam seal the session
            if not seal.deja_scelle:
                warnings.append(f"session scellée (délibération) : {seal.nombre} décision(s), "
                                f"empreinte {empreinte_affichee(seal.empreinte)}")
            scellement = {"empreinte": empreinte_affichee(seal.empreinte),
                          "version": seal.version}
            if not types or "certificat" in types or "notification_resultats" in types:
                certificats = _certificates(opened, reg, resultats)
            if not types or "fiche_resultats" in types or "proces_verbal" in types:
                observations, unread = _observations(dossier, opened, reg, resultats)
                if unread:
                    warnings.append(
                        "observations des jurés non reprises pour " + ", ".join(unread) +
                        " : la grille n'est plus celle sur laquelle la décision a été scellée "
                        "(modifiée ou retirée depuis)")
        warnings += [f"resultats.json diffère du registre, qui seul fait foi : {e}"
                     for e in ecarts_export(dossier, resultats)]
    donnees = _Donnees.of(opened.lecture.session, opened.referentiel, organisme, resultats,
                          certificats, scellement, observations)
    holders: dict[str, list[str]] = {}
    for numero in certificats:
        c = donnees.candidats[numero]
        for mention in D.mentions_manquantes(opened.referentiel, organisme, c):
            holders.setdefault(mention, []).append(f"{c.prenom} {c.nom}")
    for mention, names in holders.items():
        who = "tous les certificats" if len(names) == len(certificats) else ", ".join(names)
        warnings.append(f"mention obligatoire manquante sur le certificat ({who}) : {mention}")
    if etape == "apres" and (not types or "attestation_blocs" in types):
        attested = [r for r in resultats if D.concerne("attestation_blocs", resultat=r)]
        if attested:
            warnings += [f"mention obligatoire manquante sur les attestations de blocs : {m}"
                         for m in D.mentions_manquantes(opened.referentiel, organisme,
                                                        blocs=True)]
    warnings += [f"réglage à compléter : {r}" for r in D.reglages_manquants(organisme, etape)]
    if etape == "apres":
        warnings += _presences_vides(opened.lecture, resultats)
    return _Lot(etape, types, donnees, [ws.templates_dir, D.default_templates_dir()], warnings)


def _observations(dossier: Path, opened: SessionOuverte, reg: Any,
                  resultats: list[Resultat]) -> tuple[dict[str, dict[str, str]], list[str]]:
    """The jurors' observations of each judged candidate, as the sealed decision was taken
    with them: from the register's evidence (``preuves["observations"]``, kept since the
    grid was read). A passage recorded before the evidence kept them has its grid read again,
    only when it is byte for byte the one the decision was read from (its SHA-256 in the
    evidence): what the documents print beside a decision is what the jury wrote for it.
    Returns the observations and the candidates whose grid changed since (not read). Evidence
    is read deliberation.PASSAGES_LOT passages at a time (a network's session holds
    thousands), and the grids to read again are read over the cores, as by ``resultats``."""
    from certidocs.deliberation import passages_par_lots
    from certidocs.parallel import parallel_map
    from certidocs.pipeline import _jobs_lecture, file_sha256

    judged = sorted(r.numero for r in resultats if r.decision != "Absent")
    kept: dict[str, dict[str, str]] = {}
    sealed: dict[str, str | None] = {}  # older passages: the grid's SHA-256 read
    for lot in passages_par_lots(reg, opened.cle, judged):
        for p in lot:
            evidence = p["preuves"] or {}
            if "observations" in evidence:
                if evidence["observations"]:
                    kept[p["numero"]] = dict(evidence["observations"])
            else:
                sealed[p["numero"]] = (evidence.get("grille") or {}).get("sha256")
    todo = []
    unread: list[str] = []
    if sealed:
        for job in _jobs_lecture(dossier, opened):
            numero = job.candidat.numero
            if not sealed.get(numero):
                continue
            if file_sha256(job.path) != sealed[numero]:
                unread.append(f"{numero} {job.candidat.prenom} {job.candidat.nom}")
                continue
            todo.append(job)
    found = parallel_map(_observations_grille, todo)
    kept.update({job.candidat.numero: notes for job, notes in zip(todo, found, strict=True)
                 if notes})
    return kept, unread


def _observations_grille(job: Any) -> dict[str, str]:
    """The observations written in one grid (a ``pipeline._ReadJob``)."""
    from certidocs.grid.reader import read_grid

    reading = read_grid(job.path, referentiel=job.referentiel, session_nom=job.session_nom,
                        candidat=job.candidat, blocs=job.blocs, fichier_affiche=job.shown,
                        dossier=job.dossier, emission=job.emission)
    return dict(reading.observations)


def _presences_vides(lecture: Any, resultats: list[Resultat]) -> list[str]:
    """One warning listing the candidates judged while « Présence » was left blank: they are
    counted present (their grid was read), which the PV's signatories should confirm."""
    from certidocs.session.layout import CANDIDATS

    judged = {r.numero for r in resultats if r.decision != "Absent"}
    cells = [lecture.cellule(CANDIDATS, c.ligne, "presence") for c in lecture.session.candidats
             if not c.presence and c.numero in judged]
    if not cells:
        return []
    shown = ", ".join(cells[:10]) + (" …" if len(cells) > 10 else "")
    return [f"« Présence » non renseignée pour {len(cells)} candidat(s) évalué(s) ({shown}) : "
            "ils sont comptés présents au procès-verbal ; complétez la colonne « Présence » "
            "de session.xlsx"]


def iter_jobs(dossier: Path, *, etape: str | None = None,
              types: tuple[str, ...] | None = None) -> Iterator[Any]:
    """The documents ``produire_documents`` renders for the same arguments, one at a time,
    each a RenderJob with its context built (the benchmark renders them with plain docxtpl).

    Certificates get their numbers from the register as in ``produire_documents`` (the same
    numbers when already issued).
    """
    from certidocs import documents as D

    stages = _stages(dossier, etape, types)
    opened = open_checked(dossier)
    for stage, wanted in stages:
        lot = _prepare(dossier, opened, stage, wanted)
        for job in _jobs(lot.donnees, stage, wanted):
            yield D.RenderJob(job.type, job.nom, job.contexte(lot.donnees))


def produire_documents(dossier: Path, *, etape: str | None = None,
                       types: tuple[str, ...] | None = None, pdf: bool = False,
                       remplacer_modifies: bool = False,
                       progress: Any = None) -> DocumentsReport:
    """Render the documents due (or those of ``etape`` / ``types``) into
    ``dossier/documents/<type>/``; all or nothing for each stage (when ``types`` spans both,
    the documents of before the exam are written first). ``progress(done, total)`` follows the
    rendering, stage by stage. The session is read and checked once."""
    stages = _stages(dossier, etape, types)
    opened = open_checked(dossier)
    report = DocumentsReport("+".join(stage for stage, _ in stages))
    for stage, wanted in stages:
        _render_stage(dossier, opened, stage, wanted, pdf, remplacer_modifies, progress, report)
    return report


def _render_stage(dossier: Path, opened: SessionOuverte, etape: str,
                  types: tuple[str, ...] | None, pdf: bool, replace: bool, progress: Any,
                  report: DocumentsReport) -> None:
    """Render one stage's documents, adding what was written to ``report``."""
    from certidocs import documents as D

    lot = _prepare(dossier, opened, etape, types)
    report.templates = lot.templates
    report.avertissements += lot.avertissements
    total = sum(1 for _ in _jobs(lot.donnees, etape, types)) if progress else 0
    result = D.render_batch(_jobs(lot.donnees, etape, types), lot.templates,
                            dossier / DOCUMENTS, pdf=pdf, overwrite_edited=replace,
                            shared=lot.donnees.partagees(), progress=progress, total=total)
    report.fichiers += result.fichiers
    report.avertissements += result.avertissements
    report.pdfs += result.pdfs
    report.par_type.update({t: len(paths) for t, paths in result.documents.items()})
    if etape == "apres":
        report.avertissements += _retirer_revoques(dossier, opened, lot.donnees)


REVOQUES = "revoques"
"""Sub-folder of ``documents/certificat/`` where the files of a revoked certificate are moved:
kept (nothing is lost), out of the way of what gets printed and sent."""


def _retirer_revoques(dossier: Path, opened: SessionOuverte, d: _Donnees) -> list[str]:
    """Move the certificate files of this session's revoked certificates (holders no longer
    certified) into ``documents/certificat/revoques/``; one warning per certificate."""
    from certidocs.registre import ouvrir_registre

    folder = dossier / DOCUMENTS / "certificat"
    if not folder.is_dir():
        return []
    with ouvrir_registre(opened.workspace) as reg:
        revoked = reg.certificats_revoques(opened.cle)
    out = []
    for k in revoked:
        numero = k["numero_candidat"]
        if not numero or numero in d.certificats:
            continue
        moved = []
        for path in sorted(folder.glob(f"{numero}_*")):
            if path.is_file():
                (folder / REVOQUES).mkdir(exist_ok=True)
                path.replace(folder / REVOQUES / path.name)
                moved.append(path.name)
        if moved:
            out.append(f"certificat {k['numero']} révoqué : {', '.join(moved)} retiré(s) dans "
                       f"{folder / REVOQUES} (ne pas l'envoyer)")
    return out
