"""Idempotency on an event's natural key: a duplicate or replayed delivery acts once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

T = TypeVar("T")

# A claim whose action is still running expires after this long, so a delivery whose handler
# died mid-action (timeout, crash) is retried instead of being taken for a duplicate forever.
IN_PROGRESS = timedelta(minutes=15)


class IdempotencyStore(Protocol):
    def claim(self, key: str, now: datetime, ttl: timedelta) -> bool:
        """True for the first claim of `key`; False for every later one until the ttl ends."""
        ...

    def confirm(self, key: str, now: datetime, ttl: timedelta) -> None:
        """The action of `key` is done: keep the claim for `ttl`."""
        ...

    def forget(self, key: str) -> None:
        """Drop a claim whose action failed, so a retry can act."""
        ...


def once(
    store: IdempotencyStore,
    key: str,
    now: datetime,
    ttl: timedelta,
    action: Callable[[], T],
    in_progress: timedelta = IN_PROGRESS,
) -> tuple[bool, T | None]:
    """Run `action` for the first delivery of `key` only: (ran, result)."""
    if not store.claim(key, now, in_progress):
        return False, None
    try:
        result = action()
    except BaseException:
        store.forget(key)
        raise
    store.confirm(key, now, ttl)
    return True, result
