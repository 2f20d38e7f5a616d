"""Writers: any canonical spans DataFrame → AWS X-Ray or OTLP/JSON.

**X-Ray** (:func:`to_xray`, :func:`xray_segment_documents`, :func:`write_xray`) writes what
``BatchGetTraces`` returns: one segment document per *segment*, as a JSON string. A span
becomes a segment when it is a ``server`` or ``consumer`` span, a root, or its parent belongs
to another service; every other span is a subsegment nested (to any depth) under its parent.
A non-segment span whose parent is not in the trace becomes an independent subsegment document
(``"type": "subsegment"`` with ``trace_id`` and ``parent_id``): X-Ray's own form for a subsegment
whose segment is sent separately. It keeps its name and kind but carries no service (the X-Ray
reader reports ``unknown_service`` for it unless that segment turns up). Times are truncated to
the microsecond (X-Ray's precision); two spans with the same id in one trace collapse into one. Mapping, as the X-Ray SDKs and the
OpenTelemetry collector's X-Ray exporter do it:

- segment ``name`` is the service (X-Ray names segments after services, so a segment's operation
  name is not kept: a reader gives ``name == service`` for segments); subsegment ``name`` is the
  span name. Times are epoch seconds as floats (exact to the microsecond).
- ``namespace`` is ``"aws"`` for AWS SDK calls (``rpc.system == "aws-api"``, or a
  ``messaging.system`` starting with ``aws``) and ``"remote"`` for other client/producer spans.
  Producer and consumer kinds cannot be expressed: a producer comes back as a client
  subsegment, a consumer as a (server) segment.
- For AWS calls X-Ray adds an **inferred segment** (``"inferred": true``, new id, ``parent_id``
  = the calling subsegment, same times, ``origin`` ``AWS::DynamoDB::Table`` or
  ``AWS::SQS::Queue``…). Its id is derived from the subsegment's id, so output is deterministic.
- ``http`` from ``http.request.method``, ``url.full`` (or scheme + ``server.address`` +
  ``url.path``), ``user_agent.original``, ``client.address`` and ``http_status``; ``aws`` from
  ``rpc.method``, ``aws.dynamodb.table_names``, ``aws.sqs.queue_url``, ``cloud.region``,
  ``http.request.resend_count`` (retries); ``sql`` from ``db.*``; ``annotations`` from
  ``annotation.<key>`` attributes and the keys named in ``indexed`` (non-alphanumeric characters
  become ``_``); every other attribute goes to ``metadata.default``.
- ``error``/``fault``/``throttle`` from the columns, and ``fault`` for a span whose status is
  ``error`` without any of them (X-Ray has no other way to say it); X-Ray has no "unset", so a
  reader gives ``ok`` for OTLP's ``unset``. ``cause.exceptions`` from ``exception`` events (else
  from ``status_message``).
- segment context from the resource: ``service.version``, ``host.name`` (as the ECS container,
  or the Lambda environment), ``cloud.region``, an ``origin`` from ``cloud.platform``.
- span links as the OTel X-Ray exporter writes them (``trace_id``, ``id``, ``attributes`` JSON-ready as metadata).

X-Ray has no field for the rest, which is not written: span events other than ``exception``
events, other resource attributes, ``trace_state`` and ``flags`` (of spans and links), a segment's operation name
(above) and the kinds producer/consumer.

**OTLP** (:func:`to_otlp`, :func:`write_otlp`) writes ExportTraceServiceRequest JSON following
the OTLP/JSON rules: lowerCamelCase keys, lower-case hex ids, 64-bit integers as decimal
strings, enums as integers, attributes as ``AnyValue`` (arrays and maps included). Spans are
grouped by resource; the scope is the resource's ``otel.scope.name``/``otel.scope.version``/
``otel.scope.attr.*`` when present (as the OTLP reader puts them), else empty. An in-progress span (no end) is written without ``endTimeUnixNano``.
What OTLP has no field for is not kept, and a reader derives it again: X-Ray's ``inferred`` segments come back as
ordinary server spans, and ``error`` / ``fault`` / ``throttle`` come back from ``http_status`` (4xx / 5xx / 429) and
the status, so X-Ray flags set without a matching HTTP status (a DynamoDB fault answered 400) are not kept. A
binary attribute keeps its value, not its type: the readers give a ``bytesValue`` as its base64 text (a str, as the
source wrote it), which is written back as that text in a ``stringValue``; a Python ``bytes`` value is written as a
``bytesValue`` (base64) and read back as that base64 text.
:func:`tracekit.write_parquet` keeps every column as it is.

>>> import tracekit as tk
>>> spans = tk.spans_from_columns({
...     "trace_id": ["5759e988bd862e3fe1be46a994272793"] * 2, "span_id": ["a" * 16, "b" * 16],
...     "parent_id": [None, "a" * 16], "service": ["shop", "shop"], "name": ["GET /", "SELECT"],
...     "kind": ["server", "client"], "start": [1_000_000_000, 1_001_000_000],
...     "end": [1_010_000_000, 1_004_000_000], "attributes": [{}, {"db.system": "postgresql"}]},
...     time_unit="ns")  # a second after the epoch: ns said, as it would look like epoch seconds
>>> doc = to_xray(spans)["Traces"][0]
>>> doc["Id"], doc["Duration"]
('1-5759e988-bd862e3fe1be46a994272793', 0.01)
>>> import json; seg = json.loads(doc["Segments"][0]["Document"])
>>> seg["name"], seg["subsegments"][0]["name"], seg["subsegments"][0]["namespace"]
('shop', 'SELECT', 'remote')
>>> span = to_otlp(spans)["resourceSpans"][0]["scopeSpans"][0]["spans"][1]
>>> span["kind"], span["startTimeUnixNano"], span["parentSpanId"]
(3, '1001000000', 'aaaaaaaaaaaaaaaa')
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import math
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from ..core.files import replaced, target_path
from ..core.frame import require_columns
from ..core.gc_pause import gc_paused
from ..core.nested import dumps, kept, map_leaves, to_text
from ..errors import ArgumentError, TraceKitError
from ..schema import COLUMN_NAMES, trace_id_to_xray
from ._sources import naming_surrogates
from .otlp import SCOPE_ATTR_PREFIX

__all__ = ["to_xray", "xray_segment_documents", "write_xray", "to_otlp", "write_otlp", "otlp_any_value", "otlp_key_values",
           "write_chunks"]

_KIND_INT = {"unspecified": 0, "internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}
_STATUS_INT = {"unset": 0, "ok": 1, "error": 2}
_ORIGINS = {"aws_lambda": "AWS::Lambda::Function", "aws_ecs": "AWS::ECS::Container", "aws_ec2": "AWS::EC2::Instance",
            "aws_eks": "AWS::EKS::Container", "aws_elastic_beanstalk": "AWS::ElasticBeanstalk::Environment"}
_AWS_ORIGIN = {"DynamoDB": "AWS::DynamoDB::Table", "SQS": "AWS::SQS::Queue", "SNS": "AWS::SNS",
               "S3": "AWS::S3::Bucket", "Lambda": "AWS::Lambda"}
# attributes consumed into the http / aws / sql blocks (not repeated in metadata)
_HTTP_KEYS = {"http.request.method", "http.method", "url.full", "http.url", "user_agent.original", "client.address",
              "http.response.status_code", "http.status_code"}
_AWS_KEYS = {"rpc.method", "aws.dynamodb.table_names", "aws.sqs.queue_url", "http.request.resend_count"}
_SQL_KEYS = {"db.system", "db.statement", "db.user", "db.name"}


def check_batch(batch: int) -> None:
    """Raise ArgumentError unless ``batch`` (records per OTLP export request) is an integer of at least 1;
    the OTLP writers of every signal (spans here, logs and metrics in tracekit.io.write_signals) share it."""
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ArgumentError(f"batch must be an integer of at least 1, got {batch!r}")


def _ns(s: pd.Series) -> list[int | None]:
    """Timestamps as int ns since the epoch (None for NaT)."""
    if s.dtype.kind == "M":
        s = s.dt.as_unit("ns")  # a µs/ms/s column's integers are not ns
    v = s.array.asi8 if hasattr(s.array, "asi8") else s.astype("int64").to_numpy()
    na = s.isna().to_numpy()
    return [None if m else int(x) for x, m in zip(v.tolist(), na, strict=False)]


def _opt(x: Any) -> Any:
    return None if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)) else x


def _cols(spans: pd.DataFrame, names: Sequence[str]) -> dict[str, list]:
    out = {}
    for c in names:
        s = spans[c]
        if c in ("start", "end"):
            out[c] = _ns(s)
        elif str(s.dtype) in ("Int64",):
            out[c] = [None if m else int(x) for x, m in zip(s.fillna(0).astype("int64").tolist(), s.isna().tolist(), strict=False)]
        elif s.dtype == object:
            out[c] = s.tolist()
        elif s.dtype == bool:
            out[c] = s.tolist()
        else:
            na = s.isna().to_numpy()
            vals = s.astype(object).tolist()
            if na.any():
                for j in np.flatnonzero(na).tolist():
                    vals[j] = None
            out[c] = vals
    return out


# ---------------------------------------------------------------------------------------------
# X-Ray

def _secs(ns: int) -> float:
    # whole microseconds → float seconds; the nearest double is < 0.25 µs away for current epochs,
    # so a reader that rounds to the microsecond gets the exact value back
    return (ns // 1000) / 1e6


def _derived_id(span_id: str, salt: bytes) -> str:
    return hashlib.blake2b(bytes.fromhex(span_id), digest_size=8, key=salt).hexdigest()


def _is_aws(attrs: dict) -> bool:
    return attrs.get("rpc.system") == "aws-api" or str(attrs.get("messaging.system", "")).startswith("aws")


def _annotation_key(k: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", k)


def _annotation_value(v: Any) -> Any:
    """An X-Ray annotation: a string, number or boolean (a number as :func:`_json_leaf` writes it), else text."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, (bool, int, float)):
        return _json_leaf(v)
    return v if isinstance(v, str) else str(v)


def _json_leaf(v: Any) -> Any:
    """One JSON leaf by the OTLP writer's rule (:func:`_any_scalar`): missing as null, bytes as base64, non-finite
    floats as text, an integer of any size as it is (one beyond 64 bits is what the file read held: tracekit's
    readers read it back exactly, though a reader that parses numbers as doubles would not), anything else JSON has no type for (a timestamp, a set) as its text."""
    t = type(v)
    if t is str or t is bool or v is None:
        return v
    if isinstance(v, np.generic):
        v = v.item()
        t = type(v)
    if t is int:  # any size, as read: tracekit's readers read an integer beyond 64 bits back exactly
        return v
    if t is float:
        return v if math.isfinite(v) else str(v)
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(bytes(v)).decode()
    if v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, int, float, str)):  # subclasses (an IntEnum, a str subclass) as their plain value
        return bool(v) if isinstance(v, bool) else int(v) if isinstance(v, int) else float(v) \
            if isinstance(v, float) else str(v)
    if isinstance(v, (dict, list, tuple)):
        return v
    return v.isoformat() if hasattr(v, "isoformat") else str(v)


def _jsonable(v: Any) -> Any:
    """A JSON-ready copy of a nested value (numpy scalars unwrapped, bytes as base64, non-finite
    floats as text, keys as text); iterative, so any depth is fine."""
    t = type(v)
    if t is str or t is bool or v is None or t is int:
        return v
    return map_leaves(v, _json_leaf, key=str)


def _count(v: Any) -> int | None:
    """A dropped-count value as an int, or None when it is not a whole non-negative number."""
    if isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, (int, np.integer)):
        return int(v) if 0 <= int(v) < 2**32 else None
    if isinstance(v, (float, np.floating)) and math.isfinite(v) and float(v).is_integer() and 0 <= v < 2**32:
        return int(v)
    if isinstance(v, str) and v.strip().isdigit() and int(v) < 2**32:
        return int(v)
    return None


def _int(v: Any, what: str, lo: int = -(2**63), hi: int = 2**63) -> int:
    """``int(v)`` for a field that must be an integer in [lo, hi); a clear error otherwise."""
    try:
        x = int(v)
        ok = not isinstance(v, (bool, np.bool_)) and float(v) == x if not isinstance(v, (int, np.integer)) else True
    except (TypeError, ValueError, OverflowError):
        x, ok = 0, False
    if not ok or not lo <= x < hi:
        raise TraceKitError(f"{what} must be an integer in [{lo}, {hi}), got {to_text(v, 80)}")
    return x


def _span_context(r: dict, writer: str):
    """Errors raised while writing one span name the span (``trace_id``/``span_id``)."""
    @contextlib.contextmanager
    def cm():
        try:
            yield
        except TraceKitError as exc:
            raise TraceKitError(f"{writer}: span {r.get('span_id')!r} of trace {r.get('trace_id')!r}: {exc}") from None
    return cm()


def _segment_header(r: dict, segment: bool) -> dict[str, Any]:
    """id, name, start and end (or in_progress) and the inferred flag of a (sub)segment for span ``r``."""
    e: dict[str, Any] = {"id": r["span_id"], "name": r["service"] if segment else r["name"],
                         "start_time": _secs(r["start"])}
    if r["end"] is None or r["in_progress"]:
        e["in_progress"] = True
    else:
        e["end_time"] = _secs(r["end"])
    if r["inferred"]:
        e["inferred"] = True
    return e

#: tracekit's own reading marks in a span's attributes (tracekit.status_from, tracekit.parent_problem,
#: tracekit.time_problem: how the reader read it): notes on the reading, not the span's data; not written to X-Ray
_OWN_MARKS = "tracekit."


def _entity(r: dict, segment: bool, indexed: frozenset[str]) -> tuple[dict, dict | None]:
    """One X-Ray (sub)segment dict for the span ``r``, and the inferred segment X-Ray would add."""
    attrs: dict = r["attributes"] or {}
    res: dict = r["resource"] or {}
    e = _segment_header(r, segment)
    kind = r["kind"]
    aws_call = False
    if not segment and kind in ("client", "producer"):
        aws_call = _is_aws(attrs)
        e["namespace"] = "aws" if aws_call else "remote"
    # http
    http: dict[str, Any] = {}
    req: dict[str, Any] = {}
    method = attrs.get("http.request.method", attrs.get("http.method"))
    if method is not None:
        req["method"] = method
    url = attrs.get("url.full", attrs.get("http.url"))
    if url is None and "url.path" in attrs and "server.address" in attrs:
        url = f"{attrs.get('url.scheme', 'http')}://{attrs['server.address']}{attrs['url.path']}"
    if url is not None:
        req["url"] = url
    if segment:
        if "user_agent.original" in attrs:
            req["user_agent"] = attrs["user_agent.original"]
        if "client.address" in attrs:
            req["client_ip"] = attrs["client.address"]
    if req:
        http["request"] = req
    if r["http_status"] is not None:
        http["response"] = {"status": _int(r["http_status"], "http_status")}
    if http:
        e["http"] = http
    # aws
    aws: dict[str, Any] = {}
    if aws_call:
        if "rpc.method" in attrs:
            aws["operation"] = attrs["rpc.method"]
        tables = attrs.get("aws.dynamodb.table_names")
        if tables is not None and len(tables):
            aws["table_name"] = str(list(tables)[0])
            aws["resource_names"] = [str(t) for t in tables]
        if "aws.sqs.queue_url" in attrs:
            aws["queue_url"] = attrs["aws.sqs.queue_url"]
        if "cloud.region" in attrs:
            aws["region"] = attrs["cloud.region"]
        retries = attrs.get("http.request.resend_count", 0)
        aws["retries"] = _count(retries) if _count(retries) is not None else _jsonable(retries)
    if segment:
        host = res.get("host.name")
        platform = res.get("cloud.platform")
        if platform in _ORIGINS:
            e["origin"] = _ORIGINS[platform]
        if platform == "aws_lambda":
            fn = res.get("faas.name", r["service"])
            region = res.get("cloud.region", "us-east-1")
            e["resource_arn"] = f"arn:aws:lambda:{region}:123456789012:function:{fn}"
            if host is not None:
                aws["lambda"] = {"function_name": fn, "instance": host}
        elif host is not None:
            aws["ecs"] = {"container": host}
        if "service.version" in res:
            e["service"] = {"version": str(res["service.version"])}
        if "cloud.region" in res:
            aws.setdefault("region", res["cloud.region"])
    if aws:
        e["aws"] = aws
    # sql
    if "db.system" in attrs or "db.statement" in attrs:
        sql: dict[str, Any] = {}
        if "db.system" in attrs:
            sql["database_type"] = attrs["db.system"]
            host = attrs.get("server.address", "localhost")
            port = attrs.get("server.port")
            sql["url"] = f"{attrs['db.system']}://{host}{':' + str(port) if port else ''}/{attrs.get('db.name', '')}"
        if "db.statement" in attrs:
            sql["sanitized_query"] = attrs["db.statement"]
        if "db.user" in attrs:
            sql["user"] = attrs["db.user"]
        e["sql"] = sql
    # errors
    if r["error"]:
        e["error"] = True
    if r["fault"]:
        e["fault"] = True
    if r["throttle"]:
        e["throttle"] = True
    if r["status"] == "error" and not (r["error"] or r["fault"] or r["throttle"]):
        e["fault"] = True  # an error status without an HTTP class: X-Ray's only way to say so (as the collector does)
    excs = [ev for ev in (r["events"] or []) if ev.get("name") == "exception"]
    if excs or ((e.get("fault") or r["error"]) and r["status_message"] is not None):
        ex_list = []
        for i, ev in enumerate(excs or [{"attributes": {"exception.message": r["status_message"]}}]):
            a = ev.get("attributes") or {}
            x = {"id": _derived_id(r["span_id"], b"exc%d" % i), "message": str(a.get("exception.message", ""))}
            if "exception.type" in a:
                x["type"] = str(a["exception.type"])
            if not segment and kind == "client":
                x["remote"] = True
            ex_list.append(x)
        e["cause"] = {"working_directory": "/app", "exceptions": ex_list}
    # annotations and metadata
    ann: dict[str, Any] = {}
    meta: dict[str, Any] = {}
    consumed = _HTTP_KEYS | (_AWS_KEYS if aws_call else set()) | (_SQL_KEYS if "sql" in e else set())
    for k, v in attrs.items():
        if k.startswith(_OWN_MARKS):
            continue
        if k.startswith("annotation."):
            ann[k[len("annotation."):]] = _annotation_value(v)
        elif k in indexed:
            ann[_annotation_key(k)] = _annotation_value(v)
        elif k not in consumed:
            try:
                meta[k] = _jsonable(v)
            except TraceKitError as exc:
                raise TraceKitError(f"attributes[{k!r}]: {exc}") from None
    if ann:
        e["annotations"] = ann
    if meta:
        e["metadata"] = {"default": meta}
    inferred = None
    if aws_call and "end_time" in e:
        svc = attrs.get("rpc.service") or ("SQS" if "sqs" in str(attrs.get("messaging.system")) else "AWS")
        inferred = {"id": _derived_id(r["span_id"], b"inferred"), "name": str(svc), "start_time": e["start_time"],
                    "end_time": e["end_time"], "parent_id": r["span_id"], "inferred": True}
        for k in ("http", "aws", "error", "fault", "throttle"):
            if k in e:
                inferred[k] = e[k]
        inferred["origin"] = _AWS_ORIGIN.get(str(svc), f"AWS::{svc}")
    return e, inferred


_STRUCTURAL = frozenset({"id", "name", "start_time", "end_time", "in_progress", "inferred", "trace_id", "parent_id",
                         "subsegments", "annotations", "metadata", "error", "fault", "throttle"})


def _set_path(d: dict, parts: Sequence[str], v: Any) -> None:
    for p in parts[:-1]:
        nxt = d.get(p)
        if not isinstance(nxt, dict):
            nxt = d[p] = {}
        d = nxt
    d.setdefault(parts[-1], v)


def _entity_from_xray(r: dict, segment: bool, indexed: frozenset[str], context: bool) -> dict:
    """A (sub)segment for a span read from X-Ray: its flattened blocks (``http.*``, ``aws.*``,
    ``sql.*``, ``metadata.<ns>``, ``annotation.*``, ``cause``, ``namespace``, ``user``…) go back
    where they came from."""
    attrs: dict = r["attributes"] or {}
    res: dict = r["resource"] or {}
    e = _segment_header(r, segment)
    ann: dict[str, Any] = {}
    meta: dict[str, Any] = {}
    for k, v in attrs.items():
        if k.startswith(_OWN_MARKS):
            continue
        try:
            v = _jsonable(v)
        except TraceKitError as exc:
            raise TraceKitError(f"attributes[{k!r}]: {exc}") from None
        head, _, rest = k.partition(".")
        if head == "annotation" and rest:
            ann[rest] = v
        elif k in indexed:
            ann[_annotation_key(k)] = _annotation_value(v)
        elif head == "metadata" and rest:
            meta[rest] = v
        elif head in ("http", "aws", "sql") and rest:
            _set_path(e, [head, *rest.split(".")], v)
        elif k == "namespace" and not segment:
            e["namespace"] = v
        elif k not in _STRUCTURAL:  # cause, user, origin, precursor_ids, traced, type, unknown SDK keys
            e[k] = v
        else:
            meta.setdefault("default", {})[k] = v
    if r["http_status"] is not None:
        _set_path(e, ["http", "response", "status"], _int(r["http_status"], "http_status"))
    if not segment and "namespace" not in e and r["kind"] in ("client", "producer"):
        e["namespace"] = "remote"
    if context:  # a segment or an independent subsegment carries its own origin / service / aws context
        for k, v in res.items():
            head, _, rest = k.partition(".")
            if k in ("origin", "resource_arn"):
                e.setdefault(k, v)
            elif k == "service" and isinstance(v, dict):
                e.setdefault("service", {})
                for sk, sv in v.items():
                    _set_path(e, ["service", sk], _jsonable(sv))
            elif head in ("service", "aws") and rest:
                _set_path(e, [head, *rest.split(".")], _jsonable(v))
    for flag in ("error", "fault", "throttle"):
        if r[flag]:
            e[flag] = True
    if "cause" not in e and (r["fault"] or r["error"]) and r["status_message"] is not None:
        e["cause"] = {"exceptions": [{"id": _derived_id(r["span_id"], b"exc0"), "message": r["status_message"]}]}
    if ann:
        e["annotations"] = ann
    if meta:
        e["metadata"] = meta
    return e


def _segment_plan(spans: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per row: is it a segment; does its parent exist in the trace."""
    tid = spans["trace_id"].astype(object).to_numpy()
    sid = spans["span_id"].astype(object).to_numpy()
    pid = spans["parent_id"].astype(object).to_numpy()
    svc = spans["service"].astype(object).to_numpy()
    kind = spans["kind"].astype(object).to_numpy()
    key = pd.Index(list(zip(tid, sid, strict=False)))
    pkey = pd.Index(list(zip(tid, pid, strict=False)))
    pos = key.get_indexer(pkey) if key.is_unique else pd.Index(key).drop_duplicates().get_indexer(pkey)
    has_parent = pd.notna(spans["parent_id"]).to_numpy()
    parent_found = has_parent & (pos >= 0)
    pserv = np.where(parent_found, svc[np.maximum(pos, 0)], None)
    segment = np.isin(kind, ["server", "consumer"]) | ~has_parent | (parent_found & (pserv != svc))
    return segment, parent_found


def xray_segment_documents(spans: pd.DataFrame, *, indexed: Iterable[str] = (), inferred: bool = True) -> list[dict]:
    """The X-Ray segment documents (dicts) of ``spans``: one per segment, with subsegments nested,
    plus independent subsegments and (with ``inferred``) the inferred segments X-Ray adds.

    Suitable for ``PutTraceSegments`` (``json.dumps`` each; drop inferred ones, which X-Ray
    makes itself: ``inferred=False``). The input is not modified.

    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({
    ...     "trace_id": ["5759e988bd862e3fe1be46a994272793"] * 2, "span_id": ["a" * 16, "b" * 16],
    ...     "parent_id": [None, "a" * 16], "service": ["cart"] * 2, "name": ["GET /cart", "DynamoDB.GetItem"],
    ...     "kind": ["server", "client"], "start": [0, 1_000_000], "end": [9_000_000, 5_000_000],
    ...     "attributes": [{}, {"rpc.system": "aws-api", "rpc.service": "DynamoDB", "rpc.method": "GetItem",
    ...                         "aws.dynamodb.table_names": ["carts"]}]})
    >>> docs = xray_segment_documents(spans)
    >>> [(d["name"], d.get("inferred", False), d.get("origin")) for d in docs]
    [('cart', False, None), ('DynamoDB', True, 'AWS::DynamoDB::Table')]
    >>> docs[0]["subsegments"][0]["aws"]
    {'operation': 'GetItem', 'table_name': 'carts', 'resource_names': ['carts'], 'retries': 0}
    """
    require_columns(spans, COLUMN_NAMES, "xray_segment_documents")
    if len(spans) == 0:
        return []
    with gc_paused():
        return _segment_documents(spans, frozenset(indexed), inferred)


def _segment_documents(spans: pd.DataFrame, indexed: frozenset[str], inferred: bool) -> list[dict]:
    segment, parent_found = _segment_plan(spans)
    order = np.lexsort((spans["start"].array.asi8, pd.factorize(spans["trace_id"])[0]))
    cols = _cols(spans, ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end",
                         "http_status", "status_message", "error", "fault", "throttle", "attributes", "resource",
                         "events", "in_progress", "inferred", "source", "status")
                + (("links",) if "links" in spans.columns else ()))
    # spans read from X-Ray already have their inferred segments: never add a second one
    has_inferred = set(zip(spans.loc[spans["inferred"], "trace_id"].astype(object),
                           spans.loc[spans["inferred"], "parent_id"].astype(object), strict=False))
    docs: list[dict] = []
    inferred_docs: list[dict] = []
    by_key: dict[tuple[str, str], dict] = {}
    pending: list[tuple[int, dict]] = []
    names = list(cols)
    xids: dict[str, str] = {}
    for i in order.tolist():
        r = {c: cols[c][i] for c in names}
        with _span_context(r, "write_xray"):
            if r["source"] == "xray":
                own = bool(segment[i] or r["inferred"])
                e, inf = _entity_from_xray(r, own, indexed, context=own or not parent_found[i]), None
            else:
                e, inf = _entity(r, bool(segment[i] or r["inferred"]), indexed)
            if inf is not None and (r["trace_id"], r["span_id"]) in has_inferred:
                inf = None
            lk = r.get("links")
            if lk is not None and len(lk):  # span links, in the shape the OTel X-Ray exporter writes
                e["links"] = _xray_links(lk)
        by_key.setdefault((r["trace_id"], r["span_id"]), e)
        xid = xids.get(r["trace_id"])
        if xid is None:
            try:
                xid = xids[r["trace_id"]] = trace_id_to_xray(r["trace_id"])
            except ValueError as exc:
                raise TraceKitError(f"span {r['span_id']!r} (row {i}): {exc}") from None
        if segment[i] or r["inferred"]:
            e["trace_id"] = xid
            if r["parent_id"] is not None:
                e["parent_id"] = r["parent_id"]
            docs.append(e)
        elif not parent_found[i]:
            e.update({"type": "subsegment", "trace_id": xid, "parent_id": r["parent_id"]})
            docs.append(e)
        else:
            pending.append((i, e))
        if inf is not None and inferred:
            inf["trace_id"] = xid
            inferred_docs.append(inf)
    for i, e in pending:  # nest subsegments under their parent (segment or subsegment)
        parent = by_key[(cols["trace_id"][i], cols["parent_id"][i])]
        parent.setdefault("subsegments", []).append(e)
    return docs + inferred_docs


def _xray_links(links: Sequence) -> list[dict]:
    """A span's links as the OTel X-Ray exporter writes them; their attributes JSON-ready as metadata is
    (:func:`_jsonable`: bytes as base64, non-finite floats as text), and a value or id that cannot be written is an
    error naming the link (a bytes attribute was a bare ``TypeError: Type is not JSON serializable`` naming no span)."""
    out = []
    for j, x in enumerate(links):
        if not (isinstance(x, dict) and x.get("trace_id") and x.get("span_id")):
            continue
        try:
            one: dict[str, Any] = {"trace_id": trace_id_to_xray(x["trace_id"]), "id": x["span_id"]}
            if x.get("attributes"):
                one["attributes"] = _jsonable(x["attributes"])
        except (TraceKitError, ValueError) as exc:
            raise TraceKitError(f"links[{j}]: {exc}") from None
        out.append(one)
    return out


def to_xray(spans: pd.DataFrame, *, indexed: Iterable[str] = (), inferred: bool = True) -> dict:
    """A BatchGetTraces response for ``spans``: ``{"Traces": [{"Id", "Duration", "Segments":
    [{"Id", "Document"}]}], "UnprocessedTraceIds": []}`` with each Document a JSON string.

    ``indexed`` names attributes written as annotations (besides ``annotation.*``).
    See the module docstring for the mapping; the input is not modified.
    """
    require_columns(spans, COLUMN_NAMES, "to_xray")
    with naming_surrogates("to_xray", spans), gc_paused():
        return _to_xray(spans, indexed, inferred)


def _to_xray(spans: pd.DataFrame, indexed: Iterable[str], inferred: bool) -> dict:
    docs = xray_segment_documents(spans, indexed=indexed, inferred=inferred)
    traces: dict[str, list[dict]] = {}
    for d in docs:
        traces.setdefault(d["trace_id"], []).append(d)
    limit = {}
    if "resource" in spans.columns and len(spans):
        for tid, res in zip(spans["trace_id"].astype(object), spans["resource"], strict=False):
            if isinstance(res, dict) and "xray.trace.LimitExceeded" in res:
                limit.setdefault(trace_id_to_xray(tid), bool(res["xray.trace.LimitExceeded"]))
    out = []
    for xid, segs in traces.items():
        starts = [d["start_time"] for d in segs]
        ends = [d["end_time"] for d in segs if "end_time" in d]
        dur = round(max(ends) - min(starts), 6) if ends else 0.0
        t: dict[str, Any] = {"Id": xid, "Duration": dur}
        if xid in limit:
            t["LimitExceeded"] = limit[xid]
        t["Segments"] = [{"Id": d["id"], "Document": dumps(d).decode("utf-8", "surrogatepass")} for d in segs]
        out.append(t)
    return {"Traces": out, "UnprocessedTraceIds": []}


def _gz_name(path: str | os.PathLike) -> bool:
    """Whether a writer gzips ``path``: its name ends in ``.gz`` in any case (``T.JSONL.GZ`` was written as plain
    text, which ``zcat`` refuses).

    >>> _gz_name("a/t.jsonl.gz"), _gz_name("T.JSON.GZ"), _gz_name("t.gzip.json")
    (True, True, False)
    """
    return Path(path).name.lower().endswith(".gz")


def _write_bytes(path: str | os.PathLike, chunks: Iterable[bytes], writer: str = "write_chunks") -> Path:
    """Write ``chunks`` to ``path`` whole or not at all (:func:`tracekit.core.files.replaced`): a writer that fails at
    a later batch (a value it cannot write) leaves the file that was there, or none, never a shorter file that reads
    as the whole (the OTLP writer left 1,200 of 1,242 spans over the 1,242 that were there). Gzip when the name ends
    in ``.gz`` (level 6: ~2x faster than 9 for ~3 % more bytes; mtime 0 so the same spans give the same bytes)."""
    p = target_path(path, writer)
    with replaced(p) as raw:
        f = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) if _gz_name(p) else raw
        try:
            for c in chunks:
                f.write(c)
        finally:
            if f is not raw:
                f.close()
    return p


def write_xray(spans: pd.DataFrame, path: str | os.PathLike, *, indexed: Iterable[str] = (),
               inferred: bool = True) -> Path:
    """Write :func:`to_xray` of ``spans`` to ``path`` (``.json``, or gzip when it ends in ``.gz``),
    pretty-printed like ``aws xray batch-get-traces``. Returns the path.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (one row per span, tracekit.schema).
    path : str | os.PathLike
        Where to write.
    indexed : Iterable[str], default ()
        Attribute keys written as X-Ray annotations (indexed, searchable) instead of metadata.
    inferred : bool, default True
        Also write the AWS-inferred segments (``inferred`` spans) as X-Ray does.

    Returns
    -------
    Path
        Write :func:`to_xray` of ``spans`` to ``path`` (``.json``, or gzip when it ends in ``.gz``), pretty-printed like ``aws xray batch-get-traces``. Returns the path.

    Examples
    --------
    >>> import tracekit as tk, tempfile, os
    >>> spans = tk.simulate.simulate("baseline", n_traces=2, seed=0).spans
    >>> p = write_xray(spans, os.path.join(tempfile.mkdtemp(), "t.json.gz"))
    >>> p.name
    't.json.gz'
    """
    require_columns(spans, COLUMN_NAMES, "write_xray")
    target_path(path, "write_xray")  # before the work, not after it
    with naming_surrogates("write_xray", spans), gc_paused():
        body = dumps(_to_xray(spans, indexed, inferred), indent=True)
    return _write_bytes(path, [body, b"\n"], "write_xray")


# ---------------------------------------------------------------------------------------------
# OTLP

def _any_scalar(v: Any) -> dict | None:
    """OTLP ``AnyValue`` of a scalar; None for a container (dict, list, tuple, array)."""
    t = type(v)
    if t is str:
        return {"stringValue": v}
    if t is bool:
        return {"boolValue": v}
    if t is int or isinstance(v, np.integer) and not isinstance(v, np.bool_):
        return {"intValue": str(int(v))}  # beyond int64: the decimal string read, which tracekit's readers read back
    if v is None or v is pd.NA:
        return {}
    if isinstance(v, (bool, np.bool_)):
        return {"boolValue": bool(v)}
    if isinstance(v, (int, np.integer)):
        return _any_scalar(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if math.isnan(f):
            return {"doubleValue": "NaN"}
        if math.isinf(f):
            return {"doubleValue": "Infinity" if f > 0 else "-Infinity"}
        return {"doubleValue": f}
    if isinstance(v, str):
        return {"stringValue": v}
    if isinstance(v, (bytes, bytearray)):
        return {"bytesValue": base64.b64encode(bytes(v)).decode()}
    if isinstance(v, (dict, list, tuple, np.ndarray)):
        return None
    return {"stringValue": str(v)}


def otlp_any_value(v: Any) -> dict:
    """Encode a Python value as an OTLP/JSON ``AnyValue`` (nested to any depth, without recursion).

    An integer outside the signed 64-bit range is written as the ``intValue`` decimal string it was read from
    (OTLP's ``intValue`` is an int64: a collector refuses it, but writing it as text or a double would change it;
    tracekit's readers read it back as the same int).

    >>> otlp_any_value(3), otlp_any_value([1.5, True]), otlp_any_value(None)
    ({'intValue': '3'}, {'arrayValue': {'values': [{'doubleValue': 1.5}, {'boolValue': True}]}}, {})
    """
    top = _any_scalar(v)
    if top is not None:
        return top
    root: dict = {}
    stack = [(v, root)]
    while stack:
        x, out = stack.pop()
        vals: list = []
        if isinstance(x, dict):
            out["kvlistValue"] = {"values": vals}
            items = [(str(k), y) for k, y in x.items()]
        else:
            out["arrayValue"] = {"values": vals}
            items = [(None, y) for y in (x.tolist() if isinstance(x, np.ndarray) else x)]
        for k, y in items:
            child = _any_scalar(y)
            if child is None:
                child = {}
                stack.append((y, child))
            vals.append(child if k is None else {"key": k, "value": child})
    return root


def _kvs(d: dict | None, where: str = "attributes") -> list[dict]:
    out = []
    for k, v in (d or {}).items():
        try:
            out.append({"key": str(k), "value": otlp_any_value(v)})
        except TraceKitError as exc:
            raise TraceKitError(f"{where}[{str(k)!r}]: {exc}") from None
    return out


def otlp_key_values(d: dict | None, where: str = "attributes") -> list[dict]:
    """OTLP/JSON ``KeyValue`` list of a dict, each value by :func:`otlp_any_value` (the one encoder of
    every writer); a value OTLP cannot carry raises TraceKitError naming ``where`` and its key.

    >>> otlp_key_values({"n": 1})
    [{'key': 'n', 'value': {'intValue': '1'}}]
    """
    return _kvs(d, where)


def write_chunks(path: str | os.PathLike, chunks: Iterable[bytes]) -> Path:
    """Write byte chunks to ``path`` (folders created), gzip when the name ends in ``.gz`` (mtime 0:
    the same chunks give the same bytes); the writers' one way to a file. Returns the path."""
    return _write_bytes(path, chunks)


def _otlp_span(r: dict) -> dict:
    sp: dict[str, Any] = {"traceId": r["trace_id"], "spanId": r["span_id"]}
    if r["trace_state"] is not None:
        sp["traceState"] = r["trace_state"]
    if r["parent_id"] is not None:
        sp["parentSpanId"] = r["parent_id"]
    if r["flags"] is not None:
        sp["flags"] = _int(r["flags"], "flags", 0, 2**32)
    sp["name"] = r["name"]
    sp["kind"] = _KIND_INT.get(r["kind"], 0)
    sp["startTimeUnixNano"] = str(r["start"])
    if r["end"] is not None and not r["in_progress"]:
        sp["endTimeUnixNano"] = str(r["end"])
    attrs = dict(r["attributes"] or {})
    # a dropped count that is not a whole number stays an ordinary attribute (read back unchanged)
    dropped = {f: _count(attrs.pop(k)) for k, f in _DROPPED.items() if k in attrs and _count(attrs[k]) is not None}
    deprecated = attrs.pop("otel.status.deprecated_code", None)
    if r["http_status"] is not None and "http.response.status_code" not in attrs and "http.status_code" not in attrs:
        attrs["http.response.status_code"] = _int(r["http_status"], "http_status")
    sp["attributes"] = _kvs(attrs)
    if "droppedAttributesCount" in dropped:
        sp["droppedAttributesCount"] = dropped["droppedAttributesCount"]
    evs = []
    for ev in r["events"] or []:
        e: dict[str, Any] = {}
        if ev.get("time") is not None:
            e["timeUnixNano"] = str(_int(ev["time"], "events[].time", -(2**63), 2**64))
        e["name"] = str(ev.get("name", ""))
        e["attributes"] = _kvs(ev.get("attributes"), "events[].attributes")
        if ev.get("dropped_attributes_count") is not None:
            e["droppedAttributesCount"] = _int(ev["dropped_attributes_count"], "events[].dropped_attributes_count", 0, 2**32)
        evs.append(e)
    if evs:
        sp["events"] = evs
    if "droppedEventsCount" in dropped:
        sp["droppedEventsCount"] = dropped["droppedEventsCount"]
    links = []
    for ln in r["links"] or []:
        lk: dict[str, Any] = {"traceId": ln.get("trace_id") or "", "spanId": ln.get("span_id") or ""}
        if ln.get("trace_state"):
            lk["traceState"] = ln["trace_state"]
        if ln.get("flags") is not None:
            lk["flags"] = _int(ln["flags"], "links[].flags", 0, 2**32)
        lk["attributes"] = _kvs(ln.get("attributes"), "links[].attributes")
        if ln.get("dropped_attributes_count") is not None:
            lk["droppedAttributesCount"] = _int(ln["dropped_attributes_count"], "links[].dropped_attributes_count", 0, 2**32)
        links.append(lk)
    if links:
        sp["links"] = links
    if "droppedLinksCount" in dropped:
        sp["droppedLinksCount"] = dropped["droppedLinksCount"]
    st: dict[str, Any] = {}
    if r["status_message"] is not None:
        st["message"] = r["status_message"]
    code = _STATUS_INT.get(r["status"], 0)
    if deprecated is not None:  # pre-2021 status: keep what was there (the reader derived the code)
        st["deprecatedCode"] = _int(deprecated, "attributes['otel.status.deprecated_code']", 0, 2**32)
        if code == 2:
            code = 0
    if code:
        st["code"] = code
    sp["status"] = st
    return sp


_DROPPED = {"otel.dropped_attributes_count": "droppedAttributesCount", "otel.dropped_events_count": "droppedEventsCount",
            "otel.dropped_links_count": "droppedLinksCount"}
def _scope_text(res: dict, key: str) -> str | None:
    """A scope name / version / schema URL as text: a string as it is, a number as its text; an
    object or list cannot be an OTLP scope field and is an error naming the key."""
    v = res.get(key)
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, (bool, int, float, np.generic)):
        return str(v.item() if isinstance(v, np.generic) else v)
    raise TraceKitError(f"resource[{key!r}] is a {type(v).__name__} ({to_text(v, 80)}); an OTLP scope "
                        f"{key.rsplit('.', 1)[-1].replace('_', ' ')} is a string: convert it (e.g. with str) before writing")


_RES_SPECIAL = ("otel.schema_url", "otel.resource.dropped_attributes_count", "otel.resource.entity_refs")

_OTLP_COLS = ("trace_id", "span_id", "parent_id", "trace_state", "flags", "name", "kind", "start", "end",
              "in_progress", "attributes", "events", "links", "status", "status_message", "http_status",
              "service", "resource")


def _otlp_request(cols: dict[str, list], rows: Iterable[int]) -> dict:
    groups: dict[Any, tuple[dict, dict[tuple, list]]] = {}
    key_cache: dict[Any, Any] = {}
    for i in rows:
        res = cols["resource"][i] or {}
        svc = cols["service"][i]
        k = key_cache.get(id(res))
        if k is None:
            k = key_cache[id(res)] = kept(dumps(_jsonable(res), sort_keys=True))
        gk = (svc, k)
        g = groups.get(gk)
        if g is None:
            rattrs = {a: v for a, v in res.items() if not a.startswith("otel.scope.") and a not in _RES_SPECIAL}
            if "service.name" in rattrs or svc != "unknown_service":  # the reader's name for "no service.name"
                rattrs["service.name"] = svc
            g = groups[gk] = (rattrs, {}, res)
        scope = key_cache.get(("scope", id(res)))
        if scope is None:
            sattrs = tuple((a[len(SCOPE_ATTR_PREFIX):], v) for a, v in res.items() if a.startswith(SCOPE_ATTR_PREFIX))
            r = {c: cols[c][i] for c in _OTLP_COLS}
            with _span_context(r, "write_otlp"):
                scope = key_cache[("scope", id(res))] = (
                    _scope_text(res, "otel.scope.name"), _scope_text(res, "otel.scope.version"),
                    dumps(_jsonable(dict(sattrs))) if sattrs else b"",
                    None if res.get("otel.scope.dropped_attributes_count") is None
                    else _int(res["otel.scope.dropped_attributes_count"], "resource['otel.scope.dropped_attributes_count']", 0, 2**32),
                    _scope_text(res, "otel.scope.schema_url"))
        r = {c: cols[c][i] for c in _OTLP_COLS}
        with _span_context(r, "write_otlp"):
            g[1].setdefault(scope, []).append(_otlp_span(r))
    out = []
    for rattrs, scopes, res in groups.values():
        ss = []
        for (name, version, sattrs, sdropped, sschema), spans in scopes.items():
            scope: dict[str, Any] = {}
            if name is not None:
                scope["name"] = str(name)
            if version is not None:
                scope["version"] = str(version)
            if sattrs:
                scope["attributes"] = _kvs(orjson.loads(sattrs))
            if sdropped is not None:
                scope["droppedAttributesCount"] = sdropped
            one: dict[str, Any] = {"scope": scope, "spans": spans}
            if sschema is not None:
                one["schemaUrl"] = str(sschema)
            ss.append(one)
        resource: dict[str, Any] = {"attributes": _kvs(rattrs)}
        if res.get("otel.resource.dropped_attributes_count") is not None:
            resource["droppedAttributesCount"] = _int(res["otel.resource.dropped_attributes_count"],
                                                      "resource['otel.resource.dropped_attributes_count']", 0, 2**32)
        if res.get("otel.resource.entity_refs") is not None:
            resource["entityRefs"] = _jsonable(res["otel.resource.entity_refs"])
        rs: dict[str, Any] = {"resource": resource, "scopeSpans": ss}
        if res.get("otel.schema_url") is not None:
            rs["schemaUrl"] = _scope_text(res, "otel.schema_url")
        out.append(rs)
    return {"resourceSpans": out}


def to_otlp(spans: pd.DataFrame) -> dict:
    """One OTLP ExportTraceServiceRequest (``{"resourceSpans": [...]}``) holding every span,
    grouped by service and resource. The input is not modified."""
    require_columns(spans, COLUMN_NAMES, "to_otlp")
    with gc_paused():
        cols = _cols(spans, _OTLP_COLS)
        return _otlp_request(cols, range(len(spans)))


def write_otlp(spans: pd.DataFrame, path: str | os.PathLike, *, lines: bool = True, batch: int = 512) -> Path:
    """Write ``spans`` as OTLP/JSON to ``path``; gzip when the name ends in ``.gz``.

    ``lines=True`` writes what the collector's file exporter writes: JSON lines, one
    ExportTraceServiceRequest per line, each with at most ``batch`` spans (in row order, so a
    trace may span lines). ``lines=False`` writes one request. Returns the path.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (one row per span, tracekit.schema).
    path : str | os.PathLike
        Where to write.
    lines : bool, default True
        Collector JSON lines, one ``TracesData`` per line (``False``: one JSON document).
    batch : int, default 512
        Spans per line (``TracesData``) with ``lines=True``; at least 1.

    Returns
    -------
    Path
        Write ``spans`` as OTLP/JSON to ``path``; gzip when the name ends in ``.gz``.

    Examples
    --------
    >>> import tracekit as tk, tempfile, os, json
    >>> spans = tk.simulate.simulate("baseline", n_traces=3, seed=0).spans
    >>> p = write_otlp(spans, os.path.join(tempfile.mkdtemp(), "t.jsonl"), batch=10)
    >>> lines = p.read_text().splitlines()
    >>> len(lines) == -(-len(spans) // 10)
    True
    """
    require_columns(spans, COLUMN_NAMES, "write_otlp")
    check_batch(batch)
    target_path(path, "write_otlp")
    with naming_surrogates("write_otlp", spans), gc_paused():
        cols = _cols(spans, _OTLP_COLS)
        n = len(spans)
        if not lines:
            return _write_bytes(path, [dumps(_otlp_request(cols, range(n))), b"\n"], "write_otlp")
        return _write_bytes(path, (dumps(_otlp_request(cols, range(a, min(a + batch, n)))) + b"\n"
                                   for a in range(0, n, batch)), "write_otlp")
