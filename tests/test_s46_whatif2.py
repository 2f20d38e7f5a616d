"""Session 46, whatif2: what_if, diff_traces and compare against answers built by hand."""

import pandas as pd

import tracekit as tk

MS = 1_000_000


def _queue_trace(send_ms: float = 20.0) -> pd.DataFrame:
    """One request: root R 0..200; producer P 10..10+send (api send); worker W 0..150 (poll loop, another
    branch); consumer C under W, 40..140, linked to P (it waited for P's message: P ended at 30, C started at 40)."""
    tid = "1" * 32
    ids = ["a" * 16, "b" * 16, "c" * 16, "d" * 16]
    return tk.spans_from_columns({
        "trace_id": [tid] * 4, "span_id": ids,
        "parent_id": [None, ids[0], ids[0], ids[2]],
        "service": ["api", "api", "worker", "worker"], "name": ["GET /", "send", "poll", "process"],
        "kind": ["server", "producer", "internal", "consumer"],
        "start": [0, 10 * MS, 0, 40 * MS], "end": [200 * MS, int((10 + send_ms) * MS), 150 * MS, 140 * MS],
        "links": [[], [], [], [{"trace_id": tid, "span_id": ids[1]}]],
    })


def _ms(r, name):
    s = r.spans.set_index("name")
    return ((s.loc[name, "start"] - s.loc["GET /", "start"]).value / MS if name != "GET /" else 0.0,
            (s.loc[name, "end"] - s.loc["GET /", "start"]).value / MS)


def test_linked_consumer_with_parent_waits_for_a_slower_producer():
    """P made 50 ms slower ends at 80: C, which waited 10 ms for its message, can start at 90 at the earliest
    (its parent's placement says 40: the later wins), ends at 190; W ends its 10 ms tail later, 200; the root's
    50 ms tail after W: 250. Old code: C stayed at 40..140 and the request at 200 ms."""
    spans = _queue_trace()
    r = tk.what_if(spans, {"api:send": 50}, n_boot=0)
    assert _ms(r, "send") == (10.0, 80.0)
    assert _ms(r, "process") == (90.0, 190.0)
    assert _ms(r, "poll") == (0.0, 200.0)
    assert _ms(r, "GET /") == (0.0, 250.0)


def test_linked_consumer_with_parent_keeps_its_parent_placement_when_producer_faster():
    """Control: P made 15 ms faster ends at 15: C's message was there sooner, but its parent's placement (40) is
    later: C stays 40..140 and the request 200 ms (both codes)."""
    spans = _queue_trace()
    r = tk.what_if(spans, {"api:send": -15}, n_boot=0)
    assert _ms(r, "send") == (10.0, 15.0)
    assert _ms(r, "process") == (40.0, 140.0)
    assert _ms(r, "GET /") == (0.0, 200.0)


def test_linked_consumer_unchanged_frame_is_identity():
    """Control: a change elsewhere (the worker's poll tail) leaves producer and consumer where they were."""
    spans = _queue_trace()
    r = tk.what_if(spans, {"worker:poll": -5}, n_boot=0)
    assert _ms(r, "process") == (40.0, 140.0)
    assert _ms(r, "poll") == (0.0, 145.0)
    assert _ms(r, "GET /") == (0.0, 195.0)
