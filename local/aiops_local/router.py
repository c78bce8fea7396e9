"""EventBridge routing with the rules the template created, and delivery to their targets.

Rules live in moto (created from the template's own AWS::Events::Rule resources); each event is
matched with moto's `EventPattern` — the rule's pattern as stored — and delivered the way
EventBridge does: Lambda asynchronously (retries, then the function's dead-letter queue), Step
Functions with StartExecution (a named execution), SQS and SNS directly.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError
from moto.events.models import EventPattern, Rule, events_backends

from aiops_local import logs_target
from aiops_local.async_invoke import AsyncInvoker, send_to_queue
from aiops_local.bus import BusEvent
from aiops_local.functions import Invoker
from aiops_local.patches import events_pattern
from aiops_local.timeline import Timeline


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def describe_event(event: dict[str, Any]) -> str:
    """One line a reader recognises the event by."""
    detail = _mapping(event.get("detail"))
    head = f"{event.get('source')} · {event.get('detail-type')}"
    bits: list[str] = []
    if event.get("source") == "aws.s3":
        obj = _mapping(detail.get("object"))
        bucket = _mapping(detail.get("bucket"))
        bits.append(f"s3://{bucket.get('name')}/{obj.get('key')}")
        if "size" in obj:
            bits.append(f"{obj['size']} B")
    for key in (
        "currentPipelineExecutionStatus",
        "ModelApprovalStatus",
        "alarmName",
        "jobStatus",
        "ProcessingJobStatus",
        "pipelineExecutionArn",
        "ModelPackageArn",
    ):
        if key in detail:
            bits.append(f"{key}={detail[key]}")
    state = detail.get("state")
    if isinstance(state, dict) and "value" in state:
        bits.append(f"state={state['value']}")
    return head + (f" ({', '.join(bits)})" if bits else "")


def _json_path(event: dict[str, Any], path: str) -> Any:
    """InputPath's JSONPath subset EventBridge documents: $.a.b."""
    node: Any = event
    for part in [p for p in path.lstrip("$").split(".") if p]:
        node = node.get(part) if isinstance(node, dict) else None
    return node


def transform_input(target: dict[str, Any], event: dict[str, Any]) -> Any:
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        return _json_path(event, target["InputPath"])
    transformer = target.get("InputTransformer")
    if transformer:
        values = {
            name: _json_path(event, path)
            for name, path in transformer.get("InputPathsMap", {}).items()
        }

        def fill(match: re.Match[str]) -> str:
            value = values.get(match.group(1))
            return value if isinstance(value, str) else json.dumps(value)

        text = re.sub(r"<([A-Za-z0-9_.-]+)>", fill, transformer["InputTemplate"])
        try:
            return json.loads(text)
        except ValueError:
            return text
    return event


class Router:
    def __init__(
        self,
        account: str,
        region: str,
        timeline: Timeline,
        invoker: Invoker,
        async_invoker: AsyncInvoker,
        client: Callable[[str], Any],
        rule_label: Callable[[str], str],
    ) -> None:
        self._account = account
        self._region = region
        self._timeline = timeline
        self._invoker = invoker
        self._async = async_invoker
        self._client = client
        self._rule_label = rule_label

    def rules(self, bus: str) -> list[Rule]:
        backend = events_backends[self._account][self._region]
        event_bus = backend.event_buses.get(bus)
        return list(event_bus.rules.values()) if event_bus is not None else []

    def route(self, item: BusEvent) -> int:
        """Match `item` against its bus's rules and deliver it; returns the number matched."""
        event = item.event
        entry = self._timeline.add(
            "event",
            describe_event(event),
            source=event.get("source"),
            detail_type=event.get("detail-type"),
            id=event.get("id"),
            bus=item.bus,
            origin="scenario" if item.by_scenario else "control_plane",
            event=event,
        )
        matched = 0
        matches = events_pattern.matcher(event)
        for rule in self.rules(item.bus):
            if rule.state != "ENABLED" or rule.scheduled_expression:
                continue
            pattern: EventPattern = rule.event_pattern
            if not matches(pattern):
                continue
            matched += 1
            for target in rule.targets:
                self.deliver(rule.name, target, event)
        entry["matched"] = matched
        if not matched:
            entry["text"] += " — no rule matched"
        return matched

    def deliver(self, rule_name: str, target: dict[str, Any], event: dict[str, Any]) -> None:
        arn: str = target["Arn"]
        payload = transform_input(target, event)
        label = self._rule_label(rule_name)
        service = arn.split(":")[2]
        if service == "lambda":
            binding = self._invoker.binding_for(arn)
            self._timeline.add(
                "rule",
                f"{label} → {binding.logical_id if binding else arn}",
                rule=label,
                target=arn,
                function=binding.logical_id if binding else None,
            )
            if binding is None:
                self._timeline.add(
                    "error",
                    f"{label}: no function {arn} to deliver to",
                    rule=label,
                    error="ResourceNotFoundException",
                )
                self._target_dead_letter(target, event, "ResourceNotFoundException")
                return
            self._async.submit(binding, payload, via=f"rule {label}")
        elif service == "states":
            machine = arn.split(":")[-1]
            self._timeline.add(
                "rule", f"{label} → {machine}", rule=label, target=arn, state_machine=machine
            )
            digest = hashlib.sha1(
                f"{event.get('id')}{target.get('Id')}".encode(), usedforsecurity=False
            ).hexdigest()[:12]
            name = f"{str(event.get('id'))[:36]}-{digest}"[:80]
            self._client("stepfunctions").start_execution(
                stateMachineArn=arn, name=name, input=json.dumps(payload)
            )
        elif service == "sqs":
            self._timeline.add("rule", f"{label} → {arn.split(':')[-1]}", rule=label, target=arn)
            send_to_queue(self._client("sqs"), arn, json.dumps(payload))
        elif service == "sns":
            self._timeline.add("rule", f"{label} → {arn.split(':')[-1]}", rule=label, target=arn)
            self._client("sns").publish(TopicArn=arn, Message=json.dumps(payload))
        elif service == "logs":
            group = logs_target.log_group_name(arn)
            self._timeline.add("rule", f"{label} → {group}", rule=label, target=arn)
            try:
                logs_target.put_event(
                    self._client("logs"), self._account, self._region, arn, event, payload
                )
            except ClientError as error:
                self._timeline.add(
                    "error", f"{label}: not logged to {group}: {error}", rule=label, error="Logs"
                )
        else:
            self._timeline.add(
                "error",
                f"{label}: targets of service {service} are not simulated offline",
                rule=label,
                target=arn,
                error="UnsupportedTarget",
            )

    def _target_dead_letter(
        self, target: dict[str, Any], event: dict[str, Any], error: str
    ) -> None:
        queue_arn = (target.get("DeadLetterConfig") or {}).get("Arn")
        if not queue_arn:
            return
        queue = send_to_queue(
            self._client("sqs"),
            queue_arn,
            json.dumps(event),
            {
                "ERROR_CODE": {"DataType": "String", "StringValue": error},
                "RULE_ARN": {"DataType": "String", "StringValue": target["Arn"]},
            },
        )
        self._timeline.add(
            "dlq", f"event {event.get('id')} sent to {queue}: {error}", queue=queue, error=error
        )
