"""The SNS notification CloudWatch sends for an alarm action, in its real shape.

Subject `ALARM: "<alarm name>" in <region name>` (OK / INSUFFICIENT_DATA likewise), and a JSON
message: AlarmName, AlarmDescription, AWSAccountId, AlarmConfigurationUpdatedTimestamp,
NewStateValue, NewStateReason, StateChangeTime, Region, AlarmArn, OldStateValue, the three action
lists, and for a metric alarm its Trigger (the metric or metric math it watches, period,
evaluation periods, comparison, threshold), for a composite alarm its AlarmRule and the children
that triggered it. As in the samples AWS publishes (aws-lambda-go's
events/testdata/cloudwatch-alarm-sns-payload-*.json).
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Any

# SNS refuses a subject of 100 characters or more.
MAX_SUBJECT = 99
_STATISTICS = {
    "SampleCount": "SAMPLE_COUNT",
    "Average": "AVERAGE",
    "Sum": "SUM",
    "Minimum": "MINIMUM",
    "Maximum": "MAXIMUM",
}


@functools.cache
def region_name(region: str) -> str:
    """`us-east-1` → `US East (N. Virginia)`, as the notification names it."""
    from botocore.loaders import create_loader

    for partition in create_loader().load_data("endpoints")["partitions"]:
        described = partition.get("regions", {}).get(region)
        if described and described.get("description"):
            return str(described["description"])
    return region


def alarm_name(alarm: str) -> str:
    """An alarm's name from its name or ARN."""
    return alarm.rsplit(":alarm:", 1)[-1] if alarm.startswith("arn:") else alarm


def alarm_arn(alarm: str, region: str, account: str) -> str:
    """An alarm's ARN from its name or ARN."""
    if alarm.startswith("arn:"):
        return alarm
    return f"arn:aws:cloudwatch:{region}:{account}:alarm:{alarm}"


def stamp(moment: datetime) -> str:
    """CloudWatch's time format in notifications: 2026-11-20T02:00:00.000+0000."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def subject(alarm_name: str, state: str, region: str) -> str:
    text = f'{state}: "{alarm_name}" in {region_name(region)}'
    return text if len(text) <= MAX_SUBJECT else text[: MAX_SUBJECT - 1] + "…"


def _dimensions(dimensions: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [{"value": d.get("Value"), "name": d.get("Name")} for d in dimensions or []]


def _treat_missing(alarm: dict[str, Any]) -> str:
    # Written this way in the notifications CloudWatch sends.
    return f"- TreatMissingData:                    {alarm.get('TreatMissingData') or 'missing'}"


def trigger(alarm: dict[str, Any]) -> dict[str, Any]:
    """A metric alarm's Trigger (DescribeAlarms' MetricAlarms item)."""
    common = {
        "EvaluationPeriods": alarm.get("EvaluationPeriods"),
        **(
            {"DatapointsToAlarm": alarm["DatapointsToAlarm"]}
            if alarm.get("DatapointsToAlarm")
            else {}
        ),
        "ComparisonOperator": alarm.get("ComparisonOperator"),
        "Threshold": alarm.get("Threshold"),
        "TreatMissingData": _treat_missing(alarm),
        "EvaluateLowSampleCountPercentile": alarm.get("EvaluateLowSampleCountPercentile") or "",
    }
    if alarm.get("Metrics"):
        metrics = []
        periods = set()
        for query in alarm["Metrics"]:
            item: dict[str, Any] = {"Id": query.get("Id")}
            if query.get("Expression"):
                item["Expression"] = query["Expression"]
                item["Label"] = query.get("Label") or query.get("Id")
            if query.get("MetricStat"):
                stat = query["MetricStat"]
                metric = stat.get("Metric") or {}
                item["MetricStat"] = {
                    "Metric": {
                        "Dimensions": _dimensions(metric.get("Dimensions")),
                        "MetricName": metric.get("MetricName"),
                        "Namespace": metric.get("Namespace"),
                    },
                    "Period": stat.get("Period"),
                    "Stat": stat.get("Stat"),
                }
                periods.add(stat.get("Period"))
            item["ReturnData"] = query.get("ReturnData", True)
            metrics.append(item)
        period = alarm.get("Period") or (periods.pop() if len(periods) == 1 else None)
        return {"Period": period, **common, "Metrics": metrics}
    statistic: dict[str, Any]
    if alarm.get("ExtendedStatistic"):
        statistic = {
            "StatisticType": "ExtendedStatistic",
            "ExtendedStatistic": alarm["ExtendedStatistic"],
        }
    else:
        name = str(alarm.get("Statistic") or "")
        statistic = {"StatisticType": "Statistic", "Statistic": _STATISTICS.get(name, name.upper())}
    return {
        "MetricName": alarm.get("MetricName"),
        "Namespace": alarm.get("Namespace"),
        **statistic,
        "Unit": alarm.get("Unit"),
        "Dimensions": _dimensions(alarm.get("Dimensions")),
        "Period": alarm.get("Period"),
        **common,
    }


def message(
    alarm: dict[str, Any],
    composite: bool,
    new_state: str,
    old_state: str,
    reason: str,
    changed_at: datetime,
    configured_at: datetime | None,
    account: str,
    region: str,
    triggering_children: list[dict[str, Any]] | None = None,
) -> str:
    """The notification's JSON message (`alarm`: the DescribeAlarms item; `configured_at`: when
    it was last created or updated, in virtual time)."""
    body: dict[str, Any] = {
        "AlarmName": alarm.get("AlarmName"),
        "AlarmDescription": alarm.get("AlarmDescription"),
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": stamp(configured_at) if configured_at else None,
        "NewStateValue": new_state,
        "NewStateReason": reason,
        "StateChangeTime": stamp(changed_at),
        "Region": region_name(region),
        "AlarmArn": alarm.get("AlarmArn"),
        "OldStateValue": old_state,
        "OKActions": list(alarm.get("OKActions") or []),
        "AlarmActions": list(alarm.get("AlarmActions") or []),
        "InsufficientDataActions": list(alarm.get("InsufficientDataActions") or []),
    }
    if composite:
        body["AlarmRule"] = alarm.get("AlarmRule")
        body["TriggeringChildren"] = triggering_children or []
    else:
        body["Trigger"] = trigger(alarm)
    return json.dumps(body, default=str)
