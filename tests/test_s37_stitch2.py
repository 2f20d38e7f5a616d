"""Review s37 (stitch2): ``tk.stitch`` — the confidence of heuristic hops (is a hop at confidence c right about c of
the time?), what stitch reports about the messages and links it could not resolve (a consumer or link pointing
outside the loaded data, a message never consumed in it, a consumer whose clock is behind its producer's), and
hostile inputs (links to itself, cycles of links, repeated ids, spans exported twice).

Queues are built by construction, so the true (producer, consumer) pairs are known: producers hand a message over
every ``every_p`` ms (the span ends 1 ms after it starts), one consumer takes them in order 2 ms after hand-over or
when it is free, and works ``every_c`` ms.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk

MS = 1_000_000


def _t(i: int) -> str:
    return f"{i:032x}"


def _s(i: int) -> str:
    return f"{i:016x}"


def _queue(n: int, every_p: float, every_c: float, drop_c: int = 0, drop_p: int = 0, shift_c_ms: float = 0.0):
    """Spans of ``n`` messages through one in-order queue, and the true (producer trace, consumer trace) pairs.
    ``drop_c`` / ``drop_p``: every such consumer / producer is left out of the data (0: none). ``shift_c_ms``: the
    consumers' clock is that far off (negative: behind)."""
    cols = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end")}
    truth, free = set(), 0
    shift = int(shift_c_ms * MS)
    for i in range(n):
        t0 = int((1000 + i * every_p) * MS)  # from 1 s, so that a clock behind stays after 1970
        c0 = max(t0 + 2 * MS, free)
        free = c0 + int(every_c * MS)
        tp, tc = _t(i + 1), _t(n + i + 1)
        keep_p = not (drop_p and i % drop_p == drop_p - 1)
        keep_c = not (drop_c and i % drop_c == drop_c - 1)
        rows = []
        if keep_p:
            rows.append((tp, _s(2 * i + 1), "api", "jobs publish", "producer", t0, t0 + MS))
        if keep_c:
            rows.append((tc, _s(2 * i + 2), "worker", "jobs process", "consumer", c0 + shift, free + shift))
        if keep_p and keep_c:
            truth.add((tp, tc))
        for r in rows:
            for k, v in zip(cols, (r[0], r[1], None, *r[2:]), strict=True):
                cols[k].append(v)
    return tk.spans_from_columns(cols, time_unit="ns"), truth


def _right(hops, truth) -> np.ndarray:
    return np.asarray([p in truth for p in zip(hops["producer_trace_id"], hops["consumer_trace_id"], strict=True)],
                      dtype=bool)


def test_nearest_first_backlog_with_consumers_missing_is_not_sure_of_its_wrong_hops():
    # a backlog (a message every 10 ms, 12 ms of work), one consumer in ten missing: nearest-first pairs almost every
    # consumer with a newer message than its own. Before: 59 of the 176 wrong hops at 0.5 or more (the producers left over
    # by the missing consumers are never matched, so those hops cross nothing); the in-order reading pairs each of
    # them otherwise, so now none reaches 0.5
    spans, truth = _queue(200, every_p=10, every_c=12, drop_c=10)
    h = tk.stitch(spans, via="heuristic").hops
    ok = _right(h, truth)
    c = h["confidence"].to_numpy()
    assert len(h) == 180 and ok.sum() < 10
    assert ((c >= 0.5) & ~ok).sum() == 0
    # while the queue drains (3 ms of work), the same consumers missing: every hop right, and still 0.8
    spans, truth = _queue(200, every_p=10, every_c=3, drop_c=10)
    h = tk.stitch(spans, via="heuristic").hops
    assert len(h) == 180 and _right(h, truth).all() and (h["confidence"] == 0.8).all()


@pytest.fixture(scope="module")
def linked():
    sim = tk.simulate.simulate("async-links", n_traces=20, seed=1).spans
    return sim, tk.stitch(sim)


def test_links_to_spans_not_loaded_are_listed_with_the_linked_ids(linked):
    # the producers of 3 hops are left out of the data: their consumers' links point outside it. Before: stitch
    # dropped those hops without a word (the result had no place to say so); now each link is a row naming the span
    # that links and the span it links to, and nothing else is unresolved
    sim, full = linked
    assert len(full.hops) > 3 and len(full.unresolved) == 0 and set(full.hops["rule"]) == {"link"}
    gone = full.hops.iloc[:3]
    part = tk.stitch(sim[~sim["trace_id"].isin(set(gone["producer_trace_id"]))])
    assert len(part.hops) == len(full.hops) - 3
    u = part.unresolved
    assert list(u.columns) == ["trace_id", "span_id", "service", "name", "role", "destination", "message_id",
                               "linked_trace_id", "linked_span_id", "reason"]
    got = set(zip(u["span_id"], u["linked_trace_id"], u["linked_span_id"], u["reason"], u["role"], strict=True))
    want = set(zip(gone["consumer_span_id"], gone["producer_trace_id"], gone["producer_span_id"],
                   ["link_outside"] * 3, ["consumer"] * 3, strict=True))
    assert got == want


def test_a_message_no_consumer_in_the_data_took_reads_apart_from_one_not_stitched(linked):
    # consumers that link to their producers, 3 of them left out of the data: their producers' messages were taken
    # by no consumer in the data (every consumer left names its own producer), and say so
    sim, full = linked
    gone = full.hops.iloc[:3]
    u = tk.stitch(sim[~sim["trace_id"].isin(set(gone["consumer_trace_id"]))]).unresolved
    assert set(zip(u["span_id"], u["role"], u["reason"], strict=True)) == {
        (p, "producer", "no_consumer") for p in gone["producer_span_id"]}
    # by time alone (no links) the same can only be said as "paired otherwise": a drained queue, one consumer in
    # ten missing, every consumer paired rightly, and the 10 producers of the missing ones listed
    spans, truth = _queue(100, every_p=10, every_c=3, drop_c=10)
    st = tk.stitch(spans)
    assert len(st.hops) == 90 and _right(st.hops, truth).all()
    u = st.unresolved
    assert set(u["role"]) == {"producer"} and set(u["trace_id"]) == {_t(i + 1) for i in range(9, 100, 10)}
    # the last message: no consumer started after it at all
    assert dict(zip(u["trace_id"], u["reason"], strict=True)) == {
        _t(i + 1): "consumers_taken" if i < 99 else "no_consumer" for i in range(9, 100, 10)}
    assert (u["destination"] == "jobs").all()
    # asked to follow links only, nothing is paired, and the rows say no rule was tried (not "no consumer")
    u = tk.stitch(spans, via="links").unresolved
    assert len(u) == 190 and set(u["reason"]) == {"not_tried"}
    assert (u["role"] == "consumer").sum() == 90


def test_consumers_with_a_clock_behind_are_reported_not_silently_dropped():
    # 100 messages every 10 ms, each taken 2 ms after hand-over by a consumer whose clock is 300 ms behind: by time
    # alone 30 consumers start before any producer of their queue ended. Before: they (and the last 30 producers)
    # vanished without a word; now each is a row saying why
    spans, truth = _queue(100, every_p=10, every_c=3, shift_c_ms=-300)
    st = tk.stitch(spans)
    u = st.unresolved
    early = u[u["role"] == "consumer"]
    late = u[u["role"] == "producer"]
    assert set(early["reason"]) == {"producers_after"} and len(early) == 30
    assert set(early["trace_id"]) == {_t(100 + i + 1) for i in range(30)}  # the first 30 consumers
    assert set(late["reason"]) == {"no_consumer"} and set(late["trace_id"]) == {_t(i + 1) for i in range(70, 100)}
    assert len(st.hops) == 70
    # corrected clocks (here by construction) pair every message, and leave nothing unresolved
    fixed = spans.copy()
    c = fixed["kind"] == "consumer"
    fixed.loc[c, ["start", "end"]] = fixed.loc[c, ["start", "end"]] + pd.Timedelta(300, "ms")
    st = tk.stitch(fixed)
    assert _right(st.hops, truth).all() and len(st.hops) == 100 and len(st.unresolved) == 0


def test_a_message_id_no_span_sent_is_reported():
    # two consumers carry message ids; only m-1 was sent in the data. The consumer of m-2 is not paired by time to
    # the producer of m-1 (that one is taken), and says its id was not sent
    spans = tk.spans_from_columns({
        "trace_id": [_t(1), _t(2), _t(3)], "span_id": [_s(1), _s(2), _s(3)], "parent_id": [None] * 3,
        "service": ["api", "w", "w"], "name": ["q publish", "q process", "q process"],
        "kind": ["producer", "consumer", "consumer"], "start": [0, 20 * MS, 30 * MS], "end": [10 * MS, 25 * MS, 35 * MS],
        "attributes": [{"messaging.message.id": "m-1"}, {"messaging.message.id": "m-1"},
                       {"messaging.message.id": "m-2"}]}, time_unit="ns")
    st = tk.stitch(spans)
    assert st.hops[["producer_span_id", "consumer_span_id"]].values.tolist() == [[_s(1), _s(2)]]
    u = st.unresolved
    assert u[["span_id", "role", "message_id", "reason"]].values.tolist() == [[_s(3), "consumer", "m-2", "id_not_sent"]]


def test_a_message_id_every_message_shares_pairs_each_consumer_with_the_producer_nearest_in_time():
    # every span carries the same message id "0" (a placeholder): each consumer takes the latest producer of that id
    # to end before it started (right while the queue drains), at 0.9 (the id is not unique). The first message's
    # consumer has a clock 20 ms behind, so no producer ended before it: it takes the first to end after it (its own,
    # 19 ms off). Before: the latest of all (the last message, 3 s off), and the search scanned every producer of the
    # id per consumer (8,000 messages: 21 s CPU; now 0.1 s: measured, not asserted)
    spans, truth = _queue(300, every_p=10, every_c=3)
    spans["attributes"] = [{"messaging.message.id": "0"} for _ in range(len(spans))]
    early = spans["trace_id"] == _t(301)
    spans.loc[early, ["start", "end"]] = spans.loc[early, ["start", "end"]] - pd.Timedelta(20, "ms")
    h = tk.stitch(spans, via="messaging").hops
    assert len(h) == 300 and set(h["rule"]) == {"message_id"} and (h["confidence"] == 0.9).all()
    assert _right(h, truth).all()
    assert h.set_index("consumer_trace_id").loc[_t(301), "queue_wait_ms"] == -19.0


def test_a_span_linking_to_itself_is_reported_as_such():
    # a consumer whose only link names itself (an instrumentation that linked the current context): no hop, and the
    # row says the link names no producer (before: nothing, or only 'no span sends to its queue')
    B = 1000 * MS
    spans = tk.spans_from_columns({
        "trace_id": [_t(1)], "span_id": [_s(1)], "parent_id": [None], "service": ["w"], "name": ["jobs process"],
        "kind": ["consumer"], "start": [B], "end": [B + 5 * MS]}, time_unit="ns")
    spans["links"] = [[{"trace_id": _t(1), "span_id": _s(1)}]]
    st = tk.stitch(spans)
    assert st.hops.empty
    u = st.unresolved
    links = u[u["linked_span_id"].notna()]
    assert links[["span_id", "linked_span_id", "reason"]].values.tolist() == [[_s(1), _s(1), "link_to_itself"]]
    # the consumer itself is still listed: nothing else sends to its queue
    assert u.loc[u["linked_span_id"].isna(), "reason"].tolist() == ["no_producer_of_queue"]


def test_a_batch_receive_span_whose_child_took_its_message_is_not_paired_by_time():
    # OTel batch receive: a "receive" consumer span (a trace root) over a "process" consumer span that links to its
    # producer. Another message of the queue (producer 5) has no consumer in the data. Before: the receive span was
    # paired by time with producer 5 (a hop at 0.4 that did not happen); now its message is the one its child took
    B = 1000 * MS
    rows = [(_t(1), _s(1), None, "api", "q publish", "producer", B, B + MS),
            (_t(3), _s(3), None, "w", "q receive", "consumer", B + 10 * MS, B + 11 * MS),
            (_t(3), _s(4), _s(3), "w", "q process", "consumer", B + 11 * MS, B + 12 * MS),
            (_t(4), _s(5), None, "api", "q publish", "producer", B + 5 * MS, B + 6 * MS)]
    cols = {k: list(v) for k, v in zip(("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end"),
                                       zip(*rows, strict=True), strict=True)}
    spans = tk.spans_from_columns(cols, time_unit="ns")
    spans["links"] = [None, None, [{"trace_id": _t(1), "span_id": _s(1)}], None]
    st = tk.stitch(spans)
    assert st.hops[["producer_span_id", "consumer_span_id", "rule"]].values.tolist() == [[_s(1), _s(4), "link"]]
    # producer 5's message: no consumer in the data took it, and the receive span is not listed as unresolved
    assert st.unresolved[["span_id", "role"]].values.tolist() == [[_s(5), "producer"]]
