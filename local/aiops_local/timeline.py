"""The timeline: everything that happened in the embedded cloud, in order.

Entries are plain dicts so that `--json` prints exactly what tests and scenarios match on. Every
entry has `seq`, `t` (virtual seconds since the cloud started), `time` (virtual ISO time),
`kind` and `text` (one line for a human), plus fields that depend on the kind:

  event      source, detail_type, id, bus, matched (rules), origin (scenario | control_plane),
             event (the whole event)
  rule       rule, target, function | state_machine
  invoke     function, status (ok | error), error, api_calls, via
  execution  state_machine, execution, status (RUNNING | SUCCEEDED | FAILED | ...), state
  api        service, operation, function | state_machine, error
  decision   model, action, reason
  notify     topic, subject
  error      error, function | state_machine | source
  dlq        function, queue, error
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, TextIO

from aiops_local.clock import VirtualClock

KINDS = ("event", "rule", "invoke", "execution", "api", "decision", "notify", "error", "dlq")

Entry = dict[str, Any]


class Timeline:
    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock
        self._entries: list[Entry] = []
        self._lock = threading.Lock()

    def add(self, kind: str, text: str, **fields: Any) -> Entry:
        if kind not in KINDS:
            raise ValueError(f"unknown timeline kind {kind!r}")
        entry: Entry = {
            "t": round(self._clock.elapsed().total_seconds(), 3),
            "time": self._clock.now().isoformat().replace("+00:00", "Z"),
            "kind": kind,
            "text": text,
        }
        entry.update({k: v for k, v in fields.items() if v is not None})
        with self._lock:
            entry["seq"] = len(self._entries)
            self._entries.append(entry)
        return entry

    def entries(self, since: int = 0) -> list[Entry]:
        with self._lock:
            return list(self._entries[since:])

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries())

    def find(self, kind: str | None = None, **fields: Any) -> list[Entry]:
        return [e for e in self.entries() if _is(e, kind, fields)]


def _is(entry: Entry, kind: str | None, fields: dict[str, Any]) -> bool:
    """The entry is of `kind` (any, if None) and has those field values."""
    return (kind is None or entry["kind"] == kind) and all(
        entry.get(k) == v for k, v in fields.items()
    )


# ---------------------------------------------------------------------- rendering
_PUBLIC = ("seq", "t", "time", "kind", "text")


def to_json_line(entry: Entry) -> str:
    ordered = {k: entry[k] for k in _PUBLIC if k in entry}
    ordered.update({k: v for k, v in entry.items() if k not in ordered and not k.startswith("_")})
    return json.dumps(ordered, default=str, sort_keys=False)


def _offset(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    stamp = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"+{days}d {stamp}" if days else f"+{stamp}"


_DATE_WIDTH = len("2026-11-20")


def _clock(entry: Entry, with_date: bool) -> str:
    """The entry's virtual clock time (UTC): `02:20:00`, after its date when `with_date`."""
    try:
        when = datetime.fromisoformat(str(entry["time"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return f"{_offset(entry['t']):>{_DATE_WIDTH + 9}}"
    return (
        f"{when:%Y-%m-%d} {when:%H:%M:%S}" if with_date else f"{'':{_DATE_WIDTH}} {when:%H:%M:%S}"
    )


def _date(entry: Entry) -> str:
    return str(entry.get("time", ""))[:_DATE_WIDTH]


def to_human_line(entry: Entry, with_date: bool = True) -> str:
    # API calls and execution states belong to the invocation or execution above them.
    nested = entry["kind"] == "api" or (entry["kind"] == "execution" and entry.get("state"))
    indent = "    " if nested else ""
    return f"{_clock(entry, with_date)}  {indent}{entry['kind']:<9} {entry['text']}"


def in_story(entry: Entry, show_api: bool = True) -> bool:
    """Whether the human-readable timeline shows the entry. Left out: AWS calls unless asked for,
    and events no rule matched that the control plane caused itself (the datasets, manifests and
    reports its functions and the AWS services working for them write to its own buckets). An
    event of the scenario's that no rule matched stays: it says why nothing happened."""
    if entry["kind"] == "api":
        return show_api
    return not (
        entry["kind"] == "event"
        and entry.get("matched") == 0
        and entry.get("origin") == "control_plane"
    )


def _tick(entry: Entry) -> bool:
    """A schedule firing: its event, or the invocation it made."""
    if entry["kind"] == "event":
        return entry.get("source") == "aws.scheduler"
    return entry["kind"] == "invoke" and str(entry.get("via", "")).startswith("schedule ")


class Story:
    """Human-readable lines for a timeline printed as it grows: clock times, with the date on
    the first line and on each line where the date changes.

    A schedule that fires and changes nothing (the sweeps and the watch every few minutes) is
    left out: a scheduled invocation is shown, with its schedule's event, when it failed or when
    its handler says what it did (an `action`, as the sweeps do when they start a run); what it
    caused (decisions, executions, notices) is shown in any case."""

    def __init__(self, show_api: bool = True) -> None:
        self.show_api = show_api
        self._date: str | None = None
        self._held: list[Entry] = []

    def lines(self, entries: Iterable[Entry]) -> list[str]:
        lines: list[str] = []

        def show(entry: Entry) -> None:
            date = _date(entry)
            lines.append(to_human_line(entry, with_date=date != self._date))
            self._date = date

        for entry in entries:
            if not in_story(entry, self.show_api):
                continue
            if _tick(entry) and entry["kind"] == "event":
                self._held.append(entry)
            elif entry["kind"] == "api" and _called_by_tick(entry, self._held):
                self._held.append(entry)  # the tick's own calls: shown only with the tick
            elif _tick(entry):
                function = str(entry.get("function", ""))
                own = [e for e in self._held if _of_function(e, function)]
                self._held = [e for e in self._held if e not in own]
                if entry.get("status") != "ok" or entry.get("action"):
                    for earlier in (*own, entry):
                        show(earlier)
            else:
                show(entry)
        return lines


def _of_function(entry: Entry, function: str) -> bool:
    """The held entry belongs to `function`'s tick: its schedule's event (SAM names a schedule
    `<Function><EventName>`, e.g. `WindowSweepFunctionSweep`) or one of its API calls."""
    if entry["kind"] == "event":
        return bool(function) and str(entry.get("schedule", "")).startswith(function)
    return entry.get("function") == function


def _called_by_tick(entry: Entry, held: list[Entry]) -> bool:
    function = str(entry.get("function") or "")
    return any(e["kind"] == "event" and _of_function(e, function) for e in held)


def render(
    entries: Iterable[Entry],
    stream: TextIO,
    as_json: bool,
    show_api: bool = True,
    story: Story | None = None,
) -> None:
    """Write entries as JSON lines (every entry) or as the human story (`story` carries the date
    shown last across calls)."""
    if as_json:
        for entry in entries:
            stream.write(to_json_line(entry) + "\n")
    else:
        for line in (story or Story(show_api)).lines(entries):
            stream.write(line + "\n")
    stream.flush()


def summary(entries: Iterable[Entry]) -> str:
    """One closing line: how much of each thing happened."""
    entries = list(entries)

    def count(kind: str, **fields: Any) -> int:
        return sum(1 for e in entries if _is(e, kind, fields))

    ends = [e for e in entries if e["kind"] == "execution" and e.get("status") != "RUNNING"]
    started = sum(
        1
        for e in entries
        if e["kind"] == "execution" and e.get("status") == "RUNNING" and not e.get("state")
    )
    statuses = ", ".join(sorted({str(e["status"]) for e in ends}))
    parts = [
        f"{count('event')} events",
        f"{count('invoke')} invocations ({count('invoke', status='error')} failed)",
        f"{started} executions" + (f" ({statuses})" if statuses else ""),
        f"{count('decision')} decisions",
        f"{count('notify')} notifications",
        f"{count('dlq')} dead letters",
        f"{count('api')} AWS calls by the control plane",
    ]
    return "summary: " + ", ".join(parts)
