"""The `tracekit` command: exit codes and one-line messages, run as a real process like a user would."""

from __future__ import annotations

import subprocess
import sys

import pytest

import tracekit as tk

from .conftest import REPO


def run(*args: str, cwd=REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracekit", *args], capture_output=True, text=True, cwd=cwd, timeout=600)


@pytest.mark.slow  # over 4 s in the fast lane on 2 loaded cores (issue 28)
def test_summary_of_a_bundled_dataset_prints_its_numbers():
    r = run("summary", str(tk.examples.path("checkout-small")))
    assert r.returncode == 0, r.stderr
    spans = tk.examples.load("checkout-small")
    first = r.stdout.splitlines()[0]
    assert first == f"traces: {spans['trace_id'].nunique():,}  spans: {len(spans):,}  services: {spans['service'].nunique()}"
    # request latency = the root span's duration (here: the one span without a parent per trace), p95 inverted_cdf
    import numpy as np

    roots = spans[spans["parent_id"].isna()]
    assert roots["trace_id"].is_unique and len(roots) == spans["trace_id"].nunique()
    p95 = np.quantile(roots["duration_ms"].to_numpy(dtype=float), 0.95, method="inverted_cdf")
    line = next(x for x in r.stdout.splitlines() if x.startswith("request latency ms"))
    assert f"p95 {p95:.1f}" in line


@pytest.mark.slow  # over 4 s in the fast lane on 2 loaded cores (issue 28)
@pytest.mark.parametrize("command", [[], ["summary"], ["report"], ["fetch-xray"]])
def test_help_for_each_command(command):
    r = run(*command, "--help")
    assert r.returncode == 0 and "usage: tracekit" in r.stdout


@pytest.mark.slow  # over 1.9 s in the fast lane at load 13 on 2 cores (issue 28)
def test_missing_file_is_one_line_and_exit_1(tmp_path):
    r = run("summary", str(tmp_path / "nope.json"))
    assert r.returncode == 1
    assert r.stderr.strip().count("\n") == 0 and "nope.json" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow  # over 4 s in the fast lane on 2 loaded cores (issue 28)
def test_wrong_format_names_the_file(tmp_path):
    bad = tmp_path / "metrics.json"
    bad.write_text('{"resourceMetrics": []}')
    r = run("summary", str(bad))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    # issue 17: OTLP metrics are named as such (was "unknown trace format")
    assert "metrics.json" in r.stderr and "no trace data" in r.stderr and "OTLP metrics" in r.stderr


@pytest.mark.slow  # over 4 s in the fast lane on 2 loaded cores (issue 28)
def test_not_json_and_truncated_inputs(tmp_path):
    (tmp_path / "a.json").write_text("hello")
    r = run("summary", str(tmp_path / "a.json"))
    assert r.returncode == 1 and "not JSON" in r.stderr
    (tmp_path / "b.json").write_text('{"Traces": [{"Id": "1-5759e988-bd862e3fe1be46a994272793", "Segments": [')
    r = run("summary", str(tmp_path / "b.json"))
    assert r.returncode == 1 and "truncated" in r.stderr


@pytest.mark.slow  # over 1.9 s in the fast lane at load 13 on 2 cores (issue 28)
def test_empty_input_is_an_error_for_report(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text('{"resourceSpans": []}')
    r = run("report", str(empty), "-o", str(tmp_path / "r.html"), "--no-progress")
    assert r.returncode == 1 and "no spans" in r.stderr
    assert not (tmp_path / "r.html").exists()


@pytest.mark.slow  # over 1.9 s in the fast lane at load 13 on 2 cores (issue 28)
def test_bad_usage_exits_2():
    r = run("report")
    assert r.returncode == 2 and "usage" in r.stderr


@pytest.mark.slow  # 2.2 s in the fast lane (2 loaded cores, issue 28)
def test_report_command_writes_the_page_and_redacts(tmp_path):
    out = tmp_path / "r.html"
    r = run("report", str(tk.examples.path("checkout-small")), "-o", str(out), "--title", "T <1>",
            "--redact", "http.request.client_ip", "--redact", "annotation.*")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"wrote {out} and {out.with_suffix('.md')}"
    assert "reading" in r.stderr  # progress on stderr
    html = out.read_text()
    assert "<title>T &lt;1&gt;</title>" in html
    spans = tk.examples.load("checkout-small")
    ips = {a["http.request.client_ip"] for a in spans["attributes"] if "http.request.client_ip" in a}
    assert len(ips) > 5 and not any(f'"{ip}"' in html or f">{ip}<" in html for ip in ips)


@pytest.mark.slow  # over 1.9 s in the fast lane at load 13 on 2 cores (issue 28)
def test_output_piped_into_a_closed_reader_is_not_a_traceback():
    p = subprocess.run(f"{sys.executable} -m tracekit summary {tk.examples.path('checkout-small')} | head -1",
                       shell=True, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert p.stdout.startswith("traces: ") and "Traceback" not in p.stderr


@pytest.mark.slow  # over 1.9 s in the fast lane at load 13 on 2 cores (issue 28)
def test_output_under_a_file_is_one_line_not_a_traceback(tmp_path):
    # -o below a regular file raised NotADirectoryError, which main() did not catch
    (tmp_path / "afile").write_text("x")
    r = run("report", str(tk.examples.path("checkout-small")), "-o", str(tmp_path / "afile" / "r.html"), "--no-progress")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and "afile" in r.stderr


def test_summary_failed_share_is_the_failed_request_share():
    # the four traces of issue 13: ok, a 404 (client error), a 503 with status unset (fault), status=error.
    # Failed = 5xx fault or status error that is not a 4xx: 2 of 4; the 404 is a client error, not a failure.
    from tracekit.cli import format_summary

    ms = 1_000_000
    spans = tk.spans_from_columns({
        "trace_id": [str(i) * 32 for i in range(1, 5)], "span_id": ["a" * 16] * 4, "parent_id": [None] * 4,
        "service": ["web"] * 4, "name": ["GET /"] * 4, "start": [0] * 4, "end": [10 * ms] * 4,
        "status": ["ok", "error", "unset", "error"], "http_status": [200, 404, 503, None],
        "error": [False, True, False, False], "fault": [False, False, True, False]})
    text = format_summary(spans)
    assert "failed requests (root span is a 5xx fault or status error; not a 4xx client error, a throttle, or an HTTP 5xx under an explicit status ok; of 4 requests): 50.00%  client errors (4xx): 25.00%" in text
    assert "throttled: 0.00%  traces with a failed span anywhere (of 4 traces): 50.00%" in text
    assert text.count("%") == 4
    # a request that succeeded after a failed internal call: not a failed request, but a trace with a failed span
    retried = tk.spans_from_columns({
        "trace_id": ["1" * 32] * 2, "span_id": ["a" * 16, "b" * 16], "parent_id": [None, "a" * 16],
        "service": ["web", "db"], "name": ["GET /", "query"], "start": [0, ms], "end": [10 * ms, 2 * ms],
        "status": ["ok", "error"]})
    text = format_summary(retried)
    assert "failed requests (root span is a 5xx fault or status error; not a 4xx client error, a throttle, or an HTTP 5xx under an explicit status ok; of 1 request): 0.00%" in text
    assert "traces with a failed span anywhere (of 1 trace): 100.00%" in text


def test_summary_latency_is_the_request_not_the_async_tail():
    # a 92 ms request whose SQS consumer ends at 1,150 ms: request latency 92, trace extent 1,150, each named
    from tracekit.cli import format_summary

    ms = 1_000_000
    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32] * 2, "span_id": ["a" * 16, "b" * 16], "parent_id": [None, "a" * 16],
        "service": ["web", "worker"], "name": ["GET /", "process"], "kind": ["server", "consumer"],
        "start": [0, 50 * ms], "end": [92 * ms, 1150 * ms]})
    lines = format_summary(spans).splitlines()
    req = next(x for x in lines if x.startswith("request latency ms"))
    ext = next(x for x in lines if x.startswith("trace extent ms"))
    assert req.endswith("p50 92.0  p95 92.0  p99 92.0")
    assert ext.endswith("p50 1150.0  p95 1150.0  p99 1150.0")


@pytest.mark.slow  # over 4 s in the fast lane on 2 loaded cores (issue 28)
@pytest.mark.parametrize("flag", [["--errors", "skip"], ["--lenient"]])
def test_errors_skip_and_its_alias_lenient_skip_bad_records(tmp_path, flag):
    from tracekit.cli import build_parser

    good = tk.examples.path("checkout-small")
    assert build_parser().parse_args(["summary", "x", *flag]).errors == "skip"
    assert build_parser().parse_args(["report", "x", *flag]).errors == "skip"
    assert build_parser().parse_args(["summary", "x"]).errors == "raise"
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert run("summary", str(good), str(bad)).returncode == 1
    r = run("summary", str(good), str(bad), *flag)
    assert r.returncode == 0, r.stderr
    # said once, on one line (README): stderr's, which every command says, not the summary's line as well
    assert "skipped 1 bad record of the input" in r.stderr and "bad.json" in r.stderr and "skipped" not in r.stdout


# ---- issue 16: the command behaves as a user expects ----------------------------------------------------
@pytest.mark.slow  # over 1.9 s in the fast lane at load 13 on 2 cores (issue 28)
def test_version():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"tracekit {tk.__version__}"


@pytest.mark.slow  # over 4 s in the fast lane on 2 loaded cores (issue 28)
def test_empty_input_exits_1_everywhere(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"resourceSpans": []}\n')
    for cmd in (["summary", str(empty)], ["report", str(empty), "-o", str(tmp_path / "r.html"), "--no-progress"]):
        r = run(*cmd)
        assert r.returncode == 1, (cmd, r.stdout, r.stderr)
        assert r.stderr.count("\n") == 1 and "error:" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "r.html").exists()


@pytest.mark.slow  # over 4 s in the fast lane on 2 loaded cores (issue 28)
def test_skipped_records_are_one_clear_line(tmp_path):
    import gzip

    lines = gzip.open(REPO / "datasets" / "bad-host" / "spans.jsonl.gz", "rt").read().splitlines()[:4]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines[:2] + ["{not json"] + lines[2:]) + "\n")
    r = run("summary", "--lenient", str(bad))
    assert r.returncode == 0
    assert r.stderr.splitlines() == [f"tracekit summary: skipped 1 bad record of the input; first: {bad}, line 3: "
                                     + r.stderr.split(", line 3: ", 1)[1].strip()]
    assert "Warning" not in r.stderr and "None" not in r.stderr
    # the same spans given twice (the file and a copy): read once, the copies said on one line
    (tmp_path / "again").mkdir()
    (tmp_path / "again" / "a.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "again" / "b.jsonl").write_text("\n".join(lines) + "\n")
    r = run("summary", str(tmp_path / "again"))
    assert r.returncode == 0, r.stderr
    n = len(tk.read(tmp_path / "again" / "a.jsonl"))
    assert r.stderr.splitlines() == [f"tracekit summary: dropped {n:,} exact copies of spans read more than once "
                                     "(equal in every field but the file and record they came from)"]


@pytest.mark.slow  # 3.5 s in the fast lane (2 loaded cores, issue 28)
def test_report_arguments_in_any_order_and_inputs_are_never_overwritten(tmp_path):
    small = str(tk.examples.path("checkout-small"))
    out = tmp_path / "r.html"
    # --baseline takes one path: the incident after it is not swallowed
    r = run("report", "--baseline", small, small, "-o", str(out), "--no-progress")
    assert r.returncode == 0, r.stderr
    assert out.exists() and out.with_suffix(".md").exists()
    before = (tmp_path / "in.json")
    before.write_bytes(tk.examples.path("checkout-small").read_bytes())
    digest = before.read_bytes()
    r = run("report", str(before), "-o", str(before))
    assert r.returncode == 1 and "refusing to write the report over the input" in r.stderr
    assert before.read_bytes() == digest
    r = run("report", small, "-o", str(tmp_path / "missing-dir" / "r.html"))
    assert r.returncode == 1 and "does not exist" in r.stderr and "reading" not in r.stderr  # checked before any work


@pytest.mark.slow  # over 4 s in the fast lane on 2 loaded cores (issue 28)
def test_directories_skip_files_that_are_not_trace_data(tmp_path):
    d = tmp_path / "traces"
    d.mkdir()
    (d / "spans.json").write_bytes(tk.examples.path("checkout-small").read_bytes())
    (d / "LICENSE.txt").write_text("MIT License\n")
    r = run("summary", str(d))
    assert r.returncode == 0, r.stderr
    assert f"ignored 1 file of the input that is not trace data: {d / 'LICENSE.txt'}" in r.stderr
    assert r.stdout.startswith("traces: 40")


@pytest.mark.slow  # over 4 s in the fast lane on 2 loaded cores (issue 28)
def test_control_characters_in_trace_data_do_not_reach_the_terminal(tmp_path):
    spans = tk.examples.load("checkout-small").copy()
    spans["service"] = spans["service"].astype(object).map(lambda s: s + "\x1b[2J\x07").astype(tk.schema.STRING)
    path = tk.write_otlp(spans, tmp_path / "evil.jsonl")
    r = run("summary", str(path))
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout and "\\x1b[2J\\x07" in r.stdout


@pytest.mark.slow  # over 4 s in the fast lane on 2 loaded cores (issue 28)
def test_non_trace_lines_of_a_collector_file_are_said_once(tmp_path):
    import gzip
    import json

    lines = gzip.open(REPO / "datasets" / "bad-host" / "spans.jsonl.gz", "rt").read().splitlines()[:2]
    f = tmp_path / "mixed.jsonl"
    f.write_text("\n".join([json.dumps({"resourceMetrics": []}), *lines, json.dumps({"resourceLogs": []})]) + "\n")
    r = run("summary", str(f))
    assert r.returncode == 0, r.stderr
    said = [x for x in r.stderr.splitlines() if "not trace data" in x]
    assert len(said) == 1 and said[0].startswith("tracekit summary: ignored 2 records of the input that are") and "line 1" in said[0]


@pytest.mark.slow  # 2.7 s in the fast lane (2 loaded cores, issue 28)
@pytest.mark.skipif(not __import__("os").path.exists("/dev/full"), reason="no /dev/full on this system")
def test_a_full_disk_is_one_line_and_exit_1():
    """Writing the report or the summary to a full device (ENOSPC) says so in one line, no traceback."""
    src = str(tk.examples.path("checkout-small"))
    r = run("report", src, "-o", "/dev/full", "--no-progress")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1] == "tracekit report: error: No space left on device"
    with open("/dev/full", "w") as full:
        s = subprocess.run([sys.executable, "-m", "tracekit", "summary", src], stdout=full, stderr=subprocess.PIPE,
                           text=True, cwd=REPO, timeout=600)
    assert s.returncode == 1 and "Traceback" not in s.stderr and "No space left on device" in s.stderr


# ---- issue 29: what the command writes and prints ------------------------------------------------------
def _bad_record_file(tmp_path):
    import gzip
    import json

    lines = gzip.open(REPO / "datasets" / "bad-host" / "spans.jsonl.gz", "rt").read().splitlines()[:3]
    d = json.loads(lines[0])
    d["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["kind"] = {"mail": "bob@example.org", "who": "Dave Smith"}
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([lines[1], json.dumps(d), lines[2]]) + "\n")
    return bad


@pytest.mark.parametrize("flags", [["--lenient"], []])
def test_redact_applies_to_what_the_command_prints(tmp_path, flags):
    bad = _bad_record_file(tmp_path)
    r = run("report", *flags, "--redact", "*", str(bad), "-o", str(tmp_path / "r.md"), "--no-progress")
    assert r.returncode == (0 if flags else 1), r.stderr
    assert "bob@example.org" not in r.stderr and "Dave Smith" not in r.stderr
    assert "spans[0]: kind must be a SpanKind (0-5), got hmac:" in r.stderr  # where and why stay readable
    plain = run("report", *flags, str(bad), "-o", str(tmp_path / "p.md"), "--no-progress")
    assert "bob@example.org" in plain.stderr  # no --redact: the reason as it is


def test_output_extension_decides_what_is_written(tmp_path):
    src = str(tk.examples.path("checkout-small"))
    md = tmp_path / "out.md"
    r = run("report", src, "-o", str(md), "--no-progress", "--title", "p < 0.001 & <b>x</b>")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"wrote {md}"  # was "wrote out.md and out.md", and the file held HTML
    text = md.read_text()
    assert text.startswith("# p < 0.001 & \\<b>x\\</b>\n") and "<!DOCTYPE" not in text
    assert "&lt;" not in text and "&amp;" not in text and "&gt;" not in text
    assert not (tmp_path / "out.html").exists()
    pdf = tmp_path / "r.pdf"
    r = run("report", src, "-o", str(pdf), "--no-progress")
    assert r.returncode == 1 and not pdf.exists()
    assert r.stderr.strip() == (f"tracekit report: error: cannot write {pdf}: a report is .html (the page, with its key "
                                "findings beside it as .md) or .md (the key findings as Markdown), not .pdf")
