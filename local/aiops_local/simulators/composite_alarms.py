"""CloudWatch composite alarms evaluated offline: a rule over other alarms' states.

moto 5.2.5 has no PutCompositeAlarm (`patches/cloudwatch_composite.py` adds it on moto's own
alarm store). This simulator evaluates each composite alarm's `AlarmRule` as CloudWatch does:
`ALARM(name)`, `OK(name)`, `INSUFFICIENT_DATA(name)` (a name, quoted or not, or an alarm ARN),
`TRUE`, `FALSE`, `NOT`, `AND`, `OR` and parentheses; the composite is ALARM while its rule holds,
OK otherwise. It is evaluated when it is created and whenever one of the alarms it names changes
state, and set with SetAlarmState only when its state changes, so the `cloudwatch_alarms`
simulator emits the state-change event and runs its actions. A rule it cannot read (such as
`AT_LEAST`) leaves the composite as it is, listed in `unreadable`.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from botocore.exceptions import ClientError

from aiops_local.alarm_notifications import alarm_arn, alarm_name
from aiops_local.patches.botocore_calls import ApiCall
from aiops_local.simulators.base import Simulator, SimulatorHost, register

ALARM, OK, INSUFFICIENT = "ALARM", "OK", "INSUFFICIENT_DATA"
_TOKEN = re.compile(
    r"\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<word>ALARM|OK|INSUFFICIENT_DATA|TRUE|FALSE|NOT|AND|OR)\b"
    r'|"(?P<quoted>[^"]+)"|(?P<name>[^\s()"]+))'
)


class RuleError(ValueError):
    """An AlarmRule this simulator does not read."""


@dataclass(frozen=True)
class Check:
    state: str
    alarm: str  # as the rule names it: a name or an ARN


Node = tuple[object, ...]  # ("check", Check) | ("const", bool) | ("not", n) | ("and"|"or", a, b)


def _tokens(rule: str) -> list[tuple[str, str]]:
    tokens = []
    position = 0
    rule = rule.strip()
    while position < len(rule):
        match = _TOKEN.match(rule, position)
        if match is None or match.end() == position:
            raise RuleError(f"cannot read the rule at {rule[position : position + 20]!r}")
        kind = next(k for k, v in match.groupdict().items() if v is not None)
        tokens.append((kind, match.group(kind)))
        position = match.end()
        while position < len(rule) and rule[position].isspace():
            position += 1
    return tokens


def parse_rule(rule: str) -> Node:
    tokens = _tokens(rule)
    node, rest = _or(tokens)
    if rest:
        raise RuleError(f"unexpected {rest[0][1]!r} in the rule")
    return node


def _or(tokens: list[tuple[str, str]]) -> tuple[Node, list[tuple[str, str]]]:
    node, tokens = _and(tokens)
    while tokens and tokens[0] == ("word", "OR"):
        right, tokens = _and(tokens[1:])
        node = ("or", node, right)
    return node, tokens


def _and(tokens: list[tuple[str, str]]) -> tuple[Node, list[tuple[str, str]]]:
    node, tokens = _factor(tokens)
    while tokens and tokens[0] == ("word", "AND"):
        right, tokens = _factor(tokens[1:])
        node = ("and", node, right)
    return node, tokens


def _factor(tokens: list[tuple[str, str]]) -> tuple[Node, list[tuple[str, str]]]:
    if not tokens:
        raise RuleError("the rule ends too early")
    kind, text = tokens[0]
    if (kind, text) == ("word", "NOT"):
        node, rest = _factor(tokens[1:])
        return ("not", node), rest
    if kind == "lp":
        node, rest = _or(tokens[1:])
        if not rest or rest[0][0] != "rp":
            raise RuleError("a parenthesis is not closed")
        return node, rest[1:]
    if kind == "word" and text in ("TRUE", "FALSE"):
        return ("const", text == "TRUE"), tokens[1:]
    if kind == "word" and text in (ALARM, OK, INSUFFICIENT):
        if (
            len(tokens) < 4
            or tokens[1][0] != "lp"
            or tokens[2][0] not in ("quoted", "name", "word")
            or tokens[3][0] != "rp"
        ):
            raise RuleError(f"{text} takes one alarm name or ARN in parentheses")
        return ("check", Check(text, tokens[2][1])), tokens[4:]
    raise RuleError(f"unexpected {text!r} in the rule")


def _holds(node: Node, state_of: dict[str, str]) -> bool:
    kind = node[0]
    if kind == "const":
        return bool(node[1])
    if kind == "not":
        return not _holds(node[1], state_of)  # type: ignore[arg-type]
    if kind == "and":
        return _holds(node[1], state_of) and _holds(node[2], state_of)  # type: ignore[arg-type]
    if kind == "or":
        return _holds(node[1], state_of) or _holds(node[2], state_of)  # type: ignore[arg-type]
    check = node[1]
    assert isinstance(check, Check)
    return state_of.get(alarm_name(check.alarm), INSUFFICIENT) == check.state


def _checks(node: Node) -> list[Check]:
    if node[0] == "check":
        return [node[1]]  # type: ignore[list-item]
    return [c for child in node[1:] if isinstance(child, tuple) for c in _checks(child)]


def referenced(rule: str) -> list[str]:
    """The alarms a rule names (as it names them); none when it cannot be read."""
    try:
        return list(dict.fromkeys(c.alarm for c in _checks(parse_rule(rule))))
    except RuleError:
        return []


def _when(moment: datetime) -> str:
    # As CloudWatch writes it in a composite alarm's reason: Friday 20 November, 2026 02:00:00 UTC
    return moment.strftime("%A %d %B, %Y %H:%M:%S UTC")


@register
class CompositeAlarmSimulator(Simulator):
    name = "composite_alarms"
    watches: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {
            ("cloudwatch", "PutCompositeAlarm"),
            ("cloudwatch", "PutMetricAlarm"),
            ("cloudwatch", "SetAlarmState"),
            ("cloudwatch", "DeleteAlarms"),
        }
    )

    def __init__(self, host: SimulatorHost) -> None:
        super().__init__(host)
        self._rules: dict[str, Node] = {}
        self._states: dict[str, str] = {}
        self._lock = threading.RLock()
        self.unreadable: dict[str, str] = {}  # composite → why its rule is not evaluated

    def on_call(self, call: ApiCall) -> None:
        if call.error is not None:
            return
        if call.operation == "DeleteAlarms":
            with self._lock:
                for name in call.params.get("AlarmNames") or []:
                    self._rules.pop(name, None)
                    self._states.pop(name, None)
                    self.unreadable.pop(name, None)
            return
        name = str(call.params["AlarmName"])
        if call.operation == "PutMetricAlarm":
            with self._lock:
                self._states.setdefault(name, INSUFFICIENT)
            return
        if call.operation == "PutCompositeAlarm":
            with self._lock:
                self._states.setdefault(name, INSUFFICIENT)
                try:
                    self._rules[name] = parse_rule(str(call.params.get("AlarmRule", "")))
                    self.unreadable.pop(name, None)
                except RuleError as error:
                    self._rules.pop(name, None)
                    self.unreadable[name] = str(error)
                    return
            # CloudWatch evaluates a new composite alarm at once.
            self.host.agenda.at(
                self.host.clock.time(),
                f"evaluate composite alarm {name}",
                lambda: self._evaluate(name),
            )
            return
        with self._lock:
            self._states[name] = str(call.params["StateValue"])
            parents = [
                parent
                for parent, node in self._rules.items()
                if parent != name and any(alarm_name(c.alarm) == name for c in _checks(node))
            ]
        for parent in parents:
            self._evaluate(parent, because=name)

    def settle(self) -> None:
        with self._lock:
            names = sorted(self._rules)
        for name in names:
            self._evaluate(name)

    def _evaluate(self, name: str, because: str | None = None) -> None:
        with self._lock:
            node = self._rules.get(name)
            if node is None:
                return
            states = dict(self._states)
        current = states.get(name, INSUFFICIENT)
        state = ALARM if _holds(node, states) else OK
        if state == current:
            return
        now = self.host.clock.now()
        if because is not None:
            arn = alarm_arn(because, self.host.region, self.host.account)
            reason = f"{arn} transitioned to {states.get(because)} at {_when(now)}"
        else:
            reason = f"The rule evaluated to {state == ALARM} at {_when(now)}"
        try:
            self.host.client("cloudwatch").set_alarm_state(
                AlarmName=name, StateValue=state, StateReason=reason[:1023]
            )
        except ClientError:
            with self._lock:
                self._rules.pop(name, None)
