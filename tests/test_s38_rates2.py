"""Failure and outcome rates with spans still in progress, and what counts as failed (session 38, rates2).

Covers: the one outcome definition of tracekit.core.outcomes (an explicit OTel status ``ok`` is final over the
HTTP code for client errors and throttles too), the ``unknown`` count of calls left out of a failure rate
(service map colour, version_regressions, peer_outliers, compare, bubble_up), and the traces-with-a-failed-span
share beside spans in progress. Every frame is built by construction, so each expected figure is known.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

import tracekit as tk

MS = 1_000_000


# ------------------------------------------------------------------------- an explicit status ok over the HTTP code

def _otlp_codes(tmp_path, cases) -> pd.DataFrame:
    """One server span per (status code, HTTP code), read through the OTLP reader."""
    spans = []
    for i, (st, code) in enumerate(cases, 1):
        sp = {"traceId": f"{i:032x}", "spanId": f"{i:016x}", "name": "GET /x", "kind": 2,
              "startTimeUnixNano": "1", "endTimeUnixNano": "1000001",
              "attributes": [{"key": "http.response.status_code", "value": {"intValue": str(code)}}]}
        if st is not None:
            sp["status"] = {"code": st}
        spans.append(sp)
    doc = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "web"}}]},
                              "scopeSpans": [{"spans": spans}]}]}
    p = tmp_path / "codes.json"
    p.write_text(json.dumps(doc))
    return tk.read_otlp(p)


def test_explicit_status_ok_is_final_over_a_4xx_and_a_429(tmp_path):
    # OTel: "Analysis tools should respond to an Ok status by suppressing any errors they would otherwise
    # generate. For example, to suppress noisy errors such as 404s." (status 1 = OK, 2 = ERROR, absent = UNSET)
    df = _otlp_codes(tmp_path, [(1, 404), (None, 404), (1, 429), (None, 429), (2, 404), (1, 500)])
    assert df["status"].tolist() == ["ok", "unset", "ok", "unset", "error", "ok"]
    assert tk.core.client_error(df).tolist() == [False, True, False, True, True, False]
    assert tk.core.throttled(df).tolist() == [False, False, False, True, False, False]
    assert tk.core.failed(df).tolist() == [False] * 6
    out = tk.core.trace_outcomes(df)
    assert out["client_error"].tolist() == [False, True, False, True, True, False]
    assert out["throttled"].tolist() == [False, False, False, True, False, False]
    # a flag given without an HTTP code (X-Ray's own, a hand-built frame's) is an outcome of its own: it stays
    hand = tk.spans_from_columns({"trace_id": ["1" * 32], "span_id": ["a" * 16], "service": ["w"], "name": ["x"],
                                  "start": [0], "end": [MS], "status": ["ok"], "error": [True], "throttle": [True]})
    assert tk.core.client_error(hand).tolist() == [True] and tk.core.throttled(hand).tolist() == [True]


# ------------------------------------------------------------------------------------------- the service map


def _calls(n_done: int, n_pending: int, failed_done: int = 0) -> pd.DataFrame:
    """``n_done + n_pending`` requests of web, each calling pay (server span in pay): ``n_pending`` of pay's spans
    still in progress (no end, status unset), ``failed_done`` of the finished ones status error."""
    n = n_done + n_pending
    tid = [f"{i + 1:032x}" for i in range(n) for _ in (0, 1)]
    sid = [f"{2 * i + k + 1:016x}" for i in range(n) for k in (0, 1)]
    par = [None if k == 0 else f"{2 * i + 1:016x}" for i in range(n) for k in (0, 1)]
    pend = [i >= n_done for i in range(n)]
    st = ["error" if i < failed_done else "unset" for i in range(n)]
    return tk.spans_from_columns({
        "trace_id": tid, "span_id": sid, "parent_id": par, "service": ["web", "pay"] * n,
        "name": ["GET /", "charge"] * n, "kind": ["server"] * (2 * n),
        "start": [i * 1000 * MS + k * MS for i in range(n) for k in (0, 1)],
        "end": [i * 1000 * MS + (50 if k == 0 else 40) * MS for i in range(n) for k in (0, 1)],
        "status": [("ok" if k == 0 else st[i]) for i in range(n) for k in (0, 1)]}).assign(
        end=lambda d: d["end"].mask(pd.Series([pend[i] and k == 1 for i in range(n) for k in (0, 1)], index=d.index)))


def test_service_map_draws_an_edge_whose_calls_are_all_in_progress_as_unknown():
    pytest.importorskip("plotly")
    spans = _calls(0, 3)  # web -> pay: 3 calls, every one in progress
    G = tk.service_graph(spans)
    a = G.edges["web", "pay"]
    assert (a["calls"], a["unknown"], a["errors"]) == (3, 3, 0)
    fig = tk.plot_service_graph(G)
    edge = next(t for t in fig.data if isinstance(t.meta, dict) and t.meta.get("edge") == ["web", "pay"])
    assert edge.meta["class"] == "unknown" and edge.line.color == tk.plotting.EDGE_COLORS["unknown"]
    legend = [t.name for t in fig.data if t.meta == "legend"]
    assert legend == ["calls all in progress (outcome and latency unknown)"]
    # with a baseline too: its p95 is unknown, not "unchanged"
    B = tk.service_graph(_calls(3, 0))
    fig_b = tk.plot_service_graph(G, baseline=B)
    edge_b = next(t for t in fig_b.data if isinstance(t.meta, dict) and t.meta.get("edge") == ["web", "pay"])
    assert edge_b.meta["class"] == "unknown"
    # one call finished ok beside two in progress: the known one says "none failed" (ok)
    G2 = tk.service_graph(_calls(1, 2))
    assert G2.edges["web", "pay"]["unknown"] == 2
    fig2 = tk.plot_service_graph(G2)
    assert next(t for t in fig2.data if isinstance(t.meta, dict) and t.meta.get("edge") == ["web", "pay"]).meta["class"] == "ok"


# ------------------------------------------------------------- the count of calls each failure rate left out


def _deploy() -> pd.DataFrame:
    """8 requests web -> pay: pay 1.0 on host h1 (traces 1-4: one error, none pending), then pay 2.0 on h2 (traces
    5-8: one error, one ok, two still in progress with no status). By construction: pay 2.0 left out 2 calls, its
    error rate is 1 of 2 known; pay 1.0's 1 of 4."""
    specs = [("1.0", "h1", "error", False), ("1.0", "h1", "unset", False), ("1.0", "h1", "unset", False),
             ("1.0", "h1", "unset", False), ("2.0", "h2", "error", False), ("2.0", "h2", "unset", False),
             ("2.0", "h2", "unset", True), ("2.0", "h2", "unset", True)]
    rows = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "status",
                            "resource")}
    for i, (ver, host, st, pending) in enumerate(specs):
        t0 = i * 1000 * MS
        for k in (0, 1):
            rows["trace_id"].append(f"{i + 1:032x}")
            rows["span_id"].append(f"{2 * i + k + 1:016x}")
            rows["parent_id"].append(None if k == 0 else f"{2 * i + 1:016x}")
            rows["service"].append(["web", "pay"][k])
            rows["name"].append(["GET /", "charge"][k])
            rows["kind"].append("server")
            rows["start"].append(t0 + k * MS)
            rows["end"].append(None if (k == 1 and pending) else t0 + (50 - 10 * k) * MS)
            rows["status"].append("ok" if k == 0 else st)
            rows["resource"].append({} if k == 0 else {"service.version": ver, "host.name": host})
    return tk.spans_from_columns(rows)


@pytest.fixture(scope="module")
def deploy() -> pd.DataFrame:
    return _deploy()


def test_every_span_rate_says_how_many_calls_it_left_out(deploy):
    G = tk.service_graph(deploy)
    assert G.edges["web", "pay"]["unknown"] == 2  # service_graph's count: the name every table uses
    v = tk.version_regressions(deploy, n_boot=20).set_index("version")
    assert v.loc["2.0", "unknown"] == 2 and v.loc["1.0", "unknown"] == 0
    assert v.loc["2.0", "error_rate"] == 0.5 and v.loc["1.0", "error_rate"] == 0.25
    p = tk.peer_outliers(deploy, min_spans=1).set_index("host")
    assert (p.loc["h2", "unknown"], p.loc["h2", "peer_unknown"]) == (2, 0)
    assert (p.loc["h1", "unknown"], p.loc["h1", "peer_unknown"]) == (0, 2)
    assert p.loc["h2", "error_origins"] == 0.5 and p.loc["h1", "error_origins"] == 0.25
    new, old = deploy[deploy["trace_id"] > f"{4:032x}"], deploy[deploy["trace_id"] <= f"{4:032x}"]
    c = tk.compare(new, old, n_boot=20).table.set_index("service")
    assert (c.loc["pay", "unknown_a"], c.loc["pay", "unknown_b"], c.loc["web", "unknown_a"]) == (2, 0, 0)
    assert (c.loc["pay", "error_rate_a"], c.loc["pay", "error_rate_b"]) == (0.5, 0.25)
    ct = tk.analysis.comparison.compare_table(new, old, measures=("cp_ms",), intervals=())
    assert "unknown_a" not in ct.columns  # only beside the error rate they belong to
    b = tk.bubble_up(deploy, lambda d: d["service"] == "pay", level="span").set_index(["dimension", "value"])
    row = b.loc[("resource.service.version", "2.0")]
    assert (row["unknown_with"], row["unknown_without"], row["error_rate_with"]) == (2, 0, 0.5)
    row = b.loc[("resource.service.version", "1.0")]
    # without 1.0: 8 web spans (all ok) and pay 2.0 (1 error, 1 ok, 2 in progress): 1 failed of 10 known
    assert (row["unknown_with"], row["unknown_without"], row["error_rate_without"]) == (0, 2, 0.1)
    for t, cols in ((v, ["unknown"]), (p, ["unknown", "peer_unknown"]), (c, ["unknown_a", "unknown_b"]),
                    (b, ["unknown_with", "unknown_without"])):
        assert all(str(t[col].dtype) == "int64" for col in cols)


def test_the_report_says_how_many_calls_each_error_rate_left_out(deploy):
    from tracekit.reporting import _compare_view

    new, old = deploy[deploy["trace_id"] > f"{4:032x}"], deploy[deploy["trace_id"] <= f"{4:032x}"]
    t = tk.compare(new, old, n_boot=20).table
    view = _compare_view(t, ["service"]).set_index("service")
    assert view.loc["pay", "error rate"] == "25.0 % → 50.0 %"
    assert view.loc["pay", "calls in progress (left out of the error rate)"] == "0 → 2"
    assert view.loc["web", "calls in progress (left out of the error rate)"] == "0 → 0"
    done = tk.compare(old, old, n_boot=20).table  # nothing in progress: no such column
    assert "calls in progress (left out of the error rate)" not in _compare_view(done, ["service"]).columns


# ------------------------------------------------- traces with a failed span anywhere, beside spans in progress


def _anywhere() -> pd.DataFrame:
    """9 requests web -> pay, (root status, child status; None = in progress, no end, unset):
    t1 (error, error) t2 (ok, error) t3-t6 (ok, ok) t7 (ok, None) t8 (None, ok) t9 (None, error).
    By construction: requests of known outcome t1-t7, 1 failed -> 1 of 7, t8 and t9 unknown; a failed span
    anywhere in t1, t2, t9 (known: a failed span is failed whatever else is pending), none in t3-t6, unknown in t7
    and t8 (none failed, a span had not answered) -> 3 of 7."""
    plan = [("error", "error"), ("ok", "error")] + [("ok", "ok")] * 4 + [("ok", None), (None, "ok"), (None, "error")]
    rows = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "status")}
    for i, pair in enumerate(plan):
        for k, st in enumerate(pair):
            rows["trace_id"].append(f"{i + 1:032x}")
            rows["span_id"].append(f"{2 * i + k + 1:016x}")
            rows["parent_id"].append(None if k == 0 else f"{2 * i + 1:016x}")
            rows["service"].append(["web", "pay"][k])
            rows["name"].append(["GET /", "charge"][k])
            rows["kind"].append("server")
            rows["start"].append(i * 1000 * MS + k * MS)
            rows["end"].append(None if st is None else i * 1000 * MS + (50 - 10 * k) * MS)
            rows["status"].append("unset" if st is None else st)
    return tk.spans_from_columns(rows)


def test_traces_with_a_failed_span_anywhere_leave_out_the_unknown_in_every_module():
    from tracekit.cli import format_summary
    from tracekit.reporting import _headline

    spans = _anywhere()
    oc = tk.core.trace_outcomes(spans)
    assert oc["any_failed"].tolist() == [True, True, False, False, False, False, pd.NA, pd.NA, True]
    assert tk.core.failed_share(oc) == (pytest.approx(1 / 7), 9) and tk.core.unknown_outcomes(oc) == 2
    assert tk.core.any_failed_share(oc) == (pytest.approx(3 / 7), 7)
    assert tk.trace_summary(spans)["any_failed"].isna().sum() == 2
    shares: dict[str, float] = {}
    h = _headline(spans, oc).iloc[0]
    shares["report headline"] = float(h["any_failed_share"])
    assert h["failed_share"] == pytest.approx(1 / 7)
    ws = tk.weighted_summary(spans, 1.0, n_boot=20).iloc[0]
    shares["weighted_summary"], shares["weighted_summary naive"] = float(ws["any_failed_rate"]), float(
        ws["naive_any_failed_rate"])
    assert ws["any_failed_rate_lo"] <= ws["any_failed_rate"] <= ws["any_failed_rate_hi"]
    sim = tk.simulate_sampling(spans, probability=1.0).traces["any_failed"]
    assert sim.isna().sum() == 2
    shares["simulate_sampling traces"] = float(sim.mean())  # pandas' mean skips <NA>
    assert {k: round(v, 9) for k, v in shares.items()} == {k: round(3 / 7, 9) for k in shares}
    text = format_summary(spans)
    assert ("traces with a failed span anywhere (of 7 traces with a known outcome; 2 with a span still in progress "
            "and none failed, not counted): 42.86%") in text
    assert "of 7 requests with a known outcome; 2 still in progress" in text
    # the span-level rates of the same frame: pay 3 failed of 8 known (1 in progress), web 1 of 7 (2)
    G = tk.service_graph(spans)
    e = G.edges["web", "pay"]
    assert (e["calls"], e["errors"], e["unknown"]) == (9, 3, 1)
    c = tk.compare(spans, spans, n_boot=10).table.set_index("service")
    assert (c.loc["pay", "error_rate_a"], c.loc["pay", "unknown_a"]) == (3 / 8, 1)
    assert (c.loc["web", "error_rate_a"], c.loc["web", "unknown_a"]) == (1 / 7, 2)
    assert tk.health_report(spans).set_index("check").loc["failed_request_ratio", "value"] == pytest.approx(1 / 7)


def test_log_errors_leave_out_the_spans_still_in_progress_with_no_error_yet():
    from tracekit.analysis.log_evidence import log_evidence

    def charges(n: int, first: int, pending: int = 0) -> pd.DataFrame:
        return tk.spans_from_columns({"trace_id": [f"{first + i:032x}" for i in range(n)], "span_id": ["1" * 16] * n,
                                      "service": ["pay"] * n, "name": ["charge"] * n, "start": [0] * n,
                                      "end": [5] * (n - pending) + [None] * pending})

    # an ERROR record on 4 of the incident's 10 finished spans, on 1 of the baseline's 20
    ids = [f"{1 + i:032x}" for i in range(4)] + [f"{101:032x}"]
    logs = tk.logs_from_columns({"time": [1] * 5, "trace_id": ids, "span_id": ["1" * 16] * 5,
                                 "body": ["card declined"] * 5, "severity": ["ERROR"] * 5})
    done = log_evidence(charges(10, 1), charges(20, 101), logs).table.iloc[0]
    # 10 more incident spans still in progress, nothing logged yet: neither erring nor error-free
    open_ = log_evidence(charges(20, 1, pending=10), charges(20, 101), logs).table.iloc[0]
    assert (int(open_["spans"]), int(open_["unknown"]), int(open_["baseline_unknown"])) == (20, 10, 0)
    assert open_["error_share"] == done["error_share"] == 0.4  # was 4 of 20 = 0.2
    assert open_["log_errors"] == done["log_errors"] > 0  # was 0: the rise vanished under the open spans
