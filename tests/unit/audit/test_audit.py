"""Decision chains built from the audit ledger: grouping, order, standalone decisions, filters,
live status and rendering (hand-built ledger entries, no AWS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from aiops.audit.chains import Audit, LiveStatus, build_audit, enrich, render, with_state_machine
from aiops.ledger import LedgerEntry

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
EVENT = "7b73f311-94ee-408a-8249-783f11e9a93e"
RUN = "churn-w000001"
EXECUTION = f"arn:aws:states:us-east-1:123456789012:execution:aiops-dev-retrain:{RUN}"
PIPELINE = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-train/execution/abc123"
MANIFEST = f"s3://artifacts/manifests/churn/{RUN}.json"
PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/1"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:aiops-dev-retrain"


def entry(
    action: str, minutes: float, cause: dict[str, Any], reason: str = "", model: str = "churn"
) -> LedgerEntry:
    return LedgerEntry(
        model=model,
        at=T0 + timedelta(minutes=minutes),
        action=action,
        reason=reason or f"because {action}",
        cause=cause,
    )


def full_run(
    run: str = RUN, start: float = 0, gate: str = "awaiting_approval"
) -> list[LedgerEntry]:
    """A run's entries as the retrain workflow records them."""
    execution = EXECUTION.replace(RUN, run)
    package = PACKAGE if run == RUN else f"{PACKAGE[:-1]}2"
    return [
        entry(
            "retrain_requested",
            start,
            {
                "event_id": EVENT,
                "window": "w000001",
                "objects": 5,
                "bytes": 5242880,
                "run_id": run,
                "execution": execution,
            },
            "window reached 5 objects (limit 5)",
        ),
        entry(
            "run_started",
            start,
            {"run_id": run, "trigger": "window:w000001", "event_id": EVENT},
            "window reached 5 objects (limit 5)",
        ),
        entry(
            "pipeline_started",
            start,
            {"run_id": run, "pipeline_execution": PIPELINE, "manifest": MANIFEST},
            "churn-train on 5 objects",
        ),
        entry(
            "candidate_registered",
            start + 20,
            {"run_id": run, "pipeline_execution": PIPELINE, "model_package": package},
            "version 1, auc=0.81, PendingManualApproval",
        ),
        entry(
            gate,
            start + 20,
            {"run_id": run, "model_package": package, "champion": None},
            "auc 0.812 vs champion 0.81: improvement +0.002, required 0.005",
        ),
        entry("run_succeeded", start + 20, {"run_id": run}, "run completed"),
    ]


def as_stored(entries: list[LedgerEntry]) -> list[LedgerEntry]:
    """In the ledger's sort-key order: entries of one instant are ordered by their hash."""
    return sorted(entries, key=lambda e: e.seq)


class Statuses:
    def __init__(self, statuses: dict[str, LiveStatus]) -> None:
        self.statuses = statuses
        self.asked: list[str] = []

    def status(self, arn: str) -> LiveStatus:
        self.asked.append(arn)
        return self.statuses.get(arn, LiveStatus.unavailable("ResourceNotFound: no such thing"))


# ------------------------------------------------------------------ chains


def test_given_a_run_stored_in_hash_order_when_audited_then_its_steps_are_in_workflow_order():
    entries = as_stored(full_run())

    audit = build_audit("churn", entries)

    assert [d.action for d in audit.chains[0].decisions] == [
        "retrain_requested",
        "run_started",
        "pipeline_started",
        "candidate_registered",
        "awaiting_approval",
        "run_succeeded",
    ]


def test_given_carried_windows_when_audited_then_they_come_between_lock_and_pipeline():
    carried = entry("windows_carried_in", 0, {"run_id": RUN, "windows": [3]}, "1 window(s)")
    entries = as_stored([*full_run(), carried])

    actions = [d.action for d in build_audit("churn", entries).chains[0].decisions]

    assert actions[1:4] == ["run_started", "windows_carried_in", "pipeline_started"]


def test_given_a_complete_run_when_audited_then_the_chain_links_event_to_gate_and_end():
    audit = build_audit("churn", as_stored(full_run()))

    (chain,) = audit.chains
    assert chain.run_id == RUN
    assert chain.outcome == "succeeded"
    assert chain.trigger is not None
    assert (chain.trigger.kind, chain.trigger.event_id, chain.trigger.trigger_id) == (
        "new_data",
        EVENT,
        "window:w000001",
    )
    assert chain.trigger.reason == "window reached 5 objects (limit 5)"
    assert chain.execution is not None
    assert (chain.execution.name, chain.execution.arn) == (RUN, EXECUTION)
    assert (chain.pipeline_execution, chain.manifest) == (PIPELINE, MANIFEST)
    assert chain.package is not None
    assert (chain.package.name, chain.package.arn) == ("churn/1", PACKAGE)
    assert chain.gate is not None
    assert chain.gate.outcome == "awaiting approval"
    assert chain.end is not None
    assert (chain.end.outcome, chain.end.at) == ("succeeded", T0 + timedelta(minutes=20))


def test_given_interleaved_runs_when_audited_then_entries_group_by_run_id_oldest_run_first():
    second = full_run("churn-w000002", start=10, gate="gate_rejected")
    first = full_run(RUN, start=0)
    entries = as_stored(second + first)

    audit = build_audit("churn", entries)

    assert [c.run_id for c in audit.chains] == [RUN, "churn-w000002"]
    assert all(d.cause["run_id"] == chain.run_id for chain in audit.chains for d in chain.decisions)
    assert len(audit.chains[1].decisions) == 6
    gate = audit.chains[1].gate
    assert gate is not None and gate.outcome == "rejected"
    assert gate.reason == "auc 0.812 vs champion 0.81: improvement +0.002, required 0.005"


def test_given_decisions_without_a_run_when_audited_then_they_are_standalone_in_time_order():
    entries = [
        entry("drift_alert_only", 30, {"event_id": "e-2", "violations": 1}, "1 violation, min 2"),
        *full_run(),
        entry("drift_ignored", 5, {"event_id": "e-1"}, "within cooldown"),
        entry("drift_report_invalid", 40, {"report": "s3://r/x.json"}, "not JSON"),
    ]

    audit = build_audit("churn", entries)

    assert [d.action for d in audit.standalone] == [
        "drift_ignored",
        "drift_alert_only",
        "drift_report_invalid",
    ]
    assert [c.run_id for c in audit.chains] == [RUN]
    assert audit.standalone[1].reason == "1 violation, min 2"
    text = render(audit)
    assert text.index("standalone decisions\n") < text.index("drift_ignored")
    assert "within cooldown  (event e-1)" in text


def test_given_unknown_actions_when_audited_then_they_are_kept_as_decisions_without_error():
    entries = [
        *full_run(),
        entry("approval_granted", 20, {"run_id": RUN, "approver": "ml-lead"}, "approved"),
        entry("something_new", 50, {"odd": ["shape", 1]}, "a future decision"),
        entry("retrain_requested", 60, {"run_id": 42}, "a run id that is not a string"),
    ]

    audit = build_audit("churn", as_stored(entries))

    actions = [d.action for d in audit.chains[0].decisions]
    assert actions.index("approval_granted") == actions.index("run_succeeded") - 1
    assert [d.action for d in audit.standalone] == ["something_new", "retrain_requested"]
    line = next(x for x in render(audit).splitlines() if "approval_granted" in x)
    assert line.split() == ["2026-11-20T02:20:00Z", "approval_granted", "approved"]


def test_given_a_drift_decision_that_starts_a_run_when_audited_then_it_is_the_trigger():
    entries = [
        entry("run_started", 0, {"run_id": "churn-d-1", "trigger": "drift:job-1"}, "2 features"),
        entry(
            "drift_retrain",
            0,
            {"run_id": "churn-d-1", "event_id": "e-9", "execution": "arn:x:churn-d-1"},
            "2 features drifted",
        ),
    ]

    chain = build_audit("churn", entries).chains[0]

    assert chain.decisions[0].action == "drift_retrain"
    assert chain.trigger is not None
    assert (chain.trigger.kind, chain.trigger.event_id) == ("drift", "e-9")
    assert chain.outcome == "open"


def test_given_a_coalesced_trigger_and_its_follow_up_when_audited_then_both_chains_say_so():
    entries = [
        *full_run(RUN, start=0),
        entry(
            "retrain_requested",
            5,
            {"window": "w000002", "run_id": "churn-w000002", "execution": "arn:x:churn-w000002"},
        ),
        entry(
            "trigger_coalesced",
            5,
            {"run_id": "churn-w000002", "holder": RUN, "trigger": "window:w000002"},
        ),
        entry(
            "follow_up_started",
            20,
            {"run_id": "churn-f-abc", "after": RUN, "execution": "arn:x:churn-f-abc"},
            "coalesced 1 trigger(s)",
        ),
    ]

    audit = build_audit("churn", as_stored(entries))

    coalesced = next(c for c in audit.chains if c.run_id == "churn-w000002")
    follow_up = next(c for c in audit.chains if c.run_id == "churn-f-abc")
    assert (coalesced.outcome, coalesced.coalesced_into) == ("coalesced", RUN)
    assert coalesced.trigger is not None and coalesced.trigger.kind == "window_age"
    assert follow_up.trigger is not None
    assert (follow_up.trigger.kind, follow_up.trigger.after_run) == ("follow_up", RUN)
    assert f"run churn-w000002  coalesced into run {RUN}" in render(audit)


def test_given_a_dry_run_when_audited_then_the_chain_has_no_execution_and_says_dry_run():
    entries = [entry("retrain_dry_run", 0, {"run_id": RUN, "window": "w000001"}, "dry_run")]

    chain = build_audit("churn", entries).chains[0]

    assert (chain.outcome, chain.execution) == ("dry run", None)


def test_given_other_models_entries_when_auditing_one_model_then_only_its_entries_count():
    entries = [*full_run(), entry("retrain_requested", 1, {"run_id": "fraud-w1"}, model="fraud")]

    audit = build_audit("churn", entries)

    assert audit.entries == 6
    assert [c.run_id for c in audit.chains] == [RUN]


# ------------------------------------------------------------------ filters


def test_given_since_when_audited_then_old_chains_and_decisions_go_and_straddling_ones_stay_whole():
    entries = [
        *full_run(RUN, start=0),  # ends at +20m
        *full_run("churn-w000002", start=100),  # +100m … +120m
        entry("drift_ignored", 10, {}),
        entry("drift_alert_only", 110, {}),
    ]

    audit = build_audit("churn", entries, since=T0 + timedelta(minutes=110))

    assert [c.run_id for c in audit.chains] == ["churn-w000002"]
    assert len(audit.chains[0].decisions) == 6  # its entries before the cutoff too
    assert [d.action for d in audit.standalone] == ["drift_alert_only"]
    assert audit.entries == 14


def test_given_a_run_filter_when_audited_then_only_that_chain_and_no_standalone_decisions():
    entries = [*full_run(RUN), *full_run("churn-w000002", start=100), entry("drift_ignored", 1, {})]

    audit = build_audit("churn", entries, run="churn-w000002")

    assert [c.run_id for c in audit.chains] == ["churn-w000002"]
    assert audit.standalone == []


# ------------------------------------------------------------------ live status


def test_given_lookups_when_enriched_then_execution_and_package_carry_their_status_now():
    executions = Statuses({EXECUTION: LiveStatus.of("SUCCEEDED")})
    packages = Statuses({})

    audit = enrich(build_audit("churn", full_run()), executions, packages)

    chain = audit.chains[0]
    assert chain.execution is not None and chain.execution.status == LiveStatus.of("SUCCEEDED")
    assert chain.package is not None and chain.package.approval is not None
    assert chain.package.approval.text() == "unknown (ResourceNotFound: no such thing)"
    assert (executions.asked, packages.asked) == ([EXECUTION], [PACKAGE])
    text = render(audit)
    assert f"execution   {RUN}  status SUCCEEDED" in text
    assert "package     churn/1  approval now unknown (ResourceNotFound: no such thing)" in text


def test_given_a_chain_without_execution_arn_when_the_state_machine_is_known_then_it_is_named():
    entries = [e for e in full_run() if e.action != "retrain_requested"]
    audit = build_audit("churn", entries)
    assert audit.chains[0].execution is not None and audit.chains[0].execution.arn is None

    named = with_state_machine(audit, MACHINE)

    execution = named.chains[0].execution
    assert execution is not None and execution.arn == EXECUTION


def test_given_no_execution_arn_and_no_state_machine_when_enriched_then_status_is_unknown():
    entries = [e for e in full_run() if e.action != "retrain_requested"]

    audit = enrich(build_audit("churn", entries), Statuses({}), None)

    execution = audit.chains[0].execution
    assert execution is not None and execution.status is not None
    assert execution.status.text() == "unknown (execution ARN not recorded)"


# ------------------------------------------------------------------ output


def test_given_non_utc_times_when_rendered_then_times_are_iso_utc_and_the_tree_is_indented():
    plus_two = timezone(timedelta(hours=2))
    entries = [e.model_copy(update={"at": e.at.astimezone(plus_two)}) for e in full_run()]

    text = render(build_audit("churn", entries))

    lines = text.splitlines()
    assert lines[0] == "churn: 1 run, 0 standalone decisions (6 ledger entries)"
    assert f"run {RUN}  succeeded  2026-11-20T02:00:00Z … 2026-11-20T02:20:00Z" in lines
    assert "    2026-11-20T02:00:00Z  retrain_requested     window reached 5 objects (limit 5)" in (
        lines
    )
    assert f"              event {EVENT}, window:w000001" in lines
    assert "+02:00" not in text


def test_given_an_audit_when_dumped_to_json_then_it_reads_back_equal():
    audit = enrich(build_audit("churn", full_run()), Statuses({}), Statuses({}))

    again = Audit.model_validate(audit.model_dump(mode="json"))

    assert again == audit


def test_given_a_person_approved_the_candidate_at_the_runs_end_then_the_chain_names_who_after_it():
    # Given a run whose candidate a person approved on the page, recorded in the same instant
    approval = {"run_id": RUN, "model_package": PACKAGE}
    entries = [
        *full_run(),
        entry("approval_requested", 20, approval, "ml-lead@example.com decide within 72h"),
        entry(
            "approved",
            20,
            {**approval, "approver": "ml-lead@example.com", "via": "page", "comment": "ok"},
            "approved by ml-lead@example.com on the approval page: ok",
        ),
    ]

    # When audited
    (chain,) = build_audit("churn", as_stored(entries)).chains

    # Then the approval comes after the run's end, with who decided and how
    assert [d.action for d in chain.decisions][-2:] == ["run_succeeded", "approved"]
    assert chain.approval is not None
    assert (chain.approval.outcome, chain.approval.approver, chain.approval.via) == (
        "approved",
        "ml-lead@example.com",
        "page",
    )
    assert "approval    approved at " in render(build_audit("churn", as_stored(entries)))


def test_given_an_approval_still_waiting_then_the_chain_says_pending():
    entries = [
        *full_run(),
        entry("approval_requested", 20, {"run_id": RUN, "model_package": PACKAGE}, "decide"),
    ]

    (chain,) = build_audit("churn", as_stored(entries)).chains

    assert chain.approval is not None and chain.approval.outcome == "pending"
