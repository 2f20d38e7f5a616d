"""Session 46 (lead): read_logs's fast path checks for a key given twice by counting the text's colons (the
metrics reader's kernel, now shared in io._sources), not by three substring counts of the identity keys.

Every key of a JSON object is followed by exactly one colon, and colons appear elsewhere only inside strings: a
typed decode keeps one value of a key given twice, so the text then holds one colon more than the keys the decoded
records hold plus the colons of their strings. The tests below compare the fast path with the checked walk on files
that give a key twice in every place a record can, show that the comparison notices when the check is switched
off, and that ordinary files (colons in bodies, URLs, attribute values; escaped colons; kvlist bodies) stay on the
fast path, which is what the change is for."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

import tracekit as tk
import tracekit.io.logs as L

from .test_logs import _assert_same, _both_ways

REC = ('{"timeUnixNano": "1700000000000000000", "observedTimeUnixNano": "1700000000000000001", '
       '"severityNumber": 9, "severityText": "INFO", "traceId": "5b8efff798038103d269b633813fc60c", '
       '"spanId": "eee19b7ec3c1b174", "body": {"stringValue": "GET http://shop:8080/cart: 200 in 3 ms"}, '
       '"attributes": [{"key": "url.full", "value": {"stringValue": "https://shop/cart?a=b:c"}}]')


def _file(tmp_path, records: list[str], name: str = "logs.json", schema: str = "https://opentelemetry.io/schemas/1.21.0"):
    """One OTLP logs document, the records written as given (raw JSON text: a key may be given twice)."""
    text = ('{"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "cart"}}]}, '
            '"scopeLogs": [{"scope": {"name": "io.opentelemetry:logback", "version": "1.0"}, "logRecords": ['
            + ", ".join(records) + f']}}], "schemaUrl": "{schema}"}}]}}\n')
    json.loads(text)  # (valid JSON: Python's parser keeps the last of a key given twice, as the fast decode does)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


CLEAN = REC + "}"
#: a key given twice, in each place of a record (the second value differs from the first)
TWICE = {
    "traceId": REC + ', "traceId": "0af7651916cd43dd8448eb211c80319c"}',
    "spanId": REC + ', "spanId": "b7ad6b7169203331"}',
    "timeUnixNano": REC + ', "timeUnixNano": "1700000000000000099"}',
    "severityText": REC + ', "severityText": "ERROR"}',
    "severityNumber": REC + ', "severityNumber": 17}',
    "body": REC + ', "body": {"stringValue": "other"}}',
    "attributes": REC + ', "attributes": [{"key": "x", "value": {"intValue": "1"}}]}',
    "eventName": REC + ', "eventName": "a", "eventName": "b"}',
    "flags": REC + ', "flags": 1, "flags": 0}',
    "stringValue in body": REC.replace('"body": {"stringValue": "GET', '"body": {"stringValue": "x", "stringValue": "GET') + "}",
    "key in an attribute": REC.replace('{"key": "url.full", ', '{"key": "a", "key": "url.full", ') + "}",
    "escaped colon elsewhere": REC.replace("cart: 200", "cart\\u003a 200") + ', "traceId": "0af7651916cd43dd8448eb211c80319c"}',
    "space before its colon": REC + ', "spanId"  :  "b7ad6b7169203331"}',
    "two kinds in a body": REC.replace('"body": {"stringValue": "GET', '"body": {"intValue": "5", "stringValue": "GET') + "}",
    "escaped letter in the key": REC + ', "trace\\u0049d": "0af7651916cd43dd8448eb211c80319c"}',
}


@pytest.mark.parametrize("where", sorted(TWICE))
def test_a_key_given_twice_reads_as_the_checked_walk_reads_it(tmp_path, monkeypatch, where):
    path = _file(tmp_path, [CLEAN, TWICE[where], CLEAN])
    for errors in ("raise", "skip"):
        with warnings.catch_warnings():  # (skip: one TraceFormatWarning each way when the walk refuses the record)
            warnings.simplefilter("ignore", tk.TraceFormatWarning)
            got, want = _both_ways(path, monkeypatch, errors)
        _assert_same(got, want)
    if where != "key in an attribute":  # (a record's attributes are kept raw: attribute_source reads them as the walk)
        assert L._fast(path.read_bytes(), "logs.json") is None  # the fast path declined it


@pytest.mark.parametrize("where", ["traceId", "spanId", "timeUnixNano", "body"])
def test_the_comparison_sees_a_key_twice_when_the_check_is_off(tmp_path, monkeypatch, where):
    """The test above is not vacuous: with the colon check switched off the fast path reads the file, and its frame
    (the last value of the key) differs from the checked walk's, which refuses a record giving one of the keys that
    place it (ids, times, body) twice with different values."""
    path = _file(tmp_path, [CLEAN, TWICE[where], CLEAN])
    monkeypatch.setattr(L, "colons_repeat_keys", lambda *a, **k: False)
    assert L._fast(path.read_bytes(), "logs.json") is not None
    got, want = _both_ways(path, monkeypatch)
    with pytest.raises(AssertionError):
        _assert_same(got, want)


#: ordinary records: colons in bodies, URLs, attribute values and keys, other kinds of bodies
ORDINARY = [
    CLEAN,
    REC + ', "eventName": "session:start", "flags": 1, "droppedAttributesCount": 2}',
    REC.replace('{"stringValue": "GET http://shop:8080/cart: 200 in 3 ms"}',
                '{"kvlistValue": {"values": [{"key": "a:b", "value": {"stringValue": "c:d"}}]}}') + "}",
    REC.replace('{"stringValue": "GET http://shop:8080/cart: 200 in 3 ms"}', '{"intValue": "42"}') + "}",
    REC.replace('{"stringValue": "GET http://shop:8080/cart: 200 in 3 ms"}',
                '{"arrayValue": {"values": [{"stringValue": "x:y"}, {"doubleValue": 1.5}]}}') + "}",
    '{"timeUnixNano": "1700000000000000002", "body": {"stringValue": "no ids: a trace-level line"}}',
]


def test_ordinary_records_stay_on_the_fast_path_and_read_as_the_checked_walk(tmp_path, monkeypatch):
    path = _file(tmp_path, ORDINARY)
    df = L._fast(path.read_bytes(), "logs.json")
    assert df is not None and len(df) == len(ORDINARY)
    _assert_same(*_both_ways(path, monkeypatch))


def test_an_escaped_colon_reads_right(tmp_path, monkeypatch):
    """A colon written ``\\u003a`` is a colon of the decoded string and none of the text: the check then asks the
    text's colons to equal the keys alone (the strings' colons cannot be told apart), so a file with one and colons
    in its strings goes to the checked walk, and reads the same."""
    path = _file(tmp_path, [CLEAN, REC.replace("cart: 200", "cart\\u003a 200") + "}"])
    assert L._fast(path.read_bytes(), "logs.json") is None
    _assert_same(*_both_ways(path, monkeypatch))
    assert tk.read_logs(path)["body"].iloc[1] == "GET http://shop:8080/cart: 200 in 3 ms"


def test_json_lines_of_many_documents_stay_on_the_fast_path(tmp_path, monkeypatch):
    """The colons are counted over the whole file and the keys over all its documents (JSON lines, as the
    collector's file exporter writes them); a key given twice on the last line of 30 still sends it to the walk."""
    lines = [_file(tmp_path, [CLEAN, ORDINARY[2]], f"l{i}.json").read_text().strip() for i in range(30)]
    path = tmp_path / "lines.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert len(L._fast(path.read_bytes(), "lines.jsonl")) == 60
    _assert_same(*_both_ways(path, monkeypatch))
    bad = _file(tmp_path, [CLEAN, TWICE["severityText"]], "bad.json").read_text().strip()
    path.write_text("\n".join(lines + [bad]) + "\n", encoding="utf-8")
    assert L._fast(path.read_bytes(), "lines.jsonl") is None
    _assert_same(*_both_ways(path, monkeypatch))


def test_an_empty_list_or_a_null_written_out_is_read_right(tmp_path, monkeypatch):
    """A field written as its default (an empty list, null) holds no key the decode keeps: the colon count is then
    larger and the file goes to the checked walk (slower, never wrong)."""
    path = _file(tmp_path, [CLEAN, REC + ', "eventName": null}', REC.replace('"attributes": [{', '"attributes": [], "x": [{')
                            .replace('"x": [{"key": "url.full", "value": {"stringValue": "https://shop/cart?a=b:c"}}]', '"flags": 0') + "}"])
    _assert_same(*_both_ways(path, monkeypatch))


# ---- rank_causes and the postmortem at many keys: per-key Python loops replaced by one pass, same answers ----------

def test_callee_per_key_is_the_most_frequent_callee_first_met_on_a_tie():
    """causes._callee_per_key (the callee a key's leaf client spans call most; a tie to the one met first) equals
    value_counts().index[0] of each key's callees, on random keys and callees with many ties."""
    import numpy as np
    import pandas as pd

    from tracekit.core.naming import callees
    from tracekit.core.tree import span_tree
    from tracekit.investigate.causes import _callee_per_key

    from .test_structure import mk

    rng = np.random.default_rng(7)
    rows, attrs = [], []
    for t in range(60):
        rows.append((t, 1000 * t, None, "front", "GET /", "server", 0, 100))
        attrs.append({})
        for j in range(int(rng.integers(1, 5))):
            rows.append((t, 1000 * t + j + 1, 1000 * t, "front", "call", "client", 1 + j, 2 + j))
            attrs.append({"peer.service": str(rng.choice(["db", "cache", "auth"]))})
    spans = mk(rows, attributes=attrs)
    ka = rng.integers(-1, 6, size=len(spans))
    got = _callee_per_key(spans, ka, np.arange(-1, 7))
    tree = span_tree(spans)
    leaf = np.ones(len(spans), bool)
    leaf[tree.parent[tree.parent >= 0]] = False
    r = np.flatnonzero(leaf)
    d = pd.DataFrame({"k": ka[r], "c": callees(spans, r)}).dropna()
    want = {k: g["c"].value_counts().index[0] for k, g in d.groupby("k")}
    assert got == [want.get(k) if k >= 0 else None for k in range(-1, 7)]
    assert sum(v is not None for v in got) >= 5  # (most keys have a callee: the comparison is not vacuous)


def test_postmortem_names_the_same_ties_as_a_walk_over_every_ranked_row():
    """postmortem's "where" finding names the (up to two) rows scored within 0.02 of the top as tied, as a walk over
    every ranked row did."""
    import numpy as np

    from tracekit.investigate import postmortem as P

    rc = pd.DataFrame({"service": [f"s{i}" for i in range(8)], "score": [0.5, 0.3, 0.49, np.nan, 0.485, 0.51, 0.2, 0.495]})
    top = rc.iloc[0]
    want = [P._ranked_label(r, "service") for _, r in rc.iloc[1:].iterrows()
            if abs(float(r["score"]) - float(top["score"])) < 0.02 and float(top["score"]) >= 0.1][:2]
    assert P._tied(rc, "service") == want == ["s2", "s4"]
    low = rc.assign(score=rc["score"] - 0.45)  # a top under 0.1: nothing is tied with it
    assert P._tied(low, "service") == []


def test_compare_in_chunks_draws_each_sides_weights_once(monkeypatch):
    """compare, its keys bootstrapped a chunk at a time, keeps each side's bootstrap weights for the chunks instead
    of drawing them again from the same state a chunk (8.8 s of 56 on 285,000 operations): the weights are drawn
    ceil(n_boot / 64) times a side whatever the number of chunks, and the table equals the one drawn again a chunk
    (_KEEP_WEIGHT_BYTES = 0) and the single pass, exactly."""
    from tracekit.analysis import comparison

    a = tk.simulate.simulate("db-lock", n_traces=60, seed=3).spans
    b = tk.simulate.simulate("baseline", n_traces=50, seed=4).spans
    whole = tk.compare(a, b, by="operation", n_boot=130, seed=7)
    n_keys = len(whole.table)
    assert n_keys > 8
    per_key = 2 * (len(comparison.METRICS) + 4) * 130 * 8
    monkeypatch.setattr(comparison, "_DRAW_BYTES", per_key * 2)  # two keys a chunk
    calls = []
    real = comparison._weights
    monkeypatch.setattr(comparison, "_weights", lambda *a, **k: calls.append(a[2]) or real(*a, **k))
    kept = tk.compare(a, b, by="operation", n_boot=130, seed=7)
    n_kept = len(calls)
    monkeypatch.setattr(comparison, "_KEEP_WEIGHT_BYTES", 0)
    calls.clear()
    again = tk.compare(a, b, by="operation", n_boot=130, seed=7)
    for got in (kept, again):
        pd.testing.assert_frame_equal(got.table, whole.table, check_exact=True)
        pd.testing.assert_frame_equal(got.overall, whole.overall, check_exact=True)
    blocks = -(-130 // 64)  # 3 blocks of resamples a side
    assert n_kept <= 2 * blocks + 2  # (+ the overall latency intervals' own draws)
    assert len(calls) >= 2 * blocks * (n_keys // 2)  # drawn again for every chunk of keys


def test_no_change_found_says_in_what_it_was_looked_for():
    """The bundled cold-starts hour: no baseline, no change in the requests' latency or errors, while the report's
    "When" says a change in fulfillment's cold starts (44 of 98 invocations in 14:30-14:50 cold, p < 0.001). The
    header said "no change over time found" beside it (found by the report reviewer); it says where it looked."""
    from pathlib import Path

    from tracekit.analysis.changes import incident_periods

    root = Path(__file__).resolve().parents[1] / "datasets" / "cold-starts"
    p = incident_periods(tk.read(root))
    assert p.source == "none (no baseline given and no change over time found in the requests' latency or errors)"
