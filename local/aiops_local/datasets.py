"""Realistic, reproducible data for scenarios: a churn-like table as training CSV or as SageMaker
data capture.

    rows = generate(400, seed=7, shift={"total_day_minutes": {"mean": 60}})
    to_csv(rows)                       # header + rows, label last
    to_capture(rows, seed=7, end=now)  # one data-capture JSON line per request

The same seed gives the same rows, in either format. A shift changes only what it names: rows are
drawn in the same order with or without it, so a shifted table is its unshifted twin with that
column moved (pairs compare cleanly).

Columns, in order (the label last; capture files carry the features only):

  account_length          int    ~ Normal(101, 40), at least 1
  total_day_minutes       float  ~ Normal(180, 54), at least 0, one decimal
  total_eve_minutes       float  ~ Normal(200, 50), at least 0, one decimal
  customer_service_calls  int    ~ Poisson(1.5)
  intl_plan               yes | no (10 % yes)
  state                   one of 10 two-letter states (CA most frequent)
  churned                 0 | 1, more likely with long day calls, many service calls, intl plan

Every feature value is missing (an empty CSV field) with probability `missing` (default 0.01).

Shifts, per column (`shift: {column: {kind: value}}`):

  numeric columns      mean: +60          add 60 to every value (the mean moves by 60)
                       scale: 1.5         spread 1.5 times as wide around the usual mean
  categorical columns  new_categories: 0.3  30 % of rows take values never seen in training
                       share: {yes: 0.4}  those values get those shares; the others share the rest
  any feature          missing: 0.2       20 % of that column's values are missing
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiops_local.clock import iso

LABEL = "churned"
FORMATS = ("csv", "capture")
DEFAULT_MISSING = 0.01


@dataclass(frozen=True)
class _Numeric:
    name: str
    mean: float
    std: float  # for the Poisson column, 0: its spread is the Poisson's
    minimum: float
    integer: bool

    def draw(self, rng: random.Random) -> float:
        if self.std == 0:
            return float(_poisson(rng, self.mean))
        return rng.gauss(self.mean, self.std)


@dataclass(frozen=True)
class _Categorical:
    name: str
    weights: dict[str, float]
    unseen: tuple[str, ...]  # values that never occur unshifted


_STATES = {
    "CA": 0.16,
    "TX": 0.14,
    "NY": 0.12,
    "FL": 0.11,
    "IL": 0.09,
    "PA": 0.09,
    "OH": 0.08,
    "GA": 0.07,
    "NC": 0.07,
    "MI": 0.07,
}
FEATURES: tuple[_Numeric | _Categorical, ...] = (
    _Numeric("account_length", 101.0, 40.0, 1, integer=True),
    _Numeric("total_day_minutes", 180.0, 54.0, 0, integer=False),
    _Numeric("total_eve_minutes", 200.0, 50.0, 0, integer=False),
    _Numeric("customer_service_calls", 1.5, 0.0, 0, integer=True),
    _Categorical("intl_plan", {"no": 0.9, "yes": 0.1}, ("unknown",)),
    _Categorical("state", _STATES, ("WA", "OR", "NV", "AZ", "CO", "UT", "NM", "ID", "MT", "WY")),
)
FEATURE_NAMES = tuple(f.name for f in FEATURES)
COLUMNS = (*FEATURE_NAMES, LABEL)
_NUMERIC_SHIFTS = ("mean", "scale", "missing")
_CATEGORICAL_SHIFTS = ("new_categories", "share", "missing")


@dataclass(frozen=True)
class Row:
    values: dict[str, Any]  # column → value; None where missing
    score: float  # what the endpoint answers for this row: the churn probability


@dataclass(frozen=True)
class DatasetSpec:
    """A `put_dataset` step's generator arguments."""

    rows: int = 100
    seed: int = 0
    format: str = "csv"
    shift: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: float = DEFAULT_MISSING

    @classmethod
    def from_step(cls, arg: Mapping[str, Any]) -> DatasetSpec:
        rows = arg.get("rows", 100)
        seed = arg.get("seed", 0)
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
            raise ValueError("rows must be a positive whole number")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError("seed must be a whole number")
        fmt = str(arg.get("format", "csv"))
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}")
        missing = _rate(arg.get("missing", DEFAULT_MISSING), "missing")
        shift = check_shift(arg.get("shift") or {})
        return cls(rows=rows, seed=seed, format=fmt, shift=shift, missing=missing)

    def render(self, part: int, now: datetime) -> bytes:
        """Object number `part` (1..count) of the step: its own rows, reproducible."""
        seed = f"{self.seed}/{part}"
        rows = generate(self.rows, seed, self.shift, self.missing)
        if self.format == "capture":
            return to_capture(rows, seed, end=now).encode()
        return to_csv(rows).encode()


def _rate(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"{what} must be a rate between 0 and 1")
    return float(value)


def check_shift(shift: Any) -> dict[str, dict[str, Any]]:
    """The shift, checked against the vocabulary (module docstring); ValueError says what's off."""
    if not isinstance(shift, Mapping):
        raise ValueError("shift is a mapping {column: {kind: value}}")
    by_name = {f.name: f for f in FEATURES}
    checked: dict[str, dict[str, Any]] = {}
    for column, changes in shift.items():
        feature = by_name.get(column)
        if feature is None:
            raise ValueError(f"shift: no feature {column!r}; features: {', '.join(FEATURE_NAMES)}")
        if not isinstance(changes, Mapping) or not changes:
            raise ValueError(f"shift.{column} is a mapping {{kind: value}}")
        allowed = _NUMERIC_SHIFTS if isinstance(feature, _Numeric) else _CATEGORICAL_SHIFTS
        column_changes: dict[str, Any] = {}
        for kind, value in changes.items():
            if kind not in allowed:
                raise ValueError(
                    f"shift.{column}: unknown kind {kind!r}; for this column: {', '.join(allowed)}"
                )
            where = f"shift.{column}.{kind}"
            if kind in ("missing", "new_categories"):
                _rate(value, where)
            elif kind in ("mean", "scale"):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ValueError(f"{where} must be a number")
                if kind == "scale" and value < 0:
                    raise ValueError(f"{where} must not be negative")
            elif kind == "share":
                assert isinstance(feature, _Categorical)
                value = _check_share(feature, value, where)
            column_changes[kind] = value
        checked[str(column)] = column_changes
    return checked


def _check_share(feature: _Categorical, share: Any, where: str) -> dict[str, Any]:
    """A `share` shift with its keys as category names (YAML's yes/no booleans back to text)."""
    if not isinstance(share, Mapping) or not share:
        raise ValueError(f"{where} is a mapping {{value: share}}")
    named = {_category(k): v for k, v in share.items()}
    unknown = set(named) - set(feature.weights)
    if unknown:
        raise ValueError(
            f"{where}: unknown values {sorted(unknown)}; known: {', '.join(feature.weights)}"
        )
    for value in named.values():
        _rate(value, where)
    if sum(named.values()) > 1:
        raise ValueError(f"{where}: shares add up to more than 1")
    return named


def _category(key: Any) -> str:
    # YAML 1.1 reads an unquoted yes/no as a boolean.
    if isinstance(key, bool):
        return "yes" if key else "no"
    return str(key)


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method: fine for the small means used here.
    limit, k, product = math.exp(-lam), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _weights(feature: _Categorical, share: Mapping[str, float] | None) -> list[tuple[str, float]]:
    """The category weights under a checked `share` shift (see `check_shift`)."""
    if not share:
        return list(feature.weights.items())
    fixed = {k: float(v) for k, v in share.items()}
    rest = [k for k in feature.weights if k not in fixed]
    rest_total = sum(feature.weights[k] for k in rest)
    left = 1.0 - sum(fixed.values())
    weights = dict(fixed)
    for k in rest:
        weights[k] = left * feature.weights[k] / rest_total if rest_total else 0.0
    return [(k, weights[k]) for k in feature.weights]


def _pick(choices: list[tuple[str, float]], u: float) -> str:
    total = sum(w for _, w in choices)
    edge = 0.0
    for value, weight in choices:
        edge += weight / total
        if u < edge:
            return value
    return choices[-1][0]


def _churn_probability(values: Mapping[str, Any]) -> float:
    day = values["total_day_minutes"]
    calls = values["customer_service_calls"]
    logit = (
        -2.6
        + 0.015 * (day - 180.0)
        + 0.55 * (calls - 1.5)
        + (1.4 if values["intl_plan"] == "yes" else 0.0)
    )
    return 1.0 / (1.0 + math.exp(-logit))


def generate(
    rows: int,
    seed: int | str = 0,
    shift: Mapping[str, Mapping[str, Any]] | None = None,
    missing: float = DEFAULT_MISSING,
) -> list[Row]:
    """`rows` rows of the churn table; the same arguments give the same rows."""
    shift = check_shift(shift or {})
    rng = random.Random(f"aiops-datasets/{seed}")  # noqa: S311 - reproducible test data
    weights = {
        f.name: _weights(f, shift.get(f.name, {}).get("share"))
        for f in FEATURES
        if isinstance(f, _Categorical)
    }
    table: list[Row] = []
    for _ in range(rows):
        values: dict[str, Any] = {}
        blanks: list[str] = []
        # The same draws in the same order whatever the shift, so shifts only move values.
        for feature in FEATURES:
            changes = shift.get(feature.name, {})
            u_missing, u_new, u_value = rng.random(), rng.random(), rng.random()
            if isinstance(feature, _Numeric):
                raw = feature.draw(rng)
                value = (
                    feature.mean
                    + float(changes.get("scale", 1.0)) * (raw - feature.mean)
                    + float(changes.get("mean", 0.0))
                )
                value = max(feature.minimum, value)
                values[feature.name] = round(value) if feature.integer else round(value, 1)
            elif u_new < float(changes.get("new_categories", 0.0)):
                values[feature.name] = feature.unseen[int(u_value * len(feature.unseen))]
            else:
                values[feature.name] = _pick(weights[feature.name], u_value)
            if u_missing < float(changes.get("missing", missing)):
                blanks.append(feature.name)
        probability = _churn_probability(values)
        values[LABEL] = 1 if rng.random() < probability else 0
        for name in blanks:
            values[name] = None
        table.append(Row(values=values, score=round(probability, 6)))
    return table


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def to_csv(rows: list[Row]) -> str:
    """Training data: a header, then one line per row, the label last."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row.values[c]) for c in COLUMNS])
    return out.getvalue()


def features_csv(row: Row) -> str:
    """What a client sends the endpoint: the features in order, no header, no label."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([_cell(row.values[c]) for c in FEATURE_NAMES])
    return out.getvalue()


def to_capture(rows: list[Row], seed: int | str, end: datetime) -> str:
    """SageMaker data capture: one JSON line per request, the requests spread over the hour
    before `end` (the format of "Capture data from real-time endpoint", SageMaker Developer
    Guide: https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture-endpoint.html).
    """
    ids = random.Random(f"aiops-datasets/{seed}/event-ids")  # noqa: S311 - reproducible ids
    step = 3600.0 / max(len(rows), 1)
    start = end - timedelta(hours=1)
    lines = []
    for index, row in enumerate(rows):
        inferred = start + timedelta(seconds=int((index + 0.5) * step))
        record = {
            "captureData": {
                "endpointInput": {
                    "observedContentType": "text/csv",
                    "mode": "INPUT",
                    "data": features_csv(row),
                    "encoding": "CSV",
                },
                "endpointOutput": {
                    "observedContentType": "text/csv; charset=utf-8",
                    "mode": "OUTPUT",
                    "data": f"{row.score}",
                    "encoding": "CSV",
                },
            },
            "eventMetadata": {
                "eventId": str(uuid.UUID(int=ids.getrandbits(128), version=4)),
                "inferenceTime": iso(inferred),
            },
            "eventVersion": "0",
        }
        lines.append(json.dumps(record, separators=(",", ":")))
    return "\n".join(lines) + "\n"
