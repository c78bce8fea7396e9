"""AWS AppConfig deployments and the AppConfig Data API offline.

moto 5.2.5 keeps applications, configuration profiles and hosted configuration versions, and has
no environments, deployment strategies or deployments, nor the data plane (AppConfig Data, its
own endpoint) at all. `install` adds them, with their state on moto's AppConfig backend
(`aiops_*` attributes, so it goes with the backend when moto is reset):

- AppConfig: Create/Get/ListEnvironments (with `Monitors`), Create/Get/ListDeploymentStrategies
  (and AWS's predefined `AppConfig.*` strategies), StartDeployment, Get/List/StopDeployment,
  ValidateConfiguration, ListApplications.
- AppConfig Data: StartConfigurationSession, GetLatestConfiguration.

What the calls do, as the AppConfig API reference and user guide ("Understanding validators",
"Monitoring deployments for automatic rollback", "Retrieving the configuration") describe:

- StartDeployment (and ValidateConfiguration) run the profile's LAMBDA validators first, with
  AppConfig's event (`applicationId`, `configurationProfileId`, `configurationVersion`, `content`
  in base64, `uri`), through moto's Lambda backend (offline: the function's own handler). A
  function error refuses the deployment: BadRequestException, `Reason: InvalidConfiguration`,
  the function's error in `Details.InvalidConfiguration`; nothing changes, the previous version
  stays served. JSON_SCHEMA validators are not run offline. One deployment at a time per
  environment (ConflictException).
- A deployment is DEPLOYING for `DeploymentDurationInMinutes` (its share growing by
  `GrowthFactor` per step, LINEAR or EXPONENTIAL), then BAKING for `FinalBakeTimeInMinutes`,
  then COMPLETE. While it deploys or bakes, the environment's monitors are read: an alarm in
  ALARM, or one entering INSUFFICIENT_DATA, rolls it back (ROLLED_BACK, the previous version
  served again); alarms whose actions are disabled are ignored, as AppConfig ignores them.
  StopDeployment rolls back one in progress, or reverts a completed one with `AllowRevert`.
- StartConfigurationSession (application, environment and profile by id or name) returns a
  token; GetLatestConfiguration accepts each token once (a used or unknown one is
  BadRequestException) and returns the next one with the configuration served to that session,
  empty when the session has it already. While a LINEAR or EXPONENTIAL deployment grows, a
  session gets the new version once its share (a hash of the session) is within
  `PercentageComplete`. Before any deployment: ResourceNotFoundException (the reference does not
  name the error; this is the closest one it lists).

Time is the offline runtime's clock. Deployments move whenever they are read and, given the
runtime's `agenda`, at each minute of virtual time (when the monitors are read) until they end.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import math
import re
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import moto.appconfig.urls as appconfig_urls
import moto.backend_index as backend_index
from moto.appconfig.models import AppConfigBackend, appconfig_backends
from moto.appconfig.responses import AppConfigResponse
from moto.cloudwatch.models import cloudwatch_backends
from moto.core.exceptions import JsonRESTError
from moto.core.responses import BaseResponse
from moto.moto_api._internal import mock_random

from aiops_local.alarm_notifications import alarm_name
from aiops_local.clock import current_clock
from aiops_local.patches.base import Patcher

DATA_URL_BASE = r"https?://appconfigdata\.(.+)\.amazonaws\.com"
IN_PROGRESS = ("DEPLOYING", "BAKING", "VALIDATING", "ROLLING_BACK")
SERVED = ("DEPLOYING", "BAKING", "COMPLETE")
MAX_MONITORS = 5
MONITOR_EVERY = timedelta(minutes=1)
TOKEN_LIFETIME = timedelta(hours=24)
DEFAULT_POLL_SECONDS = 60
# AWS's predefined strategies (AppConfig User Guide, "Predefined deployment strategies").
PREDEFINED_STRATEGIES: dict[str, dict[str, Any]] = {
    "AppConfig.AllAtOnce": {"duration": 0, "growth": 100.0, "type": "LINEAR", "bake": 10},
    "AppConfig.Linear50PercentEvery30Seconds": {
        "duration": 1,
        "growth": 50.0,
        "type": "LINEAR",
        "bake": 1,
    },
    "AppConfig.Linear20PercentEvery6Minutes": {
        "duration": 30,
        "growth": 20.0,
        "type": "LINEAR",
        "bake": 30,
    },
    "AppConfig.Canary10Percent20Minutes": {
        "duration": 20,
        "growth": 10.0,
        "type": "EXPONENTIAL",
        "bake": 10,
    },
}
_lock = threading.RLock()

Agenda = Any  # aiops_local.agenda.Agenda: `at(epoch_seconds, description, action)`


# ---------------------------------------------------------------------- errors
class _Error(JsonRESTError):
    def __init__(self, code: int, error_type: str, message: str, **extra: Any) -> None:
        super().__init__(error_type, message)
        self.code = code
        body = {"__type": error_type, "message": message, "Message": message, **extra}
        self.description = json.dumps(body)


def not_found(message: str) -> _Error:
    return _Error(404, "ResourceNotFoundException", message)


def bad_request(message: str, **extra: Any) -> _Error:
    return _Error(400, "BadRequestException", message, **extra)


def conflict(message: str) -> _Error:
    return _Error(409, "ConflictException", message)


def now() -> datetime:
    clock = current_clock()
    return clock.now() if clock is not None else datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------------- the state
class _State:
    """What moto's AppConfig backend lacks: environments, strategies, deployments, sessions."""

    def __init__(self) -> None:
        self.environments: dict[str, dict[str, dict[str, Any]]] = {}  # app → env id → env
        self.strategies: dict[str, dict[str, Any]] = {}
        self.deployments: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (app, env) → list
        self.sessions: dict[str, dict[str, Any]] = {}  # live token → session


def state(backend: AppConfigBackend) -> _State:
    found = getattr(backend, "aiops_state", None)
    if not isinstance(found, _State):
        found = _State()
        backend.aiops_state = found  # type: ignore[attr-defined]
    return found


def _backend(account: str, region: str) -> AppConfigBackend:
    return appconfig_backends[account][region]


def _application(backend: AppConfigBackend, identifier: str) -> Any:
    if identifier in backend.applications:
        return backend.applications[identifier]
    for app in backend.applications.values():
        if app.name == identifier:
            return app
    raise not_found(f"Application {identifier} not found")


def _environment(backend: AppConfigBackend, app_id: str, identifier: str) -> dict[str, Any]:
    environments = state(backend).environments.get(app_id, {})
    if identifier in environments:
        return environments[identifier]
    for environment in environments.values():
        if environment["Name"] == identifier:
            return environment
    raise not_found(f"Environment {identifier} not found in application {app_id}")


def _profile(app: Any, identifier: str) -> Any:
    if identifier in app.config_profiles:
        return app.config_profiles[identifier]
    for profile in app.config_profiles.values():
        if profile.name == identifier:
            return profile
    raise not_found(f"Configuration profile {identifier} not found in application {app.id}")


def _strategy(backend: AppConfigBackend, identifier: str) -> dict[str, Any]:
    strategies = state(backend).strategies
    if identifier in strategies:
        return strategies[identifier]
    for strategy in strategies.values():
        if strategy["Name"] == identifier:
            return strategy
    predefined = PREDEFINED_STRATEGIES.get(identifier)
    if predefined is not None:
        return {
            "Id": identifier,
            "Name": identifier,
            "DeploymentDurationInMinutes": predefined["duration"],
            "GrowthFactor": predefined["growth"],
            "GrowthType": predefined["type"],
            "FinalBakeTimeInMinutes": predefined["bake"],
            "ReplicateTo": "NONE",
        }
    raise not_found(f"Deployment strategy {identifier} not found")


def _new_id() -> str:
    return str(mock_random.get_random_hex(7))


# ---------------------------------------------------------------------- deployments in time
def _percentage(deployment: dict[str, Any], elapsed: timedelta) -> float:
    """The share of targets a deployment has reached `elapsed` after it started."""
    minutes = float(deployment["DeploymentDurationInMinutes"])
    growth = float(deployment["GrowthFactor"])
    if minutes <= 0 or elapsed >= timedelta(minutes=minutes):
        return 100.0
    if deployment["GrowthType"] == "EXPONENTIAL":
        steps = max(1, math.ceil(math.log2(100.0 / growth)) + 1)
    else:
        steps = max(1, math.ceil(100.0 / growth))
    step = int(elapsed / (timedelta(minutes=minutes) / steps))
    if deployment["GrowthType"] == "EXPONENTIAL":
        return float(min(100.0, growth * 2**step))
    return float(min(100.0, growth * (step + 1)))


def _event(
    deployment: dict[str, Any], kind: str, by: str, description: str, when: datetime
) -> None:
    # The reference lists events most recent first.
    deployment["EventLog"].insert(
        0,
        {"EventType": kind, "TriggeredBy": by, "Description": description, "OccurredAt": when},
    )


def _alarm_states(
    account: str, region: str, monitors: list[dict[str, Any]]
) -> dict[str, tuple[str, bool]]:
    """Each monitor's alarm (by ARN) → (its state, whether its actions are enabled); alarms that
    do not exist are left out."""
    alarms = cloudwatch_backends[account][region].alarms
    found: dict[str, tuple[str, bool]] = {}
    for monitor in monitors:
        arn = str(monitor.get("AlarmArn", ""))
        alarm = alarms.get(alarm_name(arn))
        if alarm is not None:
            found[arn] = (str(alarm.state_value), bool(alarm.actions_enabled))
    return found


def _firing(deployment: dict[str, Any], states: dict[str, tuple[str, bool]]) -> str | None:
    for arn, (value, actions_enabled) in states.items():
        if not actions_enabled:
            continue
        entering = value == "INSUFFICIENT_DATA" and arn not in deployment["aiops_insufficient"]
        if value == "ALARM" or entering:
            return arn
    return None


def _roll_back(deployment: dict[str, Any], when: datetime, by: str, description: str) -> None:
    deployment["State"] = "ROLLED_BACK"
    deployment["PercentageComplete"] = 0.0
    _event(deployment, "ROLLBACK_STARTED", by, description, when)
    _event(deployment, "ROLLBACK_COMPLETED", "APPCONFIG", "Rollback completed", when)
    deployment["CompletedAt"] = when


def _advance(account: str, region: str, deployment: dict[str, Any], when: datetime) -> None:
    """Bring a deployment in progress up to `when`: its share, bake, completion, or rollback by
    a monitor (read now, while it still deploys or bakes)."""
    if deployment["State"] not in IN_PROGRESS:
        return
    started: datetime = deployment["StartedAt"]
    deployed_at = started + timedelta(minutes=float(deployment["DeploymentDurationInMinutes"]))
    baked_at = deployed_at + timedelta(minutes=float(deployment["FinalBakeTimeInMinutes"]))
    if when < baked_at:
        firing = _firing(deployment, _alarm_states(account, region, deployment["aiops_monitors"]))
        if firing is not None:
            _roll_back(
                deployment,
                when,
                "CLOUDWATCH_ALARM",
                f"Rollback initiated by CloudWatch alarm: {firing}",
            )
            return
    percentage = _percentage(deployment, when - started)
    if percentage != deployment["PercentageComplete"]:
        deployment["PercentageComplete"] = percentage
        _event(
            deployment,
            "PERCENTAGE_UPDATED",
            "APPCONFIG",
            f"Deployment is {percentage:g}% complete",
            min(when, deployed_at),
        )
    if when < deployed_at:
        return
    if deployment["State"] == "DEPLOYING" and deployment["FinalBakeTimeInMinutes"]:
        deployment["State"] = "BAKING"
        _event(deployment, "BAKE_TIME_STARTED", "APPCONFIG", "Bake time started", deployed_at)
    if when >= baked_at:
        deployment["State"] = "COMPLETE"
        deployment["CompletedAt"] = baked_at
        _event(deployment, "DEPLOYMENT_COMPLETED", "APPCONFIG", "Deployment completed", baked_at)


def advance_all(account: str, region: str, when: datetime | None = None) -> None:
    """Every deployment of the account and region in progress, brought up to `when` (now)."""
    moment = when or now()
    with _lock:
        for deployments in state(_backend(account, region)).deployments.values():
            for deployment in deployments:
                _advance(account, region, deployment, moment)


def _watch(agenda: Agenda, account: str, region: str, key: tuple[str, str], number: int) -> None:
    """Read the deployment (and its monitors) at each minute of virtual time until it ends."""

    def tick() -> None:
        with _lock:
            deployments = state(_backend(account, region)).deployments.get(key, [])
            deployment = next((d for d in deployments if d["DeploymentNumber"] == number), None)
            if deployment is None:
                return
            moment = now()
            _advance(account, region, deployment, moment)
            if deployment["State"] not in IN_PROGRESS:
                return
            started: datetime = deployment["StartedAt"]
            end = started + timedelta(
                minutes=float(deployment["DeploymentDurationInMinutes"])
                + float(deployment["FinalBakeTimeInMinutes"])
            )
            following = min(moment + MONITOR_EVERY, end)
        agenda.at(
            following.timestamp(),
            f"appconfig deployment {number} of {key[0]}/{key[1]}",
            tick,
        )

    agenda.at(
        (now() + MONITOR_EVERY).timestamp(), f"appconfig deployment {number} of {key[0]}", tick
    )


# ---------------------------------------------------------------------- validators
def _content(version: Any) -> bytes:
    content = version.content
    return content.encode("utf-8") if isinstance(content, str) else bytes(content or b"")


def _validate(account: str, region: str, app: Any, profile: Any, number: int) -> None:
    """Run the profile's LAMBDA validators on hosted version `number`; BadRequestException
    (InvalidConfiguration) naming the first that refuses it."""
    from moto.awslambda.models import lambda_backends

    version = profile.get_version(number)
    event = {
        "applicationId": app.id,
        "configurationProfileId": profile.id,
        "configurationVersion": str(number),
        "content": base64.b64encode(_content(version)).decode("ascii"),
        "uri": profile.location_uri,
    }
    for validator in profile.validators or []:
        if validator.get("Type") != "LAMBDA":
            continue
        function = str(validator.get("Content", ""))
        headers: dict[str, Any] = {}
        try:
            payload = lambda_backends[account][region].invoke(
                function, None, json.dumps(event), {}, headers
            )
        except Exception as error:  # noqa: BLE001 - any failure to run it refuses the version
            _refuse(function, f"the validator could not be invoked: {error}")
        if "x-amz-function-error" in headers:
            _refuse(function, _error_message(payload))


def _error_message(payload: Any) -> str:
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
    try:
        report = json.loads(text)
    except ValueError:
        return text[:1024]
    if isinstance(report, dict) and "errorMessage" in report:
        kind = report.get("errorType")
        return f"{kind}: {report['errorMessage']}"[:1024] if kind else str(report["errorMessage"])
    return text[:1024]


def _refuse(function: str, reason: str) -> None:
    raise bad_request(
        f"Configuration failed validation by {function}: {reason}",
        Reason="InvalidConfiguration",
        Details={
            "InvalidConfiguration": [
                {"Type": "LAMBDA", "Location": function, "Reason": reason, "Value": reason}
            ]
        },
    )


# ---------------------------------------------------------------------- the AppConfig API
def _params(response: BaseResponse) -> dict[str, Any]:
    try:
        body = json.loads(response.body or "{}")
    except ValueError:
        body = {}
    return body if isinstance(body, dict) else {}


def _shape(item: dict[str, Any]) -> dict[str, Any]:
    return {
        k: _iso(v) if isinstance(v, datetime) else _shape_value(v)
        for k, v in item.items()
        if not k.startswith("aiops_")
    }


def _shape_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_shape(v) if isinstance(v, dict) else v for v in value]
    return copy.deepcopy(value)


def _json(item: Any, status: int = 200) -> tuple[str, dict[str, Any]]:
    return json.dumps(item), {"status": status, "Content-Type": "application/json"}


def _where(response: AppConfigResponse) -> tuple[str, str, AppConfigBackend]:
    account, region = response.current_account, response.region
    return account, region, _backend(account, region)


def _list_applications(self: AppConfigResponse) -> Any:
    """A page of applications, as AppConfig gives them: `MaxResults` (1-50, default 50) and a
    `NextToken` while more remain."""
    _, _, backend = _where(self)
    size = int(self._get_param("max_results") or self._get_param("MaxResults") or 50)
    if not 1 <= size <= 50:
        raise bad_request("MaxResults: 1 to 50")
    token = self._get_param("next_token") or self._get_param("NextToken") or "0"
    start = int(token) if str(token).isdigit() else 0
    items = [a.to_json() for a in backend.applications.values()]
    page: dict[str, Any] = {"Items": items[start : start + size]}
    if start + size < len(items):
        page["NextToken"] = str(start + size)
    return _json(page)


def _create_environment(self: AppConfigResponse) -> Any:
    _, _, backend = _where(self)
    params = _params(self)
    app = _application(backend, self._get_param("ApplicationId"))
    name = params.get("Name")
    if not isinstance(name, str) or not 1 <= len(name) <= 64:
        raise bad_request("Name: 1 to 64 characters")
    monitors = params.get("Monitors") or []
    if len(monitors) > MAX_MONITORS or not all(m.get("AlarmArn") for m in monitors):
        raise bad_request(f"Monitors: at most {MAX_MONITORS}, each with an AlarmArn")
    with _lock:
        environments = state(backend).environments.setdefault(app.id, {})
        if any(e["Name"] == name for e in environments.values()):
            raise conflict(f"Environment {name} already exists in application {app.id}")
        environment = {
            "ApplicationId": app.id,
            "Id": _new_id(),
            "Name": name,
            "Description": params.get("Description", ""),
            "State": "READY_FOR_DEPLOYMENT",
            "Monitors": monitors,
        }
        environments[environment["Id"]] = environment
    return _json(_shape(environment), 201)


def _get_environment(self: AppConfigResponse) -> Any:
    account, region, backend = _where(self)
    app = _application(backend, self._get_param("ApplicationId"))
    environment = _environment(backend, app.id, self._get_param("EnvironmentId"))
    advance_all(account, region)
    return _json(_shape(environment))


def _list_environments(self: AppConfigResponse) -> Any:
    account, region, backend = _where(self)
    app = _application(backend, self._get_param("ApplicationId"))
    advance_all(account, region)
    items = state(backend).environments.get(app.id, {}).values()
    return _json({"Items": [_shape(e) for e in items]})


def _create_deployment_strategy(self: AppConfigResponse) -> Any:
    _, _, backend = _where(self)
    params = _params(self)
    name = params.get("Name")
    duration = params.get("DeploymentDurationInMinutes")
    growth = params.get("GrowthFactor")
    bake = params.get("FinalBakeTimeInMinutes", 0)
    growth_type = params.get("GrowthType", "LINEAR")
    if not isinstance(name, str) or not 1 <= len(name) <= 64:
        raise bad_request("Name: 1 to 64 characters")
    if not isinstance(duration, int) or not 0 <= duration <= 1440:
        raise bad_request("DeploymentDurationInMinutes: 0 to 1440")
    if not isinstance(growth, int | float) or not 1.0 <= float(growth) <= 100.0:
        raise bad_request("GrowthFactor: 1.0 to 100.0")
    if not isinstance(bake, int) or not 0 <= bake <= 1440:
        raise bad_request("FinalBakeTimeInMinutes: 0 to 1440")
    if growth_type not in ("LINEAR", "EXPONENTIAL"):
        raise bad_request("GrowthType: LINEAR or EXPONENTIAL")
    strategy = {
        "Id": _new_id(),
        "Name": name,
        "Description": params.get("Description", ""),
        "DeploymentDurationInMinutes": duration,
        "GrowthType": growth_type,
        "GrowthFactor": float(growth),
        "FinalBakeTimeInMinutes": bake,
        "ReplicateTo": params.get("ReplicateTo", "NONE"),
    }
    with _lock:
        state(backend).strategies[strategy["Id"]] = strategy
    return _json(strategy, 201)


def _get_deployment_strategy(self: AppConfigResponse) -> Any:
    _, _, backend = _where(self)
    return _json(_strategy(backend, self._get_param("DeploymentStrategyId")))


def _list_deployment_strategies(self: AppConfigResponse) -> Any:
    _, _, backend = _where(self)
    items = [_strategy(backend, s) for s in PREDEFINED_STRATEGIES]
    return _json({"Items": items + list(state(backend).strategies.values())})


def _validate_configuration(self: AppConfigResponse) -> Any:
    account, region, backend = _where(self)
    app = _application(backend, self._get_param("ApplicationId"))
    profile = _profile(app, self._get_param("ConfigurationProfileId"))
    version = self.querystring.get("configuration_version", [""])[0]
    if not str(version).isdigit():
        raise bad_request("ConfigurationVersion: a hosted configuration version number")
    _validate(account, region, app, profile, int(version))
    return "", {"status": 204}


def start_deployment(
    account: str,
    region: str,
    application: str,
    environment_id: str,
    params: dict[str, Any],
    agenda: Agenda | None = None,
) -> dict[str, Any]:
    """StartDeployment: validators, then a deployment in progress (or already complete)."""
    backend = _backend(account, region)
    app = _application(backend, application)
    environment = _environment(backend, app.id, environment_id)
    profile = _profile(app, str(params.get("ConfigurationProfileId", "")))
    number = str(params.get("ConfigurationVersion", ""))
    if not number.isdigit():
        raise bad_request("ConfigurationVersion: a hosted configuration version number")
    version = profile.get_version(int(number))
    strategy = _strategy(backend, str(params.get("DeploymentStrategyId", "")))
    key = (app.id, environment["Id"])
    _check_idle(account, region, key)
    _validate(account, region, app, profile, int(number))
    when = now()
    with _lock:
        _check_idle(account, region, key)
        deployments = state(backend).deployments.setdefault(key, [])
        monitors = copy.deepcopy(environment["Monitors"])
        alarms = _alarm_states(account, region, monitors)
        deployment: dict[str, Any] = {
            "ApplicationId": app.id,
            "EnvironmentId": environment["Id"],
            "DeploymentStrategyId": strategy["Id"],
            "ConfigurationProfileId": profile.id,
            "DeploymentNumber": len(deployments) + 1,
            "ConfigurationName": profile.name,
            "ConfigurationLocationUri": profile.location_uri,
            "ConfigurationVersion": number,
            "Description": params.get("Description", ""),
            "DeploymentDurationInMinutes": strategy["DeploymentDurationInMinutes"],
            "GrowthType": strategy["GrowthType"],
            "GrowthFactor": strategy["GrowthFactor"],
            "FinalBakeTimeInMinutes": strategy["FinalBakeTimeInMinutes"],
            "State": "DEPLOYING",
            "EventLog": [],
            "PercentageComplete": 0.0,
            "StartedAt": when,
            "VersionLabel": version.version_label or "",
            "aiops_content": _content(version),
            "aiops_content_type": version.content_type or "application/octet-stream",
            "aiops_monitors": monitors,
            "aiops_insufficient": {a for a, (s, _) in alarms.items() if s == "INSUFFICIENT_DATA"},
        }
        _event(deployment, "DEPLOYMENT_STARTED", "USER", "Deployment started", when)
        deployments.append(deployment)
        _advance(account, region, deployment, when)
        shaped = _shape(deployment)
    if agenda is not None and deployment["State"] in IN_PROGRESS:
        _watch(agenda, account, region, key, deployment["DeploymentNumber"])
    return shaped


def _check_idle(account: str, region: str, key: tuple[str, str]) -> None:
    with _lock:
        for deployment in state(_backend(account, region)).deployments.get(key, []):
            _advance(account, region, deployment, now())
            if deployment["State"] in IN_PROGRESS:
                raise conflict(
                    f"Deployment {deployment['DeploymentNumber']} is in progress in environment "
                    f"{key[1]}: one deployment at a time"
                )


def _deployment(backend: AppConfigBackend, key: tuple[str, str], number: Any) -> dict[str, Any]:
    for deployment in state(backend).deployments.get(key, []):
        if str(deployment["DeploymentNumber"]) == str(number):
            return deployment
    raise not_found(f"Deployment {number} not found in environment {key[1]}")


def _key(self: AppConfigResponse, backend: AppConfigBackend) -> tuple[str, str]:
    app = _application(backend, self._get_param("ApplicationId"))
    return app.id, _environment(backend, app.id, self._get_param("EnvironmentId"))["Id"]


def _get_deployment(self: AppConfigResponse) -> Any:
    account, region, backend = _where(self)
    key = _key(self, backend)
    with _lock:
        deployment = _deployment(backend, key, self._get_param("DeploymentNumber"))
        _advance(account, region, deployment, now())
        return _json(_shape(deployment))


def _list_deployments(self: AppConfigResponse) -> Any:
    account, region, backend = _where(self)
    key = _key(self, backend)
    advance_all(account, region)
    summary = (
        "DeploymentNumber",
        "ConfigurationName",
        "ConfigurationVersion",
        "DeploymentDurationInMinutes",
        "GrowthType",
        "GrowthFactor",
        "FinalBakeTimeInMinutes",
        "State",
        "PercentageComplete",
        "StartedAt",
        "CompletedAt",
        "VersionLabel",
    )
    with _lock:
        items = [
            {k: v for k, v in _shape(d).items() if k in summary}
            for d in reversed(state(backend).deployments.get(key, []))
        ]
    return _json({"Items": items})


def _stop_deployment(self: AppConfigResponse) -> Any:
    account, region, backend = _where(self)
    key = _key(self, backend)
    allow_revert = str(self.headers.get("Allow-Revert", "")).lower() == "true"
    with _lock:
        deployment = _deployment(backend, key, self._get_param("DeploymentNumber"))
        when = now()
        _advance(account, region, deployment, when)
        if deployment["State"] in IN_PROGRESS:
            _roll_back(deployment, when, "USER", "Rollback initiated by StopDeployment")
        elif deployment["State"] == "COMPLETE" and allow_revert:
            deployment["State"] = "REVERTED"
            _event(deployment, "REVERT_COMPLETED", "USER", "Reverted by StopDeployment", when)
        else:
            raise bad_request(
                f"Deployment {deployment['DeploymentNumber']} is {deployment['State']}: "
                "only a deployment in progress stops (a completed one reverts with AllowRevert)"
            )
        return _json(_shape(deployment), 202)


def _installable_start(agenda: Agenda | None) -> Callable[[AppConfigResponse], Any]:
    def _start_deployment(self: AppConfigResponse) -> Any:
        account, region, backend = _where(self)
        app = _application(backend, self._get_param("ApplicationId"))
        shaped = start_deployment(
            account, region, app.id, self._get_param("EnvironmentId"), _params(self), agenda
        )
        return _json(shaped, 201)

    return _start_deployment


# ---------------------------------------------------------------------- AppConfig Data
def served(
    account: str, region: str, key: tuple[str, str], profile_id: str, share: float
) -> dict[str, Any] | None:
    """The deployment whose version a session at `share` (0-100) of the environment gets."""
    backend = _backend(account, region)
    with _lock:
        deployments = [
            d
            for d in state(backend).deployments.get(key, [])
            if d["ConfigurationProfileId"] == profile_id
        ]
        for deployment in deployments:
            _advance(account, region, deployment, now())
        for deployment in reversed(deployments):
            if deployment["State"] not in SERVED:
                continue
            if deployment["State"] == "DEPLOYING" and share >= deployment["PercentageComplete"]:
                continue  # not this session's turn yet: the version before serves it
            return deployment
    return None


class AppConfigDataResponse(BaseResponse):
    """The AppConfig Data API (its own endpoint), answered from the AppConfig backend."""

    def __init__(self) -> None:
        super().__init__(service_name="appconfigdata")

    def start_configuration_session(self) -> Any:
        backend = _backend(self.current_account, self.region)
        params = _params(self)
        app = _application(backend, str(params.get("ApplicationIdentifier", "")))
        environment = _environment(backend, app.id, str(params.get("EnvironmentIdentifier", "")))
        profile = _profile(app, str(params.get("ConfigurationProfileIdentifier", "")))
        poll = params.get("RequiredMinimumPollIntervalInSeconds")
        if poll is not None and (not isinstance(poll, int) or not 15 <= poll <= 86400):
            raise bad_request("RequiredMinimumPollIntervalInSeconds: 15 to 86400")
        session = {
            "id": secrets.token_hex(8),
            "key": (app.id, environment["Id"]),
            "profile": profile.id,
            "poll": poll or DEFAULT_POLL_SECONDS,
            "has": None,
        }
        token = self._issue(backend, session)
        return _json({"InitialConfigurationToken": token}, 201)

    def get_latest_configuration(self) -> Any:
        backend = _backend(self.current_account, self.region)
        token = self.querystring.get("configuration_token", [""])[0]
        with _lock:
            session = state(backend).sessions.pop(token, None)
        if session is None or session["expires"] < now():
            raise bad_request("ConfigurationToken: not a live token (each is used once)")
        share = int(hashlib.sha256(session["id"].encode()).hexdigest()[:8], 16) % 10000 / 100
        deployment = served(
            self.current_account, self.region, session["key"], session["profile"], share
        )
        if deployment is None:
            raise not_found(
                f"Deployed configuration not found: nothing is deployed of profile "
                f"{session['profile']} in environment {session['key'][1]}"
            )
        identity = (deployment["ApplicationId"], deployment["DeploymentNumber"])
        headers: dict[str, Any] = {
            "status": 200,
            "Next-Poll-Configuration-Token": self._issue(backend, session),
            "Next-Poll-Interval-In-Seconds": str(session["poll"]),
            "Content-Type": deployment["aiops_content_type"],
        }
        if session["has"] == identity:
            return b"", headers
        session["has"] = identity
        if deployment["VersionLabel"]:
            headers["Version-Label"] = deployment["VersionLabel"]
        return deployment["aiops_content"], headers

    @staticmethod
    def _issue(backend: AppConfigBackend, session: dict[str, Any]) -> str:
        token = secrets.token_urlsafe(32)
        session["expires"] = now() + TOKEN_LIFETIME
        with _lock:
            state(backend).sessions[token] = session
        return token


# ---------------------------------------------------------------------- install
_PATHS = {
    "{0}/applications/(?P<app_id>[^/]+)/environments$": AppConfigResponse.dispatch,
    "{0}/applications/(?P<app_id>[^/]+)/environments/(?P<env_id>[^/]+)$": (
        AppConfigResponse.dispatch
    ),
    "{0}/applications/(?P<app_id>[^/]+)/environments/(?P<env_id>[^/]+)/deployments$": (
        AppConfigResponse.dispatch
    ),
    "{0}/applications/(?P<app_id>[^/]+)/environments/(?P<env_id>[^/]+)/deployments/(?P<n>[^/]+)$": (
        AppConfigResponse.dispatch
    ),
    "{0}/applications/(?P<app_id>[^/]+)/configurationprofiles/(?P<cp_id>[^/]+)/validators$": (
        AppConfigResponse.dispatch
    ),
    "{0}/deploymentstrategies$": AppConfigResponse.dispatch,
    "{0}/deploymentstrategies/(?P<strategy_id>[^/]+)$": AppConfigResponse.dispatch,
    "{0}/configurationsessions$": AppConfigDataResponse.dispatch,
    "{0}/configuration$": AppConfigDataResponse.dispatch,
}


def install(patcher: Patcher, agenda: Agenda | None = None) -> None:
    """Add the missing AppConfig calls and the AppConfig Data endpoint to moto. With the offline
    runtime's `agenda`, deployments in progress are read at each minute of virtual time."""
    patcher.replace(appconfig_urls, "url_bases", [*appconfig_urls.url_bases, DATA_URL_BASE])
    patcher.replace(appconfig_urls, "url_paths", {**appconfig_urls.url_paths, **_PATHS})
    patcher.replace(
        backend_index,
        "backend_url_patterns",
        [("appconfig", re.compile(DATA_URL_BASE)), *backend_index.backend_url_patterns],
    )
    for name, method in (
        ("list_applications", _list_applications),
        ("create_environment", _create_environment),
        ("get_environment", _get_environment),
        ("list_environments", _list_environments),
        ("create_deployment_strategy", _create_deployment_strategy),
        ("get_deployment_strategy", _get_deployment_strategy),
        ("list_deployment_strategies", _list_deployment_strategies),
        ("validate_configuration", _validate_configuration),
        ("start_deployment", _installable_start(agenda)),
        ("get_deployment", _get_deployment),
        ("list_deployments", _list_deployments),
        ("stop_deployment", _stop_deployment),
    ):
        patcher.add(AppConfigResponse, name, method)
