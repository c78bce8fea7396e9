"""Bedrock custom model deployments in moto (5.2.5 raises NotImplementedError for all five calls).

`install` adds Create/Get/Update/List/DeleteCustomModelDeployment to moto's Bedrock API, with
the state in moto's Bedrock backend (`aiops_deployments`, by ARN), so it goes with the backend
when moto is reset. What the calls do, as the Bedrock API reference describes them:

- CreateCustomModelDeployment checks the name (`([0-9a-zA-Z][_-]?){1,63}`, unique in the
  account and region: ValidationException), the custom model (it must exist in moto's backend:
  ResourceNotFoundException) and the tags (at most 200); the same `clientRequestToken` again
  returns the same deployment. The deployment is `Creating`; its ARN ends in a 12-character id.
- GetCustomModelDeployment (by name or ARN) returns `customModelDeploymentArn`,
  `modelDeploymentName`, `modelArn`, `createdAt`, `status` (Creating | Active | Failed),
  `description`, `failureMessage`, `lastUpdatedAt` and, once the deployment was updated,
  `updateDetails {modelArn, updateStatus: Updating | UpdateCompleted | UpdateFailed}`.
- UpdateCustomModelDeployment keeps the ARN: `modelArn` stays the model serving requests while
  `updateDetails` shows the new one `Updating`; once the update completes the new model is
  `modelArn` (`UpdateCompleted`); a failed update leaves the old one serving (`UpdateFailed`).
  Refused (ValidationException) while the deployment is being created or updated, or when it is
  Failed; an unknown deployment or custom model is ResourceNotFoundException.
- ListCustomModelDeployments filters by `nameContains`, `statusEquals`, `modelArnEquals`,
  creation time, sorted by creation time; DeleteCustomModelDeployment removes one (not while it
  is being created or updated: ConflictException).

The simulator (`aiops_local.simulators.bedrock_deployment`) ends creations and updates in
virtual time through `finish_creation` and `finish_update`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from moto.bedrock.models import BedrockBackend, bedrock_backends
from moto.bedrock.responses import BedrockResponse

from aiops_local.clock import current_clock, iso
from aiops_local.patches.base import Patcher
from aiops_local.patches.bedrock_errors import (
    ConflictException,
    ResourceNotFoundException,
    ValidationException,
)

NAME = re.compile(r"([0-9a-zA-Z][_-]?){1,63}")
STATUSES = ("Creating", "Active", "Failed")
UPDATE_STATUSES = ("Updating", "UpdateCompleted", "UpdateFailed")
MAX_TAGS = 200
_lock = threading.Lock()


def now() -> datetime:
    clock = current_clock()
    return clock.now() if clock is not None else datetime.now(UTC)


# ---------------------------------------------------------------------- the state
def deployments(backend: BedrockBackend) -> dict[str, dict[str, Any]]:
    """The backend's custom model deployments by ARN (API shape, datetimes)."""
    found = getattr(backend, "aiops_deployments", None)
    if not isinstance(found, dict):
        found = {}
        backend.aiops_deployments = found  # type: ignore[attr-defined]
    return found


def _backend(account: str, region: str) -> BedrockBackend:
    return bedrock_backends[account][region]


def find(backend: BedrockBackend, identifier: str) -> dict[str, Any]:
    """A deployment by ARN or name, else ResourceNotFoundException."""
    table = deployments(backend)
    if identifier in table:
        return table[identifier]
    for deployment in table.values():
        if deployment["modelDeploymentName"] == identifier:
            return deployment
    raise ResourceNotFoundException(f"Custom model deployment {identifier} not found")


def _custom_model(backend: BedrockBackend, model_arn: str) -> None:
    if not any(m.model_arn == model_arn for m in backend.custom_models.values()):
        raise ResourceNotFoundException(f"Custom model {model_arn} not found")


def finish_creation(
    account: str, region: str, arn: str, when: datetime, failure: str | None = None
) -> dict[str, Any]:
    """A creation ends: `Active`, or `Failed` with `failure`."""
    with _lock:
        deployment = find(_backend(account, region), arn)
        if deployment["status"] != "Creating":
            raise ValueError(f"{arn} is {deployment['status']}, not Creating")
        deployment["status"] = "Failed" if failure else "Active"
        if failure:
            deployment["failureMessage"] = failure
        deployment["lastUpdatedAt"] = when
        return copy.deepcopy(deployment)


def finish_update(
    account: str, region: str, arn: str, when: datetime, failure: str | None = None
) -> dict[str, Any]:
    """An update ends: the new model serves (`UpdateCompleted`), or the old one still does
    (`UpdateFailed`, with `failure`)."""
    with _lock:
        deployment = find(_backend(account, region), arn)
        update = deployment.get("updateDetails") or {}
        if update.get("updateStatus") != "Updating":
            raise ValueError(f"{arn} has no update in progress")
        if failure:
            update["updateStatus"] = "UpdateFailed"
            deployment["failureMessage"] = failure
        else:
            update["updateStatus"] = "UpdateCompleted"
            deployment["modelArn"] = update["modelArn"]
            deployment.pop("failureMessage", None)
        deployment["lastUpdatedAt"] = when
        return copy.deepcopy(deployment)


# ---------------------------------------------------------------------- the API
def _identifier(response: BedrockResponse) -> str:
    return unquote(response.path.rstrip("/").split("/")[-1])


def _shape(deployment: dict[str, Any]) -> dict[str, Any]:
    body = {
        k: iso(v) if isinstance(v, datetime) else copy.deepcopy(v)
        for k, v in deployment.items()
        if not k.startswith("aiops_") and k not in ("tags", "clientRequestToken")
    }
    return body


def _create(self: BedrockResponse) -> str:
    params = json.loads(self.body or "{}")
    name = params.get("modelDeploymentName")
    model_arn = params.get("modelArn")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ValidationException(
            f"1 validation error detected: Value '{name}' at 'modelDeploymentName' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: "
            "([0-9a-zA-Z][_-]?){1,63}"
        )
    tags = params.get("tags") or []
    if len(tags) > MAX_TAGS:
        raise ValidationException("tags: Member must have length less than or equal to 200")
    backend = self.bedrock_backend
    token = params.get("clientRequestToken")
    with _lock:
        table = deployments(backend)
        for existing in table.values():
            if token and existing.get("clientRequestToken") == token:
                return json.dumps(
                    {"customModelDeploymentArn": existing["customModelDeploymentArn"]}
                )
            if existing["modelDeploymentName"] == name:
                raise ValidationException(
                    f"A custom model deployment named {name} already exists in this account "
                    "and Region"
                )
        _custom_model(backend, str(model_arn))
        seed = f"{self.current_account}/{self.region}/{name}/{len(table)}"
        ident = hashlib.sha256(seed.encode()).hexdigest()[:12]
        arn = (
            f"arn:aws:bedrock:{self.region}:{self.current_account}:custom-model-deployment/{ident}"
        )
        when = now()
        table[arn] = {
            "customModelDeploymentArn": arn,
            "modelDeploymentName": name,
            "modelArn": model_arn,
            "createdAt": when,
            "status": "Creating",
            "lastUpdatedAt": when,
            "tags": copy.deepcopy(tags),
            "clientRequestToken": token,
        }
        if params.get("description"):
            table[arn]["description"] = params["description"]
    return json.dumps({"customModelDeploymentArn": arn})


def _get(self: BedrockResponse) -> str:
    with _lock:
        deployment = find(self.bedrock_backend, _identifier(self))
        return json.dumps(_shape(deployment))


def _update(self: BedrockResponse) -> str:
    params = json.loads(self.body or "{}")
    model_arn = str(params.get("modelArn"))
    backend = self.bedrock_backend
    with _lock:
        deployment = find(backend, _identifier(self))
        _custom_model(backend, model_arn)
        arn = deployment["customModelDeploymentArn"]
        if deployment["status"] == "Creating":
            raise ValidationException(f"Custom model deployment {arn} is being created")
        if deployment["status"] == "Failed":
            raise ValidationException(f"Custom model deployment {arn} is Failed")
        if (deployment.get("updateDetails") or {}).get("updateStatus") == "Updating":
            raise ValidationException(f"Custom model deployment {arn} is being updated")
        deployment["updateDetails"] = {"modelArn": model_arn, "updateStatus": "Updating"}
        deployment["lastUpdatedAt"] = now()
    return json.dumps({"customModelDeploymentArn": arn})


def _list(self: BedrockResponse) -> str:
    query = self.querystring
    first = {k: v[0] for k, v in query.items() if v}
    with _lock:
        found = [copy.deepcopy(d) for d in deployments(self.bedrock_backend).values()]
    if "nameContains" in first:
        found = [d for d in found if first["nameContains"] in d["modelDeploymentName"]]
    if "statusEquals" in first:
        found = [d for d in found if d["status"] == first["statusEquals"]]
    if "modelArnEquals" in first:
        found = [d for d in found if d["modelArn"] == first["modelArnEquals"]]
    for key, keep in (
        ("createdAfter", lambda d, t: iso(d["createdAt"]) > t),
        ("createdBefore", lambda d, t: iso(d["createdAt"]) < t),
    ):
        if key in first:
            found = [d for d in found if keep(d, first[key])]
    found.sort(key=lambda d: d["createdAt"], reverse=first.get("sortOrder") == "Descending")
    start = int(first.get("nextToken", "0"))
    size = int(first.get("maxResults", "1000"))
    page = found[start : start + size]
    body: dict[str, Any] = {
        "modelDeploymentSummaries": [
            {
                "customModelDeploymentArn": d["customModelDeploymentArn"],
                "customModelDeploymentName": d["modelDeploymentName"],
                "modelArn": d["modelArn"],
                "createdAt": iso(d["createdAt"]),
                "status": d["status"],
                "lastUpdatedAt": iso(d["lastUpdatedAt"]),
                **({"failureMessage": d["failureMessage"]} if d.get("failureMessage") else {}),
            }
            for d in page
        ]
    }
    if start + size < len(found):
        body["nextToken"] = str(start + size)
    return json.dumps(body)


def _delete(self: BedrockResponse) -> str:
    backend = self.bedrock_backend
    with _lock:
        deployment = find(backend, _identifier(self))
        busy = deployment["status"] == "Creating" or (
            (deployment.get("updateDetails") or {}).get("updateStatus") == "Updating"
        )
        if busy:
            raise ConflictException(
                f"Custom model deployment {deployment['customModelDeploymentArn']} is being "
                "created or updated"
            )
        del deployments(backend)[deployment["customModelDeploymentArn"]]
    return "{}"


def install(patcher: Patcher) -> None:
    """Add the five custom model deployment calls to moto's Bedrock API."""
    patcher.add(BedrockResponse, "create_custom_model_deployment", _create)
    patcher.add(BedrockResponse, "get_custom_model_deployment", _get)
    patcher.add(BedrockResponse, "update_custom_model_deployment", _update)
    patcher.add(BedrockResponse, "list_custom_model_deployments", _list)
    patcher.add(BedrockResponse, "delete_custom_model_deployment", _delete)
