"""Shadow tests (SageMaker inference experiments) offline: the API patch and its simulator."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from aiops_local import LocalCloud
from aiops_local.patches import sagemaker_inference_experiments as patch
from aiops_local.patches.base import Patcher, PatchError
from aiops_local.scenario import ScenarioError
from aiops_local.simulators.sagemaker_shadow import SageMakerShadowSimulator
from tests.support.runtime import run_steps_unchecked
from tests.support.toy_project import write_toy_project

START = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
ACCOUNT, REGION = "123456789012", "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/shadow-test"
ENDPOINT = "churn-prod"
PRODUCTION, SHADOW = "AllTraffic", "candidate"
PRODUCTION_MODEL, SHADOW_MODEL = "churn-v1", "churn-v2"
INFRASTRUCTURE = {
    "InfrastructureType": "RealTimeInference",
    "RealTimeInferenceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
}
METRICS = ("Invocations", "Invocation4XXErrors", "Invocation5XXErrors", "ModelLatency")


# ---------------------------------------------------------------------- helpers
def make_endpoint(sagemaker: Any, endpoint: str = ENDPOINT) -> None:
    existing = {m["ModelName"] for m in sagemaker.list_models()["Models"]}
    for model in (PRODUCTION_MODEL, SHADOW_MODEL):
        if model not in existing:
            sagemaker.create_model(
                ModelName=model, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "xgboost"}
            )
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"{endpoint}-config",
        ProductionVariants=[
            {
                "VariantName": PRODUCTION,
                "ModelName": PRODUCTION_MODEL,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=f"{endpoint}-config")


def request(
    name: str = "shadow-1", hours: float | None = 3, sampling: int = 50, **changes: Any
) -> dict[str, Any]:
    """A CreateInferenceExperiment request: the shadow runs `hours` from now (START)."""
    params: dict[str, Any] = {
        "Name": name,
        "Type": "ShadowMode",
        "RoleArn": ROLE,
        "EndpointName": ENDPOINT,
        "ModelVariants": [
            {
                "ModelName": PRODUCTION_MODEL,
                "VariantName": PRODUCTION,
                "InfrastructureConfig": INFRASTRUCTURE,
            },
            {
                "ModelName": SHADOW_MODEL,
                "VariantName": SHADOW,
                "InfrastructureConfig": INFRASTRUCTURE,
            },
        ],
        "ShadowModeConfig": {
            "SourceModelVariantName": PRODUCTION,
            "ShadowModelVariants": [
                {"ShadowModelVariantName": SHADOW, "SamplingPercentage": sampling}
            ],
        },
    }
    if hours is not None:
        params["Schedule"] = {"StartTime": START, "EndTime": START + timedelta(hours=hours)}
    params.update(changes)
    return params


@pytest.fixture
def cloud(toy_project: Path) -> Iterator[LocalCloud]:
    with LocalCloud(toy_project, start=START) as running:
        make_endpoint(running.client("sagemaker"))
        yield running


def describe(cloud: LocalCloud, name: str = "shadow-1") -> dict[str, Any]:
    described = dict(cloud.client("sagemaker").describe_inference_experiment(Name=name))
    described.pop("ResponseMetadata")
    return described


def variant_status(described: dict[str, Any]) -> dict[str, str]:
    return {v["VariantName"]: v["Status"] for v in described["ModelVariants"]}


def datapoints(
    cloud: LocalCloud, variant: str, metric: str, endpoint: str = ENDPOINT
) -> list[dict[str, Any]]:
    answer = cloud.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/SageMaker",
        MetricName=metric,
        Dimensions=[
            {"Name": "EndpointName", "Value": endpoint},
            {"Name": "VariantName", "Value": variant},
        ],
        StartTime=START - timedelta(hours=1),
        EndTime=START + timedelta(days=31),
        Period=3600,
        Statistics=["Sum", "Average", "SampleCount", "Minimum", "Maximum"],
    )
    return sorted(answer["Datapoints"], key=lambda d: d["Timestamp"])


def total(points: list[dict[str, Any]], statistic: str = "Sum") -> float:
    return sum(float(p[statistic]) for p in points)


def error_code(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def shadow_simulator(cloud: LocalCloud) -> SageMakerShadowSimulator:
    simulator = cloud.simulators["sagemaker_shadow"]
    assert isinstance(simulator, SageMakerShadowSimulator)
    return simulator


def output_members(operation: str, shape: str | None = None) -> tuple[set[str], set[str]]:
    model = botocore.session.get_session().get_service_model("sagemaker")
    output = model.shape_for(shape) if shape else model.operation_model(operation).output_shape
    return set(output.members), set(output.required_members)


# ---------------------------------------------------------------------- life of a shadow test
def test_given_an_endpoint_when_a_shadow_test_is_created_then_it_runs_after_provisioning(
    cloud: LocalCloud,
) -> None:
    arn = cloud.client("sagemaker").create_inference_experiment(**request())

    assert arn["InferenceExperimentArn"] == (
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:inference-experiment/shadow-1"
    )
    assert describe(cloud)["Status"] == "Creating"
    assert variant_status(describe(cloud)) == {PRODUCTION: "InService", SHADOW: "Creating"}
    cloud.advance("4m")
    assert describe(cloud)["Status"] == "Creating"
    cloud.advance("1m")
    described = describe(cloud)
    assert described["Status"] == "Running"
    assert variant_status(described) == {PRODUCTION: "InService", SHADOW: "InService"}
    assert described["LastModifiedTime"] == START + timedelta(minutes=5)
    assert described["CreationTime"] == START


def test_given_a_running_shadow_test_when_its_end_time_comes_then_it_is_completed(
    cloud: LocalCloud,
) -> None:
    cloud.client("sagemaker").create_inference_experiment(**request(hours=3))

    cloud.advance("2h59m")
    assert describe(cloud)["Status"] == "Running"
    cloud.advance("1m")
    described = describe(cloud)
    assert described["Status"] == "Completed"
    assert described["CompletionTime"] == START + timedelta(hours=3)
    # A completed test leaves the endpoint as it was: the shadow variant is gone.
    assert variant_status(described) == {PRODUCTION: "InService", SHADOW: "Deleted"}
    listed = cloud.client("sagemaker").list_inference_experiments()["InferenceExperiments"]
    assert [(e["Name"], e["Status"]) for e in listed] == [("shadow-1", "Completed")]


def test_given_a_shadow_test_when_described_then_the_response_has_the_api_references_shape(
    cloud: LocalCloud,
) -> None:
    params = request(
        Description="churn-v2 against churn-v1",
        KmsKey="alias/shadow",
        DataStorageConfig={
            "Destination": "s3://toy-capture/shadow",
            "ContentType": {"CsvContentTypes": ["text/csv"]},
        },
    )
    cloud.client("sagemaker").create_inference_experiment(**params)
    cloud.advance("10m")

    described = describe(cloud)
    members, required = output_members("DescribeInferenceExperiment")
    assert set(described) <= members
    assert required <= set(described)
    assert described["Schedule"] == params["Schedule"]
    assert described["EndpointMetadata"] == {
        "EndpointName": ENDPOINT,
        "EndpointConfigName": f"{ENDPOINT}-config",
        "EndpointStatus": "InService",
    }
    assert described["ShadowModeConfig"] == params["ShadowModeConfig"]
    assert described["DataStorageConfig"] == params["DataStorageConfig"]
    assert (described["KmsKey"], described["RoleArn"]) == ("alias/shadow", ROLE)
    assert [v["ModelName"] for v in described["ModelVariants"]] == [PRODUCTION_MODEL, SHADOW_MODEL]
    (summary,) = cloud.client("sagemaker").list_inference_experiments()["InferenceExperiments"]
    summary_members, summary_required = output_members("", "InferenceExperimentSummary")
    assert set(summary) <= summary_members
    assert summary_required <= set(summary)


def test_given_no_schedule_when_a_shadow_test_is_created_then_it_runs_seven_days_from_now(
    cloud: LocalCloud,
) -> None:
    cloud.advance("1h")
    cloud.client("sagemaker").create_inference_experiment(**request(hours=None))

    schedule = describe(cloud)["Schedule"]
    now = START + timedelta(hours=1)
    assert schedule == {"StartTime": now, "EndTime": now + timedelta(days=7)}
    cloud.run_until_quiet()
    assert describe(cloud)["CompletionTime"] == now + timedelta(days=7)


def test_given_a_later_start_time_when_provisioned_then_it_is_created_until_it_starts(
    cloud: LocalCloud,
) -> None:
    later = START + timedelta(hours=2)
    schedule = {"StartTime": later, "EndTime": later + timedelta(hours=1)}
    cloud.client("sagemaker").create_inference_experiment(**request(Schedule=schedule))

    cloud.advance("1h")
    assert describe(cloud)["Status"] == "Created"
    assert datapoints(cloud, PRODUCTION, "Invocations") == []
    cloud.advance("1h")
    assert describe(cloud)["Status"] == "Running"
    cloud.advance("1h")
    assert describe(cloud)["Status"] == "Completed"
    assert [p["Timestamp"] for p in datapoints(cloud, SHADOW, "Invocations")] == [later]


# ---------------------------------------------------------------------- metrics
def test_given_the_default_settings_when_a_shadow_test_runs_then_both_variants_have_metrics(
    cloud: LocalCloud,
) -> None:
    cloud.client("sagemaker").create_inference_experiment(**request(hours=3, sampling=25))
    cloud.run_until_quiet()

    running = START + timedelta(minutes=5)  # provisioned: 5m
    for variant, invocations, latency_ms in ((PRODUCTION, 1000, 40), (SHADOW, 250, 42)):
        calls = datapoints(cloud, variant, "Invocations")
        # One datapoint an hour, the last one for the part-hour before the end time.
        assert [p["Timestamp"] for p in calls] == [running + timedelta(hours=h) for h in range(3)]
        assert [p["Sum"] for p in calls] == pytest.approx(
            [invocations, invocations, invocations * 55 / 60]
        )
        assert total(calls) == pytest.approx(invocations * (2 + 55 / 60))
        errors = datapoints(cloud, variant, "Invocation5XXErrors")
        assert [p["Average"] for p in errors] == pytest.approx([0.001] * 3)
        assert total(errors) == pytest.approx(0.001 * total(calls))
        assert total(datapoints(cloud, variant, "Invocation4XXErrors")) == 0
        latency = datapoints(cloud, variant, "ModelLatency")
        assert [p["Average"] for p in latency] == pytest.approx([latency_ms * 1000] * 3)
        assert {p["Unit"] for p in latency} == {"Microseconds"}
        assert {p["Maximum"] for p in latency} == {latency_ms * 1000}


def test_given_settings_for_both_variants_when_a_shadow_test_runs_then_metrics_have_them(
    toy_project: Path,
) -> None:
    settings = {
        "production": {"latency_ms": 25, "error_rate": 0.01, "invocations_per_hour": 600},
        "shadow": {"latency_ms": 90, "error_rate": 0.2},
        "provision": "0s",
    }
    with LocalCloud(toy_project, start=START, simulators={"sagemaker_shadow": settings}) as cloud:
        make_endpoint(cloud.client("sagemaker"))
        cloud.client("sagemaker").create_inference_experiment(**request(hours=2, sampling=100))
        cloud.run_until_quiet()

        assert total(datapoints(cloud, PRODUCTION, "Invocations")) == pytest.approx(1200)
        assert total(datapoints(cloud, SHADOW, "Invocations")) == pytest.approx(1200)
        assert total(datapoints(cloud, PRODUCTION, "Invocation5XXErrors")) == pytest.approx(12)
        assert total(datapoints(cloud, SHADOW, "Invocation5XXErrors")) == pytest.approx(240)
        shadow_latency = datapoints(cloud, SHADOW, "ModelLatency")
        assert {p["Average"] for p in shadow_latency} == {90_000}
        assert describe(cloud)["CompletionTime"] == START + timedelta(hours=2)


def test_given_a_configure_with_part_of_a_variant_when_applied_then_the_rest_is_kept(
    cloud: LocalCloud,
) -> None:
    cloud.configure_simulator("sagemaker_shadow", {"shadow": {"latency_ms": 80}})

    assert shadow_simulator(cloud).defaults["shadow"] == {"latency_ms": 80, "error_rate": 0.001}
    assert shadow_simulator(cloud).defaults["production"]["invocations_per_hour"] == 1000


def test_given_next_overrides_when_shadow_tests_are_created_then_each_takes_its_own(
    cloud: LocalCloud,
) -> None:
    sagemaker = cloud.client("sagemaker")
    make_endpoint(sagemaker, "churn-staging")
    cloud.configure_simulator(
        "sagemaker_shadow",
        {"next": [{"shadow": {"latency_ms": 120}}, {"fail": "capacity (simulated)"}]},
    )

    sagemaker.create_inference_experiment(**request("first", hours=1))
    sagemaker.create_inference_experiment(
        **request("second", hours=1, EndpointName="churn-staging")
    )
    cloud.run_until_quiet()

    first = datapoints(cloud, SHADOW, "ModelLatency")
    assert {p["Average"] for p in first} == {120_000}
    assert {p["Average"] for p in datapoints(cloud, PRODUCTION, "ModelLatency")} == {40_000}
    second = describe(cloud, "second")
    assert (second["Status"], second["StatusReason"]) == ("Cancelled", "capacity (simulated)")
    assert datapoints(cloud, SHADOW, "Invocations", endpoint="churn-staging") == []
    # The overrides are used up: the third runs on the defaults.
    sagemaker.create_inference_experiment(**request("third", hours=None))
    cloud.advance("2h")
    assert describe(cloud, "third")["Status"] == "Running"
    third = datapoints(cloud, SHADOW, "ModelLatency")[len(first) :]
    assert third
    assert {p["Average"] for p in third} == {42_000}


def test_given_fail_when_a_shadow_test_is_provisioned_then_it_is_cancelled_with_a_reason(
    cloud: LocalCloud,
) -> None:
    cloud.configure_simulator("sagemaker_shadow", {"fail": True})
    cloud.client("sagemaker").create_inference_experiment(**request())

    cloud.run_until_quiet()
    described = describe(cloud)
    assert described["Status"] == "Cancelled"
    assert described["StatusReason"].startswith("Failed to create the shadow variant")
    assert described["CompletionTime"] == START + timedelta(minutes=5)
    assert variant_status(described)[SHADOW] == "Deleted"
    assert datapoints(cloud, PRODUCTION, "Invocations") == []


# ---------------------------------------------------------------------- stopping
def test_given_a_running_shadow_test_when_stopped_early_then_it_is_cancelled_after_stopping(
    cloud: LocalCloud,
) -> None:
    sagemaker = cloud.client("sagemaker")
    sagemaker.create_inference_experiment(**request(hours=24))
    cloud.advance("1h35m")  # running for 1h30m

    sagemaker.stop_inference_experiment(
        Name="shadow-1",
        ModelVariantActions={PRODUCTION: "Retain", SHADOW: "Remove"},
        Reason="shadow latency too high",
    )
    described = describe(cloud)
    assert described["Status"] == "Stopping"
    assert variant_status(described) == {PRODUCTION: "InService", SHADOW: "Deleting"}
    cloud.run_until_quiet()
    described = describe(cloud)
    assert described["Status"] == "Cancelled"  # stopped early, no DesiredState
    assert described["StatusReason"] == "shadow latency too high"
    assert described["CompletionTime"] == START + timedelta(hours=1, minutes=36)
    assert variant_status(described) == {PRODUCTION: "InService", SHADOW: "Deleted"}
    # Metrics stop with the stop: 1h30m of traffic, none after.
    assert total(datapoints(cloud, PRODUCTION, "Invocations")) == pytest.approx(1500)
    assert total(datapoints(cloud, SHADOW, "Invocations")) == pytest.approx(750)
    assert shadow_simulator(cloud).promotions == {}


def test_given_a_good_shadow_when_stopped_with_promote_then_its_model_takes_the_traffic(
    cloud: LocalCloud,
) -> None:
    sagemaker = cloud.client("sagemaker")
    sagemaker.create_inference_experiment(**request(hours=24))
    cloud.advance("3h")

    sagemaker.stop_inference_experiment(
        Name="shadow-1",
        ModelVariantActions={SHADOW: "Promote", PRODUCTION: "Remove"},
        DesiredState="Completed",
    )
    assert variant_status(describe(cloud)) == {PRODUCTION: "Deleting", SHADOW: "Updating"}
    cloud.run_until_quiet()

    described = describe(cloud)
    assert described["Status"] == "Completed"
    assert variant_status(described) == {PRODUCTION: "Deleted", SHADOW: "InService"}
    assert shadow_simulator(cloud).promotions == {ENDPOINT: SHADOW_MODEL}
    assert patch.find(ACCOUNT, REGION, "shadow-1").promoted_model == SHADOW_MODEL


def test_given_a_creating_shadow_test_when_stopped_then_it_never_runs(cloud: LocalCloud) -> None:
    sagemaker = cloud.client("sagemaker")
    sagemaker.create_inference_experiment(**request())
    cloud.advance("2m")

    sagemaker.stop_inference_experiment(Name="shadow-1", ModelVariantActions={SHADOW: "Remove"})
    cloud.run_until_quiet()
    assert describe(cloud)["Status"] == "Cancelled"
    assert datapoints(cloud, PRODUCTION, "Invocations") == []


def test_given_stop_mistakes_when_stopping_then_sagemaker_refuses(cloud: LocalCloud) -> None:
    sagemaker = cloud.client("sagemaker")
    sagemaker.create_inference_experiment(**request(hours=1))
    cloud.advance("10m")

    def stop(**changes: Any) -> tuple[str, str]:
        args = {"Name": "shadow-1", "ModelVariantActions": {SHADOW: "Remove"}, **changes}
        return error_code(lambda: sagemaker.stop_inference_experiment(**args))

    assert stop(Name="nope")[0] == "ResourceNotFound"
    assert stop(ModelVariantActions={PRODUCTION: "Promote"})[0] == "ValidationException"
    assert stop(ModelVariantActions={"other": "Remove"})[0] == "ValidationException"
    assert stop(ModelVariantActions={SHADOW: "Keep"})[0] == "ValidationException"
    assert stop(DesiredState="Failed")[0] == "ValidationException"
    assert describe(cloud)["Status"] == "Running"  # none of them changed anything
    cloud.run_until_quiet()
    assert stop()[0] == "ConflictException"  # completed
    assert error_code(lambda: sagemaker.describe_inference_experiment(Name="nope"))[0] == (
        "ResourceNotFound"
    )


# ---------------------------------------------------------------------- validation
def _two_shadows(params: dict[str, Any]) -> None:
    shadows = params["ShadowModeConfig"]["ShadowModelVariants"]
    shadows.append({"ShadowModelVariantName": "other", "SamplingPercentage": 10})


def _sampling(value: int) -> Callable[[dict[str, Any]], None]:
    def change(params: dict[str, Any]) -> None:
        params["ShadowModeConfig"]["ShadowModelVariants"][0]["SamplingPercentage"] = value

    return change


def _shadow_model(value: str) -> Callable[[dict[str, Any]], None]:
    def change(params: dict[str, Any]) -> None:
        params["ModelVariants"][1]["ModelName"] = value

    return change


def _infrastructure(params: dict[str, Any]) -> None:
    params["ModelVariants"][1]["InfrastructureConfig"] = {
        **INFRASTRUCTURE,
        "InfrastructureType": "Serverless",
    }


@pytest.fixture(scope="class")
def shared_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(write_toy_project(tmp_path_factory.mktemp("toy")), start=START) as cloud:
        make_endpoint(cloud.client("sagemaker"))
        yield cloud


class TestRefusals:
    """Refused requests and settings leave nothing behind: one cloud serves them all."""

    @pytest.mark.parametrize(
        ("settings", "complaint"),
        [
            ({"latency": 40}, "unknown settings ['latency']; known: production, shadow"),
            ({"production": {"p99_ms": 1}}, "known: latency_ms, error_rate, invocations_per_hour"),
            ({"shadow": {"invocations_per_hour": 5}}, "unknown shadow settings"),
            ({"next": [{"shadow": {"typo": 1}}]}, "unknown shadow settings ['typo']"),
            ({"next": [{"next": []}]}, "unknown settings ['next']"),
            ({"shadow": {"error_rate": 1.5}}, "shadow.error_rate must be between 0 and 1"),
            ({"production": {"latency_ms": "40"}}, "production.latency_ms must be a number"),
            ({"provision": "soon"}, "is not a duration"),
            ({"fail": ""}, "fail is true, false or the failure's reason"),
            ({"next": {"fail": True}}, "next is a list"),
        ],
    )
    def test_given_wrong_settings_when_configured_then_they_are_refused_naming_the_known_ones(
        self, shared_cloud: LocalCloud, settings: dict[str, Any], complaint: str
    ) -> None:
        cloud = shared_cloud
        before = dict(shadow_simulator(cloud).defaults)
        with pytest.raises(ValueError, match=complaint.replace("[", r"\[").replace("]", r"\]")):
            cloud.configure_simulator("sagemaker_shadow", settings)
        assert shadow_simulator(cloud).defaults == before
        assert not shadow_simulator(cloud).next_tests

    def test_given_a_scenario_configure_step_with_a_typo_then_the_scenario_is_refused(
        self, shared_cloud: LocalCloud, tmp_path: Path
    ) -> None:
        steps = [{"configure": {"sagemaker_shadow": {"lag": 1}}}]
        with pytest.raises(ScenarioError, match="unknown settings"):
            run_steps_unchecked(shared_cloud, tmp_path, steps)

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            (lambda p: p.update(Type="ABTest"), "Member must satisfy enum value set: [ShadowMode]"),
            (lambda p: p.update(EndpointName="missing"), "Could not find endpoint"),
            (_two_shadows, "exactly one shadow variant"),
            (_sampling(0), "have value between 1 and 100"),
            (_sampling(101), "have value between 1 and 100"),
            (_shadow_model("not-a-model"), "Could not find model"),
            (lambda p: p.update(ModelVariants=p["ModelVariants"][:1]), "needs its ModelVariants"),
            (_infrastructure, "enum value set: [RealTimeInference]"),
            (
                lambda p: p["ShadowModeConfig"]["ShadowModelVariants"][0].update(
                    ShadowModelVariantName=PRODUCTION
                ),
                "must not be the production variant",
            ),
            (
                lambda p: p.update(
                    Schedule={"StartTime": START, "EndTime": START + timedelta(days=30, seconds=1)}
                ),
                "at most 30 days",
            ),
            (
                lambda p: p.update(
                    Schedule={"StartTime": START, "EndTime": START - timedelta(hours=1)}
                ),
                "EndTime must be after",
            ),
            (lambda p: p.update(Name="bad_name"), "regular expression pattern"),
        ],
    )
    def test_given_an_invalid_request_when_creating_then_it_is_a_validation_error(
        self, shared_cloud: LocalCloud, change: Callable[[dict[str, Any]], None], message: str
    ) -> None:
        sagemaker = shared_cloud.client("sagemaker")
        params = request()
        change(params)

        code, text = error_code(lambda: sagemaker.create_inference_experiment(**params))
        assert code == "ValidationException"
        assert message in text
        assert sagemaker.list_inference_experiments()["InferenceExperiments"] == []


def test_given_thirty_days_when_creating_then_it_is_accepted(cloud: LocalCloud) -> None:
    cloud.client("sagemaker").create_inference_experiment(**request(hours=30 * 24))
    assert describe(cloud)["Schedule"]["EndTime"] == START + timedelta(days=30)


def test_given_a_taken_name_or_busy_endpoint_when_creating_then_it_is_resource_in_use(
    cloud: LocalCloud,
) -> None:
    sagemaker = cloud.client("sagemaker")
    make_endpoint(sagemaker, "churn-staging")
    sagemaker.create_inference_experiment(**request())

    code, _ = error_code(
        lambda: sagemaker.create_inference_experiment(**request(EndpointName="churn-staging"))
    )
    assert code == "ResourceInUse"  # the name
    code, text = error_code(lambda: sagemaker.create_inference_experiment(**request("shadow-2")))
    assert code == "ResourceInUse"  # the endpoint has its shadow variant already
    assert "at most one" in text
    cloud.run_until_quiet()
    sagemaker.create_inference_experiment(**request("shadow-2", hours=None))  # ended: free again


def test_given_experiments_when_listed_then_filters_sort_and_pages_apply(cloud: LocalCloud) -> None:
    sagemaker = cloud.client("sagemaker")
    for index, endpoint in enumerate(("ep-a", "ep-b", "ep-c")):
        make_endpoint(sagemaker, endpoint)
        sagemaker.create_inference_experiment(
            **request(f"shadow-{endpoint}", EndpointName=endpoint)
        )
        cloud.advance("10m" if index == 0 else "1m")

    def names(**filters: Any) -> list[str]:
        listed = sagemaker.list_inference_experiments(**filters)["InferenceExperiments"]
        return [e["Name"] for e in listed]

    assert names() == ["shadow-ep-c", "shadow-ep-b", "shadow-ep-a"]  # newest first
    assert names(SortBy="Name", SortOrder="Ascending") == [
        "shadow-ep-a",
        "shadow-ep-b",
        "shadow-ep-c",
    ]
    assert names(StatusEquals="Running") == ["shadow-ep-a"]
    assert names(NameContains="ep-b") == ["shadow-ep-b"]
    assert names(CreationTimeAfter=START + timedelta(minutes=5)) == ["shadow-ep-c", "shadow-ep-b"]
    first = sagemaker.list_inference_experiments(MaxResults=2)
    assert len(first["InferenceExperiments"]) == 2
    rest = sagemaker.list_inference_experiments(MaxResults=2, NextToken=first["NextToken"])
    assert [e["Name"] for e in rest["InferenceExperiments"]] == ["shadow-ep-a"]
    assert "NextToken" not in rest


# ---------------------------------------------------------------------- the patch, pinned
OPERATIONS = tuple(patch.RESPONSE_METHODS)


def test_moto_lacks_inference_experiments_so_the_patch_adds_them() -> None:
    from moto.sagemaker.models import SageMakerModelBackend
    from moto.sagemaker.responses import SageMakerResponse

    for name in OPERATIONS:
        assert not hasattr(SageMakerResponse, name), f"moto has {name} now: use moto's own"
        assert not hasattr(SageMakerModelBackend, name), f"moto has {name} now: use moto's own"
    with mock_aws():
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        with pytest.raises(NotImplementedError):
            sagemaker.create_inference_experiment(**request())


def test_moto_dispatches_to_the_response_method_named_after_the_operation() -> None:
    from moto.core.responses import BaseResponse

    source = inspect.getsource(BaseResponse.call_action)
    assert "camelcase_to_underscores(self._get_action())" in source
    assert "method_names_from_class(self.__class__)" in source


def test_the_backends_state_the_patch_reads_is_where_it_expects() -> None:
    from moto.core.base_backend import BaseBackend
    from moto.sagemaker.models import FakeEndpoint, SageMakerModelBackend

    # The experiments live on the backend instance; moto's reset empties its __dict__.
    assert "self.__dict__ = {}" in inspect.getsource(BaseBackend.reset)
    init = inspect.getsource(SageMakerModelBackend.__init__)
    assert "self.endpoints" in init
    assert "self._models" in init
    endpoint_init = inspect.getsource(FakeEndpoint.__init__)
    for attribute in ("endpoint_config_name", "endpoint_status", "failure_reason"):
        assert f"self.{attribute} =" in endpoint_init
    assert 'temp_variant["VariantName"]' in inspect.getsource(
        FakeEndpoint._process_production_variants
    )


def test_the_patch_installs_under_plain_moto_and_restores() -> None:
    from moto.sagemaker.models import SageMakerModelBackend
    from moto.sagemaker.responses import SageMakerResponse

    patcher = Patcher()
    patch.install(patcher)
    try:
        with pytest.raises(PatchError):
            patch.install(Patcher())  # a second install meets the first: refused
        with mock_aws():
            sagemaker = boto3.client("sagemaker", region_name=REGION)
            make_endpoint(sagemaker)
            sagemaker.create_inference_experiment(**request(hours=None))
            described = sagemaker.describe_inference_experiment(Name="shadow-1")
            assert described["Status"] == "Creating"  # no simulator: nothing moves it
            backend = SageMakerModelBackend  # the methods are on moto's backend too
            assert callable(backend.describe_inference_experiment)  # type: ignore[attr-defined]
    finally:
        patcher.restore()
    for name in OPERATIONS:
        assert not hasattr(SageMakerResponse, name)
        assert not hasattr(SageMakerModelBackend, name)


def test_moto_reset_forgets_the_experiments() -> None:
    patcher = Patcher()
    patch.install(patcher)
    try:
        with mock_aws():
            sagemaker = boto3.client("sagemaker", region_name=REGION)
            make_endpoint(sagemaker)
            sagemaker.create_inference_experiment(**request(hours=None))
        with mock_aws():
            sagemaker = boto3.client("sagemaker", region_name=REGION)
            assert sagemaker.list_inference_experiments()["InferenceExperiments"] == []
    finally:
        patcher.restore()


def test_a_stopped_cloud_leaves_moto_without_inference_experiments(toy_project: Path) -> None:
    from moto.sagemaker.responses import SageMakerResponse

    with LocalCloud(toy_project):
        assert hasattr(SageMakerResponse, "create_inference_experiment")
    assert not hasattr(SageMakerResponse, "create_inference_experiment")


def test_moto_cloudwatch_keeps_statistic_values_for_the_aws_namespace() -> None:
    # The simulator publishes one aggregated datapoint an hour in SageMaker's namespace.
    with mock_aws():
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        cloudwatch.put_metric_data(
            Namespace="AWS/SageMaker",
            MetricData=[
                {
                    "MetricName": "ModelLatency",
                    "Dimensions": [{"Name": "EndpointName", "Value": "e"}],
                    "Timestamp": START,
                    "StatisticValues": {
                        "SampleCount": 4,
                        "Sum": 200,
                        "Minimum": 50,
                        "Maximum": 50,
                    },
                    "Unit": "Microseconds",
                }
            ],
        )
        (point,) = cloudwatch.get_metric_statistics(
            Namespace="AWS/SageMaker",
            MetricName="ModelLatency",
            Dimensions=[{"Name": "EndpointName", "Value": "e"}],
            StartTime=START,
            EndTime=START + timedelta(hours=1),
            Period=3600,
            Statistics=["Average", "SampleCount", "Sum"],
        )["Datapoints"]
    assert (point["Average"], point["SampleCount"], point["Sum"]) == (50, 4, 200)
    assert point["Unit"] == "Microseconds"


def test_botocore_knows_the_statuses_and_actions_the_patch_uses() -> None:
    model = botocore.session.get_session().get_service_model("sagemaker")
    statuses = set(model.shape_for("InferenceExperimentStatus").enum)
    assert {"Creating", "Created", "Running", "Stopping", "Completed", "Cancelled"} <= statuses
    assert set(model.shape_for("ModelVariantAction").enum) == set(patch.ACTIONS)
    assert set(model.shape_for("InferenceExperimentStopDesiredState").enum) == set(
        patch.DESIRED_STATES
    )
    assert set(model.shape_for("ModelVariantStatus").enum) >= {
        "Creating",
        "InService",
        "Updating",
        "Deleting",
        "Deleted",
    }
