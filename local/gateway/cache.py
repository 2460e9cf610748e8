"""API Gateway's authorizer result cache: one entry per (authorizer, identity source values).

The key holds no route: a policy cached for one route is reused for every other route of the
same authorizer until its TTL runs out, which is exactly why the authorizer must return a policy
that is right for all of them (docs/architecture.md, "Policies and the cache").
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

CacheKey = tuple[str, tuple[str, ...]]


class ResultCache(Generic[T]):
    def __init__(self, clock: Callable[[], float] = time.monotonic, max_entries: int = 10_000):
        self._clock = clock
        self._max_entries = max_entries
        self._entries: OrderedDict[CacheKey, tuple[float, T]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, authorizer: str, identity: tuple[str, ...]) -> T | None:
        key = (authorizer, identity)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, value = entry
            if self._clock() >= expires:
                del self._entries[key]
                return None
            return value

    def put(self, authorizer: str, identity: tuple[str, ...], value: T, ttl: float) -> None:
        if ttl <= 0:  # TTL 0 disables caching (ReauthorizeEvery: 0)
            return
        key = (authorizer, identity)
        with self._lock:
            self._entries[key] = (self._clock() + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
