"""Score rank_causes on the real Nezha fault-injection days, and time it against reading the traces.

    python benchmarks/bench_rank_causes.py           # both Nezha days + 20,000 + 20,000 simulated traces
    python benchmarks/bench_rank_causes.py --quick   # both Nezha days + 2,000 + 2,000 simulated traces
    python benchmarks/bench_rank_causes.py --no-speed
    python benchmarks/bench_rank_causes.py --logs-only   # TrainTicket: traces only vs traces + logs (logs_accuracy)
    python benchmarks/bench_rank_causes.py --logs-only --log-noise   # + log evidence of services not injected

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
around most injections only). Each fault is ranked twice: traces only, and traces + metrics
(``rank_causes(..., metrics=)`` with the day's per-pod metric CSVs, :func:`read_nezha_metrics`; the
metric windows are the spans', each point placed by the minute it describes, a baseline of fewer than 10 points
made up with earlier ones: ``tracekit.analysis.metric_evidence``), and the faults where metrics moved the injected service up or down
the ranking are counted. The paper's Table 3 (service level, over both days of each system) is printed beside.

**Speed.** ``simulate("db-lock", n)`` twice (incident and baseline), written as OTLP JSON lines and
read back with :func:`tracekit.read`; ``rank_causes`` timed on the frames read, in the same process,
one after the other. Prints the ratio (target ≤ 2).
"""

from __future__ import annotations

import argparse
import gc
import glob
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import tracekit as tk

NEZHA = (Path(os.environ["TRACEKIT_REAL_TRACES"]) / "nezha" / "fault-days" if "TRACEKIT_REAL_TRACES" in os.environ
         else next((p / "shared" / "real-traces" / "nezha" / "fault-days" for p in Path(__file__).resolve().parents[1:]
                    if (p / "shared" / "real-traces").is_dir()), Path("../shared/real-traces/nezha/fault-days")))
#: a trace CSV's pods → the system it is from (TrainTicket's services are ``ts-*-service``)
SYSTEMS = (("TrainTicket", lambda services: any(s.startswith("ts-") for s in services)),
           ("OnlineBoutique", lambda services: bool({"frontend", "cartservice", "checkoutservice"} & set(services))))
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


def read_nezha_metrics(day: str) -> pd.DataFrame:
    """The day's per-pod metric CSVs as a user hands them over: each wide CSV reshaped to long form with
    pandas (one row per pod, minute and metric), then :func:`tracekit.metrics_from_columns`. The time is
    the ``Time`` column (Go's ``2022-08-22 03:51:19.607 +0000 UTC m=+0.11``: date, clock and zone kept;
    the ``TimeStamp`` column is 2e8 s off in the pod files); the unit is the name's bracket (``(%)``)."""
    parts = []
    for path in sorted(glob.glob(str(NEZHA / "rca_data" / day / "metric" / "*_metric.csv.gz"))):
        wide = pd.read_csv(path)
        wide["time"] = pd.to_datetime(wide["Time"].str.split(" ").str[:3].str.join(" "), utc=True)
        cols = [c for c in wide.columns if c not in ("Time", "TimeStamp", "PodName", "time")]
        parts.append(wide.melt(id_vars=["time", "PodName"], value_vars=cols, var_name="metric", value_name="value"))
    long = pd.concat(parts, ignore_index=True)
    return tk.metrics_from_columns({
        "time": long["time"], "name": long["metric"].str.replace(r"\([^)]*\)$", "", regex=True),
        "unit": long["metric"].str.extract(r"\(([^)]*)\)$", expand=False), "value": long["value"].astype(float),
        "service": long["PodName"].map(service_of_pod), "host": long["PodName"]})


#: pino's numeric levels (Node.js services) → words
PINO_LEVELS = {10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL"}
_LEVEL_WORD = re.compile(r"\b(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|CRITICAL)\b")


def level_and_body(line: str) -> tuple[str | None, str]:
    """A container log line → (level word, body). Logback's ``HH:MM:SS.mmm LEVEL Class#line TraceID: t SpanID:
    s [method][message]`` (TrainTicket's Java services): its second word, and ``Class#line`` with what follows
    the ids; a JSON object (Go's logrus, Python's JSON loggers, Node's pino): its ``severity`` / ``level`` /
    ``levelname`` (pino's numbers as words) and its ``message`` / ``msg``; otherwise the first upper-case
    level word in the line, and the line."""
    w = line.split(None, 7)
    if len(w) == 8 and w[3] == "TraceID:":
        return w[1], f"{w[2]} {w[7].rstrip()}"
    text = line.strip()
    if text.startswith("{"):
        try:
            rec = json.loads(text)
        except ValueError:
            rec = None
        if isinstance(rec, dict):
            lv = next((rec[k] for k in ("severity", "level", "levelname", "log.level") if k in rec), None)
            lv = PINO_LEVELS.get(lv, str(lv)) if isinstance(lv, int) else (None if lv is None else str(lv))
            msg = next((rec[k] for k in ("message", "msg") if isinstance(rec.get(k), str)), text)
            return lv, msg
    m = _LEVEL_WORD.search(text)
    return (m.group(1) if m else None), text


def read_nezha_logs(paths: list) -> pd.DataFrame:
    """Nezha log CSVs → a logs frame through :func:`tracekit.logs_from_columns` (nothing Nezha-specific
    in tracekit). ``Log`` is the container's JSON line whose ``log`` is logback's
    ``HH:MM:SS.mmm LEVEL Class#line TraceID: t SpanID: s [method][message]``: the level is its second
    word, the body is ``Class#line`` and what follows the ids (the pod-local clock and the ids, which
    have columns of their own, are dropped); a negative TimeUnixNano (a corrupt stamp, which logs_from_columns
    refuses) is read as no time. Read with the csv module: one row of 10_06 has broken
    quoting (10 fields; pandas' C and Arrow parsers refuse the file), its first 8 fields are kept."""
    import csv
    import gzip
    import io

    cols: dict[str, list] = {k: [] for k in ("time", "trace_id", "span_id", "pod", "level", "body", "file")}
    for p in paths:
        with gzip.open(p, "rt", newline="") as f:
            rows = csv.reader(io.StringIO(f.read()))
            next(rows)
            for r in rows:
                try:
                    line = json.loads(r[7])["log"]
                except (ValueError, KeyError, IndexError):
                    line = r[7] if len(r) > 7 else ""
                level, body = level_and_body(line)
                for k, v in zip(("time", "trace_id", "span_id", "pod", "level", "body", "file"),
                                (int(r[1]), r[5], r[6], r[3], level, body, Path(p).name), strict=True):
                    cols[k].append(v)
    t = np.array(cols["time"], dtype=np.int64)
    time = pd.array(t, dtype="Int64")
    time[t < 0] = pd.NA  # 29 rows of 09_34 say -6795364578871345152 (1754): no time, their ids still join them
    return tk.logs_from_columns({
        "time": time, "body": cols["body"], "trace_id": cols["trace_id"],
        "span_id": cols["span_id"], "service": [service_of_pod(x) for x in cols["pod"]], "host": cols["pod"],
        "severity": cols["level"], "source_file": cols["file"]})


def nezha_days(root: Path | None = None) -> dict[str, str]:
    """Every fault day in Nezha's layout under ``root`` (default :data:`NEZHA`), as ``{day: system}``: each
    ``rca_data/<day>/`` holding ``<day>-fault_list.json`` and trace CSVs, so days added to the folder (Nezha's
    other days, or new ones in its layout) are scored by the same command. The system is told from the pods of
    the day's first trace file (:data:`SYSTEMS`; the day itself where neither matches)."""
    root = NEZHA if root is None else Path(root)
    out = {}
    for d in sorted((root / "rca_data").glob("*")):
        traces = sorted(d.glob("trace/*_trace.csv*"))
        if not ((d / f"{d.name}-fault_list.json").is_file() and traces):
            continue
        services = {service_of_pod(p) for p in pd.read_csv(traces[0], usecols=["PodName"])["PodName"].astype(str)}
        out[d.name] = next((name for name, test in SYSTEMS if test(services)), d.name)
    return out


def day_of(system: str, root: Path | None = None) -> str:
    """The first fault day of ``system`` under ``root`` (:func:`nezha_days`)."""
    days = [d for d, s in nezha_days(root).items() if s == system]
    if not days:
        raise FileNotFoundError(f"no {system} fault day under {root or NEZHA}")
    return days[0]


def fault_list(day: str) -> list[dict]:
    """A fault day's injected faults (time, pod, type), read only to score."""
    fl = json.loads((NEZHA / "rca_data" / day / f"{day}-fault_list.json").read_text())
    return [dict(time=pd.Timestamp(f["inject_time"], tz="UTC"), pod=f["inject_pod"], type=f["inject_type"])
            for hour in fl.values() for f in hour]


def load_day(day: str) -> tuple[pd.DataFrame, list[dict]]:
    """All trace CSVs of a fault day, and its fault list (read only to score)."""
    spans = read_nezha_csvs(sorted(glob.glob(str(NEZHA / "rca_data" / day / "trace" / "*.csv.gz"))))
    return spans, fault_list(day)


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
        row = dict(system=system, day=f["time"].strftime("%Y-%m-%d"), time=f["time"], service=truth, type=f["type"],
                   rank=np.nan, top=None, seconds=np.nan)
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
    days = nezha_days()
    for day, system in days.items():
        t = time.perf_counter()
        spans, faults = load_day(day)
        print(f"{system} {day}: {len(spans):,} spans read in {time.perf_counter() - t:.1f} s; {len(faults)} faults",
              flush=True)
        parts.append(rank_faults(system, spans, faults).assign(signals="traces only"))
        if not glob.glob(str(NEZHA / "rca_data" / day / "metric" / "*_metric.csv.gz")):
            print(f"{system} {day}: no metric CSVs: traces + metrics skipped")
            continue
        t = time.perf_counter()
        metrics = read_nezha_metrics(day)
        print(f"{system} {day}: {len(metrics):,} metric points read in {time.perf_counter() - t:.1f} s", flush=True)
        parts.append(rank_faults(system, spans, faults, metrics=metrics).assign(signals="traces + metrics"))
    res = pd.concat(parts, ignore_index=True)
    if show_faults:
        print(res.to_string())
    # the same faults side by side: where metric evidence moved the injected service
    side = res.pivot_table(index=["system", "time", "service", "type"], columns="signals", values="rank").dropna()
    if {"traces only", "traces + metrics"} <= set(side.columns):
        side = side[["traces only", "traces + metrics"]]
        d = side["traces + metrics"] - side["traces only"]
        if show_faults:
            print("\n### rank of the injected service, traces only vs traces + metrics\n")
            print(side.astype(int).to_string())
        print("\nmetrics moved the injected service up in " + "; ".join(
            f"{s}: {int((g < 0).sum())} faults, down in {int((g > 0).sum())}, of {len(g)}" for s, g in d.groupby(level=0)))
    print(f"\n### rank_causes on the Nezha fault days ({', '.join(f'{s} {d}' for d, s in days.items())}), service "
          "level, % (faults with traces in both windows)\n")
    print(ac_table(res, ["system", "signals"]).to_string())
    if res.groupby("system")["day"].nunique().max() > 1:
        print("\n### per day\n")
        print(ac_table(res, ["system", "day", "signals"]).to_string())
    print("\n### per fault type\n")
    print(ac_table(res, ["system", "signals", "type"]).to_string())
    print("\nThe paper scores both days of each system; days added to the folder in Nezha's layout are scored "
          "here too (nezha_days).")
    print("\n### the paper's Table 3 (AC@1 / AC@3 / AC@5, %)\n")
    rows = [(s, m, *v) for s, d in PAPER.items() for m, v in d.items()]
    print(pd.DataFrame(rows, columns=["system", "method", "AC@1", "AC@3", "AC@5"]).to_string(index=False))
    print("\n" + "; ".join(f"{k}: {v:.2f} s" for k, v in res.groupby("signals")["seconds"].mean().items())
          + " mean rank_causes time per fault")
    return res


def _short(service: str) -> str:
    """``ts-order-other-service`` → ``order-other``."""
    return service.removeprefix("ts-").removesuffix("-service")


def log_noise(res: pd.DataFrame) -> None:
    """Per log window and setting: the largest log evidence (log_templates, log_errors) of the services that were
    not injected — what log evidence adds where there is nothing to find — beside the injected service's."""
    r = res.dropna(subset=["null_log_templates"]).copy()
    r["window"] = r["time"].dt.strftime("%H:%M") + " " + r["service"].map(_short)
    r["null"] = r[["null_log_templates", "null_log_errors"]].max(axis=1)
    short = {m: f"row {i + 2}" for i, m in enumerate(r["method"].unique())}
    print("\n### null noise: the largest log score (max of log_templates, log_errors) among services not injected, "
          "per log window\n")
    for m, k in short.items():
        print(f"{k}: {m}")
    t = r.assign(method=r["method"].map(short)).pivot_table(index="window", columns="method", values="null",
                                                             aggfunc="first", sort=False)
    inj = r.assign(method=r["method"].map(short)).pivot_table(
        index="window", columns="method", values=["injected_log_templates", "injected_log_errors"], aggfunc="first",
        sort=False).T.groupby(level=1).max().T
    print(pd.concat({"null": t, "injected": inj}, axis=1).round(2).to_string())
    print("\nnull noise over the windows (mean / median / max): " + "; ".join(
        f"{k} {t[k].mean():.3f} / {t[k].median():.3f} / {t[k].max():.3f}" for k in t.columns))
    for k in t.columns:
        top = r[r["method"].map(short) == k]
        print(f"{k}: noisiest service per window: " + ", ".join(
            f"{w_[:5]} {_short(s)} {v:.2f}"
            for w_, s, v in zip(top["window"], top["null_top"], top["null"], strict=True)))


def cpu_scores(spans: pd.DataFrame, faults: list[dict], w: Windows) -> None:
    """TrainTicket's CPU-contention faults (held-out windows: no logs; traces only): the injected service's score
    and the best score of the others, to set beside the null noise of log evidence."""
    print("\n### TrainTicket cpu_contention faults, traces only (10 min baseline): score of the injected service\n")
    for f in faults:
        if f["type"] != "cpu_contention":
            continue
        inc, base = w.at(f["time"])
        truth = service_of_pod(f["pod"])
        if not (len(inc) and len(base)):
            print(f"{f['time']:%H:%M} {truth}: no traces")
            continue
        rc = tk.rank_causes(inc, base, level="service", n_boot=50, lift_rows=0, window=None)
        names = rc["service"].astype(str)
        sc = rc["score"].to_numpy(float)
        mine, others = sc[(names == truth).to_numpy()], sc[(names != truth).to_numpy()]
        print(f"{f['time']:%H:%M} {truth}: rank {int(np.flatnonzero((names == truth).to_numpy())[0]) + 1}, "
              f"score {float(mine.max()):.3f}; best other {float(others.max()):.3f}; margin "
              f"{float(mine.max() - others.max()):.3f}")


def logs_accuracy(show_faults: bool = False, show_noise: bool = False) -> pd.DataFrame | None:
    """Traces only vs traces + logs (+ metrics), on every fault day with logs (:func:`nezha_days`), on the fault
    windows whose logs are there.

    TrainTicket 2023-01-29's log CSVs cover the minutes of the day's first 15 faults (08:43–10:22) and the
    fault-free minute 08:50 (``construct_data``); the later windows are kept out so that the log evidence can
    be scored on faults it was not built on — they cannot be scored here. Log evidence compares the incident
    with baseline traces that have logs. Rows, where the day has fault-free data (``construct_data/<day>/``'s
    trace and log CSVs): traces only with the usual 10-minute baseline (as :func:`accuracy`); traces + logs
    (``rank_causes(..., logs=)``) with the fault-free data as the baseline (Nezha's setting: the fault-free
    data is the reference); traces + logs, and traces + logs + metrics, with the 10 minutes before and the
    fault-free data as one baseline (the log evidence uses the part its logs cover). A day without
    fault-free data gets traces only and traces + logs (+ metrics) against the 10 minutes before, with every
    log record. The fault list is read only to pick the windows' start times and to score; nothing is set per
    fault.
    """
    days = {d: s for d, s in nezha_days().items() if (NEZHA / "rca_data" / d / "log").is_dir()}
    if not days:
        print(f"no Nezha logs under {NEZHA / 'rca_data'}: traces + logs skipped")
        return None
    parts = [_logs_day(day, system, show_noise) for day, system in days.items()]
    res = pd.concat([p for p in parts if p is not None], ignore_index=True)
    if show_faults:
        print(res.drop(columns=[c for c in res.columns if c.startswith(("null_", "injected_"))]).to_string())
    if show_noise:
        log_noise(res)
    for (system, day), r in res.groupby(["system", "day"], sort=False):
        print(f"\n### {system} {day}, the {r['time'].nunique()} fault windows with logs "
              f"({r['time'].min():%H:%M}–{r['time'].max():%H:%M}), service level, %\n")
        print(ac_table(r, ["method"]).to_string())
    print("\nwindows whose logs are not in the folder (TrainTicket 2023-01-29 after 10:22) are held out: not scored "
          "here")
    return res


def _logs_day(day: str, system: str, show_noise: bool) -> pd.DataFrame | None:
    """:func:`logs_accuracy` on one day: one row per (fault window with logs, setting)."""
    log_dir, ff_dir = NEZHA / "rca_data" / day / "log", NEZHA / "construct_data" / day
    minutes = {p.name[:5] for p in log_dir.glob("*_log.csv.gz")}
    ff_logs, ff_traces = sorted(ff_dir.glob("log/*_log.csv.gz")), sorted(ff_dir.glob("trace/*_trace.csv.gz"))
    has_ff = bool(ff_logs and ff_traces)
    t = time.perf_counter()
    logs = read_nezha_logs(sorted(log_dir.glob("*_log.csv.gz")) + (ff_logs if has_ff else []))
    spans, faults = load_day(day)
    fault_free = read_nezha_csvs([str(p) for p in ff_traces]) if has_ff else None
    print(f"\n{system} {day}: {len(logs):,} log records, {len(spans):,} spans"
          + (f", fault-free data {len(fault_free):,} spans" if has_ff else ", no fault-free data")
          + f" read in {time.perf_counter() - t:.1f} s", flush=True)
    has_metrics = bool(glob.glob(str(NEZHA / "rca_data" / day / "metric" / "*_metric.csv.gz")))
    metrics = read_nezha_metrics(day) if has_metrics else None
    w = Windows(spans)
    rows = []
    # (label, baseline: "10min" / "ff" / "both", logs: None / "all" / "ff", metrics?). TrainTicket's logs cover
    # the fault windows' minutes and the fault-free minute only, so log evidence needs the fault-free minute in
    # the baseline; log_evidence leaves out the baseline traces of minutes without records. The 10 minutes before
    # a fault hold the previous fault's window when faults come 8-9 minutes apart (contacts 08:43, 08:52, 08:58):
    # with "all" its records are part of the log baseline; with "ff" the logs given are the incident's and the
    # fault-free data's (Nezha's reference is its fault-free data), the traces' baseline is still the 10 minutes
    # before
    if has_ff:
        settings = (("traces only, 10 min baseline", "10min", None, False),
                    ("traces + logs, fault-free minute", "ff", "all", False),
                    ("traces + logs, 10 min before + fault-free minute", "both", "all", False),
                    ("traces + logs (incident's and fault-free minute's), 10 min before + fault-free minute", "both",
                     "ff", False),
                    ("traces + logs + metrics, as the row above", "both", "ff", True))
    else:
        settings = (("traces only, 10 min baseline", "10min", None, False),
                    ("traces + logs, 10 min baseline, every record", "10min", "all", False),
                    ("traces + logs + metrics, as the row above", "10min", "all", True))
    settings = tuple(x for x in settings if has_metrics or not x[3])
    ff_names = {p.name for p in ff_logs}
    is_ff_log = logs["source_file"].astype(str).isin(ff_names).to_numpy() if has_ff else None
    log_t = logs["time"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    for f in faults:
        if f["time"].strftime("%H_%M") not in minutes:
            continue  # a held-out window: its logs are not here
        inc, base = w.at(f["time"])
        truth = service_of_pod(f["pod"])
        if not (len(inc) and len(base)):
            continue
        bl = {"10min": base} | ({"ff": fault_free, "both": pd.concat([base, fault_free], ignore_index=True)}
                                if has_ff else {})
        t0 = pd.Timestamp(f["time"]).value
        in_window = (log_t >= t0) & (log_t < t0 + INCIDENT.value)
        lg = {None: None, "all": logs} | ({"ff": logs[is_ff_log | in_window].reset_index(drop=True)} if has_ff else {})
        for label, which, which_logs, with_metrics in settings:
            rc = tk.rank_causes(inc, bl[which], level="service", n_boot=50, lift_rows=0, window=None,
                                logs=lg[which_logs], metrics=metrics if with_metrics else None)
            with_logs = which_logs is not None
            names = rc["service"].astype(str).tolist()
            row = dict(system=system, day=day, method=label, time=f["time"], service=truth, type=f["type"],
                       rank=names.index(truth) + 1 if truth in names else len(names) + 1, top=names[0],
                       decided_by=rc["decided_by"].iat[0] if with_logs else None)
            if with_logs:  # null noise: the largest log evidence of a service that was not injected (read to score)
                other = rc["service"].astype(str) != truth
                for c in ("log_templates", "log_errors"):
                    v = rc[c].to_numpy(float)
                    row[f"null_{c}"] = float(v[other.to_numpy()].max()) if other.any() else 0.0
                    row[f"injected_{c}"] = float(v[~other.to_numpy()].max()) if (~other).any() else 0.0
                row["null_top"] = rc.loc[other, "service"].astype(str).to_numpy()[
                    np.argmax(rc.loc[other, ["log_templates", "log_errors"]].to_numpy(float).max(axis=1))]
            rows.append(row)
    if show_noise:
        cpu_scores(spans, faults, w)
    return pd.DataFrame(rows) if rows else None


def every_signal(res: pd.DataFrame, logs_res: pd.DataFrame | None) -> pd.DataFrame:
    """Per fault, the rank from every signal the folder has for its window: traces + logs + metrics where its
    logs are there (the last setting of :func:`logs_accuracy`, which carries the most), else traces + metrics,
    else traces only — Nezha's setting (it uses all three) on the faults the folder can score."""
    key = ["system", "time", "service"]
    pick = res.assign(order=res["signals"].map({"traces only": 0, "traces + metrics": 1}))
    if logs_res is not None and len(logs_res):
        last = logs_res.groupby(["system", "day"], sort=False)["method"].transform("last")
        lr = logs_res[logs_res["method"] == last].assign(signals=lambda d: d["method"].map(
            lambda m: "traces + logs + metrics" if "metrics" in m else "traces + logs"), order=2)
        pick = pd.concat([pick, lr[key + ["day", "type", "rank", "signals", "order"]]], ignore_index=True)
    # the richest setting that scored the fault; a fault no setting could score (no traces in a window) stays, as
    # "no traces", rather than vanishing from the count
    pick = pick.assign(scored=pick["rank"].notna()).sort_values(["scored", "order"], kind="stable")
    return pick.groupby(key, sort=False).tail(1).drop(columns="scored").assign(setting="every signal the folder has")


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
    ap.add_argument("--logs-only", action="store_true", help="only the TrainTicket traces + logs rows")
    ap.add_argument("--log-noise", action="store_true",
                    help="with --logs-only: the largest log score of services not injected, per window (null noise), "
                         "and the traces-only scores of TrainTicket's CPU faults")
    from _rules import add_rule_option, rules_off  # benchmarks/_rules.py (this script's folder is on sys.path)

    add_rule_option(ap)
    args = ap.parse_args(argv)
    if args.rule_off:
        print("rules off: " + ", ".join(rules_off(args.rule_off)))
    if args.logs_only:
        logs_accuracy(args.faults, args.log_noise)
        return 0
    if not args.no_accuracy:
        res = accuracy(args.faults)
        logs_res = logs_accuracy(args.faults)
        if res is not None:
            best = every_signal(res, logs_res)
            print("\n### every signal the folder has for each fault's window (traces + logs + metrics where its logs "
                  "are there, else traces + metrics), service level, % — Nezha's setting\n")
            print(ac_table(best, ["system", "setting"]).to_string())
            print("signals used: " + "; ".join(f"{s}: " + ", ".join(f"{k} {v}" for k, v in g.value_counts().items())
                                                for s, g in best.groupby("system")["signals"]))
    if not args.no_speed:
        speed(2_000 if args.quick else 20_000)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
