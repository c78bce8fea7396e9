"""Lazy boto3 clients: importing an adapter costs nothing until it first calls AWS."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str) -> Any:
    import boto3  # deferred: boto3 costs ~300 ms at import and most paths need one client

    return boto3.client(service)


def error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))
