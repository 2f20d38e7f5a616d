"""Fuzzing the readers (issue 17): documents mutated in type, nesting, truncation and encoding.

Properties, for ``read_otlp``, ``read_xray`` and the sniffing ``read``:

* a read either returns a valid spans frame or raises :class:`~tracekit.errors.TraceFormatError`
  (never a bare ``TypeError``/``KeyError``/``RecursionError``/Arrow error);
* with ``errors="skip"`` it never raises, and a strict read that succeeded gives the same frame;
* with ``errors="skip"``, in a JSON-lines file of one span (OTLP) or segment (X-Ray) per line where
  one line is mutated, every span of the other lines loads.

Base documents: small ones written here (from FORMATS.md) and, when the folder is there, real
public files read in place from /work/shared/real-traces. Examples are bounded so these tests stay
at a few seconds; ``benchmarks/fuzz_readers.py`` runs the same strategies with many more.
"""

from __future__ import annotations

import gzip
import json
import warnings
from typing import Any

import orjson
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracekit as tk
from tracekit.errors import TraceFormatError
from tracekit.io.sniff import read

from .conftest import REAL_TRACES as REAL

REAL_FILES = {"otlp": ["opentelemetry-proto/trace.json", "jaeger-ui/utils-fixtures/otlp2jaeger-multi-in.json.txt"],
              "xray": ["aws-cli-examples-xray/batch-traces-get.rst.output.json",
                       "otel-contrib-awsxray-testdata/ddbSample.txt"]}

T0 = 1_700_000_000_000_000_000


def _kv(k: str, v: dict) -> dict:
    return {"key": k, "value": v}


def otlp_span(i: int, parent: int | None = None) -> dict:
    sp = {"traceId": f"{i // 4 + 1:032x}", "spanId": f"{i + 1:016x}", "name": f"op{i}", "kind": 1 + i % 5,
          "startTimeUnixNano": str(T0 + i), "endTimeUnixNano": str(T0 + 1_000_000 + i),
          "attributes": [_kv("http.response.status_code", {"intValue": "200"}), _kv("s", {"stringValue": "x"}),
                         _kv("d", {"doubleValue": 1.5}), _kv("b", {"boolValue": True}),
                         _kv("a", {"arrayValue": {"values": [{"stringValue": "y"}, {"intValue": 3}]}}),
                         _kv("m", {"kvlistValue": {"values": [_kv("k", {"stringValue": "v"})]}})],
          "events": [{"timeUnixNano": str(T0 + 5), "name": "ev", "attributes": [_kv("e", {"intValue": "1"})]}],
          "links": [{"traceId": f"{i + 9:032x}", "spanId": f"{i + 9:016x}", "traceState": "a=b"}],
          "status": {"code": i % 3, "message": "m"}, "traceState": "ot=th:0", "flags": 257}
    if parent is not None:
        sp["parentSpanId"] = f"{parent + 1:016x}"
    return sp


def otlp_doc(spans: list[dict]) -> dict:
    return {"resourceSpans": [{"resource": {"attributes": [_kv("service.name", {"stringValue": "api"})]},
                               "scopeSpans": [{"scope": {"name": "lib", "version": "1"}, "spans": spans}]}]}


def xray_segment(i: int) -> dict:
    return {"trace_id": f"1-5759e988-{i // 4 + 1:024x}", "id": f"{i + 1:016x}", "name": f"svc{i % 3}",
            "start_time": 1_700_000_000.0 + i, "end_time": 1_700_000_000.5 + i,
            "http": {"request": {"method": "GET", "url": "http://x/y"}, "response": {"status": 200}},
            "aws": {"account_id": "123", "ec2": {"instance_id": "i-1"}}, "annotations": {"k": "v"},
            "metadata": {"default": {"a": [1, 2]}},
            "subsegments": [{"id": f"{i + 100:016x}", "name": "DynamoDB", "namespace": "aws",
                             "start_time": 1_700_000_000.1 + i, "end_time": 1_700_000_000.2 + i,
                             "cause": {"exceptions": [{"message": "boom", "type": "E"}]},
                             "subsegments": [{"id": f"{i + 200:016x}", "name": "inner", "start_time": 1.7e9 + i,
                                              "in_progress": True}]}]}


def xray_page(n: int) -> dict:
    return {"Traces": [{"Id": "1-5759e988-bd862e3fe1be46a994272793", "Duration": 1.0, "Segments": [
        {"Id": f"{i + 1:016x}", "Document": json.dumps(xray_segment(i))} for i in range(n)]}]}


def _real(fmt: str) -> list[Any]:
    """The real examples of ``fmt`` as parsed JSON: none where the real traces are absent (the generated bases still
    run); a file missing from a folder that is there is an error, not a base quietly left out."""
    out = []
    if not REAL.is_dir():
        return out
    for rel in REAL_FILES[fmt]:
        p = REAL / rel
        if not p.is_file():
            raise FileNotFoundError(f"{p}: a real example the fuzz tests start from is missing from {REAL}")
        data = p.read_bytes()
        try:
            out.append(orjson.loads(data))
        except orjson.JSONDecodeError:  # JSON lines
            out.append([orjson.loads(x) for x in data.splitlines() if x.strip()])
    return out


BASES = {"otlp": [otlp_doc([otlp_span(i, i - 1 if i % 4 else None) for i in range(6)]), *_real("otlp")],
         "xray": [xray_page(3), [xray_segment(7), xray_segment(8)], *_real("xray")]}
READERS = {"otlp": tk.read_otlp, "xray": tk.read_xray}

# ------------------------------------------------------------------------------------------------
# strategies

WEIRD_STRINGS = ["", "0x10", " 5", "1_000", "1e3", "-1", "NaN", "Infinity", "18446744073709551616", "\u0000",
                 "é", "\U0001f600", "ZZZZZZZZZZZZZZZZZZZZZZ==", "SPAN_KIND_SERVER", "STATUS_CODE_ERROR",
                 "00000000000000000000000000000000", "1-5759e988-bd862e3fe1be46a994272793"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False,
                    allow_infinity=False), st.sampled_from(WEIRD_STRINGS), st.text(max_size=8))
# parsed JSON (not bytes) can also carry what JSON text cannot: non-finite floats, lone surrogates
PARSED_ONLY = st.sampled_from([float("inf"), float("-inf"), float("nan"), "a\ud800", "\udfff"])


def _paths(value: Any, limit: int = 400) -> list[tuple]:
    """Paths (key/index tuples) to the nodes of a JSON value, breadth first, at most ``limit``."""
    out: list[tuple] = [()]
    queue = [((), value)]
    while queue and len(out) < limit:
        path, v = queue.pop(0)
        items = v.items() if isinstance(v, dict) else enumerate(v) if isinstance(v, list) else ()
        for k, x in items:
            out.append((*path, k))
            queue.append(((*path, k), x))
    return out


def _get(value: Any, path: tuple) -> Any:
    for k in path:
        value = value[k]
    return value


def _deep(depth: int, leaf: Any) -> Any:
    v = leaf
    for i in range(depth):
        v = [v] if i % 2 else {"k": v}
    return v


def _copy(value: Any) -> Any:
    """A deep copy of a JSON-like value without recursion (a mutation may nest it 900 deep, past
    copy.deepcopy's stack)."""
    def shell(x: Any) -> Any:
        return {} if type(x) is dict else [] if type(x) is list else x

    root = shell(value)
    stack = [(value, root)] if type(value) in (dict, list) else []
    while stack:
        src, dst = stack.pop()
        items = src.items() if type(src) is dict else enumerate(src)
        for k, x in items:
            y = shell(x)
            if type(dst) is dict:
                dst[k] = y
            else:
                dst.append(y)
            if type(x) in (dict, list):
                stack.append((x, y))
    return root


@st.composite
def mutated_value(draw, base: Any, parsed: bool = False) -> Any:
    """A copy of ``base`` with 1-3 mutations of a node: type, deletion, wrapping, deep nesting,
    duplication, or a Document string (X-Ray) mutated as text."""
    v = _copy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(v)
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["type", "type", "delete", "wrap", "deep", "dup", "text"]))
        node = _get(v, path)
        if op == "type":
            new = draw(st.one_of(SCALARS, st.just({}), st.just([]), st.just({"x": 1}), st.just([1, "a"]),
                                 *( [PARSED_ONLY] if parsed else [])))
        elif op == "delete" and path:
            parent = _get(v, path[:-1])
            del parent[path[-1]]
            continue
        elif op == "wrap":
            new = draw(st.sampled_from([[node], {"x": node}, {"stringValue": node}]))
        elif op == "deep":
            new = _deep(draw(st.integers(50, 900)), node)
        elif op == "dup" and path and isinstance(_get(v, path[:-1]), list):
            _get(v, path[:-1]).append(_copy(node))
            continue
        elif op == "text" and isinstance(node, str) and len(node) > 2:
            cut = draw(st.integers(0, len(node) - 1))
            new = node[:cut] + draw(st.sampled_from(["", "{", "\"", "]", "\\", "null"]))
        else:
            new = draw(SCALARS)
        if path:
            _get(v, path[:-1])[path[-1]] = new
        else:
            v = new
    return v


def _dumps(value: Any) -> bytes | None:
    try:
        return orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):  # deeper than orjson writes, or a huge int
        try:
            return json.dumps(value).encode()
        except (ValueError, RecursionError):
            return None


@st.composite
def mutated_bytes(draw, data: bytes) -> bytes:
    """``data`` damaged as bytes: truncated, a byte changed or inserted (invalid UTF-8 among them),
    a BOM, CRLF line ends, leading blank lines, gzip (possibly truncated)."""
    for _ in range(draw(st.integers(1, 2))):
        op = draw(st.sampled_from(["truncate", "flip", "insert", "bom", "crlf", "blank", "gzip", "gzip_cut"]))
        if op == "truncate" and data:
            data = data[:draw(st.integers(0, len(data) - 1))]
        elif op == "flip" and data:
            i = draw(st.integers(0, len(data) - 1))
            data = data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1:]
        elif op == "insert":
            i = draw(st.integers(0, len(data)))
            data = data[:i] + draw(st.sampled_from([b"\xff", b"\xed\xa0\x80", b"\n", b"\x00", b",", b"\\u"])) + data[i:]
        elif op == "bom":
            data = b"\xef\xbb\xbf" + data
        elif op == "crlf":
            data = data.replace(b"\n", b"\r\n")
        elif op == "blank":
            data = b"\n \n" + data
        elif op == "gzip":
            data = gzip.compress(data, mtime=0)
        elif op == "gzip_cut":
            z = gzip.compress(data, mtime=0)
            data = z[:draw(st.integers(2, max(2, len(z) - 1)))]
    return data


@st.composite
def fuzzed_source(draw, fmt: str) -> Any:
    base = draw(st.sampled_from(BASES[fmt]))
    mode = draw(st.sampled_from(["parsed", "bytes", "bytes", "jsonl"]))
    value = draw(mutated_value(base, parsed=mode == "parsed"))
    if mode == "parsed":
        # a root that is not a dict or list is not parsed JSON the readers take (a str is a path),
        # and a list of nothing but path-like strings is a list of paths (FileNotFoundError, by
        # the readers' contract): give such values beside an empty object, as bad documents
        if not isinstance(value, (dict, list)):
            return [value, {}]
        if value and all(isinstance(x, str) and not x.lstrip().startswith(("{", "[")) for x in value):
            return [*value, {}]
        return value
    data = _dumps(value)
    if data is None:
        return value
    if mode == "jsonl" and isinstance(value, list) and value:
        data = b"\n".join(_dumps(x) or b"{" for x in value) + b"\n"
    if draw(st.booleans()):
        data = draw(mutated_bytes(data))
    return data


# ------------------------------------------------------------------------------------------------
# properties


def check_loads_or_format_error(reader, source: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TraceFormatWarning of lenient reads, surrogates replaced
        strict = None
        try:
            strict = reader(source)
        except TraceFormatError:
            pass
        if strict is not None:
            tk.validate_spans(strict)
        lenient = reader(source, errors="skip")  # never raises
    tk.validate_spans(lenient)
    if strict is not None:
        assert lenient.attrs["skipped"] == ()
        pd.testing.assert_frame_equal(strict, lenient)


FUZZ = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.slow  # 6.6 s in the fast lane (2 loaded cores, issue 28)
@pytest.mark.parametrize("fmt", ["otlp", "xray"])
def test_fuzzed_documents_load_or_raise_trace_format_error(fmt):
    @FUZZ
    @given(source=fuzzed_source(fmt))
    def run(source):
        check_loads_or_format_error(READERS[fmt], source)
        check_loads_or_format_error(read, source)

    run()


def _lines(fmt: str, k: int) -> list[dict]:
    if fmt == "otlp":
        return [otlp_doc([otlp_span(i)]) for i in range(k)]
    return [xray_segment(i) for i in range(k)]


@st.composite
def one_bad_line(draw, fmt: str) -> tuple[bytes, int, list[str]]:
    """JSON lines, one span/segment per line, line ``m`` mutated (as a value or as bytes); the span
    ids of the other lines."""
    k = draw(st.integers(3, 6))
    docs = _lines(fmt, k)
    m = draw(st.integers(0, k - 1))
    lines = [orjson.dumps(d) for d in docs]
    if draw(st.booleans()):
        bad = _dumps(draw(mutated_value(docs[m]))) or b"{"
    else:
        bad = orjson.dumps(docs[m])
    if draw(st.booleans()):  # damaged as bytes too (a newline inserted makes two bad lines: fine)
        bad = draw(mutated_bytes(bad).filter(lambda b: b[:2] != b"\x1f\x8b"))
    lines[m] = bad.replace(b"\r", b"")
    others = [f"{i + 1:016x}" for i in range(k) if i != m]
    return b"\n".join(lines) + b"\n", m, others


@pytest.mark.slow  # 1.1 s in the fast lane (2 loaded cores, issue 28)
@pytest.mark.parametrize("fmt", ["otlp", "xray"])
def test_with_skip_every_span_of_the_valid_lines_loads(fmt):
    @FUZZ
    @given(case=one_bad_line(fmt))
    def run(case):
        data, m, others = case
        for reader in (READERS[fmt], read):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                df = reader(data, errors="skip")
            tk.validate_spans(df)
            loaded = set(df["span_id"])
            assert set(others) <= loaded, (m, sorted(set(others) - loaded))

    run()
