"""Write a candidate's protected scoring grid, laid out as :mod:`certidocs.grid.layout` says.

One workbook per candidate: ``Consignes`` (what jurors do), one sheet per presented bloc,
``Synthèse`` (counts, rates and decisions computed by formulas) and the very hidden
``_certidocs`` sheet that identifies the grid for the reader. Every sheet and the workbook
structure are protected with a SHA-512 password hash as Excel writes it (LibreOffice 7.4
enforces the sheets' protection but ignores, and drops on saving, the structure's); only the
evaluation and observation cells are unlocked; formulas are hidden. Protection only deters:
the reader checks everything again.

Speed: a session's grids differ only by the candidate's identity, so :class:`GridWriter`
builds each distinct workbook (one per set of blocs presented) once with openpyxl, with
placeholders where the identity goes, and writes every grid by substituting them in the saved
XML — a few milliseconds a grid instead of fifty.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import secrets
import struct
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from certidocs.errors import GrilleError
from certidocs.grid import layout as L
from certidocs.model import (
    CERTIFIE,
    INCOMPLET,
    NON_CERTIFIE,
    VALIDATION_PARTIELLE,
    Candidat,
    Referentiel,
    SessionInfo,
)
from certidocs.xlsxsafe import set_value

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

SPIN_COUNT = 100_000
ALGORITHM = "SHA-512"


def excel_password_hash(password: str, salt: bytes, spin_count: int = SPIN_COUNT) -> bytes:
    """The ECMA-376 « agile » password hash Excel stores in ``sheetProtection``.

    H0 = SHA-512(salt + password in UTF-16LE), then Hn = SHA-512(Hn-1 + n as 4-byte little
    endian) for n from 0 to spin_count - 1 (the iterator is appended, as Excel and LibreOffice
    do for sheet protection; file encryption prepends it).
    """
    digest = hashlib.sha512(salt + password.encode("utf-16-le")).digest()
    pack = struct.Struct("<I").pack
    sha512 = hashlib.sha512
    for n in range(spin_count):
        digest = sha512(digest + pack(n)).digest()
    return digest


@dataclass(frozen=True)
class ProtectionHash:
    """A sheet-protection password, hashed once and reused for every sheet of every grid.

    100,000 rounds of SHA-512 cost about a tenth of a second: computing them once per session
    instead of once per sheet is what keeps a thousand grids fast. The password itself is
    never written in a grid.
    """

    salt: str  # base64, as in the file
    hash: str  # base64, as in the file
    spin_count: int = SPIN_COUNT
    algorithm: str = ALGORITHM

    @classmethod
    def from_password(cls, password: str, *, salt: bytes | None = None,
                      spin_count: int = SPIN_COUNT) -> ProtectionHash:
        """Hash ``password`` with a fresh random 16-byte salt (or the given one)."""
        if not password:
            raise ValueError("empty password")
        salt = secrets.token_bytes(16) if salt is None else salt
        digest = excel_password_hash(password, salt, spin_count)
        return cls(base64.b64encode(salt).decode("ascii"),
                   base64.b64encode(digest).decode("ascii"), spin_count)

    def matches(self, password: str) -> bool:
        """Whether ``password`` is the one this hash was made from."""
        digest = excel_password_hash(password, base64.b64decode(self.salt), self.spin_count)
        return secrets.compare_digest(base64.b64encode(digest).decode("ascii"), self.hash)


# --- file names -------------------------------------------------------------------------------

_RESERVED_WINDOWS = {"CON", "PRN", "AUX", "NUL", "CLOCK$", "CONIN$", "CONOUT$",
                     *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
_NOT_SAFE = re.compile(r"[^A-Za-z0-9]+")
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ø": "o",
                            "Ø": "O", "đ": "d", "Đ": "D", "ł": "l", "Ł": "L"})
_MAX_PART = 40


def _ascii_part(text: str) -> str:
    """``text`` folded to ASCII letters and digits, other runs of characters becoming « - »."""
    folded = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _NOT_SAFE.sub("-", folded).strip("-")[:_MAX_PART].strip("-")


def grid_filename(candidat: Candidat) -> str:
    """``<N°>_<NOM>_<Prénom>.xlsx``, safe on every file system (Windows included).

    Accents are folded to ASCII, anything but letters and digits becomes « - » (so no path
    separator, no « .. », no control character), each part is bounded to 40 characters, and a
    name Windows reserves (CON, NUL, COM1…) gets a leading « _ ». The candidate's number comes
    first so that two homonyms never share a file.
    """
    numero = _ascii_part(candidat.numero) or "sans-numero"
    nom = _ascii_part(candidat.nom).upper() or "SANS-NOM"
    prenom = _ascii_part(candidat.prenom) or "sans-prenom"
    stem = f"{numero}_{nom}_{prenom}"
    if stem.split(".")[0].upper() in _RESERVED_WINDOWS:
        stem = "_" + stem
    return f"{stem}.xlsx"


# --- styles -----------------------------------------------------------------------------------

_GREEN, _RED, _GREY, _ORANGE = "C6EFCE", "FFC7CE", "E7E6E6", "FFEB9C"
_HEADER_FILL = "1F4E78"


class _Styles:
    """Named styles registered once per workbook: cells then only point at them.

    Assigning fonts, fills and borders cell by cell makes openpyxl hash and look up each object
    for every cell; a named style is looked up once, which is most of the writing time saved.
    """

    def __init__(self, wb: Workbook) -> None:
        from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Protection
        from openpyxl.styles.borders import Side

        thin = Side(style="thin", color="808080")
        box = Border(left=thin, right=thin, top=thin, bottom=thin)
        top_wrap = Alignment(vertical="top", wrap_text=True)
        locked = Protection(locked=True, hidden=False)
        hidden = Protection(locked=True, hidden=True)
        unlocked = Protection(locked=False, hidden=False)

        def add(name: str, **kw: Any) -> str:
            kw.setdefault("protection", locked)
            wb.add_named_style(NamedStyle(name=name, **kw))
            return name

        self.title = add("cd_titre", font=Font(bold=True, size=14, color=_HEADER_FILL))
        self.subtitle = add("cd_sous_titre", font=Font(italic=True, size=11))
        self.text = add("cd_texte", alignment=top_wrap)
        self.bold = add("cd_gras", font=Font(bold=True), alignment=top_wrap)
        self.header = add("cd_entete", font=Font(bold=True, color="FFFFFF"),
                          fill=PatternFill("solid", fgColor=_HEADER_FILL), border=box,
                          alignment=Alignment(horizontal="center", vertical="center",
                                              wrap_text=True))
        self.cell = add("cd_cellule", border=box, alignment=top_wrap)
        self.code = add("cd_code", border=box, font=Font(bold=True), alignment=top_wrap)
        self.evaluation = add("cd_evaluation", border=box, protection=unlocked,
                              font=Font(bold=True),
                              alignment=Alignment(horizontal="center", vertical="top"))
        self.observation = add("cd_observation", border=box, protection=unlocked,
                               alignment=top_wrap)
        self.formula = add("cd_formule", border=box, protection=hidden,
                           alignment=Alignment(horizontal="center", vertical="top"))
        self.percent = add("cd_taux", border=box, protection=hidden, number_format="0.00%",
                           alignment=Alignment(horizontal="center", vertical="top"))
        self.decision = add("cd_decision", border=box, protection=hidden,
                            font=Font(bold=True, size=12),
                            alignment=Alignment(horizontal="center", vertical="center"))


class _Formats:
    """Conditional formats, their fills made once per workbook and shared by every rule.

    openpyxl looks each rule's style up in the workbook's list by equality; sharing the very
    same objects makes that lookup an identity check.
    """

    def __init__(self) -> None:
        from openpyxl.styles import PatternFill
        from openpyxl.styles.differential import DifferentialStyle

        def dxf(color: str) -> DifferentialStyle:
            return DifferentialStyle(fill=PatternFill("solid", fgColor=color, bgColor=color))

        self.green, self.red, self.grey, self.orange = (dxf(c) for c in (_GREEN, _RED, _GREY,
                                                                           _ORANGE))

    def _equal(self, ws: Worksheet, ref: str, pairs: tuple[tuple[str, Any], ...]) -> None:
        from openpyxl.formatting.rule import Rule

        for word, style in pairs:
            ws.conditional_formatting.add(
                ref, Rule(type="cellIs", operator="equal", formula=[f'"{word}"'], dxf=style))

    def evaluations(self, ws: Worksheet, ref: str) -> None:
        """Acquis green, Non acquis red, empty grey."""
        from openpyxl.formatting.rule import Rule

        self._equal(ws, ref, ((L.ACQUIS, self.green), (L.NON_ACQUIS, self.red)))
        top_left = ref.split(":")[0]
        ws.conditional_formatting.add(
            ref, Rule(type="containsBlanks", formula=[f"LEN(TRIM({top_left}))=0"],
                      dxf=self.grey))

    def decisions(self, ws: Worksheet, ref: str) -> None:
        """Green for what validates, red for what fails, orange partial, grey incomplete."""
        self._equal(ws, ref, ((L.BLOC_VALIDE, self.green), (CERTIFIE, self.green),
                              (L.BLOC_NON_VALIDE, self.red), (NON_CERTIFIE, self.red),
                              (VALIDATION_PARTIELLE, self.orange), (INCOMPLET, self.grey)))

    def bloc_decision(self, ws: Worksheet, ref: str) -> None:
        """A bloc's decision only: Validé, Non validé, Incomplet."""
        self._equal(ws, ref, ((L.BLOC_VALIDE, self.green), (L.BLOC_NON_VALIDE, self.red),
                              (INCOMPLET, self.grey)))


def _protect(ws: Worksheet, protection: ProtectionHash) -> None:
    """Protect ``ws``: nothing but the unlocked cells can change; rows and columns resize."""
    from openpyxl.worksheet.protection import SheetProtection

    ws.protection = SheetProtection(
        sheet=True, objects=True, scenarios=True, formatRows=False, formatColumns=False,
        algorithmName=protection.algorithm, hashValue=protection.hash,
        saltValue=protection.salt, spinCount=protection.spin_count)


def _print_setup(ws: Worksheet, footer: str, title_rows: str | None) -> None:
    """A4 landscape, one page wide, header rows repeated, candidate and page in the footer."""
    from certidocs.impression import mise_en_page

    mise_en_page(ws, paysage=True, lignes_titre=title_rows, pied=footer)


OBSERVATION_LIGNES = 3
"""Criterion rows are at least three lines high: room to write observations on paper."""


def _widths(ws: Worksheet, widths: dict[str, int]) -> None:
    for col, width in widths.items():
        ws.column_dimensions[col].width = width


def _date_fr(value: Any) -> str:
    return value.strftime("%d/%m/%Y") if value is not None else ""


@dataclass(frozen=True)
class _Who:
    """What a grid says about its candidate: the only part that changes from grid to grid."""

    numero: str
    nom: str
    prenom: str
    identite: str  # « N° 12 — DUPONT Marie », in cells
    pied: str  # the same in page footers, where « & » is a control character
    voie: str
    genere_le: str

    @classmethod
    def of(cls, candidat: Candidat) -> _Who:
        """The real values for ``candidat``."""
        numero, nom, prenom, voie = (_clean(v).strip() for v in (
            candidat.numero, candidat.nom, candidat.prenom, candidat.voie_acces))
        identite = f"N° {numero} — {nom.upper()} {prenom}".strip()
        return cls(numero, nom, prenom, identite, identite.replace("&", "&&"), voie,
                   datetime.now().replace(microsecond=0).isoformat())


# Placeholders in the template workbook: plain ASCII letters, which neither XML escaping nor
# footer escaping nor upper-casing alters, and that no référentiel text contains.
_TOKENS = _Who(*(f"QQCD{name.upper()}QQ" for name in _Who.__dataclass_fields__))
_TOKEN_RE = re.compile(b"|".join(re.escape(getattr(_TOKENS, n).encode("ascii"))
                                 for n in _Who.__dataclass_fields__))
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    """``text`` without the control characters XML cannot hold."""
    return _ILLEGAL_XML.sub("", text)


def _xml_text(text: str) -> bytes:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode("utf-8")


# --- sheets -----------------------------------------------------------------------------------


def _consignes(ws: Worksheet, st: _Styles, plan: L.GridPlan, referentiel: Referentiel,
               session_nom: str, info: SessionInfo, who: _Who, organisme: str) -> None:
    cert = referentiel.certification
    lines: list[tuple[str, str]] = [(f"Grille d'évaluation — {cert.intitule}", st.title)]
    if organisme:
        lines.append((organisme, st.subtitle))
    lines.append(("", st.text))
    when = " au ".join(d for d in (_date_fr(info.date_debut), _date_fr(info.date_fin)) if d)
    where = ", ".join(p for p in (info.lieu, info.adresse) if p)
    lines += [
        (f"Candidat : {who.identite}", st.bold),
        (f"Voie d'accès : {who.voie}", st.text),
        (f"Session : {session_nom}" + (f" — {info.intitule}" if info.intitule else ""), st.text),
    ]
    if when:
        lines.append((f"Dates : {when}", st.text))
    if where:
        lines.append((f"Lieu : {where}", st.text))
    if info.responsable:
        lines.append((f"Responsable de session : {info.responsable}", st.text))
    lines.append((f"Référentiel : {cert.code} — {cert.intitule}", st.text))
    lines += [("", st.text), ("Blocs évalués dans cette grille", st.bold)]
    lines += [(f"• onglet « {bp.sheet} » : {bp.bloc.code} — {bp.bloc.intitule}", st.text)
              for bp in plan.blocs]
    seuil = f"au moins {L.format_seuil(plan.seuil_bloc)} de ses critères sont « Acquis »"
    regle = f"Un bloc est validé quand {seuil}."
    if plan.mode == "global":
        regle += (" La certification est accordée quand au moins "
                  f"{L.format_seuil(plan.seuil_certification)} de l'ensemble des critères "
                  "sont « Acquis ».")
    lines += [
        ("", st.text),
        ("Comment remplir la grille", st.bold),
        ("1. Ouvrez l'onglet de chaque bloc (en bas de la fenêtre).", st.text),
        ("2. Pour chaque critère, choisissez « Acquis » ou « Non acquis » dans la liste "
         "déroulante de la colonne « Évaluation ». Aucune autre valeur n'est acceptée.", st.text),
        ("3. Notez vos observations dans la colonne « Observations » : elles sont reprises "
         "sur la fiche de résultats du candidat et au procès-verbal, et servent en cas de "
         "recours.", st.text),
        ("4. L'onglet « Synthèse » compte les critères acquis et donne le taux et la décision ; "
         "il affiche « Incomplet » tant qu'un critère n'est pas évalué.", st.text),
        (f"5. {regle}", st.text),
        ("6. Les feuilles sont protégées : seules les colonnes « Évaluation » et "
         "« Observations » sont modifiables. N'ajoutez, ne supprimez et ne renommez ni ligne ni "
         "feuille, ne collez pas de cellules venant d'une autre grille : la grille serait "
         "refusée à la lecture.", st.text),
        ("7. Dans l'onglet « Synthèse », le « Visa du jury » : la date de l'évaluation et la "
         "signature de chaque membre du jury (noms repris de la session, modifiables).",
         st.text),
        ("8. Enregistrez le fichier au format Excel (.xlsx) sans changer son nom, puis "
         "renvoyez-le au responsable de session.", st.text),
    ]
    if referentiel.informations_jury or referentiel.qualites_non_observables:
        lines += [("", st.text), ("À savoir", st.bold)]
        lines += [(f"• {t}", st.text) for t in referentiel.informations_jury]
        lines += [(f"• Qualité non observable par le jury : {t}", st.text)
                  for t in referentiel.qualites_non_observables]
    from certidocs.impression import hauteur_ligne

    for row, (text, style) in enumerate(lines, start=1):
        # Texts come from the session, the settings and the référentiel: data, never formulas.
        set_value(ws.cell(row=row, column=1), text or None).style = style
        if len(text) > 100:  # wrapped: without a height, printed lines overlap the next
            ws.row_dimensions[row].height = hauteur_ligne([(text, 110)])
    ws.column_dimensions["A"].width = 110
    ws.sheet_view.showGridLines = False


def _bloc_sheet(ws: Worksheet, st: _Styles, fmt: _Formats, bp: L.BlocPlan, who: _Who,
                session_nom: str, choix: Any) -> None:
    bloc = bp.bloc
    set_value(ws.cell(L.ROW_TITLE, 1), f"{bloc.code} — {bloc.intitule}").style = st.title
    set_value(ws.cell(L.ROW_CANDIDAT, 1),
              f"Candidat : {who.identite}    Session : {session_nom}").style = st.subtitle
    ws[L.CELL_BILAN_LABEL] = "Décision pour ce bloc :"
    ws[L.CELL_BILAN_LABEL].style = st.bold
    for col, text in enumerate(L.BLOC_HEADERS, start=1):
        ws.cell(L.ROW_HEADER, col, text).style = st.header
    from certidocs.impression import hauteur_ligne

    widths = L.BLOC_WIDTHS
    for row, critere in enumerate(bloc.criteres, start=bp.first_row):
        competences = ", ".join(critere.competences)
        set_value(ws.cell(row, 1), critere.code).style = st.code
        set_value(ws.cell(row, 2), competences).style = st.cell
        set_value(ws.cell(row, 3), critere.libelle).style = st.cell
        ws.cell(row, 4).style = st.evaluation
        ws.cell(row, 5).style = st.observation
        ws.row_dimensions[row].height = hauteur_ligne(
            [(critere.code, widths["A"]), (competences, widths["B"]),
             (critere.libelle, widths["C"])], minimum_lignes=OBSERVATION_LIGNES)
    evaluations = f"{L.COL_EVALUATION}{bp.first_row}:{L.COL_EVALUATION}{bp.last_row}"
    choix.add(evaluations)
    ws.add_data_validation(choix)
    fmt.evaluations(ws, evaluations)
    fmt.bloc_decision(ws, L.CELL_BILAN)
    _widths(ws, L.BLOC_WIDTHS)
    ws.row_dimensions[L.ROW_HEADER].height = 30
    ws.freeze_panes = f"A{bp.first_row}"


def _synthese(ws: Worksheet, st: _Styles, fmt: _Formats, plan: L.GridPlan, who: _Who,
              session_nom: str, jures: tuple[str, ...] = ()) -> None:
    ws.cell(L.SYN_ROW_TITLE, 1, "Synthèse des évaluations").style = st.title
    set_value(ws.cell(L.SYN_ROW_CANDIDAT, 1),
              f"Candidat : {who.identite}    Session : {session_nom}").style = st.subtitle
    from certidocs.impression import hauteur_ligne

    ws.cell(L.SYN_ROW_PORTEE, 1, L.PORTEE).style = st.text
    ws.merge_cells(start_row=L.SYN_ROW_PORTEE, start_column=1, end_row=L.SYN_ROW_PORTEE,
                   end_column=len(L.SYN_HEADERS))
    ws.row_dimensions[L.SYN_ROW_PORTEE].height = hauteur_ligne(
        [(L.PORTEE, sum(L.SYN_WIDTHS.values()))])
    for col, text in enumerate(L.SYN_HEADERS, start=1):
        ws.cell(L.SYN_ROW_HEADER, col, text).style = st.header
    for bp in plan.blocs:
        set_value(ws.cell(bp.synthese_row, 1), bp.bloc.code).style = st.code
        set_value(ws.cell(bp.synthese_row, 2), bp.bloc.intitule).style = st.cell
        ws.row_dimensions[bp.synthese_row].height = hauteur_ligne(
            [(bp.bloc.intitule, L.SYN_WIDTHS["B"])])
    t = plan.ensemble_row
    ws.cell(t, 1, "Ensemble").style = st.code
    ws.cell(t, 2, "Tous les blocs présentés").style = st.bold
    ws.cell(plan.decision_row, 1, "Décision").style = st.title
    styles = {"taux": st.percent, "decision_bloc": st.decision, "decision": st.decision}
    for fc in plan.formulas:
        if fc.sheet == L.SHEET_SYNTHESE:
            ws[fc.cell] = fc.formula
            ws[fc.cell].style = styles.get(fc.kind.removesuffix("_ensemble"), st.formula)
    seuils = [f"Un bloc est validé quand au moins {L.format_seuil(plan.seuil_bloc)} de ses "
              "critères sont « Acquis »."]
    if plan.mode == "global":
        seuils.append(f"La certification est accordée quand au moins "
                      f"{L.format_seuil(plan.seuil_certification)} de l'ensemble des critères "
                      "présentés sont « Acquis ».")
    else:
        seuils.append("La certification est accordée quand tous les blocs du référentiel sont "
                      "validés ; quelques blocs validés donnent une validation partielle.")
    for i, text in enumerate(seuils):
        ws.cell(plan.seuils_row + i, 1, text).style = st.subtitle
    ws.row_dimensions[plan.decision_row].height = 24
    fmt.decisions(ws, f"G{L.SYN_FIRST_ROW}:G{plan.ensemble_row - 1} {plan.decision_cell}")
    _visa(ws, st, plan, jures)
    _widths(ws, L.SYN_WIDTHS)
    ws.freeze_panes = f"A{L.SYN_FIRST_ROW}"


def _visa(ws: Worksheet, st: _Styles, plan: L.GridPlan, jures: tuple[str, ...]) -> None:
    """The jury's visa: date, each juror's name (from the Jury sheet, editable) and signature,
    in unlocked cells; the reader records the names as who evaluated the grid, never as a
    reason to hold it « Incomplet »."""
    from openpyxl.utils import column_index_from_string

    row = plan.visa_row
    ws.cell(row, 1, L.VISA_TITRE).style = st.bold
    first = column_index_from_string(L.VISA_COL_SIGNATURE)
    last = column_index_from_string(L.VISA_COL_FIN)
    header = row + 1
    for letter, text in zip((L.VISA_COL_DATE, L.VISA_COL_NOM, L.VISA_COL_SIGNATURE),
                            L.VISA_HEADERS, strict=True):
        ws[f"{letter}{header}"] = text
        ws[f"{letter}{header}"].style = st.header
    for index in range(first + 1, last + 1):
        ws.cell(header, index).style = st.header
    ws.merge_cells(start_row=header, start_column=first, end_row=header, end_column=last)
    names = list(jures) + [""] * max(0, L.VISA_LIGNES_MIN - len(jures))
    for i, name in enumerate(names, start=header + 1):
        ws[f"{L.VISA_COL_DATE}{i}"].style = st.observation
        set_value(ws[f"{L.VISA_COL_NOM}{i}"], _clean(name) or None).style = st.observation
        for index in range(first, last + 1):
            ws.cell(i, index).style = st.observation
        ws.merge_cells(start_row=i, start_column=first, end_row=i, end_column=last)
        ws.row_dimensions[i].height = 36


def _meta(ws: Worksheet, referentiel: Referentiel, session_nom: str, who: _Who,
          plan: L.GridPlan, session_id: str) -> None:
    from certidocs import __version__

    values = {
        L.META_VERSION: L.LAYOUT_VERSION,
        L.META_NUMERO: who.numero,
        L.META_NOM: who.nom,
        L.META_PRENOM: who.prenom,
        L.META_SESSION: session_nom,
        L.META_REFERENTIEL: referentiel.code,
        L.META_EMPREINTE: referentiel.empreinte(),
        L.META_BLOCS: L.BLOCS_SEPARATOR.join(bp.bloc.code for bp in plan.blocs),
        L.META_GENERE_LE: who.genere_le,
        L.META_LOGICIEL: f"certidocs {__version__}",
        L.META_SESSION_ID: session_id,
    }
    for row, key in enumerate(L.META_KEYS, start=1):
        ws.cell(row, 1, key)
        # A session folder named « =1+1 » must read back as that name, not as a formula.
        set_value(ws.cell(row, 2), values[key])
    for i, word in enumerate(L.CHOIX):
        ws[f"{L.CHOIX_COLUMN}{L.CHOIX_FIRST_ROW + i}"] = word
    ws.sheet_state = "veryHidden"


def _build_workbook(plan: L.GridPlan, who: _Who, *, referentiel: Referentiel, session_nom: str,
                    session_info: SessionInfo, protection: ProtectionHash,
                    organisme: str, session_id: str = "",
                    jures: tuple[str, ...] = ()) -> Workbook:
    """The grid as an openpyxl workbook for ``who`` (real values or placeholders)."""
    from openpyxl import Workbook
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.workbook.protection import WorkbookProtection
    from openpyxl.worksheet.datavalidation import DataValidation

    session_nom = _clean(session_nom)
    wb = Workbook()
    st = _Styles(wb)
    fmt = _Formats()
    footer = f"{who.pied} — session {session_nom.replace('&', '&&')}"
    consignes = wb.active
    consignes.title = L.SHEET_CONSIGNES
    _consignes(consignes, st, plan, referentiel, session_nom, session_info, who, organisme)
    _print_setup(consignes, footer, None)
    for bp in plan.blocs:
        ws = wb.create_sheet(bp.sheet)
        choix = DataValidation(
            type="list", formula1=L.NOM_CHOIX, allow_blank=True, showDropDown=False,
            showErrorMessage=True, errorStyle="stop", errorTitle="Valeur non acceptée",
            error="Choisissez « Acquis » ou « Non acquis » dans la liste.",
            showInputMessage=True, promptTitle="Évaluation",
            prompt="Choisissez « Acquis » ou « Non acquis ».")
        _bloc_sheet(ws, st, fmt, bp, who, session_nom, choix)
        _print_setup(ws, footer, f"{L.ROW_HEADER}:{L.ROW_HEADER}")
    synthese = wb.create_sheet(L.SHEET_SYNTHESE)
    _synthese(synthese, st, fmt, plan, who, session_nom, jures)
    _print_setup(synthese, footer, None)
    for fc in plan.formulas:
        if fc.sheet != L.SHEET_SYNTHESE:
            wb[fc.sheet][fc.cell] = fc.formula
            wb[fc.sheet][fc.cell].style = st.decision
    meta = wb.create_sheet(L.SHEET_META)
    _meta(meta, referentiel, session_nom, who, plan, _clean(session_id))
    for ws in wb.worksheets:
        _protect(ws, protection)
    wb.defined_names[L.NOM_CHOIX] = DefinedName(L.NOM_CHOIX, attr_text=L.CHOIX_REF)
    wb.security = WorkbookProtection(
        lockStructure=True, workbookAlgorithmName=protection.algorithm,
        workbookHashValue=protection.hash, workbookSaltValue=protection.salt,
        workbookSpinCount=protection.spin_count)
    # openpyxl writes no computed values: ask Excel to compute everything when it opens.
    wb.calculation.fullCalcOnLoad = True
    wb.properties.creator = "certidocs"
    wb.properties.title = f"Grille d'évaluation — {who.identite}"
    wb.active = 0
    return wb


# --- writing ----------------------------------------------------------------------------------


class _Template:
    """A grid saved once with placeholders; each candidate's grid is a text substitution.

    Building and saving a workbook with openpyxl takes some 50 ms; substituting the
    candidate's identity in the saved XML takes a few, which is what makes a thousand grids
    take seconds. The parts of the file without placeholders are kept as they are.
    """

    def __init__(self, data: bytes) -> None:
        import io
        import zipfile

        self.entries: list[tuple[zipfile.ZipInfo, bytes, bool]] = []
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                content = zf.read(info)
                self.entries.append((info, content, _TOKEN_RE.search(content) is not None))

    def render(self, who: _Who) -> bytes:
        """The grid of ``who``: the template with every placeholder replaced."""
        import io
        import zipfile

        values = {getattr(_TOKENS, name).encode("ascii"): _xml_text(getattr(who, name))
                  for name in _Who.__dataclass_fields__}

        def value(match: re.Match[bytes]) -> bytes:
            return values[match.group()]

        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            for info, content, templated in self.entries:
                if templated:
                    # One pass: a substituted value is never scanned again for placeholders.
                    content = _TOKEN_RE.sub(value, content)
                zf.writestr(info, content, compress_type=zipfile.ZIP_DEFLATED)
        return out.getvalue()


class GridWriter:
    """Writes the grids of one session, building the workbook once per set of blocs.

    ``protection`` is computed once per session (:meth:`ProtectionHash.from_password`) and
    reused for every sheet of every grid; ``session_id`` is the session's identifier
    (``Session.identifiant``), which the reader compares; ``jures`` the jurors' names printed
    in the visa of the Synthèse sheet.
    """

    def __init__(self, *, referentiel: Referentiel, session_nom: str, session_info: SessionInfo,
                 protection: ProtectionHash, organisme: str = "", session_id: str = "",
                 jures: tuple[str, ...] = ()) -> None:
        self.session_id = session_id
        self.jures = jures
        self.referentiel = referentiel
        self.session_nom = session_nom
        self.session_info = session_info
        self.protection = protection
        self.organisme = organisme
        self._templates: dict[tuple[str, ...], _Template] = {}

    def _plan(self, candidat: Candidat, blocs: tuple[str, ...]) -> L.GridPlan:
        try:
            return L.plan_grid(self.referentiel, blocs)
        except KeyError as exc:
            raise GrilleError(f"candidat n° {candidat.numero} : le bloc « {exc.args[0]} » "
                              f"n'existe pas dans le référentiel {self.referentiel.code}"
                              ) from None
        except ValueError:
            raise GrilleError(f"candidat n° {candidat.numero} : aucun bloc présenté, pas de "
                              "grille à produire") from None

    def workbook(self, candidat: Candidat, blocs: tuple[str, ...]) -> Workbook:
        """The grid of ``candidat`` as an openpyxl workbook (slow path, for inspection)."""
        return _build_workbook(self._plan(candidat, blocs), _Who.of(candidat),
                               referentiel=self.referentiel, session_nom=self.session_nom,
                               session_info=self.session_info, protection=self.protection,
                               organisme=self.organisme, session_id=self.session_id,
                               jures=self.jures)

    def render(self, candidat: Candidat, blocs: tuple[str, ...]) -> bytes:
        """The .xlsx bytes of the grid of ``candidat`` presenting ``blocs``."""
        plan = self._plan(candidat, blocs)
        key = tuple(bp.bloc.code for bp in plan.blocs)
        template = self._templates.get(key)
        if template is None:
            import io

            from openpyxl.utils.exceptions import IllegalCharacterError

            try:
                wb = _build_workbook(plan, _TOKENS, referentiel=self.referentiel,
                                     session_nom=self.session_nom,
                                     session_info=self.session_info,
                                     protection=self.protection, organisme=self.organisme,
                                     session_id=self.session_id, jures=self.jures)
            except IllegalCharacterError:
                raise GrilleError(f"référentiel {self.referentiel.code} : un texte contient un "
                                  "caractère de contrôle qu'un classeur ne peut pas contenir ; "
                                  "corrigez le référentiel") from None
            buffer = io.BytesIO()
            wb.save(buffer)
            template = self._templates[key] = _Template(buffer.getvalue())
        return template.render(_Who.of(candidat))

    def write(self, path: Path, candidat: Candidat, blocs: tuple[str, ...]) -> None:
        """Write the grid of ``candidat`` to ``path`` atomically.

        GrilleError when a bloc is unknown, when ``path`` already holds a grid with input (or
        a file that cannot be read as a grid: it might hold input), or when the file cannot
        be written.
        """
        from certidocs.fileio import atomic_path
        from certidocs.grid.reader import grid_has_input

        data = self.render(candidat, blocs)
        if path.exists() and grid_has_input(path):
            raise GrilleError(f"{path} : cette grille contient déjà des évaluations ou n'est "
                              "pas lisible ; elle n'est pas remplacée")
        try:
            with atomic_path(path) as tmp:
                tmp.write_bytes(data)
        except OSError as exc:
            raise GrilleError(f"{path} : écriture impossible ({exc.strerror})") from None


@functools.lru_cache(maxsize=4)
def _writer(referentiel: Referentiel, session_nom: str, session_info: SessionInfo,
            protection: ProtectionHash, organisme: str, session_id: str,
            jures: tuple[str, ...] = ()) -> GridWriter:
    return GridWriter(referentiel=referentiel, session_nom=session_nom,
                      session_info=session_info, protection=protection, organisme=organisme,
                      session_id=session_id, jures=jures)


def write_grid(path: Path, *, referentiel: Referentiel, session_nom: str,
               session_info: SessionInfo, candidat: Candidat, blocs: tuple[str, ...],
               protection: ProtectionHash, organisme: str = "", session_id: str = "",
               jures: tuple[str, ...] = ()) -> None:
    """Write the grid of ``candidat`` presenting ``blocs`` to ``path`` atomically.

    ``blocs`` are the codes of the blocs presented (``candidat.blocs(referentiel)``). Calls
    with the same session share one :class:`GridWriter`, so the workbook is built once per
    set of blocs. GrilleError as :meth:`GridWriter.write` says.
    """
    _writer(referentiel, session_nom, session_info, protection, organisme, session_id,
            jures).write(path, candidat, blocs)
