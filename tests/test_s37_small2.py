"""Session 37, small defects left by other reviewers (small2): a span without a start in spans_from_columns and the
trace/workflow summaries; spreadsheet formula injection in the report's CSV downloads; cold_starts' empty-table
dtypes and n_boot=0; trace_summary's n_services for a span without a service; the words of bubble_up's p_value.
Truth by construction; each test failed before its fix."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pandas as pd
import pytest

import tracekit as tk

MS = 1_000_000
T1, T2 = "1" * 32, "2" * 32


def _two_traces() -> pd.DataFrame:
    # T1: api GET (0..5 ms) > db q (1..3 ms); T2: api GET (0..7 ms) alone
    return tk.spans_from_columns({
        "trace_id": [T1, T1, T2], "span_id": ["a" * 16, "b" * 16, "c" * 16], "parent_id": [None, "a" * 16, None],
        "service": ["api", "db", "api"], "name": ["GET", "q", "GET"],
        "start": [0, 1 * MS, 0], "end": [5 * MS, 3 * MS, 7 * MS]})


# --- 1. a span without a start ---------------------------------------------------------------------------------

@pytest.mark.parametrize("missing", [None, pd.NaT, float("nan")])
def test_spans_from_columns_refuses_a_missing_start_naming_the_row(missing):
    cols = {"trace_id": [T1, T1], "span_id": ["a" * 16, "b" * 16], "service": ["api", "db"], "name": ["x", "y"],
            "start": [0, missing], "end": [5 * MS, 3 * MS]}
    with pytest.raises(tk.SpansSchemaError, match=r"column 'start' row 1: .* is missing; every span needs a start"):
        tk.spans_from_columns(cols)
    assert cols["start"][1] is missing  # the input is not changed


def test_summaries_of_a_span_without_a_start_say_unknown_not_minus_9e12():
    spans = _two_traces()
    root_gone = spans.copy()
    root_gone.loc[0, "start"] = pd.NaT  # T1's root has no start (a frame edited by hand)
    ts = tk.trace_summary(root_gone).set_index("trace_id")
    assert np.isnan(ts.loc[T1, "request_ms"]) and np.isnan(ts.loc[T1, "extent_ms"]) and pd.isna(ts.loc[T1, "start"])
    assert ts.loc[T2, "request_ms"] == 7.0 and ts.loc[T2, "extent_ms"] == 7.0  # the other trace as before
    ws = tk.workflow_summary(root_gone).set_index("workflow_id")
    assert np.isnan(ws.loc[T1, "end_to_end_ms"]) and pd.isna(ws.loc[T1, "start"])
    assert ws.loc[T2, "end_to_end_ms"] == 7.0
    # a child without a start: the root's request is known (5 ms), the trace's first start is not
    child_gone = spans.copy()
    child_gone.loc[1, "start"] = pd.NaT
    ts = tk.trace_summary(child_gone).set_index("trace_id")
    assert ts.loc[T1, "request_ms"] == 5.0 and np.isnan(ts.loc[T1, "extent_ms"])
    ws = tk.workflow_summary(child_gone).set_index("workflow_id")
    assert np.isnan(ws.loc[T1, "end_to_end_ms"])
    for frame in (root_gone, child_gone):  # no figure anywhere in them is negative
        for out in (tk.trace_summary(frame), tk.workflow_summary(frame)):
            ms = out[[c for c in out.columns if c.endswith("_ms") and out[c].dtype == np.float64]]
            assert not (ms < 0).any().any()


def test_self_time_and_timeline_of_a_span_without_a_start_say_unknown_and_count_it():
    spans = _two_traces()
    root_gone = spans.copy()
    root_gone.loc[0, "start"] = pd.NaT
    assert tk.self_time(root_gone)["self_ms"].tolist()[1:] == [2.0, 7.0]  # the others as built
    assert np.isnan(tk.self_time(root_gone)["self_ms"].iloc[0])  # was -9223372036851.8
    child_gone = spans.copy()
    child_gone.loc[1, "start"] = pd.NaT  # the root's self time needs the child's interval: unknown too
    st = tk.self_time(child_gone)["self_ms"]
    assert np.isnan(st.iloc[0]) and np.isnan(st.iloc[1]) and st.iloc[2] == 7.0
    # the request without a start has no bucket: left out and counted (it asked for 19.5 GiB of buckets from 1677)
    t = tk.timeline(root_gone, freq="1min")
    assert len(t) == 1 and t["requests"].sum() == 1 and t.attrs["no_start"] == 1
    assert tk.timeline(spans, freq="1min").attrs["no_start"] == 0


# --- 2. spreadsheet formula injection in the CSV downloads ------------------------------------------------------

_HOSTILE = ['=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "\tx", "\rx"]


def _csv_of(html: str) -> str:
    return base64.b64decode(re.search(r"data:text/csv;base64,([^\"]+)", html).group(1)).decode("utf-8")


def test_report_csv_download_keeps_formulas_from_running_and_numbers_numbers():
    from tracekit.reporting import _table

    names = [*_HOSTILE, "api", "-3.5", "a=b", "line\rbreak", *[f"svc{i}" for i in range(7)]]
    df = pd.DataFrame({"service": pd.Series(names, dtype="string"), "ms": [-3.5] + [float(i) for i in range(len(names) - 1)],
                       "note": pd.Series(["=1+1"] + ["ok"] * (len(names) - 1), dtype=object)})
    before = df.copy()
    html = _table(df, max_rows=3, name="t")  # more rows than shown: the full table and its CSV link
    back = pd.read_csv(io.StringIO(_csv_of(html)), keep_default_na=False)
    assert back["service"].tolist()[:len(_HOSTILE)] == ["'" + s for s in _HOSTILE]
    assert len(back) == len(df)  # a carriage return inside a cell is quoted: the row is not split there
    assert back["service"].tolist()[len(_HOSTILE):len(_HOSTILE) + 4] == ["api", "-3.5", "a=b", "line\rbreak"]  # as they are
    assert back["note"].tolist()[0] == "'=1+1"
    assert back["ms"].dtype == np.float64 and back["ms"].iloc[0] == -3.5  # numbers stay numbers
    assert "7 cells: text cells starting with = + - @" in html  # the report says it beside the link
    pd.testing.assert_frame_equal(df, before)  # the table itself is not changed


# --- 3. cold_starts: declared dtypes, n_boot=0 --------------------------------------------------------------------

@pytest.fixture(scope="module")
def cold():
    return tk.examples.load("cold-starts-small")


def test_cold_starts_tables_have_the_declared_dtypes_even_empty(cold):
    from tracekit.analysis.attribution.lambdas import COLD_STARTS

    want = {c.name: ("string" if c.dtype == "string" else c.dtype) for c in COLD_STARTS.columns}
    empty = tk.cold_starts(cold[cold["service"] == "no such service"].reset_index(drop=True), n_boot=10)
    full = tk.cold_starts(cold, n_boot=10)
    assert len(empty) == 0 and len(full) == 1
    for out in (empty, full):
        got = {c: ("string" if pd.api.types.is_string_dtype(t) and not pd.api.types.is_object_dtype(t) else str(t))
               for c, t in out.dtypes.items()}
        assert got == want


def test_cold_starts_takes_n_boot_0_as_no_intervals(cold):
    with_ci = tk.cold_starts(cold, n_boot=50)
    none = tk.cold_starts(cold, n_boot=0)
    lohi = ["init_p50_lo", "init_p50_hi", "added_ms_lo", "added_ms_hi"]
    assert none[lohi].isna().all().all() and with_ci[lohi].notna().all().all()
    same = [c for c in none.columns if c not in lohi]
    pd.testing.assert_frame_equal(none[same], with_ci[same])  # the estimates do not depend on the resamples
    with pytest.raises(tk.ArgumentError, match="cold_starts: n_boot must be a whole number"):
        tk.cold_starts(cold, n_boot=-1)


# --- 4. n_services: a span without a service is in unknown_service ----------------------------------------------

def test_trace_summary_counts_a_span_without_a_service_as_unknown_service():
    spans = _two_traces()
    spans["service"] = spans["service"].mask(spans["span_id"] == "b" * 16)  # T1's db span: no service
    ts = tk.trace_summary(spans).set_index("trace_id")
    # api + unknown_service: 2 services, as the service map counts them
    assert ts.loc[T1, "n_services"] == 2 and ts.loc[T2, "n_services"] == 1
    assert "unknown_service" in set(tk.service_graph(spans).nodes)


def test_trace_summary_root_without_a_service_or_name_says_unknown_service_and_unnamed():
    spans = _two_traces()
    root = spans["span_id"] == "a" * 16
    spans["service"] = spans["service"].mask(root)
    spans["name"] = spans["name"].mask(root)
    ts = tk.trace_summary(spans).set_index("trace_id")
    assert (ts.loc[T1, "root_service"], ts.loc[T1, "root_name"]) == ("unknown_service", "(unnamed)")  # were <NA>, <NA>
    assert (ts.loc[T2, "root_service"], ts.loc[T2, "root_name"]) == ("api", "GET")


# --- 5. bubble_up's p_value says how it is computed ---------------------------------------------------------------

def test_bubble_up_p_value_is_the_doubled_one_sided_fisher_p_and_says_so():
    from tracekit.analysis.attribution.bubble import BUBBLE_UP

    # 20 traces: 5 selected, 3 of them on host h1; of the 15 others, 4 on h1 (the table [[3, 2], [4, 11]])
    ids = [f"{i + 1:032x}" for i in range(20)]
    host = ["h1"] * 3 + ["h2"] * 2 + ["h1"] * 4 + ["h2"] * 11
    spans = tk.spans_from_columns({
        "trace_id": ids, "span_id": [f"{i + 1:016x}" for i in range(20)], "service": "api", "name": "GET",
        "start": [0] * 20, "end": [MS] * 20, "resource": [{"host.name": h} for h in host]})
    hits = tk.bubble_up(spans, ids[:5])
    row = hits[(hits["dimension"] == "resource.host.name") & (hits["value"] == "h1")].iloc[0]
    # hand-computed hypergeometric tails of a = 3 (N = 20, K = 7 on h1, n = 5 drawn): P(X >= 3) and P(X <= 3)
    from math import comb

    pmf = {k: comb(7, k) * comb(13, 5 - k) / comb(20, 5) for k in range(6)}
    upper, lower = sum(pmf[k] for k in range(3, 6)), sum(pmf[k] for k in range(4))
    doubled = min(1.0, 2 * min(upper, lower))
    minlike = sum(p for p in pmf.values() if p <= pmf[3] * (1 + 1e-7))
    assert row["p_value"] == pytest.approx(doubled, rel=1e-9)
    assert minlike < doubled  # the two rules differ on this table: the words must say which one
    meaning = next(c.meaning for c in BUBBLE_UP.columns if c.name == "p_value")
    assert "doubling" in meaning and "minlike" in meaning
