"""Writers of the other signals: a logs frame → OTLP logs, a metrics frame → OTLP metrics (JSON lines).

The inverse of :func:`tracekit.read_logs` and :func:`tracekit.read_metrics` on OTLP input: what they
read back from these files equals the frame written on every column the format carries (a test checks
it on frames built by ``*_from_columns`` and on the real OTLP examples). The files are what a
collector's file exporter writes: JSON lines (gzip when the path ends in ``.gz``), one export request
per line holding at most ``batch`` records or points in row order; within a line the rows are grouped
into one ``resource`` per (service, host, resource attributes) and one ``scope`` per scope, in the
order each first appears (so a reader gives the rows of a line grouped that way). Values are encoded
by :func:`tracekit.io.write.otlp_any_value`, the spans writer's encoder (the OTLP/JSON rules:
lowerCamelCase keys, 64-bit integers as decimal strings, enums as integers, lower-case hex ids).

Columns and what carries them:

- both: ``service`` is the resource's ``service.name`` (logs: none when ``<NA>``; metrics: none for
  ``unknown_service`` unless the resource names it); ``host`` is ``host.name`` unless the resource
  already names that host (the first of :data:`tracekit.core.HOST_KEYS`, as the readers and the
  spans' host); the resource's ``otel.scope.name`` / ``otel.scope.version`` and
  the scope attributes (``otel.scope.attr.<key>``, io.otlp.SCOPE_ATTR_PREFIX, as each
  reader names them) become the ``scope``.
- logs: ``time`` → ``timeUnixNano``, ``observed_time`` → ``observedTimeUnixNano``, ``severity_text`` /
  ``severity_number``, ``body`` (a ``stringValue``), ``attributes`` (attribute ``event.name``, when a
  string, → ``eventName``), ``trace_id`` / ``span_id``. Not carried: ``source*`` (where a row was
  read from), a structured body's type (the reader gives JSON text, written back as text), a
  missing ``time`` beside an ``observed_time`` (OTLP's rule: the reader falls back on the observed time), and a
  ``time`` or ``observed_time`` of exactly 1970-01-01 00:00:00 UTC (written as ``0``, OTLP's unset value: read
  back as no time).
- metrics: one ``metric`` per (name, unit, description, kind, temporality, monotonic) in a scope,
  its points in row order: ``gauge`` and ``sum`` (``value`` as ``asInt`` when every value of the
  metric in the line is a whole number, else ``asDouble``; NaN: no value, as the reader reads it),
  ``histogram`` (``count``, ``sum``, ``min``, ``max``, ``bucketCounts`` / ``explicitBounds``),
  ``exponential_histogram`` (scale, zero count and threshold, offsets and counts recovered from the
  buckets dict the reader made), ``summary`` (``quantileValues``); ``start_time``, ``flags``,
  ``attributes`` and ``exemplars`` (→ ``filteredAttributes``) on every point. Not carried: a sum's or
  histogram's ``<NA>`` temporality (written as unspecified) or a sum's ``<NA>`` monotonic (written
  false), a ``start_time`` of exactly 1970-01-01 00:00:00 UTC (``0``, OTLP's unset value: read back as ``NaT``),
  and ``source*``. A point whose ``time`` is that instant is refused (its row named): OTLP would carry it as
  ``0``, which ``read_metrics`` refuses ("data point has no time").

>>> import tracekit as tk, tempfile, os
>>> logs = tk.logs_from_columns({"time": [1_000, 2_000], "body": ["started", "GET /cart 200 in 12 ms"],
...     "severity": ["INFO", "WARN"], "service": ["cart"] * 2, "host": ["cart-1"] * 2})
>>> p = write_otlp_logs(logs, os.path.join(tempfile.mkdtemp(), "logs.jsonl.gz"))
>>> back = tk.read_logs(p)
>>> back[["body", "severity_text", "service", "host"]].values.tolist()
[['started', 'INFO', 'cart', 'cart-1'], ['GET /cart 200 in 12 ms', 'WARN', 'cart', 'cart-1']]
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core import host_of, to_text
from ..core.files import target_path
from ..core.nested import dumps
from ..errors import TraceKitError
from ..logs_schema import validate_logs
from ..metrics_schema import exponential_buckets, validate_metrics
from ._sources import naming_surrogates
from .otlp import SCOPE_ATTR_PREFIX, gc_paused
from .write import check_batch as _check_batch
from .write import otlp_key_values as _kvs
from .write import write_chunks

__all__ = ["write_otlp_logs", "write_otlp_metrics"]

_TEMPORALITY_INT = {"delta": 1, "cumulative": 2, "unspecified": 0}
_I64 = 2**63


def _none(v: Any) -> Any:
    """None for any missing value (None, pd.NA, NaT, NaN), else the value (numpy scalars unwrapped)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def _ns_list(s: pd.Series) -> list[int | None]:
    """Timestamps as int ns since the epoch, None for NaT."""
    if s.dtype.kind == "M":
        s = s.dt.as_unit("ns")
    v = s.array.asi8 if hasattr(s.array, "asi8") else s.astype("int64").to_numpy()
    na = s.isna().to_numpy()
    return [None if m else int(x) for x, m in zip(v.tolist(), na.tolist(), strict=True)]


def _obj_list(s: pd.Series) -> list:
    return [_none(v) for v in s.astype(object).tolist()]


def _int(v: Any, what: str, lo: int, hi: int) -> int:
    """``v`` as an int in [lo, hi) (a whole float too); a clear error otherwise."""
    ok = not isinstance(v, (bool, np.bool_)) and isinstance(v, (int, np.integer, float, np.floating)) \
        and float(v) == float(v) and (isinstance(v, (int, np.integer)) or float(v).is_integer())
    if not ok or not lo <= int(v) < hi:
        raise TraceKitError(f"{what} must be an integer in [{lo}, {hi}), got {to_text(v, 80)}")
    return int(v)


def _scope_text(res: dict, key: str) -> str | None:
    """A scope name or version (or schema URL) as text; an object or list cannot be one."""
    v = res.get(key)
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, (dict, list, tuple)):
        raise TraceKitError(f"resource[{key!r}] is a {type(v).__name__} ({to_text(v, 80)}); an OTLP scope name, "
                            "version or schema URL is a string")
    return str(v.item() if isinstance(v, np.generic) else v)


class _Groups:
    """Rows of one export request grouped by resource (service, host, attributes), then by scope."""

    def __init__(self, scope_prefix: str, host_in: Callable[[dict], Any], no_service: Any):
        self.scope_prefix = scope_prefix  # where the reader puts scope attributes in the resource dict
        self.host_in = host_in  # the host a reader reads from resource attributes
        self.no_service = no_service  # the service column's value for "no service.name"
        self.groups: dict[Any, tuple[dict, dict[tuple, list], dict]] = {}
        self.cache: dict[Any, Any] = {}

    def bucket(self, service: Any, host: Any, res: dict | None) -> list:
        """The list the items of a row with this service, host and resource dict go to."""
        res = res or {}
        rk = self.cache.get((id(res), service, host))
        if rk is None:
            rattrs = {a: v for a, v in res.items() if not a.startswith("otel.scope.")
                      and a not in ("otel.schema_url", "otel.resource.dropped_attributes_count")}
            if service is not None and (service != self.no_service or "service.name" in rattrs):
                rattrs["service.name"] = service
            if host is not None and self.host_in(rattrs) != host:
                rattrs["host.name"] = host
            key = (to_text(rattrs, sort_keys=True), _scope_text(res, "otel.schema_url"))
            rk = self.cache[(id(res), service, host)] = (key, rattrs, res)  # res kept alive: ids stay unique
        g = self.groups.get(rk[0])
        if g is None:
            g = self.groups[rk[0]] = (rk[1], {}, res)
        sk = self.cache.get(("scope", id(res)))
        if sk is None:
            attrs = tuple((a[len(self.scope_prefix):], v) for a, v in res.items()
                          if a.startswith(self.scope_prefix) and a not in ("otel.scope.name", "otel.scope.version",
                                                                           "otel.scope.schema_url",
                                                                           "otel.scope.dropped_attributes_count"))
            sk = self.cache[("scope", id(res))] = (_scope_text(res, "otel.scope.name"),
                                                   _scope_text(res, "otel.scope.version"),
                                                   to_text(dict(attrs)) if attrs else "", attrs)
        return g[1].setdefault(sk, [])

    def request(self, top: str, scope_key: str, items_key: str, finish: Callable[[list], list] | None = None) -> dict:
        out = []
        for rattrs, scopes, res in self.groups.values():
            ss = []
            for (name, version, _, attrs), items in scopes.items():
                scope: dict[str, Any] = {}
                if name is not None:
                    scope["name"] = name
                if version is not None:
                    scope["version"] = version
                if attrs:
                    scope["attributes"] = _kvs(dict(attrs), "scope attributes")
                ss.append({"scope": scope, items_key: finish(items) if finish else items})
            rs: dict[str, Any] = {"resource": {"attributes": _kvs(rattrs, "resource")}, scope_key: ss}
            if res.get("otel.schema_url") is not None:
                rs["schemaUrl"] = _scope_text(res, "otel.schema_url")
            out.append(rs)
        return {top: out}


def _row_error(writer: str, i: int, exc: Exception) -> TraceKitError:
    return TraceKitError(f"{writer}: row {i}: {exc}")


# ---------------------------------------------------------------------------------------------
# logs

_LOG_COLS = ("time", "observed_time", "trace_id", "span_id", "service", "host", "severity_text", "severity_number",
             "body", "attributes", "resource")


def _unix_ns(v: int, what: str) -> str:
    """A time as OTLP's fixed64 nanoseconds since the epoch: none before it."""
    if v < 0:
        raise TraceKitError(f"{what} {pd.Timestamp(v, tz='UTC')} is before 1970: OTLP times are unsigned nanoseconds "
                            "since the epoch")
    return str(v)


def _log_record(r: dict) -> dict:
    rec: dict[str, Any] = {}
    if r["time"] is not None:
        rec["timeUnixNano"] = _unix_ns(r["time"], "time")
    if r["observed_time"] is not None:
        rec["observedTimeUnixNano"] = _unix_ns(r["observed_time"], "observed_time")
    if r["severity_number"] is not None:
        rec["severityNumber"] = _int(r["severity_number"], "severity_number", 0, 25)
    if r["severity_text"] is not None:
        rec["severityText"] = str(r["severity_text"])
    if r["body"] is not None:
        rec["body"] = {"stringValue": str(r["body"])}
    attrs = r["attributes"] or {}
    event = attrs.get("event.name")
    if isinstance(event, str) and event:
        attrs = {k: v for k, v in attrs.items() if k != "event.name"}
        rec["eventName"] = event
    rec["attributes"] = _kvs(attrs)
    if r["trace_id"] is not None:
        rec["traceId"] = r["trace_id"]
    if r["span_id"] is not None:
        rec["spanId"] = r["span_id"]
    return rec


def _logs_lines(logs: pd.DataFrame, batch: int) -> Iterable[bytes]:
    cols = {c: (_ns_list(logs[c]) if c in ("time", "observed_time") else _obj_list(logs[c])) for c in _LOG_COLS}
    n = len(logs)
    for a in range(0, n, batch):
        g = _Groups(SCOPE_ATTR_PREFIX, host_of, None)
        for i in range(a, min(a + batch, n)):
            r = {c: cols[c][i] for c in _LOG_COLS}
            try:
                g.bucket(r["service"], r["host"], r["resource"]).append(_log_record(r))
            except TraceKitError as exc:
                raise _row_error("write_otlp_logs", i, exc) from None
        yield dumps(g.request("resourceLogs", "scopeLogs", "logRecords")) + b"\n"


def write_otlp_logs(logs: pd.DataFrame, path: str | os.PathLike, *, batch: int = 512) -> Path:
    """Write a logs frame as OTLP/JSON logs lines (a collector file exporter's output) to ``path``.

    One ``{"resourceLogs": [...]}`` export request per line, at most ``batch`` records each, in row
    order; gzip when the name ends in ``.gz`` (the same records give the same bytes).
    :func:`tracekit.read_logs` reads back every column OTLP carries (see the module docstring).

    Parameters
    ----------
    logs : pandas.DataFrame
        A logs frame (:func:`tracekit.read_logs`, :func:`tracekit.logs_from_columns`); not modified.
    path : str | os.PathLike
        Where to write (folders are created).
    batch : int, default 512
        Log records per line; at least 1.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    LogsSchemaError
        ``logs`` is not a logs frame.
    ArgumentError
        ``batch`` is not a positive integer.
    TraceKitError
        A value OTLP cannot carry (a severity number outside 0–24); the message names the row. An integer
        attribute beyond 64 bits is written as the ``intValue`` text it was read from, as :func:`tracekit.write_otlp` does
        (:func:`tracekit.io.write.otlp_any_value`: tracekit's readers read it back; a collector refuses it).

    Examples
    --------
    >>> import tracekit as tk, tempfile, os, json
    >>> logs = tk.logs_from_columns({"time": [0, 1, 2], "body": ["a", "b", "c"], "service": ["api"] * 3})
    >>> p = write_otlp_logs(logs, os.path.join(tempfile.mkdtemp(), "logs.jsonl"), batch=2)
    >>> [len(json.loads(x)["resourceLogs"][0]["scopeLogs"][0]["logRecords"]) for x in p.read_text().splitlines()]
    [2, 1]
    """
    validate_logs(logs)
    _check_batch(batch)
    target_path(path, "write_otlp_logs")
    with naming_surrogates("write_otlp_logs", logs), gc_paused():
        return write_chunks(path, _logs_lines(logs, int(batch)))


# ---------------------------------------------------------------------------------------------
# metrics

_METRIC_COLS = ("time", "start_time", "name", "unit", "description", "kind", "temporality", "monotonic", "value",
                "count", "sum", "min", "max", "buckets", "quantiles", "service", "host", "attributes", "resource",
                "exemplars", "flags")
_KIND_KEY = {"gauge": "gauge", "sum": "sum", "histogram": "histogram", "exponential_histogram": "exponentialHistogram",
             "summary": "summary"}


def _double(v: float, what: str) -> Any:
    """A double as OTLP/JSON writes it (non-finite values as text)."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TraceKitError(f"{what} must be a number, got {v!r:.60}")
    f = float(v)
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "Infinity" if f > 0 else "-Infinity"
    return f


def _uint(v: Any, what: str) -> str:
    return str(_int(v, what, 0, 2**64))


def _exemplar(e: Any, i: int) -> dict:
    if not isinstance(e, dict):
        raise TraceKitError(f"exemplars[{i}] must be a dict, got {e!r:.60}")
    out: dict[str, Any] = {}
    t = _none(e.get("time"))
    if t is not None:
        out["timeUnixNano"] = str(_int(t, f"exemplars[{i}].time", 0, _I64))
    v = _none(e.get("value"))
    if v is not None:
        out["asDouble"] = _double(v, f"exemplars[{i}].value")
    if e.get("trace_id"):
        out["traceId"] = str(e["trace_id"])
    if e.get("span_id"):
        out["spanId"] = str(e["span_id"])
    if e.get("attributes"):
        out["filteredAttributes"] = _kvs(e["attributes"], f"exemplars[{i}].attributes")
    return out


def _exp_fields(b: Any, count: float) -> dict:
    """An exponential histogram's fields from the buckets dict :func:`tracekit.read_metrics` made
    (explicit edges base^i with base = 2^(2^-scale), the zero bucket, gaps of no count)."""
    if not isinstance(b, dict) or "scale" not in b:
        raise TraceKitError("an exponential_histogram point needs buckets with 'scale', 'zero_count', "
                            f"'zero_threshold', 'bounds' and 'counts' (as read_metrics makes them), got {b!r:.80}")
    scale = _int(b["scale"], "buckets['scale']", -10, 21)
    zc = _int(b.get("zero_count", 0), "buckets['zero_count']", 0, 2**64)
    zt = float(b.get("zero_threshold", 0.0))
    bounds, counts = list(b.get("bounds") or []), list(b.get("counts") or [])
    try:
        sides = exponential_buckets(scale, zc, bounds, counts, count)
    except ValueError as e:
        raise TraceKitError(str(e)) from None
    out: dict[str, Any] = {"scale": scale, "zeroCount": str(zc)}
    if zt:
        out["zeroThreshold"] = _double(zt, "buckets['zero_threshold']")
    for side in ("positive", "negative"):
        got = sides[side]
        if got:
            off = min(got)
            cs = [got.get(j, 0) for j in range(off, max(got) + 1)]
            out[side] = {"offset": off, "bucketCounts": [str(c) for c in cs]}
    return out


def _point(r: dict, kind: str) -> dict:
    p: dict[str, Any] = {}
    if r["attributes"]:
        p["attributes"] = _kvs(r["attributes"])
    if r["start_time"] is not None:
        p["startTimeUnixNano"] = _unix_ns(r["start_time"], "start_time")
    if r["time"] is None:
        raise TraceKitError("a data point needs a time")
    if r["time"] == 0:  # (written, it was a point read_metrics refuses: the writer does not write it)
        raise TraceKitError("time is 1970-01-01 00:00:00 UTC, which OTLP writes as 0, its unset value: read_metrics "
                            "refuses it as a point without a time")
    p["timeUnixNano"] = _unix_ns(r["time"], "time")
    if kind in ("gauge", "sum"):
        v = r["value"]
        if v is not None:
            p["asDouble"] = _double(v, "value")  # asInt, when the whole metric is whole numbers: _as_ints
    elif kind == "summary":
        p["count"] = _uint(r["count"] if r["count"] is not None else 0, "count")
        p["sum"] = _double(r["sum"] if r["sum"] is not None else 0.0, "sum")
        q = r["quantiles"] or {}
        p["quantileValues"] = [{"quantile": _double(k, "quantile"), "value": _double(v, "quantile value")}
                               for k, v in sorted(q.items())]
    else:
        cnt = r["count"] if r["count"] is not None else 0
        p["count"] = _uint(cnt, "count")
        for c in ("sum", "min", "max"):
            if r[c] is not None:
                p[c] = _double(r[c], c)
        b = r["buckets"]
        if kind == "histogram":
            if b is not None and (b.get("counts") or b.get("bounds")):
                counts, bounds = list(b.get("counts") or []), list(b.get("bounds") or [])
                if len(counts) != len(bounds) + 1:
                    raise TraceKitError(f"buckets have {len(counts)} counts for {len(bounds)} bounds (needs {len(bounds) + 1})")
                p["bucketCounts"] = [_uint(c, "buckets['counts']") for c in counts]
                p["explicitBounds"] = [_double(x, "buckets['bounds']") for x in bounds]
        else:
            p.update(_exp_fields(b, float(cnt)))
    if r["flags"] is not None:
        p["flags"] = _int(r["flags"], "flags", 0, 2**32)
    ex = r["exemplars"]
    if ex is not None and len(ex):
        p["exemplars"] = [_exemplar(e, i) for i, e in enumerate(ex)]
    return p


def _as_ints(points: list[dict]) -> None:
    """A number metric whose values are all whole numbers (within ±2⁵³) is written with asInt."""
    vals = [p.get("asDouble") for p in points]
    if vals and all(type(v) is float and v.is_integer() and abs(v) < 2**53 for v in vals if v is not None) \
            and any(v is not None for v in vals):
        for p in points:
            if "asDouble" in p:
                p["asInt"] = str(int(p.pop("asDouble")))


def _finish_metrics(items: list) -> list:
    """(metric key, point) pairs of one scope → OTLP metrics, one per key, points in row order."""
    by: dict[tuple, list] = {}
    for key, p in items:
        by.setdefault(key, []).append(p)
    out = []
    for (name, unit, desc, kind, temporality, monotonic), pts in by.items():
        m: dict[str, Any] = {"name": name}
        if unit is not None:
            m["unit"] = unit
        if desc is not None:
            m["description"] = desc
        data: dict[str, Any] = {"dataPoints": pts}
        if kind in ("gauge", "sum"):
            _as_ints(pts)
        if kind in ("sum", "histogram", "exponential_histogram"):
            data["aggregationTemporality"] = _TEMPORALITY_INT.get(temporality or "unspecified", 0)
        if kind == "sum":
            data["isMonotonic"] = bool(monotonic)
        m[_KIND_KEY[kind]] = data
        out.append(m)
    return out


def _metrics_lines(metrics: pd.DataFrame, batch: int) -> Iterable[bytes]:
    cols = {c: (_ns_list(metrics[c]) if c in ("time", "start_time") else _obj_list(metrics[c])) for c in _METRIC_COLS}
    n = len(metrics)
    for a in range(0, n, batch):
        g = _Groups(SCOPE_ATTR_PREFIX, host_of, "unknown_service")
        for i in range(a, min(a + batch, n)):
            r = {c: cols[c][i] for c in _METRIC_COLS}
            kind = r["kind"]
            try:
                if kind not in _KIND_KEY:
                    raise TraceKitError(f"kind must be one of {', '.join(_KIND_KEY)}, got {kind!r}")
                if not r["name"]:
                    raise TraceKitError("a metric needs a name")
                key = (str(r["name"]), r["unit"], r["description"], kind,
                       r["temporality"] if kind in ("sum", "histogram", "exponential_histogram") else None,
                       r["monotonic"] if kind == "sum" else None)
                g.bucket(r["service"], r["host"], r["resource"]).append((key, _point(r, kind)))
            except TraceKitError as exc:
                raise _row_error("write_otlp_metrics", i, exc) from None
        yield dumps(g.request("resourceMetrics", "scopeMetrics", "metrics", _finish_metrics)) + b"\n"


def write_otlp_metrics(metrics: pd.DataFrame, path: str | os.PathLike, *, batch: int = 512) -> Path:
    """Write a metrics frame as OTLP/JSON metrics lines (a collector file exporter's output) to ``path``.

    One ``{"resourceMetrics": [...]}`` export request per line, at most ``batch`` data points each,
    in row order; gzip when the name ends in ``.gz`` (the same points give the same bytes). Every
    kind of the schema is written: gauge, sum (temporality, monotonic), histogram (count, sum, min,
    max, buckets), exponential histogram and summary. :func:`tracekit.read_metrics` reads back
    every column OTLP carries (see the module docstring).

    Parameters
    ----------
    metrics : pandas.DataFrame
        A metrics frame (:func:`tracekit.read_metrics`, :func:`tracekit.metrics_from_columns`); not
        modified.
    path : str | os.PathLike
        Where to write (folders are created).
    batch : int, default 512
        Data points per line; at least 1.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    MetricsSchemaError
        ``metrics`` is not a metrics frame.
    ArgumentError
        ``batch`` is not a positive integer.
    TraceKitError
        A point OTLP cannot carry (a time of exactly 1970-01-01 00:00:00 UTC: OTLP's unset value;
        histogram counts that do not match its bounds, exponential buckets that are not powers of
        the scale's base); the message names the row. An integer attribute beyond 64 bits is written as the
        ``intValue`` text it was read from, as :func:`tracekit.write_otlp` does (:func:`tracekit.io.write.otlp_any_value`:
        tracekit's readers read it back; a collector refuses it).

    Examples
    --------
    >>> import tracekit as tk, tempfile, os
    >>> m = tk.metrics_from_columns({"time": ["2026-11-23 10:00:10", "2026-11-23 10:00:20"],
    ...     "name": "requests", "kind": "sum", "temporality": "delta", "monotonic": True, "value": [3.0, 5.0],
    ...     "service": "cart"})
    >>> back = tk.read_metrics(write_otlp_metrics(m, os.path.join(tempfile.mkdtemp(), "m.jsonl.gz")))
    >>> back[["name", "kind", "temporality", "value"]].values.tolist()
    [['requests', 'sum', 'delta', 3.0], ['requests', 'sum', 'delta', 5.0]]
    """
    validate_metrics(metrics)
    _check_batch(batch)
    target_path(path, "write_otlp_metrics")
    with naming_surrogates("write_otlp_metrics", metrics), gc_paused():
        return write_chunks(path, _metrics_lines(metrics, int(batch)))
