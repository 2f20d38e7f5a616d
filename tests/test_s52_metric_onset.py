"""Where the requests show no onset, the metrics beside them may: their change window is the incident (session 52).

A pod's CPU starved by a neighbour (fault lab cpu_contention, one of three pods) slows only the requests through it:
every route's p95 stayed within chance, so a postmortem of the whole period (its normal minutes and the fault's, as
one frame, with the metrics given) said "No baseline to compare with, so no cause can be ranked" while the pod's own
process.cpu.utilization stepped 0.02 -> 0.38 at the fault's first second. Now :func:`tracekit.analysis.metric_changes.metric_incident_periods`
searches the metrics given (by service and host, at the requests' bucket) when the requests show no change and no
baseline is given, and its headline window cuts the incident and the found baseline.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.changes import incident_periods
from tracekit.analysis.metric_changes import metric_incident_periods

from .conftest import lab_window

NOISY = dict(background_errors=0.01, drift=0.3, noisy_neighbour=0.5)


def _one_frame(w) -> pd.DataFrame:
    return pd.concat([w.baseline, w.incident], ignore_index=True)


@pytest.fixture(scope="module")
def contention():
    w = lab_window("cpu_contention", 0)
    return w, _one_frame(w)


def test_metrics_find_the_window_the_requests_do_not(contention):
    w, both = contention
    plain = incident_periods(both)
    assert plain.change is None and plain.window is None and plain.baseline is None  # the requests alone: nothing
    p = metric_incident_periods(both, metrics=w.metrics)
    assert p.change is None  # no request change is made up
    m = p.metric_change
    assert m is not None and m["host"] == w.truth.pod and m["name"] == "process.cpu.utilization"
    assert m["during"] > 5 * m["before"]
    assert p.window[0] == w.truth.time and pd.isna(p.window[1])  # to the bucket; still going at the data's end
    assert p.metric_changes is not None and w.truth.pod in set(p.metric_changes["host"].astype(object))
    # the incident is the traces started in the window; the baseline the ones before it, less the guard bucket
    first = p.incident.groupby("trace_id")["start"].min()
    assert (first >= w.truth.time).all() and p.incident["trace_id"].nunique() == w.incident["trace_id"].nunique()
    assert p.baseline is not None and not set(p.baseline["trace_id"]) & set(p.incident["trace_id"])
    assert (p.baseline.groupby("trace_id")["start"].min() < w.truth.time - pd.Timedelta(p.freq)).all()
    assert "the change" in p.source


def test_postmortem_ranks_the_pod_found_in_the_metrics(contention):
    w, both = contention
    pm = tk.postmortem(both, level="service", metrics=w.metrics)
    when = next(f for f in pm.findings if f.topic == "when")
    assert when.evidence["onset_from"] == "metrics" and when.evidence["onset"] == w.truth.time
    assert when.evidence["metric_host"] == w.truth.pod
    assert when.text.startswith("No onset found in the requests")
    assert w.truth.pod in when.text and "taken as the incident" in when.text
    assert "The whole window" not in when.text  # the window is the metrics', not the data's
    # the baseline is the period the search found (here before the window), not "the period around them" (s53 SRE)
    assert "compared below with the baseline found outside that window" in when.text
    assert "period around them" not in when.text
    assert pm.window[0] == w.truth.time
    where = next(f for f in pm.findings if f.topic == "where")
    assert where.text.startswith("Likely cause") and pm.causes.iloc[0]["service"] == w.truth.service
    what = next(f for f in pm.findings if f.topic == "what")
    # the incident's own requests and window: not the whole data's window
    assert what.evidence["requests"] == w.incident["trace_id"].nunique()
    head = what.text.split("against")[0]
    assert f"{w.incident['start'].min():%H:%M:%S}–" in head and f"{both['start'].min():%H:%M:%S}" not in head


def test_rank_causes_takes_the_same_window(contention):
    w, both = contention
    with pytest.raises(tk.ArgumentError, match="no change over time found"):
        tk.rank_causes(both, level="service")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        rc = tk.rank_causes(both, level="service", metrics=w.metrics, n_boot=20)
    assert rc.iloc[0]["service"] == w.truth.service


def test_a_noisy_neighbour_in_a_null_window_is_no_likely_cause():
    """Nothing injected; a neighbour's CPU rises with the window (noisy seeds): the metrics find the window, and the
    ranking says nothing stands out beyond chance rather than calling the neighbour a cause."""
    w = lab_window("null", 2, **NOISY)
    both = _one_frame(w)
    pm = tk.postmortem(both, level="service", metrics=w.metrics)
    when = next(f for f in pm.findings if f.topic == "when")
    assert when.evidence["onset_from"] == "metrics" and when.evidence["metric_host"] == w.truth.neighbour_pod
    where = next(f for f in pm.findings if f.topic == "where")
    assert not where.text.startswith("Likely cause") and "beyond chance" in where.text.split(".")[0]


def test_the_metrics_are_not_searched_where_the_requests_changed_or_a_baseline_is_given():
    w = lab_window("network_delay", 0)  # its requests step: found in the requests
    both = _one_frame(w)
    p = metric_incident_periods(both, metrics=w.metrics)
    assert p.change is not None and p.metric_change is None and p.metric_changes is None
    c = lab_window("cpu_contention", 0)
    given = metric_incident_periods(c.incident, c.baseline, metrics=c.metrics)
    assert given.metric_change is None and given.baseline is c.baseline


def test_metrics_outside_the_spans_time_find_nothing(contention):
    """A step in the metrics after the traces' last end is not the traces' window (and nothing is made up)."""
    w, both = contention
    m = w.metrics.copy()
    m["time"] = m["time"] + pd.Timedelta("1h")
    p = metric_incident_periods(both, metrics=m)
    assert p.metric_change is None and p.window is None and p.baseline is None


def test_a_metrics_frame_is_required(contention):
    w, both = contention
    with pytest.raises(tk.ArgumentError, match="not a metrics frame"):
        metric_incident_periods(both, metrics=w.logs)
