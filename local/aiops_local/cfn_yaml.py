"""Load CloudFormation YAML, whose short-form intrinsics (`!Ref`, `!Sub`, ...) PyYAML rejects.

Each tag becomes the long form (`{"Ref": ...}`, `{"Fn::Sub": ...}`), which is what SAM's translator
and our resolver both understand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_FUNCTIONS = (
    "Base64",
    "Cidr",
    "FindInMap",
    "GetAZs",
    "ImportValue",
    "Join",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "If",
    "Not",
    "Equals",
    "And",
    "Or",
    "Contains",
    "ToJsonString",
    "Length",
)


class CfnLoader(yaml.SafeLoader):
    """A SafeLoader that knows CloudFormation's short-form tags."""


def _long_form(key: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            assert isinstance(node, yaml.MappingNode)
            value = loader.construct_mapping(node, deep=True)
        return {key: value}

    return construct


def _get_att(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    # `!GetAtt Res.Attr` is a string in short form but a [Res, Attr] list in long form.
    if isinstance(node, yaml.ScalarNode):
        resource, _, attribute = str(loader.construct_scalar(node)).partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    assert isinstance(node, yaml.SequenceNode)
    return {"Fn::GetAtt": loader.construct_sequence(node, deep=True)}


CfnLoader.add_constructor("!Ref", _long_form("Ref"))
CfnLoader.add_constructor("!Condition", _long_form("Condition"))
CfnLoader.add_constructor("!GetAtt", _get_att)
for _name in _FUNCTIONS:
    CfnLoader.add_constructor(f"!{_name}", _long_form(f"Fn::{_name}"))


def load_cfn_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as stream:
        document = yaml.load(stream, Loader=CfnLoader)  # noqa: S506 - CfnLoader is a SafeLoader
    if not isinstance(document, dict):
        raise ValueError(f"{path}: not a CloudFormation template (top level is not a mapping)")
    return document
