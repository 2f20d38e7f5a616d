"""Identity check of a speed change: rank_causes, chance_score, postmortem and detect_changes on a grid of inputs,
every output pickled, two runs compared exactly (pandas.testing.assert_frame_equal(check_exact=True)).

    python benchmarks/identity_rank_causes.py inputs INPUTS.pkl             # 42 fault-lab windows + 4 Nezha windows
    PYTHONPATH=<old checkout> python benchmarks/identity_rank_causes.py run INPUTS.pkl OLD.pkl
    PYTHONPATH=<new checkout> python benchmarks/identity_rank_causes.py run INPUTS.pkl NEW.pkl [KEY_PREFIX [KINDS]]
    python benchmarks/identity_rank_causes.py compare OLD.pkl NEW.pkl       # differences, and seconds per kind of call

The inputs are made once (by either checkout: the simulator is not what is compared): ``fault_window`` of the six
kinds × seeds 0–6 (seed 5 without status, seed 6 with a cpu_consumed fault on the same service in the baseline), and
four Nezha windows (tests/nezha.py: OnlineBoutique 2022-08-22 05:18:09 and 03:53:00, TrainTicket 2023-01-29 10:04:34
and 08:43:00 with logs). Per lab window: rank_causes by service (window=None), by operation with logs and metrics
(window="auto"), with no baseline (the change found in both windows put together), by host with logs (every third),
by version with weights 2 and 5 lift rows (every third), chance_score with logs and metrics (every fourth),
postmortem with logs and metrics (every fourth) and without a baseline (every fourth), detect_changes by service
(every window) and by route (every fifth). A call that raises is compared by its message; warnings are compared too.
"""

import pickle
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
from pandas.testing import assert_frame_equal


def make_inputs(path: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.nezha import nezha_window
    from tracekit.simulate_faults import fault_window

    out = {}
    for kind in ("cpu_contention", "cpu_consumed", "network_delay", "exception", "return", "null"):
        for seed in range(7):
            kw = {"status": False} if seed == 5 else (
                {"baseline_fault": "cpu_consumed", "baseline_fault_on": "same"} if seed == 6 else {})
            w = fault_window(kind, seed, **kw)
            out[f"lab/{kind}/{seed}"] = dict(incident=w.incident, baseline=w.baseline, logs=w.logs, metrics=w.metrics)
    import os

    rt = Path(os.environ.get("TRACEKIT_REAL_TRACES", Path(__file__).resolve().parents[2] / "shared" / "real-traces"))
    for day, at, logs in (("2022-08-22", "05:18:09", False), ("2022-08-22", "03:53:00", False),
                          ("2023-01-29", "10:04:34", True), ("2023-01-29", "08:43:00", True)):
        inc, base, records, metrics = nezha_window(rt, day, at, logs=logs)
        out[f"nezha/{day}/{at}"] = dict(incident=inc, baseline=base, logs=records, metrics=metrics)
    with open(path, "wb") as f:
        pickle.dump(out, f)


def run(inputs_path: str, out_path: str, only: str = "", kinds: str = "") -> None:
    """``only``: keys starting so (``lab/exception``); ``kinds``: the calls to make, comma-separated (``auto,pm``)."""
    import tracekit as tk

    print("tracekit from", tk.__file__, file=sys.stderr)
    with open(inputs_path, "rb") as f:
        inputs = pickle.load(f)
    out, timing = {}, {}

    def call(name, f, *args, **kwargs):
        if kinds and name.rsplit("/", 1)[1] not in kinds.split(","):
            return
        t = time.perf_counter()
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                r = f(*args, **kwargs)
            ws = sorted({str(w.message) for w in caught})
        except Exception as e:  # noqa: BLE001 - a call that raises is compared by its message
            r, ws = f"{type(e).__name__}: {e}", []
        timing[name] = time.perf_counter() - t
        if isinstance(r, pd.DataFrame):
            r = dict(frame=r, attrs=repr(r.attrs))
        out[name] = (r, ws)

    def pm(*args, **kwargs):
        p = tk.postmortem(*args, **kwargs)
        return dict(table=p.table, findings=[(f.topic, f.text, f.trace_ids, repr(f.evidence)) for f in p.findings],
                    causes=p.causes, changes=p.changes, source=p.baseline_source, window=repr(p.window),
                    causes_attrs=repr(p.causes.attrs) if p.causes is not None else None)

    rc, nb = tk.rank_causes, 20
    for i, (key, d) in enumerate(inputs.items()):
        if not key.startswith(only):
            continue
        inc, base, logs, metrics = d["incident"], d["baseline"], d["logs"], d["metrics"]
        call(f"{key}/svc", rc, inc, base, window=None, n_boot=nb)
        call(f"{key}/op_signals", rc, inc, base, level="operation", logs=logs, metrics=metrics, n_boot=nb)
        both = pd.concat([base, inc], ignore_index=True)
        if key.startswith("lab/"):
            call(f"{key}/auto", rc, both, n_boot=nb)
            if i % 3 == 0:
                call(f"{key}/host", rc, inc, base, level="host", window=None, n_boot=nb, logs=logs)
            if i % 3 == 1:
                call(f"{key}/version_w", rc, inc, base, level="version", n_boot=nb, weights=2.0, lift_rows=5)
            if i % 4 == 0:
                call(f"{key}/chance", tk.chance_score, base, inc["trace_id"].nunique(), logs=logs, metrics=metrics)
            if i % 4 == 1:
                call(f"{key}/pm", pm, inc, base, level="service", n_boot=nb, logs=logs, metrics=metrics)
            if i % 4 == 2:
                call(f"{key}/pm_auto", pm, both, n_boot=nb)
            call(f"{key}/changes", tk.detect_changes, both)
            if i % 5 == 0:
                call(f"{key}/changes_route", tk.detect_changes, both, by="route", metric=("p95_ms", "requests"),
                     direction="both")
        else:
            call(f"{key}/svc_logs", rc, inc, base, window=None, n_boot=nb, logs=logs, metrics=metrics)
            call(f"{key}/changes", tk.detect_changes, both)
        print(key, f"{sum(v for k, v in timing.items() if k.startswith(key)):.1f}s", flush=True, file=sys.stderr)
    with open(out_path, "wb") as f:
        pickle.dump(dict(out=out, timing=timing), f)


def compare(old_path: str, new_path: str) -> int:
    with open(old_path, "rb") as f:
        a = pickle.load(f)
    with open(new_path, "rb") as f:
        b = pickle.load(f)
    bad = [0]

    def cmp(x, y, where):
        if isinstance(x, pd.DataFrame) or isinstance(y, pd.DataFrame):
            try:
                assert_frame_equal(x, y, check_exact=True)
            except AssertionError as e:
                bad[0] += 1
                print("DIFF", where, str(e)[:800])
        elif isinstance(x, dict) and isinstance(y, dict):
            if set(x) != set(y):
                bad[0] += 1
                print("DIFF keys", where, set(x) ^ set(y))
            for k in x:
                if k in y:
                    cmp(x[k], y[k], f"{where}.{k}")
        elif isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)) and len(x) == len(y):
            for i, (u, v) in enumerate(zip(x, y, strict=True)):
                cmp(u, v, f"{where}[{i}]")
        elif not (x == y):
            bad[0] += 1
            print("DIFF", where, repr(x)[:300], "|", repr(y)[:300])

    common = sorted(set(a["out"]) & set(b["out"]))
    if set(a["out"]) != set(b["out"]):
        print("outputs in one run only:", sorted(set(a["out"]) ^ set(b["out"])))
        bad[0] += 1
    for k in common:
        cmp(a["out"][k], b["out"][k], k)
    ta, tb = a["timing"], b["timing"]
    print(f"{len(common)} outputs compared, {bad[0]} differences")
    for kind in sorted({k.rsplit("/", 1)[1] for k in common}):
        ks = [k for k in common if k.endswith("/" + kind)]
        print(f"{kind:12s} n={len(ks):3d} old {sum(ta[k] for k in ks):7.1f} s  new {sum(tb[k] for k in ks):7.1f} s")
    print(f"total old {sum(ta[k] for k in common):.1f} s  new {sum(tb[k] for k in common):.1f} s")
    return 1 if bad[0] else 0


if __name__ == "__main__":
    cmd, *rest = sys.argv[1:]
    if cmd == "inputs":
        make_inputs(*rest)
    elif cmd == "run":
        run(*rest)
    elif cmd == "compare":
        sys.exit(compare(*rest))
    else:
        sys.exit(__doc__)
