"""Référentiels: load and validate the YAML format, summarise, import from other documents."""

from __future__ import annotations

from certidocs.referentiel.loader import load_referentiel, read_referentiel

__all__ = ["load_referentiel", "read_referentiel"]
