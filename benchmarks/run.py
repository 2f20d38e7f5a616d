"""Run every benchmark (benchmarks/bench_*.py) in turn and print their tables.

    python benchmarks/run.py            # full sizes (1M spans: several minutes, ~10 GB peak)
    python benchmarks/run.py --quick    # small sizes, a minute
    python benchmarks/run.py read_otlp  # only benchmarks whose name contains 'read_otlp'
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    flags = [a for a in argv if a.startswith("-")]
    names = [a for a in argv if not a.startswith("-")]
    benches = sorted(HERE.glob("bench_*.py"))
    if {"-h", "--help"} & set(flags):  # this script's usage, not every benchmark's --help in turn
        print(__doc__.strip() + "\n\nBenchmarks: " + ", ".join(b.stem[len("bench_"):] for b in benches))
        return 0
    chosen = [b for b in benches if not names or any(n in b.stem for n in names)]
    if not chosen:  # a mistyped name ran nothing and exited 0
        print(f"run.py: no benchmark name contains {' or '.join(map(repr, names))}; the benchmarks: "
              + ", ".join(b.stem[len("bench_"):] for b in benches), file=sys.stderr)
        return 2
    rc = 0
    for bench in chosen:
        print(f"\n## {bench.stem}\n", flush=True)
        rc |= subprocess.call([sys.executable, str(bench), *flags])
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
