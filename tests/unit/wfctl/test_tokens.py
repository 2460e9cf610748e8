"""Service tokens minted by `wfctl` are exactly what the authorizer accepts, and nothing else."""

from __future__ import annotations

import jwt
import pytest

from authorizer.service_tokens import verify_with_key
from shared.secret_formats import new_signing_secret, parse_signing_secret
from shared.settings import AuthorizerSettings, ConfigurationError
from wfctl.tokens import TokenRequest, TokenRequestError, mint_token


def test_minted_token_passes_the_authorizers_own_checks() -> None:
    secret = new_signing_secret()
    key = parse_signing_secret(secret)
    request = TokenRequest(
        "reports", ("workflow:read", "workflow:trigger:demo"), 600, issuer="me", audience="api"
    )
    token = mint_token(secret, request, now=1_800_000_000)
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "kid": key.kid, "typ": "JWT"}
    settings = AuthorizerSettings(jwt_issuer="me", jwt_audience="api", clock_skew_seconds=10**10)
    claims = verify_with_key(token, key, settings)
    assert claims["sub"] == "reports"
    assert claims["scope"] == "workflow:read workflow:trigger:demo"
    assert claims["exp"] - claims["iat"] == 600
    assert claims["jti"]


@pytest.mark.parametrize(
    "request_",
    [
        TokenRequest("svc", ("workflow:delete",)),
        TokenRequest("svc", ("workflow:admin:demo",)),  # admin is never narrowed
        TokenRequest("svc", (), lifetime_seconds=0),
        TokenRequest("svc", (), lifetime_seconds=3601),
        TokenRequest("", ()),
    ],
)
def test_unusable_requests_are_refused_before_signing(request_: TokenRequest) -> None:
    with pytest.raises(TokenRequestError):
        mint_token(new_signing_secret(), request_)


def test_a_short_signing_key_is_never_used() -> None:
    with pytest.raises(ConfigurationError):
        mint_token('{"kid": "k", "key": "too-short"}', TokenRequest("svc", ()))


@pytest.mark.parametrize(
    "endpoint",
    ["http://api.example.com/oauth/token", "ftp://x/oauth/token", "file:///etc/passwd",
     "https://api.example.com/oauth/token?x=1", "not a url"],
)  # fmt: skip
def test_wfctl_token_sends_the_client_secret_only_over_https(endpoint: str) -> None:
    from wfctl.clients import ClientError, request_token  # noqa: PLC0415

    with pytest.raises(ClientError):
        request_token(endpoint, "svc-1", "s" * 43)
