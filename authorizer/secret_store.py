"""Secrets Manager reads, cached per (secret, staging label).

Why not Powertools' `SecretsProvider`: its cache is keyed on the secret name only, so AWSCURRENT
and AWSPREVIOUS would overwrite each other, and it returns the value without the version's
`CreatedDate`, which the API key grace window counts from. This store keeps one entry per
label, honours `POWERTOOLS_PARAMETERS_MAX_AGE`, bounds its size, and creates the boto3 client
(about 0.3 s of imports) only when a path first needs it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from authorizer.errors import DependencyError

CURRENT = "AWSCURRENT"
PREVIOUS = "AWSPREVIOUS"

#: Secrets Manager error codes that mean "this secret (version) does not exist for callers".
_ABSENT = frozenset({"ResourceNotFoundException", "InvalidRequestException"})


@dataclass(frozen=True, slots=True)
class SecretVersion:
    secret_string: str
    version_id: str
    created: datetime | None


def default_client() -> Any:
    """A Secrets Manager client with short timeouts (an authorizer has seconds, not minutes)."""
    import boto3  # noqa: PLC0415 - deferred: the OAuth path never pays for boto3's import
    from botocore.config import Config  # noqa: PLC0415

    config = Config(connect_timeout=2, read_timeout=2, retries={"max_attempts": 2})
    return boto3.client("secretsmanager", config=config)


class SecretStore:
    """Fetches secret versions by staging label, with a bounded per-label TTL cache."""

    def __init__(
        self,
        max_age: float,
        client_factory: Callable[[], Any] = default_client,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 1024,
    ) -> None:
        self._max_age = max_age
        self._client_factory = client_factory
        self._client: Any = None
        self._clock = clock
        self._max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str], tuple[float, SecretVersion | None]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, secret_id: str, stage: str, *, refresh: bool = False) -> SecretVersion | None:
        """The version labelled `stage`, or None when the secret or label does not exist."""
        key = (secret_id, stage)
        now = self._clock()
        cached = self._entries.get(key)
        if cached is not None and not refresh and now - cached[0] < self._max_age:
            return cached[1]
        version = self._fetch(secret_id, stage)
        with self._lock:
            self._entries[key] = (now, version)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return version

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _fetch(self, secret_id: str, stage: str) -> SecretVersion | None:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        try:
            if self._client is None:
                self._client = self._client_factory()
            response = self._client.get_secret_value(SecretId=secret_id, VersionStage=stage)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _ABSENT:
                return None
            raise DependencyError("secrets_unavailable") from None
        except BotoCoreError:
            raise DependencyError("secrets_unavailable") from None
        secret_string = response.get("SecretString")
        if not isinstance(secret_string, str):
            raise DependencyError("secret_not_string")
        return SecretVersion(
            secret_string, response.get("VersionId", ""), response.get("CreatedDate")
        )
