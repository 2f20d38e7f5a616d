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
