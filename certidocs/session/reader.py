"""Read session.xlsx into the model: what each cell shows is what is read.

Dates typed by Excel or as text (« 15/12/2026 », « 15-12-2026 », « 2026-12-15 »), stray spaces,
empty rows, upper or lower case and missing accents in drop-down values are all accepted. What
cannot be understood becomes a ``Probleme`` located as ``Feuille!Cellule``; a missing sheet or
column stops the reading with one message naming it.

Cells are read by :mod:`certidocs.classeur`, not pandas: « NA », « NULL » or « None » typed as
names stay names; a cell showing an error value (#REF!, #N/A…) is a problem at its cell, never
a blank; a number in a text column is read as its format displays it (a postal code 1000
formatted « 00000 » is « 01000 »); dates follow the workbook's date system (1900 or 1904).

Rows are read one at a time and each becomes its model object (a ``Candidat``…) before the
next is read: what stays alive grows with the candidates and the problems found, not with the
cells of the file (issue 21: a 10 000-candidate session read in the memory of a 1 000 one, bar
the candidates themselves).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from certidocs.classeur import (
    ERREURS,
    Cellule,
    Classeur,
    ClasseurOuvert,
    LignesDesordonnees,
    Limites,
    ouvrir_classeur,
)
from certidocs.errors import ArchiveRefusee, ClasseurRefuse, Probleme, SessionError
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
    ID_FILE,
    JURY,
    META_IDENTIFIANT,
    META_SHEET,
    PLANNING,
    RECOURS,
    SESSION,
    SESSION_CHAMPS,
    TABLES,
    Colonne,
    Feuille,
)

MAX_ROWS = 20_000
"""20 000 rows per sheet: a session has at most a few hundred candidates; a cell holding
something below this row is refused (with its cell), not read. Empty formatted rows below it
(Excel formats whole columns) cost nothing: only cells holding something are kept."""

MAX_COLUMNS = 256
"""256 columns (IV, Excel 2003's last): the widest sheet has 18 columns, the rest is room for
the office's own notes; a cell holding something beyond is refused with its cell."""

MAX_CELLS = 500_000
"""500 000 filled cells per sheet, about 60 MB once read: 20 000 rows of 18 columns is
360 000; beyond, the file is refused at the first cell over the limit."""

MAX_SHARED_STRINGS = 1_000_000
"""1 000 000 distinct texts in the workbook (about 80 MB once read): a full session has far
fewer than its cells; beyond, the file is refused without reading further."""

MAX_INFLATED = 256 * 1024 * 1024
"""256 MiB once decompressed, all parts together (and for any one part): ten times the
largest session seen; beyond, the archive is refused from its directory, before inflating."""

LIMITES = Limites(lignes=MAX_ROWS, colonnes=MAX_COLUMNS, cellules=MAX_CELLS,
                  chaines=MAX_SHARED_STRINGS, decompresse=MAX_INFLATED, partie=None)
"""The bounds session.xlsx is read within (see :mod:`certidocs.classeur`)."""

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
    colonnes: dict[str, dict[str, int]] = field(default_factory=dict)
    """Each table sheet's column (1-based) of each field: a cell's address is computed when a
    message needs it (one address kept per cell took more memory than the candidates)."""
    cellules_session: dict[str, str] = field(default_factory=dict)

    def cellule(self, feuille: Feuille, ligne: int, champ: str) -> str:
        """``Feuille!Cellule`` of ``champ`` on row ``ligne`` of a table sheet."""
        column = self.colonnes.get(feuille.nom, {}).get(champ)
        if column is None or ligne < 2:
            return f"{feuille.nom}!{ligne}"
        return f"{feuille.nom}!{column_letter(column - 1)}{ligne}"

    def cellule_session(self, champ: str) -> str:
        """``Session!B<n>`` of a field of the Session sheet."""
        return self.cellules_session.get(champ, f"{SESSION}!B")


class _Lue(NamedTuple):
    """One cell as read: its value typed by its format, the text it shows, whether it shows
    an error value (#REF!…)."""

    typed: Any
    shown: str
    erreur: bool = False


_Ligne = dict[int, _Lue]  # column (1-based) → cell
_Table = dict[int, _Ligne]  # row → its cells
_Lignes = Iterator[tuple[int, _Ligne]]  # rows in increasing order, one alive at a time

#: How each table sheet's records become model objects, one row at a time.
_BUILDERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    CANDIDATS.nom: lambda r: _candidat(r),
    JURY.nom: lambda r: Jure(**r),
    PLANNING.nom: lambda r: Epreuve(**r),
    RECOURS.nom: lambda r: Recours(**r),
    DYSFONCTIONNEMENTS.nom: lambda r: Dysfonctionnement(**r),
}


@dataclass
class _Feuillet:
    """One table sheet as read: its columns, what is wrong with its header row, its records
    (model objects, or dicts for :func:`read_sheets`) and the problems found in them."""

    colonnes: dict[str, int]
    disposition: list[str]
    objets: list[Any]
    problemes: list[Probleme]


@dataclass
class _Lu:
    """Every sheet of session.xlsx as needed: table sheets by name, the small ones whole."""

    noms: list[str] = field(default_factory=list)  # the sheets in the workbook's order
    feuillets: dict[str, _Feuillet] = field(default_factory=dict)
    petites: dict[str, _Table] = field(default_factory=dict)  # Session and meta sheets


def read_session(dossier: Path) -> Lecture:
    """Read ``dossier/session.xlsx``; SessionError when it cannot be read at all.

    Shape: every sheet is read once, row by row, in the workbook's order (so that a broken cell
    anywhere stops the reading as before); problems are given Session sheet first, then the
    tables in the order of ``TABLES``, each in row order.
    """
    path = dossier / FILENAME
    lu = _read_book(path, dossier, {t.nom: t for t in TABLES}, _BUILDERS)
    missing = [name for name in (SESSION, *(t.nom for t in TABLES))
               if name not in lu.noms]
    if missing:
        present = ", ".join(f"« {s} »" for s in lu.noms if s != META_SHEET) or "aucune"
        raise SessionError(f"{path} : feuille(s) manquante(s) : "
                           f"{', '.join(f'« {m} »' for m in missing)} (feuilles présentes : "
                           f"{present}) ; ne renommez pas les feuilles")
    layout_problems = [p for t in TABLES for p in lu.feuillets[t.nom].disposition]
    if layout_problems:
        raise SessionError(f"{path} :\n" + "\n".join(f"  - {p}" for p in layout_problems))
    problems: list[Probleme] = []
    info, session_cells = _read_info(lu.petites[SESSION], problems)
    for t in TABLES:
        problems.extend(lu.feuillets[t.nom].problemes)
    objets = {t.nom: tuple(lu.feuillets[t.nom].objets) for t in TABLES}
    session = Session(
        nom=dossier.resolve().name,
        info=info,
        candidats=objets[CANDIDATS.nom],
        jury=objets[JURY.nom],
        planning=objets[PLANNING.nom],
        recours=objets[RECOURS.nom],
        dysfonctionnements=objets[DYSFONCTIONNEMENTS.nom],
        identifiant=_identifiant(lu.petites.get(META_SHEET), dossier),
    )
    columns = {t.nom: lu.feuillets[t.nom].colonnes for t in TABLES}
    return Lecture(session, problems, columns, session_cells)


def read_sheets(dossier: Path, feuilles: tuple[Feuille, ...]) -> dict[str, list[dict[str, Any]]]:
    """The records of some sheets of ``dossier/session.xlsx``, read as ``read_session`` reads
    them (cells as displayed), for a reader that needs only those (the annual review reads the
    Jury and Dysfonctionnements sheets of forty sessions). SessionError when the file cannot
    be read or a sheet's columns are not the expected ones."""
    path = dossier / FILENAME
    lu = _read_book(path, dossier, {f.nom: f for f in feuilles}, {})
    out: dict[str, list[dict[str, Any]]] = {}
    for feuille in feuilles:
        if feuille.nom not in lu.noms:
            raise SessionError(f"{path} : feuille « {feuille.nom} » manquante")
        feuillet = lu.feuillets[feuille.nom]
        if feuillet.disposition:
            raise SessionError(f"{path} : " + " ; ".join(feuillet.disposition))
        out[feuille.nom] = feuillet.objets
    return out


def _read_book(path: Path, dossier: Path, tables: dict[str, Feuille],
               builders: dict[str, Callable[[dict[str, Any]], Any]]) -> _Lu:
    """Every sheet of the workbook read once: ``tables`` row by row into :class:`_Feuillet`
    (records turned into objects by ``builders``, dicts when a sheet has none), the Session
    and meta sheets whole (a few dozen rows), the others only checked. SessionError when the
    file cannot be read. A sheet whose rows are stored out of order (a hand-made file) is
    read again sorted, so the result never depends on the order of the file."""
    with _opened(path, dossier) as ouvert:
        try:
            return _read_parts(ouvert, tables, builders, trier=False)
        except LignesDesordonnees:
            return _read_parts(ouvert, tables, builders, trier=True)


def _read_parts(ouvert: ClasseurOuvert, tables: dict[str, Feuille],
                builders: dict[str, Callable[[dict[str, Any]], Any]], *, trier: bool) -> _Lu:
    book = ouvert.classeur
    lu = _Lu(noms=list(book.ordre))
    for sheet, _part in ouvert.parties:
        rows = ((n, _lues(book, line)) for n, line in ouvert.lignes(sheet, trier=trier))
        feuille = tables.get(sheet.nom)
        if feuille is not None:
            lu.feuillets[sheet.nom] = _read_table(rows, feuille, builders.get(sheet.nom))
        elif sheet.nom in (SESSION, META_SHEET):
            lu.petites[sheet.nom] = dict(rows)
        for _row in rows:  # any other sheet: read through, so that a broken cell is reported
            pass
    return lu


def session_introuvable(path: Path) -> str:
    """Why session.xlsx (``path``) cannot be found, said for what the user gave: a folder
    that does not exist (a typo), a file, the workspace's root instead of one of its
    sessions, or a session folder without its session.xlsx."""
    from certidocs.workspace import CONFIG_NAME

    folder = path.parent
    if not folder.exists():
        return (f"{folder} : ce dossier n'existe pas ; donnez le dossier d'une session (celui "
                "qui contient session.xlsx)")
    if not folder.is_dir():
        return (f"{folder} : c'est un fichier, pas un dossier ; donnez le dossier de la "
                f"session qui le contient ({folder.parent})")
    if (folder / CONFIG_NAME).is_file():
        sessions = sorted(p for p in (folder / "sessions").glob("*/session.xlsx"))[:3]
        example = (" : " + ", ".join(str(p.parent) for p in sessions)) if sessions else ""
        return (f"{folder} est l'espace de travail, pas une session ; donnez le dossier d'une "
                f"de ses sessions{example}")
    return (f"{path} introuvable : créez-le avec « certidocs session creer {folder} "
            "--referentiel CODE »")


@contextmanager
def _opened(path: Path, dossier: Path) -> Iterator[ClasseurOuvert]:
    """session.xlsx open for reading; what stops its reading, as a SessionError naming it."""
    try:
        with ouvrir_classeur(path, LIMITES, dossier=dossier) as ouvert:
            yield ouvert
    except (FileNotFoundError, NotADirectoryError):
        raise SessionError(session_introuvable(path)) from None
    except OSError as exc:
        raise SessionError(f"{path} : lecture impossible ({exc.strerror})") from None
    except ClasseurRefuse as exc:
        text = str(exc)
        if "chiffré" in text:
            text = ("classeur protégé par un mot de passe (ou au vieux format .xls) ; "
                    "enregistrez-le sans mot de passe au format .xlsx")
        raise SessionError(f"{path} : {text}") from None
    except ArchiveRefusee as exc:
        raise SessionError(f"{path} : {exc}") from None


def _lues(book: Classeur, line: dict[int, Cellule]) -> _Ligne:
    """A row's cells, each typed and shown as the spreadsheet does."""
    out: _Ligne = {}
    for col, cell in line.items():
        typed = None if cell.erreur else book.typee(cell)
        shown = typed if isinstance(typed, str) else book.affiche(cell)
        out[col] = _Lue(typed, shown, cell.erreur)
    return out


def _read_table(rows: _Lignes, feuille: Feuille,
                build: Callable[[dict[str, Any]], Any] | None) -> _Feuillet:
    """One table sheet: its header row (row 1) first, then each record built and turned into
    its object by ``build`` (kept as a dict without it) before the next row is read."""
    first = next(rows, None)
    header: _Ligne = first[1] if first is not None and first[0] == 1 else {}
    layout: list[str] = []
    columns = _columns(header, feuille, layout)
    feuillet = _Feuillet(columns, layout, [], [])
    pending = [first] if first is not None and first[0] != 1 else []
    for ligne, line in itertools.chain(pending, rows):
        record = _record(ligne, line, feuille, columns, feuillet.problemes)
        if record is not None:
            feuillet.objets.append(record if build is None else build(record))
    return feuillet


def _identifiant(meta: _Table | None, dossier: Path) -> str:
    """The session's identifier: session.xlsx's, else the one recorded in ``ID_FILE``, else
    « » (a session from before identifiers whose grids were never generated)."""
    for row in (meta or {}).values():
        key = row.get(1)
        if key is not None and key.shown.strip() == META_IDENTIFIANT and row.get(2):
            return row[2].shown.strip()
    return read_id_file(dossier)


def read_id_file(dossier: Path) -> str:
    """The identifier recorded in ``dossier/ID_FILE``, « » when there is none."""
    try:
        return (dossier / ID_FILE).read_text(encoding="utf-8").strip()[:100]
    except (OSError, UnicodeDecodeError):
        return ""


def _columns(header: _Ligne, feuille: Feuille, problems: list[str]) -> dict[str, int]:
    """Each field's column (1-based) found in the header row; a line of ``problems`` for each
    mandatory column missing."""
    headers: dict[str, int] = {}
    for col, value in sorted(header.items()):
        if not _blank(value):
            headers.setdefault(fold(value.shown), col)
    found: dict[str, int] = {}
    for colonne in feuille.colonnes:
        key = fold(colonne.titre)
        if key in headers:
            found[colonne.champ] = headers.pop(key)
    for colonne in feuille.colonnes:
        if colonne.champ not in found and colonne.obligatoire:
            problems.append(f"{feuille.nom}!1 : colonne « {colonne.titre} » manquante ou "
                            "renommée" + _renamed_hint(headers, header))
    return found


def _renamed_hint(unknown: dict[str, int], header: _Ligne) -> str:
    if not unknown:
        return ""
    names = [f"« {header[i].shown} » ({column_letter(i - 1)}1)" for i in sorted(unknown.values())]
    return " ; colonnes non reconnues : " + ", ".join(names)


def _blank(value: _Lue | None) -> bool:
    return value is None or (not value.erreur and not value.shown.strip())


def _error(value: _Lue, cell: str, problems: list[Probleme]) -> None:
    why = ERREURS.get(value.shown.upper(), "valeur d'erreur")
    problems.append(Probleme(cell, f"la cellule affiche {value.shown} ({why}) : corrigez la "
                                   "formule ou tapez la valeur"))


def _read_info(sheet: _Table, problems: list[Probleme]) -> tuple[SessionInfo, dict[str, str]]:
    by_label = {fold(c.titre): c for c in SESSION_CHAMPS}
    values: dict[str, Any] = {}
    cells: dict[str, str] = {}
    for row, line in sorted(sheet.items()):
        label = line.get(1)
        if _blank(label) or label is None or label.erreur:
            continue
        colonne = by_label.get(fold(label.shown).rstrip(" *"))
        if colonne is None:
            continue
        cell = f"{SESSION}!B{row}"
        cells[colonne.champ] = cell
        values[colonne.champ] = _parse(line.get(2), colonne, cell, problems)
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


def _record(ligne: int, line: _Ligne, feuille: Feuille, columns: dict[str, int],
            problems: list[Probleme]) -> dict[str, Any] | None:
    """The record of row ``ligne`` (field → typed value, with « ligne »), None for the header
    row or a row empty in every known column; its problems added at their cells."""
    if ligne < 2:
        return None
    raw = {champ: line.get(index) for champ, index in columns.items()}
    if all(_blank(v) for v in raw.values()):
        return None
    record: dict[str, Any] = {"ligne": ligne}
    for colonne in feuille.colonnes:
        if colonne.champ not in columns:
            record[colonne.champ] = _parse(None, colonne, "", [])
            continue
        cell = f"{feuille.nom}!{column_letter(columns[colonne.champ] - 1)}{ligne}"
        mark = len(problems)  # a problem at this cell can only come from its _parse below
        value = _parse(raw[colonne.champ], colonne, cell, problems)
        if colonne.obligatoire and value in (None, "", ()) and \
                not _already(problems[mark:], cell):
            problems.append(Probleme(cell, f"« {colonne.titre} » est obligatoire"))
        record[colonne.champ] = value
    return record


def _text(value: _Lue | None) -> str:
    """What the cell shows, spaces collapsed (an error value reads as nothing: reported)."""
    if value is None or value.erreur:
        return ""
    return " ".join(value.shown.split())


def _parse(value: _Lue | None, colonne: Colonne, cell: str, problems: list[Probleme]) -> Any:
    """The typed value of one cell; a Probleme at ``cell`` when it cannot be understood."""
    if value is not None and value.erreur:
        _error(value, cell, problems)
        value = None
    kind = colonne.kind
    typed = None if value is None else value.typed
    if kind == "date":
        return _date(value, colonne, cell, problems)
    if kind == "bool":
        if _blank(value):
            return None if colonne.champ == "externe" else False
        if isinstance(typed, bool):
            return typed
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
        if isinstance(typed, (int, float)) and not isinstance(typed, bool):
            return float(typed)
        text = _text(value).replace(",", ".").replace(" ans", "").replace("ans", "").strip()
        try:
            return float(text)
        except ValueError:
            problems.append(Probleme(cell, f"« {_text(value)} » n'est pas un nombre"))
            return None
    if kind == "time":
        if isinstance(typed, (dt.time, dt.datetime)):
            return typed.strftime("%H:%M")
        if isinstance(typed, float) and 0 <= typed < 1:  # a time typed as a fraction of a day
            minutes = round(typed * 24 * 60)
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


def _date(value: _Lue | None, colonne: Colonne, cell: str,
          problems: list[Probleme]) -> dt.date | None:
    if _blank(value) or value is None:
        return None
    typed = value.typed
    if isinstance(typed, dt.datetime):
        return typed.date()
    if isinstance(typed, dt.date):
        return typed
    if isinstance(typed, (int, float)) and not isinstance(typed, bool) and 1 <= typed < 120000:
        # A date typed in a cell formatted as a number: the 1900 date system, as Excel.
        return _EXCEL_EPOCH + dt.timedelta(days=int(typed))
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
