"""Session 32 review of the analyses: ground truth by construction for the defects found (each test failed before
its fix)."""

from __future__ import annotations

import tracekit as tk

MS = 1_000_000
T1, T2 = "1" * 32, "2" * 32


def _frame(rows):
    """rows: (trace, span letter, parent letter or None, service, name, kind, start ms, end ms, status)."""
    cols = {c: [] for c in ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end", "status")}
    for t, s, p, svc, nm, k, a, b, st in rows:
        cols["trace_id"].append(t)
        cols["span_id"].append(s * 16)
        cols["parent_id"].append(p * 16 if p else None)
        cols["service"].append(svc)
        cols["name"].append(nm)
        cols["kind"].append(k)
        cols["start"].append(a * MS)
        cols["end"].append(b * MS)
        cols["status"].append(st)
    return tk.spans_from_columns(cols)


def test_error_origins_under_a_parent_cycle_of_failed_spans_returns():
    # T1: a -> b -> a is a parent loop, c hangs under a; all three failed. c is the only origin (a and b each have
    # a failed child); a row under a cycle has no ancestry, so its chain is not walked (it looped for ever).
    # T2: web ✗ > db ✗, a whole trace: db is the origin, one hop, reaching the root.
    spans = _frame([(T1, "a", "b", "web", "GET /", "server", 0, 100, "error"),
                    (T1, "b", "a", "web", "call", "client", 5, 65, "error"),
                    (T1, "c", "a", "db", "q", "client", 10, 20, "error"),
                    (T2, "d", None, "web", "GET /", "server", 0, 50, "error"),
                    (T2, "e", "d", "db", "q", "client", 10, 20, "error")])
    o = tk.error_origins(spans, per_span=True)
    assert o[["trace_id", "span_id", "hops", "reached_root", "propagated_to"]].values.tolist() == [
        [T1, "c" * 16, 0, False, ""], [T2, "e" * 16, 1, True, "web:GET /"]]
    agg = tk.error_origins(spans)
    assert agg.set_index("service")["origins"].to_dict() == {"db": 2}
