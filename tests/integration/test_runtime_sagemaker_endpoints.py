"""SageMaker endpoints offline: creation, blue/green deployments and auto-rollback, in virtual time.

The `sagemaker_endpoint` simulator with the `sagemaker_endpoints` patch (see their docstrings), on
the toy project: the API (Create/Update/DescribeEndpoint) and the events tell the same story.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from aiops_local import LocalCloud
from aiops_local.scenario import ScenarioError
from aiops_local.simulators.sagemaker_endpoint import (
    DEPLOYMENT_CHANGE,
    STATE_CHANGE,
    Deployment,
    SageMakerEndpointSimulator,
)
from tests.support.events import load_event
from tests.support.runtime import run_steps, run_steps_unchecked

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ENDPOINT = "churn-prod"
ALARM = "churn-prod-5xx"
ROLE = "arn:aws:iam::123456789012:role/aiops-sagemaker"
PROVISION_S = 300  # the simulator's default `provision`


@pytest.fixture
def cloud(toy_project: Path) -> Iterator[LocalCloud]:
    with LocalCloud(toy_project, start=START) as running:
        yield running


# ---------------------------------------------------------------------- helpers
def configs(
    cloud: LocalCloud, *names: str, instances: int = 4, variant: str = "AllTraffic"
) -> None:
    sagemaker = cloud.client("sagemaker")
    for name in names:
        sagemaker.create_model(
            ModelName=f"model-{name}",
            ExecutionRoleArn=ROLE,
            PrimaryContainer={"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/xgb:1"},
        )
        sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[
                {
                    "VariantName": variant,
                    "ModelName": f"model-{name}",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": instances,
                }
            ],
        )


def endpoint_in_service(cloud: LocalCloud, config: str = "v1", instances: int = 4) -> None:
    """`churn-prod` serving `config` (also creates v2 and v3), its alarm OK, time at 5m."""
    configs(cloud, "v1", "v2", "v3", instances=instances)
    cloud.client("sagemaker").create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=config)
    cloud.set_alarm(ALARM, "OK")
    cloud.run_until_quiet()
    assert describe(cloud)["EndpointStatus"] == "InService"


def describe(cloud: LocalCloud) -> dict[str, Any]:
    described = dict(cloud.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT))
    described.pop("ResponseMetadata", None)
    return described


def blue_green(
    kind: str,
    wait_s: int = 600,
    termination_s: int = 900,
    size: dict[str, Any] | None = None,
    alarms: tuple[str, ...] = (ALARM,),
    timeout_s: int | None = None,
) -> dict[str, Any]:
    routing: dict[str, Any] = {"Type": kind, "WaitIntervalInSeconds": wait_s}
    if kind != "ALL_AT_ONCE":
        routing["CanarySize" if kind == "CANARY" else "LinearStepSize"] = size or {
            "Type": "INSTANCE_COUNT",
            "Value": 1,
        }
    policy: dict[str, Any] = {
        "TrafficRoutingConfiguration": routing,
        "TerminationWaitInSeconds": termination_s,
    }
    if timeout_s is not None:
        policy["MaximumExecutionTimeoutInSeconds"] = timeout_s
    config: dict[str, Any] = {"BlueGreenUpdatePolicy": policy}
    if alarms:
        config["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": a} for a in alarms]}
    return config


def update(cloud: LocalCloud, config: str = "v2", **kwargs: Any) -> None:
    cloud.client("sagemaker").update_endpoint(
        EndpointName=ENDPOINT, EndpointConfigName=config, **kwargs
    )


def moment(cloud: LocalCloud) -> tuple[float, int]:
    """Now: virtual seconds since START, and where the timeline is."""
    return cloud.clock.elapsed().total_seconds(), len(cloud.timeline)


def events(cloud: LocalCloud, detail_type: str, since: int = 0) -> list[dict[str, Any]]:
    """The events of that type sent since timeline entry `since`, each with `t`: virtual seconds
    since START."""
    return [
        {**e["event"], "t": e["t"]}
        for e in cloud.timeline.entries(since)
        if e["kind"] == "event" and e.get("detail_type") == detail_type and "event" in e
    ]


def phases(cloud: LocalCloud, since: int = 0) -> list[tuple[float, str, int]]:
    """(t, the new fleet's VariantStatus, its instances taking traffic) of each deployment event."""
    found = []
    for event in events(cloud, DEPLOYMENT_CHANGE, since):
        (variant,) = event["detail"]["PendingDeploymentSummary"]["ProductionVariants"]
        found.append(
            (event["t"], variant["VariantStatus"][0]["Status"], variant["CurrentInstanceCount"])
        )
    return found


def states(cloud: LocalCloud, since: int = 0) -> list[tuple[float, str, str]]:
    """(t, EndpointStatus, EndpointConfigName) of each endpoint state change event."""
    return [
        (e["t"], e["detail"]["EndpointStatus"], e["detail"]["EndpointConfigName"])
        for e in events(cloud, STATE_CHANGE, since)
    ]


def simulator(cloud: LocalCloud) -> SageMakerEndpointSimulator:
    found = cloud.simulators["sagemaker_endpoint"]
    assert isinstance(found, SageMakerEndpointSimulator)
    return found


def last_deployment(cloud: LocalCloud) -> Deployment:
    return simulator(cloud).deployments[-1]


def refused(cloud: LocalCloud, config: str = "v2", **kwargs: Any) -> str:
    with pytest.raises(ClientError) as caught:
        update(cloud, config, **kwargs)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    return str(caught.value.response["Error"]["Message"])


# ---------------------------------------------------------------------- creation
def test_given_a_new_endpoint_when_its_fleet_is_provisioned_then_it_is_in_service_and_says_so(
    cloud: LocalCloud,
) -> None:
    configs(cloud, "v1", instances=2)
    cloud.client("sagemaker").create_endpoint(
        EndpointName=ENDPOINT, EndpointConfigName="v1", Tags=[{"Key": "model", "Value": "churn"}]
    )
    creating = describe(cloud)

    cloud.advance("4m")
    still_creating = describe(cloud)["EndpointStatus"]
    cloud.advance("1m")

    described = describe(cloud)
    assert (creating["EndpointStatus"], still_creating) == ("Creating", "Creating")
    assert creating["CreationTime"] == START
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == "v1"
    assert "FailureReason" not in described and "PendingDeploymentSummary" not in described
    assert states(cloud) == [(0, "CREATING", "v1"), (PROVISION_S, "IN_SERVICE", "v1")]
    (in_service,) = [e for e in events(cloud, STATE_CHANGE) if e["t"] == PROVISION_S]
    sample = load_event("sagemaker_endpoint_state_change_in_service")
    assert (in_service["source"], in_service["detail-type"]) == (
        sample["source"],
        sample["detail-type"],
    )
    assert set(in_service["detail"]) == set(sample["detail"])
    assert in_service["resources"] == [in_service["detail"]["EndpointArn"]]
    detail = in_service["detail"]
    assert detail["ProductionVariants"] == [
        {
            "VariantName": "AllTraffic",
            "CurrentWeight": 1.0,
            "DesiredWeight": 1.0,
            "CurrentInstanceCount": 2,
            "DesiredInstanceCount": 2,
        }
    ]
    assert detail["CreationTime"] == int(START.timestamp() * 1000)
    assert detail["LastModifiedTime"] == int(START.timestamp() * 1000) + PROVISION_S * 1000
    assert detail["Tags"] == {"model": "churn"}
    (record,) = simulator(cloud).deployments
    assert (record.kind, record.to_config, record.outcome) == ("create", "v1", "succeeded")


def test_given_a_taken_name_when_an_endpoint_is_created_then_it_is_refused(
    cloud: LocalCloud,
) -> None:
    endpoint_in_service(cloud)

    with pytest.raises(ClientError) as caught:
        cloud.client("sagemaker").create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="v2")

    assert "Cannot create already existing endpoint" in str(caught.value)
    assert describe(cloud)["EndpointConfigName"] == "v1"


# ---------------------------------------------------------------------- canary
def test_given_a_canary_update_when_no_alarm_fires_then_traffic_moves_in_phases_to_the_new_config(
    cloud: LocalCloud,
) -> None:
    endpoint_in_service(cloud)
    t0, mark = moment(cloud)
    deployment = blue_green(
        "CANARY", wait_s=600, termination_s=900, size={"Type": "CAPACITY_PERCENT", "Value": 25}
    )

    update(cloud, DeploymentConfig=deployment)
    at_start = describe(cloud)
    cloud.advance("10m")  # 5m creating, then 5m into the canary bake
    baking = describe(cloud)
    cloud.run_until_quiet()
    after = describe(cloud)

    assert phases(cloud, mark) == [
        (t0, "Creating", 0),
        (t0 + 300, "ActivatingTraffic", 1),
        (t0 + 300, "Baking", 1),
        (t0 + 900, "ActivatingTraffic", 4),
        (t0 + 900, "Baking", 4),
    ]
    assert states(cloud, mark) == [(t0, "UPDATING", "v1"), (t0 + 1800, "IN_SERVICE", "v2")]
    # While it runs, the old fleet serves and the new one is pending.
    assert (at_start["EndpointStatus"], at_start["EndpointConfigName"]) == ("Updating", "v1")
    assert at_start["LastDeploymentConfig"] == deployment
    (creating,) = at_start["PendingDeploymentSummary"]["ProductionVariants"]
    assert creating["VariantStatus"][0]["Status"] == "Creating"
    assert creating["VariantStatus"][0]["StatusMessage"] == "Launching 4 instance(s)."
    assert (baking["EndpointStatus"], baking["EndpointConfigName"]) == ("Updating", "v1")
    pending = baking["PendingDeploymentSummary"]
    assert pending["EndpointConfigName"] == "v2"
    assert pending["StartTime"] == at_start["LastModifiedTime"]
    (variant,) = pending["ProductionVariants"]
    assert variant["VariantName"] == "AllTraffic"
    assert (variant["CurrentInstanceCount"], variant["DesiredInstanceCount"]) == (1, 4)
    assert variant["InstanceType"] == "ml.m5.large"
    (status,) = variant["VariantStatus"]
    assert status["Status"] == "Baking"
    assert status["StatusMessage"] == (
        "Baking for 600 seconds (WaitIntervalInSeconds) with traffic enabled on canary capacity "
        "of 1 instance(s)."
    )
    assert (status["StartTime"] - START).total_seconds() == t0 + 300
    # When it is done, the endpoint is on the new configuration.
    assert (after["EndpointStatus"], after["EndpointConfigName"]) == ("InService", "v2")
    assert "PendingDeploymentSummary" not in after and "FailureReason" not in after
    assert after["LastDeploymentConfig"] == deployment
    assert after["ProductionVariants"][0]["CurrentInstanceCount"] == 4
    record = last_deployment(cloud)
    assert (record.from_config, record.to_config, record.strategy) == ("v1", "v2", "CANARY")
    assert (record.outcome, record.alarm) == ("succeeded", None)


def test_given_a_deployment_when_it_changes_phase_then_each_event_has_the_samples_shape(
    cloud: LocalCloud,
) -> None:
    endpoint_in_service(cloud)
    sample = load_event("sagemaker_endpoint_deployment_state_change")

    update(cloud, DeploymentConfig=blue_green("CANARY"))
    cloud.run_until_quiet()

    sent = events(cloud, DEPLOYMENT_CHANGE)
    assert len(sent) == 5
    for event in sent:
        detail = event["detail"]
        assert (event["source"], event["detail-type"]) == (sample["source"], sample["detail-type"])
        assert event["resources"] == [detail["EndpointArn"]]
        assert set(detail) == set(sample["detail"])
        assert detail["EndpointStatus"] == "UPDATING" and detail["EndpointConfigName"] == "v1"
        pending, expected = (
            detail["PendingDeploymentSummary"],
            sample["detail"]["PendingDeploymentSummary"],
        )
        assert set(pending) == set(expected)
        (variant,), (expected_variant,) = (
            pending["ProductionVariants"],
            expected["ProductionVariants"],
        )
        assert set(variant) == set(expected_variant)
        assert set(variant["VariantStatus"][0]) == set(expected_variant["VariantStatus"][0])
        assert isinstance(pending["StartTime"], int)
        assert set(detail["ProductionVariants"][0]) == set(
            sample["detail"]["ProductionVariants"][0]
        )
    messages = [
        e["detail"]["PendingDeploymentSummary"]["ProductionVariants"][0]["VariantStatus"][0][
            "StatusMessage"
        ]
        for e in sent
    ]
    assert messages == [
        "Launching 4 instance(s).",
        "Activating traffic on canary capacity of 1 instance(s).",
        "Baking for 600 seconds (WaitIntervalInSeconds) with traffic enabled on canary capacity "
        "of 1 instance(s).",
        "Activating traffic on full capacity of 4 instance(s).",
        "Baking for 900 seconds (TerminationWaitInSeconds) with traffic enabled on full capacity "
        "of 4 instance(s).",
    ]


# ---------------------------------------------------------------------- auto-rollback
def test_given_a_canary_bake_when_a_rollback_alarm_fires_then_the_endpoint_stays_on_the_old_config(
    cloud: LocalCloud,
) -> None:
    endpoint_in_service(cloud)
    t0, mark = moment(cloud)
    update(cloud, DeploymentConfig=blue_green("CANARY"))
    cloud.advance("8m")  # 3m into the canary bake

    cloud.set_alarm(ALARM, "ALARM", "5xx errors above threshold")
    cloud.run_until_quiet()
    cloud.advance("2h")  # past where the deployment would have ended

    described = describe(cloud)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "v1")
    assert "PendingDeploymentSummary" not in described
    assert ALARM in described["FailureReason"] and "rolled back" in described["FailureReason"]
    assert [p[1] for p in phases(cloud, mark)] == [
        "Creating",
        "ActivatingTraffic",
        "Baking",
        "Deleting",
    ]
    rolled_back = t0 + 480
    assert phases(cloud, mark)[-1] == (rolled_back, "Deleting", 0)
    assert states(cloud, mark) == [(t0, "UPDATING", "v1"), (rolled_back, "IN_SERVICE", "v1")]
    (back,) = [e for e in events(cloud, STATE_CHANGE, mark) if e["t"] == rolled_back]
    assert back["detail"]["FailureReason"] == described["FailureReason"]
    record = last_deployment(cloud)
    assert (record.outcome, record.alarm, record.from_config, record.to_config) == (
        "rolled_back",
        ALARM,
        "v1",
        "v2",
    )
    assert record.ended is not None and (record.ended - START).total_seconds() == rolled_back


def test_given_an_alarm_not_in_the_rollback_config_when_it_fires_then_the_deployment_goes_on(
    cloud: LocalCloud,
) -> None:
    endpoint_in_service(cloud)
    update(cloud, DeploymentConfig=blue_green("CANARY"))
    cloud.advance("8m")

    cloud.set_alarm("churn-prod-latency-p99", "ALARM")
    cloud.run_until_quiet()

    described = describe(cloud)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "v2")
    assert "FailureReason" not in described
    assert (last_deployment(cloud).outcome, last_deployment(cloud).alarm) == ("succeeded", None)


def test_given_the_termination_wait_over_when_the_alarm_fires_then_nothing_rolls_back(
    cloud: LocalCloud,
) -> None:
    endpoint_in_service(cloud)
    update(cloud, DeploymentConfig=blue_green("CANARY", wait_s=600, termination_s=900))
    cloud.advance("30m")  # 5m + 10m + 15m: the termination wait has just ended
    assert describe(cloud)["EndpointConfigName"] == "v2"
    sent = len(events(cloud, DEPLOYMENT_CHANGE))

    cloud.set_alarm(ALARM, "ALARM")
    cloud.run_until_quiet()

    described = describe(cloud)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "v2")
    assert "FailureReason" not in described
    assert len(events(cloud, DEPLOYMENT_CHANGE)) == sent
    assert last_deployment(cloud).outcome == "succeeded"


def test_given_an_alarm_already_in_alarm_when_traffic_first_shifts_then_it_rolls_back_at_once(
    cloud: LocalCloud,
) -> None:
    endpoint_in_service(cloud)
    t0, mark = moment(cloud)
    update(cloud, DeploymentConfig=blue_green("CANARY"))
    cloud.advance("1m")
    cloud.set_alarm(ALARM, "ALARM")  # while the new fleet is still being created: not watched yet
    assert describe(cloud)["EndpointStatus"] == "Updating"

    cloud.run_until_quiet()

    assert [p[:2] for p in phases(cloud, mark)] == [
        (t0, "Creating"),
        (t0 + 300, "ActivatingTraffic"),
        (t0 + 300, "Deleting"),
    ]
    described = describe(cloud)
    assert described["EndpointConfigName"] == "v1" and ALARM in described["FailureReason"]
    assert last_deployment(cloud).alarm == ALARM


def test_given_a_slow_deployment_when_its_maximum_execution_timeout_passes_then_it_rolls_back(
    cloud: LocalCloud,
) -> None:
    endpoint_in_service(cloud)
    t0, mark = moment(cloud)

    update(cloud, DeploymentConfig=blue_green("CANARY", 600, 900, timeout_s=1200))
    cloud.run_until_quiet()

    described = describe(cloud)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "v1")
    assert "MaximumExecutionTimeoutInSeconds (1200 seconds)" in described["FailureReason"]
    assert states(cloud, mark)[-1] == (t0 + 1200, "IN_SERVICE", "v1")
    assert (last_deployment(cloud).outcome, last_deployment(cloud).alarm) == ("rolled_back", None)


# ---------------------------------------------------------------------- linear, all at once
def test_given_a_linear_update_when_it_runs_then_each_step_shifts_more_and_bakes(
    cloud: LocalCloud,
) -> None:
    endpoint_in_service(cloud)
    t0, mark = moment(cloud)

    update(
        cloud,
        DeploymentConfig=blue_green(
            "LINEAR", wait_s=300, termination_s=600, size={"Type": "CAPACITY_PERCENT", "Value": 25}
        ),
    )
    cloud.run_until_quiet()

    assert phases(cloud, mark) == [
        (t0, "Creating", 0),
        (t0 + 300, "ActivatingTraffic", 1),
        (t0 + 300, "Baking", 1),
        (t0 + 600, "ActivatingTraffic", 2),
        (t0 + 600, "Baking", 2),
        (t0 + 900, "ActivatingTraffic", 3),
        (t0 + 900, "Baking", 3),
        (t0 + 1200, "ActivatingTraffic", 4),
        (t0 + 1200, "Baking", 4),
    ]
    assert states(cloud, mark)[-1] == (t0 + 1800, "IN_SERVICE", "v2")
    assert last_deployment(cloud).strategy == "LINEAR"


def test_given_an_all_at_once_update_when_it_runs_then_all_traffic_shifts_then_bakes(
    cloud: LocalCloud,
) -> None:
    endpoint_in_service(cloud)
    t0, mark = moment(cloud)

    update(cloud, DeploymentConfig=blue_green("ALL_AT_ONCE", termination_s=600))
    cloud.advance("6m")
    cloud.set_alarm(ALARM, "ALARM")  # during the bake: rolls back
    cloud.run_until_quiet()
    rolled_back = describe(cloud)
    cloud.set_alarm(ALARM, "OK")
    t1, mark1 = moment(cloud)
    update(cloud, DeploymentConfig=blue_green("ALL_AT_ONCE", termination_s=600))
    cloud.run_until_quiet()

    assert phases(cloud, mark)[:4] == [
        (t0, "Creating", 0),
        (t0 + 300, "ActivatingTraffic", 4),
        (t0 + 300, "Baking", 4),
        (t0 + 360, "Deleting", 0),
    ]
    assert rolled_back["EndpointConfigName"] == "v1" and ALARM in rolled_back["FailureReason"]
    assert phases(cloud, mark1) == [
        (t1, "Creating", 0),
        (t1 + 300, "ActivatingTraffic", 4),
        (t1 + 300, "Baking", 4),
    ]
    assert states(cloud, mark1)[-1] == (t1 + 900, "IN_SERVICE", "v2")
    assert "FailureReason" not in describe(cloud)
    assert [(d.strategy, d.outcome) for d in simulator(cloud).deployments[1:]] == [
        ("ALL_AT_ONCE", "rolled_back"),
        ("ALL_AT_ONCE", "succeeded"),
    ]


def test_given_no_deployment_config_when_updating_then_it_switches_at_once_with_no_bake(
    cloud: LocalCloud,
) -> None:
    # Given v2 deployed and baked: past the rollback window, going back is a plain update.
    endpoint_in_service(cloud)
    update(cloud, DeploymentConfig=blue_green("CANARY"))
    cloud.run_until_quiet()
    t0, mark = moment(cloud)

    update(cloud, "v1")
    during = describe(cloud)
    cloud.run_until_quiet()

    assert "LastDeploymentConfig" not in during
    assert phases(cloud, mark) == [(t0, "Creating", 0), (t0 + 300, "ActivatingTraffic", 4)]
    assert states(cloud, mark) == [(t0, "UPDATING", "v2"), (t0 + 300, "IN_SERVICE", "v1")]
    described = describe(cloud)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "v1")
    record = last_deployment(cloud)
    assert (record.from_config, record.to_config, record.strategy, record.outcome) == (
        "v2",
        "v1",
        "ALL_AT_ONCE",
        "succeeded",
    )


def test_given_retain_deployment_config_when_updating_then_the_last_config_is_used_again(
    cloud: LocalCloud,
) -> None:
    endpoint_in_service(cloud)
    update(cloud, DeploymentConfig=blue_green("CANARY"))
    cloud.run_until_quiet()

    update(cloud, "v3", RetainDeploymentConfig=True)
    cloud.run_until_quiet()

    assert describe(cloud)["LastDeploymentConfig"] == blue_green("CANARY")
    assert (last_deployment(cloud).strategy, last_deployment(cloud).outcome) == (
        "CANARY",
        "succeeded",
    )


# ---------------------------------------------------------------------- refusals
def test_given_an_endpoint_being_created_or_updated_when_updated_then_it_is_refused(
    cloud: LocalCloud,
) -> None:
    configs(cloud, "v1", "v2")
    cloud.client("sagemaker").create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="v1")
    while_creating = refused(cloud)
    cloud.run_until_quiet()
    update(cloud, DeploymentConfig=blue_green("CANARY"))
    cloud.advance("7m")

    while_updating = refused(cloud, "v1")

    expected = (
        'Cannot update in-progress endpoint "arn:aws:sagemaker:us-east-1:123456789012:'
        'endpoint/churn-prod".'
    )
    assert while_creating == while_updating == expected
    assert describe(cloud)["PendingDeploymentSummary"]["EndpointConfigName"] == "v2"


def test_given_other_variant_names_or_unknown_names_when_updated_then_it_is_refused(
    cloud: LocalCloud,
) -> None:
    endpoint_in_service(cloud)
    configs(cloud, "renamed", variant="Blue")

    renamed = refused(cloud, "renamed")
    unknown_config = refused(cloud, "nope")
    with pytest.raises(ClientError) as unknown_endpoint:
        cloud.client("sagemaker").update_endpoint(EndpointName="nope", EndpointConfigName="v2")
    no_canary_size = refused(
        cloud,
        DeploymentConfig={
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": 60}
            }
        },
    )

    assert "variant names" in renamed and "Blue" in renamed and "AllTraffic" in renamed
    assert unknown_config.startswith('Could not find endpoint configuration "arn:aws:sagemaker:')
    assert "Could not find endpoint" in str(unknown_endpoint.value)
    assert "CanarySize" in no_canary_size
    described = describe(cloud)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "v1")
    assert len(simulator(cloud).deployments) == 1  # the create only


# ---------------------------------------------------------------------- failures from the scenario
def test_given_fail_for_the_next_update_when_its_fleet_fails_then_it_rolls_back_with_the_reason(
    cloud: LocalCloud,
) -> None:
    endpoint_in_service(cloud)
    t0, mark = moment(cloud)
    reason = "The primary container for production variant AllTraffic did not pass the ping check."
    cloud.configure_simulator("sagemaker_endpoint", {"next": [{"fail": reason}]})

    update(cloud, DeploymentConfig=blue_green("CANARY"))
    cloud.run_until_quiet()
    update(cloud, DeploymentConfig=blue_green("CANARY"))  # the next one is not told to fail
    cloud.run_until_quiet()

    assert phases(cloud, mark)[:2] == [(t0, "Creating", 0), (t0 + 300, "Deleting", 0)]
    assert states(cloud, mark)[:2] == [(t0, "UPDATING", "v1"), (t0 + 300, "IN_SERVICE", "v1")]
    first, second = simulator(cloud).deployments[1:]
    assert (first.outcome, first.reason, first.alarm) == ("rolled_back", reason, None)
    assert second.outcome == "succeeded"
    assert describe(cloud)["EndpointConfigName"] == "v2"


def test_given_fail_when_an_endpoint_is_created_then_it_ends_failed_and_cannot_be_updated(
    toy_project: Path,
) -> None:
    with LocalCloud(
        toy_project,
        start=START,
        simulators={"sagemaker_endpoint": {"fail": True, "provision": "8m"}},
    ) as cloud:
        configs(cloud, "v1", "v2")
        cloud.client("sagemaker").create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="v1")
        cloud.run_until_quiet()
        described = describe(cloud)
        sent = states(cloud)
        failed = events(cloud, STATE_CHANGE)[-1]["detail"]
        message = refused(cloud)

    assert described["EndpointStatus"] == "Failed"
    assert described["FailureReason"].startswith(
        "The primary container for production variant AllTraffic did not pass the ping health check"
    )
    assert sent == [(0, "CREATING", "v1"), (480, "FAILED", "v1")]
    assert failed["FailureReason"] == described["FailureReason"]
    assert message.startswith("Cannot update failed endpoint")


# ---------------------------------------------------------------------- settings and scenarios
def test_given_unknown_or_wrong_settings_when_configured_then_it_says_what_it_knows(
    cloud: LocalCloud,
) -> None:
    with pytest.raises(ValueError, match="known: provision, activate, fail, next"):
        cloud.configure_simulator("sagemaker_endpoint", {"bake": "5m"})
    with pytest.raises(ValueError, match="known: provision, activate, fail, next"):
        cloud.configure_simulator("sagemaker_endpoint", {"next": [{"outcome": "failed"}]})
    with pytest.raises(ValueError, match="not a duration"):
        cloud.configure_simulator("sagemaker_endpoint", {"provision": "soon"})
    with pytest.raises(ValueError, match="fail is a FailureReason"):
        cloud.configure_simulator("sagemaker_endpoint", {"fail": 3})


def test_given_scenario_steps_when_they_configure_and_alarm_then_the_deployment_follows(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    endpoint_in_service(cloud)
    run_steps(
        cloud,
        tmp_path,
        [{"configure": {"sagemaker_endpoint": {"provision": "2m", "activate": "1m"}}}],
    )
    t0, mark = moment(cloud)
    update(cloud, DeploymentConfig=blue_green("CANARY", wait_s=600, termination_s=900))

    run_steps(cloud, tmp_path, [{"advance": "10m"}, {"alarm": {"name": ALARM, "state": "ALARM"}}])

    assert [p[:2] for p in phases(cloud, mark)] == [
        (t0, "Creating"),
        (t0 + 120, "ActivatingTraffic"),
        (t0 + 180, "Baking"),
        (t0 + 600, "Deleting"),
    ]
    assert describe(cloud)["EndpointConfigName"] == "v1"
    with pytest.raises(ScenarioError, match="unknown settings"):
        run_steps_unchecked(cloud, tmp_path, [{"configure": {"sagemaker_endpoint": {"bake": 1}}}])
