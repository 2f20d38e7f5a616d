"""Which metric stream a data point belongs to: one definition for rates and interval means.

OTLP identifies a metric stream by its resource, its name and its point's attributes: two processes of one service
(``service.instance.id`` apart, no host key) are two streams, whose cumulative values must never be differenced
against each other. :func:`stream_codes` gives one integer per stream (name, service, host, resource, attributes).

>>> import tracekit as tk
>>> m = tk.metrics_from_columns({"time": [0, 0, 60], "name": "c", "value": [1.0, 2.0, 3.0], "service": "api",
...     "resource": [{"service.instance.id": "a"}, {"service.instance.id": "b"}, {"service.instance.id": "a"}]})
>>> stream_codes(m).tolist()
[0, 1, 0]
"""

from __future__ import annotations

import numpy as np
import orjson
import pandas as pd

from .nested import kept

__all__ = ["stream_codes", "stream_steps"]

_DUMP = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def stream_codes(metrics: pd.DataFrame) -> np.ndarray:
    """One integer per stream (0 .. k − 1, in order of first appearance): name, service, host, the resource and the
    point's attributes, each dict compared by its sorted JSON text."""
    attrs = [kept(orjson.dumps(a, option=_DUMP, default=str)) if a else b"" for a in metrics["attributes"]]
    memo: dict[int, bytes] = {}  # a reader's rows of one resource share its dict: one text per dict
    res = [(memo[id(r)] if id(r) in memo else memo.setdefault(id(r), kept(orjson.dumps(r, option=_DUMP, default=str))))
           if r else b"" for r in (metrics["resource"] if "resource" in metrics.columns else [None] * len(metrics))]
    frame = pd.DataFrame({"n": metrics["name"].astype(object).to_numpy(), "s": metrics["service"].astype(object).to_numpy(),
                          "h": metrics["host"].astype(object).fillna("\x00").to_numpy(), "r": res, "a": attrs})
    return frame.groupby(["n", "s", "h", "r", "a"], sort=False, dropna=False).ngroup().to_numpy()


def stream_steps(points: pd.DataFrame, values: np.ndarray, monotonic: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The points of ``points`` (a metrics frame) in stream and time order, and for each whether it is its stream's
    first and whether its stream restarted at it: the one reset rule of metric rates and cumulative interval means.

    A stream restarts when its ``start_time`` moved past the previous point's time (a start equal to it is OTLP's
    "unknown start" sequence, whose first point is stamped at its own start: no restart) or, where ``monotonic`` is
    True, when its value went down (a counter reset; an UpDownCounter may go down).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        Positions in ``points`` (stream, then time), ``first``, ``restarted`` (in that order).

    Examples
    --------
    >>> import tracekit as tk
    >>> m = tk.metrics_from_columns({"time": [180e9, 60e9, 120e9], "name": "c", "value": [5.0, 3.0, 1.0],
    ...                              "start_time": [0, 0, 0]})
    >>> [a.tolist() for a in stream_steps(m, m["value"].to_numpy(), np.ones(3, dtype=bool))]
    [[1, 2, 0], [True, False, False], [False, True, False]]
    """
    t = points["time"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    st = points["start_time"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    has_st = points["start_time"].notna().to_numpy()
    key = stream_codes(points)
    order = np.lexsort((t, key))
    ko, to, vo = key[order], t[order], np.asarray(values, dtype=float)[order]
    first = np.r_[True, ko[1:] != ko[:-1]]
    prev_t, prev_v = np.r_[0, to[:-1]], np.r_[np.nan, vo[:-1]]
    down = (vo < prev_v) & (np.ones(len(order), dtype=bool) if monotonic is None else np.asarray(monotonic)[order])
    restarted = ~first & (down | (has_st[order] & (st[order] > prev_t)))
    return order, first, restarted
