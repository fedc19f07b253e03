"""`certidocs documents`: the Word documents due at this stage of the session.

Before the exam (no resultats.json yet): convocations, attendance sheet, jury convocations.
After the results: individual results, procès-verbal, certificates, bloc attestations, result
letters, notices of non-recevabilité, dysfunction log. Certificates get their number from the
register (sequential per certification and year, the same number when regenerated) and a
verification code signed with the workspace's secret.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from certidocs.errors import CertidocsError
from certidocs.model import Anomalie, Resultat, ResultatBloc
from certidocs.pipeline import open_checked
from certidocs.resultats import JSON_NAME
from certidocs.session import SessionOuverte
from certidocs.workspace import SECRET_NAME, Workspace

DOCUMENTS = "documents"
STAGES = ("avant", "apres")


class DocumentsError(CertidocsError):
    """Raised when documents are asked for at a stage the session has not reached."""


@dataclass
class DocumentsReport:
    """What was rendered: files per type, plus the jobs (for the benchmark's baseline)."""

    etape: str
    fichiers: list[Path] = field(default_factory=list)
    par_type: dict[str, int] = field(default_factory=dict)
    pdfs: list[Path] = field(default_factory=list)
    avertissements: list[str] = field(default_factory=list)
    jobs: list[Any] = field(default_factory=list)
    templates: list[Path] = field(default_factory=list)


def workspace_secret(ws: Workspace) -> bytes:
    """The secret that signs certificates; created (mode 0600) on first use."""
    path = ws.root / SECRET_NAME
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="ascii").strip().encode("ascii")


def load_results(dossier: Path) -> list[Resultat]:
    """The outcomes written by `certidocs resultats` (resultats.json), as model objects."""
    path = dossier / JSON_NAME
    if not path.exists():
        raise DocumentsError(f"{path} introuvable : les documents d'après l'examen demandent "
                             f"les résultats ; lancez d'abord « certidocs resultats {dossier} »")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [Resultat(
            numero=c["numero"], nom=c["nom"], prenom=c["prenom"], decision=c["decision"],
            blocs=tuple(ResultatBloc(code, b["acquis"], b["total"], b["valide"],
                                     b.get("capitalise", False))
                        for code, b in c["blocs"].items()),
            rattrapage_possible=c["rattrapage_possible"],
            rattrapage_jusqu_au=dt.date.fromisoformat(c["rattrapage_jusqu_au"])
            if c.get("rattrapage_jusqu_au") else None,
            anomalies=tuple(Anomalie(a["fichier"], a["cellule"], a["message"])
                            for a in data["anomalies"]
                            if a["fichier"].split("/")[-1].startswith(f"{c['numero']}_")),
        ) for c in data["candidats"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise DocumentsError(f"{path} : fichier de résultats abîmé ({exc}) ; relancez "
                             f"« certidocs resultats {dossier} »") from None


def current_stage(dossier: Path) -> str:
    """« apres » once results exist, else « avant »."""
    return "apres" if (dossier / JSON_NAME).exists() else "avant"


def _jobs(opened: SessionOuverte, etape: str, types: tuple[str, ...] | None,
          resultats: list[Resultat], certificats: dict[str, Any],
          organisme: dict[str, Any]) -> Iterator[Any]:
    from certidocs import documents as D
    from certidocs.pipeline import expects_grid

    session, ref = opened.lecture.session, opened.referentiel
    by_number = {r.numero: r for r in resultats}
    candidates = {c.numero: c for c in session.candidats}
    for nom, kind in D.TYPES.items():
        if kind.etape != etape or (types and nom not in types):
            continue
        if kind.par == "session":
            builder = getattr(D, f"contexte_{nom}")
            context = builder(session, ref, organisme, resultats) if nom == "proces_verbal" \
                else builder(session, ref, organisme)
            yield D.RenderJob(nom, D.safe_filename(nom, session.nom), context)
        elif kind.par == "jure":
            for j in session.jury:
                yield D.RenderJob(nom, D.safe_filename(nom, j.nom.upper(), j.prenom),
                                  D.contexte_convocation_jury(session, ref, organisme, j))
        elif kind.par == "recours":
            for rec in session.recours:
                c = candidates.get(rec.numero)
                if c is None or not D.concerne(nom, recours=rec):
                    continue
                yield D.RenderJob(nom, D.safe_filename(nom, c.numero, c.nom.upper(), c.prenom),
                                  D.contexte_non_recevabilite(session, ref, organisme, c, rec))
        else:
            for c in session.candidats:
                file_name = D.safe_filename(c.numero, c.nom.upper(), c.prenom)
                if etape == "avant":
                    if expects_grid(c):
                        yield D.RenderJob(nom, file_name, D.contexte_convocation_candidat(
                            session, ref, organisme, c))
                    continue
                r = by_number.get(c.numero)
                if r is None or not D.concerne(nom, resultat=r):
                    continue
                if nom == "certificat":
                    context = D.contexte_certificat(session, ref, organisme, c, r,
                                                    certificats[c.numero])
                elif nom == "notification_resultats":
                    context = D.contexte_notification_resultats(
                        session, ref, organisme, c, r, certificats.get(c.numero))
                else:
                    context = getattr(D, f"contexte_{nom}")(session, ref, organisme, c, r)
                yield D.RenderJob(nom, file_name, context)


def _certificates(opened: SessionOuverte, resultats: list[Resultat]) -> dict[str, Any]:
    """Number, verification code, date and place of each certified candidate's certificate,
    drawn from (and recorded in) the register in one transaction."""
    from certidocs.documents import CertificatInfo, verification_code
    from certidocs.registre import Registre

    session, ref = opened.lecture.session, opened.referentiel
    info = session.info
    day = info.date_deliberation or info.date_fin or info.date_debut or dt.date.today()
    secret = workspace_secret(opened.workspace)
    by_number = {c.numero: c for c in session.candidats}
    out: dict[str, Any] = {}
    with Registre(opened.workspace.registre_path) as reg, reg.transaction() as conn:
        sid = reg.session_id(conn, opened.cle, session.nom, ref.code, info.date_debut,
                             info.date_fin, info.lieu)
        for r in resultats:
            if r.decision != "Certifié":
                continue
            c = by_number[r.numero]
            numero, issued = reg.certificat(
                conn, session_id=sid, nom_naissance=c.nom_naissance, prenom=c.prenom,
                date_naissance=c.date_naissance, referentiel=ref.code, date_delivrance=day)
            code = verification_code(secret, numero, c.nom_naissance, c.prenom,
                                     c.date_naissance, issued)
            reg.enregistrer_code(conn, numero, code)
            out[c.numero] = CertificatInfo(numero, code, issued, info.lieu)
    return out


def produire_documents(dossier: Path, *, etape: str | None = None,
                       types: tuple[str, ...] | None = None, pdf: bool = False,
                       remplacer_modifies: bool = False) -> DocumentsReport:
    """Render the documents due (or those of ``etape`` / ``types``) into
    ``dossier/documents/<type>/``; all or nothing."""
    from certidocs import documents as D

    unknown = [t for t in types or () if t not in D.TYPES]
    if unknown:
        raise DocumentsError(f"type(s) de document inconnu(s) : {', '.join(unknown)} (types : "
                             f"{', '.join(D.TYPES)})")
    if types and etape is None:
        stages = {D.TYPES[t].etape for t in types}
        etape = stages.pop() if len(stages) == 1 else None
        if etape is None:
            return _both(dossier, types, pdf, remplacer_modifies)
    etape = etape or current_stage(dossier)
    opened = open_checked(dossier)
    ws = opened.workspace
    organisme = D.organisme_depuis_config(ws.config, ws.root)
    resultats = load_results(dossier) if etape == "apres" else []
    certificats = _certificates(opened, resultats) if etape == "apres" and (
        not types or "certificat" in types or "notification_resultats" in types) else {}
    report = DocumentsReport(etape)
    jobs = list(_jobs(opened, etape, types, resultats, certificats, organisme))
    report.jobs = jobs
    report.templates = [ws.templates_dir, D.default_templates_dir()]
    holders: dict[str, list[str]] = {}
    for numero in certificats:
        c = opened.lecture.session.candidat(numero)
        for mention in D.mentions_manquantes(opened.referentiel, organisme, c):
            holders.setdefault(mention, []).append(f"{c.prenom} {c.nom}")
    for mention, names in holders.items():
        who = "tous les certificats" if len(names) == len(certificats) else ", ".join(names)
        report.avertissements.append(f"mention obligatoire manquante sur le certificat "
                                     f"({who}) : {mention}")
    result = D.render_batch(jobs, report.templates, dossier / DOCUMENTS, pdf=pdf,
                            overwrite_edited=remplacer_modifies)
    report.fichiers = result.fichiers
    report.pdfs = result.pdfs
    report.par_type = {t: len(paths) for t, paths in result.documents.items()}
    return report


def _both(dossier: Path, types: tuple[str, ...], pdf: bool, replace: bool) -> DocumentsReport:
    from certidocs import documents as D

    report = DocumentsReport("avant+apres")
    for etape in STAGES:
        wanted = tuple(t for t in types if D.TYPES[t].etape == etape)
        if not wanted:
            continue
        part = produire_documents(dossier, etape=etape, pdf=pdf, remplacer_modifies=replace,
                                  types=wanted)
        report.fichiers += part.fichiers
        report.pdfs += part.pdfs
        report.par_type.update(part.par_type)
        report.avertissements += part.avertissements
        report.jobs += part.jobs
        report.templates = part.templates
    return report
