"""A fresh user following the docs (s34, reader): the command line's answers to wrong input, its --help texts, and
the numbers the README, docs/ and notebooks print, each checked against what the code computes."""

from __future__ import annotations

import argparse
import os
import re

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


def test_benchmarks_report_row_counts_the_spans_of_the_readme_command():
    # the row timing the README's first command said "29,596 + 24,443 X-Ray spans": the baseline holds 29,596
    row = next(line for line in (REPO / "docs" / "benchmarks.md").read_text().splitlines() if "bench_report_cli" in line)
    m = re.search(r"([\d,]+) \+ ([\d,]+) X-Ray spans", row)
    assert m, row
    said = tuple(int(g.replace(",", "")) for g in m.groups())
    assert said == (len(read_dataset("checkout-incident")), len(read_dataset("checkout-baseline")))
