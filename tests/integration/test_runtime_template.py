"""CloudTemplate: template.yaml loaded, SAM-expanded offline, and resolved for one stage."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiops_local.cfn_yaml import CfnLoader
from aiops_local.intrinsics import NO_VALUE, IntrinsicError, Resolver
from aiops_local.template import CloudTemplate, TemplateError

ROOT = Path(__file__).resolve().parents[2]


def resolver(**parameters: object) -> Resolver:
    attributes = {("Bucket", "Arn"): "arn:aws:s3:::b"}
    return Resolver(
        parameters={"AWS::Region": "us-east-1", **parameters},
        conditions={
            "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
            "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
        },
        ref=lambda logical_id: f"ref-{logical_id}",
        get_att=lambda logical_id, attribute: attributes[(logical_id, attribute)],
    )


def test_short_form_tags_become_the_long_form() -> None:
    import yaml

    text = "a: !Ref X\nb: !GetAtt Res.Arn\nc: !Sub '${X}-y'\nd: !If [C, 1, 2]\ne: !Join [',', [1]]"
    assert yaml.load(text, Loader=CfnLoader) == {
        "a": {"Ref": "X"},
        "b": {"Fn::GetAtt": ["Res", "Arn"]},
        "c": {"Fn::Sub": "${X}-y"},
        "d": {"Fn::If": ["C", 1, 2]},
        "e": {"Fn::Join": [",", [1]]},
    }


def test_intrinsics_resolve() -> None:
    r = resolver(Stage="dev")
    assert r.resolve({"Fn::Sub": "x-${Stage}-${AWS::Region}-${Bucket.Arn}-${!Literal}"}) == (
        "x-dev-us-east-1-arn:aws:s3:::b-${Literal}"
    )
    assert r.resolve({"Fn::Sub": ["${A}/${Stage}", {"A": {"Ref": "Table"}}]}) == "ref-Table/dev"
    assert r.resolve({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}) == "a-dev"
    assert r.resolve({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}) == "b"
    assert r.resolve({"Fn::If": ["IsProd", "big", "small"]}) == "small"
    assert r.condition("NotProd") is True
    assert r.resolve({"k": {"Ref": "AWS::NoValue"}, "l": [1, {"Ref": "AWS::NoValue"}]}) == {
        "l": [1]
    }
    assert r.resolve({"Ref": "AWS::NoValue"}) is NO_VALUE
    with pytest.raises(IntrinsicError):
        r.resolve({"Fn::Base64": "x"})


def test_the_project_template_expands_and_resolves_for_dev() -> None:
    template = CloudTemplate(ROOT / "template.yaml")
    functions = {r.logical_id for r in template.of_type("AWS::Lambda::Function")}
    assert {"NewDataFunction", "PipelineStatusFunction"} <= functions
    environment = template.properties("NewDataFunction")["Environment"]["Variables"]
    assert environment["STAGE"] == "dev"
    assert environment["POLICY_PARAMETER"] == "/aiops/dev/policy"
    assert environment["RETRAIN_STATE_MACHINE_ARN"] == (
        "arn:aws:states:us-east-1:123456789012:stateMachine:aiops-dev-retrain"
    )
    assert template.ref("TrainingDataBucket") == "aiops-dev-training-123456789012-us-east-1"
    code = template.properties("NewDataFunction")["Code"]
    assert template.local_path(code["S3Key"]) == ROOT / "functions" / "new_data"
    # Resources whose Condition is false (no e-mail given) are not there.
    assert "AlertEmailSubscription" not in template.resources
    prod = CloudTemplate(ROOT / "template.yaml", {"Stage": "prod"})
    assert prod.ref("TrainingDataBucket") == "aiops-prod-training-123456789012-us-east-1"


def test_unknown_parameters_are_refused() -> None:
    with pytest.raises(TemplateError, match="unknown template parameters: Nope"):
        CloudTemplate(ROOT / "template.yaml", {"Nope": "x"})
