"""Stored objects as the domain sees them: read whole, streamed, listed, written."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from aiops.runs.window import ObjectRef


class ObjectUnreadable(ValueError):
    """An object that exists (or may) but cannot be read: denied, too large, no bucket."""

    def __init__(self, uri: str, reason: str) -> None:
        self.uri = uri
        self.reason = reason
        super().__init__(f"{uri}: {reason}")


class ObjectGone(LookupError):
    """An object version that no longer exists (deleted after its event was sent)."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        super().__init__(f"{uri}: no longer exists")


class ObjectReader(Protocol):
    def read(self, uri: str) -> str | None:
        """The object's text, or None when there is no such object (`ObjectUnreadable` when
        it cannot be read)."""
        ...


class DataObjects(ObjectReader, Protocol):
    def lines(self, obj: ObjectRef) -> Iterator[bytes]:
        """The object version's lines, streamed."""
        ...

    def under(self, uri_prefix: str) -> list[ObjectRef]:
        """The objects under an s3:// prefix."""
        ...

    def write_json(self, bucket: str, key: str, document: Any) -> str: ...
