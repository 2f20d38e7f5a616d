"""tracekit: investigate distributed traces in Jupyter.

Load AWS X-Ray and OpenTelemetry traces into one spans DataFrame, analyse them (health,
dependency graphs, critical paths, sampling bias, comparisons), look at them (waterfalls,
service maps) and share the results (HTML reports, notebooks).

>>> import tracekit as tk
>>> spans = tk.examples.load("checkout-small")
>>> set(spans["source"]) <= {"xray", "otlp"}
True

Names are imported lazily, so ``import tracekit`` stays light and never imports plotly,
ipywidgets or boto3; a feature whose extra is missing raises ``MissingExtraError``
(an ``ImportError``) naming the extra.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import accessor as _accessor  # noqa: F401  (registers ``spans.tk``; pandas is imported by .schema already)
from .errors import (
    ArgumentError,
    MissingExtraError,
    SkippedRecord,
    TraceFormatError,
    TraceFormatWarning,
    TraceKitError,
)
from .schema import (
    SPAN_COLUMNS,
    SpansSchemaError,
    empty_spans,
    schema_markdown,
    spans_from_columns,
    trace_id_to_xray,
    validate_spans,
    xray_to_trace_id,
)

__version__ = "0.1.0"

# public name -> module that defines it (imported on first use)
_EXPORTS: dict[str, str] = {
    # io
    "read_xray": "tracekit.io.readers",
    "attribute": "tracekit.core.attributes",
    "read_otlp": "tracekit.io.readers",
    "read": "tracekit.io.sniff",
    "skipped_records": "tracekit.io.sniff",
    "write_xray": "tracekit.io.write",
    "write_otlp": "tracekit.io.write",
    # the spans store (issue 33)
    "write_parquet": "tracekit.io.parquet",
    "read_parquet": "tracekit.io.parquet",
    "materialize": "tracekit.io.parquet",
    # structure and health
    "trace_summary": "tracekit.analysis.structure",
    "self_time": "tracekit.analysis.structure",
    "health_report": "tracekit.analysis.health",
    "detect_clock_skew": "tracekit.analysis.skew",
    "adjust_clock_skew": "tracekit.analysis.skew",
    "find_pii": "tracekit.analysis.pii",
    "redact": "tracekit.analysis.pii",
    "redact_skipped": "tracekit.analysis.pii",
    "redact_text": "tracekit.analysis.pii",
    # graphs and critical path
    "service_graph": "tracekit.analysis.graph",
    "critical_path": "tracekit.analysis.critical_paths",
    "critical_path_breakdown": "tracekit.analysis.critical_paths",
    "compare": "tracekit.analysis.comparison",
    "find_repeated_calls": "tracekit.analysis.repeated",
    "diff_traces": "tracekit.analysis.trace_diff",
    "trace_diff_summary": "tracekit.analysis.trace_diff",
    "exemplars": "tracekit.analysis.trace_diff",
    "critical_path_tree": "tracekit.analysis.flame",
    "critical_path_tree_diff": "tracekit.analysis.flame",
    "saving_potential": "tracekit.analysis.flame",
    "what_if": "tracekit.analysis.what_if",
    # async workflows across traces
    "stitch": "tracekit.analysis.workflows",
    "workflow_summary": "tracekit.analysis.workflows",
    "workflow_critical_path": "tracekit.analysis.workflows",
    "reconnect": "tracekit.analysis.reconnect",
    # sampling
    "sampling_weights": "tracekit.analysis.sampling",
    "weighted_summary": "tracekit.analysis.sampling",
    "sampling_bias": "tracekit.analysis.sampling",
    "simulate_sampling": "tracekit.analysis.sampling",
    # what distinguishes bad traces
    "bubble_up": "tracekit.analysis.attribution",
    "version_regressions": "tracekit.analysis.attribution",
    "cold_starts": "tracekit.analysis.attribution",
    # the time axis
    "timeline": "tracekit.analysis.timeline",
    "select_requests": "tracekit.analysis.timeline",
    "latency_heatmap": "tracekit.analysis.timeline",
    "latency_histogram": "tracekit.analysis.latency",
    "latency_ecdf": "tracekit.analysis.latency",
    "postmortem": "tracekit.investigate.postmortem",
    "Postmortem": "tracekit.investigate.postmortem",
    "deployments": "tracekit.analysis.timeline",
    "detect_changes": "tracekit.analysis.changes",
    "split_by_change": "tracekit.analysis.changes",
    "lambda_invocations": "tracekit.analysis.attribution",
    # root causes
    "rank_causes": "tracekit.investigate.causes",
    "chance_score": "tracekit.investigate.causes",
    "peer_outliers": "tracekit.investigate.peers",
    "error_origins": "tracekit.analysis.error_origins",
    "top_exceptions": "tracekit.analysis.error_origins",
    # TraceQL (Grafana Tempo's query language) on the spans frame
    "traceql": "tracekit.analysis.traceql",
    "traceql_metrics": "tracekit.analysis.traceql",
    # live X-Ray (extra: aws)
    "fetch_xray": "tracekit.aws.fetch",
    "fetch_xray_summaries": "tracekit.aws.fetch",
    "fetch_xray_sampling": "tracekit.aws.sampling_rules",
    "xray_coverage_audit": "tracekit.aws.coverage",
    # figures (extra: plot) — data steps live beside their analyses
    "waterfall_data": "tracekit.analysis.waterfall",
    "plot_waterfall": "tracekit.plotting",
    "plot_waterfall_gl": "tracekit.plotting.gl",
    "write_waterfall_gl": "tracekit.plotting.gl",
    "plot_latency": "tracekit.plotting",
    "plot_latency_ecdf": "tracekit.plotting",
    "service_colors": "tracekit.plotting",
    "plot_critical_path_breakdown": "tracekit.plotting",
    "plot_service_graph": "tracekit.plotting",
    "plot_compare": "tracekit.plotting",
    "plot_bubble_up": "tracekit.plotting",
    "plot_flame": "tracekit.plotting.flame",
    "plot_flame_diff": "tracekit.plotting.flame",
    "plot_trace_diff": "tracekit.plotting.flame",
    "plot_timeline": "tracekit.plotting",
    "plot_heatmap": "tracekit.plotting",
    # widgets (extra: jupyter)
    "TraceExplorer": "tracekit.widgets",
    "HeatmapExplorer": "tracekit.widgets",
    # reports and the command line
    "report": "tracekit.reporting",
    "format_summary": "tracekit.cli",
    # metrics beside traces (issue 31)
    "METRIC_COLUMNS": "tracekit.metrics_schema",
    "empty_metrics": "tracekit.metrics_schema",
    "validate_metrics": "tracekit.metrics_schema",
    "metrics_from_columns": "tracekit.metrics_schema",
    "metrics_schema_markdown": "tracekit.metrics_schema",
    "MetricsSchemaError": "tracekit.metrics_schema",
    "read_metrics": "tracekit.io.metrics",
    "metric_rates": "tracekit.io.metrics",
    "fetch_metrics": "tracekit.aws.metrics",
    "metric_series": "tracekit.analysis.metric_series",
    "detect_metric_changes": "tracekit.analysis.metric_changes",
    "metric_exemplars": "tracekit.analysis.metric_series",
    "metric_evidence": "tracekit.analysis.metric_evidence",
    # logs beside traces (issue 30)
    "LOG_COLUMNS": "tracekit.logs_schema",
    "LogsSchemaError": "tracekit.logs_schema",
    "empty_logs": "tracekit.logs_schema",
    "validate_logs": "tracekit.logs_schema",
    "logs_from_columns": "tracekit.logs_schema",
    "logs_schema_markdown": "tracekit.logs_schema",
    "read_logs": "tracekit.io.logs",
    "log_templates": "tracekit.analysis.logs",
    "attach_logs": "tracekit.analysis.logs",
    "AttachedLogs": "tracekit.analysis.logs",
    "log_evidence": "tracekit.analysis.log_evidence",
    "fetch_logs": "tracekit.aws.logs",
    # writers of the other signals: logs and metrics frames as OTLP JSON lines (bundled signals, branch signals)
    "write_otlp_logs": "tracekit.io.write_signals",
    "write_otlp_metrics": "tracekit.io.write_signals",
    # issue 29 (changes): is a baseline comparable; skewed clocks in the story
    "baseline_comparability": "tracekit.analysis.baseline_check",
    "skew_story": "tracekit.analysis.skew_story",
}

_SUBMODULES = {"metrics_schema", "logs_schema", "examples", "simulate", "dask", "io", "schema", "errors", "core", "analysis", "aws",
               "simulate_faults"}  # the fault lab (tk.simulate_faults.fault_window)

__all__ = [
    "TraceKitError",
    "ArgumentError",
    "SpansSchemaError",
    "TraceFormatError",
    "TraceFormatWarning",
    "MissingExtraError",
    "SkippedRecord",
    "SPAN_COLUMNS",
    "empty_spans",
    "validate_spans",
    "spans_from_columns",
    "schema_markdown",
    "xray_to_trace_id",
    "trace_id_to_xray",
    *_EXPORTS,
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"tracekit.{name}")
    raise AttributeError(f"module 'tracekit' has no attribute {name!r}")


def __dir__() -> list[str]:
    """What ``tk.<Tab>`` completes: the public names and submodules, not this module's own imports
    (``importlib``, ``Any``, ``annotations``) nor the private modules a call has loaded."""
    return sorted(set(__all__) | _SUBMODULES | {"__version__"})
