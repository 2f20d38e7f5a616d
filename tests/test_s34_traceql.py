"""TraceQL structural queries, review s34: array attributes compared element by element (Tempo's rule), integers
compared exactly past 2**53, hostile queries refused before the parse, metrics buckets; each test failed before
its fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.traceql import traceql_mask

MS = 1_000_000
T1 = "1" * 32


def _spans(attrs: list[dict], resource: list[dict] | None = None) -> pd.DataFrame:
    """Root spans ``a``, ``b``, ... of one trace with these span attributes."""
    n = len(attrs)
    return tk.spans_from_columns({
        "trace_id": [T1] * n, "span_id": [chr(ord("a") + i) * 16 for i in range(n)], "parent_id": [None] * n,
        "service": ["s"] * n, "name": ["op"] * n, "start": [0] * n, "end": [MS] * n, "attributes": attrs,
        "resource": resource or [{} for _ in range(n)]})


def _ids(spans: pd.DataFrame, query: str) -> str:
    return "".join(s[0] for s in tk.traceql(spans, query)["span_id"])


# ------------------------------------------------------------------------------------------- arrays
# Tempo (construct-traceql-queries.md, "Find traces with arrays"): = and =~ match if any element satisfies the
# condition, != and !~ only if no element does. OTLP arrayValue attributes are read as lists.
# a: two media types and ints [1, 2]; b: one media type as a plain string; c: one other type in a list; d: none
ARRAYS = [{"acc": ["application/json", "text/html"], "n": [1, 2]}, {"acc": "application/json"},
          {"acc": ["text/plain"], "n": [3]}, {}]


@pytest.mark.parametrize("query, want", [
    ('{ span.acc = "application/json" }', "ab"),
    ('{ span.acc = "text/html" }', "a"),
    ('{ span.acc != "application/json" }', "c"),
    ('{ span.acc =~ "application.*" }', "ab"),
    ('{ span.acc !~ "application.*" }', "c"),
    ('{ .acc =~ "text/.*" }', "ac"),
    ("{ span.acc != nil }", "abc"),
    ("{ span.acc = nil }", "d"),
    ("{ span.n = 2 }", "a"),
    ("{ span.n > 2 }", "c"),
    ("{ span.n != 1 }", "c"),
    ("{ span.n + 1 = 3 }", "a"),
    ('{ span.acc = "application/json" && span.acc = "text/html" }', "a"),
])
def test_array_attributes_are_compared_element_by_element(query, want):
    """Every list-valued attribute was invisible: = and != matched nothing, = nil called a and c missing."""
    assert _ids(_spans(ARRAYS), query) == want


def test_select_and_by_keep_an_array_attribute():
    """select(span.acc) gave None for the lists; by(span.acc) put every list span in one None spanset."""
    spans = _spans(ARRAYS)
    out = tk.traceql(spans, "{ } | select(span.acc)")
    assert out["span.acc"].tolist() == [a.get("acc") for a in ARRAYS]
    grouped = tk.traceql(spans, "{ } | by(span.acc)")
    assert grouped["spanset"].nunique() == 4  # four different values, the missing one included
    m = tk.traceql_metrics(spans, "{ } | count_over_time() by (span.acc)", step="1s")
    labels = m["span.acc"]
    assert labels.isna().sum() == 1  # the span without the attribute
    assert set(labels.dropna()) == {("application/json", "text/html"), "application/json", ("text/plain",)}
    assert m["value"].tolist() == [1.0] * 4


def test_unscoped_attribute_falls_back_to_a_resource_array():
    spans = _spans([{"acc": "x"}, {}], resource=[{}, {"acc": ["r1", "r2"]}])
    assert _ids(spans, '{ .acc = "r2" }') == "b"
    assert _ids(spans, '{ .acc != "x" }') == "b"
    assert _ids(spans, '{ resource.acc = "r1" }') == "b"
    assert _ids(spans, '{ span.acc = "r1" }') == ""


def test_aggregating_an_array_is_refused_by_name():
    with pytest.raises(tk.errors.TraceQLError, match="array"):
        tk.traceql(_spans(ARRAYS), "{ } | avg(span.n) > 1")


# ------------------------------------------------------------------------------------------- integers past 2**53
# Tempo compares int64 attributes as int64; tracekit compared them in float64, where 2**53 + 1 == 2**53.
BIG = 2**53  # 9007199254740992
SNOWFLAKE = 1234567890123456789  # an id-sized integer (e.g. an order id), not a float64 value


@pytest.mark.parametrize("query, want", [
    (f"{{ span.id = {BIG + 1} }}", "a"),
    (f"{{ span.id = {BIG} }}", "b"),
    (f"{{ span.id > {BIG} }}", "ac"),
    (f"{{ span.id != {BIG} }}", "ac"),
    (f"{{ span.id = {SNOWFLAKE - 1} }}", ""),
    (f"{{ -span.id = -{BIG + 1} }}", "a"),
    (f"{{ .id = {BIG + 1} }}", "a"),
])
def test_integers_past_2_to_the_53_compare_exactly(query, want):
    """{ span.id = 9007199254740993 } matched b (2**53) too, and { span.id = 1234567890123456788 } matched c."""
    spans = _spans([{"id": BIG + 1}, {"id": BIG}, {"id": SNOWFLAKE}])
    assert tk.attribute(spans, "id").tolist() == [BIG + 1, BIG, SNOWFLAKE]  # stored exactly
    assert _ids(spans, query) == want


def test_integers_past_2_to_the_53_compare_exactly_in_mixed_and_array_columns():
    spans = _spans([{"id": BIG + 1}, {"id": "x"}, {"id": [BIG, BIG + 1]}, {"id": [BIG]}])
    assert _ids(spans, f"{{ span.id = {BIG + 1} }}") == "ac"
    assert _ids(spans, f"{{ span.id != {BIG + 1} }}") == "d"


def test_an_unscoped_integer_from_the_resource_compares_exactly():
    spans = _spans([{"id": BIG + 1}, {}, {}], resource=[{}, {"id": BIG + 1}, {"id": BIG}])
    assert _ids(spans, f"{{ .id = {BIG + 1} }}") == "ab"
    assert _ids(spans, f"{{ resource.id < {BIG + 1} }}") == "c"


def test_select_and_by_keep_integers_as_stored():
    """select(span.id) gave 9007199254740992 for 2**53 + 1 (rounded through float64); by() put both in one spanset."""
    spans = _spans([{"id": BIG + 1}, {"id": BIG}])
    assert tk.traceql(spans, "{ } | select(span.id)")["span.id"].tolist() == [BIG + 1, BIG]
    assert tk.traceql(spans, "{ } | by(span.id)")["spanset"].tolist() == [0, 1]


def test_an_integer_past_float_range_is_infinite_not_an_overflow_error():
    """An attribute of 10**400 (JSON keeps it; beyond int64 it stays an object) raised OverflowError."""
    spans = _spans([{"h": 10**400}, {"h": "x"}, {"h": -(10**400)}])
    assert _ids(spans, "{ span.h > 1 }") == "a"
    assert _ids(spans, "{ span.h < 1 }") == "c"


# ------------------------------------------------------------------------------------------- metrics


def _timed(starts_ms: list[float], ends_ms: list[float]) -> pd.DataFrame:
    n = len(starts_ms)
    return tk.spans_from_columns({
        "trace_id": [T1] * n, "span_id": [chr(ord("a") + i) * 16 for i in range(n)], "parent_id": [None] * n,
        "service": ["s"] * n, "name": ["op"] * n, "start": [round(s * MS) for s in starts_ms],
        "end": [round(e * MS) for e in ends_ms]})


def test_histogram_of_durations_uses_tempos_power_of_two_nanosecond_buckets():
    """Tempo's Log2Bucketize rounds the duration in ns up to a power of two, then gives it in seconds:
    2**23 ns = 8.39 ms < 10 ms <= 16 ms <= 2**24 ns = 16.78 ms < 17 ms <= 2**25 ns. tracekit rounded seconds up to a
    power of two: 10 ms under 2**-6 s = 15.625 ms, 16 ms and 17 ms under 2**-5 s = 31.25 ms."""
    spans = _timed([0, 0, 0, 0], [10, 16, 17, 2**24 / 1e6])  # the last exactly 2**24 ns
    h = tk.traceql_metrics(spans, "{ } | histogram_over_time(duration)", step="1s")
    got = dict(zip(h["bucket"], h["value"], strict=True))
    assert got == {2**24 / 1e9: 3.0, 2**25 / 1e9: 1.0}



# ------------------------------------------------------------------------------------------- hostile queries

@pytest.mark.parametrize("query, at", [
    ("(" * 4000 + "{ }" + ")" * 4000, 400),  # the 401st bracket
    ("{ " + "(" * 4000 + "true" + ")" * 4000 + " }", 401),  # inside a filter ({ is the first)
    ('{ name = "((" } && ' + "(" * 500 + "{ }" + ")" * 500, 19 + 400),
])
def test_too_many_open_brackets_are_refused_at_the_bracket_before_the_parse(query, at):
    """4,000 nested brackets took the Earley parse 11.7 s (9.7 s inside a filter, where they were accepted) before
    the depth check, and the error named no position; now one pass refuses them at the 401st bracket."""
    with pytest.raises(tk.errors.TraceQLError, match="nested too deeply") as info:
        tk.traceql(_spans([{}]), query)
    assert info.value.position == at
    # brackets inside strings are text, not nesting
    assert _ids(_spans([{"s": "(" * 1000}]), '{ span.s = "' + "(" * 1000 + '" && span.s =~ `\\(+` }') == "a"


@pytest.mark.parametrize("query", [
    '{ name = "' + "a" * 8000 + '" && .x = }',  # the error at the end
    "{ .x = } " + "| { } " * 1300,  # at the start
])
def test_an_error_in_a_long_query_shows_the_characters_around_the_caret(query):
    """The message held the whole line and a caret line as long: 16,173 characters for an 8,021-character query."""
    with pytest.raises(tk.errors.TraceQLError) as info:
        tk.traceql(_spans([{}]), query)
    err = info.value
    text = str(err)
    assert len(text) < 400 and err.query == query
    line, caret = text.splitlines()[1:3]
    assert line[caret.index("^")] == query[err.position] == "}"


@pytest.mark.parametrize("step, says", [
    ("99999999999999999999h", "longer than a time step can be"),  # was a bare OverflowError
    ("106752d", "longer than a time step can be"),  # just past int64 nanoseconds
    (None, "must be a duration"),  # said "step must be positive, got None"
])
def test_a_step_past_what_a_timedelta_holds_or_none_is_an_argument_error(step, says):
    spans = _timed([0, 30], [1, 31])
    with pytest.raises(tk.ArgumentError, match=says):
        tk.traceql_metrics(spans, "{ } | rate()", step=step)
    assert tk.traceql_metrics(spans, "{ } | count_over_time()", step="106751d")["value"].tolist() == [2.0]


# ------------------------------------------------------------------------------------------- nanoseconds
EPOCH = 1_700_000_000_000_000_000  # 2023-11-14, where float64 holds a time to 256 ns only


@pytest.mark.parametrize("offset", [0, 100, 129, 200])
def test_trace_duration_and_time_since_start_are_exact_nanoseconds(offset):
    """traceDuration took min/max of float64 epoch nanoseconds: a one-span trace of 100,000,001 ns had traceDuration
    100 ms (not > 100ms) at 4 of these 4 offsets, while its duration was right; event:timeSinceStart of an event 100
    ns after the start was 0 or 256 ns."""
    start = EPOCH + offset
    spans = tk.spans_from_columns({
        "trace_id": [T1], "span_id": ["a" * 16], "service": ["s"], "name": ["op"], "start": [start],
        "end": [start + 100_000_001], "events": [[{"time": start + 100, "name": "e", "attributes": {}}]]})
    assert _ids(spans, "{ duration > 100ms }") == "a"
    assert _ids(spans, "{ traceDuration > 100ms && traceDuration = 100000001ns }") == "a"
    assert _ids(spans, "{ event:timeSinceStart = 100ns }") == "a"


def test_an_event_time_that_is_not_a_number_has_no_time_since_start():
    """A hand-made event with time 'abc' raised numpy's ValueError from the query."""
    spans = tk.spans_from_columns({
        "trace_id": [T1] * 2, "span_id": ["a" * 16, "b" * 16], "service": ["s"] * 2, "name": ["op"] * 2,
        "start": [0, 0], "end": [10, 10],
        "events": [[{"time": "abc", "name": "e", "attributes": {}}], [{"time": 5, "name": "e", "attributes": {}}]]})
    assert _ids(spans, "{ event:timeSinceStart >= 0 }") == "b"
    assert _ids(spans, '{ event:name = "e" }') == "ab"


# ------------------------------------------------------------------------------------------- long chains

def _numbered(n: int) -> pd.DataFrame:
    """Root spans numbered 0 .. n - 1 in row order, attribute ``id`` = the number."""
    return tk.spans_from_columns({
        "trace_id": [T1] * n, "span_id": [format(i + 1, "016x") for i in range(n)], "service": ["s"] * n,
        "name": ["op"] * n, "start": [0] * n, "end": [MS] * n, "attributes": [{"id": i} for i in range(n)]})


def _fold(terms: list, ops: list) -> set:
    """Left to right, as the grammar reads && and || (one precedence level)."""
    acc = terms[0]
    for op, t in zip(ops, terms[1:], strict=True):
        acc = acc & t if op == "&&" else acc | t
    return acc


def test_a_long_chain_of_alternatives_in_a_filter_is_read_as_written():
    """500 alternatives { span.id = 0 || span.id = 1 || ... } were refused as 'nested too deeply (686 levels)':
    the grammar reads the chain one level per operator. Runs of one operator are now balanced (both are
    associative); a chain mixing && and || still folds left to right."""
    spans = _numbered(600)
    conds = [f"span.id = {i}" for i in range(300)] + ["span.id < 200"] + [f"span.id = {i}" for i in range(400, 550)]
    ops = ["||"] * 299 + ["&&"] + ["||"] * 150
    terms = [{i} for i in range(300)] + [set(range(200))] + [{i} for i in range(400, 550)]
    query = "{ " + conds[0] + "".join(f" {op} {c}" for op, c in zip(ops, conds[1:], strict=True)) + " }"
    want = _fold(terms, ops)
    assert want == set(range(200)) | set(range(400, 550))
    mask, _ = traceql_mask(spans, query)
    got = set(np.flatnonzero(mask).tolist())
    assert got == want


def test_a_long_chain_of_spanset_alternatives_is_read_as_written():
    spans = _numbered(600)
    query = " || ".join(f"{{ .id = {i} }}" for i in range(0, 900, 2))  # 450 spansets, 300 of them match a span
    mask, _ = traceql_mask(spans, query)
    assert set(np.flatnonzero(mask).tolist()) == set(range(0, 600, 2))
    query = " && ".join(f"{{ .id = {i} }}" for i in range(0, 900, 2))  # one of them matches nothing
    assert not traceql_mask(spans, query)[0].any()


# ------------------------------------------------------------------------------------------- regexes as Tempo's
# Tempo matches =~ / !~ with Prometheus' FastRegexMatcher: the pattern is parsed alone (syntax.Perl|DotNL), then
# compiled as ^(?s:pattern)$ -- fully anchored, and . matches a newline.
SQL = [{"sql": "SELECT *\nFROM orders"}, {"sql": "SELECT 1"}, {"sql": "abc"}, {"sql": "zzb"}]


@pytest.mark.parametrize("query, want", [
    ('{ span.sql =~ "SELECT.*" }', "ab"),  # was b: . stopped at the newline of a multi-line statement
    ('{ span.sql !~ "SELECT.*" }', "cd"),  # was acd
    ('{ span.sql =~ ".*orders" }', "a"),  # was nothing
])
def test_a_regex_dot_matches_a_newline_as_in_tempo(query, want):
    assert _ids(_spans(SQL), query) == want


def test_a_pattern_is_checked_on_its_own_not_through_the_anchoring_group():
    """'a)|(b' compiled inside the wrapping group as ^(?:a)|(b)$ -- two unanchored halves -- and matched abc and
    zzb; Tempo refuses it. An invalid pattern's message showed the wrapper: 'missing ]: [)$'."""
    with pytest.raises(tk.errors.TraceQLError, match=r"unexpected \): a\)\|\(b at position 15"):
        tk.traceql(_spans(SQL), '{ span.sql =~ "a)|(b" }')
    with pytest.raises(tk.errors.TraceQLError) as info:
        tk.traceql(_spans(SQL), '{ span.sql =~ "[" }')
    assert info.value.reason.endswith("missing ]: [")


def test_array_attributes_of_events_and_links_are_compared_element_by_element():
    """{ event.tags = "retry" } matched nothing and { event.tags != nil } called every list missing."""
    spans = tk.spans_from_columns({
        "trace_id": [T1] * 3, "span_id": ["a" * 16, "b" * 16, "c" * 16], "service": ["s"] * 3, "name": ["op"] * 3,
        "start": [0] * 3, "end": [MS] * 3,
        "events": [[{"time": 1, "name": "e", "attributes": {"tags": ["retry", "slow"]}}],
                   [{"time": 1, "name": "e", "attributes": {"tags": ["slow"]}}, {"time": 2, "name": "f", "attributes": {}}],
                   []],
        "links": [[], [{"trace_id": T1, "span_id": "a" * 16, "attributes": {"ids": [7, 8]}}], []]})
    assert _ids(spans, '{ event.tags = "retry" }') == "a"
    assert _ids(spans, '{ event.tags = "slow" }') == "ab"
    assert _ids(spans, '{ event.tags != "retry" }') == "b"
    assert _ids(spans, "{ event.tags != nil }") == "ab"
    assert _ids(spans, "{ link.ids = 8 }") == "b"


@pytest.mark.parametrize("query, want", [
    ("{ span.outcome = error }", ""),  # was a: the keyword compared as the text "error"
    ("{ span.outcome != error }", ""),  # was b
    ("{ span.role = server }", ""),  # was a
])
def test_a_status_or_kind_keyword_matches_only_its_intrinsic(query, want):
    """Tempo's BinaryOperation: a string attribute and a status (kind) keyword are no matching operands, so both =
    and != are false; tracekit compared the keyword as text."""
    spans = tk.spans_from_columns({
        "trace_id": [T1] * 2, "span_id": ["a" * 16, "b" * 16], "service": ["s"] * 2, "name": ["op"] * 2,
        "start": [0] * 2, "end": [MS] * 2, "status": ["error"] * 2, "kind": ["server", "client"],
        "attributes": [{"outcome": "error", "role": "server"}, {"outcome": "ok", "role": "client"}]})
    assert _ids(spans, query) == want


def test_integer_labels_stay_integers():
    """count_over_time() by (span.http.response.status_code) labelled the series 200.0, 503.0 and NaN."""
    spans = _spans([{"code": 200}, {"code": 200}, {"code": 503}, {}])
    m = tk.traceql_metrics(spans, "{ } | count_over_time() by (span.code)", step="1s")
    assert str(m["span.code"].dtype) == "Int64"
    assert [None if pd.isna(x) else x for x in m["span.code"]] == [200, 503, None]
    assert m["value"].tolist() == [2.0, 1.0, 1.0]
    both = tk.traceql_metrics(spans, "({ } | count_over_time() by (span.code)) / ({ } | count_over_time() by (span.code))",
                              step="1s")
    assert both["span.code"].dropna().tolist() == [200, 503] and both["value"].tolist() == [1.0, 1.0, 1.0]
