"""The span tree: one parent link per span, built once per frame and shared by every analysis.

Rules (each analysis states what it does with the flags):

- A **root** has no ``parent_id``. An **orphan** names a parent that is not in its trace (the
  parent was not sampled, not exported, or is in another file); an orphan starts a
  **fragment** of the trace and has depth 0 like a root.
- **Duplicate span ids** in a trace: one copy *is* the span, whatever the row order (``_copies_order``: a
  complete copy, then the longest, then the earliest start, then service and name, then status (error, ok, unset),
  then kind, attributes, events, links and resource as canonical text, then row order); children link to
  it; every copy is flagged (``duplicated``), the others also as ``duplicate`` (the *other copies* below). Analyses leave the other copies
  out (a span exported twice is one span) and **keep the trace**; only when some span names a
  duplicated id as its parent *and the copies differ* in parent, start, end, service or name (which
  copy is its parent is unknown) is the trace a ``bad_trace``. A duplicated leaf (or a duplicated root
  no span points to) never drops its trace, nor do copies that agree on all five (the same span read
  from two exports that differ in a kind or an attribute: otel-contrib's ``ddbSample.txt`` and
  ``invalidNamespace.txt`` read together); the kept copy's kind and attributes stand, as for a leaf.
- **Parent cycles** (a span naming itself, or a loop of parents): the spans on and under the
  loop never reach a root; they get depth -1, ``cycle`` and ``bad_trace``.
- The **request root** of a trace is its root span that started first (ties: the one that ends
  last, then the first row). Its duration is the trace's request latency
  (:func:`tracekit.core.trace_outcomes`). A trace with no root (only fragments) has none (-1).

Ids are decoded from the Arrow buffers to integers when they are canonical hex, else
factorised; the tree is linked with one sort and depths are found level by level, so building
it is O(n log n) time and O(n) memory whatever the depth of the trace.

The tree is cached per frame in :mod:`tracekit.core.cache` (weakly, and checked against a hash of
the id and time columns, so a frame whose ids were edited in place gets a new tree; ``clear_cache()``
forgets it): a report that runs ten analyses links the spans once.

>>> import tracekit as tk
>>> spans = tk.spans_from_columns({
...     "trace_id": ["0" * 31 + "1"] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
...     "parent_id": [None, "a" * 16, "f" * 16], "service": ["api"] * 3, "name": ["x"] * 3,
...     "start": [0, 1, 2], "end": [5, 4, 3]})
>>> t = span_tree(spans)
>>> t.parent.tolist(), t.orphan.tolist(), t.depth.tolist(), t.request_root.tolist()
([-1, 0, -1], [False, False, True], [0, 1, 0], [0])
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ArgumentError, TraceKitError
from ..schema import STRING
from .cache import frame_cached
from .frame import NAT_NS, ns, require_columns, start_unknown

#: what a span tree depends on: a frame equal in these is the same tree (service and name: whether the copies of a
#: repeated span id agree, see the module docstring)
_FINGERPRINT_COLUMNS = ("trace_id", "span_id", "parent_id", "start", "end", "service", "name")

__all__ = ["SpanTree", "span_tree", "span_rows", "unique_sorted", "self_ns", "blocks_parent", "clamp_to_parents"]


@dataclass(frozen=True, eq=False)
class SpanTree:
    """Parent links of a spans frame, as positional numpy arrays (index ``i`` is row ``i``).

    Attributes
    ----------
    trace : ndarray of int64
        Trace code per row, 0..n_traces-1 in order of the trace's first row.
    trace_ids : ndarray of object
        Trace id of each trace code.
    parent : ndarray of int64
        Row of the parent span in the same trace, or -1 (root, orphan, or self-parent).
    has_parent_id : ndarray of bool
        ``parent_id`` is set.
    orphan : ndarray of bool
        ``parent_id`` set but no span of the trace has that id.
    duplicate : ndarray of bool
        The row repeats a (trace_id, span_id) of an earlier row.
    duplicated : ndarray of bool
        The row's (trace_id, span_id) occurs more than once (every copy).
    cycle : ndarray of bool
        The span's parent chain never reaches a root (a loop of parents, or a span naming itself).
    depth : ndarray of int64
        0 for roots and orphans, parent's depth + 1 otherwise, -1 on or under a cycle.
    bad_trace : ndarray of bool
        The row's trace has a parent cycle, or a span whose parent id is duplicated (ambiguous parent).
    request_root : ndarray of int64
        Per trace code: row of the request root, or -1 when the trace has no root.
    span_code : ndarray of int64
        Per row: code of the span id in lexicographic order of the ids (for tie-breaks by span id).
    trace_rank : ndarray of int64
        Per trace code: rank of the trace id in lexicographic order (for output sorted by trace id).
    """

    trace: np.ndarray
    trace_ids: np.ndarray
    parent: np.ndarray
    has_parent_id: np.ndarray
    orphan: np.ndarray
    duplicate: np.ndarray
    duplicated: np.ndarray
    cycle: np.ndarray
    depth: np.ndarray
    bad_trace: np.ndarray
    request_root: np.ndarray
    span_code: np.ndarray
    trace_rank: np.ndarray
    _children: list = field(default_factory=list, repr=False)
    _intervals: list = field(default_factory=list, repr=False)

    @property
    def n_traces(self) -> int:
        """Number of traces."""
        return len(self.trace_ids)

    @property
    def is_root(self) -> np.ndarray:
        """Rows with no ``parent_id`` (and not on a cycle)."""
        return ~self.has_parent_id & ~self.cycle

    def per_trace(self, mask: np.ndarray) -> np.ndarray:
        """Count of ``mask`` rows per trace code (int64)."""
        return np.bincount(self.trace, weights=np.asarray(mask, dtype=np.float64), minlength=self.n_traces).astype(np.int64)

    def children(self) -> tuple[np.ndarray, np.ndarray]:
        """Children of every row as CSR arrays ``(offsets, rows)``: the children of row ``i``
        are ``rows[offsets[i]:offsets[i + 1]]``, in row order."""
        if not self._children:
            n = len(self.parent)
            order = np.argsort(self.parent, kind="stable")
            order = order[self.parent[order] >= 0]
            offsets = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(np.bincount(self.parent[order], minlength=n), out=offsets[1:])
            self._children.extend((offsets, order))
        return self._children[0], self._children[1]

    def below(self, mask: np.ndarray) -> np.ndarray:
        """Per row: some strict descendant is a ``mask`` row (bool). One interval count over
        :meth:`intervals`, linear in spans; rows on or under a parent cycle have no descendants and are
        no one's descendant (their ancestry is not defined), also when every row is on a cycle.

        >>> import tracekit as tk
        >>> spans = tk.spans_from_columns({
        ...     "trace_id": ["0" * 31 + "1"] * 4, "span_id": ["a" * 16, "b" * 16, "c" * 16, "d" * 16],
        ...     "parent_id": [None, "a" * 16, "b" * 16, "a" * 16], "service": ["api"] * 4, "name": ["x"] * 4,
        ...     "start": [0, 1, 2, 3], "end": [9, 4, 3, 5]})
        >>> span_tree(spans).below(np.array([False, False, True, False])).tolist()
        [True, True, False, False]
        """
        left, right = self.intervals()
        ok = left >= 0
        marked = np.zeros(len(left) + 1, dtype=np.int64)  # pre-order numbers are < len(left); sized by the rows,
        # not by the largest number: with every row on a cycle there is none, and cs[1] was out of bounds
        marked[left[np.asarray(mask, dtype=bool) & ok] + 1] = 1
        cs = np.cumsum(marked)  # cs[k]: marked rows numbered below k
        return ok & (cs[np.maximum(right, 0) + 1] - cs[np.maximum(left, 0) + 1] > 0)

    def intervals(self) -> tuple[np.ndarray, np.ndarray]:
        """Pre-order (Euler tour) numbering of every row, as ``(left, right)`` int64 arrays.

        Each root and orphan starts a block of numbers of its own; a span's descendants are exactly
        the rows ``d`` with ``left[i] < left[d] <= right[i]`` (``right - left`` is the number of
        descendants), so "is an ancestor of" is an interval test. Children are numbered in row
        order. Rows on or under a parent cycle get ``left = -1, right = -2`` (no relatives).
        Built level by level with ``bincount``/``cumsum``: linear in spans whatever the shape.

        >>> import tracekit as tk
        >>> spans = tk.spans_from_columns({
        ...     "trace_id": ["0" * 31 + "1"] * 4, "span_id": ["a" * 16, "b" * 16, "c" * 16, "d" * 16],
        ...     "parent_id": [None, "a" * 16, "b" * 16, "a" * 16], "service": ["api"] * 4, "name": ["x"] * 4,
        ...     "start": [0, 1, 2, 3], "end": [9, 4, 3, 5]})
        >>> left, right = span_tree(spans).intervals()
        >>> left.tolist(), right.tolist()
        ([0, 1, 2, 3], [3, 2, 2, 3])
        """
        if not self._intervals:
            n = len(self.parent)
            depth = self.depth
            valid = depth >= 0
            size = valid.astype(np.int64)
            by_depth = np.argsort(depth, kind="stable")
            sd = depth[by_depth]
            max_d = int(sd[-1]) if n else -1
            bounds = np.searchsorted(sd, np.arange(max_d + 2))  # rows of depth d: by_depth[bounds[d]:bounds[d+1]]
            for d in range(max_d, 0, -1):  # subtree sizes, deepest level first
                rows = by_depth[bounds[d]:bounds[d + 1]]
                if len(rows) * 64 >= n:  # a wide level: one pass over all rows
                    size += np.bincount(self.parent[rows], weights=size[rows], minlength=n).astype(np.int64)
                else:  # a narrow one touches its own rows only (a bincount of n per level was quadratic on a chain)
                    np.add.at(size, self.parent[rows], size[rows])
            # sizes of the earlier siblings of each row (children in row order)
            earlier = np.zeros(n, dtype=np.int64)
            kids = np.flatnonzero(valid & (self.parent >= 0))
            if len(kids):
                kids = kids[np.argsort(self.parent[kids], kind="stable")]
                cs = np.cumsum(size[kids]) - size[kids]
                pk = self.parent[kids]
                head = np.r_[True, pk[1:] != pk[:-1]]
                earlier[kids] = cs - np.maximum.accumulate(np.where(head, cs, 0))
            left = np.full(n, -1, dtype=np.int64)
            tops = by_depth[bounds[0]:bounds[1]] if max_d >= 0 else np.zeros(0, dtype=np.int64)
            tops = np.sort(tops)
            left[tops] = np.cumsum(size[tops]) - size[tops]
            for d in range(1, max_d + 1):
                rows = by_depth[bounds[d]:bounds[d + 1]]
                left[rows] = left[self.parent[rows]] + 1 + earlier[rows]
            right = np.where(valid, left + size - 1, -2)
            self._intervals.extend((left, right))
        return self._intervals[0], self._intervals[1]


def unique_sorted(values: np.ndarray, return_inverse: bool = False, return_index: bool = False):
    """``np.unique`` by one stable sort (numpy 2's hash-based path is slower on large integer arrays).

    Examples
    --------
    >>> import numpy as np
    >>> u, inv = unique_sorted(np.array([3, 1, 3]), return_inverse=True)
    >>> u.tolist(), inv.tolist()
    ([1, 3], [1, 0, 1])
    """
    values = np.asarray(values)
    o = np.argsort(values, kind="stable")
    sv = values[o]
    new = np.ones(len(sv), dtype=bool)
    if len(sv) > 1:
        new[1:] = sv[1:] != sv[:-1]
    uniq = sv[new]
    out = [uniq]
    if return_index:
        out.append(o[new])
    if return_inverse:
        inv = np.empty(len(values), dtype=np.int64)
        inv[o] = np.cumsum(new) - 1
        out.append(inv)
    return uniq if len(out) == 1 else tuple(out)


_LUT = np.full(256, 255, dtype=np.uint8)
for _i, _ch in enumerate(b"0123456789abcdef"):
    _LUT[_ch] = _i


def _hex_words(series: pd.Series, width: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Fixed-width lower-case hex ids as big-endian uint64 words (n, width // 16) plus a valid
    mask, read straight from the Arrow buffers; ``None`` when any id is not ``width`` hex digits."""
    import pyarrow as pa

    arr = series.array
    if not hasattr(arr, "__arrow_array__"):
        return None
    a = arr.__arrow_array__()
    a = a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a
    if a.type not in (pa.string(), pa.large_string()):
        return None
    n = len(a)
    valid = np.ones(n, dtype=bool) if not a.null_count else ~a.is_null().to_numpy(zero_copy_only=False)
    bufs = a.buffers()
    if bufs[2] is None:
        return (np.zeros((n, width // 16), dtype=np.uint64), valid) if not valid.any() else None
    off = np.frombuffer(bufs[1], dtype=np.int64 if a.type == pa.large_string() else np.int32)[a.offset: a.offset + n + 1]
    lens = np.diff(off)
    if not ((lens[valid] == width).all() and (lens[~valid] == 0).all()):
        return None
    nib = _LUT[np.frombuffer(bufs[2], dtype=np.uint8)[off[0]: off[-1]]]
    if (nib == 255).any():
        return None
    nib = nib.reshape(-1, width)
    words = np.ascontiguousarray((nib[:, 0::2] << 4) | nib[:, 1::2]).view(">u8").astype(np.uint64)
    out = np.zeros((n, width // 16), dtype=np.uint64)
    out[valid] = words
    return out, valid


def _id_codes(spans: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Trace code (first-appearance order), lexicographic rank per trace code, span code and parent
    code (-1: none), all int64.

    Span and parent codes share one code space, in lexicographic order of the ids; a parent id
    naming no span gets a code no span has.
    """
    n = len(spans)
    t = _hex_words(spans["trace_id"], 32)
    sp = _hex_words(spans["span_id"], 16)
    pp = _hex_words(spans["parent_id"], 16)
    if t is not None and sp is not None and pp is not None and t[1].all() and sp[1].all():
        w = t[0]
        o = np.lexsort((w[:, 1], w[:, 0]))
        sw = w[o]
        new = np.ones(n, dtype=bool)
        if n > 1:
            new[1:] = (sw[1:] != sw[:-1]).any(axis=1)
        lex = np.empty(n, dtype=np.int64)
        lex[o] = np.cumsum(new) - 1
        sv = sp[0][:, 0]
        uniq = unique_sorted(sv)
        scode = np.searchsorted(uniq, sv).astype(np.int64)
        pv = pp[0][:, 0]
        pos = np.minimum(np.searchsorted(uniq, pv), max(len(uniq) - 1, 0))
        hit = uniq[pos] == pv if len(uniq) else np.zeros(n, dtype=bool)
        pcode = np.where(pp[1] & hit, pos, -1).astype(np.int64)
        pcode[pp[1] & (pcode < 0)] = len(uniq)
    else:
        lex, _ = pd.factorize(spans["trace_id"].to_numpy(dtype=object, na_value=None).astype(str), sort=True)
        lex = np.asarray(lex, dtype=np.int64)
        sid = spans["span_id"].to_numpy(dtype=object, na_value=None)
        pid = spans["parent_id"].to_numpy(dtype=object, na_value=None)
        both = np.concatenate([sid, pid])
        codes, _ = pd.factorize(np.where(pd.isna(both), None, both.astype(str)), sort=True)
        scode, pcode = codes[:n].astype(np.int64), codes[n:].astype(np.int64)
    # trace codes in order of first appearance
    n_lex = int(lex.max()) + 1 if n else 0
    first = np.full(n_lex, n, dtype=np.int64)
    np.minimum.at(first, lex, np.arange(n, dtype=np.int64))
    rank = np.empty(n_lex, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(n_lex)
    lex_of_code = np.empty(n_lex, dtype=np.int64)
    lex_of_code[rank] = np.arange(n_lex)
    return rank[lex], lex_of_code, scode, pcode


#: levels walked one by one before a narrow frontier (a deep chain) switches to pointer jumping
_LEVELS = 64


def _jump_depths(parent: np.ndarray, depth: np.ndarray, self_parent: np.ndarray) -> None:
    """Fill ``depth`` (in place) for the rows below the levels already known, by pointer jumping: each unknown row
    keeps its distance to the ancestor it points at and doubles the jump until it lands on a row of known depth —
    O(n log depth) in a few vectorised passes instead of one pass per level. Rows that never land (on or under a
    parent cycle, or under a span that is its own parent) stay -1."""
    todo = np.flatnonzero(depth < 0)
    if not len(todo):
        return
    nxt = parent.copy()
    nxt[self_parent] = np.flatnonzero(self_parent)  # a span its own parent: a cycle, never lands
    dist = np.ones(len(parent), dtype=np.int64)
    for _ in range(int(np.ceil(np.log2(len(parent) + 1))) + 2):
        if not len(todo):
            break
        t = nxt[todo]
        stop = (t < 0) | self_parent[todo]
        landed = ~stop & (depth[np.maximum(t, 0)] >= 0)
        if landed.any():
            depth[todo[landed]] = depth[t[landed]] + dist[todo[landed]]
        go = ~stop & ~landed
        todo, t = todo[go], t[go]
        dist[todo] = dist[todo] + dist[t]  # (synchronous: reads before writes of this pass)
        nxt[todo] = nxt[t]


def _copies_order(spans: pd.DataFrame, key: np.ndarray) -> np.ndarray:
    """Rows sorted by (trace, span id) ``key``, the copies of a repeated span in the order of which one *is* the span
    (the first of each run is kept, the others are its ``duplicate`` copies): a complete copy (start and end known)
    before one without, then the longest, then the earliest start, then the smaller service and name, then the status
    (:data:`_STATUS_RANK`: error first), then the content (:func:`_copies_content`), then row order (copies agreeing
    on all of those are equal in every column the analyses read). The one rule, so that which copy counts
    does not depend on the order the rows were read in (the first row did: a span read as 10..90 ms and 10..30 ms held
    80 or 20 ms of the critical path by row order)."""
    n = len(key)
    rows = np.arange(n)
    if n < 2 or "start" not in spans.columns or "end" not in spans.columns:
        return np.argsort(key, kind="stable")
    o = np.argsort(key, kind="stable")
    sk = key[o]
    rep = np.zeros(n, dtype=bool)
    rep[1:] = sk[1:] == sk[:-1]
    rep[:-1] |= sk[1:] == sk[:-1]
    if not rep.any():
        return o
    start, end = ns(spans["start"]), ns(spans["end"])
    incomplete = (start == NAT_NS) | (end == NAT_NS)
    dur = np.where(incomplete, 0, end - start)
    svc = pd.factorize(spans["service"].astype(object).fillna(""), sort=True)[0] if "service" in spans.columns else rows * 0
    name = pd.factorize(spans["name"].astype(object).fillna(""), sort=True)[0] if "name" in spans.columns else rows * 0
    status = np.zeros(n, dtype=np.int64)
    if "status" in spans.columns:
        reps = o[rep]
        st = spans["status"].iloc[reps]
        rank = np.full(len(reps), len(_STATUS_RANK), dtype=np.int64)
        for word, r in reversed(_STATUS_RANK.items()):
            rank[st.eq(word).fillna(False).to_numpy(dtype=bool)] = r
        status[reps] = rank
    keys = (name, svc, end, start, -dur, incomplete, key)
    order = np.lexsort((rows, status) + keys)
    rest = _copies_content(spans, order, (status,) + keys)
    return order if rest is None else np.lexsort((rows, rest, status) + keys)


#: which status a copy that differs from its twin only in status is kept by: an error any export reported is kept
#: (a failure does not vanish by row order), then a status the span set (ok), then none (unset)
_STATUS_RANK = {"error": 0, "ok": 1, "unset": 2}


def _differ(x: Any, y: Any) -> bool:
    """Whether two cells differ (a cell holding an array compares element-wise: unknown, so they differ)."""
    try:
        return bool(x != y)
    except (ValueError, TypeError):
        return True


def _canonical_text(cells: tuple) -> str:
    """A copy's content as text that does not depend on key order (repr where keys do not sort)."""
    import json

    try:
        return json.dumps(cells, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return repr(cells)


#: the columns a copy's content is ordered by after the keys of :func:`_copies_order` (provenance, ``source*``, and
#: the derived ``duration_ms`` are not content)
_CONTENT = ("kind", "status_message", "http_status", "error", "fault", "throttle", "in_progress", "inferred",
            "trace_state", "flags", "attributes", "resource", "events", "links")


def _copies_content(spans: pd.DataFrame, order: np.ndarray, keys: tuple[np.ndarray, ...]) -> np.ndarray | None:
    """The rank of each row's content (the :data:`_CONTENT` columns as canonical text) where copies of a span agree on
    every one of ``keys`` (in ``order``) and differ in content (None where no such copies): so that they are ordered
    by what they hold, not by row order. Copies that are equal (a file read twice) cost one comparison per cell."""
    cols = [c for c in _CONTENT if c in spans.columns]
    if not cols or len(order) < 2:
        return None
    tie = np.ones(len(order) - 1, dtype=bool)
    for k in keys:
        ks = k[order]
        tie &= ks[1:] == ks[:-1]
    pairs = np.flatnonzero(tie)
    if not len(pairs):
        return None
    a, b = order[pairs], order[pairs + 1]
    differ = np.zeros(len(pairs), dtype=bool)
    for c in cols:
        col = spans[c]
        if c in ("attributes", "resource", "events", "links"):  # dicts and lists, compared cell by cell
            va, vb = col.iloc[a].tolist(), col.iloc[b].tolist()
            try:
                ne = np.array(list(map(operator.ne, va, vb)), dtype=bool)
            except (ValueError, TypeError):  # a cell holding an array compares element-wise
                ne = np.fromiter((_differ(x, y) for x, y in zip(va, vb, strict=True)), dtype=bool, count=len(pairs))
            differ |= ne
        else:
            codes = pd.factorize(col, use_na_sentinel=True)[0]  # missing is -1 in both: equal
            differ |= codes[a] != codes[b]
    if not differ.any():
        return None
    # every row of a run of tied copies in which some neighbours differ: its content as text, ranked
    run = np.concatenate([[0], np.cumsum(~tie)])  # run number per sorted position
    bad_runs = np.unique(run[pairs[differ]])
    rows = order[np.isin(run, bad_runs)]
    parts = [spans[c].iloc[rows].astype(object).where(spans[c].iloc[rows].notna(), None).tolist() for c in cols]
    text = [_canonical_text(cells) for cells in zip(*parts, strict=True)]
    rest = np.zeros(len(spans), dtype=np.int64)
    rest[rows] = pd.factorize(np.array(text, dtype=object), sort=True)[0] + 1
    return rest


def _build(spans: pd.DataFrame) -> SpanTree:
    for col in ("trace_id", "span_id"):
        na = spans[col].isna().to_numpy(dtype=bool)
        if na.any():
            raise TraceKitError(f"{int(na.sum())} span(s) have no {col} (row {spans.index[int(np.argmax(na))]!r} first); "
                                "every span needs a trace_id and a span_id")
    n = len(spans)
    tcode, trace_rank, scode, pcode = _id_codes(spans)
    n_tr = int(tcode.max()) + 1 if n else 0
    trace_ids = np.empty(n_tr, dtype=object)
    trace_ids[tcode[::-1]] = spans["trace_id"].to_numpy(dtype=object)[::-1]  # first row of each trace wins
    has_pid = pcode >= 0
    k = np.int64(max(int(max(scode.max(initial=0), pcode.max(initial=0))) + 2, 2))
    key = tcode * k + scode
    order = _copies_order(spans, key)
    skey = key[order]
    duplicate = np.zeros(n, dtype=bool)
    duplicated = np.zeros(n, dtype=bool)
    if n > 1:
        same = skey[1:] == skey[:-1]
        duplicate[order[1:][same]] = True
        duplicated[order[1:][same]] = True
        duplicated[order[:-1][same]] = True
    first = np.ones(n, dtype=bool)
    if n > 1:
        first[1:] = skey[1:] != skey[:-1]
    uk, urow = skey[first], order[first]
    parent = np.full(n, -1, dtype=np.int64)
    found = np.zeros(n, dtype=bool)
    if n and len(uk):
        pkey = tcode * k + pcode
        pos = np.minimum(np.searchsorted(uk, pkey), len(uk) - 1)
        found = has_pid & (uk[pos] == pkey)
        parent[found] = urow[pos[found]]
    orphan = has_pid & ~found
    self_parent = parent == np.arange(n)
    parent[self_parent] = -1
    # depth, level by level from roots and orphans
    depth = np.full(n, -1, dtype=np.int64)
    start_rows = np.flatnonzero((parent < 0) & ~self_parent)
    depth[start_rows] = 0
    co = np.argsort(parent, kind="stable")
    sp = parent[co]
    frontier, d = start_rows, 0
    while len(frontier):
        if d == _LEVELS:  # deeper than most traces (a long chain): the rest by pointer jumping, not level by level
            _jump_depths(parent, depth, self_parent)
            break
        lo = np.searchsorted(sp, frontier, side="left")
        hi = np.searchsorted(sp, frontier, side="right")
        cnt = hi - lo
        tot = int(cnt.sum())
        if not tot:
            break
        starts = np.repeat(lo, cnt)
        offs = np.arange(tot) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        idx = co[starts + offs]
        idx = idx[depth[idx] < 0]
        d += 1
        depth[idx] = d
        frontier = idx
    cycle = depth < 0
    # a duplicated id some span names as its parent: that child's parent is ambiguous, the trace is bad;
    # a duplicated id nobody points to (a leaf, or a root exported twice) leaves its trace whole
    differ = _copies_differ(spans, order, skey, pcode) if duplicated.any() else duplicated
    named_dup = (parent >= 0) & differ[np.maximum(parent, 0)] if n else np.zeros(0, dtype=bool)
    bad_codes = np.unique(tcode[named_dup | cycle])
    bad_trace = np.isin(tcode, bad_codes) if len(bad_codes) else np.zeros(n, dtype=bool)
    # request root: earliest-starting root, then the one ending last, then the lowest span id (not the first row: the
    # same spans in another order name the same request)
    is_root = ~has_pid & ~cycle & ~duplicate  # another copy of a root is not a second root
    request_root = np.full(n_tr, -1, dtype=np.int64)
    rr = np.flatnonzero(is_root)
    if len(rr):
        st = ns(spans["start"])[rr] if "start" in spans.columns else np.zeros(len(rr), np.int64)
        en = ns(spans["end"])[rr] if "end" in spans.columns else np.zeros(len(rr), np.int64)
        en = np.where(en == NAT_NS, np.iinfo(np.int64).max, en)  # an in-progress root runs on
        o = np.lexsort((rr, scode[rr], ~en, st, tcode[rr]))  # ~en: last end first, exact (float64 tied ends 128 ns apart)
        tr = tcode[rr][o]
        head = np.r_[True, tr[1:] != tr[:-1]]
        request_root[tr[head]] = rr[o][head]
    return SpanTree(tcode, trace_ids, parent, has_pid, orphan, duplicate, duplicated, cycle, depth, bad_trace, request_root,
                    scode, trace_rank)


def _copies_differ(spans: pd.DataFrame, order: np.ndarray, skey: np.ndarray, pcode: np.ndarray) -> np.ndarray:
    """Per row: its (trace, span id) has copies that differ in parent, start, end, service or name (what the tree,
    the times and the labels of an analysis read). ``order`` sorts the rows by that key, ``skey`` is the sorted key.
    Only the rows of a repeated key are compared: linear in those."""
    n = len(skey)
    same = skey[1:] == skey[:-1]
    pairs = np.flatnonzero(same)  # sorted positions i, i + 1 of one key
    a, b = order[pairs], order[pairs + 1]
    diff = pcode[a] != pcode[b]
    for col in ("start", "end"):
        if col in spans.columns:
            v = ns(spans[col])
            diff |= v[a] != v[b]
    for col in ("service", "name"):
        if col in spans.columns:
            v = spans[col].to_numpy(dtype=object, na_value=None)
            diff |= np.fromiter((x != y for x, y in zip(v[a].tolist(), v[b].tolist(), strict=True)), dtype=bool,
                                count=len(a))
    # a key differs when any neighbouring pair of its copies does: mark the pairs, spread over the key's run
    key_diff = np.zeros(n, dtype=bool)  # per sorted position
    key_diff[pairs[diff]] = True
    key_diff[pairs[diff] + 1] = True
    run = np.cumsum(np.r_[True, ~same])  # run id per sorted position
    hit = np.zeros(int(run[-1]) + 1 if n else 1, dtype=bool)
    hit[run[key_diff]] = True
    out = np.zeros(n, dtype=bool)
    out[order] = hit[run]
    return out


def blocks_parent(start: np.ndarray, end: np.ndarray, parent_start: np.ndarray, parent_end: np.ndarray) -> np.ndarray:
    """Per child: it holds up its parent — the one definition of a *blocking* child, shared by the critical path
    (:func:`tracekit.critical_path`, which clamps such a child to the parent) and :func:`tracekit.what_if` (whose
    parent ends when such a child, clamped to the parent, does). A child blocks when it overlaps its parent by more
    than an instant: it ends after the parent starts and starts before the parent ends, and does not end before it
    starts. A child that outlives its parent blocks it up to the parent's end (Jaeger UI's clamp); one that ends
    when (or before) its parent starts, or starts when (or after) it ends, does not (clock skew or asynchronous
    work). Integer ns arrays, elementwise; give an in-progress child's end as a time past every end. Which
    *relations* are asynchronous (a consumer under its producer, ...) is the ``nonblocking`` rule, applied on top.

    Examples
    --------
    >>> import numpy as np
    >>> blocks_parent(np.array([10, 50, 0, 100]), np.array([40, 150, 0, 120]), np.array([0] * 4),
    ...               np.array([100] * 4)).tolist()
    [True, True, False, False]
    """
    start, end = np.asarray(start), np.asarray(end)
    return (end > np.asarray(parent_start)) & (start < np.asarray(parent_end)) & (end >= start)


def clamp_to_parents(parent: np.ndarray, depth: np.ndarray, start: np.ndarray, end: np.ndarray, keep: np.ndarray,
                     drop_surrounding: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Jaeger UI's sanitising of a span tree, in tree order: the one definition of the *clamped* intervals that the
    critical path walks and :func:`tracekit.what_if` re-times by.

    Level by level from the roots, a ``keep`` child that holds up its parent (:func:`blocks_parent`, against the
    parent's interval *as clamped*) is clamped to it: start raised to the parent's start, end lowered to the parent's
    end. A grandchild is clamped against its clamped parent (FORMATS.md, Jaeger's test7: the child and the grandchild
    that both outlive the root end with it), also when it ends inside its parent's recorded end but after the root's.
    A child that does not block keeps its own interval (its children are judged against it).

    Parameters
    ----------
    parent, depth : ndarray of int64
        :class:`SpanTree` ``parent`` (-1: none) and ``depth`` (-1: left out: the row neither blocks nor is clamped).
    start, end : ndarray of int64
        Recorded times in ns (give an in-progress end as a time past every end).
    keep : ndarray of bool
        Rows that may hold up their parent (the analysis' policy: not asynchronous, start known, ...).
    drop_surrounding : bool, default False
        A child that starts before and ends after its parent does not block (``surrounding='drop'``).

    Returns
    -------
    cs, ce : ndarray of int64
        Clamped start and end (a row that does not block: its own).
    blocks : ndarray of bool
        The row holds up its parent (False for roots).
    held : ndarray of bool
        The row and all its ancestors are ``keep`` and block: the spans the critical path walks.

    Examples
    --------
    >>> import numpy as np
    >>> # root 0..100 > b 50..150 > c 60..120: b ends with the root, c with the clamped b (not at 120)
    >>> cs, ce, blocks, held = clamp_to_parents(np.array([-1, 0, 1]), np.array([0, 1, 2]), np.array([0, 50, 60]),
    ...                                         np.array([100, 150, 120]), np.ones(3, dtype=bool))
    >>> cs.tolist(), ce.tolist(), blocks.tolist(), held.tolist()
    ([0, 50, 60], [100, 100, 100], [False, True, True], [True, True, True])
    """
    n = len(parent)
    cs, ce = np.array(start, dtype=np.int64), np.array(end, dtype=np.int64)
    keep = np.asarray(keep, dtype=bool)
    blocks = np.zeros(n, dtype=bool)
    held = keep & (np.asarray(parent) < 0) & (np.asarray(depth) >= 0)
    maxd = int(depth.max()) if n else -1
    by_depth = np.argsort(depth, kind="stable")
    dsorted = depth[by_depth]
    for d in range(1, maxd + 1):
        lo, hi = np.searchsorted(dsorted, [d, d + 1])
        rows = by_depth[lo:hi]
        p = parent[rows]
        ps, pe = cs[p], ce[p]
        s, e = cs[rows], ce[rows]
        ok = keep[rows] & blocks_parent(s, e, ps, pe)
        if drop_surrounding:
            ok &= ~((s < ps) & (e > pe))
        blocks[rows] = ok
        held[rows] = ok & held[p]
        cs[rows] = np.where(ok, np.maximum(s, ps), s)
        ce[rows] = np.where(ok, np.minimum(e, pe), e)
    return cs, ce, blocks, held


# ------------------------------------------------------------------------------- the cache

def span_tree(spans: pd.DataFrame) -> SpanTree:
    """The span tree of a spans frame (built once, then taken from a per-frame cache).

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (needs ``trace_id``, ``span_id``, ``parent_id``; ``start``/``end`` choose the
        request root).

    Returns
    -------
    SpanTree
        Positional arrays; see the module docstring for the rules.

    Raises
    ------
    SpansSchemaError
        A needed column is missing.
    TraceKitError
        A span has no ``trace_id`` or ``span_id``.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.examples.load("checkout-small")
    >>> span_tree(spans) is span_tree(spans)
    True
    """
    require_columns(spans, ("trace_id", "span_id", "parent_id"), "span_tree")
    # the one per-frame cache (core.cache): clear_cache() forgets the tree with the other results
    return frame_cached(spans, "span_tree", None, _FINGERPRINT_COLUMNS, lambda: _build(spans))


def span_count(spans: pd.DataFrame, rows: np.ndarray | None = None) -> int:
    """How many spans ``spans`` holds (or its ``rows`` hold): spans, not rows.

    A span exported twice (two rows with one ``(trace_id, span_id)``) is one span: the kernel tree's copy
    (:attr:`SpanTree.duplicate` marks the others). Every count of spans said to a user (a report's header, a
    query's header, a canvas title, a graph's summary) comes from here.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (``trace_id``, ``span_id``, ``parent_id``).
    rows : numpy.ndarray of bool, optional
        Which rows to count (one flag per row); all rows when not given.

    Returns
    -------
    int
        The number of distinct spans among the rows; 0 for an empty frame.

    Examples
    --------
    >>> import pandas as pd
    >>> import tracekit as tk
    >>> spans = tk.examples.load("checkout-small")
    >>> twice = pd.concat([spans, spans.iloc[:5]], ignore_index=True)
    >>> len(twice) - len(spans), span_count(twice) == span_count(spans) == len(spans)
    (5, True)
    """
    if not len(spans):
        return 0
    one = ~span_tree(spans).duplicate
    return int((one if rows is None else one & np.asarray(rows, dtype=bool)).sum())


_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9))


def span_rows(spans: pd.DataFrame, trace_ids, span_ids, tree: SpanTree | None = None) -> np.ndarray:
    """Row of the span each ``(trace_ids[i], span_ids[i])`` pair names, -1 where no span of ``spans`` has it (or
    an id is missing): of a span read twice, the copy that *is* the span (the row ``tree.duplicate`` leaves
    unflagged, ``_copies_order``: the complete copy, then the longest, ...), whatever the order the rows were read
    in. The one lookup of a span by its ids: a log record's span, a link's target, a critical-path section's or a
    request root's row (mapping an id to its first row put a 10..90 ms section on the 10..30 ms copy, or a record on
    the copy the analyses leave out, by row order). Canonical hex ids are decoded to integers and matched by a
    sorted 64-bit mix checked word by word; other ids through an index of the pairs.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame.
    trace_ids, span_ids : array-like
        The pairs to look up (equal lengths).
    tree : SpanTree, optional
        ``span_tree(spans)`` when already at hand.

    Returns
    -------
    numpy.ndarray
        int64 row positions in ``spans``, -1 for none.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["1" * 32] * 2, "span_id": ["a" * 16] * 2,
    ...     "service": ["x", "x"], "name": ["q"] * 2, "start": [0, 0], "end": [20, 90]})   # read twice
    >>> span_rows(spans, ["1" * 32, "1" * 32], ["a" * 16, "f" * 16]).tolist()   # the longer copy is the span
    [1, -1]
    """
    def text(values) -> pd.Series:
        v = values.reset_index(drop=True) if isinstance(values, pd.Series) else pd.Series(np.asarray(values, dtype=object))
        return v if v.dtype == STRING else v.astype(object).where(v.notna(), None).astype(STRING)

    trace, span = text(trace_ids), text(span_ids)
    if len(trace) != len(span):
        raise ArgumentError(f"span_rows: {len(trace)} trace ids but {len(span)} span ids")
    out = np.full(len(trace), -1, dtype=np.int64)
    if not len(trace) or not len(spans):
        return out
    tree = span_tree(spans) if tree is None else tree
    kept = np.flatnonzero(~tree.duplicate)  # one row per (trace id, span id): keys unique among them
    st, ss = _hex_words(spans["trace_id"], 32), _hex_words(spans["span_id"], 16)
    lt, ls = _hex_words(trace, 32), _hex_words(span, 16)
    if st is not None and ss is not None and lt is not None and ls is not None:
        tw, sw = st[0][kept], ss[0][kept, 0]
        with np.errstate(over="ignore"):
            sh = tw[:, 0] * _MIX[0] ^ tw[:, 1] * _MIX[1] ^ sw * _MIX[2]
            lh = lt[0][:, 0] * _MIX[0] ^ lt[0][:, 1] * _MIX[1] ^ ls[0][:, 0] * _MIX[2]
        order = np.argsort(sh, kind="stable")
        sorted_h = sh[order]
        pos = np.minimum(np.searchsorted(sorted_h, lh, side="left"), len(sh) - 1)
        cand = order[pos]
        same_h = sorted_h[pos] == lh
        hit = same_h & (tw[cand] == lt[0]).all(axis=1) & (sw[cand] == ls[0][:, 0])
        if not (same_h & ~hit).any():  # (a 64-bit mix shared by two different spans, never seen: the index decides)
            ok = hit & lt[1] & ls[1]
            out[ok] = kept[cand[ok]]
            return out

    def obj(v: pd.Series) -> np.ndarray:
        return v.to_numpy(dtype=object, na_value=None)

    index = pd.MultiIndex.from_arrays([obj(spans["trace_id"].iloc[kept].astype(STRING)),
                                       obj(spans["span_id"].iloc[kept].astype(STRING))])
    at = index.get_indexer(pd.MultiIndex.from_arrays([obj(trace), obj(span)]))
    ok = (at >= 0) & trace.notna().to_numpy() & span.notna().to_numpy()
    out[ok] = kept[at[ok]]
    return out


def service_entries(spans: pd.DataFrame, tree: SpanTree | None = None) -> np.ndarray:
    """Which spans enter their service: a root, or a span whose parent is of another service (where a service
    serves a request: a service's calls, the requests a service or host served). The one definition for every
    analysis. A missing service (schema-invalid, but what a hand-built frame may hold) is None: a span without one
    enters, and so does its child with one; pandas' NA compared elementwise raised "boolean value of NA is
    ambiguous". A span exported twice enters with each copy (``tree.duplicate`` marks the later ones).

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["1" * 32] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
    ...     "parent_id": [None, "a" * 16, "b" * 16], "service": ["web", "web", None], "name": ["r", "x", "y"],
    ...     "start": [0, 1, 2], "end": [9, 8, 7]})
    >>> service_entries(spans).tolist()
    [True, False, True]
    """
    if tree is None:
        tree = span_tree(spans)
    svc = spans["service"].to_numpy(dtype=object, na_value=None)
    p = tree.parent
    return (p < 0) | (svc[np.maximum(p, 0)] != svc)


def self_ns(spans: pd.DataFrame, tree: SpanTree | None = None) -> np.ndarray:
    """Exclusive (self) time of every span in ns, float64 in row order: the duration minus the union
    of its children's intervals clipped to the span (a sweep, not a sum); an in-progress child counts
    up to the parent's end; NaN for a span in progress, a span whose start is unknown (:func:`tracekit.core.start_unknown`) and its parent; another copy of a span exported twice (same start and end)
    has its first copy's (summed over rows, such a span counts once per copy: leave out ``duplicate`` rows). The one
    definition behind
    :func:`tracekit.self_time` (``self_ms``) and the simulator's busy time.

    >>> import tracekit as tk
    >>> spans = tk.spans_from_columns({"trace_id": ["0" * 31 + "1"] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
    ...     "parent_id": [None, "a" * 16, "a" * 16], "service": ["api", "db", "db"], "name": ["GET /", "q1", "q2"],
    ...     "start": [0, 10, 20], "end": [100, 40, 50]})
    >>> self_ns(spans).tolist()
    [60.0, 30.0, 30.0]
    """
    tree = span_tree(spans) if tree is None else tree
    n = len(spans)
    start = ns(spans["start"])
    end_na = spans["end"].isna().to_numpy()
    end = ns(spans["end"])
    dur = np.where(end_na, 0, end - start).astype(np.float64)
    child = np.flatnonzero(tree.parent >= 0)
    p = tree.parent[child]
    # clip each child to its parent; an in-progress child runs to the parent's end
    pe = end[p]
    ps = start[p]
    p_open = end_na[p]
    cs = np.maximum(start[child], ps)
    ce = np.where(end_na[child], pe, np.minimum(end[child], pe))
    keep = ~p_open & (ce > cs)
    child, p, cs, ce = child[keep], p[keep], cs[keep], ce[keep]
    covered = np.zeros(n, dtype=np.float64)
    if len(child):
        order = np.lexsort((cs, p))
        p, cs, ce = p[order], cs[order], ce[order]
        cummax = pd.Series(ce).groupby(p, sort=False).cummax().to_numpy()
        prev = np.empty_like(cummax)
        prev[0] = np.iinfo(np.int64).min
        prev[1:] = cummax[:-1]
        new_group = np.ones(len(p), dtype=bool)
        new_group[1:] = p[1:] != p[:-1]
        prev[new_group] = np.iinfo(np.int64).min
        gain = ce - np.maximum(cs, prev)
        gain = np.where(gain > 0, gain, 0).astype(np.float64)
        covered = np.bincount(p, weights=gain, minlength=n)
    out = dur - covered
    out[end_na] = np.nan
    # a span whose start is unknown (core.start_unknown: NaT in a frame edited by hand, or OTLP's unset start read as
    # 1970) has no known self time, nor has its parent (the child's interval is unknown); a NaT read as -2**63 ns made
    # self_ms -9.2e12, and a start read as 1970 covered its parent from its start (self time 0 where it is unknown)
    start_na = start_unknown(spans)
    if start_na.any():
        out[start_na] = np.nan
        out[tree.parent[start_na & (tree.parent >= 0)]] = np.nan
    if tree.duplicate.any():
        # another copy of a span exported twice is that span: its children link to the first copy, so the copy's own
        # sweep found none (a copy of A 10..50 holding B 20..40 said 40 ms where A says 20). A copy that agrees on
        # start and end takes the first copy's self time; one that differs keeps its own (which span it is, unknown)
        key = tree.trace * np.int64(int(tree.span_code.max()) + 2) + (tree.span_code + 1)  # (a code of -1 too)
        kept = np.flatnonzero(~tree.duplicate)  # the copy that is the span (core.tree's _copies_order), one per key
        uk, at = np.unique(key[kept], return_index=True)
        first = kept[at][np.searchsorted(uk, key)]
        same = tree.duplicate & (start == start[first]) & (end == end[first]) & (end_na == end_na[first])
        out[same] = out[first[same]]
    return out
