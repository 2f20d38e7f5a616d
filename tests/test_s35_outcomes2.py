"""A request's outcome when the data cannot say it (review s35, area "outcomes2").

- a request whose root span is still in progress (an X-Ray ``in_progress`` segment, a span with no end) and
  carries no outcome yet is unknown — neither failed nor ok: ``trace_outcomes`` says <NA> on its row,
  ``failed_share`` leaves it out of the denominator, and health, the CLI summary and the Dask health path say
  how many were left out;
- the X-Ray reader gives an in-progress segment without a flag status ``unset`` (it had not answered), not ``ok``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.cli import format_summary
from tracekit.core import failed_share, trace_outcomes, unknown_outcomes

MS = 1_000_000


def _requests(status: list[str], end: list, fault: list[bool] | None = None) -> pd.DataFrame:
    """One root span per trace (a request each), trace i+1 of status[i] ending at end[i] ms (None: in progress)."""
    n = len(status)
    cols = {
        "trace_id": [f"{i + 1:032x}" for i in range(n)], "span_id": [f"{i + 1:016x}" for i in range(n)],
        "parent_id": [None] * n, "service": ["web"] * n, "name": ["GET /"] * n, "kind": ["server"] * n,
        "start": [0] * n, "end": [None if e is None else e * MS for e in end], "status": status,
    }
    if fault is not None:
        cols["fault"] = fault
    return tk.spans_from_columns(cols)


@pytest.fixture(scope="module")
def mixed() -> pd.DataFrame:
    # 10 requests: 2 failed, 5 ok, 3 still in progress (no end, nothing recorded yet) -> 2 of 7 known failed
    return _requests(["error"] * 2 + ["ok"] * 5 + ["unset"] * 3, [10] * 7 + [None] * 3)


def test_in_progress_request_is_unknown_not_ok(mixed):
    oc = trace_outcomes(mixed)
    assert oc["failed"].isna().tolist() == [False] * 7 + [True] * 3
    assert oc["client_error"].isna().sum() == 3 and oc["throttled"].isna().sum() == 3
    assert oc["failed"].iloc[:7].tolist() == [True, True] + [False] * 5
    # left out of the share: 2 of the 7 requests whose outcome is known, not 2 of 10
    share, n = failed_share(oc)
    assert (share, n) == (pytest.approx(2 / 7), 10)
    assert unknown_outcomes(oc) == 3
    # an in-progress root that records an outcome already (a fault flag) is known: failed
    spans = _requests(["error", "ok", "unset"], [None, 10, None], fault=[True, False, False])
    oc = trace_outcomes(spans)
    assert oc["failed"].tolist() == [True, False, pd.NA] and unknown_outcomes(oc) == 1
    assert failed_share(oc) == (0.5, 3)


def test_every_request_in_progress_gives_no_share():
    # status recorded elsewhere (an async consumer trace), every request in progress: no share, not 0
    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32, "2" * 32], "span_id": ["a" * 16, "b" * 16], "parent_id": [None, None],
        "service": ["web", "worker"], "name": ["GET /", "consume"], "kind": ["server", "consumer"],
        "start": [0, 0], "end": [None, 5 * MS], "status": ["unset", "error"]})
    oc = trace_outcomes(spans)
    assert oc["request"].tolist() == [True, False]
    share, n = failed_share(oc)
    assert np.isnan(share) and n == 1 and unknown_outcomes(oc) == 1
    words = tk.health_report(spans).set_index("check").loc["failed_request_ratio", "explanation"]
    assert "still in progress" in words and "%" not in words


def test_health_and_summary_say_how_many_were_left_out(mixed):
    row = tk.health_report(mixed).set_index("check").loc["failed_request_ratio"]
    assert row["value"] == pytest.approx(2 / 7)
    assert row["explanation"].startswith("28.6% of 7 requests with a known outcome failed")
    assert "3 requests still in progress" in row["explanation"]
    line = format_summary(mixed).splitlines()[2]
    assert "of 7 requests with a known outcome; 3 still in progress" in line and "28.57%" in line
    # a frame with every request finished says what it said before
    done = _requests(["error", "ok", "ok", "ok"], [10] * 4)
    assert tk.health_report(done).set_index("check").loc["failed_request_ratio", "explanation"].startswith(
        "25.0% of 4 requests failed (their root span")


def test_dask_health_leaves_out_the_same_requests(mixed):
    pytest.importorskip("dask.dataframe")
    from tracekit.dask import from_pandas
    from tracekit.dask import health_report as dask_health

    ddf = from_pandas(mixed, npartitions=2)  # traces 1-5 and 6-10: in-progress requests in one partition
    got = dask_health(ddf, checks=["failed_request_ratio"]).set_index("check").loc["failed_request_ratio"]
    want = tk.health_report(mixed, checks=["failed_request_ratio"]).set_index("check").loc["failed_request_ratio"]
    assert got["value"] == pytest.approx(want["value"]) == pytest.approx(2 / 7)
    assert "3 requests still in progress" in got["explanation"]


def test_xray_in_progress_segment_is_unset_and_its_share_unknown(real_traces):
    df = tk.read_xray(real_traces / "otel-contrib-awsxray-testdata/minInProgress.txt")
    assert df["status"].tolist() == ["unset"] and bool(df.loc[0, "in_progress"])
    oc = trace_outcomes(df)
    assert oc["failed"].isna().all()
    assert np.isnan(failed_share(oc)[0])  # was 0.0: a request that had not answered counted as not failed


def test_xray_in_progress_request_beside_complete_ones(real_traces):
    # the real in-progress segment beside a complete real capture (ddbSample: one request): the capture's share
    # is the whole frame's, the in-progress request left out (it was counted as a success)
    ip = tk.read_xray(real_traces / "otel-contrib-awsxray-testdata/minInProgress.txt")
    ddb = tk.read_xray(real_traces / "otel-contrib-awsxray-testdata/ddbSample.txt")
    both = pd.concat([ddb, ip], ignore_index=True)
    want, n_ddb = failed_share(trace_outcomes(ddb))
    share, n = failed_share(trace_outcomes(both))
    assert n == n_ddb + 1 and unknown_outcomes(trace_outcomes(both)) == 1
    assert share == pytest.approx(want)


def test_dask_partition_without_status_counts_its_in_progress_requests():
    # a partition holding only in-progress requests records no status itself (all <NA> there); in the whole they
    # are the in-progress requests left out, not every request of that partition as "no status" would say
    pytest.importorskip("dask.dataframe")
    from tracekit.dask import from_pandas
    from tracekit.dask import health_report as dask_health

    spans = _requests(["error", "ok", "unset", "unset"], [10, 10, None, None])
    ddf = from_pandas(spans, npartitions=2)
    parts = [p.compute() for p in ddf.partitions]
    assert sorted(tk.core.status_recorded(p) for p in parts) == [False, True]  # the case this test is about
    row = dask_health(ddf, checks=["failed_request_ratio"]).set_index("check").loc["failed_request_ratio"]
    assert row["value"] == pytest.approx(1 / 2)  # 1 failed of the 2 finished requests
    assert "2 requests still in progress" in row["explanation"]


# ---------------------------------------------------------------------------------------------- gRPC status codes

def _grpc_otlp(tmp_path, odd: bool) -> pd.DataFrame:
    """Six spans with rpc.grpc.status_code: (kind, code, status) -> whether OTel's gRPC conventions make it an
    error. ``odd`` adds a doubleValue given as a string, which sends the file down the checked (slow) path."""
    import json

    cases = [(2, 13, None), (2, 5, None), (3, 5, None), (3, 0, None), (2, 13, 1), (1, 13, None)]
    spans = []
    for i, (kind, code, st) in enumerate(cases, 1):
        attrs = [{"key": "rpc.system", "value": {"stringValue": "grpc"}},
                 {"key": "rpc.grpc.status_code", "value": {"intValue": str(code)}}]
        if odd:
            attrs.append({"key": "x", "value": {"doubleValue": "1.5"}})
        sp = {"traceId": f"{i:032x}", "spanId": f"{i:016x}", "name": "Get", "kind": kind,
              "startTimeUnixNano": "1", "endTimeUnixNano": "1000001", "attributes": attrs}
        if st is not None:
            sp["status"] = {"code": st}
        spans.append(sp)
    doc = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "s"}}]},
                              "scopeSpans": [{"spans": spans}]}]}
    p = tmp_path / f"grpc{int(odd)}.json"
    p.write_text(json.dumps(doc))
    return tk.read_otlp(p)


@pytest.mark.parametrize("odd", [False, True], ids=["fast", "checked"])
def test_grpc_status_code_sets_an_unset_status_as_semconv_does(tmp_path, odd):
    df = _grpc_otlp(tmp_path, odd)
    # server INTERNAL: error; server NOT_FOUND: not a server error; client NOT_FOUND: error; client OK: not;
    # a status OK set by the span stays; an internal span is not an RPC side
    assert df["status"].tolist() == ["error", "unset", "error", "unset", "ok", "unset"]
    assert tk.core.failed(df).tolist() == [True, False, True, False, False, False]
    assert [a["rpc.grpc.status_code"] for a in df["attributes"]] == [13, 5, 5, 0, 13, 13]  # kept


def test_grpc_status_code_in_spans_from_columns():
    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32] * 4, "span_id": ["a" * 16, "b" * 16, "c" * 16, "d" * 16],
        "parent_id": [None, "a" * 16, "a" * 16, "a" * 16], "service": ["w"] * 4, "name": ["x"] * 4,
        "kind": ["server", "client", "server", "server"], "start": [0] * 4, "end": [1] * 4,
        "status": ["unset", "unset", "unset", "ok"],
        "attributes": [{"rpc.grpc.status_code": 14}, {"rpc.grpc.status_code": "5"}, {"rpc.grpc.status_code": 5},
                       {"rpc.grpc.status_code": 2}]})
    assert spans["status"].tolist() == ["error", "error", "unset", "ok"]
    oc = trace_outcomes(spans)
    assert oc["failed"].tolist() == [True]  # the root: a server span with UNAVAILABLE
