"""The typed metrics fast path and keys given twice (session 45, metricsfp).

read_metrics' typed fast path (msgspec Structs) kept the last of a key given twice in one object, silently: a data
point's ``asInt`` / ``asDouble`` / ``startTimeUnixNano``, a histogram's ``sum``, a metric's ``name`` given again
with another value loaded the second value, where the checked walk refuses the object (tests/test_s37_readers4.py
pinned it as strict xfails). The fast path now compares the colons of each batch's text with the keys its decoded
Structs hold (every key is followed by one colon; elsewhere a colon is only inside a string) and hands a batch with
more to the checked walk, which finds the line. Every input is built by construction: JSON text written by a small
writer that can give a key twice; the answer is the checked walk's (``FAST = False``) on the same bytes.
"""

from __future__ import annotations

import json
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracekit as tk
from tracekit.errors import TraceFormatError
from tracekit.io import metrics as M

from .test_metrics_fast import T0, _exemplar, _exp, _gauge, _hist, _kv, _line, _same, _sum, _summary


@pytest.fixture
def stats(monkeypatch):
    monkeypatch.setattr(M, "FAST", True)
    for k in M.STATS:
        monkeypatch.setitem(M.STATS, k, 0)
    return M.STATS


def _dump(value: object, twice: tuple | None = None) -> str:
    """Compact JSON of ``value``; ``twice`` = (the object, its key, a second value): that key given again, right
    after the first, with the second value (``json.dumps`` cannot write a key twice)."""
    if isinstance(value, dict):
        parts = []
        for k, v in value.items():
            parts.append(json.dumps(k) + ":" + _dump(v, twice))
            if twice is not None and twice[0] is value and twice[1] == k:
                parts.append(json.dumps(k) + ":" + _dump(twice[2]))
        return "{" + ",".join(parts) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dump(v, twice) for v in value) + "]"
    return json.dumps(value)


def _objects(value: object) -> list[dict]:
    """Every object (dict) of a document, depth first."""
    out, stack = [], [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            out.append(v)
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return out


def _other(v: object) -> object:
    """A second value of the same JSON type as ``v``, another one (a text of digits stays digits)."""
    if isinstance(v, bool):
        return not v
    if isinstance(v, (int, float)):
        return v + 1
    if isinstance(v, str):
        return str(int(v) + 1) if v.isdigit() else v + "x"
    return v  # objects and lists: the same value again


def _mixed(i: int) -> dict:
    """One line of the common shapes (gauge, sum, histogram with an exemplar)."""
    return _line([_gauge(i), _sum(i), _hist(i)], service=f"svc-{i % 2}")


def _text(docs: list[str]) -> bytes:
    return ("\n".join(docs) + "\n").encode()


# ----------------------------------------------------------------------------- keys given twice: the checked walk's answer

# (where, the key, its second value): each object of a common line whose repeated key the typed path took silently
TWICE = [("gauge point", "asDouble", 9.5), ("sum point", "asInt", "999"), ("sum point", "startTimeUnixNano", "7"),
         ("histogram point", "sum", 99.0), ("gauge metric", "name", "mem"), ("sum metric", "name", "mem")]


def _target(doc: dict, where: str) -> dict:
    metrics = doc["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]
    kind, what = where.split()
    m = {"gauge": metrics[0], "sum": metrics[1], "histogram": metrics[2]}[kind]
    return m if what == "metric" else m[kind]["dataPoints"][0]


@pytest.mark.parametrize(("where", "key", "second"), TWICE, ids=[f"{w}.{k}" for w, k, _ in TWICE])
def test_a_key_given_twice_among_clean_lines_reads_as_the_checked_walk(where, key, second, stats, monkeypatch):
    """Fails on the old code: 30 clean lines and, in the middle, one object giving a key twice with another value.
    The checked walk refuses that object (errors="raise") or skips it alone (errors="skip"); the typed path read
    all 31 lines and loaded the second value. Now the same error, the same frame, and only the bad line read by
    the checked walk."""
    docs = [_dump(_mixed(i)) for i in range(31)]
    bad = _mixed(15)
    docs[15] = _dump(bad, (_target(bad, where), key, second))
    got = _same(_text(docs), monkeypatch)
    assert isinstance(got["raise"], TraceFormatError) and f"key {key!r} is given 2 times" in got["raise"].reason
    assert got["raise"].record.startswith("line 16, ")
    assert len(got["skip"]) == 31 * 3 - 1  # the bad object's one point skipped (each metric holds one)
    monkeypatch.setattr(M, "FAST", True)
    for k in stats:
        stats[k] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tk.read_metrics(_text(docs), errors="skip")
    assert stats == {"fast": 30, "fallback": 1}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_key_given_twice_anywhere_reads_as_the_checked_walk(data, monkeypatch):
    """Fails on the old code: lines of every shape (gauge, sum, histogram with exemplars, exponential histogram,
    summary), one object anywhere in one of them (a point, a metric, an exemplar, a resource, an attribute...)
    giving one of its keys again, with another value or the same. Whatever the checked walk answers (an error, a
    skipped record, the last value loaded), the fast path answers the same."""
    shapes = [_mixed, lambda i: _line([_exp(i), _summary(i)]),
              lambda i: _line([_hist(i, exemplars=[_exemplar(i), _exemplar(i + 1, filteredAttributes=[_kv("a", "b")])])])]
    n = data.draw(st.integers(1, 6), label="lines")
    docs = [shapes[data.draw(st.integers(0, len(shapes) - 1), label="shape")](i) for i in range(n)]
    at = data.draw(st.integers(0, n - 1), label="line")
    objs = [o for o in _objects(docs[at]) if o]
    obj = objs[data.draw(st.integers(0, len(objs) - 1), label="object")]
    key = data.draw(st.sampled_from(sorted(obj)), label="key")
    second = obj[key] if data.draw(st.booleans(), label="same value") else _other(obj[key])
    texts = [_dump(d, (obj, key, second) if k == at else None) for k, d in enumerate(docs)]
    _same(_text(texts), monkeypatch)
    _same(texts[at].encode(), monkeypatch)  # the line alone: a single document


# ----------------------------------------------------------------------------- what the count must not be fooled by


def test_a_colon_written_as_an_escape_does_not_hide_a_key_given_twice(monkeypatch):
    """Fails on the old code (which did not look): a metric named with an escaped colon ("a\\u003ab": one colon in
    the decoded name, none in the text) in the line where a point gives asDouble twice. Counted as a colon of the
    text, it would cancel the repeated key."""
    bad = _mixed(1)
    text = _dump(bad, (_target(bad, "gauge point"), "asDouble", 9.5)).replace('"name":"cpu"', '"name":"a\\u003ab"')
    assert '"asDouble":9.5' in text and "\\u003a" in text
    got = _same(_text([_dump(_mixed(0)), text]), monkeypatch)
    assert isinstance(got["raise"], TraceFormatError) and "key 'asDouble' is given 2 times" in got["raise"].reason


def test_colons_in_strings_do_not_hide_a_key_given_twice(monkeypatch):
    """Fails on the old code: a schemaUrl ("https://...") and a metric name with colons (a Prometheus recording
    rule) in the line where a point gives asInt twice, and a key written with white space before its colon."""
    bad = _mixed(1)
    bad["resourceMetrics"][0]["schemaUrl"] = "https://opentelemetry.io/schemas/1.21.0"
    _target(bad, "sum metric")["name"] = "job:requests:rate5m"
    text = _dump(bad, (_target(bad, "sum point"), "asInt", "999")).replace('"asInt":', '"asInt" :', 1)
    got = _same(_text([_dump(_mixed(0)), text]), monkeypatch)
    assert isinstance(got["raise"], TraceFormatError) and "key 'asInt' is given 2 times" in got["raise"].reason


# ----------------------------------------------------------------------------- controls: clean text stays fast


def _clean_unusual(i: int) -> dict:
    """A clean line with colons in strings and keys given with their default values."""
    doc = _line([_gauge(i, attributes=[_kv("url", "http://x:8080/a?b=1&c=2")], exemplars=[], flags=0),
                 _sum(i, temporality=0, monotonic=False), _hist(i, exemplars=[_exemplar(i, filteredAttributes=[])]),
                 _exp(i, scale=0, zeroThreshold=0, negative={"offset": 0, "bucketCounts": []}),
                 _summary(i, sum=0, quantileValues=[{"quantile": 0, "value": 0}, {"quantile": 1, "value": 2}])])
    rm = doc["resourceMetrics"][0]
    rm["schemaUrl"] = "https://opentelemetry.io/schemas/1.21.0"
    rm["scopeMetrics"][0]["schemaUrl"] = "https://opentelemetry.io/schemas/1.21.0"
    for m in rm["scopeMetrics"][0]["metrics"]:
        m.update(name=f"job:{m['name']}:rate5m", description="", unit="")
    return doc


def test_clean_lines_with_colons_in_strings_and_default_values_stay_fast(stats, monkeypatch):
    """Control (passes on the old code too): colons in a schemaUrl, metric names and attribute values, keys given
    with their default value (isMonotonic false, temporality 0, description and unit "", exemplars [], scale 0,
    zeroThreshold 0, offset 0, a quantile 0) and a Go-style escape (\\u0026) elsewhere: every line read by the
    typed path, none by the checked walk, and the frame is the checked walk's."""
    docs = [_dump(_clean_unusual(i)) for i in range(12)]
    docs[3] = docs[3].replace("&", "\\u0026")
    assert "\\u0026" in docs[3]
    tk.read_metrics(_text(docs))
    assert stats == {"fast": 12, "fallback": 0}
    _same(_text(docs), monkeypatch)


def test_the_same_value_given_twice_loads_as_once(stats, monkeypatch):
    """Control (passes on the old code too): a point giving asDouble twice with the same value loads, as the
    checked walk loads it (nothing is lost), the same rows as without the copy."""
    twice = _mixed(1)
    p = _target(twice, "gauge point")
    text = _text([_dump(_mixed(0)), _dump(twice, (p, "asDouble", p["asDouble"]))])
    got = _same(text, monkeypatch)["raise"]
    once = tk.read_metrics(_text([_dump(_mixed(0)), _dump(_mixed(1))]))
    cols = ["time", "name", "value", "count", "sum"]
    assert got[cols].equals(once[cols]) and len(got) == 6
    assert int(got["time"].iloc[3].value) == T0 + 1



def _point_attribute_colons(doc: dict) -> int:
    """The colons of the data points' attribute lists as written (compact)."""
    return sum(_dump(p.get("attributes", [])).count(":") for rm in doc["resourceMetrics"] for sm in rm["scopeMetrics"]
               for m in sm["metrics"] for kind in ("gauge", "sum", "histogram") for p in m.get(kind, {}).get("dataPoints", []))


def _int_gauge(i: int) -> dict:
    """A gauge point given asInt (its own family's values mixed with asDouble points)."""
    g = _gauge(i)
    p = g["gauge"]["dataPoints"][0]
    del p["asDouble"]
    p["asInt"] = "3"
    return _line([g, _gauge(i + 1)])


@pytest.mark.parametrize("make", [_mixed, _clean_unusual, _int_gauge], ids=["common", "unusual", "mixed-values"])
def test_the_keys_counted_are_the_colons_of_a_clean_line(make):
    """New (the count's exactness, both ways): on clean lines the keys the Structs hold (with the colons of their
    raw texts and strings) are the colons of the text, one by one (_f_keys) and column-wise (_g_extract, which
    leaves the points' attribute texts to its group): a count above the text's would hide a key given twice, one
    below it would send clean lines to the checked walk."""
    doc = make(3)
    line = _dump(doc).encode()
    md = M._DECODE(line)
    keys, strs = M._f_keys(md)
    assert keys + strs == line.count(b":")
    got = M._g_extract([(md, line, "f", 1)], ({}, {}))
    if make is _clean_unusual:  # exponential histograms and summaries: the batch is read by _f_columns
        assert got is M._NOT_GROUPED and M._f_columns([(md, line, "f", 1)]) is not None
    else:
        assert got["rest"] == _point_attribute_colons(doc) > 0


def test_a_key_given_twice_sends_only_its_batch_to_the_column_pass(stats, monkeypatch):
    """Fails on the old code (nothing was sent): 31 lines, a batch each, converted as one group; line 16 gives
    asDouble twice. The group's count finds more colons than keys, and only that batch is read again line by line
    (_f_convert): the 30 others stay converted as groups (each batch alone), where the whole group was read again
    (~8 MB through the slower column pass: on bench_read_metrics' file with one such line, _f_convert's time
    122-130 ms -> ~51 ms CPU)."""
    monkeypatch.setattr(M, "_BATCH_BYTES", 1)
    calls: list[list[int]] = []
    real = M._f_convert
    monkeypatch.setattr(M, "_f_convert", lambda rd, items: calls.append([it[3] for it in items]) or real(rd, items))
    docs = [_dump(_mixed(i)) for i in range(31)]
    bad = _mixed(15)
    docs[15] = _dump(bad, (_target(bad, "gauge point"), "asDouble", 9.5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = tk.read_metrics(_text(docs), errors="skip")
    assert calls == [[16]] and stats == {"fast": 30, "fallback": 1}
    assert len(df) == 31 * 3 - 1 and [s.record for s in df.attrs["skipped"]][0].startswith("line 16, ")
