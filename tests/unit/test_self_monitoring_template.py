"""The control plane watches itself (template.yaml, self-monitoring): an alarm on every dead-letter
queue and every workflow, on locks past their lease and approvals near their timeout, each telling
the alerts topic; one composite over all of them; a dashboard whose body is valid JSON once
substituted and names only metrics the code emits."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from aiops.ledger import LedgerAction
from aiops.observability import MetricName
from tests.support.template import ROOT, resources, template

ALERTS = {"Ref": "AlertsTopic"}
PSEUDO = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::StackName": "aiops-dev",
}
STAGE = "dev"


def substitute(value: Any) -> str:
    """`Fn::Sub` as CloudFormation resolves it for stage dev; every name must exist."""
    assert isinstance(value, dict) and "Fn::Sub" in value, value
    body = value["Fn::Sub"]
    assert isinstance(body, str)
    names = set(template()["Resources"]) | set(template()["Parameters"])

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in PSEUDO:
            return PSEUDO[name]
        if name == "Stage":
            return STAGE
        logical, _, attribute = name.partition(".")
        assert logical in names, f"${{{name}}} names nothing in the template"
        return f"{logical}-{attribute}" if attribute else f"{logical}-ref"

    return re.sub(r"\$\{([^}!]+)\}", one, body)


def alarms() -> dict[str, dict[str, Any]]:
    return {n: r["Properties"] for n, r in resources("AWS::CloudWatch::Alarm").items()}


def _get_att(value: Any) -> tuple[str, str]:
    target = value["Fn::GetAtt"]
    logical, attribute = target.split(".", 1) if isinstance(target, str) else target
    return logical, attribute


def _dimensions(props: dict[str, Any]) -> list[dict[str, Any]]:
    return list(props.get("Dimensions", []))


def _globals() -> dict[str, Any]:
    return template()["Globals"]["Function"]["Environment"]["Variables"]


def test_every_dead_letter_queue_has_an_alarm_on_any_message_in_it():
    queues = set(resources("AWS::SQS::Queue"))
    watched: dict[str, str] = {}
    for name, props in alarms().items():
        if props.get("Namespace") != "AWS/SQS":
            continue
        (dimension,) = _dimensions(props)
        queue, attribute = _get_att(dimension["Value"])
        assert (dimension["Name"], attribute) == ("QueueName", "QueueName")
        assert props["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert (props["Statistic"], props["Threshold"]) == ("Maximum", 0)
        assert props["ComparisonOperator"] == "GreaterThanThreshold"
        watched[queue] = name

    assert queues and set(watched) == queues


def test_every_workflow_alarms_on_a_failed_timed_out_or_aborted_execution():
    machines = {
        f"arn:aws:states:us-east-1:123456789012:stateMachine:{substitute(m['Properties']['Name'])}"
        for m in resources("AWS::Serverless::StateMachine").values()
    }
    watched: set[str] = set()
    for props in alarms().values():
        queries = props.get("Metrics", [])
        stats = [q["MetricStat"] for q in queries if "MetricStat" in q]
        if not stats or stats[0]["Metric"]["Namespace"] != "AWS/States":
            continue
        (returned,) = [q for q in queries if q.get("ReturnData", True)]
        ids = [q["Id"] for q in queries if "MetricStat" in q]
        assert returned["Expression"].replace(" ", "") == "+".join(ids)
        assert {s["Metric"]["MetricName"] for s in stats} == {
            "ExecutionsFailed",
            "ExecutionsTimedOut",
            "ExecutionsAborted",
        }
        arns = set()
        for stat in stats:
            (dimension,) = stat["Metric"]["Dimensions"]
            assert dimension["Name"] == "StateMachineArn"
            arns.add(substitute(dimension["Value"]))
            assert (stat["Stat"], stat["Period"]) == ("Sum", 300)
        (arn,) = arns
        watched.add(arn)
        assert props["Threshold"] == 1
        assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"

    assert len(machines) == 4 and watched == machines


@pytest.mark.parametrize(
    "metric", [MetricName.LOCKS_PAST_LEASE, MetricName.APPROVALS_NEAR_TIMEOUT], ids=str
)
def test_the_watch_metrics_alarm_on_exactly_the_dimensions_the_functions_emit(metric):
    (props,) = [p for p in alarms().values() if p.get("MetricName") == metric.value]

    # Powertools puts `service` (POWERTOOLS_SERVICE_NAME) on every metric; the namespace is the
    # stage's (POWERTOOLS_METRICS_NAMESPACE).
    assert props["Dimensions"] == [
        {"Name": "service", "Value": _globals()["POWERTOOLS_SERVICE_NAME"]}
    ]
    assert substitute(props["Namespace"]) == substitute(_globals()["POWERTOOLS_METRICS_NAMESPACE"])
    assert substitute(props["Namespace"]) == f"AIOps/{STAGE}"
    assert (props["Statistic"], props["Threshold"]) == ("Maximum", 1)
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


@pytest.mark.parametrize("name", sorted(alarms()))
def test_every_alarm_tells_the_alerts_topic_when_it_fires_and_clears(name):
    props = alarms()[name]

    assert props["AlarmActions"] == [ALERTS] and props["OKActions"] == [ALERTS]
    assert substitute(props["AlarmName"]).startswith(f"aiops-{STAGE}-")
    assert props["TreatMissingData"] == "notBreaching"
    periods = [props.get("Period")] + [
        q["MetricStat"]["Period"] for q in props.get("Metrics", []) if "MetricStat" in q
    ]
    assert all(60 <= p <= 300 for p in periods if p is not None)
    # The description tells the operator what it means and what to do.
    assert len(props["AlarmDescription"]) > 120


def test_the_alarm_names_are_unique():
    names = [substitute(p["AlarmName"]) for p in alarms().values()]

    assert len(names) == len(set(names))


def _children(resource: dict[str, Any]) -> list[str]:
    return re.findall(r'ALARM\("\$\{(\w+)\}"\)', resource["Properties"]["AlarmRule"]["Fn::Sub"])


def test_the_control_plane_alarm_is_any_of_every_alarm():
    resource = resources("AWS::CloudWatch::CompositeAlarm")["ControlPlaneAlarm"]
    rule = resource["Properties"]["AlarmRule"]["Fn::Sub"]

    children = _children(resource)
    assert sorted(children) == sorted(alarms())
    assert re.sub(r'ALARM\("\$\{\w+\}"\)', "", rule).split() == ["OR"] * (len(children) - 1)
    assert substitute(resource["Properties"]["AlarmName"]) == f"aiops-{STAGE}-control-plane"


def dashboard() -> dict[str, Any]:
    (props,) = [r["Properties"] for r in resources("AWS::CloudWatch::Dashboard").values()]
    assert substitute(props["DashboardName"]) == f"aiops-{STAGE}"
    body: dict[str, Any] = json.loads(substitute(props["DashboardBody"]))
    return body


def _metric_rows(body: dict[str, Any]) -> list[list[Any]]:
    return [
        row
        for widget in body["widgets"]
        if widget["type"] == "metric"
        for row in widget["properties"]["metrics"]
    ]


def _searches(body: dict[str, Any]) -> list[str]:
    return [r[0]["expression"] for r in _metric_rows(body) if isinstance(r[0], dict)]


def test_the_dashboard_body_is_json_once_substituted_with_widgets_on_the_grid():
    body = dashboard()

    for widget in body["widgets"]:
        assert widget["type"] in {"metric", "alarm", "text"}
        assert widget["x"] >= 0 and widget["x"] + widget["width"] <= 24
    titles = " | ".join(w["properties"]["title"] for w in body["widgets"]).lower()
    for topic in (
        "decisions",
        "runs",
        "gate",
        "pending approvals",
        "deployments and rollbacks",
        "remediation",
        "dead-letter",
        "errors",
        "duration",
        "alarms",
    ):
        assert topic in titles


def test_the_dashboard_names_only_metrics_the_functions_emit_and_actions_the_ledger_records():
    body = dashboard()
    namespace = substitute(_globals()["POWERTOOLS_METRICS_NAMESPACE"])
    emitted = {m.value for m in MetricName}

    explicit = {r[1] for r in _metric_rows(body) if isinstance(r[0], str) and r[0] == namespace}
    searched = set()
    actions = set()
    for expression in _searches(body):
        if f'"{namespace}"' in expression:
            searched |= set(re.findall(r'MetricName=\\?"(\w+)\\?"', expression))
            actions |= set(re.findall(r'action=\\?"(\w+)\\?"', expression))

    assert explicit and searched
    assert explicit | searched <= emitted
    assert actions and actions <= {a.value for a in LedgerAction}


def test_the_dashboard_shows_every_queue_every_workflow_and_every_alarm():
    body = dashboard()
    rows = [r for r in _metric_rows(body) if isinstance(r[0], str)]

    queues = {r[3].removesuffix("-QueueName") for r in rows if r[0] == "AWS/SQS"}
    machines = {r[3].removesuffix("-ref") for r in rows if r[0] == "AWS/States"}
    (alarm_widget,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    shown = {a.removesuffix("-Arn") for a in alarm_widget["properties"]["alarms"]}

    assert queues == set(resources("AWS::SQS::Queue"))
    assert machines == set(resources("AWS::Serverless::StateMachine"))
    assert shown == set(alarms()) | {"ControlPlaneAlarm", "PolicyDeploymentAlarm"}


def test_every_custom_metric_the_template_reads_is_emitted_by_the_code():
    used = {p["MetricName"] for p in alarms().values() if "MetricName" in p}
    used |= {r[1] for r in _metric_rows(dashboard()) if isinstance(r[0], str)}
    used |= {m for e in _searches(dashboard()) for m in re.findall(r'MetricName=\\?"(\w+)\\?"', e)}
    custom = {m for m in MetricName if m.value in used}
    sources = [
        *sorted((ROOT / "functions").glob("*/app.py")),
        *sorted((ROOT / "layers" / "aiops_core" / "python" / "aiops").rglob("*.py")),
    ]
    code = "\n".join(p.read_text() for p in sources)

    assert custom
    for metric in custom:
        # Added with its constant somewhere besides where the constant is defined.
        assert re.search(rf"MetricName\.{metric.name}\b", code), f"{metric.value} is never emitted"


def test_the_watch_runs_on_a_schedule_with_its_dead_letter_queue_as_the_sweeps_do():
    function = template()["Resources"]["ControlPlaneWatchFunction"]["Properties"]
    (event,) = function["Events"].values()

    assert event["Type"] == "ScheduleV2"
    assert event["Properties"]["ScheduleExpression"] == {"Ref": "ControlPlaneWatchRate"}
    assert template()["Parameters"]["ControlPlaneWatchRate"]["Default"] == "rate(5 minutes)"
    queue = _get_att(function["DeadLetterQueue"]["TargetArn"])[0]
    assert _get_att(event["Properties"]["DeadLetterConfig"]["Arn"])[0] == queue
    assert Path(ROOT / function["CodeUri"] / "app.py").exists()


def test_policy_deployments_roll_back_on_failing_workflows_not_on_sticky_alarms():
    # Given the composite AppConfig watches while a policy deploys
    resource = resources("AWS::CloudWatch::CompositeAlarm")["PolicyDeploymentAlarm"]
    rule = resource["Properties"]["AlarmRule"]["Fn::Sub"]
    failing = {a for a in alarms() if a.endswith("ExecutionsFailedAlarm")}

    # Then it is any workflow failing, and no dead-letter depth, lock past its lease or approval
    # near its timeout (they stay in ALARM until a person acts, whatever the policy)
    assert set(_children(resource)) == failing
    assert len(failing) == len(resources("AWS::Serverless::StateMachine"))
    assert re.sub(r'ALARM\("\$\{\w+\}"\)', "", rule).split() == ["OR"] * (len(failing) - 1)
    environment = resources("AWS::AppConfig::Environment")["PolicyEnvironment"]
    assert [m["AlarmArn"] for m in environment["Properties"]["Monitors"]] == [
        {"Fn::GetAtt": ["PolicyDeploymentAlarm", "Arn"]}
    ]
