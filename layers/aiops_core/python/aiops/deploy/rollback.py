"""Rollback after the deployment window: back to the last known good EndpointConfig (a Bedrock
model: its last known good custom model), on one of the model's rollback alarms or by hand
(`aiops rollback`), recorded once per incident."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from aiops.deploy.dependencies import DeployDependencies
from aiops.deploy.model import MARK_ROLLED_BACK, Deployed, KnownGood, Served, ServedGood
from aiops.ledger import LedgerAction, record
from aiops.policy import BedrockModelPolicy, Policy

# The event is parsed by the function that receives it: the workflow's other steps never
# create its model classes.
if TYPE_CHECKING:
    from aiops.events.cloudwatch import AlarmStateChange

ROLLBACKS = ("rollback", "manual_rollback")
# An endpoint's known goods, or a Bedrock model's.
_Good = TypeVar("_Good", KnownGood, ServedGood)


class RollbackDecision(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    model: str
    action: Literal["rolled_back", "skipped", "dry_run", "failed", "ignored"]
    reason: str
    from_version: int | None = None
    to_version: int | None = None


@dataclass(frozen=True)
class Decider:
    """How one rollback ends (an endpoint's or a Bedrock model's): the ledger entry unless a dry
    run, the alert where asked, the decision returned."""

    model: str
    deps: DeployDependencies
    now: datetime
    by: str
    cause: dict[str, Any]
    dry_run: bool
    alert_subject: str

    def __call__(
        self,
        action: Literal["rolled_back", "skipped", "dry_run", "failed"],
        reason: str,
        ledger: LedgerAction | None,
        current: Deployed | Served | None = None,
        target: KnownGood | ServedGood | Served | None = None,
        alert: bool = False,
    ) -> RollbackDecision:
        if ledger is not None and not self.dry_run:
            record(self.deps.ledger, self.model, self.now, ledger, reason, self._cause)
        if alert and not self.dry_run:
            self.deps.alerts.publish(self.alert_subject, reason)
        return RollbackDecision(
            model=self.model,
            action=action,
            reason=reason,
            from_version=current.version if current else None,
            to_version=target.version if target else None,
        )

    @property
    def _cause(self) -> dict[str, Any]:
        return {**self.cause, "by": self.by}

    def would(
        self,
        plan: str,
        policy_dry_run: bool,
        current: Deployed | Served,
        target: KnownGood | ServedGood,
    ) -> RollbackDecision | None:
        """A dry run says the plan and changes nothing; the policy's (not the caller's) is
        recorded as a skip. None: no dry run, roll back."""
        if not (self.dry_run or policy_dry_run):
            return None
        if policy_dry_run and not self.dry_run:
            record(
                self.deps.ledger,
                self.model,
                self.now,
                LedgerAction.ROLLBACK_SKIPPED,
                f"{self.by}: dry run: would roll back {plan}",
                self._cause,
            )
        return self("dry_run", f"would roll back {plan}", None, current, target)

    def mark_replaced(self, goods: Sequence[KnownGood | ServedGood], replaced: object) -> None:
        """The version a rollback replaced is marked rolled back in the registry: never
        deployed again."""
        by_version = {g.version: g for g in goods}
        if isinstance(replaced, int) and replaced in by_version:
            self.deps.packages.mark(
                by_version[replaced].package_arn,
                {MARK_ROLLED_BACK: f"{self.now.isoformat()} after deployment: {self.by}"[:256]},
            )


def rollback_pending(current: Deployed | Served | None) -> bool:
    """A rollback is recorded whose swap is not confirmed yet (running it again completes it)."""
    return current is not None and current.how in ROLLBACKS and not current.applied


def rolled_back_already(by: str, what: str, current: Deployed | Served, manual: bool) -> str | None:
    """Why an alarm does not roll `what` back again: it was rolled back for this incident."""
    if manual or current.how not in ROLLBACKS:
        return None
    return (
        f"{by}: {what} was rolled back to v{current.version} already "
        f"({current.since:%Y-%m-%d %H:%M} UTC, {current.cause.get('by', 'an earlier alarm')}); "
        "not rolling back twice for one incident"
    )


def rollback_target(
    goods: list[_Good], serving: int, to_version: int | None, what: str
) -> tuple[_Good | None, str | None]:
    """The known good to go back to: `to_version`, or the newest not revoked other than the
    version `serving`; or why `to_version` is refused."""
    if to_version is None:
        newest = next((g for g in goods if g.revoked is None and g.version != serving), None)
        return newest, None
    target = next((g for g in goods if g.version == to_version), None)
    if to_version == serving:
        return target, f"v{to_version} serves {what} already"
    if target is None:
        return None, f"v{to_version} never served {what} as a known good version"
    if target.revoked:
        return target, f"v{to_version} was rolled back itself ({target.revoked})"
    return target, None


def on_rollback_alarm(
    change: "AlarmStateChange", policy: Policy, deps: DeployDependencies, now: datetime
) -> list[RollbackDecision]:
    """An alarm to ALARM: each model that rolls back on it goes back to its last known good
    (a deployment in progress is SageMaker's to roll back)."""
    alarm = change.detail.alarm_name
    if change.detail.state.value != "ALARM":
        return []
    cause = {
        "event_id": change.id,
        "alarm": alarm,
        "state_time": change.detail.state.timestamp,
    }
    names = [*policy.sagemaker_models_for_alarm(alarm), *policy.bedrock_models_for_alarm(alarm)]
    return [
        roll_back(name, policy, deps, now, by=f"alarm {alarm}", cause=cause, manual=False)
        for name in names
    ]


def roll_back(
    model_name: str,
    policy: Policy,
    deps: DeployDependencies,
    now: datetime,
    *,
    by: str,
    cause: dict[str, Any],
    manual: bool,
    to_version: int | None = None,
    dry_run: bool = False,
) -> RollbackDecision:
    """Serve the last known good version before the current one (or `to_version`) on the
    model's endpoint again: UpdateEndpoint, all at once, to its retained EndpointConfig. A
    Bedrock model's custom model is swapped back instead (`aiops.deploy.bedrock`)."""
    bedrock = policy.models.get(model_name)
    if isinstance(bedrock, BedrockModelPolicy):
        # Imported here: bedrock.py builds on this module (RollbackDecision, Decider).
        from aiops.deploy.bedrock import roll_back_serving

        return roll_back_serving(
            model_name,
            bedrock,
            deps,
            now,
            by=by,
            cause=cause,
            manual=manual,
            to_version=to_version,
            dry_run=dry_run,
        )
    model = policy.sagemaker_model(model_name)
    endpoint = model.deploy.endpoint
    decide = Decider(
        model_name, deps, now, by, cause, dry_run, f"[aiops] {model_name}: rollback on {endpoint}"
    )
    current = deps.history.deployed(endpoint)
    if current is None:
        return decide(
            "skipped",
            f"{by}: nothing the control plane deployed serves {endpoint}; no rollback",
            LedgerAction.ROLLBACK_SKIPPED,
        )
    if rollback_pending(current):
        # A rollback recorded whose UpdateEndpoint did not go through: finish it first.
        if to_version is not None and to_version != current.version:
            return decide(
                "skipped",
                f"{by}: a rollback of {endpoint} to v{current.version} is recorded but not sent "
                "to SageMaker yet; complete it first (run again without --to)",
                None,
                current,
            )
        if dry_run:
            return decide(
                "dry_run",
                f"would complete the recorded rollback of {endpoint} to v{current.version} "
                f"(EndpointConfig {current.endpoint_config}, all at once)",
                None,
                current,
            )
        return _apply(current, deps, now, decide, by)
    holder = deps.locks.holder(endpoint, now)
    if holder is not None:
        return decide(
            "skipped",
            f"{by}: {holder} is deploying on {endpoint}; SageMaker's auto-rollback covers the "
            "deployment and its bake, so no second rollback starts",
            LedgerAction.ROLLBACK_SKIPPED,
            current,
        )
    held = deps.history.rollbacks_held(endpoint, now) if not manual else None
    if held is not None:
        return decide(
            "skipped",
            f"{by}: {held}; alarms right after belong to that incident, so v{current.version} "
            "keeps serving",
            LedgerAction.ROLLBACK_SKIPPED,
            current,
        )
    again = rolled_back_already(by, endpoint, current, manual)
    if again is not None:
        return decide("skipped", again, LedgerAction.ROLLBACK_SKIPPED, current)
    goods = deps.history.known_goods(endpoint)
    target, refusal = rollback_target(goods, current.version, to_version, endpoint)
    if refusal is not None:
        return decide("skipped", f"{by}: {refusal}", None, current)
    if target is None:
        return decide(
            "skipped",
            f"{by}: no earlier known good version of {model_name} to roll back to on {endpoint} "
            f"(v{current.version} serves)",
            LedgerAction.ROLLBACK_SKIPPED,
            current,
            alert=True,
        )
    if not deps.endpoints.config_exists(target.endpoint_config):
        return decide(
            "failed",
            f"{by}: v{target.version}'s EndpointConfig {target.endpoint_config} is gone; "
            f"{endpoint} keeps v{current.version}",
            LedgerAction.ROLLBACK_FAILED,
            current,
            target,
            alert=True,
        )
    plan = (
        f"{endpoint}: v{current.version} → v{target.version} (EndpointConfig "
        f"{target.endpoint_config}, all at once)"
    )
    would = decide.would(plan, model.dry_run, current, target)
    if would is not None:
        return would
    rolled = Deployed(
        model=model_name,
        endpoint=endpoint,
        version=target.version,
        package_arn=target.package_arn,
        endpoint_config=target.endpoint_config,
        model_name=target.model_name,
        since=now,
        how="manual_rollback" if manual else "rollback",
        cause={**cause, "by": by, "from_version": current.version},
        applied=False,
    )
    reason = f"{by}: rolled back {plan}"
    if not deps.history.roll_back(current, rolled, current.version, reason):
        return decide(
            "skipped",
            f"{by}: {endpoint} changed meanwhile (another rollback); nothing more to do",
            LedgerAction.ROLLBACK_SKIPPED,
            current,
        )
    return _apply(rolled, deps, now, decide, by)


def _apply(
    rolled: Deployed, deps: DeployDependencies, now: datetime, decide: Decider, by: str
) -> RollbackDecision:
    """Send the recorded rollback to SageMaker, mark the version it replaced, record it."""
    endpoint = rolled.endpoint
    view = deps.endpoints.describe(endpoint)
    replaced = rolled.cause.get("from_version")
    if view is None:
        return decide(  # the rollback stays recorded, not applied: a retry completes it
            "failed",
            f"{by}: {endpoint} does not exist; nothing to roll back",
            LedgerAction.ROLLBACK_FAILED,
            None,
            None,
            alert=True,
        )
    # Idempotent: a retry whose update went through (serving or pending) sends none again.
    if rolled.endpoint_config not in (view.endpoint_config, view.pending_config):
        deps.endpoints.update(endpoint, rolled.endpoint_config, None)
    decide.mark_replaced(deps.history.known_goods(endpoint), replaced)
    current = rolled.model_copy(update={"version": replaced}) if isinstance(replaced, int) else None
    target = KnownGood(
        version=rolled.version,
        package_arn=rolled.package_arn,
        endpoint_config=rolled.endpoint_config,
        model_name=rolled.model_name,
        promoted_at=now,
    )
    decision = decide(
        "rolled_back",
        f"{by}: rolled back {endpoint} from v{replaced} to v{rolled.version} "
        f"(EndpointConfig {rolled.endpoint_config}, all at once); v{replaced} is marked rolled "
        "back and is not deployed again",
        LedgerAction.ROLLED_BACK,
        current,
        target,
        alert=True,
    )
    # Last: until every record above is written, a retry completes the rollback again.
    deps.history.applied(endpoint, rolled.version)
    return decision
