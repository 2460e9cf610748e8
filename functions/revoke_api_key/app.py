"""Placeholder so that `sam build` finds this function's CodeUri; issue 4 replaces it.

It fails closed: nothing is rotated, issued or revoked until the real handler lands.
"""

from __future__ import annotations

from typing import Any


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    raise NotImplementedError("revoke_api_key arrives with issue 4")
