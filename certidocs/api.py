"""One function per command: what the CLI calls, and what scripts may call directly.

Each function takes paths and plain values, raises CertidocsError subclasses for anything the
user must fix, and returns data for the CLI to print.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from certidocs.errors import Probleme
from certidocs.model import Referentiel
from certidocs.workspace import Workspace

if TYPE_CHECKING:
    from certidocs.depot import DepotGrille


def message_erreur(exc: BaseException) -> str:
    """The one French message a failed step shows, in the terminal and in the console alike:
    the error's own message, or for a bug of ours a plain sentence (never a traceback)."""
    from certidocs.errors import CertidocsError

    if isinstance(exc, CertidocsError):
        return f"Erreur : {exc}"
    return (f"Erreur interne de certidocs ({type(exc).__name__} : {exc}). Relancez avec "
            "CERTIDOCS_DEBUG=1 pour le détail et signalez-la.")


def init(dossier: Path) -> Workspace:
    """`certidocs init`: a new workspace with the default référentiels and templates."""
    from certidocs.workspace import init_workspace

    return init_workspace(dossier)


def verifier_referentiel(fichier: Path) -> tuple[Referentiel | None, list[Probleme]]:
    """`certidocs referentiel verifier`: the référentiel (None if invalid) and every problem."""
    from certidocs.referentiel import read_referentiel

    return read_referentiel(fichier)


def afficher_referentiel(fichier: Path) -> str:
    """`certidocs referentiel afficher`: a readable summary; ReferentielInvalide if invalid."""
    from certidocs.referentiel import load_referentiel
    from certidocs.referentiel.summary import summarise

    return summarise(load_referentiel(fichier))


def importer_referentiel(source: Path, sortie: Path | None = None, fiche: str | None = None,
                         force: bool = False) -> str:
    """`certidocs referentiel importer`: write the YAML of ``source``; returns the summary.

    ``source`` is a .docx référentiel table, a seed-style text export (.txt/.md) or a France
    Compétences RNCP XML export (``fiche`` picks one fiche). Without ``sortie`` the file goes to
    the current workspace's ``referentiels/<code>.yaml``. Nothing is written on error, and an
    existing file is never overwritten without ``force``.
    """
    from certidocs.referentiel.importers import run_import
    from certidocs.workspace import find_workspace

    return run_import(source, sortie=sortie, fiche=fiche, force=force,
                      workspace=find_workspace(Path.cwd()))


def creer_session(dossier: Path, code: str) -> Path:
    """`certidocs session creer`: write DOSSIER/session.xlsx for référentiel ``code``."""
    from certidocs.referentiel import load_referentiel
    from certidocs.session.creator import create_session
    from certidocs.workspace import find_workspace

    ws = find_workspace(dossier.parent if not dossier.exists() else dossier)
    return create_session(dossier, load_referentiel(ws.find_referentiel(code)))


def verifier_session(dossier: Path) -> list[Probleme]:
    """`certidocs session verifier`: every problem, errors and warnings, each with its cell."""
    from certidocs.session import open_session, verify_session
    from certidocs.workspace import find_workspace

    return verify_session(open_session(dossier, find_workspace(dossier)))


def historique_candidat(nom: str, espace: Path) -> list[dict[str, object]]:
    """`certidocs registre candidat`: people matching ``nom`` with their history."""
    from certidocs.registre import Registre
    from certidocs.workspace import find_workspace

    ws = find_workspace(espace)
    if not ws.registre_path.exists():
        return []
    with Registre(ws.registre_path) as reg:
        return reg.rechercher(nom)


def exporter_registre(sortie: Path, espace: Path) -> Path:
    """`certidocs registre exporter`: the register as an xlsx for office staff."""
    from certidocs.registre import Registre
    from certidocs.registre_export import export_xlsx
    from certidocs.workspace import find_workspace

    ws = find_workspace(espace)
    with Registre(ws.registre_path) as reg:
        return export_xlsx(reg, sortie)


def grilles(dossier: Path, progress: Any = None) -> Any:
    """`certidocs grilles`: one protected grid per expected candidate (GrillesReport)."""
    from certidocs.pipeline import generer_grilles

    return generer_grilles(dossier, progress) if progress else generer_grilles(dossier)


def resultats(dossier: Path, progress: Any = None) -> Any:
    """`certidocs resultats`: read and check the grids, decide, write and record
    (ResultatsReport)."""
    from certidocs.pipeline import calculer_resultats

    return calculer_resultats(dossier, progress) if progress else calculer_resultats(dossier)


def exporter_accrochage(session: Path | None = None, depuis: str | None = None,
                        sortie: Path | None = None, espace: Path | None = None) -> Any:
    """`certidocs accrochage exporter`: the flux of the certificates still to declare to the
    Caisse des Dépôts, validated against its XSD before it is written (RapportExport).

    ``depuis`` is a date as typed (JJ/MM/AAAA or AAAA-MM-JJ). The workspace is ``espace``,
    else the one holding ``session``, else the current folder's.
    """
    from certidocs.accrochage import exporter, lire_date
    from certidocs.errors import AccrochageError
    from certidocs.workspace import find_workspace

    try:
        day = lire_date(depuis) if depuis else None
    except ValueError as exc:
        raise AccrochageError(f"--depuis : {exc}") from None
    ws = find_workspace(espace or session or Path.cwd())
    return exporter(ws, session=session, depuis=day, sortie=sortie)


def marquer_accrochage(fichier: Path, acceptes: bool, passages: tuple[str, ...] = (),
                       motif: str = "", espace: Path | None = None) -> Any:
    """`certidocs accrochage marquer`: record the Caisse des Dépôts' answer to a flux
    (RapportMarquage); rejected passages will be exported again, accepted ones never."""
    from certidocs.accrochage import marquer
    from certidocs.workspace import find_workspace

    ws = find_workspace(espace or Path.cwd())
    return marquer(ws, fichier, acceptes=acceptes, passages=passages, motif=motif)


def documents(dossier: Path, *, stage: str | None = None, types: tuple[str, ...] | None = None,
              pdf: bool = False, remplacer_modifies: bool = False,
              progress: Any = None) -> Any:
    """`certidocs documents`: the documents due at this stage (DocumentsReport)."""
    from certidocs.production import produire_documents

    return produire_documents(dossier, etape=stage, types=types, pdf=pdf,
                              remplacer_modifies=remplacer_modifies, progress=progress)


def verifier_certificat(numero: str, code: str, espace: Path) -> dict[str, Any]:
    """`certidocs registre verifier`: the certificate, its holder, and whether ``code`` is
    the one its holder's data and the workspace secret give."""
    import datetime as dt

    from certidocs.documents import code_valide
    from certidocs.errors import RegistreError
    from certidocs.registre import Registre
    from certidocs.workspace import find_workspace, read_secret

    ws = find_workspace(espace)
    if not ws.registre_path.exists():
        raise RegistreError(f"{ws.registre_path} introuvable : aucun certificat n'a été délivré "
                            "dans cet espace")
    with Registre(ws.registre_path) as reg:
        found = reg.trouver_certificat(numero.strip())
    if found is None:
        return {"authentique": False, "numero": numero}
    born = dt.date.fromisoformat(found["date_naissance"]) if found["date_naissance"] else None
    found["authentique"] = code_valide(
        code, read_secret(ws), found["numero"], found["nom_naissance"], found["prenom"],
        born, dt.date.fromisoformat(found["date_delivrance"]))
    return found


# --- for the console (and scripts): what a workspace holds, files handed back ------------------


@dataclass(frozen=True)
class ReferentielApercu:
    """One référentiel of a workspace as listed for people: code, title, size, points to
    check; ``probleme`` set (and the rest empty) when its YAML does not load."""

    code: str
    fichier: Path
    intitule: str = ""
    blocs: int = 0
    criteres: int = 0
    a_verifier: tuple[str, ...] = ()
    probleme: str = ""


@dataclass(frozen=True)
class EtatSession:
    """Where a session stands, read from its folder alone (no workbook is opened), so that
    listing a thousand-candidate session stays instant."""

    nom: str
    dossier: Path
    classeur: bool
    grilles: int
    resultats: bool
    documents: int

    @property
    def etape(self) -> str:
        """The stage reached, in the coordinator's words."""
        if not self.classeur:
            return "à créer"
        if self.resultats:
            return "documents produits" if self.documents else "résultats calculés"
        if self.grilles:
            return "évaluation en cours (grilles envoyées)"
        return "préparation (session.xlsx)"


def referentiels(espace: Path) -> list[ReferentielApercu]:
    """The référentiels of the workspace (its own, then the defaults it falls back on)."""
    from certidocs.errors import CertidocsError
    from certidocs.workspace import DEFAULTS, find_workspace

    ws = find_workspace(espace)
    seen: dict[str, Path] = {}
    for folder in (ws.referentiels_dir, DEFAULTS / "referentiels"):
        for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            seen.setdefault(path.stem, path)
    out = []
    for code, path in sorted(seen.items()):
        try:
            ref = _referentiel_cached(path, path.stat().st_mtime_ns)
        except CertidocsError as exc:
            out.append(ReferentielApercu(code, path, probleme=str(exc)))
            continue
        out.append(ReferentielApercu(
            ref.code, path, ref.certification.intitule, len(ref.blocs), len(ref.criteres),
            tuple(f"{p.chemin} : {p.raison}" for p in ref.a_verifier)))
    return out


@functools.lru_cache(maxsize=64)
def _referentiel_cached(path: Path, mtime_ns: int) -> Referentiel:
    # Keyed on the modification time: an edited YAML is read again, an unchanged one is not.
    from certidocs.referentiel import load_referentiel

    return load_referentiel(path)


def etat_session(dossier: Path) -> EtatSession:
    """Where the session in ``dossier`` stands (see EtatSession)."""
    from certidocs.pipeline import GRILLES
    from certidocs.production import DOCUMENTS
    from certidocs.resultats import JSON_NAME

    def count(folder: Path, pattern: str) -> int:
        return sum(1 for p in folder.glob(pattern) if not p.name.startswith(".")) \
            if folder.is_dir() else 0

    return EtatSession(dossier.name, dossier, (dossier / "session.xlsx").is_file(),
                       count(dossier / GRILLES, "*.xlsx"), (dossier / JSON_NAME).is_file(),
                       count(dossier / DOCUMENTS, "*/*.docx"))


def sessions(espace: Path) -> list[EtatSession]:
    """Every session folder of the workspace, by name, with where it stands."""
    from certidocs.workspace import find_workspace

    folder = find_workspace(espace).sessions_dir
    if not folder.is_dir():
        return []
    return [etat_session(p) for p in sorted(folder.iterdir())
            if p.is_dir() and not p.name.startswith(".")]


def deposer_session(dossier: Path, nom: str, contenu: bytes) -> list[Probleme]:
    """`certidocs deposer` of a filled session.xlsx: checked, put in place (the previous one
    kept in .historique/), its problems returned as `session verifier` gives them."""
    from certidocs.depot import deposer_session as run

    return run(dossier, nom, contenu)


def deposer_grilles(dossier: Path, fichiers: list[tuple[str, bytes]],
                    remplacer: bool = False) -> list[DepotGrille]:
    """`certidocs deposer` of returned grids: each checked as `resultats` reads it and
    placed under its candidate; a grid holding other input is replaced only if asked."""
    from certidocs.depot import deposer_grilles as run

    return run(dossier, fichiers, remplacer)
