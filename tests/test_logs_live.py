"""fetch_logs against the local moto server (CloudWatch Logs FilterLogEvents over real HTTP, real botocore)."""

from __future__ import annotations

import json
import time

import pytest

import tracekit as tk

from . import test_xray_live as _live
from .test_xray_live import FAKE_KEY, FAKE_SECRET, FAKE_TOKEN, REGION, _reset

moto_url = _live.moto_url  # the X-Ray tests' moto server fixture, and their fake credentials
fake_credentials = _live.fake_credentials

boto3 = pytest.importorskip("boto3")

A = "5759e988bd862e3fe1be46a994272793"
B = "65e1a6d00123456789abcdef01234567"
T0 = (int(time.time()) - 120) * 1000  # ms; CloudWatch (and moto) refuse events older than 14 days


def _xray(t: str) -> str:
    return tk.trace_id_to_xray(t)


@pytest.fixture()
def groups(moto_url):
    _reset(moto_url)
    c = boto3.client("logs", endpoint_url=moto_url, region_name=REGION)
    events = {
        "/aws/lambda/pay": [
            {"timestamp": T0 + 1, "message": json.dumps({"level": "INFO", "message": "charging", "service": "pay",
                                                         "xray_trace_id": _xray(A)})},
            {"timestamp": T0 + 2, "message": json.dumps({"level": "ERROR", "message": "card declined", "service": "pay",
                                                         "xray_trace_id": _xray(B)})},
            {"timestamp": T0 + 3, "message": f"2023-11-14T22:13:20.003Z\treq-1\tWARN\tretry for {_xray(A)}\n"},
            {"timestamp": T0 + 4, "message": "START RequestId: req-2 Version: $LATEST\n"},
        ] + [{"timestamp": T0 + 10 + i, "message": json.dumps({"level": "DEBUG", "message": f"step {i}",
                                                                "xray_trace_id": _xray(A)})} for i in range(7)],
        "/aws/lambda/ship": [
            {"timestamp": T0 + 5, "message": json.dumps({"level": "INFO", "msg": "shipped", "trace_id": A,
                                                         "span_id": "53995c3f42cd8ad8"})},
        ],
    }
    for g, evs in events.items():
        c.create_log_group(logGroupName=g)
        c.create_log_stream(logGroupName=g, logStreamName="s1")
        c.put_log_events(logGroupName=g, logStreamName="s1", logEvents=evs)
    return events


def test_fetch_logs_of_one_trace_from_two_groups_paged(moto_url, groups):
    df = tk.fetch_logs(_xray(A), log_groups=list(groups), start=T0 / 1e3 - 60, end=T0 / 1e3 + 60,
                       endpoint_url=moto_url, region=REGION, page_size=3)
    tk.validate_logs(df)
    assert set(df["trace_id"]) == {A}
    bodies = df["body"].tolist()
    # 1 + 7 Powertools lines, the text line naming the id (given the id), the ship group's line; not B's, not START
    assert len(df) == 10 and "card declined" not in bodies and not any(b.startswith("START") for b in bodies)
    assert "retry for " + _xray(A) in bodies
    ship = df[df["resource"].map(lambda r: r["log.group"]) == "/aws/lambda/ship"].iloc[0]
    assert ship["span_id"] == "53995c3f42cd8ad8" and ship["service"] == "/aws/lambda/ship"
    assert df.attrs["calls"] >= 4  # page_size 3: the pay group's events come in several pages
    assert str(df["source"].unique()[0]) == "cloudwatch"


def test_fetch_logs_arguments_and_nothing_found(moto_url, groups):
    with pytest.raises(tk.ArgumentError):
        tk.fetch_logs(["nope"], log_groups="/aws/lambda/pay", start=0, end=1, endpoint_url=moto_url, region=REGION)
    with pytest.raises(tk.ArgumentError, match="log_groups"):
        tk.fetch_logs([A], log_groups=[], start=0, end=1, endpoint_url=moto_url, region=REGION)
    none = tk.fetch_logs(["0" * 31 + "1"], log_groups="/aws/lambda/pay", start=T0 / 1e3 - 60, end=T0 / 1e3 + 60,
                         endpoint_url=moto_url, region=REGION)
    assert len(none) == 0
    # start and end by position too, as fetch_metrics and fetch_xray take them: the same records as by keyword
    by_kw = tk.fetch_logs([A], log_groups="/aws/lambda/pay", start=T0 / 1e3 - 60, end=T0 / 1e3 + 60,
                          endpoint_url=moto_url, region=REGION)
    by_pos = tk.fetch_logs([A], T0 / 1e3 - 60, T0 / 1e3 + 60, log_groups="/aws/lambda/pay", endpoint_url=moto_url,
                           region=REGION)
    assert len(by_kw) > 0 and by_pos["body"].tolist() == by_kw["body"].tolist()
    with pytest.raises(tk.ArgumentError, match="end .* is before start"):
        tk.fetch_logs([A], T0 / 1e3 + 60, T0 / 1e3 - 60, log_groups="/aws/lambda/pay", endpoint_url=moto_url,
                      region=REGION)


@pytest.mark.slow  # botocore's own backoff
def test_fetch_logs_throttling_is_retried_and_secrets_never_shown(moto_url, groups):
    session, calls = _live.throttled_session("cloudwatch-logs.FilterLogEvents")
    df = tk.fetch_logs([B], log_groups="/aws/lambda/pay", start=T0 / 1e3 - 60, end=T0 / 1e3 + 60, session=session,
                       endpoint_url=moto_url, region=REGION)
    assert calls["n"] == 3 and df["body"].tolist() == ["card declined"]
    calls["n"] = -100
    with pytest.raises(tk.TraceKitError, match="Throttling") as ei:
        tk.fetch_logs([B], log_groups="/aws/lambda/pay", start=T0 / 1e3 - 60, end=T0 / 1e3 + 60, session=session,
                      endpoint_url=moto_url, region=REGION, max_attempts=2)
    text = str(ei.value) + repr(ei.value)
    assert FAKE_SECRET not in text and FAKE_TOKEN not in text and FAKE_KEY not in text


def test_an_unreachable_endpoint_names_the_service_and_region_it_tried():
    """fetch_logs / fetch_metrics with no server at the endpoint: the message said 'could not reach the X-Ray
    endpoint … in region None' while calling CloudWatch Logs in the region the environment set."""
    dead = "http://127.0.0.1:9"  # the discard port: nothing listens, the connection is refused at once
    with pytest.raises(tk.TraceKitError) as ei:
        tk.fetch_logs([A], log_groups="/aws/lambda/pay", start=T0 / 1e3 - 60, end=T0 / 1e3 + 60,
                      endpoint_url=dead, max_attempts=1)
    text = str(ei.value)
    assert "CloudWatch Logs endpoint" in text and repr(REGION) in text and "X-Ray" not in text
    with pytest.raises(tk.TraceKitError) as ei:
        tk.fetch_metrics([{"namespace": "AWS/Lambda", "metric": "Duration"}], T0 / 1e3 - 60, T0 / 1e3 + 60,
                         endpoint_url=dead, max_attempts=1)
    text = str(ei.value) + repr(ei.value)
    assert "CloudWatch endpoint" in text and repr(REGION) in text and "X-Ray" not in text
    assert FAKE_SECRET not in text and FAKE_TOKEN not in text and FAKE_KEY not in text


@pytest.mark.parametrize("page_size", [0, -5, 10_001, "many"])
def test_fetch_logs_page_size_out_of_range_is_an_argument_error(page_size):
    """page_size=0 was taken as 'no page size' and -5 or 10,001 (FilterLogEvents takes 1-10,000) went to AWS,
    which failed the whole fetch after the client was made."""
    with pytest.raises(tk.ArgumentError, match=r"fetch_logs: page_size must be an integer from 1 to 10,000"):
        tk.fetch_logs([A], log_groups="/aws/lambda/pay", start=0, end=10, page_size=page_size,
                      endpoint_url="http://127.0.0.1:9", max_attempts=1)


def test_fetch_logs_keeps_identical_events_that_are_two_events(moto_url):
    """A loop logging the same line twice in one millisecond on one stream is two events (two eventIds); fetch_logs
    dropped the second as a duplicate of the first (it de-duplicated on time, body and trace id to undo the
    overlap of its own filter-pattern chunks)."""
    _reset(moto_url)
    c = boto3.client("logs", endpoint_url=moto_url, region_name=REGION)
    c.create_log_group(logGroupName="/aws/lambda/batch")
    c.create_log_stream(logGroupName="/aws/lambda/batch", logStreamName="s1")
    line = json.dumps({"level": "INFO", "message": "processed item", "xray_trace_id": _xray(A)})
    c.put_log_events(logGroupName="/aws/lambda/batch", logStreamName="s1",
                     logEvents=[{"timestamp": T0 + 1, "message": line}, {"timestamp": T0 + 1, "message": line},
                                {"timestamp": T0 + 2, "message": line}])
    df = tk.fetch_logs([A], log_groups="/aws/lambda/batch", start=T0 / 1e3 - 60, end=T0 / 1e3 + 60,
                       endpoint_url=moto_url, region=REGION)
    assert len(df) == 3 and df["attributes"].map(lambda a: a["log.event_id"]).nunique() == 3


def test_fetch_logs_one_bad_event_does_not_cost_its_page_neighbours_their_trace(moto_url):
    """A text line naming the asked trace gets the trace id from its message; a page holding one bad record (a
    Powertools line with a span id that is no span id) skipped that fill for the whole page, so the text lines beside
    it were filtered out as matching no asked trace — dropped without a word."""
    _reset(moto_url)
    c = boto3.client("logs", endpoint_url=moto_url, region_name=REGION)
    c.create_log_group(logGroupName="/aws/lambda/pay")
    c.create_log_stream(logGroupName="/aws/lambda/pay", logStreamName="s1")
    bad = json.dumps({"level": "ERROR", "message": "declined", "xray_trace_id": _xray(A), "span_id": "not-a-span"})
    c.put_log_events(logGroupName="/aws/lambda/pay", logStreamName="s1", logEvents=[
        {"timestamp": T0 + 1, "message": f"2023-11-14T22:13:20.003Z\treq-1\tWARN\tretry for {_xray(A)}\n"},
        {"timestamp": T0 + 2, "message": bad},
        {"timestamp": T0 + 3, "message": f"2023-11-14T22:13:20.004Z\treq-1\tINFO\tdone {_xray(A)}\n"}])
    with pytest.warns(tk.TraceFormatWarning, match="not 16 hex digits"):
        df = tk.fetch_logs([A], log_groups="/aws/lambda/pay", start=T0 / 1e3 - 60, end=T0 / 1e3 + 60,
                           endpoint_url=moto_url, region=REGION)
    assert df["body"].tolist() == [f"retry for {_xray(A)}", f"done {_xray(A)}"] and set(df["trace_id"]) == {A}
    assert len(df.attrs["skipped"]) == 1
