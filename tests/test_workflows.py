"""Async workflows (issue 20): stitch, workflow_summary, critical_path(across_links=True), async graph edges.

Ground truth by construction: the simulator's ``async-links`` scenario draws the very numbers of the
``baseline`` (same seed: same span ids and times) but runs fulfillment as a trace of its own, linked
to checkout's ``orders publish`` span; its truth lists every hop with the simulated queue wait.
Real data: X-Ray samples (none carries span links, checked below) and the Jaeger OTLP fixture with a
link to another trace; the X-Ray link fixture is built from the segment ``links`` shape the OTel
collector's X-Ray exporter writes (``[{"trace_id", "id", "attributes"}]``).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.workflows import HOPS_TABLE, WORKFLOW_CP_TABLE, WORKFLOW_TABLE, destination
from tracekit.errors import ArgumentError, TraceFormatError
from tracekit.schema import SpansSchemaError

from .conftest import read_dataset

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
N, SEED = 600, 7


@pytest.fixture(scope="module")
def pair():
    linked = tk.simulate.simulate("async-links", n_traces=N, seed=SEED)
    same = tk.simulate.simulate("baseline", n_traces=N, seed=SEED)
    return linked, same


def _hop_keys(hops: pd.DataFrame) -> set:
    return set(zip(hops["producer_trace_id"], hops["producer_span_id"], hops["consumer_trace_id"], hops["consumer_span_id"], strict=True))


@pytest.mark.slow  # 1.1 s in the fast lane (2 loaded cores, issue 28)
def test_stitch_finds_every_simulated_hop_with_its_queue_wait(pair):
    linked, _ = pair
    truth = linked.truth
    assert truth.n_hops > 100
    st = tk.stitch(linked.spans)
    assert _hop_keys(st.hops) == {h[:4] for h in truth.hops}
    assert set(st.hops["rule"]) == {"link"} and (st.hops["confidence"] == 1.0).all()
    assert set(st.hops["destination"]) == {"orders"}
    assert list(st.hops.columns) == HOPS_TABLE.column_names
    wait_us = {(h[2], h[3]): h[4] for h in truth.hops}
    err = [abs(w * 1000 - wait_us[(t, s)]) for t, s, w in zip(st.hops["consumer_trace_id"], st.hops["consumer_span_id"], st.hops["queue_wait_ms"], strict=True)]
    assert max(err) < 1.0  # within 1 µs of the simulated wait


def test_one_workflow_per_publishing_checkout(pair):
    linked, _ = pair
    st = tk.stitch(linked.spans)
    assert "workflow_id" not in linked.spans.columns  # the input is not modified
    assert st.n_workflows == N  # every request is one workflow; a linked consumer trace joins its producer's
    per = st.spans.groupby("workflow_id")["trace_id"].nunique()
    assert (per == 2).sum() == linked.truth.n_hops and set(per) == {1, 2}
    for p_trace, _, c_trace, _, _ in linked.truth.hops[:50]:
        w = st.spans.loc[st.spans["trace_id"].isin([p_trace, c_trace]), "workflow_id"]
        assert set(w) == {p_trace}  # the id is the earliest trace's: the publishing checkout


@pytest.mark.slow  # 2.5 s in the fast lane (2 loaded cores, issue 28)
def test_workflow_summary_and_graph_equal_the_same_trace_variant(pair):
    linked, same = pair
    a, b = tk.workflow_summary(linked.spans), tk.workflow_summary(same.spans)
    assert list(a.columns) == WORKFLOW_TABLE.column_names
    assert a["workflow_id"].tolist() == b["workflow_id"].tolist()
    for c in ("hops", "start", "end", "end_to_end_ms", "request_ms", "queue_ms", "queue_share", "max_wait_ms"):
        pd.testing.assert_series_equal(a[c], b[c], check_names=False)
    assert (a["traces"] == np.where(a["hops"] > 0, 2, 1)).all() and (b["traces"] == 1).all()
    # same-trace hops come from the parent rule, linked ones from the link
    assert set(tk.stitch(same.spans).hops["rule"]) == {"parent"}
    # end-to-end runs from the first request to the last consumer, and includes the queue
    one = a[a["hops"] == 1]
    assert (one["end_to_end_ms"] >= one["queue_ms"]).all() and (one["queue_share"] > 0).all()
    wait_ms = {h[0]: h[4] / 1000 for h in linked.truth.hops}
    assert np.allclose(one["queue_ms"], [wait_ms[w] for w in one["workflow_id"]], atol=1e-9)
    # the service graph: equal edges, edge attributes and nodes; the hop is async with its waits
    Ga, Gb = tk.service_graph(linked.spans), tk.service_graph(same.spans)
    assert sorted(Ga.edges) == sorted(Gb.edges)
    for e in Gb.edges:
        for k, v in Gb.edges[e].items():
            assert Ga.edges[e][k] == v or (isinstance(v, float) and math.isnan(v) and math.isnan(Ga.edges[e][k])), (e, k)
    assert all(Ga.nodes[v] == Gb.nodes[v] for v in Gb.nodes)
    e = Ga.edges["checkout", "fulfillment"]
    waits = np.array([h[4] / 1000 for h in linked.truth.hops])
    assert e["kind"] == "async" and e["calls"] == linked.truth.n_hops
    assert e["wait_p50_ms"] == tk.core.percentile(waits, 0.5) and e["wait_p95_ms"] == tk.core.percentile(waits, 0.95)
    assert Ga.edges["api-gateway", "frontend"]["kind"] == "sync" and math.isnan(Ga.edges["api-gateway", "frontend"]["wait_p50_ms"])
    assert ("checkout", "SQS") not in Ga.edges  # the linked producer is answered by its consumer


@pytest.mark.slow  # 3.3 s in the fast lane (2 loaded cores, issue 28)
def test_critical_path_across_links_tiles_the_workflow_with_queue_sections(pair):
    linked, same = pair
    cp = tk.critical_path(linked.spans, across_links=True)
    assert list(cp.columns) == WORKFLOW_CP_TABLE.column_names
    ws = tk.workflow_summary(linked.spans).set_index("workflow_id")
    total = cp.groupby("workflow_id")["duration_ms"].sum()
    assert len(total) == N
    assert np.allclose(total, ws["end_to_end_ms"].reindex(total.index), atol=1e-6)
    q = cp[cp["section"] == "queue"]
    assert set(q["kind"]) == {"queue"} and set(q["service"]) == {"orders"}
    wait = {(h[2], h[3]): h[4] / 1000 for h in linked.truth.hops}
    got = dict(zip(zip(q["trace_id"], q["span_id"], strict=True), q["duration_ms"], strict=True))
    assert len(got) > 0.8 * linked.truth.n_hops  # most consumers finish after their request
    assert all(abs(got[k] - wait[k]) < 1e-6 for k in got)
    # sections are in time order and do not overlap within a workflow
    for _, g in cp.groupby("workflow_id"):
        s, e = g["start"].to_numpy(), g["end"].to_numpy()
        assert (s[1:] >= e[:-1]).all()
    # the same-trace variant gives the same path (the consumer is walked as its own root)
    cpb = tk.critical_path(same.spans, across_links=True)
    assert cp["duration_ms"].tolist() == cpb["duration_ms"].tolist()
    assert cp["section"].tolist() == cpb["section"].tolist()
    # and the default critical path is untouched by the option's existence
    assert "section" not in tk.critical_path(linked.spans).columns


def test_critical_path_across_links_literal():
    # trace 1: api   |----------|          0..10 ms
    #          send     |--|               2..4  (producer)
    # trace 2: worker          ....|------| 9..16 (consumer, links to send): queue 4..9, then worker 9..16
    ms = 1_000_000
    link = [{"trace_id": "1" * 32, "span_id": "b" * 16, "trace_state": None, "flags": None, "attributes": {}}]
    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32, "1" * 32, "2" * 32], "span_id": ["a" * 16, "b" * 16, "c" * 16],
        "parent_id": [None, "a" * 16, None], "service": ["api", "api", "worker"],
        "name": ["POST /", "jobs publish", "jobs process"], "kind": ["server", "producer", "consumer"],
        "start": [0, 2 * ms, 9 * ms], "end": [10 * ms, 4 * ms, 16 * ms], "links": [[], [], link]})
    cp = tk.critical_path(spans, across_links=True)
    assert cp[["service", "kind", "duration_ms", "section"]].values.tolist() == [
        ["api", "server", 2.0, "span"], ["api", "producer", 2.0, "span"], ["jobs", "queue", 5.0, "queue"],
        ["worker", "consumer", 7.0, "span"]]
    assert set(cp["workflow_id"]) == {"1" * 32}
    ws = tk.workflow_summary(spans)
    assert ws[["traces", "hops", "end_to_end_ms", "request_ms", "queue_ms"]].values.tolist() == [[2, 1, 16.0, 10.0, 5.0]]
    assert ws["queue_waits_ms"].iloc[0] == (5.0,)


def test_heuristic_and_message_id_rules_without_links(pair):
    linked, _ = pair
    spans = linked.spans.copy()
    spans["links"] = [[] for _ in range(len(spans))]
    truth = {h[:4] for h in linked.truth.hops}
    st = tk.stitch(spans)  # no links: the time-and-name heuristic
    assert set(st.hops["rule"]) == {"heuristic"}
    got = _hop_keys(st.hops)
    assert len(got & truth) / len(got) >= 0.97 and len(got & truth) / len(truth) >= 0.97  # swaps of concurrent messages
    assert (st.hops["confidence"] <= 0.8).all() and st.hops["confidence"].median() == 0.8
    assert tk.stitch(spans, via=("links",)).hops.empty
    # message ids on both sides (OTel messaging.message.id): exact
    rows = {(t, s): i for i, (t, s) in enumerate(zip(spans["trace_id"], spans["span_id"], strict=True))}
    attrs = [dict(a) for a in spans["attributes"]]
    for k, h in enumerate(linked.truth.hops):
        for t, s in ((h[0], h[1]), (h[2], h[3])):
            attrs[rows[(t, s)]]["messaging.message.id"] = f"m-{k}"
    spans["attributes"] = attrs
    st = tk.stitch(spans)
    assert set(st.hops["rule"]) == {"message_id"} and _hop_keys(st.hops) == truth


@pytest.mark.slow  # 4.3 s in the fast lane (2 loaded cores, issue 28)
def test_links_survive_otlp_files(pair, tmp_path):
    linked, _ = pair
    p = tmp_path / "linked.jsonl.gz"
    tk.write_otlp(linked.spans, p)
    back = tk.read(p)
    assert _hop_keys(tk.stitch(back).hops) == {h[:4] for h in linked.truth.hops}


@pytest.mark.slow  # 1.5 s in the fast lane (2 loaded cores, issue 28)
def test_bundled_dataset_matches_its_truth():
    import json

    d = REPO / "datasets" / "async-workflows"
    if not d.exists():
        pytest.skip("datasets/async-workflows not generated")
    truth = json.loads((REPO / "datasets" / "truth" / "async-workflows.json").read_text())
    st = tk.stitch(tk.read(d))
    assert _hop_keys(st.hops) == {tuple(h[:4]) for h in truth["hops"]}
    wait = {(h[2], h[3]): h[4] for h in truth["hops"]}
    assert max(abs(w * 1000 - wait[(t, s)]) for t, s, w in zip(st.hops["consumer_trace_id"], st.hops["consumer_span_id"], st.hops["queue_wait_ms"], strict=True)) < 1.0
    assert st.n_workflows == truth["n_traces"]


def test_xray_links_fill_the_links_column():
    spans = tk.read_xray(DATA / "xray" / "span_links_sqs_lambda.json")
    assert not any("links" in a for a in spans["attributes"])
    by_id = spans.set_index("span_id")
    assert by_id.loc["c3c3c3c3c3c3c3c3", "links"] == [
        {"trace_id": "6750f1a05f1e2d3c4b5a69788796a5b4", "span_id": "b2b2b2b2b2b2b2b2", "trace_state": None, "flags": None, "attributes": {}}]
    batch = by_id.loc["f6f6f6f6f6f6f6f6", "links"]  # a subsegment's links; 32-hex and upper-case ids accepted
    assert [(x["trace_id"], x["span_id"], x["attributes"]) for x in batch] == [
        ("6750f1a00a1b2c3d4e5f60718293a4b5", "c3c3c3c3c3c3c3c3", {"batch.index": 0}),
        ("6750f1a10000000000000000000000aa", "0123456789abcdef", {"batch.index": 1})]
    st = tk.stitch(spans)
    h = st.hops.set_index("consumer_span_id")
    assert h.loc["c3c3c3c3c3c3c3c3", ["producer_span_id", "destination", "queue_wait_ms", "rule"]].tolist() == [
        "b2b2b2b2b2b2b2b2", "orders", 80.0, "link"]
    assert len(st.hops) == 2  # the link to a span not in the data makes no hop
    assert st.n_workflows == 1
    G = tk.service_graph(spans)
    assert G.edges["order-api", "fulfillment"]["kind"] == "async" and G.edges["order-api", "fulfillment"]["wait_p50_ms"] == 80.0


def test_xray_bad_links_name_the_segment():
    doc = {"trace_id": "1-6750f1a0-0a1b2c3d4e5f60718293a4b5", "id": "c3c3c3c3c3c3c3c3", "name": "fulfillment",
           "start_time": 1.0, "end_time": 2.0, "links": [{"trace_id": "nope", "id": "b2b2b2b2b2b2b2b2"}]}
    with pytest.raises(TraceFormatError, match=r"c3c3c3c3c3c3c3c3.*links\[0\]\.trace_id 'nope'"):
        tk.read_xray(doc)
    with pytest.raises(TraceFormatError, match="'links' is not a list"):
        tk.read_xray({**doc, "links": {"trace_id": "x"}})


def test_real_xray_samples_have_no_span_links(real_traces):
    """None of the real X-Ray samples carries span links (checked here, so a new sample with links shows up)."""
    files = sorted(p for d in ("aws-cli-examples-xray", "aws-xray-developer-guide", "otel-contrib-awsxray-testdata",
                               "otel-contrib-awsxray-testdata-upstream") for p in (real_traces / d).glob("*")
                   if p.suffix in (".json", ".txt") and "Traces" in p.read_text() or p.suffix == ".txt")
    if not files:
        pytest.skip(f"real traces not found at {real_traces}")
    loaded = 0
    for p in files:
        try:
            with warnings.catch_warnings():  # LICENSE.txt and other non-trace files are skipped with a warning
                warnings.simplefilter("ignore", tk.TraceFormatWarning)
                spans = tk.read_xray(p, errors="skip")
        except TraceFormatError:
            continue
        loaded += len(spans)
        assert all(isinstance(x, list) and not x for x in spans["links"]), p
        assert not any("links" in a for a in spans["attributes"]), p
    assert loaded > 20


def test_real_otlp_links_across_traces(real_traces):
    p = real_traces / "jaeger" / "memory-fixtures" / "otel_traces_01.json"
    if not p.exists():
        pytest.skip(f"real traces not found at {real_traces}")
    spans = tk.read(p)
    st = tk.stitch(spans)
    # every span links to producer span ...04 (follows_from) and to a span of a trace not in the file
    assert set(st.hops["producer_span_id"]) == {"0000000000000004"}
    assert sorted(st.hops["consumer_span_id"]) == ["0000000000000002", "0000000000000003", "0000000000000005"]
    assert st.n_workflows == 1 and spans["trace_id"].nunique() == 2


def test_destination_and_errors():
    assert destination({"messaging.destination": "legacy"}) == "legacy"
    assert destination({"aws.topic_arn": "arn:aws:sns:us-east-1:123456789012:alerts"}) == "alerts"
    assert destination({"messaging.system": "kafka"}, "publish payments", "internal") == "payments"
    spans = tk.examples.load("checkout-small")
    with pytest.raises(ArgumentError, match="unknown via"):
        tk.stitch(spans, via=("links", "psychic"))
    with pytest.raises(SpansSchemaError, match="stitch"):
        tk.stitch(spans.drop(columns="kind"))
    empty = tk.stitch(tk.empty_spans())
    assert empty.hops.empty and empty.n_workflows == 0 and list(empty.hops.columns) == HOPS_TABLE.column_names


@pytest.mark.slow  # 4.5 s in the fast lane (2 loaded cores, issue 28)
def test_links_survive_xray_files(pair, tmp_path):
    linked, _ = pair
    p = tmp_path / "linked.json.gz"
    tk.write_xray(linked.spans, p)
    back = tk.read_xray(p)
    assert _hop_keys(tk.stitch(back).hops) == {h[:4] for h in linked.truth.hops}
    assert not any("links" in a for a in back["attributes"])


def test_critical_path_across_links_through_deep_chains():
    """The literal hop with the producer 300 levels under its request root and 300 levels of work under the
    consumer: each row's unit (the top of its parents) is found by pointer jumping, log2(depth) passes (it
    took one pass over every row per level: a 100,000-deep chain took minutes)."""
    ms, deep = 1_000_000, 300
    link = [{"trace_id": "1" * 32, "span_id": f"{deep + 2:016x}", "trace_state": None, "flags": None, "attributes": {}}]
    ids1 = [f"{i:016x}" for i in range(1, deep + 3)]  # root, the chain, the producer (last); from 1: zeros are no id
    ids2 = [f"{i + 10_000:016x}" for i in range(deep + 1)]  # the consumer, the chain under it
    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32] * (deep + 2) + ["2" * 32] * (deep + 1),
        "span_id": ids1 + ids2,
        "parent_id": [None, *ids1[:-1], None, *ids2[:-1]],
        "service": ["api"] * (deep + 1) + ["api"] + ["worker"] * (deep + 1),
        "name": ["POST /"] + ["step"] * deep + ["jobs publish", "jobs process"] + ["work"] * deep,
        "kind": ["server"] + ["internal"] * deep + ["producer", "consumer"] + ["internal"] * deep,
        "start": [0] + [1 * ms] * deep + [2 * ms, 9 * ms] + [10 * ms] * deep,
        "end": [10 * ms] + [9 * ms] * deep + [4 * ms, 16 * ms] + [15 * ms] * deep,
        "links": [[]] * (deep + 2) + [link] + [[]] * deep})
    cp = tk.critical_path(spans, across_links=True)
    assert set(cp["workflow_id"]) == {"1" * 32}
    assert cp["start"].min() == spans["start"].min() and cp["end"].max() == spans["end"].max()
    assert (cp["start"].iloc[1:].to_numpy() == cp["end"].iloc[:-1].to_numpy()).all()  # tiles, no gaps
    assert cp.loc[cp["section"] == "queue", "duration_ms"].tolist() == [5.0]
    assert cp.groupby("service", sort=True)["duration_ms"].sum().to_dict() == {"api": 4.0, "jobs": 5.0, "worker": 7.0}


def test_critical_path_across_links_follows_a_consumer_nested_in_its_segment():
    """The batch consumer `process batch` is a subsegment of the shipping-workflow segment (as an X-Ray
    Lambda function segment sits under its service segment): the path still goes back through its link to
    fulfillment and order-api, tiling the workflow with both queue waits (it stopped at the segment before)."""
    spans = tk.read_xray(DATA / "xray" / "span_links_sqs_lambda.json")
    cp = tk.critical_path(spans, across_links=True)
    assert cp["workflow_id"].nunique() == 1
    assert cp["start"].min() == spans["start"].min() and cp["end"].max() == spans["end"].max()
    assert (cp["start"].iloc[1:].to_numpy() == cp["end"].iloc[:-1].to_numpy()).all()  # tiles, no gaps
    q = cp[cp["section"] == "queue"]
    assert q["duration_ms"].tolist() == [80.0, 600.0]
    assert cp["service"].iloc[0] == "order-api" and cp["service"].iloc[-1] == "shipping-workflow"


def test_xray_sqs_to_lambda_in_one_trace_is_a_hop_with_its_queue_wait(pair, tmp_path):
    """X-Ray: SQS passes the sender's trace header to the Lambda it triggers, so the Lambda's segment sits in the
    producer's trace under the ``SendMessage`` subsegment — read as a server span, never a consumer. stitch found
    0 hops in such files (344 in checkout-baseline) where the OTLP spans of the same run give every one; now the
    X-Ray file gives the same hops (by producer span) and the same queue waits, also when the Lambda segment
    names the inferred SQS segment as its parent."""
    _, same = pair
    spans = same.spans
    path = tmp_path / "same.json"
    tk.write_xray(spans, path)
    xr = tk.read(path)
    otlp_hops = tk.stitch(spans).hops
    xray_hops = tk.stitch(xr).hops
    assert len(otlp_hops) > 100 and len(xray_hops) == len(otlp_hops)
    assert set(xray_hops["rule"]) == {"parent"} and set(xray_hops["consumer_service"]) == {"fulfillment"}
    key = ["producer_trace_id", "producer_span_id"]
    a = otlp_hops.set_index(key)["queue_wait_ms"].sort_index()
    b = xray_hops.set_index(key)["queue_wait_ms"].sort_index()
    assert a.index.equals(b.index) and np.allclose(a.to_numpy(), b.to_numpy(), atol=1e-3)
    ws = tk.workflow_summary(xr)
    assert int(ws["hops"].sum()) == len(a)
    assert sum(sum(w) for w in ws["queue_waits_ms"]) == pytest.approx(float(a.sum()), abs=1e-3 * len(a))
    # the Lambda segment under the inferred SQS segment instead of the subsegment: the same hops
    inferred_sqs = xr[xr["inferred"].to_numpy(dtype=bool) & (xr["service"] == "SQS").to_numpy()]
    by_parent = dict(zip(inferred_sqs["parent_id"].astype(str), inferred_sqs["span_id"].astype(str), strict=True))
    moved = xr.copy()
    lam = (moved["service"] == "fulfillment").to_numpy() & (moved["kind"] == "server").to_numpy()
    pid = moved["parent_id"].astype(object).to_numpy().copy()
    pid[lam] = [by_parent.get(str(p), p) for p in pid[lam]]
    moved["parent_id"] = pd.array(pid, dtype=moved["parent_id"].dtype)
    moved_hops = tk.stitch(moved).hops
    assert moved_hops.set_index(key)["queue_wait_ms"].sort_index().index.equals(b.index)
    # the bundled X-Ray datasets: every fulfillment invocation is a hop
    base = read_dataset("checkout-baseline")
    n_lambda = int(((base["service"] == "fulfillment") & (base["kind"] == "server")).sum())
    assert len(tk.stitch(base).hops) == n_lambda == 344


def test_critical_path_across_links_takes_a_span_id_repeated_three_times():
    """A span id three times in a trace made critical_path(across_links=True) raise pandas' InvalidIndexError (two
    labels blanked to None, a non-unique index); the plain walk took the frame. Now both give the same sections."""
    ms, t0 = 10**6, 1_772_460_000_000_000_000
    df = tk.spans_from_columns({"trace_id": ["ab" * 16] * 4, "span_id": ["a" * 16, "b" * 16, "b" * 16, "b" * 16],
                                "parent_id": [None, "a" * 16, "a" * 16, "a" * 16], "service": ["api", "db", "db", "db"],
                                "name": ["GET /", "q", "q", "q"], "start": [t0, t0 + ms, t0 + 3 * ms, t0 + 5 * ms],
                                "end": [t0 + 10 * ms, t0 + 2 * ms, t0 + 4 * ms, t0 + 6 * ms]})
    plain = tk.critical_path(df)
    linked = tk.critical_path(df, across_links=True)
    assert linked[["span_id", "start", "end"]].values.tolist() == plain[["span_id", "start", "end"]].values.tolist()
