"""Read AWS X-Ray data into the canonical spans DataFrame.

:func:`read_xray` accepts what X-Ray tools write: a ``BatchGetTraces`` response (as saved by
``aws xray batch-get-traces``), a list of such pages, a bare ``Traces`` list (``--query
'Traces[*]'``), raw segment documents (one object, a list, a list of Document strings, or one
per line, as SDKs send them to the daemon), a PutTraceSegments request body (``{"TraceSegmentDocuments":
["<segment JSON>", …]}``, what the OTel X-Ray exporter and ``aws xray put-trace-segments`` send: read as the list
it wraps, records ``TraceSegmentDocuments[i]``) and independent subsegments (``"type":
"subsegment"``); gzip or not; from a path, a list of paths, a directory, a file object, bytes
or already-parsed JSON. A trace's ``Segments`` may hold the parsed documents themselves (no
``{Id, Document}`` wrapper). The daemon protocol's header line (``{"format": "json",
"version": 1}`` before each document, as in a capture of the daemon's UDP traffic) is skipped and
listed in ``df.attrs["ignored"]``. A read that loads no span and skipped nothing is an error naming
what was empty (``no spans: Traces is empty (2 UnprocessedTraceIds)``).

Mapping (see DESIGN.md and :data:`tracekit.schema.SPAN_COLUMNS`):

* one row per segment, subsegment (nested to any depth; parent = the enclosing
  (sub)segment) and inferred segment; a top-level document's ``parent_id`` is kept even when
  the parent is not in the data (an orphan stays an orphan); an empty or all-zero ``parent_id`` is none (a
  root), as in OTLP;
* ``service`` = the segment's name, inherited by its subsegments; an independent subsegment
  takes the service (and resource) of the span its ``parent_id`` names when that span is in
  the data, else ``"unknown_service"`` (OTel's convention for a missing service name); a segment named ``""`` or only
  white space is in ``"unknown_service"`` too (:func:`tracekit.schema.service_name`, every reader's rule);
* ``kind``: segment → ``server``; subsegment with namespace ``aws``/``remote`` → ``client``;
  other subsegments → ``internal``;
* ``status`` = ``error`` when ``fault``, ``error`` or ``throttle`` is true, else ``unset`` for an
  ``in_progress`` segment (it has no outcome yet: X-Ray's ``ok`` is a 2xx answer, and none came), else ``ok``;
  ``http_status`` from ``http.response.status``; a span with a code and no flag true takes the flags the code
  implies (5xx ``fault``, 4xx ``error``, 429 ``throttle``: :func:`tracekit.schema.http_status_flags`, the OTLP
  reader's rule; X-Ray's SDKs set them so, a proxy's or hand-written segment may not; a span its sender flagged keeps
  its flags, plus ``throttle`` for a 429), the span flagged
  ``attributes["tracekit.status_from"] = "http_status"``; ``status_message`` = first exception message;
* ``attributes``: ``http``/``sql``/``aws`` flattened to dotted keys (``http.request.method``,
  ``aws.operation``; lists stay values), ``annotation.<key>``, ``metadata.<namespace>`` (value as
  is), ``cause`` (raw), ``namespace``, ``user``, ``origin``, ``type``, ``precursor_ids`` and every
  other key verbatim. Integer strings in ``http.response.status``/``content_length`` become ints;
* ``resource`` (one dict shared by a segment's rows): ``origin``, ``resource_arn``,
  ``service.*``, the segment's ``aws`` context (``aws.ec2.*``, ``aws.ecs.*``, ``aws.eks.*``,
  ``aws.elastic_beanstalk.*``, ``aws.xray.*``, ``aws.account_id``, … — every dict-valued key);
  the segment's scalar ``aws`` keys (``request_id``, ``function_arn``, … and the call
  description an inferred segment copies from its caller) go to ``attributes``;
  ``xray.trace.Duration``/``xray.trace.LimitExceeded`` of the enclosing ``Trace`` when given;
* ``links`` (``[{"trace_id": "1-…", "id": "…", "attributes": {…}}]`` on a segment or subsegment,
  the shape the OTel collector's X-Ray exporter writes for span links, e.g. SQS → Lambda trace
  linking) → the ``links`` column (trace id in the 32-hex form), not an attribute;
* ``cause`` → one ``exception`` event per exception (``exception.type``/``message``/
  ``stacktrace``/``id``/``remote``) at the span's end time; a string cause (an exception id
  defined elsewhere) → one event with ``exception.id``;
* times: float epoch seconds → int64 ns rounded to the microsecond (whole seconds and fraction
  scaled separately, never through float ms); a time written with more than 6 decimals is rounded from its text
  (a half microsecond up: ``.5874245`` → ``.587425``) where the file's bytes are read (its float can lie on the other
  side of a half microsecond; parsed JSON given by the caller has floats only);
  ``in_progress`` spans have ``end`` = NaT, also when the document gives an ``end_time`` beside
  ``in_progress: true`` (X-Ray's schema asks for one or the other; FORMATS.md §6 maps in_progress to a
  missing end): that ``end_time`` is kept as given in ``attributes["end_time"]`` and the span flagged
  ``attributes["tracekit.time_problem"] = "in_progress_with_end_time"``; an ``end_time`` before ``start_time`` is kept as given
  (a negative duration) and flagged with ``attributes["tracekit.time_problem"] = "end_before_start"``. A
  ``start_time`` of 0 is kept as given (1970-01-01) and flagged ``"start_time_zero"``, as the OTLP reader flags it (it
  outranks the end's flags; :func:`tracekit.health_report` lists it).

A key given twice in one object with different values: an identity key (:data:`IDENTITY_KEYS`) refuses its
(sub)segment, naming the key; so does ``subsegments``, and a page's ``Traces``, a trace's ``Segments``, an entry's
``Document`` or a PutTraceSegments body's ``TraceSegmentDocuments`` refuse the object holding them
(:data:`CONTAINER_KEYS`: JSON parsers keep the last value, and the first list was lost whole). Other keys given twice
(``http``, ``aws``, ``metadata``…) keep the last value, as the parsers do.

Duplicates by (trace_id, span_id), one rule with the OTLP reader (:mod:`tracekit.io._copies`): a complete span
replaces in-progress copies; copies equal in every column but ``source_file``/``source_record`` (the same document
read twice, from one file or two) collapse to the first, counted in ``attrs["copies_dropped"]``; different
complete documents with one id are all kept (the health check reports duplicate ids).

Invalid input raises :class:`~tracekit.errors.TraceFormatError` naming the file, the record
(``Traces[0].Segments[2]``, ``line 3``, ``[1]``) and the problem: a segment without
``start_time`` or ``name``, ids that are not 16 hex digits (upper case is accepted and lowered), a span id of 16
zeros (no id: FORMATS.md's rule, as the OTLP reader refuses it; a ``parent_id`` of zeros is a root), a trace id that is neither ``1-8hex-24hex`` nor 32 hex, a Document that is not JSON (or a list
holding lists), an ``error`` / ``fault`` / ``throttle`` that is not true, false or null (a ``1`` or ``"yes"``
was read as no error).
A document with neither ``end_time`` nor ``in_progress: true`` is invalid too: X-Ray's
PutTraceSegments rejects it, so no X-Ray API ever returns one, and loading it as in progress
would invent a state the sender never claimed. A time outside 1970-01-01 .. 2262-01-01 is an error
as well, as in every reader (:data:`tracekit.core.TIME_RANGE`: never before the epoch, nor within ~100 days
of datetime64[ns]'s end, kept for the buckets and windows analyses add; e.g. an 11-digit epoch). With
``errors="skip"`` each bad document is left out (its valid neighbours load) and listed in
``df.attrs["skipped"]``, the record saying how many spans went with it. A bad subsegment is left out
alone (its segment and siblings load): its child subsegments load as orphans (their ``parent_id``
names the skipped span, which is not in the data) flagged ``attributes["tracekit.parent_problem"] =
"parent_skipped"``; when it has no valid id to hang them on, they are left out with it, counted.

Implementation: one pass over the documents appends plain Python values to column lists
(segment-level values once per document, repeated with numpy; kind and the four flags packed
in one byte per span; events and status messages only for the spans that have them), then the
columns are converted in bulk (ids checked on Arrow's buffers with numpy, duplicate ids found with one
Arrow ``unique``, times with one numpy expression, object columns filled with
``np.fromiter``). The cyclic GC is paused during the pass; span names and http/aws string
values are interned (not per-call ``aws.request_id``s, URLs or client addresses: interning a unique
string costs ~10x a repeated one and saves nothing) and one ``resource`` dict is shared by the rows of a segment
(treat the dicts as read-only).

Speed (``benchmarks/bench_read_xray.py``, 1M spans, 358 MB): the floor of an orjson-based
reader (outer parse + every Document string parsed) is ~1.9x ``orjson.loads`` of the file;
read_xray takes ~6.4x (CPU), the rest being the per-span Python pass (~60% of the time: one
attributes dict per span, flattened http/aws/sql blocks) and the DataFrame build (~13%).
Parsing the Documents with msgspec instead was no faster (0.39 s vs orjson's 0.35 s for 200k
spans; typed Structs 0.33 s but they drop unknown keys, which lossless loading cannot).
"""

from __future__ import annotations

import math
import re
import warnings
from array import array
from collections.abc import Callable, Iterator
from functools import partial
from itertools import repeat
from pathlib import Path
from sys import intern
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..core.frame import START_TIME_ZERO, TIME_MAX_NS, TIME_MIN_NS, time_out_of_range
from ..core.naming import named
from ..core.words import plural
from ..errors import SkippedRecord, TraceFormatError, TraceFormatWarning
from ..schema import (
    COLUMN_NAMES,
    STATUS_FROM,
    UNKNOWN_SERVICE,
    canonical_id,
    http_status_flags,
    known_services,
    read_int,
)
from ._columns import hex_id_bytes
from ._copies import duplicate_candidates, duplicates_to_drop
from ._sources import (
    DUPLICATE_KEYS,
    MAX_LIST_NESTING,
    OBJECT,
    TIME_PROBLEM,
    Document,
    MarkedKeys,
    checked_path,
    display_name,
    duplicate_reason,
    exact_ints,
    is_pathlike,
    iter_documents,
    json_copy,
    json_kind,
    key_counts,
    key_patterns,
    known_shape,
    list_files,
    loads,
    no_files_error,
    object_bytes,
    parse_json,
    path_bytes,
    read_bytes,
    short,
    text_bytes,
    unique_keys,
    warn_page,
)

__all__ = ["trace_extra", "is_daemon_header", "is_segment_document", "open_parts", "IDENTITY_KEYS", "CONTAINER_KEYS",
           "CHECKED_KEYS", "segment_records"]

#: the keys that say which span a segment or subsegment is and when: one given twice with different values in a
#: (sub)segment refuses it, naming the key (JSON parsers keep the last silently;
#: :func:`tracekit.io._sources.unique_keys`)
IDENTITY_KEYS = ("id", "trace_id", "parent_id", "start_time", "end_time", "name")
#: the keys whose values hold the (sub)segments: a segment's ``subsegments``, a BatchGetTraces page's ``Traces``, a
#: trace's ``Segments``, a segment entry's ``Document``, a PutTraceSegments body's ``TraceSegmentDocuments``. Given
#: twice with different values the first is lost whole (``"subsegments": [A], "subsegments": [B]`` loaded B alone,
#: without a word), so the object holding them is refused as for an identity key, naming the key
CONTAINER_KEYS = ("subsegments", "Traces", "Segments", "Document", "TraceSegmentDocuments")
#: the keys the checked code looks for twice in one object (:func:`tracekit.io._sources.unique_keys`); the fast
#: path counts the identity keys (a lost subsegment holds them: its chunk is walked again by the checked code)
#: (counted: the identity keys, which lost subsegments held, and Document, which a lost list of traces or segments
#: held; a PutTraceSegments body's documents may be strings, counted by their own key)
CHECKED_KEYS = MarkedKeys(IDENTITY_KEYS + CONTAINER_KEYS, counted=IDENTITY_KEYS + ("Document", "TraceSegmentDocuments"))
_DOCUMENT_KEY = key_patterns(("Document",))


def segment_records(value: Any) -> Iterator[dict]:
    """The objects of a parsed X-Ray value whose repeated identity or container keys refuse them: segment documents
    and their subsegments, and the objects holding them (BatchGetTraces pages, their traces and segment entries, a
    PutTraceSegments body; lists of them); ``metadata``, ``aws``… are data kept as given."""
    stack = [value]
    while stack:
        v = stack.pop()
        if type(v) is list:
            stack.extend(v)
        elif type(v) is dict:
            if "Traces" in v or "Segments" in v or "Document" in v or "TraceSegmentDocuments" in v:
                yield v
                stack.extend(v.get(k) for k in ("Traces", "Segments", "Document", "TraceSegmentDocuments") if k in v)
                continue
            yield v
            subs = v.get("subsegments")
            if type(subs) is list:
                stack.extend(subs)

_NAT = np.iinfo(np.int64).min
_MIN_S, _MAX_S = TIME_MIN_NS / 1e9, TIME_MAX_NS / 1e9  # the times every reader accepts (core.frame), inclusive
_NO_STATUS = -(2**62)
_MAX_INT = 2**62
_NAN = float("nan")
_NON_SPACE = re.compile(rb"\S")

# keys consumed by columns (not copied into attributes)
_TOP_SKIP = frozenset(
    {"id", "name", "start_time", "end_time", "in_progress", "subsegments", "trace_id", "parent_id",
     "error", "fault", "throttle", "inferred"})
_SUB_SKIP = frozenset({"id", "name", "start_time", "end_time", "in_progress", "subsegments", "error", "fault",
                       "throttle"})
# scalar/list keys of a segment's `aws` block that describe the environment (→ resource)
_AWS_CONTEXT = frozenset({"account_id", "cloudwatch_logs"})
_ID_RE = "^[0-9a-f]{16}$"
# `aws` values unique to each call: interning them costs ~10x a repeated value's intern and saves nothing
_UNIQUE_AWS = frozenset({"request_id", "extended_request_id", "id"})
#: parent_id values that name no span (empty, all zeros): a root, as in OTLP (schema.canonical_ids' rule; the
#: links' placeholder rule too)
NO_PARENT = frozenset({"", "0" * 16})
#: the attribute flagging a span loaded without its parent, which was skipped (errors="skip")
PARENT_PROBLEM = "tracekit.parent_problem"


# ----------------------------------------------------------------------------------------------
# sources: like iter_documents, but files are parsed here so that the file bytes are freed as
# soon as they are parsed, and so that lenient mode can go on past a bad file or a bad line


def open_parts(source: Any, errors: str) -> tuple[_Builder, Iterator[Callable[[], Iterator[Document]]]]:
    """The builder a read fills and the parts of ``source``: one per file (a path, bytes, a JSON string, a file
    object's content) or the parsed value, each a callable giving that part's Documents (the file parsed lazily when
    called, so its bytes are freed once parsed)."""
    b = _Builder(lenient=errors == "skip", owned=not _is_parsed(source))
    return b, _parts(source, b)


def _is_parsed(source: Any) -> bool:
    """Parsed JSON given by the caller (never modified) rather than something we read."""
    if isinstance(source, dict):
        return True
    return isinstance(source, (list, tuple)) and not (source and all(is_pathlike(x) for x in source))


def _parts(source: Any, b: _Builder) -> Iterator[Callable[[], Iterator[Document]]]:
    if is_pathlike(source):
        path = checked_path(source)
        if path.is_dir():
            files = list_files(path)
            if not files:
                b.fail(no_files_error(path))
        else:
            files = [path]
        for f in files:
            if not f.exists():
                raise FileNotFoundError(f"no such file or directory: {display_name(f)!r}")
            yield partial(_path_documents, f, b)
    elif isinstance(source, (list, tuple)) and source and all(is_pathlike(x) for x in source):
        for p in source:
            yield from _parts(p, b)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        yield partial(_file_documents, data, OBJECT, b)
    elif isinstance(source, str):
        yield partial(_file_documents, text_bytes(source), OBJECT, b)
    elif hasattr(source, "read") and not isinstance(source, (dict, list, tuple)):
        name = getattr(source, "name", OBJECT)
        name = display_name(name) if isinstance(name, (str, Path)) else OBJECT
        data = object_bytes(source, name)  # (read once: kept for a second read of this part)
        yield partial(_file_documents, text_bytes(data) if isinstance(data, str) else data, name, b)
    else:
        yield partial(iter_documents, source)


def _path_documents(f: Path, b: _Builder) -> Iterator[Document]:
    yield from _file_documents(path_bytes(f), display_name(f), b)


def _file_documents(data: bytes, name: str, b: _Builder) -> Iterator[Document]:
    try:
        data = read_bytes(data, name, b.fail if b.lenient else None)  # lenient: a cut stream's lines before the cut
    except TraceFormatError as exc:
        b.fail(exc)
        return
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    _fine_times(data, b.exact_times)  # the text of a time with 7+ decimals: the parsers give floats
    nl = data.find(b"\n")
    jsonl = False
    if nl >= 0 and _NON_SPACE.search(data, nl + 1) and data[:1] in (b"{", b"["):
        try:
            orjson.loads(memoryview(data)[:nl])
            jsonl = True
        except orjson.JSONDecodeError:
            pass
    if not jsonl:
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # JSON lines with blank or bad first lines, or not JSON: parse_json says which
        else:
            docs = _string_documents(value)
            if docs is None:
                value = exact_ints(data, value)  # an integer beyond 64 bits stays an int (orjson: a float)
                value = unique_keys(data, value, CHECKED_KEYS, segment_records)  # a (sub)segment holding a key twice
            elif key_counts(data, _DOCUMENT_KEY) != [docs]:
                # pages of Document strings (each parsed exactly and checked on its own): a page's Traces, a trace's
                # Segments or an entry's Document given twice lost Documents, so the text's "Document" keys
                # (outside the strings, where quotes are escaped) outnumber them; one count, 3% of a read (all the
                # holders' keys and a walk were 9%). Then the page is looked at exactly, its holders refused
                value = unique_keys(data, value, CHECKED_KEYS, segment_records)
            del data  # the parsed value is all we need from here on
            yield Document(value, name, None)
            return
    # JSON lines (and clear errors): bad lines are skipped in lenient mode, the others read
    try:
        yield from parse_json(data, name, b.fail if b.lenient else None, exact=True, keys=CHECKED_KEYS,
                              records=segment_records)
    except TraceFormatError as exc:
        b.fail(exc)


def _string_documents(value: Any) -> int | None:
    """How many ``Document`` strings ``value`` holds when it is BatchGetTraces page(s) whose every segment is a
    ``Document`` string (its numbers outside the Documents, ``Duration``, are not span data, and each Document is
    parsed on its own), else None."""
    pages = value if type(value) is list else [value]
    n = 0
    for page in pages:
        traces = page.get("Traces") if type(page) is dict else None
        if type(traces) is not list:
            return None
        for t in traces:
            segs = t.get("Segments") if type(t) is dict else None
            if type(segs) is not list or not all(type(s) is dict and type(s.get("Document")) is str for s in segs):
                return None
            n += len(segs)
    return n


# ----------------------------------------------------------------------------------------------
# the one pass


def _put(out: dict, key: str, v: Any) -> None:
    """Flatten nested dicts into dotted keys; lists, scalars and empty dicts stay values.
    Iterative (a document may nest ``sql``/``http`` blocks hundreds deep), in document order."""
    if type(v) is not dict or not v:
        out[key] = v
        return
    stack = [(key, iter(v.items()))]
    while stack:
        prefix, it = stack[-1]
        for k2, v2 in it:
            k = f"{prefix}.{k2}"
            if type(v2) is dict and v2:
                stack.append((k, iter(v2.items())))
                break
            out[k] = v2
        else:
            stack.pop()


def _put_level(out: dict, keys: dict[str, str], head: str, name: str, block: dict) -> None:
    """The entries of ``block`` (the ``name`` entry of an ``http``/``aws`` block) into ``out`` as
    ``head.name.key``: the key strings are made once and cached in ``keys`` (they repeat on every
    segment), string values interned, deeper dicts flattened by :func:`_put`."""
    for k, v in block.items():
        key = keys.get(k)
        if key is None:
            key = keys[k] = f"{head}.{name}.{k}"
        if type(v) is dict and v:
            _put(out, key, v)
        else:
            out[key] = intern(v) if type(v) is str else v


def _seconds(v: Any, what: str, s: dict) -> float:
    if type(v) is not float:
        if type(v) is int:
            v = float(v)
        elif type(v) is str:
            try:
                v = float(v)
            except ValueError:
                raise _bad(f"{what} {short(v)} is not a number", s) from None
        else:
            raise _bad(f"{what} {short(v)} is not a number (epoch seconds)", s)
    if not (_MIN_S <= v <= _MAX_S):
        raise _bad(time_out_of_range(what, short(v), "s"), s)
    return v


_ZERO_ID = "0" * 16
_ZEROS8 = np.frombuffer(b"0" * 8, dtype=np.uint64)[0]  # 8 hex zeros as one word


def _id_problem(value: Any) -> str:
    """What is wrong with a span id the bulk check refused."""
    return "is all zeros: no id (a span needs one)" if type(value) is str and value.lower() == _ZERO_ID else \
        "is not 16 hex digits"


def _check_span(s: dict, top: bool, sid: Any, name: Any, st: Any, et: Any, ip: bool) -> tuple[float, float]:
    """The slow path of the span checks: raise a clear error, or convert int/str times."""
    where = s if top else {**s, "_nested": True}
    if type(sid) is not str or len(sid) != 16:
        raise _bad("has no id" if sid is None else f"id {short(sid)} is not 16 hex digits", where)
    if type(name) is not str:
        raise _bad("has no name" if name is None else f"name {short(name)} is not a string", where)
    if st is None:
        raise _bad("has no start_time", where)
    st = _seconds(st, "start_time", where)
    if et is None:
        if not ip:
            raise _bad("has neither end_time nor in_progress: true", where)
        return st, _NAN
    return st, _seconds(et, "end_time", where)


def is_daemon_header(value: Any) -> bool:
    """The X-Ray daemon protocol's header, ``{"format": "json", "version": 1}``, which SDKs send on
    the line before each segment document (a capture of the daemon's UDP traffic has one per segment).

    >>> is_daemon_header({"format": "json", "version": 1}), is_daemon_header({"format": "json"})
    (True, False)
    """
    return type(value) is dict and len(value) == 2 and value.get("format") == "json" and "version" in value


#: the times of a segment document: one of them beside an id and a name is X-Ray's shape
_SEGMENT_TIMES = ("start_time", "end_time", "in_progress")


def is_segment_document(value: Any) -> bool:
    """Whether ``value`` has the shape of an X-Ray segment document (as the daemon receives it, the SDKs' emitters
    write it and a BatchGetTraces ``Document`` holds it; an independent subsegment's too): an object with an ``id``
    and a ``name`` (strings) and its times (``start_time``, ``end_time`` or ``in_progress``). The shape only, not
    its check (this reader checks it): the logs and metrics readers list such a document as another signal's, unless
    it also has a log record's own keys (a message, a level, a log's time: :data:`tracekit.io._sources.LOG_WORDS`;
    :func:`tracekit.io.logs.xray_document`), which read_logs reads as a log record and tk.read as a segment — each
    reader takes what it reads, nothing is dropped (tk.read takes such an object for a segment only with its
    ``start_time``, which every segment has: a log line carrying ``id``, ``name`` and ``end_time`` is a log line).

    >>> is_segment_document({"trace_id": "1-5759e988-bd862e3fe1be46a994272793", "id": "53995c3f42cd8ad8",
    ...                      "name": "api", "start_time": 1500000000.5, "end_time": 1500000001.25})
    True
    >>> is_segment_document({"id": "53995c3f42cd8ad8", "name": "api"}), is_segment_document({"format": "json"})
    (False, False)
    >>> is_segment_document({"id": "53995c3f42cd8ad8", "name": "api", "start_time": 1.5, "in_progress": True})
    True
    """
    return type(value) is dict and type(value.get("id")) is str and type(value.get("name")) is str \
        and any(k in value for k in _SEGMENT_TIMES)


def _label(where: str, j: int) -> str:
    return where if j < 0 else f"{where}[{j}]"


def _seconds_to_ns(s: np.ndarray) -> np.ndarray:
    """Epoch seconds (float64) → int64 ns, rounded to the nearest microsecond of the float.

    Whole seconds and the fraction are scaled separately: ``round(s * 1e6)`` alone rounds the
    product first (float64 has ~0.24 µs steps at today's epoch) and is then off by 1 µs for
    real data, e.g. 1596648396.6399446 → …944.5 → 944 instead of 945.
    """
    whole = np.floor(s)
    return (whole.astype(np.int64) * 1_000_000 + np.round((s - whole) * 1e6).astype(np.int64)) * 1000


#: a time key (``start_time``, ``end_time``…) given with more than 6 decimals (a Document string's quote escaped):
#: the number (the literal ``_time`` first: a regex starting with an alternation scanned 60 MB in 1.1 s, this in 0.1 s)
_FINE_TIME = re.compile(rb'_time\\*"\s*:\s*(\d{1,12}\.\d{7,30})(?![\d.eE])')
_SEVEN_DECIMALS = re.compile(rb"\.\d{7}")  # the cheap test first (60 MB in 0.06 s): SDKs write 6 decimals at most


def _fine_times(data: bytes, into: dict[float, int]) -> None:
    """The times of ``data`` whose float rounds to another microsecond than their decimal text, into ``into``
    (float seconds → ns from the text, a half microsecond rounded up, as written decimals are): a JSON parser gives
    floats, and a 7–9 decimal time within the float's half step (0.12 µs at today's epoch) of a half microsecond
    rounds the wrong way from it. One regex pass over the bytes (none when no number has 7 decimals: what the SDKs
    write); only the floats near a half microsecond are compared with their text (60 MB holding 200,000 such times:
    0.45 s), only the times that differ kept (the first text of a float wins: two texts of one float, 0.24 µs
    apart, are one reading).

    >>> d = {}
    >>> _fine_times(b'{"start_time": 1700000000.12345651, "end_time": 1700000000.1234560}', d)
    >>> d  # the float of .12345651 rounds to …456 µs; its text to …457 (the end's float rounds right: not kept)
    {1700000000.1234565: 1700000000123457000}
    """
    if not _SEVEN_DECIMALS.search(data):
        return
    found = _FINE_TIME.findall(data)
    if not found:
        return
    fl = np.fromiter(map(float, found), dtype=np.float64, count=len(found))
    frac_us = (fl - np.floor(fl)) * 1e6
    near = np.flatnonzero(np.abs(frac_us - np.floor(frac_us) - 0.5) < 0.25)  # (the float's half step: 0.12 µs)
    if not len(near):
        return
    by_float = _seconds_to_ns(fl[near]).tolist()
    for i, f, ns_float in zip(near.tolist(), fl[near].tolist(), by_float, strict=True):
        whole, _, frac = found[i].partition(b".")
        ns_text = (int(whole) * 1_000_000 + int(frac[:6]) + (frac[6] >= 0x35)) * 1000  # 7th decimal 5-9: up
        if ns_text != ns_float:
            into.setdefault(f, ns_text)


fine_times = _fine_times  # tracekit.read's X-Ray documents: their text's times (io.sniff)


def _exact_ns(s: np.ndarray, ns: np.ndarray, exact: dict[float, int]) -> None:
    """``ns`` (from the float seconds ``s``) set to the decimal text's value where :func:`_fine_times` found one."""
    if not exact:
        return
    keys = np.fromiter(exact, dtype=np.float64, count=len(exact))
    rows = np.flatnonzero(np.isin(s, keys))
    if len(rows):
        ns[rows] = [exact[f] for f in s[rows].tolist()]


def _second_to_ns(s: float) -> int:
    whole = math.floor(s)
    return (whole * 1_000_000 + round((s - whole) * 1e6)) * 1000


def _subsegment_paths(seg: dict) -> dict[int, str]:
    """Where each subsegment of a document is (``subsegments[3].subsegments[0]``), by object id; iterative."""
    out: dict[int, str] = {}
    stack = [(seg, "")]
    while stack:
        node, path = stack.pop()
        subs = node.get("subsegments")
        if type(subs) is list:
            for i, c in enumerate(subs):
                if type(c) is dict:
                    out[id(c)] = here = f"{path}subsegments[{i}]"
                    stack.append((c, here + "."))
    return out


def _span_count(doc: Any) -> int:
    """The spans of a segment document (it and its subsegments at any depth; 1 for what is not an object)."""
    if type(doc) is not dict:
        return 1
    n, stack = 0, [doc]
    while stack:
        c = stack.pop()
        n += 1
        cs = c.get("subsegments")
        if type(cs) is list:
            stack.extend(x for x in cs if type(x) is dict)
    return n


class _Bad(Exception):
    """A problem inside one document; turned into a TraceFormatError with file and record."""


def _bad(reason: str, s: Any) -> _Bad:
    if isinstance(s, dict) and "id" in s:
        kind = "subsegment" if s.get("_nested") or s.get("type") == "subsegment" else "segment"
        reason = f"{kind} {short(s.get('id'))} ({short(s.get('name'))}): {reason}"
    return _Bad(reason)


def _exception_events(cause: Any, end_ns: int | None) -> tuple[list, str | None]:
    if type(cause) is str:
        return [{"time": end_ns, "name": "exception", "attributes": {"exception.id": cause}}], None
    if type(cause) is not dict:
        return [], None
    exs = cause.get("exceptions")
    if type(exs) is not list:
        return [], None
    events = []
    message = None
    for ex in exs:
        if type(ex) is not dict:
            continue
        a: dict[str, Any] = {}
        if "type" in ex:
            a["exception.type"] = ex["type"]
        if "message" in ex:
            a["exception.message"] = ex["message"]
            if message is None and type(ex["message"]) is str:
                message = ex["message"]
        stack = ex.get("stack")
        if type(stack) is list and stack:
            a["exception.stacktrace"] = "\n".join(
                f"at {f.get('label', '?')}({f.get('path', '?')}:{f.get('line', '?')})" if type(f) is dict else str(f)
                for f in stack)
        if "id" in ex:
            a["exception.id"] = ex["id"]
        if "remote" in ex:
            a["exception.remote"] = ex["remote"]
        events.append({"time": end_ns, "name": "exception", "attributes": a})
    return events, message


def _links(v: Any, s: dict, on_bad: Any = None) -> list:
    """X-Ray ``links`` ([{trace_id, id, attributes}], as the OTel X-Ray exporter writes span links)
    → the canonical links: {trace_id (32 hex), span_id, trace_state, flags, attributes}. A placeholder
    id (empty or all zeros) is None, as in OTLP. ``on_bad`` (lenient reading): a bad link is passed to
    it (the reason) and left out, the segment and its other links kept; without it, raised."""
    if type(v) is not list:
        if on_bad is None:
            raise _bad(f"'links' is not a list: {v!r}", s)
        on_bad(str(_bad(f"'links' is not a list: {short(v)}: the links were left out, the segment kept", s)))
        return []
    out = []
    for i, lk in enumerate(v):
        try:
            out.append(_link(i, lk, s))
        except _Bad as exc:
            if on_bad is None:
                raise
            on_bad(f"{exc}: the link was left out, the segment kept")
    return out


def _link(i: int, lk: Any, s: dict) -> dict:
    if type(lk) is not dict:
        raise _bad(f"links[{i}] is not an object: {lk!r}", s)
    raw, sid, attrs = lk.get("trace_id"), lk.get("id"), lk.get("attributes")
    t = raw.strip() if type(raw) is str else ""
    if len(t) == 35 and t[:2] == "1-" and t[10] == "-":
        t = t[2:10] + t[11:]
    t = t.lower()
    if raw not in (None, "") and (len(t) != 32 or t.strip("0123456789abcdef")):
        raise _bad(f"links[{i}].trace_id {raw!r} is not an X-Ray trace id (1-8hex-24hex) or 32 hex digits", s)
    if sid not in (None, "") and (type(sid) is not str or len(sid) != 16 or sid.lower().strip("0123456789abcdef")):
        raise _bad(f"links[{i}].id {sid!r} is not 16 hex digits", s)
    if attrs is not None and type(attrs) is not dict:
        raise _bad(f"links[{i}].attributes is not an object: {attrs!r}", s)
    return {"trace_id": t if t.strip("0") else None, "span_id": sid.lower() if sid and sid.strip("0") else None,
            "trace_state": None, "flags": None, "attributes": dict(attrs) if attrs else {}}


def trace_extra(trace: dict) -> dict | None:
    """The trace-level fields BatchGetTraces gives beside the segments (``Duration``, ``LimitExceeded``),
    as resource keys of every span of the trace; None when it gives neither.

    >>> trace_extra({"Id": "1-5759e988-bd862e3fe1be46a994272793", "Duration": 0.5, "Segments": []})
    {'xray.trace.Duration': 0.5}
    """
    if "Duration" not in trace and "LimitExceeded" not in trace:
        return None
    extra = {}
    if "Duration" in trace:
        extra["xray.trace.Duration"] = trace["Duration"]
    if "LimitExceeded" in trace:
        extra["xray.trace.LimitExceeded"] = trace["LimitExceeded"]
    return extra


class _Builder:
    def __init__(self, lenient: bool, owned: bool = False):
        self.lenient = lenient
        self.owned = owned  # the parsed JSON is ours: Document strings may be dropped once parsed
        self.skipped: list[SkippedRecord] = []
        self.ignored: list[SkippedRecord] = []  # daemon protocol headers
        self.empty: SkippedRecord | None = None
        self.unprocessed: list[str] = []
        #: the file of the first BatchGetTraces page read that holds a ``NextToken``, and whether a page without one
        #: (a request's last page) was read (:meth:`note_page`)
        self.next_page: str | None = None
        self.last_page = False
        self.limit_exceeded: list[str] = []  # the traces given with "LimitExceeded": true (:meth:`note_trace`)
        #: the fast path (tracekit.io.xray_fast) handed a Document whose keys it cannot count to the checked code: the
        #: traces counted with it are walked again, checked (xray_fast.add_value), which refuses a repeated key
        self.recheck = False
        self.keys_seen: list[int] = []
        # per span
        self.span_id: list = []
        self.parent_id: list = []
        self.name: list = []
        # plain lists, converted by numpy at the end: array.append parses its argument like a
        # function call (measured: 6% of the fast walk)
        self.start: list = []  # epoch seconds
        self.end: list = []  # NaN when in progress
        self.exact_times: dict[float, int] = {}  # float seconds -> ns from a 7+ decimal text (_fine_times)
        # bit 0 error, 1 fault, 2 throttle, 3 in_progress; bits 4-5 kind (0 server, 1 client, 2 internal)
        self.bits: list = []
        self.http_status: list = []  # _NO_STATUS when absent
        self.attributes: list = []
        self.status_message: dict[int, str] = {}  # row -> message, for the few spans with a cause
        self.events: dict[int, list] = {}  # row -> exception events
        self.links: dict[int, list] = {}  # row -> span links, for the few spans that carry `links`
        self._appends = (self.span_id.append, self.parent_id.append, self.name.append, self.start.append,
                         self.end.append, self.bits.append, self.http_status.append, self.attributes.append)
        # per top-level document
        self.d_trace: list = []
        self.d_service: list = []
        self.d_resource: list = []
        self.d_inferred: list = []
        self.d_count: list = []
        self.d_file: list = []
        self.d_record: list = []
        self.d_where: list = []  # record label (shared prefix) and index, for errors found after the pass
        self.d_j = array("q")
        self.indep: list[tuple[int, str | None]] = []  # (doc index, parent_id) of independent subsegments
        self._last_tid: tuple[Any, str] = (None, "")
        # flattened attribute keys are built once and shared by every span (memory)
        self._http_keys: dict[str, dict[str, str]] = {}
        self._aws_keys: dict[str, str] = {}
        self._aws_sub_keys: dict[str, dict[str, str]] = {}
        self._ann_keys: dict[str, str] = {}
        self._meta_keys: dict[str, str] = {}
        self._service_keys: dict[str, str] = {}  # (the fast path's resource service.<key>)
        # (the fast path's: aws keys whose non-dict values go to attributes, interned if strings)
        self._aws_attr_keys: dict[str, str] = {}
        self._file = None
        self._file_count = 0

    # -- traces walked again
    def mark(self) -> tuple:
        """What the builder holds now, for :meth:`rollback`: the lengths of its lists (rows are only appended)."""
        return (len(self.span_id), len(self.d_trace), len(self.indep), len(self.skipped), len(self.ignored),
                len(self.unprocessed), len(self.limit_exceeded), self.empty, self._file, self._file_count)

    def rollback(self, mark: tuple) -> None:
        """Forget everything added since :meth:`mark` gave ``mark`` (traces about to be walked again, checked)."""
        rows, docs, indep, skipped, ignored, unprocessed, limited, self.empty, self._file, self._file_count = mark
        for col in (self.span_id, self.parent_id, self.name, self.start, self.end, self.bits, self.http_status,
                    self.attributes):
            del col[rows:]
        for sparse in (self.status_message, self.events, self.links):
            for r in [r for r in sparse if r >= rows]:
                del sparse[r]
        for col in (self.d_trace, self.d_service, self.d_resource, self.d_inferred, self.d_count, self.d_file,
                    self.d_record, self.d_where, self.d_j):
            del col[docs:]
        del self.indep[indep:], self.skipped[skipped:], self.ignored[ignored:], self.unprocessed[unprocessed:]
        del self.limit_exceeded[limited:]
        self._last_tid = (None, "")
        self.recheck = False

    # -- what a page or a trace says of itself
    def note_page(self, page: dict, file: str) -> None:
        """A BatchGetTraces page: whether it holds a ``NextToken`` (the pages after it hold more traces: BatchGetTraces
        paginates). The read lacks pages when every page it holds has one: a request's last page has none, and a read
        of every page of its requests (fetch_xray's cache and pages, the AWS CLI's pages one by one) holds each
        request's last page, in any order. (A token names no page, so a read mixing a whole output with one page of
        another is not seen to lack the rest.)"""
        if not page.get("NextToken"):
            self.last_page = True
        elif self.next_page is None:
            self.next_page = file

    def note_trace(self, trace: dict) -> None:
        """A trace given with ``"LimitExceeded": true`` (X-Ray cut it short: the segments past its limit are not in
        it), by the frame's trace id (32 hex; as given when it is not an X-Ray trace id)."""
        if trace.get("LimitExceeded") is True:
            tid = trace.get("Id")
            try:
                tid = self._trace_id(tid, {})
            except _Bad:
                pass
            self.limit_exceeded.append(tid)

    def said(self, df: pd.DataFrame, reader: str, stacklevel: int = 2) -> None:
        """What the pages and traces said of themselves, on ``df`` (the frame read) and in warnings: one page of a
        paginated output (``attrs["truncated"]``, :func:`tracekit.io._sources.warn_page`, the logs and metrics
        readers' rule) and the traces X-Ray cut short (``attrs["limit_exceeded_trace_ids"]``, each trace once).
        ``stacklevel``: the reader's, as for :func:`warnings.warn`."""
        if self.next_page is not None and not self.last_page:
            df.attrs["truncated"] = True
            warn_page(self.next_page, "NextToken", "traces", reader, stacklevel=stacklevel + 1)
        self._say_unprocessed(df, reader, stacklevel + 1)
        cut = tuple(dict.fromkeys(self.limit_exceeded))
        df.attrs["limit_exceeded_trace_ids"] = cut
        if cut:
            first = next((t for t in cut if type(t) is str and len(t) == 32), None)
            first = f"1-{first[:8]}-{first[8:]}" if first is not None else short(cut[0])
            warnings.warn(f"{reader}: {plural(len(cut), 'trace')} {'has' if len(cut) == 1 else 'have'} LimitExceeded: "
                          f"true (X-Ray cut {'it' if len(cut) == 1 else 'them'} short: segments past its limit are "
                          f"not in the data); first: {first} (the trace ids are in "
                          "df.attrs['limit_exceeded_trace_ids'])", TraceFormatWarning, stacklevel=stacklevel + 1)

    def _say_unprocessed(self, df: pd.DataFrame, reader: str, stacklevel: int) -> None:
        """A warning for BatchGetTraces' ``UnprocessedTraceIds`` whose trace is not in ``df`` (X-Ray did not answer
        for them, e.g. throttled, and no other page holds them): their traces are missing, which nothing else shows.
        An id another page answered (asked again and fetched) is not missing."""
        if not self.unprocessed:
            return
        have = set(df["trace_id"].unique().tolist()) if len(df) else set()
        gone = []
        for raw in dict.fromkeys(u for u in self.unprocessed if type(u) is str):
            try:  # the readers' one id rule (an id it cannot read is no trace of the frame either)
                t = canonical_id(raw, 32, xray=True, zero=False)
            except ValueError:
                t = None
            if t not in have:
                gone.append(raw)
        if gone:
            warnings.warn(f"{reader}: {plural(len(gone), 'trace')} listed in UnprocessedTraceIds {'is' if len(gone) == 1 else 'are'} "
                          f"not in the data (X-Ray did not answer for {'it' if len(gone) == 1 else 'them'}, e.g. "
                          f"throttled: ask again, as fetch_xray does); first: {short(gone[0])} (the ids are in "
                          "df.attrs['unprocessed_trace_ids'])", TraceFormatWarning, stacklevel=stacklevel + 1)

    # -- errors
    def empty_at(self, reason: str, file: str, record: str | None) -> None:
        """A recognised container without segments; an error only if the whole read loads none."""
        if self.empty is None:
            self.empty = SkippedRecord(file, record, reason)

    def no_spans(self) -> TraceFormatError:
        """The error for a read that loaded no span and skipped nothing: it names what was empty."""
        if self.empty is not None:
            return TraceFormatError(f"no spans: {self.empty.reason}", file=self.empty.file, record=self.empty.record)
        if self.ignored:
            first = self.ignored[0]
            return TraceFormatError(f"no segments: {len(self.ignored)} record(s) are X-Ray daemon headers only",
                                    file=first.file, record=first.record)
        return TraceFormatError("no spans found")

    def fail(self, err: TraceFormatError) -> None:
        if not self.lenient:
            raise err
        self.skipped.append(SkippedRecord.from_error(err))

    # -- structure
    def add_value(self, value: Any, file: str, line: int | None, label: str) -> None:
        if file != self._file:
            self._file, self._file_count = file, 0
        if type(value) is dict and DUPLICATE_KEYS in value and ("Traces" in value or "TraceSegmentDocuments" in value):
            # a page's Traces or a body's documents given twice (a segment's own repeat: add_segment names it)
            self.fail(TraceFormatError(duplicate_reason(value[DUPLICATE_KEYS]), file=file, record=label or None))
            return
        if type(value) is dict:
            if is_daemon_header(value):
                # the X-Ray daemon protocol's header line before each segment document
                self.ignored.append(SkippedRecord(file, label or None, "X-Ray daemon header: not a segment"))
            elif "Traces" in value:
                self.add_page(value, file, line, label)
            elif "Segments" in value:
                self.add_trace(value, file, line, label, None)
            elif "TraceSegmentDocuments" in value:
                self.add_put_body(value, file, line, label)
            elif ("id" in value or "trace_id" in value or "start_time" in value) and (
                    is_segment_document(value) or known_shape(value) is None):
                # (a JSON log line carrying trace_id, or id + name, is refused naming its shape, not "has no id")
                self.add_segment(value, file, line, label, None, None)
            else:
                keys = ", ".join(map(str, list(value)[:5]))
                shape = known_shape(value)
                self.fail(TraceFormatError(
                    (f"{shape}: " if shape else "") + "not X-Ray data: expected a BatchGetTraces response {\"Traces\": [...]}, a trace "
                    "{\"Id\", \"Segments\"} or a segment document {\"id\", \"trace_id\", \"start_time\", ...}; "
                    f"found keys: {keys or '(none)'}", file=file, record=label or None))
        elif type(value) is list:
            if label.count("[") >= MAX_LIST_NESTING:  # lists of lists of … documents: not trace data
                self.fail(TraceFormatError(f"lists nested more than {MAX_LIST_NESTING} deep: not X-Ray data", file=file,
                                           record=label or None))
                return
            if not value:  # named if nothing else loads (it said "no spans found", naming no file)
                self.empty_at("the JSON list is empty", file, label or None)
            for i, item in enumerate(value):
                self.add_value(item, file, line, f"{label}[{i}]" if not label else f"{label}, [{i}]")
        elif type(value) is str:
            self.add_segment(value, file, line, label, None, None)
        else:
            self.fail(TraceFormatError(f"not X-Ray data: a JSON {json_kind(value)} where a response, "
                                       "trace or segment document was expected", file=file, record=label or None))

    def add_page(self, page: dict, file: str, line: int | None, label: str) -> None:
        traces = page["Traces"]
        up = page.get("UnprocessedTraceIds")
        if type(up) is list:
            self.unprocessed.extend(up)
        self.note_page(page, file)
        sep = ", " if label else ""
        if type(traces) is not list:
            self.fail(TraceFormatError(f"'Traces' is a {type(traces).__name__}, not a list",
                                       file=file, record=f"{label}{sep}Traces"))
            return
        if not traces:
            up_note = f" ({len(up)} UnprocessedTraceIds)" if type(up) is list and up else ""
            self.empty_at(f"Traces is empty{up_note}", file, f"{label}{sep}Traces")
        for i, t in enumerate(traces):
            self.add_trace(t, file, line, f"{label}{sep}Traces[{i}]", None)

    def add_put_body(self, body: dict, file: str, line: int | None, label: str) -> None:
        """A PutTraceSegments request body, ``{"TraceSegmentDocuments": ["<segment document JSON>", ...]}`` (what the
        X-Ray exporter and ``aws xray put-trace-segments`` send): its documents, read as a list of them is."""
        docs = body["TraceSegmentDocuments"]
        where = f"{label}, TraceSegmentDocuments" if label else "TraceSegmentDocuments"
        if type(docs) is not list:
            self.fail(TraceFormatError(f"'TraceSegmentDocuments' is a {type(docs).__name__}, not a list", file=file,
                                       record=where))
            return
        if not docs:
            self.empty_at("TraceSegmentDocuments is empty", file, where)
        for i, d in enumerate(docs):
            if type(d) is list:  # segment documents, not lists of them (no recursion on hostile depth)
                self.fail(TraceFormatError("a TraceSegmentDocuments entry is a list, not a segment document",
                                           file=file, record=f"{where}[{i}]"))
                continue
            self.add_value(d, file, line, f"{where}[{i}]")

    def add_trace(self, trace: Any, file: str, line: int | None, label: str, _unused: Any) -> None:
        if type(trace) is not dict or type(trace.get("Segments")) is not list:
            self.fail(TraceFormatError("trace has no 'Segments' list", file=file, record=label or None))
            return
        if DUPLICATE_KEYS in trace:  # its Segments given twice: the first would be lost
            self.fail(TraceFormatError(duplicate_reason(trace[DUPLICATE_KEYS]), file=file, record=label or None))
            return
        self.note_trace(trace)
        extra = trace_extra(trace)
        tid = trace.get("Id")
        where = f"{label}.Segments" if label else "Segments"  # + [j]: formatted only when needed
        if not trace["Segments"]:
            self.empty_at("Segments is empty", file, where)
        for j, seg in enumerate(trace["Segments"]):
            if type(seg) is dict and DUPLICATE_KEYS in seg and "Document" in seg:  # its Document given twice
                self.fail(TraceFormatError(duplicate_reason(seg[DUPLICATE_KEYS]), file=file, record=_label(where, j)))
                continue
            if type(seg) is dict and "Document" in seg:
                self.add_segment(seg["Document"], file, line, where, tid, extra, j)
                if self.owned:
                    seg["Document"] = None  # free the string (a copy of the file) as we go
            elif type(seg) is dict and "id" in seg and ("start_time" in seg or "trace_id" in seg):
                # the segment document itself, already parsed (no {Id, Document} wrapper)
                self.add_segment(seg, file, line, where, tid, extra, j)
            else:
                self.fail(TraceFormatError("segment entry has no 'Document' (and is not a segment document "
                                           "with 'id' and 'start_time')", file=file, record=f"{where}[{j}]"))

    def add_segment(self, doc: Any, file: str, line: int | None, where: str,
                    trace_tid: Any, trace_extra: dict | None, j: int = -1, ours: bool = False) -> None:
        """Add one segment document; its record label is ``where`` (+ ``[j]`` when j >= 0). ``ours``: ``doc``
        was parsed here (its nested values may go into the frame as they are; a caller's are copied)."""
        record = line if line is not None else self._file_count
        self._file_count += 1
        mark = len(self.span_id)
        self._pending: list[str] = []  # link problems of this document (lenient): said once it is loaded
        try:
            if type(doc) is str:
                try:
                    text, doc = doc, exact_ints(doc, loads(doc))  # an integer beyond 64 bits stays an int (orjson: a float)
                    if not self.owned:  # a caller's Document text (a file's bytes were scanned when read)
                        _fine_times(text.encode(), self.exact_times)
                    doc = unique_keys(text, doc, CHECKED_KEYS, segment_records)  # a (sub)segment holding a key twice: refused
                    del text
                except orjson.JSONDecodeError as exc:
                    raise _Bad(f"Document is not valid JSON ({exc})") from None
                ours = True
            if type(doc) is list:  # one Document holding several segments
                if not doc:
                    raise _Bad("Document is an empty list")
                label = _label(where, j)
                for i, d in enumerate(doc):
                    at = f"{label}[{i}]" if label else f"[{i}]"
                    if type(d) is list:  # segments in a list, not lists in lists (no recursion on hostile depth)
                        self.fail(TraceFormatError("a Document's list holds a list, not a segment document",
                                                   file=file, record=at))
                        continue
                    self.add_segment(d, file, line, at, trace_tid, trace_extra, ours=ours)
                self._file_count -= 1
                return
            if type(doc) is not dict:
                raise _Bad(f"segment document is a JSON {json_kind(doc)}, not an object")
            self._walk(doc, trace_tid, trace_extra)
            if not (ours or self.owned):
                self._own_values(mark)
            for reason in self._pending:
                self.fail(TraceFormatError(reason, file=file, record=_label(where, j) or None))
        except _Bad as exc:
            del self.span_id[mark:], self.parent_id[mark:], self.name[mark:], self.bits[mark:]
            del self.start[mark:], self.end[mark:], self.http_status[mark:], self.attributes[mark:]
            for sparse in (self.status_message, self.events, self.links):
                # rows are added in increasing order, so those of this document are the last
                # inserted: pop from the end (scanning every key was quadratic in bad documents)
                while sparse and next(reversed(sparse)) >= mark:
                    sparse.popitem()
            n = _span_count(doc)
            said = f": the document's {n} spans were left out" if n > 1 and self.lenient else ""
            self.fail(TraceFormatError(f"{exc}{said}", file=file, record=_label(where, j) or None))
            return
        self.d_file.append(file)
        self.d_record.append(record)
        self.d_where.append(where)
        self.d_j.append(j)
        self.d_count.append(len(self.span_id) - mark)

    def _own_values(self, mark: int) -> None:
        """The rows from ``mark`` (one document of the caller's parsed JSON) get copies of the dicts and lists
        they took from it (cause, metadata, list values, link and exception attributes, resource values): the
        frame's values and the caller's are two objects, editing one does not edit the other. Scalars are
        immutable; the walk itself made every other container."""
        def own(d: dict) -> None:
            for k, v in d.items():
                if type(v) is dict or type(v) is list:
                    d[k] = json_copy(v)

        for r in range(mark, len(self.span_id)):
            own(self.attributes[r])
            for ev in self.events.get(r, ()):
                own(ev["attributes"])
            for lk in self.links.get(r, ()):
                own(lk["attributes"])
        own(self.d_resource[-1])

    def _trace_id(self, raw: Any, seg: dict) -> str:
        # the documents of a trace come one after another: remember the last id only (a dict of
        # every id seen cost more, in hashing and cache misses, than it saved)
        if raw == self._last_tid[0] and type(raw) is str:
            return self._last_tid[1]
        if type(raw) is not str:
            raise _bad("has no trace_id" if raw is None else f"trace_id {short(raw)} is not a string", seg)
        r = raw.strip()
        if len(r) == 35 and r[:2] == "1-" and r[10] == "-":
            t = (r[2:10] + r[11:]).lower()
        elif len(r) == 32:
            t = r.lower()
        else:
            t = ""
        if len(t) != 32 or t.strip("0123456789abcdef"):
            raise _bad(f"trace_id {short(raw)} is not an X-Ray trace id (1-8hex-24hex) or 32 hex digits", seg)
        self._last_tid = (raw, t)
        return t

    def _walk(self, seg: dict, trace_tid: Any, trace_extra: dict | None) -> None:
        """Append one top-level document (segment or independent subsegment) and its subsegments."""
        raw_tid = seg.get("trace_id", trace_tid)
        tid = self._trace_id(raw_tid, seg)
        top_is_sub = seg.get("type") == "subsegment"
        inferred = seg.get("inferred") is True
        seg_name = seg.get("name")
        resource: dict[str, Any] = {} if trace_extra is None else dict(trace_extra)
        http_keys, aws_keys, ann_keys, meta_keys = self._http_keys, self._aws_keys, self._ann_keys, self._meta_keys
        aws_sub_keys = self._aws_sub_keys
        (span_id_a, parent_a, name_a, start_a, end_a, bits_a, status_a, attrs_a) = self._appends
        rows = self.span_id

        top_parent = seg.get("parent_id")
        if top_parent is not None and type(top_parent) is not str:
            raise _bad(f"parent_id {short(top_parent)} is not a string", seg)
        if top_parent in NO_PARENT:
            top_parent = None  # a placeholder: no parent, as OTLP's and spans_from_columns' rule
        stack: list[tuple[dict, Any, bool]] = [(seg, top_parent, True)]
        pop = stack.pop
        push = stack.append
        lenient = self.lenient
        paths = None  # where each subsegment is, made for the first one that has no id to name it by
        while stack:
            # top: True for the document, False for a subsegment, None for a subsegment whose
            # parent was skipped (lenient): loaded as an orphan, flagged
            s, parent, top = pop()
            get = s.get
            sid = get("id")
            name = get("name")
            st = get("start_time")
            et = get("end_time")
            ip = get("in_progress") is True
            ip_end = None
            if ip and et is not None:  # in progress *and* an end: the mapping's in_progress rule (end NaT), the end kept
                ip_end, et = et, None
            try:
                if DUPLICATE_KEYS in s:
                    raise _bad(duplicate_reason(s[DUPLICATE_KEYS]), s if top else {**s, "_nested": True})
                if type(sid) is not str or len(sid) != 16 or type(name) is not str or type(st) is not float \
                        or not (_MIN_S <= st <= _MAX_S) or (et is not None and (type(et) is not float or not (_MIN_S <= et <= _MAX_S))) \
                        or (et is None and not ip):
                    st, et = _check_span(s, top, sid, name, st, et, ip)
                elif et is None:
                    et = _NAN
                if "fault" in s or "error" in s or "throttle" in s:
                    for flag in ("error", "fault", "throttle"):  # a 1 or "true" was read as no error: the span looked ok
                        v = get(flag)
                        if v is not None and type(v) is not bool:
                            raise _bad(f"{flag} must be true or false, got {short(v)}", s if top else {**s, "_nested": True})
            except _Bad as exc:
                if top:
                    raise
                if type(sid) is not str or len(sid) != 16:  # no id to name it by: its segment and its place
                    if paths is None:
                        paths = _subsegment_paths(seg)
                    exc = _Bad(f"segment {short(seg.get('id'))} ({short(seg.get('name'))}), "
                               f"{paths.get(id(s), 'a subsegment')} ({short(name)}): {exc}")
                if not lenient:
                    raise exc from None
                self._skip_subsegment(s, str(exc), push)  # that subsegment alone: its segment and children load
                continue
            # a new dict (sized to fit: the parsed one would keep the column keys' room, +40% memory).
            # Four keys that passed the checks above are id, name, start_time and end_time or
            # in_progress: nothing else to keep (common for local subsegments)
            attrs = {} if len(s) == 4 else {k: v for k, v in s.items() if k not in (_TOP_SKIP if top else _SUB_SKIP)}
            take = attrs.pop
            if ip_end is not None:
                attrs["end_time"] = ip_end
                attrs[TIME_PROBLEM] = "in_progress_with_end_time"

            # kind, in_progress, error, fault, throttle in one byte (decoded column-wise)
            if top and not top_is_sub:
                bits = 0
            else:
                ns = attrs.get("namespace")
                bits = 16 if ns == "aws" or ns == "remote" else 32
            if ip:
                bits |= 8
            if "fault" in s or "error" in s or "throttle" in s:
                bits |= (get("error") is True) | (get("fault") is True) << 1 | (get("throttle") is True) << 2

            # attributes: every key that is not a column, with http/aws/sql flattened
            status = _NO_STATUS
            if attrs:
                v = take("http", None)
                if v is not None:
                    if type(v) is dict and v:
                        for k2, v2 in v.items():
                            if type(v2) is dict and v2:
                                c = http_keys.get(k2)
                                if c is None:
                                    c = http_keys[k2] = {}
                                _put_level(attrs, c, "http", k2, v2)
                            else:
                                attrs["http." + k2] = v2
                        resp = v.get("response")
                        if type(resp) is dict:
                            code = resp.get("status")
                            if code is not None:
                                if type(code) is not int or not (-_MAX_INT < code < _MAX_INT):
                                    code = read_int(code)
                                    if code is not None:
                                        attrs["http.response.status"] = code
                                if code is not None:
                                    status = code
                            cl = resp.get("content_length")
                            if type(cl) is str and read_int(cl) is not None:
                                attrs["http.response.content_length"] = read_int(cl)
                    else:
                        attrs["http"] = v
                v = take("aws", None)
                if v is not None:
                    if type(v) is dict and v:
                        to_resource = top and not top_is_sub
                        for k2, v2 in v.items():
                            key = aws_keys.get(k2)
                            if key is None:
                                key = aws_keys[k2] = "aws." + k2
                            out = resource if to_resource and (type(v2) is dict or k2 in _AWS_CONTEXT) else attrs
                            if type(v2) is dict and v2:  # ec2, ecs, xray, ...: one level, inline
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
                if "annotations" in attrs and type(attrs["annotations"]) is dict:
                    for k2, v2 in take("annotations").items():
                        key = ann_keys.get(k2)
                        if key is None:
                            key = ann_keys[k2] = "annotation." + k2
                        attrs[key] = v2
                if "metadata" in attrs and type(attrs["metadata"]) is dict and attrs["metadata"]:
                    for k2, v2 in take("metadata").items():
                        key = meta_keys.get(k2)
                        if key is None:
                            key = meta_keys[k2] = "metadata." + k2
                        attrs[key] = v2
                if "sql" in attrs:
                    _put(attrs, "sql", take("sql"))
                if "cause" in attrs:
                    end_ns = None if et != et else _second_to_ns(et)
                    events, message = _exception_events(attrs["cause"], end_ns)
                    row = len(rows)
                    if events:
                        self.events[row] = events
                    if message is not None:
                        self.status_message[row] = message
                if top:
                    if "service" in attrs:
                        _put(resource, "service", take("service"))
                    if "origin" in attrs:
                        resource["origin"] = attrs["origin"]
                    if "resource_arn" in attrs:
                        resource["resource_arn"] = take("resource_arn")

            if attrs and "links" in attrs:  # span links (SQS → Lambda trace linking): the links column
                self.links[len(rows)] = _links(take("links"), s, self._pending.append if self.lenient else None)
            if top is None:
                attrs[PARENT_PROBLEM] = "parent_skipped"
            span_id_a(sid)
            parent_a(parent)
            name_a(intern(name))  # names repeat: one string each
            start_a(st)
            end_a(et)
            bits_a(bits)
            status_a(status)
            attrs_a(attrs)

            subs = get("subsegments")
            if subs:
                if type(subs) is not list:
                    if not lenient:
                        raise _bad("'subsegments' is not a list", s)
                    self._pending.append(str(_bad(f"'subsegments' is not a list ({short(subs)}): left out, the "
                                                  "span kept", s if top else {**s, "_nested": True})))
                    continue
                for c in reversed(subs):
                    if type(c) is not dict:
                        if not lenient:
                            raise _bad("a subsegment is not a JSON object", s)
                        i = next(k for k, x in enumerate(subs) if x is c)  # (the rare path: its place, for the record)
                        self._pending.append(str(_bad(f"subsegments[{i}] is not a JSON object ({short(c)}): left "
                                                      "out, its siblings kept", s if top else {**s, "_nested": True})))
                        continue
                    push((c, sid, False))

        doc_index = len(self.d_trace)
        self.d_trace.append(tid)
        self.d_inferred.append(inferred)
        self.d_resource.append(resource)
        if top_is_sub:
            self.d_service.append(None)
            self.indep.append((doc_index, top_parent))
        else:
            self.d_service.append(seg_name)

    def _skip_subsegment(self, s: dict, reason: str, push: Any) -> None:
        """Leave out one bad subsegment (lenient reading), said with how many spans that is: its
        subsegments load as orphans flagged ``attributes["tracekit.parent_problem"] =
        "parent_skipped"`` when it has an id to hang them on, else they are left out with it."""
        sid = s.get("id")
        subs = s.get("subsegments")
        kids = [c for c in subs if type(c) is dict] if type(subs) is list else []
        if not kids:
            self._pending.append(f"{reason}: this subsegment (1 span) was left out, the rest of its segment loaded")
            return
        if type(sid) is str and len(sid) == 16 and not sid.lower().strip("0123456789abcdef"):
            for c in reversed(kids):
                push((c, sid, None))
            self._pending.append(f"{reason}: this subsegment (1 span) was left out, the rest of its segment loaded; "
                                 f"its {len(kids)} child subsegment(s) loaded as orphans flagged "
                                 f"attributes['{PARENT_PROBLEM}'] = 'parent_skipped'")
            return
        n = _span_count(s) - 1  # no id to hang them on: the subtree goes with it (counted: any depth)
        self._pending.append(f"{reason}: this subsegment and the {n} subsegment(s) under it ({n + 1} spans) were left "
                             "out (no valid id to hang them on), the rest of its segment loaded")

    # -- after the pass

    def _resolve_independent(self) -> None:
        """Give each independent subsegment the service/resource of the span its parent_id names."""
        if not self.indep:
            return
        want = {self.d_trace[d] for d, _ in self.indep}
        owner: dict[tuple[str, str], int] = {}
        row = 0
        for d, n in enumerate(self.d_count):
            tid = self.d_trace[d]
            if tid in want:
                for r in range(row, row + n):
                    owner[(tid, self.span_id[r].lower())] = d  # the last copy: a complete segment follows its in-progress one
            row += n
        parent_of = dict(self.indep)

        def resolve(d: int, seen: set) -> tuple[str, dict]:
            svc = self.d_service[d]
            if svc is not None:
                return svc, self.d_resource[d]
            p = parent_of.get(d)
            pd_ = owner.get((self.d_trace[d], p.lower())) if isinstance(p, str) else None
            if pd_ is None or pd_ in seen:
                svc, res = UNKNOWN_SERVICE, {}
            else:
                svc, res = resolve(pd_, seen | {d})
            own = self.d_resource[d]
            merged = {**res, **own} if own else res
            self.d_service[d], self.d_resource[d] = svc, merged
            return svc, merged

        for d, _ in self.indep:
            resolve(d, set())

    def _drop_subtree(self, r: int, lo: int, hi: int, kept: np.ndarray) -> int:
        """Mark row ``r`` and the rows of its subtree among its document's rows ``lo:hi`` as not kept (the
        parent ids of nested subsegments are their parents' ids as written); return how many."""
        gone = {self.span_id[r]}
        kept[r] = False
        count, grew = 1, True
        while grew:  # (documents are small; nesting order is not relied on)
            grew = False
            for i in range(lo, hi):
                if kept[i] and self.parent_id[i] in gone and i != lo:
                    kept[i] = False
                    gone.add(self.span_id[i])
                    count += 1
                    grew = True
        return count

    def _drop_docs(self, bad_docs: dict[int, str]) -> np.ndarray:
        """Report documents found bad after the pass; return a keep-mask over rows."""
        errs = [TraceFormatError(bad_docs[d] + (f": the document's {self.d_count[d]} spans were left out"
                                                if self.d_count[d] > 1 and self.lenient else ""),
                                 file=self.d_file[d], record=_label(self.d_where[d], self.d_j[d]) or None)
                for d in sorted(bad_docs)]
        if not self.lenient:
            raise errs[0]
        self.skipped.extend(SkippedRecord.from_error(e) for e in errs)
        counts = np.asarray(self.d_count, dtype=np.int64)
        doc_of_row = np.repeat(np.arange(len(counts)), counts)
        return ~np.isin(doc_of_row, np.fromiter(bad_docs, dtype=np.int64))

    def frame(self) -> pd.DataFrame:
        self._resolve_independent()
        self.d_service = known_services(self.d_service)  # a segment named "" or blank: unknown_service
        n = len(self.span_id)
        nd = len(self.d_count)
        counts = np.asarray(self.d_count, dtype=np.int64)
        doc_of_row = np.repeat(np.arange(nd, dtype=np.int64), counts)

        # ids: checked on their bytes with numpy (io._columns.hex_id_bytes; the usual case: all 16
        # lower-case hex digits), else by one regex over all of them, lower-cased only when needed
        # Arrow buffers come from the system allocator, which reuses the heap the Document
        # strings were freed from (Arrow's own pool would map new memory: ~10% higher peak)
        pool = pa.system_memory_pool()
        span_id = pa.array(self.span_id, pa.large_string(), memory_pool=pool)
        parent_id = pa.array(self.parent_id, pa.large_string(), memory_pool=pool)
        span_bytes = hex_id_bytes(span_id, 16)
        dup_rows = duplicate_candidates(span_id, span_bytes)
        keep = None
        bad_docs: dict[int, str] = {}
        bad_rows: np.ndarray | None = None  # rows kept, when a subsegment's bad id leaves its subtree out
        first_row = np.concatenate(([0], np.cumsum(counts)[:-1])) if nd else counts
        for col_name, arr in (("id", span_id), ("parent_id", parent_id)):
            ids_bytes = span_bytes if col_name == "id" else hex_id_bytes(arr, 16)
            if ids_bytes is not None:  # what the regex would find: every id matches
                if col_name == "parent_id" or not len(ids_bytes):
                    continue
                # a span id of 16 zeros is no id (FORMATS.md: "", absent and all-zero ids are "no id"; a parent_id
                # of zeros is a root, NO_PARENT): refused as the OTLP reader refuses it, not kept as an id that a
                # child in another document could not name
                w = ids_bytes.view(np.uint64).reshape(-1, 2)  # (every span has an id: no nulls)
                zero = (w[:, 0] == _ZEROS8) & (w[:, 1] == _ZEROS8)  # 4 ms per 1M ids (a byte compare: 16 ms)
                if not zero.any():
                    continue
                ok_rows = ~zero
            else:
                ok = pc.match_substring_regex(arr, _ID_RE, memory_pool=pool)
                if pc.all(pc.fill_null(ok, True)).as_py() and col_name == "parent_id":
                    continue
                arr = pc.utf8_lower(arr)
                ok_rows = pc.fill_null(pc.match_substring_regex(arr, _ID_RE), True).to_numpy(zero_copy_only=False)
                if col_name == "id":
                    ok_rows = ok_rows & pc.fill_null(pc.not_equal(arr, _ZERO_ID), True).to_numpy(zero_copy_only=False)
                    span_id = arr
                else:
                    parent_id = arr
            if not ok_rows.all():
                for r in np.flatnonzero(~ok_rows):
                    r = int(r)
                    d = int(doc_of_row[r])
                    if bad_rows is not None and not bad_rows[r]:
                        continue  # under a subsegment left out below
                    if col_name == "id" and self.lenient and d not in bad_docs and r != first_row[d]:
                        # a nested subsegment's id (the in-pass rule for an id that is not 16 characters): it and
                        # its subtree are left out, the rest of its document loads
                        bad_rows = np.ones(n, dtype=bool) if bad_rows is None else bad_rows
                        gone = self._drop_subtree(r, first_row[d], first_row[d] + self.d_count[d], bad_rows)
                        self.skipped.append(SkippedRecord.from_error(TraceFormatError(
                            f"subsegment {short(self.span_id[r])} ({short(self.name[r])}): id {short(self.span_id[r])} "
                            f"{_id_problem(self.span_id[r])}: this subsegment and the {gone - 1} subsegment(s) under it "
                            f"({gone} spans) were left out (no valid id to hang them on), the rest of its segment "
                            "loaded", file=self.d_file[d], record=_label(self.d_where[d], self.d_j[d]) or None)))
                    elif d not in bad_docs:
                        value = self.span_id[r] if col_name == "id" else self.parent_id[r]
                        bad_docs[d] = (f"span {short(self.span_id[r])} ({short(self.name[r])}): "
                                       f"{col_name} {short(value)} {_id_problem(value)}")
        if bad_docs:
            keep = self._drop_docs(bad_docs)
        if bad_rows is not None:
            keep = bad_rows if keep is None else keep & bad_rows
        self.span_id = self.parent_id = None  # free as we go: peak memory matters at 1M spans

        # times: float seconds -> int64 ns rounded to the microsecond (never via float ms)
        start_s = np.array(self.start, dtype=np.float64)
        start_ns = _seconds_to_ns(start_s)
        _exact_ns(start_s, start_ns, self.exact_times)
        del start_s
        end_s = np.array(self.end, dtype=np.float64)
        self.start = self.end = None
        missing_end = np.isnan(end_s)
        end_ns = _seconds_to_ns(np.where(missing_end, 0.0, end_s))
        _exact_ns(end_s, end_ns, self.exact_times)
        end_ns[missing_end] = _NAT
        duration_ms = (end_ns - start_ns) / 1e6
        duration_ms[missing_end] = np.nan
        back = np.flatnonzero(~missing_end & (end_ns < start_ns))
        for r in back:  # kept as given (a negative duration), flagged
            self.attributes[r][TIME_PROBLEM] = "end_before_start"
        # start 0 is kept as given, never guessed, but flagged as the OTLP reader flags it (and it outranks the end's
        # flags): 1970 is no start traced data has, and a duration or a window over it would be decades long unsaid
        for r in np.flatnonzero(start_ns == 0):
            self.attributes[r][TIME_PROBLEM] = START_TIME_ZERO

        bits = np.array(self.bits, dtype=np.int8)
        err, fault, thr, inprog = ((bits & b) != 0 for b in (1, 2, 4, 8))
        kind = bits >> 4
        del bits
        hs = np.array(self.http_status, dtype=np.int64)
        no_status = hs == _NO_STATUS
        # the flags the HTTP code implies, where the document carries none (a proxy's or hand-written segment: the SDKs
        # set them from the code; a span flagged by its sender keeps its flags, a 429 is a throttle whatever else):
        # the OTLP reader's rule (schema.http_status_flags), the row flagged
        implied = http_status_flags(np.where(no_status, 0, hs))
        unflagged = ~(err | fault | thr)
        implied["error"] &= unflagged
        implied["fault"] &= unflagged
        derived = implied["error"] | implied["fault"] | (implied["throttle"] & ~thr)
        if derived.any():
            err, fault, thr = err | implied["error"], fault | implied["fault"], thr | implied["throttle"]
            for r in np.flatnonzero(derived):
                self.attributes[r][STATUS_FROM] = "http_status"
        take = pa.array(doc_of_row, memory_pool=pool)
        d_resource = np.fromiter(self.d_resource, dtype=object, count=nd)

        def strings(arr: pa.Array) -> pd.Series:
            if isinstance(arr, pa.DictionaryArray):
                arr = pc.cast(arr, pa.large_string(), memory_pool=pool)
            return pd.Series(pd.arrays.ArrowStringArray(arr), copy=False)

        def per_doc(values: list) -> pd.Series:
            return strings(pc.take(pa.array(values, pa.large_string(), memory_pool=pool), take, memory_pool=pool))

        def codes(c: np.ndarray, labels: list[str]) -> pd.Series:
            return strings(pa.DictionaryArray.from_arrays(pa.array(c, memory_pool=pool), pa.array(labels, pa.large_string())))

        def ts(ns: np.ndarray) -> pd.Series:
            return pd.Series(pd.DatetimeIndex(ns.view("M8[ns]")).tz_localize("UTC"), copy=False)

        def objects(values: list) -> pd.Series:
            # fromiter: `o[:] = values` would look into every dict/list for a nested shape (5x slower)
            return pd.Series(np.fromiter(values, dtype=object, count=len(values)), copy=False)

        def lists(sparse: dict[int, list]) -> pd.Series:
            o = np.fromiter(map(list, repeat((), n)), dtype=object, count=n)  # a new list per row
            for r, v in sparse.items():
                o[r] = v
            return pd.Series(o, copy=False)

        messages = [None] * n
        for r, m in self.status_message.items():
            messages[r] = m

        data = {
            "trace_id": per_doc(self.d_trace),
            "span_id": strings(span_id),
            "parent_id": strings(parent_id),
            "service": per_doc(self.d_service),
            "name": strings(named(pa.array(self.name, pa.large_string(), memory_pool=pool))),
            "kind": codes(kind, ["server", "client", "internal"]),
            "start": ts(start_ns),
            "end": ts(end_ns),
            "duration_ms": pd.Series(duration_ms, copy=False),
            # an in-progress segment without a flag has no outcome yet: unset, not ok (core.trace_outcomes: unknown)
            "status": codes(np.where(err | fault | thr, 1, np.where(inprog, 2, 0)).astype(np.int8),
                            ["ok", "error", "unset"]),
            "status_message": strings(pa.array(messages, pa.large_string(), memory_pool=pool)),
            "http_status": pd.Series(pd.arrays.IntegerArray(np.where(no_status, 0, hs), no_status)),
            "error": pd.Series(err, copy=False),
            "fault": pd.Series(fault, copy=False),
            "throttle": pd.Series(thr, copy=False),
            "attributes": objects(self.attributes),
            "resource": pd.Series(d_resource[doc_of_row], copy=False),
            "events": lists(self.events),
            "links": lists(self.links),
            "trace_state": strings(pa.nulls(n, pa.large_string(), memory_pool=pool)),
            "flags": pd.Series(pd.arrays.IntegerArray(np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool))),
            "in_progress": pd.Series(inprog, copy=False),
            "inferred": pd.Series(np.asarray(self.d_inferred, dtype=bool)[doc_of_row], copy=False),
            "source": codes(np.zeros(n, dtype=np.int8), ["xray"]),
            "source_file": per_doc(self.d_file),
            "source_record": pd.Series(pd.arrays.IntegerArray(
                np.asarray(self.d_record, dtype=np.int64)[doc_of_row], np.zeros(n, dtype=bool))),
        }
        self.name = self.attributes = self.events = self.status_message = self.links = None
        df = pd.DataFrame(data, columns=list(COLUMN_NAMES), copy=False)
        del data
        copies = 0
        if dup_rows is not None and keep is not None:
            # a copy is kept only among the rows that stay: one in a document left out is not the copy kept
            dup_rows = dup_rows[keep[dup_rows]]
        if dup_rows is not None and len(dup_rows) > 1:
            drop = duplicates_to_drop(df, dup_rows)
            copies = int(np.count_nonzero(drop if keep is None else drop & keep))
            keep = ~drop if keep is None else keep & ~drop
        if keep is not None and not keep.all():
            df = df[keep].reset_index(drop=True)
        df.attrs["copies_dropped"] = copies
        return df
