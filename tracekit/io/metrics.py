"""Read metrics — OTLP/JSON and CloudWatch JSON — into the canonical metrics frame.

Accepted input (any source :func:`tracekit.read` takes: a path, a list of paths, a directory, a
file object, ``bytes``, a JSON string or parsed JSON; gzip by magic bytes; one JSON value or JSON
lines), each document sniffed on its own:

* OTLP ``MetricsData`` / ``ExportMetricsServiceRequest`` ``{"resourceMetrics": [...]}`` (also proto
  field names, ``resource_metrics``), one per line in collector file-exporter output. Lines of other
  signals in the same file (``resourceSpans``, ``resourceLogs``) are listed in ``attrs["ignored"]``,
  not errors (and :func:`tracekit.read` keeps reading their spans); so are the documents of other signals in a
  directory of mixed files: X-Ray's (BatchGetTraces, segment documents, the daemon's header line:
  :func:`tracekit.io.logs.xray_document`), CloudWatch Logs output and an application's JSON log lines (a message with a
  time, a level or a trace id: :func:`tracekit.io._sources.is_log_record`). Every data point of a
  ``gauge``, ``sum`` (``aggregationTemporality`` 1 delta / 2 cumulative, ``isMonotonic``),
  ``histogram`` (count, sum, min, max, ``bucketCounts`` over ``explicitBounds``),
  ``exponentialHistogram`` (turned into explicit bounds, see :data:`tracekit.METRIC_COLUMNS`) and
  ``summary`` (``quantileValues``) is one row; exemplars keep their trace and span ids (hex, or
  base64 as protobuf's JSON mapping writes them), normalised as the spans' are. Integers and enums
  may be decimal strings, as protobuf's JSON parsers take them (``"aggregationTemporality": "2"``,
  ``"flags": "1"``, ``"scale": "-1"``); OTLP before 0.15's ``instrumentationLibraryMetrics`` is read
  and records are named by it (when ``scopeMetrics`` is absent or empty; else it is listed in
  ``df.attrs["ignored"]``: the collector's rule). A point is refused by the rules of :mod:`tracekit.metrics_schema`
  (:func:`~tracekit.metrics_schema.check_buckets`, :func:`~tracekit.metrics_schema.summary_quantiles`,
  :func:`~tracekit.metrics_schema.check_point`, the ones :func:`tracekit.metrics_from_columns` applies):
  explicit bounds finite and strictly increasing, quantiles given once with values not decreasing,
  min not above max, a start not after its time, a zeroThreshold ≥ 0, one of asDouble / asInt. A point needs its
  time: ``timeUnixNano`` absent or 0 (proto3's unset value: the same thing in JSON) is refused, never loaded at
  1970-01-01 (``errors="skip"`` lists it in ``attrs["skipped"]``; the spans reader keeps and flags a span starting
  at 0, but a metric point has no time without it).
* CloudWatch ``aws cloudwatch get-metric-data`` output ``{"MetricDataResults": [{"Id", "Label",
  "Timestamps", "Values", "StatusCode"}]}`` — one row per (result, timestamp), ``kind`` gauge,
  ``name`` the label (else the id), ``attributes`` ``{"cloudwatch.id", "cloudwatch.status_code"}``;
  :func:`tracekit.fetch_metrics` fills name, unit and dimensions from its queries.
* CloudWatch ``aws cloudwatch get-metric-statistics`` output ``{"Label", "Datapoints": [{"Timestamp",
  "Average", "Sum", "SampleCount", "Minimum", "Maximum", "Unit", "ExtendedStatistics"}]}`` — one
  row per datapoint, ``kind`` summary: ``value`` the Average (else the one statistic given; NaN when several
  are given without an Average, with a TraceFormatWarning: which one to plot is the user's choice),
  ``count`` / ``sum`` / ``min`` / ``max``, ``quantiles`` from the ``p0`` … ``p100`` extended statistics (the
  decimal quotient: ``p99.9`` is 0.999, ``p100`` 1.0; the others, ``tm99``…, stay in ``attributes``).
* CloudWatch's ``Messages`` (of the response and of each result) are kept in ``attrs["messages"]``
  (warned; in the error when no point was read); results whose ``StatusCode`` is not ``Complete``
  (``PartialData``…) are loaded and listed in ``attrs["partial"]`` (``attrs["truncated"]`` True).

Bad input raises :class:`~tracekit.errors.TraceFormatError` naming the file, the record (``line 3,
resourceMetrics[0].scopeMetrics[0].metrics[2].histogram.dataPoints[0]``) and what is wrong;
``errors="skip"`` loads every valid point, lists each skipped one in ``attrs["skipped"]``
(:func:`tracekit.skipped_records` makes a table) and warns once. A read that finds no data point and
skipped nothing is an error: never an empty frame silently.

Speed: bytes (a file, ``bytes``, text, a file object) are read line by line (or document by
document) by a typed fast path — msgspec Structs of the OTLP gauge / sum / histogram /
exponentialHistogram / summary shapes, a batch's columns extracted together and converted with the
next batches' — and any line it does not cover exactly (an undeclared key, a null, a value the checked helpers refuse,
a key given twice in one object: more colons in its text than keys in its Structs) is
parsed by orjson and read by the checked walk, so errors and ``errors="skip"`` listings are the
checked walk's (``tests/test_metrics_fast.py`` compares the two). Its ``attributes``, ``resource``,
``exemplars`` and ``buckets`` are lazy columns (dtype ``tracekit.lazy``): real dicts and lists,
checked at read time and each built when first used (:mod:`tracekit.io.containers`).
``benchmarks/bench_read_metrics.py`` measures it against ``orjson.loads`` of every line.

:func:`metric_rates` turns cumulative (and delta) sums into per-second rates, starting again at a
counter reset.

>>> doc = {"resourceMetrics": [{"resource": {"attributes": [
...     {"key": "service.name", "value": {"stringValue": "api"}}]},
...   "scopeMetrics": [{"metrics": [{"name": "requests", "unit": "1", "sum": {
...     "aggregationTemporality": 2, "isMonotonic": True, "dataPoints": [
...       {"startTimeUnixNano": "1700000000000000000", "timeUnixNano": "1700000060000000000", "asInt": "120"},
...       {"startTimeUnixNano": "1700000000000000000", "timeUnixNano": "1700000120000000000", "asInt": "300"}]}}]}]}]}
>>> m = read_metrics(doc)
>>> m[["name", "kind", "temporality", "service"]].iloc[1].tolist(), m["value"].tolist()
(['requests', 'sum', 'cumulative', 'api'], [120.0, 300.0])
>>> metric_rates(m)["value"].tolist()
[2.0, 3.0]
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from itertools import chain
from operator import attrgetter
from typing import Annotated, Any, Literal

import msgspec
import numpy as np
import orjson
import pandas as pd
from msgspec import UNSET, Meta, UnsetType

from ..core.resources import host_of
from ..core.streams import stream_steps
from ..core.words import plural
from ..errors import ArgumentError, SkippedRecord, TraceFormatError, TraceFormatWarning
from ..metrics_schema import (
    METRIC_COLUMNS,
    check_buckets,
    check_point,
    exemplar_ids,
    exponential_edge,
    summary_quantiles,
    validate_metrics,
)
from ..schema import PLAUSIBLE_EPOCH_SECONDS, STRING, TIMESTAMP, shared_attr
from ..schema import b64_id_hex as _b64_hex
from ._copies import copies_read_again
from ._sources import (
    DUPLICATE_KEYS,
    MAX_LIST_NESTING,
    checked_path,
    close_read,
    colons_repeat_keys,
    current_repeats,
    display_name,
    duplicate_reason,
    escaped_colon,
    is_pathlike,
    iter_documents,
    json_kind,
    known_shape,
    mixed_list_error,
    other_signal,
    parse_json,
    raw_colons,
    read_bytes,
    repeated_keys,
    resource_holders,
    scope_list,
    short,
    source_name,
    text_colons,
    unique_keys,
    warn_page,
)
from .containers import (
    BuiltSource,
    ConcatSource,
    LazyColumn,
    SharedDictSource,
    attribute_source,
    concat_parts,
    join_raws,
)
from .logs import xray_document
from .otlp import JSON_NUMBER, SCOPE_ATTR_PREFIX, gc_paused, place_repeated_key
from .otlp import BadValue as _Bad
from .otlp import camel_case_keys as _camel_case
from .otlp import decode_attributes as _attrs
from .otlp import source_parts as _sub_sources
from .otlp_fast import KeyValue, Resource, Scope, raw_part, struct_attributes

__all__ = ["read_metrics", "metric_rates", "cloudwatch_frame"]

Errors = Literal["raise", "skip"]

_TEMPORALITY: dict[Any, str] = {0: "unspecified", 1: "delta", 2: "cumulative"}
#: the keys that say which point a data point is and what it measured (and a metric's name): given twice in one
#: object with different values, JSON parsers keep the last without a word, so the point (metric) is refused,
#: naming the key (:func:`tracekit.io._sources.unique_keys`; proto field names too)
IDENTITY_KEYS = ("timeUnixNano", "startTimeUnixNano", "asDouble", "asInt", "count", "sum", "name", "time_unix_nano",
                 "start_time_unix_nano", "as_double", "as_int")
_KIND_KEYS = ("gauge", "sum", "histogram", "exponentialHistogram", "exponential_histogram", "summary")
_SCOPE_METRICS = ("scopeMetrics", "scope_metrics", "instrumentationLibraryMetrics", "instrumentation_library_metrics")
#: the keys whose values hold the points (OTLP's lists of ResourceMetrics, ScopeMetrics, Metrics and data points, a
#: metric's data, a resource, a scope and their attributes, a point's buckets, quantiles and exemplars; CloudWatch's
#: results, their Timestamps and Values, and Datapoints): given twice with different values, the first is lost whole
#: (``"dataPoints": [A], "dataPoints": [B]`` loaded B alone, without a word), so the object holding them is refused,
#: naming the key
#: (a resource's or scope's attributes given twice keep the last, as the typed fast path reads them: its colon count
#: takes their text raw, so refusing them on the checked walk alone would make the two paths disagree)
CONTAINER_KEYS = ("resourceMetrics", "resource_metrics", "scopeMetrics", "scope_metrics", "instrumentationLibraryMetrics",
                  "instrumentation_library_metrics", "metrics", "resource", "scope", "instrumentationLibrary",
                  "attributes") + _KIND_KEYS + (
                  "dataPoints", "data_points", "bucketCounts", "bucket_counts", "explicitBounds", "explicit_bounds",
                  "quantileValues", "quantile_values", "positive", "negative", "exemplars", "MetricDataResults",
                  "Timestamps", "Values", "Datapoints")
#: the keys the checked code looks for twice in one object (:func:`tracekit.io._sources.unique_keys`; the fast path's
#: count of colons sends a document holding any key twice to it)
CHECKED_KEYS = tuple(dict.fromkeys(IDENTITY_KEYS + CONTAINER_KEYS))


def metric_records(value: Any) -> Iterator[dict]:
    """The objects of a parsed metrics document whose repeated identity or container keys refuse them: OTLP's
    metrics and their data points, and the objects holding them (the document, ResourceMetrics, resources,
    ScopeMetrics, scopes, a metric's data), either spelling, inside lists of documents; CloudWatch's responses, their
    results (get-metric-data) and datapoints (get-metric-statistics); other objects (exemplars, attribute values)
    are data kept as given.

    >>> doc = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "m", "gauge": {"dataPoints": [{"asInt": 1}]}}]}]}]}
    >>> [sorted(r) for r in metric_records(doc)]
    [['resourceMetrics'], ['scopeMetrics'], ['metrics'], ['gauge', 'name'], ['dataPoints'], ['asInt']]
    """
    stack = [value]
    while stack:
        v = stack.pop()
        if type(v) is list:
            stack.extend(reversed(v))
            continue
        if type(v) is not dict:
            continue
        if "MetricDataResults" in v or "Datapoints" in v:
            yield v
            for key in ("MetricDataResults", "Datapoints"):
                xs = v.get(key)
                yield from (x for x in xs if type(x) is dict) if type(xs) is list else ()
            continue
        rms = v.get("resourceMetrics", v.get("resource_metrics"))
        if type(rms) is list:
            yield v
        for rm in rms if type(rms) is list else ():
            if type(rm) is not dict:
                continue
            for held in resource_holders(rm, _SCOPE_METRICS):  # (the ResourceMetrics, resource, ScopeMetrics, scopes)
                yield held
                ms = held.get("metrics") if held is not rm else None  # a ScopeMetrics' metrics
                for m in ms if type(ms) is list else ():
                    if type(m) is not dict:
                        continue
                    yield m
                    for k in _KIND_KEYS:
                        data = m.get(k)
                        if type(data) is dict:
                            yield data
                            dps = data.get("dataPoints", data.get("data_points"))
                            yield from (p for p in (dps if type(dps) is list else ()) if type(p) is dict)


for _c, _n in list(_TEMPORALITY.items()):
    _TEMPORALITY[f"AGGREGATION_TEMPORALITY_{_n.upper()}"] = _n
    _TEMPORALITY[str(_c)] = _n  # protobuf's JSON parsers take an enum's number as a decimal string too ("2")
_KINDS = {"gauge": "gauge", "sum": "sum", "histogram": "histogram", "exponentialHistogram": "exponential_histogram",
          "summary": "summary"}
_OTHER_SIGNALS = ("resourceSpans", "resource_spans", "resourceLogs", "resource_logs", "resourceProfiles",
                  "resource_profiles", "batches", "result", "Traces", "Segments")
_INT64_MAX = 2**63 - 1
_UINT64_MAX = 2**64 - 1  # a count's (fixed64)
_FLAGS_MAX = 2**32 - 1  # a data point's flags: uint32
_DIGITS = re.compile(r"[0-9]+")
_SIGNED_DIGITS = re.compile(r"-?[0-9]+")


def _int(x: Any, what: str, lo: int, hi: int) -> int:
    """An integer field (a JSON number or, as protobuf's JSON parsers take it, a decimal string) in [lo, hi]."""
    if type(x) is str and _SIGNED_DIGITS.fullmatch(x) and len(x) <= 21:
        x = int(x)
    if type(x) is int and lo <= x <= hi:
        return x
    raise _Bad(f"{what} must be an integer in [{lo}, {hi}] (a JSON number or a decimal string), got {short(x)}")


def _temporality(t: Any) -> str | None:
    """aggregationTemporality's word: 0, 1, 2, their enum names or decimal strings ("2", "02"); None otherwise."""
    if type(t) is str and _DIGITS.fullmatch(t) and len(t) <= 10:
        t = int(t)
    return _TEMPORALITY.get(t) if type(t) in (int, str) else None  # not a bool (True == 1), dict, list


def _rule(check: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    """A rule of :mod:`tracekit.metrics_schema` (one definition for the readers and metrics_from_columns) as the
    reader's error."""
    try:
        return check(*args, **kw)
    except ValueError as e:
        raise _Bad(str(e)) from None


def _nanos(x: Any, what: str) -> int:
    if type(x) is int and 0 <= x <= _INT64_MAX:
        return x
    if type(x) is str and _DIGITS.fullmatch(x) and len(x) <= 19 and int(x) <= _INT64_MAX:
        return int(x)
    raise _Bad(f"{what} must be a non-negative integer of nanoseconds (a decimal string or a JSON number) "
               f"that fits in int64, got {short(x)}")


def _num(x: Any, what: str) -> float:
    t = type(x)
    if t is float or t is int:
        return float(x)
    if t is str:
        if x in ("NaN", "Infinity", "-Infinity"):
            return float(x.replace("inity", ""))
        if re.fullmatch(r"-?[0-9]+", x):
            return float(int(x))
        if JSON_NUMBER.fullmatch(x):  # proto3's JSON lets any double be a string: "1e-9", "0.5"
            return float(x)
    raise _Bad(f"{what} must be a number, got {short(x)}")


def _count(x: Any, what: str) -> int:
    """A count (OTLP's fixed64 / uint64: a histogram's count and bucket counts, a zero count): beyond 64 bits it is no
    OTLP count (it was taken, and said after a float's rounding: "count is 123456789012345677877719597056" for
    123456789012345678901234567890)."""
    if type(x) is int and 0 <= x <= _UINT64_MAX:
        return x
    if type(x) is str and _DIGITS.fullmatch(x) and len(x) <= 20 and int(x) <= _UINT64_MAX:
        return int(x)
    raise _Bad(f"{what} must be a non-negative integer of at most 64 bits (a decimal string or a JSON number), got "
               f"{short(x)}")


def _value(p: dict) -> float:
    if "asDouble" in p and "asInt" in p:  # OTLP's value is a oneof: which one is meant is not known
        raise _Bad(f"both asDouble ({short(p['asDouble'])}) and asInt ({short(p['asInt'])}) are given; a value is one of them")
    if "asDouble" in p:
        return _num(p["asDouble"], "asDouble")
    if "asInt" in p:
        x = p["asInt"]
        if type(x) is int or (type(x) is str and re.fullmatch(r"-?[0-9]+", x)):
            return float(int(x))
        raise _Bad(f"asInt must be an integer (a decimal string or a JSON number), got {short(x)}")
    return math.nan  # proto3 omits a zero value too: OTLP's JSON of 0 is no field; flags say 'no recorded value'


def _id(x: Any, n: int, what: str) -> str | None:
    if type(x) is str and len(x) == n:
        low = x.lower()
        if not low.strip("0123456789abcdef"):
            return None if not low.strip("0") else low
    if type(x) is str and len(x) not in (0, n) and (n != 32 or not x.startswith("1-")):
        x = _b64_hex(x, n) or x
    try:
        return exemplar_ids(x, None)[0] if n == 32 else exemplar_ids(None, x)[1]
    except ValueError as e:
        raise _Bad(f"{what}: {e}") from None


def _exemplars(exs: Any) -> list:
    if not exs:
        return []
    if type(exs) is not list:
        raise _Bad(f"exemplars must be a list, got {short(exs)}")
    out = []
    for i, e in enumerate(exs):
        if type(e) is not dict:
            raise _Bad(f"exemplars[{i}] must be an object, got {short(e)}")
        out.append({"time": _nanos(e["timeUnixNano"], f"exemplars[{i}].timeUnixNano") if "timeUnixNano" in e else None,
                    "value": _value(e),
                    "trace_id": _id(e.get("traceId"), 32, f"exemplars[{i}].traceId"),
                    "span_id": _id(e.get("spanId"), 16, f"exemplars[{i}].spanId"),
                    "attributes": _attrs(e.get("filteredAttributes"))})
    return out


def _counts(x: Any, what: str) -> list[int]:
    if x is None:
        return []
    if type(x) is not list:
        raise _Bad(f"{what} must be a list of counts, got {short(x)}")
    return [_count(c, what) for c in x]


def _exp_buckets(p: dict) -> dict:
    """An exponential histogram's buckets as explicit bounds (count i in (b(i−1), b(i)])."""
    scale = _int(p.get("scale", 0), "scale", -10, 20)
    zc = _count(p.get("zeroCount", 0), "zeroCount")
    zt = _num(p.get("zeroThreshold", 0), "zeroThreshold")
    sides = {}
    for side in ("positive", "negative"):
        b = p.get(side) or {}
        if type(b) is not dict:
            raise _Bad(f"{side} must be an object {{offset, bucketCounts}}, got {short(b)}")
        off = _int(b.get("offset", 0), f"{side}.offset", -_INT64_MAX - 1, _INT64_MAX)
        sides[side] = (off, _counts(b.get("bucketCounts"), f"{side}.bucketCounts"))
    return _exp_edges(scale, zc, zt, sides["negative"], sides["positive"])


def _exp_edges(scale: int, zc: int, zt: float, negative: tuple[int, list], positive: tuple[int, list]) -> dict:
    """Checked exponential-histogram fields (``negative``, ``positive``: (offset, counts)) as the
    buckets dict of the schema (both paths build it here)."""
    if not 0 <= zt < math.inf:  # (NaN too)
        raise _Bad(f"zeroThreshold must be a finite number >= 0 (the zero bucket is [-zeroThreshold, zeroThreshold]), "
                   f"got {zt!r}")
    step = 2.0 ** -scale  # edge k is base ** k = 2 ** (k * step)
    for side, (off, cs) in (("negative", negative), ("positive", positive)):
        if cs and (off + len(cs) - 1) * step >= 1024:  # a bucket whose lower edge is past the largest double
            raise _Bad(f"{side} bucket {off + len(cs) - 1} at scale {scale} starts beyond the range of a double "
                       f"(2**{(off + len(cs) - 1) * step:g}; offset {off}, {len(cs)} buckets)")

    def edge(k: int) -> float:  # exact at powers of two, one ulp elsewhere (base ** k drifted: 1.5e-9 at scale 20)
        return exponential_edge(k, scale)
    # intervals (lower, upper, count) in ascending order
    iv: list[tuple[float, float, int]] = []
    off, cs = negative
    for i in range(len(cs) - 1, -1, -1):
        iv.append((-edge(off + i + 1), -edge(off + i), cs[i]))
    iv.append((-zt if zt else 0.0, zt, zc))
    off, cs = positive
    for i, c in enumerate(cs):
        iv.append((edge(off + i), edge(off + i + 1), c))
    bounds: list[float] = []
    counts: list[int] = []
    for lo, hi, c in iv:
        if not bounds:
            bounds.append(lo)  # (−∞, lo] holds nothing
            counts.append(0)
        elif lo > bounds[-1]:
            bounds.append(lo)  # a gap between buckets holds nothing
            counts.append(0)
        if hi > bounds[-1]:
            bounds.append(hi)
            counts.append(c)
        else:  # the zero bucket of zeroThreshold 0 is the point 0: in (previous edge, 0]
            counts[-1] += c
    counts.append(0)  # (last edge, +∞)
    return {"bounds": bounds, "counts": counts, "scale": scale, "zero_count": zc, "zero_threshold": zt}



_PERCENTILE = re.compile(r"p(100(?:\.0+)?|\d{1,2}(?:\.\d+)?)")


def _percentile_quantile(key: Any) -> float | None:
    """The quantile of a CloudWatch percentile statistic's key (``p0`` … ``p100``, decimals allowed: ``p99.9``),
    the double nearest the decimal quotient (``p99.9`` → 0.999, ``p99.99`` → 0.9999, ``p100`` → 1.0: ``99.9 / 100``
    is 0.9990000000000001, which no lookup of 0.999 or OTLP summary's 0.999 finds); None for any other key
    (``tm99``, ``wm99``, ``IQM`` … stay attributes).

    >>> [_percentile_quantile(k) for k in ("p99.9", "p99.99", "p100", "p0", "p50", "tm99", "p100.5")]
    [0.999, 0.9999, 1.0, 0.0, 0.5, None, None]
    """
    m = _PERCENTILE.fullmatch(key) if type(key) is str else None
    return None if m is None else float(Decimal(m.group(1)) / 100)


def _proto_names(rm: dict) -> bool:
    """Whether a ResourceMetrics, one of its ScopeMetrics or one of their Metrics has a key in proto spelling
    (``scope_metrics``, ``data_points``: OTLP's JSON names have no ``_``); such a ResourceMetrics is read through
    :func:`_camel_case`'s copy, which joins a list spelt both ways. Work in the number of metrics, not points. A scope
    list that is no list (a number, ``true``) is looked no further into: :meth:`_Reader.resource_metrics` refuses it,
    naming the record (iterating it here was a bare TypeError, with ``errors="skip"`` too)."""
    for k in rm:
        if type(k) is str and "_" in k:
            return True
    sms = rm.get("scopeMetrics") or rm.get("instrumentationLibraryMetrics")
    for sm in sms if type(sms) is list else ():
        if type(sm) is dict:
            for k in sm:
                if type(k) is str and "_" in k:
                    return True
            ms = sm.get("metrics")
            for m in ms if type(ms) is list else ():
                if type(m) is dict:
                    for k, v in m.items():
                        if type(k) is str and "_" in k or type(v) is dict and any(
                                type(x) is str and "_" in x for x in v):  # (a kind's data_points, …)
                            return True
    return False

class _Reader:
    """One pass over parsed documents: column lists, skipped and ignored records."""

    COLS = ("time", "start_time", "name", "unit", "description", "kind", "temporality", "monotonic", "value", "count",
            "sum", "min", "max", "buckets", "quantiles", "service", "host", "attributes", "resource", "exemplars",
            "flags", "source", "source_file", "source_record")

    def __init__(self, errors: Errors):
        self.errors = errors
        self.cols: dict[str, list] = {c: [] for c in self.COLS}
        self.skipped: list[SkippedRecord] = []
        self.ignored: list[SkippedRecord] = []  # records of other signals (as the spans and logs readers list them)
        self.pages: list[str] = []  # files that are one page of a paginated output (a NextToken in them)
        self.last_page = False  # a page without NextToken was read: the read holds a request's last page
        self.fast_ok = True
        self.parts: list = []  # the rows read so far, in file order: fast-path batches (dicts), checked rows (frames)
        self.pending: list[tuple] = []  # decoded fast-path lines waiting for their column pass (_f_flush)
        self.pending_bytes = 0
        self.span: list | None = None  # [text, start, stop, lines]: the pending lines, one span of a file's bytes
        self.f_cache: tuple[dict, dict] = ({}, {})  # the fast path's decoded resources, attribute sets by raw text
        self.group: list[tuple] = []  # extracted batches waiting to be converted together (_g_flush)
        self.group_bytes = 0
        self.bounds_cache: dict[bytes, list] = {}  # histogram bounds by raw text, for the whole read
        self.messages: list[dict] = []  # CloudWatch's Messages ({Code, Value}, with file, record and result Id)
        self.partial: list[dict] = []  # CloudWatch results whose StatusCode is not Complete (PartialData…)
        #: CloudWatch statistics datapoints with no value (no Average, several other statistics): label -> (count,
        #: the statistics they give), said in one warning
        self.no_value: dict[str, tuple[int, tuple[str, ...]]] = {}

    # -- errors
    def problem(self, reason: str, file: str, record: str | None) -> None:
        err = TraceFormatError(reason, file=file, record=record)
        if self.errors == "raise":
            raise err
        self.skipped.append(SkippedRecord.from_error(err))

    def skip_error(self, err: TraceFormatError) -> None:
        if self.errors == "raise":
            raise err
        self.skipped.append(SkippedRecord.from_error(err))

    # -- rows
    def row(self, **kw: Any) -> None:
        for c in self.COLS:
            self.cols[c].append(kw.get(c))

    # -- documents
    def document(self, value: Any, file: str, line: int | None, path: str = "") -> None:
        self.walk(value, file, line, path)
        if not path:
            place_repeated_key(value, file, line)

    def walk(self, value: Any, file: str, line: int | None, path: str = "") -> None:
        def where(p: str) -> str | None:
            return ", ".join(x for x in (f"line {line}" if line is not None else "", p) if x) or None

        if type(value) is list:
            if path.count("[") >= MAX_LIST_NESTING:  # lists of lists of … documents: said, never recursed on
                self.problem(f"lists nested more than {MAX_LIST_NESTING} deep: not metric data", file, where(path))
                return
            for i, v in enumerate(value):
                self.walk(v, file, line, f"{path}[{i}]")
            return
        if type(value) is dict and DUPLICATE_KEYS in value:  # its ResourceMetrics, results or Datapoints given twice
            self.problem(duplicate_reason(value[DUPLICATE_KEYS]), file, where(path))
            return
        if type(value) is dict:
            if "resource_metrics" in value:  # proto field names; beside resourceMetrics: one list holding both
                value = _camel_case(value)
            if "resourceMetrics" in value:
                rms = value["resourceMetrics"]
                if type(rms) is not list:
                    self.problem(f"resourceMetrics must be a list, got {short(rms)}", file, where(path + "resourceMetrics"))
                    return
                for i, rm in enumerate(rms):
                    self.resource_metrics(rm, file, line, i if line is None else line, where, f"{path}resourceMetrics[{i}]")
                return
            if "MetricDataResults" in value:
                if value.get("NextToken"):
                    self.pages.append(file)
                else:  # a request's last page: with it read, the pages before it are not a cut (read_xray's rule)
                    self.last_page = True
                self.metric_data(value, file, line, where, path)
                return
            if "Datapoints" in value:
                self.statistics(value, file, line, where, path)
                return
            # (a JSON log line: other_signal, by the one rule _sources.is_log_record)
            other = next((k for k in _OTHER_SIGNALS if k in value), None) or other_signal(value, "metrics") \
                or xray_document(value)
            if other is not None:
                self.ignored.append(SkippedRecord(file, where(path), f"not metrics: {other}"))
                return
        what = (f"a JSON object with keys {', '.join(map(str, list(value)[:5])) or '(none)'}"
                if type(value) is dict else f"a JSON {json_kind(value)}")
        shape = known_shape(value)
        self.problem(f"unknown metrics format: {what}{': ' + shape if shape else ''}; supported: OTLP/JSON metrics "
                     "({\"resourceMetrics\": […]}, collector JSON lines), CloudWatch get-metric-data "
                     "({\"MetricDataResults\": […]}) and get-metric-statistics ({\"Label\", \"Datapoints\"})",
                     file, where(path))

    def resource_metrics(self, rm: Any, file: str, line: int | None, record: int, where: Callable, path: str) -> None:
        try:
            if type(rm) is not dict:
                raise _Bad(f"a ResourceMetrics must be an object, got {short(rm)}")
            if DUPLICATE_KEYS in rm:
                raise _Bad(duplicate_reason(rm[DUPLICATE_KEYS]))
            if _proto_names(rm):  # (a camelCase document can spell a field both ways: both lists are read)
                rm = _camel_case(rm)
            res_in = rm.get("resource") or {}
            if type(res_in) is not dict:
                raise _Bad(f"resource must be an object, got {short(res_in)}")
            resource = _attrs(res_in.get("attributes"))
            # OTLP before 0.15 (collectors before 0.43) named them instrumentationLibraryMetrics: the key in the
            # file is the one the records are named by
            key, sms, not_read = scope_list(rm, "scopeMetrics", "instrumentationLibraryMetrics")  # (the collector's)
            if not_read:
                self.ignored.append(SkippedRecord(file, where(f"{path}.instrumentationLibraryMetrics"), not_read))
            sms = sms or []
            if type(sms) is not list:
                raise _Bad(f"{key} must be a list, got {short(sms)}")
        except _Bad as e:
            self.problem(str(e), file, where(path))
            return
        service = resource.get("service.name")
        service = service if isinstance(service, str) and service else "unknown_service"
        host = host_of(resource)
        for j, sm in enumerate(sms):
            spath = f"{path}.{key}[{j}]"
            try:
                if type(sm) is not dict:
                    raise _Bad(f"{'a ScopeMetrics' if key == 'scopeMetrics' else 'an InstrumentationLibraryMetrics'} "
                               f"must be an object, got {short(sm)}")
                if DUPLICATE_KEYS in sm:
                    raise _Bad(duplicate_reason(sm[DUPLICATE_KEYS]))
                scope = sm.get("scope") or sm.get("instrumentationLibrary") or {}
                if type(scope) is not dict:
                    raise _Bad(f"scope must be an object, got {short(scope)}")
                res = dict(resource)
                if scope.get("name"):
                    res["otel.scope.name"] = scope["name"]
                if scope.get("version"):
                    res["otel.scope.version"] = scope["version"]
                for k, v in _attrs(scope.get("attributes")).items():
                    res[SCOPE_ATTR_PREFIX + k] = v
                metrics = sm.get("metrics") or []
                if type(metrics) is not list:
                    raise _Bad(f"metrics must be a list, got {short(metrics)}")
            except _Bad as e:
                self.problem(str(e), file, where(spath))
                continue
            for k, m in enumerate(metrics):
                self.metric(m, file, record, where, f"{spath}.metrics[{k}]", service, host, res)

    def metric(self, m: Any, file: str, record: int, where: Callable, path: str, service: str, host: str | None,
               res: dict) -> None:
        if type(m) is not dict:
            self.problem(f"a Metric must be an object, got {short(m)}", file, where(path))
            return
        if DUPLICATE_KEYS in m:
            self.problem(duplicate_reason(m[DUPLICATE_KEYS]), file, where(path))
            return
        name = m.get("name")
        if not isinstance(name, str) or not name:
            self.problem(f"metric has no name (keys: {', '.join(map(str, list(m)[:8]))})", file, where(path))
            return
        key = next((k for k in _KINDS if k in m), None)
        if key is None:
            self.problem(f"metric {name!r} has no data (none of gauge, sum, histogram, exponentialHistogram, summary; "
                         f"keys: {', '.join(map(str, list(m)[:8]))})", file, where(path))
            return
        kinds = [k for k in _KINDS if m.get(k) is not None]
        if len(kinds) > 1:  # OTLP's Metric holds one: reading one would drop the others' points unsaid
            self.problem(f"metric {name!r} holds {len(kinds)} kinds of data ({', '.join(kinds)}); an OTLP metric holds "
                         "one", file, where(path))
            return
        data = m[key]
        kind = _KINDS[key]
        if type(data) is not dict or type(data.get("dataPoints", [])) is not list:
            self.problem(f"{key} must be an object with a dataPoints list, got {short(data)}", file, where(f"{path}.{key}"))
            return
        if DUPLICATE_KEYS in data:  # its dataPoints (or temporality) given twice
            self.problem(duplicate_reason(data[DUPLICATE_KEYS]), file, where(f"{path}.{key}"))
            return
        temporality = None
        if kind in ("sum", "histogram", "exponential_histogram"):
            t = data.get("aggregationTemporality", 0)
            temporality = _temporality(t)
            if temporality is None:
                self.problem(f"aggregationTemporality must be 0, 1 or 2 (or its enum name), got {short(t)}", file,
                             where(f"{path}.{key}"))
                return
        monotonic = None
        if kind == "sum":
            monotonic = data.get("isMonotonic", False)
            if type(monotonic) is not bool:
                self.problem(f"isMonotonic must be true or false, got {short(monotonic)}", file, where(f"{path}.{key}"))
                return
        unit = m.get("unit") or None
        desc = m.get("description") or None
        cols = self.cols
        dps = data.get("dataPoints") or ()
        rk = current_repeats()
        counted = rk.saved() if rk is not None else None
        if self.fast_ok and kind in ("gauge", "sum", "histogram") and self._fast(dps, kind, name, unit, desc, temporality, monotonic,
                                                                 service, host, res, file, record):
            return
        if rk is not None:
            rk.restore(counted)  # (the loop below decodes the points' attributes again: counted once)
        for i, p in enumerate(dps):
            try:
                if type(p) is not dict:
                    raise _Bad(f"a data point must be an object, got {short(p)}")
                if DUPLICATE_KEYS in p:
                    raise _Bad(duplicate_reason(p[DUPLICATE_KEYS]))
                if "timeUnixNano" not in p:
                    raise _Bad("data point has no timeUnixNano")
                t = _nanos(p["timeUnixNano"], "timeUnixNano")
                if t == 0:
                    raise _Bad(NO_TIME)
                st = _nanos(p["startTimeUnixNano"], "startTimeUnixNano") if "startTimeUnixNano" in p else None
                _rule(check_point, start=st, time=t)
                value = cnt = sm = mn = mx = buckets = quant = None
                if kind in ("gauge", "sum"):
                    value = _value(p)
                elif kind == "summary":
                    cnt = float(_count(p.get("count", 0), "count"))
                    sm = _num(p.get("sum", 0), "sum")
                    qv = p.get("quantileValues") or []
                    if type(qv) is not list:
                        raise _Bad(f"quantileValues must be a list, got {short(qv)}")
                    pairs = []
                    for q in qv:
                        if type(q) is not dict:
                            raise _Bad(f"a quantile value must be an object, got {short(q)}")
                        pairs.append((_num(q.get("quantile", 0), "quantile"), _num(q.get("value", 0), "quantile value")))
                    quant = _rule(summary_quantiles, pairs)
                else:
                    exact = _count(p.get("count", 0), "count")  # (compared with the buckets' sum as an int: a float
                    cnt = float(exact)  # of 2**64 - 1 is 2**64, and refused a point whose counts add up to it)
                    sm = _num(p["sum"], "sum") if "sum" in p else None
                    mn = _num(p["min"], "min") if "min" in p else None
                    mx = _num(p["max"], "max") if "max" in p else None
                    _rule(check_point, minimum=mn, maximum=mx)
                    if kind == "histogram":
                        bc = _counts(p.get("bucketCounts"), "bucketCounts")
                        eb = p.get("explicitBounds") or []
                        if type(eb) is not list:
                            raise _Bad(f"explicitBounds must be a list, got {short(eb)}")
                        eb = [_num(b, "explicitBounds") for b in eb]
                        _rule(check_buckets, eb, bc, exact)
                        buckets = {"bounds": eb, "counts": bc}
                    else:
                        buckets = _exp_buckets(p)
                        _rule(check_buckets, buckets["bounds"], buckets["counts"], exact, finite=False,
                              names=("bucket edges", "bucketCounts"))
                flags = p.get("flags")
                if flags is not None:
                    flags = _int(flags, "flags", 0, _FLAGS_MAX)
                attrs = _attrs(p.get("attributes"))
                ex = _exemplars(p.get("exemplars"))
            except _Bad as e:
                self.problem(str(e), file, where(f"{path}.{key}.dataPoints[{i}]"))
                continue
            except (KeyError, TypeError) as e:  # a malformed exemplar or attribute
                self.problem(f"malformed data point ({type(e).__name__}: {short(str(e))})", file,
                             where(f"{path}.{key}.dataPoints[{i}]"))
                continue
            cols["time"].append(t)
            cols["start_time"].append(st)
            cols["name"].append(name)
            cols["unit"].append(unit)
            cols["description"].append(desc)
            cols["kind"].append(kind)
            cols["temporality"].append(temporality)
            cols["monotonic"].append(monotonic)
            cols["value"].append(value)
            cols["count"].append(cnt)
            cols["sum"].append(sm)
            cols["min"].append(mn)
            cols["max"].append(mx)
            cols["buckets"].append(buckets)
            cols["quantiles"].append(quant)
            cols["service"].append(service)
            cols["host"].append(host)
            cols["attributes"].append(attrs)
            cols["resource"].append(res)
            cols["exemplars"].append(ex)
            cols["flags"].append(flags)
            cols["source"].append("otlp")
            cols["source_file"].append(file)
            cols["source_record"].append(record)

    def _fast(self, dps: Any, kind: str, name: str, unit: Any, desc: Any, temporality: Any, monotonic: Any,
              service: str, host: Any, res: dict, file: str, record: int) -> bool:
        """The points of one metric gathered column by column (times and values kept raw, converted
        column-wise by :meth:`frame`); False — nothing appended — when a point has an unusual shape,
        which the checked per-point loop then reads (and names when it is wrong)."""
        if type(dps) is not list or any(DUPLICATE_KEYS in p for p in dps if type(p) is dict):
            return False  # (a point holding a key twice: the checked loop refuses it)
        try:
            t = [p["timeUnixNano"] for p in dps]
            st = [p.get("startTimeUnixNano") for p in dps]
            if None in t or any(x is None and "startTimeUnixNano" in p for x, p in zip(st, dps, strict=True)):
                return False  # a null time is no time: the checked loop says so
            if kind == "histogram":
                value: list = [None] * len(dps)
                buckets = [_fast_buckets(p.get("bucketCounts"), p.get("explicitBounds")) for p in dps]
                exact = [_count(p["count"], "count") for p in dps]  # (the sum compared with the int: as a float,
                if any(b["counts"] and sum(b["counts"]) != c for b, c in zip(buckets, exact, strict=True)):
                    return False  # 2**53 + 1 equals counts adding up to 2**53, and the point loaded)
                cnt = [float(c) for c in exact]
                sm = [p.get("sum") for p in dps]
                mn = [p.get("min") for p in dps]
                mx = [p.get("max") for p in dps]
                if any(p.get(k, 0) is None for p in dps for k in ("sum", "min", "max")):
                    return False  # null is no number: the checked loop says so
            else:
                if any("asDouble" in p and "asInt" in p for p in dps):
                    return False  # (both: the checked loop names it)
                value = [p["asDouble"] if "asDouble" in p else p["asInt"] for p in dps]
                if None in value or any(type(v) is bool for v in value) \
                        or any(type(p["asInt"]) is float for p in dps if "asDouble" not in p):
                    return False  # (asInt 1.5 is no integer: the checked loop says so)
                cnt = sm = mn = mx = buckets = [None] * len(dps)
            attrs = [_attrs(p["attributes"]) if "attributes" in p else {} for p in dps]
            ex = [_exemplars(p["exemplars"]) if "exemplars" in p else [] for p in dps]
            flags = [p.get("flags") for p in dps]
        except (KeyError, TypeError, ValueError, _Bad):
            return False
        if any(type(f) is not int or not 0 <= f <= _FLAGS_MAX for f in flags if f is not None) \
                or any(type(x) is bool for x in (*sm, *mn, *mx) if x is not None):
            return False
        n = len(dps)
        c = self.cols
        c["time"] += t
        c["start_time"] += st
        for k, v in (("name", name), ("unit", unit), ("description", desc), ("kind", kind), ("temporality", temporality),
                     ("monotonic", monotonic), ("service", service), ("host", host), ("resource", res),
                     ("source", "otlp"), ("source_file", file), ("source_record", record), ("quantiles", None)):
            c[k] += [v] * n
        c["value"] += value
        c["count"] += cnt
        c["sum"] += sm
        c["min"] += mn
        c["max"] += mx
        c["buckets"] += buckets
        c["attributes"] += attrs
        c["exemplars"] += ex
        c["flags"] += flags
        return True

    # -- CloudWatch
    def metric_data(self, value: dict, file: str, line: int | None, where: Callable, path: str,
                    queries: dict | None = None) -> None:
        if type(value) is not dict or "MetricDataResults" not in value:  # a bare KeyError from a live page
            self.problem(f"a GetMetricData response must be an object with MetricDataResults, got {short(value)}",
                         file, where(path) if path else where(""))
            return
        results = value["MetricDataResults"]
        self.cw_messages(value.get("Messages"), file, where(path + "Messages"), None)
        if type(results) is not list:
            self.problem(f"MetricDataResults must be a list, got {short(results)}", file, where(path + "MetricDataResults"))
            return
        for i, r in enumerate(results):
            rpath = f"{path}MetricDataResults[{i}]"
            try:
                if type(r) is not dict:
                    raise _Bad(f"a metric data result must be an object, got {short(r)}")
                if DUPLICATE_KEYS in r:  # its Timestamps or Values given twice
                    raise _Bad(duplicate_reason(r[DUPLICATE_KEYS]))
                self.cw_messages(r.get("Messages"), file, where(rpath + ".Messages"), r.get("Id"))
                ts, vs = r.get("Timestamps") or [], r.get("Values") or []
                if type(ts) is not list or type(vs) is not list:
                    raise _Bad("Timestamps and Values must be lists")
                if len(ts) != len(vs):
                    raise _Bad(f"{len(ts)} Timestamps for {len(vs)} Values")
                rid, label, status = (_cw_str(r, k) for k in ("Id", "Label", "StatusCode"))
                q = (queries or {}).get(rid) or {}
                times = [_cw_time(t, f"Timestamps[{j}]") for j, t in enumerate(ts)]
                vals = [_num(v, f"Values[{j}]") for j, v in enumerate(vs)]
            except _Bad as e:
                self.problem(str(e), file, where(rpath))
                continue
            if status not in (None, "Complete"):  # PartialData (more with NextToken), InternalError, Forbidden
                self.partial.append({"file": file, "record": where(rpath), "Id": rid, "StatusCode": status,
                                     "points": len(times)})
            dims = dict(q.get("dimensions") or {})
            attrs = {**dims, "cloudwatch.id": rid, "cloudwatch.status_code": status}
            if q.get("stat"):
                attrs["cloudwatch.stat"] = q["stat"]
            name = q.get("name") or label or rid or "?"
            service, host = _cw_keys(dims)
            res = {"cloudwatch.namespace": q["namespace"]} if q.get("namespace") else {}
            for t, v in zip(times, vals, strict=True):  # (each row its own dicts)
                self.row(time=t, start_time=t, name=name, unit=q.get("unit"), kind="gauge", value=v,
                         service=service, host=host, attributes=dict(attrs), resource=dict(res), exemplars=[],
                         source="cloudwatch", source_file=file, source_record=i if line is None else line)

    def cw_messages(self, msgs: Any, file: str, record: str | None, rid: Any) -> None:
        """Keep CloudWatch's ``Messages`` (``[{"Code", "Value"}]``, of the response or of one result)."""
        if not msgs:
            return
        for m in msgs if type(msgs) is list else [msgs]:
            got = {"Code": m.get("Code"), "Value": m.get("Value")} if type(m) is dict else {"Code": None, "Value": m}
            got.update(file=file, record=record)
            if rid is not None:
                got["Id"] = rid
            self.messages.append(got)

    def cw_said(self) -> str:
        """What CloudWatch said (its messages, results not complete), for an error or a warning; "" when nothing."""
        said = [f"{m['Code']}: {short(m['Value'])}" if m["Code"] is not None else short(m["Value"])
                for m in self.messages[:3]]
        if len(self.messages) > 3:
            said.append(f"and {len(self.messages) - 3} more")
        statuses = sorted({str(p["StatusCode"]) for p in self.partial})
        return "; ".join(
            ([f"CloudWatch's messages: {', '.join(said)}"] if said else [])
            + ([f"{len(self.partial)} result(s) not complete (StatusCode {', '.join(statuses)})"] if statuses else []))

    def statistics(self, value: dict, file: str, line: int | None, where: Callable, path: str) -> None:
        dps = value["Datapoints"]
        if type(dps) is not list:
            self.problem(f"Datapoints must be a list, got {short(dps)}", file, where(path + "Datapoints"))
            return
        try:
            label = _cw_str(value, "Label") or "?"
        except _Bad as e:
            self.problem(str(e), file, where(path + "Label"))
            return
        for i, d in enumerate(dps):
            try:
                if type(d) is not dict:
                    raise _Bad(f"a datapoint must be an object, got {short(d)}")
                if DUPLICATE_KEYS in d:
                    raise _Bad(duplicate_reason(d[DUPLICATE_KEYS]))
                unit = _cw_str(d, "Unit")
                if "Timestamp" not in d:
                    raise _Bad("datapoint has no Timestamp")
                t = _cw_time(d["Timestamp"], "Timestamp")
                stats = {k: _num(d[k], k) for k in ("Average", "Sum", "SampleCount", "Minimum", "Maximum") if k in d}
                _rule(check_point, count=stats.get("SampleCount"), minimum=stats.get("Minimum"),
                      maximum=stats.get("Maximum"), names=("SampleCount", "Minimum", "Maximum", "", ""))
                ext = d.get("ExtendedStatistics") or {}
                if type(ext) is not dict:
                    raise _Bad(f"ExtendedStatistics must be an object, got {short(ext)}")
                pairs = []
                read: set[str] = set()  # the percentile keys read as quantiles (the others stay attributes)
                for k, v in ext.items():
                    q = _percentile_quantile(k)
                    if q is not None:
                        pairs.append((q, _num(v, f"ExtendedStatistics.{k}")))
                        read.add(k)
                quant = _rule(summary_quantiles, pairs, "ExtendedStatistics percentile")
                if not stats and not ext:
                    raise _Bad("datapoint has no statistic (Average, Sum, SampleCount, Minimum, Maximum, ExtendedStatistics)")
            except _Bad as e:
                self.problem(str(e), file, where(f"{path}Datapoints[{i}]"))
                continue
            value_ = stats.get("Average", next(iter(stats.values()), math.nan) if len(stats) == 1 else math.nan)
            if math.isnan(value_) and not ("Sum" in stats and "SampleCount" in stats):  # (their mean: sum / count)
                k, given = self.no_value.get(label, (0, ()))
                self.no_value[label] = (k + 1, tuple(dict.fromkeys(given + tuple(stats) + tuple(ext))))
            self.row(time=t, start_time=t, name=label, unit=unit, kind="summary", value=value_,
                     count=stats.get("SampleCount"), sum=stats.get("Sum"), min=stats.get("Minimum"),
                     max=stats.get("Maximum"), quantiles=quant or None, service="unknown_service", host=None,
                     attributes={k: v for k, v in ext.items() if k not in read},
                     resource={}, exemplars=[], source="cloudwatch", source_file=file,
                     source_record=i if line is None else line)

    # -- the frame
    def add_part(self, part: dict) -> None:
        """Append a fast-path batch (:func:`_f_columns`' part) after the rows read so far."""
        self.flush_rows()
        self.parts.append(part)

    def flush_rows(self) -> None:
        if self.cols["time"]:
            self.parts.append(self.rows_frame())
            self.cols = {c: [] for c in self.COLS}

    def frame(self) -> pd.DataFrame:
        self.flush_rows()
        if not self.parts:
            return self.rows_frame()
        frames: list[pd.DataFrame] = []
        run: list[dict] = []
        for p in self.parts:  # each run of fast-path batches one frame; the checked walk's rows between
            if isinstance(p, dict):
                run.append(p)
                continue
            if run:
                frames.append(_f_frame(run))
                run = []
            frames.append(p)
        if run:
            frames.append(_f_frame(run))
        return concat_parts(frames, _LAZY_COLUMNS)  # (rows of the checked walk join lazy batches as plain cells)

    def rows_frame(self) -> pd.DataFrame:
        """The frame of the column lists (raw values converted column-wise; what the gathering of
        :meth:`_fast` kept unchecked — a start after its time, a min above its max — read again, checked)."""
        c = self.cols
        n = len(c["time"])
        data: dict[str, Any] = {}
        ints: dict[str, np.ndarray] = {}
        for col in METRIC_COLUMNS:
            v = c[col.name]
            if col.name in ("time", "start_time"):
                arr = ints[col.name] = _int_column(v, "timeUnixNano" if col.name == "time" else "startTimeUnixNano")
                data[col.name] = pd.Series(arr.view("datetime64[ns]")).dt.tz_localize("UTC").astype(TIMESTAMP)
            elif col.dtype is object:
                data[col.name] = pd.Series(v, dtype=object) if n else pd.Series([], dtype=object)
            elif col.dtype == "float64":
                data[col.name] = pd.Series(_float_column(v, col.name))
            elif col.dtype is STRING:
                data[col.name] = _string_column(v)
            else:
                data[col.name] = pd.Series(pd.array(v, dtype=col.dtype))
        if self.fast_ok and n and ((ints["start_time"] > ints["time"]).any() or (ints["time"] == 0).any()
                                   or (data["min"].to_numpy() > data["max"].to_numpy()).any()):
            raise _Unusual("startTimeUnixNano / timeUnixNano 0 / min")  # (NaT is int64's minimum: never after a time)
        return pd.DataFrame(data)


_LAZY_COLUMNS = ("attributes", "resource", "exemplars", "buckets")


#: why a data point whose ``timeUnixNano`` is 0 is refused: proto3 JSON omits a field at its default, so 0 is the
#: absent time (refused as "no timeUnixNano"), not a point at 1970-01-01 (loaded there, it stretched every window and
#: rate over its series by 53 years, unflagged)
NO_TIME = "data point has no time: timeUnixNano is 0 (proto3's unset value, as if absent), not 1970-01-01"


class _Unusual(Exception):
    """A raw column holds a value the column-wise conversion does not take: read again, checked."""


_NAT = np.iinfo(np.int64).min


def _int_column(raw: list, what: str) -> np.ndarray:
    """int64 nanoseconds of a raw time column (decimal strings, ints, None → NaT), checked column-wise."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.array(raw)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        arr = None
    try:
        if arr is not None and pa.types.is_string(arr.type):
            if pc.all(pc.match_substring_regex(arr, r"^[0-9]{1,19}$"), skip_nulls=True).as_py() is False:
                raise _Unusual(what)
            arr = arr.cast(pa.uint64()).cast(pa.int64())  # beyond int64: ArrowInvalid
        elif arr is not None and (pa.types.is_integer(arr.type) or pa.types.is_null(arr.type)):
            arr = arr.cast(pa.int64())
            if len(arr) and (pc.min(arr).as_py() or 0) < 0:
                raise _Unusual(what)
        else:
            return np.array([_NAT if x is None else _nanos(x, what) for x in raw], dtype=np.int64)
    except (pa.ArrowInvalid, _Bad):
        raise _Unusual(what) from None
    return arr.fill_null(_NAT).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def _string_column(raw: list) -> pd.Series:
    """A STRING column from a list of str / None (one Arrow conversion: 2.5x faster than factorising
    first, measured on 60,000 repeated names)."""
    import pyarrow as pa

    try:
        arr = pa.array(raw, pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pd.Series(pd.array(raw, dtype=STRING))  # not all text: pandas says what
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([arr])))


def _float_column(raw: list, what: str) -> np.ndarray:
    """float64 of a raw value column (floats, ints, integer strings, "NaN"/"Infinity"; None → NaN)."""
    import pyarrow as pa

    try:
        arr = pa.array(raw)
        if pa.types.is_floating(arr.type) or pa.types.is_integer(arr.type) or pa.types.is_null(arr.type):
            return arr.cast(pa.float64()).fill_null(math.nan).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass
    out = np.empty(len(raw))
    for i, x in enumerate(raw):
        if x is None:
            out[i] = math.nan
        elif type(x) is float or type(x) is int:
            out[i] = x
        else:
            try:
                out[i] = _num(x, what)
            except _Bad:
                raise _Unusual(what) from None
    return out


def _fast_buckets(bc: Any, eb: Any) -> dict:
    """Explicit buckets of a histogram point, for the fast path (ValueError / TypeError: unusual)."""
    if type(bc) is not list and bc is not None:  # a text would be read digit by digit, 0 or "" as no counts
        raise TypeError("bucketCounts")
    if not bc:
        counts: list = []
    elif type(bc[0]) is str:
        j = "".join(bc)  # TypeError when not all strings
        if not (j.isdigit() and j.isascii()):
            raise ValueError("bucketCounts")
        counts = list(map(int, bc))
    else:
        counts = list(bc)
        if not all(type(c) is int and c >= 0 for c in counts):
            raise ValueError("bucketCounts")
    eb = eb or []
    if (counts and len(counts) != len(eb) + 1) or not all(type(b) is float or type(b) is int for b in eb):
        raise ValueError("buckets")
    bounds = list(map(float, eb))
    if bounds != sorted(set(bounds)) or not all(map(math.isfinite, bounds)):
        raise ValueError("explicitBounds")
    return {"bounds": bounds, "counts": counts}


def _cw_str(d: dict, key: str) -> str | None:
    """A CloudWatch output's text field (Id, Label, StatusCode, Unit), None when absent or null."""
    v = d.get(key)
    if v is not None and type(v) is not str:
        raise _Bad(f"{key} must be a string, got {short(v)}")
    return v


def _cw_time(x: Any, what: str) -> int:
    """A CloudWatch timestamp (ISO 8601 text from the CLI, a datetime from boto3, epoch seconds) as ns.

    A number is epoch seconds, as the API's JSON gives it; one that is a time of 1990-2100 only in milliseconds is
    refused with both readings (read as seconds it was "out of range", which did not say why).

    >>> _cw_time(1704067200, "Timestamp")
    1704067200000000000
    >>> _cw_time(1704067200000, "Timestamp")
    Traceback (most recent call last):
    ...
    tracekit.io.otlp._Bad: Timestamp 1704067200000 is epoch milliseconds, not seconds: as milliseconds it is \
2024-01-01 00:00:00 UTC, as seconds it is past the year 2262 (a CloudWatch metric datapoint's numeric Timestamp is \
seconds since the epoch: divide by 1000)
    """
    try:
        if isinstance(x, (int, float)) and not isinstance(x, bool):
            lo, hi = PLAUSIBLE_EPOCH_SECONDS
            if 1000 * lo <= x <= 1000 * hi:
                as_ms = pd.Timestamp(int(x), unit="ms", tz="UTC")
                raise _Bad(f"{what} {short(x)} is epoch milliseconds, not seconds: as milliseconds it is "
                           f"{as_ms:%Y-%m-%d %H:%M:%S} UTC, as seconds it is past the year 2262 (a CloudWatch metric "
                           "datapoint's numeric Timestamp is seconds since the epoch: divide by 1000)")
            v = int(round(float(x) * 1e9))
        else:
            t = pd.Timestamp(x)
            if t is pd.NaT:
                raise _Bad(f"{what} must be a time, got {short(x)}")
            v = int((t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")).value)
    except (ValueError, TypeError, OverflowError):
        raise _Bad(f"{what} must be a time (ISO 8601), got {short(x)}") from None
    if not 0 <= v < 2**63:  # the frame's times are ns since 1970 in int64, as every reader's
        raise _Bad(f"{what} {short(x)} is out of range (before 1970 or after 2262)")
    return v


#: CloudWatch dimensions naming the host and the service, most specific first
_CW_HOST = ("InstanceId", "PodName", "pod", "host", "Host", "host.name", "ContainerId", "TaskId")
_CW_SERVICE = ("service.name", "ServiceName", "Service", "service", "FunctionName")


def _cw_keys(dims: dict) -> tuple[str, str | None]:
    svc = next((str(dims[k]) for k in _CW_SERVICE if dims.get(k)), "unknown_service")
    host = next((str(dims[k]) for k in _CW_HOST if dims.get(k)), None)
    return svc, host


def cloudwatch_frame(responses: list[dict], queries: dict[str, dict] | None = None, *, file: str = "<object>") -> pd.DataFrame:
    """A metrics frame from GetMetricData responses, names and dimensions taken from the queries.

    Parameters
    ----------
    responses : list of dict
        ``GetMetricData`` responses (``MetricDataResults``), e.g. the pages of a paginated call.
    queries : dict, optional
        Per query ``Id``: ``{"name", "namespace", "unit", "stat", "dimensions"}`` (what
        :func:`tracekit.fetch_metrics` asked), else names come from the results' labels.
    file : str
        What ``source_file`` says.

    Returns
    -------
    pandas.DataFrame
        A metrics frame (one row per result and timestamp).

    Raises
    ------
    TraceFormatError
        A malformed response, naming the result.

    Examples
    --------
    >>> r = {"MetricDataResults": [{"Id": "cpu", "Label": "CPUUtilization", "StatusCode": "Complete",
    ...       "Timestamps": ["2024-01-01T00:01:00Z", "2024-01-01T00:00:00Z"], "Values": [7.5, 5.0]}]}
    >>> m = cloudwatch_frame([r], {"cpu": {"name": "AWS/EC2/CPUUtilization", "dimensions": {"InstanceId": "i-1"}}})
    >>> m[["time", "name", "host"]].iloc[0].tolist(), m["value"].tolist()
    ([Timestamp('2024-01-01 00:00:00+0000', tz='UTC'), 'AWS/EC2/CPUUtilization', 'i-1'], [5.0, 7.5])
    """
    rd = _Reader("raise")
    for k, resp in enumerate(responses):
        rd.metric_data(resp, file, None, lambda p, k=k: f"page {k}, {p}" if p else f"page {k}", "", queries)
    df = rd.frame().sort_values(["name", "time"], kind="stable").reset_index(drop=True)
    df.attrs.update(messages=shared_attr(rd.messages), partial=shared_attr(rd.partial))
    return df


def read_metrics(source: Any, *, errors: Errors = "raise") -> pd.DataFrame:
    """Read OTLP/JSON metrics and CloudWatch JSON into one metrics frame (one row per data point).

    Parameters
    ----------
    source : path, list of paths, directory, file object, bytes, str or parsed JSON
        What to read (see the module docstring for the formats); gzip is detected.
    errors : {"raise", "skip"}
        ``"raise"``: a :class:`~tracekit.errors.TraceFormatError` naming the file, the record and
        what is wrong. ``"skip"``: every valid point is loaded, skipped records are listed in
        ``attrs["skipped"]`` and one :class:`~tracekit.errors.TraceFormatWarning` is emitted.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`tracekit.METRIC_COLUMNS`, in the order read. ``attrs``: ``skipped``,
        ``ignored`` (records of other signals, and the files of a directory no reader reads:
        :class:`~tracekit.errors.SkippedRecord`, as the other readers); ``repeated_keys``: the attribute lists that
        gave a key twice with different values (the first value kept, one warning;
        :func:`tracekit.io.otlp.decode_attributes`);
        ``messages``: CloudWatch's ``Messages`` (of the response and of each result: dicts ``{Code, Value}``
        with ``file``, ``record`` and the result's ``Id``; any makes one TraceFormatWarning, and they are in
        the error when no point was read); ``partial``: the CloudWatch results whose ``StatusCode`` is not
        ``Complete`` (``PartialData``: their points are loaded, but not all there were); ``truncated``: True
        when a file is one page of a paginated output (``NextToken``, warned) or a result is partial.

    Raises
    ------
    TraceFormatError
        Bad input (``errors="raise"``), or no data point at all.
    ArgumentError
        ``errors`` is neither value.

    Examples
    --------
    >>> m = read_metrics({"Label": "Latency", "Datapoints": [
    ...     {"Timestamp": "2024-01-01T00:00:00Z", "Average": 12.5, "Maximum": 40.0, "SampleCount": 8.0, "Unit": "Milliseconds"}]})
    >>> m[["name", "kind", "unit"]].iloc[0].tolist(), m[["value", "max", "count"]].iloc[0].tolist()
    (['Latency', 'summary', 'Milliseconds'], [12.5, 40.0, 8.0])
    """
    if errors not in ("raise", "skip"):
        raise ArgumentError(f"read_metrics: errors must be 'raise' or 'skip', not {errors!r}")
    mixed = mixed_list_error(source)
    if mixed is not None:
        raise mixed
    with repeated_keys() as rk:  # OTLP attribute lists that give a key twice: counted, said once (close_read)
        with gc_paused():
            parts = _parts(source)
            again = False
            try:
                rd, df = _read(source, errors, fast=FAST, parts=parts)
            except (_Unusual, TraceFormatError) as exc:
                if not FAST or getattr(exc, "unreadable", False):
                    raise
                again = True
            if again:  # outside the except clause: the first try's error and what its frames held are freed
                # a raw column the fast path kept holds a bad value (or an error was found before it would be):
                # read again point by point, so the first bad record in file order is the one named
                rk.restart()  # (what the first try counted is counted again)
                rd, df = _read(source, errors, fast=False, parts=parts)
        said = rd.cw_said()
        if not len(df) and not rd.skipped:
            reason = (f"no metrics: {plural(len(rd.ignored), 'record')} of other signals (first: {rd.ignored[0].reason})"
                      if rd.ignored else "no metric data points")
            rd.problem(reason + (f"; {said}" if said else ""), rd.ignored[0].file if rd.ignored else source_name(source),
                       None)
        again = copies_read_again(df, ("time", "start_time", "name", "kind", "service", "host", "value", "count", "sum",
                                       "min", "max"))
        if again.any():  # a point read again from another file (overlapping exports): one point (io._copies)
            df = df[~again].reset_index(drop=True)
        df.attrs["copies_dropped"] = int(again.sum())
        cut = bool(rd.pages) and not rd.last_page  # pages with a NextToken and no request's last page
        df.attrs["truncated"] = bool(cut or rd.partial)
        df.attrs["messages"] = shared_attr(rd.messages)
        df.attrs["partial"] = shared_attr(rd.partial)
        if cut:
            warn_page(rd.pages[0], "NextToken", "data points", "read_metrics")
        if rd.no_value:  # datapoints metric_series would leave out: said, not an empty series unexplained
            n = sum(k for k, _ in rd.no_value.values())
            label, (_, given) = next(iter(rd.no_value.items()))
            more = f" (and {len(rd.no_value) - 1} other label(s))" if len(rd.no_value) > 1 else ""
            given_words = ", ".join(given[:-1]) + " and " + given[-1] if len(given) > 1 else given[0]
            warnings.warn(f"read_metrics: {plural(n, 'CloudWatch datapoint')} of {label!r}{more} give {given_words} but "
                          "no Average (nor Sum and SampleCount): which one is the value is not known, so value is NaN "
                          "and metric_series leaves them out; pick one, e.g. df.assign(value=df['max']) (min, max, "
                          "sum, count and quantiles are columns)", TraceFormatWarning, stacklevel=2)
        if rd.messages:  # what the API said about the data: not dropped unsaid
            warnings.warn(f"read_metrics: {said} (listed in df.attrs['messages'])", TraceFormatWarning, stacklevel=2)
        return close_read(df, rd.skipped, rd.ignored, "read_metrics skipped {records}", source=source)


# ---------------------------------------------------------------------------------------------
# the typed fast path: OTLP metrics lines / documents decoded by msgspec into Structs
#
# Each line (or a single document) is decoded into Structs of the exact OTLP shapes (gauge, sum,
# histogram, exponentialHistogram, summary; forbid_unknown_fields, no null where a value is
# expected, integers within int64); the decoded lines wait in ``_Reader.pending`` and are turned
# into columns together (:func:`_f_columns`), about 1 MB of JSON at a time (their Structs still in
# the CPU caches when their fields are read), and the batches into one frame (:func:`_f_frame`). What
# is per point in JSON is not per point in Python where it can be avoided:
#
# * no Python object per point is kept for the object columns: ``attributes``, ``resource``,
#   ``exemplars`` and ``buckets`` are lazy columns (:class:`tracekit.io.containers.LazyColumn`) whose
#   cells — real dicts and lists — are built when first used, from column-wise sources checked now:
#   a point's ``attributes`` are ``msgspec.Raw`` bytes, deduplicated column-wise and each distinct
#   set decoded (and checked) once per read (:func:`~tracekit.io.containers.attribute_source`, the
#   logs reader's too, with :class:`_AttributesOnce`: the decoded sets kept across batches); a
#   resource and a scope are raw text too, their resource dict made once per distinct (resource,
#   scope) text for the read (:func:`_f_resource`, :func:`_f_scope_resource`); bucket counts of the whole batch are one
#   ``numpy.fromstring`` over their joined text (after checking it is only quoted or only bare
#   decimal digits), bounds decoded once per distinct list; exemplars of the common shape are
#   checked column-wise (the others read one by one now). A cell is a new object (rows never share
#   a mutable value) and building one cannot fail: everything was checked at read time;
# * times and integer values are joined and parsed by ``numpy.fromstring`` (checked: ASCII digits,
#   one number per point, times of at most 19 digits, nothing saturated at the int64 limits), the
#   times of all families at once, a family's start times once when they are all one text;
# * the per-metric values (name, unit, kind, service, resource…) are one entry per metric,
#   repeated by index (``take``);
# * exemplars are built only where present;
# * a point family's fields are read by one ``msgspec.structs.astuple`` per point, zipped to columns
#   (one C call per point instead of one ``attrgetter`` pass per field); the rows of several families
#   are mapped back to file order by a permutation (the attributes' index, the exemplars' row map).
#
# (msgspec's ``array_like`` Structs do not apply: OTLP/JSON writes every point as an object.)
#
# Anything else — an undeclared key, a JSON type or value the conversions do not take, bucket
# counts that do not add up — sends the line to the checked walk: a batch that fails is split in
# halves until the failing line is alone, and that line (only) is parsed by orjson and read by the
# checked walk, which reads, reports and skips as it always did. Rows keep the file order.
#
# Batches of the common shapes are extracted now and converted in groups (see "groups" below).
# Measured (bench_read_metrics, docs/benchmarks.md): ~1.4x / ~1.45x the floor at 60,000 / 200,040
# points, ~0.8 of the time of the reader before groups (each batch converted alone), alternating.
# Where the time goes (py-spy samples, 60,000 points, of the read): the typed decode ~27%, freeing its
# Structs ~6%, extracting batches ~36% (the astuple passes ~10%, attribute texts ~5%, exemplars
# ~5%), converting groups ~16% (integer texts' numpy parse ~8%, bucket counts ~4%, attributes'
# dictionary encoding ~3%), the frame ~10%.

_I64 = Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)]
_U64 = Annotated[int, Meta(ge=0, le=2**63 - 1)]
_U32 = Annotated[int, Meta(ge=0, le=2**32 - 1)]  # flags (a decimal string: the checked walk)


class _FBase(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    pass


class _FExemplar(_FBase):
    timeUnixNano: _U64 | str = None  # type: ignore[assignment]  # absent: None; null: not fast
    asDouble: float | _I64 | str = None  # type: ignore[assignment]
    asInt: _I64 | str = None  # type: ignore[assignment]
    traceId: str = None  # type: ignore[assignment]
    spanId: str = None  # type: ignore[assignment]
    filteredAttributes: list[KeyValue] = ()  # type: ignore[assignment]


class _FNumberPoint(_FBase):
    timeUnixNano: _U64 | str
    startTimeUnixNano: _U64 | str = None  # type: ignore[assignment]
    asDouble: float | _I64 | str = None  # type: ignore[assignment]
    asInt: _I64 | str = None  # type: ignore[assignment]
    attributes: msgspec.Raw = None  # type: ignore[assignment]  # a list of KeyValue (_f_attributes)
    exemplars: list[_FExemplar] = ()  # type: ignore[assignment]
    flags: _U32 = None  # type: ignore[assignment]


class _FHistogramPoint(_FBase):
    timeUnixNano: _U64 | str
    count: _U64 | str
    startTimeUnixNano: _U64 | str = None  # type: ignore[assignment]
    sum: float | _I64 | str = None  # type: ignore[assignment]
    min: float | _I64 | str = None  # type: ignore[assignment]
    max: float | _I64 | str = None  # type: ignore[assignment]
    bucketCounts: msgspec.Raw = None  # type: ignore[assignment]  # a list of counts (_f_bucket_counts)
    explicitBounds: msgspec.Raw = None  # type: ignore[assignment]  # a list of numbers (_f_bounds)
    attributes: msgspec.Raw = None  # type: ignore[assignment]
    exemplars: list[_FExemplar] = ()  # type: ignore[assignment]
    flags: _U32 = None  # type: ignore[assignment]


class _FExpBuckets(_FBase):
    offset: _I64 | UnsetType = UNSET  # (UNSET, not 0: an absent key told from a 0 given, for _f_keys)
    bucketCounts: list[_U64 | str] | None = None


class _FExpPoint(_FBase):
    timeUnixNano: _U64 | str
    count: _U64 | str
    startTimeUnixNano: _U64 | str = None  # type: ignore[assignment]
    sum: float | _I64 | str = None  # type: ignore[assignment]
    min: float | _I64 | str = None  # type: ignore[assignment]
    max: float | _I64 | str = None  # type: ignore[assignment]
    scale: _I64 | UnsetType = UNSET
    zeroCount: _U64 | str | UnsetType = UNSET
    zeroThreshold: float | _I64 | str | UnsetType = UNSET
    positive: _FExpBuckets | None = None
    negative: _FExpBuckets | None = None
    attributes: msgspec.Raw = None  # type: ignore[assignment]
    exemplars: list[_FExemplar] = ()  # type: ignore[assignment]
    flags: _U32 = None  # type: ignore[assignment]


class _FQuantile(_FBase):
    quantile: float | _I64 | str | UnsetType = UNSET  # (absent: 0)
    value: float | _I64 | str | UnsetType = UNSET


class _FSummaryPoint(_FBase):
    timeUnixNano: _U64 | str
    startTimeUnixNano: _U64 | str = None  # type: ignore[assignment]
    count: _U64 | str | UnsetType = UNSET  # (absent: 0)
    sum: float | _I64 | str | UnsetType = UNSET
    quantileValues: list[_FQuantile] | None = None
    attributes: msgspec.Raw = None  # type: ignore[assignment]
    exemplars: list[_FExemplar] = ()  # type: ignore[assignment]
    flags: _U32 = None  # type: ignore[assignment]


class _FGauge(_FBase):
    dataPoints: list[_FNumberPoint] = ()  # type: ignore[assignment]


class _FSum(_FBase):
    dataPoints: list[_FNumberPoint] = ()  # type: ignore[assignment]
    aggregationTemporality: int | str | UnsetType = UNSET  # (absent: 0, unspecified; UNSET tells it from a 0 given)
    isMonotonic: bool | UnsetType = UNSET  # (absent: false)


class _FHistogram(_FBase):
    dataPoints: list[_FHistogramPoint] = ()  # type: ignore[assignment]
    aggregationTemporality: int | str | UnsetType = UNSET


class _FExpHistogram(_FBase):
    dataPoints: list[_FExpPoint] = ()  # type: ignore[assignment]
    aggregationTemporality: int | str | UnsetType = UNSET


class _FSummary(_FBase):
    dataPoints: list[_FSummaryPoint] = ()  # type: ignore[assignment]


class _FMetric(_FBase):
    name: str = ""
    description: str | UnsetType = UNSET  # (UNSET, not "": an absent key told from a "" given, for _f_keys)
    unit: str | UnsetType = UNSET
    gauge: _FGauge = None  # type: ignore[assignment]
    sum: _FSum = None  # type: ignore[assignment]
    histogram: _FHistogram = None  # type: ignore[assignment]
    exponentialHistogram: _FExpHistogram = None  # type: ignore[assignment]
    summary: _FSummary = None  # type: ignore[assignment]


class _FScopeMetrics(_FBase):
    scope: msgspec.Raw = None  # type: ignore[assignment]  # a Scope, decoded once per distinct text (_f_scope_resource)
    metrics: list[_FMetric] | None = None
    schemaUrl: str | None = None


class _FResourceMetrics(_FBase):
    resource: msgspec.Raw = None  # type: ignore[assignment]  # a Resource, decoded once per distinct text (_f_resource)
    scopeMetrics: list[_FScopeMetrics] | None = None
    schemaUrl: str | None = None


class _FMetricsData(_FBase):
    resourceMetrics: list[_FResourceMetrics]


_DECODE = msgspec.json.Decoder(_FMetricsData).decode
#: a Struct's fields by name → position in ``msgspec.structs.astuple`` (one C call per point gives
#: all of its fields; the columns are then one ``zip`` away: cheaper than a getattr pass per field)
_POS = {cls: {f: i for i, f in enumerate(cls.__struct_fields__)}
        for cls in (_FExemplar, _FNumberPoint, _FHistogramPoint, _FExpPoint, _FSummaryPoint)}
_ASTUPLE = msgspec.structs.astuple
_DECODE_BOUNDS = msgspec.json.Decoder(list[float | _I64]).decode
_DECODE_COUNTS = msgspec.json.Decoder(list[_U64 | str]).decode
#: False sends every source to the checked walk (tests compare the two paths)
FAST = True
#: lines / documents the typed fast path took, and those that fell back to the checked walk
STATS = {"fast": 0, "fallback": 0}
_NOT_FAST = (msgspec.DecodeError, UnicodeError, RecursionError)
#: decoded JSON bytes gathered before one column pass (bounds the Structs alive at once, so that they
#: are still in the CPU caches when their fields are read; batches are cheap: their numpy work is
#: done per group (_GROUP_BYTES), one frame for all). With groups, alternating in one process
#: (best of 11 / 5, 60,000 / 200,040 points, load ~3.7): 128 KB 1.48x / 1.55x the floor, 256 KB
#: 1.45x / 1.49x, 512 KB 1.47x / 1.53x, 1 MB 1.56x / 1.62x. (Per-batch conversion, before groups:
#: 1 MB 1.82x / 2.10x, 512 KB 1.88x / 2.23x, 256 KB 2.02x / 2.45x, 32 MB 2.83x / 3.54x.)
_BATCH_BYTES = 1 << 18


# -- repeated keys: a key given twice in one object (msgspec keeps the last value, silently; the checked
# walk refuses two different values). Every key of JSON text is followed by one colon (white space may come
# between: JSON allows it), and a colon is anywhere else only inside a string. So the colons of a line's text
# are its keys, as many times as they are given, plus the colons inside its strings. The decoded Structs tell
# which keys each object holds (a field is absent when it *is* its default object: None, (), UNSET; a value
# given equal to a default of 0 or "" is taken as absent too: fewer expected, never more), and the raw parts
# (attributes, resource, scope) are the text itself: their colons count as they are. When the text holds no
# more colons than that, no object holds a key twice; more, and the lines go to the checked walk (exact, slower;
# a string with a colon the count did not take, a value given as its default, a key given twice with the same
# value: the checked walk loads them as before). Colons inside decoded strings (a schemaUrl's "https:", a
# metric name "job:requests:rate5m") are added only where the text writes no colon as an escape (\u003a: a
# colon in the decoded string, none in the text). One count of one byte per batch (numpy, ~6 ms for 57 MB), where
# a substring count per identity key cost ~25 ms each (see tests/test_s37_readers4.py).

#: each Struct's field defaults, in ``astuple`` order (required fields: msgspec's NODEFAULT, never a value)
_DEFAULTS: dict[type, tuple] = {}


def _defaults(cls: type) -> tuple:
    d = _DEFAULTS.get(cls)
    if d is None:
        d = _DEFAULTS[cls] = tuple(f.default for f in msgspec.structs.fields(cls))
    return d


def _f_keys(value: Any) -> tuple[int, int]:
    """(keys, colons inside strings) of a decoded value (Structs, lists, Raw texts, strings): the keys its
    objects hold (each field that is not its default object), the colons of its Raw texts (their keys and
    their strings' colons, as written), and the colons of its decoded strings (as decoded: an escaped colon
    counts here, not in the text). One by one: the points of rare shapes, exemplars with attributes.

    >>> _f_keys(_DECODE(b'{"resourceMetrics": [{"resource": {"attributes": []}, "schemaUrl": "https://s"}]}'))
    (4, 1)
    """
    keys = strs = 0
    stack = [value]
    pop, push = stack.pop, stack.append
    while stack:
        x = pop()
        t = type(x)
        if t is str:
            strs += x.count(":")
        elif t is list:
            stack.extend(x)
        elif t is msgspec.Raw:
            keys += raw_colons(x)
        elif isinstance(x, msgspec.Struct):
            for v, d in zip(_ASTUPLE(x), _defaults(t), strict=True):
                if v is not d:
                    keys += 1
                    push(v)
    return keys, strs


def _col_keys(cols: list, cls: type, m: int) -> int:
    """The keys ``m`` points of Struct ``cls`` hold, from their ``astuple`` columns: each field not its
    default object (a column ``count``: equal values count as the default, fewer keys expected, never more)."""
    n = 0
    for c, d in zip(cols, _defaults(cls), strict=True):
        n += m if d is msgspec.NODEFAULT else m - c.count(d)
    return n


def _attribute_colons(index: np.ndarray, colons: list[int]) -> int:
    """The colons of the rows' attribute texts: each distinct text's (``colons``, :func:`attribute_source`'s)
    times the rows holding it (``index``)."""
    if not colons:
        return 0
    return int(np.bincount(index, minlength=len(colons)) @ np.array(colons, dtype=np.int64))


class _Fallback(Exception):
    """The fast path does not cover this line / document: the checked walk reads it."""


_SUM, _MIN, _MAX = attrgetter("sum"), attrgetter("min"), attrgetter("max")
# (Metric field, family, kind): points of one family are converted together (gauges and sums
# apart: gauges usually give asDouble, sums asInt)
_F_KINDS = (("gauge", 0, "gauge"), ("sum", 1, "sum"), ("histogram", 2, "histogram"),
            ("exponentialHistogram", 3, "exponential_histogram"), ("summary", 4, "summary"))


def _f_exemplars(exs: list) -> list:
    out = []
    for i, e in enumerate(exs):
        v = e.asDouble
        if v is not None and e.asInt is not None:
            raise _Fallback  # both: the checked walk names it
        if v is not None:
            v = _num(v, "asDouble")
        elif e.asInt is not None:
            v = e.asInt
            if type(v) is str and not re.fullmatch(r"-?[0-9]+", v):
                raise _Fallback
            v = float(int(v))
        else:
            v = math.nan
        t = e.timeUnixNano
        out.append({"time": None if t is None else _nanos(t, f"exemplars[{i}].timeUnixNano"), "value": v,
                    "trace_id": _id(e.traceId, 32, f"exemplars[{i}].traceId"),
                    "span_id": _id(e.spanId, 16, f"exemplars[{i}].spanId"),
                    "attributes": struct_attributes(e.filteredAttributes)})
    return out


_INT_TEXT = re.compile(r"-?[0-9]+")


def _hex_of_width(joined: str, width: int, m: int) -> bool:
    """Whether ``joined`` is ``m`` texts of exactly ``width`` lower-case hex digits joined by commas."""
    if len(joined) != (width + 1) * m - 1 or not joined.isascii():
        return False
    b = joined.encode("ascii")
    return (not b.translate(None, b"0123456789abcdef,") and b.count(b",") == m - 1
            and bool((np.frombuffer(b, np.uint8)[width::width + 1] == 44).all()))


def _ids_at(joined: str, width: int, flat: list) -> list:
    """The ids at positions ``flat`` of ``joined`` (ids of ``width`` characters joined by commas; all
    zeros: None)."""
    step, zero = width + 1, "0" * width
    return [None if x == zero else x for x in [joined[k * step:k * step + width] for k in flat]]


class _ExemplarCells:
    """Builds exemplar lists (a new list of new dicts per row) from the column-wise exemplars of the
    common shape: row r's are the flat positions ``offsets[r]:offsets[r + 1]``; the trace and span
    ids are kept as their joined text (``tids``, ``sids``: 32 / 16 hex digits each, comma-separated)."""

    def __init__(self, offsets: np.ndarray, times: np.ndarray, values: np.ndarray, tids: str, sids: str):
        self.offsets, self.times, self.values, self.tids, self.sids = offsets, times, values, tids, sids

    def __call__(self, rows: np.ndarray) -> list:
        out: list = [[] for _ in range(len(rows))]
        lo, hi = self.offsets[rows], self.offsets[rows + 1]
        have = np.flatnonzero(hi > lo)
        if not len(have):
            return out
        flat = np.concatenate([np.arange(a, z) for a, z in zip(lo[have].tolist(), hi[have].tolist(), strict=True)])
        at = flat.tolist()
        dicts = [{"time": t, "value": v, "trace_id": a, "span_id": b, "attributes": {}}
                 for t, v, a, b in zip(self.times[flat].tolist(), self.values[flat].tolist(), _ids_at(self.tids, 32, at),
                                       _ids_at(self.sids, 16, at), strict=True)]
        k = 0
        for p, m_ in zip(have.tolist(), (hi - lo)[have].tolist(), strict=True):
            out[p] = dicts[k:k + m_]
            k += m_
        return out


def _f_exemplar_source(groups: list[Sequence], file: str) -> BuiltSource:
    """The exemplars column of the points (their exemplar lists, in groups one after the other:
    a batch's point families): checked now, column-wise when every exemplar has the common shape (a
    decimal-string time, an asDouble, lower-case hex ids, no attributes) and built when first asked
    for; else the points that have exemplars are read one by one now, as :func:`_exemplars` reads
    them."""
    n = sum(map(len, groups))
    none = np.zeros(n + 1, dtype=np.int64)
    empty = _ExemplarCells(none, np.empty(0, np.int64), np.empty(0), "", "")
    lens = np.zeros(n, dtype=np.int64)
    at, some = 0, []
    for g in groups:  # a group without exemplars (all the absent field's default, ()) is skipped
        if any(g):  # (stops at the first point with exemplars; counting () compared every list with a tuple)
            lens[at:at + len(g)] = np.fromiter(map(len, g), np.int64, len(g))
            some.append(g)
        at += len(g)
    rows = np.flatnonzero(lens)
    if not len(rows):
        return BuiltSource(n, empty, file, "exemplars")
    flat = list(chain.from_iterable(chain.from_iterable(some)))
    m = len(flat)
    cols = list(zip(*map(_ASTUPLE, flat), strict=True))  # every field's column (one C call per exemplar)
    pos = _POS[_FExemplar]
    tids, sids, vs = cols[pos["traceId"]], cols[pos["spanId"]], cols[pos["asDouble"]]
    times = None
    try:
        jtid, jsid = ",".join(tids), ",".join(sids)
    except TypeError:  # not all strings
        jtid = None
    if (jtid is not None and _hex_of_width(jtid, 32, m) and _hex_of_width(jsid, 16, m)
            and set(map(type, vs)) == {float} and not any(cols[pos["filteredAttributes"]])
            and cols[pos["asInt"]].count(None) == m):
        try:
            times = _f_digits(",".join(cols[pos["timeUnixNano"]]), m, width=19)
        except (TypeError, _Fallback):
            times = None
    if times is None:
        src = BuiltSource(n, empty, file, "exemplars")
        exs = list(chain.from_iterable(groups))
        src.preset(rows, [_f_exemplars(exs[j]) for j in rows.tolist()])
        return src
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    # the ids stay joined (checked above: fixed widths), cut when cells are built; all-zero ids are no ids (None)
    return BuiltSource(n, _ExemplarCells(offsets, times, np.array(vs, dtype=np.float64), jtid, jsid), file, "exemplars")


def _objs(values: list) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _f_uints(xs: list) -> list:
    """Non-negative integers given as decimal strings or ints (msgspec checked the ints): ints."""
    if not xs:
        return list(xs)
    if type(xs[0]) is str:
        j = "".join(xs)  # TypeError when not all strings: the checked walk
        if not (j.isdigit() and j.isascii()):
            raise _Fallback
        return list(map(int, xs))  # ValueError on "": the checked walk
    if not all(type(c) is int for c in xs):
        raise _Fallback
    return list(xs)


def _f_digits(text: str | bytes, n: int, signed: bool = False, width: int = 0) -> np.ndarray:
    """int64 of ``n`` comma-separated decimal integers (``-`` first only when ``signed``), else
    :class:`_Fallback` (any other character, an empty number, a number at the int64 limits, one
    of more than ``width`` digits when given)."""
    if not n:
        return np.empty(0, np.int64)
    if isinstance(text, str):
        if not text.isascii():
            raise _Fallback
        text = text.encode("ascii")
    if text.translate(None, b"0123456789,-" if signed else b"0123456789,"):
        raise _Fallback
    if signed and b"-" in text and (text.count(b"-") != text.count(b",-") + text.startswith(b"-") or b"-," in text
                                    or text[-1:] == b"-"):
        raise _Fallback  # a sign not followed by digits ("-" alone reads as 0)
    try:  # an empty number inside ("1,,2", ",1") does not parse; a trailing one ("1,2,") is one number short
        a = np.fromstring(text, dtype=np.int64, sep=",")  # saturates beyond int64: refused below
    except ValueError:
        raise _Fallback from None
    if len(a) != n or a.max() == _INT64_MAX or (signed and a.min() == -_INT64_MAX - 1):
        raise _Fallback
    # (past 19 digits a number without leading zeros is beyond int64, refused above: only leading zeros need the count)
    # (n numbers of at least 19 digits each, 19n digits in all: each of exactly 19, the common case of times)
    if width and not (width == 19 and len(text) == 20 * n - 1 and a.min() >= 10**18) \
            and (width < 19 or text[:1] == b"0" or b",0" in text):
        b = np.frombuffer(text, np.uint8)
        if (np.diff(np.r_[-1, np.flatnonzero(b == 44), len(b)]) - 1).max() > width:
            raise _Fallback
    return a


def _f_nanos(xs: list) -> np.ndarray:
    """int64 nanoseconds of decimal strings (at most 19 digits, as :func:`_nanos`) or
    (msgspec-checked) ints."""
    try:
        return _f_digits(",".join(xs), len(xs), width=19)
    except TypeError:  # JSON numbers among them
        return np.array([x if type(x) is int else _nanos(x, "time") for x in xs], dtype=np.int64)


def _f_starts(xs: Sequence) -> np.ndarray:
    """A family's start times (:func:`_f_nanos_or_nat`): parsed once when all are one text (a
    cumulative series' start: the joined text is the first's repeated), all NaT when all are absent
    (gauges)."""
    n = len(xs)
    try:
        j = ",".join(xs)
    except TypeError:  # absent (None) or JSON numbers among them
        if xs.count(None) == n:
            return np.full(n, _NAT, dtype=np.int64)
        return _f_nanos_or_nat(xs)
    s0 = xs[0]
    if "," not in s0 and j == ",".join([s0] * n):  # (no comma in s0: then none in any, each is s0)
        return np.full(n, _f_digits(s0, 1, width=19)[0], dtype=np.int64)
    return _f_digits(j, n, width=19)


def _f_nanos_or_nat(xs: list) -> np.ndarray:
    """As :func:`_f_nanos`, None (absent) → NaT."""
    try:
        return _f_digits(",".join(xs), len(xs), width=19)
    except TypeError:  # None or JSON numbers among them
        pass
    out = np.full(len(xs), _NAT, dtype=np.int64)
    have = np.not_equal(np.array(xs, dtype=object), None)
    if have.any():
        out[have] = _f_nanos([x for x in xs if x is not None])
    return out


_PLAIN_NUMBERS = frozenset((float, int))
_PLAIN_NUMBERS_OR_NONE = frozenset((float, int, type(None)))


def _f_floats(xs: list, default: float = math.nan, types: set | None = None) -> np.ndarray:
    """float64 of numbers (floats, ints, the texts :func:`_num` takes); None → ``default``
    (``types``: the types of ``xs`` when known)."""
    types = set(map(type, xs)) if types is None else types
    if types <= _PLAIN_NUMBERS:
        return np.array(xs, dtype=np.float64)
    if types <= _PLAIN_NUMBERS_OR_NONE:
        a = np.array(xs, dtype=np.float64)  # None → NaN
        if default == default:
            a[np.equal(np.array(xs, dtype=object), None)] = default
        return a
    return np.array([default if x is None else _num(x, "value") for x in xs], dtype=np.float64)


def _f_int_values(xs: list) -> np.ndarray:
    """float64 of asInt values (ints, decimal texts), as :func:`_value`."""
    try:
        return _f_digits(",".join(xs), len(xs), signed=True).astype(np.float64)
    except (TypeError, _Fallback):
        pass
    out = []
    for x in xs:
        if type(x) is str and not _INT_TEXT.fullmatch(x):
            raise _Fallback
        out.append(float(int(x)))
    return np.array(out, dtype=np.float64)


def _f_values(ds: Sequence, ints: Sequence) -> np.ndarray:
    """The value of number points (asDouble, else asInt, else NaN) from their asDouble and asInt
    columns."""
    types = set(map(type, ds))
    if type(None) not in types:
        if ints.count(None) != len(ints):
            raise _Fallback  # a point with both asDouble and asInt: the checked walk names it
        return _f_floats(ds, types=types)
    if len(types) == 1:  # no asDouble at all
        try:
            return _f_int_values(ints)
        except TypeError:  # a point without asInt either
            pass
    out = _f_floats(ds, types=types)  # NaN where no asDouble
    no_d, have_i = np.equal(np.array(ds, dtype=object), None), np.not_equal(np.array(ints, dtype=object), None)
    if (have_i & ~no_d).any():
        raise _Fallback  # a point with both asDouble and asInt
    have = no_d & have_i
    if have.any():
        out[have] = _f_int_values([i for d, i in zip(ds, ints, strict=True) if d is None and i is not None])
    return out


def _f_bounds(raw: Any) -> list[float]:
    """A histogram's explicit bounds (checked: numbers, strictly increasing)."""
    if raw is None:
        return []
    bounds = list(map(float, _DECODE_BOUNDS(raw)))
    if any(a >= b for a, b in zip(bounds, bounds[1:], strict=False)) or not all(map(math.isfinite, bounds)):
        raise _Fallback  # (msgspec reads 1e999 as inf)
    return bounds


def _f_bucket_counts(raws: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the counts of every point one after the other, their number per point, their sum per point)
    from the points' raw bucketCounts:
    the joined text parsed at once when every list is only quoted or only bare decimal digits, no
    spaces; else one list at a time."""
    n = len(raws)
    try:
        text = b"|".join(raws)
    except TypeError:  # a point without bucketCounts
        text = None
    if text is not None:
        shape = _f_bucket_shape(text, n)
        if shape is not None:
            got = _f_bucket_body(shape[0], shape[1], n)
            if got is not None:
                return got
    counts = [_f_uints(_DECODE_COUNTS(r)) if r is not None else [] for r in raws]
    flat = np.array(list(chain.from_iterable(counts)), dtype=np.int64)  # beyond int64: OverflowError, the checked walk
    return (flat, np.array(list(map(len, counts)), dtype=np.int64),
            np.array(list(map(sum, counts)), dtype=object))


def _f_bucket_shape(text: bytes, n: int) -> tuple[bytes, int] | None:
    """The digits, commas and '|' of ``n`` raw bucketCounts lists joined by '|' (``text``), and the quotes of
    ``text``, when each
    is a flat list of only quoted or bare decimal digits (checked by bytes: no numpy call), else None.
    Exactly n-1 '|' (the joins: none inside a list) and each list starting with '[', n '[' and n ']'
    in all: n flat arrays (msgspec gave each a JSON value), not a bare number or text (5, "5")
    beside a nested list ([[1]])."""
    if not (text[:1] == b"[" and text.count(b"|") == n - 1 and text.count(b"|[") == n - 1):
        return None
    body = text.translate(None, b'"[]')
    # (n lists start with '[' and so end with ']': n '[' and n ']' when the brackets are 2n in all)
    quotes = text.count(b'"')
    if len(text) - len(body) - quotes != 2 * n or body.translate(None, b"0123456789,|"):
        return None
    return body, quotes


def _f_bucket_body(body: bytes, nq: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(every count, their number per list, their sum per list) of ``n`` lists given by
    :func:`_f_bucket_shape` (``nq``: the quotes of their text); None when some counts are quoted and
    others not (read one list at a time); :class:`_Fallback` when a count is beyond 2**40."""
    b = np.frombuffer(body, np.uint8)
    # (numpy calls kept few: a batch's fixed cost; np.r_ costs ~3x np.concatenate)
    cuts = np.flatnonzero(b == 124)  # '|': the end of each list but the last
    commas_at = np.flatnonzero(b == 44)
    edges = np.empty(n + 1, dtype=np.int64)  # commas before each list's start, and in all
    edges[0], edges[n] = 0, len(commas_at)
    edges[1:n] = np.searchsorted(commas_at, cuts)
    ends = np.empty(n + 1, dtype=np.int64)  # each list's end ('|' or the end), after a -1
    ends[0], ends[n] = -1, len(b)
    ends[1:n] = cuts
    lens = np.where(np.diff(ends) > 1, np.diff(edges) + 1, 0)  # (a list of no bytes: no counts)
    total = int(lens.sum())
    if nq not in (0, 2 * total):
        return None
    digits = body.replace(b"|", b",") if lens.all() else b",".join(s for s in body.split(b"|") if s)
    flat = _f_digits(digits, total)
    if total and flat.max() >= 2**40:  # sums could overflow int64: one by one
        raise _Fallback
    csum = np.zeros(total + 1, dtype=np.int64)
    np.cumsum(flat, out=csum[1:])
    offs = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lens, out=offs[1:])
    return flat, lens, csum[offs[1:]] - csum[offs[:-1]]


def _f_count_column(xs: Sequence) -> np.ndarray:
    try:
        return _f_digits(",".join(xs), len(xs))
    except TypeError:
        return np.array([_count(x, "count") for x in xs], dtype=object)


def _all_same_array(raws: Sequence) -> bool:
    """Whether the raw JSON values ``raws`` are all the same, the first an array: their joined text is
    the first's repeated (each is one JSON value without surrounding space, so the first, an array,
    ends where the first's text does, and so on). Faster than comparing Raw objects one by one."""
    r0 = raws[0]
    if r0 is None:
        return raws.count(None) == len(raws)
    first = bytes(r0)
    if first[:1] != b"[":
        return False
    try:
        return b"".join(raws) == first * len(raws)
    except TypeError:  # some absent (None)
        return False


def _f_histograms(col: Callable[[str], Sequence], n: int) -> tuple:
    """(count, sum, min, max, (the distinct bounds lists, each point's bounds number, every point's
    counts one after the other, their number per point)) of ``n`` histogram points (``col``: a
    field's column): checked now, the bucket dicts built when first asked for (:class:`_BucketCells`)."""
    cs = _f_count_column(col("count"))
    flat, lens, sums = _f_bucket_counts(col("bucketCounts"))
    if ((lens > 0) & (sums != cs)).any():
        raise _Fallback  # the checked walk names the point
    ebs = col("explicitBounds")
    if _all_same_array(ebs):  # one set of bounds (the common case): checked once
        bounds = [_f_bounds(ebs[0])]
        bidx = np.zeros(n, dtype=np.int64)
    else:
        seen: dict[bytes, int] = {}
        bounds = []
        ids = []
        for eb in ebs:
            key = b"" if eb is None else bytes(eb)
            i = seen.get(key)
            if i is None:
                i = seen[key] = len(bounds)
                bounds.append(_f_bounds(eb))
            ids.append(i)
        bidx = np.array(ids, dtype=np.int64)
    nb = np.array([len(b) + 1 for b in bounds], dtype=np.int64)[bidx]
    if not ((lens == 0) | (lens == nb)).all():
        raise _Fallback
    return (cs.astype(np.float64), _f_floats(col("sum")), _f_floats(col("min")), _f_floats(col("max")),
            (bounds, bidx, flat, lens))


class _BucketCells:
    """Builds histogram bucket dicts ``{"bounds", "counts"}`` (new lists per row) from the distinct
    bounds lists, each row's bounds number (-1: no histogram, a None cell) and the counts of every
    row one after the other (row r's at ``offsets[r]:offsets[r + 1]``)."""

    def __init__(self, bounds: list, bidx: np.ndarray, flat: np.ndarray, offsets: np.ndarray):
        self.bounds, self.bidx, self.flat, self.offsets = bounds, bidx, flat, offsets

    def __call__(self, rows: np.ndarray) -> list:
        out: list = [None] * len(rows)
        b = self.bidx[rows]
        pos = np.flatnonzero(b >= 0)
        if not len(pos):
            return out
        lo, hi = self.offsets[rows[pos]], self.offsets[rows[pos] + 1]
        k = hi - lo
        if (k == k[0]).all():
            counts = self.flat[lo[:, None] + np.arange(k[0])].tolist()
        else:
            counts = [self.flat[a:z].tolist() for a, z in zip(lo.tolist(), hi.tolist(), strict=True)]
        bounds = self.bounds
        for p, i, c in zip(pos.tolist(), b[pos].tolist(), counts, strict=True):
            out[p] = {"bounds": bounds[i][:], "counts": c}
        return out


def _f_exp_histograms(pts: list) -> tuple:
    """(count, sum, min, max, buckets) of exponential-histogram points (one by one, as
    :func:`_exp_buckets`)."""
    cs, buckets = [], []
    for p in pts:
        scale = 0 if p.scale is UNSET else p.scale
        if not -10 <= scale <= 20:
            raise _Fallback
        sides = []
        for b in (p.negative, p.positive):
            sides.append((0, []) if b is None else (0 if b.offset is UNSET else b.offset, _f_uints(b.bucketCounts or [])))
        bk = _exp_edges(scale, _count(_or0(p.zeroCount), "zeroCount"), _num(_or0(p.zeroThreshold), "zeroThreshold"), *sides)
        c = _count(p.count, "count")
        if bk["counts"] and sum(bk["counts"]) != c:
            raise _Fallback
        cs.append(float(c))
        buckets.append(bk)
    return (np.array(cs, dtype=np.float64), _f_floats(list(map(_SUM, pts))), _f_floats(list(map(_MIN, pts))),
            _f_floats(list(map(_MAX, pts))), buckets)


def _f_summaries(pts: list) -> tuple:
    """(count, sum, quantiles) of summary points."""
    cs, quantiles = [], []
    for p in pts:
        cs.append(float(_count(_or0(p.count), "count")))
        # (a quantile out of [0, 1], given twice, values decreasing: ValueError, the checked walk names it)
        quantiles.append(summary_quantiles([(_num(_or0(q.quantile), "quantile"), _num(_or0(q.value), "quantile value"))
                                            for q in p.quantileValues or ()]))
    return np.array(cs, dtype=np.float64), _f_floats(list(map(_or0, map(_SUM, pts))), 0.0), quantiles


def _or0(v: Any) -> Any:
    """0 for an absent field (UNSET), else the value."""
    return 0 if v is UNSET else v


_KIND_DATA = attrgetter(*(f for f, _, _ in _F_KINDS))
#: per family, the point fields holding objects (their keys counted by _f_keys)
_NESTED = (("exemplars",), ("exemplars",), ("exemplars",), ("positive", "negative", "exemplars"),
           ("quantileValues", "exemplars"))
_F_KIND_NAMES = tuple(k for _, _, k in _F_KINDS)
_FAMILY = {_FGauge: 0, _FSum: 1, _FHistogram: 2, _FExpHistogram: 3, _FSummary: 4}


def _f_times_series(a: np.ndarray) -> pd.Series:
    return pd.Series(a.view("datetime64[ns]")).dt.tz_localize("UTC")


def _f_take(values: Sequence, dtype: Any, rows: np.ndarray) -> Any:
    """One value per metric, repeated for its rows (``rows``: the metric of each row)."""
    if dtype is STRING:
        import pyarrow as pa

        v0 = values[0] if len(values) else 0
        if (v0 is None or type(v0) is str) and values.count(v0) == len(values):  # one for all (a file, "otlp", none)
            n = len(rows)
            if v0 is None:
                return pd.arrays.ArrowStringArray(pa.nulls(n, pa.large_string()))
            try:
                b = v0.encode("utf-8")
            except UnicodeEncodeError:  # (a lone surrogate: as pyarrow refuses it, below)
                b = None
            if b is not None:
                offsets = np.arange(n + 1, dtype=np.int64) * len(b)
                return pd.arrays.ArrowStringArray(pa.LargeStringArray.from_buffers(
                    n, pa.py_buffer(offsets), pa.py_buffer(b * n)))
        try:
            return pd.arrays.ArrowStringArray(pa.array(values, pa.large_string()).take(rows))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return _string_column(values).array.take(rows)
    if dtype == "boolean":  # (msgspec-typed: True, False or None) pd.array(values, "boolean") costs ~8x this
        m = len(values)
        return pd.arrays.BooleanArray(np.fromiter((v is True for v in values), bool, m)[rows],
                                      np.fromiter((v is None for v in values), bool, m)[rows])
    return pd.array(values, dtype=dtype).take(rows)


_DECODE_RESOURCE = msgspec.json.Decoder(Resource | None).decode


_DECODE_SCOPE = msgspec.json.Decoder(Scope | None).decode


def _f_resource(raw: Any, cache: dict) -> tuple[bytes, dict, str, str | None, int]:
    """(its text, attributes, service, host, the text's colons) of a raw Resource, decoded (and checked) once per
    distinct text for a whole read (``cache``): every line of a service repeats it. The dict is shared: never
    mutated."""
    key = b"" if raw is None else bytes(raw)
    got = cache.get(key)
    if got is None:
        r = _DECODE_RESOURCE(key) if key else None  # a bad resource raises: the line goes to the checked walk
        resource = struct_attributes(r.attributes) if r is not None and r.attributes else {}
        service = resource.get("service.name")
        service = service if isinstance(service, str) and service else "unknown_service"
        if len(cache) > 100_000:  # (a bound: resources are few)
            cache.clear()
        got = cache[key] = (key, resource, service, host_of(resource), key.count(b":"))
    return got


def _f_scope_resource(rkey: bytes, resource: dict, raw: Any, cache: dict) -> tuple[dict, int]:
    """The resource column's dict of a scope's points: the resource's attributes, the scope's name,
    version and attributes (prefixed), made once per distinct (resource, scope) text for a whole read
    (shared: never mutated); and the colons of the scope's text."""
    key = (rkey, b"" if raw is None else bytes(raw))
    res = cache.get(key)
    if res is None:
        scope = _DECODE_SCOPE(key[1]) if key[1] else None  # a bad scope raises: the line goes to the checked walk
        res = dict(resource)
        if scope is not None:
            if scope.name:
                res["otel.scope.name"] = scope.name
            if scope.version:
                res["otel.scope.version"] = scope.version
            for k, v in struct_attributes(scope.attributes).items():
                res[SCOPE_ATTR_PREFIX + k] = v
        if len(cache) > 100_000:
            cache.clear()
        res = cache[key] = (res, key[1].count(b":"))
    return res


class _AttributesOnce:
    """attribute_source's decode of a raw KeyValue list, once per distinct text for a whole read
    (each batch would decode the same few sets again). The dicts are shared templates: never mutated."""

    def __init__(self, cache: dict):
        self.cache = cache

    def __call__(self, raw: bytes) -> dict:
        d = self.cache.get(raw)
        if d is None:
            d = struct_attributes(_DECODE_KVS(raw))  # as containers' default decode; a bad list raises
            if len(self.cache) > 100_000:
                self.cache.clear()
            self.cache[raw] = d
        return d


_DECODE_KVS = msgspec.json.Decoder(list[KeyValue]).decode


def _f_walk(items: list, res_cache: dict) -> tuple[tuple[list, ...], list[int], list[int], list[tuple], int, int]:
    """The document loop of :func:`_f_columns` and :func:`_g_extract`: decoded documents ``items`` ((document,
    chunk, file, line)) → the data points of each family (gauge, sum, histogram, exponential histogram, summary),
    each metric's family and number of points, its constant columns (name, unit, description, kind,
    temporality, monotonic, service, host, resource, file, record), and the keys and the colons in strings of
    everything but the points (:func:`_f_keys`, counted here as the loop goes). Raises :class:`_Fallback` where
    a metric is not covered (no name, not one kind of data, an unknown temporality)."""
    pts_by: tuple[list, ...] = ([], [], [], [], [])
    kind_data, family, temporalities, kinds = _KIND_DATA, _FAMILY, _TEMPORALITY, _F_KIND_NAMES
    fams: list[int] = []
    npts: list[int] = []
    consts: list[tuple] = []
    keys = len(items)  # each document's resourceMetrics (required)
    strs = 0
    for md, _chunk, file, line in items:
        for i, rm in enumerate(md.resourceMetrics):
            rkey, resource, service, host, rcolons = _f_resource(rm.resource, res_cache)
            keys += (rm.resource is not None) + rcolons + (rm.scopeMetrics is not None)
            if rm.schemaUrl is not None:
                keys += 1
                strs += rm.schemaUrl.count(":")
            record = i if line is None else line
            for sm in rm.scopeMetrics or ():
                res, scolons = _f_scope_resource(rkey, resource, sm.scope, res_cache)
                keys += (sm.metrics is not None) + (sm.scope is not None) + scolons
                if sm.schemaUrl is not None:
                    keys += 1
                    strs += sm.schemaUrl.count(":")
                for m in sm.metrics or ():
                    # the metric's one kind of data (a metric holds one), its family and temporality
                    datas = kind_data(m)
                    if datas.count(None) != 4 or not m.name:
                        raise _Fallback
                    data = datas[0] or datas[1] or datas[2] or datas[3] or datas[4]  # (Structs are true)
                    fam = family[type(data)]
                    # its keys: name, the kind, dataPoints, unit, description (temporality, monotonic below)
                    name, unit, desc, dps = m.name, m.unit, m.description, data.dataPoints
                    keys += 2 + (type(dps) is list) + (unit is not UNSET) + (desc is not UNSET)
                    if ":" in name or unit and ":" in unit or desc and ":" in desc:
                        strs += name.count(":") + (unit or "").count(":") + (desc or "").count(":")
                    temporality = monotonic = None
                    if fam and fam != 4:  # sums and histograms
                        t = data.aggregationTemporality
                        temporality = temporalities.get(0 if t is UNSET else t)
                        if temporality is None:
                            raise _Fallback
                        keys += t is not UNSET
                        if fam == 1:
                            monotonic = data.isMonotonic is True
                            keys += data.isMonotonic is not UNSET
                    if dps:
                        pts_by[fam].extend(dps)
                        fams.append(fam)
                        npts.append(len(dps))
                        consts.append((name, unit or None, desc or None, kinds[fam], temporality, monotonic,
                                       service, host, res, file, record))
    return pts_by, fams, npts, consts, keys, strs



def _f_columns(items: list, cache: tuple[dict, dict] | None = None) -> dict | None:
    """The columns of decoded documents ``items`` ((document, chunk, file, line)), checked, for
    :func:`_f_frame`; raises (anything) when a line is not covered: the caller then splits the batch.
    ``cache``: decoded resources and attribute sets by their raw text, kept across the batches of a read."""
    res_cache, attr_cache = ({}, {}) if cache is None else cache
    pts_by, fams, npts, consts, keys, strs = _f_walk(items, res_cache)
    if not npts:
        if colons_repeat_keys(text_colons([c for _, c, _, _ in items]), keys, strs):
            raise _Fallback
        return None
    n = sum(npts)
    rows = np.repeat(np.arange(len(npts)), npts)
    present = [fam for fam in range(5) if pts_by[fam]]
    if len(present) == 1:  # one family: its points are the rows, in order
        at_of, inv = {present[0]: slice(None)}, None
    else:  # the families' points one family after the other; inv: row → its place there
        fam_rows = np.repeat(np.array(fams), npts)
        at_of = {fam: np.flatnonzero(fam_rows == fam) for fam in present}
        inv = np.empty(n, dtype=np.int64)
        inv[np.concatenate(list(at_of.values()))] = np.arange(n)
    value = np.full(n, math.nan)
    count, sum_, min_, max_ = value.copy(), value.copy(), value.copy(), value.copy()
    file0 = items[0][2]
    bidx = np.full(n, -1, dtype=np.int64)  # histogram buckets: built when asked for (_BucketCells)
    blens = np.zeros(n, dtype=np.int64)
    bounds: list = []
    flat = np.empty(0, dtype=np.int64)
    exp_buckets = None
    quantiles = None  # (no summaries: the frame makes one column of None for all batches)
    times: list = []  # per family, in family order (inv maps the rows to them), as attrs and exs
    starts_at: list = []
    attrs: list = []  # per family, in family order (inv maps the rows to them)
    exs: list = []
    flags = None
    for fam in present:
        sub = pts_by[fam]
        at = at_of[fam]
        cols = list(zip(*map(_ASTUPLE, sub), strict=True))  # every field's column (a family's points are one Struct type)
        pos = _POS[type(sub[0])]

        def col(name: str, cols: list = cols, pos: dict = pos) -> Sequence:
            return cols[pos[name]]

        keys += _col_keys(cols, type(sub[0]), len(sub))  # the points' own keys; their nested objects':
        k, st = _f_keys([v for f in _NESTED[fam] for v in col(f)])
        keys, strs = keys + k, strs + st

        times.append(col("timeUnixNano"))  # all families' parsed at once, below
        starts_at.append(_f_starts(col("startTimeUnixNano")))
        if fam <= 1:
            value[at] = _f_values(col("asDouble"), col("asInt"))
        elif fam == 4:
            count[at], sum_[at], q = _f_summaries(sub)
            if quantiles is None:
                quantiles = np.full(n, None, dtype=object)
            quantiles[at] = q
        elif fam == 2:
            count[at], sum_[at], min_[at], max_[at], (bounds, bi, flat, ln) = _f_histograms(col, len(sub))
            bidx[at], blens[at] = bi, ln
        else:
            count[at], sum_[at], min_[at], max_[at], b = _f_exp_histograms(sub)
            exp_buckets = (np.arange(n)[at], b)
        fl = col("flags")
        if fl.count(None) != len(fl):
            if flags is None:
                flags = np.full(n, None, dtype=object)
            flags[at] = _objs(list(fl))
        attrs.append(col("attributes"))
        exs.append(col("exemplars"))
    time = _f_nanos(times[0] if len(times) == 1 else list(chain.from_iterable(times)))
    start = starts_at[0] if len(starts_at) == 1 else np.concatenate(starts_at)
    if inv is not None:
        time, start = time[inv], start[inv]
    if (start > time).any() or (min_ > max_).any() or (time == 0).any():  # (NaT: int64's minimum; NaN compares False)
        raise _Fallback  # the checked walk names the point
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(blens, out=offsets[1:])
    buckets = BuiltSource(n, _BucketCells(bounds, bidx, flat, offsets), file0, "buckets", missing=bidx < 0)
    if exp_buckets is not None:  # exponential histograms: read one by one (rare), their cells given now
        buckets.preset(*exp_buckets)
    # (joined here: a tuple given to attribute_source is taken as (joined, lengths), and zip gives tuples)
    cl: list[int] = []
    attributes = attribute_source(join_raws(attrs[0] if len(attrs) == 1 else list(chain.from_iterable(attrs))),
                                  file0, "attributes", decode=_AttributesOnce(attr_cache), colons=cl)
    if colons_repeat_keys(text_colons([c for _, c, _, _ in items]), keys + _attribute_colons(attributes.index, cl), strs):
        raise _Fallback  # an object may hold a key twice: the checked walk decides, line by line
    if inv is not None:
        attributes.index = attributes.index[inv]
    exemplars = _f_exemplar_source(exs, file0)
    # everything is checked by now: the frame is made by _f_frame, once for a run of batches
    return {"n": n, "rows": rows, "consts": consts, "time": time, "start_time": start,
            "value": value, "count": count, "sum": sum_, "min": min_, "max": max_, "quantiles": quantiles,
            "flags": None if flags is None else flags.tolist(), "buckets": buckets, "attributes": attributes,
            "exemplars": exemplars, "exemplar_rows": np.arange(n, dtype=np.int64) if inv is None else inv}


# -- groups: a batch's columns extracted while its Structs are in the CPU caches, checked and
# converted for several batches at once
#
# A batch's fixed cost (~100 numpy / Arrow calls) was ~0.4 ms: ~15% of the column pass at 512 KB
# batches. A batch of the common shapes (gauge, sum and histogram points whose times, start times,
# integer values, counts and bucket counts are decimal texts, one set of bounds, exemplars of the
# common shape) is reduced to joined texts and small arrays (:func:`_g_extract`, no numpy parse);
# the batches of a group (~_GROUP_BYTES of JSON) are parsed and checked together (:func:`_g_part`:
# one parse per column, one Arrow dictionary encoding of the attributes), giving the part
# :func:`_f_columns` gives for the same lines. A batch of another shape is read by _f_columns as
# before (the group before it made a part first: file order); a group whose check fails (a bad
# value) is read again batch by batch by _f_columns, which splits the failing batch down to its line.

#: decoded JSON bytes of the batches converted together (one part): see the comment above
_GROUP_BYTES = 1 << 23
_NOT_GROUPED = object()  # _g_extract: a batch _f_columns reads


def _g_extract(items: list, cache: tuple[dict, dict], colons: tuple[int, bool] | None = None) -> Any:
    """A batch's columns as texts and small arrays for :func:`_g_part` (None: no point;
    ``_NOT_GROUPED``: a shape it does not take, or a line that may hold a key twice); raises where
    :func:`_f_columns` would refuse a line (the caller then reads the batch with it). ``colons``: the
    batch's :func:`~tracekit.io._sources.text_colons`, when the caller counted them (one span of the file)."""
    pts_by, fams, npts, consts, keys, strs = _f_walk(items, cache[0])
    if pts_by[3] or pts_by[4]:
        return _NOT_GROUPED
    by_fam = {}
    # the points' keys (:func:`_f_keys`), counted by what the conversions below already know: a column joined
    # as text holds a string in every point, a float64 array a number; a count(None) otherwise
    for fam in (0, 1, 2):
        sub = pts_by[fam]
        if not sub:
            continue
        m = len(sub)
        cols = list(zip(*map(_ASTUPLE, sub), strict=True))
        pos = _POS[type(sub[0])]
        d: dict[str, Any] = {"n": m}
        try:
            d["time"] = ",".join(cols[pos["timeUnixNano"]])
        except TypeError:  # JSON numbers
            return _NOT_GROUPED
        st = cols[pos["startTimeUnixNano"]]
        s0 = st[0]
        if (s0 is None or type(s0) is str) and st.count(s0) == m:  # one start for all (or none: gauges)
            d["start"] = (None, s0, m)
            keys += 2 * m if s0 is not None else m  # (time in each; start in each or in none)
        else:
            try:
                d["start"] = (",".join(st), None, m)
            except TypeError:
                return _NOT_GROUPED
            keys += 2 * m  # (time, start)
        if fam <= 1:
            ds = cols[pos["asDouble"]]
            a = _g_plain(ds)
            types = set() if a is not None else set(map(type, ds))
            if (a is not None or type(None) not in types) and cols[pos["asInt"]].count(None) != m:
                return _NOT_GROUPED  # a point with both asDouble and asInt: _f_columns sends it to the checked walk
            if a is not None:
                d["value"] = a
                keys += m
            elif type(None) not in types:
                d["value"] = _f_floats(ds, types=types)
                keys += m
            elif len(types) == 1:  # asInt only
                try:
                    d["value"] = (",".join(cols[pos["asInt"]]), m)
                except TypeError:
                    return _NOT_GROUPED
                keys += m
            else:
                d["value"] = _f_values(ds, cols[pos["asInt"]])
                keys += 2 * m - ds.count(None) - cols[pos["asInt"]].count(None)
        else:
            try:
                d["count"] = ",".join(cols[pos["count"]])
                text = b"|".join(cols[pos["bucketCounts"]])
            except TypeError:
                return _NOT_GROUPED
            shape = _f_bucket_shape(text, m)
            ebs = cols[pos["explicitBounds"]]
            if shape is None or not _all_same_array(ebs):
                return _NOT_GROUPED
            d["buckets"] = (shape[0], shape[1], b"" if ebs[0] is None else bytes(ebs[0]))
            smm = (cols[pos["sum"]], cols[pos["min"]], cols[pos["max"]])
            a = _g_plain(smm)
            d["smm"] = a if a is not None else np.array([_f_floats(x) for x in smm], dtype=np.float64).reshape(3, m)
            # count, bucketCounts, explicitBounds (all or none), sum, min, max
            keys += (3 if ebs[0] is not None else 2) * m + (3 * m if a is not None else
                                                             3 * m - sum(x.count(None) for x in smm))
        fl = cols[pos["flags"]]
        nfl = fl.count(None)
        d["flags"] = None if nfl == m else list(fl)
        d["attributes"] = join_raws(cols[pos["attributes"]])
        g = cols[pos["exemplars"]]
        keys += (m - nfl) + int(np.count_nonzero(d["attributes"][1]))
        d["exemplars"] = None
        if not any(g):
            keys += m - g.count(())  # (exemplars given empty: [] is not the default ())
        else:
            flat = list(chain.from_iterable(g))
            ecols = list(zip(*map(_ASTUPLE, flat), strict=True))
            ep = _POS[_FExemplar]
            vs = np.array(ecols[ep["asDouble"]])
            if vs.dtype != np.float64 or any(ecols[ep["filteredAttributes"]]) \
                    or ecols[ep["asInt"]].count(None) != len(flat):  # (float64: floats, or ints among floats)
                return _NOT_GROUPED
            try:
                d["exemplars"] = (np.fromiter(map(len, g), np.int64, m), ",".join(ecols[ep["traceId"]]),
                                  ",".join(ecols[ep["spanId"]]), ",".join(ecols[ep["timeUnixNano"]]), vs)
            except TypeError:
                return _NOT_GROUPED
            keys += m if d["exemplars"][0].all() else m - g.count(())  # (each point's list, when none is empty)
            # timeUnixNano, asDouble, traceId, spanId in each; filteredAttributes given empty
            keys += 5 * len(flat) - ecols[ep["filteredAttributes"]].count(())
        by_fam[fam] = d
    # the colons of the text not yet accounted for: those of the attribute texts, when no object holds a key
    # twice (_g_part counts them once per distinct text for the group)
    text = text_colons([c for _, c, _, _ in items]) if colons is None else colons
    rest = text[0] - keys - (0 if text[1] else strs)
    if rest < 0 or (not npts and rest):
        return _NOT_GROUPED  # an object may hold a key twice: _f_columns finds the line, the checked walk reads it
    if not npts:
        return None
    return {"fams": fams, "npts": npts, "consts": consts, "file": items[0][2], "by_fam": by_fam, "rest": rest}


def _g_plain(xs: Sequence) -> np.ndarray | None:
    """float64 of a column (or columns) of JSON numbers msgspec gave as floats and ints (as
    ``float(x)``; one pass: numpy finds the type), None when there is anything else (None, text)."""
    a = np.array(xs)
    if a.dtype == np.float64:
        return a
    return a.astype(np.float64) if a.dtype == np.int64 else None


def _g_starts(pieces: list) -> np.ndarray:
    """The start times of pieces (joined text, None, n) or (None, one text or None for all, n)."""
    out = []
    one: dict[Any, int] = {None: _NAT}
    for text, s0, n in pieces:
        if text is None:
            v = one.get(s0)
            if v is None:
                v = one[s0] = int(_f_digits(s0, 1, width=19)[0])
            out.append(np.full(n, v, dtype=np.int64))
        else:
            out.append(_f_digits(text, n, width=19))
    return out[0] if len(out) == 1 else np.concatenate(out)


def _g_values(pieces: list) -> np.ndarray:
    """Number points' values from pieces: float64 arrays or (asInt texts joined, n), the texts of
    consecutive pieces parsed at once."""
    out: list = []
    texts: list = []
    count = 0
    for p in pieces + [None]:
        if type(p) is tuple:
            texts.append(p[0])
            count += p[1]
            continue
        if texts:
            out.append(_f_digits(",".join(texts), count, signed=True).astype(np.float64))
            texts, count = [], 0
        if p is not None:
            out.append(p)
    return out[0] if len(out) == 1 else np.concatenate(out)


def _g_part(chunks: list, cache: tuple[dict, dict], bounds_cache: dict) -> dict:
    """The part (as :func:`_f_columns` gives for the same lines) of batches reduced by
    :func:`_g_extract`: every column parsed and checked once for all of them; raises when a value is
    refused (the caller then reads the batches with _f_columns)."""
    attr_cache = cache[1]
    fams: list[int] = []
    npts: list[int] = []
    consts: list[tuple] = []
    for c in chunks:
        fams += c["fams"]
        npts += c["npts"]
        consts += c["consts"]
    n = sum(npts)
    file0 = chunks[0]["file"]
    rows = np.repeat(np.arange(len(npts)), npts)
    present = [fam for fam in (0, 1, 2) if any(fam in c["by_fam"] for c in chunks)]
    # per family, its pieces batch after batch: the family's rows in file order
    per = {fam: [c["by_fam"][fam] for c in chunks if fam in c["by_fam"]] for fam in present}
    if len(present) == 1:
        at_of: dict[int, Any] = {present[0]: slice(None)}
        inv = None
    else:  # the families' points one family after the other; inv: row → its place there
        fam_rows = np.repeat(np.array(fams), npts)
        at_of = {fam: np.flatnonzero(fam_rows == fam) for fam in present}
        inv = np.empty(n, dtype=np.int64)
        inv[np.concatenate(list(at_of.values()))] = np.arange(n)
    ds = [d for fam in present for d in per[fam]]  # every piece, family after family
    time = _f_digits(",".join([d["time"] for d in ds]), n, width=19)
    start = _g_starts([d["start"] for d in ds])
    if (start > time).any() or (time == 0).any():  # (both in the same order here; time 0: the checked walk names it)
        raise _Fallback
    if inv is not None:
        time, start = time[inv], start[inv]
    value = np.full(n, math.nan)
    count, sum_, min_, max_ = value.copy(), value.copy(), value.copy(), value.copy()
    bidx = np.full(n, -1, dtype=np.int64)
    blens = np.zeros(n, dtype=np.int64)
    bounds: list = []
    flat = np.empty(0, dtype=np.int64)
    for fam in present:
        if fam <= 1:
            value[at_of[fam]] = _g_values([d["value"] for d in per[fam]])
            continue
        hs = per[fam]
        m = sum(d["n"] for d in hs)
        cs = _f_digits(",".join([d["count"] for d in hs]), m)
        got = _f_bucket_body(b"|".join([d["buckets"][0] for d in hs]), sum(d["buckets"][1] for d in hs), m)
        if got is None:
            raise _Fallback
        flat, lens, sums = got
        if ((lens > 0) & (sums != cs)).any():
            raise _Fallback
        ids: dict[bytes, int] = {}
        for d in hs:
            key = d["buckets"][2]
            if key not in ids:
                b = bounds_cache.get(key)
                if b is None:
                    b = bounds_cache[key] = _f_bounds(key or None)
                ids[key] = len(bounds)
                bounds.append(b)
        bi = np.repeat(np.array([ids[d["buckets"][2]] for d in hs], dtype=np.int64), [d["n"] for d in hs])
        nb = np.array([len(b) + 1 for b in bounds], dtype=np.int64)[bi]
        if not ((lens == 0) | (lens == nb)).all():
            raise _Fallback
        at = at_of[fam]
        count[at] = cs.astype(np.float64)
        smm = hs[0]["smm"] if len(hs) == 1 else np.concatenate([d["smm"] for d in hs], axis=1)
        if (smm[1] > smm[2]).any():  # a min above its max
            raise _Fallback
        sum_[at], min_[at], max_[at] = smm
        bidx[at], blens[at] = bi, lens
    flags = None
    if any(d["flags"] is not None for d in ds):
        flags = np.full(n, None, dtype=object)
        for fam in present:
            flags[at_of[fam]] = _objs(list(chain.from_iterable(
                [None] * d["n"] if d["flags"] is None else d["flags"] for d in per[fam])))
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(blens, out=offsets[1:])
    buckets = BuiltSource(n, _BucketCells(bounds, bidx, flat, offsets), file0, "buckets", missing=bidx < 0)
    cl: list[int] = []
    attributes = attribute_source((b"".join([d["attributes"][0] for d in ds]),
                                   np.concatenate([d["attributes"][1] for d in ds])),
                                  file0, "attributes", decode=_AttributesOnce(attr_cache), colons=cl)
    if _attribute_colons(attributes.index, cl) != sum(c["rest"] for c in chunks):
        raise _Fallback  # an object may hold a key twice (_g_extract): each batch read again by _f_columns
    if inv is not None:
        attributes.index = attributes.index[inv]
    exs = [d["exemplars"] for d in ds]
    if any(e is not None for e in exs):
        lens = np.concatenate([np.zeros(d["n"], np.int64) if e is None else e[0] for d, e in zip(ds, exs, strict=True)])
        some = [e for e in exs if e is not None]
        me = int(lens.sum())
        jtid, jsid = ",".join([e[1] for e in some]), ",".join([e[2] for e in some])
        if not (_hex_of_width(jtid, 32, me) and _hex_of_width(jsid, 16, me)):
            raise _Fallback
        etimes = _f_digits(",".join([e[3] for e in some]), me, width=19)
        eoff = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lens, out=eoff[1:])
        exemplars = BuiltSource(n, _ExemplarCells(eoff, etimes, np.concatenate([e[4] for e in some]), jtid, jsid),
                                file0, "exemplars")
    else:
        exemplars = BuiltSource(n, _ExemplarCells(np.zeros(n + 1, dtype=np.int64), np.empty(0, np.int64), np.empty(0),
                                                  "", ""), file0, "exemplars")
    return {"n": n, "rows": rows, "consts": consts, "time": time, "start_time": start,
            "value": value, "count": count, "sum": sum_, "min": min_, "max": max_, "quantiles": None,
            "flags": None if flags is None else flags.tolist(), "buckets": buckets, "attributes": attributes,
            "exemplars": exemplars, "exemplar_rows": np.arange(n, dtype=np.int64) if inv is None else inv}


def _f_frame(parts: list[dict]) -> pd.DataFrame:
    """The frame of consecutive fast-path batches (:func:`_f_columns`' parts): numbers and times
    concatenated, each per-metric value repeated once over all of them, the lazy columns' sources
    merged (attributes, resource) or chained (exemplars, buckets)."""
    n = sum(p["n"] for p in parts)
    moff = np.cumsum([0] + [len(p["consts"]) for p in parts])
    rows = np.concatenate([p["rows"] + o for p, o in zip(parts, moff.tolist(), strict=False)])
    names, units, descs, kinds, temps, monos, services, hosts, ress, files, records = zip(
        *chain.from_iterable(p["consts"] for p in parts), strict=True)
    one = len(parts) == 1

    def cat(key: str) -> np.ndarray:
        return parts[0][key] if one else np.concatenate([p[key] for p in parts])

    if all(p["flags"] is None for p in parts):
        flags_col = pd.arrays.IntegerArray(np.zeros(n, np.int64), np.ones(n, bool))
    else:
        flags_col = pd.array(list(chain.from_iterable([None] * p["n"] if p["flags"] is None else p["flags"]
                                                      for p in parts)), dtype="Int64")
    file0 = parts[0]["attributes"].file
    every = np.arange(n, dtype=np.int64)
    quantiles = np.full(n, None, dtype=object)
    at = 0
    for p in parts:
        if p["quantiles"] is not None:
            quantiles[at:at + p["n"]] = p["quantiles"]
        at += p["n"]

    def chained(key: str) -> Any:
        return parts[0][key] if one else ConcatSource([(p[key], np.arange(p["n"], dtype=np.int64)) for p in parts])

    # a batch's exemplars source holds its rows family after family: exemplar_rows places them
    exemplars = (LazyColumn(parts[0]["exemplars"], parts[0]["exemplar_rows"]) if one else
                 LazyColumn(ConcatSource([(p["exemplars"], p["exemplar_rows"]) for p in parts]), every.copy()))

    data = {
        "time": _f_times_series(cat("time")),
        "start_time": _f_times_series(cat("start_time")),
        "name": _f_take(names, STRING, rows),
        "unit": _f_take(units, STRING, rows),
        "description": _f_take(descs, STRING, rows),
        "kind": _f_take(kinds, STRING, rows),
        "temporality": _f_take(temps, STRING, rows),
        "monotonic": _f_take(monos, "boolean", rows),
        "value": cat("value"), "count": cat("count"), "sum": cat("sum"), "min": cat("min"), "max": cat("max"),
        "buckets": LazyColumn(chained("buckets"), every), "quantiles": quantiles,
        "service": _f_take(services, STRING, rows),
        "host": _f_take(hosts, STRING, rows),
        "attributes": LazyColumn(parts[0]["attributes"] if one else
                                 SharedDictSource.merge([p["attributes"] for p in parts], file0, "attributes"), every.copy()),
        "resource": LazyColumn(SharedDictSource(ress, rows, file0, "resource"), every.copy()),
        "exemplars": exemplars,
        "flags": flags_col,
        "source": _f_take(["otlp"], STRING, np.zeros(n, np.int64)),
        "source_file": _f_take(files, STRING, rows),
        "source_record": _f_take(records, "Int64", rows),
    }
    return pd.DataFrame(data, copy=False)  # every column is new here: no defensive copies


def _f_convert(rd: _Reader, items: list) -> None:
    """Turn decoded lines into a frame part of ``rd``; a batch that fails is split in halves until
    the failing line is alone, which the checked walk reads."""
    if not items:
        return
    try:
        part = _f_columns(items, rd.f_cache)
    except Exception:  # noqa: BLE001 — anything the fast path does not cover: the checked walk decides
        if len(items) > 1:
            h = len(items) // 2
            _f_convert(rd, items[:h])
            _f_convert(rd, items[h:])
            return
        _md, chunk, file, line = items[0]
        try:
            value = orjson.loads(chunk)
        except orjson.JSONDecodeError:  # msgspec took it, orjson does not: read the source again, checked
            raise _Unusual("JSON") from None
        STATS["fallback"] += 1
        rd.document(unique_keys(chunk, value, CHECKED_KEYS, metric_records), file, line)
        return
    STATS["fast"] += len(items)
    if part is not None:
        rd.add_part(part)


def _f_batch(rd: _Reader) -> None:
    """The pending lines' batch: extracted into the group (converted with it), else read by
    :func:`_f_convert` after the group."""
    items, rd.pending, nbytes, rd.pending_bytes = rd.pending, [], rd.pending_bytes, 0
    if not items:
        return
    span, rd.span = rd.span, None
    colons = None
    if span is not None and span[3] == len(items):  # their colons counted at once (text_colons line by line)
        text, start, stop = span[0], span[1], span[2]
        colons = (int(np.count_nonzero(np.frombuffer(text, np.uint8, stop - start, start) == 58)),
                  escaped_colon(text, start, stop))
    try:
        got = _g_extract(items, rd.f_cache, colons)
    except Exception:  # noqa: BLE001 — _f_convert splits the batch down to the line it refuses
        got = _NOT_GROUPED
    if got is _NOT_GROUPED:
        _g_flush(rd)
        _f_convert(rd, items)
        return
    STATS["fast"] += len(items)
    if got is not None:
        rd.group.append((got, [(chunk, file, line) for _md, chunk, file, line in items]))
        rd.group_bytes += nbytes
        if rd.group_bytes >= _GROUP_BYTES:
            _g_flush(rd)


def _g_flush(rd: _Reader) -> None:
    """The group's batches as one part; when a value is refused (or a key may be given twice), each batch
    as its own part, and the batch refused again read by :func:`_f_convert` (which finds the line)."""
    group, rd.group, rd.group_bytes = rd.group, [], 0
    if not group:
        return
    try:
        part = _g_part([g for g, _ in group], rd.f_cache, rd.bounds_cache)
    except Exception:  # noqa: BLE001
        for g, lines in group:
            if len(group) > 1:  # each batch as its own group first: only the failing one is read again
                try:
                    rd.add_part(_g_part([g], rd.f_cache, rd.bounds_cache))
                    continue
                except Exception:  # noqa: BLE001
                    pass
            STATS["fast"] -= len(lines)  # (counted again by _f_convert)
            _f_convert(rd, [(_DECODE(chunk), chunk, file, line) for chunk, file, line in lines])
        return
    rd.add_part(part)


def _f_flush(rd: _Reader) -> None:
    """Every line read so far made rows, in file order (before the checked walk reads one, and at the end)."""
    _f_batch(rd)
    _g_flush(rd)


def _f_one(rd: _Reader, chunk: Any, file: str, line: int | None, at: tuple[bytes, int, int] | None = None) -> bool:
    """One line / document: decoded and queued for the column pass, else (the queue turned into
    rows first) parsed by orjson for the checked walk; False when not JSON. ``at``: (the file's bytes,
    start, stop) of ``chunk`` there (the pending lines of one span have their colons counted at once)."""
    try:
        md = _DECODE(chunk)
    except _NOT_FAST:
        md = None
    if md is not None:
        rd.pending.append((md, chunk, file, line))
        span = rd.span
        if at is None:
            rd.span = None
        elif len(rd.pending) == 1:
            rd.span = [at[0], at[1], at[2], 1]
        elif span is not None and span[0] is at[0] and span[2] <= at[1]:
            span[2] = at[2]
            span[3] += 1
        rd.pending_bytes += len(chunk)
        if rd.pending_bytes >= _BATCH_BYTES:
            _f_batch(rd)
        return True
    _f_flush(rd)
    try:
        value = orjson.loads(chunk)
    except orjson.JSONDecodeError:
        return False
    STATS["fallback"] += 1
    rd.document(unique_keys(chunk, value, CHECKED_KEYS, metric_records), file, line)
    return True


class _Bytes:
    """A part of the source given as bytes: a file (read when its turn comes, and again by the
    checked re-read) or bytes / text / a file object's content (read once: a file object is not
    read twice)."""

    def __init__(self, data: Any, name: str, path: Any = None):
        self.data, self.name, self.path = data, name, path

    def read(self) -> bytes:
        return self.path.read_bytes() if self.data is None else self.data


def _parts(source: Any) -> list:
    out = []
    for part in _sub_sources(source):  # each file once (otlp's parts)
        if isinstance(part, (dict, list, tuple)):
            out.append(part)
        elif is_pathlike(part):
            path = checked_path(part)
            out.append(_Bytes(None, display_name(path), path) if path.is_file() else part)
        else:
            raw = raw_part(part)
            out.append(part if raw is None else _Bytes(raw[0], raw[1]))
    return out


def _read_part(rd: _Reader, part: _Bytes, on_bad: Any, fast: bool) -> None:
    try:
        data = read_bytes(part.read(), part.name, on_bad)
    except TraceFormatError as exc:
        exc.unreadable = True  # the file itself (gzip, encoding): reading it again cannot name another record
        raise
    name = part.name
    if not fast or data[:1] != b"{":
        for doc in parse_json(data, name, on_bad, keys=CHECKED_KEYS, records=metric_records):
            rd.document(doc.value, doc.file, doc.line)
        return
    nl = data.find(b"\n")
    rest = nl + 1
    while 0 <= nl and rest < len(data) and data[rest:rest + 1].isspace():
        rest += 1
    view = memoryview(data)
    one = nl < 0 or rest >= len(data)
    if not one:  # JSON lines when the first line alone is a complete value (parse_json's rule)
        try:
            orjson.loads(view[:nl])
        except orjson.JSONDecodeError:
            one = True
    if one:
        if not _f_one(rd, data, name, None, (data, 0, len(data))):
            for doc in parse_json(data, name, on_bad, keys=CHECKED_KEYS, records=metric_records):
                rd.document(doc.value, doc.file, doc.line)
        _f_flush(rd)
        return
    pos, i, end = 0, 0, len(data)
    while pos < end:
        i += 1
        nxt = data.find(b"\n", pos)
        stop = end if nxt < 0 else nxt
        if stop == pos or not _f_one(rd, view[pos:stop], name, i, (data, pos, stop)):
            # a blank line or one that is not JSON: the checked path reads the rest of the file
            _f_flush(rd)
            for doc in parse_json(data, name, on_bad, keys=CHECKED_KEYS, records=metric_records):
                if doc.line is None or doc.line >= i:
                    rd.document(doc.value, doc.file, doc.line)
            return
        pos = stop + 1
    _f_flush(rd)


def _read(source: Any, errors: Errors, fast: bool, parts: list | None = None) -> tuple[_Reader, pd.DataFrame]:
    """Read ``source`` (its :func:`_parts`, when given) into a reader and its frame; ``fast``: the
    typed fast path for bytes and the column-wise gathering for parsed documents."""
    parts = _parts(source) if parts is None else parts
    rd = _Reader(errors)
    rd.fast_ok = fast
    on_bad = None if errors == "raise" else rd.skip_error
    for part in parts:
        try:
            if isinstance(part, _Bytes):
                _read_part(rd, part, on_bad, fast)
            else:
                for doc in iter_documents(part, on_bad, keys=CHECKED_KEYS, records=metric_records):
                    rd.document(doc.value, doc.file, doc.line)
        except TraceFormatError as exc:
            _f_flush(rd)
            rd.skip_error(exc)
    df = rd.frame()
    zero = (df["start_time"].to_numpy(dtype="datetime64[ns]").astype(np.int64) == 0) if len(df) else None
    if zero is not None and zero.any():  # OTLP's fixed64 0 is "not set" (proto3), not 1970: the start is unknown
        df["start_time"] = df["start_time"].mask(zero)
    return rd, df


def metric_rates(metrics: pd.DataFrame) -> pd.DataFrame:
    """Sums turned into per-second rates; other points unchanged (a new frame).

    A cumulative sum's rate at a point is its increase since the series' previous point with a value over the
    time between them (a point with no value, such as a staleness marker, has no rate and is passed over). A
    **counter reset** — a monotonic sum's value went down, or ``start_time`` moved past the previous point (a start
    equal to it is OTLP's "unknown start" sequence, whose first point is stamped at its own start: no reset) —
    starts again: the rate is the value over the time since its ``start_time`` when that start is at or after the
    previous point, else (a reset only the value shows: the start kept or unknown) over the time since the
    previous point, as Prometheus' ``rate`` counts it; the first point of a series is its value over the time
    since its ``start_time`` (NaN when unknown). A non-monotonic sum (an UpDownCounter: a queue's length) may go
    down: its rate is then negative, not a reset. A delta sum's rate is its value over ``time − start_time``.
    Series are (name, service, host, resource, attributes): two processes of one service are two series; a
    cumulative point is differenced only against its series' previous cumulative point (delta points between them,
    of a pipeline that changed temporality, are each their own interval's).

    Parameters
    ----------
    metrics : pandas.DataFrame
        A metrics frame.

    Returns
    -------
    pandas.DataFrame
        The same rows in the same order; sum rows have ``kind`` ``"gauge"``, ``value`` per second,
        ``unit`` ``"<unit>/s"``, ``temporality`` and ``monotonic`` ``<NA>``; a ``reset`` column says
        which points started again after a reset.

    Raises
    ------
    MetricsSchemaError
        ``metrics`` is not a metrics frame.

    Examples
    --------
    >>> import tracekit as tk
    >>> m = tk.metrics_from_columns({"time": [60e9, 120e9, 180e9], "name": "c", "kind": "sum",
    ...     "temporality": "cumulative", "monotonic": True, "value": [60.0, 180.0, 30.0], "start_time": [0, 0, 150e9]})
    >>> metric_rates(m)[["value", "reset"]].to_dict("list")
    {'value': [1.0, 2.0, 1.0], 'reset': [False, False, True]}
    """
    metrics = validate_metrics(metrics)
    out = metrics.copy()
    is_sum = (metrics["kind"] == "sum").to_numpy(dtype=bool, na_value=False)
    reset = np.zeros(len(metrics), dtype=bool)
    rate = np.full(len(metrics), np.nan)
    if is_sum.any():
        sub = metrics[is_sum]
        t = sub["time"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
        st_na = sub["start_time"].isna().to_numpy()
        st = sub["start_time"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
        v = sub["value"].to_numpy(dtype=float, na_value=np.nan)
        cum = (sub["temporality"] == "cumulative").to_numpy(dtype=bool, na_value=False)
        mono = sub["monotonic"].to_numpy(dtype=bool, na_value=True)  # unknown: a counter
        own_all = np.where(~st_na & (st < t), v / np.maximum(t - st, 1) * 1e9, np.nan)  # value since its start
        # a delta point is its own interval's: its value over time − start_time
        rate[np.flatnonzero(is_sum)[~cum]] = own_all[~cum]
        # the cumulative points with a value, by series (one OTLP stream) and time (a point with none is passed over:
        # NaN rate). Only cumulative points are differenced: a delta point of the same stream (a pipeline that
        # changed temporality) holds one interval's count, and a cumulative total taken against it read 3/s for 1/s
        ok = np.flatnonzero(np.isfinite(v) & cum)
        o, first, restarted = stream_steps(sub.iloc[ok], v[ok], mono[ok])
        order = ok[o]
        to, vo, so, sna = t[order], v[order], st[order], st_na[order]
        prev_t = np.r_[0, to[:-1]]
        prev_v = np.r_[np.nan, vo[:-1]]
        own = own_all[order]
        step = np.where(to > prev_t, (vo - prev_v) / np.maximum(to - prev_t, 1) * 1e9, np.nan)
        # a reset the value shows while start_time does not (kept, or unknown): the counter started again after
        # the previous point, so its value is the increase since then (Prometheus' rule; a lower bound)
        since_prev = np.where(to > prev_t, vo / np.maximum(to - prev_t, 1) * 1e9, np.nan)
        started_after = ~sna & (so >= prev_t)
        r = np.where(first, own, np.where(restarted, np.where(started_after, own, since_prev), step))
        rate[np.flatnonzero(is_sum)[order]] = r
        reset[np.flatnonzero(is_sum)[order]] = restarted
    out.loc[is_sum, "value"] = rate[is_sum]
    out.loc[is_sum, "kind"] = "gauge"
    unit = out["unit"].astype(object).to_numpy()
    out["unit"] = pd.array([(f"{u}/s" if isinstance(u, str) and u not in ("", "1") else "1/s") if s else u
                            for u, s in zip(unit, is_sum, strict=True)], dtype=STRING)
    unknown = is_sum & ~metrics["temporality"].isin(["cumulative", "delta"]).to_numpy(dtype=bool, na_value=False)
    if unknown.any():  # taken as a delta, its rate needs a start time: a CSV's running total became NaN, silently
        names = sorted({str(x) for x in metrics["name"].to_numpy(dtype=object)[unknown]})
        warnings.warn(f"metric_rates: {plural(int(unknown.sum()), 'sum point')} of {', '.join(map(repr, names[:3]))}"
                      f"{' …' if len(names) > 3 else ''} give no temporality (cumulative or delta): read as delta, "
                      "each point's rate is its value over time − start_time (NaN without a start_time); a running "
                      "total (a counter) needs temporality='cumulative'", UserWarning, stacklevel=2)
    out.loc[is_sum, "temporality"] = pd.NA
    out.loc[is_sum, "monotonic"] = pd.NA
    out["reset"] = reset
    return out
