"""Lead's fixes, session 44: each test was shown failing on the old code unless its docstring says control."""
from __future__ import annotations

import pandas as pd

import tracekit as tk
from tracekit.cli_query import format_matches


def _twice() -> pd.DataFrame:
    """One trace of 3 spans, the child 'b' exported twice (4 rows)."""
    t = "0" * 31 + "1"
    return tk.spans_from_columns({
        "trace_id": [t] * 4, "span_id": ["a" * 16, "b" * 16, "c" * 16, "b" * 16],
        "parent_id": [None, "a" * 16, "a" * 16, "a" * 16], "service": ["web", "db", "db", "db"],
        "name": ["GET /", "q", "r", "q"], "start": [0, 1, 5, 1], "end": [10, 4, 8, 4]})


def test_query_header_counts_spans_not_rows():
    """`tracekit query` printed "(of 1 trace, 4 spans)" for 3 spans, one exported twice: the header counted rows
    while the query itself counts the kernel's one copy. Now 3."""
    spans = _twice()
    head = format_matches(spans, tk.traceql(spans, "{ }"), limit=5).splitlines()[0]
    assert head.startswith("1 trace, 3 spans matched (of 1 trace, 3 spans)"), head


def test_query_header_on_distinct_spans_is_unchanged():
    """Control: without copies the header's count is the row count."""
    spans = _twice().iloc[:3]
    head = format_matches(spans, tk.traceql(spans, '{ name = "q" }'), limit=5).splitlines()[0]
    assert head.startswith("1 trace, 1 span matched (of 1 trace, 3 spans)"), head


def _user_in_values(user: str) -> pd.DataFrame:
    """Two traces: the first's root holds ``user.id``; its own url, its child's http.target and db.statement, an
    event's exception.message and a link's attribute write the same id; the second trace writes the same id in a
    url but holds no user.id (other traces' texts are not searched: by design)."""
    t1, t2 = "0" * 31 + "1", "0" * 31 + "2"
    return tk.spans_from_columns({
        "trace_id": [t1, t1, t2], "span_id": ["a" * 16, "b" * 16, "c" * 16], "parent_id": [None, "a" * 16, None],
        "service": ["web", "cart", "web"], "name": ["GET /", "GET /cart", "GET /"], "start": [0, 1, 0],
        "end": [10, 5, 3],
        "attributes": [{"user.id": user, "http.url": f"https://shop/users/{user}/cart"},
                       {"http.target": f"/users/{user}/cart", "db": {"statement": f"SELECT 1 WHERE u='{user}'"},
                        "annual": "annual report"},
                       {"http.target": f"/users/{user}/cart"}],
        "events": [[], [{"name": "exception", "time": 2, "attributes": {"exception.message": f"no cart for {user}"}}],
                   []],
        "links": [[], [{"trace_id": t2, "span_id": "c" * 16, "attributes": {"who": [user, "x"]}}], []]})


def test_a_redacted_keys_value_is_replaced_in_the_other_attribute_values_of_its_trace():
    """redact(keys=["user.id"]) replaced the id in its trace's span names and messages but left it readable in the
    trace's other attribute values: http.url, http.target, a nested db statement, an event's exception.message, a
    link's attribute (5 of 5 readable; the report's span details show attributes). Now 0 of 5, each by the
    attribute's own token; the other trace keeps its text (not searched), 'annual' keeps 'ann' inside a word, and
    the input is not modified."""
    user = "ann"
    spans = _user_in_values(user)
    before = repr(spans.to_dict("list"))
    out = tk.redact(spans, keys=["user.id"], method="hash", salt="s")
    token = out.loc[0, "attributes"]["user.id"]
    assert token.startswith("hmac:")
    first = repr([out.loc[0, "attributes"], out.loc[1, "attributes"], out.loc[1, "events"], out.loc[1, "links"]])
    assert f"/{user}/" not in first and f"'{user}'" not in first and f"for {user}" not in first, first
    assert first.count(token) == 6, first  # the key's own value and the 5 places that wrote it
    assert out.loc[1, "attributes"]["annual"] == "annual report"
    assert out.loc[2, "attributes"] == {"http.target": f"/users/{user}/cart"}
    assert repr(spans.to_dict("list")) == before  # the input is not modified
    assert out.loc[2, "attributes"] is not spans.loc[2, "attributes"]  # and shares no container with it


def test_a_value_that_no_other_attribute_writes_leaves_them_unchanged():
    """Control: a user id written nowhere else changes only its own value."""
    spans = _user_in_values("ann").assign(attributes=lambda d: [{"user.id": "zed"}, {"http.target": "/cart"}, {}])
    out = tk.redact(spans, keys=["user.id"], method="mask")
    assert out["attributes"].tolist() == [{"user.id": "****"}, {"http.target": "/cart"}, {}]
    assert out.attrs["redaction"]["values_replaced"] == 1
