"""Live AWS paths, the command line and Dask: defects found in session s32 (each test failed before its fix)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

boto3 = pytest.importorskip("boto3")

# the fake credentials and their fixture are test_xray_live's (as test_logs_live and test_metrics_live take them):
# one definition of what "never a real profile" sets (an autouse fixture there: every test here runs with them)
from . import test_xray_live as _live  # noqa: E402
from .test_xray_live import FAKE_KEY, FAKE_SECRET, FAKE_TOKEN, REGION  # noqa: E402

fake_credentials = _live.fake_credentials


class _SignatureMismatch(BaseHTTPRequestHandler):
    """Answers every request 403 SignatureDoesNotMatch quoting the canonical request, as AWS does: the
    ``x-amz-security-token`` header (the session token) is in the message."""

    def _answer(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        msg = ("The request signature we calculated does not match the signature you provided. The Canonical String "
               f"for this request should have been 'POST\n/\n\nx-amz-security-token:{self.headers.get('X-Amz-Security-Token')}\n'")
        body = json.dumps({"__type": "SignatureDoesNotMatch", "message": msg, "Message": msg}).encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("x-amzn-ErrorType", "SignatureDoesNotMatch")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args):
        pass


@pytest.fixture()
def mismatch_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SignatureMismatch)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_coverage_audit_scrubs_the_credentials_of_the_clients_it_makes(fake_credentials, mismatch_url):
    from tracekit.aws import xray_coverage_audit

    audit = xray_coverage_audit(region=REGION, endpoint_url=mismatch_url)
    findings = audit["finding"].tolist()
    assert len(findings) == 4 and all(f.startswith("credentials invalid: ") for f in findings)
    # the server quoted the token back in every answer; before the fix 4 of 4 findings held it
    assert all("x-amz-security-token:***" in f for f in findings)
    text = audit.to_string() + repr(audit.to_dict("records"))
    for secret in (FAKE_KEY, FAKE_SECRET, FAKE_TOKEN):
        assert secret not in text


# ----------------------------------------------------------------------------------------------- Dask


def test_dask_frames_whose_dicts_dask_made_text_are_refused_not_answered_wrongly():
    """dd.from_pandas under Dask's default config turns attributes/resource/links/events into str(dict) text;
    the service graph then lost the callees named in attributes (8 edges where pandas has 13)."""
    dd = pytest.importorskip("dask.dataframe")
    import dask

    import tracekit as tk
    from tracekit.errors import ArgumentError

    spans = tk.simulate.simulate("db-lock", n_traces=12, seed=3).spans
    before = spans.copy(deep=True)
    H = tk.service_graph(spans)
    assert H.number_of_edges() == 13
    with dask.config.set({"dataframe.convert-string": True}):
        texty = dd.from_pandas(spans, npartitions=3, sort=False)
    assert texty._meta["attributes"].dtype != object  # the case: Dask made the dicts text
    with dask.config.set(scheduler="sync"):
        calls = {
            "keep_traces_whole": lambda: tk.dask.keep_traces_whole(texty),
            "keep_requests_whole": lambda: tk.dask.keep_requests_whole(texty),
            "critical_path": lambda: tk.dask.critical_path(texty),
            "self_time": lambda: tk.dask.self_time(texty),
            "find_repeated_calls": lambda: tk.dask.find_repeated_calls(texty),
            "critical_path_breakdown": lambda: tk.dask.critical_path_breakdown(texty),
            "service_graph": lambda: tk.dask.service_graph(texty),
            "health_report": lambda: tk.dask.health_report(texty),
        }
        for name, call in calls.items():
            with pytest.raises(ArgumentError, match=rf"^{name}: column 'attributes' holds text .*convert-string"):
                call()
        with dask.config.set({"dataframe.convert-string": False}):
            kept = tk.dask.keep_traces_whole(dd.from_pandas(spans, npartitions=3, sort=False))
        G = tk.dask.service_graph(kept)
    assert sorted(G.edges) == sorted(H.edges)
    assert all(G.edges[e]["calls"] == H.edges[e]["calls"] for e in H.edges)
    import pandas as pd

    pd.testing.assert_frame_equal(spans, before)


# ----------------------------------------------------------------------------------------------- fetch_xray


def _xid(n: int) -> str:
    return f"1-5d82881a-{n:024x}"


def _trace(n: int) -> dict:
    tid = _xid(n)
    doc = {"id": f"{n:016x}", "name": f"svc{n}", "trace_id": tid, "start_time": 1568833200.0 + n,
           "end_time": 1568833200.25 + n}
    return {"Id": tid, "Segments": [{"Id": doc["id"], "Document": json.dumps(doc)}]}


class _FakeXRay:
    """GetTraceSummaries lists ``n`` traces; BatchGetTraces answers ≤5 ids per call, one page each; the traces
    of ``malformed`` come back with a Document cut in the middle."""

    def __init__(self, n: int, malformed=()):
        self.traces = {_xid(k): _trace(k) for k in range(1, n + 1)}
        self.malformed = set(malformed)
        self.batch_calls: list[list[str]] = []
        self.meta = type("Meta", (), {"region_name": REGION})()

    def get_paginator(self, op):
        fake = self

        class Pages:
            def paginate(self, **kw):
                if op == "get_trace_summaries":
                    yield {"TraceSummaries": [{"Id": i} for i in fake.traces]}
                    return
                ids = kw["TraceIds"]
                assert len(ids) <= 5
                fake.batch_calls.append(list(ids))
                out = []
                for i in ids:
                    t = json.loads(json.dumps(fake.traces[i]))
                    if i in fake.malformed:
                        t["Segments"][0]["Document"] = '{"id": "trunc'
                    out.append(t)
                yield {"Traces": out, "UnprocessedTraceIds": []}

        return Pages()


def test_a_cached_malformed_page_is_asked_again_on_resume_not_forever_fatal(tmp_path):
    import tracekit as tk
    from tracekit.aws import fetch_xray

    cache = tmp_path / "c"
    window = ("2019-09-18T19:00Z", "2019-09-18T20:00Z")
    with pytest.raises(tk.TraceFormatError, match="not valid JSON") as ei:
        fetch_xray(*window, client=_FakeXRay(8, malformed=[_xid(7)]), cache_dir=cache, progress=False, max_workers=1)
    bad = ei.value.file
    assert bad is not None and (cache / bad.rsplit("/", 1)[-1]).exists()  # kept as evidence
    # AWS answers well now: the three traces of the bad page (6, 7, 8: the second chunk) are asked again;
    # before, they counted as cached, nothing was asked and the read failed on the same page on every call
    fake = _FakeXRay(8)
    with pytest.warns(UserWarning, match="holds a malformed response .*Traces\\[1\\]"):
        spans = fetch_xray(*window, client=fake, cache_dir=cache, progress=False, max_workers=1)
    assert fake.batch_calls == [[_xid(6), _xid(7), _xid(8)]]
    assert sorted(spans["service"]) == sorted(f"svc{k}" for k in range(1, 9))
    assert spans.attrs["xray_fetch"]["got"]["traces"] == 8
    assert spans.attrs["xray_fetch"]["got"]["repaired_files"] == [bad.rsplit("/", 1)[-1]]
    assert tk.read_xray(cache)["trace_id"].nunique() == 8  # the cache alone reads whole now
    # a third call asks nothing
    again = _FakeXRay(8)
    assert len(fetch_xray(*window, client=again, cache_dir=cache, progress=False)) == 8 and again.batch_calls == []


# ----------------------------------------------------------------------------------------------- command line


def _fetch_cli(capsys, tmp_path, *extra):
    from tracekit.cli import main

    rc = main(["fetch-xray", "--start", "2026-11-20T09:00Z", "--end", "2026-11-20T10:00Z", "--region", REGION,
               "--endpoint-url", "http://127.0.0.1:9", "--no-progress", "-o", str(tmp_path / "out.json"), *extra])
    err = capsys.readouterr().err
    return rc, err


@pytest.mark.parametrize(("window", "said"), [
    ("abc", "window='abc' is not a duration such as '6h'"),
    ("6", "window='6' has no unit"),             # pandas: 6 nanoseconds, 600,000,000,000 windows for one hour
    ("1ns", "into 3,600,000,000,000 queries (at most 100,000)"),
])
def test_cli_window_that_is_no_duration_is_one_line_not_a_traceback_or_a_hang(fake_credentials, capsys, tmp_path,
                                                                                window, said):
    rc, err = _fetch_cli(capsys, tmp_path, "--window", window)
    assert rc == 1 and err.count("\n") == 1 and err.startswith("tracekit fetch-xray: error: ") and said in err
    assert not (tmp_path / "out.json").exists()


def test_time_windows_refuse_bare_numbers_and_count_at_most_the_limit():
    from tracekit.aws import time_windows
    from tracekit.aws.times import MAX_WINDOWS
    from tracekit.errors import ArgumentError

    for w in (6, 6.0, "6", " 1e3 "):
        with pytest.raises(ArgumentError, match="has no unit"):
            time_windows("2026-11-20T09:00Z", "2026-11-20T10:00Z", window=w)
    assert MAX_WINDOWS == 100_000
    assert len(time_windows("2026-11-20T00:00Z", "2026-11-21T00:00Z", window="1s")) == 86_400  # under the limit
    assert len(time_windows("2026-11-20T09:00Z", "2026-11-20T21:00Z", window="6 h")) == 2


def test_cli_unknown_profile_is_one_line_not_a_traceback(fake_credentials, monkeypatch, capsys, tmp_path):
    rc, err = _fetch_cli(capsys, tmp_path, "--profile", "no-such-profile")
    assert rc == 1 and err.count("\n") == 1
    assert err.startswith("tracekit fetch-xray: error: AWS profile 'no-such-profile' not found")
    monkeypatch.setenv("AWS_PROFILE", "ghost")  # the same from the environment
    from tracekit.aws import XRayAuthError, fetch_xray_sampling

    with pytest.raises(XRayAuthError, match="AWS profile 'ghost' not found"):
        fetch_xray_sampling(region=REGION)


def test_query_takes_the_query_after_an_option_and_refuses_a_negative_limit(capsys):
    import tracekit as tk
    from tracekit.cli import main

    small = str(tk.examples.path("checkout-small"))
    spans = tk.read(small)
    n_err = int(spans.loc[spans["status"] == "error", "trace_id"].nunique())
    assert main(["query", small, "--limit", "2", "{ status = error }"]) == 0  # before: exit 2, query unrecognized
    out = capsys.readouterr().out
    assert out.startswith(f"{n_err} traces, ") and f": showing {min(2, n_err)}" in out
    assert out.count("\ntrace ") == min(2, n_err)
    assert main(["query", small, "{ status = error }", "--limit", "-5"]) == 1  # before: silently all traces
    assert capsys.readouterr().err == "tracekit query: error: --limit must be 0 (all traces) or more, got -5\n"
    with pytest.raises(SystemExit) as ei:
        main(["query", small, "--bogus", "{ }"])
    assert ei.value.code == 2 and "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_max_summaries_counts_distinct_traces_and_refuses_a_negative_count():
    """A trace listed in two windows counted twice toward max_summaries: 2 rows returned for max_summaries=3
    while 3 distinct traces were listed (fetch_xray's max_traces counts distinct ids)."""
    from tracekit.aws import fetch_xray_summaries
    from tracekit.errors import ArgumentError

    class Windows:
        """One summary per page; window 0 lists traces 1, 2; window 1 lists 2 (again: it spans the boundary), 3."""

        meta = type("Meta", (), {"region_name": REGION})()

        def __init__(self):
            self.windows = 0

        def get_paginator(self, op):
            fake = self

            class Pages:
                def paginate(self, **kw):
                    fake.windows += 1
                    for i in ([1, 2], [2, 3])[fake.windows - 1]:
                        yield {"TraceSummaries": [{"Id": _xid(i)}]}

            return Pages()

    df = fetch_xray_summaries("2019-09-18T19:00Z", "2019-09-18T21:00Z", window="1h", client=Windows(), max_summaries=3)
    assert df["xray_trace_id"].tolist() == [_xid(1), _xid(2), _xid(3)]
    assert df["window"].tolist() == [0, 0, 1]
    with pytest.raises(ArgumentError, match="max_summaries must be a whole number >= 0, got -1"):
        fetch_xray_summaries("2019-09-18T19:00Z", "2019-09-18T21:00Z", window="1h", client=Windows(), max_summaries=-1)


def test_fetch_xray_cli_out_that_is_a_directory_fails_before_any_request(fake_credentials, monkeypatch, capsys,
                                                                          tmp_path):
    """Before: the whole fetch ran, then os.replace failed, leaving a .tmp-*.part file beside --out and the
    fetched pages in an unnamed temporary folder."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    (tmp_path / "out.json").mkdir()
    rc, err = _fetch_cli(capsys, tmp_path)  # the endpoint (port 9) refuses connections: a request would say so
    assert rc == 1 and err == (f"tracekit fetch-xray: error: --out {str(tmp_path / 'out.json')!r} is a directory: "
                               f"give a file name such as {str(tmp_path / 'out.json' / 'traces.json.gz')!r}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "tmp"]
    assert list((tmp_path / "tmp").iterdir()) == []  # no temporary cache folder left


def test_fetch_xray_cli_write_failure_leaves_no_part_file_and_says_where_the_pages_are(monkeypatch, capsys, tmp_path):
    import errno
    import os
    import tempfile

    import tracekit.aws
    from tracekit.cli import main

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()

    def fake_fetch(start, end, *, cache_dir, **kw):
        page = {"Traces": [_trace(1)], "UnprocessedTraceIds": []}
        cache_dir.mkdir(parents=True, exist_ok=True)
        (cache_dir / "batch-x-00000-a0-p000.json").write_text(json.dumps(page))
        spans = tracekit.read_xray(page)
        spans.attrs["xray_fetch"] = {"got": {"unprocessed_ids": []}}
        return spans

    def full_disk(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    monkeypatch.setattr(tracekit.aws, "fetch_xray", fake_fetch)
    monkeypatch.setattr(os, "replace", full_disk)
    out = tmp_path / "out" / "t.json"
    rc = main(["fetch-xray", "--trace-id", _xid(1), "--no-progress", "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 1 and err.endswith(f"tracekit fetch-xray: error: No space left on device ({out})\n")
    kept = [p for p in (tmp_path / "tmp").iterdir()]
    assert len(kept) == 1 and f"--cache {kept[0] / 'cache'}" in err  # the fetched page is kept and named
    assert list(out.parent.iterdir()) == []  # no .tmp-*.part file


def test_dask_from_pandas_checks_npartitions_and_makes_no_empty_partitions_on_a_local_cluster():
    """npartitions=-2 raised a bare OverflowError; 0 silently gave 1 partition; more partitions than traces were
    all made (1,000 partitions of 40 traces: 31 s, 10**6: minutes). Results equal the pandas ones either way."""
    pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    import pandas as pd

    import tracekit as tk
    from tracekit.errors import ArgumentError

    spans = tk.read(tk.examples.path("checkout-small"))
    n_traces = spans["trace_id"].nunique()
    assert n_traces == 40
    for bad in (-2, 0, 2.5, True):
        with pytest.raises(ArgumentError, match="npartitions must be a whole number >= 1"):
            tk.dask.from_pandas(spans, bad)
    want_bd = tk.critical_path_breakdown(tk.critical_path(spans), by="service")
    want_st = tk.self_time(spans).sort_values(["trace_id", "span_id"]).reset_index(drop=True)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0") as cluster, \
            distributed.Client(cluster):
        for asked, made in ((1, 1), (7, 7), (200, n_traces)):
            ds = tk.dask.from_pandas(spans, asked)
            assert ds.npartitions == made
            assert len(tk.dask.split_traces(ds)) == 0
            sizes = ds.map_partitions(len).compute().tolist()
            assert sum(sizes) == len(spans)  # hash partitioning: some of the 40 are empty, which the analyses take
            pd.testing.assert_frame_equal(tk.dask.critical_path_breakdown(ds, by="service").compute(), want_bd, rtol=1e-9)
            got_st = tk.dask.self_time(ds).compute().sort_values(["trace_id", "span_id"]).reset_index(drop=True)
            pd.testing.assert_frame_equal(got_st, want_st)


@pytest.mark.parametrize("bad", [-1, 0, 1.5])
def test_dask_npartitions_below_one_is_an_argument_error_everywhere(bad):
    """read(npartitions=-1) / keep_traces_whole(npartitions=-1): a bare OverflowError from the shuffle; 0: silently
    the default."""
    pytest.importorskip("dask.dataframe")
    import dask

    import tracekit as tk
    from tracekit.errors import ArgumentError

    path = tk.examples.path("checkout-small")
    with dask.config.set(scheduler="sync"):
        ds = tk.dask.from_pandas(tk.read(path), 2)
        for name, call in (("read", lambda: tk.dask.read(path, npartitions=bad)),
                           ("read_xray", lambda: tk.dask.read_xray(path, npartitions=bad)),
                           ("keep_traces_whole", lambda: tk.dask.keep_traces_whole(ds, npartitions=bad)),
                           ("keep_requests_whole", lambda: tk.dask.keep_requests_whole(ds, npartitions=bad))):
            with pytest.raises(ArgumentError, match=rf"^{name}: npartitions must be a whole number >= 1"):
                call()


def test_fetch_metrics_takes_span_times_without_a_nanosecond_warning():
    """Span times carry nanoseconds: fetch_metrics(start=spans.start.min()) warned "Discarding nonzero
    nanoseconds in conversion" (pandas) on every call; CloudWatch takes whole milliseconds at best anyway."""
    import datetime as dt
    import warnings

    import pandas as pd

    from tracekit.aws.metrics import fetch_metrics

    sent = []

    class CloudWatch:
        meta = type("Meta", (), {"region_name": REGION})()

        def get_metric_data(self, **kw):
            sent.append((kw["StartTime"], kw["EndTime"]))
            return {"MetricDataResults": []}

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # period 3600: a multiple of every retention period, so no retention warning once 2026-11-20 is more than 15
        # days old (with the default 60 s this test failed from 2026-12-05 on, on that warning made an error)
        fetch_metrics([{"namespace": "N", "metric": "M"}], pd.Timestamp("2026-11-20T09:00:00.000000001Z"),
                      pd.Timestamp("2026-11-20T10:00:00.000001999Z"), client=CloudWatch(), period=3600)
    utc = dt.UTC
    assert sent == [(dt.datetime(2026, 11, 20, 9, 0, tzinfo=utc), dt.datetime(2026, 11, 20, 10, 0, 0, 1, tzinfo=utc))]


def test_fetch_xray_sampling_checks_its_times_before_any_request():
    """start='yesterday' made both requests, then failed; end before start returned 0 statistics rows silently."""
    from tracekit.aws import fetch_xray_sampling
    from tracekit.errors import ArgumentError

    calls = []

    class XRay:
        meta = type("Meta", (), {"region_name": REGION})()

        def get_paginator(self, op):
            calls.append(op)

            class Pages:
                def paginate(self, **kw):
                    yield {"SamplingRuleRecords": [], "SamplingStatisticSummaries": [
                        {"RuleName": "r", "Timestamp": 1763629200.0, "RequestCount": 10, "SampledCount": 1}]}

            return Pages()

    with pytest.raises(ArgumentError, match="start='yesterday' is not a time"):
        fetch_xray_sampling("yesterday", client=XRay())
    with pytest.raises(ArgumentError, match=r"end \(2025-11-20T08:00:00\+00:00\) must be after start"):
        fetch_xray_sampling("2025-11-20T10:00Z", "2025-11-20T08:00Z", client=XRay())
    assert calls == []
    info = fetch_xray_sampling("2025-11-20T09:00Z", "2025-11-20T10:00Z", client=XRay())  # 1763629200 = 09:00Z
    assert info.stats["request_count"].tolist() == [10] and len(calls) == 2


def test_a_failed_chunk_stops_the_chunks_not_yet_started_even_while_an_earlier_one_runs():
    """The caller cancelled the queued chunks only when the *first submitted* chunk's result came back: while it
    ran, a worker freed by a failing chunk took every next chunk (against a failing endpoint, each with botocore's
    whole retry budget: 2 workers, 24 traces, max_attempts=3 -> 16 HTTP requests, 19.8 s; now 8, 6.4 s)."""
    import threading

    from botocore.exceptions import ClientError

    from tracekit.aws import XRayFetchError, fetch_xray

    release = threading.Event()
    asked: list[list[str]] = []

    class XRay(_FakeXRay):
        def get_paginator(self, op):
            if op == "get_trace_summaries":
                return super().get_paginator(op)
            fake = self

            class Pages:
                def paginate(self, TraceIds):
                    asked.append(list(TraceIds))
                    if TraceIds[0] == _xid(1):  # chunk 0: still running when chunk 1 fails
                        release.wait(timeout=1)
                        yield {"Traces": [fake.traces[i] for i in TraceIds]}
                        return
                    raise ClientError({"Error": {"Code": "ServiceUnavailableException", "Message": "down"}},
                                      "BatchGetTraces")

            return Pages()

    with pytest.raises(XRayFetchError, match="ServiceUnavailableException"):
        try:
            fetch_xray("2019-09-18T19:00Z", "2019-09-18T20:00Z", client=XRay(25), progress=False, max_workers=2)
        finally:
            release.set()
    assert sorted(a[0] for a in asked) == [_xid(1), _xid(6)]  # chunks 0 and 1; before: all 5 chunks asked


def test_documents_the_reader_reads_are_not_refused_by_the_fetch(tmp_path):
    """A string cut inside an emoji (a lone-surrogate escape, as JSON.stringify writes it) or Python's NaN in a
    Document: tk.read_xray reads them (U+FFFD, with a warning), but fetch_xray's check of each page refused the
    whole fetch ("Document is not valid JSON") — also against moto (r_surrogate_moto.py)."""
    import warnings

    from tracekit.aws import fetch_xray

    fake = _FakeXRay(3)
    cut = json.loads(fake.traces[_xid(1)]["Segments"][0]["Document"])
    cut["name"] = "checkout \ud83d"  # json.dumps writes the lone surrogate as the escape \ud83d
    fake.traces[_xid(1)]["Segments"][0]["Document"] = json.dumps(cut)
    nan = json.loads(fake.traces[_xid(2)]["Segments"][0]["Document"])
    nan["metadata"] = {"default": {"ratio": float("nan")}}
    fake.traces[_xid(2)]["Segments"][0]["Document"] = json.dumps(nan)  # allow_nan: NaN, as Python writes it
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spans = fetch_xray(trace_ids=list(fake.traces), client=fake, progress=False, cache_dir=tmp_path / "c")
    assert sorted(spans["service"]) == ["checkout \ufffd", "svc2", "svc3"]
    assert sum("lone-surrogate" in str(w.message) for w in caught) == 1  # said once, by the reader
    assert spans.attrs["xray_fetch"]["got"]["traces"] == 3


def test_coverage_audit_window_keeps_in_progress_segments():
    """With start=, a segment still in progress (no end) was dropped (NaT >= start is False): a service that sent
    only in-progress segments in the window left the audit (1 row instead of 2)."""
    import pandas as pd

    import tracekit as tk
    from tracekit.aws import xray_coverage_audit

    spans = tk.spans_from_columns({
        "trace_id": ["5759e988bd862e3fe1be46a994272793"] * 3,
        "span_id": ["53995c3f42cd8ad8", "13995c3f42cd8ad8", "23995c3f42cd8ad8"],
        "parent_id": [None, "53995c3f42cd8ad8", "53995c3f42cd8ad8"],
        "service": ["checkout", "worker", "mailer"], "name": ["checkout", "job", "send"],
        "kind": ["server", "server", "server"],
        "start": [0, 1_000_000, 20_000_000_000], "end": [9_000_000, None, 21_000_000_000]})
    before = spans.copy(deep=True)
    audit = xray_coverage_audit(spans=spans, checks=(), start=pd.Timestamp(0, tz="UTC"), end="1970-01-01T00:00:10Z")
    assert audit["service"].tolist() == ["checkout", "worker"]  # mailer started after the window ends
    assert audit["seen_in_traces"].tolist() == [True, True] and audit["segments"].tolist() == [1, 1]
    pd.testing.assert_frame_equal(spans, before)


def test_query_lines_of_spans_sharing_an_id_show_their_own_selected_values():
    """Two spans of one trace with the same span id (a repeated id, e.g. an SDK retry reusing it): each line showed
    the select() values of the first of them (both lines duration=10000000; the second is 30 ms). Since session 43
    a span exported twice is one span in TraceQL (the kernel tree's copy: the longer, 30 ms): one line, its own
    values."""
    import pandas as pd

    import tracekit as tk
    from tracekit.cli_query import format_matches

    tid = "5759e988bd862e3fe1be46a994272793"
    spans = tk.spans_from_columns({
        "trace_id": [tid] * 3, "span_id": ["53995c3f42cd8ad8", "13995c3f42cd8ad8", "13995c3f42cd8ad8"],
        "parent_id": [None, "53995c3f42cd8ad8", "53995c3f42cd8ad8"], "service": ["api", "db", "db"],
        "name": ["GET /", "query", "query"], "kind": ["server", "client", "client"],
        "start": [0, 1_000_000, 20_000_000], "end": [60_000_000, 11_000_000, 50_000_000]})
    before = spans.copy(deep=True)
    text = format_matches(spans, tk.traceql(spans, "{ kind = client } | select(duration)"), limit=0)
    assert text.splitlines()[3:] == [
        "  +     20.0 ms       30.0 ms  db  query  [client, unset]  duration=30.0 ms",  # in ms since session 45 (was 30000000, ns)
    ]
    pd.testing.assert_frame_equal(spans, before)


def test_summary_latency_lines_count_the_requests_their_percentiles_are_over(capsys, tmp_path):
    """4 requests, one still in progress: the percentiles are over the 3 with a duration, but the line said
    "(root span duration, 4 requests)"; the extent line likewise said 4 traces."""
    import tracekit as tk
    from tracekit.cli import format_summary

    ids = [f"{i + 1:032x}" for i in range(4)]
    spans = tk.spans_from_columns({
        "trace_id": ids, "span_id": [f"{i + 1:016x}" for i in range(4)], "parent_id": [None] * 4,
        "service": ["api"] * 4, "name": ["GET /"] * 4, "kind": ["server"] * 4, "start": [0, 0, 0, 0],
        "end": [10_000_000, 20_000_000, 30_000_000, None]})
    lines = format_summary(spans).splitlines()
    assert lines[3] == ("request latency ms (root span duration, 3 finished requests; 1 in progress, not counted): "
                        "p50 20.0  p95 30.0  p99 30.0")
    assert lines[4] == ("trace extent ms (first start to last end, async work included, 3 finished traces; 1 in "
                        "progress, not counted): p50 20.0  p95 30.0  p99 30.0")
    done = format_summary(spans.iloc[:3]).splitlines()  # all finished: the line as before
    assert done[3] == "request latency ms (root span duration, 3 requests): p50 20.0  p95 30.0  p99 30.0"
