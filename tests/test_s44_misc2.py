"""Session 44, helper misc2: pinned defects (each test fails on the code before its fix unless called a control)."""
from __future__ import annotations

import numpy as np
import pandas as pd

import tracekit as tk
from tracekit.analysis.logs import attach_logs


def _tied_entries_spans() -> pd.DataFrame:
    t = "a" * 32
    # web root calls "db" twice; both calls start at the same nanosecond (10), ids b... and c...
    return tk.spans_from_columns({
        "trace_id": [t] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16],
        "parent_id": [None, "a" * 16, "a" * 16], "service": ["web", "db", "db"],
        "name": ["GET /", "q1", "q2"], "start": [0, 10, 10], "end": [100, 50, 60]})


def _owner_of_trace_level_record(spans: pd.DataFrame, logs: pd.DataFrame) -> str:
    out = attach_logs(spans, logs).spans
    got = out.loc[out["log_records"] > 0, "span_id"].tolist()
    assert len(got) == 1
    return got[0]


def test_trace_level_log_on_tied_entry_spans_does_not_depend_on_row_order():
    """Two entry spans of ``db`` start at the same ns: the trace-level record of db goes to the one with the
    smallest span id (the tie-break by span id), in every row order — both for a record written after the
    calls started (the last started) and for one written before either (the first)."""
    spans = _tied_entries_spans()
    for when in (20, 5):
        logs = tk.logs_from_columns({"time": [when], "body": ["x"], "trace_id": ["a" * 32],
                                     "span_id": [None], "service": ["db"]})
        owners = set()
        for seed in range(6):
            perm = np.random.default_rng(seed).permutation(len(spans))
            owners.add(_owner_of_trace_level_record(spans.iloc[perm].reset_index(drop=True), logs))
        owners.add(_owner_of_trace_level_record(spans.iloc[::-1].reset_index(drop=True), logs))
        assert owners == {"b" * 16}, (when, owners)


def test_repeated_calls_name_a_missing_service_unknown_service():
    """Calls of a span with no service are grouped as unknown_service; the row says so in ``service`` and
    ``parent_service`` (the schema's one name for it), not <NA>."""
    ms = 1_000_000
    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32] * 4, "span_id": [f"{i:016x}" for i in range(1, 5)],
        "parent_id": [None] + ["0000000000000001"] * 3, "service": [None] * 4,
        "name": ["GET /items"] + ["SELECT item"] * 3, "kind": ["server"] + ["client"] * 3,
        "start": [0, 10 * ms, 25 * ms, 40 * ms], "end": [100 * ms, 20 * ms, 35 * ms, 50 * ms]})
    spans["service"] = pd.Series([None] * 4, dtype=spans["service"].dtype)
    r = tk.find_repeated_calls(spans)
    assert len(r) == 1 and r.loc[0, "calls"] == 3
    assert r.loc[0, "service"] == tk.schema.UNKNOWN_SERVICE
    assert r.loc[0, "parent_service"] == tk.schema.UNKNOWN_SERVICE


def test_xray_rules_keep_an_earlier_reason_for_no_weight():
    """A trace whose ot=th is malformed and whose root no X-Ray rule matches: the note keeps the malformed-threshold
    reason (and adds the X-Ray one); before, giving rules replaced it with the X-Ray reason alone."""
    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32], "span_id": ["1" * 16], "parent_id": [None], "service": ["api"],
        "name": ["GET /"], "start": [0], "end": [1_000_000], "trace_state": ["ot=th:zz"]})
    without = tk.sampling_weights(spans)
    reason = without.loc[0, "note"]
    assert isinstance(reason, str) and "malformed ot=th" in reason
    rules = [{"RuleName": "other", "Priority": 1, "FixedRate": 0.5, "ReservoirSize": 0, "ServiceName": "nomatch"}]
    w = tk.sampling_weights(spans, rules=rules)
    assert np.isnan(w.loc[0, "probability"])
    assert reason in w.loc[0, "note"] and "no X-Ray rule matches" in w.loc[0, "note"]
