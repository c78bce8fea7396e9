"""The audit ledger: an append-only record of every decision and its cause chain."""

import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field


class LedgerAction(StrEnum):
    """Every decision the control plane records: written by the capabilities, read by the
    audit, the bench and the offline runtime — one vocabulary, in one place."""

    # new data and windows
    RETRAIN_REQUESTED = "retrain_requested"
    RETRAIN_DRY_RUN = "retrain_dry_run"
    # a retrain run
    RUN_STARTED = "run_started"
    TRIGGER_COALESCED = "trigger_coalesced"
    WINDOWS_CARRIED_IN = "windows_carried_in"
    PIPELINE_STARTED = "pipeline_started"
    PIPELINE_STOPPED = "pipeline_stopped"
    LATE_PIPELINE_OUTCOME = "late_pipeline_outcome"
    CANDIDATE_REGISTERED = "candidate_registered"
    RUN_SUCCEEDED = "run_succeeded"
    RUN_FAILED = "run_failed"
    FOLLOW_UP_STARTED = "follow_up_started"
    # the gate
    GATE_APPROVED = "gate_approved"
    GATE_REJECTED = "gate_rejected"
    GATE_DRY_RUN = "gate_dry_run"
    AWAITING_APPROVAL = "awaiting_approval"
    # human approval
    APPROVAL_REQUESTED = "approval_requested"
    APPROVED = "approved"
    APPROVAL_REJECTED = "approval_rejected"
    APPROVAL_SUPERSEDED = "approval_superseded"
    APPROVAL_TIMED_OUT = "approval_timed_out"
    APPROVAL_FAILED = "approval_failed"
    DECIDED_OUTSIDE_APPROVAL = "decided_outside_approval"
    # deploy and roll back
    DEPLOY_REQUESTED = "deploy_requested"
    DEPLOY_REFUSED = "deploy_refused"
    DEPLOY_QUEUED = "deploy_queued"
    DEPLOY_SUPERSEDED = "deploy_superseded"
    DEPLOY_SKIPPED = "deploy_skipped"
    DEPLOY_DRY_RUN = "deploy_dry_run"
    DEPLOY_STARTED = "deploy_started"
    DEPLOYED = "deployed"
    DEPLOY_ROLLED_BACK = "deploy_rolled_back"
    DEPLOY_FAILED = "deploy_failed"
    SHADOW_STARTED = "shadow_started"
    SHADOW_PROMOTED = "shadow_promoted"
    SHADOW_DISCARDED = "shadow_discarded"
    ROLLED_BACK = "rolled_back"
    ROLLBACK_SKIPPED = "rollback_skipped"
    ROLLBACK_FAILED = "rollback_failed"
    # labeled data and fine-tune runs
    LABELS_COUNTED = "labels_counted"
    LABELS_QUARANTINED = "labels_quarantined"
    LABELS_REJECTED = "labels_rejected"
    LABELS_IMPORTED = "labels_imported"
    FINETUNE_REQUESTED = "finetune_requested"
    FINETUNE_DRY_RUN = "finetune_dry_run"
    DATASET_WRITTEN = "dataset_written"
    FINETUNE_STARTED = "finetune_started"
    FINETUNE_STOPPED = "finetune_stopped"
    FINETUNE_RECONCILED = "finetune_reconciled"
    LATE_FINETUNE_OUTCOME = "late_finetune_outcome"
    EVALUATION_STARTED = "evaluation_started"
    EVALUATED = "evaluated"
    # drift
    DRIFT_RETRAIN = "drift_retrain"
    DRIFT_ALERT_ONLY = "drift_alert_only"
    DRIFT_REPORT_INVALID = "drift_report_invalid"
    DRIFT_IGNORED = "drift_ignored"
    DRIFT_DRY_RUN = "drift_dry_run"
    # runs held while a model's triggers are paused (the data still counts)
    RUN_HELD = "run_held"
    # cost anomalies and spend alarms
    COST_SIGNAL_UNATTRIBUTED = "cost_signal_unattributed"
    COST_BELOW_THRESHOLD = "cost_below_threshold"
    COST_ACTION_DONE = "cost_action_done"
    COST_ACTION_SKIPPED = "cost_action_skipped"
    COST_ACTION_FAILED = "cost_action_failed"
    TRIGGERS_RESUMED = "triggers_resumed"
    CAPACITY_RESTORED = "capacity_restored"


def is_drift(action: LedgerAction | str) -> bool:
    """A drift decision (whatever its outcome)."""
    return str(action).startswith("drift_")


class LedgerEntry(BaseModel):
    """One decision: what was decided for which model, why, and what caused it.

    `cause` links the chain: event id → decision → execution → model package → approver.
    """

    model_config = ConfigDict(frozen=True, defer_build=True)
    model: str
    at: datetime
    # Written as a LedgerAction; an entry a newer control plane wrote still reads (as its text).
    action: LedgerAction | str
    reason: str
    cause: dict[str, Any] = Field(default_factory=dict)

    @property
    def entry_id(self) -> str:
        # Deterministic: the same decision recorded twice (a retried step) is one entry.
        body = json.dumps(
            [self.model, self.action, self.reason, self.cause], sort_keys=True, default=str
        )
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    @property
    def seq(self) -> str:
        return f"{self.at.isoformat()}#{self.entry_id}"


class Ledger(Protocol):
    def append(self, entry: LedgerEntry) -> bool:
        """Record `entry`; False when this exact decision was already recorded."""
        ...

    def for_model(self, model: str, limit: int = 100) -> list[LedgerEntry]:
        """The model's decisions, oldest first."""
        ...


def record(
    ledger: Ledger,
    model: str,
    now: datetime,
    action: LedgerAction,
    reason: str,
    cause: dict[str, Any],
) -> None:
    """Append one decision with its cause chain (a retried step records it once)."""
    ledger.append(LedgerEntry(model=model, at=now, action=action, reason=reason, cause=cause))
