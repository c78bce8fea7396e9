"""Scenarios and the `aiops local` commands, on the toy project."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from aiops_cli.main import main
from aiops_local import LocalCloud
from aiops_local.expect import check, matches


def write_scenario(toy_project: Path, steps: list[dict[str, Any]]) -> Path:
    """A scenario file on the toy project, in the folder that holds the project's."""
    directory = toy_project.parent.parent
    template = toy_project.relative_to(directory).as_posix()
    path = directory / "scenario.yaml"
    path.write_text(yaml.safe_dump({"name": "t", "template": template, "steps": steps}))
    return path


def test_matching_rules() -> None:
    record = {
        "kind": "invoke",
        "error": "detail.size must be >= 0",
        "n": 3,
        "nested": {"a": 1, "b": 2},
    }
    assert matches({"kind": "invoke", "n": 3.0, "nested": {"a": 1}}, record)
    assert matches({"error~": "size"}, record)
    assert not matches({"error~": "key"}, record)
    assert not matches({"kind": "rule"}, record)
    assert not matches({"missing": "x"}, record)


def test_a_scenario_runs_its_steps_and_expectations(
    toy_project: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_scenario(
        toy_project,
        [
            {
                "put_object": {
                    "bucket": "DataBucket",
                    "key": "in/part-{n}.csv",
                    "size": 5,
                    "count": 2,
                }
            },
            {
                "expect": {
                    "timeline": [{"kind": "decision", "model": "toy", "count": 2}],
                    "ledger": [{"model": "toy", "action": "noticed", "reason~": "part-2"}],
                }
            },
            {"event": {"source": "toy.fail", "detail-type": "Bad", "detail": {}}},
            {"advance": "1h"},
            {
                "expect": {
                    "dead_letters": {"FailDeadLetterQueue": [{"body": {"source": "toy.fail"}}]},
                    "executions": [
                        {"state_machine": "FlowStateMachine", "status": "SUCCEEDED", "count": 2}
                    ],
                }
            },
        ],
    )
    assert main(["local", "run", str(path)]) == 0
    out = capsys.readouterr().out
    assert "── step 5: expect" in out and "expectations hold" in out
    assert "decision  toy: noticed — hello in/part-1.csv" in out


def test_a_failed_expectation_exits_1_saying_what_differed(
    toy_project: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_scenario(
        toy_project,
        [
            {"put_object": {"bucket": "DataBucket", "key": "in/a.csv", "size": 5}},
            {"expect": {"timeline": [{"kind": "decision", "action": "promoted"}]}},
            {"advance": "1h"},
        ],
    )
    assert main(["local", "run", "--json", str(path)]) == 1
    captured = capsys.readouterr()
    assert "step 2 (expect" in captured.err
    assert '"action": "promoted"' in captured.err and "0 matched" in captured.err
    assert "toy: noticed" in captured.err  # what is there instead
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert lines and all("kind" in line for line in lines)


def test_a_bad_scenario_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"steps": [{"teleport": "now"}]}))
    assert main(["local", "run", str(path)]) == 2
    assert "unknown step 'teleport'" in capsys.readouterr().err


def test_send_accepts_any_event_and_prints_json_lines(
    toy_project: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    events = tmp_path / "events.json"
    events.write_text(
        json.dumps(
            [
                {"source": "toy.fail", "detail-type": "Bad", "detail": {}},
                {"source": "aws.ce", "detail-type": "Anomaly Detected", "detail": {"x": 1}},
            ]
        )
    )
    code = main(["local", "send", "--json", "--template", str(toy_project), str(events)])
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    kinds = [line["kind"] for line in lines]
    assert kinds.count("event") == 2 and "dlq" in kinds
    (failed,) = [line for line in lines if line["kind"] == "invoke" and line["t"] == 0]
    assert failed["status"] == "error" and failed["function"] == "FailFunction"


def test_configure_and_registry_expectations(toy_project: Path) -> None:
    with LocalCloud(toy_project, simulators={"sagemaker_pipeline": {"duration": "45m"}}) as cloud:
        cloud.configure_simulator(
            "sagemaker_pipeline", {"next": [{"outcome": "failed"}], "metrics": {"auc": 0.9}}
        )
        sagemaker = cloud.client("sagemaker")
        failed = sagemaker.start_pipeline_execution(PipelineName="toy-train")
        cloud.run_until_quiet()
        succeeded = sagemaker.start_pipeline_execution(
            PipelineName="toy-train",
            PipelineParameters=[{"Name": "RunId", "Value": "run-2"}],
        )
        cloud.run_until_quiet()
        statuses = [
            sagemaker.describe_pipeline_execution(PipelineExecutionArn=r["PipelineExecutionArn"])[
                "PipelineExecutionStatus"
            ]
            for r in (failed, succeeded)
        ]
        changes = cloud.timeline.find(
            "event", detail_type="SageMaker Model Building Pipeline Execution Status Change"
        )
        problems = check(
            cloud,
            {
                "registry": {
                    "toy": [
                        {
                            "version": 1,
                            "status": "PendingManualApproval",
                            "metrics": {"auc": 0.9},
                            "metadata": {
                                "run_id": "run-2",
                                "pipeline_execution_arn": succeeded["PipelineExecutionArn"],
                            },
                        },
                    ]
                }
            },
        )
        cloud.set_approval("toy", "Approved")
        cloud.run_until_quiet()
        approvals = cloud.timeline.find("event", detail_type="SageMaker Model Package State Change")
    assert statuses == ["Failed", "Succeeded"]
    assert [c["event"]["detail"]["currentPipelineExecutionStatus"] for c in changes] == [
        "Failed",
        "Succeeded",
    ]
    assert [c["t"] for c in changes] == [2700, 5400]
    detail = changes[1]["event"]["detail"]
    assert detail["previousPipelineExecutionStatus"] == "Executing"
    assert detail["pipelineExecutionArn"] == succeeded["PipelineExecutionArn"]
    assert {
        "pipelineArn",
        "executionStartTime",
        "executionEndTime",
        "pipelineExecutionDisplayName",
        "pipelineExecutionDescription",
    } <= set(detail)
    assert problems == []
    assert approvals[0]["event"]["detail"]["ModelApprovalStatus"] == "Approved"
    assert approvals[0]["event"]["detail"]["UpdatedModelPackageFields"] == ["ModelApprovalStatus"]


def test_alarm_state_changes_emit_events(toy_project: Path) -> None:
    with LocalCloud(toy_project) as cloud:
        cloud.set_alarm("toy-5xx", "ALARM", "too many errors")
        cloud.set_alarm("toy-5xx", "ALARM", "still")  # no change, no event
        cloud.set_alarm("toy-5xx", "OK")
        cloud.run_until_quiet()
        changes = [
            e["event"]["detail"]
            for e in cloud.timeline.find("event", detail_type="CloudWatch Alarm State Change")
        ]
    assert [(c["previousState"]["value"], c["state"]["value"]) for c in changes] == [
        ("INSUFFICIENT_DATA", "ALARM"),
        ("ALARM", "OK"),
    ]
    assert (
        changes[0]["alarmName"] == "toy-5xx" and changes[0]["state"]["reason"] == "too many errors"
    )
