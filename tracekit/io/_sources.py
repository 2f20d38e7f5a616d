"""Turn any kind of source into parsed JSON documents, with where each came from.

Shared by every reader. A *source* is a path (file or directory), a list of paths, a
file object (text or binary), ``bytes``, a JSON string, or already-parsed JSON (dict/list).
Files may be gzip-compressed (detected by magic bytes, not by name), a single JSON value,
or JSON lines.

Each document is yielded as a :class:`Document`: the parsed value, the file name and the
1-based line number for JSON lines (``None`` for a single-value file).

A directory is read through :func:`list_files` (files named .json, .jsonl, .ndjson, .txt that starts like JSON,
.gz; hidden ones passed over); the files it leaves out are one definition too (:func:`ignored_files`), which every
reader lists in ``attrs["ignored"]`` (:func:`ignored_file_records`, through :func:`close_read`'s ``source``).
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import io
import json
import os
import re
import reprlib
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from ..core.frame import TIME_PROBLEM
from ..core.gc_pause import gc_promote  # kept importable from here
from ..core.words import plural
from ..errors import ArgumentError, SkippedRecord, TraceFormatError, TraceFormatWarning
from ..schema import shared_attr

__all__ = ["json_kind", "gc_promote", "source_name", "warn_page", "Document", "iter_documents", "read_bytes", "parse_json", "is_pathlike", "Source", "list_files", "ignored_files",
           "ignored_file_records", "no_files_error", "FILE_NOT_READ",
           "display_name", "mixed_list_error", "sanitised", "text_bytes", "TIME_PROBLEM", "known_shape", "short", "checked_path",
           "is_log_record", "LOG_WORDS", "LOG_TIME_KEYS", "LOG_MESSAGE_KEYS", "LOG_TRACE_KEYS", "LOG_SPAN_KEYS", "LOG_LEVEL_KEYS",
           "decompressed_cap", "GZIP_RATIO_CAP", "GZIP_MIN_CAP", "MAX_LIST_NESTING", "loads", "close_read",
           "glued_objects", "walk", "Walk", "may_hold_wide_int", "exact_ints", "DUPLICATE_KEYS",
           "key_patterns", "key_counts", "may_repeat_keys", "keys_repeat", "escaped_colon", "text_colons", "raw_colons",
           "colons_repeat_keys", "resource_holders", "truncated_prefix", "keys_present", "marked_duplicates", "unique_keys", "MarkedKeys", "duplicate_reason",
           "RepeatedKeys", "repeated_keys", "repeated_key", "REPEATED_KEYS_ATTR", "current_repeats",
           "repeats_uncounted", "READ_SUFFIXES"]

OnBadLine = Callable[[TraceFormatError], None] | None
Source = Any  # str | os.PathLike | bytes | IO | dict | list — documented in each reader

OBJECT = "<object>"
#: lists of documents (or of lists of them) deeper than this are not trace data: readers say so, never recurse on
MAX_LIST_NESTING = 16
#: the names of the files a directory is read for (list_files): trace data, never a spans store (cli's convert refuses them)
READ_SUFFIXES = (".json", ".jsonl", ".ndjson", ".txt", ".gz")
_SUFFIXES = READ_SUFFIXES


@dataclass(frozen=True)
class Document:
    value: Any
    file: str
    line: int | None  # 1-based line for JSON lines, None for a single JSON value


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother = 3, 80, 80
_SHORT.maxlist = _SHORT.maxdict = _SHORT.maxtuple = _SHORT.maxset = 6


#: a float this large (or below -2**63) may be an integer the JSON parser could not keep: orjson reads a JSON integer
#: beyond 64 bits as a float (up to 2**64 - 1 it keeps ints), so the value it gives is not what the file says
_BEYOND_64_BITS = float(2**64)


def short(value: Any) -> str:
    """A short repr of a value from a trace, for error messages: bounded in length and in depth
    (``repr`` of a list nested 1,000 deep, valid JSON, raises RecursionError).

    A whole float beyond 64 bits is said to be one, never shown as if given as a float: orjson reads a JSON
    integer beyond 64 bits (``"timeUnixNano": 123456789012345678901234567890``) as the float ``1.2345678901234568e+29``,
    which the file does not hold. Which of the two the file holds is not known after the parse (the record's
    error names the file, the record and the field).

    >>> short({"x": 1}), short("ab"), short([[[[[1]]]]])
    ("{'x': 1}", "'ab'", '[[[[...]]]]')
    >>> short(1.2345678901234568e+29), short(-1e19), short(1e19)
    ('a number beyond 64 bits (about 1.2346e+29)', 'a number beyond 64 bits (about -1e+19)', '1e+19')

    A JSON null, true or false is said so, as the file holds it (not Python's ``None``, ``True``):

    >>> short(None), short(True)
    ('null', 'true')
    """
    if value is None or type(value) is bool:
        return "null" if value is None else "true" if value else "false"
    if type(value) is float and (value >= _BEYOND_64_BITS or value < -_BEYOND_64_BITS / 2) and value.is_integer():
        return f"a number beyond 64 bits (about {value:.5g})"
    try:
        return _SHORT.repr(value)
    except (RecursionError, ValueError):  # pragma: no cover - reprlib bounds the depth
        return f"<{type(value).__name__}>"


_JSON_KINDS = {dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean",
               type(None): "null"}


def json_kind(value: Any) -> str:
    """What a parsed JSON value is, in JSON's words (``null``, not Python's ``NoneType``), for error messages.

    >>> json_kind(None), json_kind([1]), json_kind("a"), json_kind(True), json_kind(2.5)
    ('null', 'array', 'string', 'boolean', 'number')
    """
    return _JSON_KINDS.get(type(value), type(value).__name__)


def display_name(path: Any) -> str:
    """A file name as text that can be printed and stored: bytes that are not UTF-8 in a file
    name (which Python keeps as lone surrogates) are shown as ``\\xNN`` escapes.

    >>> display_name(Path(os.fsdecode(b"caf\\xe9.json")))
    'caf\\\\xe9.json'
    >>> display_name("ok.json")
    'ok.json'
    """
    s = os.fsdecode(path) if isinstance(path, (os.PathLike, bytes)) else str(path)
    if s.isascii():
        return s
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def source_name(source: Any) -> str:
    """What a reader was given, for an error about the whole source: the file or directory name, the
    first of a list of paths and how many more, else ``<object>``.

    >>> source_name("a.json"), source_name(["a.json", "b.json", "c.json"]), source_name({"events": []})
    ('a.json', 'a.json (and 2 more)', '<object>')
    """
    if is_pathlike(source):
        return display_name(source)
    if isinstance(source, (list, tuple)) and source and all(is_pathlike(x) for x in source):
        return display_name(source[0]) + (f" (and {len(source) - 1} more)" if len(source) > 1 else "")
    return OBJECT


def text_bytes(text: str) -> bytes:
    """UTF-8 bytes of a JSON text given as ``str``; lone surrogates are kept (as their 3-byte
    form) so that the JSON parser rejects them with a clear error instead of ``encode`` crashing."""
    return text.encode("utf-8", "surrogatepass")


def _has_surrogate(s: str) -> bool:
    if s.isascii():
        return False
    try:
        s.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


_SURROGATE = re.compile("[\ud800-\udfff]")


def _fix_str(s: str) -> str:
    # a Python str never holds a valid pair as two code points (json.loads joins them): each is lone
    return _SURROGATE.sub("\ufffd", s) if _has_surrogate(s) else s


class _Left:
    """A mark on :func:`_count_surrogate_strings`' stack: the walk has left the container of this id."""

    __slots__ = ("id",)

    def __init__(self, i: int) -> None:
        self.id = i


def _count_surrogate_strings(value: Any) -> int:
    """Strings (and keys) holding lone surrogates in a parsed JSON value; iterative (any depth). A value that holds
    itself (a list appended to itself: no JSON text parses so, only a Python object can) is refused with an
    :class:`~tracekit.errors.ArgumentError`: walked, it would never end. A value held twice, not inside itself, is
    walked twice.

    >>> loop = {"a": []}
    >>> loop["a"].append(loop)
    >>> _count_surrogate_strings(loop)
    Traceback (most recent call last):
    tracekit.errors.ArgumentError: the given value holds itself (a dict, 2 levels down inside itself): no JSON text parses so; give JSON data
    """
    n = 0
    stack: list = [value]
    inside: dict[int, int] = {}  # the containers on the walk's path: id → depth
    while stack:
        v = stack.pop()
        t = type(v)
        if t is str:
            n += _has_surrogate(v)
        elif t is _Left:
            del inside[v.id]
        elif t is dict or t is list or t is tuple:
            i = id(v)
            if i in inside:
                from ..errors import ArgumentError

                raise ArgumentError(f"the given value holds itself (a {t.__name__}, "
                                    f"{plural(len(inside) - inside[i], 'level')} down inside itself): no JSON text "
                                    "parses so; give JSON data")
            inside[i] = len(inside)
            stack.append(_Left(i))
            if t is dict:
                for k in v:
                    if type(k) is str:
                        n += _has_surrogate(k)
                stack.extend(v.values())
            else:
                stack.extend(v)
    return n


def surrogate_cell(frame: Any) -> str | None:
    """Where ``frame`` (a spans, logs or metrics frame) first holds text with a lone surrogate, which no writer can
    encode as UTF-8 (a hand-built frame can hold one; the readers replace them): ``"row 3 (span 'ab…'), column
    'attributes' key 'k'"``, or None. Walks every text and container cell: for the error path only.

    >>> import pandas as pd
    >>> surrogate_cell(pd.DataFrame({"span_id": ["a" * 16], "attributes": [{"k": ["ok", "bad \\udc80"]}]}))
    "row 0 (span 'aaaaaaaaaaaaaaaa'), column 'attributes' key 'k'"
    """
    for col in frame.columns:
        series = frame[col]
        if series.dtype != object and getattr(series.dtype, "storage", None) != "python":
            continue  # (Arrow-backed text cannot hold a lone surrogate)
        for i, v in enumerate(series.tolist()):
            where = _surrogate_path(v)
            if where is None:
                continue
            span = ""
            if "span_id" in frame.columns:
                sid = frame["span_id"].iloc[i]
                span = f" (span {sid!r})" if isinstance(sid, str) else ""
            label = frame.index[i]
            return f"row {label.item() if hasattr(label, 'item') else label!r}{span}, column {col!r}{where}"
    return None


def _surrogate_path(value: Any) -> str | None:
    """``""`` when ``value`` is text with a lone surrogate, `` key 'k'`` when it is inside a dict (the outermost key
    named), None when there is none; iterative."""
    stack = [(value, "")]
    while stack:
        v, where = stack.pop()
        t = type(v)
        if t is str:
            if _has_surrogate(v):
                return where
        elif t is dict:
            for k, x in v.items():
                name = where or (f" key {k!r}" if type(k) is str and not _has_surrogate(k) else
                                 f" key {ascii(k)}")
                if type(k) is str and _has_surrogate(k):
                    return name
                stack.append((x, name))
        elif t is list or t is tuple:
            stack.extend((x, where) for x in v)
    return None


def unwritable_text(writer: str, frame: Any, exc: BaseException) -> BaseException:
    """The error to raise for ``exc``, raised by an encoder writing ``frame``: a
    :class:`~tracekit.errors.TraceKitError` naming the row, span, column and key of text with a lone surrogate
    (what orjson's ``TypeError`` and pyarrow's ``UnicodeEncodeError`` left unsaid), else ``exc`` itself."""
    from ..errors import TraceKitError

    if isinstance(exc, TraceKitError) or "surrogate" not in str(exc):
        return exc
    where = surrogate_cell(frame)
    if where is None:
        return exc
    return TraceKitError(f"{writer}: {where}: text with a lone surrogate (not UTF-8: e.g. bytes decoded with "
                         "errors='surrogateescape') cannot be written; replace it, e.g. "
                         "s.encode('utf-8', 'replace').decode()")


@contextlib.contextmanager
def naming_surrogates(writer: str, frame: Any) -> Iterator[None]:
    """Turn an encoder's bare error on a lone surrogate in ``frame`` into :func:`unwritable_text`'s error."""
    try:
        yield
    except (TypeError, ValueError) as exc:  # orjson's JSONEncodeError is a TypeError, UnicodeEncodeError a ValueError
        err = unwritable_text(writer, frame, exc)
        if err is exc:
            raise
        raise err from None


def _fixed_copy(value: Any) -> Any:
    """A copy of a parsed JSON value with lone surrogates replaced by U+FFFD; iterative."""
    return json_copy(value, _fix_str)


def json_copy(value: Any, text: Callable[[str], str] | None = None) -> Any:
    """A copy of parsed JSON's containers (dicts, lists; tuples become lists), leaves shared (they are
    immutable), or with ``text`` applied to every string (keys too); iterative, so any depth. For readers that keep
    the caller's nested values in the frame: the frame and the caller's value are then two objects (editing one
    does not edit the other).

    >>> v = {"a": [1, {"b": "x"}]}
    >>> c = json_copy(v)
    >>> c == v, c["a"] is v["a"], c["a"][1] is v["a"][1]
    (True, False, False)
    >>> json_copy(v, str.upper)
    {'A': [1, {'B': 'X'}]}
    """
    if type(value) is str:
        return value if text is None else text(value)
    if type(value) not in (dict, list, tuple):
        return value
    out: Any = {} if type(value) is dict else []
    stack = [(value, out)]
    while stack:
        src, dst = stack.pop()
        items = src.items() if type(src) is dict else enumerate(src)
        for k, v in items:
            t = type(v)
            if t is dict or t is list or t is tuple:
                nv: Any = {} if t is dict else []
                stack.append((v, nv))
            else:
                nv = text(v) if text is not None and t is str else v
            if type(dst) is dict:
                dst[text(k) if text is not None and type(k) is str else k] = nv
            else:
                dst.append(nv)
    return out


def sanitised(value: Any) -> Any:
    """Parsed JSON given by a caller, safe for the readers: strings holding lone surrogates
    (``json.loads`` accepts ``"\\ud800"``; they are not Unicode text, and Arrow, the writers and
    the report cannot encode them) are replaced by a copy where each lone surrogate is U+FFFD,
    with one :class:`~tracekit.errors.TraceFormatWarning`. Sanitised rather than rejected: the
    rest of the record is valid, and U+FFFD is what a UTF-8 decoder shows for the same bytes.
    The caller's value is never modified; without surrogates it is returned as is (checked with
    one ``orjson.dumps``, which refuses surrogates, before any Python-level walk).

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     fixed = sanitised({"name": "a\\ud800b"})
    >>> fixed == {"name": "a\\ufffdb"}, len(w)
    (True, 1)
    """
    try:
        orjson.dumps(value)
        return value
    except (TypeError, orjson.JSONEncodeError):
        pass  # surrogates, or only depth / big ints / odd keys: look
    return _surrogates_replaced(value, "of the given JSON hold lone surrogates (not valid Unicode)", 5)


def _surrogates_replaced(value: Any, what: str, stacklevel: int) -> Any:
    """``value`` with each lone surrogate replaced by U+FFFD (a copy, with one warning saying how many
    strings ``what``), or ``value`` itself when it holds none: the one rule of parsed JSON and JSON text."""
    n = _count_surrogate_strings(value)
    if not n:
        return value
    import warnings

    from ..errors import TraceFormatWarning

    warnings.warn(f"{n} string(s) {what}; each lone surrogate was replaced by U+FFFD", TraceFormatWarning,
                  stacklevel=stacklevel)
    return _fixed_copy(value)


#: the known shapes (:func:`known_shape`) that are another signal tracekit reads: a file of them beside the traces
#: (an application's JSON log, a CloudWatch export) is listed as not this reader's data, as OTLP metrics and logs
#: lines are, not an error
_LOGS_SHAPES = ("CloudWatch Logs events (filter-log-events / get-log-events output: log records, which tk.read_logs reads)",
                "a CloudWatch Logs subscription payload (log records, which tk.read_logs reads)",
                "a JSON log record (a message and a level, time or trace id, which tk.read_logs reads)")
#: read_logs' keys of a JSON log record (:mod:`tracekit.io.logs` takes them from here): its time, its message, its
#: trace and span ids and its level — one definition for it and for the readers that list such a record as another
#: signal's (:func:`is_log_record`)
LOG_TIME_KEYS = ("timestamp", "time", "@timestamp", "ts", "Timestamp", "date", "asctime")
LOG_MESSAGE_KEYS = ("message", "msg", "body", "log", "Message", "@message", "Body")
LOG_TRACE_KEYS = ("trace_id", "traceId", "traceID", "TraceID", "TraceId", "trace.id", "xray_trace_id",
                  "AWS-XRAY-TRACE-ID", "otelTraceID", "logging.googleapis.com/trace", "xrayTraceId", "XRayTraceId")
LOG_SPAN_KEYS = ("span_id", "spanId", "spanID", "SpanID", "SpanId", "span.id", "otelSpanID",
                 "logging.googleapis.com/spanId")
LOG_LEVEL_KEYS = ("level", "severity", "levelname", "log.level", "severity_text", "Level", "SeverityText", "lvl",
                  "loglevel", "LogLevel")
#: a log record's own keys (its message, its level, its time: no X-Ray segment has them): an object with one of them is
#: a log record, whatever X-Ray keys (trace_id, id, name, start_time) it carries beside them
LOG_WORDS = frozenset(LOG_MESSAGE_KEYS + LOG_LEVEL_KEYS + LOG_TIME_KEYS + ("short_message", "textPayload"))
#: a log record's cues beside its message: a time, a level or a trace or span id (an X-Ray segment has no message)
_LOG_CUES = frozenset(LOG_TIME_KEYS + LOG_LEVEL_KEYS + LOG_TRACE_KEYS + LOG_SPAN_KEYS)
_LOG_RECORD = _LOGS_SHAPES[-1]


def is_log_record(value: Any) -> bool:
    """Whether an object is a JSON log record by its own keys: a message (a value under one of
    :data:`LOG_MESSAGE_KEYS`) with a time, a level or a trace or span id — the one rule by which tk.read and
    read_metrics list an application's log line as another signal's (:func:`known_shape`). Narrower than what
    read_logs reads (a record with only a time is read too), so a file of a wrong shape is not taken for logs.

    >>> is_log_record({"message": "hello", "timestamp": "2024-01-01T00:00:00Z"}), is_log_record({"message": "x"})
    (True, False)
    >>> is_log_record({"msg": "charged", "trace_id": "5759e988bd862e3fe1be46a994272793"})
    True
    """
    return type(value) is dict and any(value.get(k) is not None for k in LOG_MESSAGE_KEYS) \
        and not _LOG_CUES.isdisjoint(value)
_METRICS_SHAPES = ("CloudWatch metrics (get-metric-data / get-metric-statistics output: metric points, which "
                   "tk.read_metrics reads)",)


def resource_holders(rx: dict, keys: tuple[str, ...]) -> Iterator[dict]:
    """The objects of one OTLP ResourceSpans, ResourceLogs or ResourceMetrics (``rx``) that hold its records, in
    order: ``rx``, its resource, and each of its ScopeSpans / ScopeLogs / ScopeMetrics (under any of ``keys``, every
    spelling) followed by its scope. One walk for the three signals' readers, whose record walkers
    (``span_records``, ``log_records``, ``metric_records``) refuse one of these that gives a container key twice.
    A Scope… object is followed by its scope (never a Scope… object itself): a caller takes the Scope… objects'
    records after them by ``"spans"`` etc.

    >>> rs = {"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "s"}, "spans": []}]}
    >>> [sorted(o) for o in resource_holders(rs, ("scopeSpans",))]
    [['resource', 'scopeSpans'], ['attributes'], ['scope', 'spans'], ['name']]
    """
    yield rx
    if type(rx.get("resource")) is dict:
        yield rx["resource"]
    for key in keys:
        xs = rx.get(key)
        for x in xs if type(xs) is list else ():
            if type(x) is not dict:
                continue
            yield x
            for scope in (x.get("scope"), x.get("instrumentationLibrary"), x.get("instrumentation_library")):
                if type(scope) is dict:
                    yield scope


def scope_list(obj: dict, key: str, legacy: str) -> tuple[str, Any, str | None]:
    """The scope list of an OTLP resource entry the collector reads (``scopeSpans`` / ``scopeLogs`` /
    ``scopeMetrics``): ``key`` unless it is absent or empty, then ``legacy`` (its name before OTLP 0.15:
    ``instrumentationLibrarySpans``…). Returns the key read, its value (None when neither is there) and, when
    both hold entries, why ``legacy`` is not read — the reader lists it in ``attrs["ignored"]``, so nothing is
    left out unsaid (the collector drops it silently). One rule for the spans, logs and metrics readers.

    >>> scope_list({"scopeSpans": [{}], "instrumentationLibrarySpans": [{}, {}]}, "scopeSpans", "instrumentationLibrarySpans")
    ('scopeSpans', [{}], 'instrumentationLibrarySpans (its name before OTLP 0.15) holds 2 entries beside a non-empty scopeSpans: not read, as the OpenTelemetry Collector does not read it')
    >>> scope_list({"scopeSpans": [], "instrumentationLibrarySpans": [{}]}, "scopeSpans", "instrumentationLibrarySpans")
    ('instrumentationLibrarySpans', [{}], None)
    """
    value, old = obj.get(key), obj.get(legacy)
    if not value and old is not None:
        return legacy, old, None
    if value and type(old) is list and old:
        return key, value, (f"{legacy} (its name before OTLP 0.15) holds {len(old)} entr{'y' if len(old) == 1 else 'ies'} "
                            f"beside a non-empty {key}: not read, as the OpenTelemetry Collector does not read it")
    return key, value, None


def other_signal(value: Any, reader: str) -> str | None:
    """The known shape of ``value`` when it is log records or metric points that another of tracekit's readers reads
    (``reader``: "traces", "metrics" or "logs", the one asking), else None.

    >>> other_signal({"level": "info", "msg": "charged"}, "traces")
    'a JSON log record (a message and a level, time or trace id, which tk.read_logs reads)'
    >>> other_signal({"level": "info", "msg": "charged"}, "logs") is None, other_signal({"x": 1}, "metrics") is None
    (True, True)
    """
    shape = known_shape(value)
    if shape is None:
        return None
    if (shape in _LOGS_SHAPES and reader != "logs") or (shape in _METRICS_SHAPES and reader != "metrics"):
        return shape
    return None


def known_shape(value: Any) -> str | None:
    """The name of a well-known JSON shape that is not a trace format tracekit reads, for the
    error that refuses it; None when not recognised.

    >>> known_shape({"data": [{"traceID": "a", "spans": []}]})
    'Jaeger UI / query API JSON ({"data": [{"traceID", "spans", "processes"}]})'
    >>> known_shape({"level": "info", "msg": "charged", "trace_id": "5759e988bd862e3fe1be46a994272793"})
    'a JSON log record (a message and a level, time or trace id, which tk.read_logs reads)'
    >>> known_shape({"log": "GET / 200", "stream": "stdout", "time": "2023-11-14T22:13:20Z"})  # Docker's json-file
    'a JSON log record (a message and a level, time or trace id, which tk.read_logs reads)'
    >>> known_shape({"TraceSummaries": []}), known_shape({"x": 1})
    ('X-Ray GetTraceSummaries response (trace summaries, not segments: fetch the traces with BatchGetTraces)', None)
    """
    if type(value) is list:
        return known_shape(value[0]) if value and type(value[0]) is dict and "traceId" in value[0] \
            and "localEndpoint" in value[0] else None
    if type(value) is not dict:
        return None
    data = value.get("data")
    if type(data) is list and data and type(data[0]) is dict and "traceID" in data[0]:
        return 'Jaeger UI / query API JSON ({"data": [{"traceID", "spans", "processes"}]})'
    if "traceID" in value and "spans" in value:
        return 'a Jaeger UI trace ({"traceID", "spans", "processes"})'
    if "traceId" in value and "id" in value and ("localEndpoint" in value or "timestamp" in value):
        return "a Zipkin v2 span ({traceId, id, timestamp, duration, localEndpoint})"
    if "TraceSummaries" in value:
        return "X-Ray GetTraceSummaries response (trace summaries, not segments: fetch the traces with BatchGetTraces)"
    if "TraceSegmentDocuments" in value:
        return ('an X-Ray PutTraceSegments body ({"TraceSegmentDocuments": [segment documents]}: trace data, which '
                "tk.read_xray and tk.read read)")
    if "SamplingRuleRecords" in value or "SamplingTargetDocuments" in value:
        return "X-Ray sampling rules/targets (not trace data)"
    if "resourceMetrics" in value or "resourceLogs" in value:
        return "OTLP metrics or logs (not trace data)"
    events = value.get("events")
    if type(events) is list and events and type(events[0]) is dict and "timestamp" in events[0] \
            and "message" in events[0]:
        return "CloudWatch Logs events (filter-log-events / get-log-events output: log records, which tk.read_logs reads)"
    if "logEvents" in value or (type(value.get("awslogs")) is dict and "data" in value["awslogs"]):
        return "a CloudWatch Logs subscription payload (log records, which tk.read_logs reads)"
    if "MetricDataResults" in value or ("Datapoints" in value and "Label" in value):
        return ("CloudWatch metrics (get-metric-data / get-metric-statistics output: metric points, which "
                "tk.read_metrics reads)")
    if is_log_record(value):
        return _LOG_RECORD
    if type(value.get("results")) is list and "status" in value and "statistics" in value:
        return ("CloudWatch Logs Insights query results (rows of {field, value}, not log events: get the events with "
                "aws logs filter-log-events or tk.fetch_logs, or build a frame with tk.logs_from_columns)")
    return None


def is_pathlike(x: Any) -> bool:
    """Whether a source is a path: a path object, or a string that is not JSON text (JSON starts, after white space
    and a byte-order mark, with ``{`` or ``[``: the text of a file written with a BOM, as ``open(p).read()`` gives it,
    was taken for a path, "OSError: [Errno 36] File name too long").

    >>> is_pathlike("traces/a.json"), is_pathlike(' {"a": 1}'), is_pathlike('\ufeff{"a": 1}')
    (True, False, False)
    """
    if isinstance(x, os.PathLike):
        return True
    return isinstance(x, str) and (not _json_text(x) or _existing(x))


def _json_text(x: str) -> bool:
    return x.lstrip().lstrip("\ufeff").lstrip().startswith(("{", "["))


def _existing(x: str) -> bool:
    """Whether the text ``x`` (that starts like JSON) names a file or directory that exists: an existing path wins
    (``{run-1}.json``, ``[2024]/traces``: read as the path, not parsed as JSON text). Only short text is looked up
    (a path is at most 4,096 bytes; a JSON document given as text is not stat'ed)."""
    if len(x) > 4096 or "\n" in x:
        return False
    try:
        return os.path.exists(x)
    except (OSError, ValueError):
        return False


def mixed_list_error(source: Any) -> ArgumentError | None:
    """The error for a list (or tuple) that mixes paths and parsed JSON (``["a.json", {"resourceSpans": …}]``), None
    for any other source: each reader reads a list of paths or a list of parsed values, and read the path of such a
    mix as a document ("Document is not valid JSON", "got '/tmp/a.json'"). A path here is a path object or text naming
    a file that exists (a string in a list of parsed X-Ray Documents that is not JSON stays a bad Document); parsed
    JSON is a dict, a list, or JSON text.

    >>> str(mixed_list_error([Path("a.json"), {"resourceSpans": []}]))
    'a list mixing paths (item 0) and parsed JSON (item 1, a JSON object): give a list of paths, or parsed JSON, not both (read each and pd.concat them)'
    """
    if not isinstance(source, (list, tuple)) or len(source) < 2:
        return None
    path = parsed = None
    for i, x in enumerate(source):
        if isinstance(x, str):
            if _json_text(x):
                parsed = i if parsed is None else parsed
            elif path is None and _existing(x):
                path = i
        elif isinstance(x, os.PathLike):
            path = i if path is None else path
        elif isinstance(x, (dict, list, tuple)):
            parsed = i if parsed is None else parsed
        if path is not None and parsed is not None:
            x = source[parsed]
            what = "JSON text" if isinstance(x, str) else f"a JSON {json_kind(x)}" if not isinstance(x, tuple) \
                else "a JSON array"
            return ArgumentError(f"a list mixing paths (item {path}) and parsed JSON (item {parsed}, {what}): give a "
                                 "list of paths, or parsed JSON, not both (read each and pd.concat them)")
    return None


#: how far into a ``.txt`` file (after gzip) :func:`_looks_like_json` looks past blank space for its first character
_TXT_LOOK = 16 * 2**20


def _looks_like_json(p: Path) -> bool:
    """A ``.txt`` file is trace data only if it starts with ``{`` or ``[`` as a reader sees it: after gzip, a byte-order
    mark, UTF-16/32 (:func:`_text_encoding`) and blank space (up to :data:`_TXT_LOOK` bytes of it): ``LICENSE.txt`` or
    ``notes.txt`` beside the traces are not read. It looked at the raw first 4,096 bytes, so a .txt of traces that
    is gzipped, has a BOM, is UTF-16 or starts with 5,000 blanks was passed over in a directory (5 of 6 such files)
    although each is read when given itself."""
    if not p.name.lower().endswith(".txt"):
        return True
    try:
        with open(p, "rb") as raw:
            gz = raw.read(2) == b"\x1f\x8b"
        with (gzip.open(p, "rb") if gz else open(p, "rb")) as f:
            seen, first = 0, True
            while seen < _TXT_LOOK:
                chunk = f.read(65536)
                if not chunk:
                    return False
                seen += len(chunk)
                if first:
                    first = False
                    enc, skip = _text_encoding(chunk)
                    if enc is not None:
                        return chunk[skip:].decode(enc, "ignore").lstrip("\ufeff \t\r\n")[:1] in ("{", "[")
                    chunk = chunk.removeprefix(_BOM)
                rest = chunk.lstrip(b" \t\r\n")
                if rest:
                    return rest[:1] in (b"{", b"[")
    except (OSError, EOFError, zlib.error):
        return True  # let the reader report it
    return False


#: how ``attrs["ignored"]`` names a file of a given directory that no reader reads (the start of its reason)
FILE_NOT_READ = "file not read"
_NAMES_READ = ".json, .jsonl, .ndjson, .txt or .gz"


@dataclass(frozen=True)
class Walk:
    """What :func:`walk` found in a directory: the files read, in order, and what was passed over, with why."""

    files: list[Path]
    not_read: list[tuple[Path, str]]  # (file or hidden folder, reason starting with FILE_NOT_READ)


#: the index file of a spans-store directory (:data:`tracekit.io.parquet.INDEX_FILE`)
STORE_INDEX = "_tracekit.json"


def is_store_directory(p: Path) -> bool:
    """Whether the directory ``p`` is a spans store (:func:`tracekit.io.parquet.is_store`): it holds the store's index
    file, or only ``.parquet`` files (besides hidden and ``_`` names)."""
    try:
        if (p / STORE_INDEX).is_file():
            return True
        names = [f for f in os.listdir(p) if not f.startswith((".", "_"))]
    except OSError:
        return False
    return bool(names) and all(f.endswith(".parquet") for f in names)


def walk(path: Path) -> Walk:
    """The one walk of a directory, shared by every reader, ``tk.dask``'s readers and the report's record of its
    inputs: files named .json, .jsonl, .ndjson, .gz, or .txt that starts like JSON, sorted, recursively; every other
    file is passed over *and named* with why (``README.md``, ``app.log``, a ``.DS_Store``, ``LICENSE.txt``), and so
    is a hidden folder (``.git/``, Jupyter's ``.ipynb_checkpoints/``, whose copies would read every span twice), once,
    without walking into it. Symbolic links to folders are not followed (as ``Path.rglob``).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     for name in ("a.jsonl", "README.md", ".DS_Store", ".git/HEAD", "sub/b.json.gz"):
    ...         (Path(d) / name).parent.mkdir(exist_ok=True)
    ...         _ = (Path(d) / name).write_text("{}")
    ...     w = walk(Path(d))
    ...     [p.relative_to(d).as_posix() for p in w.files], [(p.name, why[15:35]) for p, why in w.not_read]
    (['a.jsonl', 'sub/b.json.gz'], [('.DS_Store', 'a hidden file is not'), ('.git', 'a hidden folder is n'), ('README.md', 'in a directory only ')])
    """
    files: list[Path] = []
    not_read: list[tuple[Path, str]] = []
    for root, dirs, names in os.walk(path):
        r = Path(root)
        stores = set()
        for d in dirs:
            if d.startswith("."):
                not_read.append((r / d, f"{FILE_NOT_READ}: a hidden folder is not read in a directory (give its files "
                                        "to read them)"))
            elif is_store_directory(r / d):  # its index file is no trace file (an error before), its parts not JSON
                stores.add(d)
                not_read.append((r / d, f"{FILE_NOT_READ}: a spans store (tk.write_parquet, tracekit convert) is not "
                                        "read inside a directory (give the store itself to read it)"))
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in stores)
        for n in names:
            p = r / n
            if not p.is_file():  # a broken link, a FIFO, a socket: named, never passed over without a word
                not_read.append((p, f"{FILE_NOT_READ}: {_not_a_file(p)}"))
                continue
            if n.startswith("."):
                not_read.append((p, f"{FILE_NOT_READ}: a hidden file is not read in a directory (give this file "
                                    "itself to read it)"))
            elif not n.lower().endswith(_SUFFIXES):  # (any case, as cli's convert and the writers' .gz take it)
                not_read.append((p, f"{FILE_NOT_READ}: in a directory only files named {_NAMES_READ} are read "
                                    "(give this file itself to read it)"))
            elif not _looks_like_json(p):
                not_read.append((p, f"{FILE_NOT_READ}: a .txt file is read in a directory only when it starts like "
                                    "JSON ({ or [)"))
            else:
                files.append(p)
    return Walk(sorted(files), sorted(not_read))


def _not_a_file(p: Path) -> str:
    """Why a directory entry that is not a regular file is not read (a dangling link, a FIFO, …)."""
    import stat

    if p.is_symlink() and not p.exists():
        try:
            target = os.readlink(p)
        except OSError:  # pragma: no cover - raced away
            target = "?"
        return f"a symbolic link to {display_name(target)!r}, which does not exist: nothing to read"
    try:
        mode = p.stat().st_mode
    except OSError as exc:  # a link loop, no permission
        return f"cannot be opened ({exc.strerror or exc})"
    what = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
    return f"{what} is not read in a directory (give it itself to read it)"


def list_files(path: Path) -> list[Path]:
    """Files of a directory that look like trace files, sorted, recursively (:func:`walk`)."""
    return walk(path).files


def ignored_files(path: Path, every: bool = False) -> list[Path]:
    """Files of a directory that :func:`list_files` leaves out although their name matched: ``.txt``
    files that do not start like JSON (``LICENSE.txt``); with ``every``, everything :func:`walk` passed over
    (``app.log`` in a directory of logs, hidden files and folders). Not a directory: ``[]``.

    >>> ignored_files(Path("/nonexistent"))
    []
    """
    path = Path(path)
    if not path.is_dir():
        return []
    return [p for p, _why in walk(path).not_read
            if every or (p.name.lower().endswith(_SUFFIXES) and not p.name.startswith("."))]


def _directories(source: Any) -> list[Path]:
    if isinstance(source, (list, tuple)) and source and all(is_pathlike(x) for x in source):
        return [d for x in source for d in _directories(x)]
    if is_pathlike(source) and os.fspath(source).strip() and Path(source).is_dir():
        return [Path(source)]
    return []


def ignored_file_records(source: Any) -> list[SkippedRecord]:
    """The files of the directories in ``source`` (a directory, or a list of paths) that no reader reads
    (what :func:`walk` passed over), as ``attrs["ignored"]`` lists them: record ``None``, a reason
    starting with :data:`FILE_NOT_READ`. Every reader lists them (:func:`close_read`'s ``source``), and ``tk.dask``
    and the report name them from the same walk, so that no file of a directory is passed over without a word.
    Other sources: ``[]``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = (Path(d) / "a.jsonl").write_text("{}"), (Path(d) / "app.log").write_text("x")
    ...     [(Path(r.file).name, r.record, r.reason.startswith(FILE_NOT_READ)) for r in ignored_file_records(d)]
    [('app.log', None, True)]
    """
    return [SkippedRecord(display_name(p), None, why) for d in _directories(source) for p, why in walk(d).not_read]


def no_files_error(path: Path) -> TraceFormatError:
    """The error of a directory that holds no file a reader reads, naming the files it does hold."""
    other = ignored_files(path, every=True)
    held = (f" (it holds {len(other)} other file(s): " + ", ".join(p.name for p in other[:3])
            + (" …" if len(other) > 3 else "") + "; give a file itself to read it)") if other else ""
    return TraceFormatError(f"directory holds no file a reader reads (named .json, .jsonl, .ndjson or .gz, or .txt "
                            f"starting like JSON){held}", file=display_name(path))


#: a gzip file may decompress to at most ``max(GZIP_MIN_CAP, GZIP_RATIO_CAP x its compressed size)`` bytes:
#: trace JSON compresses 5-20x (the bundled datasets: 15x), gzip at most about 1,030x (a "gzip bomb");
#: set ``TRACEKIT_MAX_DECOMPRESSED_BYTES`` (bytes; ``0``: no cap) to choose another cap. The floor is what a
#: small file may hold whatever its ratio: 64 MiB, as the frame of the tiniest records costs ~70x their bytes
#: (``{"msg":"a"}`` lines: 750 bytes a row, so 64 MiB of them is 5.6 million rows and ~4 GiB; a 512 MiB floor let
#: a 390 KB file ask for 12 GiB)
GZIP_RATIO_CAP = 100
GZIP_MIN_CAP = 64 * 2**20
_CAP_ENV = "TRACEKIT_MAX_DECOMPRESSED_BYTES"
_CHUNK = 16 * 2**20
#: how a reader's skipped record says a gzip stream ended early (:func:`read_bytes`, :func:`close_read`)
TRUNCATED_GZIP = "gzip data is truncated or corrupt"
#: how a skipped line says a file ended in the middle of its last line (:func:`_json_lines`, :func:`close_read`)
TRUNCATED_FILE = "file is truncated"


def decompressed_cap(compressed: int) -> int | None:
    """Most bytes a gzip file of ``compressed`` bytes may decompress to (None: no cap).

    >>> decompressed_cap(1_000) == GZIP_MIN_CAP, decompressed_cap(10 * 2**20) // 2**20
    (True, 1000)
    """
    env = os.environ.get(_CAP_ENV, "").strip()
    if env:
        try:
            cap = int(float(env))
        except ValueError:
            raise TraceFormatError(f"{_CAP_ENV}={env!r} is not a number of bytes") from None
        return cap if cap > 0 else None
    return max(GZIP_MIN_CAP, GZIP_RATIO_CAP * compressed)


def path_bytes(path: Path) -> bytes:
    """The bytes of a file given by path. A character or block device (``/dev/zero``, ``/dev/urandom``: reading never
    ends) or a socket is refused, naming it; regular files and pipes (``/dev/stdin`` fed by a shell) are read.

    >>> path_bytes(Path("/dev/zero"))
    Traceback (most recent call last):
    ...
    tracekit.errors.TraceFormatError: /dev/zero: not a file of trace data: a character device (a device may never stop giving bytes, as /dev/zero does: give a regular file or a pipe)
    """
    what = _device(path.stat().st_mode, socket=True)
    if what is not None:
        raise _device_error(what, display_name(path))
    return path.read_bytes()


def _device(mode: int, socket: bool) -> str | None:
    """What a file of ``mode`` is when reading it may never end (a character or block device; a socket when
    ``socket``), else None."""
    import stat

    for test, what in ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode) and (socket or what != "a socket"):
            return what
    return None


def _device_error(what: str, name: str) -> TraceFormatError:
    # said of every device, /dev/null too: "reading it would not end" was true of /dev/zero only
    return TraceFormatError(f"not a file of trace data: {what} (a device may never stop giving bytes, as /dev/zero "
                            "does: give a regular file or a pipe)", file=name)


def object_bytes(obj: Any, name: str) -> bytes | str:
    """What a file object given as a source holds. A :class:`gzip.GzipFile` decompresses as it is read: it is read
    a chunk at a time up to :func:`decompressed_cap` of its compressed size (as a gzip file given by path), so a
    bomb handed over as ``gzip.open(...)`` is refused, not read into memory whole; so is one opened as text,
    ``gzip.open(..., "rt")`` (a text wrapper over a GzipFile: it was read whole, 200 MB of a 204 KB file, past the
    cap; its characters are counted, never more than its bytes).

    A closed file object is refused naming it (it gave a bare ``ValueError: I/O operation on closed file``), and so
    is one over a character or block device, as the same path is (:func:`path_bytes`): ``open("/dev/zero", "rb")``
    was read until memory ran out (a bare ``MemoryError``). Any other file object (a regular file, a pipe, a socket
    stream, ``io.BytesIO``) is read whole, as a path of a regular file or a pipe is: the only byte cap is the gzip
    one (:func:`decompressed_cap`), which bounds what a small input may grow to; a stream that never ends is not
    told from a long one (a named pipe given by path is read whole too)."""
    if getattr(obj, "closed", False) is True:
        raise ArgumentError(f"{name}: the file object is closed: give it open (read inside its `with` block) or give "
                            "the path")
    try:
        what = _device(os.fstat(obj.fileno()).st_mode, socket=False)
    except (OSError, AttributeError, ValueError, TypeError, io.UnsupportedOperation):
        what = None
    if what is not None:
        raise _device_error(what, name)
    gz = obj if isinstance(obj, gzip.GzipFile) else getattr(obj, "buffer", None) if isinstance(obj, io.TextIOBase) \
        else None
    if not isinstance(gz, gzip.GzipFile):
        return obj.read()
    size = None
    raw = getattr(gz, "fileobj", None)
    try:
        size = os.fstat(raw.fileno()).st_size if raw is not None else None
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        try:
            here = raw.tell()
            size = raw.seek(0, os.SEEK_END)
            raw.seek(here)
        except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
            size = None
    cap = decompressed_cap(size or 0)
    if cap is None:
        return obj.read()
    chunks: list = []
    total = 0
    while chunk := obj.read(min(_CHUNK_OBJ, cap + 1 - total)):
        chunks.append(chunk)
        total += len(chunk)
        if total > cap:
            raise TraceFormatError(
                f"the gzip file object decompresses to more than {_mib(cap)} (from "
                f"{_mib(size) if size else 'an unknown size'} compressed; the cap is max({_mib(GZIP_MIN_CAP)}, "
                f"{GZIP_RATIO_CAP}x the compressed size)): not read, as a decompression bomb would exhaust memory; set "
                f"{_CAP_ENV} (bytes, 0 for no cap) to read it anyway", file=name)
    return (b"" if gz is obj else "").join(chunks)


_CHUNK_OBJ = 16 * 2**20


def _mib(n: int) -> str:
    """A size in MiB, or in bytes below one MiB (a 200 KB gzip bomb was said to be "from 0 MiB compressed").

    >>> _mib(64 * 2**20), _mib(203_841)
    ('64 MiB', '203,841 bytes')
    """
    return f"{n / 2**20:,.0f} MiB" if n >= 2**20 else f"{n:,} bytes"


_BOMS = ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe", "utf-16-le"),
         (b"\xfe\xff", "utf-16-be"))


def _text_encoding(data: bytes) -> tuple[str | None, int]:
    """The UTF-16 or UTF-32 encoding of ``data`` and the length of its byte-order mark: by the mark, or without one by
    where the NULs of its first four bytes fall (RFC 4627: JSON starts with an ASCII character); ``(None, 0)`` for
    anything else (UTF-8, with or without its mark).

    >>> _text_encoding('{"a": 1}'.encode("utf-16")), _text_encoding('{}'.encode("utf-16-be")), _text_encoding(b"{}")
    (('utf-16-le', 2), ('utf-16-be', 0), (None, 0))
    """
    for bom, e in _BOMS:
        if data.startswith(bom):
            return e, len(bom)
    h = data[:4]
    if len(h) == 4 and 0 in h:
        nul = tuple(b == 0 for b in h)
        return {(True, True, True, False): "utf-32-be", (False, True, True, True): "utf-32-le",
                (True, False, True, False): "utf-16-be", (False, True, False, True): "utf-16-le"}.get(nul), 0
    return None, 0


def _utf8(data: bytes, name: str) -> bytes:
    """UTF-16 or UTF-32 text (by its byte-order mark, or without one by where the NULs of its first four
    bytes fall, as RFC 4627 detects it: JSON starts with an ASCII character) re-encoded as UTF-8; other
    data as it is, and so is data guessed (without a BOM) to be UTF-16 or UTF-32 that does not decode as such:
    NULs in a damaged first line. Windows PowerShell's ``>`` writes UTF-16 with a BOM."""
    enc, skip = _text_encoding(data)
    if enc is None:
        return data
    try:
        return data[skip:].decode(enc).encode("utf-8", "surrogatepass")
    except UnicodeDecodeError as exc:
        if not skip:  # no BOM: the guess from NULs was wrong (a damaged first line); read the bytes as they are,
            return data  # so each bad line is named and, with errors="skip", the others load
        raise TraceFormatError(f"file looks like {enc.upper()} text but is not valid {enc.upper()} "
                               f"(byte {exc.start + skip:,}: {exc.reason})", file=name) from None


def read_bytes(data: bytes, name: str, on_bad_line: OnBadLine = None) -> bytes:
    """Decompress gzip data (by magic number, every member); raise a clear error on a truncated stream or
    when it decompresses past :func:`decompressed_cap` (a gzip bomb: never more than the cap is held).
    UTF-16 and UTF-32 text is re-encoded as UTF-8 (:func:`_utf8`).

    ``on_bad_line`` (lenient readers): a truncated or corrupt stream is passed to it as a
    :class:`~tracekit.errors.TraceFormatError` (record ``"gzip stream"``, with the number of bytes read) and
    the bytes decompressed before the cut are returned, so the complete lines of a cut file load; the record the
    parser then gives for the incomplete end is folded into this one by :func:`close_read` (one record per cut).
    When nothing came before the cut (a corrupt file) the error is raised, for the reader to list as the file's
    one record (not a second one, "file is empty").

    >>> read_bytes(gzip_bytes(b'{"a": 1}'), "x.gz")
    b'{"a": 1}'
    >>> read_bytes('{"a": 1}'.encode("utf-16"), "ps.json")  # with its byte-order mark
    b'{"a": 1}'
    >>> cut = gzip_bytes(b"".join(b'{"a": %d}\\n' % i for i in range(1000)))[:-20]
    >>> seen = []
    >>> read_bytes(cut, "cut.jsonl.gz", seen.append).count(b"\\n") > 900, seen[0].record
    (True, 'gzip stream')
    """
    if data[:2] != b"\x1f\x8b":
        return _utf8(data, name)
    cap = decompressed_cap(len(data))
    out = bytearray()
    view = memoryview(data)
    pos = 0
    try:
        while True:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            chunk = d.decompress(view[pos:], _CHUNK)
            while True:  # a bounded chunk at a time: never more than the cap (+ one chunk) in memory
                out += chunk
                if cap is not None and len(out) > cap:
                    raise TraceFormatError(
                        f"gzip data decompresses to more than {_mib(cap)} (from {_mib(len(data))} compressed; the cap "
                        f"is max({_mib(GZIP_MIN_CAP)}, {GZIP_RATIO_CAP}x the compressed size)): not read, as a "
                        f"decompression bomb would exhaust memory; set {_CAP_ENV} (bytes, 0 for no cap) to read it "
                        "anyway", file=name)
                # at the end of a member, what follows it is in unused_data (and still in unconsumed_tail, where
                # the chunk filled at the member's end: decompressing that again returned nothing, forever — a
                # valid `cat a.gz b.gz` whose first part held more than a chunk hung every reader)
                if d.eof or not d.unconsumed_tail:
                    break
                chunk = d.decompress(d.unconsumed_tail, _CHUNK)
            if not d.eof:
                raise EOFError("compressed file ended before the end-of-stream marker was reached")
            rest = d.unused_data
            pos = len(data) - len(rest)
            if not rest.strip(b"\x00"):  # done (trailing NUL padding is allowed, as gzip does)
                break
            if rest[:2] != b"\x1f\x8b":
                raise OSError(f"{len(rest):,} bytes of trailing data after the gzip stream are not gzip")
    except (EOFError, OSError, zlib.error) as exc:
        if on_bad_line is None:
            raise TraceFormatError(f"{TRUNCATED_GZIP} ({exc})", file=name) from None
        if not _NON_SPACE.search(out):  # nothing before the cut: the file's one record (not a second, "file is empty")
            raise TraceFormatError(f"{TRUNCATED_GZIP} ({exc}): nothing before the cut "
                                   f"({len(out):,} bytes decompressed)", file=name) from None
        on_bad_line(TraceFormatError(f"{TRUNCATED_GZIP} ({exc}); the {len(out):,} bytes before the cut are read",
                                     file=name, record="gzip stream"))
    return _utf8(bytes(out), name)


def checked_path(source: Any) -> Path:
    """``source`` as a :class:`~pathlib.Path`; an empty or blank path is an error (``Path("")`` is the
    working directory, which would be read whole).

    >>> checked_path("")
    Traceback (most recent call last):
    ...
    tracekit.errors.ArgumentError: empty path: give a file or directory of traces (use "." for the working directory)
    """
    if not os.fspath(source).strip():
        raise ArgumentError('empty path: give a file or directory of traces (use "." for the working directory)')
    return Path(source)


_TOKEN = re.compile(r'[ \t\n\r]*+(?:(")|(-?+(?:0|[1-9][0-9]*+)(?:\.[0-9]++)?+(?:[eE][-+]?+[0-9]++)?+)'
                    r'|(true|false|null)|([{}\[\],:]))')
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*+"')
_LITERALS = {"true": True, "false": False, "null": None}
_AFTER_VALUE, _VALUE, _FIRST_VALUE, _KEY, _FIRST_KEY = range(5)


def _loads_deep(data: bytes | memoryview | str) -> Any:
    """Parse JSON of any depth with an explicit stack (orjson stops at 1,024 levels; tracekit's writers
    keep nested attribute values whole, so a value nested 3,000 deep is written and must read back).
    Linear: one token at a time, each regex possessive. Only used when orjson refuses the depth."""
    text = data if isinstance(data, str) else bytes(data).decode("utf-8")
    root: list = []
    stack: list[list] = [[root, None]]  # [container, key of the value being read (dicts)]
    state, pos = _VALUE, 0
    at = 0  # where the token being read starts (the place an error names)

    def bad(what: str) -> orjson.JSONDecodeError:  # orjson's error type, at the place the JSON is wrong
        return orjson.JSONDecodeError(f"{what}, in JSON nested more than 1,024 levels deep", text, at)

    while True:
        m = _TOKEN.match(text, pos)
        if m is None:
            rest = text[pos:].lstrip(" \t\n\r")
            at = len(text) - len(rest)
            raise bad("unexpected character" if rest else "unexpected end of data")
        quote, num, lit, punct = m.groups()
        at, pos = m.start(m.lastindex), m.end()
        top = stack[-1]
        if state in (_KEY, _FIRST_KEY):
            if quote:
                sm = _STRING.match(text, pos - 1)
                if sm is None:
                    raise bad("bad string")
                tok = sm.group(0)
                top[1] = json.loads(tok) if "\\" in tok else tok[1:-1]
                pos = sm.end()
                cm = _TOKEN.match(text, pos)
                if cm is None or cm.group(4) != ":":
                    at = cm.start(cm.lastindex) if cm else pos
                    raise bad("expected ':'")
                pos, state = cm.end(), _VALUE
                continue
            if punct == "}" and state == _FIRST_KEY:
                value = stack.pop()[0]
            else:
                raise bad("expected a key")
        elif state == _AFTER_VALUE:
            container = top[0]
            if punct == ",":
                state = _KEY if type(container) is dict else _VALUE
                continue
            if (punct == "}" and type(container) is dict) or (punct == "]" and type(container) is list and container is not root):
                value = stack.pop()[0]
            else:
                raise bad("expected ',' or a closing bracket")
        else:  # a value
            if quote:
                sm = _STRING.match(text, pos - 1)
                if sm is None:
                    raise bad("bad string")
                tok = sm.group(0)
                value = json.loads(tok) if "\\" in tok else tok[1:-1]
                pos = sm.end()
            elif num:
                value = json.loads(num)
            elif lit:
                value = _LITERALS[lit]
            elif punct == "{":
                stack.append([{}, None])
                state = _FIRST_KEY
                continue
            elif punct == "[":
                stack.append([[], None])
                state = _FIRST_VALUE
                continue
            elif punct == "]" and state == _FIRST_VALUE:
                value = stack.pop()[0]
            else:
                raise bad("expected a value")
        # one value complete: put it in its container
        container, key = stack[-1]
        if container is root:
            if text[pos:].strip(" \t\n\r"):
                raise bad(_GLUED)  # orjson's words: objects glued one after another are read by glued_objects
            return value
        if type(container) is dict:
            container[key] = value
        else:
            container.append(value)
        state = _AFTER_VALUE


#: every digit made ``0`` (``bytes.translate``), to find runs of digits with one substring search
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_WIDE, _WIDE_NEG = b"0" * 20, b"-" + b"0" * 19
_BEFORE_NUMBER = frozenset(b":[,")  # what precedes a JSON number (after white space): a key's colon, a list
_JSON_SPACE = frozenset(b" \t\r\n")


#: the first byte that is not "0" (a digit, after ``_DIGITS_TO_ZERO``)
_NOT_ZERO = re.compile(rb"[^0]")


def may_hold_wide_int(data: bytes | memoryview | str) -> bool:
    """True when JSON text may hold an integer beyond ``-2**63 .. 2**64 - 1`` (20 digits or more, or a minus
    and 19), which ``orjson.loads`` returns as a float (``2**70 + 1`` read as ``1.1805916207174113e+21``: the
    value changed, silently). False says no such integer is there; True only that one may be. A run of digits
    counts only where a JSON number can start (after ``:``, ``[``, ``,`` or at the start, white space
    between), so 20 decimal digits inside a hex id (``"1-5759e988-00000000000000000000ab12"``) or after a
    decimal point do not; one ``translate`` and substring searches (no regex: ``re`` was 3-7x the parse).

    >>> may_hold_wide_int(b'{"n": 18446744073709551615}'), may_hold_wide_int(b'{"n": 18446744073709551616}')
    (True, True)
    >>> may_hold_wide_int(b'{"n": 9223372036854775807, "id": "a00000000000000000000000"}')
    False
    >>> may_hold_wide_int('{"n": [1, -9223372036854775809]}')
    True
    """
    b = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    t = b.translate(_DIGITS_TO_ZERO)
    for pat in (_WIDE, _WIDE_NEG):
        pos = t.find(pat)
        while pos >= 0:
            start, stop = pos, pos + len(pat)
            while pat is _WIDE and start > 0 and t[start - 1] == 48:  # "0": the start of the run (a "-" starts its own)
                start -= 1
            if start > 0 and t[start - 1] == 45 and pat is _WIDE:  # "-"
                start -= 1
            while start > 0 and t[start - 1] in _JSON_SPACE:
                start -= 1
            if start == 0 or t[start - 1] in _BEFORE_NUMBER:
                return True
            past = _NOT_ZERO.search(t, stop)  # past this run (in C: a Python loop took 5.5 s over 30 MB of digits)
            pos = t.find(pat, past.start() if past else len(t))
    return False


def exact_ints(data: bytes | memoryview | str, value: Any) -> Any:
    """``value`` (``loads(data)``) with its integers exact: when ``data`` may hold an integer orjson read as a
    float (:func:`may_hold_wide_int`), the text is parsed again by msgspec, which keeps integers of any size as
    Python ints and is otherwise the same JSON (same strings, floats, key order, last of duplicate keys); else
    ``value`` as it is. The fallbacks of :func:`loads` (deep nesting, ``NaN``, lone surrogates) parse numbers
    with Python's json, exact already: when msgspec refuses the text, ``value`` is kept.

    >>> exact_ints(b'[1180591620717411303425]', loads(b'[1180591620717411303425]'))
    [1180591620717411303425]
    """
    if not may_hold_wide_int(data):
        return value
    import msgspec

    try:
        return msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError):
        return value


#: the key a dict parsed by :func:`marked_duplicates` gets when one of the counted keys appeared in it twice (or more)
#: with different values: ``{key: [every value, in order]}``. A reader that finds it in a span (or link, segment…)
#: refuses that record, naming the key (:func:`duplicate_reason`); NUL-led, so no JSON key of a trace format is it
DUPLICATE_KEYS = "\x00duplicate keys"
#: a JSON escape of an ASCII letter (``"trace\u0049d"`` is the key ``traceId``): no writer escapes letters, but a key so
#: spelt is not seen by a count of its bytes, so a text holding one is checked exactly
_ESCAPED_LETTER = re.compile(rb"\\u00[4-7][0-9a-fA-F]")
_ESCAPED_LETTER_TEXT = re.compile(r"\\u00[4-7][0-9a-fA-F]")


def key_patterns(keys: tuple[str, ...], text: bool = False) -> tuple[bytes, ...] | tuple[str, ...]:
    """What each of ``keys`` is as a key in JSON text: its word quoted (``"traceId"``), without the colon, so a key
    written with white space before its colon (``"traceId" :``, which JSON allows) is counted too: counted with the
    colon it was not, and it cancelled a key given twice elsewhere in the text. A string value that is the key's word
    (``"key": "traceId"``) is counted as well (the text is then parsed again exactly: slower, never wrong); one that
    holds it inside escaped quotes is not. ``text=True``: as ``str``, to count in JSON text held as a ``str`` (an
    X-Ray segment ``Document``).

    >>> key_patterns(("traceId",)), key_patterns(("id",), text=True)
    ((b'"traceId"',), ('"id"',))
    """
    if text:
        return tuple(f'"{k}"' for k in keys)
    return tuple(b'"' + k.encode() + b'"' for k in keys)


def key_counts(data: bytes | memoryview | str, patterns: tuple[bytes, ...] | tuple[str, ...], start: int = 0,
               stop: int | None = None) -> list[int] | None:
    """How often each of ``patterns`` (:func:`key_patterns`, or a suffix several keys share: ``Id":``) occurs in
    ``data[start:stop]``: one substring count each. For a key's quoted word (:func:`key_patterns`), never fewer
    than its occurrences as a key, so equal to the objects holding it unless an object holds it twice or a string
    value is the word (then more). A pattern with the colon (``Id":``, the OTLP fast path's) misses a key written
    with white space before its colon (JSON allows it, no writer does it). None when the text holds a JSON escape of
    an ASCII letter (``"trace\\u0049d"`` is the key ``traceId``, not seen by a count; no writer escapes letters):
    counts cannot say. ``data`` a ``str``: ``patterns`` too (``key_patterns(keys, text=True)``).

    >>> key_counts(b'{"a": 1, "b": {"a": "a", "c": "\\\\"a\\\\":"}}', key_patterns(("a", "b")))
    [3, 1]
    """
    if isinstance(data, str):
        stop = len(data) if stop is None else stop
        if data.find("\\", start, stop) >= 0 and _ESCAPED_LETTER_TEXT.search(data, start, stop) is not None:
            return None
        return [data.count(p, start, stop) for p in patterns]
    b = data if isinstance(data, bytes) else bytes(data)
    stop = len(b) if stop is None else stop
    # (a lone backslash first: memchr, 10x faster than looking for the escape itself, and most text has none)
    if b.find(b"\\", start, stop) >= 0 and _ESCAPED_LETTER.search(b, start, stop) is not None:
        return None
    return [b.count(p, start, stop) for p in patterns]


def may_repeat_keys(counts: list[int] | None, present: list[int]) -> bool:
    """False when no object can hold one of the counted keys twice: each key's quoted count in the text
    (``counts``, :func:`key_counts`) equals the number of parsed objects holding it (``present``). True says only
    that one may (a string value that is a key's word makes a count larger). The exact answer is
    :func:`marked_duplicates`' (a parse 3x orjson's), asked only when this says True.

    >>> text = b'{"id": "1", "n": [{"id": "2"}, {"id": "3", "id": "4"}]}'
    >>> p = key_patterns(("id",))
    >>> may_repeat_keys(key_counts(text, p), [3]), may_repeat_keys(key_counts(b'{"\\\\u0069d": 1}', p), [1])
    (True, True)
    """
    return counts is None or counts != present


#: a key written with white space before its colon (``"traceId" :``: JSON allows it, no writer does it); inside a
#: string a quote is escaped, so a match there is a false alarm (a key check then asks for the exact parse)
_SPACED_KEY = re.compile(rb'"[ \t\r\n]+:')


def keys_repeat(counts: list[int] | None, present: list[int], data: bytes | memoryview, start: int = 0,
                stop: int | None = None, *, words: tuple[bytes, ...]) -> bool:
    """False when no object of ``data[start:stop]`` can hold a key of ``words`` twice (a key's ending up to its
    closing quote: ``Id"`` for ``traceId``, ``spanId``…, or a whole quoted key ``"name"``). ``counts``:
    ``key_counts(data, words, start, stop)``, taken by the caller (before it lets the text go); ``present``: the
    parsed objects holding each. Those counts take every key (with or without white space before its colon) and
    also a string value that ends with the word (an attribute key ``"userId"``): equal to ``present``, no object
    holds a key twice. Larger, the text is looked at again: when no key has white space before its colon, each
    word followed by its colon occurs only as a key (a quote inside a string is escaped), so those counts are the
    keys exactly; otherwise True (the caller parses the text exactly: slower, never wrong). The fast paths
    counted only the word and its colon: a key with white space before its colon in one object was not counted
    and cancelled a key given twice in another.

    >>> w = (b'Id"',)
    >>> two = b'{"a": [{"traceId": "1", "traceId": "2"}, {"traceId" : "3"}]}'
    >>> keys_repeat(key_counts(two, w), [2], two, words=w)
    True
    >>> value_ends_so = b'{"a": [{"traceId": "1", "key": "userId"}, {"traceId": "3"}]}'
    >>> keys_repeat(key_counts(value_ends_so, w), [2], value_ends_so, words=w)
    False
    """
    if not may_repeat_keys(counts, present):
        return False
    b = data if isinstance(data, bytes) else bytes(data)
    stop = len(b) if stop is None else stop
    if _SPACED_KEY.search(b, start, stop) is not None:
        return True
    return may_repeat_keys(key_counts(b, tuple(w + b":" for w in words), start, stop), present)


#: a colon written as an escape in a string (``\u003a``): a colon of the decoded string, none in the text
_ESCAPED_COLON = re.compile(rb"\\u003[aA]")


def escaped_colon(text: bytes | memoryview, start: int = 0, stop: int | None = None) -> bool:
    """Whether ``text[start:stop]`` (bytes) may write a colon as an escape (a backslash looked for first: memchr).

    >>> escaped_colon(b'{"a": "x\\\\u003ay"}'), escaped_colon(b'{"a": "x:y"}')
    (True, False)
    """
    b = text if isinstance(text, bytes) else bytes(text)
    stop = len(b) if stop is None else stop
    return b.find(b"\\", start, stop) >= 0 and _ESCAPED_COLON.search(b, start, stop) is not None


def text_colons(chunks: Iterable[Any]) -> tuple[int, bool]:
    """(colons, whether a colon may be written as an escape) of the JSON texts ``chunks`` (bytes or memoryviews):
    the first term of :func:`colons_repeat_keys`.

    >>> text_colons([b'{"a": 1, "b": "x:y"}', b'{"c": "\\\\u003a"}'])
    (4, True)
    """
    colons, escaped = 0, False
    for c in chunks:
        colons += int(np.count_nonzero(np.frombuffer(c, np.uint8) == 58))  # (faster than bytes.count: 15 vs 23 ms on 70 MB)
        escaped = escaped or escaped_colon(c)
    return colons, escaped


def raw_colons(raw: Any) -> int:
    """The colons of a raw JSON text (``msgspec.Raw``, bytes; None: none): its keys and the colons of its strings,
    as written.

    >>> raw_colons(b'[{"key": "a", "value": {"stringValue": "b:c"}}]'), raw_colons(None)
    (4, 0)
    """
    return 0 if raw is None else memoryview(raw).tobytes().count(b":")


def colons_repeat_keys(text: tuple[int, bool], keys: int, strs: int) -> bool:
    """Whether some object of a JSON text may hold a key twice, from its colons: every key is followed by exactly one
    colon and a colon appears elsewhere only inside a string, so the text's colons (``text``, :func:`text_colons`)
    equal the keys the decoded objects hold (``keys``: a typed decoder keeps one value of a key given twice, so one
    key fewer; with the colons of texts kept raw, :func:`raw_colons`) plus the colons of the decoded strings
    (``strs``). Unless the text may write a colon as an escape (``\\u003a``: a colon of a decoded string, none in the
    text): then the text's colons must equal the keys alone. Any other difference says only that one may (a reader
    then parses the text exactly: slower, never wrong). The readers of OTLP metrics and logs count so on their fast
    paths; a count of every colon costs one memchr-like pass, where a count of each key's word costs one substring
    search a word.

    >>> colons_repeat_keys(text_colons([b'{"a": 1, "a": 2, "b": "x:y"}']), keys=2, strs=1)
    True
    >>> colons_repeat_keys(text_colons([b'{"a": 1, "b": "x:y"}']), keys=2, strs=1)
    False
    """
    return text[0] != keys + (0 if text[1] else strs)


def keys_present(value: Any, keys: tuple[str, ...]) -> list[int]:
    """How many objects (dicts) anywhere in parsed JSON ``value`` hold each of ``keys`` (an explicit stack: any
    depth).

    >>> keys_present({"id": 1, "n": [{"id": 2}, {"x": {"id": 3}}]}, ("id", "x"))
    [3, 1]
    """
    n = [0] * len(keys)
    stack = [value]
    pop, push = stack.pop, stack.extend
    while stack:
        v = pop()
        if type(v) is dict:
            for i, k in enumerate(keys):
                if k in v:
                    n[i] += 1
            push([x for x in v.values() if type(x) is dict or type(x) is list])
        elif type(v) is list:
            push([x for x in v if type(x) is dict or type(x) is list])
    return n


#: the objects of a parsed document a reader checks for :data:`DUPLICATE_KEYS` (spans, links, segments…)
Records = Callable[[Any], Iterable[dict]]


def marked_duplicates(data: bytes | memoryview | str, value: Any, keys: tuple[str, ...],
                      records: Records | None = None) -> Any:
    """``data`` parsed again (Python's json, every object's pairs seen), each object where one of ``keys`` appears
    more than once with different values marked with :data:`DUPLICATE_KEYS` (otherwise the same value as ``value``,
    ``loads(data)``: the last of repeated keys, as orjson and every JSON parser keep it); ``value`` itself when no
    object is marked (the look changes no value: an integer beyond 64 bits stays what the reader's own parse made
    of it). A key repeated with one
    value is not marked: nothing is lost. ``value`` itself when Python's json cannot parse the text (nesting deeper
    than its recursion limit): unchecked, as before. ``records``: the objects the reader checks; a mark on any other
    object (a free-form value: X-Ray metadata, an unknown AnyValue shape) is taken off, so it never reaches the data.

    >>> marked_duplicates(b'{"id": "a", "id": "b", "n": [{"id": "c", "id": "c"}]}', None, ("id",))
    {'id': 'b', 'n': [{'id': 'c'}], '\\x00duplicate keys': {'id': ['a', 'b']}}
    """
    wanted = frozenset(keys)
    marked: list[dict] = []

    def hook(pairs: list[tuple[str, Any]]) -> dict:
        d = dict(pairs)
        if len(d) == len(pairs):
            return d
        seen: dict[str, list] = {}
        for k, v in pairs:
            if k in wanted:
                seen.setdefault(k, []).append(v)
        dup = {k: vs for k, vs in seen.items() if len(vs) > 1 and any(x != vs[0] or type(x) is not type(vs[0])
                                                                          for x in vs)}
        if dup:
            d[DUPLICATE_KEYS] = dup
            marked.append(d)
        return d

    text = data if isinstance(data, str) else bytes(data).decode("utf-8", "surrogatepass")
    try:
        parsed = json.loads(text, object_pairs_hook=hook)
    except (ValueError, RecursionError):
        return value
    if marked and records is not None:
        checked = {id(r) for r in records(parsed) if type(r) is dict}
        for d in marked:
            if id(d) not in checked:
                del d[DUPLICATE_KEYS]
        marked = [d for d in marked if DUPLICATE_KEYS in d]
    # nothing marked: ``value`` as it was parsed (the look changes no value: an integer beyond 64 bits stays what
    # the reader's own parse made of it)
    return parsed if marked or value is None else value


class MarkedKeys(tuple):
    """The keys :func:`unique_keys` marks in an object that gives one twice with different values, and ``counted``,
    those counted in the text to decide whether to look at all. A key whose repeat loses a counted key with its
    first value need not be counted itself: a list of spans given twice loses their ``traceId`` s, a lost list of
    (sub)segments their ``id`` s; each count is a pass over the text (~3% of a read).

    >>> k = MarkedKeys(("id", "spans"), counted=("id",))
    >>> k, k.counted
    (('id', 'spans'), ('id',))
    """

    counted: tuple[str, ...]

    def __new__(cls, keys: Iterable[str], counted: Iterable[str]) -> MarkedKeys:
        made = super().__new__(cls, tuple(dict.fromkeys(keys)))
        made.counted = tuple(k for k in dict.fromkeys(counted) if k in made)
        return made

    def __add__(self, other: tuple) -> MarkedKeys:  # (the union of two readers' keys)
        return MarkedKeys(tuple(self) + tuple(other), self.counted + tuple(getattr(other, "counted", other)))

    def __reduce__(self) -> tuple:
        return MarkedKeys, (tuple(self), self.counted)


@functools.lru_cache(maxsize=64)
def _key_patterns(keys: tuple[str, ...], text: bool) -> dict[str, bytes | str]:
    """Each of ``keys`` → its :func:`key_patterns` (made once per tuple of keys, not per document: per JSON line
    they cost more than the counts)."""
    return dict(zip(keys, key_patterns(keys, text), strict=True))


def unique_keys(data: bytes | memoryview | str, value: Any, keys: tuple[str, ...],
                records: Records | None = None) -> Any:
    """``value`` (``loads(data)``), or, when an object of it may hold one of ``keys`` twice (:func:`may_repeat_keys`
    on :func:`keys_present`), the text parsed again with those of ``records`` marked (:func:`marked_duplicates`).
    ``records`` given, only they are counted (a walk of every object of an OTLP document doubled the checked read):
    a key of the same name elsewhere makes the counts differ, so that document is parsed again: slower, never
    wrong; a document holding no record (a JSON log line that is not OTLP) is not looked at. Only the keys some
    record holds are counted in the text (a key no record holds is not held twice either): a JSON log line holds a
    few of read_logs' ~40 identity keys.

    >>> unique_keys(b'{"msg": "a", "msg": "b"}', {"msg": "b"}, ("msg", "time"), lambda v: [v])
    {'msg': 'b', '\\x00duplicate keys': {'msg': ['a', 'b']}}
    >>> unique_keys(b'{"msg": "a", "time": 1}', {"msg": "a", "time": 1}, ("msg", "time"), lambda v: [v])
    {'msg': 'a', 'time': 1}
    """
    counted = getattr(keys, "counted", keys)  # (MarkedKeys: only these counted, all marked)
    patterns = _key_patterns(counted, isinstance(data, str))
    if records is None:
        present = dict(zip(counted, keys_present(value, counted), strict=True))
    else:
        present = {}
        some = False
        get = present.get
        for r in records(value):
            some = True
            for k in r:  # (a record's keys: fewer than the identity keys of a reader reading several shapes)
                if k in patterns:
                    present[k] = get(k, 0) + 1
        if not some:  # no record to refuse (a mark anywhere else is taken off): nothing to look for
            return value
    held = [k for k, n in present.items() if n]
    if not held:
        return value
    if not may_repeat_keys(key_counts(data, tuple(patterns[k] for k in held)), [present[k] for k in held]):
        return value
    return marked_duplicates(data, value, keys, records)


def duplicate_reason(marks: dict[str, list]) -> str:
    """The words of a record refused for a key given twice with different values (``marks``: the record's
    :data:`DUPLICATE_KEYS` entry).

    >>> duplicate_reason({"traceId": ["a", "b"]})
    "key 'traceId' is given 2 times with different values ('a', 'b'): JSON parsers keep only the last"
    """
    k, vs = next(iter(marks.items()))
    shown = ", ".join(short(v) for v in vs[:3]) + (", …" if len(vs) > 3 else "")
    return f"key {k!r} is given {len(vs)} times with different values ({shown}): JSON parsers keep only the last"


def loads(data: bytes | memoryview | str) -> Any:
    """``orjson.loads``, and JSON nested past orjson's 1,024 levels parsed by :func:`_loads_deep`, and JSON
    holding Python's ``NaN`` / ``Infinity`` by :func:`_loads_non_finite` (any other error is orjson's).

    JSON nested that deep is data like any other (tracekit's writers keep nested attribute values whole), so
    an error past orjson's depth is the deep parser's: what is wrong and where, as an ``orjson.JSONDecodeError``,
    never orjson's "depth limit exceeded" (which no reader reports: it said "not trace data" from read_logs).

    >>> loads(b'{"asDouble": NaN, "max": Infinity}')
    {'asDouble': nan, 'max': inf}

    >>> v = loads(b"[" * 2000 + b"1" + b"]" * 2000)
    >>> for _ in range(1999):
    ...     v = v[0]
    >>> v
    [1]
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if "surrogate in string" in str(exc):
            value = _loads_lone_surrogates(data)
            if value is _NOT_JSON:
                raise
            return value
        if "depth limit exceeded" not in str(exc):
            # a number too large for a double (1e999: JSON's grammar allows it, orjson refuses the whole text) is
            # read as Python's json reads it, infinite, so only its record's check can refuse it (errors="skip"
            # lost the whole file for one attribute)
            if not (exc.doc and exc.doc.startswith(_NON_FINITE, exc.pos)) and "number is infinity" not in str(exc):
                raise
            value = _loads_non_finite(data)
            if value is _NOT_JSON:
                raise
            return value
    try:
        return _loads_deep(data)
    except UnicodeDecodeError as exc:  # _json_reason says where, from the bytes
        raise orjson.JSONDecodeError(f"str is not valid UTF-8 ({exc.reason})", "", 0) from None


#: what Python's json.dumps writes for a float that is not finite (allow_nan=True, its default); not JSON
_NON_FINITE = ("NaN", "Infinity", "-Infinity")


def _loads_lone_surrogates(data: bytes | memoryview | str) -> Any:
    r"""JSON text holding a lone-surrogate escape (``"\ud83d"``: what ``JSON.stringify`` writes for a string cut
    inside an emoji, e.g. by an SDK's attribute length limit; RFC 8259 §8.2 allows it in the grammar), which orjson
    refuses: parsed by Python's json and each lone surrogate replaced by U+FFFD, with one warning, as
    :func:`sanitised` does for parsed JSON (one rule for both); ``_NOT_JSON`` when it is not JSON even so.
    Only after orjson stopped at such an escape: the fast path is orjson's, unchanged.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     v = loads(b'{"msg": "cut \\ud83d"}')
    >>> v, len(w)
    ({'msg': 'cut �'}, 1)
    """
    try:
        value = json.loads(bytes(data) if isinstance(data, memoryview) else data)
    except (ValueError, RecursionError):
        return _NOT_JSON
    return _surrogates_replaced(value, "of the JSON text hold lone-surrogate escapes such as \\ud83d (not valid "
                                "Unicode: a string cut inside an emoji)", 5)


def _loads_non_finite(data: bytes | memoryview | str) -> Any:
    """JSON holding ``NaN`` / ``Infinity`` / ``-Infinity`` as Python's ``json.dumps`` writes them (a metric's
    value, a latency), or a number past a double's range (``1e999``): parsed by Python's json, which reads them as
    the floats they stand for (``1e999``: infinity), so the record is
    read rather than refused (each reader then checks the field as any number: a NaN time is still a bad time);
    ``_NOT_JSON`` when it is not JSON even so. Only after orjson stopped at such a token: the fast path is orjson's."""
    try:
        return json.loads(bytes(data) if isinstance(data, memoryview) else data)
    except (ValueError, RecursionError):
        return _NOT_JSON


#: up to the next bracket outside a JSON string (a string, with its escapes, skipped whole); a cut string ends it
_BRACKETS = re.compile(rb'(?:[^"\[\]{}]++|"(?:[^"\\]++|\\.)*+")*+([\[\]{}])', re.S)
_CLOSE = {0x7B: b"}", 0x5B: b"]"}


#: where a cut document is closed (:func:`truncated_prefix`): the lists of records, each under the keys it may be
#: found under (None: the top of a document, or an element of a top-level list of documents). An object whose key
#: open at the cut is one of these holds records that are whole before the cut (its keys before that list are whole
#: too: OTLP writes a resource before its scopes, a scope before its records; a BatchGetTraces Trace its Id before its
#: Segments, and each Document holds its trace_id), so it is kept, closed early; any other object the cut is inside
#: (a span, a segment Document, a log record, a point, a resource, a scope) is a record, or part of one, that the
#: cut ends: it is left out whole
_RECORD_LISTS: dict[bytes, frozenset] = {k: frozenset(v) for k, v in {
    b"resourceSpans": {None}, b"batches": {None},
    b"scopeSpans": {b"resourceSpans", b"batches"}, b"instrumentationLibrarySpans": {b"resourceSpans", b"batches"},
    b"spans": {b"scopeSpans", b"instrumentationLibrarySpans"},
    b"resourceLogs": {None}, b"scopeLogs": {b"resourceLogs"}, b"instrumentationLibraryLogs": {b"resourceLogs"},
    b"logRecords": {b"scopeLogs", b"instrumentationLibraryLogs"},
    b"resourceMetrics": {None}, b"scopeMetrics": {b"resourceMetrics"},
    b"instrumentationLibraryMetrics": {b"resourceMetrics"}, b"metrics": {b"scopeMetrics", b"instrumentationLibraryMetrics"},
    b"gauge": {b"metrics"}, b"summary": {b"metrics"}, b"sum": {b"metrics"}, b"histogram": {b"metrics"},
    b"exponentialHistogram": {b"metrics"},
    b"dataPoints": {b"gauge", b"summary", b"sum", b"histogram", b"exponentialHistogram"},
    b"Traces": {None}, b"Segments": {None, b"Traces"},
    b"events": {None}, b"logEvents": {None}, b"Datapoints": {None}, b"MetricDataResults": {None},
    b"subsegments": {None, b"subsegments"},
}.items()}
#: metric kinds whose ``aggregationTemporality`` protobuf writes after the points: their points are kept only when the
#: file gives it before them (a cut sum without it would read as "unspecified", not as what it is)
_TEMPORAL = frozenset((b"sum", b"histogram", b"exponentialHistogram"))
#: X-Ray segments and subsegments are records that hold records: one cut in its subsegments is kept (closed early)
#: only when the file gave its end (``end_time`` or ``in_progress``) before them, as the writers do (the X-Ray SDKs,
#: the collector's test data: times, fault/error/cause, http, aws, then subsegments); otherwise it is left out whole
_TIMED = (b'"end_time"', b'"in_progress"')
#: up to the next comma outside a JSON string (a string skipped whole; a cut string ends it)
_COMMA = re.compile(rb'(?:[^",]++|"(?:[^"\\]++|\\.)*+")*+,', re.S)


def _key_before(data: bytes, at: int) -> bytes | None:
    """The key of the object member whose value starts at ``at`` (a bracket), looked for in the 80 bytes before it;
    None when it is not a plain key that short (no key of :data:`_RECORD_LISTS` is)."""
    head = data[max(0, at - 80):at].rstrip()
    if not head.endswith(b":"):
        return None
    head = head[:-1].rstrip()
    if not head.endswith(b'"'):
        return None
    q = head.rfind(b'"', 0, len(head) - 1)
    key = head[q + 1:-1]
    return key if q >= 0 and b"\\" not in key else None


def _record_list(data: bytes, key: bytes | None, under: Any, obj: int, at: int) -> bool:
    """Whether the member ``key`` of the object at ``obj`` (its value opening at ``at``), found under ``under``, is a list
    of records (or an object on the way to one) of :data:`_RECORD_LISTS`."""
    if key is None or under not in _RECORD_LISTS.get(key, ()):
        return False
    if key == b"subsegments":
        return any(t in data[obj:at] for t in _TIMED)
    return not (key == b"dataPoints" and under in _TEMPORAL and b'"aggregationTemporality"' not in data[obj:at])


def _last_element(data: bytes, start: int, stop: int) -> tuple[int, int]:
    """The end of the last element of an array, before its comma, in ``data[start:stop]`` (what follows the array's
    last whole container element, or its ``[``: scalars, commas), or -1 when no comma is there; and how many commas."""
    match, pos, comma, n = _COMMA.match, start, -1, 0
    while (m := match(data, pos, stop)) is not None:
        pos = m.end()
        comma, n = pos - 1, n + 1
    return comma, n


def truncated_prefix(data: bytes) -> tuple[bytes, int] | None:
    """A JSON document cut before its end (a truncated file) made whole again from what it holds complete:
    ``(text, at)``, the text up to ``at`` (the end of the last complete record before the cut) with the brackets
    still open closed; None when no record before the cut is complete.

    Every open list of records (:data:`_RECORD_LISTS`: OTLP resources, scopes, spans, log records, metrics and
    points, BatchGetTraces traces and segments, CloudWatch events and points; any list at the top, and the outermost
    list of a document of another shape) is closed at its last complete element, the innermost included, and the
    objects holding them are closed: they lack only their keys after the cut. The record the cut ends is left out
    whole (a span cut in its attributes is not loaded as if complete), and so is a resource or scope the cut ends,
    with what it holds (a resource without its attributes would name its spans' service wrongly). A list of scalars
    (a list of segment Document strings) is closed at its last complete element too. One pass over the text, then
    one look at each level open at the cut: linear in the size of the text.

    >>> truncated_prefix(b'{"spans": [{"id": 1}, {"id": 2}, {"id": 3, "tags": [1, 2')
    (b'{"spans": [{"id": 1}, {"id": 2}]}', 31)
    >>> truncated_prefix(b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"a": 1}, {"a": 2}, {"a"')[0]
    b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"a": 1}, {"a": 2}]}]}]}'
    >>> truncated_prefix(b'{"spans": [{"id": "a]"') is None
    True
    """
    cut = _truncated_cut(data)
    return None if cut is None else cut[:2]


def _truncated_cut(data: bytes) -> tuple[bytes, int, str] | None:
    """:func:`truncated_prefix`, and where the data stops (``"resourceSpans[1].scopeSpans[0].spans[199]"``)."""
    # [opening byte, its place, end of its last complete container element, place of that element, elements closed]
    stack: list[list] = []
    match, pos = _BRACKETS.match, 0
    while (m := match(data, pos)) is not None:  # (each match where the last ended: never from inside a string)
        pos = m.end()
        at = m.start(1)
        c = data[at]
        if c == 0x7B or c == 0x5B:
            stack.append([c, at, -1, -1, 0])
        elif stack:
            child = stack.pop()
            if stack:
                parent = stack[-1]
                parent[2], parent[3] = pos, child[1]
                parent[4] += 1
        else:
            return None  # a closing bracket with none open: not a cut document
    best: tuple[int, int] | None = None  # (end of the kept text, depth of the innermost level kept open)
    under: Any = None  # the key the level is found under (None: the top)
    seen_list = False
    path = ""
    for i, (c, at, last, last_at, n) in enumerate(stack):
        nxt = stack[i + 1][1] if i + 1 < len(stack) else None
        if c == 0x5B:
            comma, commas = _last_element(data, max(last, at + 1), len(data) if nxt is None else nxt)
            end = max(last, comma)
            if end > 0:
                best = (end, i)
            # the element the data stops in (or before): after n containers and the scalars after them
            path += f"[{n + max(commas - 1, 0) if last > 0 else commas}]"
            if nxt is None:
                break
            seen_list = True  # (below a list, an object is kept open only on the way to a list of records)
            continue
        key = _key_before(data, nxt) if nxt is not None else None
        if nxt is not None and (not seen_list or _record_list(data, key, under, at, nxt)):
            under = key
            path += ("." if path else "") + (key or b"?").decode("utf-8", "replace")
            continue
        if nxt is not None and key is not None:
            path += ("." if path else "") + key.decode("utf-8", "replace")
        elif last > 0 and nxt is None and _record_list(data, _key_before(data, last_at), under, at, last_at):
            best = (last, i)  # cut among this object's keys, after a whole list of records: kept, closed
        break
    if best is None:
        return None
    end, depth = best
    closing = b"".join(_CLOSE[o[0]] for o in reversed(stack[:depth + 1]))
    return data[:end] + closing, end, path


def parse_json(data: bytes, name: str, on_bad_line: OnBadLine = None, *, glued: bool = True,
               exact: bool = False, keys: tuple[str, ...] = (), records: Records | None = None
               ) -> Iterator[Document]:
    """Parse one JSON value, or JSON lines when the whole is not one value, or JSON objects one after another.

    ``on_bad_line``: when given, a JSON-lines line that is not JSON is passed to it (as a
    TraceFormatError) and skipped instead of raised (lenient readers).

    Objects glued together (:func:`glued_objects`) are each read: on one line of JSON lines (``cat`` of files
    without a final newline), each numbered by that line; a file that is neither one value nor JSON lines
    (pretty-printed documents one after another), each by the line it starts on. ``glued=False``: such a file
    raises as before (read_logs numbers its objects itself, by place). ``exact=True``: integers beyond 64 bits
    kept exact (:func:`exact_ints`) in the one value, in each line and in each glued object. ``keys``: objects of
    the one value, of a line or of a glued object that hold one of these keys twice with different values are
    marked (:func:`unique_keys`, :data:`DUPLICATE_KEYS`; ``records``: the objects the reader checks) for the reader
    to refuse.

    >>> [(d.value, d.line) for d in parse_json(b'{"a": 1}\\n{"a": 2}{"a": 3}\\n', "x.jsonl")]
    [({'a': 1}, 1), ({'a': 2}, 2), ({'a': 3}, 2)]
    >>> [(d.value, d.line) for d in parse_json(b'{\\n "a": 1\\n}\\n{\\n "a": 2\\n}\\n', "jq.json")]
    [({'a': 1}, 1), ({'a': 2}, 4)]
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not _NON_SPACE.search(data):  # (not data.strip(): that copied the whole file)
        raise TraceFormatError("file is empty", file=name)
    hook = _TEXT_HOOK.get()
    if hook is not None:
        hook(data)
    exact = exact and may_hold_wide_int(data)  # one look at the whole text; each line only when it may hold one
    # JSON lines when the first line alone is a complete value and more follows it. Checked
    # first so that a big JSON-lines file is not parsed as one value (orjson's error would carry
    # a str copy of the whole file) and its lines are parsed from memoryview slices (no copies).
    # the first line with content (blank lines before it are allowed in JSON lines)
    lead = _NON_SPACE.search(data)
    top = data.rfind(b"\n", 0, lead.start()) + 1 if lead else 0
    line0 = data.count(b"\n", 0, top) + 1 if top else 1
    nl = data.find(b"\n", top)
    first: Any = _NOT_JSON
    if nl >= 0 and _NON_SPACE.search(data, nl + 1) and lead and lead.group() in (b"{", b"["):
        try:
            first = loads(memoryview(data)[top:nl])
        except orjson.JSONDecodeError:
            pass
        else:
            if exact:
                first = exact_ints(memoryview(data)[top:nl], first)
            if keys:
                first = unique_keys(data[top:nl], first, keys, records)
    if first is _NOT_JSON:
        reason, is_glued = None, False
        try:
            value = loads(data)
        except orjson.JSONDecodeError as whole_err:
            reason = _json_reason(whole_err, data)  # keep no reference to the error (it holds the text)
            is_glued = _GLUED in str(whole_err)
        if reason is None:
            value = exact_ints(data, value) if exact else value
            yield Document(unique_keys(data, value, keys, records) if keys else value, name, None)
            return
        # an archive is no JSON lines: a stored ZIP or a tar holds its files' lines as they are (90 of 110 spans were
        # read); a gzip member before JSON lines is a bad first line like any binary blob (its lines are read)
        if other_container(data) is not None and not data.startswith(b"\x1f\x8b"):
            raise TraceFormatError(reason, file=name) from None
        if nl >= 0 and lead and (on_bad_line is not None or not reason.startswith(TRUNCATED_FILE)) \
                and _later_lines_are_json(data, nl):
            # JSON lines whose first line is bad: most of the next lines are JSON values on their
            # own (the lines of a pretty-printed value are not): report or skip the bad line(s) and
            # read the others. `{"a": [` + one object line ends early like a truncated single value:
            # strict mode says "truncated"; lenient mode reads the lines it can (more data, not less)
            yield from _json_lines(data, name, _NOT_JSON, top - 1, on_bad_line, line0 - 1, keys=keys, records=records)
            return
        objects = glued_objects(data, name, on_bad_line, exact=exact, keys=keys, records=records) \
            if is_glued and glued else None
        if objects is not None:  # documents one after another (pretty-printed, or glued on one line)
            yield from objects
            return
        cut = _truncated_cut(data) if on_bad_line is not None and reason.startswith(TRUNCATED_FILE) else None
        if cut is not None:
            text, at, path = cut
            try:
                value = loads(text)
            except orjson.JSONDecodeError:  # not JSON before the cut either: the file's one error
                cut = None
        if cut is not None:  # lenient: the records before the cut are loaded, the cut is flagged (attrs["truncated"])
            on_bad_line(TraceFormatError(f"{reason}; the data stops inside {path or 'the document'} (char {len(data)}):"
                                         f" the records complete before char {at} are loaded (what the file holds "
                                         "after the cut is not: the record the cut ends and the keys after it in the "
                                         "objects enclosing them)", file=name))
            value = exact_ints(text, value) if exact else value
            yield Document(unique_keys(text, value, keys, records) if keys else value, name, None)
            return
        raise TraceFormatError(reason, file=name) from None
    yield from _json_lines(data, name, first, nl, on_bad_line, line0, exact, keys, records)


# ---------------------------------------------------------------------------------------------
# JSON objects one after another: `cat a.json b.json` of files without a final newline glues two documents on one
# line (`{…}{…}`); `jq . a.json b.json` prints them pretty-printed one after another; a Kinesis Data Firehose S3 object
# is the gzip'd CloudWatch Logs payloads one after another with no separator. Every object is complete and valid: each
# is read (by every reader), never the line or the file dropped. Tried only after the fast parse of the line or the
# file failed with orjson's "unexpected content after document", so the fast paths cost what they did.

#: where the next object may start: a closing brace, white space, an opening brace and a key's quote (or ``}``: an empty
#: object) — a candidate: the `}{"` may be inside a string (a message's text; JSON in a message has its quotes escaped),
#: so the slice before it is parsed to know
_GAP = re.compile(rb'\}[ \t\r\n]*+\{[ \t\r\n]*+["}]')
#: everything up to the next run of braces outside a JSON string (a string, with its escapes, skipped whole)
_BRACES = re.compile(rb'(?:[^"{}]++|"(?:[^"\\]++|\\.)*+")*+(\{++|\}++)', re.S)
#: candidates tried for one object before its braces are counted (a message text holding `}{` makes a false one)
_CANDIDATES = 4
#: orjson's error when a complete value is followed by more than white space
_GLUED = "unexpected content after document"


def _object_end(data: bytes, start: int, stop: int) -> int | None:
    """Where the object starting at ``data[start]`` (``{``) ends, by its braces outside strings (one regex match
    per run of braces); None when ``data[:stop]`` ends first (a cut file)."""
    depth, pos, match = 0, start, _BRACES.match
    while True:
        m = match(data, pos, stop)
        if m is None:
            return None
        s, e = m.span(1)
        if data[s] == 0x7B:
            depth += e - s
        elif e - s >= depth:
            return s + depth
        else:
            depth -= e - s
        pos = e


def _one_object(data: bytes, start: int, stop: int) -> tuple[int | None, Any, str | None]:
    """(end, value, what is wrong) of the object at ``start``; end None: ``data[:stop]`` ends inside it. The slice up
    to each `}{` candidate is parsed (a parse that succeeds ends exactly there: a JSON value's end is fixed by its
    start), at most :data:`_CANDIDATES` of them; then the braces decide."""
    view, pos = memoryview(data), start
    for _ in range(_CANDIDATES):
        m = _GAP.search(data, pos, stop)
        if m is None:
            break
        try:
            return m.start() + 1, orjson.loads(view[start:m.start() + 1]), None
        except orjson.JSONDecodeError:
            pos = m.start() + 1
    end = _object_end(data, start, stop)
    if end is None:
        return None, None, None
    try:
        return end, loads(view[start:end]), None
    except orjson.JSONDecodeError as exc:
        return end, None, f"not valid JSON ({exc})"
    except RecursionError:  # pragma: no cover - loads is iterative past orjson's depth
        return end, None, "JSON nested too deep"


def glued_objects(data: bytes, name: str, on_bad_line: OnBadLine, *, start: int = 0, stop: int | None = None,
                  line: int | None = None, last: bool = True, by: str = "line", exact: bool = False,
                  keys: tuple[str, ...] = (), records: Records | None = None) -> Iterator[Document] | None:
    """The documents of ``data[start:stop]`` when it is JSON objects one after another (``{…}{…}``, or with white
    space between); None when it is not (its first object is the whole of it or is cut, or something other than an
    object follows it): the caller reports what it would have.

    Numbered as the caller reads them: ``line`` given (one line of JSON lines), every object is that line's (an error
    says which object of the line); else ``by="line"``: each object by the line it starts on; ``by="object"``: by its
    place, from 1 (read_logs' Firehose objects, all on one line). ``last``: the slice ends the file (a cut last
    object is then a truncated file, :data:`TRUNCATED_FILE`). ``exact``, ``keys``, ``records``: each object as
    :func:`parse_json` reads one value (integers beyond 64 bits exact; a key given twice marked).

    >>> [(d.value, d.line) for d in glued_objects(b'{"a": 1}{"a": 2}\\n{"a": 3}', "x.json", None)]
    [({'a': 1}, 1), ({'a': 2}, 1), ({'a': 3}, 2)]
    >>> glued_objects(b'{"a": 1} 42', "x.json", None) is None
    True
    """
    stop = len(data) if stop is None else stop
    lead = _NON_SPACE.search(data, start, stop)
    if lead is None or data[lead.start()] != 0x7B:
        return None
    first = _one_object(data, lead.start(), stop)
    nxt = _NON_SPACE.search(data, first[0], stop) if first[0] is not None else None
    if nxt is None or data[nxt.start()] != 0x7B:
        return None
    return _objects(data, name, on_bad_line, lead.start(), stop, first, line, last, by, exact, keys, records)


def _objects(data: bytes, name: str, on_bad: OnBadLine, start: int, stop: int, first: tuple, line: int | None,
             last: bool, by: str, exact: bool = False, keys: tuple[str, ...] = (),
             records: Records | None = None) -> Iterator[Document]:
    k, (end, value, wrong) = 1, first
    at_line, counted = 1, 0  # by="line": the line of `start` (newlines counted once, as the objects go)

    def where() -> tuple[int, str]:
        nonlocal at_line, counted
        if line is not None:
            return line, f"line {line}"
        if by == "object":
            return k, f"object {k}"
        at_line += data.count(b"\n", counted, start)
        counted = start
        return at_line, f"line {at_line}"

    of_line = " of the line" if line is not None else ""
    while True:
        n, record = where()
        this = "this object" if by == "object" and line is None else f"object {k}{of_line}"  # (the record says which)
        if end is None:
            why = (f"{TRUNCATED_FILE}: the data stops inside {this} (from byte {start:,}), the last of the file") \
                if last else f"line is not valid JSON: {this} (from byte {start:,}) is cut"
        elif wrong is not None:
            why = ("" if this == "this object" else f"{this}, ") + f"bytes {start:,}-{end:,}: {wrong}"
        else:
            why = None
            if exact or keys:
                text = memoryview(data)[start:end]
                if exact:
                    value = exact_ints(text, value)
                if keys:
                    value = unique_keys(text, value, keys, records)
                del text
            yield Document(value, name, n)
        value = None
        if why is not None:
            err = TraceFormatError(why, file=name, record=record)
            if on_bad is None:
                raise err
            on_bad(err)
            if end is None:
                return
        nxt = _NON_SPACE.search(data, end, stop)
        if nxt is None:
            return
        start, k = nxt.start(), k + 1
        if data[start] != 0x7B:
            n, record = where()
            err = TraceFormatError(f"after object {k - 1}{of_line} comes {bytes(data[start:min(start + 12, stop)])!r} "
                                   f"(byte {start:,}), not a JSON object: the rest of the "
                                   f"{'line' if line is not None else 'file'} is not read", file=name, record=record)
            if on_bad is None:
                raise err
            on_bad(err)
            return
        end, value, wrong = _one_object(data, start, stop)


_SAMPLE_LINES = 10
_BINARY = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _later_lines_are_json(data: bytes, nl: int) -> bool:
    """Whether the file after its first line looks like JSON lines: of the next (up to 10)
    non-blank lines, at least one and at least half are a JSON object or array on their own.
    A pretty-printed value has few such lines (``{}``, ``[]``); JSON lines have almost only those.
    Binary lines (control bytes: a gzip member or other blob pasted into the file, whose bytes hold
    newlines of their own) are no line of a pretty-printed value: they are not counted.
    Bounded work: at most 10 lines are parsed."""
    pos, seen, ok = nl + 1, 0, 0
    view = memoryview(data)
    while pos < len(data) and seen < _SAMPLE_LINES:
        nxt = data.find(b"\n", pos)
        stop = len(data) if nxt < 0 else nxt
        if _NON_SPACE.search(data, pos, stop):
            try:
                ok += type(orjson.loads(view[pos:stop])) in (dict, list)
                seen += 1
            except orjson.JSONDecodeError:
                seen += not _BINARY.search(data, pos, stop)
        pos = stop + 1
    return ok > 0 and 2 * ok >= seen


_NOT_JSON = object()
_NON_SPACE = re.compile(rb"\S")
_BOM = b"\xef\xbb\xbf"


def _json_lines(data: bytes, name: str, first: Any, nl: int, on_bad_line: OnBadLine,
                line: int = 1, exact: bool = False, keys: tuple[str, ...] = (), records: Records | None = None
                ) -> Iterator[Document]:
    """The documents of JSON lines after offset ``nl``; ``first`` (the already parsed line ``line``,
    or _NOT_JSON) before them."""
    if first is not _NOT_JSON:
        yield Document(first, name, line)
    view = memoryview(data)
    end = len(data)
    pos, i = nl + 1, line
    while pos < end:
        i += 1
        nxt = data.find(b"\n", pos)
        stop = end if nxt < 0 else nxt
        if _NON_SPACE.search(data, pos, stop):
            try:
                value = loads(view[pos:stop])
            except orjson.JSONDecodeError as first_exc:
                exc = first_exc
                if data.startswith(_BOM, pos):  # a BOM on a later line (`cat` of files written with BOMs): as on line 1
                    try:
                        value = loads(view[pos + 3:stop])
                    except orjson.JSONDecodeError as exc2:
                        exc = exc2
                    else:
                        yield Document(unique_keys(view[pos + 3:stop], value, keys, records) if keys else value, name, i)
                        pos = stop + 1
                        continue
                last = nxt < 0 or not _NON_SPACE.search(data, nxt + 1)
                at_end = last and not data.rstrip(b" \t\r").endswith(b"\n")  # the file ends inside this line
                objects = glued_objects(data, name, on_bad_line, start=pos, stop=stop, line=i, last=at_end, exact=exact,
                                        keys=keys, records=records) if _GLUED in str(exc) else None
                # truncated: the file ends inside this line and its JSON ends early (a complete line that is bad,
                # garbage or not, is "not valid JSON", wherever it is)
                doc = (exc.doc or "").rstrip()
                truncated = at_end and doc.lstrip("\ufeff \t")[:1] in ("{", "[") and exc.pos >= len(doc) - 1
                if objects is not None:  # objects glued on one line (`cat` of files without a final newline)
                    del exc
                    yield from objects
                    pos = stop + 1
                    continue
                what = f"{TRUNCATED_FILE}: last line is incomplete JSON" if truncated else "line is not valid JSON"
                msg = f"{what} ({exc})"
                if _BINARY.search(data, pos, stop):  # orjson says "str is not valid UTF-8: surrogates…"
                    msg = f"line is binary data, not JSON text (starts with {bytes(view[pos:min(stop, pos + 12)])!r})"
                elif "not valid UTF-8" in msg and (why := _not_utf8(view[pos:stop], pos)) is not None:
                    msg = f"line is not valid JSON: {why}"  # (a Latin-1 byte: not "surrogates" at "column 1")
                del exc
                if on_bad_line is None:
                    raise TraceFormatError(msg, file=name, record=f"line {i}") from None
                on_bad_line(TraceFormatError(msg, file=name, record=f"line {i}"))
            else:
                if exact:
                    value = exact_ints(view[pos:stop], value)
                yield Document(unique_keys(view[pos:stop], value, keys, records) if keys else value, name, i)
        pos = stop + 1


#: (magic bytes, what they open) of files handed to a reader that are not JSON: archives and other compressions
#: read as text gave "not UTF-8 text ... a Latin-1 file needs re-encoding" (a ZIP) or "file starts with
#: b'././@PaxHeader'" (a .tar.gz), which sent the user to iconv
_OTHER_CONTAINERS = ((b"PK\x03\x04", "a ZIP archive"), (b"PK\x05\x06", "a ZIP archive (empty)"),
                     (b"BZh", "bzip2-compressed data"), (b"\xfd7zXZ\x00", "xz-compressed data"),
                     (b"\x28\xb5\x2f\xfd", "zstd-compressed data"), (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
                     (b"PAR1", "a Parquet file"))


def other_container(data: bytes) -> str | None:
    """What ``data`` (a file's bytes, after gzip) is when it is an archive or compressed data no reader opens, as the
    reason a reader gives for it; else None.

    >>> other_container(b"PK\\x03\\x04" + bytes(30))
    'not JSON: a ZIP archive; the readers take JSON, JSON lines and gzip (.gz): extract its files and give them (or their directory)'
    >>> other_container(b'{"a": 1}') is None
    True
    """
    what = next((w for magic, w in _OTHER_CONTAINERS if data.startswith(magic)), None)
    if what is None and len(data) >= 262 and data[257:262] == b"ustar":
        what = "a tar archive"
    if what is None and data.startswith(b"\x1f\x8b"):  # what is left after one gzip layer is read (read_bytes)
        return ("not JSON: gzip data inside gzip data (compressed twice); the readers decompress one layer: "
                "decompress it once first (gunzip)")  # (was: "not UTF-8 text ... needs re-encoding, e.g. iconv")
    if what is None:
        return None
    if what == "a Parquet file":
        return ("not JSON: a Parquet file; a spans store written by tk.write_parquet is opened by tk.read or "
                "tk.read_parquet")
    how = "decompress it first" if what.endswith("compressed data") else \
        "extract its files and give them (or their directory)"
    return f"not JSON: {what}; the readers take JSON, JSON lines and gzip (.gz): {how}"


def _not_utf8(data: bytes | memoryview, offset: int = 0) -> str | None:
    """What is wrong with ``data`` when it is not UTF-8 text (None when it is): the first byte that is not, counted
    from the start of the file (``offset``: where ``data`` starts in it), and what to do. One wording for a file and
    for a line of JSON lines (orjson says "str is not valid UTF-8: surrogates not allowed" at "column 1 (char 0)" of
    a line holding a Latin-1 ``é``: neither is so).

    >>> _not_utf8(b'{"a": "caf\\xe9"}', offset=100)
    "not UTF-8 text (JSON must be UTF-8): byte 110 is b'\\\\xe9' (invalid continuation byte); a Latin-1 file needs re-encoding, e.g. iconv -f latin1 -t utf-8"
    """
    b = data if isinstance(data, bytes) else bytes(data)
    try:
        b.decode("utf-8")
    except UnicodeDecodeError as exc:
        return (f"not UTF-8 text (JSON must be UTF-8): byte {offset + exc.start:,} is {b[exc.start:exc.start + 1]!r} "
                f"({exc.reason}); a Latin-1 file needs re-encoding, e.g. iconv -f latin1 -t utf-8")
    return None


def _json_reason(err: orjson.JSONDecodeError, data: bytes) -> str:
    other = other_container(data)
    if other is not None:
        return other
    framed = _framing(data[:5])
    if framed is not None:  # before UTF-8: a length's bytes are not text ("byte 3 is b'\xbb'" said nothing of it)
        return framed
    msg = str(err)
    if "not valid UTF-8" in msg:
        why = _not_utf8(data)
        if why is not None:
            return f"not valid JSON: {why}"
    stripped = data.rstrip()
    if "content after document" in msg and stripped[:1] in (b"{", b"["):
        # a whole document then more (a trailing NUL padding, a second document): not a truncated file
        return (f"not valid JSON ({err}): a whole JSON document, then more from byte {err.pos:,}: "
                f"{bytes(data[err.pos:err.pos + 20])!r}")
    if stripped[:1] in (b"{", b"[") and err.pos >= len(stripped) - 1:
        return f"{TRUNCATED_FILE}: JSON ends early ({err})"
    if stripped[:1] not in (b"{", b"["):
        return _not_a_document(bytes(data[:4096]))
    return f"not valid JSON ({err})"


def _not_a_document(head: bytes) -> str:
    r"""Why a file that does not start with ``{`` or ``[`` is not read, from its first bytes ``head``: a JSON value
    that is not an object (``null`` lines, a number), a length-prefixed binary framing (a 4-byte big-endian length,
    then JSON: what a collector writes with a protobuf or zstd encoding), or not JSON at all.

    >>> _not_a_document(b"null\nnull\n")
    'JSON, but not an object: the first line is null; each document or line must be an object'
    >>> _not_a_document(len(b'{"a": 1}').to_bytes(4, "big") + b'{"a": 1}')
    'a length-prefixed binary framing (a 4-byte length, 8, then JSON), not JSON text: export with the JSON encoding'
    """
    line = head.lstrip().split(b"\n", 1)[0].strip()
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        value = ...
    if value is not ... and not isinstance(value, (dict, list)):
        return (f"JSON, but not an object: the first line is {bytes(line[:40]).decode('utf-8', 'replace')}; each "
                "document or line must be an object")
    return _framing(head) or f"not JSON: file starts with {head[:20]!r}"


def _framing(head: bytes | memoryview) -> str | None:
    """What is wrong with a file starting ``head`` when it is a length-prefixed binary framing of JSON (a 4-byte
    big-endian length, then ``{`` or ``[``), else None."""
    head = bytes(head[:5])
    if len(head) == 5 and head[4:5] in (b"{", b"[") and int.from_bytes(head[:4], "big") > 1:
        return (f"a length-prefixed binary framing (a 4-byte length, {int.from_bytes(head[:4], 'big'):,}, then JSON), "
                "not JSON text: export with the JSON encoding")
    return None


def iter_documents(source: Source, on_bad_line: OnBadLine = None, *, exact: bool = False,
                   keys: tuple[str, ...] = (), records: Records | None = None) -> Iterator[Document]:
    """Yield every parsed JSON document of ``source`` (``on_bad_line``, ``exact``, ``keys``, ``records``: see :func:`parse_json`).

    >>> [d.value for d in iter_documents(b'{"a": 1}\\n{"a": 2}\\n')]
    [{'a': 1}, {'a': 2}]
    >>> [d.line for d in iter_documents(b'{"a": 1}\\n{"a": 2}\\n')]
    [1, 2]
    """
    if isinstance(source, (dict,)):
        yield Document(sanitised(source), OBJECT, None)
    elif isinstance(source, (list, tuple)):
        mixed = mixed_list_error(source)
        if mixed is not None:
            raise mixed
        if source and all(is_pathlike(x) for x in source):
            for p in source:
                yield from iter_documents(p, on_bad_line, exact=exact, keys=keys, records=records)
        else:
            yield Document(sanitised(list(source)), OBJECT, None)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        yield from parse_json(read_bytes(bytes(source), OBJECT, on_bad_line), OBJECT, on_bad_line, exact=exact, keys=keys, records=records)
    elif isinstance(source, str) and not is_pathlike(source):
        yield from parse_json(text_bytes(source), OBJECT, on_bad_line, exact=exact, keys=keys, records=records)
    elif is_pathlike(source):
        path = checked_path(source)
        if path.is_dir():
            files = list_files(path)
            if not files:
                raise no_files_error(path)
            for f in files:
                yield from iter_documents(f, on_bad_line, exact=exact, keys=keys, records=records)
        elif path.exists():
            name = display_name(path)
            yield from parse_json(read_bytes(path_bytes(path), name, on_bad_line), name, on_bad_line, exact=exact, keys=keys, records=records)
        else:
            raise FileNotFoundError(f"no such file or directory: {display_name(path)!r}")
    elif hasattr(source, "read"):
        name = getattr(source, "name", OBJECT)
        name = display_name(name) if isinstance(name, (str, os.PathLike)) else OBJECT
        data = object_bytes(source, name)
        if isinstance(data, str):
            data = text_bytes(data)
        yield from parse_json(read_bytes(data, name, on_bad_line), name, on_bad_line, exact=exact, keys=keys, records=records)
    else:
        raise source_error(source)


def source_error(source: Any) -> ArgumentError:
    """The error for a ``source`` no reader takes (``None``, a number, a generator…): what was given and what
    is accepted; one rule for every reader (traces, logs, metrics), which all split sources here.

    >>> str(source_error(None))
    'cannot read from None (type NoneType): give a path (str or os.PathLike), a list of paths, a directory, a file object, bytes, a JSON text or parsed JSON (a dict or a list)'
    """
    hint = "; an iterator or generator: give list(...) of it" if hasattr(source, "__next__") else ""
    return ArgumentError(f"cannot read from {_SHORT.repr(source)} (type {type(source).__name__}): give a path (str or "
                         "os.PathLike), a list of paths, a directory, a file object, bytes, a JSON text or parsed JSON "
                         f"(a dict or a list){hint}")


def gzip_bytes(data: bytes) -> bytes:  # small helper for tests and writers
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as f:
        f.write(data)
    return buf.getvalue()


def warn_page(file: str, token: str, what: str, reader: str, *, stacklevel: int = 2) -> None:
    """One :class:`~tracekit.errors.TraceFormatWarning`: ``file`` is one page of a paginated AWS output (it
    holds ``token``), the pages after it are not read. The reader also sets ``attrs["truncated"]``.
    ``stacklevel``: the caller's, as for :func:`warnings.warn` (2: the caller's caller, the reader's user)."""
    warnings.warn(f"{reader}: {file} is one page of a paginated output ({token}): the {what} of the pages after it "
                  "are not in it (the AWS CLI follows the pages unless --max-items or --no-paginate is given)",
                  TraceFormatWarning, stacklevel=stacklevel + 1)


def one_record_per_cut(skipped: Any) -> list[SkippedRecord]:
    """``skipped`` with each cut gzip stream said once: the parser's "file is truncated" record of a file whose
    gzip stream was cut (the same cut, seen in the decompressed bytes) folded into the gzip record, which then
    also says where the data stops.

    >>> one_record_per_cut([SkippedRecord("a.gz", "gzip stream", TRUNCATED_GZIP + " (x)"),
    ...                     SkippedRecord("a.gz", "line 9", TRUNCATED_FILE + ": last line is incomplete JSON")])
    [SkippedRecord(file='a.gz', record='gzip stream', reason='gzip data is truncated or corrupt (x); where the data stops: line 9: last line is incomplete JSON')]
    """
    out: list[SkippedRecord] = []
    cut: dict[Any, int] = {}  # file -> index of its gzip record in out
    for s in skipped:
        reason = str(s.reason)
        if s.record == "gzip stream" and reason.startswith(TRUNCATED_GZIP):
            cut[s.file] = len(out)
        elif s.file in cut and reason.startswith(TRUNCATED_FILE):
            g = out[cut[s.file]]
            tail = reason[len(TRUNCATED_FILE):].lstrip(": ")
            out[cut[s.file]] = SkippedRecord(g.file, g.record, f"{g.reason}; where the data stops: "
                                                                f"{s.record or 'the file'}: {tail}")
            continue
        out.append(s)
    return out


#: the frame attribute (``df.attrs``) of the OTLP readers that counts the attribute lists that gave a key twice
#: with different values (:class:`RepeatedKeys`)
REPEATED_KEYS_ATTR = "repeated_keys"


@dataclass
class RepeatedKeys:
    """What one read found of OTLP attribute lists (``attributes: [{key, value}, ...]`` of spans, resources,
    scopes, events, links, log records, data points, exemplars; a ``kvlistValue``) that give a key twice with
    different values. The OTLP specification says keys MUST be unique; the collector's ``Map.Get`` returns the
    first: the readers keep the first value (:func:`tracekit.io.otlp.decode_attributes`), load the record, and
    say so here: ``count`` lists, the first one's ``key``, ``file`` and ``record`` (its JSON path). A key given
    twice with one value is nothing lost: not counted."""

    count: int = 0
    key: str | None = None
    file: str | None = None
    record: str | None = None
    pending: bool = False  # a list was counted whose place the document's walk has not named yet

    def restart(self) -> None:
        """Forget what was counted (a reader that reads its source again)."""
        self.restore((0, None, None, None, False))

    def saved(self) -> tuple:
        """What was counted so far, for :meth:`restore` (a walk that may decode the same lists again)."""
        return self.count, self.key, self.file, self.record, self.pending

    def restore(self, saved: tuple) -> None:
        self.count, self.key, self.file, self.record, self.pending = saved


_REPEATED: ContextVar[RepeatedKeys | None] = ContextVar("tracekit_repeated_keys", default=None)
_TEXT_HOOK: ContextVar[Callable[[bytes], None] | None] = ContextVar("tracekit_text_hook", default=None)


@contextlib.contextmanager
def text_hook(hook: Callable[[bytes], None]) -> Iterator[None]:
    """Within it, :func:`parse_json` passes each text it parses (a file's bytes, decompressed) to ``hook`` first: what
    a reader needs of the text that the parsed values lose (:func:`tracekit.read`: X-Ray times with 7+ decimals)."""
    token = _TEXT_HOOK.set(hook)
    try:
        yield
    finally:
        _TEXT_HOOK.reset(token)


@contextlib.contextmanager
def repeated_keys() -> Iterator[RepeatedKeys]:
    """The :class:`RepeatedKeys` of one read (the readers of OTLP open one around their read; :func:`close_read`
    reports it)."""
    rk = RepeatedKeys()
    token = _REPEATED.set(rk)
    try:
        yield rk
    finally:
        _REPEATED.reset(token)


def repeated_key(key: str) -> RepeatedKeys | None:
    """Count one attribute list that gave ``key`` twice with different values (the first kept), in the current
    read's :class:`RepeatedKeys` (returned; None outside a read)."""
    rk = _REPEATED.get()
    if rk is not None:
        rk.count += 1
        if rk.key is None:
            rk.key, rk.pending = key, True
    return rk


def current_repeats() -> RepeatedKeys | None:
    """The current read's :class:`RepeatedKeys` (None outside a read)."""
    return _REPEATED.get()


@contextlib.contextmanager
def repeats_uncounted() -> Iterator[None]:
    """Inside: nothing is counted (a value decoded a second time, to compare or to place it)."""
    rk = _REPEATED.get()
    if rk is None:
        yield
        return
    saved = rk.saved()
    try:
        yield
    finally:
        rk.restore(saved)


def _said_repeated_keys(df: Any, stacklevel: int) -> None:
    rk = _REPEATED.get()
    if rk is None:
        return
    df.attrs[REPEATED_KEYS_ATTR] = rk.count
    if rk.count:
        where = ", ".join(x for x in (rk.file, rk.record) if x) or "(place not known)"
        warnings.warn(f"{rk.count} OTLP attribute list(s) gave a key twice with different values (keys must be unique;"
                      f" the first value is kept, as the OpenTelemetry collector reads it); first: {where}: key "
                      f"{rk.key!r} (the count is df.attrs[{REPEATED_KEYS_ATTR!r}])", TraceFormatWarning,
                      stacklevel=stacklevel + 2)


def close_read(df: Any, skipped: Any, ignored: Any, head: str, *, stacklevel: int = 2, source: Any = None) -> Any:
    """How every reader (spans, logs, metrics) ends: ``attrs["skipped"]`` and ``attrs["ignored"]`` set, and
    one :class:`~tracekit.errors.TraceFormatWarning` naming the first skipped record when any was skipped;
    ``attrs["truncated"]`` is set True when a skipped record says a file ended early (a cut gzip stream,
    an incomplete last line), as the readers set it for a paginated output's missing pages.

    Inside a read that counts OTLP attribute lists giving a key twice (:func:`repeated_keys`), also
    ``attrs["repeated_keys"]`` (their number) and, when any, one :class:`~tracekit.errors.TraceFormatWarning`
    naming the first.

    ``head`` starts the warning, with ``{n}`` for the number skipped (``"read_xray skipped {n} bad
    record{s}"``, ``{s}`` the plural's s) or ``{records}`` for it in words (``"read_logs skipped {records}"``: "1 bad record", "2 bad records"); ``stacklevel`` is the caller's, as for :func:`warnings.warn`. ``source`` (what the reader
    was given): the files of its directories that no reader reads are listed after ``ignored``
    (:func:`ignored_file_records`).

    >>> import warnings, pandas as pd
    >>> from tracekit.errors import SkippedRecord
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     df = close_read(pd.DataFrame(), [SkippedRecord("a.jsonl", "line 3", "not JSON")], (), "x skipped {records}")
    >>> str(w[0].message), df.attrs["skipped"][0].record
    ("x skipped 1 bad record; first: a.jsonl, line 3: not JSON (all are listed in df.attrs['skipped'])", 'line 3')
    """
    skipped = one_record_per_cut(skipped)
    df.attrs["skipped"] = tuple(skipped)
    df.attrs["ignored"] = tuple(ignored) + tuple(ignored_file_records(source))
    if any(str(s.reason).startswith((TRUNCATED_FILE, TRUNCATED_GZIP)) for s in skipped):
        df.attrs["truncated"] = True  # a file ended early: what it held after the cut is not in the frame
    _said_repeated_keys(df, stacklevel)
    df.attrs = {k: shared_attr(v) for k, v in df.attrs.items()}  # copied into every column pandas hands out: free
    if skipped:
        first = skipped[0]
        where = ", ".join(x for x in (first.file, first.record) if x)
        warnings.warn(f"{head.format(n=len(skipped), records=plural(len(skipped), 'bad record'), s='' if len(skipped) == 1 else 's')}; first: {where}: {first.reason} "
                      "(all are listed in df.attrs['skipped'])", TraceFormatWarning, stacklevel=stacklevel + 1)
    return df
