"""Nothing the user had is mutated: a reader given parsed JSON returns a frame whose nested values are its
own. X-Ray cause / metadata / list values, OTLP entityRefs and the extra fields of JSON log records were the
caller's objects: editing the frame's attributes edited the input (and the reverse)."""
import copy
import json

import pytest

import tracekit as tk

T = "1700000000000000000"
SEG = {"id": "70de5b6f19ff9a0a", "trace_id": "1-581cf771-a006649127e371903a2de979", "name": "api",
       "start_time": 1.0, "end_time": 2.0, "metadata": {"debug": {"x": [1, 2]}},
       "cause": {"exceptions": [{"id": "1111111111111111", "message": "m", "stack": [{"path": "p"}]}]},
       "annotations": {"k": "v"}, "aws": {"tbl": {"a": [1]}, "lst": [1, {"q": 2}]},
       "subsegments": [{"id": "2222222222222222", "name": "db", "start_time": 1.1, "end_time": 1.2,
                        "metadata": {"n": {"deep": [[1]]}}}]}
OTLP = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "s"}}],
                                        "entityRefs": [{"type": "t", "idKeys": ["a"]}]},
                           "scopeSpans": [{"spans": [{"traceId": "1" * 32, "spanId": "2" * 16, "name": "x",
                                                      "startTimeUnixNano": T, "endTimeUnixNano": T}]}]}]}
LOG_LINES = [{"timestamp": "2024-01-01T00:00:00Z", "message": "m", "level": "INFO", "trace_id": "1" * 32,
              "span_id": "2" * 16, "extra": {"a": [1, {"b": 2}]}, "tags": ["x"]}]

CASES = {
    "read_xray segments": (tk.read_xray, [SEG]),
    "read_xray page": (tk.read_xray, {"Traces": [{"Id": SEG["trace_id"], "Segments": [SEG]}]}),
    "read (X-Ray)": (tk.read, (SEG,)),
    "read_otlp": (tk.read_otlp, OTLP),
    "read_logs JSON records": (tk.read_logs, LOG_LINES),
}


def _edit_every_container(df):
    n = 0
    for col in df.columns:
        if df[col].dtype != object:
            continue
        for v in df[col]:
            stack = [v]
            while stack:
                o = stack.pop()
                if isinstance(o, dict):
                    stack.extend(list(o.values()))
                    o["EDITED"] = 1
                    n += 1
                elif isinstance(o, list):
                    stack.extend(list(o))
                    o.append("EDITED")
                    n += 1
    return n


@pytest.mark.parametrize("case", list(CASES))
def test_editing_the_frame_leaves_the_parsed_input_as_it_was(case):
    read, src = CASES[case]
    src = copy.deepcopy(src)
    before = json.dumps(src, sort_keys=True)
    df = read(src)
    assert _edit_every_container(df) > 0
    assert json.dumps(src, sort_keys=True) == before


def test_editing_the_input_leaves_the_frame_as_it_was():
    seg = copy.deepcopy(SEG)
    df = tk.read_xray([seg])
    seg["metadata"]["debug"]["x"].append(3)
    seg["cause"]["exceptions"][0]["message"] = "changed"
    assert df.loc[0, "attributes"]["metadata.debug"] == {"x": [1, 2]}
    assert df.loc[0, "attributes"]["cause"]["exceptions"][0]["message"] == "m"
