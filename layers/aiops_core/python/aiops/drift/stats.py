"""Our own drift check's statistics: a baseline of the champion's training data, and the comparison
of current data (an endpoint's captured requests, or the latest data window) with it.

SageMaker Model Monitor is closed to new customers, so the control plane computes the statistics
itself and reports them as Model Monitor's violations (`aiops.drift.violations`), read
downstream exactly like a report from SageMaker.

Everything streams and memory stays bounded whatever the number of rows:

- inputs are iterables of lines (`str`, or `bytes` as botocore's `StreamingBody.iter_lines` yields);
- a numeric feature keeps a reservoir sample of at most `sample_size` values (its bin edges are the
  sample's quantiles) plus running moments;
- a categorical feature keeps the counts of its first `max_categories` distinct values; later new
  values are counted together as the untracked tail (`other_share`);
- a comparison keeps counts per baseline bin or seen/unseen, never the values themselves (plus, for
  a chart, the counts of a categorical feature's `CHART_CATEGORIES` most frequent baseline values
  and of its first `CHART_CATEGORIES` distinct unseen ones).

Each feature's comparison also records what a chart of it needs (absent from statistics written
before, and when the current data has no value to chart): for a numeric feature the baseline's
bin edges and shares and the current values' shares over the same bins; for a categorical one at
most `CHART_CATEGORIES` values (the baseline's most frequent and the current data's unseen ones,
whichever weigh most) with both shares, and a last share for every other value.

The checks (thresholds from `DriftMonitorPolicy`, plus the constants below):

- numeric feature: population stability index over the baseline's bins > `max_psi`
  -> `baseline_drift_check`; more than `MAX_TYPE_MISMATCH_SHARE` of its non-missing values not
  finite numbers -> `data_type_check`;
- categorical feature: share of its non-missing values never seen in the baseline
  > `max_unseen_share` (+ the baseline's own untracked tail, see `compare`)
  -> `categorical_values_check`;
- any feature: completeness (share of rows with a value) dropped by more than
  `max_completeness_drop` -> `completeness_check`;
- a baseline column absent from every current row -> `missing_column_check`; a current column the
  baseline does not have (the label excepted) -> `extra_column_check`;
- fewer than `min_rows` current rows: no verdict (`enough_data` False, no violations).
"""

import base64
import binascii
import bisect
import csv
import io
import json
import math
import random
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal, Protocol, TypeGuard, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from aiops.drift.violations import Violation
from aiops.policy import DriftMonitorPolicy

Record = dict[str, str | None]
Kind = Literal["numeric", "categorical"]

BASELINE_FORMAT: Literal[1] = 1  # bumped when the cached JSON changes shape
# Distinct values of a categorical feature whose counts the baseline keeps; later new values are
# counted together as the untracked tail.
MAX_CATEGORIES = 1_000
# Share of a numeric feature's non-missing values that may fail to parse as finite numbers before
# `data_type_check` is reported: one stray value in a hundred is noise, more is a schema change.
MAX_TYPE_MISMATCH_SHARE = 0.01
# Floor for a bin's share in the PSI, so an empty bin contributes a large but finite term.
PSI_EPSILON = 1e-4
# Current columns outside the baseline tracked per comparison (each one is a violation).
MAX_EXTRA_COLUMNS = 100
# Unseen categorical values quoted in a violation's description.
UNSEEN_EXAMPLES = 3
# Skipped lines described in a reader's `skip_examples`.
SKIP_EXAMPLES = 5
# Values of a categorical feature a comparison charts (each side: the baseline's most frequent, the
# first distinct unseen ones); everything else is one "other" share.
CHART_CATEGORIES = 20
# Comparisons tolerate float rounding at the exact threshold (1.0 - 0.95 > 0.05 in floats).
_TOLERANCE = 1e-9


class BaselineError(ValueError):
    """The training data cannot give a baseline: no rows, or the label is not one of its columns."""


# --- reading lines into records ------------------------------------------------------------------


@runtime_checkable
class CountsSkipped(Protocol):
    """A record source that counts the lines it could not read (a reader, a chain of them)."""

    skipped: int


class RecordReader(Iterator[Record]):
    """Records parsed from lines, iterated once; unreadable input is skipped and counted.

    `compare` reads `skipped` from a reader it is given, after consuming it.
    """

    def __init__(self, lines: Iterable[str | bytes]) -> None:
        self.lines_read = 0
        self.skipped = 0
        self.skip_reasons: Counter[str] = Counter()
        self.skip_examples: list[str] = []
        self._records = self._parse(iter(lines))

    def __iter__(self) -> "RecordReader":
        return self

    def __next__(self) -> Record:
        return next(self._records)

    def _parse(self, lines: Iterator[str | bytes]) -> Iterator[Record]:
        raise NotImplementedError

    def _skip(self, reason: str, line_number: int) -> None:
        self.skipped += 1
        self.skip_reasons[reason] += 1
        if len(self.skip_examples) < SKIP_EXAMPLES:
            self.skip_examples.append(f"line {line_number}: {reason}")


class CsvReader(RecordReader):
    """CSV with a header row: one record per row, keyed by the header; an empty cell is None.

    Values beyond the header's width are keyed `_c<index>`; a short row lacks the last keys.
    Quoted fields may span lines (line ends are restored before parsing). A row the csv module
    rejects (e.g. a field over its size limit) is skipped and counted.
    """

    def _parse(self, lines: Iterator[str | bytes]) -> Iterator[Record]:
        rows = csv.reader(self._text_lines(lines))
        header: list[str] | None = None
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except csv.Error as exc:
                self._skip(f"unreadable CSV row ({exc})", rows.line_num)
                continue
            if not row:
                continue
            if header is None:
                header = [row[0].removeprefix("\ufeff"), *row[1:]]
                continue
            yield _positional(row, header)

    def _text_lines(self, lines: Iterator[str | bytes]) -> Iterator[str]:
        for line in lines:
            self.lines_read += 1
            text = line.decode("utf-8", errors="replace") if isinstance(line, bytes) else line
            yield text if text.endswith(("\n", "\r")) else text + "\n"


class CaptureReader(RecordReader):
    """SageMaker data capture files (JSON lines): the request rows of each captured event.

    Each line is `{"captureData": {"endpointInput": {"observedContentType", "mode", "data",
    "encoding"}, "endpointOutput": {...}}, "eventMetadata": {...}, "eventVersion": "0"}`.
    The input's `encoding` says how `data` is stored: `CSV` and `JSON` as text, `BASE64` as the
    encoded body, which is then read by its `observedContentType` (`*csv*` or `*json*`).

    - CSV payload: one record per row (a request may hold several), mapped by position onto
      `columns` (the baseline's feature columns, label excluded); values beyond them are keyed
      `_c<index>`, missing trailing values are absent keys.
    - JSON payload: an object (keys are columns), a list of objects, a list of value lists or one
      value list (by position), or `{"instances": [...]}` of any of those; an instance
      `{"features": [...]}` is read by position. Scalars become strings, `null` is missing.

    A line that is not such an event, or whose payload cannot be read, is skipped and counted;
    one bad line never stops the stream. Blank lines are ignored.
    """

    def __init__(self, lines: Iterable[str | bytes], columns: list[str]) -> None:
        self.columns = list(columns)
        super().__init__(lines)

    def _parse(self, lines: Iterator[str | bytes]) -> Iterator[Record]:
        for number, line in enumerate(lines, start=1):
            self.lines_read += 1
            try:
                text = line.decode("utf-8") if isinstance(line, bytes) else line
            except UnicodeDecodeError:
                self._skip("not UTF-8", number)
                continue
            if not text.strip():
                continue
            try:
                event = json.loads(text)
            except ValueError:
                self._skip("not JSON", number)
                continue
            request = _dig(event, "captureData", "endpointInput")
            if not isinstance(request, dict) or not isinstance(request.get("data"), str):
                self._skip("no captureData.endpointInput.data", number)
                continue
            try:
                rows = self._payload_rows(request)
            except _PayloadError as exc:
                self._skip(str(exc), number)
                continue
            if not rows:
                self._skip("empty payload", number)
                continue
            yield from rows

    def _payload_rows(self, request: dict[str, Any]) -> list[Record]:
        data: str = request["data"]
        encoding = str(request.get("encoding", "")).upper()
        content_type = str(request.get("observedContentType", "")).lower()
        if encoding == "BASE64":
            try:
                data = base64.b64decode(data, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise _PayloadError("BASE64 payload not decodable to UTF-8 text") from exc
        if encoding not in ("CSV", "JSON"):
            if "csv" in content_type:
                encoding = "CSV"
            elif "json" in content_type:
                encoding = "JSON"
            else:
                raise _PayloadError("payload neither CSV nor JSON")
        if encoding == "CSV":
            return [_positional(row, self.columns) for row in csv.reader(io.StringIO(data)) if row]
        try:
            payload = json.loads(data)
        except ValueError as exc:
            raise _PayloadError("JSON payload not JSON") from exc
        return _json_rows(payload, self.columns)


def csv_records(lines: Iterable[str | bytes]) -> CsvReader:
    """The records of CSV lines whose first line is the header (a `CsvReader`: has `.skipped`)."""
    return CsvReader(lines)


def capture_records(lines: Iterable[str | bytes], columns: list[str]) -> CaptureReader:
    """The request records of data capture lines (a `CaptureReader`: has `.skipped`)."""
    return CaptureReader(lines, columns)


class _PayloadError(ValueError):
    pass


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _positional(values: list[str], columns: list[str]) -> Record:
    return {
        (columns[index] if index < len(columns) else f"_c{index}"): (value if value != "" else None)
        for index, value in enumerate(values)
    }


def _json_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)


def _json_rows(payload: Any, columns: list[str]) -> list[Record]:
    """Rows of a JSON request: `{"instances": X}` or X; X is one instance or a list of them."""
    if isinstance(payload, dict) and "instances" in payload:
        payload = payload["instances"]
    if isinstance(payload, list) and payload and all(isinstance(i, dict | list) for i in payload):
        return [_json_instance(item, columns) for item in payload]
    return [_json_instance(payload, columns)] if payload != [] else []


def _json_instance(instance: Any, columns: list[str]) -> Record:
    """An object keyed by column, `{"features": [...]}`, or a list of values by position."""
    if isinstance(instance, dict):
        if set(instance) == {"features"} and isinstance(instance["features"], list):
            instance = instance["features"]
        else:
            return {str(key): _json_value(value) for key, value in instance.items()}
    if isinstance(instance, list) and not any(isinstance(v, dict | list) for v in instance):
        return _positional_json(instance, columns)
    raise _PayloadError("JSON payload of an unsupported shape")


def _positional_json(values: list[Any], columns: list[str]) -> Record:
    return {
        (columns[index] if index < len(columns) else f"_c{index}"): _json_value(value)
        for index, value in enumerate(values)
    }


# --- the baseline --------------------------------------------------------------------------------


class FeatureBaseline(BaseModel):
    """One feature of the training data, as the comparison needs it."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
    name: str
    kind: Kind
    rows: int = Field(ge=0, description="Rows of the training data.")
    present: int = Field(ge=0, description="Rows with a value for this feature.")
    completeness: float = Field(ge=0, le=1, description="Share of rows with a value.")
    # numeric: inner cut points; bin i holds edges[i-1] < v <= edges[i] (open-ended first/last).
    bin_edges: list[float] = Field(default_factory=list)
    bin_shares: list[float] = Field(default_factory=list)
    sampled: int = Field(default=0, ge=0, description="Values in the reservoir the bins come from.")
    mean: float | None = None
    std: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    # categorical: share of the non-missing values per tracked value, most frequent first.
    categories: dict[str, float] = Field(default_factory=dict)
    other_share: float = Field(
        default=0.0, ge=0, le=1, description="Share of values beyond the tracked categories."
    )


class Baseline(BaseModel):
    """The champion's training data, per feature; cached as JSON (`model_dump(mode="json")`)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
    format: Literal[1] = BASELINE_FORMAT
    source: str
    label: str | None
    rows: int = Field(ge=1)
    columns: list[str] = Field(description="Feature columns in data order, the label excluded.")
    features: list[FeatureBaseline]
    bins: int = Field(ge=1)
    sample_size: int = Field(ge=1)
    max_categories: int = Field(ge=1)
    seed: int

    def feature(self, name: str) -> FeatureBaseline:
        """The named feature's baseline; KeyError when the baseline has no such feature."""
        for feature in self.features:
            if feature.name == name:
                return feature
        raise KeyError(name)


def _present(value: str | None) -> TypeGuard[str]:
    """A value, not None and not blank."""
    return value is not None and value.strip() != ""


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


class FeatureProfiler:
    """Streams one column of the training data in bounded memory.

    Holds at most `sample_size` numbers (reservoir sampling, algorithm R, with a generator seeded
    from `seed` and the column name, so the same data always gives the same baseline) and the
    counts of at most `max_categories` distinct values; both are kept until the data says which
    kind the column is (numeric when every non-missing value is a finite number).
    """

    def __init__(self, name: str, *, sample_size: int, max_categories: int, seed: int) -> None:
        self.name = name
        self.sample_size = sample_size
        self.max_categories = max_categories
        self.present = 0
        self.numeric = True
        self.reservoir: list[float] = []
        self.categories: dict[str, int] = {}
        self.untracked = 0
        self._random = random.Random(f"{seed}:{name}")  # noqa: S311 (sampling, not secrets)
        self._mean = 0.0
        self._m2 = 0.0
        self._minimum = math.inf
        self._maximum = -math.inf

    def add(self, value: str | None) -> None:
        if not _present(value):
            return
        self.present += 1
        if value in self.categories:
            self.categories[value] += 1
        elif len(self.categories) < self.max_categories:
            self.categories[value] = 1
        else:
            self.untracked += 1
        if not self.numeric:
            return
        number = _number(value)
        if number is None:
            self.numeric = False
            self.reservoir = []
            return
        self._add_number(number)

    def _add_number(self, number: float) -> None:
        count = self.present
        delta = number - self._mean
        self._mean += delta / count
        self._m2 += delta * (number - self._mean)
        self._minimum = min(self._minimum, number)
        self._maximum = max(self._maximum, number)
        if len(self.reservoir) < self.sample_size:
            self.reservoir.append(number)
        else:
            slot = self._random.randrange(count)
            if slot < self.sample_size:
                self.reservoir[slot] = number

    def baseline(self, rows: int, bins: int) -> FeatureBaseline:
        common = {
            "name": self.name,
            "rows": rows,
            "present": self.present,
            "completeness": self.present / rows if rows else 0.0,
        }
        if self.numeric and self.present:
            sample = sorted(self.reservoir)
            edges = _quantile_edges(sample, bins)
            counts = [0] * (len(edges) + 1)
            for number in sample:
                counts[bisect.bisect_left(edges, number)] += 1
            return FeatureBaseline(
                kind="numeric",
                bin_edges=edges,
                bin_shares=[count / len(sample) for count in counts],
                sampled=len(sample),
                mean=_finite(self._mean),
                std=_finite(math.sqrt(self._m2 / self.present)),
                minimum=self._minimum,
                maximum=self._maximum,
                **common,
            )
        ordered = sorted(self.categories.items(), key=lambda item: (-item[1], item[0]))
        return FeatureBaseline(
            kind="categorical",
            categories={value: count / self.present for value, count in ordered},
            other_share=self.untracked / self.present if self.present else 0.0,
            **common,
        )


def _quantile_edges(sample: list[float], bins: int) -> list[float]:
    """Distinct cut points at the sample's 1/bins .. (bins-1)/bins quantiles (lower value).

    Ties collapse: a constant column gets one edge (its value), so its baseline is one bin with
    everything and an open bin above; a two-valued column gets at most two edges.
    """
    edges: list[float] = []
    for step in range(1, bins):
        index = max(0, math.ceil(step * len(sample) / bins) - 1)
        edge = sample[index]
        if not edges or edge > edges[-1]:
            edges.append(edge)
    if not edges:
        edges.append(sample[-1])
    return edges


def build_baseline(
    records: Iterable[Mapping[str, str | None]],
    label: str | None,
    source: str,
    bins: int = 10,
    sample_size: int = 10_000,
    seed: int = 0,
    *,
    max_categories: int = MAX_CATEGORIES,
) -> Baseline:
    """The baseline of training records, one pass, bounded memory.

    Columns are the records' keys in order of first appearance, the label excluded; a record
    without a column counts as missing for it. Raises `BaselineError` on no records, or a label
    that is not one of the columns (a typo would otherwise make the label a feature that every
    captured request lacks).
    """
    if bins < 1 or sample_size < 1 or max_categories < 1:
        raise ValueError("bins, sample_size and max_categories must be at least 1")
    profilers: dict[str, FeatureProfiler] = {}
    rows = 0
    label_seen = False
    for record in records:
        rows += 1
        for name, value in record.items():
            if name == label:
                label_seen = True
                continue
            profiler = profilers.get(name)
            if profiler is None:
                profiler = profilers[name] = FeatureProfiler(
                    name, sample_size=sample_size, max_categories=max_categories, seed=seed
                )
            profiler.add(value)
    if rows == 0:
        raise BaselineError(f"no records in {source}: nothing to build a baseline from")
    if label is not None and not label_seen:
        raise BaselineError(
            f"label {label!r} is not a column of {source} (columns: {', '.join(profilers)})"
        )
    return Baseline(
        source=source,
        label=label,
        rows=rows,
        columns=list(profilers),
        features=[profiler.baseline(rows, bins) for profiler in profilers.values()],
        bins=bins,
        sample_size=sample_size,
        max_categories=max_categories,
        seed=seed,
    )


# --- the comparison ------------------------------------------------------------------------------


class FeatureDrift(BaseModel):
    """One feature of the current data against its baseline."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
    name: str
    kind: Kind
    rows: int = Field(ge=0, description="Current rows.")
    in_current_data: bool = Field(description="False: no current row has this column.")
    completeness: float = Field(ge=0, le=1)
    baseline_completeness: float = Field(ge=0, le=1)
    psi: float | None = Field(default=None, description="Numeric features with numbers only.")
    non_numeric_share: float | None = Field(
        default=None, description="Numeric features: share of values that are not numbers."
    )
    mean: float | None = None
    unseen_share: float | None = Field(
        default=None, description="Categorical features: share of values not in the baseline."
    )
    # What a chart needs (None: statistics written before these were recorded, or no current value
    # to chart). Numeric: `bin_edges` are the baseline's (see FeatureBaseline), one share per bin.
    # Categorical: one share per value of `categories`, then one for all other values.
    bin_edges: list[float] | None = Field(
        default=None, description="Numeric features: the baseline's inner cut points."
    )
    categories: list[str] | None = Field(
        default=None,
        description=f"Categorical features: at most {CHART_CATEGORIES} values charted, the "
        "baseline's most frequent first; the shares' last entry is every other value.",
    )
    baseline_shares: list[float] | None = Field(
        default=None, description="The baseline's share per bin (numeric) or charted value."
    )
    current_shares: list[float] | None = Field(
        default=None, description="The current data's share per bin (numeric) or charted value."
    )


class DriftComparison(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
    rows: int = Field(ge=0)
    min_rows: int = Field(ge=1)
    enough_data: bool = Field(description="False: fewer rows than min_rows, no verdict.")
    features: list[FeatureDrift]
    extra_columns: list[str] = Field(default_factory=list)
    violations: list[Violation] = Field(default_factory=list)
    skipped_records: int = Field(
        default=0, ge=0, description="Input lines a reader skipped as unreadable."
    )


class _CurrentFeature:
    """Counts for one baseline feature over the current data: O(bins) memory."""

    def __init__(self, baseline: FeatureBaseline) -> None:
        self.baseline = baseline
        self.in_data = False
        self.present = 0
        self.bin_counts = [0] * len(baseline.bin_shares)
        self.numbers = 0
        self.total = 0.0
        self.non_numeric = 0
        self.non_numeric_examples: list[str] = []
        self.unseen = 0
        self.unseen_examples: list[str] = []
        # For the chart: counts of the baseline's most frequent values and the first unseen ones.
        top = list(baseline.categories)[:CHART_CATEGORIES] if baseline.kind == "categorical" else []
        self.top_counts = dict.fromkeys(top, 0)
        self.unseen_counts: dict[str, int] = {}

    def add(self, value: str | None) -> None:
        self.in_data = True
        if not _present(value):
            return
        self.present += 1
        if self.baseline.kind == "numeric":
            number = _number(value)
            if number is None:
                self.non_numeric += 1
                _remember(self.non_numeric_examples, value)
                return
            self.numbers += 1
            self.total += number
            self.bin_counts[bisect.bisect_left(self.baseline.bin_edges, number)] += 1
        elif value in self.top_counts:
            self.top_counts[value] += 1
        elif value not in self.baseline.categories:
            self.unseen += 1
            _remember(self.unseen_examples, value)
            if value in self.unseen_counts or len(self.unseen_counts) < CHART_CATEGORIES:
                self.unseen_counts[value] = self.unseen_counts.get(value, 0) + 1

    def chart(self) -> dict[str, Any]:
        """The `FeatureDrift` fields a chart needs; empty when no current value can be charted."""
        base = self.baseline
        if base.kind == "numeric":
            if not self.numbers or not base.bin_shares:
                return {}
            return {
                "bin_edges": list(base.bin_edges),
                "baseline_shares": list(base.bin_shares),
                "current_shares": [count / self.numbers for count in self.bin_counts],
            }
        if not self.present:
            return {}
        # (value, baseline share, current count): the baseline's most frequent values, then the
        # unseen ones most frequent first; the heaviest on either side are charted, in that order.
        candidates = [(v, base.categories[v], n) for v, n in self.top_counts.items()] + [
            (v, 0.0, n) for v, n in sorted(self.unseen_counts.items(), key=lambda i: -i[1])
        ]
        heaviest = sorted(
            range(len(candidates)),
            key=lambda i: -max(candidates[i][1], candidates[i][2] / self.present),
        )
        kept = [candidates[i] for i in sorted(heaviest[:CHART_CATEGORIES])]
        baseline_shares = [share for _, share, _ in kept]
        current_counts = [count for _, _, count in kept]
        # A training column with no value at all has no share anywhere, not all in the rest.
        rest = max(0.0, 1.0 - math.fsum(baseline_shares)) if base.present else 0.0
        return {
            "categories": [value for value, _, _ in kept],
            "baseline_shares": [*baseline_shares, rest],
            "current_shares": [
                *(count / self.present for count in current_counts),
                (self.present - sum(current_counts)) / self.present,
            ],
        }


def _remember(examples: list[str], value: str) -> None:
    if len(examples) < UNSEEN_EXAMPLES and value not in examples:
        examples.append(value if len(value) <= 40 else value[:37] + "...")


def population_stability_index(expected: list[float], actual: list[float]) -> float:
    """PSI = sum((a - e) * ln(a / e)) over bins, each share floored at `PSI_EPSILON`."""
    psi = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, PSI_EPSILON), max(a, PSI_EPSILON)
        psi += (a - e) * math.log(a / e)
    return psi


def compare(
    baseline: Baseline,
    records: Iterable[Mapping[str, str | None]],
    policy: DriftMonitorPolicy,
    *,
    max_type_mismatch_share: float = MAX_TYPE_MISMATCH_SHARE,
) -> DriftComparison:
    """The current records against the baseline, with Model Monitor's violations.

    One pass, memory bounded by the baseline's size. With fewer than `policy.min_rows` rows the
    statistics are still reported but no violation is (no verdict). When `records` counts the
    lines it skipped (`CountsSkipped`: a reader, a chain of readers), that is `skipped_records`.

    The unseen-values check allows for the baseline's own untracked tail: when the training data
    had more distinct values than the baseline tracks, that share of values (`other_share`) is
    "unseen" even without drift, so the check fails only above `max_unseen_share + other_share`.
    """
    current = {feature.name: _CurrentFeature(feature) for feature in baseline.features}
    ignored = set(current) | ({baseline.label} if baseline.label is not None else set())
    extra: dict[str, int] = {}
    rows = 0
    for record in records:
        rows += 1
        for name, value in record.items():
            feature = current.get(name)
            if feature is not None:
                feature.add(value)
            elif name not in ignored and (name in extra or len(extra) < MAX_EXTRA_COLUMNS):
                extra[name] = extra.get(name, 0) + 1

    features: list[FeatureDrift] = []
    violations: list[Violation] = []
    for feature in current.values():
        drift, found = _judge(feature, rows, policy, max_type_mismatch_share)
        features.append(drift)
        violations.extend(found)
    for name, count in extra.items():
        violations.append(
            Violation(
                feature_name=name,
                constraint_check_type="extra_column_check",
                description=f"Column present in {count} of {rows} current rows "
                f"({count / rows:.1%}) but not in the baseline",
            )
        )
    enough = rows >= policy.min_rows
    return DriftComparison(
        rows=rows,
        min_rows=policy.min_rows,
        enough_data=enough,
        features=features,
        extra_columns=list(extra),
        violations=violations if enough else [],
        skipped_records=records.skipped if isinstance(records, CountsSkipped) else 0,
    )


def _exceeds(value: float, limit: float) -> bool:
    return value > limit + _TOLERANCE


def _quoted(examples: list[str]) -> str:
    return ", ".join(repr(example) for example in examples)


def _judge(
    feature: _CurrentFeature, rows: int, policy: DriftMonitorPolicy, max_type_mismatch: float
) -> tuple[FeatureDrift, list[Violation]]:
    base = feature.baseline
    name = base.name

    def violation(check: str, description: str) -> Violation:
        return Violation(feature_name=name, constraint_check_type=check, description=description)

    if not feature.in_data:
        drift = FeatureDrift(
            name=name,
            kind=base.kind,
            rows=rows,
            in_current_data=False,
            completeness=0.0,
            baseline_completeness=base.completeness,
        )
        found = [
            violation(
                "missing_column_check",
                f"Column in the baseline ({base.completeness:.1%} complete) but absent from all "
                f"{rows} current rows",
            )
        ]
        return drift, found if rows else []

    found = []
    completeness = feature.present / rows
    drop = base.completeness - completeness
    if _exceeds(drop, policy.max_completeness_drop):
        found.append(
            violation(
                "completeness_check",
                f"Completeness {completeness:.1%} vs {base.completeness:.1%} in the baseline: "
                f"a drop of {drop:.1%} > {policy.max_completeness_drop:.1%} allowed",
            )
        )
    psi = non_numeric_share = mean = unseen_share = None
    if base.kind == "numeric":
        if feature.present:
            non_numeric_share = feature.non_numeric / feature.present
            if _exceeds(non_numeric_share, max_type_mismatch):
                found.append(
                    violation(
                        "data_type_check",
                        f"Numeric in the baseline, but {non_numeric_share:.1%} of "
                        f"{feature.present} current values are not numbers "
                        f"(> {max_type_mismatch:.1%} allowed), e.g. "
                        f"{_quoted(feature.non_numeric_examples)}",
                    )
                )
        if feature.numbers:
            mean = _finite(feature.total / feature.numbers)
            shares = [count / feature.numbers for count in feature.bin_counts]
            psi = population_stability_index(base.bin_shares, shares)
            if _exceeds(psi, policy.max_psi):
                means = (
                    f"; mean {mean:.4g} vs {base.mean:.4g} in the baseline"
                    if mean is not None and base.mean is not None
                    else ""
                )
                found.append(
                    violation(
                        "baseline_drift_check",
                        f"PSI {psi:.3g} > {policy.max_psi:g} against the baseline "
                        f"({len(base.bin_shares)} bins, {feature.numbers} values){means}",
                    )
                )
    elif feature.present:
        unseen_share = feature.unseen / feature.present
        allowed = policy.max_unseen_share + base.other_share
        if _exceeds(unseen_share, allowed):
            tail = (
                f" + {base.other_share:.1%} untracked in the baseline" if base.other_share else ""
            )
            found.append(
                violation(
                    "categorical_values_check",
                    f"{unseen_share:.1%} of {feature.present} values never seen in the baseline "
                    f"> {policy.max_unseen_share:.1%} allowed{tail}, e.g. "
                    f"{_quoted(feature.unseen_examples)}",
                )
            )
    drift = FeatureDrift(
        name=name,
        kind=base.kind,
        rows=rows,
        in_current_data=True,
        completeness=completeness,
        baseline_completeness=base.completeness,
        psi=psi,
        non_numeric_share=non_numeric_share,
        mean=mean,
        unseen_share=unseen_share,
        **feature.chart(),
    )
    return drift, found
