"""Read log records into the canonical logs frame (:mod:`tracekit.logs_schema`).

:func:`read_logs` parses every file once (gzip detected by its bytes) and looks at each JSON
document (each line of JSON lines, each element of a top-level list, each object of JSON objects written one
after another):

* **OTLP logs** — ``{"resourceLogs": [{"resource", "scopeLogs": [{"scope", "logRecords": […]}]}]}``,
  the legacy ``instrumentationLibraryLogs`` (whose record list the pre-1.0 proto named ``logs``; read when
  ``scopeLogs`` is absent or empty, else listed in ``df.attrs["ignored"]``: the collector's rule), proto field
  names (``resource_logs``…), a quoted ``severityNumber`` (``"9"``, as protobuf's JSON parsers accept): one row per
  ``logRecord``; AnyValue bodies (a string as is, a map or array as compact JSON), attributes
  decoded as the span reader decodes them, ``eventName`` kept as attribute ``event.name``. A time
  of 0 is "unknown" (OTLP), so ``time`` falls back on ``observedTimeUnixNano``.
* **Collector files mixing signals** — lines of ``resourceSpans`` / ``resourceMetrics`` are not
  log data: listed in ``df.attrs["ignored"]``, not errors (``tk.read`` reads their spans); so are X-Ray's documents
  (BatchGetTraces output, a segment document — an id, a name and its times, with no message or level key:
  :func:`xray_document` — and the X-Ray daemon's header ``{"format": "json", "version": 1}``), so one directory of
  mixed signals can be given to each reader.
* **CloudWatch Logs** — ``aws logs filter-log-events`` / ``get-log-events`` output
  (``{"events": [{"timestamp", "message", "ingestionTime", "logStreamName"}]}``) and subscription
  payloads (``{"logGroup", "logStream", "logEvents"}``): a message that is a JSON object (AWS
  Lambda Powertools, Lambda's JSON log format, API Gateway's access logs) is read as a JSON record below, with the
  event's timestamp, whatever keys it has; a Lambda text line ``time<TAB>request id<TAB>LEVEL<TAB>message`` (Node.js) or
  ``[LEVEL]<TAB>time<TAB>request id<TAB>message`` (Python), or ``[LEVEL] text``, gives its level; a
  traced invocation's ``REPORT`` line (``XRAY TraceId: 1-…``) and, in Lambda's JSON log format, a
  platform record's ``record.tracing.value`` give the trace id (not a span id: their segment /
  Parent ids are not the function's span).
* **CloudWatch Logs subscriptions, as delivered** — the payload (``{"messageType", "owner", "logGroup",
  "logStream", "subscriptionFilters", "logEvents": [{"id", "timestamp", "message"}]}``): one row per event of a
  ``DATA_MESSAGE`` (group → ``service`` and ``resource["log.group"]``, stream → ``host`` and
  ``resource["log.stream"]``, owner → ``resource["cloud.account.id"]``, subscriptionFilters →
  ``resource["log.subscription_filters"]``, ``id`` → ``attributes["log.event_id"]``, a filter pattern's
  ``extractedFields`` → ``attributes["log.extracted.<field>"]``); a ``CONTROL_MESSAGE`` (CloudWatch's
  health check of the destination, "CWL CONTROL MESSAGE: Checking health of destination Firehose.") is no log
  record and is listed in ``df.attrs["ignored"]``. Delivered as:

  - a Kinesis Data Firehose S3 object: the gzip'd payloads one after another with no separator (``{…}{…}``),
    each object numbered (``object 3``, its ``source_record``) as lines are;
  - a Lambda function's event: ``{"awslogs": {"data": …}}``; from a Kinesis data stream
    ``{"Records": [{"kinesis": {"data": …}}]}``; in a Firehose data-transformation function
    ``{"invocationId", "deliveryStreamArn", "records": [{"recordId", "data"}]}`` (``source_record``: the record's
    index). Each ``data`` is base64 of the gzip'd payload (or of zlib data, or of the JSON itself: a stream that
    decompresses), decoded by one function (:func:`_subscription_bytes`, gzip through ``read_bytes``: a bomb is
    refused, and the records of one file together may decompress to no more than one gzip file may); data that
    holds no subscription payload is bad input naming the record (``Records[3].kinesis.data``).

  **Objects one after another** (``{…}{…}``, or with white space between as ``jq`` prints them) are read by every
  reader (``_sources.glued_objects``, one splitter: ``cat`` of files without a final newline glues documents too);
  only after the file failed to parse as one JSON value or JSON lines, so those paths cost what they did. The slice up
  to each ``}{`` is parsed (a parse that succeeds ends exactly there), a few tries, then the object's braces outside
  strings are counted (one regex match a run: linear). read_logs numbers a whole file's objects by place
  (``object 3``; the other readers by the line each starts on, which for a Firehose object is line 1 for all).
  A cut last object is reported as a truncated file (``errors="skip"``: the objects before it load,
  ``attrs["truncated"]``); something other than an object between them ends the file with an error naming it.
* **JSON lines with trace/span ids** — objects with a message (``message``, ``msg``, ``body``,
  ``log``, or structlog's ``event`` when it is a string: an ``event`` object, as ECS writes one, stays in
  ``attributes``) and/or a time and level; ids from ``trace_id`` / ``traceId`` / ``trace.id`` /
  ``xray_trace_id`` / ``xrayTraceId`` (API Gateway access logs' ``$context.xrayTraceId``) / ``AWS-XRAY-TRACE-ID``
  (X-Ray ``1-…`` or ``Root=1-…;Parent=…`` accepted, and the X-Ray SDK for Java's ``AWS-XRAY-TRACE-ID: 1-…@<segment id>``, whose segment or subsegment id is the span id;
  Google Cloud's ``projects/<p>/traces/<id>``, also as a LogEntry's ``trace``, whose ``textPayload`` is the message
  and ``receiveTimestamp`` the observed time) and
  ``span_id`` / ``spanId`` / ``span.id``, else nested: ECS's ``"trace": {"id": …}`` / ``"span": {"id": …}`` (Elastic's
  ecs-logging-python) and the thread-context maps OpenTelemetry's MDC instrumentations fill, Log4j 2 JsonLayout's
  ``contextMap`` and Logback JsonEncoder's ``mdc`` (their other keys stay in ``attributes``); ECS's
  ``"service": {"name": …}`` is the service, ``"host": {"name" or "hostname": …}`` the host (else Fluent Bit's or
  Fluentd's ``"kubernetes": {"pod_name": …}``, the pod as ``k8s.pod.name`` is); Log4j 2 JsonLayout's time ``"instant": {"epochSecond", "nanoOfSecond"}``
  (or ``"timeMillis"``) is the time when no time key above is there; .NET's JSON console formatter's ``LogLevel`` and
  trace context scope (``"Scopes": [{"TraceId", "SpanId"}]``) are read; a Serilog compact JSON record (CLEF:
  ``@t``, ``@m``/``@mt``, ``@l``, ``@tr``, ``@sp``) is read by its own keys, Information when it has no ``@l``
  (:func:`_clef`); a container runtime's wrapper (Docker's json-file ``{"log": "<line>\\n", "stream", "time"}``, as
  Fluent Bit and Fluentd ship it) around a line that is a JSON record is read as that record (its own time the time,
  the wrapper's the observed time; the wrapper's other fields kept), a text line as its text without the line end;
  an integer level is pino's / bunyan's (10 trace … 60 fatal) or else an OTLP severity number (1-24), as is a level
  written as such a number in a string (``"30"``); a GELF (Graylog) record's ``short_message`` is its message, its ``level`` a syslog level (3 error, 4 warning, 6 info),
  its additional fields ``_trace_id``, ``_span_id``, ``_service`` read without the ``_`` (:func:`_gelf`); a journald
  record (``journalctl -o json``: ``__REALTIME_TIMESTAMP`` µs, ``MESSAGE``, ``PRIORITY`` a syslog level,
  ``_SYSTEMD_UNIT`` the service, ``_HOSTNAME`` the host, ``TRACE_ID`` / ``SPAN_ID``) likewise (:func:`_journald`);
  Datadog's injected ``dd.trace_id`` / ``dd.span_id`` (flat, or ``"dd": {…}``: unsigned decimals) are the ids in hex,
  a 64-bit trace id the lower half of the 128-bit one, its upper half zeros (:func:`_dd_id`), and such a record's
  ``status`` (``"error"``, ``"warn"``, …) is its level, as Datadog reads it, when no other level key is there; Go slog's level between
  named ones (``"ERROR+2"``, ``"DEBUG-4"``) is the severity number level + 9 (OpenTelemetry's otelslog bridge); an id of
  zeros, however many, is no id (OpenTelemetry Python's LoggingInstrumentor writes ``otelTraceID`` ``"0"`` outside a
  span; its ``otelServiceName`` is the service); Rust tracing-subscriber's ``"fields": {"message": …}`` is the
  message; every
  other field (and a level that is no known severity word or number, a service or host value of another
  type, an id form naming no id such as ``projects/p/traces/``) goes to ``attributes``.

Times are never before 1970 (negative nanoseconds, milliseconds or an ISO time before the epoch are refused,
as the span and metric readers refuse them); a CloudWatch event's ``timestamp`` / ``ingestionTime`` (milliseconds, as the
API says) that is a 1990-2100 time in epoch seconds is refused naming the event (:func:`_cw_not_seconds`: it read as
January 1970), where a JSON record's number, which says no unit, is read by its size; a severity number outside 0-24 is refused; an id that is no id
is refused naming the field it was read from (``xray_trace_id 'abc…' is not 32 hex digits …``).

Bad input: :class:`~tracekit.errors.TraceFormatError` naming the file, the record and what is
wrong; ``errors="skip"`` loads every good record, lists each skipped one in
``df.attrs["skipped"]`` (:func:`tracekit.skipped_records` makes a table) and warns once. Lists nested more than
16 deep are said not to be log data (as the span readers say it), never recursed on. The files of a directory no
reader reads (``app.log``) are listed in ``df.attrs["ignored"]`` (``_sources.ignored_file_records``, shared).

A file of OTLP logs (JSON lines or one document, gzip or not) is first tried by a typed fast path
(msgspec Structs decoded one line at a time and dropped before the next, so their memory is reused
while in the CPU caches; columns converted by Arrow and numpy over all records at once; the cyclic
GC paused): it builds the same frame as the checked walk or declines the whole file, which the
checked walk then reads (``tests/test_logs.py`` compares the two on the real OTLP examples and
on generated hostile files). ``benchmarks/bench_logs.py`` times it against ``orjson.loads``.
"""

from __future__ import annotations

import base64
import math
import os
import re
import zlib
from collections.abc import Iterator
from itertools import chain, compress, count, repeat
from operator import attrgetter, is_
from typing import Annotated, Any, Literal

import msgspec
import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from msgspec import UNSET, Meta, Struct, UnsetType

from ..core.resources import host_of
from ..core.words import plural
from ..errors import SkippedRecord, TraceFormatError
from ..logs_schema import (
    LOG_COLUMN_NAMES,
    SEVERITY_NUMBERS,
    log_services,
    normalize_severity,
    severity_name,
    severity_text_kept,
)
from ..schema import (
    PLAUSIBLE_EPOCH_SECONDS,
    STRING,
    TIME_UNITS,
    TIMESTAMP,
    canonical_ids,
    epoch_unit_by_size,
    xray_header,
)
from ._copies import copies_read_again, each_path_once
from ._sources import (
    DUPLICATE_KEYS,
    GZIP_MIN_CAP,
    GZIP_RATIO_CAP,
    LOG_LEVEL_KEYS,
    LOG_MESSAGE_KEYS,
    LOG_SPAN_KEYS,
    LOG_TIME_KEYS,
    LOG_TRACE_KEYS,
    LOG_WORDS,
    MAX_LIST_NESTING,
    OBJECT,
    Document,
    MarkedKeys,
    close_read,
    colons_repeat_keys,
    decompressed_cap,
    display_name,
    duplicate_reason,
    glued_objects,
    is_pathlike,
    iter_documents,
    json_copy,
    known_shape,
    list_files,
    mixed_list_error,
    object_bytes,
    parse_json,
    raw_colons,
    read_bytes,
    repeated_keys,
    resource_holders,
    scope_list,
    short,
    source_name,
    text_bytes,
    text_colons,
    unique_keys,
    warn_page,
)
from .containers import LazyColumn, SharedDictSource, attribute_source, concat_parts, join_raws
from .otlp import SCOPE_ATTR_PREFIX, gc_paused, place_repeated_key
from .otlp import BadValue as _Bad
from .otlp import decode_any_value as _any
from .otlp import decode_attributes as _attrs
from .xray import is_daemon_header, is_segment_document

__all__ = ["read_logs"]

Errors = Literal["raise", "skip"]

#: the keys that say which span a log record belongs to, when and what it says: one given twice with different values
#: in a log record refuses it, naming the key (JSON parsers keep the last silently;
#: :func:`tracekit.io._sources.unique_keys`). Each kind of record has its own (:data:`_OTLP_KEYS`, :data:`_CW_KEYS`,
#: :data:`_JSON_KEYS`); the text is looked at for all of them at once
_OTLP_KEYS = ("traceId", "spanId", "timeUnixNano", "observedTimeUnixNano", "body", "trace_id", "span_id",
              "time_unix_nano", "observed_time_unix_nano", "attributes")
#: a CloudWatch Logs event's (filter-log-events / get-log-events output, a subscription payload's logEvents): its time,
#: text, stream and id
_CW_KEYS = ("timestamp", "message", "ingestionTime", "logStreamName", "eventId")
# (the keys of a JSON log record: one definition in _sources, which the readers of other signals list such records by)
_TIME_KEYS, _MESSAGE_KEYS, _TRACE_KEYS, _SPAN_KEYS = LOG_TIME_KEYS, LOG_MESSAGE_KEYS, LOG_TRACE_KEYS, LOG_SPAN_KEYS
#: a JSON log record's (JSON lines, a CloudWatch event's JSON message, GELF): every key its time, message, trace id and
#: span id are taken from (json_record), and GELF's message and ids (short_message, _trace_id, _span_id)
_JSON_KEYS = _TIME_KEYS + _MESSAGE_KEYS + _TRACE_KEYS + _SPAN_KEYS + ("short_message", "_trace_id", "_span_id")
IDENTITY_KEYS = tuple(dict.fromkeys(_OTLP_KEYS + _CW_KEYS + _JSON_KEYS))
#: the keys whose values hold the records (OTLP's lists of ResourceLogs, ScopeLogs and LogRecords, a resource, a
#: scope and their attributes; CloudWatch's events and logEvents): given twice with different values, the first is
#: lost whole (``"logRecords": [A], "logRecords": [B]`` loaded B alone, without a word), so the object holding them
#: is refused, naming the key (:func:`_held_twice`)
CONTAINER_KEYS = ("resourceLogs", "resource_logs", "scopeLogs", "scope_logs", "instrumentationLibraryLogs",
                  "instrumentation_library_logs", "logRecords", "log_records", "logs", "resource", "scope",
                  "instrumentationLibrary", "instrumentation_library", "attributes", "result", "events", "logEvents")
#: the keys the checked code looks for twice in one object (:func:`tracekit.io._sources.unique_keys`; the fast paths'
#: count of colons sends a document holding any key twice to it)
#: (counted: the identity keys, attributes among them, which every lost list of records held)
CHECKED_KEYS = MarkedKeys(IDENTITY_KEYS + CONTAINER_KEYS, counted=IDENTITY_KEYS)
_OTLP_SET, _CW_SET, _JSON_SET = frozenset(_OTLP_KEYS), frozenset(_CW_KEYS), frozenset(_JSON_KEYS)
_NOT_LOGS = ("resourceSpans", "resource_spans", "resourceMetrics", "resource_metrics", "resourceProfiles",
             "Traces", "Segments", "batches")
_NOT_LOGS_SET = frozenset(_NOT_LOGS)
_SCOPE_LOGS = ("scopeLogs", "scope_logs", "instrumentationLibraryLogs", "instrumentation_library_logs")


def _shape(value: dict) -> str:
    """What read_logs reads an object as: ``otlp`` (resourceLogs), ``cloudwatch`` (filter-log-events /
    get-log-events output), ``awslogs`` / ``payload`` / ``kinesis`` / ``firehose`` (a subscription's delivery, its
    payload), ``other`` (another signal), ``xray`` (an X-Ray segment document or the daemon's header:
    :func:`xray_document`), ``result`` (a query's result of OTLP logs) or ``record`` (a JSON log record)."""
    if "resourceLogs" in value or "resource_logs" in value:
        return "otlp"
    if "events" in value and (value.keys() <= _CW_OUTPUT or type(value["events"]) is list and (
            "nextToken" in value or "nextForwardToken" in value or "searchedLogStreams" in value or not value["events"]
            or type(value["events"][0]) is dict and "message" in value["events"][0])):
        return "cloudwatch"
    if type(value.get("awslogs")) is dict and len(value) == 1:
        return "awslogs"
    if "logEvents" in value and (type(value["logEvents"]) is list or "messageType" in value):
        return "payload"
    if "Records" in value and type(value["Records"]) is list and value["Records"] \
            and type(value["Records"][0]) is dict and "kinesis" in value["Records"][0]:
        return "kinesis"
    if "records" in value and ("deliveryStreamArn" in value or "invocationId" in value):
        return "firehose"
    if not _NOT_LOGS_SET.isdisjoint(value):
        return "other"
    if xray_document(value) is not None:
        return "xray"
    if "result" in value and type(value["result"]) is dict and "resourceLogs" in value["result"]:
        return "result"
    return "record"


def log_records(value: Any) -> Iterator[dict]:
    """The log records of a parsed document: the objects whose repeated identity keys refuse them. OTLP's
    (``resourceLogs[].scopeLogs[].logRecords[]``, either spelling, the pre-1.0 ``logs``), CloudWatch Logs events
    (``events``, ``logEvents``) and a JSON log record (an object of no other shape, in a list or not); and the
    objects holding OTLP's and CloudWatch's records (the document, ResourceLogs, resources, ScopeLogs, scopes), whose
    repeated container keys refuse them (:data:`CONTAINER_KEYS`).

    >>> [sorted(r) for r in log_records([{"msg": "a", "time": 1}, {"events": [{"timestamp": 1, "message": "b"}]}])]
    [['msg', 'time'], ['events'], ['message', 'timestamp']]
    """
    stack = [value]
    while stack:
        v = stack.pop()
        if type(v) is list:
            stack.extend(reversed(v))
            continue
        if type(v) is not dict:
            continue
        shape = _shape(v)
        if shape == "otlp":
            yield v  # (the objects holding the records: a key of CONTAINER_KEYS given twice refuses them)
            for key in ("resourceLogs", "resource_logs"):
                for rl in v.get(key) if type(v.get(key)) is list else ():
                    if type(rl) is not dict:
                        continue
                    for held in resource_holders(rl, _SCOPE_LOGS):  # (the ResourceLogs, resource, ScopeLogs, scopes)
                        yield held
                        for rk in ("logRecords", "log_records", "logs") if held is not rl else ():  # a ScopeLogs'
                            recs = held.get(rk)
                            yield from (r for r in recs if type(r) is dict) if type(recs) is list else ()
        elif shape == "cloudwatch" or shape == "payload":
            yield v
            evs = v.get("events" if shape == "cloudwatch" else "logEvents")
            yield from (e for e in evs if type(e) is dict) if type(evs) is list else ()
        elif shape == "result":
            yield v
            stack.append(v["result"])
        elif shape == "record":
            yield v  # a JSON log record (GELF too)


def _itself(value: Any) -> Iterator[dict]:
    """A CloudWatch event's JSON message: the record is the object itself."""
    yield value


def _held_twice(obj: Any) -> str | None:
    """Why ``obj``, an object holding records (a document, a ResourceLogs, a resource, a ScopeLogs, a scope, a
    CloudWatch output or payload), is refused: a key given twice with different values (its first value, records
    among them, would be lost); None when none is. The mark is taken off."""
    if type(obj) is not dict or DUPLICATE_KEYS not in obj:
        return None
    return duplicate_reason(obj.pop(DUPLICATE_KEYS))


def _repeated(obj: dict, keys: frozenset) -> str | None:
    """Why ``obj`` (parsed here: :func:`~tracekit.io._sources.unique_keys` marked it) is refused: one of ``keys`` (its
    kind's identity keys) given twice with different values; None when none is. The mark is taken off."""
    marks = obj.pop(DUPLICATE_KEYS, None)
    if marks is None:
        return None
    marks = {k: v for k, v in marks.items() if k in keys}
    return duplicate_reason(marks) if marks else None


#: GELF's (Graylog's) syslog levels as severity words (0 emergency, 1 alert, 2 critical: FATAL; 5 notice: INFO)
_SYSLOG_LEVELS = {0: "FATAL", 1: "FATAL", 2: "FATAL", 3: "ERROR", 4: "WARN", 5: "INFO", 6: "INFO", 7: "DEBUG"}


def _gelf(rec: dict) -> dict:
    """A GELF record (``version``, ``host``, ``short_message``; a syslog ``level`` 0-7; additional fields ``_name``)
    as the JSON-record keys read it: ``short_message`` is the message, the level its word (the number kept as
    ``syslog.level``), and ``_name`` is ``name`` as Graylog shows it (``_trace_id`` the trace id), unless the record
    has ``name`` too. Read as the other JSON records, a level 3 (error) was OTLP's 3 (TRACE3) and the message and the
    ids were attributes.

    >>> _gelf({"version": "1.1", "host": "h", "short_message": "boom", "level": 3, "_trace_id": "ab"})
    {'version': '1.1', 'host': 'h', 'message': 'boom', 'level': 'ERROR', 'syslog.level': 3, 'trace_id': 'ab'}
    """
    out: dict = {}
    for k, v in rec.items():
        if k == "short_message" and "message" not in rec:
            out["message"] = v
        elif k == "level" and type(v) is int and v in _SYSLOG_LEVELS:
            out["level"] = _SYSLOG_LEVELS[v]
            out["syslog.level"] = v
        elif type(k) is str and k[:1] == "_" and len(k) > 1 and k[1:] not in rec:
            out[k[1:]] = v
        else:
            out[k] = v
    return out


#: journald's JSON export (``journalctl -o json``) fields, as the JSON-record keys read them
_JOURNALD = {"__REALTIME_TIMESTAMP": "timestamp", "MESSAGE": "message", "_HOSTNAME": "host", "TRACE_ID": "trace_id",
             "SPAN_ID": "span_id"}


def _journald(rec: dict) -> dict:
    """A journald record (``journalctl -o json``: every value a string; ``__REALTIME_TIMESTAMP`` µs since the epoch,
    ``MESSAGE``, ``PRIORITY`` a syslog level 0-7, ``_SYSTEMD_UNIT``, ``_HOSTNAME``, an application's ``TRACE_ID`` /
    ``SPAN_ID``) as the JSON-record keys read it: the priority its word (the number kept as ``syslog.priority``), the
    unit (else ``SYSLOG_IDENTIFIER``) the service; a key the record also has under the target name stays as written.
    Read as the other JSON records, it was no log record (no key of a message, time or trace id).

    >>> _journald({"__REALTIME_TIMESTAMP": "1700000000123456", "MESSAGE": "boom", "PRIORITY": "3",
    ...            "_SYSTEMD_UNIT": "web.service", "_PID": "42"})
    {'timestamp': '1700000000123456', 'message': 'boom', 'level': 'ERROR', 'syslog.priority': 3, \
'service': 'web.service', '_PID': '42'}
    """
    out: dict = {}
    unit = "_SYSTEMD_UNIT" if "_SYSTEMD_UNIT" in rec else "SYSLOG_IDENTIFIER"
    for k, v in rec.items():
        to = _JOURNALD.get(k)
        if k == "MESSAGE" and type(v) is list and all(type(b) is int and 0 <= b < 256 for b in v):
            v = bytes(v).decode("utf-8", "replace")  # a message that is no UTF-8 text: journald writes its bytes
        if to is not None and to not in rec:
            out[to] = v
        elif k == "PRIORITY" and type(v) is str and len(v) == 1 and v in "01234567" and "level" not in rec:
            out["level"] = _SYSLOG_LEVELS[int(v)]
            out["syslog.priority"] = int(v)
        elif k == unit and "service" not in rec:
            out["service"] = v
        else:
            out[k] = v
    return out


#: Serilog's compact JSON (CLEF) fields, as the JSON-record keys read them (each the first its key tuple looks at)
_CLEF = {"@t": "timestamp", "@m": "message", "@l": "level", "@tr": "trace_id", "@sp": "span_id"}


def _clef(rec: dict) -> dict:
    """A Serilog compact JSON record (CLEF: ``@t``, ``@m`` or ``@mt``, ``@l``, ``@tr``, ``@sp``, ``@x``; the user's
    properties unprefixed) as the JSON-record keys read it: ``@t`` the time, ``@m`` the message (else the template
    ``@mt``), ``@l`` the level, ``Information`` when absent (CLEF's rule), ``@tr``/``@sp`` the ids; a field whose key a
    property already takes, ``@x`` and the rest stay as written.

    >>> _clef({"@t": "2023-11-14T22:13:20Z", "@mt": "Hello, {User}", "User": "nb"})
    {'timestamp': '2023-11-14T22:13:20Z', 'message': 'Hello, {User}', 'User': 'nb', 'level': 'Information'}
    """
    out: dict = {}
    for k, v in rec.items():
        key = _CLEF.get(k) if type(k) is str else None
        if k == "@mt" and "@m" not in rec:
            key = "message"
        out[key if key is not None and key not in rec else k] = v
    if "@l" not in rec and "level" not in rec:
        out["level"] = "Information"
    return out


#: the keys of ``aws logs filter-log-events`` / ``get-log-events`` output
_CW_OUTPUT = frozenset(["events", "nextToken", "nextForwardToken", "nextBackwardToken", "searchedLogStreams"])
#: structlog's message key (its default): the message when it is a string and no key above is there (an ``event``
#: object, as Elastic's ECS writes one, or an ``event`` beside a ``message``, stays in ``attributes``)
_EVENT_KEY = "event"
_LEVEL_KEYS = LOG_LEVEL_KEYS
_SERVICE_KEYS = ("service", "service.name", "service_name", "serviceName", "otelServiceName")
_HOST_KEYS = ("host", "hostname", "host.name", "pod", "k8s.pod.name")


def xray_document(value: Any) -> str | None:
    """What an X-Ray document that is no log record is called — ``"X-Ray daemon header"`` (``{"format": "json",
    "version": 1}``, the line before each segment the daemon receives) or ``"X-Ray segment document"`` (an id, a name
    and its times: :func:`tracekit.io.xray.is_segment_document`) — else None. read_logs lists such a document in
    ``attrs["ignored"]`` (it was a log row with no time and no body; the header failed the read), as read_metrics
    does. An object with a message, a level or a log's time key (:data:`tracekit.io._sources.LOG_WORDS`) is a log record: a log line
    carrying the trace id, even id, name and start_time, is read.

    >>> xray_document({"format": "json", "version": 1})
    'X-Ray daemon header'
    >>> xray_document({"trace_id": "1-5759e988-bd862e3fe1be46a994272793", "id": "53995c3f42cd8ad8", "name": "api",
    ...                "start_time": 1500000000.5, "end_time": 1500000001.25})
    'X-Ray segment document'
    >>> xray_document({"msg": "started", "id": "53995c3f42cd8ad8", "name": "job", "start_time": 1.5}) is None
    True
    """
    if is_daemon_header(value):
        return "X-Ray daemon header"
    if is_segment_document(value) and LOG_WORDS.isdisjoint(value):  # (with a log record's own keys: a log record)
        return "X-Ray segment document"
    return None


_SEVERITY_ENUM = {f"SEVERITY_NUMBER_{name}{i if i > 1 else ''}": n + i - 1
                  for name, n in SEVERITY_NUMBERS.items() for i in range(1, 5)}



def _field(obj: dict, name: str, proto_name: str) -> tuple[str, Any]:
    """One OTLP field of ``obj`` under its JSON ``name`` or its ``proto_name`` (``scopeLogs`` /
    ``scope_logs``): the key to name it by and its value, None when neither is there. Both spellings
    holding lists are one list (a repeated field given twice, as read_otlp and protobuf read it), so no
    record is left out."""
    if proto_name not in obj:
        return name, obj.get(name)
    if name not in obj:
        return proto_name, obj[proto_name]
    a, b = obj[name], obj[proto_name]
    if type(a) is list and type(b) is list:
        return name, a + b
    return (name, a) if type(a) is not list else (proto_name, b)  # the one that is not a list is named

class _Logs:
    """Columns of the records read so far, and what was skipped or ignored."""

    def __init__(self, errors: Errors):
        self.errors = errors
        self.skipped: list[SkippedRecord] = []
        self.ignored: list[SkippedRecord] = []
        self.pages: list[str] = []  # files that are one page of a paginated output (a nextToken in them)
        self.last_page = False  # a page without nextToken was read: the read holds a request's last page
        self.unit = "line"  # what a document's number counts: lines of JSON lines, or objects written one after another
        self.packed = self.unpacked = 0  # bytes of a file's subscription data, gzip'd and not (one cap for all of them)
        self.clear()

    def clear(self) -> None:
        """Forget the records read so far (they went into a frame); what was skipped or ignored stays."""
        self.time: list = []
        self.observed: list = []
        self.trace: list = []
        self.span: list = []
        self.service: list = []
        self.host: list = []
        self.sev_text: list = []
        self.sev_num: list = []
        self.body: list = []
        self.attrs: list = []
        self.resource: list = []
        self.source: list = []
        self.file: list = []
        self.record: list = []
        self.id_keys = {}
        self.where: list = []  # record label of each row (or (prefix, index)), for errors found column-wise
        self.id_keys: dict[int, tuple[str | None, str | None]] = {}  # row: (trace, span id field) of a JSON record

    def problem(self, reason: str, file: str, record: str | None) -> None:
        err = TraceFormatError(reason, file=file, record=record)
        if self.errors == "raise":
            raise err
        self.skipped.append(SkippedRecord.from_error(err))

    def add(self, time, observed, trace, span, service, host, sev_text, sev_num, body, attrs, resource,
            source: str, file: str, record: int | None, where: str) -> None:
        self.time.append(time)
        self.observed.append(observed)
        self.trace.append(trace)
        self.span.append(span)
        self.service.append(service)
        self.host.append(host)
        self.sev_text.append(sev_text)
        self.sev_num.append(sev_num)
        self.body.append(body)
        self.attrs.append(attrs)
        self.resource.append(resource)
        self.source.append(source)
        self.file.append(file)
        self.record.append(record)
        self.where.append(where)

    # -- documents ------------------------------------------------------------------------------
    def at(self, line: int | None, path: str) -> str | None:
        """The record label of a place in a document: ``line 3, logEvents[0]`` (``object 3, …`` for objects
        written one after another), None for the whole of a one-document source."""
        return ", ".join(x for x in (f"{self.unit} {line}" if line is not None else "", path) if x) or None

    def value(self, value: Any, file: str, line: int | None, path: str, index: int | None = None) -> None:
        at = ", ".join(x for x in (f"{self.unit} {line}" if line is not None else "", path) if x) or None  # self.at
        record = line if line is not None else index
        t = type(value)
        if t is list:
            if path.count("[") >= MAX_LIST_NESTING:  # lists of lists of … records: said, never recursed on
                self.problem(f"lists nested more than {MAX_LIST_NESTING} deep: not log data", file, at)
                return
            for i, v in enumerate(value):
                self.value(v, file, line, f"{path}[{i}]", i if index is None else index)
            return
        if t is not dict:
            self.problem(f"expected a JSON object (a log record, OTLP resourceLogs or CloudWatch events), got {short(value)}",
                         file, at)
            return
        shape = _shape(value)
        if shape in ("otlp", "cloudwatch", "payload", "result") and (why := _held_twice(value)):
            self.problem(why, file, at)  # its records given twice: the first would be lost
            return
        if shape == "otlp":
            key, rls = _field(value, "resourceLogs", "resource_logs")
            self.otlp(rls, file, line, f"{path}.{key}" if path else key, index)
        elif shape == "cloudwatch":
            # filter-log-events / get-log-events output (a record that only has "events" is read as that output: its
            # events are named when they are not events, instead of "not a log record (keys: events)")
            if value.get("nextToken"):
                self.pages.append(file)
            else:  # a request's last page: with it read, the pages before it are not a cut (read_xray's rule)
                self.last_page = True
            epath = f"{path}.events" if path else "events"
            if type(value["events"]) is not list:
                self.problem(f"{epath} must be a list of CloudWatch log events, got {short(value['events'])}", file,
                             self.at(line, epath))
                return
            self.cloudwatch(value["events"], None, None, file, line, epath, index)
        elif shape == "awslogs":  # a subscription as a Lambda function receives it
            self.subscription(value["awslogs"].get("data"), file, line, f"{path}.awslogs.data" if path else "awslogs.data",
                              index)
        elif shape == "payload":
            self.payload(value, file, line, path, index)
        elif shape == "kinesis":
            self.records(value["Records"], file, line, f"{path}.Records" if path else "Records", index, True)
        elif shape == "firehose":
            self.records(value["records"], file, line, f"{path}.records" if path else "records", index, False)
        elif shape == "other":
            what = next(k for k in _NOT_LOGS if k in value)
            self.ignored.append(SkippedRecord(file, at, f"{what}: not log data"))
        elif shape == "xray":  # a segment document (the daemon's, an emitter's file) or the daemon's header line
            self.ignored.append(SkippedRecord(file, at, f"{xray_document(value)}: not log data"))
        elif shape == "result":
            self.value(value["result"], file, line, f"{path}.result" if path else "result", index)
        else:
            try:
                if DUPLICATE_KEYS in value and (why := _repeated(value, _JSON_SET)):
                    raise _Bad(why)
                self.json_record(value, None, None, None, file, record, at or "", "jsonl")
            except _Bad as exc:
                self.problem(str(exc), file, at)

    # -- CloudWatch Logs subscriptions: the payload, and the deliveries that carry it gzip'd and in base64 ------
    def payload(self, value: dict, file: str, line: int | None, path: str, index: int | None) -> None:
        """A subscription payload (``{messageType, owner, logGroup, logStream, subscriptionFilters, logEvents}``):
        a DATA_MESSAGE's events are read; a CONTROL_MESSAGE (CloudWatch's check that the destination is
        reachable) is not log data: listed in ``attrs["ignored"]``."""
        events = value.get("logEvents")
        epath = f"{path}.logEvents" if path else "logEvents"
        if value.get("messageType") == "CONTROL_MESSAGE":
            first = events[0] if type(events) is list and events and type(events[0]) is dict else {}
            said = f" ({short(first['message'])})" if type(first.get("message")) is str else ""
            self.ignored.append(SkippedRecord(file, self.at(line, path), f"CloudWatch Logs CONTROL_MESSAGE{said}: the "
                                              "subscription's health check of its destination, not log data"))
            return
        if type(events) is not list:
            self.problem(f"logEvents must be a list of CloudWatch log events, got {short(events)}", file,
                         self.at(line, epath))
            return
        owner = value.get("owner")  # the account the log group is in (a 12-digit id; "CloudwatchLogs" on a control)
        filters = value.get("subscriptionFilters")
        # kept as given, whatever their type (an owner or filter that is not a string is odd, not to be dropped)
        res = {**({"cloud.account.id": owner} if owner is not None and owner != "" else {}),
               **({"log.subscription_filters": filters} if filters is not None and filters != [] else {})}
        self.cloudwatch(events, value.get("logGroup"), value.get("logStream"), file, line, epath, index, res)

    def subscription(self, data: Any, file: str, line: int | None, path: str, index: int | None) -> None:
        """``data`` (at ``path``): base64 of a gzip'd subscription payload, as CloudWatch Logs sends it to a
        Lambda function (``awslogs.data``), a Kinesis data stream or a Firehose stream (:func:`_subscription_bytes`:
        a gzip bomb is refused as in a file); the payload is read by :meth:`payload`."""
        at = self.at(line, path)
        try:
            packed, text = _subscription_bytes(data, file)
        except TraceFormatError as exc:  # gzip refused by read_bytes: cut, or decompresses past the cap
            self.problem(exc.reason, file, at)
            return
        except (ValueError, TypeError, zlib.error) as exc:
            self.problem(f"not base64 of a gzip'd subscription payload ({short(str(exc))})", file, at)
            return
        self.packed += packed
        self.unpacked += len(text)
        cap = decompressed_cap(self.packed)
        if cap is not None and self.unpacked > cap:  # many records, each under the cap of one gzip stream
            self.problem(f"the subscription data of this file decompress to more than {cap / 2**20:,.1f} MiB in all "
                         f"(from {self.packed:,} bytes; the cap is max({GZIP_MIN_CAP // 2**20} MiB, {GZIP_RATIO_CAP}x "
                         "the compressed size), as for a gzip file): not read, as a decompression bomb would exhaust "
                         "memory; set TRACEKIT_MAX_DECOMPRESSED_BYTES (bytes, 0 for no cap) to read it anyway", file, at)
            return
        try:
            payload = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            self.problem(f"the decoded data is not JSON ({short(str(exc))})", file, at)
            return
        del text
        if type(payload) is not dict or "logEvents" not in payload:
            what = f"a JSON object with keys {', '.join(map(str, list(payload)[:6])) or '(none)'}" \
                if type(payload) is dict else short(payload)
            self.problem("not a CloudWatch Logs subscription payload ({messageType, logGroup, logStream, logEvents}): "
                         f"the data holds {what}", file, at)
            return
        self.payload(payload, file, line, path, index)

    def records(self, records: Any, file: str, line: int | None, path: str, index: int | None, kinesis: bool) -> None:
        """A Lambda function's event of records, each record's data a subscription payload (as CloudWatch Logs
        delivers it): from a Kinesis data stream, ``{"Records": [{"kinesis": {"data": …}}]}`` (``kinesis``), or a
        Firehose data transformation's, ``{"invocationId", "deliveryStreamArn", "records": [{"recordId", "data"}]}``."""
        what = ("a Kinesis record with kinesis.data" if kinesis else "a Firehose record with data") + \
            " (base64 of a gzip'd CloudWatch Logs subscription payload)"
        if type(records) is not list:
            self.problem(f"records must be a list of {'Kinesis' if kinesis else 'Firehose'} records, got "
                         f"{short(records)}", file, self.at(line, path))
            return
        for i, r in enumerate(records):
            rpath = f"{path}[{i}]"
            holder = (r.get("kinesis") if type(r) is dict else None) if kinesis else r
            if type(holder) is not dict or "data" not in holder:
                self.problem(f"expected {what}, got {short(r)}", file, self.at(line, rpath))
                continue
            self.subscription(holder["data"], file, line, f"{rpath}.kinesis.data" if kinesis else f"{rpath}.data",
                              i if index is None else index)

    # -- OTLP -----------------------------------------------------------------------------------
    def otlp(self, rls: Any, file: str, line: int | None, path: str, index: int | None) -> None:
        lead = f"{self.unit} {line}, " if line is not None else ""
        if rls is None:
            return
        if type(rls) is not list:
            self.problem(f"{path} must be a list, got {short(rls)}", file, lead + path)
            return
        a_time, a_obs, a_trace, a_span = self.time.append, self.observed.append, self.trace.append, self.span.append
        a_service, a_host, a_text, a_num = self.service.append, self.host.append, self.sev_text.append, self.sev_num.append
        a_body, a_attrs, a_res, a_source = self.body.append, self.attrs.append, self.resource.append, self.source.append
        a_file, a_record, a_where = self.file.append, self.record.append, self.where.append
        for i, rl in enumerate(rls):
            rpath = f"{path}[{i}]"
            record = line if line is not None else (index if index is not None else i)
            try:
                if type(rl) is not dict:
                    raise _Bad(f"expected a ResourceLogs object, got {short(rl)}")
                if why := _held_twice(rl):
                    raise _Bad(why)
                res = rl.get("resource") or {}
                if type(res) is not dict:
                    raise _Bad(f"resource must be an object, got {short(res)}")
                if why := _held_twice(res):
                    raise _Bad(f"resource: {why}")
                resource = _attrs(res.get("attributes"))
                skey, scopes = _field(rl, "scopeLogs", "scope_logs")
                lkey, legacy = _field(rl, "instrumentationLibraryLogs", "instrumentation_library_logs")
                # the legacy field, read when scopeLogs is absent or empty (the collector's rule, as in read_otlp)
                skey, scopes, not_read = scope_list({skey: scopes, lkey: legacy}, skey, lkey)
                if not_read:
                    self.ignored.append(SkippedRecord(file, f"{lead}{rpath}.{lkey}", not_read))
                if scopes is None:
                    continue
                if type(scopes) is not list:
                    raise _Bad(f"{skey} must be a list, got {short(scopes)}")
            except _Bad as exc:
                self.problem(str(exc), file, lead + rpath)
                continue
            service = resource.get("service.name")
            service = service if type(service) is str else None
            host = host_of(resource)
            host = host if type(host) is str else None
            for j, sl in enumerate(scopes):
                spath = f"{rpath}.{skey}[{j}]"
                try:
                    if type(sl) is not dict:
                        raise _Bad(f"expected a ScopeLogs object, got {short(sl)}")
                    if why := _held_twice(sl):
                        raise _Bad(why)
                    scope = sl.get("scope") or sl.get("instrumentationLibrary")
                    if scope is not None and type(scope) is not dict and scope != []:
                        raise _Bad(f"scope must be an object, got {short(scope)}")  # as the span reader says
                    if why := _held_twice(scope):
                        raise _Bad(f"scope: {why}")
                    res_j = resource
                    if type(scope) is dict and (scope.get("name") or scope.get("version") or scope.get("attributes")):
                        res_j = dict(resource)
                        if scope.get("name"):
                            res_j["otel.scope.name"] = scope["name"]
                        if scope.get("version"):
                            res_j["otel.scope.version"] = scope["version"]
                        for k, v in _attrs(scope.get("attributes")).items():
                            res_j[SCOPE_ATTR_PREFIX + k] = v
                    rkey, recs = _field(sl, "logRecords", "log_records")
                    if not recs and "logs" in sl:  # the pre-1.0 proto's InstrumentationLibraryLogs named it "logs"
                        recs, rkey = sl["logs"], "logs"
                    if recs is None:
                        continue
                    if type(recs) is not list:
                        raise _Bad(f"{rkey} must be a list, got {short(recs)}")
                except _Bad as exc:
                    self.problem(str(exc), file, lead + spath)
                    continue
                prefix = f"{lead}{spath}.{rkey}"
                for k, r in enumerate(recs):
                    try:
                        if type(r) is not dict:
                            raise _Bad(f"expected a LogRecord object, got {short(r)}")
                        if DUPLICATE_KEYS in r and (why := _repeated(r, _OTLP_SET)):
                            raise _Bad(why)
                        get = r.get
                        t = get("timeUnixNano")
                        if t is None:
                            t = get("time_unix_nano")
                        if t is not None:
                            if type(t) is str and t.isascii() and t.isdigit() and (len(t) < 19 or len(t) == 19 and t < _MAX_NS):
                                t = int(t)
                            else:
                                t = _nanos(t, "timeUnixNano")
                        o = get("observedTimeUnixNano")
                        if o is None:
                            o = get("observed_time_unix_nano")
                        if o is not None:
                            if type(o) is str and o.isascii() and o.isdigit() and (len(o) < 19 or len(o) == 19 and o < _MAX_NS):
                                o = int(o)
                            else:
                                o = _nanos(o, "observedTimeUnixNano")
                            if not o:
                                o = None
                        if not t:
                            t = o
                        num = get("severityNumber")
                        if num is None:
                            num = get("severity_number")
                        if num is not None and type(num) is not int:
                            if type(num) is str and num in _SEVERITY_ENUM:
                                num = _SEVERITY_ENUM[num]
                            elif num == "SEVERITY_NUMBER_UNSPECIFIED":
                                num = None
                            elif type(num) is str and num.isascii() and num.isdigit():
                                num = int(num)  # a quoted integer: protobuf's JSON parsers accept it
                            else:
                                raise _Bad(f"severityNumber must be an integer 0-24, got {short(num)}")
                        if num is not None and not 0 <= num <= 24:
                            raise _Bad(f"severityNumber must be an integer 0-24, got {short(num)}")
                        text = get("severityText")
                        if text is None:
                            text = get("severity_text")
                        if text is not None and type(text) is not str:
                            raise _Bad(f"severityText must be a string, got {short(text)}")
                        body = get("body")
                        if body is not None:
                            x = body.get("stringValue") if type(body) is dict else None
                            if type(x) is str and len(body) == 1:  # (two kinds: _any refuses them)
                                body = x
                            else:
                                body = _any(body)
                                if body is not None and type(body) is not str:
                                    body = _json_text(body, "body")
                        attrs = get("attributes")
                        attrs = _attrs(attrs) if attrs else {}
                        ev = get("eventName") or get("event_name")
                        if ev:
                            attrs["event.name"] = ev
                        if severity_text_kept(text, num):  # a level no logger's word names, or one its number
                            attrs.setdefault(OTLP_SEVERITY_TEXT_ATTR, text)  # contradicts: kept as written
                        tid = get("traceId") or get("trace_id") or None
                        sid = get("spanId") or get("span_id") or None
                        if (tid is not None and type(tid) is not str) or (sid is not None and type(sid) is not str):
                            raise _Bad(f"traceId and spanId must be hex strings, got {short(tid)} and {short(sid)}")
                    except (_Bad, ValueError, TypeError, OverflowError, AttributeError) as exc:
                        self.problem(str(exc), file, f"{prefix}[{k}]")
                        continue
                    a_time(t)
                    a_obs(o)
                    a_trace(tid)
                    a_span(sid)
                    a_service(service)
                    a_host(host)
                    a_text(text)
                    a_num(num)
                    a_body(body)
                    a_attrs(attrs)
                    a_res(res_j)
                    a_source("otlp")
                    a_file(file)
                    a_record(record)
                    a_where((prefix, k))

    # -- CloudWatch -----------------------------------------------------------------------------
    def cloudwatch(self, events: list, group: Any, stream: Any, file: str, line: int | None, path: str,
                   index: int | None, resource: dict | None = None) -> None:
        lead = f"{self.unit} {line}, " if line is not None else ""
        record = line if line is not None else index
        # a CONTROL_MESSAGE's "" names no group; a group or stream of another type (a number, a list) is no service
        # or host, but is kept as given in the resource, never dropped
        kept_group = None if group is None or (type(group) is str and not group) else group
        kept_stream = None if stream is None or (type(stream) is str and not stream) else stream
        group = group if type(group) is str and group else None
        stream = stream if type(stream) is str and stream else None
        for i, ev in enumerate(events):
            where = f"{lead}{path}[{i}]"
            try:
                if type(ev) is not dict:
                    raise _Bad(f"expected a CloudWatch log event object, got {short(ev)}")
                if DUPLICATE_KEYS in ev and (why := _repeated(ev, _CW_SET)):
                    raise _Bad(why)
                ts = ev.get("timestamp")
                if type(ts) is not int:
                    raise _Bad(f"timestamp must be milliseconds since the epoch (an integer), got {short(ts)}")
                if not 0 <= ts < 2**63 // 1_000_000:
                    raise _Bad(f"timestamp {ts} is out of range (milliseconds since the epoch, never negative: "
                               "years 1970-2262)")
                _cw_not_seconds(ts, "timestamp")
                if "message" not in ev:
                    raise _Bad(f"the event has no message (a CloudWatch log event has timestamp and message; keys: "
                               f"{', '.join(map(str, list(ev)[:6]))})")
                msg = ev["message"]
                if type(msg) is not str:
                    raise _Bad(f"message must be a string, got {short(msg)}")
                ing = ev.get("ingestionTime")
                if ing is not None:
                    if type(ing) is not int or not 0 <= ing < 2**63 // 1_000_000:
                        raise _Bad(f"ingestionTime must be milliseconds since the epoch (an integer, years 1970-2262), "
                                   f"got {short(ing)}")
                    _cw_not_seconds(ing, "ingestionTime")
                    ing *= 1_000_000
                res: dict = dict(resource) if resource else {}
                if kept_group is not None:
                    res["log.group"] = kept_group
                st = ev.get("logStreamName") or kept_stream
                if st is not None and st != "":
                    res["log.stream"] = st  # kept as given; a host only when it is a string
                st = st if type(st) is str and st else None
                eid = ev.get("eventId") or ev.get("id")  # filter-log-events names it eventId, a subscription id
                extra = {"log.event_id": eid} if eid else None
                fields = ev.get("extractedFields")  # a subscription filter pattern's named fields ($user, @aws.region)
                if fields is not None:
                    if type(fields) is not dict:
                        raise _Bad(f"extractedFields must be an object of the filter pattern's fields, got {short(fields)}")
                    extra = {**(extra or {}), **{f"log.extracted.{k}": v for k, v in fields.items()}}
                text = msg.strip()
                if text[:1] == "{" and text[-1:] == "}":
                    try:
                        obj = orjson.loads(text)
                    except orjson.JSONDecodeError:
                        obj = None
                    if type(obj) is dict:  # a JSON record in the message: its keys looked at as a JSON line's
                        obj = unique_keys(text, obj, _JSON_KEYS, _itself)
                        if DUPLICATE_KEYS in obj and (why := _repeated(obj, _JSON_SET)):
                            raise _Bad(f"message: {why}")
                        self.json_record(obj, ts * 1_000_000, ing, res, file, record, where, "cloudwatch",
                                         default_service=group, default_host=st, extra=extra)
                        continue
                level = None
                body = msg.rstrip("\n")
                parts = body.split("\t", 3)
                attrs = dict(extra) if extra else {}
                if len(parts) == 4 and parts[2].strip().lower() in _LEVEL_WORDS:  # Lambda: time, request id, LEVEL, message
                    level, body = parts[2].strip(), parts[3]
                    attrs["aws.request_id"] = parts[1]
                elif len(parts) == 4 and parts[0][:1] == "[" and parts[0][-1:] == "]" \
                        and parts[0][1:-1].lower() in _LEVEL_WORDS:  # Python's runtime: [LEVEL], time, request id, message
                    level, body = parts[0][1:-1], parts[3]
                    attrs["aws.request_id"] = parts[2]
                elif body[:1] == "[" and (m := _BRACKET_LEVEL.match(body)) and m.group(1).lower() in _LEVEL_WORDS:
                    level = m.group(1)  # the runtime's own '[ERROR] Runtime.ImportModuleError: …': the text kept whole
                xray = _LAMBDA_XRAY.search(body) if body.startswith("REPORT ") else None  # a traced invocation
                self.add(ts * 1_000_000, ing, xray.group(1) if xray else None, None, group, st, level, None, body,
                         attrs, res, "cloudwatch", file, record, where)
            except _Bad as exc:
                self.problem(str(exc), file, where)

    # -- a JSON log record ----------------------------------------------------------------------
    def json_record(self, obj: dict, time: int | None, observed: int | None, resource: dict | None, file: str,
                    record: int | None, where: str, source: str, *, default_service: Any = None,
                    default_host: Any = None, extra: dict | None = None) -> None:
        # a caller's parsed record (file "<object>"): its nested values become the frame's attributes, so copies
        # (editing one edited the other); a record parsed here is ours
        rest = dict(obj)
        if file == OBJECT:
            for k, v in obj.items():
                if type(v) is dict or type(v) is list:
                    rest[k] = json_copy(v)
        if extra:
            rest.update(extra)
        if "short_message" in rest and "version" in rest:
            rest = _gelf(rest)
        elif "@t" in rest and ("@m" in rest or "@mt" in rest):
            rest = _clef(rest)
        elif "__REALTIME_TIMESTAMP" in rest and "MESSAGE" in rest:
            rest = _journald(rest)
        if type(rest.get(_WRAPPED)) is str and not any(k in rest for k in _MESSAGE_KEYS[:3]) \
                and (inner := self._wrapped(rest, time is not None)) is not None:
            if time is not None:  # a CloudWatch event's time stays the time, as for any JSON message
                inner = (inner[0], time, observed)
            return self.json_record(inner[0], inner[1], inner[2], resource, file, record, where, source,
                                    default_service=default_service, default_host=default_host)
        if type(rest.get(_WRAPPED)) is str and not any(k in rest for k in _MESSAGE_KEYS[:3]):
            rest[_WRAPPED] = _line_text(rest[_WRAPPED])  # a wrapped text line: its text
        t = _pop(rest, _TIME_KEYS)
        if t is None and time is None:  # (beside a CloudWatch event's time, they stay attributes as written)
            t = _log4j_time(rest)
        msg = _pop(rest, _MESSAGE_KEYS)
        if msg is None and type(rest.get(_EVENT_KEY)) is str:  # structlog's default message key
            msg = rest.pop(_EVENT_KEY)
        if msg is None and type(rest.get("fields")) is dict and type(rest["fields"].get("message")) is str:
            msg = _nested(rest, "fields", ("message",))[1]  # Rust tracing-subscriber's JSON: the event's fields nested
        level_key = next((k for k in _LEVEL_KEYS if k in rest), None)
        level = rest.pop(level_key) if level_key is not None else None
        tkey = next((k for k in _TRACE_KEYS if k in rest), None)
        tid = rest.pop(tkey) if tkey is not None else None
        if tid is None and type(rest.get("trace")) is str and rest["trace"].startswith("projects/") \
                and "/traces/" in rest["trace"]:  # a Google Cloud LogEntry's trace (its span id is spanId)
            tkey, tid = "trace", rest.pop("trace")
        skey = next((k for k in _SPAN_KEYS if k in rest), None)
        sid = rest.pop(skey) if skey is not None else None
        if tid is None or sid is None:  # ECS's nested form, a logger's thread-context map (_NESTED_IDS)
            for outer, tkeys, skeys in _NESTED_IDS:
                if tid is None and (got := _nested(rest, outer, tkeys, outer in _ECS_NESTED and 32)):
                    tkey, tid = got
                if sid is None and (got := _nested(rest, outer, skeys, outer in _ECS_NESTED and 16)):
                    skey, sid = got
        if tid is None and sid is None:  # Datadog's log injection: "dd.trace_id" (dd-trace-java's MDC) or "dd": {…}
            if "dd.trace_id" in rest or "dd.span_id" in rest:
                tkey, tid = ("dd.trace_id", rest.pop("dd.trace_id")) if "dd.trace_id" in rest else (None, None)
                skey, sid = ("dd.span_id", rest.pop("dd.span_id")) if "dd.span_id" in rest else (None, None)
            elif type(rest.get("dd")) is dict:
                tkey, tid = _nested(rest, "dd", ("trace_id",)) or (None, None)
                skey, sid = _nested(rest, "dd", ("span_id",)) or (None, None)
            if tid is not None:
                tid = _dd_id(tid, 32)
            if sid is not None:
                sid = _dd_id(sid, 16)
            if level is None and (tid is not None or sid is not None) and type(rest.get("status")) is str:
                level = rest.pop("status")  # Datadog's level key (its status remapper's first): "error", "warn", …
        popped = tkey  # the field the trace id was taken out of the record from
        if msg is None and t is None and time is None and tid is None and type(rest.get("textPayload")) is not str:
            # (a CloudWatch event's JSON message is a record whatever keys it has: the event has its time)
            keys = ", ".join(map(str, list(obj)[:6])) or "none"
            shape = known_shape(obj)
            raise _Bad((f"{shape}: " if shape else "") + f"not a log record: the object has no message, time or trace id "
                       f"(keys: {keys}); read_logs reads OTLP logs (resourceLogs), CloudWatch Logs events and JSON "
                       f"records with a message ({', '.join(_MESSAGE_KEYS[:4])}) and trace/span id fields")
        if tid is None and type(rest.get("tracing")) is dict:  # Lambda JSON platform records
            tkey, tid = "tracing.value", rest["tracing"].get("value")
        elif tid is None and type(rest.get("record")) is dict and type(rest["record"].get("tracing")) is dict:
            # Lambda's JSON log format: {"type": "platform.report", "record": {"tracing": {"value": X-Amzn-Trace-Id}}};
            # its trace only: Parent / spanId are not the function's span of the spans frame
            tkey, tid = "record.tracing.value", rest["record"]["tracing"].get("value")
            if type(tid) is str and "=" in tid:
                tid = xray_header(tid).get("root")
        if type(tid) is str and tid and not tid.strip("0"):
            tid = None  # zeros, however many: no id (OTel Python's LoggingInstrumentor writes "0" outside a span)
        if type(sid) is str and sid and not sid.strip("0"):
            sid = None
        raw_tid = tid
        if type(tid) is str and tid.startswith("projects/") and "/traces/" in tid:  # Google Cloud Logging's form
            tid = tid.rsplit("/traces/", 1)[1]
        if type(tid) is str and "=" in tid and (parts := xray_header(tid)):  # X-Amzn-Trace-Id header form
            tid = parts.get("root")
            if sid is None and parts.get("parent"):
                skey, sid = tkey, parts["parent"]
        elif type(tid) is str and "@" in tid and (m := _XRAY_AT.fullmatch(tid.strip())):
            tid = m.group(1)  # the X-Ray SDK for Java's AWS-XRAY-TRACE-ID: "[<prefix>: ]1-…@<segment or subsegment id>"
            if sid is None:
                skey, sid = tkey, m.group(2)
        if tid is not None and type(tid) is not str:
            raise _Bad(f"{tkey}: a trace id must be a string, got {short(tid)}")
        if sid is not None and type(sid) is not str:
            raise _Bad(f"{skey}: a span id must be a string, got {short(sid)}")
        if not tid and raw_tid and tkey is not None and tkey == popped:
            rest[tkey] = raw_tid  # a form naming no id ("projects/p/traces/"): kept as written, not dropped
        if time is None and t is not None:
            time = _json_time(t)
        elif t is not None:
            rest["log.time"] = t
        if observed is None and "receiveTimestamp" in rest:  # a Google Cloud LogEntry: when Logging received it
            observed = _json_time(rest.pop("receiveTimestamp"), "receiveTimestamp")
        if msg is None and type(rest.get("textPayload")) is str:  # a Google Cloud LogEntry's text
            msg = rest.pop("textPayload")
        if msg is not None and type(msg) is not str:
            msg = _json_text(msg, "message")
        num = None
        given = level
        if type(level) is str and 1 <= len(level) <= 3 and level.isascii() and level.isdigit():
            level = int(level)  # a numeric level written as a string ("30")
        if type(level) is int and level in _NUMERIC_LEVELS:  # pino / bunyan: 10 trace … 60 fatal
            level = _NUMERIC_LEVELS[level]
        elif type(level) is int and 1 <= level <= 24:  # an OTLP severity number
            num, level = level, None
        elif type(level) is str and (m := _SLOG_LEVEL.fullmatch(level)):  # Go slog's "ERROR+2": an offset level
            num = min(max(_SLOG_BASE[m.group(1).upper()] + int(m.group(2)) + 9, 1), 24)  # (the otelslog bridge: +9)
            rest[level_key] = given  # (as written: the frame says the number's word)
            level = None
        elif level is not None and (type(level) is not str or severity_name(level) is None):
            rest[level_key] = given  # no severity word or number ("UNDEFINED", 99, an object): kept as written
            level = None
        service_key = next((k for k in _SERVICE_KEYS if k in rest), None)
        service = rest.pop(service_key) if service_key is not None else None
        if type(service) is dict and type(service.get("name")) is str:  # ECS's nested form: {"service": {"name": …}}
            service = dict(service)
            name = service.pop("name")
            if service:
                rest[service_key] = service  # (its other fields, "version"…, stay in attributes)
            service = name
        host_key = next((k for k in _HOST_KEYS if k in rest), None)
        host = rest.pop(host_key) if host_key is not None else None
        if host is None and type(rest.get("kubernetes")) is dict and type(rest["kubernetes"].get("pod_name")) is str:
            # Fluent Bit's / Fluentd's kubernetes metadata: the pod is the host, as k8s.pod.name is (a pod's hostname is
            # its name: what host.name says on its spans); its "host" is the node, not the pod
            host_key, host = "kubernetes.pod_name", _nested(rest, "kubernetes", ("pod_name",))[1]
        if type(host) is dict and (hk := next((k for k in ("name", "hostname") if type(host.get(k)) is str), None)):
            host = dict(host)  # ECS's nested form (Filebeat, Elastic Agent): {"host": {"name": …, "os": …}}
            name = host.pop(hk)
            if host:
                rest[host_key] = host
            host = name
        if service is not None and type(service) is not str:
            rest[service_key] = service
        if host is not None and type(host) is not str:
            rest[host_key] = host
        service = service if type(service) is str else default_service
        host = host if type(host) is str else default_host
        if tid or sid:
            self.id_keys[len(self.body)] = (tkey, skey)  # for the message of an id that is no id (frame)
        self.add(time, observed, tid or None, sid or None, service, host, level, num, msg, rest,
                 resource if resource is not None else {}, source, file, record, where)

    @staticmethod
    def _wrapped(rest: dict, timed: bool) -> tuple[dict, Any, Any] | None:
        """A container runtime's wrapper (Docker's json-file ``{"log": "<line>\\n", "stream", "time"}``, Fluent Bit's
        and Fluentd's ``log``) around a line that is a JSON record: (the record, with the wrapper's other fields it
        does not have; its time, the wrapper's when it has none; the observed time, the wrapper's when the record
        has its own), or None when the line is no JSON object (a text line: the caller's). ``timed``: the caller has
        the time (a CloudWatch event's): the wrapper's time is one more field."""
        text = rest[_WRAPPED].strip()
        if text[:1] != "{" or text[-1:] != "}":
            return None
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
        if type(obj) is not dict:
            return None
        obj = unique_keys(text, obj, _JSON_KEYS, _itself)
        if DUPLICATE_KEYS in obj and (why := _repeated(obj, _JSON_SET)):
            raise _Bad(f"{_WRAPPED}: {why}")
        outer = {k: v for k, v in rest.items() if k != _WRAPPED}
        t = None if timed else _pop(outer, _TIME_KEYS)
        for k, v in outer.items():
            obj.setdefault(k, v)  # (the record's own field of that name first)
        if t is None:
            return obj, None, None
        t = _json_time(t)
        own = any(k in obj for k in _TIME_KEYS) or type(obj.get("instant")) is dict or "timeMillis" in obj
        return (obj, None, t) if own else (obj, t, None)

    # -- the frame ------------------------------------------------------------------------------
    def frame(self) -> pd.DataFrame:
        n = len(self.body)
        keep = np.ones(n, dtype=bool)
        trace, bad_t = canonical_ids(_strs(self.trace), 32, xray=True)
        span, bad_s = canonical_ids(_strs(self.span), 16)
        time, bad_time = _times(self.time)
        observed, bad_obs = _times(self.observed)
        for i in np.flatnonzero(bad_t | bad_s | bad_time | bad_obs):
            tkey, skey = self.id_keys.get(i, ("traceId", "spanId"))
            what = (f"{tkey} {self.trace[i]!r} is not 32 hex digits or an X-Ray trace id" if bad_t[i] else
                    f"{skey} {self.span[i]!r} is not 16 hex digits" if bad_s[i] else
                    _time_problem("time", self.time[i]) if bad_time[i] else
                    _time_problem("receiveTimestamp", self.observed[i]))
            w = self.where[i]
            self.problem(what, self.file[i], w if type(w) is str else f"{w[0]}[{w[1]}]")  # raises in strict mode
            keep[i] = False
        df = _frame(time, observed, trace, span, _strs(self.service), _strs(self.host),
                    _strs(self.sev_text), pd.array(self.sev_num, dtype="Int64"), _strs(self.body),
                    pd.Series(self.attrs, dtype=object), pd.Series(self.resource, dtype=object), _strs(self.source),
                    _strs(self.file), pd.array(self.record, dtype="Int64"))
        if not keep.all():
            df = df[keep].reset_index(drop=True)
        return df


def _frame(time: pd.Series, observed: pd.Series, trace: pd.Series, span: pd.Series, service: pd.Series,
           host: pd.Series, sev_text: pd.Series, sev_num: Any, body: pd.Series, attrs: pd.Series, resource: pd.Series,
           source: pd.Series, file: pd.Series, record: Any) -> pd.DataFrame:
    """The logs frame of converted columns: the one place both paths (checked walk, fast decode) build it."""
    sev = normalize_severity(sev_text, sev_num)
    return pd.DataFrame({
        "time": time,
        "observed_time": observed,
        "trace_id": trace,
        "span_id": span,
        "service": log_services(service),
        "host": host,
        "severity_text": sev["severity_text"],
        "severity_number": sev["severity_number"],
        "body": body,
        "attributes": attrs,
        "resource": resource,
        "source": source,
        "source_file": file,
        "source_record": pd.Series(record),
    }, columns=list(LOG_COLUMN_NAMES))


#: the attribute an OTLP record's severityText is kept under when it is no word :func:`tracekit.logs_schema.severity_name`
#: knows ("Notice", "audit"): ``severity_text`` holds the six short names only, and nothing the source wrote is lost
OTLP_SEVERITY_TEXT_ATTR = "severityText"
_MAX_NS = "9223372036854775808"  # 2**63: the first time a datetime64[ns] cannot hold
#: integer levels of pino and bunyan (Node.js), the usual writers of ``"level": 30`` in JSON lines; other
#: integers 1-24 are OTLP severity numbers, any other level value stays in ``attributes``
_NUMERIC_LEVELS = {10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL"}
#: Go log/slog's levels (DEBUG -4, INFO 0, WARN 4, ERROR 8) and its text of a level between them ("ERROR+2",
#: "DEBUG-4"); OpenTelemetry's otelslog bridge maps a level to the severity number level + 9 (ERROR 17, ERROR+2 19)
_SLOG_BASE = {"DEBUG": -4, "INFO": 0, "WARN": 4, "ERROR": 8}
_SLOG_LEVEL = re.compile(r"(DEBUG|INFO|WARN|ERROR)([+-][0-9]{1,2})", re.IGNORECASE)
#: the X-Ray trace id a Lambda REPORT line ends with when the invocation was traced
_LAMBDA_XRAY = re.compile(r"\bXRAY TraceId: (1-[0-9a-fA-F]{8}-[0-9a-fA-F]{24})\b")
_BRACKET_LEVEL = re.compile(r"\[([A-Za-z]{1,8})\] ")
#: the value the AWS X-Ray SDK for Java's log listeners (SLF4J, Log4J) put in the AWS-XRAY-TRACE-ID key: its prefix
#: (``AWS-XRAY-TRACE-ID`` by default, configurable, none when blank) and ``": "``, the X-Ray trace id, ``@`` and the id
#: of the segment or subsegment current when the line was logged (the span)
_XRAY_AT = re.compile(r"(?:[^:@]*: )?(1-[0-9a-fA-F]{8}-[0-9a-fA-F]{24})@([0-9a-fA-F]{16})")
_LEVEL_WORDS = frozenset(["trace", "debug", "info", "warn", "warning", "error", "fatal", "critical"])


#: where a JSON log record may nest its trace context when no top-level key holds it (:data:`_TRACE_KEYS`,
#: :data:`_SPAN_KEYS`), as (object, its trace id keys, its span id keys): ECS's nested form (``"trace": {"id": …}``,
#: ``"span": {"id": …}``, as Elastic's ecs-logging-python writes them), and the thread-context maps where
#: OpenTelemetry's MDC instrumentations put ``trace_id``/``span_id``: Log4j 2's JsonLayout ``contextMap``, Logback's
#: JsonEncoder ``mdc``; .NET's JSON console formatter's ``Scopes`` list (ActivityTrackingOptions' scope holds
#: ``TraceId``/``SpanId``: the first scope holding one)
_NESTED_IDS = (("trace", ("id",), ()), ("span", (), ("id",)), ("contextMap", _TRACE_KEYS, _SPAN_KEYS),
               ("mdc", _TRACE_KEYS, _SPAN_KEYS), ("Scopes", _TRACE_KEYS, _SPAN_KEYS))


#: ECS's nested objects: names other loggers use for objects of their own (Rust tracing-subscriber's ``"span"`` holds
#: the span's fields, an ``id`` among them maybe), so their ``id`` is the trace context only when it is shaped as one
_ECS_NESTED = frozenset({"trace", "span"})
_HEX_WIDTH = {32: re.compile(r"[0-9a-fA-F]{32}"), 16: re.compile(r"[0-9a-fA-F]{16}")}


def _nested(rest: dict, outer: str, keys: tuple[str, ...], width: int | bool = False) -> tuple[str, Any] | None:
    """The first of ``keys`` in the object ``rest[outer]``, taken out of a copy of it (the object left out of ``rest``
    when nothing else is in it): (its dotted name, ``trace.id``, and its value); None when there is none (or, with a
    ``width``, when the value is no string of that many hex digits: then it stays where it is)."""
    inner = rest.get(outer)
    if width and not (type(inner) is dict and type(v := inner.get(keys[0] if keys else None)) is str
                      and _HEX_WIDTH[width].fullmatch(v)):
        return None
    if type(inner) is list:  # a list of such objects (.NET's Scopes): the first holding one of keys
        for i, scope in enumerate(inner):
            if type(scope) is dict and (key := next((k for k in keys if k in scope), None)) is not None:
                scope = dict(scope)  # (a caller's parsed record is never edited)
                value = scope.pop(key)
                rest[outer] = [*inner[:i], scope, *inner[i + 1:]]
                return f"{outer}[{i}].{key}", value
        return None
    if type(inner) is not dict or not keys:
        return None
    key = next((k for k in keys if k in inner), None)
    if key is None:
        return None
    inner = dict(inner)  # (a caller's parsed record is never edited)
    value = inner.pop(key)
    if inner:
        rest[outer] = inner
    else:
        del rest[outer]
    return f"{outer}.{key}", value


def _dd_id(x: Any, width: int) -> Any:
    """A Datadog id as the logs frame's hex id: Datadog's tracers write ``dd.trace_id`` / ``dd.span_id`` as unsigned
    decimals (64-bit; a trace id of 128 bits as 32 hex digits, or its decimal); a 64-bit trace id is the lower half of
    the 128-bit one, its upper half zeros (Datadog's rule for a 64-bit trace in OpenTelemetry's form). Anything else
    is returned as given (the id check names it).

    >>> _dd_id("16266516598257821587", 32), _dd_id(13235353014750950193, 16), _dd_id("5759e988bd862e3fe1be46a994272793", 32)
    ('0000000000000000e1be46a994272793', 'b7ad6b7169203331', '5759e988bd862e3fe1be46a994272793')
    """
    if type(x) is str and width == 32 and len(x) == 32:
        return x  # 128-bit ids are logged as hex
    if type(x) is str and 1 <= len(x) <= 39 and x.isascii() and x.isdigit():
        x = int(x)
    if type(x) is int and 0 < x < 1 << (4 * width if width == 32 else 64):
        return f"{x:0{width}x}"
    return x


def _log4j_time(rest: dict) -> Any:
    """Log4j 2's JsonLayout time, taken out of ``rest``: ``"instant": {"epochSecond", "nanoOfSecond"}`` (2.11 on), else
    ``"timeMillis"`` (before, or with includeTimeMillis), as the protobuf Timestamp :func:`_json_time` reads exactly;
    None when neither is there in that shape (an ``instant`` of another shape stays an attribute)."""
    inst = rest.get("instant")
    if type(inst) is dict and type(inst.get("epochSecond")) is int and type(inst.get("nanoOfSecond", 0)) is int \
            and inst.keys() <= {"epochSecond", "nanoOfSecond"}:
        del rest["instant"]
        return {"seconds": inst["epochSecond"], "nanos": inst.get("nanoOfSecond", 0)}
    ms = rest.get("timeMillis")
    if type(ms) is int:
        del rest["timeMillis"]
        return {"seconds": ms // 1000, "nanos": ms % 1000 * 1_000_000}
    return None


#: the field a container runtime wraps each line of a container's output in (Docker's json-file driver, Fluent Bit,
#: Fluentd): a line that is a JSON record is read as that record (:meth:`_Logs._wrapped`)
_WRAPPED = "log"


def _line_text(line: str) -> str:
    """A wrapped line's text: without the line end the runtime keeps (``"text\\n"``, ``"text\\r\\n"``)."""
    return line.removesuffix("\n").removesuffix("\r")


def _pop(d: dict, keys: tuple[str, ...]) -> Any:
    for k in keys:
        if k in d:
            return d.pop(k)
    return None


def _nanos(x: Any, what: str) -> int:
    if type(x) is int:
        v = x
    elif type(x) is str and x.isdigit() and x.isascii():
        v = int(x)
    else:
        raise _Bad(f"{what} must be nanoseconds since the epoch (a decimal string or an integer), got {short(x)}")
    if v >= 2 ** 63:
        raise _Bad(f"{what} {x} is out of range (after the year 2262)")
    if v < 0:
        raise _Bad(f"{what} must be nanoseconds since the epoch, never negative (before 1970), got {short(x)}")
    return v


def _subscription_bytes(data: Any, file: str) -> tuple[int, bytes]:
    """The JSON of a subscription's data (a Lambda's ``awslogs.data``, a Kinesis record's ``kinesis.data``, a
    Firehose record's ``data``): base64 of the gzip'd payload (CloudWatch's), of zlib data (some test events) or
    of the JSON itself (a Firehose stream that decompresses its records); gzip goes through :func:`read_bytes`, so
    a bomb is refused as in a file. The one decoder of every delivery: (bytes decoded from base64, the JSON)."""
    if type(data) is not str:
        raise TypeError(f"data must be a base64 string, got {short(data)}")
    raw = base64.b64decode(data, validate=True)
    if raw[:2] == b"\x1f\x8b":
        return len(raw), read_bytes(raw, file)
    if raw.lstrip()[:1] == b"{":
        return len(raw), raw
    d = zlib.decompressobj()
    out = d.decompress(raw, GZIP_MIN_CAP)
    if d.unconsumed_tail:
        raise ValueError(f"zlib data decompresses to more than {GZIP_MIN_CAP // 2**20} MiB")
    return len(raw), out


def _cw_not_seconds(ms: int, what: str) -> None:
    """Refuse a CloudWatch Logs event's time (``timestamp``, ``ingestionTime``: milliseconds since the epoch, as the
    API gives them) that is a plausible 1990-2100 time in epoch *seconds* (a hand-made or converted export): read as
    milliseconds it fell in January-February 1970 without a word. The format says its unit, so the number is not
    read by its size as a JSON log record's time is (:func:`_json_time`): it is refused, as
    :func:`tracekit.logs_from_columns` refuses a column of times in another unit than the one it reads (the same
    band, :func:`tracekit.schema.epoch_times`). Times in milliseconds of 1990-2100 are 1000x larger: no overlap.

    >>> _cw_not_seconds(1704067200000, "timestamp")  # 2024 in milliseconds: fine
    >>> _cw_not_seconds(1704067200, "timestamp")
    Traceback (most recent call last):
    ...
    tracekit.io.otlp._Bad: timestamp 1704067200 is epoch seconds, not milliseconds: as milliseconds it is \
1970-01-20 17:21:07 UTC, as seconds 2024-01-01 00:00:00 UTC (a CloudWatch Logs event's times are milliseconds since \
the epoch: multiply by 1000)
    """
    if PLAUSIBLE_EPOCH_SECONDS[0] <= ms <= PLAUSIBLE_EPOCH_SECONDS[1]:
        as_ms = pd.Timestamp(ms, unit="ms", tz="UTC")
        as_s = pd.Timestamp(ms, unit="s", tz="UTC")
        raise _Bad(f"{what} {ms} is epoch seconds, not milliseconds: as milliseconds it is {as_ms:%Y-%m-%d %H:%M:%S} "
                   f"UTC, as seconds {as_s:%Y-%m-%d %H:%M:%S} UTC (a CloudWatch Logs event's times are milliseconds "
                   "since the epoch: multiply by 1000)")


def _json_text(value: Any, what: str) -> str:
    """Compact JSON text of a decoded value; a scalar as OTLP/JSON writes it (``NaN``, ``-Infinity``, an
    integer of any size); a clear error where orjson cannot write a map or array."""
    if type(value) is int:
        return str(value)
    if type(value) is float and value != value:
        return "NaN"
    if type(value) is float and value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError as exc:
        why = "nested deeper than 254 levels" if "Recursion" in str(exc) else str(exc)
        raise _Bad(f"{what} cannot be written as JSON text: {why}") from None


def _json_time(t: Any, what: str = "time") -> Any:
    """A JSON record's time as int nanoseconds (numbers: seconds, ms, us or ns by magnitude), or the
    string as is (parsed column-wise later)."""
    if type(t) is bool:
        raise _Bad(f"{what} must be a number or a string, got {short(t)}")
    if type(t) in (int, float):
        if type(t) is float and not math.isfinite(t):  # NaN / Infinity: Python's json module reads them
            raise _Bad(f"{what} must be a finite number, got {t}")
        if t < 0:
            raise _Bad(f"{what} {short(t)} is before 1970: a time since the epoch is never negative")
        scale = TIME_UNITS[epoch_unit_by_size(t)]
        # float seconds or ms: rounded to the microsecond (a double holds no finer digit of a 2020s time)
        v = (int(round(t * scale / 1_000)) * 1_000 if scale >= 1_000 else int(round(t))) if type(t) is float else t * scale
        if abs(v) >= 2 ** 63:
            raise _Bad(f"{what} {short(t)} is out of range")
        return v
    if type(t) is str:
        if 10 <= len(t) <= 19 and t.isascii() and t.isdigit():  # epoch digits written as a string
            return _json_time(int(t), what)
        return t
    if type(t) is dict and type(t.get("seconds")) is int and type(t.get("nanos", 0)) is int and len(t) <= 2:
        v = t["seconds"] * 1_000_000_000 + t.get("nanos", 0)  # a protobuf Timestamp (Google Cloud structured logs)
        if not 0 <= v < 2 ** 63:
            raise _Bad(f"{what} {short(t)} is out of range (1970-2262)")
        return v
    raise _Bad(f"{what} must be a number or a string, got {short(t)}")


def _time_problem(what: str, value: Any) -> str:
    """Why a time string of a JSON record (judged column-wise by :func:`_times`) is refused."""
    if type(value) is str:
        try:
            if pd.Timestamp(value.replace(",", ".")).tz_localize(None).value < 0:
                return f"{what} {value!r} is before 1970: the frame's times are nanoseconds since the epoch, never negative"
        except (ValueError, TypeError, OverflowError):
            pass
    return f"{what} {value!r} is not a time (ISO 8601, or seconds/ms/us/ns since the epoch)"


def _strs(values: list) -> pd.Series:
    """A string[pyarrow] Series of a list of str / None, built by Arrow in C (pandas' constructor checks
    every value in Python first: 2-3x slower on a read's columns)."""
    try:
        arr = pa.array(values, type=pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return pd.Series(pd.array(values, dtype=STRING))
    return pd.Series(pd.arrays.ArrowStringArray(arr))


def _ns_series(values: list | np.ndarray) -> pd.Series:
    """A timestamp column of int nanoseconds (a list with None, or an int64 array with NaT's value)."""
    arr = values if isinstance(values, np.ndarray) else \
        np.array([v if v is not None else np.iinfo(np.int64).min for v in values], dtype=np.int64)
    return pd.Series(arr.view("datetime64[ns]")).dt.tz_localize("UTC").astype(TIMESTAMP)


_NS_MIN, _NS_MAX = pd.Timestamp.min.tz_localize("UTC"), pd.Timestamp.max.tz_localize("UTC")


def _times(values: list) -> tuple[pd.Series, np.ndarray]:
    """Times given as int ns, strings or None → a timestamp column, and which strings are no time."""
    n = len(values)
    bad = np.zeros(n, dtype=bool)
    strs = [i for i, v in enumerate(values) if type(v) is str]
    if not strs:
        return _ns_series(values), bad
    ints = list(values)
    parsed = pd.to_datetime(pd.Series([values[i] for i in strs], dtype=object), utc=True, format="ISO8601",
                            errors="coerce")
    # a time pandas parses in a coarser unit but beyond datetime64[ns] (year -1, 9999) is tried below, then named
    parsed = parsed.where((parsed >= _NS_MIN) & (parsed <= _NS_MAX)).astype("datetime64[ns, UTC]")
    got = parsed.to_numpy(dtype="datetime64[ns]").view(np.int64)
    nat = np.iinfo(np.int64).min
    for j, i in enumerate(strs):
        v = int(got[j])
        if v == nat:  # other spellings: RFC 3339 with a space, Python logging's "2021-05-03 11:47:12,494+0200"
            try:
                ts = pd.Timestamp(values[i].replace(",", "."))
                v = (ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")).as_unit("ns").value
            except (ValueError, TypeError, OverflowError):
                v = None
                bad[i] = True
        if v is not None and v < 0:  # before 1970: no time of the frame (ns since the epoch) is negative
            v = None
            bad[i] = True
        ints[i] = v
    return _ns_series(ints), bad


# ---------------------------------------------------------------------------------------------
# fast path: a file of OTLP logs (JSON lines, or one document) decoded by msgspec into Structs (no
# dict per record, KeyValue or AnyValue), then converted column by column over all its records at
# once (map/attrgetter, Arrow casts and numpy repeats), into the frame :func:`_frame` builds for the
# checked walk too. ``attributes`` and ``resource`` are lazy columns
# (:class:`tracekit.io.containers.LazyColumn`): a record's attributes stay raw JSON bytes, each
# distinct list decoded and checked once at read time (:func:`~tracekit.io.containers.attribute_source`,
# read_metrics' too), each row's dict built when first used; no per-record Python loop is left. It takes only what it maps
# exactly as the checked walk does; anything else (a key the Structs do not declare, a JSON type
# other than the declared one, an integer outside int64, an AnyValue the checked code would judge,
# a bad id or time) sends the whole file to the checked walk, which reports errors, lists skipped
# records and reads every other shape. ``FAST_PATH = False`` sends every file there (tests compare).

#: False sends every source to the checked walk (tests compare the two paths)
FAST_PATH = True
#: integers orjson keeps as ints (the checked walk's parser): int64 here, larger ones fall back
_Int = Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)]


class _B(Struct, forbid_unknown_fields=True, gc=False):
    pass


class _AnyV(_B, frozen=True):
    stringValue: str | UnsetType = UNSET
    boolValue: bool | UnsetType = UNSET
    intValue: _Int | str | UnsetType = UNSET
    doubleValue: float | UnsetType = UNSET
    bytesValue: str | UnsetType = UNSET
    arrayValue: msgspec.Raw | UnsetType = UNSET
    kvlistValue: msgspec.Raw | UnsetType = UNSET


_NO_VALUE = _AnyV()  # an absent value or body: every field UNSET, read as None


class _KV(_B):
    key: str
    value: _AnyV = _NO_VALUE


class _Rec(_B):
    timeUnixNano: _Int | str | None = None
    observedTimeUnixNano: _Int | str | None = None
    severityNumber: _Int | str | None = None
    severityText: str | None = None
    body: _AnyV = _NO_VALUE
    attributes: msgspec.Raw = None  # type: ignore[assignment]  # a KeyValue list: containers.attribute_source
    droppedAttributesCount: int | UnsetType = UNSET
    flags: int | UnsetType = UNSET
    traceId: str | None = None
    spanId: str | None = None
    eventName: str | None = None


class _Scope(_B):
    name: str | UnsetType = UNSET
    version: str | UnsetType = UNSET
    attributes: list[_KV] = []
    droppedAttributesCount: int | UnsetType = UNSET


class _ScopeLogs(_B):
    scope: _Scope | UnsetType = UNSET
    logRecords: list[_Rec] = []
    schemaUrl: str | UnsetType = UNSET


class _Resource(_B):
    attributes: list[_KV] = []
    droppedAttributesCount: int | UnsetType = UNSET


class _ResourceLogs(_B):
    resource: _Resource | UnsetType = UNSET
    scopeLogs: list[_ScopeLogs] = []
    schemaUrl: str | UnsetType = UNSET


class _Doc(_B):
    resourceLogs: list[_ResourceLogs]


_DECODE = msgspec.json.Decoder(_Doc).decode
_DECIMAL = re.compile(r"-?[0-9]+")


class _Fallback(Exception):
    """The fast path cannot take this file: the checked path reads it."""


def _anyv(v: _AnyV) -> Any:
    """One AnyValue as the checked ``decode_any_value`` reads it; a value holding two kinds, or a kvlist giving a
    key twice: :class:`_Fallback` (the checked walk refuses the one, keeps the first value of the other and counts
    it)."""
    if _KINDS_OF(v).count(UNSET) < _N_KINDS - 1:
        raise _Fallback
    x = v.stringValue
    if x is not UNSET:
        return x
    if v.boolValue is not UNSET:
        return v.boolValue
    x = v.intValue
    if x is not UNSET:
        if type(x) is int:
            return x
        if _DECIMAL.fullmatch(x):
            return int(x)
        raise _Fallback  # the checked code reports it
    if v.doubleValue is not UNSET:
        return v.doubleValue
    if v.bytesValue is not UNSET:
        return v.bytesValue
    for key, raw in (("arrayValue", v.arrayValue), ("kvlistValue", v.kvlistValue)):
        if raw is not UNSET:
            try:
                return _any({key: orjson.loads(memoryview(raw))}, True)
            except (_Bad, orjson.JSONDecodeError):
                raise _Fallback from None
    return None


def _kvs(kvs: list) -> dict:
    """KeyValues as the checked ``decode_attributes`` reads them (of resources and scopes: a few per file, each value
    looked at for a second kind); a key given twice: :class:`_Fallback` (the checked walk keeps the first)."""
    d: dict = {}
    for kv in kvs:
        d[kv.key] = _anyv(kv.value)
    if len(d) != len(kvs):
        raise _Fallback
    return d


def _envelope_keys(holder: Any, inner: Any) -> tuple[int, int]:
    """(keys, colons in decoded strings) of a ResourceLogs or ScopeLogs ``holder`` and its resource or scope
    ``inner``, all but its records' (counted column by column) and its list of scopes: for the duplicate-key check
    (:func:`tracekit.io._sources.colons_repeat_keys`). A list written empty, like a field written null, is not
    counted (the check then sends the file to the checked walk: slower, never wrong)."""
    keys = strs = 0
    for x in (holder, inner):
        if x is UNSET:
            continue
        keys += (x is inner)  # "resource" / "scope"
        for f in x.__struct_fields__:
            v = getattr(x, f)
            if v is UNSET or v is None or (type(v) is list and not v and f != "attributes"):
                continue
            if f in ("scopeLogs", "logRecords", "resource", "scope"):
                keys += f in ("scopeLogs", "logRecords") and bool(v)
                continue
            if f == "attributes":
                if v:
                    keys += 1
                    for kv in v:
                        keys += 1 + (kv.value != _NO_VALUE) + _N_KINDS - _KINDS_OF(kv.value).count(UNSET)
                        strs += kv.key.count(":")
                        sv = kv.value.stringValue
                        if sv is not UNSET:
                            strs += sv.count(":")
                        keys += raw_colons(kv.value.arrayValue or None) + raw_colons(kv.value.kvlistValue or None)
                continue
            keys += 1
            if type(v) is str:
                strs += v.count(":")
    return keys, strs


def _colons(arr: pa.Array) -> int:
    """The colons of the strings of an Arrow large_string array: of its data buffer's bytes they span (one pass)."""
    offsets, data = arr.buffers()[1:3]
    if data is None or not len(arr):
        return 0
    ends = np.frombuffer(offsets, np.int64)[[arr.offset, arr.offset + len(arr)]]
    return int(np.count_nonzero(np.frombuffer(data, np.uint8)[ends[0]:ends[1]] == 58))


_KINDS_OF = attrgetter(*_AnyV.__struct_fields__)
_N_KINDS = len(_AnyV.__struct_fields__)


def _ns_col(raw: list) -> pa.Array | np.ndarray:
    """Nanosecond times of one document's column (decimal strings, ints, None): the usual all-strings column as an
    Arrow string array (checked and cast with the others by :func:`_ns_join`, one Arrow pass for the file instead of
    five calls a document); a column holding ints as int64, 0 where missing. Anything the checked walk would judge
    otherwise falls back (``"+5"``, ``" 5"``, negative, ≥ 2**63)."""
    try:
        return pa.array(raw, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):  # ints among them
        out = np.zeros(len(raw), dtype=np.int64)
        for i, x in enumerate(raw):
            if x is None:
                continue
            if type(x) is str:
                if not (x.isascii() and x.isdigit()):
                    raise _Fallback from None
                x = int(x)
            if not 0 <= x < 2 ** 63:
                raise _Fallback from None
            out[i] = x
        return out


def _ns_join(chunks: list) -> np.ndarray:
    """The int64 times (0 where missing) of the chunks :func:`_ns_col` made, in order: the string chunks checked and
    cast together (a string that is no decimal, or ≥ 2**63: :class:`_Fallback`)."""
    texts = [c for c in chunks if isinstance(c, pa.Array)]
    if not texts:
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
    arr = pa.chunked_array(texts, type=pa.string())
    if arr.null_count == len(arr):
        ints = np.zeros(len(arr), dtype=np.int64)
    else:
        if not pc.all(pc.ascii_is_decimal(arr)).as_py():  # (nulls skipped; "" is no decimal)
            raise _Fallback
        try:
            ints = pc.cast(arr, pa.int64()).fill_null(0).to_numpy()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise _Fallback from None  # ≥ 2**63
    if len(texts) == len(chunks):
        return ints
    out, at = [], 0
    for c in chunks:
        if isinstance(c, pa.Array):
            out.append(ints[at:at + len(c)])
            at += len(c)
        else:
            out.append(c)
    return np.concatenate(out)


def _num(x: Any) -> int | None:
    """A severityNumber as the checked walk reads it (an int, a quoted int, an enum name); out of 0-24 falls back."""
    if x is None:
        return None
    if type(x) is str:
        if x in _SEVERITY_ENUM:
            return _SEVERITY_ENUM[x]
        if x == "SEVERITY_NUMBER_UNSPECIFIED":
            return None
        if not (x.isascii() and x.isdigit()):
            raise _Fallback
        x = int(x)
    if not 0 <= x <= 24:
        raise _Fallback  # the checked walk names it
    return x


def _body(b: _AnyV) -> str | None:
    v = _anyv(b)
    if v is None or type(v) is str:
        return v
    try:
        return _json_text(v, "body")  # the checked walk's text (NaN, ±Infinity, big integers as OTLP/JSON writes them)
    except _Bad:
        raise _Fallback from None  # the checked code reports it


def _raw_bytes(part: Any, on_bad: Any = None) -> tuple[str, bytes] | None:
    """(name, decompressed bytes) of a file, bytes, JSON text or file object source, as
    :func:`~tracekit.io._sources.iter_documents` reads them; None for other sources (parsed JSON, a directory,
    a missing path). ``on_bad`` (lenient reading): a cut gzip stream is reported to it and its bytes before the
    cut kept."""
    from pathlib import Path

    if isinstance(part, (bytes, bytearray, memoryview)):
        return OBJECT, read_bytes(bytes(part), OBJECT, on_bad)
    if isinstance(part, str) and not is_pathlike(part):
        return OBJECT, text_bytes(part)
    if is_pathlike(part):
        if not Path(part).is_file():
            return None
        name = display_name(Path(part))
        return name, read_bytes(Path(part).read_bytes(), name, on_bad)
    if hasattr(part, "read") and not isinstance(part, (dict, list, tuple)):
        name = getattr(part, "name", OBJECT)
        name = display_name(name) if isinstance(name, (str, os.PathLike)) else OBJECT
        data = object_bytes(part, name)
        return name, read_bytes(text_bytes(data) if isinstance(data, str) else data, name, on_bad)
    return None


# ---------------------------------------------------------------------------------------------
# JSON objects written one after another: a Kinesis Data Firehose stream writes the records of a CloudWatch Logs
# subscription to S3 as they came, each a gzip member holding one payload and no separator between them, so the
# object is `{…}{…}{…}` once decompressed. The objects are split by the one splitter every reader uses
# (_sources.glued_objects); read_logs numbers a whole file's objects by place (``object 3``), as the records of one
# line (all of a Firehose object) would otherwise all be ``line 1``.


def _file_documents(c: _Logs, data: bytes, name: str, on_bad: Any) -> Iterator[Document]:
    """The documents of a file's bytes: one JSON value or JSON lines (:func:`parse_json`, its iterator as it is),
    else JSON objects one after another (:func:`~tracekit.io._sources.glued_objects`; ``c.unit`` becomes ``"object"``), else
    parse_json's error."""
    docs = parse_json(data, name, on_bad, glued=False, keys=CHECKED_KEYS, records=log_records)
    try:
        first = next(docs, None)
    except TraceFormatError as exc:
        objects = glued_objects(data[3:] if data.startswith(b"\xef\xbb\xbf") else data, name, on_bad, by="object",
                                keys=CHECKED_KEYS, records=log_records) \
            if exc.record is None else None
        if objects is None:
            raise
        c.unit = "object"
        return objects
    return chain((first,), docs) if first is not None else iter(())


def _documents(data: bytes) -> Iterator[tuple[int | None, _Doc]]:
    """(line, document) of each document of a file (line None for a file of one document), split as
    :func:`tracekit.io._sources.parse_json` splits it: JSON lines when the first line is a whole
    document and more follows it. Decoded one at a time, so that a document's Structs are freed (and
    their memory reused, still in the CPU caches) before the next is decoded."""
    nl = data.find(b"\n")
    if nl >= 0 and _CONTENT.search(data, nl + 1):
        try:
            first = _DECODE(memoryview(data)[:nl])
        except msgspec.DecodeError:
            first = None  # not a whole document (a pretty-printed one), or not ours: tried as one below
        if first is not None:
            yield 1, first
            del first
            view, pos, lineno = memoryview(data), nl + 1, 1
            find, search = data.find, _CONTENT.search
            while pos < len(data):
                end = find(b"\n", pos)
                end = len(data) if end < 0 else end
                lineno += 1
                if search(data, pos, end):
                    yield lineno, _DECODE(view[pos:end])
                pos = end + 1
            return
    yield None, _DECODE(data)


_G_TIME, _G_OBS, _G_NUM, _G_TEXT = (attrgetter(k) for k in ("timeUnixNano", "observedTimeUnixNano", "severityNumber",
                                                              "severityText"))
_G_BODY, _G_BSTR, _G_ATTRS = attrgetter("body"), attrgetter("body.stringValue"), attrgetter("attributes")
_G_TID, _G_SID, _G_EVENT = attrgetter("traceId"), attrgetter("spanId"), attrgetter("eventName")
_G_DROPPED, _G_FLAGS = attrgetter("droppedAttributesCount"), attrgetter("flags")
_NAT = np.iinfo(np.int64).min
_CONTENT = re.compile(rb"\S")


def _fast(data: bytes, name: str) -> pd.DataFrame | None:
    """The logs frame of a file of OTLP logs (``data``: its bytes), or None when the file needs the
    checked walk."""
    if not FAST_PATH or data[:1] != b"{":
        return None
    # a key given twice in an object: the typed decode keeps one value, so the text holds a colon more than the keys
    # the Structs hold and the colons of their strings (io._sources.colons_repeat_keys); the keys and the strings'
    # colons are counted as the walk goes (the records' column by column), the text's colons at the end
    keys = strs = 0
    try:
        # column by column, one ScopeLogs' records at a time (while its Structs are in the CPU caches)
        tt, oo, tid, sid, nums, text, body, attrs = [], [], [], [], [], [], [], []  # attrs: raw KeyValue lists
        events: list[tuple[int, str]] = []  # (row, eventName): an attribute of its record
        n = 0  # records so far (the text lists are emptied into Arrow chunks after each document)
        tid_c, sid_c, text_c, body_c, tt_c, oo_c, a_joined = [], [], [], [], [], [], []
        strings = ((tid, tid_c), (sid, sid_c), (text, text_c), (body, body_c))
        counts, service, host, resource, record = [], [], [], [], []  # per group: what its records share
        for lineno, doc in _documents(data):
            keys += 1  # resourceLogs
            for i, rl in enumerate(doc.resourceLogs):
                res = rl.resource
                k, c = _envelope_keys(rl, res)
                keys += k
                strs += c
                res_attrs = _kvs(res.attributes) if res is not UNSET else {}
                svc = res_attrs.get("service.name")
                svc = svc if type(svc) is str else None
                hst = host_of(res_attrs)
                hst = hst if type(hst) is str else None
                for sl in rl.scopeLogs:
                    recs = sl.logRecords
                    scope = sl.scope
                    k, c = _envelope_keys(sl, scope)
                    keys += k
                    strs += c
                    if not recs:
                        continue
                    res_j = res_attrs
                    if scope is not UNSET and (scope.name or scope.version or scope.attributes):
                        res_j = dict(res_attrs)
                        if scope.name:
                            res_j["otel.scope.name"] = scope.name
                        if scope.version:
                            res_j["otel.scope.version"] = scope.version
                        for k, v in _kvs(scope.attributes).items():
                            res_j[SCOPE_ATTR_PREFIX + k] = v
                    counts.append(len(recs))
                    service.append(svc)
                    host.append(hst)
                    resource.append(res_j)
                    record.append(lineno if lineno is not None else i)
                    tt.extend(map(_G_TIME, recs))
                    oo.extend(map(_G_OBS, recs))
                    tid.extend(map(_G_TID, recs))
                    sid.extend(map(_G_SID, recs))
                    nums.extend(map(_G_NUM, recs))
                    text.extend(map(_G_TEXT, recs))
                    b = list(map(_G_BSTR, recs))
                    # keys: each body's and its one kind's (a body holding two kinds has a colon more in the text: the
                    # checked walk refuses it), dropped counts and flags (the other fields' by their columns, below)
                    keys += 2 * (len(recs) - list(map(_G_BODY, recs)).count(_NO_VALUE)) + 2 * len(recs) \
                        - list(map(_G_DROPPED, recs)).count(UNSET) - list(map(_G_FLAGS, recs)).count(UNSET)
                    for k in compress(count(), map(is_, b, repeat(UNSET))):  # no stringValue: another kind or none
                        bk = recs[k].body
                        if bk is not _NO_VALUE:  # an array or kvlist is kept raw: its colons are its keys and its strings' colons
                            keys += raw_colons(bk.arrayValue or None) + raw_colons(bk.kvlistValue or None)
                        b[k] = _body(bk)
                        if b[k] is not None:  # (this body's text is no decoded string: its colons taken back)
                            strs -= b[k].count(":")
                    body.extend(b)
                    n += len(recs)
                    ev = list(map(_G_EVENT, recs))
                    keys += len(recs) - ev.count(None)
                    for k in compress(count(), ev):
                        events.append((n - len(recs) + k, ev[k]))
                        strs += ev[k].count(":")
                    attrs.extend(map(_G_ATTRS, recs))
            for lst in (tt, oo, tid, sid, text, attrs):  # the records' other keys: each a field not None
                keys += len(lst) - lst.count(None)
            for lst, chunks in ((tt, tt_c), (oo, oo_c)):  # this document's times too (checked and cast at the end)
                if lst:
                    chunks.append(_ns_col(lst))
                    lst.clear()
            if attrs:  # and its raw attribute lists joined (their colons: their keys and their strings' colons)
                a_joined.append(join_raws(attrs))
                keys += a_joined[-1][0].count(b":")
                attrs.clear()
            for lst, chunks in strings:  # this document's texts to Arrow now, while they are in the CPU caches
                if lst:
                    chunks.append(pa.array(lst, type=pa.large_string()))
                    lst.clear()
            doc = rl = sl = recs = None  # (the document's Structs go now, before the next is decoded)
        keys += len(nums) - nums.count(None)
        strs += sum(map(_colons, body_c))  # (ids, levels and times hold none: one there is a colon more in the text)
        if colons_repeat_keys(text_colons([data]), keys, strs):  # an object may hold a key twice: the checked walk reads it
            raise _Fallback
        group = np.repeat(np.arange(len(counts)), np.asarray(counts, dtype=np.int64))
        # times: 0 is "unknown" (OTLP), so the time falls back on the observed time
        obs = _ns_join(oo_c)
        obs = np.where(obs == 0, _NAT, obs)
        t = _ns_join(tt_c)
        t = np.where(t == 0, obs, t)
        trace, bad_t = canonical_ids(_chunked(tid_c), 32, xray=True)
        span, bad_s = canonical_ids(_chunked(sid_c), 16)
        if bad_t.any() or bad_s.any():
            raise _Fallback  # the checked walk names the record
        try:
            num = pa.array(nums, type=pa.int64())
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):  # enum names or quoted numbers among them
            num = pa.array([_num(x) for x in nums], type=pa.int64())
        else:
            lo_hi = pc.min_max(num)
            if num.null_count < len(num) and not (0 <= lo_hi["min"].as_py() and lo_hi["max"].as_py() <= 24):
                raise _Fallback  # a number out of 0-24: the checked walk names it
        at = pa.array(group)
        # attributes and resource: lazy columns, checked now (each distinct attribute list decoded once)
        a_src = attribute_source((b"".join(j for j, _ in a_joined), np.concatenate([ln for _, ln in a_joined]))
                                 if a_joined else join_raws([]), name, "attributes")
        if events:  # those records' cells are built now, with their event name
            rows = np.array([r for r, _ in events], dtype=np.int64)
            for d, (_, ev) in zip(a_src.cells(rows), events, strict=True):
                d["event.name"] = ev
        texts = _chunked(text_c)
        t_arr = pa.chunked_array(text_c, type=pa.large_string()) if text_c else pa.chunked_array([], pa.large_string())
        # a level no logger's word names, or one the record's number contradicts: kept as written in the record's
        # attributes (the checked walk's rule, severity_text_kept)
        uniq = [u for u in pc.unique(t_arr).to_pylist() if u]
        unknown = [u for u in uniq if severity_name(u) is None]
        named = {u: SEVERITY_NUMBERS[severity_name(u)] for u in uniq if severity_name(u) is not None}
        keep = np.zeros(n, dtype=bool)
        if unknown:
            keep |= pc.is_in(t_arr, value_set=pa.array(unknown, pa.large_string())).to_numpy(zero_copy_only=False)
        if named:
            nv = num.to_numpy(zero_copy_only=False)
            nv = np.where(np.isnan(nv), 0, nv).astype(np.int64) if nv.dtype.kind == "f" else nv.astype(np.int64)
            tcode = np.asarray(pc.fill_null(pc.index_in(t_arr, value_set=pa.array(list(named), pa.large_string())),
                                            -1).to_numpy(zero_copy_only=False))
            first = np.array(list(named.values()), dtype=np.int64)
            keep |= (tcode >= 0) & (nv >= 1) & (nv <= 24) & ((nv - 1) // 4 != (first[np.maximum(tcode, 0)] - 1) // 4)
        if keep.any():
            rows = np.flatnonzero(keep)
            vals = pc.take(t_arr, pa.array(rows)).to_pylist()
            for d, v in zip(a_src.cells(rows), vals, strict=True):
                d.setdefault(OTLP_SEVERITY_TEXT_ATTR, v)
        every = np.arange(n, dtype=np.int64)
        return _frame(_ns_series(t), _ns_series(obs), trace, span, _strs_taken(service, at), _strs_taken(host, at),
                      texts, pd.array(num, dtype="Int64"), _chunked(body_c),
                      pd.Series(LazyColumn(a_src, every)),
                      pd.Series(LazyColumn(SharedDictSource(resource, group, name, "resource"), every.copy())),
                      _strs_taken(["otlp"], pa.array(np.zeros(n, dtype=np.int64))),
                      _strs_taken([name], pa.array(np.zeros(n, dtype=np.int64))),
                      pd.array(np.asarray(record, dtype=np.int64)[group], dtype="Int64"))
    except (msgspec.DecodeError, msgspec.ValidationError, _Fallback, TypeError, ValueError, OverflowError,
            pa.ArrowInvalid):
        return None


def _chunked(chunks: list) -> pd.Series:
    """A string column of Arrow chunks (one per document), in one piece."""
    arr = pa.chunked_array(chunks, type=pa.large_string()).combine_chunks() if chunks else pa.array([], pa.large_string())
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([arr])))


def _strs_taken(values: list, at: pa.Array) -> pd.Series:
    """A string column of ``values[at]`` (Arrow's take: one value a group, repeated)."""
    return pd.Series(pd.arrays.ArrowStringArray(pa.array(values, type=pa.large_string()).take(at)))


def _parts(source: Any) -> list:
    if isinstance(source, (list, tuple)) and source and all(is_pathlike(x) for x in source):
        return [p for s in source for p in _parts(s)]
    if is_pathlike(source):
        from pathlib import Path

        if Path(source).is_dir():
            return list_files(Path(source)) or [source]
    return [source]


def read_logs(source: Any, *, errors: Errors = "raise") -> pd.DataFrame:
    """Read log records (OTLP logs, CloudWatch Logs output, JSON lines) into a logs frame.

    Parameters
    ----------
    source : path, list of paths, directory, file object, bytes, JSON text or parsed JSON
        The logs; files may be gzip-compressed, one JSON value, JSON lines or JSON objects one
        after another (a Firehose S3 object). See the module docstring for the formats.
    errors : {"raise", "skip"}, default "raise"
        ``"raise"``: the first bad record raises. ``"skip"``: every good record is loaded, each
        bad one is listed in ``df.attrs["skipped"]`` and one
        :class:`~tracekit.errors.TraceFormatWarning` is emitted.

    Returns
    -------
    DataFrame
        One row per log record, columns of :data:`tracekit.LOG_COLUMNS`, in file order.
        ``df.attrs["ignored"]`` lists what is not log data: trace or metric lines of a collector
        file, CloudWatch Logs subscription CONTROL_MESSAGEs, and the files of a directory no reader
        reads (``app.log``: reason ``"file not read: …"``). ``df.attrs["repeated_keys"]`` counts the OTLP
        attribute lists that gave a key twice with different values (the first value kept, one warning;
        :func:`tracekit.io.otlp.decode_attributes`).

    Raises
    ------
    TraceFormatError
        A record is not a log record or holds a bad value (named with its file and place), or
        the source holds no log record.
    ArgumentError
        ``errors`` is neither value.

    Examples
    --------
    >>> doc = {"resourceLogs": [{"resource": {"attributes": [
    ...     {"key": "service.name", "value": {"stringValue": "cart"}}]},
    ...   "scopeLogs": [{"logRecords": [{"timeUnixNano": "1544712660300000000",
    ...     "severityText": "Information", "traceId": "5B8EFFF798038103D269B633813FC60C",
    ...     "spanId": "EEE19B7EC3C1B174", "body": {"stringValue": "cart emptied"}}]}]}]}
    >>> logs = read_logs(doc)
    >>> logs.loc[0, ["service", "severity_text", "span_id", "body"]].tolist()
    ['cart', 'INFO', 'eee19b7ec3c1b174', 'cart emptied']
    """
    if errors not in ("raise", "skip"):
        from ..errors import ArgumentError

        raise ArgumentError(f"read_logs: errors must be 'raise' or 'skip', not {errors!r}")
    mixed = mixed_list_error(source)
    if mixed is not None:
        raise mixed
    with repeated_keys():  # OTLP attribute lists that give a key twice: counted, said once (close_read)
        c = _Logs(errors)
        on_bad = None if errors == "raise" else (lambda e: c.skipped.append(SkippedRecord.from_error(e)))
        pieces: list[pd.DataFrame] = []  # frames of the fast path and of the checked walk, in source order
        with gc_paused():
            for part in each_path_once(_parts(source)):
                c.unit, c.packed, c.unpacked = "line", 0, 0
                try:
                    data = _raw_bytes(part, on_bad)
                    try:
                        fast = _fast(data[1], data[0]) if data is not None else None
                    except RecursionError:  # values nested deeper than the typed decoder goes: the checked walk's turn
                        fast = None
                    if fast is not None:  # typed decode of OTLP logs (_fast); else the checked walk below
                        if len(c.body):
                            pieces.append(c.frame())  # what the checked walk read before it, in order
                            c.clear()
                        pieces.append(fast)
                        continue
                    docs = _file_documents(c, data[1], data[0], on_bad) if data is not None else \
                        iter_documents(part, on_bad, keys=CHECKED_KEYS, records=log_records)
                    for doc in docs:
                        c.value(doc.value, doc.file, doc.line, "")
                        place_repeated_key(doc.value, doc.file, doc.line, c.unit)
                except TraceFormatError as exc:
                    if errors == "raise":
                        raise
                    c.skipped.append(SkippedRecord(exc.file or (display_name(part) if is_pathlike(part) else OBJECT),
                                                   exc.record, exc.reason))
            if len(c.body) or not pieces:
                pieces.append(c.frame())
            df = concat_parts(pieces, ("attributes", "resource"))
        if not len(df) and not c.skipped:
            what = f"no log records found ({plural(len(c.ignored), 'document')} that " \
                f"{'is' if len(c.ignored) == 1 else 'are'} not log data; first: {c.ignored[0].reason})" \
                if c.ignored else "no log records found"
            err = TraceFormatError(what, file=c.ignored[0].file if c.ignored else source_name(source))
            if errors == "raise":
                raise err
            c.skipped.append(SkippedRecord.from_error(err))
        again = copies_read_again(df, ("time", "trace_id", "span_id", "severity_number", "service", "host", "body"))
        if again.any():  # a record read again from another file (overlapping exports): one record (io._copies)
            df = df[~again].reset_index(drop=True)
        df.attrs["copies_dropped"] = int(again.sum())
        # pages with a nextToken, and none without (a request's last page): the read lacks the pages after them
        cut = bool(c.pages) and not c.last_page
        df.attrs["truncated"] = cut
        if cut:
            warn_page(c.pages[0], "nextToken", "records", "read_logs")
        return close_read(df, c.skipped, c.ignored, "read_logs skipped {records}", source=source)

