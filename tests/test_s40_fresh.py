"""A fresh user's first hour (session 40): the command line's words and errors, the public API's words.

Each test builds its input by construction (a few spans, an empty folder, an output name) and fails on the code
before its fix: ``tracekit convert IN out.json.gz`` wrote Parquet under a trace file's name; ``tracekit summary``
printed "1200" beside "1,200" in one output; an empty folder given alone was told to pass ``--errors skip``, which
then found nothing.
"""

from __future__ import annotations

import re

import pytest

import tracekit as tk
from tracekit.cli import format_summary, main

SMALL = str(tk.examples.path("checkout-small"))


def _no_reading(monkeypatch):
    """Make any read of trace files fail the test: what is checked must be checked before anything is read."""
    def read(*a, **k):
        raise AssertionError("trace files were read before the arguments were checked")

    monkeypatch.setattr("tracekit.io.sniff.read", read)


@pytest.mark.parametrize(("name", "store"), [("out.json", "out.parquet"), ("out.json.gz", "out.parquet"),
                                             ("out.JSONL", "out.parquet"), ("spans.ndjson", "spans.parquet"),
                                             ("x.txt", "x.parquet")])
def test_convert_refuses_a_trace_file_name_for_its_parquet_store_before_reading(name, store, tmp_path, monkeypatch,
                                                                                 capsys):
    # 'tracekit convert IN out.json.gz' wrote a Parquet file named out.json.gz (zcat: "not in gzip format"; a folder
    # holding it: "not JSON: a Parquet file"), exit 0
    _no_reading(monkeypatch)
    out = tmp_path / name
    assert main(["convert", SMALL, str(out), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"tracekit convert: error: cannot write {out}: convert writes a spans store (Parquet)")
    assert f"name it {store}" in err and err.count("\n") == 1
    assert not out.exists()


def test_convert_still_writes_a_store_of_any_other_name(tmp_path, capsys):
    for name in ("s.parquet", "store"):
        out = tmp_path / name
        assert main(["convert", SMALL, str(out), "--no-progress"]) == 0
        assert len(tk.read(out)) == len(tk.examples.load("checkout-small"))
    capsys.readouterr()


@pytest.fixture(scope="module")
def many_traces():
    """1,250 traces of one span each (a root), 2 of them failed: counts past a thousand, known by construction."""
    n, t0 = 1250, 1_772_460_000 * 10**9  # 2026-03-02 14:00 UTC
    return tk.spans_from_columns({
        "trace_id": ["%032x" % (i + 1) for i in range(n)], "span_id": ["%016x" % (i + 1) for i in range(n)],
        "service": ["api"] * n, "name": ["GET /"] * n, "kind": ["server"] * n,
        "start": [t0 + i * 10**6 for i in range(n)], "end": [t0 + i * 10**6 + 500_000 for i in range(n)],
        "status": ["error"] * 2 + ["ok"] * (n - 2)})


def test_summary_says_every_count_with_thousands_separators(many_traces):
    # the first line said "traces: 1250  spans: 1250" and the failed line "of 1250 requests" while the lines below
    # said "1,250 requests" and "1,250 traces": one count, two spellings
    text = format_summary(many_traces)
    assert text.splitlines()[0] == "traces: 1,250  spans: 1,250  services: 1"
    assert "of 1,250 requests): 0.16%" in text  # 2 of 1,250
    assert "(of 1,250 traces)" in text and "1,250 requests)" in text
    counts = "\n".join(line for line in text.splitlines() if not line.startswith("time range:"))
    bare = re.findall(r"(?<![\d,.])\d{4,}(?![\d,.])", counts)
    assert bare == [], f"counts without separators: {bare}\n{text}"


def test_an_empty_folder_alone_is_not_told_to_skip_what_is_not_there(tmp_path, capsys):
    # 'tracekit summary EMPTY' ended "(--errors skip reads the rest and lists what it skipped)"; with --errors skip it
    # then said "skipped 1 bad record(s)" and "no spans found": a dead end
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["summary", str(empty)]) == 1
    err = capsys.readouterr().err
    assert f"{empty}: directory holds no file a reader reads" in err and "--errors skip" not in err
    # beside another input the hint holds: skipping the empty folder reads the rest
    assert main(["summary", str(empty), SMALL]) == 1
    assert "(--errors skip reads the rest and lists what it skipped)" in capsys.readouterr().err
    assert main(["summary", "--errors", "skip", str(empty), SMALL]) == 0
    assert "traces: 40 " in capsys.readouterr().out


def _builder():
    import importlib.util

    from .conftest import REPO

    spec = importlib.util.spec_from_file_location("build_notebooks", REPO / "notebooks" / "build_notebooks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_01_change_lines_name_their_own_window_and_what_before_is_over():
    # notebook 01 said "api-gateway p95: 190 ms → 654 ms …, 182 requests" under "When: from 14:27 to 14:36": 190 ms is
    # over the requests outside the window (before and after it), the next cell's "p95 154 → 654 ms" over the
    # baseline's same minutes, and a change with a window of its own was printed as if in the first one's
    import types

    import pandas as pd

    cells = _builder().NOTEBOOKS["01-postmortem"].cells
    cell = next(c.source for c in cells if c.cell_type == "code" and "changes = tk.detect_changes" in c.source)
    t = pd.Timestamp("2026-03-02 14:00", tz="UTC")
    changes = pd.DataFrame({
        "service": ["api", "db"], "metric": ["p95_ms", "p95_ms"],
        "onset": [t + pd.Timedelta("27min"), t + pd.Timedelta("40min")],
        "recovery": [t + pd.Timedelta("36min"), pd.NaT],
        "before": [190.0, 5.0], "during": [654.0, 30.0], "delta": [464.0, 25.0], "delta_lo": [441.0, 20.0],
        "delta_hi": [502.0, 30.0], "requests_affected": [182.0, 40.0], "p_value": [0.001, 0.002],
        "deployment": [pd.NA, pd.NA]})
    changes.attrs["params"] = {}
    split = types.SimpleNamespace(onset=changes["onset"][0], recovery=changes["recovery"][0], incident=None)
    fake = types.SimpleNamespace(detect_changes=lambda spans, by: changes, split_by_change=lambda spans, ch: split,
                                 core=types.SimpleNamespace(p_value_text=lambda p, params: f"p = {p}"))
    said: list[str] = []
    names = {"tk": fake, "pd": pd, "spans": None, "baseline": None, "BY": "service", "say": said.append,
             "requests_of": lambda s: range(182),
             "fmt": lambda metric, v, sign=False: f"{v:{'+' if sign else ''},.0f} ms"}
    exec(cell, names)  # noqa: S102 - the notebook's own cell, on a changes frame built here
    api, db = said[1], said[2]
    assert api.startswith("  api p95, its requests outside 14:27–14:36 UTC → inside: 190 ms → 654 ms"), api
    assert "182 requests inside" in api
    assert db.startswith("  db p95, its requests before 14:40 UTC → from then on: 5 ms → 30 ms"), db
    assert "40 requests inside" in db


def test_compare_names_the_argument_at_fault_by_its_name():
    # compare said "compare (a): by key 'bogus' is not in the spans frame" and "compare (b): spans DataFrame is
    # missing columns": a and b are the names its arguments had before spans / baseline (rank_causes says
    # "(incident)" / "(baseline)")
    spans = tk.examples.load("checkout-small")
    with pytest.raises(tk.ArgumentError, match=r"^compare \(spans\): by key 'bogus' is not in the spans frame"):
        tk.compare(spans, spans, by="bogus")
    with pytest.raises(tk.SpansSchemaError, match=r"^compare \(baseline\): spans DataFrame is missing columns: .*\bend\b"):
        tk.compare(spans, spans.drop(columns=["end"]))
    with pytest.raises(tk.SpansSchemaError, match=r"^compare \(spans\): spans DataFrame is missing columns"):
        tk.compare(spans.drop(columns=["end"]), spans)


def test_a_bucket_width_is_freq_everywhere_and_window_is_never_one():
    # sampling_bias and simulate_sampling took the bucket width of their time checks as window="1min", the word
    # version_regressions and rank_causes use for an incident's (start, end), where timeline, detect_changes,
    # plot_heatmap and postmortem say freq: two words for one idea, one word for two
    import inspect
    import warnings

    import pandas as pd

    for name in tk.__all__:
        f = getattr(tk, name)
        if not callable(f) or name.startswith("fetch_"):  # a fetcher's window is its longest query, a duration
            continue
        try:
            p = inspect.signature(f).parameters.get("window")
        except (TypeError, ValueError):
            continue
        if p is not None and isinstance(p.default, str) and p.default != "auto":  # rank_causes: 'auto' finds (start, end)
            raise AssertionError(f"{name}: window={p.default!r} is a bucket width: freq")
    # the old keyword still works, with a DeprecationWarning, and gives what freq gives
    t0 = 1_772_460_000 * 10**9
    n = 60  # one request a minute for an hour, then none: by construction 0 gaps at 1min, 1 trace per window
    spans = tk.spans_from_columns({
        "trace_id": ["%032x" % (i + 1) for i in range(n)], "span_id": ["%016x" % (i + 1) for i in range(n)],
        "service": ["api"] * n, "name": ["GET /"] * n, "start": [t0 + i * 60 * 10**9 for i in range(n)],
        "end": [t0 + i * 60 * 10**9 + 10**6 for i in range(n)]})
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        new = tk.sampling_bias(spans, spans, freq="5min")
        sim_new = tk.simulate_sampling(spans, probability=1.0, freq="5min")
    with pytest.warns(DeprecationWarning, match="sampling_bias: window= is deprecated, use freq="):
        old = tk.sampling_bias(spans, spans, window="5min")
    with pytest.warns(DeprecationWarning, match="simulate_sampling: window= is deprecated, use freq="):
        sim_old = tk.simulate_sampling(spans, probability=1.0, window="5min")
    pd.testing.assert_frame_equal(old.windows, new.windows)
    pd.testing.assert_frame_equal(sim_old.traces, sim_new.traces)
    assert new.params["freq"] == str(pd.Timedelta("5min")) and "window" not in new.params
    assert sim_new.params["freq"] == "5min"
    with pytest.raises(tk.ArgumentError, match="only"):
        tk.sampling_bias(spans, spans, window="5min", freq="5min")
    with pytest.raises(tk.ArgumentError, match=r"^sampling_bias: test must be 'g' or 'chi2'"):
        tk.sampling_bias(spans, spans, test="t")


def test_fetch_xray_says_its_counts_as_every_command_does(monkeypatch, tmp_path, capsys):
    # 'tracekit fetch-xray' ended "wrote x.json: 1001 traces, 1001 spans; 1 trace ids asked but not returned by
    # X-Ray" where summary, convert and report say "1,001 traces" and "1 trace id"
    import json

    n = 1001
    traces = [{"Id": f"1-5759e988-{i:024x}", "Segments": [{"Id": f"{i + 1:016x}", "Document": json.dumps({
        "id": f"{i + 1:016x}", "name": "api", "trace_id": f"1-5759e988-{i:024x}", "start_time": 1700000000.5 + i,
        "end_time": 1700000000.75 + i})}]} for i in range(n)]

    def fetch_xray(*args, cache_dir, **kwargs):  # what the live fetch leaves: its pages in the cache, its spans
        cache_dir.mkdir(parents=True, exist_ok=True)
        (cache_dir / "batch-00001.json").write_text(json.dumps({"Traces": traces, "UnprocessedTraceIds": []}))
        spans = tk.read({"Traces": traces})
        spans.attrs["xray_fetch"] = {"got": {"unprocessed_ids": [], "missing_ids": ["1-5759e988-" + "f" * 24]}}
        return spans

    monkeypatch.setattr("tracekit.aws.fetch_xray", fetch_xray)
    out = tmp_path / "x.json"
    rc = main(["fetch-xray", "--start", "2026-11-20T09:00Z", "--end", "2026-11-20T10:00Z", "--no-progress",
               "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 1 and f"wrote {out}: 1,001 traces, 1,001 spans; 1 trace id asked but not returned by X-Ray" in err, err
    assert len(json.loads(out.read_text())["Traces"]) == n


def test_query_says_one_span_and_two_spans_as_its_head_does():
    # 'tracekit query' headed "2 traces, 3 spans matched" and then listed "trace …: 1 span(s) matched"
    from tracekit.cli_query import format_matches

    t0 = 1_772_460_000 * 10**9
    spans = tk.spans_from_columns({
        "trace_id": ["a" * 32, "a" * 32, "b" * 32], "span_id": ["1" * 16, "2" * 16, "3" * 16],
        "parent_id": [None, "1" * 16, None], "service": ["web", "db", "web"], "name": ["GET /", "q", "GET /"],
        "kind": ["server", "client", "server"], "start": [t0, t0 + 10**6, t0], "end": [t0 + 5 * 10**6] * 3})
    text = format_matches(spans, spans, limit=0)
    assert text.splitlines()[0] == "2 traces, 3 spans matched (of 2 traces, 3 spans)"
    assert f"trace {'a' * 32}: 2 spans matched;" in text and f"trace {'b' * 32}: 1 span matched;" in text
    assert "(s)" not in text


@pytest.mark.parametrize(("args", "said"), [
    (["--start", "bogus", "--end", "2026-11-20T10:00Z"], "--start='bogus' is not a time"),
    (["--start", "2026-11-20T09:00Z", "--end", "soon"], "--end='soon' is not a time"),
    (["--start", "2026-11-20T10:00Z", "--end", "2026-11-20T09:00Z"],
     "--end (2026-11-20T09:00:00+00:00) must be after --start (2026-11-20T10:00:00+00:00)"),
    (["--start", "2026-11-20T09:00Z", "--end", "2026-11-20T10:00Z", "--window", "0s"], "--window must be positive"),
])
def test_fetch_xray_names_the_flag_a_bad_time_was_given_to(args, said, monkeypatch, tmp_path, capsys):
    # it said "start='bogus' is not a time", "end (…) must be after start (…)", "window must be positive": the
    # Python parameters' names, not the flags the user typed; checked before any request (fetch_xray never called)
    def fetch_xray(*a, **k):
        raise AssertionError("X-Ray was asked before the arguments were checked")

    monkeypatch.setattr("tracekit.aws.fetch_xray", fetch_xray)
    rc = main(["fetch-xray", *args, "--no-progress", "-o", str(tmp_path / "x.json")])
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith(f"tracekit fetch-xray: error: {said}") and err.count("\n") == 1, err


def test_the_commands_count_skipped_and_ignored_inputs_in_words(tmp_path, capsys):
    # 'tracekit summary' said "ignored 1 file(s) of the input that are not trace data" and "skipped 2 bad record(s)"
    import gzip

    d = tmp_path / "traces"
    d.mkdir()
    lines = gzip.open(tk.examples.path("checkout-small-otlp"), "rt").read().splitlines()
    (d / "spans.jsonl").write_text("\n".join(lines[:1] + ["{not json", "{nor this"] + lines[1:]) + "\n")
    (d / "LICENSE.txt").write_text("MIT License\n")
    assert main(["summary", "--lenient", str(d)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert f"tracekit summary: ignored 1 file of the input that is not trace data: {d / 'LICENSE.txt'}" in err, err
    assert any(e.startswith(f"tracekit summary: skipped 2 bad records of the input; first: {d / 'spans.jsonl'}, line 2")
               for e in err), err
    (d / "NOTICE.txt").write_text("Apache\n")
    assert main(["summary", "--lenient", str(d)]) == 0
    assert "ignored 2 files of the input that are not trace data: " in capsys.readouterr().err
