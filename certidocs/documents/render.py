"""Render Word templates with docxtpl: strict, escaped, staged, merged for printing, PDF.

A batch is all-or-nothing: every document is rendered into a hidden staging folder inside the
output folder, and only when all of them (and the merged files, and the PDFs) are done are they
moved to ``<outdir>/<type>/``. A template error therefore leaves nothing behind.

Templates are compiled once per batch: docxtpl re-parses the .docx and recompiles the Jinja
source of each part at every render, which dominates the time of a batch; ``_FastTemplate``
keeps the template's bytes in memory and caches the cleaned XML and the compiled Jinja
template of each part, keyed by the part's XML text, so only the data changes between
documents. Documents are written to disk as they are rendered, never kept together in memory.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from certidocs.documents.context import TYPES, Image
from certidocs.errors import DocumentError, ModeleError

if TYPE_CHECKING:
    import jinja2

MARKER = "certidocs"  # lastModifiedBy of every generated file; Word and LibreOffice change it
MERGED_PREFIX = "_impression_"
STAGING_PREFIX = ".certidocs-en-cours-"
EXCERPT = 160  # characters of template text quoted around a fault
CORE_PROPERTIES_NS = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
CUSTOM_PROPERTIES_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"


@dataclass(frozen=True)
class RenderJob:
    """One document to render: its type (a key of TYPES), file name and context."""

    type: str
    nom: str
    contexte: Mapping[str, Any]


@dataclass
class BatchResult:
    """What a batch wrote: documents per type, the merged file per type, the PDFs."""

    documents: dict[str, list[Path]] = field(default_factory=dict)
    fusions: dict[str, Path] = field(default_factory=dict)
    pdfs: list[Path] = field(default_factory=list)
    pdfs_perimes: list[Path] = field(default_factory=list)
    """PDFs of an earlier run left next to documents regenerated without ``pdf``: they no
    longer match (certidocs does not delete them: one may be a signed scan)."""

    @property
    def fichiers(self) -> list[Path]:
        """Every file written, documents first."""
        out = [p for paths in self.documents.values() for p in paths]
        return out + list(self.fusions.values()) + self.pdfs


def safe_filename(*parts: str) -> str:
    """A file name any system accepts: « 007_DUPONT-DURAND_Élodie » → ``007_DUPONT-DURAND_Elodie``.

    Accents are dropped and anything but letters, digits, ``-`` and ``.`` becomes ``-``, so that
    names survive USB keys, e-mail attachments and old archive tools.
    """
    cleaned = []
    for part in parts:
        ascii_text = unicodedata.normalize("NFKD", part).encode("ascii", "ignore").decode()
        ascii_text = re.sub(r"[^A-Za-z0-9.-]+", "-", ascii_text).strip("-.")
        if ascii_text:
            cleaned.append(ascii_text)
    return "_".join(cleaned)[:120] or "document"


def merged_name(type_nom: str) -> str:
    """File name of the merged, ready-to-print file of a type (sorted first in a folder)."""
    return f"{MERGED_PREFIX}{type_nom}.docx"


def find_template(modele: str, templates_dirs: Sequence[Path]) -> Path:
    """The first ``modele`` found in ``templates_dirs`` (the workspace's, then the defaults)."""
    for folder in templates_dirs:
        candidate = folder / modele
        if candidate.is_file():
            return candidate
    where = ", ".join(str(d) for d in templates_dirs)
    raise DocumentError(f"modèle {modele} introuvable (cherché dans : {where})")


def default_templates_dir() -> Path:
    """The templates shipped with certidocs (the repository's templates/)."""
    return Path(__file__).resolve().parent.parent.parent / "templates"


# --- Jinja environment and faults -------------------------------------------------------------


def make_environment() -> jinja2.Environment:
    """The Jinja environment of every template: undefined variables fail, values are escaped."""
    import jinja2

    return jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True)


class _Fault(Exception):
    """A template fault located in one part's Jinja source (internal; becomes ModeleError)."""

    def __init__(self, kind: str, detail: str, excerpt: str, part: str = "") -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.excerpt = excerpt
        self.part = part


def _part_label(partname: str) -> str:
    """Where in the document a part is, for messages: the body needs no mention."""
    if "header" in partname:
        return "en-tête"
    if "footer" in partname:
        return "pied de page"
    return ""


def _text_of(xml_line: str) -> str:
    """The visible text of one line of docxtpl's source (one paragraph: tags stripped)."""
    text = re.sub(r"<[^>]+>", "", xml_line)
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"),
                         ("&amp;", "&")):
        text = text.replace(entity, char)
    return " ".join(text.split())


def _excerpt(source: str, lineno: int | None, needle: str = "") -> str:
    """Text of the template around a fault: the paragraph at ``lineno``, or where ``needle`` is.

    docxtpl puts each paragraph on its own line of the Jinja source, so a line number is a
    paragraph; when it is empty (a tag alone) the next non-empty ones are added.
    """
    lines = source.splitlines()
    index = None
    if lineno is not None and 1 <= lineno <= len(lines):
        index = lineno - 1
    elif needle:
        index = next((i for i, line in enumerate(lines) if needle in _text_of(line)), None)
    if index is None:
        return ""
    texts = [_text_of(lines[index])]
    following = index + 1
    while len(" ".join(texts)) < 40 and following < len(lines) and following <= index + 3:
        texts.append(_text_of(lines[following]))
        following += 1
    text = " ".join(t for t in texts if t)
    if needle and needle in text and len(text) > EXCERPT:
        at = text.index(needle)
        start = max(0, at - EXCERPT // 2)
        text = ("…" if start else "") + text[start:start + EXCERPT] + "…"
    elif len(text) > EXCERPT:
        text = text[:EXCERPT] + "…"
    return text


_BLOCKS = ("if", "for", "macro", "call", "filter", "with", "block", "raw", "set")


def _unclosed_line(source: str, block: str) -> int | None:
    """Line of the ``{% block %}`` tag that is never closed (Jinja reports the end instead)."""
    stack: list[tuple[str, int]] = []
    for match in re.finditer(r"{%-?\s*(end)?(\w+)([^%]*)%}", source):
        closing, name, rest = match.group(1), match.group(2), match.group(3)
        if name not in _BLOCKS or (name == "set" and "=" in rest):
            continue
        if closing:
            if stack and stack[-1][0] == name:
                stack.pop()
        else:
            stack.append((name, source.count("\n", 0, match.start()) + 1))
    for name, line in reversed(stack):
        if name == block:
            return line
    return None


def _syntax_fault(exc: Any, source: str) -> _Fault:
    """A Jinja syntax error located in the template's text, in French."""
    message = exc.message or str(exc)
    lineno = exc.lineno
    match = re.search(r"innermost block that needs to be closed is '(\w+)'", message)
    if match:
        lineno = _unclosed_line(source, match.group(1)) or lineno
    return _Fault("syntaxe", _syntax_fr(message), _excerpt(source, lineno))


_SYNTAX_FR = [
    (re.compile(r"Unexpected end of template.*innermost block that needs to be closed is "
                r"'(\w+)'", re.S),
     "la balise {{% {0} %}} n'est jamais refermée (il manque {{% end{0} %}})"),
    (re.compile(r"Encountered unknown tag '(\w+)'.*innermost block that needs to be closed is "
                r"'(\w+)'", re.S),
     "balise {{% {0} %}} inattendue : le bloc {{% {1} %}} ouvert plus haut n'est pas refermé"),
    (re.compile(r"Encountered unknown tag '(\w+)'", re.S),
     "balise {{% {0} %}} inconnue ou sans bloc ouvert correspondant"),
    (re.compile(r"unexpected '(.+?)'", re.S), "caractère « {0} » inattendu"),
    (re.compile(r"unexpected end of template", re.S | re.I),
     "balise non refermée ({{{{ sans }}}} ou {{% sans %}})"),
    (re.compile(r"expected token '(.+?)', got '(.+?)'", re.S),
     "« {0} » attendu, « {1} » trouvé"),
    (re.compile(r"No filter named '(.+?)'", re.S), "filtre « {0} » inconnu"),
    (re.compile(r"No test named '(.+?)'", re.S), "test « {0} » inconnu"),
]
_TOKENS_FR = {"end of print statement": "}}", "end of statement block": "%}",
              "end of template": "fin du modèle", "name": "un nom"}


def _syntax_fr(message: str) -> str:
    for pattern, french in _SYNTAX_FR:
        match = pattern.search(message)
        if match:
            return french.format(*(_TOKENS_FR.get(g, g) for g in match.groups()))
    return f"syntaxe incorrecte ({message})"


def _undefined_name(message: str) -> str:
    match = re.search(r"has no attribute '([^']+)'", message) or re.search(
        r"'([^']+)' is undefined", message)
    return match.group(1) if match else message


def _template_lineno(exc: BaseException) -> int | None:
    """The line of the Jinja source where a runtime error happened (Jinja rewrites tracebacks
    so that template frames carry the template's line numbers)."""
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


# --- the template -----------------------------------------------------------------------------


def _docxtpl_class() -> type[Any]:
    """``_FastTemplate``, defined on first use so that importing this module stays cheap."""
    global _FAST
    if _FAST is not None:
        return _FAST
    import jinja2
    from docxtpl import DocxTemplate

    _fix_core_prefix()

    class FastTemplate(DocxTemplate):  # type: ignore[misc]
        """DocxTemplate sharing cleaned XML and compiled Jinja templates across renders."""

        def __init__(self, data: bytes, cache: dict[str, Any]) -> None:
            super().__init__(io.BytesIO(data))
            self._cache = cache

        def patch_xml(self, src_xml: str) -> str:
            key = "patch:" + src_xml
            found = self._cache.get(key)
            if found is None:
                found = super().patch_xml(src_xml)
                self._cache[key] = found
            return str(found)

        def render_xml_part(self, src_xml: str, part: Any, context: dict[str, Any],
                            jinja_env: jinja2.Environment | None = None) -> str:
            try:
                return self._render_part(src_xml, part, context, jinja_env)
            except _Fault as fault:
                fault.part = _part_label(str(getattr(part, "partname", "")))
                raise

        def _render_part(self, src_xml: str, part: Any, context: dict[str, Any],
                         jinja_env: jinja2.Environment | None) -> str:
            src_xml = re.sub(r"<w:p([ >])", r"\n<w:p\1", src_xml)
            self.current_rendering_part = part
            key = "jinja:" + src_xml
            template = self._cache.get(key)
            if template is None:
                assert jinja_env is not None
                try:
                    template = jinja_env.from_string(src_xml)
                except jinja2.TemplateSyntaxError as exc:
                    raise _syntax_fault(exc, src_xml) from None
                self._cache[key] = template
            try:
                dst_xml = template.render(context)
            except jinja2.UndefinedError as exc:
                name = _undefined_name(str(exc))
                raise _Fault("variable", name,
                             _excerpt(src_xml, _template_lineno(exc), name)) from None
            except jinja2.TemplateError as exc:
                raise _Fault("erreur", str(exc),
                             _excerpt(src_xml, _template_lineno(exc))) from None
            dst_xml = re.sub(r"\n<w:p([ >])", r"<w:p\1", dst_xml)
            dst_xml = (dst_xml.replace("{_{", "{{").replace("}_}", "}}")
                       .replace("{_%", "{%").replace("%_}", "%}"))
            return str(self.resolve_listing(dst_xml))

        def render_properties(self, context: dict[str, Any],
                              jinja_env: jinja2.Environment | None = None) -> None:
            # Compiling each core property for each document costs more than the body; only
            # properties that hold a tag are rendered.
            _fix_core_prefix()
            props = self.docx.core_properties
            for name in ("author", "comments", "identifier", "language", "subject", "title"):
                value = getattr(props, name) or ""
                if "{{" in value or "{%" in value:
                    assert jinja_env is not None
                    try:
                        setattr(props, name, jinja_env.from_string(value).render(context))
                    except jinja2.TemplateSyntaxError as exc:
                        raise _Fault("syntaxe", _syntax_fr(exc.message or str(exc)),
                                     f"propriétés du document : {value}") from None
                    except jinja2.TemplateError as exc:
                        raise _Fault("variable" if isinstance(exc, jinja2.UndefinedError)
                                     else "erreur", _undefined_name(str(exc)),
                                     f"propriétés du document : {value}") from None

    _FAST = FastTemplate
    return FastTemplate


_FAST: type[Any] | None = None


def _resolve_images(value: Any, tpl: Any) -> Any:
    """The context with every Image turned into a docxtpl InlineImage bound to ``tpl``."""
    if isinstance(value, Image):
        from docx.shared import Mm
        from docxtpl import InlineImage

        source = io.BytesIO(value.source) if isinstance(value.source, bytes) else str(value.source)
        return InlineImage(tpl, source,
                           width=Mm(value.largeur_mm) if value.largeur_mm else None,
                           height=Mm(value.hauteur_mm) if value.hauteur_mm else None)
    if isinstance(value, Mapping):
        return {k: _resolve_images(v, tpl) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_resolve_images(v, tpl) for v in value]
    return value


_UNKNOWN = object()


def _shape(value: Any) -> Any:
    """The keys of a context, nested, with each list reduced to its first item: what
    ``_ShapeCheck`` depends on (hashable)."""
    if isinstance(value, Mapping):
        return tuple((k, _shape(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return ("[]", _shape(value[0])) if value else ("[]",)
    return None


class _ShapeCheck:
    """Every ``a.b.c`` of a template checked against the context's keys, in every branch.

    StrictUndefined only fails on what a render reaches: a misspelt ``{{ resultat.rattrapage }}``
    inside ``{% if resultat.rattrapage_possible %}`` would pass until the first candidate
    entitled to a retake. Loop variables take the shape of the list's first item; what cannot
    be known (an empty list, a filter's result) is not checked.
    """

    def __init__(self, context: Mapping[str, Any]) -> None:
        self.scopes: list[dict[str, Any]] = [dict(context)]
        self.fault: tuple[str, int] | None = None

    def first_fault(self, tree: Any) -> tuple[str, int] | None:
        """The first unknown attribute path and its line, or None."""
        self.visit(tree)
        return self.fault

    def lookup(self, name: str) -> Any:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return _UNKNOWN

    def value(self, node: Any) -> tuple[Any, str]:
        """The sample value of an expression and its dotted path (for the message)."""
        from jinja2 import nodes

        if isinstance(node, nodes.Name):
            return self.lookup(node.name), node.name
        if isinstance(node, nodes.Getattr | nodes.Getitem):
            if isinstance(node, nodes.Getattr):
                key: Any = node.attr
            elif isinstance(node.arg, nodes.Const):
                key = node.arg.value
            else:
                self.visit(node.arg)
                base, _ = self.value(node.node)
                return _UNKNOWN, ""
            base, path = self.value(node.node)
            full = f"{path}.{key}" if path else str(key)
            if isinstance(base, Mapping) and key in ("items", "keys", "values", "get"):
                return _UNKNOWN, full  # a dict method, as in « for k, v in x.items() »
            if isinstance(base, Mapping):
                if key not in base:
                    if self.fault is None:
                        self.fault = (full, node.lineno)
                    return _UNKNOWN, full
                return base[key], full
            return _UNKNOWN, full
        self.visit(node)
        return _UNKNOWN, ""

    def bind(self, target: Any, sample: Any) -> dict[str, Any]:
        from jinja2 import nodes

        if isinstance(target, nodes.Name):
            return {target.name: sample}
        if isinstance(target, nodes.Tuple):
            return {n.name: _UNKNOWN for n in target.find_all(nodes.Name)}
        return {}

    def visit(self, node: Any) -> None:
        from jinja2 import nodes

        if isinstance(node, nodes.Getattr | nodes.Getitem | nodes.Name):
            self.value(node)
            return
        if isinstance(node, nodes.For):
            items, _ = self.value(node.iter)
            sample = items[0] if isinstance(items, list | tuple) and items else _UNKNOWN
            scope = self.bind(node.target, sample)
            scope["loop"] = _UNKNOWN
            self.scopes.append(scope)
            for child in node.body:
                self.visit(child)
            if node.test is not None:
                self.visit(node.test)
            self.scopes.pop()
            for child in node.else_:
                self.visit(child)
            return
        if isinstance(node, nodes.Assign | nodes.AssignBlock):
            self.scopes[-1].update(self.bind(node.target, _UNKNOWN))
            if isinstance(node, nodes.Assign):
                self.visit(node.node)
            else:
                for child in node.body:
                    self.visit(child)
            return
        if isinstance(node, nodes.Macro | nodes.CallBlock):
            return  # arguments are unknown: nothing reliable to check
        for child in node.iter_child_nodes():
            self.visit(child)


class Template:
    """One .docx template, read once and compiled once, rendered as many times as needed."""

    def __init__(self, path: Path, env: jinja2.Environment | None = None) -> None:
        self.path = path
        self.env = env or make_environment()
        try:
            self.data = path.read_bytes()
        except OSError as exc:
            raise ModeleError(f"modèle {path} : lecture impossible ({exc.strerror})") from None
        if not zipfile.is_zipfile(io.BytesIO(self.data)):
            raise ModeleError(f"modèle {path} : ce n'est pas un document Word (.docx)")
        self._cache: dict[str, Any] = {}
        self._variables: set[str] | None = None
        self._trees: list[tuple[str, Any, str]] = []  # (Jinja source, tree, part) per part
        self._checked: set[Any] = set()  # context shapes already checked by _ShapeCheck

    def _error(self, fault: _Fault) -> ModeleError:
        where = f" dans le texte « {fault.excerpt} »" if fault.excerpt else ""
        if fault.part:
            where += f" ({fault.part})"
        name = f"modèle {self.path.name} ({self.path.parent})"
        if fault.kind == "variable":
            message = (f"{name} : variable inconnue « {fault.detail} »{where}. Corrigez "
                       "l'orthographe de la balise (LISEZMOI.md, à côté des modèles, liste les "
                       "variables de chaque modèle).")
        else:
            message = f"{name} : {fault.detail}{where}."
        return ModeleError(message)

    def variables(self) -> set[str]:
        """Top-level names the template uses (docxtpl's get_undeclared_template_variables)."""
        if self._variables is None:
            from jinja2 import TemplateSyntaxError, meta

            tpl = _docxtpl_class()(self.data, self._cache)
            tpl.init_docx()
            parts = [("", tpl.get_xml())]
            for uri in (tpl.HEADER_URI, tpl.FOOTER_URI):
                parts += [(_part_label(str(p.partname)), tpl.get_part_xml(p))
                          for _, p in tpl.get_headers_footers(uri)]
            names: set[str] = set()
            for label, xml in parts:
                source = re.sub(r"<w:p([ >])", r"\n<w:p\1", tpl.patch_xml(xml))
                try:
                    tree = self.env.parse(source)
                    # an unknown filter is only found here (TemplateAssertionError)
                    names |= meta.find_undeclared_variables(tree)
                except TemplateSyntaxError as exc:
                    fault = _syntax_fault(exc, source)
                    fault.part = label
                    raise self._error(fault) from None
                self._trees.append((source, tree, label))
            self._variables = names
        return set(self._variables)

    def check(self, context: Mapping[str, Any]) -> None:
        """Raise ModeleError if the template uses a top-level name ``context`` lacks.

        StrictUndefined only fails on what a render reaches; this also catches a misspelt
        name in a branch the current data does not take.
        """
        missing = sorted(self.variables() - set(context))
        if missing:
            name = missing[0]
            excerpt = ""
            for source, _, label in self._trees:
                excerpt = _excerpt(source, None, name)
                if excerpt:
                    raise self._error(_Fault("variable", name, excerpt, label))
            raise self._error(_Fault("variable", name, ""))
        shape = _shape(context)
        if shape in self._checked:  # contexts of one type mostly share their shape
            return
        for source, tree, label in self._trees:
            found = _ShapeCheck(context).first_fault(tree)
            if found is not None:
                name, lineno = found
                raise self._error(_Fault("variable", name,
                                         _excerpt(source, lineno, name.rsplit(".", 1)[-1]),
                                         label))
        self._checked.add(shape)

    def render_to(self, context: Mapping[str, Any], target: Path) -> Path:
        """Render with ``context`` and save to ``target``; ModeleError names the fault."""
        self.check(context)
        tpl = _docxtpl_class()(self.data, self._cache)
        try:
            tpl.render(_resolve_images(context, tpl), self.env, autoescape=True)
        except _Fault as fault:
            raise self._error(fault) from None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            # python-docx rejecting an image, lxml rejecting the XML a misplaced {%p %} made
            raise ModeleError(f"modèle {self.path.name} : le document n'a pas pu être produit "
                              f"({type(exc).__name__} : {exc})") from None
        _mark(tpl.docx)
        tpl.save(str(target))
        return target


# --- batches ----------------------------------------------------------------------------------


def _generated_by_us(path: Path) -> bool:
    """Whether ``path`` is a document certidocs wrote and nobody saved since."""
    try:
        with zipfile.ZipFile(path) as zf:
            core = zf.read("docProps/core.xml").decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return False
    match = re.search(r"<cp:lastModifiedBy>([^<]*)</cp:lastModifiedBy>", core)
    return match is not None and match.group(1) == MARKER


def _end_section(master: Any) -> None:
    """End the merged document's current section here: the next document starts on a new
    page, with its own page numbers (the footer's « Page n sur m » counts per document)."""
    import copy

    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    body = master.element.body
    body_sectpr = body[-1] if len(body) and body[-1].tag == qn("w:sectPr") else None
    last = body_sectpr.getprevious() if body_sectpr is not None else (
        body[-1] if len(body) else None)
    if last is None or last.tag != qn("w:p"):
        last = OxmlElement("w:p")
        if body_sectpr is not None:
            body_sectpr.addprevious(last)
        else:
            body.append(last)
    ppr = last.find(qn("w:pPr"))
    if ppr is None:
        ppr = OxmlElement("w:pPr")
        last.insert(0, ppr)
    old = ppr.find(qn("w:sectPr"))
    if old is not None:
        ppr.remove(old)
    if body_sectpr is not None:
        ppr.append(copy.deepcopy(body_sectpr))


def _restart_numbering(sectpr: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    num = sectpr.find(qn("w:pgNumType"))
    if num is None:
        num = OxmlElement("w:pgNumType")
        # pgNumType goes after pgBorders/lnNumType and before cols in the schema order
        anchor = None
        for tag in ("w:cols", "w:formProt", "w:vAlign", "w:noEndnote", "w:titlePg",
                    "w:textDirection", "w:bidi", "w:rtlGutter", "w:docGrid"):
            anchor = sectpr.find(qn(tag))
            if anchor is not None:
                break
        if anchor is not None:
            anchor.addprevious(num)
        else:
            sectpr.append(num)
    num.set(qn("w:start"), "1")


def _drop_page_totals(master: Any) -> None:
    """Remove « sur NUMPAGES » from the footers: in a merged file it would count the pages of
    every document together, while the page numbers restart with each one."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml.ns import qn

    for rel in master.part.rels.values():
        if rel.reltype not in (RT.FOOTER, RT.HEADER):
            continue
        for p in rel.target_part.element.iter(qn("w:p")):
            runs = list(p.iter(qn("w:r")))
            for i, run in enumerate(runs):
                instr = run.find(qn("w:instrText"))
                if instr is None or (instr.text or "").split()[:1] != ["NUMPAGES"]:
                    continue
                start = i - 1  # the begin fldChar is in the run before the instruction
                end = next((j for j in range(i, len(runs))
                            if (c := runs[j].find(qn("w:fldChar"))) is not None
                            and c.get(qn("w:fldCharType")) == "end"), None)
                if end is None or start < 0:
                    break
                before = runs[start - 1] if start > 0 else None
                text = ("".join(t.text or "" for t in before.iter(qn("w:t")))
                        if before is not None else "")
                if before is not None and text.strip() in ("sur", "/", "de", "of"):
                    start -= 1
                for run_el in runs[start:end + 1]:
                    run_el.getparent().remove(run_el)
                break


def _fix_core_prefix() -> None:
    """Give python-docx back its « cp » prefix.

    Importing docxcompose (docxtpl imports it too) rebinds « cp » in python-docx's namespace
    map to the custom-properties namespace, for the whole process: python-docx then writes
    core properties (« last modified by », title…) into elements Word does not read, and reads
    them back empty. docxcompose only needs the prefix for custom properties, which certidocs
    does not merge.
    """
    from docx.oxml.ns import nsmap

    nsmap["cp"] = CORE_PROPERTIES_NS


def _composer_class() -> Any:
    """docxcompose's Composer (imported on first use, then python-docx's prefix repaired)."""
    from docxcompose.composer import Composer  # type: ignore[import-untyped]

    _fix_core_prefix()
    return Composer


def _mark(document: Any) -> None:
    """Record in the core properties that certidocs wrote this file (see _generated_by_us)."""
    _fix_core_prefix()
    props = document.core_properties
    for stray in props._element.findall(f"{{{CUSTOM_PROPERTIES_NS}}}lastModifiedBy"):
        props._element.remove(stray)  # written while the prefix was wrong
    props.last_modified_by = MARKER


def merge(paths: Sequence[Path], target: Path) -> Path:
    """One file holding every document of ``paths``, each starting on a new page.

    docxcompose carries styles, numbering and images across; each document becomes its own
    section so that page numbers restart. Documents are read one at a time.
    """
    from docx import Document
    from docx.oxml.ns import qn

    Composer = _composer_class()

    master = Document(str(paths[0]))
    body_sectpr = master.element.body.find(qn("w:sectPr"))
    if body_sectpr is not None:
        _restart_numbering(body_sectpr)
    _drop_page_totals(master)
    composer = Composer(master)
    for path in paths[1:]:
        _end_section(master)
        composer.append(Document(str(path)))
    _mark(master)
    composer.save(str(target))
    return target


def _umask_mode() -> int:
    # mkstemp creates files readable by their owner only; documents get the usual mode.
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def _staging(outdir: Path) -> Iterator[Path]:
    """A hidden folder inside ``outdir``, removed afterwards whatever happens; ``outdir`` itself
    is removed again if this batch created it and leaves it empty."""
    created = not outdir.exists()
    outdir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=outdir))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if created:
            with contextlib.suppress(OSError):
                outdir.rmdir()


def _convert_pdfs(docs: Sequence[Path], staging: Path) -> dict[Path, Path]:
    """PDF of every document, in one LibreOffice run; maps each .docx to its PDF (staged).

    Names repeat across types (« 001_DUPONT_Jean.docx » in each folder) while one conversion
    writes into one folder: each file is linked under a unique name first.
    """
    from certidocs.libreoffice import convert_to_pdf

    flat = staging / ".pdf-sources"
    pdfdir = staging / ".pdf"
    flat.mkdir()
    pdfdir.mkdir()
    sources = []
    for i, doc in enumerate(docs):
        link = flat / f"{i:05d}.docx"
        try:
            os.link(doc, link)
        except OSError:
            shutil.copyfile(doc, link)
        sources.append(link)
    produced = convert_to_pdf(sources, pdfdir)  # in the order of ``sources``
    out = {}
    for doc, pdf in zip(docs, produced, strict=True):
        final = doc.with_suffix(".pdf")
        os.replace(pdf, final)
        out[doc] = final
    return out


def render_batch(jobs: Iterable[RenderJob], templates_dirs: Sequence[Path], outdir: Path, *,
                 merge_files: bool = True, pdf: bool = False,
                 overwrite_edited: bool = False) -> BatchResult:
    """Render every job into ``outdir/<type>/<nom>.docx``; all or nothing.

    Templates are looked up in ``templates_dirs`` in order (the workspace's own first, then
    ``default_templates_dir()``). With ``merge_files``, each per-person type also gets
    ``_impression_<type>.docx`` holding all its documents; with ``pdf``, every file gets its
    PDF, converted by one LibreOffice process. An existing file is replaced only if certidocs
    wrote it and nobody saved it since, unless ``overwrite_edited``: DocumentError lists the
    hand-edited files otherwise. Raises ModeleError (template name and the text around the
    fault) for a template that cannot render; nothing is written then.
    """
    env = make_environment()
    templates: dict[str, Template] = {}
    result = BatchResult()
    with _staging(outdir) as staging:
        staged: dict[str, list[Path]] = {}
        names: dict[str, set[str]] = {}
        mode = _umask_mode()
        for job in jobs:
            kind = TYPES.get(job.type)
            if kind is None:
                raise ValueError(f"unknown document type {job.type!r}")
            template = templates.get(job.type)
            if template is None:
                template = Template(find_template(kind.modele, templates_dirs), env)
                templates[job.type] = template
            name = job.nom if job.nom.endswith(".docx") else f"{job.nom}.docx"
            if "/" in name or "\\" in name or name.startswith((".", MERGED_PREFIX)):
                raise ValueError(f"invalid document file name {job.nom!r}")
            seen = names.setdefault(job.type, set())
            if name in seen:
                raise ValueError(f"two {job.type} documents named {name!r}")
            seen.add(name)
            folder = staging / job.type
            folder.mkdir(exist_ok=True)
            target = template.render_to(job.contexte, folder / name)
            target.chmod(mode)
            staged.setdefault(job.type, []).append(target)

        merged: dict[str, Path] = {}
        if merge_files:
            for type_nom, paths in staged.items():
                if TYPES[type_nom].par != "session" and paths:
                    target = merge(paths, staging / type_nom / merged_name(type_nom))
                    target.chmod(mode)
                    merged[type_nom] = target

        pdfs: dict[Path, Path] = {}
        if pdf:
            every = [p for paths in staged.values() for p in paths] + list(merged.values())
            if every:
                pdfs = _convert_pdfs(every, staging)
                for p in pdfs.values():
                    p.chmod(mode)

        # Nothing is moved before every existing target has been checked.
        moves = []
        for type_nom, paths in staged.items():
            for p in [*paths, *([merged[type_nom]] if type_nom in merged else [])]:
                moves.append((p, outdir / type_nom / p.name))
                if p in pdfs:
                    moves.append((pdfs[p], outdir / type_nom / pdfs[p].name))
        edited = [dest for _, dest in moves
                  if dest.suffix == ".docx" and dest.exists() and not _generated_by_us(dest)]
        if edited and not overwrite_edited:
            shown = "\n".join(f"  - {p}" for p in edited[:20])
            more = f"\n  (et {len(edited) - 20} autres)" if len(edited) > 20 else ""
            raise DocumentError(
                f"{len(edited)} document(s) déjà présent(s) ont été modifiés à la main depuis "
                f"leur génération ; certidocs ne les remplace pas. Renommez-les ou déplacez-les "
                f"pour les régénérer :\n{shown}{more}")
        for src, dest in moves:
            dest.parent.mkdir(exist_ok=True)
            os.replace(src, dest)
        for type_nom, paths in staged.items():
            result.documents[type_nom] = [outdir / type_nom / p.name for p in paths]
            if type_nom in merged:
                result.fusions[type_nom] = outdir / type_nom / merged[type_nom].name
        result.pdfs = [outdir / src.parent.name / pdf_path.name for src, pdf_path in pdfs.items()]
        if not pdf:
            result.pdfs_perimes = [dest.with_suffix(".pdf") for _, dest in moves
                                   if dest.with_suffix(".pdf").exists()]
    return result


def render_document(template: Path, context: Mapping[str, Any], target: Path) -> Path:
    """Render one template to ``target`` (atomically): for previews and tests."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".docx", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        Template(template).render_to(context, tmp)
        tmp.chmod(_umask_mode())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
