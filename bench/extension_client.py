"""Prototype: Secrets Manager through AWS's Parameters and Secrets Lambda Extension.

The extension (a Lambda layer) serves cached secrets on localhost:2773; a GET with the
function's session token replaces boto3's import (~0.3 s) and client creation on the first
call. This duck-types the one boto3 method `SecretStore` uses, so it can be passed as
`SecretStore(client_factory=...)`; the proposal in the benchmark's report is to use it when the
extension is present and fall back to boto3 otherwise. Benchmark code, not deployed.
"""

from __future__ import annotations

from typing import Any

EXTENSION_PORT_VARIABLE = "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"


class ExtensionSecretsClient:
    def __init__(self) -> None:
        import os  # noqa: PLC0415 - keep this module's import free

        port = os.environ.get(EXTENSION_PORT_VARIABLE, "2773")
        self._base = f"http://localhost:{port}/secretsmanager/get"
        self._token = os.environ.get("AWS_SESSION_TOKEN", "")

    def get_secret_value(self, SecretId: str, VersionStage: str = "AWSCURRENT") -> Any:
        import json  # noqa: PLC0415
        import urllib.error  # noqa: PLC0415
        import urllib.parse  # noqa: PLC0415
        import urllib.request  # noqa: PLC0415
        from datetime import datetime  # noqa: PLC0415

        query = urllib.parse.urlencode({"secretId": SecretId, "versionStage": VersionStage})
        request = urllib.request.Request(  # noqa: S310 - loopback only
            f"{self._base}?{query}", headers={"X-Aws-Parameters-Secrets-Token": self._token}
        )
        try:
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
                value: dict[str, Any] = json.loads(response.read())
        except urllib.error.HTTPError as error:
            from botocore.exceptions import ClientError  # noqa: PLC0415 - error path only

            code = "ResourceNotFoundException" if error.code == 400 else "ServiceUnavailable"
            raise ClientError({"Error": {"Code": code}}, "GetSecretValue") from None
        if isinstance(value.get("CreatedDate"), str):
            value["CreatedDate"] = datetime.fromisoformat(value["CreatedDate"])
        return value
