"""Read an .xlsx workbook by streaming the cells that exist, and say what each cell shows.

Used by the session reader and the grid reader. Why not pandas or openpyxl's normal mode:

- **What the cell shows is what is read.** pandas turns « NA », « NULL » or « None » typed as
  names into missing values and error values (#REF!) into blanks; a postal code stored as
  1000 with a « 00000 » format shows 01000 in Excel and reads 1000. Here text stays text, an
  error stays an error (for the caller to report at its cell), and a number is given both as
  a number and as the text its format displays (zero padding, dates in either date system,
  ``_x000D_`` escapes undone).
- **Bounded cost.** A sheet's declared dimension is not trusted: nothing is materialised but
  the cells that hold something, read one at a time (lxml ``iterparse``, each element freed
  once read), with limits on rows, columns, cells and shared strings (:class:`Limites`).
- **Files from other programs.** Parts are found through the package's relationships and
  elements by their local names, so LibreOffice, Gnumeric and the Strict Open XML flavour
  (other namespaces) read alike; the program that saved the file is reported
  (``docProps/app.xml``) for the callers' tolerance of what such programs change.

A caller that needs one row at a time (the session reader: memory that does not grow with
the session) opens the workbook with :func:`ouvrir_classeur` and reads each sheet's rows as they
come (:meth:`ClasseurOuvert.lignes`); :func:`lire_classeur` keeps every cell of every sheet.

Files are opened only if they are regular files (:func:`ouvrir_fichier`): a symbolic link
leaving the allowed folder, a FIFO or a device is refused before any byte is read.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from certidocs.errors import ArchiveRefusee, ClasseurRefuse
from certidocs.zipcheck import check_archive

MIO = 1024 * 1024

EXCEL_MAX_ROWS = 1_048_576
"""1 048 576: the last row Excel has; a cell beyond was not written by a spreadsheet."""

EXCEL_MAX_COLUMNS = 16_384
"""16 384 (XFD): the last column Excel has; a cell beyond was not written by a spreadsheet."""

WHOLE_PART = 256 * 1024
"""256 KiB: a worksheet part up to this size is parsed at once (its lxml tree, held outside
Python's own allocator, weighs a few MiB at most); beyond, it is streamed cell by cell so that
memory stays flat. It was 4 MiB, which let a 4,000-candidate « Candidats » sheet (2 MB of
XML) be parsed whole: +37 MiB of RSS while reading session.xlsx, against +0.5 MiB streamed,
and streamed was no slower (0.64 s of processor time against 0.80–0.91 s, 30/11/2026). A
jury's grid sheet stays well under it."""

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_REL_OFFICE = "/officeDocument"
_REL_SHEET = "/worksheet"
_REL_STRINGS = "/sharedStrings"
_REL_STYLES = "/styles"
_REL_APP = "/extended-properties"
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
#: Excel's error values, with what they mean for a person reading the message.
ERREURS = {
    "#REF!": "formule cassée",
    "#N/A": "valeur introuvable par une formule de recherche",
    "#VALUE!": "formule appliquée à une valeur qui ne convient pas",
    "#NAME?": "nom ou fonction inconnu dans une formule",
    "#DIV/0!": "division par zéro",
    "#NUM!": "calcul impossible",
    "#NULL!": "plage de cellules incorrecte",
    "#SPILL!": "résultat de formule qui déborde",
    "#CALC!": "calcul impossible",
    "#GETTING_DATA": "données en cours de chargement",
}


@dataclass(frozen=True)
class Limites:
    """The bounds a workbook must stay within to be read (each is a named constant)."""

    lignes: int
    colonnes: int
    cellules: int
    chaines: int
    decompresse: int
    partie: int | None  # None: only the whole archive is bounded


@dataclass(slots=True)
class Cellule:
    """One cell as stored: ``value`` (text, number, bool; the error text when ``erreur``),
    its formula with « = » or None, its style index (for the number format), its place."""

    value: Any
    formula: str | None = None
    erreur: bool = False
    style: int = 0
    row: int = 0
    col: int = 0


@dataclass
class FeuilleLue:
    """One worksheet: its state, its non-empty cells by reference (« B12 »), its protection."""

    nom: str
    etat: str = "visible"
    cellules: dict[str, Cellule] = field(default_factory=dict)
    protection: dict[str, str] | None = None  # sheetProtection's attributes, None if absent


@dataclass
class Classeur:
    """A workbook as read: sheets in order, number formats, date system, saving program."""

    chemin: Path
    feuilles: dict[str, FeuilleLue]
    ordre: list[str]
    formats: list[str] = field(default_factory=list)  # by style index: number format code
    date1904: bool = False
    application: str = ""
    strict: bool = False
    protection_classeur: dict[str, str] | None = None

    def format_de(self, cellule: Cellule) -> str:
        """The number format code of ``cellule`` (« General » when none)."""
        if 0 <= cellule.style < len(self.formats):
            return self.formats[cellule.style]
        return "General"

    def typee(self, cellule: Cellule) -> Any:
        """The cell's value, a date or time when its format shows one (either date system)."""
        value = cellule.value
        if cellule.erreur or isinstance(value, (bool, str, dt.datetime)) or value is None:
            return value
        if _is_date_format(self.format_de(cellule)):
            return self._date(value)
        return value

    def affiche(self, cellule: Cellule | None) -> str:
        """The text the cell shows in a spreadsheet (French conventions), « » when empty."""
        if cellule is None or cellule.value is None:
            return ""
        value = cellule.value
        if cellule.erreur or isinstance(value, str):
            return str(value)
        if isinstance(value, bool):
            return "VRAI" if value else "FAUX"
        code = self.format_de(cellule)
        if isinstance(value, dt.datetime) or _is_date_format(code):
            typed = value if isinstance(value, dt.datetime) else self._date(value)
            if isinstance(typed, dt.datetime):
                return typed.strftime("%d/%m/%Y %H:%M" if typed.time() != dt.time()
                                      else "%d/%m/%Y")
            if isinstance(typed, dt.time):
                return typed.strftime("%H:%M")
            return str(typed)
        return format_number(float(value), code)

    def _date(self, value: float) -> Any:
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

        try:
            return from_excel(value, CALENDAR_MAC_1904 if self.date1904 else CALENDAR_WINDOWS_1900)
        except (OverflowError, ValueError):
            return value


class LignesDesordonnees(Exception):
    """Raised by :meth:`ClasseurOuvert.lignes` when a sheet's rows are not stored in increasing
    order (no spreadsheet writes them so, a hand-made file might): rows already given cannot be
    taken back, so the caller reads the sheet again with ``trier=True``. Not a user error."""


def column_number(letters: str) -> int:
    """1-based column number of Excel letters (A → 1, AA → 27)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def column_letters(n: int) -> str:
    """Excel letters of a 1-based column number."""
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def split_ref(ref: str) -> tuple[str, int]:
    """(« B », 12) from « B12 »; ValueError when it is not a cell reference."""
    i = 0
    while i < len(ref) and ref[i].isalpha():
        i += 1
    if not 0 < i <= 3 or not ref[i:].isdigit() or not ref[:i].isascii():
        raise ValueError(ref)
    return ref[:i].upper(), int(ref[i:])


def _unescaped(match: re.Match[str]) -> str:
    code = int(match.group(1), 16)
    if (code < 0x20 and code not in (0x09, 0x0A, 0x0D)) or 0xD800 <= code <= 0xDFFF \
            or code in (0xFFFE, 0xFFFF):
        # A control character no XML file can hold: Excel shows nothing for it, and it would
        # break every workbook or document it went into; the text stays as it was stored.
        return match.group(0)
    return chr(code)


def unescape(text: str) -> str:
    """Undo the ``_xHHHH_`` escapes of SpreadsheetML strings (``_x000D_`` is a carriage return;
    ``_x005F_`` an escaped underscore); escapes of characters XML cannot hold stay as text."""
    if "_x" not in text:
        return text
    return _ESCAPED.sub(_unescaped, text)


# --- number formats ---------------------------------------------------------------------------

_TOKEN = re.compile(r'"([^"]*)"|\\(.)|\[[^\]]*\]|_(.)|\*(.)|(.)', re.DOTALL)
_PLACEHOLDERS = "0#?"


def _is_date_format(code: str) -> bool:
    from openpyxl.styles.numbers import is_date_format

    return code not in ("General", "@", "") and bool(is_date_format(code))


def _section(value: float, code: str) -> tuple[str, float, bool]:
    """The section of ``code`` that applies to ``value``; the value to show; whether the sign
    is the format's business (a negative section was given)."""
    sections = code.split(";")
    if value < 0 and len(sections) > 1 and sections[1]:
        return sections[1], -value, True
    if value == 0 and len(sections) > 2 and sections[2]:
        return sections[2], value, True
    return sections[0], value, False


def format_number(value: float, code: str) -> str:
    """``value`` as a number format shows it: digit patterns with literals (« 00000 »,
    « 00 00 00 00 00 », « "N° "000 »), decimals (« 0.00 »), grouping, « 0 % »; anything else as
    Excel's « General » does. French conventions: decimal comma, narrow space for thousands."""
    section, value, signed = _section(value, code)
    if section.strip().lower() in ("general", "@", ""):
        return _general(value)
    tokens: list[tuple[bool, str]] = []  # (literal, text)
    for m in _TOKEN.finditer(section):
        quoted, escaped, space, _fill, char = m.groups()
        if quoted is not None:
            tokens.append((True, quoted))
        elif escaped is not None:
            tokens.append((True, escaped))
        elif space is not None:
            tokens.append((True, " "))
        elif char is not None:
            if char in _PLACEHOLDERS or char in ".,%":
                tokens.append((False, char))
            elif char in " -+()/:$€£\u00a0":
                tokens.append((True, char))
            else:
                return _general(value)
    pattern = "".join(t for lit, t in tokens if not lit)
    if not any(ch in _PLACEHOLDERS for ch in pattern):
        return _general(value)
    sign = "-" if value < 0 and not signed else ""
    value = abs(value)
    if "%" in pattern:
        value *= 100
    if "." in pattern or "," in pattern:
        integer, _, decimals = pattern.replace("%", "").partition(".")
        places = sum(1 for ch in decimals if ch in _PLACEHOLDERS)
        whole, _, frac = f"{value:.{places}f}".partition(".")
        whole = whole.lstrip("0").zfill(integer.count("0"))
        if "," in integer:
            whole = f"{int(whole or 0):,}".replace(",", "\u202f")
        first = next(i for i, (lit, t) in enumerate(tokens) if not lit)
        last = max(i for i, (lit, t) in enumerate(tokens) if not lit)
        prefix = "".join(t for _, t in tokens[:first])
        suffix = "".join(t for _, t in tokens[last + 1:])
        shown = whole + ("," + frac if frac else "") + (" %" if "%" in pattern else "")
        return prefix + sign + shown + suffix
    # Integer patterns: digits fill the placeholders from the right, literals stay in place
    # (« 00000 » → 01000, « 00 00 00 00 00 » → 01 23 45 67 89).
    digits = str(round(value))
    if digits == "0":
        digits = ""
    out: list[str] = []
    pos = len(digits)
    holders = [i for i, (lit, t) in enumerate(tokens) if not lit and t in _PLACEHOLDERS]
    for i in range(len(tokens) - 1, -1, -1):
        lit, text = tokens[i]
        if lit or text not in _PLACEHOLDERS:
            out.append(text if lit else ("" if text == "%" else text))
            continue
        if i == holders[0]:  # the leftmost placeholder takes every remaining digit
            chunk, pos = digits[:pos], 0
        else:
            chunk = digits[pos - 1] if pos > 0 else ""
            pos = max(pos - 1, 0)
        if not chunk:
            chunk = {"0": "0", "?": " "}.get(text, "")
        out.append(chunk)
    shown = "".join(reversed(out)) + (" %" if "%" in pattern else "")
    return sign + shown


def _general(number: float) -> str:
    value = float(number)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.15g}".replace(".", ",")


# --- opening ----------------------------------------------------------------------------------


def ouvrir_fichier(path: Path, dossier: Path | None = None) -> IO[bytes]:
    """``path`` opened for reading if it is a regular file (inside ``dossier`` when given).

    ClasseurRefuse, saying why, for a symbolic link leading out of ``dossier``, a FIFO, a
    device, a folder; FileNotFoundError when it does not exist. The file is opened without
    blocking (a FIFO would otherwise wait for a writer forever) and judged by ``fstat`` on
    what was opened, so nothing can be swapped in between.
    """
    if dossier is not None:
        real, base = path.resolve(), dossier.resolve()
        if real != base and base not in real.parents:
            raise ClasseurRefuse("lien symbolique vers un fichier hors du dossier de la session "
                                 f"({real}) : copiez le fichier lui-même dans le dossier")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = ("un dossier" if stat.S_ISDIR(mode) else "un tube (FIFO)"
                    if stat.S_ISFIFO(mode) else "un périphérique"
                    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "un fichier spécial")
            raise ClasseurRefuse(f"ce n'est pas un fichier ordinaire mais {kind} : il n'est pas lu")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


# --- reading ----------------------------------------------------------------------------------


def _local(tag: Any) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _namespace(tag: Any) -> str:
    return tag.partition("}")[0][1:] if isinstance(tag, str) and tag.startswith("{") else ""


def string_item(element: Any) -> str:
    """The text of a string item (shared or inline): rich-text runs joined, phonetics left out,
    escapes undone."""
    if len(element) == 1 and _local(element[0].tag) == "t":  # plain text: the usual case
        return unescape(str(element[0].text or ""))
    parts: list[str] = []
    for node in element.iter():
        if _local(node.tag) == "t":
            parent = node.getparent()
            if parent is not None and _local(parent.tag) == "rPh":
                continue
            parts.append(node.text or "")
    return unescape("".join(parts))


def _parser() -> Any:
    from lxml import etree

    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _iterparse(stream: IO[bytes], events: tuple[str, ...],
               tags: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    """Events for the elements named ``tags`` only (any namespace: Strict or transitional)."""
    from lxml import etree

    return etree.iterparse(  # type: ignore[no-any-return]
        stream, events=events, tag=[f"{{*}}{t}" for t in tags], resolve_entities=False,
        no_network=True, huge_tree=False, remove_comments=True)


def _free(element: Any) -> None:
    """Drop an element read by iterparse and its already-read siblings: memory stays flat."""
    element.clear()
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


class _Lecteur:
    def __init__(self, zf: zipfile.ZipFile, limites: Limites, chemin: Path) -> None:
        self.zf = zf
        self.limites = limites
        self.chemin = chemin
        self.names = set(zf.namelist())
        self.protection: dict[str, str] | None = None  # the last sheet's, see :meth:`cells`

    def part(self, name: str) -> Any:
        """A small part (workbook, styles, relationships) parsed whole."""
        from lxml import etree

        try:
            info = self.zf.getinfo(name)
        except KeyError:
            raise ClasseurRefuse(f"partie « {name} » absente : le classeur est incomplet") from None
        return etree.fromstring(self.zf.read(info), _parser())

    def rels(self, part: str) -> dict[str, tuple[str, str]]:
        """A part's relationships: id → (type, resolved part name)."""
        base = PurePosixPath(part)
        rels_name = str(base.parent / "_rels" / (base.name + ".rels")).lstrip("/")
        if rels_name.startswith("./"):
            rels_name = rels_name[2:]
        if rels_name not in self.names:
            return {}
        out: dict[str, tuple[str, str]] = {}
        for rel in self.part(rels_name):
            target = rel.get("Target", "")
            if target.startswith("/"):
                resolved = target.lstrip("/")
            else:
                parts: list[str] = []
                for piece in (*base.parent.parts, *PurePosixPath(target).parts):
                    if piece == "..":
                        if parts:
                            parts.pop()
                    elif piece not in (".", ""):
                        parts.append(piece)
                resolved = "/".join(parts)
            out[rel.get("Id", "")] = (rel.get("Type", ""), resolved)
        return out

    def strings(self, name: str) -> list[str]:
        limit = self.limites.chaines
        out: list[str] = []
        with self.zf.open(name) as stream:
            for _event, el in _iterparse(stream, ("end",), ("si",)):
                if len(out) >= limit:
                    raise ClasseurRefuse(f"plus de {limit} textes différents (partie « {name} ») "
                                         ": classeur démesuré, refusé")
                out.append(string_item(el))
                _free(el)
        return out

    def styles(self, name: str) -> list[str]:
        from openpyxl.styles.numbers import BUILTIN_FORMATS

        root = self.part(name)
        custom: dict[int, str] = {}
        xfs: list[str] = []
        for top in root:
            tag = _local(top.tag)
            if tag == "numFmts":
                for fmt in top:
                    try:
                        custom[int(fmt.get("numFmtId", ""))] = fmt.get("formatCode", "General")
                    except ValueError:
                        continue
            elif tag == "cellXfs":
                for xf in top:
                    try:
                        ident = int(xf.get("numFmtId", "0"))
                    except ValueError:
                        ident = 0
                    xfs.append(custom.get(ident) or BUILTIN_FORMATS.get(ident, "General"))
        return xfs

    def _events(self, name: str) -> Iterator[tuple[str, Any]]:
        """(« row », row) before its cells, (« c », cell), (« sheetProtection », element).

        A part up to :data:`WHOLE_PART` is parsed at once (lxml's tree parser is several times
        faster than its event parser, and such a part is small); a larger one is streamed, each
        element freed once read, so memory does not grow with it.
        """
        if self.zf.getinfo(name).file_size <= WHOLE_PART:
            for top in self.part(name):
                tag = _local(top.tag)
                if tag == "sheetData":
                    for row in top:
                        yield "row", row
                        for c in row:
                            yield "c", c
                elif tag == "sheetProtection":
                    yield tag, top
            return
        with self.zf.open(name) as stream:
            for event, el in _iterparse(stream, ("start", "end"),
                                        ("row", "c", "sheetProtection")):
                tag = _local(el.tag)
                if event == "start":
                    if tag == "row":
                        yield tag, el
                    continue
                if tag != "row":
                    yield tag, el
                _free(el)

    def cells(self, name: str, nom: str, strings: list[str]
              ) -> Iterator[tuple[str, int, int, Cellule]]:
        """(reference, row, column, cell) of each cell of the part ``name`` (sheet ``nom``)
        holding something, in the file's order. ClasseurRefuse at a bad reference or a cell
        beyond the rows or columns allowed (the count of cells is the caller's: see
        :meth:`count`). A ``sheetProtection`` met on the way is given to :attr:`protection`."""
        from openpyxl.formula.translate import Translator

        lim = self.limites
        shared: dict[str, tuple[str, str]] = {}
        row_number = 0
        column = 0
        for tag, el in self._events(name):
            if tag == "row":
                try:
                    row_number = int(el.get("r") or row_number + 1)
                except ValueError:
                    row_number += 1
                column = 0
            elif tag == "c":
                ref = el.get("r")
                if ref:
                    try:
                        letters, row_number = split_ref(ref)
                    except ValueError:
                        raise ClasseurRefuse(f"{nom} : référence de cellule « {ref} » "
                                             "invalide") from None
                    column = column_number(letters)
                    ref = f"{letters}{row_number}"
                else:
                    column += 1
                    ref = f"{column_letters(column)}{row_number}"
                cell = _cell(el, ref, strings, shared, Translator)
                if cell is None:
                    continue
                where = f"{nom}!{ref}"
                if row_number > lim.lignes or row_number < 1:
                    raise ClasseurRefuse(f"{where} : la feuille « {nom} » dépasse "
                                         f"{lim.lignes} lignes (cellule remplie à la ligne "
                                         f"{row_number}) ; supprimez les lignes vides ou en "
                                         "trop", where)
                if column > lim.colonnes:
                    raise ClasseurRefuse(f"{where} : la feuille « {nom} » dépasse "
                                         f"{lim.colonnes} colonnes (cellule remplie en "
                                         f"colonne {ref.rstrip('0123456789')}) ; supprimez "
                                         "les colonnes en trop", where)
                cell.row, cell.col = row_number, column
                yield ref, row_number, column, cell
            else:
                self.protection = {_local(k): v for k, v in el.attrib.items()}

    def count(self, kept: int, nom: str, ref: str) -> None:
        """ClasseurRefuse at ``nom!ref`` when ``kept`` cells are already kept: one more would
        pass :attr:`Limites.cellules`."""
        if kept >= self.limites.cellules:
            where = f"{nom}!{ref}"
            raise ClasseurRefuse(f"{where} : plus de {self.limites.cellules} cellules remplies "
                                 f"dans la feuille « {nom} » : classeur démesuré, refusé", where)

    def sheet(self, name: str, sheet: FeuilleLue, strings: list[str]) -> None:
        """Read one worksheet's cells; only cells holding something are kept."""
        cells = sheet.cellules
        self.protection = None
        for ref, _row, _col, cell in self.cells(name, sheet.nom, strings):
            self.count(len(cells), sheet.nom, ref)
            cells[ref] = cell
        if self.protection is not None:
            sheet.protection = self.protection


def _cell(c: Any, ref: str, strings: list[str], shared: dict[str, tuple[str, str]],
          translator: Any) -> Cellule | None:
    kind = c.get("t", "n")
    raw: str | None = None
    formula: str | None = None
    inline: Any = None
    for child in c:
        tag = _local(child.tag)
        if tag == "v":
            raw = child.text
        elif tag == "is":
            inline = child
        elif tag == "f":
            text = child.text or ""
            if child.get("t") == "shared":
                si = child.get("si", "")
                if text:
                    shared[si] = (text, ref)
                elif si in shared:
                    master, origin = shared[si]
                    text = translator("=" + master, origin).translate_formula(ref)[1:]
            formula = "=" + text
    try:
        style = int(c.get("s") or 0)
    except ValueError:
        style = 0
    value: Any = None
    erreur = False
    if inline is not None:
        value = string_item(inline)
    elif raw is None or (raw == "" and formula is not None):
        value = None
    elif kind == "s":
        try:
            value = strings[int(raw)]
        except (ValueError, IndexError):
            raise ClasseurRefuse(f"{ref} : texte partagé n° {raw} introuvable : classeur "
                                 "abîmé") from None
    elif kind in ("str", "inlineStr"):
        value = unescape(raw)
    elif kind == "e":
        value, erreur = raw.strip(), True
    elif kind == "d":
        value = _iso(raw)
    elif kind == "b":
        value = raw.strip() in ("1", "true")
    else:
        try:
            number = float(raw)
        except ValueError:
            raise ClasseurRefuse(f"{ref} : nombre « {raw[:20]} » illisible : classeur "
                                 "abîmé") from None
        value = int(number) if number.is_integer() and abs(number) < 2**53 else number
    if value is None and formula is None:
        return None
    return Cellule(value, formula, erreur, style)


def _iso(raw: str) -> Any:
    text = raw.strip()
    try:
        return dt.datetime.fromisoformat(text.rstrip("Z"))
    except ValueError:
        return text


@contextmanager
def _guard() -> Iterator[None]:
    """Any malformed content read inside becomes a ClasseurRefuse: a reason, never a traceback."""
    try:
        yield
    except (ArchiveRefusee, ClasseurRefuse, LignesDesordonnees):
        raise
    except zipfile.BadZipFile:
        raise ClasseurRefuse("classeur illisible ou abîmé (tronqué : ce n'est pas une "
                             "archive .xlsx complète) ; enregistrez-le à nouveau") from None
    except MemoryError:
        raise ClasseurRefuse("classeur trop volumineux pour être lu") from None
    except Exception as exc:  # any malformed content: report, never a traceback
        detail = f"XML invalide : {exc}" if isinstance(exc, SyntaxError) else \
            f"{type(exc).__name__} : {exc}"
        raise ClasseurRefuse(f"classeur illisible ou abîmé ({detail}) ; ouvrez-le et "
                             "enregistrez-le à nouveau au format .xlsx") from None


@dataclass
class ClasseurOuvert:
    """A workbook open for reading: ``classeur`` holds everything but the cells (its sheets are
    empty); ``parties`` each sheet in order with its part (None: a sheet without cells to
    read). Valid only inside :func:`ouvrir_classeur`'s ``with``."""

    classeur: Classeur
    parties: list[tuple[FeuilleLue, str | None]]
    _lecteur: _Lecteur
    _strings: list[str]

    def lignes(self, feuille: FeuilleLue, *, trier: bool = False
               ) -> Iterator[tuple[int, dict[int, Cellule]]]:
        """(row number, its cells by column, left to right) for each row of ``feuille`` (one
        of :attr:`parties`) holding something, in increasing row order, one row alive at a time.

        ClasseurRefuse as :func:`lire_classeur` (at the same cell, with the same limits);
        LignesDesordonnees when the file stores a row after a later one, before that row is
        given: read again with ``trier=True``, which keeps the sheet's cells to sort them.
        """
        target = next((t for f, t in self.parties if f is feuille), None)
        if target is None:
            return
        lecteur = self._lecteur
        with _guard():
            if trier:
                lecteur.sheet(target, feuille, self._strings)
                rows: dict[int, dict[int, Cellule]] = {}
                for cell in sorted(feuille.cellules.values(), key=lambda c: (c.row, c.col)):
                    rows.setdefault(cell.row, {})[cell.col] = cell
                feuille.cellules = {}
                yield from rows.items()
                return
            lecteur.protection = None
            current, kept = 0, 0
            line: dict[int, Cellule] = {}
            for ref, row, col, cell in lecteur.cells(target, feuille.nom, self._strings):
                if row != current:
                    if row < current:
                        raise LignesDesordonnees(f"{feuille.nom}!{ref}")
                    if line:
                        yield current, dict(sorted(line.items()))
                    kept += len(line)
                    line = {}
                    current = row
                lecteur.count(kept + len(line), feuille.nom, ref)
                line[col] = cell
            if line:
                yield current, dict(sorted(line.items()))
            feuille.protection = lecteur.protection


@contextmanager
def ouvrir_classeur(path: Path, limites: Limites, *, dossier: Path | None = None
                    ) -> Iterator[ClasseurOuvert]:
    """The workbook at ``path`` opened within ``limites``: its sheets, formats and shared
    strings read, its cells to be read row by row (:meth:`ClasseurOuvert.lignes`).

    ClasseurRefuse or FileNotFoundError on opening, as :func:`lire_classeur`; exceptions raised
    by the caller inside the ``with`` are left as they are.
    """
    with ouvrir_fichier(path, dossier) as fh:
        head = fh.read(8)
        if head.startswith(_OLE_MAGIC):
            raise ClasseurRefuse("le classeur est chiffré par un mot de passe d'ouverture, ou "
                                 "enregistré au format Excel 97-2003 (.xls) : enregistrez-le au "
                                 "format .xlsx, sans mot de passe d'ouverture")
        if not head.startswith(b"PK"):
            raise ClasseurRefuse("ce fichier n'est pas un classeur Excel (.xlsx)")
        fh.seek(0)
        with _guard():
            zf = zipfile.ZipFile(fh)
        with zf:
            with _guard():
                check_archive(zf, max_total=limites.decompresse, max_part=limites.partie)
                lecteur = _Lecteur(zf, limites, path)
                book, parties, strings = _read(lecteur, path)
            yield ClasseurOuvert(book, parties, lecteur, strings)


def lire_classeur(path: Path, limites: Limites, *, dossier: Path | None = None,
                  feuilles: set[str] | None = None) -> Classeur:
    """Read the workbook at ``path`` within ``limites``; ``feuilles`` limits whose cells are read.

    ClasseurRefuse (French reason, with the cell when one is at fault) for a file that is not
    an ordinary file (see :func:`ouvrir_fichier`), not an .xlsx, encrypted, malformed, or
    beyond a limit; FileNotFoundError when there is no file.
    """
    with ouvrir_classeur(path, limites, dossier=dossier) as ouvert, _guard():
        for sheet, target in ouvert.parties:
            if target is not None and (feuilles is None or sheet.nom in feuilles):
                ouvert._lecteur.sheet(target, sheet, ouvert._strings)
        return ouvert.classeur


def _read(lecteur: _Lecteur, path: Path
          ) -> tuple[Classeur, list[tuple[FeuilleLue, str | None]], list[str]]:
    """The workbook without its cells: each sheet with its part (None: nothing to read),
    the shared strings."""
    names = lecteur.names
    root_rels = lecteur.rels("")
    workbook = next((t for typ, t in root_rels.values() if typ.endswith(_REL_OFFICE)),
                    "xl/workbook.xml")
    if workbook not in names:
        renamed = (" : c'est un document Word renommé" if "word/document.xml" in names
                   else f" : partie « {workbook} » absente")
        raise ClasseurRefuse(f"ce fichier n'est pas un classeur Excel (.xlsx){renamed}")
    wb_root = lecteur.part(workbook)
    if _local(wb_root.tag) != "workbook":
        renamed = " : c'est un document Word renommé" if _local(wb_root.tag) == "document" else ""
        raise ClasseurRefuse(f"ce fichier n'est pas un classeur Excel (.xlsx){renamed}")
    strict = _namespace(wb_root.tag).startswith("http://purl.oclc.org/ooxml/")
    wb_rels = lecteur.rels(workbook)
    strings: list[str] = []
    formats: list[str] = []
    for typ, target in wb_rels.values():
        if typ.endswith(_REL_STRINGS) and target in names:
            strings = lecteur.strings(target)
        elif typ.endswith(_REL_STYLES) and target in names:
            formats = lecteur.styles(target)
    application = ""
    for typ, target in root_rels.values():
        if typ.endswith(_REL_APP) and target in names:
            for el in lecteur.part(target):
                if _local(el.tag) == "Application":
                    application = (el.text or "").strip()
    book = Classeur(path, {}, [], formats, application=application, strict=strict)
    parties: list[tuple[FeuilleLue, str | None]] = []
    for el in wb_root.iter():
        tag = _local(el.tag)
        if tag == "workbookPr":
            book.date1904 = el.get("date1904", "0").strip().lower() in ("1", "true")
        elif tag == "workbookProtection":
            book.protection_classeur = {_local(k): v for k, v in el.attrib.items()}
        elif tag == "sheet":
            rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), "")
            sheet = FeuilleLue(el.get("name", ""), el.get("state", "visible"))
            book.feuilles[sheet.nom] = sheet
            book.ordre.append(sheet.nom)
            typ, target = wb_rels.get(rid, ("", ""))
            parties.append((sheet, target if typ.endswith(_REL_SHEET) and target in names
                            else None))
    return book, parties, strings
