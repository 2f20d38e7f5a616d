"""Session 43, security: personal data the detector missed, and user text reaching the report and its figures.

Each case is built so the right answer is known by construction: a value planted in a text is found by
:func:`tracekit.find_pii` and gone from what :func:`tracekit.redact` writes (nothing of it readable), and a text
that only looks like it (controls) stays.
"""

from __future__ import annotations

import time

import pandas as pd
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


def _user_frame(user: str):
    """Two traces of two spans: the root holds ``user.id``; the child's name, status message and event name write
    the same id (a route, an error, a log-like event), as a user id written into a path does."""
    return tk.spans_from_columns({
        "trace_id": ["0" * 31 + "1"] * 2 + ["0" * 31 + "2"] * 2, "span_id": ["a" * 16, "b" * 16, "c" * 16, "d" * 16],
        "parent_id": [None, "a" * 16, None, "c" * 16], "service": ["web", "cart"] * 2,
        "name": ["GET /", f"GET /users/{user}/cart", "GET /", "GET /users/other.person/cart"],
        "start": [0, 1, 0, 1], "end": [10, 5, 10, 5], "status": ["ok", "error", "ok", "ok"],
        "status_message": [None, f"no cart for {user}", None, None],
        "attributes": [{"user.id": user}, {}, {"user.id": "other.person"}, {}],
        "events": [[], [{"name": f"lookup {user}", "time": 2, "attributes": {}}], [], []]})


def test_a_redacted_keys_value_is_replaced_in_the_names_messages_and_events_of_its_trace():
    """redact(keys=["user.id"]) replaced the value under the key and left the same id readable in the span names,
    status messages and event names of its trace (the report's redact= showed it 20 times in hovers and tables of
    checkout-small with a user id written into a route). Built: 2 traces, each with its user's id under user.id on
    the root and written in its child's texts: every one is replaced by the attribute's own token."""
    spans = _user_frame("zelda.quux")
    out = tk.redact(spans, keys=["user.id"], salt="s")
    tok = out.loc[0, "attributes"]["user.id"]
    other = out.loc[2, "attributes"]["user.id"]
    assert out.loc[1, "name"] == f"GET /users/{tok}/cart" and out.loc[3, "name"] == f"GET /users/{other}/cart"
    assert out.loc[1, "status_message"] == f"no cart for {tok}"
    assert out.loc[1, "events"][0]["name"] == f"lookup {tok}"
    assert not any("zelda.quux" in str(v) or "other.person" in str(v) for c in out.columns for v in out[c])
    assert spans.loc[1, "name"] == "GET /users/zelda.quux/cart"  # the input is not modified


def test_a_redacted_value_inside_a_longer_word_stays():
    """A value is replaced where it stands as a word of its own: a user id "ann" leaves "annual" and "plan"
    whole (a name part, not the user), in a span's name and in a log record's body."""
    spans = _user_frame("ann")
    spans.loc[1, "name"] = "annual plan for ann"
    out = tk.redact(spans, keys=["user.id"], method="mask")
    assert out.loc[1, "name"] == "annual plan for ****"
    logs = tk.logs_from_columns({"time": [0], "body": ["annual plan for ann"], "attributes": [{"user.id": "ann"}]})
    assert tk.redact(logs, keys=["user.id"], method="mask").loc[0, "body"] == "annual plan for ****"


def test_the_report_redacts_a_user_id_written_into_span_names(tmp_path):
    """The report with redact=["user.id"] on checkout-small whose cart spans are named after the user of their
    request and whose errors say it: the id was shown 20 times in the page (hovers, operations) -> 0."""
    s = tk.examples.load("checkout-small")
    cols = {c: s[c].tolist() for c in s.columns if c != "duration_ms"}
    user = "zelda.quux"
    cols["attributes"] = [{**a, "user.id": user} if pd.isna(p) else a for a, p in zip(cols["attributes"], cols["parent_id"], strict=True)]
    cols["name"] = [f"GET /users/{user}" if sv == "cart" else n for n, sv in zip(cols["name"], cols["service"], strict=True)]
    cols["status_message"] = [f"no cart for {user}" if st == "error" else m
                              for st, m in zip(cols["status"], cols["status_message"], strict=True)]
    spans = tk.spans_from_columns(cols)
    page = tk.report(spans, tmp_path / "r.html", redact=["user.id"], worst=1)
    assert user not in page.read_text() and user not in (tmp_path / "r.md").read_text()
    assert user in tk.report(spans, tmp_path / "plain.html", worst=1).read_text()  # control: it was there to find


@pytest.mark.parametrize("mark", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\u200b", "\u2060", "\ufeff"])
def test_an_invisible_character_in_a_name_is_shown_not_hidden(mark, tmp_path):
    """A service named "payments" + NUL (or a bell, an escape, DEL, a C1 control, a zero-width space, a word joiner,
    a BOM) was drawn exactly as "payments" in the report's tables and the figures' texts: two services that read
    the same. Each is shown as its escape, as bidi controls are; ordinary text (a tab, a newline, letters of any
    script, a zero-width joiner inside an emoji or a Devanagari word) is kept."""
    from tracekit.core.words import bidi_visible, plotly_text

    name = f"payments{mark}"
    shown = f"payments\\u{ord(mark):04x}"
    assert bidi_visible(name) == shown and plotly_text(name) == shown
    assert bidi_visible("a\tb\nc · शिक्षा 👩\u200d💻") == "a\tb\nc · शिक्षा 👩\u200d💻"  # control: kept
    s = tk.examples.load("checkout-small")
    cols = {c: s[c].tolist() for c in s.columns if c != "duration_ms"}
    cols["service"] = [name if x == "payments" else x for x in cols["service"]]
    spans = tk.spans_from_columns(cols)
    page = tk.report(spans, tmp_path / "r.html", worst=1).read_text()
    assert mark not in page.split("<script", 1)[0]  # the page's own text (before the figures' scripts)
    assert shown in page


@pytest.mark.parametrize("url, host", [
    ("about:blank", None), ("javascript:void(0)", None), ("data:image/png;base64,AAAA", None),
    ("mailto:ann@example.com", None),
    # controls: a host, with or without a port and a scheme
    ("frontend:8080/checkout", "frontend"), ("http://frontend:8080/x", "frontend"), ("10.0.0.5:9000", "10.0.0.5"),
    ("jdbc:mysql://db:3306/x", "db"), ("localhost", "localhost"), ("/api/users", None),
])
def test_a_url_of_a_scheme_without_a_host_names_no_callee(url, host):
    """A client span whose only callee hint is its URL: "about:blank", "javascript:…" and "data:…" were read as
    host:port and made callees "about", "javascript", "data" (the report said "payments calls javascript … Instrument
    javascript if it is yours"), and "mailto:ann@example.com" made the mail domain one."""
    from tracekit.core.naming import callee

    assert callee({"http.url": url}) == host


def test_a_redacted_whole_number_id_is_replaced_where_its_trace_writes_it():
    """user.id is often a number (48213): its route "GET /users/48213/cart" kept it readable while the attribute
    was redacted. The number is replaced as a word of its own with the attribute's token; a longer number holding
    its digits (order 482130) stays, and so do short numbers (a user 7 would turn every 7 into a token)."""
    spans = _user_frame("x")
    spans["attributes"] = [{"user.id": 48213}, {}, {"user.id": 7}, {}]
    spans["name"] = ["GET /", "GET /users/48213/cart order 482130", "GET /", "GET /users/7/cart retry 7"]
    out = tk.redact(spans, keys=["user.id"], salt="s")
    tok = out.loc[0, "attributes"]["user.id"]
    assert out.loc[1, "name"] == f"GET /users/{tok}/cart order 482130"
    assert out.loc[3, "name"] == "GET /users/7/cart retry 7"
