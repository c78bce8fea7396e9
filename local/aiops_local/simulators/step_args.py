"""Scenario step arguments parsed with pydantic: each mistake a `StepArgumentError` that names the
field and says why (the scenario runner adds which step).

The cost steps (`cost_anomaly`, `token_usage`, `endpoint_invocations`, `spend_alarm`) describe
their arguments as models built from the types below; `parse_step` turns pydantic's errors into
one readable line.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints, ValidationError

from aiops.units import duration_seconds


class StepArgumentError(ValueError):
    """A step's argument is wrong; the message names the field and the reason."""


class StepArgs(BaseModel):
    """A step's arguments: unknown keys are refused, numbers are not taken from text."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


Args = TypeVar("Args", bound=StepArgs)

# A name or label: some text, bounded (an argument must not carry a megabyte into an event).
Text = Annotated[str, StringConstraints(min_length=1, max_length=1024, pattern=r"\S")]


def seconds_between(low: float, high: float, whole_minutes: bool = False) -> Any:
    def check(value: Any) -> float:
        try:
            seconds = duration_seconds(value)
        except ValueError as error:
            raise ValueError(str(error)) from None
        if not math.isfinite(seconds) or not low <= seconds <= high:
            raise ValueError(f"must be a duration from {_human(low)} to {_human(high)}")
        if whole_minutes and seconds % 60:
            raise ValueError("must be a whole number of minutes, such as '5m' or '1h'")
        return seconds

    return BeforeValidator(check)


def _human(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


# `after`: later in virtual time, as other steps' `after` (at most a year).
After = Annotated[float, seconds_between(0, 365 * 86400)]
# How long usage flows: whole minutes (CloudWatch's datapoints are per minute), at most a day.
Over = Annotated[float, seconds_between(60, 86400, whole_minutes=True)]
# An alarm's period: a multiple of 60 seconds up to a day, as PutMetricAlarm takes them.
Period = Annotated[float, seconds_between(60, 86400, whole_minutes=True)]


def _day(value: Any) -> date:
    # YAML reads 2026-11-21 as a date; a quoted one is text; a timestamp keeps its day.
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise ValueError(f"must be a date such as 2026-11-21, not {_shown(value)}")


Day = Annotated[date, BeforeValidator(_day)]


def _account(value: Any) -> str:
    # YAML reads an unquoted account id as a number.
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12:
        value = f"{value:012d}"
    if isinstance(value, str) and len(value) == 12 and value.isascii() and value.isdigit():
        return value
    raise ValueError(f"must be a 12-digit AWS account id, not {_shown(value)}")


Account = Annotated[str, BeforeValidator(_account)]
Region = Annotated[
    str, StringConstraints(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$", max_length=32)
]


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:60] + "…"


def parse_step(model: type[Args], arg: Any, step: str) -> Args:
    """`arg` as `model`, or a StepArgumentError naming each wrong field and why."""
    if not isinstance(arg, dict):
        raise StepArgumentError(f"{step} takes a mapping: {usage(model)}")
    try:
        return model.model_validate(arg)
    except ValidationError as error:
        raise StepArgumentError(f"{step}: {_describe(error, model)}") from None


def usage(model: type[StepArgs]) -> str:
    return "{" + ", ".join(model.model_fields) + "}"


def _describe(error: ValidationError, model: type[StepArgs]) -> str:
    problems = []
    for item in error.errors(include_url=False):
        where = _location(item["loc"])
        kind = item["type"]
        if kind == "extra_forbidden":
            problems.append(f"unknown key {where!r}; known keys: {usage(model)[1:-1]}")
        elif kind == "missing":
            problems.append(f"{where}: required")
        else:
            message = str(item["msg"]).removeprefix("Value error, ")
            if not item["loc"]:
                problems.append(message)  # about several fields, which it names
            elif "not " in message or kind in ("model_type", "dict_type", "list_type"):
                problems.append(f"{where}: {message}")
            else:
                problems.append(f"{where}: {message}, not {_shown(item.get('input'))}")
    return "; ".join(problems)


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the argument"
