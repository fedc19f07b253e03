"""Exceptions raised by certidocs; the CLI turns each into one French message and exit code 1.

Every message is already in French and names where the problem is (file, sheet and cell, or
YAML path and line). This module imports nothing from certidocs.
"""

from __future__ import annotations

from dataclasses import dataclass


class CertidocsError(Exception):
    """Base of every error the user must fix; ``str(error)`` is the message to show.

    Pickled as its class, message and attributes, whatever its ``__init__`` takes: an error
    raised in a process apart (certidocs.apart) is raised again, the same, in its caller."""

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return _rebuilt, (type(self), self.args, self.__dict__)


def _rebuilt(cls: type[CertidocsError], args: tuple[object, ...],
             state: dict[str, object]) -> CertidocsError:
    """``cls``'s error with these ``args`` and attributes, its ``__init__`` not called."""
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


@dataclass(frozen=True)
class Probleme:
    """One problem found while checking a file, with where it is.

    ``lieu`` is a YAML path (``blocs[1].criteres[2].code``) or a cell (``Candidats!F7``);
    ``ligne`` is the line in the file when known; ``grave`` is False for a warning.
    """

    lieu: str
    message: str
    ligne: int | None = None
    grave: bool = True

    def __str__(self) -> str:
        where = self.lieu or "(racine)"
        if self.ligne is not None:
            where = f"{where} (ligne {self.ligne})"
        prefix = "" if self.grave else "attention : "
        return f"{where} : {prefix}{self.message}"


class ProblemesError(CertidocsError):
    """Raised when a file was checked completely and holds at least one blocking problem."""

    def __init__(self, fichier: str, problemes: list[Probleme]) -> None:
        self.fichier = fichier
        self.problemes = problemes
        errors = [p for p in problemes if p.grave]
        lines = [f"{fichier} : {len(errors)} problème(s) à corriger"]
        lines += [f"  - {p}" for p in problemes]
        super().__init__("\n".join(lines))


class ReferentielError(CertidocsError):
    """Raised when a référentiel cannot be read (missing file, not YAML, not found by code)."""


class ReferentielInvalide(ProblemesError):
    """Raised when a référentiel YAML file breaks the format of referentiels/FORMAT.md."""


class EspaceError(CertidocsError):
    """Raised when a workspace cannot be created or found, or its certidocs.toml is wrong."""


class SessionError(CertidocsError):
    """Raised when session.xlsx cannot be created or read (missing, not a workbook, layout)."""


class SessionInvalide(ProblemesError):
    """Raised when session.xlsx was read but breaks a rule that must hold before the exam."""


class RegistreError(CertidocsError):
    """Raised when the register cannot be opened, migrated or queried."""


class GrilleError(CertidocsError):
    """Raised when a scoring grid cannot be written (unknown bloc, file holding input, disk)."""


class LibreOfficeIntrouvable(CertidocsError):
    """Raised when LibreOffice (soffice) is needed and not installed."""


class LibreOfficeError(CertidocsError):
    """Raised when a LibreOffice conversion fails, times out or produces no file."""


class DocumentError(CertidocsError):
    """Raised when documents cannot be produced (bad logo setting, hand-edited file in the way)."""


class ModeleError(CertidocsError):
    """Raised when a Word template cannot be rendered (Jinja syntax error, unknown variable)."""


class ImportErreur(CertidocsError):
    """Raised when a référentiel cannot be imported (unreadable source, no table, unknown fiche)."""


class AccrochageError(CertidocsError):
    """Raised when the declaration to the Caisse des Dépôts cannot be exported or marked."""


class AccrochageReglagesInvalides(ProblemesError):
    """Raised when the [accrochage] settings of certidocs.toml are missing or ill-formed."""


class FluxInvalide(ProblemesError):
    """Raised when a built flux breaks the Caisse des Dépôts' XSD; nothing is written then."""


class ArchiveRefusee(CertidocsError):
    """Raised when a workbook's zip archive is refused from its declared sizes (zip bomb)."""


class ClasseurRefuse(CertidocsError):
    """Raised when a workbook is not read: not an ordinary file, not an .xlsx, malformed, or
    beyond a limit of :mod:`certidocs.classeur`; ``cellule`` is the cell at fault, if any."""

    def __init__(self, message: str, cellule: str = "") -> None:
        super().__init__(message)
        self.cellule = cellule
