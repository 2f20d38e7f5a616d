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
    rc = 0
    for bench in sorted(HERE.glob("bench_*.py")):
        if names and not any(n in bench.stem for n in names):
            continue
        print(f"\n## {bench.stem}\n", flush=True)
        rc |= subprocess.call([sys.executable, str(bench), *flags])
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
