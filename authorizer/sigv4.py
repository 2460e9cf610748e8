"""AWS Signature Version 4 for JSON-protocol POST requests, written by hand for cold start.

Why not botocore's `SigV4Auth`: importing `botocore.auth` alone costs about 50-75 ms in a fresh
process (it pulls in most of botocore), and boto3's import plus a DynamoDB client about 150-190
ms (docs/performance.md, figure 4): more than the whole cold-start budget of the authorizer's
first call. The signature itself is a few HMACs (AWS General Reference, "Create a signed AWS API
request"); tests prove that it equals botocore's for the same request and timestamp.

Scope: a POST to `/` with no query string and a JSON body, the only request shape the light
DynamoDB client sends. Credentials and signatures are never logged or put in an error.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime

ALGORITHM = "AWS4-HMAC-SHA256"
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True, slots=True)
class Credentials:
    """The Lambda execution role's credentials, as the runtime puts them in the environment."""

    access_key: str
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:  # never print the secret key or the session token
        return "Credentials(<redacted>)"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """The SigV4 signing key: the secret key HMAC-chained with date, region, service and
    `aws4_request`."""
    key = _hmac(("AWS4" + secret_key).encode("utf-8"), date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def sign_post(
    *,
    credentials: Credentials,
    region: str,
    service: str,
    host: str,
    headers: dict[str, str],
    body: bytes,
    now: datetime | None = None,
) -> dict[str, str]:
    """The headers to send: `headers` plus `Host`, `X-Amz-Date`, the session token (if any) and
    `Authorization`, for a POST of `body` to `/` on `host` (with `:port` when not the default).
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    timestamp = moment.strftime(TIMESTAMP_FORMAT)
    date = timestamp[:8]
    signed = {name.lower(): " ".join(value.split()) for name, value in headers.items()}
    signed["host"] = host
    signed["x-amz-date"] = timestamp
    if credentials.token:
        signed["x-amz-security-token"] = credentials.token
    names = sorted(signed)
    signed_headers = ";".join(names)
    canonical = "\n".join(
        (
            "POST",
            "/",
            "",
            "".join(f"{name}:{signed[name]}\n" for name in names),
            signed_headers,
            hashlib.sha256(body).hexdigest(),
        )
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        (ALGORITHM, timestamp, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest())
    )
    key = signing_key(credentials.secret_key, date, region, service)
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    out = {**headers, "Host": host, "X-Amz-Date": timestamp}
    if credentials.token:
        out["X-Amz-Security-Token"] = credentials.token
    out["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )
    return out
