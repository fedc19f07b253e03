"""Read a filled scoring grid back and check everything before any decision is made from it.

A grid went through a juror's hands and a spreadsheet: it may come from another session or
candidate, have a sheet renamed, rows deleted or moved, a formula typed over, its protection
removed, « oui » in an evaluation cell — or not be a workbook at all. Every such problem
becomes an :class:`~certidocs.model.Anomalie` naming the file and the cell, never an
exception; any anomaly makes the candidate « Incomplet » (see :mod:`certidocs.rules`).

The file is read directly from its XML (zip + lxml) rather than with openpyxl: one pass gives
both each formula and the value the spreadsheet last computed for it, and reading a thousand
grids takes seconds instead of a minute.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from certidocs.errors import ArchiveRefusee
from certidocs.grid import layout as L
from certidocs.model import Anomalie, Candidat, Referentiel
from certidocs.zipcheck import check_archive

_MAX_PART = 50 * 1024 * 1024  # no grid part is this big: refuse zip bombs before inflating
_MAX_TOTAL = 100 * 1024 * 1024  # nor all of them together (a grid weighs about 100 kB)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_REL_OFFICE = "/officeDocument"
_REL_SHEET = "/worksheet"
_REL_STRINGS = "/sharedStrings"


class _Unreadable(Exception):
    """The file cannot be read as a workbook; the message is the French reason."""


@dataclass
class _Sheet:
    """One worksheet as read: cells (value or last computed value, formula) and protection."""

    name: str
    state: str
    cells: dict[str, tuple[Any, str | None]] = field(default_factory=dict)
    protected: bool = False

    def value(self, ref: str) -> Any:
        """The cell's value (for a formula, the value last computed by a spreadsheet)."""
        return self.cells.get(ref, (None, None))[0]

    def formula(self, ref: str) -> str | None:
        """The cell's formula with its leading « = », or None."""
        return self.cells.get(ref, (None, None))[1]


@dataclass
class _Book:
    sheets: dict[str, _Sheet]
    order: list[str]


def _local(tag: Any) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _text(element: Any) -> str:
    """The text of a string item (shared or inline), rich-text runs joined, phonetics left."""
    if len(element) == 1 and _local(element[0].tag) == "t":  # plain text: the usual case
        return str(element[0].text or "")
    parts: list[str] = []
    for node in element.iter():
        if _local(node.tag) == "t":
            parent = node.getparent()
            if parent is not None and _local(parent.tag) == "rPh":
                continue
            parts.append(node.text or "")
    return "".join(parts)


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _column_letters(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _split_ref(ref: str) -> tuple[str, int]:
    i = 0
    while i < len(ref) and ref[i].isalpha():
        i += 1
    return ref[:i].upper(), int(ref[i:])


class _XlsxReader:
    """Just enough of SpreadsheetML to check a grid: sheets, cells, formulas, protection."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _part(self, zf: zipfile.ZipFile, name: str) -> Any:
        from lxml import etree

        try:
            info = zf.getinfo(name)
        except KeyError:
            raise _Unreadable(f"partie « {name} » absente : le classeur est incomplet") from None
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        return etree.fromstring(zf.read(info), parser)

    def _rels(self, zf: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
        """A part's relationships: id → (type, resolved part name)."""
        base = PurePosixPath(part)
        rels_name = str(base.parent / "_rels" / (base.name + ".rels")).lstrip("/")
        if rels_name.startswith("./"):
            rels_name = rels_name[2:]
        root = self._part(zf, rels_name)
        out: dict[str, tuple[str, str]] = {}
        for rel in root:
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

    def read(self, sheets_wanted: set[str] | None = None) -> _Book:
        """Parse the workbook; ``sheets_wanted`` limits which sheets' cells are read."""
        try:
            with self.path.open("rb") as fh:
                head = fh.read(8)
        except FileNotFoundError:
            raise _Unreadable("fichier introuvable") from None
        except OSError as exc:
            raise _Unreadable(f"lecture impossible ({exc.strerror})") from None
        if head.startswith(_OLE_MAGIC):
            raise _Unreadable("le classeur est chiffré par un mot de passe d'ouverture, ou "
                              "enregistré au format Excel 97-2003 (.xls) : enregistrez-le au "
                              "format .xlsx, sans mot de passe d'ouverture")
        try:
            with zipfile.ZipFile(self.path) as zf:
                check_archive(zf, max_total=_MAX_TOTAL, max_part=_MAX_PART)
                return self._read(zf, sheets_wanted)
        except ArchiveRefusee as exc:
            raise _Unreadable(str(exc)) from None
        except _Unreadable:
            raise
        except zipfile.BadZipFile:
            raise _Unreadable("ce fichier n'est pas un classeur Excel (.xlsx) ou il est "
                              "tronqué") from None
        except Exception as exc:  # any malformed content: report, never a traceback
            raise _Unreadable(f"classeur illisible ({type(exc).__name__} : {exc})") from None

    def _read(self, zf: zipfile.ZipFile, sheets_wanted: set[str] | None) -> _Book:
        root_rels = self._rels(zf, "") if "_rels/.rels" in zf.namelist() else {}
        workbook = next((t for typ, t in root_rels.values() if typ.endswith(_REL_OFFICE)),
                        "xl/workbook.xml")
        wb_root = self._part(zf, workbook)
        if _local(wb_root.tag) != "workbook":  # a Word or PowerPoint file renamed .xlsx
            raise _Unreadable("ce fichier n'est pas un classeur Excel (.xlsx)"
                              + (" : c'est un document Word renommé"
                                 if _local(wb_root.tag) == "document" else ""))
        wb_rels = self._rels(zf, workbook)
        strings: list[str] = []
        for typ, target in wb_rels.values():
            if typ.endswith(_REL_STRINGS):
                strings = [_text(si) for si in self._part(zf, target)
                           if _local(si.tag) == "si"]
        book = _Book({}, [])
        for el in wb_root.iter():
            name = _local(el.tag)
            if name == "sheet":
                rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), "")
                sheet = _Sheet(el.get("name", ""), el.get("state", "visible"))
                book.sheets[sheet.name] = sheet
                book.order.append(sheet.name)
                typ, target = wb_rels.get(rid, ("", ""))
                if typ.endswith(_REL_SHEET) and (sheets_wanted is None
                                                 or sheet.name in sheets_wanted):
                    self._read_sheet(zf, target, sheet, strings)
        return book

    def _read_sheet(self, zf: zipfile.ZipFile, part: str, sheet: _Sheet,
                    strings: list[str]) -> None:
        from openpyxl.formula.translate import Translator

        root = self._part(zf, part)
        shared: dict[str, tuple[str, str]] = {}
        # Only the cells and the protection matter: walk sheetData's rows, not the whole tree
        # (conditional formats, validations, page setup…).
        for top in root:
            name = _local(top.tag)
            if name == "sheetData":
                row_number = 0
                for row in top:
                    row_number = int(row.get("r") or row_number + 1)
                    column = 0
                    for c in row:
                        ref = c.get("r")
                        if ref:
                            ref = ref.upper()
                            column = _column_number(_split_ref(ref)[0])
                        else:
                            column += 1
                            ref = f"{_column_letters(column)}{row_number}"
                        sheet.cells[ref] = self._cell(c, ref, strings, shared, Translator)
            elif name == "sheetProtection":
                sheet.protected = top.get("sheet") in ("1", "true")

    @staticmethod
    def _cell(c: Any, ref: str, strings: list[str], shared: dict[str, tuple[str, str]],
              translator: Any) -> tuple[Any, str | None]:
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
        value: Any = None
        if inline is not None:
            value = _text(inline)
        elif raw is None or (raw == "" and formula is not None):
            value = None
        elif kind == "s":
            value = strings[int(raw)]
        elif kind in ("str", "inlineStr", "e", "d"):
            value = raw
        elif kind == "b":
            value = raw.strip() in ("1", "true")
        else:
            number = float(raw)
            value = int(number) if number.is_integer() else number
        return value, formula


# --- reading a grid ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GridReading:
    """What a grid says, once checked.

    ``evaluations`` maps every criterion of the presented blocs to True (« Acquis »), False
    (« Non acquis ») or None (empty, invalid or unreadable); ``observations`` holds the
    non-empty observations; ``anomalies`` everything wrong; ``valeurs_calculees`` whether the
    file held values computed by a spreadsheet (saved by Excel or LibreOffice).
    """

    evaluations: dict[str, bool | None]
    observations: dict[str, str]
    anomalies: tuple[Anomalie, ...]
    valeurs_calculees: bool = False


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)


def _same_name(a: str, b: str) -> bool:
    import unicodedata

    def fold(s: str) -> str:
        s = unicodedata.normalize("NFKD", s)
        return " ".join("".join(ch for ch in s if not unicodedata.combining(ch)).casefold()
                        .split())

    return fold(a) == fold(b)


class _Check:
    """Collects anomalies for one file."""

    def __init__(self, fichier: str) -> None:
        self.fichier = fichier
        self.found: list[Anomalie] = []

    def add(self, cellule: str, message: str) -> None:
        self.found.append(Anomalie(self.fichier, cellule, message))


def read_grid(path: Path, *, referentiel: Referentiel, session_nom: str, candidat: Candidat,
              blocs: tuple[str, ...], fichier_affiche: str) -> GridReading:
    """Read and check the grid of ``candidat`` presenting ``blocs``; never raises for content.

    Checks, each failure an anomaly with its cell (``BC02!D14``; a sheet name alone for a
    whole sheet; empty for the whole file): a readable .xlsx; the ``_certidocs`` sheet
    present and matching this session, candidate, référentiel (code and fingerprint), blocs
    and layout version; every expected sheet present and still protected, and no other; each
    criterion row's code, compétences and text unchanged and in place; each evaluation
    « Acquis » or « Non acquis » (case and surrounding spaces tolerated); every formula
    unchanged; and, when the file holds values computed by a spreadsheet, those values equal
    certidocs's own computation. When the grid belongs to another candidate or session, or
    to another version of the référentiel, nothing else is read from it.
    """
    expected = {c.code: None for code in blocs if code in {b.code for b in referentiel.blocs}
                for c in referentiel.bloc(code).criteres}
    evaluations: dict[str, bool | None] = dict(expected)
    observations: dict[str, str] = {}
    check = _Check(fichier_affiche)

    def done(cached: bool = False) -> GridReading:
        return GridReading(evaluations, observations, tuple(check.found), cached)

    try:
        plan = L.plan_grid(referentiel, blocs)
    except (KeyError, ValueError) as exc:
        check.add("", f"blocs présentés incompris ({exc}) : impossible de lire la grille")
        return done()
    try:
        book = _XlsxReader(path).read()
    except _Unreadable as exc:
        check.add("", str(exc))
        return done()

    if not _check_identity(book, check, plan, referentiel, session_nom, candidat):
        return done()
    _check_structure(book, check, plan)
    padded: list[str] = []
    for bp in plan.blocs:
        sheet = book.sheets.get(bp.sheet)
        if sheet is not None:
            _read_bloc(sheet, bp, check, evaluations, observations, padded)
    formulas_ok = _check_formulas(book, check, plan)
    cached = any(book.sheets[fc.sheet].value(fc.cell) is not None
                 for fc in plan.formulas if fc.sheet in book.sheets)
    if cached and padded:
        for ref in padded:
            check.add(ref, "la valeur est entourée d'espaces : le tableur ne la compte pas et "
                           "affiche « Incomplet » ; choisissez-la dans la liste déroulante")
    elif cached and not check.found:
        # Compared only when everything else holds: otherwise the anomalies above already
        # explain, better, why the spreadsheet's figures differ.
        _check_cached(book, check, plan, referentiel, candidat, evaluations, formulas_ok)
    return done(cached)


def _check_identity(book: _Book, check: _Check, plan: L.GridPlan, referentiel: Referentiel,
                    session_nom: str, candidat: Candidat) -> bool:
    """The ``_certidocs`` sheet: is this grid this candidate's, for this session?"""
    meta = book.sheets.get(L.SHEET_META)
    if meta is None:
        check.add(L.SHEET_META, "la feuille cachée « _certidocs » manque : ce fichier n'est pas "
                                "une grille produite par certidocs, ou il a été recopié dans un "
                                "autre classeur")
        return False
    rows: dict[str, tuple[str, Any]] = {}
    for ref, (value, _formula) in meta.cells.items():
        column, row = _split_ref(ref)
        if column == "A" and isinstance(value, str):
            rows[value] = (f"{L.SHEET_META}!B{row}", meta.value(f"B{row}"))

    def got(key: str) -> tuple[str, str]:
        cell, value = rows.get(key, (f"{L.SHEET_META}!A1", None))
        return cell, "" if value is None else _shown(value)

    ok = True
    wanted = (
        (L.META_VERSION, L.LAYOUT_VERSION, "version de mise en page",
         "la grille a été produite par une autre version de certidocs : régénérez-la"),
        (L.META_SESSION, session_nom, "session", "cette grille appartient à une autre session"),
        (L.META_NUMERO, candidat.numero.strip(), "numéro de candidat",
         "cette grille appartient à un autre candidat"),
        (L.META_REFERENTIEL, referentiel.code, "référentiel",
         "cette grille a été faite pour un autre référentiel"),
        (L.META_EMPREINTE, referentiel.empreinte(), "empreinte du référentiel",
         "le référentiel a changé (critères, textes ou seuils) depuis que la grille a été "
         "produite"),
        (L.META_BLOCS, L.BLOCS_SEPARATOR.join(bp.bloc.code for bp in plan.blocs),
         "blocs présentés", "les blocs présentés par le candidat ont changé depuis que la "
                            "grille a été produite"),
    )
    for key, value, label, why in wanted:
        cell, found = got(key)
        if found != value:
            check.add(cell, f"{why} ({label} : « {found} » au lieu de « {value} »)")
            ok = False
    for key, value in ((L.META_NOM, candidat.nom), (L.META_PRENOM, candidat.prenom)):
        cell, found = got(key)
        if ok and not _same_name(found, value):
            check.add(cell, f"cette grille est au nom de « {found} » et non de « {value} » : "
                            "grille d'un autre candidat, ou nom corrigé depuis dans "
                            "session.xlsx (régénérez alors la grille vierge)")
            ok = False
    if ok and meta.state == "visible":
        check.add(L.SHEET_META, "la feuille technique « _certidocs » a été rendue visible : "
                                "la structure du classeur a été déprotégée")
    return ok


def _check_structure(book: _Book, check: _Check, plan: L.GridPlan) -> None:
    """Every expected sheet present and protected, and no other.

    The workbook's structure lock is not checked: LibreOffice drops it when it saves an .xlsx
    (7.4 writes an empty ``workbookProtection``), and the sheets themselves are what matter.
    """
    expected = plan.sheet_names
    extra = [n for n in book.order if n not in expected]
    for name in expected:
        sheet = book.sheets.get(name)
        if sheet is None:
            hint = f" ; feuilles inattendues : « {'», «'.join(extra)} »" if extra else ""
            check.add(name, f"la feuille « {name} » est introuvable : renommée ou "
                            f"supprimée{hint}")
        elif not sheet.protected:
            check.add(name, f"la feuille « {name} » n'est plus protégée : ses formules et "
                            "ses critères ont pu être modifiés")
    for name in extra:
        check.add(name, f"la feuille « {name} » ne fait pas partie de la grille")


def _read_bloc(sheet: _Sheet, bp: L.BlocPlan, check: _Check,
               evaluations: dict[str, bool | None], observations: dict[str, str],
               padded: list[str]) -> None:
    """The criteria rows of one bloc sheet: in place and unchanged, then their evaluations."""
    name = sheet.name
    shifted = False
    for row, critere in enumerate(bp.bloc.criteres, start=bp.first_row):
        code = sheet.value(f"{L.COL_CODE}{row}")
        if shifted:
            continue
        if code != critere.code:
            shown = "rien" if code is None else f"« {_shown(code)} »"
            check.add(f"{name}!{L.COL_CODE}{row}",
                      f"la ligne {row} devrait porter le critère « {critere.code} » et porte "
                      f"{shown} : une ligne a été supprimée, insérée ou déplacée")
            shifted = True  # every following row is off too: one anomaly says it
            continue
        for col, want, what in ((L.COL_COMPETENCE, ", ".join(critere.competences),
                                 "les compétences"),
                                (L.COL_LIBELLE, critere.libelle, "le libellé")):
            found = sheet.value(f"{col}{row}")
            if ("" if found is None else _shown(found)) != want:
                check.add(f"{name}!{col}{row}",
                          f"{what} du critère « {critere.code} » ont été modifiées"
                          if what == "les compétences" else
                          f"{what} du critère « {critere.code} » a été modifié")
        ref = f"{L.COL_EVALUATION}{row}"
        value = sheet.value(ref)
        if sheet.formula(ref) is not None:
            check.add(f"{name}!{ref}", "l'évaluation est une formule : choisissez « Acquis » "
                                       "ou « Non acquis » dans la liste")
        else:
            mark = L.normalise_evaluation(value)
            if isinstance(mark, str):
                check.add(f"{name}!{ref}", f"« {_shown(value)} » n'est pas une évaluation : "
                                           "choisissez « Acquis » ou « Non acquis »")
            else:
                evaluations[critere.code] = mark
                if mark is not None and value.strip() != value:
                    padded.append(f"{name}!{ref}")
        note = sheet.value(f"{L.COL_OBSERVATIONS}{row}")
        if note is not None and _shown(note).strip():
            observations[critere.code] = _shown(note).strip()
    if not shifted:
        after = bp.last_row + 1
        extra = sheet.value(f"{L.COL_CODE}{after}")
        if extra is not None and _shown(extra).strip():
            check.add(f"{name}!{L.COL_CODE}{after}",
                      f"ligne {after} en trop après le dernier critère (« {_shown(extra)} »)")


def _check_formulas(book: _Book, check: _Check, plan: L.GridPlan) -> set[tuple[str, str]]:
    """Every formula as the layout writes it; returns the cells whose formula is intact."""
    intact: set[tuple[str, str]] = set()
    for fc in plan.formulas:
        sheet = book.sheets.get(fc.sheet)
        if sheet is None:
            continue
        where = f"{fc.sheet}!{fc.cell}"
        found = sheet.formula(fc.cell)
        if found is None:
            value = sheet.value(fc.cell)
            if value is None:
                check.add(where, "la formule de cette cellule a été effacée")
            else:
                check.add(where, f"la formule de cette cellule a été remplacée par la valeur "
                                 f"« {_shown(value)} »")
        elif L.canonical_formula(found) != L.canonical_formula(fc.formula):
            check.add(where, f"la formule de cette cellule a été modifiée (« {found} » au lieu "
                             f"de « {fc.formula} »)")
        else:
            intact.add((fc.sheet, fc.cell))
    return intact


def _check_cached(book: _Book, check: _Check, plan: L.GridPlan, referentiel: Referentiel,
                  candidat: Candidat, evaluations: dict[str, bool | None],
                  intact: set[tuple[str, str]]) -> None:
    """The values the spreadsheet computed equal what certidocs computes."""
    attendus = L.expected_values(plan, referentiel, candidat, evaluations)
    for fc in plan.formulas:
        if (fc.sheet, fc.cell) not in intact:
            continue
        found = book.sheets[fc.sheet].value(fc.cell)
        if found is None:
            continue
        attendu = attendus[(fc.sheet, fc.cell)]
        if isinstance(attendu.value, str):
            same = isinstance(found, str) and found == attendu.value
        elif isinstance(found, (int, float)) and not isinstance(found, bool):
            same = abs(float(found) - float(attendu.value)) <= attendu.tolerance  # type: ignore[arg-type]
        else:
            same = False
        if not same:
            check.add(f"{fc.sheet}!{fc.cell}",
                      f"le tableur affiche « {_shown(found)} » mais certidocs calcule "
                      f"« {_shown(attendu.value)} » : enregistrez à nouveau la grille dans "
                      "Excel ou LibreOffice, ou signalez-la")


def grid_has_input(path: Path) -> bool:
    """Whether the grid at ``path`` holds any evaluation or observation.

    A file that cannot be read as a workbook counts as holding input: it may be a juror's
    work in another format, and must never be overwritten. A missing file holds none.
    """
    if not path.exists():
        return False
    try:
        book = _XlsxReader(path).read()
    except _Unreadable:
        return True
    own = {L.SHEET_CONSIGNES, L.SHEET_SYNTHESE, L.SHEET_META}
    for sheet in book.sheets.values():
        if sheet.name in own:
            continue
        for ref, (value, formula) in sheet.cells.items():
            column, row = _split_ref(ref)
            if column in (L.COL_EVALUATION, L.COL_OBSERVATIONS) and row >= L.FIRST_ROW and (
                    formula is not None or (value is not None and _shown(value).strip())):
                return True
    return False
