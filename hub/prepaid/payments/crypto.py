"""RSA-SHA256 signatures as payment providers use them (WeChat Pay v3, Alipay RSA2).

PKCS#1 v1.5 padding, base64 text, keys in PEM (a key pasted without its ``-----BEGIN``
lines, as both providers' consoles show it, is accepted too). ``cryptography`` is imported on
first use: a site without a payment provider does not hold it (about 6 MB).
"""

from __future__ import annotations

import base64
import binascii
import textwrap
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias, TypeVar

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

from ...i18n import Text
from .. import messages as _messages  # noqa: F401  (the tables of the Texts below)

__all__ = ["PrivateKey", "PublicKey", "load_certificate", "load_private_key", "load_public_key",
           "rsa_sign", "rsa_verify"]

PrivateKey: TypeAlias = "rsa.RSAPrivateKey"
PublicKey: TypeAlias = "rsa.RSAPublicKey"
_T = TypeVar("_T")


def _pem(text: str, kind: str) -> bytes:
    text = text.strip()
    if "-----BEGIN" not in text:
        body = "\n".join(textwrap.wrap("".join(text.split()), 64))
        text = f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----"
    return text.encode()


def _read(load: Callable[[], _T], refusal: str) -> _T:
    """What ``load`` reads, or ValueError(``refusal``): text that is no key at all gets the
    same plain refusal as a key of another kind (cryptography's own words are for us)."""
    from cryptography.exceptions import UnsupportedAlgorithm

    try:
        return load()
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError(Text(refusal)) from None


def load_private_key(text: str) -> PrivateKey:
    """An RSA private key from PEM (PKCS#8 or PKCS#1) or bare base64 PKCS#8."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = _read(lambda: serialization.load_pem_private_key(_pem(text, "PRIVATE KEY"),
                                                           password=None),
                "payments.rsa_private")
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(Text("payments.rsa_private"))
    return key


def load_public_key(text: str) -> PublicKey:
    """An RSA public key from PEM or bare base64 (SubjectPublicKeyInfo)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = _read(lambda: serialization.load_pem_public_key(_pem(text, "PUBLIC KEY")),
                "payments.rsa_public")
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError(Text("payments.rsa_public"))
    return key


def load_certificate(text: str) -> tuple[str, PublicKey]:
    """A certificate's serial number (upper-case hex) and RSA public key."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509 import load_pem_x509_certificate

    cert = _read(lambda: load_pem_x509_certificate(_pem(text, "CERTIFICATE")),
                 "payments.rsa_certificate")
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError(Text("payments.rsa_certificate"))
    return format(cert.serial_number, "X"), key


def rsa_sign(key: PrivateKey, message: str) -> str:
    """The base64 SHA256-with-RSA (PKCS#1 v1.5) signature of ``message`` (UTF-8)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    signature = key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def rsa_verify(key: PublicKey, message: str | bytes, signature: str) -> bool:
    """Whether ``signature`` (base64) is ``key``'s SHA256-with-RSA signature of ``message``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    data = message.encode() if isinstance(message, str) else message
    try:
        key.verify(base64.b64decode(signature, validate=True), data, padding.PKCS1v15(),
                   hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
