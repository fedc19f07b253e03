"""A clean session, as office staff would fill it, that tests then spoil one cell at a time."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

from helpers import REFERENTIELS

from certidocs.referentiel import load_referentiel
from certidocs.session.creator import create_session
from certidocs.session.filler import fill_session

START = dt.date(2026, 12, 15)

INFO: dict[str, Any] = {
    "Date de début": START,
    "Date de fin": dt.date(2026, 12, 16),
    "Lieu": "Lyon",
    "Adresse": "12 rue de la République, 69002 Lyon",
    "Responsable de session": "Claire Martin",
    "Date de délibération": dt.date(2026, 12, 16),
    "Date d'envoi des convocations": START - dt.timedelta(days=30),
}

CANDIDATS: list[dict[str, Any]] = [
    {"N° candidat": "001", "Civilité": "Madame", "Nom de naissance": "Lefèvre",
     "Prénom": "Élodie", "Date de naissance": dt.date(1990, 4, 3), "Lieu de naissance": "Nantes",
     "Email": "elodie.lefevre@exemple.fr", "Voie d'accès": "Formation",
     "Formateur ou tuteur": "Bruno Petit"},
    {"N° candidat": "002", "Civilité": "Monsieur", "Nom de naissance": "N'Diaye",
     "Prénom": "Moussa", "Date de naissance": dt.date(1985, 11, 20), "Lieu de naissance": "Dakar",
     "Email": "moussa.ndiaye@exemple.fr", "Voie d'accès": "VAE", "Blocs présentés": "BC01;BC02"},
    {"N° candidat": "003", "Civilité": "Madame", "Nom de naissance": "Dupont-Moreau",
     "Nom d'usage": "Garnier", "Prénom": "Anne-Sophie", "Date de naissance": dt.date(1995, 1, 31),
     "Email": "as.garnier@exemple.fr", "Voie d'accès": "Parcours mixte"},
]

JURY: list[dict[str, Any]] = [
    {"Nom": "Roux", "Prénom": "Anne", "Email": "anne.roux@certif.fr", "Fonction": "Responsable "
     "pédagogique", "Organisme": "Certificateur", "Collège": "Représentant du certificateur",
     "Externe": "Non", "Années d'expérience dans le métier": 12,
     "Date de la session d'information": dt.date(2026, 11, 5), "Président": "Non"},
    {"Nom": "Durand", "Prénom": "Paul", "Email": "paul.durand@boutique.fr", "Fonction":
     "Directeur e-commerce", "Organisme": "Boutique SA", "Collège": "Professionnel",
     "Externe": "Oui", "Années d'expérience dans le métier": 8,
     "Date de la session d'information": dt.date(2026, 11, 5), "Président": "Oui"},
    {"Nom": "Leroy", "Prénom": "Inès", "Email": "ines.leroy@agence.fr", "Fonction":
     "Consultante SEO", "Organisme": "Agence Web", "Collège": "Professionnel", "Externe": "Oui",
     "Années d'expérience dans le métier": 5,
     "Date de fin d'exercice du métier": dt.date(2024, 6, 30),
     "Date de la session d'information": dt.date(2026, 11, 5), "Président": "Non"},
]

PLANNING: list[dict[str, Any]] = [
    {"N° candidat": "001", "Épreuve": "Mise en situation professionnelle", "Date": START,
     "Heure": "09:00", "Salle": "A12"},
]


def make_workspace(root: Path, reglages: str = '[grilles]\nmot_de_passe = ""\n',
                   rncp: str | None = None) -> Path:
    """A workspace in ``root`` with ``reglages`` as certidocs.toml, its secret and signing key,
    and its own copy of CPECOM (given the RNCP fiche number ``rncp`` when not None)."""
    from certidocs.signature import ensure_keys

    (root / "certidocs.toml").write_text(reglages, encoding="utf-8")
    ensure_keys(root)
    (root / "referentiels").mkdir()
    text = (REFERENTIELS / "CPECOM.yaml").read_text(encoding="utf-8")
    if rncp is not None:
        text = text.replace("rncp: null", f"rncp: {rncp}", 1)
    (root / "referentiels" / "CPECOM.yaml").write_text(text, encoding="utf-8")
    return root


def make_session(folder: Path, *, info: dict[str, Any] | None = None,
                 candidats: list[dict[str, Any]] | None = None,
                 jury: list[dict[str, Any]] | None = None, code: str = "CPECOM",
                 extra: dict[str, list[dict[str, Any]]] | None = None) -> Path:
    """Create ``folder/session.xlsx`` for ``code`` and fill it (defaults: a clean session)."""
    create_session(folder, load_referentiel(REFERENTIELS / f"{code}.yaml"))
    tables: dict[str, list[dict[str, Any]]] = {
        "Candidats": copy.deepcopy(CANDIDATS if candidats is None else candidats),
        "Jury": copy.deepcopy(JURY if jury is None else jury),
        "Planning": copy.deepcopy(PLANNING),
    }
    tables.update(extra or {})
    fill_session(folder / "session.xlsx", {**INFO, **(info or {})}, tables)
    return folder


def with_changes(rows: list[dict[str, Any]], index: int, changes: dict[str, Any]
                 ) -> list[dict[str, Any]]:
    """A copy of ``rows`` where row ``index`` has some columns changed (by column title)."""
    out = copy.deepcopy(rows)
    out[index].update(changes)
    return out


def fill_grids(folder: Path, rate: float = 0.9, numbers: set[str] | None = None) -> None:
    """Fill the grids of ``folder`` (all, or those of ``numbers``) as simulated jurors would,
    each criterion « Acquis » with probability ``rate``."""
    from certidocs.grid.writer import grid_filename
    from certidocs.session import open_session
    from certidocs.simulation import fill_grid, simulated_evaluations
    from certidocs.workspace import find_workspace

    opened = open_session(folder, find_workspace(folder))
    ref = opened.referentiel
    for c in opened.lecture.session.candidats:
        if numbers is None or c.numero in numbers:
            blocs = c.blocs(ref)
            fill_grid(folder / "grilles" / grid_filename(c), ref, blocs,
                      simulated_evaluations(ref, blocs, {"tous": rate}, c.numero))
