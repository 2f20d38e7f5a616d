"""Self-contained HTML postmortem reports.

Two steps, as everywhere in tracekit: :func:`collect_report` runs the analyses and returns a frozen
:class:`ReportData` of finished results; :func:`render_report` turns those results into one HTML page and
computes nothing of its own. :func:`report` does both and writes the file.

The page embeds plotly.js once (no network needed to view it: it opens from disk or as an e-mail attachment).
Every string that comes from a trace reaches the page HTML-escaped (tables, headings) or as JSON data inside a
plotly figure (which plotly.js renders as text, never as markup); ``redact=`` applies :func:`tracekit.redact`
before anything is analysed or rendered.

Example::

    >>> import tracekit as tk, tempfile, pathlib
    >>> spans = tk.examples.load("checkout-small")
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "r.html"
    >>> tk.report(spans, out, title="Checkout <latency>").exists()
    True
    >>> "Checkout &lt;latency&gt;" in out.read_text()
    True
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import html
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .analysis.comparison import COMPARE_TABLE
from .analysis.logs import trace_logs
from .analysis.metric_evidence import NEGLIGIBLE_EVIDENCE
from .core import (
    FAILED_WORDS,
    QUANTILES,
    any_failed_share,
    failed_share,
    percentile,
    result_table,
    span_count,
    span_window,
    status_recorded,
    trace_outcomes,
)
from .core.files import replaced
from .core.words import NAME_CHARS, bidi_visible, freq_text, ms_label, name_shortener, percent, plural
from .core.words import extent_words as _extent_words
from .errors import ArgumentError, TraceKitError

__all__ = ["HEADLINE_DEFINITIONS", "HEADLINE_TABLE", "ReportData", "collect_report", "render_report", "render_markdown", "report", "output_kind", "build_report_from_files", "file_inputs", "files_not_read", "write_report",
           "baseline_warnings"]


@dataclass(frozen=True)
class InputFile:
    path: str
    sha256: str
    bytes: int


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows, computed before rendering."""

    title: str
    generated_at: str
    version: str
    settings: dict[str, Any]
    inputs: tuple[InputFile, ...]
    baseline_inputs: tuple[InputFile, ...]
    counts: dict[str, Any]
    headline: pd.DataFrame
    health: pd.DataFrame
    skipped: pd.DataFrame
    breakdown: pd.DataFrame
    comparison: pd.DataFrame | None
    structural: pd.DataFrame | None
    graph: Any
    worst: tuple[tuple[str, str], ...]  # (label, trace_id)
    spans: pd.DataFrame = field(repr=False)
    critical_path: pd.DataFrame = field(repr=False)
    latency_by_service: pd.DataFrame = field(repr=False)
    caveats: tuple[str, ...] = ()
    key_findings: tuple[str, ...] = ()
    story: Any = field(default=None, repr=False)
    baseline_spans: pd.DataFrame | None = field(default=None, repr=False)
    graph_baseline: Any = field(default=None, repr=False)
    graph_operations: Any = field(default=None, repr=False)
    signals_timeline: pd.DataFrame | None = field(default=None, repr=False)  # top causes' requests + metrics
    signal_inputs: tuple[tuple[str, InputFile], ...] = ()  # ("logs" / "metrics", file)
    #: (set, file, why) of every file of the folders given that was not read (:func:`files_not_read`)
    not_read: tuple[tuple[str, str, str], ...] = ()


def _frames_words(data: ReportData) -> str:
    """What was analysed when no file was read (frames given in Python): the spans and traces of each frame.

    >>> import tracekit as tk
    >>> d = collect_report(tk.simulate.simulate("db-lock", 60, seed=3).spans)
    >>> _frames_words(d)  # doctest: +ELLIPSIS
    'No file was read: the spans were given as data frames, so no path or checksum can be listed. Analysed: 1,2... spans of 60 traces.'
    """
    n_sp, n_tr = len(data.spans), int(data.counts.get("traces", 0))
    text = (f"No file was read: the spans were given as data frames, so no path or checksum can be listed. Analysed: "
            f"{plural(n_sp, 'span')} of {plural(n_tr, 'trace')}")
    if data.baseline_inputs or data.baseline_spans is None or "baseline given" not in str(data.settings.get("baseline")):
        return text + "."
    b = data.baseline_spans
    return text + f"; the baseline given: {plural(len(b), 'span')} of {plural(b['trace_id'].nunique(), 'trace')}."


def _baseline_words(data: ReportData) -> str:
    """The header's words for the baseline: the story's source, and for a baseline given, which files, how many
    traces and when (``the baseline given (datasets/checkout-baseline, 1,200 traces, 2026-03-02 13:00–13:59 UTC)``);
    "the baseline given" alone named nothing a reader could check."""
    from .analysis.changes import period_text

    story = data.story
    source = str(story.baseline_source)
    base = story.baseline
    if source != "the baseline given" or base is None or not len(base):
        return source  # the other sources say their period already
    starts = trace_outcomes(base)["start"].dropna()
    what = [plural(base["trace_id"].nunique(), "trace")]
    if len(starts):
        t0, t1 = starts.min(), starts.max()
        what.append(period_text(t0, t1))
    files = [f.path for f in data.baseline_inputs]
    roots = sorted({str(Path(f).parent) for f in files})
    if len(files) == 1:
        what.insert(0, files[0])
    elif data.settings.get("redact_paths") and files:  # hidden paths have no folder to name
        what.insert(0, plural(len(files), "file"))
    elif roots:
        what.insert(0, roots[0] if len(roots) == 1 else f"{roots[0]} and {len(roots) - 1:,} more folders")
    return f"the baseline given ({', '.join(what)})"


def _hash_file(p: Path) -> InputFile:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return InputFile(str(p), h.hexdigest(), p.stat().st_size)


def file_inputs(paths: Sequence[str | Path] | None) -> tuple[InputFile, ...]:
    """Name, size and sha256 of every file under ``paths`` (directories are listed), for the report's record.

    >>> file_inputs([]) == ()
    True
    """
    from .io._sources import walk

    out: list[InputFile] = []
    from .io.parquet import INDEX_FILE, is_store, store_files

    for p in paths or ():
        p = Path(p)
        store = p.is_dir() and is_store(p)  # a spans store directory: its index and Parquet files
        files = ([p / INDEX_FILE] if (p / INDEX_FILE).is_file() else []) + store_files(p) if store else \
            walk(p).files if p.is_dir() else [p]
        out.extend(_hash_file(f) for f in files)
    return tuple(out)


def files_not_read(paths: Sequence[str | Path] | None) -> tuple[tuple[str, str], ...]:
    """(file, why) of every file of the folders in ``paths`` that no reader reads (a README, a ``.DS_Store``, a CSV
    beside the traces): the one walk the readers list in ``attrs["ignored"]`` (:func:`file_inputs` hashes the others).
    Spans store directories are read whole: nothing of theirs is listed.

    >>> files_not_read([]) == ()
    True
    """
    from .io._sources import ignored_file_records
    from .io.parquet import is_store

    dirs = [p for p in paths or () if Path(p).is_dir() and not is_store(Path(p))]
    return tuple((r.file, r.reason) for r in ignored_file_records(dirs))


def _skipped_frame(spans: pd.DataFrame) -> pd.DataFrame:
    rows = [{"file": s.file, "record": s.record, "reason": s.reason} for s in spans.attrs.get("skipped", ())]
    return pd.DataFrame(rows, columns=["file", "record", "reason"])


#: the report's headline table, declared as data (:func:`tracekit.core.result_table`); each meaning is shown under it
HEADLINE_TABLE = result_table("report_headline", "one row per estimate (as sampled, baseline, sampling-corrected)", [
    ("estimate", "string", "", "which set and estimator the row is: as sampled, baseline as sampled, sampling-corrected"),
    ("traces", "int64", "traces", "traces in the set"),
    ("requests", "int64", "requests", "of them, requests: a root that is not a consumer span and has no span link "
                                      "(core.trace_outcomes; not rootless traces, not asynchronous work); in the "
                                      "sampling-corrected row, the requests the sample stands for (the sum of their "
                                      "sampling weights, weighted_summary's est_requests, rounded: an estimate)"),
    ("failed_share", "float64", "share", f"failed: share of the requests whose root span failed ({FAILED_WORDS}; "
                                         "core.failed_share), over "
                                         "the requests whose outcome is known (a root still in progress is left out); NaN, "
                                         "shown as unknown, when no span of the set records a status "
                                         "(core.status_recorded)"),
    ("request_p50_ms", "float64", "ms", "request latency: the request root span's duration (what the caller waited "
                                        "for), p50, inverted_cdf (an observed value)"),
    ("request_p95_ms", "float64", "ms", "request latency, p95 (as request_p50_ms)"),
    ("request_p99_ms", "float64", "ms", "request latency, p99 (as request_p50_ms)"),
    ("extent_p95_ms", "float64", "ms", "trace extent: first span start to last span end, asynchronous work after the "
                                       "response included, p95 (as sampled only); a trace with a span still in progress "
                                       "counts by its last end so far (a lower bound: core.trace_outcomes' in_progress)"),
    ("any_failed_share", "float64", "share", "share of traces with a failed span anywhere (the request's root or any "
                                             "call, an error a retry absorbed included; core.any_failed_share), over the "
                                             "traces where that is known (one none of whose spans failed while one is "
                                             "still in progress is left out); NaN, shown as unknown, when no span "
                                             "of the set records a status"),
])
#: what each headline number means, by column
HEADLINE_DEFINITIONS = {c.name: c.meaning for c in HEADLINE_TABLE.columns if c.name != "estimate"}


def _headline(spans: pd.DataFrame, outcomes: pd.DataFrame, baseline_outcomes: pd.DataFrame | None = None,
              baseline: pd.DataFrame | None = None) -> pd.DataFrame:
    """Requests, failed share and request latency percentiles; sampling-corrected where weights are known.

    ``outcomes`` is :func:`tracekit.core.trace_outcomes` of ``spans`` (``trace_summary`` has the same columns),
    ``baseline_outcomes`` that of the ``baseline`` spans. A set whose spans record no status
    (:func:`tracekit.core.status_recorded`) cannot show a failure: its ``failed_share`` and ``any_failed_share``
    are NaN (unknown), not 0; ``attrs["status_unknown"]`` lists those rows' ``estimate``.
    """
    from .analysis.sampling import sampling_weights, weighted_summary

    known = status_recorded(spans)
    rows = [_plain_row("as sampled", outcomes, known)]
    unknown = [] if known else ["as sampled"]
    if baseline_outcomes is not None:
        base_known = status_recorded(baseline) if baseline is not None else True
        rows.append(_plain_row("baseline, as sampled", baseline_outcomes, base_known))
        if not base_known:
            unknown.append("baseline, as sampled")
    try:
        w = sampling_weights(spans)
    except TraceKitError:
        w = None
    if w is not None and "weight" in w and w["weight"].notna().any():
        r = weighted_summary(spans, w).iloc[0].to_dict()
        failed_key = next((k for k in ("failed_share", "failed", "root_failed_rate", "error_rate") if k in r), None)
        est = r.get("est_requests", np.nan)
        rows.append({"estimate": "sampling-corrected", "traces": r.get("n_traces", len(outcomes)),
                     # the requests the sample stands for, not the sampled count (sampled-errors: about 2,962 of 1,075)
                     "requests": int(round(est)) if np.isfinite(est) else int(outcomes["request"].sum()),
                     "failed_share": r.get(failed_key, np.nan) if failed_key and known else np.nan,
                     "any_failed_share": r.get("any_failed_rate", np.nan) if known else np.nan,
                     **{f"request_p{round(q * 100)}_ms": r.get(f"request_p{round(q * 100)}_ms", r.get(f"p{round(q * 100)}_ms"))
                        for q in QUANTILES},
                     "extent_p95_ms": np.nan})
        if not known:
            unknown.append("sampling-corrected")
    out = pd.DataFrame(rows, columns=HEADLINE_TABLE.column_names).astype({c.name: c.dtype for c in HEADLINE_TABLE.columns})
    out.attrs["status_unknown"] = unknown
    return out


#: the headline columns that count failures: unknown, not 0, where no span records a status
_FAILURE_SHARES = ("failed_share", "any_failed_share")


def _headline_view(h: pd.DataFrame) -> pd.DataFrame:
    """The headline table as shown: a failure share of a set whose spans record no status reads "unknown"; the
    sampling-corrected row's traces read "1,075 sampled" and its requests "about 2,962 (estimate)" (sampled-errors:
    the row showed the sample's 1,075 requests beside corrected rates, read as the corrected count)."""
    unknown = h["estimate"].isin(h.attrs.get("status_unknown", [])).to_numpy(dtype=bool)
    corrected = (h["estimate"] == "sampling-corrected").to_numpy(dtype=bool)
    if not unknown.any() and not corrected.any():
        return h
    view = h.copy()
    if corrected.any():  # its traces are the sample, its requests an estimate: each cell says which
        for c, words in (("traces", "{:,} sampled"), ("requests", "about {:,} (estimate)")):
            col = view[c].astype(object)
            col[corrected] = [words.format(int(v)) for v in view.loc[corrected, c]]
            view[c] = col
    for c in _FAILURE_SHARES:
        col = view[c].astype(object)
        col[unknown] = "unknown"
        view[c] = col
    return view


def _status_note(h: pd.DataFrame) -> str:
    """Why a headline failure share reads "unknown" (rows of ``attrs["status_unknown"]``)."""
    rows = " and ".join(f'"{r}"' for r in h.attrs.get("status_unknown", []))
    return (f"{', '.join(_FAILURE_SHARES)} of {rows}: unknown, not 0 — no span there carries a status, an HTTP code "
            "or a fault flag, so no request is marked failed (core.status_recorded); a span's name, as an error handler's, may "
            "still show a failure.")


def _plain_row(label: str, outcomes: pd.DataFrame, known: bool = True) -> dict[str, Any]:
    req = percentile(outcomes["request_ms"].to_numpy(dtype=np.float64), QUANTILES)  # NaN for non-requests
    share, n_req = failed_share(outcomes)
    return {
        "estimate": label,
        "traces": len(outcomes),
        "requests": n_req,
        "failed_share": share if known else np.nan,
        "any_failed_share": any_failed_share(outcomes)[0] if known else np.nan,
        **{f"request_p{round(q * 100)}_ms": float(v) for q, v in zip(QUANTILES, req, strict=True)},
        "extent_p95_ms": float(percentile(outcomes["extent_ms"].to_numpy(dtype=np.float64), 0.95)),
    }


def _worst(outcomes: pd.DataFrame, worst: int) -> tuple[tuple[str, str], ...]:
    """The slowest requests by request latency (not trace extent: an async tail does not make a request slow),
    then the slowest failed request when it is not among them; each label names both numbers."""
    order = outcomes.sort_values("request_ms", ascending=False, na_position="last", kind="stable")
    order = order[order["request_ms"].notna()]

    def label(head: str, r) -> str:
        return f"{head} (request {ms_label(r.request_ms)}, {_extent_words(r.extent_ms, getattr(r, 'in_progress', False))})"

    out = [(label(f"slowest request #{i + 1}", r), r.trace_id) for i, r in
           enumerate(order.head(worst).itertuples(index=False))]
    failing = order[order["failed"].fillna(False).to_numpy(dtype=bool)]  # known failed (<NA>: no status recorded)
    if len(failing) and failing["trace_id"].iloc[0] not in {t for _, t in out}:
        r = next(failing.head(1).itertuples(index=False))
        out.append((label("slowest failed request", r), r.trace_id))
    return tuple(out)


def collect_report(
    spans: pd.DataFrame,
    *,
    baseline: pd.DataFrame | None = None,
    title: str | None = None,
    redact: str | Sequence[str] | None = None,
    worst: int = 3,
    inputs: Sequence[str | Path] | None = None,
    baseline_inputs: Sequence[str | Path] | None = None,
    compare_by: str = "operation",
    logs: pd.DataFrame | None = None,
    metrics: pd.DataFrame | None = None,
    logs_inputs: Sequence[str | Path] | None = None,
    metrics_inputs: Sequence[str | Path] | None = None,
    redact_paths: bool = False,
) -> ReportData:
    """Run the analyses a postmortem report shows and return them as a :class:`ReportData`.

    The story (:func:`tracekit.postmortem`) decides the incident window and the baseline: the one
    given, else the normal period before the detected change. The comparison, the "what changed"
    section and the example waterfalls use that window and that baseline. With ``logs`` (a logs
    frame) the records are put on their spans (:func:`tracekit.attach_logs`: the example traces list
    them) and their evidence joins the ranking; with ``metrics`` (a metrics frame; cumulative sums
    are turned into rates) metric evidence joins it and the top-ranked services' moved metrics are
    drawn under their requests on the report's time axis. ``redact`` applies to the log records too.
    ``redact_paths`` hides the input files' paths (folders can carry customer names): each file is named by its
    content's sha256 (:func:`_hidden_path`), its size and sha256 kept with the report's counts of traces and spans,
    so the report still says what was read and can be checked against the same files.

    >>> import tracekit as tk
    >>> data = collect_report(tk.examples.load("checkout-small"))
    >>> data.counts["traces"], data.comparison is None
    (40, True)
    """
    from . import __version__
    from .analysis.comparison import compare
    from .analysis.critical_paths import critical_path, critical_path_breakdown
    from .analysis.graph import service_graph
    from .analysis.pii import redact as _redact
    from .investigate.postmortem import LEVELS, postmortem

    if not isinstance(worst, (int, np.integer)) or isinstance(worst, bool) or worst < 0:
        raise ArgumentError(f"collect_report: worst must be a whole number >= 0, got {worst!r}")
    if compare_by not in LEVELS:
        raise ArgumentError(f"collect_report: compare_by must be one of {', '.join(LEVELS)}; got {compare_by!r}")
    if isinstance(redact, str):  # one key pattern, as tk.redact takes it: list("user.email") redacted nothing
        redact = [redact]
    elif redact is not None:
        try:
            redact = list(redact)
        except TypeError:  # a number, a bool: refused below, by name
            redact = [redact]
        if not all(isinstance(k, str) for k in redact):
            raise ArgumentError(f"collect_report: redact must be a key pattern or a list of them (texts such as "
                                f"'user.email' or 'http.request.header.*'), got {redact!r}")
    if not isinstance(redact_paths, (bool, np.bool_)):
        raise ArgumentError(f"collect_report: redact_paths must be True or False, got {redact_paths!r}")
    if redact:  # the keys asked for, and every built-in PII pattern in any text (names, messages, records)
        import secrets

        from .analysis.pii import PATTERNS

        salt = secrets.token_hex(16)  # one salt for both sets: equal values get equal tokens, joins still work
        spans = _redact(spans, keys=list(redact), patterns=list(PATTERNS), salt=salt)
        if baseline is not None:
            baseline = _redact(baseline, keys=list(redact), patterns=list(PATTERNS), salt=salt)
        if logs is not None:
            logs = _redact(logs, keys=list(redact), patterns=list(PATTERNS), salt=salt)
        if metrics is not None:  # series labels and exemplars' attributes: the same tokens as the spans'
            metrics = _redact(metrics, keys=list(redact), patterns=list(PATTERNS), salt=salt)
    signal_counts: dict[str, Any] = {}
    if logs is not None:
        from .analysis.logs import attach_logs
        from .logs_schema import validate_logs

        validate_logs(logs)
        on = attach_logs(spans, logs)
        spans = on.spans
        on_spans, on_base, no_span = int(on.n_on_span + on.n_trace_level), 0, int(on.n_unmatched)
        if baseline is not None:
            on_b = attach_logs(baseline, logs)
            baseline, on_base = on_b.spans, int(on_b.n_on_span + on_b.n_trace_level)
            # a record on neither side is counted, not dropped silently: unmatched by both (the logs' own labels)
            no_span = len(on.unmatched.index.intersection(on_b.unmatched.index)) if logs.index.is_unique else \
                max(len(logs) - on_spans - on_base, 0)
        signal_counts.update(log_records=len(logs), log_records_on_incident_spans=on_spans,
                             log_records_on_baseline_spans=on_base, log_records_on_no_span=no_span)
    if metrics is not None:
        from .io.metrics import metric_rates
        from .metrics_schema import validate_metrics

        validate_metrics(metrics)
        cumulative = ((metrics["kind"] == "sum") & (metrics["temporality"] == "cumulative")).to_numpy(dtype=bool, na_value=False)
        if cumulative.any():  # the evidence reads rates; a counter's running total would always look "up"
            metrics = metric_rates(metrics)
        signal_counts.update(metric_points=len(metrics), metric_series=int(metrics.groupby(
            ["name", "service", "host"], dropna=False, sort=False).ngroups), metric_sums_as_rates=bool(cumulative.any()))
    # the inputs' critical paths first: every frame the story cuts out of them (incident window, a route's
    # requests) takes its sections from these (tracekit.core.cache), so each input is walked once
    cp = critical_path(spans)
    if baseline is not None:
        critical_path(baseline)
    story = postmortem(spans, baseline, level="operation", logs=logs, metrics=metrics)
    summary = trace_outcomes(spans)
    breakdown = critical_path_breakdown(cp, by="service")
    comparison = structural = None
    cmp_params: dict[str, Any] = {}
    base = story.baseline
    has_base = base is not None and len(base) > 0
    if has_base and len(story.incident):  # an empty incident: nothing to compare (every operation read "vanished")
        if compare_by == "operation" and story.comparison is not None:
            comparison, structural = story.comparison, story.structure
            cmp_params = {"by": ["service", "name"], "incident": "change window" if story.window else "all"}
        else:
            from .investigate.causes import level_frame

            a, keys = level_frame(story.incident, compare_by)
            b, _ = level_frame(base, compare_by)
            cmp = compare(a, b, by=keys)
            comparison, structural = cmp.table, cmp.structure
            cmp_params = dict(cmp.params)
    lat = spans[spans["kind"].isin(["server", "consumer"])][["service", "duration_ms"]].dropna()
    caveats = tuple(f.text for f in story.findings if f.topic == "sure" and f.text.startswith("Sampling"))
    health = story.health
    skipped = _skipped_frame(spans)
    signals_tl = None
    if metrics is not None and story.causes is not None and len(story.causes):
        signals_tl = _signals_timeline(spans, story, metrics, given=baseline is not None)
    files = {kind: file_inputs(paths) for kind, paths in (("incident", inputs), ("baseline", baseline_inputs),
                                                            ("logs", logs_inputs), ("metrics", metrics_inputs))}
    not_read = tuple((kind, f, why) for kind, paths in (("incident", inputs), ("baseline", baseline_inputs),
                                                        ("logs", logs_inputs), ("metrics", metrics_inputs))
                     for f, why in files_not_read(paths))
    if redact_paths:  # every path the report shows, by its content's hash (a file not read: its path's hash)
        files, not_read, skipped = _paths_hidden(files, not_read, skipped)
    return ReportData(
        title=title or "Trace postmortem report",
        generated_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        version=__version__,
        settings={"redact": list(redact or []), "redact_paths": bool(redact_paths), "worst": worst, "compare_by": compare_by,
                  "baseline": story.baseline_source, "time bucket": story.freq,
                  # the settings the analyses report they used (attrs["params"]), not a description of them
                  "critical_path": dict(cp.attrs.get("params", {})),
                  "critical_path_breakdown": dict(breakdown.attrs.get("params", {"by": "service"})),
                  "compare": dict(cmp_params), "signals": story.params.get("signals", ["traces"]), **signal_counts,
                  "python": sys.version.split()[0], "pandas": pd.__version__},
        inputs=files["incident"],
        baseline_inputs=files["baseline"],
        counts={"traces": len(summary), "spans": span_count(spans),  # spans, not rows
                "services": int(spans["service"].nunique()),
                # an unset start (read as 1970: core.start_unknown) is not the data's first start
                **dict(zip(("start", "end"), span_window(spans), strict=True)),
                "baseline_traces": None if base is None else int(base["trace_id"].nunique()),
                "incident_traces": int(story.incident["trace_id"].nunique())},
        headline=_headline(spans, summary, trace_outcomes(base) if base is not None and len(base) else None,
                           base if base is not None and len(base) else None),
        health=health,
        skipped=skipped,
        breakdown=breakdown,
        comparison=comparison,
        structural=structural,
        # with a baseline the map compares like with like: the incident the story compares (the change window, when
        # one was found), not every input span, which held the normal period before the change, the baseline itself
        graph=service_graph(story.incident if has_base else spans),
        graph_baseline=service_graph(base) if has_base and len(story.incident) else None,  # else all "gone"
        graph_operations=service_graph(story.incident if has_base else spans, by="operation"),
        worst=_examples(story, summary, worst),
        spans=spans,
        critical_path=cp,
        latency_by_service=lat,
        caveats=caveats,
        key_findings=tuple(f.text for f in story.findings),
        story=story,
        baseline_spans=base,
        signals_timeline=signals_tl,
        signal_inputs=tuple([("logs", f) for f in files["logs"]] + [("metrics", f) for f in files["metrics"]]),
        not_read=not_read,
    )


#: the endings of a file name a report with hidden paths keeps (redact_paths): formats, nothing a person named
_FORMAT_ENDINGS = frozenset({".json", ".jsonl", ".ndjson", ".gz", ".csv", ".parquet", ".txt", ".log", ".pb", ".md"})


def _hidden_path(path: str | Path, sha256: str | None = None) -> str:
    """A path as a report with hidden paths shows it (``redact_paths=True``): ``file-`` and the first 12 hex digits
    of the file's sha256, then its format endings (``.json.gz``); its folders and its name are left out. A file not
    read (no content hash) is ``path-`` and the first 12 hex digits of the sha256 of the path's text.

    >>> _hidden_path("/cases/acme-corp/spans.json.gz", "ecd7b0842799a9a7945a")
    'file-ecd7b0842799.json.gz'
    >>> _hidden_path("/cases/acme.corp/acme.corp.README")[:5], _hidden_path("a/acme.corp.README")[17:]
    ('path-', '')
    """
    ends = "".join(e for e in Path(path).suffixes[-2:] if e.lower() in _FORMAT_ENDINGS)
    if sha256:
        return f"file-{sha256[:12]}{ends}"
    return f"path-{hashlib.sha256(str(path).encode('utf-8', 'surrogatepass')).hexdigest()[:12]}{ends}"


def _paths_hidden(files: dict[str, tuple[InputFile, ...]], not_read: tuple[tuple[str, str, str], ...],
                  skipped: pd.DataFrame) -> tuple[dict[str, tuple[InputFile, ...]], tuple[tuple[str, str, str], ...],
                                                  pd.DataFrame]:
    """The report's records of its files with every path as :func:`_hidden_path` writes it: the files read (by their
    sha256), the files not read and the skipped records' files (by their path), and each path where a reason quotes
    it."""
    names = {f.path: _hidden_path(f.path, f.sha256) for fs in files.values() for f in fs}
    names.update({f: _hidden_path(f) for _, f, _ in not_read if f not in names})
    for col in ("file",):
        names.update({str(f): _hidden_path(f) for f in skipped[col].dropna().astype(str) if str(f) not in names})
    longest = sorted((p for p in names if p), key=len, reverse=True)
    quoted = re.compile("|".join(map(re.escape, longest))) if longest else None

    def text(x: Any) -> Any:
        if not isinstance(x, str):
            return x
        return names.get(x) or (quoted.sub(lambda m: names[m.group(0)], x) if quoted is not None else x)

    files = {k: tuple(InputFile(names[f.path], f.sha256, f.bytes) for f in fs) for k, fs in files.items()}
    not_read = tuple((kind, text(f), text(why)) for kind, f, why in not_read)
    skipped = skipped.assign(**{c: skipped[c].map(text) for c in skipped.columns}) if len(skipped) else skipped
    return files, not_read, skipped


#: top-ranked services drawn with their metrics, and metrics drawn per service
_SIGNAL_SERVICES, _SIGNAL_METRICS = 3, 3


def _clock(t: Any) -> str:
    """A timestamp as YYYY-MM-DD HH:MM (UTC), with seconds when it is not on a whole minute (an incident that began
    at 13:31:54 said as "from 13:31" began inside the baseline's last minute)."""
    t = pd.Timestamp(t)
    t = t.tz_convert("UTC") if t.tzinfo else t
    return t.strftime("%Y-%m-%d %H:%M" if t == t.floor("1min") else "%Y-%m-%d %H:%M:%S")


def _signals_timeline(spans: pd.DataFrame, story: Any, metrics: pd.DataFrame, given: bool) -> pd.DataFrame | None:
    """The requests of the top-ranked services per time bucket with the metric that moved most at each
    (rank_causes' ``metric_top_name``; :func:`tracekit.timeline` by service with ``metrics``), or None when no
    metric moved there. ``given``: a baseline was given (else the story's baseline is the period before the change,
    inside ``spans``)."""
    from .analysis.timeline import timeline

    rc = story.causes
    top = [s for s in dict.fromkeys(rc["service"].astype(object).tolist()) if isinstance(s, str)][:_SIGNAL_SERVICES]
    if "metric_top_name" not in rc.columns:
        return None
    # each top service's metric that moved most; a negligible move (metric_evidence.NEGLIGIBLE_EVIDENCE) is not drawn
    # as one, as the postmortem's metrics sentence does not call it one
    moved = rc[rc["service"].isin(top) & (rc["metrics"] >= NEGLIGIBLE_EVIDENCE)]
    names = [n for n in dict.fromkeys(moved["metric_top_name"].astype(object)) if isinstance(n, str)][:_SIGNAL_METRICS]
    if not names:
        return None
    # the baseline's period on the same axis when it is a separate period just before the incident (as long as the
    # incident or nearer), so the move itself is drawn; a baseline cut from the same spans is in them already
    frames, base, with_base = [spans], story.baseline, False
    within = not given and base is not None and len(base) > 0  # the normal period before the change, in the spans
    if base is not None and len(base) and len(spans) and not base["trace_id"].isin(spans["trace_id"]).all():
        gap = spans["start"].min() - base["end"].max()
        if pd.Timedelta(0) <= gap <= spans["end"].max() - spans["start"].min():
            frames, with_base = [base, spans], True
    tl = timeline(pd.concat(frames, ignore_index=True) if with_base else spans, story.freq, by="service",
                  metrics=metrics, metric_names=names)
    out = tl[tl["service"].isin(top)].reset_index(drop=True)
    out.attrs = dict(tl.attrs, services=top, metric_names=names, with_baseline=with_base, baseline_within=bool(within),
                     incident_start=spans["start"].min() if not within else story.incident["start"].min())
    return out


def _examples(story: Any, summary: pd.DataFrame, worst: int) -> tuple[tuple[str, str], ...]:
    """Waterfalls to draw: the evidence of the findings first (where, then what), then the slowest requests."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for topic, head in (("where", "evidence of the cause"), ("what", "slowest request in the change window")):
        if topic == "what" and story.window is None:
            continue
        for f in story.findings:
            if f.topic == topic and f.trace_ids:
                tid = f.trace_ids[0]
                r = summary[summary["trace_id"] == tid]
                if tid not in seen and len(r):
                    r0 = r.iloc[0]
                    out.append((f"{head} (request {ms_label(r0['request_ms'])}, "
                                f"{_extent_words(r0['extent_ms'], r0.get('in_progress', False))})", tid))
                    seen.add(tid)
    for label, tid in _worst(summary, worst):
        if tid not in seen:
            out.append((label, tid))
            seen.add(tid)
        elif label.startswith("slowest"):  # drawn already as evidence: its rank said there, not a gap in the #s
            j = next(i for i, (_, t) in enumerate(out) if t == tid)  # (a TrainTicket report showed #1 and #3)
            out[j] = (out[j][0].replace(" (request ", f", also {label.split(' (request ')[0]} (request ", 1), tid)
    return tuple(out)


# ----------------------------------------------------------------------------------------------- rendering

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5rem auto;max-width:1100px;padding:0 1rem;color:#222;line-height:1.4}
h1{margin:0 0 .2rem} h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem} h3{font-size:1rem;margin:1.2rem 0 .3rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0;max-width:100%}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4} td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.muted{color:#666;font-size:.85rem} .sev-high,.sev-error{background:#fde2e1} .sev-warning,.sev-medium{background:#fff4d6}
.sev-info{color:#444} code{font-size:.85rem;overflow-wrap:anywhere} .id{white-space:nowrap}
#key-findings dl{margin:.4rem 0} #key-findings dt{font-weight:600;margin-top:.5rem}
#key-findings dd{margin:.15rem 0 .15rem 1.2rem} #key-findings .tid{font-size:.8rem;color:#555}
details{margin:.4rem 0} summary{cursor:pointer;color:#1f5fa8} .wide{overflow-x:auto;max-width:100%;margin:.5rem 0}
.wide>table{margin:0}
ul.cell{margin:0;padding-left:1rem}
dd,p,h3,li,figcaption{overflow-wrap:anywhere} span.name{text-decoration:underline dotted;cursor:help}
"""

#: log records of an example trace shown before "full table"
_LOG_ROWS = 12
#: example traces with more spans than this are drawn by the canvas renderer (tracekit.plotting.gl), not plotly
CANVAS_ABOVE = 1500

_TOPIC_TITLES = {"baseline": "Baseline not comparable", "what": "What happened", "when": "When", "where": "Where", "changed": "What changed",
                 "sure": "How sure"}


def _topic_title(topic: str, items: list) -> str:
    """A topic's heading; the baseline's says what its findings are (set aside as not comparable, too small, or only
    some of its traces left out) — "Baseline not comparable" headed a baseline kept but too small."""
    if topic != "baseline":
        return _TOPIC_TITLES[topic]
    if any(f.evidence.get("comparable") is False for f in items):
        return _TOPIC_TITLES[topic]
    return "Baseline too small" if any(f.evidence.get("too_small") for f in items) else "Baseline"


def baseline_warnings(data: ReportData) -> tuple[str, ...]:
    """The sentences the report says first about the baseline it used, in its words (the story's ``baseline``
    findings: :func:`~tracekit.analysis.baseline_check.baseline_too_small`'s sentence, own traces left out of it, a
    baseline set aside as not comparable), for the command line to say them too: it said a mismatched baseline on
    stderr, not one too small for a conclusion, which the report put first.

    Parameters
    ----------
    data : ReportData
        What :func:`collect_report` returned.

    Returns
    -------
    tuple of str
        One sentence each, in the report's order; empty when it says nothing of the baseline.

    Examples
    --------
    >>> import tracekit as tk
    >>> spans = tk.simulate.simulate("slow-deploy", 120, seed=1).spans
    >>> small = tk.simulate.simulate("baseline", 10, seed=2).spans
    >>> baseline_warnings(collect_report(spans, baseline=small))[0][:45]
    'The baseline is too small for a conclusion: i'
    >>> baseline_warnings(collect_report(tk.examples.load("checkout-small")))
    ()
    """
    story = data.story
    return tuple(f.text for f in (story.findings if story is not None else ()) if f.topic == "baseline")


def _esc(x: Any) -> str:
    # bidi controls shown (core.words.bidi_visible): a name holding U+202E reversed the rest of its line on the page
    return html.escape(bidi_visible("" if x is None else x), quote=True)


def _unit(col: str) -> str:
    c = col.lower()
    if c.endswith(("_ms", "_ms_a", "_ms_b", "_ms_lo", "_ms_hi")) or "_ms_" in c or c in ("ms", "cp_ms", "self_ms"):
        return "ms"
    if c.endswith(("share", "_rate", "rate_a", "rate_b", "rate_lo", "rate_hi")) or "share" in c or "error_rate" in c:
        return "share"
    return ""


#: a text value in a report table cell, and in its CSV download, keeps at most this many characters
CELL_CHARS = 2_000


def _capped(text: str) -> str:
    """``text`` cut to :data:`CELL_CHARS`, saying how many characters were cut (a 1 MB log body or message)."""
    return text if len(text) <= CELL_CHARS else text[:CELL_CHARS] + f"… (+{len(text) - CELL_CHARS:,} characters)"


#: a token of a table cell longer than this many characters gets break opportunities after its separators
BREAK_TOKENS_OVER = 20
_LONG_TOKEN = re.compile(rf"\S{{{BREAK_TOKENS_OVER + 1},}}")
#: most characters of a cell's text without a place to wrap: a longer run (a 300-character service name of one word)
#: gets a <wbr> every this many characters, an entity counted as one and never cut
UNBROKEN_CHARS = 48
_UNBROKEN = re.compile(rf"(?:&[#\w]+;|[^\s<>]){{{UNBROKEN_CHARS + 1},}}")
_CHAR_OR_ENTITY = re.compile(r"&[#\w]+;|[^\s<>]")
_HEX_RUN = re.compile(r"[0-9a-f-]+")
_AFTER_SEPARATOR = re.compile(r"(?<=/)(?=\w)|(?<=[._])(?=[A-Z])|(?<=[a-z]_)(?=[a-z]{3})|(?<=[a-z]\.)(?=[a-z]{3,}(?:_|\.[a-z]{3}))")


def _breakable(escaped: str) -> str:
    """Escaped cell text with ``<wbr>`` between the words of its long tokens: after each ``/``, after a ``.`` or
    ``_`` that starts a capitalised part, after the ``_`` of a snake_case word and after the ``.`` of a dotted key's
    inner part. A table of gRPC operation names (``grpc.hipstershop.CurrencyService/GetSupportedCurrencies``:
    OnlineBoutique), of check names (``high_cardinality_attribute``) or attribute keys (``http.request.client_ip``)
    wraps at the name's own separators and fits the page instead of widening it (a cell wraps between words only,
    never inside one: a table still too wide scrolls in its own box). The characters are unchanged (a reader who
    copies a name gets it whole); a file name keeps its extensions (``spans.jsonl.gz``), and a short part
    (``client_ip``) stays with its word. Escaped text holds no ``/``, ``.`` or ``_`` inside an entity.

    >>> _breakable("high_cardinality_attribute http.request.client_ip")
    'high_<wbr>cardinality_<wbr>attribute http.<wbr>request.<wbr>client_ip'
    >>> _breakable("datasets/deploy-regression/spans.jsonl.gz")
    'datasets/<wbr>deploy-regression/<wbr>spans.jsonl.gz'

    A run of more than :data:`UNBROKEN_CHARS` characters with no such place (``catalog-xxxx…``, 300 characters: the
    table grew wider than the page, its other columns out of sight and its rows hundreds of pixels tall) takes a
    ``<wbr>`` every :data:`UNBROKEN_CHARS` characters, an entity never cut:

    >>> [len(p) for p in _breakable("catalog-" + "x" * 100).split("<wbr>")]
    [48, 48, 12]
    """
    if len(escaped) <= BREAK_TOKENS_OVER:
        return escaped
    out = _LONG_TOKEN.sub(lambda m: _AFTER_SEPARATOR.sub("<wbr>", m.group(0)), escaped)

    def chunks(m: re.Match) -> str:
        if len(m.group(0)) <= 64 and _HEX_RUN.fullmatch(m.group(0)):  # a hash or an id: whole, as _ids_whole keeps it
            return m.group(0)
        units = _CHAR_OR_ENTITY.findall(m.group(0))
        return "<wbr>".join("".join(units[i:i + UNBROKEN_CHARS]) for i in range(0, len(units), UNBROKEN_CHARS))

    return _UNBROKEN.sub(chunks, out) if len(out) > UNBROKEN_CHARS else out


#: a trace id (32 hex, or X-Ray's ``1-<8 hex>-<24 hex>``) or a span id (16 hex) in escaped cell text
_ID_TOKEN = re.compile(r"(?<![0-9A-Za-z-])(?:1-[0-9a-f]{8}-[0-9a-f]{24}|[0-9a-f]{32}|[0-9a-f]{16})(?![0-9A-Za-z])")


def _ids_whole(escaped: str) -> str:
    """Escaped cell text with each trace or span id in ``<span class="id">`` (``white-space:nowrap``): a narrow cell
    broke ``69a5a00b8bfaf72a`` after 14 characters when cells could break anywhere, and X-Ray's
    ``1-5759e988-bd862e…`` may still break at its hyphens, so an id read as two; lists of ids break between them, at
    the ", ".

    >>> _ids_whole("69a5a00b8bfaf72a, x")
    '<span class="id">69a5a00b8bfaf72a</span>, x'
    """
    return _ID_TOKEN.sub(r'<span class="id">\g<0></span>', escaped)


#: the space between a number and its unit (``0.5 %``, ``3.9 ms``) in escaped cell text
_NUMBER_UNIT_SPACE = re.compile(r"(?<=\d) (?=(?:%|ms|s)(?![0-9A-Za-z]))")


def _units_kept(escaped: str) -> str:
    """Escaped cell text whose numbers keep their unit on their line (a no-break space): the comparison's error rate
    read "1.1 % → 0.5" over "%" in a narrow column.

    >>> _units_kept("1.1 % → 0.5 %, 3.9 ms, 2 services")
    '1.1&nbsp;% → 0.5&nbsp;%, 3.9&nbsp;ms, 2 services'
    """
    return _NUMBER_UNIT_SPACE.sub("&nbsp;", escaped)


#: most characters of a dict shown in a table cell (its JSON text; what is left is counted, not shown)
DICT_CHARS = 300


def _cell(v: Any, unit: str) -> tuple[str, bool]:
    """(escaped text, is a number) of one value, formatted by the column's unit."""
    if v is None or (not isinstance(v, (list, tuple, dict, np.ndarray)) and pd.isna(v)):
        return "", False
    if isinstance(v, (list, tuple, np.ndarray)):
        items = [str(x) for x in list(v)]
        shown = items[:3]
        more = f" … (+{len(items) - 3})" if len(items) > 3 else ""
        return ", ".join(_ids_whole(_esc(x)) for x in shown) + _esc(more), False
    if isinstance(v, dict):
        text = json.dumps(v, default=str)
        # cut, said so: a dict cut at 300 characters read as whole (a '}' never came, nothing said what was left)
        cut = f"… (+{len(text) - DICT_CHARS:,} characters)" if len(text) > DICT_CHARS else ""
        return _esc(text[:DICT_CHARS] + cut), False
    if isinstance(v, pd.Timestamp):
        return _esc(f"{v:%Y-%m-%d %H:%M:%S}"), False
    if isinstance(v, (bool, np.bool_)):
        return ("yes" if v else "no"), False
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}", True
    if isinstance(v, (float, np.floating)):
        x = float(v)
        if unit == "share":
            return percent(x, 1, unit=" %"), True
        if unit == "ms":  # sub-millisecond digits kept, as every sentence says them (core.words.ms_label)
            return (ms_label(x, unit=False) if abs(x) < 1e5 else f"{x:,.0f}"), True
        if x.is_integer() and abs(x) < 1e15:
            return f"{int(x):,}", True
        return f"{x:,.3g}" if abs(x) < 1e-2 or abs(x) >= 1e4 else f"{x:,.3f}".rstrip("0").rstrip("."), True
    return _ids_whole(_units_kept(_breakable(_esc(_capped(str(v)))))), False  # cut before escaping: no half entity


def _html_table(df: pd.DataFrame, table_id: str | None = None, row_class: str | None = None) -> str:
    units = {c: _unit(str(c)) for c in df.columns}
    # a header wraps between its words and after its underscores (nine columns of request_p95_ms-like names made the
    # headline table 1,042 px wide at a 1,000 px window), a number and its "%" kept together
    head = "".join(f"<th>{_esc(c).replace('_', '_<wbr>').replace(' %', '&nbsp;%')}"
                   f"{' (ms)' if units[c] == 'ms' and not str(c).endswith('ms') else ''}</th>" for c in df.columns)
    rows = []
    classes = df[row_class].astype(str).tolist() if row_class and row_class in df.columns else None
    for i, rec in enumerate(df.itertuples(index=False)):
        cells = []
        for c, v in zip(df.columns, rec, strict=True):
            text, num = _cell(v, units[c])
            cells.append(f'<td class="num">{text}</td>' if num else f"<td>{text}</td>")
        cls = f' class="sev-{_slug(classes[i])}"' if classes else ""
        rows.append(f"<tr{cls}>{''.join(cells)}</tr>")
    tid = f' id="{_esc(table_id)}"' if table_id else ""
    # cells wrap between words only; a table wider than the page scrolls inside its own box, the page does not
    return (f'<div class="wide"><table{tid}><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            "</div>")


#: the first characters that make a spreadsheet (Excel, LibreOffice, Google Sheets) read a CSV cell as a formula
#: (OWASP's "CSV Injection" list: ``=``, ``+``, ``-``, ``@``, tab, carriage return)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _csv_text(text: str) -> str:
    """A text cell of a CSV download that a spreadsheet cannot run: text starting with one of
    :data:`FORMULA_STARTS` gets a leading ``'`` (OWASP's rule), so a service named ``=HYPERLINK("http://x","y")``
    shows as text, not as a link that opens when clicked. Text that is a plain number (``-3.5``) is left as it is:
    a spreadsheet reads it as that number and runs nothing. The report's tables and the DataFrames are not changed.

    >>> print(*[_csv_text(t) for t in ('=HYPERLINK("http://x","y")', "+1+cmd", "@SUM(A1)", "-3.5", "api", "a=b")])
    '=HYPERLINK("http://x","y") '+1+cmd '@SUM(A1) -3.5 api a=b
    """
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _csv_value(v: Any) -> Any:
    """A CSV value: containers as JSON, text capped as the table cells are (:func:`_capped`) and kept from running
    as a spreadsheet formula (:func:`_csv_text`)."""
    if isinstance(v, (list, dict, tuple, np.ndarray)):
        v = json.dumps(list(v) if isinstance(v, (tuple, np.ndarray)) else v, default=str)
    return _csv_text(_capped(v)) if isinstance(v, str) else v


#: what the report says beside each CSV download about the cells :func:`_csv_text` changed
_CSV_NOTE = ("text cells starting with = + - @, a tab or a carriage return begin with ' in the CSV, so a "
             "spreadsheet shows them as text and runs no formula")


def _csv_link(df: pd.DataFrame, name: str) -> str:
    """The "download CSV" link of a table (the data in the link); when text cells were kept from running as
    formulas (:func:`_csv_text`), the words after the link say how many and why."""
    flat = df.copy()
    guarded = 0
    for c in flat.columns:
        if flat[c].dtype == object or pd.api.types.is_string_dtype(flat[c].dtype):
            guarded += sum(isinstance(v, str) and _csv_text(_capped(v)) != _capped(v) for v in flat[c])
            flat[c] = flat[c].map(_csv_value)
    # CRLF rows (RFC 4180): a field holding a carriage return is quoted (with LF rows it was not, and a spreadsheet
    # split the row there)
    data = base64.b64encode(flat.to_csv(index=False, lineterminator="\r\n").encode("utf-8")).decode("ascii")
    note = (f' <span class="muted">({guarded:,} {"cell" if guarded == 1 else "cells"}: {_esc(_CSV_NOTE)})</span>'
            if guarded else "")
    return (f'<a download="{_esc(name)}.csv" href="data:text/csv;base64,{data}" title="{_esc(_CSV_NOTE)}">'
            f"download CSV</a>{note}")


def _table(df: pd.DataFrame | None, *, columns: Sequence[str] | None = None, max_rows: int = 12,
           table_id: str | None = None, row_class: str | None = None, name: str | None = None,
           full: pd.DataFrame | None = None) -> str:
    """A compact table (``columns``, ``max_rows``) that fits the page; the full table (``full``, default
    ``df``), when more is hidden, is one click away (collapsed) and downloadable as CSV."""
    if df is None or len(df) == 0:
        return '<p class="muted">none</p>'
    cols = [c for c in (columns or df.columns) if c in df.columns]
    shown = df[cols].head(max_rows)
    out = _html_table(shown, table_id, row_class)
    full_df = df if full is None else full
    hidden_rows, hidden_cols = len(full_df) - len(shown), max(len(full_df.columns) - len(cols), 0)
    if hidden_rows > 0 or hidden_cols > 0:
        what = ", ".join(x for x in (f"{hidden_rows:,} more rows" if hidden_rows > 0 else "",
                                     f"{hidden_cols} more columns" if hidden_cols > 0 else "") if x)
        out += (f'<details><summary>full table ({what}) · {_csv_link(full_df, name or table_id or "table")}</summary>'
                + _html_table(full_df.head(500))
                + (f'<p class="muted">first 500 of {len(full_df):,} rows; the CSV has them all</p>' if len(full_df) > 500 else "")
                + "</details>")
    return out


def _signed(v: Any) -> str:
    """``+12.3``: a change in ms with its sign, one decimal from 1 ms up and below it the digits that tell, as the
    sentences say it (:func:`~tracekit.core.words.ms_label`); "" for NaN. Nezha's changes of critical path are mostly
    below 1 ms: one decimal read "+0.3 [+0.0, +0.6]" beside the sentence's "+0.33 ms [+0.048 ms, +0.62 ms]" (an
    interval that excludes 0 shown as touching it) and "+0.0" for -0.041.

    >>> [_signed(v) for v in (-0.04, 0.048, -12.34, 0.0, float("nan"))]
    ['-0.04', '+0.048', '-12.3', '+0.0', '']
    """
    if v is None or pd.isna(v):
        return ""
    x = float(v)
    return ("-" if x < 0 else "+") + ms_label(abs(x), unit=False)


def _change_cells(d: pd.Series, lo: pd.Series, hi: pd.Series) -> pd.Series:
    """``+1.2 [+0.3, +2.0]`` per row: a change in ms and its interval; the change alone where the interval is not
    known, "" where the change is not (no critical path walked: spans cut below their roots read "[, ]").

    >>> _change_cells(pd.Series([1.2, 0.5, np.nan]), pd.Series([0.3, np.nan, np.nan]),
    ...               pd.Series([2.0, np.nan, np.nan])).tolist()
    ['+1.2 [+0.3, +2.0]', '+0.5', '']
    """
    known = lo.notna() & hi.notna()
    cells = d.map(_signed) + np.where(known, " [" + lo.map(_signed) + ", " + hi.map(_signed) + "]", "")
    return cells.where(d.notna(), "")


def _compare_view(t: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The comparison as a reader scans it: keys, then baseline → incident per metric, the change and its interval.
    A set whose error rate is NaN throughout while it has calls recorded no status (compare, core.status_recorded):
    its side reads "unknown", not a blank. Where some call is still in progress (compare's ``unknown_a`` /
    ``unknown_b``), a column says how many each side's error rate left out."""
    def side(col: str, unit: str, unknown: bool = False) -> pd.Series:
        def f(v: Any) -> str:
            return "" if pd.isna(v) else (percent(v, 1, unit=" %") if unit == "share" else
                                          ms_label(float(v), unit=False) if unit == "ms" else f"{v:,.1f}")

        return pd.Series("unknown", index=t.index) if unknown else t[col].map(f)

    def pair(b: str, a: str, unit: str, unknown: tuple[bool, bool] = (False, False)) -> pd.Series:
        sb, sa = side(b, unit, unknown[0]), side(a, unit, unknown[1])
        return (sb + " → " + sa).where((sb != "") | (sa != ""), "")  # " → " of nothing on either side: empty

    view = t[keys].copy()
    view["critical path ms / trace"] = pair("cp_ms_b", "cp_ms_a", "ms")
    view["Δ ms [95 % interval]"] = _change_cells(t["delta_cp_ms"], t["delta_cp_ms_lo"], t["delta_cp_ms_hi"])
    view["p95 ms of its calls"] = pair("p95_ms_b", "p95_ms_a", "ms")
    view["calls / request"] = pair("calls_b", "calls_a", "")
    unknown = tuple(bool(len(t) and t[f"error_rate_{s}"].isna().all() and (t[f"calls_{s}"] > 0).any()) for s in "ba")
    # a key whose calls on one side are all still in progress (no outcome yet: compare leaves them out) has no rate
    # there: "unknown", not a blank beside the other side's number
    b_cell, a_cell = (side(f"error_rate_{s}", "share", unknown[i]).mask(
        (t[f"error_rate_{s}"].isna() & (t[f"calls_{s}"] > 0)).to_numpy(dtype=bool), "unknown") for i, s in enumerate("ba"))
    view["error rate"] = b_cell + " → " + a_cell
    if {"unknown_a", "unknown_b"} <= set(t.columns) and bool((t[["unknown_a", "unknown_b"]].to_numpy() > 0).any()):
        # the calls each side's error rate left out (in progress, no outcome yet): its population said beside it
        view["calls in progress (left out of the error rate)"] = (t["unknown_b"].map("{:,}".format) + " → "
                                                                   + t["unknown_a"].map("{:,}".format))
    if "presence" in t.columns:
        view["in"] = t["presence"]
    return view


def _causes_view(rc: pd.DataFrame) -> pd.DataFrame:
    """rank_causes as a reader scans it: the component, its score, its two strongest kinds of evidence,
    the change of its critical-path time with the interval, the note and an example trace."""
    from .investigate.causes import EVIDENCE

    keys = [k for k in ("service", "name", "host", "version") if k in rc.columns]
    view = pd.DataFrame({"rank": rc["rank"]})
    view["component"] = rc[keys].astype(str).agg(" · ".join, axis=1)
    view["score"] = rc["score"].map(lambda v: f"{v:.2f}")
    kinds = [*EVIDENCE, *[c for c in ("log_templates", "log_errors", "metrics") if c in rc.columns]]
    ev = rc[kinds].to_numpy(dtype=float)
    names = np.asarray([{"log_templates": "log statements", "log_errors": "ERROR logs",
                         "answers": "callers' changed course"}.get(k, k) for k in kinds])
    view["evidence (score of each kind)"] = [
        ", ".join(f"{names[j]} {row[j]:.2f}" for j in np.argsort(-row)[:2] if row[j] >= 0.01) or "none"
        for row in ev]
    view["Δ critical path ms / trace [95 %]"] = _change_cells(rc["delta_cp_ms"], rc["delta_cp_ms_lo"],
                                                              rc["delta_cp_ms_hi"])
    if "signals" in rc.columns:  # which signals support the row (rank_causes with logs or metrics)
        view["signals"] = rc["signals"].fillna("")
    view["note"] = rc["note"].fillna("").str.replace(r" \([^)]*\)", "", regex=True)
    view["example trace"] = rc["example_trace_id"].fillna("").str.slice(0, 16)
    return view


#: the unit of each health measure's value (analysis.health: a share is a fraction of 1, a latency ms)
_MEASURE_UNITS = {"trace_completeness": "share", "failed_request_ratio": "share", "span_error_rate": "share",
                  "p95_request_latency_ms": "ms"}


def _measures_view(m: pd.DataFrame) -> pd.DataFrame:
    """The health measures as shown: each value in its unit, as its sentence says it — a share as a percentage, a
    latency in ms (the column read "0.000833" beside "0.1% of 1,200 requests failed", and "1" beside "100.0% of
    1,200 traces are complete"); a share no span lets count (NaN: no status recorded) stays empty, its explanation
    saying it is unknown.

    >>> v = _measures_view(pd.DataFrame({"check": ["failed_request_ratio", "p95_request_latency_ms", "span_error_rate"],
    ...                                  "value": [1 / 1200, 263.6, float("nan")]}))
    >>> v["value"].tolist()
    ['0.1 %', '263.6 ms', nan]
    """
    view = m.copy()

    def one(check: str, v: Any) -> Any:
        unit = _MEASURE_UNITS.get(check)
        if unit is None:
            return v
        if pd.isna(v):  # no status recorded: its explanation says unknown, not 0 (the cell stays empty)
            return v
        return percent(float(v), 1, unit=" %") if unit == "share" else ms_label(float(v))

    view["value"] = pd.Series([one(c, v) for c, v in zip(m["check"], m["value"], strict=True)], index=m.index,
                              dtype=object)
    return view


def _slug(x: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in x.lower())


_METRIC_CHECKS = ("trace_completeness", "failed_request_ratio", "span_error_rate", "p95_request_latency_ms", "top_call_path")
_FINDING_VIEW = ["severity", "check", "subject", "traces affected", "explanation", "example_trace_ids"]


def _of_traces(n_affected: Any, share: Any, n_traces: int) -> str:
    """A health finding's traces as the report shows them: a count over the count of traces read, and its share.

    >>> _of_traces(3, 0.075, 40), _of_traces(0, float("nan"), 0)
    ('3 of 40 traces (7.5 %)', '0')
    """
    n = int(n_affected)
    if not n_traces or share is None or pd.isna(share):
        return f"{n:,}"
    return f"{n:,} of {plural(n_traces, 'trace')} ({percent(n / n_traces, 1, unit=' %')})"
_COMPARE_VIEW = ["presence", "cp_ms_b", "cp_ms_a", "delta_cp_ms", "delta_cp_ms_lo", "delta_cp_ms_hi", "p95_ms_b", "p95_ms_a"]


def _figure_html(fig, first: bool) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=bool(first), config={"displaylogo": False, "responsive": True})


#: the columns of a report's frames whose values its sentences name (services, operations, hosts, callees)
_NAMED_COLUMNS = ("service", "name", "host", "version", "callee")


def _prose(data: ReportData, html_out: bool) -> Any:
    """The writer of the report's sentences (:func:`tracekit.core.words.name_shortener`): every service, operation,
    host or callee of its data longer than :data:`~tracekit.core.words.NAME_CHARS` is shortened in the middle (on
    the page, the whole name on hover); a 300-character pod or SQL name was written whole, up to four times in one
    finding, burying it. The tables keep names whole."""
    names: set[Any] = set()
    for df in (data.spans, data.baseline_spans, getattr(data.story, "causes", None)):
        if df is None:
            continue
        for c in _NAMED_COLUMNS:
            if c in df.columns:
                names.update(x for x in pd.unique(df[c].astype(object)) if isinstance(x, str) and len(x) > NAME_CHARS)
    st = data.signals_timeline
    if st is not None:
        names.update(st.attrs.get("metric_names", []))
    return name_shortener(names, html_out=html_out)


def _trace_ref(tid: str, drawn: set[str]) -> str:
    if tid in drawn:
        return f'<a href="#trace-{_esc(tid)}"><code class="id">{_esc(tid)}</code></a>'
    return f'<code class="id">{_esc(tid)}</code>'


#: compare's side labels (``a`` the incident, ``b`` the baseline) as the report says them
SIDE_WORDS = {"a only": "incident only", "b only": "baseline only"}


def _sides_named(comparison: pd.DataFrame) -> pd.DataFrame:
    """compare's table with its sides named as the report says them: ``cp_ms_a`` / ``cp_ms_b`` become
    ``cp_ms_incident`` / ``cp_ms_baseline``, the baseline's column first (the visible table reads baseline → incident;
    the full table and its CSV gave a before b, the incident first, unlabelled), and ``presence`` in words.

    >>> _sides_named(pd.DataFrame({"service": ["db"], "presence": ["a only"], "cp_ms_a": [3.0], "cp_ms_b": [1.0],
    ...                            "delta_cp_ms": [2.0]})).columns.tolist()
    ['service', 'presence', 'cp_ms_baseline', 'cp_ms_incident', 'delta_cp_ms']
    """
    cols: list[str] = []
    names: dict[str, str] = {}
    for c in comparison.columns:
        c = str(c)
        if c.endswith("_a") and f"{c[:-2]}_b" in comparison.columns:
            cols += [f"{c[:-2]}_b", c]
            names.update({c: f"{c[:-2]}_incident", f"{c[:-2]}_b": f"{c[:-2]}_baseline"})
        elif not (c.endswith("_b") and f"{c[:-2]}_a" in comparison.columns):
            cols.append(c)
    out = comparison[cols].rename(columns=names)
    if "presence" in out.columns:
        out["presence"] = out["presence"].astype(object).replace(SIDE_WORDS)
    return out


def render_report(data: ReportData) -> str:
    """Render a :class:`ReportData` as one self-contained HTML page (plotly.js embedded once).

    >>> import tracekit as tk
    >>> page = render_report(collect_report(tk.examples.load("checkout-small"), title="<x>"))
    >>> "<h1>&lt;x&gt;</h1>" in page and page.count("plotly.js v") == 1
    True
    """
    from . import plotting

    figs: list[str] = []

    def fig(f) -> str:
        figs.append("x")
        return _figure_html(f, first=len(figs) == 1)

    story = data.story
    drawn = {tid for _, tid in data.worst}
    c = data.counts
    prose = _prose(data, html_out=True)
    parts = [f"<h1>{_esc(data.title)}</h1>",
             f'<p class="muted">{plural(c["traces"], "trace")}, {plural(c["spans"], "span")}, {plural(c["services"], "service")}, '
             f'{_esc(_span_dates(c))}'
             + (f' · incident window {_esc(_window_words(story.window))}: {c["incident_traces"]:,} of these traces'
                if story.window and c.get("incident_traces") is not None else "")
             + f' · baseline: {_esc(_baseline_words(data))} · '
             f'generated {_esc(data.generated_at)} by tracekit {_esc(data.version)}</p>']

    parts.append('<section id="key-findings"><h2>Key findings</h2><dl>')
    for topic in _TOPIC_TITLES:
        items = [f for f in story.findings if f.topic == topic]
        if not items:
            continue
        parts.append(f"<dt>{_topic_title(topic, items)}</dt>")
        for f in items:
            refs = " ".join(_trace_ref(t, drawn) for t in f.trace_ids[:2])
            parts.append(f"<dd>{prose(f.text)}" + (f' <span class="tid">example: {refs}</span>' if refs else "") + "</dd>")
    parts.append("</dl></section>")

    # the headings call the ranking's top "likely causes" only when the postmortem's "where" does
    likely = not any(f.topic == "where" and f.evidence.get("likely") is False for f in story.findings)
    parts.append('<section id="timeline"><h2>Over time</h2>')
    all_out = trace_outcomes(data.spans)
    all_ms = all_out["request_ms"].to_numpy(dtype=float, na_value=np.nan)
    if not all_out["request"].to_numpy(dtype=bool, na_value=False).any():  # two empty plots said nothing
        parts.append(f'<p class="muted" id="timeline-none">No request to draw over time: the data '
                     f"({plural(c['traces'], 'trace')}) holds no request with a recorded root span (fragments or "
                     "asynchronous work only).</p>")
    else:
        parts.append(fig(plotting.plot_timeline(data.spans, story.freq, by="route", changes=story.changes,
                                                title="requests, error rate and request latency per route over time")))
        if (np.isfinite(all_ms) & (all_ms > 0)).any():
            parts.append(fig(plotting.plot_heatmap(data.spans, story.freq,
                                                   title="request latency over time (all requests)")))
        else:
            parts.append('<p class="muted" id="heatmap-none">No request latency over time to draw: no root span is '
                         "longer than 0 ms (the log scale cannot show 0 ms).</p>")
    if data.signals_timeline is not None:
        st = data.signals_timeline
        start = _esc(_clock(st.attrs["incident_start"]))
        since = (f"the baseline's period and then the incident (from {start} UTC)" if st.attrs.get("with_baseline") else
                 f"the whole data: the baseline's period and the incident's (from {start} UTC)"
                 if st.attrs.get("baseline_within") else "the incident's period")
        # "of the likely causes" covered every top-ranked service, the second and third at or below the chance level
        # the same report gives (fault lab network_delay 205: 0.48 and 0.12 beside a chance level of 0.35)
        parts.append('<h3 id="metrics-over-time">Metrics of the top-ranked services'
                     + (" (the first is the likely cause)" if likely else "") +
                     '</h3><p class="muted">The requests each of '
                     f"the top-ranked services served ({prose(', '.join(st.attrs.get('services', [])))}) and the "
                     f"metrics that moved most at them ({prose(', '.join(st.attrs.get('metric_names', [])))}: mean per "
                     f"{_esc(freq_text(story.freq))} bucket), on one time axis: {since}.</p>")
        parts.append(fig(plotting.plot_timeline(st, title="top-ranked services: requests, latency and the metrics "
                                                          "that moved")))
    parts.append("</section>")

    if data.comparison is not None:
        by = data.settings.get("compare_by", "operation")
        against = "the baseline given" if story.baseline_source == "the baseline given" else story.baseline_source
        parts.append('<section id="what-changed"><h2>What changed against the baseline</h2>')
        inc_words = (f"The change window ({_window_words(story.window)}, {plural(c['incident_traces'], 'trace')})"
                     if story.window else f"The incident ({plural(c['incident_traces'], 'trace')})")
        base_n = c.get("baseline_traces")
        # only the baseline given is said without its count: every other source says its own already (a test of
        # "traces)" in the words added a second count after "…; left out: … (/checkout p95_ms))" and "(1 trace)")
        counted = f" ({plural(base_n, 'trace')})" if base_n is not None and against == "the baseline given" else ""
        parts.append(f'<p class="muted">{_esc(inc_words)} against {_esc(against)}{_esc(counted)}, by '
                     f"{_esc(by)}; each cell is baseline → incident. Critical path ms / trace: the time the key holds "
                     "up a trace's end-to-end path (exclusive; averaged over the traces whose critical path was walked, "
                     "0 where the key is not on it: the requests, and asynchronous work where a queue hop made a trace "
                     "of its own), with the 95 % bootstrap interval of the "
                     "change; p95 of its calls: the p95 of the key's own spans in each set (not the request latency "
                     "of the headline or of 'What happened', which are p95s of whole requests); sorted by impact.</p>")
        # the key columns: those compare's declared table does not name (COMPARE_TABLE); a list of its metric prefixes
        # missed unknown_a / unknown_b, which the figure then drew as keys ("checkout · SELECT orders · 0 · 0")
        keys = [k for k in data.comparison.columns if k not in set(COMPARE_TABLE.column_names)]
        if story.causes is not None and len(story.causes):
            # the heading is of the whole table: "Likely causes" was said over rows the "where" finding's chance level
            # holds (its top score between two parts of the baseline), said here for every row
            null = (story.causes.attrs.get("null_reference") or {}).get("score", np.nan)
            chance = (f"; between two parts of the baseline the top score is {float(null):.2f}, so rows scoring near "
                      "it or below may be chance" if isinstance(null, (int, float)) and np.isfinite(null) else "")
            head = (f"Ranked components (rank_causes, by {_esc(story.level)}): the first is the likely cause{chance}"
                    if likely else
                    f"Ranked components (rank_causes, by {_esc(story.level)}): none stands out clearly beyond chance")
            parts.append(f"<h3>{head}</h3>"
                         '<p class="muted">Each component gets a score from 0 to 1 per kind of evidence (0: no '
                         "more than the baseline's rate; 1: every span abnormal) — not a share itself: the share of "
                         "its incident spans that look abnormal, shrunk with pseudo-spans at the baseline's rate "
                         "(rank_causes' prior, 10 by default: few spans weigh less), beyond that rate, scaled to 0-1 — "
                         "and the component's score is the sum over its kinds: slower own work, longer waits between services, calls beyond or below the "
                         "baseline's rate, an unseen call pattern, errors that originate there; the counts behind "
                         "each score are in the full table's hypothesis, the milliseconds beside the score."
                         + (" With logs: log statements (the change, beyond chance, in the share of its spans "
                            "emitting a log template, or logging it fewer times than the templates the baseline "
                            "always logged as often) and ERROR logs (spans where an ERROR record originates)."
                            if "log_templates" in story.causes.columns else "")
                         + (" With metrics: its metrics that moved beyond the baseline's reach, by the size of "
                            "the move." if "metrics" in story.causes.columns else "")
                         + (" <i>signals</i>: which signals support the row." if "signals" in story.causes.columns
                            else "") + "</p>")
            strong = int((story.causes["score"] >= 0.1).sum())  # the rest is "low evidence": one click away
            parts.append(_table(_causes_view(story.causes), max_rows=max(3, min(strong, 8)), table_id="causes-table",
                                name="causes", full=story.causes))
            parts.append("<h3>Every component, baseline → incident</h3>")
        walked = data.comparison[["cp_ms_a", "cp_ms_b"]].notna().to_numpy().any() if {"cp_ms_a", "cp_ms_b"} <= set(
            data.comparison.columns) else True
        if walked:
            parts.append(fig(plotting.plot_compare(data.comparison, labels=("baseline", "incident"), key=keys, n=12,
                                                   title=f"critical-path ms per trace by {by}: baseline vs incident")))
        else:  # empty axes said nothing: no critical path is walked where no trace holds its root span
            parts.append('<p class="muted" id="compare-none">No critical path to compare: no trace of the incident '
                         "holds its root span (spans cut below their roots), and critical paths are walked from the "
                         "root; the table compares the other columns.</p>")
        parts.append(_table(_compare_view(data.comparison, keys), table_id="compare-table", name="compare",
                            full=_sides_named(data.comparison)))
        if data.structural is not None and len(data.structural):
            # compare's sides are a (the incident) and b (the baseline): the reader sees which set
            paths = data.structural.assign(side=data.structural["side"].astype(object).replace(SIDE_WORDS))
            parts.append("<p>Call paths present in one set only, as seen (fragments of traces included; the key "
                         "findings' “What changed” names only those on whole traces and beyond chance):</p>"
                         + _table(paths, columns=["side", "traces", "spans", "call_path"], max_rows=8,
                                  table_id="structural-table", name="call-paths"))
        parts.append("</section>")

    parts.append('<section id="service-map"><h2>Service map</h2>')
    parts.append(fig(plotting.plot_service_graph(
        data.graph, baseline=data.graph_baseline, operations=data.graph_operations, title=_map_title(data))))
    parts.append("</section>")

    parts.append('<section id="latency"><h2>Request latency</h2>')
    drawn_set = story.incident if data.baseline_spans is not None and len(data.baseline_spans) else data.spans
    lat_ms = trace_outcomes(drawn_set)["request_ms"].to_numpy(dtype=float, na_value=np.nan)
    n_lat = int((np.isfinite(lat_ms) & (lat_ms > 0)).sum())
    if not n_lat:  # an empty log-scale plot said nothing (a frame of fragments, in-progress or 0 ms roots)
        parts.append(f'<p class="muted" id="latency-none">No request latency to draw: no request of these '
                     f'{plural(drawn_set["trace_id"].nunique(), "trace")} has a finished root span longer than 0 ms '
                     "(a request's latency is its root span's duration; the log scale cannot show 0 ms).</p>")
    elif data.baseline_spans is not None and len(data.baseline_spans):
        parts.append(fig(plotting.plot_latency_ecdf(story.incident, data.baseline_spans,
                                                    labels=("change window" if story.window else "incident", "baseline"),
                                                    title="request latency: incident against baseline (ECDF, log scale)")))
    else:
        parts.append(fig(plotting.plot_latency_ecdf(data.spans, title="request latency (ECDF, log scale)")))
    parts.append("</section>")

    parts.append('<section id="worst-traces"><h2>Example traces</h2>')
    if not data.worst:  # the section stood empty under its heading
        asked = data.settings.get("worst", 1)
        parts.append('<p class="muted" id="worst-none">' + _esc(
            "No example trace: no finding names a trace and worst=0 asks for no slowest request." if not asked else
            f"No example trace: the data ({plural(c['traces'], 'trace')}) holds no request with a recorded root "
            "span (fragments or asynchronous work only), so there is no slowest request to show.") + "</p>")
    for label, tid in data.worst:
        parts.append(f'<h3 id="trace-{_esc(tid)}">{_esc(label[:1].upper() + label[1:])}: <code class="id">{_esc(tid)}</code></h3>')
        trace_cp = data.critical_path[data.critical_path["trace_id"] == tid]
        mine = (data.spans["trace_id"] == tid).to_numpy(dtype=bool)
        n_spans = span_count(data.spans, mine)
        if n_spans > CANVAS_ABOVE:  # a big trace: the canvas renderer stays responsive where SVG bars do not
            from .plotting.gl import plot_waterfall_gl

            parts.append(plot_waterfall_gl(data.spans, tid, critical_path=trace_cp,
                                           title=f"trace {tid} · {plural(n_spans, 'span')} — critical path marked"))
        else:
            parts.append(fig(plotting.plot_waterfall(data.spans, tid, critical_path=trace_cp,
                                                     title=f"trace {tid[:16]}… — critical path marked")))
        tlogs = trace_logs(data.spans, tid)  # log records attached by tk.attach_logs (redacted with the spans)
        if len(tlogs):
            # more records than the table shows: its ERROR and FATAL records first, so they are among the rows shown
            first = len(tlogs) > _LOG_ROWS and tlogs.attrs.get("errors", 0) > 0
            if first:
                tlogs = trace_logs(data.spans, tid, errors_first=True)
            order = (f"its {tlogs.attrs['errors']:,} ERROR or FATAL records first, then the rest in time order; "
                     if first else "")
            parts.append(f"<p>Log records of this trace ({len(tlogs):,}; {_esc(order)}time from the trace start, ms):</p>")
            parts.append(_table(tlogs, table_id=f"logs-{tid}", name=f"logs-{tid}", max_rows=_LOG_ROWS))
    parts.append("</section>")

    parts.append('<section id="critical-path"><h2>Where the time goes (critical path)</h2>')
    if len(data.breakdown):
        from .analysis.critical_paths import CRITICAL_PATH_BREAKDOWN

        n_cp = data.breakdown.attrs.get("traces")
        parts.append(fig(plotting.plot_critical_path_breakdown(data.breakdown)))
        # the per-request columns count every request, 0 where the key is not on it: "payments p50 0.0 ms" (bad-host,
        # payments on 30 % of the requests) read as payments taking no time, without a word on the population
        parts.append('<p class="muted" id="breakdown-population">' + _esc(
            (f"Over the {plural(int(n_cp), 'request')} of the input whose critical path was walked"
             if n_cp is not None else "Over every request of the input")
            + (" (not only the incident window)" if data.story.window else "")
            + "; per request, a request the key is not on counts 0 ms."
            # a weighted sample: these are the kept requests, in the sampler's route mix (the key findings weight them)
            + (" The requests as sampled, not weighted by their sampling: the sampler's mix of routes, not the "
               "system's (the key findings' share of critical-path time is weighted)."
               if "estimate" in data.headline.columns
               and (data.headline["estimate"].astype(str) == "sampling-corrected").any() else "")) + "</p>")
        parts.append(_table(data.breakdown, table_id="breakdown-table", name="critical-path-breakdown"))
        parts.append('<dl class="muted" id="breakdown-definitions">' + "".join(
            f"<dt><code>{_esc(col.name)}</code></dt><dd>{_esc(col.meaning)}</dd>"
            for col in CRITICAL_PATH_BREAKDOWN.columns if col.name in data.breakdown.columns) + "</dl>")
    else:  # "critical-path time by service (0 traces)" over an empty plot and a table reading "none"
        parts.append('<p class="muted" id="breakdown-none">No critical path in these traces: it is walked down from '
                     "each trace's root span, and traces without a root, or whose root lasts 0 ms or has not ended, "
                     "have none.</p>")
    parts.append("</section>")

    parts.append('<section id="health"><h2>Trace health</h2>')
    health = data.health
    is_metric = health["check"].isin(_METRIC_CHECKS)
    findings = health.loc[~is_metric].copy()
    findings["example_trace_ids"] = findings["example_trace_ids"].map(lambda ids: list(ids)[:1] if ids is not None else [])
    # a finding's share said with its population, as a count over a count (health_report's: every trace read): the
    # columns read "3" and "7.5 %", of what unsaid
    findings.insert(findings.columns.get_loc("share"), "traces affected",
                    [_of_traces(a, s, int(data.counts.get("traces") or 0))
                     for a, s in zip(findings["traces_affected"], findings["share"], strict=True)])
    parts.append("<p>Can these traces be trusted? Findings, most severe first:</p>")
    parts.append(_table(findings, columns=_FINDING_VIEW, table_id="health-table", row_class="severity", name="health"))
    parts.append("<p>Measures of the whole set:</p>")
    # a measure's value is its own quantity (its sentence names its population); the traces-affected share of a
    # finding row would sit beside it as a second, contradicting number (0 % next to "100 % complete")
    parts.append(_table(_measures_view(health.loc[is_metric]), columns=["check", "subject", "value", "explanation"],
                        table_id="metrics-table", name="health-measures", full=health.loc[is_metric]))
    if len(data.skipped):
        parts.append(f"<p>{plural(len(data.skipped), 'record')} could not be read and were skipped:</p>")
        parts.append(_table(data.skipped, table_id="skipped-table", name="skipped"))
    parts.append("</section>")

    parts.append('<section id="headline"><h2>Headline numbers</h2>')
    parts.append(f'<p class="muted">{_esc(_headline_population(data))}</p>')
    parts.append(_table(_headline_view(data.headline), table_id="headline-table", name="headline"))
    if data.headline.attrs.get("status_unknown"):
        parts.append('<p class="sev-warning" id="headline-status">' + _esc(_status_note(data.headline)) + "</p>")
    parts.append('<dl class="muted" id="headline-definitions">' + "".join(
        f"<dt><code>{_esc(k)}</code></dt><dd>{_esc(v)}</dd>" for k, v in HEADLINE_DEFINITIONS.items()) + "</dl>")
    parts.append("</section>")

    parts.append('<section id="sampling"><h2>Sampling caveats</h2>')
    parts.append("".join(f"<p>{prose(t)}</p>" for t in data.caveats) or '<p class="muted">none</p>')
    parts.append("</section>")

    parts.append('<section id="inputs"><h2>What was analysed</h2>')
    files = pd.DataFrame([{"set": "incident", **vars(f)} for f in data.inputs]
                         + [{"set": "baseline", **vars(f)} for f in data.baseline_inputs]
                         + [{"set": kind, **vars(f)} for kind, f in data.signal_inputs])
    if len(files):
        parts.append(_table(files, columns=["set", "path", "bytes", "sha256"], table_id="inputs-table", name="inputs",
                            max_rows=20))
    else:
        # frames handed to tk.report: the table of files said "none" above the logs' and metrics' counts, which read as
        # "nothing was analysed"
        parts.append(f'<p id="inputs-frames">{_esc(_frames_words(data))}</p>')
    if data.not_read:
        parts.append(f'<p id="not-read">{plural(len(data.not_read), "file")} of the folders given '
                     f'{"was" if len(data.not_read) == 1 else "were"} not read:</p>')
        parts.append(_table(pd.DataFrame(list(data.not_read), columns=["set", "path", "reason"]),
                            table_id="not-read-table", name="not-read", max_rows=20))
    st_ = data.settings
    if "log_records" in st_:
        parts.append(f'<p id="logs-read">Logs: {plural(st_["log_records"], "record")}; {st_["log_records_on_incident_spans"]:,} '
                     f'on the analysed spans, {st_["log_records_on_baseline_spans"]:,} on the baseline given, '
                     f'{st_["log_records_on_no_span"]:,} on no span of either (their trace or span ids name no span '
                     "here: <code>tk.attach_logs(spans, logs).unmatched</code> lists them).</p>")
    if "metric_points" in st_:
        parts.append(f'<p id="metrics-read">Metrics: {plural(st_["metric_points"], "point")} in {plural(st_["metric_series"], "series", "series")}'
                     + ("; cumulative sums turned into rates (<code>tk.metric_rates</code>)" if st_["metric_sums_as_rates"]
                        else "") + ".</p>")
    if st_.get("redact") or st_.get("redact_paths"):
        parts.append(f'<p id="redaction">{_esc(_redaction_words(st_))}</p>')
    settings = pd.DataFrame([{"setting": k, "value": json.dumps(v, default=str) if isinstance(v, (dict, list)) else v}
                             for k, v in data.settings.items()])
    parts.append("<details><summary>settings</summary>" + _html_table(settings) + "</details>")
    parts.append("</section>")

    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_esc(data.title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style></head>'
            f"<body>\n{body}\n</body></html>\n")


def _when(t: Any) -> str:
    return "n/a" if t is None or pd.isna(t) else f"{pd.Timestamp(t):%Y-%m-%d %H:%M:%S}"


def _span_dates(c: dict) -> str:
    """From the first span's start to the last one's end, or why not: "n/a to n/a UTC" was said of an empty
    frame and of spans with no time recorded."""
    if not c.get("spans"):
        return "no time range"
    if c["start"] is None or pd.isna(c["start"]) or c["end"] is None or pd.isna(c["end"]):
        return "no span start or end recorded"
    return f"{_when(c['start'])} to {_when(c['end'])} UTC"


def _headline_population(data: ReportData) -> str:
    """Which traces the headline table counts (the page said it; the Markdown beside it, pasted into a postmortem,
    showed p95 264 ms under the key findings' 846 ms with no word on either set)."""
    c = data.counts
    said = f"Over every trace of the input ({_span_dates(c)}, {plural(c['traces'], 'trace')})"
    # the baseline is named only when the table has its row: without one the sentence said "and of the baseline
    # (none (no baseline given and no change over time found))" above a table of one row
    if (data.headline["estimate"] == "baseline, as sampled").any():
        said += f" and of the baseline ({data.story.baseline_source})"
    return said + (", not only the incident window." if data.story.window else ".")


def _map_title(data: ReportData) -> str:
    """The service map's title names the two sets its numbers count: with a baseline, the incident the story
    compares (the change window and its traces) against the baseline; else every trace of the input."""
    c = data.counts
    if data.graph_baseline is None:
        return f"service map: who calls whom (calls · p95, failed share)\nover {plural(c['traces'], 'trace')}"
    story = data.story
    n_inc = plural(c["incident_traces"], "trace")
    inc = f"the change window {_window_words(story.window)} ({n_inc})" if story.window else f"the incident ({n_inc})"
    return (f"service map: who calls whom (calls · p95)\nin {inc} against the baseline "
            f"({plural(c['baseline_traces'], 'trace')})")


def _window_words(window: Any) -> str:
    """The incident window (onset, recovery) as the postmortem says it."""
    from .analysis.changes import window_text

    onset, recovery = window
    if recovery is not None and not pd.isna(recovery):
        return window_text(onset, recovery)
    # its seconds kept when it has them, as the findings say it (Nezha OnlineBoutique 04:27: "from 04:27 UTC" in the
    # header beside "under way when spans were collected again at 04:27:15 UTC" and a baseline "04:19:19–04:27:15")
    t = pd.Timestamp(onset)
    t = t.tz_convert("UTC") if t.tzinfo is not None else t
    return f"from {t:%H:%M} UTC (ongoing)" if t == t.floor("1min") else f"from {t:%H:%M:%S} UTC (ongoing)"


_MD_SPECIAL = re.compile(r"([\\`*_~\[\]|#])|<(?=[A-Za-z/!?])|&(?=#?\w+;)")


def _md(x: Any) -> str:
    r"""Text for Markdown: the characters Markdown would act on backslash-escaped (``* _ ~ [ ] | # \```, a ``<``
    that would open an HTML tag, a ``&`` that would start an entity), so a renderer shows the text as it is;
    never HTML entities, which Markdown shows literally; a bidirectional control as its escape
    (:func:`core.words.bidi_visible`, as the page shows it). ``~`` too: GitHub's Markdown strikes ``~~payments~~``
    (and ``~payments~``) through, so a service of that name read as one crossed out.

    >>> _md("p < 0.001, <b>x</b> & *y*")
    'p < 0.001, \\<b>x\\</b> & \\*y\\*'
    >>> _md("~~payments~~")
    '\\~\\~payments\\~\\~'
    """
    s = "" if x is None else bidi_visible(x)
    s = _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), s)
    return s.replace("\r", " ").replace("\n", " ")


_BACKTICKS = re.compile(r"`+")


def _md_code(x: Any) -> str:
    r"""Text as a Markdown code span that holds it whole: fenced by one backtick more than its longest run of
    backticks, padded with a space where it starts or ends with one (CommonMark's rule), line breaks as spaces. A
    trace id is any text a frame holds (``spans_from_columns`` keeps ``"t1"``): in a one-backtick span a backtick
    in it closed the span, and ``[x](javascript:...)`` or ``<img onerror=...>`` after it rendered as a link and as
    HTML.

    >>> _md_code("5759e988bd862e3fe1be46a994272793"), _md_code("a`b"), _md_code("`x")
    ('`5759e988bd862e3fe1be46a994272793`', '``a`b``', '`` `x ``')
    """
    s = ("" if x is None else bidi_visible(x)).replace("\r", " ").replace("\n", " ")
    fence = "`" * (max((len(m) for m in _BACKTICKS.findall(s)), default=0) + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def output_kind(path: str | Path) -> str:
    """What a report file is, by its extension: ``"html"`` (``.html``/``.htm``) or ``"md"`` (``.md``/``.markdown``).

    Raises
    ------
    ArgumentError
        Any other extension (a ``.pdf`` would get HTML it cannot hold).

    >>> output_kind("out/r.MD"), output_kind("r.html")
    ('md', 'html')
    """
    suffix = Path(path).suffix.lower()
    if suffix in (".html", ".htm"):
        return "html"
    if suffix in (".md", ".markdown"):
        return "md"
    p = Path(path)
    if not suffix and p.exists() and not p.is_file() and not p.is_dir():
        return "html"  # a device or a pipe (/dev/stdout): the page
    raise ArgumentError(f"cannot write {path}: a report is .html (the page, with its key findings beside it as .md) or "
                        f".md (the key findings as Markdown), not {suffix or 'a file without extension'}")


def render_markdown(data: ReportData) -> str:
    """The key findings and headline numbers as Markdown, for pasting into a postmortem document.

    >>> import tracekit as tk
    >>> md = render_markdown(collect_report(tk.examples.load("checkout-small"), title="Checkout"))
    >>> md.splitlines()[0], "## Key findings" in md
    ('# Checkout', True)
    """
    story = data.story
    c = data.counts
    prose = _prose(data, html_out=False)
    out = [f"# {_md(data.title)}", "",
           f"{plural(c['traces'], 'trace')}, {plural(c['spans'], 'span')}, {plural(c['services'], 'service')}, "
           f"{_span_dates(c)}."
           + (f" Incident window {_md(_window_words(story.window))}: {c['incident_traces']:,} of these traces."
              if story.window and c.get("incident_traces") is not None else "")
           + f" Baseline: {_md(_baseline_words(data))}.", "", "## Key findings", ""]
    for topic, title in _TOPIC_TITLES.items():
        items = [f for f in story.findings if f.topic == topic]
        if not items:
            continue
        out.append(f"**{_topic_title(topic, items) if topic == 'baseline' else title}**")
        out.append("")
        for f in items:
            ex = f" (example trace: {_md_code(f.trace_ids[0])})" if f.trace_ids else ""
            out.append(f"- {_md(prose(f.text))}{ex}")
        out.append("")
    out += ["## Headline numbers", "", _md(_headline_population(data)), ""]
    h = _headline_view(data.headline)
    units = {col: _unit(col) for col in h.columns}
    out.append("| " + " | ".join(_md(col) for col in h.columns) + " |")
    out.append("|" + "---|" * len(h.columns))
    for rec in h.itertuples(index=False):
        out.append("| " + " | ".join(_md(html.unescape(_cell(v, units[col])[0].replace("<wbr>", "").replace("&nbsp;", " "))) for col, v in zip(h.columns, rec, strict=True)) + " |")
    if data.headline.attrs.get("status_unknown"):
        out += ["", f"_{_md(_status_note(data.headline))}_"]
    if data.settings.get("redact") or data.settings.get("redact_paths"):
        out += ["", f"_{_md(_redaction_words(data.settings))}_"]
    out += ["", f"_Generated {data.generated_at} by tracekit {data.version}._", ""]
    return "\n".join(out)


def _redaction_words(settings: dict[str, Any]) -> str:
    """What the report's redaction replaced, and what it did not (said where the report is shared from): the keys'
    values and the built-in patterns (``settings["redact"]``), the input paths (``settings["redact_paths"]``)."""
    keys, paths = settings.get("redact") or [], bool(settings.get("redact_paths"))
    hidden = ("the paths of its input files are hidden: each file is named file- and the first 12 hex digits of its "
              "sha256 (a file not read, or only named in a skipped record: path- and the sha256 of its path), so "
              "the folders and file names are not shown; the sizes and sha256 beside them still identify the files")
    if not keys:
        return f"Redacted: {hidden}. Nothing in the traces was redacted (no key pattern given)."
    return (f"Redacted before analysis: the values of attributes whose keys match {', '.join(map(repr, keys))} "
            "(keyed hashes, hmac:…), in spans, events, links, log records and metrics, and every built-in PII "
            "pattern (e-mail, card, phone, IP address, tokens…) in any text the data holds"
            + (f"; {hidden}" if paths else "") + ". Not replaced: such an attribute's "
            "value where it also appears inside a span name or status message and no built-in pattern finds it "
            "(an id in a URL path), nor the report's title"
            + (": check span names, messages and the title before sharing." if paths else
               " and the paths of its input files, shown as given (so it can be reproduced; redact_paths=True, "
               "--redact-paths on the command line, hides them): check span names, messages, the title and the "
               "paths before sharing."))


def _resolved(spans: Any, inputs: Sequence[str | Path] | None) -> tuple[pd.DataFrame, Sequence[str | Path] | None]:
    """A path (trace files or a spans store) read by tk.read and recorded as the input; a frame as it is."""
    if isinstance(spans, (str, Path)):
        from .io.sniff import read

        return read(spans), inputs if inputs is not None else [spans]
    return spans, inputs


def report(
    spans: pd.DataFrame | str | Path,
    path: str | Path,
    *,
    baseline: pd.DataFrame | str | Path | None = None,
    title: str | None = None,
    redact: str | Sequence[str] | None = None,
    worst: int = 3,
    inputs: Sequence[str | Path] | None = None,
    baseline_inputs: Sequence[str | Path] | None = None,
    compare_by: str = "operation",
    markdown: bool = True,
    logs: pd.DataFrame | str | Path | Sequence[str | Path] | None = None,
    metrics: pd.DataFrame | str | Path | Sequence[str | Path] | None = None,
    logs_inputs: Sequence[str | Path] | None = None,
    metrics_inputs: Sequence[str | Path] | None = None,
    redact_paths: bool = False,
) -> Path:
    """Analyse ``spans`` (and optionally a ``baseline``) and write a self-contained HTML report to ``path``.

    Parameters
    ----------
    spans : pandas.DataFrame, str or pathlib.Path
        The spans under investigation, or a path :func:`tracekit.read` reads (trace files or a
        spans store); a path is recorded as an input.
    path : str or pathlib.Path
        The file to write: ``.html`` (the page; with ``markdown``, the key findings beside it as ``.md``) or
        ``.md`` (the key findings as Markdown only).
    baseline : pandas.DataFrame, str or pathlib.Path, optional
        Spans of a reference period to compare against (or a path, as ``spans``).
    title : str, optional
        Report title (escaped).
    redact : str or sequence of str, optional
        Attribute key patterns to redact before anything is analysed (:func:`tracekit.redact`; one pattern or a
        list); with any given, every built-in PII pattern (e-mail, card, phone, IP, tokens…) is also replaced in
        every text: span, service and event names, status messages, skipped-record reasons.
    worst : int
        Slowest requests (by request latency) drawn as waterfalls.
    inputs, baseline_inputs : sequence of str or pathlib.Path, optional
        Files the spans came from, recorded with size and sha256.
    compare_by : {"service", "operation", "call_path", "host", "version"}
        What the "what changed" table groups by.
    markdown : bool
        Also write the key findings as Markdown beside the page (``path`` with suffix ``.md``).
    logs : pandas.DataFrame, path or list of paths, optional
        A logs frame, or files :func:`tracekit.read_logs` reads (recorded as inputs), covering the incident and
        the baseline: records on their spans in the example traces, log evidence in the ranking
        (:func:`collect_report`).
    metrics : pandas.DataFrame, path or list of paths, optional
        A metrics frame, or files :func:`tracekit.read_metrics` reads: metric evidence in the ranking and the
        top-ranked services' metrics drawn under their requests.
    logs_inputs, metrics_inputs : sequence of str or pathlib.Path, optional
        Files the logs / metrics frames came from, recorded with size and sha256.
    redact_paths : bool, default False
        Hide the paths of the input files (their folders and names can carry customer names): each is shown as
        ``file-`` and the first 12 hex digits of its sha256, with its size and hash (:func:`collect_report`).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ArgumentError
        ``worst`` is not a whole number >= 0, ``redact`` holds something other than texts, ``redact_paths`` is
        not a bool, or ``path`` is neither ``.html`` nor ``.md``.

    Examples
    --------
    >>> import tracekit as tk, tempfile, pathlib
    >>> out = tk.report(tk.examples.load("checkout-small"), pathlib.Path(tempfile.mkdtemp()) / "r.html")
    >>> out.read_text().startswith("<!DOCTYPE html>")
    True
    """
    spans, inputs = _resolved(spans, inputs)
    if baseline is not None:
        baseline, baseline_inputs = _resolved(baseline, baseline_inputs)
    output_kind(path)  # .html or .md, else a clear error before any work
    if logs is not None and not isinstance(logs, pd.DataFrame):
        from .io.logs import read_logs

        paths = [logs] if isinstance(logs, (str, Path)) else list(logs)
        logs, logs_inputs = read_logs(paths), logs_inputs if logs_inputs is not None else paths
    if metrics is not None and not isinstance(metrics, pd.DataFrame):
        from .io.metrics import read_metrics

        paths = [metrics] if isinstance(metrics, (str, Path)) else list(metrics)
        metrics, metrics_inputs = read_metrics(paths), metrics_inputs if metrics_inputs is not None else paths
    data = collect_report(spans, baseline=baseline, title=title, redact=redact, worst=worst,
                          inputs=inputs, baseline_inputs=baseline_inputs, compare_by=compare_by, logs=logs,
                          metrics=metrics, logs_inputs=logs_inputs, metrics_inputs=metrics_inputs,
                          redact_paths=redact_paths)
    return write_report(data, path, markdown=markdown)


def write_report(data: ReportData, path: str | Path, *, markdown: bool = True) -> Path:
    """Write the report of ``data`` (:func:`collect_report`) to ``path``: ``.html`` (the page and, with ``markdown``,
    the key findings beside it as ``.md``) or ``.md`` (the key findings alone), each whole or not at all
    (:func:`tracekit.core.files.replaced`): a browser never opens half a report.

    Parameters
    ----------
    data : ReportData
        What :func:`collect_report` returned.
    path : str or pathlib.Path
        The file to write (``.html`` or ``.md``).
    markdown : bool
        With an ``.html`` path, also write the key findings as Markdown beside it.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ArgumentError
        ``path`` is neither ``.html`` nor ``.md``.

    Examples
    --------
    >>> import tracekit as tk, tempfile, pathlib
    >>> data = collect_report(tk.examples.load("checkout-small"))
    >>> out = write_report(data, pathlib.Path(tempfile.mkdtemp()) / "r.html")
    >>> out.read_text().startswith("<!DOCTYPE html>"), out.with_suffix(".md").exists()
    (True, True)
    """
    out = Path(path)
    kind = output_kind(out)
    pages = [(out, render_markdown(data))] if kind == "md" else [(out, render_report(data))]
    if kind != "md" and markdown:
        pages.append((out.with_suffix(".md"), render_markdown(data)))
    for p, text in pages:
        with replaced(p) as f:
            f.write(text.encode("utf-8"))
    return out


def build_report_from_files(
    inputs: Sequence[str],
    output: str | Path,
    *,
    baseline: Sequence[str] | None = None,
    title: str | None = None,
    redact: str | Sequence[str] | None = None,
    worst: int = 3,
    errors: str = "raise",
    progress: bool = True,
    compare_by: str = "operation",
    logs: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    redact_paths: bool = False,
) -> Path:
    """Load files, analyse and write the report, as ``tracekit report`` does but without its words: the command
    (:mod:`tracekit.cli`, which does not call this) also checks its output and every path before reading, and says on
    stderr the files it did not read, the records it skipped and what the report says first of the baseline
    (:func:`baseline_warnings`); here those are in the report only.

    Parameters
    ----------
    inputs : sequence of str
        Incident trace files or directories (either format).
    output : str or pathlib.Path
        The HTML file to write.
    baseline : sequence of str, optional
        Baseline trace files or directories.
    title, redact, worst, redact_paths
        As in :func:`report`.
    errors : {"raise", "skip"}
        Bad records stop the run (``"raise"``) or are skipped and listed in the report
        (``"skip"``; the command line's ``--errors skip`` / ``--lenient``), as ``errors=`` of :func:`tracekit.read`.
    progress : bool
        Print progress lines on stderr.
    logs, metrics : sequence of str, optional
        Log files (:func:`tracekit.read_logs`) and metric files (:func:`tracekit.read_metrics`) of the
        same periods, read with the same ``errors``.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ArgumentError
        ``errors`` is neither ``"raise"`` nor ``"skip"``.
    FileNotFoundError
        An input does not exist.
    TraceKitError
        No spans were found.

    Examples
    --------
    >>> import tracekit as tk, tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "r.html"
    >>> build_report_from_files([str(tk.examples.path("checkout-small"))], out, progress=False) == out
    True
    """
    from .io.sniff import read

    def say(msg: str) -> None:
        if progress:
            print(msg, file=sys.stderr, flush=True)

    if errors not in ("raise", "skip"):
        raise ArgumentError(f"build_report_from_files: errors must be 'raise' or 'skip', got {errors!r}")
    for p in [*inputs, *(baseline or []), *(logs or []), *(metrics or [])]:
        if not Path(p).exists():
            raise FileNotFoundError(f"no such file or directory: {p}")
    say(f"reading {', '.join(map(str, inputs))} ...")
    spans = read(list(inputs), errors=errors)
    if len(spans) == 0:
        raise TraceKitError(f"no spans found in {', '.join(map(str, inputs))}")
    base = None
    if baseline:
        say(f"reading baseline {', '.join(map(str, baseline))} ...")
        base = read(list(baseline), errors=errors)
    log_frame = metric_frame = None
    if logs:
        from .io.logs import read_logs

        say(f"reading logs {', '.join(map(str, logs))} ...")
        log_frame = read_logs(list(logs), errors=errors)
    if metrics:
        from .io.metrics import read_metrics

        say(f"reading metrics {', '.join(map(str, metrics))} ...")
        metric_frame = read_metrics(list(metrics), errors=errors)
    say(f"analysing {plural(len(spans), 'span')} ...")
    output_kind(output)  # .html or .md, else a clear error before any work
    data = collect_report(spans, baseline=base, title=title, redact=redact, worst=worst, inputs=inputs,
                          baseline_inputs=baseline, compare_by=compare_by, logs=log_frame, metrics=metric_frame,
                          logs_inputs=logs, metrics_inputs=metrics, redact_paths=redact_paths)
    return write_report(data, output)
