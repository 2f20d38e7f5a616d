"""A fresh user following the docs (s34, reader): the command line's answers to wrong input, its --help texts, and
the numbers the README, docs/ and notebooks print, each checked against what the code computes."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
from pathlib import Path

import pandas as pd
import pytest

import tracekit as tk
from tracekit.cli import build_parser, main

from .conftest import REPO, read_dataset

SMALL = str(tk.examples.path("checkout-small"))


def _closed_pipe():
    """A text stream on a pipe whose reader has gone away (as `tracekit … | head` leaves it after head exits)."""
    r, w = os.pipe()
    os.close(r)
    return os.fdopen(w, "w")


@pytest.mark.parametrize("argv", [["summary", SMALL], ["query", SMALL, "{ }", "--limit", "0"]],
                         ids=["summary (held in the buffer)", "query (76 KB, written at once)"])
def test_a_reader_that_went_away_is_not_an_error(argv, monkeypatch, capsys):
    # BrokenPipeError is an OSError: main's `except OSError` caught it first and said "error: Broken pipe", status 1
    # (`tracekit query DATA '{ }' --limit 0 | head -2`); output still in the buffer failed at exit instead
    # ("Exception ignored … BrokenPipeError", status 120)
    out = _closed_pipe()
    monkeypatch.setattr("sys.stdout", out)
    try:
        code = main(argv)
        out.flush()  # what the interpreter does at exit: nothing left to fail on
    finally:
        try:
            out.close()
        except BrokenPipeError:
            pass
    assert code == 0
    assert capsys.readouterr().err == ""


def _no_reading(monkeypatch):
    """Make any read of trace files fail the test: what is checked must be checked before anything is read."""
    def read(*a, **k):
        raise AssertionError("trace files were read before the arguments were checked")

    monkeypatch.setattr("tracekit.io.sniff.read", read)


@pytest.mark.parametrize("option", ["--baseline", "--logs", "--metrics"])
def test_report_says_a_missing_path_of_any_option_before_reading(option, tmp_path, monkeypatch, capsys):
    # a mistyped --baseline was found only after the incident had been read (minutes on a large store)
    _no_reading(monkeypatch)
    missing = tmp_path / "typo"
    code = main(["report", SMALL, option, str(missing), "-o", str(tmp_path / "r.html"), "--no-progress"])
    assert code == 1
    assert capsys.readouterr().err == f"tracekit report: error: no such file or directory: {missing} ({option})\n"


def test_report_refuses_a_negative_worst_by_its_flag_before_reading(tmp_path, monkeypatch, capsys):
    # it was refused after reading and analysing, as "collect_report: worst must be a whole number >= 0"
    _no_reading(monkeypatch)
    code = main(["report", SMALL, "--worst", "-1", "-o", str(tmp_path / "r.html"), "--no-progress"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("tracekit report: error: --worst must be 0") and err.rstrip().endswith("got -1")


@pytest.mark.parametrize("step, says", [("banana", "--step must be a duration"), ("0s", "--step must be positive")])
def test_query_refuses_a_bad_step_by_its_flag_before_reading(step, says, monkeypatch, capsys):
    # it was refused after every file had been read, as "traceql_metrics: step …"
    _no_reading(monkeypatch)
    assert main(["query", SMALL, "{ } | rate()", "--step", step]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"tracekit query: error: {says}") and repr(step) in err


@pytest.mark.parametrize("flag, value", [("--max-traces", "-5"), ("--max-workers", "0")])
def test_fetch_xray_names_a_bad_count_by_its_flag(flag, value, tmp_path, capsys):
    pytest.importorskip("boto3")
    # it said "max_traces must be >= 0" / "max_workers must be >= 1": fetch_xray's parameter, not the flag typed
    code = main(["fetch-xray", "--start", "2026-11-20T09:00Z", "--end", "2026-11-20T10:00Z", flag, value,
                 "-o", str(tmp_path / "t.json"), "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9",
                 "--no-progress"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith(f"tracekit fetch-xray: error: {flag} must be") and err.rstrip().endswith(f"got {value}")


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_option_of_every_command_says_what_it_does():
    # fetch-xray's --time-range-type, --max-traces, --region and --profile had no help text at all
    silent = [f"{command} {a.option_strings[-1]}" for command, parser in _subcommands().items() for a in parser._actions
              if a.option_strings and not isinstance(a, argparse._HelpAction) and not (a.help or "").strip()]
    assert silent == []


def test_fetch_xray_help_gives_the_format_of_each_time_and_duration():
    # --end said only "end of the time range", --window "longest time window per GetTraceSummaries query (default 6h)"
    helps = {a.option_strings[0]: a.help for a in _subcommands()["fetch-xray"]._actions if a.option_strings}
    for flag, says in (("--start", "ISO 8601"), ("--end", "ISO 8601"), ("--window", "6h, 90min")):
        assert says in helps[flag], (flag, helps[flag])
    step = next(a.help for a in _subcommands()["query"]._actions if "--step" in a.option_strings)
    assert "30s, 1min" in step  # it said "bucket width of a metrics query (default 1min)": no format


def test_benchmarks_report_row_counts_the_spans_of_the_readme_command():
    # the row timing the README's first command said "29,596 + 24,443 X-Ray spans": the baseline holds 29,596
    row = next(line for line in (REPO / "docs" / "benchmarks.md").read_text().splitlines() if "bench_report_cli" in line)
    m = re.search(r"([\d,]+) \+ ([\d,]+) X-Ray spans", row)
    assert m, row
    said = tuple(int(g.replace(",", "")) for g in m.groups())
    assert said == (len(read_dataset("checkout-incident")), len(read_dataset("checkout-baseline")))


# ---- the notebooks and the guide: a number in prose is the one the code computes ----------------------------
def _cell_output(name: str, marker: str) -> str:
    import nbformat

    nb = nbformat.read(REPO / "notebooks" / f"{name}.ipynb", as_version=4)
    hits = ["".join(o.get("text", "") if o.output_type == "stream" else o.get("data", {}).get("text/plain", "")
                    for o in c.get("outputs", []))
            for c in nb.cells if c.cell_type == "code" and marker in c.source]
    assert len(hits) == 1, (name, marker)
    return hits[0]


@pytest.mark.parametrize("name, dataset", [("01-postmortem", "checkout-incident"),
                                           ("02-exploratory-performance", "deploy-regression")])
def test_notebook_p_values_are_the_ones_detect_changes_computed(name, dataset):
    # the sentences said "p = 0.002" (f"{p:.3f}") and the table beside them 0.002 (.round(3)) for p 0.0025, the
    # smallest p 400 permutations of Holm's family can give: a fifth below what was computed
    p = tk.detect_changes(read_dataset(dataset), by="service")["p_value"].to_numpy(dtype=float)
    text = _cell_output(name, "changes = tk.detect_changes(spans, by=BY)")
    # "p = 0.012", or at the shuffles' floor "p ≤ 0.0025: none of … shuffles reached it" (core.p_value_text)
    # and "p < 0.001" below that (session 44: 5x the shuffles took deploy-regression's p below 0.001)
    said = re.findall(r"p ([=≤<]) ([\d.e-]+?)[.;:]?(?:\s|$)", text)
    assert len(said) == len(p) > 0, text
    for (op, s), q in zip(said, p, strict=True):
        if op == "<":
            assert q < float(s), (s, q)
        else:
            assert abs(float(s) - q) <= 0.05 * q, (s, q)  # two significant digits of the computed value
    if name == "01-postmortem":  # the table beside the sentences
        last = text.split("p_value", 1)[1]  # the table's last columns, wrapped: requests_affected, p_value
        table = [float(x) for x in re.findall(r"^\d+\s+[\d.]+\s+([\d.e-]+)\s*$", last, re.M)]
        assert len(table) == len(p) and all(abs(s - q) <= 0.05 * q for s, q in zip(table, p, strict=True)), text


@contextlib.contextmanager
def _plotly_renderer_kept():
    """Run a notebook cell that sets plotly's default renderer, and put the test process's back after it."""
    import plotly.io as pio

    before = pio.renderers.default
    try:
        yield
    finally:
        pio.renderers.default = before


def test_notebook_01_counts_requests_not_traces():
    # requests_of() kept every row of trace_summary, one per trace: on datasets/broken-context (541 traces, of which
    # 41 are the callee's half of a request whose context was dropped: 500 requests) the first sentence said
    # "Data: 541 requests … baseline: 541 requests."
    import importlib.util
    import io

    spec = importlib.util.spec_from_file_location("build_notebooks", REPO / "notebooks" / "build_notebooks.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    code = [c["source"] for c in builder.NOTEBOOKS["01-postmortem"]["cells"] if c["cell_type"] == "code"]
    where = str(REPO / "datasets" / "broken-context")
    setup = code[0].replace('"../datasets/checkout-incident"', repr(where)).replace('"../datasets/checkout-baseline"',
                                                                                     repr(where))
    assert setup != code[0]
    requests = tk.trace_summary(read_dataset("broken-context"))
    n_req, n_traces = int(requests["request"].sum()), len(requests)
    assert n_req < n_traces  # the dataset's dropped contexts: a trace that is no request of its own
    ns: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out), _plotly_renderer_kept():  # the cell sets plotly's renderer
        exec(setup, ns)
        exec(code[1], ns)
    said = out.getvalue()
    assert said.startswith(f"Data: {n_req:,} requests ({n_traces:,} traces, {n_traces - n_req:,} of them not a request")
    assert f"baseline: {n_req:,} requests." in said


@pytest.mark.slow  # a postmortem of the bundled incident (~8 s)
def test_guide_quotes_the_postmortem_without_a_baseline():
    # the guide said "the baseline being the hour before the onset": it is the 27 minutes before it (14:00-14:27),
    # less the last (session 48: the bucket before the onset may hold the change's first requests)
    text = " ".join((REPO / "docs" / "guide.md").read_text().split())
    m = re.search(r"without it the same sentences, the baseline being the (\d+) minutes before the onset less the last, "
                  r"(\d\d):(\d\d)–(\d\d):(\d\d) UTC, ([\d,]+) traces, \"not the (\d+) traces of the 1 min before the "
                  r"change\": (\d+) baseline requests, ([\d.]+ ms → [\d.]+ ms)\)", text)
    assert m, "the guide no longer quotes the postmortem without a baseline"
    minutes, h0, m0, h1, m1, n_traces, n_guard, n_req, went = m.groups()
    # the period is said to its last minute (14:00–14:25), then the minute left out (14:26), then the onset (14:27)
    assert int(minutes) == (int(h1) * 60 + int(m1)) - (int(h0) * 60 + int(m0)) + 2
    pm = tk.postmortem(read_dataset("checkout-incident"))
    found = pm.table.groupby("topic", sort=False)["finding"].agg(" ".join)  # "sure" has several findings
    assert (f"({h0}:{m0}–{h1}:{m1} UTC, {n_traces} traces; not the {n_guard} traces of the 1 min before the change, "
            "which may hold its first requests)") in found["sure"]
    onset = (pd.Timestamp(f"2026-03-02T{h1}:{m1}Z") + pd.Timedelta(minutes=2)).strftime("%H:%M")
    assert f"It started at {onset} UTC" in found["when"]
    assert f"went {went} per request" in found["where"] and f"and {n_req} baseline requests" in found["where"]


def test_convert_says_sizes_in_a_unit_they_reach(tmp_path, capsys):
    # a 45 KB input was said as "0.1 MB (164.3% of the inputs' 0.0 MB)": a share of nothing
    out = tmp_path / "s.parquet"
    assert main(["convert", SMALL, str(out), "--no-progress"]) == 0
    said = capsys.readouterr().out
    m = re.search(r"([\d,.]+) (bytes|KB|MB|GB) \(([\d.]+)% of the inputs' ([\d,.]+) (bytes|KB|MB|GB)\)", said)
    assert m, said
    unit = {"bytes": 1, "KB": 2**10, "MB": 2**20, "GB": 2**30}
    size, share, insize = (float(m[1].replace(",", "")) * unit[m[2]], float(m[3]),
                           float(m[4].replace(",", "")) * unit[m[5]])
    real_out, real_in = out.stat().st_size, os.path.getsize(SMALL)
    assert abs(size - real_out) <= 0.05 * real_out and abs(insize - real_in) <= 0.05 * real_in, said
    assert abs(share - 100 * real_out / real_in) < 0.1, said


@pytest.mark.parametrize("module", ["tracekit.dask", "tracekit.examples"])
def test_the_documented_namespaces_have_numpydoc_sections(module):
    # tests/test_docstrings.py checks the tk.* exports only: tk.dask (analyses-at-scale.md, the guide's scale-out row)
    # had none of its 15 functions with Parameters/Returns/Examples sections and split_traces and read_parquet no
    # example at all; tk.examples' path, load and truth (the README's Data section) had neither
    import importlib
    import inspect

    from .test_docstrings import missing_sections

    if module == "tracekit.dask":
        pytest.importorskip("dask")
    mod = importlib.import_module(module)
    lacking = {n: sorted(missing_sections(getattr(mod, n))) for n in mod.__all__
               if inspect.isfunction(getattr(mod, n)) and missing_sections(getattr(mod, n))}
    no_example = [n for n in mod.__all__ if inspect.isfunction(getattr(mod, n))
                  and ">>>" not in (inspect.getdoc(getattr(mod, n)) or "").split("Examples\n--------", 1)[-1]]
    assert lacking == {} and no_example == []


def test_every_option_with_a_default_says_it():
    # report --worst said "number of slowest traces to show as waterfalls", not that it shows 3 unless told
    unsaid = [f"{command} {a.option_strings[-1]}={a.default!r}" for command, parser in _subcommands().items()
              for a in parser._actions if a.option_strings and a.default not in (None, False, True, argparse.SUPPRESS)
              and "default" not in (a.help or "")]
    assert unsaid == []


def test_the_guide_names_the_iam_actions_of_every_aws_function():
    # the IAM table listed the X-Ray functions only: tk.fetch_logs (FilterLogEvents) and tk.fetch_metrics
    # (GetMetricData) call AWS too, and a user setting up a role had nothing to go by
    text = (REPO / "docs" / "guide.md").read_text()
    table = text.split("| function | IAM actions |", 1)[1].split("\n\n", 1)[0]
    rows = {name for line in table.splitlines()[2:] for name in re.findall(r"`(\w+)`", line.split("|")[1])}
    aws = {n for n in tk.__all__ if n.startswith("fetch_") or n.endswith("_audit")}
    assert aws <= rows, sorted(aws - rows)
    assert "`logs:FilterLogEvents`" in table and "`cloudwatch:GetMetricData`" in table


def test_a_bad_file_among_good_ones_says_the_rest_can_be_read(tmp_path, capsys):
    # "error: d/bad.json: not JSON: …" named the file and what was wrong, not that --errors skip reads the other files
    import shutil

    d = tmp_path / "d"
    d.mkdir()
    shutil.copy(SMALL, d / "good.json.gz")
    (d / "bad.json").write_text("garbage")
    assert main(["summary", str(d)]) == 1
    err = capsys.readouterr().err
    assert "bad.json: not JSON" in err and err.rstrip().endswith("(--errors skip reads the rest and lists what it skipped)")
    assert main(["summary", str(d), "--errors", "skip"]) == 0  # and it does: the hint is true
    assert capsys.readouterr().out.startswith("traces: 40 ")
    # where nothing else is there to read, no hint: skipping would not help
    empty = tmp_path / "empty.json"
    empty.write_text('{"resourceSpans": []}')
    assert main(["summary", str(empty)]) == 1
    assert "--errors skip" not in capsys.readouterr().err
    assert main(["summary", str(empty), "--errors", "skip"]) == 1


def _bench_runner(monkeypatch):
    """benchmarks/run.py as a module, with the benchmarks it would start recorded instead of run."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_run", REPO / "benchmarks" / "run.py")
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    started: list = []
    monkeypatch.setattr(run.subprocess, "call", lambda cmd, *a, **k: started.append(cmd) or 0)
    return run, started


def test_benchmarks_run_refuses_a_name_that_picks_none(monkeypatch, capsys):
    # README: "a name (e.g. read_otlp) picks one"; a mistyped one ran nothing, printed nothing and exited 0
    run, started = _bench_runner(monkeypatch)
    assert run.main(["read_otlpp", "--quick"]) == 2 and started == []
    err = capsys.readouterr().err
    assert "'read_otlpp'" in err and "read_otlp" in err.split("the benchmarks:", 1)[1]
    assert run.main(["read_otlp", "--quick"]) == 0 and [Path(c[1]).stem for c in started] == ["bench_read_otlp"]


def test_benchmarks_run_help_is_its_own(monkeypatch, capsys):
    # --help was passed to every one of the 27 benchmarks in turn (27 usages, the first one bench_analyses')
    run, started = _bench_runner(monkeypatch)
    assert run.main(["--help"]) == 0 and started == []
    out = capsys.readouterr().out
    assert out.startswith("Run every benchmark") and "read_otlp" in out


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null")
def test_a_device_is_refused_without_a_false_reason(capsys):
    # `tracekit summary /dev/stdin < /dev/null` said "a character device (reading it would not end)": reading
    # /dev/null ends at once; only some devices (/dev/zero) never stop
    assert main(["summary", "/dev/null"]) == 1
    err = capsys.readouterr().err
    assert "/dev/null: not a file of trace data: a character device" in err
    assert "would not end" not in err and "give a regular file or a pipe" in err


def test_convert_says_an_output_folder_that_is_not_there_before_reading(tmp_path, monkeypatch, capsys):
    # 'tracekit convert DATA /nonexistent/dir/out.parquet' read every input, then failed in write_parquet
    _no_reading(monkeypatch)
    out = tmp_path / "no-such-folder" / "s.parquet"
    assert main(["convert", SMALL, str(out), "--no-progress"]) == 1
    assert capsys.readouterr().err == (f"tracekit convert: error: cannot write {out}: its directory {out.parent} "
                                       "does not exist\n")


def test_summary_of_sampled_traces_says_so_and_gives_the_corrected_numbers():
    # datasets/sampled-errors: head sampling kept 1,075 of 3,000 requests (checkout 1 in 16) with each trace's ot=th
    # threshold; `tracekit summary` printed the sampled traces' failed share and p95 (0.09 %, 91.3 ms) and nothing
    # said they were sampled, where tk.weighted_summary corrects them (about 2,962 requests, 0.54 %, 195.7 ms)
    import json

    from tracekit.cli import format_summary

    spans = read_dataset("sampled-errors")
    truth = json.loads((REPO / "datasets" / "truth" / "sampled-errors.json").read_text())
    lines = format_summary(spans).splitlines()
    said = [x for x in lines if x.startswith("sampled: ")]
    assert len(said) == 1, lines
    w = tk.sampling_weights(spans)
    r = tk.weighted_summary(spans, w, n_boot=0).iloc[0]
    m = re.search(r"sampled: ([\d,]+) of ([\d,]+) traces .* about ([\d,]+) requests, failed requests ([\d.]+)%, "
                  r"request latency ms p50 ([\d.]+)  p95 ([\d.]+)  p99 ([\d.]+)$", said[0])
    assert m, said[0]
    n_known, n, est, failed, p50, p95, p99 = (float(g.replace(",", "")) for g in m.groups())
    assert n_known == n == truth["n_sampled"] == spans["trace_id"].nunique()
    assert est == round(r["est_requests"]) and abs(est - truth["n_population"]) <= 0.05 * truth["n_population"]
    assert failed == round(100 * r["error_rate"], 2)
    assert (p50, p95, p99) == tuple(round(float(r[c]), 1) for c in ("p50_ms", "p95_ms", "p99_ms"))
    # the data with no sampling probability (every bundled X-Ray set) gets no such line
    assert not any(x.startswith("sampled: ") for x in format_summary(tk.examples.load("checkout-small")).splitlines())


def test_notebook_02_counts_requests_not_traces():
    # its first cell printed len(tk.trace_summary(spans)) as requests: on datasets/broken-context "541 requests", of
    # which 41 are the callee's half of a request whose context was dropped (500 requests)
    import importlib.util
    import io

    spec = importlib.util.spec_from_file_location("build_notebooks", REPO / "notebooks" / "build_notebooks.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    setup = next(c["source"] for c in builder.NOTEBOOKS["02-exploratory-performance"]["cells"]
                 if c["cell_type"] == "code")
    where = str(REPO / "datasets" / "broken-context")
    code = setup.replace('"../datasets/deploy-regression"', repr(where)).replace('"../datasets/cold-starts"', "None")
    assert code != setup
    n_req = int(tk.trace_summary(read_dataset("broken-context"))["request"].sum())
    out = io.StringIO()
    with contextlib.redirect_stdout(out), _plotly_renderer_kept():
        exec(code, {})
    assert out.getvalue().startswith(f"{n_req:,} requests, ")
