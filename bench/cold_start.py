"""Cold start of every function as Lambda runs it, as a ratio to a minimal boto3 handler.

Per function, in fresh interpreters, alternating with the minimal handler (same run, same load):

(a) **init**: importing the function's module with the environment Lambda gives it: the
    variables Lambda sets (`LAMBDA_TASK_ROOT`, `AWS_LAMBDA_FUNCTION_NAME`, `_HANDLER`, ...) and the
    function's own, resolved from template.yaml. The modules Lambda's Python runtime has imported
    before it imports the handler (`PRELOADED`) are imported first, untimed.
(b) **init + first invocation** against moto (a server in this process; before each sample it is
    emptied and given the template's resources, and whatever the event refers to), with the event
    from events/ and `_X_AMZN_TRACE_ID` set, as Lambda's runtime sets it per invocation.

The minimal handler imports boto3 at init; on its first invocation it creates the same clients and
makes the same AWS calls, with the same parameters, as the function made on its first invocation
(recorded in an untimed run against the same state). Its init is the floor of any boto3 handler,
and its first invocation the floor of those calls. Its own calls are recorded once too, and the
report says whether they were the same (service, operation, error code).

A third handler, measured in the same rotation for the functions with a first invocation, is the
minimal one written to this project's standards: settings as a pydantic model validated at init,
Powertools Logger and Metrics, the event parsed by a pydantic model. Its (b) ratio
(`required_libraries`) is the part of a function's (b) the required libraries take before any of
the function's own code.

Modules load from compiled bytecode, as they do from a layer that ships it. Targets: (a) <= 1.2x,
(b) <= 1.3x.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "aiops_core" / "python"
EVENTS = ROOT / "events"
TARGET_INIT = 1.2
TARGET_FIRST = 1.3
RUNS = 5
ACCOUNT = "123456789012"
REGION = "us-east-1"

# What Lambda's Python runtime (the bootstrap of awslambdaric, and its imports) has loaded before
# it imports the handler: already paid for every handler, so imported before the clock starts.
PRELOADED = (
    "decimal",
    "enum",
    "importlib",
    "json",
    "logging",
    "math",
    "time",
    "traceback",
)

# The variables Lambda sets in every function's environment (the function's own come from
# template.yaml). `_X_AMZN_TRACE_ID` is set per invocation, by the runtime, before the handler.
LAMBDA_ENV = {
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    "AWS_LAMBDA_LOG_FORMAT": "JSON",
    "AWS_LAMBDA_LOG_LEVEL": "INFO",
    "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    # Active tracing (Tracing: Active in the template's Globals).
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
    "_AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129",
    "_AWS_XRAY_DAEMON_PORT": "2000",
    "_HANDLER": "app.handler",
    "LAMBDA_RUNTIME_DIR": "/var/runtime",
    "LANG": "en_US.UTF-8",
    "TZ": ":UTC",
}
TRACE_ID = "Root=1-6925f0a1-3b9c2d7e4f1a5b6c7d8e9f01;Parent=53995c3f42cd8ad8;Sampled=1"

_PROBE = r"""
import sys
sys.path[:0] = {paths!r}
for _name in {preloaded!r}:
    __import__(_name)
import json, os, time
with open({event_file!r}) as _file:
    EVENT = json.load(_file)
{record}
class Context:
    function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:{region}:{account}:function:" + function_name
    memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
    aws_request_id = "6bc28136-a7bd-4a4b-b3b5-c6b1d8a5f0e2"
    log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
    log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
    def get_remaining_time_in_millis(self):
        return 30000
start = time.perf_counter()
import app
init = time.perf_counter() - start
first = None
outcome = None
if EVENT is not None:
    os.environ["_X_AMZN_TRACE_ID"] = {trace_id!r}
    start = time.perf_counter()
    outcome = app.handler(EVENT, Context())
    first = time.perf_counter() - start
sys.stdout.flush()
print("\n@@bench " + json.dumps({{"init": init, "first": first, "outcome": outcome}}, default=str))
{record_end}
"""

# Record mode only (untimed): every AWS call, its parameters and its error code, in call order.
_RECORD = r"""
import botocore.client
from botocore import xform_name
from botocore.exceptions import ClientError
CALLS = []
_make_api_call = botocore.client.BaseClient._make_api_call
def _recording(self, operation_name, api_params):
    call = {"service": self.meta.service_model.service_name,
            "operation": xform_name(operation_name), "params": api_params, "error": None}
    CALLS.append(call)
    body = api_params.get("Body")
    if hasattr(body, "read"):
        # A stream (an upload through s3transfer) is read once: kept as the bytes it sent.
        api_params["Body"] = body.read()
    try:
        return _make_api_call(self, operation_name, api_params)
    except ClientError as error:
        call["error"] = error.response.get("Error", {}).get("Code", "")
        raise
botocore.client.BaseClient._make_api_call = _recording
"""
_RECORD_END = r"""
from bench.cold_start import encode_calls
with open(os.environ["BENCH_RECORD"], "w") as _file:
    json.dump(encode_calls(CALLS), _file)
"""

# The floor: a hand-written handler making the given calls with plain boto3, clients created on
# first use. Its calls are its constants (read at init, as a module's literals would be).
_BASELINE = '''"""A minimal boto3 handler making the recorded AWS calls."""

import json
import os

import boto3


def _decode(value):
    if "__bytes__" in value:
        import base64

        return base64.b64decode(value["__bytes__"])
    if "__datetime__" in value:
        from datetime import datetime

        return datetime.fromisoformat(value["__datetime__"])
    return value


with open(os.environ["BENCH_CALLS"]) as _file:
    CALLS = json.load(_file, object_hook=_decode)
_clients = {}


def handler(event, context):
    for call in CALLS:
        client = _clients.get(call["service"])
        if client is None:
            client = _clients[call["service"]] = boto3.client(call["service"])
        try:
            getattr(client, call["operation"])(**call["params"])
        except client.exceptions.ClientError:
            pass  # the function met the same error (recorded) and handled it
    return {"calls": len(CALLS)}
'''


# The floor of a handler written to this project's standards: the minimal handler, plus what
# every one of ours must carry: settings as a pydantic model validated at init, Powertools Logger
# and Metrics, and the event parsed at the edge by a pydantic model. It shows how much of a
# function's ratio the required libraries alone take, measured in the same run.
_LIBRARIES = _BASELINE.replace(
    "import boto3\n",
    """import boto3
from aws_lambda_powertools import Logger, Metrics
from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    aws_region: str = Field(min_length=1)
    aws_lambda_function_name: str = Field(min_length=1)


class Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)
    id: str = Field(min_length=1, max_length=256)
    source: str = Field(max_length=256)
    detail_type: str = Field(alias="detail-type", max_length=256)


SETTINGS = Settings(**{k.lower(): v for k, v in os.environ.items()})
logger = Logger()
metrics = Metrics(namespace="bench")
""",
).replace(
    "def handler(event, context):\n",
    'def handler(event, context):\n    if isinstance(event, dict) and "detail-type" in event:\n'
    "        Envelope.model_validate(event)\n",
)
FLOORS = {"baseline": _BASELINE, "libraries": _LIBRARIES}


def encode_calls(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Recorded calls as JSON (bytes and datetimes tagged, so the minimal handler sends them
    as they were sent)."""

    def encode(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: encode(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [encode(v) for v in value]
        if isinstance(value, bytes | bytearray):
            return {"__bytes__": base64.b64encode(bytes(value)).decode()}
        if isinstance(value, datetime):
            return {"__datetime__": value.isoformat()}
        if isinstance(value, Decimal):
            return str(value)
        if hasattr(value, "getvalue"):
            return encode(value.getvalue())
        return value

    return [encode(call) for call in calls]


# ------------------------------------------------------------------ the first invocations
Clients = Callable[[str], Any]


@dataclass(frozen=True)
class FirstInvocation:
    """The event a function's first invocation gets, and what must exist for it to do its
    work (beyond the stack's resources): `prepare` may store objects and return the event."""

    event: str
    prepare: Callable[[Clients, dict[str, Any]], dict[str, Any]] | None = None


def _labeled_file(clients: Clients, event: dict[str, Any]) -> dict[str, Any]:
    # A labeler's file: good conversations and a few broken ones (quarantined and reported).
    from aiops.base_models import RecordFormat
    from aiops_local.labels_data import labeled_records

    body = labeled_records(RecordFormat.CONVERSATION, 200, bad_share=0.02, seed=13)
    return _put(clients, event, body)


def _put(clients: Clients, event: dict[str, Any], body: bytes) -> dict[str, Any]:
    detail = event["detail"]
    bucket, key = detail["bucket"]["name"], detail["object"]["key"]
    put = clients("s3").put_object(Bucket=bucket, Key=key, Body=body)
    detail["object"].update(size=len(body), etag=put["ETag"].strip('"'))
    if put.get("VersionId"):
        detail["object"]["version-id"] = put["VersionId"]
    return event


def _violations(clients: Clients, event: dict[str, Any]) -> dict[str, Any]:
    # Model Monitor's report of the three violations the event's exit message announces.
    uri = event["detail"]["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    report = {
        "violations": [
            {
                "feature_name": feature,
                "constraint_check_type": check,
                "description": f"{check} for {feature}",
            }
            for feature, check in (
                ("total_day_minutes", "baseline_drift_check"),
                ("total_eve_minutes", "baseline_drift_check"),
                ("state", "missing_column_check"),
            )
        ]
    }
    clients("s3").put_object(
        Bucket=bucket,
        Key=f"{prefix.rstrip('/')}/constraint_violations.json",
        Body=json.dumps(report).encode(),
    )
    return event


FIRST_INVOCATIONS: dict[str, FirstInvocation] = {
    "new_data": FirstInvocation("s3_object_created_training.json"),
    "labeled_data": FirstInvocation("s3_object_created_labeled.json", _labeled_file),
    "drift": FirstInvocation(
        "sagemaker_monitoring_job_completed_with_violations.json", _violations
    ),
    "cost_signal": FirstInvocation("cost_anomaly_detected.json"),
    "pipeline_status": FirstInvocation("sagemaker_pipeline_execution_succeeded.json"),
    "customization_status": FirstInvocation("bedrock_customization_job_completed.json"),
    "window_sweep": FirstInvocation("scheduled"),
    "rollback_alarm": FirstInvocation("cloudwatch_alarm_endpoint_5xx.json"),
}


# ------------------------------------------------------------------ the offline stack
class MotoStack:
    """A moto server in this process, reset and given the template's resources per sample
    (`parameters`: the template's, e.g. PolicyStore; `policy`: the policy file it serves)."""

    def __init__(
        self, parameters: dict[str, str] | None = None, policy: Path | None = None
    ) -> None:
        from moto.server import ThreadedMotoServer

        from aiops_local.patches.base import Patcher

        # Read at each `provision`: a caller may change them between samples.
        self.parameters = dict(parameters or {})
        self.policy = policy
        # What the template needs of moto beyond moto (the runtime's patches), installed before
        # the server builds its routes; undone by `stop`. The control plane's composite alarm;
        # with PolicyStore appconfig, AppConfig's deployments and data plane.
        self._patcher = Patcher()
        from aiops_local.patches import cloudwatch_composite

        cloudwatch_composite.install(self._patcher)
        if self.parameters.get("PolicyStore") == "appconfig":
            from aiops_local.patches import appconfig

            appconfig.install(self._patcher)

        # The server's request lines, and the SAM translator's note on its own metrics.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        logging.getLogger("samtranslator").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        self._clients: dict[str, Any] = {}
        self.functions = self.provision()

    def client(self, service: str) -> Any:
        if service not in self._clients:
            import boto3

            self._clients[service] = boto3.client(
                service,
                endpoint_url=self.url,
                region_name=REGION,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
        return self._clients[service]

    def provision(self) -> dict[str, Any]:
        """A fresh stack: moto emptied, the template's resources created; the functions'
        bindings (environment, code directory, memory) by code directory name."""
        from aiops_local.cloud import DEFAULT_POLICY, LOCAL_MODEL_EXECUTION_ROLE
        from aiops_local.policy_info import read_policy
        from aiops_local.provision import Provisioner
        from aiops_local.template import CloudTemplate

        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request) as response:
            response.read()
        template = CloudTemplate(
            ROOT / "template.yaml",
            {"ModelExecutionRoleArn": LOCAL_MODEL_EXECUTION_ROLE, **self.parameters},
        )
        parameter = str(template.parameters.get("PolicyParameterName", "/aiops/policy"))
        policy = read_policy(self.policy or ROOT / DEFAULT_POLICY)
        with _quiet():
            provisioner = Provisioner(template, self.client, policy, parameter)
            provisioned = provisioner.run()
            if provisioner.policy_in_appconfig:
                self._publish(provisioner, provisioned.bindings)
        return {binding.code_dir.name: binding for binding in provisioned.bindings}

    def _publish(self, provisioner: Any, bindings: list[Any]) -> None:
        """The policy deployed to AppConfig, whose validator function runs here, in-process,
        as the offline runtime runs it (moto would need Docker)."""
        from aiops_local.clock import VirtualClock
        from aiops_local.functions import Invoker
        from aiops_local.patches import lambda_invoke
        from aiops_local.patches.base import Patcher
        from aiops_local.timeline import Timeline

        saved = dict(os.environ)
        invoker = Invoker(Timeline(VirtualClock()), REGION, ACCOUNT)
        patcher = Patcher()
        try:
            for binding in bindings:
                invoker.bind(binding)
            lambda_invoke.install(patcher, invoker)
            warnings = provisioner.publish_policy()
        finally:
            patcher.restore()
            os.environ.clear()
            os.environ.update(saved)
        if warnings:
            raise ProbeFailed("; ".join(warnings))

    def stop(self) -> None:
        self._server.stop()
        self._patcher.restore()


# Never closed: a handler run while provisioning (AppConfig's validator) keeps the stream its
# Powertools Logger found at import, and logs to it again on later samples.
_DEVNULL = open(os.devnull, "w")  # noqa: SIM115


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    # The provisioner's own imports (the handlers' package) may print Powertools warnings.
    with contextlib.redirect_stdout(_DEVNULL):
        yield


# ------------------------------------------------------------------ probes
class ProbeFailed(RuntimeError):
    pass


@dataclass
class Sample:
    init: float
    first: float | None
    outcome: Any


def lambda_environment(binding: Any, endpoint: str, home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        **LAMBDA_ENV,
        "AWS_LAMBDA_FUNCTION_NAME": binding.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(binding.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{binding.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/30/[$LATEST]0123456789abcdef0123456789abcdef",
        "LAMBDA_TASK_ROOT": str(binding.code_dir),
        **binding.environment,
        # Offline: AWS is the moto server, and no developer's AWS configuration is read.
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "HOME": str(home),
    }


def probe_function(
    code_dir: Path,
    env: dict[str, str],
    event: dict[str, Any] | None,
    workdir: Path,
    record: Path | None = None,
) -> Sample:
    event_file = workdir / "event.json"
    event_file.write_text(json.dumps(event))
    # The layer is on the function's path as Lambda puts /opt/python; the minimal handler has
    # none. Recording imports the bench's encoder from the repository.
    paths = [str(code_dir)] + ([str(LAYER)] if code_dir.name not in FLOORS else [])
    source = _PROBE.format(
        paths=paths + ([str(ROOT)] if record else []),
        preloaded=PRELOADED,
        event_file=str(event_file),
        record=_RECORD if record else "",
        record_end=_RECORD_END if record else "",
        region=REGION,
        account=ACCOUNT,
        trace_id=TRACE_ID,
    )
    if record:
        env = {**env, "BENCH_RECORD": str(record)}
    out = subprocess.run(
        [sys.executable, "-c", source],
        env=env,
        cwd=code_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    marker = [line for line in out.stdout.splitlines() if line.startswith("@@bench ")]
    if out.returncode != 0 or not marker:
        raise ProbeFailed(f"{code_dir.name}: {out.stderr.strip()[-2000:]}")
    result = json.loads(marker[-1].removeprefix("@@bench "))
    return Sample(result["init"], result["first"], result["outcome"])


def first_event(invocation: FirstInvocation) -> dict[str, Any]:
    if invocation.event == "scheduled":
        # EventBridge Scheduler with no input: the function gets an empty object.
        return {}
    return dict(json.loads((EVENTS / invocation.event).read_text()))


def _summary(outcome: Any) -> Any:
    if isinstance(outcome, dict):
        for key in ("action", "decision", "outcome"):
            if key in outcome:
                return outcome[key]
        return sorted(outcome)[:4]
    return outcome


def _calls_signature(path: Path) -> list[str]:
    calls = json.loads(path.read_text())
    return [
        f"{c['service']}.{c['operation']}" + (f"!{c['error']}" if c["error"] else "") for c in calls
    ]


def run(functions: list[str] | None = None, runs: int = RUNS) -> dict[str, Any]:
    stack = MotoStack()
    try:
        return _run(stack, functions, runs)
    finally:
        stack.stop()


def _run(stack: MotoStack, only: list[str] | None, runs: int) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="cold-start-") as tmp:
        work = Path(tmp)
        for floor, source in FLOORS.items():
            (work / floor).mkdir()
            (work / floor / "app.py").write_text(source)
        for name in sorted(only or stack.functions):
            try:
                rows[name] = _measure(stack, name, work, runs)
            except ProbeFailed as failed:
                # One broken function is reported, and the others are still measured.
                rows[name] = {"error": str(failed)}
    return {
        "what": (
            "per function, median of fresh interpreters with Lambda's environment: (a) init = "
            "module import, (b) init + first invocation against moto; each as a ratio to a "
            "minimal boto3 handler making the same AWS calls, measured in rotation in the same "
            "run; required_libraries: that handler with pydantic and Powertools as our standards "
            "require them, in the same rotation (its init + first invocation as a ratio to it)"
        ),
        "runs_per_measurement": runs,
        "target_init_ratio": TARGET_INIT,
        "target_first_ratio": TARGET_FIRST,
        "preloaded_by_the_runtime": list(PRELOADED),
        "functions": rows,
    }


def _measure(stack: MotoStack, name: str, work: Path, runs: int) -> dict[str, Any]:
    binding = stack.functions[name]
    env = lambda_environment(binding, stack.url, work)
    invocation = FIRST_INVOCATIONS.get(name)
    baseline_dir = work / "baseline"
    libraries_dir = work / "libraries"
    recorded_calls = work / f"{name}.calls.json"
    sample_calls = work / f"{name}.sample.json"
    base_env = {**env, "LAMBDA_TASK_ROOT": str(baseline_dir), "BENCH_CALLS": str(sample_calls)}
    libraries_env = {**base_env, "LAMBDA_TASK_ROOT": str(libraries_dir)}
    row: dict[str, Any] = {}

    def event() -> dict[str, Any] | None:
        # Each first invocation meets the same state: a fresh stack and what its event names.
        if invocation is None:
            return None
        stack.provision()
        event = first_event(invocation)
        return invocation.prepare(stack.client, event) if invocation.prepare else event

    recorded = event()

    def floor_probe(
        this: dict[str, Any] | None, record: Path | None = None, libraries: bool = False
    ) -> Sample:
        sample_calls.write_text(_rebind(recorded_calls.read_text(), recorded, this))
        if libraries:
            return probe_function(libraries_dir, libraries_env, this, work, record=record)
        return probe_function(baseline_dir, base_env, this, work, record=record)

    if invocation is None:
        recorded_calls.write_text("[]")
    else:
        # Untimed: what the function calls on its first invocation, then what the minimal
        # handler calls from that record.
        first = probe_function(binding.code_dir, env, recorded, work, record=recorded_calls)
        replayed = work / f"{name}.replayed.json"
        floor_probe(event(), record=replayed)
        replayed_with_libraries = work / f"{name}.replayed-libraries.json"
        floor_probe(event(), record=replayed_with_libraries, libraries=True)
        row["first_invocation"] = {
            "event": invocation.event,
            "outcome": _summary(first.outcome),
            "aws_calls": _calls_signature(recorded_calls),
            "minimal_handler_made_the_same_calls": _calls_signature(recorded_calls)
            == _calls_signature(replayed),
            "libraries_handler_made_the_same_calls": _calls_signature(recorded_calls)
            == _calls_signature(replayed_with_libraries),
        }
    ours: list[Sample] = []
    floor: list[Sample] = []
    with_libraries: list[Sample] = []
    # The libraries' handler imports boto3 at init, as the minimal one does (ours defer it to
    # the first call): only its init + first invocation compares with a function's, so it is
    # measured only where there is a first invocation.
    order = ("ours", "floor", "libraries") if invocation else ("ours", "floor")
    for index in range(runs):
        # Rotated, so a drift in the machine's load falls on each alike.
        shift = index % len(order)
        for probe in order[shift:] + order[:shift]:
            if probe == "floor":
                floor.append(floor_probe(event()))
            elif probe == "libraries":
                with_libraries.append(floor_probe(event(), libraries=True))
            else:
                ours.append(probe_function(binding.code_dir, env, event(), work))
    row.update(_ratios(ours, floor))
    if with_libraries:
        libraries = _ratios(with_libraries, floor)
        row["required_libraries"] = {
            "first_ms": libraries["first_ms"],
            "first_ratio": libraries["first_ratio"],
        }
    return row


def _rebind(calls: str, recorded: Any, event: Any) -> str:
    """The recorded calls, for another sample's event: what the stack made anew for it (an
    object's version id, its ETag) replaced by this sample's values."""
    for old, new in _changed(recorded, event):
        calls = calls.replace(json.dumps(old)[1:-1], json.dumps(new)[1:-1])
    return calls


def _changed(old: Any, new: Any) -> Iterator[tuple[str, str]]:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in old.keys() & new.keys():
            yield from _changed(old[key], new[key])
    elif isinstance(old, list) and isinstance(new, list):
        for a, b in zip(old, new, strict=False):
            yield from _changed(a, b)
    elif isinstance(old, str) and isinstance(new, str) and old != new:
        yield old, new


def _ratios(ours: list[Sample], floor: list[Sample]) -> dict[str, Any]:
    def median_ms(values: list[float]) -> float:
        return round(statistics.median(values) * 1000, 1)

    init, floor_init = median_ms([s.init for s in ours]), median_ms([s.init for s in floor])
    row: dict[str, Any] = {
        "init_ms": init,
        "floor_init_ms": floor_init,
        "init_ratio": round(init / floor_init, 2),
        "init_meets_target": init / floor_init <= TARGET_INIT,
    }
    if ours[0].first is not None:
        total = median_ms([s.init + (s.first or 0.0) for s in ours])
        floor_total = median_ms([s.init + (s.first or 0.0) for s in floor])
        row.update(
            first_ms=total,
            floor_first_ms=floor_total,
            first_ratio=round(total / floor_total, 2),
            first_meets_target=total / floor_total <= TARGET_FIRST,
        )
    return row


def table(result: dict[str, Any]) -> str:
    lines = [
        f"cold start, ratio to a minimal boto3 handler making the same AWS calls "
        f"(targets: init <= {result['target_init_ratio']}x, "
        f"init + first invocation <= {result['target_first_ratio']}x); "
        f"libs: that handler with pydantic and Powertools as our standards require them",
        f"  {'function':<22}{'init ms':>9}{'floor':>8}{'x':>6}  "
        f"{'+first ms':>10}{'floor':>8}{'x':>6}{'libs x':>8}  calls",
    ]
    for name, row in result["functions"].items():
        if "error" in row:
            lines.append(f"  {name:<22}FAILED: {row['error'].splitlines()[-1]}")
            continue
        mark = "" if row["init_meets_target"] else " MISSED"
        line = f"  {name:<22}{row['init_ms']:>9}{row['floor_init_ms']:>8}{row['init_ratio']:>6}"
        if "first_ms" in row:
            first = row["first_invocation"]
            same = (
                ""
                if first["minimal_handler_made_the_same_calls"]
                and first.get("libraries_handler_made_the_same_calls", True)
                else " (calls differ!)"
            )
            mark += "" if row["first_meets_target"] else " MISSED(b)"
            line += (
                f"  {row['first_ms']:>10}{row['floor_first_ms']:>8}{row['first_ratio']:>6}"
                f"{row['required_libraries']['first_ratio']:>8}  {len(first['aws_calls'])}{same}"
            )
        lines.append(line + mark)
    return "\n".join(lines)


if __name__ == "__main__":
    result = run(sys.argv[1:] or None)
    print(table(result))
    print(json.dumps(result, indent=2))
