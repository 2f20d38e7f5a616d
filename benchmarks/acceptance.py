"""Scenario acceptance (issue 29): the postmortem's what / when / where / what changed / how sure, checked
against the truth on every bundled dataset and on freshly simulated variants.

    python benchmarks/acceptance.py                 # bundled datasets + 9 kinds x 5 seeds; writes docs/acceptance.md
    python benchmarks/acceptance.py --seeds 0 1     # fewer seeds
    python benchmarks/acceptance.py --only db-lock-end

Each scenario is a spans frame (and maybe a baseline) with its truth; each finding is checked as
right (True), wrong (False) or not applicable (None):

- **what**: with a change in time, the headline route is the one the truth hurt and it got worse;
- **when**: the window is the truth's within one bucket (onset, and recovery or "ongoing"); with no
  change in time (stationary data, a skewed clock, a bad host all hour) no onset is claimed;
- **where**: the operation at rank 1 is the truth's (db-lock: checkout's orders-db call; deploy: the
  added call); a skewed clock's host and offset (±5 ms) named first; a bad host named; an
  incomparable baseline leaves no "Likely cause" from it;
- **changed**: the deploy's versions, the cold starts;
- **sure**: the baseline's origin is said; an incomparable baseline is the first finding.

Variants vary seed, number of requests (rate), onset, route mix (service count: without the
products route there is no catalog or inventory), and put changes at the start or running to the
end of the data. tests/test_acceptance.py runs the same checks (one seed per kind by default).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import tracekit as tk  # noqa: E402
from tracekit.simulate import AppConfig  # noqa: E402

FINDINGS = ("what", "when", "where", "changed", "sure")
DAY = "2026-03-02T"


@dataclass
class Scenario:
    """One postmortem to check: spans, optional baseline, and what the truth says."""

    name: str
    spans: Any
    baseline: Any = None
    window: tuple | None = None  # (onset, end or None when it runs to the end) — None: no change in time
    route: str | None = None  # route the change hurts
    cause: tuple[str, ...] = ()  # acceptable "service: operation" prefixes at rank 1
    skew: tuple[str, float] | None = None  # (host, offset_ms)
    bad_host: str | None = None
    versions: str | None = None  # "payments 1.4.2 → 1.5.0"
    cold: str | None = None  # function with a burst of cold starts
    incomparable: bool = False
    extra: dict = field(default_factory=dict)


def _ts(x: Any) -> pd.Timestamp:
    t = pd.Timestamp(x)
    return t.tz_localize("UTC") if t.tzinfo is None else t


# ---------------------------------------------------------------------------------------------- scenarios
DB_CAUSE = ("checkout: SELECT orders", "checkout: INSERT orders")
DEPLOY_CAUSE = ("payments: GET /v1/risk-score",)
NO_PRODUCTS = (("cart", 0.4), ("checkout", 0.6))  # 6 services instead of 8: no catalog, no inventory


def simulated(kind: str, seed: int) -> Scenario:
    """A fresh variant of ``kind`` for ``seed``: its rate, onset and route mix vary with the seed."""
    n = (600, 900, 1200, 800, 1000)[seed % 5]
    mix = NO_PRODUCTS if seed % 2 else AppConfig().route_mix
    cfg = AppConfig(route_mix=mix)
    name = f"{kind} s{seed}"
    if kind in ("db-lock", "db-lock-end", "db-lock-start"):
        a = {"db-lock": 15 + 5 * (seed % 4), "db-lock-end": 35 + 3 * (seed % 5), "db-lock-start": 0}[kind]
        b = {"db-lock": a + 8 + 2 * (seed % 3), "db-lock-end": 60, "db-lock-start": 15 + 3 * (seed % 5)}[kind]
        ws = pd.Timestamp(f"{DAY}14:00Z") + pd.Timedelta(minutes=a)
        we = pd.Timestamp(f"{DAY}14:00Z") + pd.Timedelta(minutes=b)
        sim = tk.simulate.simulate("db-lock", n, seed=seed, config=cfg, window_start=ws, window_end=we)
        return Scenario(name, sim.spans, window=(ws, None if b == 60 else we), route="/checkout", cause=DB_CAUSE)
    if kind == "slow-deploy":
        t = pd.Timestamp(f"{DAY}14:00Z") + pd.Timedelta(minutes=20 + 5 * (seed % 4), seconds=17 * seed)
        sim = tk.simulate.simulate("slow-deploy", n, seed=seed, config=cfg, deploy_time=t)
        return Scenario(name, sim.spans, window=(t.floor("1min"), None), route="/checkout", cause=DEPLOY_CAUSE,
                        versions="payments 1.4.2 → 1.5.0")
    if kind == "clock-skew":
        off = (120.0, -80.0, 60.0, 200.0, -150.0)[seed % 5]
        sim = tk.simulate.simulate("clock-skew", n, seed=seed, offset_ms=off)
        return Scenario(name, sim.spans, skew=("inventory-2", off))
    if kind == "bad-host":
        sim = tk.simulate.simulate("bad-host", n, seed=seed)
        return Scenario(name, sim.spans, bad_host="catalog-3")
    if kind == "cold-starts":
        t = pd.Timestamp(f"{DAY}14:00Z") + pd.Timedelta(minutes=20 + 5 * (seed % 3))
        sim = tk.simulate.simulate("cold-starts", n, seed=seed, scale_out_time=t, window_s=1200.0)
        return Scenario(name, sim.spans, cold="fulfillment")
    if kind == "stationary":
        sim = tk.simulate.simulate("baseline", n, seed=seed, config=cfg)
        return Scenario(name, sim.spans)
    if kind == "incomparable":
        sim = tk.simulate.simulate("db-lock", n, seed=seed)
        other = tk.simulate.simulate("baseline", n, seed=seed + 100).spans
        other = other.assign(service="erp-" + other["service"].astype(str))  # another system's names
        ws, we = sim.truth.window_start, sim.truth.window_end
        return Scenario(name, sim.spans, baseline=other, window=(ws, we), route="/checkout", cause=DB_CAUSE,
                        incomparable=True)
    raise ValueError(kind)


KINDS = ("db-lock", "db-lock-end", "db-lock-start", "slow-deploy", "clock-skew", "bad-host", "cold-starts",
         "stationary", "incomparable")


def bundled(name: str, read: Callable[[Path], pd.DataFrame] = tk.read) -> Scenario:
    """A bundled dataset with its truth (datasets/truth), each folder read by ``read`` (the tests pass their
    once-per-session parse)."""
    data = REPO / "datasets"
    base = None
    if name.endswith("+baseline"):
        name = name.removesuffix("+baseline")
        base = read(data / "checkout-baseline")
    truth = json.loads((data / "truth" / f"{name}.json").read_text())
    spans = read(data / name)
    sc = truth["scenario"]
    if sc == "db-lock":
        return Scenario(name + (" + baseline" if base is not None else ""), spans, base,
                        window=(_ts(truth["window_start"]), _ts(truth["window_end"])), route="/checkout", cause=DB_CAUSE)
    if sc == "slow-deploy":
        return Scenario(name, spans, window=(_ts(truth["deploy_time"]), None), route="/checkout", cause=DEPLOY_CAUSE,
                        versions=f"payments {truth['old_version']} → {truth['new_version']}")
    if sc == "clock-skew":
        return Scenario(name, spans, skew=(truth["host"], float(truth["offset_ms"])))
    if sc == "bad-host":
        return Scenario(name, spans, bad_host=truth["host"])
    if sc == "cold-starts":
        return Scenario(name, spans, cold=truth["service"])
    return Scenario(name, spans)  # baseline, context-drop, error-undersampling, async-links: no change in time


BUNDLED = ("checkout-incident", "checkout-incident+baseline", "deploy-regression", "clock-skew", "bad-host",
           "cold-starts", "checkout-baseline", "broken-context", "sampled-errors", "async-workflows")


def incomparable_bundled(read: Callable[[Path], pd.DataFrame] = tk.read) -> Scenario:
    """deploy-regression (OTLP) against checkout-baseline (X-Ray): the issue's example (read as :func:`bundled`)."""
    data = REPO / "datasets"
    truth = json.loads((data / "truth" / "deploy-regression.json").read_text())
    return Scenario("deploy-regression vs checkout-baseline", read(data / "deploy-regression"),
                    read(data / "checkout-baseline"), window=(_ts(truth["deploy_time"]), None), route="/checkout",
                    cause=DEPLOY_CAUSE, versions="payments 1.4.2 → 1.5.0", incomparable=True)


# ---------------------------------------------------------------------------------------------- checks
def check(sc: Scenario, pm: Any) -> dict[str, bool | None]:
    """Each finding of ``pm`` against the truth of ``sc``: True right, False wrong, None not applicable."""
    out: dict[str, bool | None] = dict.fromkeys(FINDINGS)
    step = pd.Timedelta(pm.freq)
    where = pm.sentences("where")
    changed = " ".join(pm.sentences("changed"))
    # when
    if sc.window is None:
        out["when"] = pm.window is None
    else:
        on, end = sc.window
        got = pm.window
        ok = got is not None and abs(got[0] - on) <= step
        if ok and end is None:
            ok = pd.isna(got[1])
        elif ok:
            ok = not pd.isna(got[1]) and abs(got[1] - end) <= step
        out["when"] = bool(ok)
    # what
    if sc.route is not None:
        ev = next((f.evidence for f in pm.findings if f.topic == "what"), {})
        out["what"] = ev.get("route") == sc.route and ev.get("delta", 0) > 0
    elif sc.window is None:
        ev = next((f.evidence for f in pm.findings if f.topic == "what"), {})
        out["what"] = "route" not in ev  # the whole window's numbers, no claim of requests hurt
    # where
    if sc.skew is not None:
        host, off = sc.skew
        ev = next((f.evidence for f in pm.findings if f.topic == "where" and "skewed_clocks" in f.evidence), None)
        named = ev is not None and any(c["host"] == host and abs(c["estimate_ms"] - off) <= 5 for c in ev["skewed_clocks"])
        out["where"] = bool(named and where and host in where[0] and not any("Likely cause" in w for w in where))
    elif sc.bad_host is not None:
        out["where"] = any(sc.bad_host in w for w in where)
    elif sc.cause:
        top = next((f.evidence.get("key", "") for f in pm.findings if f.topic == "where" and "key" in f.evidence), "")
        out["where"] = top.startswith(sc.cause)
    elif sc.window is None:
        out["where"] = not any("Likely cause" in w for w in where)
    # what changed
    if sc.versions is not None:
        out["changed"] = sc.versions in changed
    elif sc.cold is not None:
        out["changed"] = "Cold starts" in changed and sc.cold in changed
    elif sc.window is None and sc.skew is None:
        out["changed"] = "New versions" not in changed
    # how sure
    first = pm.findings[0]
    if sc.incomparable:
        out["sure"] = first.topic == "baseline" and "not comparable" in first.text and "set aside" in pm.baseline_source
    else:
        out["sure"] = first.topic != "baseline" and bool(pm.sentences("sure")) and \
            pm.sentences("sure")[0].startswith("Baseline: ")
    return out


def run(sc: Scenario) -> dict[str, bool | None]:
    pm = tk.postmortem(sc.spans, sc.baseline, n_boot=200)
    return check(sc, pm)


def _cell(v: bool | None) -> str:
    return "n/a" if v is None else ("right" if v else "WRONG")


def table(results: dict[str, dict[str, bool | None]]) -> str:
    lines = ["| scenario | " + " | ".join(FINDINGS) + " |", "|---|" + "---|" * len(FINDINGS)]
    for name, r in results.items():
        lines.append(f"| {name} | " + " | ".join(_cell(r[f]) for f in FINDINGS) + " |")
    tot = []
    for f in FINDINGS:
        vals = [r[f] for r in results.values() if r[f] is not None]
        tot.append(f"{sum(vals)}/{len(vals)}")
    lines.append("| **right / checked** | " + " | ".join(tot) + " |")
    return "\n".join(lines)


def _wrong(results: dict[str, dict[str, bool | None]]) -> str:
    bad = [f"{n} ({', '.join(f for f, v in r.items() if v is False)})" for n, r in results.items()
           if any(v is False for v in r.values())]
    if not bad:
        return ""
    return "\nWrong: " + "; ".join(bad) + ".\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2, 3, 4])
    ap.add_argument("--only", nargs="*", default=None, help="kinds or bundled names to run")
    ap.add_argument("--no-bundled", action="store_true")
    ap.add_argument("--out", default=str(REPO / "docs" / "acceptance.md"))
    args = ap.parse_args(argv)
    cases: list[tuple[str, Any]] = []
    if not args.no_bundled:
        cases += [(n, lambda n=n: bundled(n)) for n in BUNDLED if not args.only or n in args.only]
        if not args.only or "incomparable" in args.only:
            cases.append(("deploy-regression vs checkout-baseline", incomparable_bundled))
    for k in KINDS:
        if args.only and k not in args.only:
            continue
        cases += [(f"{k} s{s}", lambda k=k, s=s: simulated(k, s)) for s in args.seeds]
    results: dict[str, dict[str, bool | None]] = {}
    t0 = time.perf_counter()
    for name, make in cases:
        t = time.perf_counter()
        results[name] = run(make())
        print(f"{name}: " + ", ".join(f"{f} {_cell(v)}" for f, v in results[name].items()) +
              f" ({time.perf_counter() - t:.1f} s)", flush=True)
    text = table(results)
    print(text)
    doc = ("# Acceptance: the postmortem against the truth\n\n"
           "Generated by `python benchmarks/acceptance.py` (issue 29); see its docstring for what each finding is "
           f"checked against. {len(results)} scenarios, seeds {args.seeds} for the simulated kinds, "
           f"{time.perf_counter() - t0:.0f} s on the machine that wrote it.\n\n" + text + "\n" + _wrong(results))
    if not args.only:
        Path(args.out).write_text(doc)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
