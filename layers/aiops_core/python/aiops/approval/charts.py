"""Inline SVG charts for the approval page, drawn on the server.

The page runs no script and loads no asset, so each chart is a self-contained <svg> with a
viewBox (it scales to the page width), role="img" and a title. Markup.format escapes every value
it interpolates, so text from the view (metric, feature, bin names) can never become markup.
Values that cannot be drawn (None, NaN, ±inf, a negative share) are skipped, never plotted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from aiops.approval.model import FeatureDistribution, MetricRow, VersionPoint

WIDTH = 400
FONT_SIZE = 13
INK = "#1f2937"
MUTED = "#6b7280"
CANDIDATE = "#1d4ed8"
CHAMPION = "#9ca3af"
BASELINE = "#9ca3af"
CURRENT = "#1d4ed8"
# SageMaker's ModelApprovalStatus values, with the word the legend uses.
STATUS_STYLES: dict[str, tuple[str, str]] = {
    "Approved": ("#15803d", "approved"),
    "Rejected": ("#b91c1c", "rejected"),
    "PendingManualApproval": ("#b45309", "pending"),
}
OTHER_STATUS = ("#6b7280", "other")
MAX_BIN_LABELS = 8
MAX_LABEL = 300  # an aria-label holding untrusted names stays bounded
EMPTY = Markup("")


def format_value(value: float | None) -> str:
    """A metric value as text: "—" when missing, "NaN" / "∞" / "-∞" when not finite."""
    if value is None:
        return "—"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return f"{value:.4g}"


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _clip(text: str, limit: int) -> str:
    """Text short enough for its place in a chart (SVG text does not wrap), without the control
    characters XML forbids."""
    printable = "".join(c if c.isprintable() else " " for c in text)
    return printable if len(printable) <= limit else printable[: max(limit - 1, 1)] + "…"


def _n(number: float) -> str:
    return f"{number:.1f}"


def _svg(height: float, label: str, body: Markup) -> Markup:
    label = _clip(label, MAX_LABEL)
    return Markup(
        '<svg class="chart" role="img" aria-label="{label}" viewBox="0 0 {width} {height}"'
        ' width="100%" preserveAspectRatio="xMinYMin meet" font-family="system-ui, sans-serif"'
        ' font-size="{size}" fill="{ink}"><title>{label}</title>{body}</svg>'
    ).format(label=label, width=WIDTH, height=_n(height), size=FONT_SIZE, ink=INK, body=body)


def _text(
    x: float, y: float, content: str, anchor: str = "start", fill: str = INK, bold: bool = False
) -> Markup:
    weight = Markup(' font-weight="bold"') if bold else EMPTY
    return Markup(
        '<text x="{x}" y="{y}" text-anchor="{anchor}" fill="{fill}"{weight}>{content}</text>'
    ).format(x=_n(x), y=_n(y), anchor=anchor, fill=fill, weight=weight, content=content)


def _rect(x: float, y: float, width: float, height: float, fill: str) -> Markup:
    return Markup('<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}"/>').format(
        x=_n(x), y=_n(y), w=_n(width), h=_n(height), fill=fill
    )


def _line(x1: float, y1: float, x2: float, y2: float, dashed: bool = False) -> Markup:
    dash = Markup(' stroke-dasharray="4 3"') if dashed else EMPTY
    return Markup('<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{stroke}"{dash}/>').format(
        x1=_n(x1), y1=_n(y1), x2=_n(x2), y2=_n(y2), stroke=MUTED, dash=dash
    )


def _legend(entries: Sequence[tuple[str, str]], y: float) -> Markup:
    """Swatch and name per entry, in one row."""
    slot = WIDTH / max(len(entries), 1)
    return Markup("").join(
        _rect(i * slot, y - 10, 10, 10, colour) + _text(i * slot + 14, y, _clip(name, 16))
        for i, (colour, name) in enumerate(entries)
    )


def _no_data(label: str) -> Markup:
    return _svg(28, label, _text(0, 18, "no data", fill=MUTED))


# --- candidate against champion, per metric ---------------------------------------------------

BAR_SPAN = 300  # bars start at x=0; the value is written after them
BAR_HEIGHT = 12
GROUP_HEIGHT = 56
LEGEND_HEIGHT = 24


def metrics_bars(rows: Sequence[MetricRow], champion_version: int | None) -> Markup:
    """Grouped horizontal bars, candidate against champion per metric, each pair scaled to its
    own largest absolute value (metrics have unrelated units)."""
    champion = f"champion v{champion_version}" if champion_version is not None else "champion"
    label = f"Bar chart: each metric of the candidate against the {champion}"
    if not rows:
        return _no_data(label)
    legend = _legend([(CANDIDATE, "candidate"), (CHAMPION, champion)], 14)
    groups = [
        _metric_group(row, LEGEND_HEIGHT + i * GROUP_HEIGHT, champion) for i, row in enumerate(rows)
    ]
    return _svg(LEGEND_HEIGHT + len(rows) * GROUP_HEIGHT, label, legend + Markup("").join(groups))


def _metric_group(row: MetricRow, top: float, champion: str) -> Markup:
    values = [v for v in (_finite(row.candidate), _finite(row.champion)) if v is not None]
    peak = max((abs(v) for v in values), default=0.0)
    # With a negative value, zero sits mid-span so bars can extend either way.
    signed = any(v < 0 for v in values)
    zero, reach = (BAR_SPAN / 2, BAR_SPAN / 2) if signed else (0.0, float(BAR_SPAN))
    name = _clip(row.name, 40) + (" (gate)" if row.gated else "")
    parts = [
        _text(0, top + 13, name, bold=row.gated),
        _bar(row.candidate, peak, zero, reach, top + 18, CANDIDATE, "candidate"),
        _bar(row.champion, peak, zero, reach, top + 34, CHAMPION, champion),
    ]
    if signed:
        parts.append(_line(zero, top + 16, zero, top + 48))
    return Markup("").join(parts)


def _bar(
    value: float | None, peak: float, zero: float, reach: float, y: float, colour: str, who: str
) -> Markup:
    caption = _text(BAR_SPAN + 6, y + BAR_HEIGHT - 1, format_value(value), fill=MUTED)
    drawn = _finite(value)
    if drawn is None or drawn == 0 or peak == 0:
        return caption
    length = max(abs(drawn) / peak * reach, 1.0)
    x = zero if drawn > 0 else zero - length
    bar = Markup(
        '<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}"><title>{t}</title></rect>'
    )
    return (
        bar.format(
            x=_n(x),
            y=_n(y),
            w=_n(length),
            h=BAR_HEIGHT,
            fill=colour,
            t=f"{who}: {format_value(value)}",
        )
        + caption
    )


# --- the gate metric across recent versions --------------------------------------------------

PLOT_LEFT = 56  # room for the value labels
PLOT_RIGHT = WIDTH - 12
PLOT_TOP = 40
PLOT_BOTTOM = 130
SPARK_HEIGHT = 152
MAX_VERSION_LABELS = 8


@dataclass(frozen=True)
class _HistoryAxes:
    """Versions spread evenly left to right (by order, not number); values bottom to top."""

    count: int
    low: float
    high: float

    def x(self, index: int) -> float:
        if self.count == 1:
            return (PLOT_LEFT + PLOT_RIGHT) / 2
        return PLOT_LEFT + index / (self.count - 1) * (PLOT_RIGHT - PLOT_LEFT)

    def y(self, value: float) -> float:
        if self.high == self.low:  # all equal: a flat line mid-plot
            return (PLOT_TOP + PLOT_BOTTOM) / 2
        # Halved first: the span of two huge finite values would overflow to inf.
        fraction = (value / 2 - self.low / 2) / (self.high / 2 - self.low / 2)
        return PLOT_BOTTOM - fraction * (PLOT_BOTTOM - PLOT_TOP)


def history_sparkline(points: Sequence[VersionPoint], metric: str, current_version: int) -> Markup:
    """The gate metric across recent versions in version order, each point coloured by its
    registry status; the candidate is ringed."""
    label = (
        f"Line chart: {metric} across {len(points)} recent versions, "
        f"coloured by approval status; version {current_version} is the candidate"
    )
    ordered = sorted(points, key=lambda p: p.version)
    plotted = [(i, p, v) for i, p in enumerate(ordered) if (v := _finite(p.value)) is not None]
    if not plotted:
        return _no_data(label)
    values = [v for _, _, v in plotted]
    axes = _HistoryAxes(count=len(ordered), low=min(values), high=max(values))
    coordinates = [(axes.x(i), axes.y(v)) for i, _, v in plotted]
    parts = [
        _legend(_status_legend(ordered), 14),
        _line(PLOT_LEFT, PLOT_BOTTOM, PLOT_RIGHT, PLOT_BOTTOM),
        _value_labels(axes),
        _version_labels(ordered, current_version, axes),
        Markup('<polyline points="{p}" fill="none" stroke="{s}" stroke-width="1.5"/>').format(
            p=" ".join(f"{_n(x)},{_n(y)}" for x, y in coordinates), s=MUTED
        ),
    ]
    parts += [_history_point(p, xy) for (_, p, _), xy in zip(plotted, coordinates, strict=True)]
    parts.append(_current_marker(ordered, current_version, axes))
    return _svg(SPARK_HEIGHT, label, Markup("").join(parts))


def _status_legend(points: Sequence[VersionPoint]) -> list[tuple[str, str]]:
    present = {p.status for p in points}
    entries = [style for status, style in STATUS_STYLES.items() if status in present]
    if present - STATUS_STYLES.keys():
        entries.append(OTHER_STATUS)
    return entries


def _value_labels(axes: _HistoryAxes) -> Markup:
    labels = [_text(PLOT_LEFT - 6, axes.y(axes.high) + 4, format_value(axes.high), "end", MUTED)]
    if axes.high != axes.low:
        labels.append(
            _text(PLOT_LEFT - 6, axes.y(axes.low) + 4, format_value(axes.low), "end", MUTED)
        )
    return Markup("").join(labels)


def _version_labels(
    ordered: Sequence[VersionPoint], current_version: int, axes: _HistoryAxes
) -> Markup:
    """Every version when they fit, else the first, the last and the candidate."""
    last = len(ordered) - 1
    shown = [
        i
        for i, p in enumerate(ordered)
        if len(ordered) <= MAX_VERSION_LABELS or i in (0, last) or p.version == current_version
    ]
    return Markup("").join(
        _text(
            axes.x(i),
            SPARK_HEIGHT - 4,
            f"v{ordered[i].version}",
            "start" if i == 0 and last else "end" if i == last and last else "middle",
            MUTED,
        )
        for i in shown
    )


def _history_point(point: VersionPoint, xy: tuple[float, float]) -> Markup:
    colour, word = STATUS_STYLES.get(point.status, OTHER_STATUS)
    circle = Markup('<circle cx="{x}" cy="{y}" r="4" fill="{fill}"><title>{t}</title></circle>')
    return circle.format(
        x=_n(xy[0]),
        y=_n(xy[1]),
        fill=colour,
        t=f"v{point.version}: {format_value(point.value)} ({word})",
    )


def _current_marker(
    ordered: Sequence[VersionPoint], current_version: int, axes: _HistoryAxes
) -> Markup:
    """A ring on the candidate's point, or a dashed line where it would be without a value."""
    index = next((i for i, p in enumerate(ordered) if p.version == current_version), None)
    if index is None:
        return EMPTY
    x = axes.x(index)
    value = _finite(ordered[index].value)
    if value is None:
        return _line(x, PLOT_TOP, x, PLOT_BOTTOM, dashed=True)
    y = axes.y(value)
    ring = Markup(
        '<circle class="current" cx="{x}" cy="{y}" r="8" fill="none" stroke="{s}"'
        ' stroke-width="2"/>'
    ).format(x=_n(x), y=_n(y), s=INK)
    anchor = "end" if x > WIDTH - 60 else "start" if x < PLOT_LEFT + 40 else "middle"
    return ring + _text(x, y - 12, "candidate", anchor)


# --- a drifted feature: baseline against current share per bin ---------------------------------

DIST_LEFT = 60  # room for the share labels ("100%", "42.39%")
DIST_RIGHT = WIDTH - 4
DIST_TOP = 48
DIST_BOTTOM = 160
DIST_HEIGHT = 180


def distribution_bars(dist: FeatureDistribution) -> Markup:
    """Paired vertical bars per bin, baseline then current share, on one scale."""
    distance = _finite(dist.distance)
    described = f", distance {format_value(distance)}" if distance is not None else ""
    label = (
        f"Bar chart: distribution of {dist.feature}, baseline against current share "
        f"over {len(dist.bins)} bins{described}"
    )
    baseline = _shares(dist.baseline, len(dist.bins))
    current = _shares(dist.current, len(dist.bins))
    peak = max((v for v in baseline + current if v is not None), default=None)
    if peak is None:
        return _no_data(label)
    heading = _clip(dist.feature, 36) + described
    slot = (DIST_RIGHT - DIST_LEFT) / len(dist.bins)
    scale = (DIST_BOTTOM - DIST_TOP) / peak if peak > 0 else 0.0
    parts = [
        _text(0, 14, heading, bold=True),
        _legend([(BASELINE, "baseline"), (CURRENT, "current")], 34),
        _text(DIST_LEFT - 6, DIST_TOP + 4, f"{format_value(peak * 100)}%", "end", MUTED),
        _text(DIST_LEFT - 6, DIST_BOTTOM, "0%", "end", MUTED),
        _bars_path(baseline, slot, 0.1, scale, BASELINE),
        _bars_path(current, slot, 0.5, scale, CURRENT),
        _line(DIST_LEFT, DIST_BOTTOM, DIST_RIGHT, DIST_BOTTOM),
        _bin_labels(dist.bins, slot),
    ]
    return _svg(DIST_HEIGHT, label, Markup("").join(parts))


def _shares(values: Sequence[float], count: int) -> list[float | None]:
    """One share per bin; a missing, non-finite or negative share is not drawn."""
    padded = list(values[:count]) + [math.nan] * (count - len(values))
    return [v if (v := _finite(share)) is not None and v >= 0 else None for share in padded]


def _bars_path(
    shares: Sequence[float | None], slot: float, offset: float, scale: float, colour: str
) -> Markup:
    """All bars of one series as a single path (compact: up to 40 bins per chart)."""
    width = slot * 0.4
    commands = [
        f"M{_n(DIST_LEFT + i * slot + offset * slot)} {DIST_BOTTOM}"
        f"v{_n(-share * scale)}h{_n(width)}v{_n(share * scale)}z"
        for i, share in enumerate(shares)
        if share is not None and share * scale > 0
    ]
    if not commands:
        return EMPTY
    return Markup('<path d="{d}" fill="{fill}"/>').format(d="".join(commands), fill=colour)


def _bin_labels(bins: Sequence[str], slot: float) -> Markup:
    """At most MAX_BIN_LABELS labels, evenly spaced, each clipped to the room it has."""
    step = math.ceil(len(bins) / MAX_BIN_LABELS)
    room = max(int(slot * step / 7), 2)  # about 7 units per character at this font size
    shown = list(range(0, len(bins), step))
    # The last bin (the open-ended top, "> x") always gets its label: it is often the one that
    # moved; the label before it gives way when they would overlap.
    if shown and shown[-1] != len(bins) - 1:
        if len(bins) - 1 - shown[-1] < step:
            shown.pop()
        shown.append(len(bins) - 1)
    return Markup("").join(
        _text(DIST_LEFT + (i + 0.5) * slot, DIST_BOTTOM + 16, _clip(bins[i], room), "middle", MUTED)
        for i in shown
    )
