"""Session 49, the lead's fixes (each test fails on main before them, unless called a control)."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

import tracekit as tk
from tracekit.analysis.changes import incident_periods

ROOT = Path(__file__).resolve().parents[1]


def test_the_found_baselines_period_and_the_metrics_say_the_same_minutes():
    """The found baseline's period was said by its bound: "(14:00–14:29 UTC, 570 traces; not the 13 traces of the 1
    min before the change ...)" — a period holding nothing of 14:29 read as one that ends with it, beside "started
    14:30" and beside the metrics sentence's "baseline's period (2026-03-02 14:00–14:28 UTC)" of the same spans.
    Now both say 14:00–14:28: the period's text ends at its last instant, as the incident's does."""
    spans = tk.read(ROOT / "datasets" / "deploy-regression")
    metrics = tk.read_metrics(ROOT / "datasets" / "deploy-regression-signals" / "metrics.jsonl.gz")
    pm = tk.postmortem(spans, metrics=metrics)
    source = pm.baseline_source
    said = re.search(r"before the change \((\d\d:\d\d)–(\d\d:\d\d) UTC", source)
    assert said, source
    metric_sentence = next(t for t in pm.sentences("sure") if t.startswith("Metrics:"))
    in_metrics = re.search(r"baseline's period \(\d{4}-\d\d-\d\d (\d\d:\d\d)–(\d\d:\d\d) UTC\)", metric_sentence)
    assert in_metrics, metric_sentence
    assert said.groups() == in_metrics.groups() == ("14:00", "14:28")
    # and by the data: the last baseline request started in the minute said, the change's first bucket two later
    last = pm.baseline["start"].max()
    assert f"{last:%H:%M}" == said.group(2)


def test_a_period_said_with_seconds_ends_before_its_bound():
    """Windows under ten minutes are said with seconds; the period before a change found at a bucket's start ends
    the second before the bucket that was left out (it said the bucket's own start)."""
    t0 = pd.Timestamp("2026-03-02 14:00", tz="UTC")
    rows = []
    for i in range(480):  # a request a second for 8 minutes; from 14:06 the route is 5x slower
        start = t0 + pd.Timedelta(seconds=i)
        ms = 50.0 * (5 if i >= 360 else 1) * (1 + (i * 7919 % 13) / 50)
        rows.append(dict(trace_id=f"{i:032x}", span_id=f"{i:016x}", parent_id=None, service="web", name="GET /a",
                         kind="server", start=start, end=start + pd.Timedelta(milliseconds=ms)))
    spans = tk.spans_from_columns(pd.DataFrame(rows))
    p = incident_periods(spans, freq="30s")
    assert p.window is not None and p.window[0] == t0 + pd.Timedelta(minutes=6)
    said = re.search(r"before the change \((\d\d:\d\d:\d\d)–(\d\d:\d\d:\d\d) UTC", p.source)
    assert said, p.source
    guard = p.window[0] - pd.Timedelta(p.freq)  # 14:05:30, the bucket left out
    assert said.group(2) == f"{guard - pd.Timedelta(seconds=1):%H:%M:%S}" == "14:05:29"
    assert p.baseline["start"].max() < guard
