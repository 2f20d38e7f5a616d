"""Session 39, security and hostile input: TraceQL (parser, evaluator, ``tracekit query``), redaction
(:mod:`tracekit.analysis.pii`, the report's ``redact=``), escaping in the HTML and Markdown writers
(:mod:`tracekit.reporting`) and in terminal output (:mod:`tracekit.core.words`).

Each test plants a hostile value whose right rendering is known by construction and checks what comes out."""

from __future__ import annotations

import html
import re

import pytest

import tracekit as tk
from tracekit.reporting import collect_report, render_markdown, render_report


def _code_span_after(line: str, at: int) -> str:
    """The text of the CommonMark code span that opens at ``line[at]`` (a run of n backticks, closed by the next run
    of exactly n; one space stripped from both ends when both are spaces and the text is not all spaces)."""
    n = len(line[at:]) - len(line[at:].lstrip("`"))
    body_start = at + n
    for m in re.finditer(r"`+", line[body_start:]):
        if len(m.group()) == n:
            body = line[body_start:body_start + m.start()]
            if len(body) >= 2 and body[0] == body[-1] == " " and body.strip(" "):
                body = body[1:-1]
            return body
    raise AssertionError(f"code span at {at} is never closed: {line!r}")


@pytest.fixture(scope="module")
def odd_ids():
    """checkout-small with each trace id replaced by a text that is no hex id (spans_from_columns keeps such ids as
    given): some with backticks, a Markdown link to javascript: and an HTML tag; its service payments named
    ``~~payments~~`` and a right-to-left override (U+202E)."""
    s = tk.examples.load("checkout-small")
    cols = {c: s[c].tolist() for c in s.columns if c != "duration_ms"}
    ids = {t: (f"t{i}` [x](javascript:alert({i})) <img src=x onerror=alert({i})> ``" if i % 2 else f"`t{i}")
           for i, t in enumerate(s["trace_id"].unique())}
    cols["trace_id"] = [ids[t] for t in s["trace_id"]]
    cols["service"] = ["~~payments~~\u202e" if x == "payments" else x for x in cols["service"]]  # the busiest
    spans = tk.spans_from_columns(cols)
    return spans, set(ids.values()), collect_report(spans)


def test_a_trace_id_cannot_break_out_of_its_markdown_code_span(odd_ids):
    """The key findings wrote "(example trace: `<id>`)": an id holding a backtick closed the span, and the link to
    javascript: and the <img onerror> after it rendered as a link and as HTML."""
    _, ids, data = odd_ids
    md = render_markdown(data)
    shown = []
    for line in md.splitlines():
        i = line.find("(example trace: ")
        if i >= 0:
            body = _code_span_after(line, i + len("(example trace: "))
            shown.append(body)
            assert line.endswith(")")
    assert shown and set(shown) <= ids  # each example is one whole id, as code


def test_a_name_with_tildes_is_not_struck_through_in_markdown(odd_ids):
    """_md escaped * _ [ ] | # ` but not ~: GitHub's Markdown showed the service "~~payments~~" crossed out in the
    key findings."""
    md = render_markdown(odd_ids[2])
    assert "payments" in md
    assert re.findall(r"(?<!\\)~", md) == []  # every ~ escaped


@pytest.fixture(scope="module")
def odd_page(odd_ids, tmp_path_factory):
    """The page of ``odd_ids``, as redacted for ``user.id``, read from a file whose path holds an e-mail address."""
    import dataclasses

    from tracekit.reporting import file_inputs

    folder = tmp_path_factory.mktemp("in") / "carol.secret@example.com"
    folder.mkdir()
    (folder / "spans.json").write_text("{}")
    data = odd_ids[2]
    data = dataclasses.replace(data, settings={**data.settings, "redact": ["user.id"]},
                               inputs=file_inputs([folder / "spans.json"]))
    return render_report(data)


def test_a_redacted_page_says_the_input_paths_it_shows_are_not_redacted(odd_page):
    """The redaction paragraph said every built-in pattern was replaced "in any text", and the inputs table showed
    the path .../carol.secret@example.com/spans.json as given."""
    para = re.search(r'<p id="redaction">(.*?)</p>', odd_page).group(1)
    assert "carol.secret@example.com" in odd_page.replace("<wbr>", "")  # the path, shown as given
    assert "paths of its input files" in para and "title" in para


def test_a_bidi_override_in_a_name_cannot_reverse_the_words_after_it(odd_ids, odd_page):
    """A service named "...\u202e" reversed the rest of the sentence it was in ("payments holds the largest share
    of ..." read ")%94( emit htap-lacitirc ..." where the .md is rendered): the page and the figures' texts showed it
    as its escape (core.words.bidi_visible), the Markdown did not."""
    from tracekit.core.words import plotly_text

    bidi = frozenset(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))  # embeddings, overrides, isolates

    md = render_markdown(odd_ids[2])
    assert "payments" in md and "payments" in odd_page
    shown = re.sub(r'"meta":\{[^{}]*\}', "", odd_page)  # a figure's meta is data for callbacks, never drawn
    for text in (md, shown, plotly_text("a\u2067b\u202dc")):
        assert not bidi.intersection(text)
    assert "\\u202e" in odd_page  # shown, not dropped


def test_the_report_draws_traces_whose_ids_are_not_hex(odd_ids, odd_page):
    """render_report raised ArgumentError ("not a trace id") on the first example trace of a frame built by
    spans_from_columns with ids such as "t1", which that builder keeps: no page was written."""
    spans, ids, data = odd_ids
    page = odd_page
    examples = [tid for _, tid in data.worst]
    assert examples and set(examples) <= ids
    for tid in examples:
        assert f'id="trace-{html.escape(tid)}"' in page
    assert "<img" not in page
    fig = tk.plot_waterfall(spans, examples[0])
    assert len(fig.data[0].x) == int((spans["trace_id"] == examples[0]).sum())


def test_tracekit_query_escapes_a_trace_id_as_it_escapes_names():
    """``tracekit query`` printed each trace's id raw in its "trace <id>: ..." line (names were escaped): the output
    keeps its own newlines, so an id holding "\\n" (kept as given by spans_from_columns and a store written from
    it) forged a line, and one holding ESC recoloured the terminal."""
    from tracekit.cli import printable
    from tracekit.cli_query import format_matches

    ids = ["t1\ntrace deadbeef: 9 span(s) matched", "t2\x1b[2J\u202e"]
    spans = tk.spans_from_columns({"trace_id": ids, "span_id": ["a" * 16, "b" * 16], "service": ["web", "api"],
                                   "name": ["GET /", "GET /x"], "start": [0, 0], "end": [5_000_000, 7_000_000]})
    lines = printable(format_matches(spans, spans, limit=0)).splitlines()
    assert len(lines) == 1 + 2 * 3  # the head, then per trace: a blank line, the trace line, its one span
    trace_lines = [x for x in lines if x.startswith("trace ")]
    assert len(trace_lines) == 2
    assert all("\x1b" not in x and "\u202e" not in x for x in lines)
    assert {x.split(": ")[0] for x in trace_lines} == {"trace t1\\ntrace deadbeef", "trace t2\\x1b[2J\\u202e"}


def test_a_metrics_label_named_twice_groups_as_named_once():
    """``by (name, name)`` raised pandas' bare ValueError "cannot insert name, already exists"."""
    spans = tk.spans_from_columns({"trace_id": ["a" * 32] * 3, "span_id": ["1" * 16, "2" * 16, "3" * 16],
                                   "service": ["web"] * 3, "name": ["a", "a", "b"], "start": [0, 1, 2],
                                   "end": [5, 6, 7]})
    got = tk.traceql_metrics(spans, "{ } | count_over_time() by (name, name)", step="1m")
    assert list(got.columns) == ["time", "name", "value"]
    assert dict(zip(got["name"], got["value"], strict=True)) == {"a": 2, "b": 1}


@pytest.mark.parametrize("query", ['{ .k = "x" }', '{ .k =~ "x.*" }', "{ } | select(.k)",
                                   "{ } | count_over_time() by (.k)"])
def test_a_lone_surrogate_in_an_attribute_is_an_argument_error_naming_it(query):
    """spans_from_columns refuses a lone surrogate in its text columns but keeps one inside an attribute dict (the
    readers replace them): TraceQL over that attribute raised pyarrow's bare UnicodeEncodeError."""
    spans = tk.spans_from_columns({"trace_id": ["a" * 32] * 2, "span_id": ["1" * 16, "2" * 16], "service": ["web"] * 2,
                                   "name": ["n"] * 2, "start": [0, 1], "end": [5, 6],
                                   "attributes": [{"k": "x\ud800y"}, {"k": "x"}]})
    run = tk.traceql_metrics if "count_over_time" in query else tk.traceql
    with pytest.raises(tk.ArgumentError, match=re.escape(r"'x\ud800y' holds the lone surrogate U+D800")):
        run(spans, query)


@pytest.mark.parametrize(("query", "says"), [
    ("{ .a = 1" + "0" * 5000 + " }", "integer 10000000000000000000… (5,001 digits) is out of range"),
    ("{ } | count() > 1" + "0" * 5000, "integer 10000000000000000000… (5,001 digits) is out of range"),
    ("{ } | rate() | topk(1" + "0" * 5000 + ")", "integer 10000000000000000000… (5,001 digits) is out of range"),
    ("{ duration > 1" + "0" * 5000 + "ms }", "has a number of more than 400 digits: out of range"),
])
def test_a_number_of_thousands_of_digits_is_out_of_range_not_a_bare_value_error(query, says):
    """An integer of more than 4,300 digits (under the 8,192 characters a query may have) raised Python's bare
    ValueError "Exceeds the limit (4300 digits) for integer string conversion"; in a duration, that sentence was
    the TraceQLError's words."""
    spans = tk.spans_from_columns({"trace_id": ["a" * 32], "span_id": ["1" * 16], "service": ["web"], "name": ["n"],
                                   "start": [0], "end": [5]})
    run = tk.traceql_metrics if "rate()" in query else tk.traceql
    with pytest.raises(tk.errors.TraceQLError, match=re.escape(says)):
        run(spans, query)
