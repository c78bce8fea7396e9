"""What the template lets the deploy functions do to SageMaker: only the control plane's own
endpoints and configs, and only the model execution role passed."""

from __future__ import annotations

from typing import Any

from tests.support.template import template

SAGEMAKER_WRITES = {
    "sagemaker:UpdateEndpoint",
    "sagemaker:CreateEndpoint",
    "sagemaker:CreateModel",
    "sagemaker:CreateEndpointConfig",
}


def _statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """Every IAM statement a function or managed policy grants (inline and referenced)."""
    found: list[dict[str, Any]] = []
    properties = resource["Properties"]
    if resource["Type"] == "AWS::IAM::ManagedPolicy":
        return list(properties["PolicyDocument"]["Statement"])
    managed = template()["Resources"]
    for policy in properties.get("Policies", []):
        if isinstance(policy, dict) and "Statement" in policy:
            for statement in policy["Statement"]:
                if isinstance(statement, dict) and "Fn::If" in statement:
                    statement = statement["Fn::If"][1]
                found.append(statement)
        elif isinstance(policy, dict) and "Ref" in policy:
            found.extend(_statements(managed[policy["Ref"]]))
    return found


def _actions(statement: dict[str, Any]) -> set[str]:
    actions = statement.get("Action", [])
    return {actions} if isinstance(actions, str) else set(actions)


def _functions() -> dict[str, dict[str, Any]]:
    return {
        name: r
        for name, r in template()["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function"
    }


def test_every_sagemaker_endpoint_write_is_conditioned_on_the_control_planes_tag_or_names():
    for name, function in _functions().items():
        for statement in _statements(function):
            writes = _actions(statement) & SAGEMAKER_WRITES
            if not writes:
                continue
            resources = statement["Resource"]
            resources = resources if isinstance(resources, list) else [resources]
            text = str(resources)
            condition = str(statement.get("Condition", {}))
            # Then: a tag the control plane puts on what it creates, or names it gives them
            assert "aiops:model" in condition or all("aiops-" in str(r) for r in resources), (
                f"{name} may {sorted(writes)} on {text} unconditionally"
            )
            assert text.strip("[]'\"") != "*", f"{name}: {sorted(writes)} on every resource"


def test_only_the_model_execution_role_can_be_passed_and_only_to_sagemaker():
    passes = {
        name: s
        for name, function in _functions().items()
        for s in _statements(function)
        if "iam:PassRole" in _actions(s)
    }
    # The deploy step passes the model execution role to SageMaker; the fine-tune steps that
    # start Bedrock jobs pass the stack's own job role to Bedrock; nothing else passes a role.
    assert sorted(passes) == [
        "EvaluateCandidateFunction",
        "StartDeploymentFunction",
        "StartFineTuneFunction",
    ]
    assert passes["StartDeploymentFunction"]["Resource"] == {"Ref": "ModelExecutionRoleArn"}
    assert passes["StartDeploymentFunction"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    for name in ("EvaluateCandidateFunction", "StartFineTuneFunction"):
        assert passes[name]["Resource"] == {"Fn::GetAtt": ["BedrockJobRole", "Arn"]}
        assert passes[name]["Condition"] == {
            "StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}
        }


def test_only_the_deploy_functions_and_cost_remediation_change_endpoints():
    changing = sorted(
        name
        for name, function in _functions().items()
        if any(_actions(s) & SAGEMAKER_WRITES for s in _statements(function))
    )
    # Cost remediation rolls back as the rollback alarm does, and scales to the minimum.
    assert changing == ["CostSignalFunction", "RollbackAlarmFunction", "StartDeploymentFunction"]
