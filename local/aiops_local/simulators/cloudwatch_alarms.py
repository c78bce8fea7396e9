"""CloudWatch alarm state changes emit "CloudWatch Alarm State Change", as on AWS.

moto's SetAlarmState changes the state but emits nothing. This follows every alarm's state
(created alarms start INSUFFICIENT_DATA) and emits the documented event when it changes.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any, ClassVar

from aiops_local.patches.botocore_calls import ApiCall
from aiops_local.simulators.base import Simulator, SimulatorHost, register


def _metrics(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    if alarm.get("Metrics"):
        return [
            {"id": m.get("Id"), "returnData": m.get("ReturnData", True)} for m in alarm["Metrics"]
        ]
    if not alarm.get("MetricName"):
        return []
    return [
        {
            "id": str(uuid.uuid4()),
            "metricStat": {
                "metric": {
                    "dimensions": {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])},
                    "name": alarm["MetricName"],
                    "namespace": alarm.get("Namespace"),
                },
                "period": alarm.get("Period"),
                "stat": alarm.get("Statistic"),
            },
            "returnData": True,
        }
    ]


@register
class CloudWatchAlarmSimulator(Simulator):
    name = "cloudwatch_alarms"
    watches: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {("cloudwatch", "PutMetricAlarm"), ("cloudwatch", "SetAlarmState")}
    )

    def __init__(self, host: SimulatorHost) -> None:
        super().__init__(host)
        self._states: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def _stamp(self) -> str:
        return self.host.clock.now().strftime("%Y-%m-%dT%H:%M:%S.000+0000")

    def on_call(self, call: ApiCall) -> None:
        if call.error is not None:
            return
        name = call.params["AlarmName"]
        if call.operation == "PutMetricAlarm":
            with self._lock:
                self._states.setdefault(
                    name,
                    {
                        "value": "INSUFFICIENT_DATA",
                        "reason": "Unchecked: Initial alarm creation",
                        "timestamp": self._stamp(),
                    },
                )
            return
        state = {
            "value": call.params["StateValue"],
            "reason": call.params.get("StateReason", ""),
            "timestamp": self._stamp(),
        }
        if call.params.get("StateReasonData"):
            state["reasonData"] = call.params["StateReasonData"]
        with self._lock:
            previous = self._states.get(name) or {
                "value": "INSUFFICIENT_DATA",
                "reason": "",
                "timestamp": self._stamp(),
            }
            self._states[name] = state
        if previous["value"] == state["value"]:
            return  # CloudWatch emits on changes only
        alarms = self.host.client("cloudwatch").describe_alarms(AlarmNames=[name])
        alarm = (alarms.get("MetricAlarms") or [{}])[0]
        arn = alarm.get("AlarmArn") or (
            f"arn:aws:cloudwatch:{self.host.region}:{self.host.account}:alarm:{name}"
        )
        configuration: dict[str, Any] = {"metrics": _metrics(alarm)}
        if alarm.get("AlarmDescription"):
            configuration["description"] = alarm["AlarmDescription"]
        self.host.events.emit(
            "aws.cloudwatch",
            "CloudWatch Alarm State Change",
            {
                "alarmName": name,
                "state": state,
                "previousState": previous,
                "configuration": json.loads(json.dumps(configuration, default=str)),
            },
            resources=[arn],
        )
