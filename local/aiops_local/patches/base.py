"""Reversible attribute replacement that refuses to patch what is not there."""

from __future__ import annotations

from typing import Any

_MISSING = object()


class PatchError(RuntimeError):
    """A patch point is gone or changed: moto (or botocore) is not the version we pinned."""


class Patcher:
    def __init__(self) -> None:
        self._undo: list[tuple[Any, str, Any]] = []

    def replace(self, owner: Any, name: str, value: Any) -> Any:
        """Set `owner.name = value`; return the value it replaces."""
        if not hasattr(owner, name):
            raise PatchError(f"{getattr(owner, '__name__', owner)}.{name} does not exist")
        original = getattr(owner, name)
        self._undo.append((owner, name, vars(owner).get(name, _MISSING)))
        setattr(owner, name, value)
        return original

    def add(self, owner: Any, name: str, value: Any) -> None:
        """Set `owner.name = value` where moto lacks it; refuses once moto has its own."""
        if hasattr(owner, name):
            raise PatchError(
                f"{getattr(owner, '__name__', owner)}.{name} exists now: use moto's own"
            )
        self._undo.append((owner, name, _MISSING))
        setattr(owner, name, value)

    def restore(self) -> None:
        while self._undo:
            owner, name, previous = self._undo.pop()
            if previous is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, previous)
