"""The policy file: parsed whole, or rejected naming each bad field."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
import yaml
from moto import mock_aws

from aiops.policy import (
    PolicyError,
    parse_policy,
)
from aiops_cli.main import main
from bench.policies import generated_policy

ROOT = Path(__file__).resolve().parents[2]
VALID = (ROOT / "policies" / "default.yaml").read_text()


def problems(text: str) -> dict[str, str]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    return {p.field: p.reason for p in caught.value.problems}


def test_the_default_policy_declares_a_sagemaker_and_a_bedrock_model():
    policy = parse_policy(VALID)

    kinds = {name: model.kind for name, model in policy.models.items()}

    assert "sagemaker" in kinds.values() and "bedrock" in kinds.values()
    churn = policy.sagemaker_model("churn")
    assert churn.data.window.max_age == timedelta(hours=6)
    assert churn.data.window.bytes == 50_000_000


def test_human_readable_sizes_and_durations_are_parsed():
    policy = parse_policy(
        VALID.replace("bytes: 50MB", "bytes: 2GiB").replace("max_age: 6h", "max_age: 90m")
    )

    window = policy.sagemaker_model("churn").data.window

    assert window.bytes == 2 * 2**30
    assert window.max_age == timedelta(minutes=90)


def test_a_bad_field_is_named_with_its_reason():
    found = problems(VALID.replace("objects: 5", "objects: 0").replace("bake: 15m", "bake: soon"))

    assert "greater than or equal to 1" in found["models.churn.data.window.objects"]
    assert "not a duration" in found["models.churn.deploy.bake"]


def test_an_unknown_field_is_rejected_not_ignored():
    found = problems(VALID.replace("min_violations: 2", "min_violation: 2"))

    assert "models.churn.drift.min_violation" in found


def test_a_canary_without_rollback_alarms_is_rejected():
    found = problems(
        VALID.replace(
            "rollback_alarms: [churn-prod-5xx, churn-prod-latency-p99]", "rollback_alarms: []"
        )
    )

    assert "a canary deployment needs at least one alarm" in found["models.churn.deploy"]


def test_overlapping_prefixes_are_rejected():
    found = problems(VALID.replace("prefix: labeled/support/", "prefix: raw/churn/x/"))

    assert any("overlaps" in reason for reason in found.values())


def test_a_data_prefix_where_the_control_plane_writes_is_rejected():
    found = problems(VALID.replace("prefix: raw/churn/", "prefix: drift/churn/"))

    assert "where the control plane writes its own outputs" in found["models.churn.data.prefix"]


def test_a_data_capture_monitor_without_its_uri_is_rejected_naming_the_field():
    found = problems(
        VALID.replace(
            "capture_uri: s3://aiops-dev-artifacts-123456789012-us-east-1/datacapture/churn-prod/"
            "AllTraffic/",
            "lookback: 2h",
        ).replace("        lookback: 1h\n", "")
    )

    assert any("capture_uri: required" in reason for reason in found.values())


def test_a_window_larger_than_one_item_can_hold_is_rejected():
    found = problems(VALID.replace("objects: 5", "objects: 5000"))

    assert "less than or equal to 2000" in found["models.churn.data.window.objects"]


def test_yaml_syntax_errors_name_the_line():
    found = problems("models:\n  churn: [unclosed\n")

    assert any(field.startswith("line ") for field in found)


def test_policy_check_exits_1_and_prints_each_bad_field(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(VALID.replace("metric: auc", "metric: [auc]"))

    status = main(["policy", "check", str(bad)])

    err = capsys.readouterr().err
    assert status == 1
    assert "models.churn.gate.metric: Input should be a valid string" in err


def test_policy_check_accepts_every_shipped_policy(capsys):
    files = sorted((ROOT / "policies").rglob("*.yaml"))

    status = main(["policy", "check", *map(str, files)])

    assert status == 0
    assert capsys.readouterr().out.count(": ok") == len(files)


# --- Regressions found by independent testing ---------------------------------------------------


def check_file(tmp_path: Path, capsys, content: str | bytes) -> tuple[int, str, str]:
    """`aiops policy check` on a file holding `content`: (exit status, stdout, stderr)."""
    path = tmp_path / "policy.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    status = main(["policy", "check", str(path)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def with_monitor(setting: str) -> str:
    """The default policy with one more line in churn's drift monitor."""
    return VALID.replace("        lookback: 1h\n", f"        lookback: 1h\n        {setting}\n")


def with_gate(setting: str) -> str:
    return VALID.replace("      metric: auc\n", f"      metric: auc\n      {setting}\n")


@pytest.mark.parametrize(
    "text,field",
    [
        (VALID.replace("floor: 0.70", "floor: .nan"), "models.churn.gate.floor"),
        (VALID.replace("floor: 0.70", "floor: .inf"), "models.churn.gate.floor"),
        (VALID.replace("floor: 0.70", "floor: -.inf"), "models.churn.gate.floor"),
        (VALID.replace("floor: 0.70", "floor: 1e400"), "models.churn.gate.floor"),
        (
            VALID.replace("min_improvement: 0.005", "min_improvement: .nan"),
            "models.churn.gate.min_improvement",
        ),
        (
            VALID.replace("anomaly_min_usd: 50", "anomaly_min_usd: .inf"),
            "models.churn.budget.anomaly_min_usd",
        ),
        (
            VALID.replace("safety_min_pass_rate: 0.99", "safety_min_pass_rate: .nan"),
            "models.support-assistant.gate.safety_min_pass_rate",
        ),
        (with_gate("fairness_max_gap: .inf"), "models.churn.gate.fairness_max_gap"),
        (with_monitor("max_psi: .nan"), "models.churn.drift.monitor.max_psi"),
        (with_monitor("max_unseen_share: .nan"), "models.churn.drift.monitor.max_unseen_share"),
        (
            with_monitor("max_completeness_drop: .nan"),
            "models.churn.drift.monitor.max_completeness_drop",
        ),
    ],
)
def test_given_a_non_finite_number_when_parsed_then_its_field_is_named(text, field):
    found = problems(text)

    assert "finite number" in found[field]


@pytest.mark.parametrize(
    "text,field",
    [
        (
            VALID.replace("min_improvement: 0.005", "min_improvement: 1e40"),
            "models.churn.gate.min_improvement",
        ),
        (VALID.replace("floor: 0.70", "floor: -1e13"), "models.churn.gate.floor"),
        (
            VALID.replace("anomaly_min_usd: 50", "anomaly_min_usd: 1e10"),
            "models.churn.budget.anomaly_min_usd",
        ),
        (with_gate("fairness_max_gap: 1e13"), "models.churn.gate.fairness_max_gap"),
        (with_monitor("max_psi: 50"), "models.churn.drift.monitor.max_psi"),
        (with_monitor("min_rows: 1000000000000"), "models.churn.drift.monitor.min_rows"),
        (
            VALID.replace("min_violations: 2", "min_violations: 10000000000"),
            "models.churn.drift.min_violations",
        ),
        (
            VALID.replace("min_records: 1000", "min_records: 10000000000"),
            "models.support-assistant.labels.min_records",
        ),
    ],
)
def test_given_an_absurd_threshold_when_parsed_then_refused_as_out_of_bounds(text, field):
    found = problems(text)

    assert "less than or equal to" in found[field] or "greater than" in found[field]


def test_given_extreme_but_sane_thresholds_when_parsed_then_accepted():
    text = (
        VALID.replace("floor: 0.70", "floor: -5")
        .replace("min_improvement: 0.005", "min_improvement: 0")
        .replace("anomaly_min_usd: 50", "anomaly_min_usd: 1000000000")
    )

    gate = parse_policy(text).sagemaker_model("churn").gate

    assert (gate.floor, gate.min_improvement) == (-5, 0)


def test_given_a_file_that_is_not_utf8_when_checked_then_exit_1_naming_the_line(tmp_path, capsys):
    content = VALID.encode().replace(b"metric: auc", b"metric: \xe9auc")
    line = VALID[: VALID.index("metric: auc")].count("\n") + 1

    status, _, err = check_file(tmp_path, capsys, content)

    assert status == 1
    assert f"  line {line}: not UTF-8 text: byte 0xe9" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("nesting", ["[" * 100_000, "{a: " * 5_000, "[{a: " * 3_000])
def test_given_deeply_nested_yaml_when_checked_then_exit_1_naming_the_line(
    tmp_path, capsys, nesting
):
    status, _, err = check_file(tmp_path, capsys, "version: 1\nmodels: " + nesting)

    assert status == 1
    assert "  line 2: not YAML: nested deeper than 64 levels" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "original,replacement,field",
    [
        ("max_age: 6h", "max_age: 99999999999999999d", "models.churn.data.window.max_age"),
        ("max_age: 6h", "max_age: 366d", "models.churn.data.window.max_age"),
        ("cooldown: 24h", "cooldown: 53w", "models.churn.drift.cooldown"),
        ("run_timeout: 12h", "run_timeout: 1e30", "models.churn.run_timeout"),
        ("timeout: 72h", "timeout: 100000000000000000000000000000h", "models.churn.gate.timeout"),
        ("bake: 15m", "bake: 9999999999w", "models.churn.deploy.bake"),
    ],
)
def test_given_a_duration_longer_than_a_year_when_checked_then_exit_1_naming_it(
    tmp_path, capsys, original, replacement, field
):
    status, _, err = check_file(tmp_path, capsys, VALID.replace(original, replacement))

    assert status == 1
    assert f"  {field}: Value error, a duration must be at most 365d" in err


@pytest.mark.parametrize("size", ["10000000000000000000000000000000000000000", "10PiB"])
def test_given_a_window_size_no_window_can_reach_when_checked_then_exit_1(tmp_path, capsys, size):
    status, _, err = check_file(tmp_path, capsys, VALID.replace("bytes: 50MB", f"bytes: {size}"))

    assert status == 1
    assert "  models.churn.data.window.bytes: Input should be less than or equal to" in err


def test_given_a_billion_laughs_alias_bomb_when_checked_then_refused_at_once(tmp_path, capsys):
    bomb = ["lol: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    bomb += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]" for n in range(1, 10)]
    text = VALID.replace("version: 1\n", "version: 1\n" + "\n".join(bomb) + "\n")

    started = time.monotonic()
    status, _, err = check_file(tmp_path, capsys, text)

    assert time.monotonic() - started < 5
    assert status == 1
    assert "not YAML: more than 100000 values once aliases are expanded" in err


def test_given_an_alias_inside_its_own_anchor_when_checked_then_refused(tmp_path, capsys):
    status, _, err = check_file(tmp_path, capsys, "version: 1\nmodels: &m {churn: *m}\n")

    assert status == 1
    assert "  line 2: not YAML: an alias refers to a value that contains it" in err


def test_given_a_file_over_a_mebibyte_when_checked_then_refused_unparsed(tmp_path, capsys):
    status, _, err = check_file(tmp_path, capsys, VALID + "#" * 2**20)

    assert status == 1
    assert "  (file): 1048577 bytes; a policy may be at most 1048576 (1 MiB)" in err


def test_given_anchors_and_merge_keys_within_bounds_when_parsed_then_they_still_work():
    text = VALID.replace("    gate:\n      metric: auc", "    gate:\n      <<: {metric: rmse}", 1)

    assert parse_policy(text).sagemaker_model("churn").gate.metric == "rmse"


def test_given_a_yaml_error_when_checked_then_each_problem_is_one_line(tmp_path, capsys):
    status, _, err = check_file(tmp_path, capsys, "models:\n  churn: [unclosed\n")

    assert status == 1
    assert err.splitlines()[1:] == [
        "  line 3: not YAML: while parsing a flow sequence; "
        "expected ',' or ']', but got '<stream end>' (column 1)"
    ]


def test_given_a_sexagesimal_looking_count_when_parsed_then_it_is_not_read_as_90():
    found = problems(VALID.replace("objects: 5", "objects: 1:30"))

    assert found["models.churn.data.window.objects"] == "Input should be a valid integer"


def test_given_version_true_when_parsed_then_refused():
    found = problems(VALID.replace("version: 1", "version: true"))

    assert "the policy format version is the number 1" in found["version"]


@pytest.mark.parametrize("value", ["yes", "on", "no", "off", "y", '"true"', "1", "0"])
def test_given_a_boolean_that_is_not_true_or_false_when_parsed_then_refused(value):
    found = problems(VALID.replace("human: true", f"human: {value}", 1))

    assert found["models.churn.gate.human"] == "Input should be a valid boolean"


@pytest.mark.parametrize(
    "original,replacement,field",
    [
        ("objects: 5", "objects: 5.0", "models.churn.data.window.objects"),
        ("objects: 5", 'objects: "5"', "models.churn.data.window.objects"),
        ("floor: 0.70", 'floor: "0.70"', "models.churn.gate.floor"),
        ("metric: auc", "metric: 1", "models.churn.gate.metric"),
        ("metric: auc", "metric: 2024-01-01", None),
    ],
)
def test_given_a_value_of_the_wrong_yaml_type_when_parsed_then_refused_not_coerced(
    original, replacement, field
):
    text = VALID.replace(original, replacement, 1)

    if field is None:  # YAML 1.2 has no timestamps: a date-like metric name is just a string
        assert parse_policy(text).sagemaker_model("churn").gate.metric == "2024-01-01"
    else:
        assert field in problems(text)


def test_given_yaml_1_2_numbers_when_parsed_then_they_read_as_written():
    text = VALID.replace("objects: 5", "objects: 010").replace(
        "min_improvement: 0.005", "min_improvement: 1e-3"
    )

    churn = parse_policy(text).sagemaker_model("churn")

    assert churn.data.window.objects == 10  # YAML 1.1 read 010 as octal 8
    assert churn.gate.min_improvement == 0.001  # YAML 1.1 read 1e-3 as a string


def test_given_non_ascii_digits_in_a_duration_when_parsed_then_refused():
    found = problems(VALID.replace("lookback: 1h", 'lookback: "٣h"'))

    assert "is not a duration" in found["models.churn.drift.monitor.lookback"]


@pytest.mark.parametrize(
    "prefix", ["'*/'", "raw/*/", "//", "/raw/churn/", "./", "../raw/", "raw//churn/", "raw/./x/"]
)
def test_given_a_glob_or_path_like_prefix_when_parsed_then_refused(prefix):
    found = problems(VALID.replace("prefix: raw/churn/", f"prefix: {prefix}"))

    assert "must be an S3 key prefix" in found["models.churn.data.prefix"]


def test_given_a_glob_in_the_capture_uri_when_parsed_then_refused():
    found = problems(VALID.replace("/datacapture/churn-prod/", "/datacapture/*/"))

    assert "capture_uri: must be s3://bucket/prefix/" in found["models.churn.drift.monitor"]


CAPTURE_URI = "s3://aiops-dev-artifacts-123456789012-us-east-1/datacapture/churn-prod/AllTraffic/"


@pytest.mark.parametrize(
    "text,field",
    [
        (
            VALID.replace("[ml-lead@example.com]", '["ml-lead@example.com\\n"]'),
            "models.churn.gate.approvers",
        ),
        (VALID.replace("  churn:\n", '  "churn\\n":\n'), "models"),
        (VALID.replace(CAPTURE_URI, f'"{CAPTURE_URI}\\n"'), "models.churn.drift.monitor"),
    ],
)
def test_given_a_name_with_a_trailing_newline_when_parsed_then_refused(text, field):
    # Python's `$` matches before a final newline: names are matched whole.
    assert field in problems(text)


def test_given_a_key_written_twice_when_parsed_then_refused_naming_its_line():
    text = VALID.replace("      metric: auc\n", "      metric: auc\n      metric: rmse\n")
    line = VALID[: VALID.index("      metric: auc")].count("\n") + 2

    found = problems(text)

    assert "found the key 'metric' twice" in found[f"line {line}"]


@pytest.mark.parametrize("tag", ["!!binary aGVsbG8=", "!!python/name:os.system", "!!set {a}"])
def test_given_a_yaml_tag_beyond_plain_data_when_parsed_then_refused(tag):
    found = problems(VALID.replace("metric: auc", f"metric: {tag}"))

    assert any("has no place in a policy" in reason for reason in found.values())


def test_given_a_model_named_like_a_kind_when_a_field_is_bad_then_its_path_keeps_the_name():
    text = VALID.replace("  churn:\n", "  sagemaker:\n").replace("floor: 0.70", "floor: .nan")

    assert "models.sagemaker.gate.floor" in problems(text)


def test_given_the_default_policy_when_checked_then_no_field_is_warned_as_not_acted_on(capsys):
    # Every field is read by a capability now (the budget by cost remediation).
    status = main(["policy", "check", str(ROOT / "policies" / "default.yaml")])

    err = capsys.readouterr().err
    assert status == 0
    assert "not acted on yet" not in err


def test_given_a_budget_when_checked_then_it_is_not_warned_as_not_acted_on(tmp_path, capsys):
    text = """\
models:
  churn:
    kind: sagemaker
    data: {prefix: raw/churn/}
    pipeline: churn-train
    package_group: churn
    gate: {metric: auc, human: false}
    deploy: {endpoint: churn-prod, strategy: all_at_once}
    budget: {actions: [notify, pause_triggers], spend_alarms: [churn-spend]}
"""

    status, _, err = check_file(tmp_path, capsys, text)

    assert status == 0
    assert err == ""


def test_given_a_valid_policy_when_published_then_the_advanced_parameter_holds_it_as_json(
    tmp_path, capsys
):
    with mock_aws():
        ssm = boto3.client("ssm", region_name="eu-west-1")

        status = main(
            [
                "policy",
                "publish",
                str(ROOT / "policies" / "default.yaml"),
                "--parameter",
                "/aiops/dev/policy",
                "--region",
                "eu-west-1",
            ]
        )

        stored = ssm.get_parameter(Name="/aiops/dev/policy")["Parameter"]
        tier = ssm.describe_parameters()["Parameters"][0]["Tier"]
    assert status == 0
    # The same document, as compact JSON: what the functions read without a YAML parser
    assert json.loads(stored["Value"]) == yaml.safe_load(VALID)
    assert parse_policy(stored["Value"]) == parse_policy(VALID)
    assert tier == "Advanced"
    assert "published to /aiops/dev/policy (version 1)" in capsys.readouterr().out


def test_given_an_invalid_policy_when_published_then_exit_1_and_the_parameter_is_unchanged(
    tmp_path, capsys
):
    bad = tmp_path / "bad.yaml"
    bad.write_text(VALID.replace("floor: 0.70", "floor: .nan"))
    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(Name="/aiops/dev/policy", Value="previous", Type="String")

        status = main(["policy", "publish", str(bad), "--parameter", "/aiops/dev/policy"])

        stored = ssm.get_parameter(Name="/aiops/dev/policy")["Parameter"]
    err = capsys.readouterr().err
    assert status == 1
    assert (stored["Value"], stored["Version"]) == ("previous", 1)
    assert "  models.churn.gate.floor: Input should be a finite number" in err
    assert "not published" in err


def test_given_a_policy_larger_than_ssm_holds_when_published_then_refused(tmp_path, capsys):
    # Given 30 models: over 8 KB even as compact JSON
    big = tmp_path / "big.yaml"
    big.write_text(generated_policy(30))
    with mock_aws():
        status = main(["policy", "publish", str(big), "--parameter", "/aiops/dev/policy"])

        names = boto3.client("ssm", region_name="us-east-1").describe_parameters()["Parameters"]
    assert status == 1
    assert names == []
    assert "an SSM parameter holds at most 8192" in capsys.readouterr().err


def test_given_comments_past_what_ssm_holds_when_published_then_they_do_not_count(tmp_path):
    # Given the default policy with 9,000 bytes of comments: its YAML is over 8 KB
    commented = tmp_path / "commented.yaml"
    commented.write_text(VALID + "#" * 9000 + "\n")
    with mock_aws():
        status = main(["policy", "publish", str(commented), "--parameter", "/aiops/dev/policy"])
        stored = boto3.client("ssm", region_name="us-east-1").get_parameter(
            Name="/aiops/dev/policy"
        )["Parameter"]["Value"]

    # Then it is published: the parameter holds the document as JSON, without the comments
    assert status == 0
    assert len(stored.encode()) < 8192 < len(commented.read_bytes())


def test_given_aws_refuses_when_published_then_exit_3_without_a_traceback(tmp_path, capsys):
    default = str(ROOT / "policies" / "default.yaml")
    with mock_aws():
        # Names under /ssm/ are reserved by SSM itself.
        status = main(["policy", "publish", default, "--parameter", "/ssm/policy"])

    err = capsys.readouterr().err
    assert (status, "Traceback" in err) == (3, False)
    assert "not published to /ssm/policy: An error occurred (ValidationException)" in err


def test_make_publish_policy_publishes_through_the_checking_command():
    makefile = (ROOT / "Makefile").read_text()
    target = makefile[makefile.index("\npublish-policy:") :].split("\n\n")[0]

    assert "$(BIN)/aiops policy publish" in target
    assert "--parameter $(or $(PARAMETER),/aiops/$(STAGE)/policy)" in target


def test_given_a_run_timeout_shorter_than_an_hour_when_parsed_then_refused_with_the_minimum():
    # The lease holds the pipeline's wait plus 25 minutes of steps around it.
    found = problems(VALID.replace("run_timeout: 12h", "run_timeout: 10m"))

    assert "at least 1h" in found["models.churn.run_timeout"]


@pytest.mark.parametrize("timeout", ["1m", "4m", "361d", "400d"])
def test_an_approval_timeout_a_person_cannot_meet_or_step_functions_cannot_wait_is_refused(
    timeout,
):
    text = f"""\
models:
  churn:
    kind: sagemaker
    data: {{prefix: raw/churn/, window: {{objects: 5}}}}
    pipeline: churn-train
    package_group: churn
    gate: {{metric: auc, human: true, approvers: [a@b.co], timeout: {timeout}}}
    deploy: {{endpoint: churn-prod, strategy: all_at_once}}
"""
    found = problems(text)

    assert "models.churn.gate.timeout" in found
    assert re.search(r"between 5m .* and 360d|at most 365d", found["models.churn.gate.timeout"])


def test_an_approver_address_longer_than_smtp_carries_is_refused():
    long = "a" * 250 + "@example.com"
    text = VALID.replace("approvers: [ml-lead@example.com]", f"approvers: [{long}]")

    found = problems(text)

    assert "is not an e-mail address" in found["models.churn.gate.approvers"]
