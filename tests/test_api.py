"""The public API, pinned (as pandas' API test pins its namespace), and one vocabulary of arguments on it.

Adding a public name: add it to ``EXPORTS`` below (one list, grouped by topic). Every public function's
signature is checked against the vocabulary (README, "One vocabulary of arguments"):

- a spans frame is ``spans``; the one to compare with is ``baseline`` (a spans frame: paths only at the
  report / command-line entry points);
- ``by`` takes grouping keys: a named key of ``tracekit.core.BY_KEYS`` or a column, or a list of them;
- a count of rows or keys to show is ``n``; the bootstrap default is ``tracekit.core.DEFAULT_N_BOOT``;
- a quantile of a distribution is ``q``, within [0, 1] (pandas' word);
- an old name kept for users warns (DeprecationWarning) and still works;
- bad arguments raise ``ArgumentError``.

``KNOWN_DEVIATIONS`` lists what does not follow it yet, each with its reason; the test fails on a new
deviation, and on a listed one that is fixed (remove it from the list).
"""

from __future__ import annotations

import inspect
import re
import warnings

import pandas as pd
import pytest

import tracekit as tk
from tracekit.core import BY_KEYS, DEFAULT_N_BOOT, by_keys

EXPORTS = [
    # errors and the schema
    "TraceKitError", "ArgumentError", "SpansSchemaError", "TraceFormatError", "TraceFormatWarning",
    "MissingExtraError", "SkippedRecord", "SPAN_COLUMNS", "empty_spans", "validate_spans", "spans_from_columns",
    "schema_markdown", "xray_to_trace_id", "trace_id_to_xray",
    # io
    "read_xray", "attribute", "read_otlp", "read", "skipped_records", "write_xray", "write_otlp",
    # structure and health
    "trace_summary", "self_time", "health_report", "detect_clock_skew", "adjust_clock_skew", "find_pii", "redact",
    "redact_skipped", "redact_text",
    # graphs and critical path
    "service_graph", "critical_path", "critical_path_breakdown", "compare", "find_repeated_calls", "diff_traces",
    "trace_diff_summary", "exemplars", "critical_path_tree", "critical_path_tree_diff", "saving_potential", "what_if",
    # async workflows
    "stitch", "workflow_summary", "workflow_critical_path", "reconnect",
    # sampling
    "sampling_weights", "weighted_summary", "sampling_bias", "simulate_sampling",
    # attribution, the time axis, root causes
    "bubble_up", "version_regressions", "cold_starts", "timeline", "select_requests", "latency_heatmap",
    "latency_histogram", "latency_ecdf", "postmortem", "Postmortem",
    "deployments", "detect_changes", "split_by_change", "lambda_invocations", "rank_causes", "chance_score", "peer_outliers",
    "error_origins", "top_exceptions",
    # live X-Ray
    "fetch_xray", "fetch_xray_summaries", "fetch_xray_sampling", "xray_coverage_audit",
    # figures
    "waterfall_data", "plot_waterfall", "plot_waterfall_gl", "write_waterfall_gl", "plot_latency",
    "plot_latency_ecdf", "service_colors", "plot_critical_path_breakdown", "plot_service_graph", "plot_compare",
    "plot_bubble_up", "plot_flame", "plot_flame_diff", "plot_trace_diff", "plot_timeline", "plot_heatmap",
    # widgets, reports, the command line
    "TraceExplorer", "HeatmapExplorer", "report", "format_summary",
    # TraceQL
    "traceql", "traceql_metrics",
    # metrics beside traces
    "METRIC_COLUMNS", "empty_metrics", "validate_metrics", "metrics_from_columns", "metrics_schema_markdown",
    "MetricsSchemaError", "read_metrics", "metric_rates", "fetch_metrics", "metric_series", "detect_metric_changes",
    "metric_exemplars", "metric_evidence",
    # logs beside traces
    "LOG_COLUMNS", "LogsSchemaError", "empty_logs", "validate_logs", "logs_from_columns", "logs_schema_markdown",
    "read_logs", "log_templates", "attach_logs", "AttachedLogs", "log_evidence", "fetch_logs",
    # writers of the other signals (logs and metrics as OTLP JSON lines)
    "write_otlp_logs", "write_otlp_metrics",
    # is a baseline comparable; skewed clocks in the story
    "baseline_comparability", "skew_story",
    # the spans store
    "write_parquet", "read_parquet", "materialize",
]

#: names that mean "another frame to compare with" or "a count to show", used before the vocabulary
REFERENCE_NAMES = {"b", "spans_b", "id_b", "population", "selection", "incident", "other", "reference"}
COUNT_NAMES = {"top", "top_k", "k", "worst", "lift_rows", "limit", "max_rows", "n_rows", "rows", "count"}
QUANTILE_NAMES = {"quantile", "percentile", "pct", "p"}

#: (function, parameter) -> why it does not follow the vocabulary yet. Shrink it.
KNOWN_DEVIATIONS: dict[tuple[str, str], str] = {
    ("diff_traces", "b"): "a trace against a trace (a, b), b may be a trace id in a's frame: not a baseline frame",
    ("diff_traces", "id_b"): "the second trace's id, paired with b",
    ("critical_path_tree_diff", "spans_b"): "a and b are critical-path results (cp frames), spans_a/spans_b their spans",
    ("critical_path_tree_diff", "b"): "a critical-path result, not a spans frame",
    ("sampling_bias", "population"): "what the sample is drawn from: spans or a table of counts, not a baseline",
    ("bubble_up", "selection"): "the selected traces, as a predicate, mask or ids",
    ("bubble_up", "baseline"): "a predicate, mask or ids over the same spans, not a spans frame",
    ("plot_service_graph", "baseline"): "draws a service_graph result: the baseline's graph",
    ("rank_causes", "lift_rows"): "rows of lift evidence kept per key, not rows shown (the coordinator decides)",
    ("report", "worst"): "how many example traces the report draws (issue 29 owns reporting)",
    ("Postmortem", "incident"): "a field of the result (the incident frame), not an argument",
    ("detect_clock_skew", "by"): "whose clock a skew is: 'auto', 'service' or 'host' (a clock, not grouping keys)",
}


def _public_callables():
    for name in sorted(tk.__all__):
        obj = getattr(tk, name)
        if inspect.isfunction(obj) or (inspect.isclass(obj) and not issubclass(obj, BaseException)):
            try:
                yield name, inspect.signature(obj)
            except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
                continue


def test_the_public_names_are_pinned():
    assert len(EXPORTS) == len(set(EXPORTS)), "a name is listed twice"
    missing, extra = sorted(set(EXPORTS) - set(tk.__all__)), sorted(set(tk.__all__) - set(EXPORTS))
    assert not missing, f"listed in EXPORTS but not exported by tracekit: {missing}"
    assert not extra, f"exported but not pinned (add them to EXPORTS in tests/test_api.py): {extra}"
    for name in tk.__all__:
        assert getattr(tk, name) is not None


def test_tab_completion_offers_the_public_names_only():
    tk.postmortem  # noqa: B018  (loads the investigate, analysis and plotting modules into the package's namespace)
    shown = set(dir(tk))
    assert set(tk.__all__) <= shown and {"simulate", "examples", "io", "__version__"} <= shown
    leaked = sorted(n for n in shown - set(tk.__all__) if n not in {"metrics_schema", "logs_schema", "examples", "simulate",
                    "dask", "io", "schema", "errors", "core", "analysis", "aws", "simulate_faults", "__version__"})
    assert not leaked, f"dir(tracekit) offers names that are not the API: {leaked}"


def _deviations(callables=None) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for name, sig in _public_callables() if callables is None else callables:
        if name.startswith("fetch_"):
            # a time range of a live fetcher is start, end: both named so, taken by position or by keyword
            params = list(sig.parameters)
            for word in ("start", "end"):
                p = sig.parameters.get(word)
                if p is None or p.kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD:
                    found[(name, word)] = f"a fetcher's time range is start, end (by position or keyword), got {sig}"
            if {"start", "end"} <= set(params) and params.index("end") != params.index("start") + 1:
                found[(name, "end")] = f"end follows start, got {sig}"
        for p in sig.parameters.values():
            ann = str(p.annotation)
            if p.name in REFERENCE_NAMES:
                found[(name, p.name)] = "a spans frame is 'spans', the one to compare with 'baseline'"
            if p.name in COUNT_NAMES:
                found[(name, p.name)] = "a count of rows or keys to show is 'n'"
            if p.name in QUANTILE_NAMES:
                found[(name, p.name)] = "a quantile is 'q', within [0, 1]"
            if p.name == "baseline" and ("DataFrame" not in ann or "str" in ann or "Path" in ann) and name != "report":
                found[(name, p.name)] = f"baseline must be a spans frame, annotated {ann}"
            if p.name == "by" and "str" not in ann and "Any" not in ann:
                found[(name, p.name)] = f"by takes grouping keys (str or a list), annotated {ann}"
            if p.name == "n_boot" and p.default is not inspect.Parameter.empty and p.default != DEFAULT_N_BOOT:
                found[(name, p.name)] = f"n_boot defaults to {p.default}, not DEFAULT_N_BOOT ({DEFAULT_N_BOOT})"
    return found


def test_every_public_signature_speaks_the_vocabulary():
    found = _deviations()
    new = {k: v for k, v in found.items() if k not in KNOWN_DEVIATIONS}
    assert not new, "public signatures off the vocabulary:\n" + "\n".join(f"{f}({p}): {why}" for (f, p), why in sorted(new.items()))
    fixed = sorted(set(KNOWN_DEVIATIONS) - set(found))
    assert not fixed, f"these follow the vocabulary now; remove them from KNOWN_DEVIATIONS: {fixed}"


def test_the_checker_sees_a_deviation():
    """Ground truth for the check above: a function with the old words is caught."""

    def old(a: pd.DataFrame, b: pd.DataFrame, *, top: int = 3, n_boot: int = 200, quantile: float = 0.9) -> None:
        """Not public."""

    names = {p.name for p in inspect.signature(old).parameters.values()}
    assert {"b", "top"} <= names and "b" in REFERENCE_NAMES and "top" in COUNT_NAMES
    assert set(_deviations([("old", inspect.signature(old))])) == {("old", "b"), ("old", "top"), ("old", "n_boot"), ("old", "quantile")}

    def fetch_old(trace_ids: list, *, groups: list, start: object, end: object) -> None:
        """Not public: its time range is keyword-only."""

    def fetch_apart(start: object, groups: list, end: object) -> None:
        """Not public: end does not follow start."""

    def fetch_new(trace_ids: list, start: object, end: object, *, groups: list) -> None:
        """Not public: the vocabulary."""

    found = _deviations([(f.__name__, inspect.signature(f)) for f in (fetch_old, fetch_apart, fetch_new)])
    assert set(found) == {("fetch_old", "start"), ("fetch_old", "end"), ("fetch_apart", "end")}, found


def test_spans_and_baseline_are_the_first_two_arguments_wherever_both_appear():
    for name, sig in _public_callables():
        params = list(sig.parameters)
        if "spans" in params and "baseline" in params and (name, "baseline") not in KNOWN_DEVIATIONS:
            assert params.index("spans") == 0, f"{name}: spans first"
            if sig.parameters["baseline"].kind is not inspect.Parameter.KEYWORD_ONLY:
                assert params.index("baseline") == 1, f"{name}: baseline second"


def test_the_dask_api_speaks_the_vocabulary_with_types():
    """tk.dask named its spans frame ``dspans``, with no types, where every other function says ``spans``: the same
    checks as tk's, and every parameter and return annotated (the old keyword still works, with a warning)."""
    import tracekit.dask as tkd

    funcs = [(n, inspect.signature(getattr(tkd, n))) for n in tkd.__all__ if inspect.isfunction(getattr(tkd, n))]
    assert len(funcs) >= 14
    assert not _deviations(funcs), _deviations(funcs)
    for name, sig in funcs:
        assert "dspans" not in sig.parameters, name
        assert sig.return_annotation is not inspect.Signature.empty, f"tk.dask.{name} has no return type"
        bare = [p.name for p in sig.parameters.values() if p.annotation is inspect.Parameter.empty
                and p.kind is not inspect.Parameter.VAR_KEYWORD]
        assert not bare, f"tk.dask.{name}: parameters without a type: {bare}"
    spans = tk.examples.load("checkout-small")
    with pytest.warns(DeprecationWarning, match="dspans= is deprecated, use spans="):
        old = tkd.split_traces(dspans=tkd.from_pandas(spans, 2))
    assert old.equals(tkd.split_traces(tkd.from_pandas(spans, 2)))


def test_the_metric_name_filter_is_names_wherever_a_metrics_frame_is_read():
    """metric_series, detect_metric_changes and metric_evidence filter metric names with ``names``;
    metric_exemplars said ``name`` (issue 31's vocabulary drifted across its own functions)."""
    odd = [(name, p) for name, sig in _public_callables() if list(sig.parameters)[:1] == ["metrics"]
           for p in sig.parameters if p in ("name", "metric", "metric_name", "metric_names")]
    assert not odd, f"the metric-name filter is 'names': {odd}"


def test_metric_exemplars_old_name_keyword_warns_and_still_works():
    m = tk.metrics_from_columns({"time": [0, 1], "name": ["lat", "cpu"], "value": [1.0, 2.0], "exemplars": [
        [{"time": 0, "value": 1.0, "trace_id": "a" * 32, "span_id": None, "attributes": {}}],
        [{"time": 1, "value": 2.0, "trace_id": "b" * 32, "span_id": None, "attributes": {}}]]})
    with pytest.warns(DeprecationWarning, match="name= is deprecated, use names="):
        old = tk.metric_exemplars(m, name="lat")
    assert old["trace_id"].tolist() == ["a" * 32] == tk.metric_exemplars(m, names="lat")["trace_id"].tolist()


@pytest.mark.parametrize(("call", "old", "new"), [
    (lambda **kw: tk.compare(**kw), {"a": "S", "b": "B"}, {"spans": "S", "baseline": "B"}),
    (lambda **kw: tk.bubble_up(kw.pop("spans"), **kw), {"top_k": 2}, {"n": 2}),
    (lambda **kw: tk.plot_latency(kw.pop("spans"), **kw), {"top": 2}, {"n": 2}),
])
def test_old_keyword_names_warn_and_still_work(call, old, new):
    import numpy as np

    spans = tk.examples.load("checkout-small")
    values = {"S": spans, "B": spans}
    old = {k: values.get(v, v) if isinstance(v, str) else v for k, v in old.items()}
    new = {k: values.get(v, v) if isinstance(v, str) else v for k, v in new.items()}
    extra = {} if "a" in old else {"spans": spans}
    if "top_k" in old:
        extra["selection"] = lambda t: t.request_ms > np.median(t.request_ms)
    with pytest.warns(DeprecationWarning, match="is deprecated, use"):
        got_old = call(**old, **dict(extra))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        got_new = call(**new, **dict(extra))
    if isinstance(got_new, pd.DataFrame):
        pd.testing.assert_frame_equal(got_old, got_new)
    elif hasattr(got_new, "table"):
        pd.testing.assert_frame_equal(got_old.table, got_new.table)
    else:
        assert len(got_old.data) == len(got_new.data)
    with pytest.raises(tk.ArgumentError, match="only"):
        call(**old, **new, **dict(extra))


def test_one_table_of_named_keys_and_one_normaliser():
    assert set(BY_KEYS) == {"service", "operation", "route", "host", "version", "call_path"}
    assert by_keys("operation") == ["service", "name"] and by_keys(["operation", "service"]) == ["service", "name"]
    for bad in ([], 3, [None], ""):
        with pytest.raises(tk.ArgumentError):
            by_keys(bad, what="x")


@pytest.mark.parametrize("by", ["service", "operation", "host", "version", "route", ["service", "kind"]])
def test_grouping_analyses_accept_the_same_keys(by):
    spans = tk.simulate.simulate("baseline", 40, seed=3).spans
    keys = by_keys(by)
    bd = tk.critical_path_breakdown(tk.critical_path(spans), by=by, spans=spans)
    assert list(bd.columns[: len(keys)]) == keys and len(bd)
    cmp = tk.compare(spans, spans, by=by, n_boot=20)
    assert list(cmp.table.columns[: len(keys)]) == keys and (cmp.table["delta_cp_ms"].abs() < 1e-9).all()
    tl = tk.timeline(spans, "10min", by=by)
    assert set(keys) <= set(tl.columns)


@pytest.mark.parametrize("call", [
    lambda s: tk.critical_path(s, surrounding="sideways"),
    lambda s: tk.critical_path_breakdown(tk.critical_path(s), by=[]),
    lambda s: tk.compare(s, s, by="no-such-column"),
    lambda s: tk.compare(s, s, ci=95),
    lambda s: tk.timeline(s, by=3),
    lambda s: tk.plot_latency(s, kind="violin"),
    lambda s: tk.bubble_up(s, lambda t: t.request_ms > 0, level="host"),
    lambda s: tk.find_repeated_calls(s, min_calls=1),
])
def test_bad_arguments_are_argument_errors(call):
    with pytest.raises(tk.ArgumentError):
        call(tk.examples.load("checkout-small"))


@pytest.mark.parametrize("name, call", [
    ("to_otlp", lambda s, d: tk.io.write.to_otlp(s)),
    ("write_otlp", lambda s, d: tk.write_otlp(s, d / "t.jsonl")),
    ("to_xray", lambda s, d: tk.io.write.to_xray(s)),
    ("write_xray", lambda s, d: tk.write_xray(s, d / "t.json")),
    ("xray_segment_documents", lambda s, d: tk.io.write.xray_segment_documents(s)),
    ("write_parquet", lambda s, d: tk.write_parquet(s, d / "t.parquet")),
    ("waterfall_data", lambda s, d: tk.waterfall_data(s)),
    ("app_logs", lambda s, d: tk.simulate_signals.app_logs(s)),
    ("app_metrics", lambda s, d: tk.simulate_signals.app_metrics(s)),
])
def test_a_spans_frame_missing_columns_is_a_spans_schema_error(name, call, tmp_path):
    """A user's spans frame without a column the function reads, or not a frame at all, is the one error
    core.require_columns raises everywhere (SpansSchemaError naming the function and the columns), not an
    ArgumentError in some places and a bare TraceKitError in others."""
    import tracekit.io.write  # noqa: F401  (tk.io.write below)
    import tracekit.simulate_signals  # noqa: F401

    spans = tk.examples.load("checkout-small")
    one = spans[spans["trace_id"] == spans["trace_id"].iloc[0]].drop(columns=["end", "duration_ms"])
    with pytest.raises(tk.SpansSchemaError, match=rf"^{name}: spans DataFrame is missing columns: .*\bend\b"):
        call(one, tmp_path)
    with pytest.raises(tk.SpansSchemaError, match=rf"^{name}: expected a spans DataFrame, got list"):
        call([1, 2], tmp_path)


@pytest.mark.parametrize("name, call", [
    ("critical_path", lambda s, b: tk.critical_path(s)),
    ("trace_outcomes", lambda s, b: tk.core.trace_outcomes(s)),
    ("rank_causes (incident)", lambda s, b: tk.rank_causes(s, b)),
    ("rank_causes (baseline)", lambda s, b: tk.rank_causes(b, s)),
    ("compare (spans)", lambda s, b: tk.compare(s, b)),
    ("compare (baseline)", lambda s, b: tk.compare(b, s)),
    ("postmortem", lambda s, b: tk.postmortem(s, b)),
    ("service_graph", lambda s, b: tk.service_graph(s)),
    ("health_report", lambda s, b: tk.health_report(s)),
    ("timeline", lambda s, b: tk.timeline(s)),
    ("course_changes (spans)", lambda s, b: tk.analysis.course_changes.course_changes(s, b)),
    ("to_otlp", lambda s, b: tk.io.write.to_otlp(s)),
    ("waterfall_data", lambda s, b: tk.waterfall_data(s)),
])
def test_a_column_given_twice_is_a_spans_schema_error_naming_it(name, call):
    """A frame holding a column twice (``pd.concat(axis=1)``, a merge without suffixes) makes ``spans[col]`` a
    DataFrame; every function says so by name, where each failed with "'DataFrame' object has no attribute 'array'"
    in the cache's fingerprint or deeper. A twice-held column the function does not read is no error. The sentence is
    the one every frame kind says (``schema.repeated_column``: logs, metrics and the cache's fingerprint too)."""
    import tracekit.analysis.course_changes  # noqa: F401
    import tracekit.io.write  # noqa: F401

    spans = tk.examples.load("checkout-small")
    twice = pd.concat([spans, spans[["service"]]], axis=1)
    with pytest.raises(tk.SpansSchemaError, match=rf"^{re.escape(name)}: spans DataFrame: column 'service' appears 2 "
                                                   r"times; give each column once \(rename or drop the others"):
        call(twice, spans)
    extra = pd.concat([spans, spans[["source_file"]]], axis=1)
    assert len(tk.critical_path(extra)) == len(tk.critical_path(spans))


def test_every_frame_kind_says_a_repeated_column_in_one_sentence():
    """Spans (require_columns and the cache), logs (logs_from_columns, log_templates) and metrics
    (metrics_from_columns, validate_metrics) end their error for a column held twice with the one sentence of
    ``schema.repeated_column``."""
    from tracekit.core.cache import fingerprint
    from tracekit.schema import repeated_column

    spans = tk.examples.load("checkout-small")
    logs = tk.logs_from_columns({"time": [0, 1], "body": ["a", "b"]})
    metrics = tk.metrics_from_columns({"time": [0], "name": "m", "value": [1.0]})
    cases = {"service": [lambda: tk.critical_path(pd.concat([spans, spans[["service"]]], axis=1)),
                         lambda: fingerprint(pd.concat([spans, spans[["service"]]], axis=1), ["service"])],
             "body": [lambda: tk.logs_from_columns(pd.concat([logs, logs[["body"]]], axis=1)),
                      lambda: tk.log_templates(pd.concat([logs, logs[["body"]]], axis=1))],
             "value": [lambda: tk.metrics_from_columns(pd.concat([metrics, metrics[["value"]]], axis=1)),
                       lambda: tk.validate_metrics(pd.concat([metrics, metrics[["value"]]], axis=1))]}
    for col, calls in cases.items():
        said = repeated_column(pd.Index([col, col]), [col])
        assert said.startswith(f"column {col!r} appears 2 times; give each column once")
        for call in calls:
            with pytest.raises(tk.TraceKitError) as err:
                call()
            assert str(err.value).endswith(said), str(err.value)


def test_results_share_one_shape():
    """Every result object is a frozen dataclass with .table (a DataFrame) and .params (a dict of its settings)."""
    import dataclasses

    from tracekit.core.results import Result

    spans = tk.simulate.simulate("async-links", 40, seed=1).spans
    sim = tk.simulate.simulate("baseline", 60, seed=2).spans
    results = {
        "compare": tk.compare(sim, sim, n_boot=10),
        "what_if": tk.what_if(sim, {"payments": 0.5}, n_boot=10),
        "stitch": tk.stitch(spans),
        "simulate_sampling": tk.simulate_sampling(sim, probability=0.5),
        "sampling_bias": tk.sampling_bias(sim.iloc[: len(sim) // 2], sim),
        "exemplars": tk.exemplars(sim, sim),
    }
    for name, r in results.items():
        assert isinstance(r, Result) and dataclasses.is_dataclass(r), name
        with pytest.raises(dataclasses.FrozenInstanceError):
            r.params = {}
        assert isinstance(r.table, pd.DataFrame) and r.table is getattr(r, type(r).TABLE), name
        assert isinstance(r.params, dict) and r.params, f"{name}: no settings recorded"
    assert results["what_if"].params["n_boot"] == 10 and results["stitch"].params["via"] == ["links", "messaging", "heuristic"]
