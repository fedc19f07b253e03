"""The Jinja environment of Word templates: sandboxed, a short list of filters, bounded.

A template is a file office staff edit in Word, shared by e-mail and USB keys: it must not be
able to do more than print the documented variables. Three layers, each catching what the
previous one cannot:

- before a template is compiled, its syntax tree is checked (``check_tree``): no attribute or
  key starting with « _ » (``''.__class__`` is how Python's internals are reached), no function
  or method call but ``x.items()``/``keys()``/``values()`` and ``loop.cycle(…)``, no macro, no
  ``include``/``import``/``extends``; a refused tag is a ``TagRefused`` naming what is refused;
- only the filters of ``ALLOWED_FILTERS`` exist and no global (``range``, ``lipsum``,
  ``cycler``… are gone): anything else is « inconnu » at compile time;
- the template runs in Jinja's ``SandboxedEnvironment`` (jinja2.sandbox, maintained with Jinja:
  unsafe attributes and methods refused at run time too), with ``*``, ``**`` and ``%``
  intercepted so that ``'x' * 10**9`` cannot allocate gigabytes.

The time and size a document may take are bounded by the renderer (see
``certidocs.documents.render``: ``MAX_RENDER_SECONDS``, ``MAX_DOCUMENT_CHARS``).
"""

from __future__ import annotations

from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

ALLOWED_FILTERS = frozenset({
    "capitalize", "count", "d", "default", "e", "escape", "first", "join", "last", "length",
    "lower", "replace", "round", "string", "title", "trim", "upper", "int",
})
"""Filters a template may use (listed in templates/LISEZMOI.md): each one's output is at most a
few times its input. Left out: ``safe`` (would let a value inject Word XML), ``format``,
``center``, ``indent``, ``wordwrap`` (a width in the template allocates that much), ``attr``,
``map``, ``select``… (reach attributes by name), ``pprint``, ``tojson``."""

ALLOWED_METHODS = frozenset({"items", "keys", "values"})
"""Methods a template may call, without arguments, on a mapping (``for k, v in x.items()``)."""

MAX_REPEAT = 10_000
"""Largest ``n`` in ``'texte' * n`` or ``liste * n``: 10 000 draws a rule line of any width a
page can hold; a billion would allocate gigabytes before any other limit could act."""

MAX_POWER = 64
"""Largest exponent in ``a ** b``: 2**64 is already beyond anything a document prints, and
``10 ** 10**6`` takes seconds and megabytes to compute."""

REFUSED_HINT = ("un modèle ne peut qu'imprimer les variables et utiliser les filtres listés "
                "dans LISEZMOI.md (à côté des modèles)")


class TagRefused(jinja2.TemplateSyntaxError):
    """A tag that reaches beyond the documented variables; ``needle`` is the text to quote."""

    def __init__(self, message: str, lineno: int, needle: str) -> None:
        super().__init__(message, lineno)
        self.needle = needle


def _refuse(node: nodes.Node, what: str, needle: str) -> TagRefused:
    return TagRefused(f"balise refusée ({what}) : {REFUSED_HINT}", node.lineno, needle)


def check_tree(tree: nodes.Node) -> None:
    """Raise TagRefused at the first construct a template may not use (see the module)."""
    for node in tree.find_all(nodes.Node):
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            raise _refuse(node, f"attribut interne « {node.attr} »", node.attr)
        if (isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const)
                and isinstance(node.arg.value, str) and node.arg.value.startswith("_")):
            raise _refuse(node, f"clé interne « {node.arg.value} »", node.arg.value)
        if isinstance(node, nodes.Call) and not _allowed_call(node):
            callee = node.node
            name = (callee.attr if isinstance(callee, nodes.Getattr)
                    else callee.name if isinstance(callee, nodes.Name) else "")
            raise _refuse(node, f"appel de fonction « {name}(…) »" if name
                          else "appel de fonction", name or "(")
        if isinstance(node, nodes.Macro | nodes.CallBlock):
            raise _refuse(node, "macro", "macro" if isinstance(node, nodes.Macro) else "call")
        if isinstance(node, nodes.Extends | nodes.Include | nodes.Import | nodes.FromImport):
            keyword = {nodes.Extends: "extends", nodes.Include: "include",
                       nodes.Import: "import", nodes.FromImport: "from"}[type(node)]
            raise _refuse(node, f"« {keyword} » d'un autre fichier", keyword)


def _allowed_call(node: nodes.Call) -> bool:
    callee = node.node
    if not isinstance(callee, nodes.Getattr):
        return False
    if node.args or node.kwargs or node.dyn_args or node.dyn_kwargs:
        return (callee.attr == "cycle" and isinstance(callee.node, nodes.Name)
                and callee.node.name == "loop" and not node.kwargs)
    return callee.attr in ALLOWED_METHODS


class TemplateEnvironment(SandboxedEnvironment):
    """Strict (undefined variables fail), escaped, sandboxed and checked before compiling."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self) -> None:
        super().__init__(undefined=jinja2.StrictUndefined, autoescape=True)
        self.filters = {name: f for name, f in self.filters.items() if name in ALLOWED_FILTERS}
        self.globals.clear()

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        check_tree(tree)
        return tree

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """``*``, ``**`` and ``%`` with their operands bounded (see MAX_REPEAT, MAX_POWER)."""
        if operator == "*":
            for count, other in ((left, right), (right, left)):
                if (isinstance(count, int) and isinstance(other, str | list | tuple)
                        and count > MAX_REPEAT):
                    raise SecurityError(f"répétition de {count} fois refusée (au plus "
                                        f"{MAX_REPEAT})")
            return left * right
        if operator == "**":
            if not isinstance(right, int | float) or abs(right) > MAX_POWER:
                raise SecurityError(f"puissance {right} refusée (exposant au plus {MAX_POWER})")
            return left ** right
        if isinstance(left, str):
            raise SecurityError("« % » appliqué à un texte est refusé dans un modèle")
        return left % right
