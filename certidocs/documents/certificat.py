"""Certificate verification data: the HMAC code printed on a certificate and its QR payload.

Pure functions, so that the register (which checks a certificate) and the documents (which
print it) compute exactly the same thing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import unicodedata
from datetime import date
from urllib.parse import quote

CODE_LENGTH = 12  # base32 characters: 60 bits, plenty against guessing, short enough to type
GROUP = 4


def _normalise(text: str) -> str:
    # A holder's name typed « Dupont » one day and « DUPONT » the next, or with a doubled space,
    # is the same person: the code must not change with such variations.
    return " ".join(unicodedata.normalize("NFC", text).split()).upper()


def _message(numero: str, nom: str, prenom: str, date_naissance: date | None,
             date_delivrance: date) -> bytes:
    # The unit separator cannot occur in the fields, so no two field lists give the same bytes.
    fields = [
        "certidocs-certificat-v1",
        numero.strip(),
        _normalise(nom),
        _normalise(prenom),
        date_naissance.isoformat() if date_naissance else "",
        date_delivrance.isoformat(),
    ]
    return "\x1f".join(fields).encode("utf-8")


def verification_code(secret: bytes, numero: str, nom: str, prenom: str,
                      date_naissance: date | None, date_delivrance: date) -> str:
    """The verification code of a certificate: « ABCD-EFGH-JKLM ».

    HMAC-SHA256 with the workspace secret over the number, the holder's birth name and first
    name (case and spacing ignored), birth date and date of issue; the digest in base32 (letters
    and digits 2–7, no 0/1 to mistake for O/I), truncated to 12 characters in groups of 4.
    """
    if not secret:
        raise ValueError("secret must not be empty")
    digest = hmac.new(secret, _message(numero, nom, prenom, date_naissance, date_delivrance),
                      hashlib.sha256).digest()
    raw = base64.b32encode(digest).decode("ascii")[:CODE_LENGTH]
    return "-".join(raw[i:i + GROUP] for i in range(0, CODE_LENGTH, GROUP))


def normalise_code(code: str) -> str:
    """A code as typed by someone checking a certificate, made comparable: « abcd efgh-jklm »."""
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(raw[i:i + GROUP] for i in range(0, len(raw), GROUP))


def code_valide(code: str, secret: bytes, numero: str, nom: str, prenom: str,
                date_naissance: date | None, date_delivrance: date) -> bool:
    """Whether ``code`` (as typed, any case or grouping) is the one of this certificate."""
    expected = verification_code(secret, numero, nom, prenom, date_naissance, date_delivrance)
    return hmac.compare_digest(normalise_code(code), expected)


def qr_payload(url: str, numero: str, code: str, jeton: str = "") -> str:
    """What the certificate's QR code carries.

    With a verification URL: that URL with ``numero``, ``code`` and the signed token ``jeton``
    (``certidocs.signature``) as query parameters, so that a phone opens the verification page
    directly. Without one: the number, the code and the token as plain text, which a phone shows
    and ``certidocs verifier`` checks with the public key alone.
    """
    url = url.strip()
    if not url:
        text = f"Certificat n° {numero} - code de vérification {code}"
        return f"{text} - {jeton}" if jeton else text
    sep = "&" if "?" in url else "?"
    link = f"{url}{sep}numero={quote(numero, safe='')}&code={quote(code, safe='')}"
    return f"{link}&jeton={quote(jeton, safe='')}" if jeton else link
