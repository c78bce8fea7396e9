"""Policy delivery at scale: a generated 1,000-model policy (bench/policies.py) in AppConfig.

- **size**: the policy's bytes as YAML (what users write) and as JSON (what `aiops policy
  publish` sends AppConfig), per model, against SSM's 8 KB and AppConfig's 1 MB;
- **parse** (median, in this process): `parse_policy` of the YAML and of the JSON;
- **load and parse** (median): a function's first read through the AppConfig path, in this
  process on moto with the runtime's AppConfig patch: `AppConfigPolicySource.load()` (Powertools
  Parameters: StartConfigurationSession, GetLatestConfiguration, then the parse);
- **cold start** of the new-data function as Lambda runs it (bench/cold_start.py: fresh
  interpreters, Lambda's environment, a moto server): init, and init + first invocation on an
  upload under one of the policy's models. Three stacks: the SSM store with policies/default.yaml
  (the reference), the AppConfig store with default.yaml (the path's own cost), and the AppConfig
  store with the 1,000-model policy (the size's cost).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.policies import (
    APPCONFIG_HOSTED_MAX_BYTES,
    SSM_ADVANCED_MAX_BYTES,
    appconfig_profile,
    deploy_hosted,
    generated_policy,
)

MODELS = 1000
RUNS = 7
FUNCTION = "new_data"
# The upload each first invocation handles: under churn (default.yaml) or a generated model.
KEYS = {
    "default": "raw/churn/2026/11/30/part-0001.csv",
    "generated": "raw/model-0998/part-0001.csv",
}


def _median_ms(measure: Callable[[], object], runs: int = RUNS) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        measure()
        samples.append(time.perf_counter() - start)
    return round(statistics.median(samples) * 1000, 1)


def _sizes(yaml_text: str, json_text: str) -> dict[str, Any]:
    yaml_bytes, json_bytes = len(yaml_text.encode()), len(json_text.encode())
    per_model = yaml_bytes / MODELS
    return {
        "models": MODELS,
        "yaml_bytes": yaml_bytes,
        "json_bytes": json_bytes,
        "yaml_bytes_per_model": round(per_model),
        "ssm_advanced_max_bytes": SSM_ADVANCED_MAX_BYTES,
        "appconfig_hosted_max_bytes": APPCONFIG_HOSTED_MAX_BYTES,
        # Both stores hold the published form: the checked policy as compact JSON.
        "models_per_ssm_parameter": int(SSM_ADVANCED_MAX_BYTES // (json_bytes / MODELS)),
        "models_per_appconfig_configuration": int(
            APPCONFIG_HOSTED_MAX_BYTES // (json_bytes / MODELS)
        ),
    }


def _load_through_appconfig(json_text: str) -> float:
    """Median ms of a fresh `AppConfigPolicySource.load()` (a new session each) on moto."""
    import boto3
    from moto import mock_aws

    from aiops.adapters.policy_source import AppConfigPolicySource
    from aiops_local.patches import appconfig
    from aiops_local.patches.base import Patcher

    patcher = Patcher()
    appconfig.install(patcher)
    try:
        with mock_aws():
            client = boto3.client("appconfig", region_name="us-east-1")
            app, env, profile = appconfig_profile(client, "bench")
            deploy_hosted(client, (app, env, profile), json_text, "application/json")
            data = boto3.client("appconfigdata", region_name="us-east-1")

            def load() -> None:
                policy = AppConfigPolicySource(app, env, profile, 0, data).load()
                assert len(policy.models) == MODELS

            load()  # untimed: the clients' and the models' first use
            return _median_ms(load)
    finally:
        patcher.restore()


Stack = tuple[str, dict[str, str], Path | None, str]


def _cold_starts(stacks: list[Stack], work: Path) -> dict[str, dict[str, Any]]:
    """The new-data function's cold start on each stack (name, template parameters, policy,
    the upload's key), measured in turns so that a drift in the machine's load falls on all."""
    from bench.cold_start import (
        FIRST_INVOCATIONS,
        MotoStack,
        first_event,
        lambda_environment,
        probe_function,
    )

    # One server, the AppConfig patch installed: the SSM stacks never call AppConfig.
    server = MotoStack({"PolicyStore": "appconfig"})
    samples: dict[str, list[Any]] = {name: [] for name, *_ in stacks}
    try:
        for _ in range(RUNS):
            for name, parameters, policy, key in stacks:
                server.parameters, server.policy = parameters, policy
                # Each sample meets a fresh stack (AppConfig gives it new ids, which the
                # function's environment names).
                binding = server.provision()[FUNCTION]
                event = first_event(FIRST_INVOCATIONS[FUNCTION])
                event["detail"]["object"]["key"] = key
                env = lambda_environment(binding, server.url, work)
                samples[name].append(probe_function(binding.code_dir, env, event, work))
    finally:
        server.stop()
    rows = {}
    for name, taken in samples.items():
        outcomes = {str((s.outcome or {}).get("action")) for s in taken}
        rows[name] = {
            "init_ms": round(statistics.median(s.init for s in taken) * 1000, 1),
            "first_ms": round(
                statistics.median(s.init + (s.first or 0.0) for s in taken) * 1000, 1
            ),
            "outcome": "/".join(sorted(outcomes)),
        }
    return rows


def run() -> dict[str, Any]:
    from aiops.policy import parse_policy

    yaml_text = generated_policy(MODELS)
    json_text = generated_policy(MODELS, as_json=True)
    result: dict[str, Any] = {
        "what": (
            f"a generated {MODELS}-model policy (bench/policies.py): its size; parse_policy of "
            "its YAML and of its JSON (median ms); a fresh AppConfigPolicySource.load() on moto "
            "(session, fetch, parse; median ms); and the new-data function's cold start as "
            "Lambda runs it (bench/cold_start.py, median of fresh interpreters): SSM store with "
            "default.yaml, AppConfig store with default.yaml, AppConfig store with the "
            f"{MODELS}-model policy"
        ),
        "runs_per_measurement": RUNS,
        **_sizes(yaml_text, json_text),
        "parse_yaml_ms": _median_ms(lambda: parse_policy(yaml_text)),
        "parse_json_ms": _median_ms(lambda: parse_policy(json_text)),
        "appconfig_load_and_parse_ms": _load_through_appconfig(json_text),
    }
    with tempfile.TemporaryDirectory(prefix="policy-delivery-") as tmp:
        work = Path(tmp)
        generated = work / "policy-1000.json"
        generated.write_text(json_text)
        appconfig = {"PolicyStore": "appconfig"}
        result["cold_start"] = _cold_starts(
            [
                ("ssm_default_policy", {}, None, KEYS["default"]),
                ("appconfig_default_policy", appconfig, None, KEYS["default"]),
                (f"appconfig_{MODELS}_models", appconfig, generated, KEYS["generated"]),
            ],
            work,
        )
    return result


def table(result: dict[str, Any]) -> str:
    lines = [
        f"policy delivery: a generated {result['models']}-model policy",
        f"  size: {result['yaml_bytes']:,} bytes as YAML ({result['yaml_bytes_per_model']} a "
        f"model), {result['json_bytes']:,} as JSON (published); an SSM Advanced parameter holds "
        f"{result['models_per_ssm_parameter']} such models, an AppConfig hosted configuration "
        f"{result['models_per_appconfig_configuration']}",
        f"  parse: YAML {result['parse_yaml_ms']} ms, JSON {result['parse_json_ms']} ms; "
        f"AppConfig load + parse {result['appconfig_load_and_parse_ms']} ms",
        f"  new-data cold start{'':<18}{'init ms':>9}{'+first ms':>11}  outcome",
    ]
    for name, row in result["cold_start"].items():
        lines.append(f"    {name:<34}{row['init_ms']:>9}{row['first_ms']:>11}  {row['outcome']}")
    return "\n".join(lines)


if __name__ == "__main__":
    measured = run()
    print(table(measured))
    print(json.dumps(measured, indent=2))
