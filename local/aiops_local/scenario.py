"""Scenarios: a YAML story of steps run against a fresh LocalCloud (format: scenarios/README.md)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from botocore.exceptions import ClientError

from aiops.base_models import RecordFormat
from aiops.policy import PolicyError, parse_policy
from aiops.units import duration_seconds
from aiops_local import labels_data, operator_steps
from aiops_local.actors import on_behalf_of_scenario
from aiops_local.approver import Approver, NoSuchLink
from aiops_local.cloud import LocalCloud
from aiops_local.datasets import DatasetSpec
from aiops_local.expect import check
from aiops_local.simulators import cost_anomaly, spend_alarms
from aiops_local.simulators.ground_truth import (
    GroundTruthSimulator,
    input_manifest,
    support_questions,
)
from aiops_local.simulators.model_monitor import ModelMonitorSimulator

# Cost signals: `_cost_step`.
_COST_STEPS = ("cost_anomaly", "token_usage", "endpoint_invocations", "spend_alarm")
# What people and other teams do: `operator_steps`.
_OPERATOR_STEPS = ("resume", "scalable_target")
STEP_KINDS = (
    "event",
    "put_object",
    "put_dataset",
    "put_labels",
    "labeling_job",
    "monitoring_execution",
    "advance",
    "register",
    "approve",
    "reject",
    "open_link",
    "decide",
    "alarm",
    "configure",
    "expect",
    "run",
    *_COST_STEPS,
    *_OPERATOR_STEPS,
)

_PUT_DATASET_KEYS = frozenset(
    {"bucket", "key", "count", "rows", "seed", "format", "shift", "missing"}
)
_PUT_LABELS_KEYS = frozenset(
    {"bucket", "key", "records", "bad_share", "kinds", "format", "seed", "count", "after"}
)
# Bounds of a put_labels step: a labeled batch is a file a person uploads, not a data lake.
_MAX_LABEL_RECORDS = 100_000
_MAX_LABEL_OBJECTS = 1_000
_MAX_LABEL_SEED = 1_000_000


class ScenarioError(ValueError):
    """The scenario file itself is wrong (not the system under test)."""


@dataclass
class Step:
    index: int
    kind: str
    arg: Any

    def describe(self) -> str:
        if isinstance(self.arg, (dict, list)):
            text = json.dumps(self.arg, default=str)
            return f"{self.kind} {text[:100]}{'…' if len(text) > 100 else ''}"
        return f"{self.kind} {self.arg}"


@dataclass
class Scenario:
    path: Path
    name: str
    description: str
    template: Path
    policy: Path | None
    start: datetime | None
    simulators: dict[str, dict[str, Any]]
    steps: list[Step] = field(default_factory=list)
    # The template's parameters (e.g. PolicyStore: appconfig); the others keep their defaults.
    parameters: dict[str, str] = field(default_factory=dict)


@dataclass
class StepResult:
    step: Step
    failures: list[str]


def _resolve(path_text: str, base: Path) -> Path:
    """Paths in a scenario are relative to the scenario's directory, else to the working one."""
    path = Path(path_text)
    if path.is_absolute():
        return path
    for root in (base, Path.cwd()):
        if (root / path).exists():
            return root / path
    return Path.cwd() / path


def find_project_file(name: str, start: Path | None = None) -> Path:
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / name).exists():
            return directory / name
    return Path.cwd() / name


def load_scenario(path: Path) -> Scenario:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ScenarioError(f"{path}: {error}") from error
    except RecursionError as error:  # the YAML parser recurses once per nesting level
        raise ScenarioError(f"{path}: nested too deeply to be a scenario") from error
    if not isinstance(document, dict):
        raise ScenarioError(f"{path}: a scenario is a mapping with `steps`")
    unknown = set(document) - {
        "name",
        "description",
        "template",
        "policy",
        "start",
        "simulators",
        "steps",
        "parameters",
    }
    if unknown:
        raise ScenarioError(f"{path}: unknown keys {sorted(unknown)}")
    parameters = document.get("parameters") or {}
    if not isinstance(parameters, dict) or not all(
        isinstance(k, str) and isinstance(v, str | int | float) and not isinstance(v, bool)
        for k, v in parameters.items()
    ):
        raise ScenarioError(
            f"{path}: parameters: a mapping of the template's parameter names to values"
        )
    base = path.parent
    template = (
        _resolve(document["template"], base)
        if document.get("template")
        else find_project_file("template.yaml", base)
    )
    start = document.get("start")
    if isinstance(start, str):
        start = datetime.fromisoformat(start.replace("Z", "+00:00"))
    scenario = Scenario(
        path=path,
        name=str(document.get("name", path.stem)),
        description=str(document.get("description", "")).strip(),
        template=template,
        policy=_resolve(document["policy"], base) if document.get("policy") else None,
        start=start,
        simulators=document.get("simulators") or {},
        parameters={name: str(value) for name, value in parameters.items()},
    )
    for index, raw in enumerate(document.get("steps") or [], start=1):
        if not isinstance(raw, dict) or len(raw) != 1:
            raise ScenarioError(
                f"{path}: step {index} must be a mapping with one key, one of "
                f"{', '.join(STEP_KINDS)}"
            )
        ((kind, arg),) = raw.items()
        if kind not in STEP_KINDS:
            raise ScenarioError(
                f"{path}: step {index}: unknown step {kind!r}; steps are {', '.join(STEP_KINDS)}"
            )
        scenario.steps.append(Step(index, kind, arg))
    if not scenario.steps:
        raise ScenarioError(f"{path}: no steps")
    return scenario


def cloud_for(scenario: Scenario) -> LocalCloud:
    """A fresh offline cloud set up as the scenario says (template and its parameters, policy,
    start, simulators)."""
    return LocalCloud(
        scenario.template,
        policy=scenario.policy,
        parameters=scenario.parameters or None,
        start=scenario.start,
        simulators=scenario.simulators,
    )


def load_events(path: Path) -> list[dict[str, Any]]:
    """One event, or a list of events, from a JSON file."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ScenarioError(f"{path}: {error}") from error
    except RecursionError:  # json's parser recurses once per nested array or object
        raise ScenarioError(f"{path}: not an event: JSON nested too deeply to read") from None
    events = document if isinstance(document, list) else [document]
    if not all(isinstance(e, dict) for e in events):
        raise ScenarioError(f"{path}: an event is a JSON object")
    return events


class ScenarioRunner:
    def __init__(
        self, scenario: Scenario, cloud: LocalCloud, on_step: Callable[[Step], None] | None = None
    ) -> None:
        self.scenario = scenario
        self.cloud = cloud
        self._on_step = on_step
        self._person: Approver | None = None

    def run(self, after_step: Callable[[StepResult], None] | None = None) -> list[StepResult]:
        """Run every step; stops at the first failed expectation. Returns the results."""
        results: list[StepResult] = []
        for step in self.scenario.steps:
            if self._on_step is not None:
                self._on_step(step)
            # The step's own actions (an upload, an event, an alarm) are the user's; the cloud
            # running until quiet after them is not (see `LocalCloud.run_until_quiet`).
            with on_behalf_of_scenario():
                failures = self._run_step(step)
            result = StepResult(step, failures)
            results.append(result)
            if after_step is not None:
                after_step(result)
            if failures:
                break
        return results

    def _run_step(self, step: Step) -> list[str]:
        cloud = self.cloud
        arg = step.arg
        where = f"step {step.index} ({step.kind})"
        if step.kind == "expect":
            if not isinstance(arg, dict):
                raise ScenarioError(f"{where}: expect takes a mapping")
            return check(cloud, arg)
        if step.kind == "advance":
            try:
                cloud.advance(duration_seconds(arg))
            except ValueError as error:
                raise ScenarioError(f"{where}: {error}") from error
            return []
        if step.kind == "event":
            for event in self._events(arg, where):
                cloud.send_event(event)
        elif step.kind == "put_object":
            for put in _each(arg):
                self._put_object(put, where)
            if all(isinstance(put, dict) and "after" in put for put in _each(arg)):
                return []  # scheduled for later: the next steps run until then
        elif step.kind == "put_dataset":
            for put in _each(arg):
                self._put_dataset(put, where)
        elif step.kind == "put_labels":
            labels = [_labels_spec(put, where, self.cloud) for put in _each(arg)]
            for put, spec in labels:
                self._put_labels(put, spec)
            if all("after" in put for put, _ in labels):
                return []  # scheduled for later: the next steps run until then
        elif step.kind == "labeling_job":
            if _labeling_job(cloud, arg, where):
                return []  # scheduled for later: the next steps run until then
        elif step.kind == "monitoring_execution":
            self._monitoring_execution(arg, where)
        elif step.kind == "register":
            if not isinstance(arg, dict) or "group" not in arg:
                raise ScenarioError(f"{where}: register takes {{group[, description]}}")
            cloud.register_package(str(arg["group"]), str(arg.get("description", "")))
        elif step.kind in ("approve", "reject"):
            self._approval("Approved" if step.kind == "approve" else "Rejected", arg, where)
        elif step.kind in ("open_link", "decide"):
            failures = self._page(step.kind, arg, where)
            cloud.run_until_quiet()
            return failures
        elif step.kind == "alarm":
            if not isinstance(arg, dict) or "name" not in arg or "state" not in arg:
                raise ScenarioError(f"{where}: alarm takes {{name, state[, reason, after]}}")
            name, state = str(arg["name"]), str(arg["state"])
            reason = str(arg.get("reason", ""))
            if "after" in arg:
                # Later in virtual time (e.g. during a bake that the next steps start).
                cloud.agenda.after(
                    duration_seconds(str(arg["after"])),
                    f"alarm {name} → {state}",
                    lambda: cloud.set_alarm(name, state, reason),
                )
                return []
            cloud.set_alarm(name, state, reason)
        elif step.kind == "configure":
            self._configure(arg, where)
        elif step.kind in _COST_STEPS and _cost_step(cloud, step.kind, arg, where):
            return []  # scheduled for later: the next steps run until then
        elif step.kind in _OPERATOR_STEPS:
            try:
                if step.kind == "resume":
                    operator_steps.resume(cloud, arg)
                else:
                    operator_steps.scalable_target(cloud, arg)
            except ClientError as error:
                raise ScenarioError(f"{where}: {error}") from None
            except ValueError as error:
                raise ScenarioError(f"{where}: {error}") from None
        # step.kind == "run" only lets the cloud settle.
        cloud.run_until_quiet()
        return []

    def _monitoring_execution(self, arg: Any, where: str) -> None:
        if not isinstance(arg, dict):
            raise ScenarioError(
                f"{where}: monitoring_execution takes {{endpoint[, schedule, violations, "
                f"report, status]}}"
            )
        monitor = self.cloud.simulators.get("model_monitor")
        if not isinstance(monitor, ModelMonitorSimulator):
            raise ScenarioError(f"{where}: the model_monitor simulator is not running")
        try:
            monitor.execute(arg)
        except ValueError as error:
            raise ScenarioError(f"{where}: {error}") from error

    def _approval(self, status: str, arg: Any, where: str) -> None:
        ref: Any = arg if isinstance(arg, str) else None
        description: Any = ""
        by: Any = None
        if isinstance(arg, dict):
            ref, description, by = arg.get("package"), arg.get("description", ""), arg.get("by")
        if not ref:
            raise ScenarioError(f"{where}: name the package: group, group/version or ARN")
        try:
            self.cloud.set_approval(str(ref), status, str(description or ""), by and str(by))
        except LookupError as error:
            raise ScenarioError(f"{where}: {error}") from error

    def _page(self, kind: str, arg: Any, where: str) -> list[str]:
        """A person opens the approval link mailed to them (and, for `decide`, posts the form):
        `{to, model, version, decision, comment, status, contains, link}`."""
        keys = {"to", "model", "version", "status", "contains", "link"}
        if kind == "decide":
            keys |= {"decision", "comment"}
        if not isinstance(arg, dict) or "to" not in arg or set(arg) - keys:
            raise ScenarioError(f"{where}: {kind} takes {{{', '.join(sorted(keys))}}} with `to`")
        if kind == "decide" and arg.get("decision") not in ("approve", "reject"):
            raise ScenarioError(f"{where}: decide needs decision: approve | reject")
        if self._person is None:
            self._person = Approver(self.cloud)
        person = self._person
        try:
            path = (
                str(arg["link"])
                if arg.get("link")
                else person.link(str(arg["to"]), arg.get("model"), arg.get("version"))
            )
        except NoSuchLink as error:
            return [str(error)]
        response = (
            person.decide(path, str(arg["decision"]), str(arg.get("comment", "")))
            if kind == "decide"
            else person.open(path)
        )
        failures: list[str] = []
        if "status" in arg and response.status != int(arg["status"]):
            failures.append(f"page answered {response.status}, expected {arg['status']}")
        wanted = arg.get("contains") or []
        for text in [wanted] if isinstance(wanted, str) else wanted:
            if str(text) not in response.text:
                failures.append(f"page does not say {text!r}")
        return failures

    def _configure(self, arg: Any, where: str) -> None:
        if not isinstance(arg, dict):
            raise ScenarioError(f"{where}: configure takes {{simulator: settings}}")
        for name, settings in arg.items():
            try:
                self.cloud.configure_simulator(name, settings or {})
            except ValueError as error:
                raise ScenarioError(f"{where}: {error}") from error

    def _events(self, arg: Any, where: str) -> list[dict[str, Any]]:
        if isinstance(arg, str):
            return load_events(_resolve(arg, self.scenario.path.parent))
        if isinstance(arg, dict) and "file" in arg:
            events = load_events(_resolve(arg["file"], self.scenario.path.parent))
            overrides = arg.get("set") or {}
            return [_merge(e, overrides) for e in events]
        if isinstance(arg, dict):
            return [arg]
        raise ScenarioError(f"{where}: event takes a file path, {{file, set}} or an event")

    def _put_object(self, put: Any, where: str) -> None:
        if not isinstance(put, dict) or "key" not in put:
            raise ScenarioError(f"{where}: put_object takes {{bucket, key, size | body[, count]}}")
        body = put.get("body")
        if body is not None and not isinstance(body, str):
            body = json.dumps(body)
        data = None if body is None else body.encode()
        if "after" in put:
            # Later in virtual time: uploads that arrive while a run or a deployment goes on.
            self.cloud.agenda.after(
                duration_seconds(str(put["after"])),
                f"put_object {put['key']}",
                lambda: self._put_numbered(put, lambda n: data, size=int(put.get("size", 0))),
            )
            return
        self._put_numbered(put, lambda n: data, size=int(put.get("size", 0)))

    def _put_numbered(
        self, put: dict[str, Any], body: Callable[[int], bytes | None], size: int = 0
    ) -> None:
        """`PutObject` of objects 1..count (`{n}` in the key), as S3 clients would write them."""
        bucket = str(put.get("bucket", "TrainingDataBucket"))
        count = int(put.get("count", 1))
        for n in range(1, count + 1):
            key = str(put["key"]).replace("{n}", str(n))
            self.cloud.put_object(bucket, key, body=body(n), size=size)

    def _put_dataset(self, put: Any, where: str) -> None:
        if not isinstance(put, dict) or "key" not in put:
            raise ScenarioError(
                f"{where}: put_dataset takes {{bucket, key, count, rows, seed, format, shift}}"
            )
        unknown = set(put) - _PUT_DATASET_KEYS
        if unknown:
            raise ScenarioError(f"{where}: put_dataset: unknown keys {sorted(unknown)}")
        try:
            spec = DatasetSpec.from_step(put)
        except ValueError as error:
            raise ScenarioError(f"{where}: put_dataset: {error}") from error
        now = self.cloud.clock.now()
        self._put_numbered(put, lambda n: spec.render(n, now))

    def _put_labels(self, put: dict[str, Any], spec: LabelsSpec) -> None:
        """Labeled JSONL objects 1..count through `put_object`'s path; object n has records of
        its own (seed·1000 + n)."""

        def body(n: int) -> bytes:
            return labels_data.labeled_records(
                spec.format, spec.records, spec.bad_share, spec.kinds, spec.seed * 1000 + n
            )

        if "after" in put:
            self.cloud.agenda.after(
                spec.after,
                f"put_labels {put['key']}",
                lambda: self._put_numbered(put, body),
            )
            return
        self._put_numbered(put, body)


@dataclass(frozen=True)
class LabelsSpec:
    """A put_labels step's arguments, checked."""

    format: RecordFormat
    records: int
    bad_share: float
    kinds: tuple[str, ...] | None
    seed: int
    after: float


def _labels_spec(put: Any, where: str, cloud: LocalCloud) -> tuple[dict[str, Any], LabelsSpec]:
    """`put_labels`'s arguments checked, each error naming its field (the file is wrong: exit 2)."""
    usage = f"{where}: put_labels takes {{{', '.join(sorted(_PUT_LABELS_KEYS))}}} with `key`"
    if not isinstance(put, dict) or not isinstance(put.get("key"), str) or not put["key"]:
        raise ScenarioError(usage)
    unknown = set(put) - _PUT_LABELS_KEYS
    if unknown:
        raise ScenarioError(f"{where}: put_labels: unknown keys {sorted(unknown)}; {usage}")

    def integer(name: str, default: int, low: int, high: int) -> int:
        value = put.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ScenarioError(
                f"{where}: put_labels: {name} must be a whole number from {low} to {high}, "
                f"not {value!r}"
            )
        return value

    records = integer("records", 100, 1, _MAX_LABEL_RECORDS)
    integer("count", 1, 1, _MAX_LABEL_OBJECTS)
    seed = integer("seed", 0, 0, _MAX_LABEL_SEED)
    bad_share = put.get("bad_share", 0.0)
    if (
        isinstance(bad_share, bool)
        or not isinstance(bad_share, int | float)
        or not 0 <= bad_share <= 1  # NaN fails this too
    ):
        raise ScenarioError(
            f"{where}: put_labels: bad_share must be a number from 0 to 1, not {bad_share!r}"
        )
    if "bucket" in put and (not isinstance(put["bucket"], str) or not put["bucket"]):
        raise ScenarioError(f"{where}: put_labels: bucket is a logical id or a bucket name")
    if "format" in put:
        try:
            fmt = RecordFormat(put["format"])
        except ValueError:
            known = ", ".join(f.value for f in RecordFormat)
            raise ScenarioError(
                f"{where}: put_labels: format must be one of {known}, not {put['format']!r}"
            ) from None
    else:
        fmt = _labels_format(str(put["key"]), where, cloud)
    kinds = put.get("kinds")
    if kinds is not None:
        known_kinds = (*labels_data.BAD_KINDS[fmt], *labels_data.EXTRA_KINDS)
        if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) for k in kinds):
            raise ScenarioError(f"{where}: put_labels: kinds is a list of kinds of bad record")
        wrong = [k for k in kinds if k not in known_kinds]
        if wrong:
            raise ScenarioError(
                f"{where}: put_labels: kinds {wrong} are not kinds of bad {fmt.value} record; "
                f"known: {', '.join(known_kinds)}"
            )
    after = 0.0
    if "after" in put:
        try:
            after = duration_seconds(put["after"])
        except ValueError as error:
            raise ScenarioError(f"{where}: put_labels: after: {error}") from None
        if not 0 <= after <= 365 * 86400:
            raise ScenarioError(f"{where}: put_labels: after must be between 0s and 365d")
    spec = LabelsSpec(
        format=fmt,
        records=records,
        bad_share=float(bad_share),
        kinds=tuple(kinds) if kinds is not None else None,
        seed=seed,
        after=after,
    )
    return put, spec


def _labels_format(key: str, where: str, cloud: LocalCloud) -> RecordFormat:
    """The record format of the base model of the policy's Bedrock model whose `labels.prefix`
    holds the key."""
    try:
        policy = parse_policy(cloud.policy.text)
    except PolicyError as error:
        raise ScenarioError(
            f"{where}: put_labels: format: not given, and the policy cannot say it: {error}"
        ) from None
    example = key.replace("{n}", "1")
    for model in policy.bedrock_models().values():
        if example.startswith(model.labels.prefix):
            return model.base_model_spec.format
    raise ScenarioError(
        f"{where}: put_labels: format: not given, and no Bedrock model's labels.prefix in the "
        f"policy holds {key!r}; name the format"
    )


def _cost_step(cloud: LocalCloud, kind: str, arg: Any, where: str) -> bool:
    """A cost signal: an anomaly Cost Anomaly Detection reports, usage that Bedrock or SageMaker
    meter into CloudWatch, or a spend alarm on that usage (see scenarios/README.md). True when
    scheduled for later (`after`)."""
    simulator = cloud.simulators.get("spend_alarms")
    if kind != "cost_anomaly" and not isinstance(simulator, spend_alarms.SpendAlarmSimulator):
        raise ScenarioError(f"{where}: the spend_alarms simulator is not running")
    try:
        if kind == "cost_anomaly":
            anomaly = cost_anomaly.parse_cost_anomaly(arg)
            cost_anomaly.check_start(anomaly, cloud.clock.now().date())

            def deliver() -> None:
                for _ in range(anomaly.repeat):
                    today = cloud.clock.now().date()
                    cloud.send_event(
                        cost_anomaly.anomaly_event(
                            anomaly, account=cloud.account, region=cloud.region, today=today
                        )
                    )

            if anomaly.after is not None:
                cloud.agenda.after(anomaly.after, f"cost_anomaly {anomaly.service}", deliver)
                return True
            deliver()
            return False
        if kind == "spend_alarm":
            alarm = spend_alarms.spend_alarm(arg)
            cloud.client("cloudwatch").put_metric_alarm(**alarm.put_metric_alarm_args())
            return False
        if kind == "token_usage":
            usage = spend_alarms.token_usage(arg)
        else:
            usage = spend_alarms.endpoint_invocations(arg)
    except ClientError as error:
        raise ScenarioError(f"{where}: {kind}: {error}") from None
    except ValueError as error:
        raise ScenarioError(f"{where}: {error}") from None
    assert isinstance(simulator, spend_alarms.SpendAlarmSimulator)  # checked above
    simulator.start_usage(usage)
    return usage.after is not None


def _each(arg: Any) -> list[Any]:
    """A step's argument that may be one item or a list of them, as a list."""
    return arg if isinstance(arg, list) else [arg]


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# ---------------------------------------------------------------------- labeling_job
_LABELING_JOB_KEYS = frozenset(
    {
        "name",
        "bucket",
        "output_prefix",
        "label_attribute",
        "records",
        "blank_share",
        "seed",
        "tags",
        "duration",
        "outcome",
        "failure_reason",
        "after",
    }
)
# CreateLabelingJob's patterns for the job's name and its label attribute.
_LABELING_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
_LABEL_ATTRIBUTE = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,126}")
_DEFAULT_LABELING_TAGS = {"aiops:model": "support-assistant"}


def _labeling_job(cloud: LocalCloud, arg: Any, where: str) -> bool:
    """A person creates a Ground Truth labeling job in the console: uploads the input manifest
    of customer questions, then CreateLabelingJob (a custom text workflow answered by a private
    team); the `ground_truth` simulator completes it in virtual time. True when scheduled for
    later (`after`)."""
    usage = f"{where}: labeling_job takes {{{', '.join(sorted(_LABELING_JOB_KEYS))}}} with `name`"
    if not isinstance(arg, dict):
        raise ScenarioError(usage)
    unknown = set(arg) - _LABELING_JOB_KEYS
    if unknown:
        raise ScenarioError(f"{where}: labeling_job: unknown keys {sorted(unknown)}; {usage}")

    def fail(field_name: str, why: str) -> ScenarioError:
        return ScenarioError(f"{where}: labeling_job: {field_name} {why}")

    name = arg.get("name")
    if not isinstance(name, str) or _LABELING_NAME.fullmatch(name) is None:
        raise fail(
            "name",
            f"must be 1 to 63 letters, digits and hyphens, starting and ending with a letter or "
            f"digit, not {name!r}",
        )
    bucket = arg.get("bucket", "LabeledDataBucket")
    if not isinstance(bucket, str) or not bucket:
        raise fail("bucket", "is a logical id or a bucket name")
    prefix = arg.get("output_prefix", "ground-truth/")
    if not isinstance(prefix, str) or prefix.startswith("/") or len(prefix) > 512:
        raise fail("output_prefix", f"is an S3 key prefix such as ground-truth/, not {prefix!r}")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    attribute = arg.get("label_attribute", "answer")
    if (
        not isinstance(attribute, str)
        or _LABEL_ATTRIBUTE.fullmatch(attribute) is None
        or "-metadata" in attribute
        or attribute.endswith("-ref")
    ):
        raise fail(
            "label_attribute",
            "must be 1 to 127 letters, digits and hyphens, without '-metadata' and not ending "
            f"in '-ref', not {attribute!r}",
        )

    def integer(field_name: str, default: int, high: int, low: int = 0) -> int:
        value = arg.get(field_name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise fail(field_name, f"must be a whole number from {low} to {high}, not {value!r}")
        return value

    records = integer("records", 100, _MAX_LABEL_RECORDS, low=1)
    seed = integer("seed", 0, _MAX_LABEL_SEED)
    tags = arg.get("tags", _DEFAULT_LABELING_TAGS)
    if (
        not isinstance(tags, dict)
        or len(tags) > 50
        or not all(isinstance(k, str) and 1 <= len(k) <= 128 for k in tags)
        or not all(isinstance(v, str) and len(v) <= 256 for v in tags.values())
    ):
        raise fail("tags", "is a mapping of at most 50 tags, key (1-128 chars): value (text)")
    settings = {
        key: arg[key]
        for key in ("duration", "outcome", "failure_reason", "blank_share")
        if key in arg
    }
    simulator = cloud.simulators.get("ground_truth")
    if not isinstance(simulator, GroundTruthSimulator):
        raise ScenarioError(f"{where}: the ground_truth simulator is not running")
    try:
        simulator.plan(name, settings)  # checks them, naming the field
    except ValueError as error:
        raise ScenarioError(f"{where}: labeling_job: {error}") from None
    after = 0.0
    if "after" in arg:
        try:
            after = duration_seconds(arg["after"])
        except (TypeError, ValueError) as error:
            raise fail("after", f": {error}") from None
        if not 0 <= after <= 365 * 86400:
            raise fail("after", "must be between 0s and 365d")
    job = _LabelingJobRequest(name, bucket, prefix, attribute, records, seed, dict(tags))
    if "after" in arg:

        def later() -> None:
            try:
                job.create(cloud)
            except ClientError as error:
                cloud.timeline.add(
                    "error", f"labeling job {name} not created: {error}", error="LabelingJob"
                )

        cloud.agenda.after(after, f"labeling_job {name}", later)
        return True
    try:
        job.create(cloud)
    except ClientError as error:
        raise ScenarioError(f"{where}: labeling_job: {error}") from None
    return False


@dataclass(frozen=True)
class _LabelingJobRequest:
    name: str
    bucket: str
    prefix: str
    attribute: str
    records: int
    seed: int
    tags: dict[str, str]

    def create(self, cloud: LocalCloud) -> str:
        """Upload the input manifest, then CreateLabelingJob; the job's ARN."""
        account, region = cloud.account, cloud.region
        bucket = cloud.bucket(self.bucket)
        manifest_key = f"{self.prefix}input/{self.name}.manifest"
        cloud.put_object(
            bucket,
            manifest_key,
            input_manifest(support_questions(self.records, self.seed)),
            content_type="application/jsonlines",
        )
        lambdas = f"arn:aws:lambda:{region}:{account}:function"
        response = cloud.client("sagemaker").create_labeling_job(
            LabelingJobName=self.name,
            LabelAttributeName=self.attribute,
            InputConfig={
                "DataSource": {"S3DataSource": {"ManifestS3Uri": f"s3://{bucket}/{manifest_key}"}},
                "DataAttributes": {
                    "ContentClassifiers": ["FreeOfPersonallyIdentifiableInformation"]
                },
            },
            OutputConfig={"S3OutputPath": f"s3://{bucket}/{self.prefix}"},
            RoleArn=f"arn:aws:iam::{account}:role/aiops-local-ground-truth",
            HumanTaskConfig={
                "WorkteamArn": f"arn:aws:sagemaker:{region}:{account}:workteam/private-crowd/"
                "support-labelers",
                "UiConfig": {
                    "UiTemplateS3Uri": f"s3://{bucket}/{self.prefix}templates/answer.liquid.html"
                },
                "PreHumanTaskLambdaArn": f"{lambdas}:aiops-local-gt-pre-annotation",
                "TaskTitle": "Answer a customer's question",
                "TaskDescription": "Write the answer a support agent should give.",
                "NumberOfHumanWorkersPerDataObject": 1,
                "TaskTimeLimitInSeconds": 600,
                "TaskAvailabilityLifetimeInSeconds": 864000,
                "MaxConcurrentTaskCount": 1000,
                "AnnotationConsolidationConfig": {
                    "AnnotationConsolidationLambdaArn": f"{lambdas}:aiops-local-gt-consolidation"
                },
            },
            Tags=[{"Key": k, "Value": v} for k, v in self.tags.items()],
        )
        return str(response["LabelingJobArn"])
