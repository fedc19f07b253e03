"""Read a seed-style text export (.txt, .md): one table row per line, cells separated by tabs.

Cells hold HTML fragments (``<p>``, ``<ul>``/``<li>``, ``<b>``, ``<i>``, ``<sup>``, entities);
lines without a tab are text outside the table (titles, the session rules). Rows of dashes are
Markdown separators and carry nothing.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from certidocs.errors import ImportErreur
from certidocs.referentiel.importers.common import Block, Cell, Item, Para, Row, split_markers

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*?/?>")
_BLOCK_TAGS = {"p", "li", "ul", "ol", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6",
               "table", "tr", "td", "th", "blockquote"}
_DESCRIPTION = re.compile(r"<i>.*?</i>", re.IGNORECASE | re.DOTALL)
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MD_MARKS = re.compile(r"\*\*|__|\\(?=[()\[\]*_#])")
_MD_HEADING = re.compile(r"^#{1,6}\s+")


def read_text(path: Path) -> tuple[list[Item], list[str]]:
    """The rows and paragraphs of a text export, and notes on how it was read.

    ImportErreur if the file cannot be read or holds no table row.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportErreur(f"{path} : lecture impossible ({exc.strerror})") from None
    notes: list[str] = []
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Exports made on Windows are often in Windows-1252; reading them that way is a guess.
        text = raw.decode("cp1252", errors="replace")
        notes.append("le fichier n'est pas en UTF-8 : lu comme Windows-1252, vérifiez les "
                     "accents")
    items: list[Item] = []
    table = 0
    last_was_row = False
    for number, line in enumerate(text.splitlines(), start=1):
        where = f"ligne {number}"
        if "\t" in line:
            if not last_was_row:
                table += 1
            items.append(Row([parse_cell(c) for c in line.split("\t")], where, table))
            last_was_row = True
        elif line.strip():
            clean = _clean_paragraph(line)
            if clean:
                items.append(Para(clean, where))
                last_was_row = False
    if not any(isinstance(i, Row) for i in items):
        raise ImportErreur(f"{path} : aucun tableau trouvé (lignes dont les cellules sont "
                           "séparées par des tabulations) : ce n'est pas un export de "
                           "référentiel")
    return items, notes


def _clean_paragraph(line: str) -> str:
    """A text line without HTML tags nor Markdown marks (headings, bold, links)."""
    text = _MD_HEADING.sub("", line.strip())
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_MARKS.sub("", text)
    return " ".join(b.text for b in parse_cell(text).blocks)


def parse_cell(raw: str) -> Cell:
    """One cell's HTML fragment as blocks (paragraphs, list items, loose text)."""
    blocks: list[Block] = []
    pieces: list[tuple[str, bool, bool]] = []  # (text, bold, superscript)
    state = {"ul": 0, "li": 0, "p": 0, "b": 0, "sup": 0}

    def flush() -> None:
        # A superscript number is a footnote call (« l'organisation¹ »): not part of the text.
        text = "".join(t for t, _, sup in pieces if not (sup and t.strip().isdigit()))
        text = html.unescape(text)
        solid = [(html.unescape(t), b) for t, b, sup in pieces if not sup]
        bold_chars = sum(len(t.strip()) for t, b in solid if b)
        all_chars = sum(len(t.strip()) for t, _ in solid)
        pieces.clear()
        if not text.strip():
            return
        kind = "li" if state["li"] else ("p" if state["p"] else "bare")
        level = max(state["ul"] - 1, 0)
        blocks.extend(split_markers(text, kind=kind, level=level,
                                    bold=all_chars > 0 and bold_chars == all_chars,
                                    in_list=state["ul"] > 0))

    pos = 0
    for match in _TAG.finditer(raw):
        if match.start() > pos:
            pieces.append((raw[pos:match.start()], state["b"] > 0, state["sup"] > 0))
        pos = match.end()
        closing = match.group(1) == "/"
        name = match.group(2).lower()
        step = -1 if closing else 1
        if name in _BLOCK_TAGS:
            flush()
            key = {"ol": "ul"}.get(name, name)
            if key in ("ul", "li", "p"):
                state[key] = max(state[key] + step, 0)
        elif name in ("b", "strong"):
            state["b"] = max(state["b"] + step, 0)
        elif name == "sup":
            state["sup"] = max(state["sup"] + step, 0)
    if pos < len(raw):
        pieces.append((raw[pos:], state["b"] > 0, state["sup"] > 0))
    flush()
    label = " ".join(b.text for b in parse_cell_plain(_DESCRIPTION.sub(" ", raw)))
    return Cell(blocks, label)


def parse_cell_plain(raw: str) -> list[Block]:
    """Blocks of a fragment without interpreting list marks (for header labels)."""
    text = html.unescape(_TAG.sub(" ", raw))
    text = " ".join(text.split())
    return [Block(text)] if text else []
