"""Read YAML while remembering the line of every value, and refuse duplicate keys.

PyYAML's ``safe_load`` forgets where values came from and silently keeps the last of two
duplicate keys; a référentiel checker needs both, so this module composes the node tree itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from certidocs.errors import Probleme

MAX_YAML_BYTES = 5 * 1024 * 1024
"""Largest référentiel file: 5 MB. The largest of the five shipped (MMDC, 86 criteria) is about
60 kB; a file a hundred times larger is not a référentiel typed or imported by certidocs."""

MAX_YAML_DEPTH = 32
"""Deepest nesting of lists and mappings: a référentiel needs 8 (blocs → compétences →
critères → fields); PyYAML's composer recurses once per level, and thousands of ``[`` in a few
kB made it fail with RecursionError."""

MAX_YAML_VALUES = 200_000
"""Values a file may expand to, aliases included: the largest référentiel holds about 3 000;
ten aliases of ten aliases of… (« billion laughs ») turn a few kB into billions of values."""

MAX_NUMBER_DIGITS = 30
"""Longest number written as digits: thresholds, durations and codes have at most a few;
Python refuses to convert more than 4 300 digits, and a long number takes quadratic time."""

_NUMBER = re.compile(r"[-+]?(0[box])?[0-9_.:eE+-]*[0-9][0-9_.:eE+-]*")


@dataclass
class YamlDoc:
    """Plain Python data (dicts, lists, scalars) plus the line of each path, 1-based."""

    data: Any
    lignes: dict[str, int] = field(default_factory=dict)
    problemes: list[Probleme] = field(default_factory=list)

    def ligne(self, chemin: str) -> int | None:
        """The line of ``chemin``, or of its nearest parent that has one."""
        while True:
            if chemin in self.lignes:
                return self.lignes[chemin]
            if not chemin:
                return None
            cut = max(chemin.rfind("."), chemin.rfind("["))
            chemin = chemin[:cut] if cut > 0 else ""


def join(chemin: str, key: str | int) -> str:
    """The path of ``key`` under ``chemin``: ``a.b``, ``a[2]``."""
    if isinstance(key, int):
        return f"{chemin}[{key}]"
    return f"{chemin}.{key}" if chemin else key


def lire_yaml(texte: str, fichier: str) -> YamlDoc:
    """Parse ``texte``; a syntax error becomes one ``Probleme`` with its line, data ``None``.

    Duplicate keys are reported as problems (the first value is kept).
    """
    import yaml

    if len(texte) > MAX_YAML_BYTES:
        return YamlDoc(None, problemes=[Probleme(
            "", f"fichier de {len(texte) // 1024 // 1024} Mo, trop gros pour un référentiel "
                f"(au plus {MAX_YAML_BYTES // 1024 // 1024} Mo)")])
    try:
        bound = _bounds(texte)
        if bound is not None:
            return YamlDoc(None, problemes=[bound])
        node = yaml.compose(texte, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        # The context mark is where the broken construct starts (an unclosed quote, say):
        # that is the line to fix, even when the parser only noticed at the end of the file.
        problem_mark = getattr(exc, "problem_mark", None)
        context_mark = getattr(exc, "context_mark", None)
        mark = context_mark or problem_mark
        line = mark.line + 1 if mark is not None else None
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context", None)
        if context and problem_mark is not None and context_mark is not None:
            what = f"{what}, ligne {problem_mark.line + 1}, {context}"
        message = f"ce n'est pas du YAML valide ({what})"
        return YamlDoc(None, problemes=[Probleme("", message, line)])
    doc = YamlDoc(None)
    if node is None:
        return doc
    constructor = yaml.SafeLoader("")  # only used to turn scalar nodes into Python values
    budget = [MAX_YAML_VALUES]
    try:
        doc.data = _build(node, "", doc, constructor, budget, 0)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        doc.problemes.append(Probleme("", f"valeur illisible ({exc})", line))
        doc.data = None
    except _TooLarge as exc:
        doc.problemes.append(exc.probleme)
        doc.data = None
    finally:
        constructor.dispose()
    return doc


class _TooLarge(Exception):
    def __init__(self, probleme: Probleme) -> None:
        super().__init__(probleme.message)
        self.probleme = probleme


def _bounds(texte: str) -> Probleme | None:
    """The first bound the file breaks, read as a stream of events (nothing is built, and
    PyYAML's parser does not recurse): nesting, long numbers."""
    import yaml

    depth = 0
    for event in yaml.parse(texte, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                return Probleme("", f"listes ou sections imbriquées sur plus de "
                                    f"{MAX_YAML_DEPTH} niveaux : ce n'est pas un référentiel",
                                _line(event))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif (isinstance(event, yaml.ScalarEvent) and event.style is None
              and len(event.value) > MAX_NUMBER_DIGITS and event.tag is None
              and _NUMBER.fullmatch(event.value)):
            return Probleme("", f"nombre de {len(event.value)} caractères (au plus "
                                f"{MAX_NUMBER_DIGITS}) ; mettez-le entre guillemets si c'est "
                                "un texte", _line(event))
    return None


def _line(event: Any) -> int | None:
    mark = event.start_mark
    return mark.line + 1 if mark is not None else None


def _construct(node: Any, constructor: Any) -> Any:
    try:
        return constructor.construct_object(node, deep=True)
    except (ValueError, OverflowError):  # a number Python refuses (checked before, in _bounds)
        raise _TooLarge(Probleme("", f"valeur « {str(node.value)[:40]}… » illisible",
                                 node.start_mark.line + 1)) from None


def _build(node: Any, chemin: str, doc: YamlDoc, constructor: Any, budget: list[int],
           depth: int) -> Any:
    import yaml

    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_YAML_DEPTH:
        what = (f"plus de {MAX_YAML_VALUES} valeurs une fois les alias (*nom) développés"
                if budget[0] < 0 else
                f"alias imbriqués sur plus de {MAX_YAML_DEPTH} niveaux (alias récursif ?)")
        raise _TooLarge(Probleme(chemin, f"{what} : ce n'est pas un référentiel",
                                 node.start_mark.line + 1))
    doc.lignes.setdefault(chemin, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = (_construct(key_node, constructor) if isinstance(key_node, yaml.ScalarNode)
                   else [])
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                doc.problemes.append(
                    Probleme(chemin, "une clé doit être un simple mot",
                             key_node.start_mark.line + 1)
                )
                continue
            key = str(key)
            sub = join(chemin, key)
            if key in result:
                doc.problemes.append(
                    Probleme(sub, "clé en double (déjà définie plus haut)",
                             key_node.start_mark.line + 1)
                )
                continue
            doc.lignes[sub] = key_node.start_mark.line + 1
            result[key] = _build(value_node, sub, doc, constructor, budget, depth + 1)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, join(chemin, i), doc, constructor, budget, depth + 1)
                for i, item in enumerate(node.value)]
    return _construct(node, constructor)
