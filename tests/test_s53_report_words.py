"""Session 53: an SRE's reading of reports on real Nezha windows and unseen fault-lab seeds (helper review, findings
1, 9, 10): words that said more than the numbers beside them."""

from __future__ import annotations

import tracekit as tk

from .conftest import lab_window


def _what(pm):
    return next(f for f in pm.findings if f.topic == "what")


def test_no_status_does_not_clear_the_incident_of_failures():
    # the Nezha TrainTicket exception window 09:25:39 (no span carries a status) read "Neither slower nor failing more
    # often than the baseline beyond chance" — no failure test had run; its ERROR logs rose 0 of 46 -> 8 of 12
    w = lab_window("null", 205, status=False)
    assert not tk.core.status_recorded(w.incident)
    what = _what(tk.postmortem(w.incident, w.baseline, n_boot=20))
    assert "failing more often" not in what.text, what.text
    assert "Not slower than the baseline beyond chance (at 0.01)" in what.text
    assert "whether more requests failed cannot be told: no failure could be counted on both sides" in what.text
    assert what.evidence["slower_than_baseline"] is False and "failing_p_value" not in what.evidence


def test_with_status_the_failures_are_still_tested_and_said():
    w = lab_window("null", 205, status=True)
    what = _what(tk.postmortem(w.incident, w.baseline, n_boot=20))
    assert "Neither slower nor failing more often than the baseline beyond chance (at 0.01)" in what.text
    assert "failing_p_value" in what.evidence and "cannot be told" not in what.text


def test_frames_given_say_what_was_analysed_not_none():
    # tk.report(frame, ...) of a Nezha window read "What was analysed: none", above "Logs: 11,656 records"
    import re

    from tracekit.reporting import collect_report, render_report

    inc = tk.simulate.simulate("db-lock", 200, seed=3).spans
    base = tk.simulate.simulate("baseline", 150, seed=1).spans
    html = render_report(collect_report(inc, baseline=base))
    section = html[html.index('<section id="inputs">'):]
    section = section[:section.index("</section>")]
    text = re.sub(r"<[^>]+>", " ", section)
    assert "inputs-table" not in section
    assert (f"Analysed: {len(inc):,} spans of {inc['trace_id'].nunique():,} traces; the baseline given: "
            f"{len(base):,} spans of {base['trace_id'].nunique():,} traces.") in text
    assert not re.search(r"What was analysed\s+none", text)
