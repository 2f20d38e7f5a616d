"""Sampling weights of traces: the one place a user's weights are matched to trace ids.

Every weighted analysis (``weighted_summary``, ``sampling_bias``, ``timeline``, ``detect_changes``,
``rank_causes``…) accepts the same forms — the frame :func:`tracekit.sampling_weights` returns
(``trace_id`` and ``weight``, or ``probability``), a Series of weights indexed by trace id, or one
number — and reads them through :func:`trace_weights`. Trace ids are matched in their canonical
form (:func:`tracekit.core.normalize_trace_ids`), so an X-Ray id ``1-5759e988-bd86…`` in the weights
finds its trace.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import ArgumentError
from .ids import normalize_trace_ids

__all__ = ["trace_weights"]


def _canonical(ids: Any) -> np.ndarray:
    s = pd.Series(np.asarray(ids, dtype=object)).astype("string")
    if s.str.fullmatch(r"[0-9a-f]{32}").fillna(False).all():
        return s.to_numpy(dtype=object)
    return np.asarray(normalize_trace_ids([str(v) for v in s.to_numpy(dtype=object)]), dtype=object)


def _numbers(values: pd.Series, trace_ids: Any, what: str, func: str) -> np.ndarray:
    """``values`` as float64 (missing: NaN, unknown); ArgumentError naming the first trace whose value is not a number."""
    try:
        return values.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        num = pd.to_numeric(pd.Series(values.to_numpy(dtype=object)), errors="coerce")
        bad = num.isna().to_numpy() & ~pd.isna(values).to_numpy()
        i = int(np.flatnonzero(bad)[0]) if bad.any() else 0
        raise ArgumentError(f"{func}: weights: {what} must be numbers; trace {list(trace_ids)[i]} has "
                            f"{values.iloc[i]!r}") from None


def trace_weights(trace_ids: Any, weights: Any, func: str = "trace_weights") -> np.ndarray:
    """Weight of each trace id (1 / its inclusion probability); NaN where the weights do not say.

    Parameters
    ----------
    trace_ids : array-like of str
        Trace ids as in a spans frame (canonical 32 lower hex).
    weights : DataFrame, Series, number or None
        The frame of :func:`tracekit.sampling_weights` (``trace_id`` and ``weight`` or
        ``probability``), a Series of weights indexed by trace id, one number for all, or None (1 each).

    Returns
    -------
    numpy.ndarray of float64

    Raises
    ------
    ArgumentError
        Another form, a weight that is not a number, not positive and finite, or below 1 (an inclusion
        probability given for its inverse), a ``probability`` outside (0, 1], or one trace given two different weights.

    Examples
    --------
    >>> ids = ["5759e988bd862e3fe1be46a994272793", "0" * 31 + "1"]
    >>> trace_weights(ids, pd.Series([4.0], index=["1-5759e988-bd862e3fe1be46a994272793"])).tolist()
    [4.0, nan]
    >>> trace_weights(ids, 2).tolist(), trace_weights(ids, None).tolist()
    ([2.0, 2.0], [1.0, 1.0])
    """
    ids = pd.Series(np.asarray(trace_ids, dtype=object))
    if weights is None:
        return np.ones(len(ids))
    if isinstance(weights, pd.DataFrame):
        if "trace_id" not in weights.columns or not ({"weight", "probability"} & set(weights.columns)):
            raise ArgumentError(f"{func}: weights DataFrame needs trace_id and weight (or probability) columns, "
                                "as returned by sampling_weights()")
        if "weight" in weights.columns:
            s = pd.Series(_numbers(weights["weight"], weights["trace_id"], "weight", func), index=_canonical(weights["trace_id"]))
        else:  # probabilities are checked as probabilities: 0 is not 'a weight of inf', 2 is not 'a 50 % sample'
            p = _numbers(weights["probability"], weights["trace_id"], "probability", func)
            bad = ~np.isnan(p) & ~((p > 0) & (p <= 1))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ArgumentError(f"{func}: weights: probability must be an inclusion probability in (0, 1]; trace "
                                    f"{weights['trace_id'].iloc[i]} has {p[i]:g}"
                                    + (f" ({int(bad.sum())} traces outside (0, 1])" if bad.sum() > 1 else ""))
            s = pd.Series(1.0 / p, index=_canonical(weights["trace_id"]))
    elif isinstance(weights, pd.Series):
        s = pd.Series(_numbers(weights, weights.index, "weight", func), index=_canonical(weights.index))
    elif isinstance(weights, (int, float, np.integer, np.floating)) and not isinstance(weights, bool):
        s = None
    else:
        raise ArgumentError(f"{func}: weights must be the DataFrame of sampling_weights(), a Series of weights indexed "
                            f"by trace_id, or one number; got {type(weights).__name__}")
    if s is None:
        if not float(weights) >= 1:  # a sampling rate given where its inverse is meant
            raise ArgumentError(f"{func}: weights: one number is every trace's weight, 1 / its inclusion probability (≥ 1); got "
                                f"{weights!r}" + (f": for a {float(weights):.0%} sample pass {1 / float(weights):g}"
                                                  if 0 < float(weights) < 1 else ""))
        w = np.full(len(ids), float(weights))
    else:
        dup = s.index.duplicated(keep=False)
        if dup.any():  # one trace, two weights: which one is unknown (the same weight twice is one weight)
            clash = s[dup].groupby(level=0).nunique(dropna=False)
            clash = clash[clash > 1]
            if len(clash):
                t = clash.index[0]
                raise ArgumentError(f"{func}: weights: trace {t} is given {len(s[t])} different weights "
                                    f"({', '.join(f'{v:g}' for v in s[t].tolist())}); give each trace one")
        s = s[~s.index.duplicated()]
        w = ids.astype(object).map(s).to_numpy(dtype=float)
    bad = (~np.isnan(w) & ~(w > 0)) | np.isinf(w)
    if bad.any():
        raise ArgumentError(f"{func}: weights must be positive and finite (1 / inclusion probability); "
                            f"trace {ids.iloc[int(np.flatnonzero(bad)[0])]} has {w[bad][0]!r}")
    low = ~np.isnan(w) & (w < 1)
    if low.any():  # as for one number: an inclusion probability given where its inverse is meant
        v = float(w[low][0])
        raise ArgumentError(f"{func}: weights: a trace's weight is 1 / its inclusion probability (≥ 1); trace "
                            f"{ids.iloc[int(np.flatnonzero(low)[0])]} has {v:g}" + (f" ({int(low.sum())} traces below 1)"
                                                                                    if low.sum() > 1 else "")
                            + f": a {v:.0%} sample has weight {1 / v:g}")
    return w
