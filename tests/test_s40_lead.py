"""The lead's fixes of session 40: words that must be the plain quantity they name.

1. health_report's p95 row said "95% of requests take at most 232 ms (… 1 finished request)" of one request (the
   real X-Ray BatchGetTraces example): below 20 requests the p95 is the slowest request itself, and is now said so.
2. Its failed-request row said ": 0 traces, 0.0% of all 1 trace (share)" after "0.0% of 1 request failed": the same
   number again. The failed traces' share of all traces is said only where it differs (traces that are not
   requests, or requests with no outcome yet).
3. "1 call … nothing could answer them" / "1 client span … nothing answers below them": the pronoun takes the number.
"""

from __future__ import annotations

import pandas as pd

import tracekit as tk

T0 = 1_700_000_000_000_000_000


def _requests(n: int, *, fail: int = 0, orphan: bool = False) -> pd.DataFrame:
    """n one-span requests of 10, 20, … ms (the i-th takes 10 (i + 1) ms); the first ``fail`` fail; with
    ``orphan`` one more trace holds only a span whose parent is missing (a trace that is not a request)."""
    cols: dict[str, list] = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "kind", "status",
                                             "start", "end")}
    for i in range(n + orphan):
        cols["trace_id"].append(f"{i + 1:032x}")
        cols["span_id"].append(f"{i + 1:016x}")
        cols["parent_id"].append("f" * 16 if i == n else None)
        cols["service"].append("api")
        cols["name"].append("GET /")
        cols["kind"].append("server")
        cols["status"].append("error" if i < fail else "ok")
        cols["start"].append(T0 + i * 1_000_000_000)
        cols["end"].append(T0 + i * 1_000_000_000 + (i + 1) * 10_000_000)
    return tk.spans_from_columns(cols)


def _row(spans: pd.DataFrame, check: str) -> pd.Series:
    r = tk.health_report(spans)
    return r.loc[r["check"] == check].iloc[0]


def test_p95_row_of_fewer_than_20_requests_names_the_slowest_request():
    one = _row(_requests(1), "p95_request_latency_ms")
    assert one["value"] == 10.0
    assert one["explanation"].startswith("The one finished request took 10.0 ms") and "95%" not in one["explanation"]
    few = _row(_requests(19), "p95_request_latency_ms")
    assert few["value"] == 190.0  # inverted_cdf: the 19th of 19
    assert few["explanation"].startswith("The slowest of 19 finished requests took 190 ms")
    many = _row(_requests(20), "p95_request_latency_ms")
    assert many["value"] == 190.0  # the 19th of 20: no longer the slowest (200 ms)
    assert many["explanation"].startswith("95% of requests take at most 190 ms")


def test_failed_row_says_the_share_of_all_traces_only_where_it_differs():
    same = _row(_requests(4, fail=1), "failed_request_ratio")["explanation"]
    assert same.startswith("25.0% of 4 requests failed") and "of all" not in same and "(share)" not in same
    other = _row(_requests(4, fail=1, orphan=True), "failed_request_ratio")["explanation"]
    assert "the 1 failed trace is 20.0% of all 5 traces" in other and "1 trace is not a request" in other


def test_one_unanswered_call_takes_it_not_them():
    from tracekit.analysis.health import unanswered_failure_words, uninstrumented_words

    assert unanswered_failure_words("web", "db", 1).count("answer it,") == 1
    assert "answer them," in unanswered_failure_words("web", "db", 2)
    assert "answers below it:" in uninstrumented_words("web", "card", 1)
    assert "answers below them:" in uninstrumented_words("web", "card", 3)
