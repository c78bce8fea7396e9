"""The timeline: everything that happened in the embedded cloud, in order.

Entries are plain dicts so that `--json` prints exactly what tests and scenarios match on. Every
entry has `seq`, `t` (virtual seconds since the cloud started), `time` (virtual ISO time),
`kind` and `text` (one line for a human), plus fields that depend on the kind:

  event      source, detail_type, id, bus, matched (rules), event (the whole event)
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


def to_human_line(entry: Entry) -> str:
    # API calls and execution states belong to the invocation or execution above them.
    indent = "    " if entry["kind"] == "api" or entry.get("state") else ""
    return f"{_offset(entry['t']):>13}  {indent}{entry['kind']:<9} {entry['text']}"


def render(entries: Iterable[Entry], stream: TextIO, as_json: bool, show_api: bool = True) -> None:
    for entry in entries:
        if as_json:
            stream.write(to_json_line(entry) + "\n")
        elif show_api or entry["kind"] != "api":
            stream.write(to_human_line(entry) + "\n")
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
