"""Session 44 (skew): clock-skew estimates checked against traces built with known clock offsets."""

import numpy as np
import pandas as pd

import tracekit as tk

MS = 1_000_000


def _frame(n_traces, build, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(n_traces):
        tid = f"{t + 1:032x}"
        base = t * 10_000 * MS

        def add(sid, par, svc, host, kind, s, e, tid=tid, base=base, t=t):
            rows.append(dict(trace_id=tid, span_id=f"{sid + t * 100:016x}",
                             parent_id=None if par is None else f"{par + t * 100:016x}",
                             service=svc, name="op", kind=kind, start=base + s, end=base + e,
                             resource={"host.name": host}))
        build(add, rng)
    df = pd.DataFrame(rows)
    return tk.spans_from_columns({k: df[k].tolist() for k in df.columns})


def _async_worker(add, rng):
    # every clock right; the worker answers 202 after 1 ms and runs on for 200-400 ms
    add(1, None, "web", "h-web", "server", 0, 100 * MS)
    add(2, 1, "web", "h-web", "client", 10 * MS, 15 * MS)
    add(3, 2, "worker", "h-q", "server", 11 * MS, 11 * MS + int(rng.uniform(200, 400) * MS))
    add(4, 1, "web", "h-web", "client", 20 * MS, 40 * MS)
    add(5, 4, "db", "h-db", "server", 21 * MS, 39 * MS)


def test_async_child_outliving_its_client_is_no_skew():
    """A server span longer than its client span was not waited for: on right clocks no host is skewed
    (before: the worker host read 155 ms ahead, skewed, on 200 pairs)."""
    spans = _frame(200, _async_worker)
    skew = tk.detect_clock_skew(spans)
    assert not skew["skewed"].any(), skew
    assert (skew["estimate_ms"].abs() < 1e-6).all()


def test_async_child_is_not_moved_before_its_trace():
    """skew_story must not shift the right-clocked worker's spans before their caller (before: 155 ms earlier,
    before the trace's root)."""
    spans = _frame(200, _async_worker)
    st = tk.skew_story(spans)
    assert st.sentences == ()
    assert st.spans["start"].equals(spans["start"])


def _offsets(add, rng):
    off = {"h-web": 0, "h-a": 40, "h-b": -15, "h-c": 0}

    def at(sid, par, svc, host, kind, s, e):
        add(sid, par, svc, host, kind, s + off[host] * MS, e + off[host] * MS)
    at(1, None, "web", "h-web", "server", 0, 100 * MS)
    for j, (svc, h) in enumerate([("a", "h-a"), ("b", "h-b"), ("c", "h-c")]):
        cs = 10 * MS + j * 25 * MS
        lat = int(rng.uniform(1, 3) * MS)
        at(2 + 2 * j, 1, "web", "h-web", "client", cs, cs + 20 * MS)
        at(3 + 2 * j, 2 + 2 * j, svc, h, "server", cs + lat, cs + 20 * MS - lat)
    # and one async child per trace on the right clock h-c, outliving its 3 ms client by 300 ms
    at(20, 1, "web", "h-web", "client", 90 * MS, 93 * MS)
    at(21, 20, "c", "h-c", "server", 91 * MS, 391 * MS)


def test_known_offsets_with_async_children():
    """+40 ms and -15 ms hosts are found with their sign and size; h-c, right but with an async child in every trace,
    is not skewed (before: h-c read +74.75 ms, half its pairs being the async ones; the sync pairs alone give 0)."""
    spans = _frame(100, _offsets)
    skew = tk.detect_clock_skew(spans).set_index("host")
    assert abs(skew.loc["h-a", "estimate_ms"] - 40) < 1e-6
    assert abs(skew.loc["h-b", "estimate_ms"] + 15) < 1e-6
    assert abs(skew.loc["h-c", "estimate_ms"]) < 1e-6
    assert skew["skewed"].to_dict() == {"h-a": True, "h-b": True, "h-c": False, "h-web": False}
    assert skew.loc["h-c", "n_pairs"] == 100  # the 100 synchronous pairs, not the 100 async ones
    shuffled = tk.detect_clock_skew(spans.sample(frac=1, random_state=3)).set_index("host")
    assert np.allclose(shuffled.loc[skew.index, "estimate_ms"], skew["estimate_ms"])  # control: row order
