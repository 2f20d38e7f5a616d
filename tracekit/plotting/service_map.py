"""The service map (:func:`plot_service_graph`): services as nodes in call layers, calls as edges."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..core.args import count_arg
from ..core.words import hover_text, ms_label, percent, plural, window_text
from ..errors import ArgumentError, require
from .colors import ERROR_COLOR, esc, fmt_ms, say_empty, service_colors, short_text

go = require("plotly.graph_objects", "plot")

__all__ = ["plot_service_graph", "EDGE_COLORS"]

# --------------------------------------------------------------------------------------------------
# service graph


#: the vertical room between two bend points of long edges in a layer, in node slots (two nodes: 1; a node and a
#: bend: half a slot, clear of the node's label)
_BEND_GAP = 0.25


def _layered_positions(G) -> tuple[dict[Any, tuple[float, float]], dict[tuple, list[tuple[float, float]]]]:
    """Positions of a layered left-to-right drawing and the bends of long edges.

    The layer of a node is that of :func:`tracekit.analysis.graph.graph_layout` (callers left of
    callees; nodes on a cycle share one). An edge spanning several layers gets a bend point in
    every layer it crosses (a Sugiyama dummy node), so it runs around the nodes in between
    instead of through them. Each layer is ordered by the barycentre of its neighbours (four
    down-and-up sweeps, fewer crossings), then y is the rank centred on 0, one unit apart.
    Returns ``(pos, bends)``: node → (x, y) and edge (u, v) → bend points."""
    from ..analysis.graph import graph_layout

    lay = graph_layout(G)
    lay = lay[lay["element"] == "node"]
    layer = {v: float(x) for v, x in zip(lay["node"].tolist(), lay["x"].tolist(), strict=True)}
    layers: dict[float, list] = {}
    for v in lay["node"].tolist():
        layers.setdefault(layer[v], []).append(v)
    up: dict[Any, list] = {v: [] for v in G.nodes}  # neighbours one layer left / right (dummies included)
    down: dict[Any, list] = {v: [] for v in G.nodes}
    chains: dict[tuple, list] = {}
    for u, v in G.edges:
        if u == v:
            continue
        lu, lv = layer[u], layer[v]
        if abs(lv - lu) <= 1:
            if lv > lu:
                down[u].append(v)
                up[v].append(u)
            elif lv < lu:
                down[v].append(u)
                up[u].append(v)
            continue
        step = 1.0 if lv > lu else -1.0
        prev = u
        chain = []
        x = lu + step
        while (x - lv) * step < 0:
            d = ("__bend__", u, v, x)
            layers.setdefault(x, []).append(d)
            layer[d] = x
            up[d], down[d] = [], []
            a_, b_ = (prev, d) if step > 0 else (d, prev)
            down[a_].append(b_)
            up[b_].append(a_)
            chain.append(d)
            prev = d
            x += step
        a_, b_ = (prev, v) if step > 0 else (v, prev)
        down[a_].append(b_)
        up[b_].append(a_)
        chains[(u, v)] = chain
    xs = sorted(layers)
    for x in xs:
        layers[x].sort(key=lambda v: (isinstance(v, tuple) and len(v) == 4 and v[0] == "__bend__", str(v)))
    y = {v: float(i - (len(vs) - 1) / 2) for x in xs for vs in [layers[x]] for i, v in enumerate(vs)}
    links = [(a_, b_) for a_ in down for b_ in down[a_]]

    def crossings() -> int:
        if len(links) > 400:
            return 0
        n_cross = 0
        for i, (a1, b1) in enumerate(links):
            for a2, b2 in links[i + 1:]:
                if layer[a1] == layer[a2] and a1 != a2 and b1 != b2 and (y[a1] - y[a2]) * (y[b1] - y[b2]) < 0:
                    n_cross += 1
        return n_cross

    best = (crossings(), dict(y))
    for _ in range(6):  # median-free barycentre sweeps, callers last (the order read left to right)
        for nbrs, order in ((down, xs[-2::-1]), (up, xs[1:])):
            for x in order:
                vs = layers[x]

                def centre(v, nbrs=nbrs):
                    nb = nbrs[v]
                    return float(np.mean([y[u] for u in nb])) if nb else y[v]

                keyed = sorted(((centre(v), y[v], str(v)), v) for v in vs)
                layers[x] = vs = [v for _, v in keyed]
                for i, v in enumerate(vs):
                    y[v] = float(i - (len(vs) - 1) / 2)
            c = crossings()
            if c < best[0]:
                best = (c, dict(y))
    # final y: each item of a layer one slot below the one above it; where that makes the map taller than the height
    # cap allows (_MAX_HEIGHT), a bend (a long edge passing through the layer) takes half a slot from a node and a
    # quarter from another bend: with bends a full slot each, the 40-service map's layers grew to 30+ slots, the cap
    # gave a slot 50 px and 23 pairs of node labels overlapped
    compact = _SLOT_PX * max(len(vs) for vs in layers.values()) + _PAD_PX > _MAX_HEIGHT
    y = dict(best[1])
    for x in xs if compact else ():
        vs = sorted(layers[x], key=lambda v: best[1][v])
        at, prev_bend = 0.0, None
        for i, v in enumerate(vs):
            bend = isinstance(v, tuple) and len(v) == 4 and v[0] == "__bend__"
            if i:
                at += 1.0 if not bend and not prev_bend else _BEND_GAP if bend and prev_bend else 0.5
            y[v], prev_bend = at, bend
        mid = at / 2
        for v in vs:
            y[v] -= mid
    pos = {v: (layer[v], y[v]) for v in G.nodes}
    bends = {e: [(layer[d], y[d]) for d in chain] for e, chain in chains.items()}
    return pos, bends


def _xy(v: Any, node: Any) -> tuple[float, float]:
    """A node's position as two finite numbers, else an ArgumentError naming ``pos`` and the node."""
    try:
        x, y = v
        x, y = float(x), float(y)
    except (TypeError, ValueError):
        raise ArgumentError(f"plot_service_graph: pos[{node!r}] must be an (x, y) pair of numbers, got {v!r}") from None
    if not (np.isfinite(x) and np.isfinite(y)):
        raise ArgumentError(f"plot_service_graph: pos[{node!r}] must be finite, got ({x}, {y})")
    return x, y


def _positions(G, pos) -> dict[Any, tuple[float, float]]:
    if pos is None:
        return _layered_positions(G)[0] if len(G) else {}
    if isinstance(pos, pd.DataFrame):
        if "element" in pos.columns:  # graph_layout: node rows and edge rows
            pos = pos[pos["element"] == "node"]
        df = pos.set_index("node") if "node" in pos.columns else pos
        if "x" not in df.columns or "y" not in df.columns:  # (a bare KeyError 'x')
            raise ArgumentError(f"plot_service_graph: a pos DataFrame needs columns x and y (and node, or nodes as its "
                                f"index: graph_layout's); got columns {list(pos.columns)}")
        return {k: _xy((x, y), k) for k, x, y in zip(df.index, df["x"], df["y"], strict=True)}
    if not isinstance(pos, Mapping):  # (a bare TypeError or ValueError from dict(pos))
        raise ArgumentError(f"plot_service_graph: pos must be a dict node -> (x, y) or graph_layout's DataFrame, "
                            f"got {type(pos).__name__}")
    return {k: _xy(v, k) for k, v in pos.items()}


def _num(a: Mapping, *keys: str) -> float | None:
    for k in keys:
        v = a.get(k)
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
            return float(v)
    return None


def _edge_failed_share(a: Mapping, count_keys: tuple[str, ...] = ("calls", "weight")) -> float | None:
    """The failed share of an edge (a node with ``count_keys`` ``("calls", "spans", "requests")``): failed over the
    calls of known outcome — those still in progress with no outcome yet (``unknown``, core.outcome_unknown) left
    out; None without calls, or when none has a known outcome."""
    calls, nfail = _num(a, *count_keys), _num(a, "failed", "errors")
    if not calls or nfail is None:
        return None
    known = calls - (_num(a, "unknown") or 0.0)
    return min(1.0, nfail / known) if known > 0 else None


#: the population a failed share of an edge / a node is of, by the count it is read from
_EDGE_NOUNS = {"calls": "call", "weight": "call"}
_NODE_NOUNS = {"calls": "call", "spans": "span", "requests": "request"}

#: hover words of the ``unknown`` count of an edge or node (core.outcome_unknown)
UNKNOWN_TEXT = "in progress, outcome unknown (left out of the failed share)"


#: Edge colours of the service map: without a baseline by failed share, with one by the change of p95.
EDGE_COLORS: dict[str, str] = {
    "ok": "#8C8C8C", "failing": "#F4A261", "failing ≥ 5%": ERROR_COLOR,
    "slower ×2+": "#B2182B", "slower": "#EF8A62", "unchanged": "#B4B4B4", "faster": "#4393C3",
    "new": "#7B3294", "gone": "#CFCFCF", "unknown": "#C9B37E",
}


def _all_unknown(a: Mapping | None) -> bool:
    """Every call of the edge is still in progress with no outcome yet (``unknown`` = ``calls``,
    core.outcome_unknown): neither its failed share nor its latency is known."""
    calls = _num(a or {}, "calls", "weight")
    return bool(calls) and (_num(a or {}, "unknown") or 0.0) >= calls


def _edge_class(a: Mapping | None, b: Mapping | None) -> str:
    """The colour class of an edge: ``a`` its attributes, ``b`` the baseline's (None: no baseline given
    when both are dicts… see callers). An edge whose calls are all in progress is ``unknown`` (not "ok", not
    "unchanged"): nothing about it is known yet."""
    if a is not None and _all_unknown(a):
        return "unknown"
    if b is None:
        r = _edge_failed_share(a or {})
        return "ok" if not r else ("failing ≥ 5%" if r >= 0.05 else "failing")
    if a is None:
        return "gone"
    if not b:
        return "new"
    pa, pb = _num(a, "p95_ms", "p95"), _num(b, "p95_ms", "p95")
    if pa is None or pb is None or not np.isfinite(pa) or not np.isfinite(pb):
        return "unchanged"
    if pa >= 2 * pb and pa - pb >= 1.0:
        return "slower ×2+"
    if pa >= 1.2 * pb and pa - pb >= 1.0:
        return "slower"
    if pa <= pb / 1.2 and pb - pa >= 1.0:
        return "faster"
    return "unchanged"


def _fmt_num(v: float) -> str:
    """A hover number: thousands separators, no exponent for the sizes traces have."""
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:,.4g}"


#: said in a hover instead of a failed count where no span records a status (core.status_recorded)
NO_STATUS_TEXT = "failed: unknown (no span records a status)"
#: counts of a graph's nodes and edges read off a recorded status (X-Ray fault / throttle flags, HTTP 5xx / 429):
#: said as "unknown" in a hover where no span records a status, like the failed count
_STATUS_COUNTS = ("faults", "throttles", "client_errors")


def _scope_text(G) -> str:
    """``1,234 spans of 116 traces, 14:00–14:59 UTC``: the population and window of a graph of
    :func:`tracekit.service_graph` (its ``spans``, ``traces``, ``start``, ``end``); "" for a graph without them or of no trace."""
    a = G.graph
    if not isinstance(a.get("traces"), (int, np.integer)) or not isinstance(a.get("spans"), (int, np.integer)) or not a["traces"]:
        return ""
    return f"{plural(int(a['spans']), 'span')} of {plural(int(a['traces']), 'trace')}, {window_text(a.get('start'), a.get('end'))}"


def _fmt_pct(r: float | None) -> str:
    """A failed share as a label says it: a share above 0 never rounds to "0.0%" (1 failed call of 3,755 is "<0.1%")."""
    if r is None:
        return "–"
    return percent(r, 1 if r < 0.1 else 0)


def _failed_words(a: Mapping, nfail: float, count_keys: tuple[str, ...], nouns: dict[str, str]) -> str:
    """``failed: 2 of 20 calls (10.0%)``: a failed count with the population its share is of (the calls, spans or
    requests of known outcome: ``unknown``, those still in progress, left out and said so). Without a count of the
    population, the failed count alone."""
    key = next((k for k in count_keys if _num(a, k) is not None), None)
    if key is None or not _num(a, key):
        return f"failed: {int(nfail):,}"
    unk = _num(a, "unknown") or 0.0
    known = int(_num(a, key) - unk)
    noun = nouns.get(key, key)
    words = f"failed: {int(nfail):,} of {plural(known, noun)}" + (" of known outcome" if unk else "")
    return words + (f" ({_hover_pct(min(1.0, nfail / known))})" if known > 0 else "")


def _calls_words(calls: int, n_async: int) -> str:
    """An edge's calls by kind (``service_graph``'s ``calls`` and ``async_calls``): ``calls: 10 (7 synchronous,
    3 asynchronous: link / messaging hops)``; ``calls: 10`` when all are synchronous (the usual edge)."""
    if not n_async:
        return f"calls: {calls:,}"
    if n_async >= calls:
        return f"calls: {calls:,} (asynchronous: link / messaging hops)"
    return f"calls: {calls:,} ({calls - n_async:,} synchronous, {n_async:,} asynchronous: link / messaging hops)"


def _hover_pct(r: float) -> str:
    """A failed share in a hover (HTML), to 0.1 %; a share above 0 that rounds to 0.0 % reads "<0.1%"."""
    return percent(r, 1).replace("<", "&lt;").replace(">", "&gt;")


def _service_of(G, v) -> str:
    a = G.nodes[v] if v in G else {}
    return str(a.get("service", v)) if G.graph.get("by") == "operation" else str(v)


def _ops_of(ops_graph, v, by_node: dict) -> list[str]:
    """Hover lines listing the operations of node ``v`` from an operation-level graph."""
    lines = []
    for op, a in by_node.get(str(v), [])[:12]:
        n = _num(a, "spans")
        lines.append(f"· {esc(str(a.get('name', op)))}" + (f" ({int(n):,} spans)" if n else ""))
    more = len(by_node.get(str(v), [])) - 12
    if more > 0:
        lines.append(f"· … {more} more")
    return lines


def _place_edge_labels(paths: list, labels: list[str], nodes: list[tuple[float, float]],
                       px: tuple[float, float], *, order: list[int] | None = None,
                       drop: bool = False) -> tuple[list[float], list[float], list[bool]]:
    """Greedy placement of edge labels on their edges, so they overlap neither each other nor a node
    (with its name above it). Candidates lie along each edge's first segment (a long edge's label
    stays near its source), the middle first; sizes are estimated in pixels (``px`` = pixels per
    data unit in x and y; 6 px per character of a 10 px font). An edge whose candidates all
    collide takes the least-overlapping one, or with ``drop`` is left out (its flag False). ``order``: the edges in
    the order they choose (default: the longest labels first). Returns x, y and whether each label is placed."""
    sx, sy = px
    # every box placed so far (nodes, then labels) as four columns, so a candidate is measured against all of them in
    # one numpy step: the per-box Python loop made 800 services with 1,595 edges take 26 s (quadratic, 2 µs a pair)
    cap = len(nodes) + len(paths)
    bx0, bx1, by0, by1 = (np.empty(cap) for _ in range(4))
    nb = 0
    for x, y in nodes:  # the marker and the name above it
        bx0[nb], bx1[nb], by0[nb], by1[nb] = x * sx - 40, x * sx + 40, y * sy - 38, y * sy + 13
        nb += 1
    ts = np.array([0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.18, 0.82])

    out_x, out_y = [0.0] * len(paths), [0.0] * len(paths)
    placed = [True] * len(paths)
    if order is None:
        order = sorted(range(len(paths)), key=lambda i: -len(labels[i]))  # the longest labels choose first
    for i in order:
        (x0, y0), (x1, y1) = paths[i][0], paths[i][1]
        if (x0, y0) == (x1, y1):  # self-loop: above the node
            out_x[i], out_y[i] = x0, y0 - 0.45
            continue
        lines = html.unescape(labels[i]).split("<br>")
        half_w, half_h = 3.0 * max(len(x) for x in lines) + 4, 7.0 * len(lines) + 1
        # candidates along the edge, the middle first; the first that overlaps nothing, else the least overlapping
        cx, cy = x0 + ts * (x1 - x0), y0 + ts * (y1 - y0)
        c0, c1, d0, d1 = cx * sx - half_w, cx * sx + half_w, cy * sy - half_h, cy * sy + half_h
        w = np.minimum(c1[:, None], bx1[None, :nb]) - np.maximum(c0[:, None], bx0[None, :nb])
        h = np.minimum(d1[:, None], by1[None, :nb]) - np.maximum(d0[:, None], by0[None, :nb])
        area = np.where((w > 0) & (h > 0), w * h, 0.0)
        # summed in box order, as one box after another (a pairwise sum differs in the last bits and broke near-ties)
        o = np.cumsum(area, axis=1)[:, -1] if nb else np.zeros(len(ts))
        zero = np.flatnonzero(o == 0)
        if drop and not len(zero):
            placed[i] = False
            continue
        k = int(zero[0]) if len(zero) else int(np.argmin(o))
        out_x[i], out_y[i] = float(cx[k]), float(cy[k])
        bx0[nb], bx1[nb], by0[nb], by1[nb] = c0[k], c1[k], d0[k], d1[k]
        nb += 1
    return out_x, out_y, placed


#: the service map's height: this many pixels a slot of a layer, plus room for the title and legend, at most _MAX_HEIGHT
_SLOT_PX, _PAD_PX, _MAX_HEIGHT = 105, 160, 1800
#: a map with more call edges than this labels only the edges that say something (:data:`_LABEL_PRIORITY`)
_LABEL_EVERY_EDGE = 30
#: the colour of an edge that says nothing on a big map (EDGE_COLORS' grey, faded)
_FADED = "rgba(150, 150, 150, 0.35)"
#: the edge classes labelled on a big map, the most telling first ("ok" and "unchanged" edges are not labelled)
_LABEL_PRIORITY = ("slower ×2+", "failing ≥ 5%", "new", "slower", "gone", "failing", "faster")

#: most characters of a node's label on the map (its hover box says up to HOVER_CHARS)
_NODE_LABEL_CHARS = 32


def plot_service_graph(
    G,
    *,
    pos: Any = None,
    max_arrows: int = 300,
    baseline: Any = None,
    operations: Any = None,
    edge_labels: bool = True,
    title: str | None = None,
) -> go.Figure:
    """Service map from :func:`tracekit.service_graph`: callers left, callees right, calls as arrows.

    Nodes are the graph's nodes (services, and the uninstrumented peers ``service_graph`` names,
    such as a database or an external host), in layers from the services nobody calls (left) to
    their callees (right), each layer ordered to reduce crossings; every node is drawn in its
    :func:`service_colors` colour with its name in a label above it, its outline red when its
    failed share (``failed`` or ``errors`` over the ``calls``/``spans`` of known outcome: ``unknown``, those still in
    progress, left out) is above 0. Edges are arrows
    (up to ``max_arrows``) whose width grows with the calls and whose colour is their class in
    :data:`EDGE_COLORS`: by failed share, or with a ``baseline`` graph by the change of p95 (new
    and vanished calls included; the baseline's nodes join the layout); an edge whose calls are all still in
    progress with no outcome yet (``unknown`` = ``calls``) is drawn as ``unknown``, with or without a baseline. A label near each edge's
    start reads ``calls · p95`` (and the failed share when there are failures, or p95 before →
    after with a baseline). A map of more than 30 call edges labels only the edges that say something (p95
    changed against the baseline, new or gone; without one, failed calls, then the slowest by p95 up to 30 labels),
    the most telling first and only where a
    label finds room, fades the others, and says under the map how many are labelled; the hover of the edge marker
    (on the label, else mid-way along the edge) and of the node list every
    number and, when ``operations`` is given (the graph of ``service_graph(spans,
    by="operation")``), the operations behind a node and an edge.

    Traces, in order: ``meta="edges"`` (one grey line trace of every edge), ``meta="edge_info"``
    (a marker per edge at its label: ``customdata`` = the edge class, ``hovertext`` its numbers),
    ``meta="nodes"`` (one marker per node: ``text`` the names, ``customdata`` the failed share),
    then legend-only entries (``meta="legend"``) for the edge classes present. Where the graph says no span
    records a status (``G.graph["status_recorded"]`` False, :func:`tracekit.service_graph`) failures are
    "unknown" in every hover (``customdata`` of the nodes NaN), so are the ``faults`` and ``throttles``
    counts, and the grey edges' legend says so, never "none failed". Node labels and arrows are layout annotations (names ``node_label``/``arrow``).
    The default title says under the counts of nodes and edges the population and window they are of (a graph of
    :func:`tracekit.service_graph`: ``1,234 spans of 116 traces, 14:00–14:59 UTC``; the baseline's after it).

    Parameters
    ----------
    G : networkx.DiGraph
        The graph of :func:`tracekit.service_graph` (or any graph with such attributes).
    pos : dict or pandas.DataFrame, optional
        Node positions (default: the layered layout described above).
    max_arrows : int
        Most arrow annotations drawn.
    baseline : networkx.DiGraph, optional
        The same graph for a normal period: edges are coloured by their change of p95.
    operations : networkx.DiGraph, optional
        The operation-level graph (``service_graph(spans, by="operation")``) of the same spans,
        listed in the hovers.
    edge_labels : bool
        Write calls and p95 on every edge.
    title : str, optional
        Figure title (escaped; a newline breaks the line).
    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> import networkx as nx, tracekit as tk
    >>> G = nx.DiGraph()
    >>> G.add_edge("api", "db", calls=10, errors=1, p50=3.0, p95=9.5)
    >>> fig = tk.plot_service_graph(G, pos={"api": (0, 0), "db": (1, 0)})
    >>> [t.meta for t in fig.data]
    ['edges', {'edge': ['api', 'db'], 'class': 'failing ≥ 5%'}, 'edge_info', 'nodes', 'legend']
    >>> info = next(t for t in fig.data if t.meta == "edge_info")
    >>> info.hovertext[0]
    '<b>api → db</b><br>calls: 10<br>failed: 1 of 10 calls (10.0%)<br>p50: 3<br>p95: 9.5'
    >>> B = nx.DiGraph(); B.add_edge("api", "db", calls=10, p95_ms=4.0)
    >>> G.edges["api", "db"]["p95_ms"] = 9.5
    >>> fig = tk.plot_service_graph(G, baseline=B)
    >>> [a.text for a in fig.layout.annotations if a.name == "edge_label"]
    ['10 calls · 10% failed<br>p95 4.0 ms → 9.5 ms']
    """
    nx = require("networkx", "core")
    # a graph of service_graph, nothing else: None was a bare TypeError, a MultiDiGraph a ValueError, a DataFrame named
    # graph_layout as the function called
    if not isinstance(G, nx.DiGraph) or G.is_multigraph():
        raise ArgumentError(f"plot_service_graph: G must be the networkx.DiGraph of tk.service_graph(spans), got "
                            f"{type(G).__name__}")
    if baseline is not None and (not isinstance(baseline, nx.DiGraph) or baseline.is_multigraph()):
        raise ArgumentError(f"plot_service_graph: baseline must be a networkx.DiGraph, got {type(baseline).__name__}")
    if operations is not None and (not isinstance(operations, nx.DiGraph) or operations.is_multigraph()):
        raise ArgumentError(f"plot_service_graph: operations must be the networkx.DiGraph of service_graph(spans, "
                            f"by='operation'), got {type(operations).__name__}")
    max_arrows = count_arg(max_arrows, "max_arrows", "plot_service_graph")  # "x" or None: a bare TypeError
    U = G
    if baseline is not None:
        if not isinstance(baseline, nx.DiGraph):
            raise ArgumentError(f"plot_service_graph: baseline must be a networkx.DiGraph, got {type(baseline).__name__}")
        U = nx.DiGraph(G)
        for v, a in baseline.nodes(data=True):
            if v not in U:
                U.add_node(v, **a)
        for u, v in baseline.edges:
            if not U.has_edge(u, v):
                U.add_edge(u, v)
    if pos is None and len(U):
        p, bends = _layered_positions(U)
    else:
        p, bends = _positions(U, pos), {}
    missing = [n for n in U.nodes if n not in p]
    if missing:
        raise ArgumentError(f"plot_service_graph: no position for nodes {missing[:5]}")
    by_op = G.graph.get("by") == "operation"
    # no span records a status (service_graph's graph attribute, core.status_recorded): failures could not be
    # recorded, so a failed share is unknown, not 0 — said as "unknown", never drawn as "none failed"
    unknown = G.graph.get("status_recorded") is False
    b_unknown = baseline is not None and baseline.graph.get("status_recorded") is False
    # the services first, the uninstrumented peers (a database, an external host) in the slots left: a peer never
    # moves a service off the colour it has in every other figure (async-workflows: the peer DynamoDB took cart's
    # slot, so cart was purple in every waterfall and yellow on the map)
    peer = {v for v in U.nodes if U.nodes[v].get("instrumented") is False}
    cmap = service_colors({_service_of(U, v) for v in U.nodes if v not in peer}, others={_service_of(U, v) for v in peer})
    # the operation-level graph, indexed by service (nodes) and by service pair (edges)
    op_nodes: dict[str, list] = {}
    op_edges: dict[tuple[str, str], list] = {}
    if operations is not None:
        if not isinstance(operations, nx.DiGraph):
            raise ArgumentError(f"plot_service_graph: operations must be the networkx.DiGraph of service_graph(spans, by='operation'), got {type(operations).__name__}")
        for v, a in operations.nodes(data=True):
            if a.get("instrumented", True):
                op_nodes.setdefault(str(a.get("service", v)), []).append((v, a))
        for u, v, a in operations.edges(data=True):
            su = str(operations.nodes[u].get("service", u))
            sv = str(operations.nodes[v].get("service", v))
            op_edges.setdefault((su, sv), []).append((u, v, a))
        for lst in op_nodes.values():
            lst.sort(key=lambda t: -(_num(t[1], "spans") or 0))
        for lst in op_edges.values():
            lst.sort(key=lambda t: -(_num(t[2], "calls") or 0))
    max_calls = max([_num(a, "calls", "weight") or 1.0 for _, _, a in U.edges(data=True)] or [1.0])
    many = U.number_of_edges() > _LABEL_EVERY_EDGE

    def stroke(cls: str) -> str:
        """An edge's colour; on a big map the edges that say nothing (none failed / p95 unchanged) faded, so the
        changed ones stand out of 100+ edges."""
        return _FADED if many and cls in ("ok", "unchanged") else EDGE_COLORS[cls]


    ex: list[float | None] = []
    ey: list[float | None] = []
    mtext, mlabel, mclass, paths, widths, mp95 = [], [], [], [], [], []
    annotations: list[dict] = []
    classes_seen: list[str] = []
    for u, v in U.edges:
        a = G.edges[u, v] if G.has_edge(u, v) else None
        b = (baseline.edges[u, v] if baseline.has_edge(u, v) else {}) if baseline is not None else None
        cls = _edge_class(a, b)
        if cls not in classes_seen:
            classes_seen.append(cls)
        path = [p[u], *bends.get((u, v), []), p[v]]
        for x_, y_ in path:
            ex.append(x_)
            ey.append(y_)
        ex.append(None)
        ey.append(None)
        paths.append(path)
        mclass.append(cls)
        cur = a if a is not None else {}
        calls = _num(cur, "calls", "weight")
        p95 = _num(cur, "p95_ms", "p95")
        mp95.append(float(p95) if p95 is not None else np.nan)
        r = None if unknown else _edge_failed_share(cur)
        info = [f"<b>{hover_text(u)} → {hover_text(v)}</b>"]
        if a is None:
            info.append("not called in this period (called in the baseline)")
        n_async = _num(cur, "async_calls")
        mixed = calls is not None and n_async is not None and 0 < n_async < calls
        for k, val in cur.items():
            if isinstance(val, (int, float, np.integer, np.floating)) and not isinstance(val, bool) and k != "weight":
                if not np.isfinite(val):  # no value (wait_p95 of an edge without asynchronous calls): not "nan ms"
                    continue
                kk = k[:-3] if k.endswith("_ms") else k
                if k in ("calls", "async_calls") and calls is not None and n_async is not None:
                    # one edge carries a pair's synchronous calls and its asynchronous hops (service_graph): the
                    # hover said "asynchronous" of an edge of 9 calls and 1 hop, and never how many of each
                    if k == "calls":
                        info.append(_calls_words(int(calls), int(n_async)))
                elif k in ("errors", "failed"):
                    if k == "errors" and _num(cur, "failed") is not None:
                        continue  # the kernel's count wins (the share is of it): one failed line, not two
                    info.append(NO_STATUS_TEXT if unknown else _failed_words(cur, val, ("calls", "weight"), _EDGE_NOUNS))
                elif k == "unknown":
                    if val:
                        info.append(f"{UNKNOWN_TEXT}: {int(val):,}")
                elif unknown and k in _STATUS_COUNTS:  # nothing recorded a status: these counts are unknown, not 0
                    info.append(f"{esc(str(k))}: unknown")
                else:
                    info.append(f"{esc(str(kk))}: {ms_label(val) if k.endswith('_ms') else _fmt_num(val)}")
        if cur.get("async") and n_async is None:  # (a graph without the count: the flag alone)
            info.append("asynchronous")
        if mixed and any(_num(cur, k) is not None for k in ("p50_ms", "p95_ms", "p99_ms", "mean_ms", "p50", "p95")):
            info.append(f"<i>latency over all {plural(int(calls), 'call')}, synchronous and asynchronous</i>")
        if any(_num(cur, k) is not None and np.isfinite(_num(cur, k)) for k in ("wait_p50_ms", "wait_p95_ms", "wait_p99_ms")):
            info.append("<i>wait: queue wait (consumer start − producer end) of the asynchronous hops only</i>")
        label = ""
        if calls is not None:
            label = plural(int(calls), "call") + (f"\np95 {fmt_ms(p95)}" if p95 is not None else "")
            if r:
                label += f" · {_fmt_pct(r)} failed"
        if b is not None and b:
            bp95 = _num(b, "p95_ms", "p95")
            bcalls = _num(b, "calls", "weight")
            br = None if b_unknown else _edge_failed_share(b)
            info.append(f"<i>baseline → now</i>: calls {int(bcalls or 0):,} → {int(calls or 0):,}; "
                        f"p95 {fmt_ms(bp95 if bp95 is not None else np.nan)} → {fmt_ms(p95 if p95 is not None else np.nan)}; "
                        f"failed {'unknown' if b_unknown else esc(_fmt_pct(br))} → {'unknown' if unknown else esc(_fmt_pct(r))}")
            if bp95 is not None and p95 is not None and cls in ("slower ×2+", "slower", "faster"):
                label = (plural(int(calls or 0), "call") + (f" · {_fmt_pct(r)} failed" if r else "")
                         + f"\np95 {fmt_ms(bp95)} → {fmt_ms(p95)}")
        if cls in ("new", "gone"):
            label = (label + "\n" if label else "") + cls
        ops = op_edges.get((_service_of(U, u), _service_of(U, v)), []) if not by_op else []
        if ops:
            info.append("operations:")
            for ou, _ov, oa in ops[:10]:
                on = operations.nodes[ou].get("name", ou)
                info.append(f"· {esc(str(on))}: {plural(int(_num(oa, 'calls') or 0), 'call')}, p95 {fmt_ms(_num(oa, 'p95_ms', 'p95') or np.nan)}")
        mtext.append("<br>".join(info))
        mlabel.append("<br>".join(esc(x) for x in label.split("\n")) if edge_labels else "")
        width = round(float(1.0 + 3.0 * np.log1p(calls) / np.log1p(max_calls)), 2) if calls else 1.0
        widths.append(width)
        if sum(1 for x in annotations if x.get("name") == "arrow") < max_arrows and u != v:
            (x0, y0), (x1, y1) = path[-2], path[-1]
            annotations.append(dict(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", showarrow=True,
                                    arrowhead=2, arrowsize=1.0, arrowwidth=width, arrowcolor=stroke(cls),
                                    standoff=13, startstandoff=13 if len(path) == 2 else 0, text="", name="arrow"))
    nodes = list(U.nodes)
    rate, ntext, ncolor, nline = [], [], [], []
    for n in nodes:
        a = U.nodes[n]
        calls = _num(a, "calls", "spans", "requests")
        share = _edge_failed_share(a, ("calls", "spans", "requests"))
        nfail = _num(a, "failed", "errors")
        # every span in progress (no known outcome): no share (NaN); a node without spans (a peer): 0 as before
        rate.append(np.nan if unknown or (share is None and calls and nfail is not None) else (share or 0.0))
        r = share or 0.0
        ncolor.append(cmap.get(_service_of(U, n), "#999999"))
        nline.append(ERROR_COLOR if r > 0 else "#333333")
        info = [f"<b>{hover_text(n)}</b>"]
        if a.get("instrumented") is False:
            info.append("not instrumented (named by its callers' client spans)")
        if baseline is not None and n not in G:
            info.append("only in the baseline")
        for k, val in a.items():
            if isinstance(val, (int, float, np.integer, np.floating)) and not isinstance(val, bool):
                if not np.isfinite(val):  # no value: not "nan ms"
                    continue
                if a.get("instrumented") is False and not val:
                    continue  # a peer has no spans of its own: its zeros say nothing
                if k in ("errors", "failed"):
                    if k == "errors" and _num(a, "failed") is not None:
                        continue  # the kernel's count wins (the share above is of it): one failed line, not two
                    info.append(NO_STATUS_TEXT if unknown else _failed_words(a, val, ("calls", "spans", "requests"), _NODE_NOUNS))
                elif k == "unknown":
                    if val:
                        info.append(f"{UNKNOWN_TEXT}: {int(val):,}")
                elif unknown and k in _STATUS_COUNTS:  # nothing recorded a status: these counts are unknown, not 0
                    info.append(f"{esc(str(k))}: unknown")
                else:
                    info.append(f"{esc(str(k))}: {ms_label(val) if k.endswith('_ms') else _fmt_num(val)}")
        if not by_op:
            ops = _ops_of(operations, n, op_nodes)
            if not ops and a.get("instrumented") is False:  # a peer: the operations calling it
                callers = [(ou, oa) for (su, sv), lst in op_edges.items() if sv == str(n) for ou, _, oa in lst]
                ops = [f"· {esc(str(operations.nodes[ou].get('name', ou)))} (from {esc(str(operations.nodes[ou].get('service', '')))}, "
                       f"{plural(int(_num(oa, 'calls') or 0), 'call')})" for ou, oa in callers[:12]]
            if ops:
                info += ["operations:"] + ops
        ntext.append("<br>".join(info))
        # cut (short_text): a 10 KB service name ran its label across the whole map, over the other nodes' labels
        label = esc(short_text(str(a.get("name", n)) if by_op else str(n), _NODE_LABEL_CHARS))
        if by_op:
            label = f"{esc(short_text(str(a.get('service', '')), _NODE_LABEL_CHARS))}<br>{label}"
        annotations.append(dict(x=p[n][0], y=p[n][1], xref="x", yref="y", text=label, showarrow=False, yshift=22,
                                font=dict(size=12, color="#222222"), bgcolor="rgba(255,255,255,0.85)", borderpad=1,
                                name="node_label"))
    xs = [p[n][0] for n in nodes] or [0.0]
    ys = [p[n][1] for n in nodes] or [0.0]
    for path in paths:
        ys += [q[1] for q in path]
    per_layer = max([sum(1 for n in nodes if p[n][0] == x) for x in set(xs)] or [1])
    height = int(min(max(420, _SLOT_PX * max(per_layer, max(ys) - min(ys) + 1) + _PAD_PX), _MAX_HEIGHT))
    x_lo, x_hi, y_lo, y_hi = min(xs) - 0.45, max(xs) + 0.45, min(ys) - 0.6, max(ys) + 0.7
    # a big map (over _LABEL_EVERY_EDGE edges) labels the edges that say something (changed or failing), the most
    # telling first, and leaves out a label with no free room: 40 services, 115 edges wrote 115 labels, 111 boxes
    # over another label or a node; every edge keeps its numbers in its hover
    order = None
    if many:
        rank = {c: i for i, c in enumerate(_LABEL_PRIORITY)}
        order = sorted((i for i in range(len(paths)) if mclass[i] in rank and mlabel[i]),
                       key=lambda i: (rank[mclass[i]], -widths[i], i))
        if baseline is None:
            # no baseline: nothing is "changed", so after the failing edges the slowest (p95, then the busiest) say
            # where the time goes, up to _LABEL_EVERY_EDGE labels: a map of 40 edges, none failing, labelled none
            rest = sorted((i for i in range(len(paths)) if mclass[i] not in rank and mlabel[i]),
                          key=lambda i: (-mp95[i] if np.isfinite(mp95[i]) else np.inf, -widths[i], i))
            order = order + rest[:max(0, _LABEL_EVERY_EDGE - len(order))]
    chosen = set(order or ())
    mx, my, placed = _place_edge_labels(paths, [lab if (not many or i in chosen) else "" for i, lab in enumerate(mlabel)],
                                        [p[n] for n in nodes], px=(1000.0 / (x_hi - x_lo), (height - 100.0) / (y_hi - y_lo)),
                                        order=order, drop=many)
    shown = [bool(lab) and (not many or (i in chosen and placed[i])) for i, lab in enumerate(mlabel)]
    for i, path in enumerate(paths):  # an edge without its label keeps its hover marker on it, mid-way along it
        if many and not shown[i] and path[0] != path[1]:
            mx[i], my[i] = (path[0][0] + path[1][0]) / 2, (path[0][1] + path[1][1]) / 2
    if edge_labels and many:
        annotations.append(dict(
            x=0, y=-0.01, xref="paper", yref="paper", xanchor="left", yanchor="top", showarrow=False, name="label_note",
            font=dict(size=11, color="#555555"),
            text=(f"{sum(shown):,} of the {plural(len(paths), 'call edge')} drawn labelled: "
                  + ("the changed ones (p95 against the baseline, new, gone)" if baseline is not None
                     else f"those with failed calls, then the slowest by p95 (up to {_LABEL_EVERY_EDGE})")
                  + " with room for a label; hover an edge for its numbers")))
    if edge_labels:
        for i, (lx, ly, lab, cls) in enumerate(zip(mx, my, mlabel, mclass, strict=True)):
            if shown[i]:
                annotations.append(dict(x=lx, y=ly, xref="x", yref="y", text=lab, showarrow=False, name="edge_label",
                                        font=dict(size=10, color="#B2182B" if cls in ("slower ×2+", "failing ≥ 5%") else "#333333"),
                                        bgcolor="rgba(255,255,255,0.85)", borderpad=1))
    data = [go.Scatter(x=ex, y=ey, mode="lines", line=dict(color="rgba(0,0,0,0)", width=1), hoverinfo="skip", name="calls",
                       meta="edges", showlegend=False)]
    for (u, v), path, cls, w in zip(U.edges, paths, mclass, widths, strict=True):
        if u == v:
            continue
        data.append(go.Scatter(x=[q[0] for q in path], y=[q[1] for q in path], mode="lines",
                               line=dict(color=stroke(cls), width=w, shape="spline" if len(path) > 2 else "linear"),
                               hoverinfo="skip", showlegend=False, name=f"{esc(str(u))} → {esc(str(v))}",
                               meta={"edge": [str(u), str(v)], "class": cls}))
    data += [
        go.Scatter(x=mx, y=my, mode="markers", text=mlabel, customdata=mclass,
                   marker=dict(size=14, color="rgba(255,255,255,0.01)", line=dict(width=0)),
                   hovertext=mtext, hoverinfo="text", name="edge", meta="edge_info", showlegend=False),
        go.Scatter(
            x=[p[n][0] for n in nodes], y=[p[n][1] for n in nodes], mode="markers", text=[esc(str(n)) for n in nodes],
            customdata=rate,
            marker=dict(size=24, color=ncolor, line=dict(color=nline, width=[1 + 4 * min(1.0, 10 * r) if r == r else 1
                                                                             for r in rate])),
            hovertext=ntext, hoverinfo="text", name="services", meta="nodes", showlegend=False,
        ),
    ]
    for cls in classes_seen:
        data.append(go.Scatter(x=[None], y=[None], mode="lines", line=dict(color=stroke(cls), width=3),
                               name={"ok": "calls, failures unknown (no span records a status)" if unknown
                                     else "calls, none failed", "failing": "calls, some failed",
                                     "failing ≥ 5%": "calls, ≥ 5% failed", "slower ×2+": "p95 ≥ 2× baseline",
                                     "slower": "p95 ≥ 1.2× baseline", "unchanged": "p95 within 1.2× of baseline",
                                     "faster": "p95 ≤ baseline / 1.2", "new": "new call (not in baseline)",
                                     "gone": "call only in baseline",
                                     "unknown": "calls all in progress (outcome and latency unknown)"}[cls],
                               meta="legend", hoverinfo="skip", showlegend=True))
    what = "operation" if by_op else "service"
    n_peer = sum(1 for _, a in G.nodes(data=True) if a.get("instrumented") is False)
    # plural: "service map: 1 services, 1 call edges"
    default = (f"service map: {plural(G.number_of_nodes() - n_peer, what)}"
               + (f" + {plural(n_peer, 'uninstrumented peer')}" if n_peer else "")
               + f", {plural(G.number_of_edges(), 'call edge')}"
               + (" — p95 against the baseline" if baseline is not None else ""))
    # the population and window every count and share of the map is of (service_graph's graph_scope), the baseline's too
    scope = _scope_text(G)
    if scope and baseline is not None:
        b_scope = _scope_text(baseline)
        scope += f"; baseline: {b_scope}" if b_scope else ""
    fig = go.Figure(data)
    fig.update_layout(
        title=(esc(title).replace("\n", "<br>") if title  # (a newline in a title breaks its line)
               else esc(default) + (f"<br><sup>{esc(scope)}</sup>" if scope else "")),
        annotations=annotations,
        xaxis=dict(visible=False, range=[x_lo, x_hi]),
        yaxis=dict(visible=False, range=[y_hi, y_lo], autorange=False),
        hovermode="closest",
        plot_bgcolor="white",
        height=height,
        legend=dict(orientation="h", yanchor="top", y=-0.02, xanchor="left", x=0),
        margin=dict(l=20, r=20, t=60, b=40),
    )
    if not G.number_of_nodes():  # a blank white box said nothing
        say_empty(fig, f"no {what} to draw: the graph has none (no spans, or none with a {what})")
    return fig
