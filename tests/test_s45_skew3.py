"""Session 45 (skew3): how much evidence a clock-skew flag rests on, built with known clocks, known traces."""

import pandas as pd
import pytest

import tracekit as tk

from .test_s45_skew2 import MS, T0, _frame  # (the same known clocks, known traces)


def _calls(add, calls):
    """web (h-web, right clock) serves 0-300 ms and calls each (service, host, offset ms) in ``calls`` for 20 ms;
    the callee's span is 2 ms in from each end of the call, shifted by ``offset``."""
    add(1, None, "web", "h-web", "server", 0, 300 * MS)
    for j, (svc, h, off) in enumerate(calls):
        cs = 5 * MS + j * 25 * MS
        add(2 + 2 * j, 1, "web", "h-web", "client", cs, cs + 20 * MS)
        add(3 + 2 * j, 2 + 2 * j, svc, h, "server", cs + 2 * MS + round(off * MS), cs + 18 * MS + round(off * MS))


def _one_odd_trace(n_odd, n_calls):
    def build(add, rng, t):
        # h-c right, called in every trace; h-x right, called only in trace 7 (n_calls times), its spans in that
        # one trace (one request, one moment: a stalled network, a paused process) sitting 40 ms late; h-a truly
        # 40 ms ahead in every trace
        calls = [("c", "h-c", 0), ("a", "h-a", 40)]
        if t == 7:
            calls += [("x", "h-x", 40)] * n_odd
        _calls(add, calls)
    return build


def test_pairs_of_one_trace_do_not_flag_a_clock():
    """A right host whose 10 calls all lie in one trace of 200, all 40 ms late in it, is not flagged: 10 pairs of one
    request are one observation (before: +40 ms, skewed, on 10 pairs in 1 of 200 traces, and skew_story said it
    and moved its spans). The +40 ms host seen in all 200 traces is still flagged, exactly +40."""
    spans = _frame(200, _one_odd_trace(10, 10))
    sk = tk.detect_clock_skew(spans).set_index("host")
    x = sk.loc["h-x"]
    assert x["n_pairs"] == 10 and x["n_traces"] == 1 and x["estimate_ms"] == 40.0
    assert not x["skewed"]
    a = sk.loc["h-a"]
    assert a["estimate_ms"] == 40.0 and a["skewed"] and a["n_traces"] == 200
    st = tk.skew_story(spans)
    assert [s.split("'s clock")[0] for s in st.sentences] == ["a host h-a"], st.sentences
    x_rows = (spans["service"] == "x").to_numpy()
    assert st.spans.loc[x_rows, "start"].equals(spans.loc[x_rows, "start"])


def test_min_pairs_three_one_trace():
    """With min_pairs=3, 3 pairs in 1 of 200 traces flagged a clock; they still do not (one trace), and min_traces=1
    asks for the old rule."""
    spans = _frame(200, _one_odd_trace(3, 3))
    x = tk.detect_clock_skew(spans, min_pairs=3).set_index("host").loc["h-x"]
    assert x["n_pairs"] == 3 and x["n_traces"] == 1 and not x["skewed"]
    assert tk.detect_clock_skew(spans, min_pairs=3, min_traces=1).set_index("host").loc["h-x", "skewed"]


def _few_traces(n):
    def build(add, rng, t):
        # h-a truly 40 ms ahead, called 4 times in each of the first n traces; h-c right in every trace
        _calls(add, [("c", "h-c", 0)] + ([("a", "h-a", 40)] * 4 if t < n else []))
    return build


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_flag_needs_min_traces(n):
    """A +40 ms host is flagged when its pairs lie in at least min_traces (default 3) traces, whatever its pairs
    (4 per trace: 4 pairs in 1 trace are below min_pairs=10 anyway; 8 in 2 traces too; 12 in 3 and 20 in 5 flag)."""
    spans = _frame(50, _few_traces(n))
    a = tk.detect_clock_skew(spans, min_pairs=4).set_index("host").loc["h-a"]
    assert a["estimate_ms"] == 40.0 and a["n_traces"] == n and a["n_pairs"] == 4 * n
    assert bool(a["skewed"]) == (n >= 3)


def test_min_traces_is_checked():
    """min_traces is a count of at least 1: 0, 2.5 and 'x' raise ArgumentError naming it."""
    spans = _frame(5, _few_traces(5))
    for bad in (0, 2.5, "x"):
        with pytest.raises(tk.ArgumentError, match="min_traces"):
            tk.detect_clock_skew(spans, min_traces=bad)


def test_declared_column_says_min_traces():
    """The declared skewed/steady column text names the traces rule, as the docstring does."""
    table = {c.name: c.meaning for c in tk.analysis.skew.SKEW_TABLE.columns}
    assert "min_traces" in table["skewed"] and "min_traces" in table["steady"]
    assert "min_traces" in tk.detect_clock_skew.__doc__


# 2. the not-steady sentence -----------------------------------------------------------------------------------

def _step_at(n_ahead, n=360):
    def build(add, rng, t):
        # h-a 60 ms ahead in the first n_ahead traces, right after an NTP step; h-c right throughout
        _calls(add, [("c", "h-c", 0), ("a", "h-a", 60 if t < n_ahead else 0)])
    return build


def test_unsteady_sentence_says_a_zero_median_plainly():
    """A clock 60 ms ahead in 160 of 360 traces, right in the other 200: the median of its pairs is no offset, said
    so (before: 'median +0.0 ms, spread 0.00 ms': a signed zero, and a spread of 0 read as pairs that agree, while
    160 of them are 60 ms off the others)."""
    spans = _frame(360, _step_at(160))
    assert tk.detect_clock_skew(spans).set_index("host").loc["h-a", "estimate_ms"] == 0.0
    (s,) = tk.skew_story(spans).sentences
    assert "did not keep one offset" in s and "+0.0" not in s and "spread 0.00" not in s, s
    assert "no median offset" in s, s


def test_unsteady_sentence_says_the_median_with_its_direction():
    """A clock 60 ms ahead in 200 of 360 traces: its median offset is 60 ms ahead, said with the word for the sign
    as the steady sentence does (before: 'median +60.0 ms')."""
    (s,) = tk.skew_story(_frame(360, _step_at(200))).sentences
    assert "median offset 60.0 ms ahead" in s and "+60.0" not in s, s


# 3. a step near either end of the window -------------------------------------------------------------------------

def test_step_late_in_the_window_is_not_corrected_by_one_offset():
    """A clock 60 ms ahead in the first 300 of 360 traces (an hour, 10 s apart) and right after an NTP step at
    14:50: the halves' medians both read 60 (the later half holds 120 pairs still ahead, 60 right), so it read steady
    and skewed, and adjust_clock_skew moved all 360 of its spans by -60 ms, the last 60 traces' 60 ms wrong. Now it
    reads a change of -60 ms, not steady, said, and no span moves; change_at is where the pairs compared split,
    between the step's neighbours (trace 299 and 300's calls: its pairs are 60 ahead before, 0 after)."""
    spans = _frame(360, _step_at(300))
    a = tk.detect_clock_skew(spans).set_index("host").loc["h-a"]
    assert a["estimate_ms"] == 60.0
    assert a["change_ms"] == -60.0 and not a["steady"]
    step = pd.Timestamp(T0 + 3_000_000 * MS, tz="UTC")
    assert step - pd.Timedelta(10, "s") <= a["change_at"] <= step + pd.Timedelta(10, "s"), a["change_at"]
    assert tk.adjust_clock_skew(spans)["clock_shift_ms"].eq(0).all()
    (s,) = tk.skew_story(spans).sentences
    assert "did not keep one offset: its pairs from 14:50:00 UTC on read it 60.0 ms further behind" in s, s


def test_step_early_in_the_window_is_said():
    """A clock 60 ms ahead in the first 60 of 360 traces, right after: its median is 0 and the halves' medians both 0,
    so nothing was said (the first 60 traces' times across it 60 ms off, silently). Now the later pairs read 60 ms
    further behind than the earlier (from ahead to right), not steady, one sentence."""
    spans = _frame(360, _step_at(60))
    a = tk.detect_clock_skew(spans).set_index("host").loc["h-a"]
    assert a["estimate_ms"] == 0.0 and a["change_ms"] == -60.0 and not a["steady"]
    (s,) = tk.skew_story(spans).sentences
    assert s.startswith("a host h-a's clock did not keep one offset") and "60.0 ms further behind" in s, s


def test_steady_clocks_stay_steady_with_end_splits():
    """Control: a clock 40 ms ahead all hour with 1-3 ms of jitter each way, and right clocks beside it, are steady at
    every split (no change found by looking at more splits), and the 40 ms clock is corrected."""
    def build(add, rng, t):
        add(1, None, "web", "h-web", "server", 0, 100 * MS)
        for j, (svc, h, o) in enumerate([("a", "h-a", 40), ("c", "h-c", 0), ("d", "h-d", 0)]):
            cs = 10 * MS + j * 25 * MS
            a, b = (int(rng.uniform(1, 3) * MS) for _ in range(2))
            add(2 + 2 * j, 1, "web", "h-web", "client", cs, cs + 20 * MS)
            add(3 + 2 * j, 2 + 2 * j, svc, h, "server", cs + a + o * MS, cs + 20 * MS - b + o * MS)
    for seed in range(3):
        spans = _frame(360, build, seed=seed)
        sk = tk.detect_clock_skew(spans).set_index("host")
        assert sk["steady"].all(), sk[["change_ms", "spread_ms"]]
        assert sk.loc["h-a", "skewed"] and abs(sk.loc["h-a", "estimate_ms"] - 40) < 0.5


def test_drift_still_reads_half_its_span():
    """Control: a clock drifting 0 -> 80 ms over the hour reads a change of about 40 ms (at any split, the medians of
    the two sides of a steady drift are half the window's drift apart), not steady."""
    def build(add, rng, t):
        _calls(add, [("c", "h-c", 0), ("a", "h-a", 80 * t / 359)])
    a = tk.detect_clock_skew(_frame(360, build)).set_index("host").loc["h-a"]
    assert abs(a["change_ms"] - 40) < 0.5 and not a["steady"]
