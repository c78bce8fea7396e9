"""In-memory stand-ins for the Bedrock serving ports (unit tests only).

tests/contracts/test_bedrock_serving_contract.py runs the same behaviours on these and on the
adapters (moto with the offline runtime's custom model deployment patch), so they cannot drift.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from aiops.deploy.model import (
    ClaimOutcome,
    CustomModelDeploymentView,
    DeploymentRequest,
    PackageSpec,
    Served,
    ServedGood,
    ServingChange,
)
from aiops.verdicts import GateVerdict


class NotFound(LookupError):
    """What the adapters' ResourceNotFoundException is here."""


class Refused(ValueError):
    """What the adapters' ValidationException is here."""


class MemoryDeployments:
    """Custom model deployments; `finish` ends a creation or update as Bedrock would."""

    def __init__(self, custom_models: set[str] | None = None) -> None:
        self.custom_models: set[str] = set(custom_models or ())
        self.by_arn: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, str] = {}
        self.calls: list[tuple[str, str, str]] = []

    def _find(self, identifier: str) -> dict[str, Any] | None:
        if identifier in self.by_arn:
            return self.by_arn[identifier]
        return next((d for d in self.by_arn.values() if d["name"] == identifier), None)

    def get(self, name: str) -> CustomModelDeploymentView | None:
        found = self._find(name)
        return None if found is None else CustomModelDeploymentView(**copy.deepcopy(found))

    def create(self, name: str, model_arn: str, tags: dict[str, str], token: str) -> str:
        if token in self.tokens:
            return self.tokens[token]
        if model_arn not in self.custom_models:
            raise NotFound(f"Custom model {model_arn} not found")
        if self._find(name) is not None:
            raise Refused(f"A custom model deployment named {name} already exists")
        arn = (
            "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/"
            f"{len(self.by_arn):012d}"
        )
        self.by_arn[arn] = {
            "arn": arn,
            "name": name,
            "model_arn": model_arn,
            "status": "Creating",
            "tags": dict(tags),
        }
        self.tokens[token] = arn
        self.calls.append(("create", name, model_arn))
        return arn

    def update(self, identifier: str, model_arn: str) -> None:
        found = self._find(identifier)
        if found is None:
            raise NotFound(f"Custom model deployment {identifier} not found")
        if model_arn not in self.custom_models:
            raise NotFound(f"Custom model {model_arn} not found")
        if found["status"] != "Active" or found.get("update_status") == "Updating":
            raise Refused(f"Custom model deployment {identifier} is not Active")
        found["update_model_arn"] = model_arn
        found["update_status"] = "Updating"
        self.calls.append(("update", found["name"], model_arn))

    def finish(self, name: str, failure: str | None = None) -> None:
        found = self._find(name)
        assert found is not None
        if found["status"] == "Creating":
            found["status"] = "Failed" if failure else "Active"
        elif failure:
            found["update_status"] = "UpdateFailed"
        else:
            found["update_status"] = "UpdateCompleted"
            found["model_arn"] = found["update_model_arn"]
        if failure:
            found["failure_message"] = failure


class MemoryParameters:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def put(self, name: str, value: str) -> None:
        self.values[name] = value


class MemoryServingStore:
    """The model's lock (as DynamoDeployStore keeps it) and its serving history."""

    def __init__(self) -> None:
        self.locks: dict[str, dict[str, Any]] = {}
        self.served_by: dict[str, Served] = {}
        self.goods: dict[str, dict[int, ServedGood]] = {}
        self.flights: dict[str, ServingChange] = {}

    # ------------------------------------------------------------------ DeployLocks
    def claim(self, request: DeploymentRequest, now: datetime, lease: timedelta) -> ClaimOutcome:
        me = request.deployment_id
        lock = self.locks.setdefault(request.endpoint, {})
        holder = lock.get("holder")
        expired = bool(holder) and lock["expires_at"] < now
        waiting: DeploymentRequest | None = lock.get("waiting")
        if not holder or expired or holder == me:
            keep = waiting if waiting is not None and waiting.deployment_id != me else None
            self.locks[request.endpoint] = {
                "holder": me,
                "expires_at": now + lease,
                "waiting": keep,
            }
            return ClaimOutcome(acquired=True, holder=me)
        if waiting is not None and waiting.version >= request.version:
            superseded = request if waiting.deployment_id != me else None
            return ClaimOutcome(
                acquired=False, holder=holder, queued=superseded is None, superseded=superseded
            )
        lock["waiting"] = request
        return ClaimOutcome(acquired=False, holder=holder, queued=True, superseded=waiting)

    def release(
        self, endpoint: str, deployment_id: str, now: datetime, lease: timedelta
    ) -> DeploymentRequest | None:
        lock = self.locks.get(endpoint)
        if not lock:
            return None
        if lock.get("holder") != deployment_id:
            if lock.get("handed_over_by") == deployment_id and lock.get("holder_request"):
                return lock["holder_request"]
            return None
        waiting = lock.get("waiting")
        if waiting is None:
            self.locks[endpoint] = {"released_by": deployment_id}
        else:
            self.locks[endpoint] = {
                "holder": waiting.deployment_id,
                "holder_request": waiting,
                "handed_over_by": deployment_id,
                "expires_at": now + lease,
            }
        return waiting

    def holder(self, endpoint: str, now: datetime) -> str | None:
        lock = self.locks.get(endpoint) or {}
        if not lock.get("holder") or lock["expires_at"] < now:
            return None
        return str(lock["holder"])

    def waiting(self, endpoint: str) -> DeploymentRequest | None:
        return (self.locks.get(endpoint) or {}).get("waiting")

    # ------------------------------------------------------------------ ServingHistory
    def served(self, model: str) -> Served | None:
        return self.served_by.get(model)

    def known_goods(self, model: str) -> list[ServedGood]:
        goods = list(self.goods.get(model, {}).values())
        return sorted(goods, key=lambda g: (g.promoted_at, g.version), reverse=True)

    def begin(self, change: ServingChange) -> None:
        self.flights[change.request.model] = change

    def in_flight(self, model: str) -> ServingChange | None:
        return self.flights.get(model)

    def promote(self, served: Served, good: ServedGood) -> None:
        self.served_by[served.model] = served
        self.goods.setdefault(served.model, {})[good.version] = good

    def end(self, model: str, deployment_id: str) -> None:
        flight = self.flights.get(model)
        if flight is not None and flight.request.deployment_id == deployment_id:
            del self.flights[model]

    def roll_back(
        self, current: Served | None, to: Served, revoke_version: int, reason: str
    ) -> bool:
        if self.served_by.get(to.model) != current:
            return False
        self.served_by[to.model] = to
        goods = self.goods.get(to.model, {})
        if revoke_version in goods:
            goods[revoke_version] = goods[revoke_version].model_copy(
                update={"revoked": reason[:500]}
            )
        return True

    def applied(self, model: str, version: int) -> None:
        served = self.served_by.get(model)
        if served is not None and served.version == version:
            self.served_by[model] = served.model_copy(update={"applied": True})


class MemoryPackages:
    def __init__(self) -> None:
        self.specs: dict[str, PackageSpec] = {}

    def spec(self, package_arn: str) -> PackageSpec | None:
        return self.specs.get(package_arn)

    def mark(self, package_arn: str, marks: dict[str, str]) -> None:
        spec = self.specs[package_arn]
        self.specs[package_arn] = spec.model_copy(update={"marks": {**spec.marks, **marks}})


class MemoryVerdicts:
    def __init__(self) -> None:
        self.verdicts: dict[str, GateVerdict] = {}

    def record(self, verdict: GateVerdict) -> None:
        self.verdicts[verdict.package_arn] = verdict

    def get(self, package_arn: str) -> GateVerdict | None:
        return self.verdicts.get(package_arn)


class RecordingDeployStarter:
    def __init__(self) -> None:
        self.started: list[DeploymentRequest] = []

    def start(self, request: DeploymentRequest) -> str | None:
        if any(r.execution_name == request.execution_name for r in self.started):
            return None
        self.started.append(request)
        return (
            "arn:aws:states:us-east-1:123456789012:execution:aiops-dev-deploy:"
            f"{request.execution_name}"
        )


class NoHumanApprovals:
    def outcome(self, model: str, version: int) -> str | None:
        return None
