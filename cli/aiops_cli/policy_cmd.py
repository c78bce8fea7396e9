"""`aiops policy check FILE...` and `aiops policy publish FILE (--parameter NAME |
--appconfig APP/ENV/PROFILE | --stack STACK)`.

check: every bad field with its reason, exit 1 if any file is bad; a valid policy that sets a
field nothing acts on yet gets a warning naming it (still exit 0).
publish: checks the file, then publishes it where the control plane reads it (the stack's
PolicyStore): the SSM parameter (overwritten), or a new AppConfig hosted configuration version,
deployed to the environment (AppConfig runs the stack's policy validator first, then the
deployment strategy, rolled back if the control plane's alarm fires while it bakes). It waits
for the deployment to end (`--no-wait`: it reports the deployment started).
Exit 0 published, 1 the policy is invalid (nothing is written; AppConfig's validator refusing it
too), 3 AWS refused or failed, 4 the deployment was rolled back (the previous policy is served).
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiops.adapters.aws import regional_client
from aiops.policy import (
    MAX_POLICY_BYTES,
    Policy,
    PolicyError,
    inactive_fields,
    parse_policy,
    published_form,
)

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_AWS = 3
EXIT_ROLLED_BACK = 4
# An SSM Advanced-tier parameter holds at most 8 KB (Standard: 4 KB).
SSM_ADVANCED_MAX_BYTES = 8 * 1024
# An AppConfig hosted configuration holds at most 1 MB.
APPCONFIG_HOSTED_MAX_BYTES = 1024 * 1024
# With `--appconfig` and no `--strategy`: AWS's predefined all-at-once (10-minute bake).
DEFAULT_STRATEGY = "AppConfig.AllAtOnce"
# How often a deployment is read while waiting for it to end, and how long past its strategy's
# duration and bake it may take.
POLL_SECONDS = 15
WAIT_MARGIN_SECONDS = 300
ENDED = ("COMPLETE", "ROLLED_BACK", "REVERTED")
_APPCONFIG_ID = re.compile(r"^[a-z0-9]{4,7}$")
Clients = Callable[[str], Any]
# The template's `PolicyParameterName` AllowedPattern.
_PARAMETER_NAME = re.compile(r"^/[A-Za-z0-9_./-]+$")


def _load(path: Path, *, as_json: bool = False) -> tuple[bytes, Policy] | None:
    """The file's bytes (`as_json`: the same document as JSON) and its policy; None (after
    printing why) when it cannot be used."""
    try:
        with path.open("rb") as file:
            # One byte over the limit is enough to refuse it, whatever the file's size.
            data = file.read(MAX_POLICY_BYTES + 1)
    except OSError as exc:
        print(f"{path}: cannot read: {exc.strerror or exc}", file=sys.stderr)
        return None
    try:
        # The file is what is checked; what is published is the same document as JSON.
        policy = parse_policy(data, source=str(path))
        if as_json:
            data = published_form(data, str(path))
    except PolicyError as exc:
        print(f"{path}: invalid policy", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem.field}: {problem.reason}", file=sys.stderr)
        return None
    for problem in inactive_fields(policy):
        print(f"{path}: warning: {problem.field}: {problem.reason}", file=sys.stderr)
    return data, policy


def _publishable(path: Path, limit: int, too_large: str) -> tuple[bytes, Policy] | None:
    """The checked policy as the JSON a store holds, or None (after printing why) when it is
    invalid or larger than the store's `limit` (`too_large` says so after the size)."""
    loaded = _load(path, as_json=True)
    if loaded is None:
        print(f"{path}: not published", file=sys.stderr)
    elif len(loaded[0]) > limit:
        print(f"{path}: not published: {len(loaded[0])} {too_large}", file=sys.stderr)
        return None
    return loaded


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


def publish(
    path: Path, parameter: str, region: str | None, *, clients: Clients | None = None
) -> int:
    """Check `path`, then put it in the SSM parameter `parameter` (Advanced tier, overwritten)."""
    loaded = _publishable(
        path,
        SSM_ADVANCED_MAX_BYTES,
        f"bytes; an SSM parameter holds at most {SSM_ADVANCED_MAX_BYTES} as JSON "
        "(use PolicyStore appconfig: 1 MB)",
    )
    if loaded is None:
        return EXIT_INVALID
    data, _ = loaded
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = (clients or _aws_client(region))("ssm").put_parameter(
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


def _aws_client(region: str | None) -> Clients:
    return functools.partial(regional_client, region=region)


def publish_appconfig(
    path: Path,
    application: str,
    environment: str,
    profile: str,
    strategy: str = DEFAULT_STRATEGY,
    *,
    region: str | None = None,
    wait: bool = True,
    clients: Clients | None = None,
    sleep: Callable[[float], object] = time.sleep,
) -> int:
    """Check `path`, then create an AppConfig hosted configuration version of it and deploy it
    to `environment` with `strategy`; with `wait`, until the deployment ends. The version is the
    policy as JSON (YAML 1.2 reads it as the same document, a hundred times faster than YAML for
    a large policy). `clients` (service → client) defaults to boto3's in `region`; `sleep` is
    how time passes between reads of the deployment."""
    loaded = _publishable(
        path,
        APPCONFIG_HOSTED_MAX_BYTES,
        "bytes as JSON; an AppConfig hosted configuration holds at most "
        f"{APPCONFIG_HOSTED_MAX_BYTES}",
    )
    if loaded is None:
        return EXIT_INVALID
    content, policy = loaded
    from botocore.exceptions import BotoCoreError, ClientError

    appconfig = (clients or _aws_client(region))("appconfig")
    where = f"{application}/{environment}/{profile}"
    try:
        app_id, env_id, profile_id = _appconfig_ids(appconfig, application, environment, profile)
        version = appconfig.create_hosted_configuration_version(
            ApplicationId=app_id,
            ConfigurationProfileId=profile_id,
            Content=content,
            ContentType="application/json",
            # Descriptions are ASCII only (an HTTP header).
            Description=f"{path.name} via aiops policy publish"[:1024]
            .encode("ascii", "replace")
            .decode(),
        )
        number = str(version["VersionNumber"])
        deployment = appconfig.start_deployment(
            ApplicationId=app_id,
            EnvironmentId=env_id,
            DeploymentStrategyId=strategy,
            ConfigurationProfileId=profile_id,
            ConfigurationVersion=number,
            Description=f"{len(policy.models)} models from {path.name}"[:1024],
        )
    except ClientError as exc:
        if exc.response.get("Reason") == "InvalidConfiguration" or (
            exc.response.get("Error", {}).get("Code") == "BadRequestException"
            and "validation" in str(exc).lower()
        ):
            print(f"{path}: not published: AppConfig's validator refused it: ", file=sys.stderr)
            for detail in (exc.response.get("Details") or {}).get("InvalidConfiguration") or []:
                print(f"  {detail.get('Reason') or detail.get('Value')}", file=sys.stderr)
            print("  (the policy deployed before stays served)", file=sys.stderr)
            return EXIT_INVALID
        print(f"{path}: not published to AppConfig {where}: {exc}", file=sys.stderr)
        return EXIT_AWS
    except (BotoCoreError, LookupError) as exc:
        print(f"{path}: not published to AppConfig {where}: {exc}", file=sys.stderr)
        return EXIT_AWS
    print(
        f"{path}: version {number} of AppConfig {where}, deployment "
        f"{deployment['DeploymentNumber']} ({strategy}): {deployment['State']}"
    )
    if not wait:
        return EXIT_OK
    return _wait(appconfig, deployment, path, sleep)


def _wait(
    appconfig: Any, deployment: dict[str, Any], path: Path, sleep: Callable[[float], object]
) -> int:
    """Read the deployment until it ends; exit 0 complete, 4 rolled back, 3 still running."""
    from botocore.exceptions import BotoCoreError, ClientError

    minutes = float(deployment.get("DeploymentDurationInMinutes") or 0) + float(
        deployment.get("FinalBakeTimeInMinutes") or 0
    )
    budget = minutes * 60 + WAIT_MARGIN_SECONDS
    state, waited = deployment["State"], 0.0
    while state not in ENDED:
        if waited >= budget:
            print(f"{path}: deployment still {state} after {waited:.0f} s", file=sys.stderr)
            return EXIT_AWS
        sleep(POLL_SECONDS)
        waited += POLL_SECONDS
        try:
            deployment = appconfig.get_deployment(
                ApplicationId=deployment["ApplicationId"],
                EnvironmentId=deployment["EnvironmentId"],
                DeploymentNumber=deployment["DeploymentNumber"],
            )
        except (BotoCoreError, ClientError) as exc:
            print(f"{path}: the deployment could not be read: {exc}", file=sys.stderr)
            return EXIT_AWS
        if deployment["State"] != state:
            state = deployment["State"]
            print(f"{path}: deployment {deployment['DeploymentNumber']}: {state}")
    if state == "COMPLETE":
        return EXIT_OK
    # What started the rollback (or revert): an alarm, or someone's StopDeployment.
    why = next(
        (
            e.get("Description")
            for e in deployment.get("EventLog") or []
            if e.get("EventType") in ("ROLLBACK_STARTED", "REVERT_COMPLETED")
        ),
        "",
    )
    print(
        f"{path}: deployment {deployment['DeploymentNumber']} {state}: {why} "
        "(the policy deployed before is served again)",
        file=sys.stderr,
    )
    return EXIT_ROLLED_BACK


def _appconfig_ids(
    appconfig: Any, application: str, environment: str, profile: str
) -> tuple[str, str, str]:
    """The ids of the application, environment and profile, each given by id or name."""

    def one(kind: str, given: str, items: list[dict[str, Any]]) -> str:
        if _APPCONFIG_ID.match(given) and any(i["Id"] == given for i in items):
            return given
        matches = [i["Id"] for i in items if i.get("Name") == given]
        if len(matches) != 1:
            raise LookupError(f"no AppConfig {kind} {given!r}")
        return str(matches[0])

    app_id = one("application", application, _every(appconfig.list_applications))
    env_id = one(
        "environment", environment, _every(appconfig.list_environments, ApplicationId=app_id)
    )
    profiles = _every(appconfig.list_configuration_profiles, ApplicationId=app_id)
    return app_id, env_id, one("configuration profile", profile, profiles)


def _every(listing: Callable[..., dict[str, Any]], **args: Any) -> list[dict[str, Any]]:
    """Every item of an AppConfig listing, page after page (a page holds 50 at most)."""
    items: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = listing(**args, MaxResults=50, **({"NextToken": token} if token else {}))
        items.extend(page.get("Items", []))
        token = page.get("NextToken")
        if not token:
            return items


def publish_to_stack(
    path: Path,
    stack: str,
    *,
    region: str | None = None,
    wait: bool = True,
    clients: Clients | None = None,
    sleep: Callable[[float], object] = time.sleep,
) -> int:
    """Publish where stack `stack` reads its policy (its PolicyStore parameter)."""
    from aiops.adapters.audit_sources import StackNotFound, StackOutputs

    client = (clients or _aws_client(region))("cloudformation")
    try:
        outputs, parameters = StackOutputs(client).describe(stack)
    except StackNotFound as exc:
        print(f"{path}: not published: {exc}", file=sys.stderr)
        return EXIT_AWS
    except Exception as exc:  # noqa: BLE001 - any AWS failure ends the command, said once
        print(f"{path}: not published: stack {stack} could not be read: {exc}", file=sys.stderr)
        return EXIT_AWS
    if parameters.get("PolicyStore", "ssm") != "appconfig":
        parameter = parameters.get("PolicyParameterName")
        if not parameter:
            print(
                f"{path}: not published: stack {stack} has no PolicyParameterName", file=sys.stderr
            )
            return EXIT_AWS
        return publish(path, parameter, region, clients=clients)
    names = ("PolicyApplicationId", "PolicyEnvironmentId", "PolicyProfileId")
    missing = [n for n in (*names, "PolicyDeploymentStrategyId") if not outputs.get(n)]
    if missing:
        print(f"{path}: not published: stack {stack} has no output {missing[0]}", file=sys.stderr)
        return EXIT_AWS
    application, environment, profile = (outputs[n] for n in names)
    return publish_appconfig(
        path,
        application,
        environment,
        profile,
        outputs["PolicyDeploymentStrategyId"],
        region=region,
        wait=wait,
        clients=clients,
        sleep=sleep,
    )


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
        "publish",
        help="check a policy file, then publish it where the control plane reads it (SSM or "
        "AppConfig)",
    )
    publish_cmd.add_argument("file", type=Path)
    where = publish_cmd.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--parameter",
        type=_parameter_name,
        help="the SSM parameter (the stack's PolicyParameterName), e.g. /aiops/dev/policy",
    )
    where.add_argument(
        "--appconfig",
        type=_appconfig_target,
        metavar="APP/ENV/PROFILE",
        help="an AppConfig application, environment and configuration profile (ids or names)",
    )
    where.add_argument(
        "--stack", help="the control plane's stack: publish where it reads (its PolicyStore)"
    )
    publish_cmd.add_argument(
        "--strategy",
        default=DEFAULT_STRATEGY,
        help=f"with --appconfig: the deployment strategy id (default {DEFAULT_STRATEGY})",
    )
    publish_cmd.add_argument(
        "--no-wait",
        dest="wait",
        action="store_false",
        help="AppConfig: report the deployment started, without waiting for it to end",
    )
    publish_cmd.add_argument("--region", help="AWS region (default: the AWS SDK's)")
    publish_cmd.set_defaults(run=_publish_command)


def _appconfig_target(value: str) -> tuple[str, str, str]:
    parts = value.split("/")
    if len(parts) != 3 or not all(parts):
        raise argparse.ArgumentTypeError(f"{value!r}: APPLICATION/ENVIRONMENT/PROFILE")
    return parts[0], parts[1], parts[2]


def _publish_command(args: argparse.Namespace) -> int:
    if args.stack:
        return publish_to_stack(args.file, args.stack, region=args.region, wait=args.wait)
    if args.appconfig:
        application, environment, profile = args.appconfig
        return publish_appconfig(
            args.file,
            application,
            environment,
            profile,
            args.strategy,
            region=args.region,
            wait=args.wait,
        )
    return publish(args.file, args.parameter, args.region)
