"""The Nezha fault days in ../shared/real-traces/nezha/fault-days, read for tests as benchmarks/bench_rank_causes.py
reads them (one reader: the benchmark's, loaded from its file). Tests that use them skip with the reason where the
folder is absent."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from .conftest import REPO


@functools.cache
def bench():
    """benchmarks/bench_rank_causes.py as a module (loaded once per process)."""
    spec = importlib.util.spec_from_file_location("bench_rank_causes", REPO / "benchmarks" / "bench_rank_causes.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def nezha_window(real_traces: Path, day: str, at: str, *, logs: bool, metrics: bool = True):
    """A Nezha fault window as benchmarks/bench_rank_causes.py cuts it (incident: 2 min from the injection; baseline:
    the 10 minutes before, widened to 30 with fewer than 50 traces; with logs, the fault-free data beside it and the
    logs of the incident's minutes and of the fault-free minute), read from the minute files around it only; and the
    day's metrics (None with ``metrics=False``). The fault list is not read."""
    nezha = real_traces / "nezha" / "fault-days"
    folder = nezha / "rca_data" / day
    if not folder.is_dir() or (logs and not (folder / "log").is_dir()):
        pytest.skip(f"Nezha fault day {day}{' with logs' if logs else ''} not found under {nezha} (see SOURCES.md)")
    b = bench()
    t0 = pd.Timestamp(f"{day} {at}", tz="UTC")
    minutes = pd.date_range(t0.floor("1min") - pd.Timedelta("31min"), t0 + pd.Timedelta("3min"), freq="1min")
    files = [str(f) for m in minutes if (f := folder / "trace" / f"{m:%H_%M}_trace.csv.gz").exists()]
    inc, base = b.Windows(b.read_nezha_csvs(files)).at(t0)
    records = None
    if logs:
        ff = nezha / "construct_data" / day
        base = pd.concat([base, b.read_nezha_csvs([str(p) for p in sorted(ff.glob("trace/*_trace.csv.gz"))])],
                         ignore_index=True)
        mine = [f for m in pd.date_range(t0.floor("1min"), t0 + pd.Timedelta("2min"), freq="1min")
                if (f := folder / "log" / f"{m:%H_%M}_log.csv.gz").exists()]
        records = b.read_nezha_logs(mine + sorted(ff.glob("log/*_log.csv.gz")))
    return inc, base, records, b.read_nezha_metrics(day) if metrics else None
