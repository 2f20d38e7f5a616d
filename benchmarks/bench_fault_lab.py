"""Score rank_causes on generated faults nobody tuned it on: the fault lab (tracekit.simulate_faults).

    python benchmarks/bench_fault_lab.py                 # 40 seeds x 6 kinds (240 windows, 200 faults + 40 null)
    python benchmarks/bench_fault_lab.py --quick         # 5 seeds x 6 kinds (about 1.5 min)
    python benchmarks/bench_fault_lab.py --seeds 100 --first-seed 1000 --show-faults --out lab.csv
    python benchmarks/bench_fault_lab.py --baseline-fault mixed   # a previous fault in each baseline (below)

``benchmarks/bench_rank_causes.py`` scores the real Nezha fault days, which invites tuning to them. This
is the complement: per seed a random system (:func:`tracekit.simulate_faults.random_system`: 8-40
services, depth 2-6) and one window per kind (:data:`tracekit.simulate_faults.KINDS`: the five Nezha
fault kinds and ``null``) with the same injected pod for every kind (the place is the seed's, not the
kind's). Seeds alternate the knobs: even seeds have spans with status (OnlineBoutique-like), odd ones
without (TrainTicket-like); seeds 2, 3 (mod 4) are **noisy** — 1 % background errors, the incident's
request mix drifted by 0.3, a noisy neighbour of 0.5 vCPU — the others clean (0.2 % background errors).

Each window is ranked at service level with ``rank_causes(incident, baseline, window=None, n_boot=50,
lift_rows=0)`` four times: traces only, + logs, + metrics, all three; AC@k = share of faults whose
service is in the top k (as bench_rank_causes). For the null kind, where there is nothing to find, the
top score is the noise: its distribution is printed, and per fault kind the share of faults whose top
score exceeds the largest of the null windows of the same noise ("above null"). Times: generating the windows, and ranking per
signal set.

``--baseline-fault`` puts a **previous fault in every baseline** (``fault_window(baseline_fault=)``): a fault of
another service during the baseline's first fifth (60 of its 300 s), as on Nezha, where faults come 8-9 minutes
apart and the 10-minute baseline holds the previous injection's 2 minutes. ``mixed``: the kind cycles with the
seed (``FAULT_KINDS[seed % 5]``), so each incident kind meets each previous kind 8 times in 40 seeds; or one kind
for all; ``--baseline-fault-on same`` puts it on the injected service itself. The report adds, per kind and signal set, how often the previous fault's service ranks first.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import tracekit as tk
from tracekit.simulate_faults import FAULT_KINDS, KINDS, fault_window, random_system

SIGNALS = ("traces", "traces+logs", "traces+metrics", "all three")


def knobs(seed: int) -> dict:
    """The window's knobs for a seed (module docstring)."""
    noisy = seed % 4 in (2, 3)
    return dict(status=seed % 2 == 0, background_errors=0.01 if noisy else 0.002, drift=0.3 if noisy else 0.0,
                noisy_neighbour=0.5 if noisy else 0.0)


def previous_kind(seed: int, baseline_fault: str | None) -> str | None:
    """The previous fault's kind in the baseline of a seed's windows (module docstring), or None."""
    if baseline_fault in (None, "none"):
        return None
    return FAULT_KINDS[seed % len(FAULT_KINDS)] if baseline_fault == "mixed" else baseline_fault


def run(seeds: list[int], kinds: tuple[str, ...] = KINDS, baseline_fault: str | None = None,
        baseline_fault_on: str = "other") -> pd.DataFrame:
    """One row per (seed, kind, signal set): the injected service's rank, the top service and score, times."""
    rows = []
    for seed in seeds:
        system = random_system(seed)
        k = knobs(seed)
        pk = previous_kind(seed, baseline_fault)
        for kind in kinds:
            t = time.perf_counter()
            w = fault_window(kind, seed, system=system, baseline_fault=pk, baseline_fault_on=baseline_fault_on, **k)
            gen_s = time.perf_counter() - t
            for sig in SIGNALS:
                kw = {}
                if sig in ("traces+logs", "all three"):
                    kw["logs"] = w.logs
                if sig in ("traces+metrics", "all three"):
                    kw["metrics"] = w.metrics
                t = time.perf_counter()
                rc = tk.rank_causes(w.incident, w.baseline, level="service", n_boot=50, lift_rows=0, window=None, **kw)
                rank_s = time.perf_counter() - t
                names = rc["service"].astype(str).tolist()
                truth = w.truth.service
                rank = (names.index(truth) + 1 if truth in names else len(names) + 1) if truth is not None else np.nan
                nb = w.truth.neighbour_pod
                rows.append(dict(seed=seed, kind=kind, signals=sig, status=k["status"],
                                 neighbour=nb.rsplit("-", 2)[0] if nb else None,
                                 noise="noisy" if k["drift"] > 0 else "clean", services=len(system.services),
                                 depth=system.depth, truth=truth, rank=rank, top=names[0] if names else None,
                                 prev_kind=pk, prev=w.truth.previous.service if pk else None,
                                 prev_rank=(names.index(w.truth.previous.service) + 1
                                            if pk and w.truth.previous.service in names else np.nan),
                                 top_score=float(rc["score"].iloc[0]) if len(rc) else 0.0,
                                 affected_calls=w.truth.affected_calls, generate_s=gen_s if sig == SIGNALS[0] else 0.0,
                                 rank_s=rank_s, spans=len(w.incident) + len(w.baseline)))
    return pd.DataFrame(rows)


def ac_table(res: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """AC@1/3/5 (%) and the fault count per group of the fault rows."""
    f = res[res["kind"] != "null"]
    g = f.groupby(by, sort=False)["rank"]
    out = pd.DataFrame({"faults": g.size(), **{f"AC@{k}": g.apply(lambda r, k=k: 100 * float((r <= k).mean()))
                                               for k in (1, 3, 5)}})
    return out.round(1)


def wide(res: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """AC@1 / AC@3 / AC@5 per group, one column per signal set."""
    t = ac_table(res, [*by, "signals"])
    cells = t.apply(lambda r: f"{r['AC@1']:.0f} / {r['AC@3']:.0f} / {r['AC@5']:.0f}", axis=1).unstack("signals")
    cells = cells[[s for s in SIGNALS if s in cells.columns]]
    cells.insert(0, "faults", t["faults"].groupby(level=list(range(len(by)))).first())
    return cells


def report(res: pd.DataFrame, wall_s: float, show_faults: bool = False) -> None:
    n_win = res.groupby(["seed", "kind"]).ngroups
    n_sys = res["seed"].nunique()
    print(f"\n{n_win} windows on {n_sys} random systems ({res.groupby('seed')['services'].first().min()}-"
          f"{res.groupby('seed')['services'].first().max()} services); spans per window: median "
          f"{int(res['spans'].median()):,}")
    if show_faults:
        print(res[res["signals"] == "all three"].drop(columns=["generate_s", "rank_s"]).to_string(index=False))
    print("\n### rank_causes on the fault lab, service level: AC@1 / AC@3 / AC@5 (%) per kind and signal set\n")
    print(wide(res, ["kind"]).to_string())
    print("\n### all fault kinds, by spans with / without status and by noise\n")
    print(wide(res.assign(all="all"), ["all"]).to_string())
    print(wide(res, ["status"]).to_string())
    print(wide(res, ["noise"]).to_string())
    size = pd.cut(res["services"], [7, 15, 29, 40], labels=["8-15 services", "16-29 services", "30-40 services"])
    by_size = wide(res.assign(size=size.astype(str)), ["size"])
    print(by_size.reindex([x for x in size.cat.categories if x in by_size.index]).to_string())
    if res["prev"].notna().any():
        hit = res.assign(hit=res["top"] == res["prev"])
        print("\n### previous fault in the baseline: windows whose top service is the previous fault's, per kind "
              f"(of {res['seed'].nunique()} per kind; with --baseline-fault-on same it is the injected service)\n")
        print(hit.pivot_table(index="kind", columns="signals", values="hit", aggfunc="sum", sort=False)[
            [s for s in SIGNALS]].astype(int).to_string())
        print("\nby the previous fault's kind (all incident kinds, null included):\n")
        print(hit.pivot_table(index="prev_kind", columns="signals", values="hit", aggfunc="sum", sort=False)[
            [s for s in SIGNALS]].astype(int).to_string())
        print("\nAC@1 / AC@3 / AC@5 by the previous fault's kind (fault windows):\n")
        print(wide(res, ["prev_kind"]).to_string())
    print("\n### per kind, spans without status (TrainTicket-like)\n")
    print(wide(res[~res["status"]], ["kind"]).to_string())
    null = res[res["kind"] == "null"]
    if len(null):
        print("\n### null windows (nothing injected): the top score, per noise and signal set; 'top is neighbour': "
              "windows whose top service is the noisy neighbour's (a real second anomaly)\n")
        q = null.groupby(["noise", "signals"], sort=False)["top_score"].describe(percentiles=[0.5, 0.9])[
            ["count", "min", "50%", "90%", "max"]]
        q["top is neighbour"] = null.assign(hit=null["top"] == null["neighbour"]).groupby(
            ["noise", "signals"], sort=False)["hit"].sum()
        print(q.round(3).to_string())
        noisy = res[(res["kind"] != "null") & (res["noise"] == "noisy")]
        if len(noisy):
            print("\nnoisy fault windows whose top service is the noisy neighbour's: " + "; ".join(
                f"{s} {int((g['top'] == g['neighbour']).sum())} of {len(g)}" for s, g in noisy.groupby("signals", sort=False)))
        top_null = null.groupby(["noise", "signals"])["top_score"].max()
        f = res[res["kind"] != "null"].copy()
        f["above_null"] = f["top_score"].to_numpy() > top_null.reindex(
            pd.MultiIndex.from_frame(f[["noise", "signals"]])).to_numpy()
        print("\n### share of faults whose top score exceeds every null window's of the same noise and signal set, %\n")
        print((100 * f.pivot_table(index="kind", columns="signals", values="above_null", aggfunc="mean",
                                   sort=False)[[s for s in SIGNALS]]).round(0).to_string())
        f_top = f.groupby(["kind", "signals"], sort=False)["top_score"].median().unstack("signals")[list(SIGNALS)]
        print("\n### median top score of the faults, per kind and signal set\n")
        print(f_top.round(3).to_string())
    print("\n### time\n")
    gen = res.groupby(["seed", "kind"])["generate_s"].sum()
    print(f"generating: {gen.sum():.1f} s ({gen.mean():.2f} s per window); ranking per window: " + "; ".join(
        f"{s} {m:.2f} s" for s, m in res.groupby("signals", sort=False)["rank_s"].mean().items())
        + f"; wall {wall_s:.0f} s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="5 seeds (30 windows)")
    ap.add_argument("--seeds", type=int, default=None, help="number of seeds (systems); default 40, --quick 5")
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated, of {', '.join(KINDS)}")
    ap.add_argument("--show-faults", action="store_true", help="print every window's row (all three signals)")
    ap.add_argument("--out", default=None, help="write every row to this CSV")
    ap.add_argument("--baseline-fault", default="none", choices=["none", "mixed", *FAULT_KINDS],
                    help="a previous fault in every baseline (module docstring); mixed: the kind cycles with the seed")
    ap.add_argument("--baseline-fault-on", default="other", choices=["other", "same"],
                    help="the previous fault on another service (default) or on the fault's own")
    from _rules import add_rule_option, rules_off  # benchmarks/_rules.py (this script's folder is on sys.path)

    add_rule_option(ap)
    a = ap.parse_args(argv)
    if a.rule_off:
        print("rules off: " + ", ".join(rules_off(a.rule_off)))
    kinds = tuple(k for k in a.kinds.split(",") if k)
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        ap.error(f"unknown kind(s) {bad}; known: {', '.join(KINDS)}")
    n = a.seeds if a.seeds is not None else (5 if a.quick else 40)
    t = time.perf_counter()
    res = run(list(range(a.first_seed, a.first_seed + n)), kinds, a.baseline_fault, a.baseline_fault_on)
    wall = time.perf_counter() - t
    if a.out:
        res.to_csv(a.out, index=False)
    report(res, wall, a.show_faults)
    assert set(FAULT_KINDS) | {"null"} == set(KINDS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
