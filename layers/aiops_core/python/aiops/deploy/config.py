"""The policy's deploy section as SageMaker's DeploymentConfig, and the lease it needs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiops.policy import SageMakerDeployPolicy
from aiops.units import format_duration

# After SageMaker's own deployment timeout (it rolls back then), how long we still wait for its
# last event before reading the endpoint ourselves.
OUTCOME_GRACE = timedelta(minutes=10)
# The lock's lease covers the wait and the steps around it (start, finish: Lambda retries).
STEPS_MARGIN = timedelta(minutes=20)
# Starting a shadow test and judging it, around the experiment itself.
SHADOW_MARGIN = timedelta(minutes=30)


def deployment_config(policy: SageMakerDeployPolicy) -> dict[str, Any]:
    """UpdateEndpoint's DeploymentConfig: blue/green by the policy's traffic shifting, with
    auto-rollback on its alarms."""
    shifts = policy.shifts_traffic_by
    routing: dict[str, Any] = {"Type": shifts.upper()}
    if shifts == "canary":
        routing["WaitIntervalInSeconds"] = int(policy.bake.total_seconds())
        routing["CanarySize"] = {"Type": "CAPACITY_PERCENT", "Value": policy.canary_percent}
    elif shifts == "linear":
        routing["WaitIntervalInSeconds"] = int(policy.bake.total_seconds())
        routing["LinearStepSize"] = {"Type": "CAPACITY_PERCENT", "Value": policy.canary_percent}
    config: dict[str, Any] = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": int(policy.termination_wait.total_seconds()),
            "MaximumExecutionTimeoutInSeconds": int(policy.timeout.total_seconds()),
        }
    }
    if policy.rollback_alarms:
        config["AutoRollbackConfiguration"] = {
            "Alarms": [{"AlarmName": name} for name in policy.rollback_alarms]
        }
    return config


def describe_strategy(policy: SageMakerDeployPolicy) -> str:
    """The deployment in words, for the ledger and the alerts."""
    shifts = policy.shifts_traffic_by
    fleet = f"{policy.instance_count} x {policy.instance_type}"
    if shifts == "canary":
        steps = f"canary {policy.canary_percent}% of {fleet}, bake {format_duration(policy.bake)}"
    elif shifts == "linear":
        steps = f"linear steps of {policy.canary_percent}% of {fleet}, each baking " + (
            format_duration(policy.bake)
        )
    else:
        steps = f"all at once on {fleet}"
    alarms = ", ".join(policy.rollback_alarms) or "no alarm"
    return (
        f"{steps}, then {format_duration(policy.termination_wait)} before the old fleet goes; "
        f"rolls back on {alarms}"
    )


def outcome_wait(policy: SageMakerDeployPolicy) -> timedelta:
    """How long the workflow waits for the deployment's end before reading the endpoint."""
    return policy.timeout + OUTCOME_GRACE


def lease(policy: SageMakerDeployPolicy) -> timedelta:
    """How long a deployment may hold its endpoint: every wait it does, and its steps."""
    held = outcome_wait(policy) + STEPS_MARGIN
    if policy.strategy == "shadow" and policy.shadow is not None:
        held += policy.shadow.duration + SHADOW_MARGIN
    return held
