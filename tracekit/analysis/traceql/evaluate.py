"""Evaluate a parsed TraceQL spanset query on a spans frame, vectorised.

Every field is a column of the frame read once: a value is three typed channels per span
(numbers as float64 with NaN for "none", text as an Arrow string array with nulls, booleans as
int8 with -1 for "none"), because an attribute can hold different types on different spans. An
operator works channel by channel, as Tempo compares only values of the same type (a string
``"2"`` never equals the number ``2``; ``!=`` is true only where the field has a value of that
type). Filters become boolean masks; regexes run in RE2 (Arrow's kernels): linear, no
backtracking. Spansets are a mask plus a spanset code per row (the trace, until ``by()``); after
``by()`` the spanset operators take the codes, so ``&&`` and the structural relations hold only
between rows of one spanset (Tempo's SpansetOperation evaluates each input spanset alone).

Structural operators use the kernel's span tree (:func:`tracekit.core.tree.span_tree`): child and
parent from the parent row, sibling from counts per parent, descendant and ancestor from its
pre-order intervals (:meth:`~tracekit.core.tree.SpanTree.intervals`) with one cumulative sum each:
linear in spans. A span on or under a parent cycle has no ancestry (the kernel gives it no pre-order
number): ``>>``/``<<`` never relate it, so ``!>>``/``!<<`` keep it; ``>``, ``<`` and ``~`` follow the
parent link as the data gives it.

Field mapping onto the canonical frame:

- ``resource.service.name`` (and ``.service.name`` when the span has none) is the ``service``
  column, so X-Ray segment services and OTLP resources read the same; other ``resource.x`` from
  the ``resource`` dicts; ``span.x`` from ``attributes`` (dotted keys followed into nested X-Ray
  metadata as :func:`tracekit.attribute` does; an X-Ray annotation ``annotation.x``, then the default metadata
  namespace's ``metadata.default.x``, also answers ``span.x``); ``.x`` is the span attribute, else the resource attribute (Tempo's order).
- An array attribute (OTLP ``arrayValue``, a list) is compared element by element, as in Tempo:
  ``=``, ``=~``, ``<``... hold when some element does, ``!=`` and ``!~`` when the array holds a value of
  that type and no element equals (matches) it; ``select``/``by`` give the list; aggregates refuse it.
- ``event.x``, ``event:name``, ``event:timeSinceStart``, ``link.x``, ``link:traceID``,
  ``link:spanID``: a span matches when one of its events (links) does; each comparison is
  checked on its own (``event.a = 1 && event.b = 2`` may match two different events).
- ``instrumentation:name`` / ``:version`` / ``instrumentation.x``: the resource's
  ``otel.scope.name`` / ``otel.scope.version`` / ``otel.scope.attr.x`` (how the OTLP readers keep the scope).
- ``statusMessage``: the ``status_message`` column, ``""`` where a span has none (Tempo's column is a plain
  string: ``{ statusMessage != "timeout" }`` holds on a span with no message, ``= nil`` is refused).
- ``rootName`` / ``rootServiceName``: the trace's request root (the kernel's definition);
  ``traceDuration``: the trace extent (:func:`tracekit.core.trace_extent_ns`: last end - first start, unknown where
  a span's start is, as is that span's ``duration``; of a trace still running, a lower bound, as a running span's
  ``duration`` is (:func:`tracekit.core.running_ns`), and comparisons a bound does not decide unknown: no filter
  keeps them, ``!`` keeps them unknown, ``&&``/``||`` are Kleene's; select, by and aggregates read no bound);
  ``nestedSetLeft/Right/Parent``:
  Tempo's nested-set numbers, per trace from 1 (children in row order; the parent's left, -1 for a
  root; 0 for spans under no root, which Tempo does not number; a duplicated span id linked as Tempo links
  it, by kind for a client/server pair, a trace with three copies of an id unnumbered).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ...core.attributes import attribute
from ...core.frame import NAT_NS, ns, start_unknown
from ...core.outcomes import running_ns, trace_extent_ns, trace_in_progress
from ...core.tree import span_tree
from ...errors import TraceKitError, TraceQLError
from .parse import (
    Aggregate,
    Attribute,
    BinOp,
    Coalesce,
    Filter,
    GroupBy,
    Intrinsic,
    Pipeline,
    ScalarFilter,
    Select,
    SpansetOp,
    Static,
    UnOp,
    anchored_regex,
)

__all__ = ["Evaluator", "Result", "group_codes", "known_numbers"]

#: the X-Ray attribute namespaces that answer ``span.x`` when the span has no ``x`` of its own, in this order
XRAY_PREFIXES = ("annotation.", "metadata.default.")
_NUM_TYPES = ("int", "float", "duration")


@dataclass
class V:
    """A field's value per span (or per event/link item when ``owner`` is set)."""

    num: np.ndarray | None = None  # float64, NaN: no number
    txt: pa.Array | None = None  # string, null: no text
    bol: np.ndarray | None = None  # int8: -1 none, 0 false, 1 true
    const: Static | None = None
    owner: np.ndarray | None = None  # row of each item (multi-valued scopes)
    array: bool = False  # items are the elements of array attributes: != and !~ hold when no element matches
    enum: str | None = None  # "status" / "kind": the intrinsic's values (text here), the only ones its keywords equal
    ival: np.ndarray | None = None  # int64: the exact integer where ``isint`` (num holds it rounded past 2**53)
    isint: np.ndarray | None = None
    raw: np.ndarray | None = None  # per span, the value as stored (select/by of an array attribute: the list)
    items: tuple | None = None  # (owner, values as stored) of an event/link field whose values include arrays
    lower: np.ndarray | None = None  # per item: ``num`` is only a lower bound (a running trace's traceDuration; NaN:
    # nothing known), the true value at least it and unbounded above
    unknown: np.ndarray | None = None  # per item, of a truth value (``bol``): unknown (a comparison of a lower bound
    # that the bound does not decide): false for a filter, and ``!`` of it unknown too

    def defined(self, n: int) -> np.ndarray:
        d = np.zeros(n, dtype=bool)
        if self.num is not None:
            d |= ~np.isnan(self.num)
        if self.txt is not None:
            d |= _fill(self.txt.is_valid())
        if self.bol is not None:
            d |= self.bol >= 0
        return d


@dataclass
class Result:
    """Matching rows, their spanset codes (None: one spanset per trace, not computed), and extra
    columns (select, by, aggregates)."""

    mask: np.ndarray
    group: np.ndarray | None
    extras: dict


def _fill(a: Any) -> np.ndarray:
    """Arrow boolean (with nulls) -> numpy bool, null as False."""
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks()
    return a.fill_null(False).to_numpy(zero_copy_only=False)


def _pa_text(series: pd.Series) -> pa.Array:
    arr = series.array
    a = arr.__arrow_array__() if hasattr(arr, "__arrow_array__") else pa.array(series.to_numpy(dtype=object), pa.string())
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks()
    if a.type != pa.string():
        a = a.cast(pa.string())
    return a


def _from_values(values: list | np.ndarray) -> V:
    """Python values (None for missing) -> typed channels."""
    s = pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values
    return _from_series(s)


def _from_series(s: pd.Series) -> V:
    dt = s.dtype
    n = len(s)
    if isinstance(dt, pd.StringDtype):
        return V(txt=_pa_text(s))
    if isinstance(dt, pd.Int64Dtype) or dt.kind == "i":
        isint = s.notna().to_numpy(dtype=bool)
        return V(num=s.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan),
                 ival=s.to_numpy(dtype=np.int64, na_value=0), isint=isint)
    if isinstance(dt, (pd.Int64Dtype, pd.Float64Dtype)) or dt.kind in "if":
        return V(num=s.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan))
    if isinstance(dt, pd.BooleanDtype) or dt.kind == "b":
        b = s.astype("boolean")
        return V(bol=np.where(b.isna().to_numpy(), -1, b.fillna(False).to_numpy(dtype=bool)).astype(np.int8))
    vals = s.to_numpy(dtype=object)
    types = {type(v) for v in vals}
    if types <= {type(None)}:
        return V(num=np.full(n, np.nan))
    out = V()
    if types & {int, float}:
        out.num = np.array([_float(v) if type(v) in (int, float) else np.nan for v in vals], dtype=np.float64)
    if int in types:
        out.isint = np.array([type(v) is int and _INT64_MIN <= v <= _INT64_MAX for v in vals], dtype=bool)
        out.ival = np.array([v if ok else 0 for v, ok in zip(vals, out.isint, strict=True)], dtype=np.int64)
    if str in types:
        out.txt = pa.array([v if type(v) is str else None for v in vals], pa.string())
    if bool in types:
        out.bol = np.array([(1 if v else 0) if type(v) is bool else -1 for v in vals], dtype=np.int8)
    return out


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _float(v: int | float) -> float:
    """float(v), an integer past float's range as an infinity (float(10 ** 400) raises OverflowError)."""
    try:
        return float(v)
    except OverflowError:
        return float("inf") if v > 0 else float("-inf")


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def _take(v: V, idx: np.ndarray) -> V:
    if v.const is not None:
        return v
    return V(None if v.num is None else v.num[idx], None if v.txt is None else v.txt.take(pa.array(idx)),
             None if v.bol is None else v.bol[idx], array=v.array, ival=None if v.ival is None else v.ival[idx],
             isint=None if v.isint is None else v.isint[idx], lower=None if v.lower is None else v.lower[idx],
             unknown=None if v.unknown is None else v.unknown[idx])


def _is_list(x: Any) -> bool:
    return isinstance(x, (list, tuple, np.ndarray))


def _from_attr_series(s: pd.Series) -> V:
    """A span attribute column -> channels; where some spans hold arrays (OTLP ``arrayValue``), one item per
    element (a scalar is one item, a missing value none) with the row owning it, as Tempo compares arrays
    element by element."""
    if s.dtype != object:
        return _from_series(s)
    vals = s.to_numpy(dtype=object)
    if not any(map(_is_list, vals)):
        return _from_series(s)
    v = _elements(vals, np.arange(len(vals), dtype=np.int64))
    v.raw = vals
    return v


def _elements(vals: np.ndarray | list, owner: np.ndarray) -> V:
    """Values some of which are arrays -> one item per element (a scalar one item, None none), each owned by
    the row ``owner`` gives its value."""
    lens = np.fromiter((len(x) if _is_list(x) else (x is not None) for x in vals), dtype=np.int64, count=len(vals))
    items = [it for x in vals if x is not None
             for it in (x.tolist() if isinstance(x, np.ndarray) else x if _is_list(x) else (x,))]
    v = _from_values(items)
    v.owner = np.repeat(owner, lens)
    v.array = True
    return v


def hashable(values: np.ndarray) -> np.ndarray:
    """Per span values with arrays as tuples (group keys: by() and metrics labels)."""
    if not any(map(_is_list, values)):
        return values
    out = np.empty(len(values), dtype=object)
    out[:] = [tuple(x) if _is_list(x) else x for x in values]
    return out


def _typed_key(x: Any) -> Any:
    """A value as a group key of its TraceQL type: a boolean, a float and an array tagged as such (in Python
    ``True == 1 == 1.0``, so they fell into one group), an int or a text as it is."""
    if isinstance(x, (bool, np.bool_)):
        return ("bool", bool(x))
    if isinstance(x, (float, np.floating)):
        return ("float", float(x))
    if _is_list(x):
        return ("array", tuple(_typed_key(e) for e in (x.tolist() if isinstance(x, np.ndarray) else x)))
    return x


def group_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per span, the code of its value's group, and the first span of each group: one group per value *of one
    type*, as Tempo's group key is a typed static (``by(span.b)`` put ``b = true``, ``b = 1`` and ``b = 1.0`` in one
    spanset, and a metrics ``by`` counted the three under the label ``True``); None is a group of its own.

    >>> group_codes(np.array([True, 1, 1.0, 1, None], dtype=object))[0].tolist()
    [0, 1, 2, 1, 3]
    """
    keys = np.empty(len(values), dtype=object)
    keys[:] = [_typed_key(x) for x in values]
    codes, uniques = pd.factorize(pd.Series(keys, dtype=object), use_na_sentinel=False)
    first = np.full(len(uniques), -1, dtype=np.int64) if len(values) else np.zeros(0, dtype=np.int64)
    if len(values):
        order = np.arange(len(codes) - 1, -1, -1)
        first[codes[order]] = order  # the last write is the first span
    return codes.astype(np.int64), first


class Evaluator:
    """Evaluates spanset pipelines on one spans frame, reading each column once."""

    def __init__(self, spans: pd.DataFrame, query: str = ""):
        self.spans = spans
        self.n = len(spans)
        self.q = query
        self._tree = None
        self._cache: dict = {}

    # ---------------------------------------------------------------- frame access
    @property
    def tree(self):
        if self._tree is None:
            self._tree = span_tree(self.spans)
        return self._tree

    def _col_text(self, col: str) -> pa.Array:
        key = ("text", col)
        if key not in self._cache:
            if col in self.spans.columns:
                self._cache[key] = _pa_text(self.spans[col])
            else:
                self._cache[key] = pa.nulls(self.n, pa.string())
        return self._cache[key]

    def _ns(self, col: str) -> np.ndarray:
        key = ("ns", col)
        if key not in self._cache:
            self._cache[key] = ns(self.spans[col]) if col in self.spans.columns else np.full(self.n, NAT_NS)
        return self._cache[key]

    def _start_unknown(self) -> np.ndarray:
        """Per span: its start is unknown (:func:`tracekit.core.start_unknown`: OTLP's unset start read as 1970 is
        missing data, not 1970; it gave the span a duration of 56 years)."""
        key = ("start_unknown",)
        if key not in self._cache:
            self._cache[key] = start_unknown(self.spans) if "start" in self.spans.columns else np.ones(self.n, bool)
        return self._cache[key]

    def _duration_ns(self) -> np.ndarray:
        s, e = self._ns("start"), self._ns("end")
        d = (e - s).astype(np.float64)
        d[(e == NAT_NS) | self._start_unknown()] = np.nan
        return d

    def _dict_attr(self, key: str, column: str) -> V:
        ck = ("attr", column, key)
        if ck not in self._cache:
            if column not in self.spans.columns:
                self._cache[ck] = V(num=np.full(self.n, np.nan))
            else:
                s = attribute(self.spans, key, column=column)
                v = _from_attr_series(s)
                if column == "attributes" and not key.startswith(XRAY_PREFIXES) and self._has_xray():
                    # X-Ray annotations answer span.x too, then the default metadata namespace (where the AWS X-Ray
                    # exporters put every attribute not indexed as an annotation: checkout-incident's http.route,
                    # '{ span.http.route != nil }' found 0 of its 29,596 spans)
                    for prefix in XRAY_PREFIXES:
                        missing = s.isna().to_numpy() if v.owner is not None else ~v.defined(self.n)
                        if not missing.any():
                            break
                        ann = attribute(self.spans, prefix + key, column=column)
                        if ann.notna().any():
                            s = s.astype(object).where(~missing, ann.astype(object))
                            s = s.where(s.notna(), None)
                            v = _from_attr_series(pd.Series(s.tolist(), dtype=object))
                self._cache[ck] = v
        return self._cache[ck]

    def _has_xray(self) -> bool:
        if "has_xray" not in self._cache:
            src = self.spans["source"] if "source" in self.spans.columns else None
            self._cache["has_xray"] = src is None or bool((src == "xray").any())
        return self._cache["has_xray"]

    def _exploded(self, column: str) -> tuple[np.ndarray, list]:
        """Items of a list column (events, links) with the row owning each."""
        ck = ("explode", column)
        if ck not in self._cache:
            if column not in self.spans.columns:
                self._cache[ck] = (np.zeros(0, dtype=np.int64), [])
            else:
                lists = self.spans[column].to_numpy(dtype=object)
                lens = np.fromiter((len(x) if isinstance(x, (list, tuple)) else 0 for x in lists), dtype=np.int64,
                                   count=len(lists))
                owner = np.repeat(np.arange(self.n, dtype=np.int64), lens)
                items = [it for x in lists if isinstance(x, (list, tuple)) for it in x]
                self._cache[ck] = (owner, items)
        return self._cache[ck]

    def _item_field(self, column: str, getter) -> V:
        owner, items = self._exploded(column)
        vals = [getter(it) if isinstance(it, dict) else None for it in items]
        if any(map(_is_list, vals)):  # an array attribute of an event/link: its elements, owned by the span
            v = _elements(vals, owner)
            stored = np.empty(len(vals), dtype=object)
            for i, x in enumerate(vals):  # one by one: lists of one length would make a 2-D array
                stored[i] = x
            v.items = (owner, stored)  # select() shows an event's list whole
            return v
        v = _from_values(vals)
        v.owner = owner
        return v

    # ---------------------------------------------------------------- fields
    def field(self, e: Any) -> V:
        if isinstance(e, Static):
            return V(const=e)
        if isinstance(e, Intrinsic):
            return self.intrinsic(e.name)
        if isinstance(e, Attribute):
            return self.attribute(e)
        if isinstance(e, UnOp):
            return self.unop(e)
        if isinstance(e, BinOp):
            return self.binop(e)
        raise TraceQLError(f"cannot evaluate {type(e).__name__}", self.q, getattr(e, "pos", None))

    def intrinsic(self, name: str) -> V:
        ck = ("intrinsic", name)
        if ck in self._cache:
            return self._cache[ck]
        if name in ("name", "status", "kind", "statusMessage", "traceID", "spanID", "parentID"):
            col = {"statusMessage": "status_message", "traceID": "trace_id", "spanID": "span_id",
                   "parentID": "parent_id"}.get(name, name)
            txt = self._col_text(col)
            if name == "statusMessage":  # Tempo keeps the message as a plain string, "" when the span has none (it
                # refuses "statusMessage = nil" as this parser does): a span with no message answered no comparison
                txt = pc.fill_null(txt, "")
            v = V(txt=txt, enum=name if name in ("status", "kind") else None)
        elif name == "duration":
            d = self._duration_ns()
            # a span still running (core.running_ns): it has run at least until its trace's last end so far, a lower
            # bound; comparisons it does not decide are unknown ({ duration > 1s } missed a span hung 30 s so far,
            # and { !(duration > 1s) } kept it). Without a span tree (a span lacking an id), no bound: as before.
            run = np.full(self.n, NAT_NS)
            if np.isnan(d).any() and "start" in self.spans.columns and "end" in self.spans.columns:
                try:
                    run = running_ns(self.spans, self.tree)
                except TraceKitError:
                    pass
            bound = run != NAT_NS
            v = V(num=np.where(bound, run.astype(np.float64), d), lower=bound if bound.any() else None)
        elif name == "traceDuration":
            t = self.tree
            # the kernel's trace extent (core.trace_extent_ns), in int64 nanoseconds (float64 rounds an epoch time to
            # 256 ns: a one-span trace of 100,000,001 ns had a traceDuration of 100 ms); unknown where a span's start
            # is (OTLP's unset start read as 1970 made it 56 years)
            has_times = "start" in self.spans.columns and "end" in self.spans.columns
            ext = trace_extent_ns(self.spans, t)[1] if has_times else np.full(t.n_traces, NAT_NS)
            d = np.where(ext == NAT_NS, np.nan, ext.astype(np.float64))
            # a trace still running (core.trace_in_progress): its extent so far is a lower bound; comparisons it
            # does not decide are unknown (``{ traceDuration < 1s }`` matched a trace running 0.5 s so far)
            running = trace_in_progress(self.spans, t) if has_times else np.zeros(t.n_traces, bool)
            v = V(num=d[t.trace], lower=running[t.trace] if running.any() else None)
        elif name in ("rootName", "rootServiceName"):
            t = self.tree
            col = self._col_text("name" if name == "rootName" else "service")
            root = t.request_root[t.trace]
            idx = pa.array(np.where(root >= 0, root, 0))
            v = V(txt=pc.if_else(pa.array(root >= 0), col.take(idx), pa.scalar(None, pa.string())))
        elif name == "childCount":
            p = self.tree.parent
            v = V(num=np.bincount(p[p >= 0], minlength=self.n).astype(np.float64))
        elif name in ("nestedSetLeft", "nestedSetRight", "nestedSetParent"):
            x = self._nested_set()[("nestedSetLeft", "nestedSetRight", "nestedSetParent").index(name)]
            v = V(num=x.astype(np.float64))
        elif name in ("instrumentationName", "instrumentationVersion"):
            v = self._dict_attr("otel.scope." + ("name" if name.endswith("Name") else "version"), "resource")
        elif name == "eventName":
            v = self._item_field("events", lambda it: it.get("name"))
        elif name == "eventTimeSinceStart":
            start = self._ns("start")
            owner, items = self._exploded("events")
            times = [it.get("time") if isinstance(it, dict) else None for it in items]
            # event time - span start exactly (Python integers), then float: not two rounded epoch times
            known = ~self._start_unknown()[owner]  # no start, no time since it
            v = V(num=np.array([float(tt - s) if _is_number(tt) and k else np.nan for tt, s, k in
                                zip(times, start[owner].tolist(), known.tolist(), strict=True)], dtype=np.float64),
                  owner=owner)
        elif name == "linkTraceID":
            v = self._item_field("links", lambda it: it.get("trace_id"))
        elif name == "linkSpanID":
            v = self._item_field("links", lambda it: it.get("span_id"))
        else:
            raise TraceQLError(f"{name} is not supported", self.q, None)
        self._cache[ck] = v
        return v

    def _nested_set(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Tempo's nested-set numbers (vparquet4 ``assignNestedSetModelBoundsAndServiceStats``), per trace: one
        counter from 1, a span's left taken on the way down and its right on the way up, roots and children in
        row order; a span's parent is its parent's left, -1 for a root. Spans under no root (an orphan's fragment,
        a parent cycle) Tempo leaves unnumbered: 0, 0, 0.

        From the kernel's pre-order ``p`` (within the trace), depth ``d`` and subtree size ``k``: left = 2p - d + 1,
        right = 2p + 2k - d. (The pre-order numbers of the frame were given before: a trace's root was numbered
        after every span of the traces before it, so ``{ nestedSetLeft = 1 }`` found one root of the frame.)

        A trace with a duplicated span id is numbered by Tempo's own walk (:func:`_tempo_nested_set`), not by the
        kernel's tree (which links children to the first copy): Tempo takes two copies for a Zipkin client/server
        pair and picks a child's parent copy by kind, and leaves a trace holding three copies of an id unnumbered."""
        key = ("nested_set",)
        if key not in self._cache:
            t = self.tree
            left, right = t.intervals()
            ok = left >= 0
            tops = np.flatnonzero(ok & (t.parent < 0))
            tops = tops[np.argsort(left[tops])]
            top = tops[np.maximum(np.searchsorted(left[tops], left, side="right") - 1, 0)] if len(tops) else left
            numbered = ok & ~t.has_parent_id[top] if len(tops) else ok
            rows = np.flatnonzero(numbered)
            rows = rows[np.lexsort((left[rows], t.trace[rows]))]
            first = np.r_[True, t.trace[rows][1:] != t.trace[rows][:-1]] if len(rows) else np.zeros(0, dtype=bool)
            pos = np.arange(len(rows))
            pre = np.zeros(self.n, dtype=np.int64)
            pre[rows] = pos - np.maximum.accumulate(np.where(first, pos, 0))
            d, k = t.depth, right - left + 1
            lo = np.where(numbered, 2 * pre - d + 1, 0)
            hi = np.where(numbered, 2 * pre + 2 * k - d, 0)
            par = np.where(numbered, np.where(t.parent >= 0, lo[np.maximum(t.parent, 0)], -1), 0)
            if t.duplicated.any():  # Tempo links a duplicated id's children its own way: those traces by its walk
                kind = self._col_text("kind").to_numpy(zero_copy_only=False)
                sid = self.spans["span_id"].to_numpy(dtype=object)
                pid = self.spans["parent_id"].to_numpy(dtype=object, na_value=None) if "parent_id" in self.spans.columns \
                    else np.full(self.n, None, dtype=object)
                rows = np.flatnonzero(np.isin(t.trace, np.unique(t.trace[t.duplicated])))
                rows = rows[np.argsort(t.trace[rows], kind="stable")]
                cut = np.flatnonzero(np.diff(t.trace[rows])) + 1
                for tr in np.split(rows, cut):
                    lo[tr], hi[tr], par[tr] = _tempo_nested_set(tr.tolist(), sid, pid, t.has_parent_id, kind)
            self._cache[key] = (lo, hi, par)
        return self._cache[key]

    def attribute(self, a: Attribute) -> V:
        if a.scope == "resource":
            if a.name == "service.name":
                return V(txt=self._col_text("service"))
            return self._dict_attr(a.name, "resource")
        if a.scope == "span":
            return self._dict_attr(a.name, "attributes")
        if a.scope == "instrumentation":
            return self._dict_attr("otel.scope.attr." + a.name, "resource")
        if a.scope in ("event", "link"):
            col = "events" if a.scope == "event" else "links"
            key = a.name
            return self._item_field(col, lambda it: (it.get("attributes") or {}).get(key)
                                    if isinstance(it.get("attributes"), dict) else None)
        ck = ("unscoped", a.name)
        if ck not in self._cache:
            sv = self._dict_attr(a.name, "attributes")
            rv = V(txt=self._col_text("service")) if a.name == "service.name" else self._dict_attr(a.name, "resource")
            if sv.owner is not None or rv.owner is not None:  # an array on either side: span value, else resource's
                sraw, rraw = self._raw(sv), self._raw(rv)
                miss = np.fromiter((x is None for x in sraw), dtype=bool, count=self.n)
                if miss.any():
                    merged = sraw.copy()
                    merged[miss] = rraw[miss]
                    sv = _from_attr_series(pd.Series(merged, dtype=object))
            else:
                miss = ~sv.defined(self.n)
                if miss.any() and rv.defined(self.n).any():
                    sv = _coalesce(sv, rv, miss, self.n)
            self._cache[ck] = sv
        return self._cache[ck]

    def _raw(self, v: V) -> np.ndarray:
        """Per span, the value as stored (None where absent)."""
        return v.raw if v.raw is not None else as_objects(v, self.n)

    # ---------------------------------------------------------------- operators
    def unop(self, e: UnOp) -> V:
        x = self.field(e.x)
        if e.op in ("exists", "notexists"):
            d = self._reduce_any(x, x.defined(self._len(x)))
            return V(bol=(d if e.op == "exists" else ~d).astype(np.int8))
        if x.const is not None:
            c = x.const
            return V(const=Static(c.type, (-c.value) if e.op == "-" else (not c.value), c.pos))
        if e.op == "-":
            ival = isint = None
            if x.ival is not None:  # -minInt is no int64: that one stays a float
                isint = x.isint & (x.ival != _INT64_MIN)
                ival = np.where(isint, -x.ival, 0)
            num = None if x.num is None else -x.num
            if x.lower is not None and num is not None:  # minus a lower bound bounds nothing from below
                num = np.where(x.lower, np.nan, num)
            return V(num=num, owner=x.owner, array=x.array, ival=ival, isint=isint, lower=x.lower)
        b, u = self._truth(x), self._unknown(x)
        return V(bol=(~b & ~u).astype(np.int8), unknown=u if u.any() else None)

    def _len(self, v: V) -> int:
        return len(v.owner) if v.owner is not None else self.n

    def _reduce_any(self, v: V, item_mask: np.ndarray) -> np.ndarray:
        if v.owner is None:
            return item_mask
        return np.bincount(v.owner[item_mask], minlength=self.n) > 0

    def _truth(self, v: V) -> np.ndarray:
        """Per span: the value is boolean true (an event/link scope: for one of its items)."""
        if v.const is not None:
            return np.full(self.n, v.const.type == "bool" and bool(v.const.value))
        m = (v.bol == 1) if v.bol is not None else np.zeros(self._len(v), dtype=bool)
        return self._reduce_any(v, m)

    def _unknown(self, v: V) -> np.ndarray:
        """Per span: the truth value is unknown (:attr:`V.unknown`; an event/link scope: for some item, and true
        for none)."""
        if v.unknown is None or v.const is not None:
            return np.zeros(self.n, dtype=bool)
        return self._reduce_any(v, v.unknown) & ~self._truth(v)

    def _align(self, a: V, b: V) -> tuple[V, V, np.ndarray | None]:
        """Bring a span-level and an item-level value onto the items."""
        if a.owner is not None and b.owner is not None and a.owner is not b.owner:
            raise TraceQLError("comparing two multi-valued fields (events, links or arrays) with each other is not "
                               "supported", self.q, None)
        owner = a.owner if a.owner is not None else b.owner
        if owner is None:
            return a, b, None
        if a.owner is None:
            a = _take(a, owner)
        if b.owner is None:
            b = _take(b, owner)
        return a, b, owner

    def binop(self, e: BinOp) -> V:
        op = e.op
        if op in ("&&", "||"):  # Kleene's: false && unknown is false, true || unknown true
            fa, fb = self.field(e.lhs), self.field(e.rhs)
            x, y = self._truth(fa), self._truth(fb)
            ux, uy = self._unknown(fa), self._unknown(fb)
            if op == "&&":
                r = x & y
                u = ~r & ~((~x & ~ux) | (~y & ~uy))
            else:
                r = x | y
                u = ~r & (ux | uy)
            return V(bol=r.astype(np.int8), unknown=u if u.any() else None)
        a, b = self.field(e.lhs), self.field(e.rhs)
        if a.const is not None and b.const is not None:
            return V(const=_const_op(op, a.const, b.const, self.q, e.pos))
        array = a.array or b.array
        a, b, owner = self._align(a, b)
        m = len(owner) if owner is not None else self.n
        if op in ("+", "-", "*", "/", "%", "^"):
            x, y = _num(a, m), _num(b, m)
            with np.errstate(all="ignore"):
                r = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "%": np.fmod,
                     "^": np.power}[op](x, y)
            lower = _arith_lower(op, x, y, _lower(a, m), _lower(b, m))
            if lower is not None:
                r = np.where(lower[1], r, np.nan)  # a bound where it still is one, else nothing known
                lower = lower[0]
            return V(num=r, owner=owner, array=array, lower=lower)
        if op in ("=~", "!~"):
            txt = a.txt if a.const is None else None
            if txt is None:
                res = np.zeros(m, dtype=bool)
            else:
                hit = pc.match_substring_regex(txt, anchored_regex(b.const.value))
                if array and op == "!~":  # an array matches !~ when it has text and no element matches
                    has = self._reduce_any(a, _fill(txt.is_valid()))
                    return V(bol=(has & ~self._reduce_any(a, _fill(hit))).astype(np.int8))
                res = _fill(hit) if op == "=~" else _fill(pc.invert(hit))
            return V(bol=res.astype(np.int8), owner=owner)
        for c, other in ((a, b), (b, a)):  # Tempo: a status or kind keyword matches only that intrinsic, never
            # an attribute's text ({ span.outcome = error } and != are false on outcome = "error", "ok"...)
            if c.const is not None and c.const.type in ("status", "kind") and other.enum != c.const.type:
                return V(bol=np.zeros(m, dtype=np.int8), owner=owner)
        cmp_op = "=" if array and op == "!=" else op
        unknown = None
        res = np.zeros(m, dtype=bool)
        has = np.zeros(m, dtype=bool)
        for ch in ("num", "txt", "bol"):
            x, y = _channel(a, ch, m), _channel(b, ch, m)
            if x is None or y is None:
                continue
            r = _compare(cmp_op, x, y, ch)
            if ch == "num":  # two integers compare exactly (float64 holds integers only up to 2**53)
                xi, yi = _ints(a), _ints(b)
                if xi is not None and yi is not None:
                    both = xi[1] & yi[1]
                    if np.any(both):
                        r = np.where(both, _compare(cmp_op, xi[0], yi[0], "int"), r)
            if ch == "num" and (a.lower is not None or b.lower is not None):
                r, unknown = _bound_compare(cmp_op, np.broadcast_to(np.asarray(x, np.float64), (m,)),
                                            np.broadcast_to(np.asarray(y, np.float64), (m,)), _lower(a, m),
                                            _lower(b, m), r)
            res |= r
            if cmp_op != op:
                has |= _both_defined(x, y, ch, m)
        if cmp_op != op:  # an array is != a value when it holds a value of that type and no element equals it
            v = a if a.owner is not None else b
            return V(bol=(self._reduce_any(v, has) & ~self._reduce_any(v, res)).astype(np.int8))
        for side in (a, b):  # a truth value that is unknown compares as unknown ((traceDuration > 1s) = false held
            # on a trace running 0.5 s so far)
            if side.const is None and side.unknown is not None:
                res = res & ~side.unknown
                unknown = side.unknown if unknown is None else unknown | side.unknown
        return V(bol=res.astype(np.int8), owner=owner, unknown=unknown)

    # ---------------------------------------------------------------- spansets
    def filter_mask(self, f: Filter, domain: np.ndarray) -> np.ndarray:
        v = self.field(f.expr)
        return self._truth(v) & domain

    def spanset(self, node: Any, domain: np.ndarray, extras: dict, group: np.ndarray | None = None) -> np.ndarray:
        """Rows of ``node`` within ``domain``; ``group``: spanset code per row after ``by()`` (None: the
        trace), every spanset evaluated on its own as in Tempo."""
        if isinstance(node, Filter):
            return self.filter_mask(node, domain)
        if isinstance(node, Pipeline):
            r = self.pipeline(node, domain, extras, group)
            return r.mask
        if isinstance(node, SpansetOp):
            a = self.spanset(node.lhs, domain, extras, group)
            b = self.spanset(node.rhs, domain, extras, group)
            return self.spanset_op(node.op, a, b, group)
        raise TraceQLError(f"cannot evaluate {type(node).__name__} as a spanset", self.q, getattr(node, "pos", None))

    def spanset_op(self, op: str, a: np.ndarray, b: np.ndarray, group: np.ndarray | None = None) -> np.ndarray:
        """``a op b`` per spanset: with ``group`` (``by()``'s spanset codes) a relation holds only between
        rows of one spanset, as Tempo evaluates each spanset alone; without it, within the trace."""
        if op == "||":
            return a | b
        t = self.tree
        if op == "&&":
            if group is None:
                both = (t.per_trace(a) > 0) & (t.per_trace(b) > 0)
                return (a | b) & both[t.trace]
            ng = int(group.max()) + 1 if len(group) else 0
            both = (np.bincount(group[a], minlength=ng) > 0) & (np.bincount(group[b], minlength=ng) > 0)
            return (a | b) & both[group]
        union = op.startswith("&")
        negate = op.startswith("!")
        rel = op.lstrip("&!")
        fwd, back = _RELATIONS[rel]
        related = getattr(self, fwd)(a, group)
        r = b & (~related if negate else related)
        if union:
            r |= a & getattr(self, back)(b, group)
        return r

    # relations: which rows stand in the relation to some row of x (of the row's own spanset when group is given)
    def child_of(self, x: np.ndarray, group: np.ndarray | None = None) -> np.ndarray:
        p = self.tree.parent
        pp = np.maximum(p, 0)
        r = (p >= 0) & x[pp]
        return r if group is None else r & (group[pp] == group)

    def parent_of(self, x: np.ndarray, group: np.ndarray | None = None) -> np.ndarray:
        p = self.tree.parent
        sel = x & (p >= 0)
        if group is not None:
            sel &= group[np.maximum(p, 0)] == group
        return np.bincount(p[sel], minlength=self.n) > 0

    def sibling_of(self, x: np.ndarray, group: np.ndarray | None = None) -> np.ndarray:
        p = self.tree.parent
        has = p >= 0
        if group is None:
            key = np.maximum(p, 0)
        else:  # siblings of one spanset: (parent, spanset) pairs
            key = pd.factorize(np.maximum(p, 0) * np.int64(int(group.max(initial=0)) + 1) + group)[0]
        cnt = np.bincount(key[x & has], minlength=self.n)
        return has & ((cnt[key] - x) > 0)

    def descendant_of(self, x: np.ndarray, group: np.ndarray | None = None) -> np.ndarray:
        left, right = self.tree.intervals()
        ok = left >= 0
        xs = x & ok
        if group is not None:  # an interval cover per spanset: positions group * (n + 1) + pre-order number
            base = group.astype(np.int64) * np.int64(self.n + 1)
            pos = np.concatenate([base[xs] + left[xs] + 1, base[xs] + right[xs] + 1])
            w = np.concatenate([np.ones(int(xs.sum()), np.int64), -np.ones(int(xs.sum()), np.int64)])
            o = np.argsort(pos, kind="stable")
            pos, cs = pos[o], np.cumsum(w[o])
            at = np.searchsorted(pos, base + left, side="right") - 1
            return ok & (np.where(at >= 0, cs[np.maximum(at, 0)] if len(cs) else 0, 0) > 0)
        size = int(right.max(initial=-1)) + 2
        diff = np.bincount(left[xs] + 1, minlength=size + 1)[: size + 1] - np.bincount(right[xs] + 1, minlength=size + 1)[: size + 1]
        cover = np.cumsum(diff)
        return ok & (cover[np.maximum(left, 0)] > 0)

    def ancestor_of(self, x: np.ndarray, group: np.ndarray | None = None) -> np.ndarray:
        if group is None:
            return self.tree.below(x)
        left, right = self.tree.intervals()
        ok = left >= 0
        xs = x & ok
        base = group.astype(np.int64) * np.int64(self.n + 1)
        marked = np.sort(base[xs] + left[xs])  # an x row of the spanset numbered in (left, right]
        lo = np.searchsorted(marked, base + left, side="right")
        hi = np.searchsorted(marked, base + right, side="right")
        return ok & (hi > lo)

    def pipeline(self, p: Pipeline, domain: np.ndarray, extras: dict, outer: np.ndarray | None = None) -> Result:
        mask = domain.copy()
        # spanset code per row: the trace (built only when a stage needs it), then by()'s; a pipeline inside a
        # grouped one starts from its spansets (``outer``)
        group = None if outer is None else outer.copy()
        grouped = outer is not None
        for st in p.stages:
            if group is None and isinstance(st, (ScalarFilter, GroupBy)):
                group = self.tree.trace.copy()
            if isinstance(st, (Filter, SpansetOp, Pipeline)):
                mask = self.spanset(st, mask, extras, group if grouped else None)
            elif isinstance(st, ScalarFilter):
                val = self.aggregate(st.agg, mask, group)
                with np.errstate(invalid="ignore"):
                    keep = _compare(st.op, val, np.float64(st.value.value), "num")
                mask = mask & keep[group]
                # count() is a number of spans: an int64 column, as Tempo's StaticInt (it was 3.0)
                extras[st.agg.text] = val[group].astype(np.int64) if st.agg.fn == "count" else val[group]
            elif isinstance(st, GroupBy):
                v = self.field(st.expr)
                if v.owner is not None and v.raw is None:
                    raise TraceQLError("by() on an event or link field is not supported", self.q, st.pos)
                vals = as_objects(v, self.n)
                codes = group_codes(vals)[0]
                group = pd.factorize(pd.MultiIndex.from_arrays([group, codes]))[0].astype(np.int64) if self.n else group
                grouped = True
                extras[st.text] = vals
                extras["spanset"] = group
            elif isinstance(st, Coalesce):
                group = self.tree.trace.copy()
                grouped = False
                extras.pop("spanset", None)
            elif isinstance(st, Select):
                for f in st.fields:
                    v = self.field(f)
                    extras[f.text] = as_objects(v, self.n)
        return Result(mask, group, extras)

    def aggregate(self, agg: Aggregate, mask: np.ndarray, group: np.ndarray) -> np.ndarray:
        """Per spanset code: the aggregate over the rows in ``mask``."""
        ng = int(group.max()) + 1 if len(group) else 0
        g = group[mask]
        if agg.fn == "count":
            return np.bincount(g, minlength=ng).astype(np.float64)
        v = self.field(agg.expr)
        if v.const is not None:
            x = np.full(self.n, float(v.const.value))
        else:
            if v.owner is not None:
                raise TraceQLError("aggregating an event, link or array field is not supported", self.q, agg.pos)
            x = known_numbers(v, self.n)
        x = x[mask]
        s = pd.Series(x).groupby(g)
        out = {"sum": s.sum, "avg": s.mean, "min": s.min, "max": s.max}[agg.fn]()
        if agg.fn == "sum":  # a spanset with no value has no sum
            out = out.where(s.count() > 0)
        return out.reindex(range(ng)).to_numpy(dtype=np.float64)

    def run(self, p: Pipeline) -> Result:
        return self.pipeline(p, np.ones(self.n, dtype=bool), {})


_RELATIONS = {  # operator -> (rows related to the left side, the left rows related back)
    ">": ("child_of", "parent_of"),
    "<": ("parent_of", "child_of"),
    ">>": ("descendant_of", "ancestor_of"),
    "<<": ("ancestor_of", "descendant_of"),
    "~": ("sibling_of", "sibling_of"),
}


def _tempo_nested_set(rows: list, sid: np.ndarray, pid: np.ndarray, has_pid: np.ndarray,
                      kind: np.ndarray) -> tuple[list, list, list]:
    """Tempo's nested-set numbers (left, right, parent) of one trace's ``rows`` (in row order), as vparquet4's
    ``assignNestedSetModelBoundsAndServiceStats`` gives them, duplicated span ids included: an id held by three
    spans or more leaves the whole trace unnumbered (0, 0, 0), as does a trace with no root; a child whose
    parent id two spans hold (a Zipkin client/server pair sharing an id) takes the copy of kind client if it is
    a server span, else the copy of kind server, and no parent when neither copy has that kind
    (``findParentNodeInMap``); roots (no parent id) and children are walked in row order, spans under no root
    stay 0. Iterative: any depth."""
    zeros = [0] * len(rows)
    by_id: dict = {}
    for r in rows:
        by_id.setdefault(sid[r], []).append(r)
    roots = [r for r in rows if not has_pid[r]]
    if not roots or any(len(c) > 2 for c in by_id.values()):
        return zeros, list(zeros), list(zeros)
    children: dict = {r: [] for r in rows}
    for r in rows:
        if not has_pid[r]:
            continue
        copies = by_id.get(pid[r], ())
        p = None
        if len(copies) == 1:
            p = copies[0]
        elif len(copies) == 2:
            want = "client" if kind[r] == "server" else "server"
            p = next((c for c in copies if kind[c] == want), None)
        if p is not None:
            children[p].append(r)
    left, right, parent = dict.fromkeys(rows, 0), dict.fromkeys(rows, 0), dict.fromkeys(rows, 0)
    bound = 1
    for root in roots:
        left[root], parent[root] = bound, -1
        bound += 1
        stack = [(root, iter(children[root]))]
        while stack:
            node, kids = stack[-1]
            nxt = next(kids, None)
            if nxt is not None:
                left[nxt], parent[nxt] = bound, left[node]
                bound += 1
                stack.append((nxt, iter(children[nxt])))
            else:
                right[node] = bound
                bound += 1
                stack.pop()
    return [left[r] for r in rows], [right[r] for r in rows], [parent[r] for r in rows]


def _lower(v: V, m: int) -> np.ndarray | None:
    """Per item: the value is only a lower bound (:attr:`V.lower`), or None when nowhere."""
    if v.const is not None or v.lower is None or not v.lower.any():
        return None
    return v.lower


def _arith_lower(op: str, x: np.ndarray, y: np.ndarray, lx: np.ndarray | None,
                 ly: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
    """Where ``x op y`` is a lower bound (an operand is one), and where it still bounds the result from below:
    a bound plus a value or a bound; a bound minus a value; a bound times (divided by) a value at least 0 (more
    than 0), both factors at least 0 for two bounds. Elsewhere nothing is known. None when no operand is a bound."""
    if lx is None and ly is None:
        return None
    m = len(x) if np.ndim(x) else len(lx if lx is not None else ly)
    lx = np.zeros(m, bool) if lx is None else lx
    ly = np.zeros(m, bool) if ly is None else ly
    bound = lx | ly
    with np.errstate(invalid="ignore"):
        if op == "+":
            ok = bound
        elif op == "-":
            ok = lx & ~ly
        elif op == "*":
            ok = (lx & ~ly & (y >= 0)) | (ly & ~lx & (x >= 0)) | (lx & ly & (x >= 0) & (y >= 0))
        elif op == "/":
            ok = lx & ~ly & (y > 0)
        else:
            ok = np.zeros(m, bool)
    return bound, ~bound | ok


#: ``x op y`` read as ``y flipped(op) x``
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}


def _bound_compare(op: str, x: np.ndarray, y: np.ndarray, lx: np.ndarray | None, ly: np.ndarray | None,
                   exact: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x op y`` where a side may be only a lower bound (the true value at least it, unbounded above): (true,
    unknown) per item. Against an exact value the bound decides ``>``, ``>=`` and ``!=`` true when it passes the
    value (every larger value does too), ``<``, ``<=`` and ``=`` false when it passes the value; anything else,
    or two bounds, or a bound of nothing (NaN), is unknown. A missing exact value stays false (no comparison)."""
    m = len(exact)
    lx = np.zeros(m, bool) if lx is None else lx
    ly = np.zeros(m, bool) if ly is None else ly
    res = np.where(lx | ly, False, exact)
    with np.errstate(invalid="ignore"):
        one = lx ^ ly
        bound, value = np.where(lx, x, y), np.where(lx, y, x)
        o = np.array([op, _FLIP[op]])[ly.astype(np.int64)]  # the operator with the bound on its left
        known = ~np.isnan(bound)
        up = np.isin(o, (">", ">=", "!="))
        passes = np.where(o == ">=", bound >= value, np.where(o == "<", bound >= value, bound > value))
        sure_true = one & known & up & passes
        sure_false = one & known & ~up & passes
        res = res | sure_true
        unknown = (lx | ly) & ~sure_true & ~sure_false & ~np.isnan(value)
        unknown |= lx & ly  # two bounds: nothing decided (a missing value is no comparison either way)
    return res, unknown


def _coalesce(sv: V, rv: V, miss: np.ndarray, n: int) -> V:
    """Span value where defined, else resource value."""
    out = V()
    for ch in ("num", "txt", "bol"):
        x, y = getattr(sv, ch), getattr(rv, ch)
        if x is None and y is None:
            continue
        if ch == "num":
            x = np.full(n, np.nan) if x is None else x
            out.num = np.where(miss & (y is not None), np.full(n, np.nan) if y is None else y, x)
            if sv.ival is not None or rv.ival is not None:
                si, ri = (sv.ival, sv.isint) if sv.ival is not None else (np.zeros(n, np.int64), np.zeros(n, bool)), \
                    (rv.ival, rv.isint) if rv.ival is not None else (np.zeros(n, np.int64), np.zeros(n, bool))
                out.ival, out.isint = np.where(miss, ri[0], si[0]), np.where(miss, ri[1], si[1])
        elif ch == "bol":
            x = np.full(n, -1, np.int8) if x is None else x
            out.bol = np.where(miss, np.full(n, -1, np.int8) if y is None else y, x).astype(np.int8)
        else:
            x = pa.nulls(n, pa.string()) if x is None else x
            y = pa.nulls(n, pa.string()) if y is None else y
            out.txt = pc.if_else(pa.array(miss), y, x)
    return out


def _num(v: V, m: int) -> np.ndarray:
    if v.const is not None:
        c = v.const
        return np.full(m, float(c.value) if c.type in _NUM_TYPES else np.nan)
    return v.num if v.num is not None else np.full(m, np.nan)


def _ints(v: V) -> tuple | None:
    """(int64 values, where exact) of a value, or None when it holds no integers."""
    if v.const is not None:
        return (np.int64(v.const.value), np.bool_(True)) if v.const.type == "int" else None
    return None if v.ival is None else (v.ival, v.isint)


def _channel(v: V, ch: str, m: int) -> Any:
    if v.const is not None:
        c = v.const
        if ch == "num" and c.type in _NUM_TYPES:
            return np.float64(c.value)
        if ch == "txt" and c.type in ("string", "status", "kind"):
            return pa.scalar(c.value, pa.string())
        if ch == "bol" and c.type == "bool":
            return np.int8(1 if c.value else 0)
        return None
    return getattr(v, ch)


def _both_defined(x: Any, y: Any, ch: str, m: int) -> np.ndarray:
    """Where both sides hold a value in channel ``ch`` (``m`` items)."""
    out = np.ones(m, dtype=bool)
    for z in (x, y):
        if ch == "txt":
            if isinstance(z, pa.Scalar):
                out &= z.is_valid
            else:
                out &= _fill(z.is_valid())
        elif ch == "bol":
            out &= np.asarray(z) >= 0
        else:
            out &= ~np.isnan(np.asarray(z, dtype=np.float64))
    return out


def _compare(op: str, x: Any, y: Any, ch: str) -> np.ndarray:
    if ch == "txt":
        f = {"=": pc.equal, "!=": pc.not_equal, "<": pc.less, "<=": pc.less_equal, ">": pc.greater,
             ">=": pc.greater_equal}[op]
        return _fill(f(x, y))
    with np.errstate(invalid="ignore"):
        if ch == "bol":
            ok = (np.asarray(x) >= 0) & (np.asarray(y) >= 0)
        elif ch == "int":
            ok = np.True_
        else:
            ok = ~np.isnan(x) & ~np.isnan(y)
        r = {"=": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal, ">": np.greater,
             ">=": np.greater_equal}[op](x, y)
    return np.asarray(r & ok, dtype=bool) if np.ndim(r) else np.full(len(ok) if np.ndim(ok) else 1, bool(r and ok))


def _const_op(op: str, a: Static, b: Static, q: str, pos: int) -> Static:
    if op in ("+", "-", "*", "/", "%", "^"):
        x, y = np.float64(a.value), np.float64(b.value)  # float64 arithmetic: an overflow is inf, as in Go
        with np.errstate(all="ignore"):
            v = float({"+": x + y, "-": x - y, "*": x * y, "/": x / y if y else np.nan,
                       "%": np.fmod(x, y) if y else np.nan, "^": x ** y if x or y >= 0 else np.nan}[op])
        return Static("float", v, a.pos)
    if op in ("=~", "!~"):
        hit = bool(_fill(pc.match_substring_regex(pa.array([str(a.value)], pa.string()), anchored_regex(b.value)))[0])
        return Static("bool", hit if op == "=~" else not hit, a.pos)
    x, y = a.value, b.value
    if (a.type in _NUM_TYPES) != (b.type in _NUM_TYPES):
        return Static("bool", False, a.pos)
    r = {"=": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]
    return Static("bool", bool(r), a.pos)


def known_numbers(v: V, n: int) -> np.ndarray:
    """Per item, the number a value holds, NaN where it holds none or only a lower bound (:attr:`V.lower`: a running
    span's or trace's duration so far): what an aggregate, a selection and a metrics function read."""
    x = v.num if v.num is not None else np.full(n, np.nan)
    return np.where(v.lower, np.nan, x) if v.lower is not None else x


def as_objects(v: V, n: int) -> np.ndarray:
    """Per span, the value as a Python object (None when absent; an array attribute's list as stored). An
    event/link field gives the value of the span's last event (link) that has one, as Tempo's engine does:
    its span keeps the events' attributes in order and answers a selection from a map filled in that order
    (vparquet4 ``span.AllAttributes``), so a later event's value overwrites an earlier one's."""
    if v.raw is not None:
        return v.raw
    if v.const is not None:
        out = np.empty(n, dtype=object)
        out[:] = [v.const.value] * n
        return out
    if v.items is not None:
        return _last_per_owner(v.items[0], v.items[1], n)
    m = len(v.owner) if v.owner is not None else n
    out = np.full(m, None, dtype=object)
    if v.num is not None:
        num = known_numbers(v, m)
        has = ~np.isnan(num)
        nums = num[has]
        out[has] = [int(x) if float(x).is_integer() else float(x) for x in nums.tolist()]
        if v.ival is not None:  # integers as stored, not rounded through float64
            exact = v.isint & has
            out[exact] = v.ival[exact].tolist()
    if v.bol is not None:
        has = v.bol >= 0
        if v.unknown is not None:  # an unknown truth value is none (by(traceDuration > 1s) grouped it with false)
            has &= ~v.unknown
        out[has] = v.bol[has].astype(bool).tolist()
    if v.txt is not None:
        t = np.asarray(v.txt.to_numpy(zero_copy_only=False), dtype=object)
        has = _fill(v.txt.is_valid())
        out[has] = t[has]
    if v.owner is not None:
        return _last_per_owner(v.owner, out, n)
    return out


def _last_per_owner(owner: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per span (``n``), the last of its items' values (in item order) that is not None; None where it has none."""
    out = np.full(n, None, dtype=object)
    has = np.flatnonzero(np.fromiter((x is not None for x in values), dtype=bool, count=len(values)))
    if len(has):
        rev = has[::-1]
        spans_, first = np.unique(owner[rev], return_index=True)  # the first in reverse: the last in item order
        for s_, i in zip(spans_.tolist(), rev[first].tolist(), strict=True):
            out[s_] = values[i]
    return out
