"""Process-wide test setup: never talk to real AWS, whatever the machine's environment says."""

from __future__ import annotations

import os

# Set before any handler module creates a boto3 client (see ../shared/TOOLING.md, moto).
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "workflow-api-test",
        "POWERTOOLS_METRICS_NAMESPACE": "WorkflowApiTest",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)
