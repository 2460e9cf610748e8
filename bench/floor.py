"""The cryptographic floor: the least work any correct authorizer must do per request.

Per token: split, base64url-decode and JSON-parse header and payload, check the signature
with `cryptography` (or `hmac` for HS256), check `exp`; per API key: parse the key id, one dict
lookup, a constant-time compare. Then, for both: serialize the policy (the Lambda runtime does
it for every authorizer), write one audit JSON line and one EMF JSON blob (docs/security.md,
"Audit") to the same null stream the real authorizer writes to. Nothing that does the required
work can be faster, so `ours / floor` is the price of everything else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from typing import Any

from bench.fixtures import Keys, Sink

_KEY = re.compile(r"wfk_([a-z0-9]{16})_[A-Za-z0-9_-]{43,86}")


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _verifiers(keys: Keys) -> dict[str, Callable[[bytes, bytes], None]]:
    from cryptography.hazmat.primitives import hashes  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec, padding  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric.utils import (  # noqa: PLC0415
        encode_dss_signature,
    )

    hs_key = keys.hs_key
    rsa_key, ec_key, ed_key = (keys.public[a] for a in ("RS256", "ES256", "EdDSA"))
    pkcs1, sha256, ecdsa = padding.PKCS1v15(), hashes.SHA256(), ec.ECDSA(hashes.SHA256())

    def hs256(signature: bytes, data: bytes) -> None:
        if not hmac.compare_digest(hmac.new(hs_key, data, hashlib.sha256).digest(), signature):
            raise ValueError("bad signature")

    def rs256(signature: bytes, data: bytes) -> None:
        rsa_key.verify(signature, data, pkcs1, sha256)

    def es256(signature: bytes, data: bytes) -> None:
        # JOSE carries r || s; cryptography wants DER.
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        ec_key.verify(encode_dss_signature(r, s), data, ecdsa)

    def eddsa(signature: bytes, data: bytes) -> None:
        ed_key.verify(signature, data)

    return {"HS256": hs256, "RS256": rs256, "ES256": es256, "EdDSA": eddsa}


def _emit(sink: Sink, principal: str, scheme: str, credential: str, resource: str) -> None:
    """One audit line and one EMF blob, as plain JSON lines."""
    now = time.time()
    audit = {
        "level": "INFO",
        "message": "authorizer decision",
        "timestamp": now,
        "service": "workflow-api-bench",
        "decision": "allow",
        "scheme": scheme,
        "principal": principal,
        "reason": "ok",
        "source_ip": "203.0.113.7",
        "http_method": "GET",
        "resource": resource,
        "request_id": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "credential_fingerprint": hashlib.sha256(credential.encode()).hexdigest()[:12],
    }
    sink.write(json.dumps(audit) + "\n")
    emf = {
        "_aws": {
            "Timestamp": int(now * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": "WorkflowApiBench",
                    "Dimensions": [["service", "scheme", "reason"]],
                    "Metrics": [{"Name": "AuthorizerAllow", "Unit": "Count"}],
                }
            ],
        },
        "service": "workflow-api-bench",
        "scheme": scheme,
        "reason": "ok",
        "AuthorizerAllow": [1.0],
    }
    sink.write(json.dumps(emf, separators=(",", ":")) + "\n")


def _policy(principal: str, resources: list[str], context: dict[str, Any]) -> str:
    return json.dumps(
        {
            "principalId": principal,
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": resources}
                ],
            },
            "context": context,
        }
    )


def token_floor(keys: Keys, alg: str, resources: list[str], sink: Sink) -> Callable[[str], str]:
    """The floor for one JWT algorithm; `resources` is the policy ours returns (same size)."""
    verify = _verifiers(keys)[alg]
    scheme = "jwt" if alg == "HS256" else "oauth"

    def floor(token: str) -> str:
        head, body, sig = token.split(".")
        header, claims = json.loads(_b64(head)), json.loads(_b64(body))
        if header["alg"] != alg:
            raise ValueError("alg")
        verify(_b64(sig), f"{head}.{body}".encode())
        if claims["exp"] < time.time():
            raise ValueError("expired")
        principal = claims["sub"]
        context = {"principal": principal, "scheme": scheme, "scopes": claims["scope"]}
        _emit(sink, principal, scheme, token, "/api/workflows/{workflowId}/runs")
        return _policy(principal, resources, context)

    return floor


def api_key_floor(
    records: dict[str, dict[str, Any]], resources: list[str], sink: Sink
) -> Callable[[str], str]:
    """The floor for API keys: `records` maps key id to its (already parsed) secret."""

    def floor(key: str) -> str:
        found = _KEY.fullmatch(key)
        if found is None:
            raise ValueError("malformed")
        record = records[found.group(1)]
        if not hmac.compare_digest(key.encode(), record["api_key"].encode()):
            raise ValueError("bad key")
        principal = record["principal"]
        context = {
            "principal": principal,
            "scheme": "api_key",
            "scopes": " ".join(record["scopes"]),
        }
        _emit(sink, principal, "api_key", key, "/api/internal")
        return _policy(principal, resources, context)

    return floor
