"""One concept, one definition: every module reports the same failed share, request p95 and callee names.

The definitions live in tracekit.core (request latency = the request root's duration; failed = a 5xx
fault or status error that is not a 4xx or a throttle; percentiles = inverted_cdf; callee = one
resolver). This test computes the numbers through every module that shows them — trace_summary,
health_report, the CLI's format_summary, weighted_summary with uniform weights, compare, the report's
headline, service_graph and Dask — on crafted traces (with an async tail and an orphan fragment, in
both formats) and on simulated traces, and checks that they agree.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.core import failed_share, percentile

from .conftest import REPO, read_dataset
from .test_structure import mk

MS = 1_000_000
T0_MS = 1_700_000_000_000  # ms since the epoch


def crafted() -> pd.DataFrame:
    rows = [
        # 1: ok, 100 ms; its call to inventory is answered by nothing (an uninstrumented hop)
        (1, 1, None, "web", "GET /", "server", 0, 100), (1, 2, 1, "web", "GET /stock", "client", 10, 30),
        # 2: a 404 (client error, not a failure), 50 ms
        (2, 1, None, "web", "GET /cart", "server", 0, 50),
        # 3: a 503 with status unset (a failure), 80 ms
        (3, 1, None, "web", "POST /pay", "server", 0, 80),
        # 4: status error with no HTTP status (a failure), 120 ms
        (4, 1, None, "web", "GET /x", "server", 0, 120),
        # 5: a 92 ms request whose SQS consumer runs until 1,150 ms (async tail: extent is not latency)
        (5, 1, None, "web", "POST /checkout", "server", 0, 92), (5, 2, 1, "web", "orders publish", "producer", 80, 85),
        (5, 3, 2, "fulfillment", "process", "consumer", 200, 1150),
        # 6: a 60 ms request plus an orphan fragment of 500 ms (its parent was lost): not a second request
        (6, 1, None, "web", "GET /", "server", 0, 60), (6, 7, 99, "batch", "job", "server", 0, 500),
    ]
    # at 2023-11-14, not at the epoch: OTLP cannot carry a start of 0 (proto3's unset start, which the reader flags and
    # trace_outcomes reads as unknown since s39), and the otlp case writes these spans out and reads them back
    rows = [(*r[:6], r[6] + T0_MS, r[7] + T0_MS) for r in rows]
    return mk(
        rows,
        status=["ok", "ok", "error", "unset", "error", "ok", "ok", "ok", "ok", "ok"],
        http_status=pd.array([200, None, 404, 503, None, 202, None, None, 200, None], dtype="Int64"),
        error=[False, False, True, False, False, False, False, False, False, False],
        fault=[False, False, False, True, False, False, False, False, False, False],
        attributes=[{}, {"peer.service": "inventory"}, {}, {}, {}, {}, {"messaging.system": "aws_sqs"}, {}, {}, {}],
    )


#: the numbers the definitions give for crafted(): requests 100, 50, 80, 120, 92, 60 ms; 3 and 4 failed
FAILED_SHARE = 2 / 6
REQUEST_P95 = 120.0
REQUEST_P50 = 80.0


def numbers(spans: pd.DataFrame) -> dict[str, dict[str, float]]:
    """failed share and request p95 through every module that shows them."""
    out: dict[str, dict[str, float]] = {}
    ts = tk.trace_summary(spans)
    out["trace_summary"] = {"failed": failed_share(ts)[0], "p95": percentile(ts["request_ms"], 0.95)}
    tl = tk.timeline(spans, freq="1D")
    out["timeline"] = {"failed": float(tl["failed"].sum() / tl["requests"].sum())}
    what = next(f for f in tk.postmortem(spans).findings if f.topic == "what")
    if "error_rate" in what.evidence:  # no change found: the whole input is the incident, as here
        out["postmortem"] = {"failed": float(what.evidence["error_rate"]), "p95": float(what.evidence["p95_ms"])}
    hr = tk.health_report(spans).set_index("check")
    out["health_report"] = {"failed": float(hr.loc["failed_request_ratio", "value"]),
                            "p95": float(hr.loc["p95_request_latency_ms", "value"])}
    text = tk.format_summary(spans)
    out["format_summary"] = {"failed": float(re.search(r"failed requests[^:]*: ([0-9.]+)%", text).group(1)) / 100,
                             "p95": float(re.search(r"request latency ms[^:]*:.*?p95 ([0-9.]+)", text).group(1))}
    ws = tk.weighted_summary(spans, 1.0, n_boot=50).iloc[0]
    out["weighted_summary"] = {"failed": float(ws["error_rate"]), "p95": float(ws["p95_ms"])}
    ov = tk.compare(spans, spans, n_boot=20).overall.set_index("stat")
    out["compare"] = {"p95": float(ov.loc["p95_ms", "a"])}
    from tracekit.reporting import _headline

    h = _headline(spans, tk.trace_summary(spans)).set_index("estimate").loc["as sampled"]
    out["report"] = {"failed": float(h["failed_share"]), "p95": float(h["request_p95_ms"])}
    dh = tk.dask.health_report(tk.dask.from_pandas(spans, 2)).set_index("check")
    out["dask"] = {"failed": float(dh.loc["failed_request_ratio", "value"]),
                   "p95": float(dh.loc["p95_request_latency_ms", "value"])}
    return out


def _agree(nums: dict[str, dict[str, float]], key: str) -> set[float]:
    """The distinct values the modules give (exact; the CLI's printed value within its printed precision)."""
    vals = {m: v[key] for m, v in nums.items() if key in v and m != "format_summary"}
    assert len(vals) >= 5, vals
    exact = {round(v, 9) for v in vals.values()}
    printed = nums["format_summary"][key]
    assert all(abs(printed - v) <= (5e-5 if key == "failed" else 0.05) + 1e-12 for v in exact), (printed, exact)
    return exact


@pytest.mark.slow  # over 1.3 s in the fast lane at load 8 on 2 cores (issue 28)
@pytest.mark.parametrize("fmt", [None, "xray", "otlp"])
def test_every_module_gives_the_same_failed_share_and_request_p95(tmp_path, fmt):
    spans = crafted()
    if fmt:
        path = tmp_path / ("t.json" if fmt == "xray" else "t.jsonl")
        (tk.write_xray if fmt == "xray" else tk.write_otlp)(spans, path)
        spans = tk.read(path)
    nums = numbers(spans)
    assert _agree(nums, "failed") == {round(FAILED_SHARE, 9)}, nums
    assert _agree(nums, "p95") == {REQUEST_P95}, nums
    ts = tk.trace_summary(spans)
    assert percentile(ts["request_ms"], 0.5) == REQUEST_P50
    # the async tail and the fragment are extent, not latency
    assert ts["extent_ms"].max() == 1150.0 and ts["request_ms"].max() == 120.0


def test_callee_names_agree_between_the_service_map_and_health():
    spans = crafted()
    G = tk.service_graph(spans)
    hops = tk.health_report(spans, checks=["uninstrumented_hop"])
    assert ("web", "inventory") in G.edges
    assert hops["subject"].tolist() == ["web → inventory"]
    assert not G.nodes["inventory"]["instrumented"]


@pytest.mark.slow
@pytest.mark.parametrize(("scenario", "seed"), [("db-lock", 3), ("context-drop", 4), ("cold-starts", 5)])
def test_modules_agree_on_simulated_traces(scenario, seed):
    spans = tk.simulate.simulate(scenario, n_traces=250, seed=seed).spans
    nums = numbers(spans)
    assert len(_agree(nums, "failed")) == 1, nums
    assert len(_agree(nums, "p95")) == 1, nums
    # every unanswered hop health names (uninstrumented, its context dropped, or a span missing on it) is an edge to
    # that callee on the map
    G = tk.service_graph(spans)
    hops = tk.health_report(spans, checks=["uninstrumented_hop", "dropped_context", "missing_span_on_hop"])
    for subj in hops["subject"]:
        caller, callee = subj.split(" → ")
        if callee != "?":
            assert (caller, callee) in G.edges, subj
    assert np.isfinite(list(nums["trace_summary"].values())).all()


@pytest.mark.slow  # over 1.9 s in the fast lane at load 13 on 2 cores (issue 28)
def test_one_definition_of_host_and_version():
    """Clock skew, attribution and ranking read a span's host and version through tracekit.core.resources."""
    import tracekit.analysis.attribution.bubble as bubble
    import tracekit.analysis.attribution.versions as versions_mod
    import tracekit.analysis.skew as skew
    from tracekit.core import HOST_KEYS, VERSION_KEYS, hosts

    assert skew.HOST_KEYS is HOST_KEYS and bubble.HOST_KEYS is HOST_KEYS
    assert bubble.VERSION_KEYS is VERSION_KEYS and versions_mod.VERSION_KEYS is VERSION_KEYS
    spans = read_dataset("bad-host")
    h = hosts(spans)
    hits = tk.bubble_up(spans, lambda t: t.request_ms > t.request_ms.quantile(0.9), n=1000)
    assert set(hits.loc[hits["dimension"] == "host", "value"]) <= {str(x) for x in h if x is not None} | {"other"}
    sk = tk.detect_clock_skew(spans, by="host")
    assert set(sk["host"].dropna()) <= {x for x in h if x is not None}


def with_rootless_and_async() -> pd.DataFrame:
    """crafted() plus two traces that are not requests: a failed fragment whose root was lost, and a trace rooted
    in an SQS consumer linked to trace 5's producer span (asynchronous work, 400 ms, failed)."""
    base = crafted()
    more = mk([(7, 1, 98, "web", "GET /lost", "server", T0_MS, T0_MS + 40),
               (7, 2, 1, "db", "SELECT", "client", T0_MS + 5, T0_MS + 30),
               (8, 1, None, "fulfillment", "orders process", "consumer", T0_MS + 300, T0_MS + 700)],
              status=["error", "ok", "error"], http_status=pd.array([500, None, None], dtype="Int64"),
              fault=[True, False, False], error=[False] * 3,
              links=[[], [], [{"trace_id": base["trace_id"].iloc[6], "span_id": base["span_id"].iloc[6],
                               "trace_state": None, "flags": None, "attributes": {}}]])
    return pd.concat([base, more], ignore_index=True)


def test_requests_and_failed_share_are_one_population_everywhere():
    """Traces without their root and consumer-rooted traces are not requests: failed share 2 of 6 requests, p95
    120 ms in every module. Before: 4 of 8 traces (50 %) in health, weighted_summary and the CLI summary, 3 of 7
    in timeline (the consumer trace counted as a request), and p95 400 ms (the consumer trace's duration)."""
    spans = with_rootless_and_async()
    ts = tk.trace_summary(spans)
    assert ts["request"].tolist() == [True] * 6 + [False, False]
    assert ts["has_root"].tolist() == [True] * 6 + [False, True]
    nums = numbers(spans)
    assert _agree(nums, "failed") == {round(FAILED_SHARE, 9)}, nums
    assert _agree(nums, "p95") == {REQUEST_P95}, nums
    assert "requests: 6 (not requests: 1 asynchronous (consumer-rooted or linked); 1 without their root)" in \
        tk.format_summary(spans)
    from tracekit.reporting import _headline

    h = _headline(spans, ts).iloc[0]
    assert (h["traces"], h["requests"]) == (8, 6)


def test_async_workflows_requests_are_the_requests():
    """datasets/async-workflows: 515 traces, of which 115 are fulfillment invocations rooted in an SQS consumer
    span. 'request latency ms (root span duration, 515 requests): p50 34.8' became 400 requests, p50 48.9."""
    spans = tk.read(REPO / "datasets" / "async-workflows")
    ts = tk.trace_summary(spans)
    assert int(ts["request"].sum()) == 400 and int((ts["root_name"][~ts["request"]] == "orders process").sum()) == 115
    text = tk.format_summary(spans)
    assert "(root span duration, 400 requests)" in text
    assert float(re.search(r"request latency ms[^:]*: p50 ([0-9.]+)", text).group(1)) == round(
        percentile(ts.loc[ts["request"], "request_ms"], 0.5), 1)


@pytest.mark.parametrize("name", ["broken-context", "async-workflows"])
def test_critical_path_aggregates_count_the_requests_trace_outcomes_counts(name):
    """critical_path's ``request`` marked every trace's root sections, so the breakdown, the flame graph and
    saving_potential counted asynchronous work and the callee's half of a dropped context as requests: on
    broken-context 541 "requests" where trace_summary counts 500, and 36,506 ms of critical path over 33,003 ms of
    request latency (the callee's time twice; payments 36.1 % where its share of request time is 34.5 %)."""
    spans = tk.read(REPO / "datasets" / name)
    ts = tk.trace_summary(spans)
    req = ts[ts["request"]]
    cp = tk.critical_path(spans)
    on = cp[cp["request"]]
    assert set(on["trace_id"]) == set(req["trace_id"])
    bd = tk.critical_path_breakdown(cp)
    assert bd.attrs["traces"] == len(req)
    assert bd["cp_ms"].sum() == pytest.approx(req["request_ms"].sum(), rel=1e-9)
    tree = tk.critical_path_tree(cp, spans=spans)
    assert tree.attrs["requests"] == len(req) == tk.critical_path_tree(cp).attrs["requests"]
    assert float(tree.loc[tree["parent"].isna(), "total_ms"].sum()) == pytest.approx(req["request_ms"].mean(), rel=1e-9)


def test_an_async_root_is_no_request_on_the_critical_path():
    spans = tk.spans_from_columns({"trace_id": ["1" * 32, "2" * 32], "span_id": ["a" * 16, "b" * 16],
                                   "parent_id": [None, None], "service": ["web", "worker"], "name": ["GET /", "process"],
                                   "kind": ["server", "consumer"], "start": [0, 0], "end": [10 * MS, 1000 * MS]})
    cp = tk.critical_path(spans)
    assert cp["request"].tolist() == [True, False]
    bd = tk.critical_path_breakdown(cp)
    assert bd[["service", "cp_ms", "share"]].values.tolist() == [["web", 10.0, 1.0]]
    assert bd.attrs["fragment_ms"] == 1000.0  # said, not added to the requests' time


@pytest.mark.parametrize("name", ["deploy-regression", "async-workflows", "broken-context"])
def test_the_route_of_a_request_is_the_same_in_rank_causes_and_the_timeline(name):
    """core.request_routes (rank_causes' and log evidence's route of each request, new this round) and
    timeline(by="route") count the same requests under the same routes."""
    from tracekit.core import request_routes, trace_outcomes

    spans = read_dataset(name)
    req = trace_outcomes(spans)["request"].to_numpy()
    ours = pd.Series(request_routes(spans))[req].value_counts().sort_index()
    tl = tk.timeline(spans, "1h", by="route").groupby("route")["requests"].sum()
    tl = tl[tl > 0].astype("int64").sort_index()
    assert len(ours) >= 2 and ours.to_dict() == tl.to_dict()


def test_one_pause_of_the_cyclic_gc():
    """Readers, writers and the simulator pause the cyclic GC through one helper, tracekit.core.gc_pause
    (it had four copies, one of them, io.write's, without the promotion to the oldest generation)."""
    import ast

    calls = []
    for path in sorted((REPO / "tracekit").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("disable", "freeze") \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "gc":
                calls.append((str(path.relative_to(REPO)), node.func.attr))
    assert sorted(calls) == [("tracekit/core/gc_pause.py", "disable"), ("tracekit/core/gc_pause.py", "freeze")], calls
    import tracekit.io.otlp as otlp
    from tracekit.core.gc_pause import gc_paused

    assert otlp.gc_paused is gc_paused  # the name readers import from io.otlp is the kernel's


@pytest.mark.parametrize("status", [True, False])
def test_status_recorded_is_what_failed_can_see(status):
    """One definition of 'the spans can show a failure' (core.status_recorded): where it is False, failed() is False on
    every span (nothing was recorded), and the timeline, compare, request_rows, bubble_up, version_regressions, the
    health metrics, the service graph, trace_outcomes / trace_summary's failed flag, weighted_summary, the sampling
    simulation, peer_outliers and error_origins give the error rate as unknown (NaN / <NA> / status_recorded False /
    no row) rather than 0; where it is True they give numbers."""
    from tracekit.core import failed, status_recorded

    w = tk.simulate_faults.fault_window("exception", seed=4, status=status)
    blind = not status  # (a numpy bool is never `is` a Python bool: compare values, so each line can fail)
    assert status_recorded(w.incident) is status
    if not status:
        assert not failed(w.incident).any()
    tl = tk.timeline(w.incident)
    assert tl.attrs["status_recorded"] is status and bool(tl["error_rate"].isna().all()) == blind
    cmp = tk.compare(w.incident, w.baseline, by="service", n_boot=10)
    assert bool(cmp.table["error_rate_a"].isna().all()) == blind
    # request rows (and the heatmap's selection), bubble_up, version_regressions, the health metrics and the
    # service graph read the same definition: unknown (<NA> / NaN / a graph flag) exactly where it is False
    from tracekit.analysis.timeline import request_rows

    rows = request_rows(w.incident, "service")
    assert bool(rows["failed"].isna().all()) == blind and bool(rows["failed"].isna().any()) == blind
    hits = tk.bubble_up(w.incident, lambda t: t.request_ms > t.request_ms.median())
    assert hits.attrs["status_recorded"] is status and bool(hits["error_rate_with"].isna().all()) == blind
    vr = tk.version_regressions(w.incident, n_boot=10)
    assert vr.attrs["status_recorded"] is status and bool(vr["error_rate"].isna().all()) == blind
    hr = tk.health_report(w.incident, checks=["failed_request_ratio", "span_error_rate"])
    assert len(hr) > 1 and bool(hr["value"].isna().all()) == blind and bool(hr["value"].isna().any()) == blind
    assert tk.service_graph(w.incident).graph["status_recorded"] is status
    # the per-trace failed flag (trace_outcomes, trace_summary), failed_share, weighted_summary, the sampling
    # simulation, peer_outliers and error_origins: the same definition, unknown exactly where it is False
    from tracekit.core import failed_share, trace_outcomes

    o = trace_outcomes(w.incident)
    assert str(o["failed"].dtype) == "boolean" and bool(o["failed"].isna().all()) == blind
    assert bool(o["failed"].isna().any()) == blind
    assert bool(tk.trace_summary(w.incident)["failed"].isna().all()) == blind
    assert bool(np.isnan(failed_share(o)[0])) == blind
    ws = tk.weighted_summary(w.incident, 2.0, n_boot=10)
    assert ws.attrs["status_recorded"] is status and bool(np.isnan(ws["error_rate"].iloc[0])) == blind
    sim = tk.simulate_sampling(w.incident, 0.5)
    assert bool(sim.traces["failed"].isna().all()) == blind and bool(sim.strata["population_error_rate"].isna().all()) == blind
    po = tk.peer_outliers(w.incident)
    assert len(po) and po.attrs["status_recorded"] is status and bool(po["error_origins"].isna().all()) == blind
    eo = tk.error_origins(w.incident)
    assert eo.attrs["status_recorded"] is status and (len(eo) > 0) is status


def test_a_root_that_ends_before_it_starts_has_no_latency():
    """The reader flags such a span and critical_path refuses it, but trace_summary said request_ms -100 and the
    what_if summary a p50 of -100 ms."""
    spans = tk.spans_from_columns({"trace_id": ["1" * 32, "2" * 32], "span_id": ["a" * 16, "b" * 16],
                                   "service": ["web", "web"], "name": ["GET /", "GET /"], "kind": ["server", "server"],
                                   "start": [500 * MS, 0], "end": [400 * MS, 50 * MS]})
    ts = tk.trace_summary(spans)
    assert ts["request_ms"].isna().tolist() == [True, False] and ts["extent_ms"].isna().tolist() == [True, False]
    assert ts["request"].tolist() == [True, True]  # still a request: its outcome counts, its latency is unknown
    h = tk.health_report(spans)
    assert float(h.loc[h["check"] == "p95_request_latency_ms", "value"].iloc[0]) == 50.0


def test_the_request_root_does_not_depend_on_row_order():
    """Two roots with the same start and end: row order chose the request (root_service, which critical path counts)."""
    cols = {"trace_id": ["1" * 32] * 2, "span_id": ["b" * 16, "a" * 16], "service": ["web", "api"],
            "name": ["GET /", "GET /"], "kind": ["server", "server"], "start": [0, 0], "end": [10 * MS, 10 * MS]}
    a = tk.spans_from_columns(cols)
    b = tk.spans_from_columns({k: v[::-1] for k, v in cols.items()})
    assert tk.trace_summary(a)["root_service"].tolist() == tk.trace_summary(b)["root_service"].tolist() == ["api"]
    assert tk.critical_path(a).loc[lambda c: c["request"], "service"].tolist() == ["api"]
    assert tk.critical_path(b).loc[lambda c: c["request"], "service"].tolist() == ["api"]


def test_one_id_rule_for_columns_and_for_ids_read_one_at_a_time():
    """Metric exemplars read their ids one at a time (schema.canonical_id); every column goes through
    schema.canonical_ids. They had drifted: exemplars took no base64, no X-Amzn-Trace-Id header and no raw bytes,
    which spans and logs take. The scalar rule must give what the column rule gives, value for value."""
    from tracekit.schema import canonical_id, canonical_ids

    rng = np.random.default_rng(7)
    hexes = ["".join(rng.choice(list("0123456789abcdefABCDEF"), 32)) for _ in range(20)]
    values = [*hexes, *(h[:16] for h in hexes), None, "", "  ", "0" * 32, "0" * 16, "W47/95gDgQPSabYzgT/GDA==",
              "7uGbfsPBsXQ=", "7uGbfsPBsXQ", "1-5759E988-BD862E3FE1BE46A994272793", " 1-5759e988-bd862e3fe1be46a994272793 ",
              "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8", "NotRoot=1-5759e988-bd862e3fe1be46a994272793",
              "root=", "Sampled=1", "t1", "1-5759e988-bd862e3fe1be46a99427279", "g" * 32, "é" * 16, b"\x01" * 16, b"\xff" * 8,
              bytearray(8), b"\xff" * 3, "5759e988bd862e3fe1be46a994272793\n", "0x" + "a" * 30]
    for width in (32, 16):
        for xray in (True, False):
            ids, bad = canonical_ids(values, width, xray=xray)
            for v, want, is_bad in zip(values, ids.tolist(), bad.tolist(), strict=True):
                if is_bad:
                    with pytest.raises(ValueError):
                        canonical_id(v, width, xray=xray)
                else:
                    assert canonical_id(v, width, xray=xray) == (None if want is pd.NA else want), (v, width, xray)
    m = tk.metrics_from_columns({"time": [0], "name": ["x"], "value": [1.0], "exemplars": [[
        {"time": 0, "value": 1.0, "trace_id": b"\x01" * 16, "span_id": "7uGbfsPBsXQ="}]]})
    assert m["exemplars"].iloc[0][0]["trace_id"] == "01" * 16
    assert m["exemplars"].iloc[0][0]["span_id"] == "eee19b7ec3c1b174"


def test_the_request_rate_counts_the_timelines_requests_over_the_time_covered():
    """The postmortem's request rate (new in session 54): the requests trace_outcomes and the timeline count (not a
    fragment without its root), over the time the data covers (a 10-minute hole in the export is no quiet time)."""
    def side(n_each: int, every_s: float, t0_s: float, trace0: int) -> list:
        rows = []
        for half in range(2):
            for i in range(n_each):
                t = T0_MS + int((t0_s + half * 600 + i * every_s) * 1e3)  # ms; the second half 10 minutes later
                tid = trace0 + half * n_each + i
                rows.append((tid, 1, None, "web", "GET /", "server", t, t + 40))
        # a fragment whose root was lost: no request, so not in the rate
        t = T0_MS + int(t0_s * 1e3)
        rows.append((trace0 + 9_999, 7, 99, "db", "query", "client", t + 5, t + 9))
        return rows

    incident = mk(side(60, 1.0, 7_200, 0))
    base = mk(side(100, 0.2, 0, 100_000))
    req = trace_outcomes_requests(incident)
    tl = int(tk.timeline(incident, "1min")["requests"].sum())
    assert len(req) == tl == 120
    what = next(f for f in tk.postmortem(incident, base, n_boot=20).findings if f.topic == "what")
    # 120 requests, 118 pauses of 1 s (the 10-minute hole left out): 118 / 118 s; the baseline's 198 / 39.6 s
    assert what.evidence["requests_per_second"] == pytest.approx(1.0)
    assert what.evidence["baseline_requests_per_second"] == pytest.approx(5.0)
    assert "the window's requests came at 1 a second, the baseline's at 5" in what.text


def trace_outcomes_requests(spans: pd.DataFrame) -> pd.DataFrame:
    from tracekit.core import trace_outcomes

    o = trace_outcomes(spans)
    return o[o["request"].to_numpy(dtype=bool)]
