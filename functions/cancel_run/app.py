"""POST /api/workflows/{workflowId}/runs/{runId}/cancel: stop a running run."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import run_api
from shared.http_api import install_error_handlers, resolve
from shared.observability import logger, metrics

app = APIGatewayRestResolver()
install_error_handlers(app)


@app.post("/api/workflows/<workflowId>/runs/<runId>/cancel")
def cancel(workflowId: str, runId: str) -> dict[str, Any]:
    return run_api.cancel_run(app, workflowId, runId)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return resolve(app, event, context)
