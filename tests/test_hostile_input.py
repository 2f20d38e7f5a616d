"""Hostile input, issue 29: long values that made regexes backtrack, and what a hostile user feeds the
readers, the report and the CLI. Each test failed (or did not finish) on main at bdfeab2.

Long-value tests assert on the result of 200 KB inputs; on the old code they ran for minutes (the
regexes tried every start inside a long run: quadratic, or cubic for route segments). Their times
are measured by ``python benchmarks/bench_regex.py``, not asserted here.
"""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.error_origins import message_template

N = 200_000  # characters in one hostile value


def one(**cols) -> pd.DataFrame:
    base = {"trace_id": ["1" * 32], "span_id": ["a" * 16], "service": ["api"], "name": ["GET /"],
            "start": [0], "end": [1_000]}
    return tk.spans_from_columns({**base, **cols})


def exc(message: str) -> list[dict]:
    return [{"time": None, "name": "exception", "attributes": {"exception.type": "E", "exception.message": message}}]


# ------------------------------------------------------------------ top_exceptions: templates

def test_an_apostrophe_inside_a_word_is_not_a_quote():
    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32, "2" * 32, "3" * 32], "span_id": ["a" * 16] * 3, "service": ["api"] * 3,
        "name": ["get"] * 3, "start": [0, 1, 2], "end": [5, 6, 7],
        "events": [exc("Can't reach 'alice'"), exc("Can't reach 'bob'"), exc("can't parse it's body: \"x\"")]})
    te = tk.top_exceptions(spans)
    assert te["template"].tolist() == ["Can't reach '<str>'", "can't parse it's body: '<str>'"]
    assert te["count"].tolist() == [2, 1]  # was three groups: "Can'<str>'alice'", "Can'<str>'bob'", …
    assert message_template("users' ids 'a1' and 'b'") == "users' ids '<str>' and '<str>'"
    assert message_template("''") == "'<str>'"


@pytest.mark.parametrize("message,template", [
    ("1" * N, "<num>"),                                  # one long number: the <id> regex backtracked over it
    ("a1" * (N // 2), "<id>"),
    ("f" * N + "!", "f" * N + "!"),                      # hex letters only: not an id
    ("x " + "'a " * (N // 3), "x " + "'a " * (N // 3)),   # quotes that never close
    ("Can't " * (N // 6) + "'v'", "Can't " * (N // 6) + "'<str>'"),
    ("id 0x" + "ab12" * (N // 4) + " at 7", "id <id> at <num>"),
])
def test_message_templates_of_200_kb_messages(message, template):
    assert message_template(message) == template


def test_top_exceptions_on_a_200_kb_message():
    te = tk.top_exceptions(one(events=[exc("order " + "9" * N + " failed for 'x'")]))
    assert te["template"].tolist() == ["order <num> failed for '<str>'"]


# ------------------------------------------------------------------ PII on long values

def test_find_pii_and_redact_on_a_long_run_before_at():
    value = "x" * N + " @ then ann@example.com"
    s = one(attributes=[{"m": value, "n": "y" * N + "@"}])
    f = tk.find_pii(s, keys=())
    assert f[["key", "kind"]].values.tolist() == [["m", "email"]]
    out = tk.redact(s, patterns=["email"], method="mask").loc[0, "attributes"]
    assert out["m"] == "x" * N + " @ then ****" and out["n"] == "y" * N + "@"


@pytest.mark.parametrize("text,expected", [
    ("bad '" + "\\'" * (N // 2), "bad '" + "\\'" * (N // 2)),   # an opening quote whose escapes never close
    ("{" * N + " x", "{" * N + " x"),                            # brackets that never close
    ("got {'a': 1} and 'b" + "c" * N, "got **** and 'b" + "c" * N),
])
def test_redact_text_quoted_content_on_200_kb(text, expected):
    from tracekit.analysis.pii import redact_text

    assert redact_text(text, keys=["*"], patterns=[], method="mask") == expected


def test_routes_of_a_path_with_a_200_kb_segment():
    from tracekit.core import routes

    s = tk.spans_from_columns({
        "trace_id": ["1" * 32] * 4, "span_id": [f"{i:016x}" for i in range(1, 5)], "service": ["web"] * 4,
        "name": ["GET"] * 4, "start": [0] * 4, "end": [1] * 4,
        "attributes": [{"url.path": "/a/" + "1" * N + "x."}, {"url.path": "/a/" + "a1" * (N // 2)},
                       {"url.path": "/a/" + "1" * N}, {"url.path": "/orders/ab12cd/items/7"}]})
    assert routes(s).tolist() == ["/a/" + "1" * N + "x.", "/a/{id}", "/a/{id}", "/orders/{id}/items/{id}"]


def test_scrub_on_long_runs_keeps_redacting_urls():
    from tracekit.aws.client import scrub

    assert scrub("a." * (N // 2) + "x") == "a." * (N // 2) + "x"
    assert scrub("see a." * 3 + "https://u:pw@h/p?" + "?" * N + "k=secret") == (
        "see a." * 3 + "https://***@h/p?" + "?" * N + "k=***")
    assert scrub(".x://u:pw@h") == ".x://***@h"  # a scheme after a dot is still a scheme


def test_xray_rule_wildcards_on_a_200_kb_path():
    from tracekit.analysis.sampling.xray_rules import match_xray_rule

    rules = [{"RuleName": "r", "Priority": 1, "FixedRate": 0.1, "ReservoirSize": 1, "URLPath": "*a*b*c"},
             {"RuleName": "Default", "Priority": 10000, "FixedRate": 0.05, "ReservoirSize": 1}]
    assert match_xray_rule(rules, path="a" * N) == "Default"
    assert match_xray_rule(rules, path="a" * N + "bXc") == "r"
    assert match_xray_rule(rules, path="?" * 3) == "Default"


# ------------------------------------------------------------------ readers: paths and gzip bombs

@pytest.mark.parametrize("reader", ["read", "read_otlp", "read_xray"])
@pytest.mark.parametrize("path", ["", "  ", [""]])
def test_an_empty_path_is_an_argument_error_not_the_working_directory(reader, path):
    with pytest.raises(tk.ArgumentError, match="empty path"):
        getattr(tk, reader)(path)


def bomb(path, megabytes: int) -> None:
    """A gzip file of one OTLP object padded with ``megabytes`` MiB of blanks (about 1,000x smaller)."""
    import zlib

    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(path, "wb") as f:
        f.write(co.compress(b'{"resourceSpans": ['))
        for _ in range(megabytes):
            f.write(co.compress(b" " * 2**20))
        f.write(co.compress(b"]}") + co.flush())


@pytest.mark.parametrize("reader", ["read", "read_otlp", "read_xray"])
def test_a_gzip_bomb_is_refused_naming_the_file(tmp_path, monkeypatch, reader):
    from tracekit.io import _sources

    monkeypatch.setattr(_sources, "GZIP_MIN_CAP", 2**20)  # the floor scaled down: 1 MiB
    p = tmp_path / "bomb.json.gz"
    bomb(p, 40)  # 40 MiB from ~40 KB: over 100x its compressed size
    assert p.stat().st_size * _sources.GZIP_RATIO_CAP < 40 * 2**20
    with pytest.raises(tk.TraceFormatError, match="bomb.json.gz: gzip data decompresses to more than") as e:
        getattr(tk, reader)(p)
    assert "TRACEKIT_MAX_DECOMPRESSED_BYTES" in str(e.value)
    monkeypatch.setenv("TRACEKIT_MAX_DECOMPRESSED_BYTES", "0")  # no cap: read whole (an OTLP file with no spans)
    with pytest.raises(tk.TraceFormatError, match="no spans"):
        tk.read_otlp(p)


def test_gzip_within_the_cap_multi_member_and_trailing_garbage(tmp_path, monkeypatch):
    from tracekit.io._sources import gzip_bytes, read_bytes

    line = b'{"resourceSpans": []}\n'
    assert read_bytes(gzip_bytes(line) + gzip_bytes(line), "two.gz") == line * 2  # members concatenated
    assert read_bytes(gzip_bytes(line) + b"\0" * 8, "pad.gz") == line
    with pytest.raises(tk.TraceFormatError, match="trailing data"):
        read_bytes(gzip_bytes(line) + b"junk", "junk.gz")
    with pytest.raises(tk.TraceFormatError, match="truncated"):
        read_bytes(gzip_bytes(line)[:-6], "cut.gz")
    monkeypatch.setenv("TRACEKIT_MAX_DECOMPRESSED_BYTES", "10")
    with pytest.raises(tk.TraceFormatError, match="more than"):
        read_bytes(gzip_bytes(line), "small.gz")


def test_a_small_bomb_of_tiny_records_is_refused_by_the_default_floor(tmp_path):
    """A 100 MiB stream of 12-byte log lines from a ~100 KB file: under the old 512 MiB floor it was read, and
    its 8.7 million rows would take ~6 GiB (750 bytes a row); the 64 MiB floor refuses it before any parsing."""
    import zlib

    from tracekit.io import _sources

    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b'{"msg":"a"}\n' * 2**16
    p = tmp_path / "tiny.jsonl.gz"
    with open(p, "wb") as f:
        for _ in range(100 * 2**20 // len(chunk)):
            f.write(co.compress(chunk))
        f.write(co.flush())
    assert p.stat().st_size * _sources.GZIP_RATIO_CAP < 64 * 2**20  # so the floor, not the ratio, decides
    with pytest.raises(tk.TraceFormatError, match="tiny.jsonl.gz: gzip data decompresses to more than 64 MiB"):
        tk.read_logs(p)


def _cut_gzip(path, lines: list[bytes]) -> tuple[int, int]:
    """``lines`` gzipped and cut 40 bytes before the end; returns (lines wholly before the cut, bytes before it)."""
    import zlib

    from tracekit.io._sources import gzip_bytes

    data = gzip_bytes(b"".join(lines))[:-40]
    path.write_bytes(data)
    got = zlib.decompressobj(31).decompress(data)  # what a reader can get back
    return got.count(b"\n"), len(got)


@pytest.mark.parametrize("reader", ["read", "read_otlp", "read_xray", "read_logs", "read_metrics"])
def test_a_cut_gzip_file_loads_what_was_before_the_cut_when_skipping_and_says_it_was_cut(tmp_path, reader):
    import json

    t0 = 1_700_000_000_000_000_000
    docs = {"read": lambda i: {"resourceSpans": [{"resource": {"attributes": [
                {"key": "service.name", "value": {"stringValue": f"svc{i % 7}"}}]}, "scopeSpans": [{"spans": [{
                "traceId": f"{i + 1:032x}", "spanId": f"{i + 1:016x}", "name": f"op{i}",
                "startTimeUnixNano": str(t0 + i), "endTimeUnixNano": str(t0 + i + 1000)}]}]}]},
            "read_xray": lambda i: {"trace_id": f"1-5f000000-{i:024x}", "id": f"{i + 1:016x}", "name": f"svc{i % 7}",
                                    "start_time": 1.6e9 + i, "end_time": 1.6e9 + i + 0.5},
            "read_logs": lambda i: {"resourceLogs": [{"scopeLogs": [{"logRecords": [{
                "timeUnixNano": str(t0 + i), "body": {"stringValue": f"request {i} done in {i * 7 % 97} ms"}}]}]}]},
            "read_metrics": lambda i: {"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": f"m{i % 5}",
                "gauge": {"dataPoints": [{"timeUnixNano": str(t0 + i), "asDouble": i * 0.37}]}}]}]}]}}
    docs["read_otlp"] = docs["read"]  # (read_otlp's fast path loaded nothing of a cut file: 0 rows of 200-odd)
    p = tmp_path / "cut.jsonl.gz"
    whole, n_bytes = _cut_gzip(p, [json.dumps(docs[reader](i)).encode() + b"\n" for i in range(300)])
    assert 100 < whole < 300
    fn = getattr(tk, reader)
    with pytest.raises(tk.TraceFormatError, match="cut.jsonl.gz: gzip data is truncated or corrupt"):
        fn(p)
    with pytest.warns(tk.TraceFormatWarning):
        df = fn(p, errors="skip")
    assert len(df) == whole and df.attrs["truncated"] is True
    reasons = [s.reason for s in df.attrs["skipped"]]
    assert reasons[0].startswith("gzip data is truncated") and f"the {n_bytes:,} bytes before the cut" in reasons[0]
    assert df.attrs["skipped"][0].record == "gzip stream" and len(reasons) <= 2

def test_cli_says_a_gzip_bomb_in_one_line(tmp_path):
    import os
    import subprocess
    import sys

    p = tmp_path / "bomb.json.gz"
    bomb(p, 8)
    env = {**os.environ, "TRACEKIT_MAX_DECOMPRESSED_BYTES": str(2**20),
           "PYTHONPATH": os.path.dirname(os.path.dirname(tk.__file__))}
    r = subprocess.run([sys.executable, "-m", "tracekit", "summary", str(p)], capture_output=True, text=True,
                       env=env, timeout=300)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1 and "bomb.json.gz: gzip data decompresses to more than 1 MiB" in r.stderr


# ------------------------------------------------------------------ times at the edge of datetime64[ns]

def otlp_doc(*times):
    spans = [{"traceId": f"5759e988bd862e3fe1be46a9942727{i:02d}", "spanId": f"eee19b7ec3c1b1{i:02d}", "name": "GET /",
              "kind": 2, "startTimeUnixNano": str(st), "endTimeUnixNano": str(et)} for i, (st, et) in enumerate(times)]
    return {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "api"}}]},
                               "scopeSpans": [{"spans": spans}]}]}


NEAR_2262 = 2**63 - 1 - 10**9  # 2262-04-11 23:47:15: datetime64[ns] holds it, a bucket after it does not


@pytest.mark.parametrize("as_bytes", [False, True])
def test_a_span_near_2262_is_refused_naming_the_record(as_bytes):
    import json

    doc = otlp_doc((NEAR_2262, NEAR_2262 + 10**6), (1_700_000_000 * 10**9, 1_700_000_000 * 10**9 + 10**8))
    src = json.dumps(doc).encode() if as_bytes else doc
    with pytest.raises(tk.TraceFormatError, match=r"spans\[0\]: startTimeUnixNano '9223372035854775807' is out of "
                                                  r"range: 0 to 9214646400000000000 ns \(1970-01-01 to 2262-01-01"):
        tk.read_otlp(src)
    with pytest.warns(tk.TraceFormatWarning):
        s = tk.read(src, errors="skip")
    assert s["span_id"].tolist() == ["eee19b7ec3c1b101"] and "out of range" in s.attrs["skipped"][0].reason


def test_an_xray_segment_near_2262_is_refused():
    seg = {"trace_id": "1-5759e988-bd862e3fe1be46a994272793", "id": "eee19b7ec3c1b174", "name": "api",
           "start_time": 9_223_372_000.0, "end_time": 9_223_372_000.5}
    with pytest.raises(tk.TraceFormatError, match="start_time 9223372000.0 is out of range: 0 to 9214646400 s"):
        tk.read_xray([seg])


def test_the_latest_and_earliest_times_readers_accept_go_through_the_report(tmp_path):
    from tracekit.core import TIME_MAX_NS, TIME_MIN_NS

    late = tk.read(otlp_doc((TIME_MAX_NS - 2 * 10**9, TIME_MAX_NS - 10**9), (TIME_MAX_NS - 10**9, TIME_MAX_NS)))
    assert late["end"].max() == pd.Timestamp(TIME_MAX_NS, tz="UTC")
    assert tk.report(late, tmp_path / "late.html").stat().st_size > 0  # crashed: OutOfBoundsDatetime in the timeline
    t0 = TIME_MIN_NS / 1e9 + 1
    early = tk.read_xray([{"trace_id": "1-5759e988-bd862e3fe1be46a994272793", "id": f"eee19b7ec3c1b17{i}", "name": "api",
                           "start_time": t0 + i, "end_time": t0 + i + 0.5} for i in range(2)])
    assert tk.report(early, tmp_path / "early.html").stat().st_size > 0


BEYOND_64_BITS = "123456789012345678901234567890"  # a JSON integer orjson reads as the float 1.2345678901234568e+29
BIG_INT_RECORDS = {  # reader, the record (BEYOND_64_BITS in place of @), what the error names
    "span start": ("read", '{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "5759e988bd862e3fe1be46a994272793", '
                   '"spanId": "eee19b7ec3c1b174", "name": "x", "startTimeUnixNano": @, "endTimeUnixNano": "2"}]}]}]}',
                   "startTimeUnixNano "),  # (kept exact: "startTimeUnixNano 1234…890 is out of range")
    "OTLP log time": ("read_logs", '{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"timeUnixNano": @, '
                      '"body": {"stringValue": "x"}}]}]}]}', "timeUnixNano must be nanoseconds since the epoch"),
    "JSON log time": ("read_logs", '{"msg": "x", "time": @}', "time "),
    "metric point time": ("read_metrics", '{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "m", "gauge": '
                          '{"dataPoints": [{"timeUnixNano": @, "asDouble": 1}]}}]}]}]}', "timeUnixNano must be a "),
    "exemplar time": ("read_metrics", '{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "m", "gauge": '
                      '{"dataPoints": [{"timeUnixNano": "1", "asDouble": 1, "exemplars": [{"timeUnixNano": @, '
                      '"asDouble": 1}]}]}}]}]}]}', "exemplars[0].timeUnixNano must be a "),
    "X-Ray start_time": ("read_xray", '{"trace_id": "1-5759e988-bd862e3fe1be46a994272793", "id": "eee19b7ec3c1b174", '
                         '"name": "x", "start_time": @, "end_time": 2.0}', "start_time "),
}


@pytest.mark.parametrize("case", list(BIG_INT_RECORDS))
def test_an_integer_beyond_64_bits_is_said_to_be_one_not_shown_as_a_float_never_written(case):
    """orjson reads a JSON integer beyond 64 bits as a float: every reader said 'got 1.2345678901234568e+29', a number
    the file does not hold. The shared short() says 'a number beyond 64 bits' (the parse cannot tell an integer from
    a float written in exponent form), with its size."""
    reader, record, field = BIG_INT_RECORDS[case]
    data = record.replace("@", BEYOND_64_BITS).encode()
    with pytest.raises(tk.TraceFormatError) as e:
        getattr(tk, reader)(data)
    # (or the integer itself, where the parse keeps it exact: tracekit.io._sources.exact_ints)
    assert f"{field}" in str(e.value) and ("a number beyond 64 bits (about 1.2346e+29)" in str(e.value)
                                           or f" {BEYOND_64_BITS} " in str(e.value))
    assert "1.2345678901234568e+29" not in str(e.value)
    with pytest.warns(tk.TraceFormatWarning):
        df = getattr(tk, reader)(data, errors="skip")
    reason = df.attrs["skipped"][0].reason
    assert "a number beyond 64 bits" in reason or f" {BEYOND_64_BITS} " in reason


# ------------------------------------------------------------------ bad links, unnamed spans

def test_a_bad_link_is_left_out_and_listed_the_span_kept():
    import json
    import warnings

    good = {"traceId": "5759e988bd862e3fe1be46a994272799", "spanId": "aaaaaaaaaaaaaaaa"}
    sp = {"traceId": "5759e988bd862e3fe1be46a994272793", "spanId": "eee19b7ec3c1b174", "name": "recv", "kind": 5,
          "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000100000000",
          "links": [{"traceId": "00", "spanId": "zz"}, {"traceId": "0" * 32, "spanId": ""}, good]}
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": [sp]}]}]}
    for src in (doc, json.dumps(doc).encode()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", tk.TraceFormatWarning)
            s = tk.read(src, errors="skip")
        assert s["span_id"].tolist() == ["eee19b7ec3c1b174"]  # was dropped whole
        links = s["links"].iloc[0]
        assert [(lk["trace_id"], lk["span_id"]) for lk in links] == [(None, None), (good["traceId"], good["spanId"])]
        (rec,) = s.attrs["skipped"]
        assert rec.record == "resourceSpans[0].scopeSpans[0].spans[0].links[0]"
        assert rec.reason.endswith("got '00': the link was left out, the span kept")
    with pytest.raises(tk.TraceFormatError, match="link traceId must be 32 hex digits"):
        tk.read(doc)  # errors="raise": still an error
    seg = {"trace_id": "1-5759e988-bd862e3fe1be46a994272793", "id": "eee19b7ec3c1b174", "name": "api",
           "start_time": 1.7e9, "end_time": 1.7e9 + 1,
           "links": [{"trace_id": "bad", "id": "x"}, {"trace_id": "", "id": "0" * 16},
                     {"trace_id": "1-5759e988-bd862e3fe1be46a994272799", "id": "aaaaaaaaaaaaaaaa"}]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tk.TraceFormatWarning)
        x = tk.read_xray([seg], errors="skip")
    assert len(x) == 1 and [lk["trace_id"] for lk in x["links"].iloc[0]] == [None, good["traceId"]]
    assert "links[0].trace_id 'bad'" in x.attrs["skipped"][0].reason and "segment kept" in x.attrs["skipped"][0].reason


def test_a_span_without_a_name_is_called_unnamed_everywhere(tmp_path):
    import json

    from tracekit.core import UNNAMED, operations

    sp = {"traceId": "5759e988bd862e3fe1be46a994272793", "spanId": "eee19b7ec3c1b174", "kind": 2,
          "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000100000000"}
    doc = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "api"}}]},
                              "scopeSpans": [{"spans": [sp, {**sp, "spanId": "eee19b7ec3c1b175", "name": "",
                                                             "parentSpanId": "eee19b7ec3c1b174"}]}]}]}
    for src in (doc, json.dumps(doc).encode()):
        s = tk.read(src)
        assert s["name"].tolist() == [UNNAMED, UNNAMED]
    assert set(operations(s)) == {f"api:{UNNAMED}"}
    assert set(tk.critical_path(s)["name"]) == {UNNAMED}
    seg = {"trace_id": "1-5759e988-bd862e3fe1be46a994272793", "id": "eee19b7ec3c1b174", "name": "",
           "start_time": 1.7e9, "end_time": 1.7e9 + 1}
    assert tk.read_xray([seg])["name"].tolist() == [UNNAMED]


# ------------------------------------------------------------------ encodings

OTLP_ONE = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "café"}}]},
                               "scopeSpans": [{"spans": [{
                                   "traceId": "5759e988bd862e3fe1be46a994272793", "spanId": "eee19b7ec3c1b174",
                                   "name": "GET /é", "kind": 2, "startTimeUnixNano": "1700000000000000000",
                                   "endTimeUnixNano": "1700000000100000000"}]}]}]}


@pytest.mark.parametrize("encoding,bom", [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"), ("utf-16-le", b""),
                                          ("utf-16-be", b""), ("utf-32-le", b"\xff\xfe\x00\x00"), ("utf-8", b"\xef\xbb\xbf")])
@pytest.mark.parametrize("gz", [False, True])
def test_utf16_and_utf32_files_are_read(tmp_path, encoding, bom, gz):
    """Windows PowerShell's `>` writes UTF-16 with a BOM: such a file was 'not JSON: file starts with b'\\xff\\xfe{…'."""
    import json

    from tracekit.io._sources import gzip_bytes

    data = bom + json.dumps(OTLP_ONE, ensure_ascii=False).encode(encoding)
    p = tmp_path / ("t.json.gz" if gz else "t.json")
    p.write_bytes(gzip_bytes(data) if gz else data)
    for reader in (tk.read, tk.read_otlp):
        s = reader(p)
        assert s[["service", "name"]].values.tolist() == [["café", "GET /é"]]


def test_xray_utf16_file_is_read(tmp_path):
    import json

    seg = {"trace_id": "1-5759e988-bd862e3fe1be46a994272793", "id": "eee19b7ec3c1b174", "name": "api",
           "start_time": 1.7e9, "end_time": 1.7e9 + 1}
    p = tmp_path / "x.json"
    p.write_bytes(b"\xff\xfe" + json.dumps(seg).encode("utf-16-le"))
    assert tk.read_xray(p)["name"].tolist() == ["api"] and tk.read(p)["name"].tolist() == ["api"]


def test_not_utf8_and_too_deep_files_say_what_is_wrong(tmp_path):
    import json

    latin = tmp_path / "latin1.json"
    latin.write_bytes(json.dumps(OTLP_ONE, ensure_ascii=False).encode("latin-1"))
    with pytest.raises(tk.TraceFormatError, match=r"latin1.json: not valid JSON: not UTF-8 text \(JSON must be "
                                                  r"UTF-8\): byte [0-9,]+ is b'\\xe9'"):
        tk.read(latin)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)  # parsed (any depth), then said to be no trace data
    for reader in (tk.read, tk.read_otlp, tk.read_xray):  # was a RecursionError once parsed
        with pytest.raises(tk.TraceFormatError, match=r"deep.json, (line 1, )?\[0\].*: lists nested more than 16 deep"):
            reader(deep)
    bad16 = tmp_path / "bad16.json"
    bad16.write_bytes(b"\xff\xfe" + b"{\x00" + b"\x00\xd8")  # a lone surrogate
    with pytest.raises(tk.TraceFormatError, match="bad16.json: file looks like UTF-16-LE text but is not valid"):
        tk.read(bad16)


def test_values_nested_3000_deep_written_by_the_writers_read_back(tmp_path):
    """write_otlp / write_xray keep a 3,000-deep attribute value whole; the readers refused the file they
    wrote (orjson stops at 1,024 levels: 'depth limit exceeded'). Past that depth the readers parse with an
    explicit stack."""
    v = "ann"
    for i in range(3000):
        v = {"k": v} if i % 2 else [v]
    s = tk.spans_from_columns({"trace_id": ["1" * 32], "span_id": ["a" * 16], "service": ["web"], "name": ["GET"],
                               "start": [0], "end": [10**6], "attributes": [{"m": v, "n": 1}]})
    for path in (tk.write_otlp(s, tmp_path / "t.jsonl"), tk.write_otlp(s, tmp_path / "t.json.gz")):
        back = tk.read(path)
        got = back["attributes"].iloc[0]["m"]
        for i in range(2999, -1, -1):
            got = got["k"] if i % 2 else got[0]
        assert got == "ann" and back["attributes"].iloc[0]["n"] == 1
    x = tk.read_xray(tk.write_xray(s, tmp_path / "x.json"))
    assert tk.core.to_text(x["attributes"].iloc[0]).count("ann") == 1


@pytest.mark.parametrize("reader", ["read", "read_otlp", "read_xray", "read_logs", "read_metrics"])
def test_lists_nested_100000_deep_are_said_not_to_be_data_never_a_recursion_error(reader):
    """read_metrics recursed into each list (RecursionError out of the reader); the others said so at 16."""
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(tk.TraceFormatError, match="lists nested more than 16 deep"):
        getattr(tk, reader)(deep)
    with pytest.warns(tk.TraceFormatWarning):
        df = getattr(tk, reader)(deep, errors="skip")
    assert len(df) == 0 and "nested more than 16 deep" in df.attrs["skipped"][0].reason


@pytest.mark.parametrize("reader", ["read", "read_otlp", "read_xray", "read_logs", "read_metrics"])
def test_bad_json_nested_past_1024_levels_is_said_to_be_bad_json_where_it_is_bad(reader):
    """JSON past orjson's 1,024 levels is parsed (any depth); when it is not valid, every reader said orjson's
    'depth limit exceeded' as 'JSON nested more than 1,024 levels deep (the parser's limit): not trace data', from
    read_logs and read_metrics too, at the place the depth was passed. The deep parser says what is wrong and where."""
    bad = b'{"a": ' + b"[" * 1100 + b"1,]" + b"]" * 1099 + b"}"  # a trailing comma 1,101 levels down, at char 1108
    assert bad[1108:1109] == b"]"
    read = getattr(tk, reader)
    with pytest.raises(tk.TraceFormatError) as e:
        read(bad)
    assert str(e.value) == ("<object>: not valid JSON (expected a value, in JSON nested more than 1,024 levels deep: "
                            "line 1 column 1109 (char 1108))")
    cut = b'{"a": ' + b"[" * 1100 + b"1" + b"]" * 1000  # a valid document cut short: a truncated file
    with pytest.warns(tk.TraceFormatWarning, match="file is truncated: JSON ends early"):
        df = read(cut, errors="skip")
    assert len(df) == 0 and df.attrs["truncated"] is True
    assert "unexpected end of data, in JSON nested more than 1,024 levels deep" in df.attrs["skipped"][0].reason


def test_nan_and_infinity_as_python_writes_them_are_read_as_the_floats_they_stand_for():
    """json.dumps writes NaN / Infinity (allow_nan defaults to True); orjson refuses them, so a metrics file with one
    NaN value was refused whole (errors="skip": the line dropped). They are read on the slow path (Python's json,
    after orjson stopped at such a token); a field that needs a time or a duration still checks it."""
    import json
    import math

    t0 = 1_700_000_000_000_000_000
    values = [1.5, float("nan"), float("inf"), -float("inf")]
    lines = "".join(json.dumps({"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "lag", "gauge": {
        "dataPoints": [{"timeUnixNano": str(t0 + i), "asDouble": v}]}}]}]}]}) + "\n" for i, v in enumerate(values))
    assert "NaN" in lines and "-Infinity" in lines
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = tk.read_metrics(lines.encode())["value"].tolist()
        one = tk.read_metrics(json.dumps({"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "lag", "gauge": {
            "dataPoints": [{"timeUnixNano": str(t0 + i), "asDouble": v} for i, v in enumerate(values)]}}]}]}]},
            indent=1).encode())["value"].tolist()  # one pretty-printed document
        logs = tk.read_logs(json.dumps({"msg": "slow", "time": "2025-11-25T10:00:00Z", "ratio": float("nan")}).encode())
    for g in (got, one):
        assert g[0] == 1.5 and math.isnan(g[1]) and g[2:] == [math.inf, -math.inf]
    assert math.isnan(logs["attributes"][0]["ratio"])
    seg = json.dumps({"trace_id": "1-5759e988-bd862e3fe1be46a994272793", "id": "53995c3f42cd8ad8", "name": "api",
                      "start_time": 1.5, "end_time": float("nan")})
    with pytest.raises(tk.TraceFormatError, match=r"end_time nan is out of range: 0 to 9214646400 s"):
        tk.read_xray(seg)
    with pytest.raises(tk.TraceFormatError, match="not valid JSON"):
        tk.read_metrics(b'{"resourceMetrics": [NaNa]}')  # not Python's NaN either: orjson's error, as before


@pytest.mark.parametrize("reader", ["read", "read_logs", "read_metrics"])
def test_thousands_of_skipped_records_ride_along_without_being_copied(tmp_path, reader):
    """A lenient read of a file that is mostly bad lines lists each one in ``attrs["skipped"]``; pandas deep-copies a
    frame's attrs into every column it hands out and every frame it derives, which with 10,000 skipped records made
    each ``df[col]`` cost 113 ms (23 µs now; measured, not asserted). The list is a SharedTuple: its deep copy is
    itself, so columns, cuts, copies and analyses' frames share the reader's one tuple, which still equals the plain
    tuple and survives a parquet store."""
    import copy

    from tracekit.schema import SharedTuple

    spans = tk.examples.load("checkout-small")
    good = {"read": lambda p: tk.write_otlp(spans, p),
            "read_logs": lambda p: p.write_text('{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"timeUnixNano": "1", '
                                                '"body": {"stringValue": "ok"}}]}]}]}\n'),
            "read_metrics": lambda p: p.write_text('{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "m", '
                                                   '"gauge": {"dataPoints": [{"timeUnixNano": "1", "asDouble": 1}]}}]}]}]}\n')}
    path = tmp_path / "messy.jsonl"
    good[reader](path)
    n_good = len(path.read_text().splitlines())
    with path.open("a") as f:
        f.writelines(f"{{not json {i}\n" for i in range(2_000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = getattr(tk, reader)(path, errors="skip")
    skipped = df.attrs["skipped"]
    assert len(df) >= 1 and len(skipped) == 2_000 and isinstance(skipped, SharedTuple)
    assert skipped == tuple(skipped) and skipped[0].record == f"line {n_good + 1}"
    assert copy.deepcopy(df.attrs)["skipped"] is skipped
    for derived in (df[df.columns[0]], df.iloc[:1], df.copy(), df.reset_index(drop=True)):
        assert derived.attrs["skipped"] is skipped
    if reader == "read":
        assert tk.critical_path(df).attrs.get("skipped", skipped) is skipped
        tk.write_parquet(df, tmp_path / "s.parquet")
        again = tk.read(tmp_path / "s.parquet").attrs["skipped"]
        assert isinstance(again, SharedTuple) and again == skipped


XRAY_TID = "1-69a59817-3b1c9daf7b4b3fcf7143b4fb"


def test_an_xray_document_of_lists_in_lists_is_bad_input_not_a_recursion_error():
    """A Document string of 1,000 nested lists recursed once per level in the X-Ray reader (RecursionError); a
    Document is a segment or a list of segments."""
    for doc in ("[" * 1000 + "]" * 1000, "[[1]]"):
        page = {"Traces": [{"Id": XRAY_TID, "Segments": [{"Id": "cd4d05b423e7710e", "Document": doc}]}]}
        with pytest.raises(tk.TraceFormatError, match=r"Traces\[0\]\.Segments\[0\]\[0\]: a Document's list holds a list"):
            tk.read_xray(page)


@pytest.mark.parametrize("flag", ["fault", "error", "throttle"])
@pytest.mark.parametrize("value", [1, "yes", "true", [True]])
def test_an_xray_error_flag_that_is_not_a_boolean_is_bad_input(flag, value):
    """"fault": 1 or "error": "yes" read as no fault: the span was 'ok' and the value gone. Both readers (the
    typed fast path falls back to the checked one on a non-boolean) name the segment."""
    seg = {"id": "cd4d05b423e7710e", "name": "api", "trace_id": XRAY_TID, "start_time": 1772460055.89,
           "end_time": 1772460055.99, flag: value}
    page = {"Traces": [{"Id": XRAY_TID, "Segments": [{"Id": seg["id"], "Document": json.dumps(seg)}]}]}
    for data in ([seg], page):
        with pytest.raises(tk.TraceFormatError, match=f"segment 'cd4d05b423e7710e' \\('api'\\): {flag} must be true or "
                                                      "false"):
            tk.read_xray(data)
    ok = tk.read_xray([{**seg, flag: True, "subsegments": [{**seg, "id": "cd4d05b423e7710f", flag: None}]}])
    assert ok[flag].tolist() == [True, False] and ok["status"].tolist() == ["error", "ok"]


@pytest.mark.parametrize("value", ["abc", 2**70, -1, 1.5, "0x01"])
def test_otlp_flags_outside_uint32_are_bad_input_not_missing(value):
    """A span's flags "abc" or 2**70 were read as <NA> with no word, -1 was kept; flags are fixed32."""
    span = {"traceId": "5759e988bd862e3fe1be46a994272793", "spanId": "eee19b7ec3c1b174", "name": "GET /",
            "kind": 2, "startTimeUnixNano": "0", "endTimeUnixNano": "1000000"}
    link = {"traceId": "5759e988bd862e3fe1be46a994272793", "spanId": "eee19b7ec3c1b175"}
    for sp, what in (({**span, "flags": value}, "flags"), ({**span, "links": [{**link, "flags": value}]}, "link flags")):
        doc = {"resourceSpans": [{"scopeSpans": [{"spans": [sp]}]}]}
        for data in (doc, json.dumps(doc).encode()):  # the checked walk and the typed fast path
            with pytest.raises(tk.TraceFormatError, match=rf"spans\[0\]: {what} must be a 32-bit unsigned integer"):
                tk.read_otlp(data)
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": [{**span, "flags": "257", "links": [{**link, "flags": 1}]}]}]}]}
    got = tk.read_otlp(json.dumps(doc).encode())
    assert got.loc[0, "flags"] == 257 and got.loc[0, "links"][0]["flags"] == 1


@pytest.mark.parametrize("reader", ["read", "read_otlp", "read_xray", "read_logs", "read_metrics"])
def test_a_gzip_file_object_is_capped_like_a_gzip_file_and_a_device_is_refused(reader):
    """gzip.open(...) handed to a reader decompressed as it was read: a 3 MB bomb reached 3.4 GB (MemoryError),
    where the same bytes by path are refused by the cap; /dev/zero was read until memory ran out."""
    import gzip
    import io

    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb") as g:
        for _ in range(80):
            g.write(b" " * 2**20)  # 80 MiB of blanks in ~80 KB: over the 64 MiB floor of the cap
    buf.seek(0)
    read = getattr(tk, reader)
    with pytest.raises(tk.TraceFormatError, match=r"the gzip file object decompresses to more than 64 MiB .*decompression "
                                                   r"bomb"):
        read(gzip.GzipFile(fileobj=buf))
    with pytest.raises(tk.TraceFormatError, match=r"/dev/zero: not a file of trace data: a character device"):
        read("/dev/zero")
    small = io.BytesIO(gzip.compress(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": "5759e988bd862e3fe1be46a994272793", "spanId": "eee19b7ec3c1b174", "name": "GET /", "kind": 2,
        "startTimeUnixNano": "0", "endTimeUnixNano": "1000000"}]}]}]}).encode()))
    if reader in ("read", "read_otlp"):  # a gzip file object of trace data still reads
        assert read(gzip.GzipFile(fileobj=small))["span_id"].tolist() == ["eee19b7ec3c1b174"]
