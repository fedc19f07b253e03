"""Outcome rules: thresholds at their boundaries, decisions, capitalised blocs, retakes."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest
from gridtools import candidat, referentiel, synthetic, with_regles
from hypothesis import given, settings
from hypothesis import strategies as st

from certidocs.model import (
    ABSENT,
    CERTIFIE,
    DECISIONS,
    INCOMPLET,
    NON_CERTIFIE,
    VALIDATION_PARTIELLE,
    Anomalie,
    Regles,
)
from certidocs.rules import droit_rattrapage, resultat_candidat, seuil_atteint, seuil_fraction


def _marks(ref, acquis: dict[str, int], blanks: frozenset[str] = frozenset(),
           blocs: tuple[str, ...] | None = None) -> dict[str, bool | None]:
    out: dict[str, bool | None] = {}
    for bloc in ref.blocs:
        if blocs is not None and bloc.code not in blocs:
            continue
        for i, c in enumerate(bloc.criteres):
            out[c.code] = None if c.code in blanks else i < acquis[bloc.code]
    return out


# --- seuil_atteint ----------------------------------------------------------------------------


@pytest.mark.parametrize(("acquis", "total", "seuil", "attendu"), [
    (7, 10, 0.7, True),     # exactly 70 %: inclusive
    (14, 20, 0.7, True),
    (70, 100, 0.7, True),   # 0.7 * 100 == 70.00000000000001 in floats: must still pass
    (69, 100, 0.7, False),  # one below
    (6, 10, 0.7, False),
    (13, 18, 0.7, True),    # 72.2 %
    (12, 18, 0.7, False),   # 66.7 %
    (3, 4, 0.75, True),     # exactly 75 %
    (74, 100, 0.75, False),
    (75, 100, 0.75, True),
    (5, 8, 0.75, False),
    (29, 100, 0.29, True),  # 0.29 * 100 == 28.999999999999996 in floats
    (28, 100, 0.29, False),
    (0, 5, 0.0, True),
    (5, 5, 1.0, True),
    (4, 5, 1.0, False),
    (0, 0, 0.7, False),     # nothing evaluated validates nothing
])
def test_seuil_atteint_at_the_boundaries(acquis: int, total: int, seuil: float,
                                         attendu: bool) -> None:
    """Integer comparison, inclusive, immune to binary floating point."""
    assert seuil_atteint(acquis, total, seuil) is attendu


def test_seuil_fraction_reads_the_written_decimal() -> None:
    """0.7 is 7/10, not the binary approximation of 0.7."""
    assert seuil_fraction(0.7) == Fraction(7, 10)
    assert seuil_fraction(0.75) == Fraction(3, 4)
    assert seuil_fraction(1.0) == 1


# --- resultat_candidat ------------------------------------------------------------------------


@pytest.mark.parametrize("presence", ["Absent", "Excusé", ""])
def test_absent_or_excused_is_absent(presence: str) -> None:
    """A candidate who did not sit gets « Absent », whatever the grid says."""
    ref = referentiel("CPECOM")
    res = resultat_candidat(ref, candidat(presence=presence), None)
    assert res.decision == ABSENT
    assert res.blocs == ()
    assert res.rattrapage_possible is False


def test_every_bloc_at_seventy_percent_is_certified() -> None:
    """Blocs of 10 and 20 criteria at exactly 70 %: certified."""
    ref = synthetic((10, 20))
    res = resultat_candidat(ref, candidat(), _marks(ref, {"B1": 7, "B2": 14}))
    assert res.decision == CERTIFIE
    assert [(b.code, b.acquis, b.total, b.valide) for b in res.blocs] == [
        ("B1", 7, 10, True), ("B2", 14, 20, True)]
    assert res.blocs[0].taux == 0.7


def test_one_criterion_below_in_one_bloc_is_partial_validation() -> None:
    """One bloc one criterion short: the other bloc is validated, an attestation."""
    ref = synthetic((10, 20))
    res = resultat_candidat(ref, candidat(), _marks(ref, {"B1": 7, "B2": 13}))
    assert res.decision == VALIDATION_PARTIELLE
    assert [b.valide for b in res.blocs] == [True, False]


def test_no_bloc_validated_is_not_certified() -> None:
    """Every bloc below its threshold: « Non certifié »."""
    ref = synthetic((10, 20))
    res = resultat_candidat(ref, candidat(), _marks(ref, {"B1": 6, "B2": 13}))
    assert res.decision == NON_CERTIFIE


def test_threshold_of_75_percent() -> None:
    """A référentiel at 0.75: 3/4 passes, 5/8 does not."""
    ref = synthetic((4, 8), seuil_bloc=0.75)
    assert resultat_candidat(ref, candidat(), _marks(ref, {"B1": 3, "B2": 6})).decision == CERTIFIE
    res = resultat_candidat(ref, candidat(), _marks(ref, {"B1": 3, "B2": 5}))
    assert res.decision == VALIDATION_PARTIELLE


def test_one_blank_criterion_is_incomplete_and_complete_blocs_still_count() -> None:
    """A criterion left empty: no decision; the complete bloc is still counted, but not shown
    as validated: the grid is not finished (issue 15, point 3)."""
    ref = synthetic((10, 20))
    res = resultat_candidat(ref, candidat(),
                            _marks(ref, {"B1": 10, "B2": 20}, blanks=frozenset({"B2-05"})))
    assert res.decision == INCOMPLET
    assert [(b.acquis, b.total, b.valide) for b in res.blocs] == [(10, 10, False), (19, 20, False)]


def test_all_blank_and_no_grid_are_incomplete() -> None:
    """All criteria empty, or no grid at all: « Incomplet »."""
    ref = synthetic((10, 20))
    blank = {c.code: None for c in ref.criteres}
    assert resultat_candidat(ref, candidat(), blank).decision == INCOMPLET
    assert resultat_candidat(ref, candidat(), None).decision == INCOMPLET
    assert resultat_candidat(ref, candidat(), {}).decision == INCOMPLET


def test_any_anomaly_prevents_a_decision() -> None:
    """A grid with an anomaly gives no decision, even when every criterion is acquired."""
    ref = synthetic((10,))
    anomalie = Anomalie("grilles/001.xlsx", "B1!D7", "« oui » n'est pas une évaluation")
    res = resultat_candidat(ref, candidat(), _marks(ref, {"B1": 10}), anomalies=(anomalie,))
    assert res.decision == INCOMPLET
    assert res.anomalies == (anomalie,)


def test_capitalised_blocs_complete_a_certification() -> None:
    """B1 validated in an earlier session, B2 validated now: certified."""
    ref = synthetic((10, 20))
    cand = candidat(blocs=("B2",))
    res = resultat_candidat(ref, cand, _marks(ref, {"B2": 14}, blocs=("B2",)),
                            capitalises=frozenset({"B1"}))
    assert res.decision == CERTIFIE
    b1, b2 = res.blocs
    assert (b1.code, b1.acquis, b1.total, b1.valide, b1.capitalise) == ("B1", 0, 0, True, True)
    assert (b2.code, b2.valide, b2.capitalise) == ("B2", True, False)


def test_without_capitalised_blocs_a_subset_is_partial() -> None:
    """Presenting one bloc of two and passing it: partial validation only."""
    ref = synthetic((10, 20))
    res = resultat_candidat(ref, candidat(blocs=("B2",)), _marks(ref, {"B2": 20}, blocs=("B2",)))
    assert res.decision == VALIDATION_PARTIELLE
    assert [b.code for b in res.blocs] == ["B2"]


def test_capitalised_bloc_failed_again_stays_validated() -> None:
    """A capitalised bloc presented again and failed is not lost."""
    ref = synthetic((10, 20))
    res = resultat_candidat(ref, candidat(), _marks(ref, {"B1": 2, "B2": 14}),
                            capitalises=frozenset({"B1"}))
    assert res.decision == CERTIFIE
    assert (res.blocs[0].acquis, res.blocs[0].valide, res.blocs[0].capitalise) == (2, True, True)


def test_capitalisation_off_ignores_earlier_blocs() -> None:
    """When the référentiel says blocs are not capitalised, earlier blocs do not count."""
    ref = with_regles(synthetic((10, 20)), capitalisation=False)
    res = resultat_candidat(ref, candidat(blocs=("B2",)), _marks(ref, {"B2": 20}, blocs=("B2",)),
                            capitalises=frozenset({"B1"}))
    assert res.decision == VALIDATION_PARTIELLE


def test_global_mode_uses_the_overall_rate() -> None:
    """Mode global: 7 of 10 overall certifies even with a bloc under its own threshold."""
    ref = synthetic((5, 5), mode="global")
    res = resultat_candidat(ref, candidat(), _marks(ref, {"B1": 5, "B2": 2}))
    assert res.decision == CERTIFIE
    assert [b.valide for b in res.blocs] == [True, False]  # still reported with seuil_bloc
    res = resultat_candidat(ref, candidat(), _marks(ref, {"B1": 4, "B2": 2}))
    assert res.decision == NON_CERTIFIE  # never « Validation partielle » in global mode


def test_global_mode_mkt_ecom() -> None:
    """MKT-ECOM (global, 14 criteria): 10 acquired certifies, 9 does not."""
    ref = referentiel("MKT-ECOM")
    assert ref.regles.mode_decision == "global"
    codes = [c.code for c in ref.criteres]
    assert len(codes) == 14
    ok = {c: i < 10 for i, c in enumerate(codes)}
    ko = {c: i < 9 for i, c in enumerate(codes)}
    assert resultat_candidat(ref, candidat(), ok).decision == CERTIFIE
    assert resultat_candidat(ref, candidat(), ko).decision == NON_CERTIFIE


def test_retake_is_kept_only_for_a_failure() -> None:
    """The retake right passed in is reported for a failure, dropped for a certification."""
    ref = synthetic((10,))
    retake = (True, date(2027, 12, 16))
    res = resultat_candidat(ref, candidat(), _marks(ref, {"B1": 3}), rattrapage=retake)
    assert (res.decision, res.rattrapage_possible, res.rattrapage_jusqu_au) == (
        NON_CERTIFIE, True, date(2027, 12, 16))
    res = resultat_candidat(ref, candidat(), _marks(ref, {"B1": 10}), rattrapage=retake)
    assert (res.rattrapage_possible, res.rattrapage_jusqu_au) == (False, None)


# --- droit_rattrapage -------------------------------------------------------------------------

REGLES = Regles()
SESSION = date(2026, 12, 16)


def test_first_failure_opens_one_retake_within_a_year() -> None:
    """After a first failure: a retake until the failure's date plus 365 days."""
    assert droit_rattrapage(NON_CERTIFIE, 0, SESSION, None, REGLES) == (True, date(2027, 12, 16))
    assert droit_rattrapage(VALIDATION_PARTIELLE, 0, SESSION, None, REGLES)[0] is True


def test_second_failure_closes_retakes() -> None:
    """After a second failure, no new presentation."""
    assert droit_rattrapage(NON_CERTIFIE, 1, SESSION, date(2026, 3, 1), REGLES) == (False, None)


@pytest.mark.parametrize("decision", [CERTIFIE, ABSENT, INCOMPLET])
def test_no_retake_without_a_failure(decision: str) -> None:
    """Certified, absent or incomplete: no retake to report."""
    assert droit_rattrapage(decision, 0, SESSION, None, REGLES) == (False, None)


def test_retake_deadline_counts_from_the_first_failure() -> None:
    """With two retakes allowed, the deadline stays that of the first failure."""
    regles = Regles(rattrapages_max=2)
    first = date(2026, 3, 1)
    assert droit_rattrapage(NON_CERTIFIE, 1, SESSION, first, regles) == (True, date(2027, 3, 1))
    late = date(2025, 1, 1)  # deadline 2026-01-01, before this session
    assert droit_rattrapage(NON_CERTIFIE, 1, SESSION, late, regles) == (False, None)


def test_no_retake_when_the_rules_allow_none() -> None:
    """rattrapages_max = 0: never."""
    assert droit_rattrapage(NON_CERTIFIE, 0, SESSION, None, Regles(rattrapages_max=0)) == (
        False, None)


# --- property: certidocs against an independent integer computation ---------------------------


@st.composite
def _cases(draw: st.DrawFn) -> tuple[list[int], int, int, str, list[list[bool | None]]]:
    sizes = draw(st.lists(st.integers(1, 25), min_size=1, max_size=5))
    pct_bloc = draw(st.integers(0, 100))
    pct_cert = draw(st.integers(0, 100))
    mode = draw(st.sampled_from(["blocs", "global"]))
    blank = draw(st.booleans())
    values = st.sampled_from([True, False, None]) if blank else st.booleans()
    marks = [draw(st.lists(values, min_size=n, max_size=n)) for n in sizes]
    return sizes, pct_bloc, pct_cert, mode, marks


@settings(max_examples=300, deadline=None)
@given(_cases())
def test_resultat_agrees_with_an_independent_integer_computation(
        case: tuple[list[int], int, int, str, list[list[bool | None]]]) -> None:
    """Over random fillings and thresholds: ``acquis * 100 >= seuil * total``, decided apart."""
    sizes, pct_bloc, pct_cert, mode, marks = case
    ref = synthetic(tuple(sizes), seuil_bloc=pct_bloc / 100,
                    seuil_certification=pct_cert / 100, mode=mode)
    evaluations = {c.code: m for bloc, row in zip(ref.blocs, marks, strict=True)
                   for c, m in zip(bloc.criteres, row, strict=True)}
    res = resultat_candidat(ref, candidat(), evaluations)

    # The independent computation: plain integers, written from the rules' statement.
    acquis = [sum(1 for m in row if m is True) for row in marks]
    complete = all(m is not None for row in marks for m in row)
    valides = [a * 100 >= pct_bloc * n and all(m is not None for m in row)
               for a, n, row in zip(acquis, sizes, marks, strict=True)]
    if not complete:
        expected = INCOMPLET
        valides = [False] * len(valides)  # an unfinished grid validates no bloc
    elif mode == "global":
        expected = CERTIFIE if sum(acquis) * 100 >= pct_cert * sum(sizes) else NON_CERTIFIE
    elif all(valides):
        expected = CERTIFIE
    elif any(valides):
        expected = VALIDATION_PARTIELLE
    else:
        expected = NON_CERTIFIE
    assert res.decision == expected
    assert res.decision in DECISIONS
    assert [(b.acquis, b.total, b.valide) for b in res.blocs] == list(
        zip(acquis, sizes, valides, strict=True))
