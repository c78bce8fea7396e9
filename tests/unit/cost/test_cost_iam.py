"""What the template lets cost remediation do: only resources the control plane tagged
`aiops:model`, and nothing but what remediation needs."""

from __future__ import annotations

from typing import Any

from tests.support.template import template
from tests.unit.deploy.test_deploy_iam import _actions, _statements

# Everything remediation changes (rollback's grants are the rollback alarm's, checked with deploy).
REMEDIATION_WRITES = {
    "sagemaker:UpdateEndpointWeightsAndCapacities",
    "application-autoscaling:RegisterScalableTarget",
    "sagemaker:StopPipelineExecution",
    "bedrock:StopModelCustomizationJob",
    "events:PutEvents",
}


def _cost_function() -> dict[str, Any]:
    return template()["Resources"]["CostSignalFunction"]


def _granting(action: str) -> list[dict[str, Any]]:
    return [s for s in _statements(_cost_function()) if action in _actions(s)]


def test_endpoint_capacity_and_customization_jobs_change_only_where_tagged_aiops_model():
    for action in (
        "sagemaker:UpdateEndpointWeightsAndCapacities",
        "bedrock:StopModelCustomizationJob",
    ):
        statements = _granting(action)
        assert statements, action
        for statement in statements:
            assert statement["Condition"] == {
                "StringLike": {"aws:ResourceTag/aiops:model": "?*"}
            }, action


def test_scaling_bounds_change_only_for_sagemaker_variant_instance_counts():
    (statement,) = _granting("application-autoscaling:RegisterScalableTarget")

    assert statement["Condition"] == {
        "StringEquals": {
            "application-autoscaling:service-namespace": "sagemaker",
            "application-autoscaling:scalable-dimension": "sagemaker:variant:DesiredInstanceCount",
        }
    }
    assert "scalable-target/*" in str(statement["Resource"])


def test_only_pipeline_executions_are_stopped_and_only_the_resume_event_is_sent():
    (stop,) = _granting("sagemaker:StopPipelineExecution")
    (put,) = _granting("events:PutEvents")

    assert stop["Resource"]["Fn::Sub"].endswith(":pipeline/*/execution/*")
    assert put["Condition"] == {
        "StringEquals": {
            "events:source": "aiops.cost",
            "events:detail-type": "Model Triggers Resumed",
        }
    }


def test_no_other_function_may_remediate_cost():
    functions = {
        name: r
        for name, r in template()["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function"
    }
    scaling = sorted(
        name
        for name, function in functions.items()
        if any(
            _actions(s)
            & {
                "sagemaker:UpdateEndpointWeightsAndCapacities",
                "application-autoscaling:RegisterScalableTarget",
            }
            for s in _statements(function)
        )
    )

    assert scaling == ["CostSignalFunction"]
    assert all(
        s.get("Resource") != "*"
        for s in _statements(_cost_function())
        if _actions(s) & REMEDIATION_WRITES
    )
