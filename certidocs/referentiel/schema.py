"""The declarative schema of a référentiel YAML file (referentiels/FORMAT.md) and its checker.

The checker walks the data once, collects every problem with its YAML path, and never stops at
the first one, so that a person fixes a file in one pass.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from certidocs.errors import Probleme
from certidocs.model import MODES_DECISION, VOIES_ACCES
from certidocs.yamlread import YamlDoc, join

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


@dataclass(frozen=True)
class Spec:
    """What one value may be. ``kind`` is str, int, float, bool, list, map or date (a date
    written JJ/MM/AAAA, as France Compétences' export and every French reader write it)."""

    kind: str
    required: bool = False
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    item: Spec | None = None
    fields: dict[str, Spec] = field(default_factory=dict)
    min_items: int = 0
    code: bool = False


def text(required: bool = True, nullable: bool = False) -> Spec:
    """A non-empty string."""
    return Spec("str", required=required, nullable=nullable)


def code(required: bool = True) -> Spec:
    """An identifier: letters, digits, ``.``, ``-``, ``_``."""
    return Spec("str", required=required, code=True)


def texts() -> Spec:
    """An optional list of non-empty strings."""
    return Spec("list", item=text())


def integer(lo: int, hi: int, required: bool = False, nullable: bool = False) -> Spec:
    """An integer between ``lo`` and ``hi`` inclusive."""
    return Spec("int", required=required, nullable=nullable, minimum=lo, maximum=hi)


def mapping(required: bool = False, **fields: Spec) -> Spec:
    """A mapping with exactly these keys (unknown keys are refused)."""
    return Spec("map", required=required, fields=fields)


def list_of(item: Spec, min_items: int = 0, required: bool = False) -> Spec:
    """A list whose items all follow ``item``."""
    return Spec("list", item=item, min_items=min_items, required=required)


def date(nullable: bool = True) -> Spec:
    """A date written JJ/MM/AAAA (a date YAML reads by itself, AAAA-MM-JJ, is accepted too)."""
    return Spec("date", nullable=nullable)


RATE = Spec("float", minimum=0.0, maximum=1.0)
BOOL = Spec("bool")

REFERENTIEL = mapping(
    format=integer(1, 1),
    certification=mapping(
        required=True,
        code=code(),
        rncp=Spec("str", nullable=True),
        intitule=text(),
        niveau=integer(1, 8, nullable=True),
        nsf=Spec("str", nullable=True),
        certificateur=text(required=False, nullable=True),
        source=text(required=False, nullable=True),
        niveau_europeen=integer(1, 8, nullable=True),
        codes_nsf=texts(),
        siret_certificateur=Spec("str", nullable=True),
        date_effet=date(),
        date_fin_enregistrement=date(),
        partenaires=list_of(mapping(nom=text(), siret=Spec("str", nullable=True),
                                    habilitation=Spec("str", nullable=True))),
        composition_jury=texts(),
    ),
    regles=mapping(
        mode_decision=Spec("str", choices=MODES_DECISION),
        seuil_bloc=RATE,
        seuil_certification=RATE,
        capitalisation=BOOL,
        rattrapages_max=integer(0, 10),
        delai_rattrapage_jours=integer(0, 3650),
        delai_convocation_jours=integer(0, 365),
        delai_resultats_jours=integer(0, 365),
        jury=mapping(
            representants_certificateur=integer(0, 10),
            professionnels_min=integer(0, 20),
            professionnels_max=integer(0, 20),
            majorite_externes=BOOL,
            experience_min_annees=integer(0, 50),
            cessation_max_annees=integer(0, 50),
            session_information_heures=integer(0, 100),
        ),
    ),
    voies_acces=list_of(Spec("str", choices=VOIES_ACCES)),
    qualites_non_observables=texts(),
    evaluations_complementaires=list_of(
        mapping(code=code(), intitule=text(), voies=list_of(Spec("str", choices=VOIES_ACCES)),
                modalites=texts())
    ),
    informations_jury=texts(),
    blocs=list_of(
        mapping(
            code=code(),
            intitule=text(),
            activites=texts(),
            modalites_evaluation=texts(),
            livrables=texts(),
            competences=list_of(mapping(code=code(), libelle=text())),
            criteres=list_of(
                mapping(
                    code=code(),
                    libelle=text(),
                    competences=list_of(code(), min_items=1, required=True),
                    groupe=text(required=False, nullable=True),
                ),
                min_items=1,
                required=True,
            ),
        ),
        min_items=1,
        required=True,
    ),
    a_verifier=list_of(mapping(chemin=text(), raison=text())),
)

_KIND_FR = {
    "str": "un texte",
    "int": "un nombre entier",
    "float": "un nombre",
    "bool": "oui ou non (true / false)",
    "list": "une liste",
    "map": "un ensemble de clés (mapping)",
    "date": "une date JJ/MM/AAAA (par exemple 31/08/2029)",
}


def parse_date(value: object) -> dt.date | None:
    """The date a YAML value means: « 31/08/2029 » (or a date YAML read itself); None if it
    is not one."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    match = re.fullmatch(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*", value)
    try:
        if match:
            return dt.date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
    except ValueError:
        return None
    return None


def check(doc: YamlDoc) -> list[Probleme]:
    """Every structural problem of ``doc`` against the schema, with paths and lines."""
    problems: list[Probleme] = []
    if not isinstance(doc.data, dict):
        what = "vide" if doc.data is None else "pas un ensemble de clés"
        problems.append(Probleme("", f"le fichier est {what} : il doit commencer par "
                                     "« certification: » et « blocs: »", doc.ligne("")))
        return problems
    _walk(REFERENTIEL, doc.data, "", doc, problems)
    return problems


def _walk(spec: Spec, value: Any, chemin: str, doc: YamlDoc, out: list[Probleme]) -> None:
    def problem(message: str, where: str = chemin) -> None:
        out.append(Probleme(where, message, doc.ligne(where)))

    if value is None:
        if not spec.nullable:
            problem("valeur manquante" if spec.kind != "map" else "section vide")
        return
    if spec.kind == "map":
        if not isinstance(value, dict):
            problem(f"doit être {_KIND_FR['map']}")
            return
        for key in value:
            if key not in spec.fields:
                known = ", ".join(spec.fields)
                problem(f"clé inconnue « {key} » (faute de frappe ? clés possibles : {known})",
                        join(chemin, key))
        for key, sub in spec.fields.items():
            if key in value:
                _walk(sub, value[key], join(chemin, key), doc, out)
            elif sub.required:
                problem(f"« {key} » manquant")
        return
    if spec.kind == "list":
        if not isinstance(value, list):
            problem(f"doit être {_KIND_FR['list']}")
            return
        if len(value) < spec.min_items:
            problem("liste vide : il en faut au moins un")
        assert spec.item is not None
        for i, item in enumerate(value):
            _walk(spec.item, item, join(chemin, i), doc, out)
        return
    if spec.kind == "str":
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            problem(f"doit être {_KIND_FR['str']}")
            return
        if isinstance(value, (int, float)):
            problem(f"doit être {_KIND_FR['str']} (mettez-le entre guillemets)")
            return
        s = str(value)
        if not s.strip():
            problem("texte vide")
        elif spec.code and not CODE_RE.match(s):
            problem(f"code « {s} » invalide : lettres, chiffres, « . », « - » ou « _ », "
                    "32 caractères au plus")
        elif spec.choices and s not in spec.choices:
            problem(f"« {s} » n'est pas une valeur possible ({', '.join(spec.choices)})")
        return
    if spec.kind == "date":
        if parse_date(value) is None:
            problem(f"« {value} » n'est pas {_KIND_FR['date']}")
        return
    if spec.kind == "bool":
        if not isinstance(value, bool):
            problem(f"doit être {_KIND_FR['bool']}")
        return
    # numbers
    ok_types: tuple[type, ...] = (int,) if spec.kind == "int" else (int, float)
    if isinstance(value, bool) or not isinstance(value, ok_types):
        problem(f"doit être {_KIND_FR[spec.kind]}")
        return
    number = float(value)  # type: ignore[arg-type]  # int or float, checked just above
    if spec.minimum is not None and spec.maximum is not None and not (
        spec.minimum <= number <= spec.maximum
    ):
        lo, hi = _fmt(spec.minimum), _fmt(spec.maximum)
        hint = " (70 % s'écrit 0.70)" if spec.kind == "float" and number > 1 else ""
        problem(f"{_fmt(number)} est hors des limites : entre {lo} et {hi}{hint}")


def _fmt(n: float) -> str:
    return str(int(n)) if float(n).is_integer() else str(n)
