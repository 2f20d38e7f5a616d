"""Session 37, the lead's own fixes: card numbers are not read inside UUIDs (PII)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk

from .nezha import bench

#: a UUID whose digits hold a Luhn-valid run with a card prefix ("24-84406405948", 13 digits): Nezha's order id
_ORDER = "7e5a01bd-f3c7-42d2-8b24-84406405948e"


def _logs(*bodies: str) -> pd.DataFrame:
    return tk.logs_from_columns({"time": pd.array(range(len(bodies)), dtype="Int64"), "body": list(bodies)})


def test_a_uuid_is_no_card_number_but_a_card_beside_it_is():
    found = tk.find_pii(_logs(f"[Order Create Success][OrderId:{_ORDER},Price: 350.0]",
                              f"orderId={_ORDER.upper()} paid with 4111 1111 1111 1111",
                              "card 4111-1111-1111-1111 ok", "x4111111111111111y"))
    cards = found[found["kind"] == "card"]
    assert len(cards) == 3  # the three written cards; nothing in either UUID


def test_a_uuid_is_redacted_whole_or_not_at_all():
    text = f"OrderId:{_ORDER}"
    assert tk.redact_text(text, patterns=["card"]) == text
    assert tk.redact_text(f"{text} card 4111111111111111", patterns=["card"], method="mask") == f"{text} card ****"


def test_nezha_trainticket_order_ids_are_no_cards(real_traces):
    path = real_traces / "nezha" / "fault-days" / "rca_data" / "2023-01-29" / "log" / "09_03_log.csv.gz"
    if not path.exists():
        pytest.skip(f"Nezha TrainTicket log minute {path} not found (see SOURCES.md)")
    logs = bench().read_nezha_logs([path])
    assert logs["body"].str.contains(_ORDER, regex=False).sum() >= 4  # the texts that read as cards before
    found = tk.find_pii(logs)
    assert (found["kind"] == "card").sum() == 0


# ---- detect_changes: where a latency change begins and whether it ended ------------------------------------------

_T0 = pd.Timestamp("2026-03-02 14:00", tz="UTC")
_MIN = 60_000_000_000


def _deploy_step(seed: int, shift_ms: float = 80.0, rate: float = 5.0, tail: float = 0.0, minutes: int = 60):
    """An hour of one operation's requests (Poisson, ``rate`` a minute; latency lognormal, median 110 ms), every
    request from a deploy at a random second of minutes 20–40 on ``shift_ms`` slower (with ``tail``, that share of
    them 1 s slower instead), for ``minutes`` (to the end of the data: 60)."""
    rng = np.random.default_rng(seed)
    deploy = _T0.value + int(rng.integers(20 * _MIN, 40 * _MIN))
    n = rng.poisson(rate * 60)
    start = np.sort(_T0.value + rng.integers(0, 60 * _MIN, n))
    hit = (start >= deploy) & (start < deploy + minutes * _MIN)
    slower = np.where(rng.random(n) < tail, 1000.0, 0.0) if tail else np.full(n, shift_ms)
    lat = 110.0 * np.exp(0.45 * rng.standard_normal(n)) + np.where(hit, slower, 0.0)
    ids = np.arange(1, n + 1)
    spans = tk.spans_from_columns({
        "trace_id": [f"{i:032x}" for i in ids], "span_id": [f"{i:016x}" for i in ids], "parent_id": [None] * n,
        "service": ["pay"] * n, "name": ["POST /charge"] * n, "kind": ["server"] * n, "start": start,
        "end": start + (lat * 1e6).astype(np.int64), "status": ["ok"] * n})
    return spans, pd.Timestamp(deploy, tz="UTC")


def test_a_whole_latency_distribution_that_moved_is_placed_at_its_start_and_still_going():
    # every request 80 ms slower from the deploy on (at 5 requests a minute the bucket p95 is noise): placed by how
    # often requests passed the normal p95 alone, of the 29 seeds of 40 found the onset was within a minute in 13 and
    # "still going" was said in 17; with each request's latency rank as a second reading, 29 and 28. Seeds 0–11 here:
    # 3 of 8 both right before, 7 of 8 now
    found = right = 0
    for seed in range(12):
        spans, deploy = _deploy_step(seed)
        ch = tk.detect_changes(spans, metric="p95_ms")
        if not len(ch):
            continue
        found += 1
        r = ch.iloc[0]
        right += abs(r["onset"] - deploy.floor("1min")) <= pd.Timedelta("1min") and pd.isna(r["recovery"])
    assert found >= 6
    assert right >= found - 1


# ---- the per-frame cache: a new frame with other dicts or lists is not served another frame's result -----------

def _linked_root():
    return tk.spans_from_columns({"trace_id": ["1" * 32], "span_id": ["a" * 16], "parent_id": [None],
                                  "service": ["worker"], "name": ["process"], "kind": ["server"], "start": [0],
                                  "end": [10_000_000], "status": ["ok"]})


def test_trace_outcomes_of_a_frame_given_links_are_its_own():
    from tracekit.core import trace_outcomes
    from tracekit.core.cache import clear_cache

    plain = _linked_root()
    linked = plain.assign(links=[[{"trace_id": "2" * 32, "span_id": "b" * 16}]])
    clear_cache()
    fresh = bool(trace_outcomes(linked)["request"].iloc[0])  # a root with a link carries a message, not a request
    clear_cache()
    trace_outcomes(plain)
    after_plain = bool(trace_outcomes(linked)["request"].iloc[0])
    assert after_plain == fresh is False  # was True: the link-free copy's cached outcome


def test_lambda_invocations_of_a_frame_given_other_attributes_are_its_own():
    from tracekit.analysis.attribution import lambda_invocations
    from tracekit.core.cache import clear_cache

    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32] * 4, "span_id": ["a" * 16, "b" * 16, "c" * 16, "d" * 16],
        "parent_id": [None, "a" * 16, "b" * 16, None], "service": ["fn"] * 4,
        "name": ["fn", "fn", "Initialization", "fn"], "kind": ["server", "internal", "internal", "server"],
        "start": [0, 10, 10, 400], "end": [320, 320, 310, 420],
        "attributes": [{"origin": "AWS::Lambda::Function"}, {}, {}, {"origin": "AWS::Lambda::Function"}]})
    plain = spans.assign(attributes=[{} for _ in range(4)])
    clear_cache()
    fresh = len(lambda_invocations(plain))
    clear_cache()
    assert len(lambda_invocations(spans)) == 2
    assert len(lambda_invocations(plain)) == fresh == 0  # was 2: the first frame's invocations


# ---- the incident period: the latency of normal traffic beside requests that failed fast is no incident ----------

def test_requests_that_fail_fast_do_not_make_the_normal_period_the_incident():
    # fault lab exception seed 3, baseline and incident in one frame, no baseline given: /api/v1/rate/query p95
    # 16.5 -> 32.5 ms in 14:00-14:05 (the normal traffic: the failing requests after it return fast) and its error
    # rate 1.6 % -> 100 % from 14:05:10, both at p <= 0.0025; the latency window, on more requests, was the incident
    from tracekit.simulate_faults import fault_window

    w = fault_window("exception", 3)
    pm = tk.postmortem(pd.concat([w.baseline, w.incident], ignore_index=True))
    onset = pm.window[0]
    assert abs(onset - w.truth.time) <= pd.Timedelta(pm.freq)  # was 14:00, the data's start
    when = [f.text for f in pm.findings if f.topic == "when"]
    assert "error rate" in when[0]
    assert any(t.startswith("Not a change of its own: /api/v1/rate/query p95 request latency") for t in when), when


def test_a_latency_change_apart_from_an_error_change_is_its_own():
    from tracekit.analysis.changes import fast_failure_mirrors, headline_order

    t = pd.Timestamp("2026-03-02 14:00", tz="UTC")
    m = pd.Timedelta("1min")
    ch = pd.DataFrame({"route": ["/a", "/a", "/b", "/a"], "metric": ["p95_ms", "error_rate", "p95_ms", "p95_ms"],
                       "onset": [t, t + 5 * m, t, t + 10 * m], "recovery": [t + 5 * m, t + 8 * m, t + 5 * m, pd.NaT],
                       "before": [16.5, 0.01, 10.0, 10.0], "during": [32.5, 1.0, 20.0, 30.0],
                       "requests_affected": [60.0, 20.0, 50.0, 40.0], "p_value": [0.001] * 4})
    # /a's latency before its errors touches them (a mirror); /b's is another route; /a's from 14:10 starts two
    # minutes after the errors ended (its own)
    assert fast_failure_mirrors(ch, "1min").tolist() == [True, False, False, False]
    assert headline_order(ch, "1min")["metric"].tolist()[-1:] == ["p95_ms"]
    assert headline_order(ch, "1min").index[-1] == 0


def test_a_grown_tail_that_goes_on_is_not_said_to_be_over():
    # a quarter of the requests 1 s slower from a deploy to the end of the data, 5 a minute: a window ending where the
    # last minutes held few slow requests by chance was said to be over ("over by 14:56") in 4 of these 20 seeds (5
    # of 28 found in 30; with 15 % slower in another draw, 15 of 26); the requests after a window must now be faster
    # than those inside beyond chance (z 2.33): 2 of 20 (2 of 28; 1 of 26)
    found = going = 0
    for seed in range(20):
        spans, _ = _deploy_step(seed, tail=0.25)
        ch = tk.detect_changes(spans, metric="p95_ms")
        if len(ch):
            found += 1
            going += bool(pd.isna(ch.iloc[0]["recovery"]))
    assert found >= 15
    assert going >= found - 2


def test_a_window_that_ended_is_still_said_to_end():
    # every request 180 ms slower for 10 minutes: the recovery found within a minute in 40 of 40 seeds, before and after
    for seed in range(4):
        spans, deploy = _deploy_step(seed, shift_ms=180.0, minutes=10)
        r = tk.detect_changes(spans, metric="p95_ms").iloc[0]
        end = (deploy + pd.Timedelta("10min")).ceil("1min")
        assert not pd.isna(r["recovery"]) and abs(r["recovery"] - end) <= pd.Timedelta("1min")
