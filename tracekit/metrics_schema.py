"""The canonical metrics DataFrame, declared once as data (as :mod:`tracekit.schema` declares spans).

One row per metric data point: an OTLP gauge, sum, histogram, exponential-histogram or summary
point, a CloudWatch datapoint, or a row of a long-form CSV export. :data:`METRIC_COLUMNS` is the
single declaration; :func:`empty_metrics`, :func:`validate_metrics`, :func:`metrics_from_columns`
and the column table (:func:`metrics_schema_markdown`) are generated from it.

``service`` and ``host`` are the keys that join the spans frame: ``service`` is what the spans'
``service`` column holds (OTLP resource ``service.name``), ``host`` what
:func:`tracekit.core.hosts` reads from a span's resource (``host.name``, ``k8s.pod.name``…,
:data:`tracekit.core.HOST_KEYS`). Exemplar ids are normalised as the spans' are: 32 / 16
lower-case hex digits (an X-Ray trace id ``1-xxxxxxxx-…`` becomes 32 hex digits).

The content rules of a point — :func:`check_buckets`, :func:`summary_quantiles`, :func:`check_point` and
the cell checks built on them (:func:`bucket_cell`, :func:`quantile_cell`, :func:`exemplar_cell`) — are
defined here once: :func:`tracekit.read_metrics` refuses a record by them and
:func:`metrics_from_columns` a row.

>>> import tracekit as tk
>>> m = tk.empty_metrics()
>>> list(m.columns[:4])
['time', 'start_time', 'name', 'unit']
>>> tk.validate_metrics(m) is m
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .errors import TraceKitError
from .schema import (
    MUTABLE_CELL_TYPES,
    STRING,
    TIME_MAX_NS,
    TIME_MIN_NS,
    TIMESTAMP,
    Column,
    canonical_id,
    column_of,
    columns_markdown,
    dict_cells,
    epoch_times,
    none_cells,
    once,
    own,
    owned_cells,
    repeated,
    repeated_column,
    single_value,
    time_out_of_range,
)

__all__ = [
    "exponential_buckets",
    "exponential_edge",
    "METRIC_COLUMNS",
    "METRIC_COLUMN_NAMES",
    "METRIC_KINDS",
    "TEMPORALITIES",
    "METRIC_SOURCES",
    "MetricsSchemaError",
    "empty_metrics",
    "validate_metrics",
    "metrics_from_columns",
    "metrics_schema_markdown",
    "exemplar_ids",
    "check_buckets",
    "summary_quantiles",
    "check_point",
    "bucket_cell",
    "quantile_cell",
    "exemplar_cell",
    "own",
]

METRIC_KINDS = ("gauge", "sum", "histogram", "exponential_histogram", "summary")
TEMPORALITIES = ("delta", "cumulative", "unspecified")
METRIC_SOURCES = ("otlp", "cloudwatch", "columns", "other")

METRIC_COLUMNS: tuple[Column, ...] = (
    Column("time", TIMESTAMP, False, "ns, UTC", "time of the data point (OTLP `timeUnixNano`; CloudWatch timestamp: the start of its period)"),
    Column("start_time", TIMESTAMP, True, "ns, UTC", "start of the interval a sum / histogram / summary point covers (OTLP `startTimeUnixNano`; a change of it marks a counter reset); CloudWatch: the timestamp; `NaT` for gauges and where OTLP gives 0, proto3's \"not set\""),
    Column("name", STRING, False, "", "metric name (OTLP `name`; CloudWatch `Namespace/MetricName`, or the query `Id` / `Label` when no name is known)"),
    Column("unit", STRING, True, "", "unit as given (UCUM for OTLP: `ms`, `By`, `1`; CloudWatch `Seconds`, `Percent`…)"),
    Column("description", STRING, True, "", "OTLP metric description"),
    Column("kind", STRING, False, "", "the data point's type", values=METRIC_KINDS),
    Column("temporality", STRING, True, "", "aggregation temporality of sums and histograms; `<NA>` for gauges and summaries", values=TEMPORALITIES),
    Column("monotonic", "boolean", True, "", "a sum that only grows (`isMonotonic`); `<NA>` for other kinds"),
    Column("value", "float64", True, "value unit", "the point's value (gauge, sum: `asDouble` / `asInt`; CloudWatch: the statistic's value); NaN for histograms and summaries"),
    Column("count", "float64", True, "observations", "number of observations (histogram, summary; CloudWatch `SampleCount`)"),
    Column("sum", "float64", True, "value unit", "sum of the observations (histogram, summary; CloudWatch `Sum`)"),
    Column("min", "float64", True, "value unit", "smallest observation (histogram; CloudWatch `Minimum`)"),
    Column("max", "float64", True, "value unit", "largest observation (histogram; CloudWatch `Maximum`)"),
    Column("buckets", object, True, "", "histogram buckets as a dict `{bounds: [b0 … bk−1], counts: [c0 … ck]}` (OTLP explicit bounds: count i is in (b(i−1), b(i)], the first from −∞, the last to +∞); an exponential histogram is turned into the same form (its bucket edges base^i, base = 2^(2^−scale), the zero bucket up to `zeroThreshold`) and also keeps `scale`, `zero_count`, `zero_threshold`; None for other kinds; may be lazy (`tracekit.lazy`: checked at read time, each dict built when first used)"),
    Column("quantiles", object, True, "", "summary quantiles as a dict `{quantile: value}` (0.5 → median); None for other kinds"),
    Column("service", STRING, False, "", "service the point describes: OTLP resource `service.name` (`unknown_service` when absent, as the spans reader); joins the spans' `service`"),
    Column("host", STRING, True, "", "machine, container or pod the point describes: the first of `tracekit.core.HOST_KEYS` the resource names (CloudWatch: dimension `InstanceId`, `PodName`, `host`…); joins the host read from the spans' resource"),
    Column("attributes", object, False, "", "dict of the data point's attributes (CloudWatch: its dimensions). May be a lazy column (dtype `tracekit.lazy`, as read by `read_metrics`' fast path): its cells are real dicts, each built (a copy of its distinct set, checked at read time) when first used; `tk.attribute` reads one key without building them"),
    Column("resource", object, False, "", "dict of resource attributes (+ the scope: `otel.scope.name`, `otel.scope.version`, its attributes as `otel.scope.attr.<key>`); may be lazy (`tracekit.lazy`: each row's own copy of its scope's dict, built when first used)"),
    Column("exemplars", object, False, "", "list of dicts {time (ns since epoch), value, trace_id, span_id, attributes}: ids as the spans' (32 / 16 lower-case hex; None when absent); may be lazy (`tracekit.lazy`: checked at read time, each list built when first used)"),
    Column("flags", "Int64", True, "", "OTLP data point flags (1 = no recorded value)"),
    Column("source", STRING, False, "", "format the point was read from", values=METRIC_SOURCES),
    Column("source_file", STRING, True, "", "file (or `<object>`) the point was read from"),
    Column("source_record", "Int64", True, "", "1-based line of a JSON-lines file, else 0-based index of the top-level record (OTLP resourceMetrics, CloudWatch result)"),
)

METRIC_COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in METRIC_COLUMNS)
_BY_NAME: Mapping[str, Column] = {c.name: c for c in METRIC_COLUMNS}


class MetricsSchemaError(TraceKitError, ValueError):
    """A DataFrame does not follow the metrics schema.

    Examples
    --------
    >>> issubclass(MetricsSchemaError, ValueError)
    True
    """


def empty_metrics() -> pd.DataFrame:
    """An empty metrics DataFrame with every column and dtype of the schema.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> empty_metrics().dtypes["time"]
    datetime64[ns, UTC]
    """
    return pd.DataFrame({c.name: pd.Series([], dtype=c.dtype) for c in METRIC_COLUMNS})




def exemplar_ids(trace_id: Any, span_id: Any) -> tuple[str | None, str | None]:
    """An exemplar's trace and span id in the spans frame's form, or None where absent.

    32 / 16 hex digits in any case are lower-cased; an X-Ray trace id becomes 32 hex digits;
    ``""`` and all-zero ids mean no id (as in OTLP).

    Parameters
    ----------
    trace_id, span_id : str or None
        The ids as given.

    Returns
    -------
    (str or None, str or None)

    Raises
    ------
    ValueError
        An id of another shape (the readers turn it into a TraceFormatError naming the record).

    Examples
    --------
    >>> exemplar_ids("1-5759E988-BD862E3FE1BE46A994272793", "EEE19B7EC3C1B174")
    ('5759e988bd862e3fe1be46a994272793', 'eee19b7ec3c1b174')
    >>> exemplar_ids("", None)
    (None, None)
    """
    out: list[str | None] = []
    for v, n in ((trace_id, 32), (span_id, 16)):
        try:  # the one id rule of every frame (schema.canonical_ids)
            out.append(canonical_id(v, n, xray=n == 32))
        except ValueError as exc:
            raise ValueError(f"exemplar {'trace' if n == 32 else 'span'} id {exc}") from None
    return out[0], out[1]


# -- the content rules of a point: one definition for read_metrics (both paths) and metrics_from_columns.
# Each raises ValueError saying what is wrong; the reader turns it into a TraceFormatError naming the file and
# the record, metrics_from_columns into a MetricsSchemaError naming the column and the row.

_INT64_MAX = 2**63 - 1
_FLAGS_MAX = 2**32 - 1  # OTLP data point flags: uint32


def check_buckets(bounds: list[float], counts: list[int], count: float | None = None, *, finite: bool = True,
                  names: tuple[str, str] = ("explicitBounds", "bucketCounts")) -> None:
    """Check a histogram's bounds and counts (already numbers): the one rule of buckets.

    Bounds are strictly increasing and never NaN (and finite when ``finite``: OTLP explicit bounds
    are; an exponential histogram's outer edges may be infinite); counts are non-negative integers,
    one more than the bounds (or none: no buckets recorded), adding up to ``count`` when it is given.

    Parameters
    ----------
    bounds : list of float
        The bucket bounds.
    counts : list of int
        The bucket counts.
    count : float, optional
        The point's count (NaN or None: not checked).
    finite : bool
        Refuse infinite bounds.
    names : (str, str)
        What the bounds and the counts are called in messages.

    Raises
    ------
    ValueError
        What is wrong.

    Examples
    --------
    >>> check_buckets([1.0, float("nan")], [1, 1, 1])
    Traceback (most recent call last):
    ...
    ValueError: explicitBounds must be numbers, not NaN, got [1.0, nan]
    """
    bn, cn = names
    if any(b != b for b in bounds):
        raise ValueError(f"{bn} must be numbers, not NaN, got {_shown(bounds)}")
    if finite and any(b in (math.inf, -math.inf) for b in bounds):
        raise ValueError(f"{bn} must be finite, got {_shown(bounds)}")
    if any(b >= c for b, c in zip(bounds, bounds[1:], strict=False)):
        raise ValueError(f"{bn} must be strictly increasing, got {_shown(bounds)}")
    if any(c < 0 for c in counts):
        raise ValueError(f"{cn} must be non-negative, got {_shown(counts)}")
    if counts and len(counts) != len(bounds) + 1:
        raise ValueError(f"{cn} has {len(counts)} counts for {len(bounds)} {bn} (needs {len(bounds) + 1})")
    if counts and count is not None and count == count and sum(counts) != count:
        raise ValueError(f"the bucket counts add up to {sum(counts)}, count is "
                         f"{int(count) if float(count).is_integer() else count}")


def summary_quantiles(pairs: Iterable[tuple[float, float]], what: str = "quantile") -> dict[float, float]:
    """A summary's quantiles ``{quantile: value}`` from (quantile, value) pairs (already numbers): the one rule.

    Each quantile is in [0, 1] and given once; values do not decrease as the quantile grows (a NaN
    value — a quantile of no observations — is not compared).

    Parameters
    ----------
    pairs : iterable of (float, float)
        The quantiles and their values, in any order.
    what : str
        What a quantile is called in messages.

    Returns
    -------
    dict of float to float
        In the order given.

    Raises
    ------
    ValueError
        What is wrong.

    Examples
    --------
    >>> summary_quantiles([(0.5, 2.0), (0.99, 9.0)])
    {0.5: 2.0, 0.99: 9.0}
    >>> summary_quantiles([(0.5, 2.0), (0.5, 3.0)])
    Traceback (most recent call last):
    ...
    ValueError: quantile 0.5 is given twice (values 2.0 and 3.0)
    """
    out: dict[float, float] = {}
    for q, v in pairs:
        if not 0 <= q <= 1:
            raise ValueError(f"{what} must be in [0, 1], got {q!r}")
        if q in out:
            raise ValueError(f"{what} {q!r} is given twice (values {out[q]!r} and {v!r})")
        out[q] = v
    known = sorted((q, v) for q, v in out.items() if v == v)
    for (q0, v0), (q1, v1) in zip(known, known[1:], strict=False):
        if v1 < v0:
            raise ValueError(f"quantile values must not decrease as the quantile grows: {q1!r} has {v1!r}, "
                             f"below {v0!r} of {q0!r}")
    return out


def check_point(*, count: float | None = None, minimum: float | None = None, maximum: float | None = None,
                start: int | None = None, time: int | None = None, names: tuple[str, ...] = (
                    "count", "min", "max", "startTimeUnixNano", "timeUnixNano")) -> None:
    """Check a point's count, min / max and start / end (None, NaN: not given): the one rule.

    A count is not negative (nor NaN when given as a number); min is not above max; the interval
    does not start after the point's time.

    Parameters
    ----------
    count, minimum, maximum : float, optional
        The point's count, min and max.
    start, time : int, optional
        The point's start time and time (ns).
    names : tuple of str
        What count, min, max, start and time are called in messages.

    Raises
    ------
    ValueError
        What is wrong.

    Examples
    --------
    >>> check_point(minimum=5.0, maximum=1.0)
    Traceback (most recent call last):
    ...
    ValueError: min 5.0 is above max 1.0
    """
    if count is not None and count == count and not (count >= 0 and count != math.inf):
        raise ValueError(f"{names[0]} must be a non-negative number, got {count!r}")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise ValueError(f"{names[1]} {minimum!r} is above {names[2]} {maximum!r}")
    if start is not None and time is not None and start > time:
        raise ValueError(f"{names[3]} {start} is after {names[4]} {time} (a point's interval ends at its time)")


def _shown(x: Any) -> str:
    r = repr(x)
    return r if len(r) <= 80 else r[:77] + "..."


def _number(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def _missing(x: Any) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and x != x)


def bucket_cell(cell: Any, count: float | None = None) -> dict | None:
    """A ``buckets`` cell of the frame, checked (:func:`check_buckets`) and copied: None (or NaN) is no buckets.

    Parameters
    ----------
    cell : dict or None
        ``{"bounds": [...], "counts": [...]}``; an exponential histogram's also ``scale``, ``zero_count``,
        ``zero_threshold`` (its outer bounds may be infinite).
    count : float, optional
        The row's count: the counts must add up to it.

    Returns
    -------
    dict or None
        A new dict with new lists.

    Raises
    ------
    ValueError
        What is wrong.

    Examples
    --------
    >>> bucket_cell({"bounds": [1, 5], "counts": [0, 2, 1]}, 3.0)
    {'bounds': [1.0, 5.0], 'counts': [0, 2, 1]}
    """
    if _missing(cell):
        return None
    if not isinstance(cell, dict):
        raise ValueError(f"{_shown(cell)} is not a dict {{bounds: [...], counts: [...]}}")
    unknown = set(cell) - {"bounds", "counts", "scale", "zero_count", "zero_threshold"}
    if unknown or "bounds" not in cell or "counts" not in cell:
        raise ValueError(f"a buckets dict has the keys bounds and counts (an exponential histogram's also scale, "
                         f"zero_count, zero_threshold), got {sorted(map(str, cell))}")
    bounds, counts = cell["bounds"], cell["counts"]
    if not isinstance(bounds, (list, tuple, np.ndarray)) or not all(_number(b) for b in bounds):
        raise ValueError(f"bounds must be a list of numbers, got {_shown(bounds)}")
    if not isinstance(counts, (list, tuple, np.ndarray)) or not all(
            isinstance(c, (int, np.integer)) and not isinstance(c, (bool, np.bool_)) for c in counts):
        raise ValueError(f"counts must be a list of integers, got {_shown(counts)}")
    out: dict[str, Any] = {"bounds": [float(b) for b in bounds], "counts": [int(c) for c in counts]}
    expo = "scale" in cell
    check_buckets(out["bounds"], out["counts"], count, finite=not expo, names=("bounds", "counts"))
    for k in ("scale", "zero_count", "zero_threshold"):
        if k in cell:
            v = cell[k]
            if not _number(v) or (k != "zero_threshold" and int(v) != v) or not v == v:
                raise ValueError(f"{k} must be a number, got {_shown(v)}")
            if k != "scale" and v < 0:
                raise ValueError(f"{k} must not be negative, got {v!r}")
            out[k] = float(v) if k == "zero_threshold" else int(v)
    if expo:  # the layout the OTLP writer needs: every counted bucket one of the scale's, and they add up
        exponential_buckets(out["scale"], out.get("zero_count", 0), out["bounds"], out["counts"], count)
    return out


def exponential_edge(k: int, scale: int) -> float:
    """Edge ``k`` of an exponential histogram of ``scale``: ``2 ** (k * 2 ** -scale)`` (OTLP's ``base ** k``), to within
    one unit in the last place; exact at every power of two (``k`` a multiple of ``2 ** scale``); ``inf`` past the
    largest double and 0.0 below the smallest. The one rule of the reader and the writer.

    ``base ** k`` with ``base`` rounded to a double drifted from the edge as ``|k|`` grew: 1.5e-9 relative at scale
    20 by 1e9, where the writer's check (1e-9) refused the frame the reader had made, and 2.0 was 2.0000000000989.

    >>> exponential_edge(2 ** 20, 20), exponential_edge(-3, 0), exponential_edge(3, -2), exponential_edge(1, 1)
    (2.0, 0.125, 4096.0, 1.4142135623730951)
    """
    if scale <= 0:
        e = k << -scale  # an integer power of two
        return math.inf if e >= 1024 else 0.0 if e < -1074 else math.ldexp(1.0, e)
    q, r = divmod(k, 1 << scale)  # 2 ** q · 2 ** (r / 2 ** scale), the fraction exact in binary (scale ≤ 52)
    if q >= 1024:
        return math.inf
    if q < -1076:
        return 0.0
    try:
        return math.ldexp(2.0 ** (r / (1 << scale)), q)
    except OverflowError:
        return math.inf


def exponential_buckets(scale: int, zero_count: int, bounds: list[float], counts: list[int],
                        count: float | None = None) -> dict[str, dict[int, int]]:
    """An exponential histogram's buckets by side and index, from the explicit edges :func:`tracekit.read_metrics`
    makes (base^i with base = 2^(2^-scale), the zero bucket, gaps of no count): ``{"positive": {i: n},
    "negative": {i: n}}``. The one layout rule of the builders' check and the OTLP writer.

    Raises
    ------
    ValueError
        A counted bucket is no (base^i, base^(i+1)] at ``scale``, or the buckets and the zero count do not add up
        to ``count``.

    Examples
    --------
    >>> exponential_buckets(0, 1, [-2.0, -1.0, 0.0, 1.0, 2.0], [0, 1, 0, 1, 1, 0], 3.0)
    {'positive': {0: 1}, 'negative': {0: 1}}
    """
    lb = math.ldexp(math.log(2.0), -scale)  # log of base = 2^(2^-scale), which at scale -10 is past a float

    def power(j: int) -> float:  # base^j, infinite past the float range (the reader's outer edges are)
        return exponential_edge(j, scale)

    def same(a: float, b: float) -> bool:
        return a == b or math.isclose(a, b, rel_tol=1e-9)

    sides: dict[str, dict[int, int]] = {"positive": {}, "negative": {}}
    for k in range(1, len(bounds)):
        lo, hi, c = float(bounds[k - 1]), float(bounds[k]), int(counts[k])
        side, edge, other = ("positive", lo, hi) if lo > 0 else ("negative", -hi, -lo) if hi < 0 else (None, 0.0, 0.0)
        if side is None or edge <= 0 or math.isinf(edge):
            continue  # the zero bucket, or the gap next to it
        j = round(math.log(edge) / lb)
        if not (same(power(j), edge) and same(power(j + 1), other)):
            if c:
                raise ValueError(f"exponential histogram bucket ({lo}, {hi}] of scale {scale} is not a bucket "
                                 f"(base^i, base^(i+1)] with base 2^(2^{-scale})")
            continue  # a gap between the zero bucket and the first bucket: no count
        sides[side][j] = c
    total = zero_count + sum(sum(v.values()) for v in sides.values())
    if count is not None and count == count and total != int(count):
        raise ValueError(f"exponential histogram buckets hold {total} observations, count is {int(count)}")
    return sides


def quantile_cell(cell: Any) -> dict | None:
    """A ``quantiles`` cell of the frame, checked (:func:`summary_quantiles`) and copied: None (or NaN) is none.

    Parameters
    ----------
    cell : dict or None
        ``{quantile: value}``.

    Returns
    -------
    dict or None
        A new dict of floats.

    Raises
    ------
    ValueError
        What is wrong.

    Examples
    --------
    >>> quantile_cell({0.5: 2, 0.9: 7.5})
    {0.5: 2.0, 0.9: 7.5}
    """
    if _missing(cell):
        return None
    if not isinstance(cell, dict):
        raise ValueError(f"{_shown(cell)} is not a dict {{quantile: value}}")
    bad = next((kv for kv in cell.items() if not (_number(kv[0]) and _number(kv[1]))), None)
    if bad is not None:
        raise ValueError(f"quantiles and their values must be numbers, got {bad[0]!r}: {bad[1]!r}")
    return summary_quantiles((float(q), float(v)) for q, v in cell.items())


def exemplar_cell(cell: Any) -> list:
    """An ``exemplars`` cell of the frame, checked and copied: None (or NaN) is no exemplar.

    Each exemplar is a dict of ``time`` (ns since 1970, or None), ``value`` (a number), ``trace_id`` and
    ``span_id`` (normalised by :func:`exemplar_ids`) and ``attributes`` (a dict); a missing key gets its
    missing value.

    Parameters
    ----------
    cell : list of dict or None
        The exemplars.

    Returns
    -------
    list of dict
        New dicts.

    Raises
    ------
    ValueError
        What is wrong.

    Examples
    --------
    >>> exemplar_cell([{"value": 3, "trace_id": "AB" * 16}])[0]["trace_id"] == "ab" * 16
    True
    """
    if _missing(cell):
        return []
    if not isinstance(cell, (list, tuple)):
        raise ValueError(f"{_shown(cell)} is not a list of exemplar dicts")
    out = []
    for i, e in enumerate(cell):
        if not isinstance(e, dict):
            raise ValueError(f"exemplar {i}: {_shown(e)} is not a dict {{time, value, trace_id, span_id, attributes}}")
        unknown = set(e) - {"time", "value", "trace_id", "span_id", "attributes"}
        if unknown:
            raise ValueError(f"exemplar {i} has keys outside time, value, trace_id, span_id, attributes: "
                             f"{sorted(map(str, unknown))}")
        t = e.get("time")
        if _missing(t):
            t = None
        elif not (isinstance(t, (int, np.integer)) and not isinstance(t, (bool, np.bool_))):
            raise ValueError(f"exemplar {i}: time must be ns since 1970 (an integer), got {_shown(t)}")
        elif not TIME_MIN_NS <= t <= TIME_MAX_NS:
            raise ValueError(time_out_of_range(f"exemplar {i}: time", _shown(t)))
        v = e.get("value", math.nan)
        if _missing(v):
            v = math.nan
        elif not _number(v):
            raise ValueError(f"exemplar {i}: value must be a number, got {_shown(v)}")
        a = e.get("attributes")
        if _missing(a):
            a = {}
        elif not isinstance(a, dict):
            raise ValueError(f"exemplar {i}: attributes must be a dict, got {_shown(a)}")
        try:
            tid, sid = exemplar_ids(e.get("trace_id"), e.get("span_id"))
        except ValueError as exc:
            raise ValueError(f"exemplar {i}: {exc}") from None
        out.append({"time": None if t is None else int(t), "value": float(v), "trace_id": tid, "span_id": sid,
                    "attributes": own(a)})
    return out






def metrics_from_columns(columns: Mapping[str, Any], *, check: bool = True, time_unit: str | None = None) -> pd.DataFrame:
    """Build a metrics frame from long-form columns: one row per point (time, name, value, …).

    What a long-form CSV export holds — ``time``, ``name``, ``value``, ``unit``, ``service``,
    ``host``, ``attributes`` — is enough; every other column of :data:`METRIC_COLUMNS` may be
    given too. Missing ones get their missing value (``kind`` ``"gauge"``, ``service``
    ``"unknown_service"``, ``source`` ``"columns"``, ``{}`` / ``[]`` for the dict and list
    columns). ``time`` (and ``start_time``) may be numbers since the epoch (nanoseconds unless
    ``time_unit`` says otherwise), datetimes or strings (naive times are UTC), 1970-01-01 to 2262-01-01
    (the readers' range). Columns are positional (a Series' index is not used to align them); a generator
    is read once. The content is checked by the readers' rules (:func:`check_point`, :func:`bucket_cell`, :func:`quantile_cell`,
    :func:`exemplar_cell`: a count is not negative, min not above max, a start not after its time, buckets
    and quantiles well formed, exemplar ids normalised) and every dict and list cell is a copy: the frame
    shares no mutable object with ``columns``.

    Parameters
    ----------
    columns : mapping of str to sequence (or a DataFrame)
        Column name → values; a scalar is repeated for every row. Names outside the schema are
        kept as extra columns.
    check : bool
        Validate the result (:func:`validate_metrics`) and check each point's content by the readers'
        rules; False builds the frame as given (still copies), e.g. to test what analyses do with a
        broken frame.
    time_unit : {None, "s", "ms", "us", "ns"}, default None
        Unit of numeric times. ``None``: nanoseconds, but a column whose every value is a 1990-2100
        time in seconds, milliseconds or microseconds is refused, naming the unit it looks like
        (:func:`tracekit.schema.epoch_times`).

    Returns
    -------
    pandas.DataFrame
        A metrics frame, 0..n-1 index.

    Raises
    ------
    MetricsSchemaError
        No column of values, columns of different lengths, a column given twice (a DataFrame) or as a
        set, a missing time or name, a value outside a column's allowed values, or content the readers
        refuse (naming the column and the row).

    Examples
    --------
    >>> m = metrics_from_columns({"time": ["2022-08-22 03:51:19", "2022-08-22 03:52:19"],
    ...     "name": "CpuUsageRate", "unit": "%", "value": [5.9, 3.7], "service": "adservice",
    ...     "host": "adservice-5f6585d649-fnmft"})
    >>> m[["time", "name", "kind", "host"]].iloc[1].tolist(), m["value"].tolist()
    ([Timestamp('2022-08-22 03:52:19+0000', tz='UTC'), 'CpuUsageRate', 'gauge', 'adservice-5f6585d649-fnmft'], [5.9, 3.7])
    """
    who = "metrics_from_columns"
    if isinstance(columns, pd.DataFrame):
        twice = repeated_column(columns.columns, list(dict.fromkeys(columns.columns)))
        if twice:
            raise MetricsSchemaError(f"{who}: {twice}")
        columns = {k: columns[k] for k in columns.columns}
    if not isinstance(columns, Mapping):
        raise MetricsSchemaError(f"{who} needs a mapping of column name → values (or a DataFrame), got "
                                 f"{type(columns).__name__}")
    n = None
    first = None
    given: dict[str, Any] = {}
    for k, v in columns.items():
        if isinstance(v, (pd.Series, pd.Index)):
            v = v.array
        elif isinstance(v, (set, frozenset)):
            raise MetricsSchemaError(f"{who}: column {k!r} is a set, whose order is arbitrary: give a list")
        else:
            v = once(v)  # a generator: its values, once
        given[k] = v
        if v is not None and not single_value(v):
            if n is None:
                n, first = len(v), k
            elif len(v) != n:
                raise MetricsSchemaError(f"{who}: column {k!r} has {len(v)} values, {first!r} has {n}")
    if n is None:
        raise MetricsSchemaError("metrics_from_columns needs at least one column of values (e.g. time, value)")
    for need in ("time", "name"):
        if given.get(need) is None:
            raise MetricsSchemaError(f"{who}: column {need!r} is required")
    data: dict[str, Any] = {}
    times: dict[str, Any] = {}
    for col in METRIC_COLUMNS:
        v = given.get(col.name)
        if v is None:
            v = _default(col, n)
        elif single_value(v):
            v = repeated(v, n)
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            times[col.name] = v  # read together below: one unit for time and start_time
            continue
        data[col.name] = _coerce(col, v, col.name in given)
    data.update(_times(times, time_unit))
    _check_rows(data, {c for c in given if c in _BY_NAME}, check)
    data = {c.name: data[c.name] for c in METRIC_COLUMNS}
    df = pd.DataFrame(data)
    for k in given:
        if k not in _BY_NAME:
            v = given[k]
            if single_value(v):
                df[k] = repeated(v, n)
            else:
                vals = list(v)
                df[k] = pd.Series([own(x) for x in vals], dtype=object) if any(
                    isinstance(x, MUTABLE_CELL_TYPES) for x in vals) else (v.copy() if hasattr(v, "copy") else vals)
    return validate_metrics(df) if check else df


def _times(times: dict[str, Any], time_unit: str | None) -> dict[str, pd.Series]:
    """``time`` and ``start_time`` read by :func:`~tracekit.schema.epoch_times`, refused (naming the column and the
    row) when a value is outside the readers' range (:data:`~tracekit.schema.TIME_RANGE`, checked there, whatever
    ``check`` says), beyond int64 nanoseconds or read as no time (int64's minimum, pandas' NaT)."""
    who = "metrics_from_columns"
    try:
        out = epoch_times(times, time_unit=time_unit, who=who, error=MetricsSchemaError)
    except TraceKitError:
        raise
    except (OverflowError, ValueError, TypeError) as exc:  # e.g. a Python int beyond int64 among ints
        for name, values in times.items():
            for i, x in enumerate(values):
                if isinstance(x, (int, np.integer)) and not -_INT64_MAX - 1 <= x <= _INT64_MAX:
                    raise MetricsSchemaError(time_out_of_range(f"{who}: column {name!r} row {i}:", repr(x),
                                                               time_unit or "ns")) from None
        raise MetricsSchemaError(f"{who}: {'/'.join(times)} holds values that are not times ({exc})") from None
    for name, t in out.items():
        lost = np.flatnonzero(t.isna().to_numpy() & ~np.asarray(pd.isna(times[name]), dtype=bool))
        if len(lost):
            raise MetricsSchemaError(f"{who}: column {name!r} row {int(lost[0])}: {times[name][int(lost[0])]!r} is "
                                     "not a time pandas can hold (int64's minimum is its missing time, NaT)")
    return out


def _check_rows(data: dict[str, Any], given: set[str], check: bool) -> None:
    """The content of the given columns, by the readers' rules (:func:`check_point`, :func:`bucket_cell`,
    :func:`quantile_cell`, :func:`exemplar_cell`): the first bad row named. Cells are replaced by checked copies
    (``check`` False: copies, unchecked)."""
    who = "metrics_from_columns"
    if not check:
        for name in ("buckets", "quantiles", "exemplars"):
            if name in given:
                data[name] = pd.Series(owned_cells(data[name].tolist()), dtype=object)
        return
    count = data["count"].to_numpy(dtype="float64", na_value=np.nan)
    checks = []
    if "count" in given:
        with np.errstate(invalid="ignore"):
            checks.append(("count", (count < 0) | (count == np.inf)))
    if "min" in given or "max" in given:
        with np.errstate(invalid="ignore"):
            checks.append(("min", data["min"].to_numpy(dtype="float64") > data["max"].to_numpy(dtype="float64")))
    if "start_time" in given:
        st, t = data["start_time"], data["time"]
        checks.append(("start_time", (st > t).to_numpy(dtype=bool, na_value=False)))
    for name, bad in checks:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            try:
                check_point(count=float(count[i]), minimum=float(data["min"].iloc[i]), maximum=float(data["max"].iloc[i]),
                            start=int(data["start_time"].iloc[i].value), time=int(data["time"].iloc[i].value),
                            names=("count", "min", "max", "start_time", "time"))
            except ValueError as exc:
                raise MetricsSchemaError(f"{who}: column {name!r} row {i}: {exc}") from None
    if "temporality" in given or "monotonic" in given:  # a gauge or summary has neither (OTLP: only sums, histograms)
        kind = data["kind"].to_numpy(dtype=object, na_value="")
        for name in ("temporality", "monotonic"):
            if name not in given:
                continue
            holds = kind != "sum" if name == "monotonic" else np.isin(kind, ["gauge", "summary"])
            bad = holds & data[name].notna().to_numpy(dtype=bool)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise MetricsSchemaError(f"{who}: column {name!r} row {i}: a {kind[i]} has no {name} "
                                         f"(got {data[name].iloc[i]!r}); leave it missing")
    if "flags" in given:
        f = data["flags"]
        bad = ((f < 0) | (f > _FLAGS_MAX)).to_numpy(dtype=bool, na_value=False)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise MetricsSchemaError(f"{who}: column 'flags' row {i}: {int(f.iloc[i])} is not a data point's flags "
                                     "(a uint32: 0 to 4294967295)")
    cells = (("buckets", lambda x, i: bucket_cell(x, count[i])), ("quantiles", lambda x, i: quantile_cell(x)),
             ("exemplars", lambda x, i: exemplar_cell(x)))
    for name, fix in cells:
        if name not in given:
            continue
        out = []
        for i, x in enumerate(data[name].tolist()):
            try:
                out.append(fix(x, i))
            except ValueError as exc:
                raise MetricsSchemaError(f"{who}: column {name!r} row {i}: {exc}") from None
        data[name] = pd.Series(out, dtype=object)


def _default(col: Column, n: int) -> Any:
    """The cells of a column not given: a new dict (list) per row for ``attributes`` and ``resource``
    (``exemplars``), else one value taken ``n`` times in the column's dtype (no time: NaN, which
    :func:`~tracekit.schema.epoch_times` reads as it read a column of Nones, without looking at each; 800k
    Nones, defaults and empty dicts each went through Python checks: 1.4 s of a 4.2 s read of 800k points)."""
    if col.dtype is object:
        if col.name in ("buckets", "quantiles"):
            return [None] * n
        return [[] if col.name == "exemplars" else {} for _ in range(n)]
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        return np.full(n, np.nan)
    return column_of(n, {"kind": "gauge", "service": "unknown_service", "source": "columns"}.get(col.name), col.dtype)


def _coerce(col: Column, v: Any, given: bool) -> pd.Series:
    if col.dtype is object:
        if col.name in ("attributes", "resource"):
            if not given:  # the new empty dicts of _default
                return pd.Series(v, dtype=object)
            cells, bad = dict_cells(v)
            if bad >= 0:
                raise MetricsSchemaError(f"metrics_from_columns: column {col.name!r} row {bad}: {list(v)[bad]!r:.80} is "
                                         "not a dict (JSON text: parse it first, e.g. column.map(json.loads))")
            return pd.Series(owned_cells(cells) if given else cells, dtype=object)  # never the input's dicts
        return pd.Series(list(v), dtype=object)  # (buckets, quantiles, exemplars: copied by _check_rows)
    try:
        return pd.Series(v).astype(col.dtype)
    except (ValueError, TypeError, OverflowError) as e:
        row = next((i for i, x in enumerate(v) if isinstance(x, (int, np.integer)) and not isinstance(x, bool)
                    and not -_INT64_MAX - 1 <= x <= _INT64_MAX), None) if isinstance(e, OverflowError) else None
        if row is not None:
            raise MetricsSchemaError(f"metrics_from_columns: column {col.name!r} row {row}: {v[row]!r} is beyond "
                                     "int64") from None
        raise MetricsSchemaError(f"metrics_from_columns: column {col.name!r} cannot be {col.dtype_name} ({e})") from None


def validate_metrics(df: pd.DataFrame) -> pd.DataFrame:
    """Check that ``df`` follows the metrics schema; return it (or a copy with lossless dtype fixes) or raise.

    Checks column presence, dtypes, nulls in non-nullable columns and enumerated values; extra
    columns are allowed. A column whose dtype holds the same values as the declared one — pandas 3's
    default ``str`` (or object text) for a text column, other datetime units or time zones for a time,
    integers for a float or nullable-integer column, ``bool`` for ``boolean`` — is accepted: the frame
    returned is then a copy with the declared dtypes (what ``df.assign(service="api")`` gives works as
    the frame it came from); analyses read the returned frame.

    Parameters
    ----------
    df : pandas.DataFrame
        A metrics frame.

    Returns
    -------
    pandas.DataFrame
        ``df`` itself when every dtype is the declared one, else a copy with the declared dtypes.

    Raises
    ------
    MetricsSchemaError
        What does not follow the schema, with the first offending row.

    Examples
    --------
    >>> validate_metrics(empty_metrics().drop(columns="kind"))
    Traceback (most recent call last):
    ...
    tracekit.metrics_schema.MetricsSchemaError: metrics DataFrame is missing columns: kind
    >>> m = empty_metrics().assign(service=pd.Series([], dtype="str"))
    >>> validate_metrics(m)["service"].dtype == STRING
    True
    """
    if not isinstance(df, pd.DataFrame):
        raise MetricsSchemaError(f"expected a pandas DataFrame of metrics, got {type(df).__name__}")
    missing = [c for c in METRIC_COLUMN_NAMES if c not in df.columns]
    if missing:
        raise MetricsSchemaError(f"metrics DataFrame is missing columns: {', '.join(missing)}")
    twice = repeated_column(df.columns, METRIC_COLUMN_NAMES)
    if twice:
        raise MetricsSchemaError(f"metrics DataFrame: {twice}")
    problems: list[str] = []
    fixed: dict[str, pd.Series] = {}
    for col in METRIC_COLUMNS:
        s = df[col.name]
        if col.dtype is not object and str(s.dtype) != str(col.dtype):
            f = _same_values(col, s)
            if f is None:
                problems.append(f"column {col.name!r} has dtype {s.dtype}, expected {col.dtype_name} "
                                f"(convert it, e.g. df[{col.name!r}].astype({col.dtype_name!r}))")
                continue
            fixed[col.name] = s = f
        if not col.nullable:
            # a dict/list column: None is missing (a reader's lazy column answers without building its cells)
            nulls = s.isna() if col.dtype is not object or getattr(s.array, "is_lazy", False) else none_cells(s)
            if nulls.any():
                problems.append(f"column {col.name!r} has {int(nulls.sum())} missing values (row {nulls.idxmax()!r} first)")
                continue
        if col.values is not None:
            bad = s.dropna()[~s.dropna().isin(col.values)]
            if len(bad):
                problems.append(f"column {col.name!r} has values outside {col.values} (e.g. {bad.iloc[0]!r} at row {bad.index[0]!r})")
    if problems:
        raise MetricsSchemaError("metrics DataFrame does not follow the schema: " + "; ".join(problems))
    if fixed:
        out = df.copy()
        for k, v in fixed.items():
            out[k] = v
        return out
    return df


def _same_values(col: Column, s: pd.Series) -> pd.Series | None:
    """``s`` as ``col``'s dtype when its dtype holds the same values (no value changed, none lost), else None."""
    dt = s.dtype
    try:
        if col.dtype is STRING:
            if isinstance(dt, pd.StringDtype) or (
                    (pd.api.types.is_object_dtype(dt) or isinstance(dt, pd.CategoricalDtype))
                    and pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty")):
                return s.astype(STRING)
        elif isinstance(col.dtype, pd.DatetimeTZDtype):
            if isinstance(dt, pd.DatetimeTZDtype):
                return s.dt.tz_convert("UTC").astype(TIMESTAMP)
        elif col.dtype == "float64":
            if pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_bool_dtype(dt):
                return pd.Series(s.to_numpy(dtype="float64", na_value=np.nan), index=s.index, name=s.name)
        elif col.dtype == "Int64":
            if pd.api.types.is_integer_dtype(dt):
                return s.astype("Int64")
        elif col.dtype == "boolean":
            if pd.api.types.is_bool_dtype(dt):
                return s.astype("boolean")
    except (ValueError, TypeError, OverflowError):  # (a time beyond ns, a uint64 beyond int64)
        return None
    return None


def metrics_schema_markdown() -> str:
    """The metrics column table (README), generated from :data:`METRIC_COLUMNS`.

    Returns
    -------
    str
        A markdown table, one row per column.

    Examples
    --------
    >>> metrics_schema_markdown().splitlines()[2].split("|")[1].strip()
    '`time`'
    """
    return columns_markdown(METRIC_COLUMNS)
