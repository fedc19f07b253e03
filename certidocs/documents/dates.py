"""French dates and numbers as they are printed in documents.

« mardi 15 décembre 2026 » for events, « 15 décembre 2026 » for a document's or a birth date,
« 15/12/2026 » where space is short. The first of the month is written « 1er », as French
typography requires. Names of days and months come from babel (CLDR), not from the system
locale, so the output is the same on every machine.
"""

from __future__ import annotations

import functools
import re
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

LOCALE = "fr_FR"
NBSP = "\u00a0"


def _names(d: date) -> tuple[str, str]:
    """The day-of-week and month names of ``d`` in French (lower case, as CLDR gives them)."""
    return _weekday_name(d.weekday()), _month_name(d.month)


# Asked for every candidate of a session (birth dates, retake deadlines): babel takes about a
# millisecond a call, the twelve months and seven days are asked once.
@functools.cache
def _weekday_name(weekday: int) -> str:
    from babel.dates import format_date

    monday = date(2024, 1, 1)
    return format_date(monday + timedelta(days=weekday), "EEEE", locale=LOCALE)


@functools.cache
def _month_name(month: int) -> str:
    from babel.dates import format_date

    return format_date(date(2024, month, 1), "MMMM", locale=LOCALE)


def _day(d: date) -> str:
    return "1er" if d.day == 1 else str(d.day)


def date_jour(d: date | None) -> str:
    """« mardi 15 décembre 2026 » (with the day of the week); empty when ``d`` is None."""
    if d is None:
        return ""
    weekday, month = _names(d)
    return f"{weekday} {_day(d)} {month} {d.year}"


def date_texte(d: date | None) -> str:
    """« 15 décembre 2026 »; empty when ``d`` is None."""
    if d is None:
        return ""
    return f"{_day(d)} {_names(d)[1]} {d.year}"


def date_courte(d: date | None) -> str:
    """« 15/12/2026 »; empty when ``d`` is None."""
    return "" if d is None else d.strftime("%d/%m/%Y")


def periode(debut: date | None, fin: date | None) -> str:
    """A session's dates as a phrase: « le mardi 15 décembre 2026 » or « du … au … ».

    Two dates in the same month share it (« du lundi 14 au mardi 15 décembre 2026 »), as one
    writes it by hand; a missing end is taken as a one-day session.
    """
    if debut is None:
        return ""
    if fin is None or fin == debut:
        return f"le {date_jour(debut)}"
    if (debut.year, debut.month) == (fin.year, fin.month):
        weekday, _ = _names(debut)
        return f"du {weekday} {_day(debut)} au {date_jour(fin)}"
    if debut.year == fin.year:
        weekday, month = _names(debut)
        return f"du {weekday} {_day(debut)} {month} au {date_jour(fin)}"
    return f"du {date_jour(debut)} au {date_jour(fin)}"


def pourcentage(taux: float) -> str:
    """« 77,8 % » for ``taux`` = 14/18: one decimal at most, French comma, non-breaking space
    before the sign. A half is rounded up, as people round by hand (« 6,3 % » for 1/16; the
    float formatting rounded it to even, « 6,2 % »). ``taux`` is the exact share (acquis /
    total), not one rounded already: the 4 decimals of ``ResultatBloc.taux`` made 14/17
    (82,35… %) « 82,3 % » instead of « 82,4 % »."""
    tenths = (Decimal(repr(taux)) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    text = f"{tenths:.1f}".replace(".", ",")
    if text.endswith(",0"):
        text = text[:-2]
    return f"{text}{NBSP}%"


NNBSP = "\u202f"
_HEURE = re.compile(r"^(\d{1,2})\s*[:hH.]\s*(\d{2})?(?::\d{2})?$")


def heure_fr(text: str) -> str:
    """« 9 h 00 » from « 09:00 », « 9h », « 9:00:00 » (French writes hours with « h »);
    any other text is returned as typed."""
    match = _HEURE.match(text.strip())
    if not match:
        return text
    hours, minutes = int(match.group(1)), match.group(2) or "00"
    if hours > 24:
        return text
    return f"{hours}{NBSP}h{NBSP}{minutes}"


_AVANT = re.compile(r"[ \u00a0]+([:;!?»])")
_APRES = re.compile(r"«[ \u00a0]*")
_COLLE = re.compile(r"(?<=[^\s\u00a0\u202f«(\[/:])([;!?])(?=\s|$)")


def typographie(text: str) -> str:
    """French typography on one text: a non-breaking space before « : » and « » », a narrow
    one before « ; ! ? », a non-breaking space after « « ».

    The one function every generated document goes through (applied to each text of the
    Word file once rendered). Only spaces already typed are made non-breaking, plus « ; ! ? »
    glued to a word; « : » glued to a word is left (addresses « https://… », times, ratios).
    """
    if not text:
        return text

    def before(match: re.Match[str]) -> str:
        sign = match.group(1)
        return (NBSP if sign in ":»" else NNBSP) + sign

    text = _AVANT.sub(before, text)
    text = _APRES.sub("«" + NBSP, text)
    return _COLLE.sub(lambda m: NNBSP + m.group(1), text)
