"""One attribute key of every span as a column: :func:`attribute` (also ``spans.tk.attr(key)``).

The ``attributes`` and ``resource`` columns hold one dict per span (the canonical schema), so any
key is at hand with ``spans["attributes"].map(lambda a: a.get("http.route"))``; :func:`attribute`
does the same in one C-level pass (``dict.get`` mapped over the column; with the typed column it
costs what that ``map`` does: 0.09 s for 195k spans, most of it reaching each span's dict), resolves a dotted key through nested dicts as :func:`~tracekit.core.naming.get_attribute` does
(X-Ray ``metadata.<namespace>`` values are dicts: ``"metadata.default.order_id"``), and gives
the column the dtype its values share (string, Int64, Float64, boolean; object when mixed), so
``.value_counts()``, ``groupby`` and comparisons work at once.

>>> import tracekit as tk
>>> spans = tk.spans_from_columns({"trace_id": ["a" * 32] * 3, "span_id": ["1" * 16, "2" * 16, "3" * 16],
...     "service": ["api"] * 3, "name": ["GET /", "q", "q"], "start": [0, 1, 2], "end": [5, 4, 3],
...     "attributes": [{"http.response.status_code": 200}, {}, {"http.response.status_code": 503}]})
>>> tk.attribute(spans, "http.response.status_code").tolist()
[200, <NA>, 503]
>>> spans.tk.attr("http.response.status_code").dtype
Int64Dtype()
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from itertools import compress, repeat
from operator import is_
from operator import not_ as _not
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..errors import ArgumentError
from .frame import require_columns

__all__ = ["attribute", "attribute_values"]

_INT64 = (-(2**63), 2**63 - 1)
_EXACT_IN_FLOAT = (-(2**53), 2**53)  # every integer in here is a float64 exactly


def get_attribute(attributes: dict | None, key: str):
    """Value of a flat dotted key, or of the same path through nested dicts; None if absent.

    At each level the longest run of the key's dotted parts that is a key there is taken, so
    flat and nested parts mix (X-Ray's ``metadata.default`` holds a dict:
    ``"metadata.default.http.route"``).

    Examples
    --------
    >>> get_attribute({"http": {"request": {"url": "x"}}}, "http.request.url")
    'x'
    >>> get_attribute({"metadata.default": {"http.route": "/a"}}, "metadata.default.http.route")
    '/a'
    """
    if not isinstance(attributes, dict):
        return None
    v = attributes.get(key)
    if v is not None or key in attributes:
        return v
    parts, heads = _heads(key)
    for k, j in heads:  # the top level, with the key's leading runs made once per key
        if k in attributes:
            cur, i = attributes[k], j
            break
    else:
        return None
    n = len(parts)
    while i < n:  # iterative: nesting depth is bounded by the key, not by the input
        if not isinstance(cur, dict):
            return None
        for j in range(n, i, -1):  # the longest run of parts that is a key here
            k = ".".join(parts[i:j])
            if k in cur:
                cur = cur[k]
                i = j
                break
        else:
            return None
    return cur


@lru_cache(maxsize=4096)
def _heads(key: str) -> tuple[list[str], tuple[tuple[str, int], ...]]:
    """The dotted parts of ``key`` and its leading runs but the whole, longest first, each with its length."""
    parts = key.split(".")
    return parts, tuple((".".join(parts[:j]), j) for j in range(len(parts) - 1, 0, -1))


def attribute_values(spans: pd.DataFrame, key: str, column: str = "attributes") -> list:
    """``key`` of each span's ``column`` dict, a list (None where absent or not a dict).

    A flat key is looked up first; a dotted key that is not there is followed through nested
    dicts (:func:`~tracekit.core.naming.get_attribute`), only for the spans that hold one of its
    leading parts.
    """
    arr = spans[column].array
    if callable(getattr(arr, "key_values", None)):  # a store's lazy column (tracekit.io.containers)
        got = arr.key_values(key)
        if got is not None:
            return _lazy_values(arr, key, got[0])
    objs = spans[column].to_numpy(dtype=object)
    try:
        vals = list(map(dict.get, objs, repeat(key)))
    except TypeError:  # a cell that is not a dict (None in a hand-made frame)
        vals = [d.get(key) if isinstance(d, dict) else None for d in objs]
    if "." in key and None in vals:
        heads = frozenset(k for k, _ in _heads(key)[1])  # where a nested path can start
        miss = list(compress(range(len(vals)), map(is_, vals, repeat(None))))
        sub = objs[miss].tolist()
        try:
            found = heads.intersection(set().union(*sub))  # every key of the missing spans, in C
        except TypeError:  # a cell that is not a dict
            found = heads
        if not found:
            return vals
        try:
            maybe = list(compress(miss, map(_not, map(found.isdisjoint, sub))))
        except TypeError:
            maybe = [i for i in miss if isinstance(objs[i], dict) and not found.isdisjoint(objs[i])]
        for i in maybe:
            vals[i] = get_attribute(objs[i], key)
    return vals


def _lazy_values(arr: Any, key: str, vals: list) -> list:
    """``key`` read from a lazy column's stored columns; a dotted key absent as such is followed
    through the dicts of only the cells that hold one of its leading parts (built for that)."""
    if "." in key and None in vals:
        heads = tuple(k for k, _ in _heads(key)[1])  # longest first
        maybe = np.flatnonzero(arr.heads_present(heads) & np.fromiter(map(is_, vals, repeat(None)), dtype=bool,
                                                                      count=len(vals)))
        if len(maybe):
            for i, d in zip(maybe.tolist(), arr.take(maybe).to_numpy(), strict=False):
                vals[i] = get_attribute(d, key)
    return vals


def _typed(values: list, name: str, index: pd.Index) -> pd.Series:
    types = set(map(type, values)) - {type(None)}
    arr: Any = None
    if types == {str}:
        arr = pd.arrays.ArrowStringArray(pa.array(values, type=pa.string()))
    elif types == {bool}:
        arr = pd.array(values, dtype="boolean")
    elif types and types <= {int, float}:
        ints = [v for v in values if type(v) is int] if int in types else ()
        # beyond int64, or past 2**53 beside floats (a Float64 column would round it): object, exact
        lo, hi = _INT64 if types == {int} else _EXACT_IN_FLOAT
        if not ints or lo <= min(ints) and max(ints) <= hi:
            a = pa.array(values, type=pa.int64() if types == {int} else pa.float64())
            data = a.fill_null(0).to_numpy(zero_copy_only=False)
            mask = a.is_null().to_numpy(zero_copy_only=False)
            arr = (pd.arrays.IntegerArray if types == {int} else pd.arrays.FloatingArray)(data, mask)
    if arr is None:
        arr = np.empty(len(values), dtype=object)
        arr[:] = values
    return pd.Series(arr, index=index, name=name, copy=False)


def attribute(spans: pd.DataFrame, key: str | Sequence[str], *, column: str = "attributes",
              default: Any = None) -> pd.Series | pd.DataFrame:
    """One attribute of every span as a column (several keys: one column each).

    Parameters
    ----------
    spans : DataFrame
        Spans in the canonical schema (or any frame with a column of dicts).
    key : str or sequence of str
        An attribute key (``"http.route"``); a dotted key absent as such is followed through
        nested dicts (``"metadata.default.order_id"`` in X-Ray's metadata).
    column : str
        The dict column to read: ``"attributes"`` (default) or ``"resource"`` (``service.version``,
        ``host.name``, ``cloud.region``…).
    default : object
        The value of spans that lack the key (``None``: missing, shown as ``<NA>``).

    Returns
    -------
    Series or DataFrame
        Indexed like ``spans``, named after the key; the dtype the values share: ``string`` for
        text, ``Int64`` for integers (within int64), ``Float64`` for numbers, ``boolean`` for
        booleans, ``object`` for anything mixed or nested and for integers a ``Float64`` would round
        (past int64, or past 2**53 beside floats): values as they are, never converted.
        A list of keys gives a DataFrame with one such column per key. ``spans`` is not modified.

    Raises
    ------
    SpansSchemaError
        When ``spans`` has no such column.
    ArgumentError
        When ``key`` is not a string or a list of strings.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.examples.load("checkout-small")  # X-Ray: status under http.response.status
    >>> status = tk.attribute(spans, "http.response.status")
    >>> status.dtype, sorted(set(status.dropna().tolist()))
    (Int64Dtype(), [200, 502, 503])
    >>> tk.attribute(spans, "metadata.default.http.route").value_counts().index[0]
    '/api/stock/{sku}'
    >>> spans.tk.attr(["http.request.method", "aws.operation"]).dtypes.astype(str).tolist()
    ['string', 'string']
    """
    require_columns(spans, [column], "attribute")
    if not isinstance(key, str):
        keys = list(key) if isinstance(key, (list, tuple, pd.Index)) else [key]
        bad = [k for k in keys if not isinstance(k, str)]
        if bad or isinstance(key, (bytes, int, float)) or key is None:
            raise ArgumentError(f"attribute: key must be a string or a list of strings, got {key!r}"[:300])
        return pd.DataFrame({k: attribute(spans, k, column=column, default=default) for k in keys},
                            index=spans.index, columns=keys)
    values = attribute_values(spans, key, column)
    if default is not None:
        values = [default if v is None else v for v in values]
    return _typed(values, key, spans.index)
