"""Session 48, scale5: critical_path_tree_diff, compare and find_pii at 300k spans with ids in span names (186k
distinct operations). Their results must not change: every test compares cell by cell with a reference built here
(the code the faster one replaced, patched back in) or with ground truth by construction. A test that fails on the
code before its fix says so; the others are controls."""

from __future__ import annotations

import warnings
from unittest import mock

import numpy as np
import pandas as pd
import pytest

import tracekit as tk

from .test_structure import mk, tid


def _hicard(df: pd.DataFrame, seed: int, every: int = 3) -> pd.DataFrame:
    """Ids in span names: about one distinct name per ``every`` spans (the 300k frames' 186k of 306k)."""
    rng = np.random.default_rng(seed)
    df = df.copy()
    ids = rng.integers(0, max(len(df) // every, 1), len(df))
    df["name"] = pd.array([f"{a} /item/{i}" for a, i in zip(df["name"].astype(str), ids, strict=True)],
                          dtype=df["name"].dtype)
    return df


@pytest.fixture(scope="module")
def hicard_pair():
    s = tk.simulate.simulate("db-lock", 60, seed=3).spans
    b = tk.simulate.simulate("baseline", 70, seed=4).spans
    return _hicard(s, 1), _hicard(b, 2)


def _same_frame(x: pd.DataFrame, y: pd.DataFrame) -> None:
    assert list(x.columns) == list(y.columns)
    assert len(x) == len(y)
    pd.testing.assert_frame_equal(x, y, check_exact=True)
    assert x.attrs == y.attrs


# ------------------------------------------------------------------ critical_path_tree_diff: nodes by integer codes

def _merge_reference(ta: dict, tb: dict):
    """The reference: the two trees side by side by an outer merge on their five text and depth keys, the nodes of
    each tree (sections, parents) looked up by text among the rows (the code before session 48)."""
    from tracekit.schema import STRING

    keys = ["node", "parent", "service", "name", "depth"]
    fa, fb = (pd.DataFrame({**{k: pd.array(t[k], dtype=STRING) for k in keys[:4]}, "depth": t["depth"],
                            "total_ms": t["total_ms"], "self_ms": t["self_ms"]}) for t in (ta, tb))
    m = fa.merge(fb, on=keys, how="outer", suffixes=("_a", "_b"))
    m = m.fillna({"total_ms_a": 0.0, "total_ms_b": 0.0, "self_ms_a": 0.0, "self_ms_b": 0.0}).sort_values("node", kind="stable")
    m["parent"] = m["parent"].astype(object).where(m["parent"].notna(), None)
    m = m.reset_index(drop=True)
    index = pd.Index(m["node"].to_numpy(dtype=object))
    if not index.is_unique:  # (the old code raised here when drawing intervals: a text of two rows)
        return m, None
    par = index.get_indexer(m["parent"].to_numpy(dtype=object)) if len(m) else np.zeros(0, np.int64)
    return m, tuple(index.get_indexer(t["node"]) if len(t["node"]) else np.zeros(0, np.int64) for t in (ta, tb)) + (par,)


def _deep_names_frame() -> pd.DataFrame:
    """Traces whose operations hold ' > ' and ':' (one text, two paths), a chain 40 deep, fan-outs, and a non-ASCII
    name (the nodes' order is the texts' code-point order)."""
    rows, span = [], 0
    for t in range(1, 7):
        root = span + 1
        span += 1
        rows.append((t, root, None, "web:8080", "GET /a > b", "server", 0, 1100))
        prev = root
        for d in range(40 if t % 2 else 3):
            span += 1
            rows.append((t, span, prev, f"svc{d % 4}", f"op {d} > x" if d % 7 == 0 else f"op{d}", "internal",
                         d + 1, 999 - d))
            prev = span
        for i in range(12):
            span += 1
            rows.append((t, span, root, "db", f"q /item/{(t * 31 + i) % 15}" + ("é" if i % 5 == 0 else ""),
                         "client", 1000 + 8 * i, 1003 + 8 * i + t % 4))
    return mk(rows)


def _pairs():
    f = _deep_names_frame()
    return {"deep": (f[f["trace_id"] <= tid(3)], f[f["trace_id"] > tid(3)])}


@pytest.mark.parametrize("n_boot,window", [(0, None), (40, None), (60, (50.0, 100.0))])
def test_tree_diff_by_node_codes_is_the_outer_merge_cell_by_cell(hicard_pair, n_boot, window):
    """Control: the diff with the two trees' nodes aligned by integer positions equals, every cell and attr, the
    one aligned by the outer merge on five text keys (the reference patched in), on 2,000+ call paths of ids in
    names, each side's nodes partly the other's."""
    from tracekit.analysis import flame

    s, b = hicard_pair
    ca, cb = tk.critical_path(s), tk.critical_path(b)
    new = tk.critical_path_tree_diff(ca, cb, spans_a=s, spans_b=b, n_boot=n_boot, percentile_window=window, seed=4)
    with mock.patch.object(flame, "_side_by_side", _merge_reference):
        ref = tk.critical_path_tree_diff(ca, cb, spans_a=s, spans_b=b, n_boot=n_boot, percentile_window=window, seed=4)
    _same_frame(new, ref)
    assert len(new) > 1000
    both = (new["total_ms_a"] > 0) & (new["total_ms_b"] > 0)
    assert both.sum() < len(new)  # nodes of one side only
    assert window is not None or both.sum() > 0  # ... and of both (the whole sets share call paths)
    if n_boot:
        assert new["delta_total_lo"].notna().sum() > 100


@pytest.mark.parametrize("swap", [False, True])
def test_tree_diff_by_node_codes_deep_and_odd_names(swap):
    """Control: names holding ' > ' and ':', a chain 40 deep, non-ASCII names; either side first: every cell equals
    the outer merge's."""
    from tracekit.analysis import flame

    s, b = _pairs()["deep"]
    if swap:
        s, b = b, s
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ca, cb = tk.critical_path(s), tk.critical_path(b)
        new = tk.critical_path_tree_diff(ca, cb, spans_a=s, spans_b=b, n_boot=50, seed=1)
        with mock.patch.object(flame, "_side_by_side", _merge_reference):
            ref = tk.critical_path_tree_diff(ca, cb, spans_a=s, spans_b=b, n_boot=50, seed=1)
    _same_frame(new, ref)
    assert new["depth"].max() >= 40
    assert new["node"].str.contains("é").any()


def test_tree_diff_of_an_empty_side_is_the_outer_merge():
    """Control: a side whose window holds no section (an empty critical path), either way round."""
    from tracekit.analysis import flame

    s, _ = _pairs()["deep"]
    ca = tk.critical_path(s)
    empty = ca.iloc[:0]
    for a, b in ((ca, empty), (empty, ca), (empty, empty)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            new = tk.critical_path_tree_diff(a, b, n_boot=10)
            with mock.patch.object(flame, "_side_by_side", _merge_reference):
                ref = tk.critical_path_tree_diff(a, b, n_boot=10)
        _same_frame(new, ref)


def test_tree_diff_merges_no_frame_on_text_keys(hicard_pair):
    """Fails on the old code: the two trees were put side by side by an outer merge on five keys (node, parent,
    service, name: texts; depth), seconds at 291k nodes; now by integer positions, no merge on node texts."""
    s, b = hicard_pair
    ca, cb = tk.critical_path(s), tk.critical_path(b)
    real = pd.DataFrame.merge
    ons: list = []

    def spy(self, *args, **kw):
        ons.append(kw.get("on"))
        return real(self, *args, **kw)

    with mock.patch.object(pd.DataFrame, "merge", spy):
        d = tk.critical_path_tree_diff(ca, cb, spans_a=s, spans_b=b, n_boot=20)
    assert len(d) > 1000
    assert not [on for on in ons if on is not None and "node" in list(on)]


def test_tree_diff_ambiguous_text_across_trees_keeps_two_rows():
    """Control: one text naming a root in a ('a' named 'x > b:y') and a child in b ('a:x' calling 'b:y'): two rows
    of that text, as the outer merge on all five keys made (no intervals)."""
    from tracekit.analysis import flame

    a = mk([(1, 1, None, "a", "x > b:y", "server", 0, 10)])
    b = mk([(2, 1, None, "a", "x", "server", 0, 10), (2, 2, 1, "b", "y", "client", 2, 8)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ca, cb = tk.critical_path(a), tk.critical_path(b)
        new = tk.critical_path_tree_diff(ca, cb, spans_a=a, spans_b=b, n_boot=0)
        with mock.patch.object(flame, "_side_by_side", _merge_reference):
            ref = tk.critical_path_tree_diff(ca, cb, spans_a=a, spans_b=b, n_boot=0)
    _same_frame(new, ref)
    assert (new["node"] == "a:x > b:y").sum() == 2


def test_tree_diff_ambiguous_text_across_trees_has_its_intervals():
    """Fails on the old code (pandas InvalidIndexError: the text looked up among two rows). a: 5 requests, a root 'a'
    named 'x > b:y' of 10 ms; b: 5 requests, 'a:x' (10 ms) calling 'b:y' (6 ms). Every request of a side alike: each
    interval is its point, by construction: the depth-0 row +10 ms, 'a:x' -10 ms total and -4 ms self, the depth-1
    row -6 ms."""
    a = mk([(t, 1, None, "a", "x > b:y", "server", 0, 10) for t in range(1, 6)])
    b = mk([r for t in range(6, 11) for r in ((t, 1, None, "a", "x", "server", 0, 10), (t, 2, 1, "b", "y", "client", 2, 8))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = tk.critical_path_tree_diff(tk.critical_path(a), tk.critical_path(b), spans_a=a, spans_b=b, n_boot=200)
    d = d.assign(parent=d["parent"].fillna("-")).set_index(["node", "depth"])
    want = {("a:x > b:y", 0): (10.0, 10.0), ("a:x", 0): (-10.0, -4.0), ("a:x > b:y", 1): (-6.0, -6.0)}
    assert len(d) == 3
    for k, (tot, own) in want.items():
        row = d.loc[k]
        assert row["delta_total_ms"] == pytest.approx(tot) and row["delta_self_ms"] == pytest.approx(own)
        assert row["delta_total_lo"] == pytest.approx(tot) and row["delta_total_hi"] == pytest.approx(tot)
        assert row["delta_self_lo"] == pytest.approx(own) and row["delta_self_hi"] == pytest.approx(own)


def _ambiguous_reference(sec: pd.DataFrame) -> tuple[str, ...]:
    """The reference: texts whose sections name more than one service, name or depth, by a group-by (before
    session 48)."""
    cols = [c for c in ("service", "name", "depth") if c in sec.columns]
    n = sec.groupby("call_path", sort=True)[cols].nunique(dropna=False)
    return tuple(n.index[(n > 1).any(axis=1)].astype(str))


def test_ambiguous_paths_by_codes_are_the_group_bys():
    """Control: the texts naming two operations or depths, found by integer codes, are the group-by's, in its order:
    names and services holding ' > ' and ':', a missing service, a clean frame (none)."""
    from tracekit.analysis import flame

    f = _deep_names_frame()
    rows = [(1, 1, None, "a", "x > b:y", "server", 0, 10), (2, 1, None, "a", "x", "server", 0, 10),
            (2, 2, 1, "b", "y", "client", 2, 8), (3, 1, None, "a:x > b", "y", "server", 0, 10),
            (4, 1, None, "c", "é > d:e", "server", 0, 10), (5, 1, None, "c", "é", "server", 0, 10),
            (5, 2, 1, "d", "e", "client", 2, 8)]
    g = mk(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for spans in (f, g, pd.concat([f, g], ignore_index=True), _pairs()["deep"][0].iloc[:0]):
            cp = tk.critical_path(spans)
            sec, _ = flame._request_sections(cp, None, spans if len(spans) else None, "t")
            got = flame._ambiguous_paths(sec, "t")
            assert got == _ambiguous_reference(sec) if len(sec) else got == ()
    with pytest.warns(UserWarning, match="2 call path text"):
        got = flame._ambiguous_paths(flame._request_sections(tk.critical_path(g), None, g, "t")[0], "t")
    assert got == ("a:x > b:y", "c:é > d:e")


def test_tree_diff_groups_no_texts_for_ambiguous_paths(hicard_pair):
    """Fails on the old code: each side's ambiguous-path check was a group-by's nunique over the Arrow call-path
    texts (0.85 s a side at 300k spans); now drop_duplicates over integer codes (0.40 s)."""
    from pandas.core.groupby.generic import DataFrameGroupBy

    s, b = hicard_pair
    ca, cb = tk.critical_path(s), tk.critical_path(b)
    with mock.patch.object(DataFrameGroupBy, "nunique", side_effect=AssertionError("nunique")) as spy:
        tk.critical_path_tree_diff(ca, cb, spans_a=s, spans_b=b, n_boot=10)
    assert spy.call_count == 0


# ------------------------------------------------------------------ find_pii: a dict holding a list, batched


def _nested_rows(n: int = 400) -> list[dict]:
    """Attribute dicts holding a list or a dict beside scalar entries (X-Ray's and OTel's: table names, metadata):
    user keys, emails, addresses, versions, a redaction token, non-text keys (1 and True), a key holding the level
    separator, numbers."""
    rows = []
    for i in range(n):
        attrs = {"user.id": f"u{i}", "email": f"a{i}@example.com", "n": i, "plain": f"value {i}",
                 "tags": ["x", f"10.0.{i % 250}.{i % 200 + 1}", {"user.email": f"b{i}@example.org"}],
                 "ver": f"1.2.{i % 9}.4", "tok": "hmac:" + f"{i:020x}", "meta": {"user": {"email": "z@z.com", "n": 2}},
                 "k\x1fuser.email": "c@d.com", "empty": "", "none": None, "card": "4111 1111 1111 1111"}
        attrs[1 if i % 2 else True] = f"bob{i % 3}@example.com"
        if i % 5 == 0:
            attrs["tags"] = []
        rows.append({"name": f"GET /item/{i}", "attributes": attrs})
    return rows


def _pii_frame(rows: list[dict]) -> pd.DataFrame:
    n = len(rows)
    return tk.spans_from_columns({
        "trace_id": [f"{i // 4 + 1:032x}" for i in range(n)], "span_id": [f"{i + 1:016x}" for i in range(n)],
        "service": ["api"] * n, "name": [r["name"] for r in rows], "start": list(range(n)),
        "end": [i + 1 for i in range(n)], "attributes": [r["attributes"] for r in rows],
        "resource": [{"service.name": "api", "host": {"ip": "10.1.2.3", "user": "ann"}, "x": i} for i in range(n)]})


def _one_by_one(frame: pd.DataFrame, **kw) -> pd.DataFrame:
    """The reference: find_pii with no batch prefilter (every text through every pattern, every dict walked)."""
    from tracekit.analysis import pii

    with mock.patch.object(pii, "_BATCH_MIN", 10**12):
        return tk.find_pii(frame, **kw)


@pytest.mark.parametrize("kw", [{}, {"keys": ["user.*", "*.email"]}, {"patterns": ["email", "ipv4"], "keys": None}])
def test_find_pii_on_dicts_holding_containers_is_the_one_by_one_scan(kw):
    """Control: dicts holding a list or a dict beside scalar entries give, with the batch prefilter, exactly the rows
    of the one-by-one walk (order, paths, kinds, excerpts), with user keys, non-text keys, tokens and versions."""
    frame = _pii_frame(_nested_rows())
    got, ref = tk.find_pii(frame, **kw), _one_by_one(frame, **kw)
    pd.testing.assert_frame_equal(got, ref, check_exact=True)
    assert len(got) > 1000
    assert set(got["key"]) >= ({"tags.user.email", "meta.user.email", "k.user.email", "1", "True"} if not kw else set())


def test_find_pii_walks_only_the_containers_of_a_dict_holding_one():
    """Fails on the old code: a dict holding a list was walked entry by entry (every scalar entry's path built,
    matched and scanned: 9,360 pairs over 400 rows' attributes and resources); now its scalar entries are batched as a
    flat dict's and only the container entries walked (4,160 pairs), the rows equal the one-by-one scan's."""
    from tracekit.analysis import pii

    frame = _pii_frame(_nested_rows())
    real = pii._walk_pairs
    walked: list[int] = []

    def counting(value):
        for x in real(value):
            walked.append(1)
            yield x

    with mock.patch.object(pii, "_walk_pairs", counting):
        got = tk.find_pii(frame)
    pd.testing.assert_frame_equal(got, _one_by_one(frame), check_exact=True)
    assert len(walked) <= 5000, len(walked)


# ------------------------------------------------------------------ compare: the structure by hash lookups


def _structure_reference(pa, pb) -> pd.DataFrame:
    """The reference: compare's structure before session 48 (each side's paths a sorted text Index; an Index
    difference, .loc, concat, then a sort by side, traces and text)."""
    def frame(p):
        if not len(p.paths):
            return pd.DataFrame(columns=["traces", "spans"])
        o = np.argsort(p.paths, kind="stable")
        return pd.DataFrame({"traces": p.traces[o], "spans": p.spans[o]},
                            index=pd.Index(np.asarray(p.paths[o], dtype=object), name="call_path"))

    fa, fb = frame(pa), frame(pb)
    only_a, only_b = fa.index.difference(fb.index), fb.index.difference(fa.index)
    st = pd.concat([fa.loc[only_a].assign(side="a only"), fb.loc[only_b].assign(side="b only")]).rename_axis("call_path").reset_index()
    st = st[["call_path", "side", "traces", "spans"]].sort_values(["side", "traces", "call_path"], ascending=[True, False, True],
                                                                  kind="stable").reset_index(drop=True)
    st["traces"] = st["traces"].astype(np.int64)
    st["spans"] = st["spans"].astype(np.int64)
    return st


def test_compare_structure_by_hash_is_the_sorted_index_difference(hicard_pair):
    """Control: compare's structure equals, every cell and dtype, the text-Index difference it replaced: ids in names
    (thousands of paths in one set only, ties of trace counts broken by text), the sets swapped, one set against
    itself (no path in one set only), non-ASCII names."""
    from tracekit.analysis import comparison

    s, b = hicard_pair
    f = _deep_names_frame()
    cases = [(s, b), (b, s), (s, s), (f[f["trace_id"] <= tid(3)], f[f["trace_id"] > tid(3)])]
    seen: list = []
    real = comparison._structure

    def both(pa, pb):
        new = real(pa, pb)
        pd.testing.assert_frame_equal(new, _structure_reference(pa, pb), check_exact=True)
        seen.append(len(new))
        return new

    with warnings.catch_warnings(), mock.patch.object(comparison, "_structure", both):
        warnings.simplefilter("ignore")
        for x, y in cases:
            tk.compare(x, y, n_boot=5)
    assert seen[0] > 1000 and seen[2] == 0 and seen[3] > 0


def test_compare_structure_is_by_construction():
    """Ground truth: a: 3 traces web:GET / > db:q, 2 of them also > cache:get (once, twice); b: 2 traces of web:GET /
    > db:q and one web:GET / > queue:put. 'a only': cache:get in 2 traces (3 spans); 'b only': queue:put (1, 1)."""
    def one(t, extra):
        rows = [(t, 1, None, "web", "GET /", "server", 0, 100), (t, 2, 1, "db", "q", "client", 10, 20)]
        rows += [(t, 3 + i, 1, svc, nm, "client", 30 + 10 * i, 35 + 10 * i) for i, (svc, nm) in enumerate(extra)]
        return rows

    a = mk(one(1, []) + one(2, [("cache", "get")]) + one(3, [("cache", "get"), ("cache", "get")]))
    b = mk(one(4, []) + one(5, []) + one(6, [("queue", "put")]))
    st = tk.compare(a, b, n_boot=5).structure
    assert st.to_dict("records") == [
        {"call_path": "web:GET / > cache:get", "side": "a only", "traces": 2, "spans": 3},
        {"call_path": "web:GET / > queue:put", "side": "b only", "traces": 1, "spans": 1}]


def test_compare_builds_no_text_index_of_call_paths(hicard_pair):
    """Fails on the old code: each side's call paths were sorted into a text Index and the structure taken by
    Index.difference (seconds at 186k paths); now by hash lookups, no difference of text Indexes."""
    s, b = hicard_pair
    with mock.patch.object(pd.Index, "difference", side_effect=AssertionError("Index.difference")) as spy:
        tk.compare(s, b, n_boot=5)
    assert spy.call_count == 0


# ------------------------------------------------------------------ real traces


def test_tree_diff_and_compare_structure_on_real_traces_equal_the_references(real_traces):
    """Control: real Nezha TrainTicket traces, two windows of a day (an incident hour against an earlier one): the
    tree diff equals, every cell, the one aligned by the outer merge, and compare's structure the text-Index
    difference's."""
    import sys
    from pathlib import Path

    from tracekit.analysis import comparison, flame

    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    import bench_rank_causes as b

    day = real_traces / "nezha" / "fault-days" / "rca_data" / "2023-01-29" / "trace"
    if not day.is_dir():
        pytest.skip("Nezha traces not found")
    s = b.read_nezha_csvs(sorted(day.glob("09_3[0-4]_trace.csv.gz")))
    base = b.read_nezha_csvs(sorted(day.glob("08_4[3-7]_trace.csv.gz")))
    assert len(s) > 1000 and len(base) > 1000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ca, cb = tk.critical_path(s), tk.critical_path(base)
        new = tk.critical_path_tree_diff(ca, cb, spans_a=s, spans_b=base, n_boot=50)
        with mock.patch.object(flame, "_side_by_side", _merge_reference):
            ref = tk.critical_path_tree_diff(ca, cb, spans_a=s, spans_b=base, n_boot=50)
        _same_frame(new, ref)
        assert len(new) > 200  # (589 call paths)
        seen = []
        real = comparison._structure

        def both(pa, pb):
            got = real(pa, pb)
            pd.testing.assert_frame_equal(got, _structure_reference(pa, pb), check_exact=True)
            seen.append(len(got))
            return got

        with mock.patch.object(comparison, "_structure", both):
            tk.compare(s, base, n_boot=5)
    assert seen and seen[0] > 10  # (49 call paths in one window only)


# ------------------------------------------------------------------ find_pii: keys that are no text


@pytest.mark.parametrize("batch", [False, True])
def test_find_pii_names_a_key_1_after_a_key_true_as_1(batch):
    """Fails on the old code: a row's key True was cached, and a later row's key 1 (equal to True as a dict key)
    was reported under the path 'True'; 1.0 likewise. By construction each row names its own key: 'True', '1',
    '1.0', 'False', '0'. With 300 other rows the batch prefilter is on, without it off: the same rows."""
    keys = [True, 1, 1.0, False, 0]
    attrs = [{k: f"user{i}@example.com"} for i, k in enumerate(keys)]
    if batch:
        attrs += [{"note": f"plain text {i}"} for i in range(300)]
    rows = [{"name": "GET /", "attributes": a} for a in attrs]
    frame = _pii_frame(rows)
    got = tk.find_pii(frame, keys=None)
    pd.testing.assert_frame_equal(got, _one_by_one(frame, keys=None), check_exact=True)
    got = got[got["location"] == "attributes"]  # (not the resource's address)
    assert got["kind"].eq("email").all()
    assert got["key"].tolist() == ["True", "1", "1.0", "False", "0"]
