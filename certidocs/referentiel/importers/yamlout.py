"""Write a :class:`Draft` as the référentiel YAML of referentiels/FORMAT.md.

PyYAML cannot write comments, and an imported file needs them (where each rule comes from, why
a bloc has no criteria yet); so the structure is laid out here, block style, one value per
line, while every scalar is quoted by PyYAML itself so that it reads back exactly.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from certidocs.errors import ImportErreur
from certidocs.referentiel.importers.common import Draft

_WIDTH = 1_000_000  # never fold a long libellé over several lines
_SPECIAL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def draft_data(draft: Draft) -> dict[str, Any]:
    """The YAML mapping of ``draft``, keys in the order of FORMAT.md."""
    data: dict[str, Any] = {"format": 1, "certification": dict(draft.certification)}
    if draft.regles:
        data["regles"] = draft.regles
    if draft.voies_acces:
        data["voies_acces"] = list(draft.voies_acces)
    if draft.qualites_non_observables:
        data["qualites_non_observables"] = _unique(draft.qualites_non_observables)
    if draft.informations_jury:
        data["informations_jury"] = _unique(draft.informations_jury)
    blocs = []
    for bloc in draft.blocs:
        item: dict[str, Any] = {"code": bloc.code, "intitule": bloc.intitule}
        for key, values in (("activites", bloc.activites),
                            ("modalites_evaluation", bloc.modalites),
                            ("livrables", bloc.livrables)):
            if values:
                item[key] = list(values)
        item["competences"] = [{"code": c.code, "libelle": c.libelle} for c in bloc.competences]
        crits = []
        for c in bloc.criteres:
            crit: dict[str, Any] = {"code": c.code, "libelle": c.libelle,
                                    "competences": list(c.competences)}
            if c.groupe:
                crit["groupe"] = c.groupe
            crits.append(crit)
        item["criteres"] = crits
        blocs.append(item)
    data["blocs"] = blocs
    points = draft.points
    if points:
        data["a_verifier"] = [{"chemin": chemin, "raison": raison} for chemin, raison in points]
    return data


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def scalar(value: Any) -> str:
    """One scalar as YAML text that reads back as the same value."""
    import yaml

    if value is None:
        return "null"
    if not isinstance(value, (str, bool, int, float)):
        raise TypeError(f"valeur {type(value).__name__} non prise en charge")
    if isinstance(value, str) and _SPECIAL.search(value):
        # Control characters and YAML line breaks (NEL, U+2028…) only survive escaped.
        escaped = yaml.safe_dump(value, default_style='"', allow_unicode=False, width=_WIDTH)
        return escaped.rstrip("\n")
    text = yaml.safe_dump(value, allow_unicode=True, width=_WIDTH, default_flow_style=True)
    if text.endswith("\n...\n"):
        text = text[:-5]
    text = text.rstrip("\n")
    if "\n" in text:
        # JSON strings are YAML double-quoted scalars: one line whatever the text holds.
        text = json.dumps(value, ensure_ascii=False)
    return text


def dump(data: dict[str, Any], header: list[str], comments: dict[str, list[str]]) -> str:
    """``data`` as YAML text, ``header`` as leading comments, ``comments`` above their paths."""
    lines = [f"# {line}" if line else "#" for line in header]
    _mapping(data, 0, "", lines, comments, top=True)
    return "\n".join(lines) + "\n"


def _comment(lines: list[str], indent: int, texts: list[str]) -> None:
    lines.extend(f"{' ' * indent}# {t}" for t in texts)


def _mapping(data: dict[str, Any], indent: int, path: str, lines: list[str],
             comments: dict[str, list[str]], top: bool = False, dash: str = "") -> None:
    for n, (name, value) in enumerate(data.items()):
        sub = f"{path}.{name}" if path else name
        key = scalar(name)  # « on », « yes », « 1.1 » would not read back as text unquoted
        if top and n > 0:
            lines.append("")
        lead = dash if (dash and n == 0) else " " * indent
        _comment(lines, indent, comments.get(sub, []))
        if isinstance(value, dict):
            if not value:
                lines.append(f"{lead}{key}: {{}}")
            else:
                lines.append(f"{lead}{key}:")
                _mapping(value, indent + 2, sub, lines, comments)
        elif isinstance(value, list):
            if not value:
                lines.append(f"{lead}{key}: []")
                continue
            lines.append(f"{lead}{key}:")
            for i, item in enumerate(value):
                item_path = f"{sub}[{i}]"
                if isinstance(item, dict) and not item:
                    lines.append(f"{' ' * (indent + 2)}- {{}}")
                elif isinstance(item, dict):
                    if name == "blocs" and i > 0:
                        lines.append("")
                    _comment(lines, indent + 2, comments.get(item_path, []))
                    _mapping(item, indent + 4, item_path, lines, comments,
                             dash=f"{' ' * (indent + 2)}- ")
                elif isinstance(item, list):
                    raise TypeError(f"{item_path} : liste de listes non prise en charge")
                else:
                    lines.append(f"{' ' * (indent + 2)}- {scalar(item)}")
        else:
            lines.append(f"{lead}{key}: {scalar(value)}")


def write_atomically(text: str, target: Path, *, force: bool,
                     check: Callable[[Path], None]) -> None:
    """Write ``text`` to ``target`` through a temporary file in the same folder.

    ``check`` reads the temporary file and raises when it is not acceptable; the target is
    only replaced after it passed, so a failure (or an interruption) leaves nothing behind.
    """
    folder = target.parent
    if not folder.is_dir():
        raise ImportErreur(f"{folder} : dossier introuvable ; rien n'a été écrit")
    if target.exists() and not force:
        raise ImportErreur(f"{target} existe déjà : ajoutez --force pour le remplacer "
                           "(rien n'a été écrit)")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise ImportErreur(f"{folder} : écriture impossible ({exc.strerror}) ; rien n'a été "
                           "écrit") from None
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        check(tmp)
        os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


_RNCP_EMPTY = re.compile(r"^blocs\[\d+\]\.criteres$")


def is_expected_gap(lieu: str, message: str) -> bool:
    """Whether a problem is the empty criteria list an RNCP import leaves on purpose."""
    return bool(_RNCP_EMPTY.match(lieu)) and message.startswith("liste vide")
