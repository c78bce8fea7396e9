"""Approval links: an opaque random id per approver (only its hash is stored) and the form's
CSRF token. The id is the only thing a link carries; the task token never leaves the server."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

# 32 bytes = 256 bits of randomness (the floor is 128), URL-safe base64 without padding: 43 chars.
LINK_ID_BYTES = 32
_LINK_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")


def new_link_id() -> str:
    return secrets.token_urlsafe(LINK_ID_BYTES)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def is_link_id(text: str) -> bool:
    """Shape check before any lookup: a malformed id is refused without touching the table."""
    return bool(_LINK_ID.fullmatch(text))


def link_hash(link_id: str) -> str:
    """What the table keeps: a leaked table (or log of its keys) cannot be turned into links."""
    return hashlib.sha256(link_id.encode()).hexdigest()


def same_secret(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def link_path(link_id: str) -> str:
    return f"/approvals/{link_id}"
