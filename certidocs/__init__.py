"""certidocs: run a professional-certification session from the référentiel to the certificate."""

from __future__ import annotations

__version__ = "0.1.0"
