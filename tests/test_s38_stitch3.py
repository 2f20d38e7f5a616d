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
