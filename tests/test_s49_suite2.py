"""Session 49, suite2 (the suite's time): one postmortem computes each expensive step once.

The project's rule "compute once": within one :func:`tracekit.postmortem` no ranking, comparison, change detection,
clock-skew detection, health report, span tree or trace outcomes is computed twice on the same inputs. Measured on a
fault-lab window with logs and metrics (session 49): the ranking (one ``rank_causes`` and ``chance_score``'s two
blocks: three different pairs of sides), the comparison (``rank_causes`` is handed the postmortem's), the two change
detections (by route in the incident periods, and the one around the onset) are each computed once; what repeats is
small helpers (0.25 s of a 2.95 s postmortem over 11 helpers; among them the join of the logs to the incident's spans,
analysis.logs.log_span_rows, once for the log evidence and again for the example traces: ~0.01 s). These tests are controls: they pass on the code before
this session and guard the rule.
"""

from __future__ import annotations

import collections
import contextlib
from unittest import mock

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.core.cache import fingerprint

#: the columns a frame argument is told apart by (fingerprinted: an equal copy is the same input)
_COLUMNS = ("trace_id", "span_id", "parent_id", "service", "name", "start", "end", "status", "time", "value", "body")


def _key(x: object) -> object:
    """A hashable stand-in of an argument: a frame by its length and columns' content, a container by its items."""
    if isinstance(x, pd.DataFrame):
        return ("frame", fingerprint(x, [c for c in _COLUMNS if c in x.columns]), tuple(map(str, x.columns)))
    if isinstance(x, pd.Series):
        return ("series", len(x), tuple(pd.util.hash_pandas_object(x, index=True).tolist()))
    if isinstance(x, np.ndarray):
        return ("array", x.dtype.str, x.shape, x.tobytes() if x.dtype != object else repr(x.tolist()))
    if isinstance(x, (list, tuple)):
        return tuple(_key(i) for i in x)
    if isinstance(x, dict):
        return tuple((k, _key(v)) for k, v in sorted(x.items(), key=lambda kv: str(kv[0])))
    return repr(x)


#: (module, function) pairs of the expensive steps one postmortem takes
STEPS = [("tracekit.investigate.causes", "_ranking"), ("tracekit.analysis.comparison", "compare"),
         ("tracekit.analysis.changes", "detect_changes"), ("tracekit.analysis.skew", "detect_clock_skew"),
         ("tracekit.analysis.health", "health_report"), ("tracekit.core.tree", "_build"),
         ("tracekit.core.outcomes", "_outcomes")]


@contextlib.contextmanager
def _counting():
    """Each step's calls, keyed by their arguments: ``{name: Counter(args key -> calls)}``."""
    import importlib

    seen: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    with contextlib.ExitStack() as stack:
        for mod, name in STEPS:
            module = importlib.import_module(mod)
            real = getattr(module, name)

            def spy(*a, _real=real, _name=name, **k):
                seen[_name][_key([a, k])] += 1
                return _real(*a, **k)

            stack.enter_context(mock.patch.object(module, name, spy))
        yield seen


@pytest.mark.slow  # ~3 s: a fault-lab window's postmortem with logs and metrics
def test_one_postmortem_computes_each_step_once_on_the_same_inputs():
    """Control: every expensive step runs at most once per distinct input, the ranking three times on three pairs of
    sides (rank_causes, chance_score's last and first blocks), the comparison once (rank_causes reads the
    postmortem's, it does not compare again)."""
    from tracekit.core.cache import clear_cache

    from .conftest import lab_window

    w = lab_window("exception", seed=5, status=True)
    logs, metrics = w.logs, w.metrics  # made on first read (FaultWindow): not the postmortem's steps
    clear_cache()  # the span trees and outcomes of earlier tests' equal frames are not taken from the cache here
    with _counting() as seen:
        pm = tk.postmortem(w.incident, w.baseline, logs=logs, metrics=metrics)
    assert pm.causes is not None and len(pm.causes)
    repeated = {name: max(c.values()) for name, c in seen.items() if c and max(c.values()) > 1}
    assert repeated == {}, repeated
    assert sum(seen["_ranking"].values()) == 3, seen["_ranking"]
    assert sum(seen["compare"].values()) == 1
    assert sum(seen["detect_changes"].values()) >= 1
    assert sum(seen["_build"].values()) >= 2 and sum(seen["_outcomes"].values()) >= 2  # the spies saw the cached steps
