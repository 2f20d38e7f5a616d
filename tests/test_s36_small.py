"""s36 review of TraceQL and PII corner cases: select() of event/link fields as Tempo gives them (the last event's
value), Tempo's nested-set numbers on duplicated span ids, and redact/find_pii agreeing (nothing found in what
redact wrote), short IPv6 addresses, digits of other scripts, a user's regex on a short value."""

from __future__ import annotations

import random

import pytest

import tracekit as tk
from tracekit.analysis.pii import PATTERNS
from tracekit.errors import TraceQLError

from .test_structure import mk


def texts_frame(texts, key="m"):
    n = len(texts)
    return tk.spans_from_columns({"trace_id": ["0" * 31 + "1"] * n, "span_id": [f"{i + 1:016x}" for i in range(n)],
                                  "service": ["api"] * n, "name": ["op"] * n, "start": [0] * n, "end": [1] * n,
                                  "attributes": [{key: t} for t in texts]})


# ------------------------------------------------------------------------------------------ TraceQL select(event.x)

def test_select_of_an_event_field_is_the_last_event_that_has_it():
    # Tempo's span keeps its events' attributes in event order and answers select() from a map filled in that
    # order (vparquet4 span.AllAttributes): the last event holding the attribute wins; an event without it adds none
    events = [[{"time": 1, "name": "a", "attributes": {"x": 1, "t": ["u", "v"]}},
               {"time": 2, "name": "b", "attributes": {"x": 2, "t": ["w", "z"]}}],
              [{"time": 1, "name": "c", "attributes": {}}, {"time": 2, "name": "d", "attributes": {"x": 5}}],
              [{"time": 1, "name": "e", "attributes": {"x": 7}}, {"time": 2, "name": "f", "attributes": {}}],
              []]
    links = [[{"trace_id": "0" * 32, "span_id": "1" * 16, "attributes": {"y": "p"}},
              {"trace_id": "0" * 32, "span_id": "2" * 16, "attributes": {"y": "q"}}], [], [], []]
    spans = mk([(1, 1, None, "api", "GET", "server", 0, 10), (1, 2, 1, "api", "q", "client", 1, 5),
                (1, 3, 1, "api", "r", "client", 1, 5), (1, 4, 1, "api", "s", "client", 1, 5)], events=events, links=links)
    r = tk.traceql(spans, "{ } | select(event.x, event:name, link.y, link:spanID, event.t)")
    assert r["event.x"].tolist() == [2, 5, 7, None]
    assert r["event:name"].tolist() == ["b", "d", "f", None]
    assert r["link.y"].tolist() == ["q", None, None, None]
    assert r["link:spanID"].tolist() == ["2" * 16, None, None, None]
    assert r["event.t"].tolist() == [["w", "z"], None, None, None]  # the last event's array, whole


# ------------------------------------------------------------------------------------------ TraceQL nested sets

def test_nested_set_numbers_of_a_zipkin_client_server_pair_follow_tempo():
    # trace 1: R has the client C and the server S sharing span id 2 (Zipkin); X (internal, parent 2) hangs under
    # the server copy, Y (server, parent 2) under the client copy (Tempo's findParentNodeInMap). Tempo's walk:
    #   R 1..10 -> C 2..5 -> Y 3..4 ; S 6..9 -> X 7..8
    # trace 2: id 2 held by three spans of one kind: one span exported three times (session 43: a span exported
    #   twice is one span in TraceQL, the kernel tree's copy, c1; Tempo's combiner keeps one span per id and kind),
    #   so the trace is numbered R2 1..4 -> c1 2..3 and c2, c3 are not returned (it was left unnumbered, 0, 0, 0)
    # trace 3: no duplicate, numbered as before
    spans = mk([(1, 1, None, "a", "R", "server", 0, 10), (1, 2, 1, "a", "C", "client", 1, 9),
                (1, 2, 1, "b", "S", "server", 2, 8), (1, 3, 2, "b", "X", "internal", 3, 4),
                (1, 4, 2, "c", "Y", "server", 5, 6),
                (2, 1, None, "a", "R2", "server", 0, 10), (2, 2, 1, "a", "c1", "internal", 1, 2),
                (2, 2, 1, "a", "c2", "internal", 1, 2), (2, 2, 1, "a", "c3", "internal", 1, 2),
                (3, 1, None, "a", "R3", "server", 0, 10), (3, 2, 1, "a", "k", "internal", 1, 2)])
    r = tk.traceql(spans, "{ } | select(nestedSetLeft, nestedSetRight, nestedSetParent)")
    got = {n: (a, b, c) for n, a, b, c in r[["name", "nestedSetLeft", "nestedSetRight", "nestedSetParent"]].itertuples(index=False)}
    assert got == {"R": (1, 10, -1), "C": (2, 5, 1), "Y": (3, 4, 2), "S": (6, 9, 1), "X": (7, 8, 6),
                   "R2": (1, 4, -1), "c1": (2, 3, 1),
                   "R3": (1, 4, -1), "k": (2, 3, 1)}
    assert sorted(tk.traceql(spans, "{ nestedSetParent = -1 }")["name"]) == ["R", "R2", "R3"]
    # Tempo's leaf test finds the leaves of the numbered traces
    assert sorted(tk.traceql(spans, "{ nestedSetRight - nestedSetLeft = 1 }")["name"]) == ["X", "Y", "c1", "k"]


# ------------------------------------------------------------------------------------------ PII: redact then find

GLUE = ["10.0.0.1", "10.0.0.0/8", "ann@example.com", "4111 1111 1111 1111", "+1 415 555 0100", "(415) 555-0100",
        "123-45-6789", "Bearer abcdefgh1234", "AKIAIOSFODNN7EXAMPLE", "api_key=abcdefgh12", "Basic dXNlcjpwYXNz",
        "::ffff:10.0.0.1", "2001:db8::/32", "x", " ", ".", ":", "/", "-", "1", "a::b"]


@pytest.fixture(scope="module")
def glued():
    rng = random.Random(36)
    texts = sorted({"".join(rng.choice(GLUE) for _ in range(rng.randint(2, 4))) for _ in range(600)})
    return texts_frame(texts)


@pytest.mark.parametrize("method", ["mask", "hash"])
def test_find_pii_finds_nothing_in_what_redact_wrote(glued, method):
    # a token glued to a word or digits freed a match that its original neighbour blocked: '(415) 555-0100' glued
    # after digits is no phone, after '****' it was; '…0Bearer abc…' no bearer, '****Bearer abc…' one
    red = tk.redact(glued, patterns=list(PATTERNS), method=method, salt="s36")
    assert tk.find_pii(red, keys=()).empty
    one = texts_frame([" 10.0.0.0/80.0.0.0Bearer abcdefgh1234", "(415) 555-0100(415) 555-0100+1 415 555 0100",
                       "x " + "(415) 555-0100" * 30 + " y"])  # a cascade: each mask frees the next phone
    assert tk.find_pii(tk.redact(one, method=method, salt="s36"), keys=()).empty
    # what was redacted before still is, and text no pattern finds is untouched
    assert tk.redact(texts_frame(["mail ann@example.com now"]), method="mask").loc[0, "attributes"]["m"] == "mail **** now"


def test_a_redaction_token_is_no_personal_data():
    # hmac:bc43b6f4983589464596 (the token of '9452' under salt 's') holds 4983589464596, which passes the card check
    token = "hmac:bc43b6f4983589464596"
    assert tk.redact(texts_frame(["9452"]), patterns=[r"\d+"], salt="s").loc[0, "attributes"]["m"] == token
    assert tk.find_pii(texts_frame(["x " + token]), keys=()).empty
    # a user key's value redacted whole is a token: find_pii after redact finds nothing (it reported a user_key)
    spans = texts_frame(["ann@example.com"], key="user.email")
    assert tk.find_pii(spans)["kind"].tolist() == ["user_key", "email"]
    assert tk.find_pii(tk.redact(spans)).empty
    assert tk.find_pii(tk.redact(spans, method="mask")).empty
    nested = texts_frame([{"user": {"id": "u-1"}}], key="metadata")
    assert tk.find_pii(tk.redact(nested)).empty


def test_short_ipv6_addresses_are_found_and_redacted():
    spans = texts_frame(["1::2", "::2", "::1", "a::b", "::"])  # the loopback, a word pair and the unspecified are none
    f = tk.find_pii(spans, keys=())
    assert f["span_id"].tolist() == [f"{1:016x}", f"{2:016x}"] and set(f["kind"]) == {"ipv6"}
    out = tk.redact(spans, method="mask")
    assert [a["m"] for a in out["attributes"]] == ["****", "****", "::1", "a::b", "::"]


def test_a_users_regex_finds_a_short_value():
    spans = texts_frame(["1234", "12"])
    assert tk.find_pii(spans, patterns=[r"\d{4}"], keys=())["span_id"].tolist() == [f"{1:016x}"]
    assert [a["m"] for a in tk.redact(spans, patterns=[r"\d{4}"], method="mask")["attributes"]] == ["****", "12"]


def _digits(text: str, zero: str) -> str:
    return "".join(chr(ord(zero) + int(c)) if c.isdigit() else c for c in text)


@pytest.mark.parametrize("zero", ["\u0660", "\u06f0", "\uff10", "\u0966"])  # Arabic-Indic, Persian, full-width, Devanagari
def test_digits_of_other_scripts_are_read_as_digits(zero):
    # \d matches them, so phone numbers were found; a card's prefix and Luhn check read only ASCII digits (no card
    # found), and an SSN's validity check neither (the invalid area 900 was reported)
    texts = ["card " + _digits("4111 1111 1111 1111", zero) + " x", "card " + _digits("4111 1111 1111 1112", zero) + " x",
             "ssn " + _digits("900-12-3456", zero) + " x", "ssn " + _digits("123-45-6789", zero) + " x"]
    f = tk.find_pii(texts_frame(texts), keys=())
    assert sorted(zip(f["span_id"], f["kind"], strict=True)) == [(f"{1:016x}", "card"), (f"{4:016x}", "ssn")]
    out = tk.redact(texts_frame(texts), method="mask")
    assert [a["m"] for a in out["attributes"]] == ["card **** x", texts[1], texts[2], "ssn **** x"]



# ------------------------------------------------------------------------------------------ TraceQL integer literals

def test_integer_literals_divide_as_tempos_parser_folds_them():
    # Tempo's newBinaryOperation folds a constant operation in Go's integer arithmetic when both sides are ints:
    # 3 / 2 = 1, -5 / 2 = -2 (toward zero), -7 % 3 = -1 and 7 % -3 = 1 (the dividend's sign)
    spans = mk([(1, i, None, "api", f"s{i}", "server", 0, 1) for i in range(1, 6)],
               attributes=[{"k": 1}, {"k": 1.5}, {"k": -2}, {"k": -1}, {"k": 2}])
    names = {q: sorted(tk.traceql(spans, q)["name"]) for q in (
        "{ span.k = 3 / 2 }", "{ span.k = -5 / 2 }", "{ span.k = -7 % 3 }", "{ span.k = 7 % -3 }",
        "{ span.k = 5 / 2 - 0.5 }", "{ span.k = 3.0 / 2 }")}
    assert names == {"{ span.k = 3 / 2 }": ["s1"], "{ span.k = -5 / 2 }": ["s3"], "{ span.k = -7 % 3 }": ["s4"],
                     "{ span.k = 7 % -3 }": ["s1"], "{ span.k = 5 / 2 - 0.5 }": ["s2"], "{ span.k = 3.0 / 2 }": ["s2"]}
    # a scalar filter's constant too: the 5 spans' count() = 7 % -3 + 4 is 5 (Python's % made it 2)
    assert len(tk.traceql(spans, "{ } | count() = 7 % -3 + 4")) == 5
    with pytest.raises(TraceQLError, match="division by zero"):
        tk.traceql(spans, "{ span.k = 1 / 0 }")


def test_count_is_an_integer_column():
    # Tempo's count() is an int (StaticInt); the column held 3.0
    spans = mk([(1, 1, None, "api", "a", "server", 0, 9), (1, 2, 1, "api", "b", "client", 1, 5),
                (1, 3, 1, "api", "c", "client", 2, 4)])
    r = tk.traceql(spans, "{ } | count() = 3")
    assert r["count()"].dtype == "int64" and r["count()"].tolist() == [3, 3, 3]


# ------------------------------------------------------------------------------------------ templates

def test_templates_mask_digits_of_any_script():
    # RE2's \d is ASCII: a full-width or Arabic-Indic number stayed in the template, so each order number of a
    # Japanese or Arabic service made a template (a span name of its own) of its own
    from tracekit.core.templates import text_templates

    texts = ["GET /u/45", "GET /u/\u0664\u0665", "GET /u/\uff14\uff15", "注文45件", "注文\uff14\uff15件", "共3条"]
    assert text_templates(texts).tolist() == ["GET /u/<*>"] * 3 + ["注文<*>件"] * 2 + ["共<*>条"]


# ------------------------------------------------------------------------------------------ TraceQL strings

def test_string_escapes_are_gos():
    # Tempo reads a string with Go's strconv.Unquote: \xNN and octal escapes are bytes (so "\xc3\xa9" is é), \' is no
    # escape inside "...", an octal escape is at most \377; the position of a bad escape (1-based) is its own
    spans = mk([(1, 1, None, "api", "é", "server", 0, 9), (1, 2, 1, "api", "Ã©", "client", 1, 5)])
    assert tk.traceql(spans, r'{ name = "\xc3\xa9" }')["name"].tolist() == ["é"]
    assert tk.traceql(spans, r'{ name = "\303\251" }')["name"].tolist() == ["é"]
    assert tk.traceql(spans, r'{ name = "\u00e9" }')["name"].tolist() == ["é"]
    for query, says, at in [(r'{ name = "it\'s" }', "invalid escape sequence", 13), (r'{ name = "\777" }', "more than 255", 11),
                            (r'{ name = "\n\q" }', "invalid escape sequence", 13), (r'{ name = "\xe9" }', "no UTF-8 text", 11)]:
        with pytest.raises(TraceQLError, match=says) as err:
            tk.traceql(spans, query)
        assert f"at position {at}:" in str(err.value), (query, str(err.value))


def test_select_or_by_of_name_status_kind_keeps_a_spans_frame():
    # select(name) / by(kind) wrote the column back as objects: the result failed validate_spans ('name' of dtype
    # object, expected string), though it is documented as the matching rows of the spans frame
    spans = mk([(1, 1, None, "api", "GET", "server", 0, 9), (1, 2, 1, "db", "q", "client", 1, 5)])
    for q in ("{ } | select(name, status, kind)", "{ } | by(kind) | count() = 1", "{ } | by(name) | select(status)"):
        r = tk.traceql(spans, q)
        tk.validate_spans(r)
        assert [str(r[c].dtype) for c in ("name", "status", "kind")] == [str(spans[c].dtype) for c in ("name", "status", "kind")]
        assert r["name"].tolist() == ["GET", "q"] and r["kind"].tolist() == ["server", "client"]
