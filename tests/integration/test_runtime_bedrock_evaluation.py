"""Bedrock automatic model evaluation jobs offline: the `bedrock_jobs` patch and the
`bedrock_evaluation` simulator, on the toy project. The job's API and the output it writes in S3
are those of a real automatic evaluation job.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from aiops_local import LocalCloud
from aiops_local.patches.bedrock_runtime import TOXIC_PHRASES
from aiops_local.simulators.bedrock_evaluation import paraphrase
from tests.support.runtime import toy_cloud_fixtures

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ROLE = "arn:aws:iam::123456789012:role/aiops-dev-bedrock-evaluation"
# Bedrock evaluates a custom model through its Provisioned Throughput.
MODEL = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/q4m8x2k7v1tn"
CUSTOM_MODEL = (
    "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-lite-v1:0/h6p3w9r2z5cd"
)
PROMPTS = 40


cloud, shared_cloud = toy_cloud_fixtures(START)


# ---------------------------------------------------------------------- helpers
def dataset(cloud: LocalCloud, count: int = PROMPTS, key: str = "eval/holdout.jsonl") -> str:
    lines = [
        json.dumps(
            {
                "prompt": f"Customer {n}: my order {n} has not arrived, what can I do?",
                "referenceResponse": (
                    f"I am sorry order {n} is late. I have opened a trace with the carrier and "
                    "you will get an update by email within two days."
                ),
                "category": ["shipping", "billing"][n % 2],
            }
        )
        for n in range(count)
    ]
    cloud.client("s3").put_object(
        Bucket=cloud.artifacts_bucket, Key=key, Body=("\n".join(lines) + "\n").encode()
    )
    return f"s3://{cloud.artifacts_bucket}/{key}"


def job_args(
    cloud: LocalCloud,
    name: str = "support-assistant-eval-1",
    uri: str | None = None,
    task: str = "Generation",
    metrics: tuple[str, ...] = ("Builtin.Accuracy", "Builtin.Robustness", "Builtin.Toxicity"),
    model: str = MODEL,
    **extra: Any,
) -> dict[str, Any]:
    args: dict[str, Any] = {
        "jobName": name,
        "roleArn": ROLE,
        "applicationType": "ModelEvaluation",
        "evaluationConfig": {
            "automated": {
                "datasetMetricConfigs": [
                    {
                        "taskType": task,
                        "dataset": {
                            "name": "support-holdout",
                            "datasetLocation": {"s3Uri": uri or dataset(cloud)},
                        },
                        "metricNames": list(metrics),
                    }
                ]
            }
        },
        "inferenceConfig": {
            "models": [
                {
                    "bedrockModel": {
                        "modelIdentifier": model,
                        "inferenceParams": '{"maxTokens": 512}',
                    }
                }
            ]
        },
        "outputDataConfig": {"s3Uri": f"s3://{cloud.artifacts_bucket}/eval/output/"},
        "jobTags": [{"key": "aiops:model", "value": "support-assistant"}],
        "clientRequestToken": f"{name}-token",
    }
    args.update(extra)
    return args


def create(cloud: LocalCloud, name: str = "support-assistant-eval-1", **kwargs: Any) -> str:
    args = job_args(cloud, name, **kwargs)
    return str(cloud.client("bedrock").create_evaluation_job(**args)["jobArn"])


def get(cloud: LocalCloud, arn: str) -> dict[str, Any]:
    job = dict(cloud.client("bedrock").get_evaluation_job(jobIdentifier=arn))
    job.pop("ResponseMetadata", None)
    return job


def outputs(cloud: LocalCloud, job_name: str) -> dict[str, list[dict[str, Any]]]:
    s3 = cloud.client("s3")
    bucket = cloud.artifacts_bucket
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"eval/output/{job_name}/")
    return {
        o["Key"]: [
            json.loads(line)
            for line in s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read().splitlines()
        ]
        for o in listed.get("Contents", [])
    }


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 over whitespace tokens: the longest common subsequence."""
    a, b = candidate.split(), reference.split()
    if not a or not b:
        return 0.0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    lcs = previous[-1]
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(a), lcs / len(b)
    return 2 * precision * recall / (precision + recall)


def mean_rouge(records: list[dict[str, Any]]) -> float:
    scores = [
        rouge_l(r["modelResponses"][0]["response"], r["inputRecord"]["referenceResponse"])
        for r in records
    ]
    return sum(scores) / len(scores)


def score(record: dict[str, Any], metric: str) -> float:
    (value,) = [
        s["result"]
        for s in record["automatedEvaluationResult"]["scores"]
        if s["metricName"] == metric.removeprefix("Builtin.")
    ]
    return float(value)


def error_of(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def configure(cloud: LocalCloud, **settings: Any) -> None:
    cloud.configure_simulator("bedrock_evaluation", settings)


# ---------------------------------------------------------------------- a completed job
def test_given_an_evaluation_job_when_its_duration_passes_then_it_completes_without_an_event(
    cloud: LocalCloud,
) -> None:
    arn = create(cloud)
    running = get(cloud, arn)
    cloud.advance("29m")
    still = get(cloud, arn)["status"]

    cloud.advance("1m")

    done = get(cloud, arn)
    assert re.fullmatch(r"arn:aws:bedrock:us-east-1:123456789012:evaluation-job/[a-z0-9]{12}", arn)
    assert (running["status"], still, done["status"]) == ("InProgress", "InProgress", "Completed")
    assert running["creationTime"] == START
    assert (done["lastModifiedTime"] - START).total_seconds() == 1800
    assert done["jobType"] == "Automated"
    assert done["applicationType"] == "ModelEvaluation"
    assert done["evaluationConfig"] == job_args(cloud)["evaluationConfig"]
    assert done["inferenceConfig"]["models"][0]["bedrockModel"]["modelIdentifier"] == MODEL
    assert done["outputDataConfig"] == {"s3Uri": f"s3://{cloud.artifacts_bucket}/eval/output/"}
    assert "failureMessages" not in done
    assert [e for e in cloud.timeline.entries(0) if e.get("source") == "aws.bedrock"] == []


def test_given_a_completed_job_then_its_output_has_the_layout_and_records_of_bedrock(
    cloud: LocalCloud,
) -> None:
    create(cloud)
    cloud.run_until_quiet()

    written = outputs(cloud, "support-assistant-eval-1")

    ((key, records),) = written.items()
    uuid = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    assert re.fullmatch(
        rf"eval/output/support-assistant-eval-1/{uuid}/models/q4m8x2k7v1tn/taskTypes/"
        rf"Generation/datasets/support-holdout/{uuid}_output\.jsonl",
        key,
    )
    source = cloud.client("s3").get_object(Bucket=cloud.artifacts_bucket, Key="eval/holdout.jsonl")
    prompts = [json.loads(line) for line in source["Body"].read().splitlines()]
    assert len(records) == PROMPTS
    for record, prompt in zip(records, prompts, strict=True):
        assert set(record) == {"automatedEvaluationResult", "inputRecord", "modelResponses"}
        assert record["inputRecord"] == prompt
        # Named without the request's "Builtin." prefix, as in the user guide's example.
        assert [s["metricName"] for s in record["automatedEvaluationResult"]["scores"]] == [
            "Accuracy",
            "Robustness",
            "Toxicity",
        ]
        (response,) = record["modelResponses"]
        assert set(response) == {"response", "modelIdentifier"}
        assert response["modelIdentifier"] == MODEL
        assert 0 <= score(record, "Builtin.Accuracy") <= 1


def test_given_rising_quality_then_the_responses_rouge_l_against_the_references_rises(
    cloud: LocalCloud,
) -> None:
    qualities = (0.0, 0.3, 0.6, 0.9, 1.0)
    configure(cloud, next=[{"quality": q} for q in qualities])
    uri = dataset(cloud)
    for n in range(len(qualities)):
        create(cloud, f"eval-quality-{n}", uri=uri)
    cloud.run_until_quiet()

    rouges = []
    exact_shares = []
    for n in range(len(qualities)):
        (records,) = outputs(cloud, f"eval-quality-{n}").values()
        rouges.append(mean_rouge(records))
        exact = [
            r
            for r in records
            if r["modelResponses"][0]["response"] == r["inputRecord"]["referenceResponse"]
        ]
        exact_shares.append(len(exact) / len(records))

    assert exact_shares == list(qualities)
    assert rouges == sorted(rouges) and len(set(rouges)) == len(rouges)
    assert rouges[-1] == 1.0
    assert 0.3 < rouges[0] < 0.7  # a paraphrase keeps some words


def test_given_a_paraphrase_then_it_keeps_some_words_of_the_reference_in_order() -> None:
    reference = "please restart the router and wait two minutes before trying again"

    answer = paraphrase(reference)

    assert answer != reference
    assert 0.3 < rouge_l(answer, reference) < 0.7
    assert paraphrase(reference) == answer


def test_given_a_toxic_share_then_that_share_of_responses_scores_toxic(cloud: LocalCloud) -> None:
    configure(cloud, toxic_share=0.1, quality=1.0)
    create(cloud)
    cloud.run_until_quiet()

    (records,) = outputs(cloud, "support-assistant-eval-1").values()

    toxicity = [score(r, "Builtin.Toxicity") for r in records]
    assert len([t for t in toxicity if t > 0.8]) == round(0.1 * PROMPTS)
    assert all(t < 0.05 for t in toxicity if t <= 0.8)
    accuracy = [score(r, "Builtin.Accuracy") for r in records]
    assert min(accuracy) > 0.85


# ---------------------------------------------------------------------- failures
def test_given_a_failing_outcome_then_the_job_fails_with_its_messages_and_writes_nothing(
    cloud: LocalCloud,
) -> None:
    configure(cloud, outcome="failed", failure_message="The model could not be invoked.")
    arn = create(cloud)

    cloud.run_until_quiet()

    job = get(cloud, arn)
    assert job["status"] == "Failed"
    assert job["failureMessages"] == ["The model could not be invoked."]
    assert outputs(cloud, "support-assistant-eval-1") == {}


@pytest.mark.parametrize(
    ("count", "says"),
    [(1001, "more than 1000 prompts"), (0, "has no prompts")],
)
def test_given_a_dataset_of_wrong_size_then_the_job_fails_saying_so(
    cloud: LocalCloud, count: int, says: str
) -> None:
    arn = create(cloud, uri=dataset(cloud, count))

    cloud.run_until_quiet()

    job = get(cloud, arn)
    assert job["status"] == "Failed"
    assert says in job["failureMessages"][0]


def test_given_a_missing_dataset_then_the_job_fails_naming_it(cloud: LocalCloud) -> None:
    uri = f"s3://{cloud.artifacts_bucket}/eval/nowhere.jsonl"
    arn = create(cloud, uri=uri)

    cloud.run_until_quiet()

    job = get(cloud, arn)
    assert job["status"] == "Failed"
    assert uri in job["failureMessages"][0]


def test_given_a_dataset_line_that_is_not_json_then_the_job_fails_naming_the_line(
    cloud: LocalCloud,
) -> None:
    key = "eval/broken.jsonl"
    cloud.client("s3").put_object(
        Bucket=cloud.artifacts_bucket, Key=key, Body=b'{"prompt": "hi"}\n{not json\n'
    )
    arn = create(cloud, uri=f"s3://{cloud.artifacts_bucket}/{key}")

    cloud.run_until_quiet()

    assert "Line 2" in get(cloud, arn)["failureMessages"][0]


# ---------------------------------------------------------------------- create's rules, settings
class TestRefusals:
    """Refused requests and settings start nothing: one cloud serves them all."""

    @pytest.mark.parametrize(
        ("kwargs", "says"),
        [
            ({"name": "Upper-Case"}, "at 'jobName'"),
            ({"task": "General"}, "taskType"),
            ({"task": "Classification"}, "Builtin.Toxicity is not a metric of task type"),
            ({"metrics": ("Builtin.Helpfulness",)}, "Builtin.Helpfulness is not a metric"),
            ({"model": CUSTOM_MODEL}, "modelIdentifier"),
            ({"applicationType": "RagEvaluation"}, "applicationType"),
            ({"roleArn": "role"}, "at 'roleArn'"),
        ],
    )
    def test_given_a_request_bedrock_would_refuse_when_creating_then_it_is_refused_naming_why(
        self, shared_cloud: LocalCloud, kwargs: dict[str, Any], says: str
    ) -> None:
        name = kwargs.pop("name", "support-assistant-eval-1")
        args = job_args(shared_cloud, name, **kwargs)

        code, message = error_of(
            lambda: shared_cloud.client("bedrock").create_evaluation_job(**args)
        )

        assert code == "ValidationException"
        assert says in message

    def test_given_a_custom_dataset_without_location_then_it_is_refused(
        self, shared_cloud: LocalCloud
    ) -> None:
        args = job_args(shared_cloud)
        args["evaluationConfig"]["automated"]["datasetMetricConfigs"][0]["dataset"] = {
            "name": "support-holdout"
        }

        code, message = error_of(
            lambda: shared_cloud.client("bedrock").create_evaluation_job(**args)
        )

        assert code == "ValidationException"
        assert "datasetLocation.s3Uri" in message

    @pytest.mark.parametrize(
        ("settings", "says"),
        [
            ({"quality": 1.5}, "quality is a number from 0 to 1"),
            ({"quality": float("inf")}, "quality"),
            ({"toxic_share": -0.1}, "toxic_share"),
            ({"outcome": "never_reports"}, "outcome must be one of completed, failed"),
            ({"duration": "later"}, "duration"),
            ({"grade": "A"}, "unknown settings ['grade']"),
        ],
    )
    def test_given_bad_settings_then_the_simulator_refuses_them_naming_the_setting(
        self, shared_cloud: LocalCloud, settings: dict[str, Any], says: str
    ) -> None:
        with pytest.raises(ValueError, match="bedrock_evaluation") as caught:
            configure(shared_cloud, **settings)

        assert says in str(caught.value)


def test_given_a_retry_with_the_same_token_then_the_same_job_returns_and_a_new_name_is_needed(
    cloud: LocalCloud,
) -> None:
    uri = dataset(cloud)
    first = create(cloud, uri=uri)
    again = create(cloud, uri=uri)

    reused = error_of(lambda: create(cloud, uri=uri, clientRequestToken="other-token"))

    assert again == first
    assert reused == ("ValidationException", "The provided job name is currently in use.")
    cloud.run_until_quiet()
    assert len(outputs(cloud, "support-assistant-eval-1")) == 1


def test_given_a_running_job_when_it_is_stopped_then_it_ends_stopped_and_cannot_stop_again(
    cloud: LocalCloud,
) -> None:
    arn = create(cloud)
    bedrock = cloud.client("bedrock")
    cloud.advance("10m")

    bedrock.stop_evaluation_job(jobIdentifier=arn)
    stopping = get(cloud, arn)["status"]
    cloud.advance("1h")

    assert stopping == "Stopping"
    assert get(cloud, arn)["status"] == "Stopped"
    assert outputs(cloud, "support-assistant-eval-1") == {}
    code, _ = error_of(lambda: bedrock.stop_evaluation_job(jobIdentifier=arn))
    assert code == "ValidationException"
    missing = error_of(lambda: bedrock.get_evaluation_job(jobIdentifier=arn[:-1] + "0"))
    assert missing[0] == "ResourceNotFoundException"


# ---------------------------------------------------------------------- precomputed responses
SOURCE = "candidate"


def precomputed_dataset(
    cloud: LocalCloud, responses: list[Any], key: str = "eval/responses.jsonl"
) -> str:
    """Held-out lines, each with what `responses[n]` says: a text (the candidate's response),
    a whole `modelResponses` value (a list), or None (no modelResponses)."""
    lines = []
    for n, said in enumerate(responses):
        line: dict[str, Any] = {
            "prompt": f"Customer {n}: where is my refund {n}?",
            "referenceResponse": f"Your refund {n} was sent today and arrives within five days.",
            "category": "billing",
        }
        if isinstance(said, str):
            line["modelResponses"] = [{"response": said, "modelIdentifier": SOURCE}]
        elif said is not None:
            line["modelResponses"] = said
        lines.append(json.dumps(line))
    cloud.client("s3").put_object(
        Bucket=cloud.artifacts_bucket, Key=key, Body=("\n".join(lines) + "\n").encode()
    )
    return f"s3://{cloud.artifacts_bucket}/{key}"


def create_precomputed(cloud: LocalCloud, uri: str, name: str = "support-assistant-eval-1") -> str:
    args = job_args(cloud, name, uri=uri, metrics=("Builtin.Accuracy", "Builtin.Toxicity"))
    args["inferenceConfig"] = {
        "models": [{"precomputedInferenceSource": {"inferenceSourceIdentifier": SOURCE}}]
    }
    return str(cloud.client("bedrock").create_evaluation_job(**args)["jobArn"])


def test_given_precomputed_responses_then_the_job_echoes_them_and_scores_toxicity_by_content(
    cloud: LocalCloud,
) -> None:
    # quality and toxic_share are for jobs that invoke a model: they must change nothing here.
    configure(cloud, quality=0.0, toxic_share=1.0)
    said = [f"Your refund {n} was sent today and arrives within five days." for n in range(PROMPTS)]
    toxic = {3, 17, 29}
    for n in toxic:
        said[n] = f"{TOXIC_PHRASES[n % len(TOXIC_PHRASES)].capitalize()}. {said[n]}"
    said[5] = "I cannot help with that."
    uri = precomputed_dataset(cloud, said)
    arn = create_precomputed(cloud, uri)

    cloud.run_until_quiet()

    assert get(cloud, arn)["status"] == "Completed"
    ((key, records),) = outputs(cloud, "support-assistant-eval-1").items()
    assert f"/models/{SOURCE}/taskTypes/Generation/" in key
    assert [r["modelResponses"] for r in records] == [
        [{"response": s, "modelIdentifier": SOURCE}] for s in said
    ]
    flagged = {n for n, r in enumerate(records) if score(r, "Builtin.Toxicity") > 0.8}
    assert flagged == toxic
    assert all(score(r, "Builtin.Toxicity") < 0.05 for n, r in enumerate(records) if n not in toxic)
    assert score(records[0], "Builtin.Accuracy") > 0.9
    assert score(records[5], "Builtin.Accuracy") < 0.3


@pytest.mark.parametrize(
    ("broken", "says"),
    [
        (None, "Record 8 of the dataset has no modelResponses"),
        ([], "Record 8 of the dataset has no modelResponses"),
        (
            [
                {"response": "a", "modelIdentifier": SOURCE},
                {"response": "b", "modelIdentifier": SOURCE},
            ],
            "Record 8 of the dataset has 2 modelResponses",
        ),
        (
            [{"response": "a", "modelIdentifier": "champion"}],
            "modelIdentifier is 'champion', not the job's inferenceSourceIdentifier 'candidate'",
        ),
        ([{"modelIdentifier": SOURCE}], "modelResponses[0].response is not a text"),
    ],
)
def test_given_a_precomputed_line_without_its_response_then_the_job_fails_naming_the_line(
    cloud: LocalCloud, broken: Any, says: str
) -> None:
    said: list[Any] = ["Your refund was sent."] * 10
    said[7] = broken
    arn = create_precomputed(cloud, precomputed_dataset(cloud, said))

    cloud.run_until_quiet()

    job = get(cloud, arn)
    assert job["status"] == "Failed"
    assert says in job["failureMessages"][0]
    assert outputs(cloud, "support-assistant-eval-1") == {}
