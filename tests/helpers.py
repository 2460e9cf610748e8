"""Helpers shared by every test layer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"


def load_event(relative: str) -> dict[str, Any]:
    """One of the sample events in `events/` (the same files `sam local invoke -e` uses)."""
    data: dict[str, Any] = json.loads((EVENTS / relative).read_text())
    return data
