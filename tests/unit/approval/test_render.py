"""The approval page rendered server-side: what each state shows, that untrusted text stays text,
that the page works under the CSP (no script, no inline style, no third-party asset), and that
the inline SVG charts survive any values."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest
from markupsafe import escape

from aiops.approval.charts import distribution_bars, history_sparkline, metrics_bars
from aiops.approval.model import (
    ApprovalStatus,
    ApprovalSummary,
    Decision,
    FeatureDistribution,
    MetricRow,
    PageState,
    PageView,
    VersionPoint,
)
from aiops.approval.render import describe_manifest, format_when, render_page

NONCE = "bm9uY2Utbm9uY2Utbm9uY2U="
SCRIPT = "<script>alert(1)</script>"
BREAKOUT = "\"'><img src=x onerror=1>"
EXPIRES = datetime(2025, 1, 3, 14, 5, tzinfo=UTC)
DECIDED_AT = datetime(2025, 1, 2, 9, 30, tzinfo=UTC)
CLOSED_STATES: list[PageState] = ["done", "decided", "expired", "forbidden", "not_found"]


def a_summary(**changes: object) -> ApprovalSummary:
    summary = ApprovalSummary(
        model="churn",
        version=7,
        package_arn="arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn/7",
        package_group="churn",
        run_id="run-2025-01-01",
        champion_version=6,
        metric="auc",
        metrics=[
            MetricRow(name="auc", candidate=0.82, champion=0.81, gated=True),
            MetricRow(name="f1", candidate=0.7, champion=0.72),
        ],
        gate_reasons="auc 0.82 vs champion 0.81: improvement +0.01; no safety check",
        trigger_kind="drift",
        trigger_reason="total_day_minutes shifted",
        manifest_objects=12,
        manifest_bytes=48_000_000,
        history=[
            VersionPoint(version=5, status="Rejected", value=0.78),
            VersionPoint(version=6, status="Approved", value=0.81),
            VersionPoint(version=7, status="PendingManualApproval", value=0.82),
        ],
        drift=[],
    )
    return summary.model_copy(update=changes)


def an_open_view(**changes: object) -> PageView:
    view = PageView(
        state="open",
        summary=a_summary(),
        approver="lead@example.com",
        expires_at=EXPIRES,
        status=ApprovalStatus.PENDING,
        csrf="csrf-token-123",
        action="/approvals/abc123",
    )
    return view.model_copy(update=changes)


def a_decision(**changes: object) -> Decision:
    decision = Decision(
        status=ApprovalStatus.APPROVED,
        by="lead@example.com",
        via="page",
        comment="looks good",
        at=DECIDED_AT,
    )
    return decision.model_copy(update=changes)


def a_view(state: PageState, **changes: object) -> PageView:
    """A view of `state` filled with everything a caller could put in it."""
    view = an_open_view(state=state, decision=a_decision(), message="a message")
    return view.model_copy(update=changes)


def a_distribution(**changes: object) -> FeatureDistribution:
    distribution = FeatureDistribution(
        feature="total_day_minutes",
        bins=["0-10", "10-20", "20-30", "30-40"],
        baseline=[0.25, 0.25, 0.25, 0.25],
        current=[0.1, 0.2, 0.3, 0.4],
        distance=0.23,
    )
    return distribution.model_copy(update=changes)


# --- reading the output --------------------------------------------------------------------------


class Page(HTMLParser):
    """The parsed document: every start tag with its attributes, the visible text, table rows."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.html = html
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.rows: list[tuple[dict[str, str | None], list[str]]] = []
        self._texts: list[str] = []
        self._cell: list[str] | None = None
        self._in: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("style", "title", "svg"):
            self._in.append(tag)
        if tag == "tr":
            self.rows.append((dict(attrs), []))
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1][1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if not self._in:
            self._texts.append(data)
        if self._cell is not None:
            self._cell.append(data)

    @property
    def text(self) -> str:
        """The visible text outside <head>'s title, the style and the charts, one space apart."""
        return " ".join(" ".join(self._texts).split())

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]

    def headings(self, tag: str = "h1") -> list[str]:
        return re.findall(rf"<{tag}>(.*?)</{tag}>", self.html, re.S)


def charts_in(html: str) -> list[ET.Element]:
    return [ET.fromstring(svg) for svg in re.findall(r"<svg\b.*?</svg>", html, re.S)]


def parse_chart(markup: str) -> ET.Element:
    root = ET.fromstring(str(markup))
    assert root.tag == "svg"
    return root


DRAWING_ELEMENTS = {"svg", "title", "rect", "text", "line", "path", "polyline", "circle"}
GEOMETRY = {"x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "width", "height"}
SIZES = {"r", "width", "height"}
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def assert_drawable(svg: ET.Element) -> None:
    """Every coordinate is a finite number and no size is negative (a NaN or inf would leak into
    the markup as text a browser cannot draw)."""
    for element in svg.iter():
        for name, value in element.attrib.items():
            if name in GEOMETRY and element.tag != "svg":
                number = float(value)
                assert math.isfinite(number), (element.tag, name, value)
                assert name not in SIZES or number >= 0, (element.tag, name, value)
            elif name in ("points", "d", "viewBox"):
                assert re.fullmatch(r"[-\d.,\s MvhzV]*", value), (name, value)
                assert all(math.isfinite(float(n)) for n in NUMBER.findall(value))


def assert_accessible(svg: ET.Element) -> None:
    assert svg.get("role") == "img"
    assert svg.get("aria-label")
    assert svg.find("title") is not None and svg.find("title").text == svg.get("aria-label")
    assert re.fullmatch(r"0 0 \d+ [\d.]+", svg.get("viewBox", ""))
    assert svg.get("width") == "100%"


def texts_of(svg: ET.Element) -> list[str]:
    return [t.text or "" for t in svg.iter("text")]


# --- the open page -------------------------------------------------------------------------------


def test_the_open_page_shows_candidate_and_champion_side_by_side_with_the_difference():
    page = Page(render_page(an_open_view(), NONCE))

    header, *rows = [cells for _, cells in page.rows]
    assert header == ["Metric", "Candidate", "champion v6", "Difference"]
    assert rows == [
        ["auc gate", "0.82", "0.81", "+0.01 (better)"],
        ["f1", "0.7", "0.72", "-0.02"],
    ]


def test_the_gated_metric_row_is_highlighted_and_the_others_are_not():
    page = Page(render_page(an_open_view(), NONCE))

    classes = {cells[0]: attrs.get("class") for attrs, cells in page.rows[1:]}
    assert classes == {"auc gate": "gated", "f1": None}


def test_for_a_lower_is_better_gate_a_smaller_value_is_called_better():
    summary = a_summary(
        metric="rmse",
        higher_is_better=False,
        metrics=[MetricRow(name="rmse", candidate=3.0, champion=3.5, gated=True)],
    )

    page = Page(render_page(an_open_view(summary=summary), NONCE))

    assert page.rows[1][1] == ["rmse gate", "3", "3.5", "-0.5 (better)"]


def test_missing_and_non_finite_metric_values_are_written_as_text_and_have_no_difference():
    summary = a_summary(
        champion_version=None,
        metrics=[
            MetricRow(name="missing", candidate=0.5, champion=None),
            MetricRow(name="nan", candidate=math.nan, champion=0.5),
            MetricRow(name="inf", candidate=math.inf, champion=-math.inf),
        ],
    )

    page = Page(render_page(an_open_view(summary=summary), NONCE))

    assert [cells for _, cells in page.rows] == [
        ["Metric", "Candidate", "champion", "Difference"],
        ["missing", "0.5", "—", "—"],
        ["nan", "NaN", "0.5", "—"],
        ["inf", "∞", "-∞", "—"],
    ]


def test_the_open_page_names_the_approver_and_the_expiry_in_utc():
    in_paris = EXPIRES.astimezone(timezone(timedelta(hours=1)))

    page = Page(render_page(an_open_view(expires_at=in_paris), NONCE))

    assert page.headings() == ["Approve churn version 7?"]
    assert "Sent to lead@example.com." in page.text
    assert "Decide by Fri 3 Jan 2025, 14:05 UTC" in page.text


def test_the_open_page_says_why_and_what_the_candidate_trained_on():
    page = Page(render_page(an_open_view(), NONCE))

    assert "Trigger drift: total_day_minutes shifted" in page.text
    assert "Trained on 12 objects, 48.0 MB" in page.text
    assert "auc 0.82 vs champion 0.81: improvement +0.01" in page.text
    assert "no safety check" in page.text
    assert "run-2025-01-01" in page.text


@pytest.mark.parametrize(
    ("objects", "size", "described"),
    [
        (12, 48_000_000, "12 objects, 48.0 MB"),
        (1, 512, "1 object, 512 B"),
        (2500, 3_200_000_000_000, "2,500 objects, 3.2 TB"),
        (3, None, "3 objects, size unknown"),
        (None, 1500, "unknown number of objects, 1.5 kB"),
        (5, 999_960, "5 objects, 1.0 MB"),
        (None, None, "unknown"),
    ],
)
def test_the_training_data_is_counted_in_human_units(objects, size, described):
    assert describe_manifest(objects, size) == described


def test_unknown_training_data_is_said_to_be_unknown_on_the_page():
    summary = a_summary(manifest_objects=None, manifest_bytes=None)

    page = Page(render_page(an_open_view(summary=summary), NONCE))

    assert "Trained on unknown" in page.text


def test_a_naive_expiry_is_taken_as_utc():
    assert format_when(datetime(2025, 1, 3, 14, 5)) == "Fri 3 Jan 2025, 14:05 UTC"


def test_the_form_posts_to_the_views_action_with_the_csrf_token_a_comment_and_two_decisions():
    page = Page(render_page(an_open_view(), NONCE))

    [form] = page.all("form")
    assert form == {"method": "post", "action": "/approvals/abc123"}
    assert page.all("input") == [{"type": "hidden", "name": "csrf", "value": "csrf-token-123"}]
    [comment] = page.all("textarea")
    assert comment["name"] == "comment" and comment["maxlength"] == "500"
    assert page.all("label") == [{"for": comment["id"]}]
    buttons = page.all("button")
    assert [(b["type"], b["name"], b["value"]) for b in buttons] == [
        ("submit", "decision", "approve"),
        ("submit", "decision", "reject"),
    ]
    assert buttons[0]["class"] != buttons[1]["class"]
    assert re.search(r'value="approve">Approve</button>', page.html)
    assert re.search(r'value="reject">Reject</button>', page.html)


def test_an_open_page_without_a_csrf_token_has_no_form_that_would_be_refused():
    page = Page(render_page(an_open_view(csrf=None), NONCE))

    assert page.all("form") == []


def test_an_open_page_without_a_summary_still_renders_and_offers_the_form():
    page = Page(render_page(an_open_view(summary=None), NONCE))

    assert page.headings() == ["Approve this candidate?"]
    assert "not available" in page.text
    assert len(page.all("form")) == 1
    assert page.rows == []


def test_the_open_page_draws_the_metrics_and_the_history():
    html = render_page(an_open_view(), NONCE)

    labels = [svg.get("aria-label", "") for svg in charts_in(html)]
    assert len(labels) == 2
    assert "candidate against the champion v6" in labels[0]
    assert "auc across 3 recent versions" in labels[1]


def test_without_history_or_metrics_their_charts_are_left_out():
    summary = a_summary(history=[], metrics=[])

    html = render_page(an_open_view(summary=summary), NONCE)

    assert charts_in(html) == []
    assert "No metrics were recorded." in Page(html).text


# --- drift ---------------------------------------------------------------------------------------


def test_without_drift_there_is_no_distribution_section():
    html = render_page(an_open_view(), NONCE)

    assert "Drifted features" not in html
    assert not [c for c in charts_in(html) if "distribution of" in c.get("aria-label", "")]


def test_a_run_started_by_drift_shows_one_distribution_per_drifted_feature():
    drift = [a_distribution(feature="total_day_minutes"), a_distribution(feature="account_length")]

    html = render_page(an_open_view(summary=a_summary(drift=drift)), NONCE)

    assert Page(html).headings("h2")[-2] == "Drifted features"
    distributions = [c for c in charts_in(html) if "distribution of" in c.get("aria-label", "")]
    assert [c.get("aria-label", "").split(",")[0] for c in distributions] == [
        "Bar chart: distribution of total_day_minutes",
        "Bar chart: distribution of account_length",
    ]


def test_at_most_twelve_distributions_are_drawn_and_the_page_says_how_many_there_are():
    drift = [a_distribution(feature=f"feature_{i}") for i in range(15)]

    html = render_page(an_open_view(summary=a_summary(drift=drift)), NONCE)

    distributions = [c for c in charts_in(html) if "distribution of" in c.get("aria-label", "")]
    assert len(distributions) == 12
    assert "Showing 12 of 15 drifted features." in Page(html).text


# --- escaping ------------------------------------------------------------------------------------


def everything_untrusted(payload: str) -> PageView:
    summary = a_summary(
        model=payload,
        run_id=payload,
        metric=payload,
        metrics=[MetricRow(name=payload, candidate=0.5, champion=0.4, gated=True)],
        gate_reasons=payload,
        trigger_kind=payload,
        trigger_reason=payload,
        history=[VersionPoint(version=7, status=payload, value=0.5)],
        drift=[a_distribution(feature=payload, bins=[payload, "b"], baseline=[0.5, 0.5])],
    )
    return an_open_view(summary=summary, approver=payload, csrf=payload, action=payload)


@pytest.mark.parametrize("payload", [SCRIPT, BREAKOUT], ids=["script", "attribute-breakout"])
def test_every_untrusted_string_on_the_open_page_is_escaped(payload):
    html = render_page(everything_untrusted(payload), NONCE)

    assert payload not in html
    assert "<script" not in html and "<img" not in html
    page = Page(html)
    assert {name for name, _ in page.tags} & {"script", "img"} == set()
    # The payload is still shown, as text or as an attribute's whole value.
    assert page.headings() == [escape(f"Approve {payload} version 7?")]
    assert page.all("form")[0]["action"] == payload
    assert page.all("input")[0]["value"] == payload
    assert f"Sent to {payload}." in page.text


@pytest.mark.parametrize("payload", [SCRIPT, BREAKOUT], ids=["script", "attribute-breakout"])
@pytest.mark.parametrize("state", ["done", "decided", "expired", "forbidden"])
def test_comments_messages_and_deciders_are_escaped_on_the_closed_pages(state, payload):
    view = a_view(
        state,
        summary=a_summary(model=payload),
        message=payload,
        decision=a_decision(by=payload, comment=payload),
    )

    html = render_page(view, NONCE)

    assert payload not in html
    assert "<script" not in html and "<img" not in html


@pytest.mark.parametrize("payload", [SCRIPT, BREAKOUT], ids=["script", "attribute-breakout"])
def test_chart_labels_are_text_never_markup(payload):
    charts = [
        metrics_bars([MetricRow(name=payload, candidate=1.0)], 3),
        history_sparkline([VersionPoint(version=1, status=payload, value=1.0)], payload, 1),
        distribution_bars(a_distribution(feature=payload, bins=[payload] * 4)),
    ]

    for chart in charts:
        assert "<script" not in chart and "<img" not in chart
        svg = parse_chart(chart)
        assert {e.tag for e in svg.iter()} <= DRAWING_ELEMENTS
        # Still shown, as parsed text (the parser undid the escaping).
        shown = [svg.get("aria-label", ""), *(e.text or "" for e in svg.iter())]
        assert any(payload in text for text in shown)


# --- the content security policy -----------------------------------------------------------------


def every_page() -> list[tuple[str, str]]:
    drift = [a_distribution()]
    views = [an_open_view(summary=a_summary(drift=drift))] + [a_view(s) for s in CLOSED_STATES]
    return [(v.state, render_page(v, NONCE)) for v in views]


@pytest.mark.parametrize(("state", "html"), every_page(), ids=["open", *CLOSED_STATES])
def test_the_page_needs_no_script_no_inline_style_and_no_third_party_asset(state, html):
    assert "<script" not in html.lower()
    assert not re.search(r"\sstyle\s*=", html, re.I)
    assert not re.search(r"\son[a-z]+\s*=", html, re.I)
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"\s(src|href|srcset|xlink:href)\s*=", html, re.I)
    assert "@import" not in html and "url(" not in html
    assert "<link" not in html and "<iframe" not in html


@pytest.mark.parametrize(("state", "html"), every_page(), ids=["open", *CLOSED_STATES])
def test_the_only_style_element_carries_the_requests_nonce(state, html):
    page = Page(html)

    assert page.all("style") == [{"nonce": NONCE}]


@pytest.mark.parametrize(("state", "html"), every_page(), ids=["open", *CLOSED_STATES])
def test_the_page_is_a_complete_html5_document_for_phones(state, html):
    page = Page(html)

    assert html.startswith("<!doctype html>")
    metas = page.all("meta")
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in metas
    assert {"name": "referrer", "content": "no-referrer"} in metas
    [title] = re.findall(r"<title>(.+?)</title>", html.split("</head>")[0])
    assert title == page.headings()[0]


@pytest.mark.parametrize("nonce", ["", "short", 'bm9uY2Utbm9uY2Utbm9u"><script>', "a b" * 12])
def test_a_nonce_that_is_not_a_long_base64_value_is_refused(nonce):
    with pytest.raises(ValueError, match="nonce"):
        render_page(an_open_view(), nonce)


# --- the closed pages ----------------------------------------------------------------------------


@pytest.mark.parametrize("state", CLOSED_STATES)
def test_a_closed_page_has_no_form(state):
    page = Page(render_page(a_view(state), NONCE))

    assert page.all("form") == [] and page.all("button") == [] and page.all("textarea") == []
    assert page.all("input") == []
    assert "csrf-token-123" not in page.html


@pytest.mark.parametrize("state", ["open", *CLOSED_STATES])
def test_every_state_renders_without_a_summary(state):
    page = Page(render_page(a_view(state, summary=None), NONCE))

    assert len(page.headings()) == 1
    assert "churn" not in page.html


@pytest.mark.parametrize(
    ("status", "comment", "heading"),
    [
        (ApprovalStatus.APPROVED, "ship it", "You approved churn version 7"),
        (ApprovalStatus.REJECTED, "recall dropped", "You rejected churn version 7"),
    ],
)
def test_the_done_page_confirms_the_decision_with_its_comment(status, comment, heading):
    view = a_view("done", decision=a_decision(status=status, comment=comment))

    page = Page(render_page(view, NONCE))

    assert page.headings() == [heading]
    assert comment in page.text
    assert "Recorded for lead@example.com on Thu 2 Jan 2025, 09:30 UTC." in page.text
    assert "Nothing more is needed" in page.text


@pytest.mark.parametrize(
    ("via", "said"),
    [
        ("page", "on the approval page"),
        ("studio", "in SageMaker Studio"),
        ("cli", "with the aiops CLI"),
        ("supersede", "superseded by a newer candidate"),
        ("timeout", "no decision before the timeout"),
        ("failure", "the approval stage failed"),
    ],
)
def test_the_decided_page_says_who_decided_how_and_when(via, said):
    decision = a_decision(
        status=ApprovalStatus.REJECTED, by="ops@example.com", via=via, comment="not now"
    )
    view = a_view("decided", decision=decision, message="It was decided elsewhere.")

    page = Page(render_page(view, NONCE))

    assert page.headings() == ["Already decided"]
    assert "It was decided elsewhere." in page.text
    assert "Status rejected" in page.text
    assert "By ops@example.com" in page.text
    assert f"How {said}" in page.text
    assert "When Thu 2 Jan 2025, 09:30 UTC" in page.text
    assert "not now" in page.text


def test_the_decided_page_without_a_decision_still_shows_the_status():
    view = a_view("decided", decision=None, status=ApprovalStatus.SUPERSEDED)

    page = Page(render_page(view, NONCE))

    assert "Status superseded" in page.text


def test_the_expired_page_says_so_with_the_message():
    view = a_view("expired", message="No decision was taken before 2025-01-03 14:05 UTC.")

    page = Page(render_page(view, NONCE))

    assert page.headings() == ["This approval expired"]
    assert "No decision was taken before 2025-01-03 14:05 UTC." in page.text


def test_the_forbidden_page_says_why_and_nothing_about_the_approval():
    view = a_view("forbidden", message="the form's security token did not match")

    page = Page(render_page(view, NONCE))

    assert page.headings() == ["This decision was refused"]
    assert "the form's security token did not match" in page.text
    assert "churn" not in page.html and "lead@example.com" not in page.html


def test_an_invalid_link_reveals_nothing_even_when_the_view_holds_an_approval():
    view = a_view(
        "not_found",
        summary=a_summary(model="secret-model", drift=[a_distribution()]),
        message="secret message",
        approver="secret-approver@example.com",
        decision=a_decision(by="secret-decider", comment="secret comment"),
    )

    html = render_page(view, NONCE)

    assert Page(html).headings() == ["This link is not valid"]
    assert "secret" not in html and "example.com" not in html
    assert charts_in(html) == []


# --- the charts ----------------------------------------------------------------------------------

AWKWARD = [None, math.nan, math.inf, -math.inf, -2.5, 0.0, 1e308, -1e308]


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [MetricRow(name="m", candidate=None, champion=None)],
        [MetricRow(name="m", candidate=a, champion=b) for a in AWKWARD for b in AWKWARD],
        [MetricRow(name="equal", candidate=0.8, champion=0.8)],
        [MetricRow(name="zeros", candidate=0.0, champion=0.0)],
    ],
    ids=["empty", "all-missing", "every-pair", "equal", "zeros"],
)
def test_the_metrics_chart_survives_any_values(rows):
    svg = parse_chart(metrics_bars(rows, None))

    assert_accessible(svg)
    assert_drawable(svg)


@pytest.mark.parametrize(
    "points",
    [
        [],
        [VersionPoint(version=7, status="PendingManualApproval", value=None)],
        [VersionPoint(version=v, status="Approved", value=x) for v, x in enumerate(AWKWARD)],
        [VersionPoint(version=v, status="Approved", value=0.8) for v in range(5)],
        [VersionPoint(version=7, status="PendingManualApproval", value=0.8)],
        [VersionPoint(version=v, status="Unknown", value=v / 10) for v in range(30)],
    ],
    ids=["empty", "only-missing", "awkward", "equal", "single", "many"],
)
def test_the_history_chart_survives_any_values(points):
    svg = parse_chart(history_sparkline(points, "auc", 7))

    assert_accessible(svg)
    assert_drawable(svg)


@pytest.mark.parametrize(
    "distribution",
    [
        a_distribution(bins=[], baseline=[], current=[]),
        a_distribution(baseline=[math.nan] * 4, current=[]),
        a_distribution(baseline=[math.inf, -0.5, math.nan, 0.2], current=[0.1]),
        a_distribution(baseline=[0.0] * 4, current=[0.0] * 4, distance=math.nan),
        a_distribution(baseline=[0.25] * 4, current=[0.25] * 4, distance=None),
        a_distribution(
            bins=[f"bin {i}" for i in range(40)],
            baseline=[0.025] * 40,
            current=[0.05] * 20 + [0.0] * 20,
        ),
    ],
    ids=["empty", "all-nan", "awkward-and-short", "all-zero", "equal", "forty-bins"],
)
def test_the_distribution_chart_survives_any_values(distribution):
    svg = parse_chart(distribution_bars(distribution))

    assert_accessible(svg)
    assert_drawable(svg)


@pytest.mark.parametrize(
    "chart",
    [
        metrics_bars([], 6),
        history_sparkline([VersionPoint(version=1, status="Approved", value=math.nan)], "auc", 1),
        distribution_bars(a_distribution(bins=[], baseline=[], current=[])),
    ],
    ids=["metrics", "history", "distribution"],
)
def test_a_chart_with_nothing_to_draw_says_no_data(chart):
    svg = parse_chart(chart)

    assert texts_of(svg) == ["no data"]
    assert svg.find("rect") is None and svg.find("circle") is None


def bar_widths(svg: ET.Element, fill: str) -> list[float]:
    return [
        float(r.get("width", ""))
        for r in svg.iter("rect")
        if r.get("fill") == fill and r.find("title") is not None
    ]


def test_each_metric_pair_is_scaled_to_its_own_largest_value():
    rows = [
        MetricRow(name="latency_ms", candidate=1000.0, champion=500.0),
        MetricRow(name="auc", candidate=0.4, champion=0.8),
    ]

    svg = parse_chart(metrics_bars(rows, 6))

    assert bar_widths(svg, "#1d4ed8") == [300.0, 150.0]
    assert bar_widths(svg, "#9ca3af") == [150.0, 300.0]


def test_a_negative_metric_is_drawn_left_of_a_zero_line():
    svg = parse_chart(metrics_bars([MetricRow(name="delta", candidate=-1.0, champion=0.5)], 6))

    [zero] = svg.iter("line")
    bars = {r.find("title").text: r for r in svg.iter("rect") if r.find("title") is not None}
    candidate, champion = bars["candidate: -1"], bars["champion v6: 0.5"]
    x0 = float(zero.get("x1", ""))
    assert float(candidate.get("x", "")) + float(candidate.get("width", "")) == x0
    assert float(champion.get("x", "")) == x0


def test_the_history_colours_each_version_by_status_and_rings_the_candidate():
    points = [
        VersionPoint(version=5, status="Rejected", value=0.78),
        VersionPoint(version=6, status="Approved", value=0.81),
        VersionPoint(version=7, status="PendingManualApproval", value=0.82),
    ]

    svg = parse_chart(history_sparkline(points, "auc", 7))

    dots = [c for c in svg.iter("circle") if c.get("class") != "current"]
    assert [(d.find("title").text, d.get("fill")) for d in dots] == [
        ("v5: 0.78 (rejected)", "#b91c1c"),
        ("v6: 0.81 (approved)", "#15803d"),
        ("v7: 0.82 (pending)", "#b45309"),
    ]
    [ring] = [c for c in svg.iter("circle") if c.get("class") == "current"]
    assert (ring.get("cx"), ring.get("cy")) == (dots[2].get("cx"), dots[2].get("cy"))
    assert ring.get("fill") == "none"


def test_the_history_puts_versions_in_order_whatever_order_they_come_in():
    points = [VersionPoint(version=v, status="Approved", value=v / 10) for v in (3, 1, 2)]

    svg = parse_chart(history_sparkline(points, "auc", 3))

    xs = {
        c.find("title").text[:2]: float(c.get("cx", ""))
        for c in svg.iter("circle")
        if c.find("title") is not None
    }
    assert xs["v1"] < xs["v2"] < xs["v3"]


def test_the_distribution_names_the_feature_and_its_distance():
    svg = parse_chart(distribution_bars(a_distribution(distance=0.23)))

    assert "total_day_minutes, distance 0.23" in texts_of(svg)
    assert "distance 0.23" in svg.get("aria-label", "")


def test_even_the_largest_distribution_chart_stays_small():
    forty = a_distribution(
        feature="f" * 200,
        bins=[f"{i * 1000}-{(i + 1) * 1000}" for i in range(40)],
        baseline=[0.025] * 40,
        current=[0.0125] * 20 + [0.0375] * 20,
    )

    chart = distribution_bars(forty)

    assert len(chart) < 6000
    assert len(parse_chart(chart).findall("text")) <= 8 + 5


def test_a_distribution_chart_always_labels_its_open_ended_top_bin():
    from aiops.approval.charts import distribution_bars
    from aiops.approval.model import FeatureDistribution

    bins = ["≤ 107", *[f"{100 + 10 * i}-{110 + 10 * i}" for i in range(8)], "> 250"]
    dist = FeatureDistribution(
        feature="total_day_minutes",
        bins=bins,
        baseline=[0.1] * 10,
        current=[0.02] * 9 + [0.42],
    )

    svg = str(distribution_bars(dist))

    assert "&gt; 250" in svg
    assert "42%" in svg or "42.00%" in svg or "42.0%" in svg
