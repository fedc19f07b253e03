"""Sessions: create session.xlsx, read it, and check every rule that holds before the exam."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from certidocs.errors import Probleme, SessionError
from certidocs.model import Referentiel
from certidocs.session.reader import Lecture, read_session
from certidocs.workspace import Workspace

__all__ = ["SessionOuverte", "assurer_identifiant", "open_session", "session_key",
           "verify_session"]


@dataclass(frozen=True)
class SessionOuverte:
    """A session folder read with its référentiel and workspace."""

    dossier: Path
    workspace: Workspace
    lecture: Lecture
    referentiel: Referentiel

    @functools.cached_property
    def cle(self) -> str:
        """The session's key in the register (computed once: resolving the paths is two
        system calls per component, and the results step asks once per candidate, 4.9 s of
        the main process at 10,000 under cProfile on a loaded machine, 01/12/2026)."""
        return session_key(self.workspace, self.dossier)


def session_key(workspace: Workspace, dossier: Path) -> str:
    """The session's identity in the register: its folder relative to the workspace."""
    folder = dossier.resolve()
    try:
        return folder.relative_to(workspace.root.resolve()).as_posix()
    except ValueError:
        return folder.as_posix()


def open_session(dossier: Path, workspace: Workspace) -> SessionOuverte:
    """Read session.xlsx and load the référentiel it names; SessionError if it cannot."""
    from certidocs.referentiel import load_referentiel

    if not dossier.is_dir():
        raise SessionError(f"{dossier} : dossier de session introuvable")
    lecture = read_session(dossier)
    code = lecture.session.info.referentiel
    if not code:
        raise SessionError(f"{dossier / 'session.xlsx'} : {lecture.cellule_session('referentiel')}"
                           " : le code du référentiel est obligatoire")
    try:
        path = workspace.find_referentiel(code)
    except Exception as exc:
        raise SessionError(f"{dossier / 'session.xlsx'} : "
                           f"{lecture.cellule_session('referentiel')} : {exc}") from None
    return SessionOuverte(dossier, workspace, lecture, load_referentiel(path))


def assurer_identifiant(opened: SessionOuverte) -> str:
    """The session's identifier; for a session.xlsx from before identifiers, one is drawn
    once and kept in ``DOSSIER/.certidocs-session`` (never overwritten), so that the grids
    produced from now on carry it. SessionError if that file cannot be written."""
    from certidocs.fileio import atomic_path
    from certidocs.session.creator import new_identifier
    from certidocs.session.layout import ID_FILE
    from certidocs.session.reader import read_id_file

    known = opened.lecture.session.identifiant
    if known:
        return known
    target = opened.dossier / ID_FILE
    try:
        with atomic_path(target, overwrite=False) as tmp:
            tmp.write_text(new_identifier() + "\n", encoding="utf-8")
    except FileExistsError:
        pass
    except OSError as exc:
        raise SessionError(f"{target} : écriture impossible ({exc.strerror})") from None
    return read_id_file(opened.dossier)


def verify_session(opened: SessionOuverte) -> list[Probleme]:
    """Every problem of the session, reading problems first, then the rules, in sheet order."""
    from certidocs import checks
    from certidocs.registre import ouvrir_registre, registre_existe
    from certidocs.session.layout import JURY

    lecture, ref = opened.lecture, opened.referentiel
    session = lecture.session
    problems = list(lecture.problemes)
    problems += checks.check_dates(session, ref, lecture.cellule_session)
    problems += checks.check_candidates(session, ref, lecture.cellule)
    problems += checks.check_codes(session, lecture.cellule)
    problems += checks.check_jury(session, ref, lecture.cellule, lambda: f"{JURY.nom}!A2")
    problems += checks.check_conflicts(session, lecture.cellule)
    problems += checks.check_links(session, lecture.cellule)
    problems += _centre_habilite(opened.workspace, ref)
    if registre_existe(opened.workspace):
        with ouvrir_registre(opened.workspace) as reg:
            for c in session.candidats:
                history = reg.historique(c.nom_naissance, c.prenom, c.date_naissance, ref.code,
                                         avant_session=opened.cle)
                problems += checks.check_retake(c, history, ref, session.info.date_debut,
                                                lecture.cellule)
    return _dedupe(problems)


def _dedupe(problems: list[Probleme]) -> list[Probleme]:
    seen: set[tuple[str, str]] = set()
    out = []
    for p in problems:
        if (p.lieu, p.message) not in seen:
            seen.add((p.lieu, p.message))
            out.append(p)
    return out


def _centre_habilite(ws: Workspace, ref: Referentiel) -> list[Probleme]:
    """The workspace's centre ([centre] siret) among the partners its RNCP fiche lists (a
    warning: the fiche imported may predate a new habilitation)."""
    from certidocs.registre import reglages
    from certidocs.registre.reseau import verifier_centre

    siret = reglages(ws.config).centre
    partners = [(p.nom, p.siret) for p in ref.certification.partenaires]
    why = verifier_centre(siret, partners) if siret else None
    return [Probleme("certidocs.toml [centre] siret", why, grave=False)] if why else []
