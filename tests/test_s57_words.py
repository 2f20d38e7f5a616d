"""Session 57: what the analyses say about themselves (the analyses helper's weaker points of session 55).

- every bad ``weights`` / ``rate`` / ``by`` names the public function it was given to, and no numpy repr;
- ``workflow_critical_path`` says which workflows' paths start after the workflow does (a batch fed last by a later
  request), by how many ms, so a path short of ``end_to_end_ms`` is not read as a tiling error;
- ``in_progress="extend"`` with ``surrounding="drop"``: a span still running that started before its parent is a
  surrounding child (the documented combination, pinned; a control: it held before the docs said it).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tracekit as tk

DATA = Path(__file__).resolve().parents[1] / "datasets"


@pytest.fixture(scope="module")
def incident() -> pd.DataFrame:
    return tk.read(DATA / "checkout-incident")


@pytest.mark.parametrize("call, func", [
    (lambda s: tk.weighted_summary(s, -1), "weighted_summary"),
    (lambda s: tk.weighted_summary(s, 1, by="nope"), "weighted_summary"),
    (lambda s: tk.weighted_summary(s, "x"), "weighted_summary"),
    (lambda s: tk.detect_clock_skew(s, by="pod"), "detect_clock_skew"),
    (lambda s: tk.sampling_weights(s, rate=0), "sampling_weights"),
    (lambda s: tk.sampling_weights(s, rate=2.5), "sampling_weights"),
    (lambda s: tk.sampling_weights(s, rate="x"), "sampling_weights"),
    (lambda s: tk.sampling_weights(s, rate={"a": 0.5}), "sampling_weights"),
    (lambda s: tk.sampling_bias(s, weights=0.3), "sampling_bias"),
    (lambda s: tk.timeline(s, weights="x"), "timeline"),
    (lambda s: tk.rank_causes(s, s, weights=-2), "rank_causes"),
    (lambda s: tk.postmortem(s, s, weights=0.5), "postmortem"),
])
def test_a_bad_argument_names_the_function_it_was_given_to(incident, call, func):
    with pytest.raises(tk.ArgumentError) as e:
        call(incident)
    msg = str(e.value)
    assert msg.startswith(f"{func}: "), msg
    assert "np.float64" not in msg and "not a column of weighted_summary" not in msg, msg


def test_a_probability_given_for_a_weight_says_the_weight_to_pass(incident):
    with pytest.raises(tk.ArgumentError, match=r"^postmortem: weights: .*got 0\.5: for a 50% sample pass 2$"):
        tk.postmortem(incident, incident, weights=0.5)


MS = 1_000_000


def _batch(starts_ms: list[int], consumer_at: int) -> pd.DataFrame:
    """Requests starting at ``starts_ms`` (10 ms each, a producer 5..10 ms into each), and one batch consumer at
    ``consumer_at`` ms linking to every producer."""
    tids = [f"{i + 1:032x}" for i in range(len(starts_ms))]
    rows = {"trace_id": [], "span_id": [], "parent_id": [], "service": [], "name": [], "kind": [], "start": [],
            "end": [], "links": []}
    links = []
    for i, (t, s) in enumerate(zip(tids, starts_ms, strict=True)):
        root, prod = f"{2 * i + 1:016x}", f"{2 * i + 2:016x}"
        for sid, pid, name, kind, a, b in [(root, None, "POST /order", "server", s, s + 10),
                                           (prod, root, "jobs publish", "producer", s + 5, s + 10)]:
            rows["trace_id"].append(t), rows["span_id"].append(sid), rows["parent_id"].append(pid)
            rows["service"].append("api"), rows["name"].append(name), rows["kind"].append(kind)
            rows["start"].append(a * MS), rows["end"].append(b * MS), rows["links"].append([])
        links.append({"trace_id": t, "span_id": prod, "trace_state": None, "flags": None, "attributes": {}})
    rows["trace_id"].append("f" * 32), rows["span_id"].append("f" * 16), rows["parent_id"].append(None)
    rows["service"].append("worker"), rows["name"].append("jobs process"), rows["kind"].append("consumer")
    rows["start"].append(consumer_at * MS), rows["end"].append((consumer_at + 30) * MS), rows["links"].append(links)
    return tk.spans_from_columns(rows)


@pytest.mark.parametrize("starts, late", [([0, 100, 200], 200.0), ([0], None), ([50, 0], 50.0), ([0, 0], None)])
def test_a_workflow_path_starting_after_its_workflow_says_by_how_much(starts, late):
    spans = _batch(starts, consumer_at=max(starts) + 40)
    cp = tk.workflow_critical_path(spans)
    ws = tk.workflow_summary(spans).set_index("workflow_id")
    total = cp.groupby("workflow_id")["duration_ms"].sum()
    (wid,) = total.index.tolist()
    gap = ws.loc[wid, "end_to_end_ms"] - total[wid]
    if late is None:
        assert cp.attrs["late_start_ms"] == {} and gap == 0
    else:
        assert cp.attrs["late_start_ms"] == {wid: late} and gap == late
    # the same through critical_path(across_links=True), which is this walk
    assert tk.critical_path(spans, across_links=True).attrs["late_start_ms"] == cp.attrs["late_start_ms"]


def test_random_batches_say_the_late_start_of_their_path():
    """Truth by construction: the path follows the producer that ended last, the request that started last."""
    rng = np.random.default_rng(57)
    for _ in range(40):
        k = int(rng.integers(1, 6))
        starts = rng.choice(np.arange(0, 500, 7), size=k, replace=False).tolist()
        cp = tk.workflow_critical_path(_batch(starts, consumer_at=max(starts) + int(rng.integers(10, 90))))
        late = max(starts) - min(starts)
        assert list(cp.attrs["late_start_ms"].values()) == ([float(late)] if late else []), starts


def test_every_simulated_workflow_path_late_or_whole_adds_up():
    """No workflow of the simulator is fed late (its path adds up to end_to_end_ms), and none is flagged."""
    for seed in range(6):
        spans = tk.simulate.simulate("async-links", n_traces=40, seed=seed).spans
        cp = tk.workflow_critical_path(spans)
        ws = tk.workflow_summary(spans).set_index("workflow_id")
        total = cp.groupby("workflow_id")["duration_ms"].sum()
        late = pd.Series(cp.attrs["late_start_ms"], dtype=float).reindex(total.index).fillna(0.0)
        short = ws["end_to_end_ms"].reindex(total.index) - total
        assert ((short - late).abs() < 1e-6).all(), (seed, (short - late).abs().max())
        assert cp.attrs["late_start_ms"] == {}


def test_an_in_progress_span_starting_before_its_parent_is_a_surrounding_child():
    """Control (held before; now documented): still running, it has not ended before its parent did."""
    t0 = pd.Timestamp("2026-01-01", tz="UTC")
    ms = pd.Timedelta(1, "ms")
    spans = tk.spans_from_columns({
        "trace_id": ["1" * 32] * 4, "span_id": [f"{i + 1:016x}" for i in range(4)],
        "parent_id": [None, f"{1:016x}", f"{2:016x}", f"{2:016x}"], "service": ["a", "b", "c", "d"],
        "name": ["r", "p", "c", "d"], "start": [t0, t0 + 10 * ms, t0 + 5 * ms, t0 + 20 * ms],
        "end": [t0 + 100 * ms, t0 + 60 * ms, None, t0 + 30 * ms]})
    clamp = tk.critical_path(spans)
    drop = tk.critical_path(spans, surrounding="drop")
    assert clamp["service"].tolist() == ["a", "c", "a"]  # c, cut to its parent's 10..60 ms
    assert drop["service"].tolist() == ["a", "b", "d", "b", "a"]  # c dropped as surrounding
    doc = tk.critical_path.__doc__
    assert "surrounding child, dropped under ``surrounding=\"drop\"``" in doc.replace("\n        ", " ")
