"""Copies of one span read twice (tracekit.io._copies): the readers' one rule, against a plain reference."""

from __future__ import annotations

import numpy as np
import orjson
import pandas as pd
import pytest

import tracekit as tk
from tracekit.io._copies import duplicates_to_drop


def _reference(df: pd.DataFrame) -> list[bool]:
    """Row by row: drop an in-progress row when its (trace, span) has a complete row; drop a row equal (every
    column but where it came from and the derived duration) to an earlier kept row."""
    cols = [c for c in df.columns if c not in ("source_file", "source_record", "duration_ms")]

    def cell(v):
        if isinstance(v, (dict, list)):
            return orjson.dumps(v, option=orjson.OPT_SORT_KEYS)
        return "<missing>" if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)) else v

    keys = [tuple(cell(v) for v in row) for row in df[cols].astype(object).itertuples(index=False)]
    span = [(k[cols.index("trace_id")], k[cols.index("span_id")]) for k in keys]
    inprog = df["in_progress"].tolist()
    complete = {s for s, p in zip(span, inprog, strict=True) if not p}
    drop, seen = [], set()
    for k, s, p in zip(keys, span, inprog, strict=True):
        if p and s in complete:
            drop.append(True)
        elif k in seen:
            drop.append(True)
        else:
            seen.add(k)
            drop.append(False)
    return drop


@pytest.mark.parametrize("seed", range(30))
def test_the_rows_dropped_are_the_reference_rows(seed):
    """Random frames of few ids, names, times, attribute dicts (key order varied), missing values and spans in
    progress: the vectorised rule drops exactly the rows the row-by-row reference drops."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    pick = lambda values: [values[i] for i in rng.integers(0, len(values), n)]  # noqa: E731
    attrs = [{"a": 1, "b": "x"}, {"b": "x", "a": 1}, {"a": 1.0}, {"a": True}, {}, {"a": [1, {"c": None}]}]
    ends = pick([10, 20, None])
    df = tk.spans_from_columns({
        "trace_id": pick(["t1", "t2"]), "span_id": pick(["a1", "a2", "a3"]), "name": pick(["x", "y", None]),
        "service": pick(["s", "s", "u"]), "start": pick([0, 5]), "end": ends,
        "attributes": [dict(a) for a in pick(attrs)], "http_status": pick([200, None, 503]),
        "source_file": pick(["f1", "f2"]),
    })
    drop = duplicates_to_drop(df, np.arange(len(df)))
    assert drop.tolist() == _reference(df)
    # only candidate rows are looked at: the same answer through a subset of positions
    rows = np.flatnonzero(rng.random(n) < 0.7)
    sub = duplicates_to_drop(df, rows)
    assert not sub[np.setdiff1d(np.arange(n), rows)].any()
    assert sub[rows].tolist() == _reference(df.iloc[rows].reset_index(drop=True))


def _reference_read_again(df: pd.DataFrame) -> list[bool]:
    """Logs and metrics (io._copies.copies_read_again), row by row: of the rows equal in every column but where
    they came from, keep as many as the one file holding the most of them holds, the first in read order."""
    cols = [c for c in df.columns if c not in ("source_file", "source_record")]
    def cell(v):
        if isinstance(v, (dict, list)):
            return orjson.dumps(v, option=orjson.OPT_SORT_KEYS)
        return "<missing>" if pd.isna(v) else v

    keys = [tuple(map(cell, row)) for row in df[cols].astype(object).itertuples(index=False)]
    files = ["<missing>" if pd.isna(f) else f for f in df["source_file"].astype(object)]
    per: dict = {}
    for k, f in zip(keys, files, strict=True):
        per.setdefault(k, {}).setdefault(f, 0)
        per[k][f] += 1
    seen: dict = {}
    out = []
    for k in keys:
        seen[k] = seen.get(k, 0) + 1
        out.append(seen[k] > max(per[k].values()))
    return out


@pytest.mark.parametrize("seed", range(40))
def test_log_records_read_again_are_the_reference_rows(seed):
    """Records in one to four files (one of them sometimes unnamed), times and bodies from small sets so that
    repeats inside a file, copies across files and same-time records of other files all occur."""
    from tracekit.io._copies import copies_read_again

    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 60))
    nfiles = int(rng.integers(1, 5))
    files = [None if f == 3 else f"f{f}.json" for f in rng.integers(0, nfiles, n)]
    times = rng.integers(0, 4, n).astype("int64")
    times = [None if t == 3 and seed % 3 == 0 else int(t) for t in times]  # a record without a time sometimes
    logs = tk.logs_from_columns({"time": [0 if t is None else t for t in times],
                                 "body": [str(b) for b in rng.choice(["a", "b"], n)],
                                 "source_file": files, "source_record": list(range(n))})
    if seed % 3 == 0:
        logs["time"] = logs["time"].where(pd.Series([t is not None for t in times]))
    got = copies_read_again(logs, ("time", "body")).tolist()
    assert got == _reference_read_again(logs)
