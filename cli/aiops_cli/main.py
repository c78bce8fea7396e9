"""Entry point of the `aiops` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from aiops_cli.approvals_cmd import add_approval_commands
from aiops_cli.audit_cmd import add_audit_commands
from aiops_cli.events_cmd import add_events_commands
from aiops_cli.policy_cmd import add_policy_commands
from aiops_cli.resume_cmd import add_resume_commands
from aiops_cli.rollback_cmd import add_rollback_commands
from aiops_cli.status_cmd import add_status_commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aiops", description="AIOps control plane for AWS")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_policy_commands(subparsers)
    add_audit_commands(subparsers)
    add_approval_commands(subparsers)
    add_status_commands(subparsers)
    add_rollback_commands(subparsers)
    add_resume_commands(subparsers)
    add_events_commands(subparsers)
    try:
        from aiops_cli.local_cmd import add_local_commands
    except ModuleNotFoundError as exc:
        # The offline runtime is the optional `local` extra; anything else is a real bug.
        if exc.name not in {"moto", "samtranslator"}:
            raise
    else:
        add_local_commands(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
