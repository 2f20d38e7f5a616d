"""The postmortem's findings as an SRE reads them (review s36, area "report"): the peer check said beside the ranking
when a baseline is given; peer_outliers' order (most unlike its peers first, by time or by errors); the words of a
ranking led by errors that originate in a caller.

Every frame is built here with its truth known by construction (single-span requests on hosts whose times and
failures are set), or is a fault-lab window whose truth the lab records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact, mannwhitneyu

import tracekit as tk


def _fleet(durations: dict[str, list[float]], failed: dict[str, int] | None = None, service: str = "api",
           t0: int = 0, first_id: int = 0) -> pd.DataFrame:
    """Single-span requests of one operation of ``service``, ``durations[host]`` ms each, one a second from ``t0``
    seconds after 2026-03-02 14:00 UTC, the hosts taking turns (no host's spans bunched in time); ``failed[host]``
    of a host's spans fail, spread evenly over them (no burst of failures in time)."""
    rows = [(h, d, (i * (failed or {}).get(h, 0)) % len(ds) < (failed or {}).get(h, 0), i)
            for h, ds in durations.items() for i, d in enumerate(ds)]
    rows.sort(key=lambda r: r[3])  # round robin over the hosts
    n = len(rows)
    ids = range(first_id + 1, first_id + n + 1)
    t = pd.Timestamp("2026-03-02 14:00", tz="UTC") + pd.Timedelta(seconds=t0)
    start = [t + pd.Timedelta(seconds=i) for i in range(n)]
    return tk.spans_from_columns({
        "trace_id": [f"{i:032x}" for i in ids], "span_id": [f"{i:016x}" for i in ids],
        "parent_id": [None] * n, "service": [service] * n, "name": ["GET /items"] * n, "kind": ["server"] * n,
        "start": start, "end": [s + pd.Timedelta(milliseconds=d) for s, (_, d, _, _) in zip(start, rows, strict=True)],
        "status": ["error" if f else "ok" for _, _, f, _ in rows],
        "resource": [{"host.name": h} for h, _, _, _ in rows]})


def _alike(rng: np.random.Generator, n: int = 30) -> list[float]:
    return list(np.round(rng.uniform(10, 20, n), 3))


# ---- 2. peer_outliers: most unlike its peers first ---------------------------------------------------------------
def test_a_host_unlike_its_peers_only_by_its_errors_is_listed_by_its_error_p_value():
    """Fault lab exception seed 1: the injected pod (35 % of its spans failing, its peers' none: error_p_value 2.7e-08)
    was listed 11th, below hosts with p_value 1 — the table was sorted by the timing p-value alone. Built: service
    ``db``'s host d2 fails 20 of its 30 spans, its peers none (Fisher p ~1e-10 by construction), and is like them in
    time; service ``api``'s host h3 is somewhat slower (every span 0.5 ms above its own draw, a Mann-Whitney p far
    above the Fisher one) — d2 first, then h3, then the rest by the smaller of the two p-values."""
    rng = np.random.default_rng(11)
    api = _fleet({"h1": _alike(rng), "h2": _alike(rng), "h3": [x + 3.0 for x in _alike(rng)]})
    db = _fleet({"d1": _alike(rng), "d2": _alike(rng), "d3": _alike(rng)}, failed={"d2": 20}, service="db",
                t0=1000, first_id=1000)
    out = tk.peer_outliers(pd.concat([api, db], ignore_index=True))
    key = np.fmin(out["p_value"].to_numpy(), out["error_p_value"].to_numpy())
    assert (np.diff(key) >= 0).all(), out[["host", "p_value", "error_p_value"]]
    assert out["host"].iloc[0] == "d2" and out["error_p_value"].iloc[0] < 1e-6
    assert out["p_value"].iloc[0] > 0.01  # like its peers in time: first only by its errors
    p_err = fisher_exact([[20, 10], [0, 60]], alternative="greater")[1]
    assert out["error_p_value"].iloc[0] == pytest.approx(p_err)  # the only component with errors: no Holm factor
    h3 = out.set_index("host").loc["h3"]
    assert h3["p_value"] > out["error_p_value"].iloc[0]  # so h3 is below d2 by construction
    assert out["host"].iloc[1] == "h3"
    # where no span records a status the error p-values are unknown (NaN): the order is the timing p-value's
    blind = tk.peer_outliers(pd.concat([api, db], ignore_index=True).assign(status="unset"))
    assert blind["error_p_value"].isna().all() and blind["host"].iloc[0] == "h3"
    assert (np.diff(blind["p_value"].to_numpy()) >= 0).all()


# ---- 1. the peer check with a baseline ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fleet_incident():
    """Incident: h3 of three api hosts slower on every span (above every peer span by construction); baselines: the
    three alike, and h3 as slow already."""
    rng = np.random.default_rng(5)
    slow = list(np.round(rng.uniform(40, 60, 30), 3))
    inc = _fleet({"h1": _alike(rng), "h2": _alike(rng), "h3": slow}, t0=10_000, first_id=10_000)
    calm = _fleet({"h1": _alike(rng), "h2": _alike(rng), "h3": _alike(rng)})
    already = _fleet({"h1": _alike(rng), "h2": _alike(rng), "h3": list(np.round(rng.uniform(40, 60, 30), 3))},
                     first_id=5000)
    return inc, calm, already, slow


def _peer(pm) -> list:
    return [f for f in pm.findings if f.topic == "where" and f.evidence.get("peer")]


def test_with_a_baseline_the_host_unlike_its_peers_is_still_said(fleet_incident):
    """Fault lab cpu_consumed seed 2: without a baseline the report named the injected pod through the peer check;
    with one it said only "No operation stands out clearly beyond chance" and nothing of the peer check. Built: h3's
    every span is slower than every peer span in the incident, the three hosts alike in the baseline."""
    inc, calm, _, slow = fleet_incident
    before = inc.copy(deep=True)
    pm = tk.postmortem(inc, calm, n_boot=20)
    pd.testing.assert_frame_equal(inc, before)
    said = _peer(pm)
    assert len(said) == 1, pm.sentences("where")
    f = said[0]
    assert f.evidence["key"] == "h3" and f.evidence["by_time"] and f.evidence["in_baseline"] is False
    assert "api host h3 stands out from its 2 peers" in f.text
    # peer_outliers' p50, core.percentile's (an observed time), as the words quote it: np.median's linear figure before
    p50 = float(np.quantile(slow, 0.5, method="inverted_cdf"))
    assert f"take {tk.investigate.postmortem.fmt_ms(p50)} (median exclusive time)" in f.text
    assert "slower than a peer's in 100% of pairs" in f.text
    assert "In the baseline it was like them" in f.text and "new in the incident" in f.text
    # said right after the ranking's finding, which it does not change
    where = [g for g in pm.findings if g.topic == "where"]
    assert where.index(f) == 1 and "likely" in where[0].evidence
    peers = [float(x) for x in inc.loc[inc["resource"].map(lambda r: r["host.name"] != "h3"), "duration_ms"]]
    p = mannwhitneyu(slow, peers, alternative="greater", method="asymptotic", use_continuity=False).pvalue
    assert f.evidence["p_value"] == pytest.approx(min(1.0, 3 * p), rel=1e-9)


def test_a_host_as_unlike_its_peers_in_the_baseline_is_said_to_be_no_change(fleet_incident):
    inc, _, already, _ = fleet_incident
    f = _peer(tk.postmortem(inc, already, n_boot=20))
    assert len(f) == 1 and f[0].evidence["in_baseline"] is True
    assert "It was so in the baseline too" in f[0].text and "not a change" in f[0].text


def test_a_host_unlike_its_peers_by_its_errors_is_said_with_its_shares():
    """A host whose spans fail (10 of 30) where its peers' never do, like them in time: a peer finding by its errors,
    its shares and Fisher p-value said (no baseline, and with a baseline where it did not fail)."""
    rng = np.random.default_rng(8)
    durations = {"h1": _alike(rng), "h2": _alike(rng), "h3": _alike(rng)}
    inc = _fleet(durations, failed={"h3": 10}, t0=10_000, first_id=10_000)
    base = _fleet({h: _alike(rng) for h in durations})
    p = fisher_exact([[10, 20], [0, 60]], alternative="greater")[1]
    for pm in (tk.postmortem(inc), tk.postmortem(inc, base, n_boot=20)):
        f = [g for g in pm.findings if g.topic == "where" and g.evidence.get("key") == "h3"]
        assert len(f) == 1, pm.sentences("where")
        assert f[0].evidence["by_errors"] and not f[0].evidence["by_time"]
        assert f[0].evidence["error_p_value"] == pytest.approx(p)
        # with the counts and their populations (session 52: the shares alone were said)
        assert ("a failure originates in 10 of its 30 spans (33%) of known outcome against 0 of its peers' 60 spans "
                "(0%)") in f[0].text, f[0].text
        # its example: the trace of its first failure (single-span traces: h3's span, failed), not an empty tuple
        first = inc[(inc["status"] == "error").to_numpy()].sort_values("start")["trace_id"].iloc[0]
        assert f[0].trace_ids == (first,)


def test_the_fault_lab_pod_is_named_with_a_baseline(lab):
    """The reported window itself (fault lab cpu_consumed seed 2): with its baseline the injected pod is named by the
    peer check, said to be new against the baseline."""
    w = lab("cpu_consumed", 2)
    pm = tk.postmortem(w.incident, w.baseline, n_boot=50)
    f = _peer(pm)
    assert len(f) == 1 and f[0].evidence["key"] == w.truth.pod, pm.sentences("where")
    assert f[0].evidence["in_baseline"] is False


# ---- 4. a wrong answer: the caller raises, the callee's spans show nothing ----------------------------------------
def test_the_callee_whose_answers_the_top_acted_on_is_named_where_the_cause_is(lab):
    """Fault lab return seed 7: voucher-service answers wrongly, its caller rebook-service raises. The finding led
    "Likely cause …: rebook-service: GET /api/v1/rebook/list — errors originate in it (62 of its 72 spans …)" and said
    "Or what voucher-service answered it" only after the caller's evidence, hundreds of characters on. The alternative
    is now part of the name, before the evidence (the lab's truth: voucher-service injected, rebook-service its
    caller)."""
    w = lab("return", 7)
    pm = tk.postmortem(w.incident, w.baseline, n_boot=50)
    f = next(f for f in pm.findings if f.topic == "where" and "likely" in f.evidence)
    callee = w.truth.service
    assert f.evidence["answered_by"] == callee and pm.causes["service"].iloc[0] != callee
    lead = f.text.split(" — ")[0]
    assert lead.endswith(f"(or a wrong answer from {callee} that it acted on: see below)"), lead
    assert f"Or what {callee} answered it: " in f.text  # the counts, as before


@pytest.fixture(scope="module")
def lab():
    from .conftest import lab_window

    return lab_window


# ---- 3. a baseline too small for the incident: how many traces would do -------------------------------------------
def test_a_baseline_too_small_says_how_many_traces_would_be_enough():
    """Nezha with its fault-free minute (52-71 traces) as the baseline of a long window: "too small for a conclusion"
    was said with nothing the reader could do about it. The count it says is the rule's own: a baseline of that many
    traces is not too small, one fewer is (truth: the rule applied to frames of those counts)."""
    import re

    from tracekit.analysis.baseline_check import baseline_too_small

    ids = pd.DataFrame({"trace_id": [f"{i:032x}" for i in range(1, 1001)]})
    for n_inc in (40, 200, 811, 1000):
        inc = ids.iloc[:n_inc]
        said = baseline_too_small(inc, ids.iloc[:10])
        m = re.search(r"A baseline of ([\d,]+) traces or more would be enough", said)
        assert m, said
        need = int(m.group(1).replace(",", ""))
        assert baseline_too_small(inc, ids.iloc[:need]) == ""
        assert baseline_too_small(inc, ids.iloc[:need - 1]) != ""
