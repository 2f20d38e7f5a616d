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

__all__ = ["stream_codes"]

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
