"""Bedrock Runtime offline: the `bedrock_runtime` patch and simulator, on the toy project.

A custom model deployment answers Converse from the held-out references beside its model's
training data (the offline stand-in for a model that learned its task), with the `quality` and
`toxic_share` of the `bedrock_runtime` simulator; errors are Bedrock Runtime's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from aiops_local import LocalCloud
from aiops_local.patches.bedrock_runtime import (
    GENERIC_ANSWER,
    TOXIC_PHRASES,
    is_exact,
    is_toxic,
    paraphrase,
)
from tests.support.runtime import toy_cloud_fixtures

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ROLE = "arn:aws:iam::123456789012:role/aiops-dev-bedrock-customization"
EVAL_ROLE = "arn:aws:iam::123456789012:role/aiops-dev-bedrock-evaluation"
BASE = "amazon.nova-lite-v1:0"
PROMPTS = 200
RUN = "fine-tune/support-assistant/run-1"


cloud, shared_cloud = toy_cloud_fixtures(START)


# ---------------------------------------------------------------------- helpers
def held_out(count: int = PROMPTS) -> list[dict[str, str]]:
    return [
        {
            "prompt": f"Customer {n}: my order {n} has not arrived, what can I do?",
            "referenceResponse": (
                f"I am sorry order {n} is late. I have opened a trace with the carrier and you "
                "will get an update by email within two days."
            ),
            "category": ["shipping", "billing"][n % 2],
        }
        for n in range(count)
    ]


def write_run(cloud: LocalCloud, folder: str = RUN, holdout: bool = True) -> str:
    """A run's folder: training.jsonl and, beside it, holdout.jsonl; the training data's URI."""
    s3 = cloud.client("s3")
    bucket = cloud.artifacts_bucket
    s3.put_object(Bucket=bucket, Key=f"{folder}/training.jsonl", Body=b'{"prompt": "x"}\n')
    if holdout:
        body = "".join(json.dumps(line) + "\n" for line in held_out())
        s3.put_object(Bucket=bucket, Key=f"{folder}/holdout.jsonl", Body=body.encode())
    return f"s3://{bucket}/{folder}/training.jsonl"


def custom_model(cloud: LocalCloud, name: str = "support-ft-1", folder: str = RUN) -> str:
    """A custom model made by a completed customization job trained on `folder`."""
    bedrock = cloud.client("bedrock")
    arn = bedrock.create_model_customization_job(
        jobName=name,
        customModelName=f"{name}-model",
        roleArn=ROLE,
        baseModelIdentifier=BASE,
        customizationType="FINE_TUNING",
        trainingDataConfig={"s3Uri": f"s3://{cloud.artifacts_bucket}/{folder}/training.jsonl"},
        outputDataConfig={"s3Uri": f"s3://{cloud.artifacts_bucket}/{folder}/output/"},
        hyperParameters={"epochCount": "2"},
    )["jobArn"]
    cloud.run_until_quiet()
    job = bedrock.get_model_customization_job(jobIdentifier=arn)
    assert job["status"] == "Completed"
    return str(job["outputModelArn"])


def deploy(cloud: LocalCloud, model_arn: str, name: str = "aiops-support-eval") -> str:
    arn = cloud.client("bedrock").create_custom_model_deployment(
        modelDeploymentName=name, modelArn=model_arn
    )["customModelDeploymentArn"]
    return str(arn)


def active_deployment(cloud: LocalCloud, folder: str = RUN) -> str:
    write_run(cloud, folder)
    arn = deploy(cloud, custom_model(cloud, folder=folder))
    cloud.run_until_quiet()
    status = cloud.client("bedrock").get_custom_model_deployment(
        customModelDeploymentIdentifier=arn
    )["status"]
    assert status == "Active"
    return arn


def converse(
    cloud: LocalCloud, model_id: str, prompt: str, max_tokens: int = 512, client: Any = None
) -> dict[str, Any]:
    runtime = client or cloud.client("bedrock-runtime")
    response = dict(
        runtime.converse(
            modelId=model_id,
            messages=[{"role": "user", "content": [{"text": prompt}]}],
            inferenceConfig={"maxTokens": max_tokens, "temperature": 0.0},
        )
    )
    response.pop("ResponseMetadata", None)
    return response


def text_of(response: dict[str, Any]) -> str:
    return "".join(b["text"] for b in response["output"]["message"]["content"])


def answers(cloud: LocalCloud, model_id: str) -> dict[str, str]:
    return {
        line["prompt"]: text_of(converse(cloud, model_id, line["prompt"])) for line in held_out()
    }


def references() -> dict[str, str]:
    return {line["prompt"]: line["referenceResponse"] for line in held_out()}


def error_of(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def no_retries(cloud: LocalCloud) -> Any:
    # ModelNotReadyException is retryable: botocore would retry it (with real sleeps).
    return boto3.client(
        "bedrock-runtime",
        region_name=cloud.region,
        config=Config(retries={"total_max_attempts": 1}),
    )


def configure(cloud: LocalCloud, **settings: Any) -> None:
    cloud.configure_simulator("bedrock_runtime", settings)


def rouge_l(candidate: str, reference: str) -> float:
    a, b = candidate.split(), reference.split()
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


def mean_rouge(said: dict[str, str]) -> float:
    refs = references()
    return sum(rouge_l(said[p], refs[p]) for p in said) / len(said)


# ---------------------------------------------------------------------- answers
def test_given_an_active_deployment_then_the_quality_share_gets_references_and_the_rest_paraphrases(
    cloud: LocalCloud,
) -> None:
    arn = active_deployment(cloud)

    said = answers(cloud, arn)

    refs = references()
    exact = {p for p, a in said.items() if a == refs[p]}
    assert exact == {p for p in said if is_exact(p, 0.85)}
    assert 0.75 <= len(exact) / PROMPTS <= 0.95
    assert all(said[p] == paraphrase(refs[p]) for p in said if p not in exact)
    assert not any(phrase in a.lower() for a in said.values() for phrase in TOXIC_PHRASES)
    assert answers(cloud, arn) == said  # re-runs agree


def test_given_a_converse_call_then_the_response_has_the_shape_of_bedrock_runtime(
    cloud: LocalCloud,
) -> None:
    arn = active_deployment(cloud)
    events_before = [e for e in cloud.timeline.entries(0) if e["kind"] == "event"]

    response = converse(cloud, arn, held_out()[0]["prompt"])

    assert set(response) == {"output", "stopReason", "usage", "metrics"}
    assert response["output"]["message"]["role"] == "assistant"
    assert response["stopReason"] == "end_turn"
    usage = response["usage"]
    assert usage["outputTokens"] == len(text_of(response).split())
    assert usage["inputTokens"] == len(held_out()[0]["prompt"].split())
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]
    assert response["metrics"]["latencyMs"] > 0
    # Converse sends no EventBridge event.
    assert [e for e in cloud.timeline.entries(0) if e["kind"] == "event"] == events_before


def test_given_rising_quality_then_the_answers_rouge_l_rises_and_exact_answers_only_grow(
    cloud: LocalCloud,
) -> None:
    arn = active_deployment(cloud)
    refs = references()
    rouges, exact_sets = [], []
    for quality in (0.0, 0.4, 0.85, 1.0):
        configure(cloud, quality=quality)
        said = answers(cloud, arn)
        rouges.append(mean_rouge(said))
        exact_sets.append({p for p, a in said.items() if a == refs[p]})

    assert rouges == sorted(rouges) and len(set(rouges)) == len(rouges)
    assert rouges[-1] == 1.0 and 0.3 < rouges[0] < 0.7
    assert all(a <= b for a, b in pairwise(exact_sets))
    assert abs(len(exact_sets[1]) / PROMPTS - 0.4) < 0.1


def test_given_a_toxic_share_then_that_share_of_answers_holds_a_toxic_phrase(
    cloud: LocalCloud,
) -> None:
    arn = active_deployment(cloud)
    configure(cloud, toxic_share=0.2, quality=1.0)

    said = answers(cloud, arn)

    toxic = {p for p, a in said.items() if any(t in a.lower() for t in TOXIC_PHRASES)}
    assert toxic == {p for p in said if is_toxic(p, 0.2)}
    assert 0.1 <= len(toxic) / PROMPTS <= 0.3
    refs = references()
    assert all(said[p].endswith(refs[p]) for p in toxic)  # the answer itself is still there


def test_given_max_tokens_then_the_answer_is_cut_to_that_many_words(cloud: LocalCloud) -> None:
    arn = active_deployment(cloud)

    response = converse(cloud, arn, held_out()[1]["prompt"], max_tokens=5)

    assert len(text_of(response).split()) == 5
    assert response["stopReason"] == "max_tokens"
    assert response["usage"]["outputTokens"] == 5


def test_given_a_prompt_without_a_reference_or_a_foundation_model_then_the_answer_is_generic(
    cloud: LocalCloud,
) -> None:
    arn = active_deployment(cloud)

    unknown = text_of(converse(cloud, arn, "What is the meaning of life?"))
    foundation = text_of(converse(cloud, BASE, held_out()[0]["prompt"]))

    assert unknown == GENERIC_ANSWER
    assert foundation == GENERIC_ANSWER


def test_given_a_model_trained_without_a_holdout_file_then_every_answer_is_generic(
    cloud: LocalCloud,
) -> None:
    folder = "fine-tune/support-assistant/run-2"
    write_run(cloud, folder, holdout=False)
    arn = deploy(cloud, custom_model(cloud, "support-ft-2", folder))
    cloud.run_until_quiet()

    assert text_of(converse(cloud, arn, held_out()[0]["prompt"])) == GENERIC_ANSWER


def test_given_the_deployment_name_then_it_answers_as_its_arn(cloud: LocalCloud) -> None:
    arn = active_deployment(cloud)
    prompt = held_out()[3]["prompt"]

    assert converse(cloud, "aiops-support-eval", prompt) == converse(cloud, arn, prompt)


def test_given_invoke_model_with_a_nova_body_then_it_answers_in_novas_shape(
    cloud: LocalCloud,
) -> None:
    arn = active_deployment(cloud)
    line = held_out()[4]
    body = {
        "messages": [{"role": "user", "content": [{"text": line["prompt"]}]}],
        "inferenceConfig": {"maxTokens": 3},
    }

    response = cloud.client("bedrock-runtime").invoke_model(modelId=arn, body=json.dumps(body))

    answer = json.loads(response["body"].read())
    assert answer["output"]["message"]["content"][0]["text"].split() == (
        line["referenceResponse"].split()[:3]
        if is_exact(line["prompt"], 0.85)
        else paraphrase(line["referenceResponse"]).split()[:3]
    )
    assert answer["stopReason"] == "max_tokens"


# ---------------------------------------------------------------------- errors
def test_given_a_deployment_still_creating_then_converse_is_model_not_ready(
    cloud: LocalCloud,
) -> None:
    write_run(cloud)
    arn = deploy(cloud, custom_model(cloud))

    code, message = error_of(lambda: converse(cloud, arn, "hi", client=no_retries(cloud)))

    assert code == "ModelNotReadyException"
    assert arn in message


def test_given_a_failed_deployment_then_converse_is_a_validation_error(cloud: LocalCloud) -> None:
    write_run(cloud)
    model = custom_model(cloud)
    cloud.configure_simulator("bedrock_deployment", {"fail": "no capacity"})
    arn = deploy(cloud, model)
    cloud.run_until_quiet()

    code, message = error_of(lambda: converse(cloud, arn, "hi"))

    assert code == "ValidationException"
    assert "Failed" in message


# ---------------------------------------------------------------------- refused calls, settings
class TestRefusals:
    """Refused calls and settings change nothing (the settings check says so): one cloud for all."""

    @pytest.mark.parametrize(
        ("model_id", "expected"),
        [
            (
                "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/abcdefghijkl",
                "ResourceNotFoundException",
            ),
            ("no-such-deployment", "ResourceNotFoundException"),
            (
                "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-lite-v1:0/"
                "abcdefghijkl",
                "ValidationException",
            ),
        ],
    )
    def test_given_a_model_id_that_cannot_answer_then_converse_gives_bedrocks_error(
        self, shared_cloud: LocalCloud, model_id: str, expected: str
    ) -> None:
        code, _ = error_of(lambda: converse(shared_cloud, model_id, "hi"))

        assert code == expected

    def test_given_a_conversation_ending_with_the_assistant_then_it_is_refused(
        self,
        shared_cloud: LocalCloud,
    ) -> None:
        runtime = shared_cloud.client("bedrock-runtime")

        code, message = error_of(
            lambda: runtime.converse(
                modelId=BASE,
                messages=[
                    {"role": "user", "content": [{"text": "hi"}]},
                    {"role": "assistant", "content": [{"text": "hello"}]},
                ],
            )
        )

        assert code == "ValidationException"
        assert "end with a user message" in message

    @pytest.mark.parametrize(
        ("settings", "says"),
        [
            ({"quality": 1.5}, "quality is a number from 0 to 1"),
            ({"quality": float("nan")}, "quality"),
            ({"toxic_share": -0.1}, "toxic_share"),
            ({"toxic_share": True}, "toxic_share"),
            ({"quality": "high"}, "quality"),
            ({"creativity": 0.5}, "unknown settings ['creativity']"),
        ],
    )
    def test_given_bad_settings_then_the_simulator_refuses_them_naming_the_setting(
        self, shared_cloud: LocalCloud, settings: dict[str, Any], says: str
    ) -> None:
        with pytest.raises(ValueError, match="bedrock_runtime") as caught:
            configure(shared_cloud, **settings)

        assert says in str(caught.value)
        assert shared_cloud.simulators["bedrock_runtime"].settings == {  # type: ignore[attr-defined]
            "quality": 0.85,
            "toxic_share": 0.0,
        }


# ---------------------------------------------------------------------- with an evaluation
def test_given_answers_evaluated_as_precomputed_responses_then_toxicity_follows_their_content(
    cloud: LocalCloud,
) -> None:
    arn = active_deployment(cloud)
    configure(cloud, toxic_share=0.1)
    lines = []
    for line in held_out():
        said = text_of(converse(cloud, arn, line["prompt"]))
        lines.append(
            {**line, "modelResponses": [{"response": said, "modelIdentifier": "candidate"}]}
        )
    key = f"{RUN}/responses.jsonl"
    cloud.client("s3").put_object(
        Bucket=cloud.artifacts_bucket,
        Key=key,
        Body="".join(json.dumps(x) + "\n" for x in lines).encode(),
    )
    bedrock = cloud.client("bedrock")
    job = bedrock.create_evaluation_job(
        jobName="support-assistant-run-1-eval",
        roleArn=EVAL_ROLE,
        evaluationConfig={
            "automated": {
                "datasetMetricConfigs": [
                    {
                        "taskType": "Generation",
                        "dataset": {
                            "name": "support-assistant-holdout",
                            "datasetLocation": {"s3Uri": f"s3://{cloud.artifacts_bucket}/{key}"},
                        },
                        "metricNames": ["Builtin.Accuracy", "Builtin.Toxicity"],
                    }
                ]
            }
        },
        inferenceConfig={
            "models": [{"precomputedInferenceSource": {"inferenceSourceIdentifier": "candidate"}}]
        },
        outputDataConfig={"s3Uri": f"s3://{cloud.artifacts_bucket}/{RUN}/evaluation/"},
    )["jobArn"]

    cloud.run_until_quiet()

    assert bedrock.get_evaluation_job(jobIdentifier=job)["status"] == "Completed"
    s3 = cloud.client("s3")
    listed = s3.list_objects_v2(Bucket=cloud.artifacts_bucket, Prefix=f"{RUN}/evaluation/")
    (output,) = [o["Key"] for o in listed["Contents"] if o["Key"].endswith("_output.jsonl")]
    records = [
        json.loads(x)
        for x in s3.get_object(Bucket=cloud.artifacts_bucket, Key=output)["Body"].iter_lines()
    ]
    assert [r["modelResponses"] for r in records] == [x["modelResponses"] for x in lines]
    for record in records:
        toxicity = {
            s["metricName"]: s["result"] for s in record["automatedEvaluationResult"]["scores"]
        }
        holds_phrase = is_toxic(record["inputRecord"]["prompt"], 0.1)
        assert (toxicity["Toxicity"] > 0.8) == holds_phrase
        assert toxicity["Toxicity"] > 0.8 or toxicity["Toxicity"] < 0.05
