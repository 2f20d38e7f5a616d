"""Session 45 (whatif): what_if and the critical path on asynchronous work, orphans and odd trees, by construction."""

from __future__ import annotations

import pandas as pd
import pytest

import tracekit as tk

from .test_structure import mk


def _ms(frame: pd.DataFrame, col: str) -> dict:
    s = frame.set_index("name")[col]
    return ((s - pd.Timestamp(0, tz="UTC")).dt.total_seconds() * 1000).round(6).to_dict()


def _producer_consumer():
    # root 0..100: validate 0..30, then send (producer) 30..40; the consumer `process` 60..200 under send started 20 ms
    # after the message was sent (it waited in the queue for it), its call `write` 70..190; `peek` (consumer) 35..50
    # started while the send ran (it did not wait for the send to end)
    return mk([(1, 1, None, "web", "root", "server", 0, 100), (1, 2, 1, "db", "validate", "client", 0, 30),
               (1, 3, 1, "web", "send", "producer", 30, 40), (1, 4, 3, "worker", "process", "consumer", 60, 200),
               (1, 5, 4, "db2", "write", "client", 70, 190), (1, 6, 3, "audit", "peek", "consumer", 35, 50)])


def test_a_consumer_that_waited_for_the_message_moves_with_the_producers_end():
    spans = _producer_consumer()
    r = tk.what_if(spans, {"web:send": -5}, n_boot=0).spans
    # send now 30..35: the message is there 5 ms sooner, so the consumer that waited for it starts 5 ms sooner, its
    # 20 ms in the queue kept (it stayed at 60..200: 25 ms in the queue after the new send)
    assert _ms(r, "start")["process"] == pytest.approx(55.0)
    assert _ms(r, "end")["process"] == pytest.approx(195.0)
    assert _ms(r, "start")["write"] == pytest.approx(65.0)
    assert _ms(r, "end")["write"] == pytest.approx(185.0)
    # the consumer that started during the send did not wait for its end: it stays (control)
    assert _ms(r, "start")["peek"] == pytest.approx(35.0)
    # the request: send's end 5 ms sooner, the root's 60 ms after it kept (the consumers hold it up nowhere)
    assert _ms(r, "end")["root"] == pytest.approx(95.0)


def test_a_consumer_moves_with_its_producer_moved_by_a_predecessor_control():
    """Control: validate 20 ms faster moves send 20 ms sooner and with it both consumers (old and new code)."""
    spans = _producer_consumer()
    r = tk.what_if(spans, {"db:validate": -20}, n_boot=0).spans
    assert _ms(r, "start") == pytest.approx({"root": 0, "validate": 0, "send": 10, "process": 40, "write": 50,
                                             "peek": 15})
    assert _ms(r, "end")["root"] == pytest.approx(80.0)


_MS = 1_000_000


def _link(t: str, s: str) -> list:
    return [{"trace_id": t * 32, "span_id": s * 16, "trace_state": None, "flags": None, "attributes": {}}]


def _linked_chain():
    # trace 1: api POST / 0..10, its SELECT 1..6 then publish 6..8 (producer)
    # trace 2: worker process 9..16 (consumer, links to publish: 1 ms in the queue), its publish2 12..13
    # trace 3: mailer send 20..25 (consumer, links to publish2: 7 ms in the queue)
    return tk.spans_from_columns({
        "trace_id": ["1" * 32] * 3 + ["2" * 32] * 2 + ["3" * 32],
        "span_id": ["a" * 16, "d" * 16, "b" * 16, "c" * 16, "e" * 16, "f" * 16],
        "parent_id": [None, "a" * 16, "a" * 16, None, "c" * 16, None],
        "service": ["api", "db", "api", "worker", "worker", "mailer"],
        "name": ["POST /", "SELECT", "jobs publish", "jobs process", "mail publish", "mail send"],
        "kind": ["server", "client", "producer", "consumer", "producer", "consumer"],
        "start": [0, 1 * _MS, 6 * _MS, 9 * _MS, 12 * _MS, 20 * _MS],
        "end": [10 * _MS, 6 * _MS, 8 * _MS, 16 * _MS, 13 * _MS, 25 * _MS],
        "links": [[], [], [], _link("1", "b"), [], _link("2", "e")]})


def test_a_linked_consumer_trace_moves_with_its_producer_and_so_does_the_next_hop():
    spans = _linked_chain()
    r = tk.what_if(spans, {"db:SELECT": -4}, n_boot=0).spans
    # SELECT 1..2, publish 2..4: the message is there 4 ms sooner; the worker's trace (1 ms in the queue) starts 4 ms
    # sooner, its publish2 with it, and the mailer's trace (7 ms in the queue) too (both stayed put: 5 and 11 ms waits)
    assert _ms(r, "start") == pytest.approx({"POST /": 0, "SELECT": 1, "jobs publish": 2, "jobs process": 5,
                                             "mail publish": 8, "mail send": 16})
    assert _ms(r, "end") == pytest.approx({"POST /": 6, "SELECT": 2, "jobs publish": 4, "jobs process": 12,
                                           "mail publish": 9, "mail send": 21})
    ws0, ws1 = tk.workflow_summary(spans), tk.workflow_summary(r)
    assert ws0["end_to_end_ms"].tolist() == [25.0]
    assert ws1["end_to_end_ms"].tolist() == pytest.approx([21.0])  # it said 25: the workflow as long as before
    assert ws1["queue_waits_ms"].iloc[0] == pytest.approx(ws0["queue_waits_ms"].iloc[0])  # (1, 7): it said (5, 11)
    # row order does not change the answer
    r2 = tk.what_if(spans.iloc[::-1].reset_index(drop=True), {"db:SELECT": -4}, n_boot=0).spans
    assert _ms(r2, "start") == pytest.approx(_ms(r, "start"))
    # the input is not modified
    assert spans.equals(_linked_chain())


def test_a_linked_consumer_that_started_during_the_send_moves_with_its_start():
    # the worker's process starts at 7, while publish (6..8) still ran: it moves with publish's start, not its end
    spans = _linked_chain()
    spans.loc[3, "start"] = pd.Timestamp(7 * _MS, tz="UTC")
    r = tk.what_if(spans, {"api:jobs publish": -1}, n_boot=0).spans  # publish 6..7: its start stays, so the worker
    assert _ms(r, "start")["jobs process"] == pytest.approx(7.0)
    r = tk.what_if(spans, {"db:SELECT": -4}, n_boot=0).spans  # publish moves to 2..4: the worker with its start
    assert _ms(r, "start")["jobs process"] == pytest.approx(3.0)


def test_queue_waits_of_the_simulated_async_workflows_are_kept_by_a_change():
    """By construction the simulator starts each consumer a drawn wait after its producer ends: a change upstream of
    the producer moves the consumer, the waits stay (they grew: 14.30 -> 17.25 ms of queue per workflow, and the
    workflows' end to end did not move)."""
    sim = tk.simulate.simulate("async-links", n_traces=300, seed=3)
    r = tk.what_if(sim.spans, {"checkout": "x0.5"}, n_boot=0)
    h0, h1 = tk.stitch(sim.spans).hops, tk.stitch(r.spans).hops
    assert len(h0) > 50 and len(h1) == len(h0)
    assert (h1["queue_wait_ms"].to_numpy() == pytest.approx(h0["queue_wait_ms"].to_numpy(), abs=1e-6))
    ws0, ws1 = tk.workflow_summary(sim.spans), tk.workflow_summary(r.spans)
    with_hops = ws0["hops"].to_numpy() > 0
    assert (ws1["end_to_end_ms"].to_numpy()[with_hops] < ws0["end_to_end_ms"].to_numpy()[with_hops]).mean() > 0.9


def _orphaned():
    # root (web) 0..100: A (db) 0..30, then a call whose client span was lost: its server O (pay, parent 99 not in the
    # data) 40..90 and O's call O2 50..80
    return mk([(1, 1, None, "web", "root", "server", 0, 100), (1, 2, 1, "db", "A", "client", 0, 30),
               (1, 4, 99, "pay", "O", "server", 40, 90), (1, 5, 4, "pay", "O2", "client", 50, 80)])


def test_an_orphan_moves_with_the_call_before_its_lost_parent():
    spans = _orphaned()
    r = tk.what_if(spans, {"db:A": -20}, n_boot=0).spans
    # the lost call hung under root (reconnect's caller) after A: A 20 ms faster moves it, so O and O2 move 20 ms
    # sooner, and end inside the request (they stayed at 40..90, past the request's new end at 80)
    assert _ms(r, "start") == pytest.approx({"root": 0, "A": 0, "O": 20, "O2": 30})
    assert _ms(r, "end") == pytest.approx({"root": 80, "A": 10, "O": 70, "O2": 60})
    r2 = tk.what_if(spans.iloc[::-1].reset_index(drop=True), {"db:A": -20}, n_boot=0).spans
    assert _ms(r2, "start") == pytest.approx(_ms(r, "start"))


def test_an_orphan_holds_no_one_up_as_on_the_critical_path_control():
    """Control (documented limit): the critical path walks an orphan as a fragment of its own, so its request does not
    wait on it; making its call faster shortens it, not the request."""
    spans = _orphaned()
    r = tk.what_if(spans, {"pay:O2": -20}, n_boot=0).spans
    assert _ms(r, "end") == pytest.approx({"root": 100, "A": 30, "O": 70, "O2": 60})
    cp = tk.critical_path(spans)
    assert set(cp.loc[cp["root_span_id"] == "0" * 15 + "1", "name"]) == {"root", "A"}


def test_a_linked_consumer_exported_twice_moves_as_one_span():
    spans = _linked_chain()
    twice = pd.concat([spans, spans.iloc[[3, 4]]], ignore_index=True)  # the worker's spans exported twice
    r = tk.what_if(twice, {"db:SELECT": -4}, n_boot=0).spans
    got = ((r["start"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds() * 1000).round(6).tolist()
    # both copies of the worker's process at 5 ms, as the span (the first fix left the copy at 9: copies disagreeing)
    assert got[3] == got[6] == pytest.approx(5.0)
    assert got[4] == got[7] == pytest.approx(8.0)
    assert not tk.critical_path(r).attrs["failures"]
