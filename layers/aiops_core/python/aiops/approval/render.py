"""The approval page as HTML: one PageView in, one self-contained document out.

The page runs no script and loads nothing: one <style> carrying the request's CSP nonce, charts
as inline SVG, no style= attribute. Everything in the view is untrusted text and leaves through
Jinja's autoescape (or Markup.format in the charts), so no name or comment can become markup.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from aiops.approval.charts import distribution_bars, format_value, history_sparkline, metrics_bars
from aiops.approval.model import (
    MAX_COMMENT,
    ApprovalStatus,
    ApprovalSummary,
    Decision,
    DecisionVia,
    MetricRow,
    PageView,
)

TEMPLATES = Path(__file__).with_name("templates")
MAX_DRIFT_CHARTS = 12
# A CSP nonce is a base64 value of at least 128 bits; anything else is a caller's bug (and a
# quote in it would break out of the attribute).
NONCE = re.compile(r"[A-Za-z0-9+/_-]{22,}={0,2}")

VIA_TEXT: dict[DecisionVia, str] = {
    "page": "on the approval page",
    "studio": "in SageMaker Studio",
    "cli": "with the aiops CLI",
    "supersede": "superseded by a newer candidate",
    "timeout": "no decision before the timeout",
    "failure": "the approval stage failed",
}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SIZE_UNITS = ("kB", "MB", "GB", "TB", "PB")


@dataclass(frozen=True)
class _MetricLine:
    """One row of the metrics table, as the page writes it."""

    name: str
    candidate: str
    champion: str
    difference: str
    gated: bool


def render_page(view: PageView, nonce: str) -> str:
    """The complete HTML document for `view`; `nonce` is the one the response's CSP names."""
    if not NONCE.fullmatch(nonce):
        raise ValueError("the CSP nonce must be a base64 value of at least 22 characters")
    shown = _visible_part(view)
    return _page_template().render(_context(shown), nonce=nonce)


def _visible_part(view: PageView) -> PageView:
    """Drop what a state must not show, whatever the caller put in the view: an invalid link
    reveals nothing, a refused request only why it was refused."""
    if view.state == "not_found":
        return PageView(state="not_found")
    if view.state == "forbidden":
        return PageView(state="forbidden", message=view.message)
    return view


@cache
def _page_template() -> Template:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["when"] = format_when
    environment.filters["via"] = VIA_TEXT.__getitem__
    return environment.get_template("page.html")


def _context(view: PageView) -> dict[str, object]:
    summary = view.summary
    context: dict[str, object] = {
        "view": view,
        "summary": summary,
        "heading": _heading(view),
        "subject": _subject(summary),
        "max_comment": MAX_COMMENT,
    }
    if view.state == "open" and summary is not None:
        context |= _candidate_context(summary)
    return context


def _candidate_context(summary: ApprovalSummary) -> dict[str, object]:
    drift = summary.drift[:MAX_DRIFT_CHARTS]
    return {
        "champion_header": _champion(summary.champion_version),
        "metric_lines": [_metric_line(row, summary.higher_is_better) for row in summary.metrics],
        "trigger": _describe_trigger(summary.trigger_kind, summary.trigger_reason),
        "training_data": describe_manifest(summary.manifest_objects, summary.manifest_bytes),
        "gate_reasons": [r for r in summary.gate_reasons.split("; ") if r.strip()],
        "metrics_chart": metrics_bars(summary.metrics, summary.champion_version)
        if summary.metrics
        else None,
        "history_chart": history_sparkline(summary.history, summary.metric, summary.version)
        if summary.history
        else None,
        "drift_charts": [distribution_bars(d) for d in drift],
        "drift_total": len(summary.drift),
    }


def _heading(view: PageView) -> str:
    """The page's <h1> (and <title>)."""
    subject = _subject(view.summary)
    match view.state:
        case "open":
            return f"Approve {subject}?" if subject else "Approve this candidate?"
        case "done":
            return _done_heading(view.decision, subject or "this candidate")
        case "decided":
            return "Already decided"
        case "expired":
            return "This approval expired"
        case "forbidden":
            return "This decision was refused"
        case "not_found":
            return "This link is not valid"


def _done_heading(decision: Decision | None, subject: str) -> str:
    if decision is None:
        return "Your decision was recorded"
    if decision.status is ApprovalStatus.APPROVED:
        return f"You approved {subject}"
    if decision.status is ApprovalStatus.REJECTED:
        return f"You rejected {subject}"
    return f"{subject[:1].upper()}{subject[1:]} is now {decision.status.value}"


def _subject(summary: ApprovalSummary | None) -> str:
    return f"{summary.model} version {summary.version}" if summary is not None else ""


def _champion(version: int | None) -> str:
    return f"champion v{version}" if version is not None else "champion"


def _metric_line(row: MetricRow, higher_is_better: bool) -> _MetricLine:
    return _MetricLine(
        name=row.name,
        candidate=format_value(row.candidate),
        champion=format_value(row.champion),
        difference=_format_difference(row, higher_is_better),
        gated=row.gated,
    )


def _format_difference(row: MetricRow, higher_is_better: bool) -> str:
    """Candidate minus champion, signed; the gated metric also says which way is better (the
    direction of the others is unknown)."""
    candidate, champion = row.candidate, row.champion
    if candidate is None or champion is None:
        return "—"
    if not (math.isfinite(candidate) and math.isfinite(champion)):
        return "—"
    delta = candidate - champion
    if not math.isfinite(delta):  # overflow of two huge values
        return format_value(delta)
    text = f"{delta:+.4g}"
    if not row.gated or delta == 0:
        return text
    return f"{text} ({'better' if (delta > 0) == higher_is_better else 'worse'})"


def format_when(moment: datetime) -> str:
    """A moment in UTC, e.g. "Fri 3 Jan 2025, 14:05 UTC" (a naive datetime is taken as UTC).
    Names are spelled out here so the output does not depend on the process locale."""
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return (
        f"{WEEKDAYS[utc.weekday()]} {utc.day} {MONTHS[utc.month - 1]} {utc.year}, {utc:%H:%M} UTC"
    )


def _format_size(size: int) -> str:
    """Bytes in decimal units with one decimal: "512 B", "48.0 MB"."""
    if size < 1000:
        return f"{size} B"
    amount, unit = size / 1000, SIZE_UNITS[0]
    for larger in SIZE_UNITS[1:]:
        if round(amount, 1) < 1000:  # 999.96 kB would be written "1000.0 kB"
            break
        amount, unit = amount / 1000, larger
    return f"{amount:.1f} {unit}"


def describe_manifest(objects: int | None, size: int | None) -> str:
    """What the candidate trained on, e.g. "12 objects, 48.0 MB"."""
    if objects is None and size is None:
        return "unknown"
    count = "unknown number of objects" if objects is None else _objects(objects)
    amount = "size unknown" if size is None else _format_size(size)
    return f"{count}, {amount}"


def _objects(count: int) -> str:
    return f"{count:,} object" + ("" if count == 1 else "s")


def _describe_trigger(kind: str, reason: str) -> str:
    if kind and reason:
        return f"{kind}: {reason}"
    return kind or reason or "unknown"
