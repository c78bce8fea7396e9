"""PutCompositeAlarm, which moto 5.2.5 lacks (NotImplementedError).

moto's alarm store already keeps composite alarms (an `Alarm` with a `rule`, listed by
DescribeAlarms under CompositeAlarms, its state set by SetAlarmState); only the request handler
is missing. This adds it on that store. The `composite_alarms` simulator evaluates the rule.
"""

from __future__ import annotations

from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult, EmptyResult

from aiops_local.patches.base import Patcher


def put_composite_alarm(self: CloudWatchResponse) -> ActionResult:
    self.cloudwatch_backend.put_metric_alarm(
        name=self._get_param("AlarmName"),
        namespace=None,  # type: ignore[arg-type]
        metric_name=None,  # type: ignore[arg-type]
        comparison_operator=None,  # type: ignore[arg-type]
        evaluation_periods=None,  # type: ignore[arg-type]
        period=None,  # type: ignore[arg-type]
        threshold=None,  # type: ignore[arg-type]
        statistic=None,  # type: ignore[arg-type]
        description=self._get_param("AlarmDescription"),
        dimensions=[],
        alarm_actions=self._get_param("AlarmActions", []),
        ok_actions=self._get_param("OKActions", []),
        insufficient_data_actions=self._get_param("InsufficientDataActions", []),
        actions_enabled=self._get_bool_param("ActionsEnabled"),
        rule=self._get_param("AlarmRule"),
        tags=self._get_param("Tags", []),
    )
    return EmptyResult()


def install(patcher: Patcher) -> None:
    patcher.add(CloudWatchResponse, "put_composite_alarm", put_composite_alarm)
