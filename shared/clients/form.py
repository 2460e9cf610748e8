"""Reading a token request (RFC 6749 section 4.4.2): the form body and the client's credential.

Everything here is done before any AWS call and never echoes input: a refusal names a stable
reason only. The body is `application/x-www-form-urlencoded` (RFC 6749 Appendix B), at most
`MAX_BODY_BYTES`; a known parameter given twice is refused (RFC 6749 section 3.2: "Request and
response parameters MUST NOT be included more than once"); a parameter sent without a value is
treated as omitted (same section).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import parse_qsl, unquote_plus

from shared.clients.errors import (
    InvalidClientError,
    MalformedTokenRequestError,
    UnsupportedGrantTypeError,
)

MAX_BODY_BYTES = 16 * 1024
MAX_FIELDS = 32
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
#: RFC 7523 section 2.2.
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLIENT_CREDENTIALS = "client_credentials"
KNOWN_PARAMETERS: tuple[str, ...] = (
    "grant_type", "scope", "client_id", "client_secret", "client_assertion_type",
    "client_assertion",
)  # fmt: skip
#: An `Authorization` value longer than this is no client id and secret of ours.
MAX_AUTHORIZATION_LENGTH = 1024
_BASIC = re.compile(r"[Bb][Aa][Ss][Ii][Cc] ([A-Za-z0-9+/]+={0,2})")


class AuthMethod(StrEnum):
    """RFC 8414's names of the three client authentication methods."""

    BASIC = "client_secret_basic"
    POST = "client_secret_post"
    PRIVATE_KEY_JWT = "private_key_jwt"


@dataclass(frozen=True, slots=True)
class TokenHttpRequest:
    """What the token function hands over of its HTTP request."""

    body: str | None
    is_base64_encoded: bool
    content_types: Sequence[str]
    authorizations: Sequence[str] = field(repr=False)
    source_ip: str
    request_id: str
    endpoint_url: str
    """The token endpoint's absolute URL (an assertion's `aud` may name it, a DPoP proof's
    `htu` must)."""
    dpop_proofs: Sequence[str] = field(default=(), repr=False)
    """Every `DPoP` header value (RFC 9449 section 5): one valid proof binds the token."""


@dataclass(frozen=True, slots=True)
class TokenForm:
    grant_type: str | None = None
    scope: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    client_assertion_type: str | None = None
    client_assertion: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class PresentedClient:
    """The one authentication method of a request and what it presented (nothing verified)."""

    method: AuthMethod
    client_id: str | None
    """None only for private_key_jwt without `client_id` (the assertion's `iss` says who)."""
    secret: str | None = field(default=None, repr=False)
    assertion: str | None = field(default=None, repr=False)

    @property
    def basic_tried(self) -> bool:
        return self.method is AuthMethod.BASIC


def read_form(request: TokenHttpRequest) -> TokenForm:
    """The body as a form: content type, size, encoding, duplicates."""
    if len(request.content_types) != 1:
        raise MalformedTokenRequestError("content_type")
    media_type = request.content_types[0].split(";", 1)[0].strip().lower()
    if media_type != FORM_MEDIA_TYPE:
        raise MalformedTokenRequestError("content_type")
    raw = request.body or ""
    limit = MAX_BODY_BYTES * 4 // 3 + 4 if request.is_base64_encoded else MAX_BODY_BYTES
    if len(raw) > limit:
        raise MalformedTokenRequestError("body_too_large")
    try:
        text = (
            base64.b64decode(raw, validate=True).decode("utf-8")
            if request.is_base64_encoded
            else raw
        )
    except (binascii.Error, UnicodeDecodeError):
        raise MalformedTokenRequestError("body_encoding") from None
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES:
        raise MalformedTokenRequestError("body_too_large")
    if not text:
        raise MalformedTokenRequestError("missing_grant_type")
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except (ValueError, UnicodeDecodeError):
        raise MalformedTokenRequestError("body_syntax") from None
    values: dict[str, str] = {}
    for name, value in pairs:
        if name not in KNOWN_PARAMETERS:
            continue  # RFC 6749 section 3.2: unrecognized parameters are ignored
        if name in values:
            raise MalformedTokenRequestError("repeated_parameter")
        values[name] = value
    present = {name: value for name, value in values.items() if value != ""}
    return TokenForm(**present)


def parse_basic(value: str) -> tuple[str, str]:
    """Client id and secret of an `Authorization: Basic` value (RFC 6749 section 2.3.1: both
    form-url-encoded, then joined by `:` and base64-encoded as RFC 7617 says)."""
    if len(value) > MAX_AUTHORIZATION_LENGTH:
        raise InvalidClientError("malformed_basic", basic_tried=True)
    found = _BASIC.fullmatch(value)
    if not found:
        raise InvalidClientError("unsupported_authorization_scheme", basic_tried=True)
    try:
        text = base64.b64decode(found.group(1), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClientError("malformed_basic", basic_tried=True) from None
    user, colon, password = text.partition(":")
    if not colon:
        raise InvalidClientError("malformed_basic", basic_tried=True)
    try:
        client_id = unquote_plus(user, errors="strict")
        secret = unquote_plus(password, errors="strict")
    except UnicodeDecodeError:
        raise InvalidClientError("malformed_basic", basic_tried=True) from None
    if not client_id or not secret:
        raise InvalidClientError("malformed_basic", basic_tried=True)
    return client_id, secret


def presented_client(form: TokenForm, authorizations: Sequence[str]) -> PresentedClient:
    """The request's one client authentication method (RFC 6749 section 2.3: "MUST NOT use more
    than one authentication method in each request")."""
    if len(authorizations) > 1:
        raise MalformedTokenRequestError("repeated_authorization")
    used = [
        name
        for name, present in (
            ("basic", bool(authorizations)),
            ("post", form.client_secret is not None),
            ("assertion", form.client_assertion is not None),
        )
        if present
    ]
    if len(used) > 1:
        raise MalformedTokenRequestError("two_authentication_methods")
    if not used:
        raise InvalidClientError("no_client_authentication")
    if used == ["basic"]:
        client_id, secret = parse_basic(authorizations[0])
        if form.client_id is not None and form.client_id != client_id:
            raise MalformedTokenRequestError("client_id_mismatch")
        return PresentedClient(AuthMethod.BASIC, client_id, secret=secret)
    if used == ["post"]:
        if form.client_id is None:
            raise MalformedTokenRequestError("missing_client_id")
        return PresentedClient(AuthMethod.POST, form.client_id, secret=form.client_secret)
    if form.client_assertion_type is None:
        raise MalformedTokenRequestError("missing_client_assertion_type")
    if form.client_assertion_type != ASSERTION_TYPE:
        raise InvalidClientError("unsupported_assertion_type")
    return PresentedClient(
        AuthMethod.PRIVATE_KEY_JWT, form.client_id, assertion=form.client_assertion
    )


def check_grant(form: TokenForm) -> None:
    if form.grant_type is None:
        raise MalformedTokenRequestError("missing_grant_type")
    if form.grant_type != CLIENT_CREDENTIALS:
        raise UnsupportedGrantTypeError("unsupported_grant_type")
