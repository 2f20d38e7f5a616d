"""Session 44, readers7: the readers under odd input (a file holding one JSON document then more)."""

from __future__ import annotations

import json

import pytest

import tracekit as tk
from tracekit.errors import TraceFormatError


def _doc() -> dict:
    spans = [{"traceId": "0" * 31 + "1", "spanId": f"{i + 1:016x}", "name": f"s{i}", "kind": 1,
              "startTimeUnixNano": str(1_700_000_000_000_000_000 + i),
              "endTimeUnixNano": str(1_700_000_000_000_001_000 + i)} for i in range(2)]
    return {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
                               "scopeSpans": [{"spans": spans}]}]}


@pytest.mark.parametrize("tail", [b"\x00", b"\x00" * 4096, b"x"], ids=["nul", "nul4096", "letter"])
def test_content_after_document_is_not_called_truncated(tmp_path, tail):
    """A complete document followed by more bytes (NUL padding left by a crashed writer, stray text) is refused,
    but not as a truncated file: the JSON did not end early, it is whole, and the error says what follows it and
    where (the byte offset is where the document ends, known by construction)."""
    body = json.dumps(_doc()).encode()
    p = tmp_path / "t.json"
    p.write_bytes(body + tail)
    with pytest.raises(TraceFormatError) as e:
        tk.read_otlp(p)
    msg = str(e.value)
    assert "truncated" not in msg and "ends early" not in msg, msg
    assert str(p) in msg
    assert f"from byte {len(body):,}: {tail[:20]!r}" in msg, msg
    with pytest.warns(tk.TraceFormatWarning):
        df = tk.read_otlp(p, errors="skip")
    assert len(df) == 0 and df.attrs.get("truncated") is not True
    (s,) = df.attrs["skipped"]
    assert "truncated" not in s.reason and f"from byte {len(body):,}" in s.reason


def test_truncated_document_still_called_truncated(tmp_path):
    """Control: a document cut short is still said to be truncated."""
    p = tmp_path / "t.json"
    p.write_bytes(json.dumps(_doc()).encode()[:-5])
    with pytest.raises(TraceFormatError, match="truncated"):
        tk.read_otlp(p)
