"""The scoring grid's layout: the one source of truth for sheets, rows, columns and formulas.

The writer puts every cell where this module says, and the reader checks every cell against
what this module says, so the two cannot drift. A change that moves a cell or rewrites a
formula must bump :data:`LAYOUT_VERSION`, which grids carry in their ``_certidocs`` sheet.

Formulas use only COUNTIF, COUNTA, IF, ROUND and SUM, which Excel and LibreOffice compute
alike, and compare thresholds in integers exactly as :mod:`certidocs.rules` does
(``acquis * q >= p * total``), so that a spreadsheet and certidocs cannot disagree.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from fractions import Fraction

from certidocs.model import (
    CERTIFIE,
    INCOMPLET,
    NON_CERTIFIE,
    VALIDATION_PARTIELLE,
    Bloc,
    Candidat,
    Referentiel,
)
from certidocs.rules import resultat_candidat, seuil_atteint, seuil_fraction

LAYOUT_VERSION = "1"

SHEET_CONSIGNES = "Consignes"
SHEET_SYNTHESE = "Synthèse"
SHEET_META = "_certidocs"

ACQUIS = "Acquis"
NON_ACQUIS = "Non acquis"
CHOIX = (ACQUIS, NON_ACQUIS)
#: Workbook-level name of the drop-down's list, a range of the very hidden sheet: jurors cannot
#: reach it, and the list survives in both Excel and LibreOffice (cross-sheet list sources need
#: a name in old Excel versions).
NOM_CHOIX = "Choix_evaluation"
CHOIX_COLUMN = "D"
CHOIX_FIRST_ROW = 1
CHOIX_REF = (f"'{SHEET_META}'!${CHOIX_COLUMN}${CHOIX_FIRST_ROW}"
             f":${CHOIX_COLUMN}${CHOIX_FIRST_ROW + 1}")

BLOC_VALIDE = "Validé"
BLOC_NON_VALIDE = "Non validé"
BLOC_INCOMPLET = INCOMPLET

# --- bloc sheets: one row per criterion -----------------------------------------------------
ROW_TITLE = 1
ROW_CANDIDAT = 2
ROW_BILAN = 3
ROW_HEADER = 4
FIRST_ROW = 5
COL_CODE = "A"
COL_COMPETENCE = "B"
COL_LIBELLE = "C"
COL_EVALUATION = "D"
COL_OBSERVATIONS = "E"
BLOC_HEADERS = ("Critère", "Compétence", "Critère d'évaluation", "Évaluation", "Observations")
BLOC_WIDTHS = {"A": 12, "B": 14, "C": 70, "D": 16, "E": 48}
CELL_BILAN_LABEL = f"A{ROW_BILAN}"
CELL_BILAN = f"{COL_LIBELLE}{ROW_BILAN}"

# --- Synthèse ---------------------------------------------------------------------------------
SYN_ROW_TITLE = 1
SYN_ROW_CANDIDAT = 2
SYN_ROW_PORTEE = 3
SYN_ROW_HEADER = 5
SYN_FIRST_ROW = 6
SYN_HEADERS = ("Bloc", "Intitulé", "Acquis", "Non acquis", "Critères", "Taux", "Décision")
SYN_WIDTHS = {"A": 12, "B": 60, "C": 10, "D": 12, "E": 10, "F": 10, "G": 22}
SYN_COL_BLOC, SYN_COL_INTITULE = "A", "B"
SYN_COL_ACQUIS, SYN_COL_NON_ACQUIS, SYN_COL_TOTAL, SYN_COL_TAUX, SYN_COL_DECISION = (
    "C", "D", "E", "F", "G")
#: The overall decision is in column B of its row (wide enough for « Validation partielle »).
SYN_COL_DECISION_GLOBALE = "B"
PORTEE = ("Cette synthèse porte sur les blocs présentés à cette session. Les blocs validés lors "
          "d'une session antérieure (capitalisés) n'y figurent pas : certidocs les compte dans "
          "les résultats, où la décision peut donc être « Certifié » là où cette feuille "
          "indique « Validation partielle ».")

# --- Synthèse: the jury's visa -----------------------------------------------------------------
#: Below the thresholds, what an evaluation grid carries: the date, each juror's name and a
#: place to sign (unlocked cells). The names are pre-filled from the Jury sheet and may be
#: edited: with several sub-juries, they say who actually evaluated this candidate. The reader
#: reads names and date to record who evaluated (``reader.Visa``), but nothing there is a
#: decision: the visa never makes a grid « Incomplet », and grids without it, sent before,
#: read the same (no cell the reader checks moved).
VISA_TITRE = "Visa du jury"
VISA_HEADERS = ("Date", "Membre du jury", "Signature")
VISA_COL_DATE, VISA_COL_NOM, VISA_COL_SIGNATURE, VISA_COL_FIN = "A", "B", "C", "G"
VISA_LIGNES_MIN = 3
VISA_LIGNES_LUES = 20
"""Rows read below the visa's header: a jury has two or three members and the writer leaves
one row per member (at least :data:`VISA_LIGNES_MIN`); twenty leaves room for names added
below without reading the whole sheet."""

# --- _certidocs: key / value ------------------------------------------------------------------
META_VERSION = "version_mise_en_page"
META_NUMERO = "numero_candidat"
META_NOM = "nom_candidat"
META_PRENOM = "prenom_candidat"
META_SESSION = "session"
META_REFERENTIEL = "referentiel"
META_EMPREINTE = "empreinte_referentiel"
META_BLOCS = "blocs"
META_GENERE_LE = "genere_le"
META_LOGICIEL = "logiciel"
#: The session's unique identifier (``Session.identifiant``); added after layout version 1
#: without moving any cell, so grids without it still read (they are recognised by their
#: password hash).
META_SESSION_ID = "identifiant_session"
META_KEYS = (META_VERSION, META_NUMERO, META_NOM, META_PRENOM, META_SESSION, META_REFERENTIEL,
             META_EMPREINTE, META_BLOCS, META_GENERE_LE, META_LOGICIEL, META_SESSION_ID)
BLOCS_SEPARATOR = ";"

# Names Excel refuses for a sheet, or that our own sheets use (compared without case).
_RESERVED_SHEETS = {s.casefold() for s in (SHEET_CONSIGNES, SHEET_SYNTHESE, SHEET_META,
                                           "History")}
_MAX_SHEET = 31


@dataclass(frozen=True)
class FormulaCell:
    """A formula the writer puts and the reader checks; ``kind`` says what value it yields."""

    sheet: str
    cell: str
    formula: str
    kind: str  # acquis, non_acquis, total, taux, decision_bloc, rappel, *_ensemble, decision
    bloc: str | None = None


@dataclass(frozen=True)
class BlocPlan:
    """Where one presented bloc lives: its sheet, its criteria rows, its Synthèse row."""

    bloc: Bloc
    sheet: str
    synthese_row: int

    @property
    def first_row(self) -> int:
        """Row of the first criterion."""
        return FIRST_ROW

    @property
    def last_row(self) -> int:
        """Row of the last criterion."""
        return FIRST_ROW + len(self.bloc.criteres) - 1

    def range(self, column: str) -> str:
        """The absolute range of the criteria rows in ``column``, qualified by the sheet."""
        return f"{quote_sheet(self.sheet)}!${column}${self.first_row}:${column}${self.last_row}"


@dataclass(frozen=True)
class GridPlan:
    """Every sheet name, row and formula of one candidate's grid."""

    blocs: tuple[BlocPlan, ...]
    mode: str
    seuil_bloc: Fraction
    seuil_certification: Fraction
    all_blocs: bool  # the candidate presents every bloc of the référentiel
    formulas: tuple[FormulaCell, ...]

    @property
    def ensemble_row(self) -> int:
        """Synthèse row adding up every presented bloc."""
        return SYN_FIRST_ROW + len(self.blocs)

    @property
    def decision_row(self) -> int:
        """Synthèse row of the overall decision."""
        return self.ensemble_row + 2

    @property
    def seuils_row(self) -> int:
        """Synthèse row explaining the thresholds."""
        return self.decision_row + 2

    @property
    def visa_row(self) -> int:
        """Synthèse row of the jury's visa title (header below it, then one row per juror)."""
        return self.seuils_row + 3

    @property
    def decision_cell(self) -> str:
        """Synthèse cell holding the overall decision, in the outcome vocabulary."""
        return f"{SYN_COL_DECISION_GLOBALE}{self.decision_row}"

    @property
    def sheet_names(self) -> tuple[str, ...]:
        """Every sheet, in workbook order."""
        return (SHEET_CONSIGNES, *(b.sheet for b in self.blocs), SHEET_SYNTHESE, SHEET_META)


def quote_sheet(name: str) -> str:
    """A sheet name as a formula writes it: always quoted, which both spreadsheets accept."""
    return "'" + name.replace("'", "''") + "'"


def sheet_names(codes: tuple[str, ...]) -> tuple[str, ...]:
    """The sheet name of each bloc: its code, made unique and valid if it has to be.

    Bloc codes may be 32 characters where Excel allows 31, and nothing forbids a bloc coded
    « Synthèse »; such codes are shortened or suffixed, the same way every time.
    """
    used = set(_RESERVED_SHEETS)
    names: list[str] = []
    for code in codes:
        name = code[:_MAX_SHEET]
        n = 1
        while name.casefold() in used:
            n += 1
            suffix = f"~{n}"
            name = code[: _MAX_SHEET - len(suffix)] + suffix
        used.add(name.casefold())
        names.append(name)
    return tuple(names)


def format_seuil(seuil: Fraction) -> str:
    """A threshold as French readers write it: « 70 % », « 66,67 % »."""
    pct = seuil * 100
    if pct.denominator == 1:
        return f"{pct.numerator} %"
    return f"{float(pct):.2f}".rstrip("0").rstrip(".").replace(".", ",") + " %"


def plan_grid(referentiel: Referentiel, blocs: tuple[str, ...]) -> GridPlan:
    """The layout of the grid of a candidate presenting ``blocs`` (in the référentiel's order).

    KeyError names the first code that is not a bloc of the référentiel; ValueError when no
    bloc is presented.
    """
    wanted = list(dict.fromkeys(blocs))
    known = {b.code for b in referentiel.blocs}
    for code in wanted:
        if code not in known:
            raise KeyError(code)
    if not wanted:
        raise ValueError("aucun bloc présenté")
    ordered = tuple(b for b in referentiel.blocs if b.code in set(wanted))
    names = sheet_names(tuple(b.code for b in ordered))
    plans = tuple(BlocPlan(b, name, SYN_FIRST_ROW + i)
                  for i, (b, name) in enumerate(zip(ordered, names, strict=True)))
    regles = referentiel.regles
    plan = GridPlan(plans, regles.mode_decision, seuil_fraction(regles.seuil_bloc),
                    seuil_fraction(regles.seuil_certification),
                    len(plans) == len(referentiel.blocs), ())
    return replace(plan, formulas=_formulas(plan))


def _formulas(plan: GridPlan) -> tuple[FormulaCell, ...]:
    syn = SHEET_SYNTHESE
    cells: list[FormulaCell] = []
    pb = plan.seuil_bloc
    for bp in plan.blocs:
        r = bp.synthese_row
        code = bp.bloc.code
        ev = bp.range(COL_EVALUATION)
        acq, non, tot = f"C{r}", f"D{r}", f"E{r}"
        cells += [
            FormulaCell(syn, acq, f'=COUNTIF({ev},"{ACQUIS}")', "acquis", code),
            FormulaCell(syn, non, f'=COUNTIF({ev},"{NON_ACQUIS}")', "non_acquis", code),
            # Counting the codes rather than writing the number keeps the formula honest if a
            # criteria row were ever removed: the reader reports it either way.
            FormulaCell(syn, tot, f"=COUNTA({bp.range(COL_CODE)})", "total", code),
            FormulaCell(syn, f"F{r}", f"=IF({tot}>0,ROUND({acq}/{tot},4),0)", "taux", code),
            # Blank or invalid cells are neither « Acquis » nor « Non acquis »: Incomplet.
            FormulaCell(syn, f"G{r}",
                        f'=IF({acq}+{non}<{tot},"{BLOC_INCOMPLET}",'
                        f'IF({acq}*{pb.denominator}>={pb.numerator}*{tot},'
                        f'"{BLOC_VALIDE}","{BLOC_NON_VALIDE}"))', "decision_bloc", code),
            FormulaCell(bp.sheet, CELL_BILAN, f"={quote_sheet(syn)}!G{r}", "rappel", code),
        ]
    first, last, t = SYN_FIRST_ROW, plan.ensemble_row - 1, plan.ensemble_row
    for col, kind in (("C", "acquis"), ("D", "non_acquis"), ("E", "total")):
        cells.append(FormulaCell(syn, f"{col}{t}", f"=SUM({col}{first}:{col}{last})",
                                 f"{kind}_ensemble"))
    cells.append(FormulaCell(syn, f"F{t}", f"=IF(E{t}>0,ROUND(C{t}/E{t},4),0)", "taux_ensemble"))
    if plan.mode == "global":
        pc = plan.seuil_certification
        decision = (f'=IF(C{t}+D{t}<E{t},"{INCOMPLET}",'
                    f'IF(C{t}*{pc.denominator}>={pc.numerator}*E{t},'
                    f'"{CERTIFIE}","{NON_CERTIFIE}"))')
    else:
        g = f"G{first}:G{last}"
        valides = f'COUNTIF({g},"{BLOC_VALIDE}")'
        partiel = f'IF({valides}>0,"{VALIDATION_PARTIELLE}","{NON_CERTIFIE}")'
        # A candidate presenting only some blocs cannot be certified by this grid alone: the
        # other blocs, capitalised or not, are outside it (see PORTEE).
        body = f'IF({valides}={len(plan.blocs)},"{CERTIFIE}",{partiel})' if plan.all_blocs \
            else partiel
        decision = f'=IF(COUNTIF({g},"{BLOC_INCOMPLET}")>0,"{INCOMPLET}",{body})'
    cells.append(FormulaCell(syn, plan.decision_cell, decision, "decision"))
    return tuple(cells)


# --- checking -------------------------------------------------------------------------------

_SHEET_QUOTED = re.compile(r"'((?:[^']|'')+)'!")


@functools.lru_cache(maxsize=4096)
def canonical_formula(text: str) -> str:
    """A formula reduced to what it computes, for comparing a grid's formula with ours.

    Spreadsheets rewrite formulas on save without changing them: Excel drops the quotes around
    sheet names that do not need them, LibreOffice may change spacing or the case of function
    names, and newer functions get an ``_xlfn.`` prefix. String literals are kept as they are.
    """
    text = text.strip()
    if text.startswith("="):
        text = text[1:]
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < len(text):
                if text[j] == '"':
                    if j + 1 < len(text) and text[j + 1] == '"':
                        j += 2
                        continue
                    break
                j += 1
            out.append(text[i:j + 1])
            i = j + 1
        elif ch == "'":
            m = _SHEET_QUOTED.match(text, i)
            if m is None:
                out.append(text[i:].upper())
                break
            out.append(m.group(1).replace("''", "'").upper() + "!")
            i = m.end()
        elif ch.isspace():
            i += 1
        else:
            out.append(ch.upper())
            i += 1
    return "".join(out).replace("_XLFN.", "")


def normalise_evaluation(value: object) -> bool | str | None:
    """A juror's evaluation cell read: True « Acquis », False « Non acquis », None empty.

    Case and surrounding spaces are tolerated; anything else (« acquis ✓ », « oui », a number)
    comes back as the text to report.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        folded = text.casefold()
        if folded == ACQUIS.casefold():
            return True
        if folded == NON_ACQUIS.casefold():
            return False
        return value
    return str(value)


@dataclass(frozen=True)
class Attendu:
    """The value a formula cell must show, as certidocs computes it."""

    value: object
    tolerance: float = 0.0  # for rates: ROUND to 4 decimals may differ by half a unit


def expected_values(plan: GridPlan, referentiel: Referentiel, candidat: Candidat,
                    evaluations: dict[str, bool | None]) -> dict[tuple[str, str], Attendu]:
    """What each formula cell must display for these evaluations, computed by certidocs.

    The overall decision comes from :func:`certidocs.rules.resultat_candidat` over the
    presented blocs only, with no capitalised bloc: the grid knows nothing else (see PORTEE).
    """
    seul = replace(candidat, presence="Présent", blocs_presentes=tuple(b.bloc.code
                                                                        for b in plan.blocs))
    resultat = resultat_candidat(referentiel, seul, evaluations)
    counts: dict[str, tuple[int, int, int]] = {}
    decisions: dict[str, str] = {}
    for bp in plan.blocs:
        marks = [evaluations.get(c.code) for c in bp.bloc.criteres]
        acquis = sum(1 for m in marks if m is True)
        non = sum(1 for m in marks if m is False)
        total = len(marks)
        counts[bp.bloc.code] = (acquis, non, total)
        if acquis + non < total:
            decisions[bp.bloc.code] = BLOC_INCOMPLET
        elif seuil_atteint(acquis, total, referentiel.regles.seuil_bloc):
            decisions[bp.bloc.code] = BLOC_VALIDE
        else:
            decisions[bp.bloc.code] = BLOC_NON_VALIDE
    sums = tuple(sum(c[i] for c in counts.values()) for i in range(3))
    out: dict[tuple[str, str], Attendu] = {}
    for fc in plan.formulas:
        if fc.bloc is not None:
            acquis, non, total = counts[fc.bloc]
        else:
            acquis, non, total = sums
        value: object
        tolerance = 0.0
        kind = fc.kind.removesuffix("_ensemble")
        if kind == "acquis":
            value = acquis
        elif kind == "non_acquis":
            value = non
        elif kind == "total":
            value = total
        elif kind == "taux":
            value = acquis / total if total else 0.0
            tolerance = 0.00005 + 1e-9
        elif kind in ("decision_bloc", "rappel"):
            value = decisions[fc.bloc or ""]
        else:
            value = resultat.decision
        out[(fc.sheet, fc.cell)] = Attendu(value, tolerance)
    return out
