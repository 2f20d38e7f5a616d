"""fetch_metrics against a real moto server on 127.0.0.1 (real HTTP, real boto3 client), and paging and
errors with a client that enforces what moto does not (NextToken pages, a refused call)."""

from __future__ import annotations

import datetime as dt
import time

import pandas as pd
import pytest

import tracekit as tk
from tracekit.errors import ArgumentError, TraceKitError

from .test_xray_live import FAKE_SECRET, REGION, _reset, fake_credentials, moto_url  # noqa: F401  (fixtures)

boto3 = pytest.importorskip("boto3")


def test_fetch_metrics_from_moto(moto_url):  # noqa: F811
    _reset(moto_url)
    cw = boto3.client("cloudwatch", endpoint_url=moto_url, region_name=REGION)
    t0 = pd.Timestamp(time.time() - 3600, unit="s", tz="UTC").floor("min")
    truth = {}
    for pod, base in (("cart-1", 10.0), ("cart-2", 50.0)):
        data = []
        for i in range(20):
            t = t0 + pd.Timedelta(minutes=i)
            v = base + i
            truth[(pod, t)] = v
            data.append({"MetricName": "CpuUsageRate", "Dimensions": [{"Name": "PodName", "Value": pod},
                                                                       {"Name": "ServiceName", "Value": "cart"}],
                         "Timestamp": t.to_pydatetime(), "Value": v, "Unit": "Percent"})
        cw.put_metric_data(Namespace="Nezha", MetricData=data)
    queries = [{"namespace": "Nezha", "metric": "CpuUsageRate", "dimensions": {"PodName": p, "ServiceName": "cart"}}
               for p in ("cart-1", "cart-2")]
    m = tk.fetch_metrics(queries, t0 - pd.Timedelta("1min"), t0 + pd.Timedelta("30min"), period=60,
                         endpoint_url=moto_url, region=REGION)
    tk.validate_metrics(m)
    assert len(m) == 40 and set(m["name"]) == {"Nezha/CpuUsageRate"}
    assert set(m["service"]) == {"cart"} and set(m["host"]) == {"cart-1", "cart-2"}
    got = {(h, t): v for h, t, v in zip(m["host"], m["time"], m["value"], strict=True)}
    assert got == truth
    assert m.attrs["requests"] >= 1 and set(m["source"]) == {"cloudwatch"}


class _PagingClient:
    """GetMetricData in pages of 3 timestamps per result (the real API pages by data points)."""

    def __init__(self, n: int = 8, fail: Exception | None = None):
        self.calls: list[dict] = []
        self.n, self.fail = n, fail
        self.meta = type("M", (), {"region_name": REGION})()

    def get_metric_data(self, **kw):
        self.calls.append(kw)
        if self.fail is not None:
            raise self.fail
        page = int(kw.get("NextToken", "0"))
        t0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        out = []
        for q in kw["MetricDataQueries"]:
            idx = range(3 * page, min(3 * page + 3, self.n))
            out.append({"Id": q["Id"], "Label": q["Id"], "StatusCode": "Complete" if 3 * page + 3 >= self.n else "PartialData",
                        "Timestamps": [t0 + dt.timedelta(minutes=i) for i in idx], "Values": [float(i) for i in idx]})
        resp = {"MetricDataResults": out, "Messages": [], "ResponseMetadata": {}}
        if 3 * page + 3 < self.n:
            resp["NextToken"] = str(page + 1)
        return resp


def test_fetch_metrics_follows_next_token_and_splits_queries():
    c = _PagingClient(n=8)
    qs = [{"namespace": "N", "metric": f"m{i}"} for i in range(501)]
    # a fixed past day: CloudWatch would keep only hourly periods of it, and that is said
    with pytest.warns(UserWarning, match="501 of 501 queries will come back empty"):
        m = tk.fetch_metrics(qs, "2024-01-01", "2024-01-02", client=c)
    # 501 queries: two requests (500 + 1), each 3 pages of 3, 3 and 2 points
    assert len(c.calls) == 6 and [len(k["MetricDataQueries"]) for k in c.calls] == [500] * 3 + [1] * 3
    assert [k.get("NextToken") for k in c.calls[:3]] == [None, "1", "2"]
    assert len(m) == 501 * 8
    one = m[m["name"] == "N/m7"]
    assert one["value"].tolist() == [float(i) for i in range(8)]
    assert one["time"].is_monotonic_increasing
    with pytest.warns(UserWarning) as said:
        m2 = tk.fetch_metrics(qs[:1], "2024-01-01", "2024-01-02", client=_PagingClient(n=8), max_pages=2)
    text = " | ".join(str(w.message) for w in said)
    assert "1 of 1 queries will come back empty" in text and "1 of 1 query ended not Complete" in text
    assert len(m2) == 6 and m2.attrs["truncated"] is True


def test_fetch_metrics_errors_say_what_to_do_and_hide_secrets():
    from botocore.stub import Stubber

    cw = boto3.client("cloudwatch", region_name=REGION)  # the fake credentials of the autouse fixture
    with Stubber(cw) as stub:
        stub.add_client_error("get_metric_data", service_error_code="AccessDenied",
                              service_message=f"not allowed for key {FAKE_SECRET}")
        with pytest.raises(TraceKitError) as ei, pytest.warns(UserWarning, match="will come back empty"):
            tk.fetch_metrics([{"namespace": "N", "metric": "m"}], "2024-01-01", "2024-01-02", client=cw)
    assert FAKE_SECRET not in str(ei.value) and "GetMetricData" in str(ei.value)
    with pytest.raises(ArgumentError, match="period"):
        tk.fetch_metrics([{"namespace": "N", "metric": "m", "period": 90}], "2024-01-01", "2024-01-02",
                         client=_PagingClient())
    with pytest.raises(ArgumentError, match="needs 'namespace' and 'metric'"):
        tk.fetch_metrics([{"metric": "m"}], "2024-01-01", "2024-01-02", client=_PagingClient())
    with pytest.raises(ArgumentError, match="not before"):
        tk.fetch_metrics([{"namespace": "N", "metric": "m"}], "2024-01-02", "2024-01-01", client=_PagingClient())


@pytest.mark.parametrize(("query", "match"), [
    ({"namespace": "AWS/Lambda", "metric": "Duration", "dimensions": "FunctionName=pay"},
     r"query 0: dimensions must be a dict of name → value, got 'FunctionName=pay'"),
    ({"namespace": "AWS/Lambda", "metric": "Duration", "dimensions": [{"Name": "FunctionName", "Value": "pay"}]},
     r"query 0: dimensions must be a dict"),
    ({"namespace": "AWS/Lambda", "metric": "Duration", "period": "1m"}, r"query 0: period must be a number of seconds, got '1m'"),
])
def test_fetch_metrics_query_fields_of_the_wrong_type_are_named(query, match):
    """A dimensions string or the API's own list form raised a bare AttributeError ('str' object has no attribute
    'items'), a period of '1m' a bare ValueError, before any call."""
    from tracekit.aws.metrics import metric_data_queries

    with pytest.raises(ArgumentError, match=match):
        metric_data_queries([query], period=60, stat="Average")
