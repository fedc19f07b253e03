"""Domain objects: frozen dataclasses with no I/O.

The référentiel is blocs → compétences → critères, with the certifier's rules. Field names follow
the YAML format of referentiels/FORMAT.md, so that a reader of one recognises the other.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

VOIES_ACCES = ("Formation", "VAE", "Parcours mixte")
MODES_DECISION = ("blocs", "global")


@dataclass(frozen=True)
class Critere:
    """One evaluation criterion: what the jury marks « Acquis » or « Non acquis »."""

    code: str
    libelle: str
    competences: tuple[str, ...]
    groupe: str | None = None


@dataclass(frozen=True)
class Competence:
    """A compétence of a bloc, assessed by one or more criteria."""

    code: str
    libelle: str


@dataclass(frozen=True)
class Bloc:
    """A bloc de compétences: the unit a candidate validates and capitalises."""

    code: str
    intitule: str
    competences: tuple[Competence, ...]
    criteres: tuple[Critere, ...]
    activites: tuple[str, ...] = ()
    modalites_evaluation: tuple[str, ...] = ()
    livrables: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegleJury:
    """Composition of the jury and eligibility of each juror."""

    representants_certificateur: int = 1
    professionnels_min: int = 1
    professionnels_max: int = 2
    majorite_externes: bool = True
    experience_min_annees: int = 3
    cessation_max_annees: int = 5
    session_information_heures: int = 2


@dataclass(frozen=True)
class Regles:
    """The certifier's rules; the defaults are those of the seeds' session rules."""

    mode_decision: str = "blocs"
    seuil_bloc: float = 0.70
    seuil_certification: float = 0.70
    capitalisation: bool = True
    rattrapages_max: int = 1
    delai_rattrapage_jours: int = 365
    delai_convocation_jours: int = 30
    delai_resultats_jours: int = 10
    jury: RegleJury = field(default_factory=RegleJury)


@dataclass(frozen=True)
class EvaluationComplementaire:
    """An evaluation required in addition to the blocs, for some access routes."""

    code: str
    intitule: str
    voies: tuple[str, ...]
    modalites: tuple[str, ...] = ()


@dataclass(frozen=True)
class Certification:
    """Identity of the certification, as printed on certificates."""

    code: str
    intitule: str
    niveau: int | None = None
    rncp: str | None = None
    nsf: str | None = None
    certificateur: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class PointAVerifier:
    """A guess made by an importer that a person should check."""

    chemin: str
    raison: str


@dataclass(frozen=True)
class Referentiel:
    """A complete référentiel: certification, rules and blocs."""

    certification: Certification
    regles: Regles
    blocs: tuple[Bloc, ...]
    voies_acces: tuple[str, ...] = VOIES_ACCES
    qualites_non_observables: tuple[str, ...] = ()
    evaluations_complementaires: tuple[EvaluationComplementaire, ...] = ()
    informations_jury: tuple[str, ...] = ()
    a_verifier: tuple[PointAVerifier, ...] = ()

    @property
    def code(self) -> str:
        """The certification code, which names the YAML file and sessions refer to."""
        return self.certification.code

    @property
    def criteres(self) -> tuple[Critere, ...]:
        """Every criterion of every bloc, in order."""
        return tuple(c for b in self.blocs for c in b.criteres)

    @property
    def competences(self) -> tuple[Competence, ...]:
        """Every compétence of every bloc, in order."""
        return tuple(c for b in self.blocs for c in b.competences)

    def bloc(self, code: str) -> Bloc:
        """The bloc with this code; KeyError if there is none."""
        for b in self.blocs:
            if b.code == code:
                return b
        raise KeyError(code)

    def empreinte(self) -> str:
        """A fingerprint of what a grid depends on: blocs, criteria codes and texts, thresholds.

        Two référentiels with the same fingerprint produce the same grids; any reworded,
        added, removed or reordered criterion changes it.
        """
        data = {
            "code": self.code,
            "mode": self.regles.mode_decision,
            "seuils": [self.regles.seuil_bloc, self.regles.seuil_certification],
            "blocs": [
                [b.code, b.intitule, [[c.code, c.libelle] for c in b.criteres]] for b in self.blocs
            ],
        }
        raw = json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return hashlib.sha256(raw).hexdigest()[:16]
