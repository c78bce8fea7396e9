"""Why a run happens: the triggers that start, or are coalesced into, a model's runs."""

import hashlib
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TriggerKind = Literal[
    "new_data", "window_age", "drift", "follow_up", "manual", "labeled_data", "labels_age"
]


class RunTrigger(BaseModel):
    """One cause of a run: `trigger_id` is its natural key (window, event id…)."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    kind: TriggerKind
    trigger_id: str = Field(min_length=1)
    reason: str
    windows: list[int] = Field(default_factory=list)
    event_id: str | None = None
    # What shows the cause, for the approval page: our drift check's statistics.json for a drift
    # run it started (None for every other trigger, and for Model Monitor's drift).
    evidence_uri: str | None = None


class RunRequest(BaseModel):
    """What a retrain execution is started with; `run_id` is also the execution name."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    model: str
    run_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,80}$")
    trigger: RunTrigger


def execution_safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", text)


# The triggers of a closed window: training data or labels, filled or aged.
WindowKind = Literal["new_data", "window_age", "labeled_data", "labels_age"]


def run_for_window(
    model: str,
    seq: int,
    kind: WindowKind,
    reason: str,
    event_id: str | None = None,
) -> RunRequest:
    """The one run a closed window starts; same window, same run id (start is idempotent)."""
    window_id = f"w{seq:06d}"
    return RunRequest(
        model=model,
        run_id=execution_safe(f"{model}-{window_id}")[:80],
        trigger=RunTrigger(
            kind=kind,
            trigger_id=f"window:{window_id}",
            reason=reason,
            windows=[seq],
            event_id=event_id,
        ),
    )


def follow_up_run(model: str, pending: list[RunTrigger]) -> RunRequest:
    """Every trigger that arrived during a run, coalesced into exactly one follow-up run."""
    if not pending:
        raise ValueError("a follow-up run needs at least one pending trigger")
    ids = sorted(t.trigger_id for t in pending)
    digest = hashlib.sha256("|".join(ids).encode()).hexdigest()[:12]
    windows = sorted({w for t in pending for w in t.windows})
    reasons = "; ".join(dict.fromkeys(t.reason for t in pending))
    # The latest drift evidence among them: the run answers that drift too.
    evidence = next((t.evidence_uri for t in reversed(pending) if t.evidence_uri), None)
    return RunRequest(
        model=model,
        run_id=execution_safe(f"{model}-f-{digest}")[:80],
        trigger=RunTrigger(
            kind="follow_up",
            trigger_id=f"follow-up:{digest}",
            reason=f"coalesced {len(pending)} trigger(s): {reasons}",
            windows=windows,
            evidence_uri=evidence,
        ),
    )
