"""Review s38 (stitch3): ``tk.stitch``'s declared in-order pairing (``order="fifo"``) and its confidence, and two
spans that link to each other.

Queues are built by construction (messages every ``every_p`` ms, the producer span ends 1 ms after it starts;
one consumer takes them in order ``pickup`` ms after hand-over or when free and works ``every_c`` ms), so every true
(producer, consumer) pair is known. Covered: a pick-up delay longer than the time between messages, the confidence
of hops where a producer is missing in a queue that drains between messages (and in one that does not), a pick-up
delay the data cannot tell from a consumer missing, and mutual links (a message cannot go both ways).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk

MS = 1_000_000
T0 = pd.Timestamp("2024-01-01", tz="UTC")


def _queue(n: int, every_p: float, every_c: float, pickup: float = 1.0, drop_c: int = 0, drop_p: int = 0):
    """Spans of ``n`` messages through one in-order queue with one consumer, and the true (producer trace,
    consumer trace) pairs. Every ``drop_c``-th consumer / ``drop_p``-th producer is left out of the data."""
    cols = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end")}
    truth, free = set(), 0.0
    for i in range(n):
        t0 = i * every_p * MS
        c0 = max(t0 + MS + pickup * MS, free)
        free = c0 + every_c * MS
        tp, tc = f"{i + 1:032x}", f"{n + i + 1:032x}"
        keep_p = not (drop_p and i % drop_p == drop_p - 1)
        keep_c = not (drop_c and i % drop_c == drop_c - 1)
        rows = []
        if keep_p:
            rows.append((tp, f"{2 * i + 1:016x}", None, "api", "jobs publish", "producer", int(t0), int(t0 + MS)))
        if keep_c:
            rows.append((tc, f"{2 * i + 2:016x}", None, "worker", "jobs process", "consumer", int(c0), int(free)))
        if keep_p and keep_c:
            truth.add((tp, tc))
        for r in rows:
            for k, v in zip(cols, r, strict=True):
                cols[k].append(v)
    return tk.spans_from_columns(cols), truth


def _right(hops, truth) -> np.ndarray:
    return np.asarray([p in truth for p in zip(hops["producer_trace_id"], hops["consumer_trace_id"], strict=True)],
                      dtype=bool)


@pytest.mark.parametrize("pickup", [15, 20, 35])
def test_fifo_pickup_longer_than_the_gap_between_messages(pickup):
    # messages every 10 ms, each picked up `pickup` ms after hand-over (2 to 4 messages waiting at each start),
    # nothing missing: the first messages are no sign of consumers missing (before: the delay was read as 0 or 5 ms,
    # the first 1-3 messages skipped and every pair shifted: 0 of 100 right, at 0.4 or less)
    spans, truth = _queue(100, every_p=10, every_c=3, pickup=pickup)
    h = tk.stitch(spans, via="heuristic", order="fifo").hops
    assert len(h) == 100 and _right(h, truth).all()
    assert (h["queue_wait_ms"] == pickup).all() and (h["confidence"] == 0.8).all()


def test_fifo_pickup_longer_than_the_gap_with_consumers_missing():
    # the brief's case: 20 ms pick-up, messages every 10 ms, one consumer in ten missing (before: 0 of 89 right,
    # 79 of them at 0.4); the hops right after a message taken by a missing consumer are the less sure ones
    spans, truth = _queue(100, every_p=10, every_c=3, pickup=20, drop_c=10)
    h = tk.stitch(spans, via="heuristic", order="fifo").hops
    assert len(h) == len(truth) == 90 and _right(h, truth).all()
    assert (h["queue_wait_ms"] == 20).all()
    assert h["confidence"].value_counts().to_dict() == {0.8: 81, 0.4: 9}


def test_fifo_an_undecidable_pickup_says_so():
    # 15 ms pick-up every 10 ms with one consumer in ten missing, the last one among them: reading a 5 ms pick-up
    # with the first message taken by a consumer missing from the data pairs as many consumers as the true
    # reading, so time alone cannot tell them apart. Whichever it picks, it must not be sure (before: 80 wrong
    # hops at 0.8)
    spans, truth = _queue(100, every_p=10, every_c=3, pickup=15, drop_c=10)
    h = tk.stitch(spans, via="heuristic", order="fifo").hops
    r = _right(h, truth)
    assert len(h) == 90
    assert (h["confidence"][~r] < 0.5).all()


def test_fifo_a_producer_missing_where_the_queue_drains_keeps_the_other_hops_sure():
    # 3 ms of work every 10 ms: the queue is empty when each message arrives, so a missing producer leaves its
    # consumer without a message and shifts nothing. Before, that consumer lowered every hop of the queue: all 90
    # right hops at 0.8 / 11 = 0.073
    spans, truth = _queue(100, every_p=10, every_c=3, drop_p=10)
    h = tk.stitch(spans, via="heuristic", order="fifo").hops
    assert len(h) == 90 and _right(h, truth).all()
    assert (h["confidence"] == 0.8).all()


def test_fifo_a_producer_missing_under_a_backlog_still_says_it_is_unsure():
    # 12 ms of work every 10 ms: messages wait, so the pairs after a missing producer shift by one; those wrong hops
    # stay below 0.1, and every hop at 0.1 or more is right
    spans, truth = _queue(100, every_p=10, every_c=12, drop_p=10)
    h = tk.stitch(spans, via="heuristic", order="fifo").hops
    r = _right(h, truth)
    assert (~r).sum() > 40
    assert (h["confidence"][~r] < 0.1).all() and r[h["confidence"] >= 0.1].all()


def _mutual(a_ms: tuple[float, float], b_ms: tuple[float, float]):
    at = lambda x: T0 + pd.Timedelta(milliseconds=x)  # noqa: E731
    a, b = ("a" * 32, "1" * 16), ("b" * 32, "2" * 16)
    return tk.spans_from_columns(dict(
        trace_id=[a[0], b[0]], span_id=[a[1], b[1]], parent_id=[None, None], service=["api", "worker"],
        name=["jobs publish", "jobs process"], kind=["producer", "consumer"],
        start=[at(a_ms[0]), at(b_ms[0])], end=[at(a_ms[1]), at(b_ms[1])],
        links=[[{"trace_id": b[0], "span_id": b[1]}], [{"trace_id": a[0], "span_id": a[1]}]]))


def test_mutual_links_keep_the_hop_that_runs_forward_in_time():
    # a: 0-10 ms, b: 25-40 ms, each linking to the other. Before: two hops at confidence 1, waits 15 and -40 ms,
    # and the workflow's critical path lost a's section (the hops made a cycle)
    spans = _mutual((0, 10), (25, 40))
    before = spans.copy(deep=True)
    st = tk.stitch(spans)
    h = st.hops
    assert len(h) == 1 and h.loc[0, "producer_span_id"] == "1" * 16 and h.loc[0, "consumer_span_id"] == "2" * 16
    assert h.loc[0, "queue_wait_ms"] == 15 and h.loc[0, "confidence"] == 1
    u = st.unresolved
    assert u[["span_id", "linked_span_id", "role", "reason"]].values.tolist() == [["1" * 16, "2" * 16, "consumer",
                                                                                  "link_back"]]
    ws = tk.workflow_summary(st)
    assert ws["queue_waits_ms"].tolist() == [(15.0,)] and ws["max_wait_ms"].tolist() == [15.0]
    cp = tk.workflow_critical_path(st)
    assert cp["duration_ms"].sum() == ws.loc[0, "end_to_end_ms"] == 40
    pd.testing.assert_frame_equal(spans, before)


def test_mutual_links_of_overlapping_spans_are_both_refused():
    # a: 0-30 ms, b: 10-40 ms: neither started after the other ended, so neither link names a producer (before: two
    # hops at confidence 1, waits -20 and -20 ms)
    st = tk.stitch(_mutual((0, 30), (10, 40)))
    assert len(st.hops) == 0
    u = st.unresolved[st.unresolved["reason"] == "link_back"]
    assert sorted(u["span_id"]) == ["1" * 16, "2" * 16]
    assert sorted(u["linked_span_id"]) == ["1" * 16, "2" * 16]


def test_mutual_links_within_tolerance_keep_the_forward_hop():
    # b starts 0.5 ms before a ends (clock skew within the 1 ms tolerance): still the forward hop, wait -0.5 ms
    st = tk.stitch(_mutual((0, 10), (9.5, 20)))
    assert st.hops[["producer_span_id", "queue_wait_ms"]].values.tolist() == [["1" * 16, -0.5]]
    assert st.unresolved["reason"].tolist() == ["link_back"]


def test_a_cycle_of_three_links_refuses_the_one_pointing_back():
    # a 0-10 ms links to c, b 20-30 links to a, c 40-50 links to b: a -> b -> c runs forward (waits 10, 10 ms), the
    # link of a to c points back (-50 ms). Before: three hops at confidence 1, one of them -50 ms
    at = lambda x: T0 + pd.Timedelta(milliseconds=x)  # noqa: E731
    ids = [("a" * 32, "1" * 16), ("b" * 32, "2" * 16), ("c" * 32, "3" * 16)]
    link = lambda k: [{"trace_id": ids[k][0], "span_id": ids[k][1]}]  # noqa: E731
    spans = tk.spans_from_columns(dict(
        trace_id=[x[0] for x in ids], span_id=[x[1] for x in ids], parent_id=[None] * 3, service=["a", "b", "c"],
        name=["jobs process"] * 3, kind=["consumer"] * 3, start=[at(0), at(20), at(40)], end=[at(10), at(30), at(50)],
        links=[link(2), link(0), link(1)]))
    st = tk.stitch(spans)
    assert st.hops[["producer_span_id", "consumer_span_id", "queue_wait_ms"]].values.tolist() == [
        ["1" * 16, "2" * 16, 10.0], ["2" * 16, "3" * 16, 10.0]]
    back = st.unresolved[st.unresolved["reason"] == "link_back"]
    assert back[["span_id", "linked_span_id"]].values.tolist() == [["1" * 16, "3" * 16]]
    assert tk.workflow_summary(st)["queue_waits_ms"].tolist() == [(10.0, 10.0)]
