"""Dependency graphs: who calls whom, how often, how slowly, how often it fails.

:func:`service_graph` returns a plain :class:`networkx.DiGraph`; :func:`graph_layout` is the data
step of ``plot_service_graph`` (node positions and edge segments as one DataFrame).

Where an edge comes from:

* **parent → child across nodes**: a span whose parent is in the trace and belongs to another
  node (another service, or with ``by="operation"`` another ``service:name``) makes one call on
  the edge parent-node → child-node. Its statistics are the *callee* span's (the child): its
  duration, status and error/fault/throttle flags. X-Ray inferred segments (e.g. a DynamoDB
  table) are children of the calling subsegment, so they become callee nodes this way.
* **self-calls**: a CLIENT/PRODUCER span answered by a SERVER/CONSUMER child in the same node (a
  service calling its own endpoint) is one call on the self-loop node → node, with the callee's
  statistics like any other instrumented call (not a call to an uninstrumented peer named by the
  client span's address).
* **uninstrumented peers**: a CLIENT or PRODUCER span with no child in another node names its
  peer by the kernel's callee resolver (:func:`tracekit.core.callee`: ``peer.service``,
  ``rpc.service``, server address, URL host, db name/system, X-Ray ``remote``/``aws`` subsegment
  name — the same name health's uninstrumented hops use). The edge goes to that peer node
  (``instrumented=False``) and its statistics are the client span's. A client span naming no
  peer adds no edge. Only a child the graph draws a call to answers a client span (one in
  another service, or with ``by="operation"`` another operation's server/consumer span), so a
  database call with an internal child (a connection span) still reaches its database under
  ``by="operation"``. One call instrumented twice (a client/producer span under a client/producer
  span of its own service, e.g. ``requests`` over ``urllib3``, an SQS send over its HTTP request) is
  one call: the outermost span's, which names the callee as the application called it; an answer
  below the inner span answers it.
* **asynchronous edges**: a call made under an asynchronous hand-off
  (:func:`tracekit.core.is_async_handoff`: a PRODUCER span, a messaging span, an X-Ray SQS
  ``SendMessage`` / SNS ``Publish`` subsegment) or a PRODUCER parent's CONSUMER child, and a span
  carrying a link to a span of another node in the data (edge linked → linking). ``async`` is True
  when any call on the edge is asynchronous, ``async_calls`` counts them, and ``kind`` says
  ``"async"`` (all of them), ``"mixed"`` (some) or ``"sync"`` (none; :func:`tracekit.core.calls.edge_kind`). A producer span linked to by a span of another node is answered by
  it (no extra edge to its uninstrumented peer), so a hop drawn through a span link gives the
  same graph as the same hop inside one trace (producer parent → consumer child).
  ``wait_p50_ms`` / ``wait_p95_ms`` / ``wait_p99_ms``: the distribution of queue waits (consumer
  start − producer end) over the edge's hops (a CONSUMER child of a hand-off parent, or a link);
  NaN on an edge without hops.

Edge attributes: ``calls`` (= ``weight``), ``errors`` (failed calls, :func:`tracekit.core.failed`:
:data:`tracekit.core.FAILED_WORDS`), ``unknown`` (calls still in progress
with no outcome yet, :func:`tracekit.core.outcome_unknown`: neither failed nor ok, so a failed share of the edge is
``errors / (calls - unknown)``, NaN when every call is unknown),
``faults``, ``throttles``, ``p50_ms``/``p95_ms``/``p99_ms`` (:func:`tracekit.core.percentile`,
inverted_cdf) / ``mean_ms`` / ``total_ms`` of ``duration_ms``, ``async``, ``async_calls``, ``kind``,
``wait_p50_ms``/``wait_p95_ms``/``wait_p99_ms``. Node attributes: ``spans``, ``errors``, ``unknown`` (spans of
unknown outcome, as on edges), ``faults``, ``self_ms`` (exclusive time, :func:`tracekit.analysis.structure.self_time`), ``duration_ms``
(inclusive, summed), ``instrumented``, and with ``by="operation"`` ``service`` and ``name``.
Graph attributes: ``by``, the population and window the graph was drawn from (:func:`graph_scope`: ``spans``
— a span exported twice counted once —, ``traces``, ``start`` and ``end``, :func:`tracekit.core.span_window`, None
when unknown) and ``status_recorded`` (:func:`tracekit.core.status_recorded`): when no span records
a status, the ``errors`` counts are 0 because nothing could be recorded as failed — a failed share drawn from
them is unknown, not 0 (:func:`tracekit.plot_service_graph` says so).
A span exported twice (a span id repeated in its trace) is one span: its other copies make no call and
are not counted on their node (:mod:`tracekit.core.tree`), and a link to it links to the copy the tree keeps
(:func:`tracekit.core.span_rows`), whatever the row order.
Everything is computed with groupby over the spans; no per-trace loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..core import (
    NAT_NS,
    call_answers,
    callees,
    failed,
    is_async_handoff,
    ns,
    outcome_unknown,
    percentile,
    require_columns,
    span_count,
    span_rows,
    span_tree,
    span_window,
    status_recorded,
    throttled,
)
from ..core.calls import edge_kind
from ..errors import ArgumentError, require
from ..schema import known_name_column, known_service_column
from .structure import self_time

if TYPE_CHECKING:  # networkx is imported where used
    import networkx as nx

__all__ = ["service_graph", "graph_layout", "graph_scope", "wait_percentiles", "WAIT_STATS"]

_PEER_KEYS = ("peer.service", "server.address", "net.peer.name", "db.system", "rpc.service")
_EDGE_STATS = ("calls", "errors", "unknown", "faults", "throttles", "p50_ms", "p95_ms", "p99_ms", "mean_ms", "total_ms", "async_calls")
#: queue-wait percentiles of an edge (consumer start − producer end over its hops)
WAIT_STATS = ("wait_p50_ms", "wait_p95_ms", "wait_p99_ms")


def wait_percentiles(waits: np.ndarray) -> tuple[float, float, float]:
    """p50/p95/p99 of an edge's queue waits (:func:`tracekit.core.percentile`; NaN values are not hops).

    Shared with :mod:`tracekit.dask` so that both engines give the same edge attributes.

    Examples
    --------
    >>> wait_percentiles(np.array([np.nan, 10.0, 30.0]))
    (10.0, 30.0, 30.0)
    """
    q = percentile(np.asarray(waits, dtype=np.float64), (0.5, 0.95, 0.99))
    return float(q[0]), float(q[1]), float(q[2])


def graph_scope(spans: pd.DataFrame, parts: list[dict] | None = None) -> dict:
    """The population and window a dependency graph is drawn from: ``spans`` (a span exported twice counted once,
    :mod:`tracekit.core.tree`), ``traces``, ``start`` and ``end`` (:func:`tracekit.core.span_window`; None when no
    span has one). With ``parts`` (the scopes of frames holding whole traces each), their combination instead.

    Shared with :mod:`tracekit.dask` so that both engines give the same graph attributes.

    Examples
    --------
    >>> import tracekit as tk
    >>> sc = graph_scope(tk.spans_from_columns({"trace_id": ["1" * 32] * 2, "span_id": ["a" * 16] * 2,
    ...     "service": ["api"] * 2, "name": ["x"] * 2, "start": [0, 0], "end": [5_000_000, 9_000_000]}))
    >>> sc["spans"], sc["traces"], str(sc["end"])
    (1, 1, '1970-01-01 00:00:00.009000+00:00')
    """
    if parts is not None:
        starts = [p["start"] for p in parts if p["start"] is not None]
        ends = [p["end"] for p in parts if p["end"] is not None]
        return {"spans": sum(int(p["spans"]) for p in parts), "traces": sum(int(p["traces"]) for p in parts),
                "start": min(starts) if starts else None, "end": max(ends) if ends else None}
    if not len(spans):
        return {"spans": 0, "traces": 0, "start": None, "end": None}
    tree = span_tree(spans)
    t0, t1 = span_window(spans)
    return {"spans": span_count(spans), "traces": len(tree.trace_ids),
            "start": None if pd.isna(t0) else pd.Timestamp(t0), "end": None if pd.isna(t1) else pd.Timestamp(t1)}


def service_graph(spans: pd.DataFrame, by: str = "service") -> nx.DiGraph:
    """Dependency graph of the spans: nodes are services (or operations), edges are calls.

    See the module docstring for where edges come from and every attribute.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (one row per span, tracekit.schema).
    by : str, default 'service'
        Node granularity: ``"service"`` or ``"operation"`` (``service:name``), the named keys of
        :data:`tracekit.core.BY_KEYS` a call graph has nodes for.

    Returns
    -------
    nx.DiGraph
        Dependency graph of the spans: nodes are services (or operations), edges are calls. ``G.graph``:
        ``by``, ``spans``, ``traces``, ``start``, ``end`` (the population and window drawn, :func:`graph_scope`) and
        ``status_recorded`` (False: no span records a status, so the ``errors`` counts cannot show a failure and a
        failed share from them is unknown, not 0).

    Examples
    --------
    >>> import tracekit as tk
    >>> ms = 1_000_000
    >>> spans = tk.spans_from_columns({
    ...     "trace_id": ["1" * 32] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
    ...     "parent_id": [None, "a" * 16, "b" * 16], "service": ["web", "web", "orders"],
    ...     "name": ["GET /", "call orders", "POST /orders"], "kind": ["server", "client", "server"],
    ...     "start": [0, 5 * ms, 6 * ms], "end": [50 * ms, 45 * ms, 40 * ms],
    ...     "attributes": [{}, {"peer.service": "orders"}, {"db.system": "postgresql"}]})
    >>> G = tk.service_graph(spans)
    >>> sorted(G.edges), G.edges["web", "orders"]["calls"], G.edges["web", "orders"]["p50_ms"]
    ([('web', 'orders')], 1, 34.0)
    """
    nx = require("networkx", "core")
    require_columns(spans, ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "duration_ms"), "service_graph")
    if by not in ("service", "operation"):
        raise ArgumentError(f"service_graph: by must be 'service' or 'operation', got {by!r}")
    edges, node, peer_nodes, service, name, err, fault, dur, keep, unknown = call_edges(spans, by)
    n = len(node)
    G = nx.DiGraph(by=by, **graph_scope(spans), status_recorded=bool(status_recorded(spans)))
    # nodes (a span exported twice is one span: the other copies are left out, as the kernel tree says)
    self_ms = self_time(spans)["self_ms"].to_numpy(dtype=np.float64, na_value=np.nan)[keep]
    nd = pd.DataFrame({"node": node, "err": err, "unknown": unknown, "fault": fault, "self": self_ms, "dur": dur})
    if n:
        ng = nd.groupby("node", sort=True).agg(spans=("err", "size"), errors=("err", "sum"), unknown=("unknown", "sum"),
                                               faults=("fault", "sum"), self_ms=("self", "sum"), duration_ms=("dur", "sum"))
        first = pd.Series(np.arange(n)).groupby(node).first()
        for key, r in ng.iterrows():
            attrs = {"spans": int(r.spans), "errors": int(r.errors), "unknown": int(r.unknown), "faults": int(r.faults),
                     "self_ms": float(r.self_ms), "duration_ms": float(r.duration_ms), "instrumented": True}
            if by == "operation":
                i = int(first[key])
                attrs.update(service=service[i], name=name[i])
            G.add_node(key, **attrs)
    for p in sorted(set(peer_nodes.tolist()) - set(G.nodes)):
        G.add_node(p, spans=0, errors=0, unknown=0, faults=0, self_ms=0.0, duration_ms=0.0, instrumented=False,
                   **({"service": p, "name": p} if by == "operation" else {}))
    if len(edges):
        g = edges.groupby(["source", "target"], sort=True)
        stats = g.agg(calls=("dur", "size"), errors=("err", "sum"), unknown=("unknown", "sum"), faults=("fault", "sum"),
                      throttles=("throttle", "sum"), mean_ms=("dur", "mean"), total_ms=("dur", "sum"), async_calls=("async", "sum"))
        q = g["dur"].agg(lambda v: tuple(percentile(v.to_numpy(dtype=np.float64), (0.5, 0.95, 0.99))))
        stats["p50_ms"], stats["p95_ms"], stats["p99_ms"] = (q.map(lambda t, k=k: t[k]) for k in range(3))
        wq = g["wait"].agg(lambda v: wait_percentiles(v.to_numpy(dtype=np.float64)))
        for (u, v), r in stats.iterrows():
            w50, w95, w99 = wq[(u, v)]
            G.add_edge(u, v, calls=int(r.calls), weight=int(r.calls), errors=int(r.errors), unknown=int(r.unknown),
                       faults=int(r.faults),
                       throttles=int(r.throttles), p50_ms=float(r.p50_ms), p95_ms=float(r.p95_ms), p99_ms=float(r.p99_ms),
                       mean_ms=float(r.mean_ms), total_ms=float(r.total_ms), async_calls=int(r.async_calls),
                       kind=edge_kind(int(r.calls), int(r.async_calls)), wait_p50_ms=w50, wait_p95_ms=w95, wait_p99_ms=w99,
                       **{"async": bool(r.async_calls > 0)})
    return G


def operation_keys(service, name) -> np.ndarray:
    r"""The node key of each (service, operation) pair of ``service_graph(by="operation")``.

    ``"service:operation"``, with a colon or backslash *in the service* escaped by a backslash, so the first bare
    colon separates the two and no two pairs share a key (service ``"a:b"`` with operation ``"c"`` is
    ``"a\:b:c"`` (printed ``'a\\:b:c'``), service ``"a"`` with operation ``"b:c"`` is ``"a:b:c"``). Ordinary names read as before.

    Parameters
    ----------
    service, name : array-like of str
        The service and the operation name of each span.

    Returns
    -------
    numpy.ndarray
        One key (object) per pair.

    Examples
    --------
    >>> operation_keys(["web", "a:b", "a"], ["GET /", "c", "b:c"]).tolist()
    ['web:GET /', 'a\\:b:c', 'a:b:c']
    """
    return np.asarray([f"{str(s).replace(chr(92), chr(92) * 2).replace(':', chr(92) + ':')}:{o}"
                       for s, o in zip(service, name, strict=True)], dtype=object)


def call_edges(spans: pd.DataFrame, by: str = "service"):
    """Every call between nodes, and the per-span arrays the node statistics need.

    Shared with :mod:`tracekit.dask` so the two engines cannot drift apart.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame.
    by : {"service", "operation"}
        Node identity.

    Returns
    -------
    tuple
        ``(edges, node, peer_nodes, service, name, failed, fault, dur, keep, unknown)``: ``edges`` one row per call
        (``source``, ``target``, ``dur``, ``err`` — failed, :func:`tracekit.core.failed` —, ``unknown`` — still in
        progress with no outcome yet, :func:`tracekit.core.outcome_unknown` —,
        ``fault``, ``throttle``, ``async``, ``wait`` — queue wait in ms of a hop, else NaN); ``keep`` the rows
        that are spans (bool per row: another copy of a duplicated span id is not, :mod:`tracekit.core.tree`);
        the rest per kept row.

    Examples
    --------
    >>> import tracekit as tk
    >>> edges = call_edges(tk.examples.load("checkout-small"))[0]
    >>> list(edges.columns)
    ['source', 'target', 'dur', 'err', 'unknown', 'fault', 'throttle', 'async', 'wait']
    """
    n = len(spans)
    tree = span_tree(spans)
    parent = tree.parent
    service = known_service_column(spans["service"]).to_numpy(dtype=object)
    name = known_name_column(spans["name"]).to_numpy(dtype=object)
    kind = spans["kind"].to_numpy(dtype=object, na_value="unspecified")
    node = service if by == "service" else operation_keys(service, name)
    err, throttle = failed(spans), throttled(spans)
    unknown = outcome_unknown(spans)  # in progress, no outcome yet: neither failed nor ok
    fault = spans["fault"].to_numpy(dtype=bool, na_value=False) if "fault" in spans.columns else np.zeros(n, dtype=bool)
    dur = spans["duration_ms"].to_numpy(dtype=np.float64, na_value=np.nan)

    keep = ~tree.duplicate  # a span exported twice is one span (kernel tree): its other copies make no call
    has_p = parent >= 0
    pnode = np.where(has_p, node[np.maximum(parent, 0)], None)
    cross = has_p & (pnode != node)
    # asynchronous: a consumer under a producer, or anything under a hand-off to a queue or stream
    # (X-Ray: SQS SendMessage / SNS Publish subsegments, messaging spans), the kernel's definition
    handoff = is_async_handoff(spans)
    pc_async = has_p & (((kind == "consumer") & (np.where(has_p, kind[np.maximum(parent, 0)], "") == "producer"))
                        | np.where(has_p, handoff[np.maximum(parent, 0)], False))

    start_ns = ns(spans["start"])
    end_ns = ns(spans["end"])

    def waits(producer: np.ndarray, consumer: np.ndarray) -> np.ndarray:
        ok = (end_ns[producer] != NAT_NS) & (start_ns[consumer] != NAT_NS)
        return np.where(ok, (start_ns[consumer] - end_ns[producer]) / 1e6, np.nan)

    # a hop between two instrumented spans: a client/producer parent answered by a server/consumer child. It is a
    # call even inside one node (a service calling its own endpoint: a self-loop with the callee's statistics)
    calls_out = np.isin(kind, ["client", "producer"])
    entry = np.isin(kind, ["server", "consumer"])
    hop = has_p & entry & np.where(has_p, calls_out[np.maximum(parent, 0)], False)
    # 1. parent -> child across nodes, and every hop (callee statistics)
    r1 = np.flatnonzero((cross | hop) & keep)
    src = [pnode[r1]]
    dst = [node[r1]]
    rows = [r1]
    asyn = [pc_async[r1]]
    hop1 = pc_async[r1] & (kind[r1] == "consumer")
    wait = [np.where(hop1, waits(parent[r1], r1), np.nan)]
    # 3. links to spans of another node in the data (a linked producer counts as answered)
    linked = np.zeros(n, dtype=bool)
    if "links" in spans.columns and n:
        lk = spans["links"].to_numpy(dtype=object)
        has_links = np.flatnonzero([isinstance(x, (list, tuple, np.ndarray)) and len(x) > 0 for x in lk] & keep)
        if len(has_links):
            # a link's target: the copy of a span exported twice that *is* the span (core.span_rows, the kernel
            # tree's rule), whatever the row order (its first row made the short copy the target: a wait from its
            # end, and the span itself left unanswered with an extra edge to its peer)
            li, lt, ls_ = [], [], []
            for i in has_links.tolist():
                for link in lk[i]:
                    if isinstance(link, dict):  # (an id that is no string names no span: a list made a 2-D array)
                        t_, s_ = link.get("trace_id"), link.get("span_id")
                        li.append(i)
                        lt.append(t_ if isinstance(t_, str) else None)
                        ls_.append(s_ if isinstance(s_, str) else None)
            at = span_rows(spans, lt, ls_, tree)
            ls, ld, lr, lj = [], [], [], []
            for i, j in zip(li, at.tolist(), strict=True):
                if j >= 0 and node[j] != node[i] and j != parent[i]:
                    ls.append(node[j])
                    ld.append(node[i])
                    lr.append(i)
                    lj.append(j)
            lr_a = np.asarray(lr, dtype=np.int64)
            lj_a = np.asarray(lj, dtype=np.int64)
            src.append(np.asarray(ls, dtype=object))
            dst.append(np.asarray(ld, dtype=object))
            rows.append(lr_a)
            asyn.append(np.ones(len(lr), dtype=bool))
            wait.append(waits(lj_a, lr_a))
            linked[lj_a] = True
    # which calls are answered (no edge to their peer): the kernel's one definition (tracekit.core.calls), shared
    # with health and the dropped-context pairs — a child in another service or a server/consumer hop, a linking
    # span of another node, an answer below an inner span of a call instrumented twice (requests over urllib3: the
    # outermost span is the call, naming the callee as the application called it; the inner spans are not calls)
    answers = call_answers(spans, tree, linked=linked)
    # 2. client/producer spans with no cross-node child (nor a linking span elsewhere) -> peer
    cand = np.flatnonzero(answers.call & ~answers.answered)
    peers = callees(spans, cand)
    okp = np.asarray([p is not None for p in peers], dtype=bool)
    r2 = cand[okp]
    peer_nodes = peers[okp]
    src.append(node[r2])
    dst.append(peer_nodes)
    rows.append(r2)
    asyn.append(handoff[r2])
    wait.append(np.full(len(r2), np.nan))
    e_rows = np.concatenate(rows).astype(np.int64)
    edges = pd.DataFrame({
        "source": np.concatenate(src).astype(object), "target": np.concatenate(dst).astype(object),
        "dur": dur[e_rows], "err": err[e_rows], "unknown": unknown[e_rows], "fault": fault[e_rows], "throttle": throttle[e_rows],
        "async": np.concatenate(asyn).astype(bool),
        "wait": np.concatenate(wait).astype(np.float64),
    })
    return (edges, node[keep], peer_nodes, service[keep], name[keep], err[keep], fault[keep], dur[keep], keep,
            unknown[keep])


def graph_layout(G: nx.DiGraph) -> pd.DataFrame:
    """Node positions and edge segments of a dependency graph: the data step of ``plot_service_graph``.

    A layered left-to-right layout, deterministic: ``x`` is the node's layer (longest call chain
    from a node nobody calls; nodes on a cycle share a layer), ``y`` its rank within the layer
    (sorted by name, centred on 0). One row per node (``element="node"``, ``node``, ``x``, ``y``
    and its numeric attributes) and per edge (``element="edge"``, ``source``, ``target``,
    ``x0, y0, x1, y1`` and its attributes).

    >>> import networkx as nx
    >>> G = nx.DiGraph(); G.add_edge("web", "orders", calls=3); G.add_edge("orders", "db", calls=2)
    >>> lay = graph_layout(G)
    >>> lay.loc[lay.element == "node", ["node", "x", "y"]].values.tolist()
    [['web', 0.0, 0.0], ['orders', 1.0, 0.0], ['db', 2.0, 0.0]]
    >>> lay.loc[lay.element == "edge", ["source", "target", "x0", "x1", "calls"]].values.tolist()
    [['web', 'orders', 0.0, 1.0, 3.0], ['orders', 'db', 1.0, 2.0, 2.0]]
    """
    nx = require("networkx", "core")
    if not isinstance(G, nx.DiGraph) or G.is_multigraph():  # (a MultiDiGraph: a bare "too many values to unpack")
        raise ArgumentError(f"graph_layout: expected a networkx.DiGraph, got {type(G).__name__}")
    C = nx.condensation(G)
    members = C.graph["mapping"]  # node -> component
    layer_c: dict[int, int] = {}
    for c in nx.topological_sort(C):
        preds = list(C.predecessors(c))
        layer_c[c] = 1 + max(layer_c[p] for p in preds) if preds else 0
    layer = {v: layer_c[members[v]] for v in G.nodes}
    by_layer: dict[int, list] = {}
    for v in G.nodes:
        by_layer.setdefault(layer[v], []).append(v)
    pos: dict = {}
    for lx, vs in by_layer.items():
        vs = sorted(vs, key=str)
        k = len(vs)
        for i, v in enumerate(vs):
            pos[v] = (float(lx), float(i - (k - 1) / 2))
    order = sorted(G.nodes, key=lambda v: (pos[v][0], pos[v][1], str(v)))
    node_rows = []
    for v in order:
        row = {"element": "node", "node": v, "x": pos[v][0], "y": pos[v][1]}
        row.update({k: val for k, val in G.nodes[v].items() if k not in row})
        node_rows.append(row)
    edge_rows = []
    for u, v in sorted(G.edges, key=lambda e: (pos[e[0]][0], pos[e[0]][1], pos[e[1]][0], pos[e[1]][1], str(e))):
        row = {"element": "edge", "source": u, "target": v, "x0": pos[u][0], "y0": pos[u][1], "x1": pos[v][0], "y1": pos[v][1]}
        row.update({k: val for k, val in G.edges[u, v].items() if k not in row})
        edge_rows.append(row)
    cols = ["element", "node", "source", "target", "x", "y", "x0", "y0", "x1", "y1"]
    out = pd.DataFrame(node_rows + edge_rows)
    for c in cols:
        if c not in out.columns:
            out[c] = pd.Series([None] * len(out), dtype=object) if c in ("node", "source", "target", "element") else np.nan
    rest = [c for c in out.columns if c not in cols]
    return out[cols + rest].reset_index(drop=True)
