"""Session 46 (skew4): a clock's estimate weighs traces, not pairs; built with known clocks, known traces."""

import pandas as pd

import tracekit as tk

MS = 1_000_000
T0 = pd.Timestamp("2026-03-02T14:00:00Z").value  # the first trace's start


def _frame(n_traces, build, gap_ms=10_000):
    """``n_traces`` traces ``gap_ms`` apart from T0; ``build(add, t)`` adds one trace's spans (times in ns from the
    trace's start, a host per span; span ids below 1000 within a trace)."""
    rows = []
    for t in range(n_traces):
        tid = f"{t + 1:032x}"
        base = T0 + t * gap_ms * MS

        def add(sid, par, svc, host, kind, s, e, tid=tid, base=base, t=t):
            rows.append(dict(trace_id=tid, span_id=f"{sid + t * 1000:016x}",
                             parent_id=None if par is None else f"{par + t * 1000:016x}",
                             service=svc, name="op", kind=kind, start=base + s, end=base + e,
                             resource={"host.name": host}))
        build(add, t)
    df = pd.DataFrame(rows)
    return tk.spans_from_columns({k: df[k].tolist() for k in df.columns})


def _calls(add, calls):
    """web (h-web, right clock) serves and calls each (service, host, offset ms) in ``calls`` for 20 ms, 25 ms
    apart; the callee's span is 2 ms in from each end of the call, shifted by ``offset``."""
    add(1, None, "web", "h-web", "server", 0, (25 * len(calls) + 10) * MS)
    for j, (svc, h, off) in enumerate(calls):
        cs = 5 * MS + j * 25 * MS
        add(2 + 2 * j, 1, "web", "h-web", "client", cs, cs + 20 * MS)
        add(3 + 2 * j, 2 + 2 * j, svc, h, "server", cs + 2 * MS + round(off * MS), cs + 18 * MS + round(off * MS))


def _one_busy_trace(quiet_off, busy_off, n_quiet=5, busy=7, n_busy=50, n=60):
    """h-c right, called once in every trace; h-x called once in each of traces 0..n_quiet-1, its spans
    ``quiet_off`` ms off there, and ``n_busy`` times in trace ``busy``, ``busy_off`` ms off there (one request, one
    moment: a stalled network, a paused process)."""
    def build(add, t):
        calls = [("c", "h-c", 0)]
        if t < n_quiet:
            calls.append(("x", "h-x", quiet_off))
        if t == busy:
            calls += [("x", "h-x", busy_off)] * n_busy
        _calls(add, calls)
    return build


def test_one_busy_trace_does_not_outvote_the_others():
    """A right host called once in each of 5 traces (0 ms there) and 50 times in one more trace whose spans sit 40 ms
    late: 5 traces of 6 say 0, so it reads 0 and is not flagged (before: the median of its 55 pairs, 50 of them from
    one request, read +40 ms, skewed, and adjust moved its spans)."""
    spans = _frame(60, _one_busy_trace(0, 40))
    x = tk.detect_clock_skew(spans).set_index("host").loc["h-x"]
    assert x["n_pairs"] == 55 and x["n_traces"] == 6
    assert x["estimate_ms"] == 0.0, x
    assert not x["skewed"]
    fixed = tk.adjust_clock_skew(spans)
    assert (fixed["clock_shift_ms"] == 0).all()


def test_one_busy_trace_does_not_hide_a_real_offset():
    """Mirror: a host truly 40 ms ahead in 5 traces of 6, its 50 calls in the sixth trace at 0 (one odd request):
    it reads +40 ms by its traces (before: 0, the busy trace's 50 pairs outvoted 5 traces)."""
    spans = _frame(60, _one_busy_trace(40, 0))
    x = tk.detect_clock_skew(spans).set_index("host").loc["h-x"]
    assert x["n_traces"] == 6
    assert x["estimate_ms"] == 40.0, x


def test_control_uneven_pairs_per_trace_same_offset():
    """Control: a +40 ms host called 1 to 8 times per trace (every pair 40 ms) still reads exactly +40, skewed, and
    h-c exactly 0; passes before and after."""
    def build(add, t):
        _calls(add, [("c", "h-c", 0)] + [("a", "h-a", 40)] * (1 + t % 8))
    sk = tk.detect_clock_skew(_frame(40, build)).set_index("host")
    assert sk.loc["h-a", "estimate_ms"] == 40.0 and sk.loc["h-a", "skewed"]
    assert sk.loc["h-c", "estimate_ms"] == 0.0
