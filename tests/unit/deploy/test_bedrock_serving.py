"""The deploy capability's Bedrock branch: which approvals are served, the swap and its reads,
failures putting the previous model back, one change per model, and rollback."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from aiops.deploy.bedrock import (
    MAX_POLLS,
    SERVING_TIMEOUT,
    ServingBusy,
    check_serving,
    start_serving,
)
from aiops.deploy.dependencies import BedrockServing, DeployDependencies
from aiops.deploy.model import (
    MARK_CUSTOM_MODEL,
    MARK_DEPLOYED,
    MARK_ROLLED_BACK,
    CustomModelDeploymentView,
    DeploymentRequest,
    PackageSpec,
)
from aiops.deploy.rollback import on_rollback_alarm, roll_back
from aiops.deploy.trigger import request_deployment
from aiops.events.cloudwatch import AlarmStateChange
from aiops.events.sagemaker import ModelPackageStateChange
from aiops.policy import Policy, parse_policy
from aiops.verdicts import GateVerdict
from tests.support.template import ROOT
from tests.unit.deploy.fakes import (
    MemoryDeployments,
    MemoryPackages,
    MemoryParameters,
    MemoryServingStore,
    MemoryVerdicts,
    NoHumanApprovals,
    RecordingDeployStarter,
)
from tests.unit.fakes import MemoryLedger, RecordingAlerts

MODEL = "support-assistant"
DEPLOYMENT = "aiops-support-assistant"
PARAMETER = "/aiops/support-assistant/model"
T0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
POLICY = (ROOT / "scenarios" / "policies" / "support_assistant.yaml").read_text()
PARAMETER_POLICY = (
    ROOT / "scenarios" / "policies" / "support_assistant_parameter.yaml"
).read_text()


def custom_model(version: int) -> str:
    return (
        "arn:aws:bedrock:us-east-1:123456789012:custom-model/"
        f"amazon.nova-lite-v1:0:300k/abcdefghij{version:02d}"
    )


def package(version: int) -> str:
    return f"arn:aws:sagemaker:us-east-1:123456789012:model-package/support-assistant/{version}"


@dataclass
class World:
    policy: Policy
    deployments: MemoryDeployments = field(default_factory=MemoryDeployments)
    parameters: MemoryParameters = field(default_factory=MemoryParameters)
    store: MemoryServingStore = field(default_factory=MemoryServingStore)
    packages: MemoryPackages = field(default_factory=MemoryPackages)
    verdicts: MemoryVerdicts = field(default_factory=MemoryVerdicts)
    starter: RecordingDeployStarter = field(default_factory=RecordingDeployStarter)
    ledger: MemoryLedger = field(default_factory=MemoryLedger)
    alerts: RecordingAlerts = field(default_factory=RecordingAlerts)

    @property
    def deps(self) -> DeployDependencies:
        unused = cast(Any, None)  # SageMaker's ports: the Bedrock branch never reaches them
        return DeployDependencies(
            endpoints=unused,
            packages=self.packages,
            alarms=unused,
            locks=unused,
            history=unused,
            rendezvous=unused,
            resumer=unused,
            starter=self.starter,
            verdicts=self.verdicts,
            ledger=self.ledger,
            alerts=self.alerts,
            shadows=unused,
            approvals=NoHumanApprovals(),
            bedrock=BedrockServing(
                deployments=self.deployments,
                parameters=self.parameters,
                history=self.store,
                locks=self.store,
                parameter_prefix="/aiops/",
                reserved_parameters=("/aiops/dev/policy",),
            ),
        )

    def register(self, version: int, verdict: str | None = "approve", **marks: str) -> None:
        self.deployments.custom_models.add(custom_model(version))
        self.packages.specs[package(version)] = PackageSpec(
            package_arn=package(version),
            package_group="support-assistant",
            version=version,
            approval_status="Approved",
            image=None,
            model_data_url=None,
            marks={MARK_CUSTOM_MODEL: custom_model(version), **marks},
        )
        if verdict is not None:
            self.verdicts.record(
                GateVerdict(
                    package_arn=package(version),
                    model=MODEL,
                    decision=verdict,
                    reason="rougeL up",
                    run_id=f"ft-{version}",
                    at=T0,
                )
            )

    def request(self, version: int) -> DeploymentRequest:
        return DeploymentRequest(
            model=MODEL,
            endpoint=MODEL,
            version=version,
            package_arn=package(version),
            package_group="support-assistant",
            requested_at=T0,
            kind="bedrock",
            custom_model_arn=custom_model(version),
        )

    def serve(self, version: int, at: datetime = T0) -> None:
        """v`version` approved, swapped in and read once it is done."""
        self.register(version)
        request = self.request(version)
        assert start_serving(request, self.policy, self.deps, at).action == "started"
        self.deployments.finish(DEPLOYMENT)
        assert check_serving(request, self.policy, self.deps, at).outcome == "promoted"

    def actions(self) -> list[str]:
        return [str(e.action) for e in self.ledger.entries]

    def reasons(self, action: str) -> list[str]:
        return [e.reason for e in self.ledger.entries if e.action == action]


@pytest.fixture
def world() -> World:
    return World(policy=parse_policy(POLICY))


def approval(version: int) -> ModelPackageStateChange:
    return ModelPackageStateChange.model_validate(
        {
            "version": "0",
            "id": f"event-{version}",
            "detail-type": "SageMaker Model Package State Change",
            "source": "aws.sagemaker",
            "account": "123456789012",
            "time": "2026-11-20T03:00:00Z",
            "region": "us-east-1",
            "resources": [package(version)],
            "detail": {
                "ModelPackageGroupName": "support-assistant",
                "ModelPackageVersion": version,
                "ModelPackageArn": package(version),
                "ModelApprovalStatus": "Approved",
                "UpdatedModelPackageFields": ["ModelApprovalStatus"],
            },
        }
    )


def alarm(name: str = "support-assistant-latency", event_id: str = "alarm-1") -> AlarmStateChange:
    return AlarmStateChange.model_validate(
        {
            "version": "0",
            "id": event_id,
            "detail-type": "CloudWatch Alarm State Change",
            "source": "aws.cloudwatch",
            "account": "123456789012",
            "time": "2026-11-20T05:00:00Z",
            "region": "us-east-1",
            "resources": [f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"],
            "detail": {
                "alarmName": name,
                "state": {"value": "ALARM", "reason": "slow", "timestamp": "2026-11-20T05:00:00Z"},
                "previousState": {"value": "OK", "reason": "", "timestamp": "2026-11-20T04:00:00Z"},
                "configuration": {"metrics": []},
            },
        }
    )


# ---------------------------------------------------------------------- the trigger
def test_an_approved_gated_bedrock_package_starts_the_bedrock_branch_with_its_custom_model(
    world: World,
) -> None:
    world.register(1)

    decision = request_deployment(approval(1), world.policy, world.deps, T0)

    assert decision.action == "deploy_requested"
    (request,) = world.starter.started
    assert (request.kind, request.endpoint, request.custom_model_arn) == (
        "bedrock",
        MODEL,
        custom_model(1),
    )
    assert world.reasons("deploy_requested") == [
        f"v1 approved by the automatic gate: serving through custom model deployment {DEPLOYMENT}"
    ]


@pytest.mark.parametrize(
    ("verdict", "marks", "why"),
    [
        (None, {}, "never passed our gate"),
        ("reject", {}, "rejected by our gate"),
        ("approve", {MARK_ROLLED_BACK: "2026-11-19 alarm"}, "was rolled back"),
    ],
)
def test_an_approval_our_gate_did_not_pass_or_of_a_rolled_back_version_is_refused(
    world: World, verdict: str | None, marks: dict[str, str], why: str
) -> None:
    world.register(1, verdict=verdict, **marks)

    decision = request_deployment(approval(1), world.policy, world.deps, T0)

    assert decision.action == "refused" and why in decision.reason
    assert world.starter.started == [] and world.actions() == ["deploy_refused"]


def test_a_package_naming_no_custom_model_is_refused(world: World) -> None:
    world.register(1)
    spec = world.packages.specs[package(1)]
    world.packages.specs[package(1)] = spec.model_copy(update={"marks": {}})

    decision = request_deployment(approval(1), world.policy, world.deps, T0)

    assert decision.action == "refused" and MARK_CUSTOM_MODEL in decision.reason


# ---------------------------------------------------------------------- the swap
def test_the_first_version_creates_the_deployment_and_is_promoted_once_it_is_active(
    world: World,
) -> None:
    world.register(1)
    request = world.request(1)

    started = start_serving(request, world.policy, world.deps, T0)
    waiting = check_serving(request, world.policy, world.deps, T0 + timedelta(minutes=1))
    world.deployments.finish(DEPLOYMENT)
    done = check_serving(request, world.policy, world.deps, T0 + timedelta(minutes=6), polls=1)

    assert (started.action, started.wait_seconds) == ("started", 60)
    assert (waiting.outcome, waiting.polls) == ("waiting", 1)
    assert done.outcome == "promoted"
    view = world.deployments.get(DEPLOYMENT)
    assert view is not None and view.model_arn == custom_model(1)
    assert world.deployments.by_arn[view.arn]["tags"]["aiops:model"] == MODEL
    served = world.store.served(MODEL)
    assert served is not None and (served.version, served.how) == (1, "created")
    assert world.reasons("deployed") == [
        f"v1 serves {MODEL} through custom model deployment {DEPLOYMENT} ({view.arn}) and is "
        "its last known good"
    ]
    assert MARK_DEPLOYED in world.packages.specs[package(1)].marks
    assert world.alerts.sent[-1][0] == f"[aiops] {MODEL} v1 deployed"
    assert world.store.holder(MODEL, T0 + timedelta(minutes=6)) is None


def test_a_newer_version_is_swapped_in_behind_the_same_arn(world: World) -> None:
    world.serve(1)
    first = world.deployments.get(DEPLOYMENT)

    world.serve(2, T0 + timedelta(hours=1))

    second = world.deployments.get(DEPLOYMENT)
    assert first is not None and second is not None
    assert (second.arn, second.model_arn) == (first.arn, custom_model(2))
    assert [c[0] for c in world.deployments.calls] == ["create", "update"]
    assert [g.version for g in world.store.known_goods(MODEL)] == [2, 1]
    assert "last known good was v1" in world.reasons("deployed")[-1]


def test_a_failed_update_is_recorded_with_bedrocks_reason_and_the_model_is_released(
    world: World,
) -> None:
    world.serve(1)
    world.register(2)
    request = world.request(2)
    start_serving(request, world.policy, world.deps, T0)
    world.deployments.finish(DEPLOYMENT, failure="Model failed the health check")

    result = check_serving(request, world.policy, world.deps, T0 + timedelta(minutes=6))

    assert result.outcome == "failed"
    (failed,) = world.reasons("deploy_failed")
    assert "Bedrock: Model failed the health check" in failed
    assert f"v1 still serves {DEPLOYMENT}" in failed
    served = world.store.served(MODEL)
    assert served is not None and served.version == 1
    assert world.store.holder(MODEL, T0) is None and world.store.in_flight(MODEL) is None


def test_a_swap_still_running_past_the_bound_times_out_and_says_why_it_could_not_put_back(
    world: World,
) -> None:
    world.serve(1)
    world.register(2)
    request = world.request(2)
    start_serving(request, world.policy, world.deps, T0)

    late = check_serving(request, world.policy, world.deps, T0 + SERVING_TIMEOUT)

    assert late.outcome == "timed_out"
    (failed,) = world.reasons("deploy_failed")
    assert "still Updating after 1h" in failed and "could not put v1 back" in failed
    assert world.alerts.sent[-1][0] == f"[aiops] {MODEL} v2: serving timed out"


def test_the_read_loop_ends_after_max_polls_whatever_the_clock_says(world: World) -> None:
    world.register(1)
    request = world.request(1)
    start_serving(request, world.policy, world.deps, T0)

    result = check_serving(request, world.policy, world.deps, T0, polls=MAX_POLLS - 1)

    assert result.outcome == "timed_out" and result.polls == MAX_POLLS


def test_a_deployment_someone_else_is_updating_makes_the_start_retry(world: World) -> None:
    world.serve(1)
    world.register(2)
    world.register(3)
    view = world.deployments.get(DEPLOYMENT)
    assert view is not None
    world.deployments.update(view.arn, custom_model(3))  # by hand, outside the control plane

    with pytest.raises(ServingBusy, match="Updating"):
        start_serving(world.request(2), world.policy, world.deps, T0)


def test_a_second_version_waits_behind_the_first_and_starts_when_it_ends(world: World) -> None:
    world.register(1)
    world.register(2)
    first, second = world.request(1), world.request(2)
    start_serving(first, world.policy, world.deps, T0)

    queued = start_serving(second, world.policy, world.deps, T0)
    world.deployments.finish(DEPLOYMENT)
    done = check_serving(first, world.policy, world.deps, T0 + timedelta(minutes=6))

    assert queued.action == "queued"
    assert done.outcome == "promoted" and done.next_execution is not None
    assert [r.execution_name for r in world.starter.started] == ["deploy-support-assistant-v2-next"]


def test_a_step_that_failed_after_the_swap_was_sent_records_the_failure(world: World) -> None:
    world.serve(1)
    world.register(2)
    request = world.request(2)
    start_serving(request, world.policy, world.deps, T0)
    world.deployments.finish(DEPLOYMENT, failure="boom")

    result = check_serving(
        request, world.policy, world.deps, T0, error={"Error": "Lambda.Unknown", "Cause": "x"}
    )

    assert result.outcome == "failed"
    assert "Lambda.Unknown: x" in world.reasons("deploy_failed")[0]
    assert world.store.holder(MODEL, T0) is None


# ---------------------------------------------------------------------- serving by parameter
def test_serving_by_parameter_writes_the_custom_model_and_promotes_at_once() -> None:
    world = World(policy=parse_policy(PARAMETER_POLICY))
    world.register(1)

    started = start_serving(world.request(1), world.policy, world.deps, T0)

    assert started.action == "served"
    assert world.parameters.values == {PARAMETER: custom_model(1)}
    assert f"v1 serves {MODEL} through parameter {PARAMETER}" in world.reasons("deployed")[0]
    assert world.store.holder(MODEL, T0) is None


@pytest.mark.parametrize(
    ("parameter", "why"),
    [
        ("/apps/support/model", "outside the stack's ServingParameterPrefix /aiops/"),
        ("/aiops/dev/policy", "the control plane's own parameter"),
    ],
)
def test_a_serving_parameter_the_stack_may_not_write_is_refused_before_iam_would(
    parameter: str, why: str
) -> None:
    world = World(policy=parse_policy(PARAMETER_POLICY.replace(PARAMETER, parameter)))
    world.register(1)

    started = start_serving(world.request(1), world.policy, world.deps, T0)

    assert started.action == "failed" and why in started.reason
    assert world.parameters.values == {}
    assert world.store.holder(MODEL, T0) is None


# ---------------------------------------------------------------------- rollback
def test_a_rollback_alarm_swaps_the_last_known_good_back_once_per_incident(world: World) -> None:
    world.serve(1)
    world.serve(2, T0 + timedelta(hours=1))
    later = T0 + timedelta(hours=2)

    (first,) = on_rollback_alarm(alarm(), world.policy, world.deps, later)
    world.deployments.finish(DEPLOYMENT)
    (second,) = on_rollback_alarm(alarm(event_id="alarm-2"), world.policy, world.deps, later)

    assert (first.action, first.from_version, first.to_version) == ("rolled_back", 2, 1)
    view = world.deployments.get(DEPLOYMENT)
    assert view is not None and view.model_arn == custom_model(1)
    assert MARK_ROLLED_BACK in world.packages.specs[package(2)].marks
    goods = {g.version: g for g in world.store.known_goods(MODEL)}
    assert goods[2].revoked is not None and goods[1].revoked is None
    assert second.action == "skipped" and "not rolling back twice" in second.reason


def test_an_alarm_during_a_serving_change_rolls_nothing_back(world: World) -> None:
    world.serve(1)
    world.register(2)
    start_serving(world.request(2), world.policy, world.deps, T0)

    (decision,) = on_rollback_alarm(alarm(), world.policy, world.deps, T0)

    assert decision.action == "skipped" and "is changing what serves" in decision.reason


def test_a_manual_rollback_to_a_version_that_never_served_is_refused_and_a_dry_run_changes_nothing(
    world: World,
) -> None:
    world.serve(1)
    world.serve(2, T0 + timedelta(hours=1))
    later = T0 + timedelta(hours=2)

    never = roll_back(
        MODEL, world.policy, world.deps, later, by="ops", cause={}, manual=True, to_version=7
    )
    dry = roll_back(
        MODEL, world.policy, world.deps, later, by="ops", cause={}, manual=True, dry_run=True
    )

    assert never.action == "skipped" and "v7 never served" in never.reason
    assert dry.action == "dry_run" and "v2 → v1" in dry.reason
    served = world.store.served(MODEL)
    assert served is not None and served.version == 2


# ---------------------------------------------------------------------- reading a deployment
@pytest.mark.parametrize(
    ("status", "model", "update", "expected"),
    [
        ("Creating", "ours", None, "in_progress"),
        ("Active", "ours", None, "serving"),
        ("Failed", "ours", None, "failed"),
        ("Active", "old", ("ours", "Updating"), "in_progress"),
        ("Active", "ours", ("ours", "UpdateCompleted"), "serving"),
        ("Active", "old", ("ours", "UpdateFailed"), "failed"),
        ("Active", "old", ("other", "Updating"), "other"),
        ("Active", "old", None, "other"),
    ],
)
def test_a_deployment_read_says_where_serving_a_model_stands(
    status: str, model: str, update: tuple[str, str] | None, expected: str
) -> None:
    view = CustomModelDeploymentView(
        arn="arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/abcdefghijkl",
        name=DEPLOYMENT,
        model_arn=model,
        status=status,
        update_model_arn=update[0] if update else None,
        update_status=update[1] if update else None,
    )

    assert view.outcome("ours") == expected
