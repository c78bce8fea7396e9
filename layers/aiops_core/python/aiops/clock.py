"""The control plane's notion of now.

On AWS it is the wall clock. The offline runtime swaps in its virtual clock with `set_source`, so
windows, cooldowns and lock expiry advance with simulated time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime


def _wall_clock() -> datetime:
    return datetime.now(UTC)


_source: Callable[[], datetime] = _wall_clock


def now() -> datetime:
    return _source()


def set_source(source: Callable[[], datetime] | None) -> None:
    """Use `source` for `now()`; `None` restores the wall clock."""
    global _source
    _source = source or _wall_clock
