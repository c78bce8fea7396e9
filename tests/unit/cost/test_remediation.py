"""A cost signal → the model's budget actions, once each, audited, skipped under dry_run, undone
by resume."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aiops.cost.attribution import Scope
from aiops.cost.model import EndpointState, VariantCapacity
from aiops.cost.remediation import UNATTRIBUTED, CostDependencies, on_alarm, on_anomaly, resume
from aiops.events import parse_event
from aiops.events.cloudwatch import AlarmStateChange
from aiops.events.cost import AnomalyDetected
from aiops.pauses import active_pause
from aiops.policy import Policy, parse_policy
from tests.support.events import load_event
from tests.unit.fakes import (
    MemoryClaims,
    MemoryEndpointCapacity,
    MemoryLedger,
    MemoryPauses,
    MemoryRunningJobs,
    MemorySavedCapacities,
    RecordingAlerts,
    RecordingResumeNotices,
)

ROOT = Path(__file__).resolve().parents[3]
TEXT = (ROOT / "policies" / "default.yaml").read_text()
POLICY = parse_policy(TEXT)
HERE = Scope(region="us-east-1", account="123456789012")
NOW = datetime(2026, 11, 22, 6, 15, tzinfo=UTC)
ENDPOINT_SPEND = [
    {
        "service": "Amazon SageMaker",
        "usageType": "USE1-Host:ml.m5.xlarge",
        "region": "us-east-1",
        "linkedAccount": "123456789012",
        "impact": {"contribution": 180.0},
    }
]


def policy_with(old: str, new: str) -> Policy:
    assert old in TEXT
    return parse_policy(TEXT.replace(old, new))


class RecordingRollbacks:
    """Rollbacks (aiops.cost.ports): a deployment time per model; rollbacks recorded."""

    def __init__(self, deployed: dict[str, datetime] | None = None) -> None:
        self.deployed = deployed or {}
        self.rolled: list[tuple[str, str]] = []

    def deployed_at(self, model: str) -> datetime | None:
        return self.deployed.get(model)

    def roll_back(self, model: str, by: str, cause: dict[str, Any]) -> tuple[bool, str]:
        self.rolled.append((model, by))
        return True, f"{model} back to v1"


class World:
    def __init__(self, policy: Policy = POLICY, instances: int = 4) -> None:
        self.policy = policy
        self.endpoints = MemoryEndpointCapacity(
            EndpointState(
                endpoint="churn-prod",
                status="InService",
                model_tag="churn",
                variants=[
                    VariantCapacity(
                        endpoint="churn-prod",
                        variant="AllTraffic",
                        instances=instances,
                        scaling_min=2,
                        scaling_max=8,
                    )
                ],
            )
        )
        self.pauses = MemoryPauses()
        self.saved = MemorySavedCapacities()
        self.jobs = MemoryRunningJobs()
        self.rollbacks = RecordingRollbacks()
        self.notices = RecordingResumeNotices()
        self.alerts = RecordingAlerts()
        self.ledger = MemoryLedger()
        self.claims = MemoryClaims()

    @property
    def deps(self) -> CostDependencies:
        return CostDependencies(
            signals=self.claims,
            pauses=self.pauses,
            endpoints=self.endpoints,
            saved=self.saved,
            jobs=self.jobs,
            rollbacks=self.rollbacks,
            notices=self.notices,
            alerts=self.alerts,
            ledger=self.ledger,
            scope=HERE,
        )

    def anomaly(self, now: datetime = NOW, **overrides: Any):
        fields = {"detail.rootCauses": ENDPOINT_SPEND, **overrides}
        event = parse_event(AnomalyDetected, load_event("cost_anomaly_detected", **fields))
        return on_anomaly(event, self.policy, self.deps, now)

    def alarm(self, state: str = "ALARM", stamp: str = "2026-11-21T14:05:33.210+0000"):
        previous = "ALARM" if state == "OK" else "OK"
        raw = load_event(
            "cloudwatch_alarm_token_spend",
            **{
                "detail.state.value": state,
                "detail.state.timestamp": stamp,
                "detail.previousState.value": previous,
            },
        )
        return on_alarm(parse_event(AlarmStateChange, raw), self.policy, self.deps, NOW)

    def variant(self) -> VariantCapacity:
        state = self.endpoints.state("churn-prod")
        assert state is not None
        return state.variants[0]

    def actions(self, model: str = "churn") -> list[tuple[str, str]]:
        # Sorted: entries of one instant are ordered by their id in the ledger.
        entries = self.ledger.for_model(model)
        return sorted((str(e.action), e.cause.get("action", "")) for e in entries)


def test_given_endpoint_spend_above_the_minimum_when_the_anomaly_arrives_then_the_budget_acts():
    world = World()

    decision = world.anomaly()

    assert decision.action == "remediated" and decision.models == ["churn"]
    assert [(o.action, o.outcome) for o in decision.outcomes] == [
        ("pause_triggers", "done"),
        ("scale_to_min", "done"),
        ("notify", "done"),
    ]
    pause = active_pause(world.pauses, "churn", NOW)
    assert pause is not None and pause.owner == "cost anomaly e41b8d06-9c5a-4f2e-b713-6a0d2c9f85e4"
    # Scaled to the scalable target's minimum, its maximum pinned there too.
    assert world.variant() == VariantCapacity(
        endpoint="churn-prod", variant="AllTraffic", instances=2, scaling_min=2, scaling_max=2
    )
    assert world.saved.saved("churn")[0].instances == 4
    assert world.actions() == [
        ("cost_action_done", "notify"),
        ("cost_action_done", "pause_triggers"),
        ("cost_action_done", "scale_to_min"),
    ]
    subject, message = world.alerts.sent[0]
    assert "churn" in subject and "$180.00" in message and "aiops resume" in message
    assert "anomaly-detection" in message  # the anomaly's details link


def test_given_the_same_anomaly_delivered_three_times_then_one_set_of_actions():
    world = World()

    decisions = [world.anomaly() for _ in range(3)]

    assert [d.action for d in decisions] == ["remediated", "duplicate", "duplicate"]
    assert len(world.endpoints.calls) == 1 and len(world.alerts.sent) == 1
    assert len(world.actions()) == 3


def test_given_a_failure_midway_when_redelivered_then_what_was_done_is_not_redone():
    world = World()
    calls = {"n": 0}
    real = world.endpoints.set_capacity

    def flaky(variant: VariantCapacity) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("SageMaker unreachable")
        real(variant)

    world.endpoints.set_capacity = flaky  # type: ignore[method-assign]

    with pytest.raises(ConnectionError):
        world.anomaly()
    decision = world.anomaly()

    assert [(o.action, o.outcome) for o in decision.outcomes] == [
        ("pause_triggers", "already_done"),
        ("scale_to_min", "done"),
        ("notify", "already_done"),
    ]
    assert world.variant().instances == 2
    # The failure was recorded and told before the retry, not left silent.
    assert ("cost_action_failed", "scale_to_min") in world.actions()
    ((_, message),) = world.alerts.sent
    assert "scale_to_min: failed — failed: ConnectionError: SageMaker unreachable" in message


def test_given_an_impact_below_anomaly_min_usd_then_it_is_recorded_and_nothing_is_done():
    world = World()
    cheap = [{**ENDPOINT_SPEND[0], "impact": {"contribution": 12.5}}]

    decision = world.anomaly(**{"detail.rootCauses": cheap})

    assert decision.action == "below_threshold"
    assert world.actions() == [("cost_below_threshold", "")]
    assert world.endpoints.calls == [] and world.alerts.sent == []
    assert world.pauses.get("churn") is None


def test_given_dry_run_then_every_action_is_recorded_as_skipped_and_nothing_changes():
    world = World(
        policy_with("    run_timeout: 12h\n", "    run_timeout: 12h\n    dry_run: true\n")
    )

    decision = world.anomaly()

    assert [(o.action, o.outcome) for o in decision.outcomes] == [
        ("pause_triggers", "skipped"),
        ("scale_to_min", "skipped"),
        ("notify", "skipped"),
    ]
    assert all("dry_run" in o.detail for o in decision.outcomes)
    assert world.actions() == [
        ("cost_action_skipped", "notify"),
        ("cost_action_skipped", "pause_triggers"),
        ("cost_action_skipped", "scale_to_min"),
    ]
    assert world.pauses.get("churn") is None and world.endpoints.calls == []
    assert world.alerts.sent == []


def test_given_an_anomaly_matching_no_model_then_it_is_alerted_with_the_reason():
    world = World()
    redshift = [{**ENDPOINT_SPEND[0], "service": "Amazon Redshift", "usageType": "USE1-Node:dc2"}]

    decision = world.anomaly(**{"detail.rootCauses": redshift})

    assert decision.action == "unattributed"
    assert "Amazon Redshift USE1-Node:dc2" in decision.reason
    assert [str(e.action) for e in world.ledger.for_model(UNATTRIBUTED)] == [
        "cost_signal_unattributed"
    ]
    assert "matches no model" in world.alerts.sent[0][0]


def test_given_only_the_service_matches_then_only_an_alert_goes_out():
    world = World()
    training = [{**ENDPOINT_SPEND[0], "usageType": "USE1-Train:ml.p3.2xlarge"}]

    decision = world.anomaly(**{"detail.rootCauses": training})

    assert [(o.action, o.outcome) for o in decision.outcomes] == [
        ("pause_triggers", "skipped"),
        ("scale_to_min", "skipped"),
        ("notify", "done"),
    ]
    assert "service only" in decision.outcomes[0].detail
    assert world.endpoints.calls == [] and world.pauses.get("churn") is None


def test_given_an_endpoint_the_control_plane_did_not_tag_then_it_is_not_scaled():
    world = World()
    state = world.endpoints.state("churn-prod")
    assert state is not None
    world.endpoints.endpoints["churn-prod"] = state.model_copy(update={"model_tag": ""})

    decision = world.anomaly()

    scale = next(o for o in decision.outcomes if o.action == "scale_to_min")
    assert scale.outcome == "skipped" and "untagged" in scale.detail
    assert world.endpoints.calls == []


def test_given_an_endpoint_being_updated_then_scaling_waits_for_another_signal():
    world = World()
    state = world.endpoints.state("churn-prod")
    assert state is not None
    world.endpoints.endpoints["churn-prod"] = state.model_copy(update={"status": "Updating"})

    decision = world.anomaly()

    scale = next(o for o in decision.outcomes if o.action == "scale_to_min")
    assert scale.outcome == "skipped" and "Updating" in scale.detail


def test_given_a_scaled_down_model_when_resumed_then_capacity_and_triggers_come_back_once():
    world = World()
    world.anomaly()

    first = resume("churn", POLICY, world.deps.resuming, NOW, by="ana", cause={"via": "cli"})
    second = resume("churn", POLICY, world.deps.resuming, NOW, by="ana", cause={"via": "cli"})

    assert first.lifted and [v.instances for v in first.restored] == [4]
    assert world.variant() == VariantCapacity(
        endpoint="churn-prod", variant="AllTraffic", instances=4, scaling_min=2, scaling_max=8
    )
    assert world.pauses.get("churn") is None
    assert world.notices.sent == [("churn", "ana")]
    assert not second.lifted and second.restored == []
    assert "nothing paused or scaled down" in second.reason
    assert ("triggers_resumed", "") in world.actions()
    assert ("capacity_restored", "") in world.actions()


def test_given_two_anomalies_before_resume_then_resume_restores_the_capacity_before_the_first():
    world = World()
    world.anomaly()
    world.anomaly(**{"detail.anomalyId": "second-anomaly"})

    result = resume("churn", POLICY, world.deps.resuming, NOW, by="ana", cause={})

    assert [v.instances for v in result.restored] == [4]


def test_given_a_token_spend_alarm_then_triggers_pause_and_ok_resumes_them():
    world = World()
    world.jobs.add_job(
        "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/j1", "support-assistant"
    )
    world.jobs.add_job("arn:aws:bedrock:us-east-1:123456789012:model-customization-job/j2", "other")

    fired = world.alarm("ALARM")
    ok = world.alarm("OK", stamp="2026-11-21T16:05:33.210+0000")

    assert [(o.action, o.outcome) for o in fired.outcomes] == [
        ("pause_triggers", "done"),
        ("stop_jobs", "done"),
        ("notify", "done"),
    ]
    assert world.jobs.stopped == [
        "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/j1"
    ]
    pause = world.pauses.pauses.get("support-assistant")
    assert ok.action == "resumed"
    assert pause is None
    assert world.notices.sent == [
        ("support-assistant", "spend alarm support-assistant-token-spend")
    ]


def test_given_a_pause_set_by_an_anomaly_then_a_spend_alarm_ok_leaves_it():
    world = World()
    world.alarm("ALARM")
    world.pauses.lift("support-assistant")
    bedrock = [
        {
            **ENDPOINT_SPEND[0],
            "service": "Amazon Bedrock",
            "usageType": "USE1-NovaLite-output-tokens",
        }
    ]
    world.anomaly(**{"detail.rootCauses": bedrock})

    ok = world.alarm("OK", stamp="2026-11-21T16:05:33.210+0000")

    assert ok.action == "ignored" and "the pause is cost anomaly" in ok.reason
    assert "nothing of its own to undo" in ok.reason
    assert world.pauses.get("support-assistant") is not None


def test_given_an_alarm_no_budget_names_then_it_is_ignored_without_a_record():
    world = World()
    raw = load_event("cloudwatch_alarm_endpoint_5xx")

    decision = on_alarm(parse_event(AlarmStateChange, raw), POLICY, world.deps, NOW)

    assert decision.action == "ignored" and world.ledger.entries == []


def test_given_a_pause_for_then_the_pause_expires_by_itself():
    world = World()
    world.alarm("ALARM")

    pause = world.pauses.get("support-assistant")

    assert pause is not None and pause.until == NOW + timedelta(hours=24)
    assert active_pause(world.pauses, "support-assistant", NOW + timedelta(hours=25)) is None


@pytest.mark.parametrize(
    ("deployed", "rolled"),
    [(NOW - timedelta(hours=30), True), (NOW - timedelta(days=5), False), (None, False)],
)
def test_given_rollback_in_the_budget_then_only_a_deployment_that_started_the_spend_is_undone(
    deployed, rolled
):
    world = World(
        policy_with(
            "actions: [notify, pause_triggers, scale_to_min]", "actions: [notify, rollback]"
        )
    )
    if deployed is not None:
        world.rollbacks.deployed["churn"] = deployed

    decision = world.anomaly()

    outcome = next(o for o in decision.outcomes if o.action == "rollback")
    assert (outcome.outcome == "done") is rolled
    assert (
        world.rollbacks.rolled == [("churn", "cost anomaly e41b8d06-9c5a-4f2e-b713-6a0d2c9f85e4")]
    ) is rolled


def test_given_a_new_spend_alarm_settling_to_ok_then_nothing_is_resumed_or_claimed():
    world = World()
    raw = load_event(
        "cloudwatch_alarm_token_spend",
        **{"detail.state.value": "OK", "detail.previousState.value": "INSUFFICIENT_DATA"},
    )

    decision = on_alarm(parse_event(AlarmStateChange, raw), POLICY, world.deps, NOW)

    assert decision.action == "ignored" and "coming from INSUFFICIENT_DATA" in decision.reason
    assert world.claims.claims == {}


def test_given_an_anomaly_first_below_the_minimum_when_it_grows_then_the_budget_acts():
    world = World()
    small = [{**ENDPOINT_SPEND[0], "impact": {"contribution": 12.5}}]

    first = world.anomaly(**{"detail.rootCauses": small, "detail.impact.totalImpact": 12.5})
    grown = world.anomaly(**{"detail.impact.totalImpact": 180.0})
    again = world.anomaly(**{"detail.impact.totalImpact": 180.0})

    assert first.action == "below_threshold"
    assert grown.action == "remediated" and world.variant().instances == 2
    assert again.action == "duplicate"


def test_given_a_scale_down_by_an_anomaly_then_a_spend_alarm_ok_does_not_restore_it():
    policy = policy_with(
        '      usage_types: ["USE1-Host:ml.m5*"]   # Cost Explorer usage types of its endpoint\n',
        '      usage_types: ["USE1-Host:ml.m5*"]\n'
        "      spend_alarms: [churn-spend]\n"
        "      resume_on_ok: true\n",
    )
    world = World(policy)
    world.anomaly()
    world.pauses.lift("churn")
    raw = load_event(
        "cloudwatch_alarm_token_spend",
        **{
            "detail.alarmName": "churn-spend",
            "detail.state.value": "OK",
            "detail.previousState.value": "ALARM",
        },
    )

    decision = on_alarm(parse_event(AlarmStateChange, raw), policy, world.deps, NOW)

    assert decision.action == "ignored" and "scaled down by cost anomaly" in decision.reason
    assert world.variant().instances == 2


def test_given_a_deployment_after_the_spend_started_then_rollback_leaves_it():
    world = World(
        policy_with(
            "actions: [notify, pause_triggers, scale_to_min]", "actions: [notify, rollback]"
        )
    )
    # The anomaly started on 2026-11-21 (its day); a fix went out on the 22nd.
    world.rollbacks.deployed["churn"] = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)

    decision = world.anomaly()

    outcome = next(o for o in decision.outcomes if o.action == "rollback")
    assert outcome.outcome == "skipped" and "after the spend started" in outcome.detail
    assert world.rollbacks.rolled == []


def test_given_two_models_claiming_the_usage_type_then_neither_is_acted_on():
    second = (
        "  churn-b:\n"
        "    kind: sagemaker\n"
        "    data: {prefix: raw/churn-b/}\n"
        "    pipeline: churn-b-train\n"
        "    package_group: churn-b\n"
        "    gate: {metric: auc, human: false}\n"
        "    deploy: {endpoint: churn-b-prod, strategy: all_at_once}\n"
        '    budget: {actions: [notify, scale_to_min], usage_types: ["USE1-Host:ml.m5.*"]}\n'
    )
    policy = parse_policy(TEXT.replace("  support-assistant:\n", second + "  support-assistant:\n"))
    world = World(policy)

    decision = world.anomaly()

    assert {(o.model, o.action, o.outcome) for o in decision.outcomes} >= {
        ("churn", "scale_to_min", "skipped"),
        ("churn-b", "scale_to_min", "skipped"),
        ("churn", "notify", "done"),
    }
    assert world.endpoints.calls == []


def test_given_a_dimension_that_only_looks_like_a_model_name_then_it_is_no_tag_match():
    world = World()
    # A cost-category monitor whose value happens to be "churn", not the aiops:model tag.
    redshift = [{**ENDPOINT_SPEND[0], "service": "Amazon Redshift", "usageType": "USE1-Node:dc2"}]

    decision = world.anomaly(**{"detail.dimensionValue": "churn", "detail.rootCauses": redshift})
    tagged = world.anomaly(
        **{"detail.dimensionValue": "aiops:model$churn", "detail.anomalyId": "tagged"}
    )

    assert decision.action == "unattributed"
    assert tagged.action == "remediated" and tagged.models == ["churn"]


def test_given_two_variants_then_both_are_scaled_in_one_call_and_restored_together():
    world = World()
    state = world.endpoints.state("churn-prod")
    assert state is not None
    shadow = VariantCapacity(endpoint="churn-prod", variant="Shadow", instances=3)
    world.endpoints.endpoints["churn-prod"] = state.model_copy(
        update={"variants": [*state.variants, shadow]}
    )

    world.anomaly()
    scaled = {v.variant: v.instances for v in world.endpoints.endpoints["churn-prod"].variants}
    resume("churn", POLICY, world.deps.resuming, NOW, by="ana", cause={})
    restored = {v.variant: v.instances for v in world.endpoints.endpoints["churn-prod"].variants}

    assert scaled == {"AllTraffic": 2, "Shadow": 1}
    assert restored == {"AllTraffic": 4, "Shadow": 3}
