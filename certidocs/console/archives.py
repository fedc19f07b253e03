"""ZIP archives of a session's grids or documents, built in a temporary file for download.

Word, Excel and PDF files are already compressed: they are stored as they are (compressing
them again costs time and saves nothing), so that an archive of a thousand grids is ready in
about the time it takes to read them.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from certidocs.pipeline import GRILLES
from certidocs.production import DOCUMENTS

# what each archive holds: its folder in the session, and which files
ZIPS = {
    "grilles": (GRILLES, (".xlsx",)),
    "documents": (DOCUMENTS, (".docx", ".pdf")),
}


def build_zip(folder: Path, quoi: str) -> Path | None:
    """A temporary ZIP of the session's ``quoi`` (a key of ZIPS), or None when there is
    nothing to put in it. The caller deletes the file once sent."""
    sub, suffixes = ZIPS[quoi]
    root = folder / sub
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in suffixes
                   and not any(part.startswith(".") for part in p.relative_to(root).parts)
                   ) if root.is_dir() else []
    if not files:
        return None
    fd, name = tempfile.mkstemp(prefix="certidocs-", suffix=".zip")
    path = Path(name)
    try:
        with open(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as zf:
            for p in files:
                zf.write(p, p.relative_to(root).as_posix())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path
