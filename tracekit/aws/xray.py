"""Live AWS X-Ray: fetch traces, trace summaries, sampling statistics and tracing coverage with boto3.

Layer 2: talks to AWS and hands the raw ``BatchGetTraces`` responses to :func:`tracekit.read_xray`.
Needs the ``aws`` extra (boto3, tqdm); ``import tracekit`` never imports boto3.

How a fetch runs (:func:`fetch_xray`):

1. ``GetTraceSummaries`` is paged (botocore paginator, ``NextToken``) over the time range, cut into
   windows of at most ``window`` (default 6 h), so a long range becomes several smaller, separately paged queries.
2. Trace ids are de-duplicated (a trace can be listed in two windows) and cut at ``max_traces``.
3. ``BatchGetTraces`` runs in chunks of at most 5 ids (the API maximum), following ``NextToken``, on a
   bounded thread pool sharing **one** client (boto3 clients are thread-safe, sessions are not).
   ``UnprocessedTraceIds`` are asked again a bounded number of times with exponential backoff; throttling
   is retried by botocore itself (``Config(retries={"mode": "adaptive"})``, client-side rate limiting).
4. With ``cache_dir`` every raw response is written to disk as it arrives (temp file + rename, so a file
   is either complete or absent). A second call with the same query resumes: ids already in the cache
   are not asked again. ``tk.read_xray(cache_dir)`` loads the cache offline.

Cache layout::

    cache_dir/
      batch-<run>-<chunk>-a<attempt>-p<page>.json     raw BatchGetTraces responses (what read_xray reads)
      summaries/w<window>-p<page>.summary            raw GetTraceSummaries pages (JSON; suffix keeps readers off)
      fetch-manifest.tracekit                        JSON: what was asked, what came back, each run

The manifest and the summary pages have suffixes that ``tracekit.io`` directory listings skip, so the
directory reads as X-Ray data and nothing else. Credentials are never printed, logged or written: the
cache holds response bodies only, and every error message is scrubbed of the client's key id, secret
and session token.

>>> from tracekit.aws.xray import time_windows
>>> [(a.isoformat(), b.isoformat()) for a, b in time_windows("2026-11-20T09:00Z", "2026-11-20T21:00Z", window="6h")]
[('2026-11-20T09:00:00+00:00', '2026-11-20T15:00:00+00:00'), ('2026-11-20T15:00:00+00:00', '2026-11-20T21:00:00+00:00')]
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from ..errors import TraceFormatError, TraceKitError, require
from ..schema import xray_to_trace_id

__all__ = [
    "fetch_xray",
    "fetch_xray_summaries",
    "fetch_xray_sampling",
    "xray_coverage_audit",
    "time_windows",
    "SamplingInfo",
    "XRayFetchError",
    "XRayAuthError",
    "XRayPermissionError",
    "XRayRegionError",
    "XRayThrottledError",
    "XRayConnectionError",
    "XRayRequestError",
    "MANIFEST_NAME",
    "IAM_PERMISSIONS",
]

MANIFEST_NAME = "fetch-manifest.tracekit"
BATCH_MAX_IDS = 5  # API_BatchGetTraces: "TraceIds ... Maximum number of 5 items" (botocore does not enforce it)

# Query windows. The GetTraceSummaries API reference
# (https://docs.aws.amazon.com/xray/latest/api/API_GetTraceSummaries.html, read via the docs search) documents
# StartTime/EndTime as "Unix time seconds" with no stated maximum range, and FORMATS.md §1.3 lists the maximum
# window as not verified; X-Ray keeps trace data 30 days. We found no AWS page stating an API limit, so the
# 6 h default is our conservative choice, not a documented limit (change it with ``window=``); smaller windows
# also mean smaller units to resume from and the first page of each is "closest to the end of the time frame".
DEFAULT_WINDOW = pd.Timedelta(hours=6)

# IAM actions each public function calls (README "IAM permissions").
IAM_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "fetch_xray": ("xray:GetTraceSummaries", "xray:BatchGetTraces"),
    "fetch_xray_summaries": ("xray:GetTraceSummaries",),
    "fetch_xray_sampling": ("xray:GetSamplingRules", "xray:GetSamplingStatisticSummaries"),
    "xray_coverage_audit": (
        "lambda:ListFunctions",
        "ecs:ListTaskDefinitions",
        "ecs:DescribeTaskDefinition",
        "apigateway:GET",
        "xray:GetGroups",
    ),
}


# --------------------------------------------------------------------------------------------- errors


class XRayFetchError(TraceKitError):
    """A call to AWS failed. ``code`` is the AWS error code (if any), ``operation`` the API called."""

    def __init__(self, message: str, *, code: str | None = None, operation: str | None = None):
        self.code = code
        self.operation = operation
        super().__init__(message)


class XRayAuthError(XRayFetchError):
    """Credentials are missing, invalid or expired."""


class XRayPermissionError(XRayFetchError):
    """The credentials work but lack an IAM permission."""


class XRayRegionError(XRayFetchError):
    """No region, or a region botocore does not know."""


class XRayThrottledError(XRayFetchError):
    """Still throttled after botocore's retries."""


class XRayConnectionError(XRayFetchError):
    """The endpoint could not be reached."""


class XRayRequestError(XRayFetchError):
    """AWS rejected the request (e.g. an invalid filter expression or time range)."""


_AUTH_CODES = {
    "ExpiredTokenException", "ExpiredToken", "InvalidClientTokenId", "UnrecognizedClientException",
    "InvalidSignatureException", "SignatureDoesNotMatch", "IncompleteSignature", "MissingAuthenticationToken",
    "InvalidAccessKeyId", "RequestExpired", "AuthFailure",
}
_PERMISSION_CODES = {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "Forbidden"}
_THROTTLE_CODES = {"ThrottlingException", "ThrottledException", "Throttling", "TooManyRequestsException",
                   "RequestLimitExceeded", "SlowDown"}
_KEY_RE = re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}\b")
_OP_ACTIONS = {
    "GetTraceSummaries": "xray:GetTraceSummaries", "BatchGetTraces": "xray:BatchGetTraces",
    "GetSamplingRules": "xray:GetSamplingRules",
    "GetSamplingStatisticSummaries": "xray:GetSamplingStatisticSummaries", "GetGroups": "xray:GetGroups",
    "ListFunctions": "lambda:ListFunctions", "ListTaskDefinitions": "ecs:ListTaskDefinitions",
    "DescribeTaskDefinition": "ecs:DescribeTaskDefinition", "GetRestApis": "apigateway:GET",
    "GetStages": "apigateway:GET",
}


def _secrets_of(client: Any) -> list[str]:
    """The client's own credential strings, only to scrub them from messages (never stored)."""
    try:
        creds = client._request_signer._credentials  # noqa: SLF001 - read-only, for redaction
        frozen = creds.get_frozen_credentials() if creds is not None else None
    except Exception:  # pragma: no cover - anything odd: fall back to the pattern
        return []
    if frozen is None:
        return []
    return [s for s in (frozen.access_key, frozen.secret_key, frozen.token) if s and len(s) >= 4]


def _scrub(text: str, secrets: Iterable[str] = ()) -> str:
    for s in secrets:
        text = text.replace(s, "***")
    text = re.sub(r"(X-Amz-Security-Token|Credential|Signature)=[^\s,&'\"]+", r"\1=***", text)
    return _KEY_RE.sub("***", text)


def _translate(exc: BaseException, *, client: Any = None, operation: str | None = None,
               cache_dir: Path | None = None, region: str | None = None) -> TraceKitError:
    """Turn a botocore exception into a tracekit error whose message says what to do, credentials scrubbed."""
    import botocore.exceptions as bex

    secrets = _secrets_of(client) if client is not None else []
    kept = (f" What was fetched so far is in {str(cache_dir)!r}; call again with the same cache_dir to resume."
            if cache_dir is not None else "")
    if isinstance(exc, bex.ClientError):
        err = exc.response.get("Error", {}) if isinstance(exc.response, dict) else {}
        code = str(err.get("Code") or "Unknown")
        msg = _scrub(str(err.get("Message") or ""), secrets)
        op = operation or getattr(exc, "operation_name", None) or "?"
        if code in _AUTH_CODES:
            cls, hint = XRayAuthError, ("the AWS credentials are expired or invalid; refresh them "
                                        "(e.g. `aws sso login`, new session token) and retry.")
        elif code in _PERMISSION_CODES:
            cls, hint = XRayPermissionError, (f"the credentials lack permission "
                                              f"{_OP_ACTIONS.get(op, op)!r}; see tracekit.aws.xray.IAM_PERMISSIONS.")
        elif code in _THROTTLE_CODES:
            cls, hint = XRayThrottledError, ("still throttled after botocore's adaptive retries; "
                                             "lower max_workers or raise max_attempts.")
        elif code in {"InvalidRequestException", "ValidationException", "InvalidParameterException"}:
            cls, hint = XRayRequestError, "AWS rejected the request parameters."
        else:
            cls, hint = XRayFetchError, "AWS returned an error."
        return cls(f"{op} failed with {code}: {msg} -- {hint}{kept}", code=code, operation=op)
    if isinstance(exc, bex.NoCredentialsError):
        return XRayAuthError("no AWS credentials found (environment, profile, SSO or instance role); "
                             f"configure them and retry.{kept}", code="NoCredentials", operation=operation)
    if isinstance(exc, bex.NoRegionError):
        return XRayRegionError("no AWS region given: pass region= (or set AWS_REGION / a profile region).",
                               code="NoRegion", operation=operation)
    if isinstance(exc, (bex.EndpointConnectionError, bex.ConnectTimeoutError, bex.ReadTimeoutError)):
        where = _scrub(str(getattr(exc, "kwargs", {}).get("endpoint_url") or exc), secrets)
        return XRayConnectionError(f"could not reach the X-Ray endpoint ({where}) in region {region!r}; check the "
                                   f"region and the network.{kept}", code=type(exc).__name__, operation=operation)
    return XRayFetchError(f"{operation or 'AWS call'} failed: {_scrub(str(exc), secrets)}{kept}",
                          code=type(exc).__name__, operation=operation)


# --------------------------------------------------------------------------------------------- clients

_REGION_RE = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")


def _known_regions(service: str) -> set[str]:
    import botocore.session

    s = botocore.session.get_session()
    out: set[str] = set()
    for part in s.get_available_partitions():
        out.update(s.get_available_regions(service, partition_name=part))
    return out


def _check_region(region: str | None, service: str, endpoint_url: str | None) -> None:
    if region is None:
        return
    if not _REGION_RE.match(region):
        raise XRayRegionError(f"{region!r} is not an AWS region name (expected e.g. 'eu-west-1').", code="BadRegion")
    if endpoint_url is None:
        known = _known_regions(service)
        if region not in known:
            import difflib

            close = difflib.get_close_matches(region, sorted(known), n=3)
            raise XRayRegionError(
                f"unknown region {region!r}: {service} has no endpoint there in this botocore"
                + (f" (did you mean {', '.join(close)}?)" if close else "")
                + "; for a brand-new region pass endpoint_url= explicitly.", code="UnknownRegion")


def _make_client(service: str, *, client: Any = None, session: Any = None, region: str | None = None,
                 profile: str | None = None, endpoint_url: str | None = None, max_attempts: int = 8,
                 pool: int = 10) -> Any:
    """A boto3 client: the one given, or one from ``session`` / a new session (region/profile)."""
    if client is not None:
        return client
    boto3 = require("boto3", "aws")
    from botocore.config import Config

    _check_region(region, service, endpoint_url)
    if session is None:
        session = boto3.session.Session(profile_name=profile, region_name=region) if profile else boto3.session.Session(
            region_name=region)
    cfg = Config(retries={"mode": "adaptive", "max_attempts": max_attempts}, max_pool_connections=max(pool, 10),
                 user_agent_extra="tracekit")
    import botocore.exceptions as bex

    try:
        return session.client(service, region_name=region, endpoint_url=endpoint_url, config=cfg)
    except bex.NoRegionError as exc:
        raise _translate(exc) from None


def _safe_url(url: str | None) -> str | None:
    """An endpoint URL without any user:password part, fit for the manifest and attrs."""
    if not url:
        return url
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _region_of(client: Any) -> str | None:
    try:
        return client.meta.region_name
    except AttributeError:  # pragma: no cover
        return None


# --------------------------------------------------------------------------------------------- time


def _to_utc(t: Any, name: str) -> pd.Timestamp:
    if t is None:
        raise TraceKitError(f"{name} is required (a datetime, pandas Timestamp, ISO string or epoch seconds)")
    try:
        if isinstance(t, (int, float)) and not isinstance(t, bool):
            ts = pd.Timestamp(float(t), unit="s")
        else:
            ts = pd.Timestamp(t)
    except (ValueError, TypeError) as exc:
        raise TraceKitError(f"{name}={t!r} is not a time: {exc}") from None
    if ts is pd.NaT:
        raise TraceKitError(f"{name} is NaT")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _to_delta(w: Any) -> pd.Timedelta:
    d = pd.Timedelta(w)
    if d <= pd.Timedelta(0):
        raise TraceKitError(f"window must be positive, got {w!r}")
    return d


def time_windows(start: Any, end: Any, *, window: Any = DEFAULT_WINDOW) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Cut ``[start, end)`` into consecutive windows of at most ``window`` (naive times are UTC).

    >>> len(time_windows("2026-11-20T00:00Z", "2026-11-20T13:00Z", window="6h"))
    3
    >>> time_windows("2026-11-20T00:00Z", "2026-11-20T00:10Z")[0][1].isoformat()
    '2026-11-20T00:10:00+00:00'
    """
    s, e, w = _to_utc(start, "start"), _to_utc(end, "end"), _to_delta(window)
    if e <= s:
        raise TraceKitError(f"end ({e.isoformat()}) must be after start ({s.isoformat()})")
    out = []
    while s < e:
        nxt = min(s + w, e)
        out.append((s, nxt))
        s = nxt
    return out


# --------------------------------------------------------------------------------------------- cache


def _jsonable(x: Any) -> Any:
    """Response → plain JSON: datetimes as epoch seconds (as on the wire), no ResponseMetadata."""
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items() if k != "ResponseMetadata"}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, _dt.datetime):
        return x.timestamp()
    return x


def _atomic_write(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Write to a temp file in the same directory, then rename: a reader (or a resumed fetch after an
    interrupted one) sees the whole file or none. ``durable`` also fsyncs (survives a power cut); pages
    skip it because fsync per page made a cached fetch ~4x slower in bench_xray_live.py."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _dump(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_INDENT_2)


def _batch_files(cache_dir: Path) -> list[Path]:
    return sorted(cache_dir.glob("batch-*.json"))


def _cached_trace_ids(cache_dir: Path) -> set[str]:
    """Trace ids present in the cached BatchGetTraces pages (the truth for resuming)."""
    ids: set[str] = set()
    for f in _batch_files(cache_dir):
        try:
            page = orjson.loads(f.read_bytes())
        except orjson.JSONDecodeError:  # cannot happen with atomic writes; be safe: re-fetch
            continue
        for t in page.get("Traces") or []:
            if isinstance(t, dict) and t.get("Id"):
                ids.add(t["Id"])
    return ids


def _read_manifest(cache_dir: Path) -> dict | None:
    p = cache_dir / MANIFEST_NAME
    if not p.exists():
        return None
    try:
        return orjson.loads(p.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise TraceFormatError(f"fetch manifest is not JSON ({exc}); delete it to start over",
                               file=str(p)) from None


def _check_page(page: dict, file: str) -> int:
    """Validate a BatchGetTraces page as it arrives; return its segment count."""
    traces = page.get("Traces")
    if traces is None:
        traces = []
    if not isinstance(traces, list):
        raise TraceFormatError("Traces is not a list", file=file, record="Traces")
    n = 0
    for i, t in enumerate(traces):
        segs = t.get("Segments") if isinstance(t, dict) else None
        if not isinstance(segs, list):
            raise TraceFormatError("trace has no Segments list", file=file, record=f"Traces[{i}]")
        for j, s in enumerate(segs):
            rec = f"Traces[{i}].Segments[{j}].Document"
            doc = s.get("Document") if isinstance(s, dict) else None
            if not isinstance(doc, str):
                raise TraceFormatError("Document is missing or not a JSON string", file=file, record=rec)
            try:
                val = orjson.loads(doc)
            except orjson.JSONDecodeError as exc:
                raise TraceFormatError(f"Document is not valid JSON ({exc})", file=file, record=rec) from None
            if not isinstance(val, dict):
                raise TraceFormatError(f"Document is a JSON {type(val).__name__}, not an object", file=file,
                                       record=rec)
            n += 1
    return n


# --------------------------------------------------------------------------------------------- summaries


TIME_RANGE_TYPES = ("TraceId", "Event", "Service")
_XRAY_ID_RE = re.compile(r"^1-[0-9a-f]{8}-[0-9a-f]{24}$")


def _xray_ids(trace_ids: Iterable[str] | str) -> list[str]:
    """X-Ray ids from X-Ray (``1-…-…``) or 32-hex (OTel / spans frame) ids, in order, once each."""
    from ..schema import trace_id_to_xray

    if isinstance(trace_ids, str):
        trace_ids = [trace_ids]
    out: list[str] = []
    for t in trace_ids:
        x = str(t).strip().lower()
        if re.fullmatch(r"[0-9a-f]{32}", x):
            x = trace_id_to_xray(x)
        if not _XRAY_ID_RE.match(x):
            raise TraceKitError(f"{t!r} is not an X-Ray trace id (1-5759e988-bd862e3fe1be46a994272793) "
                                "or a 32-hex trace id")
        out.append(x)
    return list(dict.fromkeys(out))


def _check_query(filter_expression: str | None, time_range_type: str | None) -> str | None:
    """Validate before any request; an empty or blank filter means no filter."""
    if time_range_type is not None and time_range_type not in TIME_RANGE_TYPES:
        raise TraceKitError(f"time_range_type must be one of {', '.join(TIME_RANGE_TYPES)}, not {time_range_type!r}")
    if filter_expression is not None and not isinstance(filter_expression, str):
        raise TraceKitError(f"filter_expression must be a string, not {type(filter_expression).__name__}")
    return filter_expression if filter_expression and filter_expression.strip() else None


def _summary_kwargs(s: pd.Timestamp, e: pd.Timestamp, *, filter_expression: str | None,
                    time_range_type: str | None, sampling: bool | None,
                    sampling_strategy: Mapping[str, Any] | None) -> dict[str, Any]:
    kw: dict[str, Any] = {"StartTime": s.to_pydatetime(warn=False), "EndTime": e.to_pydatetime(warn=False)}
    if time_range_type is not None:
        kw["TimeRangeType"] = time_range_type
    if sampling is not None:
        kw["Sampling"] = bool(sampling)
    if sampling_strategy is not None:
        kw["SamplingStrategy"] = dict(sampling_strategy)
    if filter_expression is not None:  # never send FilterExpression unless asked (moto rejects even "")
        kw["FilterExpression"] = filter_expression
    return kw


def _iter_summary_pages(client: Any, windows: list[tuple[pd.Timestamp, pd.Timestamp]], *,
                        cache_dir: Path | None, **query: Any) -> Iterator[tuple[int, int, dict]]:
    """(window index, page index, raw page) for every GetTraceSummaries page, each cached as it arrives."""
    paginator = client.get_paginator("get_trace_summaries")
    for wi, (s, e) in enumerate(windows):
        kw = _summary_kwargs(s, e, **query)
        for pi, page in enumerate(paginator.paginate(**kw)):
            raw = _jsonable(page)
            if cache_dir is not None:
                _atomic_write(cache_dir / "summaries" / f"w{wi:03d}-p{pi:04d}.summary", _dump(raw))
            yield wi, pi, raw


# --------------------------------------------------------------------------------------------- fetch


@dataclass
class _Run:
    """Mutable bookkeeping of one fetch (internal; the public record is a plain dict in spans.attrs)."""

    pages: list[dict] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    fetched: set[str] = field(default_factory=set)
    unprocessed: set[str] = field(default_factory=set)
    segments: int = 0
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _chunks(ids: list[str], n: int) -> list[list[str]]:
    return [ids[i:i + n] for i in range(0, len(ids), n)]


def fetch_xray(start: Any = None, end: Any = None, *, trace_ids: Iterable[str] | None = None,
               filter_expression: str | None = None, time_range_type: str | None = None,
               sampling: bool | None = None, sampling_strategy: Mapping[str, Any] | None = None,
               window: Any = DEFAULT_WINDOW, max_traces: int | None = None,
               client: Any = None, session: Any = None, region: str | None = None, profile: str | None = None,
               endpoint_url: str | None = None, cache_dir: str | os.PathLike | None = None,
               max_workers: int = 4, max_attempts: int = 8, unprocessed_retries: int = 3,
               backoff: float = 0.5, progress: bool = True, sleep: Any = time.sleep) -> pd.DataFrame:
    """Fetch every trace of a time range (or the given ``trace_ids``) from X-Ray into a spans DataFrame.

    Parameters: ``start``/``end`` (datetime, Timestamp, ISO string or epoch seconds; naive = UTC) and the
    ``GetTraceSummaries`` options ``filter_expression``, ``time_range_type`` ("TraceId" | "Event" |
    "Service"), ``sampling``, ``sampling_strategy``; ``window`` splits long ranges; ``max_traces`` caps
    the number of traces. AWS access: an injected boto3 ``client`` (used as is), or a ``session``, or
    ``region``/``profile`` (+ ``endpoint_url``); made clients use adaptive retries with ``max_attempts``.
    ``cache_dir`` keeps every raw response and makes the fetch resumable. ``max_workers`` bounds the
    parallel ``BatchGetTraces`` calls; ``unprocessed_retries``/``backoff`` bound the re-asking of
    ``UnprocessedTraceIds`` (``sleep`` is the function that waits; tests pass a recorder).

    Returns the spans of :func:`tracekit.read_xray`; ``spans.attrs["xray_fetch"]`` records what was asked
    (time range, filter, region, windows) and what came back (trace ids asked/fetched/unprocessed/missing,
    segment and request counts, cache files).

    With a boto3 client whose answers are stubbed (a real one would call AWS):

    >>> import boto3
    >>> from botocore.stub import Stubber
    >>> from tracekit.aws.xray import fetch_xray
    >>> client = boto3.client("xray", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    >>> tid = "1-5759e988-bd862e3fe1be46a994272793"
    >>> doc = ('{"id": "53995c3f42cd8ad8", "name": "checkout", "trace_id": "%s", '
    ...        '"start_time": 1700000000.5, "end_time": 1700000000.75}' % tid)
    >>> with Stubber(client) as stub:
    ...     stub.add_response("batch_get_traces", {"Traces": [{"Id": tid, "Segments": [
    ...         {"Id": "53995c3f42cd8ad8", "Document": doc}]}]}, {"TraceIds": [tid]})
    ...     spans = fetch_xray(trace_ids=[tid], client=client, progress=False)
    >>> spans[["trace_id", "service", "duration_ms"]].values.tolist()
    [['5759e988bd862e3fe1be46a994272793', 'checkout', 250.0]]
    >>> spans.attrs["xray_fetch"]["got"]["traces"]
    1

    Bad arguments fail before any request:

    >>> fetch_xray("2026-11-20T10:00Z", "2026-11-20T09:00Z", client=client)
    Traceback (most recent call last):
    ...
    tracekit.errors.TraceKitError: end (2026-11-20T09:00:00+00:00) must be after start (2026-11-20T10:00:00+00:00)
    """
    if trace_ids is None:
        windows = time_windows(start, end, window=window)
    else:
        windows = []
        trace_ids = _xray_ids(trace_ids)
    filter_expression = _check_query(filter_expression, time_range_type)
    if max_traces is not None and max_traces < 0:
        raise TraceKitError(f"max_traces must be >= 0, got {max_traces}")
    if max_workers < 1:
        raise TraceKitError(f"max_workers must be >= 1, got {max_workers}")
    client = _make_client("xray", client=client, session=session, region=region, profile=profile,
                          endpoint_url=endpoint_url, max_attempts=max_attempts, pool=max_workers)
    region = region or _region_of(client)
    cdir = Path(cache_dir) if cache_dir is not None else None
    query = {
        "start": windows[0][0].isoformat() if windows else None,
        "end": windows[-1][1].isoformat() if windows else None,
        "filter_expression": filter_expression, "time_range_type": time_range_type, "sampling": sampling,
        "sampling_strategy": dict(sampling_strategy) if sampling_strategy else None,
        "window_seconds": _to_delta(window).total_seconds() if windows else None,
        "trace_ids": sorted(set(trace_ids)) if trace_ids is not None else None,
        "max_traces": max_traces, "region": region, "endpoint_url": _safe_url(endpoint_url),
    }
    manifest: dict[str, Any] = {"tracekit_fetch": 1, "query": query, "runs": [], "summaries_complete": False,
                                "trace_ids": []}
    if cdir is not None:
        cdir.mkdir(parents=True, exist_ok=True)
        old = _read_manifest(cdir)
        if old is not None:
            if old.get("query") != query:
                raise TraceKitError(
                    f"{str(cdir)!r} holds a different fetch (asked {old.get('query')}); give another cache_dir "
                    "so one directory always holds one query")
            manifest = old
    runstamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    run_rec = {"started": runstamp, "status": "running"}
    manifest["runs"].append(run_rec)

    def save_manifest(**extra: Any) -> None:
        if cdir is not None:
            manifest.update(extra)
            _atomic_write(cdir / MANIFEST_NAME, _dump(manifest), durable=True)

    run = _Run()
    summaries = 0
    try:
        save_manifest()
        # 1. which traces
        if trace_ids is not None:
            ids = list(dict.fromkeys(trace_ids))
        elif manifest.get("summaries_complete"):
            ids = list(manifest["trace_ids"])
        else:
            ids = []
            seen: set[str] = set()
            for _wi, _pi, page in _iter_summary_pages(
                    client, windows, cache_dir=cdir, filter_expression=filter_expression,
                    time_range_type=time_range_type, sampling=sampling, sampling_strategy=sampling_strategy):
                run.requests += 1
                for ts in page.get("TraceSummaries") or []:
                    summaries += 1
                    tid = ts.get("Id")
                    if tid and tid not in seen:
                        seen.add(tid)
                        ids.append(tid)
                if max_traces is not None and len(ids) >= max_traces:
                    break
            save_manifest(summaries_complete=True, trace_ids=ids)
        if max_traces is not None:
            ids = ids[:max_traces]
        done = _cached_trace_ids(cdir) if cdir is not None else set()
        todo = [i for i in ids if i not in done]
        run.fetched |= done & set(ids)

        # 2. the traces, ≤5 per call, bounded parallelism, one shared client
        bar = None
        if progress and todo:
            tqdm = require("tqdm.auto", "aws").tqdm
            bar = tqdm(total=len(todo), desc="X-Ray traces", unit="trace")

        def one_chunk(ci_chunk: tuple[int, list[str]]) -> None:
            ci, chunk = ci_chunk
            wanted = set(chunk)
            pending = list(chunk)
            attempt = 0
            while pending:
                unprocessed: list[str] = []
                paginator = client.get_paginator("batch_get_traces")
                for pi, page in enumerate(paginator.paginate(TraceIds=pending)):
                    raw = _jsonable(page)
                    name = f"batch-{runstamp}-{ci:05d}-a{attempt}-p{pi:03d}.json"
                    if cdir is not None:  # keep first, validate second: the evidence is never lost
                        _atomic_write(cdir / name, _dump(raw))
                    nseg = _check_page(raw, str(cdir / name) if cdir is not None else name)
                    got = {t.get("Id") for t in raw.get("Traces") or [] if t.get("Id")}
                    with run.lock:
                        run.requests += 1
                        run.pages.append(raw)
                        if cdir is not None:
                            run.files.append(name)
                        run.segments += nseg
                        new = (got & wanted) - run.fetched
                        run.fetched |= got
                    if bar is not None and new:
                        bar.update(len(new))
                    unprocessed += [u for u in raw.get("UnprocessedTraceIds") or [] if u in wanted]
                pending = [u for u in dict.fromkeys(unprocessed) if u not in run.fetched]
                if pending:
                    if attempt >= unprocessed_retries:
                        with run.lock:
                            run.unprocessed.update(pending)
                        return
                    sleep(backoff * (2 ** attempt))
                    attempt += 1

        chunks = list(enumerate(_chunks(todo, BATCH_MAX_IDS)))
        try:
            if max_workers == 1 or len(chunks) <= 1:
                for c in chunks:
                    one_chunk(c)
            else:
                ex = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="tracekit-xray")
                try:
                    futures = [ex.submit(one_chunk, c) for c in chunks]
                    for f in futures:
                        f.result()
                except BaseException:
                    # first failure: drop the chunks not started, let running ones finish (their pages are cached)
                    ex.shutdown(wait=True, cancel_futures=True)
                    raise
                ex.shutdown(wait=True)
        finally:
            if bar is not None:
                bar.close()
    except TraceFormatError:
        run_rec["status"] = "error: malformed response"
        save_manifest()
        raise
    except TraceKitError:
        run_rec["status"] = "error"
        save_manifest()
        raise
    except Exception as exc:
        run_rec["status"] = f"error: {type(exc).__name__}"
        save_manifest()
        if type(exc).__module__.startswith("botocore"):
            raise _translate(exc, client=client, cache_dir=cdir, region=region) from None
        raise
    except BaseException:  # KeyboardInterrupt: the cache is consistent, note the interruption
        run_rec["status"] = "interrupted"
        save_manifest()
        raise

    asked = list(ids)
    missing = sorted(set(asked) - run.fetched - run.unprocessed)
    run_rec.update(status="complete", finished=_dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S%f"))
    save_manifest(fetched_ids=sorted(run.fetched & set(asked)), unprocessed_ids=sorted(run.unprocessed),
                  missing_ids=missing)

    from ..io.xray import read_xray  # layer 1 reader: one parser for files and live data

    if cdir is not None:
        spans = read_xray(cdir) if _batch_files(cdir) else _empty()
    else:
        spans = read_xray(run.pages) if run.pages else _empty()
    info = {
        "asked": {**query, "windows": [(a.isoformat(), b.isoformat()) for a, b in windows],
                  "trace_ids_asked": len(asked)},
        "got": {"summaries": summaries, "traces": len(run.fetched & set(asked)),
                "segments_this_run": run.segments, "requests_this_run": run.requests,
                "unprocessed_ids": sorted(run.unprocessed), "missing_ids": missing,
                "resumed_from_cache": len(done & set(asked)),
                "cache_dir": str(cdir) if cdir is not None else None, "cache_files": sorted(run.files)},
    }
    spans.attrs["xray_fetch"] = info
    # the pages list ids that a later retry fetched; after the retries only these stayed unprocessed
    spans.attrs["unprocessed_trace_ids"] = tuple(sorted(run.unprocessed))
    return spans


def _empty() -> pd.DataFrame:
    from ..schema import empty_spans

    return empty_spans()


# --------------------------------------------------------------------------------------------- summaries (public)

_SUMMARY_COLUMNS = [
    "trace_id", "xray_trace_id", "start", "duration_ms", "response_time_ms", "has_fault", "has_error",
    "has_throttle", "is_partial", "http_method", "http_url", "http_status", "user_agent", "client_ip",
    "annotations", "users", "services", "service_types", "resource_arns", "instance_ids", "availability_zones",
    "entry_point", "fault_root_causes", "error_root_causes", "response_time_root_causes", "revision",
    "matched_event_time", "window",
]


def _annotation_value(v: Mapping[str, Any]) -> Any:
    av = v.get("AnnotationValue") or {}
    for k in ("StringValue", "NumberValue", "BooleanValue"):
        if k in av:
            return av[k]
    return None


def _root_cause_services(causes: Any) -> list[str]:
    out: list[str] = []
    for c in causes or []:
        for s in c.get("Services") or []:
            if s.get("Name") and s["Name"] not in out:
                out.append(s["Name"])
    return out


def _epoch(x: Any) -> pd.Timestamp:
    if x is None:
        return pd.NaT
    return pd.Timestamp(round(float(x) * 1_000_000), unit="us", tz="UTC")


def summaries_frame(pages: Iterable[Mapping[str, Any]], *, windows: Iterable[int] | None = None) -> pd.DataFrame:
    """GetTraceSummaries pages (raw JSON, as cached) → one row per TraceSummary, annotations flattened.

    Annotation values become columns ``annotation.<key>`` (the value, or a list when services disagree);
    users, service names and root-cause services are lists.

    >>> page = {"TraceSummaries": [{"Id": "1-59602603-23fc5b688855d396af79b496", "Duration": 3.232,
    ...          "ResponseTime": 3.232, "HasFault": False, "HasError": False, "HasThrottle": False,
    ...          "Users": [{"UserName": "5M388M1E"}],
    ...          "Annotations": {"Name": [{"AnnotationValue": {"StringValue": "Ola"}}]}}]}
    >>> row = summaries_frame([page]).iloc[0]
    >>> row["trace_id"], float(row["duration_ms"]), row["users"], row["annotation.Name"]
    ('5960260323fc5b688855d396af79b496', 3232.0, ['5M388M1E'], 'Ola')
    """
    rows: list[dict[str, Any]] = []
    win_list = list(windows) if windows is not None else None
    for pi, page in enumerate(pages):
        for ts in page.get("TraceSummaries") or []:
            http = ts.get("Http") or {}
            services = ts.get("ServiceIds") or []
            row: dict[str, Any] = {
                "xray_trace_id": ts.get("Id"),
                "start": _epoch(ts.get("StartTime")),
                "duration_ms": float(ts["Duration"]) * 1000 if ts.get("Duration") is not None else float("nan"),
                "response_time_ms": (float(ts["ResponseTime"]) * 1000 if ts.get("ResponseTime") is not None
                                     else float("nan")),
                "has_fault": ts.get("HasFault"), "has_error": ts.get("HasError"),
                "has_throttle": ts.get("HasThrottle"), "is_partial": ts.get("IsPartial"),
                "http_method": http.get("HttpMethod"), "http_url": http.get("HttpURL"),
                "http_status": http.get("HttpStatus"), "user_agent": http.get("UserAgent"),
                "client_ip": http.get("ClientIp"),
                "users": [u.get("UserName") for u in ts.get("Users") or [] if isinstance(u, dict)],
                "services": [s.get("Name") for s in services],
                "service_types": [s.get("Type") for s in services],
                "resource_arns": [r.get("ARN") for r in ts.get("ResourceARNs") or []],
                "instance_ids": [r.get("Id") for r in ts.get("InstanceIds") or []],
                "availability_zones": [r.get("Name") for r in ts.get("AvailabilityZones") or []],
                "entry_point": (ts.get("EntryPoint") or {}).get("Name"),
                "fault_root_causes": _root_cause_services(ts.get("FaultRootCauses")),
                "error_root_causes": _root_cause_services(ts.get("ErrorRootCauses")),
                "response_time_root_causes": _root_cause_services(ts.get("ResponseTimeRootCauses")),
                "revision": ts.get("Revision"), "matched_event_time": _epoch(ts.get("MatchedEventTime")),
                "window": win_list[pi] if win_list is not None else pd.NA,
            }
            tid = ts.get("Id") or ""
            try:
                row["trace_id"] = xray_to_trace_id(tid)
            except Exception:
                raise TraceFormatError(f"TraceSummary Id {tid!r} is not an X-Ray trace id",
                                       record=f"page {pi}, Id {tid!r}") from None
            ann = ts.get("Annotations") or {}
            row["annotations"] = {k: [_annotation_value(v) for v in vals] for k, vals in ann.items()}
            for k, vals in row["annotations"].items():
                uniq = list(dict.fromkeys(vals))
                row[f"annotation.{k}"] = uniq[0] if len(uniq) == 1 else uniq
            rows.append(row)
    df = pd.DataFrame(rows)
    extra = sorted(c for c in df.columns if c.startswith("annotation."))
    for c in _SUMMARY_COLUMNS:
        if c not in df.columns:
            df[c] = pd.Series(dtype=object)
    df = df[_SUMMARY_COLUMNS + extra]
    if len(df):
        df = df.drop_duplicates("xray_trace_id", keep="first").reset_index(drop=True)
    for c in ("trace_id", "xray_trace_id", "http_method", "http_url", "user_agent", "client_ip", "entry_point"):
        df[c] = df[c].astype("string[pyarrow]")
    for c in ("has_fault", "has_error", "has_throttle", "is_partial"):
        df[c] = df[c].astype("boolean")
    df["http_status"] = pd.array(df["http_status"], dtype="Int64")
    df["revision"] = pd.array(df["revision"], dtype="Int64")
    df["window"] = pd.array(df["window"], dtype="Int64")
    for c in ("start", "matched_event_time"):
        df[c] = pd.to_datetime(df[c], utc=True)
    for c in ("duration_ms", "response_time_ms"):
        df[c] = df[c].astype("float64")
    return df


def fetch_xray_summaries(start: Any, end: Any, *, filter_expression: str | None = None,
                         time_range_type: str | None = None, sampling: bool | None = None,
                         sampling_strategy: Mapping[str, Any] | None = None, window: Any = DEFAULT_WINDOW,
                         max_summaries: int | None = None, client: Any = None, session: Any = None,
                         region: str | None = None, profile: str | None = None, endpoint_url: str | None = None,
                         cache_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """One row per X-Ray TraceSummary over ``[start, end)`` (paged, windowed, de-duplicated).

    Columns: trace_id (32 hex) and xray_trace_id, start, duration_ms, response_time_ms, has_fault/error/
    throttle, is_partial, http_*, annotations (dict) and ``annotation.<key>`` columns, users, services,
    resource ARNs, instance ids, AZs, entry point, root-cause services, revision, window. The raw pages are
    cached under ``cache_dir/summaries/`` when given. ``attrs["xray_summaries"]`` records the query and the
    ``TracesProcessedCount``/``ApproximateTime`` of each page.

    >>> from tracekit.aws.xray import fetch_xray_summaries
    >>> fetch_xray_summaries("2026-11-20T09:00Z", "2026-11-20T09:00Z", client=object())
    Traceback (most recent call last):
    ...
    tracekit.errors.TraceKitError: end (2026-11-20T09:00:00+00:00) must be after start (2026-11-20T09:00:00+00:00)
    """
    windows = time_windows(start, end, window=window)
    filter_expression = _check_query(filter_expression, time_range_type)
    client = _make_client("xray", client=client, session=session, region=region, profile=profile,
                          endpoint_url=endpoint_url)
    cdir = Path(cache_dir) if cache_dir is not None else None
    pages: list[dict] = []
    wins: list[int] = []
    meta: list[dict] = []
    n = 0
    try:
        for wi, pi, page in _iter_summary_pages(client, windows, cache_dir=cdir, filter_expression=filter_expression,
                                                time_range_type=time_range_type, sampling=sampling,
                                                sampling_strategy=sampling_strategy):
            pages.append(page)
            wins.append(wi)
            meta.append({"window": wi, "page": pi, "TracesProcessedCount": page.get("TracesProcessedCount"),
                         "ApproximateTime": page.get("ApproximateTime")})
            n += len(page.get("TraceSummaries") or [])
            if max_summaries is not None and n >= max_summaries:
                break
    except Exception as exc:
        if type(exc).__module__.startswith("botocore"):
            raise _translate(exc, client=client, operation="GetTraceSummaries", region=region) from None
        raise
    df = summaries_frame(pages, windows=wins)
    if max_summaries is not None:
        df = df.iloc[:max_summaries].reset_index(drop=True)
    df.attrs["xray_summaries"] = {
        "asked": {"start": windows[0][0].isoformat(), "end": windows[-1][1].isoformat(),
                  "filter_expression": filter_expression, "time_range_type": time_range_type,
                  "sampling": sampling, "region": region or _region_of(client),
                  "windows": [(a.isoformat(), b.isoformat()) for a, b in windows]},
        "pages": meta,
    }
    return df


# --------------------------------------------------------------------------------------------- sampling


@dataclass(frozen=True)
class SamplingInfo:
    """Sampling rules and per-rule statistics; unpacks as ``rules, stats = fetch_xray_sampling(...)``."""

    rules: pd.DataFrame
    stats: pd.DataFrame

    def __iter__(self) -> Iterator[pd.DataFrame]:
        yield self.rules
        yield self.stats


_RULE_COLUMNS = ["rule_name", "rule_arn", "priority", "fixed_rate", "reservoir_size", "service_name",
                 "service_type", "host", "http_method", "url_path", "resource_arn", "version", "attributes",
                 "created_at", "modified_at"]
_RULE_KEYS = ["RuleName", "RuleARN", "Priority", "FixedRate", "ReservoirSize", "ServiceName", "ServiceType",
              "Host", "HTTPMethod", "URLPath", "ResourceARN", "Version", "Attributes"]
_STAT_COLUMNS = ["rule_name", "timestamp", "request_count", "sampled_count", "borrow_count", "sampled_fraction"]


def sampling_rules_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """``SamplingRuleRecords`` → one row per rule, sorted by priority (the order X-Ray applies them).

    >>> rec = {"SamplingRule": {"RuleName": "Default", "Priority": 10000, "FixedRate": 0.05,
    ...        "ReservoirSize": 1, "ServiceName": "*"}, "CreatedAt": 0.0}
    >>> sampling_rules_frame([rec])[["rule_name", "fixed_rate", "reservoir_size"]].values.tolist()
    [['Default', 0.05, 1]]
    """
    rows = []
    for r in records:
        rule = r.get("SamplingRule") or {}
        row = {c: rule.get(k) for c, k in zip(_RULE_COLUMNS[:len(_RULE_KEYS)], _RULE_KEYS, strict=True)}
        row["attributes"] = dict(rule.get("Attributes") or {})
        row["created_at"] = _epoch(r.get("CreatedAt"))
        row["modified_at"] = _epoch(r.get("ModifiedAt"))
        rows.append(row)
    df = pd.DataFrame(rows, columns=_RULE_COLUMNS)
    for c in ("rule_name", "rule_arn", "service_name", "service_type", "host", "http_method", "url_path",
              "resource_arn"):
        df[c] = df[c].astype("string[pyarrow]")
    for c in ("priority", "reservoir_size", "version"):
        df[c] = pd.array(df[c], dtype="Int64")
    df["fixed_rate"] = df["fixed_rate"].astype("float64")
    for c in ("created_at", "modified_at"):
        df[c] = pd.to_datetime(df[c], utc=True)
    return df.sort_values(["priority", "rule_name"], kind="stable").reset_index(drop=True)


def sampling_stats_frame(summaries: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """``SamplingStatisticSummaries`` → one row per rule per window; ``sampled_fraction`` = sampled / requests.

    >>> s = {"RuleName": "base", "Timestamp": 1530923100.0, "RequestCount": 40, "SampledCount": 6,
    ...      "BorrowCount": 1}
    >>> sampling_stats_frame([s])[["request_count", "sampled_fraction"]].values.tolist()
    [[40, 0.15]]
    """
    rows = [{"rule_name": s.get("RuleName"), "timestamp": _epoch(s.get("Timestamp")),
             "request_count": s.get("RequestCount"), "sampled_count": s.get("SampledCount"),
             "borrow_count": s.get("BorrowCount")} for s in summaries]
    df = pd.DataFrame(rows, columns=_STAT_COLUMNS[:-1])
    df["rule_name"] = df["rule_name"].astype("string[pyarrow]")
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    for c in ("request_count", "sampled_count", "borrow_count"):
        df[c] = pd.array(df[c], dtype="Int64")
    req = df["request_count"].astype("float64")
    df["sampled_fraction"] = (df["sampled_count"].astype("float64") / req.where(req > 0)).astype("float64")
    return df.sort_values(["rule_name", "timestamp"], kind="stable").reset_index(drop=True)


def fetch_xray_sampling(start: Any = None, end: Any = None, *, client: Any = None, session: Any = None,
                        region: str | None = None, profile: str | None = None,
                        endpoint_url: str | None = None) -> SamplingInfo:
    """X-Ray sampling rules (``GetSamplingRules``) and per-rule 10-s statistics (``GetSamplingStatisticSummaries``).

    X-Ray keeps statistics for recent windows only and the API takes no time range, so ``start``/``end``
    (optional) filter the returned windows client-side (``start <= timestamp < end``). Returns a
    :class:`SamplingInfo` that unpacks as ``rules, stats``.

    >>> from tracekit.aws.xray import fetch_xray_sampling
    >>> fetch_xray_sampling(region="moon-base-1")
    Traceback (most recent call last):
    ...
    tracekit.aws.xray.XRayRegionError: 'moon-base-1' is not an AWS region name (expected e.g. 'eu-west-1').
    """
    client = _make_client("xray", client=client, session=session, region=region, profile=profile,
                          endpoint_url=endpoint_url)
    try:
        records = [r for page in client.get_paginator("get_sampling_rules").paginate()
                   for r in page.get("SamplingRuleRecords") or []]
        stats = [s for page in client.get_paginator("get_sampling_statistic_summaries").paginate()
                 for s in page.get("SamplingStatisticSummaries") or []]
    except Exception as exc:
        if type(exc).__module__.startswith("botocore"):
            raise _translate(exc, client=client, region=region) from None
        raise
    rules_df = sampling_rules_frame(_jsonable(records))
    stats_df = sampling_stats_frame(_jsonable(stats))
    if start is not None:
        stats_df = stats_df[stats_df["timestamp"] >= _to_utc(start, "start")]
    if end is not None:
        stats_df = stats_df[stats_df["timestamp"] < _to_utc(end, "end")]
    return SamplingInfo(rules_df, stats_df.reset_index(drop=True))


# --------------------------------------------------------------------------------------------- coverage audit

_DAEMON_IMAGE_HINTS = ("aws-xray-daemon", "xray-daemon", "aws-otel-collector", "aws-observability/aws-otel",
                       "adot", "cloudwatch-agent")
AUDIT_COLUMNS = ["resource_type", "resource", "service", "tracing_enabled", "tracing_detail", "seen_in_traces",
                 "segments", "first_seen", "last_seen", "finding"]


def _paged(client: Any, op: str, key: str, **kw: Any) -> list:
    if client.can_paginate(op):
        return [x for page in client.get_paginator(op).paginate(**kw) for x in page.get(key) or []]
    return list(getattr(client, op)(**kw).get(key) or [])


def _lambda_rows(client: Any) -> list[dict]:
    rows = []
    for fn in _paged(client, "list_functions", "Functions"):
        mode = (fn.get("TracingConfig") or {}).get("Mode") or "PassThrough"
        rows.append({"resource_type": "lambda", "resource": fn.get("FunctionArn") or fn.get("FunctionName"),
                     "service": fn.get("FunctionName"), "tracing_enabled": mode == "Active",
                     "tracing_detail": f"TracingConfig.Mode={mode}"})
    return rows


def _ecs_rows(client: Any) -> list[dict]:
    rows = []
    latest: dict[str, tuple[int, str]] = {}  # family -> (revision, arn): audit what runs now, not old revisions
    for arn in _paged(client, "list_task_definitions", "taskDefinitionArns", status="ACTIVE"):
        family, _, rev = arn.rsplit("/", 1)[-1].rpartition(":")
        r = int(rev) if rev.isdigit() else 0
        if family not in latest or r > latest[family][0]:
            latest[family] = (r, arn)
    for _family, (_rev, arn) in sorted(latest.items()):
        td = client.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        containers = td.get("containerDefinitions") or []
        sidecars = [c.get("name") for c in containers
                    if any(h in (c.get("image") or "").lower() for h in _DAEMON_IMAGE_HINTS)]
        apps = [c.get("name") for c in containers if c.get("name") not in sidecars]
        detail = (f"X-Ray daemon/ADOT sidecar: {', '.join(sidecars)}" if sidecars
                  else "no X-Ray daemon or ADOT collector container")
        rows.append({"resource_type": "ecs-task-definition", "resource": arn, "service": td.get("family"),
                     "tracing_enabled": bool(sidecars), "tracing_detail": detail, "_aliases": apps})
    return rows


def _apigw_rows(client: Any) -> list[dict]:
    rows = []
    for api in _paged(client, "get_rest_apis", "items"):
        for st in client.get_stages(restApiId=api["id"]).get("item") or []:
            on = bool(st.get("tracingEnabled"))
            name = f"{api.get('name')}/{st.get('stageName')}"  # X-Ray names API Gateway segments api-name/stage
            rows.append({"resource_type": "apigateway-stage", "resource": f"{api['id']}/{st.get('stageName')}",
                         "service": name, "tracing_enabled": on, "tracing_detail": f"tracingEnabled={on}"})
    return rows


def _group_rows(client: Any) -> list[dict]:
    return [{"resource_type": "xray-group", "resource": g.get("GroupARN") or g.get("GroupName"),
             "service": pd.NA, "tracing_enabled": pd.NA,
             "tracing_detail": f"filter: {g.get('FilterExpression') or '(none)'}",
             "finding": "X-Ray group (filter over traces)"}
            for g in _paged(client, "get_groups", "Groups")]


def _seen_services(spans: pd.DataFrame | None) -> tuple[pd.DataFrame, set[str]]:
    """Per service that sends segments: count, first/last seen; plus names only ever called (uninstrumented hops)."""
    cols = ["service", "segments", "first_seen", "last_seen"]
    if spans is None or len(spans) == 0:
        return pd.DataFrame(columns=cols), set()
    inferred = spans["inferred"].fillna(False).astype(bool) if "inferred" in spans else False
    real = spans[~inferred] if "inferred" in spans else spans
    g = real.groupby(real["service"].astype(object), dropna=True, observed=True).agg(
        segments=("span_id", "size"), first_seen=("start", "min"), last_seen=("end", "max")).reset_index()
    sending = set(g["service"])
    called: set[str] = set()
    if "kind" in spans:
        client_spans = spans[(spans["kind"] == "client") & ~(spans["inferred"].fillna(False).astype(bool))]
        called = set(client_spans["name"].dropna().astype(object)) - sending
        # X-Ray-inferred segments stand for AWS services (DynamoDB, SNS...), which never send segments
        if "inferred" in spans:
            called -= set(spans.loc[spans["inferred"].fillna(False).astype(bool), "service"].dropna().astype(object))
    return g, called


def xray_coverage_audit(*, region: str | None = None, profile: str | None = None, session: Any = None,
                        endpoint_url: str | None = None, clients: Mapping[str, Any] | None = None,
                        spans: pd.DataFrame | None = None, start: Any = None, end: Any = None,
                        checks: Iterable[str] = ("lambda", "ecs", "apigateway", "xray")) -> pd.DataFrame:
    """Which services are (not) traced: tracing configuration joined with what ``spans`` shows.

    Lists Lambda functions (TracingConfig mode), ECS task definitions (X-Ray daemon / ADOT collector sidecar
    or not), API Gateway REST stages (tracingEnabled) and X-Ray groups, then joins them by name with the
    services seen sending segments in ``spans`` (e.g. from :func:`fetch_xray` over the incident window).
    One row per resource/service: ``resource_type, resource, service, tracing_enabled, tracing_detail,
    seen_in_traces, segments, first_seen, last_seen, finding``. An API the credentials may not call
    becomes a ``permission`` row saying so. ``start``/``end`` keep only spans that overlap that window.
    ``clients`` overrides the boto3 client per service
    (keys ``lambda``, ``ecs``, ``apigateway``, ``xray``). Nothing is mutated; ``spans`` may be None.

    >>> import tracekit as tk
    >>> from tracekit.aws.xray import xray_coverage_audit
    >>> spans = tk.spans_from_columns({"trace_id": ["5759e988bd862e3fe1be46a994272793"] * 2,
    ...     "span_id": ["53995c3f42cd8ad8", "13995c3f42cd8ad8"], "parent_id": [None, "53995c3f42cd8ad8"],
    ...     "service": ["checkout", "checkout"], "name": ["checkout", "legacy-pricing"],
    ...     "kind": ["server", "client"], "start": [0, 1_000_000], "end": [9_000_000, 5_000_000]})
    >>> audit = xray_coverage_audit(spans=spans, checks=())
    >>> audit[["service", "seen_in_traces", "finding"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['checkout', True, 'segments seen; no Lambda/ECS/API Gateway resource of that name was checked'],
     ['legacy-pricing', False, 'calls reach it but it sends no segments: uninstrumented hop']]
    """
    clients = dict(clients or {})
    checks = list(checks)
    if spans is not None and (start is not None or end is not None):
        keep = pd.Series(True, index=spans.index)
        if start is not None:
            keep &= spans["end"] >= _to_utc(start, "start")
        if end is not None:
            keep &= spans["start"] < _to_utc(end, "end")
        spans = spans[keep]  # a filtered view; the caller's frame is untouched
    rows: list[dict] = []
    listers = {"lambda": ("lambda", _lambda_rows), "ecs": ("ecs", _ecs_rows),
               "apigateway": ("apigateway", _apigw_rows), "xray": ("xray", _group_rows)}
    for check in checks:
        if check not in listers:
            raise TraceKitError(f"unknown coverage check {check!r}; choose from {sorted(listers)}")
        svc, fn = listers[check]
        try:
            cl = clients.get(check) or _make_client(svc, session=session, region=region, profile=profile,
                                                    endpoint_url=endpoint_url)
            rows += fn(cl)
        except XRayRegionError:
            raise
        except Exception as exc:
            if not (type(exc).__module__.startswith("botocore") or isinstance(exc, TraceKitError)):
                raise
            err = _translate(exc, client=clients.get(check), region=region) if not isinstance(
                exc, TraceKitError) else exc
            what = ("permission missing" if isinstance(err, XRayPermissionError)
                    else "credentials invalid" if isinstance(err, XRayAuthError) else "could not list")
            rows.append({"resource_type": "permission", "resource": check, "service": pd.NA,
                         "tracing_enabled": pd.NA, "tracing_detail": IAM_PERMISSIONS_BY_CHECK[check],
                         "finding": f"{what}: {check} not audited ({err})"})

    seen, called = _seen_services(spans)
    seen_by = {s: r for s, r in zip(seen["service"], seen.to_dict("records"), strict=True)}
    matched: set[str] = set()
    out = []
    for r in rows:
        if r["resource_type"] in ("permission", "xray-group"):
            out.append({**r, "seen_in_traces": pd.NA, "segments": 0})
            continue
        names = [r["service"], *r.pop("_aliases", [])]
        hit = next((seen_by[n] for n in names if n in seen_by), None)
        on = r["tracing_enabled"]
        if hit is not None:
            matched.add(hit["service"])
            finding = ("traced" if on else "segments seen although tracing is off here "
                       "(sent by another path, e.g. an SDK with its own exporter)")
            out.append({**r, "seen_in_traces": True, "segments": int(hit["segments"]),
                        "first_seen": hit["first_seen"], "last_seen": hit["last_seen"], "finding": finding})
        else:
            if spans is None:
                finding = "tracing on (no spans given to check)" if on else "tracing off"
            elif on:
                finding = "tracing on but no segments: SDK not instrumented (or not called in the window)"
            elif any(n in called for n in names):
                finding = "calls reach it but it sends no segments: uninstrumented hop (tracing off)"
                matched.update(n for n in names if n in called)
            else:
                finding = "tracing off and no segments"
            out.append({**r, "seen_in_traces": False if spans is not None else pd.NA, "segments": 0,
                        "finding": finding})
    for s, hit in seen_by.items():
        if s in matched:
            continue
        out.append({"resource_type": "service", "resource": pd.NA, "service": s, "tracing_enabled": pd.NA,
                    "tracing_detail": pd.NA, "seen_in_traces": True, "segments": int(hit["segments"]),
                    "first_seen": hit["first_seen"], "last_seen": hit["last_seen"],
                    "finding": "segments seen; no Lambda/ECS/API Gateway resource of that name was checked"})
    for s in sorted(called - matched):
        out.append({"resource_type": "service", "resource": pd.NA, "service": s, "tracing_enabled": pd.NA,
                    "tracing_detail": pd.NA, "seen_in_traces": False, "segments": 0,
                    "finding": "calls reach it but it sends no segments: uninstrumented hop"})
    df = pd.DataFrame(out, columns=AUDIT_COLUMNS)
    for c in ("resource_type", "resource", "service", "tracing_detail", "finding"):
        df[c] = df[c].astype("string[pyarrow]")
    for c in ("tracing_enabled", "seen_in_traces"):
        df[c] = df[c].astype("boolean")
    df["segments"] = df["segments"].fillna(0).astype("int64")
    for c in ("first_seen", "last_seen"):
        df[c] = pd.to_datetime(df[c], utc=True)
    return df


IAM_PERMISSIONS_BY_CHECK = {
    "lambda": "lambda:ListFunctions",
    "ecs": "ecs:ListTaskDefinitions, ecs:DescribeTaskDefinition",
    "apigateway": "apigateway:GET (/restapis, /restapis/*/stages)",
    "xray": "xray:GetGroups",
}
