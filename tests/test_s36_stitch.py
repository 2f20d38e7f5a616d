"""Review s36 (stitch): ``tk.stitch`` on queues without links, where the heuristic pairs consumers with producers.

Covers the declared in-order pairing (``order="fifo"``), its confidence when spans are missing, and the messaging
attributes that pair or separate messages exactly: a Kafka message's topic, partition and offset, a Kafka partition
as a queue of its own, and the ``MessageId`` an X-Ray SDK records on an SQS ``SendMessage`` subsegment
(``aws.message_id``). Queues are built by construction: producers hand a message over every ``every_p`` ms (the
span ends 1 ms after it starts), one consumer per partition takes them in order 1 ms after hand-over or when it is
free, and works ``every_c`` ms; the true pairs are known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.errors import ArgumentError

MS = 1_000_000


def _queue(n: int, every_p: float, every_c: float, drop_c: int = 0, drop_p: int = 0, partitions: int = 1,
           attrs: str = "", seed: int = 0, workers: int = 1, pickup: float = 1):
    """Spans of ``n`` messages through in-order queues, and the true (producer trace, consumer trace) pairs.
    ``drop_c`` / ``drop_p``: every such consumer / producer is left out of the data (0: none). ``partitions``:
    messages go to that many partitions at random, each with ``workers`` consumers taking its messages in order
    (the next message starts when a worker is free, never before the one before it). ``attrs``: "" (no
    attributes), "partition" (each span names its partition) or "offset" (partition and offset). ``pickup``: ms from
    hand-over to the start of a free consumer (polling)."""
    rng = np.random.default_rng(seed)
    part = rng.integers(0, partitions, n)
    cols = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end")}
    cols["attributes"] = []
    truth, free, offset, last = set(), {}, {}, {}
    for i in range(n):
        t0 = i * every_p * MS
        p = int(part[i])
        w = free.setdefault(p, [0] * workers)
        k = int(np.argmin(w))
        c0 = max(t0 + MS + pickup * MS, w[k], last.get(p, 0))
        w[k] = last[p] = c0 + every_c * MS
        last[p] = c0
        offset[p] = offset.get(p, -1) + 1
        a = {}
        if attrs:
            a = {"messaging.system": "kafka", "messaging.destination.partition.id": str(p)}
            if attrs == "offset":
                a["messaging.kafka.offset"] = offset[p]
        tp, tc = f"{i + 1:032x}", f"{n + i + 1:032x}"
        keep_p = not (drop_p and i % drop_p == drop_p - 1)
        keep_c = not (drop_c and i % drop_c == drop_c - 1)
        rows = []
        if keep_p:
            rows.append((tp, f"{2 * i + 1:016x}", "api", "jobs publish", "producer", int(t0), int(t0 + MS), a))
        if keep_c:
            rows.append((tc, f"{2 * i + 2:016x}", "worker", "jobs process", "consumer", int(c0),
                         int(c0 + every_c * MS), dict(a)))
        if keep_p and keep_c:
            truth.add((tp, tc))
        for tr, sp, svc, name, kind, s, e, at in rows:
            for k, v in zip(cols, (tr, sp, None, svc, name, kind, s, e, at), strict=True):
                cols[k].append(v)
    return tk.spans_from_columns(cols), truth


def _right(hops, truth) -> np.ndarray:
    return np.asarray([p in truth for p in zip(hops["producer_trace_id"], hops["consumer_trace_id"], strict=True)])


def _true_wait_ms(spans, hops, n: int) -> np.ndarray:
    """Per hop, the wait of the consumer's own message (of ``n`` messages: its producer trace id is the consumer's
    less n)."""
    s = spans.set_index("trace_id")
    own = [f"{int(c, 16) - n:032x}" for c in hops["consumer_trace_id"]]
    pe = s.loc[own, "end"].astype("int64").to_numpy()
    return (hops["consumer_start"].astype("int64").to_numpy() - pe) / MS


@pytest.fixture(scope="module")
def backlog():
    # messages every 10 ms, the consumer takes 12 ms: the queue grows, true waits 1 ms .. 0.2 s
    return _queue(100, every_p=10, every_c=12)


def test_declared_fifo_pairs_a_backlog_rightly(backlog):
    spans, truth = backlog
    near = tk.stitch(spans, via="heuristic").hops
    fifo = tk.stitch(spans, via="heuristic", order="fifo")
    h = fifo.hops
    # nearest-first reads the backlog wrong (documented); declared in-order pairing gets every pair and every wait
    assert _right(near, truth).sum() < 10
    assert len(h) == 100 and _right(h, truth).all() and set(h["rule"]) == {"heuristic"}
    np.testing.assert_allclose(h["queue_wait_ms"].to_numpy(), _true_wait_ms(spans, h, 100))
    assert h["queue_wait_ms"].max() > 190  # the true waits grow to 0.2 s; nearest-first read a few ms
    # nothing is missing, so the in-order reading keeps the heuristic's 0.8; the setting is recorded
    assert (h["confidence"] == 0.8).all() and fifo.params["order"] == "fifo"
    assert tk.stitch(spans).params["order"] == "nearest"


@pytest.mark.parametrize("workers, every_c", [(1, 12), (2, 25)])
def test_declared_fifo_skips_messages_of_consumers_missing_from_the_data(workers, every_c):
    # a backlog (one consumer taking 12 ms per 10 ms message, or two in parallel taking 25 ms), one consumer in ten
    # missing: plain in-order pairing would shift every pair after the first gap; the replay of the queue sees
    # that a consumer could have started the missing one's message a job earlier, and skips it
    spans, truth = _queue(100, every_p=10, every_c=every_c, drop_c=10, workers=workers)
    h = tk.stitch(spans, via="heuristic", order="fifo").hops
    assert len(h) == len(truth) == 90 and _right(h, truth).all()
    np.testing.assert_allclose(h["queue_wait_ms"].to_numpy(), _true_wait_ms(spans, h, 100))
    # a hop just after a skipped message (the 9 after the 9 consumers missing before the last) is less sure
    assert h["confidence"].value_counts().to_dict() == {0.8: 81, 0.4: 9}


def test_declared_fifo_allows_for_the_consumers_polling_delay():
    # consumers keep up but pick a message up 8 ms after it was handed over (polling), one in ten missing. The
    # replay must not read that delay as consumers missing (before: each consumer could have started 7 ms earlier,
    # so was read as one missing, every message skipped: 0 hops of 90)
    spans, truth = _queue(100, every_p=10, every_c=3, drop_c=10, pickup=8)
    h = tk.stitch(spans, via="heuristic", order="fifo").hops
    assert len(h) == len(truth) == 90 and _right(h, truth).all()
    assert (h["queue_wait_ms"] == 8).all()
    # a delay longer than the time between messages (20 ms, messages every 10 ms): the reading with the longer delay
    # leaves fewer consumers without a message, so it wins (s38: before, read as consumers missing, 0 of 90 right)
    spans, truth = _queue(100, every_p=10, every_c=3, drop_c=10, pickup=20)
    h = tk.stitch(spans, via="heuristic", order="fifo").hops
    assert len(h) == 90 and _right(h, truth).all() and (h["queue_wait_ms"] == 20).all()


def test_declared_fifo_with_producers_missing_says_it_is_unsure():
    # one producer in ten missing while messages wait: its consumer takes the next message and the pairs after it
    # shift (documented); the consumers left without a message at the end say so: every hop below 0.1
    spans, truth = _queue(100, every_p=10, every_c=12, drop_p=10)
    h = tk.stitch(spans, via="heuristic", order="fifo").hops
    assert _right(h, truth).sum() < len(truth) / 2
    # every wrong hop below 0.1; the first message, handed to an idle consumer before any producer is missing, is
    # right and keeps 0.8 (s38: the count is per stretch of waiting messages, not per queue)
    r = _right(h, truth)
    assert (h["confidence"][~r] < 0.1).all() and r[h["confidence"] >= 0.1].all()


def test_declared_fifo_matches_nearest_while_the_queue_drains():
    # 3 ms of work every 10 ms: both rules pair every message rightly
    spans, truth = _queue(60, every_p=10, every_c=3)
    for order in ("nearest", "fifo"):
        h = tk.stitch(spans, via="heuristic", order=order).hops
        assert len(h) == 60 and _right(h, truth).all()


@pytest.mark.parametrize("bad", ["lifo", "FIFO", None, 1])
def test_unknown_order_is_an_argument_error(backlog, bad):
    with pytest.raises(ArgumentError, match="order"):
        tk.stitch(backlog[0], order=bad)


def test_kafka_topic_partition_offset_pair_exactly():
    # two partitions under a backlog, every span with its partition and offset: rule message_id pairs every message
    # (before: no message id was read, and the heuristic paired 5 of 100 rightly)
    spans, truth = _queue(100, every_p=5, every_c=12, partitions=2, attrs="offset", seed=1)
    h = tk.stitch(spans).hops
    assert len(h) == 100 and set(h["rule"]) == {"message_id"} and _right(h, truth).all()
    assert (h["confidence"] == 1.0).all()
    np.testing.assert_allclose(h["queue_wait_ms"].to_numpy(), _true_wait_ms(spans, h, 100))
    # a consumer of another partition at the same offset is not the same message
    alone = spans[spans["attributes"].map(lambda a: a["messaging.destination.partition.id"] == "0")
                  | (spans["kind"] == "producer")]
    h0 = tk.stitch(alone, via="messaging").hops
    assert _right(h0, truth).all() and len(h0) == (alone["kind"] == "consumer").sum()


def test_kafka_partitions_are_queues_of_their_own():
    # two partitions, each drained in order by its consumer (8 ms of work, a message every 5 ms to either); spans
    # name their partition but carry no offset. A message is read from the partition it was sent to: no hop joins
    # two partitions (before: 36 of 100 did, 27 of 100 right; now nearest-first gets 46, declared fifo all 100)
    spans, truth = _queue(100, every_p=5, every_c=8, partitions=2, attrs="partition", seed=2)
    part = dict(zip(spans["span_id"], spans["attributes"].map(lambda a: a["messaging.destination.partition.id"]),
                    strict=True))
    near = tk.stitch(spans, via="heuristic").hops
    assert len(near) == 100
    assert all(part[p] == part[c] for p, c in zip(near["producer_span_id"], near["consumer_span_id"], strict=True))
    assert _right(near, truth).sum() > 40
    assert _right(tk.stitch(spans, via="heuristic", order="fifo").hops, truth).all()
    # producers that name no partition keep the destination whole: consumers still find their producers
    one_side = spans.assign(attributes=[a if k == "consumer" else {}
                                        for a, k in zip(spans["attributes"], spans["kind"], strict=True)])
    assert len(tk.stitch(one_side, via="heuristic").hops) == 100


def test_xray_sqs_message_id_pairs_with_an_otel_consumer():
    # an X-Ray SDK records SendMessage's MessageId as aws.message_id; an OTel consumer carries messaging.message.id.
    # Two messages sent 1 ms apart, consumed in the reverse order: only the id tells them apart
    t = lambda i: f"{i:032x}"  # noqa: E731
    s = lambda i: f"{i:016x}"  # noqa: E731
    spans = tk.spans_from_columns({
        "trace_id": [t(1), t(2), t(3), t(4)], "span_id": [s(1), s(2), s(3), s(4)], "parent_id": [None] * 4,
        "service": ["api", "api", "worker", "worker"], "name": ["SQS", "SQS", "orders process", "orders process"],
        "kind": ["client", "client", "consumer", "consumer"],
        "start": [0, 1 * MS, 50 * MS, 60 * MS], "end": [1 * MS, 2 * MS, 55 * MS, 65 * MS],
        "attributes": [{"aws.operation": "SendMessage", "aws.message_id": "m-1"},
                       {"aws.operation": "SendMessage", "aws.message_id": "m-2"},
                       {"messaging.system": "aws_sqs", "messaging.message.id": "m-2"},
                       {"messaging.system": "aws_sqs", "messaging.message.id": "m-1"}]})
    h = tk.stitch(spans).hops.set_index("consumer_span_id")
    assert list(h["rule"]) == ["message_id", "message_id"]
    assert h.loc[s(3), "producer_span_id"] == s(2) and h.loc[s(4), "producer_span_id"] == s(1)
    assert h.loc[s(4), "queue_wait_ms"] == 59.0


def test_workflow_critical_path_follows_the_hops_stitch_found(backlog):
    # a Stitched carries its settings: the critical path through a declared in-order queue takes the same hops as
    # the summary (before: workflow_critical_path refused a Stitched, and re-stitched a frame nearest-first)
    spans, truth = backlog
    st = tk.stitch(spans, via="heuristic", order="fifo")
    cp = tk.workflow_critical_path(st)
    ws = tk.workflow_summary(st).set_index("workflow_id")
    q = cp[cp["section"] == "queue"].set_index("workflow_id")["duration_ms"]
    assert len(q) == 100 and q.index.is_unique
    # one hop per workflow: its queue section is the wait of the hop (its true wait), and the summary's
    np.testing.assert_allclose(q.to_numpy(), ws.loc[q.index, "max_wait_ms"].to_numpy())
    hops = st.hops.set_index("workflow_id")["queue_wait_ms"]
    np.testing.assert_allclose(q.to_numpy(), hops.loc[q.index].to_numpy())
    total = cp.groupby("workflow_id")["duration_ms"].sum()
    np.testing.assert_allclose(total.to_numpy(), ws.loc[total.index, "end_to_end_ms"].to_numpy())
    assert q.max() > 190  # the backlog's true waits; the nearest-first reading is a few ms
    # the input is not modified
    assert "workflow_id" in st.spans.columns and len(st.hops) == 100


def test_message_ids_repeated_across_queues_pair_within_their_queue():
    # two queues number their messages 1, 2, ...: queue b's consumer of message 1 belongs to queue b's producer
    # (before: it took queue a's, which ended later, at confidence 0.9, and queue b's producer fed no hop)
    t = lambda i: f"{i:032x}"  # noqa: E731
    s = lambda i: f"{i:016x}"  # noqa: E731
    spans = tk.spans_from_columns({
        "trace_id": [t(1), t(2), t(3), t(4)], "span_id": [s(1), s(2), s(3), s(4)], "parent_id": [None] * 4,
        "service": ["api", "api", "wa", "wb"], "name": ["a publish", "b publish", "a process", "b process"],
        "kind": ["producer", "producer", "consumer", "consumer"],
        "start": [0, 5 * MS, 20 * MS, 30 * MS], "end": [10 * MS, 6 * MS, 25 * MS, 35 * MS],
        "attributes": [{"messaging.destination.name": q, "messaging.message.id": "1"} for q in "abab"]})
    h = tk.stitch(spans).hops.set_index("consumer_span_id")
    assert h.loc[s(3), "producer_span_id"] == s(1) and h.loc[s(4), "producer_span_id"] == s(2)
    assert h.loc[s(4), "queue_wait_ms"] == 24.0
    assert (h["rule"] == "message_id").all() and (h["confidence"] == 1.0).all()


def test_a_missing_message_id_read_as_nan_pairs_nothing():
    # attribute dicts built from a table carry NaN where a row had no id: NaN is no id (before: every NaN was the
    # id "nan", so one producer fed both consumers at confidence 1, one of them 90 ms before it ended)
    t = lambda i: f"{i:032x}"  # noqa: E731
    s = lambda i: f"{i:016x}"  # noqa: E731
    nan = float("nan")
    spans = tk.spans_from_columns({
        "trace_id": [t(1), t(2), t(3), t(4)], "span_id": [s(1), s(2), s(3), s(4)], "parent_id": [None] * 4,
        "service": ["api", "api", "w", "w"], "name": ["q publish", "q publish", "q process", "q process"],
        "kind": ["producer", "producer", "consumer", "consumer"],
        "start": [0, 100 * MS, 20 * MS, 130 * MS], "end": [10 * MS, 110 * MS, 25 * MS, 135 * MS],
        "attributes": [{"messaging.message.id": nan}, {"messaging.message.id": nan},
                       {"messaging.message.id": nan}, {"messaging.message.id": nan}]})
    assert len(tk.stitch(spans, via="messaging").hops) == 0
    h = tk.stitch(spans).hops.set_index("consumer_span_id")  # the heuristic pairs them by time instead
    assert h.loc[s(3), "producer_span_id"] == s(1) and h.loc[s(4), "producer_span_id"] == s(2)
    assert set(h["rule"]) == {"heuristic"} and (h["queue_wait_ms"] > 0).all()


def test_a_producer_in_progress_gives_no_negative_queue_section():
    # the producer span has no end (in progress); its consumer is linked to it. Before: the workflow critical path
    # had a queue section from NaT, -9.2e12 ms long. Now the message is handed over at the producer's start
    # (2 ms): sections GET 0-2, queue 2-20, consumer 20-30 add up to the summary's end_to_end_ms, 30 ms
    t = lambda i: f"{i:032x}"  # noqa: E731
    s = lambda i: f"{i:016x}"  # noqa: E731
    spans = tk.spans_from_columns({
        "trace_id": [t(1), t(1), t(2)], "span_id": [s(1), s(3), s(2)], "parent_id": [None, s(1), None],
        "service": ["api", "api", "w"], "name": ["GET", "q publish", "q process"],
        "kind": ["server", "producer", "consumer"], "start": [0, 2 * MS, 20 * MS], "end": [10 * MS, None, 30 * MS]})
    spans["links"] = [None, None, [{"trace_id": t(1), "span_id": s(3)}]]
    cp = tk.workflow_critical_path(spans)
    assert (cp["duration_ms"] >= 0).all()
    assert cp["duration_ms"].tolist() == [2.0, 18.0, 10.0] and cp["section"].tolist() == ["span", "queue", "span"]
    ws = tk.workflow_summary(spans)
    assert ws["end_to_end_ms"].tolist() == [30.0] and ws["queue_ms"].tolist() == [0.0]  # the wait is unknown
    assert np.isnan(ws["max_wait_ms"].iloc[0])


def test_a_consumer_linked_to_a_span_not_loaded_is_not_paired_by_time():
    # consumer 2 links to its producer, whose trace is not in the data; producer 1 of the same destination (whose
    # consumer was sampled out) ended 10 ms before it. Before: the heuristic paired them at confidence 0.8 (a 10 ms
    # wait read from another message); now the link says consumer 2's producer is elsewhere: no hop. Consumer 3,
    # with no link, is still paired by time with producer 4
    t = lambda i: f"{i:032x}"  # noqa: E731
    s = lambda i: f"{i:016x}"  # noqa: E731
    spans = tk.spans_from_columns({
        "trace_id": [t(1), t(2), t(3), t(4)], "span_id": [s(1), s(2), s(3), s(4)], "parent_id": [None] * 4,
        "service": ["api", "w", "w", "api"], "name": ["jobs publish", "jobs process", "jobs process", "jobs publish"],
        "kind": ["producer", "consumer", "consumer", "producer"], "start": [0, 20 * MS, 60 * MS, 50 * MS],
        "end": [10 * MS, 25 * MS, 65 * MS, 55 * MS]})
    spans["links"] = [None, [{"trace_id": t(9), "span_id": s(9)}], None, None]
    h = tk.stitch(spans).hops
    assert h[["producer_span_id", "consumer_span_id", "rule"]].values.tolist() == [[s(4), s(3), "heuristic"]]
    # without the links, the time-based guess stands for both
    h = tk.stitch(spans.drop(columns="links")).hops
    assert h[["producer_span_id", "consumer_span_id"]].values.tolist() == [[s(1), s(2)], [s(4), s(3)]]


def test_spans_exported_twice_are_one_span_each():
    # the same spans read twice (two exports of one trace): a later copy neither sends nor takes a message.
    # Before: with links, stitch raised pandas' InvalidIndexError (every copy blanked to None made a non-unique
    # index); by time, 20 messages read twice gave 40 hops (20 copies of pairs)
    sim = tk.simulate.simulate("async-links", n_traces=10, seed=1).spans
    twice = pd.concat([sim, sim], ignore_index=True)
    one, two = tk.stitch(sim), tk.stitch(twice)
    assert len(one.hops) > 0
    pd.testing.assert_frame_equal(one.hops, two.hops)
    cols = ["workflow_id", "hops", "end_to_end_ms", "queue_ms"]
    pd.testing.assert_frame_equal(tk.workflow_summary(sim)[cols], tk.workflow_summary(twice)[cols])
    spans, truth = _queue(20, every_p=10, every_c=3)
    for order in ("nearest", "fifo"):
        h = tk.stitch(pd.concat([spans, spans], ignore_index=True), via="heuristic", order=order).hops
        assert len(h) == 20 and _right(h, truth).all()


def test_every_consumer_group_takes_every_message():
    # a Kafka topic read by two consumer groups (billing 2 ms after each message, shipping 4 ms after): each
    # message has two consumers. Before: each producer fed one consumer, so billing took all 50 and shipping's 50
    # consumers were left out (50 of 100 hops); now each group is matched on its own: 100 of 100
    cols = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "attributes")}
    truth = set()
    for i in range(50):
        t0 = i * 10 * MS
        rows = [(f"{i + 1:032x}", f"{3 * i + 1:016x}", "api", "orders publish", "producer", t0, t0 + MS,
                 {"messaging.system": "kafka"})]
        for g, (svc, after) in enumerate((("billing", 2), ("shipping", 4))):
            tc = f"{(g + 1) * 1000 + i + 1:032x}"
            rows.append((tc, f"{3 * i + 2 + g:016x}", svc, "orders process", "consumer", t0 + after * MS,
                         t0 + (after + 3) * MS, {"messaging.system": "kafka", "messaging.consumer.group.name": svc}))
            truth.add((f"{i + 1:032x}", tc))
        for r in rows:
            for k, v in zip(cols, (r[0], r[1], None, *r[2:]), strict=True):
                cols[k].append(v)
    spans = tk.spans_from_columns(cols)
    for order in ("nearest", "fifo"):
        h = tk.stitch(spans, order=order).hops
        assert len(h) == 100 and _right(h, truth).all()
        assert h.groupby("consumer_service").size().to_dict() == {"billing": 50, "shipping": 50}
    ws = tk.workflow_summary(spans)
    assert len(ws) == 50 and (ws["traces"] == 3).all() and (ws["hops"] == 2).all()


def test_critical_path_across_links_takes_a_stitch_result_as_workflow_critical_path_does(backlog):
    # tk.critical_path(..., across_links=True) is documented as workflow_critical_path; it refused a Stitched
    # (require_columns on the result object) so the declared in-order hops could not be walked from it
    spans, _ = backlog
    st = tk.stitch(spans, via="heuristic", order="fifo")
    pd.testing.assert_frame_equal(tk.critical_path(st, across_links=True), tk.workflow_critical_path(st))
    with pytest.raises(tk.ArgumentError, match="across_links=True"):
        tk.critical_path(st)
