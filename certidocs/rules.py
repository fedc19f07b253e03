"""Outcome rules: pure functions that turn evaluations into decisions, with no I/O.

Thresholds are compared in integers (``acquis * q >= p * total`` where ``p/q`` is the exact
decimal threshold), never in floats: ``0.7 * 100`` is ``70.00000000000001`` in binary floating
point, which would refuse a candidate with exactly 70 %. The grid formulas use the same ``p``
and ``q`` (see :func:`seuil_fraction`), so that a spreadsheet and certidocs cannot disagree.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from fractions import Fraction

from certidocs.model import (
    ABSENT,
    CERTIFIE,
    INCOMPLET,
    NON_CERTIFIE,
    VALIDATION_PARTIELLE,
    Anomalie,
    Candidat,
    Certification,
    Referentiel,
    Regles,
    Resultat,
    ResultatBloc,
)

REGLES_VERSION = "2026.2"
"""The version of these rules, recorded with every decision in the register (the evidence a
decision was taken from). Raise it whenever a rule below changes what a candidate gets."""

#: Decisions after which a candidate may sit again (a retake, « rattrapage »).
ECHECS = (NON_CERTIFIE, VALIDATION_PARTIELLE)


def seuil_fraction(seuil: float) -> Fraction:
    """The threshold as the exact fraction its decimal writing means (0.7 → 7/10).

    ``Fraction(str(x))`` reads the shortest decimal that round-trips to ``x``, i.e. what the
    référentiel's author wrote, not the binary approximation ``Fraction(0.7)`` would give.
    """
    return Fraction(str(seuil))


def seuil_atteint(acquis: int, total: int, seuil: float) -> bool:
    """Whether ``acquis`` out of ``total`` reaches ``seuil`` (inclusive: exactly 70 % passes).

    Exact integer comparison ``acquis * q >= p * total``. An empty set of criteria (total 0)
    reaches no threshold, so that nothing is ever validated without being evaluated.
    """
    if total <= 0:
        return False
    ratio = seuil_fraction(seuil)
    return acquis * ratio.denominator >= ratio.numerator * total


def resultat_candidat(
    referentiel: Referentiel,
    candidat: Candidat,
    evaluations: dict[str, bool | None] | None,
    capitalises: frozenset[str] = frozenset(),
    anomalies: tuple[Anomalie, ...] = (),
    rattrapage: tuple[bool, date | None] = (False, None),
) -> Resultat:
    """The outcome of one candidate, from the evaluations of the criteria of their grid.

    ``evaluations`` maps a criterion code to True (« Acquis »), False (« Non acquis ») or None
    (not evaluated); a missing code counts as not evaluated, and None (no grid read) as nothing
    evaluated. ``capitalises`` holds the codes of blocs validated in earlier sessions (ignored
    when the référentiel's rules say blocs are not capitalised). ``rattrapage`` is the retake
    right computed by :func:`droit_rattrapage`; it is kept only when the decision is a failure,
    so callers may also compute it afterwards and ``dataclasses.replace`` the result.

    Decisions: « Absent » when the candidate did not sit (Absent or Excusé); « Incomplet » when
    there is any anomaly, any criterion of a presented bloc is not evaluated (complete blocs
    are still counted) or no bloc of the référentiel is presented; otherwise, in mode
    « blocs », « Certifié » when every bloc of the référentiel is validated now or capitalised,
    « Validation partielle » when some presented bloc is validated, else « Non certifié »;
    in mode « global », « Certifié » or « Non certifié » by the rate over every criterion of
    the presented blocs against ``seuil_certification`` (blocs are still reported, validated
    against ``seuil_bloc``, and capitalised blocs play no part: a global decision has no
    partial validation to build on).

    Blocs capitalised and not presented are reported with ``acquis=0, total=0, valide=True,
    capitalise=True``: the counts are always those of this session, and nothing was evaluated.
    A bloc both capitalised and presented again keeps this session's counts and stays
    validated (capitalisation is never lost); ``capitalise`` is then True only when this
    session alone would not have validated it.
    """
    regles = referentiel.regles
    if not candidat.present:
        return Resultat(candidat.numero, candidat.nom, candidat.prenom, ABSENT,
                        anomalies=anomalies)
    evaluations = evaluations or {}
    presentes = candidat.blocs(referentiel)
    acquis_blocs = capitalises if regles.capitalisation and regles.mode_decision == "blocs" \
        else frozenset()
    blocs: list[ResultatBloc] = []
    complet = True
    acquis_total = 0
    criteres_total = 0
    valides_maintenant: set[str] = set()
    for bloc in referentiel.blocs:
        if bloc.code not in presentes:
            if bloc.code in acquis_blocs:
                blocs.append(ResultatBloc(bloc.code, 0, 0, True, capitalise=True))
            continue
        marks = [evaluations.get(c.code) for c in bloc.criteres]
        acquis = sum(1 for m in marks if m is True)
        total = len(marks)
        bloc_complet = all(m is not None for m in marks)
        complet = complet and bloc_complet
        acquis_total += acquis
        criteres_total += total
        valide = bloc_complet and seuil_atteint(acquis, total, regles.seuil_bloc)
        if valide:
            valides_maintenant.add(bloc.code)
        deja = bloc.code in acquis_blocs and not valide
        blocs.append(ResultatBloc(bloc.code, acquis, total, valide or deja, capitalise=deja))
    if anomalies or not complet or not criteres_total:
        # No bloc of the référentiel presented: nothing was evaluated, so nothing to decide.
        decision = INCOMPLET
        # Nor is any bloc validated by a grid that is not finished: only blocs capitalised
        # in earlier sessions stay validated.
        blocs = [replace(b, valide=b.code in acquis_blocs) for b in blocs]
    elif regles.mode_decision == "global":
        ok = seuil_atteint(acquis_total, criteres_total, regles.seuil_certification)
        decision = CERTIFIE if ok else NON_CERTIFIE
    elif all(b.code in valides_maintenant or b.code in acquis_blocs for b in referentiel.blocs):
        decision = CERTIFIE
    elif valides_maintenant:
        decision = VALIDATION_PARTIELLE
    else:
        decision = NON_CERTIFIE
    possible, jusqu_au = rattrapage if decision in ECHECS else (False, None)
    return Resultat(candidat.numero, candidat.nom, candidat.prenom, decision, tuple(blocs),
                    rattrapage_possible=possible, rattrapage_jusqu_au=jusqu_au if possible
                    else None, anomalies=anomalies)


def droit_rattrapage(
    decision: str,
    echecs_anterieurs: int,
    date_session: date,
    date_premier_echec: date | None,
    regles: Regles,
) -> tuple[bool, date | None]:
    """Whether the candidate may sit again after this decision, and until when.

    Only a failure (« Non certifié » or « Validation partielle ») opens a retake. The candidate
    may sit again while the failures before this one (``echecs_anterieurs``) are fewer than
    ``regles.rattrapages_max`` — with the default of one retake, yes after a first failure, no
    after a second — and until the date of the first failure plus
    ``regles.delai_rattrapage_jours`` (the first failure is this session when
    ``date_premier_echec`` is None). A deadline already past on ``date_session`` closes it.
    """
    if decision not in ECHECS or echecs_anterieurs >= regles.rattrapages_max:
        return False, None
    premier = date_premier_echec or date_session
    limite = premier + timedelta(days=regles.delai_rattrapage_jours)
    if limite < date_session:
        return False, None
    return True, limite


def _jj(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def hors_enregistrement(certification: Certification, jour: date) -> str | None:
    """Why no certificate nor bloc attestation may be issued for a session held on ``jour``,
    in French; None when ``jour`` lies within the registration (bounds included).

    Source: the fiche's registration by France Compétences (Code du travail, art. L6113-5 and
    R6113-16): a certification is delivered under its registration only, from ``DATE_EFFET``
    to ``DATE_FIN_ENREGISTREMENT`` inclusive (référentiel ``certification.date_effet`` and
    ``certification.date_fin_enregistrement``). An unknown date (None) restricts nothing.
    """
    fiche = certification.rncp or certification.code
    effet, fin = certification.date_effet, certification.date_fin_enregistrement
    if fin is not None and jour > fin:
        return (f"session du {_jj(jour)}, après la fin d'enregistrement de la fiche {fiche} "
                f"({_jj(fin)}) : aucun certificat ni attestation de blocs ne peut être délivré "
                "à ce titre")
    if effet is not None and jour < effet:
        return (f"session du {_jj(jour)}, avant la date d'effet de l'enregistrement de la fiche "
                f"{fiche} ({_jj(effet)}) : aucun certificat ni attestation de blocs ne peut "
                "être délivré à ce titre")
    return None


def fin_avant_rattrapage(certification: Certification, fin_session: date,
                         regles: Regles) -> date | None:
    """The last retake day when the registration ends before it (a candidate who fails could
    not retake under this registration); None otherwise, or when no retake is allowed.

    Source: the certifier's rules (one retake within ``delai_rattrapage_jours``) against the
    fiche's ``date_fin_enregistrement``.
    """
    fin = certification.date_fin_enregistrement
    if fin is None or regles.rattrapages_max <= 0:
        return None
    limite = fin_session + timedelta(days=regles.delai_rattrapage_jours)
    return limite if fin < limite else None


DELAI_DECLARATION_MOIS = 3
"""Months a certifier has to declare a holder to the Caisse des Dépôts after issuing the
certificate (accrochage to the CPF information system, Code du travail art. L6113-8)."""


def limite_declaration(delivrance: date) -> date:
    """The last day to declare a holder whose certificate was issued on ``delivrance``:
    the same day DELAI_DECLARATION_MOIS months later (the month's last day when it has none)."""
    month = delivrance.month - 1 + DELAI_DECLARATION_MOIS
    year, month = delivrance.year + month // 12, month % 12 + 1
    for day in range(delivrance.day, 27, -1):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    return date(year, month, min(delivrance.day, 28))
