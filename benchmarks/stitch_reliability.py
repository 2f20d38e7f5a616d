"""Reliability of ``tk.stitch``'s heuristic hops: are hops at confidence c right about c of the time?

    python benchmarks/stitch_reliability.py              # 400 messages, seeds 0-2, both orders
    python benchmarks/stitch_reliability.py --seeds 1    # the per-scenario table of the module docstring

Queues are built by construction, so every true (producer, consumer) pair is known: producers hand a message over
every ``every_p`` ms (at random, Poisson, for "jitter"; 20 at once every 20 × every_p for "bursts"), the span ends 1 ms
after it starts; consumers (``workers`` per partition) take the messages of their partition in order, 2 ms after
hand-over or when free, and work ``every_c`` ms. "missing" drops each consumer (or producer) span at random with
that chance. Prints, per scenario and order, right hops of all hops and wrong hops at confidence 0.5 or more, then
the reliability table (hops per confidence bin, mean confidence, share right) over every scenario and seed.
"""

from __future__ import annotations

import argparse

import numpy as np

import tracekit as tk

MS = 1_000_000

SCENARIOS = {
    "light": dict(every_p=10, every_c=3),
    "light jitter": dict(every_p=10, every_c=3, jitter=True),
    "busy jitter": dict(every_p=10, every_c=8, jitter=True),
    "backlog": dict(every_p=10, every_c=12),
    "bursts": dict(every_p=10, every_c=3, burst=20),
    "2 queues": dict(every_p=5, every_c=8, partitions=2, jitter=True),
    "4 workers": dict(every_p=10, every_c=45, workers=4, jitter=True),
}
MISSING = {"none": {}, "10 % consumers": dict(drop_c=0.1), "30 % consumers": dict(drop_c=0.3),
           "10 % producers": dict(drop_p=0.1)}


def queue(n: int, every_p: float, every_c: float, drop_c: float = 0.0, drop_p: float = 0.0, partitions: int = 1,
          jitter: bool = False, burst: int = 0, seed: int = 0, workers: int = 1):
    """Spans of ``n`` messages and the set of true (producer trace id, consumer trace id) pairs."""
    rng = np.random.default_rng(seed)
    if burst:
        t = (np.arange(n) // burst) * (burst * every_p) + (np.arange(n) % burst) * 0.05
    elif jitter:
        t = np.cumsum(rng.exponential(every_p, n))
    else:
        t = np.arange(n) * float(every_p)
    part = rng.integers(0, partitions, n)
    keep_c, keep_p = rng.random(n) >= drop_c, rng.random(n) >= drop_p
    cols = {k: [] for k in ("trace_id", "span_id", "parent_id", "service", "name", "kind", "start", "end")}
    truth, free, last = set(), {}, {}
    for i in range(n):
        t0, p = t[i] * MS, int(part[i])
        w = free.setdefault(p, [0.0] * workers)
        k = int(np.argmin(w))
        c0 = max(t0 + 2 * MS, w[k], last.get(p, 0.0))
        w[k], last[p] = c0 + every_c * MS, c0
        tp, tc = f"{i + 1:032x}", f"{n + i + 1:032x}"
        rows = []
        if keep_p[i]:
            rows.append((tp, f"{2 * i + 1:016x}", "api", "jobs publish", "producer", int(t0), int(t0 + MS)))
        if keep_c[i]:
            rows.append((tc, f"{2 * i + 2:016x}", "worker", "jobs process", "consumer", int(c0), int(c0 + every_c * MS)))
        if keep_p[i] and keep_c[i]:
            truth.add((tp, tc))
        for r in rows:
            for col, v in zip(cols, (r[0], r[1], None, *r[2:]), strict=True):
                cols[col].append(v)
    return tk.spans_from_columns(cols), truth


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    conf = {o: [] for o in ("nearest", "fifo")}
    ok = {o: [] for o in ("nearest", "fifo")}
    print(f"right hops of all hops, nearest | fifo (wrong hops at confidence >= 0.5, nearest | fifo); "
          f"{args.n} messages, seeds 0-{args.seeds - 1} added up")
    print(f"{'':14s}" + "".join(f"{m:>30s}" for m in MISSING))
    for name, sc in SCENARIOS.items():
        line = f"{name:14s}"
        for miss in MISSING.values():
            cell = {}
            for order in ("nearest", "fifo"):
                r = h = w = 0
                for seed in range(args.seeds):
                    spans, truth = queue(args.n, seed=seed, **sc, **miss)
                    hops = tk.stitch(spans, via="heuristic", order=order).hops
                    right = np.asarray([p in truth for p in zip(hops["producer_trace_id"], hops["consumer_trace_id"],
                                                                strict=True)], dtype=bool)
                    c = hops["confidence"].to_numpy()
                    conf[order].append(c)
                    ok[order].append(right)
                    r, h, w = r + int(right.sum()), h + len(hops), w + int(((c >= 0.5) & ~right).sum())
                cell[order] = (r, h, w)
            line += f"{cell['nearest'][0]:>7d} | {cell['fifo'][0]:<5d} ({cell['nearest'][2]} | {cell['fifo'][2]})".rjust(30)
        print(line)
    edges = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01]
    for order in ("nearest", "fifo"):
        c, r = np.concatenate(conf[order]), np.concatenate(ok[order])
        b = np.digitize(c, edges) - 1
        print(f"\nreliability, order={order!r}: confidence bin, hops, mean confidence, share right")
        for k in range(len(edges) - 1):
            m = b == k
            if m.any():
                print(f"  [{edges[k]:.1f}, {min(edges[k + 1], 1):.1f})  {int(m.sum()):6d}  {c[m].mean():.3f}  {r[m].mean():.3f}")


if __name__ == "__main__":
    main()
