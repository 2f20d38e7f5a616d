"""Nothing the user had is mutated, for every public function at once: each call below is given frames whose whole
content (values, nested attributes and events, dtypes, index, attrs) is fingerprinted before and after. The
per-function tests of earlier sessions each checked one function; this table covers the public API that takes a
spans, logs or metrics frame (a new public function that takes one belongs here)."""

from __future__ import annotations

import math

import numpy as np
import orjson
import pandas as pd
import pytest

import tracekit as tk


def _canon(v):
    """A cell's content as JSON-able data: dicts, lists, tuples and arrays by value, NaN / NA as one token."""
    if isinstance(v, dict):
        return {"d": sorted((str(k), _canon(x)) for k, x in v.items())}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_canon(x) for x in v]
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return "<missing>"
    if isinstance(v, (np.integer, np.floating, np.bool_)):
        return v.item()
    if isinstance(v, (int, float, str, bool)):
        return v
    return repr(v)


def fingerprint(frame: pd.DataFrame) -> bytes:
    cols = {str(c): [_canon(x) for x in frame[c].tolist()] for c in frame.columns}
    meta = {"columns": [str(c) for c in frame.columns], "dtypes": [str(d) for d in frame.dtypes],
            "index": [_canon(x) for x in frame.index.tolist()], "attrs": repr(sorted((str(k), repr(v)) for k, v in frame.attrs.items()))}
    return orjson.dumps({"meta": meta, "cols": cols}, option=orjson.OPT_SORT_KEYS, default=repr)


@pytest.fixture(scope="module")
def frames():
    import tracekit.simulate_signals as ss

    every = tk.examples.load("checkout-small")
    ids = every["trace_id"].drop_duplicates().tolist()
    spans = every[every["trace_id"].isin(ids[len(ids) // 2:])].reset_index(drop=True)
    baseline = every[every["trace_id"].isin(ids[: len(ids) // 2])].reset_index(drop=True)
    logs = ss.app_logs(every)
    metrics = ss.app_metrics(every, interval_s=60.0)
    return spans, baseline, logs, metrics


@pytest.fixture(scope="module")
def fingerprints(frames):
    """The frames' fingerprints, taken once (each test's deep copies hold the same content: a test whose call edited
    a shared nested cell makes every later test of the module fail too, which is stricter, not weaker)."""
    return [fingerprint(f) for f in frames]


def _first(s):
    return s["trace_id"].iloc[0]


def _mid(s):
    return s["start"].min() + (s["end"].max() - s["start"].min()) / 2


CALLS = {
    "trace_summary": lambda s, b, lg, m: tk.trace_summary(s),
    "self_time": lambda s, b, lg, m: tk.self_time(s),
    "health_report": lambda s, b, lg, m: tk.health_report(s),
    "detect_clock_skew": lambda s, b, lg, m: tk.detect_clock_skew(s),
    "adjust_clock_skew": lambda s, b, lg, m: tk.adjust_clock_skew(s),
    "find_pii": lambda s, b, lg, m: tk.find_pii(s),
    "redact": lambda s, b, lg, m: tk.redact(s, keys=["http.url"]),
    "service_graph": lambda s, b, lg, m: tk.service_graph(s),
    "critical_path": lambda s, b, lg, m: tk.critical_path(s),
    "critical_path_breakdown": lambda s, b, lg, m: tk.critical_path_breakdown(tk.critical_path(s), spans=s),
    "critical_path_tree": lambda s, b, lg, m: tk.critical_path_tree(tk.critical_path(s), spans=s),
    "saving_potential": lambda s, b, lg, m: tk.saving_potential(tk.critical_path(s), spans=s),
    "compare": lambda s, b, lg, m: tk.compare(s, b),
    "find_repeated_calls": lambda s, b, lg, m: tk.find_repeated_calls(s),
    "diff_traces": lambda s, b, lg, m: tk.diff_traces(s, _first(s), s["trace_id"].iloc[-1]),
    "exemplars": lambda s, b, lg, m: tk.exemplars(s, s),
    "what_if": lambda s, b, lg, m: tk.what_if(s, {s["service"].iloc[0]: 0.5}, n_boot=50),
    "stitch": lambda s, b, lg, m: tk.stitch(s),
    "workflow_summary": lambda s, b, lg, m: tk.workflow_summary(s),
    "workflow_critical_path": lambda s, b, lg, m: tk.workflow_critical_path(s),
    "reconnect": lambda s, b, lg, m: tk.reconnect(s),
    "sampling_weights": lambda s, b, lg, m: tk.sampling_weights(s),
    "weighted_summary": lambda s, b, lg, m: tk.weighted_summary(s, 1.0, n_boot=50),
    "sampling_bias": lambda s, b, lg, m: tk.sampling_bias(s, b),
    "bubble_up": lambda s, b, lg, m: tk.bubble_up(s, lambda t: t.request_ms > t.request_ms.median()),
    "version_regressions": lambda s, b, lg, m: tk.version_regressions(s, n_boot=50),
    "cold_starts": lambda s, b, lg, m: tk.cold_starts(s, n_boot=50),
    "timeline": lambda s, b, lg, m: tk.timeline(s, by="service", metrics=m),
    "select_requests": lambda s, b, lg, m: tk.select_requests(s),
    "postmortem": lambda s, b, lg, m: tk.postmortem(s, b, logs=lg, metrics=m),
    "deployments": lambda s, b, lg, m: tk.deployments(s),
    "detect_changes": lambda s, b, lg, m: tk.detect_changes(s),
    "split_by_change": lambda s, b, lg, m: tk.split_by_change(s, (_mid(s), s["end"].max())),
    "lambda_invocations": lambda s, b, lg, m: tk.lambda_invocations(s),
    "rank_causes": lambda s, b, lg, m: tk.rank_causes(s, b, logs=lg, metrics=m),
    "peer_outliers": lambda s, b, lg, m: tk.peer_outliers(s),
    "error_origins": lambda s, b, lg, m: tk.error_origins(s),
    "top_exceptions": lambda s, b, lg, m: tk.top_exceptions(s),
    "traceql": lambda s, b, lg, m: tk.traceql(s, "{ duration > 10ms } >> { }"),
    "traceql_metrics": lambda s, b, lg, m: tk.traceql_metrics(s, "{ } | rate() by (resource.service.name)"),
    "waterfall_data": lambda s, b, lg, m: tk.waterfall_data(s, _first(s)),
    "plot_waterfall": lambda s, b, lg, m: tk.plot_waterfall(s, _first(s)),
    "plot_latency": lambda s, b, lg, m: tk.plot_latency(s),
    "plot_latency_ecdf": lambda s, b, lg, m: tk.plot_latency_ecdf(s, b),
    "plot_heatmap": lambda s, b, lg, m: tk.plot_heatmap(s),
    "plot_timeline": lambda s, b, lg, m: tk.plot_timeline(s, metrics=m),
    "format_summary": lambda s, b, lg, m: tk.format_summary(s),
    "baseline_comparability": lambda s, b, lg, m: tk.baseline_comparability(s, b),
    "skew_story": lambda s, b, lg, m: tk.skew_story(s),
    "log_templates": lambda s, b, lg, m: tk.log_templates(lg),
    "attach_logs": lambda s, b, lg, m: tk.attach_logs(s, lg),
    "log_evidence": lambda s, b, lg, m: tk.log_evidence(s, b, lg),
    "metric_rates": lambda s, b, lg, m: tk.metric_rates(m),
    "metric_series": lambda s, b, lg, m: tk.metric_series(m),
    "detect_metric_changes": lambda s, b, lg, m: tk.detect_metric_changes(m),
    "metric_exemplars": lambda s, b, lg, m: tk.metric_exemplars(m),
    "metric_evidence": lambda s, b, lg, m: tk.metric_evidence(m, (_mid(s), s["end"].max()), (s["start"].min(), _mid(s))),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_public_function_leaves_its_input_frames_as_they_were(frames, fingerprints, name):
    spans, baseline, logs, metrics = (f.copy(deep=True) for f in frames)
    before = fingerprints
    result = CALLS[name](spans, baseline, logs, metrics)
    after = [fingerprint(f) for f in (spans, baseline, logs, metrics)]
    changed = [n for n, x, y in zip(("spans", "baseline", "logs", "metrics"), before, after, strict=True) if x != y]
    assert not changed, f"{name} changed its input {changed}"
    # and what it returned is not the input itself
    table = getattr(result, "table", result)
    for f in (spans, baseline, logs, metrics):
        assert table is not f


def test_the_fingerprint_sees_a_nested_edit(frames):
    """Ground truth for the check above: editing one attribute inside one cell changes the fingerprint."""
    spans = frames[0].copy(deep=True)
    before = fingerprint(spans)
    row = next(i for i, a in enumerate(spans["attributes"]) if a)
    key = next(iter(spans["attributes"].iloc[row]))
    spans["attributes"].iloc[row][key] = "edited"
    assert fingerprint(spans) != before
