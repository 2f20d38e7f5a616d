"""What a postmortem says beside a baseline given, and how much a victim's metrics count (session 52, found by a
fresh SRE read of reports on fault-lab seeds nobody tuned on).

- With the incident window given with its baseline (the usual ``--baseline`` use), "When" led with "No onset found:
  no change in the requests was detected beyond chance" (of the window's own time) and "What happened" gave the
  incident's p95 beside the baseline's with no verdict: network_delay seed 205, 90 of the 120 requests above the
  baseline's p95.
- One new one-span client operation of a service lifted the metrics' own-time cap for every row of it: a caller of
  the delayed pod, its own time unchanged, scored 0.78 on its request-duration metric beside the cause's 0.91.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.metric_evidence import NEW_OPERATION_SHARE, _own_time_cap
from tracekit.core import trace_outcomes

from .conftest import lab_window


def _requests_ms(spans: pd.DataFrame) -> np.ndarray:
    o = trace_outcomes(spans)
    return o.loc[o["request"].to_numpy(dtype=bool), "request_ms"].to_numpy(dtype=float)


@pytest.fixture(scope="module")
def delayed():
    return lab_window("network_delay", 205)


def test_what_says_slower_than_the_baseline_given_with_its_count(delayed):
    w = delayed
    pm = tk.postmortem(w.incident, w.baseline, n_boot=20)
    what = next(f for f in pm.findings if f.topic == "what")
    a, b = _requests_ms(w.incident), _requests_ms(w.baseline)
    above = int((a > np.quantile(b, 0.95, method="inverted_cdf")).sum())
    assert above >= 0.5 * len(a)  # the truth by construction: most requests pass the baseline's p95
    assert what.evidence["slower_than_baseline"] is True
    assert what.evidence["requests_above_baseline_p95"] == above
    assert f"Slower than the baseline: {above} of the {len(a)} requests took longer than the baseline's p95" in what.text
    assert f"the baseline's p50 was {tk.core.words.ms_text(float(np.quantile(b, 0.5, method='inverted_cdf')))}" \
        in what.text
    when = next(f for f in pm.findings if f.topic == "when")
    assert when.text.startswith("No onset within the window: its requests did not change over its own time")
    assert "No onset found" not in when.text and "compared with the baseline given" in when.text


def test_what_says_neither_when_nothing_changed():
    """A null window with its baseline: no verdict of slower or failing (and the counts that say why)."""
    w = lab_window("null", 205)
    pm = tk.postmortem(w.incident, w.baseline, n_boot=20)
    what = next(f for f in pm.findings if f.topic == "what")
    assert what.evidence["slower_than_baseline"] is False and what.evidence["failing_more_than_baseline"] is False
    assert "Neither slower nor failing more often than the baseline beyond chance (at 0.01)" in what.text
    a = _requests_ms(w.incident)
    assert what.evidence["requests_with_latency"] == len(a)
    # by chance: n (j + 1) / (N + 1), j the baseline's requests above its p95 (its own value: beta-binomial)
    b = _requests_ms(w.baseline)
    j = int((b > np.quantile(b, 0.95, method="inverted_cdf")).sum())
    assert what.evidence["above_baseline_p95_by_chance"] == pytest.approx(len(a) * (j + 1) / (len(b) + 1))


def test_failing_more_often_is_counted_with_fisher():
    w = lab_window("exception", 3)  # the fault from the incident's first request
    pm = tk.postmortem(w.incident, w.baseline, n_boot=20)
    what = next(f for f in pm.findings if f.topic == "what")
    o, ob = trace_outcomes(w.incident), trace_outcomes(w.baseline)
    k = int(o.loc[o["request"].to_numpy(dtype=bool), "failed"].astype(float).sum())
    kb = int(ob.loc[ob["request"].to_numpy(dtype=bool), "failed"].astype(float).sum())
    assert what.evidence["failing_more_than_baseline"] is True
    assert what.evidence["failed"] == k and what.evidence["failed_baseline"] == kb
    assert f"{k} of " in what.text and f"failed against {kb} of the baseline's" in what.text
    assert "failing more often than the baseline" in what.text.lower()


def _cap_table(new_spans: int) -> pd.DataFrame:
    # one service: two measured server operations (own time did not rise: slower 0.01) and a new one (no baseline span)
    return pd.DataFrame({"service": ["inv", "inv", "inv"], "slower": [0.01, 0.0, 0.0],
                         "spans": [60, 34, new_spans], "_n_slower": [60, 34, 0], "baseline_spans": [150, 80, 0]})


def test_one_new_span_does_not_lift_the_cap_of_a_whole_service():
    ev = pd.DataFrame({"service": ["inv"], "family": ["latency"], "evidence": [0.69]})
    capped = _own_time_cap(ev, _cap_table(1), "service")
    assert capped["evidence"].iloc[0] == pytest.approx(0.01)  # at most its own time's evidence
    # new operations holding a material share of its spans: the metric is the only view of their time, uncapped
    many = int(np.ceil(NEW_OPERATION_SHARE * 94 / (1 - NEW_OPERATION_SHARE)))
    kept = _own_time_cap(ev, _cap_table(many), "service")
    assert kept["evidence"].iloc[0] == pytest.approx(0.69)


def test_a_victim_of_the_delay_is_not_ranked_on_its_callees_time(delayed):
    w = delayed
    pm = tk.postmortem(w.incident, w.baseline, logs=w.logs, metrics=w.metrics, n_boot=20)
    rc = pm.causes
    assert rc.iloc[0]["service"] == w.truth.service
    inv = rc[rc["service"] == "inventory-service"]
    assert len(inv) and float(inv["score"].max()) < 0.3  # 0.78 before (its request-duration metric uncapped)
    null = rc.attrs["null_reference"]["score"]
    assert float(inv["score"].max()) < null


@pytest.mark.slow  # a report (~10 s on 2 loaded cores)
def test_a_report_of_spans_cut_below_their_roots_shows_no_empty_pairs(tmp_path):
    """cpu_consumed seed 210 with the incident's root spans lost, its baseline whole: the ranking's and the
    comparison's critical-path cells read "[, ]" and " → " (15 and 24 cells) and the comparison's chart was empty
    axes: no critical path is walked without a root."""
    import re

    w = lab_window("cpu_consumed", 210)
    inc = w.incident[w.incident["parent_id"].notna()]
    page = tk.report(inc, tmp_path / "r.html", baseline=w.baseline).read_text()
    assert not re.findall(r"<td>\s*\[, \]</td>", page) and not re.findall(r"<td>\s*→\s*</td>", page)
    assert 'id="compare-none"' in page and "No critical path to compare" in page
    assert 'id="causes-table"' in page and 'id="compare-table"' in page  # the tables are still there


def test_no_root_span_is_not_too_few_requests():
    """Spans cut below their roots, no baseline: "Too few requests (0) to look for an onset" of 120 traces."""
    w = lab_window("cpu_consumed", 210)
    inc = w.incident[w.incident["parent_id"].notna()]
    when = next(f for f in tk.postmortem(inc, n_boot=20).findings if f.topic == "when")
    assert when.text.startswith("No request to look for an onset in: no trace holds its request's root span")
    assert "Too few requests" not in when.text and when.evidence["no_root"] is True
