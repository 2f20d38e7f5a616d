"""The spans schema: declared once, the docs/reference.md table and validators generated from it."""

from __future__ import annotations

import inspect

import pandas as pd
import pytest

import tracekit as tk
from tracekit.schema import SPAN_COLUMNS, SpansSchemaError

from .conftest import REPO


def _one(**over):
    cols = {"trace_id": ["ab" * 16], "span_id": ["cd" * 8], "service": ["api"], "name": ["GET /"],
            "start": [1_700_000_000_000_000_000], "end": [1_700_000_000_250_000_000]}
    cols.update(over)
    return tk.spans_from_columns(cols)


def test_reference_column_table_is_generated_from_the_schema():
    reference = (REPO / "docs" / "reference.md").read_text()
    assert tk.schema_markdown() in reference, "docs/reference.md's column table is stale: paste tk.schema_markdown() into it"


def test_empty_spans_has_every_declared_column_and_dtype():
    df = tk.empty_spans()
    assert list(df.columns) == [c.name for c in SPAN_COLUMNS]
    for c in SPAN_COLUMNS:
        assert c.dtype_name == ("object" if df[c.name].dtype == object else str(df[c.name].dtype))
    assert tk.validate_spans(df) is df


def test_spans_from_columns_derives_duration_and_defaults():
    df = _one()
    assert df.loc[0, "duration_ms"] == 250.0
    assert df.loc[0, "kind"] == "unspecified" and df.loc[0, "status"] == "unset"
    assert df.loc[0, "attributes"] == {} and df.loc[0, "events"] == []
    assert pd.isna(df.loc[0, "parent_id"])
    tk.validate_spans(df)


@pytest.mark.parametrize("column,value,message", [
    ("trace_id", ["XYZ"], "trace_id"),
    ("span_id", ["ABCDEF0123456789"], "span_id"),  # upper case is not canonical
    ("kind", ["sideways"], "kind"),
])
def test_validate_spans_names_the_bad_column(column, value, message):
    with pytest.raises(SpansSchemaError, match=message):
        tk.validate_spans(_one(**{column: value}))


def test_validate_spans_rejects_nulls_and_wrong_dtypes():
    df = _one()
    df2 = df.copy()
    df2["service"] = pd.Series([None], dtype=tk.schema.STRING)
    with pytest.raises(SpansSchemaError, match="'service' has 1 missing"):
        tk.validate_spans(df2)
    df3 = df.copy()
    df3["duration_ms"] = df3["duration_ms"].astype(str)
    with pytest.raises(SpansSchemaError, match="duration_ms"):
        tk.validate_spans(df3)
    with pytest.raises(SpansSchemaError, match="DataFrame"):
        tk.validate_spans([1, 2])


def test_trace_id_conversion_round_trips_and_rejects_bad_ids():
    assert tk.xray_to_trace_id("1-5759E988-BD862E3FE1BE46A994272793") == "5759e988bd862e3fe1be46a994272793"
    assert tk.trace_id_to_xray(tk.xray_to_trace_id("1-58406520-a006649127e371903a2de979")) == "1-58406520-a006649127e371903a2de979"
    for bad in ("2-5759e988-bd862e3fe1be46a994272793", "1-5759e988-bd86", "", None):
        with pytest.raises(ValueError):
            tk.xray_to_trace_id(bad)
    with pytest.raises(ValueError):
        tk.trace_id_to_xray("1234")


@pytest.mark.slow  # 3.1 s in the fast lane (2 loaded cores, issue 28)
def test_import_tracekit_does_not_import_optional_extras():
    import subprocess
    import sys
    code = ("import sys, tracekit, tracekit.io.xray, tracekit.io.otlp; "
            "bad=[m for m in ('plotly','ipywidgets','boto3','botocore','dask','tqdm') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_public_name_resolves_and_has_a_docstring_with_an_example():
    missing, undocumented = [], []
    for name in tk.__all__:
        try:
            obj = getattr(tk, name)
        except (ImportError, AttributeError) as exc:
            missing.append(f"{name}: {exc}")
            continue
        if inspect.isfunction(obj) or (inspect.isclass(obj) and not issubclass(obj, (BaseException, tuple))
                                       and obj.__module__ != "tracekit.errors"):
            doc = obj.__doc__ or ""
            if ">>>" not in doc and "Example" not in doc:
                undocumented.append(name)
    assert not missing, missing
    assert not undocumented, f"public functions without an example in their docstring: {undocumented}"


def test_spans_from_columns_rejects_columns_of_different_lengths():
    # columns were aligned on their index: a short column silently became <NA>/NaT rows,
    # even in non-nullable columns (span_id, start)
    cols = {"trace_id": ["0" * 31 + "1"] * 2, "span_id": ["a" * 16], "service": ["api"] * 2, "name": ["x"] * 2,
            "start": [0, 1], "end": [1, 2]}
    with pytest.raises(SpansSchemaError, match="'span_id' has 1 values, 'trace_id' has 2"):
        tk.spans_from_columns(cols)
