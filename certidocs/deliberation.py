"""Deliberation and revision: the steps that make a session's decisions final, then change one
only with a reason and a trace.

`certidocs deliberer` (or the first `documents` after the exam) **seals** the session: every
candidate must have a decision in the register, taken from the grid as it is now; a fingerprint
of the decisions and their evidence is recorded and printed on the procès-verbal. After that,
`certidocs resultats` decides nothing again (it reports a grid changed since), and a decision
changes only through `certidocs decision reviser`, appended to the history: a certificate it
invalidates is revoked (kept, marked, listed for a correcting declaration to the Caisse des
Dépôts when it was declared), capitalised blocs follow, and the session is sealed again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from certidocs.errors import CertidocsError
from certidocs.model import INCOMPLET, Resultat
from certidocs.session import SessionOuverte

EMPREINTE_AFFICHEE = 16
"""Hex characters of the seal's fingerprint printed on the procès-verbal (64 bits, in groups
of 4): enough to compare a printed PV with the register by eye; the register keeps all 64."""


class DeliberationError(CertidocsError):
    """Raised when a session cannot be sealed or a decision cannot be revised as asked."""


def empreinte_decisions(cle: str, referentiel: str, passages: list[dict[str, Any]]) -> str:
    """The SHA-256 (hex) of a session's decisions and evidence: session key, référentiel and,
    per candidate number, decision, outcome detail and evidence, in canonical JSON."""
    return empreinte_flux(cle, referentiel,
                          [sorted(passages, key=lambda p: str(p["numero"]))])


def empreinte_flux(cle: str, referentiel: str,
                   lots: Iterable[Iterable[dict[str, Any]]]) -> str:
    """``empreinte_decisions`` of passages given by lots, already in the order of their
    numbers' text: the canonical JSON is hashed as it is written, one passage at a time, so
    that neither the passages nor the text of a network's session are ever whole in memory.
    The text hashed is the same: ``{"passages":[…],"referentiel":…,"session":…}``, keys
    sorted, no spaces."""
    def canonical(value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False, sort_keys=True,
                          separators=(",", ":")).encode("utf-8")

    digest = hashlib.sha256(b'{"passages":[')
    first = True
    for lot in lots:
        for p in lot:
            digest.update((b"" if first else b",") + canonical(
                {"numero": p["numero"], "decision": p["decision"], "detail": p["detail"],
                 "preuves": p["preuves"]}))
            first = False
    digest.update(b'],"referentiel":' + canonical(referentiel) + b',"session":' +
                  canonical(cle) + b"}")
    return digest.hexdigest()


PASSAGES_LOT = 500
"""Passages of a session decoded at a time when the whole session's are read (sealing, the
documents' outcomes and observations): each passage's evidence holds every evaluation of its
grid (a few kilobytes), so a 10,000-candidate session's would take about a hundred megabytes at
once; 500 keep it to a few megabytes in a few queries (SQLite's default limit of host
parameters is 32,766 since 3.32, far above)."""


def passages_par_lots(reg: Any, cle: str, numeros: list[str]
                      ) -> Iterator[list[dict[str, Any]]]:
    """The passages of session ``cle`` of the candidates ``numeros``, PASSAGES_LOT at a time,
    in the order of ``numeros`` (a number without a passage is left out)."""
    for k in range(0, len(numeros), PASSAGES_LOT):
        lot = numeros[k:k + PASSAGES_LOT]
        found = {p["numero"]: p for p in reg.passages_session(cle, lot)}
        yield [found[n] for n in lot if n in found]


def empreinte_affichee(empreinte: str) -> str:
    """The printed form of a seal's fingerprint: « 3F2A 9C01 77B4 0D5E »."""
    head = empreinte[:EMPREINTE_AFFICHEE].upper()
    return " ".join(head[i:i + 4] for i in range(0, len(head), 4))


@dataclass
class DeliberationReport:
    """What sealing did: the seal's version and fingerprint, how many decisions."""

    dossier: Path
    version: int
    empreinte: str
    nombre: int
    date_deliberation: dt.date | None
    deja_scelle: bool = False


def _session_id(reg: Any, conn: Any, opened: SessionOuverte) -> int:
    info = opened.lecture.session.info
    return int(reg.session_id(conn, opened.cle, opened.lecture.session.nom,
                              opened.referentiel.code, info.date_debut, info.date_fin,
                              info.lieu, opened.lecture.session.identifiant))


def sceller(opened: SessionOuverte, reg: Any) -> DeliberationReport:
    """Seal the session in the register (or return its seal when it already is).

    Refused (DeliberationError, each candidate named) when a candidate has no decision in the
    register, is « Incomplet », or when a grid changed since the results were computed.
    """
    from certidocs.grid.writer import grid_filename
    from certidocs.pipeline import GRILLES, expects_grid, file_sha256

    info = opened.lecture.session.info
    day = info.date_deliberation
    existing = reg.scellement(opened.cle)
    if existing:
        return DeliberationReport(opened.dossier, existing["version"], existing["empreinte"],
                                  existing["nombre"], _iso(existing["date_deliberation"]),
                                  deja_scelle=True)
    # Passages read PASSAGES_LOT at a time: the candidates' checked, then every passage's
    # fingerprinted in the order of their numbers.
    candidats = opened.lecture.session.candidats
    problems = []
    for k in range(0, len(candidats), PASSAGES_LOT):
        lot = candidats[k:k + PASSAGES_LOT]
        passages = {p["numero"]: p
                    for p in reg.passages_session(opened.cle, [c.numero for c in lot])}
        for c in lot:
            p = passages.get(c.numero)
            who = f"{c.numero} {c.prenom} {c.nom}"
            if p is None:
                problems.append(f"{who} : aucune décision au registre")
            elif p["decision"] == INCOMPLET:
                problems.append(f"{who} : grille incomplète (voir les anomalies de « certidocs "
                                "resultats »)")
            elif expects_grid(c) and p["preuves"].get("grille"):
                path = opened.dossier / GRILLES / grid_filename(c)
                if file_sha256(path) != p["preuves"]["grille"].get("sha256"):
                    problems.append(f"{who} : la grille a changé depuis le dernier « certidocs "
                                    "resultats »")
    if problems:
        raise DeliberationError(
            f"{opened.dossier} : la délibération demande une décision à jour pour chaque "
            f"candidat ; relancez « certidocs resultats {opened.dossier} » puis recommencez :\n"
            + "\n".join(f"  - {p}" for p in problems))
    numeros = reg.numeros_session(opened.cle)
    empreinte = empreinte_flux(opened.cle, opened.referentiel.code,
                               passages_par_lots(reg, opened.cle, numeros))
    with reg.transaction("session scellée", f"{opened.cle} : {len(numeros)} décision(s), "
                         f"empreinte {empreinte_affichee(empreinte)}") as conn:
        version = reg.sceller(conn, session_id=_session_id(reg, conn, opened),
                              empreinte=empreinte, nombre=len(numeros), date_deliberation=day,
                              motif="délibération du jury")
    return DeliberationReport(opened.dossier, version, empreinte, len(numeros), day)


def _iso(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value[:10]) if value else None


def deliberer(dossier: Path) -> DeliberationReport:
    """`certidocs deliberer`: seal the session's decisions (see ``sceller``)."""
    from certidocs.pipeline import open_checked
    from certidocs.registre import ouvrir_registre

    opened = open_checked(dossier)
    with ouvrir_registre(opened.workspace) as reg:
        reg.exiger_integrite()
        return sceller(opened, reg)


@dataclass
class RevisionReport:
    """What a revision changed: the decisions before and after, the certificate revoked
    (number, whether it had been declared to the CDC), the new seal."""

    numero: str
    ancienne: str
    nouvelle: str
    motif: str
    date_revision: dt.date
    scellement: int
    revoque: str | None = None
    a_rectifier_cdc: bool = False
    blocs_retires: list[str] = field(default_factory=list)
    blocs_ajoutes: list[str] = field(default_factory=list)


MOTIF_MIN = 10
"""Characters a revision's reason needs at least: « erreur » alone explains nothing to whoever
reads the history or answers the candidate."""


def reviser(dossier: Path, numero: str, motif: str, date_revision: dt.date | None = None
            ) -> RevisionReport:
    """`certidocs decision reviser`: decide again for one candidate of a sealed session, from
    their grid as it is now (corrected after a jury error or a successful recours), with a
    reason and a date, appended to the history.

    Raises DeliberationError when the session is not sealed (then ``resultats`` suffices),
    the candidate is unknown, the reason is too short, the grid is incomplete, or the grid
    gives the decision already recorded.
    """
    from certidocs.pipeline import (
        _jobs_lecture,
        _read,
        decide,
        open_checked,
        preuves,
        resultats_enregistres,
    )
    from certidocs.registre import ouvrir_registre
    from certidocs.resultats import resultat_json, write_results

    motif = " ".join(motif.split())
    if len(motif) < MOTIF_MIN:
        raise DeliberationError(f"--motif : dites pourquoi la décision change (au moins "
                                f"{MOTIF_MIN} caractères : erreur du jury, recours accueilli…)")
    day = date_revision or dt.date.today()
    opened = open_checked(dossier)
    session, ref = opened.lecture.session, opened.referentiel
    by_number = {c.numero: c for c in session.candidats}
    c = by_number.get(numero.strip())
    if c is None:
        raise DeliberationError(f"{dossier} : aucun candidat n° {numero} dans session.xlsx "
                                f"(numéros : {', '.join(by_number)})")
    with ouvrir_registre(opened.workspace) as reg:
        reg.exiger_integrite()
        seal = reg.scellement(opened.cle)
        if not seal:
            raise DeliberationError(f"{dossier} : la session n'est pas encore délibérée ; "
                                    "corrigez la grille et relancez simplement « certidocs "
                                    f"resultats {dossier} »")
        last = _iso(seal["date_deliberation"])
        if last is not None and day < last:
            raise DeliberationError(f"--date : une révision ne peut précéder la délibération "
                                    f"ou la dernière révision ({last:%d/%m/%Y}) ; donnez la "
                                    "date de la décision de révision")
        before = resultats_enregistres(opened, reg).get(c.numero)
        if before is None:
            raise DeliberationError(f"{dossier} : aucune décision au registre pour {c.numero}")
        job = next(iter(_jobs_lecture(dossier, opened, [c])), None)
        lu = _read(job) if job is not None else None
        after = decide(opened, reg, c, lu)
        if after.decision == INCOMPLET:
            cells = "; ".join(str(a) for a in after.anomalies) or "grille absente"
            raise DeliberationError(f"{dossier} : la grille de {c.numero} ne permet pas de "
                                    f"décider : {cells}")
        if resultat_json(after) == resultat_json(before):
            raise DeliberationError(f"{dossier} : la grille de {c.numero} donne la décision "
                                    f"déjà enregistrée ({before.decision}) ; rien à réviser. "
                                    "Corrigez d'abord la grille.")
        report = _appliquer(opened, reg, c, before, after,
                            preuves(job, lu) if job is not None and lu is not None else {},
                            motif, day)
        resultats = list(resultats_enregistres(opened, reg).values())
        order = {x.numero: i for i, x in enumerate(session.candidats)}
        resultats.sort(key=lambda r: order.get(r.numero, len(order)))
        write_results(dossier, session, ref, resultats,
                      [a for r in resultats for a in r.anomalies])
    return report


def _appliquer(opened: SessionOuverte, reg: Any, c: Any, before: Resultat, after: Resultat,
               evidence: dict[str, Any], motif: str, day: dt.date) -> RevisionReport:
    """Write one revision in one journaled transaction: passage, history, blocs,
    revocation, new seal."""
    from certidocs.model import ABSENT, CERTIFIE
    from certidocs.resultats import resultat_json

    session, ref = opened.lecture.session, opened.referentiel
    valid = [] if after.decision in (ABSENT, INCOMPLET) else [
        b.code for b in after.blocs if b.valide and not b.capitalise]
    was = {b.code for b in before.blocs if b.valide and not b.capitalise}
    report = RevisionReport(c.numero, before.decision, after.decision, motif, day, 0,
                            blocs_retires=sorted(was - set(valid)),
                            blocs_ajoutes=sorted(set(valid) - was))
    with reg.transaction("révision", f"{opened.cle} : {c.numero} {before.decision} → "
                         f"{after.decision} ({motif})") as conn:
        sid = _session_id(reg, conn, opened)
        cid = reg.enregistrer_passage(
            conn, session_id=sid, nom_naissance=c.nom_naissance, prenom=c.prenom,
            date_naissance=c.date_naissance, numero=c.numero, referentiel=ref.code,
            date_session=session.info.date_debut, voie_acces=c.voie_acces,
            decision=after.decision, detail=resultat_json(after),
            blocs_valides=valid if ref.regles.capitalisation else [],
            identite={}, preuves=evidence)
        reg.enregistrer_revision(conn, session_id=sid, candidat_id=cid, numero=c.numero,
                                 ancienne=before.decision, nouvelle=after.decision,
                                 motif=motif, date_revision=day,
                                 ancien_detail=resultat_json(before))
        if before.decision == CERTIFIE and after.decision != CERTIFIE:
            revoked = reg.revoquer(conn, candidat_id=cid, session_id=sid,
                                   motif=motif, date_revocation=day)
            if revoked:
                report.revoque = str(revoked["numero"])
                report.a_rectifier_cdc = bool(revoked["declare"])
        recorded = reg.passages_session(opened.cle)
        report.scellement = reg.sceller(
            conn, session_id=sid, nombre=len(recorded), date_deliberation=day,
            empreinte=empreinte_decisions(opened.cle, ref.code, recorded),
            motif=f"révision de {c.numero} : {motif}")
    return report
