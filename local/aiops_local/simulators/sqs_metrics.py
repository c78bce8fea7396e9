"""AWS/SQS metrics offline: each queue's depth and messages sent, per minute, as SQS publishes them.

SQS sends CloudWatch one datapoint a minute per metric for every active queue: one that holds
messages, or that any action accessed in the last six hours. This follows every call on a queue
(the control plane's and the runtime's own deliveries: a Lambda or EventBridge dead letter) and
keeps, per queue (dimension `QueueName`):

    ApproximateNumberOfMessagesVisible   the visible messages at the end of each minute
    NumberOfMessagesSent                 the messages added in each minute (0 when none)

as per-minute series of the metric store: changes and activity spans, not a datapoint per idle
minute (see `aiops_local.metrics`). Alarms on them are evaluated by `metric_alarms`.

The runtime's own reads (an `expect` step peeking into a dead-letter queue) are not actions of
a client of the queue: they neither count as activity nor change anything.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from aiops_local.metrics import MetricStore
from aiops_local.patches.botocore_calls import ApiCall
from aiops_local.simulators.base import Simulator, SimulatorHost, register

NAMESPACE = "AWS/SQS"
VISIBLE = "ApproximateNumberOfMessagesVisible"
SENT = "NumberOfMessagesSent"
# A queue stays active (its metrics published) this long after the last action on it.
ACTIVE_AFTER_ACTION_S = 6 * 3600
_WRITES = frozenset(
    {
        "SendMessage",
        "SendMessageBatch",
        "DeleteMessage",
        "DeleteMessageBatch",
        "PurgeQueue",
        "ChangeMessageVisibility",
        "ChangeMessageVisibilityBatch",
    }
)
_READS = frozenset({"ReceiveMessage", "GetQueueAttributes"})


def queue_name(params: dict[str, Any]) -> str | None:
    url = params.get("QueueUrl")
    if isinstance(url, str) and url:
        return url.rstrip("/").rsplit("/", 1)[-1]
    return None


@register
class SqsMetricsSimulator(Simulator):
    name = "sqs_metrics"
    watches: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        ("sqs", operation) for operation in _WRITES | _READS
    )

    def __init__(self, host: SimulatorHost) -> None:
        super().__init__(host)
        self._lock = threading.Lock()

    @property
    def _store(self) -> MetricStore:
        return self.host.metrics

    def on_call(self, call: ApiCall) -> None:
        if call.error is not None:
            return
        if call.operation in _READS and call.actor is None:
            return  # the runtime peeking (an expect step), not a client of the queue
        name = queue_name(call.params)
        if name is None:
            return
        sent = 0
        if call.operation == "SendMessage":
            sent = 1
        elif call.operation == "SendMessageBatch":
            sent = len((call.result or {}).get("Successful") or [])
        self.record(name, sent)

    def record(self, queue: str, sent: int = 0) -> None:
        """An action on `queue` now: its depth as it stands, `sent` messages added."""
        depth = self._depth(queue)
        if depth is None:
            return
        now = self.host.clock.time()
        dimensions = [{"Name": "QueueName", "Value": queue}]
        until = None if depth > 0 else now + ACTIVE_AFTER_ACTION_S
        with self._lock:
            visible_key, visible = self._store.minute_series(
                NAMESPACE, VISIBLE, dimensions, "gauge", "Count"
            )
            sent_key, sent_series = self._store.minute_series(
                NAMESPACE, SENT, dimensions, "counter", "Count"
            )
            minute = visible.set(now, float(depth))
            visible.activate(now, until)
            sent_series.activate(now, until)
            if sent:
                sent_series.count(now, float(sent))
        self._store.changed(visible_key, minute)
        self._store.changed(sent_key, minute)

    def _depth(self, queue: str) -> int | None:
        from moto.sqs.models import sqs_backends

        backend = sqs_backends[self.host.account][self.host.region]
        found = backend.queues.get(queue)
        return None if found is None else int(found.approximate_number_of_messages)
