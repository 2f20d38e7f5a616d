"""Session 45 (skew2): clock-skew estimates and their sentences checked against traces built with known clocks,
known populations and known windows."""

import numpy as np
import pandas as pd

import tracekit as tk

MS = 1_000_000
T0 = pd.Timestamp("2026-03-02T14:00:00Z").value  # the first trace's start


def _frame(n_traces, build, seed=0, gap_ms=10_000):
    """``n_traces`` traces ``gap_ms`` apart from T0; ``build(add, rng, t)`` adds one trace's spans (times in ns
    from the trace's start, a host per span)."""
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(n_traces):
        tid = f"{t + 1:032x}"
        base = T0 + t * gap_ms * MS

        def add(sid, par, svc, host, kind, s, e, tid=tid, base=base, t=t):
            rows.append(dict(trace_id=tid, span_id=f"{sid + t * 100:016x}",
                             parent_id=None if par is None else f"{par + t * 100:016x}",
                             service=svc, name="op", kind=kind, start=base + s, end=base + e,
                             resource={"host.name": host}))
        build(add, rng, t)
    df = pd.DataFrame(rows)
    return tk.spans_from_columns({k: df[k].tolist() for k in df.columns})


def _web_calls(add, t, calls, off):
    """web (h-web, right clock) serves 0-100 ms and calls each (service, host) in ``calls`` for 20 ms, the callee
    answering 2 ms after the call started and 2 ms before it ended, on its host's clock (``off`` ms ahead)."""
    add(1, None, "web", "h-web", "server", 0, 100 * MS)
    for j, (svc, h) in enumerate(calls):
        cs = 10 * MS + j * 25 * MS
        add(2 + 2 * j, 1, "web", "h-web", "client", cs, cs + 20 * MS)
        add(3 + 2 * j, 2 + 2 * j, svc, h, "server", cs + (2 + off[h]) * MS, cs + (18 + off[h]) * MS)


# 1. the population and window of each estimate ------------------------------------------------------------------

def _part_time(add, rng, t):
    # h-a (40 ms ahead) is called in traces 10-59 only; h-c (right) in every trace
    calls = [("c", "h-c")] + ([("a", "h-a")] if 10 <= t < 60 else [])
    _web_calls(add, t, calls, {"h-a": 40, "h-c": 0})


def test_skew_table_says_traces_and_window():
    """detect_clock_skew says in how many traces its pairs lie and over which window (before: no such columns; the
    sentence read as holding for every trace, all the time). h-a takes part in traces 10-59 of 200, 10 s apart: 50
    traces, from trace 10's client start (T0 + 100 s + 35 ms) to trace 59's client end (T0 + 590 s + 55 ms)."""
    spans = _frame(200, _part_time)
    sk = tk.detect_clock_skew(spans).set_index("host")
    a = sk.loc["h-a"]
    assert a["estimate_ms"] == 40.0 and a["skewed"]
    assert a["n_pairs"] == 50 and a["n_traces"] == 50
    assert a["first_seen"] == pd.Timestamp(T0 + 100_000 * MS + 35 * MS, tz="UTC")
    assert a["last_seen"] == pd.Timestamp(T0 + 590_000 * MS + 55 * MS, tz="UTC")
    c = sk.loc["h-c"]
    assert c["n_traces"] == 200 and c["first_seen"] == pd.Timestamp(T0 + 10 * MS, tz="UTC")
    assert c["last_seen"] == pd.Timestamp(T0 + 1_990_000 * MS + 30 * MS, tz="UTC")
    assert sk.loc["h-web", "n_traces"] == 200
    assert str(sk["first_seen"].dtype) == "datetime64[ns, UTC]"


def test_skew_sentence_says_traces_and_window():
    """The report's sentence (skew_story, which postmortem says) names the traces the offset was seen in, of how
    many, and when (before: '(median over 50 client→server pairs, spread 0.00 ms; …)' only)."""
    spans = _frame(200, _part_time)
    st = tk.skew_story(spans)
    assert len(st.sentences) == 1
    s = st.sentences[0]
    assert s.startswith("a host h-a's clock runs 40.0 ms ahead"), s
    assert "50 client→server pairs in 50 of 200 traces, 14:01:40–14:09:50 UTC" in s, s


def test_skew_columns_on_no_pairs():
    """Without pairs the table is empty with the declared columns (n_traces, first_seen, last_seen too) and dtypes."""
    sk = tk.detect_clock_skew(tk.empty_spans())
    assert list(sk.columns) == list(tk.analysis.skew.SKEW_COLUMNS)
    assert str(sk["first_seen"].dtype) == "datetime64[ns, UTC]" and str(sk["n_traces"].dtype) == "int64"


# 2. a short async child on a right clock --------------------------------------------------------------------------

def _short_async(add, rng, t):
    # h-a 40 ms ahead, h-b 15 ms behind, h-c right; h-c also gets one fire-and-forget call per trace: a 3 ms client
    # span, the 1 ms server span starting 1-20 ms after it ended (shorter than its client: the long-child rule
    # cannot see it)
    _web_calls(add, t, [("a", "h-a"), ("b", "h-b"), ("c", "h-c")], {"h-a": 40, "h-b": -15, "h-c": 0})
    gap = int(rng.uniform(1, 20) * MS)
    add(20, 1, "web", "h-web", "client", 88 * MS, 91 * MS)
    add(21, 20, "c", "h-c", "server", 91 * MS + gap, 92 * MS + gap)


def test_short_async_child_is_no_skew():
    """A right host with one short async child per trace beside its synchronous call reads 0 and is not flagged
    (before: +1.5 ms, skewed, on 200 pairs, half of them the async ones); the +40 ms and -15 ms hosts still read
    exactly +40 and -15, and skew_story names only them."""
    spans = _frame(100, _short_async)
    sk = tk.detect_clock_skew(spans).set_index("host")
    assert sk.loc["h-a", "estimate_ms"] == 40.0 and sk.loc["h-b", "estimate_ms"] == -15.0
    assert sk.loc["h-c", "estimate_ms"] == 0.0
    assert sk["skewed"].to_dict() == {"h-a": True, "h-b": True, "h-c": False, "h-web": False}
    assert sk.loc["h-c", "n_pairs"] == 100  # the synchronous pairs
    st = tk.skew_story(spans)
    assert [s.split("'s clock")[0] for s in st.sentences] == ["a host h-a", "b host h-b"]
    c_rows = (spans["service"] == "c").to_numpy()
    assert st.spans.loc[c_rows, "start"].equals(spans.loc[c_rows, "start"])  # h-c's spans are not moved


def _late_only_skew(add, rng, t):
    # control: h-a 40 ms ahead; its calls last 5-60 ms, so the short ones start after their client ended and the
    # long ones do not: every pair reads +40 and none may be left out as async
    dur = int(rng.uniform(5, 60) * MS)
    add(1, None, "web", "h-web", "server", 0, 200 * MS)
    add(2, 1, "web", "h-web", "client", 10 * MS, 10 * MS + dur)
    add(3, 2, "a", "h-a", "server", 11 * MS + 40 * MS, 10 * MS + dur - MS + 40 * MS)


def test_mixed_call_lengths_keep_every_pair():
    """Control: a +40 ms host whose short calls look async (server after client end) and long ones do not reads
    +40 on all 100 pairs."""
    sk = tk.detect_clock_skew(_frame(100, _late_only_skew)).set_index("host")
    assert sk.loc["h-a", "estimate_ms"] == 40.0 and sk.loc["h-a", "n_pairs"] == 100 and sk.loc["h-a", "skewed"]


def _stepped(add, rng, t):
    # h-a 60 ms ahead until an NTP step at trace 200 of 360, right after it; h-c right throughout
    _web_calls(add, t, [("a", "h-a"), ("c", "h-c")], {"h-a": 60 if t < 200 else 0, "h-c": 0})


def test_stepped_clock_pairs_are_not_read_as_async():
    """Control: the pairs of a clock 60 ms ahead before an NTP step start after their client ended and the later
    ones do not; they are in other traces, so none is left out as a fire-and-forget call (a rule pooling the two
    clocks' pairs over all traces dropped the 200 early ones and read 0, not skewed)."""
    sk = tk.detect_clock_skew(_frame(360, _stepped)).set_index("host")
    assert sk.loc["h-a", "n_pairs"] == 360 and sk.loc["h-a", "n_violations"] == 200
    assert sk.loc["h-a", "estimate_ms"] == 60.0  # the median of 200 pairs at 60 and 160 at 0


# 3. a clock that stepped or drifted over the window ---------------------------------------------------------------

def _step_at(n_ahead):
    def build(add, rng, t):
        # h-a 60 ms ahead in the first n_ahead traces, right after an NTP step; h-c right throughout
        _web_calls(add, t, [("a", "h-a"), ("c", "h-c")], {"h-a": 60 if t < n_ahead else 0, "h-c": 0})
    return build


def test_stepped_clock_is_said_and_not_corrected():
    """A clock 60 ms ahead in 200 of 360 traces and right after an NTP step has no one offset: it reads unsteady
    with a change of -60 ms, is said as such, and no span is moved (before: '60.0 ms ahead …, spread 0.00 ms', and all
    360 of its spans moved by -60 ms: the 160 right ones made 60 ms wrong)."""
    spans = _frame(360, _step_at(200))
    sk = tk.detect_clock_skew(spans).set_index("host")
    assert sk.loc["h-a", "change_ms"] == -60.0 and not sk.loc["h-a", "steady"]
    assert sk[["change_ms"]].drop(index="h-a").abs().max().item() == 0.0 and sk["steady"].drop(index="h-a").all()
    st = tk.skew_story(spans)
    assert len(st.sentences) == 1 and "did not keep one offset" in st.sentences[0], st.sentences
    assert "60.0 ms further behind" in st.sentences[0]
    assert st.spans["start"].equals(spans["start"])
    assert tk.adjust_clock_skew(spans)["clock_shift_ms"].eq(0).all()


def test_stepped_clock_right_by_its_median_is_said():
    """A clock 60 ms ahead in 160 of 360 traces: its median is 0, but it is said (before: no sentence, the 160
    traces' times across it 60 ms off)."""
    spans = _frame(360, _step_at(160))
    st = tk.skew_story(spans)
    assert len(st.sentences) == 1 and st.sentences[0].startswith("a host h-a's clock did not keep one offset"), st.sentences


def _drifting(add, rng, t):
    # h-a drifts from 0 to 80 ms ahead over the hour (360 traces 10 s apart)
    _web_calls(add, t, [("a", "h-a"), ("c", "h-c")], {"h-a": 80 * t / 359, "h-c": 0})


def test_drifting_clock_is_not_corrected_by_one_offset():
    """A clock drifting 0 -> 80 ms over an hour: the later half reads about 40 ms further ahead than the earlier
    (quartiles of the drift: 20 and 60 ms); it is not steady and no span is moved (before: all moved by its median
    -40 ms, the first and last traces' 40 ms wrong the other way)."""
    spans = _frame(360, _drifting)
    a = tk.detect_clock_skew(spans).set_index("host").loc["h-a"]
    assert abs(a["change_ms"] - 40) < 0.5 and not a["steady"]
    assert tk.adjust_clock_skew(spans)["clock_shift_ms"].eq(0).all()


def test_steady_clock_with_noise_is_steady():
    """A clock 40 ms ahead all hour with 1-3 ms of network jitter each way is steady and corrected (no false change)."""
    def build(add, rng, t):
        add(1, None, "web", "h-web", "server", 0, 100 * MS)
        for j, (svc, h, o) in enumerate([("a", "h-a", 40), ("c", "h-c", 0)]):
            cs = 10 * MS + j * 25 * MS
            a, b = (int(rng.uniform(1, 3) * MS) for _ in range(2))
            add(2 + 2 * j, 1, "web", "h-web", "client", cs, cs + 20 * MS)
            add(3 + 2 * j, 2 + 2 * j, svc, h, "server", cs + a + o * MS, cs + 20 * MS - b + o * MS)
    spans = _frame(360, build)
    sk = tk.detect_clock_skew(spans).set_index("host")
    assert sk["steady"].all() and sk.loc["h-a", "skewed"] and abs(sk.loc["h-a", "estimate_ms"] - 40) < 0.5
    assert tk.adjust_clock_skew(spans)["clock_shift_ms"].lt(0).sum() == 360


# 4. trace health on a right host answering fire-and-forget calls ----------------------------------------------

def _fire_and_forget(add, rng, t):
    # h-c right, called synchronously and once per trace fire-and-forget (its 1 ms span starts 1-20 ms after the
    # 3 ms client span ended); in traces 50-99 h-b is 30 ms behind (its spans start before their client's)
    calls = [("c", "h-c")] + ([("b", "h-b")] if t >= 50 else [])
    _web_calls(add, t, calls, {"h-c": 0, "h-b": -30})
    gap = int(rng.uniform(1, 20) * MS)
    add(20, 1, "web", "h-web", "client", 88 * MS, 91 * MS)
    add(21, 20, "c", "h-c", "server", 91 * MS + gap, 92 * MS + gap)


def test_health_does_not_blame_clocks_for_calls_nobody_waited_for():
    """Trace health says a server span ending after its client span may be a call nobody waited for, and keeps
    'clock skew suspects' for spans that start before their parent (before: '100 c spans … the two hosts' clocks
    disagree (clock skew suspects)' for a host detect_clock_skew reads as right); the same words after combining
    partitions."""
    spans = _frame(100, _fire_and_forget)
    assert not tk.detect_clock_skew(spans).set_index("host").loc["h-c", "skewed"]
    h = tk.health_report(spans)
    rows = h[h["check"] == "child_outside_parent"].set_index("subject")["explanation"]
    c, b = rows["web → c"], rows["web → b"]
    assert "100 end after it (a call its caller did not wait for" in c and "skew suspects" not in c, c
    assert "50 start before it (the two hosts' clocks disagree: clock skew suspects)" in b, b
    parts = [spans[spans["trace_id"].isin(spans["trace_id"].unique()[i::2])] for i in (0, 1)]
    comb = tk.analysis.health.combine_findings([tk.health_report(p) for p in parts], n_traces=100)
    crow = comb[comb["check"] == "child_outside_parent"].set_index("subject")["explanation"]
    assert crow["web → c"] == c and crow["web → b"] == b
