"""One function per command: what the CLI calls, and what scripts may call directly.

Each function takes paths and plain values, raises CertidocsError subclasses for anything the
user must fix, and returns data for the CLI to print.
"""

from __future__ import annotations

from pathlib import Path

from certidocs.errors import Probleme
from certidocs.model import Referentiel
from certidocs.workspace import Workspace


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
