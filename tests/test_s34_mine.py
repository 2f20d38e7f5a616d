"""Session 34, the lead's own fixes from the last note's list (each test failed before its fix)."""

from __future__ import annotations

import warnings

import pytest

import tracekit as tk


@pytest.fixture(scope="module")
def small():
    return tk.examples.load("checkout-small")


@pytest.mark.parametrize("bad", [95, 1.5, -0.1, "x", None, float("nan"), True])
def test_exemplars_q_out_of_range_is_an_argument_error_naming_q(small, bad):
    """exemplars(quantile=95) said 'percentile: q must be within [0, 1]' (a private helper's name) and 'x' raised
    a bare ValueError; the argument is now ``q``, as in rank_causes and metric_evidence, checked by name."""
    with pytest.raises(tk.ArgumentError, match=r"^exemplars: q must be"):
        tk.exemplars(small, small, q=bad)


def test_exemplars_old_quantile_keyword_warns_and_picks_the_same_trace(small):
    with pytest.warns(DeprecationWarning, match="quantile= is deprecated, use q="):
        old = tk.exemplars(small, small, quantile=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        new = tk.exemplars(small, small, q=0.5)
    assert old.incident_trace_id == new.incident_trace_id
    # q picks the request nearest that quantile of its kind's request latency: the median and the slowest differ
    top = tk.exemplars(small, small, q=1.0)
    assert top.request_ms[0] > new.request_ms[0]
