"""The fast path of :func:`tracekit.io.readers.read_otlp`: typed decoding with msgspec.

A line of collector JSON lines (or a whole single-document file) is decoded straight into
``msgspec`` Structs declared from the OTLP/JSON shape (``opentelemetry-proto``
``trace/v1/trace.proto`` with the JSON mapping's lowerCamelCase names). Decoding into Structs
skips building a dict (and its key strings) for every span, KeyValue and AnyValue, which pays
for the per-span pass; the pass then appends the same raw values to the same
:class:`~tracekit.io.otlp.Collector` lists as the checked pass, so ids, times, http status and
flags are checked and converted by the same column-wise code, and errors name the same record.

The pass runs column by column (``map``/``attrgetter`` over up to ``_PASS`` spans of a document
at once, whatever their scopeSpans), except the attribute dicts, which a plain per-span loop
builds fastest (a flat key/value pipeline with ``dict(zip(...))`` measured 2.3x slower: every
extra pass over the Structs misses the CPU caches). Attribute keys are interned (they repeat on
every span: 20% less memory). A single document of ``_SPLIT`` bytes or more is decoded one
ResourceSpans at a time (``msgspec.Raw`` slices), so that the Structs of the whole document never
exist at once (they took 3.6x the file).

The fast path only takes what it is sure to map exactly as the checked path does. Anything
else falls back, per line (JSON lines) or per document (a single-value file), to the checked
code, which then reports errors, lists skipped records and keeps unknown shapes as it always
did:

* a key the Structs do not declare (``forbid_unknown_fields``: Tempo ``batches``, snake_case
  proto names, ``instrumentationLibrarySpans``, ``entityRefs``, the ``{"result": …}`` wrapper,
  metrics/logs lines, unknown AnyValue shapes…), a JSON type other than the declared one
  (``null`` where a value is expected, a float kind, an object status code…);
* an integer outside int64 (orjson keeps integers up to 2^64−1 and gives a float beyond: the
  checked path decides what such a number means);
* a trace/span/parent id whose length is not 32/16/16 (0 for a root's parent), a kind or
  status code that is not a known SpanKind/StatusCode, ``doubleValue`` given as a string,
  an event time or link id the checked helpers reject, a kvlist/array nested deeper than 64;
* a document with no spans somewhere (empty or missing ``resourceSpans``/``scopeSpans``/
  ``spans``), or a top-level list;
* a line that is not valid JSON, or a file whose first non-blank byte (after a UTF-8 BOM) is not
  ``{``: the rest of the file, from that line on, is read by the checked code
  (:func:`tracekit.io._sources.parse_json`). Blank and whitespace-only lines are passed over, as
  parse_json passes over them, and lines keep their numbers in the file.

Duplicate keys: a document whose text may hold an identity key (``traceId``, ``spanId``, ``parentSpanId``,
``startTimeUnixNano``, ``endTimeUnixNano``, ``name``) twice in one object is read by the checked code, which parses it
again seeing every pair and refuses the span, naming the key (:data:`tracekit.io.otlp.IDENTITY_KEYS`). "May hold":
the quoted key's count in the document's bytes (three substring counts, ~10% of a read) is not the number of Structs
that hold it (a key given twice, or a string value that ends with the key's word, adds one) — then the key with its
colon is counted, unless a key has white space before its colon (:func:`tracekit.io._sources.keys_repeat`) — or a key
is spelt with an escaped letter. A field at its default given explicitly
(``"name": ""``, ``"parentSpanId": null``) is counted as absent, so it sends its document to the checked code too:
slower, never wrong.

Attributes: a KeyValue list giving a key twice (each KeyValue adds one key: the dict is shorter than the list) sends
its document to the checked code, which keeps the first value and counts the list. A value holding two kinds
(``{"stringValue": "a", "intValue": "3"}``) would be read as its first: the document's count of the kinds' keys
(``Value"``, a fourth substring count, ~3.5% of a read) is compared with the AnyValues the pass decoded holding a
kind (:func:`_value`'s ``tally``); larger, the checked code reads the document and refuses the span.

``STATS`` counts the lines/documents taken by the fast path and those that fell back (tests
use it to prove the fast path is taken; it costs one integer add per document).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from itertools import compress, count, repeat
from operator import attrgetter, is_not
from sys import intern
from typing import Annotated, Any

import msgspec
import orjson
from msgspec import UNSET, Meta, Struct, UnsetType

from ..errors import TraceFormatError
from ..schema import grpc_status_error, service_name
from . import otlp as _otlp  # the checked code (never imports this module back)
from ._progress import Progress
from ._sources import (
    OBJECT,
    Document,
    checked_path,
    display_name,
    exact_ints,
    is_pathlike,
    key_counts,
    keys_repeat,
    object_bytes,
    parse_json,
    read_bytes,
    text_bytes,
    unique_keys,
)

__all__ = ["read_into", "STATS"]

#: integers orjson keeps as ints (beyond this range it parses a JSON number as a float)
_Int = Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)]  # int64


def int_text(x: str) -> int:
    """An integer written as a decimal string (OTLP/JSON's int64 form): the checked reader's rule, decimal digits
    with an optional ``-``; :class:`_Fallback` for anything else (``int()`` would take " 5", "+5", "1_000", "٥"),
    which the checked reader then names."""
    if x.isascii() and (x[1:] if x[:1] == "-" else x).isdigit():
        return int(x)
    raise _Fallback
_U32 = Annotated[int, Meta(ge=0, le=2**32 - 1)]  # fixed32 flags (out of range: the checked path says so)
_MAX_DEPTH = 64
# checked by msgspec while decoding (a DecodeError sends the line or document to the checked
# code): a trace id that is not 32 characters, a span id that is not 16
_TraceId = Annotated[str, Meta(min_length=32, max_length=32)]
_SpanId = Annotated[str, Meta(min_length=16, max_length=16)]

#: fast-path counters: documents (lines) taken, fallen back (per line/document) and files
#: (or rests of files) read by the checked code
STATS = {"fast": 0, "fallback": 0, "checked_rest": 0}
#: False sends every source to the checked code (tests compare the two paths)
ENABLED = True


class _Base(Struct, forbid_unknown_fields=True, gc=False):
    pass


class AnyValue(_Base):
    stringValue: str | UnsetType = UNSET
    boolValue: bool | UnsetType = UNSET
    intValue: _Int | str | UnsetType = UNSET
    doubleValue: _Int | float | UnsetType = UNSET
    bytesValue: str | UnsetType = UNSET
    arrayValue: ArrayValue | UnsetType = UNSET
    kvlistValue: KeyValueList | UnsetType = UNSET


class ArrayValue(_Base):
    values: list[AnyValue | None] | UnsetType = UNSET


class KeyValueList(_Base):
    values: list[KeyValue] | UnsetType = UNSET


class KeyValue(_Base):
    key: str = ""
    value: AnyValue | None = None


class Status(_Base):
    code: _Int | str = 0
    message: str | None = None
    deprecatedCode: _Int | str | UnsetType = UNSET


# UNSET where a field may be absent: the identity keys a document holds are counted exactly (:func:`_seen`), an
# explicit default (``"name": ""``, ``"endTimeUnixNano": null``) apart from an absent field
class Event(_Base):
    timeUnixNano: _Int | str | None | UnsetType = UNSET
    name: str | UnsetType = UNSET
    attributes: list[KeyValue] | None = None
    droppedAttributesCount: _Int | UnsetType = UNSET


class Link(_Base):
    traceId: str | None | UnsetType = UNSET
    spanId: str | None | UnsetType = UNSET
    traceState: str | None = None
    flags: _U32 | str | None = None
    attributes: list[KeyValue] | None = None
    droppedAttributesCount: _Int | UnsetType = UNSET


class Span(_Base):
    traceId: _TraceId  # required: a missing id is the checked path's to report
    spanId: _SpanId
    parentSpanId: str | None | UnsetType = UNSET
    traceState: str | None = None
    flags: _U32 | str | None = None
    name: str | UnsetType = UNSET
    kind: _Int | str = 0
    startTimeUnixNano: _Int | str | UnsetType = UNSET
    endTimeUnixNano: _Int | str | None | UnsetType = UNSET
    attributes: list[KeyValue] | None = ()  # () when absent: len() in the column pass
    droppedAttributesCount: _Int | UnsetType = UNSET
    events: list[Event] | None = None
    droppedEventsCount: _Int | UnsetType = UNSET
    links: list[Link] | None = None
    droppedLinksCount: _Int | UnsetType = UNSET
    status: Status | None = None


class Scope(_Base):
    name: str | UnsetType = UNSET
    version: str | UnsetType = UNSET
    attributes: list[KeyValue] | None = None
    droppedAttributesCount: _Int | UnsetType = UNSET


class ScopeSpans(_Base):
    scope: Scope | None = None
    spans: list[Span] | None = None
    schemaUrl: str | UnsetType = UNSET


class Resource(_Base):
    attributes: list[KeyValue] | None = None
    droppedAttributesCount: _Int | UnsetType = UNSET


class ResourceSpans(_Base):
    resource: Resource | None = None
    scopeSpans: list[ScopeSpans] | None = None
    schemaUrl: str | UnsetType = UNSET


class TracesData(_Base):
    resourceSpans: list[ResourceSpans]


_DECODER = msgspec.json.Decoder(TracesData)
#: the identity keys as the Structs spell them (camelCase; a snake_case key is an unknown field: checked code),
#: counted in three substring passes by the endings they share (:func:`_seen` counts the Structs that hold them in
#: the same groups): ``traceId``, ``spanId``, ``parentSpanId`` (spans, links); ``startTimeUnixNano``,
#: ``endTimeUnixNano`` (spans), ``timeUnixNano`` (events); ``name`` (spans, events, scopes). No other key of the
#: Structs ends so. One pass per key measured 1.2x a read; three, 1.1x. Each is counted up to the key's closing
#: quote; the colon is looked for only when these counts are larger (:func:`tracekit.io._sources.keys_repeat`).
#: Then the AnyValue kinds (``Value"``) and a span's ``"status"`` (given twice, its first code was lost without a word:
#: 1.7% of a read, 61,376 spans); a list given twice (spans, events, links, attributes) loses keys counted here, so
#: its document goes to the checked code, which refuses the object holding it (:data:`tracekit.io.otlp.CONTAINER_KEYS`)
_KEYS = (b'Id"', b'UnixNano"', b'"name"', b'Value"', b'"status"')
_NO_STATUS = Status()  # an absent status, in a column pass where others have one


class _Fallback(Exception):
    """The fast path does not cover this document: the checked path reads it."""


# ---------------------------------------------------------------------------------------------
# AnyValue / KeyValue (the checked path's _any/_attrs, on Structs)


def _value(v: AnyValue | None, depth: int, tally: list[int] | None = None) -> Any:
    """One AnyValue, as the checked ``_any`` reads it (a value holding two kinds: :func:`_checked_attrs` or the
    document's ``Value"`` count sends it to the checked code). ``tally[0]``: the AnyValues holding a kind, counted
    in the document (its KeyValues counted by the caller: one less for a value without a kind, one more for each
    element of an array or a kvlist)."""
    if v is None:
        if tally is not None:
            tally[0] -= 1
        return None
    x = v.stringValue
    if x is not UNSET:
        return x
    x = v.boolValue
    if x is not UNSET:
        return x
    x = v.intValue
    if x is not UNSET:
        if type(x) is int:
            return x
        return int_text(x)
    x = v.doubleValue
    if x is not UNSET:
        return float(x)
    x = v.bytesValue
    if x is not UNSET:
        return x
    if depth > _MAX_DEPTH:
        raise _Fallback
    x = v.arrayValue
    if x is not UNSET:
        vals = x.values
        if vals is UNSET:
            return []
        if tally is not None:
            tally[0] += len(vals)
        return [_value(a, depth + 1, tally) for a in vals]
    x = v.kvlistValue
    if x is not UNSET:
        vals = x.values
        if vals is UNSET:
            return {}
        if tally is not None:
            tally[0] += len(vals)
        return _attrs(vals, depth + 1, tally)
    if tally is not None:
        tally[0] -= 1  # {}
    return None


def _attrs(kvs: list[KeyValue] | None, depth: int = 0, tally: list[int] | None = None) -> dict:
    """A KeyValue list as the checked ``decode_attributes`` reads it; a key given twice: :class:`_Fallback` (the
    checked code keeps the first value and counts the list). ``tally``: see :func:`_value`."""
    # a plain loop: measured faster than a comprehension plus fix-ups, or dict(zip(map(...)))
    out: dict = {}
    if not kvs:
        return out
    for kv in kvs:
        v = kv.value
        key = intern(kv.key)  # keys repeat on every span: one string each (-20% memory, +3% time)
        if v is not None:
            x = v.stringValue
            if x is not UNSET:
                out[key] = x
                continue
            x = v.intValue
            if type(x) is str:
                out[key] = int_text(x)
                continue
        out[key] = _value(v, depth, tally)
    if len(out) != len(kvs):  # a key given twice (each KeyValue adds one)
        raise _Fallback
    return out


_KINDS_OF = attrgetter(*AnyValue.__struct_fields__)


def _checked_attrs(kvs: list[KeyValue] | None) -> dict:
    """:func:`_attrs`, every AnyValue first looked at for a second kind (:class:`_Fallback`): for the readers that
    decode each distinct KeyValue list once (metrics, logs' attributes: :func:`struct_attributes`); the spans'
    lists are checked by the document's ``Value"`` count instead (:data:`_KEYS`)."""
    stack: list = [kvs or ()]
    while stack:
        for kv in stack.pop():
            v = kv.value if type(kv) is KeyValue else kv
            if v is None:
                continue
            kinds = _KINDS_OF(v)
            if kinds.count(UNSET) < len(kinds) - 1:
                raise _Fallback
            a, kl = v.arrayValue, v.kvlistValue
            if a is not UNSET and a.values is not UNSET:
                stack.append(a.values)
            elif kl is not UNSET and kl.values is not UNSET:
                stack.append(kl.values)
    return _attrs(kvs)


def _events(evs: list[Event], tally: list[int]) -> list:
    out = []
    for e in evs:
        t = e.timeUnixNano
        if t is None or t is UNSET:
            t = None
        else:
            try:
                t = _otlp._time(t, "event timeUnixNano") or None  # 0: proto3's unset value, not 1970
            except _otlp._Bad:
                raise _Fallback from None
        d = {"time": t, "name": "" if e.name is UNSET else e.name, "attributes": _attrs(e.attributes, 0, tally)}
        tally[0] += len(e.attributes or ())
        if e.droppedAttributesCount is not UNSET:
            d["dropped_attributes_count"] = e.droppedAttributesCount
        out.append(d)
    return out


def _links(lks: list[Link], tally: list[int]) -> list:
    out = []
    link_id = _otlp._link_id
    for lk in lks:
        try:
            d = {
                "trace_id": link_id(None if lk.traceId is UNSET else lk.traceId, 32, "link traceId"),
                "span_id": link_id(None if lk.spanId is UNSET else lk.spanId, 16, "link spanId"),
                "trace_state": lk.traceState or None,
                "flags": lk.flags if type(lk.flags) is not str else _otlp._flags(lk.flags, "link flags"),
                "attributes": _attrs(lk.attributes, 0, tally),
            }
            tally[0] += len(lk.attributes or ())
        except _otlp._Bad:
            raise _Fallback from None
        if lk.droppedAttributesCount is not UNSET:
            d["dropped_attributes_count"] = lk.droppedAttributesCount
        out.append(d)
    return out


# ---------------------------------------------------------------------------------------------
# one decoded document into the collector


def _check_shape(rs: ResourceSpans) -> ResourceSpans:
    """Every level holds something (the checked path decides what an empty level means)."""
    if not rs.scopeSpans:
        raise _Fallback
    for ss in rs.scopeSpans:
        if not ss.spans:
            raise _Fallback
    return rs


def _document(c: _otlp.Collector, rss: Iterable[ResourceSpans], file: str, lineno: int | None,
              raw: tuple[list[int] | None, bytes | memoryview, int, int | None]) -> None:
    """Append a decoded document (its ResourceSpans) to ``c``; on :class:`_Fallback` (or a
    ResourceSpans the decoder refuses) nothing of it is kept. ``raw``: the identity keys' counts in the document's
    text (:func:`tracekit.io._sources.key_counts` of :data:`_KEYS`), the text, its start and stop; when an object
    may hold a key twice (:func:`tracekit.io._sources.keys_repeat`): :class:`_Fallback` (the checked code
    decides)."""
    n0, b0 = len(c.tid), len(c.blocks)
    seen = [0, 0, 0, 0, 0]
    try:
        _append(c, rss, file, lineno, seen)
        if keys_repeat(raw[0], seen, raw[1], raw[2], raw[3], words=_KEYS):
            raise _Fallback
    except BaseException:
        for k in ("tid", "sid", "pid", "name", "kind", "start", "end", "status", "message", "http", "attrs",
                  "events", "links", "state", "flags"):
            del getattr(c, k)[n0:]
        del c.blocks[b0:]
        raise


def _append(c: _otlp.Collector, rss: Iterable[ResourceSpans], file: str, lineno: int | None, seen: list[int]) -> None:
    line = f"line {lineno}, " if lineno is not None else ""
    pending: list[Span] = []  # the spans of the next column passes
    tally = [0]  # the AnyValues of resources and scopes holding a kind (_value)
    for i, rs in enumerate(rss):
        _check_shape(rs)
        resource = rs.resource
        if resource is None:
            rattrs = {}
        else:
            rattrs = _attrs(resource.attributes, 0, tally)
            tally[0] += len(resource.attributes or ())
            if resource.droppedAttributesCount is not UNSET:
                rattrs["otel.resource.dropped_attributes_count"] = resource.droppedAttributesCount
        if rs.schemaUrl is not UNSET:
            rattrs["otel.schema_url"] = rs.schemaUrl
        svc = rattrs.get("service.name")
        service = service_name(svc)  # missing, empty or blank: unknown_service (one rule)
        record = lineno if lineno is not None else i
        for j, ss in enumerate(rs.scopeSpans):
            res = dict(rattrs)
            scope = ss.scope
            if scope is not None:
                if scope.name is not UNSET:
                    res["otel.scope.name"] = scope.name
                    seen[2] += 1
                if scope.version is not UNSET:
                    res["otel.scope.version"] = scope.version
                for k, v in _attrs(scope.attributes, 0, tally).items():
                    res[_otlp.SCOPE_ATTR_PREFIX + k] = v
                tally[0] += len(scope.attributes or ())
                if scope.droppedAttributesCount is not UNSET:
                    res["otel.scope.dropped_attributes_count"] = scope.droppedAttributesCount
            if ss.schemaUrl is not UNSET:
                res["otel.scope.schema_url"] = ss.schemaUrl
            c.blocks.append(_otlp._Block(c.count + len(pending), file, record,
                                         f"{line}resourceSpans[{i}].scopeSpans[{j}]", service, res))
            pending += ss.spans
            ss.spans = None  # (a fallback re-reads the bytes, not these Structs)
            if len(pending) >= _PASS:
                pending = _passes(c, pending, seen)
    if pending:
        _spans(c, pending, seen)
    seen[3] += tally[0]


def _passes(c: _otlp.Collector, pending: list, seen: list[int]) -> list:
    """Column passes over the full ``_PASS``-span pieces of ``pending``, freeing their Structs as
    they go; returns the rest."""
    size = _PASS
    full = len(pending) - len(pending) % size
    for k in range(0, full, size):
        _spans(c, pending[k:k + size], seen)
        pending[k:k + size] = [None] * size
    return pending[full:]


#: spans per column pass: a pass makes several C-level passes over its Structs, which stay in the
#: CPU caches at this size (a 30k-span pass measured 30% slower); a JSON line is one pass
_PASS = 1024
_TID, _SID, _PID, _NAME, _KIND, _START, _END, _ATTRS, _STATUSF, _EVENTS, _LINKS, _STATE, _FLAGSF = map(
    attrgetter, ("traceId", "spanId", "parentSpanId", "name", "kind", "startTimeUnixNano", "endTimeUnixNano",
                 "attributes", "status", "events", "links", "traceState", "flags"))
_CODE, _MESSAGE, _DEP = attrgetter("code"), attrgetter("message"), attrgetter("deprecatedCode")
_DROPPED = tuple((attrgetter(f), k) for f, k in (
    ("droppedAttributesCount", "otel.dropped_attributes_count"), ("droppedEventsCount", "otel.dropped_events_count"),
    ("droppedLinksCount", "otel.dropped_links_count")))
_HTTP_KEY, _HTTP_LEGACY = "http.response.status_code", "http.status_code"
_GRPC_KEY = "rpc.grpc.status_code"
_INT_OR_NONE = frozenset({int, type(None)})


def _http_value(h: Any) -> int | None:
    return None if h is None else _otlp._http_status(h)


def _spans(c: _otlp.Collector, spans: list[Span], seen: list[int]) -> None:
    """The checked pass's per-span values for ``spans``, column by column (C-level ``map`` and
    ``attrgetter`` over all of them at once); ``seen`` += how many Structs hold each of :data:`_KEYS` (a field
    at its default counted as absent)."""
    n = len(spans)
    tids, sids, pids = list(map(_TID, spans)), list(map(_SID, spans)), list(map(_PID, spans))
    if not set(map(len, filter(None, pids))) <= {16}:  # (trace and span ids: by the decoder)
        raise _Fallback  # the checked path decides about other id lengths
    kinds = list(map(_otlp._KINDS.get, map(_KIND, spans)))
    if None in kinds:
        raise _Fallback
    tally = [0]  # the AnyValues holding a kind (_value), against the document's count of the kinds' keys
    lists = list(map(_ATTRS, spans))
    attrs = [_attrs(a, 0, tally) if a else {} for a in lists]
    tally[0] += sum(map(len, filter(None, lists)))
    sts = list(map(_STATUSF, spans))
    absent = sts.count(None)
    seen[4] += n - absent  # (a status given twice lost its first code silently: counted against "status" in the text)
    if absent == n:
        status, msgs = ["unset"] * n, [None] * n
    else:
        if absent:
            sts = [_NO_STATUS if st is None else st for st in sts]
        status = list(map(_otlp._STATUS.get, map(_CODE, sts)))
        if None in status:
            raise _Fallback
        msgs = list(map(_MESSAGE, sts))
        if msgs.count(None) != n:
            msgs = [m or None for m in msgs]
        deps = list(map(_DEP, sts))
        if deps.count(UNSET) != n:
            dep_ok = _otlp._DEPRECATED_OK
            for i in compress(count(), map(is_not, deps, repeat(UNSET))):
                dep = deps[i]
                attrs[i]["otel.status.deprecated_code"] = dep
                if status[i] == "unset" and dep not in dep_ok:
                    status[i] = "error"
    grpc = list(map(dict.get, attrs, repeat(_GRPC_KEY)))
    if grpc.count(None) != n:  # semconv's span status from the gRPC code where the status is unset (the checked pass)
        for i in compress(count(), map(is_not, grpc, repeat(None))):
            if status[i] == "unset" and grpc_status_error(grpc[i], kinds[i]):
                status[i] = "error"
    http = list(map(dict.get, attrs, repeat(_HTTP_KEY)))
    if None in http:
        legacy = list(map(dict.get, attrs, repeat(_HTTP_LEGACY)))
        if legacy.count(None) != n:
            http = [a if a is not None else b for a, b in zip(http, legacy, strict=True)]
    if not set(map(type, http)) <= _INT_OR_NONE:
        http = list(map(_http_value, http))
    for get, key in _DROPPED:
        vals = list(map(get, spans))
        if vals.count(UNSET) != n:
            for a, v in zip(attrs, vals, strict=True):
                if v is not UNSET:
                    a[key] = v
    evs = list(map(_EVENTS, spans))
    events = list(map(list, repeat((), n))) if evs.count(None) == n else [_events(e, tally) if e else [] for e in evs]
    lks = list(map(_LINKS, spans))
    links = list(map(list, repeat((), n))) if lks.count(None) == n else [_links(lk, tally) if lk else [] for lk in lks]
    seen[3] += tally[0]
    states = list(map(_STATE, spans))
    if states.count(None) != n:
        states = [s or None for s in states]
    names, starts, ends = list(map(_NAME, spans)), list(map(_START, spans)), list(map(_END, spans))
    _seen(seen, n, pids, names, starts, ends, lks, evs)
    pids, names, starts, ends = _unset(pids, None), _unset(names, ""), _unset(starts, 0), _unset(ends, None)
    c.tid += tids
    c.sid += sids
    c.pid += pids
    c.name += names
    c.kind += kinds
    c.start += starts
    c.end += ends
    c.status += status
    c.message += msgs
    c.http += http
    c.attrs += attrs
    c.events += events
    c.links += links
    c.state += states
    flags = list(map(_FLAGSF, spans))
    if str in set(map(type, flags)):  # a decimal string is a value; anything else the checked path names
        try:
            flags = [_otlp._flags(f) for f in flags]
        except _otlp._Bad:
            raise _Fallback from None
    c.flags += flags


def _seen(seen: list[int], n: int, pids: list, names: list, starts: list, ends: list, lks: list, evs: list) -> None:
    """Add to ``seen`` how many of ``n`` spans (and their links and events) hold the keys of each group of
    :data:`_KEYS` (``UNSET``: absent)."""
    ids = 3 * n - pids.count(UNSET)
    times = 2 * n - starts.count(UNSET) - ends.count(UNSET)
    named = n - names.count(UNSET)
    if lks.count(None) != n:
        for lk in filter(None, lks):
            for x in lk:
                ids += (x.traceId is not UNSET) + (x.spanId is not UNSET)
    if evs.count(None) != n:
        for ev in filter(None, evs):
            for e in ev:
                named += e.name is not UNSET
                times += e.timeUnixNano is not UNSET
    seen[0] += ids
    seen[1] += times
    seen[2] += named


def _unset(values: list, default: Any) -> list:
    """``values`` with ``UNSET`` (an absent field) as the field's default."""
    return [default if v is UNSET else v for v in values] if UNSET in values else values


# what the typed decoder may raise on input the checked path reports clearly (bad JSON or UTF-8,
# lone surrogates, nesting deeper than msgspec's recursion limit): the checked path decides
_NOT_FAST = (msgspec.DecodeError, UnicodeError, RecursionError)


# ---------------------------------------------------------------------------------------------
# sources


def _raw(part: Any) -> tuple[Any, str, Callable[[], bytes] | None] | None:
    """(bytes as read, name, how to read them again) of a part that is read from bytes, or None
    (parsed JSON, a missing file…: checked path).

    Mirrors :func:`tracekit.io._sources.iter_documents` for one file, bytes, a JSON string or a
    file object. Only a file can be read again (a one-document file's bytes are dropped once
    decoded: peak memory)."""
    if isinstance(part, (bytes, bytearray, memoryview)):
        return bytes(part), OBJECT, None
    if isinstance(part, str) and not is_pathlike(part):
        return text_bytes(part), OBJECT, None
    if is_pathlike(part):
        path = checked_path(part)
        if path.is_file():
            name = display_name(path)
            # read again only after a first read_bytes that passed (or, lenient, said what was cut): the cut not twice
            return path.read_bytes(), name, lambda: read_bytes(path.read_bytes(), name, _said)
        return None  # a missing file or a directory: the checked path raises its clear error
    if hasattr(part, "read") and not isinstance(part, (dict, list, tuple)):
        name = getattr(part, "name", OBJECT)
        name = display_name(name) if isinstance(name, (str, os.PathLike)) else OBJECT
        data = object_bytes(part, name)
        return (text_bytes(data) if isinstance(data, str) else data), name, None
    return None


def _said(err: TraceFormatError) -> None:
    """A re-read's cut gzip stream: the first read reported it already."""


def read_into(source: Any, c: _otlp.Collector, progress: bool | None = None) -> None:
    """Read every part of ``source`` into the collector, fast where possible."""
    for part in _otlp._sub_sources(source):
        raw = _raw(part) if ENABLED else None
        if raw is None:
            for doc in _otlp.otlp_documents(part, c):
                c.document(doc)
                del doc
            continue
        data, name, reload = raw
        del raw
        try:  # lenient: a cut gzip stream's lines before the cut are read, the cut listed (as every reader does)
            data = read_bytes(data, name, None if c.errors == "raise" else c.skip_error)
        except TraceFormatError as exc:
            c.skip_error(exc)
            continue
        with Progress(len(data), name, progress) as bar:
            box = [data]
            del data  # _read_bytes holds the only reference (and may drop it)
            _read_bytes(box, name, c, bar.update, reload)


def _checked(data: bytes, name: str, c: _otlp.Collector, from_line: int = 0) -> None:
    """The checked path over ``data`` (as otlp_documents reads one part), from line ``from_line`` on."""
    STATS["checked_rest"] += 1
    docs = parse_json(data, name, None if c.errors == "raise" else c.skip_error, exact=True, keys=_otlp.CHECKED_KEYS,
                      records=_otlp.span_records)
    while True:
        try:
            doc = next(docs)
        except StopIteration:
            return
        except TraceFormatError as exc:
            c.skip_error(exc) if exc.file else c.problem(exc.reason, name, exc.record)
            return
        if from_line and doc.line is not None and doc.line < from_line:
            continue
        c.document(doc)
        del doc


def _one(c: _otlp.Collector, chunk: Any, name: str, lineno: int | None, decode: Callable,
         raw: tuple[list[int] | None, bytes, int, int | None]) -> bool:
    """Read one line / document (``raw``: its identity keys' counts); False when it is not JSON the fast decoder
    reads (orjson decides)."""
    try:
        td = decode(chunk)
    except _NOT_FAST:
        td = None
    if td is not None:
        try:
            if not td.resourceSpans:
                raise _Fallback
            _document(c, td.resourceSpans, name, lineno, raw)
        except _Fallback:
            del td
        else:
            STATS["fast"] += 1
            if len(c.tid) >= _otlp._FLUSH:
                c.flush()
            return True
    try:
        value = exact_ints(chunk, orjson.loads(chunk))  # an integer beyond 64 bits stays an int (orjson: a float)
    except orjson.JSONDecodeError:
        return False
    value = unique_keys(chunk, value, _otlp.CHECKED_KEYS, _otlp.span_records)  # an object holding a key twice: marked, then refused
    STATS["fallback"] += 1
    c.document(Document(value, name, lineno))
    return True


def _single(c: _otlp.Collector, box: list, name: str, decode: Callable, reload: Callable | None) -> None:
    """One document (``box`` holds the only reference to the bytes): fast, else orjson + checked pass."""
    data = box.pop()
    raw = (key_counts(data, _KEYS), data, 0, None)  # (a document below _SPLIT: its bytes kept for keys_repeat)
    if len(data) >= _SPLIT:
        if _split(c, data, name, raw):
            STATS["fast"] += 1
            if len(c.tid) >= _otlp._FLUSH:
                c.flush()
            return
        td = None
    else:
        try:
            td = decode(data)
        except _NOT_FAST:
            td = None
    if td is not None:
        if reload is not None:
            del data  # the Structs hold everything now; a fallback reads the file again
        try:
            if not td.resourceSpans:
                raise _Fallback
            _document(c, td.resourceSpans, name, None, raw)
        except _Fallback:
            del td
            if reload is not None:
                data = reload()
        else:
            STATS["fast"] += 1
            if len(c.tid) >= _otlp._FLUSH:
                c.flush()
            return
    try:
        value = exact_ints(data, orjson.loads(data))  # an integer beyond 64 bits stays an int (orjson: a float)
    except orjson.JSONDecodeError:
        _checked(data, name, c)
        return
    value = unique_keys(data, value, _otlp.CHECKED_KEYS, _otlp.span_records)  # an object holding a key twice: marked, then refused
    STATS["fallback"] += 1
    del data
    c.document(Document(value, name, None))


class _Split(_Base):
    resourceSpans: list[msgspec.Raw]


_SPLIT_DECODER = msgspec.json.Decoder(_Split)
_RS_DECODER = msgspec.json.Decoder(ResourceSpans)
#: a single document from this size on is decoded one ResourceSpans at a time (its Structs freed
#: before the next is decoded): the whole document's Structs took 3.6x the file at once (a 30 MiB
#: document peaked at 4.66x the file whole, 3.18x split, in the same CPU time; from 64 MiB it was)
_SPLIT = 4 << 20


def _split(c: _otlp.Collector, data: bytes, name: str, raw: tuple) -> bool:
    """A big single document, decoded ResourceSpans by ResourceSpans; False (nothing kept) when
    the fast path does not cover it."""
    try:
        raws = _SPLIT_DECODER.decode(data).resourceSpans
    except _NOT_FAST:
        return False
    if not raws:
        return False

    def each() -> Iterator[ResourceSpans]:
        for i, raw in enumerate(raws):
            raws[i] = None
            yield _RS_DECODER.decode(raw)

    try:
        _document(c, each(), name, None, raw)
    except (_Fallback, *_NOT_FAST):
        return False
    return True


def _read_bytes(box: list, name: str, c: _otlp.Collector, tick: Callable[[int], None],
                reload: Callable | None = None) -> None:
    decode = _DECODER.decode
    data = box[0]
    if data[:1] != b"{":
        if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 BOM (PowerShell, Notepad): parse_json drops it too
            data = box[0] = data[3:]
        lead = _NON_SPACE.search(data)
        if lead is None or lead.group() != b"{":  # empty, a list, not JSON…: the checked path decides
            _checked(data, name, c)
            return
    else:
        lead = None
    # blank lines before the first (parse_json's rule): the lines are numbered as in the file
    top = data.rfind(b"\n", 0, lead.start()) + 1 if lead is not None else 0
    view = memoryview(data)
    end = len(data)
    nl = data.find(b"\n", top)
    rest = nl + 1
    while 0 <= nl and rest < end and data[rest:rest + 1].isspace():  # non-space after the first line?
        rest += 1
    if nl < 0 or rest >= end:  # one JSON value (parse_json's rule): one document
        del view, data
        _single(c, box, name, decode, reload)
        tick(end)
        return
    # JSON lines when the first line alone is a complete value (parse_json's rule)
    first = view[top:nl]
    try:
        td = decode(first)
    except _NOT_FAST:
        td = None
    if td is None:
        try:
            orjson.loads(first)
        except orjson.JSONDecodeError:  # one pretty-printed value (parse_json's rule), or a bad first line
            del first, view, data
            _single(c, box, name, decode, reload)
            tick(end)
            return
    del first, box[0]
    pos, i, done = top, data.count(b"\n", 0, top), 0
    while pos < end:
        i += 1
        nxt = data.find(b"\n", pos)
        stop = end if nxt < 0 else nxt
        if (stop == pos or data[pos] in _SPACE) and not _NON_SPACE.search(data, pos, stop):
            pos = stop + 1  # a blank line: parse_json passes over it too
            continue
        if not _one(c, view[pos:stop], name, i, decode, (key_counts(data, _KEYS, pos, stop), data, pos, stop)):
            # a line that is not JSON: the checked path reads the rest of the file
            del view
            _checked(data, name, c, from_line=i)
            tick(end - done)
            return
        pos = stop + 1
        if pos - done > 1 << 22:
            tick(pos - done)
            done = pos
    tick(end - done)


#: what a blank line's first byte may be (``bytes.__contains__`` of an int)
_SPACE = b" \t\r\n\f\v"
#: any byte that is not whitespace
_NON_SPACE = re.compile(rb"\S")


#: public names of two helpers the metrics reader's fast path (:mod:`tracekit.io.metrics`) shares:
#: a KeyValue Struct list as an attribute dict (raises on what the checked decoder decides), and a
#: source part's bytes
struct_attributes = _checked_attrs
raw_part = _raw
