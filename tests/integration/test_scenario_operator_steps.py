"""The `resume` and `scalable_target` scenario steps: what a person or the endpoint's owner
does, checked and refused with the field when wrong."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aiops_local import LocalCloud
from aiops_local.scenario import ScenarioError
from tests.support.runtime import run_steps, run_steps_unchecked
from tests.support.template import ROOT

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    # One cloud for the module: the refused steps change nothing, and the two that act touch
    # different things (a scalable target, a model never paused).
    with LocalCloud(
        ROOT / "template.yaml", policy=ROOT / "scenarios" / "policies" / "cost.yaml", start=START
    ) as running:
        yield running


def test_scalable_target_registers_the_variant_with_its_bounds(cloud: LocalCloud, tmp_path: Path):
    run_steps(
        cloud, tmp_path, [{"scalable_target": {"endpoint": "churn-prod", "min": 1, "max": 3}}]
    )

    (target,) = cloud.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="sagemaker"
    )["ScalableTargets"]
    assert target["ResourceId"] == "endpoint/churn-prod/variant/AllTraffic"
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 3)


def test_a_resume_of_a_model_never_paused_changes_nothing(cloud: LocalCloud, tmp_path: Path):
    run_steps(cloud, tmp_path, [{"resume": {"model": "churn", "as": "ana"}}])

    assert [e for e in cloud.ledger("churn")] == []


@pytest.mark.parametrize(
    ("step", "says"),
    [
        ({"resume": {"model": "nobody"}}, "nobody"),
        ({"resume": {"modle": "churn"}}, "unknown field(s) ['modle']"),
        ({"resume": "churn"}, "takes a mapping"),
        (
            {"scalable_target": {"endpoint": "churn-prod", "min": 3, "max": 1}},
            "min 3 is above max 1",
        ),
        (
            {"scalable_target": {"endpoint": "churn-prod", "min": -1, "max": 1}},
            "min must be between",
        ),
        (
            {"scalable_target": {"endpoint": "churn-prod", "min": 1.5, "max": 2}},
            "min must be a whole",
        ),
        ({"scalable_target": {"endpoint": "churn-prod", "max": 2}}, "missing ['min']"),
    ],
)
def test_a_wrong_operator_step_is_refused_with_the_field(
    cloud: LocalCloud, tmp_path: Path, step: dict[str, object], says: str
):
    with pytest.raises(ScenarioError) as caught:
        run_steps_unchecked(cloud, tmp_path, [step])

    assert says in str(caught.value)
