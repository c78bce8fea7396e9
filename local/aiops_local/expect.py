"""`expect` steps: compare what the cloud did with what a scenario says it should have done.

An expectation item is a mapping of fields; it matches a record (a timeline entry, a ledger item,
a model package, an execution) when every field matches:

* scalars compare equal (numbers by value, everything else as text);
* a mapping matches a mapping with at least those keys, recursively;
* a key ending in `~` matches when the record's value contains the text (`error~: size`).

`count: N` asks for exactly N matching records; without it, at least one. An empty list asks for
no records at all (`registry: {churn: []}`: the group has no package; `dead_letters: {Q: []}`: the
queue is empty); `count: 0` asks that none matches an item.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from aiops_local.cloud import LocalCloud


def field_matches(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and matches(expected, actual)
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(field_matches(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return float(expected) == float(actual)
    if expected is None:
        return actual is None
    return actual is not None and str(expected) == str(actual)


def matches(expected: dict[str, Any], record: dict[str, Any]) -> bool:
    for key, value in expected.items():
        if key.endswith("~"):
            actual = record.get(key[:-1])
            if actual is None or str(value) not in (
                actual if isinstance(actual, str) else json.dumps(actual, default=str)
            ):
                return False
        elif not field_matches(value, record.get(key)):
            return False
    return True


def _check(
    what: str,
    items: Any,  # a list of items, as the scenario gives it (anything else is reported)
    records: list[dict[str, Any]],
    show: Callable[[dict[str, Any]], str],
) -> list[str]:
    failures: list[str] = []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return [f"{what}: expects a list of items (mappings), got {json.dumps(items, default=str)}"]
    if not items:
        # An empty list means none, not "nothing to check".
        if not records:
            return []
        lines = [f"{what}: expected none: {len(records)} present"]
        lines += [f"    {show(r)}" for r in records[-8:]]
        return ["\n".join(lines)]
    for item in items:
        item = dict(item)
        count = item.pop("count", None)
        found = [r for r in records if matches(item, r)]
        ok = len(found) == count if count is not None else bool(found)
        if ok:
            continue
        wanted = json.dumps(item, default=str)
        got = f"{len(found)} matched" + (f", expected exactly {count}" if count is not None else "")
        lines = [f"{what}: {wanted}: {got}"]
        # Show what is there instead: records of the same kind, if the item names one.
        pool = found or (
            [r for r in records if r.get("kind") == item["kind"]] if "kind" in item else records
        )
        if pool:
            lines.append(f"  {'matching' if found else 'present'} ({len(pool)}):")
            lines += [f"    {show(r)}" for r in pool[-8:]]
        else:
            lines.append("  (none recorded)")
        failures.append("\n".join(lines))
    return failures


def _timeline_line(entry: dict[str, Any]) -> str:
    return f"[{entry['kind']}] {entry['text']}"


def _compact(record: dict[str, Any]) -> str:
    return json.dumps(record, default=str)[:300]


def check(cloud: LocalCloud, spec: dict[str, Any]) -> list[str]:
    """Every failure of `spec` as a readable message; empty when all of it holds."""
    known = {"timeline", "ledger", "registry", "executions", "dead_letters", "objects", "endpoints"}
    unknown = set(spec) - known
    if unknown:
        return [f"unknown expectations {sorted(unknown)}; known: {sorted(known)}"]
    failures: list[str] = []
    if "timeline" in spec:
        failures += _check("timeline", spec["timeline"], cloud.timeline.entries(), _timeline_line)
    if "ledger" in spec:
        failures += _check("ledger", spec["ledger"], cloud.ledger(), _compact)
    for kind in ("registry", "dead_letters", "objects", "endpoints"):
        if kind in spec and not isinstance(spec[kind], dict):
            return [f"{kind}: expects a mapping of names to lists of items"]
    if "registry" in spec:
        for group, items in spec["registry"].items():
            packages = [
                {
                    "version": p.get("ModelPackageVersion"),
                    "status": p.get("ModelApprovalStatus"),
                    "metrics": p.get("metrics", {}),
                    "arn": p.get("ModelPackageArn"),
                    "metadata": p.get("CustomerMetadataProperties", {}),
                }
                for p in cloud.packages(group)
            ]
            failures += _check(f"registry {group}", items, packages, _compact)
    if "executions" in spec:
        executions = [
            {
                "state_machine": e.state_machine,
                "name": e.name,
                "status": e.status,
                "error": e.error,
                "input": e.input,
                "output": e.output,
            }
            for e in cloud.executions()
        ]
        aliases = cloud.state_machine_aliases()
        wanted = spec["executions"]
        items = (
            [
                {**i, "state_machine": aliases.get(i["state_machine"], i["state_machine"])}
                if isinstance(i, dict) and "state_machine" in i
                else i
                for i in wanted
            ]
            if isinstance(wanted, list)
            else wanted
        )
        failures += _check(
            "executions",
            items,
            executions,
            lambda e: f"{e['state_machine']}/{e['name']} {e['status']}",
        )
    if "endpoints" in spec:
        for endpoint, items in spec["endpoints"].items():
            variants = _variants(cloud, str(endpoint))
            failures += _check(f"endpoint {endpoint}", items, variants, _compact)
    if "objects" in spec:
        for bucket, items in spec["objects"].items():
            failures += _check(f"objects {bucket}", items, _objects(cloud, bucket), _compact)
    if "dead_letters" in spec:
        for queue, items in spec["dead_letters"].items():
            messages = []
            for message in cloud.dead_letters(queue):
                body: Any = message.get("Body", "")
                with contextlib.suppress(ValueError):
                    body = json.loads(body)
                attributes = {
                    k: v.get("StringValue")
                    for k, v in (message.get("MessageAttributes") or {}).items()
                }
                messages.append({"body": body, "attributes": attributes})
            failures += _check(f"dead letters {queue}", items, messages, _compact)
    return failures


def _variants(cloud: LocalCloud, endpoint: str) -> list[dict[str, Any]]:
    """The endpoint's variants: `variant`, `instances` (desired) and, when Application Auto
    Scaling has a target for it, `scaling_min` / `scaling_max`; none when it does not exist."""
    try:
        described = cloud.client("sagemaker").describe_endpoint(EndpointName=endpoint)
    except ClientError:
        return []
    targets = cloud.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="sagemaker"
    )["ScalableTargets"]
    bounds = {t["ResourceId"]: (t["MinCapacity"], t["MaxCapacity"]) for t in targets}
    found: list[dict[str, Any]] = []
    for variant in described.get("ProductionVariants", []):
        name = variant["VariantName"]
        record: dict[str, Any] = {
            "variant": name,
            "instances": variant.get("DesiredInstanceCount", variant.get("CurrentInstanceCount")),
        }
        scaling = bounds.get(f"endpoint/{endpoint}/variant/{name}")
        if scaling is not None:
            record.update(scaling_min=scaling[0], scaling_max=scaling[1])
        found.append(record)
    return found


# A body larger than this is checked by its key and size only.
_MAX_BODY = 1024 * 1024


def _objects(cloud: LocalCloud, bucket: str) -> list[dict[str, Any]]:
    """The bucket's objects (latest versions): `key`, `size`, and `body` (parsed JSON when it
    is JSON, else its text)."""
    name = cloud.bucket(bucket)
    s3 = cloud.client("s3")
    found: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for item in page.get("Contents", []):
            record: dict[str, Any] = {"key": item["Key"], "size": item["Size"]}
            if item["Size"] <= _MAX_BODY:
                text = (
                    s3.get_object(Bucket=name, Key=item["Key"])["Body"]
                    .read()
                    .decode("utf-8", errors="replace")
                )
                body: Any = text
                with contextlib.suppress(ValueError):
                    body = json.loads(text)
                record["body"] = body
            found.append(record)
    return found
