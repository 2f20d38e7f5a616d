"""The kernel: one definition of every concept the analyses share.

Every analysis, figure, report line and Dask path takes these from here, never from another
analysis (``tests/test_layers.py`` forbids importing private names across modules, except from
the kernel; ``tests/test_definitions.py`` checks that modules agree):

- :mod:`~tracekit.core.tree` — the span tree (roots, orphans, fragments, duplicates, cycles,
  request root), built once per frame;
- :mod:`~tracekit.core.calls` — whether a call (client/producer span) is answered, one call instrumented twice;
- :mod:`~tracekit.core.outcomes` — failed / client error / throttled; request latency
  (``request_ms``) vs trace extent (``extent_ms``);
- :mod:`~tracekit.core.stats` — the one percentile (``inverted_cdf``), along an axis (``quantiles_along``) and as
  the ends of every bootstrap interval (``interval_ends``: draws), default ``n_boot`` and ``ci``; the chance of
  exceeding a baseline quantile and a share beyond chance, shrunk (every evidence share);
- :mod:`~tracekit.core.naming` — callee, route, operation, call path, async hand-off;
- :mod:`~tracekit.core.attributes` — one attribute key of every span as a typed column;
- :mod:`~tracekit.core.resources` — where a span ran: host and service version (one list of keys each);
- :mod:`~tracekit.core.ids` — trace ids at public entry points (X-Ray form accepted);
- :mod:`~tracekit.core.frame` — the one column check, time conversions;
- :mod:`~tracekit.core.args` — the one argument check: a count, a number, a duration, ``n_boot`` / ``ci`` / ``alpha``;
- :mod:`~tracekit.core.results` — result tables declared as data;
- :mod:`~tracekit.core.keys` — ``by``: the named grouping keys and the one function normalising them;
- :mod:`~tracekit.core.cache` — per-frame caches (trace outcomes, the critical path).
- :mod:`~tracekit.core.gc_pause` — the cyclic GC paused while a pass builds millions of small containers.
- :mod:`~tracekit.core.files` — a file written whole or not at all (every writer: spans, caches, reports).
- :mod:`~tracekit.core.templates` — a text's template, its ids and numbers masked: one rule for log messages
  (``log_templates``) and span names (the ``high_cardinality_span_name`` health check).

>>> from tracekit.core import percentile
>>> percentile([101, 102, 103, 104], 0.95)
104.0
"""

from .args import boot_args, count_arg, duration_arg, flag_arg, number_arg, percentile_window_arg, share_arg, steps_arg
from .cache import cache_stats, clear_cache, frame_cached
from .calls import ANSWER_KINDS, CALL_KINDS, CallAnswers, call_answers, unanswered_calls
from .frame import (
    NAT_NS,
    START_TIME_ZERO,
    TIME_MAX_NS,
    TIME_MIN_NS,
    TIME_PROBLEM,
    TIME_RANGE,
    bool_column,
    ns,
    require_columns,
    span_window,
    start_unknown,
    time_out_of_range,
    time_resolution_ns,
    to_timestamps,
)
from .ids import normalize_trace_id, normalize_trace_ids, trace_id_of
from .keys import BY_KEYS, ByKey, by_keys, joint_codes, key_frame
from .naming import (
    ASYNC_OPERATIONS,
    CALLEE_KEYS,
    MAX_PATH_OPS,
    UNNAMED,
    PathIndex,
    PathInterner,
    call_contexts,
    call_paths,
    callee,
    callees,
    get_attribute,
    is_async_handoff,
    named,
    operations,
    path_length,
    path_parent,
    request_routes,
    routes,
)
from .nested import safe_repr, safe_str, to_text
from .outcomes import (
    FAILED_WORDS,
    TRACE_OUTCOME_COLUMNS,
    any_failed_share,
    client_error,
    errored,
    failed,
    failed_share,
    is_async_root,
    logged_error,
    outcome_unknown,
    running_ns,
    status_recorded,
    throttled,
    trace_extent_ns,
    trace_in_progress,
    trace_outcomes,
    unknown_outcomes,
)
from .resources import HOST_KEYS, REGION_KEYS, VERSION_KEYS, host_of, hosts, versions
from .results import RESULT_TABLES, ResultColumn, ResultTable, result_table, results_markdown
from .stats import (
    DEFAULT_CI,
    DEFAULT_N_BOOT,
    PERCENTILE_METHOD,
    QUANTILES,
    balanced_median,
    balanced_median_of,
    balanced_medians_grouped,
    exceed_chance,
    holm,
    interval_ends,
    normal_slices,
    percentile,
    quantile_draws,
    quantile_draws_grouped,
    quantiles_along,
    quantiles_with_zeros,
    share_beyond_chance,
    upper_limits,
)
from .tree import (
    SpanTree,
    blocks_parent,
    clamp_to_parents,
    self_ns,
    service_entries,
    span_count,
    span_rows,
    span_tree,
    unique_sorted,
)
from .weights import trace_weights
from .words import p_value_text

__all__ = [
    "boot_args", "count_arg", "number_arg", "share_arg", "duration_arg", "steps_arg", "flag_arg", "percentile_window_arg",
    "NAT_NS", "TIME_PROBLEM", "TIME_MIN_NS", "TIME_MAX_NS", "TIME_RANGE", "bool_column", "ns", "require_columns", "to_timestamps",
    "time_out_of_range", "time_resolution_ns", "START_TIME_ZERO", "start_unknown", "span_window",
    "normalize_trace_id", "normalize_trace_ids", "trace_id_of", "FAILED_WORDS",
    "ASYNC_OPERATIONS", "CALLEE_KEYS", "call_paths", "callee", "callees", "get_attribute", "is_async_handoff",
    "operations", "routes", "request_routes", "call_contexts", "UNNAMED", "named", "MAX_PATH_OPS", "PathIndex", "PathInterner", "path_length", "path_parent",
    "safe_repr", "safe_str", "to_text",
    "TRACE_OUTCOME_COLUMNS", "client_error", "failed", "throttled", "trace_outcomes", "trace_extent_ns", "trace_in_progress", "running_ns", "failed_share", "any_failed_share", "is_async_root", "status_recorded",
    "unknown_outcomes", "outcome_unknown", "logged_error", "errored",
    "HOST_KEYS", "REGION_KEYS", "VERSION_KEYS", "host_of", "hosts", "versions",
    "RESULT_TABLES", "ResultColumn", "ResultTable", "result_table", "results_markdown",
    "DEFAULT_CI", "DEFAULT_N_BOOT", "PERCENTILE_METHOD", "QUANTILES", "holm", "percentile", "balanced_median", "balanced_median_of", "balanced_medians_grouped", "quantile_draws", "quantile_draws_grouped", "quantiles_with_zeros", "quantiles_along", "interval_ends",
    "exceed_chance", "share_beyond_chance", "upper_limits", "normal_slices",
    "SpanTree", "span_tree", "span_count", "span_rows", "unique_sorted", "self_ns", "service_entries", "blocks_parent", "clamp_to_parents",
    "trace_weights", "p_value_text",
    "BY_KEYS", "ByKey", "by_keys", "joint_codes", "key_frame", "cache_stats", "clear_cache", "frame_cached",
    "ANSWER_KINDS", "CALL_KINDS", "CallAnswers", "call_answers", "unanswered_calls",
]
