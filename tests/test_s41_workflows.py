"""Review s41 (workflows): ``tk.stitch`` / ``tk.workflow_summary`` on queues and links built by construction.

Every frame is a few spans whose true hops are known: two SQS queues of one name in two AWS accounts (by time and by
message id), and the cost of many small queues (one reply queue per request), measured in the commit message, not
asserted here.
"""

from __future__ import annotations

import pandas as pd

import tracekit as tk

MS = 1_000_000
T0 = pd.Timestamp("2024-01-01", tz="UTC").value


def _frame(rows: list[dict]) -> pd.DataFrame:
    keys = ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "attributes", "links")
    cols = {k: [r.get(k) for r in rows] for k in keys}
    cols["attributes"] = [a or {} for a in cols["attributes"]]
    cols["links"] = [a or [] for a in cols["links"]]
    return tk.spans_from_columns(cols)


def _span(i: int, service: str, name: str, kind: str, start_ms: float, end_ms: float, **kw) -> dict:
    return dict(trace_id=f"{i:032x}", span_id=f"{i:016x}", service=service, name=name, kind=kind,
                start=T0 + int(start_ms * MS), end=T0 + int(end_ms * MS), **kw)


def _pairs(hops: pd.DataFrame) -> set:
    return set(zip(hops["producer_service"], hops["consumer_service"], strict=True))


Q1 = "https://sqs.us-east-1.amazonaws.com/111111111111/orders"
Q2 = "https://sqs.eu-west-1.amazonaws.com/222222222222/orders"


def test_two_queues_of_one_name_in_two_accounts_are_two_queues():
    # a sends to orders of account 111 at 1 ms, b to orders of account 222 at 50 ms; c1 reads 111's at 60 ms, c2
    # 222's at 200 ms. Truth: a -> c1 (59 ms), b -> c2 (150 ms). Before: one queue "orders", nearest first:
    # b -> c1 and a -> c2 (both wrong)
    spans = _frame([
        _span(1, "a", "orders send", "producer", 0, 1, attributes={"aws.queue_url": Q1}),
        _span(2, "b", "orders send", "producer", 40, 50, attributes={"aws.queue_url": Q2}),
        _span(3, "c1", "orders process", "consumer", 60, 70, attributes={"aws.queue_url": Q1}),
        _span(4, "c2", "orders process", "consumer", 200, 210, attributes={"aws.queue_url": Q2}),
    ])
    h = tk.stitch(spans).hops
    assert _pairs(h) == {("a", "c1"), ("b", "c2")}
    assert sorted(h["queue_wait_ms"]) == [59.0, 150.0]


def test_a_message_id_is_read_within_its_account_and_an_arn_names_the_queue_its_url_does():
    # message id "7" in both accounts' queues; the consumer names its queue by ARN (account 111, the URL's of a).
    # Truth: a -> c1 at confidence 1 (one producer of that queue has the id). Before: b -> c1 at 0.9
    spans = _frame([
        _span(1, "a", "send", "producer", 0, 1, attributes={"aws.queue_url": Q1, "messaging.message.id": "7"}),
        _span(2, "b", "send", "producer", 40, 50, attributes={"aws.queue_url": Q2, "messaging.message.id": "7"}),
        _span(3, "c1", "process", "consumer", 60, 70,
              attributes={"messaging.destination.arn": "arn:aws:sqs:us-east-1:111111111111:orders",
                          "messaging.message.id": "7"}),
    ])
    st = tk.stitch(spans)
    assert _pairs(st.hops) == {("a", "c1")} and st.hops["confidence"].tolist() == [1.0]
    assert st.unresolved[["service", "reason"]].values.tolist() == [["b", "no_consumer"]]


def test_many_one_message_queues_each_pair_their_own_message_in_both_orders():
    # one reply queue per request (RPC over a broker): 60 queues "reply-<i>", the reply sent at 10 i ms and taken
    # 2 ms after, interleaved in time with 20 messages through one shared queue "jobs" (sent at 10 i + 5 ms, taken
    # 1 ms after). Truth: every producer feeds the consumer of its own number, 80 hops, a lone message in reach each
    rows = []
    for i in range(60):
        q = f"reply-{i}"
        rows.append(_span(1000 + i, f"p{i}", f"{q} send", "producer", 10 * i, 10 * i + 1))
        rows.append(_span(2000 + i, f"p{i}", f"{q} process", "consumer", 10 * i + 3, 10 * i + 4))
    for i in range(20):
        rows.append(_span(3000 + i, f"j{i}", "jobs send", "producer", 10 * i + 5, 10 * i + 6))
        rows.append(_span(4000 + i, f"j{i}", "jobs process", "consumer", 10 * i + 7, 10 * i + 8))
    spans = _frame(rows)
    for order in ("nearest", "fifo"):
        h = tk.stitch(spans, via="heuristic", order=order).hops
        assert len(h) == 80 and (h["producer_service"] == h["consumer_service"]).all()
        assert (h["confidence"] == 0.8).all() and (h["queue_wait_ms"] == 2.0).sum() == 60


def test_a_link_written_with_an_x_ray_trace_id_finds_its_span():
    # the producer's ids are given as X-Ray writes them (1-5759e988-…, span id upper case); spans_from_columns puts
    # the id columns in the readers' form, and the consumer's link names the same span in the same X-Ray form. Truth:
    # one link hop, 59 ms. Before: the link was lowered only and read as link_outside, no hop
    xid = "1-5759e988-bd862e3fe1be46a994272793"
    spans = _frame([
        dict(trace_id=xid, span_id="AAAAAAAAAAAAAAAA", service="a", name="send", kind="producer", start=T0,
             end=T0 + MS),
        _span(2, "b", "process", "consumer", 60, 70, links=[{"trace_id": xid, "span_id": "AAAAAAAAAAAAAAAA"}]),
    ])
    st = tk.stitch(spans)
    assert st.hops[["producer_trace_id", "rule", "queue_wait_ms"]].values.tolist() == [
        ["5759e988bd862e3fe1be46a994272793", "link", 59.0]]
    assert not (st.unresolved["reason"] == "link_outside").any()
    assert tk.workflow_summary(st)[["traces", "hops"]].values.tolist() == [[2, 1]]


def _handler_frame(n: int, calls: list[str]) -> pd.DataFrame:
    """``n`` traces: web GET (0-10 ms) calls db q (1-5 ms) and cache get (1-4 ms) at one instant, in parallel; the
    calls listed in the frame in the order ``calls`` gives."""
    spec = {"db": ("db", "q", 1, 5), "cache": ("cache", "get", 1, 4)}
    rows = []
    for t in range(1, n + 1):
        rows.append(dict(trace_id=f"{t:032x}", span_id=f"{t:015x}0", service="web", name="GET", kind="server",
                         start=T0, end=T0 + 10 * MS))
        for k, c in enumerate(calls, 1):
            svc, name, a, b = spec[c]
            rows.append(dict(trace_id=f"{t:032x}", span_id=f"{t:015x}{k}", parent_id=f"{t:015x}0", service=svc,
                             name=name, kind="client", start=T0 + a * MS, end=T0 + b * MS))
    return _frame(rows)


def test_early_stops_do_not_depend_on_the_frames_row_order():
    # the same handler in baseline and incident: two parallel calls starting at one instant, listed db first in the
    # baseline's file and cache first in the incident's. Truth: nothing stopped early (the same calls at the same
    # times). Before: ties in start taken in the frame's order, so the incident's 5 GET spans ended after "the other"
    # call, a step the baseline never took: 5 of 5 stopped, all origins
    from tracekit.analysis.early_stops import early_stops

    base, inc = _handler_frame(20, ["db", "cache"]), _handler_frame(5, ["cache", "db"])
    es = early_stops(inc, base)
    assert not es["stopped"].any() and not es["origin"].any()
    same_inc = _handler_frame(5, ["db", "cache"])
    same = early_stops(same_inc, base)
    assert es["state"][inc["name"] == "GET"].tolist() == same["state"][same_inc["name"] == "GET"].tolist()


def test_x_ray_sns_fan_out_in_one_trace_times_its_queue_exactly():
    # X-Ray: api (0-20 ms) publishes to SNS (5-10 ms) -> inferred SNS segment -> two subscriber segments, w1
    # (30-50 ms) and w2 (40-90 ms), all in one trace. Truth: 2 hops from the Publish subsegment, waits 20 and 30 ms,
    # queue time the union of [10, 30] and [10, 40] = 30 ms, end to end 90 ms, the request 20 ms, the path's queue
    # section the wait of w2 (which ends last). Before: queue_ms 29.999872 (the union computed in float64 ns)
    topic = "arn:aws:sns:us-east-1:111111111111:events"
    t = dict(trace_id="7" * 32)
    spans = _frame([
        dict(**t, span_id="1" * 16, service="api", name="api", kind="server", start=T0, end=T0 + 20 * MS),
        dict(**t, span_id="2" * 16, parent_id="1" * 16, service="api", name="SNS", kind="client", start=T0 + 5 * MS,
             end=T0 + 10 * MS, attributes={"aws.operation": "Publish", "aws.topic_arn": topic}),
        dict(**t, span_id="3" * 16, parent_id="2" * 16, service="SNS", name="SNS", kind="server", start=T0 + 5 * MS,
             end=T0 + 10 * MS),
        dict(**t, span_id="4" * 16, parent_id="3" * 16, service="w1", name="w1", kind="server", start=T0 + 30 * MS,
             end=T0 + 50 * MS),
        dict(**t, span_id="5" * 16, parent_id="3" * 16, service="w2", name="w2", kind="server", start=T0 + 40 * MS,
             end=T0 + 90 * MS),
    ]).assign(inferred=[False, False, True, False, False])
    st = tk.stitch(spans)
    assert sorted(zip(st.hops["consumer_service"], st.hops["queue_wait_ms"], strict=True)) == [("w1", 20.0), ("w2", 30.0)]
    assert set(st.hops["producer_name"]) == {"SNS"} and set(st.hops["destination"]) == {"events"}
    ws = tk.workflow_summary(st)
    assert ws[["traces", "hops", "end_to_end_ms", "request_ms", "queue_ms", "max_wait_ms"]].values.tolist() == [
        [1, 2, 90.0, 20.0, 30.0, 30.0]]
    cp = tk.workflow_critical_path(st)
    assert cp["duration_ms"].sum() == 90.0
    assert cp.loc[cp["section"] == "queue", ["service", "duration_ms"]].values.tolist() == [["events", 30.0]]
