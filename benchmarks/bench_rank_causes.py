"""Score rank_causes on the real Nezha fault-injection days, and time it against reading the traces.

    python benchmarks/bench_rank_causes.py           # both Nezha days + 20,000 + 20,000 simulated traces
    python benchmarks/bench_rank_causes.py --quick   # both Nezha days + 2,000 + 2,000 simulated traces
    python benchmarks/bench_rank_causes.py --no-speed

**Accuracy.** The two fault days in ``../shared/real-traces/nezha/fault-days/`` (Nezha, ESEC/FSE 2023:
OnlineBoutique 2022-08-22, TrainTicket 2023-01-29; see SOURCES.md) are read with
:func:`tracekit.spans_from_columns` (service = the pod name without its last two dash-separated
parts; the pod goes to the resource as ``k8s.pod.name``; roots have ParentID ``root``; times from
StartTimeUnixNano / EndTimeUnixNano). For each fault, from the injection time alone
(``inject_time`` read as UTC, as SOURCES.md says): the **incident** is the traces whose request
started in the :data:`INCIDENT` after it, the **baseline** the traces that started in the
:data:`BASELINE` before it (widened to :data:`BASELINE_WIDE` when it holds fewer than 50 traces).
``rank_causes(incident, baseline, level="service")`` ranks the services; only then is the fault's
pod read, to score: AC@k = share of faults whose service is in the top k, Avg@5 = mean of AC@1..5.
Faults with no trace in the incident or baseline window are counted apart (the days hold traces
around most injections only). The paper's Table 3 (service level, over both days of each system)
is printed beside.

**Speed.** ``simulate("db-lock", n)`` twice (incident and baseline), written as OTLP JSON lines and
read back with :func:`tracekit.read`; ``rank_causes`` timed on the frames read, in the same process,
one after the other. Prints the ratio (target ≤ 2).
"""

from __future__ import annotations

import argparse
import gc
import glob
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import tracekit as tk

NEZHA = Path(__file__).resolve().parents[2] / "shared" / "real-traces" / "nezha" / "fault-days"
DAYS = {"OnlineBoutique": "2022-08-22", "TrainTicket": "2023-01-29"}
INCIDENT = pd.Timedelta("2min")
BASELINE = pd.Timedelta("10min")
BASELINE_WIDE = pd.Timedelta("30min")
#: Nezha paper, Table 3, service level, AC@1 / AC@3 / AC@5 in % (both days of each system)
PAPER = {
    "OnlineBoutique": {"MicroRank": (41.07, 48.21, 62.5), "TraceAnomaly": (30.35, 33.92, 48.21),
                       "PDiagnose": (41.07, 73.21, 82.14), "Nezha (metrics+logs+traces)": (92.86, 96.43, 96.43)},
    "TrainTicket": {"MicroRank": (15.56, 24.44, 35.56), "TraceAnomaly": (13.33, 28.89, 33.33),
                    "PDiagnose": (8.89, 13.33, 22.22), "Nezha (metrics+logs+traces)": (86.67, 97.78, 97.78)},
}


def service_of_pod(pod: str) -> str:
    """``cartservice-579b9bff58-t2dbm`` → ``cartservice`` (SOURCES.md's rule)."""
    return pod.rsplit("-", 2)[0]


def read_nezha_csvs(paths: list[str]) -> pd.DataFrame:
    """Nezha trace CSVs → a spans frame (spans repeated across minute files kept once)."""
    df = pd.concat([pd.read_csv(p) for p in paths], ignore_index=True).drop_duplicates(["TraceID", "SpanID"])
    pod = df["PodName"].astype(str)
    parent = df["ParentID"].astype(str)
    res = {p: {"k8s.pod.name": p} for p in pod.unique()}
    return tk.spans_from_columns({
        "trace_id": df["TraceID"].astype(str).to_numpy(), "span_id": df["SpanID"].astype(str).to_numpy(),
        "parent_id": parent.where(parent != "root", None).to_numpy(),
        "service": np.array([service_of_pod(p) for p in pod], dtype=object),
        "name": df["OperationName"].astype(str).to_numpy(),
        "start": df["StartTimeUnixNano"].to_numpy(np.int64), "end": df["EndTimeUnixNano"].to_numpy(np.int64),
        "resource": [res[p] for p in pod]})


def load_day(system: str) -> tuple[pd.DataFrame, list[dict]]:
    """All trace CSVs of the system's fault day, and its fault list (read only to score)."""
    day = DAYS[system]
    spans = read_nezha_csvs(sorted(glob.glob(str(NEZHA / "rca_data" / day / "trace" / "*.csv.gz"))))
    fl = json.loads((NEZHA / "rca_data" / day / f"{day}-fault_list.json").read_text())
    faults = [dict(time=pd.Timestamp(f["inject_time"], tz="UTC"), pod=f["inject_pod"], type=f["inject_type"])
              for hour in fl.values() for f in hour]
    return spans, faults


class Windows:
    """Cuts one day's spans into incident / baseline windows around a time (whole traces, by request start)."""

    def __init__(self, spans: pd.DataFrame) -> None:
        from tracekit.core import ns, span_tree, trace_outcomes

        self.spans = spans
        self.start = ns(trace_outcomes(spans)["start"])[span_tree(spans).trace]
        self.trace_ids = spans["trace_id"].to_numpy(dtype=object)

    def at(self, t: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
        t0, s = pd.Timestamp(t).value, self.start
        inc = (s >= t0) & (s < t0 + INCIDENT.value)
        base = (s < t0) & (s >= t0 - BASELINE.value)
        if len(set(self.trace_ids[base])) < 50:
            base = (s < t0) & (s >= t0 - BASELINE_WIDE.value)
        return self.spans[inc].reset_index(drop=True), self.spans[base].reset_index(drop=True)


def rank_faults(system: str, spans: pd.DataFrame, faults: list[dict], **kwargs) -> pd.DataFrame:
    """One row per fault: the rank of the injected service (NaN when a window is empty)."""
    w = Windows(spans)
    rows = []
    for f in faults:
        inc, base = w.at(f["time"])
        truth = service_of_pod(f["pod"])
        row = dict(system=system, time=f["time"], service=truth, type=f["type"], rank=np.nan, top=None, seconds=np.nan)
        if len(inc) and len(base):
            t = time.perf_counter()
            rc = tk.rank_causes(inc, base, level="service", n_boot=50, lift_rows=0, window=None, **kwargs)  # the ranking sees no fault info
            row["seconds"] = time.perf_counter() - t
            names = rc["service"].astype(str).tolist()
            row["rank"] = names.index(truth) + 1 if truth in names else len(names) + 1
            row["top"] = names[0]
        rows.append(row)
    return pd.DataFrame(rows)


def ac_table(res: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    scored = res.dropna(subset=["rank"])
    g = scored.groupby(by)["rank"]
    out = pd.DataFrame({
        "faults": g.size(),
        **{f"AC@{k}": g.apply(lambda r, k=k: 100 * float((r <= k).mean())) for k in (1, 3, 5)},
        "Avg@5": g.apply(lambda r: 100 * float(np.mean([(r <= k).mean() for k in range(1, 6)]))),
    })
    out["no traces"] = res[res["rank"].isna()].groupby(by).size().reindex(out.index).fillna(0).astype(int)
    return out.round(1)


def accuracy(show_faults: bool = False) -> pd.DataFrame | None:
    if not NEZHA.exists():
        print(f"Nezha fault days not found at {NEZHA}: accuracy skipped")
        return None
    parts = []
    for system in DAYS:
        t = time.perf_counter()
        spans, faults = load_day(system)
        print(f"{system}: {len(spans):,} spans read in {time.perf_counter() - t:.1f} s; {len(faults)} faults", flush=True)
        parts.append(rank_faults(system, spans, faults))
    res = pd.concat(parts, ignore_index=True)
    if show_faults:
        print(res.to_string())
    print("\n### rank_causes (traces only) on the Nezha fault days, service level, %\n")
    print(ac_table(res, ["system"]).to_string())
    print("\n### per fault type\n")
    print(ac_table(res, ["system", "type"]).to_string())
    print("\n### the paper's Table 3 (AC@1 / AC@3 / AC@5, %)\n")
    rows = [(s, m, *v) for s, d in PAPER.items() for m, v in d.items()]
    print(pd.DataFrame(rows, columns=["system", "method", "AC@1", "AC@3", "AC@5"]).to_string(index=False))
    print(f"\nmean rank_causes time per fault: {res['seconds'].mean():.2f} s")
    return res


def speed(n: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        paths = []
        for i, (scenario, seed) in enumerate((("db-lock", 11), ("baseline", 12))):
            sim = tk.simulate.simulate(scenario, n, seed=seed)
            p = Path(d) / f"side{i}.jsonl"
            tk.write_otlp(sim.spans, p)
            paths.append(p)
            del sim
        gc.collect()
        t = time.perf_counter()
        inc = tk.read(paths[0])
        base = tk.read(paths[1])
        t_read = time.perf_counter() - t
        tk.rank_causes(inc.head(2000), base.head(2000))  # warm imports (scipy) before timing
        gc.collect()
        t = time.perf_counter()
        rc = tk.rank_causes(inc, base, level="operation")
        t_rank = time.perf_counter() - t
    print(f"\n### speed: {n:,} + {n:,} simulated traces ({len(inc) + len(base):,} spans)\n")
    print(pd.DataFrame([("read (tk.read, OTLP JSON lines)", 1e3 * t_read), ("rank_causes (operation level)", 1e3 * t_rank)],
                       columns=["step", "ms"]).round(0).to_string(index=False))
    print(f"\nratio rank_causes / read = {t_rank / t_read:.2f} (target ≤ 2); top row: "
          f"{rc.iloc[0]['service']}: {rc.iloc[0]['name']}")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--no-accuracy", action="store_true")
    ap.add_argument("--faults", action="store_true", help="print every fault's rank")
    args = ap.parse_args(argv)
    if not args.no_accuracy:
        accuracy(args.faults)
    if not args.no_speed:
        speed(2_000 if args.quick else 20_000)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
