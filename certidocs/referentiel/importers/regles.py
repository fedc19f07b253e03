"""Session rules stated in the text around the table (the certifier's « règles de session »).

Only what a sentence states plainly is taken, and each value is written with the sentence it
comes from as a YAML comment, so that a person can check it; anything else keeps the defaults of
referentiels/FORMAT.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_NUMBERS = {"un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6,
            "sept": 7, "huit": 8, "neuf": 9, "dix": 10, "douze": 12}
_NUM = r"(\d{1,3}|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|douze)"
# A sentence ends at « . » or « ; » followed by a capital (« lieu, ... » does not end one).
_SENTENCE_END = re.compile(r"(?<=[.;!?])\s+(?=[A-ZÀ-ÖØ-Þ«-])")


def _n(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBERS[word.lower()]


@dataclass
class Regles:
    """What the text says: rule values with their source sentence, access routes, certifier."""

    valeurs: dict[str, object] = field(default_factory=dict)  # dotted key -> value
    sources: dict[str, str] = field(default_factory=dict)  # dotted key -> sentence
    voies_acces: list[str] = field(default_factory=list)
    certificateur: str | None = None
    certificateur_source: str = ""

    def set(self, key: str, value: object, sentence: str) -> None:
        """Keep the first statement of a rule (later mentions are usually reminders)."""
        if key not in self.valeurs:
            self.valeurs[key] = value
            self.sources[key] = sentence.strip()

    def as_yaml(self) -> dict[str, object]:
        """The ``regles`` mapping: dotted keys become nested (``jury.experience_min_annees``)."""
        out: dict[str, object] = {}
        jury: dict[str, object] = {}
        for key in _ORDER:
            if key in self.valeurs:
                if key.startswith("jury."):
                    jury[key[5:]] = self.valeurs[key]
                else:
                    out[key] = self.valeurs[key]
        if jury:
            out["jury"] = jury
        return out


_ORDER = ("mode_decision", "seuil_bloc", "seuil_certification", "capitalisation",
          "rattrapages_max", "delai_rattrapage_jours", "delai_convocation_jours",
          "delai_resultats_jours", "jury.representants_certificateur", "jury.professionnels_min",
          "jury.professionnels_max", "jury.majorite_externes", "jury.experience_min_annees",
          "jury.cessation_max_annees", "jury.session_information_heures")


def _sentences(paragraphs: Iterable[str]) -> list[str]:
    out: list[str] = []
    for paragraph in paragraphs:
        out += [s.strip() for s in _SENTENCE_END.split(paragraph) if s.strip()]
    return out


def detect(paragraphs: Iterable[str]) -> Regles:
    """The rules stated by ``paragraphs`` (the text outside the référentiel table)."""
    found = Regles()
    paragraphs = list(paragraphs)
    for s in _sentences(paragraphs):
        low = s.lower()
        m = re.search(r"(\d{1,3})\s*%\s*des\s+crit[èe]res", low)
        if m and re.search(r"certificat|certification|dipl[ôo]me|titre", low):
            found.set("mode_decision", "global", s)
            found.set("seuil_certification", int(m.group(1)) / 100, s)
        elif m and "bloc" in low:
            found.set("seuil_bloc", int(m.group(1)) / 100, s)
        if "capitalis" in low and "bloc" in low:
            found.set("mode_decision", "blocs", s)
            found.set("capitalisation", True, s)
        m = re.search(rf"convocation[^.]*?{_NUM}\s+(mois|semaines?|jours?)\s+avant", low)
        if m:
            factor = {"m": 30, "s": 7, "j": 1}[m.group(2)[0]]
            found.set("delai_convocation_jours", _n(m.group(1)) * factor, s)
        m = re.search(rf"r[ée]sultats[^.]*?dans\s+les\s+{_NUM}\s+jours", low)
        if m:
            found.set("delai_resultats_jours", _n(m.group(1)), s)
        m = re.search(rf"en\s+cas\s+de\s+{_NUM}(?:e|è|ème|eme)?\s+[ée]chec[^.]*ne\s+sera\s+plus",
                      low)
        if m:
            found.set("rattrapages_max", max(_n(m.group(1)) - 1, 0), s)
        m = re.search(rf"dispose\s+d['’]\s*{_NUM}\s+(ans?|mois)\s+pour\s+se\s+pr[ée]senter", low)
        if m:
            days = 365 if m.group(2).startswith("an") else 30
            found.set("delai_rattrapage_jours", _n(m.group(1)) * days, s)
        m = re.search(r"^un\s+repr[ée]sentant\s+(?:de\s+|d['’])\s*([^,.]+)", low)
        if m and "monde" not in low:
            found.set("jury.representants_certificateur", 1, s)
            name = s[m.start(1):m.end(1)].strip()
            if found.certificateur is None and name:
                found.certificateur = name
                found.certificateur_source = s
        m = re.search(rf"{_NUM}\s+ou\s+{_NUM}\s+(?:repr[ée]sentants|professionnels)", low)
        if m:
            found.set("jury.professionnels_min", _n(m.group(1)), s)
            found.set("jury.professionnels_max", _n(m.group(2)), s)
        if re.search(r"majorit[ée][^.]*professionnels[^.]*ext[ée]rieur|majorit[ée][^.]*"
                     r"professionnels[^.]*externes", low):
            found.set("jury.majorite_externes", True, s)
        m = re.search(rf"{_NUM}\s+ann[ée]es?\s+d['’]\s*exp[ée]rience", low)
        if m:
            found.set("jury.experience_min_annees", _n(m.group(1)), s)
        m = re.search(rf"quitt[ée][^.]*depuis\s+plus\s+de\s+{_NUM}\s+ans", low)
        if m:
            found.set("jury.cessation_max_annees", _n(m.group(1)), s)
        m = re.search(rf"session\s+d['’]\s*information\s+de\s+{_NUM}\s+heures?", low)
        if m:
            found.set("jury.session_information_heures", _n(m.group(1)), s)
    text = " ".join(paragraphs).lower()
    for voie, pattern in (("Formation", r"(?:voie|acc[èe]s)[^.]*par\s+la\s+formation"),
                          ("VAE", r"(?:voie|acc[èe]s)[^.]*par\s+la\s+vae"),
                          ("Parcours mixte", r"parcours\s+mixte")):
        if re.search(pattern, text):
            found.voies_acces.append(voie)
    return found
