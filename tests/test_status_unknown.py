"""Where no span records a status (TrainTicket-like exports: every status unset, no HTTP code), every module says the
error rate is unknown, never 0: the report's headline table, the timeline and its figure, the comparison of "What
changed", the postmortem's first screen, all by one kernel definition (tracekit.core.status_recorded). Frames with a
status keep their numbers."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.timeline import request_rows
from tracekit.core import failed_share, status_recorded, trace_outcomes
from tracekit.reporting import collect_report, render_markdown, render_report, write_report

from .conftest import lab_window

SHARES = ["failed_share", "any_failed_share"]


@pytest.fixture(scope="module")
def blind_report():
    """``blind_report(seed)``: ``collect_report`` of the status-less exception window of ``seed`` (its baseline given)
    and its page (``render_report``), made once per module: test_modules_agree_the_error_rate_is_unknown_without_status,
    test_health_error_rates_unknown_without_status and the browser test read the same report (2-5 s of CPU to collect,
    ~1 s to render, on two loaded cores). Tests read them, never edit them; they are let go with the module."""
    made: dict[int, tuple] = {}

    def get(seed: int) -> tuple:
        if seed not in made:
            w = lab_window("exception", seed=seed, status=False)
            data = collect_report(w.incident, baseline=w.baseline)
            made[seed] = (data, render_report(data))
        return made[seed]

    return get


def _headline_row(page: str, estimate: str) -> list[str]:
    table = page[page.index('id="headline-table"'):]
    table = table[:table.index("</table>")]
    row = next(r for r in table.split("<tr>") if r.startswith(f"<td>{estimate}</td>"))
    return re.findall(r"<td[^>]*>(.*?)</td>", row)


@pytest.mark.parametrize("seed", [5, pytest.param(8, marks=pytest.mark.slow), 11])
def test_modules_agree_the_error_rate_is_unknown_without_status(seed, blind_report):
    w = lab_window("exception", seed=seed, status=False)
    assert not status_recorded(w.incident) and not status_recorded(w.baseline)
    data, page = blind_report(seed)

    # the report's headline table: NaN in the result, "unknown" on the page and in report.md, with a note
    h = data.headline
    assert h[SHARES].isna().all().all(), h[SHARES]
    assert set(h.attrs["status_unknown"]) == set(h["estimate"])
    cols = [c.replace("<wbr>", "") for c in
            re.findall(r"<th>(.*?)</th>", page[page.index('id="headline-table"'):].split("</thead>")[0])]
    for est in h["estimate"]:
        cells = _headline_row(page, est)
        for c in SHARES:
            assert cells[cols.index(c)] == "unknown", (est, c, cells)
    assert 'id="headline-status"' in page and "unknown, not 0" in page
    md = render_markdown(data)
    assert "| unknown |" in md and "unknown, not 0" in md

    # the timeline: the failed count and the error rate are NaN in every bucket, whatever the key; the figure says so
    for by in (None, "route", "service"):
        tl = tk.timeline(w.incident, "1min", by=by)
        assert tl.attrs["status_recorded"] is False
        assert (tl["requests"] > 0).any()
        assert tl[["failed", "error_rate", "error_rate_lo", "error_rate_hi"]].isna().all().all(), by
    fig = tk.plot_timeline(w.incident, "1min", by="route")
    assert any(a.name == "error rate unknown" for a in fig.layout.annotations)
    assert "error rate: unknown (no span records a status)" in page  # the report's own timeline figure

    # the comparison behind "What changed" (and rank_causes' delta_error_rate): NaN, "unknown → unknown" on the page
    assert data.comparison[["error_rate_a", "error_rate_b", "delta_error_rate"]].isna().all().all()
    assert data.story.causes["delta_error_rate"].isna().all()
    assert "<td>unknown → unknown</td>" in page and "<td>0.0 % → 0.0 %</td>" not in page.replace("&nbsp;", " ")

    # the postmortem (the report's story): its first screen says unknown too, and no module says 0 %
    what = data.story.sentences("what")[0]
    assert "error rate unknown" in what and "error rate 0.0 %" not in what, what
    assert any(s.startswith("Status: no incident span carries a status") for s in data.story.sentences("sure"))


@pytest.mark.parametrize("seed", [5, pytest.param(11, marks=pytest.mark.slow)])
def test_frames_with_status_keep_their_error_rates(seed):
    w = lab_window("exception", seed=seed, status=True)
    assert status_recorded(w.incident)
    data = collect_report(w.incident, baseline=w.baseline)
    h = data.headline
    assert h.attrs["status_unknown"] == []
    for est, spans in (("as sampled", w.incident), ("baseline, as sampled", data.story.baseline)):
        o = trace_outcomes(spans)
        row = h[h["estimate"] == est].iloc[0]
        assert row["failed_share"] == pytest.approx(failed_share(o)[0])
        assert row["any_failed_share"] == pytest.approx(float((o["failed_spans"] > 0).mean()))
    assert h.loc[h["estimate"] == "as sampled", "failed_share"].iloc[0] > 0  # the fault shows
    assert data.comparison["error_rate_a"].notna().any() and data.comparison["error_rate_b"].notna().any()
    page = render_report(data)
    assert 'id="headline-status"' not in page and "unknown →" not in page and "error rate: unknown" not in page
    assert "unknown" not in _headline_row(page, "as sampled")

    tl = tk.timeline(w.incident, "1min")
    assert tl.attrs["status_recorded"] is True
    rows = request_rows(w.incident)
    assert tl["failed"].sum() == rows["failed"].sum() > 0
    busy = tl["requests"] > 0
    assert np.allclose(tl.loc[busy, "error_rate"], tl.loc[busy, "failed"] / tl.loc[busy, "requests"])
    fig = tk.plot_timeline(w.incident, "1min", by="route")
    assert not any(a.name == "error rate unknown" for a in fig.layout.annotations)


@pytest.mark.browser
def test_the_status_less_report_says_unknown_in_the_browser(tmp_path, blind_report):
    """The rendered page (Chromium): the timeline's error-rate row carries its "unknown" note and the headline table
    its "unknown" cells; no JS error."""
    from .browser import open_html

    out = tmp_path / "report.html"
    # tk.report(w.incident, out, baseline=w.baseline) of the status-less seed-5 window is this collect_report, written
    write_report(blind_report(5)[0], out)
    page = open_html(out, wait_for=".js-plotly-plot .main-svg", dom=True, evaluate=(
        "() => [Array.from(document.querySelectorAll('#timeline .annotation-text')).map(e => e.textContent),"
        " Array.from(document.querySelectorAll('#headline-table td')).map(e => e.textContent)]"))
    assert page.errors == []
    notes, cells = page.value
    assert any(t.startswith("unknown: no span carries a status") for t in notes), notes
    assert any(t.startswith("error rate: unknown") for t in notes), notes  # the row's title
    assert cells.count("unknown") == 4 and "0.0 %" not in cells, cells


# ---- the rest of the modules that show an error rate: request rows, bubble_up, version_regressions, health (pandas
# and Dask), the service graph and what draws them. Each: a status-less lab window says unknown (NaN / <NA> / the word),
# the same window with its status keeps the numbers the kernel's failed() gives.

def _pair(seed: int = 5):
    """The same fault-lab window with and without status (the status-less one drops only status columns)."""
    return lab_window("exception", seed=seed, status=True), lab_window("exception", seed=seed, status=False)


@pytest.mark.parametrize("by", [None, "route", "service", "name"])
def test_request_rows_and_select_requests_say_failed_unknown_without_status(by):
    from tracekit.core import failed

    known, blind = _pair()
    rk, rb = request_rows(known.incident, by), request_rows(blind.incident, by)
    assert str(rk["failed"].dtype) == str(rb["failed"].dtype) == "boolean"
    # without status: every request's outcome is <NA> (unknown), never False; the rest of the rows is the same
    assert len(rb) > 0 and rb["failed"].isna().all()
    pd_cols = [c for c in rk.columns if c != "failed"]
    assert rk[pd_cols].equals(rb[pd_cols])
    # with status: no <NA>, and the failures the kernel counts (request root / entry span / every span)
    assert rk["failed"].notna().all() and rk["failed"].sum() > 0
    if by in (None, "route"):
        o = trace_outcomes(known.incident)
        want = o.loc[o["request"].to_numpy(dtype=bool), "failed"].to_numpy(dtype=bool)
        assert rk["failed"].to_numpy(dtype=bool).tolist() == want.tolist()
    elif by == "name":
        assert rk["failed"].to_numpy(dtype=bool).tolist() == failed(known.incident).tolist()
    # select_requests keeps the representation (a box of the heatmap: every request here)
    sk, sb = tk.select_requests(known.incident, by), tk.select_requests(blind.incident, by)
    assert sb["failed"].isna().all() and str(sb["failed"].dtype) == "boolean" and len(sb) == len(rb)
    assert int(sk["failed"].sum()) == int(rk["failed"].sum()) > 0


def test_heatmap_selection_says_failed_unknown_without_status():
    from tracekit.widgets import HeatmapState

    known, blind = _pair()
    for w, unknown in ((known, False), (blind, True)):
        s = HeatmapState.from_spans(w.incident, "route")
        rows = s.requests
        state = s.select_points(range(len(rows)))
        head = state.summary_html().split("</p>")[0]
        if unknown:
            assert "failed unknown (no span records a status)" in head and " 0 failed" not in head, head
        else:
            assert f"{int(rows['failed'].sum()):,} failed" in head and "unknown" not in head, head


@pytest.mark.parametrize("level", ["trace", "span"])
def test_bubble_up_error_rates_unknown_without_status(level):
    from tracekit.core import failed

    known, blind = _pair()
    if level == "trace":
        sel = lambda t: t.request_ms > t.request_ms.median()  # noqa: E731
    else:
        sel = lambda s: s.duration_ms > s.duration_ms.median()  # noqa: E731
    hk, hb = (tk.bubble_up(w.incident, sel, level=level) for w in (known, blind))
    err = ["error_rate_with", "error_rate_without", "delta_error_rate"]
    assert hb.attrs["status_recorded"] is False and hk.attrs["status_recorded"] is True
    assert len(hb) and hb[err].isna().all().all()
    assert hk["error_rate_with"].notna().all() and (hk["error_rate_with"] > 0).any()
    if level == "span":  # the kernel's failed spans of each service, over every span (baseline = the rest)
        fl = pd.Series(failed(known.incident), index=known.incident.index)
        by_svc = fl.groupby(known.incident["service"].astype(object)).mean()
        rows = hk[(hk["dimension"] == "service") & (hk["value"] != "other")].set_index("value")
        assert len(rows) > 3
        for svc, rate in rows["error_rate_with"].items():
            assert rate == pytest.approx(by_svc[svc]), svc
    # the figure says unknown in its hover, never a 0 % difference
    hov = [h for t in tk.plot_bubble_up(hb).data for h in (t.hovertext or ())]
    assert hov and all("error rate with − without: unknown" in h for h in hov)
    hov = [h for t in tk.plot_bubble_up(hk).data for h in (t.hovertext or ())]
    assert not any("unknown" in h for h in hov) and any("error rate with − without: " in h for h in hov)


def test_version_regressions_error_rates_unknown_without_status():
    from tracekit.analysis.attribution.common import entry_rows, lookup_keys
    from tracekit.core import VERSION_KEYS, failed

    known, blind = _pair()
    vk, vb = (tk.version_regressions(w.incident, n_boot=50) for w in (known, blind))
    err = ["error_rate", "delta_error_rate", "delta_error_rate_lo", "delta_error_rate_hi"]
    assert vb.attrs["status_recorded"] is False and vk.attrs["status_recorded"] is True
    assert len(vb) > 1 and vb[err].isna().all().all()
    rest = [c for c in vk.columns if c not in err and c != "regression"]
    pd.testing.assert_frame_equal(vk[rest], vb[rest])  # latency, cp and their seeded intervals: as before
    # with status: each version's error rate is the kernel's failed share of its calls (entry spans)
    spans = known.incident
    entry = entry_rows(spans)[0]
    ver = np.array([None if v is None else str(v) for v in lookup_keys(spans, VERSION_KEYS)], dtype=object)
    df = pd.DataFrame({"s": spans["service"].astype(object), "v": ver, "f": failed(spans)})[entry & (ver != None)]  # noqa: E711
    want = df.groupby(["s", "v"])["f"].mean()
    got = vk.set_index(["service", "version"])["error_rate"]
    assert got.notna().all() and (got > 0).any()
    for k, rate in got.items():
        assert rate == pytest.approx(want[k]), k


def _on(engine: str, name: str):
    """tk.<name>, or tk.dask.<name> on the frame in 3 partitions."""
    if engine == "dask":
        pytest.importorskip("dask")
        return lambda s: getattr(tk.dask, name)(tk.dask.from_pandas(s, 3))
    return getattr(tk, name)


@pytest.mark.parametrize("engine", ["pandas", pytest.param("dask", marks=pytest.mark.slow)])
def test_health_error_rates_unknown_without_status(engine, blind_report):
    from tracekit.core import failed

    known, blind = _pair()
    run = _on(engine, "health_report")
    rk, rb = run(known.incident), run(blind.incident)
    metric = ["failed_request_ratio", "span_error_rate"]
    b = rb[rb["check"].isin(metric)]
    assert set(b["check"]) == set(metric)
    assert b[["value", "share"]].isna().all().all(), b[["check", "subject", "value", "share"]]
    assert b["explanation"].str.contains("unknown").all() and not b["explanation"].str.contains("0.0%").any()
    # with status: the kernel's numbers
    frr = rk[rk["check"] == "failed_request_ratio"].iloc[0]
    assert frr["value"] == pytest.approx(failed_share(trace_outcomes(known.incident))[0]) and frr["value"] > 0
    assert "unknown" not in frr["explanation"]
    fl = pd.Series(failed(known.incident), index=known.incident.index)
    want = fl.groupby(known.incident["service"].astype(object)).mean()
    ser = rk[rk["check"] == "span_error_rate"].set_index("subject")["value"]
    assert ser.to_dict() == pytest.approx(want.to_dict())
    # the report's health measures: no value cell, the explanation says unknown
    if engine == "pandas":
        page = blind_report(5)[1]  # blind: _pair()'s status-less window of seed 5, its report's page
        table = page[page.index('id="metrics-table"'):]
        row = next(r for r in table[:table.index("</table>")].split("<tr") if "<td>failed_request_ratio</td>" in r)
        assert re.findall(r"<td[^>]*>(.*?)</td>", row)[2] == "" and "unknown, not 0" in row


@pytest.mark.parametrize("engine", ["pandas", pytest.param("dask", marks=pytest.mark.slow)])
def test_service_graph_and_map_say_failures_unknown_without_status(engine):
    known, blind = _pair()
    graph = _on(engine, "service_graph")
    gk, gb = graph(known.incident), graph(blind.incident)
    assert gk.graph["status_recorded"] is True and gb.graph["status_recorded"] is False
    assert sum(d["errors"] for _, _, d in gk.edges(data=True)) > 0
    if engine == "dask":
        return
    fb = tk.plot_service_graph(gb, baseline=tk.service_graph(blind.baseline))
    edges = next(t for t in fb.data if t.meta == "edge_info").hovertext
    nodes = next(t for t in fb.data if t.meta == "nodes")
    now = [h for h in edges if "not called in this period" not in h]  # (edges only in the baseline have no counts)
    assert now and all("failed: unknown" in h and "(0.0%)" not in h for h in now)
    assert any("failed unknown → unknown" in h for h in edges)
    assert all("failed: unknown" in h for h in nodes.hovertext) and np.isnan(np.asarray(nodes.customdata, float)).all()
    assert not any(t.name == "calls, none failed" for t in fb.data)
    fk = tk.plot_service_graph(gk)
    edges = next(t for t in fk.data if t.meta == "edge_info").hovertext
    assert not any("unknown" in h for h in edges) and any(re.search(r"failed: [1-9]", h) for h in edges)


# ---- the per-trace failed flag (trace_outcomes, trace_summary, the explorer's list), the sampling estimates, the CLI
# summary, peer_outliers, error_origins and the map's fault / throttle counts. Each: the status-less lab window says
# unknown; the same window with its status gives the kernel's failed() numbers.

def test_trace_outcomes_failed_is_unknown_without_status():
    from tracekit.core import failed
    from tracekit.widgets import trace_table

    known, blind = _pair()
    for fn in (trace_outcomes, tk.trace_summary, trace_table):
        ok, ob = fn(known.incident), fn(blind.incident)
        assert str(ok["failed"].dtype) == str(ob["failed"].dtype) == "boolean", fn
        assert len(ob) > 0 and ob["failed"].isna().all(), fn
        assert ok["failed"].notna().all() and ok["failed"].sum() > 0, fn
        if fn is not trace_table:  # client errors and throttles are read off a status too
            for c in ("client_error", "throttled"):
                assert str(ok[c].dtype) == str(ob[c].dtype) == "boolean" and ob[c].isna().all(), (fn, c)
                assert ok[c].notna().all(), (fn, c)
        if "any_failed" in ok.columns:  # a failed span anywhere is read off a status too
            assert ob["any_failed"].isna().all() and ok["any_failed"].notna().all(), fn
        rest = [c for c in ok.columns if c not in ("failed", "client_error", "throttled", "failed_spans", "any_failed")]
        pd.testing.assert_frame_equal(ok[rest], ob[rest])  # latency, extent, roots: unchanged
    # with status: the request root's failed() (else the earliest fragment's), row by row
    o = trace_outcomes(known.incident)
    spans = known.incident
    pos = pd.Series(np.arange(len(spans)), index=spans["span_id"].astype(object).to_numpy())
    req = o[o["request"].to_numpy(dtype=bool)]
    want = failed(spans)[pos.loc[req["root_span_id"].astype(object)].to_numpy()]
    assert req["failed"].to_numpy(dtype=bool).tolist() == want.tolist()
    assert failed_share(o)[0] == pytest.approx(want.mean()) and np.isnan(failed_share(trace_outcomes(blind.incident))[0])
    assert failed_share(trace_outcomes(blind.incident))[1] == failed_share(o)[1] > 0  # the same requests, rate unknown
    # with status: the root's client_error() / throttled(), as failed
    from tracekit.core import client_error, throttled

    roots = pos.loc[req["root_span_id"].astype(object)].to_numpy()
    assert req["client_error"].to_numpy(dtype=bool).tolist() == (client_error(spans)[roots] & ~want).tolist()
    assert req["throttled"].to_numpy(dtype=bool).tolist() == throttled(spans)[roots].tolist()


def test_trace_outcomes_of_a_status_less_part_of_a_cached_frame_is_unknown():
    """The per-frame cache serves a frame holding whole traces of a cached one: the part's own status decides."""
    from tracekit.core.cache import CacheStats, cache_stats

    known, blind = _pair()
    other = blind.incident["trace_id"].str[::-1]  # the blind copy under other trace ids
    assert not other.isin(known.incident["trace_id"]).any()
    both = pd.concat([known.incident, blind.incident.assign(trace_id=other)], ignore_index=True)
    o = trace_outcomes(both)
    assert o["failed"].notna().all()  # the frame records a status: every outcome known
    part = both.iloc[len(known.incident):]
    hits = cache_stats().get("trace_outcomes", CacheStats()).hits
    op = trace_outcomes(part)
    assert cache_stats()["trace_outcomes"].hits == hits + 1  # taken from the whole frame's outcomes
    assert len(op) and op["failed"].isna().all() and not status_recorded(part)
    assert trace_outcomes(both.iloc[:len(known.incident)])["failed"].notna().all()


def test_weighted_summary_error_rates_unknown_without_status():
    known, blind = _pair()
    err = ["error_rate", "error_rate_lo", "error_rate_hi", "any_failed_rate", "any_failed_rate_lo",
           "any_failed_rate_hi", "naive_error_rate", "naive_any_failed_rate"]
    for by in (None, "service"):
        sk, sb = (tk.weighted_summary(w.incident, 3.0, by, n_boot=50) for w in (known, blind))
        assert sk.attrs["status_recorded"] is True and sb.attrs["status_recorded"] is False
        assert len(sb) and sb[err].isna().all().all() and sb["n_failed"].isna().all()
        assert sb["warning"].str.contains("error rates unknown").all()
        assert str(sk["n_failed"].dtype) == str(sb["n_failed"].dtype) == "Int64" and sk["n_failed"].notna().all()
        rest = [c for c in sk.columns if c not in (*err, "n_failed", "warning")]
        pd.testing.assert_frame_equal(sk[rest], sb[rest])  # counts and latency percentiles: the same seeded draws
    # with status and equal weights: the kernel's failed share of the requests, and its count
    o = trace_outcomes(known.incident)
    row = tk.weighted_summary(known.incident, 3.0, n_boot=50).iloc[0]
    assert row["error_rate"] == pytest.approx(failed_share(o)[0]) and failed_share(o)[0] > 0
    assert row["naive_error_rate"] == pytest.approx(failed_share(o)[0])
    assert int(row["n_failed"]) == int((o["failed"] & o["request"]).sum())
    assert row["any_failed_rate"] == pytest.approx(float((o["failed_spans"] > 0).mean()))


def test_simulate_sampling_and_sampling_bias_error_rates_unknown_without_status():
    known, blind = _pair()
    from tracekit.analysis.sampling import TailRule

    rule = TailRule(keep_errors=True, probability=0.3)
    sk, sb = (tk.simulate_sampling(w.incident, tail=rule, by="service") for w in (known, blind))
    assert str(sb.traces["failed"].dtype) == "boolean" and sb.traces[["failed", "any_failed"]].isna().all().all()
    rates = ["population_error_rate", "kept_error_rate", "weighted_error_rate"]
    assert sb.strata[rates].isna().all().all() and sk.strata["population_error_rate"].notna().all()
    # with status: each trace's failed is trace_outcomes', each stratum's population rate the mean of it
    o = trace_outcomes(known.incident).set_index(trace_outcomes(known.incident)["trace_id"].astype(object))
    t = sk.traces
    assert t["failed"].to_numpy(dtype=bool).tolist() == \
        o.loc[t["trace_id"].astype(object), "failed"].to_numpy(dtype=bool).tolist()
    want = t.assign(f=t["failed"].astype(float)).groupby(t["service"].astype(object))["f"].mean()
    got = sk.strata.set_index(sk.strata["service"].astype(object))["population_error_rate"]
    assert got.to_dict() == pytest.approx(want.to_dict()) and (got > 0).any()
    # the bias check: errors are tested with status, not without (a finding says why), never at a 0 % share
    tb, tk_ = sb.bias.tests, sk.bias.tests
    assert "errors" in set(tk_["dimension"]) and "errors" not in set(tb["dimension"])
    f = sb.bias.findings
    assert ((f["kind"] == "not_tested") & (f["dimension"] == "errors")).sum() == 1
    assert f.loc[f["dimension"] == "errors", "message"].str.contains("unknown, not 0").all()
    kept = sk.traces[sk.traces["kept"]]
    stat = tk_.loc[tk_["dimension"] == "errors", "statistic"].iloc[0]
    assert stat == pytest.approx(float(kept["failed"].astype(float).mean()))
    # sampling_bias of a sample of whole traces against its spans population: per stratum, unknown / the kernel's
    for w, unknown in ((blind, True), (known, False)):
        ids = w.incident["trace_id"].unique()[::2]
        sample = w.incident[w.incident["trace_id"].isin(ids)]
        st = tk.sampling_bias(sample, w.incident).strata  # by the root's service (one here: the front door)
        assert len(st) >= 1
        if unknown:
            assert st[["sample_error_rate", "population_error_rate"]].isna().all().all()
        else:
            for frame, col in ((w.incident, "population_error_rate"), (sample, "sample_error_rate")):
                o = trace_outcomes(frame)
                want = o.assign(f=o["failed"].astype(float)).groupby(o["root_service"].astype(object))["f"].mean()
                got = st.set_index(st["stratum"].astype(object))[col]
                assert got.to_dict() == pytest.approx(want.to_dict()) and (got > 0).any(), col


def test_cli_summary_says_the_failed_share_is_unknown_without_status():
    from tracekit.cli import format_summary

    known, blind = _pair()
    line = next(x for x in format_summary(blind.incident).splitlines() if x.startswith("failed requests"))
    assert "unknown (no span records a status)" in line and "%" not in line, line
    line = next(x for x in format_summary(known.incident).splitlines() if x.startswith("failed requests"))
    share = failed_share(trace_outcomes(known.incident))[0]
    assert f": {share:.2%}" in line and share > 0 and "unknown" not in line, line


def test_peer_outliers_error_columns_unknown_without_status():
    from tracekit.analysis.error_origins import is_origin
    from tracekit.core import failed, hosts

    known, blind = _pair()
    pk, pb = tk.peer_outliers(known.incident), tk.peer_outliers(blind.incident)
    err = ["error_origins", "peer_error_origins", "error_p_value",
           "origin_spans", "outcome_spans", "peer_origin_spans", "peer_outcome_spans"]  # (their counts: session 52)
    assert pk.attrs["status_recorded"] is True and pb.attrs["status_recorded"] is False
    assert len(pb) > 1 and pb[err].isna().all().all()
    rest = [c for c in pk.columns if c not in err]
    pd.testing.assert_frame_equal(pk[rest], pb[rest])  # the timing test: unchanged
    # with status: each host's share of spans where an error originates (failed(), no failed child)
    spans = known.incident
    df = pd.DataFrame({"s": spans["service"].astype(object), "h": hosts(spans),
                       "o": is_origin(spans, failed(spans))}).dropna()
    want = df.groupby(["s", "h"])["o"].mean()
    got = pk.set_index([pk["service"].astype(object), pk["host"].astype(object)])["error_origins"]
    assert got.notna().all() and (got > 0).any() and pk["error_p_value"].notna().all()
    for k, share in got.items():
        assert share == pytest.approx(want[k]), k


def test_error_origins_is_empty_and_says_unknown_without_status():
    from tracekit.analysis.error_origins import is_origin
    from tracekit.core import failed

    known, blind = _pair()
    for per_span in (False, True):
        eb = tk.error_origins(blind.incident, per_span=per_span)
        ek = tk.error_origins(known.incident, per_span=per_span)
        assert eb.attrs["status_recorded"] is False and ek.attrs["status_recorded"] is True
        assert len(eb) == 0  # no row, so no share of 0: unknown (the attribute says which)
        n = int(is_origin(known.incident, failed(known.incident)).sum())
        assert n > 0 and (len(ek) if per_span else int(ek["origins"].sum())) == n
    ek = tk.error_origins(known.incident)
    assert ek["share"].sum() == pytest.approx(1.0)


def test_service_map_says_faults_and_throttles_unknown_without_status():
    known, blind = _pair()
    hov = [h for t in tk.plot_service_graph(tk.service_graph(blind.incident)).data
           if t.meta in ("edge_info", "nodes") for h in (t.hovertext or ())]
    assert hov and any("faults: unknown" in h for h in hov) and any("throttles: unknown" in h for h in hov)
    assert not any(re.search(r"(faults|throttles): \d", h) for h in hov)
    g = tk.service_graph(known.incident)
    hov = [h for t in tk.plot_service_graph(g).data if t.meta in ("edge_info", "nodes") for h in (t.hovertext or ())]
    assert not any("unknown" in h for h in hov) and any(re.search(r"faults: [1-9]", h) for h in hov)
    assert any("throttles: 0" in h for h in hov)  # known: no 429 in this window, said as 0


def test_postmortem_says_unknown_for_the_set_without_status_beside_a_baseline_with_it():
    """An incident exported without status against a baseline with it: the first sentence gives the baseline's rate
    and says the incident's is unknown (not "n/a", not 0 %); "how sure" says the incident's rates are unknown."""
    inc = lab_window("exception", 5, status=False).incident
    base = lab_window("exception", 5, status=True).baseline
    assert not status_recorded(inc) and status_recorded(base)
    pm = tk.postmortem(inc, base, level="service", n_boot=20)
    what = pm.sentences("what")[0]
    assert "error rate unknown" in what and "n/a" not in what, what
    ev = next(f.evidence for f in pm.findings if f.topic == "what")
    assert np.isnan(ev.get("error_rate", ev.get("error_rate_during", np.nan)))
    sure = [s for s in pm.sentences("sure") if s.startswith("Status:")]
    assert sure and "unknown, not 0 %" in sure[0] and "count none" not in sure[0], sure


def test_status_class_is_unknown_not_ok_without_status():
    """Traces without an HTTP code fall back to their outcome ("ok" / "error"); where no span records a status there
    is no outcome to fall back on: the class is "unknown", never a success nobody recorded."""
    blind = lab_window("exception", 5, status=False).incident
    known = lab_window("exception", 5, status=True).incident
    wb = tk.weighted_summary(blind, 1.0, by="status_class")
    assert wb["status_class"].tolist() == ["unknown"] and wb["error_rate"].isna().all()
    wk = tk.weighted_summary(known, 1.0, by="status_class")
    assert "unknown" not in set(wk["status_class"]) and wk["error_rate"].notna().all()
    # a frame with status and a trace with no HTTP code keeps the outcome fallback
    from tracekit.analysis.sampling.traces import _status_class

    got = _status_class(pd.Series([200, None, None]), np.array([False, True, False]))
    assert got.tolist() == ["2xx", "error", "ok"]
    assert _status_class(pd.Series([None]), np.array([False]), known=False).tolist() == ["unknown"]
