"""The postmortem's "where": the ranked cause against its chance level (session 45, area causes3).

The chance level is the top score of rank_causes between two parts of the baseline (tk.chance_score). A top's score
is a sum over kinds of evidence that chance moves very differently: a normal period's error origins are few, while a
few calls of a small operation above their pair's p95 make a waiting share of 0.25. Held against every kind's top, an
exception's error origins were held against another component's waiting noise."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tracekit as tk
from tracekit.simulate_faults import fault_window


def _where(pm) -> tuple[str, dict]:
    f = next(f for f in pm.findings if f.topic == "where" and "key" in f.evidence)
    return f.text, f.evidence


def _origin_counts(spans, service: str) -> tuple[int, int]:
    """Failed spans with no failed child (where an error originates), counted by hand: in ``service``, in all."""
    failed = spans["status"].astype(str).eq("error").to_numpy()
    failed_ids = set(zip(spans["trace_id"][failed], spans["span_id"][failed], strict=True))
    has_failed_child = {(t, p) for t, p, f in zip(spans["trace_id"], spans["parent_id"], failed, strict=True) if f}
    origin = np.array([f and (t, s) not in has_failed_child
                       for t, s, f in zip(spans["trace_id"], spans["span_id"], failed, strict=True)])
    assert origin.sum() <= len(failed_ids)
    return int((origin & spans["service"].astype(str).eq(service).to_numpy()).sum()), int(origin.sum())


@pytest.mark.slow  # ~5 s
def test_an_exception_with_most_error_origins_in_one_service_is_a_likely_cause():
    """Fault lab, exception in order-service (seed 4): the error rate 0.7 % -> 15 %, nearly every error origin in the
    injected operation, none there in the baseline. Before: "No operation stands out clearly beyond chance: the top
    score, 0.35, is less than 1.5 times 0.27" — 0.27 being rate-service's *waiting* between parts of the baseline
    (9 of its 19 calls above the p95 of 22), while error origins score 0.015 there. The errors are held against what
    errors score on chance."""
    w = fault_window("exception", seed=4)
    inc, base = w.incident, w.baseline
    mine, every = _origin_counts(inc, w.truth.service)
    assert every >= 10 and mine / every >= 0.8, (mine, every)  # the ground truth: the errors start there
    assert _origin_counts(base, w.truth.service)[0] == 0
    pm = tk.postmortem(inc, base)
    text, ev = _where(pm)
    assert ev["key"].split(": ")[0] == w.truth.service
    assert ev["likely"] is True and ev["beyond_null"] is True, text
    assert text.startswith("Likely cause"), text
    assert ev["own_evidence"] == ["errors"] and ev["beyond_null_own"] is True
    assert ev["null_own_score"] < ev["null_score"]
    assert "errors evidence alone" in text and f"{ev['null_score']:.2f}" in text


@pytest.mark.slow  # ~3 s a window
@pytest.mark.parametrize("seed", [1, 6, 12, 27])
def test_null_windows_name_no_likely_cause(seed):
    """Control (passes before and after): nothing injected. Seeds 6 and 12 are the null windows whose top's own
    evidence stood furthest above its kinds' chance level (slower 0.197 against 0.096; shape 0.108 against 0.026):
    neither is a likely cause."""
    w = fault_window("null", seed=seed)
    pm = tk.postmortem(w.incident, w.baseline)
    text, ev = _where(pm)
    assert ev["likely"] is False, text
    assert not text.startswith("Likely cause"), text


def test_chance_score_of_some_kinds_of_evidence_is_their_top_sum_between_the_parts():
    """tk.chance_score(evidence=[...]): each block's score is the top of those columns' sum in rank_causes between
    the block and the rest (computed here from the full ranking), ``top`` its component, ``top_score`` the ranking's
    own top score."""
    base = tk.simulate.simulate("baseline", 240, seed=5).spans
    kinds = ["slower", "errors"]
    cs = tk.chance_score(base, 60, evidence=kinds)
    every = tk.chance_score(base, 60)
    assert cs["block"].tolist() == ["last", "first"]
    first = base.groupby("trace_id")["start"].min().sort_values(kind="stable")
    for i, at in enumerate([len(first) - 60, 0]):
        inside = base["trace_id"].isin(first.index[at:at + 60])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rr = tk.rank_causes(base[inside], base[~inside], window=None, n_boot=1, lift_rows=0)
        s = rr[kinds].sum(axis=1)
        assert cs["score"].iloc[i] == pytest.approx(float(s.max()))
        assert cs["top"].iloc[i] == rr["service"].iloc[int(np.argmax(s.to_numpy()))]
        assert cs["top_score"].iloc[i] == pytest.approx(float(rr["score"].iloc[0]))
    assert cs["top_score"].tolist() == pytest.approx(every["score"].tolist())
    assert (every["score"] == every["top_score"]).all()


@pytest.mark.parametrize("bad", ["errors", ["errors", "nonsense"], [1]])
def test_chance_score_evidence_names_a_score_column(bad):
    base = tk.simulate.simulate("baseline", 60, seed=5).spans
    with pytest.raises(tk.ArgumentError, match="chance_score: evidence"):
        tk.chance_score(base, 20, evidence=bad)


@pytest.mark.slow  # ~4 s
def test_own_evidence_is_what_the_score_keeps_after_answers_moved_away():
    """Fault lab, return in coupon-service (seed 18): wallet-service's waiting and extra sum 0.43, but 0.13 of its
    changed course moved to coupon-service's host (answers −0.13): its score is 0.30. Its own evidence is what its
    score keeps (never more than the score), and it is no likely cause (0.30 against 0.17 on the same kinds is not
    CLEAR_MARGIN_OWN above). Control for the call (the old code did not make it either)."""
    w = fault_window("return", seed=18)
    pm = tk.postmortem(w.incident, w.baseline)
    text, ev = _where(pm)
    rc = tk.rank_causes(w.incident, w.baseline, level="operation", window=None, n_boot=1, lift_rows=0)
    top = rc.iloc[0]
    assert top["answers"] < 0  # the precondition: some of its evidence moved away
    if "own_score" in ev:
        assert ev["own_score"] <= ev["score"] + 1e-9
    assert ev["likely"] is False, text
