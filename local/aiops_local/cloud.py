"""LocalCloud: the project's template, handlers and state machines on an in-process AWS (moto).

    with LocalCloud(Path("template.yaml")) as cloud:
        cloud.put_object("TrainingDataBucket", "raw/churn/part-1.csv", size=1024)
        cloud.run_until_quiet()
        print(cloud.timeline.find("decision"))

Everything runs in this process: moto's backends, the state machine interpreter (on its own
threads, on the virtual clock), handlers (imported from their CodeUri), and simulators. The main
thread drives: it routes events, fires schedules and the agenda, and moves virtual time when
nothing else can happen.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from aiops.units import duration_seconds
from aiops_local import clock as clock_module
from aiops_local.actors import on_behalf_of_scenario
from aiops_local.agenda import Agenda
from aiops_local.async_invoke import AsyncInvoker
from aiops_local.bus import EventQueue
from aiops_local.clock import TIMEOUT, TIMER, VirtualClock
from aiops_local.functions import FunctionBinding, Invoker
from aiops_local.http_api import HttpApis, HttpResponse
from aiops_local.logcapture import LogCapture
from aiops_local.metrics import MetricStore
from aiops_local.patches import (
    appconfig,
    bedrock_deployments,
    bedrock_jobs,
    bedrock_runtime,
    botocore_calls,
    cloudwatch_composite,
    dynamodb_transactions,
    events_bus,
    events_pattern,
    lambda_invoke,
    s3_eventbridge,
    sagemaker_endpoints,
    sagemaker_inference_experiments,
    sagemaker_labeling_jobs,
    sagemaker_packages,
    sagemaker_pipelines,
    sfn_clock,
    sfn_history,
    sfn_start_execution,
    sfn_task_failure,
)
from aiops_local.patches.base import Patcher
from aiops_local.patches.botocore_calls import ApiCall
from aiops_local.patches.sfn_history import HistoryNote
from aiops_local.policy_info import PolicyInfo, read_policy
from aiops_local.provision import Provisioner
from aiops_local.recorder import ApiRecorder, ledger_item
from aiops_local.router import Router
from aiops_local.schedules import Schedules
from aiops_local.service_metrics import ServiceMetrics
from aiops_local.simulators import REGISTRY, Simulator
from aiops_local.simulators.bedrock_runtime import runtime_settings
from aiops_local.simulators.cloudwatch_alarms import CloudWatchAlarmSimulator
from aiops_local.simulators.lambda_faults import LambdaFaultSimulator
from aiops_local.template import CloudTemplate
from aiops_local.timeline import Timeline

DEFAULT_POLICY = Path("policies/default.yaml")
# How far "run until quiet" may move time on its own before it calls the run stuck: a workflow
# that polls forever would otherwise never be quiet.
MAX_AUTO_ADVANCE_S = 30 * 86400
# CloudWatch reads that should see per-minute samples published so far.
_METRIC_READS = frozenset({"GetMetricData", "GetMetricStatistics", "ListMetrics"})


class RuntimeStuck(RuntimeError):
    """Real time passed with threads still busy: a handler hangs, or a wait is not virtual."""


@dataclass(frozen=True)
class ExecutionInfo:
    state_machine: str
    name: str
    arn: str
    status: str
    input: Any
    output: Any
    error: str | None
    cause: str | None


HAND_REGISTERED_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
LOCAL_MODEL_EXECUTION_ROLE = "arn:aws:iam::123456789012:role/aiops-local-model-execution"


class LocalCloud:
    _active_lock = threading.Lock()
    _active: LocalCloud | None = None

    def __init__(
        self,
        template: Path = Path("template.yaml"),
        policy: Path | None = None,
        parameters: dict[str, str] | None = None,
        start: datetime | None = None,
        simulators: dict[str, dict[str, Any]] | None = None,
        stuck_after_s: float = 120.0,
    ) -> None:
        # Offline, Models run as a placeholder role (moto checks no trust): deploys work as they
        # would with the stack's ModelExecutionRoleArn parameter set.
        self.template = CloudTemplate(template, parameters)
        if "ModelExecutionRoleArn" in self.template.source.get(
            "Parameters", {}
        ) and "ModelExecutionRoleArn" not in (parameters or {}):
            self.template = CloudTemplate(
                template,
                {**(parameters or {}), "ModelExecutionRoleArn": LOCAL_MODEL_EXECUTION_ROLE},
            )
        self.account = self.template.env.account
        self.region = self.template.env.region
        policy_path = policy or (self.template.root / DEFAULT_POLICY)
        self.policy: PolicyInfo = read_policy(policy_path)
        self.clock = VirtualClock(start)
        self.timeline = Timeline(self.clock)
        self.agenda = Agenda(self.clock)
        self.events = EventQueue(self.clock, self.account, self.region)
        self.schedules = Schedules()
        self.invoker = Invoker(self.timeline, self.region, self.account)
        # CloudWatch metric data (and what alarms read): the services' own metrics and the
        # handlers' EMF, at virtual times.
        self.metrics = MetricStore(self.account, self.region, self.clock.time)
        self.service_metrics = ServiceMetrics(self.metrics, self.clock.time)
        self.invoker.observers.append(self.service_metrics.invocation)
        self.warnings: list[str] = []
        self._simulator_settings = simulators or {}
        self.simulators: dict[str, Simulator] = {}
        self._stuck_after_s = stuck_after_s
        self._patcher = Patcher()
        self._logs = LogCapture()
        self._mock: Any = None
        self._clients: dict[str, Any] = {}
        self._sys_paths: list[str] = []
        self._saved_environ: dict[str, str] | None = None
        self._ledger_tables = set(self._function_variables("LEDGER_TABLE"))
        if "LedgerTable" in self.template.resources:
            self._ledger_tables.add(str(self.template.ref("LedgerTable")))
        self._recorder = ApiRecorder(self.timeline, self._ledger_tables)
        self.router: Router | None = None
        self.http_apis: HttpApis | None = None

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> LocalCloud:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        with LocalCloud._active_lock:
            if LocalCloud._active is not None:
                raise RuntimeError("another LocalCloud is running in this process (moto is global)")
            LocalCloud._active = self
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        clock_module.set_current_clock(self.clock)
        self._saved_environ = dict(os.environ)
        os.environ.update(
            {
                "AWS_DEFAULT_REGION": self.region,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
            }
        )
        os.environ.pop("AWS_PROFILE", None)
        os.environ.pop("AWS_ENDPOINT_URL", None)
        # moto's interpreter logs every caught task error (a timed-out wait, a failed job) as an
        # ERROR with its whole state; the timeline already says what happened, in one line.
        logging.getLogger("moto.stepfunctions.parser.asl.component.eval_component").setLevel(
            logging.CRITICAL
        )
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        self._logs.install()
        botocore_calls.install(self._patcher, self._on_api_call)
        lambda_invoke.install(self._patcher, self.invoker, self._refuses)
        cloudwatch_composite.install(self._patcher)
        sfn_clock.install(self._patcher)
        sfn_history.install(self._patcher, self._on_history)
        sfn_task_failure.install(self._patcher)
        sfn_start_execution.install(self._patcher)
        dynamodb_transactions.install(self._patcher)
        events_bus.install(self._patcher, self.events)
        events_pattern.install(self._patcher)
        s3_eventbridge.install(self._patcher, self.events)
        sagemaker_pipelines.install(self._patcher)
        sagemaker_packages.install(self._patcher)
        sagemaker_endpoints.install(self._patcher)
        sagemaker_inference_experiments.install(self._patcher)
        sagemaker_labeling_jobs.install(self._patcher)
        bedrock_jobs.install(self._patcher)
        bedrock_deployments.install(self._patcher)
        bedrock_runtime.install(self._patcher, lambda: runtime_settings(self.simulators))
        appconfig.install(self._patcher, self.agenda)
        self._set_control_plane_clock(self.clock.now)
        for name, cls in REGISTRY.items():
            simulator = cls(self)
            simulator.configure(self._simulator_settings.get(name, {}))
            self.simulators[name] = simulator
        unknown = set(self._simulator_settings) - set(REGISTRY)
        if unknown:
            raise ValueError(f"unknown simulators {sorted(unknown)}; known: {sorted(REGISTRY)}")
        # Before the functions: their environment may hold an API's endpoint (`ApiEndpoint`).
        self.http_apis = HttpApis(
            self.template, self.invoker, self.timeline, self.clock.now, self.client
        )
        self.warnings += self.http_apis.provision()
        provisioner = Provisioner(
            self.template, self.client, self.policy, self._policy_parameter_name()
        )
        alarms = self.simulators.get("cloudwatch_alarms")
        quiet = alarms.quiet() if isinstance(alarms, CloudWatchAlarmSimulator) else None
        with quiet or contextlib.nullcontext():
            provisioned = provisioner.run()
            # The template's alarms as a deployed stack has them: evaluated, their first states
            # announcing nothing (no event, no action).
            for simulator in self.simulators.values():
                simulator.settle()
        self.warnings += provisioned.warnings
        for binding in provisioned.bindings:
            self.invoker.bind(binding)
            for path in binding.layer_paths:
                if str(path) not in sys.path:
                    sys.path.insert(0, str(path))
                    self._sys_paths.append(str(path))
        # Once the functions are bound: AppConfig runs the policy's validator function first.
        self.warnings += provisioner.publish_policy()
        async_invoker = AsyncInvoker(
            self.invoker, self.agenda, self.clock, self.timeline, lambda: self.client("sqs")
        )
        self._async = async_invoker
        for spec in provisioned.schedules:
            self.schedules.add(
                spec.logical_id,
                spec.expression,
                self.clock.time(),
                self._schedule_firer(
                    spec.logical_id, spec.expression, spec.target_arn, spec.payload
                ),
            )
        self.warnings += [f"unsupported schedule {s}" for s in self.schedules.unsupported]
        self.router = Router(
            self.account,
            self.region,
            self.timeline,
            self.invoker,
            async_invoker,
            self.client,
            self._rule_label,
        )

    def stop(self) -> None:
        # Executions still waiting (a task token, a long Wait) are stopped first, while moto is
        # still mocking: released by a closing clock, they would otherwise go on running states,
        # with their AWS calls escaping to the real endpoints once the mock is gone.
        if self._mock is not None:
            self._stop_executions()
        self.clock.close()
        give_up = time.monotonic() + 5
        while self.clock.live > 0 and time.monotonic() < give_up:
            time.sleep(0.01)
        self._set_control_plane_clock(None)
        self._patcher.restore()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        self._logs.uninstall()
        for path in self._sys_paths:
            if path in sys.path:
                sys.path.remove(path)
        self._sys_paths.clear()
        if self._saved_environ is not None:
            os.environ.clear()
            os.environ.update(self._saved_environ)
            self._saved_environ = None
        clock_module.set_current_clock(None)
        with LocalCloud._active_lock:
            if LocalCloud._active is self:
                LocalCloud._active = None

    def _stop_executions(self) -> None:
        sfn = self.client("stepfunctions")
        try:
            machines = sfn.list_state_machines()["stateMachines"]
            for machine in machines:
                running = sfn.list_executions(
                    stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING"
                )["executions"]
                for execution in running:
                    sfn.stop_execution(
                        executionArn=execution["executionArn"],
                        error="LocalCloudStopped",
                        cause="the offline cloud was stopped",
                    )
        except Exception as error:  # noqa: BLE001 - stopping must go on whatever failed
            self.warnings.append(f"could not stop running executions: {error}")

    @staticmethod
    def _set_control_plane_clock(source: Any) -> None:
        # The control plane reads "now" through aiops.clock; point it at virtual time.
        try:
            from aiops import clock as aiops_clock
        except ImportError:
            return
        aiops_clock.set_source(source)

    # ------------------------------------------------------------------ clients and names
    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service,
                region_name=self.region,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",  # noqa: S106 - moto's fake credentials
            )
        return self._clients[service]

    def _name(self, logical_id_or_name: str, resource_type: str, attribute: str = "") -> str:
        """The physical name of the template's resource of that type (its Ref, or `attribute`),
        or what was given: a name already."""
        resource = self.template.resources.get(logical_id_or_name)
        if resource is None or resource.type != resource_type:
            return logical_id_or_name
        if attribute:
            return str(self.template.get_att(logical_id_or_name, attribute))
        return str(self.template.ref(logical_id_or_name))

    def bucket(self, logical_id_or_name: str) -> str:
        return self._name(logical_id_or_name, "AWS::S3::Bucket")

    @property
    def artifacts_bucket(self) -> str:
        """Where simulated jobs write their outputs: the template's ArtifactsBucket, or the
        bucket the functions are told about, or one the runtime made."""
        if "ArtifactsBucket" in self.template.resources:
            return self.bucket("ArtifactsBucket")
        told = self._function_variables("ARTIFACTS_BUCKET")
        if told:
            return told[0]
        name = f"{self.template.env.stack_name}-local-artifacts-{self.account}"
        s3 = self.client("s3")
        if name not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            s3.create_bucket(Bucket=name)
        return name

    def table(self, logical_id_or_name: str) -> str:
        return self._name(logical_id_or_name, "AWS::DynamoDB::Table")

    def _rule_label(self, rule_name: str) -> str:
        return self.template.logical_id_of("AWS::Events::Rule", rule_name) or rule_name

    def _function_variables(self, variable: str) -> list[str]:
        """The value of environment variable `variable` in each function that sets it."""
        values = []
        for function in self.template.of_type("AWS::Lambda::Function"):
            environment = self.template.properties(function.logical_id).get("Environment") or {}
            value = environment.get("Variables", {}).get(variable)
            if value:
                values.append(str(value))
        return values

    def _policy_parameter_name(self) -> str:
        told = self._function_variables("POLICY_PARAMETER")
        if told:
            return told[0]
        return str(self.template.parameters.get("PolicyParameterName", "/aiops/policy"))

    # ------------------------------------------------------------------ observers
    def _on_api_call(self, call: ApiCall) -> Callable[[ApiCall], None]:
        if call.service == "cloudwatch" and call.operation in _METRIC_READS:
            self.metrics.materialize()  # per-minute samples, as CloudWatch has published them
        record = self._recorder.observe(call)
        watchers = [
            s for s in self.simulators.values() if (call.service, call.operation) in s.watches
        ]

        def finished(outcome: ApiCall) -> None:
            if record is not None:
                record(outcome)
            for simulator in watchers:
                simulator.on_call(outcome)

        return finished

    def _refuses(self, binding: FunctionBinding, via: str) -> bool:
        """Whether Lambda refuses (throttles) an invocation of this function now."""
        faults = self.simulators.get("lambda_faults")
        if not isinstance(faults, LambdaFaultSimulator):
            return False
        if not faults.throttled(binding.logical_id, binding.name):
            return False
        self.timeline.add(
            "invoke",
            f"{binding.logical_id} ← {via}: throttled (TooManyRequestsException: Rate Exceeded.)",
            function=binding.logical_id,
            status="throttled",
            via=via,
            error="Rate Exceeded.",
            error_type="TooManyRequestsException",
        )
        self.service_metrics.throttle(binding.name)
        return True

    def _on_history(self, note: HistoryNote) -> None:
        self.service_metrics.execution(note)
        ex = note.execution
        label = f"{ex.state_machine}/{ex.name}"
        fields = {"state_machine": ex.state_machine, "execution": ex.name}
        if note.status == "RUNNING":
            self.timeline.add("execution", f"{label} started", status="RUNNING", **fields)
        elif note.status is not None:
            text = f"{label} {note.status}"
            if note.error:
                text += f": {note.error}" + (f" — {note.cause[:200]}" if note.cause else "")
            self.timeline.add(
                "execution", text, status=note.status, error=note.error, cause=note.cause, **fields
            )
        elif note.state is not None:
            self.timeline.add(
                "execution", f"{label} → {note.state}", status="RUNNING", state=note.state, **fields
            )
        elif note.event_type == "TaskTimedOut":
            self.timeline.add(
                "execution",
                f"{label}: task timed out",
                status="RUNNING",
                state="(timed out)",
                error=note.error or "States.Timeout",
                **fields,
            )

    def _schedule_firer(
        self, logical_id: str, expression: str, target_arn: str, payload: Any
    ) -> Callable[[], None]:
        def fire() -> None:
            self.timeline.add(
                "event",
                f"schedule {logical_id} ({expression})",
                source="aws.scheduler",
                detail_type="Scheduled Event",
                schedule=logical_id,
            )
            binding = self.invoker.binding_for(target_arn)
            if binding is not None:
                self._async.submit(binding, payload, via=f"schedule {logical_id}")
            elif target_arn.split(":")[2] == "states":
                self.client("stepfunctions").start_execution(
                    stateMachineArn=target_arn,
                    name=f"{logical_id}-{int(self.clock.time())}"[:80],
                    input=json.dumps(payload),
                )

        return fire

    # ------------------------------------------------------------------ driving
    def _has_work(self) -> bool:
        due = self.agenda.next_due()
        return bool(self.events) or (due is not None and due <= self.clock.time())

    def _drain(self) -> None:
        """Route queued events and due agenda items until nothing is left and no thread runs."""
        assert self.router is not None
        while True:
            item = self.events.take()
            if item is not None:
                self.router.route(item)
                continue
            due = self.agenda.pop_due()
            if due:
                for action in due:
                    action()
                continue
            if not self.clock.wait_until_idle(self._has_work, self._stuck_after_s):
                raise RuntimeStuck(self._stuck_report())
            if not self._has_work():
                return

    def _stuck_report(self) -> str:
        blocked = len([w for w in self.clock.blocked() if w.tracked])
        return (
            f"the cloud did not settle within {self._stuck_after_s:.0f} s of real time: "
            f"{self.clock.live} interpreter threads alive, {blocked} blocked on the clock"
        )

    def _advance_to(self, epoch: float) -> None:
        self.clock.advance_to(epoch)
        for schedule in self.schedules.due(epoch):
            schedule.fire()

    def run_until_quiet(self) -> None:
        """Run until every execution ended or waits on something only a person or a scenario
        step resolves (a task token, a timeout): time moves only to machine deadlines (Wait
        states, retries, simulated jobs)."""
        # What happens in the loop is the control plane's doing (or a simulated service's),
        # even when a scenario step runs it.
        with on_behalf_of_scenario(False):
            self._run(until=None)

    def advance(self, duration: str | float) -> None:
        """Let `duration` of virtual time pass, with everything due in it happening in order."""
        with on_behalf_of_scenario(False):
            self._run(until=self.clock.time() + duration_seconds(duration))

    def _run(self, until: float | None) -> None:
        horizon = self.clock.time() + MAX_AUTO_ADVANCE_S
        while True:
            self._drain()
            # Running until quiet jumps to machine deadlines only; an explicit advance also
            # reaches the timeouts (a task token nobody answered) that fall inside it.
            kinds = (TIMER,) if until is None else (TIMER, TIMEOUT)
            candidates = [
                d
                for d in (self.agenda.next_due(), self.clock.next_deadline(kinds))
                if d is not None
            ]
            next_at = min(candidates) if candidates else None
            timeout = self.clock.next_deadline((TIMEOUT,))
            if until is None and next_at is not None and timeout is not None:
                # Time that passes on its way to a machine deadline passes every timeout before
                # it too: they fire first, in order, as they would on AWS.
                next_at = min(next_at, timeout)
            if until is None:
                if next_at is None:
                    return
                if next_at > horizon:
                    self.timeline.add(
                        "error",
                        "still busy after 30 days of virtual time: stopped waiting",
                        error="RunawayWorkflow",
                    )
                    return
                self._advance_to(next_at)
            elif next_at is not None and next_at <= until:
                self._advance_to(next_at)
            elif self.clock.time() < until:
                self._advance_to(until)
            else:
                return

    # ------------------------------------------------------------------ scenario actions
    def send_event(self, event: dict[str, Any], bus: str = "default") -> str:
        """Put an event on the bus as the scenario (the user, or an AWS service it plays)."""
        with on_behalf_of_scenario():
            return self.events.put(event, bus)

    def put_object(
        self,
        bucket: str,
        key: str,
        body: bytes | None = None,
        size: int | None = None,
        content_type: str | None = None,
    ) -> dict[str, Any]:
        """`PutObject` into a bucket (logical id or name): `body`, or `size` bytes of filler."""
        args: dict[str, Any] = {
            "Bucket": self.bucket(bucket),
            "Key": key,
            "Body": body if body is not None else b"x" * (size or 0),
        }
        if content_type is not None:
            args["ContentType"] = content_type
        return dict(self.client("s3").put_object(**args))

    def set_alarm(self, name: str, state: str, reason: str = "") -> None:
        cloudwatch = self.client("cloudwatch")
        if not cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]:
            # Alarms the policy names may not exist offline yet; a placeholder is enough to
            # carry a state.
            cloudwatch.put_metric_alarm(
                AlarmName=name,
                MetricName=name,
                Namespace="AIOps/Local",
                Statistic="Sum",
                Period=60,
                EvaluationPeriods=1,
                Threshold=1.0,
                ComparisonOperator="GreaterThanOrEqualToThreshold",
            )
        cloudwatch.set_alarm_state(
            AlarmName=name,
            StateValue=state,
            StateReason=reason or f"Set to {state} by the scenario",
        )

    def register_package(self, group: str, description: str = "") -> str:
        """A package registered by hand (a notebook, another team's pipeline): pending, in
        `group`, with an image and an artifact but no run of ours behind it."""
        sagemaker = self.client("sagemaker")
        with contextlib.suppress(Exception):
            sagemaker.create_model_package_group(ModelPackageGroupName=group)
        bucket = self.artifacts_bucket
        response = sagemaker.create_model_package(
            ModelPackageGroupName=group,
            ModelPackageDescription=description or "Registered by hand",
            ModelApprovalStatus="PendingManualApproval",
            InferenceSpecification={
                "Containers": [
                    {
                        "Image": HAND_REGISTERED_IMAGE,
                        "ModelDataUrl": f"s3://{bucket}/hand-registered/{group}/model.tar.gz",
                    }
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )
        return str(response["ModelPackageArn"])

    def resolve_package(self, ref: str) -> str:
        """A package ARN from an ARN, `group/version`, or `group` (its latest version)."""
        if ref.startswith("arn:"):
            return ref
        sagemaker = self.client("sagemaker")
        group, _, version = ref.partition("/")
        packages = sagemaker.list_model_packages(
            ModelPackageGroupName=group, SortBy="CreationTime", SortOrder="Descending"
        )
        summaries = packages["ModelPackageSummaryList"]
        for summary in summaries:
            if not version or str(summary.get("ModelPackageVersion")) == version:
                return str(summary["ModelPackageArn"])
        raise LookupError(f"no model package {ref!r}")

    def set_approval(
        self, ref: str, status: str, description: str = "", by: str | None = None
    ) -> str:
        """A person's decision in SageMaker Studio (`by`: their user profile)."""
        arn = self.resolve_package(ref)
        args: dict[str, Any] = {"ModelPackageArn": arn, "ModelApprovalStatus": status}
        if description:
            args["ApprovalDescription"] = description
        registry = self.simulators.get("model_registry")
        previous = getattr(registry, "studio_user", None)
        if registry is not None and by:
            registry.studio_user = by  # type: ignore[attr-defined]
        try:
            self.client("sagemaker").update_model_package(**args)
        finally:
            if registry is not None and by:
                registry.studio_user = previous  # type: ignore[attr-defined]
        return arn

    def http(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        body: bytes | str = b"",
        query: Mapping[str, str | Sequence[str]] | str | None = None,
        claims: Mapping[str, Any] | None = None,
        *,
        scopes: Sequence[str] | None = None,
        api: str | None = None,
        source_ip: str = "127.0.0.1",
    ) -> HttpResponse:
        """A request to the template's HTTP API (`api`: its logical id, when there are several),
        as API Gateway makes it: the matching route's function gets the payload format 2.0 event
        (an `invoke` entry, with the response's `http_status`) and its response comes back as
        API Gateway returns it. `path` may carry a query string; `claims` stand for a valid JWT.
        Raises `HttpApiError` (`RouteNotFound` for a request no route matches) when the template
        cannot serve the request. Like `send_event`, it does not run the cloud until quiet.
        See `aiops_local.http_api`."""
        if self.http_apis is None:
            raise RuntimeError("the cloud is not started")
        return self.http_apis.request(
            method,
            path,
            headers,
            body,
            query,
            claims,
            scopes=scopes,
            api=api,
            source_ip=source_ip,
        )

    def http_endpoint(self, api: str | None = None) -> str:
        """The HTTP API's endpoint (`ApiEndpoint`), `https://<api-id>.execute-api.<region>...`."""
        if self.http_apis is None:
            raise RuntimeError("the cloud is not started")
        return self.http_apis.endpoint(api)

    def configure_simulator(self, name: str, settings: dict[str, Any]) -> None:
        if name not in self.simulators:
            raise ValueError(f"unknown simulator {name!r}; known: {sorted(self.simulators)}")
        self.simulators[name].configure(settings)

    # ------------------------------------------------------------------ reading state
    def ledger(self, model: str | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        dynamodb = self.client("dynamodb")
        for table in sorted(self._ledger_tables):
            for page in dynamodb.get_paginator("scan").paginate(TableName=table):
                items += [ledger_item(raw) for raw in page["Items"]]
        items = [i for i in items if model is None or i.get("model") == model]
        return sorted(items, key=lambda i: (str(i.get("model")), str(i.get("seq", ""))))

    def packages(self, group: str) -> list[dict[str, Any]]:
        sagemaker = self.client("sagemaker")
        summaries = sagemaker.list_model_packages(
            ModelPackageGroupName=group, SortBy="CreationTime", SortOrder="Ascending"
        )
        packages = []
        for summary in summaries["ModelPackageSummaryList"]:
            package = sagemaker.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
            package.pop("ResponseMetadata", None)
            package["metrics"] = self._package_metrics(package)
            packages.append(package)
        return packages

    def _package_metrics(self, package: dict[str, Any]) -> dict[str, Any]:
        uri = (
            ((package.get("ModelMetrics") or {}).get("ModelQuality") or {}).get("Statistics") or {}
        ).get("S3Uri")
        if not uri or not uri.startswith("s3://"):
            return {}
        bucket, _, key = uri[5:].partition("/")
        try:
            body = self.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
            metrics = json.loads(body).get("metrics", {})
        except Exception:  # noqa: BLE001 - a missing or odd report just has no metrics
            return {}
        return metrics if isinstance(metrics, dict) else {}

    def executions(self, state_machine: str | None = None) -> list[ExecutionInfo]:
        sfn = self.client("stepfunctions")
        result: list[ExecutionInfo] = []
        # A state machine's name, or its logical id in the template.
        wanted = (
            {state_machine, self.state_machine_aliases().get(state_machine)}
            if state_machine
            else None
        )
        for machine in sfn.list_state_machines()["stateMachines"]:
            if wanted is not None and machine["name"] not in wanted:
                continue
            for summary in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])[
                "executions"
            ]:
                described = sfn.describe_execution(executionArn=summary["executionArn"])
                result.append(
                    ExecutionInfo(
                        state_machine=machine["name"],
                        name=summary["name"],
                        arn=summary["executionArn"],
                        status=described["status"],
                        input=json.loads(described.get("input") or "null"),
                        output=json.loads(described["output"]) if described.get("output") else None,
                        error=described.get("error"),
                        cause=described.get("cause"),
                    )
                )
        return result

    def state_machine_aliases(self) -> dict[str, str]:
        """Logical id → name of every state machine, so scenarios may use either."""
        return {
            r.logical_id: str(self.template.get_att(r.logical_id, "Name"))
            for r in self.template.of_type("AWS::StepFunctions::StateMachine")
        }

    def dead_letters(self, queue: str) -> list[dict[str, Any]]:
        """Messages waiting in a queue (logical id or name), without consuming them."""
        name = self._name(queue, "AWS::SQS::Queue", "QueueName")
        sqs = self.client("sqs")
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=0
        )
        return list(messages.get("Messages", []))
