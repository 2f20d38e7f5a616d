"""Session 43, security: personal data the detector missed, and user text reaching the report and its figures.

Each case is built so the right answer is known by construction: a value planted in a text is found by
:func:`tracekit.find_pii` and gone from what :func:`tracekit.redact` writes (nothing of it readable), and a text
that only looks like it (controls) stays.
"""

from __future__ import annotations

import re
import time

import pytest

import tracekit as tk
from tracekit.analysis.pii import redact_text


def frame(**attrs):
    return tk.spans_from_columns({
        "trace_id": ["0" * 31 + "1"], "span_id": ["a" * 16], "service": ["api"], "name": ["GET /"],
        "start": [0], "end": [1], "attributes": [attrs]})


@pytest.mark.parametrize("text, secret, kind", [
    ("customer ssn 123 45 6789 on file", "123 45 6789", "ssn"),
    ('reply to "john doe"@example.com today', '"john doe"@example.com', "email"),
    ('reply to "john doe"@example.com today', "john doe", "email"),
    ("GET https://alice@host/path failed", "alice", "url_credentials"),
    ("fetch ftp://bob.smith@10.1.2.3:21/in/ failed", "bob.smith", "url_credentials"),
])
def test_spaced_ssns_quoted_local_parts_and_bare_url_users_are_found_and_redacted(text, secret, kind):
    """The three known leftovers of earlier sessions: each was neither found nor redacted."""
    spans = frame(msg=text)
    found = tk.find_pii(spans)
    assert kind in set(found["kind"]), found
    out = tk.redact(spans, patterns=[kind], method="mask").loc[0, "attributes"]["msg"]
    assert secret not in out and "****" in out
    assert redact_text(text, method="mask").count(secret) == 0
    assert tk.find_pii(tk.redact(spans)).empty  # redact's output holds nothing find_pii finds


@pytest.mark.parametrize("text", [
    "sizes 512 64 1024 2048 bytes",    # a run of numbers, one of them 3-2-4 digits long
    "000 12 3456", "666 12 3456", "912 34 5678", "123 00 4567", "123 45 0000",  # invalid SSNs, spaced
    "123-45 6789",                     # separators that differ
    "clone ssh://git@gitlab/team/repo.git",   # a service account, no person
    "a quoted word \"x\" then @home.com",    # a quote, then an @ apart from it
    "https://host/path?q=1",
])
def test_controls_that_only_look_like_the_new_finds_are_left_alone(text):
    """Controls (except the number run and the ssh service user, which are the new rules' limits): none holds
    personal data; each must come out of redact unchanged."""
    assert redact_text(text, method="mask") == text


def test_the_new_patterns_are_linear_on_hostile_megabyte_values():
    """1 MB values made to make the new alternatives retry: quotes without an @, '://' without an @, digits in
    3-2-4 groups run together. Twice the size takes about twice the time (linear), well under a second."""
    def cost(n):
        vals = ['"' + "a" * 63 + " " * 2 for _ in range(n // 66)], ["://" + "a" * 40 for _ in range(n // 43)], \
            ["123 45 " * (n // 7)]
        texts = ["".join(v) if isinstance(v, list) else v for v in vals]
        t0 = time.perf_counter()
        for t in texts:
            redact_text(t, method="mask")
        return time.perf_counter() - t0

    small, big = cost(500_000), cost(1_000_000)
    assert big < 5 and big < 4 * small + 0.5, (small, big)
