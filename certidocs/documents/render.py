"""Render Word templates with docxtpl: strict, escaped, staged, merged for printing, PDF
(certidocs.documents.pdf).

A batch is all-or-nothing: every document is rendered into a hidden staging folder inside the
output folder, and only when all of them (and the merged files, and the PDFs) are done are they
moved to ``<outdir>/<type>/``. A template error therefore leaves nothing behind.

Templates are compiled once per process: docxtpl re-parses the .docx and recompiles the Jinja
source of each part at every render, which dominates the time of a batch; ``_FastTemplate``
keeps the template's bytes in memory and caches the cleaned XML and the compiled Jinja
template of each part, keyed by the part's XML text, so only the data changes between
documents.

A batch streams: jobs are taken from the caller's iterable as workers need them (a process
pool over the machine's cores, see certidocs.parallel), each document is written to disk as
soon as it is rendered and appended to its type's merged file (certidocs.documents.merge) in
the order of the jobs. Neither the contexts nor the documents are ever all in memory, and the
output does not depend on the number of workers. A job's context can be a recipe
(``ContextRecipe``), built in the worker that renders it, so that building contexts (QR codes
included) is spread over the cores too.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import sys
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from certidocs.documents.context import TYPES, Image
from certidocs.documents.package import (
    MemoryReader,
    StreamedMember,
    TemplateMembers,
    write_package,
)
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
class ContextRecipe:
    """A context built where the document is rendered: ``build(shared, *args)``.

    ``build`` is a module-level function (workers find it by name); ``shared`` is the batch's
    ``shared`` argument of ``render_batch`` (the session, the référentiel…), sent once to each
    worker, so that a recipe itself stays a few bytes: the document type and a candidate number.
    """

    build: Callable[..., Mapping[str, Any]]
    args: tuple[Any, ...] = ()

    def __call__(self, shared: Any) -> Mapping[str, Any]:
        """The context."""
        return self.build(shared, *self.args)


@dataclass(frozen=True)
class RenderJob:
    """One document to render: its type (a key of TYPES), file name and context (or the
    recipe of its context)."""

    type: str
    nom: str
    contexte: Mapping[str, Any] | ContextRecipe


class _Chemins(Sequence[Path]):
    """A sequence of paths that compares equal to a list of the same paths, in order."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other: Iterable[Path]) -> Sequence[Path]:
        return [*self, *other]

    def __radd__(self, other: Iterable[Path]) -> list[Path]:
        return [*other, *self]


class Fichiers(_Chemins):
    """Files of one folder, kept as their names and made paths when read: a batch of a
    network's session writes tens of thousands of documents, whose ``Path`` objects (about half
    a kilobyte each, several per document while they are staged, moved and reported) would
    make the memory of ``render_batch`` grow with the session."""

    __slots__ = ("dossier", "noms")

    def __init__(self, dossier: Path, noms: Sequence[str] = ()) -> None:
        self.dossier = dossier
        self.noms = list(noms)

    def __len__(self) -> int:
        return len(self.noms)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self.dossier / n for n in self.noms[index]]
        return self.dossier / self.noms[index]

    def __iter__(self) -> Iterator[Path]:
        return (self.dossier / n for n in self.noms)

    def __repr__(self) -> str:
        return f"Fichiers({self.dossier!r}, {len(self.noms)} fichier(s))"


class PdfDe(_Chemins):
    """The PDFs of a ``Fichiers`` (« x.pdf » for « x.docx », in the same folder), then
    ``fusion`` (a file name) if any: made from the documents' names as they are read, not a
    second list of names (36,005 at 10,000 candidates)."""

    __slots__ = ("fichiers", "fusion")

    def __init__(self, fichiers: Fichiers, fusion: str | None = None) -> None:
        self.fichiers = fichiers
        self.fusion = fusion

    def _name(self, index: int) -> str:
        if index == len(self.fichiers.noms):
            assert self.fusion is not None
            return self.fusion
        return f"{Path(self.fichiers.noms[index]).stem}.pdf"

    def __len__(self) -> int:
        return len(self.fichiers) + (self.fusion is not None)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self.fichiers.dossier / self._name(index)

    def __iter__(self) -> Iterator[Path]:
        return (self.fichiers.dossier / self._name(i) for i in range(len(self)))

    def __repr__(self) -> str:
        return f"PdfDe({self.fichiers!r}, {self.fusion!r})"


class ListeFichiers(_Chemins):
    """Several sequences of files read as one list (``+=`` appends a sequence without copying
    its paths): every file a batch, or a run of several batches, wrote."""

    __slots__ = ("parties",)

    def __init__(self, parties: Iterable[Sequence[Path]] = ()) -> None:
        self.parties: list[Sequence[Path]] = [p for p in parties if len(p)]

    def __len__(self) -> int:
        return sum(len(p) for p in self.parties)

    def __iter__(self) -> Iterator[Path]:
        for part in self.parties:
            yield from part

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += len(self)
        for part in self.parties:
            if 0 <= index < len(part):
                return part[index]
            index -= len(part)
        raise IndexError(index)

    def __iadd__(self, other: Iterable[Path]) -> ListeFichiers:
        part = other if isinstance(other, Sequence) else list(other)
        if isinstance(part, ListeFichiers):
            self.parties += part.parties
        elif len(part):
            self.parties.append(part)
        return self

    def __repr__(self) -> str:
        return f"ListeFichiers({len(self)} fichier(s))"


@dataclass
class BatchResult:
    """What a batch wrote: documents per type, the merged file per type, the PDFs."""

    documents: dict[str, Sequence[Path]] = field(default_factory=dict)
    fusions: dict[str, Path] = field(default_factory=dict)
    pdfs: Sequence[Path] = field(default_factory=list)
    """Every PDF written, as each type's folder and names (``ListeFichiers``)."""
    avertissements: list[str] = field(default_factory=list)
    """What the user should know about the files written (characters a PDF lost)."""
    pdfs_perimes: list[Path] = field(default_factory=list)
    """PDFs of an earlier run left next to documents regenerated without ``pdf``: they no
    longer match (certidocs does not delete them: one may be a signed scan)."""

    @property
    def fichiers(self) -> ListeFichiers:
        """Every file written, documents first."""
        return ListeFichiers([*self.documents.values(), list(self.fusions.values()), self.pdfs])


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


TEMPLATE_SUFFIXES = (".docx", ".dotx")
"""What Word saves a template as: « Document Word » (.docx) or « Modèle Word » (.dotx). Both
are read the same way; macro-enabled files (.docm, .dotm) are refused (see Template)."""


def find_template(modele: str, templates_dirs: Sequence[Path]) -> Path:
    """The first ``modele`` found in ``templates_dirs`` (the workspace's, then the defaults),
    as a .docx or, saved as « Modèle Word », a .dotx of the same name.

    A folder holding both is ambiguous (which one did the office edit last?): DocumentError
    asks to keep one.
    """
    stem = Path(modele).stem
    for folder in templates_dirs:
        found = [folder / f"{stem}{suffix}" for suffix in TEMPLATE_SUFFIXES
                 if (folder / f"{stem}{suffix}").is_file()]
        if len(found) > 1:
            raise DocumentError(
                f"deux modèles pour le même document dans {folder} : "
                f"{' et '.join(p.name for p in found)} ; gardez celui que vous avez modifié "
                "et renommez ou supprimez l'autre")
        if found:
            return found[0]
    where = ", ".join(str(d) for d in templates_dirs)
    raise DocumentError(f"modèle {modele} introuvable (cherché dans : {where})")


CT_DOCUMENT = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
CT_TEMPLATE = "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"
CT_MACROS = ("application/vnd.ms-word.document.macroEnabled.main+xml",
             "application/vnd.ms-word.template.macroEnabledTemplate.main+xml")


def _as_document(data: bytes, path: Path) -> bytes:
    """The package ``data`` with its main part typed as a document (not a Word template), so
    that python-docx reads it and what is produced opens as a document; macros refused."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        try:
            types = zf.read("[Content_Types].xml")
        except KeyError:
            raise ModeleError(f"modèle {path} : ce n'est pas un document Word (.docx) ; "
                              "ouvrez-le dans Word et enregistrez-le au format « Document "
                              "Word »") from None
        text = types.decode("utf-8", "replace")
        if any(ct in text for ct in CT_MACROS):
            raise ModeleError(f"modèle {path} : document Word avec macros (.docm ou .dotm), "
                              "refusé ; enregistrez-le au format « Document Word (.docx) » ou "
                              "« Modèle Word (.dotx) »")
        if CT_TEMPLATE not in text:
            return data
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zf.infolist():
                member = zf.read(info)
                if info.filename == "[Content_Types].xml":
                    member = text.replace(CT_TEMPLATE, CT_DOCUMENT).encode("utf-8")
                zout.writestr(info, member)
    return out.getvalue()


def default_templates_dir() -> Path:
    """The templates shipped with certidocs (the repository's templates/)."""
    return Path(__file__).resolve().parent.parent.parent / "templates"


# --- Jinja environment and faults -------------------------------------------------------------


MAX_RENDER_SECONDS = 120
"""Time one document may take to render: the procès-verbal of a 10,000-candidate session,
streamed (certidocs.documents.streaming), takes 5 to 12 seconds on a loaded 2-core machine
(rendered whole it took more than this); a template looping over the candidates inside a
loop over the candidates (by mistake or malice) would take hours. Beyond it the batch stops
with a message naming the template."""

MAX_DOCUMENT_CHARS = 50_000_000
"""Characters of Word XML one part of a document may render to: that procès-verbal is about
6 million; 50 million (100 to 200 MB in memory) is a template repeating a table by mistake."""


def make_environment() -> jinja2.Environment:
    """The Jinja environment of every template: sandboxed (certidocs.documents.sandbox),
    undefined variables fail, values are escaped."""
    from certidocs.documents.sandbox import TemplateEnvironment

    return TemplateEnvironment()


def _too_long(limit: int) -> _Fault:
    return _Fault("taille", f"le document dépasserait {limit:,} caractères (une boucle "
                  "répète-t-elle trop de texte ?)".replace(",", "\u202f"), "")


class _Overtime(Exception):
    """A document took longer than MAX_RENDER_SECONDS (internal; becomes ModeleError)."""


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[float]:
    """Interrupt what runs inside after ``seconds`` (raising _Overtime); yields the deadline.

    A timer signal interrupts even a loop that prints nothing; it only exists in the main thread
    of a Unix process (every worker of a batch is one). Elsewhere, the caller checks the
    yielded deadline (``time.monotonic()``) as the output grows.
    """
    import signal
    import threading
    import time

    end = time.monotonic() + seconds
    usable = (hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield end
        return

    def expired(_signum: int, _frame: Any) -> None:
        raise _Overtime

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield end
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


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


def _quoted_tag(source: str, lineno: int | None, needle: str) -> str:
    """The tag (``{{ … }}`` or ``{% … %}``) holding ``needle`` in the paragraph at ``lineno``."""
    lines = source.splitlines()
    if lineno is None or not 1 <= lineno <= len(lines):
        return ""
    text = _text_of(lines[lineno - 1])
    tags = re.findall(r"{[{%].*?[}%]}", text)
    found = next((t for t in tags if needle in t), tags[0] if tags else "")
    return found if len(found) <= EXCERPT else found[:EXCERPT] + "…"


def _syntax_fault(exc: Any, source: str) -> _Fault:
    """A Jinja syntax error located in the template's text, in French."""
    from certidocs.documents.sandbox import TagRefused

    message = exc.message or str(exc)
    lineno = exc.lineno
    if isinstance(exc, TagRefused):
        tag = _quoted_tag(source, lineno, exc.needle)
        return _Fault("refus", message, tag or _excerpt(source, lineno))
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
    (re.compile(r"No filter named '(.+?)'", re.S),
     "filtre « {0} » inconnu ou non permis (LISEZMOI.md, à côté des modèles, liste les "
     "filtres permis)"),
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


def _security_fr(message: str) -> str:
    """Jinja's sandbox refusals in French (ours, from sandbox.py, already are)."""
    from certidocs.documents.sandbox import REFUSED_HINT

    if "refus" in message:
        return f"{message} ; {REFUSED_HINT}"
    return f"opération refusée ({message}) ; {REFUSED_HINT}"


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


# Quotes Word's AutoFormat types, by language, as they come inside a tag: French « » and ‹ ›
# with the (narrow) no-break space it adds inside them, German „ “ and ‚ ‘, English “ ” and ‘ ’
# (docxtpl straightens those two), the prime signs of some fonts, and XML's own escapes.
_SPACES = "[ \u00a0\u202f\u2009]*"
_DOUBLE_OPEN = re.compile(f"[«„“‟″＂]{_SPACES}|&quot;")
_DOUBLE_CLOSE = re.compile(f"{_SPACES}[»”″]")
_SINGLE_OPEN = re.compile(f"[‹‚‘‛′]{_SPACES}|&apos;|&#39;|&#8216;|&#8217;")
_SINGLE_CLOSE = re.compile(f"{_SPACES}[›’]")
_TAG_INSIDE = re.compile(r"(?<=\{[\{%])(.*?)(?=[\}%]})", re.S)


_LISTING_CHARS = "\t\a\n\f"
"""What docxtpl's resolve_listing turns into Word tags (tab, paragraph, line and page breaks)."""

_TEXT_NODE = re.compile(r"(<w:t(?: [^>]*)?>)([^<]+)(</w:t>)")


def typographie_xml(xml: str) -> str:
    """Every text of a rendered Word part through :func:`certidocs.documents.dates.typographie`
    (the template's own words and the values printed alike)."""
    import html
    from xml.sax.saxutils import escape

    from certidocs.documents.dates import typographie

    def fix(match: re.Match[str]) -> str:
        text = html.unescape(match.group(2))
        fixed = typographie(text)
        if fixed == text:
            return match.group(0)
        return match.group(1) + escape(fixed) + match.group(3)

    return _TEXT_NODE.sub(fix, xml)


def straighten_quotes(xml: str) -> str:
    """Every kind of typographic quote inside ``{{ … }}`` and ``{% … %}`` made straight.

    ``{% if candidat.civilite == « Madame » %}`` as French Word types it becomes
    ``== "Madame"``: the no-break spaces AutoFormat puts inside « » are not part of the text.
    Text outside tags is left alone.
    """

    def clean(match: re.Match[str]) -> str:
        tag = _DOUBLE_OPEN.sub('"', match.group(0))
        tag = _DOUBLE_CLOSE.sub('"', tag)
        tag = _SINGLE_OPEN.sub("'", tag)
        return _SINGLE_CLOSE.sub("'", tag)

    if not any(q in xml for q in "«»„“”‟″＂‹›‚‘’‛′&"):
        return xml
    return _TAG_INSIDE.sub(clean, xml)


# --- the template -----------------------------------------------------------------------------


def _docxtpl_class() -> type[Any]:
    """``_FastTemplate``, defined on first use so that importing this module stays cheap."""
    global _FAST
    if _FAST is not None:
        return _FAST
    import jinja2
    import jinja2.exceptions
    from docxtpl import DocxTemplate

    _fix_core_prefix()

    class FastTemplate(DocxTemplate):  # type: ignore[misc]
        """DocxTemplate sharing cleaned XML and compiled Jinja templates across renders."""

        docx_ids_index: int  # docxtpl's last wp:docPr id, set by its render_init

        def __init__(self, data: bytes, cache: dict[str, Any],
                     members: TemplateMembers) -> None:
            super().__init__(io.BytesIO(data))
            self._cache = cache
            self._members = members
            self.deadline = float("inf")  # time.monotonic() after which a render stops
            self.stream_to: Path | None = None  # where to stream the body (None: in memory)
            self.streamed: StreamedMember | None = None  # the body, once streamed

        def init_docx(self, reload: bool = True) -> None:
            if self.docx and not (self.is_rendered and reload):
                return
            # Rendering never touches styles, numbering or settings: opened as plain bytes,
            # python-docx neither parses them nor writes them again (a quarter of a render).
            # The template's members come from memory, decompressed once (see package.py).
            from docx.opc import pkgreader
            from docx.opc.part import PartFactory

            previous = PartFactory.part_class_selector
            module: Any = pkgreader
            reader = module.PhysPkgReader
            PartFactory.part_class_selector = _untouched_parts(previous)
            module.PhysPkgReader = lambda _file: MemoryReader(self._members)
            try:
                super().init_docx(reload)
            finally:
                PartFactory.part_class_selector = previous
                module.PhysPkgReader = reader

        def patch_xml(self, src_xml: str) -> str:
            key = "patch:" + src_xml
            found = self._cache.get(key)
            if found is None:
                found = straighten_quotes(super().patch_xml(src_xml))
                self._cache[key] = found
            return str(found)

        def render_xml_part(self, src_xml: str, part: Any, context: dict[str, Any],
                            jinja_env: jinja2.Environment | None = None) -> str:
            try:
                return self._render_part(src_xml, part, context, jinja_env)
            except _Fault as fault:
                fault.part = _part_label(str(getattr(part, "partname", "")))
                raise

        def _compiled(self, src_xml: str, jinja_env: jinja2.Environment | None
                      ) -> tuple[str, jinja2.Template]:
            """The part's Jinja source (a paragraph per line) and its compiled template."""
            src_xml = re.sub(r"<w:p([ >])", r"\n<w:p\1", src_xml)
            key = "jinja:" + src_xml
            template = self._cache.get(key)
            if template is None:
                assert jinja_env is not None
                try:
                    template = jinja_env.from_string(src_xml)
                except jinja2.TemplateSyntaxError as exc:
                    raise _syntax_fault(exc, src_xml) from None
                self._cache[key] = template
            return src_xml, template

        @contextlib.contextmanager
        def _located(self, src_xml: str) -> Iterator[None]:
            """Jinja's errors while rendering ``src_xml`` as _Fault, located in its text."""
            try:
                yield
            except jinja2.UndefinedError as exc:
                name = _undefined_name(str(exc))
                raise _Fault("variable", name,
                             _excerpt(src_xml, _template_lineno(exc), name)) from None
            except jinja2.exceptions.SecurityError as exc:
                raise _Fault("refus", _security_fr(str(exc)),
                             _excerpt(src_xml, _template_lineno(exc))) from None
            except jinja2.TemplateError as exc:
                raise _Fault("erreur", str(exc),
                             _excerpt(src_xml, _template_lineno(exc))) from None

        def _finish(self, dst_xml: str) -> str:
            """What docxtpl and certidocs do to rendered XML before parsing it (see
            certidocs.documents.streaming: the same on a piece as on the whole)."""
            dst_xml = re.sub(r"\n<w:p([ >])", r"<w:p\1", dst_xml)
            dst_xml = (dst_xml.replace("{_{", "{{").replace("}_}", "}}")
                       .replace("{_%", "{%").replace("%_}", "%}"))
            dst_xml = typographie_xml(dst_xml)
            if not any(char in dst_xml for char in _LISTING_CHARS):
                return dst_xml  # resolve_listing would change nothing (and it is slow)
            return str(self.resolve_listing(dst_xml))

        def _render_part(self, src_xml: str, part: Any, context: dict[str, Any],
                         jinja_env: jinja2.Environment | None) -> str:
            self.current_rendering_part = part
            src_xml, template = self._compiled(src_xml, jinja_env)
            with self._located(src_xml):
                dst_xml = "".join(self._chunks(template, context, MAX_DOCUMENT_CHARS))
            return self._finish(dst_xml)

        def _chunks(self, template: jinja2.Template, context: dict[str, Any],
                    limit: int) -> Iterator[str]:
            """The rendered XML as Jinja makes it, stopped beyond ``limit`` characters or
            the deadline."""
            import time

            size = 0
            for count, chunk in enumerate(template.generate(context)):
                size += len(chunk)
                if size > limit:
                    raise _too_long(limit)
                if count % 4096 == 4095 and time.monotonic() > self.deadline:
                    raise _Overtime
                yield chunk

        def build_xml(self, context: dict[str, Any],
                      jinja_env: jinja2.Environment | None = None) -> str:
            if self.stream_to is None:
                return str(super().build_xml(context, jinja_env))
            return self._stream_body(context, jinja_env)

        def _stream_body(self, context: dict[str, Any],
                         jinja_env: jinja2.Environment | None) -> str:
            """Render the body in pieces into ``stream_to`` (certidocs.documents.streaming);
            ``streamed`` is set, and a stand-in body returned for docxtpl's tree steps.
            Raises NeedsTree when those steps would have changed the body."""
            from docx.opc.oxml import serialize_part_xml

            from certidocs.documents.streaming import (
                MAX_STREAMED_CHARS,
                STUB_BODY,
                BodyCheck,
                BodySink,
                DocPrIds,
                NeedsTree,
                head_and_tail,
                pieces,
            )

            assert self.stream_to is not None
            head, tail = head_and_tail(serialize_part_xml(self.docx._element))
            src_xml = self.patch_xml(self.get_xml())
            self.current_rendering_part = self.docx._part
            src_xml, template = self._compiled(src_xml, jinja_env)
            first_id = self.docx_ids_index + 1
            check = BodyCheck(first_id)
            renumber = DocPrIds(first_id)
            with BodySink(self.stream_to) as sink, self._located(src_xml):
                sink.write(head)
                chunks = self._chunks(template, context, MAX_STREAMED_CHARS)
                for piece in pieces(chunks, lambda: _too_long(MAX_DOCUMENT_CHARS)):
                    try:
                        data = renumber(self._finish(piece)).encode("utf-8")
                    except UnicodeEncodeError:
                        raise NeedsTree from None
                    check.feed(data)
                    sink.write(data)
                sink.write(tail)
            if not check.close() or check.next_docpr != renumber.last + 1:
                raise NeedsTree
            self.streamed = sink.member
            self.docx_ids_index = renumber.last
            return STUB_BODY

        def render_properties(self, context: dict[str, Any],
                              jinja_env: jinja2.Environment | None = None) -> None:
            # Compiling each core property for each document costs more than the body; only
            # properties that hold a tag are rendered.
            _fix_core_prefix()
            props = self.docx.core_properties
            for name in ("author", "comments", "identifier", "language", "subject", "title"):
                value = straighten_quotes(getattr(props, name) or "")
                if "{{" in value or "{%" in value:
                    assert jinja_env is not None
                    try:
                        setattr(props, name, jinja_env.from_string(value).render(context))
                    except jinja2.TemplateSyntaxError as exc:
                        fault = _syntax_fault(exc, value)
                        raise _Fault(fault.kind, fault.detail,
                                     f"propriétés du document : {value}") from None
                    except jinja2.TemplateError as exc:
                        raise _Fault("variable" if isinstance(exc, jinja2.UndefinedError)
                                     else "erreur", _undefined_name(str(exc)),
                                     f"propriétés du document : {value}") from None

    _FAST = FastTemplate
    return FastTemplate


_FAST: type[Any] | None = None


def _untouched_parts(previous: Callable[[str, str], Any] | None) -> Callable[[str, str], Any]:
    """python-docx's part class selector, with the parts a render leaves alone as bytes."""
    from docx.opc.constants import CONTENT_TYPE as CT
    from docx.opc.part import Part

    untouched = {CT.WML_STYLES, CT.WML_NUMBERING, CT.WML_SETTINGS}

    def select(content_type: str, reltype: str) -> Any:
        if content_type in untouched:
            return Part
        return previous(content_type, reltype) if previous is not None else None

    return select


def _lazy_inline_image_class() -> type[Any]:
    from docxtpl import InlineImage

    class LazyInlineImage(InlineImage):  # type: ignore[misc]
        """An InlineImage whose bytes are made when the template prints it, not before."""

        def _insert_image(self) -> Any:
            make: Any = getattr(self, "image_descriptor")  # noqa: B009 (untyped base)
            if callable(make):
                self.image_descriptor = io.BytesIO(make())
            return super()._insert_image()

    return LazyInlineImage


def _lazy_inline_image(*args: Any, **kwargs: Any) -> Any:
    global _LAZY_IMAGE
    if _LAZY_IMAGE is None:
        _LAZY_IMAGE = _lazy_inline_image_class()
    return _LAZY_IMAGE(*args, **kwargs)


_LAZY_IMAGE: type[Any] | None = None


def _resolve_images(value: Any, tpl: Any) -> Any:
    """The context with every Image turned into a docxtpl InlineImage bound to ``tpl``."""
    if isinstance(value, Image):
        from docx.shared import Mm
        from docxtpl import InlineImage

        # A path stays a path: python-docx names the picture after the file (« logo.png »).
        source: Any = value.source
        width, height = value.largeur_mm, value.hauteur_mm
        if not callable(source):  # a QR code (callable) is drawn with its size and 72 dpi
            from certidocs.documents.images import placed

            key = source if isinstance(source, bytes) else str(source)
            try:
                data, width, height = placed(key, width, height)
            except (OSError, ValueError) as exc:
                raise DocumentError(f"image {'' if isinstance(source, bytes) else source} "
                                    f"illisible ({exc}) : enregistrez-la en PNG ou JPEG"
                                    ) from None
            if data is not None:
                source = data
        if isinstance(source, bytes):
            source = io.BytesIO(source)
        elif not callable(source):
            source = str(source)
        make = _lazy_inline_image if callable(source) else InlineImage
        return make(tpl, source, width=Mm(width) if width else None,
                    height=Mm(height) if height else None)
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
    if _is_list(value):
        return ("[]", _shape(value[0])) if value else ("[]",)
    return None


def _is_list(value: Any) -> bool:
    """A list, a tuple or a LazyRows (what a template loops over), not a string."""
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


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
            sample = items[0] if _is_list(items) and items else _UNKNOWN
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
        try:
            self.data = _as_document(self.data, path)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
            raise ModeleError(f"modèle {path} : fichier Word abîmé, illisible ({exc})"
                              ) from None
        self._cache: dict[str, Any] = {}
        self._variables: set[str] | None = None
        self._trees: list[tuple[str, Any, str]] = []  # (Jinja source, tree, part) per part
        self._checked: set[Any] = set()  # context shapes already checked by _ShapeCheck
        self._members: TemplateMembers | None = None  # compressed once, for write_package

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

    def _docxtpl(self) -> Any:
        """A fresh docxtpl template over this one's bytes, caches and members."""
        if self._members is None:
            try:
                self._members = TemplateMembers.of(self.data)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
                raise ModeleError(f"modèle {self.path} : fichier Word abîmé, illisible ({exc})"
                                  ) from None
        return _docxtpl_class()(self.data, self._cache, self._members)

    def variables(self) -> set[str]:
        """Top-level names the template uses (docxtpl's get_undeclared_template_variables)."""
        if self._variables is None:
            from jinja2 import TemplateSyntaxError, meta
            from lxml import etree

            tpl = self._docxtpl()
            try:
                tpl.init_docx()
                parts = [("", tpl.get_xml())]
                for uri in (tpl.HEADER_URI, tpl.FOOTER_URI):
                    parts += [(_part_label(str(p.partname)), tpl.get_part_xml(p))
                              for _, p in tpl.get_headers_footers(uri)]
            except (ValueError, KeyError, TypeError, AttributeError, etree.LxmlError) as exc:
                # python-docx refusing the package: a part missing, a type it does not know
                raise ModeleError(f"modèle {self.path} : ce fichier Word ne peut pas servir de "
                                  f"modèle ({type(exc).__name__} : {exc}) ; ouvrez-le dans "
                                  "Word et enregistrez-le au format « Document Word (.docx) »"
                                  ) from None
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

    def render_to(self, context: Mapping[str, Any], target: Path, *,
                  stream: bool = False) -> Path:
        """Render with ``context`` and save to ``target``; ModeleError names the fault.

        With ``stream``, the body goes from Jinja to ``target`` in pieces, never whole in
        memory (certidocs.documents.streaming: for a document listing a whole session, whose
        lists may be ``LazyRows``); the file is the same as without. A body that docxtpl's
        tree steps would change (a ``{%tc %}`` loop reshaping a table…) is rendered again
        without ``stream``, within a deadline of its own.
        """
        from certidocs.documents.streaming import NeedsTree

        self.check(context)
        if stream:
            body = target.with_name(f".{target.name}.corps")
            try:
                return self._render(context, target, body)
            except NeedsTree:
                pass
            finally:
                body.unlink(missing_ok=True)
        return self._render(context, target, None)

    def _render(self, context: Mapping[str, Any], target: Path, body: Path | None) -> Path:
        """Render and save; the body streamed through the file ``body`` when given."""
        tpl = self._docxtpl()
        tpl.stream_to = body
        try:
            with _deadline(MAX_RENDER_SECONDS) as tpl.deadline:
                tpl.render(_resolve_images(context, tpl), self.env, autoescape=True)
        except _Fault as fault:
            raise self._error(fault) from None
        except _Overtime:
            raise ModeleError(f"modèle {self.path.name} ({self.path.parent}) : un document a "
                              f"demandé plus de {MAX_RENDER_SECONDS} secondes ; une boucle du "
                              "modèle en contient-elle une autre sur la même liste ? Rien n'a "
                              "été écrit.") from None
        except RecursionError:
            raise ModeleError(f"modèle {self.path.name} ({self.path.parent}) : balises "
                              "imbriquées trop profondément ; rien n'a été écrit.") from None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            # python-docx rejecting an image, lxml rejecting the XML a misplaced {%p %} made
            raise ModeleError(f"modèle {self.path.name} : le document n'a pas pu être produit "
                              f"({type(exc).__name__} : {exc})") from None
        _mark(tpl.docx)
        streamed = {}
        if tpl.streamed is not None:
            streamed[tpl.docx.part.partname.membername] = tpl.streamed
        # Not tpl.save: docxtpl's picture and media replacements, which certidocs never asks
        # for, are all it would add to the package python-docx writes.
        return write_package(tpl.docx, target, tpl._members, streamed)


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


def _fix_core_prefix() -> None:
    """Give python-docx back its « cp » prefix.

    Importing docxcompose (docxtpl does, for its subdocuments, whenever docxcompose is
    installed) rebinds « cp » in python-docx's namespace map to the custom-properties
    namespace, for the whole process: python-docx then writes core properties (« last modified
    by », title…) into elements Word does not read, and reads them back empty. certidocs itself
    no longer uses docxcompose (merged files are built by certidocs.documents.merge).
    """
    from docx.oxml.ns import nsmap

    nsmap["cp"] = CORE_PROPERTIES_NS


def _mark(document: Any) -> None:
    """Record in the core properties that certidocs wrote this file (see _generated_by_us)."""
    _fix_core_prefix()
    props = document.core_properties
    for stray in props._element.findall(f"{{{CUSTOM_PROPERTIES_NS}}}lastModifiedBy"):
        props._element.remove(stray)  # written while the prefix was wrong
    props.last_modified_by = MARKER


def merge(paths: Sequence[Path], target: Path) -> Path:
    """One file holding every document of ``paths`` (rendered from one template), each
    starting on a new page with its own page numbers; see certidocs.documents.merge."""
    from certidocs.documents.merge import merge_documents

    return merge_documents(paths, target)


def _umask_mode() -> int:
    # mkstemp creates files readable by their owner only; documents get the usual mode.
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


STAGING_LOCK = ".verrou"
"""File inside a staging folder, locked (flock) by the batch for as long as it runs: a folder
whose lock can be taken belongs to a run that was killed."""

STALE_UNLOCKED_SECONDS = 3600
"""Age after which a staging folder without a lock we can test (no ``fcntl``: Windows; or a
folder left by a version without locks) is taken as abandoned: no batch runs for an hour."""


def _lock(staging: Path) -> Any:
    """Hold the staging folder's lock (the open file; closing it releases the lock)."""
    handle = (staging / STAGING_LOCK).open("w")
    try:
        import fcntl
    except ImportError:  # Windows: age alone tells (see clean_stale_staging)
        return handle
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    return handle


def _abandoned(folder: Path) -> bool:
    import time

    lock = folder / STAGING_LOCK
    try:
        import fcntl
    except ImportError:
        fcntl = None  # type: ignore[assignment]
    if fcntl is not None and lock.is_file():
        with lock.open("a") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False  # a batch is running there
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            return True
    try:
        return time.time() - folder.stat().st_mtime > STALE_UNLOCKED_SECONDS
    except OSError:
        return False


def clean_stale_staging(outdir: Path, prefix: str = STAGING_PREFIX) -> list[Path]:
    """Remove the folders named ``prefix``… that an interrupted run (killed, machine switched
    off) left in ``outdir``: staging folders hold finished documents, certificates included,
    that were never published; a batch's data folder (``production.MAGASIN_PREFIX``) holds
    its candidates' outcomes and identities. A folder another batch is working in (its
    STAGING_LOCK held) is left alone. Returns what was removed."""
    removed: list[Path] = []
    try:
        candidates = [p for p in outdir.iterdir()
                      if p.name.startswith(prefix) and p.is_dir()
                      and not p.is_symlink()]
    except OSError:
        return removed
    for folder in candidates:
        if _abandoned(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


@contextlib.contextmanager
def private_folder(parent: Path, prefix: str) -> Iterator[Path]:
    """A hidden folder (mode 0700) named ``prefix``… inside ``parent`` (which must exist),
    locked (STAGING_LOCK) while it is in use and removed afterwards whatever happens; the
    folders of the same prefix that killed runs left behind are removed first
    (clean_stale_staging)."""
    clean_stale_staging(parent, prefix)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))  # mode 0700
    lock = None
    try:
        lock = _lock(folder)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if lock is not None:
            lock.close()


@contextlib.contextmanager
def staging_folder(outdir: Path) -> Iterator[Path]:
    """A hidden, private folder inside ``outdir``, removed afterwards whatever happens (and at
    the next batch if this process is killed: see clean_stale_staging); ``outdir`` itself is
    removed again if this batch created it and leaves it empty, and so are the folders above
    it that it created (a session folder typed wrong: nothing is left behind)."""
    created: list[Path] = []  # deepest first
    probe = outdir
    while not probe.exists() and probe != probe.parent:
        created.append(probe)
        probe = probe.parent
    outdir.mkdir(parents=True, exist_ok=True)
    try:
        with private_folder(outdir, STAGING_PREFIX) as staging:
            yield staging
    finally:
        for folder in created:
            with contextlib.suppress(OSError):
                folder.rmdir()


@dataclass(frozen=True)
class _Task:
    """One document for a worker: what ``render_batch`` checked and decided for a job."""

    template: Path
    contexte: Mapping[str, Any] | ContextRecipe
    target: Path
    stream: bool = False  # a document of the whole session: its body streamed


class _Renderer:
    """What a worker keeps between documents: compiled templates, the batch's shared data."""

    def __init__(self, shared: Any, mode: int) -> None:
        self.shared = shared
        self.mode = mode
        self.env = make_environment()
        self.templates: dict[Path, Template] = {}

    def render(self, task: _Task) -> Path:
        template = self.templates.get(task.template)
        if template is None:
            template = Template(task.template, self.env)
            self.templates[task.template] = template
        context = task.contexte
        if isinstance(context, ContextRecipe):
            context = context(self.shared)
        template.render_to(context, task.target, stream=task.stream)
        task.target.chmod(self.mode)
        return task.target


_RENDERER: _Renderer | None = None  # this process's, during a batch


def _start_renderer(shared: Any, mode: int) -> None:
    global _RENDERER
    _RENDERER = _Renderer(shared, mode)


def _render_task(task: _Task) -> Path:
    assert _RENDERER is not None, "_start_renderer was not called in this process"
    return _RENDERER.render(task)


RENDER_CHUNK = 4  # documents per task sent to a worker (a document takes 10 to 30 ms)
# Chunks in flight per worker. The procès-verbal of a large session takes seconds; meanwhile
# the other workers go on with up to this many chunks. Jobs in flight are recipes or contexts
# of a few kilobytes, so memory stays flat.
RENDER_AHEAD = 16


def render_batch(jobs: Iterable[RenderJob], templates_dirs: Sequence[Path], outdir: Path, *,
                 merge_files: bool = True, pdf: bool = False,
                 overwrite_edited: bool = False, shared: Any = None,
                 progress: Callable[[int, int], None] | None = None,
                 total: int = 0) -> BatchResult:
    """Render every job into ``outdir/<type>/<nom>.docx``; all or nothing.

    Templates are looked up in ``templates_dirs`` in order (the workspace's own first, then
    ``default_templates_dir()``). With ``merge_files``, each per-person type also gets
    ``_impression_<type>.docx`` holding all its documents in the order of ``jobs``; with
    ``pdf``, every file gets its PDF (certidocs.documents.pdf). An existing file is
    replaced only if certidocs wrote it and nobody saved it since, unless ``overwrite_edited``:
    DocumentError lists the hand-edited files otherwise. Raises ModeleError (template name and
    the text around the fault) for a template that cannot render; nothing is written then.

    ``jobs`` is consumed lazily (a generator keeps memory flat) and rendered over the cores
    (CERTIDOCS_PROCESSUS sets how many; the files are the same whatever the number). A job
    whose context is a ContextRecipe gets it built by the worker, from ``shared``.
    ``progress(done, total)`` is called after each document when given, ``total`` being the
    number of jobs the caller announced.
    """
    with staging_folder(outdir) as staging:
        rendu = render_staged(jobs, templates_dirs, staging, merge_files=merge_files,
                              shared=shared, progress=progress, total=total)
        return finish_batch(rendu, staging, outdir, pdf=pdf, overwrite_edited=overwrite_edited)


@dataclass
class Rendu:
    """What ``render_staged`` left in its staging folder: per type, the documents' names in
    job order (``Fichiers``), and the print file (merged) of each per-person type."""

    staged: dict[str, Fichiers] = field(default_factory=dict)
    merged: dict[str, Path] = field(default_factory=dict)


def render_staged(jobs: Iterable[RenderJob], templates_dirs: Sequence[Path], staging: Path, *,
                  merge_files: bool = True, shared: Any = None,
                  progress: Callable[[int, int], None] | None = None,
                  total: int = 0) -> Rendu:
    """``render_batch``'s rendering (same arguments), into ``staging/<type>/`` (a folder of
    ``staging_folder``), and the print files with it: nothing is moved into place. Raises what
    ``render_batch`` raises for a job or a template."""
    from certidocs.documents.merge import MergedDocument
    from certidocs.parallel import parallel_imap

    global _RENDERER
    templates: dict[str, Path] = {}
    mode = _umask_mode()
    with contextlib.ExitStack() as merging:
        staged: dict[str, Fichiers] = {}  # per type, the documents' names in job order
        names: dict[str, set[str]] = {}

        def tasks() -> Iterator[_Task]:
            # Runs in this process as the workers ask for work: checks come in job order.
            for job in jobs:
                kind = TYPES.get(job.type)
                if kind is None:
                    raise ValueError(f"unknown document type {job.type!r}")
                template = templates.get(job.type)
                if template is None:
                    template = find_template(kind.modele, templates_dirs)
                    Template(template)  # unreadable or not a .docx: ModeleError now
                    templates[job.type] = template
                name = job.nom if job.nom.endswith(".docx") else f"{job.nom}.docx"
                if "/" in name or "\\" in name or name.startswith((".", MERGED_PREFIX)):
                    raise ValueError(f"invalid document file name {job.nom!r}")
                seen = names.setdefault(job.type, set())
                if name in seen:
                    raise DocumentError(f"deux documents « {job.type} » porteraient le même "
                                        f"nom de fichier {name} ; rien n'a été écrit")
                seen.add(name)
                files = staged.get(job.type)
                if files is None:
                    files = staged[job.type] = Fichiers(staging / job.type)
                    files.dossier.mkdir(exist_ok=True)
                # One string per name for every type (a candidate's fiche, notification,
                # certificate and attestation share it): 36,005 names are kept to the end
                # of the batch, 10,000 distinct ones at 10,000 candidates.
                files.noms.append(sys.intern(name))
                yield _Task(template, job.contexte, files.dossier / name, kind.par == "session")

        writers: dict[str, MergedDocument] = {}
        done = 0
        try:
            for target in parallel_imap(_render_task, tasks(), initializer=_start_renderer,
                                        initargs=(shared, mode), chunk=RENDER_CHUNK,
                                        ahead=RENDER_AHEAD):
                done += 1
                if progress is not None:
                    progress(done, max(total, done))
                type_nom = target.parent.name
                if not merge_files or TYPES[type_nom].par == "session":
                    continue
                writer = writers.get(type_nom)
                if writer is None:
                    writer = merging.enter_context(
                        MergedDocument(staging / type_nom / merged_name(type_nom)))
                    writers[type_nom] = writer
                writer.add(target)  # in job order: parallel_imap keeps it
        finally:
            _RENDERER = None  # set here when the batch ran in this process
        # Every name was checked: the sets (2.3 MiB at 10,000 candidates) are not kept
        # through the PDF conversion.
        names.clear()
        merged: dict[str, Path] = {}
        for type_nom, writer in writers.items():
            merged[type_nom] = writer.close()
            merged[type_nom].chmod(mode)
        writers.clear()
    return Rendu(staged, merged)


def finish_batch(rendu: Rendu, staging: Path, outdir: Path, *, pdf: bool = False,
                 overwrite_edited: bool = False) -> BatchResult:
    """The end of ``render_batch``: the PDFs of what ``render_staged`` left in ``staging``
    (with ``pdf``), then every file moved into ``outdir/<type>/`` once every existing target
    was checked. Raises DocumentError listing hand-edited files (unless
    ``overwrite_edited``), LibreOfficeError for the PDFs; nothing is moved then."""
    result = BatchResult()
    mode = _umask_mode()
    staged, merged = rendu.staged, rendu.merged
    converted = bool(pdf and staged)
    if converted:
        from certidocs.documents.pdf import convert_batch

        # Each PDF next to its document; the fonts checked on the way.
        result.avertissements += convert_batch(staged, merged, staging)

    def files(type_nom: str) -> Iterator[Path]:
        yield from staged[type_nom]
        if type_nom in merged:
            yield merged[type_nom]

    def moves() -> Iterator[tuple[Path, Path]]:
        # Made as they are needed (twice: checked, then moved), not held: one pair of
        # paths per document.
        for type_nom in staged:
            for p in files(type_nom):
                yield p, outdir / type_nom / p.name
                if converted:
                    yield p.with_suffix(".pdf"), outdir / type_nom / f"{p.stem}.pdf"

    # Nothing is moved before every existing target has been checked.
    edited = [dest for _, dest in moves()
              if dest.suffix == ".docx" and dest.exists() and not _generated_by_us(dest)]
    if edited and not overwrite_edited:
        shown = "\n".join(f"  - {p}" for p in edited[:20])
        more = f"\n  (et {len(edited) - 20} autres)" if len(edited) > 20 else ""
        raise DocumentError(
            f"{len(edited)} document(s) déjà présent(s) ont été modifiés à la main depuis "
            f"leur génération ; certidocs ne les remplace pas. Renommez-les ou déplacez-les "
            f"pour les régénérer :\n{shown}{more}")
    for src, dest in moves():
        dest.parent.mkdir(exist_ok=True)
        if dest.suffix == ".pdf":
            src.chmod(mode)
        os.replace(src, dest)
    pdfs = ListeFichiers()
    for type_nom, paths in staged.items():
        moved = result.documents[type_nom] = Fichiers(outdir / type_nom, paths.noms)
        if type_nom in merged:
            result.fusions[type_nom] = outdir / type_nom / merged[type_nom].name
        if converted:
            pdfs += PdfDe(moved,
                          f"{merged[type_nom].stem}.pdf" if type_nom in merged else None)
    result.pdfs = pdfs
    if not pdf:
        result.pdfs_perimes = [dest.with_suffix(".pdf") for _, dest in moves()
                               if dest.with_suffix(".pdf").exists()]
    return result


def render_document(template: Path, context: Mapping[str, Any], target: Path, *,
                    stream: bool = False) -> Path:
    """Render one template to ``target`` (atomically): for previews and tests. ``stream``:
    the body streamed, as for a document of the whole session (see Template.render_to)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".docx", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        Template(template).render_to(context, tmp, stream=stream)
        tmp.chmod(_umask_mode())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
