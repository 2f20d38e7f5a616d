"""Read OpenTelemetry OTLP/JSON traces into the canonical spans DataFrame.

Accepted input (any kind of source :func:`tracekit.io._sources.iter_documents` takes: a path,
a list of paths, a directory, a file object, ``bytes``, a JSON string or parsed JSON; gzip is
detected by its magic bytes):

* one ``TracesData`` / ``ExportTraceServiceRequest`` object ``{"resourceSpans": [...]}``;
* collector file-exporter JSON lines, one such object per line (a trace may be split over
  many lines; nothing here assumes the lines of a trace are together or in order);
* Jaeger ``api_v3`` responses, which wrap the object as ``{"result": {...}}``;
* proto field names (``resource_spans``, ``scope_spans``, ``trace_id``, ``string_value`` — what
  protobuf's ``MessageToDict(preserving_proto_field_name=True)`` writes, and what the collector's
  JSON unmarshaler accepts beside lowerCamelCase), also mixed with JSON names (Grafana's Tempo
  data-source fixtures: ``resourceSpans`` over ``scope_spans``); read through a key-renamed copy.
  A field spelt both ways in one object (``scopeSpans`` and ``scope_spans``, ``resourceSpans`` and
  ``resource_spans``) is read as one list holding both (a repeated field given twice, as protobuf's
  wire format and the collector's JSON reader take it); two different values for one non-list
  field (``spanId`` and ``span_id``) are an error naming the span;
* a key given twice in one object: JSON parsers keep the last value without a word. For the identity keys
  (:data:`IDENTITY_KEYS`: ``traceId``, ``spanId``, ``parentSpanId``, ``startTimeUnixNano``, ``endTimeUnixNano``,
  ``name``, and their proto spellings) given twice with different values in a span, a link or an event, the span
  (a link: the link) is refused, the error naming the key and its values; given twice with one value it loads
  (nothing is lost). Found by counting the keys in each document's text against the keys parsed (a substring count
  per key group, ~10% of a read); only a document whose counts differ is parsed again seeing every pair
  (:func:`tracekit.io._sources.unique_keys`). A list or object that holds records given twice with different
  values (:data:`CONTAINER_KEYS`: ``resourceSpans``, ``scopeSpans``, ``spans``, a span's ``events``, ``links``,
  ``attributes`` or ``status``, a ``resource`` or ``scope``) would lose the first whole: the object holding it
  (the document, a ResourceSpans, a ScopeSpans, a span) is refused, naming the key. Other keys given twice keep the
  last value, as the parsers do;
* Grafana Tempo's trace-by-id response ``{"batches": [...]}``, with base64 ids (protobuf's standard
  JSON mapping: 24 characters for a trace id, 12 for a span id — never ambiguous with 32/16 hex,
  so base64 ids of the right byte length are accepted everywhere);
* a JSON list of any of the above.

Collector files that also hold metrics, logs or profiles lines (``resourceMetrics``,
``resourceLogs``…) load their trace lines; the others are listed in ``df.attrs["ignored"]``
(file, line, what) and are not errors. A read that loads no span and skipped nothing is an error
naming the path that was empty (``no spans: resourceSpans[0].scopeSpans is empty``), or the
non-trace records (``no trace data: 3 records, none of them traces``): never 0 spans silently.

Mapping (OTLP/JSON rules of ``opentelemetry-proto`` ``docs/specification.md``):

* ``traceId``/``spanId``/``parentSpanId``/link ids are case-insensitive hex and are lower-cased; ids in
  base64 (protobuf's standard JSON mapping) and X-Ray trace ids (``1-5759e988-bd862e3fe1be46a994272793``,
  the same 128 bits) become the hex form, as X-Ray ids in logs and metric exemplars do.
  ``""``, absent and all-zero ids mean "no id": a span without a trace or span id is an error;
  a span without a parent id is a root (``parent_id`` ``<NA>``). Ids of the wrong length or
  with non-hex characters are errors.
* 64-bit integers (times, ``intValue``) are accepted as decimal strings or JSON numbers and never
  pass through a float. Times must be non-negative integers that fit in int64 nanoseconds.
* ``startTimeUnixNano`` absent means 0, as proto3 JSON omits fields at their default (the span
  starts at the epoch, kept as given: 0 is never replaced by a guess), and such a span is flagged with
  ``attributes["tracekit.time_problem"] = "start_time_zero"`` (it outranks the end's flags below: its
  duration and any time window over it are meaningless; :func:`tracekit.health_report` lists it). ``endTimeUnixNano``
  absent means the span has not ended: ``in_progress=True``, ``end`` NaT, ``duration_ms`` NaN.
  ``endTimeUnixNano`` 0 is proto3's unset end, not 1970: loaded the same way and flagged with
  ``attributes["tracekit.time_problem"] = "end_time_zero"``; an end before the start is kept as
  given (a negative duration) and flagged ``"end_before_start"``. Times are decimal digits or JSON
  integers only (``"0x10"``, ``"1_000"``, ``" 5"`` are errors).
* Dropped counts must be non-negative integers (``Infinity`` from parsed JSON is an error).
* Nested ``arrayValue``/``kvlistValue`` are decoded without recursion: any depth the JSON parser
  takes (orjson: 1,024 levels) loads, kept whole as nested lists/dicts (as X-Ray metadata is).
* ``kind`` and ``status.code`` are integers (enum names such as ``"SPAN_KIND_SERVER"`` or
  ``"STATUS_CODE_ERROR"``, and decimal strings such as ``"2"`` as the specification's file-exporter
  example writes them, are accepted too; a JSON boolean or a float such as ``2.0`` is an error, as in
  protobuf's JSON parsers); kind 0/absent → ``unspecified``; status code
  0/1/2 → ``unset``/``ok``/``error``. The pre-2021 ``status.deprecatedCode`` is honoured as the
  proto comment said (code unset and deprecatedCode ≠ 0 → error) and kept in the attributes.
* ``scopeSpans`` is read, else the legacy ``instrumentationLibrarySpans`` (and its
  ``instrumentationLibrary``) when ``scopeSpans`` is absent or empty (the collector's rule); a legacy
  list beside a non-empty ``scopeSpans`` is not read and is listed in ``df.attrs["ignored"]``.
  A ResourceSpans with neither but with other keys is an error listing its keys.
* AnyValue: ``stringValue`` → str, ``boolValue`` → bool, ``intValue`` → int, ``doubleValue`` →
  float (also ``"NaN"``/``"Infinity"`` strings), ``bytesValue`` → the base64 string as given,
  ``arrayValue`` → list, ``kvlistValue`` → dict, ``{}`` → None; an unknown shape is kept as its dict.
  A value holding two kinds (``{"stringValue": "a", "intValue": "3"}``: a oneof set twice, which protobuf's JSON
  parser refuses) is an error naming the record, the attribute's place and its key.
* A KeyValue list (attributes of spans, resources, scopes, events, links; a ``kvlistValue``) giving a key twice keeps
  the FIRST value, as the collector's ``Map.Get`` reads it (the specification says keys MUST be unique); the span
  loads. When the values differ, nothing is lost silently: ``df.attrs["repeated_keys"]`` counts the lists and one
  :class:`~tracekit.errors.TraceFormatWarning` per read names the file, the first list's place and its key
  (:class:`tracekit.io._sources.RepeatedKeys`; the logs and metrics readers do the same). The same key twice with
  one value loads quietly.

Columns:

* ``service`` is the resource's ``service.name``; when the resource has none it is
  ``"unknown_service"`` (what the OTel SDKs report) and the ``resource`` dict has no
  ``service.name`` key — that absence is the flag; an empty or blank ``service.name`` is
  ``"unknown_service"`` too, the name kept in ``resource`` (:func:`tracekit.schema.service_name`).
* ``resource`` is one dict per (resource, scope) pair, shared by the spans of that scope (treat
  it as read-only): the resource attributes, plus ``otel.scope.name``, ``otel.scope.version``,
  scope attributes as ``otel.scope.attr.<key>``, ``otel.schema_url`` (resource ``schemaUrl``),
  ``otel.scope.schema_url``, ``otel.resource.dropped_attributes_count``,
  ``otel.scope.dropped_attributes_count`` and ``otel.resource.entity_refs`` when present.
* ``attributes`` holds the span attributes as they are, plus ``otel.dropped_attributes_count``,
  ``otel.dropped_events_count``, ``otel.dropped_links_count`` (and
  ``otel.status.deprecated_code``) whenever the source has them (also when 0).
* ``events`` are ``{time, name, attributes}`` dicts (time in int ns, None when absent, null or 0 — proto3's
  unset value, not 1970-01-01; name ``""`` when absent, the proto3 default), plus ``dropped_attributes_count`` when present; ``links`` are
  ``{trace_id, span_id, trace_state, flags, attributes}`` (+ ``dropped_attributes_count``).
* ``status`` unset with an ``rpc.grpc.status_code`` attribute becomes ``error`` where OTel's gRPC semantic
  conventions make the span an error (server: UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE,
  DATA_LOSS; client: any code but OK; :func:`tracekit.schema.grpc_status_error`); a status set stays;
* ``status`` unset with an HTTP status code becomes ``error`` where OTel's HTTP semantic conventions make the span
  an error (server: 5xx; client: 4xx or 5xx; :func:`tracekit.schema.http_status_error`), flagged
  ``attributes["tracekit.status_from"] = "http_status"`` (the X-Ray reader's flags from the code carry the same flag);
  a status set stays;
* ``http_status`` comes from ``http.response.status_code``, else legacy ``http.status_code``;
  ``error`` = 400–499, ``fault`` = 500–599, ``throttle`` = 429 (so a 429 is also an ``error``); a code outside
  100–599 (999, -5) is kept as given and implies no flag (:func:`tracekit.schema.http_status_flags`).
* ``trace_state`` is ``<NA>`` when absent or ``""``; ``flags`` holds the whole ``flags`` value
  (``<NA>`` when absent).
* ``source`` = ``"otlp"``; ``source_file``; ``source_record`` = the 1-based line for JSON lines,
  else the 0-based index of the ``resourceSpans`` entry.
* Duplicates by (trace_id, span_id), one rule with the X-Ray reader (:mod:`tracekit.io._copies`): a complete
  span replaces in-progress copies (no ``endTimeUnixNano``); copies equal in every column but ``source_file`` /
  ``source_record`` (the same span read twice: overlapping exports, a collector's retry, one file read twice)
  collapse to the first, counted in ``df.attrs["copies_dropped"]``; different complete spans with one id are
  all kept (the health check reports duplicate ids).

``errors="skip"`` loads every valid span, lists every skipped span, document or file as a
:class:`~tracekit.errors.SkippedRecord` in ``df.attrs["skipped"]`` (``()`` when none) and emits
one :class:`~tracekit.errors.TraceFormatWarning`. A bad link or event (``…spans[0].events[1]``: a time that is not
an integer, a null) is left out and listed, its span and the span's other links and events kept.

Speed: one pass over each parsed document appends plain Python values to lists (ids and times
are kept raw; attributes become dicts, the one per-attribute cost), with the cyclic GC paused;
ids and times are then checked and converted column-wise with Arrow (one regex per id column,
one cast per time column), and the DataFrame is built once. Each JSON line is parsed from a
memoryview of the file and dropped once read. ``benchmarks/bench_read_otlp.py`` measures it
against ``orjson.loads`` of the same bytes.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..core.frame import START_TIME_ZERO, TIME_MAX_NS, TIME_MIN_NS, time_out_of_range
from ..core.gc_pause import gc_paused  # re-exported: the readers import it from here
from ..core.naming import named
from ..core.words import plural
from ..errors import SkippedRecord, TraceFormatError
from ..schema import (
    COLUMN_NAMES,
    TIMESTAMP,
    b64_id_hex,
    grpc_status_error,
    http_status_code,
    http_status_error,
    http_status_flags,
    mark_status_from,
    service_name,
    xray_to_trace_id,
)
from ._columns import hex_ids
from ._copies import duplicate_candidates, duplicates_to_drop, each_path_once
from ._sources import (
    DUPLICATE_KEYS,
    MAX_LIST_NESTING,
    OBJECT,
    TIME_PROBLEM,
    Document,
    MarkedKeys,
    checked_path,
    close_read,
    current_repeats,
    display_name,
    duplicate_reason,
    is_pathlike,
    iter_documents,
    json_copy,
    json_kind,
    known_shape,
    list_files,
    repeated_key,
    repeats_uncounted,
    resource_holders,
    scope_list,
    short,
)

__all__ = ["Collector", "collected_frame", "otlp_documents", "non_trace_otlp", "gc_paused", "finish_read",
           "IDENTITY_KEYS", "CONTAINER_KEYS", "CHECKED_KEYS", "span_records", "same_value", "repeat_place", "place_repeated_key"]

Errors = Literal["raise", "skip"]

#: the keys that say which span a record is and when (also in links and events): an object holding one twice with
#: different values is refused, naming the key (JSON parsers keep the last silently); both spellings
#: (:func:`tracekit.io._sources.unique_keys`)
IDENTITY_KEYS = ("traceId", "spanId", "parentSpanId", "startTimeUnixNano", "endTimeUnixNano", "name",
                 "trace_id", "span_id", "parent_span_id", "start_time_unix_nano", "end_time_unix_nano")
#: the keys whose values hold the records (the lists of ResourceSpans, ScopeSpans, spans, events and links; a
#: resource, a scope, a span's attributes and status): given twice with different values, the first value is lost
#: whole (``"spans": [A], "spans": [B]`` loaded B alone, without a word), so the object holding them is refused as
#: for an identity key — the document, a ResourceSpans, a ScopeSpans or a span — naming the key
CONTAINER_KEYS = ("resourceSpans", "resource_spans", "batches", "result", "scopeSpans", "scope_spans",
                  "instrumentationLibrarySpans", "instrumentation_library_spans", "spans", "resource", "scope",
                  "instrumentationLibrary", "instrumentation_library", "attributes", "events", "links", "status")
#: the keys the checked code looks for twice in one object (:func:`tracekit.io._sources.unique_keys`); the fast
#: path's counts of the identity keys send a document that lost records to it (what was lost held ids, times or
#: names, or AnyValues: :mod:`tracekit.io.otlp_fast`)
#: (counted: the identity keys, which a lost list of spans, events or links held, and attributes and status, which
#: hold none; a lost resource or scope held attributes or a name)
CHECKED_KEYS = MarkedKeys(IDENTITY_KEYS + CONTAINER_KEYS, counted=IDENTITY_KEYS + ("attributes", "status"))



def span_records(value: Any) -> Iterator[dict]:
    """The objects of a parsed OTLP document whose repeated identity or container keys refuse them (any spelling,
    inside ``result`` wrappers and lists): the objects holding the ResourceSpans, the ResourceSpans, their resources,
    the ScopeSpans, their scopes, the spans, and their links and events; other objects (attribute values) are data
    kept as given."""
    stack = [value]
    while stack:
        v = stack.pop()
        if type(v) is list:
            stack.extend(v)
            continue
        if type(v) is not dict:
            continue
        if "result" in v:
            stack.append(v["result"])
        if "result" in v or any(k in v for k in _CONTAINERS):
            yield v
        for key in _CONTAINERS:
            for rs in v.get(key) or () if type(v.get(key)) is list else ():
                if type(rs) is not dict:
                    continue
                for held in resource_holders(rs, _SCOPE_SPANS):  # (the ResourceSpans, resource, ScopeSpans, scopes)
                    yield held
                    spans = held.get("spans") if held is not rs else None  # a ScopeSpans' spans
                    for sp in spans if type(spans) is list else ():
                        if type(sp) is dict:
                            yield sp
                            for part in ("links", "events"):
                                xs = sp.get(part)
                                yield from (x for x in xs if type(x) is dict) if type(xs) is list else ()


_KINDS: dict[Any, str] = {
    0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer",
}
# each enum also by name and as a decimal string: the OTel specification's own file-exporter example writes
# "code": "2", and protobuf's Python and Java JSON parsers accept quoted integers
for _code, _name in list(_KINDS.items()):
    for _alias in (_name, _name.upper(), f"SPAN_KIND_{_name.upper()}", str(_code)):
        _KINDS[_alias] = _name
_STATUS: dict[Any, str] = {0: "unset", 1: "ok", 2: "error"}
for _code, _name in list(_STATUS.items()):
    for _alias in (_name, _name.upper(), f"STATUS_CODE_{_name.upper()}", str(_code)):
        _STATUS[_alias] = _name
_DEPRECATED_OK = (0, "DEPRECATED_STATUS_CODE_OK")

_INT64_MAX = 2**63 - 1
# Spans per chunk of converted columns. Converting every 8,192 spans (freeing the documents'
# id/time strings early) measured 10% less peak memory but 30% more time on 200k spans, so by
# default the columns are converted once, at the end; tests set it small to check chunking.
_FLUSH = 2**62
_CHUNKED = ("tid", "sid", "pid", "start", "end", "bad", "name", "kind", "status", "message", "state", "http",
            "flags")
_NAT = np.iinfo(np.int64).min


class _Bad(Exception):
    """A problem inside one span; turned into a TraceFormatError with its location."""


def _json_type(x: Any) -> str:
    """What an enum given as a JSON boolean or number with a fraction part is, for its error (else "")."""
    if type(x) is bool:
        return " (a JSON boolean, not an integer: protobuf's JSON parsers refuse it too)"
    if type(x) is float:
        return " (a JSON number with a fraction part or exponent, not an integer)"
    return ""


# ---------------------------------------------------------------------------------------------
# AnyValue / KeyValue


_DECIMAL = re.compile(r"-?[0-9]+")
#: a JSON number's text (RFC 8259): proto3's JSON mapping lets a writer quote any double
JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


def _int(x: Any, what: str) -> int:
    if type(x) is int:
        return x
    # decimal digits only: Python's int() would also take "1_000", " 5", "+5" and non-ASCII digits
    if type(x) is str and _DECIMAL.fullmatch(x):
        return int(x)
    raise _Bad(f"{what} must be an integer (a decimal string or a JSON number), got {short(x)}")


def _double(x: Any) -> float:
    if type(x) is float:
        return x
    if type(x) is int:
        return float(x)
    if type(x) is str and x in ("NaN", "Infinity", "-Infinity"):
        return float(x.replace("inity", ""))
    if type(x) is str and JSON_NUMBER.fullmatch(x):  # proto3's JSON lets any double be a string: "0.5", "1e-9"
        return float(x)
    raise _Bad(f"doubleValue must be a number, got {short(x)}")


def _bytes(x: Any) -> str:
    if type(x) is not str:
        raise _Bad(f"bytesValue must be a base64 string, got {short(x)}")
    return x


def _bool(x: Any) -> bool:
    if type(x) is not bool:
        raise _Bad(f"boolValue must be true or false, got {short(x)}")
    return x


def _string(x: Any) -> str:
    if type(x) is not str:
        raise _Bad(f"stringValue must be a string, got {short(x)}")
    return x


_SCALARS = {
    "stringValue": _string,
    "boolValue": _bool,
    "intValue": lambda x: _int(x, "intValue"),
    "doubleValue": _double,
    "bytesValue": _bytes,
}
_VALUE_KEYS = ("stringValue", "boolValue", "intValue", "doubleValue", "bytesValue", "arrayValue", "kvlistValue")


class _TwoKinds(_Bad):
    """An AnyValue holding two kinds at once: a oneof set twice (protobuf's JSON parser refuses it too)."""


def _kinds_of(v: dict) -> list[str]:
    return [k for k in _VALUE_KEYS if k in v]


def _two_kinds(v: dict) -> _TwoKinds:
    kinds = _kinds_of(v)
    return _TwoKinds(f"value holds {len(kinds)} kinds: {', '.join(kinds)} (an AnyValue holds one: protobuf's JSON "
                     "parser refuses it)")


def _any(v: Any, strict: bool = False) -> Any:
    """Decode one AnyValue; nested arrayValue/kvlistValue to any depth, without recursion (a
    kvlist nested a few hundred deep is valid JSON and must not overflow the stack). A value holding two kinds
    (``{"stringValue": "a", "intValue": "3"}``) is refused; a kvlist giving a key twice keeps the first value
    (:func:`decode_attributes`' rule; ``strict``: refused, :class:`BadValue`, for a fast path to fall back on)."""
    root: list = [None]
    stack: list[tuple[Any, Any, Any]] = [(v, root, 0)]
    pop, push = stack.pop, stack.append
    repeats: list[tuple[dict, str, Any]] = []  # (a kvlist's dict, a key it gave again, that value)
    while stack:
        v, parent, slot = pop()
        if type(v) is not dict:
            if v is not None:
                raise _Bad(f"attribute value must be an AnyValue object, got {short(v)}")
            parent[slot] = None
            continue
        if not v:
            parent[slot] = None
            continue
        for key in _VALUE_KEYS:
            if key in v:
                break
        else:
            parent[slot] = dict(v)  # an unknown shape (e.g. profiles' stringValueStrindex): kept as it is
            continue
        if len(v) > 1 and len(_kinds_of(v)) > 1:
            raise _two_kinds(v)
        x = v[key]
        if key == "arrayValue":
            vals = x.get("values") if isinstance(x, dict) else None
            if vals is None:
                if not isinstance(x, dict):
                    raise _Bad(f"arrayValue must be an object with a 'values' list, got {short(x)}")
                parent[slot] = []
                continue
            if type(vals) is not list:
                raise _Bad(f"arrayValue.values must be a list, got {short(vals)}")
            out: Any = [None] * len(vals)
            parent[slot] = out
            for i in range(len(vals) - 1, -1, -1):
                push((vals[i], out, i))
        elif key == "kvlistValue":
            vals = x.get("values") if isinstance(x, dict) else None
            if vals is None:
                if not isinstance(x, dict):
                    raise _Bad(f"kvlistValue must be an object with a 'values' list, got {short(x)}")
                parent[slot] = {}
                continue
            if type(vals) is not list:
                raise _Bad(f"attributes must be a list of {{key, value}} objects, got {short(vals)}")
            out = {}
            parent[slot] = out
            todo = []
            for kv in vals:
                if type(kv) is not dict:
                    raise _Bad(f"attribute must be a {{key, value}} object, got {short(kv)}")
                k = kv.get("key", "")
                if type(k) is not str:
                    raise _Bad(f"attribute key must be a string, got {short(k)}")
                if k in out:  # given again: the first value is kept (decode_attributes' rule)
                    if strict:
                        raise _Bad(f"kvlistValue gives the key {k!r} twice")
                    repeats.append((out, k, kv.get("value")))
                    continue
                out[k] = None
                todo.append((kv.get("value"), out, k))
            stack.extend(reversed(todo))  # popped in order
        else:
            parent[slot] = _SCALARS[key](x)
    if repeats:
        _count_repeats(repeats)
    return root[0]


def _count_repeats(repeats: list[tuple[dict, str, Any]]) -> None:
    """Count each kvlist of ``repeats`` (its dict, a key it gave again, that value) that gave a key again with a
    different value than its first (kept), once per kvlist."""
    done: set[int] = set()
    for out, k, again in repeats:
        if id(out) not in done and not same_value(out[k], _quiet(_any, again)):
            done.add(id(out))
            repeated_key(k)


def same_value(a: Any, b: Any) -> bool:
    """Two decoded attribute values are one value: same types all the way down (``1``, ``1.0`` and ``True`` are three
    values, as their AnyValue kinds are), equal (NaN equal to NaN: the same value given twice); iterative.

    >>> same_value({"a": [1, 2.0]}, {"a": [1, 2.0]}), same_value(1, True), same_value([1], [1.0])
    (True, False, False)
    """
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if type(x) is list:
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y, strict=True))
        elif type(x) is dict:
            if x.keys() != y.keys():
                return False
            stack.extend((x[k], y[k]) for k in x)
        elif x != y and not (x != x and y != y):  # (NaN given twice: one value)
            return False
    return True


def _quiet(decode: Callable[[Any], Any], x: Any) -> Any:
    """``decode(x)``, counting no repeated key: a value decoded a second time, its repeats counted the first."""
    with repeats_uncounted():
        return decode(x)


def _attrs(kvs: Any, strict: bool = False) -> dict:
    """Decode a list of KeyValue into a dict. A key given twice keeps its first value, as the OpenTelemetry
    collector's ``Map.Get`` reads it (the specification says keys MUST be unique): the list is counted in the read's
    :class:`~tracekit.io._sources.RepeatedKeys` when the values differ (``df.attrs["repeated_keys"]`` and one warning
    per read: :func:`~tracekit.io._sources.close_read`); ``strict``: :class:`BadValue` instead, for a fast path to
    fall back on. A value holding two kinds (``{"stringValue": "a", "intValue": "3"}``) is refused, naming its place
    and key.

    >>> kv = lambda k, v: {"key": k, "value": v}
    >>> decode_attributes([kv("a", {"intValue": "1"}), kv("a", {"intValue": 1}), kv("b", {"boolValue": True})])
    {'a': 1, 'b': True}
    >>> decode_attributes([kv("a", {"stringValue": "x", "intValue": "3"})])
    Traceback (most recent call last):
    ...
    tracekit.io.otlp._TwoKinds: attributes[0], key 'a': value holds 2 kinds: stringValue, intValue (an AnyValue holds one: protobuf's JSON parser refuses it)
    """
    if not kvs:
        return {}
    if type(kvs) is not list:
        raise _Bad(f"attributes must be a list of {{key, value}} objects, got {short(kvs)}")
    out = {}
    for kv in kvs:
        # fast paths for the common shapes ("in" then [] measured faster than unpacking .items())
        try:
            v = kv["value"]
            key = kv["key"]
            if type(key) is str:
                if "stringValue" in v:
                    x = v["stringValue"]
                    if type(x) is str and len(v) == 1:  # (two kinds: refused below)
                        out[key] = x  # (sys.intern here: 12% less memory, 15% more time: not used)
                        continue
                elif "intValue" in v and len(v) == 1:
                    x = v["intValue"]
                    # decimal digits: _int's rule (int() alone would take " 5", "+5", "1_000", "٥")
                    if type(x) is str and x.isascii() and (x[1:] if x[:1] == "-" else x).isdigit():
                        out[key] = int(x)
                        continue
                    if type(x) is int:
                        out[key] = x
                        continue
        except (KeyError, TypeError, ValueError):
            pass
        try:
            out.update(_attr_slow(kv, strict))  # every other shape, and clear errors
        except _TwoKinds as e:
            i = next(i for i, x in enumerate(kvs) if x is kv)
            raise _TwoKinds(f"attributes[{i}], key {kv.get('key')!r}: {e}") from None
    if len(out) != len(kvs):  # a key given twice (each KeyValue adds one key)
        if strict:
            raise _Bad("attributes give a key twice")
        return _first_wins(kvs)
    return out


def _attr_slow(kv: Any, strict: bool = False) -> dict:
    if type(kv) is not dict:
        raise _Bad(f"attribute must be a {{key, value}} object, got {short(kv)}")
    key = kv.get("key", "")
    if type(key) is not str:
        raise _Bad(f"attribute key must be a string, got {short(key)}")
    return {key: _any(kv.get("value"), strict)}


def _first_wins(kvs: list) -> dict:
    """A KeyValue list that gives a key more than once (each entry valid: decoded once before): the first value of
    each key, the list counted once in the read's :class:`~tracekit.io._sources.RepeatedKeys` when a key's values
    differ (a key given twice with one value loses nothing: not counted)."""
    out: dict = {}
    differs = None
    with repeats_uncounted():  # (nested kvlists were counted by the first decode)
        for kv in kvs:
            ((key, value),) = _attr_slow(kv).items()
            if key not in out:
                out[key] = value
            elif differs is None and not same_value(out[key], value):
                differs = key
    if differs is not None:
        repeated_key(differs)
    return out


def repeat_place(value: Any) -> tuple[str, str] | None:
    """(JSON path, key) of the first OTLP KeyValue list in parsed ``value`` (``attributes``, ``filteredAttributes``
    or a ``kvlistValue``'s ``values``, in either spelling) that gives a key twice with different values, in document
    order; None when there is none. Asked once per read, for the warning's words (:func:`decode_attributes`).

    >>> kv = lambda k, v: {"key": k, "value": {"stringValue": v}}
    >>> repeat_place({"resourceSpans": [{"resource": {"attributes": [kv("a", "1"), kv("a", "1")]}, "scopeSpans": [
    ...     {"spans": [{"attributes": [kv("b", "x"), kv("b", "y")]}]}]}]})
    ('resourceSpans[0].scopeSpans[0].spans[0].attributes', 'b')
    """
    stack: list[tuple[Any, str]] = [(value, "")]
    with repeats_uncounted():
        while stack:
            v, path = stack.pop()
            if type(v) is list:
                stack.extend(reversed([(x, f"{path}[{i}]") for i, x in enumerate(v) if type(x) in (dict, list)]))
                continue
            if type(v) is not dict:
                continue
            for k in ("attributes", "filteredAttributes", "filtered_attributes", "values"):
                kvs = v.get(k)
                if type(kvs) is not list or len(kvs) < 2 or not all(type(kv) is dict and "key" in kv for kv in kvs):
                    continue
                first: dict = {}
                for kv in kvs:
                    key = kv["key"]
                    try:
                        x = _any(kv.get("value"))
                    except _Bad:
                        break
                    if key not in first:
                        first[key] = x
                    elif not same_value(first[key], x):
                        return f"{path}.{k}".lstrip("."), key
            stack.extend(reversed([(x, f"{path}.{k}") for k, x in v.items() if type(x) in (dict, list)]))
    return None


def place_repeated_key(value: Any, file: str, line: int | None, unit: str = "line") -> None:
    """After a checked walk read a document (``value``, parsed, of ``file`` at ``line``, numbered in ``unit``): when it held the read's
    first KeyValue list that gives a key twice with different values, its file and place are kept for the warning
    (:class:`~tracekit.io._sources.RepeatedKeys`); otherwise nothing (one context-variable look per document)."""
    rk = current_repeats()
    if rk is None or not rk.pending:
        return
    rk.pending = False
    found = repeat_place(value)
    rk.file = file
    if found is not None:
        rk.record = ", ".join(x for x in (f"{unit} {line}" if line is not None else "", found[0]) if x)
        rk.key = found[1]
    else:
        rk.record = f"{unit} {line}" if line is not None else None


# ---------------------------------------------------------------------------------------------
# shapes: proto field names, Tempo, non-trace OTLP

# the list of ResourceSpans: OTLP/JSON, proto field names (what protobuf's MessageToDict with
# preserving_proto_field_name writes; the collector's JSON unmarshaler accepts both spellings) and
# Grafana Tempo's trace-by-id response {"batches": [...]}
_CONTAINERS = ("resourceSpans", "resource_spans", "batches")
_SCOPE_SPANS = ("scopeSpans", "scope_spans", "instrumentationLibrarySpans", "instrumentation_library_spans")
_NON_TRACE = {"resourceMetrics": "OTLP metrics (resourceMetrics)", "resource_metrics": "OTLP metrics (resource_metrics)",
              "resourceLogs": "OTLP logs (resourceLogs)", "resource_logs": "OTLP logs (resource_logs)",
              "resourceProfiles": "OTLP profiles (resourceProfiles)",
              "resource_profiles": "OTLP profiles (resource_profiles)"}
_RESOURCE_SPANS_KEYS = frozenset({"resource", "schemaUrl", "scopeSpans", "instrumentationLibrarySpans"})


def _container(value: dict) -> str | None:
    for k in _CONTAINERS:
        if k in value:
            return k
    return None


def non_trace_otlp(value: Any) -> str | None:
    """What a non-trace OTLP document is ("OTLP metrics (resourceMetrics)"), else None.

    >>> non_trace_otlp({"resourceLogs": []}), non_trace_otlp({"resourceSpans": []})
    ('OTLP logs (resourceLogs)', None)
    """
    if type(value) is dict and not any(k in value for k in _CONTAINERS):
        for k, what in _NON_TRACE.items():
            if k in value:
                return what
    return None


def _snake_case(rs: dict) -> bool:
    """Whether a ResourceSpans (or a Span) uses proto field names (``scope_spans``, ``trace_id``):
    its keys, its first ScopeSpans' and that one's first Span's keys (OTLP's lowerCamelCase names
    have no ``_``). Constant work per ResourceSpans."""
    for k in rs:
        if type(k) is str and "_" in k:
            return True
    sss = rs.get("scopeSpans") or rs.get("instrumentationLibrarySpans")
    if type(sss) is list and sss and type(sss[0]) is dict:
        for k in sss[0]:
            if type(k) is str and "_" in k:
                return True
        sp = sss[0].get("spans")
        if type(sp) is list and sp and type(sp[0]) is dict:
            for k in sp[0]:
                if type(k) is str and "_" in k:
                    return True
    return False


#: a Span's proto field names that differ from their JSON names: one of them beside ``traceId`` is a span
#: spelling fields both ways (checked with one C-level set test per span, not a walk over its keys)
_SNAKE_SPAN_FIELDS = frozenset({"trace_id", "span_id", "parent_span_id", "trace_state", "start_time_unix_nano",
                                "end_time_unix_nano", "dropped_attributes_count", "dropped_events_count",
                                "dropped_links_count"})


def _camel(key: str) -> str:
    if "_" not in key:
        return key
    head, *rest = key.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def _camel_case(value: Any, strict: bool = False) -> Any:
    """A copy of an OTLP JSON value with every object key in lowerCamelCase (``scope_spans`` →
    ``scopeSpans``, ``string_value`` → ``stringValue``). OTLP messages have no map fields (attribute
    keys are *values* of ``key``), so renaming every key is exact. Iterative: any depth.

    An object may spell one field both ways (``scopeSpans`` and ``scope_spans``): two lists are
    joined, in the order of their keys (a repeated field given twice is one list, as in protobuf's
    wire format and the collector's JSON reader), so no span is left out; two equal values are one.
    Two different non-list values: with ``strict`` a :class:`_Bad` naming both keys (which one
    is meant cannot be known), else the later key's value (the old rule, kept for metrics).

    Parameters
    ----------
    value : Any
        Parsed JSON (never modified).
    strict : bool
        Raise on two different values for one field.

    Returns
    -------
    Any
        The renamed copy.

    >>> _camel_case({"trace_id": "ab", "attributes": [{"key": "a_b", "value": {"int_value": "1"}}]})
    {'traceId': 'ab', 'attributes': [{'key': 'a_b', 'value': {'intValue': '1'}}]}
    >>> _camel_case({"scopeSpans": [1], "scope_spans": [2]})
    {'scopeSpans': [1, 2]}
    """
    if type(value) not in (dict, list):
        return value
    out: Any = {} if type(value) is dict else []
    stack = [(value, out)]
    while stack:
        src, dst = stack.pop()
        if type(src) is dict:
            items: Any = src.items()
            if len({_camel(k) if type(k) is str else k for k in src}) < len(src):
                items = _joined_spellings(src, strict)
        else:
            items = enumerate(src)
        for k, v in items:
            if type(v) is dict or type(v) is list:
                nv: Any = {} if type(v) is dict else []
                stack.append((v, nv))
            else:
                nv = v
            if type(dst) is dict:
                dst[_camel(k) if type(k) is str else k] = nv
            else:
                dst.append(nv)
    return out


class _Held:
    """A spans list kept out of :func:`_camel_case`'s copy (a leaf to it), converted span by span."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value


def _spans_held(rs: dict) -> dict:
    """A shallow copy of a ResourceSpans whose ScopeSpans' ``spans`` lists are :class:`_Held`."""
    out = dict(rs)
    for k, v in rs.items():
        if type(k) is str and _camel(k) in ("scopeSpans", "instrumentationLibrarySpans") and type(v) is list:
            out[k] = [{**ss, "spans": _Held(ss["spans"])} if type(ss) is dict and type(ss.get("spans")) is list else ss
                      for ss in v]
    return out


def _joined_spellings(src: dict, strict: bool) -> list[tuple[Any, Any]]:
    """The items of an object that spells a field in more than one way, one item per field (see
    :func:`_camel_case`): lists joined, equal values once, different values an error (``strict``)
    or the later one."""
    fields: dict[Any, list[tuple[Any, Any]]] = {}
    for k, v in src.items():
        fields.setdefault(_camel(k) if type(k) is str else k, []).append((k, v))
    items = []
    for ck, kvs in fields.items():
        if len(kvs) == 1:
            items.append((ck, kvs[0][1]))
        elif all(type(v) is list for _, v in kvs):
            items.append((ck, [x for _, v in kvs for x in v]))
        elif all(v == kvs[0][1] for _, v in kvs):
            items.append((ck, kvs[0][1]))
        elif strict:
            names = " and ".join(repr(k) for k, _ in kvs)
            raise _Bad(f"the object has both {names} (one field, two spellings) with different values: "
                       f"{', '.join(short(v) for _, v in kvs)}")
        else:
            items.append((ck, kvs[-1][1]))
    return items


def _count(x: Any, what: str) -> int:
    """A dropped-items count: a non-negative integer (JSON number or decimal string)."""
    if type(x) is int and x >= 0:
        return x
    if type(x) is str and x.isascii() and x.isdigit():
        return int(x)
    raise _Bad(f"{what} must be a non-negative integer, got {short(x)}")


def _other_form_hex(x: Any, n: int) -> str | None:
    """Hex of an id of ``n`` hex digits given in another unambiguous form: base64 (:func:`tracekit.schema.b64_id_hex`), or for a
    trace id (``n`` 32) an X-Ray trace id ``1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx`` (35 characters: the same 128
    bits, split 8/24 after the version; the collector's awsxray receiver converts them so, and X-Ray ids in logs
    and metric exemplars are read so: :func:`tracekit.schema.xray_to_trace_id`, the one rule). None otherwise.

    >>> _other_form_hex("1-5759E988-BD862E3FE1BE46A994272793", 32)
    '5759e988bd862e3fe1be46a994272793'
    """
    if n == 32 and type(x) is str and len(x) == 35 and x.startswith("1-"):
        try:
            return xray_to_trace_id(x)
        except ValueError:
            return None
    return b64_id_hex(x, n)


# ---------------------------------------------------------------------------------------------
# ids (checked inline only for links and events; span ids are checked column-wise)


def _link_id(x: Any, n: int, what: str) -> str | None:
    if x is None or x == "":
        return None
    if type(x) is str and len(x) != n:
        x = _other_form_hex(x, n) or x
    if type(x) is not str or len(x) != n:
        raise _Bad(f"{what} must be {n} hex digits, got {short(x)}")
    low = x.lower()
    if low.strip("0123456789abcdef"):
        raise _Bad(f"{what} must be {n} hex digits, got {short(x)}")
    return None if low.strip("0") == "" else low


def _entries(items: Any, decode: Callable[[Any], dict], key: str, one: str,
             on_bad: Callable[[str, str], None] | None) -> list:
    """A span's events or links (``key``: "events" / "links"; ``one``: "event" / "link"), each decoded. ``on_bad``
    (lenient reading): a bad entry is passed to it as (``key[i]``, reason) and left out, the span and its other
    entries kept (an annotation's defect does not cost the span its timing, status and attributes); without it,
    raised."""
    if type(items) is not list:
        if on_bad is None:
            raise _Bad(f"{key} must be a list, got {short(items)}")
        on_bad(key, f"{key} must be a list, got {short(items)}: the {key} were left out, the span kept")
        return []
    out = []
    for i, e in enumerate(items):
        if on_bad is None:
            try:
                out.append(decode(e))
            except _TwoKinds as exc:
                raise _TwoKinds(f"{key}[{i}].{exc}") from None
            continue
        try:
            out.append(decode(e))
        except _Bad as exc:
            on_bad(f"{key}[{i}]", f"{exc}: the {one} was left out, the span kept")
    return out


def _events(evs: Any, on_bad: Callable[[str, str], None] | None = None) -> list:
    """The canonical events of a span (:func:`_entries`: with ``on_bad``, a bad event is left out and said, as a bad
    link is)."""
    return _entries(evs, _event, "events", "event", on_bad)


def _event(e: Any) -> dict:
    if type(e) is not dict:
        raise _Bad(f"event must be an object, got {short(e)}")
    if DUPLICATE_KEYS in e:
        raise _Bad(f"event: {duplicate_reason(e[DUPLICATE_KEYS])}")
    t = e.get("timeUnixNano")
    t = None if t is None else _time(t, "event timeUnixNano") or None  # 0: proto3's unset value, not 1970
    d = {"time": t, "name": e.get("name", ""), "attributes": _attrs(e.get("attributes"))}
    if "droppedAttributesCount" in e:
        d["dropped_attributes_count"] = _count(e["droppedAttributesCount"], "event droppedAttributesCount")
    return d


def _links(lks: Any, on_bad: Callable[[str, str], None] | None = None) -> list:
    """The canonical links of a span (:func:`_entries`: with ``on_bad``, a bad link is left out and said)."""
    return _entries(lks, _link, "links", "link", on_bad)


def _link(lk: Any) -> dict:
    if type(lk) is not dict:
        raise _Bad(f"link must be an object, got {short(lk)}")
    if DUPLICATE_KEYS in lk:
        raise _Bad(f"link: {duplicate_reason(lk[DUPLICATE_KEYS])}")
    d = {
        "trace_id": _link_id(lk.get("traceId"), 32, "link traceId"),
        "span_id": _link_id(lk.get("spanId"), 16, "link spanId"),
        "trace_state": lk.get("traceState") or None,
        "flags": _flags(lk.get("flags"), "link flags"),
        "attributes": _attrs(lk.get("attributes")),
    }
    if "droppedAttributesCount" in lk:
        d["dropped_attributes_count"] = _count(lk["droppedAttributesCount"], "link droppedAttributesCount")
    return d


def _time(x: Any, what: str) -> int:
    t = _int(x, what)
    if not TIME_MIN_NS <= t <= TIME_MAX_NS:
        raise _Bad(time_out_of_range(what, short(x)))
    return t


def _http_status(x: Any) -> int | None:
    """The HTTP status code of an attribute value: the readers' one rule (:func:`tracekit.schema.http_status_code`)."""
    return http_status_code(x)


# ---------------------------------------------------------------------------------------------
# the one pass


#: how every OTLP reader and writer names a scope attribute in the resource dict (spans, logs, metrics)
SCOPE_ATTR_PREFIX = "otel.scope.attr."

@dataclass
class _Block:
    """The spans of one scopeSpans entry: contiguous rows start .. start + n."""

    start: int
    file: str
    source_record: int
    where: str  # e.g. "line 3, resourceSpans[0].scopeSpans[1]"
    service: str
    resource: dict
    dropped: list | None = None  # positions of spans skipped in the pass (lenient mode), increasing
    _kept_before: list | None = None  # dropped[i] - i: spans kept before each dropped one (lazy)

    def drop(self, k: int) -> None:
        if self.dropped is None:
            self.dropped = []
        self.dropped.append(k)  # appended, never rebuilt: linear in the skipped spans
        self._kept_before = None

    def position(self, row: int) -> int:
        """Index in the source ``spans`` list of the block's ``row``-th loaded span: ``row`` plus
        the dropped spans before it, i.e. those with at most ``row`` kept spans before them
        (a binary search, so that listing many bad spans of one block stays linear-log)."""
        if not self.dropped:
            return row
        if self._kept_before is None:
            self._kept_before = [d - i for i, d in enumerate(self.dropped)]
        return row + bisect.bisect_right(self._kept_before, row)


class Collector:
    """Accumulates the columns of OTLP spans as documents are read, and the records skipped.

    Part of the readers' contract inside :mod:`tracekit.io` (used by :func:`tracekit.io.sniff.read`), not
    public API.
    """

    def __init__(self, errors: Errors):
        self.errors = errors
        self.skipped: list[SkippedRecord] = []
        self.ignored: list[SkippedRecord] = []  # non-trace records (metrics, logs, daemon headers): not errors
        self.empty: SkippedRecord | None = None  # the first recognised container that held no spans
        self.blocks: list[_Block] = []
        self.tid: list = []
        self.sid: list = []
        self.pid: list = []
        self.name: list = []
        self.kind: list = []
        self.start: list = []
        self.end: list = []
        self.status: list = []
        self.message: list = []
        self.http: list = []
        self.attrs: list = []
        self.events: list = []
        self.links: list = []
        self.state: list = []
        self.flags: list = []
        # every _FLUSH spans the raw id/time/text values are checked and converted to compact
        # arrays, so the parsed documents' strings are freed while the next lines are parsed
        self.base = 0  # spans already flushed
        self.chunks: dict[str, list] = {k: [] for k in _CHUNKED}

    @property
    def count(self) -> int:
        return self.base + len(self.tid)

    def flush(self) -> None:
        m = len(self.tid)
        if not m:
            return
        off = self.base
        tid, bad_t, p1 = _ids(self.tid, 32, "traceId", True)
        sid, bad_s, p2 = _ids(self.sid, 16, "spanId", True)
        pid, bad_p, p3 = _ids(self.pid, 16, "parentSpanId", False)
        start, bad_st, p4 = _times(self.start, "startTimeUnixNano", False)
        end, bad_e, p5 = _times(self.end, "endTimeUnixNano", True)
        # end 0 is proto3's default for an unset end (a span not ended), not 1970: unknown end,
        # loaded as in progress; an end before the start is kept as given; both flagged
        zero = end == 0
        if zero.any():
            end = end.copy()  # Arrow's zero-copy array is read-only
            end[zero] = _NAT
            for i in np.flatnonzero(zero):
                self.attrs[off + i][TIME_PROBLEM] = "end_time_zero"
        back = (end != _NAT) & (end < start) & ~bad_st
        if back.any():
            for i in np.flatnonzero(back):
                self.attrs[off + i][TIME_PROBLEM] = "end_before_start"
        # start 0 (or absent: proto3's default) is kept as given, never guessed, but flagged: 1970 is no start a
        # span of traced data has, and a window or a duration over it would be decades long without a word
        for i in np.flatnonzero((start == 0) & ~bad_st):
            self.attrs[off + i][TIME_PROBLEM] = START_TIME_ZERO
        problems = sorted(p1 + p2 + p3 + p4 + p5, key=lambda p: p[0])  # stable: traceId first
        seen = set()
        for i, reason in problems:
            if i not in seen:
                seen.add(i)
                self.problem(reason, *self.where(off + i))  # raises in errors="raise"
        ch = self.chunks
        ch["tid"].append(tid)
        ch["sid"].append(sid)
        ch["pid"].append(pid)
        ch["start"].append(start)
        ch["end"].append(end)
        ch["bad"].append(bad_t | bad_s | bad_p | bad_st | bad_e)
        for k in ("name", "kind", "status", "message", "state"):
            ch[k].append(pa.array(getattr(self, k), type=pa.large_string()))
        ch["http"].append(_int64_arrow(self.http, _http_status))
        ch["flags"].append(_int64_arrow(self.flags, _flags))  # (checked per span: ints of uint32 or None)
        for k in ("tid", "sid", "pid", "start", "end", "name", "kind", "status", "message", "state", "http",
                  "flags"):
            getattr(self, k).clear()  # the same list objects: spans() holds their append methods
        self.base = off + m

    # -- problems ------------------------------------------------------------------------------
    def problem(self, reason: str, file: str, record: str | None) -> None:
        err = TraceFormatError(reason, file=file, record=record)
        if self.errors == "raise":
            raise err
        self.skipped.append(SkippedRecord.from_error(err))

    def ignore(self, reason: str, file: str, record: str | None) -> None:
        """A record that is not trace data (an OTLP metrics or logs line of a collector file):
        listed in ``df.attrs["ignored"]``, never an error by itself."""
        self.ignored.append(SkippedRecord(file, record, reason))

    def empty_at(self, reason: str, file: str, record: str | None) -> None:
        """A recognised container without spans; an error only if the whole read loads none."""
        if self.empty is None:
            self.empty = SkippedRecord(file, record, reason)

    def no_spans(self) -> TraceFormatError:
        """The error for a read that loaded no span and skipped nothing: it names what was empty."""
        if self.ignored:
            first = self.ignored[0]
            kinds = sorted({r.reason.removesuffix(": not trace data") if r.reason.endswith(": not trace data")
                            else r.reason.split(":")[0] for r in self.ignored})  # (a shape's own words hold colons)
            # where the records can be read instead (a folder of logs or metrics handed over as the traces)
            where = [f"{sig} with tk.read_{sig} (tracekit report --{sig})" for sig in ("logs", "metrics")
                     if any(k.startswith(f"OTLP {sig} ") for k in kinds)]
            return TraceFormatError(f"no trace data: {plural(len(self.ignored), 'record')}, none of them traces ({', '.join(kinds)})"
                                    + (f"; read the {' and the '.join(where)}" if where else ""),
                                    file=first.file, record=first.record)
        if self.empty is not None:
            return TraceFormatError(f"no spans: {self.empty.reason}", file=self.empty.file,
                                    record=self.empty.record)
        return TraceFormatError("no spans found")

    def skip_error(self, err: TraceFormatError) -> None:
        if self.errors == "raise":
            raise err
        self.skipped.append(SkippedRecord.from_error(err))

    # -- documents -----------------------------------------------------------------------------
    def document(self, doc: Document) -> None:
        line = f"line {doc.line}" if doc.line is not None else None
        self.value(doc.value, doc.file, line, doc.line, "")
        place_repeated_key(doc.value, doc.file, doc.line)

    def value(self, value: Any, file: str, line: str | None, lineno: int | None, prefix: str) -> None:
        def at(path: str) -> str | None:
            p = (prefix + path).rstrip(".")
            return ", ".join(x for x in (line, p) if x) or None

        if isinstance(value, list):
            if prefix.count("[") >= MAX_LIST_NESTING:  # lists of lists of … documents: not trace data
                self.problem(f"lists nested more than {MAX_LIST_NESTING} deep: not OTLP JSON", file, at(""))
                return
            if not value:  # named if nothing else loads (it said "no spans found", naming no file)
                self.empty_at("the JSON list is empty", file, at(""))
            for i, v in enumerate(value):
                self.value(v, file, line, lineno, f"{prefix}[{i}].")
            return
        if not isinstance(value, dict):
            self.problem(f"expected an OTLP JSON object with 'resourceSpans', got a JSON {json_kind(value)}",
                         file, at(""))
            return
        if DUPLICATE_KEYS in value:  # its list of ResourceSpans given twice: the first would be lost
            self.problem(duplicate_reason(value[DUPLICATE_KEYS]), file, at(""))
            return
        key = _container(value)
        if key is None and "result" in value:
            self.value(value["result"], file, line, lineno, prefix + "result.")
            return
        if key is None:
            other = non_trace_otlp(value)
            if other is not None:
                self.ignore(f"{other}: not trace data", file, at(""))
                return
            keys = ", ".join(map(str, list(value)[:5])) or "none"
            shape = known_shape(value)
            self.problem((f"{shape}: " if shape else "") + "not OTLP JSON: the object has neither 'resourceSpans' "
                         f"nor 'result' (keys: {keys})", file, at(""))
            return
        # every spelling present is read (``resourceSpans`` and ``resource_spans`` in one object: both lists)
        for key in [k for k in _CONTAINERS if k in value]:
            rss = value[key]
            if rss is None or rss == []:
                self.empty_at(f"{key} is {'null' if rss is None else 'empty'}", file, at(key))
                continue
            if not isinstance(rss, list):
                self.problem(f"{key} must be a list", file, at(key))
                continue
            for i, rs in enumerate(rss):
                self.resource_spans(rs, file, line, lineno if lineno is not None else i, at, f"{key}[{i}]")

    def resource_spans(self, rs: Any, file: str, line, record: int, at, path: str) -> None:
        if not isinstance(rs, dict):
            self.problem(f"expected a ResourceSpans object, got {short(rs)}", file, at(path))
            return
        if DUPLICATE_KEYS in rs:  # its resource or ScopeSpans given twice: refused whole, naming the key
            self.problem(duplicate_reason(rs[DUPLICATE_KEYS]), file, at(path))
            return
        if _snake_case(rs):
            try:
                rs = _camel_case(rs, strict=True)  # proto field names (scope_spans, trace_id, ...): a converted copy
            except _Bad:
                # a field spelt twice with two values: said where it is (a span: that span alone is left out)
                try:
                    rs = _camel_case(_spans_held(rs), strict=True)
                except _Bad as exc:
                    self.problem(str(exc), file, at(path))
                    return
        try:
            resource = rs.get("resource") or {}
            if not isinstance(resource, dict):
                raise _Bad(f"resource must be an object, got {short(resource)}")
            if DUPLICATE_KEYS in resource:
                raise _Bad(duplicate_reason(resource[DUPLICATE_KEYS]))
            rattrs = _attrs(resource.get("attributes"))
            if "droppedAttributesCount" in resource:
                rattrs["otel.resource.dropped_attributes_count"] = _count(resource["droppedAttributesCount"],
                                                                          "resource droppedAttributesCount")
            if "entityRefs" in resource:
                rattrs["otel.resource.entity_refs"] = json_copy(resource["entityRefs"])  # (not the caller's object)
            if "schemaUrl" in rs:
                rattrs["otel.schema_url"] = rs["schemaUrl"]
        except _Bad as exc:
            self.problem(str(exc), file, at(path + ".resource"))
            return
        svc = rattrs.get("service.name")
        service = service_name(svc)  # missing, empty or blank: unknown_service (one rule)
        key, sss, not_read = scope_list(rs, "scopeSpans", "instrumentationLibrarySpans")  # (the collector's rule)
        scope_key = "scope" if key == "scopeSpans" else "instrumentationLibrary"
        if not_read:
            self.ignore(not_read, file, at(f"{path}.instrumentationLibrarySpans"))
        if sss is None:
            unknown = [k for k in rs if k not in _RESOURCE_SPANS_KEYS]
            if unknown:
                self.problem(f"ResourceSpans has no 'scopeSpans' (nor 'instrumentationLibrarySpans') list; its keys: "
                             f"{', '.join(map(str, rs))[:120]}", file, at(path))
            else:
                self.empty_at(f"{path} has no scopeSpans", file, at(path))
            return
        if not isinstance(sss, list):
            self.problem(f"{key} must be a list", file, at(f"{path}.{key}"))
            return
        if not sss:
            self.empty_at(f"{path}.{key} is empty", file, at(f"{path}.{key}"))
            return
        for j, ss in enumerate(sss):
            spath = f"{path}.{key}[{j}]"
            if not isinstance(ss, dict):
                self.problem(f"expected a ScopeSpans object, got {short(ss)}", file, at(spath))
                continue
            if DUPLICATE_KEYS in ss:  # its spans or scope given twice: refused whole, naming the key
                self.problem(duplicate_reason(ss[DUPLICATE_KEYS]), file, at(spath))
                continue
            try:
                res = dict(rattrs)
                scope = ss.get(scope_key)
                if scope:
                    if not isinstance(scope, dict):
                        raise _Bad(f"{scope_key} must be an object, got {short(scope)}")
                    if DUPLICATE_KEYS in scope:
                        raise _Bad(duplicate_reason(scope[DUPLICATE_KEYS]))
                    if "name" in scope:
                        res["otel.scope.name"] = scope["name"]
                    if "version" in scope:
                        res["otel.scope.version"] = scope["version"]
                    for k, v in _attrs(scope.get("attributes")).items():
                        res[SCOPE_ATTR_PREFIX + k] = v
                    if "droppedAttributesCount" in scope:
                        res["otel.scope.dropped_attributes_count"] = _count(scope["droppedAttributesCount"],
                                                                            "scope droppedAttributesCount")
                if "schemaUrl" in ss:
                    res["otel.scope.schema_url"] = ss["schemaUrl"]
            except _Bad as exc:
                self.problem(str(exc), file, at(f"{spath}.{scope_key}"))
                continue
            spans = ss.get("spans")
            if type(spans) is _Held:
                spans = spans.value  # as given: each span converted (and checked) on its own
            if not spans:
                self.empty_at(f"{spath}.spans is {'empty' if spans == [] else 'absent'}", file, at(spath))
                continue
            if not isinstance(spans, list):
                self.problem("spans must be a list", file, at(spath + ".spans"))
                continue
            block = _Block(self.count, file, record, at(spath), service, res)
            self.blocks.append(block)
            self.spans(spans, file, at, spath, block)
            if len(self.tid) >= _FLUSH:
                self.flush()

    def spans(self, spans: list, file: str, at, spath: str, block: _Block) -> None:
        tid_ap, sid_ap, pid_ap = self.tid.append, self.sid.append, self.pid.append
        name_ap, kind_ap, start_ap, end_ap = self.name.append, self.kind.append, self.start.append, self.end.append
        status_ap, msg_ap, http_ap = self.status.append, self.message.append, self.http.append
        attrs_ap, ev_ap, lk_ap, state_ap, flags_ap = (self.attrs.append, self.events.append, self.links.append,
                                                     self.state.append, self.flags.append)
        kinds, statuses = _KINDS, _STATUS
        for k, sp in enumerate(spans):
            try:
                if type(sp) is dict and DUPLICATE_KEYS in sp:
                    raise _Bad(duplicate_reason(sp[DUPLICATE_KEYS]))
                if type(sp) is dict and ("traceId" not in sp or not _SNAKE_SPAN_FIELDS.isdisjoint(sp)) \
                        and _snake_case(sp):
                    # proto field names in a span the first-span check did not see (also beside JSON names)
                    sp = _camel_case(sp, strict=True)
                a = sp.get("attributes")
                attrs = _attrs(a) if a else {}
                k_ = sp.get("kind", 0)
                try:
                    if type(k_) is not int and (type(k_) is bool or type(k_) is float):  # true == 1, 2.0 == 2 as keys
                        raise KeyError
                    kind = kinds[k_]
                except (KeyError, TypeError):  # TypeError: an object or a list (unhashable)
                    raise _Bad(f"kind must be a SpanKind (0-5), got {short(k_)}{_json_type(k_)}") from None
                st = sp.get("status")
                if st:
                    code = st.get("code", 0)
                    try:
                        if type(code) is not int and (type(code) is bool or type(code) is float):
                            raise KeyError
                        status = statuses[code]
                    except (KeyError, TypeError):
                        raise _Bad(f"status.code must be 0, 1 or 2, got {short(code)}{_json_type(code)}") from None
                    msg = st.get("message") or None
                    if msg is not None and type(msg) is not str:
                        raise _Bad(f"status.message must be a string, got {short(msg)}")
                    if "deprecatedCode" in st:
                        dep = st["deprecatedCode"]
                        attrs["otel.status.deprecated_code"] = dep
                        if status == "unset" and dep not in _DEPRECATED_OK:
                            status = "error"
                else:
                    status, msg = "unset", None
                if attrs:
                    if status == "unset" and "rpc.grpc.status_code" in attrs and grpc_status_error(
                            attrs["rpc.grpc.status_code"], kind):  # semconv's span status from the gRPC code
                        status = "error"
                    h = attrs.get("http.response.status_code")
                    if h is None:
                        h = attrs.get("http.status_code")
                    if h is not None:
                        h = _http_status(h)
                else:
                    h = None
                ev = sp.get("events")
                events = (_events(ev) if self.errors == "raise" else _events(
                    ev, lambda where, why, k=k: self.problem(why, file, at(f"{spath}.spans[{k}].{where}")))) if ev else []
                lk = sp.get("links")
                links = (_links(lk) if self.errors == "raise" else _links(
                    lk, lambda where, why, k=k: self.problem(why, file, at(f"{spath}.spans[{k}].{where}")))) if lk else []
                if "droppedAttributesCount" in sp:
                    attrs["otel.dropped_attributes_count"] = _count(sp["droppedAttributesCount"], "droppedAttributesCount")
                if "droppedEventsCount" in sp:
                    attrs["otel.dropped_events_count"] = _count(sp["droppedEventsCount"], "droppedEventsCount")
                if "droppedLinksCount" in sp:
                    attrs["otel.dropped_links_count"] = _count(sp["droppedLinksCount"], "droppedLinksCount")
                start = sp.get("startTimeUnixNano", 0)
                end = sp.get("endTimeUnixNano")
                name = sp.get("name", "")
                if type(name) is not str:
                    raise _Bad(f"name must be a string, got {short(name)}")
                state = sp.get("traceState") or None
                if state is not None and type(state) is not str:
                    raise _Bad(f"traceState must be a string, got {short(state)}")
                flags = _flags(sp.get("flags"))
            except _Bad as exc:
                self.problem(str(exc), file, at(f"{spath}.spans[{k}]"))
                block.drop(k)
                continue
            except (AttributeError, TypeError):  # sp or status is not an object
                what = (f"expected a Span object, got {short(sp)}" if type(sp) is not dict
                        else f"status must be an object, got {short(sp.get('status'))}")
                self.problem(what, file, at(f"{spath}.spans[{k}]"))
                block.drop(k)
                continue
            tid_ap(sp.get("traceId"))
            sid_ap(sp.get("spanId"))
            pid_ap(sp.get("parentSpanId"))
            name_ap(name)
            kind_ap(kind)
            start_ap(start)
            end_ap(end)
            status_ap(status)
            msg_ap(msg)
            http_ap(h)
            attrs_ap(attrs)
            ev_ap(events)
            lk_ap(links)
            state_ap(state)
            flags_ap(flags)

    # -- column-wise checks ----------------------------------------------------------------------
    def where(self, i: int) -> tuple[str, str | None]:
        """File and record path of row ``i`` (before any row was dropped)."""
        if getattr(self, "_starts", None) is None or len(self._starts) != len(self.blocks):
            self._starts = [x.start for x in self.blocks]
        b = self.blocks[bisect.bisect_right(self._starts, i) - 1]
        return b.file, f"{b.where}.spans[{b.position(i - b.start)}]"


def _ids(raw: list, n: int, what: str, required: bool) -> tuple[pa.Array, np.ndarray, list[tuple[int, str]]]:
    """Lower-case and check hex ids column-wise: (array with nulls for no-id, bad mask, [(row, reason)])."""
    try:
        arr = pa.array(raw, type=pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        arr = pa.array([x if type(x) is str or x is None else "\0" for x in raw], type=pa.large_string())
    if hex_ids(arr, n, nulls=not required, zeros=False):  # the usual column: nothing to change
        return arr, np.zeros(len(raw), dtype=bool), []
    low = pc.ascii_lower(arr)  # a non-ASCII id fails the hex check anyway
    ok = pc.match_substring_regex(low, f"^[0-9a-f]{{{n}}}$")
    if not pc.all(pc.fill_null(ok, True)).as_py():
        # base64 ids (protobuf's standard JSON mapping: Tempo, MessageToDict) of the right byte length, X-Ray
        # trace ids (a hand-made or converted file): only here, after the usual column failed the check
        vals = low.to_pylist()
        changed = False
        for i in np.flatnonzero(~np.asarray(pc.fill_null(ok, True).to_numpy(zero_copy_only=False), dtype=bool)):
            h = _other_form_hex(raw[i], n)
            if h is not None:
                vals[i], changed = h, True
        if changed:
            low = pa.array(vals, type=pa.large_string())
            ok = pc.match_substring_regex(low, f"^[0-9a-f]{{{n}}}$")
    empty = pc.or_kleene(pc.is_null(low), pc.equal(low, ""))
    zero = pc.equal(low, "0" * n)
    missing = pc.fill_null(pc.or_kleene(empty, zero), True)
    valid = pc.fill_null(pc.or_kleene(ok, missing), False)
    ids = pc.if_else(missing, pa.scalar(None, pa.large_string()), low)
    bad = ~np.asarray(valid.to_numpy(zero_copy_only=False), dtype=bool)
    problems = []
    if bad.any():
        for i in np.flatnonzero(bad):
            problems.append((int(i), f"{what} must be {n} hex digits, got {short(raw[i])}"))
    if required:
        miss = np.asarray(missing.to_numpy(zero_copy_only=False), dtype=bool)
        if miss.any():
            for i in np.flatnonzero(miss):
                problems.append((int(i), f"span has no {what} ({short(raw[i])}); a span needs a trace id and a span id"))
            bad |= miss
    return ids, bad, problems


def _times(raw: list, what: str, nullable: bool) -> tuple[np.ndarray, np.ndarray, list[tuple[int, str]]]:
    """int64 ns from strings or numbers: (values with NaT sentinel, bad mask, [(row, reason)])."""
    n = len(raw)
    try:
        arr = pa.array(raw)
        if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
            # Arrow's cast also takes "0x10" (= 16): decimal digits only, as the slow path
            if not pc.all(pc.fill_null(pc.ascii_is_decimal(arr), True)).as_py():  # non-empty, ASCII 0-9
                raise pa.ArrowInvalid("not decimal")
            arr = pc.cast(arr, pa.int64())
        elif pa.types.is_integer(arr.type) or pa.types.is_null(arr.type):
            arr = pc.cast(arr, pa.int64())
        else:
            raise pa.ArrowInvalid("not integers")
        if len(arr) and pc.min(arr).as_py() is not None and (pc.min(arr).as_py() < TIME_MIN_NS or pc.max(arr).as_py() > TIME_MAX_NS):
            raise pa.ArrowInvalid("out of range")
        if not nullable and arr.null_count:
            raise pa.ArrowInvalid("nulls")
        return arr.fill_null(_NAT).to_numpy(), np.zeros(n, dtype=bool), []
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass
    out = np.full(n, _NAT, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    problems = []
    for i, x in enumerate(raw):
        if x is None and nullable:
            continue
        try:
            out[i] = _time(x, what)
        except _Bad as exc:
            bad[i] = True
            problems.append((i, str(exc)))
    return out, bad, problems


def _strings(values: Any) -> pd.Series:
    arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values, type=pa.large_string())
    return pd.Series(pd.arrays.ArrowStringArray(arr), copy=False)


def _objects(values: list) -> pd.Series:
    return pd.Series(np.fromiter(values, dtype=object, count=len(values)), copy=False)


def _timestamps(ns: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(ns, unit="ns", utc=True), copy=False).astype(TIMESTAMP)


def collected_frame(c: Collector) -> pd.DataFrame:
    c.flush()
    n = c.base
    ch = c.chunks

    def strings(k: str) -> pa.ChunkedArray:
        return pa.chunked_array(ch[k], type=pa.large_string())

    def ints(k: str) -> np.ndarray:
        return np.concatenate(ch[k]) if ch[k] else np.zeros(0, dtype=np.int64)

    tid, sid, pid = strings("tid"), strings("sid"), strings("pid")
    start, end = ints("start"), ints("end")
    bad = np.concatenate(ch["bad"]) if ch["bad"] else np.zeros(n, dtype=bool)

    counts = np.diff([b.start for b in c.blocks] + [n]).astype(np.int64)
    block_of_row = pa.array(np.repeat(np.arange(len(counts), dtype=np.int64), counts))

    def per_block(values: list) -> pd.Series:  # one string per block, taken for its rows
        return _strings(pc.take(pa.array(values, type=pa.large_string()), block_of_row))

    resource = np.repeat(_objects([b.resource for b in c.blocks]).to_numpy(), counts)
    srec = np.repeat(np.array([b.source_record for b in c.blocks], dtype=np.int64), counts)

    in_progress = end == _NAT
    dur = (end - start) / 1e6
    dur[in_progress] = np.nan
    http = _masked_int64(pa.chunked_array(ch["http"], type=pa.int64()))
    codes = http.to_numpy(dtype=np.int64, na_value=0)
    flag = http_status_flags(codes)  # (none from a code outside 100-599)
    status = strings("status")
    if flag["error"].any() or flag["fault"].any():  # semconv's span status from the HTTP code where it is unset
        kinds = strings("kind").to_numpy().astype(object)
        derived = np.flatnonzero(status.to_numpy().astype(object) == "unset") if n else np.zeros(0, dtype=np.int64)
        derived = derived[http_status_error(codes[derived], kinds[derived])]
        if len(derived):
            st = status.to_numpy().astype(object)
            st[derived] = "error"
            status = pa.chunked_array([pa.array(st, type=pa.large_string())])
            mark_status_from(c.attrs, derived.tolist())
    flags = _masked_int64(pa.chunked_array(ch["flags"], type=pa.int64()))
    df = pd.DataFrame({
        "trace_id": _strings(tid),
        "span_id": _strings(sid),
        "parent_id": _strings(pid),
        "service": per_block([b.service for b in c.blocks]),
        "name": _strings(named(strings("name"))),
        "kind": _strings(strings("kind")),
        "start": _timestamps(start),
        "end": _timestamps(end),
        "duration_ms": pd.Series(dur, copy=False),
        "status": _strings(status),
        "status_message": _strings(strings("message")),
        "http_status": pd.Series(http, copy=False),
        "error": pd.Series(flag["error"], copy=False),
        "fault": pd.Series(flag["fault"], copy=False),
        "throttle": pd.Series(flag["throttle"], copy=False),
        "attributes": _objects(c.attrs),
        "resource": pd.Series(resource, copy=False),
        "events": _objects(c.events),
        "links": _objects(c.links),
        "trace_state": _strings(strings("state")),
        "flags": pd.Series(flags, copy=False),
        "in_progress": pd.Series(in_progress, copy=False),
        "inferred": pd.Series(np.zeros(n, dtype=bool), copy=False),
        "source": _strings(pc.take(pa.array(["otlp"], type=pa.large_string()), np.zeros(n, dtype=np.int64))),
        "source_file": per_block([b.file for b in c.blocks]),
        "source_record": pd.Series(pd.array(srec, dtype="Int64"), copy=False),
    }, copy=False)
    keep = ~bad
    copies = 0
    dup_rows = duplicate_candidates(sid)
    if dup_rows is not None:
        dup_rows = dup_rows[keep[dup_rows]]  # the copy kept is one of the rows that stay
    if dup_rows is not None and len(dup_rows) > 1:  # copies of one span read twice: the X-Ray reader's rule (io._copies)
        drop = duplicates_to_drop(df, dup_rows)
        copies = int(np.count_nonzero(drop & keep))
        keep &= ~drop
    if not keep.all():
        df = df.loc[keep].reset_index(drop=True)
    df = df[list(COLUMN_NAMES)]
    df.attrs["copies_dropped"] = copies
    return df


def _int64_arrow(values: list, fix: Any) -> pa.Array:
    """An int64 Arrow array from ints and None (fast); odd values go through ``fix``."""
    try:
        return pa.array(values, type=pa.int64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([_in_int64(fix(x)) for x in values], type=pa.int64())


def _in_int64(x: int | None) -> int | None:
    return x if x is None or -(2**63) <= x <= _INT64_MAX else None


def _masked_int64(arr: pa.ChunkedArray) -> pd.arrays.IntegerArray:
    mask = arr.is_null().to_numpy() if len(arr) else np.zeros(0, dtype=bool)
    data = arr.fill_null(0).to_numpy() if len(arr) else np.zeros(0, dtype=np.int64)
    return pd.arrays.IntegerArray(np.asarray(data, dtype=np.int64), np.asarray(mask, dtype=bool))


_U32_MAX = 2**32 - 1


def _flags(x: Any, what: str = "flags") -> int | None:
    """A span's or link's ``flags`` (fixed32: the W3C trace flags and the is-remote bits), an int or a decimal
    string; anything else is bad input (was read as missing)."""
    if x is None or (type(x) is int and 0 <= x <= _U32_MAX):
        return x
    if type(x) is str and x.isdigit() and x.isascii() and int(x) <= _U32_MAX:
        return int(x)
    raise _Bad(f"{what} must be a 32-bit unsigned integer (the W3C trace flags and the is-remote bits), got {short(x)}")


# ---------------------------------------------------------------------------------------------
# sources


def _sub_sources(source: Any) -> list[Any]:
    """Split a source into independently readable parts (one per file), so that one bad file
    does not stop the others in lenient mode; a file named twice (a folder and a file in it, a path and a symlink
    to it) is one part (io._copies.each_path_once, the rule of every reader)."""
    return each_path_once(list(_parts_of(source)))


def _parts_of(source: Any) -> Iterator[Any]:
    if isinstance(source, (list, tuple)) and source and all(is_pathlike(x) for x in source):
        for s in source:
            yield from _parts_of(s)
    elif is_pathlike(source) and checked_path(source).is_dir():
        files = list_files(Path(source))
        if not files:
            yield source  # iter_documents raises the clear error
        yield from files
    else:
        yield source


def otlp_documents(source: Any, collector: Collector, keys: tuple[str, ...] = CHECKED_KEYS,
                   records: Callable[[Any], Iterable[dict]] = span_records) -> Iterator[Document]:
    """Documents of every part of ``source``; in lenient mode a bad file or line is recorded
    and reading goes on with the next line or file. Integers beyond 64 bits are kept exact
    (:func:`tracekit.io._sources.exact_ints`), as the fast path's decoder keeps them. ``keys`` given twice with
    different values in one of ``records`` mark it (:func:`tracekit.io._sources.unique_keys`; ``tk.read`` passes
    the X-Ray keys and records too)."""
    on_bad_line = None if collector.errors == "raise" else collector.skip_error
    for part in _sub_sources(source):
        try:
            yield from iter_documents(part, on_bad_line, exact=True, keys=keys, records=records)
        except TraceFormatError as exc:
            collector.skip_error(exc) if exc.file else collector.problem(exc.reason, _name(part), exc.record)


def _name(part: Any) -> str:
    return display_name(part) if is_pathlike(part) else OBJECT


def finish_read(c: Collector, df: pd.DataFrame, what: str = "OTLP", source: Any = None) -> pd.DataFrame:
    """Close a read: never 0 spans silently, ``attrs["skipped"]``/``["ignored"]`` set (with the files of
    ``source``'s directories no reader reads), one warning for the skipped records."""
    if not len(df) and not c.skipped:
        c.skip_error(c.no_spans())  # never 0 spans silently
    return close_read(df, c.skipped, c.ignored, f"{{n}} {what} record{{s}} skipped", stacklevel=3, source=source)


# building blocks other OTLP signals' readers share (metrics: tracekit.io.metrics, logs: tracekit.io.logs)
BadValue = _Bad
decode_any_value = _any
decode_attributes = _attrs
camel_case_keys = _camel_case
source_parts = _sub_sources
