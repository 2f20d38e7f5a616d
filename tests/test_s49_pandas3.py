"""Review s49 'pandas3': tracekit under pandas 3 (copy-on-write, Arrow-backed ``str``) and speed left open.

Truth is built by construction: small frames whose services, names and times are chosen here; speed defects are
pinned by counting calls (unittest.mock), outputs by comparing against texts written here.
"""

from __future__ import annotations

from unittest import mock

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
