"""Bedrock model customization jobs offline: the `bedrock_jobs` patch and the
`bedrock_customization` simulator, on the toy project. The API (Create/Get/Stop, custom models)
and the `Model Customization Job State Change` events tell the same story as on AWS.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from aiops_local import LocalCloud
from aiops_local.scenario import ScenarioError
from aiops_local.simulators.bedrock_customization import (
    DETAIL_TYPE,
    BedrockCustomizationSimulator,
)
from tests.support.events import load_event
from tests.support.runtime import run_steps_unchecked, toy_cloud_fixtures

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ROLE = "arn:aws:iam::123456789012:role/aiops-dev-bedrock-customization"
BASE = "amazon.nova-lite-v1:0"
TWO_HOURS = 7200


cloud, shared_cloud = toy_cloud_fixtures(START)


# ---------------------------------------------------------------------- helpers
def job_args(
    cloud: LocalCloud, name: str = "support-assistant-ft-1", **extra: Any
) -> dict[str, Any]:
    bucket = cloud.artifacts_bucket
    prefix = f"s3://{bucket}/fine-tune/support-assistant/{name}"
    args: dict[str, Any] = {
        "jobName": name,
        "customModelName": f"{name}-model",
        "roleArn": ROLE,
        "baseModelIdentifier": BASE,
        "customizationType": "FINE_TUNING",
        "trainingDataConfig": {"s3Uri": f"{prefix}/train.jsonl"},
        "validationDataConfig": {"validators": [{"s3Uri": f"{prefix}/validation.jsonl"}]},
        "outputDataConfig": {"s3Uri": f"{prefix}/output/"},
        "hyperParameters": {"epochCount": "2", "batchSize": "1", "learningRate": "0.00001"},
        "jobTags": [{"key": "aiops:model", "value": "support-assistant"}],
        "customModelTags": [{"key": "aiops:model", "value": "support-assistant"}],
        "clientRequestToken": f"{name}-token",
    }
    args.update(extra)
    return args


def create(cloud: LocalCloud, name: str = "support-assistant-ft-1", **extra: Any) -> str:
    return str(
        cloud.client("bedrock").create_model_customization_job(**job_args(cloud, name, **extra))[
            "jobArn"
        ]
    )


def get(cloud: LocalCloud, identifier: str) -> dict[str, Any]:
    job = dict(cloud.client("bedrock").get_model_customization_job(jobIdentifier=identifier))
    job.pop("ResponseMetadata", None)
    return job


def events(cloud: LocalCloud) -> list[dict[str, Any]]:
    """The customization events sent so far, each with `t`: virtual seconds since START."""
    return [
        {**e["event"], "t": e["t"]}
        for e in cloud.timeline.entries(0)
        if e["kind"] == "event" and e.get("detail_type") == DETAIL_TYPE and "event" in e
    ]


def statuses(cloud: LocalCloud) -> list[tuple[float, str]]:
    return [(e["t"], e["detail"]["jobStatus"]) for e in events(cloud)]


def configure(cloud: LocalCloud, **settings: Any) -> None:
    cloud.configure_simulator("bedrock_customization", settings)


def error_of(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


# ---------------------------------------------------------------------- a completed job
def test_given_a_new_job_when_it_runs_its_duration_then_it_completes_with_its_custom_model(
    cloud: LocalCloud,
) -> None:
    bedrock = cloud.client("bedrock")
    arn = create(cloud)
    running = get(cloud, arn)
    models_while_running = bedrock.list_custom_models()["modelSummaries"]

    cloud.advance("2h")

    done = get(cloud, arn)
    assert running["status"] == "InProgress"
    assert "outputModelArn" not in running and "endTime" not in running
    assert running["creationTime"] == START
    assert models_while_running == []
    assert arn.startswith(f"arn:aws:bedrock:us-east-1:123456789012:model-customization-job/{BASE}/")
    assert len(arn.rsplit("/", 1)[-1]) == 12
    assert done["status"] == "Completed"
    assert done["jobName"] == "support-assistant-ft-1"
    assert done["outputModelName"] == "support-assistant-ft-1-model"
    assert done["baseModelArn"] == f"arn:aws:bedrock:us-east-1::foundation-model/{BASE}"
    assert (done["endTime"] - START).total_seconds() == TWO_HOURS
    model_arn = done["outputModelArn"]
    assert model_arn.startswith(f"arn:aws:bedrock:us-east-1:123456789012:custom-model/{BASE}/")
    by_arn = bedrock.get_custom_model(modelIdentifier=model_arn)
    by_name = bedrock.get_custom_model(modelIdentifier="support-assistant-ft-1-model")
    assert by_arn["modelArn"] == by_name["modelArn"] == model_arn
    assert by_arn["jobArn"] == arn
    assert [m["modelArn"] for m in bedrock.list_custom_models()["modelSummaries"]] == [model_arn]
    assert bedrock.list_tags_for_resource(resourceARN=model_arn)["tags"] == [
        {"key": "aiops:model", "value": "support-assistant"}
    ]
    assert bedrock.list_tags_for_resource(resourceARN=arn)["tags"] == [
        {"key": "aiops:model", "value": "support-assistant"}
    ]


def test_given_a_job_when_it_is_read_by_name_or_by_arn_then_both_find_it(
    cloud: LocalCloud,
) -> None:
    arn = create(cloud)

    by_arn, by_name = get(cloud, arn), get(cloud, "support-assistant-ft-1")

    assert by_arn == by_name
    assert by_arn["jobArn"] == arn


def test_given_a_completed_job_then_its_events_have_the_documented_shape(
    cloud: LocalCloud,
) -> None:
    arn = create(cloud)
    cloud.advance("2h")

    sent = events(cloud)
    sample = load_event("bedrock_customization_job_completed")

    assert statuses(cloud) == [(0, "InProgress"), (TWO_HOURS, "Completed")]
    completed = sent[-1]
    assert (completed["source"], completed["detail-type"]) == (
        sample["source"],
        sample["detail-type"],
    )
    assert completed["resources"] == [arn]
    assert set(completed) - {"t"} == set(sample)
    assert set(completed["detail"]) == set(sample["detail"])
    detail = completed["detail"]
    job = get(cloud, arn)
    assert detail["version"] == "0.0"
    assert detail["jobArn"] == arn
    assert detail["jobName"] == job["jobName"]
    assert detail["outputModelArn"] == job["outputModelArn"]
    assert detail["outputModelName"] == job["outputModelName"]
    assert detail["roleArn"] == ROLE
    assert detail["baseModelArn"] == job["baseModelArn"]
    assert detail["creationTime"] == "2026-11-20T09:00:00Z"
    assert detail["endTime"] == detail["lastModifiedTime"] == "2026-11-20T11:00:00Z"
    assert completed["time"] == "2026-11-20T11:00:00Z"
    assert detail["hyperParameters"] == job_args(cloud)["hyperParameters"]
    assert detail["trainingDataConfig"] == job_args(cloud)["trainingDataConfig"]
    assert detail["validationDataConfig"] == {
        "s3Uri": job_args(cloud)["validationDataConfig"]["validators"][0]["s3Uri"]
    }
    assert detail["outputDataConfig"] == job_args(cloud)["outputDataConfig"]
    in_progress = sent[0]["detail"]
    assert set(in_progress) == set(sample["detail"]) - {"endTime"}


def test_given_a_completed_job_then_its_output_prefix_holds_bedrocks_metrics_files(
    cloud: LocalCloud,
) -> None:
    arn = create(cloud)
    cloud.advance("2h")
    s3 = cloud.client("s3")
    bucket = cloud.artifacts_bucket
    root = (
        f"fine-tune/support-assistant/support-assistant-ft-1/output/"
        f"model-customization-job-{arn.rsplit('/', 1)[-1]}"
    )

    def rows(key: str) -> list[dict[str, str]]:
        body = s3.get_object(Bucket=bucket, Key=f"{root}/{key}")["Body"].read().decode()
        return list(csv.DictReader(io.StringIO(body)))

    training = rows("training_artifacts/step_wise_training_metrics.csv")
    validation = rows("validation_artifacts/post_fine_tuning_validation/validation_metrics.csv")

    assert list(training[0]) == ["step_number", "epoch_number", "training_loss", "perplexity"]
    assert list(validation[0]) == ["step_number", "epoch_number", "validation_loss", "perplexity"]
    losses = [float(r["training_loss"]) for r in training]
    assert losses == sorted(losses, reverse=True)
    assert {r["epoch_number"] for r in training} == {"0", "1"}
    assert get(cloud, arn)["trainingMetrics"]["trainingLoss"] == pytest.approx(losses[-1], 1e-5)


# ---------------------------------------------------------------------- other outcomes
def test_given_a_failing_job_when_it_ends_then_it_is_failed_with_its_message_and_event(
    cloud: LocalCloud,
) -> None:
    configure(cloud, next=[{"outcome": "failed", "duration": "30m"}])
    arn = create(cloud)

    cloud.run_until_quiet()

    job = get(cloud, arn)
    sample = load_event("bedrock_customization_job_failed")
    failed = events(cloud)[-1]
    assert job["status"] == "Failed"
    assert job["failureMessage"].startswith("Validation error: record 3412")
    assert "outputModelArn" not in job
    assert cloud.client("bedrock").list_custom_models()["modelSummaries"] == []
    assert statuses(cloud) == [(0, "InProgress"), (1800, "Failed")]
    assert set(failed["detail"]) == set(sample["detail"])
    assert failed["detail"]["failureMessage"] == job["failureMessage"]


def test_given_a_job_that_never_reports_when_it_is_stopped_then_it_ends_stopped_with_events(
    cloud: LocalCloud,
) -> None:
    configure(cloud, outcome="never_reports")
    arn = create(cloud)
    cloud.advance("10d")
    still = get(cloud, arn)["status"]
    quiet = statuses(cloud)

    cloud.client("bedrock").stop_model_customization_job(jobIdentifier=arn)
    stopping = get(cloud, arn)["status"]
    cloud.run_until_quiet()

    job = get(cloud, arn)
    ten_days = 10 * 86400
    assert (still, quiet) == ("InProgress", [(0, "InProgress")])
    assert stopping == "Stopping"
    assert job["status"] == "Stopped"
    assert (job["endTime"] - START).total_seconds() == ten_days + 300
    assert statuses(cloud) == [
        (0, "InProgress"),
        (ten_days, "Stopping"),
        (ten_days + 300, "Stopped"),
    ]


def test_given_a_running_job_when_it_is_stopped_by_name_then_its_natural_end_never_comes(
    cloud: LocalCloud,
) -> None:
    arn = create(cloud)
    cloud.advance("1h")

    cloud.client("bedrock").stop_model_customization_job(jobIdentifier="support-assistant-ft-1")
    cloud.advance("3h")

    assert get(cloud, arn)["status"] == "Stopped"
    assert statuses(cloud) == [(0, "InProgress"), (3600, "Stopping"), (3900, "Stopped")]
    assert cloud.client("bedrock").list_custom_models()["modelSummaries"] == []


def test_given_a_lost_event_when_the_job_ends_then_only_a_read_of_the_job_tells(
    cloud: LocalCloud,
) -> None:
    configure(cloud, lose_event=True)
    arn = create(cloud)

    cloud.advance("3h")

    job = get(cloud, arn)
    assert job["status"] == "Completed"
    assert job["outputModelArn"]
    assert statuses(cloud) == [(0, "InProgress")]
    simulator = cloud.simulators["bedrock_customization"]
    assert isinstance(simulator, BedrockCustomizationSimulator)
    assert [(r.status, r.event_lost) for r in simulator.runs] == [("Completed", True)]


# ---------------------------------------------------------------------- create's rules
def test_given_a_retry_with_the_same_token_then_the_same_job_is_returned_and_runs_once(
    cloud: LocalCloud,
) -> None:
    first = create(cloud)
    second = create(cloud)

    cloud.advance("2h")

    assert second == first
    assert statuses(cloud) == [(0, "InProgress"), (TWO_HOURS, "Completed")]
    summaries = cloud.client("bedrock").list_model_customization_jobs()
    assert [j["jobArn"] for j in summaries["modelCustomizationJobSummaries"]] == [first]


def test_given_a_used_token_or_name_when_another_job_is_created_then_it_is_refused(
    cloud: LocalCloud,
) -> None:
    create(cloud)

    other_request = error_of(lambda: create(cloud, hyperParameters={"epochCount": "5"}))
    same_name = error_of(lambda: create(cloud, clientRequestToken="another-token"))
    same_model = error_of(
        lambda: create(
            cloud,
            "support-assistant-ft-2",
            customModelName="support-assistant-ft-1-model",
        )
    )

    assert other_request[0] == "ConflictException"
    assert same_name == ("ValidationException", "The provided job name is currently in use.")
    assert same_model[0] == "ValidationException"
    assert "support-assistant-ft-1-model" in same_model[1]


def test_given_an_ended_or_unknown_job_when_it_is_stopped_then_it_is_refused(
    cloud: LocalCloud,
) -> None:
    arn = create(cloud)
    cloud.advance("2h")
    bedrock = cloud.client("bedrock")

    ended = error_of(lambda: bedrock.stop_model_customization_job(jobIdentifier=arn))
    unknown = error_of(lambda: bedrock.stop_model_customization_job(jobIdentifier="nope"))
    unknown_arn = error_of(
        lambda: bedrock.get_model_customization_job(jobIdentifier=arn[:-1] + "0")
    )

    assert ended[0] == "ValidationException" and "Completed" in ended[1]
    assert unknown[0] == "ResourceNotFoundException"
    assert unknown_arn[0] == "ResourceNotFoundException"
    assert get(cloud, arn)["status"] == "Completed"


# ---------------------------------------------------------------------- refused requests, settings
class TestRefusals:
    """Refused requests and settings start nothing: one cloud serves them all."""

    @pytest.mark.parametrize(
        ("override", "field"),
        [
            ({"jobName": "bad name!"}, "jobName"),
            ({"customModelName": "-x"}, "customModelName"),
            ({"customizationType": "SOMETHING"}, "customizationType"),
            ({"roleArn": "not-a-role"}, "roleArn"),
            (
                {"trainingDataConfig": {"s3Uri": "https://example.com/x"}},
                "trainingDataConfig.s3Uri",
            ),
        ],
    )
    def test_given_a_field_breaking_the_apis_constraints_when_creating_then_it_is_named(
        self, shared_cloud: LocalCloud, override: dict[str, Any], field: str
    ) -> None:
        args = job_args(shared_cloud)
        args.update(override)

        code, message = error_of(
            lambda: shared_cloud.client("bedrock").create_model_customization_job(**args)
        )

        assert code == "ValidationException"
        assert f"at '{field}'" in message
        assert (
            shared_cloud.client("bedrock").list_model_customization_jobs()[
                "modelCustomizationJobSummaries"
            ]
            == []
        )

    @pytest.mark.parametrize(
        ("settings", "says"),
        [
            ({"outcome": "maybe"}, "outcome must be one of completed, failed, never_reports"),
            ({"duration": "soon"}, "duration"),
            ({"duration": "-1h"}, "duration"),
            ({"lose_event": "yes"}, "lose_event is true or false"),
            ({"failure_message": ""}, "failure_message"),
            ({"training_loss": float("nan")}, "training_loss"),
            ({"colour": "red"}, "unknown settings ['colour']"),
            ({"next": [{"outcome": "exploded"}]}, "outcome must be one of"),
            ({"next": "failed"}, "next is a list of settings"),
        ],
    )
    def test_given_bad_settings_then_the_simulator_refuses_them_naming_the_setting(
        self, shared_cloud: LocalCloud, settings: dict[str, Any], says: str
    ) -> None:
        with pytest.raises(ValueError, match="bedrock_customization") as caught:
            configure(shared_cloud, **settings)

        assert says in str(caught.value)

    def test_given_a_configure_step_with_a_bad_setting_then_the_scenario_is_wrong(
        self, shared_cloud: LocalCloud, tmp_path: Path
    ) -> None:
        with pytest.raises(ScenarioError, match="outcome must be one of"):
            run_steps_unchecked(
                shared_cloud,
                tmp_path,
                [{"configure": {"bedrock_customization": {"outcome": "late"}}}],
            )


# ---------------------------------------------------------------------- the patch points
def test_given_moto_without_the_patch_then_it_still_lacks_what_the_patch_adds() -> None:
    """When a moto upgrade brings these, the patch (`patches/bedrock_jobs.py`) must be revisited:
    `Patcher.add` refuses to add evaluation jobs moto has, and this test says why."""
    with mock_aws():
        bedrock = boto3.client("bedrock", region_name="us-east-1")
        arn = bedrock.create_model_customization_job(
            jobName="j",
            customModelName="m",
            roleArn=ROLE,
            baseModelIdentifier=BASE,
            trainingDataConfig={"s3Uri": "s3://bucket/train.jsonl"},
            outputDataConfig={"s3Uri": "s3://bucket/output/"},
            hyperParameters={},
        )["jobArn"]
        by_arn = error_of(lambda: bedrock.get_model_customization_job(jobIdentifier=arn))
        model_before_the_end = bedrock.list_custom_models()["modelSummaries"]
        with pytest.raises(NotImplementedError):
            bedrock.get_evaluation_job(jobIdentifier="abc")

    assert by_arn[0] == "ResourceNotFoundException"
    assert len(model_before_the_end) == 1
