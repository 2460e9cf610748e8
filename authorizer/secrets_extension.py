"""Secrets Manager through AWS's Parameters and Secrets Lambda Extension, for cold start.

The extension (an AWS-made Lambda layer) answers `GET /secretsmanager/get?secretId=..&
versionStage=..` on `localhost:$PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`, authenticated by the
header `X-Aws-Parameters-Secrets-Token` carrying the function's `AWS_SESSION_TOKEN`, with the
`GetSecretValue` response as JSON (`SecretString`, `VersionId`, `VersionStages`,
`CreatedDate`). Reading a secret this way costs no boto3 import and client (about 180 ms of
the first HS256 or API-key call; docs/performance.md, figure 4).

Its cache is the catch: by default it keeps a secret for `SECRETS_MANAGER_TTL` = 300 s (at
most 300) keyed on what was asked, and there is no documented way to force a fresh read. The
authorizer's rotation rules rely on fresh reads (a forced re-read after an unknown kid or key
value; the revoked-key bound counts the store's own cache age only), so the extension is used
only with its cache off (`SECRETS_MANAGER_TTL=0`): every read reaches Secrets Manager, our
per-label cache (`authorizer.secret_store`) stays the only cache, and no bound changes
(docs/performance.md, "Secrets at cold start"; docs/security.md). With the port set but the
cache on, `client_from_environment` returns None and the caller uses boto3.

Errors are raised as botocore's, so that `shared.aws.translated` maps them as before: the code
named in the extension's error answer (`ResourceNotFoundException` is "absent"), anything
unrecognised as a non-retryable failure (fail closed), connection failures and timeouts as
botocore's connection errors. botocore is imported only on an error path.
"""

from __future__ import annotations

import http.client
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from authorizer.light_dynamodb import json_object

PORT_VARIABLE = "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"
TTL_VARIABLE = "SECRETS_MANAGER_TTL"
TOKEN_HEADER = "X-Aws-Parameters-Secrets-Token"
PATH = "/secretsmanager/get"
#: The largest answer read: a secret value is at most 64 KB (Secrets Manager quotas), plus
#: the JSON around it.
MAX_RESPONSE_BYTES = 256 * 1024
#: An AWS error code as the extension reports it, in JSON (`"__type"`) or in its text.
_CODE = re.compile(r"\b([A-Z][A-Za-z]*(?:Exception|Error|Fault))\b")
#: What an unrecognised error answer is reported as: a non-retryable refusal (fail closed).
UNKNOWN_ERROR_CODE = "ExtensionError"


def client_from_environment(
    env: Mapping[str, str], *, timeout: float
) -> ExtensionSecretsClient | None:
    """The extension client when the layer is configured (its port variable set, as the
    template sets it with the layer) with its cache off; None otherwise."""
    port = env.get(PORT_VARIABLE, "")
    if not port.isdigit() or not 0 < int(port) < 65536:
        return None
    if env.get(TTL_VARIABLE, "").strip() != "0":
        return None
    return ExtensionSecretsClient(int(port), env.get("AWS_SESSION_TOKEN", ""), timeout=timeout)


class ExtensionSecretsClient:
    """Duck-types the one boto3 method `SecretStore` calls, `get_secret_value`."""

    def __init__(self, port: int, session_token: str, *, timeout: float) -> None:
        self.port = port
        self._token = session_token
        self.timeout = timeout

    def __repr__(self) -> str:  # never print the session token
        return f"ExtensionSecretsClient(port={self.port})"

    def get_secret_value(self, *, SecretId: str, VersionStage: str = "AWSCURRENT") -> Any:
        query = urlencode({"secretId": SecretId, "versionStage": VersionStage})
        connection = http.client.HTTPConnection("localhost", self.port, timeout=self.timeout)
        try:
            connection.request("GET", f"{PATH}?{query}", headers={TOKEN_HEADER: self._token})
            response = connection.getresponse()
            status, data = response.status, response.read(MAX_RESPONSE_BYTES + 1)
        except TimeoutError as error:
            raise _transport_error("read_timeout", self.port) from error
        except (OSError, http.client.HTTPException) as error:
            raise _transport_error("connection", self.port) from error
        finally:
            connection.close()
        if status != 200:
            raise _client_error(_error_code(data), status)
        value = json_object(data) if len(data) <= MAX_RESPONSE_BYTES else None
        if value is None:
            raise _client_error(UNKNOWN_ERROR_CODE, status)
        value["CreatedDate"] = _created(value.get("CreatedDate"))
        return value


def _error_code(data: bytes) -> str:
    parsed = json_object(data)
    if parsed is not None and isinstance(parsed.get("__type"), str):
        return str(parsed["__type"]).rsplit("#", 1)[-1]
    found = _CODE.search(data[:4096].decode("utf-8", "replace"))
    return found.group(1) if found else UNKNOWN_ERROR_CODE


def _created(value: object) -> datetime | None:
    """`CreatedDate` as boto3 gives it (an aware datetime), from the RFC 3339 text or the epoch
    seconds the extension may answer with; None (the previous version then not honoured, fail
    closed) when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            created = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return created if created.tzinfo else created.replace(tzinfo=UTC)
    return None


def _client_error(code: str, status: int) -> Exception:
    from botocore.exceptions import ClientError  # noqa: PLC0415 - error path only

    response: Any = {
        "Error": {"Code": code, "Message": ""},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "GetSecretValue")


def _transport_error(kind: str, port: int) -> Exception:
    from botocore import exceptions  # noqa: PLC0415 - error path only

    url = f"http://localhost:{port}{PATH}"
    if kind == "read_timeout":
        return exceptions.ReadTimeoutError(endpoint_url=url)
    return exceptions.EndpointConnectionError(endpoint_url=url)
