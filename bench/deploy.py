"""Deploying offline: what one canary deployment costs in Step Functions and AWS calls, however
long it bakes.

v1 creates churn-prod; v2 then goes out by canary with a 5-minute bake, and again (a fresh
cloud) with a 60-minute bake. Reported per case: the v2 deploy execution's history events and
states entered, the deploy functions' invocations and their AWS calls. SageMaker runs the bake;
the workflow waits on a task token woken by endpoint events: no polling, so the transitions must
not depend on the bake (`independent_of_bake`).
"""

from __future__ import annotations

from typing import Any

from bench import ROOT

DEPLOY_FUNCTIONS = (
    "DeployApprovedFunction",
    "StartDeploymentFunction",
    "AwaitDeploymentFunction",
    "EndpointStatusFunction",
    "FinishDeploymentFunction",
)
OBJECT_SIZE = 1024


def _one_canary(bake: str, policy_dir: Any) -> dict[str, Any]:
    from aiops_local.cloud import LocalCloud

    source = (ROOT / "scenarios" / "policies" / "churn_canary.yaml").read_text()
    policy = policy_dir / f"canary-{bake}.yaml"
    policy.write_text(
        source.replace("bake: 10m", f"bake: {bake}").replace("timeout: 1h", "timeout: 3h")
    )
    with LocalCloud(ROOT / "template.yaml", policy=policy) as cloud:
        for batch in ("a", "b"):
            for n in range(5):  # the window closes at 5 objects: a run, a candidate, a deploy
                cloud.put_object(
                    "TrainingDataBucket", f"raw/churn/{batch}/{n}.csv", size=OBJECT_SIZE
                )
            cloud.run_until_quiet()
            cloud.configure_simulator("sagemaker_pipeline", {"metrics": {"auc": 0.9}})
        second = next(
            e for e in cloud.executions("DeployStateMachine") if e.name == "deploy-churn-v2"
        )
        sfn = cloud.client("stepfunctions")
        history = [
            e["type"]
            for page in sfn.get_paginator("get_execution_history").paginate(executionArn=second.arn)
            for e in page["events"]
        ]
        start = next(
            e["t"]
            for e in cloud.timeline.find("decision", model="churn")
            if e["action"] == "deploy_requested" and "v2" in e["reason"]
        )
        invokes = [
            e
            for f in DEPLOY_FUNCTIONS
            for e in cloud.timeline.find("invoke", function=f)
            if e["t"] >= start
        ]
        deployed = [
            e["reason"]
            for e in cloud.timeline.find("decision", model="churn")
            if e["action"] == "deployed"
        ]
    return {
        "bake": bake,
        "status": second.status,
        "outcome": deployed[-1] if deployed else None,
        "history_events": len(history),
        "states_entered": sum(1 for e in history if e.endswith("StateEntered")),
        "lambda_invocations": len(invokes),
        "aws_calls": sum(int(e.get("api_calls") or 0) for e in invokes),
        "history": history,
    }


def run() -> dict[str, Any]:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        short = _one_canary("5m", Path(tmp))
        long = _one_canary("60m", Path(tmp))
    return {
        "canary_bake_5m": short,
        "canary_bake_60m": long,
        "independent_of_bake": short["history"] == long["history"],
    }


def table(result: dict[str, Any]) -> str:
    lines = ["deploy by canary (offline runtime)"]
    for name in ("canary_bake_5m", "canary_bake_60m"):
        r = result[name]
        lines.append(
            f"  bake {r['bake']:>3}: {r['history_events']} history events, "
            f"{r['states_entered']} states entered, {r['lambda_invocations']} invocations, "
            f"{r['aws_calls']} AWS calls ({r['status']})"
        )
    lines.append(
        f"  same transitions with a 5m and a 60m bake: "
        f"{'yes' if result['independent_of_bake'] else 'NO'}"
    )
    return "\n".join(lines)
