"""Session 47 (lead): what the postmortem says of requests that neither succeeded nor failed, of an empty incident, and of the kinds a top score adds up."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk

MS = 1_000_000


def _requests(http: list[int]) -> pd.DataFrame:
    """One root span per request, every one with status error (as a file where every span said error), each with
    the given HTTP code: 5xx a fault, 4xx a client error, 429 throttled (core.outcomes' rule)."""
    n = len(http)
    code = np.asarray(http)
    return tk.spans_from_columns({
        "trace_id": [f"{i + 1:032x}" for i in range(n)], "span_id": ["a" * 16] * n, "parent_id": [None] * n,
        "service": ["web"] * n, "name": ["GET /"] * n, "kind": ["server"] * n,
        "start": [i * 1_000 * MS for i in range(n)], "end": [i * 1_000 * MS + 20 * MS for i in range(n)],
        "status": ["error"] * n, "http_status": http,
        "fault": (code >= 500).tolist(), "error": ((code >= 400) & (code < 500) & (code != 429)).tolist(),
        "throttle": (code == 429).tolist()})


def _what(spans):
    return next(f for f in tk.postmortem(spans).findings if f.topic == "what")


def test_client_errors_and_throttles_are_said_beside_the_error_rate():
    """17 of 20 requests failed (5xx), 2 were 404s and 1 a 429: the error rate is 85.0 % and the line says what the
    other 3 were, with their counts (it read "error rate 85.0 %" alone: the 3 looked like successes)."""
    f = _what(_requests([500] * 5 + [404] + [500] * 6 + [429] + [500] * 6 + [404]))
    assert "error rate 85.0 %" in f.text
    assert "2 ended in a client error (4xx" in f.text
    assert "1 was throttled (429" in f.text
    assert "not counted as failed" in f.text
    assert f.evidence["client_errors"] == 2 and f.evidence["throttled"] == 1


def test_only_client_errors():
    f = _what(_requests([500] * 4 + [404] + [500] * 5))
    assert "error rate 90.0 %" in f.text and "1 ended in a client error (4xx" in f.text
    assert "throttled (429" not in f.text
    assert "it is not counted as failed" in f.text
    assert f.evidence["client_errors"] == 1 and f.evidence["throttled"] == 0


def test_control_no_client_error_says_nothing_more():
    """Control: every request a 5xx: no word of client errors or throttles."""
    f = _what(_requests([500] * 10))
    assert "error rate 100.0 %" in f.text
    assert "client error" not in f.text and "throttled" not in f.text
    assert f.evidence["client_errors"] == 0 and f.evidence["throttled"] == 0


def test_an_empty_incident_says_so_and_nothing_else(tmp_path):
    """An incident window that matched nothing (Nezha OnlineBoutique 2022-08-22 04:52:55: no trace started in the 2
    minutes after the fault) read "0 requests in an unknown window (no start or end time recorded)", "No baseline and
    no critical path" beside the baseline given, and "With only 0 incident traces, intervals are wide"."""
    base = _requests([200] * 40)
    pm = tk.postmortem(tk.empty_spans(), base)
    assert pm.findings[0].topic == "what" and pm.findings[0].evidence.get("empty") is True
    assert "No span to report on: the incident's frame is empty" in pm.findings[0].text
    assert "The baseline given holds 40 traces (started 1970-01-01 00:00:00–00:00:39 UTC" in pm.findings[0].text
    text = " ".join(f.text for f in pm.findings)
    assert "No baseline" not in text and "unknown window" not in text and "only 0 incident" not in text
    out = tk.report(tk.empty_spans(), tmp_path / "r.html", baseline=base, title="empty")
    md = out.with_suffix(".md").read_text()
    assert "0 traces, 0 spans, 0 services, no time range." in md
    assert "n/a to n/a" not in md and "n/a to n/a" not in out.read_text()
    page = out.read_text()
    assert "No span to report on" in page
    # nothing compared or drawn against the baseline: every operation read "vanished", every call "gone"
    assert "vanished" not in md and "vanished" not in page and ">gone<" not in page and '"gone"' not in page


def test_spans_with_no_time_say_so_in_the_header(tmp_path):
    """Spans whose times are unset (OTLP start 0 read as unknown) read "n/a to n/a UTC" in the header."""
    doc = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "web"}}]},
                              "scopeSpans": [{"spans": [{"traceId": "1" * 32, "spanId": "a" * 16, "name": "GET /",
                                                         "kind": 2}]}]}]}
    spans = tk.read_otlp(doc)
    out = tk.report(spans, tmp_path / "r.html", title="no times")
    md = out.with_suffix(".md").read_text()
    assert "1 trace, 1 span, 1 service, no span start or end recorded." in md
    assert "n/a to n/a" not in md


def _kinds(top: pd.Series) -> list[tuple[str, float]]:
    from tracekit.investigate.causes import SCORE_COLUMNS

    return [(k, float(top[k])) for k in SCORE_COLUMNS if k in top.index and pd.notna(top[k]) and abs(float(top[k])) >= 0.005]


def test_a_top_score_of_several_kinds_says_what_it_adds_up():
    """Nezha OnlineBoutique 2022-08-22 05:52:54 (paymentservice network delay): the words said "score 0.36" (waiting)
    then "top score 0.39" with nothing to say the other 0.03 was own work slower. Fault lab windows: wherever the top
    score is made of two kinds or more, the where finding names each with its score, and they add up to it."""
    from tracekit.investigate.postmortem import _KIND_WORDS
    from tracekit.simulate_faults import fault_window

    seen = 0
    for kind, seed in (("exception", 2), ("return", 3)):  # tops of 3 and of 2 kinds
        fw = fault_window(kind, seed)
        pm = tk.postmortem(fw.incident, fw.baseline, n_boot=50)
        if pm.causes is None or not len(pm.causes):
            continue
        top = pm.causes.iloc[0]
        kinds = _kinds(top)
        (where,) = [f for f in pm.findings if f.topic == "where" and "score" in f.evidence]
        if len(kinds) < 2:
            continue
        seen += 1
        assert sum(v for _, v in kinds) == pytest.approx(float(top["score"]), abs=0.005 * len(kinds))
        said = where.text
        for k, v in kinds:
            assert f"{_KIND_WORDS[k]} {abs(v):.2f}" in said, (kind, seed, k, said)
    assert seen == 2  # the case occurs in both windows: the check above ran


def test_control_a_top_score_of_one_kind_adds_no_sum():
    """Control: a top made of one kind of evidence is said by that kind's words alone (no "a + b")."""
    from tracekit.investigate.postmortem import _score_parts

    assert _score_parts(pd.Series({"score": 0.5, "slower": 0.5, "waiting": 0.0, "errors": 0.004})) == ""
    assert _score_parts(pd.Series({"score": 0.39, "slower": 0.03, "waiting": 0.36})) == (
        "waiting outside it 0.36 + own work slower 0.03")
    assert _score_parts(pd.Series({"score": 0.30, "waiting": 0.43, "answers": -0.13})) == (
        "waiting outside it 0.43 − changed course moved to its callee's host 0.13")


@pytest.mark.parametrize(("on", "said"), [("same", True), ("other", False), (None, False)])
def test_a_baseline_that_holds_the_same_services_fault_is_said_not_quiet(on, said):
    """Nezha TrainTicket 2023-01-29 09:25:39 (ts-basic-service exception: ERROR records in 8 of its 12 spans against 0
    of the baseline's 46) read "not clearly beyond chance" against 0.85 between parts of the baseline, with no word
    that the baseline held ts-basic-service's own fault of 09:21:39 (its part scoring 0.68 on the same evidence).
    Fault lab, exception seed 0, a previous fault in the baseline's first minute: on the same service, the where
    finding says the baseline is not quiet there, naming the service; on another service or none (controls), not.
    Scan, exception/return/cpu_contention seeds 0-3: said in 6 of 12 same-service windows (the top right in all 6),
    0 of 12 other-service and 0 of 12 without."""
    from tracekit.simulate_faults import fault_window

    fw = fault_window("exception", 0, **(dict(baseline_fault="exception", baseline_fault_on=on) if on else {}))
    pm = tk.postmortem(fw.incident, fw.baseline, n_boot=50)
    (where,) = [f for f in pm.findings if f.topic == "where" and "score" in f.evidence]
    svc = fw.truth.service
    assert ("The baseline is not quiet there" in where.text) is said, where.text
    if said:
        assert where.evidence["likely"] is False
        assert where.evidence["baseline_changed_there"].startswith(f"{svc} / ")
        assert f"— {svc} changed inside the baseline's own period too" in where.text
    else:
        assert "baseline_changed_there" not in where.evidence


def test_logs_with_no_record_are_said_empty():
    """Nezha TrainTicket 14:23:31 with its logs cut to the window (none there): "none of the 0 records names a span or
    trace of the incident or the baseline (their trace ids are not these traces')" blamed ids for an empty frame."""
    from tracekit.investigate.postmortem import _log_records

    f = _log_records(dict(given=0, incident=0, baseline=0))
    assert f.text == "Logs did not weigh in the ranking: the logs given hold no record."
    g = _log_records(dict(given=5, incident=0, baseline=0))  # control: records given, none joined
    assert g.text.startswith("Logs did not weigh in the ranking: none of the 5 records names a span")


def _api_trace(children: list[tuple[str, int, int]], api_ms: int = 100) -> pd.DataFrame:
    """api (0..api_ms) with direct children (service, start ms, end ms)."""
    ids = ["a" * 16] + [f"{i + 1:016x}" for i in range(len(children))]
    return tk.spans_from_columns({
        "trace_id": ["1" * 32] * len(ids), "span_id": ids, "parent_id": [None] + ["a" * 16] * len(children),
        "service": ["api"] + [c[0] for c in children], "name": ["GET /"] + [f"call {c[0]}" for c in children],
        "kind": ["server"] + ["client"] * len(children),
        "start": [0] + [c[1] * MS for c in children], "end": [api_ms * MS] + [c[2] * MS for c in children]})


def test_a_gone_child_is_not_its_callers_own_work():
    """api took 100 ms in both traces; its 50 ms db call is gone in b. delta_self_ms +50 on api ("same") with nothing
    beside it read as api's own work grown, and trace_diff_summary listed api (+50 ms critical path) first, db second.
    Now unmatched_children_ms -50 says the 50 ms were the gone child's, and the summary lists db first."""
    a = _api_trace([("db", 20, 70)])
    b = _api_trace([])
    d = tk.diff_traces(a, b)
    api = d[d["service"] == "api"].iloc[0]
    assert api["status"] == "same" and api["delta_self_ms"] == 50.0
    assert api["unmatched_children_ms"] == -50.0
    assert api["delta_self_ms"] + api["unmatched_children_ms"] == 0.0  # its own work, children held the same
    assert np.isnan(d.loc[d["service"] == "db", "unmatched_children_ms"].iloc[0])  # removed: not aligned
    s = tk.trace_diff_summary(d)
    assert s["service"].tolist() == ["db", "api"]
    assert s.set_index("service").loc["api", "unmatched_children_ms"] == -50.0
    # the mirror: a new 50 ms call took 50 ms of api's own time
    d2 = tk.diff_traces(b, a)
    api2 = d2[d2["service"] == "api"].iloc[0]
    assert (api2["delta_self_ms"], api2["unmatched_children_ms"]) == (-50.0, 50.0)
    assert tk.trace_diff_summary(d2)["service"].tolist() == ["db", "api"]


def test_unmatched_children_count_only_time_no_kept_child_covers():
    """A removed child running beside a longer kept one (parallel) held none of api's own time: 0, and api's self time
    did not change. A removed child half-covered by a kept one: only its uncovered 20 ms. A child slower in b (kept):
    0 — only children in one trace count. An added child past api's end counts only inside api (clipped)."""
    kept = ("cache", 10, 90)
    d = tk.diff_traces(_api_trace([kept, ("db", 20, 70)]), _api_trace([kept]))
    api = d[d["service"] == "api"].iloc[0]
    assert (api["delta_self_ms"], api["unmatched_children_ms"]) == (0.0, 0.0)
    d = tk.diff_traces(_api_trace([("cache", 10, 50), ("db", 30, 70)]), _api_trace([("cache", 10, 50)]))
    api = d[d["service"] == "api"].iloc[0]
    assert (api["delta_self_ms"], api["unmatched_children_ms"]) == (20.0, -20.0)
    d = tk.diff_traces(_api_trace([("db", 20, 40)]), _api_trace([("db", 20, 70)]))
    api = d[d["service"] == "api"].iloc[0]
    assert (api["delta_self_ms"], api["unmatched_children_ms"]) == (-30.0, 0.0)
    d = tk.diff_traces(_api_trace([]), _api_trace([("db", 80, 130)]))
    api = d[d["service"] == "api"].iloc[0]
    assert (api["delta_self_ms"], api["unmatched_children_ms"]) == (-20.0, 20.0)


def test_a_mean_wait_that_fell_is_said_as_a_contrast_to_calls_that_waited_longer():
    """Fault lab cpu_contention seed 1 (the onset helper's find): "calls to or from it wait longer outside it (4 of its
    7 calls … above the call pair's normal limit …; per request of all routes, it waits 0.03 ms less outside its
    callees)" read as a slip. Where every mean wait said fell, it is said as the contrast it is."""
    from tracekit.investigate.causes import _wait_words

    assert _wait_words(0.0, -0.03) == ("; yet per request of all routes, it waits 0.03 ms less outside its callees: "
                                       "the calls past their limit did not raise the mean wait")
    # controls: a wait that rose, alone or beside one that fell, is said as before
    assert _wait_words(12.0, -0.03) == ("; per request of all routes, its callers wait 12.0 ms longer outside it, it "
                                        "waits 0.03 ms less outside its callees")
    assert _wait_words(0.001, 0.0) == ""


def test_the_sampling_verdict_follows_its_test_rows():
    """sampling_bias's .biased read only 'high' findings: 40 sampled traces whose services' mix a G-test finds off at
    p 0.0026 (its row: biased) were called not biased, no single stratum's ratio being past ×2 (the diff4 helper's
    find). One verdict: biased when a test row or a high finding says so; a mix within chance stays not biased."""
    from tracekit.analysis.sampling.bias import sampling_bias

    def sample(services: list[str]) -> pd.DataFrame:
        n = len(services)
        return tk.spans_from_columns({"trace_id": [f"{i + 1:032x}" for i in range(n)],
                                      "span_id": [f"{i + 1:016x}" for i in range(n)], "service": services,
                                      "name": ["GET /"] * n, "start": [0] * n, "end": [MS] * n})

    pop = pd.DataFrame({"service": ["api", "web", "db"], "requests": [500, 500, 10]})
    b = sampling_bias(sample(["api"] * 30 + ["web"] * 10), pop, by="service")
    assert bool(b.tests["biased"].any()) and not (b.findings["severity"] == "high").any()
    assert b.biased
    even = sampling_bias(sample(["api"] * 20 + ["web"] * 20), pop, by="service")  # control: the population's mix
    assert not even.tests["biased"].any() and not even.biased


def test_tracekit_query_says_a_request_answered_while_its_trace_still_runs():
    """``tracekit query``'s line of a request that answered (root ended, 100 ms) while a span of its trace still runs
    (an async tail) said "request 100.0 ms" alone (the traceql4 helper's find); now the extent so far and that a span is
    still in progress. A finished trace (control) keeps "request … ms" alone."""
    from tracekit.cli_query import format_matches

    t1, t2 = "1" * 32, "2" * 32
    spans = tk.spans_from_columns({
        "trace_id": [t1, t1, t2], "span_id": ["a" * 16, "b" * 16, "c" * 16], "parent_id": [None, "a" * 16, None],
        "service": ["web", "worker", "web"], "name": ["GET /", "send mail", "GET /"],
        "kind": ["server", "internal", "server"], "start": [0, 50 * MS, 0], "end": [100 * MS, None, 80 * MS]})
    text = format_matches(spans, tk.traceql(spans, "{ }"), limit=0)
    line1 = next(x for x in text.splitlines() if x.startswith(f"trace {t1}"))
    line2 = next(x for x in text.splitlines() if x.startswith(f"trace {t2}"))
    assert line1.endswith("request 100.0 ms, trace extent at least 100.0 ms, a span still in progress"), line1
    assert line2.endswith("request 80.0 ms"), line2
