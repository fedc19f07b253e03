"""Domain objects: frozen dataclasses with no I/O.

The référentiel is blocs → compétences → critères, with the certifier's rules. Field names follow
the YAML format of referentiels/FORMAT.md, so that a reader of one recognises the other.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date

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
class Partenaire:
    """An organisation the certifier habilitated (fiche RNCP, « PARTENAIRES »).

    ``habilitation`` is the export's code, e.g. ``HABILITATION_ORGA_FORM`` (may prepare
    candidates) or ``HABILITATION_FORMER`` (may train them).
    """

    nom: str
    siret: str | None = None
    habilitation: str | None = None


@dataclass(frozen=True)
class Certification:
    """Identity of the certification, as printed on certificates.

    The fields after ``source`` come from France Compétences' fiche (RNCP or RS export):
    ``date_effet`` is the registration decision's effective date and ``date_fin_enregistrement``
    the last day the registration is valid; no certificate is issued for a session outside
    them (rules.hors_enregistrement).
    """

    code: str
    intitule: str
    niveau: int | None = None
    rncp: str | None = None
    nsf: str | None = None
    certificateur: str | None = None
    source: str | None = None
    niveau_europeen: int | None = None
    codes_nsf: tuple[str, ...] = ()
    siret_certificateur: str | None = None
    date_effet: date | None = None
    date_fin_enregistrement: date | None = None
    partenaires: tuple[Partenaire, ...] = ()
    composition_jury: tuple[str, ...] = ()


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


# --- Sessions -------------------------------------------------------------------------------

PRESENCES = ("Présent", "Absent", "Excusé")
CIVILITES = ("Madame", "Monsieur")
COLLEGES = ("Représentant du certificateur", "Professionnel")
DECISIONS_RECOURS = ("Recevable", "Non recevable")

CERTIFIE = "Certifié"
VALIDATION_PARTIELLE = "Validation partielle"
NON_CERTIFIE = "Non certifié"
ABSENT = "Absent"
INCOMPLET = "Incomplet"
DECISIONS = (CERTIFIE, VALIDATION_PARTIELLE, NON_CERTIFIE, ABSENT, INCOMPLET)


@dataclass(frozen=True)
class SessionInfo:
    """The « Session » sheet: what the session is, where and when."""

    referentiel: str
    intitule: str = ""
    date_debut: date | None = None
    date_fin: date | None = None
    lieu: str = ""
    adresse: str = ""
    responsable: str = ""
    date_deliberation: date | None = None
    date_envoi_convocations: date | None = None


@dataclass(frozen=True, slots=True)
class Candidat:
    """One row of the « Candidats » sheet. ``ligne`` is its row in the sheet (for messages).

    With slots: the documents step pickles the session's candidates (its store, its workers'
    jobs), and pickling an instance with a ``__dict__`` makes that dict for good, two small
    allocations per candidate among the step's garbage (20,020 at 10,000 candidates,
    01/12/2026)."""

    numero: str
    civilite: str
    nom_naissance: str
    prenom: str
    nom_usage: str = ""
    date_naissance: date | None = None
    lieu_naissance: str = ""
    email: str = ""
    adresse: str = ""
    code_postal: str = ""
    ville: str = ""
    voie_acces: str = "Formation"
    blocs_presentes: tuple[str, ...] = ()  # empty: every bloc of the référentiel
    presence: str = ""
    formateur_tuteur: str = ""
    sexe: str = ""
    code_insee_naissance: str = ""
    pays_naissance: str = ""
    ligne: int = 0

    @property
    def nom(self) -> str:
        """The name to address the candidate by: usage name if any, else birth name."""
        return self.nom_usage or self.nom_naissance

    @property
    def present(self) -> bool:
        """Whether the candidate sat the exam (« Présent » on the day)."""
        return self.presence == "Présent"

    def blocs(self, referentiel: Referentiel) -> tuple[str, ...]:
        """Codes of the blocs this candidate presents, in the référentiel's order."""
        if not self.blocs_presentes:
            return tuple(b.code for b in referentiel.blocs)
        wanted = set(self.blocs_presentes)
        return tuple(b.code for b in referentiel.blocs if b.code in wanted)


@dataclass(frozen=True)
class Jure:
    """One row of the « Jury » sheet (``civilite`` is empty in files from before its column)."""

    nom: str
    prenom: str
    email: str = ""
    fonction: str = ""
    organisme: str = ""
    college: str = ""
    externe: bool | None = None
    experience_annees: float | None = None
    date_fin_exercice: date | None = None  # None: still in the trade
    date_session_information: date | None = None
    president: bool = False
    ligne: int = 0
    civilite: str = ""


@dataclass(frozen=True)
class Epreuve:
    """One row of the « Planning » sheet: when and where a candidate sits an épreuve."""

    numero: str
    epreuve: str
    date: date | None = None
    heure: str = ""
    salle: str = ""
    ligne: int = 0


@dataclass(frozen=True)
class Recours:
    """One row of the « Recours » sheet: an appeal and the decision on it."""

    numero: str
    date_reception: date | None = None
    motifs: str = ""
    decision: str = ""
    motif_decision: str = ""
    date_decision: date | None = None
    ligne: int = 0


@dataclass(frozen=True)
class Dysfonctionnement:
    """One row of the « Dysfonctionnements » sheet."""

    date: date | None = None
    description: str = ""
    action_corrective: str = ""
    responsable: str = ""
    ligne: int = 0


@dataclass(frozen=True)
class Session:
    """A whole session.xlsx, read and typed. ``nom`` is the session folder's name;
    ``identifiant`` the session's unique identifier (a uuid4 given by ``session creer``, or
    recorded by ``grilles`` for an older session.xlsx; « » until then), which every grid
    carries: the folder's name alone does not tell two sessions apart."""

    nom: str
    info: SessionInfo
    candidats: tuple[Candidat, ...] = ()
    jury: tuple[Jure, ...] = ()
    planning: tuple[Epreuve, ...] = ()
    recours: tuple[Recours, ...] = ()
    dysfonctionnements: tuple[Dysfonctionnement, ...] = ()
    identifiant: str = ""

    def candidat(self, numero: str) -> Candidat:
        """The candidate with this number; KeyError if there is none."""
        for c in self.candidats:
            if c.numero == numero:
                return c
        raise KeyError(numero)


# --- Outcomes -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResultatBloc:
    """A bloc's count for one candidate; ``capitalise`` when validated in an earlier session."""

    code: str
    acquis: int
    total: int
    valide: bool
    capitalise: bool = False

    @property
    def taux(self) -> float:
        """Share of criteria acquired, rounded to 4 decimals as in resultats.json."""
        return round(self.acquis / self.total, 4) if self.total else 0.0


@dataclass(frozen=True, slots=True)
class Anomalie:
    """Something wrong in a grid: which file, which cell, what."""

    fichier: str
    cellule: str
    message: str


@dataclass(frozen=True, slots=True)
class Resultat:
    """The outcome for one candidate of a session."""

    numero: str
    nom: str
    prenom: str
    decision: str
    blocs: tuple[ResultatBloc, ...] = ()
    rattrapage_possible: bool = False
    rattrapage_jusqu_au: date | None = None
    anomalies: tuple[Anomalie, ...] = ()
