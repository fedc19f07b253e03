"""Allow ``python -m certidocs``."""

from __future__ import annotations

from certidocs.cli import main

main()
