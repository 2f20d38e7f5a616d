"""Names derived from spans, one derivation each: callee, route, operation, call path, async hand-off.

- **callee** (:func:`callee`, :func:`callees`): what a client or producer span calls, first of
  ``peer.service``; ``rpc.service``; ``server.address`` / ``net.peer.name`` / ``http.host``; the
  host of ``url.full`` / ``http.url`` / ``http.request.url`` / ``sql.url``; ``db.name`` /
  ``db.system``; ``messaging.destination.name``; for an X-Ray subsegment of namespace ``aws`` or
  ``remote``, its name (X-Ray names them after the service or host). ``None`` when nothing names one.
  The service map, health's uninstrumented hops and comparisons all use it.
- **route** (:func:`routes`): ``http.route``, else ``url.template``, else the path of the request
  (``url.path``, ``http.target``, or the URL) with ids masked (``/orders/{id}``), else the span name;
  a trace's route is its request root's (:func:`request_routes`).
- **call context** (:func:`call_contexts`): the operation of a span's nearest ancestor in another
  service (its caller), else its request's route.
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
import weakref
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from ..schema import STRING, UNNAMED, SharedTuple, known_name_column, known_service_column
from .attributes import attribute_values, get_attribute
from .cache import frame_cached
from .nested import safe_str
from .tree import SpanTree, span_tree, unique_sorted


def named(names: Any) -> Any:
    """``names`` (a pyarrow string array) with empty names replaced by :data:`UNNAMED`.

    >>> import pyarrow as pa
    >>> named(pa.array(["GET /", ""], pa.large_string())).to_pylist()
    ['GET /', '(unnamed)']
    """
    import pyarrow.compute as pc

    if not len(names) or not pc.any(pc.equal(names, "")).as_py():
        return names
    return pc.if_else(pc.equal(names, ""), UNNAMED, names)


__all__ = [
    "UNNAMED", "named",
    "callee", "callees", "routes", "operations", "operation_codes", "operation_parts", "joint_operation_codes", "call_paths", "is_async_handoff",
    "CALLEE_KEYS", "ASYNC_OPERATIONS", "get_attribute", "MAX_PATH_OPS", "PathIndex", "PathInterner", "path_parent",
    "path_length", "frame_services",
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


def _host(url: str) -> str | None:
    """The host a URL names. A text without ``//`` is read as ``host[:port][/path]`` (``frontend:8080/checkout``):
    one whose ``:`` starts no port number names a scheme, not a host (``about:blank``, ``javascript:void(0)``,
    ``data:image/png;…`` were callees "about", "javascript", "data"), and one with a user (``mailto:ann@example.com``
    made the mail domain a callee) names none."""
    u = url[5:] if url.startswith("jdbc:") else url
    bare = "//" not in u
    try:
        parts = urlsplit("//" + u if bare else u)
        if bare:
            _ = parts.port  # a ValueError when the ":" starts no port number: a scheme (about:blank)
            if parts.username is not None:
                return None
        return parts.hostname
    except ValueError:  # a port that is no number
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
            return safe_str(v)
    for k in _URL_KEYS:
        v = get_attribute(attributes, k)
        if isinstance(v, str) and v:
            h = _host(v)
            if h:
                return h
    for k in _LATE_KEYS:
        v = get_attribute(attributes, k)
        if v is not None and v != "":
            return safe_str(v)
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
    names = spans["name"].to_numpy(dtype=object, na_value=None)[idx]
    calls = (np.isin(spans["kind"].to_numpy(dtype=object, na_value="")[idx], ("client", "producer"))
             if "kind" in spans.columns else np.ones(len(idx), dtype=bool))
    if _is_lazy(spans):  # a store's column: the callee keys read column-wise, no dict built
        return _lazy_callees(spans, idx, names, calls, out)
    attrs = spans["attributes"].to_numpy(dtype=object)[idx]
    for i, (a, nm, c) in enumerate(zip(attrs, names, calls, strict=True)):
        if c and isinstance(a, dict) and a:
            out[i] = callee(a, nm)
    return out


_PATH_SEGMENT = re.compile(r"(?<=/)[^/]++")
_ID_WORD = re.compile(r"\d++|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{16,}+")
_ID_MIXED = re.compile(r"[A-Za-z0-9_-]++")
_ASCII_DIGIT = re.compile(r"[0-9]")


def _id_segment(m: re.Match) -> str:
    """``{id}`` for a path segment that is an id: digits, a UUID, 16+ hex digits, or a word of letters,
    digits, ``_`` and ``-`` with at least two digits; the segment otherwise. Each segment is taken whole
    and tested once (linear), where one regex with three nested stars was cubic in a segment's length."""
    seg = m.group(0)
    if _ID_WORD.fullmatch(seg) or (_ID_MIXED.fullmatch(seg) and len(_ASCII_DIGIT.findall(seg)) >= 2):
        return "{id}"
    return seg


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
    return _PATH_SEGMENT.sub(_id_segment, path) or None


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
    if _is_lazy(spans):
        return _lazy_routes(spans)
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
    return pd.Series(out, index=spans.index, dtype=_route_dtype(spans))


def _route_dtype(spans: pd.DataFrame) -> Any:
    """The dtype of :func:`routes`: the ``name`` column's, but text for a categorical one (a route from
    ``http.route`` is no category of the names: cast to them, every such route read ``<NA>``, and a request kind
    ``api-gateway:/products`` read ``api-gateway:<NA>``)."""
    if "name" not in spans.columns:
        return object
    dtype = spans["name"].dtype
    return STRING if isinstance(dtype, pd.CategoricalDtype) else dtype


def request_routes(spans: pd.DataFrame, tree: SpanTree | None = None) -> np.ndarray:
    """Route of each trace's request: :func:`routes` of its request root (``None`` for a trace without one), an
    object array aligned with ``span_tree(spans).trace_ids``.

    Examples
    --------
    >>> import tracekit as tk
    >>> s = tk.spans_from_columns({"trace_id": ["1" * 32, "1" * 32, "2" * 32], "span_id": ["a" * 16, "b" * 16, "c" * 16],
    ...     "parent_id": [None, "a" * 16, None], "service": ["web", "api", "web"], "name": ["GET", "get", "POST"],
    ...     "start": [0] * 3, "end": [1] * 3, "attributes": [{"http.route": "/cart"}, {}, {}]})
    >>> request_routes(s).tolist()
    ['/cart', 'POST']
    """
    tree = span_tree(spans) if tree is None else tree
    rr = tree.request_root
    out = np.full(len(rr), None, dtype=object)
    if len(rr) and (rr >= 0).any():
        out[rr >= 0] = routes(spans.iloc[rr[rr >= 0]]).to_numpy(dtype=object)
    return out


def call_contexts(spans: pd.DataFrame, tree: SpanTree | None = None) -> np.ndarray:
    """The context each span's service was called in: the operation of its nearest ancestor in another service
    (its caller, ``"operation service:name"``), else the route of its request (``"route /cart"``,
    :func:`request_routes`: the request entered at this service). What a service does for a request depends on
    what it was asked, so a share compared within contexts does not move when only the mix of requests does,
    while a change of the code path inside the service still shows (log evidence compares within them).

    Examples
    --------
    >>> import tracekit as tk
    >>> s = tk.spans_from_columns({"trace_id": ["1" * 32] * 3 + ["2" * 32],
    ...     "span_id": ["a" * 16, "b" * 16, "c" * 16, "d" * 16], "parent_id": [None, "a" * 16, "b" * 16, None],
    ...     "service": ["web", "api", "api", "web"], "name": ["GET", "get", "query", "POST"],
    ...     "start": [0] * 4, "end": [1] * 4, "attributes": [{"http.route": "/cart"}, {}, {}, {}]})
    >>> call_contexts(s).tolist()
    ['route /cart', 'operation web:GET', 'operation web:GET', 'route POST']
    """
    tree = span_tree(spans) if tree is None else tree
    n = len(spans)
    out = np.empty(n, dtype=object)
    if not n:
        return out
    svc, _ = _text_codes(known_service_column(spans["service"]))
    par = tree.parent
    # climb while the ancestor is in the span's own service (linear in spans × in-service depth); a span on or
    # under a parent cycle (depth -1) has no caller
    anc = np.where(tree.depth >= 0, par, -1)
    same = (anc >= 0) & (svc[np.maximum(anc, 0)] == svc)
    while same.any():
        anc[same] = par[anc[same]]
        same = (anc >= 0) & (svc[np.maximum(anc, 0)] == svc)
    hp = anc >= 0
    if (~hp).any():  # labels made once per distinct route and operation
        code, uniq = pd.factorize(pd.Series(request_routes(spans, tree), dtype=object).fillna("(none)"))
        out[~hp] = np.asarray(["route " + str(r) for r in uniq], dtype=object)[code[tree.trace[~hp]]]
    if hp.any():
        code, uniq = pd.factorize(operations(spans)[anc[hp]])
        out[hp] = np.asarray(["operation " + str(o) for o in uniq], dtype=object)[code]
    return out


def _is_lazy(spans: pd.DataFrame) -> bool:
    """Whether ``attributes`` is a store's lazy column (tracekit.io.containers.LazyColumn) not yet built."""
    if "attributes" not in spans.columns:
        return False
    arr = spans["attributes"].array
    return callable(getattr(arr, "key_values", None)) and getattr(arr, "is_lazy", False)


_ROUTE_PATH_KEYS = ("url.path", "http.target", "url.full", "http.url", "http.request.url")


def _lazy_routes(spans: pd.DataFrame) -> pd.Series:
    """:func:`routes` from the stored key columns: the same rule, one key at a time."""
    arr = spans["attributes"].array
    first = [arr.key_values(k)[0] for k in ("http.route", "url.template")]  # flat keys, as a.get()
    paths = [attribute_values(spans, k) for k in _ROUTE_PATH_KEYS]  # dotted: as get_attribute
    names = spans["name"].to_numpy(dtype=object, na_value=None)
    out = np.empty(len(spans), dtype=object)
    for i in range(len(spans)):
        r = first[0][i] or first[1][i]
        if not r:
            for col in paths:
                v = col[i]
                if isinstance(v, str) and v:
                    r = _path_route(v)
                    if r:
                        break
        out[i] = str(r) if r else names[i]
    return pd.Series(out, index=spans.index, dtype=_route_dtype(spans))


def _lazy_callees(spans: pd.DataFrame, idx: np.ndarray, names: np.ndarray, calls: np.ndarray,
                  out: np.ndarray) -> np.ndarray:
    """:func:`callees` from the stored key columns of the calling spans: :func:`callee`'s rule, key by key."""
    pos = np.flatnonzero(calls)
    if not len(pos):
        return out
    sub = spans.iloc[idx[pos]]
    col = {k: attribute_values(sub, k) for k in (*CALLEE_KEYS, *_URL_KEYS, *_LATE_KEYS, "namespace")}
    for j, p in enumerate(pos.tolist()):
        r = None
        for k in CALLEE_KEYS:
            v = col[k][j]
            if v is not None and v != "":
                r = safe_str(v)
                break
        if r is None:
            for k in _URL_KEYS:
                v = col[k][j]
                if isinstance(v, str) and v:
                    h = _host(v)
                    if h:
                        r = h
                        break
        if r is None:
            for k in _LATE_KEYS:
                v = col[k][j]
                if v is not None and v != "":
                    r = safe_str(v)
                    break
        if r is None and col["namespace"][j] in ("aws", "remote") and names[p]:
            r = str(names[p])
        out[p] = r
    return out


def _text_codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes and distinct values of a text column, a missing value as ``?`` (one code with a ``?`` written
    out). Factorized on its own array (Arrow's dictionary encoding for Arrow strings): no object copy of
    every cell."""
    codes, uniq = pd.factorize(column, use_na_sentinel=True)
    uniq = np.asarray(uniq, dtype=object)
    if (codes < 0).any():
        at = np.flatnonzero(uniq == "?")
        if len(at):
            codes = np.where(codes < 0, at[0], codes)
        else:
            codes = np.where(codes < 0, len(uniq), codes)
            uniq = np.r_[uniq, np.asarray(["?"], dtype=object)]
    return codes.astype(np.int64, copy=False), uniq


def operation_codes(spans: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Every span's code into the sorted distinct ``service:name`` labels, and those labels: what
    ``np.unique(operations(spans), return_inverse=True)`` gives, without sorting a Python string per span.

    Examples
    --------
    >>> import tracekit as tk
    >>> s = tk.spans_from_columns({"trace_id": ["1" * 32] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
    ...     "service": ["web", "db", "web"], "name": ["GET /", "q", "GET /"], "start": [0] * 3, "end": [1] * 3})
    >>> code, labels = operation_codes(s)
    >>> labels.tolist(), code.tolist()
    (['db:q', 'web:GET /'], [1, 0, 1])
    """
    code, labels, _, _ = operation_parts(spans)
    return code, labels


def operation_parts(spans: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`operation_codes`' codes and labels, and each label's service and name (object arrays: the
    :func:`tracekit.schema.known_service_column` and :func:`tracekit.schema.known_name_column` texts, so
    ``services[codes]`` is every span's known service). Computed once per frame (:mod:`tracekit.core.cache`: a ranking
    asks for a frame's operations from its course changes, its early stops and its critical path's call paths);
    each call returns copies.

    Examples
    --------
    >>> import tracekit as tk
    >>> s = tk.spans_from_columns({"trace_id": ["1" * 32] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
    ...     "service": ["web", None, "web"], "name": ["GET /", "q", "GET /"], "start": [0] * 3, "end": [1] * 3})
    >>> code, labels, services, names = operation_parts(s)
    >>> labels.tolist(), services[code].tolist(), names.tolist()
    (['unknown_service:q', 'web:GET /'], ['web', 'unknown_service', 'web'], ['q', 'GET /'])
    """
    if not len(spans):
        return (np.zeros(0, dtype=np.int64),) + tuple(np.zeros(0, dtype=object) for _ in range(3))
    parts = frame_cached(spans, "operation_codes", None, ("service", "name"), lambda: _operation_codes(spans))
    return tuple(a.copy() for a in parts)


def joint_operation_codes(spans: pd.DataFrame, baseline: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Every span of ``spans`` then of ``baseline`` coded into their distinct operation texts, numbered in the order
    of the texts' codes in :func:`operation_parts` (sorted texts of each frame, the spans' first then the baseline's
    new ones), so that no code depends on the frames' row order (numbered as the texts first appeared in the rows, a
    shuffle of the rows changed which of two calls starting at one instant :func:`tracekit.analysis.early_stops`
    and :func:`tracekit.analysis.course_changes` took first: 15 course changes or 16 on the same spans), from each
    frame's cached :func:`operation_parts` (no text built or hashed per span).

    Examples
    --------
    >>> import tracekit as tk
    >>> s = tk.spans_from_columns({"trace_id": ["1" * 32] * 2, "span_id": ["a" * 16, "b" * 16],
    ...     "service": ["web", "db"], "name": ["GET /", "q"], "start": [0] * 2, "end": [1] * 2})
    >>> code, labels = joint_operation_codes(s, s.iloc[::-1])
    >>> code.tolist(), labels.tolist()
    ([1, 0, 0, 1], ['db:q', 'web:GET /'])
    """
    (ca, la, _, _), (cb, lb, _, _) = operation_parts(spans), operation_parts(baseline)
    same, texts = pd.factorize(np.r_[la, lb])
    code, first = pd.factorize(np.r_[same[:len(la)][ca], same[len(la):][cb]], sort=True)
    return code, np.asarray(texts, dtype=object)[first]


def _operation_codes(spans: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    sc, su = _text_codes(known_service_column(spans["service"]))
    nc, nu = _text_codes(known_name_column(spans["name"]))
    k = max(len(nu), 1)
    pair, pu = pd.factorize(sc * k + nc)
    pu = np.asarray(pu, dtype=np.int64)
    labels = np.asarray([f"{su[p // k]}:{nu[p % k]}" for p in pu.tolist()], dtype=object)
    order = np.argsort(labels, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[pair], labels[order], su[pu // k][order], nu[pu % k][order]


def operations(spans: pd.DataFrame) -> np.ndarray:
    """``service:name`` of every span (object array; a missing or blank service is ``unknown_service``, a missing or
    empty name ``(unnamed)``: :func:`tracekit.schema.known_service_column`, :func:`tracekit.schema.known_name_column`).

    Examples
    --------
    >>> import tracekit as tk
    >>> operations(tk.empty_spans()).tolist()
    []
    """
    code, labels = operation_codes(spans)
    return labels[code]


#: call paths of up to this many operations are rendered in full; a deeper one is elided in the middle
MAX_PATH_OPS = 32
_HEAD = 8  # operations kept at the top of an elided path
_TAIL = 8  # operations kept at the bottom
_ELIDED = re.compile(r" > … ([0-9,]+) more operations \(path ([0-9a-f]{16})\) … > ")


class PathIndex:
    """Parent of every call path its text cannot give: an elided path (deeper than :data:`MAX_PATH_OPS`
    operations) and a path whose last operation's text holds the separator (``' > '`` in a name, ``'WHERE a > 1'``)
    or a ``':'`` in its service (``'web:8080'``), with that operation's service and name.

    Immutable; ``copy.deepcopy`` returns the same object, so a frame's ``attrs`` can carry it at
    no cost. ``get(path)`` gives the rendered parent path (``None`` for a root operation or a path it does not
    hold), ``entry(path)`` the parent and the operation of a path it holds.
    """

    __slots__ = ("_parents", "_ops")

    def __init__(self, parents: dict[str, str | None], ops: dict[str, tuple[str, str]] | None = None) -> None:
        self._parents = dict(parents)
        self._ops = dict(ops or {})

    def __deepcopy__(self, memo: dict) -> PathIndex:
        return self

    def __len__(self) -> int:
        return len(self._parents)

    def __repr__(self) -> str:
        return f"PathIndex({len(self._parents)} paths)"

    def get(self, path: str) -> str | None:
        """Rendered parent of a held ``path``, or ``None`` when the index does not hold it (or it is a root)."""
        return self._parents.get(path)

    def entry(self, path: str) -> tuple[str | None, tuple[str, str] | None] | None:
        """``(parent, (service, name))`` of a held ``path`` (parent ``None`` for a root; the operation ``None``
        for an elided path whose last operation's text is plain), else ``None``.

        >>> idx = PathIndex({"web:GET /a > b": None}, {"web:GET /a > b": ("web", "GET /a > b")})
        >>> idx.entry("web:GET /a > b"), idx.entry("web:GET /")
        ((None, ('web', 'GET /a > b')), None)
        """
        if path not in self._parents:
            return None
        return self._parents[path], self._ops.get(path)


def path_length(path: str, sep: str = " > ") -> int:
    """Number of operations in a rendered call path (elided ones included).

    Examples
    --------
    >>> path_length("web:GET / > db:q")
    2
    """
    m = _ELIDED.search(path) if sep == " > " else None
    if m is None:
        return path.count(sep) + 1
    return path.count(sep) + int(m.group(1).replace(",", ""))


def path_parent(path: str, index: PathIndex | None = None, sep: str = " > ") -> str | None:
    """The call path one operation up (``None`` for a root operation).

    An elided path's parent comes from ``index`` (:func:`call_paths` with ``index=True``);
    :class:`~tracekit.errors.ArgumentError` when it is not there.

    Examples
    --------
    >>> path_parent("web:GET / > db:q")
    'web:GET /'
    >>> path_parent("web:GET /") is None
    True
    """
    if sep == " > " and _ELIDED.search(path) is not None:
        p = index.get(path) if index is not None else None
        if p is None:
            from ..errors import ArgumentError

            raise ArgumentError(
                f"call path deeper than {MAX_PATH_OPS} operations ({path[:80]}…) is elided and its parent is unknown: "
                "keep the critical path's attrs['call_path_index'] or pass spans=")
        return p
    i = path.rfind(sep)
    return None if i < 0 else path[:i]


class PathInterner:
    """Paths as (parent path code, label code) pairs: memory linear in paths whatever their depth.

    ``add(parent_codes, labels)`` interns one level (``parent_codes`` -1 for a root) and returns the
    codes; ``render(codes)`` gives each path's text, in full up to :data:`MAX_PATH_OPS` labels and
    elided in the middle beyond (first and last 8 labels, the count left out and a 64-bit digest of
    the whole path, so distinct paths stay distinct). Rendering is O(1) amortised per path.
    """

    def __init__(self, labels: np.ndarray, sep: str = " > ") -> None:
        self.labels = [str(x) for x in labels]
        self.sep = sep
        self.n_labels = len(labels)
        self.parent: list[int] = []
        self.label: list[int] = []
        self.length: list[int] = []
        self.head: list[int] = []  # ancestor of length _HEAD (itself when shorter)
        self._full_digest: dict[int, bytes] = {}
        self._tail: dict[int, tuple[str, ...]] = {}
        self._index: dict[tuple[int, int], int] = {}
        self._text: dict[int, str] = {}

    def add(self, parent_codes: np.ndarray, label_codes: np.ndarray) -> np.ndarray:
        if len(parent_codes) <= 64:  # small level (a deep chain): no numpy overhead per level
            return np.asarray([self._add1(pp, op) for pp, op in zip(np.asarray(parent_codes).tolist(),
                                                                     np.asarray(label_codes).tolist(), strict=True)],
                              dtype=np.int64)
        pair = np.asarray(parent_codes, dtype=np.int64) * (self.n_labels + 1) + np.asarray(label_codes, dtype=np.int64)
        uniq, inv = unique_sorted(pair, return_inverse=True)
        codes = np.empty(len(uniq), dtype=np.int64)
        for i, u in enumerate(uniq.tolist()):
            codes[i] = self._add1(*divmod(u, self.n_labels + 1))  # parent -1 for a root (floor division)
        return codes[inv]

    def _add1(self, pp: int, op: int) -> int:
        index, par, lab, ln, hd = self._index, self.parent, self.label, self.length, self.head
        c = index.get((pp, op))
        if c is None:
            c = len(par)
            index[(pp, op)] = c
            par.append(pp)
            lab.append(op)
            n = 1 if pp < 0 else ln[pp] + 1
            ln.append(n)
            hd.append(c if n <= _HEAD else hd[pp])
        return c

    def _digest(self, c: int) -> bytes:
        # digest of the whole path: computed lazily up the chain of ancestors that lack one
        import hashlib

        dg = self._full_digest
        stack = []
        while c >= 0 and c not in dg:
            stack.append(c)
            c = self.parent[c]
        h = dg.get(c, b"")
        for x in reversed(stack):
            h = hashlib.blake2b(h + str(self.labels[self.label[x]]).encode("utf-8", "surrogatepass"), digest_size=8).digest()
            dg[x] = h
        return h

    def _tail_of(self, c: int) -> tuple[str, ...]:
        # last _TAIL labels of the path, cached per code and derived from the parent's
        tl = self._tail
        stack = []
        while c >= 0 and c not in tl:
            stack.append(c)
            c = self.parent[c]
        t = tl.get(c, ())
        for x in reversed(stack):
            t = (t[1:] if len(t) >= _TAIL else t) + (self.labels[self.label[x]],)
            tl[x] = t
        return t

    def text(self, c: int) -> str:
        t = self._text.get(c)
        if t is not None:
            return t
        n = self.length[c]
        lab = self.labels[self.label[c]]
        if n == 1:
            t = str(lab)
        elif n <= MAX_PATH_OPS:
            # iterative: at most MAX_PATH_OPS parents to render
            stack = []
            x = c
            while x >= 0 and x not in self._text and self.length[x] > 1:
                stack.append(x)
                x = self.parent[x]
            base = self._text.get(x) if x >= 0 else None
            if base is None and x >= 0:
                base = str(self.labels[self.label[x]])
                self._text[x] = base
            for y in reversed(stack):
                base = (base + self.sep if base is not None else "") + str(self.labels[self.label[y]])
                self._text[y] = base
            t = base
        else:
            head = self.text(self.head[c])
            t = (f"{head}{self.sep}… {n - _HEAD - _TAIL:,} more operations (path {self._digest(c).hex()}) …{self.sep}"
                 + self.sep.join(self._tail_of(c)))
        self._text[c] = t
        return t

    def render(self, codes: np.ndarray) -> np.ndarray:
        """Text of each code (``None`` for -1), as an object array."""
        codes = np.asarray(codes, dtype=np.int64)
        u, inv = unique_sorted(codes, return_inverse=True)
        txt = np.asarray([None if c < 0 else self.text(c) for c in u.tolist()] + [None], dtype=object)[:-1]
        return txt[inv] if len(codes) else np.zeros(0, dtype=object)

    def parent_index(self, ops: dict[int, tuple[str, str]] | None = None, codes: np.ndarray | None = None) -> PathIndex:
        """:class:`PathIndex` of every elided path interned so far (of ``codes`` alone when given), and of every path
        whose label code is in ``ops`` (labels whose text is ambiguous: ``{label code: (service, name)}``)."""
        out: dict[str, str | None] = {}
        named: dict[str, tuple[str, str]] = {}
        ops = ops or {}
        length = self.length
        for c in (range(len(length)) if codes is None else np.asarray(codes, dtype=np.int64).tolist()):
            n = length[c]
            op = ops.get(self.label[c])
            if n > MAX_PATH_OPS or op is not None:
                t = self.text(c)
                out[t] = self.text(self.parent[c]) if self.parent[c] >= 0 else None
                if op is not None:
                    named[t] = op
        return PathIndex(out, named)


#: the paths of every span of a tree (operation codes, labels, path code of each span, interner), kept while the tree
#: is (:func:`call_paths`)
_ALL_PATHS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def call_paths(spans: pd.DataFrame, tree: SpanTree, rows: np.ndarray, *, index: bool = False):
    """``service:name > service:name > …`` from the span's root (or fragment head) down, for ``rows``.

    Spans on a parent cycle get ``None``. A path of more than :data:`MAX_PATH_OPS` operations is
    rendered elided in the middle (its first and last 8 operations, ``… N more operations (path
    <64-bit digest>) …`` between them), so memory stays linear in spans for any depth; distinct
    paths keep distinct texts. With ``index=True`` returns ``(paths, PathIndex)``, the index
    naming the parent of every elided path (:func:`path_parent`).

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
    op_code, op_labels, op_svc, op_name = operation_parts(spans)
    # the paths of every span of this tree, when a caller built them (comparison's sides: every span, then their
    # critical path's sections, which built the same paths a second time, 0.85 s a side at 300k spans); a path
    # depends on the tree's links and the operation codes alone, so those are checked, not the frame
    full = _ALL_PATHS.get(tree)
    if full is not None and not (np.array_equal(full[0], op_code) and np.array_equal(full[1], op_labels)):
        full = None
    if full is not None:
        return _served_paths(full[2], full[3], rows, op_svc, op_name, index)
    need = np.zeros(n, dtype=bool)
    need[rows] = True
    cur = rows
    while len(cur):  # mark ancestors of the needed rows
        if len(cur) <= 8:  # a narrow level (a deep chain): up in plain Python, not one numpy pass per level
            parent = tree.parent
            for x in cur.tolist():
                x = int(parent[x])
                while x >= 0 and not need[x]:
                    need[x] = True
                    x = int(parent[x])
            break
        p = tree.parent[cur]
        p = p[p >= 0]
        p = p[~need[p]]
        need[p] = True
        cur = unique_sorted(p)
    path = np.full(n, -1, dtype=np.int64)
    interner = PathInterner(op_labels)
    lv = np.flatnonzero(need & (tree.depth >= 0))
    lv = lv[np.argsort(tree.depth[lv], kind="stable")]
    dsorted = tree.depth[lv]
    bounds = np.flatnonzero(np.r_[True, dsorted[1:] != dsorted[:-1], True]) if len(lv) else np.zeros(1, dtype=np.int64)
    for b0, b1 in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        lvl = lv[b0:b1]
        par = tree.parent[lvl]
        if b1 - b0 == 1:  # one span at this depth (a deep chain): plain Python
            r, q = int(lvl[0]), int(par[0])
            path[r] = interner._add1(int(path[q]) if q >= 0 else -1, int(op_code[r]))
            continue
        ppath = np.where(par >= 0, path[np.maximum(par, 0)], -1)
        path[lvl] = interner.add(ppath, op_code[lvl])
    if n and need.all():
        _ALL_PATHS[tree] = (op_code, op_labels, path, interner)
    out = interner.render(path[rows])
    if not index:
        return out
    return out, interner.parent_index(_ambiguous_ops(np.unique(op_code[need & (op_code >= 0)]), op_svc, op_name))


def _ambiguous_ops(codes: np.ndarray, op_svc: np.ndarray, op_name: np.ndarray) -> dict[int, tuple[str, str]]:
    """Of the operation ``codes``, those whose text a reader of a path cannot split (``' > '`` in the service or
    name, ``':'`` in the service): ``{code: (service, name)}``."""
    ambiguous = {}
    for c, a, b in zip(codes.tolist(), op_svc[codes].tolist(), op_name[codes].tolist(), strict=True):
        a, b = str(a), str(b)
        if " > " in a or ":" in a or " > " in b:
            ambiguous[c] = (a, b)
    return ambiguous


def _served_paths(path: np.ndarray, interner: PathInterner, rows: np.ndarray, op_svc: np.ndarray, op_name: np.ndarray,
                  index: bool):
    """:func:`call_paths` of ``rows`` from the paths of every span of the tree (``path``, ``interner``): the index
    holds the paths of the rows and of their ancestors alone, as an interner of those alone would (the whole tree's
    holds more), found up the interner's parents rather than up the spans."""
    out = interner.render(path[rows])
    if not index:
        return out
    parent = np.asarray(interner.parent, dtype=np.int64)
    mark = np.zeros(len(parent), dtype=bool)
    cur = unique_sorted(path[rows][path[rows] >= 0])
    mark[cur] = True
    while len(cur):
        p = parent[cur]
        p = p[p >= 0]
        p = p[~mark[p]]
        mark[p] = True
        cur = unique_sorted(p)
    held = np.flatnonzero(mark)
    ops = np.unique(np.asarray(interner.label, dtype=np.int64)[held])
    return out, interner.parent_index(_ambiguous_ops(ops, op_svc, op_name), held)


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


def frame_services(spans: pd.DataFrame | None) -> SharedTuple:
    """Every service of a spans frame, sorted (none for ``None`` or a frame without ``service``): what a result carries as ``attrs["services"]`` so that its figure
    colours each service as every other figure of the same frame does (:func:`tracekit.plotting.service_colors`
    resolves palette collisions among the names it is given: a figure of fewer services drew some in other colours).

    >>> import tracekit as tk
    >>> frame_services(tk.examples.load("checkout-small"))[:3]
    ('DynamoDB', 'SQS', 'api-gateway')
    """
    if not isinstance(spans, pd.DataFrame) or "service" not in spans.columns:
        return SharedTuple()
    return SharedTuple(sorted(map(str, spans["service"].dropna().unique())))  # attrs: its deep copy is itself
