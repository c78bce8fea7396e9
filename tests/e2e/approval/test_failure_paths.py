"""What happens to a decision when AWS fails part-way, and when a person decides elsewhere:
a decision is never lost or applied twice, and an approval never overrides a rejection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.e2e.approval.conftest import ML_LEAD, ledger_actions, pending_cloud

pytestmark = pytest.mark.e2e


@contextmanager
def send_task_success_fails_once() -> Iterator[list[str]]:
    """Step Functions refuses the next SendTaskSuccess (a throttle, an outage)."""
    original = BaseClient._make_api_call
    failed: list[str] = []

    def make_api_call(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if operation == "SendTaskSuccess" and not failed:
            failed.append(operation)
            raise ClientError(
                {"Error": {"Code": "ServiceUnavailable", "Message": "try again"}}, operation
            )
        return original(self, operation, params)

    BaseClient._make_api_call = make_api_call  # type: ignore[method-assign]
    try:
        yield failed
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


def _statuses(cloud: Any) -> list[str]:
    return [p["ModelApprovalStatus"] for p in cloud.packages("churn")]


def test_a_decision_whose_resume_failed_is_completed_by_the_persons_retry_not_lost() -> None:
    with pending_cloud() as pending:
        path = pending.link(ML_LEAD)
        fields = pending.open_form(path) | {"decision": "approve", "comment": "ship it"}

        # Given the decision is written but telling the workflow fails
        with send_task_success_fails_once() as failed:
            first = pending.post(path, fields)
        pending.cloud.run_until_quiet()
        assert failed and first.status >= 500
        assert _statuses(pending.cloud) == ["PendingManualApproval"]  # the workflow waits

        # When the person retries (resend), the page says it is decided, and the workflow
        # is told: the decision takes effect now, once, not at the timeout
        retry = pending.post(path, fields)
        pending.cloud.run_until_quiet()

        assert retry.status == 409
        assert f"decided by {ML_LEAD}" in retry.text
        assert _statuses(pending.cloud) == ["Approved"]
        assert ledger_actions(pending.cloud).count("approved") == 1


def test_an_approval_never_overrides_a_rejection_made_in_the_registry_meanwhile() -> None:
    with pending_cloud() as pending:
        path = pending.link(ML_LEAD)
        fields = pending.open_form(path) | {"decision": "approve", "comment": "ship it"}

        # Given the ml lead's approval is written but the workflow is not told...
        with send_task_success_fails_once():
            pending.post(path, fields)
        pending.cloud.run_until_quiet()
        # ...and a colleague rejects the package in Studio meanwhile
        pending.cloud.set_approval("churn/1", "Rejected", "bad slice", by="jane.doe")
        pending.cloud.run_until_quiet()

        # When the approval closes (here at its timeout)
        pending.cloud.advance("73h")

        # Then the package stays Rejected, and the conflict is recorded and alerted
        assert _statuses(pending.cloud) == ["Rejected"]
        (approved,) = [e for e in pending.cloud.ledger("churn") if e["action"] == "approved"]
        assert "not applied: jane.doe rejected the package" in approved["reason"]
        alerts = pending.cloud.timeline.find("notify", topic="aiops-dev-alerts")
        assert any("approval not applied" in (a.get("subject") or "") for a in alerts)
