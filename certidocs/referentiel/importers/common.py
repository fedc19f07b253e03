"""What every importer shares: the document as rows of cells, and the référentiel being built.

A reader (``text.py`` for the seed-style exports, ``docx.py`` for Word) turns its source into a
flat sequence of :class:`Para` (text outside any table) and :class:`Row` (one table row, each
cell a list of :class:`Block`: a paragraph, a list item or loose text). ``table.py`` interprets
that sequence the same way whatever the source, so that a Word table and its text export give
the same référentiel. ``rncp.py`` fills a :class:`Draft` directly.

A :class:`Draft` is the référentiel before it becomes YAML: codes may still be the source's own
(prefixed or generated at the end), and each guess is a :class:`Note` attached to the object it
concerns, so that its YAML path (``blocs[1].criteres[4]``) is computed once everything is placed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# List marks that start a list item; they are removed from the text (FORMAT.md: « on retire les
# marques de liste »). The first group may also separate items inside one line of text.
BULLETS = "✓✔•○◦▪■□➢►◆❖●"
_DASHES = "-–"
_BULLET_SPLIT = re.compile(rf"\s*([{BULLETS}])\s*")
_LEADING_DASH = re.compile(rf"^[{_DASHES}]\s+(?=\S)")
_LEADING_STAR = re.compile(r"^\*\s+(?=\S)")
# A dash item written inline after a punctuation mark: « … cohérente, - le choix … ». A dash
# between two words (« SEO - Search ») or inside a word (« e-publicité ») never splits.
_INLINE_DASH = re.compile(r"(?<=[,;:.!?])\s+-\s+(?=\S)")
_SPACES = re.compile(r"\s+")
_TERMINAL = (".", "!", "?", ":", ";", "…")


def fold_spaces(text: str) -> str:
    """Runs of white space (including non-breaking spaces) folded to one space, ends trimmed."""
    return _SPACES.sub(" ", text.replace("\u00a0", " ").replace("\u202f", " ")).strip()


def fold_accents(text: str) -> str:
    """Upper case without accents, for matching labels written with or without them."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def is_unfinished(text: str) -> bool:
    """Whether ``text`` stops mid-sentence (no final punctuation): the next row may continue it."""
    return bool(text) and not text.rstrip().endswith(_TERMINAL)


def starts_lowercase(text: str) -> bool:
    """Whether ``text`` begins with a lower-case letter, as the second half of a cut sentence."""
    return bool(text) and text[0].isalpha() and text[0].islower()


@dataclass
class Block:
    """One paragraph, list item or piece of loose text of a cell, its list mark removed.

    ``marker`` is the removed mark (« ✓ », « • », « - »…) or ``"#"`` for an automatic Word list
    item; ``kind`` is ``"p"`` (paragraph), ``"li"`` (list item) or ``"bare"`` (text outside
    any paragraph); ``level`` is the list depth; ``bold`` when the whole text is bold.
    """

    text: str
    marker: str | None = None
    level: int = 0
    kind: str = "p"
    bold: bool = False

    @property
    def listed(self) -> bool:
        """Whether this block is a list item (marked, or inside a list)."""
        return self.marker is not None or self.kind == "li"


@dataclass
class Cell:
    """A table cell: its blocks, and ``label`` (its text without descriptions, for headers)."""

    blocks: list[Block] = field(default_factory=list)
    label: str = ""
    merged: bool = False  # the continuation of a vertically merged Word cell

    @property
    def text(self) -> str:
        """The whole cell as one line."""
        return " ".join(b.text for b in self.blocks)

    @property
    def empty(self) -> bool:
        """Whether the cell holds no text."""
        return not any(b.text for b in self.blocks)


@dataclass
class Row:
    """One table row. ``where`` says where it is in the source, for messages and notes."""

    cells: list[Cell]
    where: str
    table: int
    header: bool = False  # marked as a repeated header row by the source (Word: tblHeader)


@dataclass
class Para:
    """Text outside any table (a title, a rule of the session, a note)."""

    text: str
    where: str
    style: str = ""
    bold: bool = False


Item = Para | Row


def split_markers(text: str, *, kind: str = "p", level: int = 0, bold: bool = False,
                  in_list: bool = False, marker: str | None = None) -> list[Block]:
    """``text`` as blocks: one per list item found in it, list marks removed.

    « ✓ a ✓ b » gives two items marked « ✓ »; a leading « - » is a mark; inside a list (or
    after a mark) « a, - b » is split after the punctuation. Text before the first mark keeps
    ``marker`` (the caller's, e.g. ``"#"`` for a Word list item).
    """
    text = fold_spaces(text)
    pieces: list[tuple[str | None, str]] = []
    parts = _BULLET_SPLIT.split(text)
    if parts[0].strip():
        pieces.append((marker, parts[0].strip()))
    for i in range(1, len(parts) - 1, 2):
        pieces.append((parts[i], parts[i + 1].strip()))
    blocks: list[Block] = []
    for mark, piece in pieces:
        dash = _LEADING_DASH.match(piece) or _LEADING_STAR.match(piece)
        if dash and (mark is None or mark == marker):
            mark = piece[0] if piece[0] != "–" else "-"
            piece = piece[dash.end():]
        listed = in_list or mark is not None or kind == "li"
        subs = _INLINE_DASH.split(piece) if listed else [piece]
        first = True
        for sub in subs:
            sub = sub.strip()
            if not sub:
                continue
            if first:
                blocks.append(Block(sub, mark, level, kind, bold))
            else:
                blocks.append(Block(sub, "-", level + 1, kind, bold))
            first = False
    return blocks


# --- The référentiel being built -------------------------------------------------------------


@dataclass(eq=False)
class DraftCompetence:
    """A compétence as found: the source's code (None: to generate) and its text."""

    raw_code: str | None
    libelle: str
    where: str = ""
    code: str = ""  # final code, set by ``table.finish``


@dataclass(eq=False)
class DraftCritere:
    """A criterion as found; ``competences`` holds final codes once linked."""

    raw_code: str | None
    libelle: str
    where: str = ""
    groupe: str | None = None
    code: str = ""
    competences: list[str] = field(default_factory=list)


@dataclass(eq=False)
class DraftBloc:
    """A bloc as found; ``code`` is final (official, numbered or generated)."""

    code: str
    intitule: str
    where: str = ""
    activites: list[str] = field(default_factory=list)
    modalites: list[str] = field(default_factory=list)
    livrables: list[str] = field(default_factory=list)
    competences: list[DraftCompetence] = field(default_factory=list)
    criteres: list[DraftCritere] = field(default_factory=list)
    criteres_absents: bool = False  # RNCP export: criteria must be added by hand


@dataclass(eq=False)
class Note:
    """A guess for a person to check, attached to the object (or fixed path) it concerns."""

    target: object
    raison: str
    suffix: str = ""


@dataclass
class Draft:
    """A whole imported référentiel, ready to be written as YAML."""

    certification: dict[str, object]
    blocs: list[DraftBloc] = field(default_factory=list)
    regles: dict[str, object] = field(default_factory=dict)
    commentaires: dict[str, list[str]] = field(default_factory=dict)  # YAML path -> comment
    voies_acces: list[str] | None = None
    qualites_non_observables: list[str] = field(default_factory=list)
    informations_jury: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    genre: str = ""  # what the source is, for the summary: « tableau Word », « export RNCP »…

    @property
    def criteres_absents(self) -> bool:
        """Whether some bloc has no criteria on purpose (RNCP export): the file is a start."""
        return any(b.criteres_absents for b in self.blocs)

    def note(self, target: object, raison: str, suffix: str = "") -> None:
        """Record a point to check about ``target`` (a draft object or a YAML path)."""
        self.notes.append(Note(target, raison, suffix))

    def chemin(self, note: Note) -> str:
        """The YAML path of a note's target, now that every bloc and item has its place."""
        target = note.target
        if isinstance(target, str):
            return target + note.suffix
        for i, bloc in enumerate(self.blocs):
            if target is bloc:
                return f"blocs[{i}]{note.suffix}"
            for j, comp in enumerate(bloc.competences):
                if target is comp:
                    return f"blocs[{i}].competences[{j}]{note.suffix}"
            for k, crit in enumerate(bloc.criteres):
                if target is crit:
                    return f"blocs[{i}].criteres[{k}]{note.suffix}"
        return note.suffix.lstrip(".") or "blocs"

    @property
    def points(self) -> list[tuple[str, str]]:
        """Every note as (chemin, raison), without duplicates, in the order of the file."""
        seen: set[tuple[str, str]] = set()
        out: list[tuple[str, str]] = []
        for note in self.notes:
            item = (self.chemin(note), note.raison)
            if item not in seen:
                seen.add(item)
                out.append(item)
        return sorted(out, key=lambda item: _path_key(item[0]))


_SECTIONS = ("certification", "regles", "voies_acces", "qualites_non_observables",
             "informations_jury", "blocs")


def _path_key(chemin: str) -> tuple[object, ...]:
    """Sort key of a YAML path: sections in file order, then indices as numbers."""
    head = re.split(r"[.\[]", chemin, maxsplit=1)[0]
    rank = _SECTIONS.index(head) if head in _SECTIONS else len(_SECTIONS)
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p)
                  for p in re.findall(r"\d+|[a-z_]+", chemin[len(head):]))
    return (rank, parts)


_SLUG = re.compile(r"[^A-Za-z0-9._-]+")


def local_code(name: str) -> str:
    """A valid local certification code from a file name: letters, digits, « . - _ », ≤ 32."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    code = _SLUG.sub("-", ascii_name).strip("-._").upper()[:32].rstrip("-._")
    return code or "REFERENTIEL"
