"""Files handed back to certidocs: a filled session.xlsx, the grids the jurors return.

Office staff fill ``session.xlsx`` on their own machine and jurors mail their grids back; these
functions put such files where the next step reads them, after the same checks the steps make
(an archive out of proportion, a workbook that is not a grid, a grid of another session or
candidate), so that nothing unchecked ever lands in a session folder. A grid already holding
a juror's input is replaced only when asked. The console's upload forms and
``certidocs deposer`` both call them, through ``certidocs.api``.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from certidocs.errors import ArchiveRefusee, CertidocsError, Probleme, SessionError
from certidocs.fileio import atomic_path
from certidocs.model import Anomalie

MAX_OCTETS = 20 * 1024 * 1024  # a grid weighs ~100 kB, a session of 1,000 candidates ~1 MB
_MAX_INFLATED = 100 * 1024 * 1024
_SAFE_NAME = re.compile(r"^[^/\\\x00-\x1f:*?\"<>|]{1,200}$")
HISTORIQUE = ".historique"


class DepotRefuse(CertidocsError):
    """Raised when a file handed back cannot be placed (bad name, too big, not a workbook)."""


@dataclass
class DepotGrille:
    """What happened to one returned grid: where it went (None if refused) and why."""

    fichier: str
    destination: Path | None = None
    candidat: str = ""
    refus: str = ""
    anomalies: list[Anomalie] = field(default_factory=list)
    remplace: bool = False

    @property
    def place(self) -> bool:
        """Whether the grid was placed in grilles/."""
        return self.destination is not None


def check_name(nom: str) -> str:
    """A file's bare name as sent, refused (DepotRefuse) if it names a path or is not .xlsx."""
    base = nom.strip()
    if (not _SAFE_NAME.match(base) or base in (".", "..") or ".." in base
            or not base.lower().endswith(".xlsx")):
        raise DepotRefuse(f"« {nom} » : nom de fichier refusé (un classeur .xlsx, sans chemin "
                          "ni « .. »)")
    return base


def _check_archive(nom: str, contenu: bytes) -> None:
    """Refuse what is too big, not a zip, or a zip bomb, before any workbook reader sees it."""
    import io

    from certidocs.zipcheck import check_archive

    if len(contenu) > MAX_OCTETS:
        raise DepotRefuse(f"« {nom} » : fichier trop gros ({len(contenu) // 1024} Ko, "
                          f"{MAX_OCTETS // (1024 * 1024)} Mo au plus)")
    try:
        with zipfile.ZipFile(io.BytesIO(contenu)) as zf:
            check_archive(zf, max_total=_MAX_INFLATED)
    except ArchiveRefusee as exc:
        raise DepotRefuse(f"« {nom} » : {exc}") from None
    except (zipfile.BadZipFile, OSError, EOFError):
        raise DepotRefuse(f"« {nom} » : ce n'est pas un classeur Excel (.xlsx) lisible ; "
                          "enregistrez-le à nouveau depuis Excel") from None


def deposer_session(dossier: Path, nom: str, contenu: bytes) -> list[Probleme]:
    """Put a filled ``session.xlsx`` in ``dossier`` and return its problems (as
    ``session verifier`` lists them). A file that cannot be read as a session is refused and
    the current one kept; the replaced one is kept in ``.historique/``."""
    from certidocs.session import open_session, verify_session
    from certidocs.workspace import find_workspace

    check_name(nom)
    _check_archive(nom, contenu)
    if not (dossier / "session.xlsx").exists():
        raise DepotRefuse(f"{dossier} : pas de session.xlsx à remplacer ; créez d'abord la "
                          "session")
    trial = dossier / HISTORIQUE / f"essai-{dt.datetime.now():%Y%m%d-%H%M%S-%f}"
    trial.mkdir(parents=True)
    try:
        (trial / "session.xlsx").write_bytes(contenu)
        ws = find_workspace(dossier)
        try:
            problems = verify_session(open_session(trial, ws))
        except SessionError as exc:
            raise DepotRefuse(str(exc).replace(str(trial), str(dossier))
                              + " ; le classeur en place est conservé") from None
        stamp = f"{dt.datetime.now():%Y%m%d-%H%M%S}"
        current = dossier / "session.xlsx"
        with atomic_path(dossier / HISTORIQUE / f"session-{stamp}.xlsx") as tmp:
            tmp.write_bytes(current.read_bytes())
        with atomic_path(current) as tmp:
            tmp.write_bytes(contenu)
    finally:
        for p in trial.iterdir():
            p.unlink()
        trial.rmdir()
    return problems


def _meta_numero(contenu: bytes) -> str:
    """The candidate number in the grid's hidden ``_certidocs`` sheet ("" if none)."""
    import io

    from openpyxl import load_workbook

    from certidocs.grid import layout as L

    try:
        wb = load_workbook(io.BytesIO(contenu), read_only=True, data_only=True)
    except Exception:  # any unreadable workbook is simply not a grid
        return ""
    try:
        if L.SHEET_META not in wb.sheetnames:
            return ""
        for row in wb[L.SHEET_META].iter_rows(min_col=1, max_col=2, max_row=200,
                                               values_only=True):
            if row and row[0] == L.META_NUMERO:
                return "" if row[1] is None else str(row[1]).strip()
        return ""
    finally:
        wb.close()


def deposer_grilles(dossier: Path, fichiers: list[tuple[str, bytes]],
                    remplacer: bool = False) -> list[DepotGrille]:
    """Check each returned grid and place it under its candidate in ``dossier/grilles/``.

    A grid is recognised by the candidate number it holds (else by its name); it is read
    as ``certidocs resultats`` reads it. Refused (not placed): a file that is not a grid of
    this session, or one that would replace a grid holding other input while ``remplacer``
    is False. Placed with its anomalies listed: a grid of the right candidate still
    incomplete or with an invalid cell.
    """
    from certidocs.grid.reader import grid_has_input, read_grid
    from certidocs.grid.writer import grid_filename
    from certidocs.pipeline import GRILLES, expects_grid, open_checked

    opened = open_checked(dossier)
    session, ref = opened.lecture.session, opened.referentiel
    by_name = {grid_filename(c): c for c in session.candidats if expects_grid(c)}
    by_number = {c.numero.strip(): c for c in by_name.values()}
    folder = dossier / GRILLES
    out: list[DepotGrille] = []
    for nom, contenu in fichiers:
        report = DepotGrille(nom)
        out.append(report)
        try:
            base = check_name(nom)
            _check_archive(base, contenu)
        except DepotRefuse as exc:
            report.refus = str(exc)
            continue
        # What the grid says it is comes first: a juror may have saved it under any name.
        cand = by_number.get(_meta_numero(contenu)) or by_name.get(base)
        if cand is None:
            report.refus = (f"« {base} » : ce n'est pas une grille d'un candidat attendu de cette "
                            "session (feuille « _certidocs » absente ou numéro inconnu)")
            continue
        target = folder / grid_filename(cand)
        report.candidat = f"{cand.numero} {cand.prenom} {cand.nom}"
        shown = f"{GRILLES}/{target.name}"
        trial = folder / f".depot-{target.name}"
        folder.mkdir(exist_ok=True)
        try:
            trial.write_bytes(contenu)
            reading = read_grid(trial, referentiel=ref, session_nom=session.nom, candidat=cand,
                                blocs=cand.blocs(ref), fichier_affiche=shown)
            identity = [a for a in reading.anomalies if a.cellule.startswith("_certidocs")]
            if identity:
                report.refus = f"« {base} » : {identity[0].message}"
                continue
            if target.exists() and target.read_bytes() != contenu and grid_has_input(target):
                if not remplacer:
                    report.refus = (f"« {base} » : la grille de {report.candidat} déjà en place "
                                    "contient une autre saisie ; rien n'a été remplacé (cochez "
                                    "« remplacer » pour la remplacer)")
                    continue
                report.remplace = True
            with atomic_path(target) as tmp:
                tmp.write_bytes(contenu)
            report.destination = target
            report.anomalies = list(reading.anomalies)
        finally:
            trial.unlink(missing_ok=True)
    return out
