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

>>> import tracekit as tk
>>> m = tk.empty_metrics()
>>> list(m.columns[:4])
['time', 'start_time', 'name', 'unit']
>>> tk.validate_metrics(m) is m
True
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .errors import TraceKitError
from .schema import STRING, TIMESTAMP, Column, columns_markdown, dict_cells, epoch_times, xray_to_trace_id

__all__ = [
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
]

METRIC_KINDS = ("gauge", "sum", "histogram", "exponential_histogram", "summary")
TEMPORALITIES = ("delta", "cumulative", "unspecified")
METRIC_SOURCES = ("otlp", "cloudwatch", "columns", "other")

METRIC_COLUMNS: tuple[Column, ...] = (
    Column("time", TIMESTAMP, False, "ns, UTC", "time of the data point (OTLP `timeUnixNano`; CloudWatch timestamp: the start of its period)"),
    Column("start_time", TIMESTAMP, True, "ns, UTC", "start of the interval a sum / histogram / summary point covers (OTLP `startTimeUnixNano`; a change of it marks a counter reset); CloudWatch: the timestamp; `NaT` for gauges"),
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


_HEX32 = re.compile(r"[0-9a-f]{32}")
_HEX16 = re.compile(r"[0-9a-f]{16}")


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
    for v, n, pat in ((trace_id, 32, _HEX32), (span_id, 16, _HEX16)):
        if v is None or v == "":
            out.append(None)
            continue
        if not isinstance(v, str):
            raise ValueError(f"exemplar {'trace' if n == 32 else 'span'} id must be a string, got {v!r:.60}")
        s = v.lower()
        if n == 32 and not pat.fullmatch(s) and v.startswith("1-"):
            try:  # the one X-Ray id rule of the spans schema
                s = xray_to_trace_id(v)
            except ValueError:
                pass
        if not pat.fullmatch(s):
            raise ValueError(f"exemplar {'trace' if n == 32 else 'span'} id must be {n} hex digits, got {v!r:.60}")
        out.append(None if s.count("0") == n else s)
    return out[0], out[1]


def metrics_from_columns(columns: Mapping[str, Any], *, check: bool = True, time_unit: str | None = None) -> pd.DataFrame:
    """Build a metrics frame from long-form columns: one row per point (time, name, value, …).

    What a long-form CSV export holds — ``time``, ``name``, ``value``, ``unit``, ``service``,
    ``host``, ``attributes`` — is enough; every other column of :data:`METRIC_COLUMNS` may be
    given too. Missing ones get their missing value (``kind`` ``"gauge"``, ``service``
    ``"unknown_service"``, ``source`` ``"columns"``, ``{}`` / ``[]`` for the dict and list
    columns). ``time`` (and ``start_time``) may be numbers since the epoch (nanoseconds unless
    ``time_unit`` says otherwise), datetimes or strings (naive times are UTC). Columns are positional (a Series' index is not used to align them).

    Parameters
    ----------
    columns : mapping of str to sequence (or a DataFrame)
        Column name → values; a scalar is repeated for every row. Names outside the schema are
        kept as extra columns.
    check : bool
        Validate the result (:func:`validate_metrics`).
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
        No column of values, columns of different lengths, a missing time or name, or a value
        outside a column's allowed values.

    Examples
    --------
    >>> m = metrics_from_columns({"time": ["2022-08-22 03:51:19", "2022-08-22 03:52:19"],
    ...     "name": "CpuUsageRate", "unit": "%", "value": [5.9, 3.7], "service": "adservice",
    ...     "host": "adservice-5f6585d649-fnmft"})
    >>> m[["time", "name", "kind", "host"]].iloc[1].tolist(), m["value"].tolist()
    ([Timestamp('2022-08-22 03:52:19+0000', tz='UTC'), 'CpuUsageRate', 'gauge', 'adservice-5f6585d649-fnmft'], [5.9, 3.7])
    """
    if isinstance(columns, pd.DataFrame):
        columns = {k: columns[k] for k in columns.columns}
    n = None
    first = None
    given: dict[str, Any] = {}
    for k, v in columns.items():
        if isinstance(v, (pd.Series, pd.Index)):
            v = v.array
        given[k] = v
        if v is not None and not np.isscalar(v) and not isinstance(v, (dict,)):
            if n is None:
                n, first = len(v), k
            elif len(v) != n:
                raise MetricsSchemaError(f"metrics_from_columns: column {k!r} has {len(v)} values, {first!r} has {n}")
    if n is None:
        raise MetricsSchemaError("metrics_from_columns needs at least one column of values (e.g. time, value)")
    for need in ("time", "name"):
        if given.get(need) is None:
            raise MetricsSchemaError(f"metrics_from_columns: column {need!r} is required")
    data: dict[str, Any] = {}
    times: dict[str, Any] = {}
    for col in METRIC_COLUMNS:
        v = given.get(col.name)
        if v is None:
            v = _default(col, n)
        elif np.isscalar(v) or (col.dtype is object and isinstance(v, dict)):
            v = [v] * n if col.dtype is not object else [v for _ in range(n)]
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            times[col.name] = v  # read together below: one unit for time and start_time
            continue
        data[col.name] = _coerce(col, v)
    data.update(epoch_times(times, time_unit=time_unit, who="metrics_from_columns", error=MetricsSchemaError))
    data = {c.name: data[c.name] for c in METRIC_COLUMNS}
    df = pd.DataFrame(data)
    for k in given:
        if k not in _BY_NAME:
            df[k] = given[k] if not np.isscalar(given[k]) else [given[k]] * n
    return validate_metrics(df) if check else df


def _default(col: Column, n: int) -> Any:
    if col.dtype is object:
        if col.name in ("buckets", "quantiles"):
            return [None] * n
        return [[] if col.name == "exemplars" else {} for _ in range(n)]
    defaults = {"kind": "gauge", "service": "unknown_service", "source": "columns"}
    if col.name in defaults:
        return [defaults[col.name]] * n
    return [None] * n


def _coerce(col: Column, v: Any) -> pd.Series:
    if col.dtype is object:
        if col.name in ("attributes", "resource"):
            cells, bad = dict_cells(v)
            if bad >= 0:
                raise MetricsSchemaError(f"metrics_from_columns: column {col.name!r} row {bad}: {list(v)[bad]!r:.80} is "
                                         "not a dict (JSON text: parse it first, e.g. column.map(json.loads))")
            return pd.Series(cells, dtype=object)
        return pd.Series(list(v), dtype=object)
    try:
        return pd.Series(v).astype(col.dtype)
    except (ValueError, TypeError) as e:
        raise MetricsSchemaError(f"metrics_from_columns: column {col.name!r} cannot be {col.dtype_name} ({e})") from None


def validate_metrics(df: pd.DataFrame) -> pd.DataFrame:
    """Check that ``df`` follows the metrics schema; return it unchanged or raise.

    Checks column presence, dtypes, nulls in non-nullable columns and enumerated values; extra
    columns are allowed.

    Parameters
    ----------
    df : pandas.DataFrame
        A metrics frame.

    Returns
    -------
    pandas.DataFrame
        ``df`` itself.

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
    """
    if not isinstance(df, pd.DataFrame):
        raise MetricsSchemaError(f"expected a pandas DataFrame of metrics, got {type(df).__name__}")
    missing = [c for c in METRIC_COLUMN_NAMES if c not in df.columns]
    if missing:
        raise MetricsSchemaError(f"metrics DataFrame is missing columns: {', '.join(missing)}")
    problems: list[str] = []
    for col in METRIC_COLUMNS:
        s = df[col.name]
        if col.dtype is not object and str(s.dtype) != str(col.dtype):
            problems.append(f"column {col.name!r} has dtype {s.dtype}, expected {col.dtype_name}")
            continue
        if not col.nullable:
            # a dict/list column: None is missing (a reader's lazy column answers without building its cells)
            nulls = s.isna() if col.dtype is not object or getattr(s.array, "is_lazy", False) else s.map(lambda x: x is None)
            if nulls.any():
                problems.append(f"column {col.name!r} has {int(nulls.sum())} missing values (row {nulls.idxmax()!r} first)")
                continue
        if col.values is not None:
            bad = s.dropna()[~s.dropna().isin(col.values)]
            if len(bad):
                problems.append(f"column {col.name!r} has values outside {col.values} (e.g. {bad.iloc[0]!r} at row {bad.index[0]!r})")
    if problems:
        raise MetricsSchemaError("metrics DataFrame does not follow the schema: " + "; ".join(problems))
    return df


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
