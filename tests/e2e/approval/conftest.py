"""Shared setup for the approval e2e tests: a cloud with candidate v1 waiting for a person, a
snapshot of everything a request could change, and the secrets that must never leak.

Everything goes through the real entry points: the template's HTTP API (`cloud.http`), the
event bus, and the scenario runner for the uploads that produce the candidate.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from boto3.dynamodb.types import TypeDeserializer

from aiops_local import LocalCloud
from aiops_local.approver import Approver, read_form
from aiops_local.functions import FunctionBinding, InvokeResult
from aiops_local.http_api import HttpResponse
from aiops_local.scenario import ScenarioRunner, load_scenario

ROOT = Path(__file__).resolve().parents[3]
SCENARIOS = ROOT / "scenarios"
# Its first step uploads 5 objects: the window closes, the pipeline registers churn v1 (auc
# 0.81, no champion), the gate hands it to a person and both approvers are mailed a link.
PENDING_SCENARIO = SCENARIOS / "approval_page_approve.yaml"
ML_LEAD = "ml-lead@example.com"
RISK_OFFICER = "risk-officer@example.com"
APPROVERS = (ML_LEAD, RISK_OFFICER)
APPROVALS_TOPIC = "aiops-dev-approvals"
ALERTS_TOPIC = "aiops-dev-alerts"
LINK_IN_MAIL = re.compile(r"https://[^\s/]+/approvals/([A-Za-z0-9_-]{43})")
# A browser's same-origin form post under the page's no-referrer policy (as Approver does).
FORM_HEADERS = {
    "content-type": "application/x-www-form-urlencoded",
    "origin": "null",
    "sec-fetch-site": "same-origin",
}
_deserializer = TypeDeserializer()


@dataclass
class Invocation:
    function: str
    event: Any
    result: InvokeResult


@dataclass
class Recorder:
    """Every invocation of every function of the cloud, with its payload and captured logs."""

    invocations: list[Invocation] = field(default_factory=list)

    def of(self, function: str) -> list[Invocation]:
        return [i for i in self.invocations if i.function == function]

    def logs(self) -> str:
        return "\n".join(i.result.logs for i in self.invocations)


@dataclass
class PendingCloud:
    """A running cloud with churn v1 pending approval, and what the test harness saw of it."""

    cloud: LocalCloud
    recorder: Recorder
    responses: list[HttpResponse] = field(default_factory=list)

    def link(self, approver: str, version: int = 1) -> str:
        """The path mailed to `approver` for churn `version`: /approvals/<id>."""
        return Approver(self.cloud).link(approver, "churn", version)

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes | str = b"",
        claims: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """One request through the HTTP API; every response is kept for the hygiene checks."""
        response = self.cloud.http(method, path, headers=headers, body=body, claims=claims)
        self.responses.append(response)
        return response

    def open_form(self, path: str) -> dict[str, str]:
        """The hidden fields of the page's form (the CSRF token), as a browser reads them."""
        page = self.request("GET", path, headers={"sec-fetch-site": "none"})
        assert page.status == 200, page.text
        form = read_form(page.text)
        assert form is not None and form.action == path, "the open page posts back to its link"
        return dict(form.fields)

    def post(
        self,
        path: str,
        fields: dict[str, str],
        headers: dict[str, str] | None = None,
        claims: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return self.request(
            "POST",
            path,
            headers=FORM_HEADERS if headers is None else headers,
            body=urlencode(fields),
            claims=claims,
        )


def record_invocations(cloud: LocalCloud, recorder: Recorder) -> None:
    invoke = cloud.invoker.invoke

    def recording(binding: FunctionBinding, event: Any, via: str) -> InvokeResult:
        result = invoke(binding, event, via)
        recorder.invocations.append(Invocation(binding.logical_id, event, result))
        return result

    cloud.invoker.invoke = recording  # type: ignore[method-assign]


@contextmanager
def _capturing_handler_logs() -> Iterator[None]:
    """Route the handlers' Powertools log lines into their invocation's captured logs, at DEBUG.

    The runtime captures what a handler writes to sys.stdout while the cloud runs, but the
    Powertools Logger binds the stream it was created with: when aiops.observability was first
    imported before any cloud started (another test module), its lines would bypass the capture
    and the "never logged" checks below would pass on empty logs. DEBUG, so that a secret in a
    debug line (the stack's LogLevel parameter allows it) is caught too."""
    from aiops.observability import logger

    handler = logger.registered_handler
    old_stream = getattr(handler, "stream", None)
    old_level = logger.log_level
    if hasattr(handler, "setStream"):
        handler.setStream(sys.stdout)  # the runtime's router, installed by cloud.start()
    logger.setLevel("DEBUG")
    try:
        yield
    finally:
        logger.setLevel(old_level)
        if old_stream is not None and hasattr(handler, "setStream"):
            handler.setStream(old_stream)


@contextmanager
def pending_cloud(scenario: Path = PENDING_SCENARIO) -> Iterator[PendingCloud]:
    """A fresh cloud after the scenario's first step: churn v1 waits for a person."""
    loaded = load_scenario(scenario)
    first = loaded.steps[0]
    assert first.kind == "put_object", "the scenario starts with the uploads"
    loaded.steps = [first]
    with LocalCloud(
        loaded.template,
        policy=loaded.policy,
        start=loaded.start,
        simulators=loaded.simulators,
    ) as cloud:
        recorder = Recorder()
        record_invocations(cloud, recorder)
        with _capturing_handler_logs():
            results = ScenarioRunner(loaded, cloud).run()
            assert [r.failures for r in results] == [[]]
            pending = PendingCloud(cloud, recorder)
            assert approval_items(cloud)[0]["status"] == "pending"
            assert {n["attributes"]["approver"] for n in notices(cloud)} == set(APPROVERS)
            yield pending


# ---------------------------------------------------------------------- reading state
def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def control_items(cloud: LocalCloud) -> list[dict[str, Any]]:
    dynamodb = cloud.client("dynamodb")
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=cloud.table("ControlTable"), ConsistentRead=True
    ):
        items += [_plain(raw) for raw in page["Items"]]
    return sorted(items, key=lambda i: (str(i["pk"]), str(i["sk"])))


def approval_items(cloud: LocalCloud) -> list[dict[str, Any]]:
    """Approvals (`APPROVAL#…`) and their links (`APPROVALLINK#…`), every attribute."""
    return [i for i in control_items(cloud) if str(i["pk"]).startswith("APPROVAL#")]


def link_items(cloud: LocalCloud) -> list[dict[str, Any]]:
    return [i for i in control_items(cloud) if str(i["pk"]).startswith("APPROVALLINK#")]


def notices(cloud: LocalCloud, topic: str = APPROVALS_TOPIC) -> list[dict[str, Any]]:
    return cloud.timeline.find("notify", topic=topic)


def state(cloud: LocalCloud) -> dict[str, Any]:
    """Everything a request to the page could change, once the cloud has settled: the approval
    and link items (all attributes: status, decision, task token, used_at), the registry, the
    ledger, the approval workflows, and what was mailed."""
    cloud.run_until_quiet()
    return {
        "approvals": [i for i in control_items(cloud) if str(i["pk"]).startswith("APPROVAL")],
        "packages": [
            (p["ModelPackageVersion"], p["ModelApprovalStatus"], p.get("ApprovalDescription"))
            for p in cloud.packages("churn")
        ],
        "ledger": [(e.get("seq"), e["action"], e.get("reason")) for e in cloud.ledger("churn")],
        "executions": sorted((e.name, e.status) for e in cloud.executions("ApprovalStateMachine")),
        "notices": [(n["topic"], n.get("subject")) for n in cloud.timeline.find("notify")],
    }


def ledger_actions(cloud: LocalCloud) -> list[str]:
    return [e["action"] for e in cloud.ledger("churn")]


# ---------------------------------------------------------------------- secrets
@dataclass(frozen=True)
class Secrets:
    task_tokens: list[str]
    link_ids: list[str]
    csrf_tokens: list[str]


def mailed_link_ids(cloud: LocalCloud) -> list[str]:
    return [m for n in notices(cloud) for m in LINK_IN_MAIL.findall(str(n.get("message")))]


def current_secrets(cloud: LocalCloud) -> Secrets:
    items = control_items(cloud)
    tokens = [str(i["task_token"]) for i in items if str(i["pk"]).startswith("APPROVAL#")]
    csrf = [str(i["csrf"]) for i in items if str(i["pk"]).startswith("APPROVALLINK#")]
    assert tokens and all(len(t) >= 16 for t in tokens), "every approval parks its task token"
    return Secrets(tokens, mailed_link_ids(cloud), csrf)


def link_id(path: str) -> str:
    return path.rsplit("/", 1)[-1]


SECURITY_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}


def assert_hygienic(response: HttpResponse, known: Secrets, own_path: str | None) -> None:
    """The response carries the security headers, runs no script, names no link id except its
    own in the form's action, no other link's CSRF token and never a task token."""
    csp = response.header("Content-Security-Policy") or ""
    assert "default-src 'none'" in csp, csp
    assert "frame-ancestors 'none'" in csp, csp
    for name, value in SECURITY_HEADERS.items():
        assert response.header(name) == value, (name, response.header(name))
    assert "no-store" in (response.header("Cache-Control") or "")
    body = response.text
    assert "<script" not in body.lower()
    own = link_id(own_path) if own_path else None
    outside_action = body.replace(f'action="/approvals/{own}"', "") if own else body
    for secret_id in known.link_ids:
        assert secret_id not in outside_action, "a link id is echoed outside the form's action"
    everything = body + "\n" + "\n".join(f"{k}: {v}" for k, v in response.header_items())
    for token in known.task_tokens:
        assert token not in everything, "the task token left the server"
    own_csrf = re.findall(r'name="csrf" value="([^"]+)"', body)
    for csrf in known.csrf_tokens:
        if csrf not in own_csrf:
            assert csrf not in everything, "another link's CSRF token is on the page"
    assert len(own_csrf) <= 1


def assert_nothing_leaked(pending: PendingCloud) -> None:
    """Task tokens never reach a response, a notice, an execution's output or a log; link ids
    and CSRF tokens never reach a log, and each notice carries only its own approver's link."""
    cloud = pending.cloud
    known = current_secrets(cloud)
    owners = {str(i["link_hash"]): str(i["approver"]) for i in link_items(cloud)}
    # The responses: checked again against every secret known now (v2's links, for instance).
    for response in pending.responses:
        own = _own_path(response, known)
        assert_hygienic(response, known, own)
    for notice in cloud.timeline.find("notify"):
        text = f"{notice.get('subject')}\n{notice.get('message')}\n{notice.get('attributes')}"
        for token in known.task_tokens:
            assert token not in text, f"the task token is in a notice on {notice['topic']}"
        mailed = LINK_IN_MAIL.findall(text)
        if notice["topic"] != APPROVALS_TOPIC:
            assert not mailed, f"a link is in a notice on {notice['topic']}"
        for mailed_id in mailed:
            link = owners.get(hashlib.sha256(mailed_id.encode()).hexdigest())
            assert link == notice["attributes"]["approver"], "a notice carries another's link"
        for csrf in known.csrf_tokens:
            assert csrf not in text, "a CSRF token is in a notice"
    for execution in cloud.executions():
        text = f"{execution.input} {execution.output} {execution.cause}"
        for token in known.task_tokens:
            assert token not in text, f"the task token is in {execution.name}'s input or output"
    logs = pending.recorder.logs()
    assert '"level":"' in logs, "the handlers' log lines are captured (else this proves nothing)"
    for token in known.task_tokens:
        assert token not in logs, "a task token is in the functions' logs"
    for secret_id in known.link_ids:
        assert secret_id not in logs, "a link id is in the functions' logs"
    for csrf in known.csrf_tokens:
        assert csrf not in logs, "a CSRF token is in the functions' logs"


def _own_path(response: HttpResponse, known: Secrets) -> str | None:
    match = re.search(r'action="(/approvals/[A-Za-z0-9_-]{43})"', response.text)
    if match and link_id(match.group(1)) in known.link_ids:
        return match.group(1)
    return None


def forged_id() -> str:
    return secrets.token_urlsafe(32)
