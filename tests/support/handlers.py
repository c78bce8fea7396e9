"""The project's Lambda handlers, loaded as Lambda loads them, for tests on moto."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType, SimpleNamespace
from typing import Any

from tests.support.template import ROOT


def load_handler(name: str) -> ModuleType:
    """`functions/<name>/app.py`, freshly imported (module-level state starts anew)."""
    path = ROOT / "functions" / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"handler_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def lambda_context(
    function_name: str,
    request: int,
    *,
    memory_mb: int,
    remaining_ms: int,
    account: str = "123456789012",
    region: str = "us-east-1",
) -> Any:
    """The attributes handlers (and Powertools) read from Lambda's context; request id `req-<n>`."""
    return SimpleNamespace(
        aws_request_id=f"req-{request}",
        function_name=function_name,
        memory_limit_in_mb=memory_mb,
        invoked_function_arn=f"arn:aws:lambda:{region}:{account}:function:{function_name}",
        get_remaining_time_in_millis=lambda: remaining_ms,
    )
