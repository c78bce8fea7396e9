"""CloudWatch alarm state changes emit "CloudWatch Alarm State Change" and run the alarm's
actions, as on AWS.

moto's SetAlarmState changes the state but emits nothing. This follows every alarm's state
(created alarms start INSUFFICIENT_DATA; composite alarms too) and, when it changes, emits the
documented event and, when the alarm's actions are enabled, publishes CloudWatch's notification
(`aiops_local.alarm_notifications`) to each SNS topic among the new state's actions (AlarmActions,
OKActions, InsufficientDataActions): a `notify` entry in the timeline. Other kinds of action
(Lambda, Auto Scaling, Systems Manager) are not run offline; they are listed in
`skipped_actions`.

While the runtime provisions the template (`quiet`), changes are followed but announce nothing:
a deployed stack's alarms have long settled into their first states.
"""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from aiops_local import alarm_notifications
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


_ACTIONS = {
    "ALARM": "AlarmActions",
    "OK": "OKActions",
    "INSUFFICIENT_DATA": "InsufficientDataActions",
}


@register
class CloudWatchAlarmSimulator(Simulator):
    name = "cloudwatch_alarms"
    watches: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {
            ("cloudwatch", "PutMetricAlarm"),
            ("cloudwatch", "PutCompositeAlarm"),
            ("cloudwatch", "SetAlarmState"),
            ("cloudwatch", "DeleteAlarms"),
        }
    )

    def __init__(self, host: SimulatorHost) -> None:
        super().__init__(host)
        self._states: dict[str, dict[str, Any]] = {}
        self._configured: dict[str, datetime] = {}
        self._quiet = 0
        self._lock = threading.Lock()
        # (alarm, action ARN) of actions not run offline.
        self.skipped_actions: list[tuple[str, str]] = []

    def _stamp(self) -> str:
        return self.host.clock.now().strftime("%Y-%m-%dT%H:%M:%S.000+0000")

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """Follow state changes without announcing them (while the stack is provisioned)."""
        with self._lock:
            self._quiet += 1
        try:
            yield
        finally:
            with self._lock:
                self._quiet -= 1

    def state(self, name: str) -> dict[str, Any] | None:
        """The alarm's state as last set (value, reason, timestamp), or None if unknown."""
        with self._lock:
            state = self._states.get(name)
            return dict(state) if state is not None else None

    def on_call(self, call: ApiCall) -> None:
        if call.error is not None:
            return
        if call.operation == "DeleteAlarms":
            # An alarm created again under the same name starts afresh, as in CloudWatch: its
            # first change is announced, whatever the deleted one's state was.
            with self._lock:
                for name in call.params.get("AlarmNames", []):
                    self._states.pop(name, None)
                    self._configured.pop(name, None)
            return
        name = call.params["AlarmName"]
        if call.operation in ("PutMetricAlarm", "PutCompositeAlarm"):
            with self._lock:
                self._configured[name] = self.host.clock.now()
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
            quiet = self._quiet > 0
        if previous["value"] == state["value"] or quiet:
            return  # CloudWatch emits on changes only
        alarms = self.host.client("cloudwatch").describe_alarms(
            AlarmNames=[name], AlarmTypes=["MetricAlarm", "CompositeAlarm"]
        )
        composite = bool(alarms.get("CompositeAlarms"))
        alarm = (alarms.get("MetricAlarms") or alarms.get("CompositeAlarms") or [{}])[0]
        arn = alarm.get("AlarmArn") or alarm_notifications.alarm_arn(
            name, self.host.region, self.host.account
        )
        configuration: dict[str, Any] = (
            {"alarmRule": alarm.get("AlarmRule")} if composite else {"metrics": _metrics(alarm)}
        )
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
        self._act(alarm, composite, previous["value"], state)

    # ------------------------------------------------------------------ actions
    def _act(
        self, alarm: dict[str, Any], composite: bool, old_state: str, state: dict[str, Any]
    ) -> None:
        if not alarm or not alarm.get("ActionsEnabled", True):
            return
        name = str(alarm.get("AlarmName"))
        actions = list(alarm.get(_ACTIONS[state["value"]]) or [])
        if not actions:
            return
        changed_at = self.host.clock.now()
        with self._lock:
            configured_at = self._configured.get(name)
        subject = alarm_notifications.subject(name, state["value"], self.host.region)
        body = alarm_notifications.message(
            alarm,
            composite,
            new_state=state["value"],
            old_state=old_state,
            reason=str(state.get("reason", "")),
            changed_at=changed_at,
            configured_at=configured_at,
            account=self.host.account,
            region=self.host.region,
            triggering_children=self._triggering_children(alarm) if composite else None,
        )
        for action in actions:
            if ":sns:" not in action:
                with self._lock:
                    self.skipped_actions.append((name, action))
                continue
            self._publish(name, state["value"], action, subject, body)

    def _publish(self, name: str, state: str, topic_arn: str, subject: str, body: str) -> None:
        topic = topic_arn.split(":")[-1]
        try:
            self.host.client("sns").publish(TopicArn=topic_arn, Subject=subject, Message=body)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "ClientError")
            self.host.timeline.add(
                "error",
                f"alarm {name}: its action could not notify {topic}: {code}",
                error=code,
                source="aws.cloudwatch",
            )
            return
        # CloudWatch publishes, not the control plane: the notification is the whole story.
        self.host.timeline.add(
            "notify",
            f"{topic}: {subject}",
            topic=topic,
            subject=subject,
            message=body,
            attributes={},
            alarm=name,
            state=state,
        )

    def _triggering_children(self, alarm: dict[str, Any]) -> list[dict[str, Any]]:
        """The children of a composite alarm now in ALARM, as its notification lists them."""
        from aiops_local.simulators.composite_alarms import referenced

        children = []
        for child in referenced(str(alarm.get("AlarmRule") or "")):
            state = self.state(alarm_notifications.alarm_name(child))
            if state is not None and state["value"] == "ALARM":
                arn = alarm_notifications.alarm_arn(child, self.host.region, self.host.account)
                children.append(
                    {"Arn": arn, "State": {"Value": "ALARM", "Timestamp": state["timestamp"]}}
                )
        return children
