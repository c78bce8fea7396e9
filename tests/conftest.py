from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# A test process allocates millions of short-lived objects (one offline cloud after another: moto's
# backends, handlers, state machine interpreters) over a heap of a few hundred MB. With CPython's
# default thresholds the collector walked that whole heap every ~70,000 allocations: 30 full
# collections, a third of the time, in a 60-test module. Young collections every 20,000
# allocations free a cloud's cycles before they age; full ones come about 100 times less often,
# for about a fifth more memory.
gc.set_threshold(20_000, 20, 20)

ROOT = Path(__file__).resolve().parents[1]
# The layer's package, importable as the Lambda runtime would find it under /opt/python.
sys.path.insert(0, str(ROOT / "layers" / "aiops_core" / "python"))
sys.path.insert(0, str(ROOT))

# Never reach a real AWS account from tests, whatever the developer's shell holds.
for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(variable, None)
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "AIOpsTest")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "aiops-test")

from tests.support.shared_parsing import install as install_shared_parsing  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _shared_parsing() -> Iterator[None]:
    # Every offline cloud of the run reads botocore's models and checks its state machines once
    # (tests/support/shared_parsing.py says why that changes nothing a test sees).
    uninstall = install_shared_parsing()
    yield
    uninstall()
