"""Lambda functions run in-process: each AWS::Lambda::Function bound to its handler on disk.

A binding knows what Lambda would give the handler: its CodeUri directory, `Handler`, its own
resolved Environment, the layers' `python/` directories on the import path, and a context object.
Each function's module is loaded by file path under a name of its own, because every handler is
called `app.py`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from aiops_local.actors import Actor, acting_as
from aiops_local.logcapture import ensure_routed
from aiops_local.timeline import Timeline

# Set by the runtime for every invocation (and read by its own threads): never removed.
_RUNTIME_KEYS = frozenset(
    {"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
)
# What Lambda sets for every function (set per invocation below).
_LAMBDA_KEYS = (
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_TIMEOUT",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_EXECUTION_ENV",
    "_HANDLER",
    "LAMBDA_TASK_ROOT",
    "POWERTOOLS_TRACE_DISABLED",
    "AWS_XRAY_CONTEXT_MISSING",
)


@dataclass
class FunctionBinding:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    memory_mb: int = 128
    timeout_s: int = 3
    dead_letter_arn: str | None = None
    max_retry_attempts: int = 2
    max_event_age_s: int = 21600
    layer_paths: list[Path] = field(default_factory=list)

    @property
    def module_file(self) -> Path:
        module, _, _ = self.handler.rpartition(".")
        return self.code_dir / (module.replace(".", "/") + ".py")

    @property
    def function_attr(self) -> str:
        return self.handler.rpartition(".")[2]


class LambdaContext:
    """The attributes and method handlers (and Powertools) read from Lambda's context."""

    def __init__(self, binding: FunctionBinding, request_id: str) -> None:
        self.function_name = binding.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = binding.arn
        self.memory_limit_in_mb = binding.memory_mb
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{binding.name}"
        self.log_stream_name = f"local/[$LATEST]{request_id.replace('-', '')}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + binding.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        # Real time: the handler's own work is not virtualised, only the cloud's waits are.
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class InvokeResult:
    ok: bool
    payload: Any
    error: str | None = None
    error_type: str | None = None
    logs: str = ""
    api_calls: int = 0
    request_id: str = ""

    def payload_json(self) -> str:
        return json.dumps(self.payload, default=str)


@dataclass(frozen=True)
class Invocation:
    """One finished invocation, for the runtime's observers (AWS/Lambda metrics, EMF)."""

    binding: FunctionBinding
    result: InvokeResult
    real_start: float  # wall clock (time.time()) around the handler
    real_end: float
    duration_ms: float


class HandlerLoadError(Exception):
    pass


class Invoker:
    """Calls handlers in-process, one at a time, each inside its own environment variables."""

    def __init__(self, timeline: Timeline, region: str, account: str) -> None:
        self._timeline = timeline
        self._region = region
        self._account = account
        # os.environ is process-wide, so invocations are serialised. Re-entrant: a handler that
        # invokes another function synchronously runs it on the same thread.
        self._lock = threading.RLock()
        self._modules: dict[str, ModuleType] = {}
        self.bindings: dict[str, FunctionBinding] = {}
        # Every variable some function's template environment sets.
        self._function_keys: set[str] = set()
        # Called after every invocation (on the invoking thread); must not raise.
        self.observers: list[Callable[[Invocation], None]] = []

    def bind(self, binding: FunctionBinding) -> None:
        self.bindings[binding.logical_id] = binding
        self._function_keys |= set(binding.environment) - _RUNTIME_KEYS
        # Every variable an invocation sets exists from now on (empty: unset), so invocations
        # only ever assign: a key added or removed while a workflow's thread copies os.environ
        # (botocore does, building a client) raised KeyError or "changed size during iteration".
        for key in (*self._function_keys, *_LAMBDA_KEYS):
            os.environ.setdefault(key, "")
        for key in ("AWS_REGION", "AWS_DEFAULT_REGION"):
            os.environ.setdefault(key, self._region)

    def binding_for(self, name_or_arn: str) -> FunctionBinding | None:
        name = name_or_arn.split(":function:")[-1].split(":")[0]
        for binding in self.bindings.values():
            if name in (binding.name, binding.logical_id):
                return binding
        return None

    # ------------------------------------------------------------------ loading
    def _module(self, binding: FunctionBinding) -> ModuleType:
        if binding.logical_id in self._modules:
            return self._modules[binding.logical_id]
        path = binding.module_file
        if not path.is_file():
            raise HandlerLoadError(f"handler module {path} does not exist")
        module_name = f"aiops_local_functions.{binding.logical_id}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise HandlerLoadError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        # Lambda puts the code directory first on the import path; only while importing here,
        # so one function's sibling modules never shadow another's.
        sys.path.insert(0, str(binding.code_dir))
        try:
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
        except Exception:
            sys.modules.pop(module_name, None)
            raise
        finally:
            sys.path.remove(str(binding.code_dir))
        self._modules[binding.logical_id] = module
        return module

    def loaded_module(self, logical_id: str) -> ModuleType:
        """The function's module as loaded so far (its warm state), for tests and debugging."""
        return self._modules[logical_id]

    # ------------------------------------------------------------------ invoking
    def _set_environment(self, binding: FunctionBinding, context: LambdaContext) -> None:
        """The function's environment, as Lambda would give it.

        Assigned, never cleared nor restored per invocation: the interpreter's threads read
        `os.environ` concurrently (botocore builds clients), and emptying it under them raised
        `KeyError: 'AWS_REGION'` in an unrelated execution. Functions set different variables (each
        only what it reads), so a variable another function set and this one lacks is emptied,
        never removed (see `bind`): offline, a function never sees a value the template does not
        give it on AWS (the runtime's own keys, such as AWS_REGION, stay). LocalCloud restores
        the process environment when it stops."""
        runtime_vars = {
            "AWS_REGION": self._region,
            "AWS_DEFAULT_REGION": self._region,
            "AWS_LAMBDA_FUNCTION_NAME": binding.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(binding.memory_mb),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(binding.timeout_s),
            "AWS_LAMBDA_LOG_GROUP_NAME": context.log_group_name,
            "AWS_LAMBDA_LOG_STREAM_NAME": context.log_stream_name,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
            "_HANDLER": binding.handler,
            "LAMBDA_TASK_ROOT": str(binding.code_dir),
            # No X-Ray daemon offline: Powertools Tracer would only warn on every call.
            "POWERTOOLS_TRACE_DISABLED": "true",
            "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        }
        for key in self._function_keys - set(binding.environment):
            os.environ[key] = ""  # unset: Settings ignore empty variables (env_ignore_empty)
        os.environ.update(runtime_vars)
        os.environ.update(binding.environment)

    def invoke(self, binding: FunctionBinding, event: Any, via: str) -> InvokeResult:
        """Run the handler now; errors become a result (and a timeline entry), never a raise."""
        request_id = str(uuid.uuid4())
        actor = Actor("function", binding.logical_id)
        with self._lock, acting_as(actor):
            # Added once the lock is held, so the entry sits where the handler really ran.
            entry = self._timeline.add(
                "invoke",
                f"{binding.logical_id} ← {via}",
                function=binding.logical_id,
                status="running",
                via=via,
                request_id=request_id,
            )
            context = LambdaContext(binding, request_id)
            real_start, started = time.time(), time.monotonic()
            ensure_routed()
            try:
                self._set_environment(binding, context)
                module = self._module(binding)
                handler = getattr(module, binding.function_attr)
                payload = handler(json.loads(json.dumps(event)), context)
                result = InvokeResult(True, payload, request_id=request_id)
            except Exception as error:  # noqa: BLE001 - handlers raise anything; Lambda reports all
                error_type = type(error).__name__
                if isinstance(error, (HandlerLoadError, ImportError, SyntaxError)):
                    error_type = "Runtime.ImportModuleError"
                result = InvokeResult(
                    False,
                    {
                        "errorMessage": str(error),
                        "errorType": error_type,
                        "requestId": request_id,
                        "stackTrace": traceback.format_tb(error.__traceback__),
                    },
                    error=str(error) or error_type,
                    error_type=error_type,
                    request_id=request_id,
                )
        duration_ms = (time.monotonic() - started) * 1000.0
        result.logs = actor.logs.getvalue()
        result.api_calls = actor.api_calls
        finished = Invocation(binding, result, real_start, time.time(), duration_ms)
        for observe in self.observers:
            observe(finished)
        calls = f"{actor.api_calls} AWS call{'s' if actor.api_calls != 1 else ''}"
        if result.ok:
            text = f"{binding.logical_id} ← {via}: ok ({calls})"
            decision: dict[str, Any] = {}
            outcome = _outcome(result.payload)
            if outcome is not None:
                action, reason = outcome
                text += f" → {action}: {reason}"
                decision["action"] = action
            entry.update(status="ok", api_calls=actor.api_calls, text=text, **decision)
            queue = _dead_lettered(result.payload)
            if queue is not None:
                self._timeline.add(
                    "dlq",
                    f"{binding.logical_id}: event sent to {queue} by the handler, not retried: "
                    f"{result.payload['reason']}",
                    function=binding.logical_id,
                    queue=queue,
                    error=result.payload["reason"],
                    event_id=event.get("id") if isinstance(event, dict) else None,
                )
        else:
            entry.update(
                status="error",
                error=result.error,
                error_type=result.error_type,
                api_calls=actor.api_calls,
                text=f"{binding.logical_id} ← {via}: {result.error_type}: {result.error}",
            )
        return result


def _dead_lettered(payload: Any) -> str | None:
    """The queue's name when the handler itself dead-lettered the event (an invalid one)."""
    if isinstance(payload, dict) and isinstance(payload.get("dead_letter_queue"), str):
        return str(payload["dead_letter_queue"]).rstrip("/").split("/")[-1]
    return None


def _outcome(payload: Any) -> tuple[Any, Any] | None:
    """A handler's decision, `(action, reason)`, when it returns one: the timeline says why an
    event led to nothing, not only that the handler succeeded."""
    if isinstance(payload, dict) and "action" in payload and "reason" in payload:
        return payload["action"], payload["reason"]
    return None
