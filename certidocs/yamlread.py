"""Read YAML while remembering the line of every value, and refuse duplicate keys.

PyYAML's ``safe_load`` forgets where values came from and silently keeps the last of two
duplicate keys; a référentiel checker needs both, so this module composes the node tree itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from certidocs.errors import Probleme


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

    try:
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
    try:
        doc.data = _build(node, "", doc, constructor)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        doc.problemes.append(Probleme("", f"valeur illisible ({exc})", line))
        doc.data = None
    finally:
        constructor.dispose()
    return doc


def _build(node: Any, chemin: str, doc: YamlDoc, constructor: Any) -> Any:
    import yaml

    doc.lignes.setdefault(chemin, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
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
            result[key] = _build(value_node, sub, doc, constructor)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, join(chemin, i), doc, constructor)
                for i, item in enumerate(node.value)]
    return constructor.construct_object(node, deep=True)
