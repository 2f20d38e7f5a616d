"""One concept, one definition (session 37, "onedef"): every sentence that tells a user what "failed" means says
core.outcomes' rule (an explicit status ok is final over an HTTP 5xx) from :data:`tracekit.core.FAILED_WORDS`;
every duration said in words goes through one kernel (:func:`tracekit.core.words.ms_text`) and keeps its digits
below a millisecond; every CLI command escapes a hostile name with one escaper; and the postmortem's docstring
names every finding it puts first."""

from __future__ import annotations

import pandas as pd
import pytest

import tracekit as tk

MS = 1_000_000


# ---- 3. "failed" said with OpenTelemetry's exception, from one place ------------------------------------------------
@pytest.fixture(scope="module")
def ok_over_500() -> pd.DataFrame:
    """Two requests, both HTTP 500: one with status ok (not failed, OTel), one with status unset (failed)."""
    return tk.spans_from_columns({
        "trace_id": ["1" * 32, "2" * 32], "span_id": ["a" * 16] * 2, "service": ["web"] * 2, "name": ["GET /"] * 2,
        "start": [0, 0], "end": [10 * MS] * 2, "status": ["ok", "unset"], "http_status": [500, 500]})


def test_every_definition_of_failed_says_an_explicit_ok_is_final_over_a_5xx(ok_over_500):
    """core.failed counts 1 of these 2 HTTP 500 requests (the ok one did not fail), yet the CLI summary, health's
    findings and the trace tables' definitions said failed is "5xx or status error", with no exception: 50% read as
    a contradiction of the words beside it. Each now says the exception, in the words of core.FAILED_WORDS."""
    from tracekit.analysis.health import span_error_rate_words
    from tracekit.core import FAILED_WORDS, TRACE_OUTCOME_COLUMNS
    from tracekit.reporting import HEADLINE_TABLE
    from tracekit.widgets import TRACE_TABLE

    assert tk.core.failed(ok_over_500).tolist() == [False, True]
    assert "explicit status ok" in FAILED_WORDS
    texts = {
        "format_summary": tk.format_summary(ok_over_500),
        "failed_request_ratio": tk.health_report(ok_over_500).set_index("check").loc["failed_request_ratio",
                                                                                      "explanation"],
        "span_error_rate": span_error_rate_words("web", 2, 0.5),
        "trace_outcomes failed": {c[0]: c[3] for c in TRACE_OUTCOME_COLUMNS}["failed"],
        "headline failed_share": {c.name: c.meaning for c in HEADLINE_TABLE.columns}["failed_share"],
        "trace table failed": {c.name: c.meaning for c in TRACE_TABLE.columns}["failed"],
    }
    for where, text in texts.items():
        assert FAILED_WORDS in text, (where, text)
    assert "50.00%" in texts["format_summary"] and "50.0% of 2 requests failed" in texts["failed_request_ratio"]


# ---- 4. the postmortem's docstring names every finding it puts first ----------------------------------------------
def _requests(n: int, first: int, t0_s: float) -> pd.DataFrame:
    """``n`` traces web → db (ids from ``first``), one a second from ``t0_s``, 20 ms each (db 5 ms of it)."""
    rows = []
    for k in range(n):
        t = int((1_700_000_000 + t0_s + k) * 1e9)
        tid = f"{first + k:032x}"
        rows += [(tid, "a" * 16, None, "web", "GET /", "server", t, t + 20 * MS),
                 (tid, "b" * 16, "a" * 16, "db", "SELECT", "client", t + 5 * MS, t + 10 * MS)]
    cols = ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end")
    return tk.spans_from_columns({c: [r[i] for r in rows] for i, c in enumerate(cols)})


def test_the_postmortem_docstring_names_every_finding_it_puts_first():
    """40 incident traces against a baseline of 12 that holds 2 of them: the postmortem says first that the baseline
    holds the spans themselves, then that its 10 other traces are too few for 40. The docstring of
    ``Postmortem.findings`` listed the first and the not-comparable one, not the too-small baseline, and the findings
    table's ``topic`` said a ``baseline`` finding came only for a baseline not comparable."""
    from tracekit.analysis.baseline_check import MAX_INCIDENT_PER_BASELINE
    from tracekit.investigate.postmortem import FINDINGS, Postmortem

    incident = _requests(40, 1000, 3600.0)
    own = incident[incident["trace_id"].isin([f"{1000:032x}", f"{1001:032x}"]).to_numpy()]
    baseline = pd.concat([_requests(10, 1, 0.0), own], ignore_index=True)
    assert 40 > MAX_INCIDENT_PER_BASELINE * 10
    pm = tk.postmortem(incident, baseline, n_boot=20)
    first = [f for f in pm.findings[:3] if f.topic == "baseline"]
    which = ["own_traces" if "own_traces" in f.evidence else "baseline_too_small" if f.evidence.get("too_small")
             else "baseline_comparability" for f in first]
    assert which == ["own_traces", "baseline_too_small"], [f.text for f in first]
    unlike = tk.postmortem(incident, _requests(10, 1, 0.0).assign(service="other", name="elsewhere"), n_boot=20)
    assert unlike.findings[0].topic == "baseline" and unlike.findings[0].evidence.get("comparable") is False
    doc = Postmortem.__doc__.split("findings : tuple of Finding", 1)[1].split("incident :", 1)[0]
    for name in ("own_traces", "baseline_comparability", "baseline_too_small"):
        assert f"baseline_check.{name}`" in doc, name
    topic = {c.name: c.meaning for c in FINDINGS.columns}["topic"]
    assert "too few traces" in topic and "holds some of the spans" in topic, topic


# ---- 1. one rule for a duration in words ---------------------------------------------------------------------------
#: the durations of the brief (ms), and how a person writes each: in a sentence (rounded, seconds from 1 s) and as one
#: measured duration beside a time axis in ms (one decimal): below 100 ms the two agree
DURATIONS = (0.004, 0.12, 7.0, 1234.5, 1e6, float("nan"))
SENTENCE = ("0.004 ms", "0.12 ms", "7.0 ms", "1.2 s", "1,000 s", "n/a")
LABEL = ("0.004 ms", "0.12 ms", "7.0 ms", "1,234.5 ms", "1,000,000.0 ms", "n/a")


@pytest.fixture(scope="module")
def timed() -> pd.DataFrame:
    """One single-span request per finite duration of DURATIONS (exact in ns: 4 µs, 120 µs, 7 ms, 1,234.5 ms, 1,000 s)."""
    ns = [4_000, 120_000, 7_000_000, 1_234_500_000, 1_000_000_000_000]
    t0 = 1_700_000_000 * 10**9
    return tk.spans_from_columns({
        "trace_id": [f"{k + 1:032x}" for k in range(5)], "span_id": ["a" * 16] * 5, "service": ["web"] * 5,
        "name": ["GET /"] * 5, "kind": ["server"] * 5, "start": [t0] * 5, "end": [t0 + d for d in ns]})


def test_every_sentence_says_a_duration_by_one_rule():
    """Six formatters said 0.004 ms as "0.00 ms" (postmortem, rank_causes, skew_story), "0.0 ms" (the health p95
    line), "0.004 ms" (figure legends); 1,000 s as "1,000 s", "+1,000,000 ms", "1,000,000.0 ms" or "1e+06 ms"
    (sampling bias's .4g). Each is now core.words.ms_text."""
    from tracekit.analysis.health import p95_request_latency_words
    from tracekit.analysis.skew_story import _ms as skew_ms
    from tracekit.core.words import ms_text
    from tracekit.investigate.causes import _fmt_ms as causes_ms
    from tracekit.investigate.postmortem import _signed_ms, fmt_ms
    from tracekit.plotting.colors import fmt_ms as figure_ms

    assert [ms_text(v) for v in DURATIONS] == list(SENTENCE)
    for v, want in zip(DURATIONS, SENTENCE, strict=True):
        signed = want if want == "n/a" else "+" + want
        assert (fmt_ms(v), figure_ms(v)) == (want, want), v
        assert (_signed_ms(v), causes_ms(v), skew_ms(v)) == (signed, signed, signed), v
        assert p95_request_latency_words(v, 30).startswith(f"95% of requests take at most {want} ("), v
        assert p95_request_latency_words(v, 3).startswith(f"The slowest of 3 finished requests took {want} ("), v
        assert "e+" not in want and "e-" not in want
    assert skew_ms(-0.004) == causes_ms(-0.004) == _signed_ms(-0.004) == "-0.004 ms"


def test_every_trace_line_says_a_duration_by_one_rule(timed):
    """The same requests through each line that names one trace's request: the waterfall header (plotly, canvas
    and explorer), ``tracekit query``'s trace lines and span rows, the report's slowest-request labels. A 4 µs
    request read "request 0.0 ms" in each (and "+0.0 ms  0.0 ms" in query's rows); now "0.004 ms"."""
    from tracekit.cli_query import format_matches
    from tracekit.core.words import ms_label, ms_number
    from tracekit.plotting.waterfall import waterfall_header
    from tracekit.reporting import _worst

    assert [ms_label(v) for v in DURATIONS] == list(LABEL)
    for v in DURATIONS[:-1]:
        assert ms_label(v) == f"{ms_number(v)} ms" or v >= 1000
    assert [s for s, lab in zip(SENTENCE, LABEL, strict=True) if s == lab] == list(SENTENCE[:3]) + ["n/a"]
    outcomes = tk.core.trace_outcomes(timed)
    worst = dict((tid, label) for label, tid in _worst(outcomes, 5))
    text = format_matches(timed, tk.traceql(timed, "{ }"), limit=10)
    for k, want in enumerate(LABEL[:-1]):
        tid = f"{k + 1:032x}"
        head = waterfall_header(tk.waterfall_data(timed, tid), None)
        assert head.startswith(f"request {want} · "), head
        assert f"(request {want}, trace extent {want})" in worst[tid], worst[tid]
        assert f"trace {tid}: 1 span matched; root web GET /, request {want}" in text  # s40: was "1 span(s)"
        assert f"  +{'0.0':>9} ms  {want.replace(',', ''):>12}  web  GET /" in text


# ---- 2. one terminal escaper for every CLI command -----------------------------------------------------------------
HOSTILE = "\x1b[31mpay\rments\x07\u202egnp.exe\nfailed requests: 0%" + "x" * 10_000


def test_every_cli_command_prints_a_hostile_name_as_the_same_safe_text(tmp_path, capsys):
    """A service and operation named with an ANSI colour, a carriage return, BEL, a bidi override, a newline and
    10 KB: ``tracekit summary`` and ``tracekit query`` kept its newline (the summary printed a line of its own
    "failed requests: 0%…" beside the real one; query's span row split in two), and cli.printable and
    cli_xray.printable were two rules. Each command now prints core.words.terminal_text of the name, one line."""
    from tracekit import cli, cli_xray
    from tracekit.core.words import terminal_text

    safe = terminal_text(HOSTILE)
    assert cli_xray.printable(HOSTILE) == safe and cli.printable(HOSTILE) == terminal_text(HOSTILE, newlines=True)
    assert all(c.isprintable() for c in safe) and "\\x1b[31m" in safe and "\\u202e" in safe and "\\n" in safe
    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32], "span_id": ["a" * 16], "service": [HOSTILE], "name": [HOSTILE], "kind": ["server"],
        "start": [1_700_000_000 * 10**9], "end": [1_700_000_000 * 10**9 + 5 * MS]})
    path = tk.write_otlp(spans, tmp_path / "hostile.jsonl")
    outs = {}
    for argv in (["summary", str(path)], ["query", str(path), "{ }"]):
        assert cli.main(argv) == 0
        outs[argv[0]] = capsys.readouterr().out
    for cmd, out in outs.items():
        assert safe in out, cmd
        assert not any(ch in out for ch in "\x1b\r\x07\u202e"), cmd
        assert not any(line.startswith("failed requests: 0%") for line in out.splitlines()), cmd
    assert sum(1 for line in outs["summary"].splitlines() if line.startswith("failed requests")) == 1
    assert f"services: {safe}" in outs["summary"].splitlines()
    assert f"root {safe} {safe}, request 5.0 ms" in outs["query"]
    assert any(line.startswith("  +      0.0 ms        5.0 ms  ") and line.endswith("  [server, unset]")
               for line in outs["query"].splitlines())
