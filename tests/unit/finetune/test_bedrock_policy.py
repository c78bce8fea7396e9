"""A Bedrock model's policy is checked against its base model's documented fine-tuning
contract (aiops/base_models.json): unknown base models, formats, hyper-parameters and record
counts it would refuse are policy errors, not a job that fails an hour later."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiops.policy import PolicyError, parse_policy

POLICY = (
    Path(__file__).resolve().parents[3]
    / "scenarios"
    / "policies"
    / "support_assistant_finetune.yaml"
).read_text()


def problems(text: str) -> str:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    return "; ".join(str(p) for p in caught.value.problems)


def test_the_fine_tune_policy_parses_with_the_base_models_format_by_default():
    model = parse_policy(POLICY).bedrock_model("support-assistant")

    assert model.labels.format is None
    assert model.base_model_spec.format.value == "bedrock-conversation-2024"
    assert model.fine_tune.hyper_parameters == {"epochCount": 2}


def test_an_unknown_base_model_is_refused_listing_the_known_ones():
    found = problems(POLICY.replace("amazon.nova-lite-v1:0", "amazon.nova-giant-v9:0"))

    assert "models.support-assistant.base_model" in found
    assert "'amazon.nova-giant-v9:0' is not a base model we can fine-tune" in found
    assert "amazon.nova-micro-v1:0" in found


def test_a_format_other_than_the_base_models_is_refused():
    other = "min_records: 200\n      format: prompt-completion\n"
    text = POLICY.replace("min_records: 200\n", other)

    assert "is fine-tuned on bedrock-conversation-2024 records, not prompt-completion" in problems(
        text
    )


@pytest.mark.parametrize(
    ("hyper_parameters", "reason"),
    [
        ("{epochCount: 50}", "epochCount: must be an integer between 1 and 5"),
        ("{epochCount: 2.5}", "epochCount: must be an integer between 1 and 5"),
        ("{epochCount: 2.0}", "epochCount: must be an integer between 1 and 5"),
        ("{dropout: 0.1}", "dropout: not a hyper-parameter of amazon.nova-lite-v1:0"),
        ("{learningRate: .nan}", "learningRate"),
    ],
)
def test_hyper_parameters_outside_the_base_models_bounds_are_refused(hyper_parameters, reason):
    text = POLICY.replace(
        "hyper_parameters: {epochCount: 2}", f"hyper_parameters: {hyper_parameters}"
    )

    assert reason in problems(text)


def test_fewer_min_records_than_the_base_model_trains_on_are_refused():
    text = POLICY.replace("min_records: 200", "min_records: 3")

    assert "labels.min_records: amazon.nova-lite-v1:0 needs at least 8 training records" in (
        problems(text)
    )


def test_a_base_model_whose_custom_models_cannot_be_served_on_demand_is_refused():
    # The candidate is evaluated through an on-demand custom model deployment.
    text = POLICY.replace("amazon.nova-lite-v1:0", "amazon.titan-text-express-v1").replace(
        "hyper_parameters: {epochCount: 2}", "hyper_parameters: {}"
    )

    assert "cannot be served on demand" in problems(text)


def test_serving_by_parameter_needs_the_parameter_and_the_task_type_is_bedrocks():
    no_parameter = POLICY.replace("serving: custom_model_deployment", "serving: parameter")
    bad_task = POLICY.replace("poll: 5m,", "poll: 5m, task_type: General,")

    assert "serving by parameter needs the parameter's name" in problems(no_parameter)
    assert "task_type" in problems(bad_task)


def test_a_run_timeout_that_leaves_the_job_under_an_hour_is_refused_naming_what_it_needs():
    # 2h less 55m of steps, the 2h evaluation timeout and a 5m poll: nothing for the job.
    found = problems(POLICY.replace("run_timeout: 12h", "run_timeout: 2h"))

    assert "run_timeout: 2h leaves no time for the customization job" in found
    assert "at least 4h gives it 1h" in found


def test_an_evaluation_polled_more_than_a_thousand_times_is_refused():
    text = POLICY.replace("poll: 5m", "poll: 30s").replace("timeout: 2h", "timeout: 12h")

    assert "more than 1000 looks" in problems(text.replace("run_timeout: 12h", "run_timeout: 2d"))
