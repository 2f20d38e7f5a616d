"""Session 46, report: defects a reader of the HTML postmortem report found, each pinned against ground truth built
by construction."""
from __future__ import annotations

import tracekit as tk
from tracekit.analysis.changes import incident_periods
from tracekit.reporting import collect_report, render_markdown, render_report


def _one_trace():
    spans = tk.simulate.simulate("baseline", n_traces=40, seed=3).spans
    return spans[spans["trace_id"] == spans["trace_id"].iloc[0]].reset_index(drop=True)


def test_one_trace_says_no_change_was_looked_for_not_that_none_was_found():
    """One trace (7 spans, one request): no route has enough buckets for detect_changes to test a single series
    (its n_series is 0), so no change over time was looked for. The report's header and "How sure" said "Baseline:
    none (no baseline given and no change over time found)" while its "When" said "Too few requests (1) to look for
    an onset" — two sections contradicting each other on whether a change was searched for."""
    spans = _one_trace()
    assert spans["trace_id"].nunique() == 1
    p = incident_periods(spans)
    assert p.changes.attrs["params"]["n_series"] == 0  # by construction: nothing was tested
    assert p.baseline is None and p.window is None
    assert "no change over time found" not in p.source
    assert "too little data" in p.source


def test_a_searched_hour_without_a_change_still_says_none_found():
    """Control: the fault-free shop hour (200 traces, 3 routes tested) was searched and nothing passed: "no change
    over time found" is then the right words."""
    spans = tk.simulate.simulate("baseline", n_traces=200, seed=3).spans
    p = incident_periods(spans)
    assert p.changes.attrs["params"]["n_series"] > 0
    assert p.source == "none (no baseline given and no change over time found in the requests' latency or errors)"


def test_one_trace_report_header_agrees_with_its_when_section():
    """The rendered key findings of a one-trace file: the header's baseline words and the "When" finding agree
    that no onset was looked for (the old header said one was looked for and not found)."""
    spans = _one_trace()
    data = collect_report(spans)
    md = render_markdown(data)
    html = render_report(data)
    for text in (md, html):
        assert "Too few requests (1) to look for an onset" in text
        assert "no change over time found" not in text


def test_fifteen_requests_tested_for_an_onset_are_not_said_too_few_to_look_at():
    """15 requests of the shop over an hour: detect_changes tested 2 routes (n_series 2, and a change there would
    have been the report's onset), yet "When" said "Too few requests (15) to look for an onset" beside the header's
    "no change over time found". Now both say a search was made and found nothing."""
    spans = tk.simulate.simulate("baseline", n_traces=15, seed=3).spans
    p = incident_periods(spans)
    assert p.changes.attrs["params"]["n_series"] > 0 and p.window is None  # by construction: searched, none found
    md = render_markdown(collect_report(spans))
    assert "no change over time found" in md
    assert "Too few requests" not in md
    assert "No onset found" in md
