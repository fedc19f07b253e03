"""Build the default Word templates of templates/ (one .docx per document type).

Run ``python scripts/build_templates.py [DOSSIER]`` (default: the repository's templates/). The
generated files are committed; office staff then edit them in Word. Every Jinja tag is written
as one run, so that docxtpl finds it whole; ``{%p …%}`` / ``{%tr …%}`` tags sit alone in their
paragraph or table row, which docxtpl removes. The variables are those of
certidocs/documents/context.py, listed for staff in templates/LISEZMOI.md.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

ROOT = Path(__file__).resolve().parent.parent
# Arial: present in every Word; LibreOffice renders it with Liberation Sans, whose metrics are
# identical, so the PDF made here has the same line and page breaks as Word's.
FONT = "Arial"
ACCENT = RGBColor(0x1F, 0x3A, 0x5F)
GREY = RGBColor(0x59, 0x59, 0x59)
HEADER_FILL = "DCE3EC"
DECISION_FILL = "EEF2F7"
BORDER_COLOR = "8C9BAB"
PORTRAIT_WIDTH = 170  # mm of text between the margins
LANDSCAPE_WIDTH = 257
LETTER_INDENT = 95  # mm: the recipient block sits in a DL window envelope's window

Run = str | tuple[str, dict[str, Any]]
Container = Any  # a Document, a header/footer or a table cell: anything with add_paragraph


# --- low-level XML helpers ------------------------------------------------------------------


# Children order of the property elements we edit, from the OOXML schema: Word refuses to open
# (« contenu illisible ») a file whose properties come in another order.
ORDER = {
    "pPr": ["pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl",
            "numPr", "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens",
            "kinsoku", "wordWrap", "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN",
            "bidi", "adjustRightInd", "snapToGrid", "spacing", "ind", "contextualSpacing",
            "mirrorIndents", "suppressOverlap", "jc", "textDirection", "textAlignment",
            "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr", "sectPr", "pPrChange"],
    "rPr": ["rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike",
            "outline", "shadow", "emboss", "imprint", "noProof", "snapToGrid", "vanish",
            "webHidden", "color", "spacing", "w", "kern", "position", "sz", "szCs", "highlight",
            "u", "effect", "bdr", "shd", "fitText", "vertAlign", "rtl", "cs", "em", "lang",
            "eastAsianLayout", "specVanish", "oMath"],
    "tblPr": ["tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize",
              "tblStyleColBandSize", "tblW", "jc", "tblCellSpacing", "tblInd", "tblBorders", "shd",
              "tblLayout", "tblCellMar", "tblLook", "tblCaption", "tblDescription"],
    "tcPr": ["cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders", "shd", "noWrap",
             "tcMar", "textDirection", "tcFitText", "vAlign", "hideMark"],
    "sectPr": ["headerReference", "footerReference", "footnotePr", "endnotePr", "type", "pgSz",
               "pgMar", "paperSrc", "pgBorders", "lnNumType", "pgNumType", "cols", "formProt",
               "vAlign", "noEndnote", "titlePg", "textDirection", "bidi", "rtlGutter", "docGrid",
               "printerSettings", "sectPrChange"],
    "pBdr": ["top", "left", "bottom", "right", "between", "bar"],
    "tblCellMar": ["top", "left", "start", "bottom", "right", "end"],
}


def _local(el: Any) -> str:
    return str(el.tag).rsplit("}", 1)[-1]


def _insert(parent: Any, child: Any) -> None:
    """Insert ``child`` where the schema wants it among ``parent``'s children."""
    order = ORDER.get(_local(parent))
    name = _local(child)
    if order is None or name not in order:
        parent.append(child)
        return
    rank = order.index(name)
    for sibling in parent:
        other = _local(sibling)
        if other in order and order.index(other) > rank:
            sibling.addprevious(child)
            return
    parent.append(child)


def _set(parent: Any, tag: str, **attrs: str) -> Any:
    """Get or create the child ``tag`` of ``parent`` (in schema order), set its w: attributes."""
    child = parent.find(qn(tag))
    if child is None:
        child = OxmlElement(tag)
        _insert(parent, child)
    for key, value in attrs.items():
        child.set(qn(f"w:{key}"), value)
    return child


def _fonts(rpr: Any) -> None:
    fonts = _set(rpr, "w:rFonts")
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(qn(f"w:{attr}"), None)
    for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{attr}"), FONT)


def _shade(cell: _Cell, fill: str) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    _set(tcpr, "w:shd", val="clear", color="auto", fill=fill)


def _borders(table: Table, color: str = BORDER_COLOR, size: str = "4",
             sides: Sequence[str] = ("top", "left", "bottom", "right", "insideH", "insideV"),
             ) -> None:
    tblpr = table._tbl.tblPr
    borders = tblpr.find(qn("w:tblBorders"))
    if borders is not None:
        tblpr.remove(borders)
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{side}")
        if side in sides:
            el.set(qn("w:val"), "single")
            el.set(qn("w:sz"), size)
            el.set(qn("w:color"), color)
        else:
            el.set(qn("w:val"), "nil")
        el.set(qn("w:space"), "0")
        borders.append(el)
    _insert(tblpr, borders)


def _cell_margins(table: Table, top: int = 50, bottom: int = 50, side: int = 90) -> None:
    tblpr = table._tbl.tblPr
    mar = _set(tblpr, "w:tblCellMar")
    for name, value in (("top", top), ("left", side), ("bottom", bottom), ("right", side)):
        _set(mar, f"w:{name}", w=str(value), type="dxa")


def _repeat_header(row: Any) -> None:
    trpr = row._tr.get_or_add_trPr()
    _set(trpr, "w:tblHeader")


def _cant_split(row: Any) -> None:
    trpr = row._tr.get_or_add_trPr()
    _set(trpr, "w:cantSplit")


def _row_height(row: Any, mm: float) -> None:
    row.height = Mm(mm)


def _paragraph_border(p: Paragraph, side: str, color: str = BORDER_COLOR) -> None:
    ppr = p._p.get_or_add_pPr()
    pbdr = _set(ppr, "w:pBdr")
    _set(pbdr, f"w:{side}", val="single", sz="4", space="4", color=color)


def _field(p: Paragraph, instr: str, placeholder: str, fmt: dict[str, Any]) -> None:
    """A Word field (PAGE, SECTIONPAGES) as the begin/instr/separate/result/end runs."""
    def run() -> Any:
        r = p.add_run()
        _format(r, fmt)
        return r

    r = run()
    _set(r._r, "w:fldChar", fldCharType="begin")
    r = run()
    instr_el = OxmlElement("w:instrText")
    instr_el.set(qn("xml:space"), "preserve")
    instr_el.text = f" {instr} "
    r._r.append(instr_el)
    r = run()
    _set(r._r, "w:fldChar", fldCharType="separate")
    r = run()
    r.text = placeholder
    r = run()
    _set(r._r, "w:fldChar", fldCharType="end")


def _format(run: Any, fmt: dict[str, Any]) -> None:
    if fmt.get("bold"):
        run.bold = True
    if fmt.get("italic"):
        run.italic = True
    if "size" in fmt:
        run.font.size = Pt(fmt["size"])
    if "color" in fmt:
        run.font.color.rgb = fmt["color"]
    if fmt.get("caps"):
        run.font.all_caps = True
    if "spacing" in fmt:  # letter spacing, in points
        rpr = run._r.get_or_add_rPr()
        _set(rpr, "w:spacing", val=str(int(fmt["spacing"] * 20)))


# --- paragraphs and tables ------------------------------------------------------------------


def para(container: Container, *runs: Run, style: str | None = None,
         align: str | None = None, indent: float | None = None, before: float | None = None,
         after: float | None = None, keep: bool = False) -> Paragraph:
    """One paragraph; each element of ``runs`` becomes exactly one run (tags stay whole)."""
    p = container.add_paragraph(style=style)
    for item in runs:
        text, fmt = (item, {}) if isinstance(item, str) else item
        run = p.add_run(text)
        _format(run, fmt)
    pf = p.paragraph_format
    if align:
        pf.alignment = {"center": WD_ALIGN_PARAGRAPH.CENTER, "right": WD_ALIGN_PARAGRAPH.RIGHT,
                        "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
                        "left": WD_ALIGN_PARAGRAPH.LEFT}[align]
    if indent is not None:
        pf.left_indent = Mm(indent)
    if before is not None:
        pf.space_before = Pt(before)
    if after is not None:
        pf.space_after = Pt(after)
    if keep:
        pf.keep_with_next = True
    return cast(Paragraph, p)


def tag(container: Container, text: str) -> Paragraph:
    """A paragraph holding only a ``{%p … %}`` tag (docxtpl removes the paragraph)."""
    return para(container, text, style="Balise")


def first_paragraph(cell: _Cell, *runs: Run, style: str = "Tableau",
                    align: str | None = None) -> Paragraph:
    """Fill the paragraph a new cell already has, rather than adding a blank line above."""
    p = cell.paragraphs[0]
    p.style = style
    for item in runs:
        text, fmt = (item, {}) if isinstance(item, str) else item
        _format(p.add_run(text), fmt)
    if align:
        p.paragraph_format.alignment = {"center": WD_ALIGN_PARAGRAPH.CENTER,
                                        "right": WD_ALIGN_PARAGRAPH.RIGHT,
                                        "left": WD_ALIGN_PARAGRAPH.LEFT}[align]
    return cast(Paragraph, p)


def new_table(container: Container, widths: Sequence[float], *, borders: bool = True,
              width_total: float | None = None) -> Table:
    """A table with fixed column widths (mm), light borders, centred on the page."""
    if isinstance(container, DocumentObject):
        table = container.add_table(rows=0, cols=len(widths))
    else:
        table = container.add_table(rows=0, cols=len(widths),
                                    width=Mm(width_total or sum(widths)))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    grid = table._tbl.tblGrid
    for col, w in zip(grid.findall(qn("w:gridCol")), widths, strict=True):
        col.set(qn("w:w"), str(int(w * 56.7)))
    tblpr = table._tbl.tblPr
    _set(tblpr, "w:tblW", w=str(int(sum(widths) * 56.7)), type="dxa")
    _set(tblpr, "w:tblLayout", type="fixed")
    if borders:
        _borders(table)
    else:
        _borders(table, sides=())
    _cell_margins(table)
    return cast(Table, table)


def add_row(table: Table, widths: Sequence[float], cells: Sequence[Sequence[Run] | None],
            *, header: bool = False, style: str = "Tableau", height: float | None = None,
            fill: str | None = None, align: Sequence[str | None] | None = None) -> Any:
    """A row; each cell's runs go in its first paragraph."""
    row = table.add_row()  # type: ignore[no-untyped-call]
    for i, (cell, width) in enumerate(zip(row.cells, widths, strict=True)):
        cell.width = Mm(width)
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        runs = cells[i] if i < len(cells) else None
        p = cell.paragraphs[0]
        p.style = "Tableau en-tête" if header else style
        if align and align[i]:
            p.paragraph_format.alignment = {"center": WD_ALIGN_PARAGRAPH.CENTER,
                                            "right": WD_ALIGN_PARAGRAPH.RIGHT,
                                            "left": WD_ALIGN_PARAGRAPH.LEFT}[align[i] or "left"]
        for item in runs or ():
            text, fmt = (item, {}) if isinstance(item, str) else item
            _format(p.add_run(text), fmt)
        if header:
            _shade(cell, HEADER_FILL)
        elif fill:
            _shade(cell, fill)
    if header:
        _repeat_header(row)
    _cant_split(row)
    if height:
        _row_height(row, height)
    return row


def tag_row(table: Table, widths: Sequence[float], text: str) -> Any:
    """A row holding only a ``{%tr … %}`` tag in its first cell (docxtpl removes the row)."""
    row = add_row(table, widths, [[text]])
    return row


def loop_table(doc: Container, widths: Sequence[float], headers: Sequence[str], loop: str,
               cells: Sequence[Sequence[Run]], *, height: float | None = None,
               align: Sequence[str | None] | None = None,
               empty: str | None = None, empty_test: str | None = None) -> Table:
    """A table: a header row repeated on every page, then one row per item of ``loop``.

    ``loop`` is « c in candidats »; ``empty`` is a sentence printed in a single merged row when
    the list ``empty_test`` is empty.
    """
    table = new_table(doc, widths)
    add_row(table, widths, [[h] for h in headers], header=True, align=align)
    tag_row(table, widths, f"{{%tr for {loop} %}}")
    add_row(table, widths, cells, height=height, align=align)
    tag_row(table, widths, "{%tr endfor %}")
    if empty and empty_test:
        tag_row(table, widths, f"{{%tr if not {empty_test} %}}")
        row = add_row(table, widths, [[(empty, {"italic": True})]])
        merged = row.cells[0].merge(row.cells[-1])
        for extra in merged.paragraphs[1:]:
            extra._p.getparent().remove(extra._p)
        tag_row(table, widths, "{%tr endif %}")
    return table


LabelRow = tuple[str, Sequence[Run]] | tuple[str, Sequence[Run], str]


def label_table(doc: Container, rows: Sequence[LabelRow],
                widths: Sequence[float] = (50, 120)) -> Table:
    """A two-column table of labels (shaded) and values, for identities and session data;
    a row with a third element (a condition) is printed only when it holds."""
    table = new_table(doc, widths)
    for item in rows:
        label, value = item[0], item[1]
        condition = item[2] if len(item) > 2 else ""  # type: ignore[misc]
        if condition:
            tag_row(table, widths, f"{{%tr if {condition} %}}")
        row = add_row(table, widths, [[label], value])
        _shade(row.cells[0], HEADER_FILL)
        for r in row.cells[0].paragraphs[0].runs:
            r.bold = True
        if condition:
            tag_row(table, widths, "{%tr endif %}")
    return table


def spacer(doc: Container, points: float = 6) -> Paragraph:
    """An empty paragraph of a given height, to separate blocks (tables need one between)."""
    p = doc.add_paragraph(style="Tableau")
    p.paragraph_format.space_after = Pt(points)
    return cast(Paragraph, p)


def page_break(doc: Container) -> Paragraph:
    """A paragraph holding a page break."""
    p = doc.add_paragraph(style="Tableau")
    p.add_run().add_break(WD_BREAK.PAGE)
    return cast(Paragraph, p)


# --- document set-up ------------------------------------------------------------------------


def _styles(doc: DocumentObject) -> None:
    styles = doc.styles
    root = styles.element
    defaults = root.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _fonts(rpr)
    _set(rpr, "w:lang", val="fr-FR", eastAsia="fr-FR", bidi="ar-SA")
    _set(rpr, "w:sz", val="21")
    _set(rpr, "w:szCs", val="21")
    ppr = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
    _set(ppr, "w:spacing", after="100", line="264", lineRule="auto")

    normal = styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(10.5)
    _fonts(normal.element.get_or_add_rPr())

    def pstyle(name: str, size: float, *, bold: bool = False, italic: bool = False,
               color: RGBColor | None = None, before: float = 0, after: float = 5,
               keep: bool = False, align: Any = None) -> Any:
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        HOUSE_STYLES.append(name)
        style.base_style = normal
        style.quick_style = True
        style.font.size = Pt(size)
        style.font.bold = bold
        style.font.italic = italic
        if color is not None:
            style.font.color.rgb = color
        pf = style.paragraph_format
        pf.space_before = Pt(before)
        pf.space_after = Pt(after)
        pf.keep_with_next = keep
        if align is not None:
            pf.alignment = align
        return style

    pstyle("Titre du document", 16, bold=True, color=ACCENT, after=4,
           align=WD_ALIGN_PARAGRAPH.CENTER, keep=True)
    pstyle("Sous-titre du document", 11, color=GREY, after=14, align=WD_ALIGN_PARAGRAPH.CENTER,
           keep=True)
    pstyle("Intertitre", 11, bold=True, color=ACCENT, before=10, after=4, keep=True)
    pstyle("Tableau", 9.5, after=0)
    pstyle("Tableau en-tête", 9, bold=True, color=ACCENT, after=0)
    pstyle("Petit", 8, color=GREY, after=0)
    pstyle("Adresse", 10.5, after=0)
    pstyle("Balise", 8, color=GREY, after=0)
    corps = pstyle("Corps de lettre", 10.5, after=7, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    corps.paragraph_format.widow_control = True
    liste = styles["List Bullet"]
    liste.font.size = Pt(10.5)
    liste.paragraph_format.space_after = Pt(2)


def _section(doc: DocumentObject, *, landscape: bool, top: float, header_distance: float,
             margin: float = 20) -> None:
    section = doc.sections[0]
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(297), Mm(210)
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(margin)
    section.top_margin = Mm(top)
    section.bottom_margin = Mm(22)
    section.header_distance = Mm(header_distance)
    section.footer_distance = Mm(10)


def _header(doc: DocumentObject, width: float) -> None:
    """Logo (when configured) and the organisme's name and address; the document's kind."""
    header = doc.sections[0].header
    header.is_linked_to_previous = False
    first = header.paragraphs[0]
    first._p.getparent().remove(first._p)
    widths = (width * 0.62, width * 0.38)
    table = new_table(header, widths, borders=False, width_total=width)
    row = table.add_row()  # type: ignore[no-untyped-call]
    left, right = row.cells
    left.width, right.width = Mm(widths[0]), Mm(widths[1])
    left.vertical_alignment = right.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.BOTTOM
    p = left.paragraphs[0]
    p.style = doc.styles["Balise"]
    p.add_run("{%p if organisme.logo %}")
    para(left, "{{ organisme.logo }}", style="Tableau", after=2)
    tag(left, "{%p endif %}")
    para(left, ("{{ organisme.nom }}", {"bold": True, "size": 11, "color": ACCENT}),
         style="Tableau")
    para(left, ("{{ organisme.adresse }}", {"size": 8, "color": GREY}), style="Tableau")
    p = right.paragraphs[0]
    p.style = doc.styles["Petit"]
    p.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    p.add_run("{{ document.titre }}")
    para(right, ("{{ certification.intitule }}", {"size": 8, "color": GREY}), style="Petit",
         align="right")
    _borders(table, sides=("bottom",))
    p = header.add_paragraph(style="Petit")
    p.paragraph_format.space_after = Pt(0)


def _footer(doc: DocumentObject, width: float) -> None:
    """« Organisme · document » on the left, « Page n sur m » on the right."""
    footer = doc.sections[0].footer
    footer.is_linked_to_previous = False
    p = footer.paragraphs[0]
    p.style = doc.styles["Petit"]
    p.paragraph_format.tab_stops.add_tab_stop(Mm(width), WD_TAB_ALIGNMENT.RIGHT)
    _paragraph_border(p, "top")
    fmt = {"size": 8, "color": GREY}
    for text in ("{{ organisme.nom }}", " · ", "{{ document.titre }}", "\tPage "):
        _format(p.add_run(text), fmt)
    _field(p, "PAGE", "1", fmt)
    # In the merged printing file certidocs drops « sur n » (it would count every document)
    # and page numbers restart with each document.
    _format(p.add_run(" sur "), fmt)
    _field(p, "NUMPAGES", "1", fmt)


HOUSE_STYLES: list[str] = []  # filled by _styles: the paragraph styles certidocs defines
KEEP_STYLES = {"Normal", "DefaultParagraphFont", "TableNormal", "NoList", "TableGrid",
               "ListBullet", "Header", "Footer"}
STYLES_WITH_EFFECTS = "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"
THUMBNAIL = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/thumbnail"


def trim(doc: DocumentObject) -> None:
    """Keep only the styles in use (and the house styles), drop python-docx's sample parts.

    python-docx's blank document carries 170 styles (800 kB of XML, with its Word 2010 copy):
    every render opens and saves them, and merging compares every paragraph with every style.
    """
    styles_el = doc.styles.element
    by_id = {s.get(qn("w:styleId")): s for s in styles_el.findall(qn("w:style"))}
    wanted = set(KEEP_STYLES) | {doc.styles[name].style_id for name in HOUSE_STYLES}
    parts = [doc.element] + [rel.target_part.element for rel in doc.part.rels.values()
                             if rel.reltype.endswith(("/header", "/footer"))]
    for root in parts:
        for tag_name in ("w:pStyle", "w:rStyle", "w:tblStyle"):
            wanted |= {el.get(qn("w:val")) for el in root.iter(qn(tag_name))}
    todo = list(wanted)
    while todo:  # a kept style keeps what it is based on, linked to and followed by
        style = by_id.get(todo.pop())
        if style is None:
            continue
        for ref in ("w:basedOn", "w:link", "w:next"):
            el = style.find(qn(ref))
            if el is not None and el.get(qn("w:val")) not in wanted:
                wanted.add(el.get(qn("w:val")))
                todo.append(el.get(qn("w:val")))
    for sid, style in by_id.items():
        if sid not in wanted:
            styles_el.remove(style)
    for rid, rel in list(doc.part.rels.items()):
        if rel.reltype == STYLES_WITH_EFFECTS:
            doc.part.rels.pop(rid, None)
    package_rels = doc.part.package.rels
    for rid, rel in list(package_rels.items()):
        if rel.reltype == THUMBNAIL:
            package_rels.pop(rid, None)


def new_document(title: str, *, landscape: bool = False, letter: bool = False,
                 chrome: bool = True) -> DocumentObject:
    """An A4 document with the house styles, header and footer."""
    doc = Document()
    _styles(doc)
    width = LANDSCAPE_WIDTH if landscape else PORTRAIT_WIDTH
    if chrome:
        _section(doc, landscape=landscape, top=40 if letter else 34, header_distance=9)
        _header(doc, width)
        _footer(doc, width)
    else:
        _section(doc, landscape=landscape, top=20, header_distance=10, margin=20)
    # python-docx's blank document starts with an empty paragraph; drop it
    body = doc.element.body
    for p in list(body.findall(qn("w:p"))):
        body.remove(p)
    props = doc.core_properties
    props.title = title
    props.author = "certidocs"
    props.last_modified_by = "certidocs"
    props.language = "fr-FR"
    props.comments = ("Modèle certidocs : les balises entre accolades sont remplacées à la "
                      "génération ; voir LISEZMOI.md.")
    props.revision = 1
    return doc


def titles(doc: DocumentObject, title: str, subtitle: Sequence[Run]) -> None:
    """The document's title and subtitle, centred."""
    para(doc, title, style="Titre du document")
    para(doc, *subtitle, style="Sous-titre du document")


def signature_block(doc: DocumentObject, lines: Sequence[Sequence[Run]], *,
                    indent: float = LETTER_INDENT, space: float = 42) -> None:
    """« Fait à …, le … », the signatory's function, room to sign, the name."""
    para(doc, "{{ document.fait_a }}", style="Adresse", indent=indent, before=10, after=6,
         keep=True)
    for i, runs in enumerate(lines):
        last = i == len(lines) - 1
        para(doc, *runs, style="Adresse", indent=indent, keep=not last,
             before=space if last else None)


def letter_head(doc: DocumentObject, recipient: Sequence[Sequence[Run]],
                refs: Sequence[tuple[str, str, str]], objet: Sequence[Run]) -> None:
    """Recipient block (window-envelope position), references and « Objet : »."""
    for i, runs in enumerate(recipient):
        para(doc, *runs, style="Adresse", indent=LETTER_INDENT, before=4 if i == 0 else None)
    spacer(doc, 20)
    refs = [*refs, ("organisme.contact", "Contact : ", "{{ organisme.contact }}")]
    for condition, label, value in refs:
        if condition:
            tag(doc, f"{{%p if {condition} %}}")
        para(doc, (label, {"bold": True, "size": 9}), (value, {"size": 9}), style="Adresse")
        if condition:
            tag(doc, "{%p endif %}")
    spacer(doc, 10)
    para(doc, ("Objet : ", {"bold": True}), *objet, style="Corps de lettre", after=14)


def bullets(doc: DocumentObject, loop: str, *runs: Run) -> None:
    """A bulleted line repeated for each item of ``loop``."""
    tag(doc, f"{{%p for {loop} %}}")
    para(doc, *runs, style="List Bullet")
    tag(doc, "{%p endfor %}")


def closing(doc: DocumentObject, appel: str) -> None:
    """The French closing formula."""
    # kept with the signature: a page never starts with « Fait à … » alone
    para(doc, "Nous vous prions d'agréer, ", appel,
         ", l'expression de nos salutations distinguées.", style="Corps de lettre", keep=True)


# --- the documents --------------------------------------------------------------------------

B = {"bold": True}
I = {"italic": True}  # noqa: E741


def convocation_candidat() -> DocumentObject:
    """Convocation of a candidate, sent a month before the session."""
    doc = new_document("Convocation du candidat", letter=True)
    letter_head(
        doc,
        [["{{ candidat.identite }}"], ["{{ candidat.adresse }}"],
         ["{{ candidat.code_postal }}", " ", "{{ candidat.ville }}"]],
        [("", "Candidat n° ", "{{ candidat.numero }}"),
         ("session.responsable", "Dossier suivi par : ", "{{ session.responsable }}")],
        ["Convocation à la session de certification « ", "{{ certification.intitule }}", " »"],
    )
    para(doc, "{{ candidat.salutation }}", style="Corps de lettre")
    para(doc, "Nous avons le plaisir de vous convoquer aux épreuves de la certification "
         "professionnelle ", "{{ session.designation }}", ", qui se dérouleront ",
         "{{ session.periode }}",
         " à l'adresse suivante :", style="Corps de lettre")
    para(doc, ("{{ session.lieu }}", B), style="Adresse", indent=15)
    para(doc, "{{ session.adresse }}", style="Adresse", indent=15, after=8)
    tag(doc, "{%p if candidat.epreuves %}")
    para(doc, "Votre horaire de passage", style="Intertitre")
    widths = (62, 50, 25, 33)
    loop_table(doc, widths, ("Épreuve", "Date", "Heure", "Salle"), "e in candidat.epreuves",
               [["{{ e.epreuve }}"], ["{{ e.date }}"], [("{{ e.heure }}", B)], ["{{ e.salle }}"]])
    spacer(doc)
    tag(doc, "{%p else %}")
    para(doc, "Votre horaire de passage vous sera communiqué par courriel dans les jours qui "
         "précèdent la session.", style="Corps de lettre")
    tag(doc, "{%p endif %}")
    para(doc, "Vous présenterez les blocs de compétences suivants :", style="Corps de lettre",
         keep=True)
    bullets(doc, "b in candidat.blocs", ("{{ b.code }}", B), " – ", "{{ b.intitule }}")
    para(doc, "Merci de vous présenter quinze minutes avant l'heure indiquée, muni",
         "{{ candidat.e }}", " de la présente convocation et d'une pièce d'identité en cours de "
         "validité (carte nationale d'identité, passeport ou titre de séjour). Sans pièce "
         "d'identité, vous ne pourrez pas être admis", "{{ candidat.e }}", " à composer.",
         style="Corps de lettre", before=6)
    para(doc, "Si vous êtes en situation de handicap et souhaitez un aménagement des épreuves, "
         "ou si vous ne pouvez pas vous présenter, merci de nous prévenir dès réception de ce "
         "courrier.", style="Corps de lettre")
    closing(doc, "{{ candidat.appel }}")
    signature_block(doc, [["{{ signataire.fonction }}"], [("{{ signataire.nom }}", B)]])
    return doc


def convocation_jury() -> DocumentObject:
    """Convocation of a juror, with the candidates and what jurors must know."""
    doc = new_document("Convocation du jury", letter=True)
    letter_head(
        doc,
        # no postal address on the Jury sheet: the juror is reached at their organisation
        [["{{ jure.identite }}"], ["{{ jure.fonction }}"], ["{{ jure.organisme }}"]],
        [("session.responsable", "Dossier suivi par : ", "{{ session.responsable }}")],
        ["Convocation au jury de la certification « ", "{{ certification.intitule }}", " »"],
    )
    para(doc, "{{ jure.salutation }}", style="Corps de lettre")
    para(doc, "Nous vous remercions d'avoir accepté de siéger au jury de la certification "
         "professionnelle « ", "{{ certification.intitule }}", " », en qualité de ",
         ("{{ jure.qualite }}", B), ". La session « ", "{{ session.intitule }}",
         " » se déroulera ", "{{ session.periode }}", " à l'adresse suivante :",
         style="Corps de lettre")
    para(doc, ("{{ session.lieu }}", B), style="Adresse", indent=15)
    para(doc, "{{ session.adresse }}", style="Adresse", indent=15, after=8)
    tag(doc, "{%p if session.date_deliberation %}")
    para(doc, "La délibération du jury aura lieu le ", ("{{ session.date_deliberation }}", B),
         ".", style="Corps de lettre")
    tag(doc, "{%p endif %}")
    para(doc, "Candidats à évaluer", style="Intertitre")
    widths = (18, 52, 30, 70)
    loop_table(doc, widths, ("N°", "Candidat", "Voie d'accès", "Épreuves"),
               "c in candidats",
               [["{{ c.numero }}"], ["{{ c.nom_complet }}"], ["{{ c.voie_acces }}"],
                ["{%p for e in c.epreuves %}"]],
               empty="Aucun candidat inscrit pour le moment.", empty_test="candidats")
    # the épreuves cell: one line per épreuve, between the for/endfor paragraphs
    body_row = doc.tables[-1].rows[2]
    cell = body_row.cells[3]
    para(cell, "{{ e.resume }}", style="Tableau")
    tag(cell, "{%p endfor %}")
    # a cell must keep one paragraph, or Word and LibreOffice drop it from the row
    tag(cell, "{%p if not c.epreuves %}")
    para(cell, ("horaire à préciser", I), style="Tableau")
    tag(cell, "{%p endif %}")
    spacer(doc)
    para(doc, "Impartialité", style="Intertitre")
    para(doc, "Un membre du jury ne peut pas évaluer un candidat qu'il a formé ou dont il a été "
         "le tuteur. Si c'est le cas pour l'un des candidats ci-dessus, merci de nous le signaler "
         "dès réception de ce courrier : nous organiserons votre remplacement pour ce candidat.",
         style="Corps de lettre")
    tag(doc, "{%p if informations_jury %}")
    para(doc, "Informations à l'attention du jury", style="Intertitre")
    bullets(doc, "i in informations_jury", "{{ i }}")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if qualites_non_observables %}")
    para(doc, "Le jury ne peut pas observer, et n'évalue donc pas :", style="Corps de lettre",
         before=6, keep=True)
    bullets(doc, "q in qualites_non_observables", "{{ q }}")
    tag(doc, "{%p endif %}")
    para(doc, "Nous vous remercions de votre engagement et vous prions d'agréer, ",
         "{{ jure.appel }}", ", l'expression de nos salutations distinguées.",
         style="Corps de lettre", before=6, keep=True)
    signature_block(doc, [["{{ signataire.fonction }}"], [("{{ signataire.nom }}", B)]])
    return doc


def _session_table(doc: DocumentObject, with_deliberation: bool = False) -> None:
    rows: list[tuple[str, Sequence[Run]]] = [
        ("Certification", [("{{ certification.intitule }}", B), " (", "{{ certification.code }}",
                           ")"]),
        ("Session", ["{{ session.intitule }}", ", ", "{{ session.periode }}"]),
        ("Lieu", ["{{ session.lieu }}", " – ", "{{ session.adresse }}"]),
        ("Responsable de session", ["{{ session.responsable }}"]),
    ]
    if with_deliberation:
        rows.append(("Délibération du jury", ["{{ session.date_deliberation }}"]))
    label_table(doc, rows)
    spacer(doc, 8)


def emargement() -> DocumentObject:
    """Attendance sheet: one part per exam day, the jury signing first, then a signature per
    candidate. The jury's table comes first, so that it never ends up alone on the last page
    of a day; the épreuve is printed small, so that a row stays two lines high."""
    doc = new_document("Feuille d'émargement")
    tag(doc, "{%p for j in journees %}")
    titles(doc, "Feuille d'émargement", ["Journée du ", ("{{ j.date }}", B), " – ",
                                         "{{ document.sous_titre }}"])
    label_table(doc, [
        ("Lieu", ["{{ session.lieu }}", " – ", "{{ session.adresse }}"]),
        ("Responsable de session", ["{{ session.responsable }}"]),
    ])
    spacer(doc, 4)
    para(doc, "Membres du jury", style="Intertitre")
    widths2 = (62, 58, 50)
    loop_table(doc, widths2, ("Membre du jury", "Qualité", "Signature"), "m in jury",
               [[("{{ m.nom_complet }}", B)], ["{{ m.qualite }}"], []], height=10,
               empty="Aucun membre du jury renseigné.", empty_test="jury")
    para(doc, "Candidats", style="Intertitre")
    # the count goes above the table: below, it would fall alone on a last page
    para(doc, "Candidats attendus : ", ("{{ j.nombre }}", B),
         "     Candidats présents : ……………", style="Corps de lettre", keep=True)
    small = {"size": 8}
    widths = (10, 44, 21, 41, 18, 36)
    loop_table(doc, widths, ("N°", "Candidat", "Né(e) le", "Épreuve(s) et salle",
                             "Pièce d'identité vérifiée", "Signature"),
               "c in j.candidats",
               [["{{ c.numero }}"], [("{{ c.nom_majuscules }}", B), " ", "{{ c.prenom }}"],
                ["{{ c.date_naissance_courte }}"],
                [("{{ c.epreuves_salle }}", small)], ["☐"], []],
               height=12, align=(None, None, None, None, "center", None),
               empty="Aucun candidat.", empty_test="j.candidats")
    tag(doc, "{%p if not loop.last %}")
    page_break(doc)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endfor %}")
    return doc


def fiche_resultats() -> DocumentObject:
    """Individual results of one candidate: blocs, decision, retake."""
    doc = new_document("Fiche individuelle de résultats")
    titles(doc, "Fiche individuelle de résultats",
           ["{{ document.sous_titre }}"])
    para(doc, "Candidat", style="Intertitre")
    label_table(doc, [
        ("N° candidat", ["{{ candidat.numero }}"]),
        ("Nom de naissance", [("{{ candidat.nom_naissance }}", B)]),
        ("Nom d'usage", ["{{ candidat.nom_usage }}"], "candidat.nom_usage"),
        ("Prénom", ["{{ candidat.prenom }}"]),
        ("Date et lieu de naissance", ["{{ candidat.date_naissance }}", " à ",
                                       "{{ candidat.lieu_naissance }}"]),
        ("Voie d'accès", ["{{ candidat.voie_acces }}"]),
    ])
    para(doc, "Session", style="Intertitre")
    label_table(doc, [
        ("Session", ["{{ session.intitule }}", ", ", "{{ session.periode }}"]),
        ("Lieu", ["{{ session.lieu }}", " – ", "{{ session.adresse }}"]),
        ("Délibération du jury", ["{{ session.date_deliberation }}"]),
    ])
    para(doc, "Résultats par bloc de compétences", style="Intertitre")
    widths = (20, 78, 24, 20, 28)
    loop_table(doc, widths, ("Bloc", "Intitulé", "Critères acquis", "Taux", "Résultat"),
               "b in resultat.blocs",
               [[("{{ b.code }}", B)], ["{{ b.intitule }}"], ["{{ b.acquis_sur_total }}"],
                ["{{ b.taux }}"], [("{{ b.etat }}", B)]],
               align=(None, None, "center", "center", None),
               empty="Aucun bloc évalué.", empty_test="resultat.blocs")
    tag(doc, "{%p if resultat.blocs_capitalises %}")
    para(doc, "« Validé (capitalisé) » : bloc validé lors d'une session antérieure, acquis "
         "sans nouvelle évaluation.", style="Petit", before=4)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if regles.mode_global %}")
    para(doc, ("Ensemble des critères : ", B), "{{ resultat.acquis }}", " acquis sur ",
         "{{ resultat.total }}", ", soit ", ("{{ resultat.taux }}", B),
         ". La certification est obtenue lorsque ce taux atteint ",
         "{{ regles.seuil_certification }}", ".", style="Petit", before=4)
    tag(doc, "{%p else %}")
    para(doc, "Un bloc est validé lorsque ", "{{ regles.seuil_bloc }}",
         " au moins de ses critères sont acquis ; la certification est obtenue lorsque tous "
         "les blocs sont validés.", style="Petit", before=4)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if resultat.observations %}")
    para(doc, "Observations du jury", style="Intertitre")
    loop_table(doc, (20, 26, 124), ("Bloc", "Critère", "Observation"),
               "o in resultat.observations",
               [[("{{ o.bloc }}", B)], ["{{ o.critere }}"], ["{{ o.texte }}"]])
    tag(doc, "{%p endif %}")
    # A shaded paragraph, not a table: kept with the retake and the signature that follow
    # (LibreOffice ignores « keep with next » on a table), never a signature alone.
    p = para(doc, ("Décision du jury : ", {"bold": True, "size": 12}),
             ("{{ resultat.decision }}", {"bold": True, "size": 12, "color": ACCENT}),
             align="center", before=10, after=4, keep=True)
    ppr = p._p.get_or_add_pPr()
    for side in ("top", "bottom"):
        _paragraph_border(p, side)
    _set(ppr, "w:shd", val="clear", color="auto", fill=DECISION_FILL)
    tag(doc, "{%p if resultat.rattrapage_possible %}")
    para(doc, ("Rattrapage : ", B), "vous pouvez vous présenter à une session de rattrapage "
         "jusqu'au ", ("{{ resultat.rattrapage_jusqu_au }}", B),
         " pour les blocs non validés.", style="Corps de lettre", before=8, keep=True)
    tag(doc, "{%p endif %}")
    signature_block(doc, [["{{ president.qualite }}"],
                          [("{{ president.nom_complet }}", B)]], space=22)
    return doc


def proces_verbal() -> DocumentObject:
    """The session's procès-verbal: every decision, a signature per juror, countersignature."""
    doc = new_document("Procès-verbal de session")
    titles(doc, "Procès-verbal de la session de certification",
           ["{{ document.sous_titre }}"])
    _session_table(doc, with_deliberation=True)
    para(doc, "Décisions du jury", style="Intertitre")
    # One table per group of candidates (candidats_par_tableau), the groups separated by a
    # 1-point paragraph: LibreOffice lays a table out in a time that grows faster than its
    # rows (a 10,000-row table: 19 minutes to PDF, 100 tables of 100 rows: about a minute).
    # On paper nothing changes: the header row is repeated on every page either way.
    tag(doc, "{%p for groupe in candidats_par_tableau %}")
    widths = (14, 46, 24, 56, 30)
    table = loop_table(doc, widths, ("N°", "Candidat", "Voie d'accès", "Résultats par bloc",
                                     "Décision"),
                       "c in groupe",
                       [["{{ c.numero }}"], [("{{ c.nom_complet }}", B)], ["{{ c.voie_acces }}"],
                        ["{%p for b in c.resultat.blocs %}"], [("{{ c.resultat.decision }}", B)]],
                       empty="Aucun candidat.", empty_test="candidats")
    gap = para(doc, "", before=0, after=0)
    gap.paragraph_format.line_spacing = Pt(1)
    tag(doc, "{%p endfor %}")
    # homonyms (two Julie MARTIN) are told apart by their birth date, as on the register
    para(table.rows[2].cells[1], ("{{ c.ne }}", {"size": 8, "color": GREY}),
         (" le ", {"size": 8, "color": GREY}),
         ("{{ c.date_naissance_courte }}", {"size": 8, "color": GREY}), style="Tableau")
    cell = table.rows[2].cells[3]
    para(cell, ("{{ b.code }}", B), " : ", "{{ b.etat }}", " ", ("{{ b.detail }}", {"size": 8,
                                                                                  "color": GREY}),
         style="Tableau")
    tag(cell, "{%p endfor %}")
    tag(cell, "{%p if not c.resultat.blocs %}")
    para(cell, "—", style="Tableau")
    tag(cell, "{%p endif %}")
    para(doc, "Inscrits : ", ("{{ effectifs.inscrits }}", B), " – présents : ",
         ("{{ effectifs.presents }}", B), " – certifiés : ", ("{{ effectifs.certifies }}", B),
         " – validation partielle : ", ("{{ effectifs.partiels }}", B), " – non certifiés : ",
         ("{{ effectifs.non_certifies }}", B), " – absents : ", ("{{ effectifs.absents }}", B),
         style="Petit", before=6, after=6)
    tag(doc, "{%p if candidats_observes %}")
    para(doc, "Observations du jury", style="Intertitre")
    table = loop_table(doc, (14, 46, 110), ("N°", "Candidat", "Observations des jurés"),
                       "c in candidats_observes",
                       [["{{ c.numero }}"], [("{{ c.nom_complet }}", B)],
                        ["{%p for o in c.resultat.observations %}"]])
    cell = table.rows[2].cells[2]
    para(cell, ("{{ o.bloc }}", B), " · ", "{{ o.critere }}", " : ", "{{ o.texte }}",
         style="Tableau")
    tag(cell, "{%p endfor %}")
    tag(doc, "{%p endif %}")
    para(doc, "Blocs de compétences", style="Intertitre")
    loop_table(doc, (22, 148), ("Code", "Intitulé du bloc"), "b in blocs",
               [[("{{ b.code }}", B)], ["{{ b.intitule }}"]])
    para(doc, "Le jury, réuni le ", "{{ session.date_deliberation }}",
         ", a arrêté les décisions ci-dessus, prises conformément au règlement de la "
         "certification.", style="Corps de lettre", before=10, keep=True)
    tag(doc, "{%p if scellement.empreinte %}")
    para(doc, "Décisions scellées au registre (version ", "{{ scellement.version }}",
         ") – empreinte : ", ("{{ scellement.empreinte }}", B), style="Petit", keep=True)
    tag(doc, "{%p endif %}")
    para(doc, "Signatures des membres du jury et contreseing", style="Intertitre")
    # One table: the jurors' signatures and the session manager's countersignature, its rows
    # kept together, so that the countersignature never falls alone on a last page.
    widths = (60, 60, 50)
    table = loop_table(doc, widths, ("Membre du jury", "Qualité", "Signature"), "m in jury",
                       [[("{{ m.nom_complet }}", B)], ["{{ m.qualite }}"], []], height=15,
                       empty="Aucun membre du jury renseigné.", empty_test="jury")
    row = add_row(table, widths, [[("Contreseing du responsable de session", B)],
                                  [("{{ session.responsable }}", B)], []], height=15)
    _shade(row.cells[0], HEADER_FILL)
    row = add_row(table, widths, [["{{ document.fait_a }}"], [], []])
    row.cells[0].merge(row.cells[2])
    for r in table.rows:
        for c in r.cells:
            for p in c.paragraphs:
                p.paragraph_format.keep_with_next = True
    return doc


def certificat() -> DocumentObject:
    """The parchemin: landscape, framed, every mandatory mention, number, code and QR code."""
    doc = new_document("Certificat", landscape=True, chrome=False)
    section = doc.sections[0]
    sectpr = section._sectPr
    borders = OxmlElement("w:pgBorders")
    borders.set(qn("w:offsetFrom"), "page")
    for side in ("top", "left", "bottom", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "thinThickSmallGap")
        el.set(qn("w:sz"), "24")
        el.set(qn("w:space"), "24")
        el.set(qn("w:color"), "1F3A5F")
        borders.append(el)
    _insert(sectpr, borders)

    section.top_margin = section.bottom_margin = Mm(16)
    section.left_margin = section.right_margin = Mm(22)

    # LibreOffice ignores a page's vertical centring: the text is spaced by hand so that it
    # fills the frame the same way in Word and in the PDF.
    tag(doc, "{%p if organisme.logo %}")
    para(doc, "{{ organisme.logo }}", align="center", after=2)
    tag(doc, "{%p endif %}")
    para(doc, ("{{ certification.certificateur }}", {"caps": True, "spacing": 1.5, "size": 11,
                                                     "color": ACCENT, "bold": True}),
         align="center", before=14, after=6)
    para(doc, ("Certificat", {"caps": True, "spacing": 6, "size": 30, "bold": True,
                              "color": ACCENT}), align="center", after=0)
    para(doc, ("de certification professionnelle", {"italic": True, "size": 12,
                                                     "color": GREY}),
         align="center", after=18)
    para(doc, ("{{ certification.certificateur }}", {"size": 12}), (" certifie que", {"size": 12}),
         align="center", after=6)
    para(doc, ("{{ candidat.civilite }}", {"size": 20}), (" ", {"size": 20}),
         ("{{ candidat.prenom }}", {"size": 20, "bold": True}), (" ", {"size": 20}),
         ("{{ candidat.nom_naissance_majuscules }}", {"size": 20, "bold": True}),
         align="center", after=0)
    tag(doc, "{%p if candidat.nom_usage %}")
    para(doc, ("nom d'usage : ", {"size": 11}), ("{{ candidat.nom_usage_majuscules }}",
                                                 {"size": 11, "bold": True}),
         align="center", after=0)
    tag(doc, "{%p endif %}")
    para(doc, ("{{ candidat.ne }}", {"size": 12}), (" le ", {"size": 12}),
         ("{{ candidat.date_naissance }}", {"size": 12}), (" à ", {"size": 12}),
         ("{{ candidat.lieu_naissance }}", {"size": 12}), align="center", before=2, after=14)
    para(doc, ("a obtenu la certification professionnelle", {"size": 12}), align="center",
         after=4)
    para(doc, ("« ", {"size": 19, "bold": True, "color": ACCENT}),
         ("{{ certification.intitule }}", {"size": 19, "bold": True, "color": ACCENT}),
         (" »", {"size": 19, "bold": True, "color": ACCENT}), align="center", after=2)
    para(doc, ("{{ certification.mention_rncp }}", {"size": 10}), align="center", after=0)
    tag(doc, "{%p if certification.mention_niveau_nsf %}")
    para(doc, ("{{ certification.mention_niveau_nsf }}", {"size": 10}), align="center", after=0)
    tag(doc, "{%p endif %}")
    para(doc, "", align="center", after=2)
    para(doc, ("à l'issue de la session « ", {"size": 10, "color": GREY}),
         ("{{ session.intitule }}", {"size": 10, "color": GREY}),
         (" », sur décision du jury réuni le ", {"size": 10, "color": GREY}),
         ("{{ session.date_deliberation }}", {"size": 10, "color": GREY}),
         (".", {"size": 10, "color": GREY}), align="center", after=18)

    widths = (70, 113, 70)
    table = new_table(doc, widths, borders=False)
    row = table.add_row()  # type: ignore[no-untyped-call]
    for cell, w in zip(row.cells, widths, strict=True):
        cell.width = Mm(w)
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.BOTTOM
    left, middle, right = row.cells
    first_paragraph(left, "{{ certificat.qr }}", align="left")
    tag(left, "{%p if certificat.url_verification %}")
    para(left, "Vérifier ce certificat :", style="Petit")
    para(left, "{{ certificat.url_verification }}", style="Petit")
    tag(left, "{%p endif %}")
    first_paragraph(middle, ("{{ document.fait_a }}", {"size": 10.5}), align="center")
    para(middle, ("Certificat n° ", {"size": 10}), ("{{ certificat.numero }}",
                                                   {"size": 10, "bold": True}),
         style="Tableau", align="center", before=6)
    para(middle, ("Code de vérification : ", {"size": 10}),
         ("{{ certificat.code_verification }}", {"size": 10, "bold": True}), style="Tableau",
         align="center")
    first_paragraph(right, ("{{ signataire.fonction }}", {"size": 10.5}), align="center")
    para(right, "", style="Tableau", align="center", after=40)
    para(right, ("{{ signataire.nom }}", {"size": 10.5, "bold": True}), style="Tableau",
         align="center")
    return doc


def attestation_blocs() -> DocumentObject:
    """Attestation of the blocs a candidate validated without the whole certification: the
    parchemin's mentions, the blocs by their official codes, and that only they are
    validated."""
    doc = new_document("Attestation de validation de blocs de compétences")
    titles(doc, "Attestation de validation de blocs de compétences",
           ["Certification professionnelle « ", "{{ certification.intitule }}", " »"])
    label_table(doc, [
        ("Certificateur", [("{{ certification.certificateur }}", B)]),
        ("Certification", ["« ", "{{ certification.intitule }}", " »"]),
        ("Enregistrement", ["{{ certification.mention_rncp }}"], "certification.mention_rncp"),
        ("Niveau et code NSF", ["{{ certification.mention_niveau_nsf }}"],
         "certification.mention_niveau_nsf"),
    ])
    para(doc, "{{ certification.certificateur }}", " atteste que :", style="Corps de lettre",
         before=8)
    label_table(doc, [
        ("Civilité", ["{{ candidat.civilite }}"], "candidat.civilite"),
        ("Nom de naissance", [("{{ candidat.nom_naissance_majuscules }}", B)]),
        ("Nom d'usage", ["{{ candidat.nom_usage_majuscules }}"], "candidat.nom_usage"),
        ("Prénom", [("{{ candidat.prenom }}", B)]),
        ("Date et lieu de naissance", ["{{ candidat.date_naissance }}", " à ",
                                       "{{ candidat.lieu_naissance }}"]),
    ])
    para(doc, "a validé, à l'issue de la session « ", "{{ session.intitule }}",
         " » (jury réuni le ", "{{ session.date_deliberation }}",
         "), le ou les seuls blocs de compétences suivants de cette certification :",
         style="Corps de lettre", before=10, keep=True)
    loop_table(doc, (40, 100, 30), ("Code officiel du bloc", "Intitulé du bloc de compétences",
                                    "Résultat"),
               "b in resultat.blocs_valides",
               [[("{{ b.code_officiel }}", B)], ["{{ b.intitule }}"], ["{{ b.etat }}"]])
    para(doc, "Cette attestation ne vaut pas certification : seuls les blocs ci-dessus sont "
         "validés ; la certification est obtenue lorsque tous ses blocs le sont.",
         style="Corps de lettre", before=8)
    tag(doc, "{%p if regles.capitalisation %}")
    para(doc, "Ces blocs sont acquis définitivement : ils n'auront pas à être présentés de "
         "nouveau pour obtenir la certification complète.", style="Corps de lettre")
    tag(doc, "{%p endif %}")
    para(doc, "La présente attestation est délivrée pour servir et valoir ce que de droit.",
         style="Corps de lettre", before=4)
    signature_block(doc, [["{{ signataire.fonction }}"], [("{{ signataire.nom }}", B)]])
    return doc


def notification_resultats() -> DocumentObject:
    """Results letter: the decision, the blocs, the retake right or the certificate."""
    doc = new_document("Notification de résultats", letter=True)
    letter_head(
        doc,
        [["{{ candidat.identite }}"], ["{{ candidat.adresse }}"],
         ["{{ candidat.code_postal }}", " ", "{{ candidat.ville }}"]],
        [("", "Candidat n° ", "{{ candidat.numero }}"),
         ("session.responsable", "Dossier suivi par : ", "{{ session.responsable }}")],
        ["Résultats de la certification « ", "{{ certification.intitule }}", " »"],
    )
    para(doc, "{{ candidat.salutation }}", style="Corps de lettre")
    tag(doc, "{%p if resultat.absent %}")
    para(doc, "Vous étiez convoqué", "{{ candidat.e }}", " aux épreuves de la session « ",
         "{{ session.intitule }}", " » qui se sont déroulées ", "{{ session.periode }}",
         ". Vous ne vous y êtes pas présenté", "{{ candidat.e }}",
         " : aucun résultat ne peut donc vous être attribué pour cette session.",
         style="Corps de lettre")
    tag(doc, "{%p else %}")
    para(doc, "Le jury de la certification professionnelle « ", "{{ certification.intitule }}",
         " », réuni le ", "{{ session.date_deliberation }}",
         ", a examiné les résultats de vos évaluations de la session « ",
         "{{ session.intitule }}", " ». Il a pris la décision suivante :",
         style="Corps de lettre")
    para(doc, ("{{ resultat.decision }}", {"bold": True, "size": 13, "color": ACCENT}),
         align="center", before=4, after=8)
    loop_table(doc, (20, 100, 22, 28), ("Bloc", "Intitulé", "Critères acquis", "Résultat"),
               "b in resultat.blocs",
               [[("{{ b.code }}", B)], ["{{ b.intitule }}"],
                ["{{ b.acquis_sur_total }}"], [("{{ b.etat }}", B)]],
               align=(None, None, "center", None))
    spacer(doc, 6)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if resultat.certifie %}")
    para(doc, "Nous avons le plaisir de vous informer que vous êtes titulaire de la "
         "certification professionnelle « ", "{{ certification.intitule }}", " ».",
         style="Corps de lettre")
    tag(doc, "{%p if certificat.numero %}")
    para(doc, "Votre certificat, n° ", ("{{ certificat.numero }}", B),
         ", est joint à ce courrier. Il porte un code de vérification qui permet à tout "
         "employeur de s'assurer de son authenticité auprès de nos services.",
         style="Corps de lettre")
    tag(doc, "{%p else %}")
    para(doc, "Votre certificat vous sera adressé prochainement.", style="Corps de lettre")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if resultat.blocs_valides and not resultat.certifie %}")
    para(doc, "Les blocs de compétences que vous avez validés vous sont acquis ; une "
         "attestation de validation de blocs est jointe à ce courrier.",
         style="Corps de lettre")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if resultat.rattrapage_possible %}")
    para(doc, "Vous pouvez vous présenter à une nouvelle session jusqu'au ",
         ("{{ resultat.rattrapage_jusqu_au }}", B),
         ". Pour vous inscrire, prenez contact avec nos services.", style="Corps de lettre")
    tag(doc, "{%p if resultat.blocs_valides and regles.capitalisation %}")
    para(doc, "Vous n'y présenterez que les blocs que vous n'avez pas encore validés.",
         style="Corps de lettre")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p elif resultat.absent %}")
    para(doc, "Une absence ne compte pas comme une présentation aux épreuves. Pour vous "
         "inscrire à une prochaine session, prenez contact avec nos services.",
         style="Corps de lettre")
    tag(doc, "{%p elif not resultat.certifie %}")
    para(doc, "Au regard du règlement de la certification, une nouvelle présentation à une "
         "session de rattrapage n'est pas possible.", style="Corps de lettre")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if resultat.partiel or resultat.non_certifie %}")
    para(doc, ("Voies de recours. ", B), "Si vous estimez que cette décision est entachée "
         "d'une irrégularité dans l'organisation ou le déroulement de la session, vous pouvez "
         "former un recours écrit et motivé", "{{ voies_recours.dans_le_delai }}",
         ", adressé à :", style="Corps de lettre", keep=True)
    para(doc, ("{{ voies_recours.destinataire }}", B), style="Adresse", indent=15)
    para(doc, "{{ voies_recours.adresse }}", style="Adresse", indent=15, after=8)
    tag(doc, "{%p endif %}")
    closing(doc, "{{ candidat.appel }}")
    signature_block(doc, [["{{ signataire.fonction }}"], [("{{ signataire.nom }}", B)]])
    return doc


def non_recevabilite() -> DocumentObject:
    """Notice that an appeal is not admissible: its date, its grounds, the reasons."""
    doc = new_document("Notification de non-recevabilité", letter=True)
    letter_head(
        doc,
        [["{{ candidat.identite }}"], ["{{ candidat.adresse }}"],
         ["{{ candidat.code_postal }}", " ", "{{ candidat.ville }}"]],
        [("", "Candidat n° ", "{{ candidat.numero }}"),
         ("session.responsable", "Dossier suivi par : ", "{{ session.responsable }}")],
        ["Notification de non-recevabilité de votre recours"],
    )
    para(doc, "{{ candidat.salutation }}", style="Corps de lettre")
    para(doc, "Par un courrier reçu le ", ("{{ recours.date_reception }}", B),
         ", vous avez formé un recours contre la décision du jury de la certification "
         "professionnelle ", "{{ session.designation }}", ".", style="Corps de lettre")
    para(doc, "Vous invoquiez les motifs suivants :", style="Corps de lettre", keep=True)
    para(doc, ("{{ recours.motifs }}", I), style="Corps de lettre", indent=10)
    para(doc, "Après examen, votre recours a été déclaré ", ("non recevable", B), " le ",
         "{{ recours.date_decision }}", ", pour le motif suivant :", style="Corps de lettre",
         keep=True)
    para(doc, ("{{ recours.motif_decision }}", I), style="Corps de lettre", indent=10)
    para(doc, "En conséquence, la décision du jury est maintenue.", style="Corps de lettre")
    closing(doc, "{{ candidat.appel }}")
    signature_block(doc, [["{{ signataire.fonction }}"], [("{{ signataire.nom }}", B)]])
    return doc


def suivi_dysfonctionnements() -> DocumentObject:
    """The session's dysfunction log and its review after the session."""
    doc = new_document("Fiche de suivi des dysfonctionnements", landscape=True)
    titles(doc, "Fiche de suivi des dysfonctionnements",
           ["{{ document.sous_titre }}"])
    label_table(doc, [
        ("Session", ["{{ session.intitule }}", ", ", "{{ session.periode }}"]),
        ("Lieu", ["{{ session.lieu }}", " – ", "{{ session.adresse }}"]),
        ("Responsable de session", ["{{ session.responsable }}"]),
    ], widths=(55, 202))
    spacer(doc, 8)
    para(doc, "Dysfonctionnements constatés", style="Intertitre")
    loop_table(doc, (25, 95, 95, 42), ("Date", "Description", "Action corrective",
                                       "Responsable"),
               "d in dysfonctionnements",
               [["{{ d.date_courte }}"], ["{{ d.description }}"], ["{{ d.action_corrective }}"],
                ["{{ d.responsable }}"]],
               empty="Aucun dysfonctionnement n'a été signalé pendant la session.",
               empty_test="dysfonctionnements")
    para(doc, "Revue après la session", style="Intertitre", before=12)
    widths = (70, 117, 70)
    table = new_table(doc, widths)
    for label, height in (("Date de la revue", 8), ("Participants", 11),
                          ("Analyse et suites données", 20),
                          ("Mesures retenues pour les prochaines sessions", 14)):
        row = add_row(table, widths, [[(label, B)], [], []], height=height)
        row.cells[1].merge(row.cells[2])
        _shade(row.cells[0], HEADER_FILL)
        # rows kept with the next one: the review and its visa stay on one page
        row.cells[0].paragraphs[0].paragraph_format.keep_with_next = True
    # the responsable's visa closes the table, so that it never ends up alone on a page
    row = add_row(table, widths, [[("Visa du responsable de session", B)],
                                  [("{{ session.responsable }}", B)], ["{{ document.fait_a }}"]],
                  height=16)
    _shade(row.cells[0], HEADER_FILL)
    return doc


def _chart(doc: DocumentObject, key: str) -> None:
    """A chart of the annual review: title, image, its one-sentence reading and source."""
    g = f"graphiques.{key}"
    tag(doc, f"{{%p if {g}.present %}}")
    para(doc, (f"{{{{ {g}.titre }}}}", B), style="Corps de lettre", keep=True, after=2)
    para(doc, f"{{{{ {g}.image }}}}", align="center", keep=True, after=2)
    para(doc, (f"{{{{ {g}.lecture }}}}", I), " (classeur, feuille « ", f"{{{{ {g}.feuille }}}}",
         " »)", style="Petit", after=10)
    tag(doc, "{%p endif %}")


def bilan() -> DocumentObject:
    """The annual review for the conseil de perfectionnement (certidocs bilan)."""
    doc = new_document("Bilan annuel", landscape=True)
    titles(doc, "{{ bilan.titre }}", ["{{ bilan.sous_titre }}"])
    label_table(doc, [
        ("Périmètre", ["{{ bilan.perimetre }}"]),
        ("Données", ["{{ bilan.donnees }}"]),
        ("État du registre", ["{{ bilan.etat_registre }}"]),
        ("Établi le", ["{{ bilan.date_edition }}"]),
        ("Tableaux détaillés", ["{{ bilan.classeur }}"]),
    ], widths=(55, 202))
    tag(doc, "{%p if notes %}")
    para(doc, ("Ce que le bilan ne contient pas", B), style="Corps de lettre", before=8,
         after=2)
    tag(doc, "{%p endif %}")
    bullets(doc, "n in notes", "{{ n }}")
    para(doc, "1. Résultats par certification et par session", style="Intertitre", before=12)
    loop_table(doc, (50, 18, 22, 22, 22, 22, 20, 25, 28, 28),
               ("Certification", "Sessions", "Inscrits", "Présents", "Certifiés",
                "Partielles", "Échecs", "Absents", "Rattrapages (certifiés)", "Taux de "
                "certification"),
               "c in certifications",
               [["{{ c.certification }}"], ["{{ c.sessions }}"], ["{{ c.inscrits }}"],
                ["{{ c.presents }}"], ["{{ c.certifies }}"], ["{{ c.partielles }}"],
                ["{{ c.echecs }}"], ["{{ c.absents }}"], ["{{ c.rattrapages }}"],
                ["{{ c.taux }}"]],
               align=(None, *(["right"] * 9)))
    spacer(doc, 8)
    loop_table(doc, (30, 44, 24, 15, 15, 16, 16, 15, 15, 22, 23, 22),
               ("Certification", "Session", "Dates", "Inscrits", "Présents", "Certifiés",
                "Partielles", "Échecs", "Absents", "Rattrapages (certifiés)",
                "Jours jusqu'à la délibération", "Jours jusqu'à la déclaration CDC"),
               "s in sessions",
               [["{{ s.certification }}"], ["{{ s.session }}"], ["{{ s.dates }}"],
                ["{{ s.inscrits }}"], ["{{ s.presents }}"], ["{{ s.certifies }}"],
                ["{{ s.partielles }}"], ["{{ s.echecs }}"], ["{{ s.absents }}"],
                ["{{ s.rattrapages }}"], ["{{ s.delai_deliberation }}"],
                ["{{ s.delai_cdc }}"]],
               align=(None, None, None, *(["right"] * 9)))
    para(doc, "Classeur, feuilles « Certifications » et « Sessions ». Un rattrapage est le "
         "passage d'une personne qui avait échoué à la même certification lors d'une session "
         "antérieure ; les délais courent du dernier jour de la session au premier scellement "
         "et à la première déclaration à la Caisse des Dépôts (« – » : pas encore fait).",
         style="Petit", before=2, after=8)
    _chart(doc, "sessions")
    para(doc, "2. Blocs et critères", style="Intertitre", before=12)
    loop_table(doc, (30, 20, 112, 20, 20, 20, 35),
               ("Certification", "Bloc", "Intitulé", "Évalués", "Validés", "Taux",
                "Intervalle à 95 %"),
               "b in blocs",
               [["{{ b.certification }}"], ["{{ b.bloc }}"], ["{{ b.intitule }}"],
                ["{{ b.evalues }}"], ["{{ b.valides }}"], ["{{ b.taux }}"],
                ["{{ b.intervalle }}"]],
               align=(None, None, None, "right", "right", "right", "center"))
    para(doc, "Classeur, feuille « Blocs » (blocs capitalisés d'une session antérieure non "
         "comptés).", style="Petit", before=2, after=8)
    para(doc, ("Critères à réexaminer", B), style="Corps de lettre", keep=True, after=2)
    para(doc, "{{ bilan.regle_signal }}", style="Corps de lettre", after=4)
    loop_table(doc, (24, 28, 95, 18, 18, 32, 42),
               ("Certification", "Critère", "Libellé", "Évalués", "Taux", "Intervalle à "
                "95 %", "Signal"),
               "k in criteres_signales",
               [["{{ k.certification }}"], ["{{ k.critere }}"], ["{{ k.libelle }}"],
                ["{{ k.evaluations }}"], ["{{ k.taux }}"], ["{{ k.intervalle }}"],
                ["{{ k.signal }}"]],
               align=(None, None, None, "right", "right", "center", None),
               empty="Aucun critère n'est presque toujours ou presque jamais acquis.",
               empty_test="criteres_signales")
    para(doc, ("Critères qui ne départagent pas", B), style="Corps de lettre", keep=True,
         before=8, after=2)
    para(doc, "{{ bilan.regle_concordance }}", style="Corps de lettre", after=4)
    loop_table(doc, (24, 28, 105, 18, 26, 26, 30),
               ("Certification", "Critère", "Libellé", "Taux", "Concordance avec le bloc",
                "Écart validés − non validés", "Candidats pour qui il a été décisif"),
               "k in criteres_muets",
               [["{{ k.certification }}"], ["{{ k.critere }}"], ["{{ k.libelle }}"],
                ["{{ k.taux }}"], ["{{ k.concordance }}"], ["{{ k.ecart }}"],
                ["{{ k.decisif }}"]],
               align=(None, None, None, "right", "right", "right", "right"),
               empty="Chaque critère a pesé sur la décision d'au moins un candidat.",
               empty_test="criteres_muets")
    para(doc, "Classeur, feuille « Critères » (tous les critères, avec ces colonnes).",
         style="Petit", before=2, after=8)
    _chart(doc, "criteres")
    para(doc, "3. Jurys", style="Intertitre", before=12)
    para(doc, "{{ bilan.methode_jurys }}", style="Corps de lettre", after=4)
    loop_table(doc, (26, 38, 70, 20, 22, 22, 20, 39),
               ("Certification", "Session", "Jury (session.xlsx)", "Candidats comparés",
                "Taux observé", "Taux attendu", "Écart", "Lecture"),
               "j in jurys",
               [["{{ j.certification }}"], ["{{ j.session }}"], ["{{ j.jury }}"],
                ["{{ j.candidats }}"], ["{{ j.observe }}"], ["{{ j.attendu }}"],
                ["{{ j.ecart }}"], ["{{ j.lecture }}"]],
               align=(None, None, None, "right", "right", "right", "right", None))
    para(doc, "Classeur, feuille « Jurys ». Écart en points de pourcentage, avec son "
         "intervalle à 95 % dans le classeur.", style="Petit", before=2, after=8)
    _chart(doc, "jurys")
    para(doc, ("Jurés", B), style="Corps de lettre", keep=True, before=8, after=2)
    para(doc, "{{ bilan.methode_jures }}", style="Corps de lettre", after=4)
    tag(doc, "{%p if jures_par_grille %}")
    loop_table(doc, (24, 28, 28, 16, 36, 26, 16, 35, 48),
               ("Certification", "Juré", "Sessions (centres)", "Grilles signées",
                "Taux d'« Acquis » (intervalle à 95 %)",
                "Référence : juré médian (autres jurés classés)", "Écart",
                "A signé le plus souvent avec", "Lecture"),
               "j in jures",
               [["{{ j.certification }}"], ["{{ j.jure }}"], ["{{ j.sessions }}"],
                ["{{ j.grilles }}"], ["{{ j.taux }}"], ["{{ j.reference }}"],
                ["{{ j.ecart }}"], ["{{ j.avec }}"],
                ["{{ j.lecture }}", ("{{ j.centre_jure }}", I)]],
               align=(None, None, None, "right", "center", None, "right", None, None))
    para(doc, "Classeur, feuille « Jurés » (méthode : grilles signées). Écart en points de "
         "pourcentage.", style="Petit", before=2, after=8)
    _chart(doc, "jures")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if not jures_par_grille %}")
    loop_table(doc, (50, 45, 35, 25, 40, 62),
               ("Juré", "Collège", "Sessions (centres)", "Candidats comparés",
                "Écart (intervalle à 95 %)", "Lecture"),
               "j in jures_sessions",
               [["{{ j.jure }}"], ["{{ j.college }}"], ["{{ j.sessions }}"],
                ["{{ j.candidats }}"], ["{{ j.ecart }}"],
                ["{{ j.lecture }}", ("{{ j.centre_jure }}", I)]],
               align=(None, None, None, "right", "center", None),
               empty="Aucun jury n'a pu être lu dans les session.xlsx des sessions.",
               empty_test="jures_sessions")
    para(doc, "Classeur, feuille « Jurés (sessions) » (méthode : sessions siégées).",
         style="Petit", before=2, after=8)
    tag(doc, "{%p endif %}")
    para(doc, "4. Voies d'accès et centres", style="Intertitre", before=12)
    loop_table(doc, (40, 50, 25, 25, 30, 30, 57),
               ("Certification", "Voie d'accès", "Sessions", "Présents", "Certifiés",
                "Taux", "Intervalle à 95 %"),
               "v in voies",
               [["{{ v.certification }}"], ["{{ v.nom }}"], ["{{ v.sessions }}"],
                ["{{ v.presents }}"], ["{{ v.certifies }}"], ["{{ v.taux }}"],
                ["{{ v.intervalle }}"]],
               align=(None, None, "right", "right", "right", "right", "center"))
    para(doc, "Classeur, feuille « Voies d'accès ».", style="Petit", before=2, after=8)
    _chart(doc, "voies")
    tag(doc, "{%p if plusieurs_centres %}")
    para(doc, "Centres", style="Corps de lettre", keep=True, after=2)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if not plusieurs_centres %}")
    para(doc, "{{ bilan.centres }}", style="Corps de lettre", after=4)
    tag(doc, "{%p endif %}")
    loop_table(doc, (40, 50, 25, 25, 30, 30, 57),
               ("Certification", "Centre", "Sessions", "Présents", "Certifiés", "Taux",
                "Intervalle à 95 %"),
               "v in centres",
               [["{{ v.certification }}"], ["{{ v.nom }}"], ["{{ v.sessions }}"],
                ["{{ v.presents }}"], ["{{ v.certifies }}"], ["{{ v.taux }}"],
                ["{{ v.intervalle }}"]],
               align=(None, None, "right", "right", "right", "right", "center"))
    para(doc, "Classeur, feuille « Centres ».", style="Petit", before=2, after=8)
    para(doc, "5. Recours, révisions et dysfonctionnements", style="Intertitre", before=12)
    loop_table(doc, (32, 16, 20, 62, 24, 63, 40),
               ("Session", "N°", "Reçu le", "Motifs", "Décision", "Motif de la décision",
                "Révision qui a suivi"),
               "r in recours",
               [["{{ r.session }}"], ["{{ r.numero }}"], ["{{ r.recu_le }}"],
                ["{{ r.motifs }}"], ["{{ r.decision }}"], ["{{ r.motif_decision }}"],
                ["{{ r.revision }}"]],
               empty="Aucun recours sur les sessions de l'année.", empty_test="recours")
    spacer(doc, 8)
    loop_table(doc, (40, 20, 35, 35, 100, 27),
               ("Session", "N°", "Décision scellée", "Décision révisée", "Motif", "Date"),
               "r in revisions",
               [["{{ r.session }}"], ["{{ r.numero }}"], ["{{ r.ancienne }}"],
                ["{{ r.nouvelle }}"], ["{{ r.motif }}"], ["{{ r.date }}"]],
               empty="Aucune décision révisée sur les sessions de l'année.",
               empty_test="revisions")
    spacer(doc, 8)
    loop_table(doc, (40, 22, 85, 75, 35),
               ("Session", "Date", "Dysfonctionnement", "Action corrective", "Responsable"),
               "d in dysfonctionnements",
               [["{{ d.session }}"], ["{{ d.date }}"], ["{{ d.description }}"],
                ["{{ d.action }}"], ["{{ d.responsable }}"]],
               empty="Aucun dysfonctionnement consigné dans les session.xlsx de l'année.",
               empty_test="dysfonctionnements")
    para(doc, "Classeur, feuilles « Recours », « Révisions » et « Dysfonctionnements ».",
         style="Petit", before=2, after=8)
    para(doc, "Décisions du conseil de perfectionnement", style="Intertitre", before=12)
    widths = (70, 187)
    table = new_table(doc, widths)
    for label, height in (("Date de la réunion et participants", 14),
                          ("Compétences : toujours actuelles ?", 18),
                          ("Critères à reformuler", 18),
                          ("Évaluation et jurys : ajustements", 18)):
        row = add_row(table, widths, [[(label, B)], []], height=height)
        _shade(row.cells[0], HEADER_FILL)
    return doc


BUILDERS: dict[str, Callable[[], DocumentObject]] = {
    "convocation_candidat": convocation_candidat,
    "convocation_jury": convocation_jury,
    "emargement": emargement,
    "fiche_resultats": fiche_resultats,
    "proces_verbal": proces_verbal,
    "certificat": certificat,
    "attestation_blocs": attestation_blocs,
    "notification_resultats": notification_resultats,
    "non_recevabilite": non_recevabilite,
    "suivi_dysfonctionnements": suivi_dysfonctionnements,
    "bilan": bilan,
}


def build(outdir: Path) -> list[Path]:
    """Write every template into ``outdir``; returns the files written."""
    import os
    import tempfile

    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, builder in BUILDERS.items():
        doc = builder()
        trim(doc)
        target = outdir / f"{name}.docx"
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".docx", dir=outdir)
        os.close(fd)
        try:
            doc.save(tmp)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(target)
    return written


def main(argv: list[str]) -> int:
    """Entry point: ``python scripts/build_templates.py [DOSSIER]``."""
    outdir = Path(argv[0]) if argv else ROOT / "templates"
    for path in build(outdir):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
