"""The JWKS cache's rules with a fake clock and a fake fetcher (no sockets)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from authorizer.errors import CredentialError, DependencyError
from authorizer.jwks import MAX_KEYS, FetchError, JwksCache, parse_key_set
from shared import AuthorizerSettings

ISSUER = "https://idp.example.com"
SETTINGS = AuthorizerSettings(
    oauth_issuer=ISSUER, oauth_audience="api", oauth_jwks_uri=ISSUER + "/jwks",
    jwks_cache_seconds=600, jwks_min_refresh_seconds=30, jwks_max_stale_seconds=3600,
)  # fmt: skip
RSA_JWK = {
    **RSAAlgorithm.to_jwk(rsa.generate_private_key(65537, 2048).public_key(), as_dict=True),
    "kid": "r1",
}
EC_JWK = {
    **ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()).public_key(), as_dict=True),
    "kid": "e1",
}


class Fake:
    def __init__(self, keys: list[dict[str, Any]]) -> None:
        self.keys, self.calls, self.down, self.now = keys, 0, False, 0.0

    def fetch(self, url: str) -> Any:
        self.calls += 1
        if self.down:
            raise FetchError("down")
        return {"keys": self.keys}

    def clock(self) -> float:
        return self.now


@pytest.fixture
def fake() -> Fake:
    return Fake([RSA_JWK])


def cache(fake: Fake, **changes: Any) -> JwksCache:
    return JwksCache(replace(SETTINGS, **changes), fetch=fake.fetch, clock=fake.clock)


def test_fresh_keys_are_not_refetched(fake: Fake) -> None:
    jwks = cache(fake)
    for _ in range(10):
        assert jwks.get_key("r1").kid == "r1"
    fake.now = 599
    jwks.get_key("r1")
    assert fake.calls == 1
    fake.now = 600
    jwks.get_key("r1")
    assert fake.calls == 2


def test_unknown_kid_cooldown(fake: Fake) -> None:
    jwks = cache(fake)
    jwks.get_key("r1")
    for _ in range(5):
        with pytest.raises(CredentialError, match="unknown_kid"):
            jwks.get_key("zz")
    assert fake.calls == 2
    fake.keys = [RSA_JWK, EC_JWK]
    fake.now = 29
    with pytest.raises(CredentialError):
        jwks.get_key("e1")  # still in the cooldown: the new key is not seen yet
    fake.now = 30
    assert jwks.get_key("e1").kty == "EC"
    assert fake.calls == 3


def test_stale_if_error_window_counts_from_the_last_success(fake: Fake) -> None:
    jwks = cache(fake)
    jwks.get_key("r1")
    fake.down = True
    fake.now = 601
    assert jwks.get_key("r1")  # stale, refresh failed, last good keys used
    fake.now = 3600
    assert jwks.get_key("r1")
    fake.now = 3601
    with pytest.raises(DependencyError):
        jwks.get_key("r1")


def test_failure_backoff_limits_fetches_while_the_provider_is_down(fake: Fake) -> None:
    fake.down = True
    jwks = cache(fake)
    for _ in range(10):
        with pytest.raises(DependencyError):
            jwks.get_key("r1")
    assert fake.calls == 1
    fake.down, fake.now = False, 30
    assert jwks.get_key("r1")


def test_unknown_kid_with_no_usable_set_is_a_dependency_error(fake: Fake) -> None:
    fake.down = True
    with pytest.raises(DependencyError):
        cache(fake).get_key("anything")


def test_key_set_parsing_keeps_only_usable_public_signing_keys() -> None:
    keys = parse_key_set(
        {
            "keys": [
                RSA_JWK,
                {**RSA_JWK, "kid": "r1", "n": "AQAB"},  # duplicate kid: first wins
                {**EC_JWK, "kid": "private", "d": "secret"},  # a private key: never used
                {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},  # symmetric: never used
                {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
                {**EC_JWK, "kid": None},
                "not a dict",
                EC_JWK,
            ]
        }
    )
    assert sorted(keys) == ["e1", "r1"]


def test_key_count_is_bounded() -> None:
    keys = parse_key_set({"keys": [{**EC_JWK, "kid": f"k{i}"} for i in range(MAX_KEYS + 50)]})
    assert len(keys) == MAX_KEYS


@pytest.mark.parametrize("document", [None, [], {"keys": None}, {"nokeys": []}])
def test_not_a_key_set(document: Any) -> None:
    with pytest.raises(FetchError):
        parse_key_set(document)
