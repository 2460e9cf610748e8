"""A DPoP client for tests: a key pair and proofs signed with it (RFC 9449 section 4.2).

`proof()` signs with PyJWT (so the leak guard registers every proof); `sign_raw()` signs any
header and claims byte for byte, for the tests that need what PyJWT would not write.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from shared.dpop import access_token_hash, thumbprint

_ALGORITHMS = jwt.algorithms.get_default_algorithms()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def new_private_key(alg: str) -> Any:
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "ES384":
        return ec.generate_private_key(ec.SECP384R1())
    if alg in ("RS256", "PS256"):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(alg)


def public_jwk(private_key: Any, alg: str) -> dict[str, Any]:
    jwk: dict[str, Any] = _ALGORITHMS[alg].to_jwk(private_key.public_key(), as_dict=True)
    return jwk


@dataclass
class DpopKey:
    alg: str = "ES256"
    private_key: Any = None
    jwk: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.private_key is None:
            self.private_key = new_private_key(self.alg)
        if not self.jwk:
            self.jwk = public_jwk(self.private_key, self.alg)

    @property
    def jkt(self) -> str:
        return thumbprint(self.jwk)

    def claims(
        self, method: str, url: str, token: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method,
            "htu": url,
            "iat": int(time.time()),
        }
        if token is not None:
            claims["ath"] = access_token_hash(token)
        claims.update(extra)
        return claims

    def header(self, **extra: Any) -> dict[str, Any]:
        header = {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.jwk}
        header.update(extra)
        return header

    def proof(self, method: str, url: str, token: str | None = None, **extra: Any) -> str:
        """A valid proof for `method` `url` (and `token`), claims overridden by `extra`."""
        header = self.header()
        del header["alg"]
        return jwt.encode(
            self.claims(method, url, token, **extra),
            self.private_key,
            algorithm=self.alg,
            headers=header,
        )

    def sign_raw(self, header: dict[str, Any], claims: dict[str, Any] | str) -> str:
        """Any header and claims (claims may be raw JSON text), signed with this key as `alg`."""
        body = claims if isinstance(claims, str) else json.dumps(claims)
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(body.encode())}"
        signature = _ALGORITHMS[self.alg].sign(signing_input.encode(), self.private_key)
        return f"{signing_input}.{_b64(signature)}"
