"""Live X-Ray fetches (tracekit.aws.fetch / cache / client) against moto's server on 127.0.0.1: a fetch without a
cache that fails part-way hands back what it fetched, traces cached while in progress are asked again, the cache
knows which account and endpoint it was filled from.

Small traces built in each test (truth by construction); one moto server (the fixture of test_xray_live).
"""

from __future__ import annotations

import json
import time

import pytest

import tracekit as tk

from .test_xray_live import FAKE_KEY, FAKE_SECRET, FAKE_TOKEN, REGION, _reset, fake_credentials, moto_url  # noqa: F401

boto3 = pytest.importorskip("boto3")
from botocore.client import BaseClient  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from tracekit.aws import XRayPermissionError, fetch_xray  # noqa: E402


def _tid(t0: int, n: int) -> str:
    return f"1-{t0:08x}-{n:024x}"


def _segment(tid: str, n: int, t0: float, *, name: str = "front", parent: str | None = None,
             dur: float | None = 0.05) -> dict:
    doc = {"id": f"{n:016x}", "name": name, "trace_id": tid, "start_time": t0}
    if parent:
        doc["parent_id"] = parent
    if dur is None:
        doc["in_progress"] = True
    else:
        doc["end_time"] = t0 + dur
    return doc


def _put(url: str, docs: list[dict], **client_kw) -> None:
    xr = boto3.client("xray", endpoint_url=url, region_name=REGION, **client_kw)
    assert xr.put_trace_segments(TraceSegmentDocuments=[json.dumps(d) for d in docs])["UnprocessedTraceSegments"] == []


@pytest.fixture()
def twelve(moto_url):  # noqa: F811
    """Twelve one-segment traces in moto; returns their X-Ray ids in order."""
    _reset(moto_url)
    t0 = int(time.time()) - 100
    ids = [_tid(t0, k) for k in range(1, 13)]
    _put(moto_url, [_segment(t, k, t0 + k * 0.1) for k, t in enumerate(ids, start=1)])
    return ids


def _failing_call(monkeypatch, operation: str, at: int) -> dict:
    """The ``at``-th request of ``operation`` raises AccessDenied; every other one goes to moto."""
    real = BaseClient._make_api_call
    calls = {"n": 0}

    def flaky(self, op, params):
        if op == operation:
            calls["n"] += 1
            if calls["n"] == at:
                raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not today"}}, op)
        return real(self, op, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", flaky)
    return calls


# ----------------------------------------------------------------------------------------------- partial fetches


def test_a_fetch_without_cache_failing_on_page_3_hands_back_the_10_traces_it_fetched(moto_url, twelve, monkeypatch):  # noqa: F811
    ids = twelve
    _failing_call(monkeypatch, "BatchGetTraces", at=3)  # 12 ids -> chunks of 5, 5, 2: the third fails
    with pytest.raises(XRayPermissionError) as ei:
        fetch_xray(trace_ids=ids, endpoint_url=moto_url, region=REGION, progress=False, max_workers=1)
    err = ei.value
    assert "10 of 12 traces were fetched before it failed" in str(err) and "err.partial" in str(err)
    part = err.partial
    assert sorted(part["trace_id"].unique()) == sorted(i.replace("-", "")[1:] for i in ids[:10])
    assert part.attrs["xray_fetch"]["partial"] is True
    assert list(err.not_fetched) == ids[10:] == part.attrs["xray_fetch"]["got"]["not_fetched_ids"]
    assert err.reason == str(err).split(" 10 of 12")[0]  # the CLI's wording of the error is unchanged


def test_a_complete_fetch_says_it_is_not_partial_and_an_error_before_any_trace_carries_an_empty_frame(
        moto_url, twelve, monkeypatch):  # noqa: F811
    ok = fetch_xray(trace_ids=twelve[:2], endpoint_url=moto_url, region=REGION, progress=False)
    assert ok.attrs["xray_fetch"]["partial"] is False and ok["trace_id"].nunique() == 2
    _failing_call(monkeypatch, "BatchGetTraces", at=1)
    with pytest.raises(XRayPermissionError) as ei:
        fetch_xray(trace_ids=twelve[:2], endpoint_url=moto_url, region=REGION, progress=False)
    assert len(ei.value.partial) == 0 and list(ei.value.not_fetched) == twelve[:2]
    assert "fetched before it failed" not in str(ei.value)  # nothing to speak of


# ----------------------------------------------------------------------------------------------- in progress


def test_a_trace_cached_in_progress_is_fetched_again_once_it_has_finished(moto_url, tmp_path, capsys):  # noqa: F811
    from tracekit.cli import main

    _reset(moto_url)
    t0 = int(time.time()) - 100
    running, done = _tid(t0, 7), _tid(t0, 8)
    child = _segment(running, 2, t0 + 0.2, name="back", parent=f"{1:016x}", dur=None)
    _put(moto_url, [_segment(running, 1, t0, dur=1.0), child, _segment(done, 3, t0, dur=0.5)])
    kw = dict(trace_ids=[running, done], endpoint_url=moto_url, region=REGION, progress=False,
              cache_dir=tmp_path / "c")
    first = fetch_xray(**kw)
    assert first.loc[first["service"] == "back", "in_progress"].tolist() == [True]
    assert first.attrs["xray_fetch"]["got"]["in_progress_ids"] == [running]
    assert main(["fetch-xray", "--trace-id", running, "--trace-id", done, "--out", str(tmp_path / "o.json"),
                 "--region", REGION, "--endpoint-url", moto_url, "--no-progress"]) == 0
    assert "2 traces, 3 spans; 1 trace still in progress (a rerun with --cache asks it again)" in capsys.readouterr().err

    _put(moto_url, [{**{k: v for k, v in child.items() if k != "in_progress"}, "end_time": t0 + 0.9}])
    second = fetch_xray(**kw)  # old code: both traces 'done' in the cache, nothing asked, 'back' in progress for ever
    back = second[second["service"] == "back"]
    assert back["in_progress"].tolist() == [False] and back["duration_ms"].tolist() == [700.0]
    got = second.attrs["xray_fetch"]["got"]
    assert got["in_progress_ids"] == [] and got["refetched_in_progress"] == 1 and got["requests_this_run"] == 1
    assert len(second) == 3 and second["span_id"].is_unique  # the old copy is no longer in the cache
    third = fetch_xray(**kw)  # finished now: nothing asked
    assert third.attrs["xray_fetch"]["got"]["requests_this_run"] == 0 and len(third) == 3



def test_a_trace_in_progress_older_than_x_rays_retention_is_not_asked_again(tmp_path):
    from botocore.stub import Stubber

    t0 = int(time.time()) - 40 * 86400  # X-Ray keeps a trace 30 days: this one's end will never come
    tid = _tid(t0, 1)
    doc = json.dumps(_segment(tid, 1, t0, dur=None))
    client = boto3.client("xray", region_name=REGION, aws_access_key_id=FAKE_KEY, aws_secret_access_key=FAKE_SECRET)
    with Stubber(client) as stub:
        stub.add_response("batch_get_traces", {"Traces": [{"Id": tid, "Segments": [{"Id": f"{1:016x}", "Document": doc}]}]},
                          {"TraceIds": [tid]})
        fetch_xray(trace_ids=[tid], client=client, progress=False, cache_dir=tmp_path)
        again = fetch_xray(trace_ids=[tid], client=client, progress=False, cache_dir=tmp_path)  # no answer queued
    got = again.attrs["xray_fetch"]["got"]
    assert got["requests_this_run"] == 0 and got["in_progress_ids"] == [tid] and got["traces"] == 1

# ----------------------------------------------------------------------------------------------- one source per cache


def _other_account(url: str, account: str) -> tuple[object, dict]:
    """A boto3 session whose credentials moto maps to ``account`` (an assumed role there), and the credentials."""
    sts = boto3.client("sts", endpoint_url=url, region_name=REGION)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/reader", RoleSessionName="tk-s40")["Credentials"]
    session = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                    aws_session_token=creds["SessionToken"], region_name=REGION)
    return session, creds


def test_a_cache_filled_from_one_account_is_not_read_for_another(moto_url, tmp_path):  # noqa: F811
    _reset(moto_url)
    t0 = int(time.time()) - 100
    other, creds = _other_account(moto_url, "111111111111")
    _put(moto_url, [_segment(_tid(t0, 1), 1, t0, name="account-a")])
    b = other.client("xray", endpoint_url=moto_url)
    b.put_trace_segments(TraceSegmentDocuments=[json.dumps(_segment(_tid(t0, 2), 2, t0, name="account-b"))])
    cache = tmp_path / "c"
    kw = dict(endpoint_url=moto_url, region=REGION, progress=False, cache_dir=cache)
    a = fetch_xray(t0 - 60, t0 + 30, **kw)
    assert a["service"].tolist() == ["account-a"]
    # old code: the cached list and pages of account A came back as account B's traces (['account-a'])
    with pytest.raises(tk.TraceKitError, match=r"another source \(account 123456789012 in the cache, "
                                                r"111111111111 now\)"):
        fetch_xray(t0 - 60, t0 + 30, session=other, **kw)
    assert fetch_xray(t0 - 60, t0 + 30, session=other, endpoint_url=moto_url, region=REGION,
                      progress=False)["service"].tolist() == ["account-b"]  # what B holds, without the cache
    assert a.attrs["xray_fetch"]["source"]["account"] == "123456789012"
    # the same account through other long-term keys reads the same traces: resumed, nothing asked
    same = boto3.session.Session(aws_access_key_id="AKIATRACEKITOTHER002", aws_secret_access_key="other-secret",
                                 region_name=REGION)
    again = fetch_xray(t0 - 60, t0 + 30, session=same, **kw)
    assert again["service"].tolist() == ["account-a"] and again.attrs["xray_fetch"]["got"]["requests_this_run"] == 0
    blob = b"".join(f.read_bytes() for f in cache.rglob("*") if f.is_file())
    for secret in (FAKE_KEY, FAKE_SECRET, FAKE_TOKEN, creds["AccessKeyId"], creds["SecretAccessKey"],
                   creds["SessionToken"], "AKIATRACEKITOTHER002", "other-secret"):
        assert secret.encode() not in blob


def test_injected_clients_of_two_long_term_keys_do_not_share_a_cache(tmp_path):
    from botocore.stub import Stubber

    tid = "1-5759e988-bd862e3fe1be46a994272793"
    doc = json.dumps(_segment(tid, 1, 1700000000.0))
    answer = {"Traces": [{"Id": tid, "Segments": [{"Id": f"{1:016x}", "Document": doc}]}]}
    first = boto3.client("xray", region_name=REGION, aws_access_key_id="AKIATRACEKITKEYA0001", aws_secret_access_key="a")
    with Stubber(first) as stub:
        stub.add_response("batch_get_traces", answer, {"TraceIds": [tid]})
        fetch_xray(trace_ids=[tid], client=first, progress=False, cache_dir=tmp_path)
    second = boto3.client("xray", region_name=REGION, aws_access_key_id="AKIATRACEKITKEYB0002",
                          aws_secret_access_key="b")
    with pytest.raises(tk.TraceKitError, match="another long-term access key id than the cache's"):
        fetch_xray(trace_ids=[tid], client=second, progress=False, cache_dir=tmp_path)
    assert b"AKIATRACEKITKEY" not in b"".join(f.read_bytes() for f in tmp_path.rglob("*") if f.is_file())


# ----------------------------------------------------------------------------------------------- times


def test_epoch_seconds_as_numpy_numbers_are_seconds_and_milliseconds_are_refused():
    import datetime as dt

    import numpy as np
    from botocore.stub import Stubber

    client = boto3.client("xray", region_name=REGION, aws_access_key_id=FAKE_KEY, aws_secret_access_key=FAKE_SECRET)
    t0 = dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)  # 1,700,000,000 s after the epoch
    with Stubber(client) as stub:  # old code: np.int64 read as nanoseconds, the query asked 1970-01-01T00:00:01.7
        stub.add_response("get_trace_summaries", {"TraceSummaries": []},
                          {"StartTime": t0, "EndTime": t0 + dt.timedelta(seconds=600)})
        spans = fetch_xray(np.int64(1_700_000_000), np.int64(1_700_000_600), client=client, progress=False)
    assert spans.attrs["xray_fetch"]["asked"]["start"] == "2023-11-14T22:13:20+00:00"
    # epoch milliseconds read as seconds asked the year 55,840 of AWS; now said before any request
    with pytest.raises(tk.ArgumentError, match=r"start=1700000000000 is not epoch seconds .*milliseconds"):
        fetch_xray(1_700_000_000_000, 1_700_000_600_000, client=client, progress=False)



def test_query_windows_in_the_future_are_not_asked():
    import datetime as dt

    import pandas as pd
    from botocore.stub import ANY, Stubber

    from tracekit.aws import fetch_xray_summaries

    client = boto3.client("xray", region_name=REGION, aws_access_key_id=FAKE_KEY, aws_secret_access_key=FAKE_SECRET)
    now = pd.Timestamp.now(tz="UTC").floor("s")
    start, end = now - pd.Timedelta("1h"), now + pd.Timedelta(days=365)  # an end typed a year late
    with Stubber(client) as stub:  # one answer each: the old code asked 1,461 windows of 6 h (1,460 in the future)
        stub.add_response("get_trace_summaries", {"TraceSummaries": []},
                          {"StartTime": start.to_pydatetime(), "EndTime": (start + pd.Timedelta("6h")).to_pydatetime()})
        stub.add_response("get_trace_summaries", {"TraceSummaries": []}, {"StartTime": ANY, "EndTime": ANY})
        spans = fetch_xray(start, end, client=client, progress=False)
        summaries = fetch_xray_summaries(start, end, client=client)
    assert len(spans) == 0 and spans.attrs["xray_fetch"]["got"]["requests_this_run"] == 1
    assert spans.attrs["xray_fetch"]["asked"]["end"] == end.isoformat()  # the range as given is recorded
    assert len(summaries.attrs["xray_summaries"]["asked"]["windows"]) == 1
    assert dt.datetime.fromisoformat(spans.attrs["xray_fetch"]["asked"]["windows"][0][0]) == start

# ----------------------------------------------------------------------------------------------- logs


class _CountingLogs:
    """A CloudWatch Logs client answering every FilterLogEvents with one event per asked trace."""

    def __init__(self):
        self.patterns: list[str] = []

    def get_paginator(self, op):
        fake = self

        class P:
            def paginate(self, **kw):
                fake.patterns.append(kw["filterPattern"])
                ids = [t for t in kw["filterPattern"].split('"') if len(t) == 32]
                yield {"events": [{"eventId": f"{kw['filterPattern']}-{t}", "timestamp": 1_700_000_000_000,
                                   "logStreamName": "s", "message": f"INFO done trace {t}"} for t in ids]}

        return P()


def test_fetch_logs_asks_each_trace_once_when_given_a_spans_frame_trace_id_column():
    from tracekit.aws.logs import fetch_logs

    traces = [f"{k:032x}" for k in range(1, 4)]
    column = [t for t in traces for _ in range(20)] + [f"1-{t[:8]}-{t[8:]}" for t in traces]  # 63 ids, 3 traces
    fake = _CountingLogs()
    logs = fetch_logs(column, 1_699_999_990, 1_700_000_010, log_groups="/aws/lambda/checkout", client=fake)
    assert len(fake.patterns) == 1  # old code: 7 calls (63 ids, 10 a call), each trace asked in 7 patterns
    assert sorted(logs["trace_id"].tolist()) == traces
