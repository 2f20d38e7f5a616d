"""tk.peer_outliers: a host or version unlike its peers in the same period, with no baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact, mannwhitneyu

import tracekit as tk
from tracekit.investigate.peers import PEER_OUTLIERS

MS = 1_000_000


def _fleet(durations: dict[str, list[float]], failed: dict[str, int] | None = None, service: str = "api") -> pd.DataFrame:
    """Single-span requests of one operation, ``durations[host]`` ms each; the first ``failed[host]`` fail."""
    rows = [(h, d, i < (failed or {}).get(h, 0)) for h, ds in durations.items() for i, d in enumerate(ds)]
    n = len(rows)
    return tk.spans_from_columns({
        "trace_id": [f"{i + 1:032x}" for i in range(n)], "span_id": [f"{i + 1:016x}" for i in range(n)],
        "parent_id": [None] * n, "service": [service] * n, "name": ["GET /items"] * n,
        "start": [i * 1000 * MS for i in range(n)], "end": [i * 1000 * MS + int(d * MS) for i, (_, d, _) in enumerate(rows)],
        "status": ["error" if f else "ok" for _, _, f in rows],
        "resource": [{"host.name": h, "service.version": "2.0" if h == "h3" else "1.0"} for h, _, _ in rows]})


def test_a_host_whose_every_span_is_slower_has_probability_one_and_the_mann_whitney_p_holm_adjusted():
    rng = np.random.default_rng(7)
    base = {h: list(np.round(rng.uniform(10, 20, 30), 3)) for h in ("h1", "h2")}
    slow = list(np.round(rng.uniform(21, 40, 30), 3))  # above every peer span by construction
    spans = _fleet({**base, "h3": slow})
    before = spans.copy(deep=True)
    out = tk.peer_outliers(spans)
    pd.testing.assert_frame_equal(spans, before)  # input untouched
    assert list(out.columns) == ["service", "host", *PEER_OUTLIERS.column_names]
    top = out.iloc[0]
    assert (top["service"], top["host"], top["operation"], top["peers"], top["spans"]) == ("api", "h3", "GET /items", 2, 30)
    assert top["slower"] == 1.0
    # the same test computed independently (scipy, normal approximation with the tie correction), then Holm over 3 tests
    peers = base["h1"] + base["h2"]
    p = mannwhitneyu(slow, peers, alternative="greater", method="asymptotic", use_continuity=False).pvalue
    assert top["p_value"] == pytest.approx(min(1.0, 3 * p), rel=1e-9)
    # the one percentile (inverted_cdf: an observed time; np.median's mean of the middle two of 30 was pinned before)
    assert top["self_p50_ms"] == np.quantile(slow, 0.5, method="inverted_cdf") and top["self_p50_ms"] in slow
    assert top["peer_self_p50_ms"] == np.quantile(peers, 0.5, method="inverted_cdf")
    assert top["example_trace_id"] == f"{60 + int(np.argmax(slow)) + 1:032x}"
    # the fast hosts: slower than their peers (which include h3) in well under half the pairs, not significant
    rest = out.iloc[1:]
    assert (rest["slower"] < 0.5).all() and (rest["p_value"] > 0.5).all()


def test_identical_hosts_are_like_their_peers():
    d = [float(x) for x in range(10, 40)]
    out = tk.peer_outliers(_fleet({"h1": d, "h2": d[::-1], "h3": d[5:] + d[:5]}))
    assert (out["slower"] == 0.5).all()  # the same values: every pair is a tie or balanced
    assert (out["p_value"] == 1.0).all()


def test_error_origins_against_the_peers_are_a_fisher_test():
    d = [float(x) for x in range(10, 30)]
    spans = _fleet({"h1": d, "h2": d, "h3": d}, failed={"h2": 8})
    out = tk.peer_outliers(spans).set_index("host")
    assert out.loc["h2", "error_origins"] == pytest.approx(8 / 20) and out.loc["h2", "peer_error_origins"] == 0.0
    p = fisher_exact([[8, 12], [0, 40]], alternative="greater")[1]
    assert out.loc["h2", "error_p_value"] == pytest.approx(p)  # the only component with errors: Holm leaves it
    assert out.loc["h1", "error_p_value"] == 1.0
    # the share agrees with error_origins' own spans (one rule, one place), also on the simulator's deeper traces
    eo = tk.error_origins(spans, per_span=True)
    assert len(eo) == 8


def test_error_origin_shares_agree_with_error_origins():
    spans = tk.simulate.simulate("error-undersampling", 300, seed=2).spans
    out = tk.peer_outliers(spans)
    origin_ids = set(tk.error_origins(spans, per_span=True)["span_id"])
    host = pd.Series(tk.core.hosts(spans), index=spans.index)
    is_origin = spans["span_id"].isin(origin_ids)
    assert is_origin.any() and len(out)
    for r in out.itertuples():
        mine = (spans["service"] == r.service) & (host == r.host)
        assert r.error_origins == pytest.approx(is_origin[mine].mean())


def test_version_level_and_what_is_left_out():
    d = [float(x) for x in range(10, 30)]
    spans = _fleet({"h1": d, "h2": d, "h3": [x + 100 for x in d]})
    v = tk.peer_outliers(spans, level="version")
    assert v["version"].tolist()[0] == "2.0" and v["slower"].iloc[0] == 1.0 and v["peers"].iloc[0] == 1
    # a service with a single host has no row; an empty frame gives an empty typed table
    assert tk.peer_outliers(_fleet({"h1": d}, service="solo")).empty
    empty = tk.peer_outliers(spans.iloc[:0])
    assert empty.empty and list(empty.columns) == ["service", "host", *PEER_OUTLIERS.column_names]
    assert str(empty["p_value"].dtype) == "float64"
    # an operation with fewer than min_spans spans on a side is not compared
    few = tk.peer_outliers(spans, min_spans=21)
    assert few["operation"].isna().all() and (few["p_value"] == 1.0).all()
    with pytest.raises(tk.TraceKitError, match="level must be one of"):
        tk.peer_outliers(spans, level="pod")
    with pytest.raises(tk.TraceKitError, match="min_spans"):
        tk.peer_outliers(spans, min_spans=0)


@pytest.mark.slow  # 1.5 s in the fast lane (2 loaded cores, issue 28)
def test_bad_host_and_canary_found_in_the_simulated_incident():
    spans = tk.read(tk.examples.path("bad-host")) if "bad-host" in tk.examples.names() else \
        tk.simulate.simulate("bad-host", 400, seed=5).spans
    top = tk.peer_outliers(spans).iloc[0]
    assert (top["service"], top["host"], top["operation"]) == ("catalog", "catalog-3", "load product list")
    assert top["p_value"] < 1e-6 and top["slower"] > 0.95
    assert top["self_p50_ms"] > 10 * top["peer_self_p50_ms"]  # ~120 ms injected against ~4 ms
    ver = tk.peer_outliers(spans, level="version").iloc[0]
    assert (ver["service"], ver["version"], ver["operation"]) == ("catalog", "2.1.0-rc1", "load product list")


@pytest.mark.slow  # 25.6 s in the fast lane (2 loaded cores, issue 28)
def test_false_positive_rate_on_stationary_simulations():
    # hosts are exchangeable in the baseline scenario: at 1 % no component may stand out, bar chance
    flagged = 0
    for seed in range(40):
        out = tk.peer_outliers(tk.simulate.simulate("baseline", 300, seed=3000 + seed).spans)
        flagged += bool((out["p_value"] < 0.01).any() or (out["error_p_value"] < 0.01).any())
    assert flagged <= 2  # P(≥ 3 of 40 | 1 %) ≈ 0.8 %


@pytest.mark.slow  # 8.7 s in the fast lane (2 loaded cores, issue 28)
def test_the_postmortem_without_baseline_names_the_host_that_stands_out():
    spans = tk.simulate.simulate("bad-host", 400, seed=5).spans
    pm = tk.postmortem(spans)
    where = [f for f in pm.findings if f.topic == "where"]
    assert where[0].evidence["key"] == "catalog-3" and where[0].evidence["operation"] == "load product list"
    assert "catalog host catalog-3 stands out from its 3 peers" in where[0].text
    # the stationary hour: no host is said to stand out
    calm = tk.postmortem(tk.simulate.simulate("baseline", 400, seed=5).spans)
    assert not any("stands out" in f.text for f in calm.findings)
