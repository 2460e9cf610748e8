"""Token-service clients from the operator's seat: rotating a secret now, and getting a token
through the token endpoint (never with the signing key: that is `wfctl mint-token`, break-glass).

Registering, listing and revoking go through `shared.clients.ClientAdmin`, the code of the admin
endpoints (see `wfctl.__main__`).
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from shared.clients import parse_client_id
from shared.secret_formats import AWSCURRENT, ClientRecord, client_secret_name
from shared.settings import is_trusted_url
from wfctl.dpop import DpopKey

TOKEN_TIMEOUT_SECONDS = 10


class ClientError(ValueError):
    """The request cannot be done: the client is unknown, revoked or has no secret, or the
    token endpoint refused."""


def rotate(client: Any, prefix: str, client_id: str) -> ClientRecord:
    """A new secret for the client now; the old one keeps working for the grace window."""
    parse_client_id(client_id)
    name = client_secret_name(prefix, client_id)
    try:
        current = ClientRecord.parse(
            client.get_secret_value(SecretId=name, VersionStage=AWSCURRENT)["SecretString"]
        )
    except client.exceptions.ResourceNotFoundException:
        raise ClientError(f"no client {client_id}") from None
    if current.revoked:
        raise ClientError(f"client {client_id} is revoked")
    if current.client_secret is None:
        raise ClientError(f"client {client_id} has keys only: no secret to rotate")
    record = current.with_new_secret()
    client.put_secret_value(
        SecretId=name, SecretString=record.to_secret_string(), VersionStages=[AWSCURRENT]
    )
    return record


def request_token(
    token_endpoint: str,
    client_id: str,
    client_secret: str,
    scopes: Sequence[str] = (),
    dpop_key: DpopKey | None = None,
) -> dict[str, Any]:
    """RFC 6749 section 4.4 with client_secret_basic: the token endpoint's JSON answer.

    With `dpop_key`, the request carries a proof for POST to the token endpoint and the token
    must come back bound to that key (RFC 9449 section 5: `token_type` DPoP); a bearer answer
    is refused rather than used as if it were bound.
    """
    if not is_trusted_url(token_endpoint) or urlsplit(token_endpoint).query:
        raise ClientError("the token endpoint must be an https URL (http only on loopback)")
    form: dict[str, str] = {"grant_type": "client_credentials"}
    if scopes:
        form["scope"] = " ".join(scopes)
    # RFC 6749 section 2.3.1: id and secret are form-url-encoded before Basic encoding.
    credentials = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
        "Authorization": "Basic " + base64.b64encode(credentials.encode()).decode(),
    }
    if dpop_key is not None:
        headers["DPoP"] = dpop_key.proof("POST", token_endpoint)
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        token_endpoint, data=urlencode(form).encode(), method="POST", headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=TOKEN_TIMEOUT_SECONDS) as response:  # noqa: S310
            answer: dict[str, Any] = json.loads(response.read(65536))
    except urllib.error.HTTPError as error:
        try:
            code = json.loads(error.read(4096)).get("error", "error")
        except ValueError:
            code = "error"
        raise ClientError(f"the token endpoint answered {error.code} {code}") from None
    except (urllib.error.URLError, TimeoutError, ValueError) as error:
        raise ClientError(
            f"the token endpoint could not be reached: {type(error).__name__}"
        ) from None
    if not isinstance(answer.get("access_token"), str):
        raise ClientError("the token endpoint's answer has no access_token")
    if dpop_key is not None and str(answer.get("token_type", "")).lower() != "dpop":
        raise ClientError("the token endpoint did not bind the token to the DPoP key")
    return answer
