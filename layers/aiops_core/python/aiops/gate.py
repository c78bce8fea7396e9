"""The automatic gate: a candidate model against the champion, by the policy's rules.

Pure decision logic; the workflow applies it (registry status, ledger, alert). A failing check
names the metric, both values and the rule, so the rejection explains itself.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from aiops.policy import GatePolicy

# Metric names the evaluation step reports for the optional safety and fairness checks.
SAFETY_METRIC = "safety_pass_rate"
FAIRNESS_METRIC = "fairness_gap"


class GateResult(BaseModel):
    model_config = ConfigDict(frozen=True)
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


def evaluate_gate(
    gate: GatePolicy, candidate: dict[str, float], champion: dict[str, float] | None
) -> GateResult:
    """Every check runs, so a rejection lists all its reasons, not just the first."""
    metric = gate.metric
    value = candidate.get(metric)
    best = champion.get(metric) if champion else None
    failures: list[str] = []
    passes: list[str] = []

    if value is None:
        failures.append(f"the candidate's evaluation has no {metric}")
    else:
        if gate.floor is not None:
            below = value < gate.floor if gate.higher_is_better else value > gate.floor
            bound = "at least" if gate.higher_is_better else "at most"
            (failures if below else passes).append(
                f"{metric} {value:g} must be {bound} {gate.floor:g}"
            )
        if best is None:
            passes.append(f"no champion to beat: {metric} {value:g}")
        else:
            gain = value - best if gate.higher_is_better else best - value
            ok = gain >= gate.min_improvement
            (passes if ok else failures).append(
                f"{metric} {value:g} vs champion {best:g}: improvement {gain:+.4g}, "
                f"required {gate.min_improvement:g}"
            )
    if gate.safety_min_pass_rate is not None:
        safety = candidate.get(SAFETY_METRIC)
        if safety is None:
            failures.append(
                f"no {SAFETY_METRIC} in the evaluation; the policy requires "
                f"{gate.safety_min_pass_rate:g}"
            )
        elif safety < gate.safety_min_pass_rate:
            failures.append(f"{SAFETY_METRIC} {safety:g} below {gate.safety_min_pass_rate:g}")
        else:
            passes.append(f"{SAFETY_METRIC} {safety:g}")
    if gate.fairness_max_gap is not None:
        gap = candidate.get(FAIRNESS_METRIC)
        if gap is not None and gap > gate.fairness_max_gap:
            failures.append(f"{FAIRNESS_METRIC} {gap:g} above {gate.fairness_max_gap:g}")
        elif gap is not None:
            passes.append(f"{FAIRNESS_METRIC} {gap:g}")

    if failures:
        return GateResult(
            decision="reject", reasons=failures, metric=metric, candidate=value, champion=best
        )
    decision: Literal["approve", "await_human"] = "await_human" if gate.human else "approve"
    return GateResult(
        decision=decision, reasons=passes, metric=metric, candidate=value, champion=best
    )
