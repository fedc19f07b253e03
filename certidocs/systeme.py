"""What the machine refused, said in French: full disk, read-only folder, locked file, rights.

Every command writes through temporary files renamed at the end (certidocs.fileio) and the
register writes in transactions, so when the disk or the folder fails nothing is left half
written: the message only has to say what failed and what to do. The CLI (and any other face)
turns an ``OSError`` or a ``sqlite3.Error`` that reached it into one of these messages
(``message_systeme``) instead of « Erreur interne ».
"""

from __future__ import annotations

import errno
import sqlite3

AUCUN_DEGAT = "rien n'a été laissé à moitié écrit"

_WINDOWS_LOCKED = (32, 33)  # ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION

_CONSEILS = {
    errno.ENOSPC: ("disque plein", "libérez de la place sur ce disque (ou travaillez dans un "
                                   "autre dossier) puis relancez la commande"),
    errno.EDQUOT: ("quota de disque atteint", "libérez de la place dans votre espace ou "
                                              "demandez un quota plus grand, puis relancez"),
    errno.EROFS: ("dossier en lecture seule (clé USB verrouillée, partage en consultation, "
                  "disque protégé)", "copiez l'espace de travail dans un dossier modifiable, "
                                     "ou demandez le droit d'y écrire, puis relancez"),
    errno.EACCES: ("permission refusée", "vérifiez que vous avez le droit d'écrire dans ce "
                                         "dossier et que le fichier n'est pas ouvert dans Word "
                                         "ou Excel, puis relancez"),
    errno.EPERM: ("opération non permise", "vérifiez vos droits sur ce fichier et ce dossier, "
                                           "puis relancez"),
    errno.EBUSY: ("fichier verrouillé", "fermez-le dans Word, Excel ou LibreOffice puis "
                                        "relancez"),
    errno.ETXTBSY: ("fichier verrouillé", "fermez le programme qui l'utilise puis relancez"),
    errno.EIO: ("erreur de lecture ou d'écriture du disque (support défectueux ou débranché)",
                "vérifiez le disque ou la clé USB, puis relancez"),
    errno.EFBIG: ("fichier trop gros pour ce disque", "travaillez sur un disque formaté en "
                                                      "NTFS, ext4 ou APFS, puis relancez"),
    errno.ENAMETOOLONG: ("chemin trop long", "raccourcissez le nom du dossier ou déplacez "
                                             "l'espace de travail, puis relancez"),
    errno.EMFILE: ("trop de fichiers ouverts", "fermez des programmes puis relancez"),
    errno.ENOENT: ("fichier ou dossier introuvable", "vérifiez le chemin (un dossier a-t-il "
                                                     "été déplacé ou renommé ?) puis relancez"),
    errno.ENOTDIR: ("un élément du chemin n'est pas un dossier", "vérifiez le chemin puis "
                                                                 "relancez"),
    errno.EISDIR: ("c'est un dossier, pas un fichier", "indiquez un fichier"),
}


def message_systeme(exc: BaseException) -> str | None:
    """The French message for a system failure, or None if ``exc`` is not one."""
    if isinstance(exc, sqlite3.Error):
        return _message_sqlite(exc)
    if not isinstance(exc, OSError):
        return None
    if getattr(exc, "winerror", None) in _WINDOWS_LOCKED:
        code: int | None = errno.EBUSY
    else:
        code = exc.errno
    quoi, conseil = _CONSEILS.get(code or -1, (exc.strerror or str(exc), "vérifiez le disque "
                                               "et vos droits sur ce dossier, puis relancez"))
    fichiers = [str(f) for f in (exc.filename, exc.filename2) if f]
    ou = f" ({' → '.join(fichiers)})" if fichiers else ""
    return f"{quoi}{ou} : {conseil} ; {AUCUN_DEGAT}."


_SQLITE = [
    (("database or disk is full", "cannot rollback", "cannot commit"),
     "disque plein (ou support défaillant)",
     "libérez de la place sur le disque de l'espace de travail puis relancez la commande"),
    (("readonly database", "read-only"),
     "le dossier de l'espace de travail est en lecture seule",
     "copiez l'espace dans un dossier modifiable, ou demandez le droit d'y écrire, puis "
     "relancez"),
    (("database is locked", "database table is locked"),
     "le registre est utilisé par une autre commande certidocs (ou un autre programme)",
     "attendez qu'elle se termine, puis relancez"),
    (("unable to open database file",),
     "le registre ne peut pas être ouvert (dossier déplacé, en lecture seule ou droits "
     "insuffisants)", "vérifiez le dossier de l'espace de travail puis relancez"),
    (("disk i/o error",),
     "erreur de lecture ou d'écriture du disque (support défectueux, débranché ou plein)",
     "vérifiez le disque puis relancez"),
    (("file is not a database", "malformed", "corrupt"),
     "le registre (registre.sqlite) est endommagé",
     "remettez la dernière sauvegarde de registre.sqlite et ne relancez qu'ensuite"),
]


def _message_sqlite(exc: sqlite3.Error) -> str:
    text = str(exc).lower()
    for needles, quoi, conseil in _SQLITE:
        if any(n in text for n in needles):
            return f"registre (registre.sqlite) : {quoi} : {conseil} ; {AUCUN_DEGAT}."
    return (f"registre (registre.sqlite) : l'opération a échoué ({exc}) ; vérifiez le disque de "
            f"l'espace de travail puis relancez ; {AUCUN_DEGAT}.")


_SYSTEM_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM,
                  errno.EBUSY, errno.ETXTBSY, errno.EIO, errno.EFBIG}


def cause_systeme(exc: BaseException) -> str | None:
    """The French message of a system failure found behind ``exc`` (its cause or the error
    it was raised while handling), or None: a library error raised because the disk was full
    or the folder read-only is best told as that."""
    seen = 0
    cause = exc.__cause__ or exc.__context__
    while cause is not None and seen < 10:
        if isinstance(cause, sqlite3.Error):
            text = str(cause).lower()
            if any(n in text for needles, *_ in _SQLITE[:5] for n in needles):
                return _message_sqlite(cause)
        elif isinstance(cause, OSError) and (
                cause.errno in _SYSTEM_ERRNOS
                or getattr(cause, "winerror", None) in _WINDOWS_LOCKED):
            return message_systeme(cause)
        cause = cause.__cause__ or cause.__context__
        seen += 1
    return None
