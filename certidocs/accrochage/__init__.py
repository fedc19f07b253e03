"""Declaring certificate holders to the Caisse des Dépôts (« accrochage » of certifications).

Every certifier of an RNCP or RS certification declares each holder as an XML flux valid
against the CDC's schema (cpf-pc5 v2.0.0, shipped next to this module). ``exporter`` builds
the flux of the certificates still to declare, checks every holder's identity first and the
whole flux against the XSD before writing it; ``marquer`` records the CDC's answer, so that
rejected passages are proposed again and accepted ones never are; ``retour`` reads the CDC's
processing report (« accusé de traitement ») into a plain report for ``importer-retour``.
"""

from __future__ import annotations

from certidocs.accrochage.export import (
    Ecarte,
    RapportExport,
    RapportMarquage,
    code_postal,
    exporter,
    lire_date,
    marquer,
)
from certidocs.accrochage.flux import XSD_PATH, ErreurSchema, validate_flux
from certidocs.accrochage.identite import Titulaire, verifier_identite
from certidocs.accrochage.reglages import Reglages, lire_reglages

__all__ = [
    "XSD_PATH",
    "Ecarte",
    "ErreurSchema",
    "RapportExport",
    "RapportMarquage",
    "Reglages",
    "Titulaire",
    "code_postal",
    "exporter",
    "lire_date",
    "lire_reglages",
    "marquer",
    "validate_flux",
    "verifier_identite",
]
