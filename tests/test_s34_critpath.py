"""Session 34 review of the critical path, its aggregations (breakdown, flame tree, saving potential), attribution
(bubble_up, cold_starts), hop blame and the waterfall: a brute-force reference walk over random trees, deep and
wide trees with a path known by construction, and the defects found (each test failed on the code before).
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.core import flag_arg, percentile_window_arg

MS = 1_000_000
TID = "1" * 32
INF = float("inf")


def _sid(i: int) -> str:
    return f"{i + 1:016x}"


# ------------------------------------------------------------------ a reference walk, written from FORMATS.md §4
def _reference(rows, adjacent=True, nonblocking=("producer_consumer",), surrounding="clamp", in_progress="extend",
               inferred="keep"):
    """Jaeger UI's walk as FORMATS.md §4 states it, plus tracekit's documented decisions (ties to the longest, then
    the smaller id; zero-length children skipped; a non-root in progress runs to its parent's end, a root to the
    latest time of its trace; the first copy of a repeated id), recursively over dicts: obviously slow, obviously
    the rule. Returns sorted (span id, start, end, root id) sections."""
    by_id = {}
    for r in rows:
        by_id.setdefault(r["id"], r)
    kids: dict = {}
    roots = []
    for r in by_id.values():
        if r["parent"] is None or r["parent"] not in by_id:
            roots.append(r)
        else:
            kids.setdefault(r["parent"], []).append(r)
    latest = max(max(r["start"], r["end"] if r["end"] is not None else r["start"]) for r in by_id.values())
    out = []

    def sanitise(s, ss, se):
        res = []
        for c in kids.get(s["id"], []):
            ce = c["end"] if c["end"] is not None else INF
            if ("producer_consumer" in nonblocking and s["kind"] == "producer" and c["kind"] == "consumer") or (
                    "consumer" in nonblocking and c["kind"] == "consumer") or (
                    "links" in nonblocking and s["id"] in c["links"]) or (
                    in_progress == "drop" and c["end"] is None) or (inferred == "drop" and c["inferred"]) or (
                    surrounding == "drop" and c["start"] < ss and ce > se):
                continue
            if ce < c["start"] or c["start"] >= se or ce <= ss:
                continue
            a, b = max(c["start"], ss), min(ce, se)
            res.append((c, a, b, sanitise(c, a, b)))
        return res

    def walk(node, cut, root):
        s, ss, _, children = node
        first = True
        while True:
            best = None
            for c in children:
                _, a, b, _ = c
                if b > a and (b <= cut if (first or adjacent) else b < cut) and a < cut:
                    key = (-b, a, c[0]["id"])
                    if best is None or key < best[0]:
                        best = (key, c)
            if best is None:
                if cut > ss:
                    out.append((s["id"], ss, cut, root))
                return
            c = best[1]
            if cut > c[2]:
                out.append((s["id"], c[2], cut, root))
            walk(c, c[2], root)
            cut, first = c[1], False

    for r in roots:
        if in_progress == "drop" and r["end"] is None:
            continue
        end = r["end"] if r["end"] is not None else latest
        if end > r["start"]:
            walk((r, r["start"], end, sanitise(r, r["start"], end)), end, r["id"])
        elif end == r["start"] and r["end"] is not None:  # a 0 ms root: one 0 ms section (its request counts)
            out.append((r["id"], end, end, r["id"]))
    return sorted(out, key=lambda x: (x[1], x[2]))


def _random_trace(rng: random.Random):
    shape = rng.choice(["random", "random", "chain", "fan"])
    rows = []
    for i in range(rng.randrange(1, 14)):
        p = None if i == 0 else (i - 1 if shape == "chain" else 0 if shape == "fan" else rng.randrange(i))
        if i and rng.random() < 0.05:
            p = rng.choice([9999, None])  # an orphan, or a second root
        s = 1000 + rng.randrange(100) - (rng.randrange(30) if i and rng.random() < 0.05 else 0)  # clock skew
        if i > 1 and rng.random() < 0.3 and rows[-1]["end"] is not None:
            s = rows[-1]["end"]  # back to back with the span before: the adjacency rule decides
        e = s + rng.choice([0, rng.randrange(60), rng.randrange(120)])  # zero-length spans too
        rows.append({"id": _sid(i), "parent": None if p is None else _sid(p), "start": s,
                     "end": None if rng.random() < 0.05 else e,  # in progress
                     "kind": rng.choice(["server", "client", "producer", "consumer", "internal", "internal"]),
                     "inferred": rng.random() < 0.2})
        rows[-1]["links"] = [rows[-1]["parent"]] if rows[-1]["parent"] and rng.random() < 0.2 else []
    if len(rows) > 2 and rng.random() < 0.1:  # a repeated span id (a leaf exported twice, one copy differing)
        rows.append(dict(rows[-1], start=rows[-1]["start"] + 1))
    return rows


def _frame(traces: dict):
    """One spans frame of ``{trace id: rows}`` (built once: spans_from_columns per trace was most of the time)."""
    rows = [(tid, r) for tid, rs in traces.items() for r in rs]
    return tk.spans_from_columns({
        "trace_id": [t for t, _ in rows], "span_id": [r["id"] for _, r in rows], "parent_id": [r["parent"] for _, r in rows],
        "service": ["s"] * len(rows), "name": [f"o{i}" for i in range(len(rows))], "kind": [r["kind"] for _, r in rows],
        "inferred": [r["inferred"] for _, r in rows],
        "links": [[{"trace_id": t, "span_id": x} for x in r["links"]] for t, r in rows],
        "start": [r["start"] for _, r in rows], "end": [r["end"] for _, r in rows]})


def _sections(cp):
    got = zip(cp["span_id"], cp["start"].astype("int64"), cp["end"].astype("int64"), cp["root_span_id"], strict=True)
    return sorted(((a, int(b), int(c), d) for a, b, c, d in got), key=lambda x: (x[1], x[2]))


def test_both_engines_give_the_reference_walks_sections_on_320_random_trees():
    """Overlapping children, children outliving or starting before their parent, gaps, in-progress spans, orphans,
    second roots, zero-length spans, repeated ids, producer/consumer, links, inferred segments; every setting (16
    batches of 20 traces, one setting per batch, each trace compared on its own)."""
    checked = 0
    for batch in range(16):
        rng = random.Random(batch)
        kw = {"adjacent_sequential": batch % 2 == 0,
              "nonblocking": [("producer_consumer",), ("consumer",), ("links",), (), ("links", "consumer")][batch % 5],
              "surrounding": rng.choice(["clamp", "drop"]), "in_progress": rng.choice(["extend", "drop"]),
              "inferred": rng.choice(["keep", "drop"])}
        traces = {f"{batch * 100 + k + 1:032x}": _random_trace(random.Random(batch * 100 + k)) for k in range(20)}
        spans = _frame(traces)
        for engine in ("numpy", "loop"):
            cp = tk.critical_path(spans, engine=engine, **dict(kw, nonblocking=list(kw["nonblocking"]) or None))
            per_trace = dict(tuple(cp.groupby(cp["trace_id"].astype(object))))
            for tid, rows in traces.items():
                want = _reference(rows, adjacent=kw["adjacent_sequential"], nonblocking=kw["nonblocking"],
                                  surrounding=kw["surrounding"], in_progress=kw["in_progress"], inferred=kw["inferred"])
                assert _sections(per_trace.get(tid, cp.iloc[:0])) == want, (tid, engine, kw)
                checked += engine == "loop"
    assert checked == 320


def test_a_5000_level_chain_and_a_10000_child_fan_walk_to_the_path_known_by_construction():
    # chain: span i runs [i, 2n - i]; each holds [i, i+1] and [2n-i-1, 2n-i], the deepest its whole [n-1, n+1]
    n = 5000
    ids = [_sid(i) for i in range(n)]
    chain = tk.spans_from_columns({"trace_id": [TID] * n, "span_id": ids, "parent_id": [None] + ids[:-1],
                                   "service": ["s"] * n, "name": ["o"] * n, "start": list(range(n)),
                                   "end": [2 * n - i for i in range(n)]})
    want = sorted([(ids[i], i, i + 1) for i in range(n - 1)] + [(ids[i], 2 * n - i - 1, 2 * n - i) for i in range(n - 1)]
                  + [(ids[n - 1], n - 1, n + 1)], key=lambda x: x[1])
    for engine in ("numpy", "loop"):
        cp = tk.critical_path(chain, engine=engine)
        assert [x[:3] for x in _sections(cp)] == want
        assert cp["depth"].max() == n - 1
    # fan: 10,000 children of one root, back to back with a gap of 1 after each, half of them doubled by an
    # overlapping shorter sibling that ends first (never on the path)
    m = 10_000
    starts = [1 + 3 * k for k in range(m)]
    fan_ids = [_sid(i) for i in range(1 + m + m // 2)]
    fs, fe = [0] + starts + [s for s in starts[::2]], [3 * m + 1] + [s + 2 for s in starts] + [s + 1 for s in starts[::2]]
    fan = tk.spans_from_columns({"trace_id": [TID] * len(fan_ids), "span_id": fan_ids,
                                 "parent_id": [None] + [fan_ids[0]] * (len(fan_ids) - 1), "service": ["s"] * len(fan_ids),
                                 "name": ["o"] * len(fan_ids), "start": fs, "end": fe})
    want = sorted([(fan_ids[1 + k], starts[k], starts[k] + 2) for k in range(m)]
                  + [(fan_ids[0], 3 * k, 3 * k + 1) for k in range(m + 1)], key=lambda x: x[1])
    for engine in ("numpy", "loop"):
        assert [x[:3] for x in _sections(tk.critical_path(fan, engine=engine))] == want


def test_real_ddb_sample_critical_path_checked_by_hand(real_traces):
    """otel-contrib ddbSample.txt (a Go SDK capture, depth 5): the root's 57.440 ms, its last-finishing chain
    DescribeExisting… → second dynamodb call → its wait, then back through response/attempt/connect/tls."""
    spans = tk.read(real_traces / "otel-contrib-awsxray-testdata" / "ddbSample.txt")
    cp = tk.critical_path(spans)
    assert cp.attrs["failures"] == () and cp["request"].all()
    t0 = spans["start"].min()
    got = [(r.name, round((r.start - t0).total_seconds() * 1e3, 3), round(r.duration_ms, 3)) for r in cp.itertuples()]
    # by hand from the file's times (ms after the root's start), each read to the µs from its text, a tie up
    # (session 49: .5354965 and .5355225 were read from their floats, .535496 and .535522)
    assert got[:3] == [("DDB", 0.0, 0.083), ("DDB.DescribeExistingTableAndPutToMissingTable", 0.083, 0.026),
                       ("dynamodb", 0.109, 0.002)]
    assert ("tls", 2.6, 37.302) in got and ("response", 40.006, 11.876) in got and ("wait", 57.393, 0.003) in got
    assert got[-1] == ("DDB", 57.432, 0.009)
    assert round(cp["duration_ms"].sum(), 3) == 57.441  # .535414 to .5928545 (a tie, up): 57,441 µs


# ------------------------------------------------------------------ argument defects
def _cp():
    spans = tk.spans_from_columns({"trace_id": [TID] * 2, "span_id": ["a" * 16, "b" * 16], "parent_id": [None, "a" * 16],
                                   "service": ["api", "db"], "name": ["r", "q"], "start": [0, 10 * MS], "end": [100 * MS, 60 * MS]})
    return spans, tk.critical_path(spans)


@pytest.mark.parametrize("window", [(95,), "95", (95, 100, 1), 95, (None, 100)])
def test_a_malformed_percentile_window_is_an_argument_error_in_every_aggregation(window):
    # before: ValueError (unpacking), TypeError ('<=' between int and str) from deep inside
    spans, cp = _cp()
    for call in (lambda: tk.critical_path_breakdown(cp, percentile_window=window),
                 lambda: tk.critical_path_tree(cp, percentile_window=window),
                 lambda: tk.critical_path_tree_diff(cp, cp, percentile_window=window, n_boot=0)):
        with pytest.raises(tk.ArgumentError, match="percentile_window must be None or a pair"):
            call()
    assert percentile_window_arg([90, 100], "f") == (90.0, 100.0) and percentile_window_arg(None, "f") is None
    with pytest.raises(tk.ArgumentError, match="is in percent"):
        percentile_window_arg((0.95, 1.0), "f")


def test_breakdown_refuses_a_spans_frame_for_the_critical_path_and_a_non_frame_for_spans():
    # before: a spans frame summed its spans' durations as if they were critical-path sections (api 100 + db 50:
    # shares 2/3 and 1/3 where the path is 50/50), with no word; spans="x" was an AttributeError
    spans, cp = _cp()
    assert tk.critical_path_breakdown(cp)["share"].tolist() == [0.5, 0.5]
    with pytest.raises(tk.ArgumentError, match="cp is a spans frame"):
        tk.critical_path_breakdown(spans)
    with pytest.raises(tk.ArgumentError, match="spans must be a spans DataFrame"):
        tk.critical_path_breakdown(cp, by="route", spans="x")
    with pytest.raises(tk.ArgumentError, match="spans must be a spans DataFrame"):
        tk.critical_path_tree(cp, spans="x")
    with pytest.raises(tk.ArgumentError, match="expected the DataFrame"):
        tk.saving_potential("x")


@pytest.mark.parametrize("kw, word", [
    ({"overlap_tolerance": "0.1"}, "overlap_tolerance"),         # was a TypeError
    ({"adjacent_sequential": "no"}, "adjacent_sequential"),      # was truthy: the sequential rule, silently
    ({"adjacent_sequential": 0}, "adjacent_sequential"),
    ({"across_links": "yes"}, "across_links"),                   # was truthy: the workflow walk, silently
    ({"nonblocking": ["consumer", 3]}, "nonblocking"),           # was a TypeError from sorting
    ({"nonblocking": {"consumer": 1}}, "nonblocking"),           # a dict's keys were taken silently
])
def test_critical_path_settings_of_the_wrong_type_are_argument_errors(kw, word):
    spans, _ = _cp()
    with pytest.raises(tk.ArgumentError, match=word):
        tk.critical_path(spans, **kw)
    assert flag_arg(np.bool_(True), "x", "f") is True


def test_critical_path_still_takes_its_settings_in_every_accepted_form():
    spans, cp = _cp()
    for kw in ({"nonblocking": ("consumer", "links")}, {"nonblocking": np.array(["consumer"])}, {"nonblocking": None},
               {"adjacent_sequential": np.bool_(False)}, {"overlap_tolerance": 0}, {"across_links": False}):
        got = tk.critical_path(spans, **kw)
        assert got["duration_ms"].tolist() == cp["duration_ms"].tolist() == [10.0, 50.0, 40.0]


def test_waterfall_max_depth_and_collapse_arguments():
    spans, cp = _cp()
    # max_depth=True was taken as 1 (hiding nothing here, silently); collapse=None was a bare TypeError
    with pytest.raises(tk.ArgumentError, match="max_depth"):
        tk.waterfall_data(spans, max_depth=True)
    assert tk.waterfall_data(spans, collapse=None)["span_id"].tolist() == ["a" * 16, "b" * 16]
    assert tk.waterfall_data(spans, max_depth=0)["n_hidden"].tolist() == [1]
    with pytest.raises(tk.ArgumentError, match="collapse"):
        tk.waterfall_data(spans, collapse=5)
    with pytest.raises(tk.ArgumentError, match="critical_path must be"):
        tk.waterfall_data(spans, critical_path="yes")


@pytest.mark.parametrize("slowest", [True, "0.1"])
def test_cold_starts_slowest_is_a_share(slowest):
    spans = tk.examples.load("cold-starts-small")
    with pytest.raises(tk.ArgumentError, match="slowest"):  # "0.1" was a TypeError, True was taken as 1
        tk.cold_starts(spans, slowest=slowest, n_boot=10)


# ------------------------------------------------------------------ attribution
def test_bubble_up_at_span_level_counts_a_span_exported_twice_once():
    # trace 1: api r -> db q (q exported twice); trace 2: api r -> cache g. Selected: spans longer than 20 ms
    # = r, q, r: 3 spans, q one of them (before: 4 units, q twice: share 2/4 = 0.5 instead of 1/3)
    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32] * 3 + ["2" * 32] * 2, "span_id": ["a" * 16, "b" * 16, "b" * 16, "c" * 16, "d" * 16],
        "parent_id": [None, "a" * 16, "a" * 16, None, "c" * 16], "service": ["api", "db", "db", "api", "cache"],
        "name": ["r", "q", "q", "r", "g"], "start": [0, 10 * MS, 10 * MS, 0, MS], "end": [100 * MS, 60 * MS, 60 * MS, 50 * MS, 2 * MS],
        "attributes": [{}, {"x": "1"}, {"x": "1"}, {}, {"x": "2"}]})
    hits = tk.bubble_up(spans, lambda s: s["duration_ms"] > 20, level="span")
    assert (hits.attrs["n_selection"], hits.attrs["n_baseline"]) == (3, 1)
    db = hits[(hits["dimension"] == "service") & (hits["value"] == "db")].iloc[0]
    assert (db["selection_count"], db["share_selection"]) == (1, pytest.approx(1 / 3))
    x = hits[(hits["dimension"] == "x") & (hits["value"] == "1")].iloc[0]
    assert x["selection_count"] == 1


# ------------------------------------------------------------------ repeated span ids (core.tree)
def test_a_parent_exported_twice_with_agreeing_copies_keeps_its_trace(real_traces):
    """otel-contrib's ddbSample.txt and invalidNamespace.txt hold one trace (FORMATS.md: files sharing a trace id
    must merge); the reader keeps one copy of 17 of the 18 segments and both of the ``dynamodb`` subsegment, whose
    namespace differs (kind client / internal). The kernel called its trace bad (a duplicated id named as a
    parent): 0 sections and a failure where ddbSample alone walks 35 sections, 57.440 ms. Copies agreeing on parent,
    start, end, service and name are one span: the trace is walked, the copy listed as left out."""
    folder = real_traces / "otel-contrib-awsxray-testdata"
    both = tk.read([folder / "ddbSample.txt", folder / "invalidNamespace.txt"])
    alone = tk.read(folder / "ddbSample.txt")
    assert len(both) == len(alone) + 1 and both["span_id"].duplicated().sum() == 1
    cp, want = tk.critical_path(both), tk.critical_path(alone)
    assert cp.attrs["failures"] == () and len(cp) == len(want) == 35
    cols = ["span_id", "start", "end", "duration_ms", "service", "name"]
    pd.testing.assert_frame_equal(cp[cols], want[cols])
    assert [f.span_id for f in cp.attrs["duplicates_left_out"]] == ["7318c46a385557f5"]
    assert "copies agree" in cp.attrs["duplicates_left_out"][0].reason


def test_copies_of_a_parent_that_differ_in_time_or_name_still_make_the_trace_ambiguous():
    # R |----------| 0..100; A 10..60 named as B's parent, exported twice; B 20..40
    def spans(second_a):
        a = {"span_id": "a" * 16, "parent_id": "f" * 16, "service": "db", "name": "q", "kind": "client", "start": 10, "end": 60}
        rows = [{"span_id": "f" * 16, "parent_id": None, "service": "api", "name": "r", "kind": "server", "start": 0, "end": 100},
                a, {"span_id": "b" * 16, "parent_id": "a" * 16, "service": "db", "name": "io", "kind": "internal", "start": 20, "end": 40},
                dict(a, **second_a)]
        return tk.spans_from_columns({k: [r[k] if k not in ("start", "end") else r[k] * MS for r in rows]
                                      for k in rows[0]} | {"trace_id": [TID] * 4})
    agree = tk.critical_path(spans({"kind": "internal"}))  # a kind (or an attribute) differing: one span, first copy's
    assert agree.attrs["failures"] == () and agree["duration_ms"].sum() == 100.0
    assert agree["kind"].tolist() == ["server", "client", "internal", "client", "server"]
    for second in ({"end": 70}, {"start": 5}, {"name": "other"}, {"service": "cache"}, {"parent_id": "9" * 16}):
        cp = tk.critical_path(spans(second))
        assert len(cp) == 0 and "which copy is unknown" in cp.attrs["failures"][0].reason, second


def test_critical_path_tree_diff_draws_its_bootstrap_weights_a_block_at_a_time():
    """The Poisson weights were one n_boot x requests array (and its float copy): 5,000 requests x 1,000 resamples
    held 80 MB at once, 50,000 requests 1 GB (66 s; 10 s now). Drawn a block at a time from the same stream, the
    intervals are the same numbers; the peak of the weights stays near 16 MB whatever the number of requests."""
    import tracemalloc

    n = 5000
    spans = tk.spans_from_columns({
        "trace_id": [f"{i + 1:032x}" for i in range(n)], "span_id": [_sid(i) for i in range(n)], "parent_id": [None] * n,
        "service": ["fn"] * n, "name": [f"op{i % 3}" for i in range(n)], "start": np.arange(n) * MS,
        "end": np.arange(n) * MS + 100_000 + (np.arange(n) % 7) * 1000})
    cp = tk.critical_path(spans)
    tk.critical_path_tree_diff(cp, cp, spans_a=spans, spans_b=spans, n_boot=10)  # warm the caches
    tracemalloc.start()
    try:
        d = tk.critical_path_tree_diff(cp, cp, spans_a=spans, spans_b=spans, n_boot=1000, seed=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 48e6, peak  # was above 80 MB
    # the same resamples as one draw of every weight: the per-request means of each resample, by hand
    rng = np.random.default_rng(1)
    ms = (100_000 + (np.arange(n) % 7) * 1000) / 1e6
    op0 = np.arange(n) % 3 == 0
    wa, wb = rng.poisson(1.0, size=(1000, n)), rng.poisson(1.0, size=(1000, n))
    diff = (wa[:, op0] @ ms[op0]) / wa.sum(axis=1) - (wb[:, op0] @ ms[op0]) / wb.sum(axis=1)
    row = d.set_index("node").loc["fn:op0"]
    # the ends are draws (core.interval_ends, inverted_cdf: the 25th and 975th of 1,000), not numpy's linear quantile
    assert row["delta_self_lo"] == pytest.approx(np.quantile(diff, 0.025, method="inverted_cdf"), abs=1e-12)
    assert row["delta_self_hi"] == pytest.approx(np.quantile(diff, 0.975, method="inverted_cdf"), abs=1e-12)


# ------------------------------------------------------------------ flame graph data
def test_flame_node_traces_count_the_requests_its_total_comes_from(real_traces):
    """A span on the path wholly covered by its child holds no section: X-Ray's DynamoDB and SNS call subsegments,
    covered by their inferred segments (kept by default). Their nodes were 79 and 959 ms wide, "on the path in 0
    requests" (plot_flame's hover); every node now counts the requests it or a node below it holds time in."""
    spans = tk.read(real_traces / "aws-xray-developer-guide" / "xray-api-gettingdata.md.BatchGetTraces-output.json")
    t = tk.critical_path_tree(tk.critical_path(spans), spans=spans).set_index("node")
    covered = t[t["self_ms"] == 0]
    assert sorted(covered["name"]) == ["DynamoDB", "SNS"] and sorted(covered["total_ms"]) == [79.0, 959.0]
    assert (t["traces"] == 1).all()  # one request: every node of its path is in it (was 0 for the two)
    # three requests: web -> wrap -> db, where wrap is covered by db in two of them and holds time of its own in one
    #   r1: web 0..100, wrap 10..50, db 10..50   r2: web 0..80, wrap 10..30, db 10..30   r3: web 0..90, wrap 10..60, db 20..40
    rows = []
    for k, (w0, w1, d0, d1, end) in enumerate([(10, 50, 10, 50, 100), (10, 30, 10, 30, 80), (10, 60, 20, 40, 90)]):
        tid = f"{k + 1:032x}"
        rows += [(tid, "a", None, "web", "GET", 0, end), (tid, "b", "a", "web", "wrap", w0, w1), (tid, "c", "b", "db", "q", d0, d1)]
    three = tk.spans_from_columns({
        "trace_id": [r[0] for r in rows], "span_id": [r[1] * 16 for r in rows],
        "parent_id": [None if r[2] is None else r[2] * 16 for r in rows], "service": [r[3] for r in rows],
        "name": [r[4] for r in rows], "start": [r[5] * MS for r in rows], "end": [r[6] * MS for r in rows]})
    t = tk.critical_path_tree(tk.critical_path(three), spans=three).set_index("name")
    assert t.loc["wrap", "self_ms"] == pytest.approx(30 / 3) and t.loc["wrap", "total_ms"] == pytest.approx((40 + 20 + 50) / 3)
    assert t["traces"].to_dict() == {"GET": 3, "wrap": 3, "q": 3}  # wrap was 1: its own time in r3 only


def test_a_root_without_a_start_is_a_failure_not_an_empty_path():
    # schema-invalid (start is not nullable) but what a hand-built frame may hold: the trace walked to nothing and
    # said nothing (failures ()); it is listed now
    spans = tk.spans_from_columns({"trace_id": [TID] * 2, "span_id": ["a" * 16, "b" * 16], "parent_id": [None, "a" * 16],
                                   "service": ["x"] * 2, "name": ["r", "q"], "start": [0, 10 * MS], "end": [100 * MS, 60 * MS]})
    spans.loc[0, "start"] = pd.NaT  # spans_from_columns refuses a missing start now: an edited frame
    cp = tk.critical_path(spans)
    assert len(cp) == 0
    assert [(f.span_id, f.reason) for f in cp.attrs["failures"]] == [("a" * 16, "root span has no start time (start is NaT)")]


def test_call_path_texts_naming_two_call_paths_are_said_not_merged_silently():
    # trace 1: a root of service a named "x > b:y" (100 ms); trace 2: a:x (100 ms) calling b:y (10..70). Both render
    # "a:x > b:y": the flame tree merged b's 60 ms into a depth-0 node labelled a / "x > b:y" (80 ms per request),
    # left a:x's total 20 ms where trace 2's root took 100, and said nothing
    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32, "2" * 32, "2" * 32], "span_id": ["a" * 16, "b" * 16, "c" * 16],
        "parent_id": [None, None, "b" * 16], "service": ["a", "a", "b"], "name": ["x > b:y", "x", "y"],
        "start": [0, 0, 10 * MS], "end": [100 * MS, 100 * MS, 70 * MS]})
    cp = tk.critical_path(spans)
    with pytest.warns(UserWarning, match="1 call path text.*'a:x > b:y'"):
        t = tk.critical_path_tree(cp, spans=spans)
    assert t.attrs["ambiguous_call_paths"] == ("a:x > b:y",)
    with pytest.warns(UserWarning, match="critical_path_tree_diff"):
        d = tk.critical_path_tree_diff(cp, cp, spans_a=spans, spans_b=spans, n_boot=0)
    assert d.attrs["ambiguous_call_paths"] == ("a:x > b:y",)
    # an unambiguous frame says nothing
    clean = spans.assign(name=["x", "x", "y"])
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tk.critical_path_tree(tk.critical_path(clean), spans=clean).attrs["ambiguous_call_paths"] == ()


def test_cold_start_of_an_asynchronous_consumer_in_its_own_trace_adds_no_request_time():
    """SQS -> Lambda: the consumer runs in a trace of its own, linked to the producer (asynchronous work, not a
    request: core.trace_outcomes). Its 300 ms Initialization was counted as 300 ms of critical path added per cold
    start although the docstring says 0 for an SQS consumer and critical_path_breakdown leaves that time out."""
    a, b = "a" * 32, "b" * 32
    spans = tk.spans_from_columns({
        "trace_id": [a, a, b, b, b], "span_id": ["1" * 16, "2" * 16, "3" * 16, "4" * 16, "5" * 16],
        "parent_id": [None, "1" * 16, None, "3" * 16, "3" * 16],
        "service": ["api", "api", "fulfillment", "fulfillment", "fulfillment"],
        "name": ["POST /order", "SQS.SendMessage", "fulfillment", "Initialization", "work"],
        "kind": ["server", "producer", "consumer", "internal", "internal"],
        "start": [0, 10 * MS, 50 * MS, 50 * MS, 350 * MS], "end": [100 * MS, 20 * MS, 400 * MS, 350 * MS, 400 * MS],
        "attributes": [{}, {}, {"origin": "AWS::Lambda::Function"}, {}, {}],
        "links": [[], [], [{"trace_id": a, "span_id": "2" * 16}], [], []]})
    cs = tk.cold_starts(spans, n_boot=20)
    assert cs[["function", "cold_starts", "init_mean_ms", "cp_added_ms"]].values.tolist() == [["fulfillment", 1, 300.0, 0.0]]
    assert "fulfillment" not in set(tk.critical_path_breakdown(tk.critical_path(spans))["service"])
    # the same function called synchronously (a child of the request's span, not linked): its 300 ms hold the request up
    sync = spans.assign(trace_id=[a] * 5, parent_id=[None, "1" * 16, "2" * 16, "3" * 16, "3" * 16],
                        kind=["server", "client", "server", "internal", "internal"], links=[[]] * 5,
                        end=[500 * MS, 420 * MS, 400 * MS, 350 * MS, 400 * MS])
    assert tk.cold_starts(sync, n_boot=20)["cp_added_ms"].tolist() == [300.0]
