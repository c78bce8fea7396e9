"""`aiops policy check FILE...`: every bad field with its reason; exit 1 if any file is bad."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aiops.policy import PolicyError, parse_policy


def check(paths: list[Path]) -> int:
    status = 0
    for path in paths:
        try:
            policy = parse_policy(path.read_text(encoding="utf-8"), source=str(path))
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
            status = 1
            continue
        except PolicyError as exc:
            print(f"{path}: invalid policy", file=sys.stderr)
            for problem in exc.problems:
                print(f"  {problem.field}: {problem.reason}", file=sys.stderr)
            status = 1
            continue
        kinds = ", ".join(f"{name} ({model.kind})" for name, model in policy.models.items())
        print(f"{path}: ok — {kinds}")
    return status


def add_policy_commands(subparsers: argparse._SubParsersAction) -> None:
    policy = subparsers.add_parser("policy", help="work with policy files")
    commands = policy.add_subparsers(dest="policy_command", required=True)
    check_cmd = commands.add_parser("check", help="validate policy files, naming each bad field")
    check_cmd.add_argument("files", nargs="+", type=Path)
    check_cmd.set_defaults(run=lambda args: check(args.files))
