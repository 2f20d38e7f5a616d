"""An OTLP integer written as text (an AnyValue's intValue, a point's or exemplar's asInt) is decimal digits with an
optional '-': the checked rule (_int) and the metrics reader held to it, but the span and log readers' inline
paths took what Python's int() takes (" 5", "+5", "1_000", "٥": 16 of 32 reader/path cases read a number).
Integers past int64 stay read exactly (test_read_otlp pins it; the writers refuse them by name)."""
import json

import pytest

import tracekit as tk

T = "1700000000000000000"


def _docs(iv):
    return {
        "spans": (lambda d: tk.read_otlp(d).attributes[0]["k"], {"resourceSpans": [{"scopeSpans": [{"spans": [
            {"traceId": "1" * 32, "spanId": "2" * 16, "name": "x", "startTimeUnixNano": "1", "endTimeUnixNano": "2",
             "attributes": [{"key": "k", "value": {"intValue": iv}}]}]}]}]}),
        "logs": (lambda d: tk.read_logs(d).attributes[0]["k"], {"resourceLogs": [{"scopeLogs": [{"logRecords": [
            {"timeUnixNano": T, "body": {"stringValue": "b"}, "attributes": [{"key": "k", "value": {"intValue": iv}}]}]}]}]}),
        "metrics": (lambda d: tk.read_metrics(d)["value"].iloc[0], {"resourceMetrics": [{"scopeMetrics": [{"metrics": [
            {"name": "g", "gauge": {"dataPoints": [{"timeUnixNano": T, "asInt": iv}]}}]}]}]}),
        "exemplars": (lambda d: tk.read_metrics(d)["exemplars"].iloc[0][0]["value"], {"resourceMetrics": [
            {"scopeMetrics": [{"metrics": [{"name": "g", "gauge": {"dataPoints": [
                {"timeUnixNano": T, "asDouble": 1.0, "exemplars": [{"timeUnixNano": T, "asInt": iv}]}]}}]}]}]}),
    }


def _read(kind, iv, src, tmp_path):
    read, doc = _docs(iv)[kind]
    if src == "file":
        path = tmp_path / "d.json"
        path.write_text(json.dumps(doc))
        return read(path)
    return read(doc)


KINDS = ["spans", "logs", "metrics", "exemplars"]


@pytest.mark.parametrize("src", ["parsed", "file"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("iv", ["1_000", " 5", "+5", "٥", "5 ", "--5", "-", "0x10"], ids=repr)
def test_a_text_that_is_no_decimal_integer_is_refused_in_every_reader(iv, kind, src, tmp_path):
    with pytest.raises(tk.TraceFormatError, match="intValue|asInt"):
        _read(kind, iv, src, tmp_path)


@pytest.mark.parametrize("src", ["parsed", "file"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("iv", ["9223372036854775807", "-9223372036854775808", -(2**63), "0", "-12", "007"],
                         ids=repr)
def test_decimal_integers_are_read(iv, kind, src, tmp_path):
    got = _read(kind, iv, src, tmp_path)
    assert got == (int(iv) if kind in ("spans", "logs") else float(int(iv)))
