"""Loopback services for the first-call and network figures: moto's Secrets Manager and
DynamoDB (the security table), a JWKS endpoint, and a stand-in for AWS's Parameters and Secrets
Lambda Extension.

Everything binds 127.0.0.1 on an ephemeral port and stops with the benchmark.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench import fixtures
from bench.fixtures import Keys
from tests.helpers import create_security_table


@dataclass
class Loopback:
    moto_url: str
    jwks_url: str
    extension_port: int
    jwks_hits: list[int]
    api_key: str


class _JsonHandler(BaseHTTPRequestHandler):
    routes: dict[str, Any] = {}  # noqa: RUF012 - set per server class below
    hits: list[int] = []  # noqa: RUF012

    def do_GET(self) -> None:
        self.hits.append(1)
        body = self.routes.get(urllib.parse.urlsplit(self.path).path)
        if body is None:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def _extension_handler(client: Any) -> type:
    """The extension's HTTP contract, configured as the template deploys it (its cache off,
    `SECRETS_MANAGER_TTL=0`): GET /secretsmanager/get?secretId=..&versionStage=.. with the
    session token header; each request is one `GetSecretValue` against moto, answered as JSON
    (`CreatedDate` as RFC 3339 text) or as the extension's error text with status 400."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            from botocore.exceptions import ClientError  # noqa: PLC0415

            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            token_ok = self.headers.get("X-Aws-Parameters-Secrets-Token") == "testing"
            if url.path != "/secretsmanager/get" or not token_ok:
                self.send_error(403 if not token_ok else 404)
                return
            secret_id = query.get("secretId", [""])[0]
            stage = query.get("versionStage", ["AWSCURRENT"])[0]
            try:
                value = dict(client.get_secret_value(SecretId=secret_id, VersionStage=stage))
            except ClientError as error:
                code = error.response["Error"]["Code"]
                data = f"GetSecretValue, https response error StatusCode: 400, {code}".encode()
                self.send_response(400)
            else:
                value.pop("ResponseMetadata", None)
                value["CreatedDate"] = value["CreatedDate"].isoformat()
                data = json.dumps(value).encode()
                self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


def _serve(handler: type) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@contextmanager
def loopback(keys: Keys) -> Iterator[Loopback]:
    """moto server with the signing secret and one API key, a JWKS server, an extension."""
    import boto3  # noqa: PLC0415
    from moto.server import ThreadedMotoServer  # noqa: PLC0415

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request log lines
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    moto_url = f"http://{host}:{port}"
    client = boto3.client(
        "secretsmanager",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    signing = fixtures.signing_secret_string(keys)
    client.create_secret(Name=fixtures.JWT_SECRET_ID, SecretString=signing)
    api_key, name, record = fixtures.api_key_record()
    client.create_secret(Name=name, SecretString=record)
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    # The security table as template.yaml declares it (its indexes hold the snapshot).
    create_security_table(dynamodb, fixtures.SECURITY_TABLE)

    hits: list[int] = []
    jwks_handler = type("Jwks", (_JsonHandler,), {"routes": {"/jwks": keys.jwks}, "hits": hits})
    jwks_server = _serve(jwks_handler)
    extension = _serve(_extension_handler(client))
    try:
        yield Loopback(
            moto_url=moto_url,
            jwks_url=f"http://127.0.0.1:{jwks_server.server_address[1]}/jwks",
            extension_port=int(extension.server_address[1]),
            jwks_hits=hits,
            api_key=api_key,
        )
    finally:
        jwks_server.shutdown()
        extension.shutdown()
        moto.stop()
