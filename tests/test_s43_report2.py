"""Session 43, helper report2: words of the postmortem and the HTML report (baseline check, sampling, scores)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tracekit as tk
from tracekit.analysis.baseline_check import baseline_comparability


def _five_routes(n_each: int = 4, service: str = "web") -> pd.DataFrame:
    """``n_each`` one-span requests on each of five routes ``GET /r0`` … ``GET /r4`` of one service."""
    names = [f"GET /r{i % 5}" for i in range(5 * n_each)]
    n = len(names)
    start = 1_700_000_000_000_000_000 + np.arange(n, dtype=np.int64) * 1_000_000_000
    return tk.spans_from_columns({"trace_id": [f"{i + 1:032x}" for i in range(n)],
                                  "span_id": [f"{i + 1:016x}" for i in range(n)], "parent_id": [None] * n,
                                  "service": [service] * n, "name": names, "start": start, "end": start + 50_000_000})


def _baseline_sharing(spans: pd.DataFrame, k: int) -> pd.DataFrame:
    """A baseline of the same requests in which only the first ``k`` of the five routes keep their names."""
    keep = {f"GET /r{i}" for i in range(k)}
    names = [x if x in keep else x.replace("GET", "PUT") for x in spans["name"].astype(str)]
    return spans.assign(name=pd.Series(names, index=spans.index, dtype=spans["name"].dtype),
                        trace_id="b" + spans["trace_id"].astype(str).str[1:])


@pytest.mark.parametrize(("k", "words"), [
    (0, "none of their 5 request routes appears in it"),
    (1, "only 1 of their 5 request routes appears in it"),
    (2, "only 2 of their 5 request routes appear in it"),
])
def test_baseline_check_says_none_and_one_in_plain_words(k, words):
    """k=0 fails on the old code ("only 0 of their 5 request routes appear in it"); k=1 and k=2 are controls."""
    spans = _five_routes()
    c = baseline_comparability(spans, _baseline_sharing(spans, k))
    assert c.routes == (5, 5, k)  # by construction
    assert words in c.reason, c.reason
    assert "only 0 of" not in c.reason and "1 of their 5 request routes appear " not in c.reason
    # the operations, one per route here, are said the same way, with their share of spans (k of 5 routes, equal sizes)
    ops = {0: "none of their 5 operations (0% of their spans) appears in it",
           1: "only 1 of their 5 operations (20% of their spans) appears in it",
           2: "only 2 of their 5 operations (40% of their spans) appear in it"}[k]
    assert ops in c.reason, c.reason


def test_baseline_check_says_a_lone_service_does_not_appear():
    spans = _five_routes()
    other = _baseline_sharing(spans, 5).assign(service="shop")
    c = baseline_comparability(spans, other)
    assert c.services == (1, 1, 0)
    assert "their 1 service does not appear in it" in c.reason and "only 0 of" not in c.reason, c.reason


@pytest.fixture(scope="module")
def sampled_errors():
    from .conftest import read_dataset

    spans = read_dataset("sampled-errors")
    return spans, tk.postmortem(spans, n_boot=200)


def test_sampling_sentence_says_an_open_upper_bound_in_words_not_a_column_name(sampled_errors):
    """The report's sampling sentence on sampled-errors said "(its _hi is inf)", weighted_summary's column name."""
    spans, pm = sampled_errors
    w = tk.weighted_summary(spans, tk.sampling_weights(spans), n_boot=200).iloc[0]
    open_hi = [q for q in ("p50", "p95", "p99") if w[f"{q}_ms_hi"] == np.inf]
    assert open_hi  # by the data: too few effective latencies above the p99 for an upper bound
    (sampling,) = [f.text for f in pm.findings if f.text.startswith("Sampling")]
    assert "_hi" not in sampling and " inf" not in sampling, sampling
    assert f"no upper bound for {' or '.join(open_hi)}: too few effective sampled latencies above" in sampling.lower()


@pytest.fixture(scope="module")
def deploy_with_signals():
    from .conftest import REPO, read_dataset

    sig = REPO / "datasets" / "deploy-regression-signals"
    return tk.postmortem(read_dataset("deploy-regression"), logs=tk.read_logs(sig / "logs.jsonl.gz"),
                         metrics=tk.read_metrics(sig / "metrics.jsonl.gz"))


def test_a_top_score_above_one_says_it_is_a_sum_where_first_shown(deploy_with_signals):
    """deploy-regression with logs and metrics showed "top score 1.68" beside per-kind scores like 0.96, never saying a
    score is a sum of evidence kinds that can exceed 1."""
    pm = deploy_with_signals
    (where,) = [f for f in pm.findings if f.topic == "where" and "score" in f.evidence]
    score = where.evidence["score"]
    top = pm.causes.iloc[0]
    assert score > 1 and float(top["score"]) == pytest.approx(score)
    # by the data: each kind of evidence is 0 to 1, and several add up past 1
    if True:
        kinds = [c for c in ("slower", "waiting", "extra", "vanished", "shape", "errors", "answers", "log_templates",
                             "log_errors", "metrics") if c in top.index and pd.notna(top[c])]
        assert all(abs(float(top[c])) <= 1 for c in kinds) and sum(float(top[c]) for c in kinds) > 1
    text = where.text
    first = text.index(f"{score:.2f}")
    assert text[first:].startswith(f"{score:.2f}, a sum over its kinds of evidence, each scored 0 to 1"), text
    assert text.count("a sum over its kinds of evidence") == 1, text


def test_health_p95_on_a_weighted_sample_says_it_is_as_sampled(sampled_errors):
    """Trace health on sampled-errors said "95% of requests take at most 91.3 ms": unweighted, while the weighted
    p95 is 196 ms; it now says the figure is of the sampled requests, as sampled (unweighted)."""
    from tracekit.core import percentile

    spans, _ = sampled_errors
    req = tk.trace_summary(spans)["request_ms"].dropna().to_numpy(float)
    w = tk.weighted_summary(spans, tk.sampling_weights(spans), n_boot=50).iloc[0]
    naive = float(percentile(req, 0.95))
    assert w["p95_ms"] > 1.5 * naive  # by the data: the weighted p95 is far above the sampled one
    h = tk.health_report(spans)
    (text,) = h.loc[h["check"] == "p95_request_latency_ms", "explanation"]
    assert "as sampled (unweighted)" in text and text.startswith("95% of the sampled requests"), text
    # control: the unsampled checkout-incident keeps its plain words
    from .conftest import read_dataset

    plain = tk.health_report(read_dataset("checkout-incident"))
    assert not plain["explanation"].str.contains("unweighted").any()
