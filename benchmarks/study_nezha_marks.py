"""What does an injected fault change in the traces? A per-fault study of the Nezha fault days.

    python benchmarks/study_nezha_marks.py                 # TrainTicket, every fault
    python benchmarks/study_nezha_marks.py OnlineBoutique

This is a study, not a ranking: it reads each fault's pod to look at the injected service, after
the fact, to say why :func:`tracekit.rank_causes` does or does not find it (nothing here feeds the
ranking). Windows as in ``bench_rank_causes.py`` (incident = 2 min after the injection, baseline =
10 min before). For the injected service S it measures, incident against baseline:

- ``calls`` — S's entry spans (called from another service) against the count the baseline's rate
  per request of each route predicts, and the two-sided Poisson p-value of the difference;
- ``dur_p`` / ``self_p`` — the smallest KS p-value over S's operations (≥ 3 spans a side), times
  the number of operations tested (Bonferroni), of the span duration and of the exclusive time;
- ``gap_p`` — KS p-value of the time S's callers wait outside S (caller span − S's entry span);
- ``new_shape`` — S's spans whose number of children the baseline never showed for the operation;
- ``err_spans`` — Spring's error dispatch (``BasicErrorController.error``, the only mark an
  uncaught exception leaves in these status-less spans) at S, incident / baseline;
- ``cut_after`` — callers' requests that stop right after calling S (their sequence of calls is a
  strict prefix of one the baseline shows, ending at S), incident / baseline;
- ``min_p_rank`` — where S's smallest p-value (calls, dur, self, gap) ranks among all services'
  (1 = S is the most changed service by this measure).
"""

from __future__ import annotations

import sys
from collections import defaultdict

import bench_rank_causes as B
import numpy as np
import pandas as pd
from scipy import stats

from tracekit.core import routes, span_tree

ERROR_SPAN = "BasicErrorController.error"


def _frame(spans: pd.DataFrame) -> pd.DataFrame:
    import tracekit as tk

    tree = span_tree(spans)
    par = tree.parent
    svc = spans["service"].to_numpy(dtype=object)
    name = spans["name"].to_numpy(dtype=object)
    dur = spans["duration_ms"].to_numpy(dtype=float)
    hp = par >= 0
    pp = np.maximum(par, 0)
    entry = ~hp | (svc[pp] != svc)
    rr = tree.request_root
    rt = np.full(len(rr), None, dtype=object)
    ok = rr >= 0
    rt[ok] = routes(spans.iloc[rr[ok]]).to_numpy(dtype=object)
    children = np.bincount(par[hp], minlength=len(spans))
    return pd.DataFrame({
        "i": np.arange(len(spans)), "parent": par, "trace": tree.trace, "service": svc, "name": name,
        "start": spans["start"].to_numpy(), "dur": dur, "self": tk.self_time(spans)["self_ms"].to_numpy(dtype=float),
        "entry": entry, "gap": np.where(hp & entry, dur[pp] - dur, np.nan), "route": rt[tree.trace],
        "children": children, "n_traces": tree.n_traces})


def _owner(f: pd.DataFrame) -> np.ndarray:
    """Each span's service-entry span (walking up through spans of the same service)."""
    par, entry = f["parent"].to_numpy(), f["entry"].to_numpy()
    own = np.full(len(f), -1)
    for i in range(len(f)):
        path, j = [], i
        while own[j] < 0 and not entry[j]:
            path.append(j)
            j = par[j]
        o = j if own[j] < 0 else own[j]
        own[j] = o
        for p in path:
            own[p] = o
    return own


def _sequences(f: pd.DataFrame) -> pd.DataFrame:
    """Per entry span: (service, name) and the sequence of services it called, in start order."""
    own = _owner(f)
    par = f["parent"].to_numpy()
    ent = np.flatnonzero(f["entry"].to_numpy() & (par >= 0))
    calls = defaultdict(list)
    st = f["start"].to_numpy()
    for j in ent:
        calls[own[par[j]]].append(j)
    svc = f["service"].to_numpy(dtype=object)
    rows = [(e, svc[e], f["name"].iat[e], tuple(svc[j] for j in sorted(calls.get(e, []), key=lambda j: st[j])))
            for e in np.flatnonzero(f["entry"].to_numpy())]
    return pd.DataFrame(rows, columns=["i", "service", "name", "seq"])


def _cut_after(sa: pd.DataFrame, sb: pd.DataFrame) -> dict:
    full, prefix = defaultdict(set), defaultdict(set)
    for r in sb.itertuples():
        full[(r.service, r.name)].add(r.seq)
        for k in range(1, len(r.seq)):
            prefix[(r.service, r.name)].add(r.seq[:k])
    out: dict = defaultdict(int)
    for r in sa.itertuples():
        k = (r.service, r.name)
        if r.seq and r.seq not in full[k] and r.seq in prefix[k]:
            out[r.seq[-1]] += 1
    return out


def _ks(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    return float(stats.ks_2samp(a, b).pvalue) if len(a) >= 3 and len(b) >= 3 else np.nan


def _per_op_p(fa: pd.DataFrame, fb: pd.DataFrame, s: str, col: str) -> float:
    a, b = fa[fa["service"] == s], fb[fb["service"] == s]
    ps = [_ks(a.loc[a["name"] == n, col].to_numpy(), b.loc[b["name"] == n, col].to_numpy()) for n in a["name"].unique()]
    ps = [p for p in ps if np.isfinite(p)]
    return min(1.0, min(ps) * len(ps)) if ps else np.nan


def _calls(fa: pd.DataFrame, fb: pd.DataFrame, s: str) -> tuple[float, float, float]:
    ra = fa.drop_duplicates("trace")["route"].value_counts()
    rb = fb.drop_duplicates("trace")["route"].value_counts()
    ca = fa[(fa["service"] == s) & fa["entry"]]
    cb = fb[(fb["service"] == s) & fb["entry"]].groupby("route").size()
    expect = float(sum(cb.get(r, 0) * ra.get(r, 0) / rb[r] for r in cb.index if r in rb.index))
    obs = float(len(ca))
    if expect <= 0:
        return obs, expect, np.nan
    lo, hi = stats.poisson.cdf(obs, expect), stats.poisson.sf(obs - 1, expect)
    return obs, expect, float(min(1.0, 2 * min(lo, hi)))


def _shape(fa: pd.DataFrame, fb: pd.DataFrame, s: str) -> int:
    seen = set(zip(fb["service"], fb["name"], fb["children"], strict=True))
    a = fa[fa["service"] == s]
    return int(sum((x, y, z) not in seen for x, y, z in zip(a["service"], a["name"], a["children"], strict=True)))


def study(system: str) -> pd.DataFrame:
    spans, faults = B.load_day(B.day_of(system))
    w = B.Windows(spans)
    rows = []
    for f in faults:
        inc, base = w.at(f["time"])
        truth = B.service_of_pod(f["pod"])
        row = dict(time=f["time"].strftime("%H:%M"), service=truth, type=f["type"])
        if inc.empty or base.empty:
            rows.append(row)
            continue
        fa, fb = _frame(inc), _frame(base)
        minp = {}
        for s in sorted(set(fa["service"])):
            ps = [_calls(fa, fb, s)[2], _per_op_p(fa, fb, s, "dur"), _per_op_p(fa, fb, s, "self"),
                  _ks(fa.loc[(fa["service"] == s), "gap"].to_numpy(), fb.loc[(fb["service"] == s), "gap"].to_numpy())]
            ps = [p for p in ps if np.isfinite(p)]
            minp[s] = min(ps) if ps else 1.0
        obs, expect, p_calls = _calls(fa, fb, truth)
        cut_a = _cut_after(_sequences(fa), _sequences(fb))
        order = sorted(minp, key=lambda s: minp[s])
        row.update(
            traces=f"{fa['n_traces'].iat[0]}/{fb['n_traces'].iat[0]}",
            calls=f"{obs:.0f} vs {expect:.1f}", calls_p=p_calls,
            dur_p=_per_op_p(fa, fb, truth, "dur"), self_p=_per_op_p(fa, fb, truth, "self"),
            gap_p=_ks(fa.loc[fa["service"] == truth, "gap"].to_numpy(), fb.loc[fb["service"] == truth, "gap"].to_numpy()),
            new_shape=_shape(fa, fb, truth),
            err_spans=f"{int(((fa['service'] == truth) & (fa['name'] == ERROR_SPAN)).sum())}/"
                      f"{int(((fb['service'] == truth) & (fb['name'] == ERROR_SPAN)).sum())}",
            cut_after=int(cut_a.get(truth, 0)), cut_after_any=int(sum(cut_a.values())),
            min_p_rank=f"{order.index(truth) + 1 if truth in order else 'absent'} of {len(order)}",
            min_p=minp.get(truth, np.nan), others_p05=float(np.mean([p < 0.05 for s, p in minp.items() if s != truth])))
        rows.append(row)
    return pd.DataFrame(rows)


def main(argv: list[str]) -> int:
    system = argv[0] if argv else "TrainTicket"
    res = study(system)
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(res.round(3).to_string(index=False))
    st = res.dropna(subset=["calls_p"])
    for typ, g in st.groupby("type"):
        quiet = g[(g[["calls_p", "dur_p", "self_p", "gap_p"]].fillna(1.0) > 0.05).all(axis=1) & (g["new_shape"] == 0)]
        print(f"{typ}: {len(quiet)} of {len(g)} faults: the injected service's call count, duration, exclusive time and "
              "callers' waiting all within chance (every p > 0.05) and no unseen call shape")
    for typ, g in st.groupby("type"):
        rk = g["min_p_rank"].str.split(" of ").str[0].astype(float)
        n = g["min_p_rank"].str.split(" of ").str[1].astype(float)
        print(f"{typ}: the injected service's smallest p-value ranks {rk.mean():.1f} of {n.mean():.1f} services on "
              f"average (chance: {((n + 1) / 2).mean():.1f}), first in {int((rk == 1).sum())} of {len(g)}; it is < 0.05 "
              f"in {int((g['min_p'] < 0.05).sum())} of {len(g)} faults, against {100 * g['others_p05'].mean():.0f} % of "
              "the other services")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
