"""One failed share everywhere for SPANS whose outcome is unknown, and OpenTelemetry's final status ``ok`` (review s37,
area "rates").

- a span still in progress with no status yet (core.outcome_unknown: X-Ray in progress, or no end, nothing recorded)
  is neither failed nor ok: every span-level failed share — health's ``span_error_rate`` (pandas and Dask),
  ``service_graph``'s edges and nodes (their ``unknown`` count, and the service map's share), ``version_regressions``,
  ``peer_outliers``' error origins, ``rank_causes``' ``errors`` — leaves it out, as ``compare``, ``bubble_up`` and the
  timeline by a span key already did, and the words say how many were left out;
- an explicit status ``ok`` is final (OpenTelemetry): status ``ok`` with HTTP 500 did not fail (core.failed).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.core import failed, outcome_unknown, trace_outcomes

MS = 1_000_000
T0 = pd.Timestamp("2026-03-02T14:00Z").value


def _calls(status: list[str], version: str, first: int, host: str = "db-1") -> pd.DataFrame:
    """One trace per entry of ``status``: a finished ``web`` server root calling a ``db`` server span (service.version
    ``version`` on ``host``) of that status; an ``unset`` db span has no end (still in progress, nothing recorded).
    Trace ``first + i`` starts ``first + i`` seconds after 14:00 UTC."""
    tid, sid, pid, svc, kind, start, end, st, res = ([] for _ in range(9))
    for i, s in enumerate(status):
        t, s0 = f"{first + i:032x}", T0 + (first + i) * 1000 * MS
        tid += [t, t]
        sid += [f"{2 * (first + i):016x}", f"{2 * (first + i) + 1:016x}"]
        pid += [None, f"{2 * (first + i):016x}"]
        svc += ["web", "db"]
        kind += ["server", "server"]
        start += [s0, s0 + MS]
        end += [s0 + 20 * MS, None if s == "unset" else s0 + 10 * MS]
        st += ["ok", s]
        res += [{"service.version": "1.0", "host.name": "web-1"}, {"service.version": version, "host.name": host}]
    n = len(tid)
    return tk.spans_from_columns({"trace_id": tid, "span_id": sid, "parent_id": pid, "service": svc,
                                  "name": ["GET /", "query"] * (n // 2), "kind": kind, "start": start, "end": end,
                                  "status": st, "resource": res})


@pytest.fixture(scope="module")
def mixed() -> pd.DataFrame:
    # db 1.0 first: 10 calls, all ok; then db 1.1: 2 failed, 5 ok, 3 still in progress. db's failed share is 2 of
    # 17 known (not 2 of 20), version 1.1's 2 of 7 (not 2 of 10)
    return pd.concat([_calls(["ok"] * 10, "1.0", 1),
                      _calls(["error"] * 2 + ["ok"] * 5 + ["unset"] * 3, "1.1", 100)], ignore_index=True)


def test_every_module_gives_the_span_failed_share_of_the_known_outcomes(mixed):
    db = (mixed["service"] == "db").to_numpy()
    assert (failed(mixed)[db].sum(), outcome_unknown(mixed)[db].sum()) == (2, 3)
    # the service db: 2 of 17
    svc: dict[str, float] = {}
    h = tk.health_report(mixed, checks=["span_error_rate"]).set_index("subject")
    svc["health span_error_rate"] = float(h.loc["db", "value"])
    G = tk.service_graph(mixed)
    e, nd = G.edges["web", "db"], G.nodes["db"]
    assert (e["calls"], e["errors"], e["unknown"]) == (20, 2, 3) and (nd["spans"], nd["errors"], nd["unknown"]) == (20, 2, 3)
    svc["service_graph edge"] = e["errors"] / (e["calls"] - e["unknown"])
    svc["service_graph node"] = nd["errors"] / (nd["spans"] - nd["unknown"])
    from tracekit.plotting.service_map import _edge_failed_share

    svc["service map edge"] = _edge_failed_share(e)
    svc["compare by service"] = float(tk.compare(mixed, mixed, by="service", n_boot=10).table.set_index("service")
                                      .loc["db", "error_rate_a"])
    tl = tk.timeline(mixed, freq="1h", by="service").set_index("service").loc["db"]
    svc["timeline by service"] = float(tl["error_rate"])
    assert {k: round(v, 9) for k, v in svc.items()} == {k: round(2 / 17, 9) for k in svc}
    # db's version 1.1: 2 of 7
    ver: dict[str, float] = {}
    vr = tk.version_regressions(mixed, n_boot=20).set_index(["service", "version"])
    ver["version_regressions"] = float(vr.loc[("db", "1.1"), "error_rate"])
    assert vr.loc[("db", "1.0"), "error_rate"] == 0 and vr.loc[("db", "1.1"), "calls"] == 10
    assert vr.loc[("db", "1.1"), "delta_error_rate"] == pytest.approx(2 / 7)
    po = tk.peer_outliers(mixed, level="version").set_index(["service", "version"])
    ver["peer_outliers"] = float(po.loc[("db", "1.1"), "error_origins"])
    assert po.loc[("db", "1.1"), "peer_error_origins"] == 0 and po.loc[("db", "1.0"), "peer_error_origins"] == \
        pytest.approx(2 / 7)
    ver["compare by version"] = float(tk.compare(mixed, mixed, by="version", n_boot=10).table
                                      .set_index(["service", "version"]).loc[("db", "1.1"), "error_rate_a"])
    b = tk.bubble_up(mixed, mixed["span_id"][db & (mixed["start"] >= mixed["start"].iloc[20]).to_numpy()],
                     mixed["span_id"][db & (mixed["start"] < mixed["start"].iloc[20]).to_numpy()], level="span", n=50)
    ver["bubble_up"] = float(b.iloc[0]["error_rate_with"])
    assert {k: round(v, 9) for k, v in ver.items()} == {k: round(2 / 7, 9) for k in ver}


def test_the_dask_span_error_rate_is_the_pandas_one_across_partitions(mixed):
    dask = pytest.importorskip("dask")
    pytest.importorskip("dask.dataframe")
    from tracekit.dask import from_pandas
    from tracekit.dask import health_report as dask_health
    from tracekit.dask import service_graph as dask_graph

    want = tk.health_report(mixed, checks=["span_error_rate"]).set_index("subject")
    G = tk.service_graph(mixed)
    with dask.config.set(scheduler="synchronous"):
        for parts in (1, 3):  # the in-progress calls in one partition, the finished ones spread over the others
            ddf = from_pandas(mixed, parts)
            got = dask_health(ddf, checks=["span_error_rate"]).set_index("subject")
            assert got.loc["db", "value"] == pytest.approx(2 / 17) == want.loc["db", "value"], parts
            assert got.loc["db", "explanation"] == want.loc["db", "explanation"], parts
            D = dask_graph(ddf)
            for k in ("calls", "errors", "unknown"):
                assert D.edges["web", "db"][k] == G.edges["web", "db"][k], (parts, k)
            for k in ("spans", "errors", "unknown"):
                assert D.nodes["db"][k] == G.nodes["db"][k], (parts, k)
            assert D.edges["web", "db"]["unknown"] == 3 and D.nodes["db"]["unknown"] == 3


def test_the_words_of_a_span_rate_say_how_many_were_left_out(mixed):
    h = tk.health_report(mixed, checks=["span_error_rate"]).set_index("subject")
    assert h.loc["db", "explanation"].startswith("11.8% of db's 17 spans with a known outcome failed")
    assert "3 spans still in progress (outcome unknown, neither failed nor ok) are left out" in h.loc["db", "explanation"]
    assert h.loc["web", "explanation"].startswith("0.0% of web's 20 spans failed") and "left out" not in \
        h.loc["web", "explanation"]
    # every db span in progress (web's finished root records a status): db's rate is unknown, not 0
    pending = _calls(["unset"] * 4, "1.1", 500)
    h = tk.health_report(pending, checks=["span_error_rate"]).set_index("subject")
    assert np.isnan(h.loc["db", "value"]) and "all are still in progress" in h.loc["db", "explanation"]
    G = tk.service_graph(pending)
    from tracekit.plotting.service_map import _edge_failed_share

    assert G.edges["web", "db"]["unknown"] == 4 and _edge_failed_share(G.edges["web", "db"]) is None
    # rank_causes' errors: 2 origins of the 7 spans of known outcome, the 3 in progress said
    base = _calls(["ok"] * 10, "1.1", 300)
    inc = _calls(["error"] * 2 + ["ok"] * 5 + ["unset"] * 3, "1.1", 100)
    rc = tk.rank_causes(inc, base, n_boot=10).set_index("service")
    assert rc.loc["db", "errors"] == pytest.approx(2 / (7 + 10))  # shrunk with 10 pseudo-spans at the baseline's 0
    assert "errors originate in it (2 of its 7 spans of known outcome, 3 still in progress (outcome unknown) left out" \
        in rc.loc["db", "hypothesis"], rc.loc["db", "hypothesis"]


def test_a_component_whose_spans_are_all_in_progress_has_no_error_share():
    # db-1: 4 calls in progress; db-2: 6 finished, 3 failed. db-1's share is unknown (it read 0 of 4)
    spans = pd.concat([_calls(["unset"] * 4, "1.1", 1, host="db-1"),
                       _calls(["error"] * 3 + ["ok"] * 3, "1.1", 50, host="db-2")], ignore_index=True)
    po = tk.peer_outliers(spans).set_index(["service", "host"])
    assert np.isnan(po.loc[("db", "db-1"), "error_origins"]) and po.loc[("db", "db-2"), "error_origins"] == 0.5
    assert po.loc[("db", "db-1"), "peer_error_origins"] == 0.5
    vr = tk.version_regressions(_calls(["unset"] * 4, "2.0", 1), n_boot=10).set_index(["service", "version"])
    assert np.isnan(vr.loc[("db", "2.0"), "error_rate"]) and vr.loc[("web", "1.0"), "error_rate"] == 0


def test_an_explicit_ok_is_final():
    # OpenTelemetry: status OK is final over the HTTP code. 500 with ok: not failed; 500 unset or error: failed; ok
    # without a code: ok; a fault flag with no HTTP code (X-Ray's own outcome, or a hand-built frame's): failed
    spans = tk.spans_from_columns({
        "trace_id": [f"{i:032x}" for i in range(1, 6)], "span_id": [f"{i:016x}" for i in range(1, 6)],
        "service": ["web"] * 5, "name": ["GET /"] * 5, "kind": ["server"] * 5,
        "start": [T0 + i * MS for i in range(5)], "end": [T0 + (i + 10) * MS for i in range(5)],
        "status": ["ok", "unset", "error", "ok", "ok"], "http_status": pd.array([500, 503, 500, None, None], "Int64"),
        "fault": [True, True, True, False, True]})
    assert failed(spans).tolist() == [False, True, True, False, True]
    assert trace_outcomes(spans)["failed"].tolist() == [False, True, True, False, True]
    assert tk.health_report(spans, checks=["span_error_rate"]).set_index("subject").loc["web", "value"] == 0.6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert tk.timeline(spans, freq="1h").iloc[0]["error_rate"] == 0.6
    # the OTLP reader keeps the 5xx as a fact (fault) beside the status; only the kernel reads them together
    derived = tk.spans_from_columns({"trace_id": ["1" * 32], "span_id": ["a" * 16], "service": ["web"],
                                     "name": ["GET /"], "start": [T0], "end": [T0 + MS], "status": ["ok"],
                                     "http_status": [500]})
    assert derived["fault"].tolist() == [True] and failed(derived).tolist() == [False]


def test_no_real_trace_has_an_explicit_ok_beside_a_5xx(real_traces):
    # the rule's reach on real data: the X-Ray reader writes status error whenever a flag is set (never ok beside a
    # fault), and the real OTLP spans carry no ok with a 5xx; so these files' failures are the same under both rules
    folder = real_traces / "otel-contrib-awsxray-testdata"
    spans = pd.concat([tk.read(folder / f) for f in ("ddbSample.txt", "minOtherFields.txt", "minCauseIsInvalid.txt",
                                                     "serverSample.txt")], ignore_index=True)
    st = spans["status"].astype(object).to_numpy()
    fault = spans["fault"].to_numpy(dtype=bool)
    assert fault.sum() > 0 and not ((st == "ok") & fault).any()
    old_rule = fault | ((st == "error") & ~spans["error"].to_numpy(dtype=bool) & ~spans["throttle"].to_numpy(dtype=bool))
    assert failed(spans).tolist() == old_rule.tolist()


def test_an_error_below_a_root_in_progress_has_an_unknown_reach():
    # 4 traces, each a failed db span under a web root: 2 roots failed (the error reached them), 2 still in progress
    # with no status yet (whether the error will reach them is unknown). reached_root: 2 of 2 known, not 2 of 4
    rows: dict[str, list] = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "start", "end",
                                             "status")}
    for i, root in enumerate(["error", "error", "unset", "unset"]):
        t = f"{i + 1:032x}"
        rows["trace_id"] += [t, t]
        rows["span_id"] += [f"{2 * i + 1:016x}", f"{2 * i + 2:016x}"]
        rows["parent_id"] += [None, f"{2 * i + 1:016x}"]
        rows["service"] += ["web", "db"]
        rows["name"] += ["GET /", "query"]
        rows["start"] += [T0, T0 + MS]
        rows["end"] += [None if root == "unset" else T0 + 20 * MS, T0 + 10 * MS]
        rows["status"] += [root, "error"]
    spans = tk.spans_from_columns(rows)
    per = tk.error_origins(spans, per_span=True)
    assert per["service"].tolist() == ["db"] * 4
    assert per["reached_root"].isna().tolist() == [False, False, True, True]  # it read False: "the error stopped"
    assert per["reached_root"].iloc[:2].tolist() == [True, True]
    agg = tk.error_origins(spans).set_index("service")
    assert agg.loc["db", "origins"] == 4 and agg.loc["db", "reached_root"] == 1.0
    only_pending = spans[spans["trace_id"].isin([f"{3:032x}", f"{4:032x}"])].reset_index(drop=True)
    assert np.isnan(tk.error_origins(only_pending).set_index("service").loc["db", "reached_root"])
