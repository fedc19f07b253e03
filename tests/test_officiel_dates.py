"""Rule 5: no certificate for a session held outside the fiche's registration (before
DATE_EFFET or after DATE_FIN_ENREGISTREMENT); a warning when the registration ends within the
retake window. Pure rules in rules.py, and their check in `session verifier` (checks.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from helpers import REFERENTIELS

from certidocs import checks
from certidocs.model import Certification, Referentiel, Regles, Session, SessionInfo
from certidocs.referentiel import load_referentiel
from certidocs.rules import fin_avant_rattrapage, hors_enregistrement

CERT = Certification("RNCP99001", "Technicien", rncp="RNCP99001",
                     date_effet=dt.date(2024, 9, 1), date_fin_enregistrement=dt.date(2029, 8, 31))


@pytest.mark.parametrize(("day", "allowed"), [
    (dt.date(2024, 8, 31), False), (dt.date(2024, 9, 1), True), (dt.date(2029, 8, 31), True),
    (dt.date(2029, 9, 1), False),
])
def test_registration_bounds_are_inclusive(day: dt.date, allowed: bool) -> None:
    """The first and last registered days allow issuing; the day before and after do not."""
    assert (hors_enregistrement(CERT, day) is None) is allowed


def test_messages_are_french_dates() -> None:
    """JJ/MM/AAAA in the message, never ISO."""
    why = hors_enregistrement(CERT, dt.date(2029, 9, 1))
    assert why is not None and "01/09/2029" in why and "31/08/2029" in why
    assert "2029-" not in why
    before = hors_enregistrement(CERT, dt.date(2024, 1, 14))
    assert before is not None and "date d'effet" in before and "14/01/2024" in before
    assert hors_enregistrement(Certification("X", "Y"), dt.date(1990, 1, 1)) is None


def test_retake_window() -> None:
    """A session on 01/03/2029 with a one-year retake: the registration ends first."""
    assert fin_avant_rattrapage(CERT, dt.date(2029, 3, 1), Regles()) == dt.date(2030, 3, 1)
    assert fin_avant_rattrapage(CERT, dt.date(2028, 3, 1), Regles()) is None
    assert fin_avant_rattrapage(CERT, dt.date(2029, 3, 1), Regles(rattrapages_max=0)) is None


def _ref() -> Referentiel:
    ref = load_referentiel(REFERENTIELS / "CPECOM.yaml")
    return dataclasses.replace(ref, certification=dataclasses.replace(
        ref.certification, date_effet=CERT.date_effet,
        date_fin_enregistrement=CERT.date_fin_enregistrement, rncp="RNCP99001"))


def _session(start: dt.date, end: dt.date) -> Session:
    info = SessionInfo("CPECOM", date_debut=start, date_fin=end,
                       date_envoi_convocations=start - dt.timedelta(days=40))
    return Session("s", info)


def test_session_verifier_error_after_the_registration() -> None:
    """A session after 31/08/2029 is an error at the session's start date cell."""
    found = checks.check_dates(_session(dt.date(2029, 9, 3), dt.date(2029, 9, 4)),
                               _ref(), lambda key: f"Session!{key}")
    errors = [p for p in found if p.grave]
    assert [p.lieu for p in errors] == ["Session!date_debut"]
    assert "après la fin d'enregistrement" in errors[0].message


def test_session_verifier_warns_within_the_retake_window() -> None:
    """A session six months before the end: allowed, with a warning about retakes."""
    found = checks.check_dates(_session(dt.date(2029, 3, 1), dt.date(2029, 3, 2)),
                               _ref(), lambda key: f"Session!{key}")
    assert not [p for p in found if p.grave]
    warnings = [p for p in found if "rattrapage" in p.message]
    assert len(warnings) == 1 and "31/08/2029" in warnings[0].message
    clean = checks.check_dates(_session(dt.date(2026, 3, 1), dt.date(2026, 3, 2)),
                               _ref(), lambda key: f"Session!{key}")
    assert not clean


@pytest.mark.parametrize(("issued", "limit"), [
    (dt.date(2027, 1, 14), dt.date(2027, 4, 14)), (dt.date(2026, 11, 30), dt.date(2027, 2, 28)),
    (dt.date(2027, 10, 31), dt.date(2028, 1, 31)),
])
def test_declaration_within_three_months(issued: dt.date, limit: dt.date) -> None:
    """Three calendar months; a day the month lacks becomes its last day."""
    from certidocs.rules import limite_declaration

    assert limite_declaration(issued) == limit


def test_lancer_reminds_the_three_month_declaration(tmp_path: Path) -> None:
    """After results, `lancer` names the deadline; a référentiel without a fiche number: no."""
    from types import SimpleNamespace

    from certidocs.lancer import _rappel

    info = SessionInfo("CPECOM", date_fin=dt.date(2027, 1, 14))
    opened = SimpleNamespace(referentiel=_ref(),
                             lecture=SimpleNamespace(session=Session("s", info)))
    text = _rappel(tmp_path, opened)
    assert "dans les 3 mois" in text and "14/04/2027" in text
    assert "accrochage exporter --session" in text
    local = dataclasses.replace(_ref().certification, rncp=None)
    opened.referentiel = dataclasses.replace(_ref(), certification=local)
    assert _rappel(tmp_path, opened) == ""
