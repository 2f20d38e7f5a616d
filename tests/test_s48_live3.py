"""Live AWS paths (fetch_xray, fetch_logs, fetch_metrics) against moto's server on 127.0.0.1 and clients that answer
as AWS does where moto does not (throttling, 5xx, UnprocessedTraceIds, failures part-way): session 48, helper live3.

Truth by construction in each test: the traces put into moto, the attempts counted by a hook, the pages a fake client
hands out.
"""

from __future__ import annotations

import json
import time

import pytest

from .test_xray_live import (  # noqa: F401  (fixtures)
    FAKE_KEY,
    FAKE_SECRET,
    FAKE_TOKEN,
    REGION,
    _Raw,
    _reset,
    fake_credentials,
    moto_url,
)

boto3 = pytest.importorskip("boto3")
from botocore.awsrequest import AWSResponse  # noqa: E402

from tracekit.aws import XRayFetchError, XRayThrottledError, fetch_xray  # noqa: E402


def _tid(t0: int, n: int) -> str:
    return f"1-{t0:08x}-{n:024x}"


def _put_traces(url: str, n: int) -> list[str]:
    """``n`` one-segment traces put into moto (reset first); their X-Ray ids in order."""
    _reset(url)
    t0 = int(time.time()) - 100
    ids = [_tid(t0, k) for k in range(1, n + 1)]
    docs = [{"id": f"{k:016x}", "name": "front", "trace_id": t, "start_time": t0 + k * 0.1,
             "end_time": t0 + k * 0.1 + 0.05} for k, t in enumerate(ids, start=1)]
    xr = boto3.client("xray", endpoint_url=url, region_name=REGION)
    assert xr.put_trace_segments(TraceSegmentDocuments=[json.dumps(d) for d in docs])["UnprocessedTraceSegments"] == []
    return ids


def _always(session, event: str, status: int, code: str) -> dict:
    """Answer every ``event`` request of ``session`` with HTTP ``status`` and error ``code``; counts the attempts."""
    calls = {"n": 0}

    def answer(request, **kw):
        calls["n"] += 1
        body = json.dumps({"__type": code, "message": "not now"}).encode()
        return AWSResponse(request.url, status, {"x-amzn-ErrorType": code}, _Raw(body))

    session.events.register(f"before-send.{event}", answer)
    return calls


# ----------------------------------------------------------------------------------------------- 1. retries


@pytest.mark.slow  # botocore's own backoff between the attempts: a few seconds
def test_a_throttled_fetch_says_how_many_attempts_it_made(moto_url):  # noqa: F811
    """The error said 'still throttled after botocore's adaptive retries' without a number: how many attempts were
    made (the budget spent) is said, counted here by a hook that answers every attempt."""
    ids = _put_traces(moto_url, 1)
    session = boto3.session.Session(region_name=REGION)
    calls = _always(session, "xray.BatchGetTraces", 400, "ThrottlingException")
    with pytest.raises(XRayThrottledError) as ei:
        fetch_xray(trace_ids=ids, session=session, endpoint_url=moto_url, region=REGION, progress=False,
                   max_attempts=2)
    assert calls["n"] == 3  # the first attempt and max_attempts=2 retries
    assert f"after {calls['n']} attempts" in str(ei.value) and "max_attempts=2" in str(ei.value)


@pytest.mark.slow  # botocore's own backoff between the attempts: a few seconds
def test_a_server_error_after_retries_says_it_was_retried(moto_url):  # noqa: F811
    """A 503 retried until the budget was spent read 'AWS returned an error.', as if asked once."""
    _reset(moto_url)
    session = boto3.session.Session(region_name=REGION)
    calls = _always(session, "xray.GetTraceSummaries", 503, "ServiceUnavailable")
    with pytest.raises(XRayFetchError) as ei:
        fetch_xray(time.time() - 600, time.time(), session=session, endpoint_url=moto_url, region=REGION,
                   progress=False, max_attempts=1)
    assert calls["n"] == 2
    assert "ServiceUnavailable" in str(ei.value) and f"after {calls['n']} attempts" in str(ei.value)
    for s in (FAKE_KEY, FAKE_SECRET, FAKE_TOKEN):
        assert s not in str(ei.value)

