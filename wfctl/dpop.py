"""DPoP from the client's seat (RFC 9449; docs/wfctl.md, "DPoP"): a private key kept in a file
only its owner may read, and a fresh signed proof for every request.

Signing is PyJWT's (with `cryptography` for the keys); what neither library has is written here:
choosing the proof's header (`typ`, `alg`, the public `jwk`), its claims (`jti`, `htm`, `htu`,
`iat`, `ath`), and the RFC 7638 thumbprint a bound token's `cnf.jkt` carries.
"""

from __future__ import annotations

import os
import secrets
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

# The thumbprint and `ath` are the server's own functions: one definition of what binds a token.
from shared.dpop import THUMBPRINT_MEMBERS, access_token_hash, thumbprint

#: The proof's JOSE type (RFC 9449 section 4.2).
PROOF_TYPE = "dpop+jwt"
#: Algorithms `wfctl dpop keygen` makes keys for (the authorizer's allow-list; docs/security.md).
ALGORITHMS = ("ES256", "ES384", "EdDSA", "PS256", "RS256")
DEFAULT_ALGORITHM = "ES256"
KEY_FILE_NAME = "dpop-key.pem"
RSA_KEY_BITS = 3072

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


class DpopKeyError(ValueError):
    """The key file is missing, unsafe (permissions, owner, link) or not a usable private key,
    or a proof cannot be made for the request given."""


def default_key_path(config: Path) -> Path:
    return config / KEY_FILE_NAME


def proof_url(url: str) -> str:
    """`htu`: the request URL without its query and fragment (RFC 9449 section 4.2)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DpopKeyError("the proof's URL must be an absolute http(s) URL")
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", ""))


@dataclass(frozen=True, slots=True)
class DpopKey:
    private_key: PrivateKey
    algorithm: str

    @property
    def public_jwk(self) -> dict[str, Any]:
        """The public key as a JWK: only public members (the proof's `jwk` header)."""
        public = self.private_key.public_key()
        if isinstance(public, ec.EllipticCurvePublicKey):
            jwk = ECAlgorithm.to_jwk(public, as_dict=True)
        elif isinstance(public, rsa.RSAPublicKey):
            jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
        return {name: jwk[name] for name in THUMBPRINT_MEMBERS[jwk["kty"]]}

    @property
    def thumbprint(self) -> str:
        """What the token service puts in a bound token's `cnf.jkt`."""
        return thumbprint(self.public_jwk)

    def proof(
        self,
        method: str,
        url: str,
        access_token: str | None = None,
        *,
        now: float | None = None,
    ) -> str:
        """A fresh proof for one request: a new `jti` every time, `iat` now, and `ath` when
        the request carries an access token (RFC 9449 sections 4.2 and 7)."""
        method = method.strip().upper()
        if not method.isalpha():
            raise DpopKeyError("the proof's method must be an HTTP method such as GET or POST")
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(24),
            "htm": method,
            "htu": proof_url(url),
            "iat": int(time.time() if now is None else now),
        }
        if access_token is not None:
            claims["ath"] = access_token_hash(access_token)
        headers = {"typ": PROOF_TYPE, "jwk": self.public_jwk}
        return jwt.encode(claims, self.private_key, algorithm=self.algorithm, headers=headers)


def _new_private_key(algorithm: str) -> PrivateKey:
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "ES384":
        return ec.generate_private_key(ec.SECP384R1())
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm in ("PS256", "RS256"):
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
    raise DpopKeyError(f"algorithm must be one of {', '.join(ALGORITHMS)}")


def algorithm_for(private_key: object, requested: str | None = None) -> str:
    """The proof algorithm that fits the key (an RSA key signs PS256 unless RS256 is asked)."""
    fits: tuple[str, ...]
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        fits = {"secp256r1": ("ES256",), "secp384r1": ("ES384",)}.get(private_key.curve.name, ())
    elif isinstance(private_key, rsa.RSAPrivateKey):
        fits = ("PS256", "RS256") if private_key.key_size >= 2048 else ()
    elif isinstance(private_key, ed25519.Ed25519PrivateKey):
        fits = ("EdDSA",)
    else:
        fits = ()
    if not fits:
        raise DpopKeyError("the key is not one DPoP proofs are signed with here")
    if requested is None:
        return fits[0]
    if requested not in fits:
        raise DpopKeyError(f"a {requested} proof cannot be signed with this key")
    return requested


def generate_key(path: Path, algorithm: str = DEFAULT_ALGORITHM, *, force: bool = False) -> DpopKey:
    """A new key pair, its private key written as PKCS#8 PEM to a file created with mode 0600
    (never readable by others, not even for a moment); an existing file is kept unless
    `force`, since replacing it orphans every token bound to it."""
    private_key = _new_private_key(algorithm)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.exists() and not force:
        raise DpopKeyError(f"{path} exists (tokens may be bound to it); --force replaces it")
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    tmp.replace(path)
    return DpopKey(private_key, algorithm)


def load_key(path: Path, algorithm: str | None = None) -> DpopKey:
    """The key in `path`, refused when others could read or write it, another user owns it,
    or it is a symbolic link: an exposed key is reported, never silently used."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise DpopKeyError(f"no DPoP key at {path} (make one: wfctl dpop keygen)") from None
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
        raise DpopKeyError(f"{path} is not a regular file")
    if info.st_uid != os.getuid():
        raise DpopKeyError(f"{path} belongs to another user")
    if info.st_mode & 0o077:
        raise DpopKeyError(f"{path} is readable or writable by others: chmod 600 it")
    try:
        private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError):
        raise DpopKeyError(f"{path} holds no unencrypted PEM private key") from None
    if not isinstance(private_key, PrivateKey):
        raise DpopKeyError("the key is not one DPoP proofs are signed with here")
    return DpopKey(private_key, algorithm_for(private_key, algorithm))
