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
