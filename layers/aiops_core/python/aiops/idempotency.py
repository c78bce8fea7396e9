"""Idempotency on an event's natural key: a duplicate or replayed delivery acts once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

T = TypeVar("T")

# A claim whose action is still running expires after this long (the functions' timeout and a
# margin), so a delivery whose handler died mid-action (timeout, crash) can act on a retry.
IN_PROGRESS = timedelta(minutes=2)


class ActionInProgress(RuntimeError):
    """Another delivery of the same key is acting (or died acting): retry later, so this one is
    neither lost as a "duplicate" nor run twice."""

    def __init__(self, key: str) -> None:
        super().__init__(f"{key}: another delivery is acting on it; retry later")
        self.key = key


class IdempotencyStore(Protocol):
    def claim(self, key: str, now: datetime, ttl: timedelta) -> bool:
        """True for the first claim of `key`; False for every later one until the ttl ends."""
        ...

    def confirm(self, key: str, now: datetime, ttl: timedelta) -> None:
        """The action of `key` is done: keep the claim for `ttl`."""
        ...

    def done(self, key: str) -> bool:
        """Whether the action of `key` was confirmed done."""
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
    """Run `action` for the first delivery of `key` only: (ran, result). A delivery that meets
    an unfinished claim raises `ActionInProgress`, so Lambda or EventBridge retries it."""
    if not store.claim(key, now, in_progress):
        if store.done(key):
            return False, None
        raise ActionInProgress(key)
    try:
        result = action()
    except BaseException:
        store.forget(key)
        raise
    store.confirm(key, now, ttl)
    return True, result
