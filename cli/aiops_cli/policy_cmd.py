"""`aiops policy check FILE...` and `aiops policy publish FILE --parameter NAME`.

check: every bad field with its reason, exit 1 if any file is bad; a valid policy that sets a
field nothing acts on yet gets a warning naming it (still exit 0).
publish: checks the file, then writes it to the SSM parameter the control plane reads.
Exit 0 published, 1 the policy is invalid (nothing is written), 3 AWS refused or failed.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from aiops.policy import MAX_POLICY_BYTES, Policy, PolicyError, inactive_fields, parse_policy

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_AWS = 3
# An SSM Advanced-tier parameter holds at most 8 KB (Standard: 4 KB).
SSM_ADVANCED_MAX_BYTES = 8 * 1024
# The template's `PolicyParameterName` AllowedPattern.
_PARAMETER_NAME = re.compile(r"^/[A-Za-z0-9_./-]+$")


def _load(path: Path) -> tuple[bytes, Policy] | None:
    """The file's bytes and its policy; None (after printing why) when it cannot be used."""
    try:
        with path.open("rb") as file:
            # One byte over the limit is enough to refuse it, whatever the file's size.
            data = file.read(MAX_POLICY_BYTES + 1)
    except OSError as exc:
        print(f"{path}: cannot read: {exc.strerror or exc}", file=sys.stderr)
        return None
    try:
        policy = parse_policy(data, source=str(path))
    except PolicyError as exc:
        print(f"{path}: invalid policy", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem.field}: {problem.reason}", file=sys.stderr)
        return None
    for problem in inactive_fields(policy):
        print(f"{path}: warning: {problem.field}: {problem.reason}", file=sys.stderr)
    return data, policy


def check(paths: list[Path]) -> int:
    status = EXIT_OK
    for path in paths:
        loaded = _load(path)
        if loaded is None:
            status = EXIT_INVALID
            continue
        _, policy = loaded
        kinds = ", ".join(f"{name} ({model.kind})" for name, model in policy.models.items())
        print(f"{path}: ok — {kinds}")
    return status


def publish(path: Path, parameter: str, region: str | None) -> int:
    """Check `path`, then put it in the SSM parameter `parameter` (Advanced tier, overwritten)."""
    loaded = _load(path)
    if loaded is None:
        print(f"{path}: not published", file=sys.stderr)
        return EXIT_INVALID
    data, _ = loaded
    if len(data) > SSM_ADVANCED_MAX_BYTES:
        print(
            f"{path}: not published: {len(data)} bytes; an SSM parameter holds at most "
            f"{SSM_ADVANCED_MAX_BYTES} (trim comments, or split the policy)",
            file=sys.stderr,
        )
        return EXIT_INVALID
    import boto3  # deferred: only publishing talks to AWS
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = boto3.client("ssm", region_name=region).put_parameter(
            Name=parameter,
            Value=data.decode("utf-8"),
            Type="String",
            Tier="Advanced",
            Overwrite=True,
        )
    except (BotoCoreError, ClientError) as exc:
        print(f"{path}: not published to {parameter}: {exc}", file=sys.stderr)
        return EXIT_AWS
    print(f"{path}: published to {parameter} (version {response['Version']})")
    return EXIT_OK


def _parameter_name(value: str) -> str:
    if not _PARAMETER_NAME.match(value):
        raise argparse.ArgumentTypeError(f"{value!r}: an SSM parameter path like /aiops/dev/policy")
    return value


def add_policy_commands(subparsers: argparse._SubParsersAction) -> None:
    policy = subparsers.add_parser("policy", help="work with policy files")
    commands = policy.add_subparsers(dest="policy_command", required=True)
    check_cmd = commands.add_parser("check", help="validate policy files, naming each bad field")
    check_cmd.add_argument("files", nargs="+", type=Path)
    check_cmd.set_defaults(run=lambda args: check(args.files))
    publish_cmd = commands.add_parser(
        "publish", help="check a policy file, then write it to the control plane's SSM parameter"
    )
    publish_cmd.add_argument("file", type=Path)
    publish_cmd.add_argument(
        "--parameter",
        required=True,
        type=_parameter_name,
        help="the SSM parameter (the stack's PolicyParameterName), e.g. /aiops/dev/policy",
    )
    publish_cmd.add_argument("--region", help="AWS region (default: the AWS SDK's)")
    publish_cmd.set_defaults(run=lambda args: publish(args.file, args.parameter, args.region))
