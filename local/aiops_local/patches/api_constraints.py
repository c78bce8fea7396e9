"""A request against an AWS API's constraints, read from botocore's model of the API, worded as
the services word them ("1 validation error detected: Value '...' at 'jobName' failed to satisfy
constraint: Member must ...").

botocore checks types, required members and minimum lengths on the client; a service also checks
patterns, maximums, enums and ranges. An offline operation checks them all here, so a request
that AWS would refuse is refused offline too. Members are named in lower camel case, as both
Bedrock and SageMaker name them in these messages.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import botocore.session
from botocore.model import Shape


def validation_message(service: str, operation: str, params: dict[str, Any]) -> str | None:
    """What the service says of a request breaking its constraints; None when it keeps them."""
    problems: list[str] = []
    _check(_input_shape(service, operation), params, "", problems)
    if not problems:
        return None
    count = len(problems)
    return f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(problems)


@cache
def _input_shape(service: str, operation: str) -> Shape:
    model = botocore.session.get_session().get_service_model(service)
    return model.operation_model(operation).input_shape


@cache
def _pattern(text: str) -> re.Pattern[str] | None:
    try:
        return re.compile(text)
    except re.error:  # a Java-only construct (\p{L}): the service checks it, we cannot
        return None


def _check(shape: Shape, value: Any, where: str, problems: list[str]) -> None:
    meta = shape.metadata
    name = where or "request"
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            problems.append(
                f"Value at '{name}' failed to satisfy constraint: Member must be an object"
            )
            return
        for member in shape.required_members:
            if value.get(member) is None:
                problems.append(
                    f"Value null at '{_join(where, member)}' failed to satisfy constraint: "
                    "Member must not be null"
                )
        for member, member_shape in shape.members.items():
            if value.get(member) is not None:
                _check(member_shape, value[member], _join(where, member), problems)
        return
    if kind == "list":
        if not isinstance(value, list):
            problems.append(
                f"Value at '{name}' failed to satisfy constraint: Member must be a list"
            )
            return
        _length(len(value), value, name, meta, problems, shown=False)
        for index, item in enumerate(value):
            _check(shape.member, item, f"{name}.{index + 1}.member", problems)
        return
    if kind == "map":
        if not isinstance(value, dict):
            problems.append(f"Value at '{name}' failed to satisfy constraint: Member must be a map")
            return
        for key, item in value.items():
            _check(shape.key, key, f"{name}.key", problems)
            _check(shape.value, item, f"{name}.{key}", problems)
        return
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(
                f"Value at '{name}' failed to satisfy constraint: Member must be a number"
            )
            return
        low, high = meta.get("min"), meta.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            bound = (
                f"have value between {low} and {high}"
                if low is not None and high is not None
                else f"have value greater than or equal to {low}"
                if low is not None
                else f"have value less than or equal to {high}"
            )
            problems.append(
                f"Value '{value}' at '{name}' failed to satisfy constraint: Member must {bound}"
            )
        return
    if kind == "string":
        if not isinstance(value, str):
            problems.append(
                f"Value at '{name}' failed to satisfy constraint: Member must be a string"
            )
            return
        if "enum" in meta and value not in meta["enum"]:
            problems.append(
                f"Value '{_shown(value)}' at '{name}' failed to satisfy constraint: Member must "
                f"satisfy enum value set: [{', '.join(meta['enum'])}]"
            )
        _length(len(value), value, name, meta, problems, shown=True)
        pattern = _pattern(meta["pattern"]) if "pattern" in meta else None
        if pattern is not None and pattern.fullmatch(value) is None:
            problems.append(
                f"Value '{_shown(value)}' at '{name}' failed to satisfy constraint: Member must "
                f"satisfy regular expression pattern: {meta['pattern']}"
            )


def _length(
    size: int, value: Any, name: str, meta: dict[str, Any], problems: list[str], shown: bool
) -> None:
    what = f"Value '{_shown(value)}'" if shown else "Value"
    if size < meta.get("min", 0):
        problems.append(
            f"{what} at '{name}' failed to satisfy constraint: Member must have length greater "
            f"than or equal to {meta['min']}"
        )
    if "max" in meta and size > meta["max"]:
        problems.append(
            f"{what} at '{name}' failed to satisfy constraint: Member must have length less than "
            f"or equal to {meta['max']}"
        )


def _shown(value: str) -> str:
    return value if len(value) <= 200 else value[:200] + "..."


def _join(where: str, member: str) -> str:
    member = member[:1].lower() + member[1:]  # `LabelingJobName` → `labelingJobName`
    return f"{where}.{member}" if where else member
