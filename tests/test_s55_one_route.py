"""Session 55: one route per request across the report. The within-route faster count keyed a request by its root
service and operation while the traffic mix, the timeline and the baseline check keyed it by ``http.route``
(:func:`tracekit.core.request_routes`); now every one takes it from there. Each test says what the code before it did."""

from __future__ import annotations

import numpy as np
import pandas as pd

import tracekit as tk
from tracekit.analysis.baseline_check import baseline_comparability
from tracekit.analysis.timeline import request_rows
from tracekit.core import request_routes, span_tree
from tracekit.investigate.postmortem import _with_routes

T0 = 1_700_000_000_000_000_000


def _one_name_two_routes(n: int, fast_share: float, seed: int, t0: int) -> pd.DataFrame:
    """``n`` requests to one service and operation ("web: GET") on two routes: /fast (~10 ms) and /slow (~100 ms)."""
    rng = np.random.default_rng(seed)
    fast = rng.random(n) < fast_share
    ms = np.where(fast, rng.normal(10, 1, n), rng.normal(100, 10, n))
    start = t0 + np.arange(n) * 1_000_000_000
    return tk.spans_from_columns({
        "trace_id": [f"{seed:04d}{i:028x}" for i in range(n)], "span_id": [f"{i:016x}" for i in range(n)],
        "parent_id": [None] * n, "service": ["web"] * n, "name": ["GET"] * n, "kind": ["server"] * n,
        "start": start, "end": start + (ms * 1e6).astype(np.int64),
        "attributes": [{"http.route": "/fast" if f else "/slow"} for f in fast]})


def test_a_route_mix_that_moved_is_not_read_as_a_faster_window():
    # 5 % of the baseline's requests on /fast, half of the window's: the window is no faster on either route. The
    # code before keyed the within-route count by "web: GET" (one route for both), so it read "Faster than the
    # baseline, which may itself hold an incident" (within routes p = 2e-72) right beside "the baseline is another
    # mix of routes"
    base = _one_name_two_routes(300, 0.05, 1, T0)
    inc = _one_name_two_routes(120, 0.5, 2, T0 + 3600 * 10**9)
    pm = tk.postmortem(inc, base, n_boot=20)
    what = next(f for f in pm.findings if f.topic == "what")
    assert what.evidence["faster_p_value"] < 1e-6  # pooled, the window is faster: the mix moved
    assert what.evidence["faster_within_routes_p_value"] > 0.01 and what.evidence["faster_p50_within_routes_p_value"] > 0.01
    assert what.evidence["faster_than_baseline"] is False and "Faster than" not in what.text
    assert "another mix of routes" in what.text  # the mix is what is said instead


def test_every_part_of_the_report_reads_one_route_per_request():
    # the routes of the requests as the timeline counts them (request_rows by="route"), as the postmortem's baseline
    # tests key them and as the baseline check counts them: one definition (core.request_routes)
    spans = pd.concat([tk.simulate.simulate("context-drop", 200, seed=5).spans,
                       _one_name_two_routes(40, 0.5, 3, T0)], ignore_index=True)
    tree = span_tree(spans)
    truth = pd.Series(request_routes(spans, tree), index=tree.trace_ids, dtype=object)
    assert truth.nunique() >= 4 and {"/fast", "/slow"} <= set(truth)
    rows = request_rows(spans, "route")
    assert dict(zip(rows["trace_id"], rows["route"].astype(object), strict=True)) == truth[rows["trace_id"]].to_dict()
    pm_rows = _with_routes(spans)
    req = pm_rows[pm_rows["request"].to_numpy(dtype=bool)]
    assert dict(zip(req["trace_id"], req["route"], strict=True)) == truth[req["trace_id"]].to_dict()
    assert baseline_comparability(spans, spans).routes[0] == truth.dropna().nunique()
