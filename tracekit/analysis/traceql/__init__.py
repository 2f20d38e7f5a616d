"""TraceQL (Grafana Tempo's query language) on the spans frame: :func:`traceql`, :func:`traceql_metrics`.

The language is Tempo's (docs/sources/tempo/traceql in github:grafana/tempo): spanset filters
``{ ... }`` on intrinsics (``name``, ``status``, ``statusMessage``, ``kind``, ``duration``,
``traceDuration``, ``rootName``, ``rootServiceName``, scoped ``span:`` / ``trace:`` / ``event:`` /
``link:`` / ``instrumentation:`` forms) and attributes (``.x``, ``span.x``, ``resource.x``,
``event.x``, ``link.x``, ``instrumentation.x``, quoted names ``."a b"``); comparisons,
arithmetic, regexes (``=~``/``!~``, fully anchored, ``.`` matching newlines, RE2 syntax); spanset ``&&``/``||``;
structural ``>`` ``>>`` ``<`` ``<<`` ``~``, negated (``!>``...) and union (``&>``...) forms;
pipelines with ``count() avg() min() max() sum()`` filters, ``by()``, ``select()``,
``coalesce()``; metrics (``rate``, ``count_over_time``, ``min/max/avg/sum_over_time``,
``quantile_over_time``, ``histogram_over_time``, ``by``, ``topk``/``bottomk``, comparisons and
arithmetic on series); query hints ``with(...)`` are accepted and ignored.

Modules: :mod:`.grammar` (lark grammar), :mod:`.parse` (checked syntax tree, errors),
:mod:`.evaluate` (column masks and span-tree intervals), :mod:`.metrics` (time series).

>>> import tracekit as tk
>>> spans = tk.examples.load("checkout-small-otlp")
>>> slow = tk.traceql(spans, '{ resource.service.name = "frontend" && duration > 100ms }')
>>> set(slow["service"]), bool((slow["duration_ms"] > 100).all())
({'frontend'}, True)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.frame import require_columns
from ...errors import ArgumentError, TraceQLError
from .evaluate import Evaluator
from .parse import Query, parse

__all__ = ["traceql", "traceql_metrics", "traceql_mask", "is_traceql", "parse", "Query"]

_NEEDED = ["trace_id", "span_id", "parent_id"]
#: intrinsics read from the frame's column of the same name: selecting or grouping by them adds no column (writing
#: their values back as objects made the result fail the spans schema: 'name' of dtype object, expected string)
_OWN_COLUMN = frozenset({"name", "status", "kind"})


def is_traceql(value: object) -> bool:
    """Whether an analysis's selection argument is a TraceQL query (a string starting with ``{`` or
    ``(``: no span id, trace id, service or operation name a selector names starts so).

    Examples
    --------
    >>> is_traceql("{ status = error }"), is_traceql("payments:POST /charge"), is_traceql(["{"])
    (True, False, False)
    """
    return isinstance(value, str) and value.lstrip()[:1] in ("{", "(")


def traceql_mask(spans: pd.DataFrame, query: str | Query) -> tuple[np.ndarray, dict]:
    """The rows of ``spans`` a spanset query selects, as a boolean mask, with its extra columns.

    For analyses that take a selection: the mask is positional (one entry per row of
    ``spans``); the dict holds the ``select``/``by``/aggregate values per row.

    Parameters
    ----------
    spans : DataFrame
        Spans in the canonical schema.
    query : str or Query
        A TraceQL spanset query (not a metrics query).

    Returns
    -------
    (ndarray of bool, dict)
        The mask and the extra columns (name -> per-row array).

    Raises
    ------
    TraceQLError
        When the query cannot be parsed, is not supported, or is a metrics query.
    ArgumentError
        When a text the query reads is not Unicode (a lone surrogate in a hand-made frame).

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.examples.load("checkout-small")
    >>> mask, _ = traceql_mask(spans, "{ status = error }")
    >>> int(mask.sum()) == int((spans["status"] == "error").sum())
    True
    """
    q = parse(query) if isinstance(query, str) else query
    if not isinstance(q, Query):
        raise TraceQLError(f"a TraceQL query is a string, got {type(query).__name__}")
    if q.kind != "spans":
        raise TraceQLError("this is a metrics query; use traceql_metrics()", q.text, 0)
    require_columns(spans, _NEEDED, "traceql")
    kept = _one_copy(spans)
    ev = Evaluator(spans if kept is None else spans.iloc[kept[0]], q.text)
    try:
        res = ev.run(q.body)
    except RecursionError:
        raise TraceQLError("query nested too deeply to evaluate", q.text[:80], None) from None
    except UnicodeEncodeError as exc:
        raise _not_text("traceql", exc) from None
    if kept is None:
        return res.mask, res.extras
    rows, of = kept  # back to every row: another copy matches nothing and reads its kept copy's values
    mask = np.zeros(len(spans), dtype=bool)
    mask[rows] = res.mask
    return mask, {k: np.asarray(v)[of] for k, v in res.extras.items()}


def _one_copy(spans: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """The rows a query reads when some span was exported twice, or None when no (trace, span id) repeats.

    A span read twice is one span (the kernel's rule, :func:`tracekit.core.tree.span_tree`: its other copies are
    ``duplicate``), and Tempo's trace combiner keeps one span per id *and kind*: another copy is left out unless its
    kind differs from every copy kept (a Zipkin client/server pair sharing an id stays two spans). Counting both
    copies made ``count()`` 8 where the trace holds 6 spans, returned a span twice, called a span its own copy's
    sibling (``~``) and a parent exported twice a leaf (``!<``: children link to the kernel's copy).

    Returns (rows kept, in order; per row of ``spans``, the position in the kept rows of the copy it stands for).
    A 64-bit mix of the two ids decides (a collision only costs the exact check: the kernel's tree); a frame with
    a span lacking an id (which the tree refuses) is queried as it is."""
    from ...core.cache import frame_cached
    from ...core.tree import span_tree
    from ...errors import TraceKitError

    n = len(spans)
    if n < 2 or not frame_cached(spans, "traceql_ids_repeat", None, ("trace_id", "span_id"), lambda: _ids_repeat(spans)):
        return None
    try:
        tree = span_tree(spans)
    except TraceKitError:
        return None
    if not tree.duplicate.any():
        return None
    kind = spans["kind"].astype(object).to_numpy() if "kind" in spans.columns else np.full(n, None, dtype=object)
    key = pd.DataFrame({"t": tree.trace, "s": spans["span_id"].astype(object).to_numpy(), "k": kind})
    order = np.argsort(tree.duplicate, kind="stable")  # the kernel's copy of each span first, then rows in order
    group = np.empty(n, dtype=np.int64)
    group[order] = key.iloc[order].groupby(["t", "s", "k"], sort=False, dropna=False).ngroup().to_numpy()
    first = np.empty(int(group.max()) + 1, dtype=np.int64)
    first[group[order][::-1]] = order[::-1]  # the kept row of each group (the last write wins): the first in order
    keep = np.zeros(n, dtype=bool)
    keep[first] = True
    rows = np.flatnonzero(keep)
    pos = np.full(n, -1, dtype=np.int64)
    pos[rows] = np.arange(len(rows))
    return rows, pos[first[group]]


def _ids_repeat(spans: pd.DataFrame) -> bool:
    """Whether some (trace id, span id) pair may repeat: canonical hex ids decoded and mixed into 64 bits (as
    :func:`tracekit.core.tree.span_rows` does), else pandas' hash of the pair; rows lacking an id left out. One sort,
    ~5 times faster than building the span tree, and cached per frame."""
    from ...core.tree import _MIX, _hex_words

    t, s = _hex_words(spans["trace_id"], 32), _hex_words(spans["span_id"], 16)
    if t is not None and s is not None:
        with np.errstate(over="ignore"):
            h = t[0][:, 0] * _MIX[0] ^ t[0][:, 1] * _MIX[1] ^ s[0][:, 0] * _MIX[2]
        h = h[t[1] & s[1]]
    else:
        ids = spans[["trace_id", "span_id"]]
        h = pd.util.hash_pandas_object(ids, index=False).to_numpy()[ids.notna().all(axis=1).to_numpy()]
    h = np.sort(h)
    return bool((h[1:] == h[:-1]).any())


def _not_text(func: str, exc: UnicodeEncodeError) -> ArgumentError:
    """The error for a text of the spans that Arrow cannot hold (a lone surrogate: a hand-made frame's attribute
    value can hold one, the readers replace them), naming the text; it was pyarrow's bare UnicodeEncodeError."""
    text = exc.object if isinstance(exc.object, str) else ""
    ch = f"U+{ord(text[exc.start]):04X} " if exc.start < len(text) else ""
    return ArgumentError(f"{func}: the spans hold a text that is not Unicode ({text[:80]!r} holds the lone surrogate "
                         f"{ch}at {exc.start}): replace it, e.g. with s.encode('utf-8', 'surrogatepass').decode("
                         "'utf-8', 'replace'), as the readers do")


def traceql(spans: pd.DataFrame, query: str) -> pd.DataFrame:
    """The spans a TraceQL query matches, as a spans frame.

    Parameters
    ----------
    spans : DataFrame
        Spans in the canonical schema (X-Ray or OTLP; X-Ray annotations answer ``span.x`` as
        well as ``span.annotation.x``, the segment's service is ``resource.service.name``).
    query : str
        A TraceQL spanset query, e.g. ``'{ span.http.method = "GET" } >> { status = error }'``.

    Returns
    -------
    DataFrame
        The matching rows of ``spans`` in their order (a new frame; ``spans`` is not modified).
        ``select(f, ...)`` adds one column per field, named as written (``"span.http.route"``; ``name``,
        ``status`` and ``kind`` are the frame's own columns, kept as they are;
        durations such as ``duration`` in nanoseconds (None where only a lower bound is known: a span or trace still
        running, see Notes), an array attribute as its list, an
        ``event.``/``link.`` field as the value of the span's last event/link that has one, as Tempo
        gives it);
        ``by(f)`` adds a column named as written with each span's value and ``spanset``, the
        spanset's number; a scalar filter adds its aggregate per span (``"count()"`` as an integer,
        ``"avg(duration)"`` in nanoseconds).

    Raises
    ------
    TraceQLError
        On a syntax or type error (with the position and a caret), a construct that is not
        supported, or a metrics query (use :func:`traceql_metrics`).
    SpansSchemaError
        When ``spans`` lacks the id columns.

    Notes
    -----
    Where tracekit and Tempo's engine could differ:

    - A spanset is a trace until ``by()`` splits it; from then on (until ``coalesce()``) every stage
      runs on each spanset alone, as in Tempo: ``&&``, a structural operator (``{ } > { }``) or a
      nested ``( ... )`` pipeline relates only spans of one spanset.
    - A negated structural operator keeps every right-hand span with no left-hand span so related in
      its spanset: ``{ status = error } !>> { }`` (and ``!>``, ``!<``, ``!<<``, ``!~``) on a trace with
      no error span returns all its spans. Tempo's engine does the same since v2.9.0 (grafana/tempo
      #5578, "structural operator with empty left-hand spanset"); Tempo before 2.9 returned nothing there.
    - Structural operators follow the span tree (:func:`tracekit.core.tree.span_tree`), Tempo's follow its
      nested-set numbers (``nestedSetLeft/Right/Parent``): within an orphan's fragment ``{ } > { }`` relates a
      parent and its child, where Tempo (which leaves a fragment unnumbered) relates nothing; two roots of one
      trace are not siblings here, where Tempo's ``~`` calls them siblings (both have nestedSetParent -1); a
      duplicated span id's children hang under the kernel's copy, where Tempo picks a copy by kind (the nested-set
      numbers themselves are Tempo's).
    - A span whose start is unknown (:func:`tracekit.core.start_unknown`: OTLP's unset start, read as 1970) has no
      ``duration`` and its trace no ``traceDuration`` (the kernel's trace extent,
      :func:`tracekit.core.trace_extent_ns`), where Tempo would count from 1970.
    - A trace still running (:func:`tracekit.core.trace_in_progress`: a span with no end, or X-Ray's
      ``in_progress``) has a ``traceDuration`` known only from below: its extent so far; a running span's
      ``duration`` is at least its trace's last end so far less its start (:func:`tracekit.core.running_ns`: it was
      still running after every end the trace records). A comparison that bound decides holds or fails (running
      0.5 s so far, ``traceDuration > 100ms`` holds, ``traceDuration < 100ms`` and ``= 100ms`` fail); one it does
      not decide (``> 1s``, ``< 1s``, ``= 500ms``) is unknown: no filter keeps the span, ``!`` of it is unknown too,
      and ``&&``/``||`` take it as Kleene's logic does (``unknown || true`` holds, ``unknown && false`` fails).
      ``+``, ``-``, ``*`` and ``/`` by a value carry the bound where it still bounds from below; any other arithmetic
      on a bound is unknown, even where an upper bound would decide (``-traceDuration < 0``). A bound is no
      value: ``select``/``by`` give None, and aggregates (and :func:`traceql_metrics`' functions) leave it out.
      Tempo, which stores a trace when it has ended, has no such case.
    - A span exported twice is one span: of the rows sharing a trace, span id and kind, only the kernel's copy
      (:func:`tracekit.core.tree.span_tree`) is queried and returned, as Tempo's trace combiner keeps one span per
      id and kind; a Zipkin client/server pair sharing an id (two kinds) stays two spans.
    - An array attribute (OTLP ``arrayValue``) is compared element by element, as Tempo documents:
      ``{ span.tags = "a" }`` holds when some element is ``"a"``, ``{ span.tags != "a" }`` when none is.
      Integer attributes compare as int64 (exactly, past 2**53).
    - Arithmetic in a filter is done in float64, integers too: ``{ span.k / 2 = 1 }`` matches ``k = 2``
      but not ``k = 3``, where Tempo divides two integers as integers (``3 / 2 = 1``). Between two integer
      literals ``/`` and ``%`` are Go's, as Tempo's parser folds them: ``{ span.k = 3 / 2 }`` matches ``k = 1``,
      ``-7 % 3`` is ``-1``, and ``1 / 0`` is refused (Tempo fails the query).

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.examples.load("checkout-small-otlp")
    >>> hits = tk.traceql(spans, '{ rootName = "POST /checkout" } >> { status = error } | select(span.http.response.status_code)')
    >>> bool((hits["status"] == "error").all()), "span.http.response.status_code" in hits.columns
    (True, True)
    >>> spans.tk.traceql("{ kind = server } | count() > 100").empty
    True
    """
    mask, extras = traceql_mask(spans, query)
    rows = np.flatnonzero(mask)
    out = spans.iloc[rows].copy()
    added = {}
    for name, values in extras.items():
        if name in _OWN_COLUMN and name in out.columns:  # select(name) / by(kind): the column it reads, kept as it is
            continue
        col = np.asarray(values)[rows]
        if name == "spanset":
            col = pd.factorize(col)[0]
        col = pd.Series(col, index=out.index, dtype=col.dtype)
        if name in out.columns:
            out[name] = col
        else:
            added[name] = col
    if added:  # in one piece: one insert per column fragmented the frame (pandas warned once per selected field past
        # the 100th: 400 PerformanceWarnings for select() of 500 fields)
        attrs = dict(out.attrs)
        out = pd.concat([out, pd.DataFrame(added, index=out.index)], axis=1)
        out.attrs = attrs
    return out


def traceql_metrics(spans: pd.DataFrame, query: str, step: str | float | pd.Timedelta = "1min") -> pd.DataFrame:
    """A TraceQL metrics query as a time series frame (long form).

    Parameters
    ----------
    spans : DataFrame
        Spans in the canonical schema.
    query : str
        ``{ filter } | rate()`` (spans per second), ``count_over_time()``,
        ``min_over_time(f)``, ``max_over_time(f)``, ``avg_over_time(f)``, ``sum_over_time(f)``,
        ``quantile_over_time(f, q, ...)``, ``histogram_over_time(f)``, each with an optional
        ``by(f, ...)``, then ``| topk(k)``, ``| bottomk(k)`` or a comparison (``> 10``);
        parenthesised queries combine with ``+ - * /`` and numbers.
    step : str, float or Timedelta
        Width of the time buckets (``"30s"``, ``"1min"``, seconds as a number).

    Returns
    -------
    DataFrame
        One row per bucket and series: ``time`` (bucket start, UTC), one column per ``by``
        field (named as written; integer values as ``Int64``, an array as a tuple), ``quantile``
        or ``bucket`` where the function has them, and
        ``value``. Spans are counted in the bucket of their start (a span whose start is unknown,
        :func:`tracekit.core.start_unknown`, in none). Durations are in seconds
        (Tempo's unit); ``rate`` is per second; counts and rates are 0 in buckets with no span.

    Raises
    ------
    TraceQLError
        On a bad query or a spanset (not metrics) query.
    ArgumentError
        On a bad ``step``, or a text the query reads that is not Unicode (a lone surrogate in a hand-made frame).

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.examples.load("checkout-small-otlp")
    >>> m = tk.traceql_metrics(spans, "{ } | count_over_time() by (resource.service.name)", step="1h")
    >>> int(m["value"].sum()) == len(spans)
    True
    """
    from .metrics import run_metrics

    q = parse(query) if isinstance(query, str) else query
    if not isinstance(q, Query):  # None raised a bare AttributeError ('NoneType' object has no attribute 'kind')
        raise TraceQLError(f"a TraceQL query is a string, got {type(query).__name__}")
    if q.kind != "metrics":
        raise TraceQLError("not a metrics query: add a metrics function, e.g. '| rate()'; use traceql() for spans",
                           q.text, len(q.text))
    require_columns(spans, _NEEDED + ["start"], "traceql_metrics")
    kept = _one_copy(spans)  # a span exported twice is counted once
    try:
        return run_metrics(spans if kept is None else spans.iloc[kept[0]], q, step)
    except UnicodeEncodeError as exc:
        raise _not_text("traceql_metrics", exc) from None
