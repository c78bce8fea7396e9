"""template.yaml as test fixtures: resources are built from the template so tests cannot drift."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from aiops_local.cfn_yaml import load_cfn_yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


@cache
def template() -> dict[str, Any]:
    return load_cfn_yaml(TEMPLATE)


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template()["Resources"].items() if r["Type"] == kind}


def create_tables(client: Any) -> dict[str, str]:
    """Create every DynamoDB table of the template in `client`; logical id → table name."""
    names: dict[str, str] = {}
    for logical_id, resource in resources("AWS::DynamoDB::Table").items():
        props = resource["Properties"]
        name = f"test-{logical_id}"
        client.create_table(
            TableName=name,
            AttributeDefinitions=props["AttributeDefinitions"],
            KeySchema=props["KeySchema"],
            BillingMode=props["BillingMode"],
        )
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        names[logical_id] = name
    return names
