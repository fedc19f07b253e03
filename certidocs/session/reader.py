"""Read session.xlsx with pandas into the model, tolerant of what people type.

Dates typed by Excel or as text (« 15/12/2026 », « 15-12-2026 », « 2026-12-15 »), stray spaces,
empty rows, upper or lower case and missing accents in drop-down values are all accepted. What
cannot be understood becomes a ``Probleme`` located as ``Feuille!Cellule``; a missing sheet or
column stops the reading with one message naming it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from certidocs.errors import ArchiveRefusee, Probleme, SessionError
from certidocs.model import (
    Candidat,
    Dysfonctionnement,
    Epreuve,
    Jure,
    Recours,
    Session,
    SessionInfo,
)
from certidocs.session.creator import FILENAME
from certidocs.session.layout import (
    CANDIDATS,
    DYSFONCTIONNEMENTS,
    JURY,
    PLANNING,
    RECOURS,
    SESSION,
    SESSION_CHAMPS,
    TABLES,
    Colonne,
    Feuille,
)
from certidocs.zipcheck import check_archive

MAX_ROWS = 20_000  # far more than any session; a sheet beyond this is refused, not read
MAX_INFLATED = 256 * 1024 * 1024  # ten times the largest session: beyond, not even inflated
_DATE_TEXT = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?$")
_EMAIL = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[A-Za-z]{2,}$")
_TIME = re.compile(r"^(\d{1,2})\s*[:hH]\s*(\d{2})?$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
# Short forms people type in drop-down columns (compared folded).
ALIASES = {"m": "Monsieur", "m.": "Monsieur", "mr": "Monsieur", "mr.": "Monsieur",
           "mme": "Madame", "mme.": "Madame", "mlle": "Madame", "present": "Présent",
           "present(e)": "Présent", "presente": "Présent", "absente": "Absent",
           "excusee": "Excusé", "femme": "F", "homme": "M", "mixte": "Parcours mixte",
           "representant": "Représentant du "
           "certificateur", "professionnelle": "Professionnel"}


def fold(text: str) -> str:
    """Lower case, no accents, single spaces: how headers and choices are compared."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.replace("’", "'").lower().split())


def column_letter(index: int) -> str:
    """Excel column letter of a 0-based index (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass
class Lecture:
    """A session as read, with the cell of every field (for the checks' messages)."""

    session: Session
    problemes: list[Probleme] = field(default_factory=list)
    cellules: dict[tuple[str, int, str], str] = field(default_factory=dict)
    cellules_session: dict[str, str] = field(default_factory=dict)

    def cellule(self, feuille: Feuille, ligne: int, champ: str) -> str:
        """``Feuille!Cellule`` of ``champ`` on row ``ligne`` of a table sheet."""
        return self.cellules.get((feuille.nom, ligne, champ), f"{feuille.nom}!{ligne}")

    def cellule_session(self, champ: str) -> str:
        """``Session!B<n>`` of a field of the Session sheet."""
        return self.cellules_session.get(champ, f"{SESSION}!B")


def read_session(dossier: Path) -> Lecture:
    """Read ``dossier/session.xlsx``; SessionError when it cannot be read at all."""
    path = dossier / FILENAME
    sheets = _load(path)
    missing = [name for name in (SESSION, *(t.nom for t in TABLES)) if name not in sheets]
    if missing:
        present = ", ".join(f"« {s} »" for s in sheets) or "aucune"
        raise SessionError(f"{path} : feuille(s) manquante(s) : "
                           f"{', '.join(f'« {m} »' for m in missing)} (feuilles présentes : "
                           f"{present}) ; ne renommez pas les feuilles")
    layout_problems: list[str] = []
    columns = {t.nom: _columns(sheets[t.nom], t, layout_problems) for t in TABLES}
    if layout_problems:
        raise SessionError(f"{path} :\n" + "\n".join(f"  - {p}" for p in layout_problems))
    problems: list[Probleme] = []
    cells: dict[tuple[str, int, str], str] = {}
    info, session_cells = _read_info(sheets[SESSION], problems)
    tables = {t.nom: _rows(sheets[t.nom], t, columns[t.nom], problems, cells) for t in TABLES}
    session = Session(
        nom=dossier.resolve().name,
        info=info,
        candidats=tuple(_candidat(r) for r in tables[CANDIDATS.nom]),
        jury=tuple(Jure(**r) for r in tables[JURY.nom]),
        planning=tuple(Epreuve(**r) for r in tables[PLANNING.nom]),
        recours=tuple(Recours(**r) for r in tables[RECOURS.nom]),
        dysfonctionnements=tuple(Dysfonctionnement(**r) for r in tables[DYSFONCTIONNEMENTS.nom]),
    )
    return Lecture(session, problems, cells, session_cells)


def _load(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except FileNotFoundError:
        raise SessionError(f"{path} introuvable : créez-le avec « certidocs session creer "
                           f"{path.parent} --referentiel CODE »") from None
    except OSError as exc:
        raise SessionError(f"{path} : lecture impossible ({exc.strerror})") from None
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise SessionError(f"{path} : classeur protégé par un mot de passe (ou au vieux format "
                           ".xls) ; enregistrez-le sans mot de passe au format .xlsx")
    if not head.startswith(b"PK"):
        raise SessionError(f"{path} : ce n'est pas un classeur Excel (.xlsx)")
    _check_zip(path)
    import warnings

    import pandas as pd

    try:
        with warnings.catch_warnings():
            # openpyxl's warnings (unsupported extensions, dangling names) mean nothing to
            # office staff; what matters is reported below.
            warnings.simplefilter("ignore")
            frames = pd.read_excel(path, sheet_name=None, header=None, dtype=object,
                                   engine="openpyxl", nrows=MAX_ROWS + 1)
    except Exception as exc:  # malformed XML, missing parts, odd values: all the file's fault
        detail = f"XML invalide : {exc}" if isinstance(exc, SyntaxError) else str(exc)
        raise SessionError(f"{path} : classeur illisible ou abîmé ({detail}) ; ouvrez-le dans "
                           "Excel et enregistrez-le à nouveau") from None
    for name, frame in frames.items():
        if len(frame) > MAX_ROWS:
            raise SessionError(f"{path} : la feuille « {name} » dépasse {MAX_ROWS} lignes ; "
                               "supprimez les lignes vides ou en trop")
    return dict(frames)


def _check_zip(path: Path) -> None:
    """Refuse a zip bomb or a truncated archive from its directory, before pandas inflates it.

    Rows are bounded by ``nrows`` as pandas streams the sheets; what streaming cannot bound
    (the shared strings, loaded whole, or one endless row) the declared sizes do.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            check_archive(zf, max_total=MAX_INFLATED)
            names = set(zf.namelist())
    except ArchiveRefusee as exc:
        raise SessionError(f"{path} : {exc}") from None
    except (zipfile.BadZipFile, OSError, EOFError):
        raise SessionError(f"{path} : classeur illisible ou abîmé (tronqué : ce n'est pas une "
                           "archive .xlsx complète) ; enregistrez-le à nouveau depuis Excel"
                           ) from None
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        renamed = " (c'est un document Word renommé)" if "word/document.xml" in names else ""
        raise SessionError(f"{path} : ce n'est pas un classeur Excel (.xlsx){renamed}")


def _columns(frame: Any, feuille: Feuille, problems: list[str]) -> dict[str, int]:
    headers: dict[str, int] = {}
    if len(frame):
        for index, value in enumerate(frame.iloc[0].tolist()):
            if _blank(value):
                continue
            headers.setdefault(fold(str(value)), index)
    found: dict[str, int] = {}
    for colonne in feuille.colonnes:
        key = fold(colonne.titre)
        if key in headers:
            found[colonne.champ] = headers.pop(key)
    for colonne in feuille.colonnes:
        if colonne.champ not in found and colonne.obligatoire:
            problems.append(f"{feuille.nom}!1 : colonne « {colonne.titre} » manquante ou "
                            "renommée" + _renamed_hint(headers, frame))
    return found


def _renamed_hint(unknown: dict[str, int], frame: Any) -> str:
    if not unknown:
        return ""
    names = [f"« {frame.iloc[0, i]} » ({column_letter(i)}1)" for i in sorted(unknown.values())]
    return " ; colonnes non reconnues : " + ", ".join(names)


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _read_info(frame: Any, problems: list[Probleme]) -> tuple[SessionInfo, dict[str, str]]:
    by_label = {fold(c.titre): c for c in SESSION_CHAMPS}
    values: dict[str, Any] = {}
    cells: dict[str, str] = {}
    for row in range(len(frame)):
        label = frame.iloc[row, 0] if frame.shape[1] > 0 else None
        if _blank(label):
            continue
        colonne = by_label.get(fold(str(label)).rstrip(" *"))
        if colonne is None:
            continue
        cell = f"{SESSION}!B{row + 1}"
        cells[colonne.champ] = cell
        raw = frame.iloc[row, 1] if frame.shape[1] > 1 else None
        values[colonne.champ] = _parse(raw, colonne, cell, problems)
    for colonne in SESSION_CHAMPS:
        if colonne.champ not in cells:
            problems.append(Probleme(f"{SESSION}!A", f"rubrique « {colonne.titre} » absente de "
                                                      "la colonne A"))
        elif (colonne.obligatoire and values.get(colonne.champ) in (None, "")
              and not _already(problems, cells[colonne.champ])):
                problems.append(Probleme(cells[colonne.champ],
                                         f"« {colonne.titre} » est obligatoire"))
    fields: dict[str, Any] = {k: ("" if v is None and _is_text(k) else v)
                              for k, v in values.items() if k in SessionInfo.__dataclass_fields__}
    info = SessionInfo(**fields)
    return info, cells


def _is_text(champ: str) -> bool:
    return not champ.startswith("date")


def _already(problems: list[Probleme], cell: str) -> bool:
    return any(p.lieu == cell for p in problems)


def _rows(frame: Any, feuille: Feuille, columns: dict[str, int], problems: list[Probleme],
          cells: dict[tuple[str, int, str], str]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for row in range(1, len(frame)):
        raw = {champ: frame.iloc[row, index] for champ, index in columns.items()}
        if all(_blank(v) for v in raw.values()):
            continue
        ligne = row + 1
        record: dict[str, Any] = {"ligne": ligne}
        for colonne in feuille.colonnes:
            if colonne.champ not in columns:
                record[colonne.champ] = _parse(None, colonne, "", [])
                continue
            cell = f"{feuille.nom}!{column_letter(columns[colonne.champ])}{ligne}"
            cells[(feuille.nom, ligne, colonne.champ)] = cell
            value = _parse(raw[colonne.champ], colonne, cell, problems)
            if colonne.obligatoire and value in (None, "", ()) and not _already(problems, cell):
                problems.append(Probleme(cell, f"« {colonne.titre} » est obligatoire"))
            record[colonne.champ] = value
        records.append(record)
    return records


def _text(value: Any) -> str:
    if _blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%d/%m/%Y")
    return " ".join(str(value).split())


def _parse(value: Any, colonne: Colonne, cell: str, problems: list[Probleme]) -> Any:
    """The typed value of one cell; a Probleme at ``cell`` when it cannot be understood."""
    kind = colonne.kind
    if kind == "date":
        return _date(value, colonne, cell, problems)
    if kind == "bool":
        if _blank(value):
            return None if colonne.champ == "externe" else False
        text = fold(_text(value))
        if text in ("oui", "o", "yes", "x", "1", "vrai", "true"):
            return True
        if text in ("non", "n", "no", "0", "faux", "false"):
            return False
        problems.append(Probleme(cell, f"« {_text(value)} » : répondre Oui ou Non"))
        return None
    if kind == "number":
        if _blank(value):
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        text = _text(value).replace(",", ".").replace(" ans", "").replace("ans", "").strip()
        try:
            return float(text)
        except ValueError:
            problems.append(Probleme(cell, f"« {_text(value)} » n'est pas un nombre"))
            return None
    if kind == "time":
        if isinstance(value, dt.time):
            return value.strftime("%H:%M")
        if isinstance(value, dt.datetime):
            return value.strftime("%H:%M")
        if isinstance(value, float) and 0 <= value < 1:  # a time typed as a fraction of a day
            minutes = round(value * 24 * 60)
            return f"{minutes // 60:02d}:{minutes % 60:02d}"
        text = _text(value)
        match = _TIME.match(text)
        if match:
            return f"{int(match.group(1)):02d}:{match.group(2) or '00'}"
        if text:
            problems.append(Probleme(cell, f"heure « {text} » invalide : écrire HH:MM"))
        return text
    text = _text(value)
    if kind == "choice" and text:
        for choice in colonne.choix:
            if fold(choice) == fold(text):
                return choice
        if fold(text) in ALIASES:
            return ALIASES[fold(text)]
        problems.append(Probleme(cell, f"« {text} » n'est pas une valeur possible "
                                       f"({', '.join(colonne.choix)})"))
        return text
    if kind == "email" and text and not _EMAIL.match(text):
        problems.append(Probleme(cell, f"adresse électronique « {text} » invalide"))
    if kind == "list":
        parts = re.split(r"[;,\s]+", text)
        return tuple(p for p in parts if p)
    return text


def _date(value: Any, colonne: Colonne, cell: str, problems: list[Probleme]) -> dt.date | None:
    if _blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        return value.to_pydatetime().date()  # type: ignore[no-any-return]
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value < 120000:
        return _EXCEL_EPOCH + dt.timedelta(days=int(value))
    text = _text(value)
    match = _DATE_TEXT.match(text)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return dt.date(year, month, day)
        match = _DATE_ISO.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return dt.date(year, month, day)
    except ValueError:
        problems.append(Probleme(cell, f"date « {text} » impossible (« {colonne.titre} »)"))
        return None
    problems.append(Probleme(cell, f"date « {text} » invalide (« {colonne.titre} ») : écrire "
                                   "JJ/MM/AAAA"))
    return None


def _candidat(record: dict[str, Any]) -> Candidat:
    record = dict(record)
    record["voie_acces"] = record.get("voie_acces") or "Formation"
    return Candidat(**record)
