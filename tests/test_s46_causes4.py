"""Session 46 (causes4): the ranked cause when the incident's spans hold no request roots.

Spans cut from the middle of traces (no root span in any incident trace) against a whole baseline: the baseline is
set aside as not comparable (tracekit/analysis/baseline_check.py, root-share check), so no cause is ranked, although
the same baseline with its own root spans dropped ranks the injected service first. Ground truth is the fault lab's
injected service.
"""
from __future__ import annotations

import warnings

import tracekit as tk
from tracekit.simulate_faults import fault_window


def _where(pm: tk.Postmortem) -> str:
    return next(f.text for f in pm.findings if f.topic == "where")


def _rootless(kind: str, seed: int):
    w = fault_window(kind, seed=seed)
    return w, w.incident[w.incident.parent_id.notna()]


def test_rootless_incident_with_children_only_baseline_names_injected_service() -> None:
    """Control (passes on old and new code): comparing child spans with child spans finds the injected service."""
    w, inc = _rootless("network_delay", 0)
    base = w.baseline[w.baseline.parent_id.notna()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = _where(tk.postmortem(inc, base))
    assert text.startswith("Likely cause")
    assert f"{w.truth.service}:" in text


def test_rootless_incident_with_whole_baseline_names_injected_service() -> None:
    """The whole baseline holds the same child spans; dropping its roots is not left to the user: the postmortem
    compares on the spans below the roots and says so first (it set the baseline aside and ranked nothing)."""
    w, inc = _rootless("network_delay", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm = tk.postmortem(inc, w.baseline)
    text = _where(pm)
    said = next(f.text for f in pm.findings if f.topic == "baseline")
    assert said.startswith("None of the 120 traces of these spans holds its root span") and "300 root spans" in said
    assert text.startswith("Likely cause")
    assert f"{w.truth.service}:" in text
