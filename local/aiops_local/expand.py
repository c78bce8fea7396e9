"""Write template.yaml as CloudFormation receives it: SAM-expanded, as JSON.

`make lint` runs checkov on this expansion rather than on template.yaml, so the roles, rules
and permissions SAM generates are checked too; the `Metadata` of a resource (where each checkov
skip is justified) passes through the expansion unchanged. checkov leaves out the resources
whose Condition is false for the parameters' defaults: `--every-resource` drops the resources'
Conditions, so optional ones (an AppConfig policy store, the event log, ...) are checked too.

    python -m aiops_local.expand --every-resource template.yaml -o build/template.expanded.json
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

from aiops_local.template import CloudTemplate, TemplateError


def expand(template: Path, *, every_resource: bool = False) -> dict[str, Any]:
    """The SAM expansion of `template` with its parameters' defaults; with `every_resource`,
    without the resources' Conditions (each resource as if its condition held)."""
    expanded = copy.deepcopy(CloudTemplate(template).expanded)
    if every_resource:
        for resource in expanded.get("Resources", {}).values():
            resource.pop("Condition", None)
    return expanded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aiops_local.expand", description=__doc__)
    parser.add_argument("template", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument(
        "--every-resource", action="store_true", help="drop the resources' Conditions"
    )
    args = parser.parse_args(argv)
    try:
        expanded = expand(args.template, every_resource=args.every_resource)
    except (OSError, TemplateError) as error:
        print(f"{args.template}: {error}", file=sys.stderr)
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(expanded, indent=1, sort_keys=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
