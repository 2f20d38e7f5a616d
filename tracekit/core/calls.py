"""Whether a call is answered: one definition for the service graph, health and the dropped-context pairs.

A **call** is a CLIENT or PRODUCER span. It is **answered** when the callee's side of it is in the data:

- a child that is a SERVER or CONSUMER span (a hop; in any service, so a service calling its own endpoint is
  answered), or a child in another service (an X-Ray inferred segment, a callee whose entry span is internal);
- a span of another service that links to it (a producer answered through a span link), not its own child;
- an answer below an **inner** span: one call instrumented twice — a client/producer span under a
  client/producer span of its own service (``requests`` over ``urllib3``, an SQS send over its HTTP request) —
  is one call, the outermost span's; the inner spans are not calls of their own, and what answers them answers
  the outer one (carried up a chain of any length).

Another copy of a span exported twice (:mod:`tracekit.core.tree`) neither calls nor answers.
:func:`unanswered_calls` is what nothing answers: the spans :func:`tracekit.service_graph` draws to a peer named
by the callee resolver, health's ``uninstrumented_hop`` / ``dropped_context`` / ``missing_span_on_hop`` rows count
and :mod:`tracekit.core.dropped_context` pairs with new roots. Whether the peer is a database or an AWS service
(no spans of its own, never a warning) is the caller's business, not this definition's.

>>> import tracekit as tk
>>> ms = 1_000_000
>>> spans = tk.spans_from_columns({   # web → requests → urllib3 → orders: one call, answered
...     "trace_id": ["1" * 32] * 4, "span_id": ["a" * 16, "b" * 16, "c" * 16, "d" * 16],
...     "parent_id": [None, "a" * 16, "b" * 16, "c" * 16], "service": ["web", "web", "web", "orders"],
...     "name": ["GET /", "GET", "GET", "GET /o"], "kind": ["server", "client", "client", "server"],
...     "start": [0, 1 * ms, 2 * ms, 3 * ms], "end": [9 * ms, 8 * ms, 7 * ms, 6 * ms]})
>>> a = call_answers(spans)
>>> a.answered.tolist(), a.inner.tolist(), unanswered_calls(spans).tolist()
([False, True, True, False], [False, False, True, False], [])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .tree import SpanTree, span_tree

__all__ = ["CallAnswers", "call_answers", "unanswered_calls", "CALL_KINDS", "ANSWER_KINDS", "edge_kind"]

#: span kinds that make a call
CALL_KINDS = ("client", "producer")
#: span kinds that answer a call (as its child)
ANSWER_KINDS = ("server", "consumer")


@dataclass(frozen=True, eq=False)
class CallAnswers:
    """Per span (positional arrays): ``call`` (a client/producer span that is a call of its own: not an inner span,
    not another copy of a duplicated span), ``answered`` (the callee's side is in the data) and ``inner`` (a
    client/producer span under one of its own service: part of the outer call)."""

    call: np.ndarray
    answered: np.ndarray
    inner: np.ndarray


def _kinds(spans: pd.DataFrame, kinds: tuple[str, ...]) -> np.ndarray:
    if "kind" not in spans.columns:
        return np.zeros(len(spans), dtype=bool)
    return spans["kind"].isin(kinds).to_numpy(dtype=bool, na_value=False)


def _link_answers(spans: pd.DataFrame, tree: SpanTree, keep: np.ndarray, calls: np.ndarray) -> np.ndarray:
    """Per call span (``calls``): some span of another service in the data links to it (and is not its child)."""
    n = len(spans)
    out = np.zeros(n, dtype=bool)
    if "links" not in spans.columns or not n or not calls.any():
        return out
    lk = spans["links"].to_numpy(dtype=object)
    try:  # truth of each cell in C (an empty list False): a generator over every span cost 35 ms per 81k spans
        some = lk.astype(bool)
    except ValueError:  # a cell numpy cannot take the truth of (an array of several links)
        some = np.fromiter((isinstance(x, (list, tuple, np.ndarray)) and len(x) > 0 for x in lk), bool, n)
    has = np.flatnonzero(some & keep)  # a non-empty cell that is no list of links finds no dict below
    if not len(has):
        return out
    rows = np.flatnonzero(calls & keep)  # only a call can be answered: index the calls alone, not every span
    key = pd.Series(rows, index=pd.MultiIndex.from_arrays(
        [spans["trace_id"].to_numpy(dtype=object)[rows], spans["span_id"].to_numpy(dtype=object)[rows]]))
    key = key[~key.index.duplicated()]
    svc = spans["service"].to_numpy(dtype=object)
    for i in has.tolist():
        if not isinstance(lk[i], (list, tuple, np.ndarray)):
            continue
        for link in lk[i]:
            if not isinstance(link, dict):
                continue
            j = key.get((link.get("trace_id"), link.get("span_id")))
            if j is not None and svc[j] != svc[i] and j != tree.parent[i]:
                out[j] = True
    return out


def call_answers(spans: pd.DataFrame, tree: SpanTree | None = None, *, linked: np.ndarray | None = None) -> CallAnswers:
    """Per span: is it a call, is it answered, is it an inner span of a call instrumented twice (the module's rule).

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame (``kind``, ``service``; ``links`` when present).
    tree : SpanTree, optional
        ``span_tree(spans)``, when the caller has it.
    linked : numpy.ndarray of bool, optional
        Per span: answered through a span link. None applies the module's rule (a span of another service links
        to it); :func:`tracekit.service_graph` gives its own under ``by="operation"`` (another operation).

    Returns
    -------
    CallAnswers

    Examples
    --------
    >>> import tracekit as tk
    >>> call_answers(tk.empty_spans()).answered.tolist()
    []
    """
    n = len(spans)
    if not n:
        z = np.zeros(0, dtype=bool)
        return CallAnswers(z, z, z)
    tree = span_tree(spans) if tree is None else tree
    keep = ~tree.duplicate
    calls_out = _kinds(spans, CALL_KINDS)
    entry = _kinds(spans, ANSWER_KINDS)
    svc = pd.factorize(spans["service"], use_na_sentinel=False)[0]
    parent = tree.parent
    kids = np.flatnonzero((parent >= 0) & keep)
    pk = parent[kids]
    same = svc[kids] == svc[pk]
    answered = np.zeros(n, dtype=bool)
    answered[pk[~same | (entry[kids] & calls_out[pk])]] = True
    answered |= _link_answers(spans, tree, keep, calls_out) if linked is None else np.asarray(linked, dtype=bool)
    inner_rows = kids[same & calls_out[kids] & calls_out[pk]]
    inner = np.zeros(n, dtype=bool)
    inner[inner_rows] = True
    while len(inner_rows):  # carry answers up nested chains (one level a step)
        up = inner_rows[answered[inner_rows] & ~answered[parent[inner_rows]]]
        if not len(up):
            break
        answered[parent[up]] = True
    answered &= calls_out
    return CallAnswers(calls_out & ~inner & keep, answered, inner)


def unanswered_calls(spans: pd.DataFrame, tree: SpanTree | None = None, kinds: tuple[str, ...] = CALL_KINDS,
                     answers: CallAnswers | None = None) -> np.ndarray:
    """Positions of the calls (of span kind in ``kinds``) nothing answers, sorted.

    Parameters
    ----------
    spans : pandas.DataFrame
        A spans frame.
    tree : SpanTree, optional
        ``span_tree(spans)``, when the caller has it.
    kinds : tuple of str
        The calls' span kinds to keep (``("client",)``: health and the dropped-context pairs).
    answers : CallAnswers, optional
        :func:`call_answers` of ``spans``, when the caller has it.

    Returns
    -------
    numpy.ndarray of int64

    Examples
    --------
    >>> import tracekit as tk
    >>> unanswered_calls(tk.empty_spans()).tolist()
    []
    """
    if not len(spans):
        return np.zeros(0, dtype=np.int64)
    a = call_answers(spans, tree) if answers is None else answers
    return np.flatnonzero(a.call & ~a.answered & _kinds(spans, tuple(kinds))).astype(np.int64)


def edge_kind(calls: int, async_calls: int) -> str:
    """A dependency-graph edge's ``kind`` from its calls and how many of them are asynchronous hops: ``"sync"`` (none),
    ``"async"`` (all) or ``"mixed"`` (some: 9 synchronous calls and 1 hop were called ``"async"``). The one rule of
    :func:`tracekit.service_graph` and its Dask engine.

    >>> edge_kind(10, 0), edge_kind(3, 3), edge_kind(10, 1)
    ('sync', 'async', 'mixed')
    """
    if async_calls <= 0:
        return "sync"
    return "async" if async_calls >= calls else "mixed"
