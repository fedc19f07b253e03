"""Judge a workbook's zip archive from its directory alone, before inflating any of it.

An .xlsx is a zip archive. Its central directory declares, for every part, the compressed and
the uncompressed size, and ``zipfile`` never inflates a part beyond its declared size (it
stops there and reports a bad CRC). So the declared sizes bound what reading the file can cost:
checking them first refuses a zip bomb — a few kilobytes that inflate to gigabytes — in
microseconds, before pandas, openpyxl or lxml see a single byte of it.
"""

from __future__ import annotations

import zipfile

from certidocs.errors import ArchiveRefusee

MIO = 1024 * 1024
MAX_RATIO = 100  # ordinary spreadsheet XML deflates 5 to 30 times; bombs a thousand
RATIO_FROM = 1 * MIO  # small parts may compress as they like
MAX_PARTS = 10_000


def _mio(size: int) -> str:
    return f"{size / MIO:.0f} Mo"


def check_archive(zf: zipfile.ZipFile, *, max_total: int, max_part: int | None = None) -> None:
    """Refuse (ArchiveRefusee) an archive whose declared sizes are out of proportion.

    Too many parts, a part over ``max_part`` or all of them over ``max_total`` once
    inflated, or a part over a megabyte that inflates more than ``MAX_RATIO`` times: the
    message, in French, names the part. Nothing is decompressed.
    """
    infos = zf.infolist()
    if len(infos) > MAX_PARTS:
        raise ArchiveRefusee(f"archive démesurée : {len(infos)} parties ; fichier refusé sans "
                             "être lu")
    total = 0
    for info in infos:
        size = info.file_size
        if max_part is not None and size > max_part:
            raise ArchiveRefusee(f"partie « {info.filename} » démesurée ({_mio(size)} une fois "
                                 f"décompressée, {_mio(max_part)} au plus) ; fichier refusé "
                                 "sans être lu")
        if size > RATIO_FROM and size > MAX_RATIO * max(info.compress_size, 1):
            raise ArchiveRefusee(f"partie « {info.filename} » anormalement comprimée "
                                 f"({info.compress_size} octets qui se décompressent en "
                                 f"{_mio(size)}) : archive piégée (« bombe zip ») ou "
                                 "abîmée ; fichier refusé sans être lu")
        total += size
    if total > max_total:
        raise ArchiveRefusee(f"contenu démesuré : {_mio(total)} une fois décompressé "
                             f"({_mio(max_total)} au plus) ; fichier refusé sans être lu")
