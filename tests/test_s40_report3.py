"""Session 40, report3: the HTML postmortem report and its redaction (tracekit/reporting.py, core/words.py).

- input paths hidden on request (``redact_paths`` / ``--redact-paths``), the reproducibility record kept;
- long names in the report's sentences shortened by one rule (core.words.short_name), whole on hover;
- counts said with their noun in the number they take.

Truth by construction: a small simulated incident and baseline whose service and operation are renamed to names of
known length, written under a folder whose name a report must not show.
"""

from __future__ import annotations

import hashlib
import html
import re

import pandas as pd
import pytest

import tracekit as tk
from tracekit.core.words import NAME_CHARS, short_name
from tracekit.errors import ArgumentError

#: a service and an operation far longer than NAME_CHARS, the names the incident's findings speak of
LONG_SERVICE = "payments-" + "very-long-kubernetes-deployment-name-" * 4 + "v2"
LONG_NAME = ("GET /v1/risk-score?tenant=" + "t" * 40 + "&filter=" + "f" * 80 + "&end")
CUSTOMER = "acme-corp"


def _renamed(spans: pd.DataFrame) -> pd.DataFrame:
    out = spans.copy()
    out["service"] = out["service"].astype(object).replace({"payments": LONG_SERVICE})
    out["name"] = out["name"].astype(object).replace({"GET /v1/risk-score": LONG_NAME})
    return out


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """(ReportData, page, markdown, incident file, baseline file): a report with redact_paths=True of a slow deploy
    whose files lie in folders named for the customer, with one skipped record quoting its file's path."""
    from tracekit.reporting import collect_report, render_markdown, render_report

    inc = _renamed(tk.simulate.simulate("slow-deploy", 30, seed=1).spans)
    base = _renamed(tk.simulate.simulate("baseline", 30, seed=2).spans)
    folder = tmp_path_factory.mktemp("cases") / CUSTOMER
    (folder / "incident").mkdir(parents=True)
    (folder / "baseline").mkdir()
    f_inc, f_base = folder / "incident" / f"{CUSTOMER}-prod.json", folder / "baseline" / f"{CUSTOMER}-before.json"
    f_inc.write_text('{"Traces": []}')
    f_base.write_text('{"Traces": []}')
    (folder / "incident" / f"{CUSTOMER}-notes.txt").write_text("not a trace")
    inc.attrs["skipped"] = (tk.SkippedRecord(str(f_inc), "line 3", f"bad kind in {f_inc}"),)
    data = collect_report(inc, baseline=base, inputs=[folder / "incident"], baseline_inputs=[f_base],
                          redact=["user.*"], redact_paths=True)
    return data, render_report(data), render_markdown(data), f_inc, f_base


def _text(page: str) -> str:
    """The page's words without its scripts and figures (plotly's JSON), its tags, <wbr> break points and entities."""
    page = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_redact_paths_hides_every_folder_and_file_name_and_keeps_the_hashes(case):
    """The inputs table, the header's baseline words, the not-read table and the skipped records showed
    .../acme-corp/incident/acme-corp-prod.json as given (no way to hide it); with redact_paths each file is
    file-<12 hex of its sha256> with its format ending, its full sha256 and size beside it."""
    data, page, md, f_inc, f_base = case
    assert CUSTOMER not in page and CUSTOMER not in md
    sha = hashlib.sha256(f_inc.read_bytes()).hexdigest()
    assert [(f.path, f.sha256, f.bytes) for f in data.inputs] == [(f"file-{sha[:12]}.json", sha, f_inc.stat().st_size)]
    assert [f.path for f in data.baseline_inputs] == [f"file-{hashlib.sha256(f_base.read_bytes()).hexdigest()[:12]}.json"]
    assert sha in _text(page) and f"file-{sha[:12]}.json" in _text(page)
    assert [(s, p[:5], p[-4:]) for s, p, _ in data.not_read] == [("incident", "path-", ".txt")]
    assert data.skipped["file"].tolist() == [f"file-{sha[:12]}.json"]
    assert data.skipped["reason"].tolist() == [f"bad kind in file-{sha[:12]}.json"]  # the path a reason quotes
    para = re.search(r'<p id="redaction">(.*?)</p>', page).group(1)
    assert "paths of its input files are hidden" in para and "shown as given" not in para
    assert data.settings["redact_paths"] is True


def test_without_redact_paths_the_paths_are_shown_and_the_paragraph_says_how_to_hide_them(case):
    import dataclasses

    from tracekit.reporting import file_inputs, render_markdown

    data, *_, f_inc, _f_base = case
    shown = dataclasses.replace(data, settings={**data.settings, "redact_paths": False}, inputs=file_inputs([f_inc]))
    md = render_markdown(shown)
    assert "shown as given" in md and "redact\\_paths=True" in md and "--redact-paths" in md


def test_redact_paths_must_be_a_bool():
    from tracekit.reporting import collect_report

    with pytest.raises(ArgumentError, match="redact_paths"):
        collect_report(tk.empty_spans(), redact_paths="yes")


def test_the_command_line_hides_the_paths(tmp_path, capsys):
    """tracekit report --redact-paths: the page names no folder of the input. On stderr (the user's own terminal,
    paths kept) one file is one file: it said "ignored 1 file(s) of the input"."""
    from tracekit.cli import main

    folder = tmp_path / CUSTOMER
    folder.mkdir()
    src = tk.examples.path("checkout-small")
    (folder / "t.json").write_bytes(src.read_bytes() if src.is_file() else next(src.iterdir()).read_bytes())
    (folder / "notes.txt").write_text("not a trace")
    out = tmp_path / "r.md"
    assert main(["report", str(folder), "-o", str(out), "--redact-paths", "--no-progress"]) == 0
    text = out.read_text()
    assert CUSTOMER not in text and "paths of its input files are hidden" in text
    err = capsys.readouterr().err
    assert "ignored 1 file of the input that is not trace data" in err and "file(s)" not in err


def test_long_names_in_sentences_are_shortened_whole_on_hover(case):
    """A 190-character service and a 160-character operation were written whole in every finding that named them
    (the "where" finding grew to 1,323 characters); now each is cut in the middle to NAME_CHARS characters in the
    page's and the Markdown's sentences, the whole name in the title attribute, and the tables keep it whole."""
    data, page, md, *_ = case
    named = [f.text for f in data.story.findings if LONG_SERVICE in f.text or LONG_NAME in f.text]
    assert named, "the fixture's findings name the long service or operation"
    findings = re.search(r'<section id="key-findings">(.*?)</section>', page, re.S).group(1)
    words = _text(findings)
    assert LONG_SERVICE not in words and LONG_NAME not in words
    assert short_name(LONG_SERVICE) in words and len(short_name(LONG_SERVICE)) == NAME_CHARS
    titles = {html.unescape(t) for t in re.findall(r'<span class="name" title="([^"]*)">', findings)}
    assert LONG_SERVICE in titles
    key_md = md[md.index("## Key findings"):md.index("## Headline numbers")].replace("\\", "")
    assert LONG_SERVICE not in key_md and short_name(LONG_SERVICE) in key_md
    assert LONG_SERVICE in _text(page).replace("\u200b", "")  # the tables and the settings keep it whole


def test_a_long_name_with_markup_stays_text_in_its_title_and_its_short_form():
    from tracekit.core.words import name_shortener

    evil = '"><img src=x onerror=alert(1)>' + "x" * 200
    out = name_shortener([evil], html_out=True)(f"calls {evil} twice")
    assert "<img" not in out and out.count("<span") == 1
    assert html.unescape(re.search(r'title="([^"]*)"', out).group(1)) == evil


def test_one_file_not_read_is_one_file(case):
    """"1 file(s) of the folders given were not read": the count said with its noun (core.words.plural)."""
    page = case[1]
    assert '<p id="not-read">1 file of the folders given was not read:</p>' in page


def test_one_redact_pattern_given_as_a_text_is_one_pattern():
    """report(..., redact="user.email") redacted nothing: the text was read as the patterns 'u', 's', 'e', 'r', ...
    (list("user.email")), the value stayed readable and the page said keys matching 'u', 's', ... were redacted.
    One text is one pattern, as tk.redact takes it; anything but texts is refused by name."""
    from tracekit.reporting import collect_report

    spans = tk.spans_from_columns({"trace_id": ["0" * 31 + "1"], "span_id": ["a" * 16], "service": ["api"],
                                   "name": ["GET /"], "start": [0], "end": [1_000_000],
                                   "attributes": [{"user.email": "zed-the-customer", "keep": "x"}]})
    data = collect_report(spans, redact="user.email", worst=0)
    attrs = data.spans.loc[0, "attributes"]
    assert attrs["user.email"].startswith("hmac:") and attrs["keep"] == "x"
    assert data.settings["redact"] == ["user.email"]
    with pytest.raises(ArgumentError, match="redact"):
        collect_report(spans, redact=["user.email", 3], worst=0)


def test_health_measures_say_their_values_in_their_units(case):
    """The measures table showed failed_request_ratio 0.000833 beside "0.1% of 1,200 requests failed" and
    trace_completeness 1 beside "100.0% of 1,200 traces are complete": a share is said as a percentage, a latency
    in ms, as its sentence says them."""
    data, page, *_ = case
    table = page[page.index('id="metrics-table"'):]
    table = table[:table.index("</table>")]
    rows = [[html.unescape(re.sub(r"<[^>]+>", "", c)).replace("\xa0", " ") for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
            for r in table.split("<tr")[2:]]
    truth = data.health.set_index(["check", "subject"])["value"]
    shares = [r for r in rows if r[0] in ("trace_completeness", "failed_request_ratio", "span_error_rate")]
    assert len(shares) >= 3
    for check, subject, value, _ in shares:
        assert value.endswith(" %"), (check, value)
        assert float(value.removesuffix(" %").lstrip("<>")) == pytest.approx(100 * truth[(check, subject or "")], abs=0.1)
    p95 = [r for r in rows if r[0] == "p95_request_latency_ms"]
    assert p95 and all(v.endswith(" ms") for _, _, v, _ in p95)


def test_trace_health_says_the_population_of_its_shares_and_which_warnings_it_lists():
    """"Trace health: 33 warnings limit trust — child outside parent (…) in 1 trace (1%); …" (Nezha TrainTicket
    09:34): 1% of what was unsaid, and three of the 33 were listed as if they were all. Each share now names its
    population (every trace of the input: health_report's), and a list cut to three says so."""
    from tracekit.investigate.postmortem import _sure

    spans = tk.spans_from_columns({"trace_id": [f"{i + 1:032x}" for i in range(200)],
                                   "span_id": [f"{i + 1:016x}" for i in range(200)], "service": "api", "name": "GET /",
                                   "kind": "server", "start": [i * 10**9 for i in range(200)],
                                   "end": [i * 10**9 + 10**7 for i in range(200)]})
    health = pd.DataFrame({"check": ["orphan_spans", "duplicate_span_ids", "child_outside_parent", "several_roots"],
                           "severity": ["error", "error", "warning", "warning"], "subject": ["api", "", "a → b", ""],
                           "traces_affected": [2, 1, 50, 3], "spans_affected": [2, 1, 60, 3],
                           "share": [2 / 200, 1 / 200, 50 / 200, 3 / 200],
                           "example_trace_ids": [[f"{1:032x}"]] * 4})
    text = next(f.text for f in _sure(spans, spans, None, "none", None, health) if f.text.startswith("Trace health"))
    assert "4 warnings limit trust — the first 3 of them" in text
    assert "orphan spans (api) in 2 of the 200 traces (1%)" in text
    assert "child outside parent (a → b) in 50 of the 200 traces (25%)" in text and "several roots" not in text
