"""The authorizer result cache: keyed by authorizer and identity source, never by route."""

from __future__ import annotations

from local.gateway.cache import ResultCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_entries_live_for_their_ttl() -> None:
    clock = Clock()
    cache: ResultCache[str] = ResultCache(clock)
    cache.put("BearerAuthorizer", ("Bearer a",), "policy", ttl=300)
    clock.now += 299.9
    assert cache.get("BearerAuthorizer", ("Bearer a",)) == "policy"
    clock.now += 0.1
    assert cache.get("BearerAuthorizer", ("Bearer a",)) is None


def test_key_is_authorizer_and_identity() -> None:
    cache: ResultCache[str] = ResultCache(Clock())
    cache.put("BearerAuthorizer", ("Bearer a",), "a", ttl=60)
    assert cache.get("BearerAuthorizer", ("Bearer b",)) is None
    assert cache.get("ApiKeyAuthorizer", ("Bearer a",)) is None
    assert cache.get("BearerAuthorizer", ("Bearer a",)) == "a"


def test_zero_ttl_disables_caching() -> None:
    cache: ResultCache[str] = ResultCache(Clock())
    cache.put("BearerAuthorizer", ("Bearer a",), "a", ttl=0)
    assert cache.get("BearerAuthorizer", ("Bearer a",)) is None


def test_size_is_bounded_oldest_first() -> None:
    cache: ResultCache[int] = ResultCache(Clock(), max_entries=2)
    for n in range(3):
        cache.put("A", (str(n),), n, ttl=60)
    assert len(cache) == 2
    assert cache.get("A", ("0",)) is None
    assert cache.get("A", ("2",)) == 2
