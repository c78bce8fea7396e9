from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from aiops_local.patches import appconfig
from aiops_local.patches.base import Patcher
from tests.support.ops_project import write_ops_project
from tests.support.template import create_tables
from tests.support.toy_project import write_toy_project


@pytest.fixture
def toy_project(tmp_path: Path) -> Path:
    """A small SAM project (tests/support/toy_project.py) for the runtime's tests."""
    return write_toy_project(tmp_path / "toy")


@pytest.fixture
def ops_project(tmp_path: Path) -> Path:
    """A SAM project with alarms on what the runtime meters (tests/support/ops_project.py)."""
    return write_ops_project(tmp_path / "ops")


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def aws_with_appconfig() -> Iterator[None]:
    """moto with the offline runtime's AppConfig patch (deployments, the data plane)."""
    patcher = Patcher()
    appconfig.install(patcher)
    try:
        with mock_aws():
            yield
    finally:
        patcher.restore()


@pytest.fixture
def dynamodb(aws: None) -> Any:
    return boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture
def tables(dynamodb: Any) -> dict[str, str]:
    """The template's tables, created in moto: logical id → name."""
    return create_tables(dynamodb)
