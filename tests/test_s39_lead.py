"""Session 39, the lead's own fixes: words of the postmortem's "when" finding."""

from __future__ import annotations

import pandas as pd

from tracekit.investigate.postmortem import _p_above


def test_a_candidate_short_of_the_rate_says_its_p_and_the_rate_apart():
    """The candidate nearest to passing is said with its p and the rate it missed ("p = 0.02, above 0.01"); where
    two digits would print the rate itself (0.0102 -> "0.01, above 0.01") a third digit is given."""
    none = pd.DataFrame()
    assert _p_above(0.02, 0.01, none) == "p = 0.02"
    assert _p_above(0.0102, 0.01, none) == "p = 0.0102"
    assert _p_above(0.0149, 0.01, none) == "p = 0.015"
    assert _p_above(0.051, 0.05, none) == "p = 0.051"
