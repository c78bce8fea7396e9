"""SageMaker Ground Truth labeling jobs offline: the `sagemaker_labeling_jobs` patch, the
`ground_truth` simulator and the `labeling_job` scenario step, on the toy project. The API
(Create/Describe/List/Stop), the output manifest and the `SageMaker Ground Truth Labeling Job
State Change` events tell the same story as on AWS.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from aiops_local import LocalCloud
from aiops_local.labels_data import ISSUES
from aiops_local.scenario import ScenarioError
from aiops_local.simulators.ground_truth import (
    DETAIL_TYPE,
    GENERIC_ANSWER,
    agent_answer,
    input_manifest,
    support_questions,
)
from tests.support.events import load_event
from tests.support.runtime import project_cloud, run_steps, run_steps_unchecked, toy_cloud_fixtures

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ACCOUNT, REGION = "123456789012", "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/aiops-dev-ground-truth"
WORKTEAM = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:workteam/private-crowd/support-labelers"
LAMBDA = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function"
NAME = "support-answers-1"
MANIFEST = f"{NAME}/manifests/output/output.manifest"


cloud, shared_cloud = toy_cloud_fixtures(START)


# ---------------------------------------------------------------------- helpers
def bucket(cloud: LocalCloud) -> str:
    return cloud.bucket("DataBucket")


def put_questions(cloud: LocalCloud, count: int = 5, key: str = "gt/input/q.manifest") -> str:
    cloud.put_object("DataBucket", key, input_manifest(support_questions(count, seed=4)))
    return f"s3://{bucket(cloud)}/{key}"


def job_args(cloud: LocalCloud, name: str = NAME, **extra: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "LabelingJobName": name,
        "LabelAttributeName": "answer",
        "InputConfig": {
            "DataSource": {
                "S3DataSource": {"ManifestS3Uri": f"s3://{bucket(cloud)}/gt/input/q.manifest"}
            }
        },
        "OutputConfig": {"S3OutputPath": f"s3://{bucket(cloud)}/gt/"},
        "RoleArn": ROLE,
        "HumanTaskConfig": {
            "WorkteamArn": WORKTEAM,
            "UiConfig": {
                "UiTemplateS3Uri": f"s3://{bucket(cloud)}/gt/templates/answer.liquid.html"
            },
            "PreHumanTaskLambdaArn": f"{LAMBDA}:gt-pre",
            "TaskTitle": "Answer a customer's question",
            "TaskDescription": "Write the answer a support agent should give.",
            "NumberOfHumanWorkersPerDataObject": 1,
            "TaskTimeLimitInSeconds": 600,
            "AnnotationConsolidationConfig": {
                "AnnotationConsolidationLambdaArn": f"{LAMBDA}:gt-post"
            },
        },
        "Tags": [{"Key": "aiops:model", "Value": "support-assistant"}],
    }
    args.update(extra)
    return args


def create(cloud: LocalCloud, name: str = NAME, **extra: Any) -> str:
    response = cloud.client("sagemaker").create_labeling_job(**job_args(cloud, name, **extra))
    return str(response["LabelingJobArn"])


def describe(cloud: LocalCloud, name: str = NAME) -> dict[str, Any]:
    job = dict(cloud.client("sagemaker").describe_labeling_job(LabelingJobName=name))
    job.pop("ResponseMetadata", None)
    return job


def events(cloud: LocalCloud) -> list[dict[str, Any]]:
    """The labeling job events sent so far, each with `t`: virtual seconds since START."""
    return [
        {**e["event"], "t": e["t"]}
        for e in cloud.timeline.entries(0)
        if e["kind"] == "event" and e.get("detail_type") == DETAIL_TYPE and "event" in e
    ]


def manifest_lines(cloud: LocalCloud, key: str = f"gt/{MANIFEST}") -> list[dict[str, Any]]:
    body = cloud.client("s3").get_object(Bucket=bucket(cloud), Key=key)["Body"].read()
    return [json.loads(line) for line in body.splitlines()]


def error_of(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


# ---------------------------------------------------------------------- the API
def test_given_a_new_job_when_described_then_it_is_in_progress_with_what_was_asked_and_its_tags(
    cloud: LocalCloud,
) -> None:
    put_questions(cloud)
    arn = create(cloud)

    job = describe(cloud)

    assert arn == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:labeling-job/{NAME}"
    assert job["LabelingJobStatus"] == "InProgress"
    assert job["LabelingJobName"] == NAME
    assert job["LabelingJobArn"] == arn
    assert job["LabelAttributeName"] == "answer"
    assert job["OutputConfig"] == {"S3OutputPath": f"s3://{bucket(cloud)}/gt/"}
    assert job["Tags"] == [{"Key": "aiops:model", "Value": "support-assistant"}]
    assert job["LabelCounters"] == {
        "TotalLabeled": 0,
        "HumanLabeled": 0,
        "MachineLabeled": 0,
        "FailedNonRetryableError": 0,
        "Unlabeled": 0,
    }
    assert job["CreationTime"] == START and job["LastModifiedTime"] == START
    assert job["JobReferenceCode"]
    assert job["RoleArn"] == ROLE
    assert job["HumanTaskConfig"]["WorkteamArn"] == WORKTEAM
    assert "LabelingJobOutput" not in job and "FailureReason" not in job


def test_given_a_name_in_use_whatever_its_case_when_created_again_then_it_is_resource_in_use(
    cloud: LocalCloud,
) -> None:
    put_questions(cloud)
    create(cloud)

    code, message = error_of(lambda: create(cloud, NAME.upper()))

    assert code == "ResourceInUse"
    assert NAME.upper() in message


def test_given_an_unknown_job_when_described_or_stopped_then_it_is_resource_not_found(
    cloud: LocalCloud,
) -> None:
    sagemaker = cloud.client("sagemaker")

    described = error_of(lambda: sagemaker.describe_labeling_job(LabelingJobName="nobody"))
    stopped = error_of(lambda: sagemaker.stop_labeling_job(LabelingJobName="nobody"))

    assert described[0] == stopped[0] == "ResourceNotFound"
    assert "labeling-job/nobody" in described[1]


def test_given_jobs_when_listed_then_filters_and_order_apply(cloud: LocalCloud) -> None:
    put_questions(cloud)
    create(cloud, "support-answers-a")
    cloud.advance("10m")
    create(cloud, "support-answers-b")
    create(cloud, "other-job")
    sagemaker = cloud.client("sagemaker")

    newest_first = sagemaker.list_labeling_jobs(SortOrder="Descending", NameContains="support")
    first_page = sagemaker.list_labeling_jobs(MaxResults=2, SortBy="Name")

    assert [j["LabelingJobName"] for j in newest_first["LabelingJobSummaryList"]] == [
        "support-answers-b",
        "support-answers-a",
    ]
    assert [j["LabelingJobName"] for j in first_page["LabelingJobSummaryList"]] == [
        "other-job",
        "support-answers-a",
    ]
    assert first_page["NextToken"]


# ---------------------------------------------------------------------- the simulator
def test_given_a_job_when_its_duration_passes_then_it_completes_with_the_manifest_and_the_event(
    cloud: LocalCloud,
) -> None:
    put_questions(cloud, count=5)
    arn = create(cloud)
    cloud.advance("59m")
    before = describe(cloud)["LabelingJobStatus"]

    cloud.advance("1m")

    job = describe(cloud)
    uri = f"s3://{bucket(cloud)}/gt/{MANIFEST}"
    assert before == "InProgress"
    assert job["LabelingJobStatus"] == "Completed"
    assert job["LabelingJobOutput"] == {"OutputDatasetS3Uri": uri}
    assert job["LabelCounters"]["TotalLabeled"] == job["LabelCounters"]["HumanLabeled"] == 5
    assert (job["LastModifiedTime"] - START).total_seconds() == 3600
    sample = load_event("ground_truth_labeling_job_completed")
    (event,) = events(cloud)
    assert event["t"] == 3600
    assert set(event) - {"t"} == set(sample)
    assert event["source"] == sample["source"] and event["detail-type"] == sample["detail-type"]
    assert event["detail"] == {"LabelingJobStatus": "Completed"} == sample["detail"]
    assert event["resources"] == [arn]


def test_given_a_completed_job_then_each_manifest_line_is_the_question_with_the_agents_answer(
    cloud: LocalCloud,
) -> None:
    questions = support_questions(5, seed=4)
    put_questions(cloud, count=5)
    create(cloud)

    cloud.advance("1h")

    lines = manifest_lines(cloud)
    assert [line["source"] for line in lines] == questions
    for line in lines:
        assert set(line) == {"source", "answer", "answer-metadata"}
        assert line["answer"] == {"answer": agent_answer(line["source"])}
        assert line["answer"]["answer"] != GENERIC_ANSWER
        metadata = line["answer-metadata"]
        assert metadata["type"] == "groundtruth/custom"
        assert metadata["job-name"] == NAME
        assert metadata["human-annotated"] == "yes"
        received = datetime.fromisoformat(metadata["creation-date"])
        assert START.replace(tzinfo=None) < received <= START.replace(tzinfo=None, hour=10)


def test_given_a_question_then_the_answer_is_the_agents_answer_to_that_issue_for_that_order() -> (
    None
):
    issue, answer = ISSUES[2]
    question = f"Hi, this is Maya. I ordered a Trailblazer backpack (order #123456) and {issue}."

    assert agent_answer(question) == answer.format(order="#123456")
    assert agent_answer("Where is your shop?") == GENERIC_ANSWER


def test_given_a_blank_share_then_that_share_of_answers_are_empty(cloud: LocalCloud) -> None:
    cloud.configure_simulator("ground_truth", {"blank_share": 0.25})
    put_questions(cloud, count=20)
    create(cloud)

    cloud.advance("1h")

    answers = [line["answer"]["answer"] for line in manifest_lines(cloud)]
    assert answers.count("") == 5
    assert all(answers) is False
    assert describe(cloud)["LabelCounters"]["TotalLabeled"] == 20


def test_given_outcome_failed_then_the_job_fails_with_its_reason_and_the_event(
    cloud: LocalCloud,
) -> None:
    cloud.configure_simulator(
        "ground_truth",
        {"next": [{"outcome": "failed", "failure_reason": "ClientError: no workers"}]},
    )
    put_questions(cloud)
    arn = create(cloud)

    cloud.advance("1h")

    job = describe(cloud)
    assert job["LabelingJobStatus"] == "Failed"
    assert job["FailureReason"] == "ClientError: no workers"
    assert "LabelingJobOutput" not in job
    assert [(e["detail"], e["resources"]) for e in events(cloud)] == [
        ({"LabelingJobStatus": "Failed"}, [arn])
    ]
    keys = cloud.client("s3").list_objects_v2(Bucket=bucket(cloud), Prefix=f"gt/{NAME}/")
    assert keys.get("KeyCount") == 0


def test_given_no_input_manifest_then_the_job_fails_saying_it_cannot_read_it(
    cloud: LocalCloud,
) -> None:
    create(cloud)

    cloud.advance("1h")

    job = describe(cloud)
    assert job["LabelingJobStatus"] == "Failed"
    assert "Unable to read the input manifest" in job["FailureReason"]
    assert "NoSuchKey" in job["FailureReason"]


def test_given_a_stop_then_the_job_is_stopping_then_stopped_with_its_event_and_no_output(
    cloud: LocalCloud,
) -> None:
    put_questions(cloud)
    create(cloud)
    cloud.advance("10m")
    sagemaker = cloud.client("sagemaker")

    sagemaker.stop_labeling_job(LabelingJobName=NAME)
    stopping = describe(cloud)["LabelingJobStatus"]
    again = error_of(lambda: sagemaker.stop_labeling_job(LabelingJobName=NAME))
    cloud.advance("2h")

    assert stopping == "Stopping"
    assert again[0] == "ValidationException"
    assert describe(cloud)["LabelingJobStatus"] == "Stopped"
    assert [(e["t"], e["detail"]) for e in events(cloud)] == [
        (900, {"LabelingJobStatus": "Stopped"})
    ]


def test_given_an_unknown_setting_then_the_simulator_refuses_it(cloud: LocalCloud) -> None:
    with pytest.raises(ValueError, match="unknown settings"):
        cloud.configure_simulator("ground_truth", {"colour": "red"})
    with pytest.raises(ValueError, match="blank_share"):
        cloud.configure_simulator("ground_truth", {"blank_share": float("nan")})


# ---------------------------------------------------------------------- the scenario step
def step(**arguments: Any) -> dict[str, Any]:
    return {"labeling_job": {"name": NAME, "bucket": "DataBucket", **arguments}}


def test_given_a_labeling_job_step_then_the_job_runs_and_completes_in_virtual_time(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    run_steps(
        cloud,
        tmp_path,
        [step(output_prefix="ground-truth/", records=12, blank_share=0.25, duration="3h")],
    )

    job = describe(cloud)
    key = f"ground-truth/{MANIFEST}"
    assert job["LabelingJobStatus"] == "Completed"
    assert job["Tags"] == [{"Key": "aiops:model", "Value": "support-assistant"}]
    assert job["LabelingJobOutput"]["OutputDatasetS3Uri"] == f"s3://{bucket(cloud)}/{key}"
    assert job["InputConfig"]["DataSource"]["S3DataSource"]["ManifestS3Uri"] == (
        f"s3://{bucket(cloud)}/ground-truth/input/{NAME}.manifest"
    )
    lines = manifest_lines(cloud, key)
    assert [line["source"] for line in lines] == support_questions(12, seed=0)
    assert [line["answer"]["answer"] for line in lines].count("") == 3
    assert [(e["t"], e["detail"]["LabelingJobStatus"]) for e in events(cloud)] == [
        (10800, "Completed")
    ]


def test_given_a_step_with_its_label_attribute_tags_and_failure_then_the_job_says_so(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    run_steps(
        cloud,
        tmp_path,
        [
            step(
                label_attribute="reply",
                tags={"aiops:model": "other", "team": "support"},
                outcome="failed",
                failure_reason="ClientError: the team declined every task",
            )
        ],
    )

    job = describe(cloud)
    assert job["LabelAttributeName"] == "reply"
    assert job["Tags"] == [
        {"Key": "aiops:model", "Value": "other"},
        {"Key": "team", "Value": "support"},
    ]
    assert job["LabelingJobStatus"] == "Failed"
    assert job["FailureReason"] == "ClientError: the team declined every task"


def test_given_after_then_the_job_is_created_that_much_later(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    run_steps(cloud, tmp_path, [step(after="30m"), {"advance": "20m"}])
    early = cloud.client("sagemaker").list_labeling_jobs()["LabelingJobSummaryList"]

    run_steps(cloud, tmp_path, [{"advance": "2h"}])

    assert early == []
    assert describe(cloud)["CreationTime"] == START.replace(minute=30)
    assert [(e["t"], e["detail"]["LabelingJobStatus"]) for e in events(cloud)] == [
        (5400, "Completed")
    ]


def test_given_a_step_reusing_a_name_then_it_is_refused_with_the_apis_reason(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    run_steps(cloud, tmp_path, [step()])

    with pytest.raises(ScenarioError, match="ResourceInUse"):
        run_steps_unchecked(cloud, tmp_path, [step()])


def test_given_the_project_when_a_labeling_job_step_completes_then_its_rule_delivers_the_event(
    tmp_path: Path,
) -> None:
    # The project's own template: the step's default bucket (LabeledDataBucket) and the rule on
    # the Completed event, whose function reads the job back with DescribeLabelingJob.
    with project_cloud(START) as cloud:
        run_steps(cloud, tmp_path, [{"labeling_job": {"name": NAME, "records": 3}}])

        invokes = [
            e
            for e in cloud.timeline.entries(0)
            if e["kind"] == "invoke" and e.get("function") == "GroundTruthFunction"
        ]
        calls = [
            e["text"]
            for e in cloud.timeline.entries(0)
            if e["kind"] == "api" and "DescribeLabelingJob" in e["text"]
        ]
        labeled = cloud.bucket("LabeledDataBucket")
        uri = describe(cloud)["LabelingJobOutput"]["OutputDatasetS3Uri"]

    assert [(e["t"], e["status"]) for e in invokes] == [(3600, "ok")]
    assert calls
    assert uri == f"s3://{labeled}/ground-truth/{MANIFEST}"


# ---------------------------------------------------------------------- refused requests, steps
class TestRefusals:
    """Refused requests and steps create no job (they check): one cloud serves them all."""

    @pytest.mark.parametrize(
        ("change", "says"),
        [
            ({"LabelingJobName": "support_answers"}, "at 'labelingJobName' failed to satisfy"),
            ({"LabelAttributeName": "answer-metadata"}, "cannot contain '-metadata'"),
            ({"LabelAttributeName": "answer-ref"}, "ending in '-ref'"),
            ({"RoleArn": "arn:aws:iam::123456789012:user/someone"}, "at 'roleArn'"),
            (
                {"OutputConfig": {"S3OutputPath": "ftp://bucket/gt/"}},
                "at 'outputConfig.s3OutputPath'",
            ),
        ],
    )
    def test_given_a_request_the_api_refuses_when_created_then_a_validation_error_names_the_field(
        self, shared_cloud: LocalCloud, change: dict[str, Any], says: str
    ) -> None:
        code, message = error_of(lambda: create(shared_cloud, **change))

        assert code == "ValidationException"
        assert says in message
        assert shared_cloud.client("sagemaker").list_labeling_jobs()["LabelingJobSummaryList"] == []

    def test_given_two_ui_configs_when_created_then_it_is_refused(
        self, shared_cloud: LocalCloud
    ) -> None:
        args = job_args(shared_cloud)
        args["HumanTaskConfig"]["UiConfig"]["HumanTaskUiArn"] = (
            f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:human-task-ui/answer"
        )

        code, message = error_of(
            lambda: shared_cloud.client("sagemaker").create_labeling_job(**args)
        )

        assert code == "ValidationException"
        assert "exactly one of UiTemplateS3Uri or HumanTaskUiArn" in message

    def test_given_no_human_task_config_then_botocore_refuses_it_before_the_service(
        self,
        shared_cloud: LocalCloud,
    ) -> None:
        args = job_args(shared_cloud)
        del args["HumanTaskConfig"]

        with pytest.raises(ParamValidationError, match="HumanTaskConfig"):
            shared_cloud.client("sagemaker").create_labeling_job(**args)

    @pytest.mark.parametrize(
        ("arguments", "says"),
        [
            ({"name": "support_answers"}, "name must be 1 to 63 letters"),
            ({"name": None}, "name must be"),
            ({"records": 0}, "records must be a whole number from 1 to 100000"),
            ({"records": True}, "records"),
            ({"seed": -1}, "seed"),
            ({"blank_share": 1.5}, "blank_share must be a number from 0 to 1"),
            ({"outcome": "lost"}, "outcome must be one of completed, failed"),
            ({"duration": "soon"}, "duration"),
            ({"label_attribute": "answer-metadata"}, "label_attribute"),
            ({"output_prefix": "/abs/"}, "output_prefix"),
            ({"tags": ["aiops:model"]}, "tags is a mapping"),
            ({"bucket": ""}, "bucket"),
            ({"after": "later"}, "after"),
            ({"colour": "red"}, "unknown keys ['colour']"),
        ],
    )
    def test_given_bad_arguments_then_the_step_is_refused_naming_the_field(
        self, shared_cloud: LocalCloud, tmp_path: Path, arguments: dict[str, Any], says: str
    ) -> None:
        with pytest.raises(ScenarioError, match="labeling_job") as caught:
            run_steps_unchecked(shared_cloud, tmp_path, [step(**arguments)])

        assert says in str(caught.value)
        assert "step 1 (labeling_job)" in str(caught.value)
        assert shared_cloud.client("sagemaker").list_labeling_jobs()["LabelingJobSummaryList"] == []
