"""Bedrock custom model deployments, created and updated in virtual time.

With the `patches.bedrock_deployments` patch, CreateCustomModelDeployment leaves a deployment
`Creating` and UpdateCustomModelDeployment leaves its update `Updating`; this simulator ends each
after `provision`: the deployment `Active` (or `Failed` with a `failureMessage`), the update
`UpdateCompleted` with the new model serving (or `UpdateFailed`, the old model still serving).
Bedrock sends no EventBridge event for either (the EventBridge reference lists none for custom
model deployments), so neither does this simulator: the control plane reads the deployment.

`changes` lists what ran: deployment, kind (create | update), model, outcome, reason.

Settings (scenario `simulators.bedrock_deployment`, or a `configure` step):
  provision: 5m                 (virtual time a creation or an update takes)
  fail: "<reason>"              (the next creations/updates fail with that failureMessage;
                                 `true`: a generic one; null/false: they do not fail)
  next: [{fail: "..."}, ...]    (per-call overrides, used in order by the next ones)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from aiops.units import duration_seconds
from aiops_local.patches import bedrock_deployments
from aiops_local.patches.botocore_calls import ApiCall
from aiops_local.simulators.base import Simulator, SimulatorHost, register
from aiops_local.simulators.settings import RunSettings, check_known

_SETTINGS = ("provision", "fail")
GENERIC_FAILURE = "The custom model could not be deployed for on-demand inference."


@dataclass
class ServingChange:
    """A creation or update the simulator ran, and how it ended."""

    kind: str  # create | update
    arn: str
    name: str
    model_arn: str
    started: datetime
    settings: dict[str, Any]
    outcome: str = "in_progress"  # in_progress | succeeded | failed
    # The creation's clientRequestToken: the same one again is a replay, not a new creation.
    token: str | None = None
    reason: str | None = None
    ended: datetime | None = None


@register
class BedrockDeploymentSimulator(Simulator):
    name = "bedrock_deployment"
    watches: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {
            ("bedrock", "CreateCustomModelDeployment"),
            ("bedrock", "UpdateCustomModelDeployment"),
        }
    )

    def __init__(self, host: SimulatorHost) -> None:
        super().__init__(host)
        self.settings = RunSettings(self.name, {"provision": "5m", "fail": None}, self._check)
        self._changes: list[ServingChange] = []
        self._lock = threading.Lock()

    def configure(self, settings: dict[str, Any]) -> None:
        self.settings.configure(settings)

    @staticmethod
    def _check(settings: dict[str, Any]) -> None:
        check_known("bedrock_deployment", settings, _SETTINGS)
        if "provision" in settings and duration_seconds(settings["provision"]) < 0:
            raise ValueError("bedrock_deployment: provision must not be negative")
        fail = settings.get("fail")
        if fail is not None and not isinstance(fail, bool | str):
            raise ValueError("bedrock_deployment: fail is a failureMessage (text), true or null")

    @property
    def changes(self) -> list[ServingChange]:
        """Every creation and update run so far, oldest first."""
        with self._lock:
            return list(self._changes)

    def on_call(self, call: ApiCall) -> None:
        if call.error is not None or call.result is None:
            return
        arn = str(call.result.get("customModelDeploymentArn", ""))
        settings = self.settings.for_next_run()
        create = call.operation == "CreateCustomModelDeployment"
        change = ServingChange(
            kind="create" if create else "update",
            arn=arn,
            name=str(call.params.get("modelDeploymentName") or arn),
            model_arn=str(call.params.get("modelArn", "")),
            started=self.host.clock.now(),
            settings=settings,
            token=call.params.get("clientRequestToken"),
        )
        with self._lock:
            # The same clientRequestToken again: nothing new was created. (A deployment
            # deleted and created anew under its name keeps its ARN, with another token.)
            if create and any(
                c.kind == "create" and c.arn == arn and c.token == change.token
                for c in self._changes
            ):
                return
            self._changes.append(change)
        self.host.agenda.after(
            duration_seconds(settings["provision"]),
            f"custom model deployment {change.name}: {change.kind} ends",
            lambda: self._end(change),
        )

    def _end(self, change: ServingChange) -> None:
        fail = change.settings.get("fail")
        reason = (fail if isinstance(fail, str) else GENERIC_FAILURE) if fail else None
        host = self.host
        finish = (
            bedrock_deployments.finish_creation
            if change.kind == "create"
            else bedrock_deployments.finish_update
        )
        try:
            finish(host.account, host.region, change.arn, host.clock.now(), reason)
        except Exception as exc:  # noqa: BLE001 - deleted meanwhile: recorded, not raised
            change.outcome, change.reason = "failed", f"gone: {exc}"
        else:
            change.outcome, change.reason = ("failed", reason) if reason else ("succeeded", None)
        change.ended = host.clock.now()
