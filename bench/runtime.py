"""The offline runtime on the new-data path: 1,000 uploads that stay under the window threshold.

Reports throughput (events/s, wall clock, every upload through S3 → EventBridge rule → handler →
DynamoDB) and AWS calls per event made by the handler (target <= 1.5; the floor is the one
conditional write that adds the object to its window).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from bench import ROOT, policy_with_window

UPLOADS = 1000
TARGET_CALLS_PER_EVENT = 1.5
# churn's window, large enough that the uploads stay under it.
ROOMY_WINDOW = {"objects": 2000, "bytes": "5GB", "max_age": "7d"}


def run() -> dict[str, Any]:
    from aiops_local.cloud import LocalCloud

    with tempfile.TemporaryDirectory() as tmp:
        policy = policy_with_window(Path(tmp), "churn", ROOMY_WINDOW)
        with LocalCloud(ROOT / "template.yaml", policy=policy) as cloud:
            started = time.perf_counter()
            for n in range(UPLOADS):
                cloud.put_object(
                    "TrainingDataBucket", f"raw/churn/bench/part-{n:05d}.csv", size=1024
                )
            cloud.run_until_quiet()
            elapsed = time.perf_counter() - started
            invokes = cloud.timeline.find("invoke", function="NewDataFunction")
            calls = cloud.timeline.find("api", function="NewDataFunction")
            errors = cloud.timeline.find("error")
            runs = cloud.executions()
    ok = [i for i in invokes if i.get("status") == "ok"]
    calls_per_event = len(calls) / max(len(ok), 1)
    return {
        "what": f"{UPLOADS} uploads under the window threshold through the offline runtime",
        "uploads": UPLOADS,
        "handled_ok": len(ok),
        "errors": len(errors),
        "retrain_runs_started": len(runs),
        "seconds": round(elapsed, 2),
        "events_per_second": round(len(ok) / elapsed, 1),
        "aws_calls_per_event": round(calls_per_event, 3),
        "target_calls_per_event": TARGET_CALLS_PER_EVENT,
        "meets_target": calls_per_event <= TARGET_CALLS_PER_EVENT,
    }


def table(result: dict[str, Any]) -> str:
    mark = "ok" if result["meets_target"] else "MISSED"
    return "\n".join(
        [
            f"offline runtime, new-data path ({result['uploads']} uploads under the threshold)",
            f"  handled ok          {result['handled_ok']} (errors: {result['errors']}, "
            f"runs started: {result['retrain_runs_started']})",
            f"  throughput          {result['events_per_second']} events/s ({result['seconds']} s)",
            f"  AWS calls per event {result['aws_calls_per_event']} "
            f"(target <= {result['target_calls_per_event']}) {mark}",
        ]
    )
