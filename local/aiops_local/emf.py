"""CloudWatch embedded metric format (EMF): the metrics CloudWatch Logs extracts from a log line.

A Lambda function's log line that is an EMF document (a JSON object whose `_aws` member holds
`Timestamp` and `CloudWatchMetrics`) becomes metric data: for every metric directive, each of its
dimension sets times each of its metrics, the metric's value (a number, or an array of numbers,
each one a sample) under the namespace, with the directive's unit and storage resolution. The
dimension values and metric values are the root members the directive names.

As on AWS, a document that breaks the specification yields no metrics at all (CloudWatch Logs
counts it under AWS/Logs EMFValidationErrors); the log line itself stays a log line. Limits are
CloudWatch's: at most 100 metrics per directive, 100 values per metric, 30 dimensions per set,
and a timestamp at most 14 days old and at most 2 hours ahead.

Specification: "Specification: Embedded metric format" in the CloudWatch user guide.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeGuard

MAX_METRICS = 100
MAX_VALUES = 100
MAX_DIMENSIONS = 30
MAX_PAST_S = 14 * 86400
MAX_FUTURE_S = 2 * 3600
MAX_DIMENSION_VALUE = 1024
MAX_NAME = 1024
_NAMESPACE = re.compile(r"[A-Za-z0-9._#:/-]{1,255}")
UNITS = frozenset(
    {
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    }
)


class EmfError(ValueError):
    """An EMF document CloudWatch would not extract metrics from (the reason says why)."""


@dataclass(frozen=True)
class EmfDocument:
    timestamp_ms: float
    # (namespace, PutMetricData members without Timestamp), one per directive.
    metrics: tuple[tuple[str, tuple[dict[str, Any], ...]], ...]


def documents(text: str) -> Iterator[EmfDocument | EmfError]:
    """Every EMF document among the log lines of `text` (invalid ones as their error)."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("{") and '"_aws"' in stripped:
            try:
                document = parse(stripped)
            except EmfError as error:
                yield error
                continue
            if document is not None:
                yield document


def parse(line: str) -> EmfDocument | None:
    """The metrics of one log line; None when it is not an EMF document at all."""
    try:
        root = json.loads(line, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        if '"_aws"' in line:  # meant as EMF: CloudWatch Logs counts it as EMFParsingErrors
            raise EmfError("the line is not JSON (NaN, Infinity or cut short?)") from None
        return None  # a plain log line
    if not isinstance(root, dict) or "_aws" not in root:
        return None
    metadata = root["_aws"]
    if not isinstance(metadata, dict):
        raise EmfError("_aws must be an object")
    timestamp = metadata.get("Timestamp")
    if not _number(timestamp):
        raise EmfError("_aws.Timestamp must be a number (milliseconds since the epoch)")
    directives = metadata.get("CloudWatchMetrics")
    if not isinstance(directives, list):
        raise EmfError("_aws.CloudWatchMetrics must be an array of metric directives")
    extracted = tuple(
        _directive(root, directive, f"_aws.CloudWatchMetrics[{index}]")
        for index, directive in enumerate(directives)
    )
    return EmfDocument(float(timestamp), extracted)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _directive(
    root: dict[str, Any], directive: Any, where: str
) -> tuple[str, tuple[dict[str, Any], ...]]:
    if not isinstance(directive, dict):
        raise EmfError(f"{where} must be an object")
    namespace = directive.get("Namespace")
    if not isinstance(namespace, str) or _NAMESPACE.fullmatch(namespace) is None:
        raise EmfError(f"{where}.Namespace must be 1 to 255 letters, digits or ._#:/-")
    if namespace.startswith("AWS/"):
        raise EmfError(f"{where}.Namespace: AWS/ namespaces are reserved for AWS services")
    dimension_sets = _dimension_sets(root, directive.get("Dimensions"), f"{where}.Dimensions")
    definitions = directive.get("Metrics")
    if not isinstance(definitions, list) or not definitions:
        raise EmfError(f"{where}.Metrics must be a non-empty array")
    if len(definitions) > MAX_METRICS:
        raise EmfError(f"{where}.Metrics holds more than {MAX_METRICS} metrics")
    members: list[dict[str, Any]] = []
    for index, definition in enumerate(definitions):
        template = _metric(root, definition, f"{where}.Metrics[{index}]")
        for dimensions in dimension_sets:
            members.append({**template, "Dimensions": dimensions})
    return namespace, tuple(members)


def _dimension_sets(root: dict[str, Any], sets: Any, where: str) -> list[list[dict[str, str]]]:
    if not isinstance(sets, list):
        raise EmfError(f"{where} must be an array of dimension sets")
    if not sets:
        return [[]]  # no dimension set: the metrics without dimensions
    result: list[list[dict[str, str]]] = []
    for index, keys in enumerate(sets):
        here = f"{where}[{index}]"
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise EmfError(f"{here} must be an array of dimension names")
        if len(keys) > MAX_DIMENSIONS:
            raise EmfError(f"{here} holds more than {MAX_DIMENSIONS} dimensions")
        dimensions = []
        for key in dict.fromkeys(keys):
            value = root.get(key)
            if not isinstance(value, str) or not value:
                raise EmfError(f"{here}: dimension {key!r} must be a non-empty string member")
            if len(value) > MAX_DIMENSION_VALUE:
                raise EmfError(f"{here}: dimension {key!r} is over {MAX_DIMENSION_VALUE} chars")
            dimensions.append({"Name": key, "Value": value})
        if dimensions not in result:
            result.append(dimensions)
    return result


def _metric(root: dict[str, Any], definition: Any, where: str) -> dict[str, Any]:
    if not isinstance(definition, dict):
        raise EmfError(f"{where} must be an object")
    name = definition.get("Name")
    if not isinstance(name, str) or not name or len(name) > MAX_NAME:
        raise EmfError(f"{where}.Name must be a name of 1 to {MAX_NAME} characters")
    member: dict[str, Any] = {"MetricName": name}
    unit = definition.get("Unit")
    if unit is not None:
        if unit not in UNITS:
            raise EmfError(f"{where}.Unit {unit!r} is not a CloudWatch unit")
        member["Unit"] = unit
    resolution = definition.get("StorageResolution")
    if resolution is not None:
        if resolution not in (1, 60) or isinstance(resolution, bool):
            raise EmfError(f"{where}.StorageResolution must be 1 or 60")
        member["StorageResolution"] = int(resolution)
    value = root.get(name)
    if _number(value):
        member["Value"] = float(value)
    elif isinstance(value, list) and value and all(_number(v) for v in value):
        if len(value) > MAX_VALUES:
            raise EmfError(f"{where}: {name} holds more than {MAX_VALUES} values")
        member["Values"] = [float(v) for v in value]
    else:
        raise EmfError(f"{where}: member {name!r} must be a number or an array of numbers")
    return member


def metric_time(document: EmfDocument, real_start: float, real_end: float, virtual: float) -> float:
    """When the document's metrics count, in virtual time.

    Handlers stamp EMF documents with the wall clock (Powertools does): a stamp within the
    invocation's real span is the invocation's moment, which offline is virtual time. A stamp
    outside it was chosen on purpose (virtual already): it counts as given."""
    stamp = document.timestamp_ms / 1000.0
    if real_start - 1.0 <= stamp <= real_end + 1.0:
        return virtual
    return stamp


def check_age(stamp: float, now: float) -> None:
    if stamp < now - MAX_PAST_S:
        raise EmfError("_aws.Timestamp is more than 14 days old: CloudWatch drops the metrics")
    if stamp > now + MAX_FUTURE_S:
        raise EmfError("_aws.Timestamp is more than 2 hours ahead: CloudWatch drops the metrics")
