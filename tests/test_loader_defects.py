"""Defects found by the loader review of session s31 (``loader_review/REPORT.md``): each test
failed on the code before its fix."""

from __future__ import annotations

import json

import pytest

import tracekit as tk
from tracekit.errors import TraceFormatError

TID = "5b8efff798038103d269b633813fc60c"
XTID = "1-5759e988-bd862e3fe1be46a994272793"


def _span(sid: str, **kw) -> dict:
    s = {"traceId": TID, "spanId": sid, "name": "x",
         "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000001000000000"}
    s.update(kw)
    return s


def _both(doc):
    """The same document as parsed JSON (checked path) and as bytes (fast path, or its fallback)."""
    return [doc, json.dumps(doc).encode()]


# D1: a field spelt both ways (JSON and proto names) -----------------------------------------


@pytest.mark.parametrize("doc", [
    {"resourceSpans": [{"scopeSpans": [{"spans": [_span("a" * 16)]}],
                        "scope_spans": [{"spans": [_span("b" * 16)]}]}]},
    {"resourceSpans": [{"scopeSpans": [{"spans": [_span("a" * 16)]}]}],
     "resource_spans": [{"scope_spans": [{"spans": [_span("b" * 16)]}]}]},
])
def test_both_spellings_of_a_list_read_both(doc):
    for src in _both(doc):
        df = tk.read_otlp(src)
        assert sorted(df.span_id) == ["a" * 16, "b" * 16]


def test_one_field_two_values_is_an_error_naming_the_span():
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": [_span("a" * 16, span_id="b" * 16), _span("c" * 16)]}]}]}
    for src in _both(doc):
        with pytest.raises(TraceFormatError, match=r"spans\[0\].*'spanId' and 'span_id'"):
            tk.read_otlp(src)
        with pytest.warns(tk.errors.TraceFormatWarning):
            df = tk.read_otlp(src, errors="skip")
        assert list(df.span_id) == ["c" * 16]
        assert [s.record for s in df.attrs["skipped"]] == ["resourceSpans[0].scopeSpans[0].spans[0]"]


def test_one_field_two_equal_values_is_one():
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": [_span("a" * 16, span_id="a" * 16)]}]}]}
    assert list(tk.read_otlp(doc).span_id) == ["a" * 16]
