"""Where no span records a status (TrainTicket-like exports: every status unset, no HTTP code), every module says the
error rate is unknown, never 0: the report's headline table, the timeline and its figure, the comparison of "What
changed", the postmortem's first screen, all by one kernel definition (tracekit.core.status_recorded). Frames with a
status keep their numbers."""

from __future__ import annotations

import re

import numpy as np
import pytest

import tracekit as tk
from tracekit.analysis.timeline import request_rows
from tracekit.core import failed_share, status_recorded, trace_outcomes
from tracekit.reporting import collect_report, render_markdown, render_report
from tracekit.simulate_faults import fault_window

SHARES = ["failed_share", "any_failed_share"]


def _headline_row(page: str, estimate: str) -> list[str]:
    table = page[page.index('id="headline-table"'):]
    table = table[:table.index("</table>")]
    row = next(r for r in table.split("<tr>") if r.startswith(f"<td>{estimate}</td>"))
    return re.findall(r"<td[^>]*>(.*?)</td>", row)


@pytest.mark.parametrize("seed", [5, pytest.param(8, marks=pytest.mark.slow), 11])
def test_modules_agree_the_error_rate_is_unknown_without_status(seed):
    w = fault_window("exception", seed=seed, status=False)
    assert not status_recorded(w.incident) and not status_recorded(w.baseline)
    data = collect_report(w.incident, baseline=w.baseline)

    # the report's headline table: NaN in the result, "unknown" on the page and in report.md, with a note
    h = data.headline
    assert h[SHARES].isna().all().all(), h[SHARES]
    assert set(h.attrs["status_unknown"]) == set(h["estimate"])
    page = render_report(data)
    cols = re.findall(r"<th>(.*?)</th>", page[page.index('id="headline-table"'):].split("</thead>")[0])
    for est in h["estimate"]:
        cells = _headline_row(page, est)
        for c in SHARES:
            assert cells[cols.index(c)] == "unknown", (est, c, cells)
    assert 'id="headline-status"' in page and "unknown, not 0" in page
    md = render_markdown(data)
    assert "| unknown |" in md and "unknown, not 0" in md

    # the timeline: the failed count and the error rate are NaN in every bucket, whatever the key; the figure says so
    for by in (None, "route", "service"):
        tl = tk.timeline(w.incident, "1min", by=by)
        assert tl.attrs["status_recorded"] is False
        assert (tl["requests"] > 0).any()
        assert tl[["failed", "error_rate", "error_rate_lo", "error_rate_hi"]].isna().all().all(), by
    fig = tk.plot_timeline(w.incident, "1min", by="route")
    assert any(a.name == "error rate unknown" for a in fig.layout.annotations)
    assert "error rate: unknown (no span records a status)" in page  # the report's own timeline figure

    # the comparison behind "What changed" (and rank_causes' delta_error_rate): NaN, "unknown → unknown" on the page
    assert data.comparison[["error_rate_a", "error_rate_b", "delta_error_rate"]].isna().all().all()
    assert data.story.causes["delta_error_rate"].isna().all()
    assert "<td>unknown → unknown</td>" in page and "<td>0.0 % → 0.0 %</td>" not in page

    # the postmortem (the report's story): its first screen says unknown too, and no module says 0 %
    what = data.story.sentences("what")[0]
    assert "error rate unknown" in what and "error rate 0.0 %" not in what, what
    assert any(s.startswith("Status: no incident span carries a status") for s in data.story.sentences("sure"))


@pytest.mark.parametrize("seed", [5, pytest.param(11, marks=pytest.mark.slow)])
def test_frames_with_status_keep_their_error_rates(seed):
    w = fault_window("exception", seed=seed, status=True)
    assert status_recorded(w.incident)
    data = collect_report(w.incident, baseline=w.baseline)
    h = data.headline
    assert h.attrs["status_unknown"] == []
    for est, spans in (("as sampled", w.incident), ("baseline, as sampled", data.story.baseline)):
        o = trace_outcomes(spans)
        row = h[h["estimate"] == est].iloc[0]
        assert row["failed_share"] == pytest.approx(failed_share(o)[0])
        assert row["any_failed_share"] == pytest.approx(float((o["failed_spans"] > 0).mean()))
    assert h.loc[h["estimate"] == "as sampled", "failed_share"].iloc[0] > 0  # the fault shows
    assert data.comparison["error_rate_a"].notna().any() and data.comparison["error_rate_b"].notna().any()
    page = render_report(data)
    assert 'id="headline-status"' not in page and "unknown →" not in page and "error rate: unknown" not in page
    assert "unknown" not in _headline_row(page, "as sampled")

    tl = tk.timeline(w.incident, "1min")
    assert tl.attrs["status_recorded"] is True
    rows = request_rows(w.incident)
    assert tl["failed"].sum() == rows["failed"].sum() > 0
    busy = tl["requests"] > 0
    assert np.allclose(tl.loc[busy, "error_rate"], tl.loc[busy, "failed"] / tl.loc[busy, "requests"])
    fig = tk.plot_timeline(w.incident, "1min", by="route")
    assert not any(a.name == "error rate unknown" for a in fig.layout.annotations)


@pytest.mark.browser
def test_the_status_less_report_says_unknown_in_the_browser(tmp_path):
    """The rendered page (Chromium): the timeline's error-rate row carries its "unknown" note and the headline table
    its "unknown" cells; no JS error."""
    from .browser import open_html

    w = fault_window("exception", seed=5, status=False)
    out = tmp_path / "report.html"
    tk.report(w.incident, out, baseline=w.baseline)
    page = open_html(out, wait_for=".js-plotly-plot .main-svg", dom=True, evaluate=(
        "() => [Array.from(document.querySelectorAll('#timeline .annotation-text')).map(e => e.textContent),"
        " Array.from(document.querySelectorAll('#headline-table td')).map(e => e.textContent)]"))
    assert page.errors == []
    notes, cells = page.value
    assert any(t.startswith("unknown: no span carries a status") for t in notes), notes
    assert any(t.startswith("error rate: unknown") for t in notes), notes  # the row's title
    assert cells.count("unknown") == 4 and "0.0 %" not in cells, cells
