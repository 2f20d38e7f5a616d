"""Review s35 (small): TraceQL, sampling and critical-path corner cases.

Integers past 2**53 in an attribute that also holds floats (tk.attribute, TraceQL), weighted_summary's intervals
with ``n_boot=0``, a request whose root lasts 0 ms in critical_path / critical_path_breakdown / the flame tree, and
the flame tables' value dtypes against their declarations. Truth is by construction (frames built here); each test
failed on the code before its fix.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.core import RESULT_TABLES

MS = 1_000_000
T1, T2, T3 = "1" * 32, "2" * 32, "3" * 32
BIG = 2**53  # 9007199254740992: float64 holds every integer up to here, not 2**53 + 1


# ------------------------------------------------------------------------- integers past 2**53 beside floats
def _roots(attrs: list[dict]) -> pd.DataFrame:
    """Root spans a, b, c... of one trace with these span attributes."""
    n = len(attrs)
    return tk.spans_from_columns({
        "trace_id": [T1] * n, "span_id": [chr(ord("a") + i) * 16 for i in range(n)], "parent_id": [None] * n,
        "service": ["s"] * n, "name": ["op"] * n, "start": [0] * n, "end": [MS] * n, "attributes": attrs})


MIXED = [{"id": BIG + 1}, {"id": 1.5}, {"id": BIG}, {"id": 2.5e300}]


def test_attribute_keeps_an_integer_past_2_53_exact_beside_floats():
    """tk.attribute raised pyarrow's ArrowInvalid (a Float64 column cannot hold 2**53 + 1); now an object column
    of the values as stored."""
    col = tk.attribute(_roots(MIXED), "id")
    assert col.tolist() == [BIG + 1, 1.5, BIG, 2.5e300]
    assert [type(v) for v in col] == [int, float, int, float]
    small = tk.attribute(_roots([{"id": 3}, {"id": 1.5}]), "id")  # within 2**53: still Float64, as before
    assert str(small.dtype) == "Float64" and small.tolist() == [3.0, 1.5]


@pytest.mark.parametrize("query, want", [
    ("{ span.id = 9007199254740993 }", "a"),  # 2**53 + 1: an int compared as an int, not rounded to 2**53
    ("{ span.id = 9007199254740992 }", "c"),
    ("{ span.id > 9007199254740992 }", "ad"),
    ("{ span.id != 9007199254740993 }", "bcd"),
    ("{ span.id = 1.5 }", "b"),  # floats as floats
    ("{ .id = 9007199254740993 }", "a"),
])
def test_traceql_compares_ints_as_ints_in_a_column_that_also_holds_floats(query, want):
    """Every query on such a column raised ArrowInvalid from the attribute read."""
    got = tk.traceql(_roots(MIXED), query)
    assert "".join(s[0] for s in got["span_id"]) == want


def test_traceql_select_gives_the_integer_as_stored():
    out = tk.traceql(_roots(MIXED), "{ } | select(span.id)")
    assert out["span.id"].tolist() == [BIG + 1, 1.5, BIG, 2.5e300]


# ------------------------------------------------------------------------- weighted_summary with n_boot=0
def _one_root_traces(n: int, failed: int = 0) -> pd.DataFrame:
    return tk.spans_from_columns({
        "trace_id": ["%032x" % (i + 1) for i in range(n)], "span_id": ["%016x" % (i + 1) for i in range(n)],
        "service": ["api"] * n, "name": ["GET /"] * n, "start": [0] * n, "end": [(i + 1) * MS for i in range(n)],
        "status": ["error"] * failed + ["ok"] * (n - failed)})


_INTERVALS = ("est_requests", "error_rate", "any_failed_rate", "p50_ms", "p95_ms", "p99_ms")


def test_n_boot_0_gives_est_requests_an_interval_as_every_other_column():
    """est_requests_lo/_hi were NaN with n_boot=0 while the rates and percentiles had (analytic) intervals."""
    sp = _one_root_traces(40, failed=4)
    w = pd.Series(np.where(np.arange(40) < 20, 10.0, 2.0), index=sp["trace_id"])
    row = tk.weighted_summary(sp, w, n_boot=0).iloc[0]
    assert row["est_requests"] == 20 * 10.0 + 20 * 2.0
    for name in _INTERVALS:
        assert not np.isnan(row[f"{name}_lo"]) and not np.isnan(row[f"{name}_hi"]), name
        assert row[f"{name}_lo"] <= row[name] <= row[f"{name}_hi"], name
    assert 40 <= row["est_requests_lo"] < 240 < row["est_requests_hi"]  # 40 requests were sampled: at least 40


def test_n_boot_0_census_has_a_zero_width_request_count():
    sp = _one_root_traces(30)
    row = tk.weighted_summary(sp, 1.0, n_boot=0).iloc[0]  # every request kept: the count is known exactly
    assert (row["est_requests_lo"], row["est_requests"], row["est_requests_hi"]) == (30.0, 30.0, 30.0)


def test_n_boot_0_request_interval_covers_a_known_population_count():
    """400 requests, each kept with probability 0.1 (weight 10), 60 seeded samples: the 95 % interval held 400 in
    59 (it was NaN in all 60)."""
    pop = _one_root_traces(400)
    held = 0
    for seed in range(60):
        keep = np.random.default_rng(seed).random(400) < 0.1
        s = pop[keep]
        row = tk.weighted_summary(s, 10.0, n_boot=0).iloc[0]
        held += bool(row["est_requests_lo"] <= 400 <= row["est_requests_hi"])
    assert held >= 54  # 90 % of 60; an interval that never holds it (NaN) gives 0


# ------------------------------------------------------------------------- a request whose root lasts 0 ms
def _with_zero_ms_request() -> pd.DataFrame:
    # trace 1: api  |----------------------|  0..100 ms      trace 2: api | (5 ms .. 5 ms, a 0 ms request)
    #          db       |------|              10..40 ms
    return tk.spans_from_columns({
        "trace_id": [T1, T1, T2], "span_id": ["a" * 16, "b" * 16, "c" * 16], "parent_id": [None, "a" * 16, None],
        "service": ["api", "db", "api"], "name": ["GET /", "query", "GET /"],
        "start": [0, 10 * MS, 5 * MS], "end": [100 * MS, 40 * MS, 5 * MS]})


@pytest.mark.parametrize("engine", ["numpy", "loop"])
def test_a_0_ms_request_holds_one_0_ms_section_of_its_root(engine):
    """The 0 ms root emitted no section and no failure: its request vanished from every aggregate."""
    cp = tk.critical_path(_with_zero_ms_request(), engine=engine)
    zero = cp[cp["trace_id"] == T2]
    assert zero[["span_id", "service", "duration_ms"]].values.tolist() == [["c" * 16, "api", 0.0]]
    assert bool(zero["request"].iloc[0]) and zero["start"].iloc[0] == zero["end"].iloc[0]
    assert cp.attrs["failures"] == ()


def test_request_counts_agree_across_critical_path_breakdown_and_the_flame_tree():
    spans = _with_zero_ms_request()
    requests = int(tk.trace_summary(spans)["request"].sum())
    assert requests == 2  # both traces are requests (the kernel's definition)
    cp = tk.critical_path(spans)
    assert cp.loc[cp["request"], "trace_id"].nunique() == requests  # was 1
    bd = tk.critical_path_breakdown(cp).set_index("service")
    assert bd.attrs["traces"] == requests
    # api holds 10 + 60 ms of request 1 and 0 ms of request 2: 35 ms per request (was 70, over one request)
    assert bd.loc["api", "mean_ms"] == 35.0 and bd.loc["db", "mean_ms"] == 15.0
    assert bd.loc["api", "traces"] == 2 and bd.loc["db", "trace_share"] == 0.5
    tree = tk.critical_path_tree(cp, spans=spans)
    assert tree.attrs["requests"] == requests
    root = tree[tree["parent"].isna()].iloc[0]
    assert (root["total_ms"], root["traces"]) == (50.0, 2)  # (100 + 0) / 2 requests
    sp = tk.saving_potential(cp, spans=spans).set_index("service")
    assert sp.loc["api", "saving_ms"] == 35.0 and sp.loc["api", "traces"] == 2


# ------------------------------------------------------------------------- declared dtypes of the tables
def _frames() -> dict[str, pd.DataFrame]:
    two = _with_zero_ms_request()
    one = two[two["trace_id"] == T2].reset_index(drop=True)  # one root alone: every parent is <NA>
    return {"two traces": two, "one root": one, "no spans": two.iloc[:0]}


def _mismatches(name: str, df: pd.DataFrame) -> list:
    return [(c.name, c.dtype, str(df[c.name].dtype)) for c in RESULT_TABLES[name].columns
            if c.name in df.columns and str(df[c.name].dtype) != c.dtype]


@pytest.mark.parametrize("case", ["two traces", "one root", "no spans"])
def test_critical_path_tables_have_their_declared_dtypes(case):
    """The flame tables' text columns were 'str' (or object when every parent is None) where 'object' was
    declared; the breakdown of an empty path had an int64 cp_ms."""
    spans = _frames()[case]
    cp = tk.critical_path(spans)
    built = {
        "critical_path": cp,
        "critical_path_breakdown": tk.critical_path_breakdown(cp),
        "critical_path_tree": tk.critical_path_tree(cp, spans=spans),
        "critical_path_tree_diff": tk.critical_path_tree_diff(cp, cp, spans_a=spans, spans_b=spans, n_boot=5),
        "saving_potential": tk.saving_potential(cp, spans=spans),
    }
    for name, df in built.items():
        assert _mismatches(name, df) == [], (case, name)
    if len(spans):
        assert built["critical_path_tree"]["parent"].isna().sum() == 1  # the root's parent is missing, not "None"
        w = tk.sampling_weights(spans, rate=0.5)
        assert _mismatches("sampling_weights", w) == []
        assert _mismatches("weighted_summary", tk.weighted_summary(spans, w, n_boot=5)) == []


def test_request_count_interval_of_a_census_is_exact_and_never_below_the_sampled_requests():
    """Every request kept (weight 1): the Poisson bootstrap drew each 0, 1, 2... times, so 400 known requests got an
    interval around 400 whose low end was below the 400 seen; 5 known traces of weight 2 got a low end of 4."""
    pop = _one_root_traces(400)
    row = tk.weighted_summary(pop, 1.0, n_boot=200).iloc[0]
    assert (row["est_requests_lo"], row["est_requests"], row["est_requests_hi"]) == (400.0, 400.0, 400.0)
    few = _one_root_traces(10)
    w = pd.Series(2.0, index=few["trace_id"].iloc[:5])  # the other 5 traces: unknown weight, left out
    row = tk.weighted_summary(few, w, n_boot=200).iloc[0]
    assert row["est_requests"] == 10.0 and 5.0 <= row["est_requests_lo"] <= 10.0 <= row["est_requests_hi"]
    mixed = tk.weighted_summary(pop, pd.Series(np.where(np.arange(400) < 200, 1.0, 4.0), index=pop["trace_id"]),
                                n_boot=200).iloc[0]
    assert 400 <= mixed["est_requests_lo"] <= 1000.0 <= mixed["est_requests_hi"]  # 200 certain + 200 of weight 4


@pytest.mark.parametrize("by", ["service", ["service", "name"]])
def test_weighted_summary_by_a_key_on_no_traces_has_the_declared_columns(by):
    """It returned the keys and 'warning' alone: ws['est_requests'] was a KeyError on an empty window."""
    out = tk.weighted_summary(tk.empty_spans(), 2.0, by=by)
    keys = [by] if isinstance(by, str) else by
    assert len(out) == 0 and list(out.columns) == [*keys, *RESULT_TABLES["weighted_summary"].column_names]
    assert _mismatches("weighted_summary", out) == []


@pytest.mark.parametrize("n", [0, 1, 40])
def test_sampling_bias_and_simulation_tables_have_their_declared_dtypes(n):
    """sampling_bias' tests/findings text came back 'str' (declared string), findings' start/end object, and with no
    rows every column of tests/windows/findings was object; simulate_sampling's cost item was 'str'."""
    spans = _one_root_traces(n, failed=min(n, 3)) if n else tk.empty_spans()
    bias = tk.sampling_bias(spans.iloc[: n // 2], spans)
    for part in ("tests", "windows", "findings"):
        assert _mismatches(f"sampling_bias.{part}", getattr(bias, part)) == [], (n, part)
    sim = tk.simulate_sampling(spans, probability=0.5, seed=1)
    assert _mismatches("simulate_sampling.cost", sim.cost) == []
    assert sim.cost["item"].tolist() == ["recorded", "scanned", "total"]


def test_a_boolean_sample_rate_is_no_rate():
    """SampleRate = true was read as 1-in-1: weight 1 (the trace counted as unsampled), source 'attribute'."""
    spans = _one_root_traces(3).assign(attributes=[{"SampleRate": True}, {"SampleRate": 4}, {"SampleRate": False}])
    w = tk.sampling_weights(spans)
    assert w["weight_source"].tolist() == ["unknown", "attribute", "unknown"]
    assert np.isnan(w["weight"].iloc[0]) and w["weight"].iloc[1] == 4.0
    assert "True is not a 1-in-N rate" in w["note"].iloc[0]


@pytest.mark.parametrize("values, weights, q", [
    (["a", "b"], [1.0, 1.0], 0.5),  # text: numpy's bare ValueError
    ([1.0, 2.0, 3.0], [1.0, 1.0, np.inf], 0.5),  # an infinite weight: numpy's "Weights included NaN, inf or were all zero"
    ([1.0, 2.0, 3.0], [1.0, 1.0, 1.0], [0.5, "x"]),
    ([1.0, 2.0], ["1", "x"], 0.5),
])
def test_weighted_quantile_refuses_what_is_not_a_number_with_an_argument_error(values, weights, q):
    from tracekit.analysis.sampling import weighted_quantile
    from tracekit.errors import ArgumentError

    with pytest.raises(ArgumentError, match="percentile: (values|weights|q) must be"):
        weighted_quantile(values, weights, q)
    assert weighted_quantile([1.0, 2.0, 3.0], [1.0, 1.0, 2.0], 0.5) == 2.0  # numbers as before


# ------------------------------------------------------------------------- TraceQL nested-set intrinsics
def _tempo_nested_set(rows):
    """Tempo's vparquet4 counter, written out: per trace, roots (no parent id) in row order, children in row order,
    left on the way down, right on the way up; unvisited spans stay 0 (parent 0)."""
    out = {}

    def visit(tid, kids, sid, parent_left, bound):
        left = bound
        bound += 1
        for c in kids.get(sid, []):
            bound = visit(tid, kids, c, left, bound)
        out[(tid, sid)] = (left, bound, parent_left)
        return bound + 1

    for tid in dict.fromkeys(r[0] for r in rows):
        spans = [r for r in rows if r[0] == tid]
        kids: dict = {}
        for r in spans:
            kids.setdefault(r[2], []).append(r[1])
        bound = 1
        for r in spans:
            if r[2] is None:
                bound = visit(tid, kids, r[1], -1, bound)
        for r in spans:
            out.setdefault((tid, r[1]), (0, 0, 0))
    return out


def test_nested_set_intrinsics_are_tempos_numbers_per_trace():
    """They were pre-order numbers of the whole frame: the second trace's root had nestedSetLeft 6 (after the first
    trace's first tree of 5 spans), so { nestedSetLeft = 1 } found r1 alone; a leaf's right equalled its left (y: 3, 3)
    and the orphan o was numbered (11, 12) where Tempo leaves it 0."""
    # trace 1: r1 > (x > (y, z), w), a second root q > u, rows interleaved; trace 2: r2 > (a, b), an orphan o > p
    rows = [("1" * 32, "r1", None), ("2" * 32, "r2", None), ("1" * 32, "x", "r1"), ("1" * 32, "q", None),
            ("1" * 32, "y", "x"), ("2" * 32, "o", "missing"), ("1" * 32, "w", "r1"), ("1" * 32, "z", "x"),
            ("2" * 32, "a", "r2"), ("1" * 32, "u", "q"), ("2" * 32, "p", "o"), ("2" * 32, "b", "r2")]
    sid = lambda s: s.encode().hex().rjust(16, "0")  # noqa: E731
    spans = tk.spans_from_columns({
        "trace_id": [r[0] for r in rows], "span_id": [sid(r[1]) for r in rows],
        "parent_id": [None if r[2] is None else sid(r[2]) for r in rows], "service": ["s"] * len(rows),
        "name": [r[1] for r in rows], "start": [0] * len(rows), "end": [MS] * len(rows)})
    out = tk.traceql(spans, "{ } | select(nestedSetLeft, nestedSetRight, nestedSetParent)")
    got = {(t, n): (lo, hi, p) for t, n, lo, hi, p in out[["trace_id", "name", "nestedSetLeft", "nestedSetRight",
                                                           "nestedSetParent"]].itertuples(index=False)}
    assert got == _tempo_nested_set(rows)
    assert got[("1" * 32, "r1")] == (1, 10, -1) and got[("2" * 32, "r2")] == (1, 6, -1)
    assert sorted(tk.traceql(spans, "{ nestedSetLeft = 1 }")["name"]) == ["r1", "r2"]
    assert sorted(tk.traceql(spans, "{ nestedSetRight - nestedSetLeft = 1 }")["name"]) == ["a", "b", "u", "w", "y", "z"]


def test_threshold_helpers_refuse_what_is_not_a_threshold_probability_or_list_of_ids():
    """threshold_probability(1.5) read 1.5 as 1 (probability ~1.0) and True as 1, None was a bare TypeError;
    probability_to_threshold(True) gave '0' (probability 1); trace_randomness('0' * 32) read one id as 32 ids of
    one character and said "trace id '0' has no 14 hex digits"."""
    from tracekit.analysis.sampling import probability_to_threshold, threshold_probability, trace_randomness
    from tracekit.errors import ArgumentError

    for bad in (1.5, True, None):
        with pytest.raises(ArgumentError, match="a threshold is an integer"):
            threshold_probability(bad)
    for bad in (True, "0.5"):
        with pytest.raises(ArgumentError, match="must be a number"):
            probability_to_threshold(bad)
    for bad in ("0" * 18 + "f" * 14, None):
        with pytest.raises(ArgumentError, match="sequence of trace ids"):
            trace_randomness(bad)
    # what they take, as before
    assert (threshold_probability("c"), threshold_probability(2**55), probability_to_threshold(0.25)) == (0.25, 0.5, "c")
    assert trace_randomness(("0" * 18 + "f" * 14,)).tolist() == [2**56 - 1]
