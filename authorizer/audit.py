"""One structured audit line and one EMF metric blob per authorizer decision, whatever its outcome.

Fields are filled in as the decision is made, so that a refusal halfway still says what was
known (scheme, kid, key id). Nothing here ever holds a token or a key: only a fingerprint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aws_lambda_powertools.metrics import MetricUnit

from authorizer.guard import Subject
from authorizer.request import AuthRequest
from shared.observability import fingerprint, metrics, write_audit

Decision = Literal["allow", "deny", "unauthorized", "error"]

METRIC_FOR: dict[Decision, str] = {
    "allow": "AuthorizerAllow",
    "deny": "AuthorizerDeny",
    "unauthorized": "AuthorizerUnauthorized",
    "error": "AuthorizerError",
}
#: A rotated-out API key used after its grace window: a caller that missed a rotation, or a
#: leaked old value (its audit reason, `stale_key`, is alarmed: template.yaml
#: `StaleKeyUseAlarm`).
STALE_KEY_METRIC = "StaleKeyUse"
#: Longest unverified identifier (a token's `kid`) written to an audit line: a client must not
#: be able to fill the log with an 8 KiB header field.
MAX_LOGGED_ID = 128
#: A source IP crossed the failure threshold and is locked out.
LOCKOUT_METRIC = "Lockout"
#: An API key used from a source IP not seen for it within the configured period.
NEW_SOURCE_METRIC = "NewSourceForKey"


@dataclass(slots=True)
class AuditRecord:
    scheme: str = "none"
    principal: str | None = None
    source_ip: str = ""
    http_method: str = ""
    resource: str = ""
    request_id: str = ""
    key_id: str | None = None
    kid: str | None = None
    credential_fingerprint: str | None = None
    subject: Subject | None = None
    """The credential's unverified identifiers (revocation and seen-source lookups)."""

    def note_request(self, request: AuthRequest) -> None:
        self.source_ip = request.source_ip
        self.http_method = request.http_method
        self.resource = request.resource
        self.request_id = request.request_id
        if request.credential:
            self.credential_fingerprint = fingerprint(request.credential)

    def emit(self, decision: Decision, reason: str) -> None:
        write_audit(
            "authorizer decision",
            decision=decision,
            scheme=self.scheme,
            principal=self.principal,
            # Who an unverified credential claimed to be: context for a refusal, never trusted.
            claimed_principal=self.subject.subject if self.subject and not self.principal else None,
            reason=reason,
            source_ip=self.source_ip,
            http_method=self.http_method,
            resource=self.resource,
            request_id=self.request_id,
            key_id=self.key_id,
            kid=self.kid[:MAX_LOGGED_ID] if self.kid else None,
            credential_fingerprint=self.credential_fingerprint,
        )
        metrics.add_dimension(name="scheme", value=self.scheme)
        metrics.add_dimension(name="reason", value=reason)
        metrics.add_metric(name=METRIC_FOR[decision], unit=MetricUnit.Count, value=1)
        if reason == "stale_key":
            metrics.add_metric(name=STALE_KEY_METRIC, unit=MetricUnit.Count, value=1)
        # Flushed here rather than by `@metrics.log_metrics`: exactly one blob per decision,
        # whichever way the handler exits, with this decision's dimensions only.
        metrics.flush_metrics()


def audit_lockout(audit: AuditRecord) -> None:
    write_audit("lockout", level="WARNING", source_ip=audit.source_ip, scheme=audit.scheme)
    metrics.add_metric(name=LOCKOUT_METRIC, unit=MetricUnit.Count, value=1)


def audit_new_source(audit: AuditRecord) -> None:
    write_audit(
        "api key used from a new source",
        level="WARNING",
        key_id=audit.key_id,
        principal=audit.principal,
        source_ip=audit.source_ip,
    )
    metrics.add_metric(name=NEW_SOURCE_METRIC, unit=MetricUnit.Count, value=1)
