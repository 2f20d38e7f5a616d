"""Review s49 'pandas3': tracekit under pandas 3 (copy-on-write, Arrow-backed ``str``) and speed left open.

Truth is built by construction: small frames whose services, names and times are chosen here; speed defects are
pinned by counting calls (unittest.mock), outputs by comparing against texts written here.
"""

from __future__ import annotations

from unittest import mock

import numpy as np
import pandas as pd

import tracekit as tk
import tracekit.core.words as words

MS = 1_000_000


def _frame(rows: list[tuple]) -> pd.DataFrame:
    """Spans from (trace, span, parent, service, name, start ms, end ms) tuples."""
    cols = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "start", "end")}
    for tid, sid, pid, svc, nm, s, e in rows:
        cols["trace_id"].append(tid)
        cols["span_id"].append(f"{sid:016x}")
        cols["parent_id"].append(None if pid is None else f"{pid:016x}")
        cols["service"].append(svc)
        cols["name"].append(nm)
        cols["start"].append(s * MS)
        cols["end"].append(e * MS)
    return tk.spans_from_columns(cols)


# ---- 1. the waterfall's hover heads: each distinct service and name cut once ------------------------------------

def _distinct_names_trace(n: int) -> pd.DataFrame:
    """One trace: api GET / (root) over n children of db, each a distinct statement; every third one 99 characters
    long (with 'db' it does not fit one 100-character hover line)."""
    rows = [("ab" * 16, 1, None, "api", "GET /", 0, 10 * n + 10)]
    for i in range(n):
        nm = f"SELECT {i}" if i % 3 else f"SELECT {i:04d} " + "x" * 87
        rows.append(("ab" * 16, i + 2, 1, "db", nm, 10 * i + 1, 10 * i + 9))
    return _frame(rows)


def test_waterfall_hover_heads_cut_each_service_once():
    """The waterfall's hover head ('<b>service</b>: name') called core.words.hover_text twice a distinct (service,
    name) pair: a 50,000-span trace of distinct SQL statements cut and escaped its 8 services 50,000 times (0.38 s of
    the waterfall's build; 0.17 s when each distinct service and name is cut once). 60 statements of db: 124 calls
    -> 65 (2 services + 61 names + 1 kind + 1 status)."""
    spans = _distinct_names_trace(60)
    with mock.patch.object(words, "hover_text", wraps=words.hover_text) as ht:
        w = tk.waterfall_data(spans)
    assert ht.call_count <= 2 + 61 + 2, ht.call_count  # services, names, and the one kind and one status
    # the heads, by construction: service bold, ': ' when both fit a 100-character line, ':<br>' when not
    by_id = dict(zip(w["span_id"], w["hover"], strict=True))
    assert by_id[f"{1:016x}"].startswith("<b>api</b>: GET /<br>start ")
    assert by_id[f"{3:016x}"].startswith("<b>db</b>: SELECT 1<br>start ")
    long_name = "SELECT 0000 " + "x" * 87
    assert len("db") + len(long_name) + 2 > words.HOVER_LINE_CHARS
    assert by_id[f"{2:016x}"].startswith(f"<b>db</b>:<br>{long_name}<br>start ")


def test_hover_pairs_is_hover_pair_of_each():
    """hover_pairs (new: fails on the old code for want of it) gives hover_pair of each pair, a cut long name and an escaped one among them."""
    svc = ["api", "<db>", "s" * 400, "api"]
    nm = ["GET /", "q & r", "n" * 1000, "b" * 96]
    want = ["<b>api</b>: GET /", "<b>&lt;db&gt;</b>: q &amp; r",
            "<b>" + words.hover_text("s" * 400) + "</b>:<br>" + words.hover_text("n" * 1000), "<b>api</b>:<br>" + "b" * 96]
    assert words.hover_pairs(svc, nm, bold=True) == want
    assert [words.hover_pair(s, n, bold=True) for s, n in zip(svc, nm, strict=True)] == want


# ---- 2. compare: each side's call paths built once ----------------------------------------------------------------

def _two_requests(tag: str, depth: int) -> pd.DataFrame:
    """Two requests: api GET / over a chain of `depth` calls (a path deeper than MAX_PATH_OPS is elided), and over
    two db calls whose name holds ' > ' (an ambiguous path text)."""
    rows = [(tag * 32, 1, None, "api", "GET /", 0, 10 * depth + 10)]
    for i in range(depth):
        rows.append((tag * 32, i + 2, i + 1, f"svc{i % 3}", f"op{i}", i + 1, 10 * depth + 9 - i))
    t2 = ("e" if tag != "e" else "f") * 32
    rows += [(t2, 1, None, "api", "GET /", 0, 50), (t2, 2, 1, "db", "WHERE a > 1", 5, 20), (t2, 3, 1, "db", "q", 25, 40)]
    return _frame(rows)


def test_compare_builds_each_sides_call_paths_once():
    """compare built every span's call paths of a side (the structure table), then its critical path built the paths
    of its sections again (0.85 s a side at 300k spans): 4 path interners for the two sides -> 2. The critical path's
    sections, their paths and its index of elided and ambiguous paths are those of a critical path computed alone."""
    from tracekit.core import naming

    a, b = _two_requests("a", 40), _two_requests("b", 40)
    with mock.patch.object(naming, "PathInterner", wraps=naming.PathInterner) as built:
        tk.compare(a, b, by="service")
    assert built.call_count == 2, built.call_count
    cp_after = tk.critical_path(a)  # served from compare's run
    tk.core.clear_cache()
    naming._ALL_PATHS.clear()
    cp_alone = tk.critical_path(_two_requests("a", 40))
    pd.testing.assert_frame_equal(cp_after, cp_alone)
    ia, ib = cp_after.attrs["call_path_index"], cp_alone.attrs["call_path_index"]
    assert ia._parents == ib._parents and ia._ops == ib._ops and len(ia) > 0
    # by construction: an elided path's parent is one operation up; the ambiguous db call's parent is the root
    amb = "api:GET / > db:WHERE a > 1"
    assert ia.entry(amb) == ("api:GET /", ("db", "WHERE a > 1"))
    elided = [p for p in cp_after["call_path"].dropna() if "more operations" in p]
    assert elided and all(naming.path_length(ia.get(p)) == naming.path_length(p) - 1 for p in elided)


def test_call_paths_not_served_from_another_frames_names():
    """Control: a tree's cached paths are not served for a frame whose names differ (same links)."""
    from tracekit.core import naming, span_tree

    a = _two_requests("a", 3)
    tree = span_tree(a)
    whole = naming.call_paths(a, tree, np.arange(len(a)))
    renamed = a.assign(name=a["name"].astype(object).str.replace("op", "xp"))
    again = naming.call_paths(renamed, tree, np.arange(len(a)))
    assert any("op1" in p for p in whole) and not any("op1" in p for p in again if p is not None)
    assert any("xp1" in p for p in again if p is not None)


# ---- 3. a categorical name column (parquet's dictionary columns) keeps its routes --------------------------------

def _routed(rows: list[tuple]) -> pd.DataFrame:
    """Requests from (trace digit, service, span name, http.route or None, start ms, end ms) tuples, one root span
    each."""
    cols = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "start", "end", "attributes")}
    for i, (t, svc, nm, route, s, e) in enumerate(rows):
        cols["trace_id"].append(t * 32)
        cols["span_id"].append(f"{i + 1:016x}")
        cols["parent_id"].append(None)
        cols["service"].append(svc)
        cols["name"].append(nm)
        cols["start"].append(s * MS)
        cols["end"].append(e * MS)
        cols["attributes"].append({"http.route": route} if route else {})
    return tk.spans_from_columns(cols)


def test_routes_of_a_categorical_name_column():
    """routes() cast its result to the name column's dtype: with a categorical name (a parquet dictionary column,
    ``astype("category")``), a route from http.route is no category of the names and read <NA>: 528 of the 1,043
    spans of checkout-small lost their route, and a request kind read ``api-gateway:<NA>``. Routes are texts."""
    from tracekit.core.naming import request_routes, routes

    s = _routed([("1", "web", "GET", "/cart/{id}", 0, 10), ("2", "web", "GET", "/orders", 0, 20),
                 ("3", "web", "POST", None, 0, 30)])
    cat = s.assign(name=s["name"].astype("category"))
    want = ["/cart/{id}", "/orders", "POST"]  # the route, else the span's name
    assert routes(cat).astype(object).tolist() == want
    assert routes(s).astype(object).tolist() == want
    assert list(request_routes(cat)) == want


def test_exemplars_key_of_a_categorical_name_column():
    """exemplars keys requests by root service:route: with a categorical name every request of a routed service was
    'web:<NA>', so /cart and /orders were one kind and its p95 pick mixed them."""
    inc = _routed([(str(d), "web", "GET", "/cart" if d % 2 else "/orders", 0, 10 + 50 * (d % 2) + d) for d in range(1, 9)])
    base = _routed([(str(d), "web", "GET", "/cart" if d % 2 else "/orders", 0, 10 + d) for d in range(1, 9)])
    cat = lambda f: f.assign(name=f["name"].astype("category"))  # noqa: E731
    ex = tk.exemplars(cat(inc), cat(base))
    assert ex.key == "web:/cart"  # by construction: /cart grew by 50 ms, /orders not at all
    assert ex.key == tk.exemplars(inc, base).key


# ---- 4. compare's intervals do not depend on the order of the rows ------------------------------------------------

def test_compare_intervals_do_not_depend_on_row_order():
    """compare's bootstrap drew a weight per trace numbered by its first row: the same spans in another row order
    (files listed otherwise, frames concatenated the other way) gave other intervals from the same seed
    (checkout-small reversed: payments' error-rate delta high bound 18.2 % -> 16.7 %; 8 of 10 services moved).
    The points never moved; the intervals must not either."""
    s = tk.examples.load("checkout-small")
    h = len(s) // 2
    inc, base = s.iloc[h:], s.iloc[:h]
    want = tk.compare(inc, base).table.sort_values("service").reset_index(drop=True)
    for order in (slice(None, None, -1), np.random.default_rng(7).permutation(len(inc))):
        got = tk.compare(inc.iloc[order], base.iloc[::-1]).table.sort_values("service").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-9)  # summation order aside


# ---- 5. rank_causes' lift with a categorical trace_id column --------------------------------------------------------

def test_lift_of_overlapping_windows_with_categorical_trace_ids():
    """rank_causes' lift renames a baseline that shares traces with the incident (overlapping windows) by hashed ids,
    cast to the trace_id column's dtype: a categorical column held none of the new ids, every baseline id read <NA>,
    bubble_up failed and the component's lift evidence was lost (deploy-small against its first half: a 260-row
    lift table -> None). New ids are text."""
    from tracekit.investigate.causes import _lifted

    s = tk.examples.load("deploy-small")
    base = s.iloc[: len(s) // 2]  # every baseline trace is an incident trace too
    cat = lambda f: f.assign(trace_id=f["trace_id"].astype("category"))  # noqa: E731
    want = _lifted(s, base)
    got = _lifted(cat(s), cat(base))
    assert want is not None and len(want) > 0
    assert got is not None
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
