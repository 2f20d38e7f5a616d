"""The live AWS paths (tracekit.aws: fetch_xray / fetch_xray_summaries / fetch_logs / fetch_metrics / the
coverage audit, and the clients they make): paging that loops, counts that are not whole numbers, the words
of permission and throttling errors, an HTTP 429 without a throttling code, swapped audit times.

No moto server here (10-16 s to start): botocore's Stubber validates each request against the service model,
a ``before-send`` hook answers the raw HTTP of a made client, and small fakes stand in where neither can.
"""

from __future__ import annotations

import inspect
import re

import pytest

import tracekit as tk
from tracekit.errors import ArgumentError

boto3 = pytest.importorskip("boto3")
from botocore.awsrequest import AWSResponse  # noqa: E402
from botocore.stub import Stubber  # noqa: E402

from tracekit.aws import (  # noqa: E402
    IAM_PERMISSIONS,
    XRayFetchError,
    XRayPermissionError,
    XRayThrottledError,
    fetch_xray,
    fetch_xray_summaries,
    xray_coverage_audit,
)
from tracekit.aws.client import make_client  # noqa: E402
from tracekit.aws.logs import fetch_logs  # noqa: E402
from tracekit.aws.metrics import fetch_metrics  # noqa: E402

REGION = "us-east-1"
KEY, SECRET = "AKIATRACEKITS39LIVE1", "s39LiveSecretDoNotLeak/0123456789"
TID = "5759e988bd862e3fe1be46a994272793"
XTID = "1-5759e988-bd862e3fe1be46a994272793"
START, END = "2026-11-20T09:00Z", "2026-11-20T10:00Z"


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch):
    """Fake credentials only: env vars, no config files, no instance metadata."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/tracekit-aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/tracekit-aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def _client(service: str):
    return boto3.client(service, region_name=REGION, aws_access_key_id=KEY, aws_secret_access_key=SECRET)


def _count_calls(client, operation: str) -> list[int]:
    """A one-element list counting the requests made for ``operation`` (stubbed or sent)."""
    n = [0]

    def count(**_kw):
        n[0] += 1

    client.meta.events.register(f"before-parameter-build.{client.meta.service_model.service_id.hyphenize()}."
                                f"{operation}", count)
    return n


# ----------------------------------------------------------------------------------------------- paging loops


class _SameTokenForEver:
    """GetMetricData answering every page with the same NextToken (a service paging in a loop)."""

    def __init__(self, limit: int = 25):
        self.calls, self.limit = 0, limit

    def get_metric_data(self, **kw):
        self.calls += 1
        if self.calls > self.limit:  # the old loop asked without end: fail the test instead of hanging it
            raise AssertionError(f"still asking after {self.limit} pages of one NextToken")
        return {"MetricDataResults": [{"Id": "m0", "Label": "m", "Timestamps": [], "Values": [],
                                       "StatusCode": "PartialData"}], "NextToken": "same-token"}


def test_get_metric_data_handing_back_its_next_token_stops_instead_of_looping():
    # truth by construction: page 2 carries page 1's token, so page 3 would be page 2 again, for ever
    cw = _SameTokenForEver()
    with pytest.raises(XRayFetchError, match=r"GetMetricData paged in a loop: page 2 handed back the NextToken "
                                             r"of page 1") as ei:
        fetch_metrics([{"namespace": "N", "metric": "M"}], START, END, client=cw)
    assert ei.value.code == "RepeatedNextToken"
    assert cw.calls == 2  # the request the repeated token names is never made


@pytest.mark.parametrize("api", ["GetTraceSummaries", "FilterLogEvents"])
def test_a_paginator_cycling_through_two_tokens_stops_at_the_first_repeat(api):
    # botocore's paginator refuses a token repeated by the very next page only: tokens A, B, A, B … paged for ever
    if api == "GetTraceSummaries":
        client, method, key, empty = _client("xray"), "get_trace_summaries", "NextToken", {"TraceSummaries": []}
    else:
        client, method, key, empty = _client("logs"), "filter_log_events", "nextToken", {"events": []}

    def run():
        if api == "GetTraceSummaries":
            return fetch_xray_summaries(START, END, client=client)
        return fetch_logs([TID], START, END, log_groups="/aws/lambda/checkout", client=client)

    calls = _count_calls(client, api)
    with Stubber(client) as stub:
        for token in "ABABABAB":  # eight pages queued: the old code read all eight, then ran out of answers
            stub.add_response(method, {**empty, key: token})
        with pytest.raises(XRayFetchError) as ei:
            run()
    assert ei.value.code == "RepeatedNextToken"
    assert f"{api} paged in a loop: page 3 handed back the {key} of page 1" in str(ei.value)
    assert calls[0] == 3
    # the guard stops loops only: four distinct tokens and a last page without one are all followed
    calls[0] = 0
    with Stubber(client) as stub:
        for i in range(5):
            stub.add_response(method, {**empty, **({key: f"t{i}"} if i < 4 else {})})
        assert len(run()) == 0
        stub.assert_no_pending_responses()
    assert calls[0] == 5


# ----------------------------------------------------------------------------------------------- counts


@pytest.mark.parametrize(("kw", "name"), [
    ({"max_traces": 2.5}, "max_traces"), ({"max_traces": "3"}, "max_traces"), ({"max_traces": True}, "max_traces"),
    ({"max_workers": "4"}, "max_workers"), ({"max_workers": 2.5}, "max_workers"),
    ({"unprocessed_retries": "3"}, "unprocessed_retries"), ({"backoff": -1.0}, "backoff"),
    ({"max_attempts": "8"}, "max_attempts"),
])
def test_fetch_xray_counts_are_whole_numbers_said_before_any_request(kw, name):
    # client=object(): any request would be an AttributeError; the old code raised TypeError/AttributeError
    with pytest.raises(ArgumentError, match=rf"fetch_xray: {name} must be"):
        fetch_xray(trace_ids=[XTID], client=object(), progress=False, **kw)


def test_max_attempts_is_a_whole_number_everywhere():
    for call in (lambda: fetch_logs([TID], START, END, log_groups="/g", client=object(), max_attempts="3"),
                 lambda: fetch_metrics([{"namespace": "N", "metric": "M"}], START, END, client=object(),
                                       max_attempts=2.5)):
        with pytest.raises(ArgumentError, match="max_attempts must be a whole number"):
            call()
    # made clients: "3" was a bare TypeError, -1 an error about endpoint_url 'None', 2.5 a budget of 3.5 attempts
    for bad in ("3", -1, 2.5, True):
        with pytest.raises(ArgumentError, match=r"make_client: max_attempts must be a whole number >= 0"):
            make_client("xray", region=REGION, max_attempts=bad)


# ----------------------------------------------------------------------------------------------- error words


def _stubbed_error(api: str, code: str):
    """Call ``api``'s public function against a stubbed error ``code``; return the error raised."""
    if api == "FilterLogEvents":
        client = _client("logs")
        method, run = "filter_log_events", lambda: fetch_logs([TID], START, END, log_groups="/g", client=client)
    elif api == "GetMetricData":
        client = _client("cloudwatch")
        method, run = "get_metric_data", lambda: fetch_metrics([{"namespace": "N", "metric": "M"}], START, END,
                                                               client=client)
    else:
        client = _client("xray")
        method, run = "batch_get_traces", lambda: fetch_xray(trace_ids=[XTID], client=client, progress=False)
    with Stubber(client) as stub:
        stub.add_client_error(method, service_error_code=code, service_message="no")
        with pytest.raises(XRayFetchError) as ei:
            run()
    return ei.value


def test_a_missing_permission_names_the_iam_action_the_table_lists():
    for api, func, action in (("FilterLogEvents", "fetch_logs", "logs:FilterLogEvents"),
                              ("GetMetricData", "fetch_metrics", "cloudwatch:GetMetricData"),
                              ("BatchGetTraces", "fetch_xray", "xray:BatchGetTraces")):
        err = _stubbed_error(api, "AccessDeniedException")
        assert isinstance(err, XRayPermissionError)
        # the message sends the reader to IAM_PERMISSIONS: the action it names is there, under the function called
        assert f"lack permission {action!r}; see tracekit.aws.IAM_PERMISSIONS" in str(err), api
        assert action in IAM_PERMISSIONS[func]


def test_a_throttling_hint_names_only_arguments_the_function_has():
    for api, func in (("FilterLogEvents", fetch_logs), ("GetMetricData", fetch_metrics),
                      ("BatchGetTraces", fetch_xray)):
        err = _stubbed_error(api, "ThrottlingException")
        assert isinstance(err, XRayThrottledError)
        hint = str(err).split(" -- ", 1)[1]
        named = set(re.findall(r"\b(max_\w+)\b", hint))
        assert named and named <= set(inspect.signature(func).parameters), (api, hint)
        assert ("max_workers" in named) == (api == "BatchGetTraces")  # the one call fetch_xray makes in parallel


class _Raw:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_kw):
        yield self.body


def test_an_http_429_without_a_throttling_code_is_throttling_retried_within_the_bound(monkeypatch):
    import botocore.endpoint

    waits: list[float] = []
    monkeypatch.setattr(botocore.endpoint.time, "sleep", waits.append)  # botocore's wait between attempts
    # a proxy's 429: an HTML body, no AWS error code; botocore retried it 0 times and it was "AWS returned an error"
    answers = [(429, b"<html>Too Many Requests</html>")] * 3 + [(200, b'{"TraceSummaries": []}')]
    for max_attempts, want_calls, ok in ((2, 3, False), (3, 4, True)):
        client = make_client("xray", region=REGION, max_attempts=max_attempts)
        sent = []

        def send(request, _sent=sent, **_kw):
            status, body = answers[len(_sent)]
            _sent.append(status)
            return AWSResponse(request.url, status, {}, _Raw(body))

        client.meta.events.register("before-send", send)
        if ok:  # three 429s, then an answer: the fourth attempt, within max_attempts=3 retries, gets it
            assert len(fetch_xray_summaries(START, END, client=client)) == 0
        else:
            with pytest.raises(XRayThrottledError, match="GetTraceSummaries failed with 429"):
                fetch_xray_summaries(START, END, client=client)
        assert len(sent) == want_calls  # 1 + max_attempts at most
    assert len(waits) == 2 + 3 and all(0 <= w <= 20 for w in waits)


# ----------------------------------------------------------------------------------------------- coverage audit


def test_coverage_audit_with_end_before_start_is_an_argument_error():
    spans = tk.spans_from_columns({"trace_id": [TID], "span_id": ["53995c3f42cd8ad8"], "parent_id": [None],
                                   "service": ["checkout"], "name": ["checkout"], "kind": ["server"],
                                   "start": [0], "end": [9_000_000]})
    # swapped: the old audit kept no span and called every service unseen, with no word about the times
    with pytest.raises(ArgumentError, match=r"end \(1970-01-01T00:00:00\+00:00\) must be after start"):
        xray_coverage_audit(spans=spans, checks=(), start="1970-01-01T00:00:01", end="1970-01-01T00:00:00")
    ok = xray_coverage_audit(spans=spans, checks=(), start="1970-01-01T00:00:00", end="1970-01-01T00:00:01")
    assert ok["service"].tolist() == ["checkout"] and bool(ok["seen_in_traces"].iloc[0])


# ----------------------------------------------------------------------------------------------- cache


def _trace(xray_id: str, service: str) -> dict:
    import json

    doc = json.dumps({"id": "53995c3f42cd8ad8", "name": service, "trace_id": xray_id, "start_time": 1700000000.5,
                      "end_time": 1700000000.75})
    return {"Id": xray_id, "Segments": [{"Id": "53995c3f42cd8ad8", "Document": doc}]}


def test_a_cache_made_before_the_range_ended_asks_the_summaries_again(tmp_path):
    import pandas as pd

    a, b = "1-5759e988-bd862e3fe1be46a994272793", "1-5759e988-bd862e3fe1be46a994272794"
    now = pd.Timestamp.now(tz="UTC").floor("s")
    for label, start, end, still_open in (("open", now - pd.Timedelta("1h"), now + pd.Timedelta("1h"), True),
                                          ("over", now - pd.Timedelta("3h"), now - pd.Timedelta("2h"), False)):
        cache = tmp_path / label
        client = _client("xray")
        calls = _count_calls(client, "GetTraceSummaries")
        with Stubber(client) as stub:  # the first call: trace a is all the range holds so far
            stub.add_response("get_trace_summaries", {"TraceSummaries": [{"Id": a}]})
            stub.add_response("batch_get_traces", {"Traces": [_trace(a, "checkout")]}, {"TraceIds": [a]})
            first = fetch_xray(start, end, client=client, cache_dir=cache, progress=False)
            stub.assert_no_pending_responses()
        with Stubber(client) as stub:  # called again with the same query: trace b has arrived since
            if still_open:
                stub.add_response("get_trace_summaries", {"TraceSummaries": [{"Id": b}, {"Id": a}]})
                stub.add_response("batch_get_traces", {"Traces": [_trace(b, "payment")]}, {"TraceIds": [b]})
            again = fetch_xray(start, end, client=client, cache_dir=cache, progress=False)
            stub.assert_no_pending_responses()
        assert first["service"].tolist() == ["checkout"]
        if still_open:  # asked while the range was open: the old cache answered ["checkout"] for ever
            assert sorted(again["service"]) == ["checkout", "payment"] and calls[0] == 2
            assert again.attrs["xray_fetch"]["got"]["traces"] == 2
            assert again.attrs["xray_fetch"]["got"]["resumed_from_cache"] == 1
        else:  # asked after the range was over: the cached list is the answer, no request at all
            assert again["service"].tolist() == ["checkout"] and calls[0] == 1


# ----------------------------------------------------------------------------------------------- metrics


class _EmptyMetrics:
    """GetMetricData answering every query with an empty series, as CloudWatch does past a period's retention."""

    def get_metric_data(self, **kw):
        return {"MetricDataResults": [{"Id": q["Id"], "Label": q["Id"], "Timestamps": [], "Values": [],
                                       "StatusCode": "Complete"} for q in kw["MetricDataQueries"]]}


def test_a_period_cloudwatch_no_longer_keeps_for_the_start_is_said_not_silently_empty():
    import warnings

    import pandas as pd

    now = pd.Timestamp.now(tz="UTC")
    # (start's age, period, the multiple CloudWatch needs then or None): API_MetricStat's retention table
    cases = [("1h", 10, None), ("5h", 10, 60), ("5h", 60, None), ("20D", 60, 300), ("20D", 300, None),
             ("100D", 300, 3600), ("100D", 3600, None)]
    for age, period, need in cases:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m = fetch_metrics([{"namespace": "N", "metric": "M", "period": period}], now - pd.Timedelta(age), now,
                              client=_EmptyMetrics())
        said = [str(w.message) for w in caught if "fetch_metrics: start" in str(w.message)]
        assert len(m) == 0
        if need is None:
            assert said == [], (age, period)
        else:  # the old fetch answered an empty frame and said nothing
            assert len(said) == 1 and f"a multiple of {need} s" in said[0] and f"m0 ({period} s)" in said[0], (
                age, period, said)
            assert "1 of 1 queries will come back empty" in said[0]


def test_a_get_metric_data_page_without_results_is_a_format_error_naming_the_page():
    from tracekit.errors import TraceFormatError

    class _NoResults:
        def get_metric_data(self, **kw):  # an endpoint answering something else (a proxy, a mock): no results key
            return {"Messages": [], "NextToken": None}

    with pytest.raises(TraceFormatError, match=r"page 0: a GetMetricData response must be an object with "
                                               r"MetricDataResults"):  # was a bare KeyError('MetricDataResults')
        fetch_metrics([{"namespace": "N", "metric": "M"}], START, END, client=_NoResults())


# ----------------------------------------------------------------------------------------------- CLI


def test_cli_says_and_exits_1_when_x_ray_returns_fewer_traces_than_asked(monkeypatch, tmp_path, capsys):
    import tracekit.aws.fetch as fetch_mod
    from tracekit.cli import main

    a, b = "1-5759e988-bd862e3fe1be46a994272793", "1-5759e988-bd862e3fe1be46a994272794"
    client = _client("xray")
    monkeypatch.setattr(fetch_mod, "make_client", lambda *args, **kw: client)
    out = tmp_path / "x.json"
    with Stubber(client) as stub:  # two traces listed, one returned, the other neither returned nor unprocessed
        stub.add_response("get_trace_summaries", {"TraceSummaries": [{"Id": a}, {"Id": b}]})
        stub.add_response("batch_get_traces", {"Traces": [_trace(a, "checkout")], "UnprocessedTraceIds": []},
                          {"TraceIds": [a, b]})
        rc = main(["fetch-xray", "--start", START, "--end", END, "--no-progress", "-o", str(out)])
    err = capsys.readouterr().err
    # the old command wrote "1 traces, 1 spans" and exited 0: the trace X-Ray dropped went unsaid
    assert "1 trace, 1 span; 1 trace id asked but not returned by X-Ray" in err and rc == 1  # s40: "1 traces" too
    assert out.exists()


def test_coverage_audit_listing_in_a_loop_becomes_a_row_saying_so():
    client = _client("lambda")
    calls = _count_calls(client, "ListFunctions")
    with Stubber(client) as stub:  # NextMarker A, B, A …: botocore's paginator followed it until the answers ran out
        for marker in "ABABABAB":
            stub.add_response("list_functions", {"Functions": [], "NextMarker": marker})
        audit = xray_coverage_audit(clients={"lambda": client}, checks=("lambda",))
    assert audit["resource_type"].tolist() == ["permission"]
    assert "ListFunctions paged in a loop: page 3 handed back the NextMarker of page 1" in audit["finding"].iloc[0]
    assert calls[0] == 3


def test_an_expression_cut_from_its_ids_by_the_500_query_split_is_refused_before_any_request():
    class _Recorder(_EmptyMetrics):
        def __init__(self):
            self.sizes = []

        def get_metric_data(self, **kw):
            self.sizes.append(len(kw["MetricDataQueries"]))
            return super().get_metric_data(**kw)

    metrics = [{"namespace": "N", "metric": f"M{i}", "id": f"m{i}"} for i in range(500)]
    # request 1 holds m0..m499, request 2 the expression naming m0: CloudWatch refuses it there (no m0 in request 2)
    cut = [*metrics, {"Id": "e0", "Expression": "m0 * 2", "Label": "twice"}]
    cw = _Recorder()
    with pytest.raises(ArgumentError, match=r"expression query 'e0' \('m0 \* 2'\) names m0, which fall in another "
                                            r"request"):
        fetch_metrics(cut, START, END, client=cw)
    assert cw.sizes == []  # the old fetch sent both requests (500 + 1 queries)
    # the same expression next to its ids (both in request 1) is sent as is
    together = [{"Id": "e0", "Expression": "m0 * 2", "Label": "twice"}, *metrics[:499], metrics[499]]
    fetch_metrics(together[:500] + [{"namespace": "N", "metric": "X", "id": "x0"}], START, END, client=cw)
    assert cw.sizes == [500, 1]


def test_a_time_range_given_beside_trace_ids_is_said_to_be_unused():
    """fetch_xray(start, end, trace_ids=…) fetches the traces asked for whole, whatever their time: the range (and a
    filter) was ignored without a word, read by a user as "these traces, within that range" (found by live, left
    alone then). A warning now names what is not used; trace_ids alone warn nothing."""
    import warnings

    client = _client("xray")
    for kwargs, unused in ((dict(start=START, end=END), "start, end"),
                           (dict(filter_expression='service("a")'), "filter_expression"), ({}, None)):
        with Stubber(client) as stub:
            stub.add_response("batch_get_traces", {"Traces": [_trace(XTID, "checkout")]}, {"TraceIds": [XTID]})
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                spans = fetch_xray(trace_ids=[TID], client=client, progress=False, **kwargs)
            stub.assert_no_pending_responses()
        said = [str(w.message) for w in seen if "not used with trace_ids" in str(w.message)]
        assert spans["trace_id"].unique().tolist() == [TID]  # fetched whole all the same
        assert said == ([] if unused is None else [f"fetch_xray: {unused} not used with trace_ids: the traces asked "
                                                   "for are fetched whole (BatchGetTraces), whatever their time"]), said
