"""The policy file: parsed whole, or rejected naming each bad field."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from aiops.policy import PolicyError, parse_policy
from aiops_cli.main import main

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

    assert "a canary needs at least one alarm" in found["models.churn.deploy"]


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
