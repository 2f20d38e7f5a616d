"""The logs and metrics the simulated shop emits beside its spans, derived from the spans.

Every record and point is computed from a spans frame (:func:`tracekit.simulate.simulate`'s, or any
frame with the same shape), so the three signals agree by construction, and the only randomness
(a risk score's value, the CPU metric's noise) comes from streams seeded by ``seed``: the same spans
and seed give the same logs and metrics.

**Logs** (:func:`app_logs`), one frame of the logs schema, every record carrying the trace and span
id of the span that wrote it (so :func:`tracekit.attach_logs` puts each on its span), its service,
host and resource:

- per **server span** an INFO record at its end, ``handled <operation>: status <code> in <ms> ms``
  (the route, the status and the duration are the variable parts);
- per **failed span** (:func:`tracekit.core.failed`) an ERROR record per exception event at the
  event's time, ``<exception.type>: <exception.message>``, or one at its end naming the status
  message when it has no event; a span that is not failed but has exception events (a 404, a
  throttled call that was retried) logs them as WARN;
- per **database client span** (attribute ``db.system``) longer than ``slow_query_ms``
  (:data:`SLOW_QUERY_MS`) a WARN record at its end, ``slow query (<ms> ms): <db.statement>``;
- per **new code path** (:data:`NEW_STATEMENTS`): a server span of the service that makes the
  named client call logs the statement when the call returns. The slow-deploy scenario's payments
  1.5.0 calls ``GET /v1/risk-score``, so from the deploy on every payments server span logs
  ``risk score <n> from risk-api in <ms> ms``, a statement the old version never logged.
- per **log event** on a span (an event named ``log``, :data:`LOG_EVENT`: a statement the code
  wrote while the span was open, as OpenTracing's ``span.log`` records it) a record at the event's
  time, severity its ``log.severity`` attribute (INFO when absent), body its ``log.message``
  (:mod:`tracekit.simulate_faults` writes its services' per-request and per-branch statements so).

**Metrics** (:func:`app_metrics`), one frame of the metrics schema, per (service, host) of the
spans every ``interval_s`` (10 s) from the first span's interval to the last one's, the point
stamped at the end of its interval (Lambda execution environments, resource ``cloud.platform``
``aws_lambda``, report no process metrics and are left out):

- ``process.cpu.utilization`` (gauge, unit ``1``, one vCPU per container): :data:`IDLE_CPU` plus
  the host's **busy time** in the interval over the interval, plus seeded noise uniform in
  ±:data:`CPU_NOISE`, rounded to 5 decimals. Busy time is the self time
  (:func:`tracekit.core.self_ns`, the one definition behind :func:`tracekit.self_time`) of the
  host's server, internal and consumer spans — client and producer spans are time spent waiting on
  another component, not CPU — spread evenly over each span's duration and cut at the interval
  edges;
- ``http.server.request.duration`` (histogram, unit ``s``, delta temporality, OpenTelemetry's
  default bounds :data:`DURATION_BOUNDS`), one point per interval and (method, route, status code)
  of the host's server spans ending in it: count, sum, min, max, buckets and one exemplar, the
  slowest request's trace and span id;
- ``db.client.operations.in_flight`` (gauge, unit ``{operation}``) for hosts whose spans call a
  database (``db.system``): the database calls in flight, averaged over the interval (their summed
  overlap with it over its length).

>>> import tracekit as tk
>>> from tracekit.simulate_signals import app_logs, app_metrics
>>> spans = tk.simulate.simulate("slow-deploy", n_traces=60, seed=2).spans
>>> logs = app_logs(spans)
>>> sorted(set(logs["severity_text"]))
['ERROR', 'INFO', 'WARN']
>>> int(tk.attach_logs(spans, logs).unmatched.shape[0])
0
>>> m = app_metrics(spans)
>>> sorted(set(m["name"]))
['db.client.operations.in_flight', 'http.server.request.duration', 'process.cpu.utilization']
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import pandas as pd

from .core import failed, hosts, joint_codes, ns, require_columns, self_ns, span_tree
from .core.attributes import attribute_values
from .errors import ArgumentError
from .logs_schema import logs_from_columns
from .metrics_schema import metrics_from_columns
from .schema import COLUMN_NAMES, own_each_object, taking_cells, validate_spans

__all__ = ["app_logs", "app_metrics", "busy_ns", "SLOW_QUERY_MS", "INTERVAL_S", "IDLE_CPU", "CPU_NOISE",
           "DURATION_BOUNDS", "NEW_STATEMENTS", "LOG_EVENT"]

#: a database call longer than this (ms) logs a "slow query" WARN
SLOW_QUERY_MS = 10.0
#: metric interval (s): one point per (service, host) and metric every interval
INTERVAL_S = 10.0
#: CPU utilisation of an idle container (the runtime's own work)
IDLE_CPU = 0.02
#: half-width of the uniform noise on the CPU utilisation
CPU_NOISE = 0.0002
#: OpenTelemetry's default explicit bucket bounds of http.server.request.duration (s)
DURATION_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
#: (service, client span it makes) → the statement the service's server span logs when that call returns:
#: a new code path's new log line. ``{score}``: a seeded risk score 0–99; ``{ms}``: the call's duration
NEW_STATEMENTS: dict[tuple[str, str], str] = {
    ("payments", "GET /v1/risk-score"): "risk score {score} from risk-api in {ms:.1f} ms",
}
#: name of a span event that is a log statement (attributes ``log.severity``, ``log.message``): logged as a record
LOG_EVENT = "log"
_NOT_BUSY = ("client", "producer")  # waiting on another component, not the host's CPU


def _rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(name.encode())])


def _check(spans: Any, func: str, check: bool = True) -> pd.DataFrame:
    require_columns(spans, COLUMN_NAMES, func)  # the one missing-column error (SpansSchemaError)
    return validate_spans(spans) if check else spans


def app_logs(spans: pd.DataFrame, *, seed: int = 0, slow_query_ms: float = SLOW_QUERY_MS,
             check: bool = True) -> pd.DataFrame:
    """The log records the simulated application writes while it makes ``spans`` (module docstring).

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (the simulator's, or one of its shape); not modified.
    seed : int, default 0
        Seeds the variable parts drawn at random (a risk score).
    slow_query_ms : float, default SLOW_QUERY_MS
        Database calls longer than this log a "slow query" WARN.
    check : bool, default True
        Validate ``spans`` first (:func:`tracekit.schema.validate_spans`); False only for a frame already checked
        (the fault lab's own, just built: validating it again was 7 % of a fault window).

    Returns
    -------
    pandas.DataFrame
        A logs frame (``source`` ``"columns"``), one row per record, in time order (records of one
        time in the order INFO, ERROR/WARN of an event, slow query, new statement, log event; then span order).

    Raises
    ------
    SpansSchemaError
        ``spans`` is not a spans frame.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("baseline", n_traces=20, seed=1).spans
    >>> logs = app_logs(spans)
    >>> int((logs["severity_text"] == "INFO").sum()) == int((spans["kind"] == "server").sum())
    True
    >>> logs["body"].iloc[0]
    'handled GET /api/stock/{sku}: status 200 in 5.1 ms'
    """
    spans = _check(spans, "app_logs", check)
    n = len(spans)
    start, end = ns(spans["start"]), ns(spans["end"])
    dur_ms = (end - start) / 1e6
    kind = spans["kind"].astype(object).to_numpy()
    name = spans["name"].astype(object).to_numpy()
    service = spans["service"].astype(object).to_numpy()
    code = spans["http_status"].astype(object).to_numpy()
    status = spans["status"].astype(object).to_numpy()
    msg = spans["status_message"].astype(object).to_numpy()
    events = spans["events"].tolist()
    bad = failed(spans)
    srv = np.flatnonzero(kind == "server")
    handled = [f"handled {name[i]}: status {code[i] if code[i] is not pd.NA else status[i]} in {dur_ms[i]:.1f} ms"
               for i in srv]
    # exception events (ERROR on a failed span, WARN otherwise); a failed span without one logs its status message
    rows, times, bodies, sevs, attrs = [], [], [], [], []
    for i in np.flatnonzero(bad | np.fromiter((bool(e) for e in events), dtype=bool, count=n)).tolist():
        exc = [e for e in (events[i] or []) if e.get("name") == "exception"]
        for e in exc:
            a = e.get("attributes") or {}
            rows.append(i)
            times.append(int(e["time"]) if e.get("time") is not None else int(end[i]))
            bodies.append(f"{a.get('exception.type', 'Exception')}: {a.get('exception.message', '')}")
            sevs.append("ERROR" if bad[i] else "WARN")
            attrs.append({"exception.type": a.get("exception.type"), "exception.message": a.get("exception.message")})
        if not exc and bad[i]:
            rows.append(i)
            times.append(int(end[i]))
            bodies.append(f"{name[i]} failed: {msg[i] if isinstance(msg[i], str) else f'status {code[i]}'}")
            sevs.append("ERROR")
            attrs.append({})
    ev_rows = np.array(rows, dtype=np.int64)
    # log statements recorded as span events
    lg_rows, lg_times, lg_bodies, lg_sevs = [], [], [], []
    for i, evs in enumerate(events):
        for e in evs or ():
            if e.get("name") == LOG_EVENT:
                a = e.get("attributes") or {}
                lg_rows.append(i)
                lg_times.append(int(e["time"]) if e.get("time") is not None else int(end[i]))
                lg_bodies.append(str(a.get("log.message", "")))
                lg_sevs.append(str(a.get("log.severity") or "INFO"))
    # slow queries
    db_system = attribute_values(spans, "db.system")
    stmt = attribute_values(spans, "db.statement")
    slow = np.flatnonzero(np.array([d is not None for d in db_system], dtype=bool) & (kind == "client")
                          & (dur_ms > slow_query_ms))
    # new code paths: the caller's server span logs when the call returns
    tree = span_tree(spans)
    new_rows, new_times, new_bodies = [], [], []
    rng = _rng(seed, "signals.new-statements")
    for (svc, call), template in NEW_STATEMENTS.items():
        kids = np.flatnonzero((service == svc) & (name == call))
        par = tree.parent[kids]
        ok = par >= 0
        kids, par = kids[ok], par[ok]
        at_server = kind[par] == "server"
        kids, par = kids[at_server], par[at_server]
        scores = rng.integers(0, 100, len(kids))
        new_rows += par.tolist()
        new_times += end[kids].tolist()
        new_bodies += [template.format(score=int(s), ms=dur_ms[k]) for s, k in zip(scores, kids, strict=True)]
    row = np.concatenate([srv, ev_rows, slow, np.array(new_rows, dtype=np.int64), np.array(lg_rows, dtype=np.int64)])
    time = np.concatenate([end[srv], np.array(times, dtype=np.int64), end[slow], np.array(new_times, dtype=np.int64),
                           np.array(lg_times, dtype=np.int64)])
    body = (handled + bodies + [f"slow query ({dur_ms[i]:.1f} ms): {stmt[i]}" for i in slow] + new_bodies + lg_bodies)
    sev = ["INFO"] * len(srv) + sevs + ["WARN"] * len(slow) + ["INFO"] * len(new_rows) + lg_sevs
    attr = ([{} for _ in srv] + attrs + [{"db.system": db_system[i], "db.statement": stmt[i]} for i in slow]
            + [{} for _ in new_rows] + [{} for _ in lg_rows])
    group = np.repeat(np.arange(5), [len(srv), len(ev_rows), len(slow), len(new_rows), len(lg_rows)])
    order = np.lexsort((row, group, time))
    host = hosts(spans)
    res = spans["resource"].tolist()
    pick = row[order]
    # built by the rules (tests/test_simulate_faults.py checks it): 35 % less time; its cells are new dicts, taken as
    # they are, but for the spans' resources, copied once each
    with taking_cells():
        return logs_from_columns({
            "time": time[order], "trace_id": spans["trace_id"].to_numpy(dtype=object)[pick],
            "span_id": spans["span_id"].to_numpy(dtype=object)[pick], "service": service[pick],
            "host": np.asarray(host, dtype=object)[pick], "severity_text": [sev[k] for k in order],
            "body": [body[k] for k in order], "attributes": [attr[k] for k in order],
            "resource": own_each_object([res[k] for k in pick])}, time_unit="ns", check=False)


def _edges(spans: pd.DataFrame, interval_ns: int) -> np.ndarray:
    t0 = int(ns(spans["start"]).min()) // interval_ns * interval_ns
    t1 = -(-int(ns(spans["end"]).max()) // interval_ns) * interval_ns
    return np.arange(t0, t1 + interval_ns, interval_ns, dtype=np.int64)


def _spread(start: np.ndarray, end: np.ndarray, amount: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(interval index, share of ``amount``) pairs: each span's amount spread evenly over [start, end), cut at the
    interval edges (a span of no duration puts it all in its start's interval)."""
    k = len(edges) - 1
    a = np.clip(np.searchsorted(edges, start, side="right") - 1, 0, k - 1)
    b = np.clip(np.searchsorted(edges, np.maximum(end - 1, start), side="right") - 1, 0, k - 1)
    dur = (end - start).astype(np.float64)
    idx, val = [], []
    for j in range(int((b - a).max()) + 1 if len(a) else 0):
        m = a + j <= b
        i = a[m] + j
        lo, hi = np.maximum(start[m], edges[i]), np.minimum(end[m], edges[i + 1])
        share = np.where(dur[m] > 0, (hi - lo) / np.where(dur[m] > 0, dur[m], 1.0), 1.0)
        idx.append(i)
        val.append(amount[m] * share)
    if not idx:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return np.concatenate(idx), np.concatenate(val)


def _sorted_groups(*columns: np.ndarray) -> np.ndarray:
    """Each row's group of equal values over ``columns``, numbered 0, 1, … in the sorted order of the groups' values
    (a missing value after every other in its column): what ``groupby(sort=True, dropna=False).ngroup()`` gives, at
    numpy's cost (the pandas groupby per host was 0.38 s of app_metrics' 0.9 s on a lab window)."""
    code = np.zeros(len(columns[0]), dtype=np.int64)
    for col in columns:
        f, u = pd.factorize(col, sort=True, use_na_sentinel=False)
        _, code = np.unique(code * max(len(u), 1) + f, return_inverse=True)
    return code.astype(np.int64, copy=False).reshape(-1)


def busy_ns(spans: pd.DataFrame, edges: np.ndarray, rows: np.ndarray, *, own_ns: np.ndarray | None = None) -> np.ndarray:
    """Busy time (ns) of the spans ``rows`` in each interval ``[edges[i], edges[i+1])``: their self time
    (:func:`tracekit.core.self_ns`) spread evenly over each span's duration, cut at the edges, summed;
    client and producer spans (waiting on another component) are not busy.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame.
    edges : numpy.ndarray
        Interval edges, int64 ns since the epoch, increasing.
    rows : numpy.ndarray
        Positions of the spans to count (e.g. one host's).
    own_ns : numpy.ndarray, optional
        ``self_ns(spans)`` when the caller has it (a caller asking host by host computes it once).

    Returns
    -------
    numpy.ndarray
        float64, one value per interval.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["0" * 31 + "1"] * 2, "span_id": ["a" * 16, "b" * 16],
    ...     "parent_id": [None, "a" * 16], "service": ["api", "api"], "name": ["GET /", "q"],
    ...     "kind": ["server", "client"], "start": [5, 8], "end": [15, 12]})
    >>> busy_ns(spans, np.array([0, 10, 20]), np.arange(2)).tolist()  # 10 ns, 4 waiting: 6 busy, 3 + 3
    [3.0, 3.0]
    """
    self = self_ns(spans) if own_ns is None else own_ns
    rows = np.asarray(rows, dtype=np.int64)
    rows = rows[_busy_mask(spans["kind"].to_numpy(dtype=object)[rows], self[rows])]
    return _busy(ns(spans["start"]), ns(spans["end"]), self, edges, rows)


def _busy_mask(kind: np.ndarray, own: np.ndarray) -> np.ndarray:
    """Which spans keep their host busy: not waiting on another component (client, producer), not in progress."""
    return ~np.isin(kind, _NOT_BUSY) & ~np.isnan(own)


def _busy(start: np.ndarray, end: np.ndarray, own: np.ndarray, edges: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """:func:`busy_ns` of the busy spans ``rows`` (none waiting, none in progress), from the frame's arrays."""
    i, v = _spread(start[rows], end[rows], own[rows], edges)
    return np.bincount(i, weights=v, minlength=len(edges) - 1)[: len(edges) - 1]


def app_metrics(spans: pd.DataFrame, *, seed: int = 0, interval_s: float = INTERVAL_S,
                check: bool = True) -> pd.DataFrame:
    """The metrics the simulated application's hosts report while they make ``spans`` (module docstring).

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (the simulator's, or one of its shape); not modified.
    seed : int, default 0
        Seeds the CPU metric's noise.
    interval_s : float, default INTERVAL_S
        Seconds between two points of a series.
    check : bool, default True
        Validate ``spans`` first, as :func:`app_logs`.

    Returns
    -------
    pandas.DataFrame
        A metrics frame: per (service, host) in order of first appearance, the CPU gauge of every
        interval, then the request-duration histogram points, then the in-flight database calls.

    Raises
    ------
    SpansSchemaError
        ``spans`` is not a spans frame.
    ArgumentError
        ``interval_s`` is not positive.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("baseline", n_traces=20, seed=1).spans
    >>> m = app_metrics(spans)
    >>> cpu = m[m["name"] == "process.cpu.utilization"]
    >>> bool(cpu["value"].between(IDLE_CPU - CPU_NOISE, 1).all()), cpu.groupby("host").size().nunique()
    (True, 1)
    """
    spans = _check(spans, "app_metrics", check)
    if not interval_s > 0:
        raise ArgumentError(f"interval_s must be positive, got {interval_s!r}")
    step = int(round(interval_s * 1e9))
    edges = _edges(spans, step)
    k = len(edges) - 1
    start, end = ns(spans["start"]), ns(spans["end"])
    kind = spans["kind"].astype(object).to_numpy()
    host = np.asarray(hosts(spans), dtype=object)
    service = spans["service"].astype(object).to_numpy()
    res = spans["resource"].tolist()
    lam = np.array([isinstance(r, dict) and r.get("cloud.platform") == "aws_lambda" for r in res], dtype=bool)
    keys = pd.DataFrame({"service": service, "host": host})[~lam & pd.notna(host)].drop_duplicates()
    db = np.array([d is not None for d in attribute_values(spans, "db.system")], dtype=bool) & (kind == "client")
    db_system = attribute_values(spans, "db.system")
    code = spans["http_status"].astype("Int64").to_numpy(dtype=np.float64, na_value=np.nan)
    route = attribute_values(spans, "http.route")
    method = attribute_values(spans, "http.request.method")
    trace_id, span_id = spans["trace_id"].to_numpy(dtype=object), spans["span_id"].to_numpy(dtype=object)
    noise = _rng(seed, "signals.cpu")
    own = self_ns(spans)
    bounds = np.array(DURATION_BOUNDS)
    cols: dict[str, list] = {c: [] for c in ("time", "start_time", "name", "unit", "kind", "temporality", "value", "count",
                                             "sum", "min", "max", "buckets", "service", "host", "attributes",
                                             "resource", "exemplars")}

    def add_series(n: int, each: dict[str, list], **kw: Any) -> None:
        """``n`` points at once (a gauge's intervals): ``each`` one value per point, ``kw`` one for all (no dict or list:
        every point gets cells of its own; a point without attributes or exemplars gets a new empty one)."""
        for c in cols:
            if c in each:
                cols[c].extend(each[c])
            elif c in ("attributes", "exemplars") and kw.get(c) is None:
                cols[c].extend([{} for _ in range(n)] if c == "attributes" else [[] for _ in range(n)])
            else:
                cols[c].extend([kw.get(c)] * n)

    def add(**kw: Any) -> None:  # one point
        add_series(1, {c: [v] for c, v in kw.items() if v is not None})

    # each (service, host)'s rows in frame order, found once (not a comparison of every span per key)
    pair, _ = joint_codes(service, host)
    by_pair = np.argsort(pair, kind="stable")
    cuts = np.searchsorted(pair[by_pair], np.arange(int(pair.max()) + 2 if len(pair) else 1))
    busy_rows = _busy_mask(kind, own)
    for first, (svc, h) in zip(keys.index.to_numpy(), keys.itertuples(index=False), strict=True):
        rows = by_pair[cuts[pair[first]]:cuts[pair[first] + 1]]
        # the resource of each interval: the one of the host's last span ended by then (its version), else its first
        by_end = rows[np.argsort(end[rows], kind="stable")]
        at = np.searchsorted(end[by_end], edges[1:], side="right") - 1
        rres = [res[by_end[max(j, 0)]] for j in at.tolist()]
        busy = _busy(start, end, own, edges, rows[busy_rows[rows]])
        cpu = np.round(IDLE_CPU + busy / step + noise.uniform(-CPU_NOISE, CPU_NOISE, k), 5)
        add_series(k, {"time": edges[1:k + 1].tolist(), "value": cpu.tolist(), "resource": rres},
                   name="process.cpu.utilization", unit="1", kind="gauge", service=svc, host=h)
        # request durations: server spans, in the interval where they end
        srv = rows[kind[rows] == "server"]
        if len(srv):
            j_of = np.clip(np.searchsorted(edges, end[srv], side="left") - 1, 0, k - 1)  # (edge j, edge j+1]
            sec = (end[srv] - start[srv]) / 1e9
            # one histogram point per (interval, method, route, status code), in sorted order (missing values last,
            # as a sorted groupby with dropna=False numbers them): counts, sums, extremes and buckets from numpy
            g = _sorted_groups(j_of, np.array([method[i] for i in srv], dtype=object),
                               np.array([route[i] for i in srv], dtype=object), code[srv])
            n_g = int(g.max()) + 1
            order = np.lexsort((np.arange(len(g)), g))  # rows by group, stable
            gs, s_all = g[order], sec[order]
            first = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]])
            n_in = np.diff(np.r_[first, len(gs)])
            sums = [float(x.sum()) for x in np.split(s_all, first[1:])]  # numpy's pairwise sum, as the files were written
            mins, maxs = np.minimum.reduceat(s_all, first), np.maximum.reduceat(s_all, first)
            nb = len(bounds) + 1
            hist = np.bincount(g * nb + np.searchsorted(bounds, sec, side="left"), minlength=n_g * nb).reshape(n_g, nb)
            # the first row holding each group's largest duration (np.argmax's pick within the group)
            is_max = s_all == np.repeat(maxs, n_in)
            top_pos = np.flatnonzero(is_max)
            top_pos = top_pos[np.r_[True, gs[top_pos][1:] != gs[top_pos][:-1]]]
            tops = srv[order[top_pos]]
            lead = order[first]  # a row of each group: its keys
            for gi in range(n_g):
                r0 = int(lead[gi])
                j, m_, r_, c_ = int(j_of[r0]), method[srv[r0]], route[srv[r0]], code[srv[r0]]
                top = int(tops[gi])
                attrs = {"http.request.method": m_, "http.route": r_}
                if c_ == c_:
                    attrs["http.response.status_code"] = int(c_)
                add(time=int(edges[j + 1]), start_time=int(edges[j]), name="http.server.request.duration", unit="s",
                    kind="histogram", temporality="delta", count=float(n_in[gi]), sum=float(sums[gi]),
                    min=float(mins[gi]), max=float(maxs[gi]),
                    buckets={"bounds": list(DURATION_BOUNDS), "counts": hist[gi].tolist()},
                    service=svc, host=h, attributes=attrs, resource=rres[j],
                    exemplars=[{"time": int(end[top]), "value": float(maxs[gi]), "trace_id": trace_id[top],
                                "span_id": span_id[top], "attributes": {}}])
        # database calls in flight, averaged over the interval
        for system in sorted({db_system[i] for i in rows[db[rows]]}):
            calls = rows[db[rows] & (np.array([db_system[i] for i in rows], dtype=object) == system)]
            i, v = _spread(start[calls], end[calls], (end[calls] - start[calls]).astype(np.float64), edges)
            inflight = np.bincount(i, weights=v, minlength=k)[:k] / step
            add_series(k, {"time": edges[1:k + 1].tolist(), "value": np.round(inflight, 6).tolist(), "resource": rres,
                           "attributes": [{"db.system": system} for _ in range(k)]},
                       name="db.client.operations.in_flight", unit="{operation}", kind="gauge", service=svc, host=h)
    # built by the rules (tests/test_simulate_faults.py checks the same columns): half the time of the checked build;
    # its cells are new, taken as they are, but for the spans' resources, copied once each
    cols["resource"] = own_each_object(cols["resource"])
    with taking_cells():
        return metrics_from_columns(cols, time_unit="ns", check=False)
