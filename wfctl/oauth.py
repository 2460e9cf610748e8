"""The OAuth 2.0 client side of `wfctl login`: discovery, PKCE, the authorization request, and
the code and refresh-token grants (docs/wfctl.md, "Login").

Standard library only, on purpose: the operator command already ships with the layer's
dependencies, and what a public client needs here is small and fully specified (an S256 hash,
a URL, two form POSTs). Every step names the RFC section it follows, and every URL the client
is sent to or posts a code to is checked (https, or http on loopback only) before use.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from shared.settings import is_trusted_url

HTTP_TIMEOUT_SECONDS = 10
#: Bigger answers are not metadata or token responses.
MAX_ANSWER_BYTES = 65536
#: An OAuth error code is `%x20-21 / %x23-5B / %x5D-7E` (RFC 6749 section 5.2); we show less.
_ERROR_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class LoginError(Exception):
    """Signing in, refreshing or calling failed; the message is safe to print (no token)."""


class RefreshError(LoginError):
    """The refresh token was refused or has expired: the user must log in again."""


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    """What the client uses of RFC 8414 / OpenID Connect Discovery metadata."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    #: RFC 9207 section 3: the provider promises `iss` in every authorization response.
    iss_parameter_supported: bool


@dataclass(frozen=True, slots=True)
class Pkce:
    """RFC 7636: a high-entropy verifier (section 4.1) and its S256 challenge (section 4.2)."""

    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(64)  # 86 characters of [A-Za-z0-9_-], 512 bits
        return cls(verifier, s256(verifier))


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def safe_code(value: object) -> str:
    """An error code as we may print it (never free text from the other side)."""
    return value if isinstance(value, str) and _ERROR_CODE.fullmatch(value) else "error"


def require_trusted(url: object, what: str) -> str:
    if not isinstance(url, str) or not is_trusted_url(url) or urlsplit(url).fragment:
        raise LoginError(f"the {what} must be an https URL (http only on loopback)")
    return url


def _well_known(issuer: str, suffix: str) -> str:
    # RFC 8414 section 3.1: the well-known segment goes between the host and the issuer's path;
    # OpenID Connect Discovery 1.0 section 4 appends it to the issuer.
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    if suffix == "openid-configuration":
        return urlunsplit((parts.scheme, parts.netloc, f"{path}/.well-known/{suffix}", "", ""))
    return urlunsplit((parts.scheme, parts.netloc, f"/.well-known/{suffix}{path}", "", ""))


def _get_json(url: str) -> Any:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
        return json.loads(response.read(MAX_ANSWER_BYTES))


def discover(issuer: str) -> ProviderMetadata:
    """`/.well-known/openid-configuration`, then RFC 8414's `oauth-authorization-server`."""
    require_trusted(issuer, "issuer")
    issuer = issuer.rstrip("/")
    data: Any = None
    for suffix in ("openid-configuration", "oauth-authorization-server"):
        try:
            data = _get_json(_well_known(issuer, suffix))
            break
        except (urllib.error.URLError, TimeoutError, ValueError, OSError):
            continue
    if not isinstance(data, dict):
        raise LoginError(f"no OAuth metadata found for the issuer {issuer}")
    # RFC 8414 section 3.3 (OIDC Discovery 4.3): the metadata must name the issuer we asked.
    if str(data.get("issuer", "")).rstrip("/") != issuer:
        raise LoginError("the provider's metadata names another issuer")
    methods = data.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        raise LoginError("the provider does not support PKCE with S256")
    return ProviderMetadata(
        issuer=str(data["issuer"]),
        authorization_endpoint=require_trusted(
            data.get("authorization_endpoint"), "authorization endpoint"
        ),
        token_endpoint=require_trusted(data.get("token_endpoint"), "token endpoint"),
        iss_parameter_supported=data.get("authorization_response_iss_parameter_supported") is True,
    )


def authorization_url(
    metadata: ProviderMetadata,
    client_id: str,
    redirect_uri: str,
    scopes: Sequence[str],
    state: str,
    pkce: Pkce,
    resource: str | None = None,
) -> str:
    """RFC 6749 section 4.1.1 with RFC 7636 section 4.3 (and RFC 8707 `resource` if given)."""
    query: dict[str, str] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    }
    if "offline_access" in scopes:
        # OpenID Connect Core section 11: offline_access is honoured only with prompt=consent.
        query["prompt"] = "consent"
    if resource:
        query["resource"] = resource
    parts = urlsplit(metadata.authorization_endpoint)
    joined = f"{parts.query}&{urlencode(query)}" if parts.query else urlencode(query)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, joined, ""))


def check_callback(
    params: Mapping[str, str], expected_state: str, metadata: ProviderMetadata
) -> str:
    """The code of an authorization response, after checking it is the answer to our request
    (RFC 6749 section 10.12 `state`; RFC 9207 section 2.4 `iss`); raises `LoginError`."""
    if not secrets.compare_digest(params.get("state", "").encode(), expected_state.encode()):
        raise LoginError("the callback's state does not match this login: refused")
    iss = params.get("iss")
    if iss is not None and iss != metadata.issuer:
        raise LoginError("the callback names another issuer (RFC 9207): refused")
    if iss is None and metadata.iss_parameter_supported:
        raise LoginError("the callback has no iss parameter although the provider sends one")
    if "error" in params:
        raise LoginError(f"the provider refused the sign-in: {safe_code(params['error'])}")
    code = params.get("code", "")
    if not code:
        raise LoginError("the callback has no authorization code")
    return code


def _post_form(url: str, form: Mapping[str, str]) -> dict[str, Any]:
    """A token request (RFC 6749 section 3.2); raises `LoginError` with the error code only."""
    request = urllib.request.Request(  # noqa: S310 - URLs are checked by `require_trusted`
        require_trusted(url, "token endpoint"),
        data=urlencode(form).encode(),
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
            answer = json.loads(response.read(MAX_ANSWER_BYTES))
    except urllib.error.HTTPError as error:
        with error:
            try:
                code = safe_code(json.loads(error.read(4096)).get("error"))
            except (ValueError, AttributeError):
                code = "error"
        raise LoginError(f"the token endpoint answered {error.code} {code}") from None
    except (urllib.error.URLError, TimeoutError, ValueError, OSError) as error:
        raise LoginError(
            f"the token endpoint could not be reached: {type(error).__name__}"
        ) from None
    if not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str):
        raise LoginError("the token endpoint's answer has no access_token")
    token_type = str(answer.get("token_type", "")).lower()
    if token_type != "bearer":
        raise LoginError("the token endpoint issued a token type wfctl cannot use")
    return answer


def exchange_code(
    metadata: ProviderMetadata, client_id: str, code: str, redirect_uri: str, pkce: Pkce
) -> dict[str, Any]:
    """RFC 6749 section 4.1.3 for a public client (`client_id` in the body, no secret), with
    the PKCE verifier (RFC 7636 section 4.5)."""
    return _post_form(
        metadata.token_endpoint,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "code_verifier": pkce.verifier,
        },
    )


def refresh(token_endpoint: str, client_id: str, refresh_token: str) -> dict[str, Any]:
    """RFC 6749 section 6; a refusal (expired, revoked, reused) is a `RefreshError`."""
    try:
        return _post_form(
            token_endpoint,
            {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id},
        )
    except LoginError as error:
        raise RefreshError(f"{error}; the session has ended: log in again (wfctl login)") from None
