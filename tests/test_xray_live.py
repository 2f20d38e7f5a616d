"""Live X-Ray fetching (issue 5).

Real parts: a moto server on 127.0.0.1 (real HTTP, real boto3 client, real botocore retries) holding segment
documents uploaded with PutTraceSegments; botocore's Stubber (validates every request against the service
model) fed with the real response shapes in ../shared/real-traces; a fake client that enforces the AWS limits
moto does not (5 ids per BatchGetTraces, pages, UnprocessedTraceIds).
"""

from __future__ import annotations

import argparse
import copy
import gzip
import io
import json
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import tracekit as tk
from tracekit.aws import (
    MANIFEST_NAME,
    XRayAuthError,
    XRayRegionError,
    XRayThrottledError,
    fetch_xray,
    fetch_xray_sampling,
    fetch_xray_summaries,
    time_windows,
    xray_coverage_audit,
)
from tracekit.aws.fetch import SUMMARIES_TABLE
from tracekit.errors import ArgumentError, TraceFormatError, TraceKitError

boto3 = pytest.importorskip("boto3")
from botocore.awsrequest import AWSResponse  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from botocore.stub import ANY, Stubber  # noqa: E402

FAKE_KEY = "AKIATRACEKITFAKE0001"
FAKE_SECRET = "tracekitFakeSecretDoNotLeak/0123456789abcdef"
FAKE_TOKEN = "tracekitFakeSessionTokenDoNotLeak0123456789"
REGION = "us-east-1"
N_SIM_SPANS = 288  # simulate("baseline", n_traces=12, seed=5): fixed by the seed


# ----------------------------------------------------------------------------------------------- fixtures


pytestmark = pytest.mark.slow  # a moto server per session (10-16 s to start on 2 loaded cores) and real HTTP retries


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch):
    """Fake credentials only (never a real profile): env vars, no config files, no instance metadata."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/tracekit-aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/tracekit-aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(scope="session")
def moto_url():
    """moto's ThreadedMotoServer on 127.0.0.1 (free port), stopped at the end of the session."""
    server_mod = pytest.importorskip("moto.server")
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
    # moto's X-Ray backend imports aws_xray_sdk, whose global recorder opens a UDP socket it never closes
    # ("ResourceWarning: unclosed <socket … type=2 …>" at the worker's exit): closed with the server
    sdk = sys.modules.get("aws_xray_sdk.core")
    sock = getattr(getattr(getattr(sdk, "xray_recorder", None), "_emitter", None), "_socket", None)
    if sock is not None:
        sock.close()


def _reset(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10).read()


def _no_secrets(text: str) -> None:
    for s in (FAKE_KEY, FAKE_SECRET, FAKE_TOKEN):
        assert s not in text


def _tid(t0: int, n: int) -> str:
    return f"1-{t0:08x}-{n:024x}"


def _simulated_documents(now: float, n_traces: int = 12) -> list[dict]:
    """The simulator's shop traffic as X-Ray segment documents (no inferred segments: X-Ray makes those),
    all finished inside [now-240 s, now-170 s]: moto only lists traces strictly inside the query window."""
    from tracekit.io.write import xray_segment_documents
    from tracekit.simulate import AppConfig, simulate

    start = pd.Timestamp(now - 240, unit="s", tz="UTC").floor("s")
    sim = simulate("baseline", n_traces=n_traces, seed=5, config=AppConfig(start=start.isoformat(), duration_s=60))
    return xray_segment_documents(sim.spans, inferred=False)


def _as_batch(docs: list[dict]) -> dict:
    by: dict[str, list] = {}
    for d in docs:
        by.setdefault(d["trace_id"], []).append({"Id": d["id"], "Document": json.dumps(d)})
    return {"Traces": [{"Id": k, "Segments": v} for k, v in by.items()], "UnprocessedTraceIds": []}


def _comparable(df: pd.DataFrame) -> pd.DataFrame:
    """Drop where a span came from, and the trace-level Duration (moto truncates it to whole seconds)."""
    cols = [c for c in df.columns if c not in ("source_file", "source_record")]
    out = df[cols].sort_values(["trace_id", "span_id"]).reset_index(drop=True)
    out["resource"] = [{k: v for k, v in r.items() if k != "xray.trace.Duration"} for r in out["resource"]]
    return out


@pytest.fixture()
def uploaded(moto_url):
    """Twelve simulated traces uploaded to moto with PutTraceSegments; returns (docs, start, end)."""
    _reset(moto_url)
    now = time.time()
    docs = _simulated_documents(now)
    xr = boto3.client("xray", endpoint_url=moto_url, region_name=REGION)
    resp = xr.put_trace_segments(TraceSegmentDocuments=[json.dumps(d) for d in docs])
    assert resp["UnprocessedTraceSegments"] == []
    return docs, now - 300, now + 60


# ----------------------------------------------------------------------------------------------- moto: real HTTP


@pytest.mark.slow  # 1.5 s in the fast lane (2 loaded cores, issue 28)
def test_fetch_from_moto_returns_every_trace_and_span(moto_url, uploaded, tmp_path):
    docs, start, end = uploaded
    client = boto3.client("xray", endpoint_url=moto_url, region_name=REGION)
    sizes = []
    client.meta.events.register("provide-client-params.xray.BatchGetTraces",
                                lambda params, **kw: sizes.append(len(params["TraceIds"])))
    spans = fetch_xray(start, end, client=client, cache_dir=tmp_path / "c", progress=False, max_workers=3)
    expected = tk.read_xray(_as_batch(docs))
    assert len(expected) == N_SIM_SPANS  # the simulator's 288 spans, every one
    assert spans["trace_id"].nunique() == 12
    pd.testing.assert_frame_equal(_comparable(spans), _comparable(expected))
    assert sorted(sizes) == [2, 5, 5]  # 12 ids -> calls of 5, 5 and 2
    info = spans.attrs["xray_fetch"]
    assert info["got"]["traces"] == 12 and info["got"]["segments_this_run"] == len(docs)
    assert info["got"]["unprocessed_ids"] == [] and info["got"]["missing_ids"] == []
    assert info["asked"]["region"] == REGION and info["asked"]["filter_expression"] is None
    assert spans.attrs["unprocessed_trace_ids"] == ()


@pytest.mark.slow  # 1.1 s in the fast lane (2 loaded cores, issue 28)
def test_cache_loads_offline_and_holds_no_credentials(moto_url, uploaded, tmp_path):
    docs, start, end = uploaded
    cache = tmp_path / "incident"
    spans = fetch_xray(start, end, endpoint_url=moto_url, region=REGION, cache_dir=cache, progress=False)
    offline = tk.read_xray(cache)  # the manifest and summary pages are not read as trace data
    pd.testing.assert_frame_equal(_comparable(offline), _comparable(spans))
    manifest = json.loads((cache / MANIFEST_NAME).read_text())
    assert manifest["summaries_complete"] is True
    assert sorted(manifest["trace_ids"]) == sorted({d["trace_id"] for d in docs})
    assert manifest["runs"][-1]["status"] == "complete"
    assert len(list((cache / "summaries").glob("*.summary"))) == 1
    assert not list(cache.rglob(".tmp-*"))  # no temp files left behind
    for f in cache.rglob("*"):
        if f.is_file():
            _no_secrets(f.read_text())
    _no_secrets(repr(spans.attrs) + str(spans.attrs))
    # a second call resumes: no trace is asked again; the range ends a minute from now, so its one summaries page
    # is (traces may still arrive: a cache made before the end kept its id list for ever, s39)
    again = fetch_xray(start, end, endpoint_url=moto_url, region=REGION, cache_dir=cache, progress=False)
    assert again.attrs["xray_fetch"]["got"]["requests_this_run"] == 1
    assert again.attrs["xray_fetch"]["got"]["resumed_from_cache"] == 12
    assert len(again) == len(spans)


def test_summaries_from_moto(moto_url, uploaded):
    docs, start, end = uploaded
    # windows of 4 min: the boundary (now-60 s) is clear of the traffic, which moto needs wholly inside one window
    df = fetch_xray_summaries(start, end, endpoint_url=moto_url, region=REGION, window="4min")
    assert sorted(df["xray_trace_id"]) == sorted({d["trace_id"] for d in docs})
    assert df["trace_id"].str.len().eq(32).all()
    # moto: HasFault when a top-level document has a "fault" key at all (FORMATS.md section 7)
    assert df["has_fault"].sum() == len({d["trace_id"] for d in docs if "fault" in d})
    assert len(df.attrs["xray_summaries"]["asked"]["windows"]) == 2  # 6 minutes in 4-minute windows


@pytest.mark.slow  # botocore's own backoff: a few seconds
def test_throttling_is_retried_by_botocore(moto_url, uploaded):
    """Two ThrottlingException answers, then the real server: adaptive retries get through."""
    docs, _, _ = uploaded
    session, calls = throttled_session("xray.BatchGetTraces")
    spans = fetch_xray(session=session, endpoint_url=moto_url, region=REGION, progress=False,
                       max_workers=1, trace_ids=[docs[0]["trace_id"]])
    assert calls["n"] == 3
    assert spans["trace_id"].nunique() == 1

    calls["n"] = -100  # always throttled: the error says so once the retries are spent
    with pytest.raises(XRayThrottledError, match="ThrottlingException") as ei:
        fetch_xray(session=session, endpoint_url=moto_url, region=REGION, progress=False,
                   max_workers=1, max_attempts=2, trace_ids=[docs[0]["trace_id"]])
    _no_secrets(str(ei.value) + repr(ei.value))


def test_cli_fetch_xray_writes_gz_that_read_xray_loads(moto_url, uploaded, tmp_path):
    from tracekit import cli_xray

    docs, start, end = uploaded
    parser = argparse.ArgumentParser(prog="tracekit")
    cli_xray.add_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "incident.json.gz"
    args = parser.parse_args(["fetch-xray", "--start", pd.Timestamp(start, unit="s").isoformat() + "Z",
                              "--end", pd.Timestamp(end, unit="s").isoformat() + "Z", "--out", str(out),
                              "--region", REGION, "--endpoint-url", moto_url, "--no-progress"])
    assert args.handler is cli_xray.run
    assert cli_xray.run(args) == 0
    raw = json.loads(gzip.decompress(out.read_bytes()))
    assert len(raw["Traces"]) == 12 and raw["UnprocessedTraceIds"] == []
    loaded = tk.read_xray(out)
    pd.testing.assert_frame_equal(_comparable(loaded), _comparable(tk.read_xray(_as_batch(docs))))
    _no_secrets(out.read_bytes().decode("latin-1"))


@pytest.mark.slow  # 1.4 s in the fast lane (2 loaded cores, issue 28)
def test_tracekit_command_fetch_xray(moto_url, uploaded, tmp_path, capsys):
    """Through the real `tracekit` entry point (tracekit.cli.main), success and a one-line error."""
    from tracekit.cli import main

    docs, start, end = uploaded
    out = tmp_path / "out.json"
    iso = [pd.Timestamp(t, unit="s", tz="UTC").isoformat() for t in (start, end)]
    assert main(["fetch-xray", "--start", iso[0], "--end", iso[1], "--out", str(out), "--region", REGION,
                 "--endpoint-url", moto_url, "--no-progress", "--max-traces", "3"]) == 0
    assert tk.read_xray(out)["trace_id"].nunique() == 3
    assert "wrote" in capsys.readouterr().err
    assert main(["fetch-xray", "--start", iso[0], "--end", iso[1], "--out", str(out), "--region", "eu-westt-1",
                 "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown region 'eu-westt-1'" in err[0]


def test_endpoint_credentials_in_url_are_not_recorded(real_traces, tmp_path):
    traces = _real_traces_dict(real_traces, 2)
    from tracekit.aws.client import redact_url as _safe_url

    assert _safe_url("http://user:pa55@127.0.0.1:4566/x") == "http://127.0.0.1:4566/x"
    spans = fetch_xray("2019-09-18T19:00Z", "2019-09-18T20:00Z", client=LimitedXRay(traces), progress=False,
                       endpoint_url="http://AKIATRACEKITFAKE0001:tracekitFakeSecretDoNotLeak@localhost:4566",
                       cache_dir=tmp_path / "c")
    recorded = repr(spans.attrs) + (tmp_path / "c" / MANIFEST_NAME).read_text()
    _no_secrets(recorded)
    assert "tracekitFakeSecretDoNotLeak" not in recorded and "localhost:4566" in recorded


# ----------------------------------------------------------------------------------------------- Stubber: real shapes


def _real(real_traces: Path, name: str) -> dict:
    return json.loads((real_traces / name).read_text())


def _stubbed_client():
    client = boto3.client("xray", region_name=REGION)
    return client, Stubber(client)


def _trace_like(template: dict, xray_id: str) -> dict:
    """The real BatchGetTraces trace with its Documents moved to another trace id."""
    t = copy.deepcopy(template)
    t["Id"] = xray_id
    for s in t["Segments"]:
        d = json.loads(s["Document"])
        d["trace_id"] = xray_id
        s["Document"] = json.dumps(d)
    return t


def test_paging_windows_chunking_and_unprocessed_with_stubber(real_traces, tmp_path):
    summaries = _real(real_traces, "aws-xray-developer-guide/xray-api-gettingdata.md.GetTraceSummaries-output.json")
    batch = _real(real_traces, "aws-cli-examples-xray/batch-traces-get.rst.output.json")
    template = batch["Traces"][0]
    real_a, real_b = (s["Id"] for s in summaries["TraceSummaries"])
    made = [_tid(0x5d82881a, n) for n in range(1, 6)]
    ids = [real_a, real_b, *made]  # 7 unique ids
    client, stub = _stubbed_client()
    t0, t1 = pd.Timestamp("2026-11-20T00:00Z"), pd.Timestamp("2026-11-20T08:00Z")
    mid = t0 + pd.Timedelta(hours=6)
    # window 1: two pages (NextToken) holding the two real summaries
    page1 = {**summaries, "TraceSummaries": summaries["TraceSummaries"][:1], "NextToken": "page-2"}
    page2 = {**summaries, "TraceSummaries": summaries["TraceSummaries"][1:]}
    stub.add_response("get_trace_summaries", page1, {"StartTime": t0.to_pydatetime(), "EndTime": mid.to_pydatetime(),
                                                     "TimeRangeType": "Event"})
    stub.add_response("get_trace_summaries", page2, {"StartTime": t0.to_pydatetime(), "EndTime": mid.to_pydatetime(),
                                                     "TimeRangeType": "Event", "NextToken": "page-2"})
    # window 2: the first real trace again (a duplicate) and five more
    more = [{**summaries["TraceSummaries"][0], "Id": i} for i in [real_a, *made]]
    stub.add_response("get_trace_summaries", {"TraceSummaries": more, "TracesProcessedCount": 6},
                      {"StartTime": mid.to_pydatetime(), "EndTime": t1.to_pydatetime(), "TimeRangeType": "Event"})
    first5, last2 = ids[:5], ids[5:]
    tr = {i: _trace_like(template, i) for i in ids}
    # chunk 1 (5 ids): two pages, the second leaves one id unprocessed; the retry asks only for that id
    stub.add_response("batch_get_traces", {"Traces": [tr[i] for i in first5[:2]], "UnprocessedTraceIds": [],
                                           "NextToken": "more"}, {"TraceIds": first5})
    stub.add_response("batch_get_traces", {"Traces": [tr[i] for i in first5[2:4]],
                                           "UnprocessedTraceIds": [first5[4]]},
                      {"TraceIds": first5, "NextToken": "more"})
    stub.add_response("batch_get_traces", {"Traces": [tr[first5[4]]], "UnprocessedTraceIds": []},
                      {"TraceIds": [first5[4]]})
    stub.add_response("batch_get_traces", {"Traces": [tr[i] for i in last2], "UnprocessedTraceIds": []},
                      {"TraceIds": last2})
    slept = []
    with stub:
        spans = fetch_xray(t0, t1, client=client, time_range_type="Event", max_workers=1, progress=False,
                           cache_dir=tmp_path / "c", sleep=slept.append)
        stub.assert_no_pending_responses()
    assert slept == [0.5]
    assert sorted(spans["trace_id"].unique()) == sorted(tk.xray_to_trace_id(i) for i in ids)
    per_trace = len(tk.read_xray(batch))  # the real trace: segment + DynamoDB subsegment + inferred segment
    assert per_trace == 3 and len(spans) == 7 * per_trace
    got = spans.attrs["xray_fetch"]["got"]
    assert got["summaries"] == 8 and got["traces"] == 7 and got["unprocessed_ids"] == []
    assert got["requests_this_run"] == 3 + 4
    assert len(spans.attrs["xray_fetch"]["asked"]["windows"]) == 2
    assert len(list((tmp_path / "c").glob("batch-*.json"))) == 4  # every page kept, the retry included
    # fetched once, stored, analysed offline: the record of the fetch comes back equal (its windows were tuples,
    # which JSON gives back as lists: write_parquet refused the frame; session 57)
    tk.write_parquet(spans, tmp_path / "fetched.parquet")
    assert tk.read_parquet(tmp_path / "fetched.parquet").attrs["xray_fetch"] == spans.attrs["xray_fetch"]


def _assert_declared(df: pd.DataFrame, name: str, extra_prefix: str | None = None) -> None:
    """``df`` has the columns declared in RESULT_TABLES[name], in order and with the declared dtypes."""
    from tracekit.core.results import RESULT_TABLES

    table = RESULT_TABLES[name]
    n = len(table.columns)
    assert list(df.columns[:n]) == table.column_names
    extra = list(df.columns[n:])
    assert all(extra_prefix and c.startswith(extra_prefix) for c in extra), extra
    assert [str(df[c].dtype) for c in table.column_names] == [c.dtype for c in table.columns]


def test_summaries_frame_from_real_output(real_traces):
    summaries = _real(real_traces, "aws-xray-developer-guide/xray-api-gettingdata.md.GetTraceSummaries-output.json")
    client, stub = _stubbed_client()
    t0, t1 = pd.Timestamp("2017-07-08T00:00Z"), pd.Timestamp("2017-07-08T01:00Z")
    stub.add_response("get_trace_summaries", summaries, {
        "StartTime": t0.to_pydatetime(), "EndTime": t1.to_pydatetime(), "TimeRangeType": "TraceId",
        "Sampling": True, "SamplingStrategy": {"Name": "FixedRate", "Value": 0.1},
        "FilterExpression": 'service("Scorekeep") { ok }'})
    with stub:
        df = fetch_xray_summaries(t0, t1, client=client, time_range_type="TraceId", sampling=True,
                                  sampling_strategy={"Name": "FixedRate", "Value": 0.1},
                                  filter_expression='service("Scorekeep") { ok }')
    assert df["xray_trace_id"].tolist() == ["1-59602606-a43a1ac52fc7ee0eea12a82c", "1-59602603-23fc5b688855d396af79b496"]
    assert df["trace_id"].tolist() == ["59602606a43a1ac52fc7ee0eea12a82c", "5960260323fc5b688855d396af79b496"]
    assert df["duration_ms"].tolist() == [84.0, 3232.0]
    assert df["response_time_ms"].tolist() == [84.0, 3232.0]
    assert df["http_status"].tolist() == [200, 200] and df["http_method"].tolist() == ["POST", "POST"]
    assert df["http_url"].tolist()[1] == "http://scorekeep.elasticbeanstalk.com/api/user"
    assert df["users"].tolist() == [[], ["5M388M1E"]]
    assert df["annotation.UserID"].tolist()[1] == "5M388M1E" and df["annotation.Name"].tolist()[1] == "Ola"
    assert pd.isna(df["annotation.Name"].tolist()[0])
    assert df["has_fault"].tolist() == [False, False]
    assert df.attrs["xray_summaries"]["pages"][0]["TracesProcessedCount"] == 2
    assert df.attrs["xray_summaries"]["asked"]["filter_expression"] == 'service("Scorekeep") { ok }'
    # exactly the declared columns (core.results), then one annotation.<key> column per key
    _assert_declared(df, "fetch_xray_summaries", extra_prefix="annotation.")
    assert list(df.columns[len(SUMMARIES_TABLE.columns):]) == ["annotation.Name", "annotation.UserID"]


def test_sampling_rules_and_statistics_from_real_output(real_traces):
    rules = _real(real_traces, "aws-cli-examples-xray/get-sampling-rules.rst.output.json")
    stats = {"SamplingStatisticSummaries": [
        {"RuleName": "base-scorekeep", "Timestamp": 1530923100.0, "RequestCount": 40, "BorrowCount": 0,
         "SampledCount": 6},
        {"RuleName": "base-scorekeep", "Timestamp": 1530923110.0, "RequestCount": 0, "BorrowCount": 0,
         "SampledCount": 0},
        {"RuleName": "polling-scorekeep", "Timestamp": 1530923110.0, "RequestCount": 1000, "BorrowCount": 1,
         "SampledCount": 4},
        {"RuleName": "Default", "Timestamp": 1530923000.0, "RequestCount": 10, "BorrowCount": 1,
         "SampledCount": 1}]}
    client, stub = _stubbed_client()
    stub.add_response("get_sampling_rules", rules, {})
    stub.add_response("get_sampling_statistic_summaries", stats, {})
    with stub:
        info = fetch_xray_sampling(start=1530923100, end=1530923200, client=client)
    r, s = info
    assert r["rule_name"].tolist() == ["polling-scorekeep", "base-scorekeep", "Default"]  # by priority
    assert r["fixed_rate"].tolist() == [0.003, 0.1, 0.01] and r["reservoir_size"].tolist() == [0, 2, 0]
    assert r["url_path"].tolist()[0] == "/api/state/*" and r["http_method"].tolist()[0] == "GET"
    assert r["modified_at"].tolist()[1] == pd.Timestamp(1530920505, unit="s", tz="UTC")
    # Default's window is before start: filtered out; sampled_fraction NaN when nothing was requested
    assert s["rule_name"].tolist() == ["base-scorekeep", "base-scorekeep", "polling-scorekeep"]
    assert s["request_count"].tolist() == [40, 0, 1000]
    assert s["sampled_fraction"].tolist()[0] == 0.15 and pd.isna(s["sampled_fraction"].tolist()[1])
    assert s["sampled_fraction"].tolist()[2] == 0.004
    _assert_declared(r, "fetch_xray_sampling.rules")
    _assert_declared(s, "fetch_xray_sampling.stats")
    # the sampling analyses take the result as is (snake_case columns, or the object's .rules)
    from tracekit.analysis.sampling import xray_rules_frame

    assert xray_rules_frame(info)["rule_name"].tolist() == ["polling-scorekeep", "base-scorekeep", "Default"]
    assert xray_rules_frame(r)["fixed_rate"].tolist() == [0.003, 0.1, 0.01]


# ----------------------------------------------------------------------------------------------- fake client: AWS limits


class LimitedXRay:
    """In-memory X-Ray enforcing what moto does not: ≤5 ids per BatchGetTraces (else InvalidRequestException),
    2 traces per page with NextToken, ids in ``flaky`` unprocessed on their first ask, ids in ``never`` always
    unprocessed, and ``fail_on_call`` raising on the n-th BatchGetTraces call (an interrupted fetch)."""

    def __init__(self, traces: dict[str, dict], *, flaky=(), never=(), fail_on_call=None, fail_with=None,
                 malformed=(), delay=0.0):
        self.traces = traces
        self.delay = delay
        self.flaky, self.never = set(flaky), set(never)
        self.fail_on_call, self.fail_with = fail_on_call, fail_with
        self.malformed = set(malformed)
        self.batch_calls: list[list[str]] = []
        self.answers: dict[tuple, tuple] = {}
        self.summary_calls = 0
        self.meta = type("Meta", (), {"region_name": REGION})()

    def get_paginator(self, op):
        fake = self

        class P:
            def paginate(self, **kw):
                token = None
                while True:
                    page = getattr(fake, op)(**kw, **({"NextToken": token} if token else {}))
                    yield page
                    token = page.get("NextToken")
                    if not token:
                        return

        return P()

    def get_trace_summaries(self, **kw):
        self.summary_calls += 1
        return {"TraceSummaries": [{"Id": i} for i in self.traces], "TracesProcessedCount": len(self.traces)}

    def batch_get_traces(self, TraceIds, NextToken=None):
        if len(TraceIds) > 5:
            raise ClientError({"Error": {"Code": "InvalidRequestException", "Message": "Too many ids"}},
                              "BatchGetTraces")
        if NextToken is None:
            time.sleep(self.delay)
            self.batch_calls.append(list(TraceIds))
            if self.fail_on_call is not None and len(self.batch_calls) == self.fail_on_call:
                raise self.fail_with
        key = tuple(TraceIds)
        if NextToken is None:  # decide once per request; continuation pages see the same answer
            unprocessed = [i for i in TraceIds if i in self.never or i in self.flaky]
            self.flaky -= set(TraceIds)
            self.answers[key] = (unprocessed, [i for i in TraceIds if i not in unprocessed and i in self.traces])
        unprocessed, ready = self.answers[key]
        start = int(NextToken or 0)
        page = [copy.deepcopy(self.traces[i]) for i in ready[start:start + 2]]
        for t in page:
            if t["Id"] in self.malformed:
                t["Segments"][0]["Document"] = '{"id": "truncated'
        out = {"Traces": page, "UnprocessedTraceIds": unprocessed if start + 2 >= len(ready) else []}
        if start + 2 < len(ready):
            out["NextToken"] = str(start + 2)
        return out


def _real_traces_dict(real_traces: Path, n: int) -> dict[str, dict]:
    template = _real(real_traces, "aws-cli-examples-xray/batch-traces-get.rst.output.json")["Traces"][0]
    ids = [_tid(0x5d82881a, k) for k in range(1, n + 1)]
    return {i: _trace_like(template, i) for i in ids}


def test_limits_parallel_unprocessed_and_max_traces(real_traces):
    traces = _real_traces_dict(real_traces, 23)
    ids = list(traces)
    fake = LimitedXRay(traces, flaky=[ids[3], ids[17]], never=[ids[9]])
    slept = []
    from tracekit.aws.fetch import NotFetchedWarning

    with pytest.warns(NotFetchedWarning, match=r"1 of 23 traces asked were not fetched: 1 trace X-Ray still listed "
                                               r"unprocessed after 2 re-asks"):
        spans = fetch_xray("2019-09-18T19:00Z", "2019-09-18T20:00Z", client=fake, max_workers=4, progress=False,
                           sleep=slept.append, unprocessed_retries=2, backoff=0.25)
    assert all(len(c) <= 5 for c in fake.batch_calls)
    first_asks = [c for c in fake.batch_calls if len(c) > 1 or c[0] not in (ids[3], ids[17], ids[9])]
    assert sorted(i for c in first_asks for i in c) == sorted(ids)  # every id asked once in a 5-chunk
    got = spans.attrs["xray_fetch"]["got"]
    assert got["unprocessed_ids"] == [ids[9]] and spans.attrs["unprocessed_trace_ids"] == (ids[9],)
    assert got["traces"] == 22 and spans["trace_id"].nunique() == 22
    assert tk.xray_to_trace_id(ids[9]) not in set(spans["trace_id"])
    assert sorted(slept) == sorted([0.25, 0.25, 0.25, 0.5])  # two flaky chunks once, the hopeless one twice
    fake2 = LimitedXRay(traces)
    few = fetch_xray("2019-09-18T19:00Z", "2019-09-18T20:00Z", client=fake2, max_traces=7, progress=False)
    assert few["trace_id"].nunique() == 7 and sorted(len(c) for c in fake2.batch_calls) == [2, 5]


def test_progress_bar_counts_traces(real_traces, capsys):
    traces = _real_traces_dict(real_traces, 6)
    spans = fetch_xray("2019-09-18T19:00Z", "2019-09-18T20:00Z", client=LimitedXRay(traces), max_workers=2)
    err = capsys.readouterr().err
    assert "X-Ray traces" in err and "6/6" in err
    assert spans["trace_id"].nunique() == 6


def test_first_failure_stops_the_remaining_chunks(real_traces, tmp_path):
    traces = _real_traces_dict(real_traces, 40)  # 8 chunks
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "BatchGetTraces")
    fake = LimitedXRay(traces, fail_on_call=1, fail_with=denied, delay=0.05)  # calls slow enough to cancel some
    with pytest.raises(tk.TraceKitError, match="xray:BatchGetTraces") as ei:
        fetch_xray("2019-09-18T19:00Z", "2019-09-18T20:00Z", client=fake, max_workers=2, progress=False,
                   cache_dir=tmp_path / "c")
    assert type(ei.value).__name__ == "XRayPermissionError"
    assert len(fake.batch_calls) < 8  # chunks not yet started were cancelled


def test_resume_after_interrupt(real_traces, tmp_path):
    traces = _real_traces_dict(real_traces, 12)
    ids = list(traces)
    cache = tmp_path / "c"
    fake = LimitedXRay(traces, fail_on_call=2, fail_with=KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        fetch_xray("2019-09-18T19:00Z", "2019-09-18T20:00Z", client=fake, cache_dir=cache, progress=False,
                   max_workers=1)
    manifest = json.loads((cache / MANIFEST_NAME).read_text())
    assert manifest["runs"][-1]["status"] == "interrupted" and manifest["trace_ids"] == ids
    assert tk.read_xray(cache)["trace_id"].nunique() == 5  # the first chunk is safe on disk
    fake2 = LimitedXRay(traces)
    spans = fetch_xray("2019-09-18T19:00Z", "2019-09-18T20:00Z", client=fake2, cache_dir=cache, progress=False,
                       max_workers=1)
    assert fake2.summary_calls == 0  # the id list came from the manifest
    assert fake2.batch_calls == [ids[5:10], ids[10:12]]  # only what was missing
    assert spans["trace_id"].nunique() == 12
    assert spans.attrs["xray_fetch"]["got"]["resumed_from_cache"] == 5
    # a different query into the same cache is refused rather than mixed in
    # (naming what differs, then and now: it showed the old query whole; session 57)
    with pytest.raises(TraceKitError, match=r"holds a different fetch \(end '2019-09-18T20:00:00\+00:00' there, "
                                            r"'2019-09-18T21:00:00\+00:00' now\); give another cache_dir"):
        fetch_xray("2019-09-18T19:00Z", "2019-09-18T21:00Z", client=fake2, cache_dir=cache, progress=False)


def test_malformed_document_is_a_format_error_and_earlier_pages_stay(real_traces, tmp_path):
    traces = _real_traces_dict(real_traces, 8)
    ids = list(traces)
    fake = LimitedXRay(traces, malformed=[ids[6]])
    cache = tmp_path / "c"
    with pytest.raises(TraceFormatError) as ei:
        fetch_xray("2019-09-18T19:00Z", "2019-09-18T20:00Z", client=fake, cache_dir=cache, progress=False,
                   max_workers=1)
    err = ei.value
    # chunk 2 asks for ids 5-7; its first page holds ids 5 and 6, and id 6 (second trace) is broken
    assert err.record == "Traces[1].Segments[0].Document" and "not valid JSON" in err.reason
    assert err.file is not None and Path(err.file).parent == cache and Path(err.file).exists()
    good = [f for f in cache.glob("batch-*.json") if f != Path(err.file)]
    assert tk.read_xray(good)["trace_id"].nunique() == 5  # chunk 1's three pages are safe on disk
    assert json.loads((cache / MANIFEST_NAME).read_text())["runs"][-1]["status"] == "error: malformed response"


# ----------------------------------------------------------------------------------------------- errors


def test_unknown_or_malformed_region():
    with pytest.raises(XRayRegionError, match="unknown region 'eu-westt-1'.*eu-west-1"):
        fetch_xray("2026-11-20T09:00Z", "2026-11-20T10:00Z", region="eu-westt-1", progress=False)
    with pytest.raises(XRayRegionError, match="not an AWS region name"):
        fetch_xray_summaries("2026-11-20T09:00Z", "2026-11-20T10:00Z", region="Frankfurt")


@pytest.mark.parametrize("code", ["ExpiredTokenException", "UnrecognizedClientException", "InvalidSignatureException"])
def test_bad_credentials_are_auth_errors_without_secrets(code, tmp_path):
    client, stub = _stubbed_client()
    # an error echoing the key id, secret and token, as a misconfigured proxy or a signature error might
    stub.add_client_error("get_trace_summaries", service_error_code=code, http_status_code=403,
                          service_message=f"token expired Credential={FAKE_KEY}/x secret {FAKE_SECRET} {FAKE_TOKEN}")
    with stub, pytest.raises(XRayAuthError) as ei:
        fetch_xray("2026-11-20T09:00Z", "2026-11-20T10:00Z", client=client, cache_dir=tmp_path / "c",
                   progress=False)
    err = ei.value
    assert err.code == code and err.operation == "GetTraceSummaries"
    assert "refresh them" in str(err) and str(tmp_path / "c") in str(err)
    _no_secrets(str(err) + repr(err) + repr(err.args))
    assert err.__cause__ is None and err.__suppress_context__
    for f in (tmp_path / "c").rglob("*"):
        if f.is_file():
            _no_secrets(f.read_text())


@pytest.mark.slow  # 3.9 s in the fast lane (2 loaded cores, issue 28)
def test_import_tracekit_does_not_import_boto3():
    code = "import tracekit, tracekit.aws, tracekit.cli_xray, sys; print('boto3' in sys.modules, 'tqdm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_query_is_checked_before_any_request():
    fake = LimitedXRay({})
    with pytest.raises(TraceKitError, match="time_range_type must be one of TraceId, Event, Service"):
        fetch_xray("2026-11-20T09:00Z", "2026-11-20T10:00Z", client=fake, time_range_type="Start", progress=False)
    with pytest.raises(TraceKitError, match="end .* must be after start"):
        fetch_xray_summaries("2026-11-20T10:00Z", "2026-11-20T09:00Z", client=fake)
    assert fake.summary_calls == 0
    client, stub = _stubbed_client()  # a blank filter is no filter: FilterExpression is not sent at all
    stub.add_response("get_trace_summaries", {"TraceSummaries": []},
                      {"StartTime": ANY, "EndTime": ANY})
    with stub:
        assert len(fetch_xray_summaries("2026-11-20T09:00Z", "2026-11-20T10:00Z", client=client,
                                        filter_expression="  ")) == 0


def test_trace_ids_in_either_form_once_each(real_traces):
    traces = _real_traces_dict(real_traces, 3)
    a, b, c = traces
    fake = LimitedXRay(traces)
    asked = iter([a, tk.xray_to_trace_id(b), a.upper(), b])  # a generator, an OTel-style id, repeats
    spans = fetch_xray(trace_ids=asked, client=fake, progress=False)
    assert fake.batch_calls == [[a, b]] and fake.summary_calls == 0
    assert sorted(spans["trace_id"].unique()) == sorted(tk.xray_to_trace_id(i) for i in (a, b))
    # ids go through the kernel's one normaliser (core.ids.normalize_trace_id): an argument error naming the id
    with pytest.raises(ArgumentError, match=r"not a trace id .*'not-an-id'"):
        fetch_xray(trace_ids=["not-an-id"], client=fake, progress=False)
    assert fake.batch_calls == [[a, b]]  # nothing asked for the bad id


def test_time_windows_cover_the_range_exactly():
    w = time_windows("2026-11-20T00:00Z", "2026-11-21T01:30Z", window="6h")
    assert [b - a for a, b in w] == [pd.Timedelta(hours=6)] * 4 + [pd.Timedelta(minutes=90)]
    assert all(w[i][1] == w[i + 1][0] for i in range(len(w) - 1))
    assert w[0][0] == pd.Timestamp("2026-11-20T00:00Z") and w[-1][1] == pd.Timestamp("2026-11-21T01:30Z")
    assert time_windows(1763596800, 1763600400)[0][0] == pd.Timestamp("2025-11-20T00:00Z")  # epoch seconds


# ----------------------------------------------------------------------------------------------- coverage audit


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("h.py", "def h(e, c):\n    return 1\n")
    return buf.getvalue()


@pytest.fixture()
def aws_resources(moto_url):
    """Lambda (traced/untraced), ECS task definitions (with/without X-Ray daemon), API Gateway stages (on/off)."""
    _reset(moto_url)
    kw = {"endpoint_url": moto_url, "region_name": REGION}
    role = boto3.client("iam", **kw).create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam = boto3.client("lambda", **kw)
    for name, mode in [("orders", "Active"), ("legacy-pricing", "PassThrough"), ("mailer", "Active"),
                       ("reports", "PassThrough")]:
        lam.create_function(FunctionName=name, Runtime="python3.11", Role=role, Handler="h.h",
                            Code={"ZipFile": _zip()}, TracingConfig={"Mode": mode})
    ecs = boto3.client("ecs", **kw)
    ecs.register_task_definition(family="checkout", containerDefinitions=[
        {"name": "checkout", "image": "example/checkout:1", "memory": 256},
        {"name": "xray-daemon", "image": "public.ecr.aws/xray/aws-xray-daemon:3.x", "memory": 64}])
    ecs.register_task_definition(family="billing", containerDefinitions=[  # revision 1 had the daemon ...
        {"name": "billing", "image": "example/billing:6", "memory": 256},
        {"name": "xray-daemon", "image": "amazon/aws-xray-daemon", "memory": 64}])
    ecs.register_task_definition(family="billing", containerDefinitions=[  # ... revision 2 dropped it
        {"name": "billing", "image": "example/billing:7", "memory": 256}])
    ag = boto3.client("apigateway", **kw)
    api = ag.create_rest_api(name="shop")
    root = next(r["id"] for r in ag.get_resources(restApiId=api["id"])["items"] if r["path"] == "/")
    ag.put_method(restApiId=api["id"], resourceId=root, httpMethod="GET", authorizationType="NONE")
    ag.put_integration(restApiId=api["id"], resourceId=root, httpMethod="GET", type="MOCK")
    dep = ag.create_deployment(restApiId=api["id"], stageName="prod")
    ag.update_stage(restApiId=api["id"], stageName="prod",
                    patchOperations=[{"op": "replace", "path": "/tracingEnabled", "value": "true"}])
    ag.create_stage(restApiId=api["id"], stageName="dev", deploymentId=dep["id"])
    return moto_url


def _audit_spans() -> pd.DataFrame:
    t = "5759e988bd862e3fe1be46a994272793"
    s0 = 1_700_000_000_000_000_000
    rows = [  # (span_id, parent, service, name, kind, start offset ms, end offset ms)
        ("a000000000000001", None, "shop/prod", "shop/prod", "server", 0, 900),
        ("a000000000000002", "a000000000000001", "shop/prod", "checkout", "client", 10, 800),
        ("a000000000000003", "a000000000000002", "checkout", "checkout", "server", 20, 790),
        ("a000000000000004", "a000000000000003", "checkout", "orders", "client", 30, 400),
        ("a000000000000005", "a000000000000004", "orders", "orders", "server", 40, 390),
        ("a000000000000006", "a000000000000003", "checkout", "legacy-pricing", "client", 400, 700),
        ("a000000000000007", "a000000000000003", "checkout", "billing", "client", 700, 780),
        ("a000000000000008", "a000000000000003", "checkout", "fraud-check", "client", 705, 710),
        ("a000000000000009", "a000000000000003", "search", "search", "server", 705, 710),
    ]
    cols = list(zip(*rows, strict=True))
    return tk.spans_from_columns({
        "trace_id": [t] * len(rows), "span_id": list(cols[0]), "parent_id": list(cols[1]),
        "service": list(cols[2]), "name": list(cols[3]), "kind": list(cols[4]),
        "start": [s0 + ms * 1_000_000 for ms in cols[5]], "end": [s0 + ms * 1_000_000 for ms in cols[6]]})


@pytest.mark.slow  # 24.7 s in the fast lane (2 loaded cores, issue 28)
def test_coverage_audit_against_moto(aws_resources):
    spans = _audit_spans()
    before = spans.copy(deep=True)
    audit = xray_coverage_audit(region=REGION, endpoint_url=aws_resources, spans=spans)
    _assert_declared(audit, "xray_coverage_audit")
    pd.testing.assert_frame_equal(spans, before)  # input not mutated
    by = {(r.resource_type, r.service): r for r in audit.itertuples()}
    s0 = pd.Timestamp(1_700_000_000_000_000_000, unit="ns", tz="UTC")

    def row(kind, name):
        return by[(kind, name)]

    assert row("lambda", "orders").tracing_enabled and row("lambda", "orders").finding == "traced"
    assert row("lambda", "orders").segments == 1 and row("lambda", "orders").first_seen == s0 + pd.Timedelta("40ms")
    assert row("lambda", "mailer").finding.startswith("tracing on but no segments: SDK not instrumented")
    assert row("lambda", "legacy-pricing").tracing_enabled is False or not row("lambda", "legacy-pricing").tracing_enabled
    assert row("lambda", "legacy-pricing").finding.startswith("calls reach it but it sends no segments")
    assert row("lambda", "reports").finding == "tracing off and no segments"
    assert row("ecs-task-definition", "checkout").tracing_enabled
    assert "xray-daemon" in row("ecs-task-definition", "checkout").tracing_detail
    assert row("ecs-task-definition", "checkout").finding == "traced"
    assert row("ecs-task-definition", "checkout").segments == 5
    assert row("ecs-task-definition", "billing").tracing_detail == "no X-Ray daemon or ADOT collector container"
    assert row("ecs-task-definition", "billing").resource.endswith("task-definition/billing:2")  # latest only
    assert row("ecs-task-definition", "billing").finding.startswith("calls reach it but it sends no segments")
    assert row("apigateway-stage", "shop/prod").tracing_enabled and row("apigateway-stage", "shop/prod").finding == "traced"
    assert row("apigateway-stage", "shop/prod").last_seen == s0 + pd.Timedelta("900ms")
    assert not row("apigateway-stage", "shop/dev").tracing_enabled
    assert row("apigateway-stage", "shop/dev").finding == "tracing off and no segments"
    assert row("service", "search").finding.startswith("segments seen; no Lambda/ECS/API Gateway resource")
    assert row("service", "fraud-check").finding == "calls reach it but it sends no segments: uninstrumented hop"
    # moto does not serve X-Ray groups: that check becomes a row, not a crash
    perm = audit[audit["resource_type"] == "permission"]
    assert perm["resource"].tolist() == ["xray"] and perm["finding"].str.contains("xray not audited").all()
    assert len(audit) == 4 + 2 + 2 + 1 + 2


@pytest.mark.slow  # 1.1 s in the fast lane (2 loaded cores, issue 28)
def test_coverage_audit_missing_permission_is_a_row(aws_resources):
    ecs = boto3.client("ecs", region_name=REGION)
    stub = Stubber(ecs)
    stub.add_client_error("list_task_definitions", service_error_code="AccessDeniedException", http_status_code=400,
                          service_message="User is not authorized to perform: ecs:ListTaskDefinitions")
    with stub:
        audit = xray_coverage_audit(region=REGION, endpoint_url=aws_resources, spans=_audit_spans(),
                                    clients={"ecs": ecs}, checks=("lambda", "ecs"))
    perm = audit[audit["resource_type"] == "permission"].iloc[0]
    assert perm["resource"] == "ecs" and perm["finding"].startswith("permission missing: ecs not audited")
    assert "ecs:ListTaskDefinitions" in perm["tracing_detail"]
    assert (audit["resource_type"] == "lambda").sum() == 4
    # without the ECS listing, checkout shows up as a service seen in traces
    assert audit.loc[audit["service"] == "checkout", "resource_type"].tolist() == ["service"]
    _no_secrets(audit.to_string())


def test_coverage_audit_lists_xray_groups():
    client, stub = _stubbed_client()
    stub.add_response("get_groups", {"Groups": [
        {"GroupName": "checkout-faults", "GroupARN": "arn:aws:xray:us-east-1:123456789012:group/checkout-faults/X",
         "FilterExpression": 'service("checkout") { fault }'}]}, {})
    with stub:
        audit = xray_coverage_audit(clients={"xray": client}, checks=("xray",))
    assert audit["resource_type"].tolist() == ["xray-group"]
    assert audit["tracing_detail"].tolist() == ['filter: service("checkout") { fault }']
    assert audit["resource"].tolist()[0].endswith("group/checkout-faults/X")
    assert pd.isna(audit["seen_in_traces"].tolist()[0])  # no spans given


def test_coverage_audit_window_and_no_aws_calls():
    spans = _audit_spans()
    s0 = pd.Timestamp(1_700_000_000_000_000_000, unit="ns", tz="UTC")
    # spans overlapping [s0+750ms, s0+2s): shop/prod's two (end 900, 800), checkout's server span (790) and its
    # call to billing (700-780); the calls to orders, legacy-pricing and fraud-check ended before 750
    audit = xray_coverage_audit(spans=spans, checks=(), start=s0 + pd.Timedelta("750ms"), end=s0 + pd.Timedelta("2s"))
    assert audit[["service", "segments"]].values.tolist() == [["checkout", 2], ["shop/prod", 2], ["billing", 0]]
    assert audit["finding"].tolist()[:2] == ["segments seen; no Lambda/ECS/API Gateway resource of that name "
                                             "was checked"] * 2
    assert audit["finding"].tolist()[2] == "calls reach it but it sends no segments: uninstrumented hop"
    assert audit["first_seen"].tolist()[:2] == [s0 + pd.Timedelta("20ms"), s0]
    assert len(spans) == 9  # the caller's frame is untouched


# ----------------------------------------------------------------------------------------------- issue 17: hardening

ENDPOINT_PASSWORD = "EndpointPassw0rdDoNotLeak"
ENDPOINT_TOKEN = "EndpointQueryTokenDoNotLeak"


def _iso(start: float, end: float) -> list[str]:
    return [pd.Timestamp(t, unit="s", tz="UTC").isoformat() for t in (start, end)]


def _no_endpoint_secrets(text: str) -> None:
    assert ENDPOINT_PASSWORD not in text and ENDPOINT_TOKEN not in text


@pytest.mark.slow  # 2.7 s in the fast lane (2 loaded cores, issue 28)
def test_endpoint_url_password_and_query_secrets_are_never_shown(moto_url, uploaded, tmp_path, capsys):
    from tracekit.cli import main

    docs, start, end = uploaded
    host = moto_url.split("//", 1)[1]
    # a working endpoint behind a proxy with user:password and a token: the fetch works, nothing records them
    url = f"http://proxyuser:{ENDPOINT_PASSWORD}@{host}/?token={ENDPOINT_TOKEN}"
    spans = tk.fetch_xray(start, end, region=REGION, endpoint_url=url, cache_dir=tmp_path / "c", progress=False)
    assert spans["trace_id"].nunique() == 12
    recorded = repr(spans.attrs) + "".join(f.read_text() for f in (tmp_path / "c").rglob("*") if f.is_file())
    _no_endpoint_secrets(recorded)
    assert host in recorded  # the endpoint is still named
    # unreachable (closed port): the connection error names the endpoint without its secrets
    closed = f"http://proxyuser:{ENDPOINT_PASSWORD}@127.0.0.1:9/?token={ENDPOINT_TOKEN}"
    with pytest.raises(TraceKitError) as ei:
        tk.fetch_xray(start, end, region=REGION, endpoint_url=closed, progress=False, max_attempts=1)
    _no_endpoint_secrets(str(ei.value) + repr(ei.value))
    assert "127.0.0.1:9" in str(ei.value)
    # an endpoint botocore refuses ("Invalid endpoint: <url>"): a tracekit error, on the command line one line
    bad = f"http://proxyuser:{ENDPOINT_PASSWORD}@bad host/?token={ENDPOINT_TOKEN}"
    with pytest.raises(TraceKitError) as ei:
        tk.fetch_xray(start, end, region=REGION, endpoint_url=bad, progress=False)
    _no_endpoint_secrets(str(ei.value) + repr(ei.value))
    iso = _iso(start, end)
    rc = main(["fetch-xray", "--start", iso[0], "--end", iso[1], "--out", str(tmp_path / "o.json"),
               "--region", REGION, "--endpoint-url", bad, "--no-progress"])
    cap = capsys.readouterr()
    assert rc == 1
    _no_endpoint_secrets(cap.out + cap.err)
    err = cap.err.strip().splitlines()
    assert len(err) == 1 and "bad host" in err[0]


@pytest.mark.slow  # 9.0 s in the fast lane (2 loaded cores, issue 28)
def test_truncated_cache_page_is_named_fetched_again_once_and_replaced(moto_url, uploaded, tmp_path):
    import re
    import warnings

    docs, start, end = uploaded
    cache = tmp_path / "c"
    kw = dict(region=REGION, endpoint_url=moto_url, cache_dir=cache, progress=False, max_workers=1)
    first = tk.fetch_xray(start, end, **kw)
    pages = sorted(cache.glob("batch-*.json"))
    assert len(pages) == 3  # 12 ids in calls of 5, 5, 2
    victim = pages[0]
    whole_ids = {t["Id"] for t in json.loads(victim.read_text())["Traces"]}
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])  # cut short (a full disk, an interrupted copy)
    with pytest.warns(UserWarning, match=re.escape(str(victim))):
        again = tk.fetch_xray(start, end, **kw)
    pd.testing.assert_frame_equal(_comparable(again), _comparable(first))
    assert again.attrs["xray_fetch"]["got"]["repaired_files"] == [victim.name]
    repaired_ids = {t["Id"] for t in json.loads(victim.read_text())["Traces"]}  # whole JSON again
    assert repaired_ids and repaired_ids <= whole_ids
    per_page = [t["Id"] for f in cache.glob("batch-*.json") for t in json.loads(f.read_text())["Traces"]]
    assert sorted(per_page) == sorted({d["trace_id"] for d in docs})  # every trace cached exactly once
    # the third call finds a whole cache: nothing asked, nothing repaired, no warning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        third = tk.fetch_xray(start, end, **kw)
    assert not [w for w in caught if "cut short" in str(w.message)]
    assert third.attrs["xray_fetch"]["got"]["requests_this_run"] == 1  # the summaries page: the range is still open
    assert third.attrs["xray_fetch"]["got"]["repaired_files"] == []
    pd.testing.assert_frame_equal(_comparable(third), _comparable(first))


@pytest.mark.slow  # 2.2 s in the fast lane (2 loaded cores, issue 28)
def test_cli_without_cache_keeps_the_pages_of_a_failed_fetch_and_says_how_to_resume(
        moto_url, uploaded, tmp_path, capsys, monkeypatch):
    import re
    import shlex
    import tempfile

    from botocore.client import BaseClient

    from tracekit.cli import main

    docs, start, end = uploaded
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the CLI's temporary folder goes here
    real = BaseClient._make_api_call
    calls = {"n": 0, "fail_at": 2}

    def flaky(self, op, params):
        if op == "BatchGetTraces":
            calls["n"] += 1
            if calls["n"] == calls["fail_at"]:
                raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not today"}}, op)
        return real(self, op, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", flaky)
    iso = _iso(start, end)
    out = tmp_path / "out.json"
    base = ["fetch-xray", "--start", iso[0], "--end", iso[1], "--out", str(out), "--region", REGION,
            "--endpoint-url", moto_url, "--no-progress", "--max-workers", "1"]
    assert main(base) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "AccessDeniedException" in err[0]
    assert "same cache_dir" not in err[0]  # the Python hint is not the command's
    m = re.search(r"--cache (\S+) to resume", err[0])
    assert m, err[0]
    kept = Path(shlex.split(m.group(1))[0])
    assert kept.is_dir() and kept.is_relative_to(tmp_path)
    assert len(list(kept.glob("batch-*.json"))) == 1  # the first call's page is still there
    monkeypatch.setattr(BaseClient, "_make_api_call", real)
    assert main([*base, "--cache", str(kept)]) == 0  # resumes as told
    assert tk.read_xray(out)["trace_id"].nunique() == 12
    assert len(list(kept.glob("batch-*.json"))) == 3  # only the two missing calls were made

    # failing before any page: no resume hint and no temporary folder left behind
    capsys.readouterr()
    before = set(tmp_path.iterdir())
    calls.update(n=0, fail_at=1)
    monkeypatch.setattr(BaseClient, "_make_api_call", flaky)
    assert main(base) == 1
    err = capsys.readouterr().err
    assert "AccessDeniedException" in err and "--cache" not in err and "resume" not in err
    assert set(tmp_path.iterdir()) == before


def test_cli_escapes_control_characters_in_service_names(moto_url, tmp_path, capsys):
    from tracekit.cli import main

    _reset(moto_url)
    now = time.time()
    evil = "pay\x1b]0;owned\x07ments\u202e\x1b[2J"
    doc = {"trace_id": _tid(int(now) - 200, 1), "id": "53995c3f42cd8ad8", "name": evil,
           "start_time": now - 200, "end_time": now - 199.5}
    xr = boto3.client("xray", endpoint_url=moto_url, region_name=REGION)
    assert xr.put_trace_segments(TraceSegmentDocuments=[json.dumps(doc)])["UnprocessedTraceSegments"] == []
    iso = _iso(now - 300, now + 60)
    out = tmp_path / "o.json"
    assert main(["fetch-xray", "--start", iso[0], "--end", iso[1], "--out", str(out), "--region", REGION,
                 "--endpoint-url", moto_url, "--no-progress"]) == 0
    cap = capsys.readouterr()
    shown = cap.out + cap.err
    assert not any(c in shown for c in "\x1b\x07\u202e")  # nothing reaches the terminal raw
    assert "pay\\x1b]0;owned\\x07ments\\u202e\\x1b[2J" in shown  # the service is named, escaped
    assert tk.read_xray(out)["service"].tolist() == [evil]  # the data keeps the real name


# ----------------------------------------------------------------------------------------------- notebook 04 (issue 16)


def _run_notebook(path: Path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


@pytest.mark.slow  # runs the notebook in a kernel (~10 s)
def test_notebook_04_text_and_code_agree_and_no_server_log(monkeypatch):
    from .conftest import REPO

    monkeypatch.delenv("TRACEKIT_LOCAL_XRAY", raising=False)
    nb = _run_notebook(REPO / "notebooks" / "04-xray-live.ipynb")
    intro = nb.cells[0].source
    assert "`TRACEKIT_LOCAL_XRAY` unset" in intro and "TRACEKIT_LOCAL_XRAY=0" in intro  # text: unset -> local
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    printed = "".join(o.get("text", "") for o in outputs)
    assert "X-Ray endpoint: local (moto)" in printed  # code: unset -> local, as the text says
    assert "traces: 30" in printed  # the simulated traffic came back through the local endpoint
    stderr = [o["text"] for o in outputs if o.get("name") == "stderr"]
    assert not any('"POST /' in s for s in stderr), stderr[:3]  # no werkzeug request log lines


class _Raw:
    """A raw HTTP body botocore can stream."""

    def __init__(self, body):
        self.body = body

    def stream(self, **kw):
        yield self.body


def throttled_session(event: str, times: int = 2):
    """A boto3 session whose ``event`` (``"xray.BatchGetTraces"``) is answered ThrottlingException ``times``
    times before the real endpoint; returns (session, calls) — ``calls["n"]`` counts the attempts, and setting
    it below 0 throttles that many more."""
    session = boto3.session.Session(region_name=REGION)
    calls = {"n": 0}

    def throttle(request, **kw):
        calls["n"] += 1
        if calls["n"] <= times:
            body = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
            return AWSResponse(request.url, 400, {"x-amzn-ErrorType": "ThrottlingException"}, _Raw(body))
        return None

    session.events.register(f"before-send.{event}", throttle)
    return session, calls
