"""Scenario steps a person or another team takes outside the control plane's functions: a
resume (`aiops resume MODEL`, as the command does it) and an endpoint variant registered with
Application Auto Scaling (the endpoint owner's scaling policy)."""

from __future__ import annotations

from typing import Any

from aiops_local.actors import Actor, acting_as
from aiops_local.cloud import LocalCloud

_RESUME_KEYS = frozenset({"model", "as"})
_SCALING_KEYS = frozenset({"endpoint", "variant", "min", "max"})
# SageMaker's largest variant is far below this; Application Auto Scaling takes any int32.
_MAX_CAPACITY = 10_000


def _mapping(arg: Any, keys: frozenset[str], required: set[str], what: str) -> dict[str, Any]:
    if not isinstance(arg, dict):
        raise ValueError(f"{what} takes a mapping of {', '.join(sorted(keys))}")
    unknown = set(arg) - keys
    if unknown:
        raise ValueError(f"{what}: unknown field(s) {sorted(unknown)}; known: {sorted(keys)}")
    missing = required - set(arg)
    if missing:
        raise ValueError(f"{what}: missing {sorted(missing)}")
    return arg


def resume(cloud: LocalCloud, arg: Any) -> str:
    """`aiops resume MODEL` by `as` (default local-operator): the pause lifted, the saved
    capacity restored; returns the resume's reason."""
    spec = _mapping(arg, _RESUME_KEYS, {"model"}, "resume")
    model, who = str(spec["model"]), str(spec.get("as", "local-operator"))
    # Imported when used: the handlers' environment is the cloud's by now.
    from aiops import clock
    from aiops.adapters.stack import Stack
    from aiops.cost.remediation import resume as resume_model
    from aiops.policy import UnknownModel, parse_policy
    from aiops.settings import Settings

    policy = parse_policy(cloud.policy.text, "the scenario's policy")
    settings = Settings(
        policy_parameter=str(cloud.template.parameters.get("PolicyParameterName", "/aiops/policy")),
        control_table=cloud.table("ControlTable"),
        ledger_table=cloud.table("LedgerTable"),
        alerts_topic_arn=str(cloud.template.ref("AlertsTopic")),
    )
    deps = Stack(settings, clients=cloud.client).resume
    try:
        with acting_as(Actor("function", "aiops resume")):
            result = resume_model(
                model, policy, deps, clock.now(), by=who, cause={"via": "cli", "operator": who}
            )
    except UnknownModel as error:
        raise ValueError(f"resume: {error}") from None
    return result.reason


def scalable_target(cloud: LocalCloud, arg: Any) -> None:
    """RegisterScalableTarget for an endpoint variant's instance count."""
    spec = _mapping(arg, _SCALING_KEYS, {"endpoint", "min", "max"}, "scalable_target")
    low, high = spec["min"], spec["max"]
    for name, value in (("min", low), ("max", high)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"scalable_target: {name} must be a whole number")
        if not 0 <= value <= _MAX_CAPACITY:
            raise ValueError(f"scalable_target: {name} must be between 0 and {_MAX_CAPACITY}")
    if low > high:
        raise ValueError(f"scalable_target: min {low} is above max {high}")
    endpoint, variant = str(spec["endpoint"]), str(spec.get("variant", "AllTraffic"))
    cloud.client("application-autoscaling").register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=f"endpoint/{endpoint}/variant/{variant}",
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        MinCapacity=low,
        MaxCapacity=high,
    )
