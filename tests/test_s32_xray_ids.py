"""A nested subsegment whose id is 16 characters but not hex was caught after the pass and its whole
document was left out (1 bad subsegment: 4 spans lost); an id of another length was already skipped
alone, in the pass. One rule now: the subsegment and its subtree are left out, the rest loads."""
import copy
import json

import pytest

import tracekit as tk

TID = "1-581cf771-a006649127e371903a2de979"


def _seg(bad_id):
    return {"id": "70de5b6f19ff9a0a", "trace_id": TID, "name": "api", "start_time": 1.0, "end_time": 2.0,
            "subsegments": [
                {"id": bad_id, "name": "db", "start_time": 1.1, "end_time": 1.5,
                 "subsegments": [{"id": "1111111111111111", "name": "q", "start_time": 1.2, "end_time": 1.3,
                                  "subsegments": [{"id": "3333333333333333", "name": "qq", "start_time": 1.2,
                                                   "end_time": 1.25}]}]},
                {"id": "2222222222222222", "name": "cache", "start_time": 1.5, "end_time": 1.6}]}


def _page(seg, other=None):
    segs = [{"Id": seg["id"], "Document": json.dumps(seg)}]
    if other is not None:
        segs.append({"Id": other["id"], "Document": json.dumps(other)})
    return {"Traces": [{"Id": TID, "Segments": segs}]}


@pytest.mark.parametrize("bad_id", ["zzzzzzzzzzzzzzzz", "zz", "70DE5B6F19FF9A0G"])
@pytest.mark.parametrize("from_file", [False, True])
def test_a_nested_subsegment_with_a_bad_id_leaves_out_its_subtree_only(bad_id, from_file, tmp_path):
    page = _page(_seg(bad_id))
    src = page
    if from_file:
        src = tmp_path / "p.json"
        src.write_text(json.dumps(page))
    with pytest.warns(tk.TraceFormatWarning, match="subsegment"):
        df = tk.read_xray(src, errors="skip")
    assert sorted(df["name"]) == ["api", "cache"]  # was [] for the 16-character id
    [rec] = df.attrs["skipped"]
    assert "3 spans" in rec.reason and "is not 16 hex digits" in rec.reason and "the rest of its segment" in rec.reason
    with pytest.raises(tk.TraceFormatError, match="is not 16 hex digits"):
        tk.read_xray(page)


def test_a_bad_top_level_id_still_leaves_out_its_document_and_no_other():
    bad = _seg("4444444444444444")
    bad["id"] = "yyyyyyyyyyyyyyyy"
    good = copy.deepcopy(_seg("5555555555555555"))
    good["id"] = "6666666666666666"
    with pytest.warns(tk.TraceFormatWarning):
        df = tk.read_xray(_page(bad, good), errors="skip")
    assert len(df) == 5 and set(df["span_id"]) >= {"6666666666666666", "5555555555555555"}
    [rec] = df.attrs["skipped"]
    assert "the document's 5 spans were left out" in rec.reason


def test_two_bad_subsegments_in_one_document_give_one_record_each():
    seg = _seg("zzzzzzzzzzzzzzzz")
    seg["subsegments"][1]["id"] = "xxxxxxxxxxxxxxxx"
    with pytest.warns(tk.TraceFormatWarning):
        df = tk.read_xray(_page(seg), errors="skip")
    assert df["name"].tolist() == ["api"]
    assert sorted(r.reason.split(":")[0] for r in df.attrs["skipped"]) == [
        "subsegment 'xxxxxxxxxxxxxxxx' ('cache')", "subsegment 'zzzzzzzzzzzzzzzz' ('db')"]


@pytest.mark.parametrize("placeholder", ["0000000000000000", ""])
@pytest.mark.parametrize("shape", ["segments", "page", "file"])
def test_a_placeholder_parent_id_is_a_root_in_every_reader(placeholder, shape, tmp_path):
    # X-Ray read an all-zero parent_id as a parent (an orphan: its trace had no root) and refused "" (the whole
    # document left out); OTLP, spans_from_columns and X-Ray's own links read both as no parent
    seg = {"id": "70de5b6f19ff9a0a", "trace_id": TID, "name": "api", "start_time": 1.0, "end_time": 2.0,
           "parent_id": placeholder, "subsegments": [{"id": "2222222222222222", "name": "db", "start_time": 1.1,
                                                     "end_time": 1.2}]}
    src = {"segments": [seg], "page": _page(seg)}.get(shape)
    if shape == "file":
        src = tmp_path / "p.json"
        src.write_text(json.dumps(_page(seg)))
    xr = tk.read_xray(src)
    otlp = tk.read_otlp({"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": "1" * 32, "spanId": "2" * 16, "parentSpanId": placeholder, "name": "x",
         "startTimeUnixNano": "1", "endTimeUnixNano": "2"}]}]}]})
    cols = tk.spans_from_columns({"trace_id": ["1" * 32], "span_id": ["2" * 16], "parent_id": [placeholder],
                                  "name": ["n"], "start": [0], "end": [1], "service": ["s"]})
    assert xr["parent_id"].isna().tolist() == [True, False]
    assert otlp["parent_id"].isna().all() and cols["parent_id"].isna().all()
    assert tk.trace_summary(xr)["root_service"].tolist() == ["api"]
