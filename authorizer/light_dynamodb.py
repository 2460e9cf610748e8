"""A minimal DynamoDB client (JSON protocol over `http.client`), for the authorizer's cold start.

Why hand-written: with the security table on (as deployed) the authorizer's first call must
read the table, and boto3's import plus a DynamoDB client cost about 150-190 ms in a fresh
process, `botocore.auth` alone 50-75 ms, against 24 ms for `http.client`, `hmac`, `hashlib` and
`json` (measured here; docs/performance.md, figure 4). That is more than the whole budget of
the first call (half the naive reference's import + first call). DynamoDB's JSON protocol is
small: a signed POST of the request parameters with an `X-Amz-Target` header, answered with
the response parameters, or an error whose `__type` names the code (DynamoDB developer guide,
"DynamoDB low-level API").

It offers the five methods the authorizer calls (`query`, `update_item`, `put_item`,
`get_item`, `batch_get_item`) with boto3's argument and response shapes (attribute values in
DynamoDB's JSON form, `ResponseMetadata` added), and behaves like a boto3 client built by
`shared.aws.client` where callers can tell: short connect and read timeouts, bounded retries
with exponential backoff and jitter on throttling, service errors and 5xx (the retryable codes
of `shared.aws`), and errors raised as botocore's `ClientError` (`error.response["Error"]
["Code"]` is the service's code) or its connection and timeout errors. botocore is imported
only on an error path. Not covered, because the security table needs none of it: binary
attributes (sent as base64 text, returned as base64 text rather than bytes), parameter
validation before the call, and credentials other than the environment's (a container without
`AWS_ACCESS_KEY_ID` gets boto3: `from_environment` returns None).

Credentials, signatures and request bodies are never logged or put into an error.
"""

from __future__ import annotations

import base64
import http.client
import json
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from authorizer.sigv4 import Credentials, sign_post
from shared.aws import RETRYABLE_CODES

SERVICE = "dynamodb"
TARGET_PREFIX = "DynamoDB_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"
#: HTTP statuses retried like botocore's standard mode (a gateway or the service failing).
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
#: Exponential backoff: at most `BACKOFF_BASE * 2**attempt` seconds (full jitter), capped.
BACKOFF_BASE = 0.025
BACKOFF_CAP = 0.5
#: Largest answer read (a page of a `Query` is at most 1 MB of items, plus JSON overhead).
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
#: A region name is one DNS label, as botocore requires (`validate_region_name`): the region
#: goes into the endpoint's host name, and `us-east-1.evil.example/#` would move the host.
_REGION = re.compile(r"(?![0-9]+\Z)(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def endpoint_from_environment(env: Mapping[str, str], region: str) -> str:
    """The endpoint boto3 would use: `AWS_ENDPOINT_URL_DYNAMODB`, then `AWS_ENDPOINT_URL`
    (unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true), then the regional endpoint."""
    if env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() != "true":
        for name in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"):
            if env.get(name):
                return env[name]
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://dynamodb.{region}.{suffix}"


class LightDynamoDB:
    """boto3-shaped DynamoDB calls over one kept-alive connection (guarded by a lock)."""

    def __init__(
        self,
        *,
        endpoint: str,
        region: str,
        credentials: Credentials,
        connect_timeout: float,
        read_timeout: float,
        max_retries: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("DynamoDB endpoint must be an http(s) URL")
        self.endpoint = endpoint
        self.region = region
        self._credentials = credentials
        self._https = parts.scheme == "https"
        self._hostname = parts.hostname
        default_port = 443 if self._https else 80
        self._port = parts.port or default_port
        # As botocore signs it: the port only when it is not the scheme's default.
        self._host = self._hostname if self._port == default_port else f"{parts.netloc}"
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_retries = max_retries
        self._sleep = sleep
        self._connection: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_environment(
        cls,
        env: Mapping[str, str],
        *,
        connect_timeout: float,
        read_timeout: float,
        max_retries: int,
    ) -> LightDynamoDB | None:
        """A client from the Lambda environment's credentials and region, or None when they
        are not all there (the caller then builds a boto3 client, which knows other sources)."""
        access_key = env.get("AWS_ACCESS_KEY_ID")
        secret_key = env.get("AWS_SECRET_ACCESS_KEY")
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        if not access_key or not secret_key or not region:
            return None
        if not _REGION.fullmatch(region):
            # boto3 then refuses it (InvalidRegionError): never a request to another host.
            return None
        credentials = Credentials(access_key, secret_key, env.get("AWS_SESSION_TOKEN") or None)
        return cls(
            endpoint=endpoint_from_environment(env, region),
            region=region,
            credentials=credentials,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_retries=max_retries,
        )

    # --- the methods the authorizer calls, named and shaped as boto3's ------------------------

    def query(self, **params: Any) -> dict[str, Any]:
        return self._call("Query", params)

    def update_item(self, **params: Any) -> dict[str, Any]:
        return self._call("UpdateItem", params)

    def put_item(self, **params: Any) -> dict[str, Any]:
        return self._call("PutItem", params)

    def get_item(self, **params: Any) -> dict[str, Any]:
        return self._call("GetItem", params)

    def batch_get_item(self, **params: Any) -> dict[str, Any]:
        return self._call("BatchGetItem", params)

    def close(self) -> None:
        with self._lock:
            self._drop()

    def __del__(self) -> None:
        # A container's client lives as long as the process; a discarded one (tests, a
        # rebuilt authorizer) closes its socket rather than leaving it to the collector.
        connection = getattr(self, "_connection", None)
        if connection is not None:
            connection.close()

    # --- the protocol -------------------------------------------------------------------------

    def _call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        body = json.dumps(params, separators=(",", ":"), default=_encode_bytes).encode("utf-8")
        failure: tuple[str, BaseException] | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                self._sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)))  # noqa: S311 - jitter, not security
            try:
                status, headers, data = self._send(operation, body)
            except _TransportError as error:
                failure = (error.kind, error)
                continue
            parsed = json_object(data)
            metadata = {
                "RequestId": headers.get("x-amzn-requestid", ""),
                "HTTPStatusCode": status,
                "HTTPHeaders": headers,
                "RetryAttempts": attempt,
            }
            if 200 <= status < 300:
                if parsed is None:
                    raise _client_error(operation, "InvalidResponse", status, metadata, {})
                return {**parsed, "ResponseMetadata": metadata}
            code = _error_code(parsed, headers) or str(status)
            if (code in RETRYABLE_CODES or status in RETRYABLE_STATUSES) and (
                attempt < self.max_retries
            ):
                continue
            raise _client_error(operation, code, status, metadata, parsed or {})
        # Every attempt failed in transport (the loop runs at least once).
        kind, cause = failure if failure is not None else ("connection", None)
        raise _transport_exception(kind, self.endpoint) from cause

    def _send(self, operation: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        headers = sign_post(
            credentials=self._credentials,
            region=self.region,
            service=SERVICE,
            host=self._host,
            headers={"Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET_PREFIX + operation},
            body=body,
        )
        headers["Content-Length"] = str(len(body))
        with self._lock:
            connection = self._connect()
            try:
                connection.request("POST", "/", body=body, headers=headers)
                response = connection.getresponse()
                data = response.read(MAX_RESPONSE_BYTES + 1)
            except TimeoutError as error:
                self._drop()
                raise _TransportError("read_timeout") from error
            except (OSError, http.client.HTTPException) as error:
                self._drop()
                raise _TransportError("connection") from error
            if len(data) > MAX_RESPONSE_BYTES or response.getheader("Connection") == "close":
                self._drop()
            answer = {name.lower(): value for name, value in response.getheaders()}
            return response.status, answer, data

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is not None:
            return self._connection
        connection: http.client.HTTPConnection
        if self._https:
            connection = http.client.HTTPSConnection(
                self._hostname, self._port, timeout=self.connect_timeout
            )
        else:
            connection = http.client.HTTPConnection(
                self._hostname, self._port, timeout=self.connect_timeout
            )
        try:
            connection.connect()
        except TimeoutError as error:
            connection.close()
            raise _TransportError("connect_timeout") from error
        except OSError as error:
            connection.close()
            raise _TransportError("connection") from error
        if connection.sock is not None:
            connection.sock.settimeout(self.read_timeout)
        self._connection = connection
        return connection

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class _TransportError(Exception):
    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def _encode_bytes(value: object) -> str:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def json_object(data: bytes) -> dict[str, Any] | None:
    """A JSON object answer, or None for anything else (also what the Secrets extension
    client reads its answers with)."""
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _error_code(parsed: Mapping[str, Any] | None, headers: Mapping[str, str]) -> str:
    """The error code of a JSON-protocol answer: `__type` (`prefix#Code`) or the
    `x-amzn-ErrorType` header (`Code:detail`)."""
    raw = ""
    if parsed is not None and isinstance(parsed.get("__type"), str):
        raw = parsed["__type"]
    elif headers.get("x-amzn-errortype"):
        raw = headers["x-amzn-errortype"].split(":", 1)[0]
    return raw.rsplit("#", 1)[-1]


def _client_error(
    operation: str,
    code: str,
    status: int,
    metadata: dict[str, Any],
    parsed: Mapping[str, Any],
) -> Exception:
    from botocore.exceptions import ClientError  # noqa: PLC0415 - error path only

    message = parsed.get("message", parsed.get("Message", ""))
    extra = {k: v for k, v in parsed.items() if k not in ("__type", "message", "Message")}
    response: Any = {
        **extra,
        "Error": {"Code": code, "Message": str(message)},
        "ResponseMetadata": {**metadata, "HTTPStatusCode": status},
    }
    return ClientError(response, operation)


def _transport_exception(kind: str, endpoint: str) -> Exception:
    from botocore import exceptions  # noqa: PLC0415 - error path only

    if kind == "connect_timeout":
        return exceptions.ConnectTimeoutError(endpoint_url=endpoint)
    if kind == "read_timeout":
        return exceptions.ReadTimeoutError(endpoint_url=endpoint)
    return exceptions.EndpointConnectionError(endpoint_url=endpoint)
