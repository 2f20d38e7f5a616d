"""The simulated shop's logs and metrics (tracekit.simulate_signals) and the bundled deploy-regression-signals.

Ground truth by construction: the records and points are derived from simulated spans, so each check recomputes
what they must be from the spans by another route (a per-span loop, tk.self_time) and compares. The bundled files
are checked against the generator, and the postmortem and the CLI report a user would run on them against the
deploy-regression truth.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit import simulate_signals as ss
from tracekit.core import failed, hosts
from tracekit.simulate import SIGNAL_DATASETS, simulate

from .conftest import REPO

SEED = 12
DATA = REPO / "datasets"
SIG = DATA / "deploy-regression-signals"
NEW = "risk score <*> from risk-api in <*> ms"


@pytest.fixture(scope="module")
def sim():
    return simulate("slow-deploy", n_traces=300, seed=SEED)


@pytest.fixture(scope="module")
def logs(sim):
    return ss.app_logs(sim.spans, seed=SEED)


@pytest.fixture(scope="module")
def metrics(sim):
    return ss.app_metrics(sim.spans, seed=SEED)


def _span_of(spans: pd.DataFrame, logs: pd.DataFrame) -> np.ndarray:
    """Position of each record's span in ``spans`` (KeyError if a record names none)."""
    pos = pd.Series(np.arange(len(spans)), index=pd.MultiIndex.from_arrays(
        [spans["trace_id"].astype(str), spans["span_id"].astype(str)]))
    return pos.loc[list(zip(logs["trace_id"].astype(str), logs["span_id"].astype(str), strict=True))].to_numpy()


def test_every_record_attaches_to_its_span(sim, logs):
    spans = sim.spans
    att = tk.attach_logs(spans, logs)
    assert att.n_records == att.n_on_span == len(logs) > 0 and att.n_unmatched == 0 and att.unmatched.empty
    at = _span_of(spans, logs)
    assert (logs["service"].to_numpy(dtype=object) == spans["service"].to_numpy(dtype=object)[at]).all()
    assert (logs["host"].to_numpy(dtype=object) == np.asarray(hosts(spans), dtype=object)[at]).all()
    # one INFO per server span, at its end
    info = logs["body"].str.startswith("handled ").to_numpy(dtype=bool)
    srv = np.flatnonzero(spans["kind"].eq("server").to_numpy())
    assert sorted(at[info]) == sorted(srv)
    assert (logs.loc[info, "time"].to_numpy() == spans["end"].to_numpy()[at[info]]).all()
    assert logs["time"].is_monotonic_increasing


def test_the_new_statement_appears_only_after_the_deploy(sim, logs):
    spans, t = sim.spans, sim.truth
    new = tk.log_templates(logs)["template"].eq(NEW).to_numpy(dtype=bool)
    assert new.sum() > 0 and (logs.loc[new, "time"] >= t.deploy_time).all()
    at = _span_of(spans, logs[new])
    # exactly the payments server spans that made the new call, one record each, on 1.5.0
    calls = spans[spans["name"].eq(t.added_span)]
    assert sorted(spans["span_id"].to_numpy(dtype=object)[at]) == sorted(calls["parent_id"].astype(str))
    assert set(spans["kind"].to_numpy(dtype=object)[at]) == {"server"}
    assert {spans["resource"].iloc[i]["service.version"] for i in at} == {t.new_version}
    # the same shop without the deploy never logs it; its other statements are the same
    base = ss.app_logs(simulate("baseline", n_traces=300, seed=SEED).spans, seed=SEED)
    assert not tk.log_templates(base)["template"].eq(NEW).any()
    assert set(tk.log_templates(base)["template"]) <= set(tk.log_templates(logs)["template"])


@pytest.mark.parametrize("threshold", [ss.SLOW_QUERY_MS, 4.0])
def test_slow_query_warns_only_on_db_spans_above_the_threshold(sim, threshold):
    spans = sim.spans
    logs = ss.app_logs(spans, seed=SEED, slow_query_ms=threshold)
    slow = logs["body"].str.startswith("slow query").to_numpy(dtype=bool)
    assert (logs.loc[slow, "severity_text"] == "WARN").all()
    db = spans["attributes"].map(lambda a: "db.system" in a).to_numpy() & spans["kind"].eq("client").to_numpy()
    want = np.flatnonzero(db & (spans["duration_ms"].to_numpy() > threshold))
    assert len(want) > 0 and sorted(_span_of(spans, logs[slow])) == sorted(want)


def test_errors_and_warnings_follow_the_spans_that_failed(sim, logs):
    spans = sim.spans
    bad = failed(spans)
    err = (logs["severity_text"] == "ERROR").to_numpy(dtype=bool)
    assert err.any() and set(_span_of(spans, logs[err])) == set(np.flatnonzero(bad))
    # an exception event of a span that did not fail (404, throttled and retried) is a WARN, with its message
    warn = (logs["severity_text"] == "WARN").to_numpy(dtype=bool) & ~logs["body"].str.startswith("slow query").to_numpy(dtype=bool)
    ev = spans["events"].map(lambda es: sum(e["name"] == "exception" for e in es)).to_numpy()
    assert sorted(_span_of(spans, logs[warn])) == sorted(np.repeat(np.arange(len(spans)), np.where(bad, 0, ev)))
    for i, body in zip(_span_of(spans, logs[err | warn]), logs.loc[err | warn, "body"], strict=True):
        sp = spans.iloc[i]
        said = [f"{e['attributes']['exception.type']}: {e['attributes']['exception.message']}" for e in sp["events"]] or [
            f"{sp['name']} failed: {sp['status_message'] if isinstance(sp['status_message'], str) else f'status {sp.http_status}'}"]
        assert body in said


def _busy_by_loop(spans: pd.DataFrame, edges: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Busy time per interval, span by span: tk.self_time spread evenly over the span, not counting waiting kinds."""
    self_ms = tk.self_time(spans)["self_ms"].to_numpy()
    start, end = spans["start"].astype("int64").to_numpy(), spans["end"].astype("int64").to_numpy()
    out = np.zeros(len(edges) - 1)
    for i in rows:
        if spans["kind"].iloc[i] in ("client", "producer"):
            continue
        for j in range(len(edges) - 1):
            overlap = min(end[i], edges[j + 1]) - max(start[i], edges[j])
            if overlap > 0:
                out[j] += self_ms[i] * 1e6 * overlap / (end[i] - start[i])
    return out


def test_cpu_follows_busy_time(sim, metrics):
    spans = sim.spans
    cpu = metrics[metrics["name"] == "process.cpu.utilization"]
    step = int(ss.INTERVAL_S * 1e9)
    host = np.asarray(hosts(spans), dtype=object)
    lam = spans["resource"].map(lambda r: r.get("cloud.platform") == "aws_lambda").to_numpy()
    assert set(cpu["host"]) == set(host[~lam]) and "fulfillment" not in set(cpu["service"])
    t = cpu["time"].astype("int64").to_numpy()
    edges = np.concatenate([[t.min() - step], np.unique(t)])
    assert edges[0] <= spans["start"].astype("int64").min() and edges[-1] >= spans["end"].astype("int64").max()
    for h in ["payments-1", "checkout-2", "inventory-3"]:
        rows = np.flatnonzero(host == h)
        mine = cpu[cpu["host"] == h].sort_values("time")
        busy = _busy_by_loop(spans, edges, rows)
        assert busy.max() > 0 and len(mine) == len(edges) - 1
        assert np.abs(mine["value"].to_numpy() - ss.IDLE_CPU - busy / step).max() <= ss.CPU_NOISE + 5e-6
        assert np.abs(ss.busy_ns(spans, edges, rows) - busy).max() < 1.0  # ns: the kernel's self time, the same sums
    # the noise is seeded: the same seed, the same points; another seed, other noise only
    again = ss.app_metrics(spans, seed=SEED)
    pd.testing.assert_frame_equal(again, metrics)
    other = ss.app_metrics(spans, seed=SEED + 1)
    c2 = other[other["name"] == "process.cpu.utilization"]
    d = np.abs(c2["value"].to_numpy() - cpu["value"].to_numpy())
    assert 0 < d.max() <= 2 * ss.CPU_NOISE + 1e-5


def test_request_durations_and_in_flight_calls_add_up_to_the_spans(sim, metrics):
    spans = sim.spans
    host = np.asarray(hosts(spans), dtype=object)
    h = metrics[metrics["name"] == "http.server.request.duration"]
    srv = spans[spans["kind"].eq("server").to_numpy() & pd.notna(host)]
    srv = srv[~srv["resource"].map(lambda r: r.get("cloud.platform") == "aws_lambda")]
    per_host = srv.assign(host=np.asarray(hosts(srv), dtype=object)).groupby("host")["duration_ms"].agg(["size", "sum"])
    got = h.groupby("host").agg(n=("count", "sum"), s=("sum", "sum"))
    assert (got["n"] == per_host["size"].reindex(got.index)).all() and set(got.index) == set(per_host.index)
    assert np.allclose(got["s"] * 1000, per_host["sum"].reindex(got.index), rtol=1e-9)
    assert all(sum(b["counts"]) == c for b, c in zip(h["buckets"], h["count"], strict=True))
    ex = h["exemplars"].map(lambda e: e[0]["span_id"])
    assert set(ex) <= set(srv["span_id"].astype(str)) and (h["exemplars"].map(lambda e: e[0]["value"]) == h["max"]).all()
    # database calls in flight: averaged over each interval, so they add up to the calls' total time
    db = metrics[metrics["name"] == "db.client.operations.in_flight"]
    calls = spans[spans["attributes"].map(lambda a: "db.system" in a) & spans["kind"].eq("client")]
    assert set(db["service"]) == set(calls["service"]) == {"checkout"}
    total = calls.assign(host=np.asarray(hosts(calls), dtype=object)).groupby("host")["duration_ms"].sum()
    assert np.allclose(db.groupby("host")["value"].sum() * ss.INTERVAL_S * 1000, total.reindex(sorted(set(db["host"]))),
                       rtol=1e-4)


def test_the_signals_share_no_cell_with_the_spans_or_each_other(sim, logs, metrics):
    """The generators hand their new cells to the constructors uncopied (``schema.taking_cells``), but the spans'
    resources are copied — once per resource object, so records of one resource share its copy: editing a log's or a
    metric point's resource never reaches the spans, and no record's attributes are another's."""
    span_cells = {id(c) for col in ("attributes", "resource", "events") for c in sim.spans[col]}
    for frame in (logs, metrics):
        for col in ("attributes", "resource"):
            assert not {id(c) for c in frame[col]} & span_cells, col
        assert len({id(c) for c in frame["attributes"]}) == len(frame)
        assert 1 < len({id(c) for c in frame["resource"]}) <= len({id(c) for c in sim.spans["resource"]})
    assert not {id(c) for c in logs["resource"]} & {id(c) for c in metrics["resource"]}
    assert len({id(c) for c in metrics["exemplars"]}) == len(metrics)
    before = [dict(r) for r in sim.spans["resource"]]
    logs["resource"].iloc[0]["host.name"] = "edited"
    assert [dict(r) for r in sim.spans["resource"]] == before


def test_bad_arguments():
    with pytest.raises(tk.SpansSchemaError, match="app_logs: expected a spans DataFrame"):
        ss.app_logs([1, 2])
    with pytest.raises(tk.ArgumentError, match="interval_s"):
        ss.app_metrics(tk.simulate.simulate("baseline", 5, seed=0).spans, interval_s=0)


# --- the bundled files ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bundled():
    if not SIG.is_dir():
        pytest.skip("datasets/deploy-regression-signals is absent")
    return (tk.read(DATA / "deploy-regression"), tk.read_logs(SIG / "logs.jsonl.gz"),
            tk.read_metrics(SIG / "metrics.jsonl.gz"), json.loads((DATA / "truth" / "deploy-regression.json").read_text()))


def test_bundled_files_hold_their_truth(bundled):
    spans, logs, metrics, truth = bundled
    st = truth["signals"]
    assert SIGNAL_DATASETS == {"deploy-regression-signals": "deploy-regression"}
    readme = (DATA / "README.md").read_text()
    assert "`deploy-regression-signals/`" in readme and f"{st['log_records']} log records" in readme
    assert set(spans["source_file"].map(lambda f: str(f).split("/")[-2])) == {"deploy-regression"}  # traces only
    assert all(p.stat().st_size < 500_000 for p in SIG.iterdir()) and {p.name for p in SIG.iterdir()} == set(st["files"])
    assert len(logs) == st["log_records"] and len(metrics) == st["metric_points"]
    assert tk.attach_logs(spans, logs).n_unmatched == st["log_records_on_no_span"] == 0
    new = tk.log_templates(logs)["template"].eq(st["new_statement"]["template"]).to_numpy(dtype=bool)
    assert new.sum() == st["new_statement"]["records"] > 0 and st["new_statement"]["records_before_deploy"] == 0
    assert logs.loc[new, "time"].min() == pd.Timestamp(st["new_statement"]["first"]) >= pd.Timestamp(truth["deploy_time"])


@pytest.mark.slow  # simulates 1,200 traces and writes both files (~4 s)
def test_bundled_files_are_what_the_generator_writes(tmp_path):
    written = tk.simulate.write_datasets(tmp_path, only=["deploy-regression"])
    names = {p.relative_to(tmp_path).as_posix() for p in written}
    assert {"deploy-regression-signals/logs.jsonl.gz", "deploy-regression-signals/metrics.jsonl.gz"} <= names
    for p in written:
        assert p.read_bytes() == (DATA / p.relative_to(tmp_path)).read_bytes(), p


@pytest.mark.slow  # a postmortem of 24,710 spans with 8,462 records and 12,179 points (~8 s)
def test_postmortem_on_the_bundled_signals_ranks_payments_first(bundled):
    spans, logs, metrics, truth = bundled
    pm = tk.postmortem(spans, level="service", logs=logs, metrics=metrics)
    top = pm.causes.iloc[0]
    # the hypothesis' threshold: a metric counts when its evidence passes it; payments' request-duration histograms,
    # read by the requests they count, pass it (their point means, about one request each, did not: 0.0008)
    assert top["service"] == truth["service"] == "payments" and top["metrics"] > 0.05
    assert top["signals"] == "traces, logs, metrics"
    assert pm.params["signals"] == ["traces", "logs", "metrics"]
    # by operation, the statement that appeared is what the top row's logs name
    ops = tk.postmortem(spans, logs=logs, metrics=metrics).causes
    assert ops.iloc[0]["service"] == "payments" and ops.iloc[0]["log_template"] == NEW


@pytest.mark.slow  # the CLI report of the bundled incident with its logs and metrics (~10 s)
def test_cli_report_with_the_bundled_logs_and_metrics(tmp_path, bundled):
    out = tmp_path / "out.html"
    r = subprocess.run([sys.executable, "-m", "tracekit", "report", str(DATA / "deploy-regression"),
                        "--logs", str(SIG / "logs.jsonl.gz"), "--metrics", str(SIG / "metrics.jsonl.gz"), "-o", str(out)],
                       capture_output=True, text=True, cwd=REPO, timeout=300)
    assert r.returncode == 0, r.stderr
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", out.read_text(), flags=re.S)
    text = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))
    assert re.search(r"Likely cause \(ranked first of \d+ by rank_causes\): payments", text)
    assert f"'{NEW}' logged by" in text
    # the README says these numbers (it said "0 of 193 before": every 1.4.2 span, where the report's baseline leaves
    # out the minute before the change)
    said = re.search(r"logged by (\d+) of (\d+) (POST /api/charge) spans against (\d+) of the baseline's (\d+)", text)
    assert said, text[:2000]
    assert (f"logged by {said[1]} of {said[2]} `{said[3]}` spans after it against {said[4]} of the baseline's "
            f"{said[5]}") in " ".join((REPO / "README.md").read_text().split())
    # the metrics line of "how sure" and the metrics figure's period, as a reader sees them
    assert re.search(r"Metrics: \d+ of \d+ series per service and metric name compared", text)
    # no baseline given: the figure spans the whole data, the normal period before the change included
    # (the incident's first request, to the second when it is not on a whole minute)
    assert re.search(r"on one time axis: the whole data: the baseline's period and the incident's \(from 2026-03-02 "
                     r"14:30(:\d\d)? UTC\)", text)
