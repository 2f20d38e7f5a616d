"""The `tracekit` command: exit codes and one-line messages, run as a real process like a user would."""

from __future__ import annotations

import subprocess
import sys

import pytest

import tracekit as tk

from .conftest import REPO


def run(*args: str, cwd=REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracekit", *args], capture_output=True, text=True, cwd=cwd, timeout=600)


def test_summary_of_a_bundled_dataset_prints_its_numbers():
    r = run("summary", str(tk.examples.path("checkout-small")))
    assert r.returncode == 0, r.stderr
    spans = tk.examples.load("checkout-small")
    first = r.stdout.splitlines()[0]
    assert first == f"traces: {spans['trace_id'].nunique()}  spans: {len(spans)}  services: {spans['service'].nunique()}"
    p95 = tk.trace_summary(spans)["duration_ms"].quantile(0.95)
    assert f"p95 {p95:.1f}" in r.stdout


@pytest.mark.parametrize("command", [[], ["summary"], ["report"], ["fetch-xray"]])
def test_help_for_each_command(command):
    r = run(*command, "--help")
    assert r.returncode == 0 and "usage: tracekit" in r.stdout


def test_missing_file_is_one_line_and_exit_1(tmp_path):
    r = run("summary", str(tmp_path / "nope.json"))
    assert r.returncode == 1
    assert r.stderr.strip().count("\n") == 0 and "nope.json" in r.stderr and "Traceback" not in r.stderr


def test_wrong_format_names_the_file(tmp_path):
    bad = tmp_path / "metrics.json"
    bad.write_text('{"resourceMetrics": []}')
    r = run("summary", str(bad))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "metrics.json" in r.stderr and "unknown trace format" in r.stderr


def test_not_json_and_truncated_inputs(tmp_path):
    (tmp_path / "a.json").write_text("hello")
    r = run("summary", str(tmp_path / "a.json"))
    assert r.returncode == 1 and "not JSON" in r.stderr
    (tmp_path / "b.json").write_text('{"Traces": [{"Id": "1-5759e988-bd862e3fe1be46a994272793", "Segments": [')
    r = run("summary", str(tmp_path / "b.json"))
    assert r.returncode == 1 and "truncated" in r.stderr


def test_empty_input_is_an_error_for_report(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text('{"resourceSpans": []}')
    r = run("report", str(empty), "-o", str(tmp_path / "r.html"), "--no-progress")
    assert r.returncode == 1 and "no spans" in r.stderr
    assert not (tmp_path / "r.html").exists()


def test_bad_usage_exits_2():
    r = run("report")
    assert r.returncode == 2 and "usage" in r.stderr


def test_report_command_writes_the_page_and_redacts(tmp_path):
    out = tmp_path / "r.html"
    r = run("report", str(tk.examples.path("checkout-small")), "-o", str(out), "--title", "T <1>",
            "--redact", "http.request.client_ip", "--redact", "annotation.*")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"wrote {out}"
    assert "reading" in r.stderr  # progress on stderr
    html = out.read_text()
    assert "<title>T &lt;1&gt;</title>" in html
    spans = tk.examples.load("checkout-small")
    ips = {a["http.request.client_ip"] for a in spans["attributes"] if "http.request.client_ip" in a}
    assert len(ips) > 5 and not any(f'"{ip}"' in html or f">{ip}<" in html for ip in ips)


def test_output_piped_into_a_closed_reader_is_not_a_traceback():
    p = subprocess.run(f"{sys.executable} -m tracekit summary {tk.examples.path('checkout-small')} | head -1",
                       shell=True, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert p.stdout.startswith("traces: ") and "Traceback" not in p.stderr


def test_output_under_a_file_is_one_line_not_a_traceback(tmp_path):
    # -o below a regular file raised NotADirectoryError, which main() did not catch
    (tmp_path / "afile").write_text("x")
    r = run("report", str(tk.examples.path("checkout-small")), "-o", str(tmp_path / "afile" / "r.html"), "--no-progress")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and "afile" in r.stderr


def test_summary_error_rate_counts_faults_as_health_report_does():
    # an OTLP 5xx span keeps status 'unset' (fault=True): the summary said 0% while
    # health_report's error_trace_ratio (status error or fault) said 50%
    from tracekit.cli import format_summary

    spans = tk.spans_from_columns({
        "trace_id": ["0" * 31 + "1", "0" * 31 + "2"], "span_id": ["a" * 16, "b" * 16], "service": ["api"] * 2,
        "name": ["GET /"] * 2, "start": [0, 0], "end": [1, 1], "http_status": [503, 200], "fault": [True, False]})
    ratio = tk.health_report(spans, checks=["error_trace_ratio"])["value"].iloc[0]
    assert ratio == 0.5
    assert "error rate (traces with a failed span): 50.00%" in format_summary(spans)
