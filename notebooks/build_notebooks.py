"""Build the tracekit notebooks: python notebooks/build_notebooks.py notebooks (outputs stripped except cells marked NBVAL_CHECK_OUTPUT)."""
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def nb(cells):
    n = new_notebook()
    n.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    n.metadata["language_info"] = {"name": "python"}
    for kind, src in cells:
        n.cells.append(new_markdown_cell(src) if kind == "md" else new_code_cell(src))
    return n

postmortem = nb([
("md", """# Postmortem: where did the time go, and what changed?

A template for an incident postmortem. Point the first cell at your traces (X-Ray `batch-get-traces` output or OTLP
JSON / JSON lines, files or folders, `.gz` welcome) and a baseline from a normal period, then run all cells.
As shipped it analyses the bundled `checkout-small` sample (simulated orders-db lock contention) against a simulated
normal day of the same shop."""),
("code", """import plotly.io as pio
import tracekit as tk

pio.renderers.default = "plotly_mimetype+notebook"  # live in JupyterLab, and kept by `jupyter nbconvert --to html`

# --- point these at your data -------------------------------------------------------------
INCIDENT = tk.examples.path("checkout-small")    # a file, a folder, or a list of them
BASELINE = None                                  # same, from a normal period; None: simulate one
REDACT = ["user.email", "http.request.header.*"] # attribute keys kept out of the report
REPORT = "postmortem-report.html"
"""),
("md", "## 1. Load"),
("code", """spans = tk.read(INCIDENT)
baseline = tk.read(BASELINE) if BASELINE else tk.simulate.simulate("baseline", n_traces=200, seed=7).spans
print(tk.format_summary(spans))"""),
("code", """# NBVAL_CHECK_OUTPUT
print(spans["trace_id"].nunique(), "traces,", len(spans), "spans,", spans["service"].nunique(), "services")"""),
("md", """## 2. Can we trust these traces?

Before any number goes into the postmortem: orphans, broken context, clock skew, partial traces."""),
("code", """health = tk.health_report(spans)
health[health["severity"] != "info"][["check", "severity", "subject", "traces_affected", "share", "what_to_do"]]"""),
("code", """skew = tk.detect_clock_skew(spans)
skew"""),
("md", "## 3. What changed against the baseline?"),
("code", """cmp = tk.compare(spans, baseline, by="service")
cmp.table[["service", "delta_cp_ms", "delta_cp_ms_lo", "delta_cp_ms_hi", "delta_p95_ms", "delta_error_rate"]].head(8)"""),
("code", """tk.plot_compare(cmp.table)"""),
("md", "## 4. Where does request time go (critical path)?"),
("code", """cp = tk.critical_path(spans)
bd = tk.critical_path_breakdown(cp, by="service")
# pinned: the critical path of every trace tiles its root span exactly
roots = spans[spans["parent_id"].isna()].set_index("trace_id")["duration_ms"]
assert abs(cp.groupby("trace_id")["duration_ms"].sum().sum() - roots[cp["trace_id"].unique()].sum()) < 1e-3
bd.head(8)"""),
("code", """tk.plot_critical_path_breakdown(bd)"""),
("code", """tk.plot_service_graph(tk.service_graph(spans))"""),
("md", "## 5. The worst traces"),
("code", """summary = tk.trace_summary(spans)
worst = summary.sort_values("request_ms", ascending=False).head(5)   # request latency, not trace extent
worst[["trace_id", "root_name", "request_ms", "extent_ms", "n_spans", "failed", "failed_spans"]]"""),
("code", """tk.plot_waterfall(spans, worst["trace_id"].iloc[0], critical_path=True)"""),
("md", "## 6. Sampling caveats\n\nAre the numbers above those of all requests, or of the sampled ones?"),
("code", """w = tk.sampling_weights(spans)
w["weight_source"].value_counts()"""),
("md", "## 7. Share it: a self-contained HTML report"),
("code", """out = tk.report(spans, REPORT, baseline=baseline, title="Checkout latency postmortem", redact=REDACT)
assert out.exists() and out.stat().st_size > 100_000
out"""),
])

exploratory = nb([
("md", """# Exploratory performance analysis

Latency distributions, the critical path by latency percentile window (what dominates the slowest 5 %?), repeated
calls (N+1, retries) and the service graph, on the bundled `deploy-small` sample (a payments deploy that adds a slow
call)."""),
("code", """import plotly.io as pio
import tracekit as tk

pio.renderers.default = "plotly_mimetype+notebook"  # live in JupyterLab, and kept by `jupyter nbconvert --to html`
spans = tk.examples.load("deploy-small")
print(tk.format_summary(spans))"""),
("code", """tk.plot_latency(spans, by="service", kind="ecdf", log_x=True)"""),
("code", """cp = tk.critical_path(spans)
slowest = tk.critical_path_breakdown(cp, by="service", spans=spans, percentile_window=(95, 100))
overall = tk.critical_path_breakdown(cp, by="service")
overall[["service", "cp_ms", "share"]].merge(slowest[["service", "share"]], on="service", how="outer",
                                             suffixes=("_all", "_slowest_5pct")).sort_values("share_all", ascending=False)"""),
("code", """rep = tk.find_repeated_calls(spans)
rep.groupby(["service", "name", "pattern"])[["calls", "cost_ms"]].sum().sort_values("cost_ms", ascending=False).head(10)"""),
("code", """G = tk.service_graph(spans)
# pinned: every service of the sample is a node of the graph
assert set(spans["service"]) <= set(G.nodes)
tk.plot_service_graph(G)"""),
("code", """st = tk.self_time(spans)
st.groupby("service")["self_ms"].sum().sort_values(ascending=False).head(10)"""),
("md", """## What do the slow traces have in common?

BubbleUp-style: every attribute, resource key, annotation and derived dimension (service, host, version, region,
status class), its share among the slowest 10 % of traces vs the rest, with Fisher tests and false-discovery-rate
q-values."""),
("code", """hits = tk.bubble_up(spans, lambda t: t.request_ms > t.request_ms.quantile(0.9))
hits.head(10)"""),
("code", """tk.plot_bubble_up(hits)"""),
("code", """reg = tk.version_regressions(spans)
flagged = reg[reg["regression"].astype(bool)]
# pinned: the deploy in this sample is payments 1.5.0, and it is the regression found
assert set(zip(flagged["service"], flagged["version"])) == {("payments", "1.5.0")}
reg[reg["previous_version"].notna()]"""),
("code", """tk.cold_starts(tk.examples.load("cold-starts-small"))"""),
("md", "## Browse the traces"),
("code", """tk.TraceExplorer(spans)"""),
])

sampling = nb([
("md", """# Sampling bias: naive vs corrected numbers

Head sampling that keeps the error-prone checkout route least (1 in 16, the other routes 1 in 2), with each trace's
sampling threshold in its W3C `tracestate` (`ot=th:…`). The simulator gives us both the sample a tracing backend would
hold and the full population it was drawn from, so we can see how wrong the naive numbers are and whether the
corrected (Horvitz–Thompson) estimates and their bootstrap intervals hold the truth. With your own data, only the
sample exists: `tk.sampling_weights` reads the thresholds (or X-Ray rules and statistics) from it."""),
("code", """import pandas as pd
import tracekit as tk

sim = tk.simulate.simulate("error-undersampling", n_traces=3000, seed=5)
sample, population = sim.spans, sim.population
w = tk.sampling_weights(sample)
w["weight_source"].value_counts()"""),
("code", """est = tk.weighted_summary(sample, w).iloc[0]
true = tk.trace_summary(population)
table = pd.DataFrame({
    "naive (sample as is)": [est["naive_error_rate"], est["naive_p95_ms"], est["n_traces"]],
    "corrected": [est["error_rate"], est["p95_ms"], est["est_requests"]],
    "corrected, 95% interval": [f"{est['error_rate_lo']:.3f} – {est['error_rate_hi']:.3f}",
                                f"{est['p95_ms_lo']:.0f} – {est['p95_ms_hi']:.0f}",
                                f"{est['est_requests_lo']:.0f} – {est['est_requests_hi']:.0f}"],
    "truth (population)": [true["failed"].mean(), tk.core.percentile(true["request_ms"], 0.95), len(true)],
}, index=["failed-request rate", "p95 request latency ms", "requests"])
# pinned: the naive error rate understates the truth; the corrected interval holds it
assert est["naive_error_rate"] < true["failed"].mean()
assert est["error_rate_lo"] <= true["failed"].mean() <= est["error_rate_hi"]
table"""),
("code", """bias = tk.sampling_bias(sample, population, by=["service"], weights=w)
bias.findings[["kind", "message"]]"""),
("md", "What would other sampling rules keep, and what would they cost?"),
("code", """rules = [{"RuleName": "checkout", "Priority": 1, "ReservoirSize": 1, "FixedRate": 0.05, "ServiceName": "*",
          "HTTPMethod": "*", "URLPath": "/api/checkout*", "Host": "*", "ServiceType": "*", "ResourceARN": "*"},
         {"RuleName": "Default", "Priority": 10000, "ReservoirSize": 1, "FixedRate": 0.05, "ServiceName": "*",
          "HTTPMethod": "*", "URLPath": "*", "Host": "*", "ServiceType": "*", "ResourceARN": "*"}]
rows = []
for name, res in [("X-Ray 1/s + 5 %", tk.simulate_sampling(population, rules=rules)),
                  ("10 % probability", tk.simulate_sampling(population, probability=0.1)),
                  ("tail: errors + 5 %", tk.simulate_sampling(population, tail={"keep_errors": True, "probability": 0.05}))]:
    kept = res.traces["kept"].sum() if "kept" in res.traces else None
    rows.append({"sampler": name, "traces kept": kept, "usd": res.cost.loc[res.cost["item"] == "total", "usd"].iloc[0]})
pd.DataFrame(rows)"""),
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
("code", """import logging, os, tempfile
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
    # upload a simulated day of the shop, timestamped a few minutes ago
    from tracekit.io.write import xray_segment_documents
    import json
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
len(again)"""),
("code", """summaries = tk.fetch_xray_summaries(start=end - pd.Timedelta("2h"), end=end, region=REGION, endpoint_url=ENDPOINT)
summaries.head()"""),
("code", """if LOCAL:
    server.stop()"""),
])

def main(out: str) -> None:
    for name, n in [("01-postmortem", postmortem), ("02-exploratory-performance", exploratory),
                    ("03-sampling-bias", sampling), ("04-xray-live", live)]:
        nbformat.write(n, f"{out}/{name}.ipynb")
    print("ok")

    # execute, then keep only the outputs of cells that pin them (NBVAL_CHECK_OUTPUT)
    from nbclient import NotebookClient
    for name in ["01-postmortem", "02-exploratory-performance", "03-sampling-bias", "04-xray-live"]:
        p = f"{out}/{name}.ipynb"
        n = nbformat.read(p, as_version=4)
        NotebookClient(n, timeout=600, kernel_name="python3", resources={"metadata": {"path": out}}).execute()
        for c in n.cells:
            if c.cell_type == "code":
                if "NBVAL_CHECK_OUTPUT" not in c.source:
                    c.outputs = []
                    c.execution_count = None
        n.metadata.pop("widgets", None)
        nbformat.write(n, p)
    print("executed")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "notebooks")
