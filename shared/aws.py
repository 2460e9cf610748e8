"""The AWS boundary: the one place that builds boto3 clients and the one translator from
botocore errors to the caller's domain errors.

Every function, the admin code and the authorizer build their clients with `client()`, so
every call has a short connect and read timeout and botocore's `standard` retry mode
(exponential backoff with jitter, a retry quota; AWS SDK guide, "Retry behavior"). Nothing
from botocore crosses `translated()`: a caller names its own error classes, and gets one of
them, with the AWS error code as the detail for its log.

boto3 and botocore are imported on first use, never at import time: a path that makes no AWS
call (the OAuth path of the authorizer, the echo endpoints) never pays about 0.3 s for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

#: Error codes meaning "slow down, or try again soon": throttling, quotas, and the services'
#: own availability errors (DynamoDB, Secrets Manager, Step Functions). Anything else is a
#: refusal that retrying will not fix.
RETRYABLE_CODES: frozenset[str] = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "KmsThrottlingException",
        "ExecutionLimitExceeded",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalServerError",
        "InternalServiceError",
    }
)

#: What a handler waits for at most per attempt, in seconds (an API answer has seconds, not
#: boto3's default 60), and how many times a failed call is retried after the first.
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 5.0
MAX_RETRIES = 3

ErrorFactory = Callable[[str], Exception]


def client(
    service: str,
    *,
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
    max_retries: int = MAX_RETRIES,
) -> Any:
    """A boto3 client for `service` with short timeouts and the standard retry mode.

    Region, credentials and `AWS_ENDPOINT_URL` (the local run) come from boto3's usual
    configuration. Typed `Any` so that callers annotate with their service's stub type.
    """
    import boto3  # noqa: PLC0415 - import cost, see the module docstring
    from botocore.config import Config  # noqa: PLC0415

    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        # botocore's `max_attempts` counts the retries after the first call.
        retries={"mode": "standard", "max_attempts": max_retries},
    )
    return boto3.client(service, config=config)  # type: ignore[call-overload]


def error_code(error: BaseException) -> str:
    """The AWS error code of a botocore `ClientError` (`""` for anything else)."""
    response = getattr(error, "response", None)
    if not isinstance(response, Mapping):
        return ""
    details = response.get("Error")
    return str(details.get("Code", "")) if isinstance(details, Mapping) else ""


@contextmanager
def translated(
    service: str,
    *,
    busy: ErrorFactory,
    failed: ErrorFactory,
    known: Mapping[str, ErrorFactory] | None = None,
) -> Iterator[None]:
    """Run AWS calls, turning every botocore error into one of the caller's errors.

    - `known[code]`: what a specific error code means for this call (a missing resource, a
      conflict);
    - `busy`: a retryable code (`RETRYABLE_CODES`), or the service could not be reached
      (timeouts, connection errors): retrying later may work;
    - `failed`: any other refusal.

    Each factory gets a detail for the log (`"<service> <code>"`), never a request parameter.
    """
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        detail = f"{service} {code or 'error'}"
        if known and code in known:
            raise known[code](detail) from exc
        if code in RETRYABLE_CODES:
            raise busy(detail) from exc
        raise failed(detail) from exc
    except BotoCoreError as exc:
        raise busy(f"{service} unreachable: {type(exc).__name__}") from exc


@dataclass(frozen=True, slots=True)
class Boundary:
    """One AWS service as one capability sees it: its client, and its errors in the
    capability's terms. A capability declares one per service it calls::

        STEP_FUNCTIONS = aws.Boundary("stepfunctions", "Step Functions",
                                      busy=DependencyBusyError, failed=DependencyFailedError)

        with STEP_FUNCTIONS.translated(ExecutionDoesNotExist=RunNotFoundError):
            client.describe_execution(...)
    """

    service: str
    """boto3's name of the service (`"stepfunctions"`)."""
    label: str
    """How log details name it (`"Step Functions"`)."""
    busy: ErrorFactory
    failed: ErrorFactory

    def client(self, **timeouts: Any) -> Any:
        return client(self.service, **timeouts)

    def translated(self, **known: ErrorFactory) -> AbstractContextManager[None]:
        return translated(self.label, busy=self.busy, failed=self.failed, known=known)
