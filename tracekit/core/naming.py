"""Names derived from spans, one derivation each: callee, route, operation, call path, async hand-off.

- **callee** (:func:`callee`, :func:`callees`): what a client or producer span calls, first of
  ``peer.service``; ``rpc.service``; ``server.address`` / ``net.peer.name`` / ``http.host``; the
  host of ``url.full`` / ``http.url`` / ``http.request.url`` / ``sql.url``; ``db.name`` /
  ``db.system``; ``messaging.destination.name``; for an X-Ray subsegment of namespace ``aws`` or
  ``remote``, its name (X-Ray names them after the service or host). ``None`` when nothing names one.
  The service map, health's uninstrumented hops and comparisons all use it.
- **route** (:func:`routes`): ``http.route``, else ``url.template``, else the path of the request
  (``url.path``, ``http.target``, or the URL) with ids masked (``/orders/{id}``), else the span name.
- **operation**: ``service:name``; **call path**: the operations from the root down joined by
  ``" > "`` (:func:`call_paths`).
- **async hand-off** (:func:`is_async_handoff`): a producer span, a messaging span, or an AWS SDK call
  that hands work to a queue or stream (SQS SendMessage, SNS Publish, …): what runs under it may start
  and end after it.

>>> callee({"http.url": "https://inventory.internal:8443/items"}, "GET")
'inventory.internal'
>>> callee({"db.system": "postgresql", "peer.service": "orders-db"}, "SELECT orders")
'orders-db'
>>> callee({"namespace": "aws"}, "DynamoDB")
'DynamoDB'
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from .tree import SpanTree, unique_sorted

__all__ = [
    "callee", "callees", "routes", "operations", "call_paths", "is_async_handoff",
    "CALLEE_KEYS", "ASYNC_OPERATIONS", "get_attribute",
]

#: attribute keys naming a callee directly, most specific first
CALLEE_KEYS = ("peer.service", "rpc.service", "server.address", "net.peer.name", "http.host")
_URL_KEYS = ("url.full", "http.url", "http.request.url", "sql.url")
_LATE_KEYS = ("db.name", "db.namespace", "db.system", "db.system.name", "messaging.destination.name")

#: X-Ray / AWS SDK operations that hand work to a queue or stream: the callee runs later
ASYNC_OPERATIONS = frozenset({
    "SendMessage", "SendMessageBatch", "Publish", "PublishBatch", "PutRecord", "PutRecords", "PutEvents",
    "StartExecution", "InvokeAsync",
})


def get_attribute(attributes: dict | None, key: str):
    """Value of a flat dotted key, or of the same path through nested dicts; None if absent.

    Examples
    --------
    >>> get_attribute({"http": {"request": {"url": "x"}}}, "http.request.url")
    'x'
    """
    if not isinstance(attributes, dict):
        return None
    v = attributes.get(key)
    if v is not None or key in attributes:
        return v
    parts = key.split(".")
    cur = attributes
    i = 0
    while i < len(parts):  # iterative: nesting depth is bounded by the key, not by the input
        if not isinstance(cur, dict):
            return None
        rest = ".".join(parts[i:])
        if rest in cur:
            return cur[rest]
        if parts[i] not in cur:
            return None
        cur = cur[parts[i]]
        i += 1
    return cur


def _host(url: str) -> str | None:
    u = url[5:] if url.startswith("jdbc:") else url
    try:
        return urlsplit(u if "//" in u else "//" + u).hostname
    except ValueError:
        return None


def callee(attributes: dict | None, name: str | None = None) -> str | None:
    """What a client/producer span calls (see the module docstring for the order of keys).

    Parameters
    ----------
    attributes : dict or None
        The span's ``attributes``.
    name : str, optional
        The span's name (used for X-Ray ``aws``/``remote`` subsegments).

    Returns
    -------
    str or None

    Examples
    --------
    >>> callee({"server.address": "orders-db", "db.system": "postgresql"}, "SELECT orders")
    'orders-db'
    >>> callee({}, "SELECT orders") is None
    True
    """
    if not isinstance(attributes, dict) or not attributes:
        return None
    for k in CALLEE_KEYS:
        v = get_attribute(attributes, k)
        if v is not None and v != "":
            return str(v)
    for k in _URL_KEYS:
        v = get_attribute(attributes, k)
        if isinstance(v, str) and v:
            h = _host(v)
            if h:
                return h
    for k in _LATE_KEYS:
        v = get_attribute(attributes, k)
        if v is not None and v != "":
            return str(v)
    if attributes.get("namespace") in ("aws", "remote") and name:
        return str(name)
    return None


def callees(spans: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
    """:func:`callee` of each client or producer span in ``rows`` (all rows by default), as an object array.

    Other kinds (server, consumer, internal) call nothing: their entry is ``None`` (a server span's
    ``url.full`` names itself, not a callee). Without a ``kind`` column every span is resolved.

    Examples
    --------
    >>> import tracekit as tk
    >>> callees(tk.empty_spans()).tolist()
    []
    """
    idx = np.arange(len(spans)) if rows is None else np.asarray(rows, dtype=np.int64)
    out = np.full(len(idx), None, dtype=object)
    if not len(idx) or "attributes" not in spans.columns:
        return out
    attrs = spans["attributes"].to_numpy(dtype=object)[idx]
    names = spans["name"].to_numpy(dtype=object, na_value=None)[idx]
    calls = (np.isin(spans["kind"].to_numpy(dtype=object, na_value="")[idx], ("client", "producer"))
             if "kind" in spans.columns else np.ones(len(idx), dtype=bool))
    for i, (a, nm, c) in enumerate(zip(attrs, names, calls, strict=True)):
        if c and isinstance(a, dict) and a:
            out[i] = callee(a, nm)
    return out


_ID_SEGMENT = re.compile(
    r"(?<=/)(?:\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{16,}"
    r"|[A-Za-z0-9_-]*\d[A-Za-z0-9_-]*\d[A-Za-z0-9_-]*)(?=/|$)"
)


def _path_route(v: str) -> str | None:
    if not v:
        return None
    path = v
    if "//" in v:
        try:
            path = urlsplit(v).path
        except ValueError:
            return None
    path = path.split("?", 1)[0].split("#", 1)[0]
    return _ID_SEGMENT.sub("{id}", path) or None


def routes(spans: pd.DataFrame) -> pd.Series:
    """Route of each span (see the module docstring), as a string Series aligned with ``spans``.

    Examples
    --------
    >>> import tracekit as tk
    >>> s = tk.spans_from_columns({"trace_id": ["1" * 32] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
    ...     "service": ["web"] * 3, "name": ["GET", "GET", "work"], "start": [0] * 3, "end": [1] * 3,
    ...     "attributes": [{"http.route": "/orders/:id"}, {"url.full": "http://x/orders/123?a=1"}, {}]})
    >>> routes(s).tolist()
    ['/orders/:id', '/orders/{id}', 'work']
    """
    attrs = spans["attributes"].to_numpy(dtype=object) if "attributes" in spans.columns else [None] * len(spans)
    names = spans["name"].to_numpy(dtype=object, na_value=None)
    out = np.empty(len(spans), dtype=object)
    for i, a in enumerate(attrs):
        r = None
        if isinstance(a, dict) and a:
            r = a.get("http.route") or a.get("url.template")
            if not r:
                for k in ("url.path", "http.target", "url.full", "http.url", "http.request.url"):
                    v = get_attribute(a, k)
                    if isinstance(v, str) and v:
                        r = _path_route(v)
                        if r:
                            break
        out[i] = str(r) if r else names[i]
    return pd.Series(out, index=spans.index, dtype=spans["name"].dtype if "name" in spans.columns else object)


def operations(spans: pd.DataFrame) -> np.ndarray:
    """``service:name`` of every span (object array; a missing part becomes ``?``).

    Examples
    --------
    >>> import tracekit as tk
    >>> operations(tk.empty_spans()).tolist()
    []
    """
    svc = spans["service"].to_numpy(dtype=object, na_value="?")
    nm = spans["name"].to_numpy(dtype=object, na_value="?")
    sc, su = pd.factorize(svc)
    nc, nu = pd.factorize(nm)
    pair, pu = pd.factorize(sc.astype(np.int64) * max(len(nu), 1) + nc)
    labels = np.asarray([f"{su[p // max(len(nu), 1)]}:{nu[p % max(len(nu), 1)]}" for p in pu.tolist()], dtype=object)
    return labels[pair] if len(pair) else np.zeros(0, dtype=object)


def call_paths(spans: pd.DataFrame, tree: SpanTree, rows: np.ndarray) -> np.ndarray:
    """``service:name > service:name > …`` from the span's root (or fragment head) down, for ``rows``.

    Spans on a parent cycle get ``None``.

    Examples
    --------
    >>> import numpy as np, tracekit as tk
    >>> from tracekit.core import span_tree
    >>> s = tk.spans_from_columns({"trace_id": ["1" * 32] * 2, "span_id": ["a" * 16, "b" * 16],
    ...     "parent_id": [None, "a" * 16], "service": ["web", "db"], "name": ["GET /", "q"],
    ...     "start": [0, 1], "end": [5, 4]})
    >>> call_paths(s, span_tree(s), np.array([1])).tolist()
    ['web:GET / > db:q']
    """
    rows = np.asarray(rows, dtype=np.int64)
    n = len(spans)
    op_labels, op_code = np.unique(operations(spans), return_inverse=True) if n else (np.zeros(0, object), np.zeros(0, np.int64))
    n_ops = len(op_labels)
    need = np.zeros(n, dtype=bool)
    need[rows] = True
    cur = rows
    while len(cur):  # mark ancestors of the needed rows
        p = tree.parent[cur]
        p = p[p >= 0]
        p = p[~need[p]]
        need[p] = True
        cur = unique_sorted(p)
    path = np.full(n, -1, dtype=np.int64)
    strings: list[str] = []
    index: dict[tuple[int, int], int] = {}
    depth = tree.depth
    maxd = int(depth[need].max()) if need.any() else -1
    for d in range(maxd + 1):
        lvl = np.flatnonzero(need & (depth == d))
        if not len(lvl):
            continue
        par = tree.parent[lvl]
        ppath = np.where(par >= 0, path[np.maximum(par, 0)], -1)
        pair = ppath * (n_ops + 1) + op_code[lvl]
        uniq, inv = unique_sorted(pair, return_inverse=True)
        codes = np.empty(len(uniq), dtype=np.int64)
        for i, u in enumerate(uniq.tolist()):
            pp, op = divmod(u, n_ops + 1)  # pp == -1 for a root (floor division)
            c = index.get((pp, op))
            if c is None:
                c = len(strings)
                strings.append(op_labels[op] if pp < 0 else strings[pp] + " > " + op_labels[op])
                index[(pp, op)] = c
            codes[i] = c
        path[lvl] = codes[inv]
    out = np.asarray(strings + [None], dtype=object)
    return out[path[rows]]


def is_async_handoff(spans: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
    """Per span in ``rows``: a hand-off to a queue or stream, whose callee may run later.

    True for producer spans, spans with ``messaging.system`` that are not consumers, and AWS SDK
    calls in :data:`ASYNC_OPERATIONS` (X-Ray SQS ``SendMessage``, SNS ``Publish``, …).

    Examples
    --------
    >>> import tracekit as tk
    >>> s = tk.spans_from_columns({"trace_id": ["1" * 32] * 2, "span_id": ["a" * 16, "b" * 16],
    ...     "service": ["web"] * 2, "name": ["SQS", "GET"], "kind": ["client"] * 2, "start": [0] * 2,
    ...     "end": [1] * 2, "attributes": [{"aws.operation": "SendMessage"}, {}]})
    >>> is_async_handoff(s).tolist()
    [True, False]
    """
    idx = np.arange(len(spans)) if rows is None else np.asarray(rows, dtype=np.int64)
    kind = spans["kind"].to_numpy(dtype=object, na_value="")[idx] if "kind" in spans.columns else np.full(len(idx), "", object)
    out = kind == "producer"
    if "attributes" in spans.columns and len(idx):
        attrs = spans["attributes"].to_numpy(dtype=object)[idx]
        out |= np.fromiter(
            (isinstance(a, dict) and (a.get("aws.operation") in ASYNC_OPERATIONS
                                      or ("messaging.system" in a and k != "consumer"))
             for a, k in zip(attrs, kind, strict=True)),
            dtype=bool, count=len(idx),
        )
    return out
