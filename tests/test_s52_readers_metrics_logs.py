"""Session 52, readers (metrics and logs): four defects a reviewer found (/tmp/tk/s52/readers/findings.md items 2, 5, 6
and 10), each pinned by its exact value or message.

* A ResourceMetrics whose ``scopeMetrics`` / ``instrumentationLibraryMetrics`` is a number or a boolean: a
  TraceFormatError naming the file and ``resourceMetrics[i]`` (it was a bare TypeError, with ``errors="skip"`` too).
* CloudWatch ``ExtendedStatistics``: ``p99.9`` is quantile 0.999 exactly, ``p99.99`` 0.9999, ``p100`` 1.0.
* A CloudWatch Logs event's ``timestamp`` (or ``ingestionTime``) in epoch seconds is refused, naming the file and the
  event (it was read as milliseconds: January 1970).
* X-Ray segment documents and the X-Ray daemon's header are other signals' documents for ``read_logs`` and
  ``read_metrics``: listed in ``attrs["ignored"]``, never a log row with no time, never an error.
"""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

import tracekit as tk

GOOD = {"name": "m", "gauge": {"dataPoints": [{"timeUnixNano": "1700000000000000000", "asDouble": 1}]}}


def _skip(reader, source, **kw):
    """A read with errors="skip" (its one TraceFormatWarning caught)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tk.TraceFormatWarning)
        return reader(source, errors="skip", **kw)


# -- 1. read_metrics: scopeMetrics / instrumentationLibraryMetrics that is no list ----------------------------------

@pytest.mark.parametrize(("bad", "reason"), [
    ({"scopeMetrics": 1.5}, "scopeMetrics must be a list, got 1.5"),
    ({"scopeMetrics": True}, "scopeMetrics must be a list, got true"),
    ({"instrumentationLibraryMetrics": True}, "instrumentationLibraryMetrics must be a list, got true"),
    ({"scopeMetrics": [], "instrumentationLibraryMetrics": 1}, "instrumentationLibraryMetrics must be a list, got 1"),
    ({"scope_metrics": 2}, "scopeMetrics must be a list, got 2"),
])
def test_metrics_scope_list_that_is_a_scalar_is_named(tmp_path, bad, reason):
    doc = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [GOOD]}]}, bad]}
    p = tmp_path / "r01.json"
    p.write_text(json.dumps(doc))
    for source, file in ((p, str(p)), (doc, "<object>")):
        with pytest.raises(tk.TraceFormatError) as e:
            tk.read_metrics(source)
        assert str(e.value) == f"{file}, resourceMetrics[1]: {reason}"
        assert (e.value.file, e.value.record) == (file, "resourceMetrics[1]")
        df = _skip(tk.read_metrics, source)
        assert df["value"].tolist() == [1.0]  # the good point loads
        assert df["time"].tolist() == [pd.Timestamp(1_700_000_000_000_000_000, tz="UTC")]
        assert [(s.file, s.record, s.reason) for s in df.attrs["skipped"]] == [(file, "resourceMetrics[1]", reason)]
