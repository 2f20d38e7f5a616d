"""Live AWS paths (fetch_xray, fetch_logs, fetch_metrics) against moto's server on 127.0.0.1 and clients that answer
as AWS does where moto does not (throttling, 5xx, UnprocessedTraceIds, failures part-way): session 48, helper live3.

Truth by construction in each test: the traces put into moto, the attempts counted by a hook, the pages a fake client
hands out.
"""

from __future__ import annotations

import json
import time
import warnings

import pytest

import tracekit as tk

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


class _MetricsClient:
    """GetMetricData as CloudWatch pages it: 3 points per result per page (``n`` points in all, one a minute from
    2024-01-01), ``StatusCode`` PartialData and a NextToken until the last page; the calls numbered in ``fail`` raise
    a 503 ClientError; ``status`` replaces the last page's StatusCode."""

    def __init__(self, n: int = 8, fail: tuple[int, ...] = (), status: str = "Complete"):
        self.calls: list[dict] = []
        self.n, self.fail, self.status = n, fail, status
        self.meta = type("M", (), {"region_name": REGION})()

    def get_metric_data(self, **kw):
        import datetime as dt

        from botocore.exceptions import ClientError

        self.calls.append(kw)
        if len(self.calls) in self.fail:
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"},
                               "ResponseMetadata": {"HTTPStatusCode": 503}}, "GetMetricData")
        page = int(kw.get("NextToken", "0"))
        last = 3 * page + 3 >= self.n
        t0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        idx = range(3 * page, min(3 * page + 3, self.n))
        out = [{"Id": q["Id"], "Label": q["Id"], "StatusCode": self.status if last else "PartialData",
                "Timestamps": [t0 + dt.timedelta(minutes=i) for i in idx], "Values": [float(i) for i in idx]}
               for q in kw["MetricDataQueries"]]
        return {"MetricDataResults": out, "Messages": [], **({} if last else {"NextToken": str(page + 1)})}


def _quiet_metrics(queries, client, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the retention warning of a 2024 start
        return tk.fetch_metrics(queries, "2024-01-01", "2024-01-02", client=client, **kw)


def test_fetch_metrics_failing_in_its_second_request_hands_back_the_first_requests_points():
    """501 queries are two requests (500 + 1), 3 pages each; the 5th call (the 2nd page of the 2nd request) fails.
    The 500 queries of the first request were fetched whole (8 points each): they were lost with the error."""
    qs = [{"namespace": "N", "metric": f"m{i}"} for i in range(501)]
    with pytest.raises(XRayFetchError) as ei:
        _quiet_metrics(qs, _MetricsClient(n=8, fail=(5,)))
    err = ei.value
    assert err.partial is not None
    part = err.partial
    assert part.attrs["truncated"] is True
    whole = part[part["name"] != "N/m500"]
    assert whole.groupby("name").size().to_dict() == {f"N/m{i}": 8 for i in range(500)}
    # the query whose request failed part-way: its first page's 3 points are kept, and it is named as not fetched
    assert part.loc[part["name"] == "N/m500", "value"].tolist() == [0.0, 1.0, 2.0]
    assert list(err.not_fetched) == ["m500"]
    assert "1 of 501 queries" in str(err) and "err.partial" in str(err)


def test_fetch_metrics_failing_at_once_hands_back_an_empty_frame_and_every_query():
    """Control of the rule above at its edge: nothing read, every query not fetched."""
    with pytest.raises(XRayFetchError) as ei:
        _quiet_metrics([{"namespace": "N", "metric": "a"}, {"namespace": "N", "metric": "b"}],
                       _MetricsClient(fail=(1,)))
    assert len(ei.value.partial) == 0 and list(ei.value.not_fetched) == ["m0", "m1"]
