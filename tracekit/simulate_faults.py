"""A fault-injection lab: seeded random microservice systems, and fault windows on them with their truth.

:func:`tracekit.simulate.simulate` plays one hand-written shop; this module draws the system too, so
root-cause ranking (:func:`tracekit.rank_causes`) can be scored on hundreds of faults nobody tuned it
on (``benchmarks/bench_fault_lab.py``). Everything is a function of a seed.

**The system** (:func:`random_system`): 8–40 services on 2–6 levels (the entry level holds 1–3
services whose operations are the routes requests enter by, 2–8 of them with a request mix); each
service has 1–3 pods (names shaped as Kubernetes', ``<service>-<hash>-<suffix>``) and 1–3 operations
(``GET /api/v1/<noun>/<verb>``), each with a lognormal self time (median 0.2–50 ms) spread over the
gaps around its calls. An operation calls operations of deeper levels, in order (1–4 from a
route, 0–3 below, and one more wherever an operation needs a caller): every operation has a caller, and a route brings at most :data:`MAX_CALLS` calls. Each call is a decision
point: the caller may take an **alternative branch** after it (it happens naturally for up to a
tenth of the calls: a cache miss, an empty result), which logs its own statement and makes other
calls (or none: an early return) instead of the remaining ones; on an **error** from the callee the
caller propagates it (its own span fails, the calls after vanish) or falls back (a WARN, then the
alternative branch); on a **wrong value** it takes the alternative branch or raises an error of its
own. Each operation logs a statement at its start and some after a call returns (numbers in them
vary by request). Calls are sequential.

**A request** enters by a route (by the mix; in the incident, by the mix drifted with ``drift``) and
walks the call tree. Each call is a client span in the caller (network time each way, lognormal,
median 0.3 ms) around the callee's server span on one of its pods (uniformly). Every random number
is a hash of (seed, call path, request, purpose) (splitmix64), not a draw from a stream, so two
windows of one seed differ exactly where the fault acts: ``fault_window("null", s)`` and
``fault_window("cpu_contention", s)`` have the same requests, span ids and durations except on the
injected pod in the incident. The tests check every injection against its null window that way.

**The window** (:func:`fault_window`): ``baseline_s`` seconds of requests before the onset (the
baseline), ``incident_s`` after it (the incident), ``rate`` requests per second. From the onset on,
one pod of one service (never an entry service) has the fault:

- ``cpu_contention`` — a stressor in the pod: its operations' own work (self time) slower by
  ``factor``, and its CPU up by the stressor's load (``load``, vCPU) beside the longer busy time;
- ``cpu_consumed`` — code in one operation of the pod burns CPU (Nezha injects it into a method, as
  the exception and return faults): that operation's self time on the pod longer by ``factor``, the
  pod's CPU up by that busy time alone (no stressor);
- ``network_delay`` — the pod's responses are delayed (``delay_ms``, lognormal, σ 0.2): its callers'
  client spans are longer, its own server spans unchanged;
- ``exception`` — one operation of the pod throws for a ``share`` of its calls, at a fixed point in
  its code: an exception event and a failed span (500), an ERROR record with the span's ids; the
  calls after that point vanish; each caller propagates the error (and fails in turn) or falls back;
- ``return`` — one operation of the pod returns a wrong value for a ``share`` of its calls: nothing
  at the pod (its spans and logs are as ever), but the caller takes its other branch (another
  statement, other calls) or raises an error of its own, which may propagate further up;
- ``null`` — nothing is injected (the truth names no service).

Knobs: ``status`` (False: TrainTicket-like spans without status — every status ``unset``, no HTTP
status, no exception events; the logs still carry the ERROR records), ``background_errors`` (every
operation throws on its own for this share of its calls, in both windows), ``drift`` (the
incident's request mix is ``(1 − drift) · mix + drift · d`` for a random mix ``d``) and
``noisy_neighbour`` (a pod of another service gets a CPU load of that many vCPU in the incident and
its work slower by ``1 + noisy_neighbour / 2``: a second anomaly that is not the fault) and ``baseline_fault`` (a
**previous fault in the baseline**: a fault of that kind on a pod of another service — or of the same one,
``baseline_fault_on="same"`` — for the baseline's first ``baseline_fault_s`` seconds, a fifth by default, as
Nezha's faults come 8–9 minutes apart and the previous injection's 2 minutes fall inside the next one's 10-minute
baseline; drawn from a stream of its own, so the fault and the incident are the same with or without it;
``truth.previous`` records it).

**The signals agree by construction**: the logs and metrics are :mod:`tracekit.simulate_signals`'
derivation from the spans of both windows (``app_logs``: an INFO per server span, ERROR/WARN per
exception event, and the statements, carried as ``log`` span events and dropped from the spans
handed out; ``app_metrics``: per pod the CPU gauge from busy time and the request-duration
histograms, 10 s apart), plus the stressor's load on the CPU gauge. With ``status=False`` the logs
are derived from the spans as they were (the application knows its exceptions), the metrics from the
spans as handed out.

>>> import tracekit as tk
>>> w = tk.simulate_faults.fault_window("cpu_contention", seed=3)
>>> w.truth.kind, w.truth.service in set(w.incident["service"])
('cpu_contention', True)
>>> sorted(set(w.logs["severity_text"]))[:2]
['ERROR', 'INFO']
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from .core import ns
from .errors import ArgumentError
from .schema import spans_from_columns, taking_cells
from .simulate_signals import LOG_EVENT, app_logs, app_metrics

__all__ = ["random_system", "fault_window", "System", "Operation", "Step", "FaultTruth", "FaultWindow",
           "FAULT_KINDS", "KINDS", "MAX_CALLS"]

#: the fault kinds (Nezha's five)
FAULT_KINDS = ("cpu_contention", "cpu_consumed", "network_delay", "exception", "return")
#: the kinds :func:`fault_window` takes: the faults and ``null`` (nothing injected)
KINDS = (*FAULT_KINDS, "null")
_OPERATION_KINDS = ("cpu_consumed", "exception", "return")  # faults injected into one operation (a method)
#: most server calls one request of a route makes along its usual branches (the system is redrawn past it)
MAX_CALLS = 60

_WORDS = ("order", "payment", "user", "cart", "catalog", "shipping", "inventory", "auth", "search", "price",
          "route", "seat", "ticket", "station", "train", "travel", "food", "consign", "notify", "email",
          "currency", "ad", "recommend", "review", "profile", "config", "contact", "security", "assurance",
          "insurance", "voucher", "rebook", "cancel", "admin", "basic", "account", "wallet", "coupon", "stock",
          "media", "geo", "rate", "ledger", "billing", "session", "delivery", "preserve", "execute")
_NOUNS = ("items", "records", "entries", "rows", "offers", "slots", "tokens", "quotes", "orders", "users")
_VERBS = ("get", "list", "query", "create", "update", "check", "find", "validate", "compute", "reserve")
_EXC = ("IllegalStateException", "NullPointerException", "SQLException", "TimeoutException", "IOException",
        "IllegalArgumentException", "ServiceUnavailableException")


# ---- the system ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One call an operation makes, and what the caller does with its answer."""

    callee: int  #: index of the called operation in :attr:`System.operations`
    alt: tuple[int, ...]  #: the alternative branch's calls (operation indices; empty: an early return)
    alt_statement: str  #: what the caller logs when it takes the alternative branch (``{n}``: a number)
    natural_alt: float  #: share of calls that take the alternative branch with nothing injected
    on_error: str  #: ``"propagate"`` or ``"fallback"`` (a WARN, then the alternative branch)
    on_wrong: str  #: ``"branch"`` (the alternative branch) or ``"error"`` (the caller raises)
    statement: str | None  #: logged when the call returns on the usual branch (``{n}``), or None


@dataclass(frozen=True)
class Operation:
    """One operation (server endpoint) of a service."""

    service: int  #: index in :attr:`System.services`
    name: str  #: span name, ``METHOD /route``
    self_ms: float  #: median self time (ms), lognormal
    sigma: float  #: lognormal sigma of the self time
    split: tuple[float, ...]  #: shares of the self time before each step and after the last (sum 1)
    steps: tuple[Step, ...]
    throw_at: int  #: the operation throws before this step (``len(steps)``: after the last)
    exception: str  #: exception type it throws
    start_statement: str | None  #: logged when it starts (``{n}``), or None


@dataclass(frozen=True)
class System:
    """A random microservice system (:func:`random_system`)."""

    seed: int
    services: tuple[str, ...]
    level: tuple[int, ...]  #: level of each service (0: entry)
    pods: tuple[tuple[str, ...], ...]  #: pods of each service
    operations: tuple[Operation, ...]
    routes: tuple[int, ...]  #: entry operations
    route_mix: tuple[float, ...]  #: share of requests entering by each route

    @property
    def depth(self) -> int:
        """Number of levels."""
        return max(self.level) + 1

    def expected_calls(self) -> np.ndarray:
        """Server calls of each operation per request, by the route mix, along the usual branches.

        >>> s = random_system(1)
        >>> bool(abs(s.expected_calls()[list(s.routes)].sum() - 1) < 1e-9)
        True
        """
        memo: dict[int, np.ndarray] = {}

        def below(i: int) -> np.ndarray:
            if i not in memo:
                v = np.zeros(len(self.operations))
                v[i] = 1.0
                for st in self.operations[i].steps:
                    v = v + below(st.callee)
                memo[i] = v
            return memo[i]

        return sum((m * below(r) for r, m in zip(self.routes, self.route_mix, strict=True)),
                   np.zeros(len(self.operations)))

    def calls(self) -> pd.DataFrame:
        """One row per (caller operation, callee operation) call site: ``caller``, ``callee`` (service names),
        ``caller_op``, ``callee_op`` (operation names), ``branch`` (``"usual"`` or ``"alternative"``).

        >>> random_system(1).calls().columns.tolist()
        ['caller', 'caller_op', 'callee', 'callee_op', 'branch']
        """
        rows = []
        for op in self.operations:
            for st in op.steps:
                for c, br in [(st.callee, "usual")] + [(a, "alternative") for a in st.alt]:
                    callee = self.operations[c]
                    rows.append((self.services[op.service], op.name, self.services[callee.service], callee.name, br))
        return pd.DataFrame(rows, columns=["caller", "caller_op", "callee", "callee_op", "branch"])


def _calls_per_request(ops: list[dict], i: int, memo: dict[int, int]) -> int:
    if i not in memo:
        memo[i] = 1 + sum(_calls_per_request(ops, s["callee"], memo) for s in ops[i]["steps"])
    return memo[i]


def random_system(seed: int, *, n_services: int | None = None, depth: int | None = None) -> System:
    """A random microservice system, the same for the same arguments (module docstring).

    Parameters
    ----------
    seed : int
        Seeds every choice.
    n_services : int, optional
        Services, 8–40 (default: drawn).
    depth : int, optional
        Levels of the call graph, 2–6 (default: drawn; at most ``n_services − 1``).

    Returns
    -------
    System

    Raises
    ------
    ArgumentError
        ``n_services`` or ``depth`` out of range.

    Examples
    --------
    >>> s = random_system(7, n_services=12, depth=3)
    >>> len(s.services), s.depth, 2 <= len(s.routes) <= 8
    (12, 3, True)
    """
    if n_services is not None and not 8 <= int(n_services) <= 40:
        raise ArgumentError(f"random_system: n_services must be 8-40, got {n_services!r}")
    if depth is not None and not 2 <= int(depth) <= 6:
        raise ArgumentError(f"random_system: depth must be 2-6, got {depth!r}")
    for attempt in range(100):
        rng = np.random.default_rng([int(seed), zlib.crc32(b"system"), attempt])
        sys_ = _draw_system(int(seed), rng, n_services, depth)
        if sys_ is not None:
            return sys_
    raise ArgumentError(f"random_system: no system of at most {MAX_CALLS} calls per request found for seed {seed}")


def _draw_system(seed: int, rng: np.random.Generator, n_services: int | None, depth: int | None) -> System | None:
    n = int(n_services) if n_services is not None else int(rng.integers(8, 41))
    d = int(depth) if depth is not None else int(rng.integers(2, 7))
    d = min(d, n - 1)
    n_entry = int(rng.integers(1, min(3, n - (d - 1)) + 1))
    rest = n - n_entry - (d - 1)
    per_level = [n_entry] + (1 + rng.multinomial(rest, np.ones(d - 1) / (d - 1))).tolist()
    level = np.repeat(np.arange(d), per_level)
    names = [f"{w}-service" for w in rng.choice(_WORDS, n, replace=False)]
    pods = []
    for s in names:
        h = "".join(rng.choice(list("0123456789abcdef"), 10))
        pods.append(tuple(f"{s}-{h}-{''.join(rng.choice(list('bcdfghjklmnpqrstvwxz2456789'), 5))}"
                          for _ in range(int(rng.integers(1, 4)))))
    # operations: entry services hold the routes (2-8 over them), the others 1-3 each
    n_routes = int(rng.integers(max(2, n_entry), 9))
    route_owner = np.r_[np.arange(n_entry), rng.integers(0, n_entry, max(n_routes - n_entry, 0))]
    ops: list[dict] = []
    for s in range(n):
        k = int((route_owner == s).sum()) if level[s] == 0 else int(rng.integers(1, 4))
        used: set[str] = set()
        for _ in range(k):
            while True:
                nm = f"{rng.choice(['GET', 'GET', 'POST', 'PUT'])} /api/v1/{names[s].split('-')[0]}/{rng.choice(_VERBS)}"
                if nm not in used:
                    used.add(nm)
                    break
            ops.append({"service": s, "name": nm, "steps": [], "level": int(level[s])})
    op_level = np.array([o["level"] for o in ops])

    def deeper(lv: int, exclude: set[int]) -> int | None:
        cand = [j for j in np.flatnonzero(op_level > lv) if j not in exclude]
        if not cand:
            return None
        w = np.array([3.0 if op_level[j] == lv + 1 else 1.0 for j in cand])
        return int(cand[int(rng.choice(len(cand), p=w / w.sum()))])

    for o in ops:  # usual calls
        if o["level"] == d - 1:
            continue
        k = int(rng.choice([1, 2, 3, 4], p=[0.3, 0.35, 0.25, 0.1])) if o["level"] == 0 else \
            int(rng.choice([0, 1, 2, 3], p=[0.2, 0.4, 0.3, 0.1]))
        taken: set[int] = set()
        for _ in range(k):
            c = deeper(o["level"], taken)
            if c is not None:
                taken.add(c)
                o["steps"].append({"callee": c})
    called = np.zeros(len(ops), dtype=bool)
    for o in ops:
        for st in o["steps"]:
            called[st["callee"]] = True
    for j in np.argsort(op_level, kind="stable"):  # every operation below the entry level has a caller
        if op_level[j] == 0 or called[j]:
            continue
        lv = op_level[j]
        cand = [i for i in range(len(ops)) if op_level[i] < lv and all(st["callee"] != j for st in ops[i]["steps"])]
        w = np.array([3.0 if op_level[i] == lv - 1 else 1.0 for i in cand])
        i = cand[int(rng.choice(len(cand), p=w / w.sum()))]
        ops[i]["steps"].insert(int(rng.integers(0, len(ops[i]["steps"]) + 1)), {"callee": int(j)})
        called[j] = True
    routes = [i for i, o in enumerate(ops) if o["level"] == 0]
    memo: dict[int, int] = {}
    if max(_calls_per_request(ops, r, memo) for r in routes) > MAX_CALLS:
        return None
    operations = []
    for o in ops:
        steps = []
        for st in o["steps"]:
            callee = ops[st["callee"]]
            cs = names[callee["service"]].removesuffix("-service")
            noun = str(rng.choice(_NOUNS))
            alt: list[int] = []
            for _ in range(int(rng.choice([0, 1, 2], p=[0.4, 0.4, 0.2]))):
                c = deeper(o["level"], {st["callee"], *alt})
                if c is not None:
                    alt.append(c)
            alt_words = ["using the default", "falling back to " + (names[ops[alt[0]]["service"]].removesuffix("-service")
                                                                    if alt else "the cache"),
                         "skipping the rest"]
            steps.append(Step(
                callee=st["callee"], alt=tuple(alt),
                alt_statement=f"no {noun} from {cs} for request {{n}}, {alt_words[int(rng.integers(0, 3))]}",
                natural_alt=0.0 if rng.random() < 0.5 else float(rng.uniform(0.01, 0.1)),
                on_error="propagate" if rng.random() < 0.6 else "fallback",
                on_wrong="branch" if rng.random() < 0.7 else "error",
                statement=f"got {{n}} {noun} from {cs}" if rng.random() < 0.4 else None))
        k = len(steps)
        verb, noun = str(rng.choice(_VERBS)), str(rng.choice(_NOUNS))
        operations.append(Operation(
            service=o["service"], name=o["name"],
            self_ms=float(np.clip(np.exp(rng.normal(np.log(2.0), 1.0)), 0.2, 50.0)),
            sigma=float(rng.uniform(0.2, 0.6)), split=tuple(float(x) for x in rng.dirichlet(np.ones(k + 1))),
            steps=tuple(steps), throw_at=int(rng.integers(0, k + 1)), exception=str(rng.choice(_EXC)),
            start_statement=f"{verb} {noun} for request {{n}}" if rng.random() < 0.6 else None))
    mix = rng.dirichlet(np.ones(len(routes)) * 2.0)
    return System(seed=seed, services=tuple(names), level=tuple(int(x) for x in level), pods=tuple(pods),
                  operations=tuple(operations), routes=tuple(routes), route_mix=tuple(float(x) for x in mix))


# ---- counter-based randomness --------------------------------------------------------------------------------
_M1, _M2, _GOLD = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB), np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser (uint64, wrapping)."""
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


class _Draw:
    """Random numbers as a function of (seed, key, request): the same wherever and however often asked."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)

    def key(self, *parts: Any) -> np.uint64:
        h = hashlib.blake2b("|".join(map(str, (self.seed, *parts))).encode(), digest_size=8).digest()
        return np.uint64(int.from_bytes(h, "little"))

    def bits(self, req: np.ndarray, *parts: Any) -> np.ndarray:
        with np.errstate(over="ignore"):
            return _mix(self.key(*parts) + req.astype(np.uint64) * _GOLD)

    def unif(self, req: np.ndarray, *parts: Any) -> np.ndarray:
        """Uniform in (0, 1)."""
        return ((self.bits(req, *parts) >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0 ** -53

    def normal(self, req: np.ndarray, *parts: Any) -> np.ndarray:
        u1, u2 = self.unif(req, *parts, "n1"), self.unif(req, *parts, "n2")
        return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)

    def lognormal_us(self, req: np.ndarray, median_ms: float, sigma: float, *parts: Any) -> np.ndarray:
        return median_ms * 1000.0 * np.exp(sigma * self.normal(req, *parts))


# ---- the window ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FaultTruth:
    """What was injected, where and when (``service`` None for the null kind)."""

    kind: str
    seed: int
    service: str | None
    pod: str | None
    operation: str | None  #: the operation injected (cpu_consumed, exception, return), else None
    time: pd.Timestamp  #: onset: the incident's first instant
    end: pd.Timestamp  #: the incident's end
    factor: float  #: self-time factor of the CPU faults (1 otherwise)
    load: float  #: stressor load on the pod's CPU gauge (vCPU; cpu_contention)
    delay_ms: float  #: median response delay (network_delay; 0 otherwise)
    share: float  #: share of the operation's calls on the pod that throw / return a wrong value
    status: bool  #: whether spans carry status
    neighbour_pod: str | None  #: the noisy neighbour, if any
    affected_calls: int  #: server spans of the injected pod (of the operation, when one) in the incident
    #: the previous fault, in the first part of the baseline (``baseline_fault``): its truth, ``time`` to ``end`` the
    #: part of the baseline it acts in (on the requests that arrive then), ``affected_calls`` its pod's (operation's)
    #: server spans in those requests; else None
    previous: FaultTruth | None = None


@dataclass(frozen=True)
class FaultWindow:
    """A baseline and an incident of one system, their logs and metrics, and the truth (:func:`fault_window`).

    ``logs`` and ``metrics`` are made on first use, from the window's spans and seed (the same frames whenever
    they are made): more than half of a window's time went to them, and most uses read the spans alone.

    >>> from tracekit.simulate_faults import fault_window
    >>> w = fault_window("null", 1, incident_s=10, baseline_s=10)
    >>> w.logs is w.logs, len(w.metrics) > 0   # made once, then kept
    (True, True)
    """

    system: System
    truth: FaultTruth
    baseline: pd.DataFrame  #: spans of the requests that started before the onset
    incident: pd.DataFrame  #: spans of the requests that started at or after it
    #: what makes the log records and the metric points (each a function of no argument), called once
    make_logs: Any = field(repr=False, compare=False, default=None)
    make_metrics: Any = field(repr=False, compare=False, default=None)

    @cached_property
    def logs(self) -> pd.DataFrame:
        """Log records of both windows (made on first use)."""
        return self.make_logs()

    @cached_property
    def metrics(self) -> pd.DataFrame:
        """Metric points of both windows (made on first use)."""
        return self.make_metrics()


class _Run:
    """One window's requests walked through the system, batch by batch (every step vectorised over requests)."""

    def __init__(self, system: System, draw: _Draw, incident: np.ndarray, truth: dict, faults: list[dict]) -> None:
        # faults: each {"kind", "pod", "op", "factor", "delay_ms", "share", "active"} with ``active`` a mask over
        # the requests it acts on (the incident's for the fault, the first part of the baseline's for a previous one)
        self.sys, self.d, self.inc, self.t, self.faults = system, draw, incident, truth, faults
        self.cols: dict[str, list] = {k: [] for k in ("req", "sid", "pid", "svc", "op", "kind", "start", "end", "pod",
                                                       "code", "events")}
        self.pod_index = {p: (s, j) for s, ps in enumerate(system.pods) for j, p in enumerate(ps)}

    def add(self, req, sid, pid, svc, op, kind, start, end, pod, code, events) -> None:
        c = self.cols
        n = len(req)
        c["req"].append(req)
        c["sid"].append(sid)
        c["pid"].append(pid)
        c["svc"].append(np.full(n, svc))
        c["op"].append(np.full(n, op))
        c["kind"].append(np.full(n, kind))
        c["start"].append(start)
        c["end"].append(end)
        c["pod"].append(pod)
        c["code"].append(code)
        c["events"].extend(events)

    def _at_pod(self, svc: int, pod: np.ndarray, req: np.ndarray, which: str) -> np.ndarray:
        name = self.t.get(which)
        if name is None:
            return np.zeros(len(req), dtype=bool)
        s, j = self.pod_index[name]
        return (svc == s) & (pod == j) & self.inc[req]

    def _at(self, f: dict, svc: int, pod: np.ndarray, req: np.ndarray) -> np.ndarray:
        """Where fault ``f`` acts: its pod, in the requests it is active for."""
        s, j = self.pod_index[f["pod"]]
        return (svc == s) & (pod == j) & f["active"][req]

    def call(self, op_i: int, req: np.ndarray, parent: np.ndarray, t: np.ndarray, path: str, caller: int,
             caller_pod: np.ndarray):
        """A client span of ``caller`` (on ``caller_pod``) around a call of ``op_i``: (client end, outcome)."""
        d = self.d
        op = self.sys.operations[op_i]
        cid = d.bits(req, path, "cid") | np.uint64(1)
        up = np.rint(d.lognormal_us(req, 0.3, 0.3, path, "up")).astype(np.int64)
        down = np.rint(d.lognormal_us(req, 0.3, 0.3, path, "down")).astype(np.int64)
        s_end, outcome, pod = self.invoke(op_i, req, cid, t + up, path)
        end = s_end + down
        for f in self.faults:
            if f["kind"] == "network_delay":
                late = self._at(f, op.service, pod, req)
                delay = np.rint(d.lognormal_us(req, f["delay_ms"], 0.2, path, "delay")).astype(np.int64)
                end = end + np.where(late, delay, 0)
        code = np.where(outcome == 1, 500, 200)
        self.add(req, cid, parent, caller, op_i, "client", t, end, caller_pod, code, [[] for _ in range(len(req))])
        return end, outcome

    def invoke(self, op_i: int, req: np.ndarray, parent: np.ndarray, t0: np.ndarray, path: str):
        """The server span of ``op_i`` for each request of ``req`` and the calls below: (end, outcome, pod)."""
        d, sys_, tr = self.d, self.sys, self.t
        op = sys_.operations[op_i]
        n = len(req)
        sid = d.bits(req, path, "sid") | np.uint64(1)
        pod = np.minimum((d.unif(req, path, "pod") * len(sys_.pods[op.service])).astype(np.int64),
                         len(sys_.pods[op.service]) - 1)
        base = d.lognormal_us(req, op.self_ms, op.sigma, path, "self")
        factor = np.ones(n)
        for f in self.faults:
            if f["kind"] == "cpu_contention" or (f["kind"] == "cpu_consumed" and f["op"] == op_i):
                factor = np.where(self._at(f, op.service, pod, req), f["factor"], factor)
        if tr.get("neighbour_pod") is not None:
            factor = np.where(self._at_pod(op.service, pod, req, "neighbour_pod"), tr["neighbour_factor"], factor)
        seg = [np.rint(base * f * factor).astype(np.int64) for f in op.split]
        injected_throw, wrong = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        for f in self.faults:
            if f["op"] == op_i and f["kind"] == "exception":
                injected_throw |= self._at(f, op.service, pod, req) & (d.unif(req, path, "exc") < f["share"])
            elif f["op"] == op_i and f["kind"] == "return":
                wrong |= self._at(f, op.service, pod, req) & (d.unif(req, path, "ret") < f["share"])
        background = d.unif(req, path, "bg") < tr["background"]
        throws = injected_throw | background
        wrong &= ~throws
        events: list[list[dict]] = [[] for _ in range(n)]
        nums = (d.bits(req, path, "n") % np.uint64(1000)).astype(np.int64)
        t = t0.copy()
        if op.start_statement:
            for i in range(n):
                events[i].append(_log(int(t0[i]), op.start_statement.format(n=int(nums[i]))))
        active = np.ones(n, dtype=bool)
        failed = np.zeros(n, dtype=bool)
        svc_name = sys_.services[op.service]

        def throw(mask: np.ndarray, etype: str, message: str) -> None:
            for i in np.flatnonzero(mask):
                events[i].append({"time": int(t[i]) * 1000, "name": "exception", "attributes": {
                    "exception.type": etype, "exception.message": message.format(n=int(nums[i])),
                    "exception.escaped": True}})
            failed[mask] = True
            active[mask] = False

        for k, st in enumerate(op.steps):
            t = t + np.where(active, seg[k], 0)
            here = active & throws & (op.throw_at == k)
            throw(here & injected_throw, op.exception, f"{svc_name} {op.name} failed for request {{n}}")
            throw(here & ~injected_throw, "TimeoutException", f"{svc_name}: timed out waiting for a resource")
            m = np.flatnonzero(active)
            if not len(m):
                break
            sub = f"{path}/{k}"
            end, oc = self.call(st.callee, req[m], sid[m], t[m], sub, op.service, pod[m])
            t[m] = end
            err, wr = oc == 1, oc == 2
            nat = d.unif(req[m], sub, "alt") < st.natural_alt
            callee = sys_.services[sys_.operations[st.callee].service]
            if st.on_error == "propagate":
                throw(_full(n, m, err), "UpstreamException", f"call to {callee} failed for request {{n}}")
                go_alt = np.zeros(len(m), dtype=bool)
            else:
                for i in m[err]:
                    events[i].append({"time": int(t[i]) * 1000, "name": "exception", "attributes": {
                        "exception.type": "UpstreamException", "exception.message": f"call to {callee} failed, "
                        "falling back", "exception.escaped": False}})
                go_alt = err.copy()
            if st.on_wrong == "error":
                throw(_full(n, m, wr), "IllegalStateException", f"unexpected answer from {callee} for request {{n}}")
            else:
                go_alt |= wr
            go_alt |= nat & ~err & ~wr
            alt_rows = m[go_alt]
            normal_rows = m[~err & ~wr & ~nat] if st.statement else np.zeros(0, dtype=np.int64)
            for i in normal_rows:
                events[i].append(_log(int(t[i]), st.statement.format(n=int(nums[i]))))
            if len(alt_rows):
                for i in alt_rows:
                    events[i].append(_log(int(t[i]), st.alt_statement.format(n=int(nums[i]))))
                active[alt_rows] = False
                run = alt_rows
                for j, a in enumerate(st.alt):
                    if not len(run):
                        break
                    e2, oc2 = self.call(a, req[run], sid[run], t[run], f"{sub}/alt{j}", op.service, pod[run])
                    t[run] = e2
                    bad = oc2 == 1
                    throw(_full(n, run, bad), "UpstreamException", f"call to {sys_.services[sys_.operations[a].service]} "
                          "failed for request {n}")
                    run = run[~bad]
        last = active & throws & (op.throw_at == len(op.steps))
        t = t + np.where(active | ~failed, seg[-1], np.rint(seg[-1] * 0.2).astype(np.int64))
        throw(last & injected_throw, op.exception, f"{svc_name} {op.name} failed for request {{n}}")
        throw(last & ~injected_throw, "TimeoutException", f"{svc_name}: timed out waiting for a resource")
        code = np.where(failed, 500, 200)
        self.add(req, sid, parent, op.service, op_i, "server", t0, t, pod, code, events)
        outcome = np.where(failed, 1, np.where(wrong, 2, 0)).astype(np.int8)
        return t, outcome, pod


def _full(n: int, rows: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[rows[mask]] = True
    return out


def _log(t_us: int, message: str, severity: str = "INFO") -> dict:
    return {"time": t_us * 1000, "name": LOG_EVENT, "attributes": {"log.severity": severity, "log.message": message}}


def _hex(x: np.ndarray) -> list[str]:
    s = x.astype(">u8").tobytes().hex()
    return [s[i:i + 16] for i in range(0, len(s), 16)]


def fault_window(
    kind: str,
    seed: int,
    *,
    system: System | None = None,
    status: bool = True,
    rate: float = 1.0,
    baseline_s: float = 300.0,
    incident_s: float = 120.0,
    factor: float | None = None,
    load: float | None = None,
    delay_ms: float | None = None,
    share: float | None = None,
    background_errors: float = 0.002,
    drift: float = 0.0,
    noisy_neighbour: float = 0.0,
    min_calls: float = 20.0,
    start: str = "2026-03-02T14:00:00Z",
    baseline_fault: str | None = None,
    baseline_fault_s: float | None = None,
    baseline_fault_on: str = "other",
) -> FaultWindow:
    """A baseline and an incident window of a random system with one fault injected (module docstring).

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    seed : int
        Seeds the requests, the fault's place and size (and the system when ``system`` is None). The
        place and size do not depend on ``kind``: the windows of one seed differ only by the injection.
    system : System, optional
        The system (default ``random_system(seed)``).
    status : bool, default True
        Whether spans carry status (False: every status ``unset``, no HTTP status, no exception events).
    rate : float, default 1.0
        Requests per second in both windows.
    baseline_s, incident_s : float
        Lengths of the baseline (before the onset) and the incident (from it), seconds.
    factor : float, optional
        Self-time factor of the CPU faults (default drawn 1.5–4).
    load : float, optional
        The stressor's CPU load of ``cpu_contention`` (vCPU; default drawn 0.3–0.9).
    delay_ms : float, optional
        Median response delay of ``network_delay`` (default drawn 10–100 ms, log-uniform).
    share : float, optional
        Share of the operation's calls on the pod that throw / return a wrong value (default drawn 0.5–1).
    background_errors : float, default 0.002
        Share of every operation's calls that throw on their own, in both windows.
    drift : float, default 0
        How far the incident's request mix moves towards a random one (0–1).
    noisy_neighbour : float, default 0
        CPU load (vCPU) of a pod of another service in the incident (its work slower by ``1 + load / 2``); 0: none.
    min_calls : float, default 20
        The injected pod is drawn among those expected (by the route mix) to serve at least this many calls
        in the incident: a fault where nothing calls is not a fault anyone investigates.
    start : str
        Start of the baseline window.
    baseline_fault : str, optional
        A **previous fault in the baseline**, one of :data:`FAULT_KINDS`: injected into a pod of another service
        (never an entry service; drawn as the fault's place is, among the others, with its own size drawn likewise)
        for the first ``baseline_fault_s`` seconds of the baseline, as Nezha's previous injection 8–9 minutes
        earlier falls inside the 10 minutes before the next. ``truth.previous`` records it. The draws of the fault's
        place and size do not depend on it, and the incident's requests do not meet it: the incident is the same
        with or without it.
    baseline_fault_s : float, optional
        How long the previous fault acts from the baseline's start, seconds (default a fifth of ``baseline_s``:
        Nezha's 2-minute window in a 10-minute baseline; at most ``baseline_s``).
    baseline_fault_on : {"other", "same"}, default "other"
        The previous fault's service: another one, or the fault's own (TrainTicket's contacts service had faults
        at 08:43, 08:52 and 08:58), on a pod and operation of it drawn as above.

    Returns
    -------
    FaultWindow

    Raises
    ------
    ArgumentError
        Unknown ``kind``, or a knob out of range.

    Examples
    --------
    >>> w = fault_window("network_delay", seed=5, status=False)
    >>> set(w.incident["status"]), w.truth.delay_ms > 0
    ({'unset'}, True)
    >>> c = fault_window("network_delay", seed=5, status=False, baseline_fault="cpu_contention")
    >>> c.truth.previous.kind, c.truth.previous.service != c.truth.service, c.incident.equals(w.incident)
    ('cpu_contention', True, True)
    """
    if kind not in KINDS:
        raise ArgumentError(f"fault_window: kind must be one of {', '.join(KINDS)}; got {kind!r}")
    for nm, v, lo, hi in (("rate", rate, 1e-9, 1e4), ("baseline_s", baseline_s, 1.0, 1e6), ("incident_s", incident_s, 1.0, 1e6),
                          ("background_errors", background_errors, 0.0, 1.0), ("drift", drift, 0.0, 1.0),
                          ("noisy_neighbour", noisy_neighbour, 0.0, 16.0)):
        if not (isinstance(v, (int, float)) and lo <= float(v) <= hi):
            raise ArgumentError(f"fault_window: {nm} must be in [{lo:g}, {hi:g}], got {v!r}")
    for nm, v, lo in (("factor", factor, 1.0), ("load", load, 0.0), ("delay_ms", delay_ms, 0.0), ("share", share, 0.0)):
        if v is not None and not (isinstance(v, (int, float)) and float(v) >= lo and (nm != "share" or float(v) <= 1)):
            raise ArgumentError(f"fault_window: {nm} must be a number >= {lo:g}{' and <= 1' if nm == 'share' else ''}, got {v!r}")
    if baseline_fault is not None and baseline_fault not in FAULT_KINDS:
        raise ArgumentError(f"fault_window: baseline_fault must be None or one of {', '.join(FAULT_KINDS)}; "
                            f"got {baseline_fault!r}")
    if baseline_fault_on not in ("other", "same"):
        raise ArgumentError(f"fault_window: baseline_fault_on must be 'other' or 'same', got {baseline_fault_on!r}")
    if baseline_fault_s is not None and not (isinstance(baseline_fault_s, (int, float))
                                             and 1.0 <= float(baseline_fault_s) <= float(baseline_s)):
        raise ArgumentError(f"fault_window: baseline_fault_s must be in [1, baseline_s], got {baseline_fault_s!r}")
    sys_ = system if system is not None else random_system(seed)
    if not isinstance(sys_, System):
        raise ArgumentError(f"fault_window: system must be a System (random_system), got {type(sys_).__name__}")
    rng = np.random.default_rng([int(seed), zlib.crc32(b"fault")])  # the fault's place and size: not the kind's
    # the place: a service below the entry level whose pod serves at least min_calls calls in the incident (by the
    # route mix; any service below the entry level when none does), one of its pods, one of its operations by calls
    per_op = sys_.expected_calls() * rate * incident_s
    op_svc = np.array([o.service for o in sys_.operations])
    per_pod = np.bincount(op_svc, weights=per_op, minlength=len(sys_.services)) / np.array([len(p) for p in sys_.pods])
    below_entry = np.array(sys_.level) > 0
    cand = np.flatnonzero(below_entry & (per_pod >= min_calls))
    cand = cand if len(cand) else np.flatnonzero(below_entry)
    svc = int(rng.choice(cand))
    pod = sys_.pods[svc][int(rng.integers(0, len(sys_.pods[svc])))]
    own_ops = np.flatnonzero(op_svc == svc)
    w_op = per_op[own_ops] + 1e-9
    target_op = int(own_ops[int(rng.choice(len(own_ops), p=w_op / w_op.sum()))])
    drawn = dict(factor=float(rng.uniform(1.5, 4.0)), load=float(rng.uniform(0.3, 0.9)),
                 delay_ms=float(np.exp(rng.uniform(np.log(10), np.log(100)))), share=float(rng.uniform(0.5, 1.0)))
    others = [p for s, ps in enumerate(sys_.pods) if s != svc for p in ps]
    pick = int(rng.integers(0, len(others)))  # drawn either way: the draws after it do not depend on the knob
    neighbour = str(others[pick]) if noisy_neighbour > 0 else None
    mix_d = rng.dirichlet(np.ones(len(sys_.routes)))
    f_ = float(factor) if factor is not None else drawn["factor"]
    ld = float(load) if load is not None else drawn["load"]
    dl = float(delay_ms) if delay_ms is not None else drawn["delay_ms"]
    sh = float(share) if share is not None else drawn["share"]
    null = kind == "null"
    truth = {"kind": kind, "pod": None if null else pod, "op": target_op if kind in _OPERATION_KINDS else None,
             "factor": f_, "delay_ms": dl, "share": sh, "background": float(background_errors),
             "neighbour_pod": neighbour, "neighbour_factor": 1.0 + float(noisy_neighbour) / 2.0}
    prev = None
    if baseline_fault is not None:  # its own stream: the fault's draws above are the same with or without it
        rng_p = np.random.default_rng([int(seed), zlib.crc32(b"baseline fault")])
        cand_p = cand[cand != svc]
        cand_p = cand_p if len(cand_p) else np.flatnonzero(below_entry & (np.arange(len(sys_.services)) != svc))
        svc_p = int(rng_p.choice(cand_p))
        svc_p = svc if baseline_fault_on == "same" else svc_p  # drawn either way: the draws after it do not move
        own_p = np.flatnonzero(op_svc == svc_p)
        w_p = per_op[own_p] + 1e-9
        prev = {"kind": baseline_fault, "svc": svc_p, "pod": sys_.pods[svc_p][int(rng_p.integers(0, len(sys_.pods[svc_p])))],
                "op": int(own_p[int(rng_p.choice(len(own_p), p=w_p / w_p.sum()))]), "factor": float(rng_p.uniform(1.5, 4.0)),
                "load": float(rng_p.uniform(0.3, 0.9)), "delay_ms": float(np.exp(rng_p.uniform(np.log(10), np.log(100)))),
                "share": float(rng_p.uniform(0.5, 1.0)),
                "s": float(baseline_fault_s) if baseline_fault_s is not None else float(baseline_s) / 5.0}
        if baseline_fault not in _OPERATION_KINDS:
            prev["op"] = None

    # requests: index, arrival (µs), route, window
    draw = _Draw(seed)
    t_on = pd.Timestamp(start).value // 1000 + int(round(baseline_s * 1e6))
    nb, ni = max(int(round(rate * baseline_s)), 1), max(int(round(rate * incident_s)), 1)
    req = np.arange(nb + ni, dtype=np.int64)
    inc = req >= nb
    u = draw.unif(req, "arrival")
    arrival = np.where(inc, t_on + np.rint(u * incident_s * 1e6), t_on - np.rint((1 - u) * baseline_s * 1e6)).astype(np.int64)
    mix = np.asarray(sys_.route_mix)
    mix_i = (1 - drift) * mix + drift * mix_d
    ur = draw.unif(req, "route")
    route = np.where(inc, np.searchsorted(np.cumsum(mix_i / mix_i.sum()), ur, side="right"),
                     np.searchsorted(np.cumsum(mix / mix.sum()), ur, side="right"))
    route = np.minimum(route, len(sys_.routes) - 1)
    faults = [] if null else [dict(truth, active=inc)]
    t_start = t_on - int(round(baseline_s * 1e6))
    if prev is not None:  # the requests that arrived in the first prev["s"] seconds of the baseline
        prev["active"] = ~inc & (arrival < t_start + int(round(prev["s"] * 1e6)))
        faults.append(prev)
    run = _Run(sys_, draw, inc, truth, faults)
    for r, op_i in enumerate(sys_.routes):
        rows = req[route == r]
        if len(rows):
            run.invoke(op_i, rows, np.zeros(len(rows), dtype=np.uint64), arrival[rows], f"r{op_i}")
    full, is_inc = _frame(run, draw, sys_)
    spans = _delivered(full, status)
    t_on_ns, t_off_ns = t_on * 1000, (t_on + int(round(incident_s * 1e6))) * 1000
    stress = []  # (pod, vCPU, from, to)
    if kind == "cpu_contention":
        stress.append((pod, ld, t_on_ns, t_off_ns))
    if neighbour is not None:
        stress.append((neighbour, float(noisy_neighbour), t_on_ns, t_off_ns))
    p_on_ns = t_start * 1000
    p_off_ns = p_on_ns + int(round(prev["s"] * 1e9)) if prev is not None else p_on_ns
    if prev is not None and prev["kind"] == "cpu_contention":
        stress.append((prev["pod"], prev["load"], p_on_ns, p_off_ns))

    def make_logs() -> pd.DataFrame:
        return app_logs(full, seed=seed, check=False)  # built by spans_from_columns in _frame: checked

    def make_metrics() -> pd.DataFrame:
        return _stressed(app_metrics(spans, seed=seed, check=False), stress)
    incident = spans[is_inc].reset_index(drop=True)
    baseline = spans[~is_inc].reset_index(drop=True)
    affected = 0
    if not null:
        pods_ = incident["resource"].map(lambda r: r.get("host.name")).to_numpy(dtype=object)
        m = (incident["service"].to_numpy(dtype=object) == sys_.services[svc]) & (pods_ == pod) & \
            (incident["kind"].to_numpy(dtype=object) == "server")
        if truth["op"] is not None:
            m &= incident["name"].to_numpy(dtype=object) == sys_.operations[target_op].name
        affected = int(m.sum())
    previous = None
    if prev is not None:
        bt = pd.Series(ns(baseline["start"])).groupby(baseline["trace_id"].to_numpy()).transform("min").to_numpy()
        m = (baseline["service"].to_numpy(dtype=object) == sys_.services[prev["svc"]]) & \
            (baseline["resource"].map(lambda r: r.get("host.name")).to_numpy(dtype=object) == prev["pod"]) & \
            (baseline["kind"].to_numpy(dtype=object) == "server") & (bt < p_off_ns)
        if prev["op"] is not None:
            m &= baseline["name"].to_numpy(dtype=object) == sys_.operations[prev["op"]].name
        pk = prev["kind"]
        previous = FaultTruth(
            kind=pk, seed=int(seed), service=sys_.services[prev["svc"]], pod=prev["pod"],
            operation=None if prev["op"] is None else sys_.operations[prev["op"]].name,
            time=pd.Timestamp(p_on_ns, tz="UTC"), end=pd.Timestamp(p_off_ns, tz="UTC"),
            factor=prev["factor"] if pk in ("cpu_contention", "cpu_consumed") else 1.0,
            load=prev["load"] if pk == "cpu_contention" else 0.0,
            delay_ms=prev["delay_ms"] if pk == "network_delay" else 0.0,
            share=prev["share"] if pk in ("exception", "return") else 0.0, status=bool(status), neighbour_pod=None,
            affected_calls=int(m.sum()))
    ft = FaultTruth(kind=kind, seed=int(seed), service=None if null else sys_.services[svc], pod=None if null else pod,
                    operation=None if truth["op"] is None else sys_.operations[target_op].name,
                    time=pd.Timestamp(t_on_ns, tz="UTC"), end=pd.Timestamp(t_off_ns, tz="UTC"),
                    factor=f_ if kind in ("cpu_contention", "cpu_consumed") else 1.0,
                    load=ld if kind == "cpu_contention" else 0.0, delay_ms=dl if kind == "network_delay" else 0.0,
                    share=sh if kind in ("exception", "return") else 0.0, status=bool(status), neighbour_pod=neighbour,
                    affected_calls=affected, previous=previous)
    return FaultWindow(system=sys_, truth=ft, baseline=baseline, incident=incident, make_logs=make_logs,
                       make_metrics=make_metrics)


def _stressed(metrics: pd.DataFrame, stress: list) -> pd.DataFrame:
    """The CPU utilisation of each stressed pod raised by its load (``stress``: (pod, vCPU, from, to) in ns)."""
    if not stress:
        return metrics
    tm = ns(metrics["time"])
    cpu = (metrics["name"] == "process.cpu.utilization").to_numpy()
    host = metrics["host"].astype(object).to_numpy()
    val = metrics["value"].to_numpy(dtype=float).copy()
    for p, extra, a, b in stress:
        m = cpu & (host == p) & (tm > a) & (tm <= b + int(10e9))
        # the point of the interval holding the onset gets the share of the interval after it
        val[m] += extra * np.clip((tm[m] - a) / 10e9, 0, 1) * np.clip((b + 10e9 - tm[m]) / 10e9, 0, 1)
    metrics = metrics.copy()
    metrics["value"] = np.round(val, 5)
    return metrics


def _frame(run: _Run, draw: _Draw, sys_: System) -> tuple[pd.DataFrame, np.ndarray]:
    """The spans recorded (with status, exception and log events) and which rows are the incident's."""
    c = run.cols
    req = np.concatenate(c["req"])
    sid, pid = np.concatenate(c["sid"]), np.concatenate(c["pid"])
    svc, op = np.concatenate(c["svc"]), np.concatenate(c["op"])
    kind = np.concatenate(c["kind"]).astype(object)
    start, end = np.concatenate(c["start"]), np.concatenate(c["end"])
    pod, code = np.concatenate(c["pod"]), np.concatenate(c["code"])
    events = c["events"]
    order = np.lexsort((start, req))
    n_req = int(req.max()) + 1 if len(req) else 0
    all_req = np.arange(n_req, dtype=np.int64)
    tid = [a + b for a, b in zip(_hex(draw.bits(all_req, "trace-hi")), _hex(draw.bits(all_req, "trace-lo")), strict=True)]
    names = np.array([o.name for o in sys_.operations], dtype=object)
    services = np.array(sys_.services, dtype=object)
    res = {(s, j): {"service.name": sys_.services[s], "host.name": p, "k8s.pod.name": p, "service.version": "1.0.0"}
           for s, ps in enumerate(sys_.pods) for j, p in enumerate(ps)}
    o = order
    callee_svc = services[np.array([sys_.operations[i].service for i in op[o]], dtype=np.int64)] if len(o) else []
    attrs = []
    for k, nm, cd, cs in zip(kind[o], names[op[o]], code[o], callee_svc, strict=True):
        method, route = nm.split(" ", 1)
        if k == "server":
            attrs.append({"http.request.method": method, "http.route": route, "http.response.status_code": int(cd)})
        else:
            attrs.append({"http.request.method": method, "server.address": cs, "peer.service": cs,
                          "http.response.status_code": int(cd)})
    code_o = code[o]
    msgs = [next((e["attributes"]["exception.message"] for e in events[i] if e["name"] == "exception"
                  and e["attributes"].get("exception.escaped")), None) if code[i] >= 500 else None for i in o]
    with taking_cells():  # cells built for this frame alone: no copy
        df = spans_from_columns({
            "trace_id": [tid[i] for i in req[o]], "span_id": _hex(sid[o]),
            "parent_id": [None if p == 0 else h for p, h in zip(pid[o], _hex(pid[o]), strict=True)],
            "service": services[svc[o]], "name": names[op[o]], "kind": kind[o],
            "start": start[o] * 1000, "end": end[o] * 1000,
            "status": np.where(code_o >= 500, "error", "ok"), "status_message": msgs,
            "http_status": pd.array(code_o, dtype="Int64"), "fault": code_o >= 500,
            "attributes": attrs, "resource": [res[(s, p)] for s, p in zip(svc[o], pod[o], strict=True)],
            "events": [events[i] for i in o], "source": np.full(len(o), "simulated", dtype=object)})
    return df, run.inc[req[o]]


def _delivered(full: pd.DataFrame, status: bool) -> pd.DataFrame:
    """The spans handed out: without log events; without status, HTTP status and exception events when not ``status``."""
    out = full.copy()
    if status:
        out["events"] = [[e for e in ev if e.get("name") != LOG_EVENT] if ev else ev for ev in full["events"]]
    else:
        n = len(out)
        out["events"] = [[] for _ in range(n)]
        out["status"] = pd.array(["unset"] * n, dtype=out["status"].dtype)
        out["status_message"] = pd.array([None] * n, dtype=out["status_message"].dtype)
        out["http_status"] = pd.array([None] * n, dtype="Int64")
        out["fault"] = False
        out["attributes"] = [{k: v for k, v in a.items() if k != "http.response.status_code"} for a in full["attributes"]]
    return out
