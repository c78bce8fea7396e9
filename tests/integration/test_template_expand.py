"""`python -m aiops_local.expand`: the SAM expansion checkov reads in `make lint`."""

from __future__ import annotations

import json
from pathlib import Path

from aiops_local.expand import expand, main

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


def test_the_skips_written_beside_a_function_reach_the_function_checkov_reads():
    expanded = expand(TEMPLATE)

    function = expanded["Resources"]["NewDataFunction"]

    assert function["Type"] == "AWS::Lambda::Function"
    skipped = {skip["id"] for skip in function["Metadata"]["checkov"]["skip"]}
    assert {"CKV_AWS_117", "CKV_AWS_173"} <= skipped
    # and what SAM generates for it is there to be checked
    assert expanded["Resources"]["NewDataFunctionRole"]["Type"] == "AWS::IAM::Role"


def test_every_resource_drops_conditions_so_optional_resources_are_checked_too():
    conditional = [r for r in expand(TEMPLATE)["Resources"].values() if "Condition" in r]

    unconditional = expand(TEMPLATE, every_resource=True)["Resources"].values()

    assert conditional, "the template has optional resources"
    assert not [r for r in unconditional if "Condition" in r]


def test_the_command_writes_json_and_reports_a_missing_template(tmp_path, capsys):
    output = tmp_path / "out" / "template.json"

    assert main([str(TEMPLATE), "-o", str(output), "--every-resource"]) == 0
    assert "Resources" in json.loads(output.read_text())

    assert main([str(tmp_path / "nope.yaml"), "-o", str(output)]) == 1
    assert "nope.yaml" in capsys.readouterr().err
