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

import datetime as _dt
import hashlib
import html
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .core import QUANTILES, percentile, result_table, trace_outcomes
from .errors import ArgumentError, TraceKitError

__all__ = ["HEADLINE_DEFINITIONS", "HEADLINE_TABLE", "ReportData", "collect_report", "render_report", "report", "build_report_from_files", "file_inputs"]


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
    from .io._sources import list_files

    out: list[InputFile] = []
    for p in paths or ():
        p = Path(p)
        files = list_files(p) if p.is_dir() else [p]
        out.extend(_hash_file(f) for f in files)
    return tuple(out)


def _skipped_frame(spans: pd.DataFrame) -> pd.DataFrame:
    rows = [{"file": s.file, "record": s.record, "reason": s.reason} for s in spans.attrs.get("skipped", ())]
    return pd.DataFrame(rows, columns=["file", "record", "reason"])


#: the report's headline table, declared as data (:func:`tracekit.core.result_table`); each meaning is shown under it
HEADLINE_TABLE = result_table("report_headline", "one row per estimate (as sampled, baseline, sampling-corrected)", [
    ("estimate", "string", "", "which set and estimator the row is: as sampled, baseline as sampled, sampling-corrected"),
    ("traces", "int64", "traces", "traces in the set (a trace with a request root is one request)"),
    ("failed_share", "float64", "share", "failed: share of requests whose root span failed (5xx fault, or status error "
                                         "that is not a 4xx client error or a throttle)"),
    ("request_p50_ms", "float64", "ms", "request latency: the request root span's duration (what the caller waited "
                                        "for), p50, inverted_cdf (an observed value)"),
    ("request_p95_ms", "float64", "ms", "request latency, p95 (as request_p50_ms)"),
    ("request_p99_ms", "float64", "ms", "request latency, p99 (as request_p50_ms)"),
    ("extent_p95_ms", "float64", "ms", "trace extent: first span start to last span end, asynchronous work after the "
                                       "response included, p95 (as sampled only)"),
])
#: what each headline number means, by column
HEADLINE_DEFINITIONS = {c.name: c.meaning for c in HEADLINE_TABLE.columns if c.name != "estimate"}


def _headline(spans: pd.DataFrame, outcomes: pd.DataFrame, baseline_outcomes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Requests, failed share and request latency percentiles; sampling-corrected where weights are known.

    ``outcomes`` is :func:`tracekit.core.trace_outcomes` of ``spans`` (``trace_summary`` has the same columns).
    """
    from .analysis.sampling import sampling_weights, weighted_summary

    rows = [_plain_row("as sampled", outcomes)]
    if baseline_outcomes is not None:
        rows.append(_plain_row("baseline, as sampled", baseline_outcomes))
    try:
        w = sampling_weights(spans)
    except TraceKitError:
        w = None
    if w is not None and "weight" in w and w["weight"].notna().any():
        r = weighted_summary(spans, w).iloc[0].to_dict()
        failed_key = next((k for k in ("failed_share", "failed", "root_failed_rate", "error_rate") if k in r), None)
        rows.append({"estimate": "sampling-corrected", "traces": r.get("n_traces", len(outcomes)),
                     "failed_share": r.get(failed_key, np.nan) if failed_key else np.nan,
                     **{f"request_p{round(q * 100)}_ms": r.get(f"request_p{round(q * 100)}_ms", r.get(f"p{round(q * 100)}_ms"))
                        for q in QUANTILES},
                     "extent_p95_ms": np.nan})
    return pd.DataFrame(rows, columns=HEADLINE_TABLE.column_names).astype({c.name: c.dtype for c in HEADLINE_TABLE.columns})


def _plain_row(label: str, outcomes: pd.DataFrame) -> dict[str, Any]:
    req = percentile(outcomes["request_ms"].to_numpy(dtype=np.float64), QUANTILES)
    return {
        "estimate": label,
        "traces": len(outcomes),
        "failed_share": float(outcomes["failed"].mean()) if len(outcomes) else np.nan,
        **{f"request_p{round(q * 100)}_ms": float(v) for q, v in zip(QUANTILES, req, strict=True)},
        "extent_p95_ms": float(percentile(outcomes["extent_ms"].to_numpy(dtype=np.float64), 0.95)),
    }


def _worst(outcomes: pd.DataFrame, worst: int) -> tuple[tuple[str, str], ...]:
    """The slowest requests by request latency (not trace extent: an async tail does not make a request slow),
    then the slowest failed request when it is not among them; each label names both numbers."""
    order = outcomes.sort_values("request_ms", ascending=False, na_position="last", kind="stable")
    order = order[order["request_ms"].notna()]

    def label(head: str, r) -> str:
        return f"{head} (request {r.request_ms:,.1f} ms, trace extent {r.extent_ms:,.1f} ms)"

    out = [(label(f"slowest request #{i + 1}", r), r.trace_id) for i, r in
           enumerate(order.head(worst).itertuples(index=False))]
    failing = order[order["failed"].astype(bool)]
    if len(failing) and failing["trace_id"].iloc[0] not in {t for _, t in out}:
        r = next(failing.head(1).itertuples(index=False))
        out.append((label("slowest failed request", r), r.trace_id))
    return tuple(out)


def collect_report(
    spans: pd.DataFrame,
    *,
    baseline: pd.DataFrame | None = None,
    title: str | None = None,
    redact: Sequence[str] | None = None,
    worst: int = 3,
    inputs: Sequence[str | Path] | None = None,
    baseline_inputs: Sequence[str | Path] | None = None,
) -> ReportData:
    """Run the analyses a postmortem report shows and return them as a :class:`ReportData`.

    >>> import tracekit as tk
    >>> data = collect_report(tk.examples.load("checkout-small"))
    >>> data.counts["traces"], data.comparison is None
    (40, True)
    """
    from . import __version__
    from .analysis.comparison import compare
    from .analysis.critical_paths import critical_path, critical_path_breakdown
    from .analysis.graph import service_graph
    from .analysis.health import health_report
    from .analysis.pii import redact as _redact
    if not isinstance(worst, (int, np.integer)) or isinstance(worst, bool) or worst < 0:
        raise ArgumentError(f"collect_report: worst must be a whole number >= 0, got {worst!r}")
    if redact:
        spans = _redact(spans, keys=list(redact))
        if baseline is not None:
            baseline = _redact(baseline, keys=list(redact))
    summary = trace_outcomes(spans)
    cp = critical_path(spans)
    breakdown = critical_path_breakdown(cp, by="service")
    comparison = structural = None
    cmp_params: dict[str, Any] = {}
    baseline_summary = trace_outcomes(baseline) if baseline is not None else None
    if baseline is not None:
        cmp = compare(spans, baseline, by="service")
        cmp_params = dict(getattr(cmp, "params", None) or cmp.table.attrs.get("params", {"by": "service"}))
        comparison = cmp.table
        structural = cmp.structure
    lat = spans[spans["kind"].isin(["server", "consumer"])][["service", "duration_ms"]].dropna()
    caveats = []
    ts = spans["trace_state"].dropna()
    if not ts.str.contains("th:").any():
        caveats.append("No sampling probabilities in the data (no OTel th: thresholds, no X-Ray sampling statistics "
                       "given): the numbers above describe the sampled traces, not necessarily all requests.")
    health = health_report(spans)
    return ReportData(
        title=title or "Trace postmortem report",
        generated_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        version=__version__,
        settings={"redact": list(redact or []), "worst": worst,
                  # the settings the analyses report they used (attrs["params"]), not a description of them
                  "critical_path": dict(cp.attrs.get("params", {})),
                  "critical_path_breakdown": dict(breakdown.attrs.get("params", {"by": "service"})),
                  "compare": dict(cmp_params), "python": sys.version.split()[0], "pandas": pd.__version__},
        inputs=file_inputs(inputs),
        baseline_inputs=file_inputs(baseline_inputs),
        counts={"traces": len(summary), "spans": len(spans), "services": int(spans["service"].nunique()),
                "start": str(spans["start"].min()), "end": str(spans["end"].max()),
                "baseline_traces": None if baseline is None else int(baseline["trace_id"].nunique())},
        headline=_headline(spans, summary, baseline_summary),
        health=health,
        skipped=_skipped_frame(spans),
        breakdown=breakdown,
        comparison=comparison,
        structural=structural,
        graph=service_graph(spans),
        worst=_worst(summary, worst),
        spans=spans,
        critical_path=cp,
        latency_by_service=lat,
        caveats=tuple(caveats),
        key_findings=_key_findings(summary, breakdown, comparison, health),
    )


def _key_findings(summary: pd.DataFrame, breakdown: pd.DataFrame, comparison: pd.DataFrame | None,
                  health: pd.DataFrame) -> tuple[str, ...]:
    """Plain-language sentences read off finished results (no new computation)."""
    out = []
    if len(breakdown):
        top = breakdown.iloc[0]
        out.append(f"{top.iloc[0]} holds the largest share of critical-path time: {top['share']:.0%} "
                   f"({top['cp_ms']:,.0f} ms over {int(top['traces'])} traces).")
    if comparison is not None and len(comparison):
        c = comparison.iloc[0]
        key = c.iloc[0]
        lo, hi = c.get("delta_cp_ms_lo"), c.get("delta_cp_ms_hi")
        sig = "" if lo is None or pd.isna(lo) or (lo <= 0 <= hi) else " (its 95% interval excludes zero)"
        out.append(f"Biggest change against the baseline: {key}, {c['delta_cp_ms']:+,.1f} ms critical path per trace "
                   f"[{lo:+,.1f}, {hi:+,.1f}]{sig}.")
    bad = health[health["severity"].isin(["error", "warning"])]
    for _, r in bad.head(3).iterrows():
        out.append(f"Health {r['severity']}: {r['check']} {r['subject'] or ''} in {int(r['traces_affected'])} traces "
                   f"({r['share']:.0%}).".replace("  ", " "))
    if not len(bad):
        out.append("No health warnings: traces look whole and consistent.")
    return tuple(out)


# ----------------------------------------------------------------------------------------------- rendering

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;color:#222}
h1{margin-bottom:.2rem} h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0} th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top;max-width:36rem;overflow-wrap:anywhere}
th{background:#f4f4f4} .muted{color:#666;font-size:.85rem} .sev-high,.sev-error{background:#fde2e1} .sev-warning,.sev-medium{background:#fff4d6} .sev-info{color:#444}
code{font-size:.85rem}
"""


def _esc(x: Any) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def _table(df: pd.DataFrame | None, *, max_rows: int = 50, table_id: str | None = None,
           row_class: str | None = None) -> str:
    if df is None or len(df) == 0:
        return '<p class="muted">none</p>'
    shown = df.head(max_rows).copy()
    classes = shown[row_class].astype(str).tolist() if row_class and row_class in shown else None
    for c in shown.columns:
        if shown[c].dtype == object:
            shown[c] = shown[c].map(lambda v: json.dumps(v, default=str) if isinstance(v, (list, dict, tuple)) else v)
    body = shown.to_html(index=False, escape=True, na_rep="", float_format=lambda v: f"{v:,.3f}", border=0,
                         table_id=table_id)
    if classes:  # tag each body row with its class, e.g. sev-warning (the header row has attributes, body rows not)
        head, *rows = body.split("<tr>")
        body = head + "".join(f'<tr class="sev-{_slug(c)}">' + r for c, r in zip(classes, rows, strict=True))
    more = f'<p class="muted">{len(df) - max_rows} more rows not shown</p>' if len(df) > max_rows else ""
    return body + more


def _slug(x: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in x.lower())


_METRIC_CHECKS = ("trace_completeness", "failed_request_ratio", "span_error_rate", "p95_request_latency_ms", "top_call_path")
_FINDING_VIEW = ["check", "severity", "subject", "traces_affected", "spans_affected", "share", "example_trace_ids",
                 "explanation", "what_to_do"]


def _figure_html(fig, first: bool) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=bool(first), config={"displaylogo": False})


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

    parts = [f"<h1>{_esc(data.title)}</h1>",
             f'<p class="muted">generated {_esc(data.generated_at)} by tracekit {_esc(data.version)}</p>']

    parts.append('<section id="key-findings"><h2>Key findings</h2><ul>')
    parts.extend(f"<li>{_esc(t)}</li>" for t in data.key_findings)
    parts.append("</ul></section>")

    parts.append('<section id="inputs"><h2>What was analysed</h2>')
    c = data.counts
    parts.append(f"<p>{_esc(c['traces'])} traces, {_esc(c['spans'])} spans, {_esc(c['services'])} services, "
                 f"from {_esc(c['start'])} to {_esc(c['end'])}"
                 + (f"; baseline: {_esc(c['baseline_traces'])} traces" if c.get("baseline_traces") is not None else "")
                 + ".</p>")
    files = pd.DataFrame([{"set": "incident", **vars(f)} for f in data.inputs]
                         + [{"set": "baseline", **vars(f)} for f in data.baseline_inputs])
    parts.append(_table(files, table_id="inputs-table"))
    parts.append("<p>Settings:</p>" + _table(pd.DataFrame([{"setting": k, "value": v} for k, v in data.settings.items()])))
    parts.append("</section>")

    parts.append('<section id="headline"><h2>Headline numbers</h2>')
    parts.append(_table(data.headline, table_id="headline-table"))
    parts.append('<dl class="muted" id="headline-definitions">' + "".join(
        f"<dt><code>{_esc(k)}</code></dt><dd>{_esc(v)}</dd>" for k, v in HEADLINE_DEFINITIONS.items()) + "</dl>")
    parts.append("</section>")

    parts.append('<section id="health"><h2>Trace health</h2>')
    health = data.health
    is_metric = health["check"].isin(_METRIC_CHECKS)
    findings = health.loc[~is_metric, _FINDING_VIEW].copy()
    findings["example_trace_ids"] = findings["example_trace_ids"].map(lambda ids: list(ids)[:1] if ids is not None else [])
    parts.append("<p>Can these traces be trusted? Findings, most severe first:</p>")
    parts.append(_table(findings, table_id="health-table", row_class="severity"))
    parts.append("<p>Measures of the whole set:</p>")
    parts.append(_table(health.loc[is_metric, ["check", "subject", "value", "share", "explanation"]], table_id="metrics-table"))
    if len(data.skipped):
        parts.append(f"<p>{len(data.skipped)} records could not be read and were skipped:</p>")
        parts.append(_table(data.skipped, table_id="skipped-table"))
    parts.append("</section>")

    parts.append('<section id="service-map"><h2>Service map</h2>')
    parts.append(fig(plotting.plot_service_graph(data.graph)))
    parts.append("</section>")

    parts.append('<section id="critical-path"><h2>Where the time goes (critical path)</h2>')
    parts.append(fig(plotting.plot_critical_path_breakdown(data.breakdown)))
    parts.append(_table(data.breakdown, table_id="breakdown-table"))
    parts.append(fig(plotting.plot_latency(data.spans, by="service", title="span duration by service (each span's own "
                                                                     "duration, not request latency)")))
    parts.append("</section>")

    if data.comparison is not None:
        parts.append('<section id="what-changed"><h2>What changed against the baseline</h2>')
        parts.append(fig(plotting.plot_compare(data.comparison)))
        parts.append(_table(data.comparison, table_id="compare-table"))
        if data.structural is not None:
            parts.append("<p>Call paths present in one set only:</p>" + _table(data.structural, table_id="structural-table"))
        parts.append("</section>")

    parts.append('<section id="worst-traces"><h2>Worst traces</h2>')
    for label, tid in data.worst:
        parts.append(f"<h3>{_esc(label)}: <code>{_esc(tid)}</code></h3>")
        trace_cp = data.critical_path[data.critical_path["trace_id"] == tid]
        parts.append(fig(plotting.plot_waterfall(data.spans, tid, critical_path=trace_cp)))
    parts.append("</section>")

    parts.append('<section id="sampling"><h2>Sampling caveats</h2>')
    parts.append("".join(f"<p>{_esc(t)}</p>" for t in data.caveats) or '<p class="muted">none</p>')
    parts.append("</section>")

    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_esc(data.title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style></head>'
            f"<body>\n{body}\n</body></html>\n")


def report(
    spans: pd.DataFrame,
    path: str | Path,
    *,
    baseline: pd.DataFrame | None = None,
    title: str | None = None,
    redact: Sequence[str] | None = None,
    worst: int = 3,
    inputs: Sequence[str | Path] | None = None,
    baseline_inputs: Sequence[str | Path] | None = None,
) -> Path:
    """Analyse ``spans`` (and optionally a ``baseline``) and write a self-contained HTML report to ``path``.

    Parameters
    ----------
    spans : pandas.DataFrame
        The spans under investigation.
    path : str or pathlib.Path
        The HTML file to write.
    baseline : pandas.DataFrame, optional
        Spans of a reference period to compare against.
    title : str, optional
        Report title (escaped).
    redact : sequence of str, optional
        Attribute key patterns to redact before anything is analysed (:func:`tracekit.redact`).
    worst : int
        Slowest requests (by request latency) drawn as waterfalls.
    inputs, baseline_inputs : sequence of str or pathlib.Path, optional
        Files the spans came from, recorded with size and sha256.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ArgumentError
        ``worst`` is not a whole number >= 0.

    Examples
    --------
    >>> import tracekit as tk, tempfile, pathlib
    >>> out = tk.report(tk.examples.load("checkout-small"), pathlib.Path(tempfile.mkdtemp()) / "r.html")
    >>> out.read_text().startswith("<!DOCTYPE html>")
    True
    """
    data = collect_report(spans, baseline=baseline, title=title, redact=redact, worst=worst,
                          inputs=inputs, baseline_inputs=baseline_inputs)
    out = Path(path)
    out.write_text(render_report(data), encoding="utf-8")
    return out


def build_report_from_files(
    inputs: Sequence[str],
    output: str | Path,
    *,
    baseline: Sequence[str] | None = None,
    title: str | None = None,
    redact: Sequence[str] | None = None,
    worst: int = 3,
    errors: str = "raise",
    progress: bool = True,
) -> Path:
    """Load files, analyse and write the report: what ``tracekit report`` runs.

    Parameters
    ----------
    inputs : sequence of str
        Incident trace files or directories (either format).
    output : str or pathlib.Path
        The HTML file to write.
    baseline : sequence of str, optional
        Baseline trace files or directories.
    title, redact, worst
        As in :func:`report`.
    errors : {"raise", "skip"}
        Bad records stop the run (``"raise"``) or are skipped and listed in the report
        (``"skip"``; the command line's ``--errors skip`` / ``--lenient``), as ``errors=`` of :func:`tracekit.read`.
    progress : bool
        Print progress lines on stderr.

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
    for p in [*inputs, *(baseline or [])]:
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
    say(f"analysing {len(spans)} spans ...")
    out = report(spans, output, baseline=base, title=title, redact=redact, worst=worst,
                 inputs=inputs, baseline_inputs=baseline)
    return out
