"""Model Monitor's violations report (`constraint_violations.json`), read and written.

The format is Model Monitor's own, so a report from SageMaker and one from our drift check are read
the same way: `{"violations": [{"feature_name", "constraint_check_type", "description"}]}`.
"""

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# The check types Model Monitor's data-quality container reports.
CHECK_TYPES = (
    "data_type_check",
    "completeness_check",
    "baseline_drift_check",
    "missing_column_check",
    "extra_column_check",
    "categorical_values_check",
)


class Violation(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)
    feature_name: str = Field(min_length=1)
    constraint_check_type: str = Field(min_length=1)
    description: str = ""


class _Report(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)
    violations: list[Violation]


class InvalidReport(ValueError):
    """A violations report that cannot be read, with where and why."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"violations report {source}: {reason}")


def parse_violations(text: str | bytes, source: str) -> list[Violation]:
    """The violations of a `constraint_violations.json`, or `InvalidReport` naming the field."""
    try:
        raw: Any = json.loads(text)
    except ValueError as exc:
        raise InvalidReport(source, f"not JSON: {exc}") from exc
    try:
        return _Report.model_validate(raw).violations
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(document)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise InvalidReport(source, problems) from exc


def violations_document(violations: list[Violation]) -> dict[str, Any]:
    """The JSON document Model Monitor writes for these violations."""
    return {"violations": [v.model_dump() for v in violations]}
