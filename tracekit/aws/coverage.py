"""Tracing coverage: which Lambda functions, ECS tasks and API Gateway stages are (not) traced, joined with
the services seen in the spans."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from ..core.results import result_table
from ..errors import ArgumentError, TraceKitError
from .client import (
    XRayAuthError,
    XRayPermissionError,
    XRayRegionError,
    follow_pages,
    is_botocore_error,
    make_client,
    translate_error,
)
from .times import to_utc

__all__ = ["xray_coverage_audit", "AUDIT_TABLE", "AUDIT_COLUMNS", "IAM_PERMISSIONS_BY_CHECK"]

_DAEMON_IMAGE_HINTS = ("aws-xray-daemon", "xray-daemon", "aws-otel-collector", "aws-observability/aws-otel",
                       "adot", "cloudwatch-agent")
#: the columns of :func:`xray_coverage_audit`, declared as data (``tracekit.core.results``)
AUDIT_TABLE = result_table("xray_coverage_audit", "one row per audited resource, or per service seen in the spans", [
    ("resource_type", "string", "", "lambda, ecs-task-definition, apigateway-stage, xray-group, service "
                                    "(seen in spans only) or permission (an API that could not be listed)"),
    ("resource", "string", "", "the resource's ARN or id (NA for services seen in spans only)"),
    ("service", "string", "", "the name X-Ray segments of that resource carry"),
    ("tracing_enabled", "boolean", "", "tracing switched on in the resource's configuration (NA when unknown)"),
    ("tracing_detail", "string", "", "the configuration that decided tracing_enabled"),
    ("seen_in_traces", "boolean", "", "the service sent segments in the given spans (NA without spans)"),
    ("segments", "int64", "", "spans of the service in the given spans, inferred ones excluded"),
    ("first_seen", "datetime64[ns, UTC]", "", "start of its first span"),
    ("last_seen", "datetime64[ns, UTC]", "", "end of its last span"),
    ("finding", "string", "", "what the audit concludes, in words"),
])
AUDIT_COLUMNS = AUDIT_TABLE.column_names


#: each listing's output token (botocore's paginators-1.json), for :func:`~tracekit.aws.client.follow_pages`
_TOKENS = {"list_functions": "NextMarker", "list_task_definitions": "nextToken", "get_rest_apis": "position",
           "get_groups": "NextToken"}


def _paged(client: Any, op: str, key: str, **kw: Any) -> list:
    if client.can_paginate(op):
        pages = follow_pages(client.get_paginator(op).paginate(**kw),
                             operation="".join(w.title() for w in op.split("_")), token=_TOKENS.get(op, "NextToken"))
        return [x for page in pages for x in page.get(key) or []]
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
    """Per service that sends segments: count, first/last seen; plus the callees of calls nothing answers, that send
    no segments (uninstrumented hops).

    A call is a client span nothing answers (:func:`tracekit.core.unanswered_calls`, the definition health's
    ``uninstrumented_hop`` uses), named by the one callee resolver (:func:`tracekit.core.callee`), else by its span
    name (an X-Ray remote subsegment is named after what it calls). Every client span's name was taken for a callee,
    answered or not: an OTLP ``GET /stock`` whose ``inventory`` server span answers it was listed as a service
    "calls reach it but it sends no segments"."""
    from ..core import bool_column, callee, span_tree, unanswered_calls

    cols = ["service", "segments", "first_seen", "last_seen"]
    if spans is None or len(spans) == 0:
        return pd.DataFrame(columns=cols), set()
    inferred = bool_column(spans, "inferred")  # (a frame without the column: none inferred, not a KeyError)
    real = spans[~inferred]
    g = real.groupby(real["service"].astype(object), dropna=True, observed=True).agg(
        segments=("span_id", "size"), first_seen=("start", "min"), last_seen=("end", "max")).reset_index()
    sending = set(g["service"])
    called: set[str] = set()
    if "kind" in spans:
        rows = unanswered_calls(spans, span_tree(spans), ("client",))
        rows = rows[~inferred[rows]]
        names = spans["name"].to_numpy(dtype=object, na_value=None)[rows]
        attrs = (spans["attributes"].to_numpy(dtype=object)[rows] if "attributes" in spans
                 else [None] * len(rows))
        for a, nm in zip(attrs, names, strict=True):
            c = callee(a, nm) or nm
            if c is not None and c != "":
                called.add(str(c))
        called -= sending
        # X-Ray-inferred segments stand for AWS services (DynamoDB, SNS...), which never send segments
        called -= set(spans.loc[inferred, "service"].dropna().astype(object))
    return g, called


def xray_coverage_audit(*, region: str | None = None, profile: str | None = None, session: Any = None,
                        endpoint_url: str | None = None, clients: Mapping[str, Any] | None = None,
                        spans: pd.DataFrame | None = None, start: Any = None, end: Any = None,
                        checks: Iterable[str] = ("lambda", "ecs", "apigateway", "xray")) -> pd.DataFrame:
    """Which services are (not) traced: tracing configuration joined with what ``spans`` shows.

    Lists Lambda functions (TracingConfig mode), ECS task definitions (X-Ray daemon / ADOT collector sidecar
    or not), API Gateway REST stages (tracingEnabled) and X-Ray groups, then joins them by name with the
    services seen sending segments in ``spans`` (e.g. from :func:`fetch_xray` over the incident window).
    Nothing is mutated.

    Parameters
    ----------
    region, profile, session, endpoint_url
        AWS access, as for :func:`tracekit.aws.fetch_xray`.
    clients : mapping, optional
        A boto3 client per check (keys ``lambda``, ``ecs``, ``apigateway``, ``xray``), used as is.
    spans : pandas.DataFrame, optional
        Spans to join with; None audits configuration only.
    start, end : optional
        Keep only spans that overlap ``[start, end)``.
    checks : iterable of str
        Which resource kinds to list.

    Returns
    -------
    pandas.DataFrame
        One row per resource/service with the columns of ``AUDIT_TABLE``: ``resource_type, resource,
        service, tracing_enabled, tracing_detail, seen_in_traces, segments, first_seen, last_seen, finding``.
        An API the credentials may not call becomes a ``permission`` row saying so.

    Raises
    ------
    tracekit.errors.TraceKitError
        An unknown check, a ``start``/``end`` that is not a time or ``end`` not after ``start``
        (:class:`~tracekit.errors.ArgumentError`); :class:`XRayRegionError` for a bad region;
        :class:`~tracekit.schema.SpansSchemaError` for ``spans`` that is not a spans frame (a column it reads missing).

    Examples
    --------
    >>> import tracekit as tk
    >>> from tracekit.aws import xray_coverage_audit
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
    if spans is not None:  # before any AWS call: a frame without span_id was a KeyError after the listings
        from ..core import require_columns

        require_columns(spans, ("trace_id", "span_id", "parent_id", "service", "name", "start", "end"),
                        "xray_coverage_audit")
    t0 = to_utc(start, "start") if start is not None else None
    t1 = to_utc(end, "end") if end is not None else None
    if t0 is not None and t1 is not None and t1 <= t0:  # swapped times kept no span: every service "not seen"
        raise ArgumentError(f"end ({t1.isoformat()}) must be after start ({t0.isoformat()})")
    if spans is not None and (t0 is not None or t1 is not None):
        keep = pd.Series(True, index=spans.index)
        if t0 is not None:  # an in-progress span (no end yet) still runs at the window's start: kept
            keep &= (spans["end"] >= t0).fillna(False) | spans["end"].isna()
        if t1 is not None:
            keep &= spans["start"] < t1
        spans = spans[keep]  # a filtered view; the caller's frame is untouched
    rows: list[dict] = []
    listers = {"lambda": ("lambda", _lambda_rows), "ecs": ("ecs", _ecs_rows),
               "apigateway": ("apigateway", _apigw_rows), "xray": ("xray", _group_rows)}
    for check in checks:
        if check not in listers:
            raise ArgumentError(f"unknown coverage check {check!r}; choose from {sorted(listers)}")
        svc, fn = listers[check]
        cl = clients.get(check)
        try:
            cl = cl or make_client(svc, session=session, region=region, profile=profile, endpoint_url=endpoint_url)
            rows += fn(cl)
        except XRayRegionError:
            raise
        except Exception as exc:
            if not (is_botocore_error(exc) or isinstance(exc, TraceKitError)):
                raise
            # scrub with the credentials of the client that made the call, the one made here too
            err = translate_error(exc, client=cl, region=region,
                                  endpoint_url=endpoint_url) if not isinstance(
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
        df[c] = pd.to_datetime(df[c], utc=True).astype("datetime64[ns, UTC]")
    return df


IAM_PERMISSIONS_BY_CHECK = {
    "lambda": "lambda:ListFunctions",
    "ecs": "ecs:ListTaskDefinitions, ecs:DescribeTaskDefinition",
    "apigateway": "apigateway:GET (/restapis, /restapis/*/stages)",
    "xray": "xray:GetGroups",
}
