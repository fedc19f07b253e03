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

import base64
import binascii
import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from certidocs.classeur import Classeur, FeuilleLue, Limites, lire_classeur, split_ref
from certidocs.errors import ArchiveRefusee, ClasseurRefuse
from certidocs.grid import layout as L
from certidocs.model import Anomalie, Candidat, Jure, Referentiel

MAX_PART = 50 * 1024 * 1024
"""50 MiB for any part once decompressed: a grid's largest part (a bloc sheet) weighs tens of
kilobytes; beyond, the archive is refused before inflating (zip bomb)."""

MAX_TOTAL = 100 * 1024 * 1024
"""100 MiB for all parts together once decompressed: a grid weighs about 100 kB."""

MAX_ROWS = 5_000
"""5 000 rows: a bloc sheet has one row per criterion (the largest référentiel has under 100
per bloc); a cell holding something below is refused with its cell."""

MAX_COLUMNS = 64
"""64 columns: a grid uses A to G; a cell holding something beyond BL is refused with its
cell (Gnumeric and LibreOffice write nothing there)."""

MAX_CELLS = 50_000
"""50 000 filled cells per sheet: ten times the largest grid sheet; beyond, refused."""

MAX_SHARED_STRINGS = 50_000
"""50 000 distinct texts in a grid: criteria texts, evaluations and observations are a few
hundred; beyond, refused without reading further."""

LIMITES = Limites(lignes=MAX_ROWS, colonnes=MAX_COLUMNS, cellules=MAX_CELLS,
                  chaines=MAX_SHARED_STRINGS, decompresse=MAX_TOTAL, partie=MAX_PART)
"""The bounds a grid is read within (see :mod:`certidocs.classeur`)."""


class _Unreadable(Exception):
    """The file cannot be read as a workbook; the message is the French reason."""

    def __init__(self, message: str, cellule: str = "") -> None:
        super().__init__(message)
        self.cellule = cellule


class _Sheet:
    """One worksheet as read: cells (value or last computed value, formula) and protection."""

    def __init__(self, lue: FeuilleLue) -> None:
        self.name = lue.nom
        self.state = lue.etat
        self.protection = lue.protection
        self._cells = lue.cellules

    @property
    def protected(self) -> bool:
        """Whether the sheet is protected (with or without a password hash)."""
        return self.protection is not None and self.protection.get("sheet") in ("1", "true")

    def value(self, ref: str) -> Any:
        """The cell's value (for a formula, the value last computed by a spreadsheet)."""
        cell = self._cells.get(ref)
        return None if cell is None else cell.value

    def formula(self, ref: str) -> str | None:
        """The cell's formula with its leading « = », or None."""
        cell = self._cells.get(ref)
        return None if cell is None else cell.formula

    def items(self) -> Iterator[tuple[str, Any, str | None]]:
        """(reference, value, formula) of every cell holding something."""
        for ref, cell in self._cells.items():
            yield ref, cell.value, cell.formula


@dataclass
class _Book:
    sheets: dict[str, _Sheet]
    order: list[str]
    application: str = ""
    classeur: Classeur | None = None  # for typed values (a date typed in the visa)


def _split_ref(ref: str) -> tuple[str, int]:
    return split_ref(ref)


def _open_book(path: Path, dossier: Path | None) -> _Book:
    """The workbook at ``path`` (an ordinary file inside ``dossier``), within :data:`LIMITES`."""
    try:
        book: Classeur = lire_classeur(path, LIMITES, dossier=dossier)
    except FileNotFoundError:
        raise _Unreadable("fichier introuvable") from None
    except OSError as exc:
        raise _Unreadable(f"lecture impossible ({exc.strerror})") from None
    except ClasseurRefuse as exc:
        raise _Unreadable(str(exc), exc.cellule) from None
    except ArchiveRefusee as exc:
        raise _Unreadable(str(exc)) from None
    return _Book({name: _Sheet(book.feuilles[name]) for name in book.ordre}, list(book.ordre),
                  book.application, book)


# --- reading a grid ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GridReading:
    """What a grid says, once checked.

    ``evaluations`` maps every criterion of the presented blocs to True (« Acquis »), False
    (« Non acquis ») or None (empty, invalid or unreadable); ``observations`` holds the
    non-empty observations; ``anomalies`` everything wrong with the file; ``non_evalues``
    each evaluation cell still empty, in sheet order (« BC02!D14 : critère C2.6 non
    évalué »: not a fault, but no decision until filled); ``remarques`` what the program
    that saved the grid changed legitimately (said, not held against the grid);
    ``valeurs_calculees`` whether the file held values computed by a spreadsheet; ``visa``
    who evaluated the candidate (None when the grid is not this candidate's or unreadable).
    """

    evaluations: dict[str, bool | None]
    observations: dict[str, str]
    anomalies: tuple[Anomalie, ...]
    valeurs_calculees: bool = False
    non_evalues: tuple[Anomalie, ...] = ()
    remarques: tuple[Anomalie, ...] = ()
    visa: Visa | None = None


SOURCE_VISA = "visa"
"""``Visa.source`` when the names come from the grid's « Visa du jury »."""

SOURCE_SESSION = "jury de la session"
"""``Visa.source`` when the visa held no name: the grid is attributed to the session's whole
jury (its Jury sheet), which says nothing about who of them evaluated it."""

CIVILITES = frozenset({"m", "mme", "mlle", "mr", "monsieur", "madame", "mademoiselle"})
"""Words left out when a visa's name is compared with the Jury sheet (« Mme Anne Roux »)."""

QUALITE_SEPARATEURS = (" – ", " — ", " - ")
"""What separates a name from its qualité in a visa (« Anne ROUX – Présidente du jury », as
the writer pre-fills it; a hyphen typed by hand)."""


@dataclass(frozen=True)
class Visa:
    """Who evaluated a grid, from the « Visa du jury » block of its Synthèse sheet.

    ``noms``: the jurors, in the order written, each as the Jury sheet spells it (« Anne
    ROUX », see :func:`nom_jure`) when recognised (case, accents, spacing, word order,
    civilité and the « – qualité » suffix tolerated), else as written; ``hors_jury``: those of
    ``noms`` the Jury sheet does not hold; ``date``: the visa's date, ISO (« 2026-12-10 »),
    or the text as written, « » when none; ``source``: :data:`SOURCE_VISA`, or
    :data:`SOURCE_SESSION` when the visa held no name (``noms`` is then the whole jury).
    """

    noms: tuple[str, ...]
    source: str
    date: str = ""
    hors_jury: tuple[str, ...] = ()

    def preuve(self) -> dict[str, Any]:
        """The visa as the register keeps it in a passage's evidence (``preuves["jures"]``)."""
        return {"noms": list(self.noms), "source": self.source, "date": self.date,
                "hors_jury": list(self.hors_jury)}


def nom_jure(jure: Jure) -> str:
    """« Anne ROUX »: a juror's name as the register and the annual review keep it."""
    return " ".join(x for x in (jure.prenom.strip(), jure.nom.strip().upper()) if x)


def _jetons(text: str) -> tuple[str, ...]:
    """The words of a name, folded (case, accents, punctuation) and sorted, civilité left out."""
    import unicodedata

    folded = "".join(ch for ch in unicodedata.normalize("NFKD", text)
                     if not unicodedata.combining(ch)).casefold()
    for mark in "-'’.,;":
        folded = folded.replace(mark, " ")
    return tuple(sorted(w for w in folded.split() if w not in CIVILITES))


def jure_du_visa(text: str, jury: tuple[Jure, ...]) -> Jure | None:
    """The member of ``jury`` a visa's name designates, or None.

    Same words once folded (« roux  ANNE », « Mme Anne Roux »); when the text carries a
    qualité after a dash (« Anne ROUX – Présidente du jury »), the part before it is tried too.
    """
    tries = [_jetons(text)]
    for sep in QUALITE_SEPARATEURS:
        if sep in text:
            tries.append(_jetons(text.split(sep, 1)[0]))
    for wanted in tries:
        for jure in jury:
            if wanted and wanted == _jetons(f"{jure.prenom} {jure.nom}"):
                return jure
    return None


@dataclass(frozen=True)
class Emission:
    """What this workspace issued for the session, to recognise its own grids.

    ``identifiant_session`` is the session's identifier (« » for a session from before
    identifiers: then grids are not compared on it); ``mot_de_passe`` the sheet password the
    grids were protected with (« »: the protection hash is not checked).
    """

    identifiant_session: str = ""
    mot_de_passe: str = ""


def programme(application: str) -> str:
    """The name of the program that last saved a workbook, from ``docProps/app.xml``; « » for
    Excel (and certidocs itself, which writes as openpyxl)."""
    text = application.casefold()
    if not text or "openpyxl" in text or text.startswith("microsoft excel"):
        return ""
    for key, name in (("libreoffice", "LibreOffice"), ("openoffice", "OpenOffice"),
                      ("gnumeric", "Gnumeric"), ("wps", "WPS Office"), ("numbers", "Numbers"),
                      ("google", "Google Sheets"), ("onlyoffice", "ONLYOFFICE")):
        if key in text:
            return name
    return application.strip()[:40]


@functools.lru_cache(maxsize=64)
def _hash_of(password: str, salt: str, spin_count: int) -> str:
    from certidocs.grid.writer import excel_password_hash

    digest = excel_password_hash(password, base64.b64decode(salt, validate=True), spin_count)
    return base64.b64encode(digest).decode("ascii")


def _issued_here(protection: dict[str, str], password: str) -> bool:
    """Whether a sheet's protection hash was made from this workspace's password."""
    try:
        spin = int(protection.get("spinCount", "0"))
        if protection.get("algorithmName") != "SHA-512" or not 0 < spin <= 10_000_000:
            return False
        return _hash_of(password, protection.get("saltValue", ""), spin) == protection.get(
            "hashValue")
    except (ValueError, binascii.Error):
        return False


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
    """Collects anomalies (and remarks, which do not count against the grid) for one file."""

    def __init__(self, fichier: str) -> None:
        self.fichier = fichier
        self.found: list[Anomalie] = []
        self.notes: list[Anomalie] = []
        self.changes: list[str] = []  # what the program that saved the file changed

    def add(self, cellule: str, message: str) -> None:
        """An anomaly: the grid cannot be decided on."""
        self.found.append(Anomalie(self.fichier, cellule, message))

    def note(self, cellule: str, message: str) -> None:
        """A remark: said, not held against the grid."""
        self.notes.append(Anomalie(self.fichier, cellule, message))


def non_evalue(fichier: str, cellule: str, code: str) -> Anomalie:
    """The anomaly of an evaluation cell left empty (« critère C2.6 non évalué », at its
    cell): not a fault, but no decision until it is filled."""
    return Anomalie(fichier, cellule, f"critère {code} non évalué")


def est_non_evalue(anomalie: Anomalie) -> bool:
    """Whether ``anomalie`` is one made by non_evalue (read back from a report, where the
    grid's reading that told them apart is gone)."""
    return anomalie.message.startswith("critère ") and anomalie.message.endswith(" non évalué")


def read_grid(path: Path, *, referentiel: Referentiel, session_nom: str, candidat: Candidat,
              blocs: tuple[str, ...], fichier_affiche: str, dossier: Path | None = None,
              emission: Emission | None = None, jury: tuple[Jure, ...] | None = None
              ) -> GridReading:
    """Read and check the grid of ``candidat`` presenting ``blocs``; never raises for content.

    Checks, each failure an anomaly with its cell (``BC02!D14``; a sheet name alone for a
    whole sheet; empty for the whole file): an ordinary .xlsx file inside ``dossier``
    (default: its folder) within :data:`LIMITES`; the ``_certidocs`` sheet present and
    matching this session (its name and, per ``emission``, its identifier), candidate,
    référentiel (code and fingerprint), blocs and layout version; every expected sheet present
    and still protected, with the password hash this workspace issued, and no other; each
    criterion row's code, compétences and text unchanged and in place; each evaluation
    « Acquis » or « Non acquis » (case and surrounding spaces tolerated), an empty one named;
    every formula unchanged; and, when the file holds values computed by a spreadsheet, those
    values equal certidocs's own computation. When the grid belongs to another candidate or
    session, or to another version of the référentiel, nothing else is read from it.

    A grid saved by another program than Excel (LibreOffice, Gnumeric, WPS, Numbers…) may
    come back with its technical sheet visible, its protection or its password hash dropped:
    the program did that, not the juror, and every cell is checked anyway; it is said once,
    in ``remarques``. A hash that is present but not this workspace's is an anomaly.

    When ``jury`` (the session's Jury sheet) is given, the jury's visa (Synthèse sheet) gives
    ``visa``: its names matched with ``jury``; a name not found there is kept as written and
    said in ``remarques`` with its cell. Nothing in the visa is ever an anomaly.
    """
    emission = emission or Emission()
    expected = {c.code: None for code in blocs if code in {b.code for b in referentiel.blocs}
                for c in referentiel.bloc(code).criteres}
    evaluations: dict[str, bool | None] = dict(expected)
    observations: dict[str, str] = {}
    check = _Check(fichier_affiche)
    empty: list[Anomalie] = []
    visa: list[Visa] = []

    def done(cached: bool = False) -> GridReading:
        return GridReading(evaluations, observations, tuple(check.found), cached, tuple(empty),
                           tuple(check.notes), visa[0] if visa else None)

    try:
        plan = L.plan_grid(referentiel, blocs)
    except (KeyError, ValueError) as exc:
        check.add("", f"blocs présentés incompris ({exc}) : impossible de lire la grille")
        return done()
    try:
        book = _open_book(path, path.parent if dossier is None else dossier)
    except _Unreadable as exc:
        check.add(exc.cellule, str(exc))
        return done()

    saved_by = programme(book.application)
    if not _check_identity(book, check, plan, referentiel, session_nom, candidat, emission,
                           saved_by):
        return done()
    _check_structure(book, check, plan, emission, saved_by)
    if jury is not None:
        visa.append(_read_visa(book, plan, jury, check))
    if check.changes:
        # Said once per grid: the program did it, and every cell is checked all the same.
        check.note("", f"enregistrée avec {saved_by} : protection retirée par le programme "
                       f"({' ; '.join(check.changes)}) ; chaque cellule a été vérifiée")
    padded: list[str] = []
    for bp in plan.blocs:
        sheet = book.sheets.get(bp.sheet)
        if sheet is not None:
            _read_bloc(sheet, bp, check, evaluations, observations, padded, empty)
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
                    session_nom: str, candidat: Candidat, emission: Emission,
                    saved_by: str) -> bool:
    """The ``_certidocs`` sheet: is this grid this candidate's, for this session?"""
    meta = book.sheets.get(L.SHEET_META)
    if meta is None:
        check.add(L.SHEET_META, "la feuille cachée « _certidocs » manque : ce fichier n'est pas "
                                "une grille produite par certidocs, ou il a été recopié dans un "
                                "autre classeur")
        return False
    rows: dict[str, tuple[str, Any]] = {}
    for ref, value, _formula in meta.items():
        column, row = _split_ref(ref)
        if column == "A" and isinstance(value, str):
            rows[value] = (f"{L.SHEET_META}!B{row}", meta.value(f"B{row}"))

    def got(key: str) -> tuple[str, str]:
        cell, value = rows.get(key, (f"{L.SHEET_META}!A1", None))
        return cell, "" if value is None else _shown(value)

    ok = True
    wanted = [
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
    ]
    # Compared after the others (one anomaly says it when the session's name already
    # differs); a grid from before identifiers has none: it is recognised by its password hash.
    if emission.identifiant_session and (L.META_SESSION_ID in rows
                                         or not emission.mot_de_passe):
        wanted.append((L.META_SESSION_ID, emission.identifiant_session,
                       "identifiant de session", "cette grille a été produite pour une "
                       "autre session du même nom (autre espace de travail ou session "
                       "recréée) : elle n'est pas de cette session"))
    for key, value, label, why in wanted:
        cell, found = got(key)
        if found != value and (ok or key != L.META_SESSION_ID):
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
        if saved_by:
            check.changes.append("feuille technique « _certidocs » rendue visible")
        else:
            check.add(L.SHEET_META, "la feuille technique « _certidocs » a été rendue visible : "
                                    "la structure du classeur a été déprotégée")
    return ok


def _read_visa(book: _Book, plan: L.GridPlan, jury: tuple[Jure, ...], check: _Check) -> Visa:
    """The « Visa du jury » block of the Synthèse sheet: names (column B) and the first date
    (column A) of the :data:`~certidocs.grid.layout.VISA_LIGNES_LUES` rows below its header.

    Only remarks, never anomalies. A grid without the block (made before it) is attributed to
    the whole jury silently; a block whose names were all erased, with a remark.
    """
    whole = Visa(tuple(n for n in (nom_jure(j) for j in jury) if n), SOURCE_SESSION)
    sheet = book.sheets.get(L.SHEET_SYNTHESE)
    header = plan.visa_row + 1
    if sheet is None or _shown(sheet.value(f"{L.VISA_COL_NOM}{header}") or "").strip() \
            != L.VISA_HEADERS[1]:
        return whole
    names: list[str] = []
    unknown: list[str] = []
    date = ""
    for row in range(header + 1, header + 1 + L.VISA_LIGNES_LUES):
        ref = f"{L.VISA_COL_NOM}{row}"
        value = sheet.value(ref)
        text = " ".join(_shown(value).split()) if value is not None else ""
        if text:
            found = jure_du_visa(text, jury)
            name = nom_jure(found) if found is not None else text
            if found is None and name not in unknown:
                unknown.append(name)
                check.note(f"{L.SHEET_SYNTHESE}!{ref}",
                           f"« {text} » n'est pas dans la feuille Jury de session.xlsx : nom "
                           "gardé tel qu'écrit comme juré de cette grille")
            if name not in names:
                names.append(name)
        if not date:
            date = _visa_date(book, sheet, f"{L.VISA_COL_DATE}{row}")
    if not names:
        check.note(f"{L.SHEET_SYNTHESE}!{L.VISA_COL_NOM}{header + 1}",
                   "visa du jury sans nom : grille attribuée à tout le jury de la session "
                   "(feuille Jury)")
        return Visa(whole.noms, SOURCE_SESSION, date)
    return Visa(tuple(names), SOURCE_VISA, date, tuple(unknown))


def _visa_date(book: _Book, sheet: _Sheet, ref: str) -> str:
    """The visa's date at ``ref``: ISO when it is a date (typed as such or « 10/12/2026 »),
    else the text as written; « » when empty."""
    if book.classeur is None:
        return ""
    cell = book.classeur.feuilles[sheet.name].cellules.get(ref)
    if cell is None or cell.value is None:
        return ""
    value = book.classeur.typee(cell)
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    text = " ".join(_shown(value).split())
    try:
        return dt.datetime.strptime(text, "%d/%m/%Y").date().isoformat()
    except ValueError:
        return text


def _check_structure(book: _Book, check: _Check, plan: L.GridPlan, emission: Emission,
                     saved_by: str) -> None:
    """Every expected sheet present and protected by this workspace's password, and no other.

    The workbook's structure lock is not checked: LibreOffice drops it when it saves an .xlsx
    (7.4 writes an empty ``workbookProtection``), and the sheets themselves are what matter.
    A program other than Excel may drop the sheets' protection or its password hash: said
    once, in the remarks; in a file Excel saved, only a person can have done it.
    """
    expected = plan.sheet_names
    extra = [n for n in book.order if n not in expected]
    dropped: list[str] = []
    for name in expected:
        sheet = book.sheets.get(name)
        if sheet is None:
            hint = f" ; feuilles inattendues : « {'», «'.join(extra)} »" if extra else ""
            check.add(name, f"la feuille « {name} » est introuvable : renommée ou "
                            f"supprimée{hint}")
            continue
        hashed = sheet.protection is not None and bool(sheet.protection.get("hashValue"))
        if hashed and emission.mot_de_passe and sheet.protection is not None and \
                not _issued_here(sheet.protection, emission.mot_de_passe):
            check.add(name, f"la feuille « {name} » est protégée par un autre mot de passe que "
                            "celui des grilles de cette session : grille produite ailleurs "
                            "ou reprotégée à la main")
        elif not sheet.protected or not hashed:
            if saved_by:
                dropped.append(name)
            elif not sheet.protected:
                check.add(name, f"la feuille « {name} » n'est plus protégée : ses formules et "
                                "ses critères ont pu être modifiés")
            else:
                check.add(name, f"la feuille « {name} » est protégée sans le mot de passe des "
                                "grilles : la protection a été retirée puis remise à la main")
    if dropped:
        check.changes.append(f"mot de passe retiré des feuilles {', '.join(dropped)}")
    for name in extra:
        check.add(name, f"la feuille « {name} » ne fait pas partie de la grille")


def _read_bloc(sheet: _Sheet, bp: L.BlocPlan, check: _Check,
               evaluations: dict[str, bool | None], observations: dict[str, str],
               padded: list[str], empty: list[Anomalie]) -> None:
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
                if mark is None:
                    empty.append(non_evalue(check.fichier, f"{name}!{ref}", critere.code))
                elif value.strip() != value:
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
        book = _open_book(path, path.parent)
    except _Unreadable:
        return True
    own = {L.SHEET_CONSIGNES, L.SHEET_SYNTHESE, L.SHEET_META}
    for sheet in book.sheets.values():
        if sheet.name in own:
            continue
        for ref, value, formula in sheet.items():
            column, row = _split_ref(ref)
            if column in (L.COL_EVALUATION, L.COL_OBSERVATIONS) and row >= L.FIRST_ROW and (
                    formula is not None or (value is not None and _shown(value).strip())):
                return True
    return False
