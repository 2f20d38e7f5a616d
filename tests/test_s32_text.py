"""A hand-made logs frame holding a lone surrogate (object dtype: the builders refuse it, a frame edited by
hand can hold it) raised a bare UnicodeEncodeError from pandas' hash inside the frame cache's fingerprint."""
import pandas as pd
import pytest

import tracekit as tk
from tracekit.core.cache import fingerprint


def _logs(body):
    logs = tk.logs_from_columns({"time": [1, 2], "body": ["ab", "ok"], "trace_id": ["1" * 32] * 2,
                                 "span_id": ["2" * 16] * 2})
    logs["body"] = pd.Series(body, dtype=object)
    return logs


def test_the_fingerprint_of_a_column_with_a_lone_surrogate_tells_edits_apart():
    a, b, c = _logs(["a\ud800b", "ok"]), _logs(["a\ud801b", "ok"]), _logs(["a\ud800b", "ok"])
    assert fingerprint(a, ["body"]) != fingerprint(b, ["body"])
    assert fingerprint(a, ["body"]) == fingerprint(c, ["body"])


@pytest.mark.parametrize("call", ["log_templates", "attach_logs"])
def test_analyses_name_the_row_that_is_not_unicode_text(call):
    logs = _logs(["ok", "a\udc80b"])
    spans = tk.spans_from_columns({"trace_id": ["1" * 32], "span_id": ["2" * 16], "name": ["n"], "start": [0],
                                   "end": [10], "service": ["s"]})
    with pytest.raises(tk.ArgumentError, match=r"column 'body' row 1: 'a\\udc80b' is not Unicode text"):
        tk.log_templates(logs) if call == "log_templates" else tk.attach_logs(spans, logs)
