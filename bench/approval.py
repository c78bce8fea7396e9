"""Human approval offline: what one approval costs in Step Functions, however long the person
takes.

One candidate waits for the ML lead (policies/default.yaml: churn, 72h timeout), who approves on
the page after 1 minute, or after 70 hours; a third is never decided and times out. Reported per
case: the approval execution's history events and states entered, and the Lambda invocations of
the approval stage. The wait is a task token (`.waitForTaskToken`): no polling, so the figures
must not depend on the wait (`independent_of_wait`).
"""

from __future__ import annotations

from typing import Any

from bench import ROOT

APPROVAL_FUNCTIONS = ("OpenApprovalFunction", "CloseApprovalFunction", "ApprovalPageFunction")
OBJECT_SIZE = 1024


def _one_approval(wait: str, decide: bool) -> dict[str, Any]:
    from aiops_local.approver import Approver
    from aiops_local.cloud import LocalCloud

    with LocalCloud(ROOT / "template.yaml") as cloud:
        for n in range(5):  # policies/default.yaml: churn's window closes at 5 objects
            cloud.put_object("TrainingDataBucket", f"raw/churn/a/part-{n}.csv", size=OBJECT_SIZE)
        cloud.run_until_quiet()
        cloud.advance(wait)
        if decide:
            person = Approver(cloud)
            person.decide(person.link("ml-lead@example.com", "churn"), "approve", "bench")
        cloud.run_until_quiet()
        (execution,) = cloud.executions("ApprovalStateMachine")
        sfn = cloud.client("stepfunctions")
        history = [
            e["type"]
            for page in sfn.get_paginator("get_execution_history").paginate(
                executionArn=execution.arn
            )
            for e in page["events"]
        ]
        invocations = sum(
            len(cloud.timeline.find("invoke", function=f)) for f in APPROVAL_FUNCTIONS
        )
        (package,) = cloud.packages("churn")
    return {
        "wait": wait,
        "decided": decide,
        "status": execution.status,
        "package": package["ModelApprovalStatus"],
        "history_events": len(history),
        "states_entered": sum(1 for e in history if e.endswith("StateEntered")),
        "lambda_invocations": invocations,
        "history": history,
    }


def run() -> dict[str, Any]:
    fast = _one_approval("1m", decide=True)
    slow = _one_approval("70h", decide=True)
    timed_out = _one_approval("73h", decide=False)
    return {
        "approved_after_1m": fast,
        "approved_after_70h": slow,
        "no_decision_72h": timed_out,
        "independent_of_wait": fast["history"] == slow["history"]
        and fast["lambda_invocations"] == slow["lambda_invocations"],
    }


def table(result: dict[str, Any]) -> str:
    lines = ["human approval (offline runtime)"]
    for name in ("approved_after_1m", "approved_after_70h", "no_decision_72h"):
        r = result[name]
        what = "approved after" if r["decided"] else "no decision, waited"
        lines.append(
            f"  {what} {r['wait']:>3}: {r['history_events']} history events, "
            f"{r['states_entered']} states entered, {r['lambda_invocations']} invocations "
            f"({r['status']}, package {r['package']})"
        )
    lines.append(
        f"  same transitions after 1m and 70h: {'yes' if result['independent_of_wait'] else 'NO'}"
    )
    return "\n".join(lines)
