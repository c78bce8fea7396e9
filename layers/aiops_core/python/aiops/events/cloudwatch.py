"""CloudWatch's `Alarm State Change` event."""

from typing import Literal

from pydantic import Field

from aiops.events import (
    MAX_ALARM_NAME,
    MAX_ITEMS,
    MAX_TIMESTAMP_TEXT,
    AwsShape,
    Envelope,
    Name,
    NameMap,
    Text,
)


class AlarmMetric(AwsShape):
    namespace: Name = ""
    name: Name = ""
    dimensions: NameMap = Field(default_factory=dict)


class AlarmMetricStat(AwsShape):
    metric: AlarmMetric


class AlarmMetricQuery(AwsShape):
    id: Name = ""
    metric_stat: AlarmMetricStat | None = Field(default=None, alias="metricStat")


class AlarmConfiguration(AwsShape):
    description: Text | None = None
    metrics: list[AlarmMetricQuery] = Field(default_factory=list, max_length=MAX_ITEMS)


class AlarmState(AwsShape):
    value: Literal["OK", "ALARM", "INSUFFICIENT_DATA"]
    reason: Text = ""
    timestamp: str = Field(min_length=1, max_length=MAX_TIMESTAMP_TEXT)


class AlarmDetail(AwsShape):
    alarm_name: str = Field(alias="alarmName", min_length=1, max_length=MAX_ALARM_NAME)
    state: AlarmState
    previous_state: AlarmState | None = Field(default=None, alias="previousState")
    # A factory: a default instance would build the model's schema at import.
    configuration: AlarmConfiguration = Field(default_factory=AlarmConfiguration)

    @property
    def metrics(self) -> list[AlarmMetric]:
        return [q.metric_stat.metric for q in self.configuration.metrics if q.metric_stat]


class AlarmStateChange(Envelope):
    source: Literal["aws.cloudwatch"]
    detail_type: Literal["CloudWatch Alarm State Change"] = Field(alias="detail-type")
    detail: AlarmDetail
