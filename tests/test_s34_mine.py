"""Session 34, the lead's own fixes from the last note's list (each test failed before its fix)."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import pandas as pd
import pytest

import tracekit as tk


@pytest.fixture(scope="module")
def small():
    return tk.examples.load("checkout-small")


@pytest.mark.parametrize("bad", [95, 1.5, -0.1, "x", None, float("nan"), True])
def test_exemplars_q_out_of_range_is_an_argument_error_naming_q(small, bad):
    """exemplars(quantile=95) said 'percentile: q must be within [0, 1]' (a private helper's name) and 'x' raised
    a bare ValueError; the argument is now ``q``, as in rank_causes and metric_evidence, checked by name."""
    with pytest.raises(tk.ArgumentError, match=r"^exemplars: q must be"):
        tk.exemplars(small, small, q=bad)


def test_exemplars_old_quantile_keyword_warns_and_picks_the_same_trace(small):
    with pytest.warns(DeprecationWarning, match="quantile= is deprecated, use q="):
        old = tk.exemplars(small, small, quantile=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        new = tk.exemplars(small, small, q=0.5)
    assert old.incident_trace_id == new.incident_trace_id
    # q picks the request nearest that quantile of its kind's request latency: the median and the slowest differ
    top = tk.exemplars(small, small, q=1.0)
    assert top.request_ms[0] > new.request_ms[0]


# ------------------------------------------------------------------------------------------------
# one rule for writing a file whole or not at all: tracekit.core.files.replaced

def test_a_report_that_fails_leaves_the_previous_report_and_its_markdown(small, tmp_path, monkeypatch):
    """Before: the page was written in place, then the Markdown rendered; a failure there left a new page beside the
    old Markdown (a pair from two runs). Now both are rendered before either is written."""
    import tracekit.reporting as reporting

    out = tmp_path / "report.html"
    out.write_text("old page")
    out.with_suffix(".md").write_text("old markdown")

    def broken(data):
        raise RuntimeError("render failed")

    monkeypatch.setattr(reporting, "render_markdown", broken)
    with pytest.raises(RuntimeError, match="render failed"):
        tk.report(small, out, markdown=True)
    assert out.read_text() == "old page" and out.with_suffix(".md").read_text() == "old markdown"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.md"]


def test_a_report_over_a_symbolic_link_replaces_its_target_and_keeps_the_link(small, tmp_path):
    real = tmp_path / "shared" / "latest.html"
    real.parent.mkdir()
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "report.html"
    link.symlink_to(real)
    tk.report(small, link)
    assert link.is_symlink() and real.read_text().startswith("<!DOCTYPE html>")
    assert real.stat().st_mode & 0o777 == 0o640


def test_cache_pages_are_private_and_user_files_follow_the_umask(tmp_path):
    from tracekit.aws.cache import atomic_write
    from tracekit.core.files import replaced

    atomic_write(tmp_path / "c" / "batch-1.json", b"{}")
    with replaced(tmp_path / "out.json") as f:
        f.write(b"{}")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "c" / "batch-1.json").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "out.json").stat().st_mode & 0o777 == 0o666 & ~umask


def test_every_file_writer_goes_through_core_files():
    """One definition: no other module renames a temporary file over a target or writes a user's file in place
    (the store writers move whole folders, and simulate writes the bundled datasets)."""
    root = Path(tk.__file__).parent
    allowed = {"core/files.py", "io/parquet.py", "dask.py", "simulate.py"}
    offenders = []
    for p in sorted(root.rglob("*.py")):
        rel = p.relative_to(root).as_posix()
        if rel in allowed:
            continue
        for i, line in enumerate(p.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if ">>>" in line or "..." in line[:8]:
                continue
            if re.search(r"os\.replace\(|mkstemp\(|\.write_text\(|\.write_bytes\(", code):
                offenders.append(f"{rel}:{i}: {line.strip()}")
    assert not offenders, "write files through tracekit.core.files.replaced:\n" + "\n".join(offenders)


# ------------------------------------------------------------------------------------------------
# a service's metric series over its hosts: a missed scrape is not a change

def _two_pods(missing: range, *, seed: int = 0, third_from: int | None = None):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    rows = []
    pods = [("cart-1", 10.0), ("cart-2", 90.0)] + ([("cart-3", 50.0)] if third_from is not None else [])
    for host, level in pods:
        for i in range(120):  # an hour scraped every 30 s
            if (host == "cart-2" and i in missing) or (host == "cart-3" and i < third_from):
                continue
            rows.append((t0 + pd.Timedelta(seconds=30 * i), level + rng.normal(0, 1), host))
    t, v, h = zip(*rows, strict=True)
    return tk.metrics_from_columns({"time": list(t), "name": "cpu", "value": list(v), "service": "cart", "host": list(h),
                                    "unit": "%"})


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("missing", [range(60, 80), range(2, 30), range(100, 119)])
def test_a_pod_missing_its_scrapes_is_no_service_change(seed, missing):
    """Two pods at 10 % and 90 % CPU, one missing 10-14 minutes of scrapes (in the middle, near the start, near the end
    but before its last point): the service's series read 10 % there and detect_metric_changes reported cpu −79 %.
    Now the pod gives its previous bucket's value inside its own first..last point; the rows say how many carried."""
    m = _two_pods(missing, seed=seed)
    s = tk.metric_series(m)
    assert s["value"].between(45, 55).all(), s[~s["value"].between(45, 55)]
    assert (s["streams"] == 2).all() and s["carried"].max() == 1 and s["carried"].sum() >= 8
    assert s["points"].sum() == len(m)  # a carried value is not a point
    # the carried value holds one scrape's noise for the whole gap: at most that offset (±1 point of 50), not −79 %
    assert (tk.detect_metric_changes(m)["relative"].abs() < 0.05).all()


def test_a_pod_that_joins_or_leaves_is_averaged_only_inside_its_own_points():
    """A third pod (50 %) that starts half way is not carried backwards; a pod whose last point is early is not
    carried after it: the fleet's change is the series' change."""
    m = _two_pods(range(0), third_from=60)
    s = tk.metric_series(m)
    assert (s["streams"].iloc[:29] == 2).all() and (s["streams"].iloc[31:] == 3).all()
    assert s["carried"].sum() == 0
    gone = _two_pods(range(60, 120))  # cart-2 stops for good at minute 30
    g = tk.metric_series(gone)
    assert g["value"].iloc[-1] < 15 and (g["streams"].iloc[-20:] == 1).all() and g["carried"].sum() == 0


# ------------------------------------------------------------------------------------------------
# GELF (Graylog) records

GELF = [{"version": "1.1", "host": "web-1", "short_message": "db timeout", "full_message": "trace...",
         "timestamp": 1700000000.5, "level": 3, "_trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
         "_span_id": "00f067aa0ba902b7", "_service": "cart", "_request_id": "r-1"},
        {"version": "1.1", "host": "web-1", "short_message": "slow", "timestamp": 1700000001, "level": 4},
        {"version": "1.1", "host": "web-2", "short_message": "ok", "timestamp": 1700000002, "level": 6},
        {"version": "1.1", "host": "web-2", "short_message": "down", "timestamp": 1700000003, "level": 0,
         "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "_trace_id": "kept as written"}]


def test_gelf_records_read_their_message_syslog_level_and_additional_ids(tmp_path):
    """Before: a GELF level 3 (error) read as OTLP severity 3, 'TRACE'; the message and _trace_id were attributes
    (0 of 4 bodies, 0 of 2 trace ids). Now: ERROR / WARN / INFO / FATAL, the short_message, the ids."""
    import json

    p = tmp_path / "graylog.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in GELF) + "\n")
    logs = tk.read_logs(p)
    assert logs["severity_text"].tolist() == ["ERROR", "WARN", "INFO", "FATAL"]
    assert logs["body"].tolist() == ["db timeout", "slow", "ok", "down"]
    assert logs["trace_id"].tolist()[0] == logs["trace_id"].tolist()[3] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert logs.loc[0, "span_id"] == "00f067aa0ba902b7" and logs.loc[0, "service"] == "cart"
    a0, a3 = logs.loc[0, "attributes"], logs.loc[3, "attributes"]
    assert a0["request_id"] == "r-1" and a0["full_message"] == "trace..." and a0["syslog.level"] == 3
    assert a3["_trace_id"] == "kept as written"  # a record with both names keeps the additional field as written
    assert logs["host"].tolist() == ["web-1", "web-1", "web-2", "web-2"]


def test_the_explorers_canvas_says_the_waterfall_header_not_only_a_span_count():
    """Before: a trace drawn by the canvas (more spans than canvas_above) was titled 'trace … · 12 spans'; the
    plotly waterfall of the same trace says the request latency, start and outcome. Now both write one header."""
    from tracekit.plotting.waterfall import waterfall_header
    from tracekit.widgets import ExplorerState

    spans = tk.examples.load("checkout-small")
    state = ExplorerState.from_spans(spans, canvas_above=1)
    tid = state.trace_id or spans["trace_id"].iloc[0]
    state = state.select_trace(tid)
    assert state.uses_canvas()
    header = waterfall_header(state.waterfall(), None)
    page = state.figure_html()
    assert header.startswith("request ") and " ms" in header
    assert header.split(" · ")[0] in page and header.split(" · ")[-1] in page


@pytest.mark.parametrize(("reader", "data", "said"), [
    (tk.read, b"[null]", "a JSON null"), (tk.read_otlp, b"3", "got a JSON number"),
    (tk.read_xray, b"[[1]]", "a JSON number"), (tk.read_metrics, b"[true]", "a JSON boolean"),
    (tk.read_logs, b"null", "got null"),
    (tk.read_xray, b'{"Traces": [{"Id": "1-5759e988-bd862e3fe1be46a994272793", "Segments": [{"Id": "a", '
                   b'"Document": "true"}]}]}', "segment document is a JSON boolean")])
def test_errors_name_json_values_in_jsons_words(reader, data, said):
    """Before: 'a JSON NoneType', 'a JSON int', 'a JSON list', 'got None' (Python's names for what the file spells
    null, a number, an array)."""
    with pytest.raises(tk.TraceFormatError) as raised:
        reader(data)
    assert said in str(raised.value) and "NoneType" not in str(raised.value)


def test_a_services_histogram_latency_weighs_each_host_by_its_requests():
    """Two hosts of one service in one minute: 1,000 requests at a mean of 10 ms and 1 at 1 s. The service's mean
    latency is 11,000 ms / 1,001 requests = 10.99 ms; an unweighted mean of the two points said 505 ms. The same
    within one host (two points of 1,000 and 1 requests) and for cumulative histograms (their counts per interval)."""
    t = [pd.Timestamp("2024-01-01 00:00:30", tz="UTC")] * 2
    h = tk.metrics_from_columns({"time": t, "name": "lat", "kind": "histogram", "unit": "ms", "service": "api",
                                 "host": ["a", "b"], "count": [1000.0, 1.0], "sum": [10_000.0, 1000.0]})
    assert tk.metric_series(h)["value"].tolist() == pytest.approx([11_000 / 1001])
    assert sorted(tk.metric_series(h, by="host")["value"].tolist()) == [10.0, 1000.0]
    one = h.assign(host="a")
    assert tk.metric_series(one)["value"].tolist() == pytest.approx([11_000 / 1001])
    # cumulative: minute 2's interval is 1,000 requests summing 10,000 ms on a and 1 of 1,000 ms on b
    t2 = [pd.Timestamp("2024-01-01 00:00:30", tz="UTC")] * 2 + [pd.Timestamp("2024-01-01 00:01:30", tz="UTC")] * 2
    c = tk.metrics_from_columns({"time": t2, "name": "lat", "kind": "histogram", "temporality": "cumulative",
                                 "start_time": pd.Timestamp("2024-01-01", tz="UTC"), "unit": "ms", "service": "api",
                                 "host": ["a", "b", "a", "b"], "count": [10.0, 10.0, 1010.0, 11.0],
                                 "sum": [100.0, 100.0, 10_100.0, 1100.0]})
    s = tk.metric_series(c)
    assert s["value"].tolist() == pytest.approx([10.0, 11_000 / 1001])
    # gauges stay a mean over hosts, each host weighing one
    g = tk.metrics_from_columns({"time": t, "name": "cpu", "service": "api", "host": ["a", "b"], "value": [10.0, 90.0]})
    assert tk.metric_series(g)["value"].tolist() == [50.0]


# ------------------------------------------------------------------------------------------------
# a service's colour is the same in every figure of one frame

def _colliding_frame():
    """Three pairs of service names, each pair on one palette slot; a trace calls one name of a pair. A figure given
    only some of the names resolved the collisions differently (148 of 200 random 7-of-12 subsets moved a colour)."""
    from tracekit.plotting.colors import _palette_slot

    names, slots = [], {}
    i = 0
    while len(names) < 6:
        n = f"svc-{i}"
        i += 1
        slots.setdefault(_palette_slot(n), []).append(n)
        if len(slots[_palette_slot(n)]) == 2:
            names += slots[_palette_slot(n)]
    ms = 1_000_000
    rows = {"trace_id": [], "span_id": [], "parent_id": [], "service": [], "name": [], "start": [], "end": []}
    k = 0
    for t in range(4):
        for j, (a, b) in enumerate(zip(names[0::2], names[1::2], strict=True)):
            tid = f"{t * 10 + j + 1:032x}"
            rows["trace_id"] += [tid, tid]
            rows["span_id"] += [f"{k + 1:016x}", f"{k + 2:016x}"]
            rows["parent_id"] += [None, f"{k + 1:016x}"]
            rows["service"] += ["front", b if t % 2 else a]
            rows["name"] += ["GET /", "work"]
            rows["start"] += [0, 10 * ms]
            rows["end"] += [100 * ms, (90 + t) * ms]
            k += 2
    return tk.spans_from_columns(rows), names


def _bar_colors(fig):
    """service -> colour of its bar (the label's first part)."""
    out = {}
    for tr in fig.data:
        if tr.type == "bar" and isinstance(tr.marker.color, (list, tuple)):
            for y, c in zip(tr.y, tr.marker.color, strict=True):
                out.setdefault(str(y).split(" · ")[0].replace("<b>", "").replace("</b>", ""), c)
    return out


def test_flame_breakdown_and_compare_colour_each_service_as_the_waterfall_does():
    from tracekit.plotting.colors import result_colors, service_colors

    spans, names = _colliding_frame()
    full = service_colors(spans["service"].dropna().unique())
    moved = [max(a, b) for a, b in zip(names[0::2], names[1::2], strict=True)]  # the one of each pair that moves over
    assert service_colors(["front", *moved]) != {n: full[n] for n in ["front", *moved]}  # alone: other colours
    half = spans[spans["trace_id"].isin(spans.loc[spans["service"].isin(moved), "trace_id"])]
    cp = tk.critical_path(half)
    assert cp.attrs["services"] == tuple(sorted(set(half["service"])))
    bd = tk.critical_path_breakdown(cp, by="service", spans=spans)
    tree = tk.critical_path_tree(cp, spans=spans)
    assert bd.attrs["services"] == tree.attrs["services"] == tuple(sorted(full))
    for result in (bd, tree):
        got = result_colors(result, result["service"].dropna())
        assert all(got[s] == full[s] for s in result["service"].dropna()), (got, full)
    drawn = {s: c for s, c in _bar_colors(tk.plot_critical_path_breakdown(bd)).items() if s in full}
    assert drawn and all(full[s] == c for s, c in drawn.items()), (drawn, full)
    comparison = tk.compare(spans, half, by="service")
    drawn = {s: c for s, c in _bar_colors(tk.plot_compare(comparison)).items() if s in full}
    assert drawn and all(full[s] == c for s, c in drawn.items()), (drawn, full)


# ------------------------------------------------------------------------------------------------
# credentials in HTTP headers

def test_credential_headers_are_found_and_redacted_by_default():
    """OTel records request headers as http.request.header.<name> (a list of values). Before: an Authorization: Basic
    value, a cookie, an X-Api-Key and a Set-Cookie were not found (0 of 4) and a default redact left them readable;
    only 'Bearer …' was. Now each is found (secret_key, basic_auth) and replaced."""
    attrs = {"http.request.header.authorization": ["Basic dXNlcjpodW50ZXIy"],
             "http.request.header.cookie": ["session=8f3a9c2e1b7d"],
             "http.request.header.x-api-key": ["k-20aa93"],
             "http.response.header.set-cookie": "sid=abc123; HttpOnly",
             "http.request.header.accept": ["application/json"]}
    spans = tk.spans_from_columns({"trace_id": ["0" * 31 + "1"], "span_id": ["a" * 16], "service": ["api"],
                                   "name": ["GET /"], "start": [0], "end": [1], "attributes": [attrs]})
    found = tk.find_pii(spans)
    keys = set(found.loc[found["kind"] == "secret_key", "key"])
    assert {k.split("[")[0] for k in keys} >= {"http.request.header.authorization", "http.request.header.cookie",
                                              "http.request.header.x-api-key", "http.response.header.set-cookie"}
    assert "basic_auth" in set(found["kind"])
    assert not any("accept" in k for k in found["key"])
    out = tk.redact(spans, method="mask").loc[0, "attributes"]
    text = repr(out)
    for secret in ("dXNlcjpodW50ZXIy", "8f3a9c2e1b7d", "k-20aa93", "abc123"):
        assert secret not in text
    assert out["http.request.header.accept"] == ["application/json"]
    assert tk.redact_text("Authorization: Basic dXNlcjpodW50ZXIy", method="mask") == "Authorization: ****"


def test_a_health_report_with_no_finding_has_the_columns_types_of_one_with_findings():
    """Before: with nothing found every column was object (traces_affected, share ... too), so the Dask twin and
    concatenations of reports disagreed on types."""
    s = tk.spans_from_columns({"trace_id": ["1" * 32], "span_id": ["a" * 16], "service": ["api"], "name": ["GET /"],
                               "start": [0], "end": [1_000_000]})
    empty = tk.health_report(s, checks=["orphan_spans"])
    full = tk.health_report(s)
    assert len(empty) == 0 and len(full) > 0
    assert empty.dtypes.astype(str).to_dict() == full.dtypes.astype(str).to_dict()
