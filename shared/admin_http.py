"""HTTP side of the admin endpoints: the one place that maps their errors to statuses.

Bodies are fixed and generic; the reason goes to the log only (cookbook
`rest_api_resolver.py`). Each admin function builds its resolver here, so the three answer
alike.
"""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit

from shared.api_key_admin import (
    AdminError,
    AdminSettings,
    ApiKeyAdmin,
    BackendError,
    InvalidRequestError,
    KeyNotFoundError,
    NotAdminError,
    RotationInProgressError,
    require_route,
)
from shared.caller import Caller, MissingCallerError
from shared.observability import logger, metrics

_STATUS: tuple[tuple[type[AdminError], HTTPStatus], ...] = (
    (InvalidRequestError, HTTPStatus.BAD_REQUEST),
    (NotAdminError, HTTPStatus.FORBIDDEN),
    (KeyNotFoundError, HTTPStatus.NOT_FOUND),
    (RotationInProgressError, HTTPStatus.CONFLICT),
    (BackendError, HTTPStatus.INTERNAL_SERVER_ERROR),
)


def error_response(status: HTTPStatus) -> Response[dict[str, str]]:
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body={"message": status.phrase},
    )


def status_of(error: AdminError) -> HTTPStatus:
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return HTTPStatus.INTERNAL_SERVER_ERROR


def admin_resolver() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver()

    def _refused(error: AdminError) -> Response[dict[str, str]]:
        status = status_of(error)
        log = logger.error if status >= HTTPStatus.INTERNAL_SERVER_ERROR else logger.info
        log("admin request refused", audit=True, status=status.value, reason=error.reason,
            actor=_actor_or_none(app), path=app.current_event.path)  # fmt: skip
        metrics.add_metric(name="AdminRequestRefused", unit=MetricUnit.Count, value=1)
        return error_response(status)

    def _failed(error: Exception) -> Response[dict[str, str]]:
        # Misconfiguration, a missing authorizer context or a bug: fail closed, say nothing.
        # Only the type is logged: a message could echo input.
        logger.error("admin request failed", error_type=type(error).__name__,
                     path=app.current_event.path)  # fmt: skip
        metrics.add_metric(name="AdminRequestFailed", unit=MetricUnit.Count, value=1)
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR)

    # Registered by call: Powertools' decorator is untyped.
    app.exception_handler(AdminError)(_refused)
    app.exception_handler(Exception)(_failed)
    return app


def admin_caller(app: APIGatewayRestResolver, function: str) -> Caller:
    """The caller as the authorizer described it, if the route table lets it call `function`."""
    context = app.current_event.raw_event.get("requestContext", {}).get("authorizer")
    return require_route(Caller.from_authorizer_context(context), function)


def _actor_or_none(app: APIGatewayRestResolver) -> str | None:
    try:
        context = app.current_event.raw_event.get("requestContext", {}).get("authorizer")
        return Caller.from_authorizer_context(context).principal
    except MissingCallerError:
        return None


def location_of(app: APIGatewayRestResolver, key_id: str) -> str:
    """The key's URL path as the client called it (with the stage or base path, if any)."""
    called = app.current_event.request_context.path or app.current_event.path
    return f"{called.rstrip('/')}/{key_id}"


class LazyAdmin:
    """One `ApiKeyAdmin` per container, built on first use; tests set `instance`."""

    def __init__(self, settings: AdminSettings) -> None:
        self.settings = settings
        self.instance: ApiKeyAdmin | None = None

    def __call__(self) -> ApiKeyAdmin:
        if self.instance is None:
            import boto3  # noqa: PLC0415 - about 0.3 s of imports, paid on first use only

            self.instance = ApiKeyAdmin(boto3.client("secretsmanager"), self.settings)
        return self.instance
