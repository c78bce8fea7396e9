"""Validating labeled fine-tuning data: throughput on one core per record format, and peak
memory validating a 1 GB stream against a 100 MB one (it must not depend on the size).

Throughput: ~60 MB of generated customer-support records per format (aiops_local.labels_data),
held in memory as 1 MiB chunks, validated against the format's reference base model.
Memory: a fresh interpreter per size validates a lazily generated stream; the growth of its
peak RSS (VmHWM) from just before validating is reported.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from bench import ROOT

THROUGHPUT_BYTES = 60_000_000
MEMORY_SIZES = {"100MB": 100_000_000, "1GB": 1_000_000_000}
REFERENCE = {
    "bedrock-conversation-2024": "amazon.nova-lite-v1:0",
    "claude-messages": "anthropic.claude-3-haiku-20240307-v1:0",
    "prompt-completion": "amazon.titan-text-express-v1",
}
TARGET_MB_S = 50

_MEMORY_PROBE = """
import importlib.util, json, resource, sys, time
sys.path[:0] = [{layer!r}]
from aiops.base_models import RecordFormat, base_model
from aiops.finetune.validation import validate
# The module alone: the aiops_local package imports moto (~200 MiB), which would hide the
# validator's own peak under the baseline.
loader = importlib.util.spec_from_file_location("labels_data", {labels!r})
labels = sys.modules["labels_data"] = importlib.util.module_from_spec(loader)
loader.loader.exec_module(labels)
labeled_stream = labels.labeled_stream
spec = base_model({model!r})
stream = labeled_stream(RecordFormat({fmt!r}), {size})
first = next(stream)  # the generator's pool is made before the baseline
def chunks():
    yield first
    yield from stream
def peak_kib():
    # VmHWM belongs to this address space; ru_maxrss would carry the parent's peak over exec.
    try:
        with open("/proc/self/status") as status:
            return next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
before = peak_kib()
start = time.perf_counter()
report = validate(chunks(), spec)
seconds = time.perf_counter() - start
after = peak_kib()
print(json.dumps({{"bytes": report.bytes, "records": report.records, "bad": report.bad,
                  "seconds": seconds, "rss_before_kib": before, "rss_after_kib": after}}))
"""


def _paths() -> tuple[str, str]:
    return str(ROOT / "layers" / "aiops_core" / "python"), str(ROOT / "local")


def _throughput(fmt: str, model_id: str) -> dict[str, Any]:
    from aiops.base_models import RecordFormat, base_model
    from aiops.finetune.validation import validate
    from aiops_local.labels_data import labeled_stream

    spec = base_model(model_id)
    assert spec is not None
    chunks = list(labeled_stream(RecordFormat(fmt), THROUGHPUT_BYTES))
    size = sum(map(len, chunks))
    best = float("inf")
    records = 0
    for _ in range(2):  # the better of two runs: the first also warms caches
        start = time.perf_counter()
        report = validate(chunks, spec)
        best = min(best, time.perf_counter() - start)
        records = report.records
    return {
        "model": model_id,
        "bytes": size,
        "records": records,
        "seconds": round(best, 3),
        "mb_per_s": round(size / best / 1e6, 1),
        "records_per_s": round(records / best),
        "avg_record_bytes": round(size / records),
    }


def _memory(size: int) -> dict[str, Any]:
    layer, _ = _paths()
    fmt = "bedrock-conversation-2024"
    labels = str(ROOT / "local" / "aiops_local" / "labels_data.py")
    code = _MEMORY_PROBE.format(
        layer=layer, labels=labels, model=REFERENCE[fmt], fmt=fmt, size=size
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT
    )
    result: dict[str, Any] = json.loads(out.stdout)
    result["peak_growth_mib"] = round(
        (result["rss_after_kib"] - result["rss_before_kib"]) / 1024, 1
    )
    result["mb_per_s"] = round(result["bytes"] / result["seconds"] / 1e6, 1)
    return result


def run() -> dict[str, Any]:
    layer, local = _paths()
    for path in (local, layer):
        if path not in sys.path:
            sys.path.insert(0, path)
    throughput = {fmt: _throughput(fmt, model) for fmt, model in REFERENCE.items()}
    memory = {name: _memory(size) for name, size in MEMORY_SIZES.items()}
    growth = [m["peak_growth_mib"] for m in memory.values()]
    return {
        "throughput": throughput,
        "memory": memory,
        "meets_target": all(t["mb_per_s"] >= TARGET_MB_S for t in throughput.values()),
        # Bounded: the 1 GB run's peak grows no more than the 100 MB run's, give or take 8 MiB.
        "memory_bounded": max(growth) - min(growth) <= 8,
    }


def table(result: dict[str, Any]) -> str:
    lines = ["labeled-data validation (one core)"]
    for fmt, t in result["throughput"].items():
        lines.append(
            f"  {fmt:<26} {t['mb_per_s']:>6.1f} MB/s  {t['records_per_s']:>8,} records/s  "
            f"({t['avg_record_bytes']} B a record, {t['bytes'] / 1e6:.0f} MB)"
        )
    for name, m in result["memory"].items():
        lines.append(
            f"  stream of {name:<6} peak RSS {m['rss_after_kib'] / 1024:.0f} MiB "
            f"(+{m['peak_growth_mib']:.1f} MiB while validating) "
            f"{m['records']:,} records at {m['mb_per_s']:.1f} MB/s"
        )
    lines.append(
        f"  at least {TARGET_MB_S} MB/s: {'yes' if result['meets_target'] else 'NO'}; "
        f"memory independent of size: {'yes' if result['memory_bounded'] else 'NO'}"
    )
    return "\n".join(lines)
