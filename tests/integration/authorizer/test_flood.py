"""Floods: 50,000 tokens with random kids and 50,000 random API key ids. The number
of JWKS and Secrets Manager calls stays within the cooldown and negative-cache rules, and every
cache stays within its bound. Dependencies are fast in-process fakes: the point is counting."""

from __future__ import annotations

import base64
import json
import resource
import secrets
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from authorizer.api_keys import NEGATIVE_CACHE_SIZE
from authorizer.authorize import Authorizer
from authorizer.jwks import JwksCache
from authorizer.secret_store import SecretStore
from authorizer.service_tokens import FORCED_REFRESH_SECONDS
from shared import AuthorizerSettings, new_api_key
from tests.helpers import authorizer_event

FLOOD = 50_000
ISSUER = "https://idp.example.com"
SETTINGS = AuthorizerSettings(
    jwt_secret_id="signing", oauth_issuer=ISSUER, oauth_audience="api",
    oauth_jwks_uri=ISSUER + "/jwks", jwks_min_refresh_seconds=30,
)  # fmt: skip
SIGNING = json.dumps({"kid": "k1", "key": secrets.token_urlsafe(48)})


class FakeSecretsManager:
    def __init__(self) -> None:
        self.calls = 0

    def get_secret_value(self, SecretId: str, VersionStage: str) -> Any:
        self.calls += 1
        if SecretId == "signing" and VersionStage == "AWSCURRENT":
            return {"SecretString": SIGNING, "VersionId": "v1"}
        raise ClientError({"Error": {"Code": "ResourceNotFoundException"}}, "GetSecretValue")


class FakeJwks:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, url: str) -> Any:
        self.calls += 1
        return {"keys": []}


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.fixture
def flood_authz() -> tuple[Authorizer, FakeSecretsManager, FakeJwks]:
    sm, jwks = FakeSecretsManager(), FakeJwks()
    store = SecretStore(5, client_factory=lambda: sm)
    return Authorizer(SETTINGS, store=store, jwks=JwksCache(SETTINGS, fetch=jwks)), sm, jwks


def refuse(authz: Authorizer, event: dict[str, Any]) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authz.handle(event)


def test_random_kid_flood(flood_authz: tuple[Authorizer, FakeSecretsManager, FakeJwks]) -> None:
    authz, sm, jwks = flood_authz
    now = int(time.time())
    start, before = time.monotonic(), rss_mb()
    for i in range(FLOOD):
        kid = secrets.token_hex(8)
        if i % 2:
            header = {"alg": "RS256", "kid": kid}
            claims = {"iss": ISSUER, "sub": "x", "exp": now + 60}
            path = "/api/secure-automate"
        else:
            header = {"alg": "HS256", "kid": kid}
            claims = {"sub": "x", "iat": now, "exp": now + 60}
            path = "/api/automate"
        token = f"{b64(header)}.{b64(claims)}.c2lnbmF0dXJl"
        refuse(authz, authorizer_event("GET", path, {"Authorization": f"Bearer {token}"}))
    elapsed = time.monotonic() - start
    # JWKS: the first fetch, then at most one unknown-kid refetch per cooldown window.
    assert jwks.calls <= 2 + elapsed / SETTINGS.jwks_min_refresh_seconds
    # Signing secret: two labels, re-read when the cached value ages out
    # (POWERTOOLS_PARAMETERS_MAX_AGE) plus at most one forced re-read per cooldown.
    windows = 1 + elapsed / SETTINGS.secret_cache_seconds + 1 + elapsed / FORCED_REFRESH_SECONDS
    assert sm.calls <= 2 * windows
    assert authz.jwks.key_count == 0
    assert len(authz.store) <= 2
    print(
        f"\nrandom-kid flood: {FLOOD} in {elapsed:.1f}s, JWKS fetches {jwks.calls}, "
        f"Secrets Manager reads {sm.calls}, max RSS {before:.0f} -> {rss_mb():.0f} MB"
    )


def test_random_api_key_id_flood(
    flood_authz: tuple[Authorizer, FakeSecretsManager, FakeJwks],
) -> None:
    authz, sm, _ = flood_authz
    ids = [secrets.token_hex(8) for _ in range(FLOOD)]
    before = rss_mb()
    for key_id in ids:
        refuse(authz, authorizer_event("GET", "/api/internal", {"X-Api-Key": new_api_key(key_id)}))
    # Each distinct unknown id costs exactly one read; repeats within the negative cache none.
    assert sm.calls == len(set(ids))
    for key_id in ids[-NEGATIVE_CACHE_SIZE:]:
        refuse(authz, authorizer_event("GET", "/api/internal", {"X-Api-Key": new_api_key(key_id)}))
    assert sm.calls == len(set(ids))
    assert len(authz.api_keys.negative) <= NEGATIVE_CACHE_SIZE
    assert len(authz.store) <= 1024
    print(f"\napi-key flood: {FLOOD} ids, Secrets Manager reads {sm.calls}, "
          f"negative cache {len(authz.api_keys.negative)}, store {len(authz.store)}, "
          f"max RSS {before:.0f} -> {rss_mb():.0f} MB")  # fmt: skip
