"""The suite's own upkeep (session 50): the longest-first order names files that exist, and the fault lab's signals
built without checking their own spans again equal the checked public builders'."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tracekit.schema import SpansSchemaError

from .conftest import LONGEST_FILES, _longest_first

ROOT = Path(__file__).resolve().parents[1]


def test_every_file_in_the_longest_first_order_exists():
    """A renamed or removed file would silently lose its place at the head of the run (its seconds handed out late)."""
    names = {p.name for d in ("tests", "tracekit", "notebooks") for p in (ROOT / d).rglob("*")
             if p.suffix in (".py", ".ipynb")}
    missing = sorted(set(LONGEST_FILES) - names)
    assert not missing, f"LONGEST_FILES names files not in the repository: {missing}"
    assert list(LONGEST_FILES.values()) == sorted(LONGEST_FILES.values(), reverse=True)


def test_longest_first_keeps_each_files_items_in_order_and_puts_the_longest_first():
    class Item:  # what _longest_first reads of a pytest item
        def __init__(self, path: str, name: str) -> None:
            self.path, self.name = Path(path), name

    heavy, light, many = "tests/test_simulate_faults.py", "tests/test_zz_light.py", "tests/test_zz_many.py"
    items = [Item(light, "a"), Item(many, "a"), Item(heavy, "a"), Item(many, "b"), Item(heavy, "b"), Item(many, "c")]
    got = [(str(i.path), i.name) for i in _longest_first(items)]
    assert got == [(heavy, "a"), (heavy, "b"), (many, "a"), (many, "b"), (many, "c"), (light, "a")]


def test_the_fault_labs_unchecked_signals_equal_the_checked_builders():
    """fault_window builds its logs and metrics with check=False (its spans were checked when built); on the same
    spans the checking builders give equal frames, and check=False still names a missing column."""
    import tracekit.simulate_signals as ss
    from tracekit.simulate_faults import fault_window

    w = fault_window("cpu_contention", 3)
    spans = pd.concat([w.baseline, w.incident], ignore_index=True)
    pd.testing.assert_frame_equal(ss.app_metrics(spans, seed=3), ss.app_metrics(spans, seed=3, check=False))
    pd.testing.assert_frame_equal(ss.app_logs(spans, seed=3), ss.app_logs(spans, seed=3, check=False))
    with pytest.raises(SpansSchemaError, match="kind"):
        ss.app_logs(spans.drop(columns="kind"), check=False)
    bad = spans.assign(trace_id=spans["trace_id"].astype(object).where(spans.index != 5, "not an id"))
    with pytest.raises(SpansSchemaError, match="trace_id"):  # checked by default
        ss.app_metrics(bad)
