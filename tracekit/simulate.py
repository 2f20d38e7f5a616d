"""Simulate a realistic multi-service shop, with named incidents and their ground truth.

The simulator builds the canonical spans DataFrame directly (``source="simulated"``, times on
whole microseconds so that X-Ray's float seconds can carry them exactly);
:mod:`tracekit.io.write` turns any spans frame into X-Ray or OTLP files. So one underlying set of
traces is written to both formats, and each reader can be checked against the other.

The application (one request = one trace, routes mixed 45 % products / 25 % cart / 30 % checkout)::

    api-gateway ─► frontend ─┬─► catalog ──(N+1: one call per item)──► inventory ─► DynamoDB(stock)
                             ├─► cart ─► DynamoDB(carts)
                             └─► checkout ─┬─► cart ─► DynamoDB(carts)
                                           ├─► orders-db (postgresql: SELECT, INSERT)
                                           ├─► payments ─► card-network   (503s, retried once)
                                           └─► SQS "orders" ··async··► fulfillment (Lambda, consumer)
                                                                         └─► DynamoDB(shipments)

Errors: payments faults (503, retried once by checkout; a second failure gives 502 all the way
up), carts not found (404 on the cart route), DynamoDB throttles (429, retried once by the SDK),
rare inventory faults (500, ignored by catalog). Exceptions are span events. Every span with an
HTTP status of 400 or more has ``status="error"`` and every other span ``status="ok"`` (so X-Ray,
which has no "unset", and OTLP agree).

Shape of the data: about 20 spans per request. Trace ids start with the request's epoch second
in 8 hex digits (as X-Ray ids do) and end in 96 random bits (so the low 56 bits are the OTel
sampling randomness). ``status_message`` is the exception's message; ``app.item_count`` on the
catalog server span is the N of its N+1 loop; ``app.customer_tier`` and
``app.feature_flag.new_checkout`` ride on the gateway/frontend spans; the consumer's parent is the
producer span (same trace). Resources (``service.name``, ``service.version``, ``host.name``,
``cloud.region``, ``deployment.environment``, and ``faas.*`` for the Lambda) are dicts shared by
the rows of one host and version: treat them as read-only.

The logs and metrics the shop writes beside its spans are derived from them by
:mod:`tracekit.simulate_signals` (``app_logs``, ``app_metrics``).

``python -m tracekit.simulate --write-datasets datasets/`` regenerates ``datasets/`` and
``--write-examples tracekit/examples/data`` the bundled samples (both byte for byte).

Randomness comes from independent streams named after the component that draws it, and every
stream draws the same numbers whatever the scenario: an incident only *adds* to the baseline.
``simulate("db-lock", seed=1)`` and ``simulate("baseline", seed=1)`` therefore have the same
traces, span ids and durations except where the incident was injected — which is what the
tests use to check each injection exactly.

>>> import tracekit as tk
>>> sim = tk.simulate.simulate("db-lock", n_traces=50, seed=1)
>>> sim.truth.service, sim.truth.extra_ms
('checkout', 250.0)
>>> sorted(set(sim.spans["service"]))[:3]
['api-gateway', 'cart', 'catalog']
>>> sim.spans["trace_id"].nunique()
50
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .core.gc_pause import gc_paused
from .errors import ArgumentError, TraceKitError
from .schema import STRING, spans_from_columns, taking_cells

__all__ = [
    "simulate",
    "SCENARIOS",
    "Simulation",
    "AppConfig",
    "Truth",
    "Baseline",
    "DbLock",
    "SlowDeploy",
    "ContextDrop",
    "ClockSkew",
    "ErrorUndersampling",
    "BadHost",
    "ColdStarts",
    "AsyncLinks",
    "threshold_for",
    "write_datasets",
    "write_examples",
    "SIGNAL_DATASETS",
    "DATASETS",
    "EXAMPLES",
]

#: scenario name → one-line description.
SCENARIOS: dict[str, str] = {
    "baseline": "the shop on a normal day: a few payment faults, carts not found, DynamoDB throttles",
    "db-lock": "orders-db lock contention: checkout's DB calls slower by a fixed amount in a known window",
    "slow-deploy": "payments deploys a new version at a known time that adds a slow call to risk-api",
    "context-drop": "the gateway drops trace context for a share of requests (frontend starts new traces) and, "
                    "optionally, loses its client span for another share (frontend's parent is missing)",
    "clock-skew": "one inventory host's clock runs ahead by a known offset",
    "error-undersampling": "head sampling by route keeps the error-prone checkout route least: full population + sampled subset with ot=th thresholds",
    "bad-host": "one catalog host runs a bad release candidate and is slow",
    "cold-starts": "fulfillment (Lambda) scales out at a known time: a burst of cold starts",
    "async-links": "the baseline shop, but fulfillment runs as a trace of its own linked to checkout's `orders publish` "
                   "span (as SQS → Lambda trace linking does)",
}

_US = np.int64
_REGION = "us-east-1"


@dataclass(frozen=True)
class AppConfig:
    """Knobs of the simulated application (rates are per call unless said otherwise)."""

    start: str = "2026-03-02T14:00:00Z"  #: first request arrives at or after this time
    duration_s: float = 3600.0  #: requests arrive uniformly over this many seconds
    route_mix: tuple[tuple[str, float], ...] = (("products", 0.45), ("cart", 0.25), ("checkout", 0.30))
    payments_fault_rate: float = 0.08  #: payments answers 503 (per attempt)
    cart_not_found_rate: float = 0.02  #: cart answers 404 (cart route only, per request)
    dynamodb_throttle_rate: float = 0.002  #: a DynamoDB call answers 429 (then retried once)
    inventory_fault_rate: float = 0.001  #: inventory answers 500 (per call)
    coldstart_rate: float = 0.01  #: a fulfillment invocation lands on a new Lambda environment
    items_min: int = 2  #: catalog's N+1 loop: items per product list, inclusive
    items_max: int = 12


# ---------------------------------------------------------------------------------------------
# ground truth


@dataclass(frozen=True)
class Truth:
    """What every scenario's truth says: which scenario, its seed, size and time range."""

    scenario: str
    seed: int
    n_traces: int
    start: pd.Timestamp
    end: pd.Timestamp
    config: AppConfig


@dataclass(frozen=True)
class Baseline(Truth):
    """Nothing injected."""


@dataclass(frozen=True)
class DbLock(Truth):
    """Every ``orders-db`` call made by ``service`` in a trace whose root starts in
    ``[window_start, window_end)`` takes ``extra_ms`` longer (lock wait)."""

    service: str = "checkout"
    db: str = "orders-db"
    window_start: pd.Timestamp | None = None
    window_end: pd.Timestamp | None = None
    extra_ms: float = 250.0
    n_affected_traces: int = 0


@dataclass(frozen=True)
class SlowDeploy(Truth):
    """From ``deploy_time`` on, every ``service`` span runs ``new_version`` and makes an extra
    client call ``added_span`` to ``added_peer`` (lognormal, median ``added_ms_median``)."""

    service: str = "payments"
    deploy_time: pd.Timestamp | None = None
    old_version: str = "1.4.2"
    new_version: str = "1.5.0"
    added_span: str = "GET /v1/risk-score"
    added_peer: str = "risk-api"
    added_ms_median: float = 180.0


@dataclass(frozen=True)
class ContextDrop(Truth):
    """For a share of requests the ``caller`` does not propagate context to ``callee``: the callee's
    server span starts a new trace (no parent). ``dropped`` pairs (original trace id, new trace id).
    For another share ``orphan_share`` the caller's client span is lost (never exported): the callee's
    server span keeps the trace but its parent is missing. ``orphaned`` pairs (trace id, missing
    parent span id)."""

    caller: str = "api-gateway"
    callee: str = "frontend"
    share: float = 0.1
    n_dropped: int = 0
    dropped: tuple[tuple[str, str], ...] = ()
    orphan_share: float = 0.0
    n_orphaned: int = 0
    orphaned: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ClockSkew(Truth):
    """Every span recorded on ``host`` of ``service`` is stamped ``offset_ms`` late (clock ahead)."""

    service: str = "inventory"
    host: str = "inventory-2"
    offset_ms: float = 120.0


@dataclass(frozen=True)
class ErrorUndersampling(Truth):
    """Head sampling by route: a trace is kept iff its randomness (the trace id's low 56 bits) is
    ≥ the route's threshold ``T = (1 - p) · 2**56`` (OTel ``ot=th:`` hex). ``inclusion`` has one row
    per population trace: trace_id, route, probability, th, sampled, has_error."""

    probabilities: tuple[tuple[str, float], ...] = (("products", 0.5), ("cart", 0.5), ("checkout", 0.0625))
    n_population: int = 0
    n_sampled: int = 0
    error_share_population: float = 0.0  #: share of population traces with any span in error
    error_share_sampled: float = 0.0  #: the same share in the sample, unweighted (biased)
    inclusion: pd.DataFrame | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class BadHost(Truth):
    """``host`` of ``service`` runs ``bad_version`` (the others ``good_version``); its
    ``slow_span`` takes extra time (lognormal, median ``extra_ms_median``)."""

    service: str = "catalog"
    host: str = "catalog-3"
    good_version: str = "2.0.3"
    bad_version: str = "2.1.0-rc1"
    slow_span: str = "load product list"
    extra_ms_median: float = 120.0


@dataclass(frozen=True)
class ColdStarts(Truth):
    """In ``[scale_out_time, scale_out_time + window_s)`` a share ``burst_rate`` of ``service``
    invocations land on new Lambda environments (``faas.coldstart`` true, an ``Initialization``
    child of median ``coldstart_ms_median``), against ``config.coldstart_rate`` otherwise."""

    service: str = "fulfillment"
    scale_out_time: pd.Timestamp | None = None
    window_s: float = 600.0
    burst_rate: float = 0.5
    coldstart_ms_median: float = 700.0
    n_cold_starts: int = 0


@dataclass(frozen=True)
class AsyncLinks(Truth):
    """The baseline's traffic (same seed: same spans, ids and times), except that every
    ``consumer_service`` invocation starts a trace of its own: its ``consumer_span`` is the root of a
    new trace and carries one link to the ``producer_span`` that published the message (no parent).
    ``hops`` lists (producer trace id, producer span id, consumer trace id, consumer span id,
    queue wait in µs = consumer start − producer end), one per published message."""

    producer_service: str = "checkout"
    producer_span: str = "orders publish"
    consumer_service: str = "fulfillment"
    consumer_span: str = "orders process"
    queue: str = "orders"
    n_hops: int = 0
    hops: tuple[tuple[str, str, str, str, int], ...] = ()


@dataclass(frozen=True)
class Simulation:
    """A simulated run: ``spans`` (canonical DataFrame), ``truth`` (what was injected) and, for
    sampling scenarios, the full ``population`` the ``spans`` were sampled from."""

    scenario: str
    seed: int
    spans: pd.DataFrame = field(repr=False, compare=False)
    truth: Truth
    population: pd.DataFrame | None = field(default=None, repr=False, compare=False)


# ---------------------------------------------------------------------------------------------
# the application

_SERVICES: dict[str, tuple[str, int]] = {  # service -> (version, hosts)
    "api-gateway": ("2.3.1", 2),
    "frontend": ("1.12.0", 3),
    "checkout": ("3.4.0", 3),
    "cart": ("1.8.2", 2),
    "catalog": ("2.0.3", 4),
    "payments": ("1.4.2", 2),
    "inventory": ("0.9.7", 3),
    "fulfillment": ("17", 0),  # Lambda: hosts are execution environments
}
_ROUTES = {"products": ("GET", "/products"), "cart": ("GET", "/cart"), "checkout": ("POST", "/checkout")}
_TIERS = (("free", 0.6), ("pro", 0.3), ("enterprise", 0.1))
_CATEGORIES = np.array(["books", "games", "garden", "kitchen", "toys"], dtype=object)


def _ln(rng: np.random.Generator, median_ms: float, sigma: float, n: int) -> np.ndarray:
    """Lognormal durations in whole microseconds (≥ 1)."""
    x = median_ms * 1000.0 * np.exp(sigma * rng.standard_normal(n))
    return np.maximum(1, np.rint(x)).astype(_US)


def _hex(ids: np.ndarray, width: int) -> list[str]:
    s = ids.astype(">u8").tobytes().hex()
    return [s[i:i + width] for i in range(0, len(s), width)]


class _Sim:
    """Accumulates span columns step by step (each step vectorised over many requests)."""

    def __init__(self, scenario: str, seed: int, n: int, cfg: AppConfig):
        self.scenario, self.seed, self.n, self.cfg = scenario, seed, n, cfg
        self._streams: dict[str, np.random.Generator] = {}
        self.steps: list[dict[str, Any]] = []
        r = self.rng("request")
        self.t0_us = int(pd.Timestamp(cfg.start).value // 1000)
        self.arrival = self.t0_us + np.sort(np.rint(r.uniform(0, cfg.duration_s * 1e6, n)).astype(_US))
        names = [k for k, _ in cfg.route_mix]
        p = np.array([v for _, v in cfg.route_mix], dtype=float)
        self.route = np.array(names, dtype=object)[r.choice(len(names), n, p=p / p.sum())]
        tiers = np.array([t for t, _ in _TIERS], dtype=object)
        self.tier = tiers[r.choice(len(tiers), n, p=[q for _, q in _TIERS])]
        self.flag = r.random(n) < 0.3  # app.feature_flag.new_checkout
        self.cart_id = r.integers(10_000, 99_999, n)
        self.category = _CATEGORIES[r.integers(0, len(_CATEGORIES), n)]
        # trace table: index -> (first-8-hex epoch seconds, 96 random bits)
        self.trace_start = list(self.arrival)
        self.trace_rand = [r.bit_generator.random_raw(n), r.bit_generator.random_raw(n)]
        self.extra_traces: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.n_trace = n
        # scenario knobs (set by simulate())
        self.lock: tuple[int, int, int] | None = None  # (start_us, end_us, extra_us)
        self.deploy_us: int | None = None
        self.drop_share = 0.0
        self.bad_host: str | None = None
        self.skew: dict[tuple[str, str], int] = {}
        self.cold_window: tuple[int, int, float] | None = None
        self.dropped_pairs: list[tuple[int, int]] = []
        self.orphan_share = 0.0
        self.orphans: list[tuple[int, int]] = []  # (trace index, lost client span id)
        self.link_consumers = False  # async-links: consumers start linked traces of their own
        self.hops: list[tuple[int, int, int, int, int]] = []  # (producer trace, span, consumer trace, span, wait µs)

    # -- randomness and ids
    def rng(self, name: str) -> np.random.Generator:
        g = self._streams.get(name)
        if g is None:
            g = self._streams[name] = np.random.default_rng([self.seed, zlib.crc32(name.encode())])
        return g

    def ids(self, n: int, stream: str = "ids") -> np.ndarray:
        x = self.rng(stream).bit_generator.random_raw(n).astype(np.uint64)
        return np.where(x == 0, np.uint64(1), x)

    def new_traces(self, start_us: np.ndarray, stream: str = "trace.drop") -> np.ndarray:
        """Allocate trace indices for traces started downstream (context dropped, or a linked trace)."""
        r = self.rng(stream)
        k = len(start_us)
        idx = np.arange(self.n_trace, self.n_trace + k)
        self.extra_traces.append((start_us, r.bit_generator.random_raw(k), r.bit_generator.random_raw(k)))
        self.n_trace += k
        return idx

    def hosts(self, service: str, n: int) -> np.ndarray:
        k = _SERVICES[service][1]
        names = np.array([f"{service}-{i}" for i in range(1, k + 1)], dtype=object)
        return names[self.rng(f"{service}.host").integers(0, k, n)]

    # -- recording
    def add(self, *, tr, sid, pid, service, name, kind, start, end, host, version=None, http=None,
            attrs=None, status_message=None, events=None, links=None) -> None:
        n = len(sid)
        if n == 0:
            return
        self.steps.append(dict(
            # copies: callers keep updating their arrays (retries overwrite codes and end times)
            tr=np.array(tr, dtype=np.int64), sid=np.array(sid), pid=np.array(pid, dtype=np.uint64),
            service=service, name=name if np.isscalar(name) else np.array(name, dtype=object), kind=kind,
            start=np.array(start, dtype=_US), end=np.array(end, dtype=_US),
            host=host if np.isscalar(host) else np.array(host, dtype=object),
            version=_SERVICES.get(service, ("", 0))[0] if version is None else version,
            http=np.zeros(n, dtype=np.int64) if http is None else np.array(http, dtype=np.int64),
            attrs=attrs if attrs is not None else [{} for _ in range(n)],
            status_message=status_message, events=events, links=links, n=n))

    # -- building blocks
    def http_call(self, req, tr, parent, host, caller, callee, method, route, paths, t, serve,
                  *, extra_attrs: Sequence[dict] | None = None, stream: str | None = None, drop=None, lost=None):
        """A client span from ``caller`` to ``callee`` that calls ``serve`` (None: uninstrumented)."""
        n = len(req)
        r = self.rng(stream or f"{caller}->{callee}")
        cid = self.ids(n, "ids" if stream is None else f"ids.{stream}")
        up, down = _ln(r, 0.4, 0.3, n), _ln(r, 0.4, 0.3, n)
        if serve is None:
            raise TraceKitError("http_call needs a server function")
        s_tr, s_parent = tr, cid
        if drop is not None and drop.any():
            s_tr = tr.copy()
            s_tr[drop] = self.new_traces(t[drop] + up[drop])
            s_parent = np.where(drop, np.uint64(0), cid)
            self.dropped_pairs += list(zip(tr[drop].tolist(), s_tr[drop].tolist(), strict=False))
        s_end, code = serve(self, req, s_tr, s_parent, t + up)
        end = s_end + down
        attrs = [{"http.request.method": method, "url.full": f"http://{callee}:8080{p}", "server.address": callee,
                  "server.port": 8080, "peer.service": callee, "http.response.status_code": int(c)}
                 for p, c in zip(paths, code, strict=False)]
        if extra_attrs is not None:
            for a, e in zip(attrs, extra_attrs, strict=False):
                a.update(e)
        keep = slice(None)
        if lost is not None and lost.any():  # the client span is never exported: its callee is an orphan
            self.orphans += list(zip(tr[lost].tolist(), cid[lost].tolist(), strict=False))
            keep = ~lost
            attrs = [a for a, k in zip(attrs, keep, strict=False) if k]
        ver = self._ver(caller, host)
        self.add(tr=tr[keep], sid=cid[keep], pid=parent[keep], service=caller, name=f"{method} {route}",
                 kind="client", start=t[keep], end=end[keep], host=host[keep], http=code[keep], attrs=attrs,
                 version=ver if ver is None else ver[keep])
        return end, code

    def _ver(self, service: str, host) -> Any:
        if service == "catalog" and self.bad_host is not None:
            return np.where(host == self.bad_host, "2.1.0-rc1", _SERVICES["catalog"][0])
        return None

    def server(self, service, req, tr, parent, t, method, route, paths, host, end, code, attrs=None,
               events=None, status_message=None, version=None, kind="server", sid=None):
        attrs = attrs if attrs is not None else [{} for _ in range(len(req))]
        for a, p, c in zip(attrs, paths, code, strict=False):
            a.update({"http.request.method": method, "http.route": route, "url.path": p, "url.scheme": "http",
                      "server.address": f"{service}.shop.internal", "http.response.status_code": int(c)})
        self.add(tr=tr, sid=sid, pid=parent, service=service, name=f"{method} {route}", kind=kind, start=t,
                 end=end, host=host, http=code, attrs=attrs, events=events, status_message=status_message,
                 version=version if version is not None else self._ver(service, host))

    def internal(self, service, tr, parent, host, t, dur, name, version=None, attrs=None):
        n = len(tr)
        self.add(tr=tr, sid=self.ids(n), pid=parent, service=service, name=name, kind="internal", start=t,
                 end=t + dur, host=host, attrs=attrs, version=version if version is not None else self._ver(service, host))
        return t + dur

    def dynamodb(self, service, req, tr, parent, host, t, op, table, version=None):
        """A DynamoDB call; a throttled (429) call is retried once after a backoff."""
        n = len(req)
        r = self.rng(f"{service}.dynamodb.{table}")
        dur = _ln(r, 2.5 if op == "GetItem" else 4.0, 0.35, n)
        thr = r.random(n) < self.cfg.dynamodb_throttle_rate
        backoff = _ln(r, 25.0, 0.3, n)
        dur2 = _ln(r, 2.5 if op == "GetItem" else 4.0, 0.35, n)
        ver = version if version is not None else self._ver(service, host)

        def attrs(codes, retry):
            return [{"rpc.system": "aws-api", "rpc.service": "DynamoDB", "rpc.method": op,
                     "aws.dynamodb.table_names": [table], "cloud.region": _REGION,
                     "server.address": f"dynamodb.{_REGION}.amazonaws.com", "peer.service": "DynamoDB",
                     "http.response.status_code": int(c), **({"http.request.resend_count": 1} if retry else {})}
                    for c in codes]

        code1 = np.where(thr, 429, 200)
        end1 = t + dur
        sm = np.where(thr, "Rate of requests exceeds the allowed throughput", None)
        self.add(tr=tr, sid=self.ids(n), pid=parent, service=service, name=f"DynamoDB.{op}", kind="client",
                 start=t, end=end1, host=host, http=code1, attrs=attrs(code1, False), version=ver,
                 status_message=sm, events=_exc_events(end1, thr, "ProvisionedThroughputExceededException",
                                                        "Rate of requests exceeds the allowed throughput"))
        end = end1.copy()
        if thr.any():
            t2 = end1[thr] + backoff[thr]
            e2 = t2 + dur2[thr]
            m = int(thr.sum())
            self.add(tr=tr[thr], sid=self.ids(m), pid=parent[thr], service=service, name=f"DynamoDB.{op}",
                     kind="client", start=t2, end=e2, host=host[thr], http=np.full(m, 200),
                     attrs=attrs([200] * m, True), version=ver if np.isscalar(ver) or ver is None else ver[thr])
            end[thr] = e2
        return end

    def db(self, service, req, tr, parent, host, t, op, table, statement):
        n = len(req)
        r = self.rng(f"{service}.orders-db.{op}")
        dur = _ln(r, 3.0 if op == "SELECT" else 5.0, 0.4, n)
        if self.lock is not None:
            a, b, extra = self.lock
            arr = self.arrival[req]
            dur = dur + np.where((arr >= a) & (arr < b), extra, 0)
        attrs = [{"db.system": "postgresql", "db.name": "orders", "db.operation": op, "db.sql.table": table,
                  "db.statement": statement, "db.user": "checkout_app", "server.address": "orders-db",
                  "server.port": 5432, "peer.service": "orders-db"} for _ in range(n)]
        self.add(tr=tr, sid=self.ids(n), pid=parent, service=service, name=f"{op} {table}", kind="client",
                 start=t, end=t + dur, host=host, attrs=attrs)
        return t + dur


def _exc_events(at_us: np.ndarray, mask: np.ndarray, etype: str, message: str | np.ndarray) -> list[list[dict]]:
    msgs = message if isinstance(message, np.ndarray) else None
    return [[{"time": int(a) * 1000, "name": "exception",
              "attributes": {"exception.type": etype, "exception.message": msgs[i] if msgs is not None else message,
                             "exception.escaped": False}}] if m else []
            for i, (a, m) in enumerate(zip(at_us, mask, strict=False))]


def _split(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask)


# -- services ------------------------------------------------------------------------------------

def _gateway(s: _Sim, req: np.ndarray) -> None:
    n = len(req)
    r = s.rng("api-gateway")
    host = s.hosts("api-gateway", n)
    root = s.ids(n)
    pre, post = _ln(r, 1.0, 0.3, n), _ln(r, 0.5, 0.3, n)
    drop = r.random(n) < s.drop_share if s.drop_share > 0 else None
    lost = None
    if s.orphan_share > 0:  # own stream: the drop decisions above stay the same
        lost = s.rng("api-gateway.lost").random(n) < s.orphan_share
        if drop is not None:
            lost &= ~drop
    t0 = s.arrival[req]
    tr = req.copy()
    end = np.zeros(n, dtype=_US)
    code = np.zeros(n, dtype=np.int64)
    for route, (method, path) in _ROUTES.items():
        k = _split(s.route[req] == route)
        if not len(k):
            continue
        e, c = s.http_call(req[k], tr[k], root[k], host[k], "api-gateway", "frontend", method, path,
                           [path] * len(k), t0[k] + pre[k], _frontend, drop=None if drop is None else drop[k],
                           lost=None if lost is None else lost[k])
        end[k], code[k] = e, c
    attrs = [{"app.customer_tier": t, "client.address": f"203.0.113.{i % 250 + 1}",
              "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64)"} for t, i in zip(s.tier[req], req, strict=False)]
    paths = [_ROUTES[x][1] for x in s.route[req]]
    methods = np.array([_ROUTES[x][0] for x in s.route[req]], dtype=object)
    for a, p, c, m in zip(attrs, paths, code, methods, strict=False):
        a.update({"http.request.method": m, "http.route": p, "url.path": p, "url.scheme": "https",
                  "server.address": "shop.example.com", "http.response.status_code": int(c)})
    s.add(tr=tr, sid=root, pid=np.zeros(n, np.uint64), service="api-gateway",
          name=np.array([f"{m} {p}" for m, p in zip(methods, paths, strict=False)], dtype=object), kind="server",
          start=t0, end=end + post, host=host, http=code, attrs=attrs)


def _frontend(s: _Sim, req, tr, parent, t):
    n = len(req)
    r = s.rng("frontend")
    host = s.hosts("frontend", n)
    sid = s.ids(n)
    pre, render, post = _ln(r, 2.0, 0.3, n), _ln(r, 3.0, 0.4, n), _ln(r, 0.5, 0.3, n)
    end = np.zeros(n, dtype=_US)
    code = np.zeros(n, dtype=np.int64)
    for route, (callee, method, path, fn) in {
        "products": ("catalog", "GET", "/api/products", _catalog),
        "cart": ("cart", "GET", "/api/cart/{cart_id}", _cart),
        "checkout": ("checkout", "POST", "/api/checkout", _checkout),
    }.items():
        k = _split(s.route[req] == route)
        if not len(k):
            continue
        if route == "products":
            paths = [f"/api/products?category={c}" for c in s.category[req[k]]]
        elif route == "cart":
            paths = [f"/api/cart/{c}" for c in s.cart_id[req[k]]]
        else:
            paths = ["/api/checkout"] * len(k)
        e, c = s.http_call(req[k], tr[k], sid[k], host[k], "frontend", callee, method, path, paths, t[k] + pre[k], fn)
        end[k], code[k] = e, c
    end = s.internal("frontend", tr, sid, host, end, render, "render page")
    code = np.where(code >= 500, 502, code)
    fpath = [_ROUTES[x][1] for x in s.route[req]]
    attrs = [{"app.customer_tier": tier, "app.feature_flag.new_checkout": bool(f)}
             for tier, f in zip(s.tier[req], s.flag[req], strict=False)]
    events = _exc_events(end, code >= 500, "BadGateway", "upstream service failed")
    sm = np.where(code >= 500, "upstream service failed", None)
    for route, (m, p) in _ROUTES.items():
        k = _split(s.route[req] == route)
        if len(k):
            s.server("frontend", req[k], tr[k], parent[k], t[k], m, p, [fpath[i] for i in k], host[k],
                     end[k] + post[k], code[k], attrs=[attrs[i] for i in k], events=[events[i] for i in k],
                     status_message=sm[k], sid=sid[k])
    return end + post, code


def _cart(s: _Sim, req, tr, parent, t):
    n = len(req)
    r = s.rng("cart")
    host = s.hosts("cart", n)
    sid = s.ids(n)
    pre, post = _ln(r, 1.0, 0.3, n), _ln(r, 0.8, 0.3, n)
    nf = (r.random(n) < s.cfg.cart_not_found_rate) & (s.route[req] == "cart")
    end = s.dynamodb("cart", req, tr, sid, host, t + pre, "GetItem", "carts")
    code = np.where(nf, 404, 200)
    paths = [f"/api/cart/{c}" for c in s.cart_id[req]]
    s.server("cart", req, tr, parent, t, "GET", "/api/cart/{cart_id}", paths, host, end + post, code, sid=sid)
    return end + post, code


def _checkout(s: _Sim, req, tr, parent, t):
    n = len(req)
    r = s.rng("checkout")
    host = s.hosts("checkout", n)
    sid = s.ids(n)
    pre, validate, post = _ln(r, 2.0, 0.3, n), _ln(r, 1.5, 0.3, n), _ln(r, 1.0, 0.3, n)
    backoff = _ln(r, 50.0, 0.2, n)
    cur = s.internal("checkout", tr, sid, host, t + pre, validate, "validate order")
    paths = [f"/api/cart/{c}" for c in s.cart_id[req]]
    cur, _ = s.http_call(req, tr, sid, host, "checkout", "cart", "GET", "/api/cart/{cart_id}", paths, cur, _cart)
    cur = s.db("checkout", req, tr, sid, host, cur, "SELECT", "orders",
               "SELECT id, status FROM orders WHERE customer_id = $1 AND status = 'open'")
    pay = ["/api/charge"] * n
    cur, code = s.http_call(req, tr, sid, host, "checkout", "payments", "POST", "/api/charge", pay, cur, _payments)
    failed = code >= 500
    if failed.any():  # one retry after a backoff
        k = _split(failed)
        e2, c2 = s.http_call(req[k], tr[k], sid[k], host[k], "checkout", "payments", "POST", "/api/charge",
                             pay[: len(k)], cur[k] + backoff[k], _payments, extra_attrs=[{"http.request.resend_count": 1}] * len(k))
        cur[k], code[k] = e2, c2
    ok = _split(code < 500)
    if len(ok):
        e = s.db("checkout", req[ok], tr[ok], sid[ok], host[ok], cur[ok], "INSERT", "orders",
                 "INSERT INTO orders (customer_id, cart_id, total) VALUES ($1, $2, $3)")
        e = _publish(s, req[ok], tr[ok], sid[ok], host[ok], e)
        cur[ok] = e
    out = np.where(code >= 500, 502, 200)
    end = cur + post
    bad = out >= 500
    s.server("checkout", req, tr, parent, t, "POST", "/api/checkout", ["/api/checkout"] * n, host, end, out,
             events=_exc_events(end, bad, "PaymentFailedError", "payment failed after 1 retry"),
             status_message=np.where(bad, "payment failed after 1 retry", None), sid=sid)
    return end, out


def _payments(s: _Sim, req, tr, parent, t):
    n = len(req)
    r = s.rng("payments")
    host = s.hosts("payments", n)
    sid = s.ids(n)
    pre, fraud, post = _ln(r, 1.0, 0.3, n), _ln(r, 6.0, 0.4, n), _ln(r, 1.0, 0.3, n)
    fault = r.random(n) < s.cfg.payments_fault_rate
    version = np.full(n, _SERVICES["payments"][0], dtype=object)
    new = t >= s.deploy_us if s.deploy_us is not None else np.zeros(n, dtype=bool)
    version[new] = "1.5.0"
    # the fraud check runs in the same process as the request it serves: the deployed version's spans say 1.5.0
    cur = s.internal("payments", tr, sid, host, t + pre, fraud, "fraud-check", version=version)
    if s.deploy_us is not None:
        k = _split(new)
        if len(k):
            rd = s.rng("deploy")
            e = cur[k] + _ln(rd, 180.0, 0.25, len(k))
            kid = s.ids(len(k), "ids.deploy")
            s.add(tr=tr[k], sid=kid, pid=sid[k], service="payments", name="GET /v1/risk-score", kind="client",
                  start=cur[k], end=e, host=host[k], version="1.5.0", http=np.full(len(k), 200),
                  attrs=[{"http.request.method": "GET", "url.full": "https://risk-api.partner.example/v1/risk-score",
                          "server.address": "risk-api.partner.example", "peer.service": "risk-api",
                          "http.response.status_code": 200} for _ in k])
            cur[k] = e
    # the card network is outside: a client span only
    card = _ln(r, 80.0, 0.45, n)
    ccode = np.where(fault, 502, 200)
    cid = s.ids(n)
    s.add(tr=tr, sid=cid, pid=sid, service="payments", name="POST /v1/charges", kind="client", start=cur,
          end=cur + card, host=host, version=version, http=ccode,
          attrs=[{"http.request.method": "POST", "url.full": "https://api.card-network.example/v1/charges",
                  "server.address": "api.card-network.example", "peer.service": "card-network",
                  "http.response.status_code": int(c)} for c in ccode])
    end = cur + card + post
    code = np.where(fault, 503, 200)
    s.server("payments", req, tr, parent, t, "POST", "/api/charge", ["/api/charge"] * n, host, end, code,
             events=_exc_events(end, fault, "CardNetworkError", "card network returned 502"),
             status_message=np.where(fault, "card network returned 502", None),
             version=version, sid=sid)
    return end, code


def _catalog(s: _Sim, req, tr, parent, t):
    n = len(req)
    r = s.rng("catalog")
    host = s.hosts("catalog", n)
    sid = s.ids(n)
    pre, load, post = _ln(r, 1.0, 0.3, n), _ln(r, 4.0, 0.35, n), _ln(r, 2.0, 0.3, n)
    items = r.integers(s.cfg.items_min, s.cfg.items_max + 1, n)
    if s.bad_host is not None:
        slow = host == s.bad_host
        load = load + np.where(slow, _ln(s.rng("bad-host"), 120.0, 0.3, n), 0)
    cur = s.internal("catalog", tr, sid, host, t + pre, load, "load product list")
    skus = s.rng("catalog.sku").integers(100_000, 999_999, (n, s.cfg.items_max))
    for j in range(s.cfg.items_max):  # the N+1 loop: one inventory call per item, one after another
        k = _split(items > j)
        if not len(k):
            break
        paths = [f"/api/stock/{x}" for x in skus[k, j]]
        e, _ = s.http_call(req[k], tr[k], sid[k], host[k], "catalog", "inventory", "GET", "/api/stock/{sku}",
                           paths, cur[k], _inventory)
        cur[k] = e
    end = cur + post
    paths = [f"/api/products?category={c}" for c in s.category[req]]
    s.server("catalog", req, tr, parent, t, "GET", "/api/products", paths, host, end, np.full(n, 200),
             attrs=[{"app.item_count": int(i)} for i in items], sid=sid)
    return end, np.full(n, 200)


def _inventory(s: _Sim, req, tr, parent, t):
    n = len(req)
    r = s.rng("inventory")
    host = s.hosts("inventory", n)
    sid = s.ids(n)
    pre, post = _ln(r, 0.5, 0.3, n), _ln(r, 0.3, 0.3, n)
    fault = r.random(n) < s.cfg.inventory_fault_rate
    end = s.dynamodb("inventory", req, tr, sid, host, t + pre, "GetItem", "stock") + post
    code = np.where(fault, 500, 200)
    s.server("inventory", req, tr, parent, t, "GET", "/api/stock/{sku}", ["/api/stock/{sku}"] * n, host, end, code,
             events=_exc_events(end, fault, "StockLookupError", "stock record unreadable"),
             status_message=np.where(fault, "stock record unreadable", None), sid=sid)
    return end, code


def _publish(s: _Sim, req, tr, parent, host, t):
    """checkout → SQS "orders" (producer); fulfillment consumes it later (async, not awaited)."""
    n = len(req)
    r = s.rng("sqs")
    dur, queue = _ln(r, 8.0, 0.3, n), _ln(r, 40.0, 0.6, n)
    pid = s.ids(n)
    url = f"https://sqs.{_REGION}.amazonaws.com/123456789012/orders"
    s.add(tr=tr, sid=pid, pid=parent, service="checkout", name="orders publish", kind="producer", start=t,
          end=t + dur, host=host, http=np.full(n, 200),
          attrs=[{"messaging.system": "aws_sqs", "messaging.destination.name": "orders",
                  "messaging.operation.type": "publish", "rpc.system": "aws-api", "rpc.service": "SQS",
                  "rpc.method": "SendMessage", "aws.sqs.queue_url": url, "cloud.region": _REGION,
                  "server.address": f"sqs.{_REGION}.amazonaws.com", "peer.service": "SQS",
                  "http.response.status_code": 200} for _ in range(n)])
    if s.link_consumers:  # the consumer starts a trace of its own, linked to this producer span
        ctr = s.new_traces(t + dur + queue, stream="trace.link")
        _fulfillment(s, req, ctr, np.zeros(n, dtype=np.uint64), t + dur + queue, link=(tr, pid, queue))
    else:
        _fulfillment(s, req, tr, pid, t + dur + queue)
    return t + dur


def _fulfillment(s: _Sim, req, tr, parent, t, link=None):
    n = len(req)
    r = s.rng("fulfillment")
    sid = s.ids(n)
    links = None
    if link is not None:
        ptr, psid, wait = link
        links = list(zip(np.asarray(ptr).tolist(), np.asarray(psid).tolist(), strict=True))
        s.hops += list(zip(np.asarray(ptr).tolist(), np.asarray(psid).tolist(), np.asarray(tr).tolist(),
                           sid.tolist(), np.asarray(wait).tolist(), strict=True))
    cold = r.random(n) < s.cfg.coldstart_rate
    warm_env = np.array([f"fulfillment-env-{i}" for i in range(1, 7)], dtype=object)[r.integers(0, 6, n)]
    init = _ln(r, 700.0, 0.3, n)
    alloc, post = _ln(r, 3.0, 0.3, n), _ln(r, 1.0, 0.3, n)
    if s.cold_window is not None:
        a, b, rate = s.cold_window
        burst = (t >= a) & (t < b) & (s.rng("cold-starts").random(n) < rate)
        cold = cold | burst
    env = warm_env.copy()
    fresh = s.rng("fulfillment.env").bit_generator.random_raw(n)
    env[cold] = [f"fulfillment-env-{x:08x}" for x in (fresh[cold] >> np.uint64(32))]
    cur = t.copy()
    k = _split(cold)
    if len(k):
        cur[k] = s.internal("fulfillment", tr[k], sid[k], env[k], t[k], init[k], "Initialization",
                            attrs=[{"faas.coldstart": True} for _ in k])
    cur = s.dynamodb("fulfillment", req, tr, sid, env, cur, "PutItem", "shipments")
    cur = s.internal("fulfillment", tr, sid, env, cur, alloc, "allocate warehouse")
    end = cur + post
    s.add(tr=tr, sid=sid, pid=parent, service="fulfillment", name="orders process", kind="consumer", start=t,
          end=end, host=env, links=links, attrs=[{"messaging.system": "aws_sqs", "messaging.destination.name": "orders",
                                      "messaging.operation.type": "process", "faas.coldstart": bool(c),
                                      "faas.trigger": "pubsub", "faas.invocation_id": f"{x:016x}"}
                                     for c, x in zip(cold, fresh, strict=False)])
    return end


# ---------------------------------------------------------------------------------------------
# assembling the DataFrame

def _resource(service: str, host: str, version: str) -> dict:
    res = {"service.name": service, "service.version": version, "host.name": host, "cloud.provider": "aws",
           "cloud.region": _REGION, "deployment.environment": "production",
           "telemetry.sdk.name": "opentelemetry", "telemetry.sdk.language": "python"}
    if service == "fulfillment":
        res.update({"cloud.platform": "aws_lambda", "faas.name": "fulfillment", "faas.instance": host,
                    "faas.version": version})
    else:
        res["cloud.platform"] = "aws_ecs"
    return res


def _strings(values: np.ndarray | list, codes: np.ndarray | None = None) -> pd.Series:
    """A string[pyarrow] Series built by Arrow directly (3-10x faster than astype); with ``codes``,
    ``values`` are the distinct strings and ``codes`` index them (None/-1 → <NA>)."""
    arr = pa.array(values, type=pa.large_string())
    if codes is not None:
        arr = arr.take(pa.array(codes, mask=codes < 0))
    return pd.Series(pd.array(arr, dtype=STRING))


def _finish(s: _Sim) -> pd.DataFrame:
    st = s.steps
    n_rows = sum(x["n"] for x in st)

    def cat(key, dtype=None):
        parts = []
        for x in st:
            v = x[key]
            if v is None or np.isscalar(v) or isinstance(v, str):
                parts.append(np.full(x["n"], v, dtype=object if dtype is None else dtype))
            else:
                parts.append(np.asarray(v, dtype=object if dtype is None else dtype))
        return np.concatenate(parts) if parts else np.array([], dtype=dtype or object)

    def coded(key) -> tuple[np.ndarray, list]:
        """Low-cardinality text: integer codes per row and the distinct values (no per-row hashing
        for the many steps that record one value for all their rows)."""
        uniq: dict[Any, int] = {}
        parts = []
        for x in st:
            v = x[key]
            if v is None or isinstance(v, str):
                parts.append(np.full(x["n"], -1 if v is None else uniq.setdefault(v, len(uniq)), dtype=np.int64))
            else:
                c, u = pd.factorize(np.asarray(v, dtype=object), use_na_sentinel=True)
                m = np.array([uniq.setdefault(str(w), len(uniq)) for w in u], dtype=np.int64)
                parts.append(np.where(c < 0, -1, m[np.maximum(c, 0)] if len(m) else -1))
        return np.concatenate(parts), list(uniq)

    tr = cat("tr", np.int64)
    sid, pid = cat("sid", np.uint64), cat("pid", np.uint64)
    start, end = cat("start", np.int64), cat("end", np.int64)
    svc_c, svc_u = coded("service")
    host_c, host_u = coded("host")
    ver_c, ver_u = coded("version")
    for (svc, h), off in s.skew.items():
        if svc in svc_u and h in host_u:
            m = (svc_c == svc_u.index(svc)) & (host_c == host_u.index(h))
            start[m] += off
            end[m] += off
    http = cat("http", np.int64)
    attrs = [a for x in st for a in x["attrs"]]
    events = [e for x in st for e in (x["events"] if x["events"] is not None else [[] for _ in range(x["n"])])]
    raw_links = [lk for x in st for lk in (x["links"] if x.get("links") is not None else [None] * x["n"])]
    msg_c, msg_u = coded("status_message")
    name_c, name_u = coded("name")
    kind_c, kind_u = coded("kind")
    # trace ids: 8 hex epoch seconds of the trace's first request + 24 random hex
    tstart = np.concatenate([s.arrival] + [e[0] for e in s.extra_traces]) // 1_000_000
    hi = np.concatenate([s.trace_rand[0]] + [e[1] for e in s.extra_traces]).astype(np.uint64)
    lo = np.concatenate([s.trace_rand[1]] + [e[2] for e in s.extra_traces]).astype(np.uint64)
    ep = _hex(tstart.astype(np.uint64), 16)
    hh, ll = _hex(hi, 16), _hex(lo, 16)
    tids = [e[8:] + h[8:] + x for e, h, x in zip(ep, hh, ll, strict=False)]
    # links: (trace index, span id) of the linked span, resolved to ids now that trace ids exist
    links = [[] if lk is None else [{"trace_id": tids[lk[0]], "span_id": f"{int(lk[1]):016x}", "trace_state": None,
                                     "flags": None, "attributes": {}}] for lk in raw_links]
    # resources: one dict per (service, host, version), shared by the rows that have it (read-only)
    combo = (svc_c * (len(host_u) + 1) + host_c) * (len(ver_u) + 1) + ver_c
    rc, ru = pd.factorize(combo)
    res_dicts = [_resource(svc_u[c // ((len(host_u) + 1) * (len(ver_u) + 1))],
                           host_u[(c // (len(ver_u) + 1)) % (len(host_u) + 1)], ver_u[c % (len(ver_u) + 1)])
                 for c in ru]
    order = np.lexsort((start, tr))
    order_l = order.tolist()
    http_o = http[order]
    pid_hex = _hex(pid[order], 16)
    parent_c = np.where(pid[order] == 0, -1, np.arange(n_rows))
    n = n_rows
    with taking_cells():  # cells built for this frame alone: no copy
        df = spans_from_columns({
            "trace_id": _strings(tids, tr[order]),
            "span_id": _strings(_hex(sid[order], 16)),
            "parent_id": _strings(pid_hex, parent_c),
            "service": _strings(svc_u, svc_c[order]),
            "name": _strings(name_u, name_c[order]),
            "kind": _strings(kind_u, kind_c[order]),
            "start": pd.Series(pd.to_datetime(start[order] * 1000, unit="ns", utc=True)),
            "end": pd.Series(pd.to_datetime(end[order] * 1000, unit="ns", utc=True)),
            "status": _strings(["ok", "error"], (http_o >= 400).astype(np.int64)),
            "status_message": _strings(msg_u, msg_c[order]),
            "http_status": pd.Series(pd.array(http_o, dtype="Int64")).mask(http_o == 0),
            "error": (http_o >= 400) & (http_o < 500),
            "fault": http_o >= 500,
            "throttle": http_o == 429,
            "attributes": [attrs[i] for i in order_l],
            "resource": [res_dicts[c] for c in rc[order].tolist()],
            "events": [events[i] for i in order_l],
            "links": [links[i] for i in order_l],
            "flags": pd.Series(np.ones(n, dtype=np.int64), dtype="Int64"),
            "source": _strings(["simulated"], np.zeros(n, dtype=np.int64)),
        })
    return df


# ---------------------------------------------------------------------------------------------
# public entry point

def threshold_for(p: float) -> tuple[int, str]:
    """OTel rejection threshold for sampling probability ``p``: ``(T, th)`` with T = (1 − p)·2⁵⁶
    and ``th`` its 14-hex-digit form with trailing zeros removed (``"0"`` for p = 1).

    >>> threshold_for(0.25)
    (54043195528445952, 'c')
    >>> threshold_for(0.01)[1][:6]
    'fd70a3'
    """
    if not 0 < p <= 1:
        raise ArgumentError(f"sampling probability must be in (0, 1], got {p!r}")
    t = int(round((1 - p) * 2**56))
    th = f"{t:014x}".rstrip("0") or "0"
    return t, th


def simulate(
    scenario: str = "baseline",
    n_traces: int = 1000,
    seed: int = 0,
    *,
    config: AppConfig | None = None,
    **params: Any,
) -> Simulation:
    """Simulate ``n_traces`` requests of the shop under ``scenario`` (one of :data:`SCENARIOS`).

    ``params`` override the scenario's knobs, named as in its truth dataclass (e.g.
    ``extra_ms=400`` for ``db-lock``, ``share=0.3`` for ``context-drop``, ``offset_ms=-80`` for
    ``clock-skew``, ``probabilities=(("checkout", 0.05), …)`` for ``error-undersampling``).
    Times of the incident (``window_start``, ``deploy_time``, …) default to fixed fractions of
    the run and may be given as anything ``pd.Timestamp`` accepts.

    >>> sim = simulate("clock-skew", n_traces=20, seed=3)
    >>> sim.truth.host, sim.truth.offset_ms
    ('inventory-2', 120.0)
    >>> sim.spans["source"].unique().tolist()
    ['simulated']
    """
    if scenario not in SCENARIOS:
        raise ArgumentError(f"unknown scenario {scenario!r}; choose one of: {', '.join(SCENARIOS)}")
    if not isinstance(n_traces, (int, np.integer)) or n_traces < 1:
        raise ArgumentError(f"n_traces must be a positive integer, got {n_traces!r}")
    cfg = config or AppConfig()
    s = _Sim(scenario, int(seed), int(n_traces), cfg)
    start = pd.Timestamp(cfg.start)
    end = start + pd.Timedelta(seconds=cfg.duration_s)
    base = dict(scenario=scenario, seed=int(seed), n_traces=int(n_traces), start=start, end=end, config=cfg)

    def at(frac: float, key: str) -> pd.Timestamp:
        v = params.pop(key, None)
        return pd.Timestamp(v) if v is not None else start + pd.Timedelta(seconds=cfg.duration_s * frac)

    def us(ts: pd.Timestamp) -> int:
        return int(ts.value // 1000)

    kw: dict[str, Any] = {}
    cls: type[Truth] = {"baseline": Baseline, "db-lock": DbLock, "slow-deploy": SlowDeploy,
                        "context-drop": ContextDrop, "clock-skew": ClockSkew,
                        "error-undersampling": ErrorUndersampling, "bad-host": BadHost,
                        "cold-starts": ColdStarts, "async-links": AsyncLinks}[scenario]
    allowed = {f.name for f in fields(cls)} - {f.name for f in fields(Truth)}
    if scenario == "db-lock":
        kw["window_start"], kw["window_end"] = at(0.45, "window_start"), at(0.60, "window_end")
        kw["extra_ms"] = float(params.pop("extra_ms", 250.0))
        s.lock = (us(kw["window_start"]), us(kw["window_end"]), int(round(kw["extra_ms"] * 1000)))
    elif scenario == "slow-deploy":
        kw["deploy_time"] = at(0.5, "deploy_time")
        s.deploy_us = us(kw["deploy_time"])
    elif scenario == "context-drop":
        kw["share"] = float(params.pop("share", 0.1))
        kw["orphan_share"] = float(params.pop("orphan_share", 0.0))
        s.drop_share = kw["share"]
        s.orphan_share = kw["orphan_share"]
    elif scenario == "clock-skew":
        kw["offset_ms"] = float(params.pop("offset_ms", 120.0))
        kw["host"] = params.pop("host", "inventory-2")
        s.skew[("inventory", kw["host"])] = int(round(kw["offset_ms"] * 1000))
    elif scenario == "bad-host":
        kw["host"] = params.pop("host", "catalog-3")
        s.bad_host = kw["host"]
    elif scenario == "cold-starts":
        kw["scale_out_time"] = at(0.5, "scale_out_time")
        kw["window_s"] = float(params.pop("window_s", 600.0))
        kw["burst_rate"] = float(params.pop("burst_rate", 0.5))
        a = us(kw["scale_out_time"])
        s.cold_window = (a, a + int(kw["window_s"] * 1e6), kw["burst_rate"])
    elif scenario == "async-links":
        s.link_consumers = True
    elif scenario == "error-undersampling":
        kw["probabilities"] = tuple((str(k), float(v)) for k, v in params.pop(
            "probabilities", ErrorUndersampling.probabilities))
    if params:
        raise ArgumentError(f"scenario {scenario!r} does not take {', '.join(sorted(params))} "
                            f"(it takes: {', '.join(sorted(allowed)) or 'nothing'})")

    # millions of small dicts and lists: the cyclic GC would rescan them again and again (nothing
    # here makes cycles), so pause it while building
    with gc_paused():
        _gateway(s, np.arange(n_traces))
        spans = _finish(s)
    population = None
    if scenario == "db-lock":
        a, b, _ = s.lock  # type: ignore[misc]
        kw["n_affected_traces"] = int(((s.arrival >= a) & (s.arrival < b) & (s.route == "checkout")).sum())
    elif scenario == "context-drop":
        tid = _trace_ids_of(spans, s)
        kw["dropped"] = tuple((tid[a], tid[b]) for a, b in s.dropped_pairs)
        kw["n_dropped"] = len(kw["dropped"])
        kw["orphaned"] = tuple((tid[a], f"{int(c):016x}") for a, c in s.orphans)
        kw["n_orphaned"] = len(kw["orphaned"])
    elif scenario == "cold-starts":
        kw["n_cold_starts"] = int((spans["name"] == "Initialization").sum())
    elif scenario == "async-links":
        tid = _trace_ids_of(spans, s)
        kw["hops"] = tuple((tid[a], f"{int(b):016x}", tid[c], f"{int(d):016x}", int(w)) for a, b, c, d, w in s.hops)
        kw["n_hops"] = len(kw["hops"])
    elif scenario == "error-undersampling":
        population = spans
        spans, kw = _sample(spans, s, kw)
    truth = cls(**base, **kw)
    return Simulation(scenario=scenario, seed=int(seed), spans=spans, truth=truth, population=population)


def _trace_ids_of(spans: pd.DataFrame, s: _Sim) -> dict[int, str]:
    """trace index → trace id, recomputed the way _finish made them."""
    tstart = np.concatenate([s.arrival] + [e[0] for e in s.extra_traces]) // 1_000_000
    hi = np.concatenate([s.trace_rand[0]] + [e[1] for e in s.extra_traces]).astype(np.uint64)
    lo = np.concatenate([s.trace_rand[1]] + [e[2] for e in s.extra_traces]).astype(np.uint64)
    need = {i for pair in s.dropped_pairs for i in pair} | {a for a, _ in s.orphans} | {h[k] for h in s.hops for k in (0, 2)}
    return {i: f"{int(tstart[i]):08x}" + f"{int(hi[i]):016x}"[8:] + f"{int(lo[i]):016x}" for i in need}


def _sample(spans: pd.DataFrame, s: _Sim, kw: dict) -> tuple[pd.DataFrame, dict]:
    probs = dict(kw["probabilities"])
    missing = set(_ROUTES) - set(probs)
    if missing:
        raise ArgumentError(f"probabilities lack routes: {', '.join(sorted(missing))}")
    roots = spans[spans["parent_id"].isna()].drop_duplicates("trace_id")
    # population traces: one per request; the root's route = the request's route (trace index order)
    tids = roots["trace_id"].to_numpy(dtype=object)
    routes = roots["name"].map({f"{m} {p}": r for r, (m, p) in _ROUTES.items()}).to_numpy(dtype=object)
    p = np.array([probs[r] for r in routes])
    ths = {r: threshold_for(probs[r]) for r in _ROUTES}
    T = np.array([ths[r][0] for r in routes], dtype=np.uint64)
    rand = np.array([int(t[-14:], 16) for t in tids], dtype=np.uint64)
    keep = rand >= T
    err = spans["status"].eq("error").groupby(spans["trace_id"].astype(object), sort=False).any()
    has_err = err.reindex(tids).to_numpy(dtype=bool)
    inclusion = pd.DataFrame({"trace_id": pd.array(tids, dtype="string[pyarrow]"), "route": routes,
                              "probability": p, "th": [ths[r][1] for r in routes], "randomness": rand,
                              "sampled": keep, "has_error": has_err})
    kept = set(tids[keep])
    sampled = spans[spans["trace_id"].isin(kept)].copy()
    th_of = dict(zip(tids, ("ot=th:" + inclusion["th"]).tolist(), strict=False))
    sampled["trace_state"] = sampled["trace_id"].map(th_of).astype("string[pyarrow]")
    sampled = sampled.reset_index(drop=True)
    kw = dict(kw, n_population=len(tids), n_sampled=int(keep.sum()),
              error_share_population=float(has_err.mean()),
              error_share_sampled=float(has_err[keep].mean()) if keep.any() else float("nan"),
              inclusion=inclusion)
    return sampled, kw


# ---------------------------------------------------------------------------------------------
# datasets

#: dataset name → (scenario, n_traces, seed, format, README description, scenario params)
DATASETS: dict[str, tuple[str, int, int, str, str, dict]] = {
    "checkout-incident": ("db-lock", 1200, 11, "xray",
                          "orders-db lock contention: checkout's SELECT/INSERT orders calls take 250 ms longer in a window", {}),
    "checkout-baseline": ("baseline", 1200, 11, "xray", "the same shop, seed and hour without the incident", {}),
    "deploy-regression": ("slow-deploy", 1200, 12, "otlp",
                          "payments 1.5.0, deployed half-way, adds GET /v1/risk-score (median 180 ms)", {}),
    "broken-context": ("context-drop", 500, 13, "otlp",
                       "the gateway drops trace context for 10 % of requests (frontend starts new traces) and "
                       "loses its client span for 5 % (frontend's parent is missing)", {"orphan_share": 0.05}),
    "sampled-errors": ("error-undersampling", 3000, 14, "otlp",
                       "head sampling by route (checkout 1/16, cart and products 1/2) under-represents errors", {}),
    "clock-skew": ("clock-skew", 300, 15, "otlp", "inventory-2's clock runs 120 ms ahead", {}),
    "bad-host": ("bad-host", 600, 16, "otlp", "catalog-3 runs 2.1.0-rc1; its product-list load is ~120 ms slower", {}),
    "cold-starts": ("cold-starts", 800, 17, "xray",
                    "fulfillment (Lambda) scales out half-way: for 20 min half its invocations are cold",
                    {"window_s": 1200.0}),
    "async-workflows": ("async-links", 400, 18, "otlp",
                        "fulfillment runs as a trace of its own linked to checkout's `orders publish` span (SQS → Lambda "
                        "trace linking); otherwise a normal day", {}),
}


#: logs and metrics folder → the trace dataset they go with (a folder of their own, so that a reader given the
#: traces' folder reads traces only); written with that dataset from its spans (tracekit.simulate_signals)
SIGNAL_DATASETS: dict[str, str] = {"deploy-regression-signals": "deploy-regression"}


def _signals_truth(sim: Simulation, folder: str, logs: pd.DataFrame, metrics: pd.DataFrame) -> dict:
    """What the derived logs and metrics of ``sim`` show (the truth file's ``signals``)."""
    from . import simulate_signals as ss  # same layer

    t = sim.truth
    sev = logs["severity_text"].astype(object)
    body = logs["body"].astype(object)
    out: dict[str, Any] = {
        "folder": folder, "files": ["logs.jsonl.gz", "metrics.jsonl.gz"], "seed": sim.seed,
        "log_records": len(logs), "log_records_by_severity": {k: int(v) for k, v in sev.value_counts().sort_index().items()},
        "log_records_on_no_span": 0, "slow_query_ms": ss.SLOW_QUERY_MS,
        "slow_query_records": int(body.str.startswith("slow query").sum()),
        "metric_interval_s": ss.INTERVAL_S, "metric_points": len(metrics),
        "metric_points_by_name": {k: int(v) for k, v in metrics["name"].astype(object).value_counts().sort_index().items()},
        "cpu": f"process.cpu.utilization = {ss.IDLE_CPU:g} + busy time / interval ± {ss.CPU_NOISE:g} (uniform), busy time = "
               "self time of the host's server, internal and consumer spans in the interval",
    }
    if isinstance(t, SlowDeploy) and t.deploy_time is not None:
        new = [(k, v) for k, v in ss.NEW_STATEMENTS.items() if k == (t.service, t.added_span)]
        if new:
            (svc, call), template = new[0]
            mine = body.str.startswith(template.split("{", 1)[0]) & logs["service"].astype(object).eq(svc)
            at = logs.loc[mine, "time"]
            out["new_statement"] = {
                "service": svc, "version": t.new_version, "after_call": call,
                "template": template.replace("{score}", "<*>").replace("{ms:.1f}", "<*>"),
                "records": int(mine.sum()), "records_before_deploy": int((at < t.deploy_time).sum()),
                "first": at.min().isoformat() if len(at) else None}
        m = metrics[metrics["service"].astype(object).eq(t.service)]
        before, after = m["time"] <= t.deploy_time, m["time"] > t.deploy_time
        h = m["name"].astype(object).eq("http.server.request.duration")
        cpu = m["name"].astype(object).eq("process.cpu.utilization")

        def mean_s(mask: pd.Series) -> float:
            return round(float(m.loc[mask, "sum"].sum() / m.loc[mask, "count"].sum()) * 1000, 1)

        out["request_duration_ms_mean"] = {"service": t.service, "before_deploy": mean_s(h & before),
                                           "after_deploy": mean_s(h & after)}
        out["cpu_utilization_mean"] = {"service": t.service, "before_deploy": round(float(m.loc[cpu & before, "value"].mean()), 5),
                                       "after_deploy": round(float(m.loc[cpu & after, "value"].mean()), 5)}
    return out


def _truth_json(truth: Truth) -> dict:
    out = {}
    for f in fields(truth):
        v = getattr(truth, f.name)
        if isinstance(v, pd.DataFrame):
            continue
        if isinstance(v, pd.Timestamp):
            v = v.isoformat()
        elif isinstance(v, AppConfig):
            v = asdict(v)
        out[f.name] = v
    return out


def write_datasets(folder: str | Path, *, only: Sequence[str] | None = None, scale: float = 1.0) -> list[Path]:
    """(Re)generate the datasets of ``datasets/`` into ``folder``; return the files written.

    Each dataset is a folder holding only trace files (so a reader can take the folder), and
    ``truth/<name>.json`` its scenario's truth (plus ``truth/<name>.inclusion.csv.gz``, one row
    per population trace, for sampling scenarios).
    X-Ray datasets are BatchGetTraces responses of 250 traces per ``.json.gz`` page; OTLP ones
    are collector file-exporter JSON lines (``.jsonl.gz``). ``scale`` multiplies the sizes.
    A dataset named in :data:`SIGNAL_DATASETS` also gets its logs and metrics, derived from its
    spans (:mod:`tracekit.simulate_signals`), in a folder of their own (``logs.jsonl.gz``,
    ``metrics.jsonl.gz``) and ``signals`` in its truth file.
    """
    from .io.write import write_otlp, write_xray  # same layer

    folder = Path(folder)
    written: list[Path] = []
    stats = []
    signal_stats: list[tuple] = []
    for name, (scenario, n, seed, fmt, doc, params) in DATASETS.items():
        if only is not None and name not in only:
            continue
        d = folder / name
        td = d  # trace files only, so that a reader can take the folder
        td.mkdir(parents=True, exist_ok=True)
        truth_dir = folder / "truth"
        truth_dir.mkdir(parents=True, exist_ok=True)
        for old in d.glob("*.gz"):
            old.unlink()
        sim = simulate(scenario, n_traces=max(1, int(n * scale)), seed=seed, **params)
        stats.append((name, fmt, doc, sim))
        # sampling scenarios ship the sample; the population is summarised per trace in the inclusion table
        frames = {"sampled" if sim.population is not None else "spans": sim.spans}
        for stem, df in frames.items():
            if fmt == "xray":
                tids = df["trace_id"].drop_duplicates().tolist()
                for i in range(0, len(tids), 250):
                    p = td / f"{stem}-{i // 250 + 1:03d}.json.gz"
                    write_xray(df[df["trace_id"].isin(tids[i:i + 250])], p, indexed=_INDEXED)
                    written.append(p)
            else:
                p = td / f"{stem}.jsonl.gz"
                write_otlp(df, p)
                written.append(p)
        tj = truth_dir / f"{name}.json"
        truth_json = _truth_json(sim.truth)
        for sig, of in SIGNAL_DATASETS.items():
            if of == name:  # logs and metrics beside the traces, derived from them
                from .io.write_signals import write_otlp_logs, write_otlp_metrics  # same layer
                from .simulate_signals import app_logs, app_metrics  # same layer

                logs, metrics = app_logs(sim.spans, seed=seed), app_metrics(sim.spans, seed=seed)
                (folder / sig).mkdir(parents=True, exist_ok=True)
                written += [write_otlp_logs(logs, folder / sig / "logs.jsonl.gz"),
                            write_otlp_metrics(metrics, folder / sig / "metrics.jsonl.gz")]
                truth_json["signals"] = _signals_truth(sim, sig, logs, metrics)
                signal_stats.append((sig, name, logs, metrics, truth_json["signals"]))
        tj.write_text(json.dumps(truth_json, indent=2, default=str) + "\n")
        written.append(tj)
        if sim.population is not None and isinstance(sim.truth, ErrorUndersampling):
            inc = truth_dir / f"{name}.inclusion.csv.gz"
            body = sim.truth.inclusion.to_csv(index=False).encode()  # type: ignore[union-attr]
            with open(inc, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
                gz.write(body)
            written.append(inc)
    if only is None:
        readme = folder / "README.md"
        readme.write_text(_datasets_readme(folder, stats, signal_stats))
        written.append(readme)
    return written


def _datasets_readme(folder: Path, stats: list, signal_stats: Sequence[tuple] = ()) -> str:
    lines = [
        "# datasets",
        "",
        "Generated by tracekit's simulator — regenerate with `python -m tracekit.simulate --write-datasets datasets/`",
        "(deterministic: same seeds, same bytes). This file is generated too. Each dataset folder holds its trace",
        "files only, so a reader takes the folder: `tk.read(\"datasets/checkout-incident\")`. The ground truth is in",
        "`truth/<dataset>.json` (and `truth/sampled-errors.inclusion.csv.gz` for the sampling dataset).",
        "",
        "The application: `api-gateway` → `frontend` → `catalog` (N+1 loop: one `inventory` call per item, 2–12 items),",
        "`cart` (DynamoDB `carts`), `checkout` (→ `cart`, `orders-db` PostgreSQL SELECT/INSERT, → `payments` → external",
        "`card-network`, retried once on 503; → SQS `orders` producer, consumed asynchronously by the `fulfillment`",
        "Lambda, which writes DynamoDB `shipments`). Errors on a normal day: payments 503 (8 % of attempts), cart 404",
        "(2 % on the cart route), DynamoDB 429 throttles (0.2 %, retried), inventory 500 (0.1 %). One hour of traffic",
        "from 2026-03-02T14:00Z. See `tracekit/simulate.py` for every knob.",
        "",
        "X-Ray datasets are `aws xray batch-get-traces`-style responses (250 traces per `.json.gz` page, inferred",
        "DynamoDB/SQS segments included, `app.customer_tier` and `app.feature_flag.new_checkout` indexed as",
        "annotations, whose keys hold no dots: `annotation.app_customer_tier` and",
        "`annotation.app_feature_flag_new_checkout` in the spans frame, `span.app_customer_tier` in TraceQL).",
        "OTLP datasets are collector file-exporter JSON lines (`.jsonl.gz`, ≤ 512 spans per line).",
        "`truth/<dataset>.json` is the scenario's ground truth (what was injected, where, when, how much).",
        "",
        "`spans` is what `tk.read` gives: for X-Ray, the simulated spans and the inferred segments of their calls to",
        "DynamoDB and SQS, which X-Ray itself would show.",
        "",
        "| dataset | scenario | format | traces | spans | size | contents |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, fmt, doc, sim in stats:
        size = sum(p.stat().st_size for p in (folder / name).rglob("*") if p.is_file())
        size += sum(p.stat().st_size for p in (folder / "truth").glob(f"{name}.*"))
        lines.append(f"| `{name}/` | `{sim.scenario}` | {'X-Ray' if fmt == 'xray' else 'OTLP'} | "
                     f"{sim.spans['trace_id'].nunique()} | {_spans_read(folder / name)} | {size / 1e6:.2f} MB | {doc} |")
    lines += _signals_readme(folder, signal_stats)
    lines += ["", "## Ground truth", ""]
    sig_of = {of: st for _, of, _, _, st in signal_stats}
    for name, _fmt, _doc, sim in stats:
        t = sim.truth
        lines.append(f"### `{name}/` ({sim.scenario}, seed {sim.seed})")
        lines.append("")
        lines.append(_truth_sentence(t))
        lines.append("")
        if name in sig_of:
            lines.append(_signals_sentence(sig_of[name]))
            lines.append("")
    return "\n".join(lines)


def _spans_read(folder: Path) -> int:
    """Spans ``tk.read`` gives of a written dataset (X-Ray: its inferred segments too)."""
    from .io.sniff import read  # same layer

    return len(read(folder))


def _signals_readme(folder: Path, signal_stats: Sequence[tuple]) -> list[str]:
    if not signal_stats:
        return []
    from . import simulate_signals as ss  # same layer

    lines = ["", "## Logs and metrics beside the traces", "",
             "A folder of its own beside its traces (so `tk.read` of the traces' folder still reads traces only) holds",
             "the logs and metrics the same application wrote while making those spans, in OpenTelemetry collector",
             "file-exporter form (OTLP JSON lines, `.jsonl.gz`, ≤ 512 records or points a line, one resource per",
             "service and host): `tk.read_logs` / `tk.read_metrics` read them, `tk.attach_logs` joins every record to",
             "its span. They are derived from the spans by `tracekit/simulate_signals.py` (same seed, same bytes), so",
             "the three signals agree by construction:", "",
             f"- logs: an INFO `handled <operation>: status <code> in <ms> ms` at the end of every server span; an "
             f"ERROR `<exception.type>: <message>` per exception event of a failed span (WARN when the span did not "
             f"fail: a 404, a throttled call retried); a WARN `slow query (<ms> ms): <statement>` for every database "
             f"call over {ss.SLOW_QUERY_MS:g} ms; and a new code path's own statement (payments 1.5.0, which calls "
             f"`GET /v1/risk-score`, logs `risk score <n> from risk-api in <ms> ms` on its server span). Each record "
             f"carries its span's trace and span id, service, host and resource;",
             f"- metrics, per service and host every {ss.INTERVAL_S:g} s (the Lambda's execution environments "
             f"report none): `process.cpu.utilization` = {ss.IDLE_CPU:g} + the host's busy time in the interval "
             f"(self time of its server, internal and consumer spans; waiting on a call is not CPU) ± "
             f"{ss.CPU_NOISE:g} of seeded noise; `http.server.request.duration` (delta histogram in s, "
             f"OpenTelemetry's default bounds, per method, route and status, one exemplar: the slowest request); "
             f"`db.client.operations.in_flight` (database calls in flight, averaged over the interval) where the "
             f"host calls a database.", "",
             "| folder | traces | log records | metric points | size | try it |", "|---|---|---|---|---|---|"]
    for sig, of, logs, metrics, _ in signal_stats:
        size = sum(p.stat().st_size for p in (folder / sig).glob("*") if p.is_file())
        sev = logs["severity_text"].astype(object).value_counts()
        lines.append(f"| `{sig}/` | `{of}/` | {len(logs)} ({', '.join(f'{int(sev[k])} {k}' for k in ('INFO', 'WARN', 'ERROR') if k in sev)}) "
                     f"| {len(metrics)} ({metrics['name'].nunique()} metrics) | {size / 1e6:.2f} MB | "
                     f"`python -m tracekit report datasets/{of}/ --logs datasets/{sig}/logs.jsonl.gz "
                     f"--metrics datasets/{sig}/metrics.jsonl.gz -o report.html` |")
    return lines


def _signals_sentence(st: dict) -> str:
    out = (f"Logs and metrics in `{st['folder']}/` (`signals` in the truth file): {st['log_records']} log records, every one "
           f"on its span; {st['slow_query_records']} slow-query WARNs (database calls over {st['slow_query_ms']:g} ms).")
    ns_ = st.get("new_statement")
    if ns_:
        out += (f" The new statement `{ns_['template']}` is logged by `{ns_['service']}` `{ns_['version']}` server spans "
                f"after their `{ns_['after_call']}` call: {ns_['records']} records, the first at {ns_['first']}, "
                f"{ns_['records_before_deploy']} before the deploy.")
    rd, cpu = st.get("request_duration_ms_mean"), st.get("cpu_utilization_mean")
    if rd and cpu:
        out += (f" `{rd['service']}`'s `http.server.request.duration` averages {rd['before_deploy']:g} ms before the "
                f"deploy and {rd['after_deploy']:g} ms after; its `process.cpu.utilization` {cpu['before_deploy']:g} and "
                f"{cpu['after_deploy']:g} (the new call is waiting, not CPU).")
    return out


def _truth_sentence(t: Truth) -> str:
    if isinstance(t, DbLock):
        return (f"Every `{t.db}` call made by `{t.service}` in a trace whose root starts in "
                f"[{t.window_start.isoformat()}, {t.window_end.isoformat()}) takes exactly {t.extra_ms:g} ms longer "
                f"(lock wait): {t.n_affected_traces} checkout traces. In the window `{t.service}` dominates the "
                f"critical path of checkout requests; outside it the data equal `checkout-baseline/` span for span "
                f"(same seed: same ids and times up to the injected delay).")
    if isinstance(t, SlowDeploy):
        return (f"From {t.deploy_time.isoformat()} every `{t.service}` span runs `{t.new_version}` (before: "
                f"`{t.old_version}`, resource `service.version`) and makes one extra client call `{t.added_span}` to "
                f"`{t.added_peer}` (lognormal, median {t.added_ms_median:g} ms). Nothing else changes.")
    if isinstance(t, ContextDrop):
        return (f"For {t.n_dropped} of {t.n_traces} requests (share {t.share:g}) `{t.caller}` did not propagate context "
                f"to `{t.callee}`: the caller's trace ends at its client span (no child), and the callee's server span "
                f"is the root of a new trace. The truth file lists every (original trace id, new trace id) pair. "
                f"For {t.n_orphaned} more (share {t.orphan_share:g}) the caller's client span was lost: the callee's "
                f"server span stays in the trace with a parent_id that names no span (pairs (trace id, missing "
                f"parent id) in the truth file).")
    if isinstance(t, ClockSkew):
        return (f"Every span recorded on host `{t.host}` of `{t.service}` (resource `host.name`) is stamped "
                f"{t.offset_ms:+g} ms off (its clock runs ahead): these server spans start after their caller's client "
                f"span ends. All other hosts are exact.")
    if isinstance(t, ErrorUndersampling):
        probs = ", ".join(f"{r} {p:g} (`ot=th:{threshold_for(p)[1]}`)" for r, p in t.probabilities)
        return (f"Head sampling by route: {probs}. A trace is kept iff the low 56 bits of its trace id are ≥ the "
                f"threshold; every kept span carries `traceState` `ot=th:…`. Population {t.n_population} traces, "
                f"{t.n_sampled} kept (`sampled.jsonl.gz`). Share of traces with any span of status error (a 404 or a "
                f"throttle included: not tracekit's `failed`, which is the request's own outcome): "
                f"{t.error_share_population:.4f} in the population, {t.error_share_sampled:.4f} in the sample "
                f"(unweighted, biased low). `truth/sampled-errors.inclusion.csv.gz` has one row per population "
                f"trace: trace_id, route, "
                f"probability, th, randomness, sampled, has_error.")
    if isinstance(t, BadHost):
        return (f"Host `{t.host}` of `{t.service}` runs `{t.bad_version}` (the others `{t.good_version}`); its "
                f"`{t.slow_span}` span takes extra time (lognormal, median {t.extra_ms_median:g} ms).")
    if isinstance(t, ColdStarts):
        return (f"In [{t.scale_out_time.isoformat()}, +{t.window_s:g} s) a share {t.burst_rate:g} of `{t.service}` "
                f"invocations land on new Lambda environments ({t.config.coldstart_rate:g} otherwise): "
                f"{t.n_cold_starts} cold starts in all, each with `faas.coldstart` true and an `Initialization` child "
                f"(lognormal, median {t.coldstart_ms_median:g} ms) on a never-seen `host.name`.")
    if isinstance(t, AsyncLinks):
        return (f"The shop on a normal day, except that every `{t.consumer_service}` invocation (`{t.consumer_span}`) is "
                f"the root of a trace of its own, with one span link to the `{t.producer_service}` `{t.producer_span}` "
                f"span that sent its message to `{t.queue}` ({t.n_hops} hops). The truth file lists every hop: (producer "
                f"trace id, producer span id, consumer trace id, consumer span id, queue wait in µs = consumer start − "
                f"producer end). With the same seed, `simulate(\"baseline\")` gives the same spans with each consumer "
                f"under its producer in one trace: workflows, queue waits and the service graph are equal.")
    return ("Nothing injected: the shop on a normal day (same application, seed and hour as the incident datasets "
            "built from it).")


#: span attributes the X-Ray datasets index as annotations (as an X-Ray SDK user would)
_INDEXED = ("app.customer_tier", "app.feature_flag.new_checkout")

#: bundled sample (tracekit/examples/data) → (scenario, n_traces, seed, format, file, scenario params)
EXAMPLES: dict[str, tuple[str, int, int, str, str, dict]] = {
    "checkout-small": ("db-lock", 40, 21, "xray", "checkout-small.json.gz", {}),
    "checkout-small-otlp": ("db-lock", 40, 21, "otlp", "checkout-small-otlp.jsonl.gz", {}),
    "deploy-small": ("slow-deploy", 40, 22, "otlp", "deploy-small.jsonl.gz", {}),
    "broken-context-small": ("context-drop", 30, 23, "otlp", "broken-context-small.jsonl.gz",
                             {"share": 0.2, "orphan_share": 0.1}),
    "sampled-small": ("error-undersampling", 120, 24, "otlp", "sampled-small.jsonl.gz", {}),
    "clock-skew-small": ("clock-skew", 25, 25, "otlp", "clock-skew-small.jsonl.gz", {}),
    "bad-host-small": ("bad-host", 40, 26, "otlp", "bad-host-small.jsonl.gz", {}),
    "cold-starts-small": ("cold-starts", 40, 27, "xray", "cold-starts-small.json.gz",
                          {"window_s": 1800.0, "burst_rate": 0.6}),
}


def write_examples(folder: str | Path) -> list[Path]:
    """(Re)generate the bundled samples of :mod:`tracekit.examples` into ``folder``."""
    from .io.write import write_otlp, write_xray  # same layer

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (scenario, n, seed, fmt, fn, params) in EXAMPLES.items():
        sim = simulate(scenario, n_traces=n, seed=seed, **params)
        p = folder / fn
        if fmt == "xray":
            write_xray(sim.spans, p, indexed=_INDEXED)
        else:
            write_otlp(sim.spans, p, batch=200)  # several lines even for small samples
        t = folder / f"{name}.truth.json"
        t.write_text(json.dumps(_truth_json(sim.truth), indent=2, default=str) + "\n")
        written += [p, t]
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tracekit.simulate --write-datasets datasets/`` regenerates the datasets."""
    ap = argparse.ArgumentParser(prog="python -m tracekit.simulate", description=main.__doc__)
    ap.add_argument("--write-datasets", metavar="FOLDER", help="regenerate every dataset into FOLDER")
    ap.add_argument("--write-examples", metavar="FOLDER", help="regenerate the bundled samples into FOLDER")
    ap.add_argument("--only", nargs="*", help="only these datasets")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply dataset sizes")
    ap.add_argument("--list", action="store_true", help="list scenarios")
    a = ap.parse_args(argv)
    if a.write_examples:
        for p in write_examples(a.write_examples):
            print(p)
    if a.list or not (a.write_datasets or a.write_examples):
        for k, v in SCENARIOS.items():
            print(f"{k:20s} {v}")
        return 0
    if a.write_datasets:
        for p in write_datasets(a.write_datasets, only=a.only, scale=a.scale):
            print(p)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
