"""The pieces of `wfctl login`: PKCE, the authorization URL, and the checks of a callback."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from wfctl import oauth
from wfctl.oauth import LoginError, Pkce, ProviderMetadata

META = ProviderMetadata(
    issuer="https://login.example.com",
    authorization_endpoint="https://login.example.com/auth",
    token_endpoint="https://login.example.com/token",
    iss_parameter_supported=True,
)


def test_s256_matches_rfc_7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert oauth.s256(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_each_login_gets_a_fresh_high_entropy_verifier() -> None:
    first, second = Pkce.new(), Pkce.new()
    assert first.verifier != second.verifier
    # RFC 7636 section 4.1: 43 to 128 unreserved characters.
    assert 43 <= len(first.verifier) <= 128
    assert set(first.verifier) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    )
    assert first.challenge == oauth.s256(first.verifier)


def test_authorization_url_asks_for_a_code_with_an_s256_challenge() -> None:
    pkce = Pkce.new()
    url = oauth.authorization_url(
        META, "wfctl", "http://127.0.0.1:5000/callback", ["openid", "offline_access"], "st", pkce
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "login.example.com", "/auth")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {
        "response_type": "code",
        "client_id": "wfctl",
        "redirect_uri": "http://127.0.0.1:5000/callback",
        "scope": "openid offline_access",
        "state": "st",
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "prompt": "consent",
    }
    assert pkce.verifier not in url  # the verifier only ever goes to the token endpoint


def good(**extra: str) -> dict[str, str]:
    return {"code": "the-code", "state": "expected", "iss": META.issuer, **extra}


def test_a_good_callback_gives_its_code() -> None:
    assert oauth.check_callback(good(), "expected", META) == "the-code"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (good(state="forged"), "state does not match"),
        ({"code": "c", "iss": META.issuer}, "state does not match"),
        (good(state=""), "state does not match"),
        (good(iss="https://evil.example"), "another issuer"),
        ({"code": "c", "state": "expected"}, "no iss parameter"),
        ({"state": "expected", "iss": META.issuer}, "no authorization code"),
        (good(code=""), "no authorization code"),
        (
            {"error": "access_denied", "state": "expected", "iss": META.issuer},
            "refused the sign-in: access_denied",
        ),
        (
            {"error": "<script>x</script>", "state": "expected", "iss": META.issuer},
            "refused the sign-in: error",
        ),
    ],
)
def test_a_bad_callback_is_refused(params: dict[str, str], message: str) -> None:
    with pytest.raises(LoginError, match=message) as raised:
        oauth.check_callback(params, "expected", META)
    assert "the-code" not in str(raised.value)


def test_iss_is_optional_when_the_provider_does_not_promise_it() -> None:
    quiet = ProviderMetadata(META.issuer, META.authorization_endpoint, META.token_endpoint, False)
    assert oauth.check_callback({"code": "c", "state": "s"}, "s", quiet) == "c"
    with pytest.raises(LoginError, match="another issuer"):
        oauth.check_callback({"code": "c", "state": "s", "iss": "https://x"}, "s", quiet)


@pytest.mark.parametrize(
    "url",
    ["http://login.example.com", "ftp://127.0.0.1", "https://x/#frag", "", "javascript:alert(1)"],
)
def test_only_https_or_loopback_urls_are_used(url: str) -> None:
    with pytest.raises(LoginError):
        oauth.require_trusted(url, "issuer")


def test_metadata_naming_another_issuer_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    answer = {
        "issuer": "https://evil.example",
        "authorization_endpoint": "https://evil.example/auth",
        "token_endpoint": "https://evil.example/token",
    }
    monkeypatch.setattr(oauth, "_get_json", lambda url: answer)
    with pytest.raises(LoginError, match="another issuer"):
        oauth.discover("https://login.example.com")


def test_metadata_with_an_untrusted_endpoint_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    answer = {
        "issuer": "https://login.example.com",
        "authorization_endpoint": "https://login.example.com/auth",
        "token_endpoint": "http://login.example.com/token",  # a code over plain HTTP
    }
    monkeypatch.setattr(oauth, "_get_json", lambda url: answer)
    with pytest.raises(LoginError, match="token endpoint"):
        oauth.discover("https://login.example.com")


def test_discovery_falls_back_to_rfc_8414(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def get(url: str) -> object:
        asked.append(url)
        if "openid-configuration" in url:
            raise ValueError("not JSON")
        return {
            "issuer": "https://login.example.com/tenant",
            "authorization_endpoint": "https://login.example.com/tenant/auth",
            "token_endpoint": "https://login.example.com/tenant/token",
            "code_challenge_methods_supported": ["S256"],
        }

    monkeypatch.setattr(oauth, "_get_json", get)
    found = oauth.discover("https://login.example.com/tenant")
    assert found.token_endpoint == "https://login.example.com/tenant/token"
    assert asked == [
        "https://login.example.com/tenant/.well-known/openid-configuration",
        "https://login.example.com/.well-known/oauth-authorization-server/tenant",
    ]


def test_a_provider_without_s256_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    answer = {
        "issuer": "https://login.example.com",
        "authorization_endpoint": "https://login.example.com/auth",
        "token_endpoint": "https://login.example.com/token",
        "code_challenge_methods_supported": ["plain"],
    }
    monkeypatch.setattr(oauth, "_get_json", lambda url: answer)
    with pytest.raises(LoginError, match="S256"):
        oauth.discover("https://login.example.com")
