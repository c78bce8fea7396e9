"""New training data → window → run: the decisions, on in-memory fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiops.events import parse_event
from aiops.events.s3 import S3ObjectCreated
from aiops.policy import parse_policy
from aiops.retrain.new_data import NewDataDependencies, record_training_object, sweep_windows
from tests.support.events import load_event
from tests.unit.fakes import MemoryLedger, MemoryPauses, MemoryWindows, RecordingRunStarter

ROOT = Path(__file__).resolve().parents[3]
POLICY = parse_policy((ROOT / "policies" / "default.yaml").read_text())
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def upload(n: int, **overrides: object) -> S3ObjectCreated:
    fields = {
        "id": f"evt-{n}",
        "detail.object.key": f"raw/churn/2026/11/20/part-{n:04d}.csv",
        "detail.object.version-id": f"version-{n}",
        **overrides,
    }
    return parse_event(S3ObjectCreated, load_event("s3_object_created_training", **fields))


class World:
    def __init__(self) -> None:
        self.windows = MemoryWindows()
        self.runs = RecordingRunStarter()
        self.ledger = MemoryLedger()
        self.pauses = MemoryPauses()
        self.deps = NewDataDependencies(
            windows=self.windows, runs=self.runs, ledger=self.ledger, pauses=self.pauses
        )

    def deliver(self, event: S3ObjectCreated, now: datetime = NOW):
        return record_training_object(event, POLICY, self.deps, now, owner="test")


def test_objects_below_the_threshold_are_added_without_starting_a_run():
    world = World()

    decisions = [world.deliver(upload(n)) for n in range(1, 5)]

    assert [d.action for d in decisions] == ["added"] * 4
    assert world.runs.started == []


def test_the_object_that_fills_the_window_starts_one_run_with_the_reason():
    world = World()

    decisions = [world.deliver(upload(n)) for n in range(1, 6)]

    assert decisions[-1].action == "retrain_started"
    assert decisions[-1].run_id == "churn-w000001"
    assert [r.trigger.windows for r in world.runs.started] == [[1]]
    entry = world.ledger.entries[-1]
    assert entry.action == "retrain_requested" and "5 objects" in entry.reason
    assert entry.cause["event_id"] == "evt-5"


def test_a_redelivered_object_is_counted_once():
    world = World()

    decisions = [world.deliver(upload(1)) for _ in range(3)]

    assert [d.action for d in decisions] == ["added", "duplicate", "duplicate"]


def test_folder_markers_empty_objects_and_foreign_prefixes_are_ignored_with_a_reason():
    world = World()

    marker = world.deliver(
        parse_event(S3ObjectCreated, load_event("s3_object_created_folder_marker"))
    )
    empty = world.deliver(upload(7, **{"detail.object.size": 0}))
    foreign = world.deliver(
        parse_event(S3ObjectCreated, load_event("s3_object_created_outside_prefixes"))
    )

    assert (marker.action, marker.reason) == ("ignored", "folder marker, not data")
    assert (empty.action, empty.reason) == ("ignored", "zero-byte object")
    assert foreign.action == "ignored" and "prefix" in foreign.reason
    assert world.windows.pending == {}


def test_the_control_planes_own_outputs_never_trigger_it():
    world = World()

    manifest = world.deliver(
        upload(8, **{"detail.object.key": "manifests/churn/churn-w000001.json"})
    )

    assert (manifest.action, manifest.reason) == (
        "ignored",
        "the control plane's own output, not training data",
    )
    assert world.windows.pending == {}


def test_the_sweep_closes_an_aged_window_so_data_is_never_stranded():
    world = World()
    world.deliver(upload(1))

    early = sweep_windows(POLICY, world.deps, NOW + timedelta(hours=5), owner="sweep")
    aged = sweep_windows(POLICY, world.deps, NOW + timedelta(hours=6), owner="sweep")

    assert early.started == []
    assert [d.action for d in aged.started] == ["retrain_started"]
    assert world.runs.started[0].trigger.kind == "window_age"


def test_the_sweep_starts_a_closed_window_whose_run_never_started():
    world = World()
    for n in range(1, 6):
        world.deliver(upload(n))
    world.windows.started.clear()  # as if the handler died between closing and starting

    result = sweep_windows(POLICY, world.deps, NOW, owner="sweep")

    assert [d.run_id for d in result.started] == ["churn-w000001"]
    assert len(world.runs.started) == 1, "the restart is the same run, not a second one"


def test_a_dry_run_model_records_the_decision_and_starts_nothing():
    dry = parse_policy(
        (ROOT / "policies" / "default.yaml")
        .read_text()
        .replace("run_timeout: 12h", "run_timeout: 12h\n    dry_run: true")
    )
    world = World()

    decisions = [
        record_training_object(upload(n), dry, world.deps, NOW, owner="t") for n in range(1, 6)
    ]

    assert decisions[-1].action == "retrain_dry_run"
    assert world.runs.started == []
    assert world.ledger.entries[-1].action == "retrain_dry_run"


def pause(world: World, until: datetime | None = None) -> None:
    from aiops.pauses import Pause

    world.pauses.pause(
        Pause(
            model="churn", owner="cost anomaly a1", reason="endpoint spend", since=NOW, until=until
        )
    )


def test_given_paused_triggers_when_the_window_fills_then_the_run_is_held_and_data_still_counts():
    world = World()
    pause(world)

    decisions = [world.deliver(upload(n)) for n in range(1, 8)]

    assert [d.action for d in decisions] == ["added"] * 4 + ["held"] * 3
    assert "paused by cost anomaly a1" in decisions[-1].reason
    assert world.runs.started == []
    assert [e.action for e in world.ledger.entries] == ["run_held"] * 3
    # Nothing closed: the window keeps every object for the run the resume starts.
    assert world.windows.latest("churn") is None


def test_given_paused_triggers_then_the_sweep_starts_nothing_and_once_lifted_starts_one_run():
    world = World()
    pause(world)
    for n in range(1, 8):
        world.deliver(upload(n))

    while_paused = sweep_windows(POLICY, world.deps, NOW + timedelta(hours=7), owner="sweep")
    world.pauses.lift("churn")
    resumed = sweep_windows(POLICY, world.deps, NOW + timedelta(hours=7), owner="sweep")

    assert while_paused.started == []
    assert [d.action for d in resumed.started] == ["retrain_started"]
    closed = world.windows.latest("churn")
    assert closed is not None and len(closed.objects) == 7


def test_given_a_pause_that_expired_then_the_window_starts_its_run():
    world = World()
    pause(world, until=NOW + timedelta(minutes=30))

    decisions = [world.deliver(upload(n), now=NOW + timedelta(hours=1)) for n in range(1, 6)]

    assert decisions[-1].action == "retrain_started"
