"""The automatic gate: a candidate model against the champion, by the policy's rules.

Pure decision logic; the workflow applies it (registry status, ledger, alert). A failing check
names the metric, both values and the rule, so the rejection explains itself.
"""

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from aiops.policy import GatePolicy

# Metric names the evaluation step reports for the optional safety and fairness checks.
SAFETY_METRIC = "safety_pass_rate"
FAIRNESS_METRIC = "fairness_gap"


class GateResult(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    decision: Literal["approve", "await_human", "reject"]
    reasons: list[str] = Field(default_factory=list)
    metric: str
    candidate: float | None
    champion: float | None

    @property
    def passed(self) -> bool:
        return self.decision != "reject"

    @property
    def summary(self) -> str:
        return "; ".join(self.reasons)


def _not_finite(what: str, value: float) -> str | None:
    """The reason `value` cannot be compared, or None when it is a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{what} is {value!r}, not a number"
    if not math.isfinite(value):
        return f"{what} is {value:g}, not a finite number"
    return None


def evaluate_gate(
    gate: GatePolicy, candidate: dict[str, float], champion: dict[str, float] | None
) -> GateResult:
    """Every check runs, so a rejection lists all its reasons, not just the first.

    A result the policy needs that is missing or not a finite number (NaN, ±inf) fails its check:
    the gate fails closed, whether or not there is a champion.
    """
    metric = gate.metric
    value = candidate.get(metric)
    # A champion (the latest approved package) exists whenever `champion` is not None, even with
    # an evaluation that lacks the metric: then the comparison cannot be made, and fails.
    best = champion.get(metric) if champion is not None else None
    failures: list[str] = []
    passes: list[str] = []

    usable: float | None = None  # the candidate's metric, when it is a finite number
    if value is None:
        failures.append(f"the candidate's evaluation has no {metric}")
    elif (bad := _not_finite(f"the candidate's {metric}", value)) is not None:
        failures.append(bad)
    else:
        usable = value
    if usable is not None and gate.floor is not None:
        below = usable < gate.floor if gate.higher_is_better else usable > gate.floor
        bound = "at least" if gate.higher_is_better else "at most"
        (failures if below else passes).append(
            f"{metric} {usable:g} must be {bound} {gate.floor:g}"
        )
    if champion is None:
        if usable is not None:
            passes.append(f"no champion to beat: {metric} {usable:g}")
    elif best is None:
        failures.append(f"the champion's evaluation has no {metric}: nothing to compare with")
    elif (bad := _not_finite(f"the champion's {metric}", best)) is not None:
        failures.append(f"{bad}: nothing to compare with")
    elif usable is not None:
        gain = usable - best if gate.higher_is_better else best - usable
        ok = gain >= gate.min_improvement
        (passes if ok else failures).append(
            f"{metric} {usable:g} vs champion {best:g}: improvement {gain:+.4g}, "
            f"required {gate.min_improvement:g}"
        )
    if gate.safety_min_pass_rate is not None:
        _check_result(
            SAFETY_METRIC,
            candidate.get(SAFETY_METRIC),
            gate.safety_min_pass_rate,
            True,
            failures,
            passes,
        )
    if gate.fairness_max_gap is not None:
        _check_result(
            FAIRNESS_METRIC,
            candidate.get(FAIRNESS_METRIC),
            gate.fairness_max_gap,
            False,
            failures,
            passes,
        )

    if failures:
        return GateResult(
            decision="reject", reasons=failures, metric=metric, candidate=value, champion=best
        )
    decision: Literal["approve", "await_human"] = "await_human" if gate.human else "approve"
    return GateResult(
        decision=decision, reasons=passes, metric=metric, candidate=value, champion=best
    )


def _check_result(
    name: str,
    value: float | None,
    bound: float,
    at_least: bool,
    failures: list[str],
    passes: list[str],
) -> None:
    """A safety or fairness result the policy asks for: missing or not finite fails closed."""
    rule = f"{bound:g}" if at_least else f"at most {bound:g}"
    if value is None:
        failures.append(f"no {name} in the evaluation; the policy requires {rule}")
    elif (bad := _not_finite(name, value)) is not None:
        failures.append(f"{bad}; the policy requires {rule}")
    elif value < bound if at_least else value > bound:
        failures.append(f"{name} {value:g} {'below' if at_least else 'above'} {bound:g}")
    else:
        passes.append(f"{name} {value:g}")
