"""Cold-start import time of every function's module, as a ratio to `import boto3`.

Each measurement is a fresh interpreter (no warm module cache), with the function's environment
as Lambda sets it and tracing on, the median of several runs. Target: ratio <= 1.2.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "aiops_core" / "python"
TARGET_RATIO = 1.2
RUNS = 7

_PROBE = """
import sys, time
sys.path[:0] = {paths!r}
start = time.perf_counter()
{statement}
print(time.perf_counter() - start)
"""

LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "aiops",
    "POWERTOOLS_METRICS_NAMESPACE": "AIOps",
    "STAGE": "dev",
    "CONTROL_TABLE": "aiops-dev-control",
    "LEDGER_TABLE": "aiops-dev-ledger",
    "IDEMPOTENCY_TABLE": "aiops-dev-idempotency",
    "ALERTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:aiops-dev-alerts",
    "ARTIFACTS_BUCKET": "aiops-dev-artifacts-123456789012-us-east-1",
    "RETRAIN_STATE_MACHINE_ARN": (
        "arn:aws:states:us-east-1:123456789012:stateMachine:aiops-dev-retrain"
    ),
    "POLICY_PARAMETER": "/aiops/dev/policy",
    "APPROVALS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:aiops-dev-approvals",
    "APPROVAL_PAGE_URL": "https://abc123.execute-api.us-east-1.amazonaws.com",
    "DEPLOY_STATE_MACHINE_ARN": (
        "arn:aws:states:us-east-1:123456789012:stateMachine:aiops-dev-deploy"
    ),
    "MODEL_EXECUTION_ROLE_ARN": "arn:aws:iam::123456789012:role/aiops-dev-model",
    "FINETUNE_STATE_MACHINE_ARN": (
        "arn:aws:states:us-east-1:123456789012:stateMachine:aiops-dev-finetune"
    ),
    "LABELERS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:aiops-dev-labelers",
    "BEDROCK_JOB_ROLE_ARN": "arn:aws:iam::123456789012:role/aiops-dev-bedrock-jobs",
    "LABELED_BUCKET": "aiops-dev-labeled-123456789012-us-east-1",
    "SERVING_PARAMETER_PREFIX": "/aiops/",
    "DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/aiops-dev-dlq",
    "ACCOUNT_ID": "123456789012",
    "STACK_REGION": "us-east-1",
}


def _time_import(statement: str, paths: list[str], env: dict[str, str]) -> float:
    samples = []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-c", _PROBE.format(paths=paths, statement=statement)],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        )
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def run() -> dict[str, Any]:
    boto3_s = _time_import("import boto3", [], {})
    functions: dict[str, Any] = {}
    for app in sorted((ROOT / "functions").glob("*/app.py")):
        seconds = _time_import("import app", [str(app.parent), str(LAYER)], LAMBDA_ENV)
        functions[app.parent.name] = {
            "import_ms": round(seconds * 1000, 1),
            "ratio_to_boto3": round(seconds / boto3_s, 2),
            "meets_target": seconds / boto3_s <= TARGET_RATIO,
        }
    return {
        "what": "median import time of each function module in a fresh interpreter",
        "runs_per_measurement": RUNS,
        "boto3_import_ms": round(boto3_s * 1000, 1),
        "target_ratio": TARGET_RATIO,
        "functions": functions,
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"cold start (import boto3 = {result['boto3_import_ms']} ms, "
        f"target <= {result['target_ratio']}x)",
        f"  {'function':<18}{'import ms':>10}{'x boto3':>9}  target",
    ]
    for name, row in result["functions"].items():
        mark = "ok" if row["meets_target"] else "MISSED"
        lines.append(f"  {name:<18}{row['import_ms']:>10}{row['ratio_to_boto3']:>9}  {mark}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
