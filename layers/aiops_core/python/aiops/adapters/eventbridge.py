"""Our own events on the default bus (PutEvents)."""

from __future__ import annotations

import json
from typing import Any

from aiops.adapters.aws import AwsAdapter

DRIFT_CHECK_SOURCE = "aiops.drift-check"


class EventPublishFailed(RuntimeError):
    pass


class DriftCheckEvents(AwsAdapter):
    service = "events"

    def drift_check_completed(self, detail: dict[str, Any]) -> None:
        response = self.client.put_events(
            Entries=[
                {
                    "Source": DRIFT_CHECK_SOURCE,
                    "DetailType": "Drift Check Completed",
                    "Detail": json.dumps(detail, default=str),
                    "EventBusName": "default",
                }
            ]
        )
        if response.get("FailedEntryCount"):
            entry = response["Entries"][0]
            raise EventPublishFailed(
                f"PutEvents refused the drift check event: {entry.get('ErrorCode')} "
                f"{entry.get('ErrorMessage')}"
            )
