"""Session 42, lead: a fetch stopped by Ctrl-C keeps what it read (fetch_xray without a cache, fetch_logs), as a
failure already did. Each test builds its input by construction (a fake X-Ray client, a stubbed CloudWatch Logs
client) and failed on the code before the fix (the plain KeyboardInterrupt carried nothing)."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

import tracekit as tk
from tracekit.aws import FetchInterrupted, fetch_xray

from .test_s41_logs2 import T0, _event, _logs_client

T = 1_700_000_000.0


def _xray_id(k: int) -> str:
    return f"1-{int(T):08x}-{k:024x}"


class _InterruptedXRay:
    """BatchGetTraces answering each asked id with a one-segment trace of 250 ms, and Ctrl-C on the ``stop_at``-th
    call (before answering it)."""

    def __init__(self, stop_at: int):
        self.stop_at, self.calls = stop_at, 0
        self.meta = type("Meta", (), {"region_name": "us-east-1"})()

    def get_paginator(self, op: str):
        fake = self

        class P:
            def paginate(self, TraceIds, **kw):
                fake.calls += 1
                if fake.calls == fake.stop_at:
                    raise KeyboardInterrupt
                yield {"Traces": [{"Id": t, "Segments": [{"Id": f"{k + 1:016x}", "Document": json.dumps(
                    {"id": f"{k + 1:016x}", "name": "checkout", "trace_id": t, "start_time": T,
                     "end_time": T + 0.25})}]} for k, t in enumerate(TraceIds)]}

        return P()


def test_fetch_xray_interrupted_without_a_cache_hands_back_the_traces_fetched():
    ids = [_xray_id(k) for k in range(1, 13)]  # 3 calls of 5, 5 and 2 ids; Ctrl-C on the third
    with pytest.raises(KeyboardInterrupt) as info:
        fetch_xray(trace_ids=ids, client=_InterruptedXRay(stop_at=3), progress=False, max_workers=1)
    err = info.value
    assert isinstance(err, FetchInterrupted), "the 10 traces fetched before Ctrl-C were lost"
    got = err.partial
    assert sorted(got["trace_id"].map(tk.trace_id_to_xray)) == sorted(ids[:10])
    assert (got["duration_ms"] == 250.0).all()
    assert got.attrs["xray_fetch"]["partial"] is True
    assert got.attrs["xray_fetch"]["got"]["not_fetched_ids"] == ids[10:]
    assert err.not_fetched == tuple(ids[10:])
    assert "10 of 12 traces were fetched" in str(err) and "sys.last_value.partial" in str(err)


def test_fetch_xray_interrupted_before_any_answer_says_none_was_fetched():
    ids = [_xray_id(k) for k in range(1, 4)]
    with pytest.raises(FetchInterrupted) as info:
        fetch_xray(trace_ids=ids, client=_InterruptedXRay(stop_at=1), progress=False, max_workers=1)
    assert info.value.partial is None and info.value.not_fetched == tuple(ids)
    assert "0 of 3 traces were fetched" in str(info.value)


def test_fetch_xray_interrupted_with_a_cache_stays_a_plain_keyboard_interrupt(tmp_path):
    # the pages are on disk and a second call resumes: nothing to carry
    ids = [_xray_id(k) for k in range(1, 8)]
    with pytest.raises(KeyboardInterrupt) as info:
        fetch_xray(trace_ids=ids, client=_InterruptedXRay(stop_at=2), progress=False, max_workers=1,
                   cache_dir=tmp_path / "c")
    assert not isinstance(info.value, FetchInterrupted)
    assert tk.read_xray(tmp_path / "c")["trace_id"].nunique() == 5


class _InterruptOnSecondCall:
    """A CloudWatch Logs client whose first FilterLogEvents call answers ``page`` and whose second is Ctrl-C."""

    def __init__(self, page: dict):
        self.inner = _logs_client([page])
        self.calls = 0

    def get_paginator(self, op: str):
        self.calls += 1
        if self.calls == 2:
            class P:
                def paginate(self, **kw):
                    raise KeyboardInterrupt
                    yield  # a generator, as botocore's
            return P()
        return self.inner.get_paginator(op)


def test_fetch_logs_interrupted_hands_back_the_records_read():
    ids = [f"{i + 1:032x}" for i in range(12)]  # 10 ids a call: the second call (ids 11, 12) is interrupted
    client = _InterruptOnSecondCall({"events": [_event(1, ids[0]), _event(2, ids[3])]})
    with pytest.raises(KeyboardInterrupt) as info:
        tk.fetch_logs(ids, T0 / 1e3 - 60, T0 / 1e3 + 60, log_groups="/aws/lambda/pay", client=client)
    err = info.value
    assert isinstance(err, FetchInterrupted), "the 2 records read before Ctrl-C were lost"
    assert err.partial["body"].tolist() == ["step 1", "step 2"]
    assert err.partial.attrs["partial"] is True
    assert err.not_fetched == tuple(ids[10:])
    assert "2 records" in str(err) and "2 of 12 trace ids" in str(err)


# ------------------------------------------------------------------ severity: the number decides, the text is kept

def _otlp_logs(records: list[tuple[object, object]], bad: bool = False) -> bytes:
    recs = []
    for k, (text, num) in enumerate(records):
        d: dict = {"timeUnixNano": str(1_700_000_000_000_000_000 + k), "body": {"stringValue": f"r{k}"}}
        if text is not None:
            d["severityText"] = text
        if num is not None:
            d["severityNumber"] = num
        recs.append(d)
    if bad:  # a record the fast decode refuses (an id that is no id): the checked walk reads the file
        recs.append({"timeUnixNano": "1", "body": {"stringValue": "bad"}, "traceId": "xyz"})
    return json.dumps({"resourceLogs": [{"resource": {"attributes": []}, "scopeLogs": [{"logRecords": recs}]}]}).encode()


# (text, number) -> (severity_text, severity_number, text kept in attributes)
SEVERITY_CASES = [
    (("INFO", 17), ("ERROR", 17, "INFO")),  # a collector's severity parser mapped the level to ERROR: the number decides
    (("ERROR", 9), ("INFO", 9, "ERROR")),
    (("warning", 14), ("WARN", 14, None)),  # the text agrees: nothing to keep
    (("ERROR", None), ("ERROR", 17, None)),  # no number: the text decides
    (("audit", 21), ("FATAL", 21, "audit")),  # no known word: kept, as before
    ((None, 5), ("DEBUG", 5, None)),
    (("Critical", 0), ("FATAL", 21, None)),  # 0 is unspecified: the text decides
]


@pytest.mark.parametrize("bad", [False, True], ids=["fast decode", "checked walk"])
def test_read_logs_severity_number_decides_and_a_contradicting_text_is_kept(bad):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tk.TraceFormatWarning)  # the bad record's, said once
        logs = tk.read_logs(_otlp_logs([c for c, _ in SEVERITY_CASES], bad=bad), errors="skip")
    assert len(logs.attrs["skipped"]) == int(bad)
    assert len(logs) == len(SEVERITY_CASES)
    for (_, (text, number, kept)), (_, row) in zip(SEVERITY_CASES, logs.iterrows(), strict=True):
        assert (row["severity_text"], int(row["severity_number"])) == (text, number)
        assert dict(row["attributes"]).get("severityText") == kept


def test_logs_from_columns_severity_number_decides_and_keeps_the_text():
    cols = {"time": list(range(len(SEVERITY_CASES))), "body": ["x"] * len(SEVERITY_CASES),
            "severity_text": [c[0] for c, _ in SEVERITY_CASES], "severity_number": [c[1] for c, _ in SEVERITY_CASES]}
    logs = tk.logs_from_columns(cols)
    assert logs["severity_text"].tolist() == [w[0] for _, w in SEVERITY_CASES]
    assert logs["severity_number"].astype(int).tolist() == [w[1] for _, w in SEVERITY_CASES]
    assert [a.get("severity_text") for a in logs["attributes"]] == [w[2] for _, w in SEVERITY_CASES]


def test_an_error_by_number_is_an_error_record_on_its_span():
    # the record a collector mapped to ERROR (text "INFO", number 17) is an ERROR log on its span (it read INFO)
    tid, sid = "0" * 31 + "1", "a" * 16
    spans = tk.spans_from_columns({"trace_id": [tid], "span_id": [sid], "parent_id": [None], "service": ["pay"],
                                   "name": ["charge"], "start": [0], "end": [10_000_000]})
    logs = tk.logs_from_columns({"time": [1_000_000], "body": ["card declined"], "trace_id": [tid], "span_id": [sid],
                                 "severity_text": ["INFO"], "severity_number": [17]})
    (event,) = tk.attach_logs(spans, logs).spans["events"].iloc[0]
    assert (event["attributes"]["log.severity"], event["attributes"]["log.severity_number"]) == ("ERROR", 17)


# ------------------------------------------------------------------ PII: credentials a vendor prefix names, private keys

_PEM = ("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1b2c3d4e5f6g7h8i9j0\nk1l2-m3n4o5p6\n"
        "-----END RSA PRIVATE KEY-----")
# (text, the secret in it)
VENDOR_SECRETS = [
    ("token ghp_" + "a1B2" * 9 + " used", "ghp_" + "a1B2" * 9),
    ("GITHUB=github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"),
    ("slack xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy posted", "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"),
    ("charge with sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("maps key=AIza" + "Sy0b1C2d3E4f5G6h7I8j9K0l1M2n3O4p5Q6", "AIza" + "Sy0b1C2d3E4f5G6h7I8j9K0l1M2n3O4p5Q6"),
    ("OPENAI sk-proj-abcdefghijklmnopqrstuv_0123", "sk-proj-abcdefghijklmnopqrstuv_0123"),
    ("npm token npm_" + "x9" * 18, "npm_" + "x9" * 18),
    ("gitlab glpat-abcdefghij0123456789", "glpat-abcdefghij0123456789"),
    ("hook whsec_abcdefghijklmnopqrstuvwx", "whsec_abcdefghijklmnopqrstuvwx"),
    ("key loaded: " + _PEM + " (rsa)", _PEM),
    ("a key cut short " + _PEM[:70], _PEM[:70]),
]


def _one_span(value: str):
    return tk.spans_from_columns({"trace_id": ["0" * 31 + "1"], "span_id": ["a" * 16], "service": ["api"],
                                  "name": ["x"], "start": [0], "end": [1], "attributes": [{"msg": value}]})


@pytest.mark.parametrize("text,secret", VENDOR_SECRETS, ids=[s[:12] for _, s in VENDOR_SECRETS])
def test_vendor_tokens_and_private_keys_are_found_and_redacted(text, secret):
    spans = _one_span(text)
    assert set(tk.find_pii(spans)["kind"]) & {"vendor_token", "private_key"}, f"{secret[:12]}… was not found"
    out = tk.redact(spans, salt="t").loc[0, "attributes"]["msg"]
    assert secret not in out and secret[8:20] not in out and "hmac:" in out
    assert out.split("hmac:")[0] == text.split(secret)[0]  # the words before it stay
    assert tk.find_pii(tk.redact(spans, salt="t")).empty


@pytest.mark.parametrize("text", [
    "sk-prod-cluster-worker-node-01",  # a host named sk-…: not an sk- key (32 letters and digits, or sk-proj-…)
    "risk-score-service-v2-abcdefghijkl", "pk_live_abcdefghijklmnop",  # Stripe's publishable key is public
    "ghp_short", "xoxo-gossip-girl-fan-club", "the github repo", "desk-organizer-2000",
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----",  # a certificate is public
])
def test_vendor_token_near_misses_stay_readable(text):
    assert tk.find_pii(_one_span(text)).empty
    assert tk.redact(_one_span(text), salt="t").loc[0, "attributes"]["msg"] == text


@pytest.mark.parametrize("text,secret", [
    ("Server=db;User Id=app;Password=p@ss!w0rd#2024;", "p@ss!w0rd#2024"),  # ADO.NET: symbols and a ';' after it
    ("GET /login?user=ann&password=abc123&next=/", "abc123"),  # 6 characters
    ("PASSWORD='Tr0ub4dor&3'", "Tr0ub4dor&3"),  # quoted: to its quote, '&' and all
    ('{"user": "ann", "password": "x y z"}', "x y z"),
    ("auth failed: pwd=S3cr3t!", "S3cr3t!"),
])
def test_a_password_of_any_length_and_alphabet_is_redacted(text, secret):
    out = tk.redact(_one_span(text), salt="t").loc[0, "attributes"]["msg"]
    assert secret not in out and "hmac:" in out
    assert "api_key" in set(tk.find_pii(_one_span(text))["kind"])


@pytest.mark.parametrize("text", ["password_reset=true", "passwordless login enabled", "password=",
                                  "password_hash_algorithm=bcrypt"])
def test_words_about_passwords_stay_readable(text):
    assert tk.redact(_one_span(text), salt="t").loc[0, "attributes"]["msg"] == text


# ------------------------------------------------------------------ CloudWatch statistics without an Average

def test_cloudwatch_statistics_without_an_average_say_why_their_series_is_empty():
    # `aws cloudwatch get-metric-statistics --statistics Maximum Minimum`: no value to plot (max or min?); read
    # silently as NaN, metric_series was an empty frame and a timeline drew nothing, unexplained
    doc = {"Label": "CPUUtilization", "Datapoints": [
        {"Timestamp": "2024-01-01T00:00:00Z", "Maximum": 40.0, "Minimum": 2.0, "Unit": "Percent"},
        {"Timestamp": "2024-01-01T00:01:00Z", "Maximum": 90.0, "Minimum": 5.0, "Unit": "Percent"}]}
    with pytest.warns(tk.TraceFormatWarning, match=r"2 CloudWatch datapoints of 'CPUUtilization' give Minimum and "
                                                  r"Maximum but no Average.*df.assign\(value=df\['max'\]\)"):
        m = tk.read_metrics(doc)
    assert m["value"].isna().all() and m["max"].tolist() == [40.0, 90.0]
    # the remedy the warning names gives the series
    assert tk.metric_series(m.assign(value=m["max"]), by=None, freq="1min")["value"].tolist() == [40.0, 90.0]
    # a mean known from Sum and SampleCount, or one statistic alone, is a value: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", tk.TraceFormatWarning)
        both = tk.read_metrics({"Label": "Lat", "Datapoints": [
            {"Timestamp": "2024-01-01T00:00:00Z", "Sum": 40.0, "SampleCount": 4.0, "Maximum": 20.0}]})
        one = tk.read_metrics({"Label": "Lat", "Datapoints": [{"Timestamp": "2024-01-01T00:00:00Z", "Maximum": 7.0}]})
    assert tk.metric_series(both, by=None, freq="1min")["value"].tolist() == [10.0]
    assert one["value"].tolist() == [7.0]


# ------------------------------------------------------------------ one window in the figures' titles

def test_timeline_and_heatmap_titles_name_the_same_window_for_the_same_requests():
    pytest.importorskip("plotly")
    # 30 requests starting 14:00:10, 14:02:10, ... 14:58:10: the timeline's title said the buckets' ends
    # (14:00-14:59 as 14:00-15:00) beside the heatmap's first and last start for the same requests
    n = 30
    t0 = pd.Timestamp("2026-03-02T14:00:10Z").value
    spans = tk.spans_from_columns({"trace_id": [f"{i + 1:032x}" for i in range(n)], "span_id": ["a" * 16] * n,
                                   "service": ["web"] * n, "name": ["GET /"] * n, "kind": ["server"] * n,
                                   "start": [t0 + i * 120 * 10**9 for i in range(n)],
                                   "end": [t0 + i * 120 * 10**9 + 10**7 * (i + 1) for i in range(n)]})
    sub = [f.layout.title.text.split("<sup>")[1].removesuffix("</sup>").split(",")[:2]
           for f in (tk.plot_timeline(spans), tk.plot_heatmap(spans))]
    assert sub[0] == sub[1] == [f"{n} requests", " 14:00–14:58 UTC"]


def test_heatmap_shades_a_run_of_no_data_buckets_as_one_shape():
    pytest.importorskip("plotly")
    # requests at 14:00 and 16:00 with nothing between: 119 one-minute buckets with no span at all. One shaded
    # shape a bucket, each add_vrect copying every shape before it, was quadratic: the report of a 1970 trace
    # beside 2026 ones hung the suite (test_report's big canvas trace, > 30 min under load)
    t0 = pd.Timestamp("2026-03-02T14:00:10Z").value
    starts = [t0, t0 + 10**9, t0 + 7200 * 10**9, t0 + 7201 * 10**9]
    spans = tk.spans_from_columns({"trace_id": [f"{i + 1:032x}" for i in range(4)], "span_id": ["a" * 16] * 4,
                                   "service": ["web"] * 4, "name": ["GET /"] * 4, "kind": ["server"] * 4,
                                   "start": starts, "end": [s + 10**7 for s in starts]})
    fig = tk.plot_heatmap(spans)
    shaded = [s for s in fig.layout.shapes if s.name == "no data"]
    assert len(shaded) == 1
    assert pd.Timestamp(shaded[0].x0) == pd.Timestamp("2026-03-02T14:01Z")
    assert pd.Timestamp(shaded[0].x1) == pd.Timestamp("2026-03-02T16:00Z")
