"""Endpoints in moto carry the status and deployment the endpoint simulator gives them.

moto creates every endpoint already `InService`, never changes its status, and lacks
UpdateEndpoint (NotImplementedError). `install` makes the SageMaker API tell the story of a real
endpoint, with the simulator (`aiops_local.simulators.sagemaker_endpoint`) moving it on in
virtual time through the functions below:

- CreateEndpoint leaves the endpoint `Creating` (stamped with the virtual time, its variants with
  AWS's default weight and instance count); a name already taken is refused, as on AWS; a
  `DeploymentConfig` is kept as the endpoint's `LastDeploymentConfig`.
- UpdateEndpoint exists: it refuses an unknown endpoint or endpoint configuration, an endpoint
  that is not `InService` (`Cannot update in-progress endpoint`, `Cannot update failed endpoint`),
  a configuration whose production variant names differ from the endpoint's (blue/green keeps the
  variant name), and a traffic routing configuration without its capacity size. It sets the
  endpoint `Updating` and records the pending deployment (new configuration, start time, the new
  fleet's variants, `Creating`); `DeploymentConfig` (or, with `RetainDeploymentConfig`, the last
  one) becomes `LastDeploymentConfig`.
- DescribeEndpoint adds `PendingDeploymentSummary` while a deployment runs and
  `LastDeploymentConfig`; `EndpointConfigName` and `ProductionVariants` stay those of the fleet
  serving traffic until a deployment completes; `FailureReason` says why the last deployment
  failed or was rolled back.

The state lives on moto's `FakeEndpoint` (`aiops_pending`, `aiops_deployment_config`), so it goes
with the endpoint when it is deleted or moto is reset.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeEndpoint, FakeEndpointConfig, sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse

from aiops_local.clock import current_clock
from aiops_local.patches.base import Patcher

# DescribeEndpoint's EndpointStatus values, spelled as the API spells them.
ENDPOINT_STATUSES = (
    "OutOfService",
    "Creating",
    "Updating",
    "SystemUpdating",
    "RollingBack",
    "InService",
    "Deleting",
    "Failed",
    "UpdateRollbackFailed",
)
# A production variant's VariantStatus values during a deployment.
VARIANT_STATUSES = ("Creating", "Updating", "Deleting", "ActivatingTraffic", "Baking")
_ROUTING_TYPES = ("ALL_AT_ONCE", "CANARY", "LINEAR")
_CAPACITY_TYPES = ("INSTANCE_COUNT", "CAPACITY_PERCENT")

_lock = threading.Lock()


def now() -> datetime:
    """The runtime's virtual time when a LocalCloud runs, else the real time."""
    clock = current_clock()
    return clock.now() if clock is not None else datetime.now(UTC)


# ---------------------------------------------------------------------- what the simulator uses
def find_endpoint(account: str, region: str, name: str) -> Any:
    try:
        return sagemaker_backends[account][region].endpoints[name]
    except KeyError:
        raise KeyError(name) from None


def find_config(account: str, region: str, name: str) -> Any:
    try:
        return sagemaker_backends[account][region].endpoint_configs[name]
    except KeyError:
        raise KeyError(name) from None


def pending(endpoint: Any) -> dict[str, Any] | None:
    """The endpoint's PendingDeploymentSummary (API shape, datetimes), if a deployment runs."""
    value = getattr(endpoint, "aiops_pending", None)
    return value if isinstance(value, dict) else None


def deployment_config(endpoint: Any) -> dict[str, Any] | None:
    """The endpoint's LastDeploymentConfig: the one the running (or last) deployment uses."""
    value = getattr(endpoint, "aiops_deployment_config", None)
    return value if isinstance(value, dict) else None


def set_status(
    account: str,
    region: str,
    name: str,
    status: str,
    when: datetime,
    failure_reason: str | None = None,
) -> None:
    """The end of a creation: `InService`, or `Failed` with its reason."""
    if status not in ENDPOINT_STATUSES:
        raise ValueError(f"unknown endpoint status {status!r}")
    endpoint = find_endpoint(account, region, name)
    endpoint.endpoint_status = status
    endpoint.failure_reason = failure_reason
    endpoint.last_modified_time = when


def set_variant_status(
    account: str,
    region: str,
    name: str,
    status: str,
    message: str,
    when: datetime,
    active_instances: int | None = None,
) -> None:
    """The pending deployment's phase, on each of the new fleet's variants."""
    if status not in VARIANT_STATUSES:
        raise ValueError(f"unknown variant status {status!r}")
    summary = pending(find_endpoint(account, region, name))
    if summary is None:
        raise KeyError(f"{name}: no deployment in progress")
    for variant in summary["ProductionVariants"]:
        variant["VariantStatus"] = [{"Status": status, "StatusMessage": message, "StartTime": when}]
        if active_instances is not None and "DesiredInstanceCount" in variant:
            variant["CurrentInstanceCount"] = min(
                active_instances, int(variant["DesiredInstanceCount"])
            )


def complete_deployment(account: str, region: str, name: str, when: datetime) -> None:
    """The new fleet serves all traffic and the old one is gone: the endpoint is `InService`
    on the new configuration."""
    endpoint = find_endpoint(account, region, name)
    summary = pending(endpoint)
    if summary is None:
        raise KeyError(f"{name}: no deployment in progress")
    endpoint.endpoint_config_name = summary["EndpointConfigName"]
    endpoint.production_variants = [
        {
            key: variant[key]
            for key in (
                "VariantName",
                "CurrentWeight",
                "DesiredWeight",
                "CurrentInstanceCount",
                "DesiredInstanceCount",
                "CurrentServerlessConfig",
                "DesiredServerlessConfig",
            )
            if key in variant
        }
        for variant in summary["ProductionVariants"]
    ]
    for variant in endpoint.production_variants:
        if "DesiredInstanceCount" in variant:
            variant["CurrentInstanceCount"] = variant["DesiredInstanceCount"]
        if "DesiredWeight" in variant:
            variant["CurrentWeight"] = variant["DesiredWeight"]
    data_capture = summary.get("aiops_data_capture")
    if data_capture is not None:
        endpoint.data_capture_config = data_capture
    endpoint.aiops_pending = None
    endpoint.endpoint_status = "InService"
    endpoint.failure_reason = None
    endpoint.last_modified_time = when


def roll_back(account: str, region: str, name: str, when: datetime, reason: str) -> None:
    """Traffic is back on the old fleet: `InService` on the old configuration, with the reason."""
    endpoint = find_endpoint(account, region, name)
    endpoint.aiops_pending = None
    endpoint.endpoint_status = "InService"
    endpoint.failure_reason = reason
    endpoint.last_modified_time = when


# ---------------------------------------------------------------------- the patch
def install(patcher: Patcher) -> None:
    """CreateEndpoint leaves the endpoint `Creating`; UpdateEndpoint exists; DescribeEndpoint
    shows the pending deployment, the last deployment configuration and the failure reason."""
    patcher.replace(
        SageMakerResponse, "create_endpoint", _create(SageMakerResponse.create_endpoint)
    )
    patcher.replace(
        SageMakerResponse, "describe_endpoint", _describe(SageMakerResponse.describe_endpoint)
    )
    patcher.add(SageMakerResponse, "update_endpoint", _update)


def _endpoint_arn(response: SageMakerResponse, name: str) -> str:
    return str(FakeEndpoint.arn_formatter(name, response.current_account, response.region))


def _config_arn(response: SageMakerResponse, name: str) -> str:
    return str(FakeEndpointConfig.arn_formatter(name, response.current_account, response.region))


def _with_defaults(variants: list[dict[str, Any]]) -> None:
    """AWS reports a weight (default 1.0) and instance counts for every instance-based variant;
    moto leaves out what the configuration did not give."""
    for variant in variants:
        variant.setdefault("CurrentWeight", variant.get("DesiredWeight", 1.0))
        variant.setdefault("DesiredWeight", variant["CurrentWeight"])
        if "CurrentServerlessConfig" not in variant:
            variant.setdefault("CurrentInstanceCount", variant.get("DesiredInstanceCount", 1))
            variant.setdefault("DesiredInstanceCount", variant["CurrentInstanceCount"])


def _create(original: Any) -> Callable[[SageMakerResponse], ActionResult]:
    def create(self: SageMakerResponse) -> ActionResult:
        name = self._get_param("EndpointName")
        if name in self.sagemaker_backend.endpoints:
            raise ValidationError(
                message=f'Cannot create already existing endpoint "{_endpoint_arn(self, name)}".'
            )
        result = original(self)
        endpoint: Any = self.sagemaker_backend.endpoints[name]
        when = now()
        endpoint.endpoint_status = "Creating"
        endpoint.creation_time = endpoint.last_modified_time = when
        _with_defaults(endpoint.production_variants)
        config = self._get_param("DeploymentConfig")
        if config:
            _check_deployment_config(config)
            endpoint.aiops_deployment_config = copy.deepcopy(config)
        return result

    return create


def _describe(original: Any) -> Callable[[SageMakerResponse], ActionResult]:
    def describe(self: SageMakerResponse) -> ActionResult:
        result = original(self)
        endpoint = self.sagemaker_backend.endpoints[self._get_param("EndpointName")]
        body = {
            k: v
            for k, v in (result.result if isinstance(result.result, dict) else {}).items()
            if not k.startswith("Aiops")
        }
        summary = pending(endpoint)
        if summary is not None:
            body["PendingDeploymentSummary"] = {
                "EndpointConfigName": summary["EndpointConfigName"],
                "StartTime": summary["StartTime"],
                "ProductionVariants": copy.deepcopy(summary["ProductionVariants"]),
            }
        config = deployment_config(endpoint)
        if config is not None:
            body["LastDeploymentConfig"] = copy.deepcopy(config)
        return ActionResult(body)

    return describe


def _capacity(routing: dict[str, Any], key: str) -> None:
    size = routing.get(key)
    if not isinstance(size, dict) or size.get("Type") not in _CAPACITY_TYPES:
        raise ValidationError(
            message=f"TrafficRoutingConfiguration of Type {routing['Type']} requires {key} "
            f"with Type {' or '.join(_CAPACITY_TYPES)} and a Value"
        )
    value = size.get("Value")
    if not isinstance(value, int) or value < 1:
        raise ValidationError(message=f"{key}.Value must be a positive integer")
    if key == "CanarySize" and size["Type"] == "CAPACITY_PERCENT" and value > 50:
        raise ValidationError(message="CanarySize must be at most 50% of the fleet's capacity")


def _check_deployment_config(config: dict[str, Any]) -> None:
    blue_green = config.get("BlueGreenUpdatePolicy")
    if blue_green:
        routing = blue_green.get("TrafficRoutingConfiguration") or {}
        kind = routing.get("Type")
        if kind not in _ROUTING_TYPES:
            raise ValidationError(
                message="TrafficRoutingConfiguration.Type must be one of "
                + ", ".join(_ROUTING_TYPES)
            )
        if kind == "CANARY":
            _capacity(routing, "CanarySize")
        elif kind == "LINEAR":
            _capacity(routing, "LinearStepSize")
    alarms = (config.get("AutoRollbackConfiguration") or {}).get("Alarms")
    if alarms is not None and not 1 <= len(alarms) <= 10:
        raise ValidationError(message="AutoRollbackConfiguration.Alarms takes 1 to 10 alarms")


def _pending_variants(
    endpoint: Any, config: Any, retain: bool, exclude: set[str]
) -> list[dict[str, Any]]:
    current = {v["VariantName"]: v for v in endpoint.production_variants}
    variants = []
    for spec in config.production_variants:
        name = spec["VariantName"]
        variant: dict[str, Any] = {"VariantName": name}
        weight = float(spec.get("InitialVariantWeight", 1.0))
        if retain and "DesiredWeight" not in exclude:
            weight = float(current[name].get("DesiredWeight", weight))
        variant["CurrentWeight"] = variant["DesiredWeight"] = weight
        if "ServerlessConfig" in spec:
            variant["CurrentServerlessConfig"] = variant["DesiredServerlessConfig"] = spec[
                "ServerlessConfig"
            ]
        else:
            count = int(spec.get("InitialInstanceCount", 1))
            if retain and "DesiredInstanceCount" not in exclude:
                count = int(current[name].get("DesiredInstanceCount", count))
            variant["CurrentInstanceCount"] = 0
            variant["DesiredInstanceCount"] = count
            if spec.get("InstanceType"):
                variant["InstanceType"] = spec["InstanceType"]
        variants.append(variant)
    return variants


def _update(self: SageMakerResponse) -> ActionResult:
    backend = self.sagemaker_backend
    name = self._get_param("EndpointName")
    config_name = self._get_param("EndpointConfigName")
    endpoint: Any = backend.endpoints.get(name)
    if endpoint is None:
        raise ValidationError(message=f'Could not find endpoint "{_endpoint_arn(self, name)}".')
    config = backend.endpoint_configs.get(config_name)
    if config is None:
        raise ValidationError(
            message=f'Could not find endpoint configuration "{_config_arn(self, config_name)}".'
        )
    deployment = self._get_param("DeploymentConfig")
    retain_config = bool(self._get_param("RetainDeploymentConfig"))
    retain_variants = bool(self._get_param("RetainAllVariantProperties"))
    exclude = {
        p.get("VariantPropertyType")
        for p in self._get_param("ExcludeRetainedVariantProperties") or []
    }
    with _lock:
        if endpoint.endpoint_status == "Failed":
            raise ValidationError(
                message=f'Cannot update failed endpoint "{_endpoint_arn(self, name)}".'
            )
        if endpoint.endpoint_status != "InService":
            raise ValidationError(
                message=f'Cannot update in-progress endpoint "{_endpoint_arn(self, name)}".'
            )
        serving = sorted(v["VariantName"] for v in endpoint.production_variants)
        wanted = sorted(v["VariantName"] for v in config.production_variants)
        if serving != wanted:
            raise ValidationError(
                message=f"The production variant names of endpoint configuration {config_name} "
                f"({', '.join(wanted)}) must be those of endpoint {name} ({', '.join(serving)}): "
                "a blue/green deployment keeps the variant names."
            )
        if deployment is None and retain_config:
            deployment = deployment_config(endpoint)
        if deployment:
            _check_deployment_config(deployment)
        when = now()
        summary: dict[str, Any] = {
            "EndpointConfigName": config_name,
            "StartTime": when,
            "ProductionVariants": _pending_variants(endpoint, config, retain_variants, exclude),
        }
        if not (retain_variants and "DataCaptureConfig" not in exclude):
            summary["aiops_data_capture"] = copy.deepcopy(config.data_capture_config)
        for variant in summary["ProductionVariants"]:
            count = variant.get("DesiredInstanceCount", 1)
            variant["VariantStatus"] = [
                {
                    "Status": "Creating",
                    "StatusMessage": f"Launching {count} instance(s).",
                    "StartTime": when,
                }
            ]
        endpoint.aiops_pending = summary
        endpoint.aiops_deployment_config = copy.deepcopy(deployment) if deployment else None
        endpoint.endpoint_status = "Updating"
        endpoint.failure_reason = None
        endpoint.last_modified_time = when
    return ActionResult({"EndpointArn": endpoint.arn})
