"""Interpret a référentiel table (rows of cells from a Word document or a text export).

The table is the one certifiers submit to France Compétences: activités | compétences |
[compétences évaluées |] modalités d'évaluation | critères, header rows repeated on every page,
bloc title rows (« Bloc de compétences 1 : … », « BLOC : … ») or title lines between tables.

The rules below are the ones the five seed référentiels need; each one is general (a shape of
table, never a particular file) and each guess it makes becomes an ``a_verifier`` note:

- a cell whose first paragraph starts in lower case while the same column's previous text stops
  mid-sentence continues that text (a row cut by a page break): the two are joined with a space;
- a row whose first cell is empty, right after a repeated header or continuing a text, is the
  rest of the previous row (same compétences, same heading); otherwise an empty compétences
  cell means the cell above was merged over this row;
- criteria are linked, in this order, by their own number (C3.2 → C3), by an « En relation avec
  les compétences … » line, by the « compétences évaluées » column, or to the compétences of
  their row;
- a paragraph ending with « : » followed by criteria is their ``groupe``: an unmarked paragraph
  heads the criteria of its row, a list item heads the following items until the next heading;
- codes that restart in every bloc (C1, C1.1 …) are prefixed with the bloc code; missing codes
  are generated as FORMAT.md says.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from certidocs.errors import ImportErreur
from certidocs.referentiel.importers.common import (
    Block,
    Cell,
    Draft,
    DraftBloc,
    DraftCompetence,
    DraftCritere,
    Item,
    Para,
    Row,
    fold_accents,
    is_unfinished,
    starts_lowercase,
)

ACT, COMP, EVAL, MOD, CRIT = "activites", "competences", "evaluees", "modalites", "criteres"
_POSITIONAL = {4: [ACT, COMP, MOD, CRIT], 5: [ACT, COMP, EVAL, MOD, CRIT]}
_COLUMNS_FR = ("4 colonnes (activités, compétences, modalités d'évaluation, critères) ou 5 "
               "(avec « compétences évaluées »)")

_BLOC_TITLE = re.compile(
    r"^bloc(?:\s+de\s+comp[ée]tences?)?(?:\s*(?:n\s*[°o]|num[ée]ro)\.?)?\s*(\d{1,2})?"
    r"\s*[:.–-]\s*(\S.*)$", re.IGNORECASE)
_BLOC_OFFICIAL = re.compile(r"^(RNCP\d{3,6})?BC\s?(\d{1,2})\s*[:.–-]\s*(\S.*)$", re.IGNORECASE)
_ACTIVITE = re.compile(r"^activit[ée]\s*(?:n\s*[°o]\.?\s*)?(\d{1,2})\s*:\s*(\S.*)$",
                       re.IGNORECASE)
_HEADER = re.compile(r"^(REFERENTIEL|ACTIVITES?|COMPETENCES?|MODALITES?|CRITERES?|EVALUATION|"
                     r"CERTIFICATION)\b")
_SEPARATOR = re.compile(r"^[-–—=_|:+\s]*$")
_CODE_AT_START = re.compile(
    r"^(?P<code>(?P<prefix>[A-Z]{1,2}\.?)?\d{1,3}(?:\.\d{1,3}){0,5})"
    r"(?P<sep>\.?\s*:\s*|\.?\s+[-–]\s+|\.\s+|\s+)(?=\S)")
_CODE_ANYWHERE = re.compile(r"(?<![\w.])(?:[A-Z]{1,2}\.?)?\d{1,3}(?:\.\d{1,3})+(?![\w])|"
                            r"(?<![\w.])[A-Z]{1,2}\.?\d{1,3}(?![\w.])")
_RELATION = re.compile(r"^en\s+relation\s+avec\s+(.*)$", re.IGNORECASE)
_QUALITES = re.compile(r"^les\s+qualit[ée]s\s+non\s+observables", re.IGNORECASE)
_LIVRABLES = re.compile(r"livrable|production|comprenant|produire", re.IGNORECASE)


@dataclass(frozen=True)
class _Style:
    """The code shapes a column uses at the start of its items: prefix -> smallest depth."""

    prefixes: dict[str, int]

    def split(self, text: str) -> tuple[str | None, str]:
        """(code, rest) when ``text`` starts with a code of this style, else (None, text)."""
        match = _CODE_AT_START.match(text)
        if not match or not _plausible(match):
            return None, text
        prefix = match.group("prefix") or ""
        code = match.group("code")
        if prefix not in self.prefixes or _depth(code) < self.prefixes[prefix]:
            return None, text
        return code, text[match.end():]

    def expand(self, blocks: Iterable[Block]) -> list[Block]:
        """Blocks cut before every code of this style found inside their text."""
        out: list[Block] = []
        for block in blocks:
            cuts = [m.start() for m in self._inline().finditer(block.text) if m.start() > 0]
            if not cuts:
                out.append(block)
                continue
            starts = [0, *cuts, len(block.text)]
            for a, b in itertools.pairwise(starts):
                piece = block.text[a:b].strip()
                if piece:
                    out.append(Block(piece, block.marker if a == 0 else None, block.level,
                                     block.kind, block.bold))
        return out

    def _inline(self) -> re.Pattern[str]:
        alternatives = []
        for prefix, depth in self.prefixes.items():
            # ``depth`` numbers: the first, then ``depth - 1`` « .n »; a bare number needs one.
            least = depth - 1 if prefix else max(depth - 1, 1)
            alternatives.append(rf"{re.escape(prefix)}\d{{1,3}}(?:\.\d{{1,3}}){{{least},5}}")
        # Inside a text, only a code followed by a capital letter starts a new item.
        return re.compile(rf"(?<=\s)(?:{'|'.join(alternatives)})(?:\.?\s*:\s*|\.?\s+)"
                          r"(?=[A-ZÀ-ÖØ-Þ])")


def _plausible(match: re.Match[str]) -> bool:
    """A bare number (« 2 critères ») is not a code: it needs a letter prefix or a dot."""
    return bool(match.group("prefix")) or "." in match.group("code")


def _depth(code: str) -> int:
    return len(re.findall(r"\d+", code))


def _style_of(blocks: Iterable[Block]) -> _Style | None:
    """The code style of a column, when some of its items start with a code."""
    prefixes: dict[str, int] = {}
    count = 0
    for block in blocks:
        match = _CODE_AT_START.match(block.text)
        if match and _plausible(match):
            prefix = match.group("prefix") or ""
            depth = _depth(match.group("code"))
            prefixes[prefix] = min(prefixes.get(prefix, depth), depth)
            count += 1
    return _Style(prefixes) if count else None


# --- Reading state ---------------------------------------------------------------------------


@dataclass(eq=False)
class _RowCtx:
    """A logical row (a table row and the rows that continue it after a page break)."""

    where: str
    parent: _RowCtx | None = None
    comps: list[DraftCompetence] = field(default_factory=list)
    intro: str | None = None  # unmarked « … : » paragraph heading this row's criteria
    evaluees: list[str] = field(default_factory=list)  # codes of « compétences évaluées »

    def all_comps(self) -> list[DraftCompetence]:
        """This row's compétences, or those of the row whose cell is merged over it."""
        row: _RowCtx | None = self
        while row is not None:
            if row.comps:
                return row.comps
            row = row.parent
        return []


@dataclass(frozen=True)
class _Relation:
    """An « En relation avec les compétences … » line: the codes it names, or its scope."""

    codes: tuple[str, ...]
    scope: str | None  # "composante" or "bloc" for « toutes les compétences de la … »
    composante: int
    text: str


@dataclass(eq=False)
class _Link:
    crit: DraftCritere
    row: _RowCtx
    relation: _Relation | None


@dataclass(eq=False)
class _BlocState:
    bloc: DraftBloc
    rows: list[_RowCtx] = field(default_factory=list)
    links: list[_Link] = field(default_factory=list)
    relation: _Relation | None = None
    heading: str | None = None
    composante: int = 0
    composante_of: dict[int, int] = field(default_factory=dict)  # id(comp) -> composante
    last_comp: DraftCompetence | None = None
    last_crit: DraftCritere | None = None
    last_act: int | None = None
    last_mod: tuple[list[str], int] | None = None
    joined_sublists: set[int] = field(default_factory=set)


class TableReader:
    """Turns a sequence of paragraphs and rows into a :class:`Draft`."""

    def __init__(self, items: Sequence[Item], source: str, draft: Draft) -> None:
        self.items = list(items)
        self.source = source
        self.draft = draft
        self.states: list[_BlocState] = []
        rows = [i for i in items if isinstance(i, Row)]
        self.layouts = self._layouts(rows)
        content = [r for r in rows if r.table in self.layouts and self._kind(r) == "content"]
        self.comp_style = _style_of(b for r in content for b in self._cell(r, COMP).blocks)
        self.crit_style = _style_of(b for r in content for b in self._cell(r, CRIT).blocks)
        titles = any(self._title(i) for i in items if isinstance(i, (Para, Row)))
        acts = any(_ACTIVITE.match(b.text) for r in content for b in self._cell(r, ACT).blocks)
        self.mode = "titres" if titles else ("activites" if acts else "unique")

    # -- layout -----------------------------------------------------------------------------

    def _layouts(self, rows: list[Row]) -> dict[int, list[str | None]]:
        """Column roles of each usable table (from its header rows, else by position)."""
        by_table: dict[int, list[Row]] = {}
        for row in rows:
            by_table.setdefault(row.table, []).append(row)
        layouts: dict[int, list[str | None]] = {}
        previous: list[str | None] | None = None
        widest = 0
        for table, table_rows in by_table.items():
            headers = [r for r in table_rows if self._is_header(r)]
            width = max((_width(r) for r in (headers or table_rows)), default=0)
            widest = max(widest, width)
            if width < 4:
                continue  # a small table beside the référentiel (a title block, a legend)
            layout = _layout_from_headers(headers, width) if headers else None
            if layout is None and previous is not None and width <= len(previous):
                layout = previous
            if layout is None:
                layout = list(_POSITIONAL[width]) if width in _POSITIONAL else None
            if layout is not None:
                layouts[table] = layout
                previous = layout
        if not layouts:
            raise ImportErreur(
                f"{self.source} : le tableau n'a que {widest} colonne(s) ; un référentiel est "
                f"un tableau de {_COLUMNS_FR}" if widest < 4 else
                f"{self.source} : colonnes du tableau non reconnues ({widest} colonnes sans "
                f"ligne d'en-tête) ; un référentiel est un tableau de {_COLUMNS_FR}")
        return layouts

    def _is_header(self, row: Row) -> bool:
        if row.header:
            return True
        labels = [fold_accents(c.label or c.text) for c in row.cells if not c.empty]
        # Column titles, possibly followed by their description (« REFERENTIEL D'ACTIVITES
        # décrit les situations de travail … »): a lone long cell is content, not a header.
        return bool(labels) and all(_HEADER.match(t) for t in labels) and (
            len(labels) > 1 or len(labels[0]) <= 90)

    def _kind(self, row: Row) -> str:
        texts = [c.text for c in row.cells]
        if all(_SEPARATOR.match(t) for t in texts):
            return "separator"
        if self._title(row):
            return "title"
        if self._is_header(row):
            return "header"
        return "content"

    def _cell(self, row: Row, role: str) -> Cell:
        layout = self.layouts.get(row.table)
        if layout is None:
            return Cell()
        roles = layout
        if len(row.cells) == len(layout) - 1 and EVAL in layout:
            # A continuation row exported without the empty « compétences évaluées » column.
            roles = [r for r in layout if r != EVAL]
        found = [c for r, c in zip(roles, row.cells, strict=False) if r == role]
        if len(found) == 1:
            return found[0]
        return Cell([b for c in found for b in c.blocks])

    # -- titles -----------------------------------------------------------------------------

    def _title(self, item: Para | Row) -> tuple[str | None, str] | None:
        """(number or official code, title) when ``item`` is a bloc title line or row."""
        if isinstance(item, Row):
            filled = [c for c in item.cells if not c.empty]
            if len(filled) != 1 or filled[0] is not item.cells[0]:
                return None
            text = filled[0].text
        else:
            text = item.text
        if len(text) > 300:
            return None
        official = _BLOC_OFFICIAL.match(text)
        if official:
            return f"{official.group(1) or ''}BC{int(official.group(2)):02d}", official.group(3)
        match = _BLOC_TITLE.match(text)
        if match and not starts_lowercase(match.group(2)):  # « Bloc : le titre compte … »
            return match.group(1), match.group(2).strip()
        return None

    def _caps_title(self, index: int) -> bool:
        """A line in capitals right before a table, in a document that titles its blocs."""
        para = self.items[index]
        assert isinstance(para, Para)
        text = para.text
        nxt = self.items[index + 1] if index + 1 < len(self.items) else None
        letters = [c for c in text if c.isalpha()]
        return (self.mode == "titres" and isinstance(nxt, Row) and len(text.split()) >= 3
                and len(text) <= 200 and bool(letters) and text == text.upper()
                and not any(c.isdigit() for c in text)
                and not fold_accents(text).startswith("REFERENTIEL"))

    # -- reading ----------------------------------------------------------------------------

    def read(self) -> list[DraftBloc]:
        """Read every item, then place codes and links; the blocs found, in order."""
        after_header = False
        for index, item in enumerate(self.items):
            if isinstance(item, Para):
                title = self._title(item)
                if title is not None and self.mode == "titres":
                    self._start_bloc(title[0], title[1], item.where)
                elif self._caps_title(index):
                    bloc = self._start_bloc(None, item.text, item.where)
                    self.draft.note(bloc, f"Ligne en capitales « {item.text} » sans « Bloc » "
                                          "devant, juste avant un tableau : prise comme titre "
                                          "de bloc d'après sa place ; à confirmer.",
                                    ".intitule")
                continue
            if item.table not in self.layouts:
                continue
            kind = self._kind(item)
            if kind == "separator":
                continue
            if kind == "header":
                after_header = True
                continue
            if kind == "title":
                title = self._title(item)
                assert title is not None
                if self.mode == "titres":
                    self._start_bloc(title[0], title[1], item.where)
                after_header = False
                continue
            self._row(item, after_header)
            after_header = False
        return self._finish()

    def _start_bloc(self, number: str | None, intitule: str, where: str) -> DraftBloc:
        rank = len(self.states) + 1
        if number and number.upper().startswith(("RNCP", "BC")):
            code = number.upper()  # an official code given with the title
        elif number:
            code = f"BC{int(number):02d}"
        else:
            code = f"BC{rank:02d}"
        if self.states:
            current = self.states[-1].bloc
            if current.intitule == intitule.strip() and (number is None or current.code == code):
                return current  # the title repeated at the top of the next page
        taken = {st.bloc.code for st in self.states}
        clash = code if code in taken else None
        while code in taken:
            code = f"BC{rank:02d}"
            rank += 1
        bloc = DraftBloc(code, intitule.strip(), where)
        self.states.append(_BlocState(bloc))
        if clash:
            self.draft.note(bloc, f"Code de bloc « {clash} » déjà pris par un bloc précédent : "
                                  f"remplacé par « {code} ».", ".code")
        if not number:
            self.draft.note(bloc, "Code de bloc généré d'après son rang (la source ne le "
                                  "numérote pas) : remplacez-le par le code officiel "
                                  "(RNCP…BC01) s'il existe.", ".code")
        return bloc

    def _current(self, where: str) -> _BlocState:
        if not self.states:
            intitule = str(self.draft.certification.get("intitule") or "Bloc 1")
            bloc = self._start_bloc(None, intitule, where)
            reason = ("Aucun titre de bloc dans la source : tout le tableau forme un seul bloc, "
                      "intitulé comme la certification ; à vérifier." if self.mode != "titres"
                      else "Des lignes précèdent le premier titre de bloc : rangées dans un "
                           "bloc sans titre ; à vérifier.")
            self.draft.note(bloc, reason, ".intitule")
        return self.states[-1]

    def _row(self, row: Row, after_header: bool) -> None:
        act = self._cell(row, ACT)
        comp = self._cell(row, COMP)
        crit = self._cell(row, CRIT)
        mod = self._cell(row, MOD)
        evaluees = self._cell(row, EVAL)
        started = self._activities(act, row)
        st = self._current(row.where)
        composante_start = bool(act.blocks and act.blocks[0].bold) or bool(
            comp.blocks and comp.blocks[0].bold and not self._comp_code(comp.blocks[0].text)[0])
        if composante_start and (st.rows or st.bloc.competences):
            st.composante += 1
        continues = any(self._continues(c, last) for c, last in (
            (comp, st.last_comp.libelle if st.last_comp else None),
            (crit, st.last_crit.libelle if st.last_crit else None),
            (mod, st.last_mod[0][st.last_mod[1]] if st.last_mod else None)))
        if st.rows and act.empty and not started and (after_header or continues):
            ctx = st.rows[-1]
        else:
            ctx = _RowCtx(row.where, st.rows[-1] if st.rows and comp.empty else None)
            st.rows.append(ctx)
        self._competences(st, comp, ctx, row.where)
        if not evaluees.empty:
            codes = _CODE_ANYWHERE.findall(evaluees.text)
            if codes:
                ctx.evaluees.extend(codes)
            else:
                self.draft.note(st.bloc, f"Colonne « compétences évaluées » sans code "
                                         f"({row.where}) : non prise en compte ; rattachez les "
                                         "critères à la main si besoin.")
        self._modalites(st, mod)
        self._criteres(st, crit, ctx, row.where)

    def _continues(self, cell: Cell, last: str | None) -> bool:
        """Whether the cell's first text is the end of a sentence cut in the row above."""
        if not cell.blocks or last is None or not is_unfinished(last):
            return False
        first = cell.blocks[0]
        if first.listed:
            return False  # a new list item, even in lower case (seed 004 « - les … »)
        return starts_lowercase(first.text) and not _CODE_AT_START.match(first.text)

    def _activities(self, cell: Cell, row: Row) -> bool:
        """Add the activity texts; in « Activité N : » mode, start blocs. True if one started."""
        started = False
        for i, block in enumerate(cell.blocks):
            match = _ACTIVITE.match(block.text) if self.mode == "activites" else None
            if match:
                before = self.states[-1] if self.states and i > 0 else None
                self._start_bloc(match.group(1), match.group(2), row.where)
                if before is not None and before.last_act is not None:
                    self.draft.note(before.bloc, "Des tâches figurent dans la même cellule que "
                                                 f"le titre de l'activité suivante ({row.where}) "
                                                 ": rattachées à l'activité qui les précède.",
                                    ".activites")
                started = True
                continue
            st = self._current(row.where)
            acts = st.bloc.activites
            if i == 0 and self._continues(Cell([block]), acts[-1] if acts else None):
                acts[-1] = f"{acts[-1]} {block.text}"
            elif not acts or acts[-1] != block.text:
                acts.append(block.text)
            st.last_act = len(acts) - 1
        return started

    def _comp_code(self, text: str) -> tuple[str | None, str]:
        return self.comp_style.split(text) if self.comp_style else (None, text)

    def _competences(self, st: _BlocState, cell: Cell, ctx: _RowCtx, where: str) -> None:
        blocks = self.comp_style.expand(cell.blocks) if self.comp_style else cell.blocks
        current: DraftCompetence | None = None
        for i, block in enumerate(blocks):
            code, rest = self._comp_code(block.text)
            if code is None and i == 0 and st.last_comp is not None and self._continues(
                    Cell([block]), st.last_comp.libelle):
                st.last_comp.libelle = f"{st.last_comp.libelle} {block.text}"
                self.draft.note(st.last_comp, "Compétence recollée après un saut de page "
                                              f"(suite en {where}).")
                continue
            if code is None and self.comp_style is not None:
                if current is not None:
                    current.libelle = f"{current.libelle} {block.text}"
                    continue
                if block.bold or (block.text.endswith(":") and i + 1 < len(blocks)):
                    # The bold sentence that introduces a group of compétences (seed 004).
                    self.draft.informations_jury.append(block.text)
                    continue
            elif code is None and block.text.endswith(":") and i + 1 < len(blocks):
                continue  # a label such as « Compétences : » before the list
            comp = DraftCompetence(code, rest if code else block.text, where)
            if code is None and self.comp_style is not None:
                self.draft.note(comp, "Compétence sans code dans une colonne numérotée : code "
                                      "généré.")
            st.bloc.competences.append(comp)
            st.composante_of[id(comp)] = st.composante
            ctx.comps.append(comp)
            st.last_comp = comp
            current = comp if code else None

    def _modalites(self, st: _BlocState, cell: Cell) -> None:
        target = st.bloc.modalites
        for i, block in enumerate(cell.blocks):
            if i == 0 and st.last_mod and self._continues(Cell([block]),
                                                          st.last_mod[0][st.last_mod[1]]):
                texts, k = st.last_mod
                texts[k] = f"{texts[k]} {block.text}"
                continue
            if block.listed and st.bloc.modalites and _LIVRABLES.search(st.bloc.modalites[-1]):
                target = st.bloc.livrables
            elif not block.listed:
                target = st.bloc.modalites
            if not target or target[-1] != block.text:
                target.append(block.text)
            st.last_mod = (target, len(target) - 1)

    def _criteres(self, st: _BlocState, cell: Cell, ctx: _RowCtx, where: str) -> None:
        blocks = self.crit_style.expand(cell.blocks) if self.crit_style else cell.blocks
        current: DraftCritere | None = None
        for i, block in enumerate(blocks):
            text = block.text
            if _QUALITES.match(text):
                self.draft.qualites_non_observables.append(text)
                continue
            relation = _RELATION.match(text)
            if relation:
                st.relation = self._relation(st, relation.group(1), text)
                st.heading = None
                current = None
                continue
            code, rest = self.crit_style.split(text) if self.crit_style else (None, text)
            if (code is None and i == 0 and st.last_crit is not None
                    and self._continues(Cell([block]), st.last_crit.libelle)):
                st.last_crit.libelle = f"{st.last_crit.libelle} {text}"
                self.draft.note(st.last_crit, "Critère recollé après un saut de page (suite "
                                              f"en {where}).")
                continue
            if code is None and text.endswith(":") and self._heads(blocks, i):
                if block.listed:
                    st.heading = text
                else:
                    ctx.intro = text
                    st.heading = None
                current = None
                continue
            if code is None and current is not None:
                # A list under a numbered criterion (« notamment : ○ … ○ … ») is part of it.
                current.libelle = f"{current.libelle} {text}"
                if id(current) not in st.joined_sublists:
                    st.joined_sublists.add(id(current))
                    self.draft.note(current, "Liste à puces recopiée dans le libellé du "
                                             "critère, sans les puces : à vérifier.")
                continue
            crit = DraftCritere(code, rest if code else text, where,
                                groupe=st.heading or ctx.intro)
            st.bloc.criteres.append(crit)
            st.links.append(_Link(crit, ctx, st.relation))
            st.last_crit = crit
            current = crit if code else None

    def _heads(self, blocks: list[Block], index: int) -> bool:
        """Whether the « … : » block at ``index`` heads items (next in the cell or next row)."""
        rest = [b for b in blocks[index + 1:]
                if not _RELATION.match(b.text) and not _QUALITES.match(b.text)]
        return not rest or not rest[0].text.endswith(":")

    def _relation(self, st: _BlocState, rest: str, text: str) -> _Relation:
        scope = None
        if re.search(r"\btout(?:es)?\s+les\s+comp", rest, re.IGNORECASE):
            scope = "composante" if re.search(r"composante", rest, re.IGNORECASE) else "bloc"
        return _Relation(tuple(_CODE_ANYWHERE.findall(rest)), scope, st.composante, text)

    # -- codes and links --------------------------------------------------------------------

    def _finish(self) -> list[DraftBloc]:
        states = [s for s in self.states if s.bloc.competences or s.bloc.criteres]
        for st in self.states:
            if st not in states:
                self.draft.notes = [n for n in self.draft.notes if n.target is not st.bloc]
        raw_blocs: dict[str, set[int]] = {}
        for n, st in enumerate(states):
            codes = [c.raw_code for c in st.bloc.competences] + [
                c.raw_code for c in st.bloc.criteres]
            for code in codes:
                if code:
                    raw_blocs.setdefault(code, set()).add(n)
        restart = any(len(blocs) > 1 for blocs in raw_blocs.values())
        if restart:
            self.draft.note("blocs", "La numérotation de la source recommence dans chaque bloc "
                                     "(C1, C1.1…) : ses codes sont préfixés par le code de leur "
                                     "bloc (BC01-C1, BC01-C1.1…) pour être uniques.")
        used: set[str] = set()
        for st in states:
            self._codes(st, restart, used)
        for st in states:
            self._links(st)
        return [st.bloc for st in states]

    def _codes(self, st: _BlocState, restart: bool, used: set[str]) -> None:
        bloc = st.bloc
        generated_comps = generated_crits = 0
        for j, comp in enumerate(bloc.competences, start=1):
            if comp.raw_code:
                comp.code = f"{bloc.code}-{comp.raw_code}" if restart else comp.raw_code
            else:
                comp.code = f"{bloc.code}-C{j}"
                generated_comps += 1
            comp.code = self._unique(comp.code, used, comp)
        for k, crit in enumerate(bloc.criteres, start=1):
            if crit.raw_code:
                crit.code = f"{bloc.code}-{crit.raw_code}" if restart else crit.raw_code
            else:
                crit.code = f"{bloc.code}-{k:02d}"
                generated_crits += 1
            crit.code = self._unique(crit.code, used, crit)
        if generated_comps:
            self.draft.note(bloc, f"{generated_comps} code(s) de compétence générés "
                                  "(la source ne les numérote pas).", ".competences")
        if generated_crits:
            self.draft.note(bloc, f"{generated_crits} code(s) de critère générés "
                                  "(la source ne les numérote pas).", ".criteres")

    def _unique(self, code: str, used: set[str], item: object) -> str:
        code = re.sub(r"[^A-Za-z0-9._-]", "-", code)[:32]
        if code not in used:
            used.add(code)
            return code
        n = 2
        while f"{code[:29]}-{n}" in used:
            n += 1
        new = f"{code[:29]}-{n}"
        used.add(new)
        self.draft.note(item, f"Code « {code} » déjà utilisé dans la source : renommé « {new} ».",
                        ".code")
        return new

    def _links(self, st: _BlocState) -> None:
        bloc = st.bloc
        if not bloc.competences and bloc.criteres:
            placeholder = DraftCompetence(None, bloc.intitule, bloc.where, f"{bloc.code}-C1")
            bloc.competences.append(placeholder)
            self.draft.note(placeholder, "Aucune compétence dans la source pour ce bloc : "
                                         "compétence unique reprenant l'intitulé du bloc.")
        by_raw = {c.raw_code: c for c in bloc.competences if c.raw_code}
        by_norm = {_norm(c.raw_code): c for c in bloc.competences if c.raw_code}
        shared_rows: dict[int, list[DraftCritere]] = {}
        scoped: dict[int, tuple[_Relation, list[DraftCompetence], list[DraftCritere]]] = {}
        moved: dict[tuple[int, int], tuple[list[DraftCompetence], DraftCompetence,
                                           list[DraftCritere]]] = {}
        for link in st.links:
            crit = link.crit
            row_comps = link.row.all_comps()
            comps: list[DraftCompetence] = []
            if crit.raw_code and "." in crit.raw_code:
                parent = crit.raw_code.rsplit(".", 1)[0]
                found = by_raw.get(parent) or by_norm.get(_norm(parent))
                if found is not None:
                    comps = [found]
                    if row_comps and found not in row_comps:
                        moved.setdefault((id(link.row), id(found)), (row_comps, found, []))[
                            2].append(crit)
            codes = list(link.relation.codes) if link.relation and not comps else []
            if not comps and not codes and link.row.evaluees:
                codes = link.row.evaluees
            for code in codes:
                found = by_raw.get(code) or by_norm.get(_norm(code))
                if found is None:
                    self.draft.note(crit, f"Compétence « {code} » nommée par la source mais "
                                          "absente de ce bloc : lien ignoré.")
                elif found not in comps:
                    comps.append(found)
            if not comps and link.relation and link.relation.scope:
                if link.relation.scope == "composante":
                    comps = [c for c in bloc.competences
                             if st.composante_of.get(id(c)) == link.relation.composante]
                else:
                    comps = list(bloc.competences)
                scoped.setdefault(id(link.relation), (link.relation, comps, []))[2].append(crit)
            if not comps:
                comps = row_comps or list(bloc.competences)
                if len(comps) > 1:
                    shared_rows.setdefault(id(link.row), []).append(crit)
            crit.competences = [c.code for c in comps]
        for row_comps, found, crits in moved.values():
            names = ", ".join(c.raw_code or c.code for c in crits)
            self.draft.note(crits[0], f"Critère(s) {names} rangé(s) dans la ligne des "
                                      f"compétences {_codes(row_comps)} : rattaché(s) à "
                                      f"{found.raw_code} d'après leur numéro.")
        for relation, comps, crits in scoped.values():
            what = "de la composante" if relation.scope == "composante" else "du bloc"
            self.draft.note(crits[0], f"« {relation.text} » : {_count(crits)} rattaché(s) à "
                                      f"toutes les compétences {what} ({_codes(comps)}).")
        for crits in shared_rows.values():
            self.draft.note(crits[0], f"La source range {_count(crits)} dans une ligne à "
                                      "plusieurs compétences "
                                      f"({', '.join(crits[0].competences)}) : rattaché(s) à "
                                      "toutes ; à répartir si besoin.")


def _count(crits: list[DraftCritere]) -> str:
    """« ce critère » or « ce critère et les N suivants », for a note on the first one."""
    if len(crits) == 1:
        return "ce critère"
    if len(crits) == 2:
        return "ce critère et le suivant"
    return f"ce critère et les {len(crits) - 1} suivants"


def _norm(code: str | None) -> str:
    return re.sub(r"[^0-9A-Z]", "", (code or "").upper())


def _codes(comps: Sequence[DraftCompetence]) -> str:
    return ", ".join(c.raw_code or c.code or c.libelle[:30] for c in comps)


def _width(row: Row) -> int:
    """The number of cells up to the last non-empty one (exports add empty trailing cells)."""
    width = len(row.cells)
    while width > 0 and row.cells[width - 1].empty and not row.header:
        width -= 1
    return max(width, len(row.cells) if row.header else 0)


def _role(label: str) -> str | None:
    text = fold_accents(label)
    if not text:
        return None
    if "EVALUEES" in text:
        return EVAL
    found = [(text.find(k), role) for k, role in (("ACTIVIT", ACT), ("COMPETENCE", COMP),
                                                  ("MODALIT", MOD), ("CRITERE", CRIT),
                                                  ("EVALUATION", "evaluation")) if k in text]
    return min(found)[1] if found else None


def _layout_from_headers(headers: list[Row], width: int) -> list[str | None] | None:
    """Roles from the header labels; the most specific (last) header row wins per column."""
    labels = [""] * max(width, max(len(r.cells) for r in headers))
    for row in headers:
        for i, cell in enumerate(row.cells):
            label = cell.label or cell.text
            if label.strip():
                labels[i] = label
    roles = [_role(label) for label in labels]
    if CRIT not in roles:
        roles = [CRIT if r == "evaluation" else r for r in roles]
    roles = [MOD if r == "evaluation" else r for r in roles]
    if COMP in roles and CRIT in roles:
        return roles
    return list(_POSITIONAL[width]) if width in _POSITIONAL else None
