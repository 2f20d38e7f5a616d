"""The report on each bundled dataset, its first screen read against the dataset's ground truth (datasets/truth/).

The bundled checkout incident is read closely elsewhere (test_report_story.py); these are the other shapes: a
sampled population, broken context, cold starts, a deploy with logs and metrics. Each module fixture builds one
whole report per dataset (4-8 s on two loaded cores) and the tests read its key findings as the page shows them."""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.attribution import lambda_invocations
from tracekit.core import percentile
from tracekit.investigate.postmortem import fmt_ms

from .conftest import REPO, read_dataset

TRUTH = REPO / "datasets" / "truth"


def _truth(name: str) -> dict:
    return json.loads((TRUTH / f"{name}.json").read_text())


def _section_text(page: str, section: str) -> str:
    """The text of ``<section id=section>`` as a reader sees it (tags dropped, entities unescaped, spaces folded)."""
    m = re.search(rf'<section id="{section}">(.*?)</section>', page, re.S)
    assert m, f"the report has no {section} section"
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", m.group(1)))).strip()


def _report(name: str, tmp_path_factory, **kwargs) -> tuple[str, str]:
    out = tmp_path_factory.mktemp(name) / f"{name}.html"
    tk.report(read_dataset(name), out, title=name, markdown=False, **kwargs)
    page = out.read_text()
    return page, _section_text(page, "key-findings")


@pytest.fixture(scope="module")
def sampled_errors(tmp_path_factory):
    return _report("sampled-errors", tmp_path_factory)


def _population_outcomes() -> pd.DataFrame:
    """The 3,000 requests sampled-errors was sampled from (the simulator's population, same scenario and seed)."""
    scenario, n, seed, *_ = tk.simulate.DATASETS["sampled-errors"]
    sim = tk.simulate.simulate(scenario, n, seed=seed)
    out = tk.trace_summary(sim.population)
    truth = _truth("sampled-errors")
    assert len(out) == truth["n_population"]  # the population the truth file describes
    return out


@pytest.mark.slow
def test_a_weighted_sample_says_its_corrected_numbers_first(sampled_errors):
    """sampled-errors keeps checkout requests 1 in 16 and the others 1 in 2 (truth file). "What happened" said
    "1,075 requests …: p50 35.6 ms, p95 91.3 ms, error rate 0.09 %" — the sample's numbers, biased low by the
    sampler (the population's p95 is 183 ms) — and the corrected ones only in "how sure". Now the first sentence
    gives the sampling-corrected p95 with its interval, which holds the population's, and the sampled numbers
    after it as such."""
    _, kf = sampled_errors
    truth = _truth("sampled-errors")
    what = kf.split("When", 1)[0]
    pop = _population_outcomes()
    pop_p95 = float(percentile(pop["request_ms"].to_numpy(float), 0.95))
    sample = tk.trace_summary(read_dataset("sampled-errors"))
    naive_p95 = float(percentile(sample["request_ms"].to_numpy(float), 0.95))
    assert f"{truth['n_sampled']:,} sampled requests" in what, what
    m = re.search(r"corrected for sampling, p50 request latency [\d.,]+ ms, p95 ([\d.,]+) ms \[([\d.,]+) ms, ([\d.,]+) ms\]",
                  what)
    assert m, what
    p95, lo, hi = (float(x.replace(",", "")) for x in m.groups())
    assert lo <= pop_p95 <= hi, (pop_p95, what)
    assert abs(p95 - pop_p95) < abs(naive_p95 - pop_p95), (p95, naive_p95, pop_p95)
    # the sample's own numbers come after the corrected ones, called biased
    assert what.index("corrected for sampling") < what.index("as sampled, biased by the sampler")
    assert fmt_ms(naive_p95) in what.split("as sampled", 1)[1], what
    # the population it stands for: about as many requests as the population had
    est = float(re.search(r"standing for about ([\d,]+)", what).group(1).replace(",", ""))
    assert abs(est - truth["n_population"]) / truth["n_population"] < 0.1, est
    # an error rate resting on few failed requests says so where it is given
    failed_kept = int(sample["failed"].sum())
    if failed_kept < 10:
        assert f"from only {failed_kept:,} failed request" in what, what


@pytest.mark.slow
def test_the_corrected_headline_row_shows_the_estimate_not_the_sampled_count(sampled_errors):
    """sampled-errors: the headline table's sampling-corrected row showed 1,075 requests — the sample's count —
    beside corrected rates, while "What happened" said the sample stands for about 2,962 requests (the population
    had 3,000: truth file). The row's requests are now the estimate, said as one, and its traces the sample."""
    page, kf = sampled_errors
    truth = _truth("sampled-errors")
    spans = read_dataset("sampled-errors")
    est = float(tk.weighted_summary(spans, tk.sampling_weights(spans)).iloc[0]["est_requests"])
    assert abs(est - truth["n_population"]) / truth["n_population"] < 0.1, est
    row = re.search(r"<tr><td>sampling-corrected</td>(.*?)</tr>", page[page.index('id="headline-table"'):])
    assert row, "no sampling-corrected row"
    cells = [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))]
    assert cells[:2] == [f"{truth['n_sampled']:,} sampled", f"about {round(est):,} (estimate)"], cells
    assert f"standing for about {est:,.0f}" in kf.split("When", 1)[0]  # the sentence and the row say one number


@pytest.mark.slow
def test_what_happened_on_a_sampled_change_is_corrected_for_sampling():
    """A sampled shop with a change: sampled-errors' sampler (checkout kept 1 in 16, the other routes 1 in 2) on a
    simulated hour whose /products requests are 300 ms slower for 15 minutes (built here: the root span of each such
    request ends 300 ms later, in the population and so in the sample). "What happened" corrected for sampling only
    when no change was found; on a change it said the sample's counts as the requests. Now both paths say the
    weighted summary (weighted_summary of the window's requests and of the others): the sampled count, the requests
    it stands for — near the population's, truth by construction — and the sample's own numbers after, as biased."""
    sim = tk.simulate.simulate("error-undersampling", 3000, seed=21)
    t0 = sim.truth.start + pd.Timedelta("25min")
    t1 = t0 + pd.Timedelta("15min")

    def slow(spans: pd.DataFrame) -> tuple[pd.DataFrame, int]:
        roots = spans[spans["parent_id"].isna()]
        hit = roots[(roots["name"] == "GET /products") & (roots["start"] >= t0) & (roots["start"] < t1)]
        out = spans.copy()
        m = out["span_id"].isin(hit["span_id"]) & out["trace_id"].isin(hit["trace_id"])
        out.loc[m, "end"] += pd.Timedelta(milliseconds=300)
        out.loc[m, "duration_ms"] += 300.0
        return out, len(hit)

    spans, n_hit = slow(sim.spans)
    _, n_population_hit = slow(sim.population)
    pm = tk.postmortem(spans, n_boot=200)
    what = pm.findings[0]
    assert what.topic == "what" and what.evidence.get("route") == "/products", what.text
    ev = what.evidence
    assert abs(pm.window[0] - t0) <= pd.Timedelta("2min") and abs(pm.window[1] - t1) <= pd.Timedelta("2min")
    rows = tk.select_requests(spans, "route", key="/products")
    inside = (rows["time"] >= pm.window[0]) & (rows["time"] < pm.window[1])
    w = tk.sampling_weights(spans)
    tid = spans["trace_id"].astype(str)
    s_in = tk.weighted_summary(spans[tid.isin(set(rows.loc[inside, "trace_id"].astype(str)))], w).iloc[0]
    # "before" is the baseline the ranking compares with (pm.baseline: the normal period before the change), its
    # /products requests; it was every /products request outside the window, the hour after it included (s38)
    b_rows = tk.select_requests(pm.baseline, "route", key="/products")
    b_tid = pm.baseline["trace_id"].astype(str)
    s_out = tk.weighted_summary(pm.baseline[b_tid.isin(set(b_rows["trace_id"].astype(str)))], w).iloc[0]
    assert what.text.startswith(f"{int(inside.sum()):,} sampled /products requests, standing for about "
                                f"{s_in['est_requests']:,.0f}, were slower: corrected for sampling, "
                                f"p95 request latency {fmt_ms(s_out['p95_ms'])} → {fmt_ms(s_in['p95_ms'])}"), what.text
    assert f"standing for about {s_out['est_requests']:,.0f}" in what.text
    assert "as sampled, biased by the sampler" in what.text
    assert ev["weighted"] and ev["est_requests_hurt"] == pytest.approx(s_in["est_requests"])
    # the estimate stands for the population's slowed requests (364 of them; the sample kept 1 in 2)
    assert abs(s_in["est_requests"] - n_population_hit) / n_population_hit < 0.15, (s_in["est_requests"], n_population_hit)
    assert int(inside.sum()) == n_hit or abs(int(inside.sum()) - n_hit) <= 0.05 * n_hit


@pytest.mark.slow
def test_one_cold_start_gets_no_interval(sampled_errors):
    """sampled-errors holds one cold fulfillment invocation; the report said "+670 ms per cold invocation [+670 ms,
    +671 ms]": resampling one value draws it every time, so the interval held only the warm invocations' spread.
    With a single cold start, no interval is given, and cold_starts leaves its bounds NaN."""
    _, kf = sampled_errors
    cs = tk.cold_starts(read_dataset("sampled-errors"), n_boot=100)
    one = cs[cs["cold_starts"] == 1]
    assert len(one), "the dataset has a function with exactly one cold start"
    r = one.iloc[0]
    assert np.isnan(r.added_ms_lo) and np.isnan(r.added_ms_hi) and np.isfinite(r.added_ms)
    assert "per cold invocation [" not in kf, kf  # no interval said anywhere (and this one is no change: not said)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sampled-errors", "clock-skew", "async-workflows", "bad-host", "broken-context"])
def test_cold_starts_at_their_usual_share_are_not_what_changed(name):
    """Without a baseline, "What changed" listed fulfillment's cold starts at the shop's usual ~2 % (simulator:
    coldstart_rate 0.01 per environment, all hour) on datasets with no cold-start incident: "Cold starts seen (no
    baseline to compare with): fulfillment: 2 cold starts in 97 invocations (2%)…". Nothing changed there. Now they
    are said only when their share rose within the data beyond chance (cold_start_changes: no function here), and
    off the critical path (asynchronous) they are left out."""
    from tracekit.analysis.attribution.lambdas import cold_start_changes

    spans = read_dataset(name)
    assert not (cold_start_changes(spans)["p_value"] < 0.01).any()
    pm = tk.postmortem(spans, n_boot=100)
    changed = " ".join(pm.sentences("changed"))
    assert "Cold start" not in changed and "cold start" not in changed.replace("no cold start", ""), changed
    assert "Cold start" not in " ".join(pm.sentences("where"))  # fulfillment is asynchronous: off every request's path


@pytest.fixture(scope="module")
def cold_starts(tmp_path_factory):
    return _report("cold-starts", tmp_path_factory)


@pytest.mark.slow
def test_when_says_no_change_in_the_requests_and_when_the_cold_starts_were(cold_starts):
    """cold-starts: fulfillment's Lambda scales out 14:30–14:50 and half its invocations are cold (truth file); the
    requests do not change (it is asynchronous). "When" led with "The strongest candidate, not beyond chance, is
    /products p95 request latency 69.6 ms → 72.9 ms … (p = 0.33)": an unrelated route, within chance. It now says first
    that no change in the requests was detected beyond chance, then when the cold starts rose — the truth's window —
    and any candidate after, as within chance."""
    _, kf = cold_starts
    truth = _truth("cold-starts")
    when = kf.split("When", 1)[1].split("Where", 1)[0].strip()
    assert when.startswith("No onset found: no change in the requests was detected beyond chance"), when
    t0 = pd.Timestamp(truth["scale_out_time"])
    t1 = t0 + pd.Timedelta(seconds=truth["window_s"])
    m = re.search(r"What did change is fulfillment's cold starts: (\d+) of its (\d+) invocations in "
                  r"(\d\d:\d\d)–(\d\d:\d\d) UTC were cold", when)
    assert m, when
    a, b = (pd.Timestamp(f"{t0:%Y-%m-%d} {x}", tz="UTC") for x in m.group(3, 4))
    assert abs(a - t0) <= pd.Timedelta("1min") and abs(b - t1) <= pd.Timedelta("1min"), (m.groups(), t0, t1)
    inv = lambda_invocations(read_dataset("cold-starts"))
    inside = (inv["start"] >= a) & (inv["start"] < b)
    assert (int(m.group(1)), int(m.group(2))) == (int(inv.loc[inside, "cold"].sum()), int(inside.sum()))
    if "candidate" in when:  # a route's change within chance comes after the finding, said as within chance
        assert when.index("candidate nearest to passing was") > when.index("What did change"), when


def test_cold_start_intervals_need_two_of_each():
    """Two cold starts among warm ones: an interval; one: none (NaN), the mean difference still given."""
    spans = tk.examples.load("cold-starts-small")
    cs = tk.cold_starts(spans, n_boot=100).iloc[0]
    assert cs.cold_starts >= 2 and np.isfinite(cs.added_ms_lo) and cs.added_ms_lo <= cs.added_ms <= cs.added_ms_hi
    inv = lambda_invocations(spans)
    cold_traces = inv.loc[inv["cold"], "trace_id"].tolist()
    one = spans[~spans["trace_id"].isin(cold_traces[1:])].reset_index(drop=True)
    r = tk.cold_starts(one, n_boot=100).iloc[0]
    assert r.cold_starts == 1
    assert np.isnan(r.added_ms_lo) and np.isnan(r.added_ms_hi) and np.isfinite(r.added_ms)


@pytest.fixture(scope="module")
def broken_context(tmp_path_factory):
    return _report("broken-context", tmp_path_factory)


@pytest.mark.slow
def test_broken_context_counts_each_request_once_and_names_the_dropped_hop(broken_context):
    """broken-context: for 41 of 500 requests api-gateway dropped the context and frontend started a new trace
    (truth file: every pair). "What happened" said "541 requests" — each of those requests twice — and "how sure"
    called the hop an "uninstrumented hop", though frontend reports spans on every other request. Now the one
    definition of a request (trace_outcomes, which every module counts by; test_definitions pins that they agree)
    counts the callee's half in its caller's request: 500 requests, the truth's, and the 41 other traces said
    beside the count; "how sure" names the dropped context."""
    _, kf = broken_context
    truth = _truth("broken-context")
    spans = read_dataset("broken-context")
    new_roots = {new for _, new in truth["dropped"]}
    out = tk.trace_summary(spans)
    counted = out[out["request"].astype(bool)]
    assert len(counted) == truth["n_traces"]  # one per request the simulator made
    assert not set(counted["trace_id"].astype(str)) & new_roots  # the callee's halves are not requests
    assert set(out.loc[out["continues"].notna(), "trace_id"].astype(str)) == new_roots
    what = kf.split("What happened", 1)[1].split("When", 1)[0].strip()
    assert what.startswith(f"{truth['n_traces']:,} requests in"), what
    p95 = float(percentile(counted["request_ms"].to_numpy(float), 0.95))
    assert f"p95 {fmt_ms(p95)}" in what, what
    assert (f"and {truth['n_dropped']:,} more traces, each the callee's half of one of these requests: they started "
            "where a caller dropped the trace context") in what, what
    assert f"{truth['caller']} → {truth['callee']}: {truth['n_dropped']:,}" in what, what


@pytest.mark.slow
def test_broken_context_health_names_the_dropped_context_one_way(broken_context):
    """The report's health table said "uninstrumented_hop api-gateway → frontend" (a warning, 41 traces) while "how
    sure" translated it to "trace context dropped": two names for one finding, and the wrong one in the table and
    in notebooks. health_report now names it dropped_context (frontend is instrumented; its answers start traces
    of their own), and the first screen says the check's own name."""
    page, kf = broken_context
    truth = _truth("broken-context")
    sure = kf.split("How sure", 1)[1]
    # the share's population is said (report3, session 40): "in 41 of the 541 traces" (the requests and the dropped halves)
    head = f"dropped context ({truth['caller']} → {truth['callee']}) in {truth['n_dropped']:,} of the "
    assert f"{head}{truth['n_traces'] + truth['n_dropped']:,} traces" in sure, sure
    assert "uninstrumented hop (api-gateway → frontend)" not in sure, sure
    health = _section_text(page, "health")
    assert f"dropped_context {truth['caller']} → {truth['callee']} {truth['n_dropped']}" in health, health
    assert "uninstrumented_hop api-gateway → frontend" not in health, health


@pytest.fixture(scope="module")
def deploy_signals(tmp_path_factory):
    sig = REPO / "datasets" / "deploy-regression-signals"
    return _report("deploy-regression", tmp_path_factory, logs=sig / "logs.jsonl.gz", metrics=sig / "metrics.jsonl.gz")


@pytest.mark.slow
def test_a_metric_that_went_well_past_its_baseline_is_not_called_a_negligible_margin(deploy_signals):
    """deploy-regression with its metrics: "1 more went past it by a negligible margin …: checkout
    http.server.request.duration (rose 165.7 %, evidence under 0.001)". 9.7 % of checkout's points went past the
    baseline's reach (metric_evidence: evidence 0.087, well over NEGLIGIBLE_EVIDENCE); the ranking's own-time cap
    took it to ~0 because checkout's own spans did not slow (truth: only payments changed) — its callees' time. The
    sentence now says that; a series is called negligible only when its uncapped evidence is."""
    from tracekit.analysis.metric_evidence import NEGLIGIBLE_EVIDENCE, metric_evidence

    _, kf = deploy_signals
    spans = read_dataset("deploy-regression")
    metrics = tk.read_metrics(REPO / "datasets" / "deploy-regression-signals" / "metrics.jsonl.gz")
    onset = pd.Timestamp(_truth("deploy-regression")["deploy_time"])
    first = spans.groupby("trace_id")["start"].transform("min")
    ev = metric_evidence(metrics, spans[first >= onset], spans[first < onset])
    ev = ev[ev["moved"].astype(bool)]
    metric_words = next(s for s in kf.split("How sure", 1)[1].split("Metrics:")[1:])
    negligible = metric_words.split("negligible margin", 1)[1] if "negligible margin" in metric_words else ""
    for r in ev[ev["evidence"] >= NEGLIGIBLE_EVIDENCE].itertuples():
        assert f"{r.service} {r.name} (" not in negligible, (r.service, metric_words)
    callee_only = ev[(ev["evidence"] >= NEGLIGIBLE_EVIDENCE) & (ev["service"] == "checkout")]
    assert len(callee_only), "checkout's request duration went past its baseline"
    assert "moved while the service's own spans did not slow" in metric_words, metric_words
    assert "checkout http.server.request.duration (rose" in metric_words.split("did not slow", 1)[1], metric_words
