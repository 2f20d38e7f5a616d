"""Session 47 (lead): what the postmortem's first line says of requests that did not succeed and did not fail."""
from __future__ import annotations

import numpy as np
import pandas as pd

import tracekit as tk

MS = 1_000_000


def _requests(http: list[int]) -> pd.DataFrame:
    """One root span per request, every one with status error (as a file where every span said error), each with
    the given HTTP code: 5xx a fault, 4xx a client error, 429 throttled (core.outcomes' rule)."""
    n = len(http)
    code = np.asarray(http)
    return tk.spans_from_columns({
        "trace_id": [f"{i + 1:032x}" for i in range(n)], "span_id": ["a" * 16] * n, "parent_id": [None] * n,
        "service": ["web"] * n, "name": ["GET /"] * n, "kind": ["server"] * n,
        "start": [i * 1_000 * MS for i in range(n)], "end": [i * 1_000 * MS + 20 * MS for i in range(n)],
        "status": ["error"] * n, "http_status": http,
        "fault": (code >= 500).tolist(), "error": ((code >= 400) & (code < 500) & (code != 429)).tolist(),
        "throttle": (code == 429).tolist()})


def _what(spans):
    return next(f for f in tk.postmortem(spans).findings if f.topic == "what")


def test_client_errors_and_throttles_are_said_beside_the_error_rate():
    """17 of 20 requests failed (5xx), 2 were 404s and 1 a 429: the error rate is 85.0 % and the line says what the
    other 3 were, with their counts (it read "error rate 85.0 %" alone: the 3 looked like successes)."""
    f = _what(_requests([500] * 5 + [404] + [500] * 6 + [429] + [500] * 6 + [404]))
    assert "error rate 85.0 %" in f.text
    assert "2 ended in a client error (4xx" in f.text
    assert "1 was throttled (429" in f.text
    assert "not counted as failed" in f.text
    assert f.evidence["client_errors"] == 2 and f.evidence["throttled"] == 1


def test_only_client_errors():
    f = _what(_requests([500] * 4 + [404] + [500] * 5))
    assert "error rate 90.0 %" in f.text and "1 ended in a client error (4xx" in f.text
    assert "throttled (429" not in f.text
    assert "it is not counted as failed" in f.text
    assert f.evidence["client_errors"] == 1 and f.evidence["throttled"] == 0


def test_control_no_client_error_says_nothing_more():
    """Control: every request a 5xx: no word of client errors or throttles."""
    f = _what(_requests([500] * 10))
    assert "error rate 100.0 %" in f.text
    assert "client error" not in f.text and "throttled" not in f.text
    assert f.evidence["client_errors"] == 0 and f.evidence["throttled"] == 0
