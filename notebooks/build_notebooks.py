"""Build the tracekit notebooks: the single source of truth for notebooks/*.ipynb.

    python notebooks/build_notebooks.py notebooks            # write, execute, store the outputs a reader needs
    python notebooks/build_notebooks.py notebooks 01 03      # only some of them

Each notebook is written from the cells below, executed top to bottom in a kernel (cwd: notebooks/), and saved
with its text and table outputs (the printed conclusions, the tables) so it reads on GitHub. Outputs that are
heavy or that a static page cannot show are not stored: plotly figures (their JSON and the 3.5 MB plotly.js) and
ipywidgets (widget state, blank outside a live kernel). `pytest --nbval-lax` runs every cell again anyway.
tests/test_notebooks.py checks that the committed notebooks are the ones this file builds.
"""
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

#: output mimetypes never stored in a committed notebook (figures and widgets: heavy, blank when static)
DROP_MIMETYPES = ("application/vnd.plotly.v1+json", "application/vnd.jupyter.widget-view+json")


def nb(cells):
    n = new_notebook()
    n.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    n.metadata["language_info"] = {"name": "python"}
    for kind, src in cells:
        n.cells.append(new_markdown_cell(src) if kind == "md" else new_code_cell(src))
    return n


postmortem = nb([
("md", """# Postmortem: what happened, when, to how many, where, and how sure are we?

A template for an incident postmortem: copy it, point the first cell at your traces (X-Ray `batch-get-traces` output
or OTLP JSON / JSON lines, files or folders, `.gz` welcome) and, if you have one, a baseline of the same traffic on a
normal day; then run all cells. Every conclusion is a sentence computed from the data (`say(...)`), collected in the
summary at the end for the postmortem document.

As shipped it reads the bundled `datasets/checkout-incident` (1,200 requests of a shop, one hour, X-Ray format)
and `datasets/checkout-baseline` (the same shop and hour with no incident). With `BASELINE = None` the normal
period before the detected change is the baseline."""),
("code", """import pandas as pd
import plotly.io as pio
from IPython.display import Markdown

import tracekit as tk

pio.renderers.default = "plotly_mimetype+notebook"  # live in JupyterLab, and kept by `jupyter nbconvert --to html`

# --- point these at your data -------------------------------------------------------------------------
INCIDENT = "../datasets/checkout-incident"   # a file, a folder, or a list of them
BASELINE = "../datasets/checkout-baseline"   # normal traffic (bundled: the same hour without the incident); None: the period before the change
BY = "service"                               # where to look for the change: service, route, operation, ...
REDACT = ["user.email", "http.request.header.*"]  # attribute keys kept out of the report
REPORT = "postmortem-report.html"
# -------------------------------------------------------------------------------------------------------

findings = []  # the postmortem's sentences, in order


def say(sentence: str) -> None:
    \"\"\"Print a conclusion and keep it for the summary.\"\"\"
    findings.append(sentence)
    print(sentence)


def fmt(metric: str, value: float, sign: bool = False) -> str:
    \"\"\"A metric's value as a reader says it: 12.3 %, 1,234 ms, 56.\"\"\"
    s = "+" if sign else ""
    if metric == "error_rate":
        return f"{value:{s}.1%}"
    return f"{value:{s},.0f} ms" if metric.endswith("_ms") else f"{value:{s},.0f}"


def requests_of(s: pd.DataFrame) -> pd.DataFrame:
    \"\"\"One row per request (the rows of tk.trace_summary whose `request` is true: not asynchronous work, an orphan
    fragment or the callee's half of a request whose trace context was dropped) with its route: the root span's
    http.route, URL path or name.\"\"\"
    req = tk.trace_summary(s)
    req = req[req["request"].to_numpy(dtype=bool)].reset_index(drop=True)
    route = s.assign(route=tk.core.routes(s)).set_index(["trace_id", "span_id"])["route"]
    return req.assign(route=route.reindex(pd.MultiIndex.from_arrays([req["trace_id"], req["root_span_id"]])).to_numpy())"""),
("md", "## 1. Load"),
("code", """spans = tk.read(INCIDENT)
baseline = tk.read(BASELINE) if BASELINE else None
requests = requests_of(spans)  # one row per request: route, request_ms (its root span), failed, ...
n_traces = spans["trace_id"].nunique()
# traces that are no request of their own (async work, orphan fragments, a dropped context's callee half) said apart
not_requests = (f"{n_traces:,} traces, {n_traces - len(requests):,} of them not a request of their own; "
                if n_traces > len(requests) else "")
say(f"Data: {len(requests):,} requests ({not_requests}{len(spans):,} spans, {spans['service'].nunique()} services) "
    f"from {requests['start'].min():%Y-%m-%d %H:%M} to {requests['start'].max():%H:%M} UTC"
    + (f"; baseline: {len(requests_of(baseline)):,} requests." if baseline is not None else "; no baseline."))"""),
("md", """## 2. Can we trust these traces?

Before any number goes into the postmortem: orphans, broken context, clock skew, partial traces."""),
("code", """health = tk.health_report(spans)
problems = health[health["severity"] != "info"]
skew = tk.detect_clock_skew(spans)
skewed = skew[skew["skewed"].astype(bool)] if len(skew) else skew
if problems.empty and skewed.empty:
    say(f"Trust: no health check warns ({len(health)} checks run) and no host's clock is skewed "
        f"({len(skew)} hosts checked): the traces can be taken as they are.")
else:
    for r in problems.itertuples():
        say(f"Trust ({r.severity}): {r.check} on {r.subject or 'all traces'}: {r.traces_affected:,} traces "
            f"({r.share:.1%}). {r.what_to_do}")
    for r in skewed.itertuples():
        say(f"Trust (clock): {r.service} on {r.host} is {r.estimate_ms:+,.0f} ms off (spread {r.spread_ms:,.0f} ms, "
            f"{r.n_pairs} call pairs): tk.adjust_clock_skew before reading durations across hosts.")
pct = "{:.1%}".format
health[["check", "severity", "subject", "traces_affected", "share"]].head(10).assign(share=lambda d: d["share"].map(pct))"""),
("md", """## 3. When did it start and stop, and what did requests feel?

`detect_changes` finds, per service (or route, operation…), the window where p95 latency, error rate or traffic
differs most from the rest, with a permutation p-value; `split_by_change` cuts the requests at that window."""),
("code", """changes = tk.detect_changes(spans, by=BY)
if changes.empty:
    if baseline is None:
        raise RuntimeError("no change detected and no BASELINE: set BASELINE to compare with a normal period")
    split = None
    say(f"When: no change by {BY} inside the data (alpha 0.01): the whole window is compared with the baseline.")
else:
    split = tk.split_by_change(spans, changes)  # the most significant change's window
    until = f"to {split.recovery:%H:%M} UTC" if pd.notna(split.recovery) else "and still going at the end of the data"
    say(f"When: from {split.onset:%H:%M} {until}; {len(requests_of(split.incident)):,} requests started in the window.")
    for r in changes.head(6).itertuples():
        deploy = f"; {r.deployment} first seen at the onset" if pd.notna(r.deployment) else ""
        # each change has its own window; `before` is over the key's requests outside it (before and after), not
        # the baseline's: said, as the next cells set the baseline's same minutes beside the window
        sides = (f"its requests outside {r.onset:%H:%M}–{r.recovery:%H:%M} UTC → inside" if pd.notna(r.recovery)
                 else f"its requests before {r.onset:%H:%M} UTC → from then on")
        say(f"  {getattr(r, BY)} {r.metric.replace('_ms', '')}, {sides}: {fmt(r.metric, r.before)} → "
            f"{fmt(r.metric, r.during)} ({fmt(r.metric, r.delta, True)}, 95 % interval {fmt(r.metric, r.delta_lo, True)} "
            f"to {fmt(r.metric, r.delta_hi, True)}), {r.requests_affected:,.0f} requests inside, "
            f"{tk.core.p_value_text(r.p_value, changes.attrs['params'])}{deploy}.")
# p_value to two significant digits, as the sentences say it (rounded to 3 decimals, 0.0025 read 0.002)
changes[[BY, "metric", "before", "during", "delta", "delta_lo", "delta_hi", "requests_affected", "p_value"]].round(
    {"before": 3, "during": 3, "delta": 3, "delta_lo": 3, "delta_hi": 3}).assign(p_value=lambda d: d["p_value"].map("{:.1e}".format))"""),
("code", """tk.plot_timeline(spans, by=BY, changes=changes)"""),
("code", """tk.plot_heatmap(spans, title="Every request: start time × request latency")"""),
("md", """Like with like: the requests of the window against the same minutes of the baseline (same time of day, same
mix of routes), or, with no baseline, against the requests before the onset."""),
("code", """during = split.incident if split is not None else spans
if baseline is not None:
    normal = tk.split_by_change(baseline, (split.onset, split.recovery)).incident if split is not None else baseline
    normal_is = "the baseline's requests in the same minutes"
else:
    normal, normal_is = split.before, "the requests before the onset"
req_d, req_n = requests_of(during), requests_of(normal)
p = {name: (tk.core.percentile(req_n["request_ms"], q), tk.core.percentile(req_d["request_ms"], q))
     for name, q in [("p50", 0.5), ("p95", 0.95)]}
say(f"What: {len(req_d):,} requests in the window against {len(req_n):,} of {normal_is}: "
    f"request latency p50 {p['p50'][0]:,.0f} → {p['p50'][1]:,.0f} ms, p95 {p['p95'][0]:,.0f} → {p['p95'][1]:,.0f} ms; "
    f"failed {req_n['failed'].sum():,} ({req_n['failed'].mean():.1%}) → {req_d['failed'].sum():,} ({req_d['failed'].mean():.1%}).")
hurt = req_d[req_d["request_ms"] > p["p95"][0]]
usual = int((req_n["request_ms"] > p["p95"][0]).sum())  # the normal requests above their own p95: about 5 %
routes = ", ".join(f"{name} {n}" for name, n in hurt["route"].value_counts().head(3).items())
say(f"Who: {len(hurt):,} of {len(req_d):,} requests in the window ({len(hurt) / len(req_d):.0%}) were slower than "
    f"the normal p95 ({p['p95'][0]:,.0f} ms), against {usual:,} of {len(req_n):,} ({usual / len(req_n):.0%}) of "
    f"{normal_is}; by route: {routes}.")"""),
("md", """## 4. Where: which operations changed?

`compare` by operation (service and span name): critical-path time per request, p95 and error rate, each with a
bootstrap interval, sorted by impact. An operation whose interval excludes zero changed; one that is `new` or
`vanished` appeared or disappeared.

Two columns, two questions. `p95_ms_b → p95_ms_a` is the p95 of the operation's span durations, its callees
included: every caller of a slow call gets slower too. `delta_cp_ms` is the change of the operation's own time on
the critical path (its callees' time is theirs), per request of the window, so it points at the call that
got slower, not at its callers (a caller whose p95 rose with a `delta_cp_ms` near 0 is waiting, not working)."""),
("code", """cmp = tk.compare(during, normal, by="operation")
t = cmp.table
n_with = lambda s, r: s.loc[(s["service"] == r.service) & (s["name"] == r.name), "trace_id"].nunique()  # noqa: E731
callee = pd.DataFrame({"service": spans["service"], "name": spans["name"], "callee": tk.core.callees(spans)})
callee = callee.dropna().drop_duplicates(["service", "name"])
t = t.merge(callee, on=["service", "name"], how="left")
# changed: the interval excludes 0, or the operation appeared/vanished where at least 5 calls were expected
expected = t[["calls_a", "calls_b"]].max(axis=1) * min(len(req_d), len(req_n))
changed = t[(t["delta_cp_ms_lo"] > 0) | (t["delta_cp_ms_hi"] < 0) | ((t["presence"] != "both") & (expected >= 5))]
for r in changed.head(3).itertuples():
    calls = f" (a call to {r.callee})" if isinstance(r.callee, str) else ""
    if r.presence == "both":
        say(f"Where: {r.service} · {r.name}{calls}: p95 {r.p95_ms_b:,.1f} → {r.p95_ms_a:,.1f} ms "
            f"({r.delta_p95_ms:+,.1f}, 95 % interval {r.delta_p95_ms_lo:+,.1f} to {r.delta_p95_ms_hi:+,.1f}); it adds "
            f"{r.delta_cp_ms:+,.1f} ms ({r.delta_cp_ms_lo:+,.1f} to {r.delta_cp_ms_hi:+,.1f}) to the average request's "
            f"critical path; called in {n_with(during, r):,} of the window's {len(req_d):,} requests.")
    else:
        say(f"Where: {r.service} · {r.name}{calls} is {r.presence} ({r.calls_a:.2f} calls per request in the window, "
            f"{r.calls_b:.2f} normally): {r.delta_cp_ms:+,.1f} ms on the average request's critical path.")
if changed.empty:
    say("Where: no operation's critical-path time changed beyond its bootstrap interval.")
t[["service", "name", "callee", "presence", "p95_ms_b", "p95_ms_a", "delta_cp_ms", "delta_cp_ms_lo",
   "delta_cp_ms_hi"]].head(8).round(1)"""),
("code", """tk.plot_compare(cmp, labels=("normal", "window"), n=10, title="What changed, by operation (critical path per request)")"""),
("md", "## 5. Where does request time go (critical path), in the window and normally?"),
("code", """bd = tk.critical_path_breakdown(tk.critical_path(during), by="service")
bd_n = tk.critical_path_breakdown(tk.critical_path(normal), by="service")
both = bd[["service", "mean_ms", "share"]].merge(bd_n[["service", "mean_ms", "share"]], on="service", how="outer",
                                                  suffixes=("", "_normal")).fillna(0)
both["delta_ms"] = both["mean_ms"] - both["mean_ms_normal"]
# the largest change first, then (where nothing changed) the largest part of request time: sorted by the change
# alone, the unchanged services came in table order and a large one could fall off the rows shown
both = both.sort_values(["delta_ms", "mean_ms"], ascending=False, ignore_index=True).round(3)
r = both.iloc[0]
n_in = during.loc[during["service"] == r.service, "trace_id"].nunique()
say(f"Critical path: {r.service} grew most, {r.mean_ms_normal:,.1f} → {r.mean_ms:,.1f} ms per request, averaged over "
    f"all {len(req_d):,} requests of the window ({n_in:,} of them reach {r.service}: "
    f"{r.mean_ms * len(req_d) / max(n_in, 1):,.0f} ms each); {r.share_normal:.0%} → {r.share:.0%} of request time.")
both.head(10)"""),
("code", """tk.plot_critical_path_breakdown(bd)"""),
("code", """tk.plot_service_graph(tk.service_graph(during))"""),
("md", "## 6. An exemplar: the slowest request of the window"),
("code", """worst = req_d.sort_values("request_ms", ascending=False).head(5)
w0 = worst.iloc[0]
cp0 = tk.critical_path(spans[spans["trace_id"] == w0.trace_id])
cp0 = cp0.groupby(["service", "name"], as_index=False)["duration_ms"].sum().nlargest(3, "duration_ms")
failed_spans = spans[(spans["trace_id"] == w0.trace_id) & (spans["status"] == "error")]
say(f"Exemplar: the slowest request of the window, {w0.route} at {w0.start:%H:%M:%S}, took {w0.request_ms:,.0f} ms "
    f"(trace {w0.trace_id})"
    + (f"; one of the {len(hurt):,} counted above" if w0.request_ms > p["p95"][0] else
       f"; no slower than the normal p95 ({p['p95'][0]:,.0f} ms)") + ". Most of its critical path: "
    + ", ".join(f"{c.service} · {c['name']} {c.duration_ms:,.0f} ms" for _, c in cp0.iterrows())
    + (f"; {len(failed_spans)} of its spans failed ({', '.join(sorted(set(failed_spans['service'] + ' · ' + failed_spans['name'])))})"
       if len(failed_spans) else "") + ".")
worst[["trace_id", "start", "route", "request_ms", "extent_ms", "n_spans", "failed"]]"""),
("code", """tk.plot_waterfall(spans, w0.trace_id, critical_path=True)"""),
("md", "## 7. How sure: are these the numbers of all requests, or of the sampled ones?"),
("code", """w = tk.sampling_weights(spans)
sources = w["weight_source"].value_counts()
if set(sources.index) <= {"unknown"}:
    say(f"How sure: the traces carry no sampling information (weight source unknown for all {sources.sum():,}): "
        "the numbers above are those of the traces kept; they stand for all requests only if the sampler kept "
        "every kind of request alike (see 03-sampling-bias).")
else:
    est = tk.weighted_summary(spans, w).iloc[0]
    say(f"How sure: sampling weights from {', '.join(f'{k} ({v:,})' for k, v in sources.items())}; corrected "
        f"error rate {est['error_rate']:.1%} ({est['error_rate_lo']:.1%} to {est['error_rate_hi']:.1%}; naive "
        f"{est['naive_error_rate']:.1%}), p95 {est['p95_ms']:,.0f} ms ({est['p95_ms_lo']:,.0f} to {est['p95_ms_hi']:,.0f}; "
        f"naive {est['naive_p95_ms']:,.0f}), about {est['est_requests']:,.0f} requests in all.")
sources"""),
("md", "## 8. Share it: the summary and a self-contained HTML report"),
("code", """Markdown("\\n".join(f"- {s.strip()}" for s in findings))"""),
("md", """The same questions as `tk.report` answers them on its first screen (`tk.postmortem`): a second reading of the
same data, to set beside the sentences above."""),
("code", """pm = tk.postmortem(spans, baseline=baseline)
Markdown("\\n".join(f"- **{r.topic}**: {r.finding}" for r in pm.table.itertuples()))"""),
("code", """out = tk.report(spans, REPORT, baseline=baseline, title="Checkout latency postmortem", redact=REDACT)
print(f"{out} ({out.stat().st_size / 1e6:.1f} MB): open it in any browser, offline.")"""),
("md", """## Check against the ground truth (bundled data only)

The bundled incident was simulated, so we know what happened: every `orders-db` call of `checkout` (`SELECT orders`,
`INSERT orders`) took 250 ms longer from 14:27 to 14:36, in 47 checkout requests. This cell checks the sentences
above against it; delete it when you point the notebook at your own data."""),
("code", """import json
from pathlib import Path

if (INCIDENT, BASELINE) == ("../datasets/checkout-incident", "../datasets/checkout-baseline"):
    truth = json.loads(Path("../datasets/truth/checkout-incident.json").read_text())
    # the numbers the text above quotes (the introduction, this cell's) are the truth file's
    assert (truth["n_traces"], pd.Timestamp(truth["end"]) - pd.Timestamp(truth["start"])) == (1200, pd.Timedelta("1h"))
    assert (truth["service"], truth["extra_ms"], truth["n_affected_traces"]) == ("checkout", 250.0, 47)
    assert (f"{pd.Timestamp(truth['window_start']):%H:%M}", f"{pd.Timestamp(truth['window_end']):%H:%M}") == ("14:27", "14:36")
    assert len(requests) == truth["n_traces"]
    normal_day = json.loads(Path("../datasets/truth/checkout-baseline.json").read_text())
    assert (normal_day["scenario"], normal_day["start"], normal_day["end"]) == ("baseline", truth["start"], truth["end"])
    assert (split.onset, split.recovery) == (pd.Timestamp(truth["window_start"]), pd.Timestamp(truth["window_end"]))
    assert set(changed.head(2)["name"]) == {"SELECT orders", "INSERT orders"}
    assert set(changed.head(2)["callee"]) == {truth["db"]}
    assert (req_d["route"] == "/checkout").sum() == truth["n_affected_traces"]
    assert (hurt["route"] == "/checkout").sum() == truth["n_affected_traces"]
    print("The conclusions agree with the ground truth.")"""),
])

exploratory = nb([
("md", """# Exploratory performance analysis: what changed at a deploy, and what do slow requests share?

A template for a performance investigation: point the first cell at your traces and run all cells. Every
conclusion is printed as a sentence computed from the data. As shipped it reads the bundled
`datasets/deploy-regression` (1,200 requests of a shop over one hour, OTLP JSON lines; a payments release is rolled
out during the hour) and `datasets/cold-starts` (a Lambda that scales out).

The path: the time axis (when did latency change, and did a deploy coincide?) → what changed (by operation) → the
critical path of the slowest requests → what the slow requests have in common (bubble-up) → version regressions,
repeated calls, cold starts."""),
("code", """import pandas as pd
import plotly.io as pio

import tracekit as tk

pio.renderers.default = "plotly_mimetype+notebook"  # live in JupyterLab, and kept by `jupyter nbconvert --to html`

# --- point these at your data -------------------------------------------------------------------------
TRACES = "../datasets/deploy-regression"    # a file, a folder, or a list of them (X-Ray or OTLP)
LAMBDA_TRACES = "../datasets/cold-starts"   # traces with AWS Lambda functions (for cold starts); None: skip
BY = "service"
# -------------------------------------------------------------------------------------------------------

spans = tk.read(TRACES)
requests = tk.trace_summary(spans)  # one row per trace; the requests are those whose `request` is true
requests = requests[requests["request"].to_numpy(dtype=bool)].reset_index(drop=True)  # not async work or fragments
print(f"{len(requests):,} requests, {len(spans):,} spans, {spans['service'].nunique()} services, "
      f"{requests['start'].min():%Y-%m-%d %H:%M} to {requests['start'].max():%H:%M} UTC.")"""),
("md", "## When did latency change, and did a deploy coincide?"),
("code", """changes = tk.detect_changes(spans, by=BY)
for r in changes.itertuples():
    until = f"to {r.recovery:%H:%M}" if pd.notna(r.recovery) else "to the end of the data"
    deploy = f"; {r.deployment} was first seen at the onset" if pd.notna(r.deployment) else ""
    scale, unit = (100, " %") if r.metric == "error_rate" else (1, " ms" if r.metric.endswith("_ms") else "")
    v = {k: getattr(r, k) * scale for k in ("before", "during", "delta", "delta_lo", "delta_hi")}
    print(f"{getattr(r, BY)} {r.metric.replace('_ms', '').replace('_', ' ')}: {v['before']:,.1f}{unit} → {v['during']:,.1f}{unit} "
          f"({v['delta']:+,.1f}{unit}, 95 % interval {v['delta_lo']:+,.1f} to {v['delta_hi']:+,.1f}) from {r.onset:%H:%M} {until}, "
          f"{r.requests_affected:,.0f} requests, {tk.core.p_value_text(r.p_value, changes.attrs['params'])}{deploy}.")
if changes.empty:
    print(f"No change by {BY} within the data.")
tk.deployments(spans)"""),
("code", """tk.plot_timeline(spans, by=BY, changes=changes)"""),
("code", """first = changes.iloc[0]
tk.plot_heatmap(spans, by=BY, key=getattr(first, BY),
                title=f"{getattr(first, BY)}: requests served, start time × latency")"""),
("md", """## What changed at the change? Before against after, by operation

Every request that started in the window against every request before it (`split_by_change`); the count of each
side is printed, so a conclusion never rests on a handful of traces."""),
("code", """split = tk.split_by_change(spans, changes)
after, before = split.incident, split.before
n_after, n_before = (int(tk.trace_summary(x)["request"].sum()) for x in (after, before))  # requests, not traces
cmp = tk.compare(after, before, by="operation")
t = cmp.table
for r in t[t["presence"] != "both"].itertuples():
    side = after if r.presence == "new" else before
    n_with = side.loc[(side["service"] == r.service) & (side["name"] == r.name), "trace_id"].nunique()
    print(f"{r.service} · {r.name} is {r.presence}: in {n_with:,} of {n_after if r.presence == 'new' else n_before:,} "
          f"requests {'after' if r.presence == 'new' else 'before'} {split.onset:%H:%M}, adding {r.delta_cp_ms:+,.1f} ms "
          f"({r.delta_cp_ms_lo:+,.1f} to {r.delta_cp_ms_hi:+,.1f}) to the average request's critical path.")
slower = t[(t["presence"] == "both") & (t["delta_p95_ms_lo"] > 0)].sort_values("delta_p95_ms", ascending=False)
for r in slower.head(3).itertuples():
    print(f"{r.service} · {r.name}: p95 span duration, its callees included, {r.p95_ms_b:,.0f} → {r.p95_ms_a:,.0f} ms "
          f"({r.delta_p95_ms:+,.0f}, 95 % interval {r.delta_p95_ms_lo:+,.0f} to {r.delta_p95_ms_hi:+,.0f}); its own "
          f"critical-path time {r.delta_cp_ms:+,.1f} ms per request.")
print(f"Counted over {n_before:,} requests before {split.onset:%H:%M} and {n_after:,} after. calls_b / calls_a: calls "
      "per request before / after; delta_cp_ms: the operation's own critical-path time per request, after − before.")
t[["service", "name", "presence", "calls_b", "calls_a", "delta_cp_ms", "delta_cp_ms_lo", "delta_cp_ms_hi",
   "delta_p95_ms"]].head(8).round(2)"""),
("code", """tk.plot_latency(spans, by="service", kind="ecdf", log_x=True)"""),
("md", "## What dominates the slowest 5 % of requests?"),
("code", """cp = tk.critical_path(spans)
slowest = tk.critical_path_breakdown(cp, by="service", spans=spans, percentile_window=(95, 100))  # in percent
overall = tk.critical_path_breakdown(cp, by="service")
shares = overall[["service", "share"]].merge(slowest[["service", "share"]], on="service", how="outer",
                                             suffixes=("_all", "_slowest_5pct")).fillna(0)
shares["gain"] = shares["share_slowest_5pct"] - shares["share_all"]
g = shares.sort_values("gain", ascending=False).iloc[0]
print(f"In the slowest 5 % ({slowest.attrs['traces']:,} of {overall.attrs['traces']:,} requests), {g.service} holds "
      f"{g.share_slowest_5pct:.0%} of request time on the critical path, against {g.share_all:.0%} over all requests.")
# shares of critical-path time, as percentages
shares.sort_values("share_all", ascending=False, ignore_index=True).assign(
    share_all=lambda d: d["share_all"].map("{:.1%}".format), gain=lambda d: d["gain"].map("{:+.1%}".format),
    share_slowest_5pct=lambda d: d["share_slowest_5pct"].map("{:.1%}".format))"""),
("md", """## What do the slow requests have in common?

BubbleUp-style: every attribute, resource key, annotation and derived dimension (service, host, version, region,
status class), its share among the slowest 10 % of requests vs the rest, with Fisher tests and
false-discovery-rate q-values."""),
("code", """hits = tk.bubble_up(spans, lambda t: t.request_ms > t.request_ms.quantile(0.9))
h = hits.iloc[0]
n_sel, n_base = hits.attrs["n_selection"], hits.attrs["n_baseline"]  # the requests of each side
print(f"{h.dimension} = {h.value} is in {h.selection_count:,} of the {n_sel:,} slowest 10 % of requests "
      f"({h.share_selection:.0%}) against {h.baseline_count:,} of the other {n_base:,} ({h.share_baseline:.0%}); "
      f"over all {n_sel + n_base:,} requests, those with it take "
      f"{h.latency_with_ms:,.0f} ms on average, without it {h.latency_without_ms:,.0f} ms (q = {h.q_value:.1e}).")
hits[["dimension", "value", "selection_count", "baseline_count", "share_selection", "share_baseline"]].head(10).round(3)"""),
("code", """tk.plot_bubble_up(hits)"""),
("code", """reg = tk.version_regressions(spans)
for r in reg[reg["regression"].astype(bool)].itertuples():
    print(f"{r.service} {r.version} (after {r.previous_version}, first seen {r.first_seen:%H:%M}, {r.traces:,} requests): "
          f"p95 {r.delta_p95_ms:+,.0f} ms ({r.delta_p95_ms_lo:+,.0f} to {r.delta_p95_ms_hi:+,.0f}), critical path "
          f"{r.delta_cp_ms:+,.0f} ms per request ({r.delta_cp_ms_lo:+,.0f} to {r.delta_cp_ms_hi:+,.0f}).")
reg[reg["previous_version"].notna()][["service", "version", "previous_version", "first_seen", "traces", "p95_ms",
                                      "delta_p95_ms", "delta_cp_ms", "regression"]].round(
    {"p95_ms": 1, "delta_p95_ms": 1, "delta_cp_ms": 1})"""),
("code", """top = t.iloc[0]  # the operation with the largest impact
with_top = after[(after["service"] == top.service) & (after["name"] == top["name"])]["trace_id"].unique()
example = tk.trace_summary(after[after["trace_id"].isin(with_top)]).sort_values("request_ms", ignore_index=True)
e = example.iloc[len(example) // 2]  # a median request, not the worst
print(f"A median one of the {len(example):,} requests after {split.onset:%H:%M} that call {top.service} · {top['name']}: "
      f"{e.request_ms:,.0f} ms (trace {e.trace_id}).")
tk.plot_waterfall(spans, e.trace_id, critical_path=True)"""),
("md", "## Repeated calls (N+1 loops, retries), the service graph, self time"),
("code", """rep = tk.find_repeated_calls(spans)
cost = rep.groupby(["service", "name", "pattern"])[["calls", "cost_ms"]].sum().sort_values("cost_ms", ascending=False)
(s, name, pattern), c = cost.index[0], cost.iloc[0]
n_req = rep.loc[(rep["service"] == s) & (rep["name"] == name), "trace_id"].nunique()
print(f"Costliest repetition: {s} · {name} ({pattern}), {int(c.calls):,} calls in {n_req:,} of {len(requests):,} "
      f"requests; {c.cost_ms:,.0f} ms in all beyond the longest call of each group, {c.cost_ms / n_req:,.1f} ms per "
      "such request (what batching or parallel calls could save).")
cost.head(8).round(1)"""),
("code", """G = tk.service_graph(spans)
tk.plot_service_graph(G)"""),
("code", """st = tk.self_time(spans)
own = st.groupby("service")["self_ms"].sum().sort_values(ascending=False).rename("self_ms (all requests)").to_frame()
own["share"] = own.iloc[:, 0] / own.iloc[:, 0].sum()
own["ms per request"] = own.iloc[:, 0] / len(requests)
print(f"Self time (time in a service's own spans, its callees excluded), summed over all {len(requests):,} requests: "
      f"{own.index[0]} holds {own['share'].iloc[0]:.0%} of all services' self time, "
      f"{own['ms per request'].iloc[0]:,.1f} ms per request.")
# share: of the summed self time of every service (formatted before any rounding: 0.1017 is 10.2 %, not 10 %)
own.head(10).assign(share=lambda d: d["share"].map("{:.1%}".format)).round(1)"""),
("md", "## Lambda cold starts"),
("code", """if LAMBDA_TRACES:
    cold = tk.cold_starts(tk.read(LAMBDA_TRACES))
    for r in cold.itertuples():
        print(f"{r.function}: {r.cold_starts:,} of {r.invocations:,} invocations were cold ({r.cold_share:.0%}); "
              f"initialisation p50 {r.init_p50_ms:,.0f} ms (95 % interval {r.init_p50_lo:,.0f} to {r.init_p50_hi:,.0f}); a cold "
              f"invocation took {r.added_ms:,.0f} ms longer than a warm one on average ({r.added_ms_lo:,.0f} to {r.added_ms_hi:,.0f}).")
    display(cold[["function", "invocations", "cold_starts", "cold_share", "init_p50_ms", "added_ms", "slow_cold_share"]].round(3))"""),
("md", """## Browse the traces

An interactive explorer of the 30 slowest requests after the change (a Jupyter widget: it needs a live kernel and
shows nothing in a static export; pass more traces at will, its state grows with them)."""),
("code", """slow_after = tk.trace_summary(after).nlargest(30, "request_ms")["trace_id"]
tk.TraceExplorer(after[after["trace_id"].isin(slow_after)])"""),
("md", """## Check against the ground truth (bundled data only)

The bundled deploy was simulated: from 14:30 payments runs 1.5.0 (before 1.4.2) and makes one extra call,
`GET /v1/risk-score` (median 180 ms). Delete this cell when you use your own data."""),
("code", """import json
from pathlib import Path

if TRACES == "../datasets/deploy-regression":
    truth = json.loads(Path("../datasets/truth/deploy-regression.json").read_text())
    # the numbers the text above quotes (the introduction, this cell's) are the truth file's
    assert (truth["n_traces"], pd.Timestamp(truth["end"]) - pd.Timestamp(truth["start"])) == (1200, pd.Timedelta("1h"))
    assert (truth["old_version"], truth["new_version"], truth["added_ms_median"]) == ("1.4.2", "1.5.0", 180.0)
    assert f"{pd.Timestamp(truth['deploy_time']):%H:%M}" == "14:30" and len(requests) == truth["n_traces"]
    assert f"{truth['service']} {truth['new_version']}" in set(changes["deployment"].dropna())  # at its onset
    assert split.onset == pd.Timestamp(truth["deploy_time"]) and pd.isna(split.recovery)
    assert t.iloc[0]["name"] == truth["added_span"] and t.iloc[0]["presence"] == "new"
    flagged = reg[reg["regression"].astype(bool)]
    assert set(zip(flagged["service"], flagged["version"], strict=True)) == {(truth["service"], truth["new_version"])}
    assert n_after >= 500 and n_before >= 500  # the conclusions rest on hundreds of requests on each side
    print("The conclusions agree with the ground truth.")"""),
])

sampling = nb([
("md", """# Sampling bias: naive vs corrected numbers

Head sampling that keeps the error-prone checkout route least (1 in 16, the other routes 1 in 2), with each trace's
sampling threshold in its W3C `tracestate` (`ot=th:…`). The simulator gives us both the sample a tracing backend would
hold and the full population it was drawn from, so we can see how wrong the naive numbers are and whether the
corrected (Horvitz–Thompson) estimates and their bootstrap intervals hold the truth. With your own data, only the
sample exists: `tk.sampling_weights` reads the thresholds (or X-Ray rules and statistics) from it, and the
"corrected" column is what you report.

The naive, corrected and true numbers use the same definitions (docs/guide.md, "One vocabulary: the definitions
every module uses"): a request's latency is its root span's duration (`request_ms`), and a request failed when
`failed` says so."""),
("code", """import pandas as pd

import tracekit as tk

sim = tk.simulate.simulate("error-undersampling", n_traces=3000, seed=5)
sample, population = sim.spans, sim.population
w = tk.sampling_weights(sample)
sources = w["weight_source"].value_counts()
print(f"{sample['trace_id'].nunique():,} traces kept of {population['trace_id'].nunique():,}; weights from "
      + ", ".join(f"{k} ({v:,} traces)" for k, v in sources.items()) + ".")
rate = w.groupby("name")["weight"].agg(["min", "max", "size"])  # by root operation: each trace's weight, 1 / probability
print("Kept, by root operation: " + ", ".join(f"{n} 1 in {r['max']:g} ({int(r['size']):,} traces kept)"
                                             for n, r in rate.iterrows()) + ".")
# pinned: the rates the introduction states (checkout 1 in 16, the other routes 1 in 2)
assert rate.loc["POST /checkout", ["min", "max"]].tolist() == [16, 16]
assert set(rate.drop("POST /checkout")[["min", "max"]].to_numpy().ravel()) == {2}"""),
("code", """est = tk.weighted_summary(sample, w).iloc[0]
true = tk.trace_summary(population)  # the population's requests: request_ms and failed, as in the sample
true_rate, true_p95 = true["failed"].mean(), tk.core.percentile(true["request_ms"], 0.95)
table = pd.DataFrame({
    "naive (sample as is)": [f"{est['naive_error_rate']:.2%}", f"{est['naive_p95_ms']:,.0f} ms", f"{est['n_traces']:,}"],
    "corrected": [f"{est['error_rate']:.2%}", f"{est['p95_ms']:,.0f} ms", f"{est['est_requests']:,.0f}"],
    "corrected, 95% interval": [f"{est['error_rate_lo']:.2%} – {est['error_rate_hi']:.2%}",
                                f"{est['p95_ms_lo']:,.0f} – {est['p95_ms_hi']:,.0f} ms",
                                f"{est['est_requests_lo']:,.0f} – {est['est_requests_hi']:,.0f}"],
    "truth (population)": [f"{true_rate:.2%}", f"{true_p95:,.0f} ms", f"{len(true):,}"],
}, index=["failed-request rate", "p95 request latency", "requests"])
holds = est["error_rate_lo"] <= true_rate <= est["error_rate_hi"]
kept = tk.trace_summary(sample)
print(f"The sample as is says {est['naive_error_rate']:.2%} of requests failed; corrected for sampling "
      f"{est['error_rate']:.2%} ({est['error_rate_lo']:.2%} to {est['error_rate_hi']:.2%}); the truth is {true_rate:.2%}, "
      f"{'inside' if holds else 'outside'} the corrected interval. The correction rests on "
      f"{int(kept['failed'].sum()):,} failed request{'' if kept['failed'].sum() == 1 else 's'} kept of "
      f"{int(true['failed'].sum()):,} in all"
      + (": with so few, the interval is wide" if kept["failed"].sum() < 10 else "")
      + (", and the naive number only says the failures were under-sampled" if est["naive_error_rate"] < est["error_rate"]
         else "") + f". p95: naive {est['naive_p95_ms']:,.0f} ms, corrected "
      f"{est['p95_ms']:,.0f} ms, true {true_p95:,.0f} ms.")
# pinned: the naive error rate understates the truth; the corrected interval holds it
assert est["naive_error_rate"] < true_rate and holds
table"""),
("code", """bias = tk.sampling_bias(sample, population, by=["service"], weights=w)
for kind, m in bias.findings[["kind", "message"]].head(5).itertuples(index=False):
    print(f"{kind}: {m}")"""),
("md", """What would other sampling rules keep, and what would they cost? X-Ray rules match the request's URL
path: the checkout requests of this shop are `POST /checkout` at the gateway (the cell prints how many requests
each rule matched, so a rule that matches nothing shows)."""),
("code", """rules = [{"RuleName": "checkout", "Priority": 1, "ReservoirSize": 1, "FixedRate": 0.05, "ServiceName": "*",
          "HTTPMethod": "*", "URLPath": "/checkout*", "Host": "*", "ServiceType": "*", "ResourceARN": "*"},
         {"RuleName": "Default", "Priority": 10000, "ReservoirSize": 1, "FixedRate": 0.05, "ServiceName": "*",
          "HTTPMethod": "*", "URLPath": "*", "Host": "*", "ServiceType": "*", "ResourceARN": "*"}]
matched = tk.simulate_sampling(population, rules=rules).traces["rule"].value_counts()
print("Requests matched per rule: " + ", ".join(f"{r['RuleName']} {int(matched.get(r['RuleName'], 0)):,}" for r in rules))"""),
("code", """span = population["start"].max() - population["start"].min()
n_failed = int(true["failed"].sum())
rows = []
for name, res in [("X-Ray 1/s + 5 %", tk.simulate_sampling(population, rules=rules)),
                  ("10 % probability", tk.simulate_sampling(population, probability=0.1)),
                  ("tail: errors + 5 %", tk.simulate_sampling(population, tail={"keep_errors": True, "probability": 0.05}))]:
    tr = res.traces
    rows.append({"sampler": name, "traces kept": int(tr["kept"].sum()),
                 f"failed kept (of {n_failed})": int((tr["kept"] & tr["failed"]).sum()),
                 "usd": res.cost.loc[res.cost["item"] == "total", "usd"].iloc[0]})
samplers = pd.DataFrame(rows)
cheap = samplers.sort_values("usd").iloc[0]
xray_kept = samplers.loc[samplers["sampler"] == "X-Ray 1/s + 5 %", "traces kept"].iloc[0]
print(f"Of {len(population['trace_id'].unique()):,} requests over {span.total_seconds() / 60:,.0f} minutes "
      f"({len(true) / span.total_seconds():.2f} per second: the X-Ray rules' reservoir of 1 per second, then 5 %, keeps "
      f"{xray_kept:,} of them, {xray_kept / len(true):.0%}), the cheapest "
      f"sampler here is {cheap.sampler}: {cheap['traces kept']:,} traces kept, {cheap.iloc[2]} of the {n_failed} failed "
      f"requests, for ${cheap.usd:,.4f} (X-Ray's price of recording and scanning them).")
samplers.assign(usd=samplers["usd"].map("${:,.4f}".format))"""),
])

live = nb([
("md", """# Fetch traces from AWS X-Ray

`tk.fetch_xray` pages GetTraceSummaries, fetches traces with BatchGetTraces in chunks of 5 (retrying throttles and
unprocessed ids), caches every raw response in `cache_dir` (resumable, loadable offline with `tk.read_xray`) and
returns the spans.

**Which X-Ray this notebook talks to.** By default (environment variable `TRACEKIT_LOCAL_XRAY` unset, or `1`) the
setup cell starts a local X-Ray endpoint (moto's server on 127.0.0.1, its request log silenced) and uploads simulated
segments to it, so the notebook runs anywhere without an AWS account. To fetch from your own AWS account, set
`TRACEKIT_LOCAL_XRAY=0` before starting Jupyter and set `REGION` below; credentials come from the usual AWS chain
(environment, profile, SSO) and are never printed."""),
("code", """import logging
import os
import shutil
import tempfile

import pandas as pd

import tracekit as tk

REGION = "eu-west-1"
LOCAL = os.environ.get("TRACEKIT_LOCAL_XRAY", "1") != "0"   # unset or "1": local endpoint; "0": your account
ENDPOINT = None
if LOCAL:
    import boto3
    from moto.server import ThreadedMotoServer
    logging.getLogger("werkzeug").setLevel(logging.ERROR)   # no request log lines from the local server
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(k, "testing")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    ENDPOINT = f"http://{host}:{port}"
    # upload 30 simulated requests of the shop, spread over the 10 minutes that ended 10 minutes ago
    import json

    from tracekit.io.write import xray_segment_documents
    now = pd.Timestamp.now(tz="UTC")
    cfg = tk.simulate.AppConfig(start=str(now - pd.Timedelta("20min")), duration_s=600)
    sim = tk.simulate.simulate("db-lock", n_traces=30, seed=11, config=cfg)
    docs = [json.dumps(d) for d in xray_segment_documents(sim.spans)]
    xray = boto3.client("xray", region_name=REGION, endpoint_url=ENDPOINT)
    for i in range(0, len(docs), 50):
        xray.put_trace_segments(TraceSegmentDocuments=docs[i:i + 50])
print("X-Ray endpoint:", "local (moto)" if LOCAL else f"AWS, region {REGION}")"""),
("code", """cache = tempfile.mkdtemp(prefix="xray-cache-")
end = pd.Timestamp.now(tz="UTC") + pd.Timedelta("1min")
spans = tk.fetch_xray(start=end - pd.Timedelta("2h"), end=end, region=REGION, endpoint_url=ENDPOINT,
                      cache_dir=cache, progress=False)
print(tk.format_summary(spans))"""),
("code", """# the cache loads offline, to the same spans
again = tk.read_xray(cache)
assert len(again) == len(spans) and set(again["span_id"]) == set(spans["span_id"])
print(f"Fetched {spans['trace_id'].nunique():,} traces ({len(spans):,} spans); the cache reloads offline to the same "
      f"{again['trace_id'].nunique():,} traces.")"""),
("md", """Trace summaries alone (GetTraceSummaries: cheap, no segments) tell how many traces match and which had a
fault. The local endpoint (moto) fills their timing fields with placeholders; against AWS they are the real values."""),
("code", """summaries = tk.fetch_xray_summaries(start=end - pd.Timedelta("2h"), end=end, region=REGION, endpoint_url=ENDPOINT)
print(f"{len(summaries):,} trace summaries; {int(summaries['has_fault'].sum()):,} with a fault, "
      f"{int(summaries['has_error'].sum()):,} with an error, {int(summaries['has_throttle'].sum()):,} throttled.")
summaries[["xray_trace_id", "has_fault", "has_error", "has_throttle"]].head()"""),
("code", """if LOCAL:
    server.stop()
shutil.rmtree(cache, ignore_errors=True)  # the pages were for this notebook only: keep a cache_dir you want to reuse"""),
])


signals = nb([
("md", """# Logs and metrics beside the traces: which service did it?

A fault that leaves the spans as they were — an exception caught inside a service, a method returning a wrong value —
shows in what the service logs and in its pod's metrics. This notebook takes one fault window of a real
fault-injection day (Nezha, ESEC/FSE 2023: TrainTicket, 2023-01-29, in `../shared/real-traces/nezha/fault-days/`, read
in place; see its SOURCES.md), loads its traces, logs and per-pod metrics from the CSV files as they are handed over —
with pandas and `tk.spans_from_columns` / `tk.logs_from_columns` / `tk.metrics_from_columns`, nothing
Nezha-specific in tracekit — and asks `tk.rank_causes` which service did it, from the traces alone and from every
signal. Only at the end is the fault list read, to check the answer.

The window: the 2 minutes after 09:12:56 UTC. The traces' baseline is what the folder holds of the 10 minutes
before (trace files for some minutes only: the cell that reads them prints which); the logs' reference is the
day's fault-free minute (08:50), the only fault-free minute whose logs are in the folder."""),
("code", """import glob
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.io as pio

import tracekit as tk

pio.renderers.default = "plotly_mimetype+notebook"

SHARED = Path(os.environ.get("TRACEKIT_REAL_TRACES", "../../shared/real-traces"))
DAY = SHARED / "nezha" / "fault-days" / "rca_data" / "2023-01-29"
FAULT_FREE = SHARED / "nezha" / "fault-days" / "construct_data" / "2023-01-29"
if not (DAY / "trace").is_dir():  # else the first read fails with pandas' "No objects to concatenate"
    raise FileNotFoundError(f"the Nezha fault day is not at {DAY.resolve()}: set TRACEKIT_REAL_TRACES to the folder "
                            "holding nezha/ (see its SOURCES.md) before starting Jupyter")
T0 = pd.Timestamp("2023-01-29 09:12:56", tz="UTC")  # the window starts here (the fault list is read at the end)
INCIDENT, BASELINE = pd.Timedelta("2min"), pd.Timedelta("10min")


def service_of(pod: str) -> str:
    \"\"\"ts-basic-service-5dc8d4f9fd-46997 -> ts-basic-service (the pod name without its last two parts).\"\"\"
    return pod.rsplit("-", 2)[0]"""),
("md", """**Traces.** One CSV per minute: `TraceID, SpanID, ParentID ("root" for roots), PodName, OperationName,
StartTimeUnixNano, EndTimeUnixNano`. A span that crosses a minute boundary is in two files: kept once."""),
("code", """def read_traces(paths):
    df = pd.concat([pd.read_csv(p) for p in paths], ignore_index=True).drop_duplicates(["TraceID", "SpanID"])
    parent = df["ParentID"].astype(str)
    return tk.spans_from_columns({
        "trace_id": df["TraceID"].astype(str), "span_id": df["SpanID"].astype(str),
        "parent_id": parent.where(parent != "root", None), "service": df["PodName"].map(service_of),
        "name": df["OperationName"].astype(str), "start": df["StartTimeUnixNano"], "end": df["EndTimeUnixNano"],
        "resource": [{"k8s.pod.name": p} for p in df["PodName"]]})


minutes = pd.date_range(T0.floor("1min") - BASELINE - pd.Timedelta("1min"), T0 + INCIDENT, freq="1min")
files = [f for m in minutes if (f := DAY / "trace" / f"{m:%H_%M}_trace.csv.gz").exists()]
spans = read_traces(files)
start = spans.groupby("trace_id")["start"].transform("min")  # each trace by the start of its request
incident = spans[(start >= T0) & (start < T0 + INCIDENT)].reset_index(drop=True)
baseline = spans[(start < T0) & (start >= T0 - BASELINE)].reset_index(drop=True)
fault_free = read_traces([FAULT_FREE / "trace" / "08_50_trace.csv.gz"])
held = sorted({pd.Timestamp(f"{T0:%Y-%m-%d} {Path(f).name[:5].replace('_', ':')}", tz="UTC") for f in files})
spanned = [m for m in minutes if m + pd.Timedelta("1min") > T0 - BASELINE and m < T0]  # the minutes it overlaps
before = [m for m in held if m in spanned]  # those with a trace file
print(f"incident: {incident['trace_id'].nunique():,} traces; baseline: {baseline['trace_id'].nunique():,} traces "
      f"in the {BASELINE.total_seconds() / 60:.0f} minutes before it, from the trace files of {len(before)} of the "
      f"{len(spanned)} minutes it overlaps "
      f"({', '.join(f'{m:%H:%M}' for m in before)}), and {fault_free['trace_id'].nunique():,} in the fault-free minute")"""),
("md", """**Logs.** One CSV per minute: `Timestamp, TimeUnixNano, Node, PodName, Container, TraceID, SpanID, Log`, where `Log`
is the container's JSON line and its `log` a logback line `HH:MM:SS.mmm LEVEL Class#line TraceID: … SpanID: …
[method][message]`. The level is its second word; the body keeps the class and the message (the pod's clock and the
ids, which have columns of their own, are dropped). Python's csv module reads them: one row of the day has broken
quoting that pandas' parsers refuse."""),
("code", """import csv
import gzip
import io


def read_logs(paths):
    cols = {k: [] for k in ("time", "trace_id", "span_id", "host", "severity", "body")}
    for p in paths:
        with gzip.open(p, "rt", newline="") as f:
            rows = csv.reader(io.StringIO(f.read()))
            next(rows)
            for r in rows:
                try:
                    line = json.loads(r[7])["log"]
                except (ValueError, KeyError, IndexError):
                    line = r[7] if len(r) > 7 else ""
                w = line.split(None, 7)
                body = f"{w[2]} {w[7].rstrip()}" if len(w) == 8 and w[3] == "TraceID:" else line.rstrip()
                for k, v in zip(cols, (int(r[1]), r[5], r[6], r[3], w[1] if len(w) > 1 else None, body)):
                    cols[k].append(v)
    return tk.logs_from_columns({**cols, "service": [service_of(h) for h in cols["host"]]})


log_files = [f for m in pd.date_range(T0.floor("1min"), T0 + INCIDENT, freq="1min")
             if (f := DAY / "log" / f"{m:%H_%M}_log.csv.gz").exists()]
logs = read_logs(log_files + [FAULT_FREE / "log" / "08_50_log.csv.gz"])
on = tk.attach_logs(pd.concat([baseline, incident, fault_free], ignore_index=True), logs)
print(f"{len(logs):,} log records (the incident's minutes and the fault-free minute): {on.n_on_span:,} on their "
      f"span, {on.n_unmatched:,} on none")
logs["severity_text"].value_counts()"""),
("md", """**Metrics.** One wide CSV per pod: a row per minute, a column per metric (`CpuUsageRate(%)`, `MemoryUsage(Mi)`,
`PodServerLatencyP95(s)`…). Reshaped to long form with pandas; the unit is the bracket of the column name; the time is
the `Time` column's date, clock and zone."""),
("code", """parts = []
for path in sorted(glob.glob(str(DAY / "metric" / "*_metric.csv.gz"))):
    wide = pd.read_csv(path)
    wide["time"] = pd.to_datetime(wide["Time"].str.split(" ").str[:3].str.join(" "), utc=True)
    value_columns = [c for c in wide.columns if c not in ("Time", "TimeStamp", "PodName", "time")]
    parts.append(wide.melt(id_vars=["time", "PodName"], value_vars=value_columns, var_name="metric"))
long = pd.concat(parts, ignore_index=True)
metrics = tk.metrics_from_columns({
    "time": long["time"], "name": long["metric"].str.replace(r"\\([^)]*\\)$", "", regex=True),
    "unit": long["metric"].str.extract(r"\\(([^)]*)\\)$", expand=False), "value": long["value"].astype(float),
    "service": long["PodName"].map(service_of), "host": long["PodName"]})
print(f"{len(metrics):,} metric points, {metrics['name'].nunique()} metrics of {metrics['host'].nunique()} pods")"""),
("md", """**Which service did it?** From the traces alone, then with every signal. The log evidence compares the
incident's spans with the spans its records cover in the baseline: give it the logs of the incident and of the
fault-free minute, and a baseline holding both periods."""),
("code", """both = pd.concat([baseline, fault_free], ignore_index=True)
traces_only = tk.rank_causes(incident, baseline, level="service", window=None, n_boot=200)
every = tk.rank_causes(incident, both, level="service", window=None, n_boot=200, logs=logs, metrics=metrics)
view = ["service", "score", "signals", "decided_by", "log_templates", "log_errors", "metrics", "metric_top"]
print("traces only, top 3:", ", ".join(traces_only["service"].head(3)))
every[view].head(5).round(3)"""),
("code", """print(every["hypothesis"].iloc[0])"""),
("md", """**One time axis.** The requests the top three services served and their latency, minute by minute over the
baseline and the incident (shaded), with the metric that moved most at the highest-ranked service where one moved
(the cell says whose; that service's lines are drawn too). A minute with no trace file reads 0 requests: no data,
not no traffic."""),
("code", """top = every["service"].head(3).tolist()
moved = every[every["metric_top_name"].notna()]
name, whose = (moved["metric_top_name"].iloc[0], moved["service"].iloc[0]) if len(moved) else (None, None)
if whose is not None:
    print(f"The top metric of {', '.join(top)}: " + ", ".join(str(v) for v in every["metric_top"].head(3).fillna("none moved"))
          + f"; drawn: {name} of {whose} (ranked {int(moved['rank'].iloc[0])}), {moved['metric_top'].iloc[0]} "
          "(over its baseline points → its incident points).")
tl = tk.timeline(pd.concat([baseline, incident], ignore_index=True), "1min", by="service", metrics=metrics,
                 metric_names=[name] if name else None)
shown = top + ([whose] if whose and whose not in top else [])
tl = tl[tl["service"].isin(shown)].reset_index(drop=True)
fig = tk.plot_timeline(tl, title=f"the top services: requests, latency{f' and {name} ({whose})' if name else ''}")
fig.add_vrect(x0=T0, x1=T0 + INCIDENT, fillcolor="#d62728", opacity=0.08, line_width=0)  # the fault window
fig"""),
("md", """**A trace with its logs.** An incident trace of the first service, its records on their spans (a marker at
the end of each span with ERROR records): the one with the most ERROR records on that service's spans when its
logs decided the ranking, otherwise the trace `rank_causes` gives as its example."""),
("code", """first = every.iloc[0]
attached = tk.attach_logs(incident, logs).spans
errs = attached[attached["service"] == first.service].groupby("trace_id")["log_errors"].sum()
trace = errs.idxmax() if str(first.decided_by).startswith("logs") and errs.max() > 0 else first.example_trace_id
one = attached[attached["trace_id"] == trace]
on = one[one["log_errors"] > 0]
print(f"trace {trace}: {len(one)} spans, {int(one['log_records'].sum())} log records, {int(one['log_errors'].sum())} "
      f"of them ERROR" + (f" (on {', '.join(sorted(set(on['service'] + ' · ' + on['name'])))})" if len(on) else ""))
tk.plot_waterfall(one, max_labels=300)  # every span named up to 300 (the default, 150, leaves larger traces unlabelled)"""),
("md", """**Check.** Only now the fault list: which pod was injected, with what."""),
("code", """faults = json.loads((DAY / "2023-01-29-fault_list.json").read_text())
fault = next(f for hour in faults.values() for f in hour if pd.Timestamp(f["inject_time"], tz="UTC") == T0)
truth = service_of(fault["inject_pod"])
rank_traces = traces_only["service"].tolist().index(truth) + 1
rank_every = every["service"].tolist().index(truth) + 1
decided = every.loc[every["service"] == truth, "decided_by"].iloc[0]
print(f"injected: {fault['inject_type']} fault in {truth}; ranked {rank_traces} of {len(traces_only)} from the "
      f"traces alone, {rank_every} of {len(every)} with logs and metrics (decided by {decided})")
# pinned (README.md quotes it): with every signal the injected service comes first, on its logs
assert rank_every == 1 and str(decided).startswith("logs"), (rank_every, decided)"""),
("code", """# the postmortem report of this window, with every signal (a self-contained HTML file), written to a temporary
# folder and removed: give a path of yours to keep it
import shutil
import tempfile

folder = Path(tempfile.mkdtemp())
out = tk.report(incident, folder / "nezha-window.html", baseline=both, logs=logs, metrics=metrics,
                title="TrainTicket 09:12 fault window")
print(out.name, f"{out.stat().st_size / 1e6:.1f} MB")
shutil.rmtree(folder)"""),
])

NOTEBOOKS = {"01-postmortem": postmortem, "02-exploratory-performance": exploratory,
             "03-sampling-bias": sampling, "04-xray-live": live, "05-logs-and-metrics": signals}


def keep(output) -> bool:
    """Whether an executed cell's output is stored in the committed notebook."""
    data = output.get("data", {})
    if any(m in data for m in DROP_MIMETYPES):
        return False
    html = data.get("text/html", "")
    return "<script" not in (html if isinstance(html, str) else "".join(html))  # plotly.js loader and the like


def main(out: str, only: list[str]) -> None:
    from nbclient import NotebookClient

    names = [n for n in NOTEBOOKS if not only or any(n.startswith(o) for o in only)]
    for name in names:
        n = nbformat.from_dict(NOTEBOOKS[name])
        NotebookClient(n, timeout=600, kernel_name="python3", resources={"metadata": {"path": out}}).execute()
        for c in n.cells:
            if c.cell_type == "code":
                c.outputs = [o for o in c.outputs if keep(o)]
                c.metadata.pop("execution", None)
        n.metadata.pop("widgets", None)
        nbformat.write(n, f"{out}/{name}.ipynb")
        print(name, "executed")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "notebooks", sys.argv[2:])
