"""Lazy boto3 clients: importing an adapter costs nothing until it first calls AWS."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str) -> Any:
    import boto3  # deferred: boto3 costs ~300 ms at import and most paths need one client

    return boto3.client(service)


def regional_client(service: str, region: str | None) -> Any:
    """A client for `region` (the CLI's `--region`; None: the SDK's default region); not cached:
    each adapter keeps its own."""
    import boto3  # deferred, as in `client`

    return boto3.client(service, region_name=region)


def error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


class AwsAdapter:
    """Base of the adapters: the client is injected (tests, the offline runtime) or created
    on first use."""

    service: str

    def __init__(self, client: Any | None = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = client(self.service)
        return self._client


class RegionalAdapter(AwsAdapter):
    """An adapter whose client, created on first use, may be for a given region (the SDK's
    default region when `region` is None)."""

    def __init__(self, client: Any | None = None, region: str | None = None) -> None:
        super().__init__(client)
        self.region = region

    @property
    def client(self) -> Any:
        if self._client is None and self.region is not None:
            self._client = regional_client(self.service, self.region)
        return super().client
