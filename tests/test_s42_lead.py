"""Session 42, lead: a fetch stopped by Ctrl-C keeps what it read (fetch_xray without a cache, fetch_logs), as a
failure already did. Each test builds its input by construction (a fake X-Ray client, a stubbed CloudWatch Logs
client) and failed on the code before the fix (the plain KeyboardInterrupt carried nothing)."""

from __future__ import annotations

import json

import pytest

import tracekit as tk
from tracekit.aws import FetchInterrupted, fetch_xray

from .test_s41_logs2 import T0, _event, _logs_client

T = 1_700_000_000.0


def _xray_id(k: int) -> str:
    return f"1-{int(T):08x}-{k:024x}"


class _InterruptedXRay:
    """BatchGetTraces answering each asked id with a one-segment trace of 250 ms, and Ctrl-C on the ``stop_at``-th
    call (before answering it)."""

    def __init__(self, stop_at: int):
        self.stop_at, self.calls = stop_at, 0
        self.meta = type("Meta", (), {"region_name": "us-east-1"})()

    def get_paginator(self, op: str):
        fake = self

        class P:
            def paginate(self, TraceIds, **kw):
                fake.calls += 1
                if fake.calls == fake.stop_at:
                    raise KeyboardInterrupt
                yield {"Traces": [{"Id": t, "Segments": [{"Id": f"{k + 1:016x}", "Document": json.dumps(
                    {"id": f"{k + 1:016x}", "name": "checkout", "trace_id": t, "start_time": T,
                     "end_time": T + 0.25})}]} for k, t in enumerate(TraceIds)]}

        return P()


def test_fetch_xray_interrupted_without_a_cache_hands_back_the_traces_fetched():
    ids = [_xray_id(k) for k in range(1, 13)]  # 3 calls of 5, 5 and 2 ids; Ctrl-C on the third
    with pytest.raises(KeyboardInterrupt) as info:
        fetch_xray(trace_ids=ids, client=_InterruptedXRay(stop_at=3), progress=False, max_workers=1)
    err = info.value
    assert isinstance(err, FetchInterrupted), "the 10 traces fetched before Ctrl-C were lost"
    got = err.partial
    assert sorted(got["trace_id"].map(tk.trace_id_to_xray)) == sorted(ids[:10])
    assert (got["duration_ms"] == 250.0).all()
    assert got.attrs["xray_fetch"]["partial"] is True
    assert got.attrs["xray_fetch"]["got"]["not_fetched_ids"] == ids[10:]
    assert err.not_fetched == tuple(ids[10:])
    assert "10 of 12 traces were fetched" in str(err) and "sys.last_value.partial" in str(err)


def test_fetch_xray_interrupted_before_any_answer_says_none_was_fetched():
    ids = [_xray_id(k) for k in range(1, 4)]
    with pytest.raises(FetchInterrupted) as info:
        fetch_xray(trace_ids=ids, client=_InterruptedXRay(stop_at=1), progress=False, max_workers=1)
    assert info.value.partial is None and info.value.not_fetched == tuple(ids)
    assert "0 of 3 traces were fetched" in str(info.value)


def test_fetch_xray_interrupted_with_a_cache_stays_a_plain_keyboard_interrupt(tmp_path):
    # the pages are on disk and a second call resumes: nothing to carry
    ids = [_xray_id(k) for k in range(1, 8)]
    with pytest.raises(KeyboardInterrupt) as info:
        fetch_xray(trace_ids=ids, client=_InterruptedXRay(stop_at=2), progress=False, max_workers=1,
                   cache_dir=tmp_path / "c")
    assert not isinstance(info.value, FetchInterrupted)
    assert tk.read_xray(tmp_path / "c")["trace_id"].nunique() == 5


class _InterruptOnSecondCall:
    """A CloudWatch Logs client whose first FilterLogEvents call answers ``page`` and whose second is Ctrl-C."""

    def __init__(self, page: dict):
        self.inner = _logs_client([page])
        self.calls = 0

    def get_paginator(self, op: str):
        self.calls += 1
        if self.calls == 2:
            class P:
                def paginate(self, **kw):
                    raise KeyboardInterrupt
                    yield  # a generator, as botocore's
            return P()
        return self.inner.get_paginator(op)


def test_fetch_logs_interrupted_hands_back_the_records_read():
    ids = [f"{i + 1:032x}" for i in range(12)]  # 10 ids a call: the second call (ids 11, 12) is interrupted
    client = _InterruptOnSecondCall({"events": [_event(1, ids[0]), _event(2, ids[3])]})
    with pytest.raises(KeyboardInterrupt) as info:
        tk.fetch_logs(ids, T0 / 1e3 - 60, T0 / 1e3 + 60, log_groups="/aws/lambda/pay", client=client)
    err = info.value
    assert isinstance(err, FetchInterrupted), "the 2 records read before Ctrl-C were lost"
    assert err.partial["body"].tolist() == ["step 1", "step 2"]
    assert err.partial.attrs["partial"] is True
    assert err.not_fetched == tuple(ids[10:])
    assert "2 records" in str(err) and "2 of 12 trace ids" in str(err)
