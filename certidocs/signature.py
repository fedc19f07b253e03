"""Certificates anyone can verify offline: an Ed25519 signature in the QR code.

The short HMAC code (``documents/certificat.py``) needs the certifier's register and secret to be
checked; the signed token needs only the certifier's public key, so a certificate stays
verifiable when the certifier's machine, or the certifier itself, is gone. Ed25519 (RFC 8032,
through ``cryptography``) was chosen over a COSE/CBOR payload: 64-byte signatures, one
well-kept dependency, and a token a person can read.

A token is ``CD1.<payload>.<signature>``, both parts base64url without padding. The payload is
UTF-8 text, fields separated by « | »: version, certificate number, birth name, first name,
birth date (ISO), date of issue (ISO), référentiel code and title as registered (cut at
``TITRE_MAX`` characters). A QR code of about 250 bytes (version 10–12) scans from paper at
the certificate's 30 mm.

The revocation list is a JSON document listing revoked certificate numbers and dates (never the
reason nor the holder: it is meant to be published), signed with the same key.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from certidocs.errors import CertidocsError, EspaceError

KEY_NAME = ".cle-signature.pem"
"""The workspace's Ed25519 private key (PEM, PKCS#8, mode 0600), created once by ``init``."""

TOKEN_PREFIX = "CD1"
TITRE_MAX = 80
"""Characters of the title kept in the token: enough to recognise it, short enough to keep the
QR code scannable from paper."""

TOKEN_RE = re.compile(r"CD1\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)")

LISTE_VERSION = "certidocs-revocations-v1"


class SignatureError(CertidocsError):
    """Raised when a token, a key or a revocation list cannot be read or does not verify."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def write_private_file(path: Path, data: bytes) -> None:
    """Create ``path`` with ``data``, readable by its owner only (0600): written to a temporary
    file, flushed, then linked into place, so a crash leaves no file or a whole one; an existing
    file is never replaced (FileExistsError)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def create_private_key(path: Path) -> None:
    """Draw a new Ed25519 key into ``path`` (0600); FileExistsError if one is there."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    write_private_file(path, pem)


def key_path(root: Path) -> Path:
    """Where the private key of the workspace at ``root`` lives."""
    return root / KEY_NAME


def read_private_key(root: Path) -> Any:
    """The workspace's Ed25519 private key.

    Raises EspaceError, naming the file, when it is missing or unreadable: it is never
    re-created silently, since every certificate it signed would then fail to verify.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = key_path(root)
    if not path.exists():
        raise EspaceError(
            f"{path} introuvable : cette clé signe les certificats ; ceux déjà délivrés en "
            "dépendent. Restaurez-la depuis votre sauvegarde. Si cet espace n'a encore délivré "
            "aucun certificat (espace créé avant cette version), créez-la avec « certidocs "
            "registre creer-cles ».")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise EspaceError(f"{path} : clé de signature illisible ({exc}) ; restaurez-la depuis "
                          "votre sauvegarde") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise EspaceError(f"{path} : ce n'est pas une clé Ed25519")
    return key


def public_key_pem(private_key: Any) -> bytes:
    """The PEM (SubjectPublicKeyInfo) of the public half of ``private_key``."""
    from cryptography.hazmat.primitives import serialization

    return bytes(private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def load_public_key(path: Path) -> Any:
    """An Ed25519 public key from a PEM file; SignatureError (French, naming the file)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as exc:
        raise SignatureError(f"{path} : clé publique illisible ({exc.strerror})") from None
    except (ValueError, TypeError):
        raise SignatureError(f"{path} : ce n'est pas une clé publique PEM (exportez-la avec "
                             "« certidocs registre cle-publique »)") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureError(f"{path} : ce n'est pas une clé publique Ed25519")
    return key


# --- tokens -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attestation:
    """What a certificate's signed token states."""

    numero: str
    nom: str
    prenom: str
    date_naissance: dt.date | None
    date_delivrance: dt.date
    referentiel: str
    intitule: str


def _clean(text: str) -> str:
    return " ".join(str(text).replace("|", "/").split())


def sign_token(private_key: Any, a: Attestation) -> str:
    """The token ``CD1.<payload>.<signature>`` of a certificate."""
    fields = ["1", _clean(a.numero), _clean(a.nom), _clean(a.prenom),
              a.date_naissance.isoformat() if a.date_naissance else "",
              a.date_delivrance.isoformat(), _clean(a.referentiel),
              _clean(a.intitule)[:TITRE_MAX]]
    payload = "|".join(fields).encode("utf-8")
    return f"{TOKEN_PREFIX}.{_b64(payload)}.{_b64(private_key.sign(payload))}"


def find_token(text: str) -> str | None:
    """The token inside ``text`` (a QR code's text, a verification URL), or None."""
    from urllib.parse import unquote

    match = TOKEN_RE.search(unquote(text))
    return match.group(0) if match else None


def verify_token(public_key: Any, text: str) -> Attestation:
    """What the token in ``text`` states, once its signature is checked with
    ``public_key``; SignatureError when there is no token or it does not verify."""
    from cryptography.exceptions import InvalidSignature

    token = find_token(text)
    if token is None:
        raise SignatureError("aucune signature certidocs (« CD1. ») dans ce texte : ce n'est "
                             "pas le QR code d'un certificat signé")
    match = TOKEN_RE.fullmatch(token)
    assert match is not None
    try:
        payload, signature = _unb64(match.group(1)), _unb64(match.group(2))
    except ValueError:
        raise SignatureError("signature illisible : le texte a été tronqué ou altéré") from None
    try:
        public_key.verify(signature, payload)
    except InvalidSignature:
        raise SignatureError("signature invalide : ce certificat n'a pas été délivré par le "
                             "détenteur de cette clé, ou ses mentions ont été modifiées") from None
    fields = payload.decode("utf-8").split("|")
    if len(fields) != 8 or fields[0] != "1":
        raise SignatureError("jeton d'une version inconnue de certidocs")
    return Attestation(fields[1], fields[2], fields[3],
                       dt.date.fromisoformat(fields[4]) if fields[4] else None,
                       dt.date.fromisoformat(fields[5]), fields[6], fields[7])


# --- revocation list ------------------------------------------------------------------------------


def sign_revocation_list(private_key: Any, emetteur: str,
                         revocations: list[dict[str, str]], publiee_le: dt.datetime) -> str:
    """The signed revocation list, as JSON text: ``revocations`` holds ``numero`` and
    ``revoque_le`` (ISO date) of each revoked certificate."""
    body = {"format": LISTE_VERSION, "emetteur": emetteur,
            "publiee_le": publiee_le.isoformat(timespec="seconds"),
            "revocations": [{"numero": r["numero"], "revoque_le": r["revoque_le"]}
                            for r in revocations]}
    message = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    body["signature"] = _b64(private_key.sign(message.encode("utf-8")))
    return json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def read_revocation_list(path: Path, public_key: Any) -> dict[str, str]:
    """Revoked certificate number → date of revocation (ISO), from a list whose signature
    verifies with ``public_key``; SignatureError naming the file otherwise."""
    from cryptography.exceptions import InvalidSignature

    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        signature = _unb64(body.pop("signature"))
        if body.get("format") != LISTE_VERSION:
            raise ValueError("format")
        message = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        public_key.verify(signature, message.encode("utf-8"))
        return {str(r["numero"]): str(r["revoque_le"]) for r in body["revocations"]}
    except InvalidSignature:
        raise SignatureError(f"{path} : signature de la liste de révocation invalide (liste "
                             "modifiée, ou signée avec une autre clé)") from None
    except OSError as exc:
        raise SignatureError(f"{path} : liste illisible ({exc.strerror})") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise SignatureError(f"{path} : ce n'est pas une liste de révocation certidocs"
                             ) from None


def decode_image(path: Path) -> str:
    """The text of the QR code in the image ``path`` (PNG, JPEG…), read with zxing-cpp;
    SignatureError when the image cannot be read or holds no QR code."""
    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            results = zxingcpp.read_barcodes(img.convert("L"))
    except (OSError, UnidentifiedImageError) as exc:
        raise SignatureError(f"{path} : image illisible ({exc})") from None
    for result in results:
        if result.text:
            return str(result.text)
    raise SignatureError(f"{path} : aucun QR code lisible dans cette image")


def ensure_keys(root: Path) -> list[Path]:
    """Create the workspace's missing secrets (HMAC secret, signing key) under ``root``;
    returns the files created. Callers check first that no certificate depends on them."""
    from certidocs.workspace import SECRET_NAME, write_secret

    created = []
    if not (root / SECRET_NAME).exists():
        with contextlib.suppress(FileExistsError):
            write_secret(root / SECRET_NAME)
            created.append(root / SECRET_NAME)
    if not key_path(root).exists():
        with contextlib.suppress(FileExistsError):
            create_private_key(key_path(root))
            created.append(key_path(root))
    return created
