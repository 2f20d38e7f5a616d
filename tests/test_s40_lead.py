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


def test_bucket_lengths_are_said_in_words_not_as_pandas_aliases():
    """'(400 buckets of 2D)', 'requests per 5s bucket', 'at most 3 buckets of 1min': pandas' offset aliases in the
    prose of detect_changes, timeline, the postmortem, the report and the timeline figure. One rule now
    (core.words.freq_text) says '2 days', '5 s', '1 min'."""
    import warnings

    from tracekit.analysis.timeline import no_data_text
    from tracekit.core.words import freq_text

    assert [freq_text(f) for f in ("2D", "1D", "5s", "1min", "90min", "3h", "100ms")] == [
        "2 days", "1 day", "5 s", "1 min", "90 min", "3 h", "100 ms"]
    spans = _requests(40)  # 40 requests one second apart
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # too few buckets to test: said in attrs
        ch = tk.detect_changes(spans, freq="10s")
    assert "buckets of 10 s (" in ch.attrs["resolution"] and "10s" not in ch.attrs["resolution"]
    assert "buckets of 10 s with a value" in ch.attrs["untested"]
    from tracekit.analysis.changes import untested_text

    # "at most 1 buckets of 1min with a value" (the CI's warnings at 37de166)
    assert "at most 1 bucket of 1 min with a value" in untested_text([1], 1, "1min", 2)
    gap = no_data_text([(pd.Timestamp("2026-03-02T00:00Z"), pd.Timestamp("2026-03-06T00:00Z"))], "2D")
    assert "(2 buckets of 2 days)" in gap
    fig = tk.plot_timeline(tk.timeline(spans, freq="5s"))
    titles = [a.text for a in fig.layout.annotations]
    assert any("per 5 s bucket" in t for t in titles) and not any("5s" in t for t in titles), titles


def test_bubble_up_says_when_a_side_is_empty():
    """bubble_up of a selection holding no trace returned one row per value (267 on checkout-small), every share
    NaN and odds ratios made of the 0.5 correction alone, without a word (fresh found it). The rows stay (empty in,
    NaN out, as test_attribution pins), and it is now said: a UserWarning naming the side and how many units the
    other holds, and attrs["empty_side"]; a real split says nothing."""
    import warnings

    import pytest

    spans = _requests(30, fail=3)
    with pytest.warns(UserWarning, match=r"the selection holds none of the frame's 30 traces \(the baseline holds 30\)"):
        none = tk.bubble_up(spans, lambda t: t.request_ms > 1e9)
    assert none.attrs["empty_side"].startswith("bubble_up: the selection holds none") and none["p_value"].isna().all()
    with pytest.warns(UserWarning, match="the baseline holds none.*every unit is selected"):
        tk.bubble_up(spans, lambda t: t.request_ms > 0)
    with pytest.warns(UserWarning, match="the selection holds none of the frame's 30 spans"):
        tk.bubble_up(spans, lambda s: s["service"] == "nobody", level="span")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hits = tk.bubble_up(spans, lambda t: t.request_ms > 250)  # the 5 slowest (260..300 ms) against the other 25
        assert len(tk.bubble_up(tk.empty_spans(), set())) == 0  # an empty frame: nothing to say
    assert (hits.attrs["n_selection"], hits.attrs["n_baseline"], hits.attrs["empty_side"]) == (5, 25, "")


def test_rank_causes_lift_compares_with_baseline_spans_that_share_ids_with_the_incident():
    """The lift column put the incident's and the baseline's spans in one frame for bubble_up, which counts a span
    read twice once: baseline spans sharing trace and span ids with the incident's were left out as copies (the
    bundled checkout-baseline holds the same 1,200 trace ids as checkout-incident, and its lift read
    "db.sql.table=orders: 40% of incident spans vs 0% of baseline"; 8 calls of the suite warned that a side was
    empty once bubble_up said so). The sides are now told apart by trace id. Built here: the baseline holds the
    incident's 20 requests (same ids, db spans with table=orders) and 20 others whose db spans have no table; the
    incident's db is 5x slower. Truth: 20 of 20 incident db spans against 20 of the baseline's 40 (50%), not 0 of 20."""
    import warnings

    def requests(first: int, n: int, table: bool, slow: int = 1) -> dict[str, list]:
        cols: dict[str, list] = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "kind",
                                                 "status", "start", "end", "attributes")}
        for i in range(first, first + n):
            t0 = T0 + i * 1_000_000_000
            for sid, parent, svc, name, kind, dur in (("a", None, "api", "GET /", "server", 50 * slow),
                                                      ("b", "a", "db", "SELECT", "client", 10 * slow)):
                for k, v in (("trace_id", f"{i + 1:032x}"), ("span_id", sid * 16), ("service", svc), ("name", name),
                             ("parent_id", parent * 16 if parent else None), ("kind", kind), ("status", "ok"),
                             ("start", t0), ("end", t0 + dur * 1_000_000),
                             ("attributes", {"db.sql.table": "orders"} if svc == "db" and table else {})):
                    cols[k].append(v)
        return cols

    shared, others = requests(0, 20, table=True), requests(20, 20, table=False)
    baseline = tk.spans_from_columns({k: shared[k] + others[k] for k in shared})
    incident = tk.spans_from_columns(requests(0, 20, table=True, slow=5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ranked = tk.rank_causes(incident, baseline=baseline).set_index("service")
    assert ranked.loc["db", "lift"] == ("db.sql.table=orders: 20 of its 20 incident spans (100%) vs 20 of its 40 "
                                        "baseline spans (50%)")  # counts with their populations (session 52)
