"""The fast path of :func:`tracekit.io.readers.read_xray`: segment Documents decoded into msgspec Structs.

BatchGetTraces pages (``{"Traces": [{"Id", "Segments": [{"Id", "Document": "<json>"}]}]}``, one
or a list of them) are walked here; each ``Document`` string is decoded straight into the
:class:`Segment` Struct (the X-Ray segment document schema: the keys the checked walk maps to
columns, ``http`` typed, ``aws``/``sql``/``service``/``annotations``/``metadata`` as dicts of
JSON scalars (two levels at most), ``cause`` kept as raw JSON and parsed by msgspec (integers of any size exact), as the
checked path does) and appended to the same :class:`~tracekit.io.xray._Builder` lists the
checked walk fills, with the same values, so ``frame()`` (ids, duplicates, times…) is shared.
A Document whose ``metadata`` nests deeper is decoded again as :class:`SegmentRaw` (metadata
kept raw, parsed by msgspec); parsing every metadata block with orjson was 10% of the read.
The walk reads the keys most segments lack in one ``attrgetter`` call and skips their checks
when all are absent.

Anything else goes, per document, to the checked code (``_Builder.add_segment``), which reports
errors and keeps every key as it always did:

* a key the Struct does not declare (``forbid_unknown_fields``), a JSON type other than the
  declared one (``null``, a time given as a string, ``"fault": "yes"``, an ``aws`` block nested
  three deep, a key of ``http`` other than ``request``/``response``
  and their usual fields;
* a span id that is not 16 characters, a time outside 1970 .. 2262 (``core.TIME_RANGE``), a span with
  neither ``end_time`` nor ``in_progress: true`` (or with both), a trace id the checked helper rejects;
* ``type`` (independent subsegments need the checked resolution), a Document that is a list;
* whole values other than BatchGetTraces pages (raw segment documents, daemon lines, parsed
  Documents, empty ``Traces``/``Segments``…) go to ``_Builder.add_value`` unchanged.

The attribute dicts are equal to the checked path's (same keys and values); the order of their
keys can differ (the checked walk keeps the source order of the plain keys, a Struct does not
know it).

Duplicate keys: msgspec keeps the last of a key given twice, as orjson and json do, so the counts say whether a
Document may hold one. A page's traces are walked in chunks of whole traces holding about :data:`_JOIN` Documents:
before a chunk is walked, each identity key (:data:`tracekit.io.xray.IDENTITY_KEYS`) is counted in its Document
strings joined (its quoted word, ``"id"``…, colon or not: six ``str.count``, :func:`tracekit.io._sources.key_patterns`);
the walk counts the (sub)segments holding each (and the keys of a ``cause`` or ``annotations`` block that has one; a
Document read by the checked code counts as written: that code refuses a repeated key itself). When the two differ (a
key given twice; an identity key's name inside ``metadata``, ``aws``… or a string value that is one; a key spelt with
an escaped letter), that chunk's rows are forgotten (``_Builder.rollback``) and its traces walked again by the checked
code, which refuses the (sub)segment naming the key: slower, never wrong, and only for the chunk (its Document strings
are kept until it is checked: at most about :data:`_JOIN` of them beyond the walk's). The whole source was read again
(session 37), then the file (session 38): one file of 3,000 segments (one page), 'id' given twice in one,
40.9 -> 7.0 ms CPU over the same file without it; pages of 25 segments, 40.6 -> 0.5 ms. Measured on
the simulator's BatchGetTraces file (61 MB, 116,775 spans): the counts 0.135-0.165 s CPU of a ~1.0-1.2 s read
(counting each Document string on its own was 0.11 s for 34,091 Documents: 1.36x the read).

``STATS`` counts documents decoded fast and those that fell back.
"""

from __future__ import annotations

from sys import intern
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, Raw, Struct, UnsetType
from msgspec.structs import astuple

from . import xray as _xray
from ._progress import Progress
from ._sources import DUPLICATE_KEYS, key_counts, key_patterns, keys_present

__all__ = ["add_value", "STATS", "ENABLED"]

STATS = {"fast": 0, "fallback": 0}
#: False sends every value to the checked code (tests compare the two paths)
ENABLED = True

_Status = Annotated[int, Meta(gt=-(2**62), lt=2**62)]  # the checked walk's range for a status code
# JSON values the typed blocks hold: msgspec keeps an integer of any size exact (a Python int), as the
# checked path does (tracekit.io._sources.exact_ints: orjson alone read 2**70 + 1 as a float)
_Scalar = str | bool | int | float | None
_Leaf = _Scalar | list[_Scalar]
_Block = dict[str, _Leaf | dict[str, _Leaf]]  # aws / sql / service: two levels (deeper: checked code)
_MIN_S, _MAX_S = _xray._MIN_S, _xray._MAX_S
# checked by msgspec while decoding (a DecodeError sends the Document to the checked code, which
# reports it): a time outside core.TIME_RANGE (1970 .. 2262), a span id that is not 16 characters
_Seconds = Annotated[float, Meta(ge=_MIN_S, le=_MAX_S)]
_SpanId = Annotated[str, Meta(min_length=16, max_length=16)]
_MIN_PAGES, _MIN_TRACES = 2_000, 20_000  # progress=None: a bar from about 100k spans on
_NAN = float("nan")
_NO_STATUS, _AWS_CONTEXT, _UNIQUE_AWS = _xray._NO_STATUS, _xray._AWS_CONTEXT, _xray._UNIQUE_AWS  # globals: one lookup
_put_level = _xray._put_level


class _Base(Struct, forbid_unknown_fields=True, gc=False):
    pass


class HttpRequest(_Base):
    method: str | UnsetType = UNSET
    url: str | UnsetType = UNSET
    user_agent: str | UnsetType = UNSET
    client_ip: str | UnsetType = UNSET
    x_forwarded_for: bool | UnsetType = UNSET
    traced: bool | UnsetType = UNSET


class HttpResponse(_Base):
    status: _Status | UnsetType = UNSET
    content_length: int | UnsetType = UNSET  # any size, kept as given (as the checked walk keeps it)


class Http(_Base):
    request: HttpRequest | UnsetType = UNSET
    response: HttpResponse | UnsetType = UNSET


class Segment(_Base):
    # the field order is the walk's: it unpacks astuple(segment) and compares the rarely present
    # fields as one slice, [4:14] (any segment) and [4:18] (a subsegment)
    id: _SpanId
    name: str
    start_time: _Seconds
    end_time: _Seconds | UnsetType = UNSET
    in_progress: bool | UnsetType = UNSET
    error: bool | UnsetType = UNSET
    fault: bool | UnsetType = UNSET
    throttle: bool | UnsetType = UNSET
    user: str | UnsetType = UNSET
    precursor_ids: list[str] | UnsetType = UNSET
    cause: Raw | UnsetType = UNSET
    resource_arn: str | UnsetType = UNSET
    annotations: dict[str, _Scalar] | UnsetType = UNSET
    sql: _Block | UnsetType = UNSET
    trace_id: str | UnsetType = UNSET
    parent_id: str | UnsetType = UNSET
    inferred: bool | UnsetType = UNSET
    service: _Block | UnsetType = UNSET
    origin: str | UnsetType = UNSET
    namespace: str | UnsetType = UNSET
    http: Http | UnsetType = UNSET
    aws: _Block | UnsetType = UNSET
    metadata: _Block | UnsetType = UNSET  # free-form: two levels here (else SegmentRaw)
    subsegments: list[Segment] | UnsetType = UNSET


class SegmentRaw(Segment):
    """A Segment whose ``metadata`` (free-form, any depth) is kept raw and parsed by msgspec, as the
    checked path parses it: the second try for a Document whose metadata :class:`Segment` refuses."""

    metadata: Raw | UnsetType = UNSET
    subsegments: list[SegmentRaw] | UnsetType = UNSET


_DECODE = msgspec.json.Decoder(Segment).decode
# the fields most segments lack: when all are absent (their slice of astuple(segment) compares equal to
# _NO_RARE_*, element by identity first) the walk skips their checks; a subsegment's trace_id,
# parent_id, inferred and service are among them
_RARE_FIELDS = ("in_progress", "error", "fault", "throttle", "user", "precursor_ids", "cause", "resource_arn",
                "annotations", "sql", "trace_id", "parent_id", "inferred", "service")
_NO_RARE_TOP, _NO_RARE_SUB = (UNSET,) * 10, (UNSET,) * 14
_DECODE_RAW = msgspec.json.Decoder(SegmentRaw).decode
_DECODE_ANY = msgspec.json.Decoder().decode
assert Segment.__struct_fields__[4:18] == SegmentRaw.__struct_fields__[4:18] == _RARE_FIELDS
_NOT_FAST = (msgspec.DecodeError, UnicodeError, RecursionError)
#: the identity keys as Document text spells them (``"id":``…), counted over a page's Documents joined
_KEY_TEXT = key_patterns(_xray.IDENTITY_KEYS, text=True)
_N_KEYS = len(_KEY_TEXT)
_JOIN = 512  # Documents of one chunk: counted joined, walked again checked when the counts differ
# the attribute keys of HttpRequest's fields, in their order (the walk unpacks astuple(request))
_K_METHOD, _K_URL, _K_AGENT, _K_IP, _K_XFF, _K_TRACED = (intern(f"http.request.{f}") for f in HttpRequest.__struct_fields__)


class _Fallback(Exception):
    pass


def _add(total: list[int] | None, more: list[int]) -> list[int]:
    return more if total is None else [a + x for a, x in zip(total, more, strict=True)]


def _load(raw: Raw) -> Any:
    """A raw JSON block parsed as the checked path parses it (same floats, key order, last of duplicate keys, and
    integers of any size exact: msgspec, where orjson read an integer beyond 64 bits as a float)."""
    return _DECODE_ANY(raw)


# ---------------------------------------------------------------------------------------------
# the structure around the Documents (the checked add_value/add_page/add_trace for pages)


def add_value(b: _xray._Builder, value: Any, file: str, line: int | None, label: str,
              progress: bool | None = False) -> None:
    """``b.add_value``, with the segment Documents of BatchGetTraces pages decoded fast.

    ``progress``: a bar over the pages of a list (or the traces of one page), see
    :mod:`tracekit.io._progress` (``None``: shown for big values in an interactive session)."""
    if not ENABLED:
        b.add_value(value, file, line, label)
        return
    if type(value) is list and value and all(type(v) is dict and "Traces" in v for v in value):
        if file != b._file:
            b._file, b._file_count = file, 0
        with Progress(len(value), file, progress, min_total=_MIN_PAGES, unit="page") as bar:
            for i, v in enumerate(value):
                add_value(b, v, file, line, f"{label}[{i}]" if not label else f"{label}, [{i}]")
                bar.update(1)
        return
    if type(value) is not dict or type(value.get("Traces")) is not list or not value["Traces"] or DUPLICATE_KEYS in value:
        b.add_value(value, file, line, label)
        return
    if file != b._file:
        b._file, b._file_count = file, 0
    up = value.get("UnprocessedTraceIds")
    if type(up) is list:
        b.unprocessed.extend(up)
    b.note_page(value, file)
    sep = ", " if label else ""
    traces = value["Traces"]
    n = len(traces)
    with Progress(n, file, progress, min_total=_MIN_TRACES, unit="trace") as bar:
        i = 0
        while i < n:  # a chunk of whole traces holding about _JOIN Documents, counted, walked and checked together
            held: list[dict] = []  # the chunk's segment entries with a Document string
            k = i
            while k < n and len(held) < _JOIN:
                segs = traces[k].get("Segments") if type(traces[k]) is dict else None
                if type(segs) is list:
                    held.extend([s for s in segs if type(s) is dict and type(s.get("Document")) is str])
                k += 1
            docs = [s["Document"] for s in held]  # (kept until the chunk is checked: the walk frees the entries')
            joined = "\x00".join(docs)
            counted = key_counts(joined, _KEY_TEXT)
            if not b.owned:  # the caller's parsed pages (boto3's batch_get_traces): their Documents are the text
                _xray.fine_times(joined.encode(), b.exact_times)  # (a file's bytes were scanned when read)
            del joined
            mark = b.mark()
            b.keys_seen = [0] * _N_KEYS
            for t in range(i, k):
                _trace(b, traces[t], file, line, f"{label}{sep}Traces[{t}]")
            if counted != b.keys_seen or b.recheck:
                # an object of a Document may hold an identity key twice: this chunk (only) walked again, checked
                b.rollback(mark)
                for s, d in zip(held, docs, strict=True):
                    s["Document"] = d
                for t in range(i, k):
                    b.add_trace(traces[t], file, line, f"{label}{sep}Traces[{t}]", None)
            del held, docs
            bar.update(k - i)
            i = k


def _checked_keys(b: _xray._Builder, doc: Any) -> None:
    """A Document string read by the checked code (which refuses a repeated key itself) counts as it is written."""
    if type(doc) is str:
        c = key_counts(doc, _KEY_TEXT)
        if c is None:
            b.recheck = True
            return
        seen = b.keys_seen
        for i in range(_N_KEYS):
            seen[i] += c[i]


def _trace(b: _xray._Builder, trace: Any, file: str, line: int | None, label: str) -> None:
    """One trace's segment Documents: each decoded into a Struct and walked here (the checked
    ``_Builder._walk`` on a Struct), or handed to ``b.add_segment`` when the Structs or the checks
    refuse it. One function, the locals bound once per trace: most Documents hold one or two spans,
    and a call, a result tuple and the bindings per Document cost as much as a span's walk."""
    segs = trace.get("Segments") if type(trace) is dict else None
    if type(segs) is not list or not segs or DUPLICATE_KEYS in trace \
            or not all(type(s) is dict and type(s.get("Document")) is str and DUPLICATE_KEYS not in s for s in segs):
        if type(segs) is list:
            for s in segs:
                if type(s) is dict:
                    _checked_keys(b, s.get("Document"))
        b.add_trace(trace, file, line, label, None)
        return
    b.note_trace(trace)  # (rolled back with the chunk's rows when the chunk is walked again, checked)
    trace_extra = _xray.trace_extra(trace)
    trace_tid = trace.get("Id")
    where = f"{label}.Segments" if label else "Segments"
    owned = b.owned
    no_parent = _xray.NO_PARENT
    (span_id_a, parent_a, name_a, start_a, end_a, bits_a, status_a, attrs_a) = b._appends
    aws_keys, aws_sub_keys, ann_keys, meta_keys = b._aws_keys, b._aws_sub_keys, b._ann_keys, b._meta_keys
    service_keys, aws_attr_keys = b._service_keys, b._aws_attr_keys
    rows = b.span_id
    d_trace, d_inferred, d_resource, d_service = b.d_trace, b.d_inferred, b.d_resource, b.d_service
    d_file, d_record, d_where, d_j, d_count = b.d_file, b.d_record, b.d_where, b.d_j, b.d_count
    n_fast = 0
    seen = b.keys_seen  # (sub)segments holding each identity key (add_value compares them with the text's counts)
    try:
        for j, entry in enumerate(segs):
            doc = entry["Document"]
            try:
                seg = _DECODE(doc)
            except _NOT_FAST:
                try:
                    seg = _DECODE_RAW(doc)  # metadata nested deeper (or anything else the Structs refuse)
                except _NOT_FAST:  # the checked code reports it
                    seg = None
            if seg is not None:
                mark = len(rows)
                try:
                    resource: dict[str, Any] = {} if trace_extra is None else dict(trace_extra)
                    raw_tid = trace_tid if seg.trace_id is UNSET else seg.trace_id
                    last = b._last_tid  # the trace's id, checked for its first document (_trace_id's own shortcut)
                    tid = last[1] if raw_tid == last[0] and type(raw_tid) is str else b._trace_id(raw_tid, {})
                    top_parent = None if seg.parent_id is UNSET or seg.parent_id in no_parent else seg.parent_id
                    d_tid = d_pid = d_open = 0  # this Document's spans holding trace_id, parent_id; without end_time
                    d_extra: list[int] | None = None
                    stack: list[tuple[Segment, Any, bool]] = [(seg, top_parent, True)]
                    pop, push = stack.pop, stack.append
                    while stack:
                        s, parent, top = pop()
                        f = astuple(s)  # every field in one call (attribute reads by name cost more)
                        (sid, name, st, et, in_progress, error, fault, throttle, user, precursor_ids, cause_raw,
                         resource_arn, annotations, sql, trace_id, parent_id, inferred, service, origin, ns, h, aws,
                         metadata, subs) = f
                        attrs: dict[str, Any] = {}
                        usual = f[4:14] == _NO_RARE_TOP if top else f[4:18] == _NO_RARE_SUB
                        if top:  # (a subsegment's trace_id / parent_id are among its rare fields)
                            if trace_id is not UNSET:
                                d_tid += 1
                            if parent_id is not UNSET:
                                d_pid += 1
                        if usual:  # none of the rarely present keys
                            if et is UNSET:
                                raise _Fallback
                            if origin is not UNSET:
                                attrs["origin"] = origin
                            if ns is not UNSET:
                                attrs["namespace"] = ns
                            bits = 0 if top else (16 if ns == "aws" or ns == "remote" else 32)
                            cause = None
                        else:
                            ip = in_progress is True
                            if not top:
                                if trace_id is not UNSET:
                                    d_tid += 1
                                if parent_id is not UNSET:
                                    d_pid += 1
                            if et is UNSET:
                                if not ip:
                                    raise _Fallback
                                et = _NAN
                                d_open += 1
                            elif ip:  # in progress with an end: the checked walk's rule (end NaT, the end kept)
                                raise _Fallback
                            # plain keys (the checked walk copies every key that is not a column)
                            if not top:
                                if trace_id is not UNSET:
                                    attrs["trace_id"] = trace_id
                                if parent_id is not UNSET:
                                    attrs["parent_id"] = parent_id
                                if inferred is not UNSET:
                                    attrs["inferred"] = inferred
                            if origin is not UNSET:
                                attrs["origin"] = origin
                            if ns is not UNSET:
                                attrs["namespace"] = ns
                            if user is not UNSET:
                                attrs["user"] = user
                            if precursor_ids is not UNSET:
                                attrs["precursor_ids"] = precursor_ids
                            cause = None
                            if cause_raw is not UNSET:
                                cause = attrs["cause"] = _load(cause_raw)
                                d_extra = _add(d_extra, keys_present(cause, _xray.IDENTITY_KEYS))  # exceptions' "id"
                            if not top:
                                if resource_arn is not UNSET:
                                    attrs["resource_arn"] = resource_arn
                                if service is not UNSET:
                                    attrs["service"] = service
                            bits = 0 if top else (16 if ns == "aws" or ns == "remote" else 32)
                            if ip:
                                bits |= 8
                            bits |= (error is True) | (fault is True) << 1 | (throttle is True) << 2

                        status = _NO_STATUS
                        if h is not UNSET:
                            req, resp = h.request, h.response
                            if req is UNSET and resp is UNSET:
                                attrs["http"] = {}
                            else:
                                if req is not UNSET:
                                    method, url, agent, ip, xff, traced = astuple(req)  # the six fields in one call
                                    if method is not UNSET:
                                        attrs[_K_METHOD] = intern(method)
                                    if url is not UNSET:
                                        attrs[_K_URL] = intern(url)
                                    if agent is not UNSET:
                                        attrs[_K_AGENT] = intern(agent)
                                    if ip is not UNSET:
                                        attrs[_K_IP] = intern(ip)
                                    if xff is not UNSET:
                                        attrs[_K_XFF] = xff
                                    if traced is not UNSET:
                                        attrs[_K_TRACED] = traced
                                    if method is UNSET and url is UNSET and agent is UNSET and ip is UNSET and xff is UNSET \
                                            and traced is UNSET:
                                        attrs["http.request"] = {}
                                if resp is not UNSET:
                                    code, cl = resp.status, resp.content_length
                                    if code is UNSET and cl is UNSET:
                                        attrs["http.response"] = {}
                                    if code is not UNSET:
                                        attrs["http.response.status"] = status = code
                                    if cl is not UNSET:
                                        attrs["http.response.content_length"] = cl
                        if aws is not UNSET:
                            v = aws
                            if type(v) is dict and v:
                                to_resource = top
                                for k2, v2 in v.items():
                                    key = aws_attr_keys.get(k2)
                                    if key is not None:  # the usual key and value
                                        t2 = type(v2)
                                        if t2 is str:
                                            attrs[key] = intern(v2)
                                            continue
                                        if t2 is not dict:
                                            attrs[key] = v2
                                            continue
                                    key = aws_keys.get(k2)
                                    if key is None:
                                        key = aws_keys[k2] = "aws." + k2
                                    if type(v2) is not dict and k2 not in _AWS_CONTEXT and k2 not in _UNIQUE_AWS:
                                        aws_attr_keys[k2] = key  # the shortcut above from now on
                                    out = resource if to_resource and (type(v2) is dict or k2 in _AWS_CONTEXT) else attrs
                                    if type(v2) is dict and v2:
                                        c = aws_sub_keys.get(k2)
                                        if c is None:
                                            c = aws_sub_keys[k2] = {}
                                        _put_level(out, c, "aws", k2, v2)
                                    elif type(v2) is str and k2 not in _UNIQUE_AWS:
                                        out[key] = intern(v2)
                                    else:
                                        out[key] = v2
                            else:
                                attrs["aws"] = v
                        if not usual and annotations is not UNSET:
                            if any(k in annotations for k in _xray.IDENTITY_KEYS):
                                d_extra = _add(d_extra, keys_present(annotations, _xray.IDENTITY_KEYS))
                            for k2, v2 in annotations.items():
                                key = ann_keys.get(k2)
                                if key is None:
                                    key = ann_keys[k2] = "annotation." + k2
                                attrs[key] = v2
                        if metadata is not UNSET:
                            v = metadata
                            if type(v) is Raw:
                                v = _load(v)
                            if type(v) is dict and v:
                                for k2, v2 in v.items():
                                    key = meta_keys.get(k2)
                                    if key is None:
                                        key = meta_keys[k2] = "metadata." + k2
                                    attrs[key] = v2
                            else:
                                attrs["metadata"] = v
                        if not usual and sql is not UNSET:
                            _xray._put(attrs, "sql", sql)
                        if cause is not None:
                            end_ns = None if et != et else _xray._second_to_ns(et)
                            events, message = _xray._exception_events(cause, end_ns)
                            row = len(rows)
                            if events:
                                b.events[row] = events
                            if message is not None:
                                b.status_message[row] = message
                        if top:
                            if service is not UNSET:
                                for k2, v2 in service.items():  # _put's flattening, one level inline
                                    key = service_keys.get(k2)
                                    if key is None:
                                        key = service_keys[k2] = "service." + k2
                                    if type(v2) is dict and v2:
                                        _xray._put(resource, key, v2)
                                    else:
                                        resource[key] = v2
                                if not service:
                                    resource["service"] = {}
                            if origin is not UNSET:
                                resource["origin"] = origin
                            if not usual and resource_arn is not UNSET:
                                resource["resource_arn"] = resource_arn

                        span_id_a(sid)
                        parent_a(parent)
                        name_a(intern(name))
                        start_a(st)
                        end_a(et)
                        bits_a(bits)
                        status_a(status)
                        attrs_a(attrs)
                        if subs:
                            for c in reversed(subs):
                                push((c, sid, False))
                except (_Fallback, _xray._Bad):  # nothing kept: the checked code reads it
                    del b.span_id[mark:], b.parent_id[mark:], b.name[mark:], b.bits[mark:]
                    del b.start[mark:], b.end[mark:], b.http_status[mark:], b.attributes[mark:]
                    for sparse in (b.status_message, b.events):
                        for r in [r for r in sparse if r >= mark]:
                            del sparse[r]
                    seg = None
            if seg is not None:
                n = len(rows) - mark  # every (sub)segment holds id, name and start_time
                seen[0] += n
                seen[1] += d_tid
                seen[2] += d_pid
                seen[3] += n
                seen[4] += n - d_open
                seen[5] += n
                if d_extra is not None:
                    for i in range(_N_KEYS):
                        seen[i] += d_extra[i]
                d_trace.append(tid)
                d_inferred.append(seg.inferred is True)
                d_resource.append(resource)
                d_service.append(seg.name)
                d_file.append(file)
                d_record.append(line if line is not None else b._file_count)
                b._file_count += 1
                d_where.append(where)
                d_j.append(j)
                d_count.append(len(rows) - mark)
                n_fast += 1
            else:
                STATS["fallback"] += 1
                _checked_keys(b, doc)
                b.add_segment(doc, file, line, where, trace_tid, trace_extra, j)
            del doc
            if owned:
                entry["Document"] = None  # free the string (a copy of the file) as we go
    finally:
        STATS["fast"] += n_fast

