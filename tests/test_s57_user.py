"""Session 57: what a new user's first session found (a fresh-eyes helper following the README, the CLI and the
live path; /tmp/tk/s57/user/findings.md).

- ``report -o X.html`` wrote its key findings over ``X.md`` even when ``X.md`` was the input being read, and over a
  hand-written ``X.md``;
- an output directory that refuses files was found after the whole analysis when run as root (``os.access`` says
  yes to root), in an error naming a hidden ``.tmp`` file;
- a frame of ``fetch_xray`` could not be stored by ``write_parquet`` (tested in test_xray_live's stubbed fetch);
- a fetch whose every id X-Ray leaves unprocessed raised "malformed: Traces is empty" where the docs promise a
  NotFetchedWarning and an empty frame.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

import tracekit as tk
from tracekit.cli import check_output

DATA = Path(__file__).resolve().parents[1] / "datasets"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracekit", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_an_html_report_never_writes_its_findings_over_its_input(tmp_path):
    tk.write_otlp(tk.read(DATA / "checkout-incident"), tmp_path / "traces.md")  # a trace file given by its name
    before = (tmp_path / "traces.md").read_bytes()
    r = _cli("report", "traces.md", "-o", "traces.html", cwd=tmp_path)
    assert r.returncode == 1 and "refusing to write the report's key findings over the input traces.md" in r.stderr
    assert (tmp_path / "traces.md").read_bytes() == before and not (tmp_path / "traces.html").exists()


def test_a_hand_written_md_beside_the_page_is_not_overwritten(tmp_path):
    (tmp_path / "postmortem.md").write_text("# my notes\n")
    with pytest.raises(tk.ArgumentError, match=r"refusing to overwrite .*postmortem\.md: .*without postmortem\.html"):
        check_output(str(tmp_path / "postmortem.html"), [str(DATA / "checkout-incident")])
    assert (tmp_path / "postmortem.md").read_text() == "# my notes\n"
    # an earlier report's pair (both there) is rewritten; a .md output alone is the file asked for
    (tmp_path / "postmortem.html").write_text("<!DOCTYPE html>")
    assert check_output(str(tmp_path / "postmortem.html"), []) == tmp_path / "postmortem.html"
    assert check_output(str(tmp_path / "postmortem.md"), []) == tmp_path / "postmortem.md"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc, a directory no file can be made in")
def test_a_directory_that_refuses_files_is_said_before_any_work_even_to_root(tmp_path):
    with pytest.raises(tk.ArgumentError, match=r"^cannot write /proc/r\.html: its directory /proc is not writable"):
        check_output("/proc/r.html", [])
    assert not list(Path("/proc").glob(".tracekit-*"))
    # a writable one: the probe file is gone after the check
    check_output(str(tmp_path / "r.html"), [])
    assert sorted(os.listdir(tmp_path)) == []


def test_a_fetch_whose_every_id_stays_unprocessed_is_empty_and_warned(tmp_path):
    xid = "1-6b0d0d2d-000000000000000000000000"
    client = boto3.client("xray", region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    stub = Stubber(client)
    for _ in range(4):  # the first ask and three re-asks
        stub.add_response("batch_get_traces", {"Traces": [], "UnprocessedTraceIds": [xid]}, {"TraceIds": [xid]})
    slept: list[float] = []
    with stub, pytest.warns(UserWarning, match=r"1 of 1 trace asked were not fetched: 1 trace X-Ray still listed "
                                                r"unprocessed after 3 re-asks"):
        spans = tk.fetch_xray(trace_ids=[xid], client=client, progress=False, unprocessed_retries=3,
                              sleep=slept.append, cache_dir=tmp_path / "c")
    stub.assert_no_pending_responses()
    assert len(spans) == 0 and list(spans.columns) == list(tk.empty_spans().columns)
    assert spans.attrs["xray_fetch"]["got"]["unprocessed_ids"] == [xid] and len(slept) == 3


@pytest.mark.parametrize("call, func, bad", [
    (lambda s: tk.compare(s, s, by="operation", q=0.9), "compare", "q"),
    (lambda s: tk.compare(s, s, n=3, alpha=0.1), "compare", "n, alpha"),
    (lambda s: tk.workflow_critical_path(s, q=1), "workflow_critical_path", "q"),
])
def test_a_keyword_of_another_function_is_an_argument_error_naming_this_one(call, func, bad):
    """It was a TypeError naming critical_path() (README: a bad argument raises tk.ArgumentError)."""
    spans = tk.simulate.simulate("async-links", n_traces=5, seed=1).spans
    with pytest.raises(tk.ArgumentError, match=rf"^{func}: unknown arguments? {bad}; it takes "):
        call(spans)


def test_the_critical_path_settings_still_pass_through_compare():
    spans = tk.simulate.simulate("async-links", n_traces=8, seed=2).spans
    loop = tk.compare(spans, spans, engine="loop", across_links=True).table
    assert loop.equals(tk.compare(spans, spans, across_links=True).table)


def test_the_throttling_hint_of_fetch_xray_names_flags_the_command_has(capsys):
    """It said 'raise max_attempts', which `tracekit fetch-xray` had no option for."""
    from tracekit.cli import main

    from .test_s39_live import _stubbed_error

    hint = str(_stubbed_error("BatchGetTraces", "ThrottlingException")).split(" -- ", 1)[1]
    assert re.findall(r"--[a-z-]+", hint) == ["--max-workers", "--max-attempts"], hint
    assert "--max-attempts" not in str(_stubbed_error("FilterLogEvents", "ThrottlingException"))  # no command
    assert main(["fetch-xray", "--start", "2026-11-20T00:00Z", "--end", "2026-11-20T01:00Z", "-o", "x.json",
                 "--max-attempts", "-1"]) == 1
    assert "--max-attempts must be 0 or more, got -1" in capsys.readouterr().err


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc, a directory no file can be made in")
def test_fetch_xray_says_an_out_that_cannot_be_written_before_any_request(capsys):
    from tracekit.cli import main

    assert main(["fetch-xray", "--start", "2026-11-20T00:00Z", "--end", "2026-11-20T01:00Z", "-o", "/proc/x.json"]) == 1
    assert "cannot write --out '/proc/x.json': '/proc' is not writable" in capsys.readouterr().err
