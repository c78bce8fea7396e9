"""SageMaker endpoints: creation, and blue/green deployments with auto-rollback, in virtual time.

moto creates endpoints `InService` at once and has no UpdateEndpoint; with the
`patches.sagemaker_endpoints` patch the API keeps the endpoint's status and pending deployment,
and this simulator runs them as SageMaker does ("Deployment guardrails", SageMaker Developer
Guide), emitting the events SageMaker sends:

- CreateEndpoint: `Creating` ("SageMaker Endpoint State Change" `CREATING`), then after
  `provision`: `InService` (`IN_SERVICE`) — or, when the fleet fails, `Failed` (`FAILED`, with
  `FailureReason`).
- UpdateEndpoint: `Updating` (`UPDATING`); the new fleet is `Creating` for `provision`, then
  traffic shifts to it as `DeploymentConfig.BlueGreenUpdatePolicy` says, each phase a
  "SageMaker Endpoint Deployment State Change" (the shape of
  `events/sagemaker_endpoint_deployment_state_change.json`: the serving fleet, `UPDATING`, and
  `PendingDeploymentSummary` with the new fleet's `VariantStatus`):
    CANARY       ActivatingTraffic on the canary (CanarySize) → Baking WaitIntervalInSeconds →
                 ActivatingTraffic on the full fleet → Baking TerminationWaitInSeconds
    LINEAR       ActivatingTraffic on LinearStepSize more instances → Baking WaitIntervalInSeconds,
                 until the full fleet, whose bake is TerminationWaitInSeconds
    ALL_AT_ONCE  ActivatingTraffic on the full fleet → Baking TerminationWaitInSeconds
  An update without DeploymentConfig is all at once with no bake. At the end the endpoint is
  `InService` on the new configuration (`IN_SERVICE`).
- Auto-rollback: from the first traffic shift to the end of the last bake, an alarm of
  `AutoRollbackConfiguration.Alarms` in `ALARM` (already, when the window opens — read with
  DescribeAlarms, as SageMaker does — or set so later: SetAlarmState) rolls the deployment back:
  the new fleet is terminated (`Deleting`), the endpoint is `InService` on the old configuration
  with a `FailureReason` naming the alarm (`IN_SERVICE`). Other alarms do not count, and after
  the last bake nothing rolls back: going back is a new UpdateEndpoint.
- `MaximumExecutionTimeoutInSeconds` (from UpdateEndpoint) passed: rolled back likewise. A new
  fleet that fails to provision (`fail`): rolled back likewise.

`deployments` lists what ran: endpoint, from/to configuration, strategy, outcome, the alarm that
fired, the reason.

Settings (scenario `simulators.sagemaker_endpoint`, or a `configure` step):
  provision: 5m                 (virtual time to launch a fleet: a new endpoint's, or the new one
                                 of a deployment)
  activate: 0s                  (how long each traffic shift is ActivatingTraffic before Baking)
  fail: "<reason>"              (the next fleets fail to provision with that FailureReason; `true`:
                                 SageMaker's failed ping health check; null: they do not fail)
  next: [{fail: "..."}, ...]    (per-create/update overrides, used in order by the next ones)
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from aiops.units import duration_seconds
from aiops_local.patches import sagemaker_endpoints
from aiops_local.patches.botocore_calls import ApiCall
from aiops_local.simulators.base import Simulator, SimulatorHost, register
from aiops_local.simulators.settings import RunSettings, check_known

_SETTINGS = ("provision", "activate", "fail")
DEPLOYMENT_CHANGE = "SageMaker Endpoint Deployment State Change"
STATE_CHANGE = "SageMaker Endpoint State Change"
_VARIANT_FIELDS = (
    "VariantName",
    "CurrentWeight",
    "DesiredWeight",
    "CurrentInstanceCount",
    "DesiredInstanceCount",
)


def event_status(status: str) -> str:
    """DescribeEndpoint's `InService` as the events spell it: `IN_SERVICE`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", status).upper()


def _millis(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _health_check_failure(variant: str) -> str:
    return (
        f"The primary container for production variant {variant} did not pass the ping health "
        "check. Please check CloudWatch Logs for this endpoint."
    )


@dataclass(frozen=True)
class _Step:
    """One traffic shift of a deployment and the bake after it."""

    active: int  # instances of the new fleet taking traffic after the shift
    activating: str  # VariantStatus message while traffic shifts
    bake_s: float  # 0: no bake
    baking: str  # VariantStatus message while it bakes


@dataclass
class Deployment:
    """A create or update the simulator ran, and how it ended."""

    kind: str  # create | update
    endpoint: str
    arn: str
    from_config: str | None  # None for a create
    to_config: str
    strategy: str | None  # ALL_AT_ONCE | CANARY | LINEAR for an update; None for a create
    alarms: tuple[str, ...]  # AutoRollbackConfiguration's alarm names
    started: datetime
    settings: dict[str, Any]
    outcome: str = "in_progress"  # in_progress | succeeded | failed | rolled_back
    alarm: str | None = None  # the alarm that rolled it back
    reason: str | None = None  # FailureReason, when it failed or was rolled back
    ended: datetime | None = None
    phases: list[str] = field(default_factory=list)  # VariantStatus values, in order
    steps: list[_Step] = field(default_factory=list)
    watching: bool = False  # inside the auto-rollback window

    @property
    def running(self) -> bool:
        return self.outcome == "in_progress"


def _capacity(size: dict[str, Any], instances: int) -> int:
    value = int(size["Value"])
    if size["Type"] == "CAPACITY_PERCENT":
        return min(instances, max(1, math.floor(instances * value / 100)))
    return max(1, min(instances, value))


def plan(config: dict[str, Any] | None, instances: int) -> tuple[str, list[_Step]]:
    """The traffic shifts of a deployment of `instances` instances under `config`."""
    full = f"full capacity of {instances} instance(s)"
    policy = (config or {}).get("BlueGreenUpdatePolicy")
    if not policy:
        return "ALL_AT_ONCE", [_Step(instances, f"Activating traffic on {full}.", 0, "")]
    routing = policy.get("TrafficRoutingConfiguration") or {}
    kind = str(routing.get("Type", "ALL_AT_ONCE"))
    wait = float(routing.get("WaitIntervalInSeconds", 0))
    termination = float(policy.get("TerminationWaitInSeconds", 0))

    def final() -> _Step:
        return _Step(
            instances,
            f"Activating traffic on {full}.",
            termination,
            f"Baking for {termination:.0f} seconds (TerminationWaitInSeconds) with traffic "
            f"enabled on {full}.",
        )

    steps: list[_Step] = []
    if kind == "CANARY":
        canary = _capacity(routing["CanarySize"], instances)
        what = f"canary capacity of {canary} instance(s)"
        steps.append(
            _Step(
                canary,
                f"Activating traffic on {what}.",
                wait,
                f"Baking for {wait:.0f} seconds (WaitIntervalInSeconds) with traffic "
                f"enabled on {what}.",
            )
        )
    elif kind == "LINEAR":
        step = _capacity(routing["LinearStepSize"], instances)
        active = step
        while active < instances:
            what = f"linear step capacity of {active} instance(s)"
            steps.append(
                _Step(
                    active,
                    f"Activating traffic on {what}.",
                    wait,
                    f"Baking for {wait:.0f} seconds (WaitIntervalInSeconds) with traffic "
                    f"enabled on {what}.",
                )
            )
            active += step
    return kind, [*steps, final()]


@register
class SageMakerEndpointSimulator(Simulator):
    name = "sagemaker_endpoint"
    watches: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {
            ("sagemaker", "CreateEndpoint"),
            ("sagemaker", "UpdateEndpoint"),
            ("cloudwatch", "SetAlarmState"),
        }
    )

    def __init__(self, host: SimulatorHost) -> None:
        super().__init__(host)
        self.settings = RunSettings(
            self.name, {"provision": "5m", "activate": "0s", "fail": None}, self._check
        )
        self._deployments: list[Deployment] = []
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ settings
    def configure(self, settings: dict[str, Any]) -> None:
        self.settings.configure(settings)

    @staticmethod
    def _check(settings: dict[str, Any]) -> None:
        check_known("sagemaker_endpoint", settings, _SETTINGS)
        for key in ("provision", "activate"):
            if key in settings and duration_seconds(settings[key]) < 0:
                raise ValueError(f"sagemaker_endpoint: {key} must not be negative")
        fail = settings.get("fail")
        if fail is not None and not isinstance(fail, bool | str):
            raise ValueError("sagemaker_endpoint: fail is a FailureReason (text), true or null")

    # ------------------------------------------------------------------ reading
    @property
    def deployments(self) -> list[Deployment]:
        """Every create and update run so far, oldest first."""
        with self._lock:
            return list(self._deployments)

    # ------------------------------------------------------------------ calls
    def on_call(self, call: ApiCall) -> None:
        if call.error is not None:
            return
        if call.operation == "SetAlarmState":
            if call.params.get("StateValue") == "ALARM":
                self._alarm_fired(str(call.params["AlarmName"]))
            return
        if call.result is None:
            return
        name = str(call.params["EndpointName"])
        try:
            endpoint = sagemaker_endpoints.find_endpoint(self.host.account, self.host.region, name)
        except KeyError:
            return  # deleted meanwhile
        settings = self.settings.for_next_run()
        if call.operation == "CreateEndpoint":
            self._start_create(endpoint, settings)
        else:
            self._start_update(endpoint, settings)

    def _start_create(self, endpoint: Any, settings: dict[str, Any]) -> None:
        deployment = Deployment(
            kind="create",
            endpoint=endpoint.endpoint_name,
            arn=endpoint.arn,
            from_config=None,
            to_config=endpoint.endpoint_config_name,
            strategy=None,
            alarms=(),
            started=self.host.clock.now(),
            settings=settings,
        )
        with self._lock:
            self._deployments.append(deployment)
        self._emit_state(endpoint)
        self.host.agenda.after(
            duration_seconds(settings["provision"]),
            f"endpoint {deployment.endpoint} provisioned",
            lambda: self._created(deployment),
        )

    def _start_update(self, endpoint: Any, settings: dict[str, Any]) -> None:
        summary = sagemaker_endpoints.pending(endpoint)
        if summary is None:
            return
        config = sagemaker_endpoints.deployment_config(endpoint)
        instances = max(
            [int(v.get("DesiredInstanceCount", 1)) for v in summary["ProductionVariants"]] or [1]
        )
        strategy, steps = plan(config, instances)
        alarms = tuple(
            str(a["AlarmName"])
            for a in ((config or {}).get("AutoRollbackConfiguration") or {}).get("Alarms") or []
        )
        deployment = Deployment(
            kind="update",
            endpoint=endpoint.endpoint_name,
            arn=endpoint.arn,
            from_config=endpoint.endpoint_config_name,
            to_config=summary["EndpointConfigName"],
            strategy=strategy,
            alarms=alarms,
            started=self.host.clock.now(),
            settings=settings,
            phases=["Creating"],
            steps=steps,
        )
        with self._lock:
            self._deployments.append(deployment)
        self._emit_deployment(endpoint)
        self._emit_state(endpoint)
        agenda = self.host.agenda
        agenda.after(
            duration_seconds(settings["provision"]),
            f"endpoint {deployment.endpoint}: new fleet provisioned",
            lambda: self._provisioned(deployment),
        )
        timeout = ((config or {}).get("BlueGreenUpdatePolicy") or {}).get(
            "MaximumExecutionTimeoutInSeconds"
        )
        if timeout:
            agenda.after(
                float(timeout),
                f"endpoint {deployment.endpoint}: deployment timeout",
                lambda: self._timed_out(deployment, int(timeout)),
            )

    def _alarm_fired(self, alarm: str) -> None:
        with self._lock:
            hit = [d for d in self._deployments if d.running and d.watching and alarm in d.alarms]
        for deployment in hit:
            # On the runtime's loop, whatever thread set the alarm.
            self.host.agenda.after(
                0,
                f"endpoint {deployment.endpoint}: alarm {alarm}",
                self._roll_back_later(deployment, alarm),
            )

    def _roll_back_later(self, deployment: Deployment, alarm: str) -> Callable[[], None]:
        return lambda: self._roll_back_for_alarm(deployment, alarm)

    # ------------------------------------------------------------------ a creation
    def _created(self, deployment: Deployment) -> None:
        if not deployment.running:
            return
        host = self.host
        when = host.clock.now()
        reason = self._failure(deployment)
        try:
            sagemaker_endpoints.set_status(
                host.account,
                host.region,
                deployment.endpoint,
                "Failed" if reason else "InService",
                when,
                reason,
            )
            endpoint = self._endpoint(deployment)
        except KeyError:
            return self._gone(deployment)
        self._end(deployment, "failed" if reason else "succeeded", reason=reason)
        self._emit_state(endpoint)

    # ------------------------------------------------------------------ an update
    def _provisioned(self, deployment: Deployment) -> None:
        if not deployment.running:
            return
        reason = self._failure(deployment)
        if reason:
            self._roll_back(deployment, reason)
        else:
            self._shift(deployment, 0)

    def _shift(self, deployment: Deployment, index: int) -> None:
        if not deployment.running:
            return
        step = deployment.steps[index]
        if not self._phase(deployment, "ActivatingTraffic", step.activating, step.active):
            return
        if not deployment.watching:
            deployment.watching = True
            alarm = self._alarm_in_alarm(deployment)
            if alarm is not None:
                self._roll_back_for_alarm(deployment, alarm)
                return
        self.host.agenda.after(
            duration_seconds(deployment.settings["activate"]),
            f"endpoint {deployment.endpoint}: traffic shifted",
            lambda: self._bake(deployment, index),
        )

    def _bake(self, deployment: Deployment, index: int) -> None:
        if not deployment.running:
            return
        step = deployment.steps[index]
        if step.bake_s <= 0:
            self._stepped(deployment, index)
            return
        if not self._phase(deployment, "Baking", step.baking, step.active):
            return
        self.host.agenda.after(
            step.bake_s,
            f"endpoint {deployment.endpoint}: baked",
            lambda: self._stepped(deployment, index),
        )

    def _stepped(self, deployment: Deployment, index: int) -> None:
        if not deployment.running:
            return
        if index + 1 < len(deployment.steps):
            self._shift(deployment, index + 1)
            return
        host = self.host
        try:
            sagemaker_endpoints.complete_deployment(
                host.account, host.region, deployment.endpoint, host.clock.now()
            )
            endpoint = self._endpoint(deployment)
        except KeyError:
            return self._gone(deployment)
        self._end(deployment, "succeeded")
        self._emit_state(endpoint)

    def _timed_out(self, deployment: Deployment, seconds: int) -> None:
        if deployment.running:
            self._roll_back(
                deployment,
                f"The endpoint update was rolled back because the deployment did not complete "
                f"within MaximumExecutionTimeoutInSeconds ({seconds} seconds).",
            )

    def _roll_back_for_alarm(self, deployment: Deployment, alarm: str) -> None:
        if deployment.running and deployment.watching:
            self._roll_back(
                deployment,
                f"The endpoint update was rolled back because CloudWatch alarm {alarm} of the "
                "AutoRollbackConfiguration went into the ALARM state during the deployment.",
                alarm,
            )

    def _roll_back(self, deployment: Deployment, reason: str, alarm: str | None = None) -> None:
        """Traffic back on the old fleet, the new one terminated, the endpoint `InService` on
        the old configuration with the reason."""
        if not deployment.running:
            return
        host = self.host
        launched = deployment.steps[-1].active if deployment.steps else 1
        if not self._phase(deployment, "Deleting", f"Terminating {launched} instance(s).", 0):
            return
        try:
            sagemaker_endpoints.roll_back(
                host.account, host.region, deployment.endpoint, host.clock.now(), reason
            )
            endpoint = self._endpoint(deployment)
        except KeyError:
            return self._gone(deployment)
        self._end(deployment, "rolled_back", reason=reason, alarm=alarm)
        self._emit_state(endpoint)

    # ------------------------------------------------------------------ helpers
    def _endpoint(self, deployment: Deployment) -> Any:
        return sagemaker_endpoints.find_endpoint(
            self.host.account, self.host.region, deployment.endpoint
        )

    def _gone(self, deployment: Deployment) -> None:
        """The endpoint was deleted under the deployment."""
        self._end(deployment, "failed", reason="The endpoint was deleted.")

    def _end(
        self,
        deployment: Deployment,
        outcome: str,
        reason: str | None = None,
        alarm: str | None = None,
    ) -> None:
        deployment.outcome = outcome
        deployment.reason = reason
        deployment.alarm = alarm
        deployment.watching = False
        deployment.ended = self.host.clock.now()

    def _failure(self, deployment: Deployment) -> str | None:
        fail = deployment.settings.get("fail")
        if not fail:
            return None
        if isinstance(fail, str):
            return fail
        try:
            variants = self._endpoint(deployment).production_variants
        except KeyError:
            variants = []
        return _health_check_failure(variants[0]["VariantName"] if variants else "AllTraffic")

    def _phase(self, deployment: Deployment, status: str, message: str, active: int) -> bool:
        """The new fleet's VariantStatus changes: DescribeEndpoint shows it, an event says it."""
        host = self.host
        try:
            sagemaker_endpoints.set_variant_status(
                host.account,
                host.region,
                deployment.endpoint,
                status,
                message,
                host.clock.now(),
                active,
            )
            endpoint = self._endpoint(deployment)
        except KeyError:
            self._gone(deployment)
            return False
        deployment.phases.append(status)
        self._emit_deployment(endpoint)
        return True

    def _alarm_in_alarm(self, deployment: Deployment) -> str | None:
        if not deployment.alarms:
            return None
        found = self.host.client("cloudwatch").describe_alarms(AlarmNames=list(deployment.alarms))
        for alarm in found.get("MetricAlarms", []) + found.get("CompositeAlarms", []):
            if alarm.get("StateValue") == "ALARM":
                return str(alarm["AlarmName"])
        return None

    # ------------------------------------------------------------------ events
    def _base_detail(self, endpoint: Any) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "EndpointName": endpoint.endpoint_name,
            "EndpointArn": endpoint.arn,
            "EndpointConfigName": endpoint.endpoint_config_name,
            "ProductionVariants": [
                {k: v[k] for k in _VARIANT_FIELDS if k in v} for v in endpoint.production_variants
            ],
            "EndpointStatus": event_status(endpoint.endpoint_status),
            "CreationTime": _millis(endpoint.creation_time),
            "LastModifiedTime": _millis(endpoint.last_modified_time),
            "Tags": {t["Key"]: t.get("Value", "") for t in endpoint.tags or []},
        }
        if endpoint.failure_reason:
            detail["FailureReason"] = endpoint.failure_reason
        return detail

    def _emit_state(self, endpoint: Any) -> None:
        self.host.events.emit(
            "aws.sagemaker", STATE_CHANGE, self._base_detail(endpoint), resources=[endpoint.arn]
        )

    def _emit_deployment(self, endpoint: Any) -> None:
        detail = self._base_detail(endpoint)
        summary = sagemaker_endpoints.pending(endpoint)
        if summary is not None:
            detail["PendingDeploymentSummary"] = {
                "EndpointConfigName": summary["EndpointConfigName"],
                "StartTime": _millis(summary["StartTime"]),
                "ProductionVariants": [
                    {
                        **{k: v[k] for k in _VARIANT_FIELDS if k in v},
                        "VariantStatus": [
                            {
                                "Status": s["Status"],
                                "StatusMessage": s["StatusMessage"],
                                "StartTime": _millis(s["StartTime"]),
                            }
                            for s in v.get("VariantStatus", [])
                        ],
                    }
                    for v in summary["ProductionVariants"]
                ],
            }
        self.host.events.emit("aws.sagemaker", DEPLOYMENT_CHANGE, detail, resources=[endpoint.arn])
