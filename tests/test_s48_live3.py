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
from botocore.client import BaseClient  # noqa: E402

from tracekit.aws import XRayFetchError, XRayThrottledError, fetch_xray, time_windows  # noqa: E402


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


# ----------------------------------------------------------------------------------------------- 2. unprocessed


def test_traces_unprocessed_or_not_returned_are_said_not_only_kept_in_attrs(moto_url, monkeypatch):  # noqa: F811
    """12 traces in moto; BatchGetTraces lists the 4th as unprocessed on every ask, and never returns the 5th. The
    spans came back with 10 traces and no word (the ids only in attrs): a warning now names both and how many."""
    ids = _put_traces(moto_url, 12)
    real = BaseClient._make_api_call

    def answer(self, op, params):
        out = real(self, op, params)
        if op == "BatchGetTraces":
            out["Traces"] = [t for t in out["Traces"] if t["Id"] not in (ids[3], ids[4])]
            out["UnprocessedTraceIds"] = [ids[3]] if ids[3] in params["TraceIds"] else []
        return out

    monkeypatch.setattr(BaseClient, "_make_api_call", answer)
    slept: list[float] = []
    with pytest.warns(UserWarning) as rec:
        spans = fetch_xray(trace_ids=ids, endpoint_url=moto_url, region=REGION, progress=False, max_workers=1,
                           sleep=slept.append)
    assert spans["trace_id"].nunique() == 10
    assert slept == [0.5, 1.0, 2.0]  # the unprocessed id re-asked 3 times (unprocessed_retries), backing off
    got = spans.attrs["xray_fetch"]["got"]
    assert got["unprocessed_ids"] == [ids[3]] and got["missing_ids"] == [ids[4]]
    said = [str(w.message) for w in rec if "fetch_xray" in str(w.message)]
    assert len(said) == 1
    assert "2 of 12 traces" in said[0] and ids[3] in said[0] and ids[4] in said[0]


def test_a_fetch_of_every_trace_says_nothing(moto_url):  # noqa: F811
    """Control: every trace fetched, no warning."""
    ids = _put_traces(moto_url, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spans = fetch_xray(trace_ids=ids, endpoint_url=moto_url, region=REGION, progress=False)
    assert spans["trace_id"].nunique() == 3


def test_a_listing_that_fails_in_its_second_window_says_which_time_was_never_listed(moto_url, monkeypatch):  # noqa: F811
    """Three traces 1,000 s ago, a 20-minute range in two 10-minute windows; the second window's GetTraceSummaries
    fails. The error carried the 3 ids listed as err.not_fetched but said nothing: neither that the listing stopped
    nor that the second window (10 minutes of traffic) was never listed, so its traces are in no id list."""
    from botocore.exceptions import ClientError

    _reset(moto_url)
    now = int(time.time())
    t0 = now - 1000
    ids = [_tid(t0, k) for k in range(1, 4)]
    docs = [{"id": f"{k:016x}", "name": "front", "trace_id": t, "start_time": t0 + k * 0.1,
             "end_time": t0 + k * 0.1 + 0.05} for k, t in enumerate(ids, start=1)]
    boto3.client("xray", endpoint_url=moto_url, region_name=REGION).put_trace_segments(
        TraceSegmentDocuments=[json.dumps(d) for d in docs])
    real = BaseClient._make_api_call
    calls = {"n": 0}

    def answer(self, op, params):
        if op == "GetTraceSummaries":
            calls["n"] += 1
            if calls["n"] == 2:
                raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, op)
        return real(self, op, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", answer)
    with pytest.raises(XRayFetchError) as ei:
        fetch_xray(now - 1200, now, window="10min", endpoint_url=moto_url, region=REGION, progress=False)
    err = ei.value
    assert sorted(err.not_fetched) == ids  # listed in window 1, never fetched
    second = time_windows(now - 1200, now, window="10min")[1]
    text = str(err)
    assert "1 of 2 query windows" in text and "3 traces" in text
    assert second[0].isoformat() in text and second[1].isoformat() in text
    assert err.partial.attrs["xray_fetch"]["got"]["windows_listed"] == 1


# ----------------------------------------------------------------------------------------------- 4. logs, metrics


def test_fetch_logs_names_the_log_group_that_does_not_exist(moto_url):  # noqa: F811
    """Two log groups, the second misspelt: the error read 'FilterLogEvents failed with ResourceNotFoundException:
    The specified log group does not exist.' without saying which of the groups; it names it now, and the records
    of the group that exists are kept."""
    _reset(moto_url)
    logs = boto3.client("logs", endpoint_url=moto_url, region_name=REGION)
    logs.create_log_group(logGroupName="/aws/lambda/pay")
    logs.create_log_stream(logGroupName="/aws/lambda/pay", logStreamName="s")
    now = int(time.time() * 1000)
    tid = "5759e988bd862e3fe1be46a994272793"
    logs.put_log_events(logGroupName="/aws/lambda/pay", logStreamName="s", logEvents=[
        {"timestamp": now - 2000, "message": "charge ok 1-5759e988-bd862e3fe1be46a994272793"},
        {"timestamp": now - 1000, "message": f"traceparent 00-{tid}-00f067aa0ba902b7-01"}])
    with pytest.raises(XRayFetchError) as ei:
        tk.fetch_logs([tid], now / 1000 - 60, now / 1000 + 60, log_groups=["/aws/lambda/pay", "/aws/lambda/pya"],
                      endpoint_url=moto_url, region=REGION)
    err = ei.value
    assert "ResourceNotFoundException" in str(err) and "'/aws/lambda/pya'" in str(err)
    assert "'/aws/lambda/pay'" not in str(err)
    assert err.partial["trace_id"].tolist() == [tid, tid]  # both forms of the id, in the group that exists


def test_fetch_metrics_says_a_result_that_ended_in_internal_error_and_is_short_of_points():
    """Every page read, the last one's StatusCode InternalError (CloudWatch: 'an error occurred; retry'): 8 points
    asked, the frame held them with truncated False and no word; now truncated is True and a warning names the
    query and its status."""
    with pytest.warns(UserWarning, match=r"m1 \(InternalError\)") as rec:
        m = _quiet_metrics_warned([{"namespace": "N", "metric": "a"}, {"namespace": "N", "metric": "b"}],
                                  _MetricsClient(n=8, status="InternalError"))
    assert m.attrs["truncated"] is True
    assert sorted(p["Id"] for p in m.attrs["partial"]) == ["m0", "m1"]
    assert any("2 of 2 queries" in str(w.message) for w in rec)


def test_fetch_metrics_pages_read_to_their_end_are_not_partial():
    """Every page of a result but the last says PartialData (there is more: NextToken); once the last page is read
    the result is whole. attrs['partial'] listed the 2 first pages as results not complete."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = _quiet_metrics_warned([{"namespace": "N", "metric": "a"}], _MetricsClient(n=8))
    assert len(m) == 8 and m.attrs["truncated"] is False and m.attrs["partial"] == ()


def test_fetch_metrics_says_cloudwatchs_messages():
    """A response's Messages (e.g. MaxQueryTimeRangeExceed) were only kept in attrs: now said once."""
    c = _MetricsClient(n=2)
    real = c.get_metric_data

    def with_message(**kw):
        out = real(**kw)
        out["Messages"] = [{"Code": "MaxQueryTimeRangeExceed", "Value": "too long a range"}]
        return out

    c.get_metric_data = with_message
    with pytest.warns(UserWarning, match="MaxQueryTimeRangeExceed"):
        m = _quiet_metrics_warned([{"namespace": "N", "metric": "a"}], c)
    assert [d["Code"] for d in m.attrs["messages"]] == ["MaxQueryTimeRangeExceed"]


def _quiet_metrics_warned(queries, client):
    """fetch_metrics over a range starting 10 minutes ago (no retention warning), its warnings left to the caller."""
    now = time.time()
    return tk.fetch_metrics(queries, now - 600, now, client=client)


def test_fetch_xray_summaries_failing_in_its_second_window_hands_back_the_first_windows_summaries(
        moto_url, monkeypatch):  # noqa: F811
    """The same failure for fetch_xray_summaries: the 3 summaries of window 1 were lost with the error; now
    err.partial holds them and the message says which time was never listed."""
    from botocore.exceptions import ClientError

    _reset(moto_url)
    now = int(time.time())
    t0 = now - 1000
    ids = [_tid(t0, k) for k in range(1, 4)]
    docs = [{"id": f"{k:016x}", "name": "front", "trace_id": t, "start_time": t0 + k * 0.1,
             "end_time": t0 + k * 0.1 + 0.05} for k, t in enumerate(ids, start=1)]
    boto3.client("xray", endpoint_url=moto_url, region_name=REGION).put_trace_segments(
        TraceSegmentDocuments=[json.dumps(d) for d in docs])
    real = BaseClient._make_api_call
    calls = {"n": 0}

    def answer(self, op, params):
        if op == "GetTraceSummaries":
            calls["n"] += 1
            if calls["n"] == 2:
                raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, op)
        return real(self, op, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", answer)
    with pytest.raises(XRayFetchError) as ei:
        tk.fetch_xray_summaries(now - 1200, now, window="10min", endpoint_url=moto_url, region=REGION)
    err = ei.value
    assert sorted(err.partial["xray_trace_id"]) == ids
    assert err.partial.attrs["xray_summaries"]["partial"] is True
    second = time_windows(now - 1200, now, window="10min")[1]
    assert "1 of 2 query windows" in str(err) and second[0].isoformat() in str(err)


def test_an_error_on_the_first_listing_says_no_window_count(moto_url, monkeypatch):  # noqa: F811
    """Control: refused at its first request, nothing was listed: the error is AWS's alone."""
    session = boto3.session.Session(region_name=REGION)
    _always(session, "xray.GetTraceSummaries", 400, "AccessDeniedException")
    with pytest.raises(XRayFetchError) as ei:
        fetch_xray(time.time() - 600, time.time(), session=session, endpoint_url=moto_url, region=REGION,
                   progress=False)
    assert "query windows" not in str(ei.value) and "AccessDeniedException" in str(ei.value)


# ----------------------------------------------------------------------------------------------- client and where


def test_a_region_or_endpoint_beside_a_client_that_talks_elsewhere_is_refused(moto_url, tmp_path):  # noqa: F811
    """A client of us-east-1 with region='eu-west-1' fetched from us-east-1 and recorded region 'eu-west-1' in
    attrs and in the cache manifest (the region given was used for the record, the client for the calls); an
    endpoint_url beside it was recorded as the source endpoint. Both are refused before any request now."""
    ids = _put_traces(moto_url, 1)
    client = boto3.client("xray", endpoint_url=moto_url, region_name=REGION)
    with pytest.raises(tk.ArgumentError, match=r"client.*'us-east-1'.*region='eu-west-1'"):
        fetch_xray(trace_ids=ids, client=client, region="eu-west-1", progress=False, cache_dir=tmp_path / "c")
    with pytest.raises(tk.ArgumentError, match="endpoint_url"):
        fetch_xray(trace_ids=ids, client=client, endpoint_url="http://127.0.0.1:9", progress=False)
    logs = boto3.client("logs", endpoint_url=moto_url, region_name=REGION)
    with pytest.raises(tk.ArgumentError, match="region='eu-west-1'"):
        tk.fetch_logs(ids, time.time() - 60, time.time(), log_groups="g", client=logs, region="eu-west-1")
    # control: the client's own region and endpoint beside it are the same place, and fetch as before
    spans = fetch_xray(trace_ids=ids, client=client, region=REGION, endpoint_url=moto_url, progress=False)
    assert spans.attrs["xray_fetch"]["asked"]["region"] == REGION and spans["trace_id"].nunique() == 1


@pytest.mark.slow  # botocore's own backoff between the attempts: a few seconds
@pytest.mark.parametrize(("event", "call"), [
    ("xray.GetTraceSummaries",
     lambda session, url: tk.fetch_xray_summaries(time.time() - 600, time.time(), session=session, endpoint_url=url,
                                                  region=REGION, max_attempts=1)),
    ("xray.GetSamplingRules",
     lambda session, url: tk.fetch_xray_sampling(session=session, endpoint_url=url, region=REGION, max_attempts=1)),
])
def test_the_max_attempts_a_throttled_error_says_to_raise_is_an_argument(moto_url, event, call):  # noqa: F811
    """fetch_xray_summaries and fetch_xray_sampling said 'still throttled …; raise max_attempts' and took no
    max_attempts (a TypeError); they take it now, and it is the budget spent (1 retry: 2 attempts)."""
    session = boto3.session.Session(region_name=REGION)
    calls = _always(session, event, 400, "ThrottlingException")
    with pytest.raises(XRayThrottledError, match="raise max_attempts") as ei:
        call(session, moto_url)
    assert calls["n"] == 2 and "after 2 attempts" in str(ei.value)


# ----------------------------------------------------------------------------------------------- retention


def test_a_range_older_than_xray_keeps_traces_says_so(moto_url):  # noqa: F811
    """A range 400 days ago came back as 0 traces without a word, read as 'no traffic then'; X-Ray keeps traces 30
    days (tracekit.aws.fetch.XRAY_RETENTION), so the empty answer says nothing of the traffic: a warning says so."""
    _reset(moto_url)
    end = time.time() - 400 * 86400
    with pytest.warns(UserWarning, match="30 days") as rec:
        spans = fetch_xray(end - 3600, end, endpoint_url=moto_url, region=REGION, progress=False)
    assert len(spans) == 0 and any("fetch_xray" in str(w.message) for w in rec)
    with pytest.warns(UserWarning, match="30 days"):
        tk.fetch_xray_summaries(end - 3600, end, endpoint_url=moto_url, region=REGION)


def test_a_recent_range_says_nothing_of_retention(moto_url):  # noqa: F811
    """Control: a range of the last 10 minutes, one trace in it, no warning."""
    ids = _put_traces(moto_url, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spans = fetch_xray(time.time() - 600, time.time() + 60, endpoint_url=moto_url, region=REGION, progress=False)
    assert sorted(spans.attrs["xray_fetch"]["got"]["in_progress_ids"]) == [] and spans["trace_id"].nunique() == len(ids)


def test_fetch_metrics_interrupted_hands_back_what_it_read():
    """Ctrl-C in the 2nd page of a fetch: the plain KeyboardInterrupt lost the 3 points of the first page; the
    FetchInterrupted raised instead (still a KeyboardInterrupt) carries them, as fetch_xray's and fetch_logs' do."""
    from tracekit.aws.client import FetchInterrupted

    c = _MetricsClient(n=8)
    real = c.get_metric_data

    def interrupted(**kw):
        if kw.get("NextToken"):
            raise KeyboardInterrupt
        return real(**kw)

    c.get_metric_data = interrupted
    with pytest.raises(FetchInterrupted) as ei:
        _quiet_metrics_warned([{"namespace": "N", "metric": "a"}], c)
    assert isinstance(ei.value, KeyboardInterrupt)
    assert ei.value.partial["value"].tolist() == [0.0, 1.0, 2.0] and list(ei.value.not_fetched) == ["m0"]


def test_a_listing_interrupted_in_its_second_window_says_which_time_was_never_listed(moto_url, monkeypatch):  # noqa: F811
    """Ctrl-C in the second window's GetTraceSummaries: the FetchInterrupted said '0 of 3 traces were fetched before
    it' and nothing of the listing having stopped half-way; it now says the window count and the time never listed."""
    from tracekit.aws.client import FetchInterrupted

    _reset(moto_url)
    now = int(time.time())
    t0 = now - 1000
    ids = [_tid(t0, k) for k in range(1, 4)]
    docs = [{"id": f"{k:016x}", "name": "front", "trace_id": t, "start_time": t0 + k * 0.1,
             "end_time": t0 + k * 0.1 + 0.05} for k, t in enumerate(ids, start=1)]
    boto3.client("xray", endpoint_url=moto_url, region_name=REGION).put_trace_segments(
        TraceSegmentDocuments=[json.dumps(d) for d in docs])
    real = BaseClient._make_api_call
    calls = {"n": 0}

    def answer(self, op, params):
        if op == "GetTraceSummaries":
            calls["n"] += 1
            if calls["n"] == 2:
                raise KeyboardInterrupt
        return real(self, op, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", answer)
    with pytest.raises(FetchInterrupted) as ei:
        fetch_xray(now - 1200, now, window="10min", endpoint_url=moto_url, region=REGION, progress=False)
    second = time_windows(now - 1200, now, window="10min")[1]
    assert sorted(ei.value.not_fetched) == ids
    assert "1 of 2 query windows" in str(ei.value) and second[0].isoformat() in str(ei.value)


# ----------------------------------------------------------------------------------------------- bad arguments


def _spans_frame():
    import pandas as pd

    return pd.DataFrame({"trace_id": ["5759e988bd862e3fe1be46a994272793"], "span_id": ["53995c3f42cd8ad8"]})


@pytest.mark.parametrize(("call", "names"), [
    (lambda c: tk.fetch_logs(["5759e988bd862e3fe1be46a994272793"], "2026-11-29", "2026-11-29T01:00", log_groups=None,
                             client=c["logs"]), "log_groups"),
    (lambda c: tk.fetch_logs(["5759e988bd862e3fe1be46a994272793"], "2026-11-29", "2026-11-29T01:00", log_groups=5,
                             client=c["logs"]), "log_groups"),
    (lambda c: tk.fetch_metrics(None, "2026-11-29", "2026-11-29T01:00", client=c["cloudwatch"]), "queries"),
    (lambda c: tk.fetch_xray("2026-11-29", "2026-11-29T01:00", sampling_strategy="PartialScan", client=c["xray"],
                             progress=False), "sampling_strategy"),
    (lambda c: tk.fetch_xray("2026-11-29", "2026-11-29T01:00", cache_dir=5, client=c["xray"], progress=False),
     "cache_dir"),
    (lambda c: tk.fetch_xray(trace_ids=_spans_frame(), client=c["xray"], progress=False), "trace_ids"),
    (lambda c: tk.fetch_logs(_spans_frame(), "2026-11-29", "2026-11-29T01:00", log_groups="g", client=c["logs"]),
     "trace_ids"),
])
def test_bad_arguments_of_the_live_fetches_are_argument_errors_naming_them(call, names):
    """A bare TypeError ('NoneType' object is not iterable; expected str, bytes or os.PathLike object, not int), a
    ValueError (dictionary update sequence element #0 has length 1) or 'not a trace id: 'trace_id'' (a spans frame
    iterated as its column names): each is an ArgumentError naming the argument, before any request."""
    clients = {s: boto3.client(s, region_name=REGION, endpoint_url="http://127.0.0.1:9")
               for s in ("logs", "cloudwatch", "xray")}  # nothing listens there: a request would fail otherwise
    with pytest.raises(tk.ArgumentError, match=names):
        call(clients)


def test_a_trace_returned_without_a_segment_is_not_counted_as_fetched(tmp_path):
    """BatchGetTraces answered two ids, one of them with Segments []: attrs said 2 traces fetched for a frame of 1,
    no word, and a cache never asked it again. Now it is one of the missing ids (warned), and a second call with the
    cache asks it again (the Stubber holds that second answer)."""
    from botocore.stub import Stubber

    client = boto3.client("xray", region_name=REGION)
    a, b = "1-5759e988-bd862e3fe1be46a994272793", "1-5759e988-bd862e3fe1be46a994272794"
    doc = json.dumps({"id": "53995c3f42cd8ad8", "name": "checkout", "trace_id": a, "start_time": 1700000000.5,
                      "end_time": 1700000000.75})
    with Stubber(client) as stub:
        stub.add_response("batch_get_traces", {"Traces": [{"Id": a, "Segments": [{"Id": "53995c3f42cd8ad8",
                                                                                   "Document": doc}]},
                                                          {"Id": b, "Segments": []}]}, {"TraceIds": [a, b]})
        stub.add_response("batch_get_traces", {"Traces": [{"Id": b, "Segments": []}]}, {"TraceIds": [b]})
        with pytest.warns(UserWarning, match=b):
            spans = fetch_xray(trace_ids=[a, b], client=client, progress=False, cache_dir=tmp_path / "c")
        got = spans.attrs["xray_fetch"]["got"]
        assert spans["trace_id"].nunique() == 1 and got["traces"] == 1 and got["missing_ids"] == [b]
        with pytest.warns(UserWarning, match=b):
            again = fetch_xray(trace_ids=[a, b], client=client, progress=False, cache_dir=tmp_path / "c")
        stub.assert_no_pending_responses()
    assert again.attrs["xray_fetch"]["got"]["resumed_from_cache"] == 1


def test_fetch_logs_of_no_trace_carries_the_attrs_it_promises():
    """No trace id asked: the empty frame had no attrs['calls'] nor attrs['partial'] (a KeyError for a caller reading
    them, as the docstring says every frame has); now 0 calls, not partial, nothing skipped."""
    df = tk.fetch_logs([], "2024-01-01", "2024-01-02", log_groups="/aws/lambda/x")
    assert len(df) == 0
    assert df.attrs["calls"] == 0 and df.attrs["partial"] is False and list(df.attrs["skipped"]) == []
