"""Helpers shared by the attribution analyses: attribute lookup, service entry spans, bootstrap of a mean."""

from __future__ import annotations

from itertools import repeat
from operator import is_not
from typing import Any

import numpy as np
import pandas as pd

from ...core import safe_str, service_entries, span_tree

#: public names; the other module-level names are helpers shared within the package
__all__ = []



def usort(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values by sort (numpy 2's hash-based ``np.unique`` is ~50x slower on ints)."""
    s = np.sort(x, kind="stable")
    return s[np.r_[True, s[1:] != s[:-1]]] if len(s) else s


def first_and_codes(objs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of each object's identity and the first row of each distinct object."""
    codes, uniq = pd.factorize(np.fromiter(map(id, objs), dtype=np.uint64, count=len(objs)), sort=False)
    codes = np.asarray(codes, np.int64)
    first = np.full(len(uniq), -1, np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1, dtype=np.int64)
    return first, codes


def value_label(v: Any) -> str:
    if v is True:
        return "true"
    if v is False:
        return "false"
    return safe_str(v)


def lookup_keys(spans: pd.DataFrame, keys: tuple[str, ...], rows: np.ndarray | None = None,
                columns: tuple[str, ...] = ("attributes", "resource")) -> np.ndarray:
    """First of ``keys`` found in each span's resource, then attributes (object array, None if none); of the spans
    at positions ``rows`` only, when given; ``columns`` the dict columns looked in, the last winning.

    One C-level ``dict.get`` pass per key and column (a Python loop over each distinct dict took 0.35 s of a
    3.9 s postmortem of 30k spans, in cold_starts on spans without a Lambda); only the spans that hold a key are
    visited in Python.
    """
    n = len(spans) if rows is None else len(rows)
    out = np.full(n, None, dtype=object)
    for col in columns:  # resource last so it wins
        if col not in spans.columns:
            continue
        objs = spans[col].to_numpy(dtype=object)
        if rows is not None:
            objs = objs[rows]
        for k in reversed(keys):  # the first key wins: written last
            try:
                vals = list(map(dict.get, objs, repeat(k)))
            except TypeError:  # a cell that is not a dict (None in a hand-made frame)
                vals = [d.get(k) if isinstance(d, dict) else None for d in objs]
            has = np.fromiter(map(is_not, vals, repeat(None)), dtype=bool, count=n)
            for i in np.flatnonzero(has).tolist():
                out[i] = vals[i]
    return out


def boot_mean(x: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """``n_boot`` bootstrap means of ``x``, drawn from ``rng``: of the values sorted, so that the same values in
    another order (the spans' rows shuffled) give the same draws."""
    x = np.sort(np.asarray(x, dtype=np.float64))
    m = len(x)
    if m == 0:
        return np.full(n_boot, np.nan)
    out = np.empty(n_boot)
    step = max(1, 4_000_000 // m)
    for s in range(0, n_boot, step):
        e = min(n_boot, s + step)
        out[s:e] = x[rng.integers(0, m, size=(e - s, m))].mean(axis=1)
    return out


def entry_rows(spans: pd.DataFrame) -> tuple[np.ndarray, Any]:
    tree = span_tree(spans)
    # a span exported twice is one entry span (kernel tree: the other copies are left out)
    return service_entries(spans, tree) & ~tree.duplicate, tree
