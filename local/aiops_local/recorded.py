"""Recorded events, read from the files users have them in, for `aiops local replay`.

Three forms, told apart line by line (a file may mix them):

- an EventBridge event per line: what `aiops events export` writes from the stack's event log
  (and what a user's own archive or `jq -c` of one gives); a CloudWatch Logs record whose
  `message` is the event (`aws logs filter-log-events` output, one record per line) too;
- a plain JSON file: one event, or an array of events (the `events/` samples);
- our own `aiops local run --json` timeline: its `kind: event` entries' `event`; every other
  entry (invocations, decisions, schedule ticks) is the replay's to make again, and is skipped.

A line that is none of these, or an event without what the replay needs (a source, a detail-type,
a detail object, a time), is an error naming the file, the line and the reason: nothing is
replayed from a recording the replay cannot read whole.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Bounds: an EventBridge event is at most 256 KB; a recording is months of one stack's events.
MAX_LINE_BYTES = 1024 * 1024
MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_EVENTS = 200_000
MAX_SPAN = timedelta(days=400)
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)

FORM_EVENT = "event"
FORM_LOG_RECORD = "log record"
FORM_TIMELINE = "timeline"


class RecordingError(ValueError):
    """A recording the replay cannot read: `path:line: reason`."""

    def __init__(self, path: Path, line: int | None, reason: str) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class RecordedEvent:
    """One event as recorded, with where it was read and its own time."""

    event: dict[str, Any]
    time: datetime
    path: Path
    line: int  # 1-based line; for a JSON array file, the item's position
    form: str
    # What the recording says about who put it on the bus (timelines only): scenario or
    # control_plane.
    origin: str | None = None

    @property
    def id(self) -> str:
        return str(self.event.get("id", ""))

    @property
    def source(self) -> str:
        return str(self.event.get("source", ""))

    @property
    def detail_type(self) -> str:
        return str(self.event.get("detail-type", ""))

    @property
    def detail(self) -> dict[str, Any]:
        detail = self.event.get("detail")
        return detail if isinstance(detail, dict) else {}

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class Recording:
    events: list[RecordedEvent] = field(default_factory=list)
    # Timeline entries that are not events (invocations, decisions, ...), and schedule ticks.
    other_entries: int = 0
    schedule_ticks: int = 0
    forms: dict[str, int] = field(default_factory=dict)

    def add(self, event: RecordedEvent) -> None:
        if len(self.events) >= MAX_EVENTS:
            raise RecordingError(
                event.path, event.line, f"more than {MAX_EVENTS} events: replay a shorter period"
            )
        self.events.append(event)
        self.forms[event.form] = self.forms.get(event.form, 0) + 1


def read_recordings(paths: list[Path]) -> Recording:
    """Every event of the files, in time order (file order among events of the same second).
    Raises `RecordingError` for the first line that cannot be read."""
    recording = Recording()
    for path in paths:
        _read_file(path, recording)
    if not recording.events:
        raise (
            RecordingError(paths[0], None, "no events to replay")
            if paths
            else RecordingError(Path("-"), None, "no files given")
        )
    recording.events.sort(key=lambda e: e.time)  # stable: file order within a second
    span = recording.events[-1].time - recording.events[0].time
    if span > MAX_SPAN:
        first, last = recording.events[0], recording.events[-1]
        raise RecordingError(
            last.path,
            last.line,
            f"the events span {span.days} days ({first.time:%Y-%m-%d} to {last.time:%Y-%m-%d}); "
            f"replay at most {MAX_SPAN.days} days at a time",
        )
    return recording


def _read_file(path: Path, recording: Recording) -> None:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise RecordingError(path, None, f"larger than {MAX_FILE_BYTES // 2**20} MiB")
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise RecordingError(path, None, f"not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise RecordingError(path, None, error.strerror or str(error)) from None
    whole = _whole_document(text)
    if isinstance(whole, list):
        for index, item in enumerate(whole, start=1):
            _take(item, path, index, recording)
        return
    if isinstance(whole, dict):
        _take(whole, path, 1, recording)
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(line.encode("utf-8")) > MAX_LINE_BYTES:
            raise RecordingError(path, number, f"line longer than {MAX_LINE_BYTES} bytes")
        try:
            item = json.loads(line)
        except ValueError as error:
            raise RecordingError(path, number, f"not JSON: {error}") from None
        except RecursionError:
            raise RecordingError(path, number, "not JSON: nested too deeply") from None
        _take(item, path, number, recording)


def _whole_document(text: str) -> Any:
    """The file as one JSON document (an event, or an array of them), or None when it is not
    one (JSON lines, or broken: the lines then say where)."""
    stripped = text.strip()
    if not stripped.startswith(("[", "{")):
        return None
    try:
        return json.loads(stripped)
    except (ValueError, RecursionError):
        return None


def _take(item: Any, path: Path, line: int, recording: Recording) -> None:
    if not isinstance(item, dict):
        raise RecordingError(path, line, f"a JSON object is expected, not {type(item).__name__}")
    if _is_timeline_entry(item):
        if item["kind"] != "event":
            recording.other_entries += 1
            return
        event = item.get("event")
        if not isinstance(event, dict):
            # The runtime's own schedule ticks: the replay's schedules fire by themselves.
            recording.schedule_ticks += 1
            return
        origin = item.get("origin")
        recording.add(
            _recorded(event, path, line, FORM_TIMELINE, origin if isinstance(origin, str) else None)
        )
        return
    if isinstance(item.get("message"), str) and "timestamp" in item:
        try:
            event = json.loads(item["message"])
        except ValueError as error:
            raise RecordingError(
                path, line, f"a log record whose message is not JSON: {error}"
            ) from None
        if not isinstance(event, dict) or not _is_event(event):
            raise RecordingError(path, line, "a log record whose message is not an event")
        recording.add(_recorded(event, path, line, FORM_LOG_RECORD))
        return
    if _is_event(item):
        recording.add(_recorded(item, path, line, FORM_EVENT))
        return
    raise RecordingError(
        path,
        line,
        "not an EventBridge event (no source and detail-type), an `aiops local run --json` "
        "timeline entry, or a CloudWatch Logs record of one",
    )


def _is_timeline_entry(item: dict[str, Any]) -> bool:
    return isinstance(item.get("kind"), str) and "seq" in item and "text" in item


def _is_event(item: dict[str, Any]) -> bool:
    return "source" in item and "detail-type" in item


def _recorded(
    event: dict[str, Any], path: Path, line: int, form: str, origin: str | None = None
) -> RecordedEvent:
    def fail(reason: str) -> RecordingError:
        return RecordingError(path, line, reason)

    for name in ("source", "detail-type"):
        value = event.get(name)
        if not isinstance(value, str) or not value:
            raise fail(f"{name} must be a non-empty string, not {value!r}")
    if not isinstance(event.get("detail", {}), dict):
        raise fail("detail must be a JSON object")
    raw_time = event.get("time")
    if raw_time is None:
        raise fail("no time: the replay puts each event on the bus at its own time")
    when = parse_time(raw_time)
    if when is None:
        raise fail(f"time must be an ISO 8601 time such as 2026-11-20T03:00:00Z, not {raw_time!r}")
    if not _EARLIEST <= when < _LATEST:
        raise fail(f"time {raw_time!r} is outside {_EARLIEST.year}-{_LATEST.year - 1}")
    event = dict(event)
    event_id = event.get("id")
    if event_id is None:
        # The same id in both runs (and on every replay): the control plane is idempotent on it.
        event["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"aiops-replay:{path.name}:{line}"))
    elif not isinstance(event_id, str) or not event_id:
        raise fail(f"id must be a non-empty string, not {event_id!r}")
    return RecordedEvent(event, when, path, line, form, origin)


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time (`Z` or an offset) as an aware UTC datetime, to the second; None when
    it is not one."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return when.astimezone(UTC).replace(microsecond=0)
