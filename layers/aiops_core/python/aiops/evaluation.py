"""Reading a model's evaluation report into flat metrics."""

from __future__ import annotations

from typing import Any


def flatten_metrics(report: Any) -> dict[str, float]:
    """Metrics of an evaluation report, by name.

    Accepts SageMaker's model-quality format (`{"binary_classification_metrics": {"auc":
    {"value": 0.81, "standard_deviation": ...}}}`) and a flat `{"metrics": {"auc": 0.81}}`.
    """
    found: dict[str, float] = {}

    def visit(node: Any) -> None:
        if not isinstance(node, dict):
            return
        for name, value in node.items():
            if isinstance(value, bool):
                continue
            if isinstance(value, int | float):
                found.setdefault(name, float(value))
            elif isinstance(value, dict) and isinstance(value.get("value"), int | float):
                found.setdefault(name, float(value["value"]))
            else:
                visit(value)

    visit(report)
    return found
