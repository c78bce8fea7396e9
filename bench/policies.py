"""Policies of any size: `generated_policy(n)` declares `n` models shaped as default.yaml's.

Models alternate between default.yaml's two shapes (a SageMaker model like `churn`, a Bedrock one
like `support-assistant`); each copy gets its own name and everything a policy requires to be
one model's own (data and label prefixes, pipeline, package group, endpoint, serving parameter,
alarm names). The control plane must accept the result as it accepts default.yaml.

    python -m bench.policies 1000 > /tmp/policy-1000.yaml
"""

from __future__ import annotations

import copy
import json
import sys
from typing import Any

import yaml

from bench import ROOT

DEFAULT_POLICY = ROOT / "policies" / "default.yaml"
# An SSM Advanced-tier parameter holds 8 KB; an AppConfig hosted configuration 1 MB.
SSM_ADVANCED_MAX_BYTES = 8 * 1024
APPCONFIG_HOSTED_MAX_BYTES = 1024 * 1024


def _shapes() -> list[dict[str, Any]]:
    document = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    return [body for _, body in sorted(document["models"].items())]


def _own(body: dict[str, Any], name: str) -> dict[str, Any]:
    """`body` (one of default.yaml's models) renamed to `name` wherever a name must be unique."""
    model = copy.deepcopy(body)
    model["package_group"] = name
    budget = model.get("budget") or {}
    if budget.get("spend_alarms"):
        budget["spend_alarms"] = [f"{name}-token-spend"]
    deploy = model.get("deploy") or {}
    if deploy.get("rollback_alarms"):
        deploy["rollback_alarms"] = [f"{name}-{i}" for i in ("5xx", "latency-p99")][
            : len(deploy["rollback_alarms"])
        ]
    if model["kind"] == "sagemaker":
        model["data"]["prefix"] = f"raw/{name}/"
        model["pipeline"] = f"{name}-train"
        deploy["endpoint"] = f"{name}-prod"
        monitor = (model.get("drift") or {}).get("monitor") or {}
        if monitor.get("capture_uri"):
            bucket = monitor["capture_uri"].removeprefix("s3://").split("/")[0]
            monitor["capture_uri"] = f"s3://{bucket}/datacapture/{name}-prod/AllTraffic/"
    else:
        model["labels"]["prefix"] = f"labeled/{name}/"
        if deploy.get("serving_parameter"):
            deploy["serving_parameter"] = f"/aiops/{name}/model"
    return model


def appconfig_profile(appconfig: Any, name: str = "aiops-dev") -> tuple[str, str, str]:
    """A new AppConfig application (`name`), environment and hosted freeform profile, through
    the `appconfig` client given; returns their ids (application, environment, profile)."""
    app = appconfig.create_application(Name=name)["Id"]
    env = appconfig.create_environment(ApplicationId=app, Name="dev")["Id"]
    profile = appconfig.create_configuration_profile(
        ApplicationId=app, Name="policy", LocationUri="hosted", Type="AWS.Freeform"
    )["Id"]
    return app, env, profile


def deploy_hosted(
    appconfig: Any,
    ids: tuple[str, str, str],
    content: str,
    content_type: str = "application/x-yaml",
) -> None:
    """`content` as a new hosted version of the profile `ids` (appconfig_profile's), deployed
    all at once."""
    app, env, profile = ids
    version = appconfig.create_hosted_configuration_version(
        ApplicationId=app,
        ConfigurationProfileId=profile,
        Content=content.encode(),
        ContentType=content_type,
    )
    appconfig.start_deployment(
        ApplicationId=app,
        EnvironmentId=env,
        ConfigurationProfileId=profile,
        ConfigurationVersion=str(version["VersionNumber"]),
        DeploymentStrategyId="AppConfig.AllAtOnce",
    )


def generated_policy(models: int, *, as_json: bool = False) -> str:
    """A valid policy of `models` models, as YAML text (no comments), or as JSON (the same
    document, as `aiops policy publish` sends it to AppConfig)."""
    if models < 1:
        raise ValueError("a policy declares at least one model")
    shapes = _shapes()
    width = len(str(models))
    document = {
        "version": 1,
        "models": {
            f"model-{i:0{width}d}": _own(shapes[i % len(shapes)], f"model-{i:0{width}d}")
            for i in range(models)
        },
    }
    if as_json:
        return json.dumps(document, separators=(",", ":"))
    # libyaml's emitter when PyYAML has it: the same text, several times faster.
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(document, Dumper=dumper, sort_keys=False, default_flow_style=None, width=100)


if __name__ == "__main__":
    sys.stdout.write(generated_policy(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
