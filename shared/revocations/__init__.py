"""Token revocations (`POST` / `GET /api/admin/revocations`), kept in the security table.

- `requests`: what a valid revocation request is;
- `store`: `RevocationStore`, writing and listing revocation items.

The authorizer reads the same items, as a snapshot refreshed every few seconds
(`authorizer/guard.py`); their keys are `shared.security_table`'s.
"""

from shared.revocations.requests import (
    InvalidRevocationError,
    RevocationRequest,
    parse_request,
)
from shared.revocations.store import (
    DEFAULT_PAGE_SIZE,
    Revocation,
    RevocationStore,
    default_store,
)

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "InvalidRevocationError",
    "Revocation",
    "RevocationRequest",
    "RevocationStore",
    "default_store",
    "parse_request",
]
