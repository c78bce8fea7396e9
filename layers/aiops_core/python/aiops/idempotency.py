"""Idempotency on an event's natural key: a duplicate or replayed delivery acts once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

T = TypeVar("T")


class IdempotencyStore(Protocol):
    def claim(self, key: str, now: datetime, ttl: timedelta) -> bool:
        """True for the first claim of `key`; False for every later one until the ttl ends."""
        ...

    def forget(self, key: str) -> None:
        """Drop a claim whose action failed, so a retry can act."""
        ...


def once(
    store: IdempotencyStore, key: str, now: datetime, ttl: timedelta, action: Callable[[], T]
) -> tuple[bool, T | None]:
    """Run `action` for the first delivery of `key` only: (ran, result)."""
    if not store.claim(key, now, ttl):
        return False, None
    try:
        return True, action()
    except BaseException:
        store.forget(key)
        raise
