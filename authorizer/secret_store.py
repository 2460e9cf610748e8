"""Secrets Manager reads, cached per (secret, staging label).

Why not Powertools' `SecretsProvider`: its cache is keyed on the secret name only, so AWSCURRENT
and AWSPREVIOUS would overwrite each other, and it returns the value without the version's
`CreatedDate`, which the API key grace window counts from. This store keeps one entry per
label, honours `POWERTOOLS_PARAMETERS_MAX_AGE`, bounds its size, and creates the boto3 client
(about 0.3 s of imports) only when a path first needs it.

The client comes from the AWS boundary (`shared.aws`), with shorter timeouts than a handler's:
an authorizer has seconds, and API Gateway waits for it on every uncached request. Errors are
translated there too: a missing secret or label is "no such version", anything else is
`DependencyError("secrets_unavailable")` (fail closed).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from authorizer.errors import DependencyError

if TYPE_CHECKING:
    from shared.aws import ErrorFactory

SERVICE = "secretsmanager"
#: Seconds per attempt, and botocore's `max_attempts` (retries after the first call, in the
#: standard retry mode): as before the AWS boundary existed.
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 2.0
MAX_RETRIES = 2


class _AbsentError(Exception):
    """The secret, or the version with that label, does not exist for callers."""


def _absent(_detail: str) -> Exception:
    return _AbsentError()


def _unavailable(_detail: str) -> Exception:
    return DependencyError("secrets_unavailable")


#: Secrets Manager error codes that mean "this secret (version) does not exist for callers"
#: (a deleted secret answers `InvalidRequestException`).
_ABSENT: dict[str, ErrorFactory] = dict.fromkeys(
    ("ResourceNotFoundException", "InvalidRequestException"), _absent
)


@dataclass(frozen=True, slots=True)
class SecretVersion:
    secret_string: str
    version_id: str
    created: datetime | None

    def age_seconds(self, now: float, skew: int) -> float | None:
        """Seconds since `CreatedDate` (a naive date is UTC), or None when it is unknown or
        more than `skew` in the future: the AWSPREVIOUS and grace windows count from it, and a
        date from a stepped clock or a misread answer must not hold them open (fail closed)."""
        if self.created is None:
            return None
        created = self.created
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        age = now - created.timestamp()
        return None if age < -skew else age


def default_client() -> Any:
    """A Secrets Manager client with the authorizer's short timeouts, built on first use: the
    OAuth path never pays for it. Where the template installs AWS's Parameters and Secrets
    Lambda Extension with its cache off, secrets are read through it (no boto3 at all:
    `authorizer.secrets_extension`); elsewhere (tests, the local run) through boto3 from the
    AWS boundary. The extension's variables are read here, as boto3 reads its own."""
    import os  # noqa: PLC0415

    from authorizer.secrets_extension import client_from_environment  # noqa: PLC0415

    extension = client_from_environment(os.environ, timeout=CONNECT_TIMEOUT + READ_TIMEOUT)
    if extension is not None:
        return extension
    from shared import aws  # noqa: PLC0415

    return aws.client(
        SERVICE,
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        max_retries=MAX_RETRIES,
    )


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
        from shared import aws  # noqa: PLC0415 - a cache miss only; see `default_client`

        try:
            with aws.translated(SERVICE, busy=_unavailable, failed=_unavailable, known=_ABSENT):
                if self._client is None:
                    self._client = self._client_factory()
                response = self._client.get_secret_value(SecretId=secret_id, VersionStage=stage)
        except _AbsentError:
            return None
        secret_string = response.get("SecretString")
        if not isinstance(secret_string, str):
            raise DependencyError("secret_not_string")
        return SecretVersion(
            secret_string, response.get("VersionId", ""), response.get("CreatedDate")
        )
