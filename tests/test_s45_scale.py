"""Session 45, scale: analyses and readers at 300k spans and on deep or wide traces. Each test names what it
pins; a test that fails on the code before its fix says so, the others are controls."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis import baseline_check

# ------------------------------------------------------------------ own_traces: keys only for shared traces

def _copy_traces(frame: pd.DataFrame, ids) -> pd.DataFrame:
    return frame[frame["trace_id"].isin(list(ids))].copy()


@pytest.fixture(scope="module")
def pair():
    s = tk.simulate.simulate("db-lock", 60, seed=4).spans
    b = tk.simulate.simulate("baseline", 80, seed=5).spans
    return s, b


def test_own_traces_are_the_copied_traces_exactly(pair):
    """Control: the baseline holds 3 of the spans' traces copied whole, 1 trace sharing an id but none of its spans
    (a twin: same trace id, other span ids) and 80 traces of its own; own_traces is those 3, in baseline order."""
    s, b = pair
    tids = pd.unique(s["trace_id"])
    copied = _copy_traces(s, tids[[5, 17, 40]])
    twin = _copy_traces(s, tids[[9]])
    twin["span_id"] = [f"e0e0{i:012x}" for i in range(len(twin))]  # ids none of the spans has
    base = pd.concat([b.iloc[: len(b) // 2], copied, twin, b.iloc[len(b) // 2:]], ignore_index=True)
    got = baseline_check.own_traces(s, base)
    assert list(got) == list(pd.unique(copied["trace_id"]))
    assert len(baseline_check.own_traces(s, b)) == 0
    assert not baseline_check._same_spans(s, base)
    assert baseline_check._same_spans(s, copied)  # every baseline span is one of theirs


def test_own_traces_keys_only_rows_of_trace_ids_both_hold(pair, monkeypatch):
    """Fails on the old code: own_traces built a (trace, span, start, end) key for every span of both frames (1.5 s
    CPU of postmortem's 13.6 s at 306k + 154k spans sharing no trace); a span whose trace id the other frame does
    not hold cannot be one of its spans, so only rows of shared trace ids are keyed."""
    s, b = pair
    tids = pd.unique(s["trace_id"])
    copied = _copy_traces(s, tids[[1, 2]])
    base = pd.concat([b, copied], ignore_index=True)
    keyed: list[int] = []
    real = pd.MultiIndex.from_frame

    def counting(df, *a, **k):
        keyed.append(len(df))
        return real(df, *a, **k)

    monkeypatch.setattr(pd.MultiIndex, "from_frame", staticmethod(counting))
    got = baseline_check.own_traces(s, base)
    assert list(got) == list(tids[[1, 2]])
    shared_rows = 2 * len(copied)  # the copied traces' rows, on each side
    assert sum(keyed) <= shared_rows, (sum(keyed), shared_rows, len(s) + len(base))
    keyed.clear()
    assert len(baseline_check.own_traces(s, b)) == 0
    assert sum(keyed) == 0  # no shared trace id: nothing to key


# ------------------------------------------------------------------ read_logs: the times converted once a file

def _log_lines(n_docs: int, per_doc: int, *, int_times_in: int | None = None, missing_in: int | None = None) -> tuple:
    """OTLP logs JSON lines, ``n_docs`` documents of ``per_doc`` records; the times known by construction."""
    import orjson

    lines, times, observed = [], [], []
    t0 = 1_772_000_000_000_000_000
    for d in range(n_docs):
        recs = []
        for r in range(per_doc):
            t, o = t0 + (d * per_doc + r) * 1_000_003, t0 + (d * per_doc + r) * 1_000_003 + 7
            rec = {"timeUnixNano": str(t), "observedTimeUnixNano": str(o), "severityNumber": 9,
                   "body": {"stringValue": f"doc {d} rec {r}"}, "traceId": f"{d + 1:032x}", "spanId": f"{r + 1:016x}"}
            if d == int_times_in:
                rec["timeUnixNano"], rec["observedTimeUnixNano"] = t, o  # JSON numbers, not strings
            if d == missing_in and r == 0:
                del rec["timeUnixNano"]  # the observed time stands in
                t = o
            recs.append(rec)
            times.append(t)
            observed.append(o)
        lines.append(orjson.dumps({"resourceLogs": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": f"svc{d % 3}"}}]},
            "scopeLogs": [{"logRecords": recs}]}]}))
    return b"\n".join(lines) + b"\n", times, observed


@pytest.mark.parametrize("shape", ["strings", "one document of ints", "a missing time"])
def test_read_logs_times_of_many_documents(tmp_path, shape):
    """Control: every record's time and observed time as written, over 40 documents (one of them with JSON-number
    times, or one record without its time: the observed time stands in)."""
    kw = {"strings": {}, "one document of ints": {"int_times_in": 17}, "a missing time": {"missing_in": 5}}[shape]
    data, times, observed = _log_lines(40, 25, **kw)
    p = tmp_path / "logs.jsonl"
    p.write_bytes(data)
    logs = tk.read_logs(p)
    assert len(logs) == 1000
    assert logs["time"].astype("int64").tolist() == times
    assert logs["observed_time"].astype("int64").tolist() == observed
    assert logs["body"].iloc[999] == "doc 39 rec 24"


def test_read_logs_checks_and_casts_the_times_once_a_file(tmp_path, monkeypatch):
    """Fails on the old code: the fast path checked and cast each document's times on its own, five Arrow calls per
    document and column (80 ascii_is_decimal calls for a 40-line file; 0.10 s of read_logs' ~0.7 s CPU on the
    174k-record benchmark file); now once a column (2), the same times."""
    import pyarrow.compute as pc

    data, times, _ = _log_lines(40, 25)
    p = tmp_path / "logs.jsonl"
    p.write_bytes(data)
    calls = []
    real = pc.ascii_is_decimal
    monkeypatch.setattr(pc, "ascii_is_decimal", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    logs = tk.read_logs(p)
    assert logs["time"].astype("int64").tolist() == times
    assert not len(logs.attrs.get("skipped", ())) and len(logs) == 1000
    assert len(calls) <= 2, len(calls)


@pytest.mark.parametrize("bad", ['"+5"', '" 5"', '"-5"', '"9223372036854775808"', '""'])
def test_read_logs_a_time_the_checked_walk_judges_still_goes_to_it(tmp_path, bad):
    """Control: one bad time in the 30th of 40 documents: the whole file is read by the checked walk, which names
    the record (errors='raise') or skips it alone (errors='skip'), as before."""
    data, _, _ = _log_lines(40, 25)
    lines = data.split(b"\n")
    t = b'"timeUnixNano":"' + str(1_772_000_000_000_000_000 + (29 * 25 + 3) * 1_000_003).encode() + b'"'
    assert lines[29].count(t) == 1
    lines[29] = lines[29].replace(t, b'"timeUnixNano":' + bad.encode())
    p = tmp_path / "logs.jsonl"
    p.write_bytes(b"\n".join(lines))
    from tracekit.io import logs as L

    fast = L._fast(p.read_bytes(), "logs.jsonl")
    assert fast is None  # the fast path refuses the file
    with pytest.raises(tk.TraceFormatError, match="line 30"):
        tk.read_logs(p)
    with pytest.warns(tk.TraceFormatWarning, match="skipped 1 bad record"):
        got = tk.read_logs(p, errors="skip")
    assert len(got) == 999 and len(got.attrs["skipped"]) == 1 and "line 30" in str(got.attrs["skipped"][0])


# ------------------------------------------------------------------ exemplars: no traces x operations table

def _exemplar_pair(n_names: int):
    s = tk.simulate.simulate("db-lock", 80, seed=7).spans
    b = tk.simulate.simulate("baseline", 120, seed=8).spans

    def renamed(df, seed):
        rng = np.random.default_rng(seed)
        df = df.copy()
        ids = rng.integers(0, n_names, len(df))
        df["name"] = pd.array([f"{a} /item/{i}" for a, i in zip(df["name"].astype(str), ids, strict=True)],
                              dtype=df["name"].dtype)
        return df

    return renamed(s, 1), renamed(b, 2)


def _brute_distance(a: pd.DataFrame, b: pd.DataFrame) -> int:
    ca = (a["service"].astype(str) + ":" + a["name"].astype(str)).value_counts()
    cb = (b["service"].astype(str) + ":" + b["name"].astype(str)).value_counts()
    keys = ca.index.union(cb.index)
    return int((ca.reindex(keys, fill_value=0) - cb.reindex(keys, fill_value=0)).abs().sum())


@pytest.mark.parametrize("n_names", [3, 400])
def test_exemplars_twin_is_the_nearest_by_operation_counts(n_names):
    """Control: the twin's distance is the operation-count distance computed by brute force, and no baseline
    request of the kind is nearer."""
    s, b = _exemplar_pair(n_names)
    ex = tk.exemplars(s, b)
    assert ex.distance == _brute_distance(ex.incident, ex.baseline)
    kind = b[b["trace_id"].isin(pd.unique(ex.baseline["trace_id"]))]
    assert len(kind)
    roots = b[b["parent_id"].isna()]
    same_kind = roots[(roots["service"] == ex.baseline.loc[ex.baseline["parent_id"].isna(), "service"].iloc[0])
                      & (roots["name"] == ex.baseline.loc[ex.baseline["parent_id"].isna(), "name"].iloc[0])]
    others = [_brute_distance(ex.incident, b[b["trace_id"] == t]) for t in pd.unique(same_kind["trace_id"])]
    assert others and ex.distance <= min(others)  # the twin is never farther than a request of its kind


def test_exemplars_builds_no_traces_by_operations_table(monkeypatch):
    """Fails on the old code: exemplars counted each baseline request's operations in a dense crosstab, one cell per
    (request, distinct operation): quadratic when names carry ids (306k spans, ~30k names: 0.24 s at 30k -> 6.4 s at
    300k). Now from the (request, operation) pairs held: no crosstab."""
    s, b = _exemplar_pair(400)
    cells = []
    real = pd.crosstab

    def spy(index, columns, *a, **k):
        cells.append(pd.Series(index).nunique() * pd.Series(columns).nunique())
        return real(index, columns, *a, **k)

    monkeypatch.setattr(pd, "crosstab", spy)
    ex = tk.exemplars(s, b)
    assert ex.distance == _brute_distance(ex.incident, ex.baseline)
    assert max(cells, default=0) <= len(b), (cells, len(b))
