"""Counts and shares in words (tracekit.core.words): one rule for percentages in every sentence, so a part is never
written as nothing ("0%") or as the whole ("100%")."""

from __future__ import annotations

import numpy as np
import pytest

import tracekit as tk
from tracekit.core.words import percent


@pytest.mark.parametrize("digits", [0, 1, 2])
def test_percent_never_rounds_a_part_to_nothing_or_to_the_whole(digits):
    rng = np.random.default_rng(digits)
    den = rng.integers(1, 1_000_000, 4000)
    num = rng.integers(0, den + 1)
    num[:500] = 1  # tiny shares
    num[500:1000] = den[500:1000] - 1  # nearly whole ones
    for k, n in zip(num.tolist(), den.tolist(), strict=True):
        text = percent(k / n, digits)
        number = float(text.lstrip("<>").rstrip("%"))
        if 0 < k < n:
            assert 0 < number < 100, (k, n, text)
        else:
            assert number == 100 * k / n and text[0].isdigit(), (k, n, text)
        if text[0] not in "<>":  # a plain figure is the share rounded
            assert abs(number - 100 * k / n) <= 0.5 * 10.0 ** -digits + 1e-9, (k, n, text)


def test_percent_words_outside_shares():
    assert percent(None) == percent(float("nan")) == "n/a"
    assert percent(1.643, 1) == "164.3%" and percent(-0.25) == "-25%"
    assert percent(0.0004, 1, unit=" %") == "<0.1 %" and percent(0.99996, 2) == ">99.99%"


def test_a_health_warning_in_one_trace_of_two_thousand_is_not_zero_percent():
    spans = tk.simulate.simulate("baseline", 2000, seed=1).spans
    i = spans.index[spans["parent_id"].notna()][5]
    spans.loc[i, "parent_id"] = "deadbeefdeadbeef"  # one orphan span: one trace of 2,000
    text = [f.text for f in tk.postmortem(spans).findings if f.text.startswith("Trace health")]
    assert text == ["Trace health: 1 warning limits trust — orphan spans in 1 of the 2,000 traces (<1%)."]
