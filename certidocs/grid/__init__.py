"""Jurors' scoring grids: one protected workbook per candidate, written and read back.

``layout`` says where every cell and formula is; ``writer`` builds the grids, ``reader``
checks them and extracts the evaluations. Nothing here decides an outcome: that is
:mod:`certidocs.rules`.
"""

from __future__ import annotations

from certidocs.grid.reader import GridReading, grid_has_input, read_grid
from certidocs.grid.writer import GridWriter, ProtectionHash, grid_filename, write_grid

__all__ = ["GridReading", "GridWriter", "ProtectionHash", "grid_filename", "grid_has_input",
           "read_grid", "write_grid"]
